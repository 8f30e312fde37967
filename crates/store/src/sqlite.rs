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

mod audit;
mod keyring;
mod records;

pub use audit::{AuditSync, SqliteAuditStore};
pub use keyring::SqliteKeyringStore;

use crate::{
    ApiKeyRecord, GrantRecord, KeyUse, RevokeOutcome, RoleRecord, RotateOutcome, ServiceBinding,
    SessionRecord, SettingRecord, Store, StoreError, UserRecord,
};

/// Versioned schema migrations, applied in order, each in a transaction.
/// Never edit a released entry: append a new one.
const MIGRATIONS: &[(i64, &str)] = &[
    (
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
    ),
    (
        2,
        "ALTER TABLE api_keys ADD COLUMN last_used_ip TEXT;
         ALTER TABLE api_keys ADD COLUMN scopes TEXT;
         ALTER TABLE api_keys ADD COLUMN service TEXT;
         ALTER TABLE api_keys ADD COLUMN instance TEXT;
         ALTER TABLE api_keys ADD COLUMN replaced_by TEXT;
         -- One live key per service instance: a leaked key names one machine.
         CREATE UNIQUE INDEX api_keys_live_service ON api_keys (service, instance)
             WHERE service IS NOT NULL AND revoked_at IS NULL AND replaced_by IS NULL;

         CREATE TABLE users (
            id               TEXT PRIMARY KEY,
            username         TEXT NOT NULL UNIQUE,
            roles            TEXT NOT NULL,
            password_hash    TEXT,
            setup_tag        BLOB,
            setup_expires_at INTEGER,
            totp_sealed      BLOB,
            totp_enabled     INTEGER NOT NULL,
            totp_last_step   INTEGER,
            failed_logins    INTEGER NOT NULL,
            locked_until     INTEGER,
            lockouts         INTEGER NOT NULL,
            created_at       INTEGER NOT NULL,
            updated_at       INTEGER NOT NULL,
            disabled_at      INTEGER,
            version          INTEGER NOT NULL
         ) STRICT;

         CREATE TABLE recovery_codes (
            user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            tag     BLOB NOT NULL,
            used_at INTEGER,
            PRIMARY KEY (user_id, tag)
         ) STRICT;

         CREATE TABLE sessions (
            tag          BLOB PRIMARY KEY,
            user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            created_at   INTEGER NOT NULL,
            last_seen_at INTEGER NOT NULL,
            expires_at   INTEGER NOT NULL,
            revoked_at   INTEGER
         ) STRICT;
         CREATE INDEX sessions_by_user ON sessions (user_id);

         CREATE TABLE roles (
            name        TEXT PRIMARY KEY,
            description TEXT NOT NULL,
            permissions TEXT NOT NULL,
            inherits    TEXT NOT NULL,
            created_at  INTEGER NOT NULL,
            updated_at  INTEGER NOT NULL
         ) STRICT;

         CREATE TABLE grants (
            id         TEXT PRIMARY KEY,
            principal  TEXT NOT NULL,
            role       TEXT NOT NULL,
            not_before INTEGER,
            not_after  INTEGER,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL
         ) STRICT;
         CREATE INDEX grants_by_principal ON grants (principal);",
    ),
    (3, records::MIGRATION),
    (4, records::MIGRATION_TENANTS),
    (5, records::MIGRATION_RECORD_TENANTS),
    (
        6,
        "CREATE TABLE settings (
            name       TEXT PRIMARY KEY,
            value      TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL
         ) STRICT;",
    ),
];

const READERS: usize = 4;

#[derive(Clone)]
pub struct SqliteStore {
    db: Arc<Db>,
}

/// One SQLite file: a writer connection and a small pool of readers.
struct Db {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.db.path)
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
        Ok(Self {
            db: Arc::new(Db::open(path, MIGRATIONS)?),
        })
    }

    pub fn path(&self) -> &Path {
        &self.db.path
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        self.db.read(f)
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        Arc::clone(&self.db).write(f).await
    }
}

impl Db {
    /// Opens (creating if needed) the file at `path`, owner-only, and
    /// applies `migrations`.
    fn open(path: &Path, migrations: &[(i64, &str)]) -> Result<Self, StoreError> {
        make_private(path)?;
        let mut writer = open_connection(path, true)?;
        migrate(&mut writer, migrations)?;
        let readers = (0..READERS)
            .map(|_| open_connection(path, false))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers: Mutex::new(readers),
        })
    }

    /// Commits on the writer connection wait for the OS, not the disk.
    fn set_synchronous_normal(&self) -> Result<(), StoreError> {
        self.writer
            .lock()
            .map_err(unavailable)?
            .execute_batch("PRAGMA synchronous = NORMAL;")
            .map_err(unavailable)
    }

    /// Runs a read on a pooled connection, on the calling thread.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let conn = self
            .readers
            .lock()
            .map_err(unavailable)?
            .pop()
            .map(Ok)
            .unwrap_or_else(|| open_connection(&self.path, false))?;
        let result = f(&conn).map_err(map_err);
        if let Ok(mut pool) = self.readers.lock() {
            if pool.len() < READERS {
                pool.push(conn);
            }
        }
        result
    }

    /// Runs a write on the single writer connection, off the async threads.
    async fn write<T: Send + 'static>(
        self: Arc<Self>,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        tokio::task::spawn_blocking(move || {
            let mut conn = self.writer.lock().map_err(unavailable)?;
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
    // secure_delete: a deleted row's bytes are overwritten, not left in
    // free pages, so an erased subject's metadata and a destroyed data key
    // leave the file (the WAL is checkpointed where that matters).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;",
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
fn migrate(conn: &mut Connection, migrations: &[(i64, &str)]) -> Result<(), StoreError> {
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
    let supported = migrations.last().map_or(0, |m| m.0);
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for &(version, sql) in migrations.iter().filter(|m| m.0 > current) {
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

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads a JSON column; a bad value is corruption, reported with its column.
fn json_column<T: serde::de::DeserializeOwned>(
    row: &rusqlite::Row<'_>,
    idx: usize,
) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn optional_json_column<T: serde::de::DeserializeOwned>(
    row: &rusqlite::Row<'_>,
    idx: usize,
) -> rusqlite::Result<Option<T>> {
    match row.get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(_) => json_column(row, idx).map(Some),
    }
}

const KEY_COLUMNS: &str = "id, name, roles, tag, last4, created_at, expires_at, revoked_at, \
     last_used_at, last_used_ip, scopes, service, instance, replaced_by";

fn key_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    let service: Option<String> = row.get(11)?;
    let instance: Option<String> = row.get(12)?;
    Ok(ApiKeyRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        roles: json_column(row, 2)?,
        tag: row.get(3)?,
        last4: row.get(4)?,
        created_at: row.get(5)?,
        expires_at: row.get(6)?,
        revoked_at: row.get(7)?,
        last_used_at: row.get(8)?,
        last_used_ip: row.get(9)?,
        scopes: optional_json_column(row, 10)?,
        service: match (service, instance) {
            (Some(service), Some(instance)) => Some(ServiceBinding { service, instance }),
            _ => None,
        },
        replaced_by: row.get(13)?,
    })
}

/// Inserts a key inside an open transaction. An expired service key still
/// holds its instance's slot in the uniqueness index; it is retired here so
/// that expiry frees the slot as revocation does.
fn insert_key(tx: &rusqlite::Transaction<'_>, r: &ApiKeyRecord) -> Result<(), StoreError> {
    let roles = to_json(&r.roles)?;
    let scopes = r.scopes.as_ref().map(to_json).transpose()?;
    let (service, instance) = match &r.service {
        Some(b) => (Some(b.service.as_str()), Some(b.instance.as_str())),
        None => (None, None),
    };
    if service.is_some() {
        tx.execute(
            "UPDATE api_keys SET revoked_at = ?3
             WHERE service = ?1 AND instance = ?2 AND revoked_at IS NULL
               AND replaced_by IS NULL AND expires_at <= ?3",
            params![service, instance, r.created_at],
        )
        .map_err(map_err)?;
    }
    tx.execute(
        &format!(
            "INSERT INTO api_keys ({KEY_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
        ),
        params![
            r.id,
            r.name,
            roles,
            r.tag,
            r.last4,
            r.created_at,
            r.expires_at,
            r.revoked_at,
            r.last_used_at,
            r.last_used_ip,
            scopes,
            service,
            instance,
            r.replaced_by
        ],
    )
    .map_err(map_err)?;
    Ok(())
}

const USER_COLUMNS: &str = "id, username, roles, password_hash, setup_tag, setup_expires_at, \
     totp_sealed, totp_enabled, totp_last_step, failed_logins, locked_until, lockouts, \
     created_at, updated_at, disabled_at, version";

fn user_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: row.get(0)?,
        username: row.get(1)?,
        roles: json_column(row, 2)?,
        password_hash: row.get(3)?,
        setup_tag: row.get(4)?,
        setup_expires_at: row.get(5)?,
        totp_sealed: row.get(6)?,
        totp_enabled: row.get(7)?,
        totp_last_step: row.get(8)?,
        failed_logins: row.get(9)?,
        locked_until: row.get(10)?,
        lockouts: row.get(11)?,
        created_at: row.get(12)?,
        updated_at: row.get(13)?,
        disabled_at: row.get(14)?,
        version: row.get(15)?,
    })
}

const SESSION_COLUMNS: &str = "tag, user_id, created_at, last_seen_at, expires_at, revoked_at";

fn session_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        tag: row.get(0)?,
        user_id: row.get(1)?,
        created_at: row.get(2)?,
        last_seen_at: row.get(3)?,
        expires_at: row.get(4)?,
        revoked_at: row.get(5)?,
    })
}

fn role_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RoleRecord> {
    Ok(RoleRecord {
        name: row.get(0)?,
        description: row.get(1)?,
        permissions: json_column(row, 2)?,
        inherits: json_column(row, 3)?,
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

const GRANT_COLUMNS: &str = "id, principal, role, not_before, not_after, created_at, created_by";

fn grant_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<GrantRecord> {
    Ok(GrantRecord {
        id: row.get(0)?,
        principal: row.get(1)?,
        role: row.get(2)?,
        not_before: row.get(3)?,
        not_after: row.get(4)?,
        created_at: row.get(5)?,
        created_by: row.get(6)?,
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
        self.write(move |c| {
            let tx = write_tx(c)?;
            insert_key(&tx, &r)?;
            tx.commit().map_err(map_err)
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

    async fn rotate_api_key(
        &self,
        old_id: &str,
        successor: &ApiKeyRecord,
        grace_until: i64,
        now: i64,
    ) -> Result<RotateOutcome, StoreError> {
        let old_id = old_id.to_owned();
        let successor = successor.clone();
        self.write(move |c| {
            let tx = write_tx(c)?;
            let Some(old) = tx
                .query_row(
                    &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1"),
                    [&old_id],
                    key_from_row,
                )
                .optional()
                .map_err(map_err)?
            else {
                return Ok(RotateOutcome::NotFound);
            };
            if !old.status(now).accepts() {
                return Ok(RotateOutcome::NotActive);
            }
            let revoked_successor = match &old.replaced_by {
                Some(previous) => {
                    tx.execute(
                        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                        params![previous, now],
                    )
                    .map_err(map_err)?;
                    Some(previous.clone())
                }
                None => None,
            };
            // The old key leaves the service-instance slot before its
            // successor takes it.
            let expires_at = if old.replaced_by.is_some() {
                old.expires_at
            } else {
                old.expires_at.min(grace_until)
            };
            tx.execute(
                "UPDATE api_keys SET replaced_by = ?2, expires_at = ?3 WHERE id = ?1",
                params![old_id, successor.id, expires_at],
            )
            .map_err(map_err)?;
            insert_key(&tx, &successor)?;
            tx.commit().map_err(map_err)?;
            Ok(RotateOutcome::Rotated { revoked_successor })
        })
        .await
    }

    async fn record_api_key_use(&self, uses: &[KeyUse]) -> Result<(), StoreError> {
        if uses.is_empty() {
            return Ok(());
        }
        let uses = uses.to_vec();
        self.write(move |c| {
            let tx = write_tx(c)?;
            {
                // The address goes with the newest time only.
                let mut stmt = tx
                    .prepare_cached(
                        "UPDATE api_keys SET
                            last_used_ip = CASE WHEN ?2 >= COALESCE(last_used_at, 0)
                                THEN COALESCE(?3, last_used_ip) ELSE last_used_ip END,
                            last_used_at = MAX(COALESCE(last_used_at, 0), ?2)
                         WHERE id = ?1",
                    )
                    .map_err(map_err)?;
                for u in &uses {
                    stmt.execute(params![u.id, u.at, u.ip]).map_err(map_err)?;
                }
            }
            tx.commit().map_err(map_err)
        })
        .await
    }

    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let u = user.clone();
        let roles = to_json(&u.roles)?;
        self.write(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO users ({USER_COLUMNS}) VALUES
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
                ),
                params![
                    u.id,
                    u.username,
                    roles,
                    u.password_hash,
                    u.setup_tag,
                    u.setup_expires_at,
                    u.totp_sealed,
                    u.totp_enabled,
                    u.totp_last_step,
                    u.failed_logins,
                    u.locked_until,
                    u.lockouts,
                    u.created_at,
                    u.updated_at,
                    u.disabled_at,
                    u.version
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn user(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))?
                .query_row([id], user_from_row)
                .optional()
        })
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE username = ?1"
            ))?
            .query_row([username], user_from_row)
            .optional()
        })
    }

    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id"
            ))?;
            let rows = stmt.query_map([], user_from_row)?;
            rows.collect()
        })
    }

    async fn update_user(&self, user: &UserRecord) -> Result<i64, StoreError> {
        let u = user.clone();
        let roles = to_json(&u.roles)?;
        self.write(move |c| {
            let changed = c
                .execute(
                    "UPDATE users SET username = ?3, roles = ?4, password_hash = ?5,
                        setup_tag = ?6, setup_expires_at = ?7, totp_sealed = ?8,
                        totp_enabled = ?9, totp_last_step = ?10, failed_logins = ?11,
                        locked_until = ?12, lockouts = ?13, updated_at = ?14,
                        disabled_at = ?15, version = version + 1
                     WHERE id = ?1 AND version = ?2",
                    params![
                        u.id,
                        u.version,
                        u.username,
                        roles,
                        u.password_hash,
                        u.setup_tag,
                        u.setup_expires_at,
                        u.totp_sealed,
                        u.totp_enabled,
                        u.totp_last_step,
                        u.failed_logins,
                        u.locked_until,
                        u.lockouts,
                        u.updated_at,
                        u.disabled_at
                    ],
                )
                .map_err(map_err)?;
            if changed == 1 {
                Ok(u.version + 1)
            } else {
                Err(StoreError::Stale)
            }
        })
        .await
    }

    async fn set_recovery_codes(&self, user_id: &str, tags: &[Vec<u8>]) -> Result<(), StoreError> {
        let user_id = user_id.to_owned();
        let tags = tags.to_vec();
        self.write(move |c| {
            let tx = write_tx(c)?;
            tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [&user_id])
                .map_err(map_err)?;
            for tag in &tags {
                tx.execute(
                    "INSERT INTO recovery_codes (user_id, tag) VALUES (?1, ?2)",
                    params![user_id, tag],
                )
                .map_err(map_err)?;
            }
            tx.commit().map_err(map_err)
        })
        .await
    }

    async fn consume_recovery_code(
        &self,
        user_id: &str,
        tag: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let user_id = user_id.to_owned();
        let tag = tag.to_vec();
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE recovery_codes SET used_at = ?3
                     WHERE user_id = ?1 AND tag = ?2 AND used_at IS NULL",
                    params![user_id, tag, now],
                )
                .map_err(map_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn unused_recovery_codes(&self, user_id: &str) -> Result<u32, StoreError> {
        self.read(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL",
                [user_id],
                |r| r.get(0),
            )
        })
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let s = session.clone();
        self.write(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                ),
                params![
                    s.tag,
                    s.user_id,
                    s.created_at,
                    s.last_seen_at,
                    s.expires_at,
                    s.revoked_at
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn session(&self, tag: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE tag = ?1"
            ))?
            .query_row([tag], session_from_row)
            .optional()
        })
    }

    async fn touch_session(&self, tag: &[u8], now: i64) -> Result<(), StoreError> {
        let tag = tag.to_vec();
        self.write(move |c| {
            c.execute(
                "UPDATE sessions SET last_seen_at = MAX(last_seen_at, ?2) WHERE tag = ?1",
                params![tag, now],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn revoke_session(&self, tag: &[u8], now: i64) -> Result<bool, StoreError> {
        let tag = tag.to_vec();
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE sessions SET revoked_at = ?2 WHERE tag = ?1 AND revoked_at IS NULL",
                    params![tag, now],
                )
                .map_err(map_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn revoke_user_sessions(&self, user_id: &str, now: i64) -> Result<u64, StoreError> {
        let user_id = user_id.to_owned();
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE sessions SET revoked_at = ?2
                     WHERE user_id = ?1 AND revoked_at IS NULL",
                    params![user_id, now],
                )
                .map_err(map_err)?;
            Ok(n as u64)
        })
        .await
    }

    async fn put_role(&self, role: &RoleRecord) -> Result<(), StoreError> {
        let r = role.clone();
        let permissions = to_json(&r.permissions)?;
        let inherits = to_json(&r.inherits)?;
        self.write(move |c| {
            // An update keeps the original creation time.
            c.execute(
                "INSERT INTO roles (name, description, permissions, inherits, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (name) DO UPDATE SET description = excluded.description,
                    permissions = excluded.permissions, inherits = excluded.inherits,
                    updated_at = excluded.updated_at",
                params![r.name, r.description, permissions, inherits, r.created_at, r.updated_at],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn delete_role(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.write(move |c| {
            let n = c
                .execute("DELETE FROM roles WHERE name = ?1", [&name])
                .map_err(map_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn setting(&self, name: &str) -> Result<Option<SettingRecord>, StoreError> {
        let name = name.to_owned();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT name, value, updated_at, updated_by FROM settings WHERE name = ?1",
            )?
            .query_row([&name], |r| {
                Ok(SettingRecord {
                    name: r.get(0)?,
                    value: r.get(1)?,
                    updated_at: r.get(2)?,
                    updated_by: r.get(3)?,
                })
            })
            .optional()
        })
    }

    async fn put_setting(&self, setting: &SettingRecord) -> Result<(), StoreError> {
        let s = setting.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO settings (name, value, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value,
                     updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                params![s.name, s.value, s.updated_at, s.updated_by],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn list_roles(&self) -> Result<Vec<RoleRecord>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT name, description, permissions, inherits, created_at, updated_at
                 FROM roles ORDER BY name",
            )?;
            let rows = stmt.query_map([], role_from_row)?;
            rows.collect()
        })
    }

    async fn insert_grant(&self, grant: &GrantRecord) -> Result<(), StoreError> {
        let g = grant.clone();
        self.write(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO grants ({GRANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ),
                params![
                    g.id,
                    g.principal,
                    g.role,
                    g.not_before,
                    g.not_after,
                    g.created_at,
                    g.created_by
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn delete_grant(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |c| {
            let n = c
                .execute("DELETE FROM grants WHERE id = ?1", [&id])
                .map_err(map_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn list_grants(&self, principal: Option<&str>) -> Result<Vec<GrantRecord>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {GRANT_COLUMNS} FROM grants
                 WHERE ?1 IS NULL OR principal = ?1 ORDER BY created_at, id"
            ))?;
            let rows = stmt.query_map([principal], grant_from_row)?;
            rows.collect()
        })
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
        crate::conformance::run_records(&store).await;
    }

    #[tokio::test]
    async fn audit_conformance() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteAuditStore::open(&dir.path().join("audit.db")).unwrap();
        crate::conformance::run_audit(&store).await;
    }

    #[tokio::test]
    async fn keyring_conformance() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteKeyringStore::open(&dir.path().join("keys.db")).unwrap();
        crate::conformance::run_keyring(&store).await;
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

    /// A database written by the previous release keeps its keys.
    #[tokio::test]
    async fn upgrades_a_version_1_database_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("amanah.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE schema_migrations (
                    version INTEGER PRIMARY KEY,
                    applied_at INTEGER NOT NULL DEFAULT (unixepoch())) STRICT;
                 INSERT INTO schema_migrations (version) VALUES (1);",
            )
            .unwrap();
            c.execute_batch(MIGRATIONS[0].1).unwrap();
            c.execute(
                "INSERT INTO api_keys VALUES ('0badc0de', 'old', '[\"viewer\"]', x'07', 'wxyz',
                 10, 20, NULL, 15)",
                [],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let key = store.api_key("0badc0de").await.unwrap().unwrap();
        assert_eq!(key.roles, ["viewer"]);
        assert_eq!(key.last_used_at, Some(15));
        assert_eq!(
            (key.scopes, key.service, key.replaced_by),
            (None, None, None)
        );
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
                let uses: Vec<KeyUse> = (0..50)
                    .map(|i| KeyUse {
                        id: format!("{i:08x}"),
                        at: 2_000 + t,
                        ip: None,
                    })
                    .collect();
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

    fn file_holds(dir: &Path, name: &str, needle: &[u8]) -> bool {
        ["", "-wal"].iter().any(|suffix| {
            std::fs::read(dir.join(format!("{name}{suffix}")))
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        })
    }

    /// Crypto-shredding works only if the destroyed key's bytes leave the
    /// disk: not in a free page of keys.db, not in its WAL.
    #[tokio::test]
    async fn a_destroyed_data_key_leaves_the_key_file() {
        use crate::KeyringStore;
        let dir = tempfile::tempdir().unwrap();
        let keys = SqliteKeyringStore::open(&dir.path().join("keys.db")).unwrap();
        let wrapped: Vec<u8> = (0..61u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        let key = crate::StoredDataKey {
            owner: "subject:shred-me".into(),
            kek_version: 1,
            wrapped: wrapped.clone(),
            created_at: 1,
        };
        keys.insert_data_key(&key).await.unwrap();
        let other = crate::conformance::data_key_for_tests("subject:keep", 1, 0xee);
        keys.insert_data_key(&other).await.unwrap();
        assert!(
            file_holds(dir.path(), "keys.db", &wrapped),
            "written at all"
        );
        assert!(keys.destroy_data_key("subject:shred-me").await.unwrap());
        assert!(!file_holds(dir.path(), "keys.db", &wrapped));
        assert!(!file_holds(dir.path(), "keys.db", b"subject:shred-me"));
        assert_eq!(keys.data_key("subject:keep").await.unwrap(), Some(other));
    }

    /// After erasure the subject's id and record metadata are gone from the
    /// records file too (its payloads are ciphertext under a destroyed key).
    #[tokio::test]
    async fn an_erased_subject_leaves_the_records_file() {
        use crate::RecordStore;
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("amanah.db")).unwrap();
        let mut r = crate::conformance::record_row_for_tests("rec-1", "subject-Zq81xw", 1);
        r.meta.kind = "kind-Pw7c".into();
        store.insert_record(&r).await.unwrap();
        store
            .insert_record(&crate::conformance::record_row_for_tests(
                "rec-2",
                "subject-other",
                1,
            ))
            .await
            .unwrap();
        assert!(file_holds(dir.path(), "amanah.db", b"subject-Zq81xw"));
        store.erase_subject("subject-Zq81xw").await.unwrap();
        for needle in [&b"subject-Zq81xw"[..], b"kind-Pw7c", b"sealed rec-1"] {
            assert!(!file_holds(dir.path(), "amanah.db", needle));
        }
        assert!(store.record("rec-2").await.unwrap().is_some());
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
