//! Discovery (OIDC Discovery 1.0 §3–4), the JWKS (RFC 7517, OIDC Core §10.1) and key
//! rotation: the metadata is truthful (every endpoint is under the issuer and answers), both
//! documents are served from cached bytes, and after `keys::rotate` the JWKS publishes old
//! and new keys, tokens signed before still verify, and new tokens use the new key.

use openidconnect::core::{CoreClient, CoreIdToken, CoreJwsSigningAlgorithm, CoreProviderMetadata};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce};
use serde_json::{json, Value};

use crate::harness::*;
use crate::rp::*;

async fn get_bytes(url: &str) -> (reqwest::StatusCode, Option<String>, bytes::Bytes) {
    let response = http().get(url).send().await.expect("GET");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        response.status(),
        content_type,
        response.bytes().await.expect("body"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_document_is_truthful() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let url = app.url("/.well-known/openid-configuration");
    let (status, content_type, first) = get_bytes(&url).await;
    assert_eq!(status, 200);
    assert!(content_type.is_some_and(|c| c.starts_with("application/json")));
    let (_, _, second) = get_bytes(&url).await;
    assert_eq!(first, second, "served from the same bytes");
    let doc: Value = serde_json::from_slice(&first).unwrap();

    // OIDC Discovery §4.3: the issuer is exactly the URL discovery was made from.
    assert_eq!(doc["issuer"], app.base);
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    let algs = doc["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(
        algs.contains(&json!("RS256")) && algs.contains(&json!("ES256")),
        "OIDC Discovery §3: RS256 must be listed"
    );
    for grant in ["authorization_code", "refresh_token", "client_credentials"] {
        assert!(
            doc["grant_types_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(grant)),
            "{grant}"
        );
    }
    for method in ["client_secret_basic", "client_secret_post", "none"] {
        assert!(
            doc["token_endpoint_auth_methods_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(method)),
            "{method}"
        );
    }
    assert!(
        !doc["introspection_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none")),
        "public clients may not introspect"
    );
    for scope in ["openid", "profile", "offline_access"] {
        assert!(
            doc["scopes_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(scope)),
            "{scope}"
        );
    }
    for claim in ["sub", "inn", "account", "amr", "acr", "auth_time"] {
        assert!(
            doc["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(claim)),
            "{claim}"
        );
    }

    // Every endpoint is under the issuer and really answers (no 404/405, no 5xx).
    let http = http();
    let endpoints = [
        ("authorization_endpoint", "GET"),
        ("token_endpoint", "POST"),
        ("userinfo_endpoint", "GET"),
        ("jwks_uri", "GET"),
        ("revocation_endpoint", "POST"),
        ("introspection_endpoint", "POST"),
        ("end_session_endpoint", "GET"),
    ];
    for (name, method) in endpoints {
        let endpoint = doc[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} missing"));
        assert!(
            endpoint.starts_with(&format!("{}/", app.base)),
            "{name} {endpoint} is not under the issuer"
        );
        let response = match method {
            "GET" => http.get(endpoint).send().await.unwrap(),
            _ => http
                .post(endpoint)
                .form(&[("x", "y")])
                .send()
                .await
                .unwrap(),
        };
        let status = response.status();
        assert!(
            ![404, 405].contains(&status.as_u16()) && !status.is_server_error(),
            "{name} {endpoint} answered {status}"
        );
    }
    let (status, _, _) = get_bytes(doc["jwks_uri"].as_str().unwrap()).await;
    assert_eq!(status, 200);

    // A certified RP library accepts it.
    CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http)
        .await
        .expect("openidconnect discovery");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_publishes_both_algorithms() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let (status, content_type, first) = get_bytes(&app.url("/jwks")).await;
    assert_eq!(status, 200);
    assert!(content_type.is_some_and(|c| c.contains("json")));
    let (_, _, second) = get_bytes(&app.url("/jwks")).await;
    assert_eq!(first, second, "served from the same bytes");

    let jwks: Value = serde_json::from_slice(&first).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    let mut kids: Vec<&str> = keys
        .iter()
        .map(|k| k["kid"].as_str().expect("every key has a kid"))
        .collect();
    kids.sort_unstable();
    kids.dedup();
    assert_eq!(kids.len(), keys.len(), "kids are unique");
    for key in keys {
        assert_eq!(key["use"], "sig", "{key}");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                key.get(private).is_none(),
                "private member {private} published: {key}"
            );
        }
    }
    let rsa = keys
        .iter()
        .find(|k| k["alg"] == "RS256")
        .expect("an RS256 key");
    assert_eq!(rsa["kty"], "RSA");
    assert!(rsa["n"].is_string() && rsa["e"].is_string());
    let ec = keys
        .iter()
        .find(|k| k["alg"] == "ES256")
        .expect("an ES256 key");
    assert_eq!(ec["kty"], "EC");
    assert_eq!(ec["crv"], "P-256");
    assert!(ec["x"].is_string() && ec["y"].is_string());
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn jwks(app: &TestApp) -> Value {
    http()
        .get(app.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Verifies an ID token with the `openidconnect` library against the JWKS it discovers now.
async fn library_verifies(app: &TestApp, client: &TestClient, id_token: &str) {
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http())
            .await
            .expect("discovery");
    let oidc = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client.id.clone()),
        client.secret.clone().map(ClientSecret::new),
    );
    let token: CoreIdToken = id_token.parse().expect("ID token");
    let verifier = oidc.id_token_verifier().set_allowed_algs(vec![
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    ]);
    token
        .claims(&verifier, &Nonce::new(NONCE.into()))
        .expect("ID token verified by the library");
}

async fn key_rotation(backend: Backend) {
    let (app, _) = app_with_user(backend).await;
    let rs = register(&app, ClientSpec::default()).await;
    let es = register(
        &app,
        ClientSpec {
            alg: Some("ES256".into()),
            ..Default::default()
        },
    )
    .await;
    let browser = browser();
    let old_rs = signed_in_tokens(&app, &browser, &rs, "openid").await;
    let old_es = signed_in_tokens(&app, &browser, &es, "openid").await;
    let before = jwks(&app).await;
    let old_kids = kids(&before);
    assert_eq!(old_kids.len(), 2);

    let created = salyk_idp::keys::rotate(app.state.store.as_ref(), &app.state.config.keys_dir)
        .await
        .expect("rotate");
    assert!(
        app.state
            .keys
            .reload_if_changed(app.state.store.as_ref())
            .await
            .expect("reload"),
        "the new keys are picked up"
    );
    assert!(
        !app.state
            .keys
            .reload_if_changed(app.state.store.as_ref())
            .await
            .unwrap(),
        "nothing changed since"
    );
    let after = jwks(&app).await;
    let new_kids: Vec<String> = created.iter().map(|m| m.kid.clone()).collect();
    let published = kids(&after);
    for kid in old_kids.iter().chain(&new_kids) {
        assert!(
            published.contains(kid),
            "{kid} not in the JWKS after rotation: {published:?}"
        );
    }
    assert_eq!(
        published.len(),
        4,
        "the previous key of each algorithm stays published"
    );

    // Tokens signed before still verify: at userinfo, introspection and in the library.
    for (client, tokens) in [(&rs, &old_rs), (&es, &old_es)] {
        let access = tokens["access_token"].as_str().unwrap();
        userinfo(&app, access).await.ok();
        assert!(is_active(&app, client, access).await);
        library_verifies(&app, client, tokens["id_token"].as_str().unwrap()).await;
        verify_with_jwks(&app, access).await;
    }

    // New tokens are signed with the new keys.
    for client in [&rs, &es] {
        let tokens = signed_in_tokens(&app, &browser, client, "openid").await;
        for jwt in [
            tokens["access_token"].as_str().unwrap(),
            tokens["id_token"].as_str().unwrap(),
        ] {
            let kid = jwt_header(jwt)["kid"].as_str().unwrap().to_owned();
            assert!(
                new_kids.contains(&kid),
                "{kid} is not one of the new keys {new_kids:?}"
            );
            assert!(!old_kids.contains(&kid));
            verify_with_jwks(&app, jwt).await;
        }
        library_verifies(&app, client, tokens["id_token"].as_str().unwrap()).await;
        userinfo(&app, tokens["access_token"].as_str().unwrap())
            .await
            .ok();
    }
}

both_backends!(key_rotation);
