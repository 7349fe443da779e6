//! The page «Филиалы головной организации» (R10, D4): the head of a head organization sees
//! the pending registration applications of its branches and confirms or rejects them.
//!
//! ```text
//! GET  /branches                     pending applications of every organization the user heads
//! GET  /branches/{number}            one application (decided ones too)
//! POST /branches/{number}/confirm    adds the branch account to the applicant
//! POST /branches/{number}/reject     needs a reason
//! ```
//! Users sign in through the provider's own sign-in page (a first-party flow that returns
//! here), as for the inspector console. Who may decide, and the decisions themselves, live in
//! [`crate::registration::branch`]: an application of an organization the user has no link
//! to is answered like an unknown number (404), one of an organization they are linked to
//! but do not head gets 403. A user who heads nothing sees a message, not an error.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};

use super::browser::{render, Browser};
use super::i18n::Tr;
use super::inspector::view::{bishkek_time, lang_links, office_label};
use super::login::check_csrf;
use crate::error::{Error, ErrorCode};
use crate::oidc::authorize::flow;
use crate::registration::approval::applicant_role;
use crate::registration::branch::{self, DecisionRefusal};
use crate::state::AppState;
use crate::store::{Application, ApplicationStatus, MemberRole, Organization, UgnsOffice, User};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/branches", get(list))
        .route("/branches/{number}", get(detail))
        .route("/branches/{number}/confirm", post(confirm))
        .route("/branches/{number}/reject", post(reject))
}

fn detail_path(number: i64) -> String {
    format!("/branches/{number}")
}

/// Who is signed in and the organizations they head, shown on every page.
struct Header {
    csrf: String,
    user_name: String,
    user_login: String,
    /// «ОсОО «…» (01503201699001)».
    organizations: Vec<String>,
}

impl Header {
    fn new(csrf: &str, user: &User, headed: &[Organization]) -> Header {
        Header {
            csrf: csrf.to_owned(),
            user_name: user.full_name(),
            user_login: user.login.clone(),
            organizations: headed
                .iter()
                .map(|o| format!("{} ({})", o.name, o.inn))
                .collect(),
        }
    }
}

/// One pending application in the list.
struct Row {
    number: i64,
    date: String,
    branch_inn: String,
    branch_name: String,
    address: String,
    office: String,
    applicant_name: String,
    applicant_inn: String,
    head_inn: String,
}

#[derive(Template)]
#[template(path = "branches.html")]
struct ListView {
    tr: Tr,
    lang_links: Vec<(String, String)>,
    header: Header,
    /// False: the user heads no organization (the list is not shown at all).
    heads_any: bool,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "branches_application.html")]
struct DetailView {
    tr: Tr,
    lang_links: Vec<(String, String)>,
    header: Header,
    number: i64,
    status_key: &'static str,
    pending: bool,
    /// (label key, value), in the page's order.
    facts: Vec<(&'static str, String)>,
    reject_reason: Option<String>,
    /// A refused decision's message.
    error: Option<&'static str>,
    /// What the head typed as a reason, kept when the page comes back.
    reason: String,
}

#[derive(Template)]
#[template(path = "branches_result.html")]
struct ResultView {
    tr: Tr,
    lang_links: Vec<(String, String)>,
    header: Header,
    number: i64,
    confirmed: bool,
    branch_name: String,
    branch_inn: String,
    applicant: String,
    role_key: &'static str,
    reason: String,
}

fn status_key(status: ApplicationStatus) -> &'static str {
    match status {
        ApplicationStatus::Pending => "branches.status.pending",
        ApplicationStatus::Approved => "branches.status.approved",
        ApplicationStatus::Rejected => "branches.status.rejected",
    }
}

fn role_key(role: Option<MemberRole>) -> &'static str {
    match role {
        Some(MemberRole::Head) => "branches.role.head",
        Some(MemberRole::Accountant) => "branches.role.accountant",
        _ => "branches.role.none",
    }
}

/// The signed-in user, or the sign-in page that comes back to `return_to`.
async fn signed_in(
    state: &AppState,
    browser: &Browser,
    return_to: &str,
) -> Result<Result<User, Response>, Error> {
    match flow::session_user(state, browser.session_cookie.as_deref()).await? {
        Some((_, user)) => Ok(Ok(user)),
        None => Ok(Err(
            flow::start_local_sign_in(state, return_to, false).await?
        )),
    }
}

/// Unknown and malformed numbers look the same.
fn parse_number(raw: &str) -> Result<i64, Error> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(Error::not_found)
}

/// The error page of a refusal that hides or forbids the application.
fn denied(refusal: DecisionRefusal) -> Error {
    match refusal {
        DecisionRefusal::NotHead => Error::new(
            ErrorCode::AccessDenied,
            "only the head of the head organization decides its branches' applications",
        )
        .with_message("branches.forbidden"),
        _ => Error::not_found(),
    }
}

async fn offices(state: &AppState) -> Result<Vec<UgnsOffice>, Error> {
    Ok(state.store.ugns_offices().await?)
}

async fn list(State(state): State<AppState>, browser: Browser) -> Result<Response, Error> {
    let user = match signed_in(&state, &browser, "/branches").await? {
        Ok(user) => user,
        Err(sign_in) => return Ok(sign_in),
    };
    let headed = branch::headed_organizations(&state, &user).await?;
    let pending = branch::queue(&state, &headed).await?;
    let offices = offices(&state).await?;
    let rows = pending
        .iter()
        .map(|a| Row {
            number: a.number,
            date: bishkek_time(a.created_at),
            branch_inn: a.org_inn.clone().unwrap_or_default(),
            branch_name: a.org_name.clone().unwrap_or_default(),
            address: a.address.clone(),
            office: office_label(&a.ugns_code, &offices),
            applicant_name: a.full_name.clone(),
            applicant_inn: a.person_inn.clone(),
            head_inn: a.head_inn.clone().unwrap_or_default(),
        })
        .collect();
    Ok(render(&ListView {
        tr: browser.tr,
        lang_links: browser.lang_links.clone(),
        header: Header::new(&browser.csrf, &user, &headed),
        heads_any: !headed.is_empty(),
        rows,
    }))
}

async fn detail(
    State(state): State<AppState>,
    browser: Browser,
    Path(number): Path<String>,
) -> Result<Response, Error> {
    let number = parse_number(&number)?;
    let user = match signed_in(&state, &browser, &detail_path(number)).await? {
        Ok(user) => user,
        Err(sign_in) => return Ok(sign_in),
    };
    let application = branch::application_for(&state, &user, number)
        .await?
        .map_err(denied)?;
    detail_page(&state, &browser, &user, &application, None, String::new()).await
}

/// The detail page, with a refused decision's message (and its status) when there is one.
async fn detail_page(
    state: &AppState,
    browser: &Browser,
    user: &User,
    application: &Application,
    refusal: Option<DecisionRefusal>,
    reason: String,
) -> Result<Response, Error> {
    let headed = branch::headed_organizations(state, user).await?;
    let offices = offices(state).await?;
    let branch_inn = application.org_inn.clone().unwrap_or_default();
    let head_inn = application.head_inn.clone().unwrap_or_default();
    // The applicant's role as the registry gives it now: what confirming would grant.
    let role = state
        .tax_registry
        .taxpayer(&branch_inn)
        .await?
        .and_then(|t| applicant_role(&t, &application.person_inn));
    let head_name = headed
        .iter()
        .find(|o| o.inn == head_inn)
        .map_or_else(|| head_inn.clone(), |o| format!("{} ({})", o.name, o.inn));
    let tr = browser.tr;
    let facts = vec![
        ("branches.col.date", bishkek_time(application.created_at)),
        ("branches.field.branch_inn", branch_inn),
        (
            "branches.field.branch_name",
            application.org_name.clone().unwrap_or_default(),
        ),
        ("branches.field.address", application.address.clone()),
        (
            "branches.field.ugns",
            office_label(&application.ugns_code, &offices),
        ),
        ("branches.organizations", head_name),
        ("branches.field.applicant", application.full_name.clone()),
        (
            "branches.field.applicant_inn",
            application.person_inn.clone(),
        ),
        ("branches.field.role", tr.t(role_key(role)).to_owned()),
    ];
    let page = DetailView {
        tr,
        lang_links: lang_links(&detail_path(application.number)),
        header: Header::new(&browser.csrf, user, &headed),
        number: application.number,
        status_key: status_key(application.status),
        pending: application.status == ApplicationStatus::Pending,
        facts,
        reject_reason: application.reject_reason.clone(),
        error: refusal.map(DecisionRefusal::message_key),
        reason,
    };
    let mut response = render(&page);
    if let Some(refusal) = refusal {
        *response.status_mut() =
            StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::CONFLICT);
    }
    Ok(response)
}

/// A decision that was not taken: the error page when the application is hidden or
/// forbidden, otherwise the detail page again (as it is now) with the message.
async fn refused(
    state: &AppState,
    browser: &Browser,
    user: &User,
    number: i64,
    refusal: DecisionRefusal,
    reason: &str,
) -> Result<Response, Error> {
    if matches!(
        refusal,
        DecisionRefusal::NotFound | DecisionRefusal::NotHead
    ) {
        return Err(denied(refusal));
    }
    let current = state
        .store
        .application(number)
        .await?
        .ok_or_else(Error::not_found)?;
    detail_page(
        state,
        browser,
        user,
        &current,
        Some(refusal),
        reason.to_owned(),
    )
    .await
}

/// What a decision needs first: a valid CSRF token, the number and the signed-in user.
async fn prepare(
    state: &AppState,
    browser: &Browser,
    number: &str,
    fields: &HashMap<String, String>,
) -> Result<Result<(i64, User), Response>, Error> {
    check_csrf(state, browser, fields)?;
    let number = parse_number(number)?;
    Ok(signed_in(state, browser, &detail_path(number))
        .await?
        .map(|user| (number, user)))
}

async fn confirm(
    State(state): State<AppState>,
    browser: Browser,
    Path(number): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, Error> {
    let (number, user) = match prepare(&state, &browser, &number, &fields).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    let confirmed = match branch::confirm(&state, &user, number, crate::clock::now()).await? {
        Ok(confirmed) => confirmed,
        Err(refusal) => return refused(&state, &browser, &user, number, refusal, "").await,
    };
    let headed = branch::headed_organizations(&state, &user).await?;
    Ok(render(&ResultView {
        tr: browser.tr,
        lang_links: lang_links(&detail_path(number)),
        header: Header::new(&browser.csrf, &user, &headed),
        number,
        confirmed: true,
        branch_name: confirmed.branch.name.clone(),
        branch_inn: confirmed.branch.inn.clone(),
        applicant: format!(
            "{} ({})",
            confirmed.applicant.full_name(),
            confirmed.applicant.inn
        ),
        role_key: role_key(Some(confirmed.role)),
        reason: String::new(),
    }))
}

async fn reject(
    State(state): State<AppState>,
    browser: Browser,
    Path(number): Path<String>,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, Error> {
    let (number, user) = match prepare(&state, &browser, &number, &fields).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    let reason = fields.get("reason").map(String::as_str).unwrap_or("");
    let outcome = branch::reject(&state, &user, number, reason, crate::clock::now()).await?;
    let rejected = match outcome {
        Ok(rejected) => rejected,
        Err(refusal) => return refused(&state, &browser, &user, number, refusal, reason).await,
    };
    let headed = branch::headed_organizations(&state, &user).await?;
    Ok(render(&ResultView {
        tr: browser.tr,
        lang_links: lang_links(&detail_path(number)),
        header: Header::new(&browser.csrf, &user, &headed),
        number,
        confirmed: false,
        branch_name: rejected.org_name.clone().unwrap_or_default(),
        branch_inn: rejected.org_inn.clone().unwrap_or_default(),
        applicant: format!("{} ({})", rejected.full_name, rejected.person_inn),
        role_key: role_key(None),
        reason: rejected.reject_reason.clone().unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::{t, Lang};

    #[test]
    fn keys_chosen_in_code_are_in_the_catalogue() {
        let mut keys = vec![
            role_key(Some(MemberRole::Head)),
            role_key(Some(MemberRole::Accountant)),
            role_key(None),
            "branches.forbidden",
        ];
        keys.extend(
            [
                ApplicationStatus::Pending,
                ApplicationStatus::Approved,
                ApplicationStatus::Rejected,
            ]
            .map(status_key),
        );
        for key in keys {
            for lang in Lang::ALL {
                assert_ne!(t(lang, key), key, "{key} missing");
            }
        }
    }
}
