//! «Поиск» and «Добавить ИНН» on the registration page (R1, R4, R5): the JSON look-up (CSRF
//! required, no more than the form shows, per-browser and per-IP limits → 429, audited),
//! «Поиск» without JavaScript, and «Добавить ИНН» against the population registry emulator —
//! happy path, an unknown person, a taxpayer already known, and the registry down.

use salyk_idp::registration::guard::{PER_BROWSER, PER_IP};
use serde_json::{json, Value};

use crate::harness::*;
use crate::registration::{
    field_error, open, person_form, post, saved_number, setup, submit, IP_OK, NEW_PASSWORD, ORG,
    PERSON, UNKNOWN,
};

/// In the population registry emulator's demo persons, not in the test tax registry.
const NEWCOMER: &str = "12503199099021";

async fn lookup(app: &TestApp, b: &reqwest::Client, body: Value) -> (u16, Value) {
    let response = b
        .post(app.url("/register/lookup"))
        .json(&body)
        .send()
        .await
        .expect("lookup");
    let status = response.status().as_u16();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    (status, response.json().await.expect("json"))
}

async fn json_lookup(backend: Backend) {
    let app = setup(backend).await;
    let (b, csrf) = open(&app).await;
    // The page's CSRF token is required.
    let other_browsers = open(&app).await.1;
    for token in [None, Some("forged"), Some(other_browsers.as_str())] {
        let mut body = json!({ "inn": PERSON, "kind": "person" });
        if let Some(t) = token {
            body["csrf"] = t.into();
        }
        let (status, answer) = lookup(&app, &b, body).await;
        assert_eq!(status, 403, "{answer}");
        assert_eq!(answer["error"], "csrf");
        assert!(answer.get("name").is_none());
    }
    // A person: exactly the three fields the form shows.
    let (status, answer) = lookup(
        &app,
        &b,
        json!({ "csrf": csrf, "inn": PERSON, "kind": "person" }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({
            "name": "Демонова Нуржан Маратовна",
            "address": format!("г. Бишкек, ул. Демонстрационная, {}", &PERSON[11..]),
            "ugns_code": "004",
        })
    );
    let (_, answer) = lookup(
        &app,
        &b,
        json!({ "csrf": csrf, "inn": ORG, "kind": "organization" }),
    )
    .await;
    assert_eq!(answer["name"], "ОсОО «ДЕМО Софт»");
    assert_eq!(answer["ugns_code"], "002");
    assert_eq!(answer.as_object().unwrap().len(), 3);
    // Failures: readable messages.
    let (status, answer) = lookup(
        &app,
        &b,
        json!({ "csrf": csrf, "inn": UNKNOWN, "kind": "person" }),
    )
    .await;
    assert_eq!((status, answer["error"].as_str()), (404, Some("not_found")));
    assert_eq!(answer["message"], "Не найден пользователь");
    let (status, answer) = lookup(
        &app,
        &b,
        json!({ "csrf": csrf, "inn": "12345", "kind": "person" }),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(answer["message"], "ИНН должен состоять из 14 цифр");
    let (status, answer) = lookup(
        &app,
        &b,
        json!({ "csrf": csrf, "inn": PERSON, "kind": "organization" }),
    )
    .await;
    assert_eq!(status, 422);
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("не принадлежит юридическому лицу"));
    let (status, _) = lookup(
        &app,
        &b,
        json!({ "csrf": csrf, "inn": PERSON, "kind": "other" }),
    )
    .await;
    assert_eq!(status, 400);
    // Audited: who (IP, browser) and which INN.
    let events = app.state.store.recent_events(50).await.unwrap();
    let lookups: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "registry.lookup")
        .collect();
    let found = lookups
        .iter()
        .find(|e| e.detail["inn"] == PERSON && e.detail["result"] == "found")
        .expect("the look-up is audited");
    assert_eq!(found.detail["ip"], "127.0.0.1");
    assert_eq!(found.detail["via"], "json");
    assert!(found.detail["browser"]
        .as_str()
        .is_some_and(|b| b.len() == 32));
    assert!(lookups
        .iter()
        .any(|e| e.detail["inn"] == UNKNOWN && e.detail["result"] == "not_found"));
}

async fn lookup_rate_limits(backend: Backend) {
    let app = setup(backend).await;
    let (b, csrf) = open(&app).await;
    let body = json!({ "csrf": csrf, "inn": PERSON, "kind": "person" });
    for _ in 0..PER_BROWSER {
        assert_eq!(lookup(&app, &b, body.clone()).await.0, 200);
    }
    let (status, answer) = lookup(&app, &b, body.clone()).await;
    assert_eq!(status, 429);
    assert_eq!(answer["error"], "too_many_requests");
    assert_eq!(
        answer["message"],
        "Слишком много запросов поиска. Повторите попытку через 10 минут."
    );
    // «Поиск» without JavaScript shares the budget, and keeps the form.
    let (status, html) = post(
        &app,
        &b,
        "/register",
        &[
            ("csrf", csrf.as_str()),
            ("person_type", "person"),
            ("inn", PERSON),
            ("action", "lookup"),
        ],
    )
    .await;
    assert_eq!(status, 429);
    assert!(
        html.contains("Слишком много запросов поиска")
            && html.contains(&format!("value=\"{PERSON}\""))
    );
    // «Добавить ИНН» too.
    let (status, _) = post(
        &app,
        &b,
        "/register/add-inn",
        &[
            ("csrf", csrf.as_str()),
            ("inn", NEWCOMER),
            ("action", "lookup"),
        ],
    )
    .await;
    assert_eq!(status, 429);
    // Per IP: other browsers from the same address run out together.
    let mut used = PER_BROWSER;
    let mut throttled = false;
    while used <= PER_IP + PER_BROWSER {
        let (other, csrf) = open(&app).await;
        let body = json!({ "csrf": csrf, "inn": PERSON, "kind": "person" });
        for _ in 0..PER_BROWSER {
            let (status, _) = lookup(&app, &other, body.clone()).await;
            used += 1;
            if status == 429 {
                throttled = true;
                break;
            }
        }
        if throttled {
            break;
        }
    }
    assert!(throttled, "the per-IP limit holds");
    assert!(
        used > PER_IP,
        "not before {PER_IP} look-ups from the address ({used})"
    );
    let events = app.state.store.recent_events(500).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.kind == "registry.lookup" && e.detail["result"] == "too_many_requests"));
}

async fn lookup_without_javascript(backend: Backend) {
    let app = setup(backend).await;
    let (b, csrf) = open(&app).await;
    let (status, html) = post(
        &app,
        &b,
        "/register",
        &[
            ("csrf", csrf.as_str()),
            ("person_type", "person"),
            ("inn", PERSON),
            ("password", NEW_PASSWORD),
            ("password_confirm", NEW_PASSWORD),
            ("action", "lookup"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("value=\"Демонова Нуржан Маратовна\""),
        "{html}"
    );
    assert!(html.contains(&format!(
        "value=\"г. Бишкек, ул. Демонстрационная, {}\"",
        &PERSON[11..]
    )));
    assert!(html.contains("<option value=\"004\" selected>"));
    assert!(!html.contains(NEW_PASSWORD), "passwords are not kept");
    assert!(field_error(&html, "inn").is_none());
    // A legal entity: the organization fills the name, the legal address and the office.
    let (_, html) = post(
        &app,
        &b,
        "/register",
        &[
            ("csrf", csrf.as_str()),
            ("person_type", "legal_entity"),
            ("org_inn", ORG),
            ("inn", PERSON),
            ("action", "lookup"),
        ],
    )
    .await;
    assert!(html.contains("value=\"ОсОО «ДЕМО Софт»\""), "{html}");
    assert!(html.contains("<option value=\"002\" selected>"));
    assert!(html.contains(&format!(
        "value=\"г. Бишкек, ул. Демонстрационная, {}\"",
        &ORG[11..]
    )));
    assert!(html.contains("value=\"Демонова Нуржан Маратовна\""));
    // Unknown: «Не найден пользователь» with the way to «Добавить ИНН».
    let (_, html) = post(
        &app,
        &b,
        "/register",
        &[
            ("csrf", csrf.as_str()),
            ("person_type", "person"),
            ("inn", UNKNOWN),
            ("action", "lookup"),
        ],
    )
    .await;
    let error = field_error(&html, "inn").unwrap();
    assert!(
        error.starts_with("Не найден пользователь") && error.contains("tab=add-inn"),
        "{error}"
    );
    let events = app.state.store.recent_events(50).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.kind == "registry.lookup" && e.detail["via"] == "form"));
}

async fn add_inn_happy_path(backend: Backend) {
    let app = setup(backend).await;
    let (b, csrf) = open(&app).await;
    let (status, _) = post(
        &app,
        &b,
        "/register/add-inn",
        &[("csrf", "forged"), ("inn", NEWCOMER), ("action", "lookup")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, html) = post(
        &app,
        &b,
        "/register/add-inn",
        &[
            ("csrf", csrf.as_str()),
            ("inn", NEWCOMER),
            ("action", "lookup"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Демонова Айжан Асановна"), "{html}");
    assert!(html.contains("г. Бишкек, Первомайский р-н, ул. Демонстрационная, 21"));
    assert!(
        !html.contains("1990-03-25") && !html.contains("female"),
        "ФИО and address only"
    );
    assert!(html.contains("<label for=\"add_inn_ugns\">Код УГНС</label>"));
    assert!(html.contains(">Зарегистрировать</button>"));
    // «Зарегистрировать» needs the office.
    let (_, html) = post(
        &app,
        &b,
        "/register/add-inn",
        &[
            ("csrf", csrf.as_str()),
            ("inn", NEWCOMER),
            ("action", "register"),
        ],
    )
    .await;
    assert_eq!(
        field_error(&html, "add_inn_ugns").as_deref(),
        Some("Выберите код УГНС")
    );
    assert!(app.state.store.taxpayer(NEWCOMER).await.unwrap().is_none());
    let (_, html) = post(
        &app,
        &b,
        "/register/add-inn",
        &[
            ("csrf", csrf.as_str()),
            ("inn", NEWCOMER),
            ("ugns_code", "004"),
            ("action", "register"),
        ],
    )
    .await;
    assert!(html.contains("НП зарегистрирован"), "{html}");
    assert!(html.contains(&format!("href=\"/register?inn={NEWCOMER}\"")));
    let taxpayer = app
        .state
        .store
        .taxpayer(NEWCOMER)
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(taxpayer.ugns_code, "004");
    assert_eq!(taxpayer.name, "Демонова Айжан Асановна");
    // Now the password registration goes through.
    let (_, html) = submit(&app, |csrf| person_form(csrf, NEWCOMER, NEW_PASSWORD)).await;
    saved_number(&html);
    // Again: the tax registry knows the INN now.
    let (_, html) = post(
        &app,
        &b,
        "/register/add-inn",
        &[
            ("csrf", csrf.as_str()),
            ("inn", NEWCOMER),
            ("action", "lookup"),
        ],
    )
    .await;
    assert!(
        html.contains("уже зарегистрирован в налоговой службе"),
        "{html}"
    );
    let (_, html) = post(
        &app,
        &b,
        "/register/add-inn",
        &[
            ("csrf", csrf.as_str()),
            ("inn", IP_OK),
            ("action", "lookup"),
        ],
    )
    .await;
    assert!(
        html.contains("уже зарегистрирован в налоговой службе")
            && html.contains(&format!("/register?inn={IP_OK}"))
    );
    let events = app.state.store.recent_events(50).await.unwrap();
    let steps: Vec<_> = events
        .iter()
        .filter(|e| e.kind == "registry.add_inn" && e.detail["inn"] == NEWCOMER)
        .map(|e| {
            (
                e.detail["step"].as_str().unwrap().to_owned(),
                e.detail["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        steps.contains(&("lookup".into(), "found".into())),
        "{steps:?}"
    );
    assert!(
        steps.contains(&("register".into(), "registered".into())),
        "{steps:?}"
    );
    assert!(events
        .iter()
        .all(|e| e.kind != "registry.add_inn" || e.detail["ip"] == "127.0.0.1"));
}

async fn add_inn_unknown_person(backend: Backend) {
    let app = setup(backend).await;
    let (b, csrf) = open(&app).await;
    let (status, html) = post(
        &app,
        &b,
        "/register/add-inn",
        &[
            ("csrf", csrf.as_str()),
            ("inn", UNKNOWN),
            ("action", "lookup"),
        ],
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        html.contains("не найден в Государственном реестре населения"),
        "{html}"
    );
    assert!(
        html.contains(&format!("value=\"{UNKNOWN}\"")),
        "the INN is kept"
    );
    let (_, html) = post(
        &app,
        &b,
        "/register/add-inn",
        &[
            ("csrf", csrf.as_str()),
            ("inn", "123"),
            ("action", "lookup"),
        ],
    )
    .await;
    assert_eq!(
        field_error(&html, "add_inn").as_deref(),
        Some("ИНН должен состоять из 14 цифр")
    );
}

async fn add_inn_registry_down(backend: Backend) {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let app = TestApp::spawn_with(backend, |c| {
        c.population_registry_url = Some(format!("http://{closed}"));
        c.registry_timeout = 2;
    })
    .await;
    let (b, csrf) = open(&app).await;
    let (status, html) = post(
        &app,
        &b,
        "/register/add-inn",
        &[
            ("csrf", csrf.as_str()),
            ("inn", NEWCOMER),
            ("action", "lookup"),
        ],
    )
    .await;
    assert_eq!(status, 503);
    assert!(html.contains("Реестр временно недоступен"), "{html}");
    assert!(
        html.contains(&format!("value=\"{NEWCOMER}\"")),
        "nothing lost"
    );
    assert!(html.contains(">Поиск</button>"), "the form is still there");
    let events = app.state.store.recent_events(10).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.kind == "registry.add_inn" && e.detail["result"] == "registry_unavailable"));
}

both_backends!(
    json_lookup,
    lookup_rate_limits,
    lookup_without_javascript,
    add_inn_happy_path,
    add_inn_unknown_person,
    add_inn_registry_down,
);
