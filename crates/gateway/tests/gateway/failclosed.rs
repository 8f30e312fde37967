//! Deny when a decision cannot be made: a store that stops answering turns
//! every request into a 503, never into a pass, and `/readyz` says so.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use amanah_gateway::keys::KeySpec;
use amanah_store::{
    ApiKeyRecord, GrantRecord, KeyUse, RevokeOutcome, RoleRecord, RotateOutcome, SessionRecord,
    SettingRecord, SqliteStore, Store, StoreError, UserRecord,
};
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

/// Every method checks the switch, then asks the real store.
macro_rules! breakable_store {
    ($( fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        #[async_trait::async_trait]
        impl Store for Breakable {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> Result<$ret, StoreError> {
                    self.check()?;
                    self.inner.$name($($arg),*).await
                }
            )*
        }
    };
}

breakable_store! {
    fn ping(&self) -> ();
    fn insert_api_key(&self, r: &ApiKeyRecord) -> ();
    fn api_key(&self, id: &str) -> Option<ApiKeyRecord>;
    fn list_api_keys(&self) -> Vec<ApiKeyRecord>;
    fn revoke_api_key(&self, id: &str, now: i64) -> RevokeOutcome;
    fn rotate_api_key(&self, id: &str, s: &ApiKeyRecord, grace: i64, now: i64) -> RotateOutcome;
    fn record_api_key_use(&self, uses: &[KeyUse]) -> ();
    fn insert_user(&self, u: &UserRecord) -> ();
    fn user(&self, id: &str) -> Option<UserRecord>;
    fn user_by_name(&self, name: &str) -> Option<UserRecord>;
    fn list_users(&self) -> Vec<UserRecord>;
    fn update_user(&self, u: &UserRecord) -> i64;
    fn set_recovery_codes(&self, id: &str, tags: &[Vec<u8>]) -> ();
    fn consume_recovery_code(&self, id: &str, tag: &[u8], now: i64) -> bool;
    fn unused_recovery_codes(&self, id: &str) -> u32;
    fn insert_session(&self, s: &SessionRecord) -> ();
    fn session(&self, tag: &[u8]) -> Option<SessionRecord>;
    fn touch_session(&self, tag: &[u8], now: i64) -> ();
    fn revoke_session(&self, tag: &[u8], now: i64) -> bool;
    fn revoke_user_sessions(&self, id: &str, now: i64) -> u64;
    fn put_role(&self, r: &RoleRecord) -> ();
    fn delete_role(&self, name: &str) -> bool;
    fn list_roles(&self) -> Vec<RoleRecord>;
    fn insert_grant(&self, g: &GrantRecord) -> ();
    fn delete_grant(&self, id: &str) -> bool;
    fn list_grants(&self, principal: Option<&str>) -> Vec<GrantRecord>;
    fn setting(&self, name: &str) -> Option<SettingRecord>;
    fn put_setting(&self, s: &SettingRecord) -> ();
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
    let stores = amanah_gateway::Stores::embedded_with(
        &config,
        Arc::clone(&store) as Arc<dyn Store>,
        Arc::new(store.inner.clone()),
    )
    .unwrap();
    let gw = amanah_gateway::start(&config, stores).await.unwrap();
    let (key, _) = gw
        .keys
        .create(
            &KeySpec::new("t", &["contributor".into()], Duration::from_secs(60)),
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
