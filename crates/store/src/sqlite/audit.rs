//! [`AuditStore`] on its own SQLite file, `<data-dir>/audit.db`: the audit
//! log has its own retention (years) and its own backups, and its writes
//! do not wait behind the records'.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::{map_err, write_tx, Db};
use crate::{AuditRow, AuditStore, CheckpointRow, StoreError};

const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "-- rowid keeps the order rows were written in, whatever seq says.
    CREATE TABLE audit_events (
        row_order    INTEGER PRIMARY KEY AUTOINCREMENT,
        seq          INTEGER NOT NULL UNIQUE,
        time_unix_ms INTEGER NOT NULL,
        event        TEXT NOT NULL,
        prev_hash    BLOB NOT NULL,
        hash         BLOB NOT NULL
    ) STRICT;
    CREATE INDEX audit_events_by_time ON audit_events (time_unix_ms);

    CREATE TABLE audit_checkpoints (
        seq          INTEGER PRIMARY KEY,
        time_unix_ms INTEGER NOT NULL,
        text         TEXT NOT NULL
    ) STRICT;",
)];

#[derive(Clone)]
pub struct SqliteAuditStore {
    db: Arc<Db>,
}

impl std::fmt::Debug for SqliteAuditStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteAuditStore")
            .field("path", &self.db.path)
            .finish()
    }
}

/// When an appended event counts as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditSync {
    /// Each commit waits for the disk (`synchronous = FULL`): an event
    /// survives a power loss.
    #[default]
    Full,
    /// Each commit waits for the operating system (`synchronous =
    /// NORMAL` in WAL mode): an event survives the gateway's crash (even
    /// SIGKILL), not the machine's; the disk catches up at WAL
    /// checkpoints.
    Normal,
}

impl SqliteAuditStore {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, AuditSync::Full)
    }

    pub fn open_with(path: &Path, sync: AuditSync) -> Result<Self, StoreError> {
        let db = Db::open(path, MIGRATIONS)?;
        if sync == AuditSync::Normal {
            db.set_synchronous_normal()?;
        }
        Ok(Self { db: Arc::new(db) })
    }

    pub fn path(&self) -> &Path {
        &self.db.path
    }
}

const COLUMNS: &str = "seq, time_unix_ms, event, prev_hash, hash";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        seq: r.get(0)?,
        time_unix_ms: r.get(1)?,
        event: r.get(2)?,
        prev_hash: r.get(3)?,
        hash: r.get(4)?,
    })
}

#[async_trait]
impl AuditStore for SqliteAuditStore {
    async fn append(&self, rows: &[AuditRow]) -> Result<(), StoreError> {
        let rows = rows.to_vec();
        Arc::clone(&self.db)
            .write(move |conn| {
                let tx = write_tx(conn)?;
                {
                    let mut insert = tx
                        .prepare_cached(&format!(
                            "INSERT INTO audit_events ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
                        ))
                        .map_err(map_err)?;
                    for r in &rows {
                        insert
                            .execute(params![r.seq, r.time_unix_ms, r.event, r.prev_hash, r.hash])
                            .map_err(map_err)?;
                    }
                }
                // synchronous = FULL: the commit returns once the WAL is on
                // disk, so an answered request's event survives a crash.
                tx.commit().map_err(map_err)
            })
            .await
    }

    async fn last(&self) -> Result<Option<AuditRow>, StoreError> {
        self.db.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM audit_events ORDER BY row_order DESC LIMIT 1"
            ))?
            .query_row([], row)
            .optional()
        })
    }

    async fn events_from(&self, from: i64, limit: u32) -> Result<Vec<AuditRow>, StoreError> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM audit_events
                 WHERE row_order >= COALESCE(
                     (SELECT MIN(row_order) FROM audit_events WHERE seq >= ?1), 9223372036854775807)
                 ORDER BY row_order LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![from, limit], row)?;
            rows.collect()
        })
    }

    async fn events_by_row(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, AuditRow)>, StoreError> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS}, row_order FROM audit_events WHERE row_order > ?1
                 ORDER BY row_order LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![after, limit], |r| Ok((r.get(5)?, row(r)?)))?;
            rows.collect()
        })
    }

    async fn last_rows(&self, limit: u32) -> Result<Vec<(i64, AuditRow)>, StoreError> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT * FROM (SELECT {COLUMNS}, row_order FROM audit_events
                 ORDER BY row_order DESC LIMIT ?1) ORDER BY row_order"
            ))?;
            let rows = stmt.query_map(params![limit], |r| Ok((r.get(5)?, row(r)?)))?;
            rows.collect()
        })
    }

    async fn events_since(
        &self,
        time_unix_ms: i64,
        limit: u32,
    ) -> Result<Vec<AuditRow>, StoreError> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM audit_events WHERE time_unix_ms >= ?1
                 ORDER BY row_order LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![time_unix_ms, limit], row)?;
            rows.collect()
        })
    }

    async fn put_checkpoint(&self, checkpoint: &CheckpointRow) -> Result<(), StoreError> {
        let cp = checkpoint.clone();
        Arc::clone(&self.db)
            .write(move |conn| {
                conn.execute(
                    "INSERT INTO audit_checkpoints (seq, time_unix_ms, text) VALUES (?1, ?2, ?3)",
                    params![cp.seq, cp.time_unix_ms, cp.text],
                )
                .map_err(map_err)?;
                Ok(())
            })
            .await
    }

    async fn checkpoints(&self) -> Result<Vec<CheckpointRow>, StoreError> {
        self.db.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, time_unix_ms, text FROM audit_checkpoints ORDER BY seq",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(CheckpointRow {
                    seq: r.get(0)?,
                    time_unix_ms: r.get(1)?,
                    text: r.get(2)?,
                })
            })?;
            rows.collect()
        })
    }

    async fn prune_before(&self, seq_bound: i64) -> Result<u64, StoreError> {
        Arc::clone(&self.db)
            .write(move |conn| {
                let tx = write_tx(conn)?;
                let anchored: bool = tx
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM audit_checkpoints WHERE seq = ?1)",
                        [seq_bound],
                        |r| r.get(0),
                    )
                    .map_err(map_err)?;
                if !anchored {
                    return Err(StoreError::Corrupt(format!(
                        "no checkpoint at sequence {seq_bound}: the audit log is pruned only up to a signed checkpoint"
                    )));
                }
                let n = tx
                    .execute("DELETE FROM audit_events WHERE seq < ?1", [seq_bound])
                    .map_err(map_err)?;
                tx.commit().map_err(map_err)?;
                Ok(n as u64)
            })
            .await
    }
}
