//! PostgreSQL backend: every store role over a connection pool, for deployments with several
//! provider processes. Owns the pool setup (optional per-schema `search_path`, short acquire
//! timeout), the embedded `migrations/postgres` scripts, and the mapping of PostgreSQL errors
//! onto [`StoreError`].
//!
//! Transactions run at READ COMMITTED; refresh-token rotation stays atomic because its
//! `UPDATE … WHERE rotated = FALSE` takes the row lock and re-checks the condition, so of
//! concurrent rotations exactly one changes the row (application approval works the same way).
//!
//! This module holds the store itself and the [`Store`] impl; the role traits live in
//! `users` (users, organizations), `clients` (clients, consents), `grants` (grants, signing
//! keys, audit log), `registry` (taxpayers, УГНС offices), `registration` (applications,
//! inspector offices) and `trust` (trusted CAs, CRLs).

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

mod clients;
mod grants;
mod registration;
mod registry;
mod trust;
mod users;

use super::{Store, StoreError, StoreResult};

/// Migrations as `(version, description, sql)`, embedded so the binary needs no
/// `migrations/` directory at run time. `sqlx::migrate!` would do the same but needs sqlx's
/// `macros` feature; the values (and so the checksums) are the ones it would produce, and a
/// unit test below fails when a file in `migrations/postgres` is missing here.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "registry registration",
        include_str!("../../../migrations/postgres/0002_registry_registration.sql"),
    ),
    (
        3,
        "trust store",
        include_str!("../../../migrations/postgres/0003_trust_store.sql"),
    ),
    (
        4,
        "branch applications",
        include_str!("../../../migrations/postgres/0004_branch_applications.sql"),
    ),
    (
        5,
        "directory generation",
        include_str!("../../../migrations/postgres/0005_directory_generation.sql"),
    ),
    (
        6,
        "access token alg",
        include_str!("../../../migrations/postgres/0006_access_token_alg.sql"),
    ),
];

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
            // sqlx pings a connection when it goes back to the pool and, by default, again
            // when it is handed out: a second round trip per query. Ping on hand-out only
            // connections that sat idle (the release ping vouches for the others), so one
            // that died while idle is still replaced instead of failing a request.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= Duration::from_secs(1) {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
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

impl PostgresStore {
    async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db_err)
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

    async fn directory_generation(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT value FROM directory_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        row.try_get(0).map_err(db_err)
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
