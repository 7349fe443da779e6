//! The whole relying-party journey through a certified client library (`openidconnect`):
//! discovery → authorize (PKCE, nonce, state) → sign-in form → account choice → code →
//! tokens → ID-token verification → userinfo → refresh (rotation, reuse) → introspect →
//! revoke → logout, on both backend families. The library's client and its code flow
//! (`library_client`, `library_code_flow`) also serve `registration_e2e`.

use base64::Engine;
use openidconnect::core::{
    CoreAuthPrompt, CoreClient, CoreGenderClaim, CoreProviderMetadata, CoreResponseType,
    CoreTokenResponse,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IntrospectionUrl, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenIntrospectionResponse,
    TokenResponse, UserInfoClaims,
};
use salyk_idp::store::MemberRole;
use serde::{Deserialize, Serialize};

use crate::harness::*;

#[derive(Debug, Clone, Deserialize, Serialize)]
struct SalykClaims {
    inn: String,
    account: serde_json::Value,
}
impl AdditionalClaims for SalykClaims {}

const LOGIN: &str = "21207198599011001";
const INN: &str = "21207198599011";
const ORG_INN: &str = "01503201699001";

fn payload(jwt: &str) -> serde_json::Value {
    let part = jwt.split('.').nth(1).expect("jwt payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .expect("b64"),
    )
    .expect("json")
}

pub fn rp_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http")
}

/// A relying party as the `openidconnect` library builds it from discovery, with our
/// redirect URI and the introspection endpoint.
pub(crate) type LibraryClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Discovers the provider and builds the library's client for `client_id`.
pub(crate) async fn library_client(
    app: &TestApp,
    client_id: &str,
    secret: Option<String>,
) -> LibraryClient {
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &rp_http())
            .await
            .expect("discovery");
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_owned()),
        secret.map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap())
    .set_introspection_url(IntrospectionUrl::new(app.url("/introspect")).unwrap())
}

/// The code flow as the library runs it (PKCE, state, nonce, `scopes` beyond `openid`,
/// `prompt`), signing in on `browser` with `login`/`password` and choosing the account with
/// INN `account_inn` (or the first) if asked; checks `state` and `iss` and returns the token
/// response and the nonce to verify its ID token with.
pub(crate) async fn library_code_flow(
    app: &TestApp,
    client: &LibraryClient,
    browser: &reqwest::Client,
    (login, password): (&str, &str),
    account_inn: Option<&str>,
    scopes: &[&str],
    prompt: Option<CoreAuthPrompt>,
) -> (CoreTokenResponse, Nonce) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    if let Some(prompt) = prompt {
        request = request.add_prompt(prompt);
    }
    let (url, csrf_state, nonce) = request.url();
    let back = sign_in(app, browser, url.as_str(), login, password, account_inn).await;
    let params = location_params(&back);
    assert!(location(&back).starts_with(REDIRECT_URI));
    assert_eq!(params["state"], *csrf_state.secret());
    assert_eq!(params["iss"], app.base, "RFC 9207 iss");
    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&rp_http())
        .await
        .expect("code exchange");
    (tokens, nonce)
}

async fn full_journey(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app
        .user(LOGIN, INN, "Демонов Азамат Бекович", PASSWORD)
        .await;
    app.org_member(&user, ORG_INN, "ОсОО «ДЕМО Импорт Трейд»", MemberRole::Head)
        .await;
    let (client_id, secret) = app.client(ClientSpec::default()).await;

    let http = rp_http();
    let client = library_client(&app, &client_id, secret.clone()).await;
    let browser = browser();
    let (tokens, nonce) = library_code_flow(
        &app,
        &client,
        &browser,
        (LOGIN, PASSWORD),
        Some(ORG_INN),
        &["profile", "offline_access"],
        None,
    )
    .await;
    let id_token = tokens.id_token().expect("id token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("ID token verified by the library");
    assert_eq!(claims.subject().as_str(), user.id);
    assert!(claims.auth_time().is_some());
    let raw = payload(&id_token.to_string());
    assert_eq!(raw["inn"], INN);
    assert_eq!(raw["account"]["kind"], "organization");
    assert_eq!(raw["account"]["inn"], ORG_INN);
    assert_eq!(raw["account"]["role"], "head");
    assert_eq!(raw["account"]["ugns_code"], "004");
    assert_eq!(raw["amr"], serde_json::json!(["pwd"]));
    assert_eq!(raw["acr"], "low");
    assert_eq!(raw["family_name"], "Демонов");
    assert_eq!(raw["middle_name"], "Бекович");
    let at = payload(tokens.access_token().secret());
    assert_eq!(at["client_id"], client_id);

    let info: UserInfoClaims<SalykClaims, CoreGenderClaim> = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.subject().as_str(), user.id);
    assert_eq!(info.additional_claims().inn, INN);
    assert_eq!(info.additional_claims().account["inn"], ORG_INN);

    // Refresh rotates; the old token reused revokes the family.
    let first_refresh = tokens.refresh_token().expect("refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    let second_refresh = refreshed
        .refresh_token()
        .expect("rotated refresh token")
        .clone();
    assert_ne!(first_refresh.secret(), second_refresh.secret());
    let refreshed_id = payload(
        &refreshed
            .id_token()
            .expect("id token on refresh")
            .to_string(),
    );
    assert_eq!(refreshed_id["account"]["inn"], ORG_INN);

    let introspected = client
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .expect("introspect");
    assert!(introspected.active());
    assert_eq!(
        introspected.client_id().map(|c| c.as_str().to_owned()),
        Some(client_id.clone())
    );

    assert!(
        client
            .exchange_refresh_token(&first_refresh)
            .unwrap()
            .request_async(&http)
            .await
            .is_err(),
        "reuse of a rotated refresh token must fail"
    );
    assert!(
        client
            .exchange_refresh_token(&second_refresh)
            .unwrap()
            .request_async(&http)
            .await
            .is_err(),
        "reuse revokes the whole family"
    );
    let after_reuse = client
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .expect("introspect");
    assert!(
        !after_reuse.active(),
        "access tokens of a revoked family are inactive"
    );

    // A fresh grant (the SSO session holds: no password asked) to revoke explicitly.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce2) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let back = browser.get(url.as_str()).send().await.unwrap();
    assert!(
        location(&back).starts_with(REDIRECT_URI),
        "SSO + remembered choice skip every page, got {}",
        location(&back)
    );
    let code = location_params(&back)["code"].clone();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().unwrap().clone();
    id_token
        .claims(&client.id_token_verifier(), &nonce2)
        .expect("second ID token");
    let refresh = tokens.refresh_token().unwrap().clone();
    // The library refuses to revoke over plain http (RFC 7009 §2 requires TLS), so this
    // one request is made by hand, exactly as the library would.
    let revoked = http
        .post(app.url("/revoke"))
        .basic_auth(&client_id, secret.as_deref())
        .form(&[
            ("token", refresh.secret().as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert!(client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await
        .is_err());
    assert!(!client
        .introspect(tokens.access_token())
        .request_async(&http)
        .await
        .unwrap()
        .active());
    let revoked: Result<UserInfoClaims<SalykClaims, CoreGenderClaim>, _> = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(
        revoked.is_err(),
        "userinfo refuses a revoked grant's access token"
    );

    // RP-initiated logout with a hint ends the session at once and returns with state.
    let logout = browser
        .get(app.url("/logout"))
        .query(&[
            ("id_token_hint", id_token.to_string().as_str()),
            ("post_logout_redirect_uri", POST_LOGOUT_URI),
            ("state", "bye"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 303);
    assert_eq!(location(&logout), format!("{POST_LOGOUT_URI}?state=bye"));
    let (url, _, _) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .add_prompt(openidconnect::core::CoreAuthPrompt::None)
        .url();
    let after = browser.get(url.as_str()).send().await.unwrap();
    assert_eq!(location_params(&after)["error"], "login_required");
}

both_backends!(full_journey);
