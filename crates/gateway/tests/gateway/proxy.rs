//! Proxying: plain and streamed bodies, header hygiene, credential
//! injection, HTTP/2, routing errors, admin endpoints.

use std::time::{Duration, Instant};

use http::StatusCode;
use http_body_util::BodyExt;

use super::support::*;

#[tokio::test]
async fn plain_request_is_proxied_with_the_provider_credential_only() {
    let mut h = Harness::start().await;
    let key = h.key().await;
    let mut req = post(
        &h.url("/v1/chat/completions?x=1"),
        Some(&key),
        r#"{"messages":[]}"#,
    );
    let hdrs = req.headers_mut();
    hdrs.insert("x-api-key", key.parse().unwrap());
    hdrs.insert("cookie", "session=abc".parse().unwrap());
    hdrs.insert("connection", "x-client-hop".parse().unwrap());
    hdrs.insert("x-client-hop", "1".parse().unwrap());
    hdrs.insert("x-request-id", "client-rid-42".parse().unwrap());
    let (status, headers, body) = send(&client(), req).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(json(&body)["ok"], true);

    let seen = h.last_seen();
    assert_eq!(seen.uri.path(), "/v1/chat/completions");
    assert_eq!(seen.uri.query(), Some("x=1"));
    assert_eq!(seen.body.as_ref(), br#"{"messages":[]}"#);
    assert_eq!(
        seen.headers["authorization"],
        format!("Bearer {}", h.provider_secret).as_str()
    );
    assert!(
        seen.headers.get("x-api-key").is_none(),
        "client key forwarded"
    );
    assert!(seen.headers.get("cookie").is_none());
    assert!(
        seen.headers.get("x-client-hop").is_none(),
        "Connection-named header forwarded"
    );
    for (_, v) in &seen.headers {
        assert!(
            !v.as_bytes().windows(key.len()).any(|w| w == key.as_bytes()),
            "client key reached upstream"
        );
    }
    assert_eq!(seen.headers["x-request-id"], "client-rid-42");

    assert_eq!(headers["x-request-id"], "client-rid-42");
    assert!(
        headers.get("x-upstream-hop").is_none(),
        "upstream hop-by-hop header returned"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers.get("strict-transport-security").is_none(),
        "no HSTS without TLS"
    );
    h.finish().await;
}

#[tokio::test]
async fn first_sse_chunk_arrives_before_the_upstream_finishes() {
    let mut h = Harness::start().await;
    let key = h.key().await;
    let resp = client()
        .request(post(&h.url("/v1/stream-gated"), Some(&key), "{}"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.into_body();
    // The upstream is blocked until `release`; the first chunk must already be here.
    let first = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("first chunk arrived while the upstream was still open")
        .unwrap()
        .unwrap();
    assert_eq!(first.into_data().unwrap().as_ref(), b"data: {\"n\":1}\n\n");
    h.upstream.release.notify_one();
    let rest = body.collect().await.unwrap().to_bytes();
    assert_eq!(rest.as_ref(), b"data: {\"n\":2}\n\ndata: [DONE]\n\n");
    h.finish().await;
}

#[tokio::test]
async fn http2_clients_are_served() {
    let mut h = Harness::start().await;
    let key = h.key().await;
    let resp = h2_client()
        .request(get(&h.url("/v1/models"), Some(&key)))
        .await
        .unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        h.last_seen().headers["authorization"],
        format!("Bearer {}", h.provider_secret).as_str()
    );
    h.finish().await;
}

#[tokio::test]
async fn routing_errors() {
    let mut h = Harness::start().await;
    let key = h.key().await;
    let c = client();
    let (s, _, b) = send(&c, get(&h.url("/v2/models"), Some(&key))).await;
    assert_error(s, StatusCode::NOT_FOUND, &b, "not_found");
    let req = http::Request::delete(h.url("/v1/models"))
        .header("authorization", format!("Bearer {key}"))
        .body(amanah_gateway::body::empty())
        .unwrap();
    let (s, headers, b) = send(&c, req).await;
    assert_error(s, StatusCode::METHOD_NOT_ALLOWED, &b, "method_not_allowed");
    assert_eq!(headers["allow"], "GET, POST");
    assert_eq!(h.seen_count(), 0, "nothing reached the upstream");
    h.finish().await;
}

#[tokio::test]
async fn path_tricks_are_refused_before_routing() {
    let mut h = Harness::start().await;
    let key = h.key().await;
    for path in [
        "/v1/../admin",
        "/v1/%2e%2e/admin",
        "/v1//models",
        "/v1/%2fmodels",
    ] {
        let stream = tokio::net::TcpStream::connect(h.addr).await.unwrap();
        let text = raw_http(stream, &format!("GET {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {key}\r\nconnection: close\r\n\r\n")).await;
        assert!(text.starts_with("HTTP/1.1 400"), "{path}: {text}");
    }
    assert_eq!(h.seen_count(), 0);
    h.finish().await;
}

#[tokio::test]
async fn a_viewer_is_denied_a_write_route_that_a_contributor_may_use() {
    let mut h = Harness::with(Setup {
        route: "permission = \"records:write\"".into(),
        ..Setup::default()
    })
    .await;
    let (_, viewer) = h.key_for(&["viewer"], Duration::from_secs(60)).await;
    let (_, contributor) = h.key_for(&["contributor"], Duration::from_secs(60)).await;
    let c = client();
    let (s, _, b) = send(
        &c,
        post(&h.url("/v1/chat/completions"), Some(&viewer), "{}"),
    )
    .await;
    assert_error(s, StatusCode::FORBIDDEN, &b, "forbidden");
    assert_eq!(h.seen_count(), 0);
    let (s, _, _) = send(
        &c,
        post(&h.url("/v1/chat/completions"), Some(&contributor), "{}"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    h.finish().await;
}

#[tokio::test]
async fn cors_allow_list() {
    let mut h = Harness::with(Setup {
        top: "[cors]\nallowed_origins = [\"https://app.example.com\"]".into(),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let c = client();
    let preflight = |origin: &str| {
        http::Request::builder()
            .method("OPTIONS")
            .uri(h.url("/v1/chat/completions"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .body(amanah_gateway::body::empty())
            .unwrap()
    };
    let (s, headers, _) = send(&c, preflight("https://app.example.com")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(headers.get("access-control-allow-credentials").is_none());
    let (s, _, b) = send(&c, preflight("https://evil.example.com")).await;
    assert_error(s, StatusCode::FORBIDDEN, &b, "cors_rejected");
    let mut req = post(&h.url("/v1/x"), Some(&key), "{}");
    req.headers_mut()
        .insert("origin", "https://evil.example.com".parse().unwrap());
    let (_, headers, _) = send(&c, req).await;
    assert!(headers.get("access-control-allow-origin").is_none());
    h.finish().await;
}

#[tokio::test]
async fn upstream_unreachable_is_502_and_counted() {
    // Port 1: privileged and unused, so no other test's listener can take
    // it meanwhile (a port that was "just free" could be reused by a
    // parallel test, which made this test flaky).
    let dead: std::net::SocketAddr = "127.0.0.1:1".parse().unwrap();
    let mut h = Harness::with(Setup {
        upstream_addr: Some(dead),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let (s, _, b) = h.chat(&key).await;
    assert_error(s, StatusCode::BAD_GATEWAY, &b, "bad_gateway");
    assert!(
        !String::from_utf8_lossy(&b).contains(&dead.ip().to_string()),
        "upstream address leaked"
    );
    let (_, _, metrics) = send(&client(), get(&format!("http://{}/metrics", h.admin), None)).await;
    let text = String::from_utf8_lossy(&metrics);
    assert!(
        text.contains("amanah_upstream_errors_total{route=\"chat\",kind=\"connect\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("amanah_requests_total{route=\"chat\",status=\"502\"} 1"),
        "{text}"
    );
    h.finish().await;
}

#[tokio::test]
async fn slow_first_byte_is_504() {
    let mut h = Harness::with(Setup {
        provider: "first_byte_timeout_ms = 300".into(),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let started = Instant::now();
    let (s, _, b) = send(&client(), post(&h.url("/v1/slow"), Some(&key), "{}")).await;
    assert_error(s, StatusCode::GATEWAY_TIMEOUT, &b, "gateway_timeout");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    h.finish().await;
}

#[tokio::test]
async fn stalled_upstream_body_is_cut_after_the_idle_timeout() {
    let mut h = Harness::with(Setup {
        provider: "idle_timeout_ms = 300".into(),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let resp = client()
        .request(post(&h.url("/v1/stall"), Some(&key), "{}"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let result = tokio::time::timeout(Duration::from_secs(5), resp.into_body().collect()).await;
    assert!(
        matches!(result, Ok(Err(_))),
        "the stream must end in an error, not hang"
    );
    h.finish().await;
}

#[tokio::test]
async fn admin_endpoints() {
    let h = Harness::start().await;
    let c = client();
    let (s, headers, b) = send(&c, get(&format!("http://{}/healthz", h.admin), None)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(json(&b)["status"], "ok");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let (s, _, b) = send(&c, get(&format!("http://{}/readyz", h.admin), None)).await;
    assert_eq!(s, StatusCode::OK, "{b:?}");
    let (s, headers, _) = send(&c, get(&format!("http://{}/metrics", h.admin), None)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    // The admin endpoints are not on the traffic port.
    let (s, _, _) = send(&c, get(&h.url("/metrics"), None)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    h.finish().await;
}

#[tokio::test]
async fn access_log_has_dotted_fields() {
    let mut h = Harness::start().await;
    let key = h.key().await;
    let mut req = get(&h.url("/v1/models"), Some(&key));
    req.headers_mut()
        .insert("x-request-id", "access-log-probe-1".parse().unwrap());
    send(&client(), req).await;
    let access = logs().1.contents();
    let line = access
        .lines()
        .find(|l| l.contains("access-log-probe-1"))
        .expect("access line written");
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["route.name"], "chat");
    assert_eq!(v["client.ip"], "127.0.0.1");
    assert_eq!(v["http.status"], 200);
    assert!(v["latency_ms"].is_number());
    assert!(v["principal.id"].as_str().unwrap().starts_with("key:"));
    h.finish().await;
}

/// Writes a raw request and reads until the server closes.
pub async fn raw_http(mut stream: tokio::net::TcpStream, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}
