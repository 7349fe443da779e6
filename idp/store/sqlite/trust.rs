//! The trust store of the sqlite backend ([`TrustStore`]): trusted CA certificates and the
//! latest CRL of each issuer (tables of migration 0003).

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::{bad_value, db_err, SqliteStore};
use crate::store::model::UnixTime;
use crate::store::trust::*;
use crate::store::{StoreResult, TrustStore};

const CA_COLS: &str = "thumbprint, subject, issuer, serial, not_before, not_after, der, added_at";
const CRL_COLS: &str = "id, issuer, issuer_thumbprint, this_update, next_update, der, added_at";

fn ca_from_row(row: &SqliteRow) -> StoreResult<TrustedCa> {
    Ok(TrustedCa {
        thumbprint: row.try_get("thumbprint").map_err(db_err)?,
        subject: row.try_get("subject").map_err(db_err)?,
        issuer: row.try_get("issuer").map_err(db_err)?,
        serial: row.try_get("serial").map_err(db_err)?,
        not_before: row.try_get("not_before").map_err(db_err)?,
        not_after: row.try_get("not_after").map_err(db_err)?,
        der: row.try_get("der").map_err(db_err)?,
        added_at: row.try_get("added_at").map_err(db_err)?,
    })
}

fn crl_from_row(row: &SqliteRow) -> StoreResult<Crl> {
    Ok(Crl {
        id: row.try_get("id").map_err(db_err)?,
        issuer: row.try_get("issuer").map_err(db_err)?,
        issuer_thumbprint: row.try_get("issuer_thumbprint").map_err(db_err)?,
        this_update: row.try_get("this_update").map_err(db_err)?,
        next_update: row.try_get("next_update").map_err(db_err)?,
        der: row.try_get("der").map_err(db_err)?,
        added_at: row.try_get("added_at").map_err(db_err)?,
    })
}

#[async_trait]
impl TrustStore for SqliteStore {
    async fn add_ca(&self, ca: &TrustedCa) -> StoreResult<AddCaOutcome> {
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO trusted_cas ({CA_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (thumbprint) DO NOTHING"
        ))
        .bind(&ca.thumbprint)
        .bind(&ca.subject)
        .bind(&ca.issuer)
        .bind(&ca.serial)
        .bind(ca.not_before)
        .bind(ca.not_after)
        .bind(&ca.der)
        .bind(ca.added_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        let outcome = if inserted == 1 {
            AddCaOutcome::Added
        } else {
            let added_at: i64 =
                sqlx::query_scalar("SELECT added_at FROM trusted_cas WHERE thumbprint = ?")
                    .bind(&ca.thumbprint)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
            AddCaOutcome::AlreadyTrusted { added_at }
        };
        tx.commit().await.map_err(db_err)?;
        Ok(outcome)
    }

    async fn list_cas(&self) -> StoreResult<Vec<TrustedCa>> {
        let rows = sqlx::query(&format!(
            "SELECT {CA_COLS} FROM trusted_cas ORDER BY subject, thumbprint"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(ca_from_row).collect()
    }

    async fn remove_ca(&self, thumbprint_or_prefix: &str) -> StoreResult<RemoveCaOutcome> {
        let Some(prefix) = thumbprint_prefix(thumbprint_or_prefix) else {
            return Ok(RemoveCaOutcome::NotFound);
        };
        let mut tx = self.begin().await?;
        // The prefix is hex only (checked above), so it holds no LIKE wildcard.
        let rows = sqlx::query(&format!(
            "SELECT {CA_COLS} FROM trusted_cas WHERE thumbprint LIKE ? || '%' ORDER BY thumbprint"
        ))
        .bind(&prefix)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut matches = rows
            .iter()
            .map(ca_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        if matches.len() > 1 {
            return Ok(RemoveCaOutcome::Ambiguous(
                matches.into_iter().map(|ca| ca.thumbprint).collect(),
            ));
        }
        let Some(ca) = matches.pop() else {
            return Ok(RemoveCaOutcome::NotFound);
        };
        let crls_removed = sqlx::query("DELETE FROM crls WHERE issuer_thumbprint = ?")
            .bind(&ca.thumbprint)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        sqlx::query("DELETE FROM trusted_cas WHERE thumbprint = ?")
            .bind(&ca.thumbprint)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(RemoveCaOutcome::Removed { ca, crls_removed })
    }

    async fn put_crl(&self, crl: &NewCrl, now: UnixTime) -> StoreResult<PutCrlOutcome> {
        // BEGIN IMMEDIATE: the comparison below cannot interleave with another writer's.
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO crls (issuer, issuer_thumbprint, this_update, next_update, der, \
             added_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (issuer) DO NOTHING",
        )
        .bind(&crl.issuer)
        .bind(&crl.issuer_thumbprint)
        .bind(crl.this_update)
        .bind(crl.next_update)
        .bind(&crl.der)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if inserted == 1 {
            tx.commit().await.map_err(db_err)?;
            return Ok(PutCrlOutcome::Added);
        }
        let stored = sqlx::query("SELECT this_update, der FROM crls WHERE issuer = ?")
            .bind(&crl.issuer)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let stored_this_update: i64 = stored.try_get("this_update").map_err(db_err)?;
        let stored_der: Vec<u8> = stored.try_get("der").map_err(db_err)?;
        if stored_der == crl.der {
            return Ok(PutCrlOutcome::Unchanged);
        }
        if crl.this_update <= stored_this_update {
            return Ok(PutCrlOutcome::Stale { stored_this_update });
        }
        sqlx::query(
            "UPDATE crls SET issuer_thumbprint = ?, this_update = ?, next_update = ?, der = ?, \
             added_at = ? WHERE issuer = ?",
        )
        .bind(&crl.issuer_thumbprint)
        .bind(crl.this_update)
        .bind(crl.next_update)
        .bind(&crl.der)
        .bind(now)
        .bind(&crl.issuer)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(PutCrlOutcome::Replaced {
            previous_this_update: stored_this_update,
        })
    }

    async fn list_crls(&self) -> StoreResult<Vec<Crl>> {
        let rows = sqlx::query(&format!("SELECT {CRL_COLS} FROM crls ORDER BY issuer"))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(crl_from_row).collect()
    }

    async fn trust_material(&self) -> StoreResult<TrustMaterial> {
        let rows = sqlx::query(
            "SELECT 'ca' AS kind, thumbprint AS k, der FROM trusted_cas \
             UNION ALL SELECT 'crl', issuer, der FROM crls ORDER BY kind, k",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut material = TrustMaterial::default();
        for row in &rows {
            let kind: String = row.try_get("kind").map_err(db_err)?;
            let der: Vec<u8> = row.try_get("der").map_err(db_err)?;
            match kind.as_str() {
                "ca" => material.cas.push(der),
                "crl" => material.crls.push(der),
                other => return Err(bad_value("trust material kind", other)),
            }
        }
        Ok(material)
    }
}
