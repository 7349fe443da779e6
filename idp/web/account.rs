//! Account selection, which is also the consent page (A6, «Выбор входа»): the user picks
//! which taxpayer account to act for at this client — themselves or an organization.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::browser::{render, Browser};
use super::login::{check_csrf, ReqQuery};
use super::views::{AccountChoice, AccountView};
use crate::accounts::Account;
use crate::error::{Error, ErrorCode};
use crate::oidc::authorize::flow;
use crate::state::AppState;

fn choice(account: &Account, checked: bool) -> AccountChoice {
    AccountChoice {
        key: account.key.clone(),
        name: account.name.clone(),
        inn: account.inn.clone(),
        kind_key: match account.kind {
            crate::store::AccountKind::Individual => "account.kind.individual",
            crate::store::AccountKind::Organization => "account.kind.organization",
            crate::store::AccountKind::Branch => "account.kind.branch",
        },
        role_key: match account.role.as_str() {
            "head" => "account.role.head",
            "accountant" => "account.role.accountant",
            "employee" => "account.role.employee",
            _ => "account.role.self",
        },
        checked,
    }
}

pub async fn page(
    State(state): State<AppState>,
    browser: Browser,
    Query(query): Query<ReqQuery>,
) -> Result<Response, Error> {
    let request = flow::load_pending(&state, &query.req).await?;
    let Some((_, user)) = flow::session_user(&state, browser.session_cookie.as_deref()).await?
    else {
        return Ok(Redirect::to(&flow::interaction_url("/login", &request)).into_response());
    };
    let offered = flow::offered_accounts(&state, &request, &user).await?;
    let previous = state
        .store
        .consent(&user.id, &request.client_id)
        .await?
        .map(|c| c.account_key);
    let preselect = previous
        .filter(|k| offered.iter().any(|a| &a.key == k))
        .or_else(|| offered.first().map(|a| a.key.clone()));
    let view = AccountView {
        tr: browser.tr,
        lang_links: browser.lang_links.clone(),
        csrf: browser.csrf.clone(),
        req: request.id.clone(),
        client_name: request.client_name.clone(),
        user_name: user.full_name(),
        accounts: offered
            .iter()
            .map(|a| choice(a, preselect.as_deref() == Some(a.key.as_str())))
            .collect(),
        empty_key: if request.require_organization {
            "account.required_org"
        } else {
            "account.none"
        },
    };
    Ok(render(&view))
}

pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    Form(fields): Form<HashMap<String, String>>,
) -> Result<Response, Error> {
    check_csrf(&state, &browser, &fields)?;
    let request =
        flow::load_pending(&state, fields.get("req").map(String::as_str).unwrap_or("")).await?;
    if fields.get("action").map(String::as_str) == Some("cancel") {
        return flow::fail(
            &state,
            &request,
            Error::new(ErrorCode::AccessDenied, "the user cancelled"),
        )
        .await;
    }
    let Some((session, user)) =
        flow::session_user(&state, browser.session_cookie.as_deref()).await?
    else {
        return Ok(Redirect::to(&flow::interaction_url("/login", &request)).into_response());
    };
    let offered = flow::offered_accounts(&state, &request, &user).await?;
    let chosen = fields
        .get("account")
        .and_then(|key| offered.iter().find(|a| &a.key == key));
    let Some(account) = chosen else {
        // Not one of the user's usable accounts (tampered, or blocked meanwhile): ask again.
        return Ok(
            Redirect::to(&flow::interaction_url("/login/account", &request)).into_response(),
        );
    };
    flow::complete(&state, &request, &session, &user, account).await
}
