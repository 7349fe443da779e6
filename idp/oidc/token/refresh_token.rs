//! `grant_type=refresh_token` (RFC 6749 §6, OIDC Core §12). Refresh tokens rotate: each use
//! returns a new one and retires the old; presenting a retired one revokes the whole grant
//! (RFC 9700 §4.14.2). A confidential client may have rotation turned off (then the token is
//! reusable, which RFC 9700 permits because the client authenticates, and each process keeps
//! it in memory for a while: `reusable`). The account must
//! still be usable (A7), else the grant ends.

use super::{
    grant_is_revoked, issue_access_token, issue_id_token, revoke_grant, split_scopes, Person,
    TokenResponse,
};
use crate::accounts;
use crate::error::{Error, ErrorCode};
use crate::oidc::params::Params;
use crate::security::{random_token, token_digest};
use crate::state::AppState;
use crate::store::{Client, Grant, RefreshToken, RotateOutcome};
use crate::tokens::AuthContext;

/// A reusable refresh token this process read lately (`reusable`), unless its grant has
/// been revoked since (the session store's marker, shared by every process).
async fn remembered(
    state: &AppState,
    digest: &str,
) -> Result<Option<(RefreshToken, Grant)>, Error> {
    let Some((token, grant)) = state.reusable_refresh_tokens.get(digest) else {
        return Ok(None);
    };
    if grant_is_revoked(state, &grant.id).await? {
        state.reusable_refresh_tokens.forget(digest);
        return Ok(None);
    }
    Ok(Some((token, grant)))
}

pub async fn exchange(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, Error> {
    let presented = params.require("refresh_token")?;
    let digest = token_digest(presented);
    let now = crate::clock::now();
    let invalid = || Error::invalid_grant("the refresh token is invalid, expired or revoked");

    // Only tokens of clients without rotation are ever kept.
    let kept = if client.rotate_refresh_tokens {
        None
    } else {
        remembered(state, &digest).await?
    };
    let (stored, grant) = match kept {
        Some(found) => found,
        None => {
            let Some((stored, grant)) = state.store.refresh_token(&digest).await? else {
                return Err(invalid());
            };
            if !client.rotate_refresh_tokens && grant.client_id == client.id {
                state.reusable_refresh_tokens.keep(&stored, &grant);
            }
            (stored, grant)
        }
    };
    // RFC 6749 §6: the token must have been issued to the authenticated client.
    if grant.client_id != client.id {
        return Err(invalid());
    }
    let scopes = match params.get("scope") {
        Some(scope) => {
            let requested = split_scopes(scope);
            if let Some(bad) = requested.iter().find(|s| !grant.scopes.contains(s)) {
                return Err(Error::new(
                    ErrorCode::InvalidScope,
                    format!("scope {bad} was not granted"),
                ));
            }
            requested
        }
        None => grant.scopes.clone(),
    };

    let ttl = i64::try_from(state.config.refresh_token_ttl).unwrap_or(i64::MAX / 2);
    let (grant, refresh_token) = if client.rotate_refresh_tokens {
        let new_token = random_token(32);
        let new = RefreshToken {
            digest: token_digest(&new_token),
            grant_id: grant.id.clone(),
            expires_at: now + ttl,
            rotated: false,
        };
        match state.store.rotate_refresh_token(&digest, &new, now).await? {
            RotateOutcome::Rotated(grant) => (grant, Some(new_token)),
            RotateOutcome::Reused { grant_id } => {
                tracing::warn!(client_id = %client.id, "rotated refresh token reused; revoking its grant");
                revoke_grant(state, &grant_id).await?;
                return Err(invalid());
            }
            RotateOutcome::Invalid => return Err(invalid()),
        }
    } else {
        if grant.revoked || stored.rotated || stored.expires_at <= now {
            return Err(invalid());
        }
        (grant, None)
    };

    let found =
        accounts::user_and_account(state.store.as_ref(), &grant.user_id, &grant.account_key)
            .await?;
    let Some((user, account)) = found else {
        state.reusable_refresh_tokens.forget(&digest);
        revoke_grant(state, &grant.id).await?;
        return Err(Error::invalid_grant(
            "the user or the chosen account can no longer sign in",
        ));
    };

    let auth = AuthContext {
        auth_time: grant.auth_time,
        amr: grant.amr.clone(),
        acr: grant.acr.clone(),
        sid: grant.session_id.clone(),
    };
    let person = Person {
        user: &user,
        account: &account,
        auth: &auth,
        grant_id: &grant.id,
    };
    let (access_token, _) = issue_access_token(state, client, &scopes, Some(&person), now)?;
    let id_token = if scopes.iter().any(|s| s == "openid") {
        Some(issue_id_token(
            state,
            client,
            &scopes,
            &person,
            None,
            &access_token,
            now,
        )?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.config.access_token_ttl,
        scope: scopes.join(" "),
        refresh_token,
        id_token,
    })
}
