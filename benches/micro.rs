//! Micro-benchmarks of the hot pure functions (`cargo bench --bench micro`):
//! JWT signing and verification per algorithm, client-secret digest and constant-time
//! comparison, PKCE verification, claim building, and one argon2id verification at the
//! production cost (bench/run uses its time for the sign-in bound: cores ÷ one hash time).
//!
//! Only the crate's public API is used. Figures belong to this harness; the tests assert none.

use std::hint::black_box;
use std::sync::Mutex;

use async_trait::async_trait;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use salyk_idp::accounts::Account;
use salyk_idp::keys::{Alg, KeySet, Keys};
use salyk_idp::store::{KeyStore, SigningKeyMeta, StoreResult, User};
use salyk_idp::tokens::{self, AccessClaims, AuthContext, IdTokenInput};

/// Key metadata in memory: `Keys::load_or_create` only needs this role of the store.
#[derive(Default)]
struct MemoryKeyStore(Mutex<Vec<SigningKeyMeta>>);

#[async_trait]
impl KeyStore for MemoryKeyStore {
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyMeta>> {
        Ok(self.0.lock().unwrap().clone())
    }
    async fn add_signing_key(&self, new: &SigningKeyMeta) -> StoreResult<()> {
        let mut all = self.0.lock().unwrap();
        for meta in all.iter_mut().filter(|m| m.alg == new.alg) {
            meta.active = false;
        }
        all.push(new.clone());
        Ok(())
    }
}

struct Fixture {
    keys: std::sync::Arc<KeySet>,
    secret: [u8; 32],
    user: User,
    account: Account,
    scopes: Vec<String>,
    auth: AuthContext,
    _dir: tempfile::TempDir,
}

const ISSUER: &str = "https://id.salyk.kg";

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = MemoryKeyStore::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let keys = rt
        .block_on(Keys::load_or_create(&store, dir.path()))
        .unwrap();
    // Built from JSON so the bench does not break when the records gain optional fields.
    let user: User = serde_json::from_value(serde_json::json!({
        "id": "7b0e5c1e-8c55-4c3e-9b0e-6c1f2a3b4c5d",
        "login": "21207198599011001",
        "inn": "21207198599011",
        "family_name": "Асанов",
        "given_name": "Бакыт",
        "middle_name": "Темирович",
        "password_hash": null,
        "ugns_code": "004",
        "blocked": false,
        "created_at": 1_796_400_000
    }))
    .unwrap();
    let account: Account = serde_json::from_value(serde_json::json!({
        "key": "organization:01503201699001",
        "kind": "organization",
        "inn": "01503201699001",
        "name": "ОсОО «ДЕМО Импорт Трейд»",
        "ugns_code": "004",
        "role": "head",
        "head_inn": null
    }))
    .unwrap();
    Fixture {
        keys: keys.current(),
        secret: *keys.secret(),
        user,
        account,
        scopes: vec!["openid".into(), "profile".into(), "offline_access".into()],
        auth: AuthContext {
            auth_time: 1_796_400_000,
            amr: vec!["pwd".into()],
            acr: "low".into(),
            sid: Some("sid-0123456789abcdef".into()),
        },
        _dir: dir,
    }
}

fn access_claims(f: &Fixture, now: i64) -> AccessClaims {
    AccessClaims {
        iss: ISSUER.into(),
        sub: f.user.id.clone(),
        aud: ISSUER.into(),
        exp: now + 600,
        iat: now,
        jti: salyk_idp::security::random_token(16),
        client_id: "esf-client".into(),
        scope: f.scopes.join(" "),
        auth_time: Some(f.auth.auth_time),
        acr: Some(f.auth.acr.clone()),
        amr: Some(f.auth.amr.clone()),
        inn: Some(f.user.inn.clone()),
        account: Some(f.account.claim()),
        gid: Some("grant-0123456789".into()),
    }
}

fn id_input<'a>(f: &'a Fixture, now: i64, at: &'a str) -> IdTokenInput<'a> {
    IdTokenInput {
        issuer: ISSUER,
        client_id: "esf-client",
        user: &f.user,
        account: &f.account,
        scopes: &f.scopes,
        auth: &f.auth,
        nonce: Some("n-0S6_WzA2Mj"),
        access_token: Some(at),
        now,
        ttl: 600,
    }
}

fn jwt(c: &mut Criterion) {
    let f = fixture();
    let now = salyk_idp::clock::now();
    let claims = access_claims(&f, now);
    let mut group = c.benchmark_group("jwt");
    for alg in Alg::ALL {
        let name = alg.as_str();
        group.bench_function(BenchmarkId::new("sign_access_token", name), |b| {
            b.iter(|| tokens::sign_access_token(&f.keys, alg, black_box(&claims)).unwrap())
        });
        // The key set remembers 1024 verified tokens: cycling through twice as many makes
        // every verification a real signature check.
        let fresh: Vec<String> = (0..2048)
            .map(|i| {
                let mut c = claims.clone();
                c.jti = format!("jti-{i}");
                tokens::sign_access_token(&f.keys, alg, &c).unwrap()
            })
            .collect();
        let mut next = fresh.iter().cycle();
        group.bench_function(BenchmarkId::new("verify_access_token", name), |b| {
            b.iter(|| {
                let token = next.next().unwrap();
                tokens::verify_access_token(&f.keys, ISSUER, black_box(token), now).unwrap()
            })
        });
        let token = tokens::sign_access_token(&f.keys, alg, &claims).unwrap();
        group.bench_function(
            BenchmarkId::new("verify_access_token_remembered", name),
            |b| {
                b.iter(|| {
                    tokens::verify_access_token(&f.keys, ISSUER, black_box(&token), now).unwrap()
                })
            },
        );
        let id_claims = tokens::id_token_claims(&id_input(&f, now, &token));
        group.bench_function(BenchmarkId::new("sign_id_token", name), |b| {
            b.iter(|| tokens::sign_id_token(&f.keys, alg, black_box(&id_claims)).unwrap())
        });
    }
    group.finish();
}

fn claims(c: &mut Criterion) {
    let f = fixture();
    let now = salyk_idp::clock::now();
    let mut group = c.benchmark_group("claims");
    group.bench_function("person_claims", |b| {
        b.iter(|| tokens::person_claims(black_box(&f.user), &f.account, &f.scopes))
    });
    group.bench_function("id_token_claims", |b| {
        b.iter(|| tokens::id_token_claims(black_box(&id_input(&f, now, "access-token"))))
    });
    group.bench_function("access_claims_to_json", |b| {
        let claims = access_claims(&f, now);
        b.iter(|| serde_json::to_vec(black_box(&claims)).unwrap())
    });
    group.finish();
}

fn secrets(c: &mut Criterion) {
    let f = fixture();
    let mut group = c.benchmark_group("secrets");
    let presented = "F7XSMhStqmzYvdwhYqgg3c9yzP77FQR5zVi66NYHnQs";
    // What AppState::client_secret_digest computes: HMAC-SHA-256 under the server secret.
    let message = format!("client-secret:{presented}");
    let stored = salyk_idp::security::keyed_digest(&f.secret, &message);
    group.bench_function("client_secret_digest_and_compare", |b| {
        b.iter(|| {
            let digest = salyk_idp::security::keyed_digest(&f.secret, black_box(&message));
            salyk_idp::security::constant_time_eq(&digest, &stored)
        })
    });
    group.bench_function("constant_time_eq_64", |b| {
        b.iter(|| salyk_idp::security::constant_time_eq(black_box(&stored), &stored))
    });
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    group.bench_function("pkce_s256_verify", |b| {
        b.iter(|| {
            salyk_idp::security::is_valid_pkce_verifier(black_box(verifier))
                && salyk_idp::security::pkce_s256_matches(black_box(verifier), challenge)
        })
    });
    group.bench_function("refresh_token_digest", |b| {
        b.iter(|| salyk_idp::security::token_digest(black_box(presented)))
    });
    group.finish();
}

/// One argon2id verification at the production cost (`IDP_ARGON2_*`, defaults
/// m=19456 KiB, t=2, p=1), through the provider's own hasher.
fn argon2(c: &mut Criterion) {
    let env = |name: &str, default: u32| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (m, t) = (
        env("IDP_ARGON2_MEMORY_KIB", 19_456),
        env("IDP_ARGON2_ITERATIONS", 2),
    );
    let hasher =
        std::sync::Arc::new(salyk_idp::authn::password::PasswordHasher::new(m, t, 1).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let phc = rt.block_on(hasher.hash("bench-password-1".into())).unwrap();
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("verify", format!("m{m}_t{t}")), |b| {
        b.iter(|| {
            rt.block_on(hasher.verify("bench-password-1".into(), Some(phc.clone())))
                .unwrap()
        })
    });
    // The sign-in bound divides the cores by one hash's time, as if hashes on different cores
    // did not slow each other; this measures `cores` verifications at once (19 MiB each, so
    // they contend for memory bandwidth and cache) through a hasher with that many threads.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parallel =
        std::sync::Arc::new(salyk_idp::authn::password::PasswordHasher::new(m, t, cores).unwrap());
    group.throughput(criterion::Throughput::Elements(cores as u64));
    group.bench_function(
        BenchmarkId::new("verify_all_cores", format!("m{m}_t{t}_x{cores}")),
        |b| {
            b.iter(|| {
                rt.block_on(async {
                    let tasks: Vec<_> = (0..cores)
                        .map(|_| {
                            let (hasher, phc) = (parallel.clone(), phc.clone());
                            tokio::spawn(async move {
                                hasher.verify("bench-password-1".into(), Some(phc)).await
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap().unwrap();
                    }
                })
            })
        },
    );
    group.finish();
}

criterion_group!(benches, jwt, claims, secrets, argon2);
criterion_main!(benches);
