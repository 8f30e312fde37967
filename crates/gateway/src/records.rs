//! Protected records: what Amanah keeps about data subjects (transcripts,
//! documents, call metadata), encrypted with the subject's data key,
//! deleted on time, erased and exported on request.
//!
//! The HTTP API and the CLI are thin over [`RecordService`]; the decisions
//! (what is redacted before it is stored, when a record expires, what an
//! erasure must do) are made here once.

use std::sync::Arc;

use amanah_crypto::envelope::{EnvelopeError, Plaintext, RecordAad};
use amanah_crypto::random;
use amanah_pii::operators::{anonymize, NoContext, Operator, OperatorPolicy};
use amanah_pii::{Analyzer, EntityType};
use amanah_store::{
    ConsentEvent, DeleteOutcome, RecordMeta, RecordRow, RecordStore, StoreError, SubjectErasure,
};

use crate::keyring::{KeyringError, KeyringService};

/// Every record is encrypted under generation 1 of its subject's data key:
/// a subject has one data key at a time, and erasure destroys it. The field
/// exists in the format so that per-subject key rotation can come later
/// without a format change.
pub const DATA_KEY_GENERATION: u32 = 1;

/// Kinds of record and how long each is kept unless configured otherwise.
pub const DEFAULT_RETENTION: &[(&str, Option<i64>)] = &[
    ("conversation", Some(24 * 3600)),
    ("transcript", Some(24 * 3600)),
    ("call_metadata", Some(30 * 86_400)),
    ("document", Some(90 * 86_400)),
];

/// The longest id, subject, kind, data class, region or purpose accepted.
pub const MAX_LABEL_LEN: usize = 200;

/// Content up to this size is redacted on the calling worker; larger
/// content on the blocking pool.
const INLINE_REDACTION_BYTES: usize = 32 * 1024;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    #[error("invalid {field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("unknown record kind {0:?}: configure its retention in [records.retention]")]
    UnknownKind(String),
    #[error("the store: {0}")]
    Store(#[from] StoreError),
    #[error("the keyring: {0}")]
    Keyring(#[from] KeyringError),
    /// The content cannot be redacted (binary, or not UTF-8) and raw
    /// storage was not asked for.
    #[error("this content cannot be redacted: store it with raw (which needs records:write_raw)")]
    NotRedactable,
    /// The subject was erased while the record was being stored.
    #[error("the subject was erased while the record was being stored")]
    SubjectErased,
    /// The ciphertext does not open: altered in the database, or its
    /// subject's key was destroyed.
    #[error("record {id} cannot be decrypted")]
    Undecryptable { id: String },
}

impl From<EnvelopeError> for RecordError {
    fn from(e: EnvelopeError) -> Self {
        RecordError::Keyring(KeyringError::Envelope(e))
    }
}

/// A record to store.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub subject: String,
    /// The tenant it is kept for, if any (its key is the subject's within
    /// the tenant).
    pub tenant: Option<String>,
    pub kind: String,
    pub data_class: String,
    pub region: Option<String>,
    pub purpose: Option<String>,
    pub content_type: String,
    pub content: Vec<u8>,
    /// Store the content as given, not redacted (a route must allow it).
    pub raw: bool,
    /// Overrides the kind's retention (seconds from now); `None`: the
    /// kind's default.
    pub ttl_secs: Option<i64>,
}

/// A record read back: its metadata and its decrypted content.
#[derive(Debug)]
pub struct OpenedRecord {
    pub meta: RecordMeta,
    pub content: Plaintext,
}

/// What an erasure did, for the receipt given to the requester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureReceipt {
    pub erased: Erased,
    pub erased_at: i64,
    pub records_deleted: Vec<String>,
    /// Records on legal hold, kept (and so the subject's key too).
    pub records_held: Vec<String>,
    pub consents_deleted: u64,
    /// Whether the data key was destroyed: every copy of the subject's
    /// records, backups included, is unreadable from then on.
    pub key_destroyed: bool,
}

/// Whose data an erasure was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Erased {
    Subject(String),
    Tenant(String),
}

/// Everything kept about a subject, decrypted, for a portability request.
#[derive(Debug)]
pub struct SubjectExport {
    pub subject: String,
    pub records: Vec<OpenedRecord>,
    pub consents: Vec<ConsentEvent>,
    pub regions: Option<Vec<String>>,
}

/// Retention per record kind: seconds, or `None` for "until erased".
#[derive(Debug, Clone)]
pub struct Retention {
    kinds: Vec<(String, Option<i64>)>,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            kinds: DEFAULT_RETENTION
                .iter()
                .map(|(k, t)| ((*k).to_owned(), *t))
                .collect(),
        }
    }
}

impl Retention {
    /// The defaults with `overrides` applied (new kinds added).
    pub fn with(mut self, overrides: &[(String, Option<i64>)]) -> Self {
        for (kind, ttl) in overrides {
            match self.kinds.iter_mut().find(|(k, _)| k == kind) {
                Some(slot) => slot.1 = *ttl,
                None => self.kinds.push((kind.clone(), *ttl)),
            }
        }
        self
    }

    /// The kind's retention; `Err` for a kind nobody configured.
    pub fn of(&self, kind: &str) -> Result<Option<i64>, RecordError> {
        self.kinds
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, t)| *t)
            .ok_or_else(|| RecordError::UnknownKind(kind.to_owned()))
    }

    pub fn kinds(&self) -> impl Iterator<Item = (&str, Option<i64>)> {
        self.kinds.iter().map(|(k, t)| (k.as_str(), *t))
    }
}

/// The owner name of a subject's data key in the key store: the subject's
/// own, or its key within a tenant. Tenant offboarding destroys every key
/// under `tenant:<id>/`; a subject's erasure destroys its own key and its
/// key in every tenant.
pub fn key_owner(subject: &str, tenant: Option<&str>) -> String {
    match tenant {
        Some(t) => format!("tenant:{t}/subject:{subject}"),
        None => format!("subject:{subject}"),
    }
}

fn meta_owner(meta: &RecordMeta) -> String {
    key_owner(&meta.subject, meta.tenant.as_deref())
}

pub struct RecordService {
    store: Arc<dyn RecordStore>,
    keyring: Arc<KeyringService>,
    analyzer: Arc<Analyzer>,
    retention: Retention,
}

impl std::fmt::Debug for RecordService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordService")
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl RecordService {
    pub fn new(
        store: Arc<dyn RecordStore>,
        keyring: Arc<KeyringService>,
        analyzer: Arc<Analyzer>,
        retention: Retention,
    ) -> Self {
        Self {
            store,
            keyring,
            analyzer,
            retention,
        }
    }

    pub fn retention(&self) -> &Retention {
        &self.retention
    }

    /// Stores a record: redacted unless `raw`, encrypted under the
    /// subject's data key (its key within the tenant, when the record is
    /// kept for one), expiring after its kind's retention.
    pub async fn put(&self, new: NewRecord, now: i64) -> Result<RecordMeta, RecordError> {
        check_label("subject", &new.subject)?;
        check_label("kind", &new.kind)?;
        check_label("data_class", &new.data_class)?;
        for (field, value) in [
            ("region", &new.region),
            ("purpose", &new.purpose),
            ("tenant", &new.tenant),
        ] {
            if let Some(v) = value {
                check_label(field, v)?;
            }
        }
        check_content_type(&new.content_type)?;
        let kind_ttl = self.retention.of(&new.kind)?;
        let ttl = match (new.ttl_secs, kind_ttl) {
            (Some(t), _) if t <= 0 => {
                return Err(RecordError::Invalid {
                    field: "ttl_secs",
                    reason: "must be positive",
                })
            }
            // A record may go sooner than its kind, never later.
            (Some(t), Some(limit)) => Some(t.min(limit)),
            (Some(t), None) => Some(t),
            (None, limit) => limit,
        };
        let (content, redacted) = if new.raw {
            (new.content, false)
        } else {
            let analyzer = Arc::clone(&self.analyzer);
            let content_type = new.content_type.clone();
            let content = new.content;
            if content.len() <= INLINE_REDACTION_BYTES {
                redact_content(&analyzer, &content_type, content)
            } else {
                // Detection runs at about a megabyte a second: a large
                // record must not stall this worker's other requests.
                tokio::task::spawn_blocking(move || {
                    redact_content(&analyzer, &content_type, content)
                })
                .await
                .map_err(|_| RecordError::Invalid {
                    field: "content",
                    reason: "could not be analyzed",
                })?
            }
        };
        if !redacted {
            // Only raw storage may keep personal data: content the engine
            // cannot read (binary, undecodable) needs the same permission.
            if !new.raw {
                return Err(RecordError::NotRedactable);
            }
        }
        let meta = RecordMeta {
            id: new_record_id(),
            subject: new.subject,
            kind: new.kind,
            data_class: new.data_class,
            region: new.region,
            purpose: new.purpose,
            content_type: new.content_type,
            redacted,
            size: content.len() as i64,
            created_at: now,
            expires_at: ttl.map(|t| now.saturating_add(t)),
            legal_hold: false,
            tenant: new.tenant,
        };
        let key = self.keyring.data_key(&meta_owner(&meta), now).await?;
        let ciphertext = key.encrypt(&aad(&meta), &content);
        let row = RecordRow {
            meta: meta.clone(),
            ciphertext,
        };
        self.store.insert_record(&row).await?;
        // An erasure that destroyed the key after it was read above has
        // made this record unreadable: take it back rather than leave its
        // metadata behind the erasure (the erasure sweeps once more after
        // destroying the key, for a record inserted before this check).
        if self
            .keyring
            .existing_data_key(&meta_owner(&meta))
            .await?
            .is_none()
        {
            self.store.delete_record(&meta.id).await?;
            return Err(RecordError::SubjectErased);
        }
        Ok(meta)
    }

    /// The record, decrypted; `None` if there is no such record or it has
    /// expired (the sweeper may not have run yet).
    pub async fn get(&self, id: &str, now: i64) -> Result<Option<OpenedRecord>, RecordError> {
        match self.store.record(id).await? {
            Some(row) if live(&row.meta, now) => self.open(row).await.map(Some),
            _ => Ok(None),
        }
    }

    /// The metadata of a record, without decrypting it (for access checks
    /// before the content is touched).
    pub async fn meta(&self, id: &str, now: i64) -> Result<Option<RecordMeta>, RecordError> {
        Ok(self
            .store
            .record(id)
            .await?
            .map(|r| r.meta)
            .filter(|m| live(m, now)))
    }

    /// The subject's live records, oldest first.
    pub async fn list(&self, subject: &str, now: i64) -> Result<Vec<RecordMeta>, RecordError> {
        let mut all = self.store.list_records(subject).await?;
        all.retain(|m| live(m, now));
        Ok(all)
    }

    pub async fn delete(&self, id: &str) -> Result<DeleteOutcome, RecordError> {
        Ok(self.store.delete_record(id).await?)
    }

    pub async fn set_legal_hold(&self, id: &str, hold: bool) -> Result<bool, RecordError> {
        Ok(self.store.set_legal_hold(id, hold).await?)
    }

    /// Erases a subject: every record not on legal hold, their consents and
    /// region pin, and, when no held record needs it, the data key
    /// (crypto-shredding: copies in backups become unreadable too).
    pub async fn erase_subject(
        &self,
        subject: &str,
        now: i64,
    ) -> Result<ErasureReceipt, RecordError> {
        check_label("subject", subject)?;
        let SubjectErasure {
            deleted,
            held,
            consents_deleted,
        } = self.store.erase_subject(subject).await?;
        let (mut deleted, mut consents_deleted) = (deleted, consents_deleted);
        let key_destroyed = if held.is_empty() {
            let own = self
                .keyring
                .destroy_data_key(&key_owner(subject, None))
                .await?;
            let in_tenants = self
                .keyring
                .destroy_data_keys_matching(None, Some(&format!("/subject:{subject}")))
                .await?;
            let destroyed = own || in_tenants > 0;
            // A record stored between the deletion above and the key's
            // destruction was encrypted under the destroyed key: it can no
            // longer be read, and its metadata must not outlive the
            // erasure either.
            let late = self.store.erase_subject(subject).await?;
            deleted.extend(late.deleted);
            consents_deleted += late.consents_deleted;
            destroyed
        } else {
            false
        };
        Ok(ErasureReceipt {
            erased: Erased::Subject(subject.to_owned()),
            erased_at: now,
            records_deleted: deleted.into_iter().map(|m| m.id).collect(),
            records_held: held.into_iter().map(|m| m.id).collect(),
            consents_deleted,
            key_destroyed,
        })
    }

    /// Offboards a tenant: deletes every record kept for it (legal holds
    /// excepted) and its region pin, and, when nothing held needs them,
    /// destroys every data key in its namespace, so copies in backups
    /// become unreadable too.
    pub async fn erase_tenant(
        &self,
        tenant: &str,
        now: i64,
    ) -> Result<ErasureReceipt, RecordError> {
        check_label("tenant", tenant)?;
        let SubjectErasure {
            mut deleted, held, ..
        } = self.store.erase_tenant(tenant).await?;
        let key_destroyed = if held.is_empty() {
            let n = self
                .keyring
                .destroy_data_keys_matching(Some(&format!("tenant:{tenant}/")), None)
                .await?;
            // Records stored meanwhile are unreadable now: take them too.
            deleted.extend(self.store.erase_tenant(tenant).await?.deleted);
            n > 0
        } else {
            false
        };
        Ok(ErasureReceipt {
            erased: Erased::Tenant(tenant.to_owned()),
            erased_at: now,
            records_deleted: deleted.into_iter().map(|m| m.id).collect(),
            records_held: held.into_iter().map(|m| m.id).collect(),
            consents_deleted: 0,
            key_destroyed,
        })
    }

    /// Everything about the subject, decrypted (expired records excepted).
    pub async fn export(&self, subject: &str, now: i64) -> Result<SubjectExport, RecordError> {
        check_label("subject", subject)?;
        let mut records = Vec::new();
        for row in self.store.subject_records(subject).await? {
            if live(&row.meta, now) {
                records.push(self.open(row).await?);
            }
        }
        Ok(SubjectExport {
            subject: subject.to_owned(),
            records,
            consents: self.store.consents(subject).await?,
            regions: self.store.subject_regions(subject).await?,
        })
    }

    /// Deletes expired records not on hold, `batch` at a time, until none
    /// is left; returns what was deleted.
    pub async fn sweep(&self, now: i64, batch: u32) -> Result<Vec<RecordMeta>, RecordError> {
        let mut deleted = Vec::new();
        loop {
            let round = self.store.sweep_expired(now, batch).await?;
            let done = round.len() < batch as usize;
            deleted.extend(round);
            if done {
                return Ok(deleted);
            }
        }
    }

    async fn open(&self, row: RecordRow) -> Result<OpenedRecord, RecordError> {
        let undecryptable = || RecordError::Undecryptable {
            id: row.meta.id.clone(),
        };
        let Some(key) = self
            .keyring
            .existing_data_key(&meta_owner(&row.meta))
            .await?
        else {
            return Err(undecryptable());
        };
        let content = key
            .decrypt(&aad(&row.meta), &row.ciphertext)
            .map_err(|_| undecryptable())?;
        Ok(OpenedRecord {
            meta: row.meta,
            content,
        })
    }
}

/// Not expired at `now`: an expired record is gone for readers even
/// before the sweeper deletes it, unless a legal hold keeps it (then it is
/// kept to be read).
fn live(meta: &RecordMeta, now: i64) -> bool {
    meta.legal_hold || meta.expires_at.is_none_or(|t| t > now)
}

fn aad(meta: &RecordMeta) -> RecordAad<'_> {
    RecordAad {
        record_id: &meta.id,
        subject: &meta.subject,
        kind: &meta.kind,
        key_version: DATA_KEY_GENERATION,
        data_class: &meta.data_class,
        region: meta.region.as_deref(),
        purpose: meta.purpose.as_deref(),
    }
}

/// 128 random bits, as 26 lowercase base32 characters prefixed `rec_`.
fn new_record_id() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let bytes = random::bytes::<16>();
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut out = String::with_capacity(30);
    out.push_str("rec_");
    for b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Ids, subjects, kinds, classes, regions and purposes: short printable
/// labels, so they are safe in logs, paths and file names.
pub(crate) fn check_label(field: &'static str, value: &str) -> Result<(), RecordError> {
    let invalid = |reason| Err(RecordError::Invalid { field, reason });
    if value.is_empty() {
        return invalid("must not be empty");
    }
    if value.len() > MAX_LABEL_LEN {
        return invalid("longer than 200 bytes");
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'@'))
    {
        return invalid("only letters, digits and - _ . : @ are allowed");
    }
    Ok(())
}

/// A media type as stored in the clear next to the ciphertext: short and
/// plain, so it cannot carry content of its own.
fn check_content_type(value: &str) -> Result<(), RecordError> {
    let ok = (3..=100).contains(&value.len())
        && value.contains('/')
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'/' | b'-' | b'+' | b'.' | b';' | b'=' | b' ' | b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(RecordError::Invalid {
            field: "content_type",
            reason: "a media type such as text/plain or application/json (at most 100 bytes)",
        })
    }
}

/// The content with personal data replaced by `<TYPE>`, and whether that
/// could be done. JSON (by its media type) has every string value
/// redacted, protocol fields included; any other UTF-8 is redacted as text
/// whatever its declared type. Binary content cannot be redacted.
fn redact_content(analyzer: &Analyzer, content_type: &str, content: Vec<u8>) -> (Vec<u8>, bool) {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let policy = OperatorPolicy::new(Operator::Replace);
    let redact = |text: &str| -> String {
        let found = analyzer.analyze_only(text, &EntityType::ALL);
        if found.is_empty() {
            return text.to_owned();
        }
        anonymize(text, &found, &policy, &mut NoContext).text
    };
    if essence == "application/json" || essence.ends_with("+json") {
        if let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(&content) {
            // Object keys and data URLs are not visited: such a document is
            // redacted as text instead, which keeps nothing in clear.
            if !has_keys_or_data_urls_with_text(&doc) {
                crate::privacy::json::for_each_string(&mut doc, &[], &mut |s, _| {
                    *s = redact(s);
                });
                if let Ok(bytes) = serde_json::to_vec(&doc) {
                    return (bytes, true);
                }
            }
        }
    }
    match std::str::from_utf8(&content) {
        Ok(text) => (redact(text).into_bytes(), true),
        Err(_) => (content, false),
    }
}

/// Whether a JSON document holds text the string traversal skips: object
/// keys with personal data would stay in clear, and data URLs are skipped.
fn has_keys_or_data_urls_with_text(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| {
            k.bytes()
                .any(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
                || has_keys_or_data_urls_with_text(v)
        }),
        serde_json::Value::Array(items) => items.iter().any(has_keys_or_data_urls_with_text),
        serde_json::Value::String(s) => s.starts_with("data:"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use amanah_crypto::envelope::{RootKey, StaticKeyProvider};
    use amanah_store::{SqliteKeyringStore, SqliteStore};

    use super::*;

    struct Fixture {
        _dir: tempfile::TempDir,
        dir: std::path::PathBuf,
        service: RecordService,
        root: RootKey,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        let root = RootKey::generate();
        let service = service_at(&path, &root).await;
        Fixture {
            _dir: dir,
            dir: path,
            service,
            root,
        }
    }

    async fn service_at(dir: &std::path::Path, root: &RootKey) -> RecordService {
        let keys = Arc::new(SqliteKeyringStore::open(&dir.join("keys.db")).unwrap());
        let keyring = KeyringService::open(&StaticKeyProvider::new(root.clone()), keys, 1_000)
            .await
            .unwrap();
        let store = Arc::new(SqliteStore::open(&dir.join("amanah.db")).unwrap());
        RecordService::new(
            store,
            Arc::new(keyring),
            Arc::new(Analyzer::standard()),
            Retention::default(),
        )
    }

    fn text(subject: &str, body: &str) -> NewRecord {
        NewRecord {
            subject: subject.into(),
            tenant: None,
            kind: "conversation".into(),
            data_class: "general".into(),
            region: Some("eu".into()),
            purpose: Some("support".into()),
            content_type: "text/plain".into(),
            content: body.as_bytes().to_vec(),
            raw: false,
            ttl_secs: None,
        }
    }

    fn file_holds_in(dir: &std::path::Path, name: &str, needle: &[u8]) -> bool {
        [name.to_owned(), format!("{name}-wal")].iter().any(|f| {
            std::fs::read(dir.join(f)).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        })
    }

    fn file_holds(dir: &std::path::Path, needle: &[u8]) -> bool {
        ["amanah.db", "amanah.db-wal", "keys.db", "keys.db-wal"]
            .iter()
            .any(|f| {
                std::fs::read(dir.join(f))
                    .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            })
    }

    /// The stored transcript is the redacted one, and neither database file
    /// holds the plaintext.
    #[tokio::test]
    async fn stored_records_are_redacted_and_encrypted() {
        let f = fixture().await;
        let marker = "MARKER-7Qz9 call me at jane.roe@example.com";
        let meta = f.service.put(text("subj-1", marker), 1_000).await.unwrap();
        assert!(meta.redacted);
        assert_eq!(meta.expires_at, Some(1_000 + 24 * 3600));
        let opened = f.service.get(&meta.id, 1_000).await.unwrap().unwrap();
        let back = std::str::from_utf8(&opened.content).unwrap();
        assert!(
            back.contains("MARKER-7Qz9") && back.contains("<EMAIL_ADDRESS>"),
            "{back}"
        );
        assert!(!back.contains("jane.roe"));
        let mut raw = text("subj-1", marker);
        raw.raw = true;
        let raw_meta = f.service.put(raw, 1_000).await.unwrap();
        assert!(!raw_meta.redacted);
        let raw_back = f.service.get(&raw_meta.id, 1_000).await.unwrap().unwrap();
        assert_eq!(&*raw_back.content, marker.as_bytes());
        assert!(!file_holds(&f.dir, b"MARKER-7Qz9"));
        assert!(!file_holds(&f.dir, b"jane.roe@example.com"));
    }

    /// A copy of the databases taken before the erasure no longer decrypts
    /// the erased subject's records, while another subject's still do.
    #[tokio::test]
    async fn erasure_shreds_the_subject_in_old_backups_too() {
        let f = fixture().await;
        let gone = f
            .service
            .put(text("subj-gone", "first"), 1_000)
            .await
            .unwrap();
        let kept = f
            .service
            .put(text("subj-kept", "second"), 1_000)
            .await
            .unwrap();
        let backup = tempfile::tempdir().unwrap();
        for file in ["amanah.db", "amanah.db-wal", "keys.db", "keys.db-wal"] {
            let from = f.dir.join(file);
            if from.exists() {
                std::fs::copy(&from, backup.path().join(file)).unwrap();
            }
        }
        let receipt = f.service.erase_subject("subj-gone", 2_000).await.unwrap();
        assert_eq!(receipt.records_deleted, std::slice::from_ref(&gone.id));
        assert!(receipt.key_destroyed && receipt.records_held.is_empty());
        assert!(f.service.get(&gone.id, 2_000).await.unwrap().is_none());

        // The old records file (and its WAL), read with today's key store.
        for (from, to) in [("amanah.db", "old.db"), ("amanah.db-wal", "old.db-wal")] {
            if backup.path().join(from).exists() {
                std::fs::copy(backup.path().join(from), f.dir.join(to)).unwrap();
            }
        }
        assert!(file_holds_in(&f.dir, "old.db", gone.id.as_bytes()));
        let old_records = Arc::new(SqliteStore::open(&f.dir.join("old.db")).unwrap());
        let keys = Arc::new(SqliteKeyringStore::open(&f.dir.join("keys.db")).unwrap());
        let keyring = KeyringService::open(&StaticKeyProvider::new(f.root.clone()), keys, 2_000)
            .await
            .unwrap();
        let from_backup = RecordService::new(
            old_records,
            Arc::new(keyring),
            Arc::new(Analyzer::standard()),
            Retention::default(),
        );
        assert!(matches!(
            from_backup.get(&gone.id, 2_000).await,
            Err(RecordError::Undecryptable { .. })
        ));
        let other = from_backup.get(&kept.id, 2_000).await.unwrap().unwrap();
        assert_eq!(&*other.content, b"second");
    }

    #[tokio::test]
    async fn legal_hold_survives_erasure_and_keeps_the_key() {
        let f = fixture().await;
        let held = f
            .service
            .put(text("subj-h", "evidence"), 1_000)
            .await
            .unwrap();
        let free = f
            .service
            .put(text("subj-h", "chatter"), 1_000)
            .await
            .unwrap();
        assert!(f.service.set_legal_hold(&held.id, true).await.unwrap());
        let receipt = f.service.erase_subject("subj-h", 2_000).await.unwrap();
        assert_eq!(receipt.records_deleted, [free.id]);
        assert_eq!(receipt.records_held, std::slice::from_ref(&held.id));
        assert!(!receipt.key_destroyed);
        let still = f.service.get(&held.id, 2_000).await.unwrap().unwrap();
        assert_eq!(&*still.content, b"evidence");
    }

    #[tokio::test]
    async fn a_relabelled_record_does_not_decrypt() {
        let f = fixture().await;
        let mut child = text("subj-c", "a child's words");
        child.data_class = "child".into();
        let meta = f.service.put(child, 1_000).await.unwrap();
        // Someone with write access to the database relabels it.
        let conn = rusqlite::Connection::open(f.dir.join("amanah.db")).unwrap();
        conn.execute(
            "UPDATE records SET data_class = 'general' WHERE id = ?1",
            [&meta.id],
        )
        .unwrap();
        assert!(matches!(
            f.service.get(&meta.id, 1_000).await,
            Err(RecordError::Undecryptable { .. })
        ));
    }

    #[tokio::test]
    async fn the_sweeper_deletes_exactly_the_expired_records() {
        let f = fixture().await;
        let mut ids = Vec::new();
        for (i, ttl) in [10i64, 20, 30, 40].iter().enumerate() {
            let mut r = text("subj-s", &format!("r{i}"));
            r.ttl_secs = Some(*ttl);
            ids.push(f.service.put(r, 1_000).await.unwrap().id);
        }
        let mut doc = text("subj-s", "kept for 90 days");
        doc.kind = "document".into();
        f.service.put(doc, 1_000).await.unwrap();
        f.service.set_legal_hold(&ids[1], true).await.unwrap();
        let swept: Vec<String> = f
            .service
            .sweep(1_030, 2)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(swept, [ids[0].clone(), ids[2].clone()]);
        let left: Vec<String> = f
            .service
            .list("subj-s", 1_030)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(left.len(), 3);
        assert!(left.contains(&ids[1]) && left.contains(&ids[3]));
    }

    #[tokio::test]
    async fn export_holds_every_record_of_the_subject_and_nothing_else() {
        let f = fixture().await;
        let a1 = f.service.put(text("subj-a", "one"), 1_000).await.unwrap();
        let a2 = f.service.put(text("subj-a", "two"), 1_001).await.unwrap();
        f.service.put(text("subj-b", "other"), 1_000).await.unwrap();
        let export = f.service.export("subj-a", 1_001).await.unwrap();
        let ids: Vec<&str> = export.records.iter().map(|r| r.meta.id.as_str()).collect();
        assert_eq!(ids, [a1.id.as_str(), a2.id.as_str()]);
        let contents: Vec<&[u8]> = export.records.iter().map(|r| &*r.content).collect();
        assert_eq!(contents, [&b"one"[..], b"two"]);
    }

    #[tokio::test]
    async fn bad_input_is_refused_by_field() {
        let f = fixture().await;
        let mut r = text("subj/../x", "x");
        assert!(matches!(
            f.service.put(r.clone(), 1_000).await,
            Err(RecordError::Invalid {
                field: "subject",
                ..
            })
        ));
        r.subject = "ok".into();
        r.kind = "mystery".into();
        assert!(matches!(
            f.service.put(r, 1_000).await,
            Err(RecordError::UnknownKind(k)) if k == "mystery"
        ));
    }

    #[test]
    fn record_ids_are_random_and_url_safe() {
        let a = new_record_id();
        let b = new_record_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 26);
        assert!(check_label("id", &a).is_ok());
    }

    #[test]
    fn json_records_are_redacted_value_by_value() {
        let analyzer = Analyzer::standard();
        let body = br#"{"speaker":"agent","text":"mail me at jane.roe@example.com"}"#.to_vec();
        let (out, redacted) = redact_content(&analyzer, "application/json", body);
        assert!(redacted);
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["text"], "mail me at <EMAIL_ADDRESS>");
        // Binary content cannot be redacted: it says so.
        let (bin, redacted) = redact_content(&analyzer, "audio/wav", b"RIFF\xff\xfe".to_vec());
        assert!(!redacted);
        assert_eq!(bin, b"RIFF\xff\xfe");
        // Text is redacted whatever its declared type.
        let (text, redacted) = redact_content(
            &analyzer,
            "application/x-notes",
            b"jane.roe@example.com".to_vec(),
        );
        assert!(redacted);
        assert_eq!(text, b"<EMAIL_ADDRESS>");
    }

    #[tokio::test]
    async fn an_expired_record_is_gone_for_readers_before_the_sweep() {
        let f = fixture().await;
        let mut r = text("subj-x", "short-lived");
        r.ttl_secs = Some(10);
        let meta = f.service.put(r, 1_000).await.unwrap();
        assert!(f.service.get(&meta.id, 1_009).await.unwrap().is_some());
        assert!(f.service.get(&meta.id, 1_010).await.unwrap().is_none());
        assert!(f.service.list("subj-x", 1_010).await.unwrap().is_empty());
        assert!(f
            .service
            .export("subj-x", 1_010)
            .await
            .unwrap()
            .records
            .is_empty());
        // A record may not outlive its kind's retention.
        let mut long = text("subj-x", "asks for a year");
        long.ttl_secs = Some(365 * 86_400);
        let meta = f.service.put(long, 1_000).await.unwrap();
        assert_eq!(meta.expires_at, Some(1_000 + 24 * 3600));
    }

    /// A tenant's records are encrypted under the subject's key within the
    /// tenant: offboarding the tenant destroys its keys and spares the same
    /// subject elsewhere; erasing the subject destroys its keys everywhere.
    #[tokio::test]
    async fn tenants_have_their_own_key_namespace() {
        let f = fixture().await;
        let put = |tenant: Option<&str>, body: &str| {
            let mut r = text("subj-m", body);
            r.tenant = tenant.map(str::to_owned);
            r
        };
        let acme = f
            .service
            .put(put(Some("acme"), "at acme"), 1_000)
            .await
            .unwrap();
        let globex = f
            .service
            .put(put(Some("globex"), "at globex"), 1_000)
            .await
            .unwrap();
        let own = f.service.put(put(None, "on its own"), 1_000).await.unwrap();
        let keys = SqliteKeyringStore::open(&f.dir.join("keys.db")).unwrap();
        use amanah_store::KeyringStore;
        for owner in [
            "tenant:acme/subject:subj-m",
            "tenant:globex/subject:subj-m",
            "subject:subj-m",
        ] {
            assert!(keys.data_key(owner).await.unwrap().is_some(), "{owner}");
        }
        let receipt = f.service.erase_tenant("acme", 2_000).await.unwrap();
        assert_eq!(receipt.erased, Erased::Tenant("acme".into()));
        assert_eq!(receipt.records_deleted, std::slice::from_ref(&acme.id));
        assert!(receipt.key_destroyed);
        assert!(keys
            .data_key("tenant:acme/subject:subj-m")
            .await
            .unwrap()
            .is_none());
        assert!(f.service.get(&globex.id, 2_000).await.unwrap().is_some());
        assert!(f.service.get(&own.id, 2_000).await.unwrap().is_some());

        let receipt = f.service.erase_subject("subj-m", 3_000).await.unwrap();
        assert!(receipt.key_destroyed);
        assert_eq!(receipt.records_deleted.len(), 2);
        for owner in ["tenant:globex/subject:subj-m", "subject:subj-m"] {
            assert!(keys.data_key(owner).await.unwrap().is_none(), "{owner}");
        }
    }
}
