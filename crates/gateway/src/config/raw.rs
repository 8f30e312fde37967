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
    pub upstream: RawUpstream,
    pub providers: BTreeMap<String, RawProvider>,
    pub routes: Vec<RawRoute>,
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawRoute {
    pub name: Option<String>,
    pub path_prefix: Option<String>,
    pub methods: Option<Vec<String>>,
    pub provider: Option<String>,
    pub max_body_bytes: Option<u64>,
    pub allowed_roles: Option<Vec<String>>,
}
