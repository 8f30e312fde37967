//! Phase two: from the raw tree to a [`Config`] in which invalid states
//! cannot be represented. Every problem is collected with its fix; nothing
//! stops at the first.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use amanah_policy::{Policy, RequiredPermission, Requirement};
use http::{HeaderName, Method};

use super::identity;
use super::raw::{self, RawConfig, RawSecretRef};
use super::{
    defaults, valid_name, AccessLog, Admin, Config, Cors, Keys, Log, LogFormat, Problem, Provider,
    Route, SecretRef, Server, Source, Tls, UpstreamClient,
};

/// A path as written in the configuration, made relative to the config
/// file's directory.
fn anchored(base: Option<&Path>, p: PathBuf) -> PathBuf {
    match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p,
    }
}

pub(super) fn validate(mut raw: RawConfig, source: &Source, problems: &mut Vec<Problem>) -> Config {
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
    let generated = SecretRef::Generated(data_dir.join(defaults::HMAC_SECRET_FILE));
    let keys = Keys {
        // A bad reference is already a problem; the fallback is never used then.
        hmac_secret: raw
            .keys
            .hmac_secret
            .and_then(|r| secret_ref("keys.hmac_secret", r, problems))
            .unwrap_or(generated),
        default_ttl: {
            let max = defaults::MAX_KEY_TTL_DAYS;
            let days = raw.keys.default_ttl_days.unwrap_or(defaults::KEY_TTL_DAYS);
            if days == 0 || days > max {
                problems.push(Problem::new(
                    "keys.default_ttl_days",
                    format!("{days} is outside 1..={max}"),
                    format!(
                        "choose a lifetime between 1 and {max} days (default {})",
                        defaults::KEY_TTL_DAYS
                    ),
                ));
            }
            Duration::from_secs(days.clamp(1, max) * 86_400)
        },
        rotation_grace: Duration::from_secs(
            raw.keys
                .rotation_grace_secs
                .unwrap_or(defaults::ROTATION_GRACE_SECS),
        ),
    };
    let jwt = raw.jwt.and_then(|j| identity::validate_jwt(j, problems));
    let users = identity::validate_users(raw.users, problems);
    let rate_limits = identity::validate_rate_limits(raw.rate_limits, problems);
    let (roles, data_classes, policy) =
        identity::validate_roles(raw.roles, raw.data_classes, problems);
    let upstream = UpstreamClient {
        extra_ca_file: raw.upstream.extra_ca_file,
        pool_idle_timeout: Duration::from_secs(
            raw.upstream
                .pool_idle_timeout_secs
                .unwrap_or(defaults::POOL_IDLE_TIMEOUT_SECS),
        ),
        pool_max_idle_per_host: to_usize(
            raw.upstream
                .pool_max_idle_per_host
                .unwrap_or(defaults::POOL_MAX_IDLE_PER_HOST),
        ),
    };

    let declared: BTreeSet<String> = raw.providers.keys().cloned().collect();
    let mut providers = Vec::new();
    for (name, p) in raw.providers {
        if let Some(p) = validate_provider(&name, p, problems) {
            providers.push(p);
        }
    }
    let privacy = super::privacy::validate_privacy(raw.privacy, problems);
    let keyring = super::records::validate_keyring(raw.keyring, &data_dir, problems);
    let records = super::records::validate_records(raw.records, problems);
    let audit = super::audit::validate_audit(raw.audit, &data_dir, problems);
    let mut routes = Vec::new();
    let mut names = BTreeSet::new();
    for (i, r) in raw.routes.into_iter().enumerate() {
        if let Some(route) = validate_route(i, r, &providers, &declared, &policy, &audit, problems)
        {
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
    let alerts = super::alerts::validate_alerts(raw.alerts, problems);

    Config {
        data_dir,
        server,
        admin,
        log,
        cors,
        keys,
        jwt,
        users,
        rate_limits,
        roles,
        data_classes,
        policy,
        upstream,
        providers,
        privacy,
        keyring,
        records,
        audit,
        routes,
        alerts,
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
    if let Some(jwt) = raw.jwt.as_mut() {
        for path in identity::jwt_paths(jwt) {
            *path = anchored(base, std::mem::take(path));
        }
    }
    for p in raw.providers.values_mut() {
        if let Some(secret) = p.credential.as_mut() {
            fix(&mut secret.file);
        }
    }
    for w in raw
        .alerts
        .webhooks
        .iter_mut()
        .chain(raw.audit.checkpoint_webhook.as_mut())
    {
        if let Some(secret) = w.secret.as_mut() {
            fix(&mut secret.file);
        }
    }
    if let Some(secret) = raw.alerts.email.as_mut().and_then(|e| e.password.as_mut()) {
        fix(&mut secret.file);
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
pub(super) fn positive(
    key: &str,
    v: Option<u64>,
    default: u64,
    problems: &mut Vec<Problem>,
) -> u64 {
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

pub(super) fn secret_ref(
    key: &str,
    raw: RawSecretRef,
    problems: &mut Vec<Problem>,
) -> Option<SecretRef> {
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

fn validate_provider(
    name: &str,
    raw: raw::RawProvider,
    problems: &mut Vec<Problem>,
) -> Option<Provider> {
    let key = |k: &str| format!("providers.{name}.{k}");
    let before = problems.len();
    if !valid_name(name) {
        problems.push(Problem::new(
            format!("providers.{name}"),
            "provider names use lowercase letters, digits, - and _ (no double underscore)",
            "rename the provider, e.g. [providers.openai]",
        ));
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
                HeaderName::from_static(defaults::CREDENTIAL_HEADER)
            }
        };
    let timeout = |k: &str, v: Option<u64>, default: u64, problems: &mut Vec<Problem>| {
        Duration::from_millis(positive(&key(k), v, default, problems))
    };
    let connect_timeout = timeout(
        "connect_timeout_ms",
        raw.connect_timeout_ms,
        defaults::CONNECT_TIMEOUT_MS,
        problems,
    );
    let first_byte_timeout = timeout(
        "first_byte_timeout_ms",
        raw.first_byte_timeout_ms,
        defaults::FIRST_BYTE_TIMEOUT_MS,
        problems,
    );
    let idle_timeout = timeout(
        "idle_timeout_ms",
        raw.idle_timeout_ms,
        defaults::IDLE_TIMEOUT_MS,
        problems,
    );
    let region = region(&key("region"), raw.region, problems);
    if problems.len() > before {
        return None;
    }
    Some(Provider {
        name: name.to_owned(),
        base_url: base_url?,
        credential,
        credential_header,
        connect_timeout,
        first_byte_timeout,
        idle_timeout,
        region,
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
    declared: &BTreeSet<String>,
    policy: &Policy,
    audit: &super::AuditConfig,
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
    } else if name == crate::data_api::ROUTE_NAME || name == crate::admin_api::ROUTE_NAME {
        // Key scopes name routes: a key scoped to this route would reach
        // the API of the same name.
        problems.push(Problem::new(
            key("name"),
            format!("`{name}` is the name of one of Amanah's own APIs"),
            "give the route another name",
        ));
    }
    let path_prefix = match raw.path_prefix {
        Some(p) if crate::admin_api::owns_path(&p) => {
            problems.push(Problem::new(
                key("path_prefix"),
                format!("`{p}` is reserved for Amanah's admin API"),
                "serve the route under another prefix, e.g. /v1",
            ));
            String::new()
        }
        Some(p) if crate::data_api::owns_path(p.trim_end_matches('/')) => {
            problems.push(Problem::new(
                key("path_prefix"),
                format!("`{p}` is reserved for Amanah's data API"),
                "serve the route under another prefix; /v1/records and /v1/subjects are Amanah's",
            ));
            String::new()
        }
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
            // Declared but invalid: its own problems are already reported.
            None if declared.contains(&p) => None,
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
    let default_body = if raw.upload.is_some() {
        defaults::UPLOAD_MAX_BYTES
    } else {
        defaults::MAX_BODY_BYTES
    };
    let max_body_bytes = raw.max_body_bytes.unwrap_or(default_body);
    if raw.allowed_roles.is_some() {
        problems.push(Problem::new(
            key("allowed_roles"),
            "replaced by `permission`",
            "name the permission the route requires, e.g. permission = \"llm:invoke\"; \
             roles hold permissions (see the README's roles table)",
        ));
    }
    let permission_text = raw
        .permission
        .unwrap_or_else(|| defaults::ROUTE_PERMISSION.to_owned());
    let permission = match RequiredPermission::parse(&permission_text) {
        Ok(p) => Some(p),
        Err(e) => {
            problems.push(Problem::new(
                key("permission"),
                e.to_string(),
                "name one permission without wildcards, as resource:action, e.g. \"llm:invoke\"",
            ));
            None
        }
    };
    if let Some(class) = &raw.data_class {
        if policy.data_class(class).is_none() {
            problems.push(Problem::new(
                key("data_class"),
                format!("no data class named `{class}`"),
                format!("declare it with the roles cleared for it: [data_classes] {class} = [\"case_worker\"]"),
            ));
        }
    }
    let rate_limit = identity::quota(&key("rate_limit"), raw.rate_limit, None, problems);
    let privacy = super::privacy::validate_route_privacy(
        &key(""),
        raw.privacy,
        raw.privacy_fields,
        raw.privacy_entities,
        raw.privacy_response_scan,
        problems,
    );
    let consent_purpose = raw.consent_purpose.filter(|p| {
        let ok = super::valid_label(p);
        if !ok {
            problems.push(Problem::new(
                key("consent_purpose"),
                format!("`{p}` is not a purpose name"),
                "use letters, digits, - and _, e.g. support",
            ));
        }
        ok
    });
    let region = region(&key("region"), raw.region, problems);
    let drop_fields = raw.drop_fields.unwrap_or_default();
    let audit = super::audit::route_failure_mode(&key("audit"), raw.audit.as_deref(), problems)
        .unwrap_or(audit.on_failure);
    let upload = upload_limits(
        &key(""),
        raw.upload.as_deref(),
        raw.upload_max_duration_secs,
        max_body_bytes,
        problems,
    );
    if upload.is_some() && (privacy.mode != super::PrivacyMode::Off || !drop_fields.is_empty()) {
        problems.push(Problem::new(
            key("upload"),
            "a route either checks uploads or reads its bodies for personal data and fields, not both",
            "give uploads their own route (privacy = \"off\", no drop_fields)",
        ));
    }
    for f in &drop_fields {
        if f.is_empty() || !crate::privacy::json::is_valid_pointer(f) {
            problems.push(Problem::new(
                key("drop_fields"),
                format!("`{f}` is not a JSON pointer to a field"),
                "write pointers such as \"/user\" or \"/metadata/email\"",
            ));
        }
    }
    if problems.len() > before {
        return None;
    }
    let mut requirement = Requirement::new(name.clone(), permission?);
    if let Some(class) = raw.data_class {
        requirement = requirement.with_data_class(class);
    }
    Some(Route {
        name,
        path_prefix,
        methods,
        provider: provider?,
        max_body_bytes,
        requirement,
        rate_limit,
        privacy,
        consent_purpose,
        region,
        drop_fields,
        upload,
        audit,
    })
}

/// A provider's or route's region, if written and valid.
fn region(key: &str, value: Option<String>, problems: &mut Vec<Problem>) -> Option<String> {
    value.filter(|r| {
        let ok = super::valid_label(r);
        if !ok {
            problems.push(Problem::new(
                key,
                format!("`{r}` is not a region name"),
                "use letters, digits, - and _, e.g. eu or us-east",
            ));
        }
        ok
    })
}

/// `routes[].upload` and its limits. `prefix` ends in `.`.
fn upload_limits(
    prefix: &str,
    kind: Option<&str>,
    max_duration: Option<u64>,
    max_bytes: u64,
    problems: &mut Vec<Problem>,
) -> Option<amanah_media::Limits> {
    use amanah_media::FormatSet;
    let Some(kind) = kind else {
        if max_duration.is_some() {
            problems.push(Problem::new(
                format!("{prefix}upload_max_duration_secs"),
                "applies only to a route with `upload`",
                "set upload = \"audio\" as well, or remove it",
            ));
        }
        return None;
    };
    let allowed = match kind {
        "audio" => FormatSet::AUDIO,
        "documents" => FormatSet::DOCUMENTS.union(FormatSet::TEXT),
        "text" => FormatSet::TEXT,
        "media" => FormatSet::ALL,
        other => {
            problems.push(Problem::new(
                format!("{prefix}upload"),
                format!("unknown upload kind `{other}`"),
                "use audio, documents, text or media (all of them)",
            ));
            return None;
        }
    };
    let max_duration_secs = max_duration.unwrap_or(defaults::UPLOAD_MAX_DURATION_SECS);
    if max_duration_secs == 0 {
        problems.push(Problem::new(
            format!("{prefix}upload_max_duration_secs"),
            "must be at least 1",
            "leave it out for the default (14400, four hours)",
        ));
    }
    Some(amanah_media::Limits {
        allowed,
        max_bytes,
        max_duration_secs: max_duration_secs.max(1),
        ..amanah_media::Limits::default()
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
