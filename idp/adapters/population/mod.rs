//! The population registry (ГРС), consulted by «Добавить ИНН» (R4) for a person the tax
//! registry does not know. Reached through Tunduk (X-Road): see [`xroad`].

pub mod xroad;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use super::RegistryError;
pub use xroad::{XRoadConfig, XRoadPopulationRegistry};

/// A person as the population registry knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    /// The 14-digit ПИН (= the person's INN).
    pub inn: String,
    pub family_name: String,
    pub given_name: String,
    pub middle_name: Option<String>,
    pub address: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// `male` or `female`.
    pub sex: String,
}

impl PersonRecord {
    /// «Фамилия Имя Отчество» (the patronymic only when there is one).
    pub fn full_name(&self) -> String {
        let mut name = format!("{} {}", self.family_name, self.given_name);
        if let Some(middle) = self.middle_name.as_deref().filter(|m| !m.trim().is_empty()) {
            name.push(' ');
            name.push_str(middle);
        }
        name
    }
}

#[async_trait]
pub trait PopulationRegistry: Send + Sync {
    /// The person with this ПИН; `Ok(None)` when the registry does not know it.
    async fn person(&self, inn: &str) -> Result<Option<PersonRecord>, RegistryError>;
}
