//! Phase one: the configuration as written, before validation.
//!
//! Every field is optional here so that defaults live in one place
//! (`super::defaults`) and every problem can be reported at once. Unknown
//! keys are collected by `serde_ignored` rather than refused by serde, so a
//! file with three typos gets three messages.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawConfig {
    pub data_dir: Option<PathBuf>,
    pub server: RawServer,
    pub admin: RawAdmin,
    pub log: RawLog,
    pub cors: RawCors,
    pub keys: RawKeys,
    pub jwt: Option<RawJwt>,
    pub users: RawUsers,
    pub rate_limits: RawRateLimits,
    pub roles: BTreeMap<String, RawRole>,
    pub data_classes: BTreeMap<String, Vec<String>>,
    pub upstream: RawUpstream,
    pub providers: BTreeMap<String, RawProvider>,
    pub privacy: RawPrivacy,
    pub keyring: RawKeyring,
    pub records: RawRecords,
    pub audit: RawAudit,
    pub routes: Vec<RawRoute>,
    pub alerts: RawAlerts,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawAlerts {
    pub cooldown_secs: Option<u64>,
    pub failed_auth_threshold: Option<u64>,
    pub failed_auth_window_secs: Option<u64>,
    pub key_calls_per_hour: Option<u64>,
    pub new_network: Option<bool>,
    pub admin_grants: Option<bool>,
    pub lockdown: Option<bool>,
    pub audit_failures: Option<bool>,
    pub log: Option<bool>,
    pub webhooks: Vec<RawWebhook>,
    pub email: Option<RawEmail>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawWebhook {
    pub url: Option<String>,
    pub format: Option<String>,
    pub secret: Option<RawSecretRef>,
    pub max_attempts: Option<u64>,
    pub backoff_ms: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub allow_plaintext: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawEmail {
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u64>,
    pub starttls: Option<bool>,
    pub allow_plaintext: Option<bool>,
    pub username: Option<String>,
    pub password: Option<RawSecretRef>,
    pub from: Option<String>,
    pub to: Option<Vec<String>>,
    pub max_attempts: Option<u64>,
    pub backoff_ms: Option<u64>,
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawAudit {
    pub store: Option<PathBuf>,
    pub signing_key_file: Option<PathBuf>,
    pub node: Option<String>,
    pub checkpoint_every_events: Option<u64>,
    pub checkpoint_every_secs: Option<u64>,
    pub checkpoint_file: Option<PathBuf>,
    pub retention_days: Option<u64>,
    pub on_failure: Option<String>,
    pub sync: Option<String>,
    pub checkpoint_webhook: Option<RawWebhook>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawKeyring {
    pub provider: Option<String>,
    pub root_key_file: Option<PathBuf>,
    pub root_key_env: Option<String>,
    pub key_store: Option<PathBuf>,
    pub rotation_days: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawRecords {
    pub cleanup_interval_secs: Option<u64>,
    pub sweep_batch: Option<u64>,
    /// Record kind -> seconds, "24h", "90d" or "forever".
    pub retention: BTreeMap<String, RawRetention>,
}

/// A retention period as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawRetention {
    Seconds(u64),
    Text(String),
}

impl RawRetention {
    pub fn describe(&self) -> String {
        match self {
            RawRetention::Seconds(s) => s.to_string(),
            RawRetention::Text(t) => t.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawPrivacy {
    pub min_score: Option<f64>,
    pub conversation_header: Option<String>,
    pub conversation_ttl_secs: Option<u64>,
    pub max_conversations: Option<u64>,
    pub max_values_per_conversation: Option<u64>,
    pub token_ttl_secs: Option<u64>,
    pub max_tokens: Option<u64>,
    pub max_response_bytes: Option<u64>,
    /// Entity type label -> operator (`mask:4` keeps the last four).
    pub operators: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawServer {
    pub listen: Option<String>,
    pub allow_public: Option<bool>,
    pub max_connections: Option<u64>,
    pub header_read_timeout_ms: Option<u64>,
    pub body_idle_timeout_ms: Option<u64>,
    pub max_header_bytes: Option<u64>,
    pub max_headers: Option<u64>,
    pub tls: Option<RawTls>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawTls {
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub hsts_max_age_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawAdmin {
    pub listen: Option<String>,
    pub allow_public: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawLog {
    pub format: Option<String>,
    pub level: Option<String>,
    pub access_log: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawCors {
    pub allowed_origins: Option<Vec<String>>,
    pub allow_credentials: Option<bool>,
    pub allowed_headers: Option<Vec<String>>,
    pub max_age_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawKeys {
    pub hmac_secret: Option<RawSecretRef>,
    pub default_ttl_days: Option<u64>,
    pub rotation_grace_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawJwt {
    pub issuer: Option<String>,
    pub audiences: Option<Vec<String>>,
    pub algorithms: Option<Vec<String>>,
    pub leeway_secs: Option<u64>,
    pub max_lifetime_secs: Option<u64>,
    pub roles_claim: Option<String>,
    pub role_map: Option<BTreeMap<String, String>>,
    pub hmac_secret: Option<RawSecretRef>,
    pub public_key_files: Option<Vec<PathBuf>>,
    pub jwks_file: Option<PathBuf>,
    pub jwks_url: Option<String>,
    pub oidc_discovery: Option<bool>,
    pub allow_plaintext: Option<bool>,
    pub jwks_cache_secs: Option<u64>,
    pub jwks_fetch_timeout_ms: Option<u64>,
    pub jwks_refetch_min_interval_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawUsers {
    pub mfa_required_roles: Option<Vec<String>>,
    pub setup_token_ttl_secs: Option<u64>,
    pub session_idle_timeout_secs: Option<u64>,
    pub session_absolute_timeout_secs: Option<u64>,
    pub lockout_threshold: Option<u64>,
    pub lockout_base_secs: Option<u64>,
    pub lockout_max_secs: Option<u64>,
    pub password: RawPasswordPolicy,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawPasswordPolicy {
    pub min_chars: Option<u64>,
    pub require_letter: Option<bool>,
    pub require_digit: Option<bool>,
    pub require_symbol: Option<bool>,
    pub reject_common: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawRateLimits {
    pub per_principal: Option<RawQuota>,
    pub per_ip: Option<RawQuota>,
    pub auth_failures_per_ip: Option<RawQuota>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawQuota {
    pub requests: Option<u64>,
    pub period_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawRole {
    pub description: Option<String>,
    pub permissions: Option<Vec<String>>,
    pub inherits: Option<Vec<String>>,
}

/// Where a secret comes from. Exactly one of `file` and `env`; `value` is
/// accepted by the parser only to refuse it with a clear message.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawSecretRef {
    pub file: Option<PathBuf>,
    pub env: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawUpstream {
    pub extra_ca_file: Option<PathBuf>,
    pub pool_idle_timeout_secs: Option<u64>,
    pub pool_max_idle_per_host: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawProvider {
    pub base_url: Option<String>,
    pub credential: Option<RawSecretRef>,
    pub credential_header: Option<String>,
    pub allow_plaintext: Option<bool>,
    pub connect_timeout_ms: Option<u64>,
    pub first_byte_timeout_ms: Option<u64>,
    pub idle_timeout_ms: Option<u64>,
    pub region: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawRoute {
    pub name: Option<String>,
    pub path_prefix: Option<String>,
    pub methods: Option<Vec<String>>,
    pub provider: Option<String>,
    pub max_body_bytes: Option<u64>,
    /// Replaced by `permission`; accepted by the parser only to say so.
    pub allowed_roles: Option<Vec<String>>,
    pub permission: Option<String>,
    pub data_class: Option<String>,
    pub rate_limit: Option<RawQuota>,
    pub privacy: Option<String>,
    pub privacy_fields: Option<Vec<String>>,
    pub privacy_entities: Option<Vec<String>>,
    pub privacy_response_scan: Option<bool>,
    pub consent_purpose: Option<String>,
    pub region: Option<String>,
    pub drop_fields: Option<Vec<String>>,
    pub upload: Option<String>,
    pub upload_max_duration_secs: Option<u64>,
    pub audit: Option<String>,
}
