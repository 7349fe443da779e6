//! `GET /register/status/{number}`: pending / approved («Ваш логин передаст инспектор» and
//! the office) / rejected with the reason. Application numbers are sequential and can be
//! guessed, so the page shows nothing about the applicant: no name, INN, organization or
//! login — only the status, the office and the inspector's reason.

use axum::extract::{Path, State};
use axum::response::Response;

use super::super::browser::{render, Browser};
use super::views::{self, StatusView};
use crate::error::Error;
use crate::state::AppState;

pub async fn page(
    State(state): State<AppState>,
    browser: Browser,
    Path(number): Path<String>,
) -> Result<Response, Error> {
    let number: i64 = match number.parse() {
        Ok(n) if n > 0 && number.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => return Err(Error::not_found()),
    };
    let application = state
        .store
        .application(number)
        .await?
        .ok_or_else(Error::not_found)?;
    let offices = state.store.ugns_offices().await?;
    Ok(render(&StatusView {
        tr: browser.tr,
        lang_links: browser.lang_links.clone(),
        number,
        status: application.status,
        link_request: views::is_link_request(application.kind),
        office: views::office_label(&offices, &application.ugns_code),
        reason: application.reject_reason,
    }))
}
