//! Reusable refresh tokens recently read from the database, kept per process for
//! [`KEEP`]: a client with rotation turned off presents the same refresh token again and
//! again, and on SQLite reading it back is most of a refresh's CPU (two thread switches to
//! the connection's worker thread and back).
//!
//! Revocation still holds at once, on every process: every revocation of a grant goes
//! through [`super::revoke_grant`], which also leaves a marker in the session store (shared
//! by all processes in production) that outlives the grant's access tokens by a minute —
//! longer than an entry here lives. A hit is used only after checking that marker, the same
//! check every access token gets. What the marker cannot tell (a token or grant changed by
//! hand in the database) is seen within [`KEEP`]; expiry is checked on every use from the
//! stored expiry. Rotating refresh tokens are never kept: each use writes anyway.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::cached::bounded;
use crate::store::{Grant, RefreshToken};

/// How long an entry is used without reading the database again. Shorter than any
/// revocation marker lives (`IDP_ACCESS_TOKEN_TTL` + 60 s).
pub const KEEP: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct ReusableRefreshTokens {
    entries: Mutex<HashMap<String, (RefreshToken, Grant, Instant)>>,
}

impl ReusableRefreshTokens {
    /// The token and its grant by digest, if read from the database within [`KEEP`].
    pub fn get(&self, digest: &str) -> Option<(RefreshToken, Grant)> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(digest) {
            Some((token, grant, read_at)) if read_at.elapsed() < KEEP => {
                Some((token.clone(), grant.clone()))
            }
            Some(_) => {
                entries.remove(digest);
                None
            }
            None => None,
        }
    }

    /// Keeps a live token of a client without rotation, as just read from the database.
    pub fn keep(&self, token: &RefreshToken, grant: &Grant) {
        if token.rotated || grant.revoked {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        bounded(
            &mut entries,
            token.digest.clone(),
            (token.clone(), grant.clone(), Instant::now()),
        );
    }

    /// Drops a token (its grant was found revoked, or the account is gone).
    pub fn forget(&self, digest: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(digest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(digest: &str, rotated: bool, revoked: bool) -> (RefreshToken, Grant) {
        let token = RefreshToken {
            digest: digest.into(),
            grant_id: "g".into(),
            expires_at: 2_000_000_000,
            rotated,
        };
        let grant = Grant {
            id: "g".into(),
            client_id: "rp".into(),
            user_id: "u".into(),
            account_key: "individual:12345678901234".into(),
            scopes: vec!["openid".into()],
            auth_time: 1_700_000_000,
            amr: vec!["pwd".into()],
            acr: "substantial".into(),
            session_id: None,
            created_at: 1_700_000_000,
            revoked,
        };
        (token, grant)
    }

    #[test]
    fn keeps_only_live_tokens_and_forgets_on_request() {
        let cache = ReusableRefreshTokens::default();
        for (digest, rotated, revoked) in
            [("a", false, false), ("b", true, false), ("c", false, true)]
        {
            let (token, grant) = pair(digest, rotated, revoked);
            cache.keep(&token, &grant);
        }
        assert_eq!(cache.get("a").map(|(t, _)| t.digest), Some("a".into()));
        assert!(cache.get("b").is_none());
        assert!(cache.get("c").is_none());
        cache.forget("a");
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn entries_expire_after_keep() {
        let cache = ReusableRefreshTokens::default();
        let (token, grant) = pair("a", false, false);
        cache.keep(&token, &grant);
        let old = Instant::now().checked_sub(KEEP + Duration::from_secs(1));
        if let Some(old) = old {
            cache.entries.lock().unwrap().get_mut("a").unwrap().2 = old;
            assert!(cache.get("a").is_none());
            assert!(cache.entries.lock().unwrap().is_empty());
        }
    }

    #[test]
    fn a_revocation_marker_outlives_every_entry() {
        // super::revoke_grant keeps its marker for the access-token TTL + 60 s.
        assert!(KEEP < Duration::from_secs(60));
    }
}
