//! Registration by electronic signature (R6, R9, R10, R11): the certificate holder is
//! registered at once, from the certificate and the tax registry, with no inspector. A
//! person's certificate gives the personal account; a certificate naming an organization
//! also gives that organization's account, if the registry says the holder is its head or
//! accountant; «Я филиал» files a branch application that the head organization's head
//! decides (R10). The signature itself was verified before this module is called.
//!
//! Automatic registrations go through the same application records and the same atomic
//! approval as the inspector's (login generation included), decided by [`DECIDER`], so
//! every account has an application behind it and one audit trail.

use crate::error::Error;
use crate::esig::SignerIdentity;
use crate::registration::approval::{applicant_role, organization_from};
use crate::state::AppState;
use crate::store::{
    AccountKind, Application, ApplicationKind, MemberRole, NewApplication, Organization,
    StoreError, Taxpayer, User,
};

/// Who "decided" an application that a signature approved by itself.
pub const DECIDER: &str = "esig";

/// What registering did (also what the result page shows).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Registered {
    /// A new user (and, for an organization certificate, its organization account), or a new
    /// organization account for an existing user.
    Account {
        user_id: String,
        login: String,
        /// The login was created now (a new user).
        new_user: bool,
        organization: Option<(String, String)>,
    },
    /// R10: a branch application waits for the head organization's head.
    BranchApplied {
        number: i64,
        branch_inn: String,
        head_inn: String,
    },
}

/// Why a certificate holder cannot be registered. `code()` is the JSON API error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// R11: «Ошибка регистрации. Такой пользователь уже существует».
    AlreadyRegistered,
    /// The tax registry does not know the person («Не найден пользователь»).
    PersonNotFound,
    PersonLiquidated,
    OrganizationNotFound,
    OrganizationLiquidated,
    /// The certificate's organization INN belongs to a person or an entrepreneur.
    NotLegalEntity,
    /// The registry names someone else as head and accountant.
    NotHeadOrAccountant,
    /// The organization is a branch: register it with «Я филиал».
    BranchNeedsHead,
    /// «Я филиал» needs a certificate that names the branch (an organization certificate).
    BranchNeedsOrganizationCertificate,
    /// «ИНН организации» is missing or not a valid INN.
    HeadInnInvalid,
    /// The branch rules (R10) refused; the key says why.
    Branch(&'static str),
    /// The certificate's name does not split into «Фамилия Имя [Отчество]».
    NameUnreadable,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::AlreadyRegistered => "already_registered",
            Refusal::PersonNotFound => "person_not_found",
            Refusal::PersonLiquidated => "person_liquidated",
            Refusal::OrganizationNotFound => "organization_not_found",
            Refusal::OrganizationLiquidated => "organization_liquidated",
            Refusal::NotLegalEntity => "not_legal_entity",
            Refusal::NotHeadOrAccountant => "not_head_or_accountant",
            Refusal::BranchNeedsHead => "branch_needs_head",
            Refusal::BranchNeedsOrganizationCertificate => "branch_needs_organization_certificate",
            Refusal::HeadInnInvalid => "head_inn_invalid",
            Refusal::Branch(_) => "branch_refused",
            Refusal::NameUnreadable => "name_unreadable",
        }
    }

    /// Catalogue key of the message.
    pub fn message_key(&self) -> &'static str {
        match self {
            Refusal::AlreadyRegistered => "esig.register.already_registered",
            Refusal::PersonNotFound => "esig.register.person_not_found",
            Refusal::PersonLiquidated => "esig.register.person_liquidated",
            Refusal::OrganizationNotFound => "esig.register.organization_not_found",
            Refusal::OrganizationLiquidated => "esig.register.organization_liquidated",
            Refusal::NotLegalEntity => "esig.register.not_legal_entity",
            Refusal::NotHeadOrAccountant => "esig.register.not_head_or_accountant",
            Refusal::BranchNeedsHead => "esig.register.branch_needs_head",
            Refusal::BranchNeedsOrganizationCertificate => {
                "esig.register.branch_needs_organization_certificate"
            }
            Refusal::HeadInnInvalid => "esig.register.head_inn_invalid",
            Refusal::Branch(key) => key,
            Refusal::NameUnreadable => "esig.register.name_unreadable",
        }
    }
}

type Outcome = Result<Result<Registered, Refusal>, Error>;

/// Registers the holder of a verified signature. `branch_of` is «ИНН организации» of the head
/// organization when «Я филиал» was chosen.
pub async fn register(
    state: &AppState,
    signer: &SignerIdentity,
    branch_of: Option<&str>,
) -> Outcome {
    let now = crate::clock::now();
    let registry = state.tax_registry.as_ref();
    let Some(person) = registry.taxpayer(&signer.person_inn).await? else {
        return Ok(Err(Refusal::PersonNotFound));
    };
    if person.liquidated {
        return Ok(Err(Refusal::PersonLiquidated));
    }
    if person.kind.is_legal_entity() {
        // A person's INN field holding an organization's: the certificate profile is wrong.
        return Ok(Err(Refusal::NotLegalEntity));
    }
    let existing = state.store.user_by_inn(&person.inn).await?;

    if let Some(head_inn) = branch_of {
        let Some(branch_inn) = signer.organization_inn.as_deref() else {
            return Ok(Err(Refusal::BranchNeedsOrganizationCertificate));
        };
        let Ok(head_inn) = crate::accounts::inn::normalize_inn(head_inn, false) else {
            return Ok(Err(Refusal::HeadInnInvalid));
        };
        let (user, created) = match existing {
            Some(user) => (user, None),
            None => match create_person(state, &person, signer, now).await? {
                Ok((user, login)) => (user, Some(login)),
                Err(refusal) => return Ok(Err(refusal)),
            },
        };
        return match crate::registration::branch::apply(state, &user, branch_inn, &head_inn, now)
            .await?
        {
            Ok(application) => Ok(Ok(Registered::BranchApplied {
                number: application.number,
                branch_inn: branch_inn.to_owned(),
                head_inn,
            })),
            Err(refusal) => {
                if created.is_some() {
                    // The person is registered all the same: their own account is theirs.
                    tracing::info!(user_id = %user.id, "registered by signature; branch application refused");
                }
                Ok(Err(Refusal::Branch(refusal.message_key())))
            }
        };
    }

    let Some(org_inn) = signer.organization_inn.as_deref() else {
        // A person's certificate: the personal account only.
        if existing.is_some() {
            return Ok(Err(Refusal::AlreadyRegistered));
        }
        return Ok(match create_person(state, &person, signer, now).await? {
            Ok((user, login)) => Ok(Registered::Account {
                user_id: user.id,
                login,
                new_user: true,
                organization: None,
            }),
            Err(refusal) => Err(refusal),
        });
    };

    let (organization, role) = match organization_and_role(state, org_inn, &person.inn).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if let Some(user) = &existing {
        let memberships = state.store.memberships_of_user(&user.id).await?;
        if memberships
            .iter()
            .any(|(m, _)| m.org_inn == organization.inn)
        {
            return Ok(Err(Refusal::AlreadyRegistered));
        }
    }
    // An existing user gets the organization added (a link request); else a new user with it.
    let application = NewApplication {
        kind: if existing.is_some() {
            ApplicationKind::LinkRequest
        } else {
            ApplicationKind::LegalEntity
        },
        existing_user_id: existing.as_ref().map(|u| u.id.clone()),
        ..new_application(&person, signer, Some(&organization))
    };
    let organization_account = (&organization, role);
    let approval = match approve(
        state,
        &application,
        &person,
        signer,
        Some(organization_account),
        now,
    )
    .await?
    {
        Ok(approval) => approval,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let (user_id, login, new_user) = match existing {
        Some(user) => (user.id, user.login, false),
        None => (approval.user_id, approval.login.unwrap_or_default(), true),
    };
    Ok(Ok(Registered::Account {
        user_id,
        login,
        new_user,
        organization: Some((organization.inn.clone(), organization.name.clone())),
    }))
}

/// The organization the certificate names, as an account, and the holder's role in it.
async fn organization_and_role(
    state: &AppState,
    org_inn: &str,
    person_inn: &str,
) -> Result<Result<(Organization, MemberRole), Refusal>, Error> {
    let Some(taxpayer) = state.tax_registry.taxpayer(org_inn).await? else {
        return Ok(Err(Refusal::OrganizationNotFound));
    };
    let Ok(organization) = organization_from(&taxpayer) else {
        return Ok(Err(Refusal::NotLegalEntity));
    };
    if organization.kind == AccountKind::Branch {
        return Ok(Err(Refusal::BranchNeedsHead));
    }
    if organization.liquidated {
        return Ok(Err(Refusal::OrganizationLiquidated));
    }
    match applicant_role(&taxpayer, person_inn) {
        Some(role) => Ok(Ok((organization, role))),
        None => Ok(Err(Refusal::NotHeadOrAccountant)),
    }
}

fn new_application(
    person: &Taxpayer,
    signer: &SignerIdentity,
    organization: Option<&Organization>,
) -> NewApplication {
    NewApplication {
        kind: ApplicationKind::Person,
        ugns_code: organization.map_or_else(|| person.ugns_code.clone(), |o| o.ugns_code.clone()),
        person_inn: person.inn.clone(),
        full_name: person_name(person, signer),
        address: person.address.clone(),
        org_inn: organization.map(|o| o.inn.clone()),
        org_name: organization.map(|o| o.name.clone()),
        password_hash: None,
        existing_user_id: None,
        head_inn: None,
    }
}

/// The registry's «Фамилия Имя Отчество», else the certificate's common name.
fn person_name(person: &Taxpayer, signer: &SignerIdentity) -> String {
    if crate::cli::split_name(&person.name).is_ok() {
        person.name.clone()
    } else {
        signer.common_name.clone().unwrap_or_default()
    }
}

async fn create_person(
    state: &AppState,
    person: &Taxpayer,
    signer: &SignerIdentity,
    now: i64,
) -> Result<Result<(User, String), Refusal>, Error> {
    let application = new_application(person, signer, None);
    match approve(state, &application, person, signer, None, now).await? {
        Ok(approval) => {
            let user = state
                .store
                .user_by_id(&approval.user_id)
                .await?
                .ok_or_else(|| Error::internal(anyhow::anyhow!("approved user vanished")))?;
            Ok(Ok((user, approval.login.unwrap_or_default())))
        }
        Err(refusal) => Ok(Err(refusal)),
    }
}

/// Files the application and approves it at once, atomically as the inspector's approval is.
async fn approve(
    state: &AppState,
    application: &NewApplication,
    person: &Taxpayer,
    signer: &SignerIdentity,
    organization: Option<(&Organization, MemberRole)>,
    now: i64,
) -> Result<Result<crate::store::Approval, Refusal>, Error> {
    let Ok((family, given, middle)) = crate::cli::split_name(&application.full_name) else {
        return Ok(Err(Refusal::NameUnreadable));
    };
    let filed: Application = state.store.create_application(application, now).await?;
    let approval = match state
        .store
        .approve_application(
            filed.number,
            DECIDER,
            (&family, &given, middle.as_deref()),
            organization,
            now,
        )
        .await
    {
        Ok(approval) => approval,
        Err(StoreError::Conflict(_)) => {
            // Registered a moment ago by a concurrent attempt (R11); this application stays
            // rejected so no inspector ever sees it.
            let _ = state
                .store
                .reject_application(filed.number, DECIDER, "duplicate", now)
                .await;
            return Ok(Err(Refusal::AlreadyRegistered));
        }
        Err(e) => return Err(e.into()),
    };
    let event = crate::store::AuditEvent {
        at: now,
        kind: "registration.signature".into(),
        actor: Some(approval.user_id.clone()),
        subject: Some(filed.number.to_string()),
        detail: serde_json::json!({
            "application": filed.number,
            "kind": application.kind.as_str(),
            "person_inn": person.inn,
            "org_inn": application.org_inn,
            "role": organization.map(|(_, r)| r.as_str()),
            "login": approval.login,
            "certificate": {
                "serial": signer.certificate.serial_hex,
                "issuer": signer.certificate.issuer,
                "thumbprint": signer.certificate.thumbprint_sha256_hex,
            },
        }),
    };
    if let Err(e) = state.store.record(&event).await {
        tracing::warn!(error = %e, "audit event not recorded");
    }
    Ok(Ok(approval))
}
