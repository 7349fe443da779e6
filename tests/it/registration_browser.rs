//! The registration form in headless Chromium (R1): «Поиск» filling «ФИО», the address and
//! «Код УГНС» through `/static/register.js`, the organization fields appearing for
//! «юридическое лицо», «Не найден пользователь» with its «Добавить ИНН» link, «Пароли не
//! совпадают» while typing, and the saved-application message after «Зарегистрироваться».
//!
//! Runs chromedriver with `browser.rs`'s driver (its own process on a free port, ended by its
//! own handle on drop, also on panic); without `/usr/bin/chromedriver` it prints a note and
//! passes unless `IDP_REQUIRE_BROWSER=1`.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

use crate::browser::{browser_available, Driver, WAIT};
use crate::harness::{Backend, TestApp};
use crate::registration::{setup, NEW_PASSWORD, ORG, PERSON, UNKNOWN};

async fn find(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
}

/// The current `value` of a field.
async fn value(client: &Client, css: &str) -> String {
    find(client, css)
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

/// Waits until `check` holds for the text of `css` (or the value, for `value:css`).
async fn wait_until(client: &Client, css: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let current = match css.strip_prefix("value:") {
            Some(field) => value(client, field).await,
            None => match client.find(Locator::Css(css)).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            },
        };
        if check(&current) {
            return current;
        }
        if Instant::now() > deadline {
            let source = client.source().await.unwrap_or_default();
            panic!("{css} is {current:?} after {WAIT:?}\n{source}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn type_into(client: &Client, css: &str, text: &str) {
    let field = find(client, css).await;
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

async fn click(client: &Client, css: &str) {
    find(client, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn run(client: &Client, app: &TestApp) {
    client.goto(&app.url("/register")).await.expect("open");
    let org_field = find(client, "#org_inn").await;
    assert!(
        !org_field.is_displayed().await.unwrap(),
        "organization fields hidden for «физическое лицо»"
    );
    // «Поиск» for an unknown INN: the message and the way to «Добавить ИНН».
    type_into(client, "#inn", UNKNOWN).await;
    click(client, "button[data-lookup=person]").await;
    let error = wait_until(client, "#inn-error", |t| !t.is_empty()).await;
    assert!(error.starts_with("Не найден пользователь"), "{error}");
    assert!(find(client, "#inn-error a[href*='tab=add-inn']")
        .await
        .is_displayed()
        .await
        .unwrap());
    // «Поиск» for a person fills ФИО, the address and the office, in place.
    type_into(client, "#inn", PERSON).await;
    click(client, "button[data-lookup=person]").await;
    wait_until(client, "value:#full_name", |v| {
        v == "Демонова Нуржан Маратовна"
    })
    .await;
    assert!(value(client, "#address").await.contains("Демонстрационная"));
    assert_eq!(value(client, "#ugns_code").await, "004");
    assert!(
        client.find(Locator::Css("#inn-error")).await.is_err(),
        "the message is gone"
    );
    assert!(client.current_url().await.unwrap().path() == "/register");
    // «Пароли не совпадают» while typing.
    type_into(client, "#password", NEW_PASSWORD).await;
    type_into(client, "#password_confirm", "другой пароль").await;
    wait_until(client, "#password_confirm-error", |t| {
        t.contains("Пароли не совпадают")
    })
    .await;
    type_into(client, "#password_confirm", NEW_PASSWORD).await;
    wait_until(client, "#password_confirm-error", str::is_empty).await;
    // «юридическое лицо»: the organization fields appear; «Поиск» fills name and office.
    click(client, "#person_type_legal").await;
    assert!(find(client, "#org_inn").await.is_displayed().await.unwrap());
    type_into(client, "#org_inn", ORG).await;
    click(client, "button[data-lookup=organization]").await;
    wait_until(client, "value:#org_name", |v| v == "ОсОО «ДЕМО Софт»").await;
    assert_eq!(value(client, "#ugns_code").await, "002");
    // «Зарегистрироваться» (the accountant of ОсОО «ДЕМО Софт»).
    click(client, ".actions button[value=submit]").await;
    wait_until(client, "h1", |t| t == "Заявка на регистрацию сохранена").await;
    let application = app
        .state
        .store
        .pending_application_for(PERSON, Some(ORG))
        .await
        .unwrap()
        .expect("saved");
    assert_eq!(application.ugns_code, "002");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_form_in_chromium() {
    if !browser_available() {
        return;
    }
    let app = setup(Backend::Embedded).await;
    let mut driver = Driver::start().await;
    let client = driver.session().await;
    run(&client, &app).await;
    driver.close(client).await;
}
