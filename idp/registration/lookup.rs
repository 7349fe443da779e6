//! Registry look-ups for the registration page: «Поиск» (R1, R5) in the tax registry, and
//! «Добавить ИНН» (R4, manual §1.2) — the population registry, then registering the person
//! as a taxpayer. Each look-up takes from the requester's budget ([`guard::take_budget`]) and
//! is audited (`registry.lookup`, `registry.add_inn`); a look-up returns no more than the form
//! shows (name, address, УГНС code).

use super::guard::{self, Requester};
use crate::accounts::inn::normalize_inn;
use crate::adapters::{PersonRecord, RegistryError};
use crate::error::Error;
use crate::state::AppState;
use crate::store::{Taxpayer, TaxpayerKind, UgnsOffice};

/// Which «Поиск» button: the applicant's «ИНН» or «ИНН юридического лица».
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKind {
    Person,
    Organization,
}

impl LookupKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "person" => Some(LookupKind::Person),
            "organization" => Some(LookupKind::Organization),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LookupKind::Person => "person",
            LookupKind::Organization => "organization",
        }
    }
}

/// What «Поиск» fills in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// «ФИО» or «Наименование налогоплательщика».
    pub name: String,
    /// «Место жительства(прописки)/Юридический адрес».
    pub address: String,
    /// «Код УГНС».
    pub ugns_code: String,
}

/// Why «Поиск» found nothing to fill in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupFailure {
    /// The INN is malformed (an `inn.error.*` key); the registry was not asked.
    Invalid(&'static str),
    /// «Не найден пользователь» (or no such organization).
    NotFound(LookupKind),
    /// A person's INN in the organization field, or the other way round.
    WrongKind(LookupKind),
    TooMany,
    Unavailable,
}

impl LookupFailure {
    pub fn message_key(self) -> &'static str {
        match self {
            LookupFailure::Invalid(key) => key,
            LookupFailure::NotFound(LookupKind::Person) => "register.error.not_found",
            LookupFailure::NotFound(LookupKind::Organization) => "register.error.org_not_found",
            LookupFailure::WrongKind(LookupKind::Person) => "register.refuse.org_as_person",
            LookupFailure::WrongKind(LookupKind::Organization) => "register.refuse.not_org",
            LookupFailure::TooMany => "register.error.too_many",
            LookupFailure::Unavailable => "error.registry_unavailable",
        }
    }

    /// Machine-readable code (the JSON `error` and the audit `result`).
    pub fn code(self) -> &'static str {
        match self {
            LookupFailure::Invalid(_) => "invalid_inn",
            LookupFailure::NotFound(_) => "not_found",
            LookupFailure::WrongKind(_) => "wrong_kind",
            LookupFailure::TooMany => "too_many_requests",
            LookupFailure::Unavailable => "registry_unavailable",
        }
    }

    /// HTTP status of the JSON answer and of a re-rendered page.
    pub fn status(self) -> u16 {
        match self {
            LookupFailure::Invalid(_) => 400,
            LookupFailure::NotFound(_) => 404,
            LookupFailure::WrongKind(_) => 422,
            LookupFailure::TooMany => 429,
            LookupFailure::Unavailable => 503,
        }
    }
}

/// The «ФИО» to show for a person's taxpayer record: an entrepreneur's registry name starts
/// with its legal form («ИП …»), which is not part of the name.
pub fn person_name(taxpayer: &Taxpayer) -> String {
    let name = taxpayer.name.trim();
    if let Some(form) = taxpayer.legal_form.as_deref().filter(|f| !f.is_empty()) {
        if let Some(rest) = name.strip_prefix(form).and_then(|r| r.strip_prefix(' ')) {
            if taxpayer.kind == TaxpayerKind::Entrepreneur {
                return rest.trim().to_owned();
            }
        }
    }
    name.to_owned()
}

/// Logs a registry failure and says it is unavailable (a protocol error is our problem to
/// investigate, but to the applicant it is the same: try again later, nothing is lost).
pub fn registry_failed(e: &RegistryError) {
    match e {
        RegistryError::Unavailable(m) => tracing::warn!(error = %m, "registry unavailable"),
        RegistryError::Protocol(m) => tracing::error!(error = %m, "registry protocol error"),
    }
}

/// «Поиск»: looks `raw_inn` up in the tax registry. `via` says which page path asked
/// (`json` or `form`), for the audit log.
pub async fn lookup(
    state: &AppState,
    who: &Requester,
    kind: LookupKind,
    raw_inn: &str,
    via: &str,
) -> Result<Result<Found, LookupFailure>, Error> {
    let inn = match normalize_inn(raw_inn, false) {
        Ok(inn) => inn,
        Err(e) => return Ok(Err(LookupFailure::Invalid(e.message_key()))),
    };
    let result = if !guard::take_budget(state, who).await? {
        Err(LookupFailure::TooMany)
    } else {
        match state.tax_registry.taxpayer(&inn).await {
            Err(e) => {
                registry_failed(&e);
                Err(LookupFailure::Unavailable)
            }
            Ok(None) => Err(LookupFailure::NotFound(kind)),
            Ok(Some(t)) => match kind {
                LookupKind::Person if t.kind.is_legal_entity() => {
                    Err(LookupFailure::WrongKind(kind))
                }
                LookupKind::Organization
                    if matches!(t.kind, TaxpayerKind::Person | TaxpayerKind::Entrepreneur) =>
                {
                    Err(LookupFailure::WrongKind(kind))
                }
                LookupKind::Person => Ok(Found {
                    name: person_name(&t),
                    address: t.address,
                    ugns_code: t.ugns_code,
                }),
                LookupKind::Organization => Ok(Found {
                    name: t.name,
                    address: t.address,
                    ugns_code: t.ugns_code,
                }),
            },
        }
    };
    let outcome = match &result {
        Ok(_) => "found",
        Err(f) => f.code(),
    };
    guard::audit(
        state,
        "registry.lookup",
        who,
        Some(inn.clone()),
        serde_json::json!({ "inn": inn, "kind": kind.as_str(), "via": via, "result": outcome }),
    )
    .await;
    Ok(result)
}

/// What a «Добавить ИНН» step ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddInn {
    /// The population registry knows the person: show ФИО and address, and «Зарегистрировать».
    /// `ugns_error` is set when «Зарегистрировать» was pressed without a valid «Код УГНС».
    Found {
        inn: String,
        full_name: String,
        address: String,
        ugns_error: Option<&'static str>,
    },
    /// The tax registry already knows this INN.
    AlreadyTaxpayer { inn: String },
    /// «НП зарегистрирован».
    Registered { inn: String },
    /// Nothing to show but a message (`Invalid` keeps the INN field's message).
    Failed(LookupFailure),
    /// The population registry does not know this INN.
    UnknownPerson,
}

impl AddInn {
    fn code(&self) -> &'static str {
        match self {
            AddInn::Found { .. } => "found",
            AddInn::AlreadyTaxpayer { .. } => "already_taxpayer",
            AddInn::Registered { .. } => "registered",
            AddInn::Failed(f) => f.code(),
            AddInn::UnknownPerson => "unknown_person",
        }
    }
}

/// The population registry's person, if the tax registry does not know the INN yet.
async fn find_person(state: &AppState, inn: &str) -> Result<PersonRecord, AddInn> {
    match state.tax_registry.taxpayer(inn).await {
        Err(e) => {
            registry_failed(&e);
            return Err(AddInn::Failed(LookupFailure::Unavailable));
        }
        Ok(Some(_)) => {
            return Err(AddInn::AlreadyTaxpayer {
                inn: inn.to_owned(),
            })
        }
        Ok(None) => {}
    }
    match state.population.person(inn).await {
        Err(e) => {
            registry_failed(&e);
            Err(AddInn::Failed(LookupFailure::Unavailable))
        }
        Ok(None) => Err(AddInn::UnknownPerson),
        Ok(Some(person)) => Ok(person),
    }
}

/// «Добавить ИНН»: with `register` false, looks the INN up; with `register` true, registers
/// the person in the tax registry under `ugns_code` (R4).
pub async fn add_inn(
    state: &AppState,
    who: &Requester,
    raw_inn: &str,
    register: Option<(&str, &[UgnsOffice])>,
) -> Result<AddInn, Error> {
    let inn = match normalize_inn(raw_inn, false) {
        Ok(inn) => inn,
        Err(e) => return Ok(AddInn::Failed(LookupFailure::Invalid(e.message_key()))),
    };
    let result = if !guard::take_budget(state, who).await? {
        AddInn::Failed(LookupFailure::TooMany)
    } else {
        match find_person(state, &inn).await {
            Err(stop) => stop,
            Ok(person) => match register {
                Some((code, offices)) if offices.iter().any(|o| o.code == code) => {
                    match state.tax_registry.register_person(&person, code).await {
                        Ok(_) => AddInn::Registered { inn: inn.clone() },
                        Err(e) => {
                            registry_failed(&e);
                            AddInn::Failed(LookupFailure::Unavailable)
                        }
                    }
                }
                Some((code, _)) => AddInn::Found {
                    inn: inn.clone(),
                    full_name: person.full_name(),
                    address: person.address.clone(),
                    ugns_error: Some(if code.is_empty() {
                        "register.error.ugns_required"
                    } else {
                        "register.error.ugns_unknown"
                    }),
                },
                None => AddInn::Found {
                    inn: inn.clone(),
                    full_name: person.full_name(),
                    address: person.address.clone(),
                    ugns_error: None,
                },
            },
        }
    };
    let step = if register.is_some() {
        "register"
    } else {
        "lookup"
    };
    let mut detail = serde_json::json!({ "inn": inn, "step": step, "result": result.code() });
    if let (AddInn::Registered { .. }, Some((code, _))) = (&result, register) {
        detail["ugns_code"] = code.into();
    }
    guard::audit(state, "registry.add_inn", who, Some(inn.clone()), detail).await;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ForeignTrade;

    fn taxpayer(kind: TaxpayerKind, legal_form: Option<&str>, name: &str) -> Taxpayer {
        Taxpayer {
            inn: "21207198599011".into(),
            kind,
            legal_form: legal_form.map(str::to_owned),
            name: name.into(),
            address: String::new(),
            ugns_code: "001".into(),
            vat_payer: false,
            vat_reg_date: None,
            foreign_trade: ForeignTrade::None,
            parent_inn: None,
            head_pin: None,
            accountant_pin: None,
            large_taxpayer: false,
            liquidated: false,
        }
    }

    #[test]
    fn entrepreneur_names_lose_their_legal_form() {
        let ip = taxpayer(TaxpayerKind::Entrepreneur, Some("ИП"), "ИП Демонов Азамат");
        assert_eq!(person_name(&ip), "Демонов Азамат");
        let person = taxpayer(TaxpayerKind::Person, None, " Демонова Нуржан ");
        assert_eq!(person_name(&person), "Демонова Нуржан");
        let ipanov = taxpayer(TaxpayerKind::Entrepreneur, Some("ИП"), "ИПанов Ип");
        assert_eq!(person_name(&ipanov), "ИПанов Ип");
    }

    #[test]
    fn failures_have_messages_codes_and_statuses() {
        let all = [
            LookupFailure::Invalid("inn.error.length"),
            LookupFailure::NotFound(LookupKind::Person),
            LookupFailure::NotFound(LookupKind::Organization),
            LookupFailure::WrongKind(LookupKind::Person),
            LookupFailure::TooMany,
            LookupFailure::Unavailable,
        ];
        for f in all {
            assert!(!f.message_key().is_empty());
            assert!((400..600).contains(&f.status()));
        }
        assert_eq!(
            LookupFailure::NotFound(LookupKind::Person).message_key(),
            "register.error.not_found"
        );
        assert_eq!(LookupFailure::TooMany.status(), 429);
    }
}
