//! The documentation is part of the contract: the example configuration
//! validates, the README's reference lists every default the code uses, and
//! every placeholder secret shown in the docs is refused at start-up.

use std::path::{Path, PathBuf};

use amanah_gateway::config::{self, defaults, Source, EXAMPLE_SECRETS};

fn repo_file(rel: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    (path, text)
}

#[test]
fn example_config_validates() {
    let (path, text) = repo_file("examples/amanah.toml");
    let source = Source {
        file: Some((path.display().to_string(), text)),
        env: Vec::new(),
        data_dir: None,
        base_dir: path.parent().map(Path::to_path_buf),
    };
    let c = config::load(&source).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(c.routes.len(), 1);
}

fn quota((requests, period): (u64, u64)) -> String {
    format!("`{requests} / {period} s`")
}

#[test]
fn readme_reference_lists_the_defaults_in_code() {
    let (_, readme) = repo_file("README.md");
    let (_, example) = repo_file("examples/amanah.toml");
    for (key, value) in [
        ("server.listen", format!("`{}`", defaults::LISTEN)),
        (
            "server.max_connections",
            format!("`{}`", defaults::MAX_CONNECTIONS),
        ),
        (
            "server.header_read_timeout_ms",
            format!("`{}`", defaults::HEADER_READ_TIMEOUT_MS),
        ),
        (
            "server.body_idle_timeout_ms",
            format!("`{}`", defaults::BODY_IDLE_TIMEOUT_MS),
        ),
        (
            "server.max_header_bytes",
            format!("`{}`", defaults::MAX_HEADER_BYTES),
        ),
        ("server.max_headers", format!("`{}`", defaults::MAX_HEADERS)),
        (
            "server.tls.hsts_max_age_secs",
            format!("`{}`", defaults::HSTS_MAX_AGE_SECS),
        ),
        ("admin.listen", format!("`{}`", defaults::ADMIN_LISTEN)),
        (
            "keys.default_ttl_days",
            format!("`{}`", defaults::KEY_TTL_DAYS),
        ),
        (
            "upstream.pool_idle_timeout_secs",
            format!("`{}`", defaults::POOL_IDLE_TIMEOUT_SECS),
        ),
        (
            "upstream.pool_max_idle_per_host",
            format!("`{}`", defaults::POOL_MAX_IDLE_PER_HOST),
        ),
        (
            "providers.<name>.connect_timeout_ms",
            format!("`{}`", defaults::CONNECT_TIMEOUT_MS),
        ),
        (
            "providers.<name>.first_byte_timeout_ms",
            format!("`{}`", defaults::FIRST_BYTE_TIMEOUT_MS),
        ),
        (
            "providers.<name>.idle_timeout_ms",
            format!("`{}`", defaults::IDLE_TIMEOUT_MS),
        ),
        (
            "routes[].max_body_bytes",
            format!("`{}`", defaults::MAX_BODY_BYTES),
        ),
        (
            "keys.rotation_grace_secs",
            format!("`{}`", defaults::ROTATION_GRACE_SECS),
        ),
        (
            "routes[].permission",
            format!("`{}`", defaults::ROUTE_PERMISSION),
        ),
        (
            "jwt.leeway_secs",
            format!("`{}`", defaults::JWT_LEEWAY_SECS),
        ),
        (
            "jwt.max_lifetime_secs",
            format!("`{}`", defaults::JWT_MAX_LIFETIME_SECS),
        ),
        (
            "jwt.roles_claim",
            format!("`{}`", defaults::JWT_ROLES_CLAIM),
        ),
        (
            "jwt.jwks_cache_secs",
            format!("`{}`", defaults::JWKS_CACHE_SECS),
        ),
        (
            "jwt.jwks_fetch_timeout_ms",
            format!("`{}`", defaults::JWKS_FETCH_TIMEOUT_MS),
        ),
        (
            "jwt.jwks_refetch_min_interval_secs",
            format!("`{}`", defaults::JWKS_REFETCH_MIN_INTERVAL_SECS),
        ),
        (
            "users.mfa_required_roles",
            format!("`{:?}`", defaults::MFA_REQUIRED_ROLES),
        ),
        (
            "users.setup_token_ttl_secs",
            format!("`{}`", defaults::SETUP_TOKEN_TTL_SECS),
        ),
        (
            "users.session_idle_timeout_secs",
            format!("`{}`", defaults::SESSION_IDLE_TIMEOUT_SECS),
        ),
        (
            "users.session_absolute_timeout_secs",
            format!("`{}`", defaults::SESSION_ABSOLUTE_TIMEOUT_SECS),
        ),
        (
            "users.lockout_threshold",
            format!("`{}`", defaults::LOCKOUT_THRESHOLD),
        ),
        (
            "users.lockout_base_secs",
            format!("`{}`", defaults::LOCKOUT_BASE_SECS),
        ),
        (
            "users.lockout_max_secs",
            format!("`{}`", defaults::LOCKOUT_MAX_SECS),
        ),
        (
            "users.password.min_chars",
            format!("`{}`", defaults::PASSWORD_MIN_CHARS),
        ),
        (
            "rate_limits.per_principal",
            quota(defaults::RATE_PER_PRINCIPAL),
        ),
        ("rate_limits.per_ip", quota(defaults::RATE_PER_IP)),
        (
            "rate_limits.auth_failures_per_ip",
            quota(defaults::AUTH_FAILURES_PER_IP),
        ),
        (
            "privacy.min_score",
            format!("`{}`", defaults::PRIVACY_MIN_SCORE),
        ),
        (
            "privacy.conversation_header",
            format!("`{}`", defaults::CONVERSATION_HEADER),
        ),
        (
            "privacy.conversation_ttl_secs",
            format!("`{}`", defaults::CONVERSATION_TTL_SECS),
        ),
        (
            "privacy.max_conversations",
            format!("`{}`", defaults::MAX_CONVERSATIONS),
        ),
        (
            "privacy.max_values_per_conversation",
            format!("`{}`", defaults::MAX_VALUES_PER_CONVERSATION),
        ),
        (
            "privacy.token_ttl_secs",
            format!("`{}`", defaults::TOKEN_TTL_SECS),
        ),
        ("privacy.max_tokens", format!("`{}`", defaults::MAX_TOKENS)),
        (
            "privacy.max_response_bytes",
            format!("`{}`", defaults::MAX_RESPONSE_BYTES),
        ),
        (
            "keyring.provider",
            format!("`{}`", defaults::KEYRING_PROVIDER),
        ),
        (
            "keyring.root_key_file",
            format!("`{}`", defaults::ROOT_KEY_FILE),
        ),
        (
            "keyring.root_key_env",
            format!("`{}`", defaults::ROOT_KEY_ENV),
        ),
        (
            "keyring.key_store",
            format!("`{}`", defaults::KEY_STORE_FILE),
        ),
        (
            "keyring.rotation_days",
            format!("`{}`", defaults::KEY_ROTATION_DAYS),
        ),
        (
            "records.cleanup_interval_secs",
            format!("`{}`", defaults::CLEANUP_INTERVAL_SECS),
        ),
        (
            "records.sweep_batch",
            format!("`{}`", defaults::SWEEP_BATCH),
        ),
        ("audit.store", format!("`{}`", defaults::AUDIT_STORE_FILE)),
        (
            "audit.signing_key_file",
            format!("`{}`", defaults::AUDIT_SIGNING_KEY_FILE),
        ),
        (
            "audit.checkpoint_every_events",
            format!("`{}`", defaults::AUDIT_CHECKPOINT_EVERY_EVENTS),
        ),
        (
            "audit.checkpoint_every_secs",
            format!("`{}`", defaults::AUDIT_CHECKPOINT_EVERY_SECS),
        ),
        (
            "audit.retention_days",
            format!("`{}`", defaults::AUDIT_RETENTION_DAYS),
        ),
        (
            "alerts.cooldown_secs",
            format!("`{}`", defaults::ALERT_COOLDOWN_SECS),
        ),
        (
            "alerts.failed_auth_threshold",
            format!("`{}`", defaults::ALERT_FAILED_AUTH_THRESHOLD),
        ),
        (
            "alerts.failed_auth_window_secs",
            format!("`{}`", defaults::ALERT_FAILED_AUTH_WINDOW_SECS),
        ),
        (
            "alerts.key_calls_per_hour",
            format!("`{}`", defaults::ALERT_KEY_CALLS_PER_HOUR),
        ),
        (
            "alerts.webhooks[].max_attempts",
            format!("`{}`", defaults::ALERT_MAX_ATTEMPTS),
        ),
        (
            "alerts.webhooks[].backoff_ms",
            format!("`{}`", defaults::ALERT_BACKOFF_MS),
        ),
        (
            "alerts.webhooks[].timeout_ms",
            format!("`{}`", defaults::ALERT_WEBHOOK_TIMEOUT_MS),
        ),
        (
            "alerts.email.timeout_ms",
            format!("`{}`", defaults::SMTP_TIMEOUT_MS),
        ),
    ] {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{key}`")))
            .unwrap_or_else(|| panic!("README reference has no row for {key}"));
        assert!(
            row.contains(&value),
            "README row for {key} does not show default {value}: {row}"
        );
        let leaf = key.rsplit('.').next().unwrap();
        assert!(
            example.contains(leaf),
            "examples/amanah.toml does not show {leaf}"
        );
    }
}

/// Any value the docs tell a reader to put in a secret must be refused.
#[test]
fn secrets_shown_in_docs_are_refused() {
    let mut shown = Vec::new();
    for rel in ["README.md", "examples/amanah.toml", "docs/ARCHITECTURE.md"] {
        let (_, text) = repo_file(rel);
        for line in text.lines() {
            // `export NAME=value` and `echo 'value' > file` lines.
            if let Some(rest) = line.trim_start().strip_prefix("export ") {
                if let Some((name, value)) = rest.split_once('=') {
                    let value = value
                        .split(" #")
                        .next()
                        .unwrap_or("")
                        .trim()
                        .trim_matches(['\'', '"']);
                    let secret_name = name.ends_with("KEY")
                        || name.ends_with("SECRET")
                        || name.ends_with("TOKEN");
                    if secret_name && !value.starts_with('$') && !value.starts_with("amk_") {
                        shown.push(value.to_owned());
                    }
                }
            }
            if let Some(rest) = line.trim_start().strip_prefix("echo ") {
                let value = rest
                    .split('>')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .trim_matches(['\'', '"']);
                if !value.is_empty() {
                    shown.push(value.to_owned());
                }
            }
        }
    }
    assert!(
        !shown.is_empty(),
        "the docs show at least one example secret"
    );
    for value in shown {
        assert!(
            EXAMPLE_SECRETS.contains(&value.as_str()),
            "docs show secret {value:?} that is not in EXAMPLE_SECRETS"
        );
    }
}
