//! Adapters to the outside systems registration depends on, each behind a trait so the
//! pages and the inspector console never name a concrete implementation (only `app` does):
//! - [`tax_registry`]: the ГНС taxpayer base ([`TaxRegistry`]), database-backed, fed by
//!   `idp registry import FILE.csv` ([`tax_registry_import`]);
//! - [`population`]: the population registry reached over Tunduk / X-Road
//!   ([`PopulationRegistry`]);
//! - [`ocsp`]: the OCSP responders that certificates name ([`ocsp::OcspFetcher`]), for
//!   signature sign-in and registration.

pub mod ocsp;
pub mod population;
pub mod tax_registry;
pub mod tax_registry_import;

pub use population::{PersonRecord, PopulationRegistry};
pub use tax_registry::{StoredTaxRegistry, TaxRegistry};

use crate::error::Error;

/// Why a call to an outside registry failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry could not be reached or did not answer in time; the caller shows
    /// «Реестр временно недоступен» and keeps what the user entered.
    #[error("registry unavailable: {0}")]
    Unavailable(String),
    /// The registry answered, but not as the protocol says (or refused our request).
    #[error("registry protocol error: {0}")]
    Protocol(String),
}

impl From<RegistryError> for Error {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Unavailable(_) => {
                Error::unavailable(e).with_message("error.registry_unavailable")
            }
            RegistryError::Protocol(_) => Error::internal(e),
        }
    }
}
