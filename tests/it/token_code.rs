//! `grant_type=authorization_code` (RFC 6749 §4.1.3, OIDC Core §3.1.3, RFC 7636 §4.6,
//! RFC 9700 §2.1.1 and §4.5): the code is bound to its client, redirect URI and PKCE
//! challenge, expires, is single use, and a second redemption by the rightful client revokes
//! what the first one issued while other replays revoke nothing.

use crate::harness::*;
use crate::rp::*;

/// RFC 6749 §4.1.2: codes expire shortly (60 s here; 1 s for the test).
async fn expired_code(backend: Backend) {
    let (app, _) = app_with_user_and(backend, |c| c.code_ttl = 1).await;
    let client = register(&app, ClientSpec::default()).await;
    let pair = pkce();
    let code = authorize_code(
        &app,
        &browser(),
        &client.id,
        "openid",
        Some(&pair.challenge),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    redeem(&app, &client, &code, Some(&pair.verifier))
        .await
        .assert_error(400, "invalid_grant");
}

async fn code_binding_errors(backend: Backend) {
    let (app, _) = app_with_user(backend).await;
    let a = register(&app, ClientSpec::default()).await;
    let b = register(&app, ClientSpec::default()).await;
    let browser = browser();
    let grant = |code: &str, redirect_uri: &str, verifier: Option<&str>| {
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", redirect_uri.to_owned()),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v.to_owned()));
        }
        form
    };
    let send = |auth: Auth, form: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            token(app, &auth, &form).await
        }
    };

    // RFC 6749 §4.1.3: redirect_uri identical to the authorization request's.
    let pair = pkce();
    let code = authorize_code(&app, &browser, &a.id, "openid", Some(&pair.challenge)).await;
    send(
        a.auth(),
        grant(
            &code,
            "http://127.0.0.1:9/callback/other",
            Some(&pair.verifier),
        ),
    )
    .await
    .assert_error(400, "invalid_grant");
    // …and present.
    let code = authorize_code(&app, &browser, &a.id, "openid", Some(&pair.challenge)).await;
    send(
        a.auth(),
        vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("code_verifier", pair.verifier.clone()),
        ],
    )
    .await
    .assert_error(400, "invalid_request");

    // RFC 7636 §4.6: a code bound to a challenge needs the matching verifier.
    let code = authorize_code(&app, &browser, &a.id, "openid", Some(&pair.challenge)).await;
    send(a.auth(), grant(&code, REDIRECT_URI, None))
        .await
        .assert_error(400, "invalid_grant");
    let code = authorize_code(&app, &browser, &a.id, "openid", Some(&pair.challenge)).await;
    send(a.auth(), grant(&code, REDIRECT_URI, Some(&pkce().verifier)))
        .await
        .assert_error(400, "invalid_grant");
    let code = authorize_code(&app, &browser, &a.id, "openid", Some(&pair.challenge)).await;
    send(a.auth(), grant(&code, REDIRECT_URI, Some("too-short")))
        .await
        .assert_error(400, "invalid_grant");
    // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is refused.
    let code = authorize_code(&app, &browser, &a.id, "openid", None).await;
    send(a.auth(), grant(&code, REDIRECT_URI, Some(&pair.verifier)))
        .await
        .assert_error(400, "invalid_grant");

    // RFC 6749 §4.1.3: the code was issued to another client.
    let code = authorize_code(&app, &browser, &a.id, "openid", Some(&pair.challenge)).await;
    send(b.auth(), grant(&code, REDIRECT_URI, Some(&pair.verifier)))
        .await
        .assert_error(400, "invalid_grant");

    // Made-up code.
    send(
        a.auth(),
        grant("bm90LWEtY29kZQ", REDIRECT_URI, Some(&pair.verifier)),
    )
    .await
    .assert_error(400, "invalid_grant");

    // And the happy path still works for this client and browser.
    let code = authorize_code(&app, &browser, &a.id, "openid", None).await;
    send(a.auth(), grant(&code, REDIRECT_URI, None)).await.ok();
}

/// A code, redeemed once with PKCE; returns (code, verifier, token response).
async fn redeemed_code(
    app: &TestApp,
    browser: &reqwest::Client,
    client: &TestClient,
) -> (String, String, serde_json::Value) {
    let pair = pkce();
    let code = authorize_code(
        app,
        browser,
        &client.id,
        "openid offline_access",
        Some(&pair.challenge),
    )
    .await;
    let tokens = redeem(app, client, &code, Some(&pair.verifier))
        .await
        .ok()
        .clone();
    (code, pair.verifier, tokens)
}

async fn second_redemption_revokes_first_tokens(backend: Backend) {
    let (app, _) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let (code, verifier, tokens) = redeemed_code(&app, &browser(), &client).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    userinfo(&app, access).await.ok();

    // RFC 6749 §4.1.2 / RFC 9700 §4.5: the rightful client replays the code.
    redeem(&app, &client, &code, Some(&verifier))
        .await
        .assert_error(400, "invalid_grant");

    refresh(&app, &client, refresh_token, None)
        .await
        .assert_error(400, "invalid_grant");
    assert!(
        !is_active(&app, &client, access).await,
        "the first access token is revoked"
    );
    assert!(
        !is_active(&app, &client, refresh_token).await,
        "the first refresh token is revoked"
    );
    userinfo(&app, access)
        .await
        .assert_error(401, "invalid_token");
}

async fn second_redemption_without_pkce_revokes(backend: Backend) {
    let (app, _) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let code = authorize_code(&app, &browser(), &client.id, "openid offline_access", None).await;
    let tokens = redeem(&app, &client, &code, None).await.ok().clone();
    redeem(&app, &client, &code, None)
        .await
        .assert_error(400, "invalid_grant");
    assert!(!is_active(&app, &client, tokens["access_token"].as_str().unwrap()).await);
    refresh(
        &app,
        &client,
        tokens["refresh_token"].as_str().unwrap(),
        None,
    )
    .await
    .assert_error(400, "invalid_grant");
}

async fn replays_that_revoke_nothing(backend: Backend) {
    let (app, _) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let other = register(&app, ClientSpec::default()).await;
    let (code, verifier, tokens) = redeemed_code(&app, &browser(), &client).await;
    let access = tokens["access_token"].as_str().unwrap();

    // Bad verifier, no verifier, bad client auth, another (authenticated) client.
    redeem(&app, &client, &code, Some(&pkce().verifier))
        .await
        .assert_error(400, "invalid_grant");
    redeem(&app, &client, &code, None)
        .await
        .assert_error(400, "invalid_grant");
    let bad_auth = token(
        &app,
        &client.wrong_auth(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    bad_auth.assert_error(401, "invalid_client");
    redeem(&app, &other, &code, Some(&verifier))
        .await
        .assert_error(400, "invalid_grant");

    userinfo(&app, access).await.ok();
    assert!(is_active(&app, &client, access).await);
    refresh(
        &app,
        &client,
        tokens["refresh_token"].as_str().unwrap(),
        None,
    )
    .await
    .ok();
}

async fn code_response_shape(backend: Backend) {
    let (app, user) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let no_refresh_grant = register(
        &app,
        ClientSpec {
            grants: Some(vec!["authorization_code".into()]),
            ..Default::default()
        },
    )
    .await;
    let browser = browser();

    let tokens = signed_in_tokens(&app, &browser, &client, "openid profile offline_access").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(
        tokens["expires_in"].as_u64(),
        Some(app.state.config.access_token_ttl)
    );
    let mut scope: Vec<&str> = tokens["scope"].as_str().unwrap().split(' ').collect();
    scope.sort_unstable();
    assert_eq!(scope, ["offline_access", "openid", "profile"]);
    assert!(tokens["refresh_token"]
        .as_str()
        .is_some_and(|t| t.len() >= 32));
    let id = jwt_claims(
        tokens["id_token"]
            .as_str()
            .expect("OIDC Core §3.1.3.3: id_token"),
    );
    assert_eq!(id["iss"], app.base);
    assert_eq!(id["sub"], user.id);
    assert_eq!(id["aud"], client.id);
    assert_eq!(id["nonce"], NONCE);
    assert_eq!(
        id["at_hash"],
        salyk_idp::security::at_hash(tokens["access_token"].as_str().unwrap())
    );
    assert!(id["exp"].as_i64().unwrap() > id["iat"].as_i64().unwrap());

    // No offline_access → no refresh token.
    let tokens = signed_in_tokens(&app, &browser, &client, "openid profile").await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert!(tokens["id_token"].is_string());
    // The client lacks the refresh grant → no refresh token even with offline_access.
    let tokens = signed_in_tokens(&app, &browser, &no_refresh_grant, "openid offline_access").await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert!(tokens["access_token"].is_string());
}

both_backends!(
    expired_code,
    code_binding_errors,
    second_redemption_revokes_first_tokens,
    second_redemption_without_pkce_revokes,
    replays_that_revoke_nothing,
    code_response_shape,
);
