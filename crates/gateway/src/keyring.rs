//! The deployment's keyring: where the root key comes from, the master
//! keys (KEKs) kept sealed in the key store, and the data key of each data
//! subject or tenant.
//!
//! The cryptography is `amanah_crypto::envelope`; this module does the IO
//! around it: it reads the root key through a [`KeyProvider`], loads and
//! persists KEKs and wrapped data keys through a [`KeyringStore`], and keeps
//! the unsealed [`Keyring`] in memory. Several processes may share one key
//! store (the gateway and the CLI): every change goes to the store first
//! and the in-memory view is reloaded from it, so the store is the one
//! truth.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use amanah_crypto::envelope::{
    DataKey, EnvelopeError, Kek, KeyProvider, Keyring, ProviderError, RootKey, WrappedKey,
};
use amanah_store::{KeyringStore, StoreError, StoredDataKey, StoredKek};

/// Reads the root key from a file that only its owner may read.
#[derive(Debug, Clone)]
pub struct FileKeyProvider {
    path: PathBuf,
}

impl FileKeyProvider {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Writes a new random root key to `path` (owner-only, refusing to
    /// replace an existing file) and returns a provider for it.
    pub fn create(path: &Path) -> Result<Self, ProviderError> {
        let unavailable = |reason: String| ProviderError::Unavailable {
            provider: format!("file {}", path.display()),
            reason,
        };
        let key = RootKey::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .map_err(|e| unavailable(format!("cannot create it: {e}")))?;
        let mut text = key.to_base64().expose().to_owned();
        text.push('\n');
        let written =
            std::io::Write::write_all(&mut file, text.as_bytes()).and_then(|()| file.sync_all());
        zeroize::Zeroize::zeroize(&mut text);
        written.map_err(|e| unavailable(format!("cannot write it: {e}")))?;
        Ok(Self::new(path))
    }
}

/// Reads a key file that only its owner may read (refused otherwise, with
/// the `chmod` that fixes it); the text is wiped when dropped. The error
/// is a reason, for the caller to say which key it was.
pub(crate) fn read_private_file(path: &Path) -> Result<zeroize::Zeroizing<String>, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| format!("cannot read it: {e}"))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "its mode is {:o}: group and others must have no access (chmod 600 {})",
                mode & 0o777,
                path.display()
            ));
        }
    }
    std::fs::read_to_string(path)
        .map(zeroize::Zeroizing::new)
        .map_err(|e| format!("cannot read it: {e}"))
}

impl KeyProvider for FileKeyProvider {
    fn root_key(&self) -> Result<RootKey, ProviderError> {
        let unavailable = |reason: String| ProviderError::Unavailable {
            provider: self.describe(),
            reason,
        };
        let text = read_private_file(&self.path).map_err(unavailable)?;
        RootKey::from_base64(&text).map_err(|error| ProviderError::Invalid {
            provider: self.describe(),
            error,
        })
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

/// Reads the root key from an environment variable (for platforms that
/// inject secrets that way).
#[derive(Debug, Clone)]
pub struct EnvKeyProvider {
    var: String,
}

impl EnvKeyProvider {
    pub fn new(var: impl Into<String>) -> Self {
        Self { var: var.into() }
    }
}

impl KeyProvider for EnvKeyProvider {
    fn root_key(&self) -> Result<RootKey, ProviderError> {
        let text = zeroize::Zeroizing::new(std::env::var(&self.var).map_err(|_| {
            ProviderError::Unavailable {
                provider: self.describe(),
                reason: "it is not set (or not UTF-8)".into(),
            }
        })?);
        RootKey::from_base64(&text).map_err(|error| ProviderError::Invalid {
            provider: self.describe(),
            error,
        })
    }

    fn describe(&self) -> String {
        format!("environment variable {}", self.var)
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    #[error("the root key is unavailable: {0}")]
    Provider(#[from] ProviderError),
    #[error("the key store: {0}")]
    Store(#[from] StoreError),
    /// A stored KEK does not open under this root key: the wrong root key,
    /// or a tampered key store.
    #[error("master key version {version} does not open with this root key (wrong root key, or the key store was altered)")]
    SealedKek { version: u32 },
    #[error("{0}")]
    Envelope(#[from] EnvelopeError),
    /// Retiring a version that still wraps data keys would make their
    /// records unreadable.
    #[error("{count} data key(s) are still wrapped by a master key older than version {version}: run a rewrap first")]
    StillInUse { version: u32, count: usize },
    #[error("time is before 1970")]
    Clock,
    /// An imported master key that cannot be used; the reason says why.
    #[error("the imported master key is refused: {0}")]
    ImportRefused(String),
}

/// What a rewrap did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rewrapped {
    /// Data keys moved to the current master key.
    pub rewrapped: usize,
    /// Keys changed by another process meanwhile (left for the next run).
    pub raced: usize,
}

/// The keyring of a running deployment.
pub struct KeyringService {
    root: RootKey,
    store: Arc<dyn KeyringStore>,
    keyring: RwLock<Keyring>,
}

impl std::fmt::Debug for KeyringService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keyring = self.keyring.read().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("KeyringService")
            .field("keyring", &*keyring)
            .finish_non_exhaustive()
    }
}

/// How many data keys a rewrap reads at a time.
const REWRAP_BATCH: u32 = 500;

impl KeyringService {
    /// Loads the keyring from `store`, unsealing every KEK with the root
    /// key. An empty store gets its first KEK (version 1).
    pub async fn open(
        provider: &dyn KeyProvider,
        store: Arc<dyn KeyringStore>,
        now: i64,
    ) -> Result<Self, KeyringError> {
        let root = provider.root_key()?;
        if store.keks().await?.is_empty() {
            let first = Kek::generate(1, unix(now)?)?;
            match store.insert_kek(&sealed(&root, &first)).await {
                // Another process made version 1 first: use theirs.
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let keyring = load(&root, store.as_ref()).await?;
        Ok(Self {
            root,
            store,
            keyring: RwLock::new(keyring),
        })
    }

    /// Rereads the KEKs and the minimum version from the store (after
    /// another process rotated or retired).
    pub async fn reload(&self) -> Result<(), KeyringError> {
        let fresh = load(&self.root, self.store.as_ref()).await?;
        *self.keyring.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    pub fn current_version(&self) -> u32 {
        self.read().current_version()
    }

    pub fn min_decryption_version(&self) -> u32 {
        self.read().min_decryption_version()
    }

    /// `(version, created_at)` of every master key, oldest first.
    pub fn versions(&self) -> Vec<(u32, u64)> {
        self.read()
            .keks()
            .map(|k| (k.version(), k.created_at()))
            .collect()
    }

    /// The owner's data key, made (and stored wrapped) on first use. Two
    /// processes making it at once end up with the same key.
    pub async fn data_key(&self, owner: &str, now: i64) -> Result<DataKey, KeyringError> {
        if let Some(stored) = self.store.data_key(owner).await? {
            return self.unwrap_stored(&stored).await;
        }
        // Another process may have rotated or retired master keys since
        // this one loaded them: a new key is wrapped by today's current.
        self.reload().await?;
        let (fresh, wrapped) = self.read().new_data_key(owner);
        let stored = self
            .store
            .insert_data_key(&StoredDataKey {
                owner: owner.to_owned(),
                kek_version: wrapped.kek_version(),
                wrapped: wrapped.to_bytes(),
                created_at: now,
            })
            .await?;
        if stored.wrapped == wrapped.to_bytes() {
            Ok(fresh)
        } else {
            self.unwrap_stored(&stored).await
        }
    }

    /// The owner's data key if it exists (reading never creates one).
    pub async fn existing_data_key(&self, owner: &str) -> Result<Option<DataKey>, KeyringError> {
        match self.store.data_key(owner).await? {
            Some(stored) => self.unwrap_stored(&stored).await.map(Some),
            None => Ok(None),
        }
    }

    /// Destroys the owner's data key: every record encrypted under it, in
    /// this database and in every backup of it, becomes unreadable.
    pub async fn destroy_data_key(&self, owner: &str) -> Result<bool, KeyringError> {
        Ok(self.store.destroy_data_key(owner).await?)
    }

    /// A new master key becomes current for new data keys. Returns its
    /// version.
    pub async fn rotate(&self, now: i64) -> Result<u32, KeyringError> {
        loop {
            self.reload().await?;
            let next = self
                .read()
                .keks()
                .map(Kek::version)
                .max()
                .unwrap_or(0)
                .checked_add(1)
                .ok_or(EnvelopeError::InvalidKeyVersion { version: u32::MAX })?;
            let kek = Kek::generate(next, unix(now)?)?;
            match self.store.insert_kek(&sealed(&self.root, &kek)).await {
                Ok(()) => {
                    self.reload().await?;
                    return Ok(next);
                }
                // Another process rotated at the same moment: take theirs
                // into account and make the one after it.
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Bring your own key: adds a master key made elsewhere (an HSM, a
    /// key ceremony), delivered sealed under this deployment's root key in
    /// the documented sealed-KEK format, as the next version. It becomes
    /// current for new data keys. Returns its version.
    pub async fn import_sealed(&self, sealed: &[u8]) -> Result<u32, KeyringError> {
        let kek = self.root.open_kek(sealed).map_err(|_| {
            KeyringError::ImportRefused(
                "it does not open with this deployment's root key (or is not a sealed master key)"
                    .into(),
            )
        })?;
        self.reload().await?;
        let newest = self.read().keks().map(Kek::version).max().unwrap_or(0);
        if kek.version() != newest + 1 {
            return Err(KeyringError::ImportRefused(format!(
                "it is version {}, and the newest is {newest}: seal it as version {}",
                kek.version(),
                newest + 1
            )));
        }
        match self.store.insert_kek(&sealed_copy(&kek, sealed)).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(KeyringError::ImportRefused(format!(
                    "version {} was made meanwhile; seal it as the next version",
                    kek.version()
                )))
            }
            Err(e) => return Err(e.into()),
        }
        self.reload().await?;
        Ok(kek.version())
    }

    /// Destroys every data key whose owner starts with `prefix` or ends
    /// with `suffix`; returns how many.
    pub async fn destroy_data_keys_matching(
        &self,
        prefix: Option<&str>,
        suffix: Option<&str>,
    ) -> Result<u64, KeyringError> {
        Ok(self
            .store
            .destroy_data_keys_matching(prefix, suffix)
            .await?)
    }

    /// Rotates when the current master key is older than `period_secs`.
    pub async fn rotate_if_due(
        &self,
        now: i64,
        period_secs: u64,
    ) -> Result<Option<u32>, KeyringError> {
        self.reload().await?;
        if self.read().needs_rotation(unix(now)?, period_secs) {
            self.rotate(now).await.map(Some)
        } else {
            Ok(None)
        }
    }

    /// Rewraps every data key wrapped by an older master key under the
    /// current one. Only 32-byte data keys are re-encrypted; records are
    /// not touched.
    pub async fn rewrap_all(&self) -> Result<Rewrapped, KeyringError> {
        self.reload().await?;
        let current = self.current_version();
        let mut done = Rewrapped::default();
        let mut skipped: std::collections::HashSet<String> = Default::default();
        loop {
            let batch = self
                .store
                .data_keys_below(current, REWRAP_BATCH + skipped.len() as u32)
                .await?;
            let todo: Vec<_> = batch
                .into_iter()
                .filter(|k| !skipped.contains(&k.owner))
                .collect();
            if todo.is_empty() {
                return Ok(done);
            }
            for stored in todo {
                let wrapped = WrappedKey::from_bytes(&stored.wrapped)?;
                let moved = self.read().rewrap(&wrapped, &stored.owner)?;
                let replaced = self
                    .store
                    .replace_data_key(
                        &StoredDataKey {
                            kek_version: moved.kek_version(),
                            wrapped: moved.to_bytes(),
                            ..stored.clone()
                        },
                        stored.kek_version,
                    )
                    .await?;
                if replaced {
                    done.rewrapped += 1;
                } else {
                    done.raced += 1;
                    skipped.insert(stored.owner);
                }
            }
        }
    }

    /// Retires every master key below `version`: they no longer decrypt.
    /// Refused while data keys still depend on them.
    pub async fn retire_below(&self, version: u32) -> Result<(), KeyringError> {
        self.reload().await?;
        let left = self.store.data_keys_below(version, 1_000).await?.len();
        if left > 0 {
            return Err(KeyringError::StillInUse {
                version,
                count: left,
            });
        }
        // Checked by the pure keyring first (0 or above current).
        self.keyring
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .set_min_decryption_version(version)?;
        self.store.set_min_decryption_version(version).await?;
        self.reload().await
    }

    async fn unwrap_stored(&self, stored: &StoredDataKey) -> Result<DataKey, KeyringError> {
        let wrapped = WrappedKey::from_bytes(&stored.wrapped)?;
        if !self
            .read()
            .keks()
            .any(|k| k.version() == wrapped.kek_version())
        {
            // Rotated by another process since this one loaded.
            self.reload().await?;
        }
        Ok(self.read().unwrap(&wrapped, &stored.owner)?)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Keyring> {
        self.keyring.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// The stored form of an imported key: the sealed bytes as delivered.
fn sealed_copy(kek: &Kek, sealed: &[u8]) -> StoredKek {
    StoredKek {
        version: kek.version(),
        created_at: i64::try_from(kek.created_at()).unwrap_or(i64::MAX),
        sealed: sealed.to_vec(),
    }
}

fn sealed(root: &RootKey, kek: &Kek) -> StoredKek {
    StoredKek {
        version: kek.version(),
        created_at: i64::try_from(kek.created_at()).unwrap_or(i64::MAX),
        sealed: root.seal_kek(kek),
    }
}

async fn load(root: &RootKey, store: &dyn KeyringStore) -> Result<Keyring, KeyringError> {
    let mut keks = Vec::new();
    for stored in store.keks().await? {
        let kek = root
            .open_kek(&stored.sealed)
            .map_err(|_| KeyringError::SealedKek {
                version: stored.version,
            })?;
        if kek.version() != stored.version {
            return Err(KeyringError::SealedKek {
                version: stored.version,
            });
        }
        keks.push(kek);
    }
    let mut keyring = Keyring::new(keks)?;
    let min = store.min_decryption_version().await?;
    if min > 1 {
        keyring.set_min_decryption_version(min)?;
    }
    Ok(keyring)
}

fn unix(now: i64) -> Result<u64, KeyringError> {
    u64::try_from(now).map_err(|_| KeyringError::Clock)
}

#[cfg(test)]
mod tests {
    use amanah_crypto::envelope::{RecordAad, StaticKeyProvider};
    use amanah_store::SqliteKeyringStore;

    use super::*;

    fn aad(record_id: &str) -> RecordAad<'_> {
        RecordAad {
            record_id,
            subject: "s1",
            kind: "conversation",
            key_version: 1,
            data_class: "general",
            region: None,
            purpose: None,
        }
    }

    async fn service(dir: &Path, root: &RootKey) -> (KeyringService, Arc<SqliteKeyringStore>) {
        let store = Arc::new(SqliteKeyringStore::open(&dir.join("keys.db")).unwrap());
        let provider = StaticKeyProvider::new(root.clone());
        let svc = KeyringService::open(&provider, store.clone(), 1_000)
            .await
            .unwrap();
        (svc, store)
    }

    #[tokio::test]
    async fn first_open_makes_version_1_and_data_keys_are_stable() {
        let dir = tempfile::tempdir().unwrap();
        let root = RootKey::generate();
        let (svc, _) = service(dir.path(), &root).await;
        assert_eq!(svc.current_version(), 1);
        let key = svc.data_key("subject:s1", 1_000).await.unwrap();
        let ct = key.encrypt(&aad("r1"), b"hello");
        // Another process on the same key store reads the same key.
        let (other, _) = service(dir.path(), &root).await;
        let again = other
            .existing_data_key("subject:s1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.decrypt(&aad("r1"), &ct).unwrap().as_slice(), b"hello");
        assert!(other
            .existing_data_key("subject:none")
            .await
            .unwrap()
            .is_none());
    }

    /// Rotation, then rewrap, then retiring the old version: old records
    /// still open, and version 1 no longer does.
    #[tokio::test]
    async fn rotate_rewrap_retire() {
        let dir = tempfile::tempdir().unwrap();
        let root = RootKey::generate();
        let (svc, store) = service(dir.path(), &root).await;
        let key = svc.data_key("subject:s1", 1_000).await.unwrap();
        let ct = key.encrypt(&aad("r1"), b"before rotation");
        let old_wrapped = store.data_key("subject:s1").await.unwrap().unwrap();
        assert_eq!(svc.rotate(2_000).await.unwrap(), 2);
        let new_owner = svc.data_key("subject:s2", 2_000).await.unwrap();
        drop(new_owner);
        assert_eq!(
            store
                .data_key("subject:s2")
                .await
                .unwrap()
                .unwrap()
                .kek_version,
            2
        );
        // Not yet: s1's key still hangs on version 1.
        assert!(matches!(
            svc.retire_below(2).await,
            Err(KeyringError::StillInUse {
                version: 2,
                count: 1
            })
        ));
        let done = svc.rewrap_all().await.unwrap();
        assert_eq!(
            done,
            Rewrapped {
                rewrapped: 1,
                raced: 0
            }
        );
        svc.retire_below(2).await.unwrap();
        assert_eq!(svc.min_decryption_version(), 2);
        let key = svc.existing_data_key("subject:s1").await.unwrap().unwrap();
        assert_eq!(
            key.decrypt(&aad("r1"), &ct).unwrap().as_slice(),
            b"before rotation"
        );
        // The wrapped key from before the rewrap (a backup of keys.db)
        // no longer opens: version 1 is retired.
        store.replace_data_key(&old_wrapped, 2).await.unwrap();
        let (reopened, _) = service(dir.path(), &root).await;
        assert!(matches!(
            reopened.existing_data_key("subject:s1").await,
            Err(KeyringError::Envelope(EnvelopeError::KeyVersionRetired {
                version: 1
            }))
        ));
    }

    #[tokio::test]
    async fn a_wrong_root_key_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        service(dir.path(), &RootKey::generate()).await;
        let store = Arc::new(SqliteKeyringStore::open(&dir.path().join("keys.db")).unwrap());
        let wrong = StaticKeyProvider::new(RootKey::generate());
        let err = KeyringService::open(&wrong, store, 1_000)
            .await
            .unwrap_err();
        assert!(
            matches!(err, KeyringError::SealedKek { version: 1 }),
            "{err}"
        );
    }

    #[tokio::test]
    async fn rotation_is_due_after_the_period() {
        let dir = tempfile::tempdir().unwrap();
        let (svc, _) = service(dir.path(), &RootKey::generate()).await;
        let day = 86_400;
        assert_eq!(
            svc.rotate_if_due(1_000 + 89 * day, 90 * day as u64)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            svc.rotate_if_due(1_000 + 90 * day, 90 * day as u64)
                .await
                .unwrap(),
            Some(2)
        );
    }

    #[tokio::test]
    async fn destroying_a_data_key_makes_its_records_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let (svc, _) = service(dir.path(), &RootKey::generate()).await;
        let key = svc.data_key("subject:gone", 1_000).await.unwrap();
        let _ct = key.encrypt(&aad("r1"), b"secret");
        drop(key);
        assert!(svc.destroy_data_key("subject:gone").await.unwrap());
        assert!(svc
            .existing_data_key("subject:gone")
            .await
            .unwrap()
            .is_none());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_provider_refuses_a_readable_key_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        let provider = FileKeyProvider::create(&path).unwrap();
        let key = provider.root_key().unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // Created once: a second create would overwrite the key.
        assert!(FileKeyProvider::create(&path).is_err());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = provider.root_key().unwrap_err().to_string();
        assert!(err.contains("640") && err.contains("chmod 600"), "{err}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!err.contains(text.trim()));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            format!("{:?}", provider.root_key().unwrap().to_base64().expose()),
            format!("{:?}", key.to_base64().expose())
        );
    }

    #[test]
    fn the_env_provider_names_the_variable_never_the_value() {
        let provider = EnvKeyProvider::new("AMANAH_TEST_ROOT_KEY_UNSET_7f3a");
        let err = provider.root_key().unwrap_err().to_string();
        assert!(err.contains("AMANAH_TEST_ROOT_KEY_UNSET_7f3a"), "{err}");
    }
}
