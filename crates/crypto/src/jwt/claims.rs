//! Claims of a verified token and the checks [`super::Validation`] asks for.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{JwtError, Validation};

/// The claims of a token whose signature has been verified.
///
/// The registered claims are lifted out for convenience and validation;
/// `raw` holds every claim as sent, the registered ones included.
/// NumericDates may be integers or fractions in JSON; fractions are
/// rounded towards the stricter outcome (`exp` down, `nbf` and `iat` up).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    pub sub: Option<String>,
    pub iss: Option<String>,
    /// `aud` as a list; a single string becomes a list of one.
    pub aud: Vec<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: Option<i64>,
    /// Not before, seconds since the Unix epoch.
    pub nbf: Option<i64>,
    /// Issued at, seconds since the Unix epoch.
    pub iat: Option<i64>,
    pub raw: Map<String, Value>,
}

#[derive(Clone, Copy)]
enum Round {
    Down,
    Up,
}

/// Reads a NumericDate (RFC 7519 §2): a JSON number of seconds. Strings,
/// booleans, null and values outside ±2^53 are refused.
fn numeric_date(
    raw: &Map<String, Value>,
    name: &str,
    round: Round,
    bad: &'static str,
) -> Result<Option<i64>, JwtError> {
    // Beyond 2^53 a float has no whole-second precision, and no real date
    // lives there.
    const LIMIT: i64 = 1 << 53;
    let Some(value) = raw.get(name) else {
        return Ok(None);
    };
    let Value::Number(n) = value else {
        return Err(JwtError::Malformed(bad));
    };
    let secs = if let Some(i) = n.as_i64() {
        i
    } else if n.is_u64() {
        return Err(JwtError::Malformed(bad));
    } else {
        let f = n
            .as_f64()
            .filter(|f| f.is_finite())
            .ok_or(JwtError::Malformed(bad))?;
        let rounded = match round {
            Round::Down => f.floor(),
            Round::Up => f.ceil(),
        };
        if rounded.abs() > LIMIT as f64 {
            return Err(JwtError::Malformed(bad));
        }
        // In range and integral, checked just above.
        rounded as i64
    };
    if secs.abs() > LIMIT {
        return Err(JwtError::Malformed(bad));
    }
    Ok(Some(secs))
}

fn string_claim(
    raw: &Map<String, Value>,
    name: &str,
    bad: &'static str,
) -> Result<Option<String>, JwtError> {
    match raw.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JwtError::Malformed(bad)),
    }
}

impl Claims {
    pub(super) fn from_map(raw: Map<String, Value>) -> Result<Self, JwtError> {
        let aud = match raw.get("aud") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(JwtError::Malformed(
                    "`aud` is not a string or a list of strings",
                ))?,
            Some(_) => {
                return Err(JwtError::Malformed(
                    "`aud` is not a string or a list of strings",
                ))
            }
        };
        Ok(Self {
            sub: string_claim(&raw, "sub", "`sub` is not a string")?,
            iss: string_claim(&raw, "iss", "`iss` is not a string")?,
            aud,
            exp: numeric_date(&raw, "exp", Round::Down, "`exp` is not a NumericDate")?,
            nbf: numeric_date(&raw, "nbf", Round::Up, "`nbf` is not a NumericDate")?,
            iat: numeric_date(&raw, "iat", Round::Up, "`iat` is not a NumericDate")?,
            raw,
        })
    }

    /// The strings at `path`, for mapping a `groups`, `roles` or `scope`
    /// claim to Amanah roles.
    ///
    /// `path` is a claim name, tried whole first (names like
    /// `https://example.com/roles` contain dots), then as a dotted path
    /// through nested objects (`realm_access.roles`). A string value is
    /// split on whitespace, as OAuth `scope` is; a list yields its string
    /// elements as they are. Anything else, or nothing there, yields an
    /// empty list.
    pub fn strings_at(&self, path: &str) -> Vec<String> {
        let value = self.raw.get(path).or_else(|| {
            let mut parts = path.split('.');
            let first = self.raw.get(parts.next()?)?;
            parts.try_fold(first, |v, part| v.as_object()?.get(part))
        });
        match value {
            Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl Validation {
    /// Applies the time, issuer and audience rules to verified claims.
    pub(super) fn check(&self, claims: &Claims, now: i64) -> Result<(), JwtError> {
        // i128 throughout: `exp` near ±2^53 plus any u64 leeway cannot
        // overflow, so no wrap-around can turn "expired" into "valid".
        let now = i128::from(now);
        let leeway = i128::from(self.leeway_secs);
        match claims.exp {
            Some(exp) if now >= i128::from(exp) + leeway => return Err(JwtError::Expired),
            None if self.require_exp || self.max_lifetime_secs.is_some() => {
                return Err(JwtError::MissingClaim("exp"))
            }
            _ => {}
        }
        if let Some(nbf) = claims.nbf {
            if now + leeway < i128::from(nbf) {
                return Err(JwtError::NotYetValid);
            }
        }
        if let Some(iat) = claims.iat {
            if i128::from(iat) > now + leeway {
                return Err(JwtError::IssuedInFuture);
            }
        }
        if let (Some(max), Some(exp)) = (self.max_lifetime_secs, claims.exp) {
            let start = claims.iat.map_or(now, i128::from);
            if i128::from(exp) - start > i128::from(max) {
                return Err(JwtError::LifetimeTooLong);
            }
        }
        if let Some(issuer) = &self.issuer {
            match &claims.iss {
                None => return Err(JwtError::MissingClaim("iss")),
                Some(iss) if iss != issuer => return Err(JwtError::WrongIssuer),
                Some(_) => {}
            }
        }
        if !self.audiences.is_empty() {
            if !claims.raw.contains_key("aud") {
                return Err(JwtError::MissingClaim("aud"));
            }
            if !claims.aud.iter().any(|a| self.audiences.contains(a)) {
                return Err(JwtError::WrongAudience);
            }
        }
        Ok(())
    }
}

/// A JSON object whose member names are unique. serde_json keeps the last
/// of duplicate names; refusing them instead means no other JSON parser in
/// the path (an upstream, a log pipeline) can read a different `alg`,
/// `kid` or `sub` out of the same bytes.
pub(super) struct UniqueObject(pub(super) Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(UniqueObjectVisitor)
    }
}

struct UniqueObjectVisitor;

impl<'de> Visitor<'de> for UniqueObjectVisitor {
    type Value = UniqueObject;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueObject, A::Error> {
        let mut out = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            let value: Value = map.next_value()?;
            if out.insert(name, value).is_some() {
                return Err(de::Error::custom("duplicate member name"));
            }
        }
        Ok(UniqueObject(out))
    }
}

/// Parses `bytes` as a [`UniqueObject`], with static error reasons.
pub(super) fn parse_object(
    bytes: &[u8],
    not_json: &'static str,
    not_object: &'static str,
) -> Result<Map<String, Value>, JwtError> {
    serde_json::from_slice::<UniqueObject>(bytes)
        .map(|o| o.0)
        .map_err(|e| {
            JwtError::Malformed(match e.classify() {
                serde_json::error::Category::Data => not_object,
                _ => not_json,
            })
        })
}
