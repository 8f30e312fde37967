//! Configuration: one TOML file, `AMANAH_...` overrides, secrets from files
//! or the environment.
//!
//! Two phases, as in ripgrep's low/high args: [`raw`] is the text as
//! written, [`Config`] is the validated form in which invalid states cannot
//! be represented (addresses parsed, routes bound to providers, timeouts as
//! `Duration`s). [`load`] runs both and returns every [`Problem`] at once,
//! each with its fix; `amanah config check` prints them.
//!
//! Secrets are referenced, not inlined: a [`SecretRef`] names a file or an
//! environment variable, and is resolved (and judged: length, example
//! values, file permissions) by [`SecretRef::resolve`] when the process
//! that needs it starts.

mod overrides;
pub mod raw;

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use amanah_crypto::SecretString;
use amanah_policy::Requirement;
use http::{HeaderName, Method};

use raw::{RawConfig, RawSecretRef};

/// Every default in one place; the README's configuration reference lists
/// the same values (a test keeps them in step).
pub mod defaults {
    pub const DATA_DIR: &str = "./amanah-data";
    pub const LISTEN: &str = "127.0.0.1:8080";
    pub const ADMIN_LISTEN: &str = "127.0.0.1:9090";
    pub const MAX_CONNECTIONS: u64 = 1024;
    pub const HEADER_READ_TIMEOUT_MS: u64 = 10_000;
    pub const BODY_IDLE_TIMEOUT_MS: u64 = 30_000;
    pub const MAX_HEADER_BYTES: u64 = 16 * 1024;
    pub const MAX_HEADERS: u64 = 100;
    pub const HSTS_MAX_AGE_SECS: u64 = 31_536_000;
    pub const LOG_FORMAT: &str = "human";
    pub const LOG_LEVEL: &str = "info";
    pub const ACCESS_LOG: &str = "stdout";
    pub const CORS_MAX_AGE_SECS: u64 = 600;
    pub const CORS_ALLOWED_HEADERS: &[&str] =
        &["authorization", "content-type", "x-api-key", "x-request-id"];
    pub const KEY_TTL_DAYS: u64 = 90;
    pub const HMAC_SECRET_FILE: &str = "secrets/api_key_hmac";
    pub const POOL_IDLE_TIMEOUT_SECS: u64 = 90;
    pub const POOL_MAX_IDLE_PER_HOST: u64 = 32;
    pub const CREDENTIAL_HEADER: &str = "authorization";
    pub const CONNECT_TIMEOUT_MS: u64 = 5_000;
    pub const FIRST_BYTE_TIMEOUT_MS: u64 = 120_000;
    pub const IDLE_TIMEOUT_MS: u64 = 60_000;
    pub const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;
}

/// Secrets shorter than this are refused.
pub const MIN_SECRET_CHARS: usize = 32;

/// Values that appear as placeholders in this project's own documentation
/// and examples. A deployment that copied one is refused: it is public.
/// `tests/docs_examples.rs` keeps this list complete.
pub const EXAMPLE_SECRETS: &[&str] = &[
    "change-me-to-a-long-random-secret-0123456789",
    "sk-example-0123456789abcdefghijklmnopqrstuvwxyz",
    "replace-with-output-of-openssl-rand-base64-48",
];

/// One thing wrong with a configuration, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The key (`server.listen`) or variable (`AMANAH_X`) concerned.
    pub key: String,
    pub message: String,
    pub fix: String,
}

impl Problem {
    pub fn new(key: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}\n  fix: {}", self.key, self.message, self.fix)
    }
}

/// A configuration that failed validation; every problem found.
#[derive(Debug)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub server: Server,
    pub admin: Admin,
    pub log: Log,
    pub cors: Cors,
    pub keys: Keys,
    pub upstream: UpstreamClient,
    pub providers: Vec<Provider>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone)]
pub struct Server {
    pub listen: SocketAddr,
    pub tls: Option<Tls>,
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub body_idle_timeout: Duration,
    pub max_header_bytes: usize,
    pub max_headers: usize,
}

#[derive(Debug, Clone)]
pub struct Tls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub hsts_max_age_secs: u64,
}

#[derive(Debug, Clone)]
pub struct Admin {
    pub listen: SocketAddr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessLog {
    Off,
    Stdout,
    Stderr,
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Log {
    pub format: LogFormat,
    pub level: tracing::Level,
    pub access_log: AccessLog,
}

#[derive(Debug, Clone, Default)]
pub struct Cors {
    /// Exact origins (`https://app.example.com`); `*` only without credentials.
    pub allowed_origins: Vec<String>,
    pub allow_credentials: bool,
    pub allowed_headers: Vec<String>,
    pub max_age_secs: u64,
}

#[derive(Debug, Clone)]
pub struct Keys {
    pub hmac_secret: SecretRef,
    pub default_ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct UpstreamClient {
    pub extra_ca_file: Option<PathBuf>,
    pub pool_idle_timeout: Duration,
    pub pool_max_idle_per_host: usize,
}

#[derive(Debug, Clone)]
pub struct Provider {
    pub name: String,
    /// `scheme://authority[/path]`, without a trailing slash.
    pub base_url: http::Uri,
    pub credential: Option<SecretRef>,
    pub credential_header: HeaderName,
    pub connect_timeout: Duration,
    pub first_byte_timeout: Duration,
    pub idle_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    /// Starts with `/`, no trailing slash (except the root route `/`).
    pub path_prefix: String,
    pub methods: Vec<Method>,
    /// Index into [`Config::providers`].
    pub provider: usize,
    pub max_body_bytes: u64,
    pub requirement: Requirement,
}

/// Where a secret lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    File(PathBuf),
    Env(String),
    /// A file Amanah creates with a fresh random value on first use.
    Generated(PathBuf),
}

impl SecretRef {
    /// Reads the secret and judges it. `key` names it in problems.
    pub fn resolve(&self, key: &str) -> Result<SecretString, Problem> {
        let value = match self {
            SecretRef::Env(var) => std::env::var(var).map_err(|_| {
                Problem::new(
                    key,
                    format!("environment variable {var} is not set or not valid UTF-8"),
                    format!("export {var} in the service's environment"),
                )
            })?,
            SecretRef::File(path) => read_secret_file(key, path)?,
            SecretRef::Generated(path) => {
                if !path.exists() {
                    create_secret_file(key, path)?;
                }
                read_secret_file(key, path)?
            }
        };
        let value = SecretString::new(value.trim_end_matches(['\n', '\r']).to_owned());
        judge_secret(key, &value)?;
        Ok(value)
    }
}

fn judge_secret(key: &str, value: &SecretString) -> Result<(), Problem> {
    if EXAMPLE_SECRETS.iter().any(|example| value.ct_eq(example)) {
        return Err(Problem::new(
            key,
            "the secret is a value published in Amanah's own examples",
            "generate a fresh one: openssl rand -base64 48",
        ));
    }
    if value.char_len() < MIN_SECRET_CHARS {
        return Err(Problem::new(
            key,
            format!(
                "the secret is shorter than {MIN_SECRET_CHARS} characters ({} given)",
                value.char_len()
            ),
            "use a random value of at least 32 characters: openssl rand -base64 48",
        ));
    }
    Ok(())
}

fn read_secret_file(key: &str, path: &Path) -> Result<String, Problem> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Problem::new(
            key,
            format!("cannot read secret file {}: {e}", path.display()),
            "check the path and that the service account may read it",
        )
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Problem::new(
                key,
                format!(
                    "secret file {} is readable or writable by group or others (mode {:o})",
                    path.display(),
                    mode & 0o777
                ),
                format!("chmod 600 {}", path.display()),
            ));
        }
    }
    let _ = meta;
    std::fs::read_to_string(path).map_err(|e| {
        Problem::new(
            key,
            format!("cannot read secret file {}: {e}", path.display()),
            "check the path and that the file holds UTF-8 text",
        )
    })
}

/// Creates the secret atomically: the value is written and synced in a
/// private temporary file, then hard-linked into place. A concurrent
/// process either wins the link or finds the complete file; nobody reads a
/// half-written secret or overwrites another's.
fn create_secret_file(key: &str, path: &Path) -> Result<(), Problem> {
    use std::io::Write;
    let fail = |e: std::io::Error| {
        Problem::new(
            key,
            format!("cannot create secret file {}: {e}", path.display()),
            "make the data directory writable, or configure the secret explicitly",
        )
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(fail)?;
    let tmp = dir.join(format!(".tmp-secret-{}", amanah_crypto::random::hex(16)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(amanah_crypto::random::base62(48).as_bytes())?;
        f.sync_all()
    });
    let linked = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = std::fs::remove_file(&tmp);
    linked.map_err(fail)
}

/// Creates `dir` (and parents) readable only by the owner.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Where the configuration comes from.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// TOML text and the name to report it under.
    pub file: Option<(String, String)>,
    /// The process environment (or a test's stand-in).
    pub env: Vec<(String, String)>,
    /// `--data-dir` from the command line; wins over file and environment.
    pub data_dir: Option<PathBuf>,
    /// Relative paths in the configuration are resolved against this
    /// directory: the config file's own.
    pub base_dir: Option<PathBuf>,
}

impl Source {
    /// Reads `path` (if any) and the process environment.
    pub fn from_path(path: Option<&Path>) -> Result<Self, Problems> {
        let file = match path {
            None => None,
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    Problems(vec![Problem::new(
                        p.display().to_string(),
                        format!("cannot read the configuration file: {e}"),
                        "check the path given to --config (or AMANAH_CONFIG)",
                    )])
                })?;
                Some((p.display().to_string(), text))
            }
        };
        Ok(Self {
            file,
            env: std::env::vars().collect(),
            data_dir: None,
            base_dir: path.and_then(Path::parent).map(Path::to_path_buf),
        })
    }
}

/// Phase one and two: parse, apply overrides, validate.
pub fn load(source: &Source) -> Result<Config, Problems> {
    let mut table = match &source.file {
        None => toml::Table::new(),
        Some((name, text)) => text.parse::<toml::Table>().map_err(|e| {
            Problems(vec![Problem::new(
                name.clone(),
                format!("not valid TOML: {}", e.to_string().trim_end()),
                "fix the syntax at the line shown",
            )])
        })?,
    };
    let secret_vars = secret_env_vars(&table);
    let (applied, mut problems) = overrides::apply(&mut table, &source.env, &secret_vars);

    let mut unknown = Vec::new();
    let raw: RawConfig = match serde_ignored::deserialize(toml::Value::Table(table), |path| {
        unknown.push(path.to_string())
    }) {
        Ok(raw) => raw,
        Err(e) => {
            let e: toml::de::Error = e;
            problems.push(Problem::new(
                "config",
                e.message().trim_end().to_owned(),
                "give the key a value of the type the configuration reference lists",
            ));
            return Err(Problems(problems));
        }
    };
    for path in unknown {
        let origin = applied
            .iter()
            .find(|a| a.path == path)
            .map(|a| format!(" (set by environment variable {})", a.var))
            .unwrap_or_default();
        problems.push(Problem::new(
            path.clone(),
            format!("unknown key{origin}"),
            "remove it or correct its spelling; every key is listed in the README's configuration reference",
        ));
    }
    let config = validate(raw, source, &mut problems);
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(Problems(problems))
    }
}

/// Names of environment variables that hold secrets; they are never read as
/// overrides even when they start with `AMANAH_`.
fn secret_env_vars(table: &toml::Table) -> HashSet<String> {
    fn walk(v: &toml::Value, out: &mut HashSet<String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    if k == "env" {
                        if let toml::Value::String(s) = v {
                            out.insert(s.clone());
                        }
                    }
                    walk(v, out);
                }
            }
            toml::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = HashSet::new();
    walk(&toml::Value::Table(table.clone()), &mut out);
    out
}

fn ms(v: Option<u64>, default: u64) -> Duration {
    Duration::from_millis(v.unwrap_or(default))
}

fn usize_of(v: Option<u64>, default: u64) -> usize {
    to_usize(v.unwrap_or(default))
}

/// A path as written in the configuration, made relative to the config
/// file's directory.
fn anchored(base: Option<&Path>, p: PathBuf) -> PathBuf {
    match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p,
    }
}

fn validate(mut raw: RawConfig, source: &Source, problems: &mut Vec<Problem>) -> Config {
    let base = source.base_dir.as_deref();
    let data_dir = source
        .data_dir
        .clone()
        .or_else(|| raw.data_dir.take().map(|d| anchored(base, d)))
        .unwrap_or_else(|| PathBuf::from(defaults::DATA_DIR));
    anchor_paths(&mut raw, base);

    let server = validate_server(raw.server, problems);
    let admin = validate_admin(raw.admin, server.listen, problems);
    let log = validate_log(raw.log, problems);
    let cors = validate_cors(raw.cors, problems);
    let keys = Keys {
        hmac_secret: match raw.keys.hmac_secret {
            Some(r) => secret_ref("keys.hmac_secret", r, problems),
            None => Some(SecretRef::Generated(
                data_dir.join(defaults::HMAC_SECRET_FILE),
            )),
        }
        .unwrap_or(SecretRef::Generated(
            data_dir.join(defaults::HMAC_SECRET_FILE),
        )),
        default_ttl: {
            let days = raw.keys.default_ttl_days.unwrap_or(defaults::KEY_TTL_DAYS);
            if days == 0 || days > 3650 {
                problems.push(Problem::new(
                    "keys.default_ttl_days",
                    format!("{days} is outside 1..=3650"),
                    "choose a lifetime between 1 and 3650 days (default 90)",
                ));
            }
            Duration::from_secs(days.clamp(1, 3650) * 86_400)
        },
    };
    let upstream = UpstreamClient {
        extra_ca_file: raw.upstream.extra_ca_file,
        pool_idle_timeout: Duration::from_secs(
            raw.upstream
                .pool_idle_timeout_secs
                .unwrap_or(defaults::POOL_IDLE_TIMEOUT_SECS),
        ),
        pool_max_idle_per_host: usize_of(
            raw.upstream.pool_max_idle_per_host,
            defaults::POOL_MAX_IDLE_PER_HOST,
        ),
    };

    let mut providers = Vec::new();
    for (name, p) in raw.providers {
        if let Some(p) = validate_provider(&name, p, problems) {
            providers.push(p);
        }
    }
    let mut routes = Vec::new();
    let mut names = BTreeSet::new();
    for (i, r) in raw.routes.into_iter().enumerate() {
        if let Some(route) = validate_route(i, r, &providers, problems) {
            if !names.insert(route.name.clone()) {
                problems.push(Problem::new(
                    format!("routes[{i}].name"),
                    format!("route name `{}` is used twice", route.name),
                    "give every route a unique name",
                ));
            }
            routes.push(route);
        }
    }
    check_route_overlaps(&routes, problems);

    Config {
        data_dir,
        server,
        admin,
        log,
        cors,
        keys,
        upstream,
        providers,
        routes,
    }
}

/// Makes every file path the configuration names relative to `base`.
fn anchor_paths(raw: &mut RawConfig, base: Option<&Path>) {
    let fix = |p: &mut Option<PathBuf>| {
        if let Some(path) = p.take() {
            *p = Some(anchored(base, path));
        }
    };
    if let Some(tls) = raw.server.tls.as_mut() {
        fix(&mut tls.cert_file);
        fix(&mut tls.key_file);
    }
    fix(&mut raw.upstream.extra_ca_file);
    if let Some(secret) = raw.keys.hmac_secret.as_mut() {
        fix(&mut secret.file);
    }
    for p in raw.providers.values_mut() {
        if let Some(secret) = p.credential.as_mut() {
            fix(&mut secret.file);
        }
    }
    if let Some(log) = raw.log.access_log.as_mut() {
        if !matches!(log.as_str(), "off" | "stdout" | "stderr" | "") {
            *log = anchored(base, PathBuf::from(&*log)).display().to_string();
        }
    }
}

fn parse_addr(key: &str, value: &str, problems: &mut Vec<Problem>) -> Option<SocketAddr> {
    match value.parse::<SocketAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            problems.push(Problem::new(
                key,
                format!("`{value}` is not an IP address and port"),
                "write it as 127.0.0.1:8080 or [::1]:8080",
            ));
            None
        }
    }
}

fn validate_server(raw: raw::RawServer, problems: &mut Vec<Problem>) -> Server {
    let listen_text = raw.listen.unwrap_or_else(|| defaults::LISTEN.to_owned());
    let listen = parse_addr("server.listen", &listen_text, problems)
        .unwrap_or_else(|| defaults::LISTEN.parse().expect("default parses"));
    let tls = raw.tls.and_then(|t| match (t.cert_file, t.key_file) {
        (Some(cert_file), Some(key_file)) => Some(Tls {
            cert_file,
            key_file,
            hsts_max_age_secs: t.hsts_max_age_secs.unwrap_or(defaults::HSTS_MAX_AGE_SECS),
        }),
        _ => {
            problems.push(Problem::new(
                "server.tls",
                "TLS needs both cert_file and key_file",
                "set server.tls.cert_file and server.tls.key_file to PEM files",
            ));
            None
        }
    });
    let allow_public = raw.allow_public.unwrap_or(false);
    let public_ok = allow_public && tls.is_some();
    if !listen.ip().is_loopback() && !public_ok {
        problems.push(Problem::new(
            "server.listen",
            format!("{listen} is not a loopback address, and serving beyond this machine needs an explicit opt-in and TLS"),
            "set server.allow_public = true and configure [server.tls] with cert_file and key_file, or listen on 127.0.0.1",
        ));
    }
    Server {
        listen,
        tls,
        max_connections: to_usize(positive(
            "server.max_connections",
            raw.max_connections,
            defaults::MAX_CONNECTIONS,
            problems,
        )),
        header_read_timeout: Duration::from_millis(positive(
            "server.header_read_timeout_ms",
            raw.header_read_timeout_ms,
            defaults::HEADER_READ_TIMEOUT_MS,
            problems,
        )),
        body_idle_timeout: Duration::from_millis(positive(
            "server.body_idle_timeout_ms",
            raw.body_idle_timeout_ms,
            defaults::BODY_IDLE_TIMEOUT_MS,
            problems,
        )),
        max_header_bytes: to_usize(positive(
            "server.max_header_bytes",
            raw.max_header_bytes,
            defaults::MAX_HEADER_BYTES,
            problems,
        )),
        max_headers: to_usize(positive(
            "server.max_headers",
            raw.max_headers,
            defaults::MAX_HEADERS,
            problems,
        )),
    }
}

/// `v` or `default`; zero is a problem (a zero limit or timeout would
/// refuse everything, or nothing).
fn positive(key: &str, v: Option<u64>, default: u64, problems: &mut Vec<Problem>) -> u64 {
    match v.unwrap_or(default) {
        0 => {
            problems.push(Problem::new(
                key,
                "must be greater than zero",
                format!("remove the key to use the default ({default})"),
            ));
            default
        }
        v => v,
    }
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn validate_admin(raw: raw::RawAdmin, traffic: SocketAddr, problems: &mut Vec<Problem>) -> Admin {
    let text = raw
        .listen
        .unwrap_or_else(|| defaults::ADMIN_LISTEN.to_owned());
    let listen = parse_addr("admin.listen", &text, problems)
        .unwrap_or_else(|| defaults::ADMIN_LISTEN.parse().expect("default parses"));
    if !listen.ip().is_loopback() && !raw.allow_public.unwrap_or(false) {
        problems.push(Problem::new(
            "admin.listen",
            format!(
                "{listen} is not a loopback address; the admin listener exposes health and metrics"
            ),
            "keep it on 127.0.0.1, or set admin.allow_public = true behind a firewall",
        ));
    }
    if listen == traffic && listen.port() != 0 {
        problems.push(Problem::new(
            "admin.listen",
            "the admin listener must not share the traffic port",
            "choose another port (default 9090)",
        ));
    }
    Admin { listen }
}

fn validate_log(raw: raw::RawLog, problems: &mut Vec<Problem>) -> Log {
    let format = match raw.format.as_deref().unwrap_or(defaults::LOG_FORMAT) {
        "human" => LogFormat::Human,
        "json" => LogFormat::Json,
        other => {
            problems.push(Problem::new(
                "log.format",
                format!("unknown format `{other}`"),
                "use \"human\" or \"json\"",
            ));
            LogFormat::Human
        }
    };
    let level_text = raw.level.unwrap_or_else(|| defaults::LOG_LEVEL.to_owned());
    let level = level_text.parse::<tracing::Level>().unwrap_or_else(|_| {
        problems.push(Problem::new(
            "log.level",
            format!("unknown level `{level_text}`"),
            "use one of error, warn, info, debug, trace",
        ));
        tracing::Level::INFO
    });
    let access_log = match raw.access_log.as_deref().unwrap_or(defaults::ACCESS_LOG) {
        "off" => AccessLog::Off,
        "stdout" => AccessLog::Stdout,
        "stderr" => AccessLog::Stderr,
        "" => {
            problems.push(Problem::new(
                "log.access_log",
                "empty value",
                "use \"stdout\", \"stderr\", \"off\" or a file path",
            ));
            AccessLog::Stdout
        }
        path => AccessLog::File(PathBuf::from(path)),
    };
    Log {
        format,
        level,
        access_log,
    }
}

fn validate_cors(raw: raw::RawCors, problems: &mut Vec<Problem>) -> Cors {
    let allowed_origins = raw.allowed_origins.unwrap_or_default();
    let allow_credentials = raw.allow_credentials.unwrap_or(false);
    for (i, origin) in allowed_origins.iter().enumerate() {
        let key = format!("cors.allowed_origins[{i}]");
        if origin == "*" {
            if allow_credentials {
                problems.push(Problem::new(
                    key,
                    "a wildcard origin together with allow_credentials would let any site act with the user's credentials",
                    "list the exact origins, or set cors.allow_credentials = false",
                ));
            }
            continue;
        }
        if !is_origin(origin) {
            problems.push(Problem::new(
                key,
                format!("`{origin}` is not an origin"),
                "write scheme://host[:port] with no path, e.g. https://app.example.com",
            ));
        }
    }
    let allowed_headers = raw
        .allowed_headers
        .unwrap_or_else(|| {
            defaults::CORS_ALLOWED_HEADERS
                .iter()
                .map(|s| s.to_string())
                .collect()
        })
        .into_iter()
        .map(|h| h.to_ascii_lowercase())
        .collect::<Vec<_>>();
    for h in &allowed_headers {
        if HeaderName::from_bytes(h.as_bytes()).is_err() {
            problems.push(Problem::new(
                "cors.allowed_headers",
                format!("`{h}` is not a header name"),
                "list header names such as content-type",
            ));
        }
    }
    Cors {
        allowed_origins,
        allow_credentials,
        allowed_headers,
        max_age_secs: raw.max_age_secs.unwrap_or(defaults::CORS_MAX_AGE_SECS),
    }
}

fn is_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' '])
        && rest.parse::<http::uri::Authority>().is_ok()
}

fn secret_ref(key: &str, raw: RawSecretRef, problems: &mut Vec<Problem>) -> Option<SecretRef> {
    if raw.value.is_some() {
        problems.push(Problem::new(
            key,
            "secrets are not accepted inline in the configuration",
            format!("put the secret in a file ({key} = {{ file = \"/etc/amanah/secret\" }}) or an environment variable ({key} = {{ env = \"VAR\" }})"),
        ));
        return None;
    }
    match (raw.file, raw.env) {
        (Some(f), None) => Some(SecretRef::File(f)),
        (None, Some(e)) if !e.is_empty() => Some(SecretRef::Env(e)),
        _ => {
            problems.push(Problem::new(
                key,
                "a secret needs exactly one of `file` or `env`",
                format!("write {key} = {{ file = \"/path\" }} or {key} = {{ env = \"VAR\" }}"),
            ));
            None
        }
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && !name.contains("__")
}

fn validate_provider(
    name: &str,
    raw: raw::RawProvider,
    problems: &mut Vec<Problem>,
) -> Option<Provider> {
    let key = |k: &str| format!("providers.{name}.{k}");
    let mut ok = true;
    if !valid_name(name) {
        problems.push(Problem::new(
            format!("providers.{name}"),
            "provider names use lowercase letters, digits, - and _ (no double underscore)",
            "rename the provider, e.g. [providers.openai]",
        ));
        ok = false;
    }
    let base_url = match raw.base_url.as_deref().map(parse_base_url) {
        Some(Ok(u)) => Some(u),
        Some(Err(msg)) => {
            problems.push(Problem::new(
                key("base_url"),
                msg,
                "write an absolute URL such as https://api.openai.com/v1",
            ));
            None
        }
        None => {
            problems.push(Problem::new(
                key("base_url"),
                "missing",
                "set the provider's base URL, e.g. https://api.openai.com/v1",
            ));
            None
        }
    };
    if let Some(u) = &base_url {
        let host = u.host().unwrap_or_default();
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if u.scheme_str() == Some("http") && !loopback && !raw.allow_plaintext.unwrap_or(false) {
            problems.push(Problem::new(
                key("base_url"),
                "plain http to another machine would send prompts and the provider credential unencrypted",
                format!("use https://, or set {} = true for a trusted private network", key("allow_plaintext")),
            ));
        }
    }
    let credential = raw
        .credential
        .and_then(|c| secret_ref(&key("credential"), c, problems));
    let header_text = raw
        .credential_header
        .unwrap_or_else(|| defaults::CREDENTIAL_HEADER.to_owned());
    let credential_header =
        match HeaderName::from_bytes(header_text.to_ascii_lowercase().as_bytes()) {
            Ok(h) => h,
            Err(_) => {
                problems.push(Problem::new(
                    key("credential_header"),
                    format!("`{header_text}` is not a header name"),
                    "use e.g. authorization or x-api-key",
                ));
                ok = false;
                HeaderName::from_static(defaults::CREDENTIAL_HEADER)
            }
        };
    Some(Provider {
        name: name.to_owned(),
        base_url: base_url.filter(|_| ok)?,
        credential,
        credential_header,
        connect_timeout: ms(raw.connect_timeout_ms, defaults::CONNECT_TIMEOUT_MS),
        first_byte_timeout: ms(raw.first_byte_timeout_ms, defaults::FIRST_BYTE_TIMEOUT_MS),
        idle_timeout: ms(raw.idle_timeout_ms, defaults::IDLE_TIMEOUT_MS),
    })
}

fn parse_base_url(text: &str) -> Result<http::Uri, String> {
    let uri: http::Uri = text.parse().map_err(|_| format!("`{text}` is not a URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(format!("`{text}` must start with http:// or https://")),
    }
    let Some(authority) = uri.authority() else {
        return Err(format!("`{text}` has no host"));
    };
    if authority.as_str().contains('@') {
        return Err(
            "credentials in the URL are not accepted; use the provider's credential".into(),
        );
    }
    if uri.query().is_some() {
        return Err(format!("`{text}` must not carry a query string"));
    }
    let path = uri.path().trim_end_matches('/');
    http::Uri::builder()
        .scheme(uri.scheme_str().unwrap_or("https"))
        .authority(authority.as_str())
        .path_and_query(if path.is_empty() { "/" } else { path })
        .build()
        .map_err(|e| e.to_string())
}

fn validate_route(
    i: usize,
    raw: raw::RawRoute,
    providers: &[Provider],
    problems: &mut Vec<Problem>,
) -> Option<Route> {
    let key = |k: &str| format!("routes[{i}].{k}");
    let before = problems.len();
    let name = raw.name.unwrap_or_default();
    if !valid_name(&name) {
        problems.push(Problem::new(
            key("name"),
            format!("`{name}` is not a valid route name"),
            "use lowercase letters, digits, - and _, e.g. name = \"chat\"",
        ));
    }
    let path_prefix = match raw.path_prefix {
        Some(p) if crate::router::is_clean_path(&p) => {
            let trimmed = p.trim_end_matches('/');
            if trimmed.is_empty() {
                "/".to_owned()
            } else {
                trimmed.to_owned()
            }
        }
        Some(p) => {
            problems.push(Problem::new(
                key("path_prefix"),
                format!("`{p}` is not a clean absolute path"),
                "start with / and use no . or .. segments, %, ? or #, e.g. /v1",
            ));
            String::new()
        }
        None => {
            problems.push(Problem::new(
                key("path_prefix"),
                "missing",
                "set the path prefix the route serves, e.g. \"/v1\"",
            ));
            String::new()
        }
    };
    let methods = match raw.methods {
        Some(m) if !m.is_empty() => m
            .iter()
            .filter_map(
                |m| match Method::from_bytes(m.to_ascii_uppercase().as_bytes()) {
                    Ok(method) if method != Method::CONNECT && method != Method::TRACE => {
                        Some(method)
                    }
                    _ => {
                        problems.push(Problem::new(
                            key("methods"),
                            format!("`{m}` is not an allowed method"),
                            "use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS",
                        ));
                        None
                    }
                },
            )
            .collect(),
        _ => {
            problems.push(Problem::new(
                key("methods"),
                "missing or empty",
                "list the methods the route accepts, e.g. methods = [\"POST\"]",
            ));
            Vec::new()
        }
    };
    let provider = match raw.provider {
        Some(p) => match providers.iter().position(|x| x.name == p) {
            Some(idx) => Some(idx),
            None => {
                problems.push(Problem::new(
                    key("provider"),
                    format!("no provider named `{p}`"),
                    format!("define [providers.{p}] with a base_url, or fix the name"),
                ));
                None
            }
        },
        None => {
            problems.push(Problem::new(
                key("provider"),
                "missing",
                "name the provider this route forwards to",
            ));
            None
        }
    };
    let max_body_bytes = raw.max_body_bytes.unwrap_or(defaults::MAX_BODY_BYTES);
    let allowed_roles = raw.allowed_roles.unwrap_or_default();
    for r in &allowed_roles {
        if !valid_role(r) {
            problems.push(Problem::new(
                key("allowed_roles"),
                format!("`{r}` is not a valid role name"),
                "use lowercase letters, digits, -, _ and :",
            ));
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(Route {
        name,
        path_prefix,
        methods,
        provider: provider?,
        max_body_bytes,
        requirement: Requirement {
            any_of_roles: allowed_roles,
        },
    })
}

/// Role names: lowercase letters, digits, `-`, `_`, `:`; 1 to 64 characters.
pub fn valid_role(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 64
        && r.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b':')
        })
}

fn check_route_overlaps(routes: &[Route], problems: &mut Vec<Problem>) {
    for (i, a) in routes.iter().enumerate() {
        for b in &routes[i + 1..] {
            if a.path_prefix == b.path_prefix && a.methods.iter().any(|m| b.methods.contains(m)) {
                problems.push(Problem::new(
                    format!("routes.{}", b.name),
                    format!(
                        "serves the same path prefix and a method of route `{}`",
                        a.name
                    ),
                    "give each (path_prefix, method) pair to one route",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests;
