//! Audit events: the record, its canonical bytes, its JSON form, and the
//! keyed hashing of sensitive detail values.

use std::collections::BTreeMap;
use std::fmt;

use ring::hmac;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::encoding::{hex_decode_array, hex_encode, push_lp};
use crate::AuditError;

/// The format byte that starts an event's canonical bytes, and the value of
/// its JSON `"v"` member.
pub const EVENT_FORMAT_V1: u8 = 1;

/// Length of a detail HMAC and of every hash in the chain.
pub const HASH_LEN: usize = 32;

const LABEL_DETAIL: &[u8] = b"amanah.audit.v1.detail";

/// How the audited operation ended. The names (see [`Outcome::as_str`]) are
/// part of the canonical bytes and of the JSON form: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Outcome {
    /// The operation was carried out.
    Success,
    /// The operation was attempted and failed for a reason on the
    /// client's side (bad input, bad credentials).
    Failure,
    /// An authorization or policy decision refused it.
    Denied,
    /// It failed inside Amanah or upstream.
    Error,
}

impl Outcome {
    /// The stable name: `success`, `failure`, `denied` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
            Outcome::Error => "error",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One detail value: in the clear, or only its keyed hash.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DetailValue {
    /// Stored and shown as is. For values that are not personal data
    /// (status codes, counts, route names).
    Clear(String),
    /// HMAC-SHA256 of the field name and value under the deployment's
    /// detail key ([`DetailHasher`]). Equal values in one field give equal
    /// hashes, so events can still be correlated, but the value cannot be
    /// read back.
    Hmac([u8; HASH_LEN]),
}

impl fmt::Debug for DetailValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetailValue::Clear(v) => f.debug_tuple("Clear").field(v).finish(),
            DetailValue::Hmac(h) => write!(f, "Hmac({})", hex_encode(h)),
        }
    }
}

/// One audit event. Build it with [`Event::new`] and the `with_*` methods,
/// or fill the fields directly; [`crate::Chain::append`] assigns `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Position in the chain, from 1, consecutive.
    pub seq: u64,
    /// When it happened: milliseconds since the Unix epoch (UTC).
    pub time_unix_ms: i64,
    /// The gateway node that wrote it.
    pub node: String,
    /// Who: a principal name such as `user:alice` or `key:0a1b2c3d`.
    pub actor: String,
    /// What, as a dotted verb: `model.invoke`, `key.create`, `login`.
    pub action: String,
    /// On what: `route:chat`, `user:bob`.
    pub resource: String,
    pub outcome: Outcome,
    /// The client's address, if known (hash it with [`DetailHasher`] and
    /// keep it in `details` instead if it counts as personal data for you).
    pub client_ip: Option<String>,
    /// The request id (`x-request-id`) the event belongs to.
    pub request_id: Option<String>,
    /// Further fields by dotted name (`status`, `user.email`), sorted by
    /// name.
    pub details: BTreeMap<String, DetailValue>,
}

impl Event {
    /// An event with no client IP, request id or details, and `seq` 0 (the
    /// chain sets it).
    pub fn new(
        time_unix_ms: i64,
        node: impl Into<String>,
        actor: impl Into<String>,
        action: impl Into<String>,
        resource: impl Into<String>,
        outcome: Outcome,
    ) -> Self {
        Self {
            seq: 0,
            time_unix_ms,
            node: node.into(),
            actor: actor.into(),
            action: action.into(),
            resource: resource.into(),
            outcome,
            client_ip: None,
            request_id: None,
            details: BTreeMap::new(),
        }
    }

    pub fn with_client_ip(mut self, ip: impl Into<String>) -> Self {
        self.client_ip = Some(ip.into());
        self
    }

    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Adds a detail stored in the clear.
    pub fn with_detail(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.details
            .insert(name.into(), DetailValue::Clear(value.into()));
        self
    }

    /// Adds a sensitive detail: only its HMAC under `hasher` is kept.
    pub fn with_hashed_detail(
        mut self,
        hasher: &DetailHasher,
        name: impl Into<String>,
        value: &str,
    ) -> Self {
        let name = name.into();
        let hashed = hasher.hash(&name, value);
        self.details.insert(name, hashed);
        self
    }

    /// The canonical bytes (format in the crate docs): what the chain hashes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.write_canonical(&mut out);
        out
    }

    /// Appends the canonical bytes to `out` (which the verifier reuses, so
    /// that hashing an event allocates nothing).
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        out.push(EVENT_FORMAT_V1);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.time_unix_ms.to_be_bytes());
        push_lp(out, self.node.as_bytes());
        push_lp(out, self.actor.as_bytes());
        push_lp(out, self.action.as_bytes());
        push_lp(out, self.resource.as_bytes());
        push_lp(out, self.outcome.as_str().as_bytes());
        for optional in [&self.client_ip, &self.request_id] {
            match optional {
                None => out.push(0),
                Some(value) => {
                    out.push(1);
                    push_lp(out, value.as_bytes());
                }
            }
        }
        out.extend_from_slice(&(self.details.len() as u64).to_be_bytes());
        // BTreeMap<String, _> iterates by ascending UTF-8 bytes.
        for (name, value) in &self.details {
            push_lp(out, name.as_bytes());
            match value {
                DetailValue::Clear(v) => {
                    out.push(0);
                    push_lp(out, v.as_bytes());
                }
                DetailValue::Hmac(h) => {
                    out.push(1);
                    out.extend_from_slice(h);
                }
            }
        }
    }

    /// The JSON form (one line, members in a fixed order; format in the
    /// crate docs). Not what is hashed: the chain hashes
    /// [`canonical_bytes`](Self::canonical_bytes).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an event always serializes")
    }

    /// Parses the JSON form strictly: `"v": 1` required, unknown or
    /// duplicated members refused, hashes exactly 64 lowercase hex digits.
    pub fn from_json(json: &str) -> Result<Self, AuditError> {
        serde_json::from_str(json).map_err(|e| AuditError::InvalidEvent(e.to_string()))
    }
}

// ------------------------------------------------------------------ JSON

#[derive(Serialize)]
struct EventOut<'a> {
    v: u8,
    seq: u64,
    time_unix_ms: i64,
    node: &'a str,
    actor: &'a str,
    action: &'a str,
    resource: &'a str,
    outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_ip: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: &'a Option<String>,
    details: DetailsOut<'a>,
}

struct DetailsOut<'a>(&'a BTreeMap<String, DetailValue>);

impl Serialize for DetailsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for DetailValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DetailValue::Clear(v) => s.serialize_str(v),
            DetailValue::Hmac(h) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("hmac_sha256", &hex_encode(h))?;
                map.end()
            }
        }
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        EventOut {
            v: EVENT_FORMAT_V1,
            seq: self.seq,
            time_unix_ms: self.time_unix_ms,
            node: &self.node,
            actor: &self.actor,
            action: &self.action,
            resource: &self.resource,
            outcome: self.outcome,
            client_ip: &self.client_ip,
            request_id: &self.request_id,
            details: DetailsOut(&self.details),
        }
        .serialize(s)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventIn {
    v: u8,
    seq: u64,
    time_unix_ms: i64,
    node: String,
    actor: String,
    action: String,
    resource: String,
    outcome: Outcome,
    #[serde(default)]
    client_ip: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
    details: DetailsIn,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let e = EventIn::deserialize(d)?;
        if e.v != EVENT_FORMAT_V1 {
            return Err(de::Error::custom(format_args!(
                "unknown event format version {}",
                e.v
            )));
        }
        Ok(Event {
            seq: e.seq,
            time_unix_ms: e.time_unix_ms,
            node: e.node,
            actor: e.actor,
            action: e.action,
            resource: e.resource,
            outcome: e.outcome,
            client_ip: e.client_ip,
            request_id: e.request_id,
            details: e.details.0,
        })
    }
}

struct DetailsIn(BTreeMap<String, DetailValue>);

impl<'de> Deserialize<'de> for DetailsIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DetailsIn;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of detail values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DetailsIn, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, DetailValue>()? {
                    if out.contains_key(&k) {
                        return Err(de::Error::custom(format_args!("duplicate detail `{k}`")));
                    }
                    out.insert(k, v);
                }
                Ok(DetailsIn(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for DetailValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DetailValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or {\"hmac_sha256\": \"<64 lowercase hex digits>\"}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DetailValue, E> {
                Ok(DetailValue::Clear(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<DetailValue, E> {
                Ok(DetailValue::Clear(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DetailValue, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::custom("empty detail object"));
                };
                if key != "hmac_sha256" {
                    return Err(de::Error::custom(format_args!(
                        "unknown detail member `{key}`, expected `hmac_sha256`"
                    )));
                }
                let hex: String = map.next_value()?;
                let hash = hex_decode_array::<HASH_LEN>(&hex).ok_or_else(|| {
                    de::Error::custom("hmac_sha256 must be 64 lowercase hex digits")
                })?;
                if map.next_key::<String>()?.is_some() {
                    return Err(de::Error::custom("a detail object has one member"));
                }
                Ok(DetailValue::Hmac(hash))
            }
        }
        d.deserialize_any(V)
    }
}

// ------------------------------------------------------------------ hasher

/// Turns sensitive detail values into [`DetailValue::Hmac`]: HMAC-SHA256
/// under a deployment key, over a domain label, the field name and the
/// value (format in the crate docs), so equal values in different fields
/// give unrelated hashes.
///
/// Which values to hash is the caller's decision, made per field: hash
/// anything that identifies a person (e-mail addresses, user names of data
/// subjects, subject ids, phone numbers, and client IPs where they count as
/// personal data); keep in the clear what an investigator must read
/// (status codes, route and model names, counts, key ids). Someone holding
/// the key can test a guess with [`matches`](Self::matches), so keep it out
/// of the audit reader's hands, and note that a short value space (a
/// 4-digit PIN, an IPv4 address) can be searched exhaustively by a key
/// holder.
///
/// `Debug` hides the key. `ring` keeps the HMAC key state opaque and does
/// not wipe it on drop.
pub struct DetailHasher {
    key: hmac::Key,
}

impl fmt::Debug for DetailHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DetailHasher(***)")
    }
}

/// Shortest key [`DetailHasher::new`] accepts, in bytes.
pub const DETAIL_KEY_MIN_LEN: usize = 32;

impl DetailHasher {
    /// A hasher under `key` (at least 32 bytes, e.g. from the deployment's
    /// secret store). The caller wipes its copy.
    pub fn new(key: &[u8]) -> Result<Self, AuditError> {
        if key.len() < DETAIL_KEY_MIN_LEN {
            return Err(AuditError::InvalidKey(
                "the detail key must be at least 32 bytes",
            ));
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        })
    }

    fn message(field: &str, value: &str) -> Vec<u8> {
        let mut msg = Vec::with_capacity(24 + LABEL_DETAIL.len() + field.len() + value.len());
        push_lp(&mut msg, LABEL_DETAIL);
        push_lp(&mut msg, field.as_bytes());
        push_lp(&mut msg, value.as_bytes());
        msg
    }

    /// The detail value to store for `value` in field `field`.
    pub fn hash(&self, field: &str, value: &str) -> DetailValue {
        let tag = hmac::sign(&self.key, &Self::message(field, value));
        let mut out = [0u8; HASH_LEN];
        out.copy_from_slice(tag.as_ref());
        DetailValue::Hmac(out)
    }

    /// Whether `stored` is the hash of `value` in field `field` (constant
    /// time): for an investigator with the key asking "was it this
    /// address?".
    pub fn matches(&self, field: &str, value: &str, stored: &DetailValue) -> bool {
        match stored {
            DetailValue::Hmac(h) => {
                hmac::verify(&self.key, &Self::message(field, value), h).is_ok()
            }
            DetailValue::Clear(_) => false,
        }
    }
}
