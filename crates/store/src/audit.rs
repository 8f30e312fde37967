//! The audit log's storage: chained events and signed checkpoints, as
//! `amanah-audit` makes them. The store keeps what it is given and hands
//! it back in order; it judges nothing (the verifier does, trusting only a
//! checkpoint), so a damaged row is returned as it is, for the verifier to
//! name.

use async_trait::async_trait;

use crate::StoreError;

/// One stored audit event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: i64,
    pub time_unix_ms: i64,
    /// The event in its JSON form.
    pub event: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// One signed checkpoint, in its text form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointRow {
    pub seq: i64,
    pub time_unix_ms: i64,
    pub text: String,
}

#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Appends events in one durable transaction (group commit): all or
    /// none. [`StoreError::Conflict`] if a sequence number is taken.
    async fn append(&self, rows: &[AuditRow]) -> Result<(), StoreError>;

    /// The newest event, to continue the chain after a restart.
    async fn last(&self) -> Result<Option<AuditRow>, StoreError>;

    /// Up to `limit` events with `seq >= from`, in the order they are
    /// stored (by row, not by `seq`: a reordering must stay visible).
    async fn events_from(&self, from: i64, limit: u32) -> Result<Vec<AuditRow>, StoreError>;

    /// Up to `limit` events stored after row position `after` (0: from
    /// the start), each with its position, in the order written: the pages
    /// a verifier reads, whatever the rows' `seq` claim.
    async fn events_by_row(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, AuditRow)>, StoreError>;

    /// The newest `limit` events with their row positions, in the order
    /// written (what `audit tail` prints first).
    async fn last_rows(&self, limit: u32) -> Result<Vec<(i64, AuditRow)>, StoreError>;

    /// Up to `limit` events at or after `time_unix_ms`, oldest first.
    async fn events_since(
        &self,
        time_unix_ms: i64,
        limit: u32,
    ) -> Result<Vec<AuditRow>, StoreError>;

    async fn put_checkpoint(&self, checkpoint: &CheckpointRow) -> Result<(), StoreError>;

    /// Every checkpoint, oldest first.
    async fn checkpoints(&self) -> Result<Vec<CheckpointRow>, StoreError>;

    /// Retention: deletes events with `seq < seq_bound`, where `seq_bound`
    /// must be the sequence number of a checkpoint (so the remaining chain
    /// starts at a signed anchor). Returns how many were deleted.
    async fn prune_before(&self, seq_bound: i64) -> Result<u64, StoreError>;
}
