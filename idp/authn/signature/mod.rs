//! Sign-in by electronic signature on a Rutoken USB token (A2): the browser signs a fresh
//! challenge with the token through the Rutoken plugin and posts the CMS; the certificate
//! holder, if registered and not blocked, is signed in at the higher assurance level.
//!
//! [`challenge`] issues and redeems challenges, [`verify`] turns a posted CMS into a verified
//! signer (through the pure core in [`crate::esig`]); this module maps the signer to a user.

pub mod challenge;
pub mod verify;

use std::sync::Arc;

use async_trait::async_trait;

use super::{Assurance, AuthnError, Identity, LoginContext, SignInMethod, Step, StepInput};
use crate::store::Store;
use challenge::Purpose;
use verify::{Presented, SignatureVerifier};

/// `amr` of a signature made with a key on a hardware token, unlocked by its PIN (RFC 8176).
pub const AMR: [&str; 2] = ["hwk", "pin"];

/// Catalogue keys of sign-in refusals that are not signature refusals.
pub const NOT_REGISTERED: &str = "esig.error.not_registered";
pub const BLOCKED: &str = "esig.error.blocked";

pub struct RutokenMethod {
    store: Arc<dyn Store>,
    verifier: Arc<SignatureVerifier>,
}

impl RutokenMethod {
    pub fn new(store: Arc<dyn Store>, verifier: Arc<SignatureVerifier>) -> Self {
        RutokenMethod { store, verifier }
    }
}

#[async_trait]
impl SignInMethod for RutokenMethod {
    fn id(&self) -> &'static str {
        "rutoken"
    }

    fn assurance(&self) -> Assurance {
        Assurance::High
    }

    async fn begin(&self, _cx: &LoginContext) -> Result<Step, AuthnError> {
        Ok(Step::Prompt {
            state: Vec::new(),
            message: None,
        })
    }

    /// Expects the fields `challenge` and `cms` (base64 DER CMS with the challenge attached).
    async fn resume(
        &self,
        cx: &LoginContext,
        _state: &[u8],
        input: StepInput,
    ) -> Result<Step, AuthnError> {
        let StepInput::Form(fields) = input;
        let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
        let presented = Presented {
            purpose: Purpose::SignIn,
            browser_id: &cx.browser_id,
            request_id: cx.request_id.as_deref(),
            challenge: field("challenge"),
            cms: field("cms"),
        };
        let signer = match self.verifier.verify(&presented).await? {
            Ok(signer) => signer,
            Err(failure) => return Ok(prompt(static_key(failure.code()))),
        };
        let Some(user) = self.store.user_by_inn(&signer.person_inn).await? else {
            return Ok(prompt(NOT_REGISTERED));
        };
        if user.blocked {
            return Ok(prompt(BLOCKED));
        }
        Ok(Step::Done(Identity {
            user_id: user.id,
            amr: AMR.iter().map(|s| (*s).to_owned()).collect(),
            assurance: Assurance::High,
        }))
    }
}

fn prompt(message: &'static str) -> Step {
    Step::Prompt {
        state: Vec::new(),
        message: Some(message),
    }
}

/// The catalogue key `esig.error.{code}` as a `'static` string (the page API takes those).
pub fn static_key(code: &str) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static KEYS: LazyLock<Mutex<HashMap<String, &'static str>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let mut keys = KEYS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Codes are a closed set of literals, so this leaks a bounded amount once.
    keys.entry(code.to_owned())
        .or_insert_with(|| Box::leak(format!("esig.error.{code}").into_boxed_str()))
}
