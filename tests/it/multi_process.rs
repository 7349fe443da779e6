//! Two provider processes on one PostgreSQL schema, one Redis prefix and one keys directory
//! (`TestApp::spawn_sibling`), as behind a load balancer: the SSO session of one holds on
//! the other, a code is single-use across both, and the same code redeemed on both at once
//! has exactly one winner. Production backends only (the embedded ones are one process).
//! Both answer under A's issuer URL, so tokens from either are valid at both.

use crate::harness::*;
use crate::rp::*;

/// Process A with the test user, and its sibling B; `None` without the production backends.
async fn pair() -> Option<(TestApp, TestApp)> {
    if !production_available() {
        return None;
    }
    let (a, _) = app_with_user(Backend::Production).await;
    let b = a.spawn_sibling().await;
    Some((a, b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_session_holds_across_processes() {
    let Some((a, b)) = pair().await else { return };
    let client = register(&a, ClientSpec::default()).await;
    let browser = browser();
    // Sign in (password + account choice) on A.
    authorize_code(&a, &browser, &client.id, "openid", None).await;

    // The same browser at B: no sign-in page, no account page, straight back to the client.
    let pkce = pkce();
    let response = browser
        .get(authorize_url(
            &b,
            &client.id,
            "openid",
            Some(&pkce.challenge),
        ))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let next = location(&response);
    assert!(
        next.starts_with(REDIRECT_URI),
        "B asked the user again: {next}"
    );
    let params = location_params(&response);
    assert_eq!(
        params["iss"], b.state.config.issuer,
        "RFC 9207: B answers as the shared issuer"
    );
    let tokens = redeem(&b, &client, &params["code"], Some(&pkce.verifier)).await;
    let id = jwt_claims(tokens.ok()["id_token"].as_str().unwrap());
    assert!(id["sid"].is_string());
    userinfo(&b, tokens.json["access_token"].as_str().unwrap())
        .await
        .ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_from_one_process_is_single_use_on_both() {
    let Some((a, b)) = pair().await else { return };
    let client = register(&a, ClientSpec::default()).await;
    let browser = browser();
    let pkce = pkce();
    let code = authorize_code(
        &a,
        &browser,
        &client.id,
        "openid offline_access",
        Some(&pkce.challenge),
    )
    .await;

    let on_b = redeem(&b, &client, &code, Some(&pkce.verifier)).await;
    let tokens = on_b.ok().clone();
    let access = tokens["access_token"].as_str().unwrap();
    userinfo(&b, access).await.ok();

    // Refused on A; and as a replay by the rightful client it revokes what B issued.
    redeem(&a, &client, &code, Some(&pkce.verifier))
        .await
        .assert_error(400, "invalid_grant");
    userinfo(&b, access)
        .await
        .assert_error(401, "invalid_token");
    refresh(&b, &client, tokens["refresh_token"].as_str().unwrap(), None)
        .await
        .assert_error(400, "invalid_grant");
    refresh(&a, &client, tokens["refresh_token"].as_str().unwrap(), None)
        .await
        .assert_error(400, "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redemption_has_one_winner() {
    let Some((a, b)) = pair().await else { return };
    let client = register(&a, ClientSpec::default()).await;
    let browser = browser();
    for round in 0..20 {
        let pkce = pkce();
        let code = authorize_code(&a, &browser, &client.id, "openid", Some(&pkce.challenge)).await;
        let (on_a, on_b) = tokio::join!(
            redeem(&a, &client, &code, Some(&pkce.verifier)),
            redeem(&b, &client, &code, Some(&pkce.verifier))
        );
        let mut statuses = [on_a.status.as_u16(), on_b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [200, 400],
            "round {round}: A {} / B {}",
            on_a.text,
            on_b.text
        );
        let loser = if on_a.status == 400 { &on_a } else { &on_b };
        assert_eq!(loser.error(), "invalid_grant", "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_issuer_many_processes() {
    if !production_available() {
        return;
    }
    let (a, _) = app_with_user(Backend::Production).await;
    let b = a.spawn_sibling().await;
    let client = register(&a, ClientSpec::default()).await;
    let browser = browser();
    let from_a = signed_in_tokens(&a, &browser, &client, "openid offline_access").await;
    let access = from_a["access_token"].as_str().unwrap();

    // What A issued is honoured by B, and the other way round.
    userinfo(&b, access).await.ok();
    assert!(is_active(&b, &client, access).await);
    let from_b = refresh(&b, &client, from_a["refresh_token"].as_str().unwrap(), None)
        .await
        .ok()
        .clone();
    let b_access = from_b["access_token"].as_str().unwrap();
    userinfo(&a, b_access).await.ok();
    // A revocation on one process holds on the other.
    assert_eq!(revoke(&b, &client, b_access).await.status, 200);
    userinfo(&a, b_access)
        .await
        .assert_error(401, "invalid_token");
    // B's rotation retired A's refresh token: reusing it on A ends the family everywhere.
    refresh(&a, &client, from_a["refresh_token"].as_str().unwrap(), None)
        .await
        .assert_error(400, "invalid_grant");
    refresh(&b, &client, from_b["refresh_token"].as_str().unwrap(), None)
        .await
        .assert_error(400, "invalid_grant");
    userinfo(&b, access)
        .await
        .assert_error(401, "invalid_token");

    // Key rotation by one process reaches the other through the shared database.
    let before = signed_in_tokens(&a, &browser, &client, "openid").await;
    let created = salyk_idp::keys::rotate(a.state.store.as_ref(), &a.state.config.keys_dir)
        .await
        .unwrap();
    assert!(a
        .state
        .keys
        .reload_if_changed(a.state.store.as_ref())
        .await
        .unwrap());
    assert!(
        b.state
            .keys
            .reload_if_changed(b.state.store.as_ref())
            .await
            .unwrap(),
        "B sees the rotation in the shared database"
    );
    let jwks_a = http()
        .get(a.url("/jwks"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let jwks_b = http()
        .get(b.url("/jwks"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(jwks_a, jwks_b, "both processes publish the same JWKS");
    let after = signed_in_tokens(&a, &browser, &client, "openid").await;
    let kid = jwt_header(after["access_token"].as_str().unwrap())["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(created.iter().any(|m| m.kid == kid));
    userinfo(&b, after["access_token"].as_str().unwrap())
        .await
        .ok();
    userinfo(&b, before["access_token"].as_str().unwrap())
        .await
        .ok();
}
