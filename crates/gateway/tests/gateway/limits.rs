//! Baseline protections: body and header limits, slowloris, connection cap.

use std::time::Duration;

use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::proxy::raw_http;
use super::support::*;

#[tokio::test]
async fn declared_body_over_the_limit_is_413_before_forwarding() {
    let mut h = Harness::with(Setup {
        route: "max_body_bytes = 1000".into(),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let big: &'static str = Box::leak("x".repeat(1001).into_boxed_str());
    let (s, headers, b) = send(
        &client(),
        post(&h.url("/v1/chat/completions"), Some(&key), big),
    )
    .await;
    assert_error(s, StatusCode::PAYLOAD_TOO_LARGE, &b, "payload_too_large");
    assert!(
        !String::from_utf8_lossy(&b).contains("xxxx"),
        "the body is never echoed"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(h.seen_count(), 0);
    let ok: &'static str = Box::leak("x".repeat(1000).into_boxed_str());
    let (s, _, _) = send(
        &client(),
        post(&h.url("/v1/chat/completions"), Some(&key), ok),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    h.finish().await;
}

#[tokio::test]
async fn streamed_body_over_the_limit_is_413() {
    let mut h = Harness::with(Setup {
        route: "max_body_bytes = 1000".into(),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let req = http::Request::post(h.url("/v1/chat/completions"))
        .header("authorization", format!("Bearer {key}"))
        .body(streaming_body(20, 100))
        .unwrap();
    let (s, _, b) = send(&client(), req).await;
    assert_error(s, StatusCode::PAYLOAD_TOO_LARGE, &b, "payload_too_large");
    h.finish().await;
}

#[tokio::test]
async fn too_many_or_too_large_headers_are_431() {
    let mut h = Harness::with(Setup {
        server: "max_headers = 20\nmax_header_bytes = 2048".into(),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let c = client();
    let mut req = get(&h.url("/v1/models"), Some(&key));
    for i in 0..25 {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(format!("x-pad-{i}").as_bytes()).unwrap(),
            "1".parse().unwrap(),
        );
    }
    let (s, _, b) = send(&c, req).await;
    assert_error(
        s,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        &b,
        "headers_too_large",
    );
    let mut req = get(&h.url("/v1/models"), Some(&key));
    req.headers_mut()
        .insert("x-big", "y".repeat(3000).parse().unwrap());
    let (s, _, b) = send(&c, req).await;
    assert_error(
        s,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        &b,
        "headers_too_large",
    );
    // Far beyond the limit, hyper's parser refuses before the pipeline runs.
    let stream = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    let text = raw_http(
        stream,
        &format!(
            "GET /v1/models HTTP/1.1\r\nhost: x\r\nx-huge: {}\r\n\r\n",
            "z".repeat(64 * 1024)
        ),
    )
    .await;
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "{}",
        &text[..text.len().min(200)]
    );
    assert_eq!(h.seen_count(), 0);
    h.finish().await;
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let h = Harness::with(Setup {
        server: "header_read_timeout_ms = 300".into(),
        ..Setup::default()
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    stream
        .write_all(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    // The server must close the connection on its own, long before 5 s.
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(read.is_ok(), "a slowloris connection was kept open");
    h.finish().await;
}

#[tokio::test]
async fn stalled_request_body_is_408() {
    let mut h = Harness::with(Setup {
        server: "body_idle_timeout_ms = 300".into(),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let mut stream = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    let head = format!("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {key}\r\ncontent-length: 100\r\n\r\n0123456789");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    h.finish().await;
}

#[tokio::test]
async fn connection_cap_holds_excess_clients_back() {
    let mut h = Harness::with(Setup {
        server: "max_connections = 2".into(),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    // Two connections hold both permits (idle, mid-request).
    let mut a = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    let mut b = tokio::net::TcpStream::connect(h.addr).await.unwrap();
    a.write_all(b"GET /v1/models HTTP/1.1\r\n").await.unwrap();
    b.write_all(b"GET /v1/models HTTP/1.1\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let url = h.url("/v1/models");
    let third = tokio::spawn(async move { send(&client(), get(&url, Some(&key))).await.0 });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !third.is_finished(),
        "a third connection was served past the cap"
    );
    drop(a);
    let status = tokio::time::timeout(Duration::from_secs(5), third)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    drop(b);
    h.finish().await;
}
