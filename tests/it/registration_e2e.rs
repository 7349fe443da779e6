//! Registration end to end through the real pages (R1, R3, R5, A6): a person, and an
//! organization's accountant, fill `/register` («Поиск» without JavaScript, then
//! «Зарегистрироваться»), an inspector of the application's office approves it on
//! `/inspector` with «Паспорт предъявлен», and a relying party built with the `openidconnect`
//! library signs in with the generated login and the registration password — getting the
//! person's INN, or the organization's `account` claim. A user who already has a login asks
//! to link an organization (R5) and, once approved, finds it on the selection page
//! (`prompt=select_account`). Last, the README's demo walkthrough, step by step.

use openidconnect::core::CoreAuthPrompt;
use openidconnect::TokenResponse;
use salyk_idp::demo::{NEWCOMER_INN, NEWCOMER_ORG_INN};
use salyk_idp::store::{Application, ApplicationKind};

use crate::authz_support::{first_hop, jwt_payload, unescape, Authz};
use crate::harness::*;
use crate::inspector::{console, decide, inspector, text, INSPECTOR_PASSWORD};
use crate::inspector_flow::generated_login;
use crate::oidc_flow::{library_client, library_code_flow};
use crate::registration::{
    legal_form, open, person_form, post, saved_number, setup, IP_OK, NEW_PASSWORD, ORG, ORG_LINK,
    PERSON,
};

/// Fills `/register` as a person does: «Поиск» (the no-JavaScript form round trip) fills the
/// names, the address and «Код УГНС»; then «Зарегистрироваться» with the office the page
/// selected. A legal-entity form when `org_inn` is given. Returns the office and the page.
async fn register_on_page(
    app: &TestApp,
    org_inn: Option<&str>,
    inn: &str,
    password: &str,
) -> (String, String) {
    let (b, csrf) = open(app).await;
    let form = match org_inn {
        Some(org) => legal_form(&csrf, org, inn, password),
        None => person_form(&csrf, inn, password),
    };
    let mut lookup = form.clone();
    lookup.retain(|(k, _)| {
        !matches!(
            *k,
            "org_name" | "full_name" | "address" | "ugns_code" | "action"
        )
    });
    lookup.push(("action", "lookup"));
    let (_, filled) = post(app, &b, "/register", &lookup).await;
    let office = filled
        .split("<option value=\"")
        .skip(1)
        .find(|option| option.contains("\" selected>"))
        .and_then(|option| option.split('"').next())
        .unwrap_or_else(|| panic!("«Поиск» selected no office:\n{filled}"))
        .to_owned();
    let submitted: Vec<(&str, &str)> = form
        .into_iter()
        .map(|(k, v)| match k {
            "ugns_code" => (k, office.as_str()),
            _ => (k, v),
        })
        .collect();
    let (status, page) = post(app, &b, "/register", &submitted).await;
    assert_eq!(status, 200, "{page}");
    (office, unescape(&page))
}

/// Signs in to `/inspector` as `login` and approves application `number` with «Паспорт
/// предъявлен»; returns the result page.
async fn approve_on_console(app: &TestApp, login: &str, password: &str, number: i64) -> String {
    let (b, queue) = console(app, login, password).await;
    assert!(
        text(queue)
            .await
            .contains(&format!("/inspector/applications/{number}\"")),
        "application {number} is in {login}'s queue"
    );
    let done = decide(app, &b, number, "approve", &[("passport_checked", "yes")]).await;
    assert_eq!(done.status(), 200);
    text(done).await
}

/// The claims of an ID token the `openidconnect` library verified, for a code flow on
/// `browser` with `login`/`password`, choosing the account with INN `account_inn`.
async fn library_claims(
    app: &TestApp,
    browser: &reqwest::Client,
    (client_id, secret): (&str, Option<String>),
    login: (&str, &str),
    account_inn: Option<&str>,
    prompt: Option<CoreAuthPrompt>,
) -> serde_json::Value {
    let client = library_client(app, client_id, secret).await;
    let (tokens, nonce) =
        library_code_flow(app, &client, browser, login, account_inn, &[], prompt).await;
    let id_token = tokens.id_token().expect("id token");
    id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("ID token verified by the library");
    jwt_payload(&id_token.to_string())
}

/// `PERSON` registers on the page (for `org`, as its accountant, if given), an inspector of
/// the office «Поиск» chose approves, and a fresh client signs in with the generated login
/// and the registration password, choosing `org`'s account. Returns the office, the
/// application and the verified ID token's claims.
async fn register_approve_sign_in(
    app: &TestApp,
    org: Option<&str>,
) -> (String, Application, serde_json::Value) {
    let (office, page) = register_on_page(app, org, PERSON, NEW_PASSWORD).await;
    let number = saved_number(&page);
    let inspector_login = format!("inspector{office}");
    inspector(app, &inspector_login, "20505198099020", &[&office]).await;
    let login = generated_login(
        &approve_on_console(app, &inspector_login, INSPECTOR_PASSWORD, number).await,
    );
    assert_eq!(login, format!("{PERSON}001"));
    let (client_id, secret) = app.client(ClientSpec::default()).await;
    let claims = library_claims(
        app,
        &browser(),
        (&client_id, secret),
        (&login, NEW_PASSWORD),
        org,
        None,
    )
    .await;
    let application = app.state.store.application(number).await.unwrap().unwrap();
    (office, application, claims)
}

async fn person_registers_and_signs_in(backend: Backend) {
    let app = setup(backend).await;
    let (office, application, claims) = register_approve_sign_in(&app, None).await;
    assert_eq!(office, "004", "the registry's office of the person");
    assert_eq!(application.kind, ApplicationKind::Person);
    assert_eq!(claims["inn"], PERSON);
    assert_eq!(claims["account"]["kind"], "individual");
    assert_eq!(claims["account"]["inn"], PERSON);
    assert_eq!(claims["account"]["role"], "self");
}

async fn accountant_registers_organization_and_signs_in_as_it(backend: Backend) {
    let app = setup(backend).await;
    let (office, application, claims) = register_approve_sign_in(&app, Some(ORG)).await;
    assert_eq!(office, "002", "«Поиск» takes the organization's office");
    assert_eq!(application.kind, ApplicationKind::LegalEntity);
    assert_eq!(claims["inn"], PERSON);
    assert_eq!(claims["account"]["kind"], "organization");
    assert_eq!(claims["account"]["inn"], ORG);
    assert_eq!(claims["account"]["name"], "ОсОО «ДЕМО Софт»");
    assert_eq!(claims["account"]["role"], "accountant");
}

async fn link_request_appears_on_the_selection_page(backend: Backend) {
    let app = setup(backend).await;
    let login = format!("{IP_OK}001");
    app.user(&login, IP_OK, "Демонов Азамат Бекович", PASSWORD)
        .await;
    let (client_id, secret) = app.client(ClientSpec::default()).await;
    // Signed in once with the personal account: the choice is remembered for the client.
    let b = browser();
    let before = library_claims(
        &app,
        &b,
        (&client_id, secret.clone()),
        (&login, PASSWORD),
        None,
        None,
    )
    .await;
    assert_eq!(before["account"]["kind"], "individual");

    let (office, page) = register_on_page(&app, Some(ORG_LINK), IP_OK, PASSWORD).await;
    assert_eq!(office, "005");
    assert!(
        page.contains("Запрос на привязку организации отправлен инспектору"),
        "{page}"
    );
    inspector(&app, "inspector005", "20505198099020", &["005"]).await;
    let number = saved_number(&page);
    let done = approve_on_console(&app, "inspector005", INSPECTOR_PASSWORD, number).await;
    assert!(
        done.contains("Учётная запись организации добавлена") && done.contains(&login),
        "{done}"
    );

    // prompt=select_account asks again, and the new organization account is offered.
    let request = Authz::new(&client_id).set("prompt", "select_account");
    let account_page = first_hop(&app, &b, &request).await;
    assert!(account_page.starts_with("/login/account"), "{account_page}");
    assert_eq!(
        radio_values(&get_text(&app, &b, &account_page).await),
        vec![
            format!("individual:{IP_OK}"),
            format!("organization:{ORG_LINK}")
        ]
    );
    let after = library_claims(
        &app,
        &b,
        (&client_id, secret),
        (&login, PASSWORD),
        Some(ORG_LINK),
        Some(CoreAuthPrompt::SelectAccount),
    )
    .await;
    assert_eq!(after["account"]["inn"], ORG_LINK);
    assert_eq!(after["account"]["role"], "head");
}

both_backends!(
    person_registers_and_signs_in,
    accountant_registers_organization_and_signs_in_as_it,
    link_request_appears_on_the_selection_page,
);

/// The README's «Walkthrough: registration and the inspector» on `idp demo`'s data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_walkthrough_of_the_readme() {
    let app = TestApp::spawn_demo().await;
    let password = "nurzhan-parol-2026";
    let inspector = (
        salyk_idp::cli::DEMO_INSPECTOR_LOGIN,
        salyk_idp::cli::DEMO_INSPECTOR_PASSWORD,
    );
    // 1. The person.
    let (office, page) = register_on_page(&app, None, NEWCOMER_INN, password).await;
    assert_eq!(office, "003");
    let person = saved_number(&page);
    // (The organization cannot be asked for while her own application waits.)
    let (_, page) = register_on_page(&app, Some(NEWCOMER_ORG_INN), NEWCOMER_INN, password).await;
    assert!(
        page.contains("Ваша заявка на регистрацию ещё ожидает рассмотрения"),
        "{page}"
    );
    // 2. The inspector approves her.
    let login = generated_login(&approve_on_console(&app, inspector.0, inspector.1, person).await);
    assert_eq!(login, format!("{NEWCOMER_INN}001"));
    // 3. ОсОО «ДЕМО Софт» by its accountant, with the same password: a link request.
    let (office, page) =
        register_on_page(&app, Some(NEWCOMER_ORG_INN), NEWCOMER_INN, password).await;
    assert_eq!(office, "002");
    assert!(page.contains("Запрос на привязку организации"), "{page}");
    // 4. The inspector approves the link.
    let done = approve_on_console(&app, inspector.0, inspector.1, saved_number(&page)).await;
    assert!(
        done.contains("Учётная запись организации добавлена"),
        "{done}"
    );
    // 5. The demo service: sign in, choose the organization, see its claims.
    let b = browser();
    let start = b.get(app.url("/demo/start")).send().await.unwrap();
    let back = sign_in(
        &app,
        &b,
        &location(&start),
        &login,
        password,
        Some(NEWCOMER_ORG_INN),
    )
    .await;
    let callback = location(&back);
    assert!(
        callback.starts_with(&app.url("/demo/callback?")),
        "{callback}"
    );
    let page = unescape(&get_text(&app, &b, &callback[app.base.len()..]).await);
    assert!(
        page.contains(&format!("id=\"account-inn\">{NEWCOMER_ORG_INN}<")),
        "{page}"
    );
    assert!(
        page.contains("id=\"account-name\">ОсОО «ДЕМО Софт»<"),
        "{page}"
    );
    assert!(page.contains("\"role\": \"accountant\""), "{page}");
}
