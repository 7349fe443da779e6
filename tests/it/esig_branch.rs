//! A branch registered by electronic signature (R10, D4) end to end, on both backend
//! families: the head organization's head registers by signature with a certificate naming
//! the head organization; the branch's accountant registers with «Я филиал» and a
//! certificate naming the branch — an application, no account yet; a person who is not the
//! head cannot confirm it; the head signs in on «Филиалы головной организации» by signature
//! and confirms; the accountant then signs in to a relying party and chooses the branch,
//! which arrives as `account.kind = branch` with the head organization's INN.

use serde_json::json;

use crate::authz_support::{redeem, rp, Authz, VERIFIER};
use crate::esig_signin::{
    api, csrf_of, follow_to_client, register_by_signature, sign_in_by_signature, TestPki,
};
use crate::harness::*;
use crate::inspector::taxpayer;
use salyk_idp::store::TaxpayerKind;

const HEAD_ORG: (&str, &str) = ("01503201699001", "ОсОО «ДЕМО Холдинг»");
const BRANCH: (&str, &str) = ("02006201199003", "Ошский филиал ОсОО «ДЕМО Холдинг»");
const HEAD: (&str, &str) = ("20101197099015", "Демонов Бакыт Таалайбекович");
const ACCOUNTANT: (&str, &str) = ("11908199599014", "Демонова Нуржан Маратовна");
const OUTSIDER: (&str, &str) = ("21207198599011", "Демонов Азамат Бекович");

async fn seed(app: &TestApp) {
    let mut head_org = taxpayer(HEAD_ORG.0, TaxpayerKind::Organization, HEAD_ORG.1, "004");
    head_org.head_pin = Some(HEAD.0.into());
    let mut branch = taxpayer(BRANCH.0, TaxpayerKind::Branch, BRANCH.1, "032");
    branch.parent_inn = Some(HEAD_ORG.0.into());
    branch.accountant_pin = Some(ACCOUNTANT.0.into());
    let people = [HEAD, ACCOUNTANT, OUTSIDER]
        .map(|(inn, name)| taxpayer(inn, TaxpayerKind::Person, name, "004"));
    let mut all = vec![head_org, branch];
    all.extend(people);
    app.state
        .store
        .upsert_taxpayers(&all)
        .await
        .expect("registry");
}

/// Signs `holder` in on `/branches` (the provider's own sign-in page, by signature) and
/// returns the browser, now on the page.
async fn branches_by_signature(
    app: &TestApp,
    holder: &salyk_idp::esig::pki::Credential,
) -> (reqwest::Client, String) {
    let b = browser();
    let first = b.get(app.url("/branches")).send().await.unwrap();
    let to_login = location(&first);
    assert!(to_login.starts_with("/login?req="), "{to_login}");
    let (status, answer) = sign_in_by_signature(app, &b, &to_login, holder).await;
    assert_eq!(status, 200, "{answer}");
    let back = b
        .get(app.url(answer["redirect"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&back), "/branches");
    let page = get_text(app, &b, "/branches").await;
    (b, page)
}

async fn confirm(app: &TestApp, b: &reqwest::Client, number: i64) -> reqwest::Response {
    let csrf = csrf_of(app, b, "/branches").await;
    b.post(app.url(&format!("/branches/{number}/confirm")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
}

async fn branch_by_signature_confirmed_by_the_head(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let pki = TestPki::new("Test CA");
    pki.trust_in(&app);
    let head = pki.person(HEAD.1, HEAD.0, Some(HEAD_ORG.0));
    let accountant = pki.person(ACCOUNTANT.1, ACCOUNTANT.0, Some(BRANCH.0));
    let outsider = pki.person(OUTSIDER.1, OUTSIDER.0, None);
    for holder in [&head, &outsider] {
        let (status, answer) = register_by_signature(&app, &browser(), holder, None).await;
        assert_eq!(status, 200, "{answer}");
    }

    // Without «Я филиал» a branch certificate is refused with the reason.
    let (status, answer) = register_by_signature(&app, &browser(), &accountant, None).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (409, Some("branch_needs_head")),
        "{answer}"
    );

    // «Я филиал»: an application, shown with its number; no branch account yet.
    let b = browser();
    let (status, answer) = register_by_signature(&app, &b, &accountant, Some(HEAD_ORG.0)).await;
    assert_eq!(status, 200, "{answer}");
    let done = get_text(&app, &b, "/register/signature/done").await;
    assert!(done.contains("esig-branch-applied"), "{done}");
    let pending = app
        .state
        .store
        .pending_branch_applications(&[HEAD_ORG.0.to_owned()])
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    let number = pending[0].number;
    let user = app
        .state
        .store
        .user_by_inn(ACCOUNTANT.0)
        .await
        .unwrap()
        .expect("the person is registered");
    let memberships = app.state.store.memberships_of_user(&user.id).await.unwrap();
    assert!(memberships.is_empty(), "the branch waits for its head");

    // Someone who is not the head: not theirs to decide.
    let (b_out, _) = branches_by_signature(&app, &outsider).await;
    let refused = confirm(&app, &b_out, number).await;
    assert!(
        matches!(refused.status().as_u16(), 403 | 404),
        "{}",
        refused.status()
    );
    assert!(app
        .state
        .store
        .memberships_of_user(&user.id)
        .await
        .unwrap()
        .is_empty());

    // The head confirms.
    let (b_head, page) = branches_by_signature(&app, &head).await;
    assert!(page.contains(BRANCH.0), "the application is listed: {page}");
    let confirmed = confirm(&app, &b_head, number).await;
    assert!(
        confirmed.status().is_success() || confirmed.status().is_redirection(),
        "{}",
        confirmed.status()
    );

    // The accountant now chooses the branch at a relying party.
    let rp = rp(&app, ClientSpec::default()).await;
    let request = Authz::new(&rp.id).set("prompt", "select_account");
    let browser = browser();
    let login_page = location(&browser.get(request.url(&app)).send().await.unwrap());
    let (status, answer) = sign_in_by_signature(&app, &browser, &login_page, &accountant).await;
    assert_eq!(status, 200, "{answer}");
    let back = follow_to_client(
        &app,
        &browser,
        answer["redirect"].as_str().unwrap().to_owned(),
        BRANCH.0,
    )
    .await;
    let code = location_params(&back)["code"].clone();
    let tokens: serde_json::Value = redeem(&app, &rp, &code, VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    let claims = crate::authz_support::jwt_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["account"]["kind"], "branch", "{claims}");
    assert_eq!(claims["account"]["inn"], BRANCH.0);
    assert_eq!(claims["account"]["head_inn"], HEAD_ORG.0);
    assert_eq!(claims["acr"], "high");

    // The API still needs the page's CSRF token for every call.
    let (status, _) = api(
        &app,
        &browser,
        "wrong",
        "challenge",
        json!({ "purpose": "register" }),
    )
    .await;
    assert_eq!(status, 403);
}

both_backends!(branch_by_signature_confirmed_by_the_head);

/// The README's demo tokens tell one story: Демонов Б. Т. registers the Ош branch of ОАО «ДЕМО
/// Энерго» with «Я филиал», Демонов Т. Э. registers the head organization with its
/// certificate and confirms the branch on «Филиалы головной организации».
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_tokens_tell_the_branch_story() {
    let app = TestApp::spawn_demo_with(|c| c.demo_token = true).await;
    let token = app.demo_token().await;
    let cert = |inn: &str, org: Option<&str>| {
        token
            .find(inn, org)
            .expect("a demo certificate")
            .credential
            .clone()
    };
    let branch_head = cert("20101197099015", Some("00709202199004"));
    let head = cert("22512197899013", Some("02006201199003"));

    let (status, answer) =
        register_by_signature(&app, &browser(), &branch_head, Some("02006201199003")).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = register_by_signature(&app, &browser(), &head, None).await;
    assert_eq!(status, 200, "{answer}");
    let (b, page) = branches_by_signature(&app, &head).await;
    assert!(page.contains("00709202199004"), "{page}");
    let number = app
        .state
        .store
        .pending_branch_applications(&["02006201199003".to_owned()])
        .await
        .unwrap()[0]
        .number;
    let confirmed = confirm(&app, &b, number).await;
    assert!(confirmed.status().is_success() || confirmed.status().is_redirection());
    let user = app
        .state
        .store
        .user_by_inn("20101197099015")
        .await
        .unwrap()
        .unwrap();
    let memberships = app.state.store.memberships_of_user(&user.id).await.unwrap();
    assert!(
        memberships
            .iter()
            .any(|(m, o)| m.org_inn == "00709202199004"
                && o.kind == salyk_idp::store::AccountKind::Branch),
        "{memberships:?}"
    );
}
