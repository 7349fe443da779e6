//! Reusable refresh tokens (a client with rotation off) are kept in memory by each process
//! for a while (`oidc::token::reusable`); revoking one must still hold at once — on the
//! process that revoked it and on every other.

use crate::harness::*;
use crate::rp::*;

fn reusable_client_spec() -> ClientSpec {
    ClientSpec {
        no_rotation: true,
        ..Default::default()
    }
}

/// Uses the token until every process below has it in memory, then revokes it at `revoker`.
async fn revoke_a_remembered_token(apps: &[&TestApp], revoker: &TestApp) {
    let client = register(apps[0], reusable_client_spec()).await;
    let tokens = signed_in_tokens(apps[0], &browser(), &client, "openid offline_access").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        for app in apps {
            let reply = refresh(app, &client, &refresh_token, None).await;
            assert!(
                reply.ok().get("refresh_token").is_none(),
                "rotation is off: no new refresh token"
            );
        }
    }

    assert_eq!(revoke(revoker, &client, &refresh_token).await.status, 200);
    for app in apps {
        refresh(app, &client, &refresh_token, None)
            .await
            .assert_error(400, "invalid_grant");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_reusable_token_stops_at_once_embedded() {
    let (app, _) = app_with_user(Backend::Embedded).await;
    revoke_a_remembered_token(&[&app], &app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_reusable_token_stops_at_once_on_every_process() {
    if !production_available() {
        return;
    }
    let (a, _) = app_with_user(Backend::Production).await;
    let b = a.spawn_sibling().await;
    revoke_a_remembered_token(&[&a, &b], &b).await;
}

/// A blocked user's reusable token ends with the block (the grant is revoked when the
/// account is found gone, and the remembered token is not used after that).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_users_reusable_token_stops() {
    let (app, user) = app_with_user(Backend::Embedded).await;
    let client = register(&app, reusable_client_spec()).await;
    let tokens = signed_in_tokens(&app, &browser(), &client, "openid offline_access").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    refresh(&app, &client, refresh_token, None).await.ok();
    refresh(&app, &client, refresh_token, None).await.ok();

    app.state
        .store
        .set_user_blocked(&user.id, true)
        .await
        .unwrap();
    refresh(&app, &client, refresh_token, None)
        .await
        .assert_error(400, "invalid_grant");
    app.state
        .store
        .set_user_blocked(&user.id, false)
        .await
        .unwrap();
    refresh(&app, &client, refresh_token, None)
        .await
        .assert_error(400, "invalid_grant");
}
