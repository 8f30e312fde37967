//! Authorization and budgets end to end: time-bound grants, route scopes,
//! data classes, rate limits and the brake on guessing.

use std::time::Duration;

use amanah_gateway::keys::{now_unix, KeySpec};
use http::StatusCode;

use super::support::*;

#[tokio::test]
async fn a_time_bound_grant_opens_and_closes_on_time() {
    let mut h = Harness::start().await;
    let (id, viewer) = h.key_for(&["viewer"], Duration::from_secs(600)).await;
    assert_eq!(h.chat(&viewer).await.0, StatusCode::FORBIDDEN);
    let access = &h.gw.as_ref().unwrap().access;
    let start = now_unix() + 2;
    access
        .grant(
            &format!("key:{id}"),
            "contributor",
            Some(start),
            Some(start + 2),
            "user:test",
            now_unix(),
        )
        .await
        .unwrap();
    assert_eq!(h.chat(&viewer).await.0, StatusCode::FORBIDDEN, "not yet");
    sleep_until(start).await;
    assert_eq!(h.chat(&viewer).await.0, StatusCode::OK, "active");
    sleep_until(start + 2).await;
    assert_eq!(h.chat(&viewer).await.0, StatusCode::FORBIDDEN, "expired");
    assert_eq!(h.seen_count(), 1);
    h.finish().await;
}

async fn sleep_until(unix: i64) {
    while now_unix() < unix {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_scoped_key_reaches_only_its_routes() {
    let mut h = Harness::start().await;
    let roles = ["contributor".to_owned()];
    let mut elsewhere = KeySpec::new("elsewhere", &roles, Duration::from_secs(60));
    elsewhere.scopes = Some(vec!["embeddings".into()]);
    let (_, elsewhere) = h.key_with(elsewhere).await;
    let mut here = KeySpec::new("here", &roles, Duration::from_secs(60));
    here.scopes = Some(vec!["chat".into()]);
    let (_, here) = h.key_with(here).await;
    let (s, _, b) = h.chat(&elsewhere).await;
    assert_error(s, StatusCode::FORBIDDEN, &b, "forbidden");
    assert_eq!(h.chat(&here).await.0, StatusCode::OK);
    assert_eq!(h.seen_count(), 1);
    h.finish().await;
}

#[tokio::test]
async fn a_data_class_admits_only_cleared_roles_and_their_heirs() {
    let mut h = Harness::with(Setup {
        top: "[data_classes]\nchild_data = [\"case_worker\"]".into(),
        route: "data_class = \"child_data\"".into(),
        ..Setup::default()
    })
    .await;
    let (_, admin) = h.key_for(&["admin"], Duration::from_secs(60)).await;
    let (_, worker) = h.key_for(&["case_worker"], Duration::from_secs(60)).await;
    let (_, supervisor) = h.key_for(&["supervisor"], Duration::from_secs(60)).await;
    assert_eq!(
        h.chat(&admin).await.0,
        StatusCode::FORBIDDEN,
        "admin is not cleared implicitly"
    );
    assert_eq!(h.chat(&worker).await.0, StatusCode::OK);
    assert_eq!(
        h.chat(&supervisor).await.0,
        StatusCode::OK,
        "supervisor inherits case_worker"
    );
    h.finish().await;
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_show_the_budget() {
    let mut h = Harness::with(Setup {
        top: "[rate_limits]\nper_principal = { requests = 3, period_secs = 60 }".into(),
        ..Setup::default()
    })
    .await;
    let a = h.key().await;
    let b = h.key().await;
    for left in [2, 1, 0] {
        let (s, headers, _) = h.chat(&a).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(headers["ratelimit-limit"], "3");
        assert_eq!(headers["ratelimit-remaining"], left.to_string().as_str());
        assert_eq!(headers["ratelimit-policy"], "3;w=60");
    }
    let (s, headers, body) = h.chat(&a).await;
    assert_error(s, StatusCode::TOO_MANY_REQUESTS, &body, "rate_limited");
    assert_eq!(
        headers["retry-after"], "20",
        "one request comes back every 20 s"
    );
    assert_eq!(headers["ratelimit-remaining"], "0");
    // Another principal has its own budget.
    assert_eq!(h.chat(&b).await.0, StatusCode::OK);
    assert_eq!(h.seen_count(), 4);
    h.finish().await;
}

#[tokio::test]
async fn a_route_budget_is_shared_by_all_callers() {
    let mut h = Harness::with(Setup {
        route: "rate_limit = { requests = 2, period_secs = 3600 }".into(),
        ..Setup::default()
    })
    .await;
    let a = h.key().await;
    let b = h.key().await;
    assert_eq!(h.chat(&a).await.0, StatusCode::OK);
    assert_eq!(h.chat(&b).await.0, StatusCode::OK);
    assert_eq!(h.chat(&a).await.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(h.chat(&b).await.0, StatusCode::TOO_MANY_REQUESTS);
    h.finish().await;
}

/// A source that keeps presenting bad credentials is refused before any
/// credential is checked, and a good key from it waits too.
#[tokio::test]
async fn repeated_failures_from_one_address_are_braked() {
    let mut h = Harness::with(Setup {
        top: "[rate_limits]\nauth_failures_per_ip = { requests = 5, period_secs = 300 }".into(),
        ..Setup::default()
    })
    .await;
    let good = h.key().await;
    let wrong = format!("{}{}", &good[..13], "x".repeat(40));
    for _ in 0..5 {
        assert_eq!(h.chat(&wrong).await.0, StatusCode::UNAUTHORIZED);
    }
    let (s, headers, body) = h.chat(&wrong).await;
    assert_error(s, StatusCode::TOO_MANY_REQUESTS, &body, "rate_limited");
    assert!(headers.contains_key("retry-after"));
    assert_eq!(h.chat(&good).await.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(h.seen_count(), 0);
    h.finish().await;
}

/// The old key keeps working through the grace period, the new one at once.
#[tokio::test]
async fn a_rotated_key_works_until_its_grace_ends() {
    let mut h = Harness::start().await;
    let (id, old) = h.key_for(&["contributor"], Duration::from_secs(3600)).await;
    let keys = std::sync::Arc::clone(&h.gw.as_ref().unwrap().keys);
    let rotated = keys
        .rotate(&id, Duration::from_secs(2), now_unix())
        .await
        .unwrap();
    let new = rotated.key.plaintext.expose().to_owned();
    h.remember_secret(&new);
    assert_eq!(h.chat(&old).await.0, StatusCode::OK, "in grace");
    assert_eq!(h.chat(&new).await.0, StatusCode::OK);
    sleep_until(rotated.old_expires_at).await;
    assert_eq!(h.chat(&old).await.0, StatusCode::UNAUTHORIZED, "grace over");
    assert_eq!(h.chat(&new).await.0, StatusCode::OK);
    h.finish().await;
}
