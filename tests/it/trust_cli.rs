//! `idp trust` as operators use it: the real binary on a temporary data directory (and on a
//! fresh PostgreSQL schema when `IDP_TEST_DATABASE_URL` is set), with CA certificates and CRLs
//! made for each test by the `openssl` command-line tool. What the CLI stores must load into
//! the signature core's `esig::TrustAnchors`.

use std::path::PathBuf;
use std::process::{Command, Output};

use salyk_idp::esig::TrustAnchors;
use salyk_idp::store::postgres::PostgresStore;
use salyk_idp::store::sqlite::SqliteStore;
use salyk_idp::store::{Store, TrustMaterial};
use sha2::{Digest, Sha256};

use crate::harness::{drop_schema_blocking, idp_command};

/// Generates each test once per backend: `trust_cli::sqlite::<name>` always,
/// `trust_cli::postgres::<name>` when PostgreSQL is configured.
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&super::Operator::sqlite());
                }
            )+
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(operator) = super::Operator::postgres() {
                        super::$name(&operator);
                    }
                }
            )+
        }
    };
}

on_both_databases!(
    cas_are_added_listed_and_removed,
    non_ca_and_unreadable_files_are_refused,
    crls_need_a_trusted_issuer_a_good_signature_and_to_be_newer,
);

/// Runs `idp` on one database and makes the test PKI in its directory.
struct Operator {
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl Operator {
    fn sqlite() -> Operator {
        Operator {
            dir: tempfile::tempdir().unwrap(),
            postgres: None,
        }
    }

    fn postgres() -> Option<Operator> {
        let url = match std::env::var("IDP_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ if std::env::var("IDP_REQUIRE_BACKENDS").as_deref() == Ok("1") => {
                panic!("IDP_REQUIRE_BACKENDS=1 but IDP_TEST_DATABASE_URL is not set")
            }
            _ => {
                eprintln!("note: IDP_TEST_DATABASE_URL is not set; skipping the PostgreSQL case");
                return None;
            }
        };
        let schema = format!("t_trust_{:012x}", rand::random::<u64>() >> 16);
        Some(Operator {
            dir: tempfile::tempdir().unwrap(),
            postgres: Some((url, schema)),
        })
    }

    fn idp(&self, args: &[&str]) -> Output {
        let mut command = idp_command(&self.dir.path().join("data"));
        if let Some((url, schema)) = &self.postgres {
            command
                .env("DATABASE_URL", url)
                .env("IDP_DATABASE_SCHEMA", schema);
        }
        command.args(args).output().expect("run idp")
    }

    /// stdout of a command that must succeed.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.idp(args);
        assert!(
            out.status.success(),
            "idp {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// stderr of a command that must fail with exit status 1.
    fn refused(&self, args: &[&str]) -> String {
        let out = self.idp(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "idp {args:?} should fail; stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn file(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("the openssl command-line tool");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A self-signed certificate `{name}.pem` (and `{name}.der`) with key `{name}.key` and
    /// the extensions of section `extensions` of [`OPENSSL_CNF`].
    fn certificate(&self, name: &str, subject: &str, extensions: &str) {
        std::fs::write(self.path("x509.cnf"), OPENSSL_CNF).unwrap();
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        self.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "3650",
            "-utf8",
            "-subj",
            subject,
            "-config",
            "x509.cnf",
            "-extensions",
            extensions,
        ]);
        self.openssl(&[
            "x509",
            "-in",
            &pem,
            "-outform",
            "DER",
            "-out",
            &format!("{name}.der"),
        ]);
    }

    /// A CRL `{out}.der` signed with `{signer}.key` in the name of the certificate
    /// `{issuer}.pem`, last updated at `last_update` (YYYYMMDDHHMMSSZ).
    fn crl(&self, out: &str, issuer: &str, signer: &str, last_update: &str) {
        let db = self.path(&format!("ca-{out}"));
        std::fs::create_dir_all(&db).unwrap();
        std::fs::write(db.join("index.txt"), "").unwrap();
        std::fs::write(db.join("crlnumber"), "01\n").unwrap();
        let cnf = format!(
            "[ca]\ndefault_ca = crl_ca\n[crl_ca]\ndatabase = {0}/index.txt\ncrlnumber = {0}/crlnumber\n\
             default_md = sha256\n",
            db.display()
        );
        std::fs::write(self.path("crl.cnf"), cnf).unwrap();
        let pem = format!("{out}.pem");
        self.openssl(&[
            "ca",
            "-gencrl",
            "-batch",
            "-config",
            "crl.cnf",
            "-cert",
            &format!("{issuer}.pem"),
            "-keyfile",
            &format!("{signer}.key"),
            "-crl_lastupdate",
            last_update,
            "-crl_nextupdate",
            "20360101000000Z",
            "-out",
            &pem,
        ]);
        self.openssl(&[
            "crl",
            "-in",
            &pem,
            "-outform",
            "DER",
            "-out",
            &format!("{out}.der"),
        ]);
    }

    /// What signature sign-in reads: the store's trust material, straight from the database.
    fn material(&self) -> TrustMaterial {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store: Box<dyn Store> = match &self.postgres {
                Some((url, schema)) => {
                    Box::new(PostgresStore::connect(url, Some(schema)).await.unwrap())
                }
                None => Box::new(
                    SqliteStore::connect(&self.path("data").join("salyk-id.sqlite"))
                        .await
                        .unwrap(),
                ),
            };
            store.trust_material().await.unwrap()
        })
    }

    /// Lowercase hex SHA-256 of `{name}.der`.
    fn thumbprint(&self, name: &str) -> String {
        let der = std::fs::read(self.path(&format!("{name}.der"))).unwrap();
        hex::encode(Sha256::digest(der))
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        if let Some((url, schema)) = self.postgres.take() {
            drop_schema_blocking(url, schema);
        }
    }
}

const OPENSSL_CNF: &str = "[req]\ndistinguished_name = dn\n[dn]\n\
    [v3_ca]\nbasicConstraints = critical,CA:true\nkeyUsage = critical,keyCertSign,cRLSign\n\
    subjectKeyIdentifier = hash\n\
    [v3_ca_without_key_usage]\nbasicConstraints = critical,CA:true\n\
    [v3_leaf]\nbasicConstraints = CA:false\nkeyUsage = critical,digitalSignature\n";

fn cas_are_added_listed_and_removed(op: &Operator) {
    op.certificate("root", "/C=KG/O=ГНС, тест/CN=Salyk Test Root", "v3_ca");
    op.certificate("issuing", "/C=KG/CN=Salyk Test Issuing", "v3_ca");
    let (root, issuing) = (op.thumbprint("root"), op.thumbprint("issuing"));
    let subject = "CN=Salyk Test Root,O=ГНС\\, тест,C=KG";

    assert!(op.ok(&["trust", "list"]).contains("no trusted CAs"));
    let added = op.ok(&["trust", "add", &op.file("root.pem")]);
    assert!(added.contains(&format!("trusted CA {subject}")), "{added}");
    assert!(added.contains(&format!("thumbprint {root}")), "{added}");
    // The same certificate as DER: not an error, and said so.
    let again = op.ok(&["trust", "add", &op.file("root.der")]);
    assert!(again.contains("already trusted"), "{again}");
    assert!(again.contains(&root), "{again}");
    op.ok(&["trust", "add", &op.file("issuing.der")]);

    let list = op.ok(&["trust", "list"]);
    assert!(list.contains("trusted CAs (2)"), "{list}");
    for expected in [
        &root,
        &issuing,
        subject,
        "CN=Salyk Test Issuing,C=KG",
        "valid until",
    ] {
        assert!(list.contains(expected), "{expected} missing from:\n{list}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&op.ok(&["trust", "list", "--json"])).unwrap();
    assert_eq!(json["cas"].as_array().unwrap().len(), 2, "{json}");

    // A unique prefix of 8 hex digits is enough.
    let removed = op.ok(&["trust", "remove", &root[..8]]);
    assert!(removed.contains("no longer trusted"), "{removed}");
    assert!(removed.contains(&root), "{removed}");
    let list = op.ok(&["trust", "list"]);
    assert!(!list.contains(&root) && list.contains(&issuing), "{list}");
    let gone = op.refused(&["trust", "remove", &root]);
    assert!(gone.contains("no trusted CA has the thumbprint"), "{gone}");
    let short = op.refused(&["trust", "remove", "abc"]);
    assert!(short.contains("at least its first 8 hex digits"), "{short}");
}

fn non_ca_and_unreadable_files_are_refused(op: &Operator) {
    op.certificate("leaf", "/C=KG/CN=Асанов Бакыт", "v3_leaf");
    let leaf = op.refused(&["trust", "add", &op.file("leaf.pem")]);
    assert!(
        leaf.contains("CN=Асанов Бакыт,C=KG is not a CA certificate"),
        "{leaf}"
    );
    std::fs::write(
        op.path("garbage.pem"),
        b"\x00\x01 this is not a certificate",
    )
    .unwrap();
    let garbage = op.refused(&["trust", "add", &op.file("garbage.pem")]);
    assert!(
        garbage.contains("garbage.pem: not an X.509 certificate (PEM or DER)"),
        "{garbage}"
    );
    let key = op.refused(&["trust", "add", &op.file("leaf.key")]);
    assert!(key.contains("PRIVATE KEY but no certificate"), "{key}");
    let missing = op.refused(&["trust", "add", &op.file("missing.pem")]);
    assert!(missing.contains("reading"), "{missing}");
    let not_a_crl = op.refused(&["trust", "crl", "add", &op.file("leaf.der")]);
    assert!(not_a_crl.contains("not an X.509 CRL"), "{not_a_crl}");
    assert!(op.ok(&["trust", "list"]).contains("no trusted CAs"));
}

fn crls_need_a_trusted_issuer_a_good_signature_and_to_be_newer(op: &Operator) {
    op.certificate("ca", "/C=KG/CN=Salyk CRL CA", "v3_ca");
    // Same name, another key: what a forged CRL would be signed with.
    op.certificate("impostor", "/C=KG/CN=Salyk CRL CA", "v3_ca");
    op.crl("january", "ca", "ca", "20260101000000Z");
    op.crl("february", "ca", "ca", "20260201000000Z");
    op.crl("forged", "impostor", "impostor", "20260301000000Z");

    let untrusted = op.refused(&["trust", "crl", "add", &op.file("january.der")]);
    assert!(
        untrusted.contains("the CRL's issuer CN=Salyk CRL CA,C=KG is not a trusted CA"),
        "{untrusted}"
    );
    op.ok(&["trust", "add", &op.file("ca.pem")]);

    let added = op.ok(&["trust", "crl", "add", &op.file("january.pem")]);
    assert!(
        added.contains("added the CRL of CN=Salyk CRL CA,C=KG"),
        "{added}"
    );
    let forged = op.refused(&["trust", "crl", "add", &op.file("forged.der")]);
    assert!(forged.contains("signature does not verify"), "{forged}");

    let replaced = op.ok(&["trust", "crl", "add", &op.file("february.der")]);
    assert!(
        replaced.contains("replaced the CRL of CN=Salyk CRL CA,C=KG"),
        "{replaced}"
    );
    let older = op.refused(&["trust", "crl", "add", &op.file("january.der")]);
    assert!(older.contains("as new or newer"), "{older}");
    let same = op.ok(&["trust", "crl", "add", &op.file("february.pem")]);
    assert!(same.contains("already stored"), "{same}");

    // Whatever the CLI accepted, the verifier loads: one bad row would refuse every sign-in.
    let material = op.material();
    assert_eq!((material.cas.len(), material.crls.len()), (1, 1));
    let anchors = TrustAnchors::new(&material.cas, &material.crls).expect("trust anchors");
    assert_eq!(anchors.crls().len(), 1);

    let list = op.ok(&["trust", "list"]);
    assert!(list.contains("CRLs (1)"), "{list}");
    assert!(
        list.contains("CN=Salyk CRL CA,C=KG  this update 2026-02-01T00:00:00Z  next update 2036-01-01T00:00:00Z"),
        "{list}"
    );

    let removed = op.ok(&["trust", "remove", &op.thumbprint("ca")]);
    assert!(removed.contains("removed its CRL too"), "{removed}");
    assert!(op.ok(&["trust", "list"]).contains("no CRLs"));
}
