//! Security alerts, delivered: the [`AlertDispatcher`] feeds audit events
//! to `amanah_audit::alerts::AlertEngine` (the rules, pure) and hands the
//! alerts it returns to sinks: a webhook ([`WebhookSink`], JSON or Slack),
//! e-mail ([`SmtpSink`], a small SMTP client) and the log ([`LogSink`]).
//!
//! `observe` never blocks the request that produced the event: alerts go
//! into one bounded queue per sink, and each sink has its own delivery
//! task, so a slow mail server does not hold back a webhook. A full queue
//! drops the alert and counts it.
//!
//! # Verifying a webhook
//!
//! With a `secret`, every POST carries
//! `X-Amanah-Signature: t=<unix seconds>,v1=<hex>`, where `<hex>` is
//! HMAC-SHA256 under the secret of `"<t>.<body>"` (the body as received,
//! byte for byte). A receiver recomputes it, compares in constant time, and
//! refuses a `t` more than a few minutes from its own clock (a replay).
//! In Python:
//!
//! ```text
//! t, v1 = (p.split("=", 1)[1] for p in header.split(","))
//! want = hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
//! ok = hmac.compare_digest(want, v1) and abs(time.time() - int(t)) < 300
//! ```
//!
//! # Secrets
//!
//! The webhook secret and the SMTP password are never logged or put in an
//! error; nor is a webhook URL's path (Slack's hold a token): logs name a
//! sink by its name and host only.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use amanah_audit::Event;
use amanah_crypto::SecretString;
use async_trait::async_trait;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, USER_AGENT};
use http::{Request, Uri};
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ring::hmac;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

pub use amanah_audit::alerts::{Alert, AlertEngine, AlertRule, AlertRules, Severity, Threshold};

use crate::config::{Config, Email, Problem, Problems, Retry, Webhook, WebhookFormat};

/// Alerts waiting per sink; beyond this they are dropped and counted.
pub const QUEUE_CAPACITY: usize = 1024;

/// The header that carries a webhook's signature.
pub const SIGNATURE_HEADER: &str = "x-amanah-signature";

/// Why one delivery failed. Messages never hold a secret, a webhook path
/// or a mail server's answer to AUTH.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The receiver could not be reached.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// A step took longer than its timeout.
    #[error("timed out ({0})")]
    Timeout(&'static str),
    /// The webhook receiver answered with an error status.
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
    /// The mail server refused a step.
    #[error("the mail server refused {step}: {code} {text}")]
    Smtp {
        step: &'static str,
        code: u16,
        text: String,
    },
    /// The TLS handshake failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The peer said something that is not the protocol.
    #[error("unexpected answer: {0}")]
    Protocol(String),
    /// The connection broke.
    #[error("connection: {0}")]
    Io(String),
}

impl SinkError {
    /// Whether another attempt may succeed: connection trouble, timeouts,
    /// HTTP 429 and 5xx, SMTP 4xx. Not other 4xx/5xx, TLS or protocol
    /// failures: they need a person.
    pub fn retryable(&self) -> bool {
        match self {
            SinkError::Connect(_) | SinkError::Timeout(_) | SinkError::Io(_) => true,
            SinkError::Status(s) => *s == 429 || (500..600).contains(s),
            SinkError::Smtp { code, .. } => (400..500).contains(code),
            SinkError::Tls(_) | SinkError::Protocol(_) => false,
        }
    }
}

/// Somewhere alerts go.
#[async_trait]
pub trait AlertSink: Send + Sync + fmt::Debug {
    /// A short, stable name for logs and metrics (`log`, `webhook0`,
    /// `email`).
    fn name(&self) -> &str;

    /// Delivers one alert, retrying as configured; the error is the last
    /// attempt's.
    async fn deliver(&self, alert: &Alert) -> Result<(), SinkError>;
}

/// Runs `attempt` up to `retry.max_attempts` times while it fails with a
/// retryable error, pausing `backoff`, doubling, at most a minute.
pub async fn with_retries<F, Fut>(retry: Retry, sink: &str, mut attempt: F) -> Result<(), SinkError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), SinkError>>,
{
    let mut n = 1;
    loop {
        match attempt().await {
            Ok(()) => return Ok(()),
            Err(e) if e.retryable() && n < retry.max_attempts => {
                let delay = retry.delay_after(n);
                tracing::debug!(
                    target: "amanah::alerts",
                    sink,
                    attempt = n,
                    delay_ms = delay.as_millis() as u64,
                    error = %e,
                    "alert delivery failed, will retry"
                );
                tokio::time::sleep(delay).await;
                n += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

// ------------------------------------------------------------------ log

/// Writes each alert to the log: target `amanah::alerts`, level warn.
#[derive(Debug, Default)]
pub struct LogSink;

#[async_trait]
impl AlertSink for LogSink {
    fn name(&self) -> &str {
        "log"
    }

    async fn deliver(&self, alert: &Alert) -> Result<(), SinkError> {
        tracing::warn!(
            target: "amanah::alerts",
            rule = alert.rule.as_str(),
            severity = alert.severity.as_str(),
            subject = %alert.subject,
            count = alert.count,
            window_secs = alert.window_secs,
            time = %rfc3339_ms(alert.time_unix_ms),
            node = %alert.node,
            seq = alert.seq,
            "security alert: {}",
            alert.summary
        );
        Ok(())
    }
}

// ------------------------------------------------------------------ webhook

type WebhookClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// POSTs each alert to a URL as JSON (or Slack's `{"text"}`), signed when
/// a secret is set.
pub struct WebhookSink {
    name: String,
    url: Uri,
    format: WebhookFormat,
    key: Option<hmac::Key>,
    retry: Retry,
    timeout: Duration,
    client: WebhookClient,
}

impl fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSink")
            .field("name", &self.name)
            .field("host", &self.url.host())
            .field("format", &self.format)
            .field("signed", &self.key.is_some())
            .finish()
    }
}

/// The JSON body of format `json`, members in this order.
#[derive(Serialize)]
struct JsonBody<'a> {
    rule: &'a str,
    subject: &'a str,
    severity: &'a str,
    summary: &'a str,
    count: u64,
    window_secs: u64,
    time: String,
    node: &'a str,
    seq: u64,
}

impl WebhookSink {
    /// A sink for `hook`; `secret` is its resolved signing secret. `tls`
    /// is the gateway's client TLS configuration (`proxy::client_tls`).
    pub fn new(
        name: impl Into<String>,
        hook: &Webhook,
        secret: Option<&SecretString>,
        tls: rustls::ClientConfig,
    ) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(hook.timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Self {
            name: name.into(),
            url: hook.url.clone(),
            format: hook.format,
            key: secret.map(|s| hmac::Key::new(hmac::HMAC_SHA256, s.expose().as_bytes())),
            retry: hook.retry,
            timeout: hook.timeout,
            client: Client::builder(TokioExecutor::new()).build(https),
        }
    }

    /// POSTs `body` as it is (signed when a secret is set), retried like
    /// an alert: how audit checkpoints reach their external anchor.
    pub async fn post(&self, body: Bytes) -> Result<(), SinkError> {
        with_retries(self.retry, &self.name, || self.attempt(&body)).await
    }

    /// The body sent for `alert`.
    pub fn body(&self, alert: &Alert) -> String {
        render_body(self.format, alert)
    }

    async fn attempt(&self, body: &Bytes) -> Result<(), SinkError> {
        let mut req = Request::post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("amanah/", env!("CARGO_PKG_VERSION")));
        if let Some(key) = &self.key {
            // A fresh timestamp per attempt: receivers refuse stale ones.
            let t = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            req = req.header(SIGNATURE_HEADER, signature(key, t, body));
        }
        let req = req
            .body(Full::new(body.clone()))
            .map_err(|e| SinkError::Protocol(e.to_string()))?;
        let resp = tokio::time::timeout(self.timeout, self.client.request(req))
            .await
            .map_err(|_| SinkError::Timeout("webhook"))?
            .map_err(|e| {
                let cause = error_chain(&e);
                if e.is_connect() {
                    SinkError::Connect(cause)
                } else {
                    SinkError::Io(cause)
                }
            })?;
        let status = resp.status();
        // The answer's body is not read: nothing in it matters, and a
        // receiver must not be able to make us buffer it.
        drop(resp);
        if status.is_success() {
            Ok(())
        } else {
            Err(SinkError::Status(status.as_u16()))
        }
    }
}

#[async_trait]
impl AlertSink for WebhookSink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, alert: &Alert) -> Result<(), SinkError> {
        let body = Bytes::from(self.body(alert));
        with_retries(self.retry, &self.name, || self.attempt(&body)).await
    }
}

/// A webhook body in `format`.
pub fn render_body(format: WebhookFormat, alert: &Alert) -> String {
    match format {
        WebhookFormat::Slack => {
            // Slack reads <...> as links and mentions (`<!channel>`), and
            // a failed sign-in's account name is the attacker's choice.
            let text = format!("{} {}", alert.severity.as_str(), alert.summary)
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            serde_json::json!({ "text": text }).to_string()
        }
        _ => serde_json::to_string(&JsonBody {
            rule: alert.rule.as_str(),
            subject: &alert.subject,
            severity: alert.severity.as_str(),
            summary: &alert.summary,
            count: alert.count,
            window_secs: alert.window_secs,
            time: rfc3339_ms(alert.time_unix_ms),
            node: &alert.node,
            seq: alert.seq,
        })
        .expect("an alert always serializes"),
    }
}

/// `t=<t>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>`.
pub fn signature(key: &hmac::Key, t: u64, body: &[u8]) -> String {
    let mut ctx = hmac::Context::with_key(key);
    ctx.update(t.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    format!(
        "t={t},v1={}",
        amanah_crypto::random::encode_hex(tag.as_ref())
    )
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

// ------------------------------------------------------------------ e-mail

/// Sends each alert as a plain-text e-mail through an SMTP server
/// (STARTTLS and AUTH PLAIN optional).
pub struct SmtpSink {
    email: Email,
    password: Option<SecretString>,
    tls: Arc<rustls::ClientConfig>,
}

impl fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSink")
            .field("smtp_host", &self.email.smtp_host)
            .field("smtp_port", &self.email.smtp_port)
            .field("starttls", &self.email.starttls)
            .field("auth", &self.password.is_some())
            .field("to", &self.email.to.len())
            .finish()
    }
}

/// Anything a session can run over: TCP, or TLS over TCP.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The longest reply line read, and the most lines in one reply.
const MAX_REPLY_LINE: u64 = 2048;
const MAX_REPLY_LINES: usize = 100;

/// One SMTP connection: commands, replies, each bounded by `step`.
struct Session {
    io: BufReader<Box<dyn Io>>,
    step: Duration,
}

struct Reply {
    code: u16,
    lines: Vec<String>,
}

/// One line of an SMTP reply (RFC 5321 §4.2): `250-text` (more follow) or
/// `250 text` (the last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyLine {
    pub code: u16,
    pub more: bool,
    pub text: String,
}

/// Parses one reply line as the server sent it (line ending included or
/// not). A line without a three-digit code is a protocol error; the text
/// is never trusted beyond being shown in an error.
pub fn parse_reply_line(raw: &[u8]) -> Result<ReplyLine, SinkError> {
    let line = String::from_utf8_lossy(raw);
    let line = line.trim_end_matches(['\r', '\n']);
    let code = line
        .get(..3)
        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| SinkError::Protocol("a reply without a status code".into()))?;
    Ok(ReplyLine {
        code,
        more: line.as_bytes().get(3) == Some(&b'-'),
        text: line.get(4..).unwrap_or("").to_owned(),
    })
}

impl Session {
    fn new(io: Box<dyn Io>, step: Duration) -> Self {
        Self {
            io: BufReader::new(io),
            step,
        }
    }

    async fn reply(&mut self, step: &'static str) -> Result<Reply, SinkError> {
        tokio::time::timeout(self.step, self.read_reply())
            .await
            .map_err(|_| SinkError::Timeout(step))?
    }

    async fn read_reply(&mut self) -> Result<Reply, SinkError> {
        let mut lines = Vec::new();
        loop {
            let mut buf = Vec::new();
            let n = (&mut self.io)
                .take(MAX_REPLY_LINE)
                .read_until(b'\n', &mut buf)
                .await
                .map_err(|e| SinkError::Io(e.to_string()))?;
            if n == 0 {
                return Err(SinkError::Io(
                    "the mail server closed the connection".into(),
                ));
            }
            if buf.last() != Some(&b'\n') {
                return Err(SinkError::Protocol("reply line too long".into()));
            }
            let ReplyLine { code, more, text } = parse_reply_line(&buf)?;
            lines.push(text);
            if !more {
                return Ok(Reply { code, lines });
            }
            if lines.len() >= MAX_REPLY_LINES {
                return Err(SinkError::Protocol("reply too long".into()));
            }
        }
    }

    async fn send(&mut self, step: &'static str, data: &[u8]) -> Result<(), SinkError> {
        let io = self.io.get_mut();
        tokio::time::timeout(self.step, async {
            io.write_all(data).await?;
            io.flush().await
        })
        .await
        .map_err(|_| SinkError::Timeout(step))?
        .map_err(|e| SinkError::Io(e.to_string()))
    }

    /// Sends `line` and expects one of `ok`. `hide` keeps the server's
    /// text out of the error (AUTH: some servers echo what they got).
    async fn command(
        &mut self,
        step: &'static str,
        line: &str,
        ok: &[u16],
        hide: bool,
    ) -> Result<Reply, SinkError> {
        self.send(step, line.as_bytes()).await?;
        self.expect(step, ok, hide).await
    }

    async fn expect(
        &mut self,
        step: &'static str,
        ok: &[u16],
        hide: bool,
    ) -> Result<Reply, SinkError> {
        let reply = self.reply(step).await?;
        if ok.contains(&reply.code) {
            return Ok(reply);
        }
        let text = if hide {
            "(reply not shown)".to_owned()
        } else {
            let joined = reply.lines.join(" ");
            let clean: String = joined
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect();
            clean
        };
        Err(SinkError::Smtp {
            step,
            code: reply.code,
            text,
        })
    }
}

impl SmtpSink {
    /// A sink for `email`; `password` is its resolved password (with
    /// `username`). `tls` verifies the server on STARTTLS.
    pub fn new(email: &Email, password: Option<SecretString>, tls: rustls::ClientConfig) -> Self {
        Self {
            email: email.clone(),
            password,
            tls: Arc::new(tls),
        }
    }

    /// The message for `alert` as sent (before dot-stuffing): headers and
    /// body, CRLF line endings. `now` is Unix seconds for `Date`.
    pub fn message(&self, alert: &Alert, now: i64) -> String {
        let domain = self
            .email
            .from
            .rsplit_once('@')
            .map_or("localhost", |(_, d)| d);
        let subject = format!(
            "[Amanah] {}: {}",
            alert.severity.as_str(),
            header_value(&alert.summary)
        );
        let body = format!(
            "Amanah security alert\n\n\
             Severity: {}\n\
             Rule:     {}\n\
             About:    {}\n\
             Summary:  {}\n\
             Count:    {} (window {} s)\n\
             Time:     {}\n\
             Node:     {}\n\
             Audit seq: {}\n",
            alert.severity.as_str(),
            alert.rule.as_str(),
            alert.subject,
            alert.summary,
            alert.count,
            alert.window_secs,
            rfc3339_ms(alert.time_unix_ms),
            alert.node,
            alert.seq,
        );
        let mut m = String::with_capacity(1024);
        for (name, value) in [
            ("From", header_value(&self.email.from)),
            ("To", header_value(&self.email.to.join(", "))),
            ("Subject", encode_header(&subject)),
            ("Date", rfc5322_date(now)),
            (
                "Message-ID",
                format!(
                    "<{}.{now}@{}>",
                    amanah_crypto::random::hex(24),
                    header_value(domain)
                ),
            ),
            ("MIME-Version", "1.0".to_owned()),
            ("Content-Type", "text/plain; charset=utf-8".to_owned()),
            ("Auto-Submitted", "auto-generated".to_owned()),
        ] {
            m.push_str(name);
            m.push_str(": ");
            m.push_str(&value);
            m.push_str("\r\n");
        }
        if body.is_ascii() {
            m.push_str("Content-Transfer-Encoding: 7bit\r\n\r\n");
            for line in body.lines() {
                m.push_str(line.trim_end_matches('\r'));
                m.push_str("\r\n");
            }
        } else {
            m.push_str("Content-Transfer-Encoding: base64\r\n\r\n");
            let encoded = amanah_crypto::base64::encode_standard(body.as_bytes());
            for chunk in encoded.as_bytes().chunks(76) {
                m.push_str(std::str::from_utf8(chunk).unwrap_or_default());
                m.push_str("\r\n");
            }
        }
        m
    }

    async fn attempt(&self, alert: &Alert) -> Result<(), SinkError> {
        let e = &self.email;
        let step = e.timeout;
        let host = e.smtp_host.trim_start_matches('[').trim_end_matches(']');
        let tcp = tokio::time::timeout(step, TcpStream::connect((host, e.smtp_port)))
            .await
            .map_err(|_| SinkError::Timeout("connect"))?
            .map_err(|err| SinkError::Connect(format!("{host}:{}: {err}", e.smtp_port)))?;
        let _ = tcp.set_nodelay(true);
        let ehlo = format!(
            "EHLO {}\r\n",
            helo_name(tcp.local_addr().ok().map(|a| a.ip()))
        );
        let mut s = Session::new(Box::new(tcp), step);
        s.expect("greeting", &[220], false).await?;
        let mut caps = s.command("EHLO", &ehlo, &[250], false).await?;
        if e.starttls {
            if !has_extension(&caps, "STARTTLS") {
                return Err(SinkError::Protocol(
                    "the mail server does not offer STARTTLS".into(),
                ));
            }
            s.command("STARTTLS", "STARTTLS\r\n", &[220], false).await?;
            // Anything the server sent after its 220 would be read as if it
            // came over TLS (command injection, CVE-2011-0411).
            if !s.io.buffer().is_empty() {
                return Err(SinkError::Protocol(
                    "the mail server sent data before the TLS handshake".into(),
                ));
            }
            let name = rustls_pki_types::ServerName::try_from(host.to_owned())
                .map_err(|_| SinkError::Tls(format!("`{host}` is not a TLS server name")))?;
            let plain = s.io.into_inner();
            let tls = tokio::time::timeout(
                step,
                tokio_rustls::TlsConnector::from(Arc::clone(&self.tls)).connect(name, plain),
            )
            .await
            .map_err(|_| SinkError::Timeout("TLS handshake"))?
            .map_err(|err| SinkError::Tls(err.to_string()))?;
            s = Session::new(Box::new(tls), step);
            caps = s.command("EHLO", &ehlo, &[250], false).await?;
        }
        if let (Some(user), Some(password)) = (&e.username, &self.password) {
            if !has_extension(&caps, "AUTH") {
                return Err(SinkError::Protocol(
                    "the mail server does not offer AUTH".into(),
                ));
            }
            let mut raw =
                Zeroizing::new(Vec::with_capacity(user.len() + password.expose().len() + 2));
            raw.push(0);
            raw.extend_from_slice(user.as_bytes());
            raw.push(0);
            raw.extend_from_slice(password.expose().as_bytes());
            let line = Zeroizing::new(format!(
                "AUTH PLAIN {}\r\n",
                Zeroizing::new(amanah_crypto::base64::encode_standard(&raw)).as_str()
            ));
            s.command("AUTH", &line, &[235], true).await?;
        }
        s.command(
            "MAIL FROM",
            &format!("MAIL FROM:<{}>\r\n", e.from),
            &[250],
            false,
        )
        .await?;
        for to in &e.to {
            s.command(
                "RCPT TO",
                &format!("RCPT TO:<{to}>\r\n"),
                &[250, 251],
                false,
            )
            .await?;
        }
        s.command("DATA", "DATA\r\n", &[354], false).await?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let data = dot_stuff(&self.message(alert, now));
        s.send("message", data.as_bytes()).await?;
        s.expect("message", &[250], false).await?;
        // The message is accepted; a failed QUIT changes nothing.
        let _ = s.command("QUIT", "QUIT\r\n", &[221], false).await;
        Ok(())
    }
}

#[async_trait]
impl AlertSink for SmtpSink {
    fn name(&self) -> &str {
        "email"
    }

    async fn deliver(&self, alert: &Alert) -> Result<(), SinkError> {
        with_retries(self.email.retry, "email", || self.attempt(alert)).await
    }
}

fn has_extension(ehlo: &Reply, name: &str) -> bool {
    ehlo.lines.iter().skip(1).any(|l| {
        l.split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(name))
    })
}

/// The EHLO argument: our address as an address literal (RFC 5321 §4.1.3).
fn helo_name(ip: Option<std::net::IpAddr>) -> String {
    match ip {
        Some(std::net::IpAddr::V4(v4)) => format!("[{v4}]"),
        Some(std::net::IpAddr::V6(v6)) => format!("[IPv6:{v6}]"),
        None => "[127.0.0.1]".to_owned(),
    }
}

/// A header value on one line: every control character (CR and LF above
/// all, which would start a new header) becomes a space.
pub fn header_value(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A header value as ASCII: as it is if it is, else RFC 2047 encoded
/// words, folded. Cut to 300 characters either way.
fn encode_header(s: &str) -> String {
    let s: String = header_value(s).chars().take(300).collect();
    if s.is_ascii() {
        return s;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in s.chars() {
        // 45 bytes encode to 60 characters: a word stays under 75.
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| {
            format!(
                "=?utf-8?B?{}?=",
                amanah_crypto::base64::encode_standard(w.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// CRLF line endings, a leading `.` doubled (RFC 5321 §4.5.2), and the
/// terminating `.` line.
pub fn dot_stuff(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 16);
    let normalized = message.replace("\r\n", "\n").replace('\r', "\n");
    for line in normalized
        .strip_suffix('\n')
        .unwrap_or(&normalized)
        .split('\n')
    {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(".\r\n");
    out
}

// ------------------------------------------------------------------ time

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's civil-from-days).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Milliseconds since the epoch as `2026-11-24T03:01:46.123Z`.
pub fn rfc3339_ms(unix_ms: i64) -> String {
    let secs = unix_ms.div_euclid(1000);
    let ms = unix_ms.rem_euclid(1000);
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Unix seconds as an RFC 5322 date: `Tue, 24 Nov 2026 03:01:46 +0000`.
pub fn rfc5322_date(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix.div_euclid(86_400);
    let (y, mo, d) = civil(days);
    let s = unix.rem_euclid(86_400);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} +0000",
        DAYS[(days + 4).rem_euclid(7) as usize],
        MONTHS[(mo - 1) as usize],
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

// ------------------------------------------------------------------ dispatcher

#[derive(Debug, Default)]
struct SinkStats {
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

/// One sink's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkCounts {
    pub sink: String,
    /// Alerts delivered.
    pub sent: u64,
    /// Alerts given up on after every attempt.
    pub failed: u64,
    /// Alerts dropped because the sink's queue was full (or shut).
    pub dropped: u64,
}

/// One slot in this many of a sink's queue is kept for critical alerts.
const CRITICAL_SHARE: usize = 16;

struct State {
    engine: AlertEngine,
    /// Emptied by [`AlertDispatcher::shutdown`], which closes the queues.
    queues: Vec<mpsc::Sender<Alert>>,
    closed: bool,
}

/// Feeds events to the rules and alerts to the sinks. Cheap to call from
/// the request path: `observe` takes a short lock, never awaits.
pub struct AlertDispatcher {
    state: Mutex<State>,
    names: Vec<String>,
    stats: Vec<Arc<SinkStats>>,
    raised: AtomicU64,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl fmt::Debug for AlertDispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlertDispatcher")
            .field("sinks", &self.names)
            .finish()
    }
}

impl AlertDispatcher {
    /// Starts one delivery task per sink (call inside a Tokio runtime),
    /// each with a queue of [`QUEUE_CAPACITY`].
    pub fn new(rules: AlertRules, sinks: Vec<Arc<dyn AlertSink>>) -> Self {
        Self::with_engine(AlertEngine::new(rules), sinks, QUEUE_CAPACITY)
    }

    /// [`new`](Self::new) with a given engine and queue capacity.
    pub fn with_engine(
        engine: AlertEngine,
        sinks: Vec<Arc<dyn AlertSink>>,
        queue_capacity: usize,
    ) -> Self {
        let mut queues = Vec::new();
        let mut names = Vec::new();
        let mut stats = Vec::new();
        let mut tasks = Vec::new();
        for sink in sinks {
            let (tx, rx) = mpsc::channel(queue_capacity.max(1));
            let counters = Arc::new(SinkStats::default());
            names.push(sink.name().to_owned());
            tasks.push(tokio::spawn(deliver_queue(sink, rx, Arc::clone(&counters))));
            queues.push(tx);
            stats.push(counters);
        }
        Self {
            state: Mutex::new(State {
                engine,
                queues,
                closed: false,
            }),
            names,
            stats,
            raised: AtomicU64::new(0),
            tasks: Mutex::new(tasks),
        }
    }

    /// The sinks `config` asks for, secrets resolved: the log (when
    /// `alerts.log`), each webhook (`webhook0`, `webhook1`...), e-mail.
    pub fn sinks_from_config(
        config: &Config,
        tls: &rustls::ClientConfig,
    ) -> Result<Vec<Arc<dyn AlertSink>>, Problems> {
        let alerts = &config.alerts;
        let mut problems: Vec<Problem> = Vec::new();
        let mut sinks: Vec<Arc<dyn AlertSink>> = Vec::new();
        if alerts.log {
            sinks.push(Arc::new(LogSink));
        }
        for (i, hook) in alerts.webhooks.iter().enumerate() {
            let secret = match &hook.secret {
                None => None,
                Some(r) => match r.resolve(&format!("alerts.webhooks[{i}].secret")) {
                    Ok(s) => Some(s),
                    Err(p) => {
                        problems.push(p);
                        continue;
                    }
                },
            };
            sinks.push(Arc::new(WebhookSink::new(
                format!("webhook{i}"),
                hook,
                secret.as_ref(),
                tls.clone(),
            )));
        }
        if let Some(email) = &alerts.email {
            let password = match &email.password {
                None => None,
                Some(r) => match r.resolve_password("alerts.email.password") {
                    Ok(s) => Some(s),
                    Err(p) => {
                        problems.push(p);
                        None
                    }
                },
            };
            sinks.push(Arc::new(SmtpSink::new(email, password, tls.clone())));
        }
        if problems.is_empty() {
            Ok(sinks)
        } else {
            Err(Problems(problems))
        }
    }

    /// The dispatcher `config` describes (call inside a Tokio runtime).
    /// `tls` is the gateway's client TLS configuration
    /// (`proxy::client_tls`).
    pub fn from_config(config: &Config, tls: &rustls::ClientConfig) -> Result<Self, Problems> {
        let sinks = Self::sinks_from_config(config, tls)?;
        Ok(Self::new(config.alerts.rules.clone(), sinks))
    }

    /// Runs the rules over `event`; queues any alert for every sink.
    /// Returns how many alerts it raised. Never blocks on delivery.
    pub fn observe(&self, event: &Event) -> usize {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let alerts = state.engine.observe(event);
        let n = alerts.len();
        for alert in alerts {
            self.enqueue(&state, alert);
        }
        n
    }

    /// Queues an alert made elsewhere, bypassing the rules.
    pub fn raise(&self, alert: Alert) {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.enqueue(&state, alert);
    }

    fn enqueue(&self, state: &State, alert: Alert) {
        self.raised.fetch_add(1, Ordering::Relaxed);
        for (i, stats) in self.stats.iter().enumerate() {
            // The last slots of a queue are kept for critical alerts, so a
            // flood of warnings cannot crowd out an admin grant.
            let queued = !state.closed && {
                let queue = &state.queues[i];
                let room = alert.severity == Severity::Critical
                    || queue.capacity() > queue.max_capacity() / CRITICAL_SHARE;
                room && queue.try_send(alert.clone()).is_ok()
            };
            if queued {
                continue;
            }
            let dropped = stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            // First and every 1000th: a flood must not flood the log.
            if dropped == 1 || dropped % 1000 == 0 {
                tracing::warn!(
                    target: "amanah::alerts",
                    sink = %self.names[i],
                    dropped,
                    rule = alert.rule.as_str(),
                    "alert queue full or shut, alert dropped"
                );
            }
        }
    }

    /// Alerts the rules raised (each counted once, whatever the sinks).
    pub fn raised(&self) -> u64 {
        self.raised.load(Ordering::Relaxed)
    }

    /// Alerts dropped over all sinks.
    pub fn dropped(&self) -> u64 {
        self.stats
            .iter()
            .map(|s| s.dropped.load(Ordering::Relaxed))
            .sum()
    }

    /// Per-sink counters, in sink order.
    pub fn counts(&self) -> Vec<SinkCounts> {
        self.names
            .iter()
            .zip(&self.stats)
            .map(|(name, s)| SinkCounts {
                sink: name.clone(),
                sent: s.sent.load(Ordering::Relaxed),
                failed: s.failed.load(Ordering::Relaxed),
                dropped: s.dropped.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Closes the queues (later alerts are dropped and counted) and gives
    /// the sinks up to `grace` to deliver what is queued; then stops them.
    pub async fn shutdown(&self, grace: Duration) {
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.closed = true;
            state.queues.clear();
        }
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        let deadline = tokio::time::Instant::now() + grace;
        for mut task in tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                tracing::warn!(
                    target: "amanah::alerts",
                    "alert delivery stopped at shutdown with alerts still queued"
                );
            }
        }
    }

    /// Waits until every sink's queue is empty and idle, or `timeout`
    /// passes; true when idle. For tests and orderly shutdowns.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let raised = self.raised();
            let done = self
                .counts()
                .iter()
                .all(|c| c.sent + c.failed + c.dropped >= raised);
            if done {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn deliver_queue(
    sink: Arc<dyn AlertSink>,
    mut rx: mpsc::Receiver<Alert>,
    stats: Arc<SinkStats>,
) {
    while let Some(alert) = rx.recv().await {
        match sink.deliver(&alert).await {
            Ok(()) => {
                stats.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                stats.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    target: "amanah::alerts",
                    sink = sink.name(),
                    rule = alert.rule.as_str(),
                    subject = %alert.subject,
                    error = %e,
                    "alert could not be delivered"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            rule: AlertRule::FailedAuthAccount,
            subject: "user:alice".into(),
            severity: Severity::Warning,
            summary: "11 failed authentications for user:alice within 300 s".into(),
            count: 11,
            window_secs: 300,
            time_unix_ms: 1_795_921_306_123,
            node: "gw-1".into(),
            seq: 42,
        }
    }

    #[test]
    fn times() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_795_921_306_123), "2026-11-29T03:01:46.123Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc5322_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn json_and_slack_bodies() {
        let a = alert();
        let json: serde_json::Value =
            serde_json::from_str(&render_body(WebhookFormat::Json, &a)).unwrap();
        assert_eq!(json["rule"], "failed_auth_account");
        assert_eq!(json["time"], "2026-11-29T03:01:46.123Z");
        assert_eq!(json["seq"], 42);
        let slack = render_body(
            WebhookFormat::Slack,
            &Alert {
                summary: "for user:<!channel> & co".into(),
                ..a
            },
        );
        assert_eq!(
            slack,
            r#"{"text":"warning for user:&lt;!channel&gt; &amp; co"}"#
        );
    }

    #[test]
    fn signatures_follow_the_documented_recipe() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"secret");
        let sig = signature(&key, 1700000000, b"{}");
        let want = hmac::sign(&key, b"1700000000.{}");
        assert_eq!(
            sig,
            format!(
                "t=1700000000,v1={}",
                amanah_crypto::random::encode_hex(want.as_ref())
            )
        );
    }

    #[test]
    fn dot_stuffing_and_line_endings() {
        assert_eq!(
            dot_stuff("a\n.b\r\n..c\rd\r\n"),
            "a\r\n..b\r\n...c\r\nd\r\n.\r\n"
        );
        assert_eq!(dot_stuff(".\n"), "..\r\n.\r\n");
    }

    #[test]
    fn headers_cannot_be_injected() {
        assert_eq!(header_value("a\r\nBcc: x"), "a  Bcc: x");
        let encoded = encode_header("é\r\nBcc: x");
        assert!(encoded.starts_with("=?utf-8?B?"), "{encoded}");
        assert!(!encoded.contains("Bcc"));
        for line in encode_header(&"é".repeat(200)).split("\r\n") {
            assert!(line.len() < 78, "{line}");
        }
    }

    #[test]
    fn retryable_errors() {
        assert!(SinkError::Status(503).retryable());
        assert!(SinkError::Status(429).retryable());
        assert!(!SinkError::Status(400).retryable());
        assert!(!SinkError::Status(404).retryable());
        assert!(SinkError::Timeout("x").retryable());
        let smtp = |code| SinkError::Smtp {
            step: "RCPT TO",
            code,
            text: String::new(),
        };
        assert!(smtp(451).retryable());
        assert!(!smtp(550).retryable());
    }
}
