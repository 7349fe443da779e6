//! `POST /register/add-inn`: the «Добавить ИНН» tab (R4, manual §1.2). `action=lookup`
//! shows what the population registry knows (ФИО and address only) unless the tax registry
//! already knows the INN; `action=register` («Зарегистрировать») registers the person as a
//! taxpayer under the chosen «Код УГНС» → «НП зарегистрирован» and a link back to the
//! password tab with the INN filled. The INN typed is kept whatever fails.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use axum::Form as PostForm;

use super::super::browser::Browser;
use super::super::login::check_csrf;
use super::views::{self, AddInnView, AlertView, RegisterView};
use super::{error_feedback, render_with};
use crate::error::Error;
use crate::registration::guard::Requester;
use crate::registration::lookup::{self, AddInn, LookupFailure};
use crate::state::AppState;
use crate::store::UgnsOffice;

/// The «Добавить ИНН» tab.
pub fn view(
    browser: &Browser,
    offices: &[UgnsOffice],
    add_inn: AddInnView,
    alert: Option<AlertView>,
    selected_ugns: &str,
) -> RegisterView {
    RegisterView {
        tr: browser.tr,
        lang_links: views::lang_links("add-inn"),
        csrf: browser.csrf.clone(),
        tab: "add-inn",
        alert,
        legal_entity: false,
        person_type_error: None,
        fields: Vec::new(),
        offices: views::office_options(offices, selected_ugns),
        add_inn,
        esig: None,
    }
}

/// How a step's result is shown: the tab's state, its message and the HTTP status.
fn present(result: AddInn, typed: &str) -> (AddInnView, Option<AlertView>, u16) {
    let keep = |inn_error| AddInnView {
        inn: typed.to_owned(),
        inn_error,
        ..AddInnView::default()
    };
    match result {
        AddInn::Found {
            inn,
            full_name,
            address,
            ugns_error,
        } => (
            AddInnView {
                inn,
                inn_error: None,
                found: Some((full_name, address)),
                ugns_error,
            },
            None,
            200,
        ),
        AddInn::AlreadyTaxpayer { inn } => (
            keep(None),
            Some(AlertView {
                continue_inn: Some(inn),
                ..AlertView::info("register.add_inn.already")
            }),
            200,
        ),
        AddInn::Registered { inn } => (
            AddInnView {
                inn: inn.clone(),
                ..AddInnView::default()
            },
            Some(AlertView {
                continue_inn: Some(inn),
                ..AlertView::info("register.add_inn.done")
            }),
            200,
        ),
        AddInn::UnknownPerson => (
            keep(None),
            Some(AlertView::error("register.add_inn.unknown")),
            404,
        ),
        AddInn::Failed(LookupFailure::Invalid(key)) => (keep(Some(key)), None, 200),
        AddInn::Failed(f) => (
            keep(None),
            Some(AlertView::error(f.message_key())),
            f.status(),
        ),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    PostForm(fields): PostForm<HashMap<String, String>>,
) -> Result<Response, Error> {
    let offices = state.store.ugns_offices().await?;
    let typed: String = fields
        .get("inn")
        .map(|v| v.trim().chars().take(20).collect())
        .unwrap_or_default();
    let ugns = fields
        .get("ugns_code")
        .map(|v| v.trim().to_owned())
        .unwrap_or_default();
    if let Err(e) = check_csrf(&state, &browser, &fields) {
        let add_inn = AddInnView {
            inn: typed,
            ..AddInnView::default()
        };
        let alert = AlertView::error(e.message_key.unwrap_or("error.csrf"));
        return Ok(render_with(
            403,
            &view(&browser, &offices, add_inn, Some(alert), &ugns),
        ));
    }
    let who = Requester::new(
        &state,
        browser.client_ip,
        &browser.browser_id,
        browser.session_cookie.as_deref(),
    )
    .await;
    let register = fields.get("action").map(String::as_str) == Some("register");
    let step = lookup::add_inn(
        &state,
        &who,
        &typed,
        register.then_some((ugns.as_str(), offices.as_slice())),
    )
    .await;
    let (add_inn, alert, status) = match step {
        Ok(result) => present(result, &typed),
        Err(e) => {
            let feedback = error_feedback(&e);
            let key = feedback.alert.map_or("error.generic", |a| a.key);
            let add_inn = AddInnView {
                inn: typed.clone(),
                ..AddInnView::default()
            };
            (add_inn, Some(AlertView::error(key)), feedback.status)
        }
    };
    Ok(render_with(
        status,
        &view(&browser, &offices, add_inn, alert, &ugns),
    ))
}
