//! Envelope encryption for records at rest (transcripts, documents about
//! data subjects): the pure core of a keyring.
//!
//! Three layers of keys:
//!
//! - **Root key** ([`RootKey`], 32 bytes): from the deployment's
//!   [`KeyProvider`] (a file, an environment variable, later a KMS or HSM).
//!   It only seals KEKs; nothing else may ever be encrypted under it.
//! - **KEKs** ([`Kek`], key-encryption keys): versioned (1, 2, …), rotated
//!   every [`DEFAULT_ROTATION_PERIOD_SECS`]. The gateway stores them sealed
//!   by the root key ([`RootKey::seal_kek`]) and loads them into a
//!   [`Keyring`]. The newest is *current*: it wraps every new data key.
//! - **Data keys** ([`DataKey`], DEKs): one per data subject or tenant,
//!   random, stored only wrapped by a KEK ([`WrappedKey`]) and bound to
//!   their owner. They encrypt the records ([`DataKey::encrypt`]).
//!
//! Rotating a KEK never touches record ciphertext: [`Keyring::rewrap`]
//! re-encrypts a 32-byte data key under the current KEK, so no record
//! plaintext is exposed and the cost does not grow with the data. Once every
//! wrapped key has been rewrapped, [`Keyring::set_min_decryption_version`]
//! retires the old KEKs. Erasing a subject's wrapped data key makes all of
//! their records unreadable (crypto-shredding).
//!
//! # Formats (version 1)
//!
//! All integers are big-endian. Every encryption is AES-256-GCM (NIST SP
//! 800-38D) with a fresh random 96-bit nonce and a 128-bit tag; `||` is
//! concatenation. `lp(x)` is a length-prefixed byte string: the length of
//! `x` in bytes as a `u64`, then `x`. Labels are ASCII, without a NUL.
//!
//! **Root key as text** ([`RootKey::from_base64`]): standard base64 (RFC
//! 4648 §4, `+/` alphabet, `=` padding required) of exactly 32 bytes, i.e.
//! 44 characters ending in one `=`; leading and trailing ASCII whitespace is
//! ignored, nothing else is.
//!
//! **Sealed KEK** ([`RootKey::seal_kek`]), 73 bytes, key = the root key:
//!
//! ```text
//! 0x01 || version (u32) || created_at (u64, unix seconds) || nonce (12)
//!      || ciphertext (32, the KEK) || tag (16)
//! AAD = lp("amanah.envelope.v1.kek") || 0x01 || version (u32) || created_at (u64)
//! ```
//!
//! **Wrapped data key** ([`WrappedKey::to_bytes`]), 65 bytes, key = the KEK
//! of that version:
//!
//! ```text
//! 0x01 || kek_version (u32) || nonce (12) || ciphertext (32, the DEK) || tag (16)
//! AAD = lp("amanah.envelope.v1.dek") || 0x01 || kek_version (u32) || lp(owner)
//! ```
//!
//! `owner` is the UTF-8 id of the data subject or tenant the key belongs to.
//!
//! **Record** ([`DataKey::encrypt`]), plaintext length + 33 bytes, key = the
//! data key:
//!
//! ```text
//! 0x01 || key_version (u32) || nonce (12) || ciphertext (same length as the plaintext) || tag (16)
//! AAD = lp("amanah.envelope.v1.record") || 0x01 || key_version (u32)
//!       || lp(record_id) || lp(subject) || lp(kind) || lp(data_class)
//!       || opt(region) || opt(purpose)
//! opt(None) = 0x00, opt(Some(x)) = 0x01 || lp(x)
//! ```
//!
//! `record_id`, `subject`, `kind`, `data_class`, `region` and `purpose` are
//! UTF-8 ([`RecordAad`]). Every stored attribute that decides who may read
//! a record (its data class, its region, the consent purpose) is bound, so
//! someone who can write the database but holds no key cannot relabel a
//! child's transcript as `general` data: the record no longer decrypts.
//! `key_version` identifies the data key to the caller (e.g. the subject's
//! data-key generation); it is written in the clear so a reader can pick the
//! key before decrypting ([`ciphertext_key_version`]) and is authenticated
//! through the AAD. It is not the KEK version: rewrapping a data key leaves
//! its records as they are.
//!
//! In each AAD the label keeps the three kinds of ciphertext apart, the
//! format byte binds the version of this scheme, and the header fields are
//! bound so they cannot be edited (a sealed KEK relabelled as another
//! version, a wrapped key or record moved to another owner, id or kind all
//! fail authentication). The length prefixes make the encodings injective:
//! `("ab", "c")` and `("a", "bc")` differ.
//!
//! # Nonces
//!
//! Random 96-bit nonces keep the chance of a repeat below 2^-32 for up to
//! 2^32 encryptions under one key (SP 800-38D §8.3). A data key encrypts one
//! subject's records, a KEK wraps one key per subject and is rotated every
//! 90 days, and the root key seals one KEK per rotation: all far below.
//!
//! # Memory
//!
//! Key bytes live in zeroized buffers and every `Debug` hides them. `ring`
//! keeps the AES key schedule it derives opaque and does not zeroize it on
//! drop; [`Kek`] and [`DataKey`] hold theirs for as long as they live, so
//! drop a data key when its records are done.

use std::collections::BTreeMap;
use std::fmt;

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use zeroize::{Zeroize, Zeroizing};

use crate::{random, SecretString};

#[cfg(test)]
mod tests;

/// Length of every key here (root key, KEK, data key): AES-256.
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = aead::NONCE_LEN;
const TAG_LEN: usize = 16;
/// The format byte that starts every value this module writes.
pub const FORMAT_V1: u8 = 1;

const LABEL_KEK: &[u8] = b"amanah.envelope.v1.kek";
const LABEL_DEK: &[u8] = b"amanah.envelope.v1.dek";
const LABEL_RECORD: &[u8] = b"amanah.envelope.v1.record";

/// Length of a sealed KEK.
pub const SEALED_KEK_LEN: usize = 1 + 4 + 8 + NONCE_LEN + KEY_LEN + TAG_LEN;
/// Length of a wrapped data key.
pub const WRAPPED_KEY_LEN: usize = 1 + 4 + NONCE_LEN + KEY_LEN + TAG_LEN;
const RECORD_HEADER_LEN: usize = 1 + 4 + NONCE_LEN;
/// Bytes a record ciphertext has beyond its plaintext.
pub const RECORD_OVERHEAD: usize = RECORD_HEADER_LEN + TAG_LEN;

/// How long a KEK stays current before [`Keyring::needs_rotation`] says to
/// rotate: 90 days.
pub const DEFAULT_ROTATION_PERIOD_SECS: u64 = 90 * 24 * 60 * 60;

/// Why a key or record could not be used. Deliberately without detail about
/// the bytes: versions are shown, key material and plaintext never.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Too short (or, for fixed-size values, of the wrong length) to hold
    /// its header, nonce and tag, or a header field out of range.
    #[error("encrypted value is malformed")]
    Malformed,
    /// Starts with a format byte this build does not know.
    #[error("encrypted value has an unknown format")]
    UnknownFormat,
    /// Authentication failed: wrong key, wrong owner or AAD, or altered
    /// bytes.
    #[error("encrypted value failed authentication")]
    Forged,
    /// Wrapped under a KEK version the keyring does not hold.
    #[error("key version {version} is unknown")]
    UnknownKeyVersion { version: u32 },
    /// Wrapped under a KEK version below the keyring's minimum decryption
    /// version: it has been retired and must not be used any more.
    #[error("key version {version} is retired")]
    KeyVersionRetired { version: u32 },
    /// A KEK version of 0, or a minimum decryption version above the
    /// current KEK.
    #[error("key version {version} is not valid here")]
    InvalidKeyVersion { version: u32 },
    /// [`Keyring::new`] was given no KEK.
    #[error("keyring has no key")]
    EmptyKeyring,
    /// [`Keyring::new`] was given two KEKs of one version.
    #[error("key version {version} appears more than once")]
    DuplicateKeyVersion { version: u32 },
    /// The root key text is not what [`RootKey::from_base64`] accepts.
    #[error("root key is invalid: {0}")]
    InvalidRootKey(&'static str),
}

// ------------------------------------------------------------------ encoding

fn push_lp(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(&(field.len() as u64).to_be_bytes());
    out.extend_from_slice(field);
}

fn kek_aad(version: u32, created_at: u64) -> Vec<u8> {
    let mut aad = Vec::with_capacity(8 + LABEL_KEK.len() + 1 + 4 + 8);
    push_lp(&mut aad, LABEL_KEK);
    aad.push(FORMAT_V1);
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(&created_at.to_be_bytes());
    aad
}

fn dek_aad(kek_version: u32, owner: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(8 + LABEL_DEK.len() + 1 + 4 + 8 + owner.len());
    push_lp(&mut aad, LABEL_DEK);
    aad.push(FORMAT_V1);
    aad.extend_from_slice(&kek_version.to_be_bytes());
    push_lp(&mut aad, owner.as_bytes());
    aad
}

fn read_u32(bytes: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[..4]);
    u32::from_be_bytes(b)
}

fn read_u64(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(b)
}

fn aes_key(bytes: &[u8; KEY_LEN]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).expect("32 bytes is an AES-256-GCM key"))
}

fn random_key() -> Zeroizing<[u8; KEY_LEN]> {
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    random::fill(&mut *bytes);
    bytes
}

/// Seals a 32-byte key: `header || nonce || ciphertext || tag`.
fn seal_key(
    key: &LessSafeKey,
    header: &[u8],
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    plain: &[u8; KEY_LEN],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(header.len() + NONCE_LEN + KEY_LEN + TAG_LEN);
    out.extend_from_slice(header);
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(plain);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[start..],
        )
        .expect("32 bytes is far below AES-GCM's length limit");
    out.extend_from_slice(tag.as_ref());
    out
}

/// Opens `nonce || ciphertext (32) || tag` into a zeroized key.
fn open_key(
    key: &LessSafeKey,
    body: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<[u8; KEY_LEN]>, EnvelopeError> {
    if body.len() != NONCE_LEN + KEY_LEN + TAG_LEN {
        return Err(EnvelopeError::Malformed);
    }
    let (nonce, rest) = body.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(KEY_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| EnvelopeError::Malformed)?;
    let tag = aead::Tag::try_from(tag).map_err(|_| EnvelopeError::Malformed)?;
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    out.copy_from_slice(ciphertext);
    key.open_in_place_separate_tag(nonce, Aad::from(aad), tag, &mut out[..], 0..)
        .map_err(|_| EnvelopeError::Forged)?;
    Ok(out)
}

// ------------------------------------------------------------------ root key

/// The deployment's root key: seals and opens KEKs, nothing else.
///
/// Zeroized on drop; `Debug` prints `RootKey(***)`.
#[derive(Clone)]
pub struct RootKey(Zeroizing<[u8; KEY_LEN]>);

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey(***)")
    }
}

impl RootKey {
    /// A new random root key (for `keygen`-style commands and tests).
    pub fn generate() -> Self {
        Self(random_key())
    }

    /// From raw bytes, e.g. returned by a KMS. The caller wipes its copy.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() != KEY_LEN {
            return Err(EnvelopeError::InvalidRootKey("it must be exactly 32 bytes"));
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        key.copy_from_slice(bytes);
        Ok(Self(key))
    }

    /// From standard base64 (`+/`, `=` padding) of exactly 32 bytes, as made
    /// by `openssl rand -base64 32`. Surrounding ASCII whitespace (a
    /// trailing newline in a key file) is ignored.
    pub fn from_base64(text: &str) -> Result<Self, EnvelopeError> {
        let decoded = crate::base64::decode_standard_padded(
            text.trim_matches(|c: char| c.is_ascii_whitespace())
                .as_bytes(),
        )
        .map(Zeroizing::new)
        .ok_or(EnvelopeError::InvalidRootKey(
            "it is not standard base64 (A-Z a-z 0-9 + / with = padding)",
        ))?;
        if decoded.len() != KEY_LEN {
            return Err(EnvelopeError::InvalidRootKey(
                "it must decode to exactly 32 bytes (44 base64 characters)",
            ));
        }
        Self::from_bytes(&decoded)
    }

    /// The key as padded standard base64, which [`from_base64`](Self::from_base64)
    /// reads back. Only for showing a freshly generated key once.
    pub fn to_base64(&self) -> SecretString {
        SecretString::new(crate::base64::encode_standard(&*self.0))
    }

    /// Seals `kek` for the key store (format: module docs, 73 bytes). The
    /// version and creation time travel in the clear and are authenticated.
    pub fn seal_kek(&self, kek: &Kek) -> Vec<u8> {
        self.seal_kek_with_nonce(kek, random::bytes::<NONCE_LEN>())
    }

    fn seal_kek_with_nonce(&self, kek: &Kek, nonce: [u8; NONCE_LEN]) -> Vec<u8> {
        let mut header = [0u8; 1 + 4 + 8];
        header[0] = FORMAT_V1;
        header[1..5].copy_from_slice(&kek.version.to_be_bytes());
        header[5..].copy_from_slice(&kek.created_at.to_be_bytes());
        let aad = kek_aad(kek.version, kek.created_at);
        seal_key(&aes_key(&self.0), &header, nonce, &aad, &kek.bytes)
    }

    /// Opens a KEK sealed by [`seal_kek`](Self::seal_kek) under this root
    /// key.
    pub fn open_kek(&self, sealed: &[u8]) -> Result<Kek, EnvelopeError> {
        let (&format, rest) = sealed.split_first().ok_or(EnvelopeError::Malformed)?;
        if format != FORMAT_V1 {
            return Err(EnvelopeError::UnknownFormat);
        }
        if sealed.len() != SEALED_KEK_LEN {
            return Err(EnvelopeError::Malformed);
        }
        let version = read_u32(rest);
        let created_at = read_u64(&rest[4..]);
        let bytes = open_key(
            &aes_key(&self.0),
            &rest[12..],
            &kek_aad(version, created_at),
        )?;
        // Only a version-0 KEK sealed by someone else could get here.
        if version == 0 {
            return Err(EnvelopeError::Malformed);
        }
        Ok(Kek::from_parts(version, created_at, bytes))
    }
}

// ------------------------------------------------------------------ provider

/// Why a [`KeyProvider`] could not give the root key. Implementations put
/// where they looked and what went wrong in the message, never the key or
/// the content of a key file.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProviderError {
    /// The source could not be read (missing file, unset variable, KMS
    /// unreachable or refusing).
    #[error("{provider}: root key unavailable: {reason}")]
    Unavailable { provider: String, reason: String },
    /// The source was read but does not hold a valid root key.
    #[error("{provider}: {error}")]
    Invalid {
        provider: String,
        error: EnvelopeError,
    },
}

/// Where the root key comes from: the seam for a KMS or HSM.
///
/// The file and environment-variable providers live in the gateway (this
/// crate does no IO); a KMS provider would fetch or unwrap the root key
/// there too. Called at start-up and whenever the key store is opened, so it
/// may be slow, but should not be called per request.
pub trait KeyProvider: Send + Sync {
    /// The root key, freshly read.
    fn root_key(&self) -> Result<RootKey, ProviderError>;

    /// Where the key comes from, for logs and errors, e.g.
    /// `"file /etc/amanah/root.key"`. Never the key.
    fn describe(&self) -> String;
}

/// A provider holding a fixed key in memory: for tests.
#[derive(Debug, Clone)]
pub struct StaticKeyProvider(RootKey);

impl StaticKeyProvider {
    pub fn new(key: RootKey) -> Self {
        Self(key)
    }
}

impl KeyProvider for StaticKeyProvider {
    fn root_key(&self) -> Result<RootKey, ProviderError> {
        Ok(self.0.clone())
    }

    fn describe(&self) -> String {
        "static key (tests only)".to_owned()
    }
}

// ------------------------------------------------------------------ KEK

/// A versioned key-encryption key: wraps data keys.
///
/// Zeroized on drop; `Debug` shows the version and creation time only.
pub struct Kek {
    version: u32,
    created_at: u64,
    bytes: Zeroizing<[u8; KEY_LEN]>,
    key: LessSafeKey,
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kek")
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl Kek {
    /// A new random KEK. `version` must be at least 1; `created_at` is in
    /// unix seconds.
    pub fn generate(version: u32, created_at: u64) -> Result<Self, EnvelopeError> {
        if version == 0 {
            return Err(EnvelopeError::InvalidKeyVersion { version });
        }
        Ok(Self::from_parts(version, created_at, random_key()))
    }

    fn from_parts(version: u32, created_at: u64, bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        let key = aes_key(&bytes);
        Self {
            version,
            created_at,
            bytes,
            key,
        }
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Unix seconds.
    pub fn created_at(&self) -> u64 {
        self.created_at
    }

    fn wrap_with_nonce(&self, dek: &DataKey, owner: &str, nonce: [u8; NONCE_LEN]) -> WrappedKey {
        let mut header = [0u8; 1 + 4];
        header[0] = FORMAT_V1;
        header[1..].copy_from_slice(&self.version.to_be_bytes());
        let bytes = seal_key(
            &self.key,
            &header,
            nonce,
            &dek_aad(self.version, owner),
            &dek.bytes,
        );
        WrappedKey {
            kek_version: self.version,
            bytes,
        }
    }

    fn wrap(&self, dek: &DataKey, owner: &str) -> WrappedKey {
        self.wrap_with_nonce(dek, owner, random::bytes::<NONCE_LEN>())
    }

    fn unwrap(&self, wrapped: &WrappedKey, owner: &str) -> Result<DataKey, EnvelopeError> {
        debug_assert_eq!(wrapped.kek_version, self.version);
        let bytes = open_key(
            &self.key,
            &wrapped.bytes[5..],
            &dek_aad(self.version, owner),
        )?;
        Ok(DataKey::from_bytes(bytes))
    }
}

// ------------------------------------------------------------------ wrapped key

/// A data key wrapped by a KEK, as stored next to its owner (65 bytes,
/// format in the module docs).
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    kek_version: u32,
    /// The whole encoding: format byte, KEK version, nonce, ciphertext, tag.
    bytes: Vec<u8>,
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("kek_version", &self.kek_version)
            .finish_non_exhaustive()
    }
}

impl WrappedKey {
    /// The KEK version it is wrapped under: below the keyring's current
    /// version, it wants [`Keyring::rewrap`].
    pub fn kek_version(&self) -> u32 {
        self.kek_version
    }

    /// The encoding to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The encoding to store.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// Parses a stored encoding. Checks the shape only; authenticity is
    /// checked by [`Keyring::unwrap`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let (&format, rest) = bytes.split_first().ok_or(EnvelopeError::Malformed)?;
        if format != FORMAT_V1 {
            return Err(EnvelopeError::UnknownFormat);
        }
        if bytes.len() != WRAPPED_KEY_LEN {
            return Err(EnvelopeError::Malformed);
        }
        let kek_version = read_u32(rest);
        if kek_version == 0 {
            return Err(EnvelopeError::Malformed);
        }
        Ok(Self {
            kek_version,
            bytes: bytes.to_vec(),
        })
    }
}

// ------------------------------------------------------------------ keyring

/// The KEKs of a deployment: the current one wraps new data keys, the older
/// ones still unwrap until retired.
///
/// The gateway persists the KEKs (sealed, see [`keks`](Self::keks)) and the
/// minimum decryption version, and rebuilds the keyring from them at start.
/// `Keyring` is `Send + Sync`; [`rotate`](Self::rotate) and
/// [`set_min_decryption_version`](Self::set_min_decryption_version) need
/// `&mut`, so share it behind a lock or swap it whole.
///
/// `Debug` lists versions only.
pub struct Keyring {
    keks: BTreeMap<u32, Kek>,
    current: u32,
    min_decryption_version: u32,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("versions", &self.keks.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .field("min_decryption_version", &self.min_decryption_version)
            .finish()
    }
}

impl Keyring {
    /// A keyring of `keks`; the highest version is current and nothing is
    /// retired (minimum decryption version 1).
    pub fn new(keks: Vec<Kek>) -> Result<Self, EnvelopeError> {
        let mut map = BTreeMap::new();
        for kek in keks {
            let version = kek.version;
            if map.insert(version, kek).is_some() {
                return Err(EnvelopeError::DuplicateKeyVersion { version });
            }
        }
        let current = *map.keys().next_back().ok_or(EnvelopeError::EmptyKeyring)?;
        Ok(Self {
            keks: map,
            current,
            min_decryption_version: 1,
        })
    }

    /// The version that wraps new data keys.
    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// The KEK that wraps new data keys.
    pub fn current(&self) -> &Kek {
        &self.keks[&self.current]
    }

    /// Wrapped keys below this version are refused.
    pub fn min_decryption_version(&self) -> u32 {
        self.min_decryption_version
    }

    /// Adds a new random KEK, version = highest + 1, created at `now_unix`,
    /// and makes it current for new data keys. Older KEKs keep unwrapping.
    /// Persist it (sealed by the root key) before using it.
    ///
    /// # Panics
    /// After 2^32 - 1 rotations.
    pub fn rotate(&mut self, now_unix: u64) -> &Kek {
        let highest = *self
            .keks
            .keys()
            .next_back()
            .expect("a keyring is never empty");
        let version = highest
            .checked_add(1)
            .expect("KEK versions are exhausted after 2^32 - 1 rotations");
        let kek = Kek::generate(version, now_unix).expect("version is at least 2");
        self.keks.insert(version, kek);
        self.current = version;
        &self.keks[&version]
    }

    /// True when the current KEK is at least `period_secs` old at
    /// `now_unix` (e.g. [`DEFAULT_ROTATION_PERIOD_SECS`]). A creation time in
    /// the future counts as age 0.
    pub fn needs_rotation(&self, now_unix: u64, period_secs: u64) -> bool {
        now_unix.saturating_sub(self.current().created_at) >= period_secs
    }

    /// Refuses to unwrap (or rewrap) keys wrapped under versions below `v`.
    /// Raise it once every stored wrapped key has been rewrapped; it may be
    /// lowered again. Errors when `v` is 0 or above the current version.
    pub fn set_min_decryption_version(&mut self, v: u32) -> Result<(), EnvelopeError> {
        if v == 0 || v > self.current {
            return Err(EnvelopeError::InvalidKeyVersion { version: v });
        }
        self.min_decryption_version = v;
        Ok(())
    }

    /// A new random data key for `owner` (a data subject or tenant id), and
    /// its wrapping under the current KEK to store.
    pub fn new_data_key(&self, owner: &str) -> (DataKey, WrappedKey) {
        let dek = DataKey::generate();
        let wrapped = self.current().wrap(&dek, owner);
        (dek, wrapped)
    }

    /// The data key in `wrapped`, which must belong to `owner`.
    pub fn unwrap(&self, wrapped: &WrappedKey, owner: &str) -> Result<DataKey, EnvelopeError> {
        self.kek_for(wrapped.kek_version)?.unwrap(wrapped, owner)
    }

    /// The same data key wrapped under the current KEK. Record ciphertext is
    /// untouched (the data key does not change), so no record plaintext is
    /// ever exposed; store the result in place of `wrapped`.
    pub fn rewrap(&self, wrapped: &WrappedKey, owner: &str) -> Result<WrappedKey, EnvelopeError> {
        let dek = self.unwrap(wrapped, owner)?;
        Ok(self.current().wrap(&dek, owner))
    }

    /// True when `wrapped` is under an older KEK than the current one.
    pub fn needs_rewrap(&self, wrapped: &WrappedKey) -> bool {
        wrapped.kek_version < self.current
    }

    /// Every KEK, by ascending version: to persist with [`RootKey::seal_kek`].
    pub fn keks(&self) -> impl Iterator<Item = &Kek> + '_ {
        self.keks.values()
    }

    fn kek_for(&self, version: u32) -> Result<&Kek, EnvelopeError> {
        let kek = self
            .keks
            .get(&version)
            .ok_or(EnvelopeError::UnknownKeyVersion { version })?;
        if version < self.min_decryption_version {
            return Err(EnvelopeError::KeyVersionRetired { version });
        }
        Ok(kek)
    }
}

// ------------------------------------------------------------------ records

/// What a record ciphertext is bound to: moving it to another record,
/// subject or kind, or presenting it as another key version, fails
/// authentication. Encoded as in the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordAad<'a> {
    /// The record's id (e.g. a transcript or document id).
    pub record_id: &'a str,
    /// The data subject (or tenant) the record is about.
    pub subject: &'a str,
    /// The kind of record, e.g. `"transcript"`.
    pub kind: &'a str,
    /// The caller's version of the data key (see the module docs).
    pub key_version: u32,
    /// The record's data class (`general`, `child`, `health`...).
    pub data_class: &'a str,
    /// The region the record is pinned to, if any.
    pub region: Option<&'a str>,
    /// The consent purpose it was collected under, if any.
    pub purpose: Option<&'a str>,
}

impl RecordAad<'_> {
    /// The canonical AAD encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut aad = Vec::with_capacity(
            4 * 8
                + LABEL_RECORD.len()
                + 1
                + 4
                + self.record_id.len()
                + self.subject.len()
                + self.kind.len()
                + 3 * 8
                + 2
                + self.data_class.len()
                + self.region.map_or(0, str::len)
                + self.purpose.map_or(0, str::len),
        );
        push_lp(&mut aad, LABEL_RECORD);
        aad.push(FORMAT_V1);
        aad.extend_from_slice(&self.key_version.to_be_bytes());
        push_lp(&mut aad, self.record_id.as_bytes());
        push_lp(&mut aad, self.subject.as_bytes());
        push_lp(&mut aad, self.kind.as_bytes());
        push_lp(&mut aad, self.data_class.as_bytes());
        for optional in [self.region, self.purpose] {
            match optional {
                None => aad.push(0),
                Some(value) => {
                    aad.push(1);
                    push_lp(&mut aad, value.as_bytes());
                }
            }
        }
        aad
    }
}

/// A data key: encrypts one owner's records.
///
/// Zeroized on drop; `Debug` prints `DataKey(***)`.
pub struct DataKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
    key: LessSafeKey,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(***)")
    }
}

impl DataKey {
    fn generate() -> Self {
        Self::from_bytes(random_key())
    }

    fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        let key = aes_key(&bytes);
        Self { bytes, key }
    }

    /// Encrypts a record (format in the module docs: plaintext + 33 bytes).
    /// Every call draws a fresh nonce.
    ///
    /// # Panics
    /// If `plaintext` is longer than AES-GCM allows (about 64 GiB).
    pub fn encrypt(&self, aad: &RecordAad<'_>, plaintext: &[u8]) -> Vec<u8> {
        self.encrypt_with_nonce(aad, plaintext, random::bytes::<NONCE_LEN>())
    }

    fn encrypt_with_nonce(
        &self,
        aad: &RecordAad<'_>,
        plaintext: &[u8],
        nonce: [u8; NONCE_LEN],
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(plaintext.len() + RECORD_OVERHEAD);
        out.push(FORMAT_V1);
        out.extend_from_slice(&aad.key_version.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.encode()),
                &mut out[RECORD_HEADER_LEN..],
            )
            .expect("record is longer than AES-GCM allows");
        out.extend_from_slice(tag.as_ref());
        out
    }

    /// Verifies and decrypts a record made by [`encrypt`](Self::encrypt)
    /// with this key and the same `aad`. The plaintext is wiped on drop
    /// (`zeroize` wipes a `Vec` one volatile byte store at a time: from a
    /// few KiB up the drop costs about twice the decryption itself, see
    /// `bench/crypto/README.md`).
    ///
    /// A key version in the bytes other than `aad.key_version` is
    /// [`Forged`](EnvelopeError::Forged), like any other AAD mismatch; use
    /// [`ciphertext_key_version`] first to pick the key.
    pub fn decrypt(
        &self,
        aad: &RecordAad<'_>,
        ciphertext: &[u8],
    ) -> Result<Plaintext, EnvelopeError> {
        let version = ciphertext_key_version(ciphertext)?;
        if version != aad.key_version {
            return Err(EnvelopeError::Forged);
        }
        let (nonce, rest) = ciphertext[5..].split_at(NONCE_LEN);
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| EnvelopeError::Malformed)?;
        let tag = aead::Tag::try_from(tag).map_err(|_| EnvelopeError::Malformed)?;
        let mut out = Plaintext(body.to_vec());
        self.key
            .open_in_place_separate_tag(nonce, Aad::from(aad.encode()), tag, &mut out.0, 0..)
            .map_err(|_| EnvelopeError::Forged)?;
        Ok(out)
    }
}

/// A decrypted record: wiped when dropped, and its `Debug` shows only the
/// length.
///
/// Not `Zeroizing<Vec<u8>>`: that wipes byte by byte through the `Vec`
/// (measured 2.6 µs for 16 KiB, twice the decryption); wiping the slice
/// takes 0.1 µs.
#[derive(PartialEq, Eq)]
pub struct Plaintext(Vec<u8>);

impl Plaintext {
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl std::ops::Deref for Plaintext {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Plaintext {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

impl fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Plaintext({} bytes)", self.0.len())
    }
}

/// The key version a record ciphertext says it was encrypted under, read
/// without a key (to pick the data key). Not authenticated until
/// [`DataKey::decrypt`] succeeds.
pub fn ciphertext_key_version(ciphertext: &[u8]) -> Result<u32, EnvelopeError> {
    let (&format, rest) = ciphertext.split_first().ok_or(EnvelopeError::Malformed)?;
    if format != FORMAT_V1 {
        return Err(EnvelopeError::UnknownFormat);
    }
    if ciphertext.len() < RECORD_OVERHEAD {
        return Err(EnvelopeError::Malformed);
    }
    Ok(read_u32(rest))
}
