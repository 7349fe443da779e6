//! The rules behind «Зарегистрироваться» (R2, R5; manual §1.1, §1.3): every eligibility
//! branch for «физическое лицо» and «юридическое лицо», duplicate applications, the link
//! request of an existing user (right and wrong password), the saved-application message and
//! the status page for each status (decided through the store, as the inspector would).

use salyk_idp::store::{
    AccountKind, ApplicationKind, ApplicationStatus, MemberRole, NewApplication, Organization,
};

use crate::harness::*;
use crate::registration::*;

async fn person_eligibility(backend: Backend) {
    let app = setup(backend).await;
    for (inn, expected) in [
        (PERSON, None),
        (IP_OK, None),
        (KFH_OK, None),
        (
            IP_VAT,
            Some("является плательщиком НДС. Регистрация через ЭП обязательна"),
        ),
        (
            IP_IMPORT,
            Some("осуществляет импорт и/или экспорт товаров. Регистрация через ЭП обязательна"),
        ),
        (
            KFH_VAT,
            Some("Крестьянское (фермерское) хозяйство является плательщиком НДС"),
        ),
        (LIQUIDATED, Some("Налогоплательщик ликвидирован")),
        (ORG, Some("Этот ИНН принадлежит организации")),
        (
            ORG_VAT,
            Some("Организация является плательщиком НДС. Регистрация через ЭП обязательна"),
        ),
        (BRANCH, Some("Филиал регистрируется только через ЭП")),
    ] {
        let (status, html) = submit(&app, |csrf| person_form(csrf, inn, NEW_PASSWORD)).await;
        assert_eq!(status, 200);
        match expected {
            None => {
                let number = saved_number(&html);
                let application = app.state.store.application(number).await.unwrap().unwrap();
                assert_eq!(application.kind, ApplicationKind::Person);
                assert_eq!(application.person_inn, inn);
                assert_eq!(application.ugns_code, "004");
                // What the registry says, not what the browser posted.
                let registry = app.state.store.taxpayer(inn).await.unwrap().unwrap();
                assert_eq!(application.address, registry.address);
                assert!(!application.full_name.contains("Поиск"));
                let hash = application.password_hash.expect("a hash");
                assert!(hash.starts_with("$argon2id$") && !hash.contains(NEW_PASSWORD));
                assert!(app
                    .state
                    .hasher
                    .verify(NEW_PASSWORD.into(), Some(hash))
                    .await
                    .unwrap());
            }
            Some(message) => {
                assert!(
                    html.contains(message),
                    "{inn}: expected «{message}»:\n{html}"
                );
                assert!(html.contains("role=\"alert\""));
                assert!(app
                    .state
                    .store
                    .pending_application_for(inn, None)
                    .await
                    .unwrap()
                    .is_none());
            }
        }
    }
    // The entrepreneur's ФИО has no «ИП».
    let application = app
        .state
        .store
        .pending_application_for(IP_OK, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(application.full_name, "Демонов Азамат Бекович");
    // Signature refusals point to the signature tabs.
    let (_, html) = submit(&app, |csrf| person_form(csrf, IP_VAT, NEW_PASSWORD)).await;
    assert!(html.contains("Регистрация с электронной подписью — на вкладках"));
    assert!(
        html.contains(r#"<a class="button" href="/register?tab=signature">"#),
        "a button to the «ЭП» tab"
    );
    let events = app.state.store.recent_events(100).await.unwrap();
    assert!(events.iter().any(|e| e.kind == "registration.submit"
        && e.detail["person_inn"] == PERSON
        && e.detail["ip"] == "127.0.0.1"));
    assert!(events
        .iter()
        .any(|e| e.kind == "registration.refused" && e.detail["person_inn"] == IP_VAT));
}

async fn legal_entity_eligibility(backend: Backend) {
    let app = setup(backend).await;
    let (_, html) = submit(&app, |csrf| legal_form(csrf, ORG, IP_VAT, NEW_PASSWORD)).await;
    let by_head = app
        .state
        .store
        .application(saved_number(&html))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_head.kind, ApplicationKind::LegalEntity);
    assert_eq!(by_head.org_inn.as_deref(), Some(ORG));
    assert_eq!(by_head.org_name.as_deref(), Some("ОсОО «ДЕМО Софт»"));
    assert!(by_head.password_hash.is_some() && by_head.existing_user_id.is_none());
    let (_, html) = submit(&app, |csrf| legal_form(csrf, ORG, PERSON, NEW_PASSWORD)).await;
    let by_accountant = app
        .state
        .store
        .application(saved_number(&html))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_accountant.person_inn, PERSON);
    assert_eq!(by_accountant.full_name, "Демонова Нуржан Маратовна");
    for (org, inn, message) in [
        (ORG, STRANGER, "Регистрация юридического лица осуществляется руководителем или бухгалтером организации"),
        (ORG_VAT, IP_OK, "Организация является плательщиком НДС"),
        (ORG_LIQUIDATED, IP_OK, "Налогоплательщик ликвидирован"),
        (BRANCH, STRANGER, "Филиал регистрируется только через ЭП"),
        (IP_OK, IP_OK, "Этот ИНН не принадлежит юридическому лицу"),
        (ORG, ORG_LINK, "Этот ИНН принадлежит организации"),
    ] {
        let (_, html) = submit(&app, |csrf| legal_form(csrf, org, inn, NEW_PASSWORD)).await;
        assert!(html.contains(message), "{org}/{inn}: expected «{message}»:\n{html}");
        assert!(app.state.store.pending_application_for(inn, Some(org)).await.unwrap().is_none());
        assert!(html.contains(&format!("value=\"{org}\"")), "the form is kept");
    }
    let (_, html) = submit(&app, |csrf| {
        legal_form(csrf, UNKNOWN_ORG, IP_OK, NEW_PASSWORD)
    })
    .await;
    assert_eq!(
        field_error(&html, "org_inn").as_deref(),
        Some("Юридическое лицо с таким ИНН не найдено в базе налоговой службы")
    );
}

async fn duplicates(backend: Backend) {
    let app = setup(backend).await;
    let (_, html) = submit(&app, |csrf| person_form(csrf, PERSON, NEW_PASSWORD)).await;
    let number = saved_number(&html);
    let (_, html) = submit(&app, |csrf| person_form(csrf, PERSON, NEW_PASSWORD)).await;
    assert!(html.contains("Заявка на регистрацию уже подана"), "{html}");
    assert!(html.contains(&format!(
        "<a href=\"/register/status/{number}\">№ {number}</a>"
    )));
    let (_, html) = submit(&app, |csrf| legal_form(csrf, ORG, IP_VAT, NEW_PASSWORD)).await;
    let org_number = saved_number(&html);
    let (_, html) = submit(&app, |csrf| legal_form(csrf, ORG, IP_VAT, NEW_PASSWORD)).await;
    assert!(html.contains(&format!(
        "/register/status/{org_number}\">№ {org_number}</a>"
    )));
    // A registered user signs in instead.
    app.user(
        &format!("{IP_OK}001"),
        IP_OK,
        "Демонов Азамат Бекович",
        PASSWORD,
    )
    .await;
    let (_, html) = submit(&app, |csrf| person_form(csrf, IP_OK, NEW_PASSWORD)).await;
    assert!(
        html.contains("уже зарегистрирован в Кабинете налогоплательщика. Войдите"),
        "{html}"
    );
    assert!(app
        .state
        .store
        .pending_application_for(IP_OK, None)
        .await
        .unwrap()
        .is_none());
}

/// Two applications that would both create the same user are refused whichever comes first:
/// here the legal entity (by its accountant) waits, then the same person applies as a person.
async fn no_second_new_user_application(backend: Backend) {
    let app = setup(backend).await;
    let (_, html) = submit(&app, |csrf| legal_form(csrf, ORG, PERSON, NEW_PASSWORD)).await;
    let org_number = saved_number(&html);
    let (_, html) = submit(&app, |csrf| person_form(csrf, PERSON, NEW_PASSWORD)).await;
    assert!(html.contains("Заявка на регистрацию уже подана"), "{html}");
    assert!(
        html.contains(&format!(
            "/register/status/{org_number}\">№ {org_number}</a>"
        )),
        "{html}"
    );
    let pending = app
        .state
        .store
        .pending_applications_of(PERSON)
        .await
        .unwrap();
    assert_eq!(
        pending.len(),
        1,
        "only the legal entity's application is stored"
    );
}

async fn link_request(backend: Backend) {
    let app = setup(backend).await;
    let user = app
        .user(
            &format!("{IP_OK}001"),
            IP_OK,
            "Демонов Азамат Бекович",
            PASSWORD,
        )
        .await;
    // «Поиск» fills «Код УГНС», the name and the legal address from the organization.
    let (b, csrf) = open(&app).await;
    let mut lookup = legal_form(&csrf, ORG_LINK, IP_OK, "");
    lookup.retain(|(k, _)| {
        !matches!(
            *k,
            "org_name" | "full_name" | "address" | "ugns_code" | "action"
        )
    });
    lookup.push(("action", "lookup"));
    let (_, html) = post(&app, &b, "/register", &lookup).await;
    assert!(html.contains("<option value=\"005\" selected>"), "{html}");
    assert!(html.contains("value=\"ОсОО «ДЕМО Связь»\""));
    assert!(html.contains(&format!(
        "value=\"г. Бишкек, ул. Демонстрационная, {}\"",
        &ORG_LINK[11..]
    )));
    assert!(html.contains("value=\"Демонов Азамат Бекович\""));
    // A wrong password: no request.
    let (_, html) = submit(&app, |csrf| legal_form(csrf, ORG_LINK, IP_OK, NEW_PASSWORD)).await;
    assert_eq!(
        field_error(&html, "password").as_deref(),
        Some("Вы уже зарегистрированы в Кабинете налогоплательщика: укажите пароль вашей основной учётной записи")
    );
    assert!(app
        .state
        .store
        .pending_application_for(IP_OK, Some(ORG_LINK))
        .await
        .unwrap()
        .is_none());
    // The main account's password: a link request, no new login.
    let (_, html) = submit(&app, |csrf| legal_form(csrf, ORG_LINK, IP_OK, PASSWORD)).await;
    let application = app
        .state
        .store
        .application(saved_number(&html))
        .await
        .unwrap()
        .unwrap();
    assert!(
        html.contains("Запрос на привязку организации отправлен инспектору"),
        "{html}"
    );
    assert_eq!(application.kind, ApplicationKind::LinkRequest);
    assert_eq!(
        application.existing_user_id.as_deref(),
        Some(user.id.as_str())
    );
    assert_eq!(application.password_hash, None);
    assert_eq!(application.org_inn.as_deref(), Some(ORG_LINK));
    // Once linked, asking again says so.
    app.state
        .store
        .reject_application(application.number, &user.id, "тест", 1)
        .await
        .unwrap();
    app.org_member(&user, ORG_LINK, "ОсОО «ДЕМО Связь»", MemberRole::Head)
        .await;
    let (_, html) = submit(&app, |csrf| legal_form(csrf, ORG_LINK, IP_OK, PASSWORD)).await;
    assert!(
        html.contains("Эта организация уже привязана к вашей учётной записи"),
        "{html}"
    );
}

async fn status_pages(backend: Backend) {
    let app = setup(backend).await;
    let inspector = app
        .user(
            "inspector001",
            STRANGER,
            "Демонов Бакыт Таалайбекович",
            PASSWORD,
        )
        .await;
    let (_, html) = submit(&app, |csrf| person_form(csrf, PERSON, NEW_PASSWORD)).await;
    assert!(html.contains("Для подтверждения регистрации обратитесь с паспортом"));
    assert!(html.contains("004 — УГНС по Первомайскому району г. Бишкек"));
    let pending = saved_number(&html);
    let approved = submit(&app, |csrf| person_form(csrf, IP_OK, NEW_PASSWORD))
        .await
        .1;
    let approved = saved_number(&approved);
    let rejected = submit(&app, |csrf| person_form(csrf, KFH_OK, NEW_PASSWORD))
        .await
        .1;
    let rejected = saved_number(&rejected);
    app.state
        .store
        .approve_application(
            approved,
            &inspector.id,
            ("Демонов", "Азамат", Some("Бекович")),
            None,
            2,
        )
        .await
        .unwrap();
    app.state
        .store
        .reject_application(rejected, &inspector.id, "Паспорт не предъявлен", 3)
        .await
        .unwrap();
    let page = |n: i64| {
        let b = browser();
        let url = app.url(&format!("/register/status/{n}"));
        async move {
            let r = b.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, html) = page(pending).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Заявка ожидает рассмотрения инспектором"),
        "{html}"
    );
    assert!(html.contains("004 — УГНС по Первомайскому району г. Бишкек"));
    let (_, html) = page(approved).await;
    assert!(
        html.contains("Регистрация подтверждена") && html.contains("Ваш логин передаст инспектор"),
        "{html}"
    );
    let (_, html) = page(rejected).await;
    assert!(
        html.contains("В регистрации отказано") && html.contains("Паспорт не предъявлен"),
        "{html}"
    );
    for n in [pending, approved, rejected] {
        let (_, html) = page(n).await;
        for personal in [
            PERSON,
            IP_OK,
            KFH_OK,
            "Демонов",
            "Демонова",
            "Демонстрационная",
            "001",
        ] {
            assert!(!html.contains(personal), "status page {n} shows {personal}");
        }
    }
    assert_eq!(page(999_999).await.0, 404);
    let r = browser()
        .get(app.url("/register/status/x1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // A link request approved: no login to hand over.
    let user = app.state.store.user_by_inn(IP_OK).await.unwrap().unwrap();
    let link = app
        .state
        .store
        .create_application(
            &NewApplication {
                kind: ApplicationKind::LinkRequest,
                ugns_code: "005".into(),
                person_inn: IP_OK.into(),
                full_name: "Демонов Азамат Бекович".into(),
                address: "г. Бишкек".into(),
                org_inn: Some(ORG_LINK.into()),
                org_name: Some("ОсОО «ДЕМО Связь»".into()),
                password_hash: None,
                existing_user_id: Some(user.id.clone()),
                head_inn: None,
            },
            4,
        )
        .await
        .unwrap();
    let org = Organization {
        inn: ORG_LINK.into(),
        name: "ОсОО «ДЕМО Связь»".into(),
        ugns_code: "005".into(),
        kind: AccountKind::Organization,
        parent_inn: None,
        liquidated: false,
    };
    let approval = app
        .state
        .store
        .approve_application(
            link.number,
            &inspector.id,
            ("Демонов", "Азамат", None),
            Some((&org, MemberRole::Head)),
            5,
        )
        .await
        .unwrap();
    assert_eq!(approval.application.status, ApplicationStatus::Approved);
    let (_, html) = page(link.number).await;
    assert!(
        html.contains("Организация привязана к вашей учётной записи"),
        "{html}"
    );
    assert!(!html.contains("ДЕМО Связь"));
}

both_backends!(
    person_eligibility,
    legal_entity_eligibility,
    duplicates,
    no_second_new_user_application,
    link_request,
    status_pages,
);
