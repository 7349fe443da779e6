//! SQLite backend: every store role over one database file, for single-process deployments
//! and development. Owns the connection setup (WAL, foreign keys, busy timeout), the embedded
//! `migrations/sqlite` scripts, and the mapping of SQLite errors onto [`StoreError`].
//!
//! Write transactions use `BEGIN IMMEDIATE`, so SQLite serializes writers and the
//! read-then-write steps of refresh-token rotation, key rotation and application approval
//! cannot interleave.
//!
//! This module holds the store itself and the [`Store`] impl; the role traits live in
//! `users` (users, organizations), `clients` (clients, consents), `grants` (grants, signing
//! keys, audit log), `registry` (taxpayers, УГНС offices), `registration` (applications,
//! inspector offices) and `trust` (trusted CAs, CRLs).

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
/// unit test below fails when a file in `migrations/sqlite` is missing here.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "registry registration",
        include_str!("../../../migrations/sqlite/0002_registry_registration.sql"),
    ),
    (
        3,
        "trust store",
        include_str!("../../../migrations/sqlite/0003_trust_store.sql"),
    ),
    (
        4,
        "branch applications",
        include_str!("../../../migrations/sqlite/0004_branch_applications.sql"),
    ),
    (
        5,
        "directory generation",
        include_str!("../../../migrations/sqlite/0005_directory_generation.sql"),
    ),
    (
        6,
        "access token alg",
        include_str!("../../../migrations/sqlite/0006_access_token_alg.sql"),
    ),
];

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
            // 1 MiB of page cache per connection instead of SQLite's 2 MiB: the hot pages
            // (clients, users, index roots) fit many times over, and pages that drop out are
            // still in the OS page cache, while four connections' worth of written-once
            // grant and audit pages no longer count against the process's memory.
            .pragma("cache_size", "-1024")
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            // sqlx pings every connection it hands out by default: for an in-process file
            // that only doubles the round trips to the connection's worker thread.
            .test_before_acquire(false)
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

    async fn directory_generation(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT value FROM directory_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        row.try_get(0).map_err(db_err)
    }

    fn describe(&self) -> String {
        format!("sqlite {}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;
    use sqlx::{Connection, Row};

    /// A database made before migration 6 keeps each client's one algorithm for both its
    /// ID tokens and its access tokens.
    #[tokio::test]
    async fn existing_clients_keep_their_algorithm_for_access_tokens() {
        let mut db = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        for (version, _, sql) in MIGRATIONS.iter().filter(|m| m.0 < 6) {
            sqlx::raw_sql(sql)
                .execute(&mut db)
                .await
                .unwrap_or_else(|e| panic!("migration {version}: {e}"));
        }
        for (id, alg) in [("rs", "RS256"), ("es", "ES256")] {
            sqlx::query(
                "INSERT INTO clients (id, name, secret_digest, redirect_uris, \
                 post_logout_redirect_uris, auth_method, grant_types, scopes, token_alg, \
                 rotate_refresh_tokens, require_organization, disabled, created_at) \
                 VALUES (?, 'RP', NULL, '[]', '[]', 'none', '[]', '[]', ?, 1, 0, 0, 0)",
            )
            .bind(id)
            .bind(alg)
            .execute(&mut db)
            .await
            .unwrap();
        }
        let (_, _, sql) = MIGRATIONS.iter().find(|m| m.0 == 6).unwrap();
        sqlx::raw_sql(sql).execute(&mut db).await.unwrap();
        let rows =
            sqlx::query("SELECT id, id_token_alg, access_token_alg FROM clients ORDER BY id")
                .fetch_all(&mut db)
                .await
                .unwrap();
        let algs: Vec<(String, String, String)> = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        assert_eq!(
            algs,
            [
                ("es".into(), "ES256".into(), "ES256".into()),
                ("rs".into(), "RS256".into(), "RS256".into()),
            ]
        );
    }

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
