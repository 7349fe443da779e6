//! The head organization's side of branch registration (D4): who may see and decide a
//! branch application — the head of its head organization, in the cabinet (an unblocked
//! membership with role head) *and* in the tax registry (`head_pin`) — the queue of the page
//! «Филиалы головной организации», and the two decisions with their audit events
//! (`branch.confirmed`, `branch.rejected`). Someone with no link to the head organization is
//! told an application does not exist (404); someone linked to it who is not its head is
//! refused (403).

use super::{audit, check_branch, registry_pair};
use crate::error::Error;
use crate::registration::approval::MAX_REASON_CHARS;
use crate::state::AppState;
use crate::store::{
    AccountKind, Application, ApplicationKind, ApplicationStatus, MemberRole, Membership,
    Organization, StoreError, Taxpayer, UnixTime, User,
};

/// How a signed-in user stands towards a head organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Its head in the cabinet (unblocked membership with role head) and in the registry
    /// (`head_pin`), and it is not liquidated: decides its branches' applications.
    Head,
    /// Linked to it (any membership, or `head_pin` alone) without being its head.
    Related,
    /// No link at all: its applications do not exist for this user.
    Stranger,
}

/// The standing of the user with INN `user_inn` and these memberships towards the head
/// organization `head_inn`, whose registry record is `registry` (if any).
pub fn standing(
    memberships: &[(Membership, Organization)],
    registry: Option<&Taxpayer>,
    user_inn: &str,
    head_inn: &str,
) -> Standing {
    let membership = memberships.iter().find(|(m, _)| m.org_inn == head_inn);
    let head_in_cabinet =
        membership.is_some_and(|(m, o)| m.role == MemberRole::Head && !m.blocked && !o.liquidated);
    let head_in_registry = registry.is_some_and(|t| t.head_pin.as_deref() == Some(user_inn));
    let alive = registry.is_some_and(|t| !t.liquidated);
    if head_in_cabinet && head_in_registry && alive {
        Standing::Head
    } else if membership.is_some() || head_in_registry {
        Standing::Related
    } else {
        Standing::Stranger
    }
}

/// Why a decision (or a look at an application) was not allowed; nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionRefusal {
    /// Unknown number, not a branch application, or one of an organization the user has no
    /// link to (404: do not reveal it).
    NotFound,
    /// Linked to the head organization but not its head in both the cabinet and the
    /// registry (403).
    NotHead,
    AlreadyDecided,
    ReasonMissing,
    ReasonTooLong,
    /// The applicant's user no longer exists.
    ApplicantUnknown,
    /// The applicant already has the branch account (e.g. a duplicate confirmed before).
    AlreadyMember,
    /// The registry no longer supports the application (the branch moved to another head,
    /// was liquidated, the applicant left): it can only be rejected.
    RegistryChanged,
}

impl DecisionRefusal {
    pub fn message_key(self) -> &'static str {
        match self {
            DecisionRefusal::NotFound => "error.not_found",
            DecisionRefusal::NotHead => "branches.forbidden",
            DecisionRefusal::AlreadyDecided => "branches.error.decided",
            DecisionRefusal::ReasonMissing => "branches.error.reason",
            DecisionRefusal::ReasonTooLong => "branches.error.reason_long",
            DecisionRefusal::ApplicantUnknown => "branches.error.applicant_unknown",
            DecisionRefusal::AlreadyMember => "branches.error.already_member",
            DecisionRefusal::RegistryChanged => "branches.error.registry",
        }
    }

    /// The HTTP status a page answers with.
    pub fn status(self) -> u16 {
        match self {
            DecisionRefusal::NotFound => 404,
            DecisionRefusal::NotHead => 403,
            DecisionRefusal::ReasonMissing | DecisionRefusal::ReasonTooLong => 422,
            _ => 409,
        }
    }
}

/// The organizations `user` heads in the cabinet and in the registry ([`Standing::Head`]),
/// by name.
pub async fn headed_organizations(
    state: &AppState,
    user: &User,
) -> Result<Vec<Organization>, Error> {
    let memberships = state.store.memberships_of_user(&user.id).await?;
    let mut headed = Vec::new();
    for (membership, org) in &memberships {
        if membership.role != MemberRole::Head || membership.blocked {
            continue;
        }
        let registry = state.tax_registry.taxpayer(&org.inn).await?;
        if standing(&memberships, registry.as_ref(), &user.inn, &org.inn) == Standing::Head {
            headed.push(org.clone());
        }
    }
    headed.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(headed)
}

/// The pending branch applications of the organizations `headed` (from
/// [`headed_organizations`]), oldest first.
pub async fn queue(state: &AppState, headed: &[Organization]) -> Result<Vec<Application>, Error> {
    let inns: Vec<String> = headed.iter().map(|o| o.inn.clone()).collect();
    Ok(state.store.pending_branch_applications(&inns).await?)
}

/// Branch application `number`, if `user` may see and decide it (decided ones included).
pub async fn application_for(
    state: &AppState,
    user: &User,
    number: i64,
) -> Result<Result<Application, DecisionRefusal>, Error> {
    let Some(application) = state
        .store
        .application(number)
        .await?
        .filter(|a| a.kind == ApplicationKind::Branch)
    else {
        return Ok(Err(DecisionRefusal::NotFound));
    };
    let Some(head_inn) = application.head_inn.clone() else {
        return Ok(Err(DecisionRefusal::NotFound));
    };
    let memberships = state.store.memberships_of_user(&user.id).await?;
    let registry = state.tax_registry.taxpayer(&head_inn).await?;
    match standing(&memberships, registry.as_ref(), &user.inn, &head_inn) {
        Standing::Head => Ok(Ok(application)),
        Standing::Related => {
            tracing::info!(user_id = %user.id, application = number, "branch decision: not the head");
            Ok(Err(DecisionRefusal::NotHead))
        }
        Standing::Stranger => Ok(Err(DecisionRefusal::NotFound)),
    }
}

/// What confirming did.
#[derive(Debug, Clone)]
pub struct Confirmed {
    pub application: Application,
    /// The branch account now offered to the applicant.
    pub branch: Organization,
    pub role: MemberRole,
    pub applicant: User,
}

/// Confirms branch application `number` as `head_user` (the head organization's head): the
/// applicant gets the branch account, with the role the registry gives them now.
pub async fn confirm(
    state: &AppState,
    head_user: &User,
    number: i64,
    now: UnixTime,
) -> Result<Result<Confirmed, DecisionRefusal>, Error> {
    let application = match application_for(state, head_user, number).await? {
        Ok(a) => a,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if application.status != ApplicationStatus::Pending {
        return Ok(Err(DecisionRefusal::AlreadyDecided));
    }
    let applicant_id = application.existing_user_id.as_deref().unwrap_or("");
    let Some(applicant) = state.store.user_by_id(applicant_id).await? else {
        return Ok(Err(DecisionRefusal::ApplicantUnknown));
    };
    // The registry may have changed since the application was filed.
    let branch_inn = application.org_inn.clone().unwrap_or_default();
    let head_inn = application.head_inn.clone().unwrap_or_default();
    let (registry_branch, role) = match registry_pair(state, &branch_inn, &head_inn).await? {
        Ok((branch, head)) => match check_branch(&branch, &head, &application.person_inn) {
            Ok(role) => (branch, role),
            Err(_) => return Ok(Err(DecisionRefusal::RegistryChanged)),
        },
        Err(_) => return Ok(Err(DecisionRefusal::RegistryChanged)),
    };
    let memberships = state.store.memberships_of_user(&applicant.id).await?;
    if memberships.iter().any(|(m, _)| m.org_inn == branch_inn) {
        // Upserting would lift a block (D1) or change a role set since: leave it to the head.
        return Ok(Err(DecisionRefusal::AlreadyMember));
    }
    let branch = Organization {
        inn: registry_branch.inn.clone(),
        name: registry_branch.name.clone(),
        ugns_code: registry_branch.ugns_code.clone(),
        kind: AccountKind::Branch,
        parent_inn: Some(head_inn.clone()),
        liquidated: false,
    };
    // No user is created for a branch application, so the names are not used.
    let names = (
        applicant.family_name.as_str(),
        applicant.given_name.as_str(),
        None,
    );
    let approval = match state
        .store
        .approve_application(number, &head_user.id, names, Some((&branch, role)), now)
        .await
    {
        Ok(approval) => approval,
        Err(StoreError::Conflict(what)) if what == "application" => {
            return Ok(Err(DecisionRefusal::AlreadyDecided))
        }
        Err(StoreError::NotFound(_)) => return Ok(Err(DecisionRefusal::ApplicantUnknown)),
        Err(e) => return Err(e.into()),
    };
    let detail = serde_json::json!({
        "application": number,
        "branch_inn": branch.inn,
        "branch_name": branch.name,
        "head_inn": head_inn,
        "person_inn": application.person_inn,
        "applicant_user_id": applicant.id,
        "role": role.as_str(),
        "head_user_id": head_user.id,
        "head_login": head_user.login,
    });
    audit(
        state,
        "branch.confirmed",
        head_user,
        Some(number),
        now,
        detail,
    )
    .await;
    Ok(Ok(Confirmed {
        application: approval.application,
        branch,
        role,
        applicant,
    }))
}

/// Rejects branch application `number` as `head_user`, with a (mandatory) reason.
pub async fn reject(
    state: &AppState,
    head_user: &User,
    number: i64,
    reason: &str,
    now: UnixTime,
) -> Result<Result<Application, DecisionRefusal>, Error> {
    let application = match application_for(state, head_user, number).await? {
        Ok(a) => a,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if application.status != ApplicationStatus::Pending {
        return Ok(Err(DecisionRefusal::AlreadyDecided));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Ok(Err(DecisionRefusal::ReasonMissing));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Ok(Err(DecisionRefusal::ReasonTooLong));
    }
    let rejected = match state
        .store
        .reject_application(number, &head_user.id, reason, now)
        .await
    {
        Ok(a) => a,
        Err(StoreError::Conflict(_)) => return Ok(Err(DecisionRefusal::AlreadyDecided)),
        Err(e) => return Err(e.into()),
    };
    let detail = serde_json::json!({
        "application": number,
        "branch_inn": application.org_inn,
        "branch_name": application.org_name,
        "head_inn": application.head_inn,
        "person_inn": application.person_inn,
        "applicant_user_id": application.existing_user_id,
        "head_user_id": head_user.id,
        "head_login": head_user.login,
        "reason": reason,
    });
    audit(
        state,
        "branch.rejected",
        head_user,
        Some(number),
        now,
        detail,
    )
    .await;
    Ok(Ok(rejected))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ForeignTrade, TaxpayerKind};

    const HEAD_ORG: &str = "01503201699001";
    const BRANCH_HEAD: &str = "21207198599011";
    const BRANCH_ACCOUNTANT: &str = "11908199599014";
    const ORG_HEAD: &str = "20101197099015";

    fn head() -> Taxpayer {
        Taxpayer {
            inn: HEAD_ORG.into(),
            kind: TaxpayerKind::Organization,
            legal_form: None,
            name: "ДЕМО".into(),
            address: "г. Бишкек".into(),
            ugns_code: "004".into(),
            vat_payer: false,
            vat_reg_date: None,
            foreign_trade: ForeignTrade::None,
            parent_inn: None,
            head_pin: Some(ORG_HEAD.into()),
            accountant_pin: None,
            large_taxpayer: false,
            liquidated: false,
        }
    }

    fn membership(role: MemberRole, blocked: bool) -> (Membership, Organization) {
        (
            Membership {
                org_inn: HEAD_ORG.into(),
                user_id: "u".into(),
                role,
                blocked,
                comment: None,
            },
            Organization {
                inn: HEAD_ORG.into(),
                name: "ДЕМО".into(),
                ugns_code: "004".into(),
                kind: AccountKind::Organization,
                parent_inn: None,
                liquidated: false,
            },
        )
    }

    #[test]
    fn only_a_head_in_cabinet_and_registry_decides() {
        let head = head();
        let as_head = [membership(MemberRole::Head, false)];
        assert_eq!(
            standing(&as_head, Some(&head), ORG_HEAD, HEAD_ORG),
            Standing::Head
        );
        // Head in the cabinet only, or in the registry only: linked, not allowed.
        assert_eq!(
            standing(&as_head, Some(&head), BRANCH_HEAD, HEAD_ORG),
            Standing::Related
        );
        assert_eq!(
            standing(&[], Some(&head), ORG_HEAD, HEAD_ORG),
            Standing::Related
        );
        let blocked = [membership(MemberRole::Head, true)];
        assert_eq!(
            standing(&blocked, Some(&head), ORG_HEAD, HEAD_ORG),
            Standing::Related
        );
        let accountant = [membership(MemberRole::Accountant, false)];
        assert_eq!(
            standing(&accountant, Some(&head), BRANCH_ACCOUNTANT, HEAD_ORG),
            Standing::Related
        );
        let mut liquidated = head.clone();
        liquidated.liquidated = true;
        assert_eq!(
            standing(&as_head, Some(&liquidated), ORG_HEAD, HEAD_ORG),
            Standing::Related
        );
        assert_eq!(
            standing(&as_head, None, ORG_HEAD, HEAD_ORG),
            Standing::Related
        );
        // No link at all.
        assert_eq!(
            standing(&[], Some(&head), BRANCH_HEAD, HEAD_ORG),
            Standing::Stranger
        );
        let mut other = head.clone();
        other.inn = "00211201999002".into();
        other.head_pin = Some(BRANCH_HEAD.into());
        assert_eq!(
            standing(&as_head, Some(&other), ORG_HEAD, &other.inn),
            Standing::Stranger
        );
    }

    #[test]
    fn every_decision_refusal_has_a_message_and_status() {
        let decisions = [
            DecisionRefusal::NotFound,
            DecisionRefusal::NotHead,
            DecisionRefusal::AlreadyDecided,
            DecisionRefusal::ReasonMissing,
            DecisionRefusal::ReasonTooLong,
            DecisionRefusal::ApplicantUnknown,
            DecisionRefusal::AlreadyMember,
            DecisionRefusal::RegistryChanged,
        ];
        for refusal in decisions {
            for lang in crate::web::i18n::Lang::ALL {
                let key = refusal.message_key();
                assert_ne!(crate::web::i18n::t(lang, key), key, "{key} missing");
            }
        }
        assert_eq!(DecisionRefusal::NotHead.status(), 403);
        assert_eq!(DecisionRefusal::NotFound.status(), 404);
        assert_eq!(DecisionRefusal::ReasonMissing.status(), 422);
        assert_eq!(DecisionRefusal::AlreadyDecided.status(), 409);
    }
}
