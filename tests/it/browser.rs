//! Browser tests: headless Chromium driven over WebDriver (chromedriver + fantoccini) through
//! the demo relying party at `/demo`, the sign-in page, the account choice and sign-out, as a
//! person would click them. Each test starts its own chromedriver on a free port and ends it
//! (and the browser it started) when done, also on panic; `registration_browser` uses the
//! same `Driver`.
//!
//! Without `/usr/bin/chromedriver` (`scripts/install-browser` installs it) the tests print a
//! note and pass, unless `IDP_REQUIRE_BROWSER=1`, which makes them fail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use salyk_idp::demo::{DEMO_LOGIN, DEMO_PASSWORD};

use crate::harness::TestApp;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const WAIT: Duration = Duration::from_secs(20);

const ORG_IMPORT: (&str, &str) = ("01503201699001", "ДЕМО Импорт Трейд");
const ORG_LOGISTICS: (&str, &str) = ("02802202399006", "ДЕМО СЭЗ Логистик");
/// The demo person's own INN: the personal account offered beside the organizations.
const PERSONAL_INN: &str = "21207198599011";

/// Whether the browser tests can run (prints a note when they cannot).
pub(crate) fn browser_available() -> bool {
    if Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    if std::env::var("IDP_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!(
            "IDP_REQUIRE_BROWSER=1 but {CHROMEDRIVER} does not exist: run scripts/install-browser"
        );
    }
    eprintln!("note: {CHROMEDRIVER} not found; skipping the browser tests (scripts/install-browser installs it)");
    false
}

/// A chromedriver process of this test, the browser profile it uses and the WebDriver session
/// it has open. Dropping it — also while a failed test unwinds — first ends that session over
/// WebDriver (chromedriver then quits the Chromium it launched), then kills chromedriver by its
/// own pid. (No `kill` command: procps' `kill -9 -PGID` can turn into `kill(-1)`.)
pub(crate) struct Driver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
    session: Option<String>,
}

impl Driver {
    pub(crate) async fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver {
            child,
            port,
            profile: tempfile::tempdir().expect("profile dir"),
            session: None,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(response) = http.get(format!("{}/status", driver.url())).send().await {
                if response.status().is_success() {
                    return driver;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer {}/status within {WAIT:?}",
                driver.url()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A new headless Chromium session, in Russian like a browser in Kyrgyzstan. The flags
    /// keep Chromium from reaching for the network (it hangs on a closed one) and give it a
    /// fresh profile.
    pub(crate) async fn session(&mut self) -> Client {
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-crash-reporter".to_owned(),
            "--window-size=1280,1000".to_owned(),
            "--lang=ru".to_owned(),
            format!("--user-data-dir={}", self.profile.path().display()),
        ];
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                "prefs": { "intl.accept_languages": "ru-RU,ru" },
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        let client = ClientBuilder::native()
            .capabilities(capabilities)
            .connect(&self.url())
            .await
            .expect("WebDriver session");
        self.session = client.session_id().await.expect("session id");
        client
    }

    /// Ends the WebDriver session `client` (Chromium quits); chromedriver is killed on drop.
    pub(crate) async fn close(&mut self, client: Client) {
        client.close().await.expect("close the WebDriver session");
        self.session = None;
    }

    /// `DELETE /session/{id}` without an async runtime (this runs in `drop`).
    fn end_session(&self, id: &str) {
        use std::io::{Read, Write};
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        else {
            return;
        };
        let _ = stream.set_read_timeout(Some(WAIT));
        let request = format!("DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", self.port);
        if stream.write_all(request.as_bytes()).is_ok() {
            let _ = stream.read_to_end(&mut Vec::new());
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(id) = self.session.take() {
            self.end_session(&id);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser on the demo app. Declared in this order so the WebDriver client, then the driver
/// (which ends a session still open) and then the app go away.
struct Session {
    client: Client,
    driver: Driver,
    app: TestApp,
}

impl Session {
    async fn start() -> Session {
        let app = TestApp::spawn_demo().await;
        let mut driver = Driver::start().await;
        let client = driver.session().await;
        Session {
            client,
            driver,
            app,
        }
    }

    /// Ends the WebDriver session (Chromium quits); chromedriver is killed on drop.
    async fn close(self) {
        let Session {
            client,
            mut driver,
            app,
        } = self;
        driver.close(client).await;
        drop(driver);
        drop(app);
    }

    async fn goto(&self, path: &str) {
        self.client
            .goto(&self.app.url(path))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// Waits for an element that only the expected next page has.
    async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => {
                let url = self
                    .client
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                let source = self.client.source().await.unwrap_or_default();
                panic!("no {css} on {url} after {WAIT:?}: {e}\n{source}");
            }
        }
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
    }

    async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    async fn body_text(&self) -> String {
        self.text("body").await
    }

    async fn html_lang(&self) -> String {
        self.find("html")
            .await
            .attr("lang")
            .await
            .expect("lang attribute")
            .unwrap_or_default()
    }

    async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current url")
            .path()
            .to_owned()
    }

    /// From the demo's start page: «Войти через Salyk ID» to the sign-in form.
    async fn open_sign_in(&self) {
        self.goto("/demo").await;
        self.wait_for("#sign-in").await;
        self.click("#sign-in").await;
        self.wait_for("#login").await;
    }

    async fn submit_password(&self, login: &str, password: &str) {
        // The form keeps the login typed before a failed attempt: replace it.
        let field = self.find("#login").await;
        field.clear().await.expect("clear the login");
        field.send_keys(login).await.expect("type the login");
        self.find("#password")
            .await
            .send_keys(password)
            .await
            .expect("type the password");
        self.click("form[action^='/login/password'] button[type=submit]")
            .await;
    }

    /// On the account choice: the radio for the organization `inn`, then «Продолжить»; waits
    /// for the demo's result page.
    async fn choose_organization(&self, inn: &str) {
        let radio = self
            .find(&format!(
                "input[type=radio][name=account][value='organization:{inn}']"
            ))
            .await;
        radio.click().await.expect("choose the organization");
        assert!(
            radio.is_selected().await.expect("radio state"),
            "the radio for {inn} is not selected after a click"
        );
        let allow = self.find("button[name=action][value=allow]").await;
        assert_eq!(allow.text().await.expect("button text"), "Продолжить");
        allow.click().await.expect("continue");
        self.wait_for("#account-inn").await;
    }

    async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(!png.is_empty(), "empty screenshot {name}");
        assert!(
            png.starts_with(b"\x89PNG"),
            "screenshot {name} is not a PNG"
        );
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png).expect("write screenshot");
        eprintln!("screenshot: {}", path.display());
        path
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_sign_in_chooses_organization() {
    if !browser_available() {
        return;
    }
    let s = Session::start().await;

    // The sign-in page, in Russian by default.
    s.open_sign_in().await;
    assert_eq!(s.html_lang().await, "ru");
    for (css, label) in [
        ("label[for=login]", "Логин"),
        ("label[for=password]", "Пароль"),
    ] {
        let element = s.find(css).await;
        assert!(
            element.is_displayed().await.expect("visibility"),
            "{label} is not visible"
        );
        assert_eq!(element.text().await.expect("label text"), label);
    }
    s.submit_password(DEMO_LOGIN, DEMO_PASSWORD).await;

    // The account choice: both organizations and the personal account.
    s.wait_for("ul.accounts").await;
    assert_eq!(s.text("h1").await, "Выбор входа");
    let page = s.body_text().await;
    for needle in [
        ORG_IMPORT.0,
        ORG_IMPORT.1,
        ORG_LOGISTICS.0,
        ORG_LOGISTICS.1,
        PERSONAL_INN,
    ] {
        assert!(
            page.contains(needle),
            "{needle} is not on the account page:\n{page}"
        );
    }
    let radios = s
        .client
        .find_all(Locator::Css("input[type=radio][name=account]"))
        .await
        .expect("radios");
    assert_eq!(
        radios.len(),
        3,
        "two organizations and the personal account"
    );
    s.choose_organization(ORG_LOGISTICS.0).await;

    // Back on the demo: what the relying party received.
    assert_eq!(s.path().await, "/demo/callback");
    assert_eq!(s.text("#account-inn").await, ORG_LOGISTICS.0);
    assert!(s.text("#account-name").await.contains(ORG_LOGISTICS.1));
    let id_token = s.text("#id-token").await;
    assert!(
        id_token.contains("\"kind\": \"organization\""),
        "ID token:\n{id_token}"
    );
    assert!(id_token.contains("\"amr\""), "ID token:\n{id_token}");
    let userinfo = s.text("#userinfo").await;
    assert!(userinfo.contains(ORG_LOGISTICS.0), "userinfo:\n{userinfo}");

    // «Войти снова» (prompt=select_account): the SSO session skips the password.
    s.click("#again").await;
    s.wait_for("ul.accounts").await;
    s.choose_organization(ORG_IMPORT.0).await;
    assert_eq!(s.text("#account-inn").await, ORG_IMPORT.0);
    assert!(s.text("#userinfo").await.contains(ORG_IMPORT.0));

    // Sign-out returns to the demo (post_logout_redirect_uri) and ends the session.
    s.click("#logout").await;
    s.wait_for("#sign-in").await;
    assert_eq!(s.path().await, "/demo");
    s.click("#sign-in").await;
    s.wait_for("#password").await;
    assert!(
        s.client.find(Locator::Css("ul.accounts")).await.is_err(),
        "signed in still after sign-out"
    );

    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_message() {
    if !browser_available() {
        return;
    }
    let s = Session::start().await;
    s.open_sign_in().await;
    s.submit_password(DEMO_LOGIN, "not-the-password").await;
    let alert = s.wait_for(".alert.error").await;
    assert_eq!(
        alert.text().await.expect("alert text"),
        "Неверный логин или пароль"
    );
    assert!(
        s.find("#password")
            .await
            .is_displayed()
            .await
            .expect("visibility"),
        "the form is shown again"
    );

    // The footer's language switch keeps the sign-in page and changes its language.
    s.click("footer a[hreflang=en]").await;
    s.wait_for("html[lang=en]").await;
    s.wait_for("#login").await;
    assert_eq!(s.text("label[for=login]").await, "Login");
    assert_eq!(s.text("label[for=password]").await, "Password");
    assert_eq!(s.text("h1").await, "Sign in");

    // The choice sticks (language cookie) and the form still works.
    s.submit_password(DEMO_LOGIN, DEMO_PASSWORD).await;
    s.wait_for("ul.accounts").await;
    assert_eq!(s.html_lang().await, "en");
    assert_eq!(s.text("h1").await, "Choose an account");

    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots() {
    if !browser_available() {
        return;
    }
    let s = Session::start().await;
    s.open_sign_in().await;
    s.screenshot("sign-in").await;
    s.submit_password(DEMO_LOGIN, "not-the-password").await;
    s.wait_for(".alert.error").await;
    s.screenshot("sign-in-error").await;
    s.submit_password(DEMO_LOGIN, DEMO_PASSWORD).await;
    s.wait_for("ul.accounts").await;
    s.screenshot("account").await;
    s.choose_organization(ORG_LOGISTICS.0).await;
    s.screenshot("demo-result").await;
    s.close().await;
}
