//! The demo soft token: the server side of `static/rutoken-standin.js`, the software
//! stand-in of the Rutoken browser plugin that `idp demo` and the tests use instead of a USB
//! token (`IDP_DEMO_TOKEN`). HTTP lives in [`super::token_http`]; this module holds the
//! devices, their certificates and keys, the PIN counters and the login sessions.
//!
//! - Four demo devices, one per demo person of `registry.csv`, each with a personal
//!   certificate and one of an organization they head or keep the books of (see [`DEVICES`]).
//!   Subjects follow the profile [`crate::esig::IdentityMapping`] reads: `serialNumber` = the
//!   person's INN, `CN` = the name, and for an organization `organizationIdentifier` = its INN
//!   and `O` = its name.
//! - Keys and certificates are issued by a **demo CA** made on first use and kept under
//!   `{data_dir}/demo-token/` (so a restarted demo keeps trusting the same CA); `idp demo`
//!   puts the CA into the trust store. The keys lie there unencrypted: demo only.
//! - PIN [`DEMO_PIN`] everywhere; [`MAX_PIN_ATTEMPTS`] wrong PINs in a row lock a device until
//!   the process restarts (kept in memory, like the login sessions: per process, so behind a
//!   load balancer a login on one process is unknown to the next — a demo runs one).
//! - `sign` makes a real CMS SignedData (content attached, signed attributes, signer
//!   certificate included) with [`crate::esig::pki`]: the server verifies it exactly as one
//!   from a real token.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use openssl::pkey::PKey;
use openssl::x509::X509;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::esig::pki::{self, CertSpec, CmsOptions, Credential, KeySpec, Subject};
use crate::esig::SignatureAlgorithm;
use crate::store::TrustedCa;

/// The user PIN of every demo device (Rutoken's factory default).
pub const DEMO_PIN: &str = "12345678";
/// Wrong PINs in a row that lock a device.
pub const MAX_PIN_ATTEMPTS: u8 = 3;
/// What `getDeviceInfo(TOKEN_INFO_LABEL)` starts with, so nobody mistakes it for a token.
pub const DEVICE_LABEL: &str = "Демо-рутокен (программный, только для демонстрации)";
/// How long a login lasts without use.
const SESSION_TTL: Duration = Duration::from_secs(600);
/// Live sessions kept at most (a demo; old ones are dropped first).
const MAX_SESSIONS: usize = 1000;
/// ECDSA P-256 (Rutoken ECP 3.0 has it; the verifier accepts it): keys are made in
/// milliseconds, which matters because every test app makes its own.
const KEY: KeySpec = KeySpec::EcP256;
const ALGORITHM: SignatureAlgorithm = SignatureAlgorithm::EcdsaSha256;

/// One certificate of a demo device.
pub struct CertDef {
    pub person_inn: &'static str,
    pub person_name: &'static str,
    /// (INN, name) of the organization the certificate is issued for, if any.
    pub organization: Option<(&'static str, &'static str)>,
}

/// One demo device: its owner (for the label) and certificates.
pub struct DeviceDef {
    pub owner: &'static str,
    pub certificates: [CertDef; 2],
}

const fn person(inn: &'static str, name: &'static str) -> CertDef {
    CertDef {
        person_inn: inn,
        person_name: name,
        organization: None,
    }
}

const fn employee(
    inn: &'static str,
    name: &'static str,
    org_inn: &'static str,
    org: &'static str,
) -> CertDef {
    CertDef {
        person_inn: inn,
        person_name: name,
        organization: Some((org_inn, org)),
    }
}

const AZAMAT: &str = "Демонов Азамат Бекович";
const NURZHAN: &str = "Демонова Нуржан Маратовна";
const BAKYT: &str = "Демонов Бакыт Таалайбекович";
const TAALAI: &str = "Демонов Таалай Эркинович";

/// The demo devices, in `enumerateDevices` order (device id = index). From the demo tax
/// registry: Азамат is the demo login and heads ОсОО «ДЕМО Импорт Трейд» (sign-in);
/// Нуржан is not registered yet and keeps the books of ОсОО «ДЕМО Софт» (registration, R6);
/// Бакыт heads the Ош branch of ОАО «ДЕМО Энерго» (branch registration, R10), whose head
/// Таалай confirms it.
pub const DEVICES: [DeviceDef; 4] = [
    DeviceDef {
        owner: "Демонов А. Б.",
        certificates: [
            person("21207198599011", AZAMAT),
            employee(
                "21207198599011",
                AZAMAT,
                "01503201699001",
                "ОсОО «ДЕМО Импорт Трейд»",
            ),
        ],
    },
    DeviceDef {
        owner: "Демонова Н. М.",
        certificates: [
            person("11908199599014", NURZHAN),
            employee(
                "11908199599014",
                NURZHAN,
                "00211201999002",
                "ОсОО «ДЕМО Софт»",
            ),
        ],
    },
    DeviceDef {
        owner: "Демонов Б. Т.",
        certificates: [
            person("20101197099015", BAKYT),
            employee(
                "20101197099015",
                BAKYT,
                "00709202199004",
                "Филиал ОАО «ДЕМО Энерго» в г. Ош",
            ),
        ],
    },
    DeviceDef {
        owner: "Демонов Т. Э.",
        certificates: [
            person("22512197899013", TAALAI),
            employee(
                "22512197899013",
                TAALAI,
                "02006201199003",
                "ОАО «ДЕМО Энерго»",
            ),
        ],
    },
];

/// Why a plugin call fails: the real plugin's `errorCodes` name (the script turns it into
/// the number its `errorCodes` object holds) and, for a wrong PIN, the attempts left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    pub code: &'static str,
    pub retries_left: Option<u8>,
}

impl TokenError {
    pub fn new(code: &'static str) -> TokenError {
        TokenError {
            code,
            retries_left: None,
        }
    }
}

/// A certificate on a demo device, with its key.
pub struct DemoCertificate {
    /// The plugin's handle: colon-separated hex of the certificate's SHA-256 (first 20
    /// bytes), stable across restarts as the real plugin's handles are.
    pub handle: String,
    pub def: &'static CertDef,
    pub credential: Credential,
}

impl DemoCertificate {
    /// A CMS SignedData (DER) over `content` as the plugin's `sign(…, {detached:false,
    /// addUserCertificate:true, addSignTime:true})` makes it: what Rust tests post to
    /// `/api/esig/*` without a browser.
    pub fn sign(&self, content: &[u8]) -> anyhow::Result<Vec<u8>> {
        self.sign_with(content, false, true)
    }

    fn sign_with(
        &self,
        content: &[u8],
        detached: bool,
        with_cert: bool,
    ) -> anyhow::Result<Vec<u8>> {
        let mut options = CmsOptions::new(ALGORITHM);
        options.detached = detached;
        options.include_signer_certificate = with_cert;
        Ok(pki::sign_cms(&self.credential, content, &options)?)
    }
}

struct PinState {
    retries_left: u8,
}

struct Session {
    device: usize,
    last_used: Instant,
}

/// The demo CA and devices of one data directory, with their in-memory state.
pub struct SoftToken {
    ca: Credential,
    /// `certificates[device]`, in [`DEVICES`] order.
    certificates: Vec<Vec<DemoCertificate>>,
    pins: Mutex<Vec<PinState>>,
    sessions: Mutex<HashMap<String, Session>>,
}

/// One soft token per data directory and process: the router and a test that signs by
/// itself must share PIN counters and sessions, and must not both create a CA.
static OPEN: LazyLock<Mutex<HashMap<PathBuf, Arc<SoftToken>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

impl SoftToken {
    /// The soft token of `data_dir`, made (CA, keys, certificates) on first use.
    pub fn open(data_dir: &Path) -> anyhow::Result<Arc<SoftToken>> {
        let dir = data_dir.join("demo-token");
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(token) = open.get(&dir) {
            return Ok(token.clone());
        }
        let token = Arc::new(SoftToken::load_or_create(&dir)?);
        open.insert(dir, token.clone());
        Ok(token)
    }

    fn load_or_create(dir: &Path) -> anyhow::Result<SoftToken> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let now = OffsetDateTime::now_utc();
        let ca_file = dir.join("ca.pem");
        // A CA that is missing or about to expire is made anew, and then every certificate.
        let (ca, fresh) = match read_credential(&ca_file)? {
            Some(ca) if still_valid(&ca, now) => (ca, false),
            _ => {
                let spec = CertSpec::ca(
                    Subject::ca("Демо-УЦ Salyk ID (только для демонстрации)"),
                    now - time::Duration::days(1),
                    now + time::Duration::days(3650),
                );
                let ca = pki::self_signed(pki::generate_key(KEY)?, &spec)?;
                write_credential(&ca_file, &ca)?;
                (ca, true)
            }
        };
        let mut certificates = Vec::new();
        for (d, device) in DEVICES.iter().enumerate() {
            let mut on_device = Vec::new();
            for (c, def) in device.certificates.iter().enumerate() {
                let file = dir.join(format!("device{d}-cert{c}.pem"));
                let credential = match read_credential(&file)? {
                    Some(cred) if !fresh && still_valid(&cred, now) => cred,
                    _ => {
                        let cred = pki::issue(&ca, pki::generate_key(KEY)?, &spec_for(def, now))?;
                        write_credential(&file, &cred)?;
                        cred
                    }
                };
                on_device.push(DemoCertificate {
                    handle: handle_of(&credential.certificate_der()),
                    def,
                    credential,
                });
            }
            certificates.push(on_device);
        }
        Ok(SoftToken {
            ca,
            certificates,
            pins: Mutex::new(
                DEVICES
                    .iter()
                    .map(|_| PinState {
                        retries_left: MAX_PIN_ATTEMPTS,
                    })
                    .collect(),
            ),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// The demo CA's certificate (DER).
    pub fn ca_der(&self) -> Vec<u8> {
        self.ca.certificate_der()
    }

    /// The demo CA as a trust-store record.
    pub fn trusted_ca(&self) -> anyhow::Result<TrustedCa> {
        let der = self.ca_der();
        let info = crate::esig::parse_certificate_pem_or_der(&der)
            .map_err(|e| anyhow::anyhow!("the demo CA certificate: {e}"))?;
        Ok(TrustedCa {
            thumbprint: info.thumbprint_sha256_hex,
            subject: info.subject,
            issuer: info.issuer,
            serial: info.serial_hex,
            not_before: info.not_before.unix_timestamp(),
            not_after: info.not_after.unix_timestamp(),
            der,
            added_at: crate::clock::now(),
        })
    }

    pub fn device_count(&self) -> usize {
        self.certificates.len()
    }

    /// `getDeviceInfo(TOKEN_INFO_LABEL)`.
    pub fn label(&self, device: usize) -> Result<String, TokenError> {
        let def = DEVICES
            .get(device)
            .ok_or(TokenError::new("DEVICE_NOT_FOUND"))?;
        Ok(format!("{DEVICE_LABEL} — {}", def.owner))
    }

    /// Every certificate of `device`.
    pub fn certificates(&self, device: usize) -> Result<&[DemoCertificate], TokenError> {
        self.certificates
            .get(device)
            .map(Vec::as_slice)
            .ok_or(TokenError::new("DEVICE_NOT_FOUND"))
    }

    /// A certificate of `device` by its handle.
    pub fn certificate(&self, device: usize, handle: &str) -> Result<&DemoCertificate, TokenError> {
        self.certificates(device)?
            .iter()
            .find(|c| c.handle == handle)
            .ok_or(TokenError::new("CERTIFICATE_NOT_FOUND"))
    }

    /// The certificate of `person_inn`, for `organization_inn` or personal (`None`).
    pub fn find(
        &self,
        person_inn: &str,
        organization_inn: Option<&str>,
    ) -> Option<&DemoCertificate> {
        self.certificates.iter().flatten().find(|c| {
            c.def.person_inn == person_inn
                && c.def.organization.map(|(inn, _)| inn) == organization_inn
        })
    }

    /// PIN attempts left on `device`.
    pub fn retries_left(&self, device: usize) -> Result<u8, TokenError> {
        let pins = self.pins.lock().unwrap_or_else(|e| e.into_inner());
        pins.get(device)
            .map(|p| p.retries_left)
            .ok_or(TokenError::new("DEVICE_NOT_FOUND"))
    }

    /// `login(device, pin)`: a session handle for `sign`, or PIN_INCORRECT (with the
    /// attempts left) / PIN_LOCKED. The right PIN restores the counter, as a token does.
    pub fn login(&self, device: usize, pin: &str) -> Result<String, TokenError> {
        {
            let mut pins = self.pins.lock().unwrap_or_else(|e| e.into_inner());
            let state = pins
                .get_mut(device)
                .ok_or(TokenError::new("DEVICE_NOT_FOUND"))?;
            if state.retries_left == 0 {
                return Err(TokenError::new("PIN_LOCKED"));
            }
            if pin.is_empty() || pin.len() > 32 {
                return Err(TokenError::new("PIN_LENGTH_INVALID"));
            }
            if !crate::security::constant_time_eq(pin, DEMO_PIN) {
                state.retries_left -= 1;
                return Err(if state.retries_left == 0 {
                    TokenError::new("PIN_LOCKED")
                } else {
                    TokenError {
                        code: "PIN_INCORRECT",
                        retries_left: Some(state.retries_left),
                    }
                });
            }
            state.retries_left = MAX_PIN_ATTEMPTS;
        }
        let handle = crate::security::random_token(24);
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, s| s.last_used.elapsed() < SESSION_TTL);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(
            handle.clone(),
            Session {
                device,
                last_used: Instant::now(),
            },
        );
        Ok(handle)
    }

    /// `logout(device)`: ends the session (unknown ones are fine: already logged out).
    pub fn logout(&self, session: &str) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.remove(session);
    }

    /// Checks that `session` is a live login on `device` (USER_NOT_LOGGED_IN otherwise).
    fn logged_in(&self, device: usize, session: &str) -> Result<(), TokenError> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        match sessions.get_mut(session) {
            Some(s) if s.device == device && s.last_used.elapsed() < SESSION_TTL => {
                s.last_used = Instant::now();
                Ok(())
            }
            _ => Err(TokenError::new("USER_NOT_LOGGED_IN")),
        }
    }

    /// `sign(device, cert, data, …)` in a session: a CMS SignedData (DER).
    pub fn sign(
        &self,
        device: usize,
        session: &str,
        handle: &str,
        content: &[u8],
        detached: bool,
        add_user_certificate: bool,
    ) -> Result<Vec<u8>, TokenError> {
        let certificate = self.certificate(device, handle)?;
        self.logged_in(device, session)?;
        if content.is_empty() {
            return Err(TokenError::new("BAD_PARAMS"));
        }
        certificate
            .sign_with(content, detached, add_user_certificate)
            .map_err(|e| {
                tracing::error!(error = %format!("{e:#}"), "demo token: signing failed");
                TokenError::new("FUNCTION_FAILED")
            })
    }
}

fn spec_for(def: &CertDef, now: OffsetDateTime) -> CertSpec {
    let mut subject = Subject::person(def.person_name, def.person_inn);
    if let Some((inn, name)) = def.organization {
        subject.organization_identifier = Some(inn.into());
        subject.organization = Some(name.into());
    }
    CertSpec::end_entity(
        subject,
        now - time::Duration::days(1),
        now + time::Duration::days(730),
    )
}

/// Valid for at least another day (else it is made anew).
fn still_valid(credential: &Credential, now: OffsetDateTime) -> bool {
    let Ok(tomorrow) =
        openssl::asn1::Asn1Time::from_unix((now + time::Duration::days(1)).unix_timestamp())
    else {
        return false;
    };
    credential.certificate.not_after() > tomorrow
}

/// The plugin-style handle of a certificate.
fn handle_of(der: &[u8]) -> String {
    Sha256::digest(der)[..20]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A certificate and its key from one PEM file; `None` when the file does not exist.
fn read_credential(file: &Path) -> anyhow::Result<Option<Credential>> {
    let pem = match std::fs::read(file) {
        Ok(pem) => pem,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    let certificate =
        X509::from_pem(&pem).with_context(|| format!("certificate in {}", file.display()))?;
    let key = PKey::private_key_from_pem(&pem)
        .with_context(|| format!("private key in {}", file.display()))?;
    Ok(Some(Credential { certificate, key }))
}

/// Writes certificate and key to one file, atomically (a half-written file would be read
/// as garbage by the next start).
fn write_credential(file: &Path, credential: &Credential) -> anyhow::Result<()> {
    let text = format!("{}{}", credential.certificate_pem(), credential.key_pem()?);
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600));
    }
    std::fs::rename(&tmp, file).with_context(|| format!("writing {}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esig::{Policy, SignedInput, TrustAnchors};

    #[test]
    fn devices_sign_what_the_verifier_accepts_and_pins_lock() {
        let dir = tempfile::tempdir().unwrap();
        let token = SoftToken::open(dir.path()).unwrap();
        // Same directory, same process: the same token (shared PIN counters, one CA).
        assert!(Arc::ptr_eq(&token, &SoftToken::open(dir.path()).unwrap()));
        let anchors = TrustAnchors::new(&[token.ca_der()], &[]).unwrap();
        let now = OffsetDateTime::now_utc();
        for (d, device) in DEVICES.iter().enumerate() {
            for (c, def) in device.certificates.iter().enumerate() {
                let cert = &token.certificates(d).unwrap()[c];
                let cms = cert.sign(b"challenge-1").unwrap();
                let who = crate::esig::verify(
                    SignedInput::Attached(&cms),
                    b"challenge-1",
                    &anchors,
                    &Policy::default(),
                    now,
                )
                .unwrap_or_else(|e| panic!("device {d} certificate {c}: {e}"));
                assert_eq!(who.person_inn, def.person_inn);
                assert_eq!(
                    who.organization_inn.as_deref(),
                    def.organization.map(|(inn, _)| inn)
                );
            }
        }
        assert!(token
            .find("11908199599014", Some("00211201999002"))
            .is_some());
        assert!(token
            .find("11908199599014", Some("01503201699001"))
            .is_none());

        assert_eq!(token.login(2, "1").unwrap_err().retries_left, Some(2));
        assert!(
            token.login(2, DEMO_PIN).is_ok(),
            "the right PIN resets the count"
        );
        assert_eq!(token.retries_left(2).unwrap(), MAX_PIN_ATTEMPTS);
        for _ in 0..2 {
            assert_eq!(token.login(2, "1").unwrap_err().code, "PIN_INCORRECT");
        }
        assert_eq!(token.login(2, "1").unwrap_err().code, "PIN_LOCKED");
        assert_eq!(token.login(2, DEMO_PIN).unwrap_err().code, "PIN_LOCKED");

        let session = token.login(0, DEMO_PIN).unwrap();
        let handle = token.certificates(0).unwrap()[0].handle.clone();
        assert_eq!(
            token.sign(
                1,
                &session,
                &token.certificates(1).unwrap()[0].handle,
                b"x",
                false,
                true
            ),
            Err(TokenError::new("USER_NOT_LOGGED_IN")),
            "a session is for its own device"
        );
        assert!(token.sign(0, &session, &handle, b"x", false, true).is_ok());
        token.logout(&session);
        assert!(token.sign(0, &session, &handle, b"x", false, true).is_err());
    }

    #[test]
    fn persisted_material_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = SoftToken::load_or_create(&dir.path().join("demo-token")).unwrap();
        let again = SoftToken::load_or_create(&dir.path().join("demo-token")).unwrap();
        assert_eq!(first.ca_der(), again.ca_der());
        assert_eq!(
            first.certificates(3).unwrap()[1].handle,
            again.certificates(3).unwrap()[1].handle
        );
        let ca = first.trusted_ca().unwrap();
        assert!(ca.subject.contains("Демо-УЦ"), "{}", ca.subject);
        assert_eq!(ca.thumbprint.len(), 64);
    }
}
