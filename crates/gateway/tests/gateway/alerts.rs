//! Security alerts delivered to real receivers: an HTTP server on a
//! loopback port for webhooks, and aiosmtpd (Python) for e-mail, plain and
//! with STARTTLS + AUTH PLAIN.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use amanah_audit::{Event, Outcome};
use amanah_crypto::SecretString;
use amanah_gateway::alerts::{
    Alert, AlertDispatcher, AlertEngine, AlertRule, AlertRules, AlertSink, Severity, SinkError,
    SmtpSink, WebhookSink, SIGNATURE_HEADER,
};
use amanah_gateway::config::{self, Email, Retry, Source, Webhook, WebhookFormat};
use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;

use super::python;
use super::support::{assert_logs_clean, logs, random_secret, write_private};

const T0: i64 = 1_795_000_000_000;
const MIN: i64 = 60_000;

// ------------------------------------------------------------------ receivers

/// An HTTP server that records every request and answers with the
/// scripted statuses, then 200.
pub(super) struct Receiver {
    pub(super) url: String,
    seen: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub(super) async fn start(script: &[u16]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/amanah", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let (seen2, script2) = (Arc::clone(&seen), Arc::clone(&script));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (seen, script) = (Arc::clone(&seen2), Arc::clone(&script2));
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (seen, script) = (Arc::clone(&seen), Arc::clone(&script));
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await.unwrap().to_bytes();
                            seen.lock().unwrap().push((parts.headers, body));
                            let status = script.lock().unwrap().pop_front().unwrap_or(200);
                            Ok::<_, std::convert::Infallible>(
                                Response::builder()
                                    .status(status)
                                    .body(Full::new(Bytes::from_static(b"{}")))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self { url, seen, task }
    }

    pub(super) fn requests(&self) -> Vec<(HeaderMap, Bytes)> {
        self.seen.lock().unwrap().clone()
    }
}

/// aiosmtpd on a loopback port (`tests/python/smtp_sink.py`).
struct SmtpServer {
    child: Child,
    port: u16,
    rx: std_mpsc::Receiver<Value>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    fn start(args: &[&str], stdin_line: Option<&str>) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/smtp_sink.py");
        let mut child = Command::new(python::python())
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if let Some(line) = stdin_line {
            let stdin = child.stdin.as_mut().unwrap();
            stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
            stdin.flush().unwrap();
        }
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std_mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    break;
                };
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let ready = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the SMTP server started");
        let port = ready["port"].as_u64().unwrap() as u16;
        Self { child, port, rx }
    }

    /// Waits (without blocking the runtime) for `n` more messages.
    async fn messages(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut out = Vec::new();
        while out.len() < n {
            match self.rx.try_recv() {
                Ok(v) => out.push(v),
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                Err(_) => panic!("expected {n} messages, got {}", out.len()),
            }
        }
        out
    }

    /// True when no message arrives within a short while.
    async fn quiet(&self) -> bool {
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.rx.try_recv().is_err()
    }
}

// ------------------------------------------------------------------ helpers

fn tls_trusting(certs: &[rustls::pki_types::CertificateDer<'static>]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for c in certs {
        roots.add(c.clone()).unwrap();
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

fn retry(max_attempts: u32) -> Retry {
    Retry {
        max_attempts,
        backoff: Duration::from_millis(10),
    }
}

fn hook(url: &str, format: WebhookFormat, max_attempts: u32) -> Webhook {
    Webhook {
        url: url.parse().unwrap(),
        format,
        secret: None,
        retry: retry(max_attempts),
        timeout: Duration::from_secs(5),
    }
}

fn email(host: &str, port: u16) -> Email {
    Email {
        smtp_host: host.into(),
        smtp_port: port,
        starttls: false,
        username: None,
        password: None,
        from: "amanah@example.com".into(),
        to: vec!["security@example.com".into()],
        retry: retry(3),
        timeout: Duration::from_secs(10),
    }
}

fn failed_login(t: i64, i: usize) -> Event {
    let mut e = Event::new(
        t,
        "gw-test",
        "user:alice",
        "auth.login",
        "admin",
        Outcome::Failure,
    )
    .with_client_ip(format!("198.51.100.{i}"));
    e.seq = 1000 + i as u64;
    e
}

fn alert(summary: &str) -> Alert {
    Alert {
        rule: AlertRule::AdminGrant,
        subject: "user:bob".into(),
        severity: Severity::Critical,
        summary: summary.into(),
        count: 1,
        window_secs: 0,
        time_unix_ms: T0,
        node: "gw-test".into(),
        seq: 7,
    }
}

/// Recomputes `X-Amanah-Signature` the way the module docs tell a
/// receiver to.
fn signature_verifies(headers: &HeaderMap, body: &[u8], secret: &str) -> bool {
    let header = headers.get(SIGNATURE_HEADER).unwrap().to_str().unwrap();
    let (t, v1) = header.split_once(',').unwrap();
    let t = t.strip_prefix("t=").unwrap();
    let v1 = v1.strip_prefix("v1=").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let fresh = t.parse::<u64>().unwrap().abs_diff(now) < 300;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut msg = format!("{t}.").into_bytes();
    msg.extend_from_slice(body);
    let want = amanah_crypto::random::encode_hex(ring::hmac::sign(&key, &msg).as_ref());
    fresh && want == v1
}

fn header<'a>(message: &'a Value, name: &str) -> Vec<&'a str> {
    message["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|h| h[1].as_str().unwrap())
        .collect()
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn a_failed_sign_in_burst_gives_one_signed_webhook_and_one_email() {
    logs();
    let receiver = Receiver::start(&[]).await;
    let smtp = SmtpServer::start(&[], None);
    let dir = tempfile::tempdir().unwrap();
    let secret = random_secret("whsec-");
    write_private(&dir.path().join("hook_secret"), &secret);
    let text = format!(
        r#"
[alerts]
log = true
[[alerts.webhooks]]
url = "{url}"
secret = {{ file = "hook_secret" }}
backoff_ms = 10
[alerts.email]
smtp_host = "127.0.0.1"
smtp_port = {port}
from = "amanah@example.com"
to = ["security@example.com", "oncall@example.com"]
backoff_ms = 10
"#,
        url = receiver.url,
        port = smtp.port
    );
    let config = config::load(&Source {
        file: Some(("alerts.toml".into(), text)),
        base_dir: Some(dir.path().to_owned()),
        ..Source::default()
    })
    .unwrap_or_else(|p| panic!("{p}"));
    let dispatcher = AlertDispatcher::from_config(&config, &tls_trusting(&[])).unwrap();

    // 30 failures for one account within a minute, each from its own IP.
    let burst = |start: i64| -> usize {
        (0..30)
            .map(|i| dispatcher.observe(&failed_login(start + i as i64 * 2000, i)))
            .sum()
    };
    assert_eq!(burst(T0), 1);
    assert!(dispatcher.wait_idle(Duration::from_secs(30)).await);

    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "exactly one webhook POST");
    let (headers, body) = &requests[0];
    assert!(signature_verifies(headers, body, &secret));
    assert!(!signature_verifies(headers, body, &random_secret("other-")));
    assert_eq!(headers["content-type"], "application/json");
    let json: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(json["rule"], "failed_auth_account");
    assert_eq!(json["subject"], "user:alice");
    assert_eq!(json["severity"], "warning");
    assert_eq!(json["count"], 11);
    assert_eq!(json["window_secs"], 300);
    assert_eq!(json["node"], "gw-test");
    assert_eq!(json["seq"], 1010);
    assert_eq!(json["time"], "2026-11-18T11:07:00.000Z");
    assert!(json["summary"].as_str().unwrap().contains("user:alice"));

    let mails = smtp.messages(1).await;
    assert!(smtp.quiet().await, "exactly one e-mail");
    let m = &mails[0];
    assert_eq!(m["mail_from"], "amanah@example.com");
    assert_eq!(
        m["rcpt_tos"],
        serde_json::json!(["security@example.com", "oncall@example.com"])
    );
    let subject = header(m, "subject");
    assert_eq!(subject.len(), 1);
    assert!(
        subject[0].starts_with("[Amanah] warning: 11 failed authentications for user:alice"),
        "{subject:?}"
    );
    assert!(m["raw_head"]
        .as_str()
        .unwrap()
        .contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    assert_eq!(header(m, "date").len(), 1);
    assert_eq!(header(m, "message-id").len(), 1);
    let text = m["body"].as_str().unwrap();
    assert!(
        text.contains("failed_auth_account") && text.contains("Audit seq: 1010"),
        "{text}"
    );

    let counts = dispatcher.counts();
    let names: Vec<&str> = counts.iter().map(|c| c.sink.as_str()).collect();
    assert_eq!(names, ["log", "webhook0", "email"]);
    for c in &counts {
        assert_eq!((c.sent, c.failed, c.dropped), (1, 0, 0), "{c:?}");
    }
    assert!(logs().0.contents().contains("failed_auth_account"));

    // A second burst within the cooldown (900 s): nothing. One after it
    // (event time, no sleeping): a second alert everywhere.
    assert_eq!(burst(T0 + 10 * MIN), 0);
    assert_eq!(burst(T0 + 20 * MIN), 1);
    assert!(dispatcher.wait_idle(Duration::from_secs(30)).await);
    assert_eq!(receiver.requests().len(), 2);
    smtp.messages(1).await;
    assert!(smtp.quiet().await);
    assert!(dispatcher.counts().iter().all(|c| c.sent == 2));

    dispatcher.shutdown(Duration::from_secs(5)).await;
    assert_logs_clean(&[secret]);
}

#[tokio::test]
async fn slack_format_is_text_only_and_unsigned_without_a_secret() {
    let receiver = Receiver::start(&[]).await;
    let sink = WebhookSink::new(
        "slack",
        &hook(&receiver.url, WebhookFormat::Slack, 1),
        None,
        tls_trusting(&[]),
    );
    sink.deliver(&alert("admin role granted to user:<!channel>"))
        .await
        .unwrap();
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let (headers, body) = &requests[0];
    assert!(headers.get(SIGNATURE_HEADER).is_none());
    let json: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"text": "critical admin role granted to user:&lt;!channel&gt;"})
    );
}

#[tokio::test]
async fn a_webhook_answering_503_twice_gets_three_attempts_and_one_sent() {
    let receiver = Receiver::start(&[503, 503]).await;
    let sink = WebhookSink::new(
        "webhook0",
        &hook(&receiver.url, WebhookFormat::Json, 5),
        None,
        tls_trusting(&[]),
    );
    let dispatcher = AlertDispatcher::new(AlertRules::default(), vec![Arc::new(sink)]);
    dispatcher.raise(alert("admin role granted"));
    assert!(dispatcher.wait_idle(Duration::from_secs(30)).await);
    assert_eq!(receiver.requests().len(), 3);
    let c = &dispatcher.counts()[0];
    assert_eq!((c.sent, c.failed, c.dropped), (1, 0, 0));
    // Every attempt carries the same body.
    let bodies: Vec<Bytes> = receiver.requests().into_iter().map(|(_, b)| b).collect();
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    dispatcher.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_400_is_not_retried_and_exhausted_5xx_counts_failed() {
    let receiver = Receiver::start(&[400]).await;
    let sink = WebhookSink::new(
        "webhook0",
        &hook(&receiver.url, WebhookFormat::Json, 5),
        None,
        tls_trusting(&[]),
    );
    let dispatcher = AlertDispatcher::new(AlertRules::default(), vec![Arc::new(sink)]);
    dispatcher.raise(alert("admin role granted"));
    assert!(dispatcher.wait_idle(Duration::from_secs(30)).await);
    assert_eq!(receiver.requests().len(), 1);
    let c = &dispatcher.counts()[0];
    assert_eq!((c.sent, c.failed), (0, 1));
    dispatcher.shutdown(Duration::from_secs(1)).await;

    let receiver = Receiver::start(&[500, 502, 503, 504]).await;
    let sink = WebhookSink::new(
        "webhook0",
        &hook(&receiver.url, WebhookFormat::Json, 3),
        None,
        tls_trusting(&[]),
    );
    let err = sink.deliver(&alert("x")).await.unwrap_err();
    assert!(matches!(err, SinkError::Status(503)), "{err}");
    assert_eq!(receiver.requests().len(), 3);

    // Nobody listening: connection errors are retried, then reported.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", l.local_addr().unwrap())
    };
    let sink = WebhookSink::new(
        "webhook0",
        &hook(&closed, WebhookFormat::Json, 2),
        None,
        tls_trusting(&[]),
    );
    let err = sink.deliver(&alert("x")).await.unwrap_err();
    assert!(matches!(err, SinkError::Connect(_)), "{err}");
}

#[tokio::test]
async fn an_injected_bcc_in_the_subject_source_is_no_header() {
    let smtp = SmtpServer::start(&[], None);
    let sink = SmtpSink::new(&email("127.0.0.1", smtp.port), None, tls_trusting(&[]));
    sink.deliver(&alert(
        "admin role granted to user:x\r\nBcc: evil@example.com\r\n\r\n.\r\nMAIL FROM:<x@y>",
    ))
    .await
    .unwrap();
    let m = &smtp.messages(1).await[0];
    assert!(header(m, "bcc").is_empty(), "{m}");
    assert_eq!(m["rcpt_tos"], serde_json::json!(["security@example.com"]));
    let raw_head = m["raw_head"].as_str().unwrap();
    assert!(
        !raw_head
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("bcc")),
        "{raw_head}"
    );
    let subject = header(m, "subject");
    assert_eq!(subject.len(), 1);
    assert!(subject[0].starts_with("[Amanah] critical: admin role granted to user:x"));
    // The body kept its lines (dot-stuffed on the wire, restored by the
    // server), and the message ended where it should.
    assert!(m["body"].as_str().unwrap().contains("Audit seq: 7"));
    assert!(smtp.quiet().await);
}

#[tokio::test]
async fn email_over_starttls_with_auth_plain_and_a_refused_password() {
    logs();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    write_private(&key_path, &cert.key_pair.serialize_pem());
    let password = random_secret("smtp-pw-");
    let smtp = SmtpServer::start(
        &[
            "--tls",
            cert_path.to_str().unwrap(),
            key_path.to_str().unwrap(),
            "--auth",
            "alerts",
        ],
        Some(&password),
    );
    let tls = tls_trusting(&[cert.cert.der().clone()]);
    let config = Email {
        starttls: true,
        username: Some("alerts".into()),
        ..email("localhost", smtp.port)
    };

    let sink = SmtpSink::new(
        &config,
        Some(SecretString::new(password.clone())),
        tls.clone(),
    );
    sink.deliver(&alert("admin role granted to user:bob"))
        .await
        .unwrap();
    let m = &smtp.messages(1).await[0];
    assert_eq!(m["tls"], true);
    assert_eq!(m["login"], "alerts");

    let wrong = random_secret("wrong-pw-");
    let sink = SmtpSink::new(&config, Some(SecretString::new(wrong.clone())), tls.clone());
    let started = Instant::now();
    let err = sink.deliver(&alert("x")).await.unwrap_err();
    assert!(
        matches!(
            err,
            SinkError::Smtp {
                step: "AUTH",
                code: 535,
                ..
            }
        ),
        "{err}"
    );
    // 5xx: not retried.
    assert!(started.elapsed() < Duration::from_secs(5));
    let shown = format!("{err} {err:?} {sink:?}");
    assert!(
        !shown.contains(&wrong) && !shown.contains(&password),
        "{shown}"
    );

    // A server certificate we do not trust: refused, not retried.
    let sink = SmtpSink::new(
        &config,
        Some(SecretString::new(password.clone())),
        tls_trusting(&[]),
    );
    let err = sink.deliver(&alert("x")).await.unwrap_err();
    assert!(matches!(err, SinkError::Tls(_)), "{err}");
    assert!(smtp.quiet().await);
    assert_logs_clean(&[password, wrong]);
}

/// A sink that takes a second per alert.
#[derive(Debug)]
struct Slow;

#[async_trait::async_trait]
impl AlertSink for Slow {
    fn name(&self) -> &str {
        "slow"
    }
    async fn deliver(&self, _: &Alert) -> Result<(), SinkError> {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok(())
    }
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_without_blocking() {
    let dispatcher = AlertDispatcher::with_engine(
        AlertEngine::new(AlertRules::default()),
        vec![Arc::new(Slow)],
        2,
    );
    let started = Instant::now();
    for _ in 0..10 {
        dispatcher.raise(alert("x"));
    }
    assert!(started.elapsed() < Duration::from_millis(500));
    assert!(
        (7..=8).contains(&dispatcher.dropped()),
        "{}",
        dispatcher.dropped()
    );
    assert_eq!(dispatcher.raised(), 10);
    dispatcher.shutdown(Duration::from_millis(50)).await;
    // After shutdown: dropped, counted, no panic.
    let before = dispatcher.dropped();
    dispatcher.raise(alert("x"));
    assert_eq!(dispatcher.counts()[0].dropped, before + 1);
}

// ------------------------------------------------------- through the gateway

#[tokio::test]
async fn a_guessing_burst_through_the_gateway_alerts_once_per_rule_and_shows_in_metrics() {
    let receiver = Receiver::start(&[]).await;
    let mut h = super::support::Harness::with(super::support::Setup {
        top: format!(
            "[alerts]\nlog = false\n[[alerts.webhooks]]\nurl = \"{}\"\n",
            receiver.url
        ),
        ..Default::default()
    })
    .await;
    let (key_id, _) = h.key_for(&["contributor"], Duration::from_secs(3600)).await;
    let forged = format!("amk_{key_id}_{}", "y".repeat(40));
    // 25 guesses: 20 are refused as credentials (the per-address failure
    // budget), the rest answered 429 before the credential is looked at.
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(h.chat(&forged).await.0.as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 20);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 5);

    let gw = h.gw.as_ref().unwrap();
    assert!(gw.alerts.wait_idle(Duration::from_secs(10)).await);
    let mut rules: Vec<(String, String)> = receiver
        .requests()
        .iter()
        .map(|(_, body)| {
            let v: Value = serde_json::from_slice(body).unwrap();
            (
                v["rule"].as_str().unwrap().to_owned(),
                v["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            ("failed_auth_account".to_owned(), format!("key:{key_id}")),
            ("failed_auth_ip".to_owned(), "127.0.0.1".to_owned()),
        ],
        "one alert per rule for the whole burst"
    );

    let (status, _, body) = super::support::send(
        &super::support::client(),
        super::support::get(&format!("http://{}/metrics", h.admin), None),
    )
    .await;
    assert_eq!(status, 200);
    let text = String::from_utf8(body.to_vec()).unwrap();
    for line in [
        "amanah_auth_failures_total{reason=\"wrong_secret\"} 20",
        "amanah_rate_limited_total{budget=\"auth_failures\"} 5",
        "amanah_alerts_total{sink=\"webhook0\",result=\"sent\"} 2",
        "amanah_audit_events_total 20",
        "amanah_audit_healthy 1",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    h.finish().await;
}

#[tokio::test]
async fn an_admin_key_made_from_the_cli_alerts_through_the_running_gateway() {
    let receiver = Receiver::start(&[]).await;
    let h = super::support::Harness::with(super::support::Setup {
        top: format!(
            "[alerts]\nlog = false\n[[alerts.webhooks]]\nurl = \"{}\"\n",
            receiver.url
        ),
        ..Default::default()
    })
    .await;
    // The CLI appends to the same audit log from another process.
    let other =
        amanah_store::SqliteAuditStore::open(&h.dir.path().join("data").join("audit.db")).unwrap();
    let event = Event::new(
        amanah_gateway::audit::now_ms(),
        "gw-test",
        "cli:ops",
        "key.create",
        "key:0badc0de",
        Outcome::Success,
    )
    .with_detail("roles", "admin");
    amanah_gateway::audit::append_one(&other, event)
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.requests().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let alerts: Vec<Value> = receiver
        .requests()
        .iter()
        .map(|(_, b)| serde_json::from_slice(b).unwrap())
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["rule"], "admin_grant");
    assert_eq!(alerts[0]["subject"], "key:0badc0de");
    h.finish().await;
}
