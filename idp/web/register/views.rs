//! The askama views of the registration pages (`templates/register*.html`) and how the
//! «Логин и пароль» form's fields are laid out: one [`FieldView`] per input, in the
//! manual's order (§1.1 items 1–7), each with its `<label for>` and its own message.

use askama::Template;

use super::super::i18n::{Lang, Tr};
use super::super::views::EsigForm;
use crate::registration::form::{FieldErrors, Form, PersonType};
use crate::registration::{Alert, AlertLink};
use crate::store::{ApplicationKind, ApplicationStatus, UgnsOffice};

/// One `<option>` of «Код УГНС».
pub struct OfficeOption {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

/// «004 — УГНС по …» options, the first one empty («— выберите —» is the template's).
pub fn office_options(offices: &[UgnsOffice], selected: &str) -> Vec<OfficeOption> {
    offices
        .iter()
        .map(|o| OfficeOption {
            code: o.code.clone(),
            label: format!("{} — {}", o.code, o.name),
            selected: o.code == selected,
        })
        .collect()
}

/// One input of the form.
pub struct FieldView {
    pub id: &'static str,
    pub label_key: &'static str,
    /// `text`, `password` or `select`.
    pub kind: &'static str,
    pub value: String,
    /// Filled from the registry by «Поиск», not typed.
    pub readonly: bool,
    /// Shown only for «юридическое лицо».
    pub org_only: bool,
    /// The «Поиск» button's look-up kind (`person` / `organization`).
    pub lookup: Option<&'static str>,
    pub hint_key: Option<&'static str>,
    pub error: Option<&'static str>,
    pub autocomplete: &'static str,
    /// For «Не найден пользователь»: the «Добавить ИНН» link.
    pub add_inn_link: Option<String>,
}

impl FieldView {
    fn new(id: &'static str, label_key: &'static str, value: &str) -> FieldView {
        FieldView {
            id,
            label_key,
            kind: "text",
            value: value.to_owned(),
            readonly: false,
            org_only: false,
            lookup: None,
            hint_key: None,
            error: None,
            autocomplete: "off",
            add_inn_link: None,
        }
    }
}

/// `/register?tab=add-inn&inn=…`.
pub fn add_inn_href(inn: &str) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    out.append_pair("tab", "add-inn");
    if !inn.is_empty() {
        out.append_pair("inn", inn);
    }
    format!("/register?{}", out.finish())
}

/// `/register?inn=…` (the password tab with the INN filled).
pub fn password_href(inn: &str) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    out.append_pair("inn", inn);
    format!("/register?{}", out.finish())
}

/// The fields of the «Логин и пароль» tab with what was typed and their messages.
pub fn fields(form: &Form, errors: &FieldErrors) -> Vec<FieldView> {
    let mut fields = vec![
        FieldView {
            kind: "select",
            ..FieldView::new("ugns_code", "register.ugns", &form.ugns_code)
        },
        FieldView {
            org_only: true,
            lookup: Some("organization"),
            ..FieldView::new("org_inn", "register.org_inn", &form.org_inn)
        },
        FieldView {
            org_only: true,
            readonly: true,
            hint_key: Some("register.filled_hint"),
            ..FieldView::new("org_name", "register.org_name", &form.org_name)
        },
        FieldView {
            lookup: Some("person"),
            ..FieldView::new("inn", "register.inn", &form.inn)
        },
        FieldView {
            readonly: true,
            hint_key: Some("register.filled_hint"),
            ..FieldView::new("full_name", "register.full_name", &form.full_name)
        },
        FieldView {
            readonly: true,
            hint_key: Some("register.filled_hint"),
            ..FieldView::new("address", "register.address", &form.address)
        },
        FieldView {
            kind: "password",
            hint_key: Some("register.password.hint"),
            autocomplete: "new-password",
            ..FieldView::new("password", "register.password", "")
        },
        FieldView {
            kind: "password",
            autocomplete: "new-password",
            ..FieldView::new("password_confirm", "register.password_confirm", "")
        },
    ];
    for field in &mut fields {
        field.error = errors.get(field.id);
        if field.error == Some("register.error.not_found") {
            field.add_inn_link = Some(add_inn_href(&form.inn));
        }
    }
    fields
}

/// The page-level message.
pub struct AlertView {
    pub key: &'static str,
    /// `error` or `info`.
    pub class: &'static str,
    pub signature_hint: bool,
    /// An application number to link to `/register/status/{n}`.
    pub number: Option<i64>,
    /// A link to the password tab with this INN filled («НП зарегистрирован», or an INN
    /// the tax registry already knows).
    pub continue_inn: Option<String>,
}

impl AlertView {
    pub fn error(key: &'static str) -> AlertView {
        AlertView {
            key,
            class: "error",
            signature_hint: false,
            number: None,
            continue_inn: None,
        }
    }

    pub fn info(key: &'static str) -> AlertView {
        AlertView {
            class: "info",
            ..AlertView::error(key)
        }
    }
}

impl From<Alert> for AlertView {
    fn from(alert: Alert) -> AlertView {
        AlertView {
            signature_hint: alert.link == AlertLink::Signature,
            number: match alert.link {
                AlertLink::Status(n) => Some(n),
                _ => None,
            },
            ..AlertView::error(alert.key)
        }
    }
}

/// What the «Добавить ИНН» tab shows.
#[derive(Default)]
pub struct AddInnView {
    pub inn: String,
    pub inn_error: Option<&'static str>,
    /// The population registry's person: ФИО, address (nothing else).
    pub found: Option<(String, String)>,
    pub ugns_error: Option<&'static str>,
}

/// `GET /register` and the answers to its forms.
#[derive(Template)]
#[template(path = "register.html")]
pub struct RegisterView {
    pub tr: Tr,
    pub lang_links: Vec<(String, String)>,
    pub csrf: String,
    /// `password`, `signature` or `add-inn`.
    pub tab: &'static str,
    pub alert: Option<AlertView>,
    pub legal_entity: bool,
    pub person_type_error: Option<&'static str>,
    pub fields: Vec<FieldView>,
    pub offices: Vec<OfficeOption>,
    pub add_inn: AddInnView,
    /// The «ЭП» tab's form (`tab == "signature"` only).
    pub esig: Option<EsigForm>,
}

/// Language links back to the tab's GET address (a POST answer's own address would 405).
pub fn lang_links(tab: &str) -> Vec<(String, String)> {
    Lang::ALL
        .iter()
        .map(|lang| {
            let href = if tab == "add-inn" || tab == "signature" {
                format!("/register?tab={tab}&lang={}", lang.code())
            } else {
                format!("/register?lang={}", lang.code())
            };
            (lang.code().to_owned(), href)
        })
        .collect()
}

/// Whether a posted form chose «юридическое лицо».
pub fn is_legal_entity(form: &Form) -> bool {
    form.person_type == Some(PersonType::LegalEntity)
}

/// «Заявка на регистрацию сохранена» (manual Рисунок 6).
#[derive(Template)]
#[template(path = "register_saved.html")]
pub struct SavedView {
    pub tr: Tr,
    pub lang_links: Vec<(String, String)>,
    pub number: i64,
    pub office: String,
    pub link_request: bool,
}

/// `GET /register/status/{number}`: status, office and reason only.
#[derive(Template)]
#[template(path = "register_status.html")]
pub struct StatusView {
    pub tr: Tr,
    pub lang_links: Vec<(String, String)>,
    pub number: i64,
    pub status: ApplicationStatus,
    pub link_request: bool,
    pub office: String,
    pub reason: Option<String>,
}

impl StatusView {
    pub fn status_key(&self) -> &'static str {
        match self.status {
            ApplicationStatus::Pending => "register.status.pending",
            ApplicationStatus::Approved => "register.status.approved",
            ApplicationStatus::Rejected => "register.status.rejected",
        }
    }

    pub fn is_pending(&self) -> bool {
        self.status == ApplicationStatus::Pending
    }

    pub fn is_approved(&self) -> bool {
        self.status == ApplicationStatus::Approved
    }
}

/// The office's «004 — УГНС по …» label (the bare code when the list lacks it).
pub fn office_label(offices: &[UgnsOffice], code: &str) -> String {
    offices
        .iter()
        .find(|o| o.code == code)
        .map_or_else(|| code.to_owned(), |o| format!("{} — {}", o.code, o.name))
}

/// Whether an application only links an organization to an existing user.
pub fn is_link_request(kind: ApplicationKind) -> bool {
    kind == ApplicationKind::LinkRequest
}
