//! Authenticated encryption of small values at rest, and opaque session
//! tokens with their keyed tags.
//!
//! - [`Sealer`]: AES-256-GCM under a key derived with HKDF-SHA256 from a
//!   deployment secret and a purpose label, so that each kind of value (TOTP
//!   secrets, …) has its own key and a sealed value cannot be moved from one
//!   use to another. This stands in until a real keyring with rotation
//!   arrives; the version byte leaves room for it.
//! - [`session_token`] and [`TokenTagger`]: bearer tokens shown to the client
//!   once, stored only as `HMAC-SHA256(secret, domain || 0 || token)`.
//!
//! Sealed format: `0x01 || nonce (12 bytes, random) || ciphertext || tag (16)`.
//! Random 96-bit nonces are safe for far more values than one key will ever
//! seal here (NIST SP 800-38D's 2^32 limit per key).

use std::fmt;

use ring::{aead, hkdf, hmac};
use zeroize::Zeroizing;

use crate::secret::constant_time_eq;
use crate::{random, SecretString};

/// The only format version so far.
const VERSION: u8 = 1;
/// HKDF salt: names the scheme and its version. A future version derives
/// from another label, so its keys can never open (or forge) version-1
/// values even though the version byte itself is not in the AAD.
const HKDF_SALT: &[u8] = b"amanah-seal-v1";
const NONCE_LEN: usize = aead::NONCE_LEN;
const TAG_LEN: usize = 16;
/// Bytes a sealed value has beyond its plaintext.
pub const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// Why a sealed value could not be opened. Deliberately without detail: the
/// reason helps an attacker more than an operator.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealError {
    /// Too short to hold a version, a nonce and a tag.
    #[error("sealed value is malformed")]
    Malformed,
    /// Sealed by a format this build does not know.
    #[error("sealed value has an unknown version")]
    UnknownVersion,
    /// Authentication failed: wrong key, wrong purpose, wrong AAD, or
    /// altered bytes.
    #[error("sealed value failed authentication")]
    Forged,
}

/// Seals and opens values for one purpose.
///
/// `ring` keeps the AES key schedule opaque and does not zeroize it on drop;
/// the deployment secret it was derived from is a [`SecretString`] and is.
pub struct Sealer {
    key: aead::LessSafeKey,
    purpose: &'static str,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("purpose", &self.purpose)
            .field("key", &"***")
            .finish()
    }
}

impl Sealer {
    /// `AES-256-GCM` key = `HKDF-SHA256(salt = "amanah-seal-v1", ikm =
    /// secret, info = purpose)`. Use a distinct, fixed purpose per kind of
    /// value, e.g. `"totp-secret"`.
    pub fn derive(secret: &SecretString, purpose: &'static str) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(secret.expose().as_bytes());
        let info = [purpose.as_bytes()];
        let okm = prk
            .expand(&info, &aead::AES_256_GCM)
            .expect("32 bytes is far below HKDF-SHA256's output limit");
        Self {
            key: aead::LessSafeKey::new(aead::UnboundKey::from(okm)),
            purpose,
        }
    }

    /// Encrypts `plaintext` and binds it to `aad` (e.g. the user id, so a
    /// sealed value copied to another row does not open). Every call uses a
    /// fresh random nonce: sealing the same value twice gives different bytes.
    ///
    /// # Panics
    /// If `plaintext` is longer than AES-GCM allows (about 64 GiB).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce_bytes = random::bytes::<NONCE_LEN>();
        let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
        out.push(VERSION);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                aead::Nonce::assume_unique_for_key(nonce_bytes),
                aead::Aad::from(aad),
                &mut out[1 + NONCE_LEN..],
            )
            .expect("small values are far below AES-GCM's length limit");
        out.extend_from_slice(tag.as_ref());
        out
    }

    /// Verifies and decrypts a value made by [`seal`](Self::seal) with the
    /// same secret, purpose and `aad`. The plaintext is wiped on drop.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let (&version, rest) = sealed.split_first().ok_or(SealError::Malformed)?;
        if version != VERSION {
            return Err(SealError::UnknownVersion);
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce =
            aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Malformed)?;
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        let len = self
            .key
            .open_in_place(nonce, aead::Aad::from(aad), &mut buf)
            .map_err(|_| SealError::Forged)?
            .len();
        // The tag bytes left in the spare capacity are wiped with the rest
        // when `buf` drops.
        buf.truncate(len);
        Ok(buf)
    }
}

/// Prefix of session tokens, so that a leaked one is recognizable by secret
/// scanners and never mistaken for an API key (`amk_`).
pub const SESSION_TOKEN_PREFIX: &str = "ams_";
/// Random base62 characters in a session token: 43 × log2(62) ≈ 256 bits.
pub const SESSION_TOKEN_RANDOM_LEN: usize = 43;

/// A new opaque session token: `ams_` + 43 base62 characters (≥ 256 bits).
/// Give it to the client; store only [`TokenTagger::tag`] of it.
pub fn session_token() -> SecretString {
    let mut token = String::with_capacity(SESSION_TOKEN_PREFIX.len() + SESSION_TOKEN_RANDOM_LEN);
    token.push_str(SESSION_TOKEN_PREFIX);
    token.push_str(&Zeroizing::new(random::base62(SESSION_TOKEN_RANDOM_LEN)));
    SecretString::new(token)
}

/// `HMAC-SHA256(secret, domain || 0x00 || value)`: keyed, domain-separated
/// tags for bearer tokens. The domain (`"session"`, `"password-reset"`, …)
/// makes a tag from one kind of token useless as a tag of another; the NUL
/// separator keeps `("ab", "c")` and `("a", "bc")` apart.
pub struct TokenTagger {
    key: hmac::Key,
    domain: &'static str,
}

impl fmt::Debug for TokenTagger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenTagger")
            .field("domain", &self.domain)
            .field("key", &"***")
            .finish()
    }
}

impl TokenTagger {
    /// # Panics
    /// If `domain` contains a NUL byte, which would break the separation.
    /// Domains are constants, so this fails in the first test that builds one.
    pub fn new(secret: &SecretString, domain: &'static str) -> Self {
        assert!(
            !domain.contains('\0'),
            "a token-tag domain must not contain NUL"
        );
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes()),
            domain,
        }
    }

    pub fn tag(&self, value: &str) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(self.domain.as_bytes());
        ctx.update(&[0]);
        ctx.update(value.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// True when `value` tags to `stored_tag`; the comparison is constant
    /// time.
    pub fn matches(&self, value: &str, stored_tag: &[u8]) -> bool {
        constant_time_eq(&self.tag(value), stored_tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> SecretString {
        SecretString::new("deployment-secret-for-tests-0123456789".into())
    }

    #[test]
    fn round_trip() {
        let s = Sealer::derive(&secret(), "totp-secret");
        for plaintext in [&b""[..], b"x", b"12345678901234567890", &[0u8; 1000]] {
            let sealed = s.seal(plaintext, b"user:42");
            assert_eq!(sealed.len(), plaintext.len() + OVERHEAD);
            assert_eq!(sealed[0], 1);
            assert_eq!(s.open(&sealed, b"user:42").unwrap().as_slice(), plaintext);
        }
        // Another Sealer derived from the same inputs opens it too.
        let sealed = s.seal(b"value", b"");
        let again = Sealer::derive(&secret(), "totp-secret");
        assert_eq!(again.open(&sealed, b"").unwrap().as_slice(), b"value");
    }

    #[test]
    fn same_plaintext_seals_differently() {
        let s = Sealer::derive(&secret(), "totp-secret");
        let a = s.seal(b"same", b"aad");
        let b = s.seal(b"same", b"aad");
        assert_ne!(a, b);
        assert_ne!(a[1..1 + NONCE_LEN], b[1..1 + NONCE_LEN]);
    }

    #[test]
    fn wrong_aad_purpose_or_secret_is_forged() {
        let s = Sealer::derive(&secret(), "totp-secret");
        let sealed = s.seal(b"value", b"user:42");
        assert_eq!(s.open(&sealed, b"user:43"), Err(SealError::Forged));
        assert_eq!(s.open(&sealed, b""), Err(SealError::Forged));
        let other_purpose = Sealer::derive(&secret(), "something-else");
        assert_eq!(
            other_purpose.open(&sealed, b"user:42"),
            Err(SealError::Forged)
        );
        let other_secret = Sealer::derive(&SecretString::new("another".repeat(6)), "totp-secret");
        assert_eq!(
            other_secret.open(&sealed, b"user:42"),
            Err(SealError::Forged)
        );
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let s = Sealer::derive(&secret(), "totp-secret");
        let sealed = s.seal(b"twenty bytes of key!", b"aad");
        for i in 1..sealed.len() {
            for bit in 0..8 {
                let mut bad = sealed.clone();
                bad[i] ^= 1 << bit;
                assert_eq!(s.open(&bad, b"aad"), Err(SealError::Forged), "byte {i}");
            }
        }
        let mut bad_version = sealed.clone();
        bad_version[0] ^= 1;
        assert_eq!(s.open(&bad_version, b"aad"), Err(SealError::UnknownVersion));
    }

    #[test]
    fn truncated_or_extended_is_refused() {
        let s = Sealer::derive(&secret(), "totp-secret");
        let sealed = s.seal(b"value", b"");
        assert_eq!(s.open(&[], b""), Err(SealError::Malformed));
        assert_eq!(s.open(&[1], b""), Err(SealError::Malformed));
        assert_eq!(
            s.open(&sealed[..OVERHEAD - 1], b""),
            Err(SealError::Malformed)
        );
        for cut in OVERHEAD..sealed.len() {
            assert_eq!(s.open(&sealed[..cut], b""), Err(SealError::Forged), "{cut}");
        }
        let mut longer = sealed.clone();
        longer.push(0);
        assert_eq!(s.open(&longer, b""), Err(SealError::Forged));
        assert_eq!(s.open(&[2; 40], b""), Err(SealError::UnknownVersion));
    }

    #[test]
    fn debug_and_errors_hide_the_key() {
        let s = Sealer::derive(&secret(), "totp-secret");
        let shown = format!("{s:?}");
        assert_eq!(shown, r#"Sealer { purpose: "totp-secret", key: "***" }"#);
        assert_eq!(
            SealError::Forged.to_string(),
            "sealed value failed authentication"
        );
    }

    #[test]
    fn session_token_shape() {
        let t = session_token();
        let t = t.expose();
        assert_eq!(t.len(), 4 + 43);
        assert!(t.starts_with("ams_"));
        assert!(t[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!((43.0 * 62f64.log2()) >= 256.0);
        assert_ne!(session_token().expose(), session_token().expose());
        assert_eq!(format!("{:?}", session_token()), "SecretString(***)");
    }

    #[test]
    fn token_tags_are_keyed_and_domain_separated() {
        let sessions = TokenTagger::new(&secret(), "session");
        let resets = TokenTagger::new(&secret(), "password-reset");
        let other_key = TokenTagger::new(&SecretString::new("z".repeat(40)), "session");
        let token = session_token();
        let tag = sessions.tag(token.expose());
        assert_eq!(tag, sessions.tag(token.expose()));
        assert_ne!(tag, resets.tag(token.expose()));
        assert_ne!(tag, other_key.tag(token.expose()));
        assert!(sessions.matches(token.expose(), &tag));
        assert!(!resets.matches(token.expose(), &tag));
        assert!(!sessions.matches("ams_other", &tag));
        assert!(!sessions.matches(token.expose(), &tag[..31]));
        assert!(!sessions.matches(token.expose(), &[]));
        // The separator: ("ab", "c") and ("a", "bc") differ.
        let ab = TokenTagger::new(&secret(), "ab");
        let a = TokenTagger::new(&secret(), "a");
        assert_ne!(ab.tag("c"), a.tag("bc"));
        let shown = format!("{sessions:?}");
        assert!(shown.contains("session") && shown.contains("***"));
    }

    #[test]
    #[should_panic(expected = "must not contain NUL")]
    fn nul_in_domain_is_refused() {
        let _ = TokenTagger::new(&secret(), "bad\0domain");
    }
}
