//! What `/authorize` answers with: the `form_post` response mode (OAuth 2.0 Form Post
//! Response Mode: an auto-submitting form to the redirect URI carrying code or error,
//! `state` and `iss`, whose CSP lets only its own nonce'd script run), and the codes
//! themselves: at least 128 bits, single use, bound to the PKCE challenge, short-lived.

use std::collections::HashMap;

use crate::authz_support::*;
use crate::harness::*;

async fn setup(backend: Backend) -> (TestApp, Rp) {
    let app = TestApp::spawn(backend).await;
    app.user(LOGIN, INN, NAME, PASSWORD).await;
    let client = rp(&app, ClientSpec::default()).await;
    (app, client)
}

/// Asserts an auto-submitting form_post page to the redirect URI and returns its fields.
async fn assert_form_post(app: &TestApp, response: reqwest::Response) -> HashMap<String, String> {
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("location").is_none());
    let csp = response
        .headers()
        .get("content-security-policy")
        .expect("CSP")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    assert_eq!(response.headers().get("x-frame-options").unwrap(), "DENY");
    assert_eq!(
        response.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
    assert_eq!(
        response.headers().get("referrer-policy").unwrap(),
        "no-referrer"
    );
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("method=\"post\""), "{html}");
    let action = html
        .split("action=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(unescape);
    assert_eq!(
        action.as_deref(),
        Some(REDIRECT_URI),
        "posts to the redirect URI"
    );
    let nonce = html
        .split("<script nonce=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a nonce'd script");
    assert!(nonce.len() >= 16, "nonce {nonce}");
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    let script_src = directives
        .iter()
        .find(|d| d.starts_with("script-src"))
        .expect("script-src");
    assert_eq!(
        *script_src,
        format!("script-src 'nonce-{nonce}'"),
        "only the page's own script may run: {csp}"
    );
    assert!(directives.contains(&"frame-ancestors 'none'"), "{csp}");
    assert!(directives.contains(&"default-src 'none'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(html.matches("<script").count(), 1, "exactly one script");
    let fields = hidden_fields(&html);
    assert_eq!(
        fields.get("iss"),
        Some(&app.base),
        "RFC 9207 iss in the posted response"
    );
    assert_eq!(fields.get("state").map(String::as_str), Some(STATE));
    fields
}

async fn form_post_response_mode(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    // Sign in once (query mode) so the next request is answered without interaction.
    code_for(&app, &b, &Authz::new(&rp.id)).await;
    let response = b
        .get(
            Authz::new(&rp.id)
                .set("response_mode", "form_post")
                .url(&app),
        )
        .send()
        .await
        .unwrap();
    let fields = assert_form_post(&app, response).await;
    let code = fields.get("code").expect("code posted");
    assert_eq!(
        redeem(&app, &rp, code, VERIFIER).await.status(),
        200,
        "the posted code is redeemable"
    );

    // Errors after the client is verified are posted too.
    for (request, error) in [
        (
            Authz::new(&rp.id)
                .set("response_mode", "form_post")
                .set("prompt", "bogus"),
            "invalid_request",
        ),
        (
            Authz::new(&rp.id)
                .set("response_mode", "form_post")
                .set("response_type", "token"),
            "unsupported_response_type",
        ),
    ] {
        let fields = assert_form_post(&app, b.get(request.url(&app)).send().await.unwrap()).await;
        assert_eq!(fields.get("error").map(String::as_str), Some(error));
        assert!(!fields.contains_key("code"));
    }
    // And a flow error (prompt=none without a session) as well.
    let fresh = browser();
    let fields = assert_form_post(
        &app,
        fresh
            .get(
                Authz::new(&rp.id)
                    .set("response_mode", "form_post")
                    .set("prompt", "none")
                    .url(&app),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        fields.get("error").map(String::as_str),
        Some("login_required")
    );
    // An untrusted redirect URI is still a page, never a posted form.
    let response = b
        .get(
            Authz::new(&rp.id)
                .set("response_mode", "form_post")
                .set("redirect_uri", "http://evil.example/cb")
                .url(&app),
        )
        .send()
        .await
        .unwrap();
    let body = assert_error_page(response, 400, "Недопустимый адрес возврата").await;
    assert!(
        !body.contains("<script"),
        "no auto-submitting form on an error page"
    );
}

async fn codes_are_strong_and_single_use(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let code = code_for(&app, &b, &Authz::new(&rp.id)).await;
    assert!(code.len() >= 22, "a code carries at least 128 bits: {code}");
    assert!(
        code.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
        "base64url: {code}"
    );
    let second = code_for(&app, &b, &Authz::new(&rp.id)).await;
    assert_ne!(code, second);
    let first = redeem(&app, &rp, &code, VERIFIER).await;
    assert_eq!(first.status(), 200);
    let tokens: serde_json::Value = first.json().await.unwrap();
    assert_eq!(
        jwt_payload(tokens["id_token"].as_str().unwrap())["nonce"],
        "n-0S6_WzA2Mj"
    );
    let again = redeem(&app, &rp, &code, VERIFIER).await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // The code is bound to its PKCE challenge.
    let wrong = redeem(
        &app,
        &rp,
        &second,
        "another-verifier-another-verifier-another-verifier",
    )
    .await;
    assert_eq!(
        wrong.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}

async fn codes_expire(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.code_ttl = 1).await;
    app.user(LOGIN, INN, NAME, PASSWORD).await;
    let rp = rp(&app, ClientSpec::default()).await;
    let code = code_for(&app, &browser(), &Authz::new(&rp.id)).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let late = redeem(&app, &rp, &code, VERIFIER).await;
    assert_eq!(late.status(), 400);
    assert_eq!(
        late.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}

both_backends!(
    form_post_response_mode,
    codes_are_strong_and_single_use,
    codes_expire,
);
