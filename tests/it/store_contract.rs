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

async fn drop_schema(url: &str, schema: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("connect to drop schema");
    sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .execute(&mut conn)
        .await
        .expect("drop test schema");
    let _ = conn.close().await;
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

// --- cases -----------------------------------------------------------------------------------

async fn users_roundtrip(store: Arc<dyn Store>) {
    let user = store
        .create_user(new_user("12345678901234001", "12345678901234"), NOW)
        .await
        .unwrap();
    assert!(
        uuid::Uuid::parse_str(&user.id).is_ok(),
        "id {} is not a uuid",
        user.id
    );
    assert_eq!(user.login, "12345678901234001");
    assert!(!user.blocked);
    assert_eq!(user.created_at, NOW);
    assert_eq!(user.full_name(), "Асанов Бакыт Эркинович");

    assert_eq!(
        store.user_by_id(&user.id).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(
        store.user_by_login(&user.login).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(
        store.user_by_inn(&user.inn).await.unwrap(),
        Some(user.clone())
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
    assert_eq!(
        (loaded.middle_name, loaded.password_hash, loaded.ugns_code),
        (None, None, None)
    );

    let dup_login = store
        .create_user(new_user(&user.login, "33333333333333"), NOW)
        .await;
    assert!(
        matches!(&dup_login, Err(StoreError::Conflict(rule)) if rule == "login"),
        "{dup_login:?}"
    );
    let dup_inn = store
        .create_user(new_user("33333333333333001", &user.inn), NOW)
        .await;
    assert!(
        matches!(&dup_inn, Err(StoreError::Conflict(rule)) if rule == "inn"),
        "{dup_inn:?}"
    );
    assert_eq!(store.user_by_inn("33333333333333").await.unwrap(), None);

    store.set_user_blocked(&user.id, true).await.unwrap();
    assert!(store.user_by_id(&user.id).await.unwrap().unwrap().blocked);
    store.set_user_blocked(&user.id, false).await.unwrap();
    assert!(
        !store
            .user_by_login(&user.login)
            .await
            .unwrap()
            .unwrap()
            .blocked
    );
    assert!(matches!(
        store.set_user_blocked("no-such-id", true).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn organizations_and_memberships(store: Arc<dyn Store>) {
    let head = org("01234567890123", AccountKind::Organization, None);
    let branch = org("01234567890124", AccountKind::Branch, Some(&head.inn));
    store.upsert_organization(&head).await.unwrap();
    store.upsert_organization(&branch).await.unwrap();
    assert_eq!(
        store.organization(&head.inn).await.unwrap(),
        Some(head.clone())
    );
    assert_eq!(
        store.organization(&branch.inn).await.unwrap(),
        Some(branch.clone())
    );
    assert_eq!(store.organization("99999999999999").await.unwrap(), None);

    // Upsert updates in place.
    let renamed = Organization {
        name: "ОсОО «Новое имя»".into(),
        liquidated: true,
        ..head.clone()
    };
    store.upsert_organization(&renamed).await.unwrap();
    assert_eq!(
        store.organization(&head.inn).await.unwrap(),
        Some(renamed.clone())
    );
    store.upsert_organization(&head).await.unwrap();

    let user = store
        .create_user(new_user("11111111111111001", "11111111111111"), NOW)
        .await
        .unwrap();
    let loner = store
        .create_user(new_user("44444444444444001", "44444444444444"), NOW)
        .await
        .unwrap();
    assert!(store
        .memberships_of_user(&loner.id)
        .await
        .unwrap()
        .is_empty());

    let unknown_org = Membership {
        org_inn: "99999999999999".into(),
        user_id: user.id.clone(),
        role: MemberRole::Head,
        blocked: false,
        comment: None,
    };
    let err = store.upsert_membership(&unknown_org).await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");
    let unknown_user = Membership {
        org_inn: head.inn.clone(),
        user_id: "no-such-user".into(),
        ..unknown_org.clone()
    };
    let err = store.upsert_membership(&unknown_user).await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");

    let mut at_head = Membership {
        org_inn: head.inn.clone(),
        user_id: user.id.clone(),
        role: MemberRole::Employee,
        blocked: false,
        comment: None,
    };
    store.upsert_membership(&at_head).await.unwrap();
    // Second upsert of the same pair replaces role, blocked and comment.
    at_head.role = MemberRole::Accountant;
    at_head.comment = Some("бухгалтер".into());
    store.upsert_membership(&at_head).await.unwrap();
    let at_branch = Membership {
        org_inn: branch.inn.clone(),
        user_id: user.id.clone(),
        role: MemberRole::Head,
        blocked: true,
        comment: Some("blocked by head".into()),
    };
    store.upsert_membership(&at_branch).await.unwrap();

    let mut got = store.memberships_of_user(&user.id).await.unwrap();
    got.sort_by(|a, b| a.0.org_inn.cmp(&b.0.org_inn));
    assert_eq!(got, vec![(at_head, head), (at_branch, branch)]);
    assert!(store
        .memberships_of_user(&loner.id)
        .await
        .unwrap()
        .is_empty());
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

async fn grant_and_refresh_token_roundtrip(store: Arc<dyn Store>) {
    let g = grant("g1", "u1", "individual:1");
    let rt = token("rt-1", "g1", NOW + 3600);
    store.create_grant(&g, Some(&rt)).await.unwrap();
    assert_eq!(store.grant("g1").await.unwrap(), Some(g.clone()));
    assert_eq!(
        store.refresh_token("rt-1").await.unwrap(),
        Some((rt, g.clone()))
    );

    let without = Grant {
        session_id: None,
        amr: vec!["pwd".into(), "otp".into()],
        ..grant("g2", "u1", "individual:1")
    };
    store.create_grant(&without, None).await.unwrap();
    assert_eq!(store.grant("g2").await.unwrap(), Some(without));

    assert_eq!(store.grant("g-missing").await.unwrap(), None);
    assert_eq!(store.refresh_token("rt-missing").await.unwrap(), None);
    assert!(matches!(
        store.create_grant(&g, None).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn rotate_live_token(store: Arc<dyn Store>) {
    let g = grant("g1", "u1", "individual:1");
    store
        .create_grant(&g, Some(&token("rt-1", "g1", NOW + 3600)))
        .await
        .unwrap();

    let outcome = store
        .rotate_refresh_token("rt-1", &token("rt-2", "g1", NOW + 7200), NOW)
        .await
        .unwrap();
    assert_eq!(outcome, RotateOutcome::Rotated(g.clone()));
    let (old, _) = store.refresh_token("rt-1").await.unwrap().unwrap();
    assert!(old.rotated);
    let (new, new_grant) = store.refresh_token("rt-2").await.unwrap().unwrap();
    assert_eq!(new, token("rt-2", "g1", NOW + 7200));
    assert_eq!(new_grant, g);

    // The new token works in turn.
    let outcome = store
        .rotate_refresh_token("rt-2", &token("rt-3", "g1", NOW + 9000), NOW + 10)
        .await
        .unwrap();
    assert_eq!(outcome, RotateOutcome::Rotated(g));
}

async fn rotate_reused_token_revokes_grant(store: Arc<dyn Store>) {
    store
        .create_grant(
            &grant("g1", "u1", "individual:1"),
            Some(&token("rt-1", "g1", NOW + 3600)),
        )
        .await
        .unwrap();
    let first = store
        .rotate_refresh_token("rt-1", &token("rt-2", "g1", NOW + 3600), NOW)
        .await
        .unwrap();
    assert!(matches!(first, RotateOutcome::Rotated(_)));

    let reuse = store
        .rotate_refresh_token("rt-1", &token("rt-x", "g1", NOW + 3600), NOW + 1)
        .await
        .unwrap();
    assert_eq!(
        reuse,
        RotateOutcome::Reused {
            grant_id: "g1".into()
        }
    );
    assert!(store.grant("g1").await.unwrap().unwrap().revoked);
    assert_eq!(
        store.refresh_token("rt-x").await.unwrap(),
        None,
        "no token stored on reuse"
    );

    // The legitimate successor dies with the grant.
    let successor = store
        .rotate_refresh_token("rt-2", &token("rt-3", "g1", NOW + 3600), NOW + 2)
        .await
        .unwrap();
    assert_eq!(successor, RotateOutcome::Invalid);
}

async fn rotate_invalid_tokens(store: Arc<dyn Store>) {
    store
        .create_grant(
            &grant("g1", "u1", "individual:1"),
            Some(&token("rt-old", "g1", NOW)),
        )
        .await
        .unwrap();
    store
        .create_grant(
            &grant("g2", "u1", "individual:1"),
            Some(&token("rt-rev", "g2", NOW + 3600)),
        )
        .await
        .unwrap();
    store.revoke_grant("g2").await.unwrap();

    let expired = store
        .rotate_refresh_token("rt-old", &token("n1", "g1", NOW + 3600), NOW)
        .await
        .unwrap();
    assert_eq!(expired, RotateOutcome::Invalid);
    let (old, g1) = store.refresh_token("rt-old").await.unwrap().unwrap();
    assert!(
        !old.rotated && !g1.revoked,
        "an expired token changes nothing"
    );

    let revoked = store
        .rotate_refresh_token("rt-rev", &token("n2", "g2", NOW + 3600), NOW)
        .await
        .unwrap();
    assert_eq!(revoked, RotateOutcome::Invalid);
    let unknown = store
        .rotate_refresh_token("rt-unknown", &token("n3", "g1", NOW + 3600), NOW)
        .await
        .unwrap();
    assert_eq!(unknown, RotateOutcome::Invalid);
    for digest in ["n1", "n2", "n3"] {
        assert_eq!(store.refresh_token(digest).await.unwrap(), None);
    }
}

async fn rotate_concurrently_has_one_winner(store: Arc<dyn Store>) {
    let g = grant("g1", "u1", "individual:1");
    store
        .create_grant(&g, Some(&token("rt-1", "g1", NOW + 3600)))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .rotate_refresh_token(
                        "rt-1",
                        &token(&format!("rt-new-{i}"), "g1", NOW + 7200),
                        NOW,
                    )
                    .await
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            RotateOutcome::Rotated(got) => {
                assert_eq!(got, g);
                winners += 1;
            }
            RotateOutcome::Reused { grant_id } => assert_eq!(grant_id, "g1"),
            RotateOutcome::Invalid => {}
        }
    }
    assert_eq!(winners, 1);
    let mut stored = 0;
    for i in 0..8 {
        if store
            .refresh_token(&format!("rt-new-{i}"))
            .await
            .unwrap()
            .is_some()
        {
            stored += 1;
        }
    }
    assert_eq!(stored, 1, "exactly one successor token is stored");
}

async fn revoke_grant_is_idempotent(store: Arc<dyn Store>) {
    store
        .create_grant(
            &grant("g1", "u1", "individual:1"),
            Some(&token("rt-1", "g1", NOW + 3600)),
        )
        .await
        .unwrap();
    store.revoke_grant("g1").await.unwrap();
    store.revoke_grant("g1").await.unwrap();
    store.revoke_grant("g-missing").await.unwrap();
    let (_, g) = store.refresh_token("rt-1").await.unwrap().unwrap();
    assert!(g.revoked);
    let outcome = store
        .rotate_refresh_token("rt-1", &token("rt-2", "g1", NOW + 3600), NOW)
        .await
        .unwrap();
    assert_eq!(outcome, RotateOutcome::Invalid);
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
    assert_eq!(by_key, vec!["g2".to_string(), "g3".to_string()]);
    assert!(!store.grant("g1").await.unwrap().unwrap().revoked);
    assert!(
        !store.grant("g4").await.unwrap().unwrap().revoked,
        "other users are untouched"
    );

    // Without a key: everything of the user still live (g5 was already revoked).
    let all = store.revoke_grants_of_user("u1", None).await.unwrap();
    assert_eq!(all, vec!["g1".to_string()]);
    for id in ["g1", "g2", "g3", "g5"] {
        assert!(store.grant(id).await.unwrap().unwrap().revoked, "{id}");
    }
    assert!(!store.grant("g4").await.unwrap().unwrap().revoked);
    assert!(store
        .revoke_grants_of_user("u1", None)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .revoke_grants_of_user("nobody", None)
        .await
        .unwrap()
        .is_empty());
}

async fn purge_expired(store: Arc<dyn Store>) {
    store
        .create_grant(
            &grant("g1", "u1", "individual:1"),
            Some(&token("a", "g1", NOW - 100)),
        )
        .await
        .unwrap();
    store
        .create_grant(
            &grant("g2", "u1", "individual:1"),
            Some(&token("b", "g2", NOW - 1)),
        )
        .await
        .unwrap();
    store
        .create_grant(
            &grant("g3", "u1", "individual:1"),
            Some(&token("c", "g3", NOW + 100)),
        )
        .await
        .unwrap();
    assert_eq!(store.purge_expired(NOW).await.unwrap(), 2);
    assert_eq!(store.refresh_token("a").await.unwrap(), None);
    assert_eq!(store.refresh_token("b").await.unwrap(), None);
    assert!(store.refresh_token("c").await.unwrap().is_some());
    assert!(
        store.grant("g1").await.unwrap().is_some(),
        "grants are kept"
    );
    assert_eq!(store.purge_expired(NOW).await.unwrap(), 0);
}

async fn signing_key_rotation(store: Arc<dyn Store>) {
    assert!(store.signing_keys().await.unwrap().is_empty());
    store
        .add_signing_key(&key("es-1", "ES256", NOW - 500))
        .await
        .unwrap();
    store
        .add_signing_key(&key("rs-1", "RS256", NOW - 300))
        .await
        .unwrap();
    store
        .add_signing_key(&key("rs-2", "RS256", NOW - 200))
        .await
        .unwrap();

    let by_kid = |keys: Vec<SigningKeyMeta>| {
        let mut keys = keys;
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        keys.into_iter()
            .map(|k| (k.kid, k.alg, k.active))
            .collect::<Vec<_>>()
    };
    let s = |x: &str| x.to_string();
    assert_eq!(
        by_kid(store.signing_keys().await.unwrap()),
        vec![
            (s("es-1"), s("ES256"), true),
            (s("rs-1"), s("RS256"), false),
            (s("rs-2"), s("RS256"), true)
        ]
    );

    store
        .add_signing_key(&key("es-2", "ES256", NOW - 150))
        .await
        .unwrap();
    store
        .add_signing_key(&key("rs-3", "RS256", NOW - 100))
        .await
        .unwrap();
    let keys = store.signing_keys().await.unwrap();
    assert!(keys
        .iter()
        .any(|k| k.kid == "rs-3" && k.created_at == NOW - 100));
    assert_eq!(
        by_kid(keys),
        vec![
            (s("es-1"), s("ES256"), false),
            (s("es-2"), s("ES256"), true),
            (s("rs-2"), s("RS256"), false),
            (s("rs-3"), s("RS256"), true),
        ]
    );

    let dup = store.add_signing_key(&key("rs-2", "RS256", NOW)).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert_eq!(
        store.signing_keys().await.unwrap().len(),
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
