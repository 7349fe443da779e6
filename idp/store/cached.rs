//! The directory cache: a [`Store`] in front of another that keeps, in this process, the
//! three lookups nearly every protocol call makes — a client by id, a user by id, a user with
//! one membership — and passes everything else through.
//!
//! Why: on the embedded backend every query is handed to SQLite's worker thread and back (two
//! thread switches), and on PostgreSQL it is a network round trip; for `/introspect`,
//! `/userinfo` and the token endpoint that lookup cost more than the rest of the request.
//!
//! Staying correct:
//! - every write made through this process that can touch clients, users, organizations or
//!   memberships empties the cache before it returns, so this process never reads its own
//!   change stale;
//! - changes made elsewhere (another `idp` process, the CLI, SQL by hand) move the database's
//!   directory generation (triggers, migration 0005); a task polls it every `refresh` and
//!   empties the cache when it moved. Such a change is seen within `refresh`;
//! - nothing is served from the cache unless a poll succeeded within [`stale_limit`]. A poll
//!   that fails or is slow changes nothing by itself: a database starved of CPU can take
//!   seconds over a trivial query, and emptying the cache then would send every request to
//!   that database at once. A database that stays unreachable is a 503 after `stale_limit`
//!   for the calls the cache answered, at once for everything else;
//! - only found rows are kept (a client or user created elsewhere is seen at once), a lookup
//!   that started before a clear does not store its result after it, and each map holds at
//!   most [`MAX_ENTRIES`] entries.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::*;

/// Entries per map; past it the map starts again empty (the hot set refills it at once).
pub const MAX_ENTRIES: usize = 4096;

/// How old the last successful poll may be while entries are still served: three periods,
/// and never less than ten seconds (how long a change can take to arrive when the database
/// is slow to answer polls).
pub fn stale_limit(refresh: Duration) -> Duration {
    refresh.saturating_mul(3).max(Duration::from_secs(10))
}

type UserWithMembership = (User, Option<(Membership, Organization)>);

/// Puts the directory cache in front of `inner`, polling its directory generation every
/// `refresh`; a zero `refresh` returns `inner` as it is. Must be called inside a Tokio
/// runtime; the polling task ends when the returned store is dropped.
pub fn wrap(inner: Arc<dyn Store>, refresh: Duration) -> Arc<dyn Store> {
    if refresh.is_zero() {
        return inner;
    }
    let cached = Arc::new(CachedStore {
        inner,
        directory: Directory::new(refresh, stale_limit(refresh)),
    });
    spawn_poll(Arc::downgrade(&cached), refresh);
    cached
}

fn spawn_poll(store: Weak<CachedStore>, refresh: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(refresh);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(store) = store.upgrade() else { break };
            match store.inner.directory_generation().await {
                Ok(generation) => store.directory.observe(generation),
                Err(e) => tracing::debug!(error = %e, "directory cache: poll failed"),
            }
        }
    });
}

pub struct CachedStore {
    inner: Arc<dyn Store>,
    directory: Directory,
}

struct Directory {
    refresh: Duration,
    stale_limit: Duration,
    entries: RwLock<Entries>,
}

#[derive(Default)]
struct Entries {
    /// Moves on every clear; a lookup stores its result only under the epoch it began in.
    epoch: u64,
    /// The generation last read and when; `None` until the first poll succeeds, and then
    /// nothing is served or stored.
    generation: Option<(i64, Instant)>,
    clients: HashMap<String, Client>,
    users: HashMap<String, User>,
    accounts: HashMap<(String, String), UserWithMembership>,
}

impl Entries {
    fn usable(&self, stale_limit: Duration) -> bool {
        self.generation
            .is_some_and(|(_, at)| at.elapsed() <= stale_limit)
    }

    fn clear(&mut self) {
        self.epoch += 1;
        self.clients.clear();
        self.users.clear();
        self.accounts.clear();
    }
}

impl Directory {
    fn new(refresh: Duration, stale_limit: Duration) -> Self {
        Directory {
            refresh,
            stale_limit,
            entries: RwLock::new(Entries::default()),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        // A panic while holding the lock cannot leave the maps inconsistent (each change is
        // one map operation), so a poisoned lock is still usable.
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The value under `key` in the map `select` names, else what `load` reads from the
    /// database, kept when found — unless the cache was cleared meanwhile or is not usable.
    async fn read_through<Q, K, V, F>(
        &self,
        key: &Q,
        select: fn(&Entries) -> &HashMap<K, V>,
        select_mut: fn(&mut Entries) -> &mut HashMap<K, V>,
        load: impl FnOnce() -> F,
    ) -> StoreResult<Option<V>>
    where
        Q: std::hash::Hash + Eq + ToOwned<Owned = K> + ?Sized,
        K: std::hash::Hash + Eq + std::borrow::Borrow<Q>,
        V: Clone,
        F: std::future::Future<Output = StoreResult<Option<V>>>,
    {
        let epoch = {
            let entries = self.read();
            if !entries.usable(self.stale_limit) {
                None
            } else if let Some(hit) = select(&entries).get(key) {
                return Ok(Some(hit.clone()));
            } else {
                Some(entries.epoch)
            }
        };
        let found = load().await?;
        if let (Some(epoch), Some(value)) = (epoch, &found) {
            let mut entries = self.write();
            if entries.epoch == epoch && entries.usable(self.stale_limit) {
                bounded(select_mut(&mut entries), key.to_owned(), value.clone());
            }
        }
        Ok(found)
    }

    fn clear(&self) {
        self.write().clear();
    }

    /// A successful poll: a moved generation empties the cache.
    fn observe(&self, generation: i64) {
        let mut entries = self.write();
        if entries.generation.map(|(g, _)| g) != Some(generation) {
            entries.clear();
        }
        entries.generation = Some((generation, Instant::now()));
    }
}

/// Inserts into a map of at most [`MAX_ENTRIES`]; a full map starts again empty (the hot set
/// refills it at once). Also bounds the reusable refresh tokens of `oidc::token::reusable`.
pub(crate) fn bounded<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(key, value);
}

impl CachedStore {
    /// Runs a write that may change the directory, then empties the cache (after, so a
    /// lookup racing with the write cannot store the old row under the new epoch).
    async fn changing<T>(&self, write: impl std::future::Future<Output = T>) -> T {
        let outcome = write.await;
        self.directory.clear();
        outcome
    }
}

#[async_trait]
impl UserStore for CachedStore {
    async fn create_user(&self, user: NewUser, now: UnixTime) -> StoreResult<User> {
        self.changing(self.inner.create_user(user, now)).await
    }
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        self.directory
            .read_through(
                id,
                |e| &e.users,
                |e| &mut e.users,
                || self.inner.user_by_id(id),
            )
            .await
    }
    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
        self.inner.user_by_login(login).await
    }
    async fn user_by_inn(&self, inn: &str) -> StoreResult<Option<User>> {
        self.inner.user_by_inn(inn).await
    }
    async fn set_user_blocked(&self, id: &str, blocked: bool) -> StoreResult<()> {
        self.changing(self.inner.set_user_blocked(id, blocked))
            .await
    }
}

#[async_trait]
impl OrganizationStore for CachedStore {
    async fn upsert_organization(&self, org: &Organization) -> StoreResult<()> {
        self.changing(self.inner.upsert_organization(org)).await
    }
    async fn organization(&self, inn: &str) -> StoreResult<Option<Organization>> {
        self.inner.organization(inn).await
    }
    async fn upsert_membership(&self, membership: &Membership) -> StoreResult<()> {
        self.changing(self.inner.upsert_membership(membership))
            .await
    }
    async fn memberships_of_user(
        &self,
        user_id: &str,
    ) -> StoreResult<Vec<(Membership, Organization)>> {
        self.inner.memberships_of_user(user_id).await
    }
    async fn user_with_membership(
        &self,
        user_id: &str,
        org_inn: &str,
    ) -> StoreResult<Option<UserWithMembership>> {
        self.directory
            .read_through(
                &(user_id.to_owned(), org_inn.to_owned()),
                |e| &e.accounts,
                |e| &mut e.accounts,
                || self.inner.user_with_membership(user_id, org_inn),
            )
            .await
    }
}

#[async_trait]
impl ClientStore for CachedStore {
    async fn create_client(&self, client: &Client) -> StoreResult<()> {
        self.changing(self.inner.create_client(client)).await
    }
    async fn client(&self, id: &str) -> StoreResult<Option<Client>> {
        self.directory
            .read_through(
                id,
                |e| &e.clients,
                |e| &mut e.clients,
                || self.inner.client(id),
            )
            .await
    }
    async fn list_clients(&self) -> StoreResult<Vec<Client>> {
        self.inner.list_clients().await
    }
    async fn set_client_disabled(&self, id: &str, disabled: bool) -> StoreResult<bool> {
        self.changing(self.inner.set_client_disabled(id, disabled))
            .await
    }
}

#[async_trait]
impl ConsentStore for CachedStore {
    async fn consent(&self, user_id: &str, client_id: &str) -> StoreResult<Option<Consent>> {
        self.inner.consent(user_id, client_id).await
    }
    async fn save_consent(&self, consent: &Consent) -> StoreResult<()> {
        self.inner.save_consent(consent).await
    }
}

#[async_trait]
impl GrantStore for CachedStore {
    async fn create_grant(&self, grant: &Grant, refresh: Option<&RefreshToken>) -> StoreResult<()> {
        self.inner.create_grant(grant, refresh).await
    }
    async fn grant(&self, id: &str) -> StoreResult<Option<Grant>> {
        self.inner.grant(id).await
    }
    async fn refresh_token(&self, digest: &str) -> StoreResult<Option<(RefreshToken, Grant)>> {
        self.inner.refresh_token(digest).await
    }
    async fn rotate_refresh_token(
        &self,
        old_digest: &str,
        new: &RefreshToken,
        now: UnixTime,
    ) -> StoreResult<RotateOutcome> {
        self.inner.rotate_refresh_token(old_digest, new, now).await
    }
    async fn revoke_grant(&self, id: &str) -> StoreResult<()> {
        self.inner.revoke_grant(id).await
    }
    async fn revoke_grants_of_user(
        &self,
        user_id: &str,
        account_key: Option<&str>,
    ) -> StoreResult<Vec<String>> {
        self.inner.revoke_grants_of_user(user_id, account_key).await
    }
    async fn purge_expired(&self, now: UnixTime) -> StoreResult<u64> {
        self.inner.purge_expired(now).await
    }
}

#[async_trait]
impl KeyStore for CachedStore {
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyMeta>> {
        self.inner.signing_keys().await
    }
    async fn add_signing_key(&self, new: &SigningKeyMeta) -> StoreResult<()> {
        self.inner.add_signing_key(new).await
    }
}

#[async_trait]
impl AuditLog for CachedStore {
    async fn record(&self, event: &AuditEvent) -> StoreResult<()> {
        self.inner.record(event).await
    }
    async fn recent_events(&self, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        self.inner.recent_events(limit).await
    }
}

#[async_trait]
impl TaxRegistryStore for CachedStore {
    async fn upsert_taxpayers(&self, taxpayers: &[Taxpayer]) -> StoreResult<()> {
        // The same transaction updates organizations of the cabinet.
        self.changing(self.inner.upsert_taxpayers(taxpayers)).await
    }
    async fn taxpayer(&self, inn: &str) -> StoreResult<Option<Taxpayer>> {
        self.inner.taxpayer(inn).await
    }
    async fn ugns_offices(&self) -> StoreResult<Vec<UgnsOffice>> {
        self.inner.ugns_offices().await
    }
}

#[async_trait]
impl RegistrationStore for CachedStore {
    async fn create_application(
        &self,
        new: &NewApplication,
        now: UnixTime,
    ) -> StoreResult<Application> {
        self.inner.create_application(new, now).await
    }
    async fn application(&self, number: i64) -> StoreResult<Option<Application>> {
        self.inner.application(number).await
    }
    async fn pending_application_for(
        &self,
        person_inn: &str,
        org_inn: Option<&str>,
    ) -> StoreResult<Option<Application>> {
        self.inner
            .pending_application_for(person_inn, org_inn)
            .await
    }
    async fn pending_applications_of(&self, person_inn: &str) -> StoreResult<Vec<Application>> {
        self.inner.pending_applications_of(person_inn).await
    }
    async fn pending_applications(&self, ugns_codes: &[String]) -> StoreResult<Vec<Application>> {
        self.inner.pending_applications(ugns_codes).await
    }
    async fn pending_branch_applications(
        &self,
        head_inns: &[String],
    ) -> StoreResult<Vec<Application>> {
        self.inner.pending_branch_applications(head_inns).await
    }
    async fn approve_application(
        &self,
        number: i64,
        inspector_id: &str,
        names: (&str, &str, Option<&str>),
        organization: Option<(&Organization, MemberRole)>,
        now: UnixTime,
    ) -> StoreResult<Approval> {
        // Creates a user, or adds an organization and a membership to an existing one.
        self.changing(self.inner.approve_application(
            number,
            inspector_id,
            names,
            organization,
            now,
        ))
        .await
    }
    async fn reject_application(
        &self,
        number: i64,
        inspector_id: &str,
        reason: &str,
        now: UnixTime,
    ) -> StoreResult<Application> {
        self.inner
            .reject_application(number, inspector_id, reason, now)
            .await
    }
    async fn inspector_offices(&self, user_id: &str) -> StoreResult<Vec<String>> {
        self.inner.inspector_offices(user_id).await
    }
    async fn set_inspector_offices(&self, user_id: &str, ugns_codes: &[String]) -> StoreResult<()> {
        self.inner.set_inspector_offices(user_id, ugns_codes).await
    }
}

#[async_trait]
impl TrustStore for CachedStore {
    async fn add_ca(&self, ca: &TrustedCa) -> StoreResult<AddCaOutcome> {
        self.inner.add_ca(ca).await
    }
    async fn list_cas(&self) -> StoreResult<Vec<TrustedCa>> {
        self.inner.list_cas().await
    }
    async fn remove_ca(&self, thumbprint_or_prefix: &str) -> StoreResult<RemoveCaOutcome> {
        self.inner.remove_ca(thumbprint_or_prefix).await
    }
    async fn put_crl(&self, crl: &NewCrl, now: UnixTime) -> StoreResult<PutCrlOutcome> {
        self.inner.put_crl(crl, now).await
    }
    async fn list_crls(&self) -> StoreResult<Vec<Crl>> {
        self.inner.list_crls().await
    }
    async fn trust_material(&self) -> StoreResult<TrustMaterial> {
        self.inner.trust_material().await
    }
}

#[async_trait]
impl Store for CachedStore {
    async fn migrate(&self) -> StoreResult<()> {
        self.changing(self.inner.migrate()).await
    }
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }
    async fn directory_generation(&self) -> StoreResult<i64> {
        self.inner.directory_generation().await
    }
    fn describe(&self) -> String {
        format!(
            "{} (directory cache, refreshed every {} ms)",
            self.inner.describe(),
            self.directory.refresh.as_millis()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    fn client(id: &str) -> Client {
        Client {
            id: id.into(),
            name: "RP".into(),
            secret_digest: None,
            redirect_uris: vec!["https://rp.example/cb".into()],
            post_logout_redirect_uris: vec![],
            auth_method: ClientAuthMethod::None,
            grant_types: vec!["authorization_code".into()],
            scopes: vec!["openid".into()],
            id_token_alg: "RS256".into(),
            access_token_alg: "RS256".into(),
            rotate_refresh_tokens: true,
            require_organization: false,
            disabled: false,
            created_at: 1_700_000_000,
        }
    }

    /// Two stores on one SQLite file stand for two processes: what the other one changes is
    /// served from the cache until a poll sees the generation move, then read anew. Without a
    /// successful poll, or when the last one is older than the stale limit, nothing is served
    /// from the cache.
    #[tokio::test]
    async fn other_processes_changes_arrive_with_the_poll() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idp.sqlite");
        let ours = SqliteStore::connect(&path).await.unwrap();
        ours.migrate().await.unwrap();
        let other = SqliteStore::connect(&path).await.unwrap();
        let cached = CachedStore {
            inner: Arc::new(ours),
            directory: Directory::new(Duration::from_secs(3600), Duration::from_millis(300)),
        };
        cached.create_client(&client("rp")).await.unwrap();

        // No poll yet: every read goes to the database.
        assert!(cached.client("rp").await.unwrap().is_some());
        other.set_client_disabled("rp", true).await.unwrap();
        assert!(cached.client("rp").await.unwrap().unwrap().disabled);
        other.set_client_disabled("rp", false).await.unwrap();

        let poll = || async { cached.inner.directory_generation().await.unwrap() };
        cached.directory.observe(poll().await);
        assert!(!cached.client("rp").await.unwrap().unwrap().disabled);
        other.set_client_disabled("rp", true).await.unwrap();
        assert!(
            !cached.client("rp").await.unwrap().unwrap().disabled,
            "served from the cache until the next poll"
        );
        cached.directory.observe(poll().await);
        assert!(cached.client("rp").await.unwrap().unwrap().disabled);

        // No successful poll for longer than the stale limit: the database is asked again.
        other.set_client_disabled("rp", false).await.unwrap();
        assert!(cached.client("rp").await.unwrap().unwrap().disabled);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(!cached.client("rp").await.unwrap().unwrap().disabled);
    }

    #[tokio::test]
    async fn a_lookup_from_before_a_clear_is_not_stored() {
        let directory = Directory::new(Duration::from_secs(3600), Duration::from_secs(3600));
        directory.observe(1);
        let found = directory
            .read_through(
                "late",
                |e| &e.clients,
                |e| &mut e.clients,
                || async {
                    // A write through this process empties the cache while the read runs.
                    directory.clear();
                    Ok(Some(client("late")))
                },
            )
            .await
            .unwrap();
        assert!(found.is_some());
        assert!(directory.read().clients.is_empty());
    }

    #[test]
    fn maps_stay_bounded() {
        let mut map = HashMap::new();
        for i in 0..=MAX_ENTRIES {
            bounded(&mut map, i, ());
        }
        assert!(map.len() <= MAX_ENTRIES);
    }
}
