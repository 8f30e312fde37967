//! The hash chain: each event's hash commits to the previous one.

use ring::digest;

use crate::checkpoint::{Checkpoint, SigningKey};
use crate::encoding::push_lp;
use crate::event::{Event, HASH_LEN};
use crate::AuditError;

/// A chain hash (SHA-256).
pub type Hash = [u8; HASH_LEN];

/// The `prev_hash` of the first event (seq 1): 32 zero bytes.
pub const GENESIS_HASH: Hash = [0u8; HASH_LEN];

const LABEL_EVENT: &[u8] = b"amanah.audit.v1.event";

/// `SHA-256(lp("amanah.audit.v1.event") || prev_hash || canonical_bytes)`.
pub fn event_hash(prev_hash: &Hash, event: &Event) -> Hash {
    let mut buf = Vec::with_capacity(256);
    event_hash_with(&mut buf, prev_hash, event)
}

/// [`event_hash`] with a caller-owned scratch buffer (cleared first).
pub(crate) fn event_hash_with(buf: &mut Vec<u8>, prev_hash: &Hash, event: &Event) -> Hash {
    buf.clear();
    push_lp(buf, LABEL_EVENT);
    buf.extend_from_slice(prev_hash);
    event.write_canonical(buf);
    let d = digest::digest(&digest::SHA256, buf);
    let mut out = [0u8; HASH_LEN];
    out.copy_from_slice(d.as_ref());
    out
}

/// An event as the chain produced it: to store as is (`event` as JSON,
/// `prev_hash` and `hash` as 32-byte values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEvent {
    pub event: Event,
    pub prev_hash: Hash,
    pub hash: Hash,
}

/// An event as a store returned it: nothing in it is trusted until
/// [`crate::Verifier`] has checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub event: Event,
    pub prev_hash: Hash,
    pub hash: Hash,
}

impl StoredEvent {
    /// From a store row: the event's JSON form and the two hash columns
    /// (each must be exactly 32 bytes).
    pub fn from_parts(event_json: &str, prev_hash: &[u8], hash: &[u8]) -> Result<Self, AuditError> {
        let event = Event::from_json(event_json)?;
        let prev_hash = prev_hash.try_into().map_err(|_| AuditError::InvalidHash)?;
        let hash = hash.try_into().map_err(|_| AuditError::InvalidHash)?;
        Ok(Self {
            event,
            prev_hash,
            hash,
        })
    }
}

impl From<ChainedEvent> for StoredEvent {
    fn from(c: ChainedEvent) -> Self {
        Self {
            event: c.event,
            prev_hash: c.prev_hash,
            hash: c.hash,
        }
    }
}

/// Appends events to a chain: assigns each the next sequence number and
/// links it to the previous hash. One writer per chain (the gateway's audit
/// task); after a restart, [`Chain::resume`] from the newest stored event.
#[derive(Debug, Clone)]
pub struct Chain {
    last_seq: u64,
    last_hash: Hash,
    buf: Vec<u8>,
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    /// An empty chain: the first event gets seq 1 and [`GENESIS_HASH`] as
    /// its `prev_hash`.
    pub fn new() -> Self {
        Self::resume(0, GENESIS_HASH)
    }

    /// Continues after the event `last_seq` whose hash is `last_hash` (read
    /// back from the store, ideally after verifying it).
    pub fn resume(last_seq: u64, last_hash: Hash) -> Self {
        Self {
            last_seq,
            last_hash,
            buf: Vec::with_capacity(256),
        }
    }

    /// The seq of the newest event (0 when empty).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The hash of the newest event ([`GENESIS_HASH`] when empty).
    pub fn last_hash(&self) -> Hash {
        self.last_hash
    }

    /// Links `event` into the chain. Its `seq` is overwritten with the next
    /// sequence number (last + 1); every other field is the caller's.
    ///
    /// # Panics
    /// After 2^64 - 1 events.
    pub fn append(&mut self, mut event: Event) -> ChainedEvent {
        event.seq = self
            .last_seq
            .checked_add(1)
            .expect("audit sequence numbers are exhausted");
        let prev_hash = self.last_hash;
        let hash = event_hash_with(&mut self.buf, &prev_hash, &event);
        self.last_seq = event.seq;
        self.last_hash = hash;
        ChainedEvent {
            event,
            prev_hash,
            hash,
        }
    }

    /// A checkpoint of the newest event, signed with `key`; `None` while the
    /// chain is empty.
    pub fn checkpoint(
        &self,
        key: &SigningKey,
        node: &str,
        time_unix_ms: i64,
    ) -> Option<Checkpoint> {
        (self.last_seq > 0).then(|| key.sign(self.last_seq, self.last_hash, time_unix_ms, node))
    }
}
