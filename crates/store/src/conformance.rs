//! The behaviour every [`Store`] backend must show. Backends call
//! [`run_all`] from their own tests; a difference fails CI.

use crate::{ApiKeyRecord, KeyStatus, RevokeOutcome, Store, StoreError};

/// A plausible key record, for backend tests.
pub fn record_for_tests(id: &str, created_at: i64) -> ApiKeyRecord {
    record(id, created_at)
}

fn record(id: &str, created_at: i64) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.to_owned(),
        name: format!("key {id}"),
        roles: vec!["contributor".into(), "viewer".into()],
        tag: vec![7; 32],
        last4: "wxyz".into(),
        created_at,
        expires_at: created_at + 90 * 86_400,
        revoked_at: None,
        last_used_at: None,
    }
}

/// Runs every conformance check against a fresh, empty store.
pub async fn run_all<S: Store>(store: &S) {
    ping(store).await;
    insert_then_read_round_trips(store).await;
    duplicate_id_conflicts(store).await;
    list_is_ordered_by_creation(store).await;
    revoke_is_idempotent(store).await;
    last_used_never_moves_backwards(store).await;
}

async fn ping<S: Store>(store: &S) {
    store.ping().await.expect("ping");
}

async fn insert_then_read_round_trips<S: Store>(store: &S) {
    let r = record("0000000a", 1_000);
    store.insert_api_key(&r).await.unwrap();
    assert_eq!(store.api_key("0000000a").await.unwrap(), Some(r));
    assert_eq!(store.api_key("ffffffff").await.unwrap(), None);
}

async fn duplicate_id_conflicts<S: Store>(store: &S) {
    let r = record("0000000b", 1_000);
    store.insert_api_key(&r).await.unwrap();
    let err = store.insert_api_key(&r).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err}");
}

async fn list_is_ordered_by_creation<S: Store>(store: &S) {
    store
        .insert_api_key(&record("0000000d", 500))
        .await
        .unwrap();
    let ids: Vec<String> = store
        .list_api_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["0000000d", "0000000a", "0000000b"]);
}

async fn revoke_is_idempotent<S: Store>(store: &S) {
    assert_eq!(
        store.revoke_api_key("0000000a", 2_000).await.unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(
        store.revoke_api_key("0000000a", 3_000).await.unwrap(),
        RevokeOutcome::AlreadyRevoked
    );
    assert_eq!(
        store.revoke_api_key("99999999", 3_000).await.unwrap(),
        RevokeOutcome::NotFound
    );
    let r = store.api_key("0000000a").await.unwrap().unwrap();
    assert_eq!(
        r.revoked_at,
        Some(2_000),
        "the first revocation time is kept"
    );
    assert_eq!(r.status(2_500), KeyStatus::Revoked);
}

async fn last_used_never_moves_backwards<S: Store>(store: &S) {
    store
        .record_api_key_use(&[("0000000b".into(), 5_000), ("0000000d".into(), 6_000)])
        .await
        .unwrap();
    store
        .record_api_key_use(&[("0000000b".into(), 4_000), ("missing0".into(), 1)])
        .await
        .unwrap();
    let b = store.api_key("0000000b").await.unwrap().unwrap();
    assert_eq!(b.last_used_at, Some(5_000));
    let d = store.api_key("0000000d").await.unwrap().unwrap();
    assert_eq!(d.last_used_at, Some(6_000));
    assert_eq!(d.status(d.expires_at), KeyStatus::Expired);
    assert_eq!(d.status(d.expires_at - 1), KeyStatus::Active);
}
