//! The account-selection page, which is also the consent page (A6, A7): its shape (radio
//! inputs named `account` labelled with name and INN, a submit button, CSRF), «Отмена»
//! (access_denied to the client), organization-only clients, tampered choices, and blocked
//! users, blocked memberships and liquidated organizations — also liquidated by importing
//! the tax registry (`idp registry import`), which ends that account's tokens.

use salyk_idp::store::{MemberRole, Membership};

use crate::authz_support::*;
use crate::harness::*;

async fn setup(backend: Backend) -> (TestApp, Rp, salyk_idp::store::User) {
    let app = TestApp::spawn(backend).await;
    let user = app.user(LOGIN, INN, NAME, PASSWORD).await;
    let client = rp(&app, ClientSpec::default()).await;
    (app, client, user)
}

async fn account_page_shape(backend: Backend) {
    let (app, rp, user) = setup(backend).await;
    app.org_member(&user, ORG_INN, ORG_NAME, MemberRole::Accountant)
        .await;
    let b = browser();
    let (_, html) = login_page(&app, &b, &Authz::new(&rp.id)).await;
    let response = post_login(
        &app,
        &b,
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("req", &hidden(&html, "req")),
            ("login", LOGIN),
            ("password", PASSWORD),
        ],
    )
    .await;
    let page = b.get(app.url(&location(&response))).send().await.unwrap();
    assert_eq!(page.headers()["cache-control"], "no-store");
    let page = page.text().await.unwrap();
    assert!(page.contains("Выбор входа"), "{page}");
    assert_eq!(
        radio_values(&page),
        vec![
            format!("individual:{INN}"),
            format!("organization:{ORG_INN}")
        ]
    );
    assert!(page.contains("type=\"radio\""));
    for text in [
        NAME,
        INN,
        "ОсОО «ДЕМО Импорт Трейд»",
        ORG_INN,
        "бухгалтер",
        "Продолжить",
        "Отмена",
    ] {
        let escaped = text.replace('«', "&laquo;");
        assert!(
            page.contains(text) || page.contains(&escaped),
            "«{text}» on the account page:\n{page}"
        );
    }
    assert!(page.contains("<label for=\"account-1\">") && page.contains("id=\"account-1\""));
    assert!(page.contains("type=\"submit\" name=\"action\" value=\"allow\""));
    assert!(hidden(&page, "csrf").len() >= 32);
}

async fn cancel_sends_access_denied(backend: Backend) {
    let (app, rp, user) = setup(backend).await;
    app.org_member(&user, ORG_INN, ORG_NAME, MemberRole::Head)
        .await;
    let b = browser();
    let next = first_hop(&app, &b, &Authz::new(&rp.id)).await;
    let account_page = location(&submit_password(&app, &b, &next, LOGIN, PASSWORD).await);
    let page = b
        .get(app.url(&account_page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Отмена") && page.contains("name=\"action\" value=\"cancel\""),
        "{page}"
    );
    let back = submit_account(&app, &b, &account_page, "", "cancel").await;
    let params = assert_client_error(&app, &back, "access_denied");
    assert_eq!(params["iss"], app.base);
    // The request is over: it cannot be completed afterwards.
    let again = b.get(app.url(&account_page)).send().await.unwrap();
    assert_error_page(again, 400, "Срок действия запроса на вход истёк").await;
}

async fn organization_only_client(backend: Backend) {
    let (app, _, user) = setup(backend).await;
    let org_only = rp(
        &app,
        ClientSpec {
            require_organization: true,
            ..Default::default()
        },
    )
    .await;
    // A user without an organization gets the message and no account to choose.
    let b = browser();
    let next = first_hop(&app, &b, &Authz::new(&org_only.id)).await;
    let account_page = location(&submit_password(&app, &b, &next, LOGIN, PASSWORD).await);
    assert!(
        account_page.starts_with("/login/account?"),
        "got {account_page}"
    );
    let page = b
        .get(app.url(&account_page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Этот сервис доступен только для организаций"),
        "{page}"
    );
    assert!(radio_values(&page).is_empty());
    let forced = submit_account(
        &app,
        &b,
        &account_page,
        &format!("individual:{INN}"),
        "allow",
    )
    .await;
    assert!(
        !location(&forced).starts_with(REDIRECT_URI),
        "no code for the personal account: {}",
        location(&forced)
    );
    let silent = start(&app, &b, &Authz::new(&org_only.id).set("prompt", "none")).await;
    let silent = assert_to_client(&app, &silent);
    assert!(
        silent.contains_key("error") && !silent.contains_key("code"),
        "prompt=none cannot get a personal-account code: {silent:?}"
    );
    // With an organization, only the organization is offered.
    app.org_member(&user, ORG_INN, ORG_NAME, MemberRole::Employee)
        .await;
    let page = b
        .get(app.url(&account_page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(radio_values(&page), vec![format!("organization:{ORG_INN}")]);
    let back = submit_account(
        &app,
        &b,
        &account_page,
        &format!("organization:{ORG_INN}"),
        "allow",
    )
    .await;
    let code = assert_to_client(&app, &back)["code"].clone();
    assert_eq!(
        id_claims(&app, &org_only, &code).await["account"]["role"],
        "employee"
    );
}

async fn tampered_account_choice_gets_no_code(backend: Backend) {
    let (app, rp, user) = setup(backend).await;
    app.org_member(&user, ORG_INN, ORG_NAME, MemberRole::Head)
        .await;
    let stranger = app
        .user(OTHER_LOGIN, OTHER_INN, "Асанов Бакыт", PASSWORD)
        .await;
    let foreign_org = "02202202202202";
    app.org_member(&stranger, foreign_org, "ОсОО «Чужая»", MemberRole::Head)
        .await;
    let b = browser();
    let next = first_hop(&app, &b, &Authz::new(&rp.id)).await;
    let account_page = location(&submit_password(&app, &b, &next, LOGIN, PASSWORD).await);
    for tampered in [
        format!("organization:{foreign_org}"),
        format!("individual:{OTHER_INN}"),
        "organization:".into(),
        "x".into(),
        String::new(),
    ] {
        let response = submit_account(&app, &b, &account_page, &tampered, "allow").await;
        let to = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(
            !to.starts_with(REDIRECT_URI),
            "no code for {tampered:?}: {to}"
        );
    }
    // The genuine choice still works, and the code is for that account.
    let back = submit_account(
        &app,
        &b,
        &account_page,
        &format!("organization:{ORG_INN}"),
        "allow",
    )
    .await;
    let code = assert_to_client(&app, &back)["code"].clone();
    assert_eq!(id_claims(&app, &rp, &code).await["account"]["inn"], ORG_INN);
}

async fn blocked_user_and_membership(backend: Backend) {
    let (app, rp, user) = setup(backend).await;
    app.org_member(&user, ORG_INN, ORG_NAME, MemberRole::Head)
        .await;
    let b = browser();
    // A blocked membership's organization is not offered, nor is a liquidated organization.
    app.state
        .store
        .upsert_membership(&Membership {
            org_inn: ORG_INN.into(),
            user_id: user.id.clone(),
            role: MemberRole::Head,
            blocked: true,
            comment: None,
        })
        .await
        .unwrap();
    let closed = "03303303303303";
    app.org_member(&user, closed, "ОсОО «Закрытая»", MemberRole::Head)
        .await;
    let mut org = app
        .state
        .store
        .organization(closed)
        .await
        .unwrap()
        .expect("org");
    org.liquidated = true;
    app.state.store.upsert_organization(&org).await.unwrap();
    let next = first_hop(&app, &b, &Authz::new(&rp.id)).await;
    let account_page = location(&submit_password(&app, &b, &next, LOGIN, PASSWORD).await);
    let page = b
        .get(app.url(&account_page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        radio_values(&page),
        vec![format!("individual:{INN}")],
        "{page}"
    );
    let response = submit_account(
        &app,
        &b,
        &account_page,
        &format!("organization:{ORG_INN}"),
        "allow",
    )
    .await;
    assert!(
        !location(&response).starts_with(REDIRECT_URI),
        "no code for a blocked membership"
    );
    // A blocked user's session stops working, and they cannot sign in: same message and
    // status as a wrong password.
    app.state
        .store
        .set_user_blocked(&user.id, true)
        .await
        .unwrap();
    let response = start(&app, &b, &Authz::new(&rp.id).set("prompt", "none")).await;
    assert_client_error(&app, &response, "login_required");
    let fresh = browser();
    let next = first_hop(&app, &fresh, &Authz::new(&rp.id)).await;
    let blocked = submit_password(&app, &fresh, &next, LOGIN, PASSWORD).await;
    let blocked_status = blocked.status();
    let blocked_page = blocked.text().await.unwrap();
    let wrong = submit_password(&app, &fresh, &next, LOGIN, "wrong password!").await;
    assert_eq!(blocked_status, wrong.status());
    assert!(
        blocked_page.contains("Неверный логин или пароль"),
        "{blocked_page}"
    );
    assert_eq!(
        blocked_page,
        wrong.text().await.unwrap(),
        "a blocked user's page is the wrong-password page"
    );
}

async fn registry_liquidation_ends_the_account(backend: Backend) {
    let (app, rp, user) = setup(backend).await;
    app.org_member(&user, ORG_INN, ORG_NAME, MemberRole::Accountant)
        .await;
    let b = browser();
    let request = Authz::new(&rp.id).set("scope", "openid offline_access");
    let next = first_hop(&app, &b, &request).await;
    let account_page = location(&submit_password(&app, &b, &next, LOGIN, PASSWORD).await);
    let org_key = format!("organization:{ORG_INN}");
    assert_eq!(
        radio_values(&get_text(&app, &b, &account_page).await),
        vec![format!("individual:{INN}"), org_key.clone()]
    );
    let back = submit_account(&app, &b, &account_page, &org_key, "allow").await;
    let code = assert_to_client(&app, &back)["code"].clone();
    let tokens = tokens_for(&app, &rp, &code).await;
    let access = tokens["access_token"].as_str().expect("access token");
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh token");
    let info = crate::rp::userinfo(&app, access).await;
    assert_eq!(info.ok()["account"]["inn"], ORG_INN);

    // The tax registry's export now says the organization is liquidated.
    let csv = app.shared.data_dir.join("registry.csv");
    std::fs::write(
        &csv,
        format!(
            "inn,kind,legal_form,name_ru,ugns_code,address,vat_payer,vat_reg_date,\
             foreign_trade,parent_inn,head_pin,accountant_pin,large_taxpayer,status\n\
             {ORG_INN},ORG,ОсОО,{ORG_NAME},004,\"г. Бишкек, ул. Демонстрационная, 1\",no,—,\
             NONE,—,—,{INN},no,LIQUIDATED\n"
        ),
    )
    .unwrap();
    let out = app.idp(&["registry", "import", csv.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        app.state
            .store
            .organization(ORG_INN)
            .await
            .unwrap()
            .expect("org")
            .liquidated
    );

    // Its tokens stop working (the CLI is another process: the server's directory cache
    // learns of the change at its next poll), and it is no longer offered.
    eventually("the liquidation imported by the CLI", || async {
        crate::rp::userinfo(&app, access).await.status == 401
    })
    .await;
    crate::rp::userinfo(&app, access)
        .await
        .assert_error(401, "invalid_token");
    let auth = crate::rp::Auth::Basic(rp.id.clone(), rp.secret.clone().unwrap_or_default());
    crate::rp::token(
        &app,
        &auth,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
    .assert_error(400, "invalid_grant");
    let again = first_hop(&app, &b, &request.set("prompt", "select_account")).await;
    assert_eq!(
        radio_values(&get_text(&app, &b, &again).await),
        vec![format!("individual:{INN}")]
    );
}

both_backends!(
    registry_liquidation_ends_the_account,
    account_page_shape,
    cancel_sends_access_denied,
    organization_only_client,
    tampered_account_choice_gets_no_code,
    blocked_user_and_membership,
);
