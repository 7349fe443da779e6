//! Branch applications and their confirmation (R10, D4; manual §1 and §1.5): a branch's head
//! or accountant, registered by electronic signature, asks for the branch account naming the
//! head organization; the application waits in «Филиалы головной организации», where the head
//! organization's head confirms or rejects it — «если он им является».
//!
//! This module owns the rules and the audit events; the signature itself is checked by the
//! caller ([`apply`] trusts the `User` it is given), and `web::branches` only renders.
//!
//! - [`apply`]: the registry must say the branch is a live legal entity whose head
//!   organization is the one named, and the applicant its head or accountant; no duplicate;
//! - [`confirm`] / [`reject`]: only by the head of the head organization, who must be so in
//!   the cabinet (an unblocked membership with role head) *and* in the tax registry
//!   (`head_pin`). Someone with no link to the head organization is told the application does
//!   not exist (404); someone linked to it who is not its head is refused (403).
//!
//! The pure rules ([`check_branch`], [`standing`]) are unit-tested beside them; the head's
//! side lives in `decision` and is re-exported here.

mod decision;

pub use decision::{
    application_for, confirm, headed_organizations, queue, reject, standing, Confirmed,
    DecisionRefusal, Standing,
};

use crate::accounts::inn::{normalize_inn, InnError};
use crate::error::Error;
use crate::registration::approval::applicant_role;
use crate::state::AppState;
use crate::store::{
    Application, ApplicationKind, AuditEvent, MemberRole, NewApplication, Taxpayer, TaxpayerKind,
    UnixTime, User,
};

/// Why a branch application is refused; nothing was saved. Each has a message for the
/// applicant ([`message_key`](BranchRefusal::message_key)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BranchRefusal {
    BranchInnInvalid(InnError),
    HeadInnInvalid(InnError),
    /// The branch named itself as its head organization.
    SameInn,
    BranchNotFound,
    HeadNotFound,
    /// «Филиалом может быть только юридическое лицо».
    BranchNotLegalEntity,
    /// The named head organization is a person, an entrepreneur or itself a branch.
    HeadNotOrganization,
    /// The registry gives the branch another head organization (or none).
    NotBranchOfHead,
    BranchLiquidated,
    HeadLiquidated,
    /// The applicant is neither the branch's head nor its accountant in the registry.
    NotHeadOrAccountant,
    /// The same person's application for the same branch is still pending.
    Duplicate {
        number: i64,
    },
    /// R11: the applicant already has the branch account.
    AlreadyRegistered,
    /// The applicant's branch account was blocked (D1): a new application must not lift that.
    MembershipBlocked,
}

impl BranchRefusal {
    /// Catalogue key of the message shown to the applicant.
    pub fn message_key(&self) -> &'static str {
        match self {
            BranchRefusal::BranchInnInvalid(_) => "branches.refuse.branch_inn",
            BranchRefusal::HeadInnInvalid(_) => "branches.refuse.head_inn",
            BranchRefusal::SameInn => "branches.refuse.same_inn",
            BranchRefusal::BranchNotFound => "branches.refuse.branch_not_found",
            BranchRefusal::HeadNotFound => "branches.refuse.head_not_found",
            BranchRefusal::BranchNotLegalEntity => "branches.refuse.not_legal_entity",
            BranchRefusal::HeadNotOrganization => "branches.refuse.head_not_organization",
            BranchRefusal::NotBranchOfHead => "branches.refuse.not_branch",
            BranchRefusal::BranchLiquidated => "branches.refuse.branch_liquidated",
            BranchRefusal::HeadLiquidated => "branches.refuse.head_liquidated",
            BranchRefusal::NotHeadOrAccountant => "branches.refuse.not_head",
            BranchRefusal::Duplicate { .. } => "branches.refuse.duplicate",
            BranchRefusal::AlreadyRegistered => "branches.refuse.already_registered",
            BranchRefusal::MembershipBlocked => "branches.refuse.blocked",
        }
    }

    /// A short machine-readable code (audit log).
    pub fn code(&self) -> &'static str {
        self.message_key()
            .strip_prefix("branches.refuse.")
            .unwrap_or("refused")
    }
}

/// Checks the registry's records of a branch and its named head organization for a branch
/// application by `applicant_inn`; returns the applicant's role in the branch.
pub fn check_branch(
    branch: &Taxpayer,
    head: &Taxpayer,
    applicant_inn: &str,
) -> Result<MemberRole, BranchRefusal> {
    if !branch.kind.is_legal_entity() {
        return Err(BranchRefusal::BranchNotLegalEntity);
    }
    if branch.liquidated {
        return Err(BranchRefusal::BranchLiquidated);
    }
    if branch.parent_inn.as_deref() != Some(head.inn.as_str()) {
        return Err(BranchRefusal::NotBranchOfHead);
    }
    if head.kind != TaxpayerKind::Organization {
        return Err(BranchRefusal::HeadNotOrganization);
    }
    if head.liquidated {
        return Err(BranchRefusal::HeadLiquidated);
    }
    applicant_role(branch, applicant_inn).ok_or(BranchRefusal::NotHeadOrAccountant)
}

/// The branch and head records the registry holds for these (normalised) INNs.
async fn registry_pair(
    state: &AppState,
    branch_inn: &str,
    head_inn: &str,
) -> Result<Result<(Taxpayer, Taxpayer), BranchRefusal>, Error> {
    let Some(branch) = state.tax_registry.taxpayer(branch_inn).await? else {
        return Ok(Err(BranchRefusal::BranchNotFound));
    };
    let Some(head) = state.tax_registry.taxpayer(head_inn).await? else {
        return Ok(Err(BranchRefusal::HeadNotFound));
    };
    Ok(Ok((branch, head)))
}

/// Files `applicant`'s application for the branch `branch_inn` of the head organization
/// `head_inn` (both as typed or read from a certificate; spaces and dashes are ignored).
/// The caller has verified the applicant's electronic signature. Refusals are audited as
/// `registration.branch_refused`, the saved application as `registration.branch_applied`.
pub async fn apply(
    state: &AppState,
    applicant: &User,
    branch_inn: &str,
    head_inn: &str,
    now: UnixTime,
) -> Result<Result<Application, BranchRefusal>, Error> {
    let outcome = application_for_branch(state, applicant, branch_inn, head_inn).await?;
    let new = match outcome {
        Ok(new) => new,
        Err(refusal) => {
            let detail = serde_json::json!({
                "person_inn": applicant.inn,
                "branch_inn": branch_inn,
                "head_inn": head_inn,
                "reason": refusal.code(),
            });
            audit(
                state,
                "registration.branch_refused",
                applicant,
                None,
                now,
                detail,
            )
            .await;
            return Ok(Err(refusal));
        }
    };
    let application = state.store.create_application(&new, now).await?;
    let detail = serde_json::json!({
        "application": application.number,
        "person_inn": application.person_inn,
        "user_id": applicant.id,
        "branch_inn": application.org_inn,
        "head_inn": application.head_inn,
        "ugns_code": application.ugns_code,
    });
    audit(
        state,
        "registration.branch_applied",
        applicant,
        Some(application.number),
        now,
        detail,
    )
    .await;
    Ok(Ok(application))
}

/// The application to save, or why not.
async fn application_for_branch(
    state: &AppState,
    applicant: &User,
    branch_inn: &str,
    head_inn: &str,
) -> Result<Result<NewApplication, BranchRefusal>, Error> {
    let branch_inn = match normalize_inn(branch_inn, false) {
        Ok(inn) => inn,
        Err(e) => return Ok(Err(BranchRefusal::BranchInnInvalid(e))),
    };
    let head_inn = match normalize_inn(head_inn, false) {
        Ok(inn) => inn,
        Err(e) => return Ok(Err(BranchRefusal::HeadInnInvalid(e))),
    };
    if branch_inn == head_inn {
        return Ok(Err(BranchRefusal::SameInn));
    }
    let (branch, head) = match registry_pair(state, &branch_inn, &head_inn).await? {
        Ok(pair) => pair,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if let Err(refusal) = check_branch(&branch, &head, &applicant.inn) {
        return Ok(Err(refusal));
    }
    let memberships = state.store.memberships_of_user(&applicant.id).await?;
    if let Some((membership, _)) = memberships.iter().find(|(m, _)| m.org_inn == branch.inn) {
        return Ok(Err(if membership.blocked {
            BranchRefusal::MembershipBlocked
        } else {
            BranchRefusal::AlreadyRegistered
        }));
    }
    if let Some(pending) = state
        .store
        .pending_application_for(&applicant.inn, Some(&branch.inn))
        .await?
    {
        return Ok(Err(BranchRefusal::Duplicate {
            number: pending.number,
        }));
    }
    Ok(Ok(NewApplication {
        kind: ApplicationKind::Branch,
        ugns_code: branch.ugns_code.clone(),
        person_inn: applicant.inn.clone(),
        full_name: applicant.full_name(),
        address: branch.address.clone(),
        org_inn: Some(branch.inn.clone()),
        org_name: Some(branch.name.clone()),
        password_hash: None,
        existing_user_id: Some(applicant.id.clone()),
        head_inn: Some(head.inn),
    }))
}

/// D6: what it records is already committed (or refused), so a failure to record it is
/// logged loudly rather than undoing anything.
async fn audit(
    state: &AppState,
    kind: &str,
    actor: &User,
    number: Option<i64>,
    now: UnixTime,
    detail: serde_json::Value,
) {
    let event = AuditEvent {
        at: now,
        kind: kind.into(),
        actor: Some(actor.id.clone()),
        subject: number.map(|n| n.to_string()),
        detail,
    };
    if let Err(e) = state.store.record(&event).await {
        tracing::error!(error = %e, kind, application = ?number, "audit event not recorded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ForeignTrade;

    const HEAD_ORG: &str = "01503201699001";
    const BRANCH: &str = "02006201199003";
    const BRANCH_HEAD: &str = "21207198599011";
    const BRANCH_ACCOUNTANT: &str = "11908199599014";
    const ORG_HEAD: &str = "20101197099015";

    fn taxpayer(inn: &str, kind: TaxpayerKind) -> Taxpayer {
        Taxpayer {
            inn: inn.into(),
            kind,
            legal_form: None,
            name: "ДЕМО".into(),
            address: "г. Бишкек".into(),
            ugns_code: "004".into(),
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

    fn pair() -> (Taxpayer, Taxpayer) {
        let mut branch = taxpayer(BRANCH, TaxpayerKind::Branch);
        branch.parent_inn = Some(HEAD_ORG.into());
        branch.head_pin = Some(BRANCH_HEAD.into());
        branch.accountant_pin = Some(BRANCH_ACCOUNTANT.into());
        let mut head = taxpayer(HEAD_ORG, TaxpayerKind::Organization);
        head.head_pin = Some(ORG_HEAD.into());
        (branch, head)
    }

    #[test]
    fn the_branch_head_or_accountant_may_apply() {
        let (branch, head) = pair();
        assert_eq!(
            check_branch(&branch, &head, BRANCH_HEAD),
            Ok(MemberRole::Head)
        );
        assert_eq!(
            check_branch(&branch, &head, BRANCH_ACCOUNTANT),
            Ok(MemberRole::Accountant)
        );
        assert_eq!(
            check_branch(&branch, &head, ORG_HEAD),
            Err(BranchRefusal::NotHeadOrAccountant)
        );
    }

    #[test]
    fn the_registry_must_support_the_branch() {
        let (branch, head) = pair();
        let mut person = branch.clone();
        person.kind = TaxpayerKind::Entrepreneur;
        assert_eq!(
            check_branch(&person, &head, BRANCH_HEAD),
            Err(BranchRefusal::BranchNotLegalEntity)
        );
        let mut elsewhere = branch.clone();
        elsewhere.parent_inn = Some("00211201999002".into());
        assert_eq!(
            check_branch(&elsewhere, &head, BRANCH_HEAD),
            Err(BranchRefusal::NotBranchOfHead)
        );
        elsewhere.parent_inn = None;
        assert_eq!(
            check_branch(&elsewhere, &head, BRANCH_HEAD),
            Err(BranchRefusal::NotBranchOfHead)
        );
        let mut gone = branch.clone();
        gone.liquidated = true;
        assert_eq!(
            check_branch(&gone, &head, BRANCH_HEAD),
            Err(BranchRefusal::BranchLiquidated)
        );
        let mut head_gone = head.clone();
        head_gone.liquidated = true;
        assert_eq!(
            check_branch(&branch, &head_gone, BRANCH_HEAD),
            Err(BranchRefusal::HeadLiquidated)
        );
        let mut head_person = head.clone();
        head_person.kind = TaxpayerKind::Person;
        assert_eq!(
            check_branch(&branch, &head_person, BRANCH_HEAD),
            Err(BranchRefusal::HeadNotOrganization)
        );
    }

    #[test]
    fn every_refusal_has_its_own_message_and_code() {
        let all = [
            BranchRefusal::BranchInnInvalid(InnError::Empty),
            BranchRefusal::HeadInnInvalid(InnError::Empty),
            BranchRefusal::SameInn,
            BranchRefusal::BranchNotFound,
            BranchRefusal::HeadNotFound,
            BranchRefusal::BranchNotLegalEntity,
            BranchRefusal::HeadNotOrganization,
            BranchRefusal::NotBranchOfHead,
            BranchRefusal::BranchLiquidated,
            BranchRefusal::HeadLiquidated,
            BranchRefusal::NotHeadOrAccountant,
            BranchRefusal::Duplicate { number: 1 },
            BranchRefusal::AlreadyRegistered,
            BranchRefusal::MembershipBlocked,
        ];
        let keys: std::collections::HashSet<_> = all.iter().map(|r| r.message_key()).collect();
        let codes: std::collections::HashSet<_> = all.iter().map(|r| r.code()).collect();
        assert_eq!((keys.len(), codes.len()), (all.len(), all.len()));
        let keys: Vec<&str> = all.iter().map(|r| r.message_key()).collect();
        for key in keys {
            for lang in crate::web::i18n::Lang::ALL {
                assert_ne!(crate::web::i18n::t(lang, key), key, "{key} missing");
            }
        }
        assert_eq!(
            crate::web::i18n::t(
                crate::web::i18n::Lang::Ru,
                "branches.refuse.already_registered"
            ),
            "Ошибка регистрации. Такой пользователь уже существует"
        );
    }
}
