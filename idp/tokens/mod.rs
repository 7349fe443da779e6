//! JWT issuing and verification: ID tokens (OIDC Core §2), JWT access tokens (RFC 9068,
//! `typ: at+jwt`), and the claims that describe the person and the chosen account (O2).
//! The one place that decides what a token says.

use serde::{Deserialize, Serialize};

use crate::accounts::Account;
use crate::keys::{Alg, KeySet};
use crate::store::User;

/// How and when the user authenticated; carried from the SSO session into every token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthContext {
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: String,
    /// SSO session id (`sid`).
    pub sid: Option<String>,
}

/// Claims of a JWT access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    /// RFC 9068 §3: with no resource indicator the default resource is this provider's API
    /// (userinfo), named by the issuer URL.
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    /// Left out when empty: a scope value has at least one scope token (RFC 6749 §3.3),
    /// and the introspection response repeats it (RFC 7662 §2.2).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// The person's INN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<serde_json::Value>,
    /// The grant this token came from (revoking the grant ends the token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
}

impl AccessClaims {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }

    /// The account key inside the `account` claim (`{kind}:{inn}`).
    pub fn account_key(&self) -> Option<String> {
        let account = self.account.as_ref()?;
        Some(format!(
            "{}:{}",
            account["kind"].as_str()?,
            account["inn"].as_str()?
        ))
    }
}

/// Claims every token about a person carries, and `profile` adds.
pub fn person_claims(
    user: &User,
    account: &Account,
    scopes: &[String],
) -> serde_json::Map<String, serde_json::Value> {
    let mut claims = serde_json::Map::new();
    claims.insert("inn".into(), user.inn.clone().into());
    claims.insert("account".into(), account.claim());
    if scopes.iter().any(|s| s == "profile") {
        claims.insert("name".into(), user.full_name().into());
        claims.insert("family_name".into(), user.family_name.clone().into());
        claims.insert("given_name".into(), user.given_name.clone().into());
        if let Some(middle) = user.middle_name.as_ref().filter(|m| !m.is_empty()) {
            claims.insert("middle_name".into(), middle.clone().into());
        }
    }
    claims
}

/// What an ID token is made of.
pub struct IdTokenInput<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub user: &'a User,
    pub account: &'a Account,
    pub scopes: &'a [String],
    pub auth: &'a AuthContext,
    pub nonce: Option<&'a str>,
    pub access_token: Option<&'a str>,
    pub now: i64,
    pub ttl: u64,
}

/// Builds the ID token claims (OIDC Core §2, §3.1.3.6).
pub fn id_token_claims(input: &IdTokenInput<'_>) -> serde_json::Map<String, serde_json::Value> {
    let mut claims = person_claims(input.user, input.account, input.scopes);
    claims.insert("iss".into(), input.issuer.into());
    claims.insert("sub".into(), input.user.id.clone().into());
    claims.insert("aud".into(), input.client_id.into());
    claims.insert("azp".into(), input.client_id.into());
    claims.insert("iat".into(), input.now.into());
    claims.insert("exp".into(), (input.now + ttl_secs(input.ttl)).into());
    claims.insert("auth_time".into(), input.auth.auth_time.into());
    claims.insert("acr".into(), input.auth.acr.clone().into());
    claims.insert("amr".into(), input.auth.amr.clone().into());
    if let Some(sid) = &input.auth.sid {
        claims.insert("sid".into(), sid.clone().into());
    }
    if let Some(nonce) = input.nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    if let Some(token) = input.access_token {
        claims.insert("at_hash".into(), crate::security::at_hash(token).into());
    }
    claims
}

fn ttl_secs(ttl: u64) -> i64 {
    i64::try_from(ttl).unwrap_or(i64::MAX / 2)
}

/// Signs an ID token (`typ: JWT`).
pub fn sign_id_token(
    keys: &KeySet,
    alg: Alg,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> anyhow::Result<String> {
    keys.sign(alg, "JWT", &serde_json::to_vec(claims)?)
}

/// Signs an access token (`typ: at+jwt`, RFC 9068 §2.1).
pub fn sign_access_token(keys: &KeySet, alg: Alg, claims: &AccessClaims) -> anyhow::Result<String> {
    keys.sign(alg, "at+jwt", &serde_json::to_vec(claims)?)
}

/// Verifies one of our access tokens: signature by a published key, `typ: at+jwt` (so an ID
/// token is refused, RFC 9068 §4), issuer, and expiry. Revocation is the caller's check.
pub fn verify_access_token(
    keys: &KeySet,
    issuer: &str,
    token: &str,
    now: i64,
) -> Option<AccessClaims> {
    let (payload, typ) = keys.verify(token)?;
    if !typ.is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    }) {
        return None;
    }
    let claims: AccessClaims = serde_json::from_slice(&payload).ok()?;
    (claims.iss == issuer && claims.exp > now).then_some(claims)
}

/// The parts of an `id_token_hint` that logout and `/authorize` use.
#[derive(Debug, Clone, Deserialize)]
pub struct IdTokenHint {
    pub sub: String,
    pub aud: serde_json::Value,
    pub sid: Option<String>,
}

impl IdTokenHint {
    /// The client the token was issued to (a single audience).
    pub fn client_id(&self) -> Option<&str> {
        match &self.aud {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Array(a) if a.len() == 1 => a[0].as_str(),
            _ => None,
        }
    }
}

/// Verifies an ID token we issued, ignoring its expiry (OIDC RP-Initiated Logout §2 lets an
/// expired one serve as a hint).
pub fn verify_id_token_hint(keys: &KeySet, issuer: &str, token: &str) -> Option<IdTokenHint> {
    let (payload, typ) = keys.verify(token)?;
    if typ.as_deref() != Some("JWT") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    if value["iss"].as_str() != Some(issuer) {
        return None;
    }
    serde_json::from_value(value).ok()
}
