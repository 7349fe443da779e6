//! Grants and refresh tokens, signing-key metadata and the audit log of the postgres backend
//! ([`GrantStore`], [`KeyStore`], [`AuditLog`]).

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

use super::{db_err, from_json, to_json, PostgresStore};
use crate::store::model::*;
use crate::store::{AuditLog, GrantStore, KeyStore, StoreError, StoreResult};

const GRANT_COLS: &str = "g.id, g.client_id, g.user_id, g.account_key, g.scopes, g.auth_time, \
                          g.amr, g.acr, g.session_id, g.created_at, g.revoked";

const TOKEN_AND_GRANT: &str = "SELECT t.digest, t.grant_id, t.expires_at, t.rotated, g.id, \
                               g.client_id, g.user_id, g.account_key, g.scopes, g.auth_time, \
                               g.amr, g.acr, g.session_id, g.created_at, g.revoked \
                               FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id";

fn grant_from_row(row: &PgRow) -> StoreResult<Grant> {
    Ok(Grant {
        id: row.try_get("id").map_err(db_err)?,
        client_id: row.try_get("client_id").map_err(db_err)?,
        user_id: row.try_get("user_id").map_err(db_err)?,
        account_key: row.try_get("account_key").map_err(db_err)?,
        scopes: from_json(row, "scopes")?,
        auth_time: row.try_get("auth_time").map_err(db_err)?,
        amr: from_json(row, "amr")?,
        acr: row.try_get("acr").map_err(db_err)?,
        session_id: row.try_get("session_id").map_err(db_err)?,
        created_at: row.try_get("created_at").map_err(db_err)?,
        revoked: row.try_get("revoked").map_err(db_err)?,
    })
}

fn refresh_from_row(row: &PgRow) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        digest: row.try_get("digest").map_err(db_err)?,
        grant_id: row.try_get("grant_id").map_err(db_err)?,
        expires_at: row.try_get("expires_at").map_err(db_err)?,
        rotated: row.try_get("rotated").map_err(db_err)?,
    })
}

impl PostgresStore {
    async fn insert_refresh(
        tx: &mut Transaction<'static, Postgres>,
        token: &RefreshToken,
        grant_id: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (digest, grant_id, expires_at, rotated) \
             VALUES ($1, $2, $3, FALSE)",
        )
        .bind(&token.digest)
        .bind(grant_id)
        .bind(token.expires_at)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait]
impl GrantStore for PostgresStore {
    async fn create_grant(&self, g: &Grant, refresh: Option<&RefreshToken>) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO grants (id, client_id, user_id, account_key, scopes, auth_time, amr, \
             acr, session_id, created_at, revoked) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&g.id)
        .bind(&g.client_id)
        .bind(&g.user_id)
        .bind(&g.account_key)
        .bind(to_json(&g.scopes)?)
        .bind(g.auth_time)
        .bind(to_json(&g.amr)?)
        .bind(&g.acr)
        .bind(&g.session_id)
        .bind(g.created_at)
        .bind(g.revoked)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(token) = refresh {
            Self::insert_refresh(&mut tx, token, &token.grant_id).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn grant(&self, id: &str) -> StoreResult<Option<Grant>> {
        let row = sqlx::query(&format!(
            "SELECT {GRANT_COLS} FROM grants g WHERE g.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(grant_from_row).transpose()
    }

    async fn refresh_token(&self, digest: &str) -> StoreResult<Option<(RefreshToken, Grant)>> {
        let row = sqlx::query(&format!("{TOKEN_AND_GRANT} WHERE t.digest = $1"))
            .bind(digest)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((refresh_from_row(&row)?, grant_from_row(&row)?)))
    }

    async fn rotate_refresh_token(
        &self,
        old_digest: &str,
        new: &RefreshToken,
        now: UnixTime,
    ) -> StoreResult<RotateOutcome> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!("{TOKEN_AND_GRANT} WHERE t.digest = $1"))
            .bind(old_digest)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(RotateOutcome::Invalid);
        };
        let (old, grant) = (refresh_from_row(&row)?, grant_from_row(&row)?);
        if grant.revoked || old.expires_at <= now {
            return Ok(RotateOutcome::Invalid);
        }
        if !old.rotated {
            // The row lock makes a concurrent rotation wait here and then see rotated = TRUE:
            // exactly one wins, the others fall through to reuse handling below.
            let done = sqlx::query(
                "UPDATE refresh_tokens SET rotated = TRUE WHERE digest = $1 AND rotated = FALSE",
            )
            .bind(old_digest)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 1 {
                // The new token always joins the old token's grant, whatever `new` says.
                Self::insert_refresh(&mut tx, new, &grant.id).await?;
                tx.commit().await.map_err(db_err)?;
                return Ok(RotateOutcome::Rotated(grant));
            }
        }
        sqlx::query("UPDATE grants SET revoked = TRUE WHERE id = $1")
            .bind(&grant.id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(RotateOutcome::Reused { grant_id: grant.id })
    }

    async fn revoke_grant(&self, id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE grants SET revoked = TRUE WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn revoke_grants_of_user(
        &self,
        user_id: &str,
        account_key: Option<&str>,
    ) -> StoreResult<Vec<String>> {
        // Only grants this call revoked are returned, so callers act once per grant.
        let query = match account_key {
            None => sqlx::query(
                "UPDATE grants SET revoked = TRUE WHERE user_id = $1 AND revoked = FALSE \
                 RETURNING id",
            )
            .bind(user_id),
            Some(key) => sqlx::query(
                "UPDATE grants SET revoked = TRUE \
                 WHERE user_id = $1 AND account_key = $2 AND revoked = FALSE RETURNING id",
            )
            .bind(user_id)
            .bind(key),
        };
        let rows = query.fetch_all(&self.pool).await.map_err(db_err)?;
        let mut ids = rows
            .iter()
            .map(|r| r.try_get::<String, _>("id").map_err(db_err))
            .collect::<StoreResult<Vec<_>>>()?;
        ids.sort();
        Ok(ids)
    }

    async fn purge_expired(&self, now: UnixTime) -> StoreResult<u64> {
        // `<=` matches rotation, which treats a token as expired from its `expires_at` on.
        let done = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl KeyStore for PostgresStore {
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyMeta>> {
        let rows = sqlx::query(
            "SELECT kid, alg, created_at, active FROM signing_keys \
             ORDER BY alg, active DESC, created_at DESC, kid",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(SigningKeyMeta {
                    kid: r.try_get("kid").map_err(db_err)?,
                    alg: r.try_get("alg").map_err(db_err)?,
                    created_at: r.try_get("created_at").map_err(db_err)?,
                    active: r.try_get("active").map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn add_signing_key(&self, new: &SigningKeyMeta) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // Two rotations of one algorithm at once would each keep "their" previous key.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('signing_keys:' || $1))")
            .bind(&new.alg)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        // The key being replaced: the active one, or failing that the newest.
        let previous: Option<String> = sqlx::query_scalar(
            "SELECT kid FROM signing_keys WHERE alg = $1 \
             ORDER BY active DESC, created_at DESC, kid DESC LIMIT 1",
        )
        .bind(&new.alg)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE signing_keys SET active = FALSE WHERE alg = $1")
            .bind(&new.alg)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, created_at, active) VALUES ($1, $2, $3, TRUE)",
        )
        .bind(&new.kid)
        .bind(&new.alg)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("DELETE FROM signing_keys WHERE alg = $1 AND kid <> $2 AND kid <> $3")
            .bind(&new.alg)
            .bind(&new.kid)
            .bind(previous.as_deref().unwrap_or(&new.kid))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }
}

#[async_trait]
impl AuditLog for PostgresStore {
    async fn record(&self, event: &AuditEvent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (at, kind, actor, subject, detail) \
             VALUES ($1, $2, $3, $4, $5::jsonb)",
        )
        .bind(event.at)
        .bind(&event.kind)
        .bind(&event.actor)
        .bind(&event.subject)
        .bind(event.detail.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn recent_events(&self, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT at, kind, actor, subject, detail::text AS detail FROM audit_events \
             ORDER BY at DESC, id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let detail: String = r.try_get("detail").map_err(db_err)?;
                Ok(AuditEvent {
                    at: r.try_get("at").map_err(db_err)?,
                    kind: r.try_get("kind").map_err(db_err)?,
                    actor: r.try_get("actor").map_err(db_err)?,
                    subject: r.try_get("subject").map_err(db_err)?,
                    detail: serde_json::from_str(&detail)
                        .map_err(|e| StoreError::Internal(format!("audit detail: {e}")))?,
                })
            })
            .collect()
    }
}
