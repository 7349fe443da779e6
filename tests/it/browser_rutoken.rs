//! The «ЭП» tabs in headless Chromium with the Rutoken plugin's demo stand-in (A2, R6, R10):
//! from the demo relying party, «ЭП» lists the demo tokens and their certificates, a wrong
//! PIN says how many attempts are left, the right one signs the server's challenge, and the
//! browser lands back at the relying party with the chosen account; on the registration
//! page «Я филиал» reveals «ИНН организации» and a token registers a new person.
//!
//! Uses `browser.rs`'s driver (its own chromedriver on a free port, ended on drop); without
//! `/usr/bin/chromedriver` it prints a note and passes unless `IDP_REQUIRE_BROWSER=1`.

use std::time::Instant;

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use salyk_idp::demo::token::{DEMO_PIN, DEVICE_LABEL};

use crate::browser::{browser_available, Driver, WAIT};
use crate::harness::TestApp;

const ORG_IMPORT: &str = "01503201699001";
/// Демонова Нуржан Маратовна: in the tax registry, not yet in the cabinet (device 1).
const NEWCOMER_INN: &str = "11908199599014";

async fn find(client: &Client, css: &str) -> Element {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
}

async fn click(client: &Client, css: &str) {
    find(client, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn text(client: &Client, css: &str) -> String {
    find(client, css).await.text().await.unwrap_or_default()
}

/// Waits for `css`, showing the page when it does not come.
async fn wait_for(client: &Client, css: &str) -> Element {
    match client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
    {
        Ok(element) => element,
        Err(e) => {
            let url = client.current_url().await.map(|u| u.to_string());
            let source = client.source().await.unwrap_or_default();
            panic!("no {css} on {url:?} after {WAIT:?}: {e}\n{source}");
        }
    }
}

/// Waits until the visible text of `css` satisfies `check`.
async fn wait_text(client: &Client, css: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let current = match client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if check(&current) {
            return current;
        }
        if Instant::now() > deadline {
            let source = client.source().await.unwrap_or_default();
            panic!("{css} is {current:?} after {WAIT:?}\n{source}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Saves a PNG of the page under `target/screenshots/` (for people reviewing the UI).
async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    assert!(
        png.starts_with(b"\x89PNG"),
        "screenshot {name} is not a PNG"
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(dir.join(format!("{name}.png")), &png).expect("write screenshot");
}

/// Types the PIN (replacing what is there) and presses the form's button.
async fn submit_pin(client: &Client, pin: &str) {
    let field = find(client, "#esig-pin").await;
    field.clear().await.expect("clear the PIN");
    field.send_keys(pin).await.expect("type the PIN");
    click(client, "#esig-submit").await;
}

/// On an «ЭП» tab: waits for the stand-in's devices and certificates, checks what they show,
/// and picks `device` and its certificate number `certificate`.
async fn choose(client: &Client, device: usize, certificate: usize, holder: &str) {
    wait_for(client, "#esig-demo-notice").await;
    wait_for(client, "#esig-certificate:not([disabled]) option").await;
    let devices = client
        .find_all(Locator::Css("#esig-device option"))
        .await
        .expect("devices");
    assert_eq!(devices.len(), 4, "the four demo tokens");
    for option in &devices {
        let label = option.text().await.expect("label");
        assert!(label.starts_with(DEVICE_LABEL), "{label}");
    }
    let select = find(client, "#esig-device").await;
    select
        .select_by_value(&device.to_string())
        .await
        .expect("choose the token");
    // The certificates of that token (name and validity).
    wait_text(client, "#esig-certificate:not([disabled])", |t| {
        t.contains(holder)
    })
    .await;
    let options = client
        .find_all(Locator::Css("#esig-certificate option"))
        .await
        .expect("certificates");
    assert_eq!(options.len(), 2, "personal and organization certificate");
    for option in &options {
        let label = option.text().await.expect("label");
        assert!(
            label.contains(holder) && label.contains("действителен до"),
            "{label}"
        );
    }
    find(client, "#esig-certificate")
        .await
        .select_by_index(certificate)
        .await
        .expect("choose the certificate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_with_the_demo_token() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn_demo_with(|c| c.demo_token = true).await;
    let mut driver = Driver::start().await;
    let client = driver.session().await;

    // From the demo service to the sign-in page, then «ЭП».
    client.goto(&app.url("/demo")).await.expect("open /demo");
    wait_for(&client, "#sign-in").await;
    click(&client, "#sign-in").await;
    wait_for(&client, "#login").await;
    let tab = find(&client, "nav.tabs a[href*='method=rutoken']").await;
    assert_eq!(tab.text().await.expect("tab"), "ЭП");
    tab.click().await.expect("open «ЭП»");
    for (css, label) in [
        ("label[for=esig-device]", "Выберите рутокен"),
        ("label[for=esig-certificate]", "Выберите сертификат"),
        ("label[for=esig-pin]", "Пароль"),
    ] {
        assert_eq!(wait_for(&client, css).await.text().await.unwrap(), label);
    }
    choose(&client, 0, 0, "Демонов Азамат Бекович").await;

    // A wrong PIN: the token says how many attempts are left; the form stays.
    submit_pin(&client, "00000000").await;
    let alert = wait_text(&client, "#esig-error", |t| !t.is_empty()).await;
    assert_eq!(alert, "Неверный ПИН-код. Осталось попыток: 2.");
    screenshot(&client, "sign-in-esig").await;

    // The right PIN signs the challenge; Азамат heads two organizations: «Выбор входа».
    submit_pin(&client, DEMO_PIN).await;
    wait_for(&client, "ul.accounts").await;
    let radio = find(
        &client,
        &format!("input[type=radio][name=account][value='organization:{ORG_IMPORT}']"),
    )
    .await;
    radio.click().await.expect("choose the organization");
    click(&client, "button[name=action][value=allow]").await;

    // Back at the relying party, with a code redeemed for the organization's account.
    wait_for(&client, "#account-inn").await;
    assert_eq!(
        client.current_url().await.expect("url").path(),
        "/demo/callback"
    );
    assert_eq!(text(&client, "#account-inn").await, ORG_IMPORT);
    let id_token = text(&client, "#id-token").await;
    assert!(id_token.contains("\"amr\""), "ID token:\n{id_token}");

    driver.close(client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_with_the_demo_token() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn_demo_with(|c| c.demo_token = true).await;
    let mut driver = Driver::start().await;
    let client = driver.session().await;

    client
        .goto(&app.url("/register"))
        .await
        .expect("open /register");
    let tab = wait_for(&client, "nav.tabs a[href='/register?tab=signature']").await;
    assert_eq!(tab.text().await.expect("tab"), "ЭП");
    tab.click().await.expect("open «ЭП»");
    choose(&client, 1, 0, "Демонова Нуржан Маратовна").await;

    // «Я филиал» reveals «ИНН организации», which must then be 14 digits.
    let head = find(&client, "#esig-head-inn").await;
    assert!(
        !head.is_displayed().await.unwrap(),
        "hidden until «Я филиал»"
    );
    assert_eq!(text(&client, "label[for=esig-branch]").await, "Я филиал");
    click(&client, "#esig-branch").await;
    assert!(head.is_displayed().await.unwrap());
    assert_eq!(
        text(&client, "label[for=esig-head-inn]").await,
        "ИНН организации"
    );
    screenshot(&client, "register-esig").await;
    head.send_keys("123").await.expect("type");
    let button = find(&client, "#esig-submit").await;
    assert_eq!(button.text().await.unwrap(), "Зарегистрироваться");
    find(&client, "#esig-pin")
        .await
        .send_keys(DEMO_PIN)
        .await
        .expect("PIN");
    button.click().await.expect("submit");
    let alert = wait_text(&client, "#esig-error", |t| !t.is_empty()).await;
    assert!(alert.contains("14"), "{alert}");
    click(&client, "#esig-branch").await;
    assert!(!head.is_displayed().await.unwrap());

    // Not a branch: the personal certificate registers her, with no inspector.
    click(&client, "#esig-submit").await;
    let deadline = Instant::now() + WAIT;
    while client.current_url().await.expect("url").path() == "/register" {
        if let Ok(error) = client.find(Locator::Css("#esig-error:not([hidden])")).await {
            let message = error.text().await.unwrap_or_default();
            if !message.is_empty() && !message.contains("14") {
                panic!("registration refused: {message}");
            }
        }
        assert!(
            Instant::now() < deadline,
            "still on /register after {WAIT:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let user = app
        .state
        .store
        .user_by_inn(NEWCOMER_INN)
        .await
        .expect("store");
    assert!(user.is_some(), "Нуржан is registered");

    driver.close(client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_plugin_the_page_says_where_to_get_it() {
    if !browser_available() {
        return;
    }
    // No stand-in: the page loads Aktiv's adapter, which finds no extension in Chromium.
    let app = TestApp::spawn_demo().await;
    let mut driver = Driver::start().await;
    let client = driver.session().await;
    client
        .goto(&app.url("/register?tab=signature"))
        .await
        .expect("open «ЭП»");
    let hint = wait_for(&client, "#esig-no-plugin:not([hidden])").await;
    let hint_text = hint.text().await.expect("hint");
    assert!(
        hint_text.contains("Рутокен Плагин") && hint_text.contains("rutoken.ru"),
        "{hint_text}"
    );
    let link = find(&client, "#esig-no-plugin a").await;
    assert_eq!(
        link.attr("href").await.expect("href").as_deref(),
        Some("https://www.rutoken.ru/support/download/rutoken-plugin/")
    );
    assert!(
        client
            .find(Locator::Css("#esig-demo-notice"))
            .await
            .is_err(),
        "no demo notice without the stand-in"
    );
    assert!(!find(&client, "#esig-submit")
        .await
        .is_enabled()
        .await
        .unwrap());
    driver.close(client).await;
}
