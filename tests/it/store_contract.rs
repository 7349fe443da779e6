//! One contract suite for every `Store` backend. Each case is written once against
//! `Arc<dyn Store>`; `contract_cases!` turns it into `store_contract::sqlite::<case>` (always,
//! on a temporary file) and `store_contract::postgres::<case>` (when `IDP_TEST_DATABASE_URL` is
//! set; each test gets a fresh schema that is dropped afterwards). With
//! `IDP_REQUIRE_BACKENDS=1` a missing PostgreSQL URL fails the PostgreSQL cases instead of
//! skipping them.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use salyk_idp::store::postgres::PostgresStore;
use salyk_idp::store::sqlite::SqliteStore;
use salyk_idp::store::*;
use serde_json::json;

const NOW: UnixTime = 1_700_000_000;

async fn run_sqlite<F, Fut>(case: F)
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

async fn run_postgres<F, Fut>(case: F)
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
    };
}

contract_cases!(
    users_roundtrip,
    organizations_and_memberships,
    clients_roundtrip,
    consent_upsert_replaces,
    grant_and_refresh_token_roundtrip,
    rotate_live_token,
    rotate_reused_token_revokes_grant,
    rotate_invalid_tokens,
    rotate_concurrently_has_one_winner,
    revoke_grant_is_idempotent,
    revoke_grants_of_user,
    purge_expired,
    signing_key_rotation,
    audit_log_newest_first,
    ping_and_migrate_twice,
);

// --- fixtures --------------------------------------------------------------------------------

fn new_user(login: &str, inn: &str) -> NewUser {
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

fn org(inn: &str, kind: AccountKind, parent: Option<&str>) -> Organization {
    Organization {
        inn: inn.into(),
        name: format!("ОсОО «Тест {inn}»"),
        ugns_code: "004".into(),
        kind,
        parent_inn: parent.map(Into::into),
        liquidated: false,
    }
}

fn client(id: &str) -> Client {
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
        token_alg: "RS256".into(),
        rotate_refresh_tokens: true,
        require_organization: false,
        disabled: false,
        created_at: NOW,
    }
}

fn grant(id: &str, user_id: &str, account_key: &str) -> Grant {
    Grant {
        id: id.into(),
        client_id: "rp".into(),
        user_id: user_id.into(),
        account_key: account_key.into(),
        scopes: vec!["openid".into(), "offline_access".into()],
        auth_time: NOW - 10,
        amr: vec!["pwd".into()],
        acr: "urn:salyk:loa:1".into(),
        session_id: Some(format!("sso-{id}")),
        created_at: NOW,
        revoked: false,
    }
}

fn token(digest: &str, grant_id: &str, expires_at: UnixTime) -> RefreshToken {
    RefreshToken {
        digest: digest.into(),
        grant_id: grant_id.into(),
        expires_at,
        rotated: false,
    }
}

fn key(kid: &str, alg: &str, created_at: UnixTime) -> SigningKeyMeta {
    SigningKeyMeta {
        kid: kid.into(),
        alg: alg.into(),
        created_at,
        active: true,
    }
}

async fn add_user(store: &dyn Store, login: &str, inn: &str) -> User {
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
    assert_eq!(got, [(at_head, head), (at_branch, branch)]);
    assert_eq!(store.memberships_of_user(&loner.id).await.unwrap(), []);
    assert_eq!(store.memberships_of_user("no-such-user").await.unwrap(), []);
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
        token_alg: "ES256".into(),
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

/// A grant of `u1` with one refresh token.
async fn seed(store: &dyn Store, grant_id: &str, digest: &str, expires_at: UnixTime) -> Grant {
    let g = grant(grant_id, "u1", "individual:1");
    let rt = token(digest, grant_id, expires_at);
    store.create_grant(&g, Some(&rt)).await.unwrap();
    g
}

async fn rotate(
    store: &dyn Store,
    old: &str,
    new: &str,
    grant_id: &str,
    now: UnixTime,
) -> RotateOutcome {
    let new = token(new, grant_id, NOW + 7200);
    store.rotate_refresh_token(old, &new, now).await.unwrap()
}

async fn has_token(store: &dyn Store, digest: &str) -> bool {
    store.refresh_token(digest).await.unwrap().is_some()
}

async fn is_revoked(store: &dyn Store, grant_id: &str) -> bool {
    store
        .grant(grant_id)
        .await
        .unwrap()
        .expect("grant exists")
        .revoked
}

async fn grant_and_refresh_token_roundtrip(store: Arc<dyn Store>) {
    let g = seed(&*store, "g1", "rt-1", NOW + 3600).await;
    assert_eq!(store.grant("g1").await.unwrap(), Some(g.clone()));
    let expected = (token("rt-1", "g1", NOW + 3600), g.clone());
    assert_eq!(store.refresh_token("rt-1").await.unwrap(), Some(expected));

    let without = Grant {
        session_id: None,
        amr: vec!["pwd".into(), "otp".into()],
        ..grant("g2", "u1", "individual:1")
    };
    store.create_grant(&without, None).await.unwrap();
    assert_eq!(store.grant("g2").await.unwrap(), Some(without));

    assert_eq!(store.grant("g-missing").await.unwrap(), None);
    assert_eq!(store.refresh_token("rt-missing").await.unwrap(), None);
    let dup = store.create_grant(&g, None).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
}

async fn rotate_live_token(store: Arc<dyn Store>) {
    let g = seed(&*store, "g1", "rt-1", NOW + 3600).await;
    let outcome = rotate(&*store, "rt-1", "rt-2", "g1", NOW).await;
    assert_eq!(outcome, RotateOutcome::Rotated(g.clone()));
    let (old, _) = store.refresh_token("rt-1").await.unwrap().unwrap();
    assert!(old.rotated);
    let (new, new_grant) = store.refresh_token("rt-2").await.unwrap().unwrap();
    assert_eq!(
        (new, new_grant),
        (token("rt-2", "g1", NOW + 7200), g.clone())
    );

    // The new token works in turn.
    let outcome = rotate(&*store, "rt-2", "rt-3", "g1", NOW + 10).await;
    assert_eq!(outcome, RotateOutcome::Rotated(g));
}

async fn rotate_reused_token_revokes_grant(store: Arc<dyn Store>) {
    seed(&*store, "g1", "rt-1", NOW + 3600).await;
    let first = rotate(&*store, "rt-1", "rt-2", "g1", NOW).await;
    assert!(matches!(first, RotateOutcome::Rotated(_)), "{first:?}");

    let reuse = rotate(&*store, "rt-1", "rt-x", "g1", NOW + 1).await;
    assert_eq!(
        reuse,
        RotateOutcome::Reused {
            grant_id: "g1".into()
        }
    );
    assert!(is_revoked(&*store, "g1").await);
    assert!(
        !has_token(&*store, "rt-x").await,
        "no token is stored on reuse"
    );

    // The legitimate successor dies with the grant.
    let successor = rotate(&*store, "rt-2", "rt-3", "g1", NOW + 2).await;
    assert_eq!(successor, RotateOutcome::Invalid);
}

async fn rotate_invalid_tokens(store: Arc<dyn Store>) {
    seed(&*store, "g1", "rt-old", NOW).await;
    seed(&*store, "g2", "rt-rev", NOW + 3600).await;
    store.revoke_grant("g2").await.unwrap();

    // Expired at `now` exactly: a token is live only before its `expires_at`.
    assert_eq!(
        rotate(&*store, "rt-old", "n1", "g1", NOW).await,
        RotateOutcome::Invalid
    );
    let (old, g1) = store.refresh_token("rt-old").await.unwrap().unwrap();
    assert!(
        !old.rotated && !g1.revoked,
        "an expired token changes nothing"
    );

    assert_eq!(
        rotate(&*store, "rt-rev", "n2", "g2", NOW).await,
        RotateOutcome::Invalid
    );
    assert_eq!(
        rotate(&*store, "rt-unknown", "n3", "g1", NOW).await,
        RotateOutcome::Invalid
    );
    for digest in ["n1", "n2", "n3"] {
        assert!(!has_token(&*store, digest).await, "{digest} was stored");
    }
}

async fn rotate_concurrently_has_one_winner(store: Arc<dyn Store>) {
    let g = seed(&*store, "g1", "rt-1", NOW + 3600).await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(
                async move { rotate(&*store, "rt-1", &format!("rt-new-{i}"), "g1", NOW).await },
            )
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        match task.await.unwrap() {
            RotateOutcome::Rotated(got) => {
                assert_eq!(got, g);
                winners += 1;
            }
            // The losers present an already rotated token: that is reuse.
            RotateOutcome::Reused { grant_id } => assert_eq!(grant_id, "g1"),
            RotateOutcome::Invalid => {}
        }
    }
    assert_eq!(winners, 1);
    let mut stored = 0;
    for i in 0..8 {
        stored += usize::from(has_token(&*store, &format!("rt-new-{i}")).await);
    }
    assert_eq!(stored, 1, "exactly one successor token is stored");
}

async fn revoke_grant_is_idempotent(store: Arc<dyn Store>) {
    seed(&*store, "g1", "rt-1", NOW + 3600).await;
    store.revoke_grant("g1").await.unwrap();
    store.revoke_grant("g1").await.unwrap();
    store.revoke_grant("g-missing").await.unwrap();
    let (_, g) = store.refresh_token("rt-1").await.unwrap().unwrap();
    assert!(g.revoked);
    assert_eq!(
        rotate(&*store, "rt-1", "rt-2", "g1", NOW).await,
        RotateOutcome::Invalid
    );
}

async fn revoke_grants_of_user(store: Arc<dyn Store>) {
    for (id, user, key) in [
        ("g1", "u1", "individual:1"),
        ("g2", "u1", "organization:7"),
        ("g3", "u1", "organization:7"),
        ("g4", "u2", "organization:7"),
        ("g5", "u1", "individual:1"),
    ] {
        store
            .create_grant(&grant(id, user, key), None)
            .await
            .unwrap();
    }
    store.revoke_grant("g5").await.unwrap();

    let mut by_key = store
        .revoke_grants_of_user("u1", Some("organization:7"))
        .await
        .unwrap();
    by_key.sort();
    assert_eq!(by_key, ["g2", "g3"]);
    assert!(!is_revoked(&*store, "g1").await);
    assert!(
        !is_revoked(&*store, "g4").await,
        "other users are untouched"
    );

    // Without a key: everything of the user still live (g5 was already revoked).
    assert_eq!(
        store.revoke_grants_of_user("u1", None).await.unwrap(),
        ["g1"]
    );
    for id in ["g1", "g2", "g3", "g5"] {
        assert!(is_revoked(&*store, id).await, "{id}");
    }
    assert!(!is_revoked(&*store, "g4").await);
    let none: [&str; 0] = [];
    assert_eq!(store.revoke_grants_of_user("u1", None).await.unwrap(), none);
    assert_eq!(
        store.revoke_grants_of_user("nobody", None).await.unwrap(),
        none
    );
}

async fn purge_expired(store: Arc<dyn Store>) {
    seed(&*store, "g1", "a", NOW - 100).await;
    seed(&*store, "g2", "b", NOW).await;
    seed(&*store, "g3", "c", NOW + 100).await;
    assert_eq!(store.purge_expired(NOW).await.unwrap(), 2);
    assert!(!has_token(&*store, "a").await);
    assert!(!has_token(&*store, "b").await);
    assert!(has_token(&*store, "c").await);
    assert!(
        store.grant("g1").await.unwrap().is_some(),
        "grants are kept"
    );
    assert_eq!(store.purge_expired(NOW).await.unwrap(), 0);
}

/// Keys as "kid alg active|inactive", sorted by kid.
async fn key_states(store: &dyn Store) -> Vec<String> {
    let mut keys: Vec<String> = store
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| {
            format!(
                "{} {} {}",
                k.kid,
                k.alg,
                if k.active { "active" } else { "inactive" }
            )
        })
        .collect();
    keys.sort();
    keys
}

async fn signing_key_rotation(store: Arc<dyn Store>) {
    assert!(store.signing_keys().await.unwrap().is_empty());
    let add = |kid: &'static str, alg: &'static str, created_at: UnixTime| {
        let store = store.clone();
        async move { store.add_signing_key(&key(kid, alg, created_at)).await }
    };
    add("es-1", "ES256", NOW - 500).await.unwrap();
    add("rs-1", "RS256", NOW - 300).await.unwrap();
    add("rs-2", "RS256", NOW - 200).await.unwrap();
    assert_eq!(
        key_states(&*store).await,
        [
            "es-1 ES256 active",
            "rs-1 RS256 inactive",
            "rs-2 RS256 active"
        ]
    );

    // A third RS256 key drops the oldest RS256 key and leaves ES256 alone.
    add("rs-3", "RS256", NOW - 100).await.unwrap();
    assert_eq!(
        key_states(&*store).await,
        [
            "es-1 ES256 active",
            "rs-2 RS256 inactive",
            "rs-3 RS256 active"
        ]
    );
    add("es-2", "ES256", NOW - 50).await.unwrap();
    assert_eq!(
        key_states(&*store).await,
        [
            "es-1 ES256 inactive",
            "es-2 ES256 active",
            "rs-2 RS256 inactive",
            "rs-3 RS256 active"
        ]
    );
    let keys = store.signing_keys().await.unwrap();
    assert!(keys
        .iter()
        .any(|k| k.kid == "rs-3" && k.created_at == NOW - 100));

    let dup = add("rs-2", "RS256", NOW).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert_eq!(
        key_states(&*store).await.len(),
        4,
        "a failed add changes nothing"
    );
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
