//! One contract suite for every `Store` backend. Each case is written once against
//! `Arc<dyn Store>`; `contract_cases!` turns it into `<module>::sqlite::<case>` (always,
//! on a temporary file) and `<module>::postgres::<case>` (when `IDP_TEST_DATABASE_URL` is
//! set; each test gets a fresh schema that is dropped afterwards). With
//! `IDP_REQUIRE_BACKENDS=1` a missing PostgreSQL URL fails the PostgreSQL cases instead of
//! skipping them. `cached_sqlite` and `cached_postgres` run every case again through the
//! directory cache (`store::cached`) in front of each backend.
//!
//! This file holds the runner, shared fixtures and the user, organization, client, consent and
//! audit cases; `store_contract_grants` and `store_contract_registration` reuse the runner.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use salyk_idp::store::postgres::PostgresStore;
use salyk_idp::store::sqlite::SqliteStore;
use salyk_idp::store::*;
use serde_json::json;

pub(crate) const NOW: UnixTime = 1_700_000_000;

pub(crate) async fn run_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    // A path that does not exist yet: `connect` must create the file.
    let store = SqliteStore::connect(&dir.path().join("idp.sqlite3"))
        .await
        .expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    case(Arc::new(store)).await;
}

fn postgres_url() -> Option<String> {
    match std::env::var("IDP_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("IDP_REQUIRE_BACKENDS").as_deref() == Ok("1") => {
            panic!("IDP_REQUIRE_BACKENDS=1 but IDP_TEST_DATABASE_URL is not set")
        }
        _ => {
            eprintln!("note: IDP_TEST_DATABASE_URL is not set; skipping the PostgreSQL case");
            None
        }
    }
}

pub(crate) async fn run_postgres<F, Fut>(case: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = postgres_url() else { return };
    let schema = format!("t_{:016x}", rand::random::<u64>());
    let store = PostgresStore::connect(&url, Some(&schema))
        .await
        .expect("connect to postgres");
    store.migrate().await.expect("migrate postgres");
    // Run the case as a task so a failing assertion still lets us drop the schema.
    let outcome = tokio::spawn(case(Arc::new(store))).await;
    drop_schema(&url, &schema).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Best effort: a leftover schema is harmless, a test hanging on cleanup is not.
async fn drop_schema(url: &str, schema: &str) {
    use sqlx::Connection;
    let drop = async {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .execute(&mut conn)
            .await?;
        conn.close().await
    };
    match tokio::time::timeout(std::time::Duration::from_secs(10), drop).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("note: could not drop test schema {schema}: {e}"),
        Err(_) => eprintln!("note: timed out dropping test schema {schema}"),
    }
}

/// The directory cache in front of a backend, with a poll so rare that only its own
/// invalidation keeps it right: every case then also checks that each write through the
/// cache is read back at once.
pub(crate) fn cached(store: Arc<dyn Store>) -> Arc<dyn Store> {
    salyk_idp::store::cached::wrap(store, std::time::Duration::from_secs(3600))
}

macro_rules! contract_cases {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::run_sqlite(super::$case).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::run_postgres(super::$case).await;
                }
            )+
        }
        mod cached_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::run_sqlite(|store| super::$case($crate::store_contract::cached(store))).await;
                }
            )+
        }
        mod cached_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::run_postgres(|store| super::$case($crate::store_contract::cached(store))).await;
                }
            )+
        }
    };
}
pub(crate) use contract_cases;

contract_cases!(
    users_roundtrip,
    organizations_and_memberships,
    clients_roundtrip,
    consent_upsert_replaces,
    audit_log_newest_first,
    ping_and_migrate_twice,
);

// --- fixtures --------------------------------------------------------------------------------

pub(crate) fn new_user(login: &str, inn: &str) -> NewUser {
    NewUser {
        login: login.into(),
        inn: inn.into(),
        family_name: "Асанов".into(),
        given_name: "Бакыт".into(),
        middle_name: Some("Эркинович".into()),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        ugns_code: Some("002".into()),
    }
}

pub(crate) fn org(inn: &str, kind: AccountKind, parent: Option<&str>) -> Organization {
    Organization {
        inn: inn.into(),
        name: format!("ОсОО «Тест {inn}»"),
        ugns_code: "004".into(),
        kind,
        parent_inn: parent.map(Into::into),
        liquidated: false,
    }
}

pub(crate) fn client(id: &str) -> Client {
    Client {
        id: id.into(),
        name: format!("Client {id}"),
        secret_digest: Some("9f86d081884c7d65".into()),
        redirect_uris: vec![
            "https://rp.example/cb".into(),
            "https://rp.example/cb?x=\"quoted\",comma".into(),
            "http://127.0.0.1:8080/кириллица".into(),
        ],
        post_logout_redirect_uris: vec![],
        auth_method: ClientAuthMethod::ClientSecretBasic,
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        scopes: vec!["openid".into(), "profile".into(), "account".into()],
        id_token_alg: "RS256".into(),
        access_token_alg: "ES256".into(),
        rotate_refresh_tokens: true,
        require_organization: false,
        disabled: false,
        created_at: NOW,
    }
}

pub(crate) async fn add_user(store: &dyn Store, login: &str, inn: &str) -> User {
    store.create_user(new_user(login, inn), NOW).await.unwrap()
}

// --- cases -----------------------------------------------------------------------------------

async fn users_roundtrip(store: Arc<dyn Store>) {
    let user = add_user(&*store, "12345678901234001", "12345678901234").await;
    assert!(
        uuid::Uuid::parse_str(&user.id).is_ok(),
        "id {} is not a uuid",
        user.id
    );
    assert_eq!(
        (user.login.as_str(), user.blocked, user.created_at),
        ("12345678901234001", false, NOW)
    );
    assert_eq!(user.full_name(), "Асанов Бакыт Эркинович");

    let found = [
        store.user_by_id(&user.id).await.unwrap(),
        store.user_by_login(&user.login).await.unwrap(),
        store.user_by_inn(&user.inn).await.unwrap(),
    ];
    assert_eq!(
        found,
        [Some(user.clone()), Some(user.clone()), Some(user.clone())]
    );
    assert_eq!(store.user_by_id("no-such-id").await.unwrap(), None);
    assert_eq!(store.user_by_login("nobody").await.unwrap(), None);
    assert_eq!(store.user_by_inn("00000000000000").await.unwrap(), None);

    // Optional fields stay None.
    let bare = NewUser {
        middle_name: None,
        password_hash: None,
        ugns_code: None,
        ..new_user("22222222222222001", "22222222222222")
    };
    let other = store.create_user(bare, NOW + 1).await.unwrap();
    assert_ne!(other.id, user.id);
    let loaded = store.user_by_id(&other.id).await.unwrap().unwrap();
    assert_eq!(loaded, other);
    assert_eq!(
        (loaded.middle_name, loaded.password_hash, loaded.ugns_code),
        (None, None, None)
    );

    let dup = store
        .create_user(new_user(&user.login, "33333333333333"), NOW)
        .await;
    assert!(
        matches!(&dup, Err(StoreError::Conflict(rule)) if rule == "login"),
        "{dup:?}"
    );
    let dup = store
        .create_user(new_user("33333333333333001", &user.inn), NOW)
        .await;
    assert!(
        matches!(&dup, Err(StoreError::Conflict(rule)) if rule == "inn"),
        "{dup:?}"
    );
    assert_eq!(
        store.user_by_login("33333333333333001").await.unwrap(),
        None
    );

    store.set_user_blocked(&user.id, true).await.unwrap();
    assert!(store.user_by_id(&user.id).await.unwrap().unwrap().blocked);
    store.set_user_blocked(&user.id, false).await.unwrap();
    assert!(!store.user_by_inn(&user.inn).await.unwrap().unwrap().blocked);
    let missing = store.set_user_blocked("no-such-id", true).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
}

async fn organizations_and_memberships(store: Arc<dyn Store>) {
    let head = org("01234567890123", AccountKind::Organization, None);
    let branch = org("01234567890124", AccountKind::Branch, Some(&head.inn));
    store.upsert_organization(&head).await.unwrap();
    store.upsert_organization(&branch).await.unwrap();
    let found = [
        store.organization(&head.inn).await.unwrap(),
        store.organization(&branch.inn).await.unwrap(),
    ];
    assert_eq!(found, [Some(head.clone()), Some(branch.clone())]);
    assert_eq!(store.organization("99999999999999").await.unwrap(), None);

    // Upsert updates in place.
    let renamed = Organization {
        name: "ОсОО «Новое имя»".into(),
        liquidated: true,
        ..head.clone()
    };
    store.upsert_organization(&renamed).await.unwrap();
    assert_eq!(store.organization(&head.inn).await.unwrap(), Some(renamed));
    store.upsert_organization(&head).await.unwrap();

    let user = add_user(&*store, "11111111111111001", "11111111111111").await;
    let loner = add_user(&*store, "44444444444444001", "44444444444444").await;
    let member =
        |org: &Organization, role: MemberRole, blocked: bool, comment: Option<&str>| Membership {
            org_inn: org.inn.clone(),
            user_id: user.id.clone(),
            role,
            blocked,
            comment: comment.map(Into::into),
        };

    let unknown_org = member(
        &org("99999999999999", AccountKind::Organization, None),
        MemberRole::Head,
        false,
        None,
    );
    let err = store.upsert_membership(&unknown_org).await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");
    let unknown_user = Membership {
        user_id: "no-such-user".into(),
        ..member(&head, MemberRole::Head, false, None)
    };
    let err = store.upsert_membership(&unknown_user).await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");

    store
        .upsert_membership(&member(&head, MemberRole::Employee, false, None))
        .await
        .unwrap();
    // A second upsert of the same pair replaces role, blocked and comment.
    let at_head = member(&head, MemberRole::Accountant, false, Some("бухгалтер"));
    store.upsert_membership(&at_head).await.unwrap();
    let at_branch = member(&branch, MemberRole::Head, true, Some("blocked by head"));
    store.upsert_membership(&at_branch).await.unwrap();

    let mut got = store.memberships_of_user(&user.id).await.unwrap();
    got.sort_by(|a, b| a.0.org_inn.cmp(&b.0.org_inn));
    assert_eq!(
        got,
        [
            (at_head.clone(), head.clone()),
            (at_branch.clone(), branch.clone())
        ]
    );
    assert_eq!(store.memberships_of_user(&loner.id).await.unwrap(), []);
    assert_eq!(store.memberships_of_user("no-such-user").await.unwrap(), []);

    // The same rows through the one-query read that userinfo and refresh use; the user's
    // own УГНС (002) must not leak into the organization's (004), nor `blocked` across.
    let one = store
        .user_with_membership(&user.id, &branch.inn)
        .await
        .unwrap();
    assert_eq!(one, Some((user.clone(), Some((at_branch, branch)))));
    let one = store
        .user_with_membership(&user.id, &head.inn)
        .await
        .unwrap();
    assert_eq!(one, Some((user.clone(), Some((at_head, head)))));
    let none = store
        .user_with_membership(&loner.id, "01234567890123")
        .await
        .unwrap();
    assert_eq!(none, Some((loner.clone(), None)));
    let unknown = store
        .user_with_membership("no-such-user", "01234567890123")
        .await;
    assert_eq!(unknown.unwrap(), None);
}

async fn clients_roundtrip(store: Arc<dyn Store>) {
    let confidential = client("rp-b");
    let public = Client {
        secret_digest: None,
        auth_method: ClientAuthMethod::None,
        redirect_uris: vec!["com.example.app:/cb".into()],
        post_logout_redirect_uris: vec!["https://spa.example/bye".into(), "".into()],
        grant_types: vec![],
        scopes: vec!["openid".into()],
        id_token_alg: "ES256".into(),
        access_token_alg: "RS256".into(),
        rotate_refresh_tokens: false,
        require_organization: true,
        ..client("rp-a")
    };
    store.create_client(&confidential).await.unwrap();
    store.create_client(&public).await.unwrap();
    assert_eq!(
        store.client("rp-b").await.unwrap(),
        Some(confidential.clone())
    );
    assert_eq!(store.client("rp-a").await.unwrap(), Some(public.clone()));
    assert_eq!(store.client("rp-z").await.unwrap(), None);

    let dup = store.create_client(&client("rp-a")).await;
    assert!(
        matches!(&dup, Err(StoreError::Conflict(rule)) if rule == "client_id"),
        "{dup:?}"
    );

    let mut listed = store.list_clients().await.unwrap();
    listed.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(listed, vec![public.clone(), confidential.clone()]);

    assert!(store.set_client_disabled("rp-b", true).await.unwrap());
    assert!(store.client("rp-b").await.unwrap().unwrap().disabled);
    assert!(store.set_client_disabled("rp-b", false).await.unwrap());
    assert!(!store.client("rp-b").await.unwrap().unwrap().disabled);
    assert!(!store.set_client_disabled("rp-z", true).await.unwrap());
}

async fn consent_upsert_replaces(store: Arc<dyn Store>) {
    assert_eq!(store.consent("u1", "rp").await.unwrap(), None);
    let first = Consent {
        user_id: "u1".into(),
        client_id: "rp".into(),
        account_key: "individual:12345678901234".into(),
        scopes: vec!["openid".into(), "profile".into()],
        updated_at: NOW,
    };
    store.save_consent(&first).await.unwrap();
    assert_eq!(
        store.consent("u1", "rp").await.unwrap(),
        Some(first.clone())
    );

    let second = Consent {
        account_key: "organization:01234567890123".into(),
        scopes: vec!["openid".into()],
        updated_at: NOW + 60,
        ..first.clone()
    };
    store.save_consent(&second).await.unwrap();
    assert_eq!(store.consent("u1", "rp").await.unwrap(), Some(second));
    assert_eq!(store.consent("u1", "other-rp").await.unwrap(), None);
    assert_eq!(store.consent("u2", "rp").await.unwrap(), None);
}

async fn audit_log_newest_first(store: Arc<dyn Store>) {
    assert!(store.recent_events(10).await.unwrap().is_empty());
    let event = |at: UnixTime, kind: &str| AuditEvent {
        at,
        kind: kind.into(),
        actor: Some("u1".into()),
        subject: None,
        detail: json!({"ip": "10.0.0.1", "n": at, "nested": {"ok": true, "list": [1, "два"]}}),
    };
    let first = event(NOW, "sign_in.failure");
    let second = event(NOW + 5, "sign_in.success");
    // Same second as `second`, recorded later: insertion order breaks the tie.
    let third = AuditEvent {
        actor: None,
        subject: Some("rp".into()),
        detail: json!(null),
        ..event(NOW + 5, "client.create")
    };
    for e in [&first, &second, &third] {
        store.record(e).await.unwrap();
    }
    assert_eq!(
        store.recent_events(10).await.unwrap(),
        vec![third.clone(), second.clone(), first]
    );
    assert_eq!(store.recent_events(2).await.unwrap(), vec![third, second]);
}

async fn ping_and_migrate_twice(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
    let description = store.describe();
    assert!(!description.is_empty());
    let kinds: HashSet<&str> = ["sqlite", "postgres"]
        .into_iter()
        .filter(|k| description.contains(k))
        .collect();
    assert_eq!(kinds.len(), 1, "{description}");
}

// --- not per backend --------------------------------------------------------------------------

#[tokio::test]
async fn postgres_down_is_unavailable_quickly() {
    let started = std::time::Instant::now();
    // Port 1 on loopback: nothing listens, the connection is refused.
    let result = PostgresStore::connect("postgres://idp:secret@127.0.0.1:1/idp", None).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{:?}",
        result.err()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn postgres_rejects_unsafe_schema_names() {
    let result = PostgresStore::connect("postgres://idp@127.0.0.1:1/idp", Some("x\"; DROP")).await;
    assert!(
        matches!(result, Err(StoreError::Internal(_))),
        "{:?}",
        result.err()
    );
}
