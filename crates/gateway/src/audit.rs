//! The audit writer: the one task that appends to the tamper-evident log.
//!
//! Request handlers describe what happened in an [`AuditNote`]; the
//! pipeline turns it into an [`Event`] (sensitive details HMAC'd) and
//! [`AuditLog::record`]s it, which returns only once the event is durable.
//! The writer task gathers whatever is queued into one transaction (group
//! commit), links it into the hash chain, signs a checkpoint when the
//! policy says so (kept in the store and appended to the external anchor
//! file), and tells every waiting request its sequence number, or that
//! the write failed, so the request can be refused (fail-closed) or
//! served with an alert (fail-open).
//!
//! Another process (the CLI) may append to the same store: a sequence
//! number taken meanwhile makes the writer re-read the newest event and
//! link its batch after it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use amanah_audit::{
    Chain, ChainedEvent, Checkpoint, CheckpointPolicy, DetailHasher, DetailValue, Event, Outcome,
    SigningKey, HASH_LEN,
};
use amanah_store::{AuditRow, AuditStore, CheckpointRow, StoreError};
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::AuditConfig;

/// Events gathered into one transaction at most.
const MAX_BATCH: usize = 1024;
/// Requests whose events wait to be written, at most; senders wait beyond.
const QUEUE: usize = 16 * 1024;
/// The label under which the detail key is derived from the server secret.
const DETAIL_KEY_LABEL: &[u8] = b"amanah.audit.detail-key.v1";
/// Times a batch is re-linked after other writers took its sequence
/// numbers before the writer gives up on it.
const CONFLICT_RETRIES: usize = 8;
/// Events read at a time when catching up with other writers.
const CATCH_UP_PAGE: u32 = 1000;
/// Checkpoints waiting for the webhook anchor, at most.
const ANCHOR_QUEUE: usize = 64;
/// How often retention is applied.
const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The event could not be written durably.
    #[error("the audit log could not be written: {0}")]
    Unavailable(String),
    /// The writer task is gone (shutting down).
    #[error("the audit writer has stopped")]
    Stopped,
}

impl AuditObserver for crate::alerts::AlertDispatcher {
    fn observe(&self, event: &Event) {
        crate::alerts::AlertDispatcher::observe(self, event);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditStartError {
    #[error("the audit signing key {path}: {reason}")]
    SigningKey { path: String, reason: String },
    #[error("the audit store: {0}")]
    Store(#[from] StoreError),
    #[error("the audit detail key: {0}")]
    DetailKey(String),
}

/// Who learns of every written event (the alert rules) and of every write
/// failure (as a synthetic `audit.write_failed` event that is not chained).
pub trait AuditObserver: Send + Sync + 'static {
    fn observe(&self, event: &Event);
}

/// What a request did, as its handler describes it. Unset fields take the
/// pipeline's defaults (the principal, the route).
#[derive(Debug, Default)]
pub struct AuditNote {
    pub action: Option<&'static str>,
    pub actor: Option<String>,
    pub resource: Option<String>,
    details: Vec<(&'static str, NoteValue)>,
    /// Set for requests that are not audited (CORS preflights, the
    /// OpenAPI document).
    pub skip: bool,
}

#[derive(Debug)]
enum NoteValue {
    Clear(String),
    /// Personal data: only its keyed hash is written.
    Sensitive(String),
}

impl AuditNote {
    pub fn set(&mut self, action: &'static str, resource: impl Into<String>) {
        self.action = Some(action);
        self.resource = Some(resource.into());
    }

    /// A detail written as it is: status codes, counts, names of things.
    pub fn detail(&mut self, name: &'static str, value: impl Into<String>) {
        self.details.push((name, NoteValue::Clear(value.into())));
    }

    /// A detail that is personal data (a subject id, a claimed username):
    /// written only as HMAC-SHA256 under the deployment's detail key.
    pub fn sensitive(&mut self, name: &'static str, value: impl Into<String>) {
        self.details
            .push((name, NoteValue::Sensitive(value.into())));
    }
}

/// Counters the metrics endpoint reads.
#[derive(Debug, Default)]
pub struct AuditStatus {
    healthy: AtomicBool,
    /// Events accepted but not yet written (the audit lag).
    queued: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    checkpoints: AtomicU64,
    /// Checkpoints that could not be stored or exported (anchor file,
    /// webhook): anchoring has a gap.
    anchor_failures: AtomicU64,
    last_seq: AtomicU64,
}

impl AuditStatus {
    /// The last write succeeded (or none was tried yet).
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
    pub fn checkpoints(&self) -> u64 {
        self.checkpoints.load(Ordering::Relaxed)
    }
    pub fn anchor_failures(&self) -> u64 {
        self.anchor_failures.load(Ordering::Relaxed)
    }
    pub fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::Relaxed)
    }
}

struct Pending {
    event: Event,
    done: oneshot::Sender<Result<u64, AuditError>>,
}

/// The handle requests use to write events.
pub struct AuditLog {
    tx: mpsc::Sender<Pending>,
    node: Arc<str>,
    hasher: DetailHasher,
    status: Arc<AuditStatus>,
    verifying_key: amanah_audit::VerifyingKey,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// The detail key: HMAC-SHA256(server secret, label), so details hash the
/// same across restarts and nodes of one deployment, and the key is no
/// other key.
pub fn detail_hasher(server_secret: &[u8]) -> Result<DetailHasher, AuditStartError> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, server_secret);
    let derived = ring::hmac::sign(&key, DETAIL_KEY_LABEL);
    DetailHasher::new(derived.as_ref()).map_err(|e| AuditStartError::DetailKey(e.to_string()))
}

impl AuditLog {
    /// Opens the log: the signing key (created on first start, with its
    /// public half beside it), the chain continued from the newest stored
    /// event. Spawn [`AuditWriter::run`] to start writing.
    pub async fn open(
        config: &AuditConfig,
        store: Arc<dyn AuditStore>,
        hasher: DetailHasher,
        observer: Option<Arc<dyn AuditObserver>>,
    ) -> Result<(Self, AuditWriter), AuditStartError> {
        let chain = resume_chain(store.as_ref()).await?;
        if chain.last_seq() > 0 && !config.signing_key.exists() {
            // A new key would sign whatever the store holds now, and hide
            // that the old one is gone.
            return Err(AuditStartError::SigningKey {
                path: config.signing_key.display().to_string(),
                reason: format!(
                    "it is missing while the audit log holds {} events: restore it (its public half \
                     must match your copy of {}), or start a new log by moving {} away",
                    chain.last_seq(),
                    public_key_path(&config.signing_key).display(),
                    config.store.display()
                ),
            });
        }
        let key = load_or_create_signing_key(&config.signing_key)?;
        let last_checkpoint = valid_checkpoints(store.as_ref(), key.verifying_key(), now_ms())
            .await?
            .into_iter()
            .filter(|c| c.seq <= chain.last_seq())
            .max_by_key(|c| c.seq);
        let status = Arc::new(AuditStatus {
            healthy: AtomicBool::new(true),
            last_seq: AtomicU64::new(chain.last_seq()),
            ..AuditStatus::default()
        });
        let (tx, rx) = mpsc::channel(QUEUE);
        let node: Arc<str> = Arc::from(config.node.as_str());
        let verifying_key = key.verifying_key().clone();
        let writer = AuditWriter {
            rx,
            store,
            chain,
            key,
            node: Arc::clone(&node),
            policy: CheckpointPolicy {
                every_events: config.checkpoint_every_events,
                every_secs: config.checkpoint_every.as_secs(),
            },
            last_checkpoint,
            anchor_file: config.checkpoint_file.clone(),
            anchor_webhook: None,
            observer,
            status: Arc::clone(&status),
        };
        Ok((
            Self {
                tx,
                node,
                hasher,
                status,
                verifying_key,
            },
            writer,
        ))
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// The public half of the checkpoint key.
    pub fn verifying_key(&self) -> &amanah_audit::VerifyingKey {
        &self.verifying_key
    }

    pub fn status(&self) -> &Arc<AuditStatus> {
        &self.status
    }

    /// An event of this node, now, with no details yet.
    pub fn event(&self, actor: &str, action: &str, resource: &str, outcome: Outcome) -> Event {
        Event::new(now_ms(), &*self.node, actor, action, resource, outcome)
    }

    /// Adds a note's details to `event`, hashing the sensitive ones.
    pub fn add_details(&self, event: &mut Event, note: AuditNote) {
        for (name, value) in note.details {
            let value = match value {
                NoteValue::Clear(v) => DetailValue::Clear(v),
                NoteValue::Sensitive(v) => self.hasher.hash(name, &v),
            };
            event.details.insert(name.to_owned(), value);
        }
    }

    /// The keyed hash a sensitive detail `field` with `value` is written
    /// as, to find a subject's events without storing its id.
    pub fn hash_detail(&self, field: &str, value: &str) -> DetailValue {
        self.hasher.hash(field, value)
    }

    /// Writes `event` and returns its sequence number once it is durable.
    pub async fn record(&self, event: Event) -> Result<u64, AuditError> {
        let (done, answer) = oneshot::channel();
        self.status.queued.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(Pending { event, done }).await.is_err() {
            self.status.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(AuditError::Stopped);
        }
        answer.await.map_err(|_| AuditError::Stopped)?
    }
}

/// The writing half: owns the chain and the signing key.
pub struct AuditWriter {
    rx: mpsc::Receiver<Pending>,
    store: Arc<dyn AuditStore>,
    chain: Chain,
    key: SigningKey,
    node: Arc<str>,
    policy: CheckpointPolicy,
    last_checkpoint: Option<Checkpoint>,
    anchor_file: Option<PathBuf>,
    /// Checkpoints on their way to the webhook anchor.
    anchor_webhook: Option<mpsc::Sender<String>>,
    observer: Option<Arc<dyn AuditObserver>>,
    status: Arc<AuditStatus>,
}

impl std::fmt::Debug for AuditWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditWriter")
            .field("node", &self.node)
            .field("last_seq", &self.chain.last_seq())
            .finish_non_exhaustive()
    }
}

impl AuditWriter {
    /// Also sends every checkpoint to `sink` (the webhook anchor). A
    /// checkpoint the queue has no room for is skipped with a warning: the
    /// next one vouches for everything before it.
    pub fn export_checkpoints_to(mut self, sink: crate::alerts::WebhookSink) -> Self {
        let (tx, mut rx) = mpsc::channel::<String>(ANCHOR_QUEUE);
        let status = Arc::clone(&self.status);
        tokio::spawn(async move {
            while let Some(text) = rx.recv().await {
                if let Err(e) = sink.post(bytes::Bytes::from(text)).await {
                    status.anchor_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        target: "amanah::audit",
                        error = %e,
                        "an audit checkpoint could not be delivered to the webhook anchor"
                    );
                }
            }
        });
        self.anchor_webhook = Some(tx);
        self
    }

    /// Writes until `shutdown`, then drains what is queued and signs a
    /// last checkpoint.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let tick_every = match self.policy.every_secs {
            0 => Duration::from_secs(1),
            s => Duration::from_secs(s).min(Duration::from_secs(1)),
        };
        let mut tick = tokio::time::interval(tick_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut batch = Vec::with_capacity(MAX_BATCH);
        loop {
            tokio::select! {
                n = self.rx.recv_many(&mut batch, MAX_BATCH) => {
                    if n == 0 {
                        break;
                    }
                    self.write(&mut batch).await;
                }
                _ = tick.tick() => {
                    if let Err(e) = self.catch_up().await {
                        tracing::warn!(target: "amanah::audit", error = %e, "could not read events other writers appended");
                    }
                    self.checkpoint_if_due().await;
                }
                _ = shutdown.changed() => {
                    self.rx.close();
                    while self.rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                        self.write(&mut batch).await;
                    }
                    break;
                }
            }
        }
        if self.last_checkpoint.as_ref().map(|c| c.seq) != Some(self.chain.last_seq()) {
            self.checkpoint(now_ms()).await;
        }
    }

    async fn write(&mut self, batch: &mut Vec<Pending>) {
        let taken = std::mem::take(batch);
        self.status
            .queued
            .fetch_sub(taken.len() as u64, Ordering::Relaxed);
        let (events, waiters): (Vec<Event>, Vec<_>) =
            taken.into_iter().map(|p| (p.event, p.done)).unzip();
        match self.append(events).await {
            Ok(chained) => {
                self.status.healthy.store(true, Ordering::Relaxed);
                self.status
                    .written
                    .fetch_add(chained.len() as u64, Ordering::Relaxed);
                self.status
                    .last_seq
                    .store(self.chain.last_seq(), Ordering::Relaxed);
                for (c, done) in chained.iter().zip(waiters) {
                    let _ = done.send(Ok(c.event.seq));
                }
                if let Some(observer) = &self.observer {
                    for c in &chained {
                        observer.observe(&c.event);
                    }
                }
                self.checkpoint_if_due().await;
            }
            Err(e) => {
                self.status.healthy.store(false, Ordering::Relaxed);
                self.status
                    .failed
                    .fetch_add(waiters.len() as u64, Ordering::Relaxed);
                tracing::error!(
                    target: "amanah::audit",
                    error = %e,
                    events = waiters.len(),
                    "audit events could not be written"
                );
                let message = e.to_string();
                for done in waiters {
                    let _ = done.send(Err(AuditError::Unavailable(message.clone())));
                }
                if let Some(observer) = &self.observer {
                    let mut failed = Event::new(
                        now_ms(),
                        &*self.node,
                        "-",
                        "audit.write_failed",
                        "audit",
                        Outcome::Error,
                    );
                    failed
                        .details
                        .insert("error".into(), DetailValue::Clear(message));
                    observer.observe(&failed);
                }
            }
        }
    }

    /// Links `events` after the newest stored event and writes them in one
    /// transaction. If another writer took the next sequence number, the
    /// chain is re-read once and the batch linked after it.
    async fn append(&mut self, mut events: Vec<Event>) -> Result<Vec<ChainedEvent>, StoreError> {
        for attempt in 0..CONFLICT_RETRIES {
            let mut chain = self.chain.clone();
            let chained: Vec<ChainedEvent> = events.into_iter().map(|e| chain.append(e)).collect();
            let rows: Vec<AuditRow> = chained.iter().map(row_of).collect();
            match self.store.append(&rows).await {
                Ok(()) => {
                    self.chain = chain;
                    return Ok(chained);
                }
                Err(StoreError::Conflict) if attempt + 1 < CONFLICT_RETRIES => {
                    tracing::debug!(
                        target: "amanah::audit",
                        "another writer appended to the audit log; continuing after its events"
                    );
                    self.catch_up().await?;
                    events = chained.into_iter().map(|c| c.event).collect();
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    /// Events another process (the CLI) appended after this writer's
    /// newest: shown to the observer (a `key.create` with the admin role
    /// made from the command line alerts like one made through the API),
    /// then the chain continues after them.
    async fn catch_up(&mut self) -> Result<(), StoreError> {
        let Some(newest) = self.store.last().await? else {
            return Ok(());
        };
        let mine = self.chain.last_seq();
        if u64::try_from(newest.seq).unwrap_or(0) <= mine {
            return Ok(());
        }
        let mut from = to_i64(mine.saturating_add(1));
        loop {
            let rows = self.store.events_from(from, CATCH_UP_PAGE).await?;
            let Some(last) = rows.last() else { break };
            from = last.seq.saturating_add(1);
            if let Some(observer) = &self.observer {
                for row in &rows {
                    if let Ok(event) = Event::from_json(&row.event) {
                        observer.observe(&event);
                    }
                }
            }
            if rows.len() < CATCH_UP_PAGE as usize {
                break;
            }
        }
        self.chain = resume_chain(self.store.as_ref())
            .await
            .map_err(|e| match e {
                AuditStartError::Store(s) => s,
                other => StoreError::Corrupt(other.to_string()),
            })?;
        self.status
            .last_seq
            .store(self.chain.last_seq(), Ordering::Relaxed);
        Ok(())
    }

    async fn checkpoint_if_due(&mut self) {
        let now = now_ms();
        let seq = self.chain.last_seq();
        let new_events = self.last_checkpoint.as_ref().map_or(0, |c| c.seq) < seq;
        if new_events && self.policy.due(self.last_checkpoint.as_ref(), now, seq) {
            self.checkpoint(now).await;
        }
    }

    /// Signs the newest event, stores the checkpoint and appends it to the
    /// anchor file.
    async fn checkpoint(&mut self, now: i64) {
        let Some(cp) = self.chain.checkpoint(&self.key, &self.node, now) else {
            return;
        };
        let text = cp.to_text();
        let row = CheckpointRow {
            seq: to_i64(cp.seq),
            time_unix_ms: cp.time_unix_ms,
            text: text.clone(),
        };
        if let Err(e) = self.store.put_checkpoint(&row).await {
            self.status.anchor_failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(target: "amanah::audit", error = %e, "the audit checkpoint could not be stored");
            return;
        }
        if let Some(tx) = &self.anchor_webhook {
            if tx.try_send(text.clone()).is_err() {
                self.status.anchor_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    target: "amanah::audit",
                    "the webhook anchor is behind; this checkpoint is not sent (the next one covers it)"
                );
            }
        }
        if let Some(path) = &self.anchor_file {
            if let Err(e) = append_line(path, &text) {
                self.status.anchor_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    target: "amanah::audit",
                    error = %e,
                    file = %path.display(),
                    "the audit checkpoint could not be exported"
                );
            }
        }
        self.status.checkpoints.fetch_add(1, Ordering::Relaxed);
        self.last_checkpoint = Some(cp);
    }
}

/// Applies retention every hour until `shutdown`: events older than
/// `retention` are deleted up to the newest checkpoint before the cut, so
/// the remaining chain starts at a signed anchor.
pub async fn prune_periodically(
    store: Arc<dyn AuditStore>,
    key: amanah_audit::VerifyingKey,
    retention: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(PRUNE_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => match prune(store.as_ref(), &key, retention, now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(target: "amanah::audit", pruned = n, "old audit events pruned"),
                Err(e) => tracing::warn!(target: "amanah::audit", error = %e, "audit retention failed"),
            },
            _ = shutdown.changed() => return,
        }
    }
}

/// Deletes events older than `retention` up to the newest checkpoint
/// signed (by `key`) before the cut; returns how many were deleted.
pub async fn prune(
    store: &dyn AuditStore,
    key: &amanah_audit::VerifyingKey,
    retention: Duration,
    now_ms: i64,
) -> Result<u64, StoreError> {
    let cut = now_ms.saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
    let anchor = valid_checkpoints(store, key, now_ms)
        .await?
        .into_iter()
        .filter(|c| c.time_unix_ms <= cut)
        .map(|c| c.seq)
        .max();
    match anchor {
        Some(seq) => store.prune_before(to_i64(seq)).await,
        None => Ok(0),
    }
}

/// Appends one event from outside the gateway (the CLI): links it after
/// the newest stored event and writes it durably, re-linking when a
/// running gateway takes that sequence number meanwhile.
pub async fn append_one(store: &dyn AuditStore, mut event: Event) -> Result<u64, StoreError> {
    for _ in 0..8 {
        let mut chain = resume_chain(store).await.map_err(|e| match e {
            AuditStartError::Store(s) => s,
            other => StoreError::Corrupt(other.to_string()),
        })?;
        let chained = chain.append(event);
        match store.append(&[row_of(&chained)]).await {
            Ok(()) => return Ok(chained.event.seq),
            Err(StoreError::Conflict) => event = chained.event,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}

/// The stored checkpoints that `key` signed and that are not dated in the
/// future: a row forged into the store (a huge seq, a future time) must
/// not stop checkpointing or steer retention.
async fn valid_checkpoints(
    store: &dyn AuditStore,
    key: &amanah_audit::VerifyingKey,
    now_ms: i64,
) -> Result<Vec<Checkpoint>, StoreError> {
    const SKEW_MS: i64 = 5 * 60 * 1000;
    Ok(store
        .checkpoints()
        .await?
        .iter()
        .filter_map(|row| Checkpoint::from_text(&row.text).ok())
        .filter(|c| key.verify(c).is_ok() && c.time_unix_ms <= now_ms.saturating_add(SKEW_MS))
        .collect())
}

async fn resume_chain(store: &dyn AuditStore) -> Result<Chain, AuditStartError> {
    Ok(match store.last().await? {
        None => Chain::new(),
        Some(row) => {
            let hash: [u8; HASH_LEN] = row.hash.as_slice().try_into().map_err(|_| {
                StoreError::Corrupt(format!(
                    "the newest audit event (seq {}) has a hash of {} bytes",
                    row.seq,
                    row.hash.len()
                ))
            })?;
            let seq = u64::try_from(row.seq)
                .map_err(|_| StoreError::Corrupt("a negative audit sequence number".into()))?;
            Chain::resume(seq, hash)
        }
    })
}

fn row_of(c: &ChainedEvent) -> AuditRow {
    AuditRow {
        seq: to_i64(c.event.seq),
        time_unix_ms: c.event.time_unix_ms,
        event: c.event.to_json(),
        prev_hash: c.prev_hash.to_vec(),
        hash: c.hash.to_vec(),
    }
}

fn to_i64(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(line.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_data()
}

/// The public half of the signing key at `key_path`: same name, `.pub`.
pub fn public_key_path(key_path: &Path) -> PathBuf {
    key_path.with_extension("pub")
}

/// Reads the PKCS#8 signing key (base64, owner-only), or creates it with
/// its public half on first start.
pub fn load_or_create_signing_key(path: &Path) -> Result<SigningKey, AuditStartError> {
    let fail = |reason: String| AuditStartError::SigningKey {
        path: path.display().to_string(),
        reason,
    };
    let key = if path.exists() {
        let text = crate::keyring::read_private_file(path).map_err(fail)?;
        let der = zeroize::Zeroizing::new(
            amanah_crypto::base64::decode_standard_padded(text.trim().as_bytes())
                .ok_or_else(|| fail("it is not base64".into()))?,
        );
        SigningKey::from_pkcs8(&der).map_err(|e| fail(e.to_string()))?
    } else {
        if let Some(dir) = path.parent() {
            crate::config::create_private_dir(dir).map_err(|e| fail(e.to_string()))?;
        }
        let der = SigningKey::generate_pkcs8();
        let mut text = zeroize::Zeroizing::new(amanah_crypto::base64::encode_standard(&der));
        text.push('\n');
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .map_err(|e| fail(format!("cannot create it: {e}")))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| fail(format!("cannot write it: {e}")))?;
        SigningKey::from_pkcs8(&der).map_err(|e| fail(e.to_string()))?
    };
    // The public half is derived: written (again) so it always matches.
    let public = public_key_path(path);
    let text = format!("{}\n", key.verifying_key().to_base64());
    if std::fs::read_to_string(&public).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&public, text).map_err(|e| {
            fail(format!(
                "cannot write its public half {}: {e}",
                public.display()
            ))
        })?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use amanah_store::SqliteAuditStore;

    fn config(dir: &Path) -> AuditConfig {
        AuditConfig {
            store: dir.join("audit.db"),
            signing_key: dir.join("audit-signing.key"),
            node: "test".into(),
            checkpoint_every_events: 10,
            checkpoint_every: Duration::from_secs(60),
            checkpoint_file: Some(dir.join("anchor.jsonl")),
            checkpoint_webhook: None,
            retention: None,
            on_failure: crate::config::AuditFailure::Closed,
            sync: amanah_store::AuditSync::Full,
        }
    }

    fn hasher() -> DetailHasher {
        detail_hasher(&[7u8; 32]).unwrap()
    }

    /// Verifies every stored event against the stored checkpoints, as
    /// `amanah audit verify` would (with `cut`, allowing retention).
    async fn verify_store(
        store: &dyn AuditStore,
        key: &amanah_audit::VerifyingKey,
        cut: Option<i64>,
    ) -> amanah_audit::Report {
        let cps: Vec<_> = store
            .checkpoints()
            .await
            .unwrap()
            .iter()
            .filter_map(|c| Checkpoint::from_text(&c.text).ok())
            .collect();
        let mut v = amanah_audit::Verifier::new(&cps, key);
        if let Some(cut) = cut {
            v = v.with_retention_cut(cut);
        }
        for r in store.events_from(0, 10_000).await.unwrap() {
            v.push(
                &amanah_audit::StoredEvent::from_parts(&r.event, &r.prev_hash, &r.hash).unwrap(),
            );
        }
        v.finish()
    }

    #[tokio::test]
    async fn events_are_chained_checkpointed_and_exported() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let store: Arc<dyn AuditStore> = Arc::new(SqliteAuditStore::open(&cfg.store).unwrap());
        let (log, writer) = AuditLog::open(&cfg, Arc::clone(&store), hasher(), None)
            .await
            .unwrap();
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(writer.run(rx));
        let log = Arc::new(log);
        let mut handles = Vec::new();
        for i in 0..25 {
            let log = Arc::clone(&log);
            handles.push(tokio::spawn(async move {
                let mut note = AuditNote::default();
                note.sensitive("subject", format!("alice-{i}"));
                let mut e = log.event("key:k1", "model.invoke", "route:chat", Outcome::Success);
                log.add_details(&mut e, note);
                log.record(e).await.unwrap()
            }));
        }
        let mut seqs = Vec::new();
        for h in handles {
            seqs.push(h.await.unwrap());
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=25).collect::<Vec<_>>());
        stop.send(true).unwrap();
        task.await.unwrap();

        let rows = store.events_from(1, 100).await.unwrap();
        assert_eq!(rows.len(), 25);
        assert!(
            !rows.iter().any(|r| r.event.contains("alice")),
            "sensitive details are stored only as HMACs"
        );
        let checkpoints = store.checkpoints().await.unwrap();
        assert_eq!(
            checkpoints.last().unwrap().seq,
            25,
            "a last checkpoint at shutdown"
        );
        let anchor = std::fs::read_to_string(dir.path().join("anchor.jsonl")).unwrap();
        assert_eq!(anchor.lines().count(), checkpoints.len());

        let key_text = std::fs::read_to_string(public_key_path(&cfg.signing_key)).unwrap();
        let key = amanah_audit::VerifyingKey::from_base64(key_text.trim()).unwrap();
        let stored: Vec<_> = rows
            .iter()
            .map(|r| {
                amanah_audit::StoredEvent::from_parts(&r.event, &r.prev_hash, &r.hash).unwrap()
            })
            .collect();
        let cps: Vec<_> = amanah_audit::parse_checkpoint_file(&anchor).unwrap();
        let report = amanah_audit::verify(&stored, &cps, &key);
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.last_checkpoint_seq, Some(25));
    }

    #[tokio::test]
    async fn a_restart_continues_the_chain_and_another_writer_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let store: Arc<dyn AuditStore> = Arc::new(SqliteAuditStore::open(&cfg.store).unwrap());
        let start = |store: Arc<dyn AuditStore>| {
            let cfg = cfg.clone();
            async move {
                let (log, writer) = AuditLog::open(&cfg, store, hasher(), None).await.unwrap();
                let (stop, rx) = watch::channel(false);
                (log, stop, tokio::spawn(writer.run(rx)))
            }
        };
        async fn record(log: &AuditLog) -> Result<u64, AuditError> {
            let e = log.event("-", "test", "r", Outcome::Success);
            log.record(e).await
        }

        let (log, stop, task) = start(Arc::clone(&store)).await;
        assert_eq!(record(&log).await.unwrap(), 1);
        // Another process (the CLI) appends behind the writer's back.
        let last = store.last().await.unwrap().unwrap();
        let mut other = Chain::resume(1, last.hash.as_slice().try_into().unwrap());
        let c = other.append(Event::new(
            now_ms(),
            "cli",
            "-",
            "cli",
            "r",
            Outcome::Success,
        ));
        store.append(&[row_of(&c)]).await.unwrap();
        assert_eq!(record(&log).await.unwrap(), 3);
        stop.send(true).unwrap();
        task.await.unwrap();

        let (log, stop, task) = start(Arc::clone(&store)).await;
        assert_eq!(record(&log).await.unwrap(), 4);
        stop.send(true).unwrap();
        task.await.unwrap();

        let key = load_or_create_signing_key(&cfg.signing_key).unwrap();
        let report = verify_store(store.as_ref(), key.verifying_key(), None).await;
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.verified, 4);
    }

    #[tokio::test]
    async fn retention_prunes_to_a_signed_checkpoint_and_ignores_forged_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path());
        cfg.checkpoint_every_events = 5;
        let store: Arc<dyn AuditStore> = Arc::new(SqliteAuditStore::open(&cfg.store).unwrap());
        // A forged checkpoint far ahead: it must not stop checkpointing.
        store
            .put_checkpoint(&CheckpointRow {
                seq: 1_000_000,
                time_unix_ms: 0,
                text: "forged".into(),
            })
            .await
            .unwrap();
        let (log, writer) = AuditLog::open(&cfg, Arc::clone(&store), hasher(), None)
            .await
            .unwrap();
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(writer.run(rx));
        for _ in 0..12 {
            log.record(log.event("-", "test", "r", Outcome::Success))
                .await
                .unwrap();
        }
        stop.send(true).unwrap();
        task.await.unwrap();
        let key = log.verifying_key().clone();
        let signed: Vec<i64> = store
            .checkpoints()
            .await
            .unwrap()
            .iter()
            .filter(|c| c.text != "forged")
            .map(|c| c.seq)
            .collect();
        // The first by time (none before it), then every 5, then at shutdown.
        assert_eq!(signed, [1, 6, 11, 12]);

        // Nothing is older than a day: nothing goes.
        let now = now_ms();
        assert_eq!(
            prune(store.as_ref(), &key, Duration::from_secs(86_400), now)
                .await
                .unwrap(),
            0
        );
        // A day later everything is: pruned up to the newest checkpoint.
        let later = now + 86_400_000 + 1;
        assert_eq!(
            prune(store.as_ref(), &key, Duration::from_secs(86_400), later)
                .await
                .unwrap(),
            11
        );
        let report = verify_store(store.as_ref(), &key, Some(later - 86_400_000)).await;
        assert!(report.is_ok(), "{report}");
        assert_eq!((report.first_seq, report.verified), (12, 12));
    }

    #[tokio::test]
    async fn a_log_whose_signing_key_is_gone_is_not_resigned() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let store: Arc<dyn AuditStore> = Arc::new(SqliteAuditStore::open(&cfg.store).unwrap());
        let (log, writer) = AuditLog::open(&cfg, Arc::clone(&store), hasher(), None)
            .await
            .unwrap();
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(writer.run(rx));
        log.record(log.event("-", "test", "r", Outcome::Success))
            .await
            .unwrap();
        stop.send(true).unwrap();
        task.await.unwrap();
        std::fs::remove_file(&cfg.signing_key).unwrap();
        let err = AuditLog::open(&cfg, store, hasher(), None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing while the audit log holds 1 events"),
            "{err}"
        );
        assert!(!cfg.signing_key.exists(), "no new key was made");
    }

    #[test]
    fn a_signing_key_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        let first = load_or_create_signing_key(&path).unwrap();
        let again = load_or_create_signing_key(&path).unwrap();
        assert_eq!(first.verifying_key(), again.verifying_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = load_or_create_signing_key(&path).unwrap_err().to_string();
            assert!(err.contains("group and others"), "{err}");
        }
    }
}
