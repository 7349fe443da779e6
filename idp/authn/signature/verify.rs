//! The one path from "a browser posted a CMS" to "this certificate holder proved who they
//! are": decode, redeem the challenge (single use, before anything else, so a refused
//! attempt cannot be retried with the same challenge), load the trust store, let the pure
//! core in [`crate::esig`] decide, and, with OCSP on (`IDP_ESIG_OCSP`), ask the responders
//! the certificates name ([`crate::esig::ocsp`] says what to ask and judges the answers,
//! [`crate::adapters::ocsp`] carries them). Sign-in and registration both go through here.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use openssl::x509::X509;
use time::OffsetDateTime;

use super::challenge::{self, ChallengeRefusal, Purpose};
use crate::adapters::ocsp::{FetchError, OcspClient, OcspFetcher};
use crate::authn::AuthnError;
use crate::config::Config;
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
    /// `None`: OCSP off.
    ocsp: Option<Arc<dyn OcspFetcher>>,
}

/// The OCSP client `config` asks for: `None` unless `IDP_ESIG_OCSP` is on.
pub fn ocsp_from_config(config: &Config) -> anyhow::Result<Option<Arc<dyn OcspFetcher>>> {
    if !config.esig_ocsp {
        return Ok(None);
    }
    let client = OcspClient::new(Duration::from_secs(config.registry_timeout))?;
    Ok(Some(Arc::new(client)))
}

impl SignatureVerifier {
    pub fn new(store: Arc<dyn Store>, sessions: Arc<dyn SessionStore>, policy: Policy) -> Self {
        SignatureVerifier {
            store,
            sessions,
            policy,
            ocsp: None,
        }
    }

    /// Checks signer certificates with OCSP through `fetcher` (`None`: OCSP off).
    pub fn with_ocsp(mut self, fetcher: Option<Arc<dyn OcspFetcher>>) -> Self {
        self.ocsp = fetcher;
        self
    }

    pub fn sessions(&self) -> &dyn SessionStore {
        self.sessions.as_ref()
    }

    /// Checks a presented signature. `Err` is a backend failure (an outage stays
    /// `Unavailable`, so callers answer 503); `Ok(Err(_))` a refusal.
    pub async fn verify(
        &self,
        presented: &Presented<'_>,
    ) -> Result<Result<SignerIdentity, SignatureFailure>, AuthnError> {
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
        let anchors = TrustAnchors::new(&material.cas, &material.crls).map_err(|e| {
            AuthnError::Internal(anyhow::anyhow!("trust store cannot be used: {e}"))
        })?;
        let at = time::OffsetDateTime::from_unix_timestamp(now)
            .map_err(|e| AuthnError::Internal(e.into()))?;
        let mut outcome = esig::verify_with_path(
            SignedInput::Attached(&cms),
            challenge.text.as_bytes(),
            &anchors,
            &self.policy,
            at,
        );
        if let (Ok(verified), Some(fetcher)) = (&outcome, &self.ocsp) {
            if let Err(refusal) = check_ocsp(fetcher.as_ref(), &verified.path, at).await {
                outcome = Err(refusal);
            }
        }
        let outcome = outcome.map(|verified| verified.identity);
        if let Err(refusal) = &outcome {
            tracing::info!(code = refusal.code(), reason = %refusal, "signature refused");
        }
        Ok(outcome.map_err(SignatureFailure::Signature))
    }
}

/// Asks the responder of every certificate of `path` that names one, signer first; the
/// first refusal wins. One at a time: a path has one or two such certificates, and a
/// refused signer spares the query about its CA.
async fn check_ocsp(
    fetcher: &dyn OcspFetcher,
    path: &[X509],
    at: OffsetDateTime,
) -> Result<(), Refusal> {
    // A fresh nonce per verification binds the answers to this attempt (RFC 8954).
    let nonce: [u8; 16] = rand::random();
    for query in esig::ocsp::requests_for(path, Some(&nonce))? {
        match fetcher.fetch(&query.url, &query.request_der).await {
            Ok(answer) => esig::ocsp::check_response(&query, &answer, at)?,
            Err(FetchError::Unavailable(detail)) => {
                // Every holder of this CA is refused while it lasts: the operator must know.
                tracing::warn!(responder = %query.url, %detail, "OCSP responder unavailable");
                return Err(query.unavailable(detail));
            }
            Err(FetchError::Protocol(detail)) => return Err(query.invalid(detail)),
        }
    }
    Ok(())
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
