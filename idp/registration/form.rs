//! The «Логин и пароль» registration form (R1, manual §1.1): what was typed, and the checks
//! that need no registry — every missing field gets its own message, INNs are checked with
//! [`normalize_inn`], «Пароли не совпадают», at least 8 characters.

use std::collections::HashMap;

use crate::accounts::inn::normalize_inn;
use crate::store::UgnsOffice;

/// Shortest password accepted (manual §1.1 item 6).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted, in bytes (argon2 is fed the bytes).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest value kept from any other field.
const MAX_FIELD_CHARS: usize = 400;

/// «Тип лица».
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonType {
    /// «физическое лицо» (also entrepreneurs and peasant farms).
    Person,
    /// «юридическое лицо»: an employee (head or accountant) of a legal entity.
    LegalEntity,
}

impl PersonType {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonType::Person => "person",
            PersonType::LegalEntity => "legal_entity",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "person" => Some(PersonType::Person),
            "legal_entity" => Some(PersonType::LegalEntity),
            _ => None,
        }
    }
}

/// Everything the form holds. Passwords are never rendered back.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pub person_type: Option<PersonType>,
    pub ugns_code: String,
    pub org_inn: String,
    pub org_name: String,
    pub inn: String,
    pub full_name: String,
    pub address: String,
    pub password: String,
    pub password_confirm: String,
}

fn field(fields: &HashMap<String, String>, name: &str) -> String {
    let value = fields.get(name).map(|v| v.trim()).unwrap_or_default();
    value.chars().take(MAX_FIELD_CHARS).collect()
}

impl Form {
    /// Reads the posted fields (unknown ones are ignored).
    pub fn from_fields(fields: &HashMap<String, String>) -> Form {
        Form {
            person_type: fields
                .get("person_type")
                .and_then(|t| PersonType::parse(t.trim())),
            ugns_code: field(fields, "ugns_code"),
            org_inn: field(fields, "org_inn"),
            org_name: field(fields, "org_name"),
            inn: field(fields, "inn"),
            full_name: field(fields, "full_name"),
            address: field(fields, "address"),
            // Passwords are kept as typed (spaces are part of them).
            password: fields.get("password").cloned().unwrap_or_default(),
            password_confirm: fields.get("password_confirm").cloned().unwrap_or_default(),
        }
    }

    /// Whether the organization fields apply.
    pub fn is_legal_entity(&self) -> bool {
        self.person_type == Some(PersonType::LegalEntity)
    }

    /// The same form with the passwords cleared (for re-rendering).
    pub fn without_passwords(&self) -> Form {
        Form {
            password: String::new(),
            password_confirm: String::new(),
            ..self.clone()
        }
    }
}

/// Field id → catalogue key of its message, in form order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<(&'static str, &'static str)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, key: &'static str) {
        if self.get(field).is_none() {
            self.0.push((field, key));
        }
    }

    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, k)| *k)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn one(field: &'static str, key: &'static str) -> FieldErrors {
        FieldErrors(vec![(field, key)])
    }
}

/// A form that passed [`validate`]: INNs normalized, the office known.
#[derive(Debug, Clone)]
pub struct ValidForm {
    pub person_type: PersonType,
    pub ugns_code: String,
    pub inn: String,
    /// Set for «юридическое лицо».
    pub org_inn: Option<String>,
    pub password: String,
}

/// Checks an INN field, recording its message.
pub fn check_inn(value: &str, field: &'static str, errors: &mut FieldErrors) -> Option<String> {
    match normalize_inn(value, false) {
        Ok(inn) => Some(inn),
        Err(e) => {
            errors.add(field, e.message_key());
            None
        }
    }
}

/// All the checks that need no registry; every problem is reported at once.
pub fn validate(form: &Form, offices: &[UgnsOffice]) -> Result<ValidForm, FieldErrors> {
    let mut errors = FieldErrors::default();
    if form.person_type.is_none() {
        errors.add("person_type", "register.error.person_type");
    }
    if form.ugns_code.is_empty() {
        errors.add("ugns_code", "register.error.ugns_required");
    } else if !offices.iter().any(|o| o.code == form.ugns_code) {
        errors.add("ugns_code", "register.error.ugns_unknown");
    }
    let org_inn = if form.is_legal_entity() {
        let inn = check_inn(&form.org_inn, "org_inn", &mut errors);
        if form.org_name.is_empty() {
            errors.add("org_name", "register.error.org_name_required");
        }
        inn
    } else {
        None
    };
    let inn = check_inn(&form.inn, "inn", &mut errors);
    if form.full_name.is_empty() {
        errors.add("full_name", "register.error.full_name_required");
    }
    if form.address.is_empty() {
        errors.add("address", "register.error.address_required");
    }
    if form.password.is_empty() {
        errors.add("password", "register.error.password_required");
    } else if form.password.chars().count() < MIN_PASSWORD_CHARS {
        errors.add("password", "register.error.password_short");
    } else if form.password.len() > MAX_PASSWORD_BYTES {
        errors.add("password", "register.error.password_long");
    }
    if form.password_confirm.is_empty() {
        errors.add("password_confirm", "register.error.confirm_required");
    } else if form.password_confirm != form.password {
        errors.add("password_confirm", "register.error.mismatch");
    }
    match (form.person_type, inn, errors.is_empty()) {
        (Some(person_type), Some(inn), true) => Ok(ValidForm {
            person_type,
            ugns_code: form.ugns_code.clone(),
            inn,
            org_inn: if person_type == PersonType::LegalEntity {
                org_inn
            } else {
                None
            },
            password: form.password.clone(),
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offices() -> Vec<UgnsOffice> {
        vec![UgnsOffice {
            code: "004".into(),
            name: "УГНС по Первомайскому району г. Бишкек".into(),
        }]
    }

    fn filled() -> Form {
        Form {
            person_type: Some(PersonType::Person),
            ugns_code: "004".into(),
            inn: "11908199599014".into(),
            full_name: "Демонова Нуржан".into(),
            address: "г. Бишкек".into(),
            password: "длинный пароль".into(),
            password_confirm: "длинный пароль".into(),
            ..Form::default()
        }
    }

    #[test]
    fn a_complete_form_passes() {
        let valid = validate(&filled(), &offices()).unwrap();
        assert_eq!(valid.inn, "11908199599014");
        assert_eq!(valid.org_inn, None);
    }

    #[test]
    fn every_missing_field_has_its_message() {
        let errors = validate(
            &Form {
                person_type: Some(PersonType::LegalEntity),
                ..Form::default()
            },
            &offices(),
        )
        .unwrap_err();
        assert_eq!(
            errors.0,
            vec![
                ("ugns_code", "register.error.ugns_required"),
                ("org_inn", "inn.error.empty"),
                ("org_name", "register.error.org_name_required"),
                ("inn", "inn.error.empty"),
                ("full_name", "register.error.full_name_required"),
                ("address", "register.error.address_required"),
                ("password", "register.error.password_required"),
                ("password_confirm", "register.error.confirm_required"),
            ]
        );
        let errors = validate(&Form::default(), &offices()).unwrap_err();
        assert_eq!(
            errors.get("person_type"),
            Some("register.error.person_type")
        );
        assert_eq!(
            errors.get("org_inn"),
            None,
            "organization fields only for a legal entity"
        );
    }

    #[test]
    fn passwords() {
        let mut form = filled();
        form.password_confirm = "другой пароль".into();
        assert_eq!(
            validate(&form, &offices()).unwrap_err().0,
            vec![("password_confirm", "register.error.mismatch")]
        );
        // Eight characters, not bytes: «пароль12» is 8 characters and 14 bytes.
        let mut form = filled();
        form.password = "пароль1".into();
        form.password_confirm = form.password.clone();
        assert_eq!(
            validate(&form, &offices()).unwrap_err().get("password"),
            Some("register.error.password_short")
        );
        form.password = "пароль12".into();
        form.password_confirm = form.password.clone();
        assert!(validate(&form, &offices()).is_ok());
    }

    #[test]
    fn inn_and_office_checks() {
        let mut form = filled();
        form.inn = "1234567890123".into();
        form.ugns_code = "777".into();
        let errors = validate(&form, &offices()).unwrap_err();
        assert_eq!(errors.get("inn"), Some("inn.error.length"));
        assert_eq!(errors.get("ugns_code"), Some("register.error.ugns_unknown"));
        form.inn = "1190-8199 599014".into();
        form.ugns_code = "004".into();
        assert_eq!(validate(&form, &offices()).unwrap().inn, "11908199599014");
    }

    #[test]
    fn reading_fields() {
        let fields: HashMap<String, String> = [
            ("person_type", "legal_entity"),
            ("inn", "  11908199599014 "),
            ("password", " secret "),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let form = Form::from_fields(&fields);
        assert!(form.is_legal_entity());
        assert_eq!(form.inn, "11908199599014");
        assert_eq!(form.password, " secret ");
        assert!(form.without_passwords().password.is_empty());
    }
}
