//! Contract cases for registration applications (`RegistrationStore`: numbering, the pending
//! queue, approval with login generation, rejection, concurrent approvals), run against both
//! backends by the runner of `store_contract`.

use std::sync::Arc;

use salyk_idp::store::*;

use crate::store_contract::{
    add_user, contract_cases, new_user, org, run_postgres, run_sqlite, NOW,
};

contract_cases!(
    applications_are_numbered,
    pending_application_for_person_and_organization,
    pending_applications_by_office_oldest_first,
    approve_person_creates_user,
    approve_second_application_for_same_inn_conflicts,
    approve_legal_entity_adds_organization,
    approve_link_request_adds_membership,
    approve_and_reject_only_pending,
    reject_with_reason,
    login_skips_taken_suffixes,
    concurrent_approvals_have_one_winner,
    concurrent_approvals_for_one_inn,
);

const INN: &str = "21234567890123";
const ORG_INN: &str = "01712199910011";
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$YXBwbGljYW50$cGFzc3dvcmQ";

// --- fixtures --------------------------------------------------------------------------------

fn application(kind: ApplicationKind, person_inn: &str, ugns: &str) -> NewApplication {
    let with_org = kind != ApplicationKind::Person;
    NewApplication {
        kind,
        ugns_code: ugns.into(),
        person_inn: person_inn.into(),
        full_name: "Асанова Айгуль Бакытовна".into(),
        address: "г. Бишкек, ул. Ала-Арчинская, 71".into(),
        org_inn: with_org.then(|| ORG_INN.into()),
        org_name: with_org.then(|| "ОсОО «Ак-Тилек»".into()),
        password_hash: (kind != ApplicationKind::LinkRequest).then(|| HASH.into()),
        existing_user_id: None,
        head_inn: None,
    }
}

async fn submit(store: &dyn Store, new: NewApplication, at: UnixTime) -> Application {
    store.create_application(&new, at).await.unwrap()
}

async fn approve(
    store: &dyn Store,
    number: i64,
    organization: Option<(&Organization, MemberRole)>,
) -> StoreResult<Approval> {
    let names = ("Асанова", "Айгуль", Some("Бакытовна"));
    store
        .approve_application(number, "inspector-1", names, organization, NOW + 100)
        .await
}

fn is_conflict<T: std::fmt::Debug>(result: &StoreResult<T>, rule: &str) -> bool {
    matches!(result, Err(StoreError::Conflict(r)) if r == rule)
}

async fn status_of(store: &dyn Store, number: i64) -> ApplicationStatus {
    store.application(number).await.unwrap().unwrap().status
}

// --- applications ----------------------------------------------------------------------------

async fn applications_are_numbered(store: Arc<dyn Store>) {
    let first = submit(
        &*store,
        application(ApplicationKind::Person, INN, "004"),
        NOW,
    )
    .await;
    let second = submit(
        &*store,
        application(ApplicationKind::LegalEntity, "31234567890123", "002"),
        NOW + 1,
    )
    .await;
    assert_eq!(second.number, first.number + 1);

    let new = application(ApplicationKind::Person, INN, "004");
    let expected = Application {
        number: first.number,
        kind: new.kind,
        ugns_code: new.ugns_code,
        person_inn: new.person_inn,
        full_name: new.full_name,
        address: new.address,
        org_inn: None,
        org_name: None,
        password_hash: Some(HASH.into()),
        existing_user_id: None,
        status: ApplicationStatus::Pending,
        reject_reason: None,
        login: None,
        decided_by: None,
        decided_at: None,
        created_at: NOW,
        head_inn: None,
    };
    assert_eq!(first, expected);
    assert_eq!(
        store.application(first.number).await.unwrap(),
        Some(expected)
    );
    let loaded = store.application(second.number).await.unwrap().unwrap();
    assert_eq!(loaded, second);
    assert_eq!(
        (loaded.org_inn.as_deref(), loaded.kind),
        (Some(ORG_INN), ApplicationKind::LegalEntity)
    );
    assert_eq!(store.application(second.number + 1).await.unwrap(), None);

    // A link request must name an existing user.
    let orphan = NewApplication {
        existing_user_id: Some("no-such-user".into()),
        ..application(ApplicationKind::LinkRequest, INN, "004")
    };
    let result = store.create_application(&orphan, NOW).await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
}

async fn pending_application_for_person_and_organization(store: Arc<dyn Store>) {
    let person = submit(
        &*store,
        application(ApplicationKind::Person, INN, "004"),
        NOW,
    )
    .await;
    let legal = submit(
        &*store,
        application(ApplicationKind::LegalEntity, INN, "004"),
        NOW + 1,
    )
    .await;
    let find = |org: Option<&'static str>| {
        let store = store.clone();
        async move { store.pending_application_for(INN, org).await.unwrap() }
    };
    assert_eq!(find(None).await, Some(person.clone()));
    assert_eq!(find(Some(ORG_INN)).await, Some(legal.clone()));
    assert_eq!(find(Some("01712199910099")).await, None);
    let other = store
        .pending_application_for("31234567890123", None)
        .await
        .unwrap();
    assert_eq!(other, None);

    // Decided applications are not pending.
    store
        .reject_application(person.number, "inspector-1", "нет паспорта", NOW + 5)
        .await
        .unwrap();
    assert_eq!(find(None).await, None);
    assert_eq!(find(Some(ORG_INN)).await, Some(legal.clone()));
    // Every pending application of the person, whatever the organization.
    assert_eq!(
        store.pending_applications_of(INN).await.unwrap(),
        vec![legal]
    );
    assert!(store
        .pending_applications_of("31234567890123")
        .await
        .unwrap()
        .is_empty());
}

async fn pending_applications_by_office_oldest_first(store: Arc<dyn Store>) {
    let inn = |n: u8| format!("3123456789012{n}");
    let late = submit(
        &*store,
        application(ApplicationKind::Person, &inn(1), "004"),
        NOW + 20,
    )
    .await;
    let middle = submit(
        &*store,
        application(ApplicationKind::Person, &inn(2), "002"),
        NOW + 10,
    )
    .await;
    let early = submit(
        &*store,
        application(ApplicationKind::Person, &inn(3), "004"),
        NOW,
    )
    .await;
    let elsewhere = submit(
        &*store,
        application(ApplicationKind::Person, &inn(4), "005"),
        NOW + 5,
    )
    .await;
    let rejected = submit(
        &*store,
        application(ApplicationKind::Person, &inn(5), "002"),
        NOW + 1,
    )
    .await;
    store
        .reject_application(rejected.number, "inspector-1", "дубликат", NOW + 30)
        .await
        .unwrap();

    let codes = |list: &[&str]| list.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    let got = store
        .pending_applications(&codes(&["004", "002"]))
        .await
        .unwrap();
    assert_eq!(got, [early, middle, late]);
    let got = store.pending_applications(&codes(&["005"])).await.unwrap();
    assert_eq!(got, [elsewhere]);
    assert_eq!(
        store.pending_applications(&codes(&["999"])).await.unwrap(),
        []
    );
    assert_eq!(store.pending_applications(&[]).await.unwrap(), []);
}

async fn approve_person_creates_user(store: Arc<dyn Store>) {
    let app = submit(
        &*store,
        application(ApplicationKind::Person, INN, "004"),
        NOW,
    )
    .await;
    let approval = approve(&*store, app.number, None).await.unwrap();
    let login = format!("{INN}001");
    assert_eq!(approval.login.as_deref(), Some(login.as_str()));

    let user = store.user_by_login(&login).await.unwrap().expect("user");
    assert_eq!(user.id, approval.user_id);
    let expected = User {
        id: user.id.clone(),
        login: login.clone(),
        inn: INN.into(),
        family_name: "Асанова".into(),
        given_name: "Айгуль".into(),
        middle_name: Some("Бакытовна".into()),
        password_hash: Some(HASH.into()),
        ugns_code: Some("004".into()),
        blocked: false,
        created_at: NOW + 100,
    };
    assert_eq!(user, expected);
    assert_eq!(store.memberships_of_user(&user.id).await.unwrap(), []);

    let decided = Application {
        status: ApplicationStatus::Approved,
        login: Some(login),
        decided_by: Some("inspector-1".into()),
        decided_at: Some(NOW + 100),
        ..app
    };
    assert_eq!(approval.application, decided);
    assert_eq!(
        store.application(decided.number).await.unwrap(),
        Some(decided)
    );
    assert_eq!(
        store.pending_application_for(INN, None).await.unwrap(),
        None
    );
}

async fn approve_second_application_for_same_inn_conflicts(store: Arc<dyn Store>) {
    let first = submit(
        &*store,
        application(ApplicationKind::Person, INN, "004"),
        NOW,
    )
    .await;
    let second = submit(
        &*store,
        application(ApplicationKind::Person, INN, "002"),
        NOW + 1,
    )
    .await;
    approve(&*store, first.number, None).await.unwrap();

    let result = approve(&*store, second.number, None).await;
    assert!(is_conflict(&result, "inn"), "{result:?}");
    // Rolled back: still pending, undecided, and no second login.
    assert_eq!(
        store.application(second.number).await.unwrap(),
        Some(second)
    );
    assert_eq!(
        store.user_by_login(&format!("{INN}002")).await.unwrap(),
        None
    );
}

async fn approve_legal_entity_adds_organization(store: Arc<dyn Store>) {
    let app = submit(
        &*store,
        application(ApplicationKind::LegalEntity, INN, "004"),
        NOW,
    )
    .await;
    let company = org(ORG_INN, AccountKind::Organization, None);

    // The organization is required; a failed approval leaves the application pending.
    let missing = approve(&*store, app.number, None).await;
    assert!(
        matches!(missing, Err(StoreError::Internal(_))),
        "{missing:?}"
    );
    let wrong = org("01712199910099", AccountKind::Organization, None);
    let mismatch = approve(&*store, app.number, Some((&wrong, MemberRole::Head))).await;
    assert!(
        matches!(mismatch, Err(StoreError::Internal(_))),
        "{mismatch:?}"
    );
    assert_eq!(
        status_of(&*store, app.number).await,
        ApplicationStatus::Pending
    );
    assert_eq!(store.user_by_inn(INN).await.unwrap(), None);

    let approval = approve(&*store, app.number, Some((&company, MemberRole::Head)))
        .await
        .unwrap();
    assert_eq!(approval.login, Some(format!("{INN}001")));
    assert_eq!(
        store.organization(ORG_INN).await.unwrap(),
        Some(company.clone())
    );
    let membership = Membership {
        org_inn: ORG_INN.into(),
        user_id: approval.user_id.clone(),
        role: MemberRole::Head,
        blocked: false,
        comment: None,
    };
    assert_eq!(
        store.memberships_of_user(&approval.user_id).await.unwrap(),
        [(membership, company)]
    );
    assert_eq!(
        status_of(&*store, app.number).await,
        ApplicationStatus::Approved
    );
}

async fn approve_link_request_adds_membership(store: Arc<dyn Store>) {
    let user = add_user(&*store, &format!("{INN}001"), INN).await;
    let new = NewApplication {
        existing_user_id: Some(user.id.clone()),
        ..application(ApplicationKind::LinkRequest, INN, "004")
    };
    let app = submit(&*store, new, NOW).await;
    assert_eq!(app.existing_user_id.as_deref(), Some(user.id.as_str()));
    let company = org(ORG_INN, AccountKind::Organization, None);
    store.upsert_organization(&company).await.unwrap();

    let approval = approve(
        &*store,
        app.number,
        Some((&company, MemberRole::Accountant)),
    )
    .await
    .unwrap();
    assert_eq!(
        (approval.user_id.as_str(), approval.login),
        (user.id.as_str(), None)
    );
    assert_eq!(approval.application.login, None);
    assert_eq!(approval.application.status, ApplicationStatus::Approved);
    let got = store.memberships_of_user(&user.id).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].0.role, &got[0].1),
        (MemberRole::Accountant, &company)
    );
    // The existing user is unchanged: no new user, names not overwritten.
    assert_eq!(store.user_by_inn(INN).await.unwrap(), Some(user));
}

async fn approve_and_reject_only_pending(store: Arc<dyn Store>) {
    let app = submit(
        &*store,
        application(ApplicationKind::Person, INN, "004"),
        NOW,
    )
    .await;
    approve(&*store, app.number, None).await.unwrap();
    let again = approve(&*store, app.number, None).await;
    assert!(is_conflict(&again, "application"), "{again:?}");
    let reject = store
        .reject_application(app.number, "inspector-2", "поздно", NOW + 200)
        .await;
    assert!(is_conflict(&reject, "application"), "{reject:?}");
    let stored = store.application(app.number).await.unwrap().unwrap();
    assert_eq!(
        (
            stored.status,
            stored.decided_by.as_deref(),
            stored.reject_reason
        ),
        (ApplicationStatus::Approved, Some("inspector-1"), None)
    );

    let unknown = approve(&*store, app.number + 100, None).await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound(_))),
        "{unknown:?}"
    );
    let unknown = store
        .reject_application(app.number + 100, "inspector-1", "нет", NOW)
        .await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound(_))),
        "{unknown:?}"
    );
}

async fn reject_with_reason(store: Arc<dyn Store>) {
    let app = submit(
        &*store,
        application(ApplicationKind::Person, INN, "004"),
        NOW,
    )
    .await;
    let rejected = store
        .reject_application(app.number, "inspector-1", "Паспорт не совпадает", NOW + 50)
        .await
        .unwrap();
    let expected = Application {
        status: ApplicationStatus::Rejected,
        reject_reason: Some("Паспорт не совпадает".into()),
        decided_by: Some("inspector-1".into()),
        decided_at: Some(NOW + 50),
        ..app
    };
    assert_eq!(rejected, expected);
    assert_eq!(store.application(app.number).await.unwrap(), Some(expected));
    let again = store
        .reject_application(app.number, "inspector-1", "ещё раз", NOW + 60)
        .await;
    assert!(is_conflict(&again, "application"), "{again:?}");
    let approve_after = approve(&*store, app.number, None).await;
    assert!(
        is_conflict(&approve_after, "application"),
        "{approve_after:?}"
    );
    assert_eq!(store.user_by_inn(INN).await.unwrap(), None);
}

async fn login_skips_taken_suffixes(store: Arc<dyn Store>) {
    // Users are unique by INN, so the logins taken here belong to people with other INNs.
    for (suffix, other_inn) in [("001", "41234567890123"), ("002", "51234567890123")] {
        add_user(&*store, &format!("{INN}{suffix}"), other_inn).await;
    }
    add_user(&*store, &format!("{INN}005"), "61234567890123").await;
    store
        .create_user(new_user(&format!("{INN}abc"), "71234567890123"), NOW)
        .await
        .unwrap();

    let app = submit(
        &*store,
        application(ApplicationKind::Person, INN, "004"),
        NOW,
    )
    .await;
    let approval = approve(&*store, app.number, None).await.unwrap();
    let login = format!("{INN}003");
    assert_eq!(approval.login.as_deref(), Some(login.as_str()));
    let user = store.user_by_login(&login).await.unwrap().unwrap();
    assert_eq!((user.inn.as_str(), user.id), (INN, approval.user_id));
}

async fn concurrent_approvals_have_one_winner(store: Arc<dyn Store>) {
    let app = submit(
        &*store,
        application(ApplicationKind::Person, INN, "004"),
        NOW,
    )
    .await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { approve(&*store, app.number, None).await })
        })
        .collect();
    let (mut winners, mut conflicts) = (Vec::new(), 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(approval) => winners.push(approval),
            Err(StoreError::Conflict(rule)) if rule == "application" => conflicts += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((winners.len(), conflicts), (1, 7));
    let login = format!("{INN}001");
    assert_eq!(winners[0].login.as_deref(), Some(login.as_str()));
    let user = store.user_by_inn(INN).await.unwrap().unwrap();
    assert_eq!(
        (user.id.as_str(), user.login),
        (winners[0].user_id.as_str(), login)
    );
}

/// The same person with two applications, both approved at once: one user, and the other
/// approval fails on the INN (whichever login it tried first) and stays pending.
async fn concurrent_approvals_for_one_inn(store: Arc<dyn Store>) {
    for round in 0..4 {
        let inn = format!("8123456789012{round}");
        let a = submit(
            &*store,
            application(ApplicationKind::Person, &inn, "004"),
            NOW,
        )
        .await;
        let b = submit(
            &*store,
            application(ApplicationKind::Person, &inn, "002"),
            NOW,
        )
        .await;
        let spawn = |number: i64| {
            let store = store.clone();
            tokio::spawn(async move { approve(&*store, number, None).await })
        };
        let (ta, tb) = (spawn(a.number), spawn(b.number));
        let results = [ta.await.unwrap(), tb.await.unwrap()];
        let ok: Vec<&Approval> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(ok.len(), 1, "{results:?}");
        assert!(results.iter().any(|r| is_conflict(r, "inn")), "{results:?}");
        assert_eq!(ok[0].login, Some(format!("{inn}001")));
        let loser = if ok[0].application.number == a.number {
            &b
        } else {
            &a
        };
        assert_eq!(
            status_of(&*store, loser.number).await,
            ApplicationStatus::Pending
        );
    }
}
