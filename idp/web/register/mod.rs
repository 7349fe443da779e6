//! The registration pages (R1, R2, R4, R5, R6; manual §1.1–§1.3, §1.5.2):
//! - `GET /register` — the tabs «Логин и пароль» (default), «ЭП» (`?tab=signature`: the
//!   Rutoken form of `templates/esig_form.html`), «Smart-ID KG», «Облако» (placeholders
//!   until they land) and «Добавить ИНН» (`?tab=add-inn`); `?inn=…` fills the INN;
//! - `POST /register` — `action=lookup` is «Поиск» without JavaScript (the form comes back
//!   filled), otherwise «Зарегистрироваться»; a failed submission comes back with everything
//!   typed except the passwords;
//! - `POST /register/lookup` — «Поиск» for `/static/register.js` (JSON, see [`api`]);
//! - `POST /register/add-inn` — «Добавить ИНН» (see [`add_inn`]);
//! - `GET /register/status/{number}` — an application's status (see [`status`]);
//! - `GET /static/register.js` — the page's script (CSP allows only `'self'` scripts).
//!
//! The decisions live in [`crate::registration`]; this module only renders them.

mod add_inn;
mod api;
mod status;
pub mod views;

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form as PostForm, Router};
use serde::Deserialize;

use super::browser::{render, Browser};
use super::login::check_csrf;
use super::views::EsigForm;
use crate::error::Error;
use crate::registration::form::{FieldErrors, Form, PersonType};
use crate::registration::guard::Requester;
use crate::registration::{self, Feedback, Outcome};
use crate::state::AppState;
use crate::store::UgnsOffice;
use views::{AddInnView, AlertView, RegisterView, SavedView};

/// The registration routes, merged into the page router (browser layer: CSRF, language).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/register", get(page).post(submit))
        .route("/register/lookup", post(api::lookup))
        .route("/register/add-inn", post(add_inn::submit))
        .route("/register/status/{number}", get(status::page))
        .route("/static/register.js", get(script))
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    tab: Option<String>,
    #[serde(default)]
    inn: Option<String>,
}

/// A value from the address bar that may be shown in a field: digits and a few separators.
fn inn_param(inn: Option<&str>) -> String {
    inn.unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, ' ' | '-'))
        .take(20)
        .collect()
}

/// The «Логин и пароль» tab.
fn password_tab(
    browser: &Browser,
    offices: &[UgnsOffice],
    form: &Form,
    feedback: &Feedback,
) -> RegisterView {
    RegisterView {
        tr: browser.tr,
        lang_links: views::lang_links("password"),
        csrf: browser.csrf.clone(),
        tab: "password",
        alert: feedback.alert.map(AlertView::from),
        legal_entity: views::is_legal_entity(form),
        person_type_error: feedback.fields.get("person_type"),
        fields: views::fields(form, &feedback.fields),
        offices: views::office_options(offices, &form.ugns_code),
        add_inn: AddInnView::default(),
        esig: None,
    }
}

/// The «ЭП» tab (R6, R10; manual §1.5.2): `/static/esig.js` drives the Rutoken plugin and
/// posts the signed challenge to `/api/esig/register`; nothing here is posted to `/register`.
fn signature_tab(state: &AppState, browser: &Browser) -> RegisterView {
    RegisterView {
        tr: browser.tr,
        lang_links: views::lang_links("signature"),
        csrf: browser.csrf.clone(),
        tab: "signature",
        alert: None,
        legal_entity: false,
        person_type_error: None,
        fields: Vec::new(),
        offices: Vec::new(),
        add_inn: AddInnView::default(),
        esig: Some(EsigForm {
            purpose: "register",
            req: String::new(),
            demo_token: state.config.demo_token,
        }),
    }
}

/// Renders a view with a status.
fn render_with(status: u16, view: &impl askama::Template) -> Response {
    let mut response = render(view);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response
}

pub async fn page(
    State(state): State<AppState>,
    browser: Browser,
    Query(query): Query<PageQuery>,
) -> Result<Response, Error> {
    if query.tab.as_deref() == Some("signature") {
        return Ok(render(&signature_tab(&state, &browser)));
    }
    let offices = state.store.ugns_offices().await?;
    let inn = inn_param(query.inn.as_deref());
    if query.tab.as_deref() == Some("add-inn") {
        return Ok(render(&add_inn::view(
            &browser,
            &offices,
            AddInnView {
                inn,
                ..AddInnView::default()
            },
            None,
            "",
        )));
    }
    let form = Form {
        person_type: Some(PersonType::Person),
        inn,
        ..Form::default()
    };
    Ok(render(&password_tab(
        &browser,
        &offices,
        &form,
        &Feedback::default(),
    )))
}

/// A feedback that is only a page-level message.
fn alert_only(status: u16, key: &'static str) -> Feedback {
    Feedback {
        status,
        fields: FieldErrors::default(),
        alert: Some(registration::Alert {
            key,
            link: registration::AlertLink::None,
        }),
    }
}

/// An error of a later step (database, session store, hashing) keeps the form: the page comes
/// back with what was typed and the error's message.
pub(super) fn error_feedback(e: &Error) -> Feedback {
    if e.status.is_server_error() {
        tracing::error!(error = %e, "registration step failed");
    }
    alert_only(e.status.as_u16(), e.message_key.unwrap_or("error.generic"))
}

pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    PostForm(fields): PostForm<HashMap<String, String>>,
) -> Result<Response, Error> {
    let mut form = Form::from_fields(&fields);
    let offices = state.store.ugns_offices().await?;
    if let Err(e) = check_csrf(&state, &browser, &fields) {
        let view = password_tab(
            &browser,
            &offices,
            &form.without_passwords(),
            &alert_only(403, e.message_key.unwrap_or("error.csrf")),
        );
        return Ok(render_with(403, &view));
    }
    let who = Requester::new(
        &state,
        browser.client_ip,
        &browser.browser_id,
        browser.session_cookie.as_deref(),
    )
    .await;
    if fields.get("action").map(String::as_str) == Some("lookup") {
        let feedback = registration::fill(&state, &who, &mut form)
            .await
            .unwrap_or_else(|e| error_feedback(&e));
        let view = password_tab(&browser, &offices, &form.without_passwords(), &feedback);
        return Ok(render_with(feedback.status, &view));
    }
    match registration::submit(&state, &who, &form).await {
        Ok(Outcome::Saved(application)) => Ok(render(&SavedView {
            tr: browser.tr,
            lang_links: browser.lang_links.clone(),
            number: application.number,
            office: views::office_label(&offices, &application.ugns_code),
            link_request: views::is_link_request(application.kind),
        })),
        Ok(Outcome::Retry(feedback)) => {
            let view = password_tab(&browser, &offices, &form.without_passwords(), &feedback);
            Ok(render_with(feedback.status, &view))
        }
        Err(e) => {
            let feedback = error_feedback(&e);
            let view = password_tab(&browser, &offices, &form.without_passwords(), &feedback);
            Ok(render_with(feedback.status, &view))
        }
    }
}

/// `GET /static/register.js`.
async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../static/register.js"),
    )
        .into_response()
}
