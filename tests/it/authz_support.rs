//! Helpers shared by the authorization-endpoint, page and logout tests: a test user and
//! client, a builder for authorization requests (a valid OIDC code request with PKCE to
//! start from), assertions for error pages and for responses to the client (RFC 6749
//! §4.1.2, RFC 9207), and the browser steps of the sign-in and account pages.

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
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The claims of a compact JWT (signature not checked: `oidc_flow` does that with a library).
pub fn jwt_payload(jwt: &str) -> serde_json::Value {
    let part = jwt.split('.').nth(1).expect("jwt payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .expect("b64"),
    )
    .expect("json")
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
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.0)
            .finish()
    }

    pub fn url(&self, app: &TestApp) -> String {
        app.url(&format!("/authorize?{}", self.query()))
    }
}

/// Redeems a code at the token endpoint with client_secret_basic (or as a public client).
pub async fn redeem(app: &TestApp, rp: &Rp, code: &str, verifier: &str) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ];
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
    assert!(
        response.headers().get("location").is_none(),
        "an error page must never redirect: {:?}",
        response.headers().get("location")
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/html"),
        "an error page is HTML, got {content_type}"
    );
    let body = response.text().await.expect("body");
    assert!(
        body.contains(message),
        "expected «{message}» on the page:\n{body}"
    );
    assert!(
        !body.contains(REDIRECT_URI) && !body.contains("127.0.0.1:9/"),
        "the page must not link to an unverified redirect URI"
    );
    body
}

/// Asserts a `query`-mode authorization response to the registered redirect URI, with `iss`
/// (RFC 9207) and `state`, and returns its parameters.
pub fn assert_to_client(app: &TestApp, response: &reqwest::Response) -> HashMap<String, String> {
    assert!(
        response.status().is_redirection(),
        "expected a redirect to the client, got {}",
        response.status()
    );
    let location = location(response);
    assert!(
        location.starts_with(&format!("{REDIRECT_URI}?")),
        "redirected to {location}"
    );
    let params = location_params(response);
    assert_eq!(
        params.get("iss"),
        Some(&app.base),
        "RFC 9207: iss in every authorization response"
    );
    assert_eq!(
        params.get("state").map(String::as_str),
        Some(STATE),
        "RFC 6749 §4.1.2: state returned exactly"
    );
    params
}

/// Asserts an error sent to the client (RFC 6749 §4.1.2.1).
pub fn assert_client_error(
    app: &TestApp,
    response: &reqwest::Response,
    error: &str,
) -> HashMap<String, String> {
    let params = assert_to_client(app, response);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some(error),
        "error in {params:?}"
    );
    assert!(!params.contains_key("code"), "no code with an error");
    params
}

/// Signs the test user in on `browser` with a fresh request and returns the code.
pub async fn code_for(app: &TestApp, browser: &reqwest::Client, request: &Authz) -> String {
    let back = sign_in(app, browser, &request.url(app), LOGIN, PASSWORD, None).await;
    assert_to_client(app, &back)["code"].clone()
}

/// Decodes the HTML entities askama writes (named ones and `&#NN;` / `&#xNN;`).
pub fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let entity = rest.find(';').map(|end| &rest[1..end]);
        let decoded = entity.and_then(|e| match e {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => {
                let number = e.strip_prefix('#')?;
                let code = match number.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => number.parse().ok()?,
                };
                char::from_u32(code)
            }
        });
        match (entity, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &rest[e.len() + 2..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The hidden fields of an HTML form, unescaped.
pub fn hidden_fields(html: &str) -> HashMap<String, String> {
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let name = rest.split('"').next().unwrap_or_default();
            let value = rest
                .split("value=\"")
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap_or_default();
            (unescape(name), unescape(value))
        })
        .collect()
}

pub const OTHER_LOGIN: &str = "10101199000123001";
pub const OTHER_INN: &str = "10101199000123";

/// The first hop of an authorization request.
pub async fn start(app: &TestApp, b: &reqwest::Client, request: &Authz) -> reqwest::Response {
    b.get(request.url(app)).send().await.expect("authorize")
}

/// Where the first hop sends the browser.
pub async fn first_hop(app: &TestApp, b: &reqwest::Client, request: &Authz) -> String {
    let response = start(app, b, request).await;
    assert_eq!(response.status(), 303, "a redirect");
    location(&response)
}

/// Submits the password form of the sign-in page at `path`.
pub async fn submit_password(
    app: &TestApp,
    b: &reqwest::Client,
    path: &str,
    login: &str,
    password: &str,
) -> reqwest::Response {
    let page = b
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("csrf", hidden(&page, "csrf")),
        ("req", hidden(&page, "req")),
        ("login", login.into()),
        ("password", password.into()),
    ];
    b.post(app.url("/login/password"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Posts the account page at `path` with `account` and `action`.
pub async fn submit_account(
    app: &TestApp,
    b: &reqwest::Client,
    path: &str,
    account: &str,
    action: &str,
) -> reqwest::Response {
    let page = b
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("csrf", hidden(&page, "csrf")),
        ("req", hidden(&page, "req")),
        ("account", account.into()),
        ("action", action.into()),
    ];
    b.post(app.url("/login/account"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The token response for a code (asserting success).
pub async fn tokens_for(app: &TestApp, rp: &Rp, code: &str) -> serde_json::Value {
    let response = redeem(app, rp, code, VERIFIER).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The ID token's claims for a code.
pub async fn id_claims(app: &TestApp, rp: &Rp, code: &str) -> serde_json::Value {
    let body = tokens_for(app, rp, code).await;
    jwt_payload(body["id_token"].as_str().expect("id_token"))
}

pub async fn raw_id_token(app: &TestApp, rp: &Rp, code: &str) -> String {
    let body: serde_json::Value = redeem(app, rp, code, VERIFIER).await.json().await.unwrap();
    body["id_token"].as_str().expect("id_token").to_owned()
}

/// Starts a request in `b` and returns the sign-in page's path and HTML.
pub async fn login_page(app: &TestApp, b: &reqwest::Client, request: &Authz) -> (String, String) {
    let response = b.get(request.url(app)).send().await.unwrap();
    let path = location(&response);
    assert!(path.starts_with("/login?"), "got {path}");
    let html = b
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (path, html)
}

pub async fn post_login(
    app: &TestApp,
    b: &reqwest::Client,
    form: &[(&str, &str)],
) -> reqwest::Response {
    b.post(app.url("/login/password"))
        .form(form)
        .send()
        .await
        .unwrap()
}

pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

pub fn cookie<'a>(cookies: &'a [String], name: &str) -> Option<&'a String> {
    cookies.iter().find(|c| c.starts_with(&format!("{name}=")))
}
