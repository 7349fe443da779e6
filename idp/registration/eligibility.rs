//! Who may register with a login and password (R2, R9, R10; manual §1.1 and §1.5), decided
//! from the tax registry's record alone — pure functions, unit-tested below.
//!
//! The manual's rule, which this module implements:
//! - §1.1 opens password registration to (1) persons, (2) entrepreneurs (ИП) except VAT
//!   payers and importers/exporters, (3) peasant farms (КФХ) except VAT payers;
//! - §1.1 also has «Тип лица» — «юридическое лицо» for an employee of a legal entity, and
//!   ends «Регистрация юридического лица должна осуществляться руководителем или
//!   бухгалтером организации»; §1.3 links further legal entities by password;
//! - §1.5 makes the electronic signature mandatory «для организаций и индивидуальных
//!   предпринимателей, являющихся плательщиками НДС и/или осуществляющих импорт и/или
//!   экспорт товаров» — the participle qualifies both nouns.
//!
//! So an organization may be registered by password, by its head or accountant, unless it
//! is a VAT payer or trades abroad (then R9: signature only); a branch only ever by
//! signature (R10); a liquidated taxpayer never. SPEC R2's "everyone else … signature" is
//! read together with its own last sentence ("a legal entity's registration must be made by
//! its head or its accountant"), which only makes sense if legal entities can apply here.

use crate::store::{ForeignTrade, MemberRole, Taxpayer, TaxpayerKind};

/// Why the electronic signature is mandatory for this taxpayer (R9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureReason {
    EntrepreneurVat,
    EntrepreneurForeignTrade,
    PeasantFarmVat,
    OrganizationVat,
    OrganizationForeignTrade,
    /// R10: a branch registers only by signature, naming its head organization.
    Branch,
}

/// Why an application is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// R9: register with an electronic signature instead.
    SignatureRequired(SignatureReason),
    /// The taxpayer is liquidated.
    Liquidated,
    /// The «ИНН» of the applicant belongs to an organization or a branch.
    OrganizationAsPerson,
    /// «ИНН юридического лица» belongs to a person or an entrepreneur.
    NotAnOrganization,
    /// The applicant is neither the head nor the accountant of the organization (R2).
    NotHeadOrAccountant,
}

impl Refusal {
    /// Catalogue key of the message naming the reason.
    pub fn message_key(self) -> &'static str {
        match self {
            Refusal::SignatureRequired(reason) => match reason {
                SignatureReason::EntrepreneurVat => "register.refuse.ip_vat",
                SignatureReason::EntrepreneurForeignTrade => "register.refuse.ip_trade",
                SignatureReason::PeasantFarmVat => "register.refuse.kfh_vat",
                SignatureReason::OrganizationVat => "register.refuse.org_vat",
                SignatureReason::OrganizationForeignTrade => "register.refuse.org_trade",
                SignatureReason::Branch => "register.refuse.branch",
            },
            Refusal::Liquidated => "register.refuse.liquidated",
            Refusal::OrganizationAsPerson => "register.refuse.org_as_person",
            Refusal::NotAnOrganization => "register.refuse.not_org",
            Refusal::NotHeadOrAccountant => "register.refuse.not_head",
        }
    }

    /// Whether the message sends the applicant to signature registration (R9).
    pub fn needs_signature(self) -> bool {
        matches!(self, Refusal::SignatureRequired(_))
    }

    /// A short machine-readable code (audit log).
    pub fn code(self) -> &'static str {
        match self {
            Refusal::SignatureRequired(SignatureReason::EntrepreneurVat) => "ip_vat",
            Refusal::SignatureRequired(SignatureReason::EntrepreneurForeignTrade) => "ip_trade",
            Refusal::SignatureRequired(SignatureReason::PeasantFarmVat) => "kfh_vat",
            Refusal::SignatureRequired(SignatureReason::OrganizationVat) => "org_vat",
            Refusal::SignatureRequired(SignatureReason::OrganizationForeignTrade) => "org_trade",
            Refusal::SignatureRequired(SignatureReason::Branch) => "branch",
            Refusal::Liquidated => "liquidated",
            Refusal::OrganizationAsPerson => "org_as_person",
            Refusal::NotAnOrganization => "not_org",
            Refusal::NotHeadOrAccountant => "not_head",
        }
    }
}

/// Why an organization (not a branch) must use a signature, if it must.
fn organization_signature_reason(org: &Taxpayer) -> Option<SignatureReason> {
    if org.vat_payer {
        Some(SignatureReason::OrganizationVat)
    } else if org.foreign_trade != ForeignTrade::None {
        Some(SignatureReason::OrganizationForeignTrade)
    } else {
        None
    }
}

/// «Тип лица» — «физическое лицо»: may this taxpayer (the applicant's own record) register
/// with a password?
pub fn check_person(taxpayer: &Taxpayer) -> Result<(), Refusal> {
    if taxpayer.liquidated {
        return Err(Refusal::Liquidated);
    }
    match taxpayer.kind {
        TaxpayerKind::Person => Ok(()),
        TaxpayerKind::Entrepreneur if taxpayer.vat_payer => {
            Err(Refusal::SignatureRequired(SignatureReason::EntrepreneurVat))
        }
        TaxpayerKind::Entrepreneur if taxpayer.foreign_trade != ForeignTrade::None => Err(
            Refusal::SignatureRequired(SignatureReason::EntrepreneurForeignTrade),
        ),
        TaxpayerKind::Entrepreneur => Ok(()),
        TaxpayerKind::PeasantFarm if taxpayer.vat_payer => {
            Err(Refusal::SignatureRequired(SignatureReason::PeasantFarmVat))
        }
        TaxpayerKind::PeasantFarm => Ok(()),
        TaxpayerKind::Branch => Err(Refusal::SignatureRequired(SignatureReason::Branch)),
        TaxpayerKind::Organization => match organization_signature_reason(taxpayer) {
            Some(reason) => Err(Refusal::SignatureRequired(reason)),
            None => Err(Refusal::OrganizationAsPerson),
        },
    }
}

/// «Тип лица» — «юридическое лицо»: the applicant's own record must be a person's (any
/// kind of individual taxpayer; the organization is what is being registered).
pub fn check_applicant(applicant: &Taxpayer) -> Result<(), Refusal> {
    if applicant.kind.is_legal_entity() {
        Err(Refusal::OrganizationAsPerson)
    } else {
        Ok(())
    }
}

/// «Тип лица» — «юридическое лицо»: may `applicant_inn` register `org` with a password, and
/// in which role?
pub fn check_legal_entity(org: &Taxpayer, applicant_inn: &str) -> Result<MemberRole, Refusal> {
    if org.liquidated {
        return Err(Refusal::Liquidated);
    }
    match org.kind {
        TaxpayerKind::Person | TaxpayerKind::Entrepreneur => {
            return Err(Refusal::NotAnOrganization)
        }
        // A КФХ registered under its head's own ПИН is that person's taxpayer record: it is
        // registered as «физическое лицо».
        TaxpayerKind::PeasantFarm if org.inn == applicant_inn => {
            return Err(Refusal::NotAnOrganization)
        }
        TaxpayerKind::PeasantFarm if org.vat_payer => {
            return Err(Refusal::SignatureRequired(SignatureReason::PeasantFarmVat))
        }
        TaxpayerKind::PeasantFarm => {}
        TaxpayerKind::Branch => return Err(Refusal::SignatureRequired(SignatureReason::Branch)),
        TaxpayerKind::Organization => {
            if let Some(reason) = organization_signature_reason(org) {
                return Err(Refusal::SignatureRequired(reason));
            }
        }
    }
    if org.head_pin.as_deref() == Some(applicant_inn) {
        Ok(MemberRole::Head)
    } else if org.accountant_pin.as_deref() == Some(applicant_inn) {
        Ok(MemberRole::Accountant)
    } else {
        Err(Refusal::NotHeadOrAccountant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "21207198599011";
    const ACCOUNTANT: &str = "11908199599014";
    const STRANGER: &str = "20101197099015";

    fn taxpayer(kind: TaxpayerKind) -> Taxpayer {
        Taxpayer {
            inn: "00211201999002".into(),
            kind,
            legal_form: None,
            name: "ДЕМО".into(),
            address: "ул. Демонстрационная, 2".into(),
            ugns_code: "002".into(),
            vat_payer: false,
            vat_reg_date: None,
            foreign_trade: ForeignTrade::None,
            parent_inn: None,
            head_pin: Some(HEAD.into()),
            accountant_pin: Some(ACCOUNTANT.into()),
            large_taxpayer: false,
            liquidated: false,
        }
    }

    fn with(kind: TaxpayerKind, f: impl FnOnce(&mut Taxpayer)) -> Taxpayer {
        let mut t = taxpayer(kind);
        f(&mut t);
        t
    }

    #[test]
    fn persons_entrepreneurs_and_farms_without_vat_may_use_a_password() {
        assert_eq!(check_person(&taxpayer(TaxpayerKind::Person)), Ok(()));
        assert_eq!(check_person(&taxpayer(TaxpayerKind::Entrepreneur)), Ok(()));
        assert_eq!(check_person(&taxpayer(TaxpayerKind::PeasantFarm)), Ok(()));
        // A КФХ is refused for VAT only, not for foreign trade (manual §1.1 item 3).
        let farm_trading = with(TaxpayerKind::PeasantFarm, |t| {
            t.foreign_trade = ForeignTrade::Export
        });
        assert_eq!(check_person(&farm_trading), Ok(()));
    }

    #[test]
    fn vat_and_foreign_trade_need_a_signature() {
        let sig = |r| Err(Refusal::SignatureRequired(r));
        assert_eq!(
            check_person(&with(TaxpayerKind::Entrepreneur, |t| t.vat_payer = true)),
            sig(SignatureReason::EntrepreneurVat)
        );
        for trade in [
            ForeignTrade::Import,
            ForeignTrade::Export,
            ForeignTrade::Both,
        ] {
            assert_eq!(
                check_person(&with(TaxpayerKind::Entrepreneur, |t| t.foreign_trade = trade)),
                sig(SignatureReason::EntrepreneurForeignTrade)
            );
        }
        assert_eq!(
            check_person(&with(TaxpayerKind::PeasantFarm, |t| t.vat_payer = true)),
            sig(SignatureReason::PeasantFarmVat)
        );
        let refusal = check_person(&with(TaxpayerKind::Entrepreneur, |t| t.vat_payer = true));
        assert!(refusal.unwrap_err().needs_signature());
    }

    #[test]
    fn organizations_cannot_register_as_persons() {
        assert_eq!(
            check_person(&taxpayer(TaxpayerKind::Organization)),
            Err(Refusal::OrganizationAsPerson)
        );
        assert_eq!(
            check_person(&with(TaxpayerKind::Organization, |t| t.vat_payer = true)),
            Err(Refusal::SignatureRequired(SignatureReason::OrganizationVat))
        );
        assert_eq!(
            check_person(&taxpayer(TaxpayerKind::Branch)),
            Err(Refusal::SignatureRequired(SignatureReason::Branch))
        );
        assert_eq!(
            check_applicant(&taxpayer(TaxpayerKind::Organization)),
            Err(Refusal::OrganizationAsPerson)
        );
        assert_eq!(
            check_applicant(&taxpayer(TaxpayerKind::Entrepreneur)),
            Ok(())
        );
    }

    #[test]
    fn liquidated_taxpayers_are_refused() {
        for kind in [
            TaxpayerKind::Person,
            TaxpayerKind::Entrepreneur,
            TaxpayerKind::PeasantFarm,
        ] {
            assert_eq!(
                check_person(&with(kind, |t| t.liquidated = true)),
                Err(Refusal::Liquidated)
            );
        }
        assert_eq!(
            check_legal_entity(
                &with(TaxpayerKind::Organization, |t| t.liquidated = true),
                HEAD
            ),
            Err(Refusal::Liquidated)
        );
    }

    #[test]
    fn legal_entity_by_its_head_or_accountant() {
        let org = taxpayer(TaxpayerKind::Organization);
        assert_eq!(check_legal_entity(&org, HEAD), Ok(MemberRole::Head));
        assert_eq!(
            check_legal_entity(&org, ACCOUNTANT),
            Ok(MemberRole::Accountant)
        );
        assert_eq!(
            check_legal_entity(&org, STRANGER),
            Err(Refusal::NotHeadOrAccountant)
        );
        let no_roles = with(TaxpayerKind::Organization, |t| {
            t.head_pin = None;
            t.accountant_pin = None;
        });
        assert_eq!(
            check_legal_entity(&no_roles, HEAD),
            Err(Refusal::NotHeadOrAccountant)
        );
        let farm = taxpayer(TaxpayerKind::PeasantFarm);
        assert_eq!(check_legal_entity(&farm, HEAD), Ok(MemberRole::Head));
    }

    #[test]
    fn legal_entities_that_need_a_signature() {
        let sig = |r| Err(Refusal::SignatureRequired(r));
        assert_eq!(
            check_legal_entity(
                &with(TaxpayerKind::Organization, |t| t.vat_payer = true),
                HEAD
            ),
            sig(SignatureReason::OrganizationVat)
        );
        assert_eq!(
            check_legal_entity(
                &with(TaxpayerKind::Organization, |t| t.foreign_trade =
                    ForeignTrade::Import),
                HEAD
            ),
            sig(SignatureReason::OrganizationForeignTrade)
        );
        assert_eq!(
            check_legal_entity(&taxpayer(TaxpayerKind::Branch), HEAD),
            sig(SignatureReason::Branch)
        );
        assert_eq!(
            check_legal_entity(
                &with(TaxpayerKind::PeasantFarm, |t| t.vat_payer = true),
                HEAD
            ),
            sig(SignatureReason::PeasantFarmVat)
        );
    }

    #[test]
    fn persons_are_not_legal_entities() {
        assert_eq!(
            check_legal_entity(&taxpayer(TaxpayerKind::Person), HEAD),
            Err(Refusal::NotAnOrganization)
        );
        assert_eq!(
            check_legal_entity(&taxpayer(TaxpayerKind::Entrepreneur), HEAD),
            Err(Refusal::NotAnOrganization)
        );
        let own_farm = with(TaxpayerKind::PeasantFarm, |t| t.inn = HEAD.into());
        assert_eq!(
            check_legal_entity(&own_farm, HEAD),
            Err(Refusal::NotAnOrganization)
        );
    }

    #[test]
    fn every_refusal_has_a_message_and_code() {
        let all = [
            Refusal::SignatureRequired(SignatureReason::EntrepreneurVat),
            Refusal::SignatureRequired(SignatureReason::EntrepreneurForeignTrade),
            Refusal::SignatureRequired(SignatureReason::PeasantFarmVat),
            Refusal::SignatureRequired(SignatureReason::OrganizationVat),
            Refusal::SignatureRequired(SignatureReason::OrganizationForeignTrade),
            Refusal::SignatureRequired(SignatureReason::Branch),
            Refusal::Liquidated,
            Refusal::OrganizationAsPerson,
            Refusal::NotAnOrganization,
            Refusal::NotHeadOrAccountant,
        ];
        let keys: std::collections::HashSet<_> = all.iter().map(|r| r.message_key()).collect();
        let codes: std::collections::HashSet<_> = all.iter().map(|r| r.code()).collect();
        assert_eq!(keys.len(), all.len());
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|r| r.message_key().starts_with("register.")));
    }
}
