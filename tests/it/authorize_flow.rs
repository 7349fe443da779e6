//! The interactive rules of an authorization request (OIDC Core §3.1.2.1–§3.1.2.6):
//! `prompt` (none, login, consent, select_account), `max_age` and `auth_time`,
//! `login_hint`, `id_token_hint`, `acr_values`, and remembered account choices (A6).

use base64::Engine;
use salyk_idp::store::MemberRole;

use crate::authz_support::*;
use crate::harness::*;

async fn setup(backend: Backend) -> (TestApp, Rp, salyk_idp::store::User) {
    let app = TestApp::spawn(backend).await;
    let user = app.user(LOGIN, INN, NAME, PASSWORD).await;
    let client = rp(&app, ClientSpec::default()).await;
    (app, client, user)
}

async fn rp_with_name(app: &TestApp, name: &str) -> Rp {
    rp(
        app,
        ClientSpec {
            name: Some(name.into()),
            ..Default::default()
        },
    )
    .await
}

async fn prompt_none_without_session_is_login_required(backend: Backend) {
    let (app, rp, _) = setup(backend).await;
    let response = start(&app, &browser(), &Authz::new(&rp.id).set("prompt", "none")).await;
    let params = assert_client_error(&app, &response, "login_required");
    assert!(params.contains_key("error_description"));
}

async fn prompt_none_without_remembered_choice(backend: Backend) {
    let (app, rp, user) = setup(backend).await;
    let elsewhere = rp_with_name(&app, "Another RP").await;
    let b = browser();
    // A session exists (signed in at another client), but nothing was chosen for `rp`.
    code_for(&app, &b, &Authz::new(&elsewhere.id)).await;
    let response = start(&app, &b, &Authz::new(&rp.id).set("prompt", "none")).await;
    assert_client_error(&app, &response, "consent_required");
    // With several accounts to choose from the answer is account_selection_required.
    app.org_member(&user, ORG_INN, ORG_NAME, MemberRole::Head)
        .await;
    let response = start(&app, &b, &Authz::new(&rp.id).set("prompt", "none")).await;
    assert_client_error(&app, &response, "account_selection_required");
    // Once chosen, prompt=none succeeds silently with that account.
    let back = sign_in(
        &app,
        &b,
        &Authz::new(&rp.id).url(&app),
        LOGIN,
        PASSWORD,
        Some(ORG_INN),
    )
    .await;
    assert_to_client(&app, &back);
    let response = start(&app, &b, &Authz::new(&rp.id).set("prompt", "none")).await;
    let code = assert_to_client(&app, &response)["code"].clone();
    assert_eq!(id_claims(&app, &rp, &code).await["account"]["inn"], ORG_INN);
}

async fn prompt_login_forces_sign_in(backend: Backend) {
    let (app, rp, _) = setup(backend).await;
    let b = browser();
    let code = code_for(&app, &b, &Authz::new(&rp.id)).await;
    let first = id_claims(&app, &rp, &code).await["auth_time"]
        .as_i64()
        .expect("auth_time");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let next = first_hop(&app, &b, &Authz::new(&rp.id).set("prompt", "login")).await;
    assert!(
        next.starts_with("/login?"),
        "prompt=login shows the password form despite the session, got {next}"
    );
    let back = submit_password(&app, &b, &next, LOGIN, PASSWORD).await;
    let code = assert_to_client(&app, &back)["code"].clone();
    let second = id_claims(&app, &rp, &code).await["auth_time"]
        .as_i64()
        .expect("auth_time");
    assert!(
        second > first,
        "auth_time reflects the new sign-in: {first} → {second}"
    );
}

async fn max_age_rules(backend: Backend) {
    let (app, rp, _) = setup(backend).await;
    let b = browser();
    code_for(&app, &b, &Authz::new(&rp.id)).await;
    // max_age=0 is prompt=login (OIDC Core §3.1.2.1), even within the second of signing in.
    let next = first_hop(&app, &b, &Authz::new(&rp.id).set("max_age", "0")).await;
    assert!(
        next.starts_with("/login?"),
        "max_age=0 forces sign-in, got {next}"
    );
    let back = submit_password(&app, &b, &next, LOGIN, PASSWORD).await;
    let code = assert_to_client(&app, &back)["code"].clone();
    assert!(
        id_claims(&app, &rp, &code).await["auth_time"].is_i64(),
        "max_age requires auth_time in the ID token"
    );
    // A generous max_age lets the session through, still with auth_time.
    let response = start(&app, &b, &Authz::new(&rp.id).set("max_age", "3600")).await;
    let code = assert_to_client(&app, &response)["code"].clone();
    assert!(id_claims(&app, &rp, &code).await["auth_time"].is_i64());
    // A session older than max_age is not.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let next = first_hop(&app, &b, &Authz::new(&rp.id).set("max_age", "1")).await;
    assert!(
        next.starts_with("/login?"),
        "an older session forces sign-in, got {next}"
    );
}

async fn select_account_and_consent_show_the_page(backend: Backend) {
    let (app, rp, user) = setup(backend).await;
    app.org_member(&user, ORG_INN, ORG_NAME, MemberRole::Accountant)
        .await;
    let b = browser();
    let back = sign_in(
        &app,
        &b,
        &Authz::new(&rp.id).url(&app),
        LOGIN,
        PASSWORD,
        Some(ORG_INN),
    )
    .await;
    assert_to_client(&app, &back);
    // Remembered: no page.
    let response = start(&app, &b, &Authz::new(&rp.id)).await;
    assert!(location(&response).starts_with(REDIRECT_URI));
    for prompt in ["select_account", "consent", "consent select_account"] {
        let next = first_hop(&app, &b, &Authz::new(&rp.id).set("prompt", prompt)).await;
        assert!(
            next.starts_with("/login/account?"),
            "prompt={prompt} shows the account page, got {next}"
        );
        let page = b
            .get(app.url(&next))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(radio_values(&page).len(), 2, "both accounts offered");
        assert!(
            page.contains(&format!(
                "value=\"organization:{ORG_INN}\" required checked"
            )),
            "the remembered choice is preselected:\n{page}"
        );
        // Choosing the personal account now changes the remembered choice.
        let back = submit_account(&app, &b, &next, &format!("individual:{INN}"), "allow").await;
        let code = assert_to_client(&app, &back)["code"].clone();
        assert_eq!(
            id_claims(&app, &rp, &code).await["account"]["kind"],
            "individual"
        );
        let back = sign_in(
            &app,
            &b,
            &Authz::new(&rp.id).set("prompt", "select_account").url(&app),
            LOGIN,
            PASSWORD,
            Some(ORG_INN),
        )
        .await;
        assert_to_client(&app, &back);
    }
}

async fn returning_user_with_one_account_skips_the_page(backend: Backend) {
    let (app, rp, _) = setup(backend).await;
    let b = browser();
    let next = first_hop(&app, &b, &Authz::new(&rp.id)).await;
    let after_login = submit_password(&app, &b, &next, LOGIN, PASSWORD).await;
    assert_eq!(after_login.status(), 303);
    let account_page = location(&after_login);
    assert!(
        account_page.starts_with("/login/account?"),
        "the first time, the user consents: {account_page}"
    );
    let back = submit_account(
        &app,
        &b,
        &account_page,
        &format!("individual:{INN}"),
        "allow",
    )
    .await;
    assert_to_client(&app, &back);
    let response = start(&app, &b, &Authz::new(&rp.id)).await;
    let code = assert_to_client(&app, &response)["code"].clone();
    assert_eq!(id_claims(&app, &rp, &code).await["account"]["inn"], INN);
    // Asking for more scopes than were consented to asks again.
    let next = first_hop(&app, &b, &Authz::new(&rp.id).set("scope", "openid profile")).await;
    assert!(
        next.starts_with("/login/account?"),
        "new scopes need consent, got {next}"
    );
}

async fn login_hint_prefills_the_login(backend: Backend) {
    let (app, rp, _) = setup(backend).await;
    let b = browser();
    let next = first_hop(&app, &b, &Authz::new(&rp.id).set("login_hint", LOGIN)).await;
    let page = b
        .get(app.url(&next))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(
            "name=\"login\" type=\"text\" autocomplete=\"username\" required value=\"{LOGIN}\""
        )),
        "{page}"
    );
    let hostile = first_hop(
        &app,
        &b,
        &Authz::new(&rp.id).set("login_hint", "\"><script>x</script>"),
    )
    .await;
    let page = b
        .get(app.url(&hostile))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("<script>x"), "the hint is escaped");
}

async fn id_token_hint_rules(backend: Backend) {
    let (app, rp, _) = setup(backend).await;
    app.user(OTHER_LOGIN, OTHER_INN, "Асанов Бакыт", PASSWORD)
        .await;
    let a = browser();
    let code = code_for(&app, &a, &Authz::new(&rp.id)).await;
    let token_a = raw_id_token(&app, &rp, &code).await;
    let b = browser();
    let back = sign_in(
        &app,
        &b,
        &Authz::new(&rp.id).url(&app),
        OTHER_LOGIN,
        PASSWORD,
        None,
    )
    .await;
    let code = assert_to_client(&app, &back)["code"].clone();
    let token_b = raw_id_token(&app, &rp, &code).await;
    // B's session does not satisfy a request hinting at A.
    let next = first_hop(&app, &b, &Authz::new(&rp.id).set("id_token_hint", &token_a)).await;
    assert!(
        next.starts_with("/login?"),
        "a hint for another user forces sign-in, got {next}"
    );
    let response = start(
        &app,
        &b,
        &Authz::new(&rp.id)
            .set("id_token_hint", &token_a)
            .set("prompt", "none"),
    )
    .await;
    assert_client_error(&app, &response, "login_required");
    // The hint for the signed-in user goes straight through.
    let response = start(
        &app,
        &b,
        &Authz::new(&rp.id)
            .set("id_token_hint", &token_b)
            .set("prompt", "none"),
    )
    .await;
    assert!(assert_to_client(&app, &response).contains_key("code"));
    // A token whose claims were altered (here: sub swapped to A's) is refused.
    let mut claims = jwt_payload(&token_b);
    claims["sub"] = jwt_payload(&token_a)["sub"].clone();
    let parts: Vec<&str> = token_b.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    let response = start(&app, &b, &Authz::new(&rp.id).set("id_token_hint", &forged)).await;
    assert_client_error(&app, &response, "invalid_request");
}

async fn acr_values_high_asks_for_a_signature(backend: Backend) {
    let (app, rp, _) = setup(backend).await;
    let b = browser();
    let next = first_hop(&app, &b, &Authz::new(&rp.id).set("acr_values", "high")).await;
    let page = b
        .get(app.url(&next))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Сервис требует входа с электронной подписью"),
        "{page}"
    );
    let next = first_hop(&app, &b, &Authz::new(&rp.id)).await;
    let page = b
        .get(app.url(&next))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Сервис требует входа с электронной подписью"));
    // A password session does not satisfy "high": sign-in is asked again.
    code_for(&app, &b, &Authz::new(&rp.id)).await;
    let next = first_hop(&app, &b, &Authz::new(&rp.id).set("acr_values", "high")).await;
    assert!(next.starts_with("/login?"), "got {next}");
    let response = start(&app, &b, &Authz::new(&rp.id).set("acr_values", "low")).await;
    assert!(assert_to_client(&app, &response).contains_key("code"));
}

both_backends!(
    prompt_none_without_session_is_login_required,
    prompt_none_without_remembered_choice,
    prompt_login_forces_sign_in,
    max_age_rules,
    select_account_and_consent_show_the_page,
    returning_user_with_one_account_skips_the_page,
    login_hint_prefills_the_login,
    id_token_hint_rules,
    acr_values_high_asks_for_a_signature,
);
