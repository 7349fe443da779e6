//! The inspector's side of registration (R3, R5, D3): who is an inspector, which
//! applications they may see, what the tax registry says about an applicant, and the two
//! decisions — approve (only after the passport was presented in person) and reject (only
//! with a reason). Every decision is written to the audit log.
//!
//! Office isolation: an inspector sees and decides only applications whose УГНС code is one
//! of their offices; for anyone else an application of another office does not exist.
//!
//! ## Login generation
//!
//! Approving a person's or a legal entity's application creates the user with the login
//! `INN + NNN`: the person's 14-digit INN followed by the smallest three-digit suffix from
//! `001` that no login uses yet (`21207198599011001`, then `…002` if `…001` is taken). It is
//! unique (chosen and stored in the store's approval transaction, so concurrent approvals
//! never get the same login), deterministic given the existing logins, and easy to read over
//! the phone (digits only, the INN the taxpayer already knows plus three digits). A link
//! request (R5) creates no login: the organization account is added to the existing user.

use crate::adapters::TaxRegistry;
use crate::error::Error;
use crate::store::{
    AccountKind, Application, ApplicationKind, ApplicationStatus, AuditEvent, MemberRole,
    Organization, Store, StoreError, Taxpayer, UnixTime, User,
};

/// The longest rejection reason kept (characters).
pub const MAX_REASON_CHARS: usize = 1000;

/// A signed-in user with the inspector role: the УГНС offices they decide for.
#[derive(Debug, Clone)]
pub struct Inspector {
    pub user: User,
    /// Never empty.
    pub offices: Vec<String>,
}

impl Inspector {
    /// `user` as an inspector, or `None` when they inspect no office.
    pub async fn of(store: &dyn Store, user: User) -> Result<Option<Inspector>, StoreError> {
        let offices = store.inspector_offices(&user.id).await?;
        Ok((!offices.is_empty()).then_some(Inspector { user, offices }))
    }

    /// Whether the application belongs to one of this inspector's offices. Branch
    /// applications never do: the head organization's head decides them (R10, D4).
    pub fn covers(&self, application: &Application) -> bool {
        application.kind != ApplicationKind::Branch && self.offices.contains(&application.ugns_code)
    }
}

/// Why a decision was not taken; nothing changed. Each has a message for the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown number, or an application of another office.
    NotFound,
    /// «Паспорт предъявлен» was not ticked.
    PassportNotConfirmed,
    ReasonMissing,
    ReasonTooLong,
    /// Approved or rejected already (perhaps a moment ago by another inspector).
    AlreadyDecided,
    /// A user with the applicant's INN is already registered.
    UserExists,
    /// R5: the user who asked for the link no longer exists.
    ApplicantUnknown,
    OrganizationUnknown,
    NotLegalEntity,
    OrganizationLiquidated,
    /// The applicant is neither the head nor the accountant in the registry.
    NotHeadOrAccountant,
    /// The ФИО does not split into «Фамилия Имя [Отчество]».
    NameUnreadable,
}

impl Refusal {
    /// Catalogue key of the message.
    pub fn message_key(self) -> &'static str {
        match self {
            Refusal::NotFound => "error.not_found",
            Refusal::PassportNotConfirmed => "inspector.error.passport",
            Refusal::ReasonMissing => "inspector.error.reason",
            Refusal::ReasonTooLong => "inspector.error.reason_long",
            Refusal::AlreadyDecided => "inspector.error.decided",
            Refusal::UserExists => "inspector.error.user_exists",
            Refusal::ApplicantUnknown => "inspector.error.applicant_unknown",
            Refusal::OrganizationUnknown => "inspector.error.org_unknown",
            Refusal::NotLegalEntity => "inspector.error.not_legal_entity",
            Refusal::OrganizationLiquidated => "inspector.error.liquidated",
            Refusal::NotHeadOrAccountant => "inspector.error.not_head",
            Refusal::NameUnreadable => "inspector.error.name",
        }
    }

    /// A state conflict (409) rather than a form mistake (422).
    pub fn is_conflict(self) -> bool {
        !matches!(
            self,
            Refusal::PassportNotConfirmed | Refusal::ReasonMissing | Refusal::ReasonTooLong
        )
    }
}

/// What approving did.
#[derive(Debug, Clone)]
pub struct Approved {
    pub application: Application,
    pub user_id: String,
    /// The generated login (R1), or the existing user's login (R5).
    pub login: String,
    /// Whether `login` was generated now (false for a link request).
    pub generated: bool,
}

/// The tax registry's view of an application.
#[derive(Debug, Clone, Default)]
pub struct RegistryRecord {
    /// The applicant (`None`: the registry does not know the INN).
    pub person: Option<Taxpayer>,
    /// The organization of a legal-entity application or link request.
    pub organization: Option<Taxpayer>,
    /// The applicant's role in that organization, if any.
    pub role: Option<MemberRole>,
}

/// The pending applications of the inspector's offices, oldest first.
pub async fn queue(store: &dyn Store, inspector: &Inspector) -> Result<Vec<Application>, Error> {
    let mut pending = store.pending_applications(&inspector.offices).await?;
    pending.retain(|a| inspector.covers(a) && a.status == ApplicationStatus::Pending);
    pending.sort_by_key(|a| (a.created_at, a.number));
    Ok(pending)
}

/// Application `number` if this inspector may see it (`None` also for another office's).
pub async fn application_for(
    store: &dyn Store,
    inspector: &Inspector,
    number: i64,
) -> Result<Option<Application>, Error> {
    Ok(store
        .application(number)
        .await?
        .filter(|a| inspector.covers(a)))
}

/// The applicant's role in an organization according to the registry.
pub fn applicant_role(organization: &Taxpayer, person_inn: &str) -> Option<MemberRole> {
    if organization.head_pin.as_deref() == Some(person_inn) {
        Some(MemberRole::Head)
    } else if organization.accountant_pin.as_deref() == Some(person_inn) {
        Some(MemberRole::Accountant)
    } else {
        None
    }
}

/// The organization account built from the registry's record.
pub fn organization_from(taxpayer: &Taxpayer) -> Result<Organization, Refusal> {
    let kind = match taxpayer.kind {
        crate::store::TaxpayerKind::Organization => AccountKind::Organization,
        crate::store::TaxpayerKind::Branch => AccountKind::Branch,
        _ => return Err(Refusal::NotLegalEntity),
    };
    Ok(Organization {
        inn: taxpayer.inn.clone(),
        name: taxpayer.name.clone(),
        ugns_code: taxpayer.ugns_code.clone(),
        kind,
        parent_inn: taxpayer.parent_inn.clone(),
        liquidated: taxpayer.liquidated,
    })
}

/// What the registry knows about the applicant and their organization.
pub async fn registry_record(
    registry: &dyn TaxRegistry,
    application: &Application,
) -> Result<RegistryRecord, Error> {
    let person = registry.taxpayer(&application.person_inn).await?;
    let organization = match (&application.kind, &application.org_inn) {
        (ApplicationKind::Person, _) | (_, None) => None,
        (_, Some(inn)) => registry.taxpayer(inn).await?,
    };
    let role = organization
        .as_ref()
        .and_then(|o| applicant_role(o, &application.person_inn));
    Ok(RegistryRecord {
        person,
        organization,
        role,
    })
}

/// The organization and role an approval adds, checked against the registry.
async fn organization_to_add(
    registry: &dyn TaxRegistry,
    application: &Application,
) -> Result<Result<Option<(Organization, MemberRole)>, Refusal>, Error> {
    if application.kind == ApplicationKind::Person {
        return Ok(Ok(None));
    }
    let Some(org_inn) = application.org_inn.as_deref() else {
        return Ok(Err(Refusal::OrganizationUnknown));
    };
    let Some(taxpayer) = registry.taxpayer(org_inn).await? else {
        return Ok(Err(Refusal::OrganizationUnknown));
    };
    let organization = match organization_from(&taxpayer) {
        Ok(o) => o,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if organization.liquidated {
        return Ok(Err(Refusal::OrganizationLiquidated));
    }
    match applicant_role(&taxpayer, &application.person_inn) {
        Some(role) => Ok(Ok(Some((organization, role)))),
        None => Ok(Err(Refusal::NotHeadOrAccountant)),
    }
}

/// Approves application `number` for `inspector`: only when `passport_checked`, the
/// application is theirs and pending, and the registry still supports it.
pub async fn approve(
    store: &dyn Store,
    registry: &dyn TaxRegistry,
    inspector: &Inspector,
    number: i64,
    passport_checked: bool,
    now: UnixTime,
) -> Result<Result<Approved, Refusal>, Error> {
    let Some(application) = application_for(store, inspector, number).await? else {
        return Ok(Err(Refusal::NotFound));
    };
    if application.status != ApplicationStatus::Pending {
        return Ok(Err(Refusal::AlreadyDecided));
    }
    if !passport_checked {
        return Ok(Err(Refusal::PassportNotConfirmed));
    }
    let existing = match application.kind {
        // `covers` keeps branch applications away; should one get here, it links like R5.
        ApplicationKind::LinkRequest | ApplicationKind::Branch => {
            let id = application.existing_user_id.as_deref().unwrap_or("");
            match store.user_by_id(id).await? {
                Some(user) => Some(user),
                None => return Ok(Err(Refusal::ApplicantUnknown)),
            }
        }
        ApplicationKind::Person | ApplicationKind::LegalEntity => {
            if store.user_by_inn(&application.person_inn).await?.is_some() {
                return Ok(Err(Refusal::UserExists));
            }
            None
        }
    };
    let organization = match organization_to_add(registry, &application).await? {
        Ok(o) => o,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let names = match crate::cli::split_name(&application.full_name) {
        Ok(names) => names,
        Err(_) if existing.is_some() => {
            (application.full_name.trim().to_owned(), String::new(), None)
        }
        Err(_) => return Ok(Err(Refusal::NameUnreadable)),
    };
    let approval = match store
        .approve_application(
            number,
            &inspector.user.id,
            (&names.0, &names.1, names.2.as_deref()),
            organization.as_ref().map(|(o, r)| (o, *r)),
            now,
        )
        .await
    {
        Ok(approval) => approval,
        Err(StoreError::Conflict(what)) if what == "application" => {
            return Ok(Err(Refusal::AlreadyDecided))
        }
        Err(StoreError::Conflict(_)) => return Ok(Err(Refusal::UserExists)),
        Err(StoreError::NotFound(_)) => return Ok(Err(Refusal::ApplicantUnknown)),
        Err(e) => return Err(e.into()),
    };
    let (login, generated) = match (&approval.login, &existing) {
        (Some(login), _) => (login.clone(), true),
        (None, Some(user)) => (user.login.clone(), false),
        (None, None) => (
            store
                .user_by_id(&approval.user_id)
                .await?
                .map(|u| u.login)
                .unwrap_or_default(),
            false,
        ),
    };
    let detail = serde_json::json!({
        "application": number,
        "kind": application.kind.as_str(),
        "ugns_code": application.ugns_code,
        "person_inn": application.person_inn,
        "org_inn": application.org_inn,
        "role": organization.as_ref().map(|(_, r)| r.as_str()),
        "inspector_id": inspector.user.id,
        "inspector_login": inspector.user.login,
        "passport_checked": true,
        "user_id": approval.user_id,
        "login": login,
        "login_generated": generated,
    });
    audit(
        store,
        "registration.approve",
        inspector,
        number,
        now,
        detail,
    )
    .await;
    Ok(Ok(Approved {
        application: approval.application,
        user_id: approval.user_id,
        login,
        generated,
    }))
}

/// Rejects application `number` for `inspector` with a (mandatory) reason.
pub async fn reject(
    store: &dyn Store,
    inspector: &Inspector,
    number: i64,
    reason: &str,
    now: UnixTime,
) -> Result<Result<Application, Refusal>, Error> {
    let Some(application) = application_for(store, inspector, number).await? else {
        return Ok(Err(Refusal::NotFound));
    };
    if application.status != ApplicationStatus::Pending {
        return Ok(Err(Refusal::AlreadyDecided));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Ok(Err(Refusal::ReasonMissing));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Ok(Err(Refusal::ReasonTooLong));
    }
    let rejected = match store
        .reject_application(number, &inspector.user.id, reason, now)
        .await
    {
        Ok(a) => a,
        Err(StoreError::Conflict(_)) => return Ok(Err(Refusal::AlreadyDecided)),
        Err(e) => return Err(e.into()),
    };
    let detail = serde_json::json!({
        "application": number,
        "kind": application.kind.as_str(),
        "ugns_code": application.ugns_code,
        "person_inn": application.person_inn,
        "org_inn": application.org_inn,
        "inspector_id": inspector.user.id,
        "inspector_login": inspector.user.login,
        "reason": reason,
    });
    audit(store, "registration.reject", inspector, number, now, detail).await;
    Ok(Ok(rejected))
}

/// D6: the decision is already committed, so a failure to record it is logged loudly
/// rather than undoing the decision.
async fn audit(
    store: &dyn Store,
    kind: &str,
    inspector: &Inspector,
    number: i64,
    now: UnixTime,
    detail: serde_json::Value,
) {
    let event = AuditEvent {
        at: now,
        kind: kind.into(),
        actor: Some(inspector.user.id.clone()),
        subject: Some(number.to_string()),
        detail,
    };
    if let Err(e) = store.record(&event).await {
        tracing::error!(error = %e, kind, application = number, "audit event not recorded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ForeignTrade, TaxpayerKind};

    fn org(kind: TaxpayerKind) -> Taxpayer {
        Taxpayer {
            inn: "01503201699001".into(),
            kind,
            legal_form: Some("ОсОО".into()),
            name: "ОсОО «ДЕМО»".into(),
            address: "г. Бишкек".into(),
            ugns_code: "004".into(),
            vat_payer: false,
            vat_reg_date: None,
            foreign_trade: ForeignTrade::None,
            parent_inn: Some("02006201199003".into()),
            head_pin: Some("21207198599011".into()),
            accountant_pin: Some("11908199599014".into()),
            large_taxpayer: false,
            liquidated: false,
        }
    }

    #[test]
    fn role_from_registry() {
        let o = org(TaxpayerKind::Organization);
        assert_eq!(applicant_role(&o, "21207198599011"), Some(MemberRole::Head));
        assert_eq!(
            applicant_role(&o, "11908199599014"),
            Some(MemberRole::Accountant)
        );
        assert_eq!(applicant_role(&o, "20101197099015"), None);
    }

    #[test]
    fn organization_kind_from_taxpayer_kind() {
        let o = organization_from(&org(TaxpayerKind::Organization)).unwrap();
        assert_eq!(o.kind, AccountKind::Organization);
        assert_eq!(o.ugns_code, "004");
        let b = organization_from(&org(TaxpayerKind::Branch)).unwrap();
        assert_eq!(b.kind, AccountKind::Branch);
        assert_eq!(b.parent_inn.as_deref(), Some("02006201199003"));
        assert_eq!(
            organization_from(&org(TaxpayerKind::Entrepreneur)),
            Err(Refusal::NotLegalEntity)
        );
    }

    #[test]
    fn form_mistakes_are_not_conflicts() {
        assert!(!Refusal::PassportNotConfirmed.is_conflict());
        assert!(!Refusal::ReasonMissing.is_conflict());
        assert!(Refusal::AlreadyDecided.is_conflict());
    }
}
