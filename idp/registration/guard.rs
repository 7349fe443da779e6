//! What protects the registry look-ups of the registration page («Поиск», «Добавить ИНН»
//! and submissions that consult the registry): one budget per client IP and one per browser
//! in the session store (so the limit holds across processes), and the audit events that
//! say who looked up which INN.

use std::net::IpAddr;
use std::time::Duration;

use crate::error::Error;
use crate::state::AppState;
use crate::store::AuditEvent;

/// Registry look-ups one browser may make per [`WINDOW`].
pub const PER_BROWSER: u64 = 20;
/// Registry look-ups one client IP may make per [`WINDOW`] (higher: a tax office's
/// computers, or a family, share one address).
pub const PER_IP: u64 = 100;
/// The fixed window of both counters.
pub const WINDOW: Duration = Duration::from_secs(600);

/// Who is asking: the client IP, the browser (a keyed digest of its browser-id cookie, never
/// the cookie itself) and the signed-in user, if any.
#[derive(Debug, Clone)]
pub struct Requester {
    pub ip: IpAddr,
    pub browser: String,
    pub user_id: Option<String>,
}

impl Requester {
    /// Builds the requester of a page request; the signed-in user is looked up from the
    /// session cookie (a session-store failure only loses the user id, not the request).
    pub async fn new(
        state: &AppState,
        ip: IpAddr,
        browser_id: &str,
        session_cookie: Option<&str>,
    ) -> Requester {
        let browser =
            crate::security::keyed_digest(state.keys.secret(), &format!("register:{browser_id}"));
        let user_id = match crate::sso::find(state, session_cookie).await {
            Ok(session) => session.map(|s| s.user_id),
            Err(_) => None,
        };
        Requester {
            ip,
            browser: browser[..32].to_owned(),
            user_id,
        }
    }
}

/// Takes one registry look-up from the requester's budgets; false when either is spent.
pub async fn take_budget(state: &AppState, who: &Requester) -> Result<bool, Error> {
    let per_browser = state
        .sessions
        .incr(&format!("reglimit:browser:{}", who.browser), WINDOW)
        .await?;
    if per_browser > PER_BROWSER {
        tracing::info!(ip = %who.ip, "registry look-ups throttled (browser)");
        return Ok(false);
    }
    let per_ip = state
        .sessions
        .incr(&format!("reglimit:ip:{}", who.ip), WINDOW)
        .await?;
    if per_ip > PER_IP {
        tracing::info!(ip = %who.ip, "registry look-ups throttled (IP)");
        return Ok(false);
    }
    Ok(true)
}

/// Records an audit event for `who` (D6); a failure to record is logged, not fatal.
pub async fn audit(
    state: &AppState,
    kind: &str,
    who: &Requester,
    subject: Option<String>,
    mut detail: serde_json::Value,
) {
    if let Some(map) = detail.as_object_mut() {
        map.insert("ip".into(), who.ip.to_string().into());
        map.insert("browser".into(), who.browser.clone().into());
    }
    let event = AuditEvent {
        at: crate::clock::now(),
        kind: kind.to_owned(),
        actor: who.user_id.clone(),
        subject,
        detail,
    };
    if let Err(e) = state.store.record(&event).await {
        tracing::warn!(error = %e, kind, "audit event not recorded");
    }
}
