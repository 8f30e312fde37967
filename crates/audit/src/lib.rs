//! Amanah's tamper-evident audit log: events, their canonical encoding, the
//! hash chain, signed checkpoints and the verifier.
//!
//! Pure: no IO, no async. The gateway builds [`Event`]s, appends them to a
//! [`Chain`] and stores the resulting [`ChainedEvent`]s (JSON form plus two
//! hashes); every [`CheckpointPolicy`] interval it signs a [`Checkpoint`]
//! with its [`SigningKey`] and exports it (a file, a webhook) as the
//! external anchor. `amanah audit verify` reads the stored events back as
//! [`StoredEvent`]s and the anchor file with [`parse_checkpoint_file`], and
//! runs [`verify`] (or a [`Verifier`] fed page by page), which names the
//! first damaged sequence number and the kind of [`Damage`].
//!
//! [`alerts::AlertEngine`] reads the same events and says when a person
//! should be told (failed sign-in bursts, key abuse, admin grants, lockdown,
//! audit write failures); the gateway delivers what it returns.
//!
//! The byte formats are specified in `docs/AUDIT_FORMAT.md`, precisely
//! enough to write another verifier (a Python reference is included there).
//! In short, with `lp(x)` = length of `x` as a big-endian `u64`, then `x`:
//!
//! ```text
//! canonical(event) = 0x01 || seq (u64) || time_unix_ms (i64)
//!     || lp(node) || lp(actor) || lp(action) || lp(resource) || lp(outcome)
//!     || opt(client_ip) || opt(request_id)
//!     || count (u64) || for each detail by ascending name bytes:
//!            lp(name) || (0x00 || lp(value) | 0x01 || hmac (32))
//!     opt(None) = 0x00, opt(Some(x)) = 0x01 || lp(x)
//! hash_i = SHA-256(lp("amanah.audit.v1.event") || hash_{i-1} || canonical(event_i)),
//!     hash_0 = 32 zero bytes, seq from 1
//! detail hmac = HMAC-SHA256(key, lp("amanah.audit.v1.detail") || lp(name) || lp(value))
//! checkpoint signature = Ed25519(lp("amanah.audit.v1.checkpoint") || 0x01
//!     || seq (u64) || hash (32) || time_unix_ms (i64) || lp(node) || lp(key_id))
//! ```
//!
//! # What it proves, and what it cannot
//!
//! The chain makes any edit, deletion, insertion or reordering of stored
//! events visible unless the attacker recomputes every hash after it. A
//! writer of the store *can* do that (the chain has no secret), so the
//! signed checkpoints, kept outside the store, are what binds history:
//! events up to the last exported checkpoint are protected by its
//! signature; events after it only by the chain, which an attacker with
//! write access can rewrite whole, and truncation after the last
//! checkpoint is undetectable. [`Report::last_checkpoint_seq`] says where
//! that boundary lies.
//!
//! # Invariants
//!
//! - A sensitive detail value is never stored: only its HMAC
//!   ([`DetailHasher`]). Neither the canonical bytes nor the JSON form
//!   hold it.
//! - Verifying allocates nothing per event (one reused buffer, one
//!   SHA-256 per event on the intact path).
//! - No input makes the JSON parsers or the verifier panic (fuzz target
//!   `audit_verify`).

#![forbid(unsafe_code)]

pub mod alerts;
mod chain;
mod checkpoint;
mod encoding;
mod event;
#[doc(hidden)]
pub mod fuzz_checks;
mod verify;

pub use chain::{event_hash, Chain, ChainedEvent, Hash, StoredEvent, GENESIS_HASH};
pub use checkpoint::{
    parse_checkpoint_file, Checkpoint, CheckpointPolicy, SigningKey, VerifyingKey,
    CHECKPOINT_FORMAT_V1, ED25519_KEY_LEN, SIGNATURE_LEN,
};
pub use encoding::hex_encode;
pub use event::{
    DetailHasher, DetailValue, Event, Outcome, DETAIL_KEY_MIN_LEN, EVENT_FORMAT_V1, HASH_LEN,
};
pub use verify::{verify, Damage, Report, Verifier};

/// Why a value could not be parsed or a key used. Messages never hold key
/// material.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditError {
    /// An event's JSON form is malformed (the message says where).
    #[error("audit event is invalid: {0}")]
    InvalidEvent(String),
    /// A stored hash is not 32 bytes.
    #[error("audit hash is not 32 bytes")]
    InvalidHash,
    /// A checkpoint's text form is malformed.
    #[error("checkpoint is invalid: {0}")]
    InvalidCheckpoint(String),
    /// A line of an anchor file is not a checkpoint.
    #[error("checkpoint file line {line}: {message}")]
    InvalidCheckpointLine { line: usize, message: String },
    /// A key could not be loaded.
    #[error("audit key is invalid: {0}")]
    InvalidKey(&'static str),
    /// A checkpoint names another key than the one verifying it.
    #[error("checkpoint was signed by another key")]
    WrongKey,
    /// A checkpoint's signature does not verify.
    #[error("checkpoint signature does not verify")]
    BadSignature,
}
