//! The askama views: one struct per template in `templates/`. Every page view has `tr` (the
//! catalogue in the page's language) and `lang_links` (the language switch).

use askama::Template;

use super::i18n::Tr;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorView {
    pub tr: Tr,
    pub lang_links: Vec<(String, String)>,
    pub message: &'static str,
    pub code: &'static str,
    pub description: String,
}

/// A sign-in method tab.
pub struct MethodTab {
    pub id: &'static str,
    pub label_key: &'static str,
    pub active: bool,
    pub available: bool,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginView {
    pub tr: Tr,
    pub lang_links: Vec<(String, String)>,
    pub csrf: String,
    pub req: String,
    /// Where the active method's form posts: `/login/{method}` with the request's query, so
    /// the answer (e.g. a failed attempt) keeps the page's `ui_locales`.
    pub action: String,
    pub client_name: String,
    pub login: String,
    pub error: Option<&'static str>,
    pub needs_higher_level: bool,
    pub tabs: Vec<MethodTab>,
    /// The «ЭП» form, when that tab is the active one (instead of the password form).
    pub esig: Option<EsigForm>,
}

/// The «ЭП» (Rutoken) form of the sign-in and registration pages
/// (`templates/esig_form.html`, driven by `/static/esig.js`, which reads these as `data-`
/// attributes: the page's CSP allows no inline script).
pub struct EsigForm {
    /// `signin` or `register`: which challenge the script asks for and where it posts.
    pub purpose: &'static str,
    /// The pending authorization request (sign-in only; empty for registration).
    pub req: String,
    /// The software stand-in of the plugin is served (`IDP_DEMO_TOKEN`): the page loads it
    /// and says so.
    pub demo_token: bool,
}

/// One radio choice on the account page.
pub struct AccountChoice {
    pub key: String,
    pub name: String,
    pub inn: String,
    pub kind_key: &'static str,
    pub role_key: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountView {
    pub tr: Tr,
    pub lang_links: Vec<(String, String)>,
    pub csrf: String,
    pub req: String,
    pub client_name: String,
    pub user_name: String,
    pub accounts: Vec<AccountChoice>,
    pub empty_key: &'static str,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutView {
    pub tr: Tr,
    pub lang_links: Vec<(String, String)>,
    pub csrf: String,
    /// Hidden fields carried to the confirmation POST.
    pub fields: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessageView {
    pub tr: Tr,
    pub lang_links: Vec<(String, String)>,
    pub title_key: &'static str,
    pub message_key: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomeView {
    pub tr: Tr,
    pub lang_links: Vec<(String, String)>,
    pub csrf: String,
    pub user_name: Option<String>,
    pub demo: bool,
}

/// The auto-submitting form of `response_mode=form_post`; its script runs under a CSP nonce.
#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostView {
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub nonce: String,
}
