//! Approval end to end (R3, R5): the generated login shown for handing over, then a full
//! OIDC flow with that login and the application's password choosing the organization whose
//! INN the ID token's `account` claim then carries; a link request adding the organization
//! to an existing user's account choice; the login algorithm under concurrent approvals by
//! two inspectors (distinct logins, INN+001, INN+002 when 001 is taken, one winner per
//! application); and the demo inspector.

use salyk_idp::store::{ApplicationKind, ApplicationStatus};

use crate::authz_support::*;
use crate::harness::*;
use crate::inspector::*;

/// The login on an approval's result page.
pub(crate) fn generated_login(html: &str) -> String {
    let marker = "id=\"generated-login\">";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no generated login:\n{html}"))
        + marker.len();
    html[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

async fn approval_event(app: &TestApp, number: i64) -> salyk_idp::store::AuditEvent {
    app.state
        .store
        .recent_events(100)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.kind == "registration.approve" && e.detail["application"] == number)
        .unwrap_or_else(|| panic!("no registration.approve event for {number}"))
}

async fn legal_entity_approved_then_signs_in_as_organization(backend: Backend) {
    let app = setup(backend).await;
    let inspector_id = inspector(&app, "inspector004", "20505198099020", &["004"]).await;
    let password = "nurzhan-parol-2026";
    let a = apply(
        &app,
        ApplicationKind::LegalEntity,
        "004",
        PERSON_003,
        Some(ORG_SOFT),
        password,
    )
    .await;
    let (b, _) = console(&app, "inspector004", INSPECTOR_PASSWORD).await;

    let before = salyk_idp::clock::now();
    let done = decide(
        &app,
        &b,
        a.number,
        "approve",
        &[("passport_checked", "yes")],
    )
    .await;
    assert_eq!(done.status(), 200);
    let html = text(done).await;
    assert!(
        html.contains("Логин для передачи налогоплательщику:"),
        "{html}"
    );
    let login = generated_login(&html);
    assert_eq!(login, format!("{}001", PERSON_003.0));

    let stored = app
        .state
        .store
        .application(a.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ApplicationStatus::Approved);
    assert_eq!(stored.login.as_deref(), Some(login.as_str()));
    let user = app
        .state
        .store
        .user_by_login(&login)
        .await
        .unwrap()
        .expect("user");
    assert_eq!(
        (
            user.inn.as_str(),
            user.family_name.as_str(),
            user.given_name.as_str(),
            user.middle_name.as_deref()
        ),
        (PERSON_003.0, "Демонова", "Нуржан", Some("Маратовна"))
    );

    let event = approval_event(&app, a.number).await;
    assert_eq!(event.actor.as_deref(), Some(inspector_id.as_str()));
    assert_eq!(event.subject, Some(a.number.to_string()));
    assert!(event.at >= before && event.at <= salyk_idp::clock::now());
    assert_eq!(event.detail["inspector_id"], inspector_id.as_str());
    assert_eq!(event.detail["inspector_login"], "inspector004");
    assert_eq!(event.detail["passport_checked"], true);
    assert_eq!(event.detail["login"], login.as_str());
    assert_eq!(event.detail["org_inn"], ORG_SOFT.0);
    assert_eq!(event.detail["role"], "accountant");

    // The taxpayer signs in to a service with the handed-over login and their password.
    let rp = rp(&app, ClientSpec::default()).await;
    let taxpayer = browser();
    let back = sign_in(
        &app,
        &taxpayer,
        &Authz::new(&rp.id).url(&app),
        &login,
        password,
        Some(ORG_SOFT.0),
    )
    .await;
    let code = assert_to_client(&app, &back)["code"].clone();
    let tokens: serde_json::Value = redeem(&app, &rp, &code, VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    let claims = jwt_payload(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(claims["inn"], PERSON_003.0);
    assert_eq!(claims["account"]["inn"], ORG_SOFT.0);
    assert_eq!(claims["account"]["kind"], "organization");
    assert_eq!(claims["account"]["role"], "accountant");
    assert_eq!(claims["account"]["name"], ORG_SOFT.1);
}

async fn link_request_adds_organization_account(backend: Backend) {
    let app = setup(backend).await;
    inspector(&app, "inspector004", "20505198099020", &["004"]).await;
    let user = app
        .user("21207198599011001", PERSON_004.0, PERSON_004.1, PASSWORD)
        .await;
    let a = apply(
        &app,
        ApplicationKind::LinkRequest,
        "004",
        PERSON_004,
        Some(ORG_TRADE),
        PASSWORD,
    )
    .await;
    assert_eq!(a.existing_user_id.as_deref(), Some(user.id.as_str()));
    let (b, page) = console(&app, "inspector004", INSPECTOR_PASSWORD).await;
    assert!(text(page).await.contains("привязка организации"));

    let done = decide(&app, &b, a.number, "approve", &[("passport_checked", "on")]).await;
    assert_eq!(done.status(), 200);
    let html = text(done).await;
    assert!(
        html.contains("Учётная запись организации добавлена") && html.contains("21207198599011001"),
        "{html}"
    );
    assert!(
        app.state
            .store
            .user_by_login("21207198599011002")
            .await
            .unwrap()
            .is_none(),
        "no new login"
    );
    assert_eq!(
        approval_event(&app, a.number).await.detail["login_generated"],
        false
    );

    // Signing in now shows the account choice with the new organization account.
    let rp = rp(&app, ClientSpec::default()).await;
    let taxpayer = browser();
    let next = first_hop(&app, &taxpayer, &Authz::new(&rp.id)).await;
    let account_page =
        location(&submit_password(&app, &taxpayer, &next, "21207198599011001", PASSWORD).await);
    assert!(account_page.starts_with("/login/account"), "{account_page}");
    let page = taxpayer
        .get(app.url(&account_page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        radio_values(&page),
        vec![
            format!("individual:{}", PERSON_004.0),
            format!("organization:{}", ORG_TRADE.0)
        ]
    );
    assert!(unescape(&page).contains(ORG_TRADE.1));
}

/// Approves `numbers` concurrently from one inspector's browser; returns (number, status, page).
async fn approve_all(
    app: &TestApp,
    b: &reqwest::Client,
    numbers: &[i64],
) -> Vec<tokio::task::JoinHandle<(i64, u16, String)>> {
    let csrf = csrf_of(app, b).await;
    numbers
        .iter()
        .map(|&number| {
            let (b, csrf, url) = (
                b.clone(),
                csrf.clone(),
                app.url(&format!("/inspector/applications/{number}/approve")),
            );
            tokio::spawn(async move {
                let response = b
                    .post(url)
                    .form(&[("csrf", csrf.as_str()), ("passport_checked", "yes")])
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                (number, status, text(response).await)
            })
        })
        .collect()
}

async fn concurrent_approvals_get_distinct_logins(backend: Backend) {
    let app = setup(backend).await;
    inspector(&app, "inspector004", "20505198099020", &["004"]).await;
    inspector(&app, "inspector003", "20505198099021", &["003", "004"]).await;
    // Someone already has the login INN+001 of the last applicant.
    app.user(
        "20101197099025001",
        "20202198099030",
        "Занятов Логин Иванович",
        PASSWORD,
    )
    .await;
    let mut numbers = Vec::new();
    for i in 0..6 {
        let inn = format!("2010119709902{i}");
        let name = format!("Тестов{i} Иван Петрович");
        let office = if i < 3 { "004" } else { "003" };
        let a = apply(
            &app,
            ApplicationKind::Person,
            office,
            (&inn, &name),
            None,
            PASSWORD,
        )
        .await;
        numbers.push((a.number, inn));
    }
    let contested = apply(
        &app,
        ApplicationKind::Person,
        "004",
        PERSON_004,
        None,
        PASSWORD,
    )
    .await;

    let (b004, _) = console(&app, "inspector004", INSPECTOR_PASSWORD).await;
    let (b003, _) = console(&app, "inspector003", INSPECTOR_PASSWORD).await;
    let ours: Vec<i64> = numbers[..3]
        .iter()
        .map(|(n, _)| *n)
        .chain([contested.number])
        .collect();
    let theirs: Vec<i64> = numbers[3..]
        .iter()
        .map(|(n, _)| *n)
        .chain([contested.number])
        .collect();
    let mut tasks = approve_all(&app, &b004, &ours).await;
    tasks.extend(approve_all(&app, &b003, &theirs).await);
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }

    let mut logins = Vec::new();
    for (number, inn) in &numbers {
        let (_, status, html) = results.iter().find(|(n, ..)| n == number).unwrap();
        assert_eq!(*status, 200, "{html}");
        let login = generated_login(html);
        let suffix = if inn.ends_with('5') { "002" } else { "001" };
        assert_eq!(login, format!("{inn}{suffix}"));
        let user = app
            .state
            .store
            .user_by_login(&login)
            .await
            .unwrap()
            .expect("user");
        assert_eq!(&user.inn, inn);
        logins.push(login);
    }
    let mut distinct = logins.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 6, "{logins:?}");

    // The application both inspectors approved at once: one approval, one «already decided».
    let mut contest: Vec<u16> = results
        .iter()
        .filter(|(n, ..)| *n == contested.number)
        .map(|(_, s, _)| *s)
        .collect();
    contest.sort();
    assert_eq!(contest, [200, 409]);
    assert!(app
        .state
        .store
        .user_by_login(&format!("{}001", PERSON_004.0))
        .await
        .unwrap()
        .is_some());
    assert!(app
        .state
        .store
        .user_by_login(&format!("{}002", PERSON_004.0))
        .await
        .unwrap()
        .is_none());
}

async fn conflicts_are_readable_and_change_nothing(backend: Backend) {
    let app = setup(backend).await;
    inspector(&app, "inspector004", "20505198099020", &["004"]).await;
    // The person already has a user; someone who is neither head nor accountant.
    app.user("21207198599011001", PERSON_004.0, PERSON_004.1, PASSWORD)
        .await;
    let taken = apply(
        &app,
        ApplicationKind::Person,
        "004",
        PERSON_004,
        None,
        PASSWORD,
    )
    .await;
    let outsider = apply(
        &app,
        ApplicationKind::LegalEntity,
        "004",
        ("20101197099015", "Демонов Бакыт Таалайбекович"),
        Some(ORG_SOFT),
        PASSWORD,
    )
    .await;
    let (b, _) = console(&app, "inspector004", INSPECTOR_PASSWORD).await;
    for (number, message) in [
        (taken.number, "Пользователь с этим ИНН уже зарегистрирован"),
        (
            outsider.number,
            "заявитель не является руководителем или бухгалтером",
        ),
    ] {
        let refused = decide(&app, &b, number, "approve", &[("passport_checked", "yes")]).await;
        assert_eq!(refused.status(), 409);
        assert!(text(refused).await.contains(message), "{message}");
        let stored = app.state.store.application(number).await.unwrap().unwrap();
        assert_eq!(stored.status, ApplicationStatus::Pending);
    }
    assert!(app
        .state
        .store
        .user_by_login("21207198599011002")
        .await
        .unwrap()
        .is_none());
    assert!(app
        .state
        .store
        .user_by_inn("20101197099015")
        .await
        .unwrap()
        .is_none());
}

both_backends!(
    legal_entity_approved_then_signs_in_as_organization,
    conflicts_are_readable_and_change_nothing,
    link_request_adds_organization_account,
    concurrent_approvals_get_distinct_logins,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_inspector_sees_the_console() {
    let app = TestApp::spawn_demo().await;
    let (_, page) = console(
        &app,
        salyk_idp::cli::DEMO_INSPECTOR_LOGIN,
        salyk_idp::cli::DEMO_INSPECTOR_PASSWORD,
    )
    .await;
    assert_eq!(page.status(), 200);
    let html = text(page).await;
    for office in ["001 —", "004 —", "032 —", "999 —"] {
        assert!(
            html.contains(office),
            "{office} in the demo inspector's offices:\n{html}"
        );
    }
}
