//! Salyk ID: the Kyrgyz State Tax Service's taxpayer cabinet as an OpenID Connect provider.
//!
//! Layout (the dependency rule: `store`, `session`, `keys`, `tokens` and `authn` never use
//! `web`, `oidc` or axum; only `app` names concrete backends):
//! - `oidc`      protocol endpoints, one module each (discovery, jwks, authorize, token, …)
//! - `authn`     sign-in methods behind one trait (`password` now)
//! - `accounts`  the taxpayer accounts a user can act for, and their claims; INN rules
//! - `adapters`  outside systems behind traits: tax registry, population registry (X-Road)
//! - `emulators` the population registry's X-Road service, for the demo and the tests
//! - `sso`       browser single sign-on sessions
//! - `web`       pages: sign-in, account choice, home; CSRF, i18n, cookies, security headers
//! - `store`     durable state behind role traits (`sqlite`, `postgres`)
//! - `session`   short-lived state with TTLs (`memory`, `redis`)
//! - `keys`      signing keys and the JWKS; `tokens` JWT issuing and verification
//! - `security`  random tokens, digests, constant-time comparison, PKCE
//! - `esig`      electronic-signature verification core (CMS / raw signatures, trust, identity)
//! - `config`, `state`, `app` (composition root), `cli`, `demo`, `error`, `clock`

pub mod accounts;
pub mod adapters;
pub mod app;
pub mod authn;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod emulators;
pub mod error;
pub mod esig;
pub mod keys;
pub mod oidc;
pub mod registration;
pub mod security;
pub mod session;
pub mod sso;
pub mod state;
pub mod store;
pub mod tokens;
pub mod web;
