//! Relying parties and consents of the postgres backend ([`ClientStore`], [`ConsentStore`]).

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::{bad_value, db_err, from_json, to_json, PostgresStore};
use crate::store::model::*;
use crate::store::{ClientStore, ConsentStore, StoreResult};

const CLIENT_COLS: &str = "id, name, secret_digest, redirect_uris, post_logout_redirect_uris, \
                           auth_method, grant_types, scopes, id_token_alg, access_token_alg, \
                           rotate_refresh_tokens, require_organization, disabled, created_at";

fn client_from_row(row: &PgRow) -> StoreResult<Client> {
    let method: String = row.try_get("auth_method").map_err(db_err)?;
    Ok(Client {
        id: row.try_get("id").map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        secret_digest: row.try_get("secret_digest").map_err(db_err)?,
        redirect_uris: from_json(row, "redirect_uris")?,
        post_logout_redirect_uris: from_json(row, "post_logout_redirect_uris")?,
        auth_method: ClientAuthMethod::parse(&method)
            .ok_or_else(|| bad_value("client auth method", &method))?,
        grant_types: from_json(row, "grant_types")?,
        scopes: from_json(row, "scopes")?,
        id_token_alg: row.try_get("id_token_alg").map_err(db_err)?,
        access_token_alg: row.try_get("access_token_alg").map_err(db_err)?,
        rotate_refresh_tokens: row.try_get("rotate_refresh_tokens").map_err(db_err)?,
        require_organization: row.try_get("require_organization").map_err(db_err)?,
        disabled: row.try_get("disabled").map_err(db_err)?,
        created_at: row.try_get("created_at").map_err(db_err)?,
    })
}

#[async_trait]
impl ClientStore for PostgresStore {
    async fn create_client(&self, c: &Client) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO clients ({CLIENT_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.secret_digest)
        .bind(to_json(&c.redirect_uris)?)
        .bind(to_json(&c.post_logout_redirect_uris)?)
        .bind(c.auth_method.as_str())
        .bind(to_json(&c.grant_types)?)
        .bind(to_json(&c.scopes)?)
        .bind(&c.id_token_alg)
        .bind(&c.access_token_alg)
        .bind(c.rotate_refresh_tokens)
        .bind(c.require_organization)
        .bind(c.disabled)
        .bind(c.created_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn client(&self, id: &str) -> StoreResult<Option<Client>> {
        let row = sqlx::query(&format!("SELECT {CLIENT_COLS} FROM clients WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn list_clients(&self) -> StoreResult<Vec<Client>> {
        let rows = sqlx::query(&format!("SELECT {CLIENT_COLS} FROM clients ORDER BY id"))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(client_from_row).collect()
    }

    async fn set_client_disabled(&self, id: &str, disabled: bool) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE clients SET disabled = $1 WHERE id = $2")
            .bind(disabled)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl ConsentStore for PostgresStore {
    async fn consent(&self, user_id: &str, client_id: &str) -> StoreResult<Option<Consent>> {
        let row = sqlx::query(
            "SELECT user_id, client_id, account_key, scopes, updated_at \
             FROM consents WHERE user_id = $1 AND client_id = $2",
        )
        .bind(user_id)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Consent {
            user_id: row.try_get("user_id").map_err(db_err)?,
            client_id: row.try_get("client_id").map_err(db_err)?,
            account_key: row.try_get("account_key").map_err(db_err)?,
            scopes: from_json(&row, "scopes")?,
            updated_at: row.try_get("updated_at").map_err(db_err)?,
        }))
    }

    async fn save_consent(&self, c: &Consent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO consents (user_id, client_id, account_key, scopes, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, client_id) DO UPDATE SET account_key = excluded.account_key, \
             scopes = excluded.scopes, updated_at = excluded.updated_at",
        )
        .bind(&c.user_id)
        .bind(&c.client_id)
        .bind(&c.account_key)
        .bind(to_json(&c.scopes)?)
        .bind(c.updated_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
