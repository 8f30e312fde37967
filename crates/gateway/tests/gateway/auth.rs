//! API-key authentication: one answer for every failure, keys stored as
//! keyed hashes, last use recorded.

use std::time::Duration;

use http::StatusCode;

use super::support::*;

#[tokio::test]
async fn missing_bad_revoked_and_expired_keys_get_identical_401s() {
    let mut h = Harness::start().await;
    let (revoked_id, revoked) = h.key_for(&["contributor"], Duration::from_secs(3600)).await;
    let (_, expiring) = h.key_for(&["contributor"], Duration::from_secs(1)).await;
    let (_, good) = h.key_for(&["contributor"], Duration::from_secs(3600)).await;
    let gw = h.gw.as_ref().unwrap();
    gw.keys
        .revoke(&revoked_id, amanah_gateway::keys::now_unix())
        .await
        .unwrap();
    // A well-formed key whose secret is wrong.
    let mut wrong = good.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    // A well-formed key for an id that does not exist.
    let unknown = format!("amk_00000000_{}", &good[13..]);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let c = client();
    let mut bodies = Vec::new();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("garbage", Some("not-a-key".into())),
        ("wrong secret", Some(wrong)),
        ("unknown id", Some(unknown)),
        ("revoked", Some(revoked)),
        ("expired", Some(expiring)),
    ];
    for (what, key) in &cases {
        let mut req = post(&h.url("/v1/chat/completions"), key.as_deref(), "{}");
        req.headers_mut()
            .insert("x-request-id", "same-id".parse().unwrap());
        let (s, headers, body) = send(&c, req).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(headers["www-authenticate"], "Bearer", "{what}");
        bodies.push((what, body));
    }
    for (what, body) in &bodies {
        assert_eq!(
            body, &bodies[0].1,
            "{what} answered differently from {}",
            bodies[0].0
        );
    }
    assert_error(
        StatusCode::UNAUTHORIZED,
        StatusCode::UNAUTHORIZED,
        &bodies[0].1,
        "unauthorized",
    );
    assert_eq!(
        h.seen_count(),
        0,
        "no unauthenticated request reached the upstream"
    );

    // The good key works through either header.
    let (s, _, _) = send(&c, post(&h.url("/v1/chat/completions"), Some(&good), "{}")).await;
    assert_eq!(s, StatusCode::OK);
    let req = http::Request::get(h.url("/v1/models"))
        .header("x-api-key", &good)
        .body(amanah_gateway::body::empty())
        .unwrap();
    assert_eq!(send(&c, req).await.0, StatusCode::OK);
    h.finish().await;
}

#[tokio::test]
async fn conflicting_credentials_are_refused() {
    let mut h = Harness::start().await;
    let a = h.key().await;
    let b = h.key().await;
    let mut req = post(&h.url("/v1/chat/completions"), Some(&a), "{}");
    req.headers_mut().insert("x-api-key", b.parse().unwrap());
    let (s, _, _) = send(&client(), req).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    h.finish().await;
}

#[tokio::test]
async fn store_holds_only_keyed_hashes_and_records_last_use() {
    let mut h = Harness::start().await;
    let (id, key) = h.key_for(&["contributor"], Duration::from_secs(3600)).await;
    send(&client(), get(&h.url("/v1/models"), Some(&key))).await;
    let gw = h.gw.take().unwrap();
    let keys = std::sync::Arc::clone(&gw.keys);
    gw.shutdown().await; // flushes last-used times
    let list = keys.list(amanah_gateway::keys::now_unix()).await.unwrap();
    let info = list.iter().find(|k| k.id == id).unwrap();
    assert!(info.last_used_at.is_some(), "last use recorded");
    assert_eq!(info.masked, format!("amk_{id}_…{}", &key[key.len() - 4..]));

    let db = std::fs::read(h.dir.path().join("data/amanah.db")).unwrap();
    let wal = std::fs::read(h.dir.path().join("data/amanah.db-wal")).unwrap_or_default();
    let secret_part = &key[13..];
    for bytes in [&db, &wal] {
        assert!(
            !bytes
                .windows(secret_part.len())
                .any(|w| w == secret_part.as_bytes()),
            "key stored in clear"
        );
        // Nor as an unkeyed hash that could be guessed offline.
        let unkeyed = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        assert!(
            !bytes.windows(32).any(|w| w == unkeyed.as_ref()),
            "key stored as a plain hash"
        );
    }
    h.finish().await;
}

#[tokio::test]
async fn revocation_by_another_process_takes_effect_within_the_cache_ttl() {
    use amanah_store::Store;
    let mut h = Harness::start().await;
    let (id, key) = h.key_for(&["contributor"], Duration::from_secs(3600)).await;
    let c = client();
    // Used once, so its record is cached.
    assert_eq!(
        send(&c, get(&h.url("/v1/models"), Some(&key))).await.0,
        StatusCode::OK
    );
    // Another process (the CLI) revokes through its own connection.
    let other = amanah_store::SqliteStore::open(&h.dir.path().join("data/amanah.db")).unwrap();
    other
        .revoke_api_key(&id, amanah_gateway::keys::now_unix())
        .await
        .unwrap();
    tokio::time::sleep(amanah_gateway::keys::KEY_CACHE_TTL + Duration::from_millis(100)).await;
    let (s, _, _) = send(&c, get(&h.url("/v1/models"), Some(&key))).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "a revoked key kept working past the cache TTL"
    );
    h.finish().await;
}

#[tokio::test]
async fn in_process_revocation_is_immediate() {
    let mut h = Harness::start().await;
    let (id, key) = h.key_for(&["contributor"], Duration::from_secs(3600)).await;
    let c = client();
    assert_eq!(
        send(&c, get(&h.url("/v1/models"), Some(&key))).await.0,
        StatusCode::OK
    );
    let gw = h.gw.as_ref().unwrap();
    gw.keys
        .revoke(&id, amanah_gateway::keys::now_unix())
        .await
        .unwrap();
    assert_eq!(
        send(&c, get(&h.url("/v1/models"), Some(&key))).await.0,
        StatusCode::UNAUTHORIZED
    );
    h.finish().await;
}
