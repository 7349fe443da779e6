//! PostgreSQL backend: every store role over a connection pool, for deployments with several
//! provider processes. Owns the pool setup (optional per-schema `search_path`, short acquire
//! timeout), the embedded `migrations/postgres` scripts, and the mapping of PostgreSQL errors
//! onto [`StoreError`].
//!
//! Transactions run at READ COMMITTED; refresh-token rotation stays atomic because its
//! `UPDATE … WHERE rotated = FALSE` takes the row lock and re-checks the condition, so of
//! concurrent rotations exactly one changes the row.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::error::{BoxDynError, ErrorKind};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};

use super::model::*;
use super::{
    AuditLog, ClientStore, ConsentStore, GrantStore, KeyStore, OrganizationStore, Store,
    StoreError, StoreResult, UserStore,
};

/// Migrations as `(version, description, sql)`, embedded so the binary needs no
/// `migrations/` directory at run time. `sqlx::migrate!` would do the same but needs sqlx's
/// `macros` feature; the values (and so the checksums) are the ones it would produce, and a
/// unit test below fails when a file in `migrations/postgres` is missing here.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "initial",
    include_str!("../../migrations/postgres/0001_initial.sql"),
)];

const USER_COLS: &str = "id, login, inn, family_name, given_name, middle_name, password_hash, \
                         ugns_code, blocked, created_at";
const CLIENT_COLS: &str = "id, name, secret_digest, redirect_uris, post_logout_redirect_uris, \
                           auth_method, grant_types, scopes, token_alg, rotate_refresh_tokens, \
                           require_organization, disabled, created_at";
const GRANT_COLS: &str = "g.id, g.client_id, g.user_id, g.account_key, g.scopes, g.auth_time, \
                          g.amr, g.acr, g.session_id, g.created_at, g.revoked";
const TOKEN_AND_GRANT: &str = "SELECT t.digest, t.grant_id, t.expires_at, t.rotated, g.id, \
                               g.client_id, g.user_id, g.account_key, g.scopes, g.auth_time, \
                               g.amr, g.acr, g.session_id, g.created_at, g.revoked \
                               FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id";

pub struct PostgresStore {
    pool: PgPool,
    description: String,
}

impl PostgresStore {
    /// Connects to `url`. With `schema`, the schema is created if missing and every pooled
    /// connection works in it (tables, and sqlx's `_sqlx_migrations`). Does not migrate.
    pub async fn connect(url: &str, schema: Option<&str>) -> StoreResult<Self> {
        let mut options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Internal(format!("bad database URL: {e}")))?;
        if let Some(schema) = schema {
            check_schema_name(schema)?;
            // A startup parameter rather than a `SET` per connection: it cannot be forgotten
            // by a connection the pool opens later.
            options = options.options([("search_path", schema)]);
        }
        let description = describe_options(&options, schema);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            // A database that is down must turn into a 503 quickly, not a hung request.
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options)
            .await
            .map_err(db_err)?;
        if let Some(schema) = schema {
            let created = sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .execute(&pool)
                .await
                .map_err(db_err);
            match created {
                // Two processes creating it at once: the loser's IF NOT EXISTS can still race.
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Self { pool, description })
    }
}

/// Only plain lower-case names, so quoting is trivial and the name is safe in `search_path`.
fn check_schema_name(schema: &str) -> StoreResult<()> {
    let plain = schema
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if schema.is_empty() || schema.len() > 63 || !plain {
        return Err(StoreError::Internal(format!(
            "schema name {schema:?} must be 1-63 characters of [a-z0-9_]"
        )));
    }
    Ok(())
}

/// Host, port, database and schema: never the user's password.
fn describe_options(options: &PgConnectOptions, schema: Option<&str>) -> String {
    let mut text = format!(
        "postgres {}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    );
    if let Some(schema) = schema {
        text.push_str(&format!(" (schema {schema})"));
    }
    text
}

#[derive(Debug)]
struct EmbeddedMigrations;

impl<'s> MigrationSource<'s> for EmbeddedMigrations {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code().unwrap_or_default().into_owned();
            match d.kind() {
                ErrorKind::UniqueViolation => {
                    StoreError::Conflict(rule_name(d.constraint().unwrap_or(d.message())))
                }
                ErrorKind::ForeignKeyViolation => {
                    StoreError::NotFound(d.constraint().unwrap_or(d.message()).to_owned())
                }
                // Class 08 (connection exception), shutdown / starting up, too many clients.
                _ if code.starts_with("08")
                    || matches!(code.as_str(), "57P01" | "57P02" | "57P03" | "53300") =>
                {
                    StoreError::Unavailable(d.to_string())
                }
                _ => StoreError::Internal(d.to_string()),
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        other => StoreError::Internal(other.to_string()),
    }
}

/// Names a broken uniqueness rule the way the store traits document it.
fn rule_name(constraint: &str) -> String {
    match constraint {
        "users_login_key" => "login",
        "users_inn_key" => "inn",
        "users_pkey" => "user_id",
        "clients_pkey" => "client_id",
        "grants_pkey" => "grant_id",
        "refresh_tokens_pkey" => "refresh_token",
        "signing_keys_pkey" => "kid",
        other => other,
    }
    .to_owned()
}

fn to_json(list: &[String]) -> StoreResult<String> {
    serde_json::to_string(list).map_err(|e| StoreError::Internal(e.to_string()))
}

fn from_json(row: &PgRow, column: &str) -> StoreResult<Vec<String>> {
    let text: String = row.try_get(column).map_err(db_err)?;
    serde_json::from_str(&text)
        .map_err(|e| StoreError::Internal(format!("column {column} is not a JSON list: {e}")))
}

fn bad_value(what: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("unknown {what} {value:?} in the database"))
}

fn user_from_row(row: &PgRow) -> StoreResult<User> {
    Ok(User {
        id: row.try_get("id").map_err(db_err)?,
        login: row.try_get("login").map_err(db_err)?,
        inn: row.try_get("inn").map_err(db_err)?,
        family_name: row.try_get("family_name").map_err(db_err)?,
        given_name: row.try_get("given_name").map_err(db_err)?,
        middle_name: row.try_get("middle_name").map_err(db_err)?,
        password_hash: row.try_get("password_hash").map_err(db_err)?,
        ugns_code: row.try_get("ugns_code").map_err(db_err)?,
        blocked: row.try_get("blocked").map_err(db_err)?,
        created_at: row.try_get("created_at").map_err(db_err)?,
    })
}

/// Reads an organization; `inn_column` differs because a membership join names it `org_inn`.
fn organization_from_row(row: &PgRow, inn_column: &str) -> StoreResult<Organization> {
    let kind: String = row.try_get("kind").map_err(db_err)?;
    Ok(Organization {
        inn: row.try_get(inn_column).map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        ugns_code: row.try_get("ugns_code").map_err(db_err)?,
        kind: AccountKind::parse(&kind).ok_or_else(|| bad_value("organization kind", &kind))?,
        parent_inn: row.try_get("parent_inn").map_err(db_err)?,
        liquidated: row.try_get("liquidated").map_err(db_err)?,
    })
}

fn membership_from_row(row: &PgRow) -> StoreResult<Membership> {
    let role: String = row.try_get("role").map_err(db_err)?;
    Ok(Membership {
        org_inn: row.try_get("org_inn").map_err(db_err)?,
        user_id: row.try_get("user_id").map_err(db_err)?,
        role: MemberRole::parse(&role).ok_or_else(|| bad_value("member role", &role))?,
        blocked: row.try_get("m_blocked").map_err(db_err)?,
        comment: row.try_get("comment").map_err(db_err)?,
    })
}

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
        token_alg: row.try_get("token_alg").map_err(db_err)?,
        rotate_refresh_tokens: row.try_get("rotate_refresh_tokens").map_err(db_err)?,
        require_organization: row.try_get("require_organization").map_err(db_err)?,
        disabled: row.try_get("disabled").map_err(db_err)?,
        created_at: row.try_get("created_at").map_err(db_err)?,
    })
}

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
    async fn user_where(&self, column: &str, value: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE {column} = $1");
        let row = sqlx::query(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(user_from_row).transpose()
    }

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

    async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db_err)
    }
}

#[async_trait]
impl UserStore for PostgresStore {
    async fn create_user(&self, new: NewUser, now: UnixTime) -> StoreResult<User> {
        let user = User {
            id: uuid::Uuid::new_v4().to_string(),
            login: new.login,
            inn: new.inn,
            family_name: new.family_name,
            given_name: new.given_name,
            middle_name: new.middle_name,
            password_hash: new.password_hash,
            ugns_code: new.ugns_code,
            blocked: false,
            created_at: now,
        };
        sqlx::query(&format!(
            "INSERT INTO users ({USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&user.id)
        .bind(&user.login)
        .bind(&user.inn)
        .bind(&user.family_name)
        .bind(&user.given_name)
        .bind(&user.middle_name)
        .bind(&user.password_hash)
        .bind(&user.ugns_code)
        .bind(user.blocked)
        .bind(user.created_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(user)
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        self.user_where("id", id).await
    }

    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
        self.user_where("login", login).await
    }

    async fn user_by_inn(&self, inn: &str) -> StoreResult<Option<User>> {
        self.user_where("inn", inn).await
    }

    async fn set_user_blocked(&self, id: &str, blocked: bool) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET blocked = $1 WHERE id = $2")
            .bind(blocked)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl OrganizationStore for PostgresStore {
    async fn upsert_organization(&self, org: &Organization) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO organizations (inn, name, ugns_code, kind, parent_inn, liquidated) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (inn) DO UPDATE SET name = excluded.name, \
             ugns_code = excluded.ugns_code, kind = excluded.kind, \
             parent_inn = excluded.parent_inn, liquidated = excluded.liquidated",
        )
        .bind(&org.inn)
        .bind(&org.name)
        .bind(&org.ugns_code)
        .bind(org.kind.as_str())
        .bind(&org.parent_inn)
        .bind(org.liquidated)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn organization(&self, inn: &str) -> StoreResult<Option<Organization>> {
        let row = sqlx::query(
            "SELECT inn, name, ugns_code, kind, parent_inn, liquidated \
             FROM organizations WHERE inn = $1",
        )
        .bind(inn)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|r| organization_from_row(&r, "inn")).transpose()
    }

    async fn upsert_membership(&self, m: &Membership) -> StoreResult<()> {
        let result = sqlx::query(
            "INSERT INTO memberships (org_inn, user_id, role, blocked, comment) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_inn, user_id) DO UPDATE SET role = excluded.role, \
             blocked = excluded.blocked, comment = excluded.comment",
        )
        .bind(&m.org_inn)
        .bind(&m.user_id)
        .bind(m.role.as_str())
        .bind(m.blocked)
        .bind(&m.comment)
        .execute(&self.pool)
        .await
        .map_err(db_err);
        match result {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound(constraint)) => {
                let missing = if constraint.contains("org_inn") {
                    "organization"
                } else {
                    "user"
                };
                Err(StoreError::NotFound(missing.into()))
            }
            Err(e) => Err(e),
        }
    }

    async fn memberships_of_user(
        &self,
        user_id: &str,
    ) -> StoreResult<Vec<(Membership, Organization)>> {
        let rows = sqlx::query(
            "SELECT m.org_inn, m.user_id, m.role, m.blocked AS m_blocked, m.comment, \
             o.name, o.ugns_code, o.kind, o.parent_inn, o.liquidated \
             FROM memberships m JOIN organizations o ON o.inn = m.org_inn \
             WHERE m.user_id = $1 ORDER BY m.org_inn",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    membership_from_row(r)?,
                    organization_from_row(r, "org_inn")?,
                ))
            })
            .collect()
    }
}

#[async_trait]
impl ClientStore for PostgresStore {
    async fn create_client(&self, c: &Client) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO clients ({CLIENT_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.secret_digest)
        .bind(to_json(&c.redirect_uris)?)
        .bind(to_json(&c.post_logout_redirect_uris)?)
        .bind(c.auth_method.as_str())
        .bind(to_json(&c.grant_types)?)
        .bind(to_json(&c.scopes)?)
        .bind(&c.token_alg)
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

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> StoreResult<()> {
        let migrator = Migrator::new(EmbeddedMigrations)
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        migrator.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) => db_err(e),
            other => StoreError::Internal(other.to_string()),
        })
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_never_shows_the_password() {
        let options =
            PgConnectOptions::from_str("postgres://idp:s3cr3t@db.example:5433/salyk").unwrap();
        let text = describe_options(&options, Some("tenant_1"));
        assert_eq!(text, "postgres db.example:5433/salyk (schema tenant_1)");
        assert!(!text.contains("s3cr3t"));
    }

    #[test]
    fn schema_names_are_plain() {
        assert!(check_schema_name("t_0af3").is_ok());
        for bad in ["", "Public", "a-b", "a\"b", "a;drop", &"x".repeat(64)] {
            assert!(check_schema_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    /// What `sqlx::migrate!` would embed: every `NNNN_name.sql` file, byte for byte.
    #[test]
    fn every_migration_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres");
        let mut files: Vec<(i64, String, String)> = std::fs::read_dir(dir)
            .expect("migrations/postgres")
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
            .map(|path| {
                let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                let (version, name) = stem.split_once('_').expect("NNNN_name.sql");
                let sql = std::fs::read_to_string(&path).expect("readable migration");
                (
                    version.parse().expect("numeric version"),
                    name.replace('_', " "),
                    sql,
                )
            })
            .collect();
        files.sort();
        let embedded: Vec<(i64, String, String)> = MIGRATIONS
            .iter()
            .map(|&(v, d, s)| (v, d.to_owned(), s.to_owned()))
            .collect();
        assert_eq!(embedded, files);
    }
}
