//! Contract cases for grants, refresh-token rotation and signing keys (`GrantStore`,
//! `KeyStore`), run against both backends by the runner of `store_contract`.

use std::sync::Arc;

use salyk_idp::store::*;

use crate::store_contract::{contract_cases, run_postgres, run_sqlite, NOW};

contract_cases!(
    grant_and_refresh_token_roundtrip,
    rotate_live_token,
    rotate_reused_token_revokes_grant,
    rotate_invalid_tokens,
    rotate_concurrently_has_one_winner,
    revoke_grant_is_idempotent,
    revoke_grants_of_user,
    purge_expired,
    signing_key_rotation,
);

// --- fixtures --------------------------------------------------------------------------------

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
