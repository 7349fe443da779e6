//! The OpenID Connect / OAuth 2.0 protocol surface, one module per endpoint:
//!
//! ```text
//! GET  /.well-known/openid-configuration   discovery      (OIDC Discovery 1.0 §4)
//! GET  /jwks                               jwks           (RFC 7517)
//! GET|POST /authorize                      authorize      (RFC 6749 §4.1, OIDC Core §3.1.2)
//! POST /token                              token          (RFC 6749 §3.2; grants in token/)
//! GET|POST /userinfo                       userinfo       (OIDC Core §5.3)
//! POST /revoke                             revocation     (RFC 7009)
//! POST /introspect                         introspection  (RFC 7662)
//! GET|POST /logout                         end_session    (OIDC RP-Initiated Logout 1.0)
//! ```

pub mod authorize;
pub mod client_auth;
pub mod discovery;
pub mod end_session;
pub mod introspection;
pub mod jwks;
pub mod params;
pub mod revocation;
pub mod token;
pub mod userinfo;

/// Scopes this provider knows.
pub const SUPPORTED_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];
