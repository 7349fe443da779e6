//! CSRF tokens for every form: a keyed digest of the browser-id cookie under the server
//! secret. Stateless, so any process can check a token another one issued; a page from
//! another site can neither read the cookie nor compute the token.

use crate::security::{constant_time_eq, keyed_digest};

/// The hidden field's name on every form.
pub const FIELD: &str = "csrf";

/// The token for browser `browser_id`.
pub fn token(secret: &[u8], browser_id: &str) -> String {
    keyed_digest(secret, &format!("csrf:{browser_id}"))
}

/// Whether `presented` is the token for `browser_id`.
pub fn verify(secret: &[u8], browser_id: &str, presented: &str) -> bool {
    !browser_id.is_empty() && constant_time_eq(&token(secret, browser_id), presented)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_to_browser_and_secret() {
        let t = token(b"k1", "b1");
        assert!(verify(b"k1", "b1", &t));
        assert!(!verify(b"k1", "b2", &t));
        assert!(!verify(b"k2", "b1", &t));
        assert!(!verify(b"k1", "", &token(b"k1", "")));
    }
}
