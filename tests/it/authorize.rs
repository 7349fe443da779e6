//! `/authorize` request checking and responses, against the specs rather than the code:
//! RFC 6749 §4.1.1 and §4.1.2.1 (which errors are a page and which go back to the client),
//! RFC 9700 §4.1.3 (exact redirect URI match), RFC 7636 (S256 only), RFC 9207 (`iss` in
//! every response), OIDC Core §3.1.2.1 (prompt, max_age, id_token_hint, request objects),
//! OAuth 2.0 Form Post Response Mode, and the codes themselves (entropy, single use, TTL).
//! The helpers at the top are shared with `authorize_flow`, `pages` and `logout`.

use std::collections::HashMap;

use base64::Engine;
use sha2::Digest;

use crate::harness::*;

pub const LOGIN: &str = "21207198599011001";
pub const INN: &str = "21207198599011";
pub const NAME: &str = "Демонов Азамат Бекович";
pub const ORG_INN: &str = "01503201699001";
pub const ORG_NAME: &str = "ОсОО «ДЕМО Импорт Трейд»";
pub const STATE: &str = "xyz-state/+ü";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk0123456789";

/// The S256 challenge of a verifier (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The claims of a compact JWT (signature not checked: `oidc_flow` does that with a library).
pub fn jwt_payload(jwt: &str) -> serde_json::Value {
    let part = jwt.split('.').nth(1).expect("jwt payload");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

/// A registered client.
#[derive(Clone)]
pub struct Rp {
    pub id: String,
    pub secret: Option<String>,
}

pub async fn rp(app: &TestApp, spec: ClientSpec) -> Rp {
    let (id, secret) = app.client(spec).await;
    Rp { id, secret }
}

/// Authorization request parameters, starting from a valid OIDC code request with PKCE.
#[derive(Clone)]
pub struct Authz(Vec<(String, String)>);

impl Authz {
    pub fn new(client_id: &str) -> Authz {
        let challenge = s256(VERIFIER);
        Authz(
            [
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", REDIRECT_URI),
                ("scope", "openid"),
                ("state", STATE),
                ("nonce", "n-0S6_WzA2Mj"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        )
    }

    /// Replaces (or adds) a parameter.
    pub fn set(mut self, name: &str, value: &str) -> Authz {
        self.0.retain(|(k, _)| k != name);
        self.0.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn without(mut self, name: &str) -> Authz {
        self.0.retain(|(k, _)| k != name);
        self
    }

    /// Adds a parameter once more (a repeated parameter).
    pub fn again(mut self, name: &str, value: &str) -> Authz {
        self.0.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn query(&self) -> String {
        form_urlencoded::Serializer::new(String::new()).extend_pairs(&self.0).finish()
    }

    pub fn url(&self, app: &TestApp) -> String {
        app.url(&format!("/authorize?{}", self.query()))
    }
}

/// Redeems a code at the token endpoint with client_secret_basic (or as a public client).
pub async fn redeem(app: &TestApp, rp: &Rp, code: &str, verifier: &str) -> reqwest::Response {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT_URI), ("code_verifier", verifier)];
    let mut request = reqwest::Client::new().post(app.url("/token"));
    match &rp.secret {
        Some(secret) => request = request.basic_auth(&rp.id, Some(secret)),
        None => form.push(("client_id", rp.id.as_str())),
    }
    request.form(&form).send().await.expect("token request")
}

/// Asserts an HTML error page that does not redirect, and returns its body.
pub async fn assert_error_page(response: reqwest::Response, status: u16, message: &str) -> String {
    assert_eq!(response.status(), status, "status of the error page");
    assert!(response.headers().get("location").is_none(), "an error page must never redirect: {:?}", response.headers().get("location"));
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(content_type.starts_with("text/html"), "an error page is HTML, got {content_type}");
    let body = response.text().await.expect("body");
    assert!(body.contains(message), "expected «{message}» on the page:\n{body}");
    assert!(!body.contains(REDIRECT_URI) && !body.contains("127.0.0.1:9/"), "the page must not link to an unverified redirect URI");
    body
}

/// Asserts a `query`-mode authorization response to the registered redirect URI, with `iss`
/// (RFC 9207) and `state`, and returns its parameters.
pub fn assert_to_client(app: &TestApp, response: &reqwest::Response) -> HashMap<String, String> {
    assert!(response.status().is_redirection(), "expected a redirect to the client, got {}", response.status());
    let location = location(response);
    assert!(location.starts_with(&format!("{REDIRECT_URI}?")), "redirected to {location}");
    let params = location_params(response);
    assert_eq!(params.get("iss"), Some(&app.base), "RFC 9207: iss in every authorization response");
    assert_eq!(params.get("state").map(String::as_str), Some(STATE), "RFC 6749 §4.1.2: state returned exactly");
    params
}

/// Asserts an error sent to the client (RFC 6749 §4.1.2.1).
pub fn assert_client_error(app: &TestApp, response: &reqwest::Response, error: &str) -> HashMap<String, String> {
    let params = assert_to_client(app, response);
    assert_eq!(params.get("error").map(String::as_str), Some(error), "error in {params:?}");
    assert!(!params.contains_key("code"), "no code with an error");
    params
}

/// Signs the test user in on `browser` with a fresh request and returns the code.
pub async fn code_for(app: &TestApp, browser: &reqwest::Client, request: &Authz) -> String {
    let back = sign_in(app, browser, &request.url(app), LOGIN, PASSWORD, None).await;
    assert_to_client(app, &back)["code"].clone()
}

/// Decodes the few HTML entities askama writes in attribute values.
pub fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#34;", "\"").replace("&#39;", "'").replace("&#x27;", "'").replace("&#x2f;", "/").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// The hidden fields of an HTML form, unescaped.
pub fn hidden_fields(html: &str) -> HashMap<String, String> {
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let name = rest.split('"').next().unwrap_or_default();
            let value = rest.split("value=\"").nth(1).and_then(|v| v.split('"').next()).unwrap_or_default();
            (unescape(name), unescape(value))
        })
        .collect()
}

async fn setup(backend: Backend) -> (TestApp, Rp) {
    let app = TestApp::spawn(backend).await;
    app.user(LOGIN, INN, NAME, PASSWORD).await;
    let client = rp(&app, ClientSpec::default()).await;
    (app, client)
}

// ---- Errors that must be a page: the client or its redirect URI is not trusted ----

async fn untrusted_client_gets_a_page(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let unknown = b.get(Authz::new("no-such-client").url(&app)).send().await.unwrap();
    assert_error_page(unknown, 400, "Неизвестный сервис (client_id)").await;
    let missing = b.get(Authz::new(&rp.id).without("client_id").url(&app)).send().await.unwrap();
    assert_error_page(missing, 400, "Неизвестный сервис (client_id)").await;
    let empty = b.get(Authz::new(&rp.id).set("client_id", "").url(&app)).send().await.unwrap();
    assert_error_page(empty, 400, "Неизвестный сервис (client_id)").await;
    // A repeated client_id is ambiguous, so the client is not verified.
    let repeated = b.get(Authz::new(&rp.id).again("client_id", &rp.id).url(&app)).send().await.unwrap();
    assert_error_page(repeated, 400, "Некорректный запрос").await;
    // Even with other errors present, nothing is redirected for an unknown client.
    let worse = b.get(Authz::new("no-such-client").set("response_type", "token").url(&app)).send().await.unwrap();
    assert_error_page(worse, 400, "Неизвестный сервис").await;
    app.state.store.set_client_disabled(&rp.id, true).await.unwrap();
    let disabled = b.get(Authz::new(&rp.id).url(&app)).send().await.unwrap();
    assert_error_page(disabled, 400, "Неизвестный сервис (client_id)").await;
}

async fn untrusted_redirect_uri_gets_a_page(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let missing = b.get(Authz::new(&rp.id).without("redirect_uri").url(&app)).send().await.unwrap();
    assert_error_page(missing, 400, "Недопустимый адрес возврата (redirect_uri)").await;
    // RFC 9700 §4.1.3: exact string matching, no normalisation of any kind.
    for near_miss in [
        "http://evil.example/callback",
        "http://127.0.0.1:9/callback/",
        "http://127.0.0.1:9/callback?x=1",
        "http://127.0.0.1:9/callback#f",
        "http://127.0.0.1:9/Callback",
        "HTTP://127.0.0.1:9/callback",
        "http://127.0.0.1:9/callback/../callback",
    ] {
        let response = b.get(Authz::new(&rp.id).set("redirect_uri", near_miss).set("response_type", "token").url(&app)).send().await.unwrap();
        assert_error_page(response, 400, "Недопустимый адрес возврата (redirect_uri)").await;
    }
    let repeated = b.get(Authz::new(&rp.id).again("redirect_uri", REDIRECT_URI).url(&app)).send().await.unwrap();
    assert_error_page(repeated, 400, "Недопустимый адрес возврата (redirect_uri)").await;
}

// ---- Errors sent back to the verified redirect URI ----

async fn response_type_errors_go_to_the_client(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    // A missing required parameter is invalid_request (RFC 6749 §4.1.2.1).
    let missing = b.get(Authz::new(&rp.id).without("response_type").url(&app)).send().await.unwrap();
    assert_client_error(&app, &missing, "invalid_request");
    for other in ["token", "id_token", "code id_token", "code token", "id_token token", "none"] {
        let response = b.get(Authz::new(&rp.id).set("response_type", other).url(&app)).send().await.unwrap();
        let params = assert_client_error(&app, &response, "unsupported_response_type");
        assert!(params.contains_key("error_description"));
    }
    let no_code_grant = rp_with(&app, ClientSpec { grants: Some(vec!["client_credentials".into()]), ..Default::default() }).await;
    let response = b.get(Authz::new(&no_code_grant).url(&app)).send().await.unwrap();
    assert_client_error(&app, &response, "unauthorized_client");
}

async fn rp_with(app: &TestApp, spec: ClientSpec) -> String {
    app.client(spec).await.0
}

async fn scope_errors_go_to_the_client(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    for scope in [None, Some("profile"), Some("openid admin"), Some("openid profile email")] {
        let request = match scope {
            Some(s) => Authz::new(&rp.id).set("scope", s),
            None => Authz::new(&rp.id).without("scope"),
        };
        let response = b.get(request.url(&app)).send().await.unwrap();
        assert_client_error(&app, &response, "invalid_scope");
    }
    let narrow = rp_with(&app, ClientSpec { scopes: Some(vec!["openid".into()]), ..Default::default() }).await;
    let response = b.get(Authz::new(&narrow).set("scope", "openid offline_access").url(&app)).send().await.unwrap();
    assert_client_error(&app, &response, "invalid_scope");
    // The allowed scopes are accepted: the user is sent to sign in.
    let ok = b.get(Authz::new(&rp.id).set("scope", "openid profile offline_access").url(&app)).send().await.unwrap();
    assert!(location(&ok).starts_with("/login?"), "got {}", location(&ok));
}

async fn pkce_rules(backend: Backend) {
    let (app, confidential) = setup(backend).await;
    let public = rp_with(&app, ClientSpec { auth_method: Some(salyk_idp::store::ClientAuthMethod::None), ..Default::default() }).await;
    let b = browser();
    let challenge = s256(VERIFIER);
    let cases = [
        ("public client without PKCE", Authz::new(&public).without("code_challenge").without("code_challenge_method")),
        ("plain", Authz::new(&public).set("code_challenge", VERIFIER).set("code_challenge_method", "plain")),
        ("plain (confidential)", Authz::new(&confidential.id).set("code_challenge", VERIFIER).set("code_challenge_method", "plain")),
        ("no method means plain (RFC 7636 §4.3)", Authz::new(&public).without("code_challenge_method")),
        ("unknown method", Authz::new(&public).set("code_challenge_method", "S512")),
        ("method without challenge", Authz::new(&confidential.id).without("code_challenge")),
        ("too short", Authz::new(&public).set("code_challenge", &challenge[..42])),
        ("too long", Authz::new(&public).set("code_challenge", &format!("{challenge}A"))),
        ("not base64url", Authz::new(&public).set("code_challenge", &format!("{}+", &challenge[..42]))),
        ("padded", Authz::new(&public).set("code_challenge", &format!("{}=", &challenge[..42]))),
    ];
    for (what, request) in cases {
        let response = b.get(request.url(&app)).send().await.unwrap();
        let params = assert_to_client(&app, &response);
        assert_eq!(params.get("error").map(String::as_str), Some("invalid_request"), "{what}: {params:?}");
    }
    // PKCE is accepted but optional for a confidential client; S256 is accepted for both.
    for request in [Authz::new(&confidential.id).without("code_challenge").without("code_challenge_method"), Authz::new(&public)] {
        let response = b.get(request.url(&app)).send().await.unwrap();
        assert!(location(&response).starts_with("/login?"), "got {}", location(&response));
    }
}

async fn repeated_parameters_are_invalid_request(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    // RFC 6749 §3.1 / §4.1.2.1: once client and redirect URI are verified, a repeated
    // parameter is an invalid_request sent to the client.
    for (name, value) in [("scope", "openid"), ("response_type", "code"), ("nonce", "n2"), ("code_challenge", s256("other").as_str()), ("prompt", "login"), ("max_age", "5")] {
        let response = b.get(Authz::new(&rp.id).again(name, value).url(&app)).send().await.unwrap();
        let params = assert_client_error(&app, &response, "invalid_request");
        assert!(params["error_description"].contains(name), "the description names {name}: {params:?}");
    }
    // A repeated state cannot be echoed faithfully, but the error still goes to the client.
    let response = b.get(Authz::new(&rp.id).again("state", "other").url(&app)).send().await.unwrap();
    assert!(location(&response).starts_with(&format!("{REDIRECT_URI}?")), "got {}", location(&response));
    assert_eq!(location_params(&response)["error"], "invalid_request");
    assert_eq!(location_params(&response)["iss"], app.base);
    // The same rules hold for a POSTed request.
    let response = b.post(app.url("/authorize")).body(Authz::new(&rp.id).again("scope", "openid").query()).header("content-type", "application/x-www-form-urlencoded").send().await.unwrap();
    assert_client_error(&app, &response, "invalid_request");
}

async fn oidc_parameter_errors(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let cases = [
        (Authz::new(&rp.id).set("prompt", "none login"), "invalid_request"),
        (Authz::new(&rp.id).set("prompt", "login none"), "invalid_request"),
        (Authz::new(&rp.id).set("prompt", "bogus"), "invalid_request"),
        (Authz::new(&rp.id).set("max_age", "-1"), "invalid_request"),
        (Authz::new(&rp.id).set("max_age", "ten"), "invalid_request"),
        (Authz::new(&rp.id).set("max_age", "1.5"), "invalid_request"),
        (Authz::new(&rp.id).set("request", "eyJhbGciOiJub25lIn0.e30."), "request_not_supported"),
        (Authz::new(&rp.id).set("request_uri", "https://rp.example/req.jwt"), "request_uri_not_supported"),
        (Authz::new(&rp.id).set("id_token_hint", "not.a.token"), "invalid_request"),
        (Authz::new(&rp.id).set("response_mode", "fragment"), "invalid_request"),
    ];
    for (request, error) in cases {
        let response = b.get(request.url(&app)).send().await.unwrap();
        let params = assert_to_client(&app, &response);
        assert_eq!(params.get("error").map(String::as_str), Some(error), "{}: {params:?}", request.query());
    }
    // An ID token signed by someone else (here: unsigned) is not a hint from this provider.
    let forged = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(r#"{{"iss":"{}","sub":"x","aud":"{}"}}"#, app.base, rp.id))
    );
    let response = b.get(Authz::new(&rp.id).set("id_token_hint", &forged).url(&app)).send().await.unwrap();
    assert_client_error(&app, &response, "invalid_request");
}

async fn post_works_like_get(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let form = |authz: &Authz| b.post(app.url("/authorize")).header("content-type", "application/x-www-form-urlencoded").body(authz.query());
    let response = form(&Authz::new(&rp.id)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let next = location(&response);
    assert!(next.starts_with("/login?req="), "got {next}");
    let page = b.get(app.url(&next)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let error = form(&Authz::new(&rp.id).set("response_type", "token")).send().await.unwrap();
    assert_client_error(&app, &error, "unsupported_response_type");
    let unknown = form(&Authz::new("no-such-client")).send().await.unwrap();
    assert_error_page(unknown, 400, "Неизвестный сервис (client_id)").await;
    // A whole sign-in started by POST completes with a code.
    let back = sign_in(&app, &b, &Authz::new(&rp.id).url(&app), LOGIN, PASSWORD, None).await;
    let code = assert_to_client(&app, &back)["code"].clone();
    assert_eq!(redeem(&app, &rp, &code, VERIFIER).await.status(), 200);
}

// ---- form_post response mode ----

/// Asserts an auto-submitting form_post page to the redirect URI and returns its fields.
async fn assert_form_post(app: &TestApp, response: reqwest::Response) -> HashMap<String, String> {
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("location").is_none());
    let csp = response.headers().get("content-security-policy").expect("CSP").to_str().unwrap().to_owned();
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("method=\"post\""), "{html}");
    let action = html.split("action=\"").nth(1).and_then(|s| s.split('"').next()).map(unescape);
    assert_eq!(action.as_deref(), Some(REDIRECT_URI), "posts to the redirect URI");
    let nonce = html.split("<script nonce=\"").nth(1).and_then(|s| s.split('"').next()).expect("a nonce'd script");
    assert!(nonce.len() >= 16, "nonce {nonce}");
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    let script_src = directives.iter().find(|d| d.starts_with("script-src")).expect("script-src");
    assert_eq!(*script_src, format!("script-src 'nonce-{nonce}'"), "only the page's own script may run: {csp}");
    assert!(directives.contains(&"frame-ancestors 'none'"), "{csp}");
    assert!(directives.contains(&"default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(html.matches("<script").count(), 1, "exactly one script");
    let fields = hidden_fields(&html);
    assert_eq!(fields.get("iss"), Some(&app.base), "RFC 9207 iss in the posted response");
    assert_eq!(fields.get("state").map(String::as_str), Some(STATE));
    fields
}

async fn form_post_response_mode(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    // Sign in once (query mode) so the next request is answered without interaction.
    code_for(&app, &b, &Authz::new(&rp.id)).await;
    let response = b.get(Authz::new(&rp.id).set("response_mode", "form_post").url(&app)).send().await.unwrap();
    let fields = assert_form_post(&app, response).await;
    let code = fields.get("code").expect("code posted");
    assert_eq!(redeem(&app, &rp, code, VERIFIER).await.status(), 200, "the posted code is redeemable");

    // Errors after the client is verified are posted too.
    for (request, error) in [
        (Authz::new(&rp.id).set("response_mode", "form_post").set("prompt", "bogus"), "invalid_request"),
        (Authz::new(&rp.id).set("response_mode", "form_post").set("response_type", "token"), "unsupported_response_type"),
    ] {
        let fields = assert_form_post(&app, b.get(request.url(&app)).send().await.unwrap()).await;
        assert_eq!(fields.get("error").map(String::as_str), Some(error));
        assert!(!fields.contains_key("code"));
    }
    // And a flow error (prompt=none without a session) as well.
    let fresh = browser();
    let fields = assert_form_post(&app, fresh.get(Authz::new(&rp.id).set("response_mode", "form_post").set("prompt", "none").url(&app)).send().await.unwrap()).await;
    assert_eq!(fields.get("error").map(String::as_str), Some("login_required"));
    // An untrusted redirect URI is still a page, never a posted form.
    let response = b.get(Authz::new(&rp.id).set("response_mode", "form_post").set("redirect_uri", "http://evil.example/cb").url(&app)).send().await.unwrap();
    let body = assert_error_page(response, 400, "Недопустимый адрес возврата").await;
    assert!(!body.contains("<script"), "no auto-submitting form on an error page");
}

// ---- Codes ----

async fn codes_are_strong_and_single_use(backend: Backend) {
    let (app, rp) = setup(backend).await;
    let b = browser();
    let code = code_for(&app, &b, &Authz::new(&rp.id)).await;
    assert!(code.len() >= 22, "a code carries at least 128 bits: {code}");
    assert!(code.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "base64url: {code}");
    let second = code_for(&app, &b, &Authz::new(&rp.id)).await;
    assert_ne!(code, second);
    let first = redeem(&app, &rp, &code, VERIFIER).await;
    assert_eq!(first.status(), 200);
    let tokens: serde_json::Value = first.json().await.unwrap();
    assert_eq!(jwt_payload(tokens["id_token"].as_str().unwrap())["nonce"], "n-0S6_WzA2Mj");
    let again = redeem(&app, &rp, &code, VERIFIER).await;
    assert_eq!(again.status(), 400);
    assert_eq!(again.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    // The code is bound to its PKCE challenge.
    let wrong = redeem(&app, &rp, &second, "another-verifier-another-verifier-another-verifier").await;
    assert_eq!(wrong.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
}

async fn codes_expire(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.code_ttl = 1).await;
    app.user(LOGIN, INN, NAME, PASSWORD).await;
    let rp = rp(&app, ClientSpec::default()).await;
    let code = code_for(&app, &browser(), &Authz::new(&rp.id)).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let late = redeem(&app, &rp, &code, VERIFIER).await;
    assert_eq!(late.status(), 400);
    assert_eq!(late.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
}

both_backends!(
    untrusted_client_gets_a_page,
    untrusted_redirect_uri_gets_a_page,
    response_type_errors_go_to_the_client,
    scope_errors_go_to_the_client,
    pkce_rules,
    repeated_parameters_are_invalid_request,
    oidc_parameter_errors,
    post_works_like_get,
    form_post_response_mode,
    codes_are_strong_and_single_use,
    codes_expire,
);
