//! `[alerts]`: which security alerts fire (thresholds, cooldown) and where
//! they go (`[[alerts.webhooks]]`, `[alerts.email]`, the log).

use std::time::Duration;

use amanah_audit::alerts::{AlertRules, Threshold};

use super::identity::is_loopback_host;
use super::raw::{RawAlerts, RawEmail, RawWebhook};
use super::validate::{positive, secret_ref};
use super::{defaults, Problem, SecretRef};

/// `[alerts]`, validated.
#[derive(Debug, Clone)]
pub struct Alerts {
    /// The rules the engine runs.
    pub rules: AlertRules,
    /// Alerts are written to the log (`amanah::alerts`, level warn).
    pub log: bool,
    pub webhooks: Vec<Webhook>,
    pub email: Option<Email>,
}

impl Default for Alerts {
    fn default() -> Self {
        Self {
            rules: AlertRules::default(),
            log: true,
            webhooks: Vec::new(),
            email: None,
        }
    }
}

/// How often and how patiently a sink retries: `max_attempts` in all, the
/// first retry after `backoff`, doubling, at most 60 s apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub max_attempts: u32,
    pub backoff: Duration,
}

impl Retry {
    /// The longest pause between two attempts.
    pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

    /// The pause before attempt `attempt + 1` (attempt counts from 1).
    pub fn delay_after(self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.backoff.saturating_mul(factor).min(Self::MAX_BACKOFF)
    }
}

/// What a webhook's body looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookFormat {
    /// Every alert field as a JSON object.
    Json,
    /// `{"text": "..."}`: a Slack (or Mattermost, Teams-workflow) incoming
    /// webhook.
    Slack,
}

/// One `[[alerts.webhooks]]`.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// `http(s)://...`; plain http only to loopback or with
    /// `allow_plaintext`. May hold a token (Slack's do): never logged whole.
    pub url: http::Uri,
    pub format: WebhookFormat,
    /// Signs each body (`X-Amanah-Signature`).
    pub secret: Option<SecretRef>,
    pub retry: Retry,
    /// One attempt, from connecting to the status line.
    pub timeout: Duration,
}

/// `[alerts.email]`.
#[derive(Debug, Clone)]
pub struct Email {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub starttls: bool,
    /// With `password`: AUTH PLAIN.
    pub username: Option<String>,
    pub password: Option<SecretRef>,
    pub from: String,
    pub to: Vec<String>,
    pub retry: Retry,
    /// Each step of the SMTP conversation.
    pub timeout: Duration,
}

/// The most recipients one alert e-mail has.
const MAX_RECIPIENTS: usize = 50;

pub(super) fn validate_alerts(raw: RawAlerts, problems: &mut Vec<Problem>) -> Alerts {
    let threshold = |key: &str, v: Option<u64>, default: u64, max: u64, p: &mut Vec<Problem>| {
        let v = v.unwrap_or(default);
        if v > max {
            p.push(Problem::new(
                format!("alerts.{key}"),
                format!("{v} is more than {max}"),
                format!("use at most {max}, or 0 to turn the rule off (default {default})"),
            ));
        }
        v.min(max)
    };
    let failed_auth = Threshold {
        count: threshold(
            "failed_auth_threshold",
            raw.failed_auth_threshold,
            defaults::ALERT_FAILED_AUTH_THRESHOLD,
            10_000,
            problems,
        ) as u32,
        window_secs: threshold(
            "failed_auth_window_secs",
            raw.failed_auth_window_secs,
            defaults::ALERT_FAILED_AUTH_WINDOW_SECS,
            7 * 86_400,
            problems,
        ),
    };
    let calls_per_key = Threshold {
        // Each key keeps this many timestamps while it is busy.
        count: threshold(
            "key_calls_per_hour",
            raw.key_calls_per_hour,
            defaults::ALERT_KEY_CALLS_PER_HOUR,
            1_000_000,
            problems,
        ) as u32,
        window_secs: 3_600,
    };
    let cooldown_secs = threshold(
        "cooldown_secs",
        raw.cooldown_secs,
        defaults::ALERT_COOLDOWN_SECS,
        7 * 86_400,
        problems,
    );
    let rules = AlertRules {
        failed_auth,
        calls_per_key,
        new_network: raw.new_network.unwrap_or(true),
        admin_grants: raw.admin_grants.unwrap_or(true),
        lockdown: raw.lockdown.unwrap_or(true),
        audit_failures: raw.audit_failures.unwrap_or(true),
        cooldown_secs,
    };
    let webhooks = raw
        .webhooks
        .into_iter()
        .enumerate()
        .filter_map(|(i, w)| validate_webhook(&format!("alerts.webhooks[{i}]"), w, problems))
        .collect();
    let email = raw.email.and_then(|e| validate_email(e, problems));
    Alerts {
        rules,
        log: raw.log.unwrap_or(true),
        webhooks,
        email,
    }
}

fn retry(
    key: &dyn Fn(&str) -> String,
    max_attempts: Option<u64>,
    backoff_ms: Option<u64>,
    problems: &mut Vec<Problem>,
) -> Retry {
    let attempts = positive(
        &key("max_attempts"),
        max_attempts,
        defaults::ALERT_MAX_ATTEMPTS,
        problems,
    );
    if attempts > 100 {
        problems.push(Problem::new(
            key("max_attempts"),
            format!("{attempts} attempts is more than 100"),
            format!(
                "leave it out for the default ({})",
                defaults::ALERT_MAX_ATTEMPTS
            ),
        ));
    }
    let backoff = positive(
        &key("backoff_ms"),
        backoff_ms,
        defaults::ALERT_BACKOFF_MS,
        problems,
    );
    Retry {
        max_attempts: attempts.min(100) as u32,
        backoff: Duration::from_millis(backoff).min(Retry::MAX_BACKOFF),
    }
}

/// One webhook table; `prefix` names it in problems
/// (`alerts.webhooks[0]`, `audit.checkpoint_webhook`).
pub(super) fn validate_webhook(
    prefix: &str,
    raw: RawWebhook,
    problems: &mut Vec<Problem>,
) -> Option<Webhook> {
    let key = |k: &str| format!("{prefix}.{k}");
    let before = problems.len();
    let url = match raw.url.as_deref().map(parse_webhook_url) {
        Some(Ok(u)) => {
            let plain = u.scheme_str() == Some("http");
            if plain
                && !is_loopback_host(u.host().unwrap_or_default())
                && !raw.allow_plaintext.unwrap_or(false)
            {
                problems.push(Problem::new(
                    key("url"),
                    "plain http to another machine sends alerts (and any token in the URL) unencrypted",
                    format!("use https://, or set {} = true for a trusted private network", key("allow_plaintext")),
                ));
            }
            Some(u)
        }
        Some(Err(msg)) => {
            problems.push(Problem::new(
                key("url"),
                msg,
                "write an absolute URL such as https://hooks.example.com/amanah",
            ));
            None
        }
        None => {
            problems.push(Problem::new(
                key("url"),
                "missing",
                "set the URL alerts are POSTed to",
            ));
            None
        }
    };
    let format = match raw.format.as_deref().unwrap_or("json") {
        "json" => WebhookFormat::Json,
        "slack" => WebhookFormat::Slack,
        other => {
            problems.push(Problem::new(
                key("format"),
                format!("unknown webhook format `{other}`"),
                "use `json` (every field) or `slack` ({\"text\": ...})",
            ));
            WebhookFormat::Json
        }
    };
    let secret = raw
        .secret
        .and_then(|s| secret_ref(&key("secret"), s, problems));
    let retry = retry(&key, raw.max_attempts, raw.backoff_ms, problems);
    let timeout = Duration::from_millis(positive(
        &key("timeout_ms"),
        raw.timeout_ms,
        defaults::ALERT_WEBHOOK_TIMEOUT_MS,
        problems,
    ));
    if problems.len() > before {
        return None;
    }
    Some(Webhook {
        url: url?,
        format,
        secret,
        retry,
        timeout,
    })
}

fn parse_webhook_url(text: &str) -> Result<http::Uri, String> {
    let uri: http::Uri = text.parse().map_err(|_| "not a URL".to_owned())?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err("the URL must start with http:// or https://".into());
    }
    let Some(authority) = uri.authority() else {
        return Err("the URL has no host".into());
    };
    if authority.as_str().contains('@') {
        return Err("credentials in the URL are not accepted; use `secret` to sign".into());
    }
    if authority.host().is_empty() {
        return Err("the URL has no host".into());
    }
    Ok(uri)
}

fn validate_email(raw: RawEmail, problems: &mut Vec<Problem>) -> Option<Email> {
    let key = |k: &str| format!("alerts.email.{k}");
    let before = problems.len();
    let smtp_host = raw.smtp_host.unwrap_or_default();
    let host_ok = !smtp_host.is_empty()
        && smtp_host.len() <= 253
        && smtp_host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !host_ok {
        problems.push(Problem::new(
            key("smtp_host"),
            if smtp_host.is_empty() {
                "missing".to_owned()
            } else {
                format!(
                    "`{}` is not a host name or address",
                    smtp_host.escape_debug()
                )
            },
            "set the mail server, e.g. smtp.example.com",
        ));
    }
    let starttls = raw.starttls.unwrap_or(false);
    let default_port = if starttls {
        defaults::SMTP_STARTTLS_PORT
    } else {
        defaults::SMTP_PORT
    };
    let smtp_port = match raw.smtp_port.unwrap_or(u64::from(default_port)) {
        p @ 1..=65_535 => p as u16,
        p => {
            problems.push(Problem::new(
                key("smtp_port"),
                format!("{p} is not a port"),
                format!("use 587 with starttls, or 25 (default {default_port})"),
            ));
            default_port
        }
    };
    let password = raw
        .password
        .and_then(|s| secret_ref(&key("password"), s, problems));
    let username = raw.username;
    match (&username, &password) {
        (Some(u), Some(_)) if u.is_empty() || u.contains(['\r', '\n', '\0']) => {
            problems.push(Problem::new(
                key("username"),
                "empty or holds control characters",
                "write the account name the mail server expects",
            ));
        }
        (Some(_), None) | (None, Some(_)) => problems.push(Problem::new(
            key("username"),
            "username and password go together",
            "set both (AUTH PLAIN), or neither",
        )),
        _ => {}
    }
    if password.is_some()
        && !starttls
        && !is_loopback_host(&smtp_host)
        && !raw.allow_plaintext.unwrap_or(false)
    {
        problems.push(Problem::new(
            key("starttls"),
            "the password would cross the network unencrypted",
            format!(
                "set {} = true (port 587), or {} = true for a trusted private network",
                key("starttls"),
                key("allow_plaintext")
            ),
        ));
    }
    let from = raw.from.unwrap_or_default();
    if let Err(msg) = check_address(&from) {
        problems.push(Problem::new(
            key("from"),
            msg,
            "write a plain address such as amanah@example.com",
        ));
    }
    let to = raw.to.unwrap_or_default();
    if to.is_empty() {
        problems.push(Problem::new(
            key("to"),
            "no recipients",
            "list at least one address: to = [\"security@example.com\"]",
        ));
    } else if to.len() > MAX_RECIPIENTS {
        problems.push(Problem::new(
            key("to"),
            format!("{} recipients is more than {MAX_RECIPIENTS}", to.len()),
            "send to a mailing list instead",
        ));
    }
    for (i, addr) in to.iter().enumerate() {
        if let Err(msg) = check_address(addr) {
            problems.push(Problem::new(
                format!("alerts.email.to[{i}]"),
                msg,
                "write a plain address such as security@example.com",
            ));
        }
    }
    let retry = retry(&key, raw.max_attempts, raw.backoff_ms, problems);
    let timeout = Duration::from_millis(positive(
        &key("timeout_ms"),
        raw.timeout_ms,
        defaults::SMTP_TIMEOUT_MS,
        problems,
    ));
    if problems.len() > before {
        return None;
    }
    Some(Email {
        smtp_host,
        smtp_port,
        starttls,
        username,
        password,
        from,
        to,
        retry,
        timeout,
    })
}

/// A bare address (`local@domain`) that can go into `MAIL FROM:<...>`
/// and a header unchanged: no spaces, controls, angle brackets or commas.
pub fn check_address(addr: &str) -> Result<(), String> {
    if addr.is_empty() {
        return Err("missing".into());
    }
    if addr.len() > 254 {
        return Err("longer than 254 characters".into());
    }
    if addr.chars().any(|c| c.is_control()) {
        return Err(format!(
            "`{}` holds control characters (CR/LF would let it add headers)",
            addr.escape_debug()
        ));
    }
    if addr
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '"' | '(' | ')'))
    {
        return Err(format!(
            "`{addr}` is not a bare address (no name, spaces or <>)"
        ));
    }
    match addr.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => Ok(()),
        _ => Err(format!("`{addr}` has no @ between a name and a domain")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        let r = Retry {
            max_attempts: 10,
            backoff: Duration::from_millis(1000),
        };
        let delays: Vec<u64> = (1..=9).map(|a| r.delay_after(a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(r.delay_after(200), Retry::MAX_BACKOFF);
    }

    #[test]
    fn addresses() {
        assert!(check_address("a@b").is_ok());
        assert!(check_address("security+alerts@example.com").is_ok());
        for bad in [
            "",
            "nobody",
            "@example.com",
            "a@",
            "a@b\r\nBcc: x@y",
            "a b@c",
            "Name <a@b>",
            "a@b,c@d",
        ] {
            assert!(check_address(bad).is_err(), "{bad:?}");
        }
    }
}
