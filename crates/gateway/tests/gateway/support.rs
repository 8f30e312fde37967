//! The test harness: a gateway on port 0 in front of a recording upstream,
//! a temporary data directory, and a process-wide log capture that every
//! test scans for the secrets it used.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use amanah_gateway::body::{full, Body, ChannelBody};
use amanah_gateway::config::{self, AccessLog, Log, LogFormat, Source};
use amanah_gateway::logging::{self, BoxMakeWriter, MemorySink};
use amanah_gateway::server::Handler;
use amanah_gateway::Running;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::{watch, Notify};

/// Everything logged by any gateway in this test binary.
pub fn logs() -> &'static (MemorySink, MemorySink) {
    static LOGS: OnceLock<(MemorySink, MemorySink)> = OnceLock::new();
    LOGS.get_or_init(|| {
        let main = MemorySink::default();
        let access = MemorySink::default();
        let cfg = Log {
            format: LogFormat::Json,
            level: tracing::Level::DEBUG,
            access_log: AccessLog::Stdout,
        };
        let sub = logging::subscriber(
            &cfg,
            BoxMakeWriter::new(main.clone()),
            Some(BoxMakeWriter::new(access.clone())),
        );
        let _ = tracing::subscriber::set_global_default(sub);
        (main, access)
    })
}

/// A request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub uri: http::Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The stand-in model. Behaviour by path:
/// - `…/stream-gated`: SSE; sends one chunk, then waits for `release`;
/// - `…/slow`: answers after 2 s;
/// - `…/stall`: sends headers and one chunk, then nothing;
/// - `…/echo`: a chat completion whose answer repeats the request's
///   messages (`user: …`), as JSON, or with `"stream": true` as SSE with
///   one character of content per event and one byte per write;
/// - anything else: answers 200 with `{"ok":true}` and a hop-by-hop header.
///
/// Every request is recorded with its headers and body.
#[derive(Default)]
pub struct TestUpstream {
    pub seen: Mutex<Vec<Seen>>,
    pub release: Arc<Notify>,
}

impl Handler for TestUpstream {
    async fn handle(&self, req: Request<Incoming>, _peer: SocketAddr) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_owned();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        self.seen.lock().unwrap().push(Seen {
            uri: parts.uri,
            headers: parts.headers,
            body,
        });
        if path.ends_with("/usage") {
            let mut r = Response::new(amanah_gateway::body::full(Bytes::from_static(
                br#"{"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":22,"total_tokens":33}}"#,
            )));
            r.headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            return r;
        }
        if path.ends_with("/echo") {
            return echo_answer(&self.seen.lock().unwrap().last().unwrap().body);
        }
        if path.ends_with("/slow") {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        if path.ends_with("/stream-gated") || path.ends_with("/stall") {
            let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
            tx.send(Bytes::from_static(b"data: {\"n\":1}\n\n"))
                .await
                .unwrap();
            let release = Arc::clone(&self.release);
            let gated = path.ends_with("/stream-gated");
            tokio::spawn(async move {
                if gated {
                    release.notified().await;
                    let _ = tx.send(Bytes::from_static(b"data: {\"n\":2}\n\n")).await;
                    let _ = tx.send(Bytes::from_static(b"data: [DONE]\n\n")).await;
                } else {
                    // Hold the body open without sending anything.
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    drop(tx);
                }
            });
            let mut r = Response::new(ChannelBody(rx).boxed());
            r.headers_mut()
                .insert("content-type", "text/event-stream".parse().unwrap());
            return r;
        }
        let mut r = Response::new(full(r#"{"ok":true}"#));
        r.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        r.headers_mut()
            .insert("connection", "x-upstream-hop".parse().unwrap());
        r.headers_mut()
            .insert("x-upstream-hop", "1".parse().unwrap());
        r
    }
}

fn echo_answer(body: &Bytes) -> Response<Body> {
    let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let answer = amanah_gateway::mock_upstream::echo(&request);
    if request["stream"] != serde_json::Value::Bool(true) {
        let v = serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                         "finish_reason": "stop"}]
        });
        let mut r = Response::new(full(v.to_string()));
        r.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        return r;
    }
    let mut stream = String::new();
    let event = |delta: serde_json::Value, finish: serde_json::Value| {
        let v = serde_json::json!({"id": "chatcmpl-1", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        format!("data: {v}\n\n")
    };
    stream.push_str(&event(
        serde_json::json!({"role": "assistant"}),
        serde_json::Value::Null,
    ));
    for c in answer.chars() {
        stream.push_str(&event(
            serde_json::json!({"content": c.to_string()}),
            serde_json::Value::Null,
        ));
    }
    stream.push_str(&event(serde_json::json!({}), serde_json::json!("stop")));
    stream.push_str("data: [DONE]\n\n");
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        for b in stream.into_bytes() {
            if tx.send(Bytes::from(vec![b])).await.is_err() {
                return;
            }
        }
    });
    let mut r = Response::new(ChannelBody(rx).boxed());
    r.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    r
}

/// Knobs for one harness; each string is TOML lines added to its table.
#[derive(Default, Clone)]
pub struct Setup {
    pub server: String,
    pub provider: String,
    pub route: String,
    pub top: String,
    /// Point the provider at this address instead of the test upstream.
    pub upstream_addr: Option<SocketAddr>,
    /// Replace the provider's whole base URL.
    pub upstream_base: Option<String>,
}

pub struct Harness {
    pub gw: Option<Running>,
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    pub upstream: Arc<TestUpstream>,
    pub dir: tempfile::TempDir,
    /// The provider credential the gateway injects.
    pub provider_secret: String,
    /// Every secret this test handled; none may appear in any log.
    secrets: Vec<String>,
    stop_upstream: watch::Sender<bool>,
}

pub fn random_secret(prefix: &str) -> String {
    format!("{prefix}{}", amanah_crypto::random::base62(40))
}

impl Harness {
    pub async fn start() -> Self {
        Self::with(Setup::default()).await
    }

    pub async fn with(setup: Setup) -> Self {
        logs();
        let upstream = Arc::new(TestUpstream::default());
        let (stop_upstream, rx) = watch::channel(false);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up_addr = setup
            .upstream_addr
            .unwrap_or(listener.local_addr().unwrap());
        let limits = amanah_gateway::server::ConnLimits {
            max_connections: 256,
            header_read_timeout: Duration::from_secs(5),
            max_header_bytes: 64 * 1024,
            max_headers: 200,
        };
        tokio::spawn(amanah_gateway::server::serve(
            listener,
            None,
            limits,
            Arc::clone(&upstream),
            rx,
        ));

        let dir = tempfile::tempdir().unwrap();
        let provider_secret = random_secret("sk-test-");
        let secret_path = dir.path().join("provider.key");
        write_private(&secret_path, &provider_secret);
        let base_url = setup
            .upstream_base
            .clone()
            .unwrap_or_else(|| format!("http://{up_addr}/v1"));
        let text = format!(
            r#"
{top}
[server]
listen = "127.0.0.1:0"
{server}
[admin]
listen = "127.0.0.1:0"
[providers.up]
base_url = "{base_url}"
credential = {{ file = "{secret}" }}
{provider}
[[routes]]
name = "chat"
path_prefix = "/v1"
methods = ["GET", "POST"]
provider = "up"
{route}
"#,
            top = setup.top,
            server = setup.server,
            provider = setup.provider,
            route = setup.route,
            secret = secret_path.display(),
        );
        let config = config::load(&Source {
            file: Some(("harness".into(), text)),
            env: Vec::new(),
            data_dir: Some(dir.path().join("data")),
            base_dir: None,
        })
        .unwrap_or_else(|p| panic!("harness config invalid:\n{p}"));
        let stores = amanah_gateway::Stores::embedded(&config).unwrap();
        let gw = amanah_gateway::start(&config, stores).await.unwrap();
        Self {
            addr: gw.addr,
            admin: gw.admin_addr,
            gw: Some(gw),
            upstream,
            dir,
            secrets: vec![provider_secret.clone()],
            provider_secret,
            stop_upstream,
        }
    }

    /// Creates an API key with `roles`, valid for `lifetime`.
    pub async fn key_for(&mut self, roles: &[&str], lifetime: Duration) -> (String, String) {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        self.key_with(amanah_gateway::keys::KeySpec::new("test", &roles, lifetime))
            .await
    }

    /// Creates an API key as `spec` describes; returns its id and plaintext.
    pub async fn key_with(&mut self, spec: amanah_gateway::keys::KeySpec) -> (String, String) {
        let gw = self.gw.as_ref().unwrap();
        let (key, info) = gw
            .keys
            .create(&spec, amanah_gateway::keys::now_unix())
            .await
            .unwrap();
        let plaintext = key.plaintext.expose().to_owned();
        self.secrets.push(plaintext.clone());
        (info.id, plaintext)
    }

    /// Adds a credential the logs must never show.
    pub fn remember_secret(&mut self, secret: &str) {
        self.secrets.push(secret.to_owned());
    }

    pub async fn key(&mut self) -> String {
        self.key_for(&["contributor"], Duration::from_secs(3600))
            .await
            .1
    }

    /// `POST /v1/chat/completions` with `key`, collected.
    pub async fn chat(&self, key: &str) -> (StatusCode, HeaderMap, Bytes) {
        send(
            &client(),
            post(&self.url("/v1/chat/completions"), Some(key), "{}"),
        )
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn last_seen(&self) -> Seen {
        self.upstream
            .seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("the upstream saw a request")
    }

    pub fn seen_count(&self) -> usize {
        self.upstream.seen.lock().unwrap().len()
    }

    /// Stops everything, then checks that no secret of this test reached a log.
    pub async fn finish(mut self) {
        if let Some(gw) = self.gw.take() {
            gw.shutdown().await;
        }
        let _ = self.stop_upstream.send(true);
        assert_logs_clean(&self.secrets);
    }
}

pub fn assert_logs_clean(secrets: &[String]) {
    let (main, access) = logs();
    let text = format!("{}{}", main.contents(), access.contents());
    for s in secrets {
        // The tail alone is enough to identify a secret.
        let tail = &s[s.len().saturating_sub(24)..];
        assert!(!text.contains(tail), "a secret reached the logs");
    }
}

pub fn write_private(path: &std::path::Path, value: &str) {
    std::fs::write(path, value).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

pub type TestClient = Client<HttpConnector, Body>;

pub fn client() -> TestClient {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

pub fn h2_client() -> TestClient {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build(HttpConnector::new())
}

/// A request with the given key as bearer token and a JSON body.
pub fn post(url: &str, key: Option<&str>, body: &'static str) -> Request<Body> {
    let mut b = Request::post(url).header("content-type", "application/json");
    if let Some(k) = key {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    b.body(full(body)).unwrap()
}

pub fn get(url: &str, key: Option<&str>) -> Request<Body> {
    let mut b = Request::get(url);
    if let Some(k) = key {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    b.body(full(Bytes::new())).unwrap()
}

/// Sends and collects: status, headers, body.
pub async fn send(client: &TestClient, req: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
    let resp = client.request(req).await.expect("request sent");
    let (parts, body) = resp.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (parts.status, parts.headers, bytes)
}

pub fn json(body: &Bytes) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(body)))
}

/// Asserts the gateway's error shape and code.
pub fn assert_error(status: StatusCode, want: StatusCode, body: &Bytes, code: &str) {
    assert_eq!(status, want, "{}", String::from_utf8_lossy(body));
    let v = json(body);
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["message"].is_string());
    assert!(v["error"]["request_id"].is_string());
}

pub fn streaming_body(chunks: usize, size: usize) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(2);
    tokio::spawn(async move {
        for _ in 0..chunks {
            if tx.send(Bytes::from(vec![b'x'; size])).await.is_err() {
                return;
            }
        }
    });
    ChannelBody(rx).boxed()
}
