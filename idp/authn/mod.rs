//! Sign-in methods behind one trait (A1–A5). A method is a small step machine: `begin`
//! produces what the page shows, `resume` takes what the browser sent back and either asks
//! again or yields an [`Identity`]. Methods never see HTTP or templates; the web layer keeps
//! their opaque state in the pending login and renders their prompts.
//!
//! The assurance level of each method (`acr`) and its `amr` values are decided here, once.

pub mod password;
pub mod signature;

use std::collections::HashMap;
use std::net::IpAddr;

use async_trait::async_trait;

/// Assurance levels, lowest first. A password is `low`; an electronic signature is `high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Assurance {
    Low,
    High,
}

impl Assurance {
    pub const ALL: [Assurance; 2] = [Assurance::Low, Assurance::High];

    /// The `acr` value.
    pub fn acr(self) -> &'static str {
        match self {
            Assurance::Low => "low",
            Assurance::High => "high",
        }
    }

    pub fn from_acr(acr: &str) -> Option<Self> {
        Assurance::ALL.into_iter().find(|a| a.acr() == acr)
    }
}

/// Who signed in, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub amr: Vec<String>,
    pub assurance: Assurance,
}

/// Facts about the attempt that a method may use (throttling, audit).
#[derive(Debug, Clone)]
pub struct LoginContext {
    pub client_ip: IpAddr,
    /// The client the user is signing in to, if any.
    pub client_id: Option<String>,
    /// The browser's id cookie: a signature challenge is bound to it.
    pub browser_id: String,
    /// The pending authorization request being signed in for.
    pub request_id: Option<String>,
}

/// What the browser sent back.
#[derive(Debug, Clone)]
pub enum StepInput {
    Form(HashMap<String, String>),
}

/// The next thing to do.
#[derive(Debug)]
pub enum Step {
    /// Show the method's form again, with a message from the catalogue when there is one.
    Prompt {
        state: Vec<u8>,
        message: Option<&'static str>,
    },
    /// Signed in.
    Done(Identity),
}

/// Why a step failed in a way the page cannot just re-prompt for.
#[derive(Debug, thiserror::Error)]
pub enum AuthnError {
    #[error("backend unavailable: {0}")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal: {0}")]
    Internal(#[source] anyhow::Error),
}

impl From<crate::store::StoreError> for AuthnError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Unavailable(_) => AuthnError::Unavailable(e.into()),
            _ => AuthnError::Internal(e.into()),
        }
    }
}

impl From<crate::session::SessionError> for AuthnError {
    fn from(e: crate::session::SessionError) -> Self {
        match e {
            crate::session::SessionError::Unavailable(_) => AuthnError::Unavailable(e.into()),
            crate::session::SessionError::Corrupt(_) => AuthnError::Internal(e.into()),
        }
    }
}

impl From<AuthnError> for crate::error::Error {
    fn from(e: AuthnError) -> Self {
        match e {
            AuthnError::Unavailable(source) => crate::error::Error::unavailable(source),
            AuthnError::Internal(source) => crate::error::Error::internal(source),
        }
    }
}

/// A sign-in method.
#[async_trait]
pub trait SignInMethod: Send + Sync {
    /// Route segment and tab id: `password`, `rutoken`, …
    fn id(&self) -> &'static str;
    /// The assurance level this method proves.
    fn assurance(&self) -> Assurance;
    /// Starts an attempt.
    async fn begin(&self, cx: &LoginContext) -> Result<Step, AuthnError>;
    /// Continues an attempt with what the browser sent.
    async fn resume(
        &self,
        cx: &LoginContext,
        state: &[u8],
        input: StepInput,
    ) -> Result<Step, AuthnError>;
}
