//! Interoperability: what the system `openssl cms -sign` produces must verify, in the forms
//! tokens and tools emit (attached, detached, streamed BER, PEM, PSS, ECDSA). Skipped with
//! a note when /usr/bin/openssl is absent.

use std::path::Path;
use std::process::Command;

use super::*;

const OPENSSL: &str = "/usr/bin/openssl";

struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn new(signer: &Credential) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let write =
            |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes).unwrap();
        write("challenge", CHALLENGE);
        write("cert.pem", signer.certificate_pem().as_bytes());
        write("key.pem", signer.key_pem().unwrap().as_bytes());
        write("inter.pem", pki().inter.certificate_pem().as_bytes());
        Run { dir }
    }

    /// Runs `openssl cms -sign` with `extra` arguments and returns the output file.
    fn sign(&self, extra: &[&str]) -> Vec<u8> {
        let p = |name: &str| self.dir.path().join(name).to_string_lossy().into_owned();
        let out = p("out");
        let mut args = vec!["cms", "-sign", "-binary"];
        let (challenge, cert, key, inter) =
            (p("challenge"), p("cert.pem"), p("key.pem"), p("inter.pem"));
        args.extend([
            "-in",
            &challenge,
            "-signer",
            &cert,
            "-inkey",
            &key,
            "-certfile",
            &inter,
        ]);
        args.extend(["-out", &out]);
        args.extend(extra);
        let status = Command::new(OPENSSL).args(&args).output().unwrap();
        assert!(
            status.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        std::fs::read(&out).unwrap()
    }
}

fn available() -> bool {
    let present = Path::new(OPENSSL).exists();
    if !present {
        eprintln!("note: {OPENSSL} is missing; the openssl cms interoperability test is skipped");
    }
    present
}

fn attached(cms: &[u8]) -> Result<SignerIdentity, Refusal> {
    check(cms)
}

fn detached(cms: &[u8]) -> Result<SignerIdentity, Refusal> {
    let input = SignedInput::Detached {
        cms,
        content: CHALLENGE,
    };
    verify(input, CHALLENGE, &pki().anchors, &Policy::default(), now())
}

#[test]
fn openssl_cms_sign_output_verifies() {
    if !available() {
        return;
    }
    let rsa_run = Run::new(&pki().signer);
    type Check = fn(&[u8]) -> Result<SignerIdentity, Refusal>;
    let cases: Vec<(&str, Vec<u8>, Check)> = vec![
        (
            "DER attached",
            rsa_run.sign(&["-nodetach", "-outform", "DER"]),
            attached,
        ),
        (
            "PEM attached",
            rsa_run.sign(&["-nodetach", "-outform", "PEM"]),
            attached,
        ),
        ("DER detached", rsa_run.sign(&["-outform", "DER"]), detached),
        (
            "streamed BER attached",
            rsa_run.sign(&["-nodetach", "-stream", "-outform", "DER"]),
            attached,
        ),
        (
            "RSA-PSS SHA-384",
            rsa_run.sign(&[
                "-nodetach",
                "-outform",
                "DER",
                "-md",
                "sha384",
                "-keyopt",
                "rsa_padding_mode:pss",
            ]),
            attached,
        ),
    ];
    let streamed = &cases[3].1;
    assert_eq!(
        streamed[1], 0x80,
        "-stream output uses indefinite lengths (BER)"
    );
    let ec_signer = pki::issue(&pki().inter, keys().p384.clone(), &leaf_spec()).unwrap();
    let ec_run = Run::new(&ec_signer);
    let ec = ec_run.sign(&["-nodetach", "-outform", "DER", "-md", "sha384"]);
    let cases = cases
        .into_iter()
        .chain([("ECDSA P-384", ec, attached as Check)]);
    for (name, cms, verify_it) in cases {
        let identity = verify_it(&cms).unwrap_or_else(|r| panic!("{name}: {r}"));
        assert_eq!(identity.person_inn, PERSON_INN, "{name}");
    }
}
