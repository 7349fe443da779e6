//! The UI string catalogue: every string a page shows goes through [`t`].
//!
//! Russian is the default language (wording follows the Taxpayer Cabinet's user manual),
//! with Kyrgyz and English. Templates receive a [`Tr`] and write `{{ tr.t("login.title") }}`;
//! a test scans `templates/` so a key used there but missing here fails the build's tests.

mod branches;
mod common;
mod esig;
mod inspector;
mod registration;
mod signature;

use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex};

/// A supported UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ru,
    Ky,
    En,
}

impl Lang {
    /// All supported languages, in the order the language switch shows them.
    pub const ALL: [Lang; 3] = [Lang::Ru, Lang::Ky, Lang::En];

    /// The BCP 47 code used in `<html lang>`, the language cookie and `ui_locales`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::Ky => "ky",
            Lang::En => "en",
        }
    }

    /// Parses a language tag ("ru", "ru-RU", "ky", "ky-KG", "kg", "en", "en-US", …),
    /// case-insensitively, by its primary subtag. `kg` (the country code, often used
    /// for Kyrgyz by mistake) is accepted as Kyrgyz.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("ru") {
            Some(Lang::Ru)
        } else if primary.eq_ignore_ascii_case("ky") || primary.eq_ignore_ascii_case("kg") {
            Some(Lang::Ky)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// Chooses the page language: the first supported tag of the OIDC `ui_locales`
    /// parameter (space-separated, OIDC Core §3.1.2.1), else the language cookie, else the
    /// supported tag of `Accept-Language` with the highest q-value (ties keep header
    /// order), else Russian.
    pub fn negotiate(
        ui_locales: Option<&str>,
        cookie: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        if let Some(lang) = ui_locales.and_then(|v| v.split_whitespace().find_map(Lang::parse)) {
            return lang;
        }
        if let Some(lang) = cookie.and_then(Lang::parse) {
            return lang;
        }
        accept_language
            .and_then(best_accept_language)
            .unwrap_or(Lang::Ru)
    }
}

/// The supported language with the highest q-value in an `Accept-Language` header
/// (RFC 9110 §12.5.4). Entries with q=0, a malformed q, or an unsupported tag (including
/// `*`) are skipped; among equal q-values the earlier entry wins.
fn best_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for entry in header.split(',') {
        let mut parts = entry.split(';');
        let Some(lang) = parts.next().and_then(Lang::parse) else {
            continue;
        };
        let mut q = 1.0_f32;
        let mut valid = true;
        for param in parts {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("q") {
                match value.trim().parse::<f32>() {
                    Ok(v) if (0.0..=1.0).contains(&v) => q = v,
                    _ => valid = false,
                }
            }
        }
        if !valid || q <= 0.0 {
            continue;
        }
        if best.is_none_or(|(best_q, _)| q > best_q) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

/// The translator handed to templates: `{{ tr.t("key") }}`, `<html lang="{{ tr.code() }}">`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Tr { lang }
    }

    /// The string for `key` in this language (see [`t`]).
    pub fn t(&self, key: &str) -> &'static str {
        t(self.lang, key)
    }

    /// The language code ("ru", "ky", "en").
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

/// The string for `key` in `lang`. A key missing from the catalogue returns the key
/// itself (and logs a warning once per key); the tests make sure templates never do that.
pub fn t(lang: Lang, key: &str) -> &'static str {
    match INDEX.get(key) {
        Some(&(ru, ky, en)) => match lang {
            Lang::Ru => ru,
            Lang::Ky => ky,
            Lang::En => en,
        },
        None => missing(key),
    }
}

/// Interns a missing key so it can be returned as `&'static str`. At most
/// `MAX_MISSING` distinct keys are ever leaked; past that a fixed marker is returned, so
/// a caller that wrongly passes request data as a key cannot grow memory without bound.
fn missing(key: &str) -> &'static str {
    const MAX_MISSING: usize = 256;
    static MISSING: LazyLock<Mutex<HashSet<&'static str>>> =
        LazyLock::new(|| Mutex::new(HashSet::new()));
    let mut set = MISSING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&known) = set.get(key) {
        return known;
    }
    if set.len() >= MAX_MISSING {
        return "???";
    }
    tracing::warn!(key, "i18n: key missing from the catalogue");
    let leaked: &'static str = Box::leak(key.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

static INDEX: LazyLock<HashMap<&'static str, (&'static str, &'static str, &'static str)>> =
    LazyLock::new(|| {
        entries()
            .map(|&(key, ru, ky, en)| (key, (ru, ky, en)))
            .collect()
    });

/// One catalogue entry: `(key, ru, ky, en)`. Language names (`lang.*`) are endonyms in every
/// language: a reader looks for their own language written in it.
type Entry = (&'static str, &'static str, &'static str, &'static str);

/// The catalogue, one file per area.
fn entries() -> impl Iterator<Item = &'static Entry> {
    common::ENTRIES
        .iter()
        .chain(registration::ENTRIES)
        .chain(inspector::ENTRIES)
        .chain(branches::ENTRIES)
        .chain(signature::ENTRIES)
        .chain(esig::ENTRIES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_key_has_three_non_empty_translations() {
        for &(key, ru, ky, en) in entries() {
            assert!(!key.is_empty());
            for (lang, s) in [("ru", ru), ("ky", ky), ("en", en)] {
                assert!(!s.trim().is_empty(), "{key}: empty {lang} translation");
                assert_eq!(s, s.trim(), "{key}: stray whitespace in {lang}");
            }
        }
    }

    #[test]
    fn no_duplicate_keys() {
        let mut seen = HashSet::new();
        for &(key, ..) in entries() {
            assert!(seen.insert(key), "duplicate key {key}");
        }
        assert_eq!(INDEX.len(), entries().count());
    }

    /// The keys the pages are written against (the catalogue may hold more).
    const REQUIRED: &[&str] = &[
        "app.name",
        "app.tagline",
        "app.authority",
        "lang.label",
        "lang.ru",
        "lang.ky",
        "lang.en",
        "login.title",
        "login.for_service",
        "login.tab.password",
        "login.tab.signature",
        "login.tab.smartid",
        "login.tab.cloud",
        "login.tab.esi",
        "login.tab.later",
        "login.register",
        "login.login",
        "login.password",
        "login.submit",
        "login.error.invalid",
        "login.higher_level",
        "account.title",
        "account.intro",
        "account.kind.individual",
        "account.kind.organization",
        "account.kind.branch",
        "account.inn",
        "account.role.self",
        "account.role.head",
        "account.role.accountant",
        "account.role.employee",
        "account.consent",
        "account.continue",
        "account.cancel",
        "account.none",
        "account.required_org",
        "logout.title",
        "logout.confirm",
        "logout.submit",
        "logout.cancel",
        "logout.done",
        "error.title",
        "error.generic",
        "error.not_found",
        "error.unavailable",
        "error.invalid_request",
        "error.unknown_client",
        "error.redirect_uri",
        "error.csrf",
        "error.request_expired",
        "error.too_many",
        "error.back",
        "error.details",
        "home.title",
        "home.text",
        "home.session",
        "home.no_session",
        "demo.title",
        "demo.intro",
        "demo.sign_in",
        "demo.id_token",
        "demo.userinfo",
        "demo.account",
        "demo.again",
        "demo.logout",
        "form.required",
    ];

    #[test]
    fn required_keys_present() {
        for key in REQUIRED {
            assert!(INDEX.contains_key(key), "missing {key}");
        }
    }

    #[test]
    fn lookup_and_missing_key() {
        assert_eq!(t(Lang::Ru, "login.title"), "Вход");
        assert_eq!(t(Lang::Ky, "login.password"), "Сырсөз");
        assert_eq!(t(Lang::En, "login.submit"), "Sign in");
        assert_eq!(t(Lang::Ru, "no.such.key"), "no.such.key");
        let tr = Tr { lang: Lang::Ky };
        assert_eq!(tr.t("error.title"), "Ката");
        assert_eq!(tr.code(), "ky");
    }

    #[test]
    fn parse_tags() {
        for (tag, want) in [
            ("ru", Some(Lang::Ru)),
            ("ru-RU", Some(Lang::Ru)),
            ("RU", Some(Lang::Ru)),
            ("ky", Some(Lang::Ky)),
            ("ky-KG", Some(Lang::Ky)),
            ("kg", Some(Lang::Ky)),
            ("KY_kg", Some(Lang::Ky)),
            ("en", Some(Lang::En)),
            ("en-US", Some(Lang::En)),
            ("En-Gb", Some(Lang::En)),
            ("de", None),
            ("*", None),
            ("", None),
            ("rus", None),
            ("english", None),
        ] {
            assert_eq!(Lang::parse(tag), want, "{tag:?}");
        }
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.code()), Some(lang));
        }
    }

    #[test]
    fn negotiate_order() {
        // ui_locales beats cookie beats Accept-Language.
        assert_eq!(
            Lang::negotiate(Some("en"), Some("ky"), Some("ru")),
            Lang::En
        );
        assert_eq!(Lang::negotiate(None, Some("ky"), Some("en")), Lang::Ky);
        assert_eq!(Lang::negotiate(None, None, Some("en")), Lang::En);
        // First *supported* ui_locales tag; unknown tags are skipped.
        assert_eq!(
            Lang::negotiate(Some("fr-CA de  ky-KG en"), Some("ru"), None),
            Lang::Ky
        );
        // Unsupported ui_locales / cookie fall through.
        assert_eq!(
            Lang::negotiate(Some("fr de"), Some("xx"), Some("en-US")),
            Lang::En
        );
        assert_eq!(Lang::negotiate(Some(""), Some(""), Some("")), Lang::Ru);
        // q-values are honoured, not header order.
        assert_eq!(
            Lang::negotiate(None, None, Some("ru;q=0.5, en;q=0.9, ky;q=0.7")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(None, None, Some("de-DE,de;q=0.9,ky;q=0.8,ru;q=0.7")),
            Lang::Ky
        );
        // Ties keep header order; default q is 1.
        assert_eq!(
            Lang::negotiate(None, None, Some("en;q=0.8, ky, ru")),
            Lang::Ky
        );
        // q=0 means "not acceptable"; malformed q is ignored; `*` is not a language.
        assert_eq!(
            Lang::negotiate(None, None, Some("en;q=0, ky;q=abc, *;q=0.5")),
            Lang::Ru
        );
        assert_eq!(
            Lang::negotiate(None, None, Some("en;q=0, ru;q=0.1")),
            Lang::Ru
        );
        assert_eq!(
            Lang::negotiate(None, None, Some("en;q=0, ky;q=0.1")),
            Lang::Ky
        );
        // Default.
        assert_eq!(Lang::negotiate(None, None, None), Lang::Ru);
        assert_eq!(Lang::negotiate(None, None, Some("fr, de")), Lang::Ru);
        assert_eq!(Lang::default(), Lang::Ru);
    }

    /// Every `tr.t("…")` in `templates/` (recursively) names a catalogue key.
    #[test]
    fn template_keys_exist() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut files = Vec::new();
        collect_files(&dir, &mut files);
        assert!(!files.is_empty(), "no templates found under {dir:?}");
        let mut used = 0;
        let mut missing_keys = Vec::new();
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            for key in template_keys(&text) {
                used += 1;
                if !INDEX.contains_key(key.as_str()) {
                    missing_keys.push(format!("{}: {key}", file.display()));
                }
            }
        }
        assert!(used > 0, "no tr.t(\"…\") uses found in templates");
        assert!(
            missing_keys.is_empty(),
            "keys missing from the catalogue: {missing_keys:#?}"
        );
    }

    fn collect_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect_files(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    /// The string literals passed to `tr.t(…)` (whitespace around them allowed).
    fn template_keys(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut rest = text;
        while let Some(pos) = rest.find("tr.t(") {
            rest = &rest[pos + "tr.t(".len()..];
            let arg = rest.trim_start();
            if let Some(lit) = arg.strip_prefix('"') {
                if let Some(end) = lit.find('"') {
                    keys.push(lit[..end].to_owned());
                }
            }
        }
        keys
    }

    #[test]
    fn template_key_scanner() {
        let keys = template_keys(r#"{{ tr.t("a.b") }} x {{tr.t( "c" )}} {{ xtr.t("d") }}"#);
        assert_eq!(keys, ["a.b", "c", "d"]);
    }

    #[derive(askama::Template)]
    #[template(
        source = "{% extends \"base.html\" %}{% block title %}T{% endblock %}{% block content %}<p>x</p>{% endblock %}",
        ext = "html"
    )]
    struct Probe {
        tr: Tr,
        lang_links: Vec<(String, String)>,
    }

    #[derive(askama::Template)]
    #[template(
        source = "{% extends \"base.html\" %}{% block main_class %}card wide{% endblock %}{% block content %}y{% endblock %}",
        ext = "html"
    )]
    struct WideProbe {
        tr: Tr,
        lang_links: Vec<(String, String)>,
    }

    fn links() -> Vec<(String, String)> {
        Lang::ALL
            .iter()
            .map(|l| (l.code().to_owned(), format!("/login?lang={}&x=1", l.code())))
            .collect()
    }

    #[test]
    fn base_layout_renders() {
        use askama::Template;
        let html = Probe {
            tr: Tr { lang: Lang::Ky },
            lang_links: links(),
        }
        .render()
        .unwrap();
        assert!(html.starts_with("<!doctype html>"), "{html}");
        assert!(html.contains(r#"<html lang="ky">"#), "{html}");
        assert!(html.contains("<title>T"), "{html}");
        assert!(html.contains(r#"href="/static/style.css""#));
        assert!(html.contains("Салык төлөөчүнүн кабинети"));
        assert!(html.contains(t(Lang::Ky, "app.authority")));
        assert!(html.contains(r#"<main class="card">"#), "{html}");
        assert!(html.contains("<p>x</p>"));
        // Language switch: every language, hrefs escaped, only Kyrgyz is current.
        assert!(html.contains("Русский") && html.contains("Кыргызча") && html.contains("English"));
        assert!(!html.contains("&x=1"), "unescaped href: {html}");
        assert!(html.contains("/login?lang=en&#38;x=1"), "{html}");
        assert_eq!(html.matches("aria-current").count(), 1, "{html}");
        let current = html.find("aria-current").unwrap();
        let ky_link = html.find("lang=ky&#38;x=1").unwrap();
        let en_link = html.find("lang=en&#38;x=1").unwrap();
        assert!(ky_link < current && current < en_link, "{html}");
        // CSP: no inline scripts or styles.
        assert!(!html.contains("<script") && !html.contains("<style") && !html.contains("style="));

        let html = WideProbe {
            tr: Tr { lang: Lang::En },
            lang_links: Vec::new(),
        }
        .render()
        .unwrap();
        assert!(html.contains(r#"<html lang="en">"#), "{html}");
        assert!(html.contains(r#"<main class="card wide">"#), "{html}");
        assert!(html.contains("<title>Salyk ID</title>"), "{html}");
        assert!(!html.contains("aria-current"));
    }
}
