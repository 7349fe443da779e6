//! The application state every handler receives: configuration, the stores, keys and the
//! sign-in methods. Built once by `app`, cloned cheaply per request, never global.

use std::sync::Arc;

use crate::adapters::{PopulationRegistry, TaxRegistry};
use crate::authn::password::PasswordHasher;
use crate::authn::signature::verify::SignatureVerifier;
use crate::authn::SignInMethod;
use crate::config::Config;
use crate::keys::Keys;
use crate::session::SessionStore;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub sessions: Arc<dyn SessionStore>,
    pub keys: Arc<Keys>,
    pub hasher: Arc<PasswordHasher>,
    /// Sign-in methods in the order the sign-in page shows them.
    pub methods: Vec<Arc<dyn SignInMethod>>,
    /// The discovery document, serialized once.
    pub discovery: bytes::Bytes,
    /// HTTP client for outbound calls (the demo relying party, outside systems).
    pub http: reqwest::Client,
    /// The ГНС taxpayer base (registration lookups, «Добавить ИНН»).
    pub tax_registry: Arc<dyn TaxRegistry>,
    /// The population registry over Tunduk / X-Road («Добавить ИНН»).
    pub population: Arc<dyn PopulationRegistry>,
    /// Decides whether a posted electronic signature proves who someone is.
    pub signatures: Arc<SignatureVerifier>,
    /// Reusable refresh tokens this process read lately (`oidc::token::reusable`).
    pub reusable_refresh_tokens: crate::oidc::token::reusable::ReusableRefreshTokens,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    pub fn method(&self, id: &str) -> Option<&Arc<dyn SignInMethod>> {
        self.methods.iter().find(|m| m.id() == id)
    }

    /// Keyed digest of a client secret (stored and compared instead of the secret).
    pub fn client_secret_digest(&self, secret: &str) -> String {
        crate::security::keyed_digest(self.keys.secret(), &format!("client-secret:{secret}"))
    }
}
