//! What `/token` issues: JWT access tokens (RFC 9068 §2), ES256 per client, an access-token
//! algorithm apart from the ID token's (verified by the `openidconnect` library), the
//! refresh-token grant (RFC 6749 §6, OIDC Core §12, RFC 9700 §4.14: rotation, reuse
//! detection, scope narrowing, client binding, rotation off for a confidential client, a
//! blocked user) and client credentials (RFC 6749 §4.4).

use openidconnect::core::{CoreIdToken, CoreJwsSigningAlgorithm};
use openidconnect::Nonce;
use salyk_idp::store::ClientAuthMethod;

use crate::harness::*;
use crate::oidc_flow::library_client;
use crate::rp::*;

async fn access_token_is_rfc9068_jwt(backend: Backend) {
    let (app, user) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let browser = browser();
    let tokens = signed_in_tokens(&app, &browser, &client, "openid profile").await;
    let access = tokens["access_token"].as_str().unwrap();

    let header = jwt_header(access);
    assert_eq!(header["typ"], "at+jwt", "RFC 9068 §2.1");
    assert_eq!(header["alg"], "RS256");
    assert!(header["kid"].is_string());
    let claims = verify_with_jwks(&app, access).await;
    assert_eq!(claims["iss"], app.base);
    assert_eq!(claims["sub"], user.id);
    assert!(
        claims["aud"].is_string() || claims["aud"].is_array(),
        "RFC 9068 §2.2: aud"
    );
    assert_eq!(claims["client_id"], client.id);
    assert_eq!(claims["scope"], "openid profile");
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(
        exp - iat,
        i64::try_from(app.state.config.access_token_ttl).unwrap()
    );
    assert!((iat - salyk_idp::clock::now()).abs() < 60);
    let jti = claims["jti"].as_str().expect("jti").to_owned();
    let again = signed_in_tokens(&app, &browser, &client, "openid").await;
    assert_ne!(
        jwt_claims(again["access_token"].as_str().unwrap())["jti"],
        jti.as_str(),
        "jti is unique"
    );

    // An ID token is not an access token (RFC 9068 §4: typ is checked).
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(jwt_header(id_token)["typ"], "JWT");
    let refused = userinfo(&app, id_token).await;
    refused.assert_error(401, "invalid_token");
    assert!(refused
        .header("www-authenticate")
        .is_some_and(|h| h.contains("error=\"invalid_token\"")));
}

async fn es256_client(backend: Backend) {
    let (app, user) = app_with_user(backend).await;
    let client = register(
        &app,
        ClientSpec {
            alg: Some("ES256".into()),
            ..Default::default()
        },
    )
    .await;
    let tokens = signed_in_tokens(&app, &browser(), &client, "openid offline_access").await;
    let raw_id = tokens["id_token"].as_str().unwrap();
    assert_eq!(jwt_header(raw_id)["alg"], "ES256");
    assert_eq!(
        jwt_header(tokens["access_token"].as_str().unwrap())["alg"],
        "ES256"
    );

    let oidc = library_client(&app, &client.id, client.secret.clone()).await;
    let id_token: CoreIdToken = raw_id.parse().expect("ID token");
    let nonce = Nonce::new(NONCE.into());
    // An RS256-only verifier refuses it: the token really is ES256.
    let rs256_only = oidc
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
    assert!(id_token.claims(&rs256_only, &nonce).is_err());
    let verifier = oidc
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("ES256 ID token verified by the library");
    assert_eq!(claims.subject().as_str(), user.id);

    userinfo(&app, tokens["access_token"].as_str().unwrap())
        .await
        .ok();
    let refreshed = refresh(
        &app,
        &client,
        tokens["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    let id_token: CoreIdToken = refreshed.ok()["id_token"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(jwt_header(&id_token.to_string())["alg"], "ES256");
}

/// An RS256 ID token with ES256 access tokens: each token carries its own algorithm, the
/// RP's library verifies the ID token, and the access token still works at userinfo and
/// introspection, after a refresh too.
async fn access_token_alg_apart_from_id_token(backend: Backend) {
    let (app, user) = app_with_user(backend).await;
    let client = register(
        &app,
        ClientSpec {
            alg: Some("RS256".into()),
            access_token_alg: Some("ES256".into()),
            ..Default::default()
        },
    )
    .await;
    let tokens = signed_in_tokens(&app, &browser(), &client, "openid offline_access").await;
    let check = |tokens: &serde_json::Value| {
        let id_token = tokens["id_token"].as_str().unwrap().to_owned();
        let access_token = tokens["access_token"].as_str().unwrap().to_owned();
        assert_eq!(jwt_header(&id_token)["alg"], "RS256");
        assert_eq!(jwt_header(&access_token)["alg"], "ES256");
        assert_eq!(jwt_header(&access_token)["typ"], "at+jwt");
        (id_token, access_token)
    };
    let (raw_id, access_token) = check(&tokens);

    let oidc = library_client(&app, &client.id, client.secret.clone()).await;
    let id_token: CoreIdToken = raw_id.parse().expect("ID token");
    let verifier = oidc
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
    let claims = id_token
        .claims(&verifier, &Nonce::new(NONCE.into()))
        .expect("RS256 ID token verified by the library");
    assert_eq!(claims.subject().as_str(), user.id);
    // at_hash binds the ID token to the ES256 access token (both hash with SHA-256).
    let at_hash = claims.access_token_hash().expect("at_hash").to_string();
    assert_eq!(at_hash, left_half_sha256(&access_token));

    assert_eq!(userinfo(&app, &access_token).await.ok()["sub"], user.id);
    assert_eq!(
        introspect(&app, &client, &access_token).await.ok()["active"],
        true
    );
    let refreshed = refresh(
        &app,
        &client,
        tokens["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    let (_, access_token) = check(refreshed.ok());
    assert_eq!(userinfo(&app, &access_token).await.ok()["sub"], user.id);
}

fn left_half_sha256(token: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

async fn refresh_rotation_and_reuse(backend: Backend) {
    let (app, user) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let tokens = signed_in_tokens(&app, &browser(), &client, "openid profile offline_access").await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let first_id = jwt_claims(tokens["id_token"].as_str().unwrap());

    let second = refresh(&app, &client, first, None).await;
    let second = second.ok();
    assert_eq!(second["token_type"], "Bearer");
    let second_refresh = second["refresh_token"].as_str().expect("rotated");
    assert_ne!(second_refresh, first);
    // OIDC Core §12.2: same iss, sub, aud, auth_time; no nonce.
    let id = jwt_claims(second["id_token"].as_str().expect("ID token on refresh"));
    assert_eq!(id["iss"], first_id["iss"]);
    assert_eq!(id["sub"], user.id);
    assert_eq!(id["aud"], client.id);
    assert_eq!(id["auth_time"], first_id["auth_time"]);
    assert!(id.get("nonce").is_none(), "{id}");

    let third = refresh(&app, &client, second_refresh, None).await;
    let third = third.ok().clone();
    let live_access = third["access_token"].as_str().unwrap();
    userinfo(&app, live_access).await.ok();

    // RFC 9700 §4.14.2: a rotated token presented again revokes the whole family.
    refresh(&app, &client, first, None)
        .await
        .assert_error(400, "invalid_grant");
    refresh(
        &app,
        &client,
        third["refresh_token"].as_str().unwrap(),
        None,
    )
    .await
    .assert_error(400, "invalid_grant");
    assert!(!is_active(&app, &client, live_access).await);
    userinfo(&app, live_access)
        .await
        .assert_error(401, "invalid_token");
}

async fn refresh_scope_narrowing(backend: Backend) {
    let (app, _) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let browser = browser();
    let tokens = signed_in_tokens(&app, &browser, &client, "openid profile offline_access").await;

    let narrow = refresh(
        &app,
        &client,
        tokens["refresh_token"].as_str().unwrap(),
        Some("openid"),
    )
    .await;
    let narrow = narrow.ok().clone();
    assert_eq!(narrow["scope"], "openid");
    let access = narrow["access_token"].as_str().unwrap();
    assert_eq!(jwt_claims(access)["scope"], "openid");
    let info = userinfo(&app, access).await;
    assert!(
        info.ok().get("family_name").is_none(),
        "profile was not requested: {}",
        info.text
    );
    // RFC 6749 §6: the new refresh token keeps the original grant's scope.
    let full = refresh(
        &app,
        &client,
        narrow["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    let full = full.ok().clone();
    let mut scope: Vec<&str> = full["scope"].as_str().unwrap().split(' ').collect();
    scope.sort_unstable();
    assert_eq!(scope, ["offline_access", "openid", "profile"]);

    // Widening is refused, and the refused request spends nothing.
    let small = signed_in_tokens(&app, &browser, &client, "openid offline_access").await;
    let small_refresh = small["refresh_token"].as_str().unwrap();
    refresh(&app, &client, small_refresh, Some("openid profile"))
        .await
        .assert_error(400, "invalid_scope");
    refresh(&app, &client, small_refresh, Some("openid email"))
        .await
        .assert_error(400, "invalid_scope");
    refresh(&app, &client, small_refresh, None).await.ok();
}

async fn refresh_bound_to_client(backend: Backend) {
    let (app, _) = app_with_user(backend).await;
    let owner = register(&app, ClientSpec::default()).await;
    let thief = register(&app, ClientSpec::default()).await;
    let tokens = signed_in_tokens(&app, &browser(), &owner, "openid offline_access").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();

    refresh(&app, &thief, refresh_token, None)
        .await
        .assert_error(400, "invalid_grant");
    refresh(&app, &owner, "not-a-refresh-token", None)
        .await
        .assert_error(400, "invalid_grant");
    token(&app, &owner.auth(), &[("grant_type", "refresh_token")])
        .await
        .assert_error(400, "invalid_request");
    // The other client's attempt neither spent nor revoked it.
    refresh(&app, &owner, refresh_token, None).await.ok();
}

async fn no_rotation_client(backend: Backend) {
    let (app, _) = app_with_user(backend).await;
    let client = register(
        &app,
        ClientSpec {
            no_rotation: true,
            ..Default::default()
        },
    )
    .await;
    let tokens = signed_in_tokens(&app, &browser(), &client, "openid offline_access").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let mut accesses = Vec::new();
    for _ in 0..5 {
        let reply = refresh(&app, &client, refresh_token, None).await;
        let body = reply.ok();
        // RFC 6749 §6: a new refresh token is optional; if one comes back it must be the same.
        if let Some(returned) = body.get("refresh_token") {
            assert_eq!(returned, refresh_token);
        }
        accesses.push(body["access_token"].as_str().unwrap().to_owned());
    }
    for access in &accesses {
        userinfo(&app, access).await.ok();
    }
    assert!(is_active(&app, &client, refresh_token).await);
}

async fn blocked_user_refresh(backend: Backend) {
    let (app, user) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let tokens = signed_in_tokens(&app, &browser(), &client, "openid offline_access").await;
    let access = tokens["access_token"].as_str().unwrap();
    userinfo(&app, access).await.ok();

    app.state
        .store
        .set_user_blocked(&user.id, true)
        .await
        .unwrap();
    refresh(
        &app,
        &client,
        tokens["refresh_token"].as_str().unwrap(),
        None,
    )
    .await
    .assert_error(400, "invalid_grant");
    let refused = userinfo(&app, access).await;
    refused.assert_error(401, "invalid_token");
    assert!(refused
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Bearer")));
    // Unblocking does not bring the ended grant back.
    app.state
        .store
        .set_user_blocked(&user.id, false)
        .await
        .unwrap();
    refresh(
        &app,
        &client,
        tokens["refresh_token"].as_str().unwrap(),
        None,
    )
    .await
    .assert_error(400, "invalid_grant");
}

async fn client_credentials_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let service = register(
        &app,
        ClientSpec {
            grants: Some(vec!["client_credentials".into()]),
            ..Default::default()
        },
    )
    .await;
    let post_service = register(
        &app,
        ClientSpec {
            grants: Some(vec!["client_credentials".into()]),
            auth_method: Some(ClientAuthMethod::ClientSecretPost),
            alg: Some("ES256".into()),
            ..Default::default()
        },
    )
    .await;
    let public = register(
        &app,
        ClientSpec {
            auth_method: Some(ClientAuthMethod::None),
            ..Default::default()
        },
    )
    .await;

    for client in [&service, &post_service] {
        let reply = token(
            &app,
            &client.auth(),
            &[("grant_type", "client_credentials")],
        )
        .await;
        let body = reply.ok();
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(body["token_type"], "Bearer");
        assert!(
            body.get("id_token").is_none() && body.get("refresh_token").is_none(),
            "RFC 6749 §4.4.3: {body}"
        );
        // RFC 6749 §3.3: a scope value is one or more scope tokens, never empty.
        if let Some(scope) = body.get("scope") {
            assert!(
                scope.as_str().is_some_and(|s| !s.trim().is_empty()),
                "ill-formed scope in {body}"
            );
        }
        let access = body["access_token"].as_str().unwrap();
        assert_eq!(jwt_header(access)["typ"], "at+jwt");
        let claims = verify_with_jwks(&app, access).await;
        let introspected = introspect(&app, client, access).await.ok().clone();
        for scope in [claims.get("scope"), introspected.get("scope")]
            .into_iter()
            .flatten()
        {
            assert!(
                scope.as_str().is_some_and(|s| !s.trim().is_empty()),
                "ill-formed scope in {claims} / {introspected}"
            );
        }
        assert_eq!(
            claims["sub"], client.id,
            "RFC 9068 §2.2: sub is the client itself"
        );
        assert_eq!(claims["client_id"], client.id);
        assert_eq!(claims["iss"], app.base);
        assert!(is_active(&app, client, access).await);

        let openid = token(
            &app,
            &client.auth(),
            &[("grant_type", "client_credentials"), ("scope", "openid")],
        )
        .await;
        openid.assert_error(400, "invalid_scope");
        let offline = token(
            &app,
            &client.auth(),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "offline_access"),
            ],
        )
        .await;
        offline.assert_error(400, "invalid_scope");
    }
    // A public client cannot authenticate, so it can never use this grant.
    let refused = token(
        &app,
        &public.auth(),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert!(
        matches!(
            (refused.status.as_u16(), refused.error()),
            (400, "unauthorized_client") | (401, "invalid_client")
        ),
        "{}",
        refused.text
    );
    assert!(refused.json.get("access_token").is_none());
}

both_backends!(
    access_token_is_rfc9068_jwt,
    es256_client,
    access_token_alg_apart_from_id_token,
    refresh_rotation_and_reuse,
    refresh_scope_narrowing,
    refresh_bound_to_client,
    no_rotation_client,
    blocked_user_refresh,
    client_credentials_grant,
);
