//! One integration-test binary (each file directly in `tests/` would be its own binary).

#[macro_use]
mod harness;

mod accounts;
mod authorize;
mod authorize_flow;
mod authorize_response;
mod authz_support;
mod branches;
mod browser;
mod browser_rutoken;
mod cli;
mod directory_cache;
mod discovery;
mod esig_branch;
mod esig_ocsp;
mod esig_signin;
mod inspector;
mod inspector_flow;
mod logout;
mod multi_process;
mod oidc_flow;
mod outage;
mod pages;
mod registration;
mod registration_browser;
mod registration_e2e;
mod registration_lookup;
mod registration_rules;
mod registries;
mod resources;
mod rp;
mod rutoken_standin;
mod session_contract;
mod store_contract;
mod store_contract_branches;
mod store_contract_directory;
mod store_contract_grants;
mod store_contract_registration;
mod store_contract_registry;
mod store_contract_trust;
mod token_code;
mod token_endpoint;
mod token_grants;
mod trust_cli;
mod ui;
