//! What a browser does on our pages in a test: keep cookies, read a page, pick hidden fields,
//! follow a redirect by hand, sign in with a password and choose an account.

use std::collections::HashMap;

use crate::harness::TestApp;

/// A browser: cookies kept, redirects not followed (tests look at each hop).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The body of `GET path` in `browser` (whatever the status).
pub async fn get_text(app: &TestApp, browser: &reqwest::Client, path: &str) -> String {
    let response = browser.get(app.url(path)).send().await.expect("page");
    response.text().await.expect("body")
}

/// The value of `name` in a form's hidden input.
pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no hidden {name} in page:\n{html}"))
        + needle.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The query parameters of a redirect's `Location`.
pub fn location_params(response: &reqwest::Response) -> HashMap<String, String> {
    let location = response
        .headers()
        .get("location")
        .expect("location")
        .to_str()
        .expect("ascii");
    let url = url::Url::parse(location)
        .unwrap_or_else(|_| url::Url::parse(&format!("http://x{location}")).expect("url"));
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .expect("location")
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// Drives a browser from an authorization URL through sign-in and (if shown) account choice,
/// choosing the account with INN `account_inn` (or the first). Returns the final redirect to
/// the client.
pub async fn sign_in(
    app: &TestApp,
    browser: &reqwest::Client,
    authorize_url: &str,
    login: &str,
    password: &str,
    account_inn: Option<&str>,
) -> reqwest::Response {
    let mut response = browser.get(authorize_url).send().await.expect("authorize");
    loop {
        assert!(
            response.status().is_redirection(),
            "expected a redirect, got {} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
        let next = location(&response);
        if !next.starts_with('/') {
            return response;
        }
        let page = browser
            .get(app.url(&next))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        let csrf = hidden(&page, "csrf");
        let req = hidden(&page, "req");
        response = if next.starts_with("/login/account") {
            let account = match account_inn {
                Some(inn) => radio_value_for_inn(&page, inn),
                None => first_radio_value(&page),
            };
            browser
                .post(app.url("/login/account"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("req", req.as_str()),
                    ("account", account.as_str()),
                    ("action", "allow"),
                ])
                .send()
                .await
                .expect("account")
        } else {
            browser
                .post(app.url("/login/password"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("req", req.as_str()),
                    ("login", login),
                    ("password", password),
                ])
                .send()
                .await
                .expect("login")
        };
    }
}

pub fn radio_values(page: &str) -> Vec<String> {
    page.split("name=\"account\" value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap_or_default().to_owned())
        .collect()
}

fn first_radio_value(page: &str) -> String {
    radio_values(page)
        .into_iter()
        .next()
        .expect("an account radio")
}

fn radio_value_for_inn(page: &str, inn: &str) -> String {
    radio_values(page)
        .into_iter()
        .find(|v| v.ends_with(inn))
        .unwrap_or_else(|| panic!("no account {inn} on page"))
}
