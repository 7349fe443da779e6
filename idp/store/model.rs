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
    /// `RS256` or `ES256`: signs this client's ID tokens (`id_token_signed_response_alg`).
    pub id_token_alg: String,
    /// `RS256` or `ES256`: signs the JWT access tokens issued to this client (RFC 9068).
    pub access_token_alg: String,
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

/// Kind of taxpayer in the tax registry (domain notes §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxpayerKind {
    /// A legal entity (ОсОО, ОАО, ЗАО, …).
    Organization,
    /// A branch (филиал) of an organization, with its own INN.
    Branch,
    /// Individual entrepreneur (ИП).
    Entrepreneur,
    /// Peasant farm (КФХ).
    PeasantFarm,
    /// A person who is not an entrepreneur.
    Person,
}

impl TaxpayerKind {
    /// The registry export's code: ORG, BRANCH, IP, KFH, PERSON.
    pub fn code(self) -> &'static str {
        match self {
            TaxpayerKind::Organization => "ORG",
            TaxpayerKind::Branch => "BRANCH",
            TaxpayerKind::Entrepreneur => "IP",
            TaxpayerKind::PeasantFarm => "KFH",
            TaxpayerKind::Person => "PERSON",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            TaxpayerKind::Organization,
            TaxpayerKind::Branch,
            TaxpayerKind::Entrepreneur,
            TaxpayerKind::PeasantFarm,
            TaxpayerKind::Person,
        ]
        .into_iter()
        .find(|k| k.code().eq_ignore_ascii_case(code.trim()))
    }

    /// Organizations and branches are legal entities; the rest are people.
    pub fn is_legal_entity(self) -> bool {
        matches!(self, TaxpayerKind::Organization | TaxpayerKind::Branch)
    }
}

/// Foreign trade activity (decides R2/R9 eligibility).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForeignTrade {
    None,
    Import,
    Export,
    Both,
}

impl ForeignTrade {
    pub fn code(self) -> &'static str {
        match self {
            ForeignTrade::None => "NONE",
            ForeignTrade::Import => "IMPORT",
            ForeignTrade::Export => "EXPORT",
            ForeignTrade::Both => "BOTH",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            ForeignTrade::None,
            ForeignTrade::Import,
            ForeignTrade::Export,
            ForeignTrade::Both,
        ]
        .into_iter()
        .find(|k| k.code().eq_ignore_ascii_case(code.trim()))
    }
}

/// A taxpayer as the tax registry knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taxpayer {
    pub inn: String,
    pub kind: TaxpayerKind,
    pub legal_form: Option<String>,
    /// Organization name, or «Фамилия Имя Отчество» of a person.
    pub name: String,
    pub address: String,
    pub ugns_code: String,
    pub vat_payer: bool,
    /// `YYYY-MM-DD`.
    pub vat_reg_date: Option<String>,
    pub foreign_trade: ForeignTrade,
    /// The head organization of a branch.
    pub parent_inn: Option<String>,
    /// ПИН of the organization's head.
    pub head_pin: Option<String>,
    /// ПИН of the organization's accountant.
    pub accountant_pin: Option<String>,
    pub large_taxpayer: bool,
    pub liquidated: bool,
}

/// A territorial tax office (УГНС).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UgnsOffice {
    /// Three digits, e.g. `004`.
    pub code: String,
    /// e.g. «УГНС по Первомайскому району г. Бишкек».
    pub name: String,
}

/// What a registration application asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationKind {
    /// R1 as «физическое лицо»: a new password user with a personal account.
    Person,
    /// R1 as «юридическое лицо» by its head or accountant: a new user with the personal and
    /// the organization account.
    LegalEntity,
    /// R5: an existing password user asks to add an organization account.
    LinkRequest,
    /// R10: the head or accountant of a branch, registered by electronic signature, asks to
    /// add the branch account; the head of the head organization decides (D4), not an
    /// inspector.
    Branch,
}

impl ApplicationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationKind::Person => "person",
            ApplicationKind::LegalEntity => "legal_entity",
            ApplicationKind::LinkRequest => "link_request",
            ApplicationKind::Branch => "branch",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ApplicationKind::Person,
            ApplicationKind::LegalEntity,
            ApplicationKind::LinkRequest,
            ApplicationKind::Branch,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Pending,
    Approved,
    Rejected,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Pending => "pending",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ApplicationStatus::Pending,
            ApplicationStatus::Approved,
            ApplicationStatus::Rejected,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A registration application waiting for (or decided by) an inspector (R1, R3, R5), or a
/// branch application waiting for the head of its head organization (R10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    /// Sequential number shown to the applicant.
    pub number: i64,
    pub kind: ApplicationKind,
    /// The office that decides it.
    pub ugns_code: String,
    /// The applicant's INN (ПИН).
    pub person_inn: String,
    /// «Фамилия Имя Отчество» as entered / filled from the registry.
    pub full_name: String,
    pub address: String,
    pub org_inn: Option<String>,
    pub org_name: Option<String>,
    /// Argon2id hash of the chosen password (`None` for a link request).
    pub password_hash: Option<String>,
    /// R5 and R10: the user who asks for the link.
    pub existing_user_id: Option<String>,
    pub status: ApplicationStatus,
    pub reject_reason: Option<String>,
    /// Generated on approval (`None` for a link request).
    pub login: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<UnixTime>,
    pub created_at: UnixTime,
    /// R10: the head organization's INN of a branch application (`org_inn` is the branch).
    pub head_inn: Option<String>,
}

/// What an applicant submits.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub kind: ApplicationKind,
    pub ugns_code: String,
    pub person_inn: String,
    pub full_name: String,
    pub address: String,
    pub org_inn: Option<String>,
    pub org_name: Option<String>,
    pub password_hash: Option<String>,
    pub existing_user_id: Option<String>,
    /// R10: the head organization of a branch application; `None` for the other kinds.
    pub head_inn: Option<String>,
}

/// What approving an application did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub application: Application,
    /// The user created (R1) or linked (R5).
    pub user_id: String,
    /// The generated login (R1); `None` for a link request.
    pub login: Option<String>,
}
