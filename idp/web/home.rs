//! `GET /`: what Salyk ID is, and who is signed in in this browser.

use axum::extract::State;
use axum::response::Response;

use super::browser::{render, Browser};
use super::views::HomeView;
use crate::error::Error;
use crate::oidc::authorize::flow;
use crate::state::AppState;

pub async fn page(State(state): State<AppState>, browser: Browser) -> Result<Response, Error> {
    let user = flow::session_user(&state, browser.session_cookie.as_deref())
        .await?
        .map(|(_, u)| u.full_name());
    Ok(render(&HomeView {
        tr: browser.tr,
        lang_links: browser.lang_links.clone(),
        csrf: browser.csrf.clone(),
        user_name: user,
        demo: state.config.demo.is_some(),
    }))
}
