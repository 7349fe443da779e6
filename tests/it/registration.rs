//! The «Логин и пароль» registration page (R1; manual §1.1): the form's shape and labels,
//! every validation message and «Не найден пользователь»; plus the fixtures and helpers of
//! the other registration tests — `registration_rules.rs` (R2 eligibility, duplicates, R5,
//! saved message, status page), `registration_lookup.rs` («Поиск», «Добавить ИНН») and
//! `registration_browser.rs` (the page in headless Chromium).

use salyk_idp::store::{ForeignTrade, Taxpayer, TaxpayerKind};

use crate::harness::*;

pub const PERSON: &str = "11908199599014";
pub const IP_OK: &str = "21207198599011";
pub const IP_VAT: &str = "10304199099012";
pub const IP_IMPORT: &str = "20205198099031";
pub const KFH_OK: &str = "22512197899013";
pub const KFH_VAT: &str = "12006197599032";
pub const LIQUIDATED: &str = "13009198899016";
pub const STRANGER: &str = "20101197099015";
/// Head: `IP_VAT`; accountant: `PERSON`.
pub const ORG: &str = "00211201999002";
/// Head: `IP_OK` (for R5).
pub const ORG_LINK: &str = "02802202399033";
pub const ORG_VAT: &str = "01503201699001";
pub const ORG_LIQUIDATED: &str = "00101201599034";
pub const BRANCH: &str = "00709202199004";
/// Valid, but in no registry.
pub const UNKNOWN: &str = "20202199099098";
pub const UNKNOWN_ORG: &str = "00101202099077";
pub const NEW_PASSWORD: &str = "новый пароль 2026";

pub fn taxpayer(inn: &str, kind: TaxpayerKind, name: &str) -> Taxpayer {
    Taxpayer {
        inn: inn.into(),
        kind,
        legal_form: match kind {
            TaxpayerKind::Entrepreneur => Some("ИП".into()),
            TaxpayerKind::PeasantFarm => Some("КФХ".into()),
            TaxpayerKind::Organization => Some("ОсОО".into()),
            _ => None,
        },
        name: name.into(),
        address: format!("г. Бишкек, ул. Демонстрационная, {}", &inn[11..]),
        ugns_code: "004".into(),
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

fn with(mut t: Taxpayer, f: impl FnOnce(&mut Taxpayer)) -> Taxpayer {
    f(&mut t);
    t
}

/// An app whose tax registry holds one taxpayer per R2 branch.
pub async fn setup(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    use TaxpayerKind::*;
    let rows = vec![
        taxpayer(PERSON, Person, "Демонова Нуржан Маратовна"),
        taxpayer(IP_OK, Entrepreneur, "ИП Демонов Азамат Бекович"),
        with(
            taxpayer(IP_VAT, Entrepreneur, "ИП Демонова Айгуль Маратовна"),
            |t| t.vat_payer = true,
        ),
        with(
            taxpayer(IP_IMPORT, Entrepreneur, "ИП Демонов Импорт"),
            |t| t.foreign_trade = ForeignTrade::Import,
        ),
        taxpayer(KFH_OK, PeasantFarm, "КФХ «ДЕМО Жайлоо»"),
        with(
            taxpayer(KFH_VAT, PeasantFarm, "КФХ «ДЕМО НДС»"),
            |t| t.vat_payer = true,
        ),
        with(
            taxpayer(LIQUIDATED, Entrepreneur, "ИП Демонова Жылдыз"),
            |t| t.liquidated = true,
        ),
        taxpayer(STRANGER, Person, "Демонов Бакыт Таалайбекович"),
        with(
            taxpayer(ORG, Organization, "ОсОО «ДЕМО Софт»"),
            |t| {
                t.ugns_code = "002".into();
                t.head_pin = Some(IP_VAT.into());
                t.accountant_pin = Some(PERSON.into());
            },
        ),
        with(
            taxpayer(ORG_LINK, Organization, "ОсОО «ДЕМО Связь»"),
            |t| {
                t.ugns_code = "005".into();
                t.head_pin = Some(IP_OK.into());
            },
        ),
        with(
            taxpayer(ORG_VAT, Organization, "ОсОО «ДЕМО Импорт Трейд»"),
            |t| {
                t.vat_payer = true;
                t.foreign_trade = ForeignTrade::Import;
                t.head_pin = Some(IP_OK.into());
            },
        ),
        with(
            taxpayer(ORG_LIQUIDATED, Organization, "ОсОО «ДЕМО Было»"),
            |t| {
                t.liquidated = true;
                t.head_pin = Some(IP_OK.into());
            },
        ),
        with(
            taxpayer(BRANCH, Branch, "Филиал «ДЕМО» в г. Ош"),
            |t| {
                t.parent_inn = Some(ORG.into());
                t.head_pin = Some(STRANGER.into());
            },
        ),
    ];
    app.state
        .store
        .upsert_taxpayers(&rows)
        .await
        .expect("taxpayers");
    app
}

/// A fresh browser on the registration page; returns it with the page's CSRF token.
pub async fn open(app: &TestApp) -> (reqwest::Client, String) {
    let b = browser();
    let page = b
        .get(app.url("/register"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let csrf = hidden(&page, "csrf");
    (b, csrf)
}

/// Posts a form; returns the status and the page.
pub async fn post(
    app: &TestApp,
    b: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let response = b
        .post(app.url(path))
        .form(fields)
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    (status, response.text().await.expect("html"))
}

/// A complete «физическое лицо» form (the read-only fields as «Поиск» would fill them).
pub fn person_form<'a>(csrf: &'a str, inn: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("person_type", "person"),
        ("ugns_code", "004"),
        ("inn", inn),
        ("full_name", "как заполнил «Поиск»"),
        ("address", "как заполнил «Поиск»"),
        ("password", password),
        ("password_confirm", password),
        ("action", "submit"),
    ]
}

/// A complete «юридическое лицо» form.
pub fn legal_form<'a>(
    csrf: &'a str,
    org_inn: &'a str,
    inn: &'a str,
    password: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut form = person_form(csrf, inn, password);
    form[1] = ("person_type", "legal_entity");
    form.push(("org_inn", org_inn));
    form.push(("org_name", "как заполнил «Поиск»"));
    form
}

/// Submits in a fresh browser.
pub async fn submit(app: &TestApp, form: impl Fn(&str) -> Vec<(&str, &str)>) -> (u16, String) {
    let (b, csrf) = open(app).await;
    let fields = form(&csrf);
    post(app, &b, "/register", &fields).await
}

/// The application number on the saved page.
pub fn saved_number(page: &str) -> i64 {
    assert!(
        page.contains("Заявка на регистрацию сохранена"),
        "not saved:\n{page}"
    );
    page.split("href=\"/register/status/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no status link:\n{page}"))
}

/// The message next to field `id`.
pub fn field_error(page: &str, id: &str) -> Option<String> {
    let start = page.find(&format!("<p class=\"field-error\" id=\"{id}-error\">"))?;
    let rest = &page[start..];
    let text = &rest[rest.find('>')? + 1..rest.find("</p>")?];
    Some(text.trim().to_owned())
}

async fn form_shape(backend: Backend) {
    let app = setup(backend).await;
    let response = browser().get(app.url("/register")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    for tab in [
        "Логин и пароль",
        "ЭП",
        "Smart-ID KG",
        "Облако",
        "Добавить ИНН",
    ] {
        assert!(html.contains(&format!(">{tab}</a>")), "tab {tab}:\n{html}");
    }
    assert!(html.contains("aria-current=\"page\" href=\"/register\">Логин и пароль</a>"));
    assert!(
        html.contains("aria-disabled=\"true\""),
        "signature tabs are placeholders"
    );
    assert!(html.contains("появится позже"));
    assert!(html.contains("<legend>Тип лица</legend>"));
    for (id, label) in [
        ("person_type_person", "физическое лицо"),
        ("person_type_legal", "юридическое лицо"),
        ("ugns_code", "Код УГНС"),
        ("org_inn", "ИНН юридического лица"),
        ("org_name", "Наименование налогоплательщика"),
        ("inn", "ИНН"),
        ("full_name", "ФИО"),
        ("address", "Место жительства(прописки)/Юридический адрес"),
        ("password", "Пароль"),
        ("password_confirm", "Подтвердите пароль"),
    ] {
        assert!(
            html.contains(&format!("<label for=\"{id}\">{label}</label>")),
            "label of {id}:\n{html}"
        );
    }
    // Every visible input and select has its label.
    for chunk in html.split('<').skip(1) {
        if (chunk.starts_with("input ") && !chunk.contains("type=\"hidden\""))
            || chunk.starts_with("select ")
        {
            let id = chunk
                .split("id=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_else(|| panic!("an input without id: <{chunk}"));
            assert!(
                html.contains(&format!("<label for=\"{id}\">")),
                "no label for {id}"
            );
        }
    }
    assert_eq!(
        html.matches("name=\"action\" value=\"lookup\"").count(),
        2,
        "«Поиск» for both INNs"
    );
    assert!(html.contains(">Поиск</button>") && html.contains(">Зарегистрироваться</button>"));
    assert!(html
        .contains("<option value=\"004\">004 — УГНС по Первомайскому району г. Бишкек</option>"));
    assert!(
        html.contains("id=\"person_type_person\" name=\"person_type\" value=\"person\" checked"),
        "«физическое лицо» by default"
    );
    // CSP: the script is a file, nothing inline.
    assert!(html.contains("<script src=\"/static/register.js\" defer></script>"));
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("style=\""));
    let script = browser()
        .get(app.url("/static/register.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert!(script.text().await.unwrap().contains("/register/lookup"));
    // ?inn= fills the INN; the add-INN tab has its own labelled field.
    let html = browser()
        .get(app.url(&format!("/register?inn={PERSON}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("value=\"{PERSON}\"")));
    let html = browser()
        .get(app.url("/register?tab=add-inn"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<label for=\"add_inn\">ИНН</label>"),
        "{html}"
    );
    assert!(html.contains("aria-current=\"page\" href=\"/register?tab=add-inn\">Добавить ИНН</a>"));
    // English labels exist too.
    let html = browser()
        .get(app.url("/register?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<label for=\"password_confirm\">Confirm the password</label>"));
}

async fn every_missing_field_has_its_message(backend: Backend) {
    let app = setup(backend).await;
    let (status, html) = submit(&app, |csrf| {
        vec![
            ("csrf", csrf),
            ("person_type", "legal_entity"),
            ("action", "submit"),
        ]
    })
    .await;
    assert_eq!(status, 200);
    for (id, message) in [
        ("ugns_code", "Выберите код УГНС"),
        ("org_inn", "Введите ИНН"),
        (
            "org_name",
            "Введите ИНН юридического лица и нажмите «Поиск»",
        ),
        ("inn", "Введите ИНН"),
        (
            "full_name",
            "Введите ИНН и нажмите «Поиск» — ФИО заполнится автоматически",
        ),
        ("address", "Адрес заполняется из реестра"),
        ("password", "Введите пароль"),
        ("password_confirm", "Подтвердите пароль"),
    ] {
        let error =
            field_error(&html, id).unwrap_or_else(|| panic!("no message for {id}:\n{html}"));
        assert!(error.starts_with(message), "{id}: {error}");
        assert!(
            html.contains(&format!(
                "aria-invalid=\"true\" aria-describedby=\"{id}-error\""
            )),
            "{id} marked invalid"
        );
    }
    assert!(
        html.contains("value=\"legal_entity\" checked"),
        "the type is kept"
    );
    let (_, html) = submit(&app, |csrf| vec![("csrf", csrf), ("action", "submit")]).await;
    assert_eq!(
        field_error(&html, "person_type").as_deref(),
        Some("Выберите тип лица")
    );
    assert!(app
        .state
        .store
        .pending_application_for(PERSON, None)
        .await
        .unwrap()
        .is_none());
}

async fn inn_and_password_messages(backend: Backend) {
    let app = setup(backend).await;
    for (inn, message) in [
        ("1234567890123", "ИНН должен состоять из 14 цифр"),
        ("0150320169900A", "ИНН должен содержать только цифры"),
        ("23102199099020", "ИНН содержит несуществующую дату"),
    ] {
        let (_, html) = submit(&app, |csrf| person_form(csrf, inn, NEW_PASSWORD)).await;
        assert_eq!(field_error(&html, "inn").as_deref(), Some(message), "{inn}");
        assert!(
            html.contains(&format!("value=\"{inn}\"")),
            "what was typed is kept"
        );
        assert!(!html.contains(NEW_PASSWORD), "passwords are never echoed");
    }
    let (_, html) = submit(&app, |csrf| {
        let mut form = person_form(csrf, PERSON, NEW_PASSWORD);
        form[7] = ("password_confirm", "другой пароль 2026");
        form
    })
    .await;
    assert_eq!(
        field_error(&html, "password_confirm").as_deref(),
        Some("Пароли не совпадают")
    );
    assert!(html.contains(&format!("value=\"{PERSON}\"")));
    let (_, html) = submit(&app, |csrf| person_form(csrf, PERSON, "корот7")).await;
    assert_eq!(
        field_error(&html, "password").as_deref(),
        Some("Пароль должен содержать не менее 8 символов")
    );
    let (_, html) = submit(&app, |csrf| {
        let mut form = person_form(csrf, PERSON, NEW_PASSWORD);
        form[2] = ("ugns_code", "777");
        form
    })
    .await;
    assert_eq!(
        field_error(&html, "ugns_code").as_deref(),
        Some("Такого кода УГНС нет в справочнике")
    );
    // A form without the page's CSRF token comes back (403), keeping what was typed.
    let (b, _) = open(&app).await;
    let (status, html) = post(
        &app,
        &b,
        "/register",
        &person_form("forged", PERSON, NEW_PASSWORD),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        html.contains("Срок действия формы истёк") && html.contains(&format!("value=\"{PERSON}\""))
    );
    assert!(app
        .state
        .store
        .pending_application_for(PERSON, None)
        .await
        .unwrap()
        .is_none());
}

async fn unknown_inn_points_to_add_inn(backend: Backend) {
    let app = setup(backend).await;
    let (_, html) = submit(&app, |csrf| person_form(csrf, UNKNOWN, NEW_PASSWORD)).await;
    let error = field_error(&html, "inn").unwrap_or_else(|| panic!("{html}"));
    assert!(error.starts_with("Не найден пользователь"), "{error}");
    assert!(
        error.contains(&format!(
            "<a href=\"/register?tab=add-inn&#38;inn={UNKNOWN}\">Добавить ИНН</a>"
        )),
        "{error}"
    );
}

both_backends!(
    form_shape,
    every_missing_field_has_its_message,
    inn_and_password_messages,
    unknown_inn_points_to_add_inn,
);
