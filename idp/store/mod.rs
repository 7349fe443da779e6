//! Durable state: users, organizations, memberships, clients, consents, grants and refresh
//! tokens, signing-key metadata, the audit log, the tax registry's taxpayers and the УГНС
//! list, registration applications and inspector offices, and the trust store of signature
//! sign-in (trusted CAs and their CRLs).
//!
//! Role traits describe what the rest of the provider needs; `sqlite` and `postgres` implement
//! all of them, and `tests/it/store_contract*.rs` run one contract suite against both. Lookups
//! return `Ok(None)` for "not there"; multi-row changes are one method and one transaction.

mod approval;
pub mod cached;
pub mod model;
pub mod postgres;
pub mod sqlite;
mod trust;

use async_trait::async_trait;

pub use model::*;
pub use trust::*;

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (e.g. a duplicate login); names the rule.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A row the call depends on does not exist (e.g. membership for an unknown organization).
    #[error("not found: {0}")]
    NotFound(String),
    /// The database could not be reached; the caller answers 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else (bad data, driver errors).
    #[error("database error: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user with a fresh opaque id. Duplicate login → `Conflict("login")`.
    async fn create_user(&self, user: NewUser, now: UnixTime) -> StoreResult<User>;
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>>;
    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>>;
    /// Users are unique by INN as well as by login.
    async fn user_by_inn(&self, inn: &str) -> StoreResult<Option<User>>;
    async fn set_user_blocked(&self, id: &str, blocked: bool) -> StoreResult<()>;
}

#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Inserts or updates (by INN) an organization.
    async fn upsert_organization(&self, org: &Organization) -> StoreResult<()>;
    async fn organization(&self, inn: &str) -> StoreResult<Option<Organization>>;
    /// Adds or updates a membership. Unknown organization or user → `NotFound`.
    async fn upsert_membership(&self, membership: &Membership) -> StoreResult<()>;
    /// All memberships of a user with their organizations, blocked ones included.
    async fn memberships_of_user(
        &self,
        user_id: &str,
    ) -> StoreResult<Vec<(Membership, Organization)>>;
    /// A user and, if they have one, their membership in `org_inn` with the organization —
    /// in one query: userinfo and refresh resolve an organization account on every call.
    async fn user_with_membership(
        &self,
        user_id: &str,
        org_inn: &str,
    ) -> StoreResult<Option<(User, Option<(Membership, Organization)>)>>;
}

#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Duplicate id → `Conflict("client_id")`.
    async fn create_client(&self, client: &Client) -> StoreResult<()>;
    async fn client(&self, id: &str) -> StoreResult<Option<Client>>;
    async fn list_clients(&self) -> StoreResult<Vec<Client>>;
    /// Returns false when there is no such client.
    async fn set_client_disabled(&self, id: &str, disabled: bool) -> StoreResult<bool>;
}

#[async_trait]
pub trait ConsentStore: Send + Sync {
    async fn consent(&self, user_id: &str, client_id: &str) -> StoreResult<Option<Consent>>;
    /// Inserts or replaces the consent for (user, client).
    async fn save_consent(&self, consent: &Consent) -> StoreResult<()>;
}

#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Stores a new grant, and its first refresh token when one was issued.
    async fn create_grant(&self, grant: &Grant, refresh: Option<&RefreshToken>) -> StoreResult<()>;
    async fn grant(&self, id: &str) -> StoreResult<Option<Grant>>;
    /// Looks a refresh token up with its grant (for introspection and revocation).
    async fn refresh_token(&self, digest: &str) -> StoreResult<Option<(RefreshToken, Grant)>>;
    /// In one transaction: if `old_digest` is live (not rotated, unexpired at `now`, grant not
    /// revoked) mark it rotated and store `new`; if it was already rotated, revoke its grant
    /// (RFC 9700 §4.14.2 reuse detection).
    async fn rotate_refresh_token(
        &self,
        old_digest: &str,
        new: &RefreshToken,
        now: UnixTime,
    ) -> StoreResult<RotateOutcome>;
    /// Marks the grant revoked; its refresh tokens stop working. Idempotent.
    async fn revoke_grant(&self, id: &str) -> StoreResult<()>;
    /// Revokes every grant of a user (optionally only for one client or one account key);
    /// returns the revoked grant ids.
    async fn revoke_grants_of_user(
        &self,
        user_id: &str,
        account_key: Option<&str>,
    ) -> StoreResult<Vec<String>>;
    /// Deletes refresh tokens expired before `now`; returns how many.
    async fn purge_expired(&self, now: UnixTime) -> StoreResult<u64>;
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyMeta>>;
    /// Adds `new` as the active key for its algorithm; the previously active one of that
    /// algorithm becomes inactive (still published). Keys older than the previous are deleted.
    async fn add_signing_key(&self, new: &SigningKeyMeta) -> StoreResult<()>;
}

#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn record(&self, event: &AuditEvent) -> StoreResult<()>;
    /// Newest first.
    async fn recent_events(&self, limit: u32) -> StoreResult<Vec<AuditEvent>>;
}

/// The tax registry's data as loaded into our database (the `registry` adapter reads it),
/// and the УГНС reference list (migration data).
#[async_trait]
pub trait TaxRegistryStore: Send + Sync {
    /// Inserts or updates every row in one transaction: all or nothing. In the same
    /// transaction an organization of the cabinet with a row's INN takes the row's name,
    /// УГНС code, parent INN and liquidation (a liquidated one is then no longer offered).
    async fn upsert_taxpayers(&self, taxpayers: &[Taxpayer]) -> StoreResult<()>;
    async fn taxpayer(&self, inn: &str) -> StoreResult<Option<Taxpayer>>;
    /// Ordered by code.
    async fn ugns_offices(&self) -> StoreResult<Vec<UgnsOffice>>;
}

/// Registration applications and the inspectors who decide them (R1, R3, R5, D3), and branch
/// applications decided by the head of the head organization (R10, D4).
#[async_trait]
pub trait RegistrationStore: Send + Sync {
    /// Stores a pending application and gives it the next number.
    async fn create_application(
        &self,
        new: &NewApplication,
        now: UnixTime,
    ) -> StoreResult<Application>;
    async fn application(&self, number: i64) -> StoreResult<Option<Application>>;
    /// A pending application of the same kind for the same person (and organization).
    async fn pending_application_for(
        &self,
        person_inn: &str,
        org_inn: Option<&str>,
    ) -> StoreResult<Option<Application>>;
    /// Every pending application of a person, whatever the organization, oldest first.
    async fn pending_applications_of(&self, person_inn: &str) -> StoreResult<Vec<Application>>;
    /// Pending applications of these offices, oldest first. Never branch applications: the
    /// head organization decides those, not an inspector.
    async fn pending_applications(&self, ugns_codes: &[String]) -> StoreResult<Vec<Application>>;
    /// Pending branch applications naming one of these head organizations, oldest first.
    async fn pending_branch_applications(
        &self,
        head_inns: &[String],
    ) -> StoreResult<Vec<Application>>;
    /// In one transaction, only if the application is still pending: for `Person` and
    /// `LegalEntity`, create the user with login = `person_inn` + the smallest unused
    /// three-digit suffix from 001 (unique even under concurrent approvals), with
    /// `family`/`given`/`middle` names, the application's password hash and УГНС; for
    /// `LegalEntity` also upsert `organization` and make the user a member with `role`;
    /// for `LinkRequest` upsert `organization` and add the membership to the existing user;
    /// for `Branch` the same, and `organization` must be the application's branch with kind
    /// `Branch` and parent = `head_inn` (`names` are unused then). Then mark it approved by
    /// `inspector_id` (for a branch: the head's user id). Not pending →
    /// `Conflict("application")`.
    async fn approve_application(
        &self,
        number: i64,
        inspector_id: &str,
        names: (&str, &str, Option<&str>),
        organization: Option<(&Organization, MemberRole)>,
        now: UnixTime,
    ) -> StoreResult<Approval>;
    /// Marks a pending application rejected with a reason. Not pending → `Conflict`.
    async fn reject_application(
        &self,
        number: i64,
        inspector_id: &str,
        reason: &str,
        now: UnixTime,
    ) -> StoreResult<Application>;
    /// The УГНС codes a user inspects (empty: not an inspector).
    async fn inspector_offices(&self, user_id: &str) -> StoreResult<Vec<String>>;
    /// Replaces the offices of an inspector.
    async fn set_inspector_offices(&self, user_id: &str, ugns_codes: &[String]) -> StoreResult<()>;
}

/// The certificate authorities trusted for electronic signatures and the latest CRL of each
/// issuer (D5). Operators change it with `idp trust`; signature sign-in reads
/// [`trust_material`](TrustStore::trust_material) for every verification.
#[async_trait]
pub trait TrustStore: Send + Sync {
    /// Trusts a CA certificate. The same certificate again (same thumbprint) is not an error:
    /// it reports `AlreadyTrusted` and changes nothing.
    async fn add_ca(&self, ca: &TrustedCa) -> StoreResult<AddCaOutcome>;
    /// Ordered by subject, then thumbprint.
    async fn list_cas(&self) -> StoreResult<Vec<TrustedCa>>;
    /// Removes the CA whose thumbprint is, or uniquely starts with, `thumbprint_or_prefix`
    /// (at least [`MIN_THUMBPRINT_PREFIX`] hex digits, any case), and its CRLs.
    async fn remove_ca(&self, thumbprint_or_prefix: &str) -> StoreResult<RemoveCaOutcome>;
    /// Stores a CRL as its issuer's only one, if it is newer than the stored one (by
    /// `this_update`). In one transaction, so concurrent calls keep the newest.
    /// `issuer_thumbprint` of no trusted CA → `NotFound`.
    async fn put_crl(&self, crl: &NewCrl, now: UnixTime) -> StoreResult<PutCrlOutcome>;
    /// Ordered by issuer.
    async fn list_crls(&self) -> StoreResult<Vec<Crl>>;
    /// Every CA certificate and CRL, in one query (one consistent snapshot).
    async fn trust_material(&self) -> StoreResult<TrustMaterial>;
}

/// Everything durable, as one object the application holds.
#[async_trait]
pub trait Store:
    UserStore
    + OrganizationStore
    + ClientStore
    + ConsentStore
    + GrantStore
    + KeyStore
    + AuditLog
    + TaxRegistryStore
    + RegistrationStore
    + TrustStore
{
    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;
    /// Cheap liveness probe (`SELECT 1`).
    async fn ping(&self) -> StoreResult<()>;
    /// A number that grows with every change to clients, users, organizations or
    /// memberships, by whoever makes it (database triggers keep it): [`cached`] polls it.
    async fn directory_generation(&self) -> StoreResult<i64>;
    /// Human-readable backend description for the start-up line (never a password).
    fn describe(&self) -> String;
}
