//! Contract cases for branch applications (R10, D4) in `RegistrationStore`: the `branch`
//! kind and `head_inn` round trip, the inspectors' queue never holding them, the head
//! organizations' queue, duplicates, approval adding the branch account to the existing user
//! (decided by the head's user id) and rejection — run against both backends by the runner of
//! `store_contract`.

use std::sync::Arc;

use salyk_idp::store::*;

use crate::store_contract::{add_user, contract_cases, org, run_postgres, run_sqlite, NOW};

contract_cases!(
    branch_application_round_trip,
    branch_application_needs_head_and_user,
    inspector_queue_never_holds_branch_applications,
    branch_queue_by_head_organization_oldest_first,
    pending_branch_application_is_a_duplicate,
    approve_branch_adds_branch_membership,
    approve_branch_needs_that_branch_under_that_head,
    reject_branch_with_reason,
);

const PERSON: &str = "21234567890123";
const BRANCH: &str = "02006201199003";
const HEAD: &str = "01503201699001";
const OTHER_HEAD: &str = "00211201999002";
const HEAD_USER_ID: &str = "head-user-1";

fn branch_application(user: &User, branch: &str, head: &str, ugns: &str) -> NewApplication {
    NewApplication {
        kind: ApplicationKind::Branch,
        ugns_code: ugns.into(),
        person_inn: user.inn.clone(),
        full_name: "Асанов Бакыт Эркинович".into(),
        address: "г. Ош, ул. Ленина, 1".into(),
        org_inn: Some(branch.into()),
        org_name: Some(format!("Филиал {branch}")),
        password_hash: None,
        existing_user_id: Some(user.id.clone()),
        head_inn: Some(head.into()),
    }
}

fn person_application(inn: &str, ugns: &str) -> NewApplication {
    NewApplication {
        kind: ApplicationKind::Person,
        ugns_code: ugns.into(),
        person_inn: inn.into(),
        full_name: "Асанова Айгуль Бакытовна".into(),
        address: "г. Бишкек".into(),
        org_inn: None,
        org_name: None,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        existing_user_id: None,
        head_inn: None,
    }
}

async fn submit(store: &dyn Store, new: NewApplication, at: UnixTime) -> Application {
    store.create_application(&new, at).await.unwrap()
}

fn numbers(applications: &[Application]) -> Vec<i64> {
    applications.iter().map(|a| a.number).collect()
}

/// The branch account as the head's confirmation adds it.
fn branch_org() -> Organization {
    org(BRANCH, AccountKind::Branch, Some(HEAD))
}

async fn approve(
    store: &dyn Store,
    number: i64,
    organization: &Organization,
    role: MemberRole,
) -> StoreResult<Approval> {
    let names = ("Асанов", "Бакыт", None);
    store
        .approve_application(
            number,
            HEAD_USER_ID,
            names,
            Some((organization, role)),
            NOW + 100,
        )
        .await
}

async fn branch_application_round_trip(store: Arc<dyn Store>) {
    let user = add_user(&*store, &format!("{PERSON}001"), PERSON).await;
    let app = submit(&*store, branch_application(&user, BRANCH, HEAD, "032"), NOW).await;
    let expected = Application {
        number: app.number,
        kind: ApplicationKind::Branch,
        ugns_code: "032".into(),
        person_inn: PERSON.into(),
        full_name: "Асанов Бакыт Эркинович".into(),
        address: "г. Ош, ул. Ленина, 1".into(),
        org_inn: Some(BRANCH.into()),
        org_name: Some(format!("Филиал {BRANCH}")),
        password_hash: None,
        existing_user_id: Some(user.id.clone()),
        status: ApplicationStatus::Pending,
        reject_reason: None,
        login: None,
        decided_by: None,
        decided_at: None,
        created_at: NOW,
        head_inn: Some(HEAD.into()),
    };
    assert_eq!(app, expected);
    assert_eq!(store.application(app.number).await.unwrap(), Some(expected));
    assert_eq!(
        ApplicationKind::parse("branch"),
        Some(ApplicationKind::Branch)
    );
    // The other kinds keep no head organization.
    let person = submit(&*store, person_application("31234567890123", "004"), NOW).await;
    assert_eq!(person.head_inn, None);
    assert_eq!(person.number, app.number + 1);
}

async fn branch_application_needs_head_and_user(store: Arc<dyn Store>) {
    let user = add_user(&*store, &format!("{PERSON}001"), PERSON).await;
    let no_head = NewApplication {
        head_inn: None,
        ..branch_application(&user, BRANCH, HEAD, "032")
    };
    assert!(store.create_application(&no_head, NOW).await.is_err());
    let no_user = NewApplication {
        existing_user_id: None,
        ..branch_application(&user, BRANCH, HEAD, "032")
    };
    assert!(store.create_application(&no_user, NOW).await.is_err());
    let unknown_user = NewApplication {
        existing_user_id: Some("no-such-user".into()),
        ..branch_application(&user, BRANCH, HEAD, "032")
    };
    let result = store.create_application(&unknown_user, NOW).await;
    assert!(matches!(result, Err(StoreError::NotFound(_))), "{result:?}");
    assert_eq!(store.pending_applications_of(PERSON).await.unwrap(), []);
}

async fn inspector_queue_never_holds_branch_applications(store: Arc<dyn Store>) {
    let user = add_user(&*store, &format!("{PERSON}001"), PERSON).await;
    let person = submit(&*store, person_application("31234567890123", "032"), NOW).await;
    let branch = submit(
        &*store,
        branch_application(&user, BRANCH, HEAD, "032"),
        NOW + 1,
    )
    .await;
    let queue = store.pending_applications(&["032".into()]).await.unwrap();
    assert_eq!(numbers(&queue), [person.number]);
    // The applicant's own pending list still has it (e.g. for the status page).
    assert_eq!(
        numbers(&store.pending_applications_of(PERSON).await.unwrap()),
        [branch.number]
    );
}

async fn branch_queue_by_head_organization_oldest_first(store: Arc<dyn Store>) {
    let first = add_user(&*store, &format!("{PERSON}001"), PERSON).await;
    let second = add_user(&*store, "31234567890123001", "31234567890123").await;
    let third = add_user(&*store, "11234567890123001", "11234567890123").await;
    let late = submit(
        &*store,
        branch_application(&first, BRANCH, HEAD, "032"),
        NOW + 20,
    )
    .await;
    let early = submit(
        &*store,
        branch_application(&second, "02006201199011", HEAD, "004"),
        NOW + 10,
    )
    .await;
    let other = submit(
        &*store,
        branch_application(&third, "02006201199012", OTHER_HEAD, "004"),
        NOW,
    )
    .await;
    submit(&*store, person_application("41234567890123", "004"), NOW).await;

    let mine = store
        .pending_branch_applications(&[HEAD.into()])
        .await
        .unwrap();
    assert_eq!(numbers(&mine), [early.number, late.number]);
    let both = store
        .pending_branch_applications(&[OTHER_HEAD.into(), HEAD.into()])
        .await
        .unwrap();
    assert_eq!(numbers(&both), [other.number, early.number, late.number]);
    assert_eq!(store.pending_branch_applications(&[]).await.unwrap(), []);
    assert_eq!(
        store
            .pending_branch_applications(&[BRANCH.into()])
            .await
            .unwrap(),
        []
    );

    // Decided applications leave the queue.
    store
        .reject_application(early.number, HEAD_USER_ID, "Не наш филиал", NOW + 30)
        .await
        .unwrap();
    let mine = store
        .pending_branch_applications(&[HEAD.into()])
        .await
        .unwrap();
    assert_eq!(numbers(&mine), [late.number]);
}

async fn pending_branch_application_is_a_duplicate(store: Arc<dyn Store>) {
    let user = add_user(&*store, &format!("{PERSON}001"), PERSON).await;
    let app = submit(&*store, branch_application(&user, BRANCH, HEAD, "032"), NOW).await;
    let found = store
        .pending_application_for(PERSON, Some(BRANCH))
        .await
        .unwrap();
    assert_eq!(found.map(|a| a.number), Some(app.number));
    assert_eq!(
        store.pending_application_for(PERSON, None).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .pending_application_for(PERSON, Some(HEAD))
            .await
            .unwrap(),
        None
    );
}

async fn approve_branch_adds_branch_membership(store: Arc<dyn Store>) {
    let user = add_user(&*store, &format!("{PERSON}001"), PERSON).await;
    let app = submit(&*store, branch_application(&user, BRANCH, HEAD, "032"), NOW).await;
    let branch = branch_org();
    let approval = approve(&*store, app.number, &branch, MemberRole::Accountant)
        .await
        .unwrap();
    assert_eq!(
        (approval.user_id.as_str(), approval.login),
        (user.id.as_str(), None)
    );
    let decided = Application {
        status: ApplicationStatus::Approved,
        decided_by: Some(HEAD_USER_ID.into()),
        decided_at: Some(NOW + 100),
        ..app
    };
    assert_eq!(approval.application, decided);
    assert_eq!(store.application(app.number).await.unwrap(), Some(decided));
    assert_eq!(
        store.organization(BRANCH).await.unwrap(),
        Some(branch.clone())
    );
    let membership = Membership {
        org_inn: BRANCH.into(),
        user_id: user.id.clone(),
        role: MemberRole::Accountant,
        blocked: false,
        comment: None,
    };
    assert_eq!(
        store.memberships_of_user(&user.id).await.unwrap(),
        [(membership, branch)]
    );
    // No new user: the applicant keeps their account and login.
    assert_eq!(store.user_by_inn(PERSON).await.unwrap(), Some(user));
    assert_eq!(
        store
            .pending_branch_applications(&[HEAD.into()])
            .await
            .unwrap(),
        []
    );
    let again = approve(&*store, app.number, &branch_org(), MemberRole::Head).await;
    assert!(
        matches!(&again, Err(StoreError::Conflict(r)) if r == "application"),
        "{again:?}"
    );
}

async fn approve_branch_needs_that_branch_under_that_head(store: Arc<dyn Store>) {
    let user = add_user(&*store, &format!("{PERSON}001"), PERSON).await;
    let app = submit(&*store, branch_application(&user, BRANCH, HEAD, "032"), NOW).await;
    let wrong = [
        org(BRANCH, AccountKind::Organization, None),
        org(BRANCH, AccountKind::Branch, None),
        org(BRANCH, AccountKind::Branch, Some(OTHER_HEAD)),
        org("02006201199011", AccountKind::Branch, Some(HEAD)),
    ];
    for organization in &wrong {
        let result = approve(&*store, app.number, organization, MemberRole::Head).await;
        assert!(
            matches!(result, Err(StoreError::Internal(_))),
            "{organization:?}: {result:?}"
        );
    }
    let missing = store
        .approve_application(app.number, HEAD_USER_ID, ("А", "Б", None), None, NOW)
        .await;
    assert!(
        matches!(missing, Err(StoreError::Internal(_))),
        "{missing:?}"
    );
    // Each failed approval rolled back: still pending, nothing added.
    let stored = store.application(app.number).await.unwrap().unwrap();
    assert_eq!(stored.status, ApplicationStatus::Pending);
    assert_eq!(store.memberships_of_user(&user.id).await.unwrap(), []);
    assert_eq!(store.organization(BRANCH).await.unwrap(), None);
}

async fn reject_branch_with_reason(store: Arc<dyn Store>) {
    let user = add_user(&*store, &format!("{PERSON}001"), PERSON).await;
    let app = submit(&*store, branch_application(&user, BRANCH, HEAD, "032"), NOW).await;
    let rejected = store
        .reject_application(app.number, HEAD_USER_ID, "Не наш филиал", NOW + 50)
        .await
        .unwrap();
    let expected = Application {
        status: ApplicationStatus::Rejected,
        reject_reason: Some("Не наш филиал".into()),
        decided_by: Some(HEAD_USER_ID.into()),
        decided_at: Some(NOW + 50),
        ..app
    };
    assert_eq!(rejected, expected);
    assert_eq!(store.application(app.number).await.unwrap(), Some(expected));
    let approve_after = approve(&*store, app.number, &branch_org(), MemberRole::Head).await;
    assert!(
        matches!(&approve_after, Err(StoreError::Conflict(r)) if r == "application"),
        "{approve_after:?}"
    );
    assert_eq!(store.memberships_of_user(&user.id).await.unwrap(), []);
    assert_eq!(
        store
            .pending_application_for(PERSON, Some(BRANCH))
            .await
            .unwrap(),
        None
    );
}
