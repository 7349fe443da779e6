//! Configuration: defaults, an optional TOML file (`--config`), then environment variables
//! (`IDP_*`, `DATABASE_URL`, `REDIS_URL`) on top. Every problem is reported at once.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// Runtime configuration of the provider.
#[derive(Debug, Clone)]
pub struct Config {
    /// Public base URL, no trailing slash (`IDP_ISSUER`).
    pub issuer: String,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub keys_dir: PathBuf,
    /// `None` → SQLite in the data dir.
    pub database_url: Option<String>,
    /// PostgreSQL schema to use (`IDP_DATABASE_SCHEMA`; tests give each run its own).
    pub database_schema: Option<String>,
    /// `None` → in-process session store.
    pub redis_url: Option<String>,
    pub redis_prefix: String,
    pub access_token_ttl: u64,
    pub id_token_ttl: u64,
    pub refresh_token_ttl: u64,
    pub session_ttl: u64,
    pub code_ttl: u64,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// How many password hashes may run at once (defaults to the number of cores).
    pub argon2_concurrency: usize,
    /// Failed sign-ins allowed per login and per client IP within `login_window`.
    pub login_max_failures_per_login: u64,
    pub login_max_failures_per_ip: u64,
    pub login_window: u64,
    /// How stale the in-process cache of clients and users may get, in milliseconds
    /// (`IDP_DIRECTORY_CACHE_MS`, default 1000, 0 turns the cache off): how often each
    /// process asks the database whether clients, users, organizations or memberships
    /// changed. A change made through this process empties its cache at once.
    pub directory_cache_ms: u64,
    /// Base URL of the X-Road security server through which the population registry is
    /// reached (`IDP_POPULATION_REGISTRY_URL`); `None` → «Добавить ИНН» answers "unavailable".
    pub population_registry_url: Option<String>,
    /// Our X-Road client id `INSTANCE/CLASS/CODE/SUBSYSTEM` (`IDP_XROAD_CLIENT`).
    pub xroad_client: String,
    /// The person-lookup service id `INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE`
    /// (`IDP_POPULATION_SERVICE`).
    pub population_service: String,
    /// Connect and request timeout for outside registries, seconds (`IDP_REGISTRY_TIMEOUT`).
    pub registry_timeout: u64,
    /// Load balancers whose `X-Forwarded-For` is believed (`IDP_TRUSTED_PROXIES`); the
    /// client IP used for throttling is then the nearest untrusted address in that header.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Serve the software stand-in of the Rutoken browser plugin (`IDP_DEMO_TOKEN`, default
    /// off; `idp demo` turns it on): `/static/rutoken-standin.js` and `/demo/rutoken/*` exist
    /// and the «ЭП» tabs load it, so signature sign-in can be shown without a real token.
    /// Never in production: its demo CA's keys lie in the data directory. The flag does not
    /// trust that CA (`idp demo` does, through `demo::trust_demo_token`).
    pub demo_token: bool,
    /// How electronic signatures are judged (`IDP_ESIG_*`): which subject attribute holds the
    /// person's INN (`IDP_ESIG_PERSON_INN_ATTRIBUTE`, default `serialNumber`, optional prefix
    /// `IDP_ESIG_PERSON_INN_PREFIX`, default `INN`), which the organization's
    /// (`IDP_ESIG_ORG_INN_ATTRIBUTE`, default `organizationIdentifier`, prefix
    /// `IDP_ESIG_ORG_INN_PREFIX`, default `NTRKG`), and the extended key usages of which the
    /// signer certificate must carry one (`IDP_ESIG_REQUIRED_EKU`, dotted OIDs, comma
    /// separated; default none).
    pub signature_policy: crate::esig::Policy,
    /// Ask OCSP responders about signer certificates (`IDP_ESIG_OCSP`, `on` or `off`, default
    /// off): when on, every certificate of the path below the trusted CA that names an
    /// `http://` responder (authorityInfoAccess) is checked there, with the registry timeout,
    /// and any OCSP failure refuses the signature; certificates naming none rely on CRLs.
    pub esig_ocsp: bool,
    /// Serve the demo relying party and demo-only helpers (set by `idp demo` only).
    pub demo: Option<DemoClient>,
}

impl Config {
    /// Whether cookies must carry `Secure`.
    pub fn https(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// Short description of the backends for the start-up line (no passwords).
    pub fn database_kind(&self) -> &'static str {
        if self.database_url.is_some() {
            "postgresql"
        } else {
            "sqlite"
        }
    }
}

/// The demo relying party's own client registration (`idp demo` only).
#[derive(Debug, Clone)]
pub struct DemoClient {
    pub client_id: String,
    pub client_secret: String,
}

/// The TOML file's shape: the same names as the environment variables, lower-case, without
/// the `IDP_` prefix.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    issuer: Option<String>,
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    keys_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_schema: Option<String>,
    redis_url: Option<String>,
    redis_prefix: Option<String>,
    access_token_ttl: Option<u64>,
    id_token_ttl: Option<u64>,
    refresh_token_ttl: Option<u64>,
    session_ttl: Option<u64>,
    code_ttl: Option<u64>,
    argon2_memory_kib: Option<u32>,
    argon2_iterations: Option<u32>,
    argon2_concurrency: Option<usize>,
    login_max_failures_per_login: Option<u64>,
    login_max_failures_per_ip: Option<u64>,
    login_window: Option<u64>,
    directory_cache_ms: Option<u64>,
    population_registry_url: Option<String>,
    xroad_client: Option<String>,
    population_service: Option<String>,
    registry_timeout: Option<u64>,
    trusted_proxies: Option<String>,
    demo_token: Option<bool>,
    esig_person_inn_attribute: Option<String>,
    esig_person_inn_prefix: Option<String>,
    esig_org_inn_attribute: Option<String>,
    esig_org_inn_prefix: Option<String>,
    esig_required_eku: Option<String>,
    esig_ocsp: Option<bool>,
}

/// Lowest argon2id cost we accept (OWASP's minimum for argon2id).
const MIN_ARGON2_MEMORY_KIB: u32 = 19_456;
const MIN_ARGON2_ITERATIONS: u32 = 2;

impl Config {
    /// Loads the configuration; `env` is the process environment (injected for tests).
    pub fn load(
        file: Option<&std::path::Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, String> {
        let mut errors = Vec::new();
        let file_cfg = match file {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => toml::from_str::<FileConfig>(&text).unwrap_or_else(|e| {
                    errors.push(format!("{}: {}", path.display(), e.message()));
                    FileConfig::default()
                }),
                Err(e) => {
                    errors.push(format!("cannot read {}: {e}", path.display()));
                    FileConfig::default()
                }
            },
            None => FileConfig::default(),
        };
        let text =
            |var: &str, from_file: Option<String>| env(var).filter(|v| !v.is_empty()).or(from_file);
        let number =
            |var: &str, from_file: Option<u64>, default: u64, errors: &mut Vec<String>| -> u64 {
                match env(var).filter(|v| !v.is_empty()) {
                    Some(v) => v.parse().unwrap_or_else(|_| {
                        errors.push(format!("{var} must be a whole number, got {v:?}"));
                        default
                    }),
                    None => from_file.unwrap_or(default),
                }
            };

        let issuer =
            text("IDP_ISSUER", file_cfg.issuer).unwrap_or_else(|| "http://127.0.0.1:8080".into());
        let issuer = issuer.trim_end_matches('/').to_owned();
        match url::Url::parse(&issuer) {
            Ok(u)
                if (u.scheme() == "https" || u.scheme() == "http")
                    && u.query().is_none()
                    && u.fragment().is_none() => {}
            _ => errors.push(format!(
                "IDP_ISSUER must be an http(s) URL without query or fragment, got {issuer:?}"
            )),
        }
        let listen_text =
            text("IDP_LISTEN", file_cfg.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen_text.parse().unwrap_or_else(|_| {
            errors.push(format!("IDP_LISTEN must be host:port, got {listen_text:?}"));
            SocketAddr::from(([127, 0, 0, 1], 8080))
        });
        let data_dir = env("IDP_DATA_DIR")
            .map(PathBuf::from)
            .or(file_cfg.data_dir)
            .unwrap_or_else(|| "./data".into());
        let keys_dir = env("IDP_KEYS_DIR")
            .map(PathBuf::from)
            .or(file_cfg.keys_dir)
            .unwrap_or_else(|| data_dir.join("keys"));
        let database_url = text("DATABASE_URL", file_cfg.database_url);
        if let Some(url) = &database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                errors.push(
                    "DATABASE_URL must be a postgres:// URL (leave it unset for SQLite)".into(),
                );
            }
        }
        let database_schema = text("IDP_DATABASE_SCHEMA", file_cfg.database_schema);
        if let Some(schema) = &database_schema {
            if schema.is_empty()
                || !schema
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                errors.push(format!(
                    "IDP_DATABASE_SCHEMA must be [a-z0-9_]+, got {schema:?}"
                ));
            }
        }
        let redis_url = text("REDIS_URL", file_cfg.redis_url);
        if let Some(url) = &redis_url {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                errors.push(
                    "REDIS_URL must be a redis:// URL (leave it unset for the in-process store)"
                        .into(),
                );
            }
        }
        let redis_prefix =
            text("IDP_REDIS_PREFIX", file_cfg.redis_prefix).unwrap_or_else(|| "salyk:".into());

        let access_token_ttl = number(
            "IDP_ACCESS_TOKEN_TTL",
            file_cfg.access_token_ttl,
            600,
            &mut errors,
        );
        let id_token_ttl = number("IDP_ID_TOKEN_TTL", file_cfg.id_token_ttl, 600, &mut errors);
        let refresh_token_ttl = number(
            "IDP_REFRESH_TOKEN_TTL",
            file_cfg.refresh_token_ttl,
            30 * 86_400,
            &mut errors,
        );
        let session_ttl = number(
            "IDP_SESSION_TTL",
            file_cfg.session_ttl,
            8 * 3_600,
            &mut errors,
        );
        let code_ttl = number("IDP_CODE_TTL", file_cfg.code_ttl, 60, &mut errors);
        if code_ttl == 0 || code_ttl > 60 {
            errors.push("IDP_CODE_TTL must be between 1 and 60 seconds".into());
        }
        for (name, value) in [
            ("IDP_ACCESS_TOKEN_TTL", access_token_ttl),
            ("IDP_ID_TOKEN_TTL", id_token_ttl),
            ("IDP_REFRESH_TOKEN_TTL", refresh_token_ttl),
            ("IDP_SESSION_TTL", session_ttl),
        ] {
            if value == 0 {
                errors.push(format!("{name} must be positive"));
            }
        }
        let argon2_memory_kib = number(
            "IDP_ARGON2_MEMORY_KIB",
            file_cfg.argon2_memory_kib.map(u64::from),
            u64::from(MIN_ARGON2_MEMORY_KIB),
            &mut errors,
        );
        let argon2_iterations = number(
            "IDP_ARGON2_ITERATIONS",
            file_cfg.argon2_iterations.map(u64::from),
            u64::from(MIN_ARGON2_ITERATIONS),
            &mut errors,
        );
        if argon2_memory_kib < u64::from(MIN_ARGON2_MEMORY_KIB)
            || argon2_iterations < u64::from(MIN_ARGON2_ITERATIONS)
        {
            errors.push(format!("argon2 cost below the minimum (m={MIN_ARGON2_MEMORY_KIB} KiB, t={MIN_ARGON2_ITERATIONS})"));
        }
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        let argon2_concurrency = number(
            "IDP_ARGON2_CONCURRENCY",
            file_cfg.argon2_concurrency.map(|v| v as u64),
            cores as u64,
            &mut errors,
        )
        .max(1);
        let login_max_failures_per_login = number(
            "IDP_LOGIN_MAX_FAILURES",
            file_cfg.login_max_failures_per_login,
            5,
            &mut errors,
        );
        let login_max_failures_per_ip = number(
            "IDP_LOGIN_MAX_FAILURES_PER_IP",
            file_cfg.login_max_failures_per_ip,
            50,
            &mut errors,
        );
        let login_window = number("IDP_LOGIN_WINDOW", file_cfg.login_window, 900, &mut errors);
        let directory_cache_ms = number(
            "IDP_DIRECTORY_CACHE_MS",
            file_cfg.directory_cache_ms,
            1000,
            &mut errors,
        );
        if directory_cache_ms > 60_000 {
            errors.push(format!(
                "IDP_DIRECTORY_CACHE_MS must be 0 (off) to 60000, got {directory_cache_ms}"
            ));
        }

        let population_registry_url = text(
            "IDP_POPULATION_REGISTRY_URL",
            file_cfg.population_registry_url,
        )
        .map(|u| u.trim_end_matches('/').to_owned());
        if let Some(u) = &population_registry_url {
            match url::Url::parse(u) {
                Ok(parsed)
                    if parsed.scheme() == "http"
                        && parsed.host().is_some()
                        && parsed.query().is_none()
                        && parsed.fragment().is_none() => {}
                _ => errors.push(format!(
                    "IDP_POPULATION_REGISTRY_URL must be the http:// base URL of the X-Road security server (no query; TLS is not built in), got {u:?}"
                )),
            }
        }
        let xroad_client = text("IDP_XROAD_CLIENT", file_cfg.xroad_client)
            .unwrap_or_else(|| crate::adapters::population::xroad::DEFAULT_CLIENT.into());
        if let Err(e) = crate::adapters::population::xroad::check_identifier(&xroad_client, 4) {
            errors.push(format!(
                "IDP_XROAD_CLIENT must be INSTANCE/CLASS/CODE/SUBSYSTEM: {e}"
            ));
        }
        let population_service = text("IDP_POPULATION_SERVICE", file_cfg.population_service)
            .unwrap_or_else(|| crate::adapters::population::xroad::DEFAULT_SERVICE.into());
        if let Err(e) = crate::adapters::population::xroad::check_identifier(&population_service, 5)
        {
            errors.push(format!(
                "IDP_POPULATION_SERVICE must be INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE: {e}"
            ));
        }
        let registry_timeout = number(
            "IDP_REGISTRY_TIMEOUT",
            file_cfg.registry_timeout,
            5,
            &mut errors,
        );
        if registry_timeout == 0 || registry_timeout > 120 {
            errors.push("IDP_REGISTRY_TIMEOUT must be between 1 and 120 seconds".into());
        }
        let trusted_proxies: Vec<std::net::IpAddr> =
            text("IDP_TRUSTED_PROXIES", file_cfg.trusted_proxies)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .filter_map(|p| {
                    p.parse()
                        .map_err(|_| {
                            errors.push(format!("IDP_TRUSTED_PROXIES: {p:?} is not an IP address"))
                        })
                        .ok()
                })
                .collect();

        let demo_token = match env("IDP_DEMO_TOKEN").filter(|v| !v.is_empty()) {
            Some(v) => parse_bool(&v).unwrap_or_else(|| {
                errors.push(format!("IDP_DEMO_TOKEN must be true or false, got {v:?}"));
                false
            }),
            None => file_cfg.demo_token.unwrap_or(false),
        };

        let esig_ocsp = match env("IDP_ESIG_OCSP").filter(|v| !v.is_empty()) {
            Some(v) => parse_bool(&v).unwrap_or_else(|| {
                errors.push(format!("IDP_ESIG_OCSP must be on or off, got {v:?}"));
                false
            }),
            None => file_cfg.esig_ocsp.unwrap_or(false),
        };

        let signature_policy = {
            let defaults = crate::esig::IdentityMapping::default();
            // An explicitly empty prefix means "none", so these read the raw variable.
            let raw = |var: &str, file: Option<String>, default: Option<String>| {
                env(var).or(file).or(default).unwrap_or_default()
            };
            let mapping = crate::esig::IdentityMapping::from_strings(
                &raw(
                    "IDP_ESIG_PERSON_INN_ATTRIBUTE",
                    file_cfg.esig_person_inn_attribute,
                    Some(defaults.person_inn_attribute),
                ),
                &raw(
                    "IDP_ESIG_PERSON_INN_PREFIX",
                    file_cfg.esig_person_inn_prefix,
                    defaults.person_inn_prefix,
                ),
                &raw(
                    "IDP_ESIG_ORG_INN_ATTRIBUTE",
                    file_cfg.esig_org_inn_attribute,
                    Some(defaults.organization_inn_attribute),
                ),
                &raw(
                    "IDP_ESIG_ORG_INN_PREFIX",
                    file_cfg.esig_org_inn_prefix,
                    defaults.organization_inn_prefix,
                ),
            );
            let ekus = raw("IDP_ESIG_REQUIRED_EKU", file_cfg.esig_required_eku, None);
            let ekus: Vec<&str> = ekus
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .collect();
            match mapping.map(|mapping| crate::esig::Policy {
                mapping,
                ..crate::esig::Policy::default()
            }) {
                Ok(policy) => policy.with_required_eku(ekus).unwrap_or_else(|e| {
                    errors.push(format!("IDP_ESIG_REQUIRED_EKU: {e}"));
                    crate::esig::Policy::default()
                }),
                Err(e) => {
                    errors.push(format!("IDP_ESIG_*: {e}"));
                    crate::esig::Policy::default()
                }
            }
        };

        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
        Ok(Config {
            issuer,
            listen,
            data_dir,
            keys_dir,
            database_url,
            database_schema,
            redis_url,
            redis_prefix,
            access_token_ttl,
            id_token_ttl,
            refresh_token_ttl,
            session_ttl,
            code_ttl,
            argon2_memory_kib: u32::try_from(argon2_memory_kib).unwrap_or(u32::MAX),
            argon2_iterations: u32::try_from(argon2_iterations).unwrap_or(u32::MAX),
            argon2_concurrency: usize::try_from(argon2_concurrency).unwrap_or(1),
            login_max_failures_per_login,
            login_max_failures_per_ip,
            login_window,
            directory_cache_ms,
            population_registry_url,
            xroad_client,
            population_service,
            registry_timeout,
            trusted_proxies,
            demo_token,
            signature_policy,
            esig_ocsp,
            demo: None,
        })
    }

    /// Loads from the real process environment.
    pub fn from_env(file: Option<&std::path::Path>) -> Result<Config, String> {
        Config::load(file, &|name| std::env::var(name).ok())
    }
}

/// A boolean setting as operators write it: `true/false`, `yes/no`, `on/off`, `1/0`.
fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::load(None, &|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_are_embedded() {
        let cfg = load(&[]).unwrap();
        assert_eq!(cfg.issuer, "http://127.0.0.1:8080");
        assert!(cfg.database_url.is_none() && cfg.redis_url.is_none());
        assert_eq!(cfg.keys_dir, PathBuf::from("./data/keys"));
    }

    #[test]
    fn bad_settings_are_all_reported() {
        let err = load(&[
            ("IDP_LISTEN", "nope"),
            ("DATABASE_URL", "mysql://x"),
            ("IDP_ACCESS_TOKEN_TTL", "ten"),
        ])
        .unwrap_err();
        assert!(
            err.contains("IDP_LISTEN")
                && err.contains("DATABASE_URL")
                && err.contains("IDP_ACCESS_TOKEN_TTL"),
            "{err}"
        );
    }

    #[test]
    fn registry_settings() {
        let cfg = load(&[]).unwrap();
        assert_eq!(cfg.population_registry_url, None);
        assert_eq!(cfg.xroad_client, "KG/GOV/70000001/salyk-id");
        assert_eq!(cfg.population_service, "KG/GOV/70000002/grs/person-by-pin");
        assert_eq!(cfg.registry_timeout, 5);
        let cfg = load(&[
            ("IDP_POPULATION_REGISTRY_URL", "http://ss.local:8080/"),
            ("IDP_REGISTRY_TIMEOUT", "2"),
        ])
        .unwrap();
        assert_eq!(
            cfg.population_registry_url.as_deref(),
            Some("http://ss.local:8080")
        );
        assert_eq!(cfg.registry_timeout, 2);
        let err = load(&[
            ("IDP_POPULATION_REGISTRY_URL", "ftp://x"),
            ("IDP_XROAD_CLIENT", "KG/GOV"),
            ("IDP_POPULATION_SERVICE", "KG//1/grs/x"),
            ("IDP_REGISTRY_TIMEOUT", "0"),
        ])
        .unwrap_err();
        for name in [
            "IDP_POPULATION_REGISTRY_URL",
            "IDP_XROAD_CLIENT",
            "IDP_POPULATION_SERVICE",
            "IDP_REGISTRY_TIMEOUT",
        ] {
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn esig_ocsp_setting() {
        assert!(!load(&[]).unwrap().esig_ocsp, "off by default");
        assert!(load(&[("IDP_ESIG_OCSP", "on")]).unwrap().esig_ocsp);
        assert!(!load(&[("IDP_ESIG_OCSP", "off")]).unwrap().esig_ocsp);
        assert!(load(&[("IDP_ESIG_OCSP", "sometimes")])
            .unwrap_err()
            .contains("IDP_ESIG_OCSP"));
    }

    #[test]
    fn demo_token_flag() {
        assert!(!load(&[]).unwrap().demo_token, "off by default");
        assert!(load(&[("IDP_DEMO_TOKEN", "true")]).unwrap().demo_token);
        assert!(load(&[("IDP_DEMO_TOKEN", "1")]).unwrap().demo_token);
        assert!(!load(&[("IDP_DEMO_TOKEN", "off")]).unwrap().demo_token);
        assert!(load(&[("IDP_DEMO_TOKEN", "maybe")])
            .unwrap_err()
            .contains("IDP_DEMO_TOKEN"));
    }

    #[test]
    fn weak_argon2_is_refused() {
        assert!(load(&[("IDP_ARGON2_MEMORY_KIB", "1024")])
            .unwrap_err()
            .contains("argon2"));
    }
}
