//! The directory cache (`store::cached`) as operators meet it: a change made outside the
//! serving process — the `idp` CLI, or a sibling process behind the same load balancer —
//! reaches the running server within `IDP_DIRECTORY_CACHE_MS`, and a change made by the
//! serving process itself holds at once. (That every write through the cache is read back
//! at once is in the store contract suite, `cached_*`.)

use crate::harness::*;
use crate::rp::*;

async fn client_credentials(app: &TestApp, client: &TestClient) -> Reply {
    token(app, &client.auth(), &[("grant_type", "client_credentials")]).await
}

async fn cli_disable_reaches_the_running_server(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = register(
        &app,
        ClientSpec {
            grants: Some(vec!["client_credentials".into()]),
            ..Default::default()
        },
    )
    .await;
    // Twice: the second answer comes from the cache.
    client_credentials(&app, &client).await.ok();
    client_credentials(&app, &client).await.ok();

    let out = app.idp(&["client", "disable", &client.id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually("a client disabled with the CLI", || async {
        let reply = client_credentials(&app, &client).await;
        reply.status == 401 && reply.error() == "invalid_client"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_disable_reaches_the_running_server_embedded() {
    cli_disable_reaches_the_running_server(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_disable_reaches_the_running_server_production() {
    if !production_available() {
        return;
    }
    cli_disable_reaches_the_running_server(Backend::Production).await;
}

/// A blocks the user: A refuses the user's access token at once, B (which had the user
/// cached) within the refresh period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_in_one_process_reaches_its_sibling() {
    if !production_available() {
        return;
    }
    let (a, user) = app_with_user(Backend::Production).await;
    let b = a.spawn_sibling().await;
    let client = register(&a, ClientSpec::default()).await;
    let tokens = signed_in_tokens(&a, &browser(), &client, "openid profile").await;
    let access = tokens["access_token"].as_str().unwrap();
    for app in [&a, &b, &a, &b] {
        userinfo(app, access).await.ok();
    }

    a.state
        .store
        .set_user_blocked(&user.id, true)
        .await
        .unwrap();
    userinfo(&a, access)
        .await
        .assert_error(401, "invalid_token");
    eventually("a user blocked by the sibling process", || async {
        userinfo(&b, access).await.status == 401
    })
    .await;
    userinfo(&b, access)
        .await
        .assert_error(401, "invalid_token");
}
