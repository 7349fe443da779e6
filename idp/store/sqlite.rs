//! SQLite backend: every store role over one database file, for single-process deployments
//! and development. Owns the connection setup (WAL, foreign keys, busy timeout), the embedded
//! `migrations/sqlite` scripts, and the mapping of SQLite errors onto [`StoreError`].
//!
//! Write transactions use `BEGIN IMMEDIATE`, so SQLite serializes writers and the
//! read-then-write steps of refresh-token rotation and key rotation cannot interleave.

use std::borrow::Cow;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::error::{BoxDynError, ErrorKind};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use super::model::*;
use super::{
    AuditLog, ClientStore, ConsentStore, GrantStore, KeyStore, OrganizationStore, Store,
    StoreError, StoreResult, UserStore,
};

/// Migrations as `(version, description, sql)`, embedded so the binary needs no
/// `migrations/` directory at run time. `sqlx::migrate!` would do the same but needs sqlx's
/// `macros` feature; the values (and so the checksums) are the ones it would produce, and a
/// unit test below fails when a file in `migrations/sqlite` is missing here.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "initial",
    include_str!("../../migrations/sqlite/0001_initial.sql"),
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

pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file. Does not migrate.
    pub async fn connect(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across application crashes in WAL mode and much faster.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(db_err)?;
        Ok(Self {
            pool,
            path: path.to_owned(),
        })
    }

    /// A deferred transaction that reads and then writes fails with SQLITE_BUSY (no waiting)
    /// when another writer committed in between; taking the write lock first makes it wait.
    async fn begin(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)
    }
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
        sqlx::Error::Database(d) => match d.kind() {
            ErrorKind::UniqueViolation => StoreError::Conflict(rule_name(d.message())),
            ErrorKind::ForeignKeyViolation => StoreError::NotFound(d.message().to_owned()),
            _ => {
                // Extended result code; the low byte is the primary code.
                let primary = d
                    .code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .map(|c| c & 0xff);
                // BUSY, LOCKED, IOERR, CANTOPEN: the file is there but unusable right now.
                if matches!(primary, Some(5 | 6 | 10 | 14)) {
                    StoreError::Unavailable(d.to_string())
                } else {
                    StoreError::Internal(d.to_string())
                }
            }
        },
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        other => StoreError::Internal(other.to_string()),
    }
}

/// Names a broken uniqueness rule the way the store traits document it, from SQLite's
/// "UNIQUE constraint failed: table.column".
fn rule_name(message: &str) -> String {
    let columns = message.rsplit(": ").next().unwrap_or(message);
    match columns {
        "users.login" => "login",
        "users.inn" => "inn",
        "users.id" => "user_id",
        "clients.id" => "client_id",
        "grants.id" => "grant_id",
        "refresh_tokens.digest" => "refresh_token",
        "signing_keys.kid" => "kid",
        other => other,
    }
    .to_owned()
}

fn to_json(list: &[String]) -> StoreResult<String> {
    serde_json::to_string(list).map_err(|e| StoreError::Internal(e.to_string()))
}

fn from_json(row: &SqliteRow, column: &str) -> StoreResult<Vec<String>> {
    let text: String = row.try_get(column).map_err(db_err)?;
    serde_json::from_str(&text)
        .map_err(|e| StoreError::Internal(format!("column {column} is not a JSON list: {e}")))
}

fn bad_value(what: &str, value: &str) -> StoreError {
    StoreError::Internal(format!("unknown {what} {value:?} in the database"))
}

fn user_from_row(row: &SqliteRow) -> StoreResult<User> {
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
fn organization_from_row(row: &SqliteRow, inn_column: &str) -> StoreResult<Organization> {
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

fn membership_from_row(row: &SqliteRow) -> StoreResult<Membership> {
    let role: String = row.try_get("role").map_err(db_err)?;
    Ok(Membership {
        org_inn: row.try_get("org_inn").map_err(db_err)?,
        user_id: row.try_get("user_id").map_err(db_err)?,
        role: MemberRole::parse(&role).ok_or_else(|| bad_value("member role", &role))?,
        blocked: row.try_get("m_blocked").map_err(db_err)?,
        comment: row.try_get("comment").map_err(db_err)?,
    })
}

fn client_from_row(row: &SqliteRow) -> StoreResult<Client> {
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

fn grant_from_row(row: &SqliteRow) -> StoreResult<Grant> {
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

fn refresh_from_row(row: &SqliteRow) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        digest: row.try_get("digest").map_err(db_err)?,
        grant_id: row.try_get("grant_id").map_err(db_err)?,
        expires_at: row.try_get("expires_at").map_err(db_err)?,
        rotated: row.try_get("rotated").map_err(db_err)?,
    })
}

impl SqliteStore {
    async fn user_where(&self, column: &str, value: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE {column} = ?");
        let row = sqlx::query(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn insert_refresh(
        tx: &mut Transaction<'static, Sqlite>,
        token: &RefreshToken,
        grant_id: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (digest, grant_id, expires_at, rotated) \
             VALUES (?, ?, ?, FALSE)",
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
impl UserStore for SqliteStore {
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
            "INSERT INTO users ({USER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
        let done = sqlx::query("UPDATE users SET blocked = ? WHERE id = ?")
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
impl OrganizationStore for SqliteStore {
    async fn upsert_organization(&self, org: &Organization) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO organizations (inn, name, ugns_code, kind, parent_inn, liquidated) \
             VALUES (?, ?, ?, ?, ?, ?) \
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
             FROM organizations WHERE inn = ?",
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
             VALUES (?, ?, ?, ?, ?) \
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
            // SQLite does not say which foreign key failed; find out for a useful message.
            Err(StoreError::NotFound(_)) => {
                let missing = if self.organization(&m.org_inn).await?.is_none() {
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
             WHERE m.user_id = ? ORDER BY m.org_inn",
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
impl ClientStore for SqliteStore {
    async fn create_client(&self, c: &Client) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO clients ({CLIENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
        let row = sqlx::query(&format!("SELECT {CLIENT_COLS} FROM clients WHERE id = ?"))
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
        let done = sqlx::query("UPDATE clients SET disabled = ? WHERE id = ?")
            .bind(disabled)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl ConsentStore for SqliteStore {
    async fn consent(&self, user_id: &str, client_id: &str) -> StoreResult<Option<Consent>> {
        let row = sqlx::query(
            "SELECT user_id, client_id, account_key, scopes, updated_at \
             FROM consents WHERE user_id = ? AND client_id = ?",
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
             VALUES (?, ?, ?, ?, ?) \
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
impl GrantStore for SqliteStore {
    async fn create_grant(&self, g: &Grant, refresh: Option<&RefreshToken>) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO grants (id, client_id, user_id, account_key, scopes, auth_time, amr, \
             acr, session_id, created_at, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        let row = sqlx::query(&format!("SELECT {GRANT_COLS} FROM grants g WHERE g.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(grant_from_row).transpose()
    }

    async fn refresh_token(&self, digest: &str) -> StoreResult<Option<(RefreshToken, Grant)>> {
        let row = sqlx::query(&format!("{TOKEN_AND_GRANT} WHERE t.digest = ?"))
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
        let row = sqlx::query(&format!("{TOKEN_AND_GRANT} WHERE t.digest = ?"))
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
            // Conditional, so that of concurrent rotations exactly one wins; the others fall
            // through to reuse handling below.
            let done = sqlx::query(
                "UPDATE refresh_tokens SET rotated = TRUE WHERE digest = ? AND rotated = FALSE",
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
        sqlx::query("UPDATE grants SET revoked = TRUE WHERE id = ?")
            .bind(&grant.id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(RotateOutcome::Reused { grant_id: grant.id })
    }

    async fn revoke_grant(&self, id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE grants SET revoked = TRUE WHERE id = ?")
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
                "UPDATE grants SET revoked = TRUE WHERE user_id = ? AND revoked = FALSE \
                 RETURNING id",
            )
            .bind(user_id),
            Some(key) => sqlx::query(
                "UPDATE grants SET revoked = TRUE \
                 WHERE user_id = ? AND account_key = ? AND revoked = FALSE RETURNING id",
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
        let done = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
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
        // The key being replaced: the active one, or failing that the newest.
        let previous: Option<String> = sqlx::query_scalar(
            "SELECT kid FROM signing_keys WHERE alg = ? \
             ORDER BY active DESC, created_at DESC, kid DESC LIMIT 1",
        )
        .bind(&new.alg)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE signing_keys SET active = FALSE WHERE alg = ?")
            .bind(&new.alg)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, created_at, active) VALUES (?, ?, ?, TRUE)",
        )
        .bind(&new.kid)
        .bind(&new.alg)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("DELETE FROM signing_keys WHERE alg = ? AND kid <> ? AND kid <> ?")
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
impl AuditLog for SqliteStore {
    async fn record(&self, event: &AuditEvent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (at, kind, actor, subject, detail) VALUES (?, ?, ?, ?, ?)",
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
            "SELECT at, kind, actor, subject, detail FROM audit_events \
             ORDER BY at DESC, id DESC LIMIT ?",
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
impl Store for SqliteStore {
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
        format!("sqlite {}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    /// What `sqlx::migrate!` would embed: every `NNNN_name.sql` file, byte for byte.
    #[test]
    fn every_migration_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
        let mut files: Vec<(i64, String, String)> = std::fs::read_dir(dir)
            .expect("migrations/sqlite")
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
