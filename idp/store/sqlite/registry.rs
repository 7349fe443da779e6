//! The tax registry's taxpayers and the УГНС reference list of the sqlite backend
//! ([`TaxRegistryStore`]). The offices are seeded by migration 0002.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::{bad_value, db_err, SqliteStore};
use crate::store::model::*;
use crate::store::{StoreResult, TaxRegistryStore};

const TAXPAYER_COLS: &str = "inn, kind, legal_form, name, address, ugns_code, vat_payer, \
                             vat_reg_date, foreign_trade, parent_inn, head_pin, accountant_pin, \
                             large_taxpayer, liquidated";

fn taxpayer_from_row(row: &SqliteRow) -> StoreResult<Taxpayer> {
    let kind: String = row.try_get("kind").map_err(db_err)?;
    let trade: String = row.try_get("foreign_trade").map_err(db_err)?;
    Ok(Taxpayer {
        inn: row.try_get("inn").map_err(db_err)?,
        kind: TaxpayerKind::from_code(&kind).ok_or_else(|| bad_value("taxpayer kind", &kind))?,
        legal_form: row.try_get("legal_form").map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        address: row.try_get("address").map_err(db_err)?,
        ugns_code: row.try_get("ugns_code").map_err(db_err)?,
        vat_payer: row.try_get("vat_payer").map_err(db_err)?,
        vat_reg_date: row.try_get("vat_reg_date").map_err(db_err)?,
        foreign_trade: ForeignTrade::from_code(&trade)
            .ok_or_else(|| bad_value("foreign trade", &trade))?,
        parent_inn: row.try_get("parent_inn").map_err(db_err)?,
        head_pin: row.try_get("head_pin").map_err(db_err)?,
        accountant_pin: row.try_get("accountant_pin").map_err(db_err)?,
        large_taxpayer: row.try_get("large_taxpayer").map_err(db_err)?,
        liquidated: row.try_get("liquidated").map_err(db_err)?,
    })
}

#[async_trait]
impl TaxRegistryStore for SqliteStore {
    async fn upsert_taxpayers(&self, taxpayers: &[Taxpayer]) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO taxpayers ({TAXPAYER_COLS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (inn) DO UPDATE SET kind = excluded.kind, \
             legal_form = excluded.legal_form, name = excluded.name, \
             address = excluded.address, ugns_code = excluded.ugns_code, \
             vat_payer = excluded.vat_payer, vat_reg_date = excluded.vat_reg_date, \
             foreign_trade = excluded.foreign_trade, parent_inn = excluded.parent_inn, \
             head_pin = excluded.head_pin, accountant_pin = excluded.accountant_pin, \
             large_taxpayer = excluded.large_taxpayer, liquidated = excluded.liquidated"
        );
        // The registry is the source of an organization's name, office and status: an
        // organization registered in the cabinet follows it, so a liquidation imported here
        // stops its accounts from being offered (A7).
        let sync = "UPDATE organizations SET (name, ugns_code, parent_inn, liquidated) = \
                    (SELECT name, ugns_code, parent_inn, liquidated FROM taxpayers WHERE inn = ?1) \
                    WHERE inn = ?1";
        // Dropping the transaction on the first error rolls every row back.
        let mut tx = self.begin().await?;
        for t in taxpayers {
            sqlx::query(&sql)
                .bind(&t.inn)
                .bind(t.kind.code())
                .bind(&t.legal_form)
                .bind(&t.name)
                .bind(&t.address)
                .bind(&t.ugns_code)
                .bind(t.vat_payer)
                .bind(&t.vat_reg_date)
                .bind(t.foreign_trade.code())
                .bind(&t.parent_inn)
                .bind(&t.head_pin)
                .bind(&t.accountant_pin)
                .bind(t.large_taxpayer)
                .bind(t.liquidated)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query(sync)
                .bind(&t.inn)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn taxpayer(&self, inn: &str) -> StoreResult<Option<Taxpayer>> {
        let row = sqlx::query(&format!(
            "SELECT {TAXPAYER_COLS} FROM taxpayers WHERE inn = ?"
        ))
        .bind(inn)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(taxpayer_from_row).transpose()
    }

    async fn ugns_offices(&self) -> StoreResult<Vec<UgnsOffice>> {
        let rows = sqlx::query("SELECT code, name FROM ugns_offices ORDER BY code")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(UgnsOffice {
                    code: r.try_get("code").map_err(db_err)?,
                    name: r.try_get("name").map_err(db_err)?,
                })
            })
            .collect()
    }
}
