//! The outside-system adapters of registration: the tax registry's CSV import (in process
//! on both backend families, and through the real `idp registry import`), and the population
//! registry over X-Road (the adapter against the emulator over loopback, and against tiny
//! misbehaving servers).

use std::process::Output;
use std::time::{Duration, Instant};

use salyk_idp::adapters::population::{PersonRecord, XRoadConfig, XRoadPopulationRegistry};
use salyk_idp::adapters::tax_registry_import::{import_csv, ImportFailure};
use salyk_idp::adapters::{PopulationRegistry, RegistryError};
use salyk_idp::store::{ForeignTrade, TaxpayerKind};
use tokio::net::TcpListener;

use crate::harness::{idp_command, spawn_population_emulator, Backend, TestApp};

const DEMO_CSV: &str = include_str!("../../idp/demo/registry.csv");
const HEADER: &str = "inn,kind,legal_form,name_ru,ugns_code,address,vat_payer,vat_reg_date,foreign_trade,parent_inn,head_pin,large_taxpayer,status";

fn good_file() -> String {
    format!(
        "{HEADER}\n\
         01503201699001,ORG,ОсОО,ОсОО «ДЕМО Импорт Трейд»,004,\"г. Бишкек, ул. Демонстрационная, 1\",yes,2017-01-01,IMPORT,—,21207198599011,no,ACTIVE\n\
         21207198599011,IP,ИП,ИП Демонов Азамат,001,\"г. Бишкек, мкр. Демо, 11\",no,,NONE,,(self),no,ACTIVE\n\
         13009198899016,IP,ИП,ИП Демонова Жылдыз,994,\"г. Бишкек, ул. Демонстрационная, 16\",false,,none,,(self),0,LIQUIDATED\n"
    )
}

// ---------------------------------------------------------------- CSV, in process

async fn a_good_file_imports_and_lookups_return_the_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let store = app.state.store.as_ref();
    assert_eq!(import_csv(store, &good_file()).await.unwrap(), 3);
    let registry = &app.state.tax_registry;
    let org = registry
        .taxpayer("01503201699001")
        .await
        .unwrap()
        .expect("org");
    assert_eq!(org.kind, TaxpayerKind::Organization);
    assert_eq!(org.name, "ОсОО «ДЕМО Импорт Трейд»");
    assert_eq!(org.address, "г. Бишкек, ул. Демонстрационная, 1");
    assert_eq!(org.ugns_code, "004");
    assert!(org.vat_payer && !org.liquidated && !org.large_taxpayer);
    assert_eq!(org.vat_reg_date.as_deref(), Some("2017-01-01"));
    assert_eq!(org.foreign_trade, ForeignTrade::Import);
    assert_eq!(org.head_pin.as_deref(), Some("21207198599011"));
    assert_eq!(org.parent_inn, None);
    let ip = registry
        .taxpayer("21207198599011")
        .await
        .unwrap()
        .expect("ip");
    assert_eq!(
        ip.head_pin.as_deref(),
        Some("21207198599011"),
        "(self) is the row's own INN"
    );
    let gone = registry
        .taxpayer("13009198899016")
        .await
        .unwrap()
        .expect("liquidated");
    assert!(gone.liquidated);
    assert!(registry.taxpayer("00211201999002").await.unwrap().is_none());

    // The demo dataset as shipped.
    assert_eq!(import_csv(store, DEMO_CSV).await.unwrap(), 12);
    let soft = registry
        .taxpayer("00211201999002")
        .await
        .unwrap()
        .expect("ДЕМО Софт");
    assert_eq!(soft.accountant_pin.as_deref(), Some("11908199599014"));
    let branch = registry
        .taxpayer("00709202199004")
        .await
        .unwrap()
        .expect("branch");
    assert_eq!(branch.kind, TaxpayerKind::Branch);
    assert_eq!(branch.parent_inn.as_deref(), Some("02006201199003"));
}

async fn a_file_with_bad_rows_reports_each_line_and_imports_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let text = format!(
        "{}\
         0150320169900A,ORG,ОсОО,Плохой ИНН,004,адрес,no,,NONE,,,no,ACTIVE\n\
         00211201999002,ORG,ОсОО,ОсОО «ДЕМО Софт»,2,адрес,no,,NONE,,,no,ACTIVE\n\
         23102199099020,PERSON,—,Демонов,003,адрес,perhaps,,NONE,,,no,ACTIVE\n",
        good_file()
    );
    let Err(ImportFailure::Invalid(errors)) = import_csv(app.state.store.as_ref(), &text).await
    else {
        panic!("the file must be refused");
    };
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![5, 6, 7], "{errors:?}");
    assert!(
        errors[0].to_string().starts_with("line 5: inn"),
        "{}",
        errors[0]
    );
    assert!(errors[1].message.contains("ugns_code"), "{}", errors[1]);
    assert!(
        errors[2].message.contains("inn") && errors[2].message.contains("vat_payer"),
        "every problem of a line: {}",
        errors[2]
    );
    // The good rows before them were not imported either.
    for inn in ["01503201699001", "21207198599011", "13009198899016"] {
        assert!(
            app.state
                .tax_registry
                .taxpayer(inn)
                .await
                .unwrap()
                .is_none(),
            "{inn}"
        );
    }
}

async fn re_import_is_idempotent_and_updates_values(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let store = app.state.store.as_ref();
    assert_eq!(import_csv(store, &good_file()).await.unwrap(), 3);
    let before = app
        .state
        .tax_registry
        .taxpayer("01503201699001")
        .await
        .unwrap();
    assert_eq!(import_csv(store, &good_file()).await.unwrap(), 3);
    assert_eq!(
        app.state
            .tax_registry
            .taxpayer("01503201699001")
            .await
            .unwrap(),
        before
    );
    let changed = good_file()
        .replace(
            "ОсОО «ДЕМО Импорт Трейд»,004",
            "ОсОО «ДЕМО Импорт Трейд 2»,005",
        )
        .replace("yes,2017-01-01,IMPORT", "no,,BOTH");
    assert_eq!(import_csv(store, &changed).await.unwrap(), 3);
    let after = app
        .state
        .tax_registry
        .taxpayer("01503201699001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.name, "ОсОО «ДЕМО Импорт Трейд 2»");
    assert_eq!(after.ugns_code, "005");
    assert!(!after.vat_payer && after.vat_reg_date.is_none());
    assert_eq!(after.foreign_trade, ForeignTrade::Both);
}

/// «Добавить ИНН» through the app's own adapters: the population registry (the harness's
/// emulator) knows the person, the tax registry does not, then does.
async fn add_inn_registers_a_person_from_the_population_registry(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    import_csv(app.state.store.as_ref(), DEMO_CSV)
        .await
        .unwrap();
    let inn = "12503199099021";
    assert!(app
        .state
        .tax_registry
        .taxpayer(inn)
        .await
        .unwrap()
        .is_none());
    let person = app
        .state
        .population
        .person(inn)
        .await
        .unwrap()
        .expect("in the population registry");
    assert_eq!(person.full_name(), "Демонова Айжан Асановна");
    let registered = app
        .state
        .tax_registry
        .register_person(&person, "004")
        .await
        .unwrap();
    assert_eq!(registered.kind, TaxpayerKind::Person);
    assert_eq!(registered.name, "Демонова Айжан Асановна");
    let found = app
        .state
        .tax_registry
        .taxpayer(inn)
        .await
        .unwrap()
        .expect("now a taxpayer");
    assert_eq!(found, registered);
    assert_eq!(found.address, person.address);
    // Again: nothing changes; an existing taxpayer is never overwritten.
    assert_eq!(
        app.state
            .tax_registry
            .register_person(&person, "001")
            .await
            .unwrap(),
        registered
    );
    let ip = app
        .state
        .population
        .person("21207198599011")
        .await
        .unwrap()
        .unwrap();
    let kept = app
        .state
        .tax_registry
        .register_person(&ip, "004")
        .await
        .unwrap();
    assert_eq!(kept.kind, TaxpayerKind::Entrepreneur);
    assert!(app
        .state
        .population
        .person("20512198899099")
        .await
        .unwrap()
        .is_none());
}

both_backends!(
    a_good_file_imports_and_lookups_return_the_rows,
    a_file_with_bad_rows_reports_each_line_and_imports_nothing,
    re_import_is_idempotent_and_updates_values,
    add_inn_registers_a_person_from_the_population_registry,
);

// ---------------------------------------------------------------- CSV, the real binary

fn idp(dir: &std::path::Path, args: &[&str]) -> Output {
    idp_command(dir).args(args).output().expect("run idp")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idp_registry_import_exits_zero_or_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&good, DEMO_CSV).unwrap();
    std::fs::write(
        &bad,
        format!("{HEADER}\n00211201999002,ORG,ОсОО,X,002,a,no,,NONE,,,no,ACTIVE\n00211201999003,SHOP,ОсОО,X,002,a,no,,NONE,,,no,ACTIVE\n"),
    )
    .unwrap();
    let data = dir.path().join("data");

    let out = idp(&data, &["registry", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3: kind \"SHOP\""), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");

    for _ in 0..2 {
        let out = idp(&data, &["registry", "import", good.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "imported 12 taxpayers"
        );
    }
    let missing = idp(&data, &["registry", "import", "/nonexistent/file.csv"]);
    assert!(!missing.status.success());

    // What the binary wrote: the good file only (the bad file's valid row is absent).
    let mut config = salyk_idp::config::Config::load(None, &|_| None).unwrap();
    config.data_dir = data.clone();
    let store = salyk_idp::app::open_store(&config).await.unwrap();
    assert_eq!(
        store
            .taxpayer("00211201999002")
            .await
            .unwrap()
            .unwrap()
            .name,
        "ОсОО «ДЕМО Софт»"
    );
}

// ---------------------------------------------------------------- X-Road

fn registry(url: Option<String>, tweak: impl FnOnce(&mut XRoadConfig)) -> XRoadPopulationRegistry {
    let mut config = XRoadConfig {
        security_server: url,
        timeout: Duration::from_secs(1),
        ..XRoadConfig::default()
    };
    tweak(&mut config);
    XRoadPopulationRegistry::new(config).unwrap()
}

#[tokio::test]
async fn adapter_and_emulator_over_loopback() {
    let (url, emulator) = spawn_population_emulator().await;
    let registry = registry(Some(url.clone()), |_| {});
    let person: PersonRecord = registry
        .person("20512198899022")
        .await
        .unwrap()
        .expect("found");
    assert_eq!(person.full_name(), "Демонов Эрлан Кубатович");
    assert_eq!(person.birth_date, "1988-12-05");
    assert_eq!(person.sex, "male");
    assert!(
        registry.person("20512198899023").await.unwrap().is_none(),
        "unknown INN"
    );

    let wrong_client = registry_with(&url, |c| c.client = "KG/GOV".into());
    match wrong_client.person("20512198899022").await {
        Err(RegistryError::Protocol(m)) => assert!(m.contains("Client.BadRequest"), "{m}"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
    let wrong_service = registry_with(&url, |c| c.service = "KG/GOV/70000002/grs/other".into());
    match wrong_service.person("20512198899022").await {
        Err(RegistryError::Protocol(m)) => {
            assert!(m.contains("Server.ServerProxy.UnknownService"), "{m}")
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
    emulator.abort();
}

fn registry_with(url: &str, tweak: impl FnOnce(&mut XRoadConfig)) -> XRoadPopulationRegistry {
    registry(Some(url.to_owned()), tweak)
}

#[tokio::test]
async fn emulator_headers_follow_the_protocol() {
    let (url, emulator) = spawn_population_emulator().await;
    let http = reqwest::Client::new();
    let person_url = format!("{url}/r1/KG/GOV/70000002/grs/person-by-pin/persons/12503199099021");
    let response = http
        .get(&person_url)
        .header("X-Road-Client", "KG/GOV/70000001/salyk-id")
        .header("X-Road-Id", "test-message-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let h = response.headers();
    assert_eq!(h["x-road-client"], "KG/GOV/70000001/salyk-id");
    assert_eq!(h["x-road-service"], "KG/GOV/70000002/grs/person-by-pin");
    assert_eq!(
        h["x-road-id"], "test-message-1",
        "the client's message id is kept"
    );
    assert!(uuid::Uuid::parse_str(h["x-road-request-id"].to_str().unwrap()).is_ok());
    assert!(h.get("x-road-error").is_none());
    assert!(h["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["family_name"], "Демонова");

    // Unknown INN: the provider's 404 passes through, not an X-Road error.
    let response = http
        .get(person_url.replace("12503199099021", "12503199099029"))
        .header("X-Road-Client", "KG/GOV/70000001/salyk-id")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.headers().get("x-road-error").is_none());
    assert!(
        !response.headers()["x-road-id"].is_empty(),
        "generated when the client sent none"
    );
    assert!(response.headers().contains_key("x-road-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["type"].is_string() && body["message"].is_string());

    // Missing client header: a security-server error with its header and body.
    let response = http.get(&person_url).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["x-road-error"], "Client.BadRequest");
    assert!(response.headers().contains_key("x-road-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["type"], "Client.BadRequest");
    assert!(body["message"].as_str().unwrap().contains("X-Road-Client"));
    assert!(body["detail"].is_string());

    // Not r1.
    let response = http
        .get(person_url.replace("/r1/", "/r2/"))
        .header("X-Road-Client", "KG/GOV/70000001/salyk-id")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["x-road-error"], "Client.BadRequest");
    emulator.abort();
}

#[tokio::test]
async fn a_down_registry_is_unavailable_quickly() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let started = Instant::now();
    let result = registry(Some(format!("http://{closed}")), |_| {})
        .person("12503199099021")
        .await;
    assert!(
        matches!(result, Err(RegistryError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    let result = registry(None, |_| {}).person("12503199099021").await;
    match result {
        Err(RegistryError::Unavailable(m)) => assert!(m.contains("not configured"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_slow_registry_times_out_as_unavailable() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            held.push(socket); // accept, read nothing, answer nothing
        }
    });
    let started = Instant::now();
    let result = registry(Some(format!("http://{addr}")), |_| {})
        .person("12503199099021")
        .await;
    let elapsed = started.elapsed();
    assert!(
        matches!(result, Err(RegistryError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );
    server.abort();
}

/// A security server that reports its provider as failed, or answers garbage.
#[tokio::test]
async fn x_road_failures_behind_the_security_server() {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    async fn failed() -> axum::response::Response {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("X-Road-Error", "Server.ServerProxy.ServiceFailed"), ("Content-Type", "application/json")],
            r#"{"type":"Server.ServerProxy.ServiceFailed","message":"Service failed","detail":"x"}"#,
        )
            .into_response()
    }
    async fn garbage() -> &'static str {
        "<html>not json</html>"
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route(
            "/r1/KG/GOV/70000002/grs/person-by-pin/persons/{inn}",
            axum::routing::get(failed),
        )
        .route(
            "/r1/KG/GOV/70000002/grs/garbage/persons/{inn}",
            axum::routing::get(garbage),
        );
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    match registry(Some(url.clone()), |_| {})
        .person("12503199099021")
        .await
    {
        Err(RegistryError::Unavailable(m)) => {
            assert!(m.contains("Server.ServerProxy.ServiceFailed"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    let garbage = registry(Some(url), |c| {
        c.service = "KG/GOV/70000002/grs/garbage".into()
    });
    assert!(matches!(
        garbage.person("12503199099021").await,
        Err(RegistryError::Protocol(_))
    ));

    // What a page shows for an unavailable registry.
    let error: salyk_idp::error::Error = RegistryError::Unavailable("down".into()).into();
    assert_eq!(error.status, 503);
    assert_eq!(error.message_key, Some("error.registry_unavailable"));
    server.abort();
}
