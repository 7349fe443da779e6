//! Signature challenges: random texts this server issues for a browser to sign, bound to
//! that browser and to what it is doing (a pending authorization, or a registration), valid
//! for a few minutes and redeemable once, atomically, in the session store — so every
//! process of a cluster agrees that a challenge was used.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::session::{SessionResult, SessionStore};

/// How long a challenge may be signed after it was issued.
pub const LIFETIME_SECS: i64 = 300;
/// How long a challenge (and the mark that it was used) is remembered after it expired, so
/// a late or repeated attempt is told "expired" or "already used" rather than "unknown".
const REMEMBER_SECS: u64 = 600;

/// What a challenge may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    SignIn,
    Register,
}

impl Purpose {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "signin" => Some(Purpose::SignIn),
            "register" => Some(Purpose::Register),
            _ => None,
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Purpose::SignIn => "signin",
            Purpose::Register => "register",
        }
    }
}

/// One issued challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// The exact ASCII text to sign.
    pub text: String,
    pub purpose: Purpose,
    /// The browser it was issued to (its browser-id cookie).
    pub browser_id: String,
    /// The pending authorization it belongs to (sign-in only).
    pub request_id: Option<String>,
    pub expires_at: i64,
}

/// Why a challenge cannot be redeemed. Each is its own API error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeRefusal {
    /// Never issued here, or forgotten long ago.
    Unknown,
    Expired,
    /// Redeemed before: a replay.
    Used,
    /// Issued to another browser, request or purpose.
    WrongContext,
}

impl ChallengeRefusal {
    /// The stable code of the JSON API, also the tail of its catalogue key.
    pub fn code(self) -> &'static str {
        match self {
            ChallengeRefusal::Unknown => "challenge_unknown",
            ChallengeRefusal::Expired => "challenge_expired",
            ChallengeRefusal::Used => "challenge_used",
            ChallengeRefusal::WrongContext => "challenge_wrong_context",
        }
    }
}

fn key(text: &str) -> String {
    format!("esig:ch:{}", crate::security::token_digest(text))
}

fn used_key(text: &str) -> String {
    format!("esig:used:{}", crate::security::token_digest(text))
}

fn remember() -> Duration {
    Duration::from_secs(LIFETIME_SECS as u64 + REMEMBER_SECS)
}

/// Issues a challenge. The text names this service and the purpose, so a signature made for
/// it cannot be mistaken for a signature over anything else the signer might sign.
pub async fn issue(
    sessions: &dyn SessionStore,
    purpose: Purpose,
    browser_id: &str,
    request_id: Option<&str>,
    now: i64,
) -> SessionResult<Challenge> {
    let challenge = Challenge {
        text: format!(
            "salyk-id:{}:{}",
            purpose.tag(),
            crate::security::random_token(32)
        ),
        purpose,
        browser_id: browser_id.to_owned(),
        request_id: request_id.map(str::to_owned),
        expires_at: now + LIFETIME_SECS,
    };
    crate::session::put_json(sessions, &key(&challenge.text), &challenge, remember()).await?;
    Ok(challenge)
}

/// Redeems the challenge `text` for this browser, purpose and request. Whatever the outcome,
/// the challenge can never be redeemed again: it is taken before it is checked.
pub async fn redeem(
    sessions: &dyn SessionStore,
    text: &str,
    purpose: Purpose,
    browser_id: &str,
    request_id: Option<&str>,
    now: i64,
) -> SessionResult<Result<Challenge, ChallengeRefusal>> {
    if text.is_empty() || text.len() > 200 {
        return Ok(Err(ChallengeRefusal::Unknown));
    }
    let Some(challenge) = crate::session::take_json::<Challenge>(sessions, &key(text)).await?
    else {
        let used = sessions.exists_any(&[used_key(text)]).await?;
        return Ok(Err(if used {
            ChallengeRefusal::Used
        } else {
            ChallengeRefusal::Unknown
        }));
    };
    sessions.put(&used_key(text), b"1", remember()).await?;
    if challenge.expires_at <= now {
        return Ok(Err(ChallengeRefusal::Expired));
    }
    if challenge.purpose != purpose
        || !crate::security::constant_time_eq(&challenge.browser_id, browser_id)
        || challenge.request_id.as_deref() != request_id
    {
        return Ok(Err(ChallengeRefusal::WrongContext));
    }
    Ok(Ok(challenge))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::memory::MemorySessionStore;

    async fn store() -> MemorySessionStore {
        MemorySessionStore::new()
    }

    #[tokio::test]
    async fn a_challenge_is_redeemed_once() {
        let s = store().await;
        let c = issue(&s, Purpose::SignIn, "b1", Some("r1"), 1000)
            .await
            .unwrap();
        assert!(c.text.starts_with("salyk-id:signin:"));
        let ok = redeem(&s, &c.text, Purpose::SignIn, "b1", Some("r1"), 1001)
            .await
            .unwrap();
        assert_eq!(ok, Ok(c.clone()));
        let again = redeem(&s, &c.text, Purpose::SignIn, "b1", Some("r1"), 1002)
            .await
            .unwrap();
        assert_eq!(again, Err(ChallengeRefusal::Used));
    }

    #[tokio::test]
    async fn refusals() {
        let s = store().await;
        assert_eq!(
            redeem(&s, "salyk-id:signin:nope", Purpose::SignIn, "b1", None, 0)
                .await
                .unwrap(),
            Err(ChallengeRefusal::Unknown)
        );
        let c = issue(&s, Purpose::SignIn, "b1", Some("r1"), 1000)
            .await
            .unwrap();
        assert_eq!(
            redeem(
                &s,
                &c.text,
                Purpose::SignIn,
                "b1",
                Some("r1"),
                1000 + LIFETIME_SECS
            )
            .await
            .unwrap(),
            Err(ChallengeRefusal::Expired)
        );
        for (purpose, browser, req) in [
            (Purpose::Register, "b1", Some("r1")),
            (Purpose::SignIn, "b2", Some("r1")),
            (Purpose::SignIn, "b1", Some("r2")),
            (Purpose::SignIn, "b1", None),
        ] {
            let c = issue(&s, Purpose::SignIn, "b1", Some("r1"), 1000)
                .await
                .unwrap();
            assert_eq!(
                redeem(&s, &c.text, purpose, browser, req, 1001)
                    .await
                    .unwrap(),
                Err(ChallengeRefusal::WrongContext)
            );
            // a refused attempt used the challenge up
            assert_eq!(
                redeem(&s, &c.text, Purpose::SignIn, "b1", Some("r1"), 1001)
                    .await
                    .unwrap(),
                Err(ChallengeRefusal::Used)
            );
        }
    }
}
