//! The inspector console (R3, R5, D3):
//!
//! ```text
//! GET  /inspector                                 queue of the inspector's offices
//! GET  /inspector/applications/{number}           applicant's data beside the tax registry
//! POST /inspector/applications/{number}/approve   needs «Паспорт предъявлен» (passport_checked)
//! POST /inspector/applications/{number}/reject    needs a reason
//! ```
//! Inspectors sign in through the provider's own sign-in page (a first-party flow that
//! returns here). A signed-in user without offices gets 403; an application of another
//! office is answered exactly like an unknown number (404). The decisions themselves live
//! in [`crate::registration::approval`].

pub(crate) mod view;

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

use super::browser::{render, Browser};
use super::login::check_csrf;
use crate::error::{Error, ErrorCode};
use crate::oidc::authorize::flow;
use crate::registration::approval::{self, Inspector, Refusal};
use crate::state::AppState;
use crate::store::{Application, ApplicationKind, ApplicationStatus, UgnsOffice};
use view::{ApplicationView, Header, QueueView, ResultView};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inspector", get(queue))
        .route("/inspector/applications/{number}", get(detail))
        .route("/inspector/applications/{number}/approve", post(approve))
        .route("/inspector/applications/{number}/reject", post(reject))
}

fn detail_path(number: i64) -> String {
    format!("/inspector/applications/{number}")
}

/// A signed-in inspector, or the way to become one.
enum Gate {
    SignIn(Response),
    Inspector(Inspector),
}

/// No session → the sign-in page, back to `return_to` afterwards; signed in without the
/// inspector role → 403.
async fn gate(state: &AppState, browser: &Browser, return_to: &str) -> Result<Gate, Error> {
    let Some((_, user)) = flow::session_user(state, browser.session_cookie.as_deref()).await?
    else {
        return Ok(Gate::SignIn(
            flow::start_local_sign_in(state, return_to, false).await?,
        ));
    };
    match Inspector::of(state.store.as_ref(), user).await? {
        Some(inspector) => Ok(Gate::Inspector(inspector)),
        None => Err(Error::new(
            ErrorCode::AccessDenied,
            "the signed-in user is not an inspector",
        )
        .with_message("inspector.forbidden")),
    }
}

/// Unknown, malformed and other offices' numbers all look the same.
fn parse_number(raw: &str) -> Result<i64, Error> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(Error::not_found)
}

async fn offices(state: &AppState) -> Result<Vec<UgnsOffice>, Error> {
    Ok(state.store.ugns_offices().await?)
}

async fn queue(State(state): State<AppState>, browser: Browser) -> Result<Response, Error> {
    let inspector = match gate(&state, &browser, "/inspector").await? {
        Gate::SignIn(response) => return Ok(response),
        Gate::Inspector(inspector) => inspector,
    };
    let offices = offices(&state).await?;
    let pending = approval::queue(state.store.as_ref(), &inspector).await?;
    Ok(render(&QueueView {
        tr: browser.tr,
        lang_links: browser.lang_links.clone(),
        header: Header::new(&browser.csrf, &inspector, &offices),
        rows: pending
            .iter()
            .map(|a| view::queue_row(a, &offices))
            .collect(),
    }))
}

async fn detail(
    State(state): State<AppState>,
    browser: Browser,
    Path(number): Path<String>,
) -> Result<Response, Error> {
    let number = parse_number(&number)?;
    let inspector = match gate(&state, &browser, &detail_path(number)).await? {
        Gate::SignIn(response) => return Ok(response),
        Gate::Inspector(inspector) => inspector,
    };
    let application = approval::application_for(state.store.as_ref(), &inspector, number)
        .await?
        .ok_or_else(Error::not_found)?;
    detail_page(
        &state,
        &browser,
        &inspector,
        &application,
        None,
        String::new(),
    )
    .await
}

/// The detail page, with a refusal's message when a decision was not taken.
async fn detail_page(
    state: &AppState,
    browser: &Browser,
    inspector: &Inspector,
    application: &Application,
    refusal: Option<Refusal>,
    reason: String,
) -> Result<Response, Error> {
    let tr = browser.tr;
    let offices = offices(state).await?;
    let record = approval::registry_record(state.tax_registry.as_ref(), application).await?;
    let existing_user = match (&application.kind, &application.existing_user_id) {
        (ApplicationKind::LinkRequest, Some(id)) => state
            .store
            .user_by_id(id)
            .await?
            .map(|u| view::existing_user_label(&u)),
        _ => None,
    };
    let page = ApplicationView {
        tr,
        lang_links: view::lang_links(&detail_path(application.number)),
        header: Header::new(&browser.csrf, inspector, &offices),
        number: application.number,
        date: view::bishkek_time(application.created_at),
        kind_key: view::kind_key(application.kind),
        status_key: view::status_key(application.status),
        pending: application.status == ApplicationStatus::Pending,
        office: view::office_label(&application.ugns_code, &offices),
        applicant: view::applicant_rows(tr, application, &record),
        organization: view::organization_rows(tr, application, &record),
        existing_user,
        login: application.login.clone(),
        reject_reason: application.reject_reason.clone(),
        error: refusal.map(Refusal::message_key),
        reason,
    };
    let mut response = render(&page);
    if let Some(refusal) = refusal {
        *response.status_mut() = if refusal.is_conflict() {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
    }
    Ok(response)
}

/// What a decision handler needs before deciding: the checked form, the inspector, the
/// application (of their office).
async fn prepare(
    state: &AppState,
    browser: &Browser,
    number: &str,
    fields: &HashMap<String, String>,
) -> Result<Result<(Inspector, Application), Response>, Error> {
    check_csrf(state, browser, fields)?;
    let number = parse_number(number)?;
    let inspector = match gate(state, browser, &detail_path(number)).await? {
        Gate::SignIn(response) => return Ok(Err(response)),
        Gate::Inspector(inspector) => inspector,
    };
    let application = approval::application_for(state.store.as_ref(), &inspector, number)
        .await?
        .ok_or_else(Error::not_found)?;
    Ok(Ok((inspector, application)))
}

async fn approve(
    State(state): State<AppState>,
    browser: Browser,
    Path(number): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, Error> {
    let (inspector, application) = match prepare(&state, &browser, &number, &fields).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    let passport_checked = fields
        .get("passport_checked")
        .is_some_and(|v| !v.trim().is_empty());
    let outcome = approval::approve(
        state.store.as_ref(),
        state.tax_registry.as_ref(),
        &inspector,
        application.number,
        passport_checked,
        crate::clock::now(),
    )
    .await?;
    let approved = match outcome {
        Ok(approved) => approved,
        Err(refusal) => {
            return refused(&state, &browser, &inspector, &application, refusal, "").await
        }
    };
    let offices = offices(&state).await?;
    let a = &approved.application;
    Ok(render(&ResultView {
        tr: browser.tr,
        lang_links: view::lang_links(&detail_path(a.number)),
        header: Header::new(&browser.csrf, &inspector, &offices),
        number: a.number,
        kind_key: view::kind_key(a.kind),
        full_name: a.full_name.clone(),
        org_name: a.org_name.clone(),
        approved: true,
        login: approved.login,
        generated: approved.generated,
        reason: String::new(),
    }))
}

async fn reject(
    State(state): State<AppState>,
    browser: Browser,
    Path(number): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, Error> {
    let (inspector, application) = match prepare(&state, &browser, &number, &fields).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    let reason = fields.get("reason").map(String::as_str).unwrap_or("");
    let outcome = approval::reject(
        state.store.as_ref(),
        &inspector,
        application.number,
        reason,
        crate::clock::now(),
    )
    .await?;
    let rejected = match outcome {
        Ok(rejected) => rejected,
        Err(refusal) => {
            return refused(&state, &browser, &inspector, &application, refusal, reason).await
        }
    };
    let offices = offices(&state).await?;
    Ok(render(&ResultView {
        tr: browser.tr,
        lang_links: view::lang_links(&detail_path(rejected.number)),
        header: Header::new(&browser.csrf, &inspector, &offices),
        number: rejected.number,
        kind_key: view::kind_key(rejected.kind),
        full_name: rejected.full_name.clone(),
        org_name: rejected.org_name.clone(),
        approved: false,
        login: String::new(),
        generated: false,
        reason: rejected.reject_reason.clone().unwrap_or_default(),
    }))
}

/// A decision that was not taken: 404 for an application the inspector may not see,
/// otherwise the detail page again (as it is now) with the message.
async fn refused(
    state: &AppState,
    browser: &Browser,
    inspector: &Inspector,
    application: &Application,
    refusal: Refusal,
    reason: &str,
) -> Result<Response, Error> {
    if refusal == Refusal::NotFound {
        return Ok(Error::not_found().into_response());
    }
    let current = state
        .store
        .application(application.number)
        .await?
        .unwrap_or_else(|| application.clone());
    detail_page(
        state,
        browser,
        inspector,
        &current,
        Some(refusal),
        reason.to_owned(),
    )
    .await
}
