//! Protected data: records about data subjects (transcripts, documents,
//! call metadata), the consent register and the regions subjects are pinned
//! to. The store keeps record payloads only as envelope ciphertext made by
//! `amanah-crypto`; it never sees a plaintext or a key.

use async_trait::async_trait;

use crate::StoreError;

/// A stored record, payload included.
#[derive(Clone, PartialEq, Eq)]
pub struct RecordRow {
    pub meta: RecordMeta,
    /// Envelope ciphertext under the subject's data key (it names the key
    /// version it was made with).
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for RecordRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordRow")
            .field("meta", &self.meta)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// What is known about a record without decrypting it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordMeta {
    /// Random, unique.
    pub id: String,
    /// The data subject the record is about.
    pub subject: String,
    /// `conversation`, `document`, `call_metadata`, ...: picks the
    /// retention period.
    pub kind: String,
    /// Data class (`general`, `child`, `health`, ...): who may read it.
    pub data_class: String,
    /// Where the data may be processed; `None`: anywhere.
    pub region: Option<String>,
    /// The consent purpose the record was collected under.
    pub purpose: Option<String>,
    /// Media type of the plaintext (`text/plain`, `application/json`...).
    pub content_type: String,
    /// Whether the payload was redacted before it was stored.
    pub redacted: bool,
    /// Plaintext length in bytes.
    pub size: i64,
    pub created_at: i64,
    /// When the retention sweeper deletes it; `None`: kept until erased.
    pub expires_at: Option<i64>,
    /// A legal hold blocks every deletion (sweeper, delete, erasure).
    pub legal_hold: bool,
    /// The tenant (customer organization) the record is kept for, if any:
    /// its data key is the subject's within that tenant.
    pub tenant: Option<String>,
}

/// The result of deleting one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    NotFound,
    /// On legal hold: not deleted.
    Held,
}

/// What erasing a subject's records did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectErasure {
    /// Records deleted.
    pub deleted: Vec<RecordMeta>,
    /// Records kept because they are on legal hold.
    pub held: Vec<RecordMeta>,
    /// Consent events deleted.
    pub consents_deleted: u64,
}

/// One grant or withdrawal of consent: the register is append-only, the
/// latest event for a (subject, purpose) decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentEvent {
    pub subject: String,
    pub purpose: String,
    pub granted: bool,
    pub at: i64,
    /// How the consent was obtained or withdrawn ("web form v3", a ticket
    /// reference): what an auditor asks for.
    pub evidence: String,
    /// Who recorded it (`key:<id>`, `user:<id>`).
    pub recorded_by: String,
}

/// Records, consents and subject regions. Times are Unix seconds given by
/// the caller.
#[async_trait]
pub trait RecordStore: Send + Sync + 'static {
    /// [`StoreError::Conflict`] if the id is taken.
    async fn insert_record(&self, record: &RecordRow) -> Result<(), StoreError>;

    async fn record(&self, id: &str) -> Result<Option<RecordRow>, StoreError>;

    /// The subject's records without payloads, oldest first.
    async fn list_records(&self, subject: &str) -> Result<Vec<RecordMeta>, StoreError>;

    /// The subject's records with payloads, oldest first (export).
    async fn subject_records(&self, subject: &str) -> Result<Vec<RecordRow>, StoreError>;

    async fn delete_record(&self, id: &str) -> Result<DeleteOutcome, StoreError>;

    /// Sets or clears the legal hold; false if there is no such record.
    async fn set_legal_hold(&self, id: &str, hold: bool) -> Result<bool, StoreError>;

    /// Deletes up to `limit` records whose `expires_at` is at or before
    /// `now` and that are not on hold, oldest expiry first, in one
    /// transaction; returns what it deleted. Call again until it returns
    /// fewer than `limit`.
    async fn sweep_expired(&self, now: i64, limit: u32) -> Result<Vec<RecordMeta>, StoreError>;

    /// Deletes every record of the subject not on hold, its consent events
    /// and its region pin, in one transaction.
    async fn erase_subject(&self, subject: &str) -> Result<SubjectErasure, StoreError>;

    /// Deletes every record of the tenant not on hold and its region pin,
    /// in one transaction (offboarding a customer).
    async fn erase_tenant(&self, tenant: &str) -> Result<SubjectErasure, StoreError>;

    /// Appends to the consent register.
    async fn record_consent(&self, event: &ConsentEvent) -> Result<(), StoreError>;

    /// The subject's consent events, oldest first.
    async fn consents(&self, subject: &str) -> Result<Vec<ConsentEvent>, StoreError>;

    /// Whether the latest event for (subject, purpose) is a grant.
    async fn has_consent(&self, subject: &str, purpose: &str) -> Result<bool, StoreError>;

    /// Pins the subject to regions (`None` removes the pin).
    async fn set_subject_regions(
        &self,
        subject: &str,
        regions: Option<&[String]>,
    ) -> Result<(), StoreError>;

    /// The regions the subject is pinned to, if any.
    async fn subject_regions(&self, subject: &str) -> Result<Option<Vec<String>>, StoreError>;

    /// Pins a tenant (an organization whose traffic names it) to regions
    /// (`None` removes the pin).
    async fn set_tenant_regions(
        &self,
        tenant: &str,
        regions: Option<&[String]>,
    ) -> Result<(), StoreError>;

    async fn tenant_regions(&self, tenant: &str) -> Result<Option<Vec<String>>, StoreError>;
}
