//! The tax registry (the ГНС taxpayer base): [`TaxRegistry`] and its database-backed
//! implementation [`StoredTaxRegistry`], which reads what `idp registry import` loaded.

use std::sync::Arc;

use async_trait::async_trait;

use super::population::PersonRecord;
use super::RegistryError;
use crate::store::{ForeignTrade, Store, StoreError, Taxpayer, TaxpayerKind};

#[async_trait]
pub trait TaxRegistry: Send + Sync {
    /// The taxpayer with this INN; `Ok(None)` when the registry does not know it.
    async fn taxpayer(&self, inn: &str) -> Result<Option<Taxpayer>, RegistryError>;
    /// «Добавить ИНН» (R4): registers a person from the population registry as a taxpayer
    /// (kind Person). Idempotent: an INN the registry already knows returns its record
    /// unchanged.
    async fn register_person(
        &self,
        person: &PersonRecord,
        ugns_code: &str,
    ) -> Result<Taxpayer, RegistryError>;
}

/// The tax registry as loaded into our database.
pub struct StoredTaxRegistry {
    store: Arc<dyn Store>,
}

impl StoredTaxRegistry {
    pub fn new(store: Arc<dyn Store>) -> Self {
        StoredTaxRegistry { store }
    }
}

fn registry_error(e: StoreError) -> RegistryError {
    match e {
        StoreError::Unavailable(m) => RegistryError::Unavailable(m),
        other => RegistryError::Protocol(other.to_string()),
    }
}

#[async_trait]
impl TaxRegistry for StoredTaxRegistry {
    async fn taxpayer(&self, inn: &str) -> Result<Option<Taxpayer>, RegistryError> {
        self.store.taxpayer(inn).await.map_err(registry_error)
    }

    async fn register_person(
        &self,
        person: &PersonRecord,
        ugns_code: &str,
    ) -> Result<Taxpayer, RegistryError> {
        // Already a taxpayer (e.g. registered a moment ago, or an entrepreneur): keep the
        // registry's record rather than overwrite it with a bare person.
        if let Some(existing) = self.taxpayer(&person.inn).await? {
            return Ok(existing);
        }
        let taxpayer = Taxpayer {
            inn: person.inn.clone(),
            kind: TaxpayerKind::Person,
            legal_form: None,
            name: person.full_name(),
            address: person.address.clone(),
            ugns_code: ugns_code.to_string(),
            vat_payer: false,
            vat_reg_date: None,
            foreign_trade: ForeignTrade::None,
            parent_inn: None,
            head_pin: None,
            accountant_pin: None,
            large_taxpayer: false,
            liquidated: false,
        };
        self.store
            .upsert_taxpayers(std::slice::from_ref(&taxpayer))
            .await
            .map_err(registry_error)?;
        Ok(taxpayer)
    }
}
