//! `POST /token`: the shared phases (RFC 6749 §3.2 form parsing, §5.1 no-store, §5.2
//! errors and their character set) and client authentication (§2.3: basic, post, none; one
//! method per request; the same `invalid_client` for every failure, with
//! `WWW-Authenticate: Basic` when Basic was used).

use salyk_idp::store::ClientAuthMethod;

use crate::harness::*;
use crate::rp::*;

fn all_grants() -> Option<Vec<String>> {
    Some(vec![
        "authorization_code".into(),
        "refresh_token".into(),
        "client_credentials".into(),
    ])
}

#[track_caller]
fn assert_no_store(reply: &Reply) {
    assert_eq!(
        reply.header("cache-control"),
        Some("no-store"),
        "{} {}",
        reply.status,
        reply.text
    );
    assert_eq!(
        reply.header("pragma"),
        Some("no-cache"),
        "RFC 6749 §5.1 Pragma"
    );
}

async fn no_store_and_request_errors(backend: Backend) {
    let (app, _) = app_with_user(backend).await;
    let client = register(
        &app,
        ClientSpec {
            grants: all_grants(),
            ..Default::default()
        },
    )
    .await;
    let code_only = register(
        &app,
        ClientSpec {
            grants: Some(vec!["authorization_code".into()]),
            ..Default::default()
        },
    )
    .await;

    // Success: JSON, no-store (RFC 6749 §5.1).
    let pair = pkce();
    let code = authorize_code(
        &app,
        &browser(),
        &client.id,
        "openid",
        Some(&pair.challenge),
    )
    .await;
    let ok = redeem(&app, &client, &code, Some(&pair.verifier)).await;
    ok.ok();
    assert_no_store(&ok);
    assert!(ok
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));

    // Not a form body.
    let json = http()
        .post(app.url("/token"))
        .basic_auth(&client.id, client.secret.as_deref())
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    let json = Reply::read(json).await;
    json.assert_error(400, "invalid_request");
    assert_no_store(&json);
    assert!(json
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));

    // grant_type missing, unknown, or not allowed for this client.
    let missing = token(&app, &client.auth(), &[("code", "x")]).await;
    missing.assert_error(400, "invalid_request");
    assert_no_store(&missing);
    let unknown = token(
        &app,
        &client.auth(),
        &[
            ("grant_type", "password"),
            ("username", LOGIN),
            ("password", PASSWORD),
        ],
    )
    .await;
    unknown.assert_error(400, "unsupported_grant_type");
    assert_no_store(&unknown);
    let not_allowed = token(
        &app,
        &code_only.auth(),
        &[("grant_type", "client_credentials")],
    )
    .await;
    not_allowed.assert_error(400, "unauthorized_client");
    let not_allowed = token(
        &app,
        &code_only.auth(),
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    not_allowed.assert_error(400, "unauthorized_client");

    // RFC 6749 §3.2: parameters must not be repeated.
    let repeated = token(
        &app,
        &client.auth(),
        &[
            ("grant_type", "client_credentials"),
            ("grant_type", "client_credentials"),
        ],
    )
    .await;
    repeated.assert_error(400, "invalid_request");
    let repeated = token(
        &app,
        &client.auth(),
        &[
            ("grant_type", "authorization_code"),
            ("code", "a"),
            ("code", "b"),
            ("redirect_uri", REDIRECT_URI),
        ],
    )
    .await;
    repeated.assert_error(400, "invalid_request");
    assert_no_store(&repeated);
}

async fn client_authentication(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let basic = register(
        &app,
        ClientSpec {
            grants: all_grants(),
            ..Default::default()
        },
    )
    .await;
    let post = register(
        &app,
        ClientSpec {
            grants: all_grants(),
            auth_method: Some(ClientAuthMethod::ClientSecretPost),
            ..Default::default()
        },
    )
    .await;
    let cc = [("grant_type", "client_credentials")];
    let secret = |c: &TestClient| c.secret.clone().expect("confidential clients get a secret");

    token(&app, &basic.auth(), &cc).await.ok();
    token(&app, &post.auth(), &cc).await.ok();
    // RFC 7235 §2.1: the auth scheme is case-insensitive.
    let upper = http()
        .post(app.url("/token"))
        .header(
            "authorization",
            basic_header("BASIC", &basic.id, &secret(&basic)),
        )
        .form(&cc)
        .send()
        .await
        .unwrap();
    Reply::read(upper).await.ok();

    // A client uses the method it registered, nothing else.
    let wrong_method = token(&app, &Auth::Basic(post.id.clone(), secret(&post)), &cc).await;
    wrong_method.assert_error(401, "invalid_client");
    assert!(wrong_method
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Basic")));
    token(&app, &Auth::Post(basic.id.clone(), secret(&basic)), &cc)
        .await
        .assert_error(401, "invalid_client");
    token(&app, &Auth::Public(basic.id.clone()), &cc)
        .await
        .assert_error(401, "invalid_client");

    // Two methods in one request (RFC 6749 §2.3).
    let both = http()
        .post(app.url("/token"))
        .basic_auth(&basic.id, Some(secret(&basic)))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", basic.id.as_str()),
            ("client_secret", secret(&basic).as_str()),
        ])
        .send()
        .await
        .unwrap();
    Reply::read(both).await.assert_error(400, "invalid_request");

    // Wrong secret, unknown client, disabled client: one answer (RFC 6749 §5.2).
    let wrong = token(&app, &basic.wrong_auth(), &cc).await;
    wrong.assert_error(401, "invalid_client");
    assert!(
        wrong
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Basic")),
        "RFC 6749 §5.2: Basic was used"
    );
    assert_no_store(&wrong);
    let unknown = token(
        &app,
        &Auth::Basic("no-such-client".into(), "whatever".into()),
        &cc,
    )
    .await;
    unknown.assert_error(401, "invalid_client");
    assert!(unknown
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Basic")));
    assert_eq!(
        unknown.json["error_description"], wrong.json["error_description"],
        "unknown client and wrong secret look alike"
    );
    let wrong_post = token(&app, &post.wrong_auth(), &cc).await;
    wrong_post.assert_error(401, "invalid_client");
    assert_eq!(
        wrong_post.json["error_description"],
        wrong.json["error_description"]
    );
    let unknown_post = token(
        &app,
        &Auth::Post("no-such-client".into(), "whatever".into()),
        &cc,
    )
    .await;
    unknown_post.assert_error(401, "invalid_client");
    assert_eq!(
        unknown_post.json["error_description"],
        wrong.json["error_description"]
    );

    assert!(app
        .state
        .store
        .set_client_disabled(&basic.id, true)
        .await
        .unwrap());
    let disabled = token(&app, &basic.auth(), &cc).await;
    disabled.assert_error(401, "invalid_client");
    assert_eq!(
        disabled.json["error_description"],
        wrong.json["error_description"]
    );

    // No credentials at all.
    token(&app, &Auth::Nothing, &cc)
        .await
        .assert_error(401, "invalid_client");
}

/// RFC 6749 §5.2: `error_description` uses only %x20-21 / %x23-5B / %x5D-7E, even when
/// the provider quotes what the client sent.
async fn error_descriptions_stay_in_the_rfc_charset(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = register(
        &app,
        ClientSpec {
            grants: all_grants(),
            ..Default::default()
        },
    )
    .await;
    let nasty = "x\"y\\z \u{e9}\u{442}\n";
    let replies = [
        token(&app, &client.auth(), &[("grant_type", nasty)]).await,
        token(
            &app,
            &client.auth(),
            &[("grant_type", "client_credentials"), ("scope", nasty)],
        )
        .await,
        token(
            &app,
            &client.auth(),
            &[
                ("grant_type", "client_credentials"),
                (nasty, "1"),
                (nasty, "2"),
            ],
        )
        .await,
    ];
    let codes = ["unsupported_grant_type", "invalid_scope", "invalid_request"];
    for (reply, code) in replies.iter().zip(codes) {
        reply.assert_error(400, code);
        let description = reply.json["error_description"]
            .as_str()
            .expect("error_description");
        let bad: Vec<char> = description
            .chars()
            .filter(|c| !matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E'))
            .collect();
        assert!(
            bad.is_empty(),
            "characters {bad:?} outside the RFC 6749 set in {description:?}"
        );
    }
}

fn basic_header(scheme: &str, id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "{scheme} {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

async fn public_client_with_pkce(backend: Backend) {
    let (app, _) = app_with_user(backend).await;
    let public = register(
        &app,
        ClientSpec {
            auth_method: Some(ClientAuthMethod::None),
            ..Default::default()
        },
    )
    .await;
    assert!(public.secret.is_none(), "a public client gets no secret");

    let tokens = signed_in_tokens(&app, &browser(), &public, "openid offline_access").await;
    assert!(tokens["id_token"].is_string());
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("public clients may refresh (with rotation)");
    let refreshed = refresh(&app, &public, refresh_token, None).await;
    assert_ne!(
        refreshed.ok()["refresh_token"].as_str(),
        Some(refresh_token),
        "RFC 9700 §4.14.2: public clients' refresh tokens rotate"
    );

    // A public client presenting a secret is not a public client.
    let with_secret = token(
        &app,
        &Auth::Post(public.id.clone(), "guess".into()),
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    with_secret.assert_error(401, "invalid_client");
}

both_backends!(
    no_store_and_request_errors,
    client_authentication,
    error_descriptions_stay_in_the_rfc_charset,
    public_client_with_pkce,
);
