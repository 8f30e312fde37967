//! The audit log through a running gateway: what each request leaves in
//! `audit.db`, that the chain verifies with the key file beside it, and
//! fail-closed (503) when the log cannot be written.

use std::time::Duration;

use amanah_audit::{DetailValue, Event, StoredEvent, VerifyingKey};
use amanah_store::{AuditStore, SqliteAuditStore};
use bytes::Bytes;
use http::{Request, StatusCode};

use super::support::*;
use amanah_gateway::body::full;

const HOUR: Duration = Duration::from_secs(3600);

/// Every event in `audit.db`, after checking the chain and checkpoints
/// with the public key the gateway wrote beside its signing key.
async fn audit_events(h: &Harness) -> Vec<Event> {
    let data = h.dir.path().join("data");
    let store = SqliteAuditStore::open(&data.join("audit.db")).unwrap();
    let rows = store.events_from(1, 10_000).await.unwrap();
    let stored: Vec<StoredEvent> = rows
        .iter()
        .map(|r| StoredEvent::from_parts(&r.event, &r.prev_hash, &r.hash).unwrap())
        .collect();
    let key = std::fs::read_to_string(data.join("audit-signing.pub")).unwrap();
    let key = VerifyingKey::from_base64(key.trim()).unwrap();
    let checkpoints: Vec<_> = store
        .checkpoints()
        .await
        .unwrap()
        .iter()
        .map(|c| amanah_audit::Checkpoint::from_text(&c.text).unwrap())
        .collect();
    let report = amanah_audit::verify(&stored, &checkpoints, &key);
    assert!(report.is_ok(), "{report}");
    stored.into_iter().map(|s| s.event).collect()
}

fn clear<'a>(e: &'a Event, name: &str) -> Option<&'a str> {
    match e.details.get(name) {
        Some(DetailValue::Clear(v)) => Some(v),
        _ => None,
    }
}

fn with_header(
    mut req: Request<amanah_gateway::body::Body>,
    name: &'static str,
    value: &str,
) -> Request<amanah_gateway::body::Body> {
    req.headers_mut().insert(name, value.parse().unwrap());
    req
}

#[tokio::test]
async fn requests_leave_chained_events_with_personal_data_only_hashed() {
    let mut h = Harness::start().await;
    let (key_id, key) = h.key_for(&["contributor"], HOUR).await;
    let (_, admin) = h.key_for(&["admin"], HOUR).await;
    let c = client();

    // A model call for a named subject.
    let subject = "alice.audit@example.com";
    let (status, headers, _) = send(
        &c,
        with_header(
            post(&h.url("/v1/chat/completions"), Some(&key), "{}"),
            "x-amanah-subject",
            subject,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let call_rid = headers["x-request-id"].to_str().unwrap().to_owned();

    // A call whose answer reports its token usage.
    let (status, headers, body) = send(&c, post(&h.url("/v1/usage"), Some(&key), "{}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        json(&body)["usage"]["total_tokens"],
        33,
        "the answer passes whole"
    );
    let usage_rid = headers["x-request-id"].to_str().unwrap().to_owned();

    // A credential with a real key id and a wrong secret.
    let forged = format!("amk_{key_id}_{}", "x".repeat(40));
    let (status, _, _) = h.chat(&forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An administrator mints another administrator's key.
    let req = Request::builder()
        .method("POST")
        .uri(h.url("/admin/v1/keys"))
        .header("authorization", format!("Bearer {admin}"))
        .header("content-type", "application/json")
        .body(full(Bytes::from(
            serde_json::json!({"name": "ops", "roles": ["admin"]}).to_string(),
        )))
        .unwrap();
    let (status, _, body) = send(&c, req).await;
    assert_eq!(status, StatusCode::CREATED);
    let minted = json(&body);
    h.remember_secret(minted["secret"].as_str().unwrap());
    let minted_id = minted["key"]["id"].as_str().unwrap().to_owned();

    // A refused admin sign-in for a name that does not exist.
    let req = Request::builder()
        .method("POST")
        .uri(h.url("/admin/v1/session"))
        .header("content-type", "application/json")
        .body(full(Bytes::from(
            serde_json::json!({"username": "hunter2-typed-in-the-wrong-box", "password": "whatever-it-is-1"})
                .to_string(),
        )))
        .unwrap();
    let (status, _, _) = send(&c, req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let events = audit_events(&h).await;
    let call = events
        .iter()
        .find(|e| e.request_id.as_deref() == Some(call_rid.as_str()))
        .expect("the model call is audited");
    assert_eq!(call.actor, format!("key:{key_id}"));
    assert_eq!(call.resource, "route:chat");
    assert_eq!(call.outcome, amanah_audit::Outcome::Success);
    assert_eq!(call.request_id.as_deref(), Some(call_rid.as_str()));
    assert_eq!(call.client_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(clear(call, "provider"), Some("up"));
    assert_eq!(clear(call, "status"), Some("200"));
    assert!(
        matches!(call.details.get("subject"), Some(DetailValue::Hmac(_))),
        "the subject is kept only as a keyed hash: {call:?}"
    );

    let usage = events
        .iter()
        .find(|e| e.request_id.as_deref() == Some(usage_rid.as_str()))
        .unwrap();
    assert_eq!(
        (
            clear(usage, "tokens.input"),
            clear(usage, "tokens.output"),
            clear(usage, "tokens.total")
        ),
        (Some("11"), Some("22"), Some("33"))
    );
    assert_eq!(
        clear(call, "tokens.total"),
        None,
        "no usage, no token counts"
    );

    let refused = events
        .iter()
        .find(|e| e.action == "auth.request")
        .expect("the refused credential is audited");
    assert_eq!(refused.actor, "-", "nobody was authenticated");
    assert_eq!(
        clear(refused, "claimed"),
        Some(format!("key:{key_id}").as_str()),
        "the claimed account"
    );
    assert_eq!(refused.outcome, amanah_audit::Outcome::Failure);
    assert_eq!(clear(refused, "reason"), Some("wrong_secret"));

    let minted_event = events
        .iter()
        .find(|e| e.action == "key.create")
        .expect("the key creation is audited");
    assert_eq!(minted_event.resource, format!("key:{minted_id}"));
    assert_eq!(clear(minted_event, "roles"), Some("admin"));
    assert!(minted_event.actor.starts_with("key:"));

    let login = events
        .iter()
        .find(|e| e.action == "auth.login")
        .expect("the refused sign-in is audited");
    assert_eq!(login.actor, "-");
    assert_eq!(clear(login, "reason"), Some("unknown_user"));
    assert!(matches!(
        login.details.get("username"),
        Some(DetailValue::Hmac(_))
    ));

    // Neither the subject nor the mistyped name is anywhere in the files.
    let data = h.dir.path().join("data");
    for file in ["audit.db", "audit.db-wal"] {
        let bytes = std::fs::read(data.join(file)).unwrap_or_default();
        for needle in [subject.as_bytes(), b"hunter2-typed".as_slice()] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{file} holds personal data in clear"
            );
        }
    }
    h.finish().await;
}

#[tokio::test]
async fn an_unwritable_audit_log_refuses_fail_closed_routes_and_serves_fail_open_ones() {
    let mut h = Harness::with(Setup {
        top: "[[routes]]\nname = \"open\"\npath_prefix = \"/open\"\nmethods = [\"POST\"]\nprovider = \"up\"\naudit = \"open\"\n".into(),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let c = client();
    let (status, _, _) = h.chat(&key).await;
    assert_eq!(status, StatusCode::OK);

    // Another process holds the write lock: the gateway's writes fail
    // after the busy timeout, as on a full or read-only disk.
    let db = h.dir.path().join("data").join("audit.db");
    let blocker = rusqlite::Connection::open(&db).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let closed = h.chat(&key);
    let open = send(&c, post(&h.url("/open/chat"), Some(&key), "{}"));
    let ((closed_status, _, closed_body), (open_status, _, _)) = tokio::join!(closed, open);
    assert_error(
        closed_status,
        StatusCode::SERVICE_UNAVAILABLE,
        &closed_body,
        "audit_unavailable",
    );
    assert_eq!(open_status, StatusCode::OK, "a fail-open route serves");

    // While the log is down, the admin and data APIs change nothing.
    let (victim_id, _) = h.key_for(&["viewer"], HOUR).await;
    let (_, admin) = h.key_for(&["admin"], HOUR).await;
    let revoke = Request::builder()
        .method("DELETE")
        .uri(h.url(&format!("/admin/v1/keys/{victim_id}")))
        .header("authorization", format!("Bearer {admin}"))
        .body(full(Bytes::new()))
        .unwrap();
    let (status, _, body) = send(&c, revoke).await;
    assert_error(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        &body,
        "audit_unavailable",
    );
    let gw = h.gw.as_ref().unwrap();
    let still = gw
        .keys
        .get(&victim_id, amanah_gateway::keys::now_unix())
        .await
        .unwrap();
    assert!(still.revoked_at.is_none(), "no unaudited change");

    // While the log is down, a fail-closed route does not call its provider.
    let seen = h.seen_count();
    let (status, _, body) = h.chat(&key).await;
    assert_error(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        &body,
        "audit_unavailable",
    );
    assert_eq!(h.seen_count(), seen, "the provider was not called");

    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);
    // The next request's event is written again, and the route reopens.
    let (status, _, _) = h.chat(&key).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "refused before its event was written"
    );
    let (status, headers, _) = h.chat(&key).await;
    assert_eq!(status, StatusCode::OK);
    let rid = headers["x-request-id"].to_str().unwrap().to_owned();
    let events = audit_events(&h).await;
    assert!(events
        .iter()
        .any(|e| e.request_id.as_deref() == Some(rid.as_str())));
    let gw = h.gw.as_ref().unwrap();
    assert!(gw.audit.status().failed() >= 3);
    h.finish().await;
}

#[tokio::test]
async fn checkpoints_reach_the_webhook_anchor_and_verify_there() {
    let anchor = super::alerts::Receiver::start(&[]).await;
    let mut h = Harness::with(Setup {
        top: format!(
            "[audit]\ncheckpoint_every_events = 5\ncheckpoint_every_secs = 0\n\
             [audit.checkpoint_webhook]\nurl = \"{}\"\n",
            anchor.url
        ),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    for _ in 0..10 {
        assert_eq!(h.chat(&key).await.0, StatusCode::OK);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while anchor.requests().len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let received: Vec<amanah_audit::Checkpoint> = anchor
        .requests()
        .iter()
        .map(|(_, body)| {
            amanah_audit::Checkpoint::from_text(std::str::from_utf8(body).unwrap()).unwrap()
        })
        .collect();
    assert_eq!(received.iter().map(|c| c.seq).collect::<Vec<_>>(), [5, 10]);
    let data = h.dir.path().join("data");
    let key_text = std::fs::read_to_string(data.join("audit-signing.pub")).unwrap();
    let public = VerifyingKey::from_base64(key_text.trim()).unwrap();
    for cp in &received {
        public.verify(cp).unwrap();
    }
    audit_events(&h).await;
    h.finish().await;
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_request_cannot_skip_the_audit_event() {
    use tokio::io::AsyncWriteExt;
    let mut h = Harness::start().await;
    let key = h.key().await;
    for i in 0..40u64 {
        let mut s = tokio::net::TcpStream::connect(h.addr).await.unwrap();
        let body = "{}";
        let req = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        // Hang up while the request is in flight (half-close, then drop).
        tokio::time::sleep(Duration::from_millis(i % 5)).await;
        let _ = s.shutdown().await;
        drop(s);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let calls = h.seen_count();
    let events = audit_events(&h).await;
    let invoked = events.iter().filter(|e| e.action == "model.invoke").count();
    assert!(calls > 0, "some requests reached the provider");
    assert_eq!(
        invoked, calls,
        "every call that reached the provider has its event"
    );
    h.finish().await;
}

#[tokio::test]
async fn dead_admin_sessions_spend_the_failure_budget_so_they_cannot_flood_the_log() {
    let h = Harness::start().await;
    let c = client();
    let mut statuses = Vec::new();
    for _ in 0..25 {
        let req = Request::builder()
            .uri(h.url("/admin/v1/session"))
            .header("cookie", "amanah_session=not-a-session")
            .body(full(Bytes::new()))
            .unwrap();
        statuses.push(send(&c, req).await.0.as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 20);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 5);
    let logged = audit_events(&h)
        .await
        .iter()
        .filter(|e| e.action == "auth.request" || e.action == "session.read")
        .count();
    assert_eq!(
        logged, 20,
        "refusals past the budget are counted, not logged"
    );
    h.finish().await;
}
