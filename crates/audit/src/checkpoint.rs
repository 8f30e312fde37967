//! Signed checkpoints: the external anchor of the chain.

use std::fmt;

use ring::digest;
use ring::rand::SystemRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::chain::Hash;
use crate::encoding::{base64_decode, base64_encode, hex_decode_array, hex_encode, push_lp};
use crate::AuditError;

/// The format byte inside the signed payload, and the JSON `"v"` member.
pub const CHECKPOINT_FORMAT_V1: u8 = 1;
/// Length of an Ed25519 public key and of a seed.
pub const ED25519_KEY_LEN: usize = 32;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

const LABEL_CHECKPOINT: &[u8] = b"amanah.audit.v1.checkpoint";

enum Secret {
    Seed(Zeroizing<[u8; ED25519_KEY_LEN]>),
    Pkcs8(Zeroizing<Vec<u8>>),
}

/// The Ed25519 key that signs checkpoints.
///
/// Only the caller's key bytes (seed or PKCS#8) are kept, in a zeroized
/// buffer; `ring`'s key pair is rebuilt for each signature (checkpoints are
/// rare) and dropped at once, though `ring` does not wipe it. `Debug`
/// shows the key id only.
pub struct SigningKey {
    secret: Secret,
    public: VerifyingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.public.key_id())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// From a 32-byte Ed25519 seed (RFC 8032 private key). The caller
    /// wipes its copy.
    pub fn from_seed(seed: &[u8]) -> Result<Self, AuditError> {
        let seed: [u8; ED25519_KEY_LEN] = seed
            .try_into()
            .map_err(|_| AuditError::InvalidKey("an Ed25519 seed is 32 bytes"))?;
        let seed = Zeroizing::new(seed);
        let secret = Secret::Seed(seed);
        let public = VerifyingKey::from_pair(&key_pair(&secret)?);
        Ok(Self { secret, public })
    }

    /// From a PKCS#8 v1 or v2 document (DER), as written by
    /// [`generate_pkcs8`](Self::generate_pkcs8) or
    /// `openssl genpkey -algorithm ed25519 -outform DER`.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, AuditError> {
        let secret = Secret::Pkcs8(Zeroizing::new(der.to_vec()));
        let public = VerifyingKey::from_pair(&key_pair(&secret)?);
        Ok(Self { secret, public })
    }

    /// A new random key as a PKCS#8 v2 document, to store in the
    /// deployment's secret store (for a `keygen` command).
    pub fn generate_pkcs8() -> Zeroizing<Vec<u8>> {
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .expect("the OS random generator works");
        Zeroizing::new(doc.as_ref().to_vec())
    }

    /// The public half, to give to verifiers.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// Signs a checkpoint of the event `seq` whose chain hash is `hash`.
    pub fn sign(&self, seq: u64, hash: Hash, time_unix_ms: i64, node: &str) -> Checkpoint {
        let mut cp = Checkpoint {
            seq,
            hash,
            time_unix_ms,
            node: node.to_owned(),
            key_id: self.public.key_id(),
            signature: [0u8; SIGNATURE_LEN],
        };
        let pair = key_pair(&self.secret).expect("the key was checked when it was loaded");
        let sig = pair.sign(&cp.signed_payload());
        cp.signature.copy_from_slice(sig.as_ref());
        cp
    }
}

fn key_pair(secret: &Secret) -> Result<Ed25519KeyPair, AuditError> {
    match secret {
        Secret::Seed(seed) => Ed25519KeyPair::from_seed_unchecked(&seed[..])
            .map_err(|_| AuditError::InvalidKey("not an Ed25519 seed")),
        Secret::Pkcs8(der) => Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|_| AuditError::InvalidKey("not an Ed25519 PKCS#8 document")),
    }
}

/// The Ed25519 public key that verifies checkpoints.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    bytes: [u8; ED25519_KEY_LEN],
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({})", self.key_id())
    }
}

impl VerifyingKey {
    fn from_pair(pair: &Ed25519KeyPair) -> Self {
        let mut bytes = [0u8; ED25519_KEY_LEN];
        bytes.copy_from_slice(pair.public_key().as_ref());
        Self { bytes }
    }

    /// From the 32 raw bytes of the public key (RFC 8032).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AuditError> {
        let bytes = bytes
            .try_into()
            .map_err(|_| AuditError::InvalidKey("an Ed25519 public key is 32 bytes"))?;
        Ok(Self { bytes })
    }

    /// From standard base64 with padding (44 characters) of the 32 raw
    /// bytes; surrounding ASCII whitespace is ignored.
    pub fn from_base64(text: &str) -> Result<Self, AuditError> {
        let bytes = base64_decode(text.trim_matches(|c: char| c.is_ascii_whitespace())).ok_or(
            AuditError::InvalidKey("the public key is not standard padded base64"),
        )?;
        Self::from_bytes(&bytes)
    }

    /// The 32 raw bytes as padded standard base64.
    pub fn to_base64(&self) -> String {
        base64_encode(&self.bytes)
    }

    pub fn as_bytes(&self) -> &[u8; ED25519_KEY_LEN] {
        &self.bytes
    }

    /// The first 8 bytes of SHA-256 of the raw public key, as 16 lowercase
    /// hex digits: names the key in checkpoints.
    pub fn key_id(&self) -> String {
        let d = digest::digest(&digest::SHA256, &self.bytes);
        hex_encode(&d.as_ref()[..8])
    }

    /// Checks that `checkpoint` names this key and that its signature
    /// verifies.
    pub fn verify(&self, checkpoint: &Checkpoint) -> Result<(), AuditError> {
        if checkpoint.key_id != self.key_id() {
            return Err(AuditError::WrongKey);
        }
        signature::UnparsedPublicKey::new(&signature::ED25519, &self.bytes)
            .verify(&checkpoint.signed_payload(), &checkpoint.signature)
            .map_err(|_| AuditError::BadSignature)
    }
}

/// A signed statement "the event `seq` of this chain has hash `hash`".
/// Exported (to a file, a webhook, another system) it is the anchor that
/// makes rewriting the chain up to `seq` detectable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: u64,
    pub hash: Hash,
    /// When it was signed, milliseconds since the Unix epoch.
    pub time_unix_ms: i64,
    /// The node that signed it.
    pub node: String,
    /// [`VerifyingKey::key_id`] of the signing key.
    pub key_id: String,
    pub signature: [u8; SIGNATURE_LEN],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointJson {
    v: u8,
    seq: u64,
    hash: String,
    time_unix_ms: i64,
    node: String,
    key_id: String,
    signature: String,
}

impl Checkpoint {
    /// The bytes the signature covers (format in the crate docs).
    pub fn signed_payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            8 + LABEL_CHECKPOINT.len() + 1 + 8 + 32 + 8 + 16 + self.node.len() + 16,
        );
        push_lp(&mut out, LABEL_CHECKPOINT);
        out.push(CHECKPOINT_FORMAT_V1);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.hash);
        out.extend_from_slice(&self.time_unix_ms.to_be_bytes());
        push_lp(&mut out, self.node.as_bytes());
        push_lp(&mut out, self.key_id.as_bytes());
        out
    }

    /// One line of JSON without a trailing newline: a line of the anchor
    /// file, and the body of the webhook.
    pub fn to_text(&self) -> String {
        serde_json::to_string(&CheckpointJson {
            v: CHECKPOINT_FORMAT_V1,
            seq: self.seq,
            hash: hex_encode(&self.hash),
            time_unix_ms: self.time_unix_ms,
            node: self.node.clone(),
            key_id: self.key_id.clone(),
            signature: hex_encode(&self.signature),
        })
        .expect("a checkpoint always serializes")
    }

    /// Parses [`to_text`](Self::to_text) strictly (surrounding ASCII
    /// whitespace ignored). Checks the form, not the signature.
    pub fn from_text(text: &str) -> Result<Self, AuditError> {
        let bad = |m: &str| AuditError::InvalidCheckpoint(m.to_owned());
        let j: CheckpointJson =
            serde_json::from_str(text.trim_matches(|c: char| c.is_ascii_whitespace()))
                .map_err(|e| AuditError::InvalidCheckpoint(e.to_string()))?;
        if j.v != CHECKPOINT_FORMAT_V1 {
            return Err(bad("unknown checkpoint format version"));
        }
        Ok(Self {
            seq: j.seq,
            hash: hex_decode_array(&j.hash)
                .ok_or_else(|| bad("hash must be 64 lowercase hex digits"))?,
            time_unix_ms: j.time_unix_ms,
            node: j.node,
            key_id: j.key_id,
            signature: hex_decode_array(&j.signature)
                .ok_or_else(|| bad("signature must be 128 lowercase hex digits"))?,
        })
    }
}

/// Parses an anchor file: one [`Checkpoint::to_text`] per line, blank lines
/// skipped. The error names the 1-based line.
pub fn parse_checkpoint_file(text: &str) -> Result<Vec<Checkpoint>, AuditError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cp = Checkpoint::from_text(line).map_err(|e| AuditError::InvalidCheckpointLine {
            line: i + 1,
            message: e.to_string(),
        })?;
        out.push(cp);
    }
    Ok(out)
}

/// When to sign the next checkpoint: after `every_events` new events or
/// `every_secs` seconds with at least one new event, whichever comes
/// first. 0 turns that trigger off. The gap between checkpoints is how
/// much history an attacker with write access can rewrite undetected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPolicy {
    pub every_events: u64,
    pub every_secs: u64,
}

impl Default for CheckpointPolicy {
    /// Every 1000 events or 60 seconds.
    fn default() -> Self {
        Self {
            every_events: 1000,
            every_secs: 60,
        }
    }
}

impl CheckpointPolicy {
    /// Whether a checkpoint is due now that the chain has reached `seq`,
    /// given the last one signed (`None`: none yet). Never due without a
    /// new event (`seq` at or below the last checkpoint's). Without a
    /// previous checkpoint the time trigger fires at the first event, so a
    /// new chain is anchored early.
    pub fn due(&self, last: Option<&Checkpoint>, now_unix_ms: i64, seq: u64) -> bool {
        let (last_seq, last_time) = match last {
            Some(cp) => (cp.seq, Some(cp.time_unix_ms)),
            None => (0, None),
        };
        if seq <= last_seq {
            return false;
        }
        if self.every_events > 0 && seq - last_seq >= self.every_events {
            return true;
        }
        if self.every_secs > 0 {
            return match last_time {
                None => true,
                Some(t) => {
                    let elapsed = i128::from(now_unix_ms) - i128::from(t);
                    elapsed >= i128::from(self.every_secs) * 1000
                }
            };
        }
        false
    }
}
