//! API keys: `amk_<id>_<secret>`.
//!
//! - `id`: 8 lowercase hex characters, public, the lookup handle.
//! - `secret`: 40 base62 characters (≈238 bits), shown once at creation.
//!
//! The store keeps only `HMAC-SHA256(server_secret, full_key)` and the last
//! four characters for the masked display `amk_1a2b3c4d_…wxyz`. A stolen
//! database therefore yields neither keys nor an offline-guessable hash:
//! without the server secret a tag cannot even be tested.

use std::fmt;

use ring::hmac;

use crate::{random, SecretString};

pub const PREFIX: &str = "amk_";
pub const ID_LEN: usize = 8;
pub const SECRET_LEN: usize = 40;
/// Length of a whole key: `amk_` + id + `_` + secret.
pub const KEY_LEN: usize = PREFIX.len() + ID_LEN + 1 + SECRET_LEN;
const SHOWN_SUFFIX_LEN: usize = 4;
/// Minimum length of the server secret that keys the HMAC.
pub const MIN_SERVER_SECRET_LEN: usize = 32;

/// A freshly minted key. The plaintext exists only here, to be shown once;
/// it is wiped when this value drops.
pub struct NewApiKey {
    pub id: String,
    pub plaintext: SecretString,
    pub tag: Vec<u8>,
    pub last4: String,
}

impl fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiKey")
            .field("id", &self.id)
            .field("masked", &mask(&self.id, &self.last4))
            .finish_non_exhaustive()
    }
}

/// A key as presented by a client, syntactically valid. Holds a borrowed
/// view; nothing is copied out of the request.
#[derive(Clone, Copy)]
pub struct PresentedKey<'a> {
    whole: &'a str,
}

impl fmt::Debug for PresentedKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PresentedKey({}_…)",
            &self.whole[..PREFIX.len() + ID_LEN]
        )
    }
}

impl<'a> PresentedKey<'a> {
    /// Parses `amk_<8 hex>_<40 base62>`; anything else is `None`. The
    /// reason is deliberately not reported: every failure looks the same.
    pub fn parse(candidate: &'a str) -> Option<Self> {
        let b = candidate.as_bytes();
        if b.len() != KEY_LEN || !candidate.starts_with(PREFIX) {
            return None;
        }
        let id = &b[PREFIX.len()..PREFIX.len() + ID_LEN];
        let sep = b[PREFIX.len() + ID_LEN];
        let secret = &b[PREFIX.len() + ID_LEN + 1..];
        let id_ok = id.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        let secret_ok = secret.iter().all(u8::is_ascii_alphanumeric);
        (id_ok && sep == b'_' && secret_ok).then_some(Self { whole: candidate })
    }

    pub fn id(&self) -> &'a str {
        &self.whole[PREFIX.len()..PREFIX.len() + ID_LEN]
    }
}

/// Keys API keys to the deployment: `HMAC-SHA256(server_secret, key)`.
///
/// `ring` keeps the derived HMAC state opaque; the raw secret it was built
/// from is a [`SecretString`] and wiped on drop.
pub struct KeyHasher {
    key: hmac::Key,
}

impl fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHasher(***)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyHasherError {
    #[error("the API-key HMAC secret must be at least {MIN_SERVER_SECRET_LEN} characters")]
    SecretTooShort,
}

impl KeyHasher {
    pub fn new(server_secret: &SecretString) -> Result<Self, KeyHasherError> {
        if server_secret.char_len() < MIN_SERVER_SECRET_LEN {
            return Err(KeyHasherError::SecretTooShort);
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, server_secret.expose().as_bytes()),
        })
    }

    /// Mints a new key for a random id.
    pub fn generate(&self) -> NewApiKey {
        let id = random::hex(ID_LEN);
        let secret = random::base62(SECRET_LEN);
        let plaintext = SecretString::new(format!("{PREFIX}{id}_{secret}"));
        let tag = self.tag(plaintext.expose());
        let last4 = secret[SECRET_LEN - SHOWN_SUFFIX_LEN..].to_owned();
        NewApiKey {
            id,
            plaintext,
            tag,
            last4,
        }
    }

    fn tag(&self, key: &str) -> Vec<u8> {
        hmac::sign(&self.key, key.as_bytes()).as_ref().to_vec()
    }

    /// True when `presented` hashes to `stored_tag`. Constant time in the
    /// tag comparison.
    pub fn verify(&self, presented: PresentedKey<'_>, stored_tag: &[u8]) -> bool {
        hmac::verify(&self.key, presented.whole.as_bytes(), stored_tag).is_ok()
    }

    /// Does the work of a verification against a tag that never matches, so
    /// that an unknown key id costs the same time as a wrong secret.
    pub fn verify_against_nothing(&self, presented: PresentedKey<'_>) {
        const NEVER: [u8; 32] = [0u8; 32];
        let _ = hmac::verify(&self.key, presented.whole.as_bytes(), &NEVER);
    }
}

/// The masked display form: `amk_1a2b3c4d_…wxyz`.
pub fn mask(id: &str, last4: &str) -> String {
    format!("{PREFIX}{id}_…{last4}")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn hasher() -> KeyHasher {
        KeyHasher::new(&SecretString::new("s".repeat(32) + "-test-server-secret")).unwrap()
    }

    #[test]
    fn generated_key_parses_and_verifies() {
        let h = hasher();
        let k = h.generate();
        let p = PresentedKey::parse(k.plaintext.expose()).expect("own format parses");
        assert_eq!(p.id(), k.id);
        assert!(h.verify(p, &k.tag));
        assert_eq!(k.plaintext.expose().len(), KEY_LEN);
        assert!(k.plaintext.expose().ends_with(&k.last4));
    }

    #[test]
    fn tag_is_keyed_by_the_server_secret() {
        let a = hasher();
        let b = KeyHasher::new(&SecretString::new("t".repeat(40))).unwrap();
        let k = a.generate();
        let p = PresentedKey::parse(k.plaintext.expose()).unwrap();
        assert!(
            !b.verify(p, &k.tag),
            "another deployment's secret must not verify"
        );
    }

    #[test]
    fn one_changed_character_fails() {
        let h = hasher();
        let k = h.generate();
        let mut s = k.plaintext.expose().to_owned();
        let last = s.pop().unwrap();
        s.push(if last == 'a' { 'b' } else { 'a' });
        let p = PresentedKey::parse(&s).unwrap();
        assert!(!h.verify(p, &k.tag));
    }

    #[test]
    fn short_server_secret_refused() {
        let err = KeyHasher::new(&SecretString::new("short".into())).unwrap_err();
        assert_eq!(err, KeyHasherError::SecretTooShort);
    }

    #[test]
    fn mask_shows_id_and_last_four_only() {
        assert_eq!(mask("1a2b3c4d", "wxyz"), "amk_1a2b3c4d_…wxyz");
    }

    #[test]
    fn debug_of_new_key_hides_plaintext() {
        let k = hasher().generate();
        let shown = format!("{k:?}");
        assert!(!shown.contains(k.plaintext.expose()));
        assert!(shown.contains(&k.id));
    }

    /// Bad inputs that must never parse as a key.
    #[test]
    fn malformed_keys_rejected() {
        let good = hasher().generate();
        let g = good.plaintext.expose();
        let cases: Vec<String> = vec![
            String::new(),
            "amk_".into(),
            g[..g.len() - 1].into(),
            format!("{g}x"),
            g.replacen("amk_", "AMK_", 1),
            g.replacen("amk_", "sk-_", 1),
            format!("amk_1A2B3C4D_{}", "a".repeat(SECRET_LEN)),
            format!("amk_1a2b3c4g_{}", "a".repeat(SECRET_LEN)),
            format!("amk_1a2b3c4d-{}", "a".repeat(SECRET_LEN)),
            format!("amk_1a2b3c4d_{}_", "a".repeat(SECRET_LEN - 1)),
            format!("amk_1a2b3c4d_{}é", "a".repeat(SECRET_LEN - 2)),
            format!("amk_1a2b3c4d_{} ", "a".repeat(SECRET_LEN - 1)),
        ];
        for c in cases {
            assert!(PresentedKey::parse(&c).is_none(), "{c:?} parsed");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,80}") {
            let _ = PresentedKey::parse(&s);
        }

        #[test]
        fn parse_accepts_exactly_the_format(id in "[0-9a-f]{8}", secret in "[0-9A-Za-z]{40}") {
            let key = format!("amk_{id}_{secret}");
            let p = PresentedKey::parse(&key).unwrap();
            prop_assert_eq!(p.id(), id.as_str());
        }
    }
}
