//! Users, organizations and memberships of the postgres backend ([`UserStore`],
//! [`OrganizationStore`]), and the row readers and insert helpers the registration
//! approval reuses inside its transaction.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row};

use super::{bad_value, db_err, PostgresStore};
use crate::store::model::*;
use crate::store::{OrganizationStore, StoreError, StoreResult, UserStore};

pub(super) const USER_COLS: &str =
    "id, login, inn, family_name, given_name, middle_name, password_hash, \
                         ugns_code, blocked, created_at";

pub(super) fn user_from_row(row: &PgRow) -> StoreResult<User> {
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
pub(super) fn organization_from_row(row: &PgRow, inn_column: &str) -> StoreResult<Organization> {
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
        insert_user(&self.pool, &user).await?;
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
        upsert_organization_with(&self.pool, org).await
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
        let result = upsert_membership_with(&self.pool, m).await;
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

    async fn user_with_membership(
        &self,
        user_id: &str,
        org_inn: &str,
    ) -> StoreResult<Option<(User, Option<(Membership, Organization)>)>> {
        // Membership and organization columns are prefixed where a users column has the same
        // name (blocked); `m.org_inn` is NULL when there is no membership.
        let row = sqlx::query(
            "SELECT u.id, u.login, u.inn, u.family_name, u.given_name, u.middle_name, \
             u.password_hash, u.ugns_code, u.blocked, u.created_at, \
             m.org_inn, m.user_id, m.role, m.blocked AS m_blocked, m.comment, \
             o.name, o.ugns_code AS o_ugns_code, o.kind, o.parent_inn, o.liquidated \
             FROM users u \
             LEFT JOIN memberships m ON m.user_id = u.id AND m.org_inn = $2 \
             LEFT JOIN organizations o ON o.inn = m.org_inn \
             WHERE u.id = $1",
        )
        .bind(user_id)
        .bind(org_inn)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let user = user_from_row(&row)?;
        let org: Option<String> = row.try_get("org_inn").map_err(db_err)?;
        if org.is_none() {
            return Ok(Some((user, None)));
        }
        let kind: String = row.try_get("kind").map_err(db_err)?;
        let organization = Organization {
            inn: row.try_get("org_inn").map_err(db_err)?,
            name: row.try_get("name").map_err(db_err)?,
            ugns_code: row.try_get("o_ugns_code").map_err(db_err)?,
            kind: AccountKind::parse(&kind).ok_or_else(|| bad_value("organization kind", &kind))?,
            parent_inn: row.try_get("parent_inn").map_err(db_err)?,
            liquidated: row.try_get("liquidated").map_err(db_err)?,
        };
        Ok(Some((
            user,
            Some((membership_from_row(&row)?, organization)),
        )))
    }
}

/// Inserts `user` as it is (id included); `create_user` and the registration approval use it.
pub(super) async fn insert_user<'e, E>(exec: E, user: &User) -> StoreResult<()>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
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
    .execute(exec)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(super) async fn upsert_organization_with<'e, E>(exec: E, org: &Organization) -> StoreResult<()>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
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
    .execute(exec)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The membership upsert; a broken foreign key comes back as the driver reported it.
pub(super) async fn upsert_membership_with<'e, E>(exec: E, m: &Membership) -> StoreResult<()>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    sqlx::query(
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
    .execute(exec)
    .await
    .map_err(db_err)?;
    Ok(())
}
