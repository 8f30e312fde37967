//! Deny when a decision cannot be made: a store that stops answering turns
//! every request into a 503, never into a pass, and `/readyz` says so.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use amanah_store::{ApiKeyRecord, RevokeOutcome, SqliteStore, Store, StoreError};
use http::StatusCode;

use super::support::*;

/// The real SQLite store, with a switch that makes every call fail as a
/// lost database connection would.
struct Breakable {
    inner: SqliteStore,
    broken: AtomicBool,
}

impl Breakable {
    fn check(&self) -> Result<(), StoreError> {
        if self.broken.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("injected failure".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl Store for Breakable {
    async fn ping(&self) -> Result<(), StoreError> {
        self.check()?;
        self.inner.ping().await
    }
    async fn insert_api_key(&self, r: &ApiKeyRecord) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_api_key(r).await
    }
    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.check()?;
        self.inner.api_key(id).await
    }
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.check()?;
        self.inner.list_api_keys().await
    }
    async fn revoke_api_key(&self, id: &str, now: i64) -> Result<RevokeOutcome, StoreError> {
        self.check()?;
        self.inner.revoke_api_key(id, now).await
    }
    async fn record_api_key_use(&self, uses: &[(String, i64)]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.record_api_key_use(uses).await
    }
}

#[tokio::test]
async fn an_unreachable_store_refuses_requests_with_503() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[server]\nlisten = \"127.0.0.1:0\"\n[admin]\nlisten = \"127.0.0.1:0\"\n[providers.up]\nbase_url = \"http://127.0.0.1:9/v1\"\n[[routes]]\nname = \"chat\"\npath_prefix = \"/v1\"\nmethods = [\"POST\"]\nprovider = \"up\"\n";
    let config = amanah_gateway::config::load(&amanah_gateway::config::Source {
        file: Some(("t".into(), text.into())),
        env: Vec::new(),
        data_dir: Some(dir.path().join("data")),
        base_dir: None,
    })
    .unwrap();
    logs();
    let store = Arc::new(Breakable {
        inner: amanah_gateway::open_embedded_store(&config.data_dir).unwrap(),
        broken: AtomicBool::new(false),
    });
    let gw = amanah_gateway::start(&config, Arc::clone(&store) as Arc<dyn Store>)
        .await
        .unwrap();
    let (key, _) = gw
        .keys
        .create(
            "t",
            &["contributor".into()],
            Duration::from_secs(60),
            amanah_gateway::keys::now_unix(),
        )
        .await
        .unwrap();
    store.broken.store(true, Ordering::SeqCst);
    // Past the key cache, so the store must be asked.
    tokio::time::sleep(amanah_gateway::keys::KEY_CACHE_TTL + Duration::from_millis(100)).await;

    let url = format!("http://{}/v1/chat/completions", gw.addr);
    let (s, _, b) = send(&client(), post(&url, Some(key.plaintext.expose()), "{}")).await;
    assert_error(s, StatusCode::SERVICE_UNAVAILABLE, &b, "unavailable");
    let (s, _, _) = send(
        &client(),
        get(&format!("http://{}/readyz", gw.admin_addr), None),
    )
    .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);

    store.broken.store(false, Ordering::SeqCst);
    let (s, _, _) = send(
        &client(),
        get(&format!("http://{}/readyz", gw.admin_addr), None),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let secret = key.plaintext.expose().to_owned();
    gw.shutdown().await;
    assert_logs_clean(&[secret]);
}
