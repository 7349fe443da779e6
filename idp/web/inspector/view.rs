//! The inspector console's askama views and what they show: the queue rows, the detail
//! page's comparison of what the applicant entered with the tax registry (differences
//! marked), and the decision result. Dates are shown in Bishkek time (UTC+6, no DST).

use askama::Template;

use crate::registration::approval::{Inspector, RegistryRecord};
use crate::store::{
    Application, ApplicationKind, ApplicationStatus, ForeignTrade, MemberRole, Taxpayer,
    UgnsOffice, User,
};
use crate::web::i18n::{Lang, Tr};

/// Who is signed in, shown on every console page.
pub struct Header {
    pub csrf: String,
    pub inspector_name: String,
    pub inspector_login: String,
    pub offices: Vec<String>,
}

impl Header {
    pub fn new(csrf: &str, inspector: &Inspector, offices: &[UgnsOffice]) -> Header {
        Header {
            csrf: csrf.to_owned(),
            inspector_name: inspector.user.full_name(),
            inspector_login: inspector.user.login.clone(),
            offices: inspector
                .offices
                .iter()
                .map(|code| office_label(code, offices))
                .collect(),
        }
    }
}

/// One application in the queue.
pub struct QueueRow {
    pub number: i64,
    pub date: String,
    pub kind_key: &'static str,
    pub full_name: String,
    pub person_inn: String,
    pub org_name: String,
    pub org_inn: String,
    pub office: String,
}

#[derive(Template)]
#[template(path = "inspector.html")]
pub struct QueueView {
    pub tr: Tr,
    pub lang_links: Vec<(String, String)>,
    pub header: Header,
    pub rows: Vec<QueueRow>,
}

/// One line of the comparison: what was entered, what the registry says.
pub struct CompareRow {
    pub label_key: &'static str,
    pub entered: String,
    pub registry: String,
    pub differs: bool,
}

#[derive(Template)]
#[template(path = "inspector_application.html")]
pub struct ApplicationView {
    pub tr: Tr,
    pub lang_links: Vec<(String, String)>,
    pub header: Header,
    pub number: i64,
    pub date: String,
    pub kind_key: &'static str,
    pub status_key: &'static str,
    pub pending: bool,
    pub office: String,
    pub applicant: Vec<CompareRow>,
    pub organization: Vec<CompareRow>,
    /// R5: the existing account the organization is added to («login — ФИО»).
    pub existing_user: Option<String>,
    /// A decided application: the login handed over, or the rejection reason.
    pub login: Option<String>,
    pub reject_reason: Option<String>,
    /// A refused decision's message.
    pub error: Option<&'static str>,
    /// What the inspector typed as a reason, kept when the page re-renders.
    pub reason: String,
}

#[derive(Template)]
#[template(path = "inspector_result.html")]
pub struct ResultView {
    pub tr: Tr,
    pub lang_links: Vec<(String, String)>,
    pub header: Header,
    pub number: i64,
    pub kind_key: &'static str,
    pub full_name: String,
    pub org_name: Option<String>,
    pub approved: bool,
    /// The login to hand over (approved R1), or the existing user's (R5).
    pub login: String,
    pub generated: bool,
    pub reason: String,
}

/// Language links to a GET page of the console (a POST's own address cannot be reloaded).
pub fn lang_links(path: &str) -> Vec<(String, String)> {
    Lang::ALL
        .iter()
        .map(|l| (l.code().to_owned(), format!("{path}?lang={}", l.code())))
        .collect()
}

/// «004 — УГНС по Первомайскому району», or just the code when the list lacks it.
pub fn office_label(code: &str, offices: &[UgnsOffice]) -> String {
    match offices.iter().find(|o| o.code == code) {
        Some(o) => format!("{} — {}", o.code, o.name),
        None => code.to_owned(),
    }
}

pub fn kind_key(kind: ApplicationKind) -> &'static str {
    match kind {
        ApplicationKind::Person => "inspector.kind.person",
        ApplicationKind::LegalEntity => "inspector.kind.legal_entity",
        ApplicationKind::LinkRequest => "inspector.kind.link_request",
        // Never in an inspector's queue; named in case one is shown anyway.
        ApplicationKind::Branch => "branches.kind.branch",
    }
}

pub fn status_key(status: ApplicationStatus) -> &'static str {
    match status {
        ApplicationStatus::Pending => "inspector.status.pending",
        ApplicationStatus::Approved => "inspector.status.approved",
        ApplicationStatus::Rejected => "inspector.status.rejected",
    }
}

/// `dd.mm.yyyy hh:mm` in Bishkek time.
pub fn bishkek_time(at: i64) -> String {
    let offset = time::UtcOffset::from_hms(6, 0, 0).unwrap_or(time::UtcOffset::UTC);
    match time::OffsetDateTime::from_unix_timestamp(at) {
        Ok(t) => {
            let t = t.to_offset(offset);
            format!(
                "{:02}.{:02}.{} {:02}:{:02}",
                t.day(),
                u8::from(t.month()),
                t.year(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => at.to_string(),
    }
}

pub fn queue_row(application: &Application, offices: &[UgnsOffice]) -> QueueRow {
    QueueRow {
        number: application.number,
        date: bishkek_time(application.created_at),
        kind_key: kind_key(application.kind),
        full_name: application.full_name.clone(),
        person_inn: application.person_inn.clone(),
        org_name: application.org_name.clone().unwrap_or_default(),
        org_inn: application.org_inn.clone().unwrap_or_default(),
        office: office_label(&application.ugns_code, offices),
    }
}

/// Compared loosely: case, repeated spaces and ё/е do not count as differences.
fn same(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
            .replace('ё', "е")
    };
    norm(a) == norm(b)
}

fn compared(label_key: &'static str, entered: &str, registry: Option<&str>, tr: Tr) -> CompareRow {
    CompareRow {
        label_key,
        entered: entered.to_owned(),
        registry: registry
            .unwrap_or(tr.t("inspector.not_in_registry"))
            .to_owned(),
        differs: registry.is_none_or(|r| !same(entered, r)),
    }
}

/// A registry fact with nothing entered to compare it with; `alarm` marks it.
fn fact(label_key: &'static str, registry: String, alarm: bool) -> CompareRow {
    CompareRow {
        label_key,
        entered: String::new(),
        registry,
        differs: alarm,
    }
}

fn yes_no(tr: Tr, value: bool) -> String {
    tr.t(if value {
        "inspector.yes"
    } else {
        "inspector.no"
    })
    .to_owned()
}

fn trade(tr: Tr, trade: ForeignTrade) -> String {
    tr.t(match trade {
        ForeignTrade::None => "inspector.trade.none",
        ForeignTrade::Import => "inspector.trade.import",
        ForeignTrade::Export => "inspector.trade.export",
        ForeignTrade::Both => "inspector.trade.both",
    })
    .to_owned()
}

fn status(tr: Tr, taxpayer: &Taxpayer) -> CompareRow {
    let key = if taxpayer.liquidated {
        "inspector.taxpayer.liquidated"
    } else {
        "inspector.taxpayer.active"
    };
    fact(
        "inspector.field.status",
        tr.t(key).to_owned(),
        taxpayer.liquidated,
    )
}

/// The applicant's rows: ФИО, INN, address (a person's), УГНС (a person's application).
pub fn applicant_rows(
    tr: Tr,
    application: &Application,
    record: &RegistryRecord,
) -> Vec<CompareRow> {
    let person = record.person.as_ref();
    let mut rows = vec![
        compared(
            "inspector.field.full_name",
            &application.full_name,
            person.map(|p| p.name.as_str()),
            tr,
        ),
        compared(
            "inspector.field.inn",
            &application.person_inn,
            person.map(|p| p.inn.as_str()),
            tr,
        ),
    ];
    if application.kind == ApplicationKind::Person {
        rows.push(compared(
            "inspector.field.address",
            &application.address,
            person.map(|p| p.address.as_str()),
            tr,
        ));
        rows.push(compared(
            "inspector.field.ugns",
            &application.ugns_code,
            person.map(|p| p.ugns_code.as_str()),
            tr,
        ));
    } else if let Some(p) = person {
        rows.push(fact("inspector.field.address", p.address.clone(), false));
    }
    if let Some(p) = person {
        rows.push(status(tr, p));
    }
    rows
}

/// The organization's rows (legal entity and link request): what was entered beside the
/// registry, then the registry's facts and the applicant's role in it.
pub fn organization_rows(
    tr: Tr,
    application: &Application,
    record: &RegistryRecord,
) -> Vec<CompareRow> {
    if application.kind == ApplicationKind::Person {
        return Vec::new();
    }
    let org = record.organization.as_ref();
    let mut rows = vec![
        compared(
            "inspector.field.org_inn",
            application.org_inn.as_deref().unwrap_or(""),
            org.map(|o| o.inn.as_str()),
            tr,
        ),
        compared(
            "inspector.field.org_name",
            application.org_name.as_deref().unwrap_or(""),
            org.map(|o| o.name.as_str()),
            tr,
        ),
        compared(
            "inspector.field.address",
            &application.address,
            org.map(|o| o.address.as_str()),
            tr,
        ),
        compared(
            "inspector.field.ugns",
            &application.ugns_code,
            org.map(|o| o.ugns_code.as_str()),
            tr,
        ),
    ];
    let Some(org) = org else {
        return rows;
    };
    let vat = match (&org.vat_reg_date, org.vat_payer) {
        (Some(date), true) => format!("{} ({date})", yes_no(tr, true)),
        _ => yes_no(tr, org.vat_payer),
    };
    rows.push(fact("inspector.field.vat", vat, false));
    rows.push(fact(
        "inspector.field.foreign_trade",
        trade(tr, org.foreign_trade),
        false,
    ));
    if let Some(parent) = &org.parent_inn {
        rows.push(fact("inspector.field.parent_inn", parent.clone(), false));
    }
    let pin = |p: &Option<String>| p.clone().unwrap_or_else(|| "—".into());
    rows.push(fact("inspector.field.head_pin", pin(&org.head_pin), false));
    rows.push(fact(
        "inspector.field.accountant_pin",
        pin(&org.accountant_pin),
        false,
    ));
    let role = match record.role {
        Some(MemberRole::Head) => "inspector.role.head",
        Some(MemberRole::Accountant) => "inspector.role.accountant",
        _ => "inspector.role.none",
    };
    rows.push(fact(
        "inspector.field.role",
        tr.t(role).to_owned(),
        record.role.is_none(),
    ));
    rows.push(status(tr, org));
    rows
}

/// «login — ФИО» of the R5 applicant's existing account.
pub fn existing_user_label(user: &User) -> String {
    format!("{} — {}", user.login, user.full_name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_bishkek_local() {
        // 2026-01-31 20:30 UTC is 1 February, 02:30 in Bishkek.
        assert_eq!(bishkek_time(1_769_891_400), "01.02.2026 02:30");
    }

    #[test]
    fn keys_chosen_in_code_are_in_the_catalogue() {
        use crate::registration::approval::Refusal;
        let refusals = [
            Refusal::PassportNotConfirmed,
            Refusal::ReasonMissing,
            Refusal::ReasonTooLong,
            Refusal::AlreadyDecided,
            Refusal::UserExists,
            Refusal::ApplicantUnknown,
            Refusal::OrganizationUnknown,
            Refusal::NotLegalEntity,
            Refusal::OrganizationLiquidated,
            Refusal::NotHeadOrAccountant,
            Refusal::NameUnreadable,
        ];
        let mut keys: Vec<&str> = refusals.iter().map(|r| r.message_key()).collect();
        keys.extend(
            [
                ApplicationKind::Person,
                ApplicationKind::LegalEntity,
                ApplicationKind::LinkRequest,
            ]
            .map(kind_key),
        );
        keys.extend(
            [
                ApplicationStatus::Pending,
                ApplicationStatus::Approved,
                ApplicationStatus::Rejected,
            ]
            .map(status_key),
        );
        keys.extend([
            "inspector.forbidden",
            "inspector.not_in_registry",
            "inspector.yes",
            "inspector.no",
            "inspector.trade.none",
            "inspector.trade.import",
            "inspector.trade.export",
            "inspector.trade.both",
            "inspector.taxpayer.active",
            "inspector.taxpayer.liquidated",
            "inspector.role.head",
            "inspector.role.accountant",
            "inspector.role.none",
            "inspector.field.full_name",
            "inspector.field.inn",
            "inspector.field.address",
            "inspector.field.ugns",
            "inspector.field.org_inn",
            "inspector.field.org_name",
            "inspector.field.vat",
            "inspector.field.foreign_trade",
            "inspector.field.parent_inn",
            "inspector.field.head_pin",
            "inspector.field.accountant_pin",
            "inspector.field.role",
            "inspector.field.status",
        ]);
        for key in keys {
            for lang in Lang::ALL {
                assert_ne!(crate::web::i18n::t(lang, key), key, "{key} missing");
            }
        }
    }

    #[test]
    fn loose_comparison() {
        assert!(same("Демонов  Азамат ", "демонов азамат"));
        assert!(same("Пётр", "Петр"));
        assert!(!same("Демонов Азамат", "Демонов Бакыт"));
    }
}
