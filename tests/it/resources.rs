//! The endpoints that take tokens back: `/userinfo` (OIDC Core §5.3, RFC 6750 §2–3: bearer
//! header or form body, `WWW-Authenticate` on every error, the claims of O2), `/revoke`
//! (RFC 7009) and `/introspect` (RFC 7662: client-authenticated, a dead token is exactly
//! `{"active": false}`).

use std::time::Duration;

use base64::Engine;

use salyk_idp::store::ClientAuthMethod;
use serde_json::json;

use crate::harness::*;
use crate::rp::*;

async fn userinfo_transports(backend: Backend) {
    let (app, user) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let tokens = signed_in_tokens(&app, &browser(), &client, "openid").await;
    let access = tokens["access_token"].as_str().unwrap();
    let http = http();
    let url = app.url("/userinfo");

    // RFC 6750 §2.1 header on GET and POST, §2.2 form body on POST.
    assert_eq!(userinfo(&app, access).await.ok()["sub"], user.id);
    let post_header = Reply::read(http.post(&url).bearer_auth(access).send().await.unwrap()).await;
    assert_eq!(post_header.ok()["sub"], user.id);
    let post_body = Reply::read(
        http.post(&url)
            .form(&[("access_token", access)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(post_body.ok()["sub"], user.id);
    let lower = Reply::read(
        http.get(&url)
            .header("authorization", format!("bearer {access}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        lower.ok()["sub"],
        user.id,
        "RFC 7235 §2.1: the scheme is case-insensitive"
    );

    // More than one method → invalid_request (RFC 6750 §2, §3.1).
    let both = Reply::read(
        http.post(&url)
            .bearer_auth(access)
            .form(&[("access_token", access)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    both.assert_error(400, "invalid_request");
    assert!(
        both.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer") && h.contains("error=\"invalid_request\"")),
        "{:?}",
        both.headers
    );

    let repeated = Reply::read(
        http.post(&url)
            .form(&[("access_token", access), ("access_token", access)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    repeated.assert_error(400, "invalid_request");
    assert!(
        repeated
            .header("www-authenticate")
            .is_some_and(|h| h.contains("error=\"invalid_request\"")),
        "RFC 6750 §3.1: a repeated parameter"
    );

    // No credentials: a bare challenge, no error code (RFC 6750 §3.1).
    for none in [
        http.get(&url).send().await.unwrap(),
        http.post(&url).send().await.unwrap(),
    ] {
        let none = Reply::read(none).await;
        assert_eq!(none.status, 401);
        let challenge = none.header("www-authenticate").expect("WWW-Authenticate");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        assert!(
            !challenge.contains("error="),
            "RFC 6750 §3.1: no error code without credentials: {challenge}"
        );
        assert!(
            none.json.get("error").is_none(),
            "no error code in the body either: {}",
            none.text
        );
    }

    // Bad tokens: invalid_token in the challenge (RFC 6750 §3.1).
    let mut tampered = access.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    // The same claims "signed" with alg none under our kid (RFC 8725 §3.1).
    let mut header = jwt_header(access);
    header["alg"] = "none".into();
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    let unsigned = format!("{}.{}.", b64(&header), b64(&jwt_claims(access)));
    for bad in ["garbage", "a.b.c", tampered.as_str(), unsigned.as_str()] {
        let reply = userinfo(&app, bad).await;
        reply.assert_error(401, "invalid_token");
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer") && h.contains("error=\"invalid_token\"")),
            "{:?}",
            reply.headers
        );
    }
}

async fn userinfo_claims(backend: Backend) {
    let (app, user) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let browser = browser();

    let tokens = signed_in_tokens(&app, &browser, &client, "openid").await;
    let reply = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert!(reply
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    let info = reply.ok();
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        info["sub"], id["sub"],
        "OIDC Core §5.3.2: the same sub as the ID token"
    );
    assert_eq!(info["sub"], user.id);
    assert_eq!(info["inn"], INN);
    assert_eq!(
        info["account"],
        json!({"kind": "individual", "inn": INN, "name": FULL_NAME, "ugns_code": "004", "role": "self"})
    );
    assert_eq!(info["account"], id["account"]);
    assert_eq!(info["amr"], json!(["pwd"]));
    assert_eq!(info["acr"], id["acr"]);
    assert!(info["acr"].is_string());
    assert_eq!(info["auth_time"], id["auth_time"]);
    assert!(info["auth_time"].is_i64());
    for profile in ["name", "family_name", "given_name", "middle_name"] {
        assert!(
            info.get(profile).is_none(),
            "{profile} needs the profile scope: {info}"
        );
    }

    let tokens = signed_in_tokens(&app, &browser, &client, "openid profile").await;
    let reply = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    let info = reply.ok();
    assert_eq!(info["name"], FULL_NAME);
    assert_eq!(info["family_name"], "Демонов");
    assert_eq!(info["given_name"], "Азамат");
    assert_eq!(info["middle_name"], "Бекович");
    assert_eq!(info["inn"], INN);
    assert!(
        info["account"].is_object()
            && info["amr"].is_array()
            && info["acr"].is_string()
            && info["auth_time"].is_i64()
    );
}

async fn userinfo_needs_openid_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let service = register(
        &app,
        ClientSpec {
            grants: Some(vec!["client_credentials".into()]),
            ..Default::default()
        },
    )
    .await;
    let reply = token(
        &app,
        &service.auth(),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let access = reply.ok()["access_token"].as_str().unwrap().to_owned();
    let refused = userinfo(&app, &access).await;
    refused.assert_error(403, "insufficient_scope");
    assert!(
        refused
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer") && h.contains("error=\"insufficient_scope\"")),
        "{:?}",
        refused.headers
    );
}

async fn expired_access_token(backend: Backend) {
    let (app, _) = app_with_user_and(backend, |c| c.access_token_ttl = 1).await;
    let client = register(&app, ClientSpec::default()).await;
    let tokens = signed_in_tokens(&app, &browser(), &client, "openid offline_access").await;
    let access = tokens["access_token"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let refused = userinfo(&app, access).await;
    refused.assert_error(401, "invalid_token");
    assert!(refused
        .header("www-authenticate")
        .is_some_and(|h| h.contains("error=\"invalid_token\"")));
    assert_eq!(
        introspect(&app, &client, access).await.ok(),
        &json!({"active": false})
    );
    // The refresh token outlives it.
    assert!(is_active(&app, &client, tokens["refresh_token"].as_str().unwrap()).await);
}

async fn revoke_access_token(backend: Backend) {
    let (app, _) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let tokens = signed_in_tokens(&app, &browser(), &client, "openid offline_access").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert!(is_active(&app, &client, access).await);

    let reply = post_form(
        &app,
        "/revoke",
        &client.auth(),
        &[("token", access), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        introspect(&app, &client, access).await.ok(),
        &json!({"active": false})
    );
    userinfo(&app, access)
        .await
        .assert_error(401, "invalid_token");
    // Idempotent.
    assert_eq!(revoke(&app, &client, access).await.status, 200);
}

async fn revoke_refresh_token_ends_grant(backend: Backend) {
    let (app, _) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let tokens = signed_in_tokens(&app, &browser(), &client, "openid offline_access").await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();

    let reply = post_form(
        &app,
        "/revoke",
        &client.auth(),
        &[
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    refresh(&app, &client, refresh_token, None)
        .await
        .assert_error(400, "invalid_grant");
    assert_eq!(
        introspect(&app, &client, refresh_token).await.ok(),
        &json!({"active": false})
    );
    // RFC 7009 §2.1: the access tokens of the same grant go too.
    assert_eq!(
        introspect(&app, &client, access).await.ok(),
        &json!({"active": false})
    );
    userinfo(&app, access)
        .await
        .assert_error(401, "invalid_token");
    assert_eq!(revoke(&app, &client, refresh_token).await.status, 200);
}

async fn revoke_edge_cases(backend: Backend) {
    let (app, _) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let other = register(&app, ClientSpec::default()).await;
    let public = register(
        &app,
        ClientSpec {
            auth_method: Some(ClientAuthMethod::None),
            ..Default::default()
        },
    )
    .await;
    let browser = browser();
    let tokens = signed_in_tokens(&app, &browser, &client, "openid offline_access").await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();

    // RFC 7009 §2.2: an unknown token is answered 200.
    assert_eq!(revoke(&app, &client, "no-such-token").await.status, 200);
    // Another client's tokens: 200, and nothing happens.
    assert_eq!(revoke(&app, &other, access).await.status, 200);
    assert_eq!(revoke(&app, &other, refresh_token).await.status, 200);
    assert!(is_active(&app, &client, access).await);
    assert!(is_active(&app, &client, refresh_token).await);
    // Missing token; missing or failed client authentication (RFC 7009 §2.1).
    post_form(
        &app,
        "/revoke",
        &client.auth(),
        &[("token_type_hint", "access_token")],
    )
    .await
    .assert_error(400, "invalid_request");
    post_form(&app, "/revoke", &Auth::Nothing, &[("token", refresh_token)])
        .await
        .assert_error(401, "invalid_client");
    post_form(
        &app,
        "/revoke",
        &client.wrong_auth(),
        &[("token", refresh_token)],
    )
    .await
    .assert_error(401, "invalid_client");
    assert!(is_active(&app, &client, refresh_token).await);

    // RFC 7009 §2.1: a hint that does not help must not stop the search ("If the server is
    // unable to locate the token using the given hint, it MUST extend its search").
    let reply = post_form(
        &app,
        "/revoke",
        &client.auth(),
        &[
            ("token", refresh_token),
            ("token_type_hint", "access_token"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(!is_active(&app, &client, refresh_token).await);
    let tokens = signed_in_tokens(&app, &browser, &client, "openid offline_access").await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let reply = post_form(
        &app,
        "/revoke",
        &client.auth(),
        &[
            ("token", refresh_token),
            ("token_type_hint", "urn:example:bogus"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(!is_active(&app, &client, refresh_token).await);

    // A public client revokes its own tokens with its client_id.
    let tokens = signed_in_tokens(&app, &browser, &public, "openid offline_access").await;
    let public_refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(revoke(&app, &public, public_refresh).await.status, 200);
    refresh(&app, &public, public_refresh, None)
        .await
        .assert_error(400, "invalid_grant");
}

async fn introspection(backend: Backend) {
    let (app, user) = app_with_user(backend).await;
    let client = register(&app, ClientSpec::default()).await;
    let public = register(
        &app,
        ClientSpec {
            auth_method: Some(ClientAuthMethod::None),
            ..Default::default()
        },
    )
    .await;
    let tokens = signed_in_tokens(&app, &browser(), &client, "openid offline_access").await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();

    let reply = introspect(&app, &client, access).await;
    assert!(reply
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    let active = reply.ok();
    assert_eq!(active["active"], true);
    assert_eq!(active["scope"], "openid offline_access");
    assert_eq!(active["client_id"], client.id);
    assert_eq!(active["sub"], user.id);
    assert_eq!(active["iss"], app.base);
    assert_eq!(active["token_type"], "Bearer");
    assert!(active["exp"].as_i64().unwrap() > active["iat"].as_i64().unwrap());

    let reply = introspect(&app, &client, refresh_token).await;
    let active = reply.ok();
    assert_eq!(active["active"], true);
    assert_eq!(active["token_type"], "refresh_token");
    assert_eq!(active["client_id"], client.id);
    assert_eq!(active["sub"], user.id);

    // Anything not live is exactly {"active": false} (RFC 7662 §2.2).
    let id_token = tokens["id_token"].as_str().unwrap();
    for dead in ["garbage", "a.b.c", id_token] {
        assert_eq!(
            introspect(&app, &client, dead).await.ok(),
            &json!({"active": false}),
            "{dead}"
        );
    }
    let rotated = refresh(&app, &client, refresh_token, None).await;
    rotated.ok();
    assert_eq!(
        introspect(&app, &client, refresh_token).await.ok(),
        &json!({"active": false}),
        "a rotated refresh token"
    );

    // The caller must authenticate as a confidential client (RFC 7662 §2.1, §2.3).
    let fresh = rotated.json["access_token"].as_str().unwrap();
    post_form(&app, "/introspect", &public.auth(), &[("token", fresh)])
        .await
        .assert_error(401, "invalid_client");
    post_form(&app, "/introspect", &Auth::Nothing, &[("token", fresh)])
        .await
        .assert_error(401, "invalid_client");
    post_form(
        &app,
        "/introspect",
        &client.wrong_auth(),
        &[("token", fresh)],
    )
    .await
    .assert_error(401, "invalid_client");
    post_form(&app, "/introspect", &client.auth(), &[])
        .await
        .assert_error(400, "invalid_request");
    assert!(is_active(&app, &client, fresh).await);
}

both_backends!(
    userinfo_transports,
    userinfo_claims,
    userinfo_needs_openid_scope,
    expired_access_token,
    revoke_access_token,
    revoke_refresh_token_ends_grant,
    revoke_edge_cases,
    introspection,
);
