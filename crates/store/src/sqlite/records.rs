//! [`RecordStore`] on the embedded database (migration 3).

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::{json_column, map_err, to_json, write_tx, SqliteStore};
use crate::{
    ConsentEvent, DeleteOutcome, RecordMeta, RecordRow, RecordStore, StoreError, SubjectErasure,
};

pub(super) const MIGRATION: &str = "
    CREATE TABLE records (
        id           TEXT PRIMARY KEY,
        subject      TEXT NOT NULL,
        kind         TEXT NOT NULL,
        data_class   TEXT NOT NULL,
        region       TEXT,
        purpose      TEXT,
        content_type TEXT NOT NULL,
        redacted     INTEGER NOT NULL,
        size         INTEGER NOT NULL,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER,
        legal_hold   INTEGER NOT NULL,
        ciphertext   BLOB NOT NULL
    ) STRICT;
    CREATE INDEX records_by_subject ON records (subject, created_at);
    -- What the retention sweeper reads: only deletable rows are indexed.
    CREATE INDEX records_by_expiry ON records (expires_at)
        WHERE expires_at IS NOT NULL AND legal_hold = 0;

    CREATE TABLE consents (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        subject     TEXT NOT NULL,
        purpose     TEXT NOT NULL,
        granted     INTEGER NOT NULL,
        at          INTEGER NOT NULL,
        evidence    TEXT NOT NULL,
        recorded_by TEXT NOT NULL
    ) STRICT;
    CREATE INDEX consents_by_subject ON consents (subject, purpose, at);

    CREATE TABLE subject_regions (
        subject TEXT PRIMARY KEY,
        regions TEXT NOT NULL
    ) STRICT;";

pub(super) const MIGRATION_TENANTS: &str = "
    CREATE TABLE tenant_regions (
        tenant  TEXT PRIMARY KEY,
        regions TEXT NOT NULL
    ) STRICT;";

pub(super) const MIGRATION_RECORD_TENANTS: &str = "
    ALTER TABLE records ADD COLUMN tenant TEXT;
    CREATE INDEX records_by_tenant ON records (tenant) WHERE tenant IS NOT NULL;";

const META_COLUMNS: &str = "id, subject, kind, data_class, region, purpose, content_type, \
     redacted, size, created_at, expires_at, legal_hold, tenant";

fn meta_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RecordMeta> {
    Ok(RecordMeta {
        id: row.get(0)?,
        subject: row.get(1)?,
        kind: row.get(2)?,
        data_class: row.get(3)?,
        region: row.get(4)?,
        purpose: row.get(5)?,
        content_type: row.get(6)?,
        redacted: row.get(7)?,
        size: row.get(8)?,
        created_at: row.get(9)?,
        expires_at: row.get(10)?,
        legal_hold: row.get(11)?,
        tenant: row.get(12)?,
    })
}

fn record_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        meta: meta_from_row(row)?,
        ciphertext: row.get(13)?,
    })
}

const CONSENT_COLUMNS: &str = "subject, purpose, granted, at, evidence, recorded_by";

fn consent_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ConsentEvent> {
    Ok(ConsentEvent {
        subject: row.get(0)?,
        purpose: row.get(1)?,
        granted: row.get(2)?,
        at: row.get(3)?,
        evidence: row.get(4)?,
        recorded_by: row.get(5)?,
    })
}

#[async_trait]
impl RecordStore for SqliteStore {
    async fn insert_record(&self, record: &RecordRow) -> Result<(), StoreError> {
        let r = record.clone();
        self.write(move |conn| {
            let m = &r.meta;
            conn.execute(
                &format!(
                    "INSERT INTO records ({META_COLUMNS}, ciphertext)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                ),
                params![
                    m.id,
                    m.subject,
                    m.kind,
                    m.data_class,
                    m.region,
                    m.purpose,
                    m.content_type,
                    m.redacted,
                    m.size,
                    m.created_at,
                    m.expires_at,
                    m.legal_hold,
                    m.tenant,
                    r.ciphertext
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn record(&self, id: &str) -> Result<Option<RecordRow>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {META_COLUMNS}, ciphertext FROM records WHERE id = ?1"
            ))?
            .query_row([id], record_from_row)
            .optional()
        })
    }

    async fn list_records(&self, subject: &str) -> Result<Vec<RecordMeta>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {META_COLUMNS} FROM records WHERE subject = ?1 ORDER BY created_at, id"
            ))?;
            let rows = stmt.query_map([subject], meta_from_row)?;
            rows.collect()
        })
    }

    async fn subject_records(&self, subject: &str) -> Result<Vec<RecordRow>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {META_COLUMNS}, ciphertext FROM records
                 WHERE subject = ?1 ORDER BY created_at, id"
            ))?;
            let rows = stmt.query_map([subject], record_from_row)?;
            rows.collect()
        })
    }

    async fn delete_record(&self, id: &str) -> Result<DeleteOutcome, StoreError> {
        let id = id.to_owned();
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            let held: Option<bool> = tx
                .query_row("SELECT legal_hold FROM records WHERE id = ?1", [&id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(map_err)?;
            let outcome = match held {
                None => DeleteOutcome::NotFound,
                Some(true) => DeleteOutcome::Held,
                Some(false) => {
                    tx.execute("DELETE FROM records WHERE id = ?1", [&id])
                        .map_err(map_err)?;
                    DeleteOutcome::Deleted
                }
            };
            tx.commit().map_err(map_err)?;
            Ok(outcome)
        })
        .await
    }

    async fn set_legal_hold(&self, id: &str, hold: bool) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE records SET legal_hold = ?2 WHERE id = ?1",
                    params![id, hold],
                )
                .map_err(map_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn sweep_expired(&self, now: i64, limit: u32) -> Result<Vec<RecordMeta>, StoreError> {
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            let expired = {
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "SELECT {META_COLUMNS} FROM records
                         WHERE expires_at IS NOT NULL AND legal_hold = 0 AND expires_at <= ?1
                         ORDER BY expires_at, id LIMIT ?2"
                    ))
                    .map_err(map_err)?;
                let rows = stmt
                    .query_map(params![now, limit], meta_from_row)
                    .map_err(map_err)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(map_err)?
            };
            {
                let mut delete = tx
                    .prepare_cached("DELETE FROM records WHERE id = ?1")
                    .map_err(map_err)?;
                for m in &expired {
                    delete.execute([&m.id]).map_err(map_err)?;
                }
            }
            tx.commit().map_err(map_err)?;
            Ok(expired)
        })
        .await
    }

    async fn erase_subject(&self, subject: &str) -> Result<SubjectErasure, StoreError> {
        self.erase(Pinned::Subject, subject).await
    }

    async fn erase_tenant(&self, tenant: &str) -> Result<SubjectErasure, StoreError> {
        self.erase(Pinned::Tenant, tenant).await
    }

    async fn record_consent(&self, event: &ConsentEvent) -> Result<(), StoreError> {
        let e = event.clone();
        self.write(move |conn| {
            conn.execute(
                &format!(
                    "INSERT INTO consents ({CONSENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                ),
                params![
                    e.subject,
                    e.purpose,
                    e.granted,
                    e.at,
                    e.evidence,
                    e.recorded_by
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn consents(&self, subject: &str) -> Result<Vec<ConsentEvent>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {CONSENT_COLUMNS} FROM consents WHERE subject = ?1 ORDER BY at, seq"
            ))?;
            let rows = stmt.query_map([subject], consent_from_row)?;
            rows.collect()
        })
    }

    async fn has_consent(&self, subject: &str, purpose: &str) -> Result<bool, StoreError> {
        self.read(|c| {
            let latest: Option<bool> = c
                .prepare_cached(
                    "SELECT granted FROM consents WHERE subject = ?1 AND purpose = ?2
                     ORDER BY at DESC, seq DESC LIMIT 1",
                )?
                .query_row([subject, purpose], |r| r.get(0))
                .optional()?;
            Ok(latest.unwrap_or(false))
        })
    }

    async fn set_subject_regions(
        &self,
        subject: &str,
        regions: Option<&[String]>,
    ) -> Result<(), StoreError> {
        self.set_regions(Pinned::Subject, subject, regions).await
    }

    async fn subject_regions(&self, subject: &str) -> Result<Option<Vec<String>>, StoreError> {
        self.regions(Pinned::Subject, subject)
    }

    async fn set_tenant_regions(
        &self,
        tenant: &str,
        regions: Option<&[String]>,
    ) -> Result<(), StoreError> {
        self.set_regions(Pinned::Tenant, tenant, regions).await
    }

    async fn tenant_regions(&self, tenant: &str) -> Result<Option<Vec<String>>, StoreError> {
        self.regions(Pinned::Tenant, tenant)
    }
}

/// A subject or a tenant: its region-pin table and its column (the same
/// name in `records`).
#[derive(Clone, Copy)]
enum Pinned {
    Subject,
    Tenant,
}

impl Pinned {
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Pinned::Subject => ("subject_regions", "subject"),
            Pinned::Tenant => ("tenant_regions", "tenant"),
        }
    }
}

impl SqliteStore {
    async fn set_regions(
        &self,
        pinned: Pinned,
        id: &str,
        regions: Option<&[String]>,
    ) -> Result<(), StoreError> {
        let (table, column) = pinned.table();
        let id = id.to_owned();
        let regions = regions.map(to_json).transpose()?;
        self.write(move |conn| {
            match regions {
                Some(json) => conn.execute(
                    &format!(
                        "INSERT INTO {table} ({column}, regions) VALUES (?1, ?2)
                         ON CONFLICT ({column}) DO UPDATE SET regions = excluded.regions"
                    ),
                    params![id, json],
                ),
                None => conn.execute(&format!("DELETE FROM {table} WHERE {column} = ?1"), [&id]),
            }
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    /// Deletes the records of a subject or a tenant that are not on hold,
    /// with its region pin (and a subject's consents), in one transaction.
    async fn erase(&self, whose: Pinned, id: &str) -> Result<SubjectErasure, StoreError> {
        let (pins, column) = whose.table();
        let id = id.to_owned();
        self.write(move |conn| {
            let tx = write_tx(conn)?;
            let all = {
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "SELECT {META_COLUMNS} FROM records
                         WHERE {column} = ?1 ORDER BY created_at, id"
                    ))
                    .map_err(map_err)?;
                let rows = stmt.query_map([&id], meta_from_row).map_err(map_err)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(map_err)?
            };
            let (held, deleted): (Vec<_>, Vec<_>) = all.into_iter().partition(|m| m.legal_hold);
            tx.execute(
                &format!("DELETE FROM records WHERE {column} = ?1 AND legal_hold = 0"),
                [&id],
            )
            .map_err(map_err)?;
            let consents_deleted = match whose {
                Pinned::Subject => tx
                    .execute("DELETE FROM consents WHERE subject = ?1", [&id])
                    .map_err(map_err)? as u64,
                Pinned::Tenant => 0,
            };
            tx.execute(&format!("DELETE FROM {pins} WHERE {column} = ?1"), [&id])
                .map_err(map_err)?;
            tx.commit().map_err(map_err)?;
            // secure_delete zeroed the rows in their pages; the WAL still
            // holds older page images with their metadata. Best effort: a
            // busy reader only delays this to the next automatic
            // checkpoint, and the payloads are unreadable once the data
            // keys are destroyed anyway.
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            Ok(SubjectErasure {
                deleted,
                held,
                consents_deleted,
            })
        })
        .await
    }

    fn regions(&self, pinned: Pinned, id: &str) -> Result<Option<Vec<String>>, StoreError> {
        let (table, column) = pinned.table();
        self.read(|c| {
            c.prepare_cached(&format!("SELECT regions FROM {table} WHERE {column} = ?1"))?
                .query_row([id], |r| json_column(r, 0))
                .optional()
        })
    }
}
