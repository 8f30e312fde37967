//! JWK set parsing (RFC 7517, key types from RFC 7518 §6 and RFC 8037).
//!
//! A JWK set comes from an identity provider over the network, so one odd
//! key must not take the others down: each unusable key is skipped and
//! reported as a [`SkippedKey`], and only a document that is not a JWK set
//! at all is an error.
//!
//! Members are read through [`Member`], which keeps strings and lists of
//! strings and nothing else. Private-key members (`d`, `p`, `q`, `dp`,
//! `dq`, `qi`, `oth`) and `oct` secrets (`k`) are skipped by the JSON
//! parser without ever being copied out of the input.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::key::{JwkError, KeySet, KeyType, Material, VerifyingKey};
use super::{sanitize_kid, Algorithm};
use crate::base64;

/// Largest JWK set document accepted, in bytes. Real sets are a few KiB.
pub const MAX_JWKS_LEN: usize = 1024 * 1024;
/// Most keys read from one JWK set; later ones are skipped.
pub const MAX_JWKS_KEYS: usize = 64;

/// A key of a JWK set that was not loaded, and why.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedKey {
    /// Position in the `keys` array, from 0.
    pub index: usize,
    /// The key's `kid` reduced to at most 64 of `[A-Za-z0-9._-]`, for logs.
    pub kid: Option<String>,
    pub reason: JwkError,
}

impl KeySet {
    /// Parses a JWK set (`{"keys": [...]}`) and keeps the keys it can use
    /// for verification: `kty` `RSA`, `EC` (P-256, P-384) and `OKP`
    /// (Ed25519), with `use` absent or `sig`, `key_ops` absent or holding
    /// `verify`. A key's `alg` pins it to that algorithm and `kid` names it.
    ///
    /// `oct` keys are never accepted from a JWK set; HMAC secrets come only
    /// from configuration ([`VerifyingKey::hmac`]). Keys that cannot be used
    /// are returned as [`SkippedKey`]s for the caller to log.
    pub fn from_jwks(json: &[u8]) -> Result<(KeySet, Vec<SkippedKey>), JwkError> {
        if json.len() > MAX_JWKS_LEN {
            return Err(JwkError::TooLarge);
        }
        let doc: Document = serde_json::from_slice(json).map_err(|e| {
            JwkError::NotAKeySet(match e.classify() {
                serde_json::error::Category::Data => "expected an object with a `keys` array",
                _ => "not valid JSON",
            })
        })?;
        let mut set = KeySet::new();
        let mut skipped = Vec::new();
        for (index, entry) in doc.keys.into_iter().enumerate() {
            let kid = match &entry {
                Entry::Object(raw) => match &raw.kid {
                    Some(Member::Str(k)) => Some(sanitize_kid(k)),
                    _ => None,
                },
                Entry::NotObject => None,
            };
            let result = if index >= MAX_JWKS_KEYS {
                Err(JwkError::TooManyKeys)
            } else {
                match entry {
                    Entry::Object(raw) => key_from_jwk(&raw),
                    Entry::NotObject => Err(JwkError::Malformed("key is not a JSON object")),
                }
            };
            match result {
                Ok(key) => set.push(key),
                Err(reason) => skipped.push(SkippedKey { index, kid, reason }),
            }
        }
        Ok((set, skipped))
    }
}

fn key_from_jwk(raw: &RawJwk) -> Result<VerifyingKey, JwkError> {
    if raw.duplicate {
        return Err(JwkError::Malformed("duplicate member in key"));
    }
    let kid = match &raw.kid {
        None => None,
        Some(Member::Str(k)) => Some(k.as_str()),
        Some(_) => return Err(JwkError::Malformed("`kid` is not a string")),
    };
    match &raw.use_ {
        None => {}
        Some(Member::Str(u)) if u == "sig" => {}
        Some(Member::Str(_)) => return Err(JwkError::NotForSignatures),
        Some(_) => return Err(JwkError::Malformed("`use` is not a string")),
    }
    match &raw.key_ops {
        None => {}
        Some(Member::StrList(ops)) if ops.iter().any(|o| o == "verify") => {}
        Some(Member::StrList(_)) => return Err(JwkError::NotForSignatures),
        Some(_) => return Err(JwkError::Malformed("`key_ops` is not a list of strings")),
    }
    let alg = match &raw.alg {
        None => None,
        Some(Member::Str(a)) => {
            Some(Algorithm::from_name(a).ok_or(JwkError::UnsupportedAlgorithm)?)
        }
        Some(_) => return Err(JwkError::Malformed("`alg` is not a string")),
    };
    let kty = match &raw.kty {
        Some(Member::Str(k)) => k.as_str(),
        None => return Err(JwkError::Malformed("missing `kty`")),
        Some(_) => return Err(JwkError::Malformed("`kty` is not a string")),
    };
    let crv = || match &raw.crv {
        Some(Member::Str(c)) => Ok(c.as_str()),
        None => Err(JwkError::Malformed("missing `crv`")),
        Some(_) => Err(JwkError::Malformed("`crv` is not a string")),
    };
    let material = match kty {
        "RSA" => Material::rsa(
            &b64(&raw.n, "`n` missing or not base64url")?,
            &b64(&raw.e, "`e` missing or not base64url")?,
        )?,
        "EC" => {
            let (key_type, coord_len) = match crv()? {
                "P-256" => (KeyType::EcP256, 32),
                "P-384" => (KeyType::EcP384, 48),
                _ => return Err(JwkError::UnsupportedCurve),
            };
            let x = b64(&raw.x, "`x` missing or not base64url")?;
            let y = b64(&raw.y, "`y` missing or not base64url")?;
            // RFC 7518 §6.2.1.2: coordinates are full length, never trimmed.
            if x.len() != coord_len || y.len() != coord_len {
                return Err(JwkError::Malformed("EC coordinate has the wrong length"));
            }
            let mut point = Vec::with_capacity(1 + 2 * coord_len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            Material::ec(key_type, &point)?
        }
        "OKP" => match crv()? {
            "Ed25519" => Material::ed25519(&b64(&raw.x, "`x` missing or not base64url")?)?,
            _ => return Err(JwkError::UnsupportedCurve),
        },
        "oct" => return Err(JwkError::SymmetricKeyNotAllowed),
        _ => return Err(JwkError::UnsupportedKeyType),
    };
    let key = VerifyingKey::from_material(material, kid)?;
    match alg {
        Some(alg) => key.with_alg(alg),
        None => Ok(key),
    }
}

fn b64(member: &Option<Member>, why: &'static str) -> Result<Vec<u8>, JwkError> {
    match member {
        Some(Member::Str(s)) => base64::decode_url(s.as_bytes()).ok_or(JwkError::Malformed(why)),
        _ => Err(JwkError::Malformed(why)),
    }
}

#[derive(Deserialize)]
struct Document {
    keys: Vec<Entry>,
}

/// One element of `keys`. Anything that is not an object becomes
/// `NotObject` instead of failing the whole document.
enum Entry {
    Object(Box<RawJwk>),
    NotObject,
}

/// The members a verifier reads. Everything else, private members
/// included, is skipped by the parser.
#[derive(Default)]
struct RawJwk {
    kty: Option<Member>,
    use_: Option<Member>,
    key_ops: Option<Member>,
    alg: Option<Member>,
    kid: Option<Member>,
    crv: Option<Member>,
    n: Option<Member>,
    e: Option<Member>,
    x: Option<Member>,
    y: Option<Member>,
    duplicate: bool,
}

/// A JSON value reduced to what key parsing needs. Never fails to
/// deserialize, so a wrongly typed member is reported per key.
enum Member {
    Str(String),
    StrList(Vec<String>),
    Other,
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MemberVisitor)
    }
}

struct MemberVisitor;

impl<'de> Visitor<'de> for MemberVisitor {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Member, E> {
        Ok(Member::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Member, E> {
        Ok(Member::Str(v))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Member, E> {
        Ok(Member::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Member, E> {
        Ok(Member::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Member, E> {
        Ok(Member::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Member, E> {
        Ok(Member::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Member, E> {
        Ok(Member::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Member, A::Error> {
        let mut strings = Some(Vec::new());
        while let Some(item) = seq.next_element::<Member>()? {
            match (item, strings.as_mut()) {
                (Member::Str(s), Some(list)) => list.push(s),
                _ => strings = None,
            }
        }
        Ok(strings.map_or(Member::Other, Member::StrList))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Member, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Member::Other)
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JWK object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
        let mut raw = RawJwk::default();
        while let Some(name) = map.next_key::<String>()? {
            let slot = match name.as_str() {
                "kty" => &mut raw.kty,
                "use" => &mut raw.use_,
                "key_ops" => &mut raw.key_ops,
                "alg" => &mut raw.alg,
                "kid" => &mut raw.kid,
                "crv" => &mut raw.crv,
                "n" => &mut raw.n,
                "e" => &mut raw.e,
                "x" => &mut raw.x,
                "y" => &mut raw.y,
                // Private members, `k` and everything unknown: skipped
                // without being copied.
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if slot.is_some() {
                raw.duplicate = true;
                map.next_value::<IgnoredAny>()?;
            } else {
                *slot = Some(map.next_value::<Member>()?);
            }
        }
        Ok(Entry::Object(Box::new(raw)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entry, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Entry::NotObject)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Entry, E> {
        Ok(Entry::NotObject)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Entry, E> {
        Ok(Entry::NotObject)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Entry, E> {
        Ok(Entry::NotObject)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Entry, E> {
        Ok(Entry::NotObject)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Entry, E> {
        Ok(Entry::NotObject)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Entry, E> {
        Ok(Entry::NotObject)
    }
}
