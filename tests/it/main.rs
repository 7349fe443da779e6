//! One integration-test binary (each file directly in `tests/` would be its own binary).

#[macro_use]
mod harness;

mod authorize;
mod oidc_flow;
mod session_contract;
mod store_contract;
