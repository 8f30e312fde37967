use super::*;

fn load_text(text: &str, env: &[(&str, &str)]) -> Result<Config, Problems> {
    load(&Source {
        file: Some(("test.toml".into(), text.into())),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        data_dir: None,
        base_dir: None,
    })
}

fn keys_of(p: &Problems) -> Vec<&str> {
    p.0.iter().map(|p| p.key.as_str()).collect()
}

const GOOD: &str = r#"
data_dir = "/var/lib/amanah"
[server]
listen = "127.0.0.1:8080"
[providers.openai]
base_url = "https://api.openai.com/v1/"
credential = { env = "OPENAI_API_KEY" }
[[routes]]
name = "chat"
path_prefix = "/v1/"
methods = ["post", "GET"]
provider = "openai"
permission = "records:write"
"#;

#[test]
fn empty_config_is_valid_and_secure() {
    let c = load_text("", &[]).unwrap();
    assert!(c.server.listen.ip().is_loopback());
    assert!(c.admin.listen.ip().is_loopback());
    assert!(c.server.tls.is_none());
    assert_eq!(c.data_dir, PathBuf::from(defaults::DATA_DIR));
    assert_eq!(c.keys.default_ttl, Duration::from_secs(90 * 86_400));
    assert!(matches!(c.keys.hmac_secret, SecretRef::Generated(_)));
}

#[test]
fn good_config_is_normalized() {
    let c = load_text(GOOD, &[]).unwrap();
    assert_eq!(c.providers[0].base_url, "https://api.openai.com/v1");
    assert_eq!(c.routes[0].path_prefix, "/v1");
    assert_eq!(c.routes[0].methods, vec![Method::POST, Method::GET]);
    assert_eq!(c.routes[0].requirement.permission.as_str(), "records:write");
    assert_eq!(
        c.providers[0].credential,
        Some(SecretRef::Env("OPENAI_API_KEY".into()))
    );
}

#[test]
fn every_unknown_key_is_reported() {
    let err = load_text(
        "[server]\nlisen = \"x\"\nmax_conections = 3\n[loggin]\nlevel = \"info\"\n",
        &[],
    )
    .unwrap_err();
    let keys = keys_of(&err);
    assert!(keys.contains(&"server.lisen"), "{err}");
    assert!(keys.contains(&"server.max_conections"), "{err}");
    assert!(keys.contains(&"loggin"), "{err}");
    assert!(err.0.iter().all(|p| !p.fix.is_empty()));
}

#[test]
fn env_overrides_apply_and_typos_are_caught() {
    let c = load_text(
        GOOD,
        &[
            ("AMANAH_SERVER__MAX_CONNECTIONS", "7"),
            ("AMANAH_ROUTES__0__MAX_BODY_BYTES", "99"),
            ("AMANAH_LOG__FORMAT", "json"),
        ],
    )
    .unwrap();
    assert_eq!(c.server.max_connections, 7);
    assert_eq!(c.routes[0].max_body_bytes, 99);
    assert_eq!(c.log.format, LogFormat::Json);
    let err = load_text(GOOD, &[("AMANAH_SERVER__LISEN", "0.0.0.0:1")]).unwrap_err();
    assert!(err.0[0].message.contains("AMANAH_SERVER__LISEN"), "{err}");
    let err = load_text(GOOD, &[("AMANAH_ROUTES__5__NAME", "x")]).unwrap_err();
    assert_eq!(keys_of(&err), ["AMANAH_ROUTES__5__NAME"]);
}

#[test]
fn data_dir_from_env_and_flag() {
    let c = load_text("", &[("AMANAH_DATA_DIR", "/tmp/x")]).unwrap();
    assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
    let c = load(&Source {
        file: None,
        env: vec![("AMANAH_DATA_DIR".into(), "/tmp/x".into())],
        data_dir: Some("/tmp/flag".into()),
        base_dir: None,
    })
    .unwrap();
    assert_eq!(c.data_dir, PathBuf::from("/tmp/flag"));
}

#[test]
fn relative_paths_are_anchored_at_the_config_file() {
    let text = "data_dir = \"data\"\n[keys]\nhmac_secret = { file = \"s.key\" }\n[server.tls]\ncert_file = \"/abs/c.pem\"\nkey_file = \"k.pem\"\n";
    let c = load(&Source {
        file: Some(("f".into(), text.into())),
        env: Vec::new(),
        data_dir: None,
        base_dir: Some("/etc/amanah".into()),
    })
    .unwrap();
    assert_eq!(c.data_dir, PathBuf::from("/etc/amanah/data"));
    assert_eq!(
        c.keys.hmac_secret,
        SecretRef::File("/etc/amanah/s.key".into())
    );
    let tls = c.server.tls.unwrap();
    assert_eq!(tls.cert_file, PathBuf::from("/abs/c.pem"));
    assert_eq!(tls.key_file, PathBuf::from("/etc/amanah/k.pem"));
}

#[test]
fn secret_variables_are_not_overrides() {
    let text = "[providers.p]\nbase_url = \"https://x.example\"\ncredential = { env = \"AMANAH_PROVIDER_KEY\" }\n";
    load_text(text, &[("AMANAH_PROVIDER_KEY", "whatever")]).unwrap();
}

#[test]
fn public_listen_needs_opt_in_and_tls() {
    let err = load_text("[server]\nlisten = \"0.0.0.0:8080\"\n", &[]).unwrap_err();
    assert_eq!(keys_of(&err), ["server.listen"]);
    assert!(err.0[0].fix.contains("allow_public"));
    let err = load_text(
        "[server]\nlisten = \"0.0.0.0:8080\"\nallow_public = true\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(keys_of(&err), ["server.listen"]);
    load_text("[server]\nlisten = \"0.0.0.0:8080\"\nallow_public = true\n[server.tls]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n", &[]).unwrap();
    let err = load_text("[admin]\nlisten = \"0.0.0.0:9090\"\n", &[]).unwrap_err();
    assert_eq!(keys_of(&err), ["admin.listen"]);
}

#[test]
fn inline_secrets_refused() {
    let text = "[keys]\nhmac_secret = { value = \"0123456789012345678901234567890123456789\" }\n";
    let err = load_text(text, &[]).unwrap_err();
    assert_eq!(keys_of(&err), ["keys.hmac_secret"]);
    assert!(
        !err.to_string()
            .contains("0123456789012345678901234567890123456789"),
        "never echo a secret"
    );
}

#[test]
fn wildcard_cors_with_credentials_refused() {
    let err = load_text(
        "[cors]\nallowed_origins = [\"*\"]\nallow_credentials = true\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(keys_of(&err), ["cors.allowed_origins[0]"]);
    let err = load_text(
        "[cors]\nallowed_origins = [\"https://a.example/path\"]\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(keys_of(&err), ["cors.allowed_origins[0]"]);
    load_text("[cors]\nallowed_origins = [\"*\"]\n", &[]).unwrap();
}

#[test]
fn plaintext_remote_provider_refused_loopback_allowed() {
    let err = load_text(
        "[providers.p]\nbase_url = \"http://llm.internal:8000/v1\"\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(keys_of(&err), ["providers.p.base_url"]);
    load_text(
        "[providers.p]\nbase_url = \"http://llm.internal:8000/v1\"\nallow_plaintext = true\n",
        &[],
    )
    .unwrap();
    load_text(
        "[providers.p]\nbase_url = \"http://127.0.0.1:8000/v1\"\n",
        &[],
    )
    .unwrap();
    load_text("[providers.p]\nbase_url = \"http://[::1]:8000/v1\"\n", &[]).unwrap();
    let err = load_text(
        "[providers.p]\nbase_url = \"https://user:pw@x.example/v1\"\n",
        &[],
    )
    .unwrap_err();
    assert!(!err.to_string().contains("pw@"), "{err}");
}

#[test]
fn route_problems_are_all_reported() {
    let text = r#"
[[routes]]
name = "Bad Name"
path_prefix = "/v1/../admin"
methods = ["FETCH", "TRACE"]
provider = "ghost"
"#;
    let err = load_text(text, &[]).unwrap_err();
    let keys = keys_of(&err);
    for k in [
        "routes[0].name",
        "routes[0].path_prefix",
        "routes[0].methods",
        "routes[0].provider",
    ] {
        assert!(keys.contains(&k), "{k} missing from {err}");
    }
}

#[test]
fn overlapping_routes_refused() {
    let text = r#"
[providers.p]
base_url = "https://x.example"
[[routes]]
name = "a"
path_prefix = "/v1"
methods = ["POST"]
provider = "p"
[[routes]]
name = "b"
path_prefix = "/v1/"
methods = ["GET", "POST"]
provider = "p"
"#;
    let err = load_text(text, &[]).unwrap_err();
    assert_eq!(keys_of(&err), ["routes.b"]);
}

#[test]
fn an_invalid_provider_is_reported_once_not_again_by_its_routes() {
    let text = "[providers.p]\nbase_url = \"ftp://x\"\n[[routes]]\nname = \"r\"\npath_prefix = \"/v1\"\nmethods = [\"POST\"]\nprovider = \"p\"\n";
    let err = load_text(text, &[]).unwrap_err();
    assert_eq!(keys_of(&err), ["providers.p.base_url"], "{err}");
}

#[test]
fn zero_provider_timeouts_refused() {
    let text = "[providers.p]\nbase_url = \"https://x.example\"\nconnect_timeout_ms = 0\nfirst_byte_timeout_ms = 0\nidle_timeout_ms = 0\n";
    let err = load_text(text, &[]).unwrap_err();
    assert_eq!(
        keys_of(&err),
        [
            "providers.p.connect_timeout_ms",
            "providers.p.first_byte_timeout_ms",
            "providers.p.idle_timeout_ms"
        ]
    );
}

#[test]
fn type_errors_are_problems_not_panics() {
    let err = load_text("[server]\nmax_connections = \"many\"\n", &[]).unwrap_err();
    assert_eq!(err.0.len(), 1);
    let err = load_text("[server\nlisten=", &[]).unwrap_err();
    assert!(err.0[0].message.contains("TOML"), "{err}");
}

#[test]
fn zero_limits_refused() {
    let err = load_text(
        "[server]\nmax_connections = 0\nheader_read_timeout_ms = 0\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(err.0.len(), 2);
}

mod secrets {
    use super::*;

    fn write_secret(dir: &Path, value: &str, mode: u32) -> PathBuf {
        let p = dir.join("s");
        std::fs::write(&p, value).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        p
    }

    #[test]
    fn short_secret_refused_without_echoing_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_secret(dir.path(), "tooshort-secret\n", 0o600);
        let err = SecretRef::File(p).resolve("k").unwrap_err();
        assert!(err.message.contains("shorter than 32"), "{err}");
        assert!(!err.to_string().contains("tooshort"));
    }

    #[test]
    fn example_secrets_refused() {
        let dir = tempfile::tempdir().unwrap();
        for example in EXAMPLE_SECRETS {
            let p = write_secret(dir.path(), example, 0o600);
            let err = SecretRef::File(p).resolve("k").unwrap_err();
            assert!(err.message.contains("examples"), "{example}: {err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_secret_file_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_secret(dir.path(), &"x".repeat(40), 0o644);
        let err = SecretRef::File(p).resolve("k").unwrap_err();
        assert!(err.fix.contains("chmod 600"), "{err}");
    }

    #[test]
    fn good_secret_resolves_without_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let value = "q".repeat(40);
        let p = write_secret(dir.path(), &format!("{value}\n"), 0o600);
        assert_eq!(SecretRef::File(p).resolve("k").unwrap().expose(), value);
    }

    #[test]
    fn generated_secret_is_created_once_privately() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secrets/api_key_hmac");
        let a = SecretRef::Generated(p.clone()).resolve("k").unwrap();
        let b = SecretRef::Generated(p.clone()).resolve("k").unwrap();
        assert_eq!(a.expose(), b.expose());
        assert!(a.char_len() >= MIN_SECRET_CHARS);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o077,
                0
            );
        }
    }

    #[test]
    fn concurrent_creation_yields_one_complete_secret() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secrets/api_key_hmac");
        let values: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        SecretRef::Generated(p.clone())
                            .resolve("k")
                            .unwrap()
                            .expose()
                            .to_owned()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(values.iter().all(|v| v == &values[0] && v.len() == 48));
        let leftovers = std::fs::read_dir(p.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "temporary files are cleaned up");
    }

    #[test]
    fn missing_env_secret_is_a_problem() {
        let err = SecretRef::Env("AMANAH_TEST_SURELY_UNSET_VAR".into())
            .resolve("k")
            .unwrap_err();
        assert!(err.message.contains("not set"));
    }
}

#[test]
fn routes_cannot_take_the_admin_api_prefix() {
    for prefix in ["/admin", "/admin/", "/admin/v1", "/admin/v2/keys"] {
        let text = GOOD.replace(
            r#"path_prefix = "/v1/""#,
            &format!("path_prefix = \"{prefix}\""),
        );
        let err = load_text(&text, &[]).unwrap_err();
        assert_eq!(keys_of(&err), ["routes[0].path_prefix"], "{prefix}");
        assert!(err.0[0].message.contains("reserved"), "{err}");
    }
    let text = GOOD.replace(
        r#"path_prefix = "/v1/""#,
        r#"path_prefix = "/administrator""#,
    );
    assert!(load_text(&text, &[]).is_ok());
}

/// The defaults the README promises for administrators.
#[test]
fn admin_user_defaults_are_the_documented_ones() {
    let u = load_text("", &[]).unwrap().users;
    assert_eq!(u.mfa_required_roles, ["admin"]);
    assert_eq!(u.setup_token_ttl, Duration::from_secs(24 * 3600));
    assert_eq!(u.session_idle_timeout, Duration::from_secs(3600));
    assert_eq!(u.session_absolute_timeout, Duration::from_secs(12 * 3600));
    assert_eq!(u.lockout.threshold, 5);
    assert_eq!(u.lockout.base, Duration::from_secs(300));
    assert_eq!(u.lockout.max, Duration::from_secs(86_400));
    assert_eq!(u.password.min_chars, 12);
    assert!(u.password.require_letter && u.password.require_digit && u.password.require_symbol);
    assert!(u.password.reject_common);
}

#[test]
fn privacy_settings_are_checked_and_every_problem_reported() {
    let text = format!(
        r#"{GOOD}
privacy = "anonymize"
privacy_fields = ["messages", "/a~2"]
privacy_entities = ["EMAIL", "SECRET"]
[privacy]
min_score = 1.5
conversation_header = "bad header"
max_conversations = 0
[privacy.operators]
CREDIT_CARD = "mask:x"
NOT_A_TYPE = "redact"
"#
    );
    let err = load_text(&text, &[]).unwrap_err();
    let keys = keys_of(&err);
    for k in [
        "routes[0].privacy",
        "routes[0].privacy_fields",
        "routes[0].privacy_entities",
        "privacy.min_score",
        "privacy.conversation_header",
        "privacy.max_conversations",
        "privacy.operators.CREDIT_CARD",
        "privacy.operators.NOT_A_TYPE",
    ] {
        assert!(keys.contains(&k), "{k} missing from {err}");
    }
    // Scan settings on a route that does not scan are a contradiction.
    let err = load_text(&format!("{GOOD}privacy_response_scan = true\n"), &[]).unwrap_err();
    assert_eq!(keys_of(&err), ["routes[0].privacy"]);
}

#[test]
fn privacy_settings_load_with_their_defaults_and_env_overrides() {
    let text =
        format!("{GOOD}privacy = \"pseudonymize\"\n[privacy.operators]\nus_ssn = \"hash\"\n");
    let c = load_text(
        &text,
        &[("AMANAH_PRIVACY__OPERATORS__CREDIT_CARD", "mask:4")],
    )
    .unwrap();
    assert_eq!(c.routes[0].privacy.mode, PrivacyMode::Pseudonymize);
    assert!(c.routes[0].privacy.entities.is_none());
    assert_eq!(c.privacy.min_score, 0.4);
    assert_eq!(
        c.privacy.conversation_header.as_str(),
        defaults::CONVERSATION_HEADER
    );
    let mut ops = c.privacy.operators.clone();
    ops.sort_by_key(|(e, _)| *e);
    assert_eq!(
        ops,
        [
            (EntityType::CreditCard, Operator::Mask { keep_last: 4 }),
            (EntityType::UsSsn, Operator::Hash)
        ]
    );
}

#[test]
fn keyring_and_records_settings_are_checked() {
    let text = format!(
        r#"{GOOD}
[keyring]
provider = "kms"
rotation_days = 5000
[records]
cleanup_interval_secs = 0
sweep_batch = 0
[records.retention]
conversation = "24x"
"bad kind" = "1d"
document = 0
"#
    );
    let err = load_text(&text, &[]).unwrap_err();
    let keys = keys_of(&err);
    for k in [
        "keyring.provider",
        "keyring.rotation_days",
        "records.cleanup_interval_secs",
        "records.sweep_batch",
        "records.retention.conversation",
        "records.retention.bad kind",
        "records.retention.document",
    ] {
        assert!(keys.contains(&k), "{k} missing from {err}");
    }
    let err = load_text(
        &format!("{GOOD}[keyring]\nprovider = \"env\"\nroot_key_env = \"lower-case\"\n"),
        &[],
    )
    .unwrap_err();
    assert_eq!(keys_of(&err), ["keyring.root_key_env"]);
}

#[test]
fn keyring_and_records_load_with_defaults_and_env_overrides() {
    let c = load_text(GOOD, &[]).unwrap();
    assert_eq!(
        c.keyring.root_key,
        RootKeySource::File(c.data_dir.join("root.key"))
    );
    assert_eq!(c.keyring.key_store, c.data_dir.join("keys.db"));
    assert_eq!(
        c.keyring.rotation_period,
        Some(Duration::from_secs(90 * 86_400))
    );
    assert_eq!(c.records.cleanup_interval, Duration::from_secs(300));
    assert!(c.records.retention.is_empty());
    let c = load_text(
        &format!("{GOOD}[records.retention]\ncall_metadata = \"forever\"\nvoicemail = 3600\n"),
        &[
            ("AMANAH_KEYRING__PROVIDER", "env"),
            ("AMANAH_KEYRING__ROTATION_DAYS", "0"),
            ("AMANAH_RECORDS__RETENTION__DOCUMENT", "7d"),
        ],
    )
    .unwrap();
    assert_eq!(
        c.keyring.root_key,
        RootKeySource::Env("AMANAH_ROOT_KEY".into())
    );
    assert_eq!(c.keyring.rotation_period, None);
    let mut retention = c.records.retention.clone();
    retention.sort();
    assert_eq!(
        retention,
        [
            ("call_metadata".to_owned(), None),
            ("document".to_owned(), Some(7 * 86_400)),
            ("voicemail".to_owned(), Some(3_600)),
        ]
    );
}

#[test]
fn consent_residency_and_minimization_keys_are_checked() {
    let text = format!("{GOOD}consent_purpose = \"a b\"\ndrop_fields = [\"user\", \"\"]\n");
    let err = load_text(&text, &[]).unwrap_err();
    let keys = keys_of(&err);
    assert!(keys.contains(&"routes[0].consent_purpose"), "{err}");
    assert!(keys.contains(&"routes[0].drop_fields"), "{err}");
    let c = load_text(
        &format!("{GOOD}consent_purpose = \"support\"\ndrop_fields = [\"/user\"]\n"),
        &[],
    )
    .unwrap();
    assert_eq!(c.routes[0].consent_purpose.as_deref(), Some("support"));
    assert_eq!(c.routes[0].drop_fields, ["/user"]);
    let c = load_text(
        &format!("{GOOD}region = \"eu-west\"\n"),
        &[("AMANAH_PROVIDERS__OPENAI__REGION", "eu")],
    )
    .unwrap();
    assert_eq!(c.providers[0].region.as_deref(), Some("eu"));
    assert_eq!(c.routes[0].region.as_deref(), Some("eu-west"));
    let err = load_text(GOOD, &[("AMANAH_PROVIDERS__OPENAI__REGION", "e u")]).unwrap_err();
    assert_eq!(keys_of(&err), ["providers.openai.region"]);
}

#[test]
fn upload_routes_are_checked() {
    let c = load_text(&format!("{GOOD}upload = \"audio\"\n"), &[]).unwrap();
    let limits = c.routes[0].upload.as_ref().unwrap();
    assert_eq!(limits.max_bytes, defaults::UPLOAD_MAX_BYTES);
    assert_eq!(c.routes[0].max_body_bytes, defaults::UPLOAD_MAX_BYTES);
    assert_eq!(limits.max_duration_secs, defaults::UPLOAD_MAX_DURATION_SECS);
    for (extra, key) in [
        ("upload = \"video\"\n", "routes[0].upload"),
        (
            "upload = \"audio\"\nprivacy = \"redact\"\n",
            "routes[0].upload",
        ),
        (
            "upload = \"audio\"\nupload_max_duration_secs = 0\n",
            "routes[0].upload_max_duration_secs",
        ),
        (
            "upload_max_duration_secs = 60\n",
            "routes[0].upload_max_duration_secs",
        ),
    ] {
        let err = load_text(&format!("{GOOD}{extra}"), &[]).unwrap_err();
        assert!(keys_of(&err).contains(&key), "{extra}: {err}");
    }
}

#[test]
fn amanahs_own_api_names_and_paths_are_reserved() {
    for (text, key) in [
        (
            GOOD.replace("name = \"chat\"", "name = \"data_api\""),
            "routes[0].name",
        ),
        (
            GOOD.replace("path_prefix = \"/v1/\"", "path_prefix = \"/v1/records\""),
            "routes[0].path_prefix",
        ),
        (
            GOOD.replace("path_prefix = \"/v1/\"", "path_prefix = \"/v1/subjects/x\""),
            "routes[0].path_prefix",
        ),
        (
            format!("{GOOD}[data_classes]\ngeneral = [\"admin\"]\n"),
            "data_classes.general",
        ),
    ] {
        let err = load_text(&text, &[]).unwrap_err();
        assert!(keys_of(&err).contains(&key), "{key}: {err}");
    }
}

#[test]
fn alerts_load_with_their_defaults() {
    let c = load_text("", &[]).unwrap();
    let a = &c.alerts;
    assert_eq!(a.rules, amanah_audit::alerts::AlertRules::default());
    assert_eq!(a.rules.cooldown_secs, defaults::ALERT_COOLDOWN_SECS);
    assert!(a.log);
    assert!(a.webhooks.is_empty());
    assert!(a.email.is_none());
}

#[test]
fn alerts_section_is_normalized() {
    let text = r#"
[alerts]
cooldown_secs = 60
failed_auth_threshold = 0
failed_auth_window_secs = 120
key_calls_per_hour = 5000
new_network = false
admin_grants = false
lockdown = false
audit_failures = false
log = false
[[alerts.webhooks]]
url = "https://hooks.slack.com/services/T0/B0/xyz"
format = "slack"
[[alerts.webhooks]]
url = "http://127.0.0.1:9000/amanah"
secret = { env = "AMANAH_TEST_WEBHOOK_SECRET" }
max_attempts = 3
backoff_ms = 250
timeout_ms = 2000
[alerts.email]
smtp_host = "smtp.example.com"
starttls = true
username = "alerts"
password = { file = "/etc/amanah/smtp_password" }
from = "amanah@example.com"
to = ["security@example.com", "oncall+amanah@example.com"]
"#;
    let c = load_text(text, &[]).unwrap();
    let a = &c.alerts;
    assert_eq!(a.rules.cooldown_secs, 60);
    assert_eq!(a.rules.failed_auth.count, 0);
    assert!(!a.rules.failed_auth.enabled());
    assert_eq!(a.rules.failed_auth.window_secs, 120);
    assert_eq!(a.rules.calls_per_key.count, 5000);
    assert_eq!(a.rules.calls_per_key.window_secs, 3600);
    assert!(!a.rules.new_network && !a.rules.admin_grants);
    assert!(!a.rules.lockdown && !a.rules.audit_failures && !a.log);
    assert_eq!(a.webhooks.len(), 2);
    assert_eq!(a.webhooks[0].format, WebhookFormat::Slack);
    assert_eq!(a.webhooks[0].retry.max_attempts, 5);
    assert_eq!(a.webhooks[0].retry.backoff, Duration::from_millis(1000));
    assert_eq!(a.webhooks[0].timeout, Duration::from_millis(10_000));
    assert_eq!(a.webhooks[1].format, WebhookFormat::Json);
    assert_eq!(
        a.webhooks[1].secret,
        Some(SecretRef::Env("AMANAH_TEST_WEBHOOK_SECRET".into()))
    );
    assert_eq!(a.webhooks[1].retry.max_attempts, 3);
    assert_eq!(a.webhooks[1].timeout, Duration::from_millis(2000));
    let e = a.email.as_ref().unwrap();
    assert_eq!(e.smtp_port, 587, "starttls defaults to the submission port");
    assert!(e.starttls);
    assert_eq!(e.to.len(), 2);
    assert_eq!(
        e.password,
        Some(SecretRef::File("/etc/amanah/smtp_password".into()))
    );
    // Without STARTTLS the default port is 25.
    let c = load_text(
        "[alerts.email]\nsmtp_host = \"127.0.0.1\"\nfrom = \"a@b\"\nto = [\"c@d\"]\n",
        &[],
    )
    .unwrap();
    assert_eq!(c.alerts.email.unwrap().smtp_port, 25);
}

#[test]
fn alerts_problems_are_all_reported() {
    let text = r#"
[alerts]
failed_auth_threshold = 99999999
key_calls_per_hour = 99999999999
[[alerts.webhooks]]
url = "ftp://example.com/x"
[[alerts.webhooks]]
url = "http://hooks.example.com/x"
format = "xml"
secret = { value = "inline" }
max_attempts = 0
[[alerts.webhooks]]
url = "https://user:pw@hooks.example.com/x"
backoff_ms = 0
timeout_ms = 0
[[alerts.webhooks]]
format = "json"
[alerts.email]
smtp_host = "smtp.example.com\r\nX: y"
smtp_port = 70000
username = "alerts"
from = "amanah@example.com\r\nBcc: evil@example.com"
to = ["security", "a b@example.com"]
max_attempts = 0
"#;
    let err = load_text(text, &[]).unwrap_err();
    let keys = keys_of(&err);
    for k in [
        "alerts.failed_auth_threshold",
        "alerts.key_calls_per_hour",
        "alerts.webhooks[0].url",
        "alerts.webhooks[1].url",
        "alerts.webhooks[1].format",
        "alerts.webhooks[1].secret",
        "alerts.webhooks[1].max_attempts",
        "alerts.webhooks[2].url",
        "alerts.webhooks[2].backoff_ms",
        "alerts.webhooks[2].timeout_ms",
        "alerts.webhooks[3].url",
        "alerts.email.smtp_host",
        "alerts.email.smtp_port",
        "alerts.email.username",
        "alerts.email.from",
        "alerts.email.to[0]",
        "alerts.email.to[1]",
        "alerts.email.max_attempts",
    ] {
        assert!(keys.contains(&k), "{k} missing from {err}");
    }
    // A password over plain SMTP to another machine; no recipients.
    let err = load_text(
        r#"
[alerts.email]
smtp_host = "smtp.example.com"
username = "alerts"
password = { env = "SMTP_PASSWORD" }
from = "amanah@example.com"
to = []
"#,
        &[],
    )
    .unwrap_err();
    assert_eq!(keys_of(&err), ["alerts.email.starttls", "alerts.email.to"]);
    // ... which allow_plaintext (or loopback) permits.
    for host in ["smtp.example.com\"\nallow_plaintext = true\n#", "127.0.0.1"] {
        let text = format!(
            "[alerts.email]\nsmtp_host = \"{host}\"\nusername = \"u\"\npassword = {{ env = \"P\" }}\nfrom = \"a@b\"\nto = [\"c@d\"]\n"
        );
        load_text(&text, &[]).unwrap_or_else(|e| panic!("{e}"));
    }
    // Plain http to a remote webhook needs allow_plaintext.
    let c = load_text(
        "[[alerts.webhooks]]\nurl = \"http://10.0.0.5/hook\"\nallow_plaintext = true\n",
        &[],
    )
    .unwrap();
    assert_eq!(c.alerts.webhooks.len(), 1);
}
