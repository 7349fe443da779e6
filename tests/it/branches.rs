//! Branch registration (R10, D4) end to end: a branch's accountant applies (as the signature
//! registration will, through `registration::branch::apply`), the application is not an
//! inspector's, the real head of the head organization confirms it on «Филиалы головной
//! организации» (CSRF), and a relying party then gets `account.kind = branch` with
//! `head_inn`; rejection needs a reason; a head in the cabinet who is not `head_pin` in the
//! registry gets 403, the head of another organization 404; every refusal of `apply`; the
//! audit events.

use salyk_idp::registration::branch::{self, BranchRefusal};
use salyk_idp::store::{Application, ApplicationStatus, MemberRole, Taxpayer, TaxpayerKind, User};
use salyk_idp::web::i18n::{t, Lang};

use crate::authz_support::{assert_to_client, jwt_payload, redeem, rp, Authz, VERIFIER};
use crate::harness::*;
use crate::inspector::{console, inspector, taxpayer, text, INSPECTOR_PASSWORD};

/// The head organization (office 004), headed in the registry by `ORG_HEAD`.
const HEAD_ORG: (&str, &str) = ("01503201699001", "ОсОО «ДЕМО Холдинг»");
/// Its branch in Osh (office 032): head `BRANCH_HEAD`, accountant `ACCOUNTANT`.
const BRANCH: (&str, &str) = ("02006201199003", "Ошский филиал ОсОО «ДЕМО Холдинг»");
/// Another organization, headed by `OTHER_HEAD`.
const OTHER_ORG: (&str, &str) = ("00211201999002", "ОсОО «ДЕМО Софт»");
const LIQUIDATED_BRANCH: &str = "02006201199011";
const ENTREPRENEUR: &str = "22002198099021";

const ORG_HEAD: (&str, &str) = ("20101197099015", "Демонов Бакыт Таалайбекович");
const ACCOUNTANT: (&str, &str) = ("11908199599014", "Демонова Нуржан Маратовна");
const BRANCH_HEAD: &str = "21207198599011";
/// Head of `HEAD_ORG` in the cabinet only: the registry names `ORG_HEAD`.
const CABINET_HEAD: (&str, &str) = ("10101199000123", "Демонов Улан Асанович");
const OTHER_HEAD: (&str, &str) = ("10304199099012", "Демонова Айгуль Бакытовна");

fn login(inn: &str) -> String {
    format!("{inn}001")
}

/// The registry fixtures, the users and their memberships in the cabinet.
struct World {
    app: TestApp,
    accountant: User,
    head: User,
    cabinet_head: User,
    other_head: User,
}

async fn world(backend: Backend) -> World {
    let app = TestApp::spawn(backend).await;
    let mut head_org = taxpayer(HEAD_ORG.0, TaxpayerKind::Organization, HEAD_ORG.1, "004");
    head_org.head_pin = Some(ORG_HEAD.0.into());
    let mut branch = taxpayer(BRANCH.0, TaxpayerKind::Branch, BRANCH.1, "032");
    branch.parent_inn = Some(HEAD_ORG.0.into());
    branch.head_pin = Some(BRANCH_HEAD.into());
    branch.accountant_pin = Some(ACCOUNTANT.0.into());
    let mut liquidated = branch.clone();
    liquidated.inn = LIQUIDATED_BRANCH.into();
    liquidated.liquidated = true;
    let mut other = taxpayer(OTHER_ORG.0, TaxpayerKind::Organization, OTHER_ORG.1, "004");
    other.head_pin = Some(OTHER_HEAD.0.into());
    let mut entrepreneur: Taxpayer = taxpayer(
        ENTREPRENEUR,
        TaxpayerKind::Entrepreneur,
        "ИП Демонов",
        "004",
    );
    entrepreneur.parent_inn = Some(HEAD_ORG.0.into());
    entrepreneur.head_pin = Some(ACCOUNTANT.0.into());
    app.state
        .store
        .upsert_taxpayers(&[head_org, branch, liquidated, other, entrepreneur])
        .await
        .expect("registry fixtures");

    let accountant = app
        .user(&login(ACCOUNTANT.0), ACCOUNTANT.0, ACCOUNTANT.1, PASSWORD)
        .await;
    let head = app
        .user(&login(ORG_HEAD.0), ORG_HEAD.0, ORG_HEAD.1, PASSWORD)
        .await;
    app.org_member(&head, HEAD_ORG.0, HEAD_ORG.1, MemberRole::Head)
        .await;
    let cabinet_head = app
        .user(
            &login(CABINET_HEAD.0),
            CABINET_HEAD.0,
            CABINET_HEAD.1,
            PASSWORD,
        )
        .await;
    app.org_member(&cabinet_head, HEAD_ORG.0, HEAD_ORG.1, MemberRole::Head)
        .await;
    let other_head = app
        .user(&login(OTHER_HEAD.0), OTHER_HEAD.0, OTHER_HEAD.1, PASSWORD)
        .await;
    app.org_member(&other_head, OTHER_ORG.0, OTHER_ORG.1, MemberRole::Head)
        .await;
    World {
        app,
        accountant,
        head,
        cabinet_head,
        other_head,
    }
}

/// The accountant's application for the branch, as the signature registration files it.
async fn applied(w: &World) -> Application {
    branch::apply(
        &w.app.state,
        &w.accountant,
        BRANCH.0,
        HEAD_ORG.0,
        salyk_idp::clock::now(),
    )
    .await
    .expect("apply")
    .expect("application accepted")
}

/// Opens `/branches` in a fresh browser, signs in on the provider's page and comes back;
/// returns the browser and the page.
async fn branches_page(app: &TestApp, inn: &str) -> (reqwest::Client, String) {
    let b = browser();
    let first = b.get(app.url("/branches")).send().await.unwrap();
    assert_eq!(first.status(), 303, "not signed in → sign-in page");
    let to_login = location(&first);
    assert!(to_login.starts_with("/login?req="), "{to_login}");
    let page = get_text(app, &b, &to_login).await;
    let signed_in = b
        .post(app.url("/login/password"))
        .form(&[
            ("csrf", hidden(&page, "csrf").as_str()),
            ("req", hidden(&page, "req").as_str()),
            ("login", login(inn).as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), "/branches", "back to the page");
    let page = b.get(app.url("/branches")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    (b, text(page).await)
}

/// POSTs a decision with the page's CSRF token; `fields` follow it.
async fn decide(
    app: &TestApp,
    b: &reqwest::Client,
    number: i64,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = hidden(&get_text(app, b, "/branches").await, "csrf");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    b.post(app.url(&format!("/branches/{number}/{action}")))
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn status_of(app: &TestApp, number: i64) -> ApplicationStatus {
    let stored = app.state.store.application(number).await.unwrap();
    stored.expect("application").status
}

async fn events(app: &TestApp, kind: &str) -> Vec<salyk_idp::store::AuditEvent> {
    let all = app.state.store.recent_events(200).await.unwrap();
    all.into_iter().filter(|e| e.kind == kind).collect()
}

async fn confirmed_by_the_head_reaches_the_relying_party(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    let a = applied(&w).await;
    assert_eq!(a.ugns_code, "032");
    let applied_events = events(app, "registration.branch_applied").await;
    assert_eq!(applied_events.len(), 1);
    assert_eq!(
        applied_events[0].actor.as_deref(),
        Some(w.accountant.id.as_str())
    );
    assert_eq!(applied_events[0].detail["head_inn"], HEAD_ORG.0);

    // Not an inspector's: the branch's office inspector neither lists nor opens it.
    inspector(app, "inspector032", "20505198099020", &["032", "004"]).await;
    let (ib, console_page) = console(app, "inspector032", INSPECTOR_PASSWORD).await;
    let console_page = text(console_page).await;
    assert!(
        console_page.contains("Заявлений на рассмотрении нет"),
        "{console_page}"
    );
    let opened = ib
        .get(app.url(&format!("/inspector/applications/{}", a.number)))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), 404);

    let (b, page) = branches_page(app, ORG_HEAD.0).await;
    for expected in [
        "Филиалы головной организации",
        ORG_HEAD.1,
        BRANCH.0,
        BRANCH.1,
        "г. Бишкек, ул. Демонстрационная, 9003",
        "032 — УГНС по г. Ош",
        ACCOUNTANT.1,
        ACCOUNTANT.0,
        &format!("/branches/{}\"", a.number),
    ] {
        assert!(page.contains(expected), "«{expected}» on the list:\n{page}");
    }
    let home = get_text(app, &b, "/").await;
    assert!(home.contains("href=\"/branches\""), "{home}");
    let detail = b
        .get(app.url(&format!("/branches/{}", a.number)))
        .send()
        .await
        .unwrap();
    assert_eq!(detail.status(), 200);
    let detail = text(detail).await;
    assert!(
        detail.contains("бухгалтер") && detail.contains("Подтверждение регистрации филиала"),
        "{detail}"
    );

    let forged = b
        .post(app.url(&format!("/branches/{}/confirm", a.number)))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(status_of(app, a.number).await, ApplicationStatus::Pending);

    let done = decide(app, &b, a.number, "confirm", &[]).await;
    assert_eq!(done.status(), 200);
    let html = text(done).await;
    assert!(
        html.contains("Регистрация филиала подтверждена")
            && html.contains("Учётная запись филиала добавлена пользователю")
            && html.contains(ACCOUNTANT.1),
        "{html}"
    );
    let stored = app
        .state
        .store
        .application(a.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ApplicationStatus::Approved);
    assert_eq!(stored.decided_by.as_deref(), Some(w.head.id.as_str()));
    let event = &events(app, "branch.confirmed").await[0];
    assert_eq!(event.actor.as_deref(), Some(w.head.id.as_str()));
    assert_eq!(event.subject, Some(a.number.to_string()));
    assert_eq!(event.detail["branch_inn"], BRANCH.0);
    assert_eq!(event.detail["head_inn"], HEAD_ORG.0);
    assert_eq!(event.detail["role"], "accountant");
    let page = get_text(app, &b, "/branches").await;
    assert!(
        page.contains("Заявок филиалов на подтверждение нет"),
        "{page}"
    );
    let again = decide(app, &b, a.number, "confirm", &[]).await;
    assert_eq!(again.status(), 409);
    assert!(text(again).await.contains("Заявка уже рассмотрена"));

    // The accountant now acts for the branch at a relying party.
    let accounts = salyk_idp::accounts::accounts_of(app.state.store.as_ref(), &w.accountant)
        .await
        .unwrap();
    assert!(accounts
        .iter()
        .any(|acc| acc.key == format!("branch:{}", BRANCH.0)));
    let client = rp(app, ClientSpec::default()).await;
    let back = sign_in(
        app,
        &browser(),
        &Authz::new(&client.id).url(app),
        &login(ACCOUNTANT.0),
        PASSWORD,
        Some(BRANCH.0),
    )
    .await;
    let code = assert_to_client(app, &back)["code"].clone();
    let tokens: serde_json::Value = redeem(app, &client, &code, VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    let claims = jwt_payload(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(claims["inn"], ACCOUNTANT.0);
    assert_eq!(claims["account"]["kind"], "branch");
    assert_eq!(claims["account"]["inn"], BRANCH.0);
    assert_eq!(claims["account"]["head_inn"], HEAD_ORG.0);
    assert_eq!(claims["account"]["role"], "accountant");
    assert_eq!(claims["account"]["name"], BRANCH.1);
}

async fn rejection_needs_a_reason(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    let a = applied(&w).await;
    let (b, _) = branches_page(app, ORG_HEAD.0).await;
    for fields in [&[("reason", "")][..], &[("reason", "  \n ")], &[]] {
        let refused = decide(app, &b, a.number, "reject", fields).await;
        assert_eq!(refused.status(), 422);
        let html = text(refused).await;
        assert!(html.contains("Укажите причину отказа"), "{html}");
        assert!(html.contains("name=\"reason\""), "the form comes back");
    }
    assert_eq!(status_of(app, a.number).await, ApplicationStatus::Pending);

    let done = decide(
        app,
        &b,
        a.number,
        "reject",
        &[("reason", " Не наш филиал ")],
    )
    .await;
    assert_eq!(done.status(), 200);
    let html = text(done).await;
    assert!(
        html.contains("В регистрации филиала отказано") && html.contains("Не наш филиал"),
        "{html}"
    );
    let stored = app
        .state
        .store
        .application(a.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ApplicationStatus::Rejected);
    assert_eq!(stored.reject_reason.as_deref(), Some("Не наш филиал"));
    assert_eq!(stored.decided_by.as_deref(), Some(w.head.id.as_str()));
    let event = &events(app, "branch.rejected").await[0];
    assert_eq!(event.actor.as_deref(), Some(w.head.id.as_str()));
    assert_eq!(event.detail["reason"], "Не наш филиал");
    assert_eq!(event.detail["application"], a.number);
    assert_eq!(event.detail["branch_inn"], BRANCH.0);

    let confirm_after = decide(app, &b, a.number, "confirm", &[]).await;
    assert_eq!(confirm_after.status(), 409);
    let memberships = app
        .state
        .store
        .memberships_of_user(&w.accountant.id)
        .await
        .unwrap();
    assert!(memberships.is_empty(), "{memberships:?}");
    // A new application may follow the rejected one.
    applied(&w).await;
}

async fn only_the_registry_head_decides(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    let a = applied(&w).await;
    let detail = format!("/branches/{}", a.number);

    // Head in the cabinet, not in the registry: heads nothing, and may not decide (403).
    let (b, page) = branches_page(app, CABINET_HEAD.0).await;
    assert!(
        page.contains("Вы не являетесь руководителем головной организации"),
        "{page}"
    );
    assert!(!page.contains(BRANCH.0), "{page}");
    let forbidden = b.get(app.url(&detail)).send().await.unwrap();
    assert_eq!(forbidden.status(), 403);
    let forbidden = text(forbidden).await;
    assert!(
        forbidden.contains("Подтвердить регистрацию филиала может только руководитель"),
        "{forbidden}"
    );
    assert!(!forbidden.contains(ACCOUNTANT.0), "{forbidden}");
    assert_eq!(
        decide(app, &b, a.number, "confirm", &[]).await.status(),
        403
    );
    let reject = decide(app, &b, a.number, "reject", &[("reason", "Нет")]).await;
    assert_eq!(reject.status(), 403);

    // The head of another organization: it does not exist for them (404).
    let (b, page) = branches_page(app, OTHER_HEAD.0).await;
    assert!(page.contains(OTHER_ORG.1), "{page}");
    assert!(
        page.contains("Заявок филиалов на подтверждение нет"),
        "{page}"
    );
    let hidden_page = b.get(app.url(&detail)).send().await.unwrap();
    assert_eq!(hidden_page.status(), 404);
    let hidden_page = text(hidden_page).await;
    assert!(!hidden_page.contains(ACCOUNTANT.0), "{hidden_page}");
    let unknown = b.get(app.url("/branches/987654")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        hidden_page.replace(&detail, "/branches/987654"),
        text(unknown).await,
        "the same page as an unknown number"
    );
    assert_eq!(
        decide(app, &b, a.number, "confirm", &[]).await.status(),
        404
    );

    // The applicant heads nothing either.
    let (b, page) = branches_page(app, ACCOUNTANT.0).await;
    assert!(page.contains("Вы не являетесь руководителем головной организации"));
    assert_eq!(b.get(app.url(&detail)).send().await.unwrap().status(), 404);

    // The domain refuses the same way, whoever calls it.
    let state = &app.state;
    let now = salyk_idp::clock::now();
    let as_cabinet_head = branch::confirm(state, &w.cabinet_head, a.number, now).await;
    assert_eq!(
        as_cabinet_head.unwrap().unwrap_err(),
        branch::DecisionRefusal::NotHead
    );
    let as_other = branch::reject(state, &w.other_head, a.number, "Нет", now).await;
    assert_eq!(
        as_other.unwrap().unwrap_err(),
        branch::DecisionRefusal::NotFound
    );
    assert_eq!(status_of(app, a.number).await, ApplicationStatus::Pending);
    assert!(events(app, "branch.confirmed").await.is_empty());
    assert!(events(app, "branch.rejected").await.is_empty());
}

async fn apply_refusals(backend: Backend) {
    let w = world(backend).await;
    let state = &w.app.state;
    let now = salyk_idp::clock::now();
    let refused = |user: &User, branch_inn: &str, head_inn: &str| {
        let (user, branch_inn, head_inn) =
            (user.clone(), branch_inn.to_owned(), head_inn.to_owned());
        async move {
            branch::apply(state, &user, &branch_inn, &head_inn, now)
                .await
                .expect("apply")
                .expect_err("refused")
        }
    };
    let cases = [
        (
            &w.accountant,
            BRANCH.0,
            OTHER_ORG.0,
            BranchRefusal::NotBranchOfHead,
        ),
        (
            &w.accountant,
            ENTREPRENEUR,
            HEAD_ORG.0,
            BranchRefusal::BranchNotLegalEntity,
        ),
        (
            &w.head,
            BRANCH.0,
            HEAD_ORG.0,
            BranchRefusal::NotHeadOrAccountant,
        ),
        (
            &w.accountant,
            LIQUIDATED_BRANCH,
            HEAD_ORG.0,
            BranchRefusal::BranchLiquidated,
        ),
        (
            &w.accountant,
            "02006201199099",
            HEAD_ORG.0,
            BranchRefusal::BranchNotFound,
        ),
        (
            &w.accountant,
            BRANCH.0,
            "01503201699099",
            BranchRefusal::HeadNotFound,
        ),
        (&w.accountant, BRANCH.0, BRANCH.0, BranchRefusal::SameInn),
    ];
    for (user, branch_inn, head_inn, expected) in cases {
        assert_eq!(refused(user, branch_inn, head_inn).await, expected);
    }
    assert!(matches!(
        refused(&w.accountant, "123", HEAD_ORG.0).await,
        BranchRefusal::BranchInnInvalid(_)
    ));
    for (refusal, message) in [
        (
            BranchRefusal::NotBranchOfHead,
            "не является филиалом головной организации",
        ),
        (
            BranchRefusal::BranchNotLegalEntity,
            "Филиалом может быть только юридическое лицо",
        ),
        (
            BranchRefusal::NotHeadOrAccountant,
            "Вы не являетесь руководителем или бухгалтером филиала",
        ),
        (BranchRefusal::BranchLiquidated, "Филиал ликвидирован"),
    ] {
        assert!(
            t(Lang::Ru, refusal.message_key()).contains(message),
            "{refusal:?}"
        );
    }

    // Spaces and dashes in an INN are fine; a second application is a duplicate.
    let first = branch::apply(
        state,
        &w.accountant,
        "020-0620-1199003",
        " 01503201699001 ",
        now,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(first.org_inn.as_deref(), Some(BRANCH.0));
    assert_eq!(
        refused(&w.accountant, BRANCH.0, HEAD_ORG.0).await,
        BranchRefusal::Duplicate {
            number: first.number
        }
    );

    // Confirmed: applying again is R11's «Такой пользователь уже существует».
    branch::confirm(state, &w.head, first.number, now)
        .await
        .unwrap()
        .expect("confirmed");
    let again = refused(&w.accountant, BRANCH.0, HEAD_ORG.0).await;
    assert_eq!(again, BranchRefusal::AlreadyRegistered);
    assert_eq!(
        t(Lang::Ru, again.message_key()),
        "Ошибка регистрации. Такой пользователь уже существует"
    );

    let refusals = events(&w.app, "registration.branch_refused").await;
    assert_eq!(refusals.len(), 10, "{refusals:?}");
    let reasons: Vec<&str> = refusals
        .iter()
        .filter_map(|e| e.detail["reason"].as_str())
        .collect();
    for code in [
        "not_branch",
        "not_legal_entity",
        "not_head",
        "branch_liquidated",
        "duplicate",
        "already_registered",
    ] {
        assert!(reasons.contains(&code), "{code} in {reasons:?}");
    }
    assert!(refusals
        .iter()
        .all(|e| e.actor.is_some() && e.subject.is_none()));
    assert_eq!(events(&w.app, "registration.branch_applied").await.len(), 1);
}

both_backends!(
    confirmed_by_the_head_reaches_the_relying_party,
    rejection_needs_a_reason,
    only_the_registry_head_decides,
    apply_refusals,
);
