//! Relying-party helpers for the token, resource, discovery, multi-process and outage tests:
//! a registered client with its credentials, PKCE pairs, the code flow through a browser
//! (`signed_in_tokens`), raw calls to `/token`, `/userinfo`, `/revoke` and `/introspect`
//! that keep status, headers and body for the assertions, and JWT decoding without checks.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use salyk_idp::store::{ClientAuthMethod, User};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::harness::*;

pub const LOGIN: &str = "21207198599011001";
pub const INN: &str = "21207198599011";
pub const FULL_NAME: &str = "Демонов Азамат Бекович";
pub const NONCE: &str = "n-0S6_WzA2Mj";

/// A registered client and how it authenticates.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub id: String,
    pub secret: Option<String>,
    pub method: ClientAuthMethod,
}

impl TestClient {
    /// The authentication this client registered.
    pub fn auth(&self) -> Auth {
        let secret = self.secret.clone().unwrap_or_default();
        match self.method {
            ClientAuthMethod::ClientSecretBasic => Auth::Basic(self.id.clone(), secret),
            ClientAuthMethod::ClientSecretPost => Auth::Post(self.id.clone(), secret),
            ClientAuthMethod::None => Auth::Public(self.id.clone()),
        }
    }

    /// The registered method with a wrong secret.
    pub fn wrong_auth(&self) -> Auth {
        match self.auth() {
            Auth::Basic(id, _) => Auth::Basic(id, "not-the-secret".into()),
            Auth::Post(id, _) => Auth::Post(id, "not-the-secret".into()),
            other => other,
        }
    }
}

/// Client authentication on a request (RFC 6749 §2.3).
#[derive(Debug, Clone)]
pub enum Auth {
    Basic(String, String),
    Post(String, String),
    /// A public client: `client_id` in the body only.
    Public(String),
    Nothing,
}

/// Registers a client; the auth method defaults to `client_secret_basic` as in the CLI.
pub async fn register(app: &TestApp, spec: ClientSpec) -> TestClient {
    let method = spec
        .auth_method
        .unwrap_or(ClientAuthMethod::ClientSecretBasic);
    let (id, secret) = app.client(spec).await;
    TestClient { id, secret, method }
}

/// An app with the standard test user.
pub async fn app_with_user(backend: Backend) -> (TestApp, User) {
    app_with_user_and(backend, |_| {}).await
}

pub async fn app_with_user_and(
    backend: Backend,
    tweak: impl FnOnce(&mut salyk_idp::config::Config),
) -> (TestApp, User) {
    let app = TestApp::spawn_with(backend, tweak).await;
    let user = app.user(LOGIN, INN, FULL_NAME, PASSWORD).await;
    (app, user)
}

/// A response with everything a test may look at.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON, `Null` when it is not JSON.
    pub json: Value,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ascii header"))
    }

    /// The `error` member of an RFC 6749 §5.2 body.
    pub fn error(&self) -> &str {
        self.json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {} {}", self.status, self.text))
    }

    /// Asserts an RFC 6749 §5.2 error with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status.as_u16(), self.json["error"].as_str()),
            (status, Some(code)),
            "body: {}",
            self.text
        );
    }

    /// Asserts a 200 and returns the JSON body.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.text);
        &self.json
    }
}

/// A plain HTTP client: no cookies, no redirects followed.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http")
}

/// POSTs a form to `path` with `auth`.
pub async fn post_form(app: &TestApp, path: &str, auth: &Auth, form: &[(&str, &str)]) -> Reply {
    let mut fields: Vec<(&str, &str)> = form.to_vec();
    let mut request = http().post(app.url(path));
    match auth {
        Auth::Basic(id, secret) => request = request.basic_auth(id, Some(secret)),
        Auth::Post(id, secret) => fields.extend([
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ]),
        Auth::Public(id) => fields.push(("client_id", id.as_str())),
        Auth::Nothing => {}
    }
    Reply::read(request.form(&fields).send().await.expect("request")).await
}

pub async fn token(app: &TestApp, auth: &Auth, form: &[(&str, &str)]) -> Reply {
    post_form(app, "/token", auth, form).await
}

/// A PKCE pair (RFC 7636 §4.1–4.2, S256).
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let verifier = salyk_idp::security::random_token(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

/// An authorization request URL for `client_id`.
pub fn authorize_url(
    app: &TestApp,
    client_id: &str,
    scope: &str,
    challenge: Option<&str>,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT_URI);
    query
        .append_pair("scope", scope)
        .append_pair("state", "st-1")
        .append_pair("nonce", NONCE);
    if let Some(challenge) = challenge {
        query
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
    }
    app.url(&format!("/authorize?{}", query.finish()))
}

/// Runs the browser part of the code flow (signing in if the browser has no session) and
/// returns the code.
pub async fn authorize_code(
    app: &TestApp,
    browser: &reqwest::Client,
    client_id: &str,
    scope: &str,
    challenge: Option<&str>,
) -> String {
    let back = sign_in(
        app,
        browser,
        &authorize_url(app, client_id, scope, challenge),
        LOGIN,
        PASSWORD,
        None,
    )
    .await;
    assert!(
        location(&back).starts_with(REDIRECT_URI),
        "expected the client's redirect URI, got {}",
        location(&back)
    );
    let params = location_params(&back);
    params
        .get("code")
        .unwrap_or_else(|| panic!("no code in {}", location(&back)))
        .clone()
}

/// Redeems `code` with the client's own authentication.
pub async fn redeem(
    app: &TestApp,
    client: &TestClient,
    code: &str,
    verifier: Option<&str>,
) -> Reply {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    token(app, &client.auth(), &form).await
}

/// The whole code flow with PKCE; returns the successful token response.
pub async fn signed_in_tokens(
    app: &TestApp,
    browser: &reqwest::Client,
    client: &TestClient,
    scope: &str,
) -> Value {
    let pair = pkce();
    let code = authorize_code(app, browser, &client.id, scope, Some(&pair.challenge)).await;
    let reply = redeem(app, client, &code, Some(&pair.verifier)).await;
    reply.ok().clone()
}

pub async fn refresh(
    app: &TestApp,
    client: &TestClient,
    refresh_token: &str,
    scope: Option<&str>,
) -> Reply {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    token(app, &client.auth(), &form).await
}

/// `GET /userinfo` with a bearer header.
pub async fn userinfo(app: &TestApp, access_token: &str) -> Reply {
    Reply::read(
        http()
            .get(app.url("/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("userinfo"),
    )
    .await
}

pub async fn introspect(app: &TestApp, client: &TestClient, token: &str) -> Reply {
    post_form(app, "/introspect", &client.auth(), &[("token", token)]).await
}

/// Whether introspection (by `client`) calls the token active; asserts the 200.
pub async fn is_active(app: &TestApp, client: &TestClient, token: &str) -> bool {
    let reply = introspect(app, client, token).await;
    reply.ok()["active"]
        .as_bool()
        .unwrap_or_else(|| panic!("no active in {}", reply.text))
}

pub async fn revoke(app: &TestApp, client: &TestClient, token: &str) -> Reply {
    post_form(app, "/revoke", &client.auth(), &[("token", token)]).await
}

fn jwt_part(jwt: &str, index: usize) -> Value {
    let part = jwt
        .split('.')
        .nth(index)
        .unwrap_or_else(|| panic!("not a JWT: {jwt}"));
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// The JOSE header of a compact JWS (not verified).
pub fn jwt_header(jwt: &str) -> Value {
    jwt_part(jwt, 0)
}

/// The claims of a compact JWS (not verified).
pub fn jwt_claims(jwt: &str) -> Value {
    jwt_part(jwt, 1)
}

/// Verifies a JWT's signature against the provider's published JWKS (by `kid` and `alg`)
/// and returns its claims.
pub async fn verify_with_jwks(app: &TestApp, jwt: &str) -> Value {
    use josekit::jws::{JwsVerifier, ES256, RS256};
    let jwks: Value = http()
        .get(app.url("/jwks"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("jwks JSON");
    let header = jwt_header(jwt);
    let kid = header["kid"].as_str().expect("kid in the JOSE header");
    let key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("kid {kid} is not published"));
    let jwk =
        josekit::jwk::Jwk::from_map(key.as_object().expect("JWK object").clone()).expect("JWK");
    let verifier: Box<dyn JwsVerifier> = match header["alg"].as_str() {
        Some("RS256") => Box::new(RS256.verifier_from_jwk(&jwk).expect("RS256 key")),
        Some("ES256") => Box::new(ES256.verifier_from_jwk(&jwk).expect("ES256 key")),
        other => panic!("unexpected alg {other:?}"),
    };
    let (payload, _) = josekit::jws::deserialize_compact(jwt, verifier.as_ref())
        .expect("signature verifies with the published key");
    serde_json::from_slice(&payload).expect("claims JSON")
}
