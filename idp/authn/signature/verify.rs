//! The one path from "a browser posted a CMS" to "this certificate holder proved who they
//! are": decode, redeem the challenge (single use, before anything else, so a refused
//! attempt cannot be retried with the same challenge), load the trust store, and let the
//! pure core in [`crate::esig`] decide. Sign-in and registration both go through here.

use std::sync::Arc;

use base64::Engine as _;

use super::challenge::{self, ChallengeRefusal, Purpose};
use crate::error::Error;
use crate::esig::{self, Policy, Refusal, SignedInput, SignerIdentity, TrustAnchors};
use crate::session::SessionStore;
use crate::store::Store;

/// Why a posted signature does not prove anything. `code()` is the JSON API error code and
/// the tail of the catalogue key `esig.error.{code}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureFailure {
    Challenge(ChallengeRefusal),
    Signature(Refusal),
}

impl SignatureFailure {
    pub fn code(&self) -> &'static str {
        match self {
            SignatureFailure::Challenge(r) => r.code(),
            SignatureFailure::Signature(r) => r.code(),
        }
    }

    pub fn message_key(&self) -> String {
        format!("esig.error.{}", self.code())
    }
}

/// What the browser sent.
pub struct Presented<'a> {
    pub purpose: Purpose,
    pub browser_id: &'a str,
    pub request_id: Option<&'a str>,
    pub challenge: &'a str,
    /// Base64 of the DER CMS (what the Rutoken plugin returns), or PEM.
    pub cms: &'a str,
}

pub struct SignatureVerifier {
    store: Arc<dyn Store>,
    sessions: Arc<dyn SessionStore>,
    policy: Policy,
}

impl SignatureVerifier {
    pub fn new(store: Arc<dyn Store>, sessions: Arc<dyn SessionStore>, policy: Policy) -> Self {
        SignatureVerifier {
            store,
            sessions,
            policy,
        }
    }

    pub fn sessions(&self) -> &dyn SessionStore {
        self.sessions.as_ref()
    }

    /// Checks a presented signature. `Err` is a backend failure; `Ok(Err(_))` a refusal.
    pub async fn verify(
        &self,
        presented: &Presented<'_>,
    ) -> Result<Result<SignerIdentity, SignatureFailure>, Error> {
        let now = crate::clock::now();
        let redeemed = challenge::redeem(
            self.sessions.as_ref(),
            presented.challenge,
            presented.purpose,
            presented.browser_id,
            presented.request_id,
            now,
        )
        .await?;
        let challenge = match redeemed {
            Ok(challenge) => challenge,
            Err(refusal) => return Ok(Err(SignatureFailure::Challenge(refusal))),
        };
        let cms = match decode_posted(presented.cms) {
            Ok(cms) => cms,
            Err(refusal) => return Ok(Err(SignatureFailure::Signature(refusal))),
        };
        let material = self.store.trust_material().await?;
        // Trust material was validated when an operator added it; a CA or CRL that no longer
        // parses (a newer build being stricter) is an operator problem, not the signer's.
        let anchors = TrustAnchors::new(&material.cas, &material.crls)
            .map_err(|e| Error::internal(anyhow::anyhow!("trust store cannot be used: {e}")))?;
        let at = time::OffsetDateTime::from_unix_timestamp(now).map_err(Error::internal)?;
        let outcome = esig::verify(
            SignedInput::Attached(&cms),
            challenge.text.as_bytes(),
            &anchors,
            &self.policy,
            at,
        );
        if let Err(refusal) = &outcome {
            tracing::info!(code = refusal.code(), reason = %refusal, "signature refused");
        }
        Ok(outcome.map_err(SignatureFailure::Signature))
    }
}

/// The plugin gives base64 without line breaks; people pasting `openssl` output give it with
/// breaks or as PEM. Anything else is malformed.
fn decode_posted(posted: &str) -> Result<Vec<u8>, Refusal> {
    let trimmed = posted.trim();
    if trimmed.starts_with("-----BEGIN") {
        return esig::decode_cms(trimmed.as_bytes());
    }
    let compact: String = trimmed.split_ascii_whitespace().collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| Refusal::Malformed("the cms field is not base64".into()))?;
    esig::decode_cms(&der)
}
