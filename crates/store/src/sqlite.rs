//! The embedded backend: one SQLite file, `<data-dir>/amanah.db`.
//!
//! WAL mode, `synchronous = FULL` (an accepted write survives power loss),
//! one writer connection and a small pool of readers. Point reads run on the
//! calling thread: a primary-key lookup takes microseconds, less than a hop
//! to the blocking pool would. Writes go to the blocking pool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::{ApiKeyRecord, RevokeOutcome, Store, StoreError};

/// Versioned schema migrations, applied in order, each in a transaction.
/// Never edit a released entry: append a new one.
const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "CREATE TABLE api_keys (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        roles        TEXT NOT NULL,
        tag          BLOB NOT NULL,
        last4        TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        revoked_at   INTEGER,
        last_used_at INTEGER
    ) STRICT;",
)];

const READERS: usize = 4;

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and brings its
    /// schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        make_private(path)?;
        let mut writer = open_connection(path, true)?;
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| open_connection(path, false))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers: Mutex::new(readers),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs a read on a pooled connection, on the calling thread.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let conn = self
            .inner
            .readers
            .lock()
            .map_err(unavailable)?
            .pop()
            .map(Ok)
            .unwrap_or_else(|| open_connection(&self.inner.path, false))?;
        let result = f(&conn).map_err(map_err);
        if let Ok(mut pool) = self.inner.readers.lock() {
            if pool.len() < READERS {
                pool.push(conn);
            }
        }
        result
    }

    /// Runs a write on the single writer connection, off the async threads.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().map_err(unavailable)?;
            f(&mut conn)
        })
        .await
        .map_err(unavailable)?
    }
}

fn open_connection(path: &Path, create: bool) -> Result<Connection, StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(unavailable)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(unavailable)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;",
    )
    .map_err(unavailable)?;
    Ok(conn)
}

/// The database holds key hashes and, later, encrypted records: nobody but
/// the service account needs to read it. The file is made owner-only
/// *before* SQLite first opens it, because SQLite creates the `-wal` and
/// `-shm` files (which hold database pages) with the main file's mode.
fn make_private(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        // An empty file is a valid empty database.
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(unavailable)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(unavailable)?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Applies pending migrations in one immediate transaction, so two
/// processes opening a new database at once apply each migration once: the
/// second waits for the write lock, then finds nothing left to do.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = write_tx(conn)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            applied_at INTEGER NOT NULL DEFAULT (unixepoch())
        ) STRICT;",
    )
    .map_err(unavailable)?;
    let current: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(unavailable)?;
    let supported = MIGRATIONS.last().map_or(0, |m| m.0);
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for &(version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        tx.execute_batch(sql).map_err(unavailable)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES (?1)",
            [version],
        )
        .map_err(unavailable)?;
    }
    tx.commit().map_err(unavailable)
}

/// A write transaction that takes the write lock when it begins.
///
/// A deferred transaction that reads and then writes fails at once with
/// "database is locked" when another connection committed in between (the
/// busy timeout does not apply to that upgrade). Taking the lock up front
/// makes a concurrent writer (the CLI beside a running gateway) wait instead.
fn write_tx(conn: &mut Connection) -> Result<rusqlite::Transaction<'_>, StoreError> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(map_err)
}

fn map_err(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(ref f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict
        }
        other => unavailable(other),
    }
}

const KEY_COLUMNS: &str =
    "id, name, roles, tag, last4, created_at, expires_at, revoked_at, last_used_at";

fn key_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    let roles_json: String = row.get(2)?;
    let roles: Vec<String> = serde_json::from_str(&roles_json).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(ApiKeyRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        roles,
        tag: row.get(3)?,
        last4: row.get(4)?,
        created_at: row.get(5)?,
        expires_at: row.get(6)?,
        revoked_at: row.get(7)?,
        last_used_at: row.get(8)?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)))
            .map(|_| ())
    }

    async fn insert_api_key(&self, record: &ApiKeyRecord) -> Result<(), StoreError> {
        let r = record.clone();
        let roles =
            serde_json::to_string(&r.roles).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.write(move |c| {
            c.execute(
                &format!("INSERT INTO api_keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    r.id, r.name, roles, r.tag, r.last4, r.created_at, r.expires_at,
                    r.revoked_at, r.last_used_at
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1"))?
                .query_row([id], key_from_row)
                .optional()
        })
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"
            ))?;
            let rows = stmt.query_map([], key_from_row)?;
            rows.collect()
        })
    }

    async fn revoke_api_key(&self, id: &str, now: i64) -> Result<RevokeOutcome, StoreError> {
        let id = id.to_owned();
        self.write(move |c| {
            let tx = write_tx(c)?;
            let revoked: Option<Option<i64>> = tx
                .query_row(
                    "SELECT revoked_at FROM api_keys WHERE id = ?1",
                    [&id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(map_err)?;
            let outcome = match revoked {
                None => RevokeOutcome::NotFound,
                Some(Some(_)) => RevokeOutcome::AlreadyRevoked,
                Some(None) => {
                    tx.execute(
                        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1",
                        params![id, now],
                    )
                    .map_err(map_err)?;
                    RevokeOutcome::Revoked
                }
            };
            tx.commit().map_err(map_err)?;
            Ok(outcome)
        })
        .await
    }

    async fn record_api_key_use(&self, uses: &[(String, i64)]) -> Result<(), StoreError> {
        if uses.is_empty() {
            return Ok(());
        }
        let uses = uses.to_vec();
        self.write(move |c| {
            let tx = write_tx(c)?;
            {
                let mut stmt = tx
                    .prepare_cached(
                        "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?2)
                         WHERE id = ?1",
                    )
                    .map_err(map_err)?;
                for (id, at) in &uses {
                    stmt.execute(params![id, at]).map_err(map_err)?;
                }
            }
            tx.commit().map_err(map_err)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn conformance() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("amanah.db")).unwrap();
        crate::conformance::run_all(&store).await;
    }

    #[test]
    fn reopening_keeps_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("amanah.db");
        drop(SqliteStore::open(&path).unwrap());
        let again = SqliteStore::open(&path).unwrap();
        let v: i64 = again
            .read(|c| {
                c.query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                    r.get(0)
                })
            })
            .unwrap();
        assert_eq!(v, MIGRATIONS.last().unwrap().0);
    }

    #[test]
    fn refuses_a_schema_from_the_future() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("amanah.db");
        drop(SqliteStore::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute("INSERT INTO schema_migrations (version) VALUES (999)", [])
            .unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(
            matches!(err, StoreError::SchemaTooNew { found: 999, .. }),
            "{err}"
        );
    }

    /// Two processes writing the same file (the gateway flushing last-used
    /// times while the CLI revokes) must wait for each other, never fail
    /// with "database is locked".
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_on_one_file_wait_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("amanah.db");
        let gateway = SqliteStore::open(&path).unwrap();
        let cli = SqliteStore::open(&path).unwrap();
        for i in 0..50 {
            let mut r = crate::conformance::record_for_tests(&format!("{i:08x}"), 1_000);
            r.name = format!("k{i}");
            gateway.insert_api_key(&r).await.unwrap();
        }
        let flusher = tokio::spawn(async move {
            for t in 0..400 {
                let uses: Vec<(String, i64)> =
                    (0..50).map(|i| (format!("{i:08x}"), 2_000 + t)).collect();
                gateway.record_api_key_use(&uses).await.unwrap();
            }
        });
        for i in 0..50 {
            cli.revoke_api_key(&format!("{i:08x}"), 3_000)
                .await
                .unwrap();
        }
        flusher.await.unwrap();
        for r in cli.list_api_keys().await.unwrap() {
            assert_eq!(r.revoked_at, Some(3_000));
        }
    }

    /// The WAL and shared-memory files hold database pages too; SQLite gives
    /// them the main file's mode, so that must be private before first open.
    #[cfg(unix)]
    #[tokio::test]
    async fn database_and_its_wal_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("amanah.db");
        let store = SqliteStore::open(&path).unwrap();
        crate::conformance::run_all(&store).await; // writes, so the WAL exists
        for suffix in ["", "-wal", "-shm"] {
            let file = dir.path().join(format!("amanah.db{suffix}"));
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", file.display());
        }
        // An existing database with a loose mode is tightened on open.
        drop(store);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(SqliteStore::open(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }
}
