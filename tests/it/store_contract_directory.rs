//! Contract cases for what the directory cache (`store::cached`) relies on: the directory
//! generation moves with every change to clients, users, organizations and memberships, and
//! a lookup after a change returns the changed row. Run against both backends, and through
//! the cache in front of each, by the runner of `store_contract`.

use std::sync::Arc;

use salyk_idp::store::*;
use serde_json::json;

use crate::store_contract::{add_user, client, contract_cases, org, run_postgres, run_sqlite, NOW};

contract_cases!(
    directory_generation_moves_with_directory_changes,
    reads_follow_writes_at_once,
);

/// Every change to clients, users, organizations or memberships moves the generation (other
/// processes' caches learn of it so); grants, consents and the audit log do not (the token
/// endpoint writes them all the time and must not empty every cache).
async fn directory_generation_moves_with_directory_changes(store: Arc<dyn Store>) {
    let mut last = store.directory_generation().await.unwrap();
    let mut moved = |now: i64, what: &str| {
        assert!(now > last, "{what}: generation {now} after {last}");
        last = now;
    };
    let user = add_user(&*store, "12345678901234001", "12345678901234").await;
    moved(store.directory_generation().await.unwrap(), "create_user");
    store.set_user_blocked(&user.id, true).await.unwrap();
    moved(
        store.directory_generation().await.unwrap(),
        "set_user_blocked",
    );
    let head = org("01234567890123", AccountKind::Organization, None);
    store.upsert_organization(&head).await.unwrap();
    moved(
        store.directory_generation().await.unwrap(),
        "upsert_organization",
    );
    let membership = Membership {
        org_inn: head.inn.clone(),
        user_id: user.id.clone(),
        role: MemberRole::Head,
        blocked: false,
        comment: None,
    };
    store.upsert_membership(&membership).await.unwrap();
    moved(
        store.directory_generation().await.unwrap(),
        "upsert_membership",
    );
    store.create_client(&client("rp")).await.unwrap();
    moved(store.directory_generation().await.unwrap(), "create_client");
    assert!(store.set_client_disabled("rp", true).await.unwrap());
    moved(
        store.directory_generation().await.unwrap(),
        "set_client_disabled",
    );

    let consent = Consent {
        user_id: user.id.clone(),
        client_id: "rp".into(),
        account_key: "individual:12345678901234".into(),
        scopes: vec!["openid".into()],
        updated_at: NOW,
    };
    store.save_consent(&consent).await.unwrap();
    store
        .record(&AuditEvent {
            at: NOW,
            kind: "sign_in.success".into(),
            actor: Some(user.id.clone()),
            subject: None,
            detail: json!(null),
        })
        .await
        .unwrap();
    assert_eq!(store.directory_generation().await.unwrap(), last);
}

/// What a lookup returns after a change is the changed row, on every store — the directory
/// cache in front of a backend included (its poll is too rare to help in `cached_*`).
async fn reads_follow_writes_at_once(store: Arc<dyn Store>) {
    let user = add_user(&*store, "12345678901234001", "12345678901234").await;
    let head = org("01234567890123", AccountKind::Organization, None);
    store.upsert_organization(&head).await.unwrap();
    store.create_client(&client("rp")).await.unwrap();

    assert!(!store.client("rp").await.unwrap().unwrap().disabled);
    assert!(store.set_client_disabled("rp", true).await.unwrap());
    assert!(store.client("rp").await.unwrap().unwrap().disabled);

    assert!(!store.user_by_id(&user.id).await.unwrap().unwrap().blocked);
    store.set_user_blocked(&user.id, true).await.unwrap();
    assert!(store.user_by_id(&user.id).await.unwrap().unwrap().blocked);

    let (_, none) = store
        .user_with_membership(&user.id, &head.inn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(none, None);
    let membership = Membership {
        org_inn: head.inn.clone(),
        user_id: user.id.clone(),
        role: MemberRole::Accountant,
        blocked: false,
        comment: None,
    };
    store.upsert_membership(&membership).await.unwrap();
    let (found_user, found) = store
        .user_with_membership(&user.id, &head.inn)
        .await
        .unwrap()
        .unwrap();
    assert!(found_user.blocked);
    assert_eq!(found, Some((membership.clone(), head.clone())));
    let blocked = Membership {
        blocked: true,
        comment: Some("уволен".into()),
        ..membership
    };
    store.upsert_membership(&blocked).await.unwrap();
    let liquidated = Organization {
        liquidated: true,
        ..head.clone()
    };
    store.upsert_organization(&liquidated).await.unwrap();
    let (_, found) = store
        .user_with_membership(&user.id, &head.inn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, Some((blocked, liquidated)));
}
