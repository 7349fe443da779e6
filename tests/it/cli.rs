//! The `idp` command line as operators use it: the real binary, run as a child process on a
//! temporary data directory (and on PostgreSQL when configured). Names and flags are the
//! contract scripts rely on.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::harness::{drop_schema_blocking, production_available};

struct Cli {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Cli {
    fn embedded() -> Cli {
        Cli {
            dir: tempfile::tempdir().unwrap(),
            env: Vec::new(),
        }
    }

    fn postgres() -> Cli {
        let url = std::env::var("IDP_TEST_DATABASE_URL").unwrap();
        let schema = format!("t_cli_{:012x}", rand::random::<u64>() >> 16);
        Cli {
            dir: tempfile::tempdir().unwrap(),
            env: vec![
                ("DATABASE_URL".into(), url),
                ("IDP_DATABASE_SCHEMA".into(), schema),
            ],
        }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_idp"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("IDP_DATA_DIR", self.dir.path())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn idp");
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().expect("idp output")
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "idp {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

fn operator_commands(cli: &Cli) {
    assert!(cli.ok(&["migrate"], None).contains("migrations applied"));

    let created: serde_json::Value = serde_json::from_str(&cli.ok(
        &[
            "client",
            "create",
            "--name",
            "ЭСФ",
            "--redirect-uri",
            "https://esf.example.kg/cb",
            "--redirect-uri",
            "http://127.0.0.1:7000/cb",
            "--post-logout-redirect-uri",
            "https://esf.example.kg/bye",
            "--grant",
            "authorization_code",
            "--grant",
            "refresh_token",
            "--grant",
            "client_credentials",
            "--scope",
            "openid",
            "--scope",
            "profile",
            "--id-token-alg",
            "ES256",
            "--json",
        ],
        None,
    ))
    .expect("--json prints one JSON object");
    let id = created["client_id"].as_str().expect("client_id").to_owned();
    assert!(
        created["client_secret"]
            .as_str()
            .expect("client_secret")
            .len()
            >= 43,
        "a 256-bit secret"
    );

    let public: serde_json::Value = serde_json::from_str(&cli.ok(
        &[
            "client",
            "create",
            "--name",
            "SPA",
            "--redirect-uri",
            "http://localhost:3000/cb",
            "--auth-method",
            "none",
            "--access-token-alg",
            "ES256",
            "--json",
        ],
        None,
    ))
    .unwrap();
    assert!(
        public["client_secret"].is_null(),
        "public clients get no secret"
    );

    let list: serde_json::Value =
        serde_json::from_str(&cli.ok(&["client", "list", "--json"], None)).unwrap();
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == id.as_str())
        .expect("listed");
    assert_eq!(listed["id_token_alg"], "ES256");
    assert_eq!(
        listed["access_token_alg"], "ES256",
        "access tokens follow --id-token-alg unless told otherwise"
    );
    let spa = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == public["client_id"])
        .expect("SPA listed");
    assert_eq!(spa["id_token_alg"], "RS256");
    assert_eq!(spa["access_token_alg"], "ES256");
    assert_eq!(
        listed["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert!(
        listed.get("client_secret").is_none() && listed.get("secret_digest").is_none(),
        "list never shows secrets"
    );
    let defaults = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "SPA")
        .unwrap();
    assert_eq!(
        defaults["scopes"],
        serde_json::json!(["openid", "profile", "offline_access"])
    );
    assert_eq!(defaults["auth_method"], "none");

    assert!(cli
        .ok(&["client", "disable", &id], None)
        .contains("disabled"));
    let list: serde_json::Value =
        serde_json::from_str(&cli.ok(&["client", "list", "--json"], None)).unwrap();
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["client_id"] == id.as_str())
            .unwrap()["disabled"],
        true
    );
    assert!(!cli
        .run(&["client", "disable", "no-such-client"], None)
        .status
        .success());

    let user: serde_json::Value = serde_json::from_str(&cli.ok(
        &[
            "user",
            "create",
            "--login",
            "21207198599011001",
            "--inn",
            "21207198599011",
            "--name",
            "Демонов Азамат Бекович",
            "--password-stdin",
            "--json",
        ],
        Some("пароль-достаточно-длинный\n"),
    ))
    .unwrap();
    assert_eq!(user["login"], "21207198599011001");
    assert!(cli
        .ok(
            &[
                "org",
                "create",
                "--inn",
                "01503201699001",
                "--name",
                "ОсОО «ДЕМО»",
                "--ugns",
                "004"
            ],
            None
        )
        .contains("01503201699001"));
    assert!(cli
        .ok(
            &[
                "org",
                "add-member",
                "--org",
                "01503201699001",
                "--user-inn",
                "21207198599011",
                "--role",
                "head"
            ],
            None
        )
        .contains("head"));
    assert!(!cli
        .run(
            &[
                "org",
                "add-member",
                "--org",
                "01503201699001",
                "--user-inn",
                "99999999999999",
                "--role",
                "head"
            ],
            None
        )
        .status
        .success());

    let rotated = cli.ok(&["keys", "rotate"], None);
    assert!(
        rotated.contains("RS256") && rotated.contains("ES256"),
        "{rotated}"
    );
}

fn refusals(cli: &Cli) {
    let short = cli.run(
        &[
            "user",
            "create",
            "--login",
            "x",
            "--inn",
            "21207198599011",
            "--name",
            "А Б",
            "--password-stdin",
        ],
        Some("short"),
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("8 characters"));
    let bad_inn = cli.run(
        &[
            "user",
            "create",
            "--login",
            "x",
            "--inn",
            "123",
            "--name",
            "А Б",
            "--password-stdin",
        ],
        Some("long enough password"),
    );
    assert!(String::from_utf8_lossy(&bad_inn.stderr).contains("14 digits"));
    let bad_uri = cli.run(
        &[
            "client",
            "create",
            "--name",
            "x",
            "--redirect-uri",
            "http://evil.example/cb",
        ],
        None,
    );
    assert!(!bad_uri.status.success());
    assert!(String::from_utf8_lossy(&bad_uri.stderr).contains("https"));
    let public_cc = cli.run(
        &[
            "client",
            "create",
            "--name",
            "x",
            "--redirect-uri",
            "https://a.kg/cb",
            "--auth-method",
            "none",
            "--grant",
            "client_credentials",
        ],
        None,
    );
    assert!(!public_cc.status.success());
    let public_no_rotation = cli.run(
        &[
            "client",
            "create",
            "--name",
            "x",
            "--redirect-uri",
            "https://a.kg/cb",
            "--auth-method",
            "none",
            "--no-refresh-rotation",
        ],
        None,
    );
    assert!(!public_no_rotation.status.success());
}

#[test]
fn operator_commands_embedded() {
    let cli = Cli::embedded();
    operator_commands(&cli);
    refusals(&cli);
}

#[test]
fn operator_commands_postgres() {
    if production_available() {
        let cli = Cli::postgres();
        operator_commands(&cli);
        drop_schema_blocking(cli.env[0].1.clone(), cli.env[1].1.clone());
    }
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line() {
    let mut cli = Cli::embedded();
    cli.env = vec![
        ("IDP_LISTEN".into(), "nowhere".into()),
        ("DATABASE_URL".into(), "mysql://x".into()),
    ];
    let out = cli.run(&["serve"], None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one clear line: {stderr}");
    assert!(
        lines[0].contains("IDP_LISTEN") && lines[0].contains("DATABASE_URL"),
        "{stderr}"
    );
}

#[test]
fn serve_logs_its_backends_without_secrets() {
    let cli = Cli::embedded();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_idp"))
        .arg("serve")
        .env("IDP_DATA_DIR", cli.dir.path())
        .env("IDP_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        line.clear();
        if std::io::BufRead::read_line(&mut reader, &mut line).unwrap() == 0
            || line.contains("listening")
        {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("listening"), "start-up line: {line}");
    assert!(
        line.contains("sqlite") && line.contains("memory") && line.contains("keys"),
        "{line}"
    );
}
