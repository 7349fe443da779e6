//! Browser single sign-on sessions: created when a sign-in method succeeds, found again by
//! the session cookie, ended by logout. They live in the session store (`sso:{id}`) with the
//! configured lifetime, so every process sees them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::authn::{Assurance, Identity};
use crate::error::Error;
use crate::session::{get_json, put_json};
use crate::state::AppState;
use crate::tokens::AuthContext;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SsoSession {
    pub id: String,
    pub user_id: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: String,
}

impl SsoSession {
    pub fn auth_context(&self) -> AuthContext {
        AuthContext {
            auth_time: self.auth_time,
            amr: self.amr.clone(),
            acr: self.acr.clone(),
            sid: Some(self.sid()),
        }
    }

    /// The `sid` claim: names this session without being its cookie value, so an ID token
    /// (which relying parties keep and log) or a stored grant cannot open the session.
    pub fn sid(&self) -> String {
        crate::security::token_digest(&self.id)
    }

    pub fn assurance(&self) -> Assurance {
        Assurance::from_acr(&self.acr).unwrap_or(Assurance::Low)
    }
}

fn key(id: &str) -> String {
    format!("sso:{id}")
}

/// Starts a session for a fresh sign-in and returns it.
pub async fn start(state: &AppState, identity: &Identity) -> Result<SsoSession, Error> {
    let session = SsoSession {
        id: crate::security::random_token(32),
        user_id: identity.user_id.clone(),
        auth_time: crate::clock::now(),
        amr: identity.amr.clone(),
        acr: identity.assurance.acr().to_owned(),
    };
    put_json(
        state.sessions.as_ref(),
        &key(&session.id),
        &session,
        Duration::from_secs(state.config.session_ttl),
    )
    .await?;
    Ok(session)
}

/// The session a cookie names, if it is still alive.
pub async fn find(state: &AppState, cookie: Option<&str>) -> Result<Option<SsoSession>, Error> {
    match cookie.filter(|c| !c.is_empty() && c.len() <= 64) {
        Some(id) => Ok(get_json(state.sessions.as_ref(), &key(id)).await?),
        None => Ok(None),
    }
}

/// Ends a session (idempotent).
pub async fn end(state: &AppState, id: &str) -> Result<(), Error> {
    state.sessions.delete(&key(id)).await?;
    Ok(())
}
