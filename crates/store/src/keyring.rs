//! The key store: master keys (sealed by the root key) and the data keys
//! of subjects and tenants (wrapped by a master key).
//!
//! It is a store of its own, in its own file (`<data-dir>/keys.db` for the
//! embedded backend), apart from the records: a backup of the records alone
//! never carries the keys that decrypt them, and destroying a data key here
//! makes every copy of that subject's records unreadable (crypto-shredding).

use async_trait::async_trait;

use crate::StoreError;

/// A master key (KEK) as stored: sealed by the deployment's root key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKek {
    pub version: u32,
    pub created_at: i64,
    pub sealed: Vec<u8>,
}

impl std::fmt::Debug for StoredKek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKek")
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// A data key as stored: wrapped by the master key of `kek_version`.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredDataKey {
    /// `subject:<id>` or `tenant:<id>`.
    pub owner: String,
    pub kek_version: u32,
    pub wrapped: Vec<u8>,
    pub created_at: i64,
}

impl std::fmt::Debug for StoredDataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredDataKey")
            .field("owner", &self.owner)
            .field("kek_version", &self.kek_version)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait KeyringStore: Send + Sync + 'static {
    /// [`StoreError::Conflict`] if the version exists.
    async fn insert_kek(&self, kek: &StoredKek) -> Result<(), StoreError>;

    /// Every master key, by version.
    async fn keks(&self) -> Result<Vec<StoredKek>, StoreError>;

    /// The lowest master-key version that may still decrypt (1 at first).
    async fn min_decryption_version(&self) -> Result<u32, StoreError>;

    async fn set_min_decryption_version(&self, version: u32) -> Result<(), StoreError>;

    async fn data_key(&self, owner: &str) -> Result<Option<StoredDataKey>, StoreError>;

    /// Stores `key` unless the owner has one already, and returns the one
    /// that is stored: two writers creating a subject's first record at
    /// once end up with the same data key.
    async fn insert_data_key(&self, key: &StoredDataKey) -> Result<StoredDataKey, StoreError>;

    /// Replaces the owner's key if it is still wrapped by
    /// `expected_kek_version` (rewrap); false if it changed or is gone.
    async fn replace_data_key(
        &self,
        key: &StoredDataKey,
        expected_kek_version: u32,
    ) -> Result<bool, StoreError>;

    /// Up to `limit` data keys wrapped by a master key older than
    /// `kek_version`, by owner.
    async fn data_keys_below(
        &self,
        kek_version: u32,
        limit: u32,
    ) -> Result<Vec<StoredDataKey>, StoreError>;

    /// Destroys the owner's data key so that its bytes leave the disk, not
    /// only the table; false if there was none.
    async fn destroy_data_key(&self, owner: &str) -> Result<bool, StoreError>;

    /// Destroys, as [`destroy_data_key`](Self::destroy_data_key) does, every
    /// data key whose owner starts with `prefix` or ends with `suffix`
    /// (each optional); returns how many.
    async fn destroy_data_keys_matching(
        &self,
        prefix: Option<&str>,
        suffix: Option<&str>,
    ) -> Result<u64, StoreError>;
}
