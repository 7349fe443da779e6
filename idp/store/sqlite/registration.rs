//! Registration applications and inspector offices of the sqlite backend
//! ([`RegistrationStore`]): numbering, the inspectors' pending queue and the head
//! organizations' queue of branch applications, approval (user, login, organization and
//! membership in one transaction) and rejection.
//!
//! Approval runs in a `BEGIN IMMEDIATE` transaction, so approvals are serialized by SQLite;
//! the conditional `UPDATE … WHERE status = 'pending'` still decides who wins, and a login
//! taken between lookup and insert is retried with the next suffix like on PostgreSQL.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use super::users::{insert_user, upsert_membership_with, upsert_organization_with};
use super::{bad_value, db_err, SqliteStore};
use crate::store::approval::{check_organization, next_login, suffix_pattern};
use crate::store::model::*;
use crate::store::{RegistrationStore, StoreError, StoreResult};

const APPLICATION_COLS: &str = "number, kind, ugns_code, person_inn, full_name, address, \
                                org_inn, org_name, password_hash, existing_user_id, status, \
                                reject_reason, login, decided_by, decided_at, created_at, \
                                head_inn";

/// How many logins one approval tries before giving up (each retry follows a login that
/// another approval took after we looked).
const LOGIN_ATTEMPTS: usize = 5;

fn application_from_row(row: &SqliteRow) -> StoreResult<Application> {
    let kind: String = row.try_get("kind").map_err(db_err)?;
    let status: String = row.try_get("status").map_err(db_err)?;
    Ok(Application {
        number: row.try_get("number").map_err(db_err)?,
        kind: ApplicationKind::parse(&kind).ok_or_else(|| bad_value("application kind", &kind))?,
        ugns_code: row.try_get("ugns_code").map_err(db_err)?,
        person_inn: row.try_get("person_inn").map_err(db_err)?,
        full_name: row.try_get("full_name").map_err(db_err)?,
        address: row.try_get("address").map_err(db_err)?,
        org_inn: row.try_get("org_inn").map_err(db_err)?,
        org_name: row.try_get("org_name").map_err(db_err)?,
        password_hash: row.try_get("password_hash").map_err(db_err)?,
        existing_user_id: row.try_get("existing_user_id").map_err(db_err)?,
        status: ApplicationStatus::parse(&status)
            .ok_or_else(|| bad_value("application status", &status))?,
        reject_reason: row.try_get("reject_reason").map_err(db_err)?,
        login: row.try_get("login").map_err(db_err)?,
        decided_by: row.try_get("decided_by").map_err(db_err)?,
        decided_at: row.try_get("decided_at").map_err(db_err)?,
        created_at: row.try_get("created_at").map_err(db_err)?,
        head_inn: row.try_get("head_inn").map_err(db_err)?,
    })
}

impl SqliteStore {
    /// Why a conditional update of application `number` changed nothing.
    async fn not_pending(&self, number: i64) -> StoreError {
        match self.application(number).await {
            Ok(Some(_)) => StoreError::Conflict("application".into()),
            Ok(None) => StoreError::NotFound("application".into()),
            Err(e) => e,
        }
    }
}

/// Creates the applicant's user inside `tx` with the next free login for their INN.
async fn create_applicant(
    tx: &mut Transaction<'static, Sqlite>,
    app: &Application,
    names: (&str, &str, Option<&str>),
    now: UnixTime,
) -> StoreResult<User> {
    let (family, given, middle) = names;
    for _ in 0..LOGIN_ATTEMPTS {
        let taken: Vec<String> =
            sqlx::query_scalar("SELECT login FROM users WHERE login LIKE ? ESCAPE '\\'")
                .bind(suffix_pattern(&app.person_inn))
                .fetch_all(&mut **tx)
                .await
                .map_err(db_err)?;
        let login = next_login(&app.person_inn, &taken)
            .ok_or_else(|| StoreError::Conflict("login".into()))?;
        let user = User {
            id: uuid::Uuid::new_v4().to_string(),
            login,
            inn: app.person_inn.clone(),
            family_name: family.to_owned(),
            given_name: given.to_owned(),
            middle_name: middle.map(str::to_owned),
            password_hash: app.password_hash.clone(),
            ugns_code: Some(app.ugns_code.clone()),
            blocked: false,
            created_at: now,
        };
        // A failed statement leaves an SQLite transaction usable: just try the next login.
        match insert_user(&mut **tx, &user).await {
            Ok(()) => return Ok(user),
            Err(StoreError::Conflict(rule)) if rule == "login" => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict("login".into()))
}

#[async_trait]
impl RegistrationStore for SqliteStore {
    async fn create_application(
        &self,
        new: &NewApplication,
        now: UnixTime,
    ) -> StoreResult<Application> {
        let row = sqlx::query(&format!(
            "INSERT INTO applications (kind, ugns_code, person_inn, full_name, address, \
             org_inn, org_name, password_hash, existing_user_id, status, created_at, \
             head_inn) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING {APPLICATION_COLS}"
        ))
        .bind(new.kind.as_str())
        .bind(&new.ugns_code)
        .bind(&new.person_inn)
        .bind(&new.full_name)
        .bind(&new.address)
        .bind(&new.org_inn)
        .bind(&new.org_name)
        .bind(&new.password_hash)
        .bind(&new.existing_user_id)
        .bind(now)
        .bind(&new.head_inn)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match db_err(e) {
            // The only foreign key is the link request's existing user.
            StoreError::NotFound(_) => StoreError::NotFound("user".into()),
            other => other,
        })?;
        application_from_row(&row)
    }

    async fn application(&self, number: i64) -> StoreResult<Option<Application>> {
        let row = sqlx::query(&format!(
            "SELECT {APPLICATION_COLS} FROM applications WHERE number = ?"
        ))
        .bind(number)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(application_from_row).transpose()
    }

    async fn pending_application_for(
        &self,
        person_inn: &str,
        org_inn: Option<&str>,
    ) -> StoreResult<Option<Application>> {
        // `IS` is SQLite's NULL-safe equality: no organization matches only no organization.
        let row = sqlx::query(&format!(
            "SELECT {APPLICATION_COLS} FROM applications \
             WHERE status = 'pending' AND person_inn = ? AND org_inn IS ? \
             ORDER BY number LIMIT 1"
        ))
        .bind(person_inn)
        .bind(org_inn)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(application_from_row).transpose()
    }

    async fn pending_applications_of(&self, person_inn: &str) -> StoreResult<Vec<Application>> {
        let rows = sqlx::query(&format!(
            "SELECT {APPLICATION_COLS} FROM applications \
             WHERE status = 'pending' AND person_inn = ? ORDER BY created_at, number"
        ))
        .bind(person_inn)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(application_from_row).collect()
    }

    async fn pending_applications(&self, ugns_codes: &[String]) -> StoreResult<Vec<Application>> {
        if ugns_codes.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; ugns_codes.len()].join(", ");
        let sql = format!(
            "SELECT {APPLICATION_COLS} FROM applications \
             WHERE status = 'pending' AND kind <> 'branch' AND ugns_code IN ({marks}) \
             ORDER BY created_at, number"
        );
        let mut query = sqlx::query(&sql);
        for code in ugns_codes {
            query = query.bind(code);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(application_from_row).collect()
    }

    async fn pending_branch_applications(
        &self,
        head_inns: &[String],
    ) -> StoreResult<Vec<Application>> {
        if head_inns.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; head_inns.len()].join(", ");
        let sql = format!(
            "SELECT {APPLICATION_COLS} FROM applications \
             WHERE status = 'pending' AND kind = 'branch' AND head_inn IN ({marks}) \
             ORDER BY created_at, number"
        );
        let mut query = sqlx::query(&sql);
        for inn in head_inns {
            query = query.bind(inn);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(application_from_row).collect()
    }

    async fn approve_application(
        &self,
        number: i64,
        inspector_id: &str,
        names: (&str, &str, Option<&str>),
        organization: Option<(&Organization, MemberRole)>,
        now: UnixTime,
    ) -> StoreResult<Approval> {
        let mut tx = self.begin().await?;
        // Claim the application first: of concurrent approvals exactly one changes the row,
        // and everything below rolls back with it if a later step fails.
        let row = sqlx::query(&format!(
            "UPDATE applications SET status = 'approved', decided_by = ?, decided_at = ? \
             WHERE number = ? AND status = 'pending' RETURNING {APPLICATION_COLS}"
        ))
        .bind(inspector_id)
        .bind(now)
        .bind(number)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            drop(tx);
            return Err(self.not_pending(number).await);
        };
        let mut application = application_from_row(&row)?;
        check_organization(&application, organization)?;

        let (user_id, login) = match application.kind {
            ApplicationKind::Person | ApplicationKind::LegalEntity => {
                let user = create_applicant(&mut tx, &application, names, now).await?;
                (user.id, Some(user.login))
            }
            ApplicationKind::LinkRequest | ApplicationKind::Branch => {
                let id = application.existing_user_id.clone().ok_or_else(|| {
                    StoreError::Internal(format!(
                        "{} application {number} names no user",
                        application.kind.as_str()
                    ))
                })?;
                (id, None)
            }
        };
        if let Some((org, role)) = organization {
            upsert_organization_with(&mut *tx, org).await?;
            let membership = Membership {
                org_inn: org.inn.clone(),
                user_id: user_id.clone(),
                role,
                blocked: false,
                comment: None,
            };
            upsert_membership_with(&mut *tx, &membership)
                .await
                .map_err(|e| match e {
                    // The organization was just written, so the user is the one missing.
                    StoreError::NotFound(_) => StoreError::NotFound("user".into()),
                    other => other,
                })?;
        }
        if login.is_some() {
            sqlx::query("UPDATE applications SET login = ? WHERE number = ?")
                .bind(&login)
                .bind(number)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        application.login = login.clone();
        Ok(Approval {
            application,
            user_id,
            login,
        })
    }

    async fn reject_application(
        &self,
        number: i64,
        inspector_id: &str,
        reason: &str,
        now: UnixTime,
    ) -> StoreResult<Application> {
        let row = sqlx::query(&format!(
            "UPDATE applications SET status = 'rejected', reject_reason = ?, decided_by = ?, \
             decided_at = ? WHERE number = ? AND status = 'pending' RETURNING {APPLICATION_COLS}"
        ))
        .bind(reason)
        .bind(inspector_id)
        .bind(now)
        .bind(number)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        match row {
            Some(row) => application_from_row(&row),
            None => Err(self.not_pending(number).await),
        }
    }

    async fn inspector_offices(&self, user_id: &str) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "SELECT ugns_code FROM inspector_offices WHERE user_id = ? ORDER BY ugns_code",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn set_inspector_offices(&self, user_id: &str, ugns_codes: &[String]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE id = ?")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if known.is_none() {
            return Err(StoreError::NotFound("user".into()));
        }
        sqlx::query("DELETE FROM inspector_offices WHERE user_id = ?")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for code in ugns_codes {
            sqlx::query(
                "INSERT INTO inspector_offices (user_id, ugns_code) VALUES (?, ?) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(code)
            .execute(&mut *tx)
            .await
            .map_err(|e| match db_err(e) {
                StoreError::NotFound(_) => StoreError::NotFound("ugns_office".into()),
                other => other,
            })?;
        }
        tx.commit().await.map_err(db_err)
    }
}
