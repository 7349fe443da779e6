//! Signing keys and the JWKS, plus the server secret used for keyed digests (client secrets,
//! CSRF tokens).
//!
//! Private keys are PEM files in the keys directory (`{kid}.pem`, never committed); which keys
//! exist and which one is active per algorithm is metadata in the database, so several `idp`
//! processes sharing one keys directory and one database agree. After `idp keys rotate` the
//! previous key stays in the JWKS so tokens it signed still verify; running processes pick the
//! new key up on their next reload (see [`Keys::reload_if_changed`]).
//!
//! A key set remembers the tokens it verified lately ([`KeySet::verify`]): a relying party
//! presents the same access token at userinfo and introspection again and again, and the
//! signature check is most of such a request's CPU. What is remembered is only that the
//! signature holds; expiry, issuer, type and revocation are checked on every use by the
//! caller. The memory goes with the snapshot, so a key that leaves the set takes its tokens'
//! verifications with it.

mod es256;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::{anyhow, Context};
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::{JwsHeader, JwsSigner, JwsVerifier, ES256, RS256};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::store::{KeyStore, SigningKeyMeta};

/// The algorithms we sign with. RS256 is the OIDC default; ES256 per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    Rs256,
    Es256,
}

impl Alg {
    pub const ALL: [Alg; 2] = [Alg::Rs256, Alg::Es256];

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }
}

/// One loaded key: signer, verifier and its public JWK.
pub struct SigningKey {
    pub kid: String,
    pub alg: Alg,
    signer: Box<dyn JwsSigner>,
    verifier: Box<dyn JwsVerifier>,
}

/// An immutable snapshot of the keys in use; swapped whole on reload.
pub struct KeySet {
    active: HashMap<Alg, Arc<SigningKey>>,
    by_kid: HashMap<String, Arc<SigningKey>>,
    /// Serialized JWKS document, served as is.
    jwks: bytes::Bytes,
    kids: Vec<String>,
    /// Tokens whose signature this set verified, by SHA-256 of the whole compact token.
    verified: Mutex<HashMap<[u8; 32], Verified>>,
}

/// A signature check that succeeded: the token's payload and header `typ`.
#[derive(Clone)]
struct Verified {
    payload: Vec<u8>,
    typ: Option<String>,
}

/// At most this many verified tokens are remembered (about 0.6 MB); a full map starts again
/// empty, and the tokens in use fill it again at once.
const MAX_VERIFIED: usize = 1024;

impl KeySet {
    /// Signs `payload` (a JSON object) with the active key of `alg`; `typ` goes in the header.
    pub fn sign(&self, alg: Alg, typ: &str, payload: &[u8]) -> anyhow::Result<String> {
        let key = self
            .active
            .get(&alg)
            .ok_or_else(|| anyhow!("no active {} key", alg.as_str()))?;
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id(key.kid.clone());
        josekit::jws::serialize_compact(payload, &header, key.signer.as_ref()).context("signing")
    }

    /// Verifies a compact JWS made by one of our keys; returns the payload and the header's
    /// `typ`. Does not look at claims. A token verified before by this set is answered from
    /// memory (the digest covers every byte of it, so no other token can match).
    pub fn verify(&self, token: &str) -> Option<(Vec<u8>, Option<String>)> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(hit) = self.verified_lock().get(&digest) {
            return Some((hit.payload.clone(), hit.typ.clone()));
        }
        let (payload, header) = josekit::jws::deserialize_compact_with_selector(token, |header| {
            let key = header.key_id().and_then(|kid| self.by_kid.get(kid));
            Ok(key
                .filter(|k| header.algorithm() == Some(k.alg.as_str()))
                .map(|k| k.verifier.as_ref()))
        })
        .ok()?;
        let verified = Verified {
            payload,
            typ: header.token_type().map(str::to_owned),
        };
        let mut remembered = self.verified_lock();
        if remembered.len() >= MAX_VERIFIED {
            remembered.clear();
        }
        remembered.insert(digest, verified.clone());
        Some((verified.payload, verified.typ))
    }

    fn verified_lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Verified>> {
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The JWKS document; cloning is cheap (shared bytes).
    pub fn jwks(&self) -> bytes::Bytes {
        self.jwks.clone()
    }

    /// The key ids published, active first.
    pub fn kids(&self) -> &[String] {
        &self.kids
    }
}

/// The live key material of a running provider.
pub struct Keys {
    dir: PathBuf,
    secret: [u8; 32],
    current: RwLock<Arc<KeySet>>,
}

impl Keys {
    /// Loads the keys named in the database from `dir`, creating the server secret and a
    /// first key per algorithm when there are none.
    pub async fn load_or_create(store: &dyn KeyStore, dir: &Path) -> anyhow::Result<Keys> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating keys directory {}", dir.display()))?;
        let secret = load_or_create_secret(&dir.join("secret.key"))?;
        let mut metas = store.signing_keys().await?;
        for alg in Alg::ALL {
            if !metas.iter().any(|m| m.active && m.alg == alg.as_str()) {
                let meta = generate_key(dir, alg)?;
                store.add_signing_key(&meta).await?;
            }
        }
        metas = store.signing_keys().await?;
        let set = build_key_set(dir, &metas)?;
        Ok(Keys {
            dir: dir.to_owned(),
            secret,
            current: RwLock::new(Arc::new(set)),
        })
    }

    /// The current snapshot.
    pub fn current(&self) -> Arc<KeySet> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The 256-bit server secret for keyed digests.
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// Re-reads the key metadata and swaps the snapshot when the set of keys changed (after a
    /// rotation by another process or by the CLI). Returns whether it changed.
    pub async fn reload_if_changed(&self, store: &dyn KeyStore) -> anyhow::Result<bool> {
        let metas = store.signing_keys().await?;
        let mut kids = ordered_kids(&metas);
        kids.sort();
        let mut current = self.current().kids().to_vec();
        current.sort();
        if kids == current {
            return Ok(false);
        }
        let set = build_key_set(&self.dir, &metas)?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(set);
        Ok(true)
    }
}

/// Generates a new active key per algorithm; the previous ones stay published.
pub async fn rotate(store: &dyn KeyStore, dir: &Path) -> anyhow::Result<Vec<SigningKeyMeta>> {
    std::fs::create_dir_all(dir)?;
    let mut created = Vec::new();
    for alg in Alg::ALL {
        let meta = generate_key(dir, alg)?;
        store.add_signing_key(&meta).await?;
        created.push(meta);
    }
    Ok(created)
}

fn ordered_kids(metas: &[SigningKeyMeta]) -> Vec<String> {
    let mut sorted: Vec<&SigningKeyMeta> = metas.iter().collect();
    sorted.sort_by_key(|m| (!m.active, std::cmp::Reverse(m.created_at)));
    sorted.into_iter().map(|m| m.kid.clone()).collect()
}

fn build_key_set(dir: &Path, metas: &[SigningKeyMeta]) -> anyhow::Result<KeySet> {
    let mut active = HashMap::new();
    let mut by_kid = HashMap::new();
    let mut jwks = Vec::new();
    for kid in ordered_kids(metas) {
        let Some(meta) = metas.iter().find(|m| m.kid == kid) else {
            continue;
        };
        let Some(alg) = Alg::parse(&meta.alg) else {
            continue;
        };
        let path = dir.join(format!("{}.pem", meta.kid));
        let pem = match std::fs::read(&path) {
            Ok(pem) => pem,
            // A previous key whose file was removed is simply no longer published; a missing
            // active key is fatal because nothing could be signed.
            Err(_) if !meta.active => continue,
            Err(e) => return Err(anyhow!("signing key {} missing ({e})", path.display())),
        };
        let (key, jwk) = load_key(alg, &meta.kid, &pem)
            .with_context(|| format!("loading {}", path.display()))?;
        jwks.push(serde_json::Value::Object(jwk.as_ref().clone()));
        let key = Arc::new(key);
        if meta.active && !active.contains_key(&alg) {
            active.insert(alg, key.clone());
        }
        by_kid.insert(meta.kid.clone(), key);
    }
    for alg in Alg::ALL {
        if !active.contains_key(&alg) {
            return Err(anyhow!("no active {} signing key", alg.as_str()));
        }
    }
    let kids = jwks
        .iter()
        .filter_map(|j| j["kid"].as_str().map(str::to_owned))
        .collect();
    let doc = serde_json::to_vec(&serde_json::json!({ "keys": jwks }))?;
    Ok(KeySet {
        active,
        by_kid,
        jwks: bytes::Bytes::from(doc),
        kids,
        verified: Mutex::default(),
    })
}

fn load_key(alg: Alg, kid: &str, pem: &[u8]) -> anyhow::Result<(SigningKey, Jwk)> {
    let mut jwk = match alg {
        Alg::Rs256 => RS256.key_pair_from_pem(pem)?.to_jwk_public_key(),
        Alg::Es256 => ES256.key_pair_from_pem(pem)?.to_jwk_public_key(),
    };
    jwk.set_key_id(kid);
    jwk.set_key_use("sig");
    jwk.set_algorithm(alg.as_str());
    let (signer, verifier): (Box<dyn JwsSigner>, Box<dyn JwsVerifier>) = match alg {
        Alg::Rs256 => (
            Box::new(RS256.signer_from_pem(pem)?),
            Box::new(RS256.verifier_from_jwk(&jwk)?),
        ),
        Alg::Es256 => (
            Box::new(es256::Es256Signer::from_pem(pem)?),
            Box::new(ES256.verifier_from_jwk(&jwk)?),
        ),
    };
    Ok((
        SigningKey {
            kid: kid.to_owned(),
            alg,
            signer,
            verifier,
        },
        jwk,
    ))
}

fn generate_key(dir: &Path, alg: Alg) -> anyhow::Result<SigningKeyMeta> {
    let pem = match alg {
        Alg::Rs256 => RS256.generate_key_pair(2048)?.to_pem_private_key(),
        Alg::Es256 => ES256.generate_key_pair()?.to_pem_private_key(),
    };
    let now = crate::clock::now();
    let kid = format!(
        "{}-{}-{}",
        alg.as_str().to_lowercase(),
        now,
        crate::security::random_token(6)
    );
    write_private(&dir.join(format!("{kid}.pem")), &pem)?;
    Ok(SigningKeyMeta {
        kid,
        alg: alg.as_str().to_owned(),
        created_at: now,
        active: true,
    })
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<[u8; 32]> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let bytes = hex::decode(text.trim()).context("secret.key is not hex")?;
        return bytes
            .try_into()
            .map_err(|_| anyhow!("secret.key must hold 32 bytes"));
    }
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    match write_private(path, hex::encode(secret).as_bytes()) {
        Ok(()) => Ok(secret),
        // Another process created it first: use theirs.
        Err(_) if path.exists() => load_or_create_secret(path),
        Err(e) => Err(e),
    }
}

/// Writes a file readable by its owner only; creating it exclusively avoids two processes
/// starting together from clobbering each other's key.
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_set(dir: &Path) -> KeySet {
        let metas: Vec<SigningKeyMeta> = Alg::ALL
            .iter()
            .map(|&alg| generate_key(dir, alg).unwrap())
            .collect();
        build_key_set(dir, &metas).unwrap()
    }

    fn remembered(set: &KeySet) -> usize {
        set.verified_lock().len()
    }

    #[test]
    fn a_verified_token_is_remembered_and_only_that_token() {
        let dir = tempfile::tempdir().unwrap();
        let set = key_set(dir.path());
        for alg in Alg::ALL {
            let token = set.sign(alg, "at+jwt", br#"{"sub":"u"}"#).unwrap();
            let first = set.verify(&token).expect("verifies");
            let again = set.verify(&token).expect("verifies again");
            assert_eq!(first, again);
            assert_eq!(again, (br#"{"sub":"u"}"#.to_vec(), Some("at+jwt".into())));

            // The same payload and header with another signature, or another payload with
            // this signature, is checked afresh and refused.
            let (head, signature) = token.rsplit_once('.').unwrap();
            let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
            let forged = format!("{head}.{flipped}{}", &signature[1..]);
            assert_eq!(set.verify(&forged), None);
            let (_, rest) = token.split_once('.').unwrap();
            let (header, _) = token.split_once('.').unwrap();
            let other_payload = format!(
                "{header}.{}.{}",
                base64::Engine::encode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    br#"{"sub":"admin"}"#
                ),
                rest.split_once('.').unwrap().1
            );
            assert_eq!(set.verify(&other_payload), None);
        }
        assert_eq!(
            remembered(&set),
            2,
            "one entry per verified token, none for refusals"
        );
    }

    #[test]
    fn another_key_set_does_not_share_what_this_one_verified() {
        let dir = tempfile::tempdir().unwrap();
        let set = key_set(dir.path());
        let token = set.sign(Alg::Es256, "at+jwt", b"{}").unwrap();
        assert!(set.verify(&token).is_some());
        // A later snapshot without this key (it was retired and its file removed).
        let other = tempfile::tempdir().unwrap();
        let next = key_set(other.path());
        assert_eq!(next.verify(&token), None);
    }

    #[test]
    fn the_memory_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let set = key_set(dir.path());
        for i in 0..=MAX_VERIFIED {
            let token = set
                .sign(Alg::Es256, "at+jwt", format!(r#"{{"i":{i}}}"#).as_bytes())
                .unwrap();
            assert!(set.verify(&token).is_some());
            assert!(remembered(&set) <= MAX_VERIFIED);
        }
        assert_eq!(remembered(&set), 1, "a full map starts again empty");
    }
}
