//! The inspector console (R3, R5, D3): signing in through the provider and back, 403 for a
//! user who is not an inspector, office isolation (another office's application is neither
//! listed, nor viewable, nor decidable by a direct POST — answered like an unknown number),
//! approval only with «Паспорт предъявлен», rejection only with a reason, the audit events,
//! and `idp inspector create`'s checks. Approval end to end is in `inspector_flow`.

use salyk_idp::store::{
    Application, ApplicationKind, ApplicationStatus, ForeignTrade, NewApplication, Taxpayer,
    TaxpayerKind,
};

use crate::authz_support::unescape;
use crate::harness::*;

pub const INSPECTOR_PASSWORD: &str = "inspektor-parol-1";
/// A person in office 004 and one in office 003.
pub const PERSON_004: (&str, &str) = ("21207198599011", "Демонов Азамат Бекович");
pub const PERSON_003: (&str, &str) = ("11908199599014", "Демонова Нуржан Маратовна");
/// An organization in 004 whose accountant is `PERSON_003` (head: someone else).
pub const ORG_SOFT: (&str, &str) = ("00211201999002", "ОсОО «ДЕМО Софт»");
/// An organization in 004 headed by `PERSON_004`.
pub const ORG_TRADE: (&str, &str) = ("01503201699001", "ОсОО «ДЕМО Импорт Трейд»");

pub fn taxpayer(inn: &str, kind: TaxpayerKind, name: &str, ugns: &str) -> Taxpayer {
    Taxpayer {
        inn: inn.into(),
        kind,
        legal_form: None,
        name: name.into(),
        address: format!("г. Бишкек, ул. Демонстрационная, {}", &inn[10..]),
        ugns_code: ugns.into(),
        vat_payer: false,
        vat_reg_date: None,
        foreign_trade: ForeignTrade::None,
        parent_inn: None,
        head_pin: None,
        accountant_pin: None,
        large_taxpayer: false,
        liquidated: false,
    }
}

/// An app with the fixture taxpayers in its tax registry.
pub async fn setup(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    let mut soft = taxpayer(ORG_SOFT.0, TaxpayerKind::Organization, ORG_SOFT.1, "004");
    soft.head_pin = Some("10304199099012".into());
    soft.accountant_pin = Some(PERSON_003.0.into());
    soft.vat_payer = true;
    soft.vat_reg_date = Some("2017-01-01".into());
    let mut trade = taxpayer(ORG_TRADE.0, TaxpayerKind::Organization, ORG_TRADE.1, "004");
    trade.head_pin = Some(PERSON_004.0.into());
    app.state
        .store
        .upsert_taxpayers(&[
            taxpayer(PERSON_004.0, TaxpayerKind::Person, PERSON_004.1, "004"),
            taxpayer(PERSON_003.0, TaxpayerKind::Person, PERSON_003.1, "003"),
            soft,
            trade,
        ])
        .await
        .expect("registry fixtures");
    app
}

/// Creates an inspector of `offices` through the CLI's code path.
pub async fn inspector(app: &TestApp, login: &str, inn: &str, offices: &[&str]) -> String {
    let offices: Vec<String> = offices.iter().map(|o| (*o).to_owned()).collect();
    let (user, created) = salyk_idp::cli::create_inspector(
        app.state.store.as_ref(),
        &app.state.hasher,
        login,
        &offices,
        Some(inn),
        Some("Инспекторов Улан Асанович"),
        Some(INSPECTOR_PASSWORD.into()),
    )
    .await
    .expect("create inspector");
    assert!(created);
    user.id
}

/// A pending application, stored directly (as the registration page would).
pub async fn apply(
    app: &TestApp,
    kind: ApplicationKind,
    ugns: &str,
    person: (&str, &str),
    org: Option<(&str, &str)>,
    password: &str,
) -> Application {
    let hash = app.state.hasher.hash(password.into()).await.expect("hash");
    let existing = match kind {
        ApplicationKind::LinkRequest => app
            .state
            .store
            .user_by_inn(person.0)
            .await
            .expect("user by inn")
            .map(|u| u.id),
        _ => None,
    };
    app.state
        .store
        .create_application(
            &NewApplication {
                kind,
                ugns_code: ugns.into(),
                person_inn: person.0.into(),
                full_name: person.1.into(),
                address: format!("г. Бишкек, ул. Демонстрационная, {}", &person.0[10..]),
                org_inn: org.map(|o| o.0.into()),
                org_name: org.map(|o| o.1.into()),
                password_hash: (kind != ApplicationKind::LinkRequest).then_some(hash),
                existing_user_id: existing,
                head_inn: None,
            },
            salyk_idp::clock::now(),
        )
        .await
        .expect("create application")
}

/// Opens `/inspector` in a fresh browser, signs in on the provider's page and follows the
/// redirect back; returns the browser (with its session) and the console page.
pub async fn console(
    app: &TestApp,
    login: &str,
    password: &str,
) -> (reqwest::Client, reqwest::Response) {
    let b = browser();
    let first = b.get(app.url("/inspector")).send().await.unwrap();
    assert_eq!(first.status(), 303, "not signed in → sign-in page");
    let to_login = location(&first);
    assert!(to_login.starts_with("/login?req="), "{to_login}");
    let page = b
        .get(app.url(&to_login))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let signed_in = b
        .post(app.url("/login/password"))
        .form(&[
            ("csrf", hidden(&page, "csrf").as_str()),
            ("req", hidden(&page, "req").as_str()),
            ("login", login),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), "/inspector", "back to the console");
    let page = b.get(app.url("/inspector")).send().await.unwrap();
    (b, page)
}

pub async fn csrf_of(app: &TestApp, b: &reqwest::Client) -> String {
    let page = b
        .get(app.url("/inspector"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    hidden(&page, "csrf")
}

/// POSTs a decision form; `fields` come after the CSRF token.
pub async fn decide(
    app: &TestApp,
    b: &reqwest::Client,
    number: i64,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = csrf_of(app, b).await;
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    b.post(app.url(&format!("/inspector/applications/{number}/{action}")))
        .form(&form)
        .send()
        .await
        .unwrap()
}

pub async fn text(response: reqwest::Response) -> String {
    unescape(&response.text().await.unwrap())
}

async fn status_of(app: &TestApp, number: i64) -> ApplicationStatus {
    app.state
        .store
        .application(number)
        .await
        .unwrap()
        .unwrap()
        .status
}

async fn sign_in_and_back_and_403(backend: Backend) {
    let app = setup(backend).await;
    inspector(&app, "inspector004", "20505198099020", &["004"]).await;
    let (_, page) = console(&app, "inspector004", INSPECTOR_PASSWORD).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = text(page).await;
    assert!(
        html.contains("Консоль инспектора") && html.contains("Заявлений на рассмотрении нет"),
        "{html}"
    );
    assert!(
        html.contains("004 — УГНС по Первомайскому району"),
        "{html}"
    );

    // A signed-in taxpayer who is not an inspector.
    app.user("21207198599011001", PERSON_004.0, PERSON_004.1, PASSWORD)
        .await;
    let (_, page) = console(&app, "21207198599011001", PASSWORD).await;
    assert_eq!(page.status(), 403);
    let html = text(page).await;
    assert!(
        html.contains("Консоль доступна только инспекторам УГНС"),
        "{html}"
    );
    assert!(!html.contains("Заявления на рассмотрении"));
}

async fn office_isolation(backend: Backend) {
    let app = setup(backend).await;
    inspector(&app, "inspector004", "20505198099020", &["004"]).await;
    let ours = apply(
        &app,
        ApplicationKind::Person,
        "004",
        PERSON_004,
        None,
        PASSWORD,
    )
    .await;
    let theirs = apply(
        &app,
        ApplicationKind::Person,
        "003",
        PERSON_003,
        None,
        PASSWORD,
    )
    .await;
    let (b, page) = console(&app, "inspector004", INSPECTOR_PASSWORD).await;
    let html = text(page).await;
    assert!(
        html.contains(&format!("/inspector/applications/{}\"", ours.number)),
        "{html}"
    );
    assert!(
        html.contains(PERSON_004.1) && html.contains("физическое лицо"),
        "{html}"
    );
    assert!(
        !html.contains(&format!("/inspector/applications/{}\"", theirs.number)),
        "{html}"
    );
    assert!(
        !html.contains(PERSON_003.1) && !html.contains(PERSON_003.0),
        "{html}"
    );

    let ok = b
        .get(app.url(&format!("/inspector/applications/{}", ours.number)))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let unknown = b
        .get(app.url("/inspector/applications/987654"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let unknown = text(unknown).await;
    assert!(unknown.contains("Страница не найдена"));
    let other = b
        .get(app.url(&format!("/inspector/applications/{}", theirs.number)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        404,
        "another office's application does not exist here"
    );
    let other = text(other).await;
    assert!(
        !other.contains(PERSON_003.1) && !other.contains(PERSON_003.0),
        "{other}"
    );
    let other_path = format!("/inspector/applications/{}", theirs.number);
    assert_eq!(
        other.replace(&other_path, "/inspector/applications/987654"),
        unknown,
        "the same page as an unknown number"
    );

    let approve = decide(
        &app,
        &b,
        theirs.number,
        "approve",
        &[("passport_checked", "yes")],
    )
    .await;
    assert_eq!(approve.status(), 404);
    let reject = decide(
        &app,
        &b,
        theirs.number,
        "reject",
        &[("reason", "Не явился")],
    )
    .await;
    assert_eq!(reject.status(), 404);
    assert_eq!(
        status_of(&app, theirs.number).await,
        ApplicationStatus::Pending
    );
    assert!(app
        .state
        .store
        .user_by_inn(PERSON_003.0)
        .await
        .unwrap()
        .is_none());
    let events = app.state.store.recent_events(50).await.unwrap();
    assert!(
        events.iter().all(|e| !e.kind.starts_with("registration.")),
        "{events:?}"
    );
}

async fn approve_needs_passport_and_csrf(backend: Backend) {
    let app = setup(backend).await;
    inspector(&app, "inspector004", "20505198099020", &["004"]).await;
    let a = apply(
        &app,
        ApplicationKind::Person,
        "004",
        PERSON_004,
        None,
        PASSWORD,
    )
    .await;
    let (b, _) = console(&app, "inspector004", INSPECTOR_PASSWORD).await;

    let refused = decide(&app, &b, a.number, "approve", &[]).await;
    assert_eq!(refused.status(), 422);
    let html = text(refused).await;
    assert!(html.contains("отметьте «Паспорт предъявлен»"), "{html}");
    assert!(
        html.contains("name=\"passport_checked\""),
        "the form is shown again"
    );
    let empty = decide(&app, &b, a.number, "approve", &[("passport_checked", "")]).await;
    assert_eq!(empty.status(), 422);

    let forged = b
        .post(app.url(&format!("/inspector/applications/{}/approve", a.number)))
        .form(&[("csrf", "forged"), ("passport_checked", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    assert_eq!(status_of(&app, a.number).await, ApplicationStatus::Pending);
    assert!(app
        .state
        .store
        .user_by_inn(PERSON_004.0)
        .await
        .unwrap()
        .is_none());
}

async fn reject_needs_reason_and_is_audited(backend: Backend) {
    let app = setup(backend).await;
    let inspector_id = inspector(&app, "inspector004", "20505198099020", &["004"]).await;
    let a = apply(
        &app,
        ApplicationKind::LegalEntity,
        "004",
        PERSON_003,
        Some(ORG_SOFT),
        PASSWORD,
    )
    .await;
    let (b, _) = console(&app, "inspector004", INSPECTOR_PASSWORD).await;

    for reason in ["", "   \n "] {
        let refused = decide(&app, &b, a.number, "reject", &[("reason", reason)]).await;
        assert_eq!(refused.status(), 422);
        assert!(text(refused).await.contains("Укажите причину отказа"));
    }
    let missing = decide(&app, &b, a.number, "reject", &[]).await;
    assert_eq!(missing.status(), 422);
    assert_eq!(status_of(&app, a.number).await, ApplicationStatus::Pending);

    let before = salyk_idp::clock::now();
    let done = decide(
        &app,
        &b,
        a.number,
        "reject",
        &[("reason", " Паспорт не предъявлен ")],
    )
    .await;
    assert_eq!(done.status(), 200);
    let html = text(done).await;
    assert!(
        html.contains("В регистрации отказано") && html.contains("Паспорт не предъявлен"),
        "{html}"
    );
    let stored = app
        .state
        .store
        .application(a.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ApplicationStatus::Rejected);
    assert_eq!(
        stored.reject_reason.as_deref(),
        Some("Паспорт не предъявлен")
    );
    assert_eq!(stored.decided_by.as_deref(), Some(inspector_id.as_str()));

    let events = app.state.store.recent_events(50).await.unwrap();
    let event = events
        .iter()
        .find(|e| e.kind == "registration.reject")
        .expect("registration.reject event");
    assert_eq!(event.actor.as_deref(), Some(inspector_id.as_str()));
    assert_eq!(event.subject, Some(a.number.to_string()));
    assert!(event.at >= before && event.at <= salyk_idp::clock::now());
    assert_eq!(event.detail["application"], a.number);
    assert_eq!(event.detail["inspector_id"], inspector_id.as_str());
    assert_eq!(event.detail["inspector_login"], "inspector004");
    assert_eq!(event.detail["reason"], "Паспорт не предъявлен");
    assert_eq!(event.detail["org_inn"], ORG_SOFT.0);

    // Decided: neither decision is taken again, and the queue no longer lists it.
    let again = decide(
        &app,
        &b,
        a.number,
        "approve",
        &[("passport_checked", "yes")],
    )
    .await;
    assert_eq!(again.status(), 409);
    assert!(text(again).await.contains("Заявление уже рассмотрено"));
    let queue = text(b.get(app.url("/inspector")).send().await.unwrap()).await;
    assert!(!queue.contains(&format!("/inspector/applications/{}\"", a.number)));
    assert!(app
        .state
        .store
        .user_by_inn(PERSON_003.0)
        .await
        .unwrap()
        .is_none());
}

async fn detail_shows_registry_beside_application(backend: Backend) {
    let app = setup(backend).await;
    inspector(&app, "inspector004", "20505198099020", &["004"]).await;
    // Applicant typed a name that differs from the registry's.
    let a = apply(
        &app,
        ApplicationKind::LegalEntity,
        "004",
        (PERSON_003.0, "Демонова Нуржан"),
        Some(ORG_SOFT),
        PASSWORD,
    )
    .await;
    let (b, _) = console(&app, "inspector004", INSPECTOR_PASSWORD).await;
    let html = text(
        b.get(app.url(&format!("/inspector/applications/{}", a.number)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    for expected in [
        "юридическое лицо",
        "Указано в заявлении",
        "Налоговый реестр",
        PERSON_003.1,
        ORG_SOFT.0,
        ORG_SOFT.1,
        "Плательщик НДС",
        "да (2017-01-01)",
        "10304199099012",
        "бухгалтер",
        "Паспорт предъявлен",
        "Причина отказа",
    ] {
        assert!(
            html.contains(expected),
            "«{expected}» on the detail page:\n{html}"
        );
    }
    assert!(
        html.contains("<tr class=\"differs\">"),
        "the name difference is marked:\n{html}"
    );
    assert!(html.contains("расхождение"));
    assert!(
        html.contains("<label for=\"passport_checked\">")
            && html.contains("<label for=\"reason\">")
    );
}

async fn cli_validates_offices(backend: Backend) {
    let app = setup(backend).await;
    let store = app.state.store.as_ref();
    let bad = salyk_idp::cli::create_inspector(
        store,
        &app.state.hasher,
        "inspector-x",
        &["004".into(), "777".into()],
        Some("20505198099020"),
        Some("Инспекторов Улан"),
        Some(INSPECTOR_PASSWORD.into()),
    )
    .await
    .expect_err("unknown office");
    assert!(bad.to_string().contains("777"), "{bad}");
    assert!(store.user_by_login("inspector-x").await.unwrap().is_none());

    // An existing user only gets offices (no password needed).
    let user = app
        .user("21207198599011001", PERSON_004.0, PERSON_004.1, PASSWORD)
        .await;
    let (same, created) = salyk_idp::cli::create_inspector(
        store,
        &app.state.hasher,
        "21207198599011001",
        &["005".into(), "004".into(), "004".into()],
        None,
        None,
        None,
    )
    .await
    .expect("set offices");
    assert!(!created);
    assert_eq!(same.id, user.id);
    let mut offices = store.inspector_offices(&user.id).await.unwrap();
    offices.sort();
    assert_eq!(offices, ["004", "005"]);
    let missing = salyk_idp::cli::create_inspector(
        store,
        &app.state.hasher,
        "nobody",
        &["004".into()],
        None,
        None,
        None,
    )
    .await;
    assert!(missing.is_err(), "a new login needs INN, name and password");
}

both_backends!(
    sign_in_and_back_and_403,
    office_isolation,
    approve_needs_passport_and_csrf,
    reject_needs_reason_and_is_audited,
    detail_shows_registry_beside_application,
    cli_validates_offices,
);
