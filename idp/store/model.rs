//! Plain records that cross the storage boundary. No database types leak out of `store`.

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch; all stored times use it so both backends agree.
pub type UnixTime = i64;

/// A person who can sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Stable opaque identifier; also the OIDC `sub`.
    pub id: String,
    /// Login for password sign-in (INN + 3 digits by convention).
    pub login: String,
    /// The person's 14-digit INN (ПИН).
    pub inn: String,
    pub family_name: String,
    pub given_name: String,
    pub middle_name: Option<String>,
    /// Argon2id PHC string; `None` for users who only sign in with a signature.
    pub password_hash: Option<String>,
    /// УГНС code of the person's tax registration, when known.
    pub ugns_code: Option<String>,
    /// A blocked user cannot sign in at all (A7).
    pub blocked: bool,
    pub created_at: UnixTime,
}

impl User {
    /// «Фамилия Имя Отчество».
    pub fn full_name(&self) -> String {
        let mut name = format!("{} {}", self.family_name, self.given_name);
        if let Some(middle) = self.middle_name.as_deref().filter(|m| !m.is_empty()) {
            name.push(' ');
            name.push_str(middle);
        }
        name
    }
}

/// What a new user is created from.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: String,
    pub inn: String,
    pub family_name: String,
    pub given_name: String,
    pub middle_name: Option<String>,
    pub password_hash: Option<String>,
    pub ugns_code: Option<String>,
}

/// The kind of taxpayer account a user acts for (the `account.kind` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Individual,
    Organization,
    Branch,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Individual => "individual",
            AccountKind::Organization => "organization",
            AccountKind::Branch => "branch",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "individual" => Some(AccountKind::Individual),
            "organization" => Some(AccountKind::Organization),
            "branch" => Some(AccountKind::Branch),
            _ => None,
        }
    }
}

/// An organization (or branch) registered in the cabinet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub inn: String,
    pub name: String,
    pub ugns_code: String,
    /// `Organization` or `Branch`.
    pub kind: AccountKind,
    /// Head organization's INN for a branch.
    pub parent_inn: Option<String>,
    /// Liquidated organizations are never offered as accounts.
    pub liquidated: bool,
}

/// A user's role in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    Head,
    Accountant,
    Employee,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Head => "head",
            MemberRole::Accountant => "accountant",
            MemberRole::Employee => "employee",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "head" => Some(MemberRole::Head),
            "accountant" => Some(MemberRole::Accountant),
            "employee" => Some(MemberRole::Employee),
            _ => None,
        }
    }
}

/// A user's link to an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub org_inn: String,
    pub user_id: String,
    pub role: MemberRole,
    /// Blocked by the organization's head (D1): the account is not offered.
    pub blocked: bool,
    pub comment: Option<String>,
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    None,
}

impl ClientAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
            ClientAuthMethod::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "client_secret_basic" => Some(ClientAuthMethod::ClientSecretBasic),
            "client_secret_post" => Some(ClientAuthMethod::ClientSecretPost),
            "none" => Some(ClientAuthMethod::None),
            _ => None,
        }
    }
}

/// A registered relying party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// Keyed digest (hex) of the secret; `None` for public clients.
    pub secret_digest: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub auth_method: ClientAuthMethod,
    /// `authorization_code`, `refresh_token`, `client_credentials`.
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    /// `RS256` or `ES256`: signs this client's ID and access tokens.
    pub token_alg: String,
    /// When false a refresh token stays valid after use (confidential clients only).
    pub rotate_refresh_tokens: bool,
    /// The client only accepts organization accounts.
    pub require_organization: bool,
    pub disabled: bool,
    pub created_at: UnixTime,
}

impl Client {
    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }

    pub fn is_public(&self) -> bool {
        self.auth_method == ClientAuthMethod::None
    }
}

/// The account a user chose for a client, and the scopes they consented to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub user_id: String,
    pub client_id: String,
    /// Account key (see [`crate::accounts::Account::key`]).
    pub account_key: String,
    pub scopes: Vec<String>,
    pub updated_at: UnixTime,
}

/// One authorization grant: what a code redemption created. Refresh tokens rotate within it;
/// revoking it ends every token issued from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    pub account_key: String,
    pub scopes: Vec<String>,
    pub auth_time: UnixTime,
    pub amr: Vec<String>,
    pub acr: String,
    /// SSO session the grant came from (for logout).
    pub session_id: Option<String>,
    pub created_at: UnixTime,
    pub revoked: bool,
}

/// A stored refresh token (only its digest is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub digest: String,
    pub grant_id: String,
    pub expires_at: UnixTime,
    /// Set once rotated: presenting it again is a reuse.
    pub rotated: bool,
}

/// Result of [`GrantStore::rotate_refresh_token`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The old token was valid and is now rotated; the new one is stored.
    Rotated(Grant),
    /// The old token had been rotated before: the whole grant is now revoked.
    Reused { grant_id: String },
    /// Unknown, expired, or its grant is revoked.
    Invalid,
}

/// Metadata of a signing key; the private key itself lives in the keys directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyMeta {
    pub kid: String,
    pub alg: String,
    pub created_at: UnixTime,
    /// Active keys sign; inactive (previous) keys are still published in the JWKS.
    pub active: bool,
}

/// One audit log entry (D6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub at: UnixTime,
    /// e.g. `sign_in.success`, `sign_in.failure`, `client.create`, `key.rotate`.
    pub kind: String,
    /// User id, login or `cli`.
    pub actor: Option<String>,
    pub subject: Option<String>,
    /// Free-form JSON detail (never secrets).
    pub detail: serde_json::Value,
}
