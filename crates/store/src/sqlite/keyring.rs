//! [`KeyringStore`] on its own SQLite file, `<data-dir>/keys.db`.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::{map_err, unavailable, write_tx, Db};
use crate::{KeyringStore, StoreError, StoredDataKey, StoredKek};

const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "CREATE TABLE keks (
        version    INTEGER PRIMARY KEY,
        created_at INTEGER NOT NULL,
        sealed     BLOB NOT NULL
    ) STRICT;

    CREATE TABLE keyring_state (
        id                     INTEGER PRIMARY KEY CHECK (id = 1),
        min_decryption_version INTEGER NOT NULL
    ) STRICT;
    INSERT INTO keyring_state (id, min_decryption_version) VALUES (1, 1);

    CREATE TABLE data_keys (
        owner       TEXT PRIMARY KEY,
        kek_version INTEGER NOT NULL,
        wrapped     BLOB NOT NULL,
        created_at  INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX data_keys_by_kek ON data_keys (kek_version, owner);",
)];

/// The key store of the embedded deployment. Keep `keys.db` out of the
/// backups of `amanah.db`, or at least apart from them: that separation is
/// what makes erasure reach old backups.
#[derive(Clone)]
pub struct SqliteKeyringStore {
    db: Arc<Db>,
}

impl std::fmt::Debug for SqliteKeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteKeyringStore")
            .field("path", &self.db.path)
            .finish()
    }
}

impl SqliteKeyringStore {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Arc::new(Db::open(path, MIGRATIONS)?),
        })
    }

    pub fn path(&self) -> &Path {
        &self.db.path
    }
}

const DATA_KEY_COLUMNS: &str = "owner, kek_version, wrapped, created_at";

fn data_key_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredDataKey> {
    Ok(StoredDataKey {
        owner: row.get(0)?,
        kek_version: row.get(1)?,
        wrapped: row.get(2)?,
        created_at: row.get(3)?,
    })
}

#[async_trait]
impl KeyringStore for SqliteKeyringStore {
    async fn insert_kek(&self, kek: &StoredKek) -> Result<(), StoreError> {
        let kek = kek.clone();
        Arc::clone(&self.db)
            .write(move |conn| {
                conn.execute(
                    "INSERT INTO keks (version, created_at, sealed) VALUES (?1, ?2, ?3)",
                    params![kek.version, kek.created_at, kek.sealed],
                )
                .map_err(map_err)?;
                Ok(())
            })
            .await
    }

    async fn keks(&self) -> Result<Vec<StoredKek>, StoreError> {
        self.db.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT version, created_at, sealed FROM keks ORDER BY version")?;
            let rows = stmt.query_map([], |r| {
                Ok(StoredKek {
                    version: r.get(0)?,
                    created_at: r.get(1)?,
                    sealed: r.get(2)?,
                })
            })?;
            rows.collect()
        })
    }

    async fn min_decryption_version(&self) -> Result<u32, StoreError> {
        self.db.read(|c| {
            c.query_row(
                "SELECT min_decryption_version FROM keyring_state WHERE id = 1",
                [],
                |r| r.get(0),
            )
        })
    }

    async fn set_min_decryption_version(&self, version: u32) -> Result<(), StoreError> {
        Arc::clone(&self.db)
            .write(move |conn| {
                conn.execute(
                    "UPDATE keyring_state SET min_decryption_version = ?1 WHERE id = 1",
                    [version],
                )
                .map_err(map_err)?;
                Ok(())
            })
            .await
    }

    async fn data_key(&self, owner: &str) -> Result<Option<StoredDataKey>, StoreError> {
        self.db.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {DATA_KEY_COLUMNS} FROM data_keys WHERE owner = ?1"
            ))?
            .query_row([owner], data_key_from_row)
            .optional()
        })
    }

    async fn insert_data_key(&self, key: &StoredDataKey) -> Result<StoredDataKey, StoreError> {
        let key = key.clone();
        Arc::clone(&self.db)
            .write(move |conn| {
                let tx = write_tx(conn)?;
                tx.execute(
                    &format!(
                        "INSERT INTO data_keys ({DATA_KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (owner) DO NOTHING"
                    ),
                    params![key.owner, key.kek_version, key.wrapped, key.created_at],
                )
                .map_err(map_err)?;
                let stored = tx
                    .query_row(
                        &format!("SELECT {DATA_KEY_COLUMNS} FROM data_keys WHERE owner = ?1"),
                        [&key.owner],
                        data_key_from_row,
                    )
                    .map_err(map_err)?;
                tx.commit().map_err(map_err)?;
                Ok(stored)
            })
            .await
    }

    async fn replace_data_key(
        &self,
        key: &StoredDataKey,
        expected_kek_version: u32,
    ) -> Result<bool, StoreError> {
        let key = key.clone();
        Arc::clone(&self.db)
            .write(move |conn| {
                let n = conn
                    .execute(
                        "UPDATE data_keys SET kek_version = ?2, wrapped = ?3
                         WHERE owner = ?1 AND kek_version = ?4",
                        params![
                            key.owner,
                            key.kek_version,
                            key.wrapped,
                            expected_kek_version
                        ],
                    )
                    .map_err(map_err)?;
                Ok(n == 1)
            })
            .await
    }

    async fn data_keys_below(
        &self,
        kek_version: u32,
        limit: u32,
    ) -> Result<Vec<StoredDataKey>, StoreError> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {DATA_KEY_COLUMNS} FROM data_keys
                 WHERE kek_version < ?1 ORDER BY owner LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![kek_version, limit], data_key_from_row)?;
            rows.collect()
        })
    }

    async fn destroy_data_key(&self, owner: &str) -> Result<bool, StoreError> {
        let owner = owner.to_owned();
        Arc::clone(&self.db)
            .write(move |conn| {
                let n = conn
                    .execute("DELETE FROM data_keys WHERE owner = ?1", [&owner])
                    .map_err(map_err)?;
                scrub_wal(conn)?;
                Ok(n == 1)
            })
            .await
    }

    async fn destroy_data_keys_matching(
        &self,
        prefix: Option<&str>,
        suffix: Option<&str>,
    ) -> Result<u64, StoreError> {
        // substr() comparisons, not LIKE: owner ids may hold % and _.
        let prefix = prefix.map(str::to_owned);
        let suffix = suffix.map(str::to_owned);
        Arc::clone(&self.db)
            .write(move |conn| {
                let n = conn
                    .execute(
                        "DELETE FROM data_keys WHERE
                           (?1 IS NOT NULL AND substr(owner, 1, length(?1)) = ?1)
                        OR (?2 IS NOT NULL AND length(owner) >= length(?2)
                            AND substr(owner, length(owner) - length(?2) + 1) = ?2)",
                        params![prefix, suffix],
                    )
                    .map_err(map_err)?;
                scrub_wal(conn)?;
                Ok(n as u64)
            })
            .await
    }
}

/// secure_delete zeroes deleted rows in their pages, but the WAL still
/// holds the page images written before: copy the pages back into the file
/// and empty the WAL. A reader in another process (the CLI) can hold the
/// WAL for a moment: wait for it rather than leave the old pages behind.
fn scrub_wal(conn: &rusqlite::Connection) -> Result<(), StoreError> {
    for attempt in 0..50u64 {
        let (busy, _, _): (i64, i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(map_err)?;
        if busy == 0 {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(20 * (attempt + 1).min(10)));
    }
    Err(unavailable(
        "the key store's write-ahead log could not be emptied (a reader held it); the keys are deleted, retry to scrub their old pages",
    ))
}
