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

mod alerts;
mod audit;
mod identity;
mod overrides;
mod privacy;
pub mod raw;
mod records;

pub use audit::AuditFailure;
mod secrets;
mod validate;

pub use alerts::{check_address, Alerts, Email, Retry, Webhook, WebhookFormat};
pub use identity::{JwksFetch, DEFAULT_JWT_ALGORITHMS};
pub use secrets::{create_private_dir, SecretRef};

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use amanah_crypto::jwt::Algorithm;
use amanah_pii::operators::Operator;
use amanah_pii::EntityType;
use amanah_policy::{Policy, Requirement, RoleDef};

use crate::ratelimit::Quota;
use http::{HeaderName, Method};

use raw::RawConfig;

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
    /// The longest lifetime a key may have, from config or `--expires`.
    pub const MAX_KEY_TTL_DAYS: u64 = 3650;
    pub const HMAC_SECRET_FILE: &str = "secrets/api_key_hmac";
    pub const POOL_IDLE_TIMEOUT_SECS: u64 = 90;
    pub const POOL_MAX_IDLE_PER_HOST: u64 = 32;
    pub const CREDENTIAL_HEADER: &str = "authorization";
    pub const CONNECT_TIMEOUT_MS: u64 = 5_000;
    pub const FIRST_BYTE_TIMEOUT_MS: u64 = 120_000;
    pub const IDLE_TIMEOUT_MS: u64 = 60_000;
    pub const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;
    pub const ROTATION_GRACE_SECS: u64 = 86_400;
    pub const ROUTE_PERMISSION: &str = "llm:invoke";
    pub const JWT_LEEWAY_SECS: u64 = 60;
    pub const JWT_MAX_LIFETIME_SECS: u64 = 86_400;
    pub const JWT_ROLES_CLAIM: &str = "roles";
    pub const JWKS_CACHE_SECS: u64 = 3_600;
    pub const JWKS_FETCH_TIMEOUT_MS: u64 = 5_000;
    pub const JWKS_REFETCH_MIN_INTERVAL_SECS: u64 = 30;
    pub const MFA_REQUIRED_ROLES: &[&str] = &["admin"];
    pub const SETUP_TOKEN_TTL_SECS: u64 = 86_400;
    pub const SESSION_IDLE_TIMEOUT_SECS: u64 = 3_600;
    pub const SESSION_ABSOLUTE_TIMEOUT_SECS: u64 = 43_200;
    pub const LOCKOUT_THRESHOLD: u64 = 5;
    pub const LOCKOUT_BASE_SECS: u64 = 300;
    pub const LOCKOUT_MAX_SECS: u64 = 86_400;
    pub const PASSWORD_MIN_CHARS: u64 = 12;
    /// (requests, period in seconds)
    pub const RATE_PER_PRINCIPAL: (u64, u64) = (600, 60);
    pub const RATE_PER_IP: (u64, u64) = (1_200, 60);
    pub const AUTH_FAILURES_PER_IP: (u64, u64) = (20, 300);
    pub const PRIVACY_MIN_SCORE: f64 = 0.4;
    pub const CONVERSATION_HEADER: &str = "x-amanah-conversation";
    pub const CONVERSATION_TTL_SECS: u64 = 86_400;
    pub const MAX_CONVERSATIONS: u64 = 10_000;
    pub const MAX_VALUES_PER_CONVERSATION: u64 = 1_024;
    pub const TOKEN_TTL_SECS: u64 = 86_400;
    pub const MAX_TOKENS: u64 = 100_000;
    pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;
    pub const KEYRING_PROVIDER: &str = "file";
    pub const ROOT_KEY_FILE: &str = "root.key";
    pub const ROOT_KEY_ENV: &str = "AMANAH_ROOT_KEY";
    pub const KEY_STORE_FILE: &str = "keys.db";
    pub const KEY_ROTATION_DAYS: u64 = 90;
    pub const CLEANUP_INTERVAL_SECS: u64 = 300;
    pub const AUDIT_STORE_FILE: &str = "audit.db";
    pub const AUDIT_SIGNING_KEY_FILE: &str = "audit-signing.key";
    pub const AUDIT_CHECKPOINT_EVERY_EVENTS: u64 = 1_000;
    pub const AUDIT_CHECKPOINT_EVERY_SECS: u64 = 60;
    /// Seven years (with two leap days).
    pub const AUDIT_RETENTION_DAYS: u64 = 2_557;
    pub const SWEEP_BATCH: u64 = 500;
    /// `max_body_bytes` of a route with `upload` that sets none.
    pub const UPLOAD_MAX_BYTES: u64 = 500_000_000;
    pub const UPLOAD_MAX_DURATION_SECS: u64 = 4 * 3600;
    pub const ALERT_COOLDOWN_SECS: u64 = 900;
    pub const ALERT_FAILED_AUTH_THRESHOLD: u64 = 10;
    pub const ALERT_FAILED_AUTH_WINDOW_SECS: u64 = 300;
    pub const ALERT_KEY_CALLS_PER_HOUR: u64 = 1_000;
    pub const ALERT_MAX_ATTEMPTS: u64 = 5;
    pub const ALERT_BACKOFF_MS: u64 = 1_000;
    pub const ALERT_WEBHOOK_TIMEOUT_MS: u64 = 10_000;
    pub const SMTP_PORT: u16 = 25;
    pub const SMTP_STARTTLS_PORT: u16 = 587;
    pub const SMTP_TIMEOUT_MS: u64 = 30_000;
}

/// Secrets shorter than this are refused.
pub const MIN_SECRET_CHARS: usize = 32;

/// Values that appear as placeholders in this project's own documentation
/// and examples. A deployment that copied one is refused: it is public.
/// `tests/docs.rs` keeps this list complete.
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
    /// Bearer JWTs are accepted only when this is set.
    pub jwt: Option<Jwt>,
    pub users: Users,
    pub rate_limits: RateLimits,
    /// Custom roles from the file (more come from the store at run time).
    pub roles: Vec<RoleDef>,
    /// Data class → roles cleared for it.
    pub data_classes: Vec<(String, Vec<String>)>,
    /// The predefined roles, the file's roles and data classes, compiled.
    pub policy: Policy,
    pub upstream: UpstreamClient,
    pub providers: Vec<Provider>,
    pub privacy: Privacy,
    pub keyring: KeyringConfig,
    pub records: Records,
    pub audit: AuditConfig,
    pub routes: Vec<Route>,
    /// Security alerts: rules and where they are delivered.
    pub alerts: Alerts,
}

/// `[audit]`.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// The audit log's store (`audit.db`).
    pub store: PathBuf,
    /// The checkpoint signing key (PKCS#8, owner-only); its public half
    /// sits beside it with the extension `.pub`.
    pub signing_key: PathBuf,
    /// This gateway's name in every event and checkpoint.
    pub node: String,
    /// A checkpoint after this many events (0: by time only).
    pub checkpoint_every_events: u64,
    /// A checkpoint this long after the previous one when events were
    /// written meanwhile (0: by count only).
    pub checkpoint_every: Duration,
    /// Checkpoints are also appended to this file (the external anchor).
    pub checkpoint_file: Option<PathBuf>,
    /// Checkpoints are also POSTed here, one per request, as their text
    /// form (the external anchor kept by another party).
    pub checkpoint_webhook: Option<Webhook>,
    /// Events older than this are pruned, up to a checkpoint; `None`: kept.
    pub retention: Option<Duration>,
    /// The default for routes without their own `audit` key.
    pub on_failure: AuditFailure,
    /// When an event counts as written: on disk (`full`) or handed to the
    /// OS (`normal`).
    pub sync: amanah_store::AuditSync,
}

/// Where the root key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootKeySource {
    /// A file readable only by its owner.
    File(PathBuf),
    /// An environment variable.
    Env(String),
}

/// `[keyring]`.
#[derive(Debug, Clone)]
pub struct KeyringConfig {
    pub root_key: RootKeySource,
    /// The key store (`keys.db`), apart from the records database.
    pub key_store: PathBuf,
    /// Automatic rotation of the master key; `None`: off.
    pub rotation_period: Option<Duration>,
}

/// `[records]`.
#[derive(Debug, Clone)]
pub struct Records {
    /// How often the retention sweeper runs.
    pub cleanup_interval: Duration,
    /// Records deleted per transaction.
    pub sweep_batch: u32,
    /// Retention per kind given in the file (seconds; `None`: forever),
    /// over `records::DEFAULT_RETENTION`.
    pub retention: Vec<(String, Option<i64>)>,
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
    /// How long a rotated key keeps working.
    pub rotation_grace: Duration,
}

#[derive(Debug, Clone)]
pub struct Jwt {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub algorithms: Vec<Algorithm>,
    pub leeway_secs: u64,
    pub max_lifetime_secs: u64,
    /// Claim name or dotted path holding the caller's roles or groups.
    pub roles_claim: String,
    /// Claim value → Amanah role; when empty, values are role names.
    pub role_map: std::collections::BTreeMap<String, String>,
    pub hmac_secret: Option<SecretRef>,
    pub public_key_files: Vec<PathBuf>,
    pub jwks_file: Option<PathBuf>,
    pub remote: Option<JwksRemote>,
}

/// Where a remote JWK set comes from.
#[derive(Debug, Clone)]
pub enum JwksRemote {
    /// `<issuer>/.well-known/openid-configuration` names the `jwks_uri`.
    Discovery {
        url: http::Uri,
        fetch: JwksFetch,
    },
    Url {
        url: http::Uri,
        fetch: JwksFetch,
    },
}

#[derive(Debug, Clone)]
pub struct Users {
    /// Holders of these roles must enroll a second factor.
    pub mfa_required_roles: Vec<String>,
    pub setup_token_ttl: Duration,
    pub session_idle_timeout: Duration,
    pub session_absolute_timeout: Duration,
    pub lockout: Lockout,
    pub password: PasswordRules,
}

/// After `threshold` failed logins an account locks for `base`, doubling
/// with each further lock up to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Lockout {
    pub threshold: u32,
    pub base: Duration,
    pub max: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct PasswordRules {
    pub min_chars: usize,
    pub require_letter: bool,
    pub require_digit: bool,
    pub require_symbol: bool,
    pub reject_common: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub per_principal: Option<Quota>,
    pub per_ip: Option<Quota>,
    /// Failed authentication attempts allowed per source network.
    pub auth_failures_per_ip: Option<Quota>,
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
    /// Where the provider processes data (`eu`, `us-east`...); a subject
    /// pinned to other regions is never sent to it.
    pub region: Option<String>,
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
    pub rate_limit: Option<Quota>,
    pub privacy: RoutePrivacy,
    /// Requests must name a data subject (`X-Amanah-Subject`) who has
    /// granted consent for this purpose.
    pub consent_purpose: Option<String>,
    /// Where this route's traffic is processed, when it differs from its
    /// provider's region (a regional deployment behind one provider name).
    pub region: Option<String>,
    /// JSON pointers removed from request bodies before anything else
    /// reads them (data minimization).
    pub drop_fields: Vec<String>,
    /// Request bodies are uploads checked by content while they stream
    /// (format, sample rate, duration, size).
    pub upload: Option<amanah_media::Limits>,
    /// When the request's audit event cannot be written: refuse (503) or
    /// serve and alert.
    pub audit: AuditFailure,
}

/// The deployment-wide settings of the privacy stage.
#[derive(Debug, Clone)]
pub struct Privacy {
    /// Detections scoring below this are ignored.
    pub min_score: f32,
    /// The request header that names a conversation.
    pub conversation_header: HeaderName,
    pub conversation_ttl: Duration,
    pub max_conversations: usize,
    pub max_values_per_conversation: usize,
    pub token_ttl: Duration,
    pub max_tokens: usize,
    /// The largest non-streamed answer read whole to restore or scan it.
    pub max_response_bytes: u64,
    /// Operators that replace the mode's default for a type.
    pub operators: Vec<(EntityType, Operator)>,
}

/// What a route's privacy stage does with personal data in requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrivacyMode {
    /// Nothing: the body passes as it is.
    #[default]
    Off,
    /// Counts what it finds (`X-Amanah-Redactions`), changes nothing.
    Detect,
    /// Applies each type's operator (`<TYPE>` unless configured).
    Redact,
    /// Placeholders per value, restored in the answer.
    Pseudonymize,
    /// Refuses a request holding any (422, naming the types).
    Block,
}

impl PrivacyMode {
    pub const NAMES: [&'static str; 5] = ["off", "detect", "redact", "pseudonymize", "block"];

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "off" => PrivacyMode::Off,
            "detect" => PrivacyMode::Detect,
            "redact" => PrivacyMode::Redact,
            "pseudonymize" => PrivacyMode::Pseudonymize,
            "block" => PrivacyMode::Block,
            _ => return None,
        })
    }
}

/// One route's privacy settings.
#[derive(Debug, Clone, Default)]
pub struct RoutePrivacy {
    pub mode: PrivacyMode,
    /// JSON pointers to scan; empty: every content string.
    pub fields: Vec<String>,
    /// The types looked for; `None`: every type.
    pub entities: Option<Vec<EntityType>>,
    /// Mask personal data the model produced on its own in the answer.
    pub response_scan: bool,
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
    let config = validate::validate(raw, source, &mut problems);
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

/// A region or purpose name: 1 to 64 of letters, digits, `-` and `_`.
pub fn valid_label(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// Names of providers, routes (and so key scopes): lowercase letters,
/// digits, `-` and `_`, 1 to 64 characters, no `__` (it separates levels in
/// environment overrides).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && !name.contains("__")
}

#[cfg(test)]
mod tests;
