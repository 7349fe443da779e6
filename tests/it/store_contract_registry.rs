//! Contract cases for the tax registry (`TaxRegistryStore`: taxpayers, the organizations of
//! the cabinet following them, the seeded УГНС list) and inspector offices, run against both
//! backends by the runner of `store_contract`.

use std::sync::Arc;

use salyk_idp::store::*;

use crate::store_contract::{add_user, contract_cases, run_postgres, run_sqlite};

contract_cases!(
    taxpayers_upsert_and_lookup,
    taxpayers_upsert_is_all_or_nothing,
    taxpayers_upsert_updates_organizations,
    ugns_offices_are_seeded_in_order,
    inspector_offices_replace_all,
);

const INN: &str = "21234567890123";
const ORG_INN: &str = "01712199910011";

fn taxpayer(inn: &str, kind: TaxpayerKind) -> Taxpayer {
    Taxpayer {
        inn: inn.into(),
        kind,
        legal_form: None,
        name: "Асанов Бакыт Эркинович".into(),
        address: "г. Бишкек, ул. Киевская, 96Б".into(),
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

// --- tax registry ----------------------------------------------------------------------------

async fn taxpayers_upsert_and_lookup(store: Arc<dyn Store>) {
    let company = Taxpayer {
        kind: TaxpayerKind::Organization,
        legal_form: Some("ОсОО".into()),
        name: "ОсОО «Ак-Тилек»".into(),
        vat_payer: true,
        vat_reg_date: Some("2019-03-01".into()),
        foreign_trade: ForeignTrade::Both,
        head_pin: Some("21234567890123".into()),
        accountant_pin: Some("11234567890123".into()),
        large_taxpayer: true,
        ..taxpayer(ORG_INN, TaxpayerKind::Organization)
    };
    let branch = Taxpayer {
        parent_inn: Some(ORG_INN.into()),
        foreign_trade: ForeignTrade::Import,
        ..taxpayer("01712199910012", TaxpayerKind::Branch)
    };
    let person = taxpayer(INN, TaxpayerKind::Entrepreneur);
    store
        .upsert_taxpayers(&[company.clone(), branch.clone(), person.clone()])
        .await
        .unwrap();
    assert_eq!(
        store.taxpayer(ORG_INN).await.unwrap(),
        Some(company.clone())
    );
    assert_eq!(store.taxpayer(&branch.inn).await.unwrap(), Some(branch));
    assert_eq!(store.taxpayer(INN).await.unwrap(), Some(person.clone()));
    assert_eq!(store.taxpayer("99999999999999").await.unwrap(), None);

    // A re-upsert replaces every column, optional ones included.
    let changed = Taxpayer {
        kind: TaxpayerKind::PeasantFarm,
        legal_form: None,
        name: "ОсОО «Ак-Тилек Плюс»".into(),
        vat_payer: false,
        vat_reg_date: None,
        foreign_trade: ForeignTrade::Export,
        head_pin: None,
        liquidated: true,
        ..company
    };
    store
        .upsert_taxpayers(std::slice::from_ref(&changed))
        .await
        .unwrap();
    assert_eq!(store.taxpayer(ORG_INN).await.unwrap(), Some(changed));
    assert_eq!(store.taxpayer(INN).await.unwrap(), Some(person));
    store.upsert_taxpayers(&[]).await.unwrap();
}

async fn taxpayers_upsert_is_all_or_nothing(store: Arc<dyn Store>) {
    let before = taxpayer(INN, TaxpayerKind::Person);
    store
        .upsert_taxpayers(std::slice::from_ref(&before))
        .await
        .unwrap();

    // The third row breaks `CHECK (inn <> '')`: neither the new row nor the update is kept.
    let new_row = taxpayer("31234567890123", TaxpayerKind::Person);
    let update = Taxpayer {
        name: "Другое Имя".into(),
        ..before.clone()
    };
    let bad = taxpayer("", TaxpayerKind::Person);
    let result = store
        .upsert_taxpayers(&[new_row.clone(), update, bad])
        .await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(store.taxpayer(&new_row.inn).await.unwrap(), None);
    assert_eq!(store.taxpayer(INN).await.unwrap(), Some(before));
}

async fn taxpayers_upsert_updates_organizations(store: Arc<dyn Store>) {
    let org = Organization {
        inn: ORG_INN.into(),
        name: "ОсОО «Ак-Тилек»".into(),
        ugns_code: "004".into(),
        kind: AccountKind::Organization,
        parent_inn: None,
        liquidated: false,
    };
    let untouched = Organization {
        inn: "01712199910099".into(),
        ..org.clone()
    };
    store.upsert_organization(&org).await.unwrap();
    store.upsert_organization(&untouched).await.unwrap();
    let liquidated = Taxpayer {
        name: "ОсОО «Ак-Тилек Плюс»".into(),
        ugns_code: "005".into(),
        liquidated: true,
        ..taxpayer(ORG_INN, TaxpayerKind::Organization)
    };
    store
        .upsert_taxpayers(&[taxpayer(INN, TaxpayerKind::Person), liquidated.clone()])
        .await
        .unwrap();
    let expected = Organization {
        name: liquidated.name.clone(),
        ugns_code: "005".into(),
        liquidated: true,
        ..org.clone()
    };
    assert_eq!(
        store.organization(ORG_INN).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store.organization(&untouched.inn).await.unwrap(),
        Some(untouched),
        "an organization the import does not name keeps its values"
    );
    assert_eq!(
        store.organization(INN).await.unwrap(),
        None,
        "a taxpayer creates no organization"
    );

    // A failing import changes no organization either; a later one can revive it.
    let revived = Taxpayer {
        liquidated: false,
        ..liquidated
    };
    let bad = taxpayer("", TaxpayerKind::Person);
    assert!(store
        .upsert_taxpayers(&[revived.clone(), bad])
        .await
        .is_err());
    assert_eq!(
        store.organization(ORG_INN).await.unwrap(),
        Some(expected.clone())
    );
    store
        .upsert_taxpayers(std::slice::from_ref(&revived))
        .await
        .unwrap();
    assert_eq!(
        store.organization(ORG_INN).await.unwrap(),
        Some(Organization {
            liquidated: false,
            ..expected
        })
    );
}

async fn ugns_offices_are_seeded_in_order(store: Arc<dyn Store>) {
    let offices = store.ugns_offices().await.unwrap();
    let codes: Vec<&str> = offices.iter().map(|o| o.code.as_str()).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(codes, sorted, "ordered by code, no duplicates");
    assert_eq!(offices.len(), 65);
    assert!(codes.iter().all(|c| c.len() == 3));
    assert!(!codes.contains(&"006"), "006 is a gap in the list");
    let name = |code: &str| {
        offices
            .iter()
            .find(|o| o.code == code)
            .map(|o| o.name.as_str())
    };
    assert_eq!(name("004"), Some("УГНС по Первомайскому району г. Бишкек"));
    assert_eq!(name("005"), Some("УГНС по Аламудунскому району"));
    assert_eq!(name("032"), Some("УГНС по г. Ош"));
    assert_eq!(
        name("999"),
        Some(
            "УГНС по контролю за крупными налогоплательщиками по г. Бишкек и Северному региону \
             (УККН)"
        )
    );
    assert_eq!((codes[0], codes[codes.len() - 1]), ("001", "999"));
}

// --- inspectors ------------------------------------------------------------------------------

async fn inspector_offices_replace_all(store: Arc<dyn Store>) {
    let inspector = add_user(&*store, "91234567890123001", "91234567890123").await;
    let other = add_user(&*store, "92234567890123001", "92234567890123").await;
    let codes = |list: &[&str]| list.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    assert!(store
        .inspector_offices(&inspector.id)
        .await
        .unwrap()
        .is_empty());

    store
        .set_inspector_offices(&inspector.id, &codes(&["004", "002", "004"]))
        .await
        .unwrap();
    store
        .set_inspector_offices(&other.id, &codes(&["999"]))
        .await
        .unwrap();
    assert_eq!(
        store.inspector_offices(&inspector.id).await.unwrap(),
        ["002", "004"]
    );

    store
        .set_inspector_offices(&inspector.id, &codes(&["005"]))
        .await
        .unwrap();
    assert_eq!(
        store.inspector_offices(&inspector.id).await.unwrap(),
        ["005"]
    );
    assert_eq!(store.inspector_offices(&other.id).await.unwrap(), ["999"]);

    // Unknown office: nothing changes. Unknown user: NotFound.
    let bad = store
        .set_inspector_offices(&inspector.id, &codes(&["002", "006"]))
        .await;
    assert!(matches!(bad, Err(StoreError::NotFound(_))), "{bad:?}");
    assert_eq!(
        store.inspector_offices(&inspector.id).await.unwrap(),
        ["005"]
    );
    let bad = store
        .set_inspector_offices("no-such-user", &codes(&["004"]))
        .await;
    assert!(matches!(bad, Err(StoreError::NotFound(_))), "{bad:?}");

    store
        .set_inspector_offices(&inspector.id, &[])
        .await
        .unwrap();
    assert!(store
        .inspector_offices(&inspector.id)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .inspector_offices("no-such-user")
        .await
        .unwrap()
        .is_empty());
}
