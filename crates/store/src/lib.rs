//! Amanah's persistence.
//!
//! The gateway talks to storage only through the [`Store`] trait, so the
//! embedded SQLite backend and the scale-out backends that come later are
//! interchangeable. Every backend must pass the same [`conformance`] suite
//! (enable the `conformance` feature in a dev-dependency to run it).
//!
//! Times are Unix seconds supplied by the caller, which keeps expiry logic
//! testable without a clock. Nothing secret is stored in a form that can be
//! used as it is: API keys, session tokens, setup tokens and recovery codes
//! as keyed tags, passwords as Argon2id hashes, TOTP secrets sealed.

#![forbid(unsafe_code)]

use async_trait::async_trait;

mod audit;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod keyring;
mod model;
mod records;
mod sqlite;

pub use audit::*;
pub use keyring::*;
pub use model::*;
pub use records::*;
pub use sqlite::{AuditSync, SqliteAuditStore, SqliteKeyringStore, SqliteStore};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("a record with this id already exists")]
    Conflict,
    /// An optimistic update lost a race: the record changed since it was read.
    #[error("the record changed since it was read")]
    Stale,
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

    // --- API keys ---

    /// Inserts a new key; [`StoreError::Conflict`] if the id is taken, or if
    /// a service key for the same service and instance is already live.
    async fn insert_api_key(&self, record: &ApiKeyRecord) -> Result<(), StoreError>;

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// All keys, oldest first.
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;

    async fn revoke_api_key(&self, id: &str, now: i64) -> Result<RevokeOutcome, StoreError>;

    /// Replaces `old_id` by `successor` in one transaction. The first
    /// rotation shortens the old key's life to `grace_until`; rotating again
    /// (a retry whose answer was lost) revokes the previous successor, whose
    /// secret nobody may have seen, and leaves the grace period as it was.
    async fn rotate_api_key(
        &self,
        old_id: &str,
        successor: &ApiKeyRecord,
        grace_until: i64,
        now: i64,
    ) -> Result<RotateOutcome, StoreError>;

    /// Records last-used times and addresses in one batch; a time never
    /// moves backwards.
    async fn record_api_key_use(&self, uses: &[KeyUse]) -> Result<(), StoreError>;

    // --- admin users ---

    /// [`StoreError::Conflict`] if the id or the username is taken.
    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError>;

    async fn user(&self, id: &str) -> Result<Option<UserRecord>, StoreError>;

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;

    /// All users, oldest first.
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// Writes every mutable field of `user` if its `version` still matches
    /// the stored one ([`StoreError::Stale`] otherwise) and returns the new
    /// version. Concurrent logins cannot lose each other's failure counts.
    async fn update_user(&self, user: &UserRecord) -> Result<i64, StoreError>;

    /// Replaces the user's recovery codes (tags only).
    async fn set_recovery_codes(&self, user_id: &str, tags: &[Vec<u8>]) -> Result<(), StoreError>;

    /// Marks a recovery code used; false if it is unknown or already used.
    async fn consume_recovery_code(
        &self,
        user_id: &str,
        tag: &[u8],
        now: i64,
    ) -> Result<bool, StoreError>;

    async fn unused_recovery_codes(&self, user_id: &str) -> Result<u32, StoreError>;

    // --- sessions ---

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;

    async fn session(&self, tag: &[u8]) -> Result<Option<SessionRecord>, StoreError>;

    async fn touch_session(&self, tag: &[u8], now: i64) -> Result<(), StoreError>;

    /// False if there was no live session with this tag.
    async fn revoke_session(&self, tag: &[u8], now: i64) -> Result<bool, StoreError>;

    /// Revokes every live session of a user; returns how many.
    async fn revoke_user_sessions(&self, user_id: &str, now: i64) -> Result<u64, StoreError>;

    // --- custom roles and grants ---

    /// Inserts or replaces a custom role.
    async fn put_role(&self, role: &RoleRecord) -> Result<(), StoreError>;

    async fn delete_role(&self, name: &str) -> Result<bool, StoreError>;

    /// All custom roles, by name.
    async fn list_roles(&self) -> Result<Vec<RoleRecord>, StoreError>;

    async fn insert_grant(&self, grant: &GrantRecord) -> Result<(), StoreError>;

    async fn delete_grant(&self, id: &str) -> Result<bool, StoreError>;

    /// Grants, oldest first; only those of `principal` when given.
    async fn list_grants(&self, principal: Option<&str>) -> Result<Vec<GrantRecord>, StoreError>;

    // --- run-time settings ---

    async fn setting(&self, name: &str) -> Result<Option<SettingRecord>, StoreError>;

    /// Creates or replaces the setting.
    async fn put_setting(&self, setting: &SettingRecord) -> Result<(), StoreError>;
}
