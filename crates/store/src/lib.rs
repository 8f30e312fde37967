//! Amanah's persistence.
//!
//! The gateway talks to storage only through the [`Store`] trait, so the
//! embedded SQLite backend and the scale-out backends that come later are
//! interchangeable. Every backend must pass the same [`conformance`] suite
//! (enable the `conformance` feature in a dev-dependency to run it).
//!
//! Times are Unix seconds supplied by the caller, which keeps expiry logic
//! testable without a clock.

#![forbid(unsafe_code)]

use async_trait::async_trait;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod sqlite;

pub use sqlite::SqliteStore;

/// An API key as stored: never the key itself, only its keyed hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Public 8-hex-digit id, the lookup handle.
    pub id: String,
    pub name: String,
    pub roles: Vec<String>,
    /// `HMAC-SHA256(server_secret, key)`.
    pub tag: Vec<u8>,
    /// Last four characters of the secret, for the masked display.
    pub last4: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

impl ApiKeyRecord {
    pub fn status(&self, now: i64) -> KeyStatus {
        if self.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if now >= self.expires_at {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked,
    AlreadyRevoked,
    NotFound,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("a record with this id already exists")]
    Conflict,
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    #[error(
        "the store's schema is version {found}, newer than this binary understands ({supported})"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Everything the gateway persists. One trait per concern would be finer;
/// one trait keeps the conformance suite and the backends in one place
/// while the surface is small.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Cheap round trip proving the store answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Inserts a new key; [`StoreError::Conflict`] if the id is taken.
    async fn insert_api_key(&self, record: &ApiKeyRecord) -> Result<(), StoreError>;

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// All keys, oldest first.
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;

    async fn revoke_api_key(&self, id: &str, now: i64) -> Result<RevokeOutcome, StoreError>;

    /// Records last-used times in one batch; a time never moves backwards.
    async fn record_api_key_use(&self, uses: &[(String, i64)]) -> Result<(), StoreError>;
}
