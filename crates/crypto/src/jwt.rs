//! JWS/JWT verification (RFC 7515, RFC 7519) and JWK sets (RFC 7517).
//!
//! Only verification: Amanah accepts tokens minted by an identity provider
//! (or by an operator with a shared HMAC secret) and never signs any.
//!
//! Seams:
//! - [`verify`]: one token, a [`KeySet`], a [`Validation`] and the current
//!   time in, verified [`Claims`] or a [`JwtError`] out. The clock is a
//!   parameter so that expiry rules are tested without waiting.
//! - [`KeySet`]: HMAC secrets from configuration ([`VerifyingKey::hmac`]),
//!   public keys from PEM ([`VerifyingKey::from_pem`]) and from a JWK set
//!   document ([`KeySet::from_jwks`]). Fetching and caching the document is
//!   the caller's job; [`JwtError::UnknownKid`] tells it when a refresh may
//!   help.
//!
//! Invariants:
//! - **No algorithm confusion.** Each [`Algorithm`] is verified only with
//!   the one [`KeyType`] that serves it (HS* with an HMAC secret, RS*/PS256
//!   with RSA, ES256 with P-256, ES384 with P-384, EdDSA with Ed25519), a
//!   key pinned to an algorithm verifies nothing else, and the token's
//!   `alg` must be in [`Validation::algorithms`]. `none` is not an
//!   algorithm here at all.
//! - **Signature before claims.** The payload is parsed as JSON only after
//!   the signature over it has been verified.
//! - **Nothing from the token in errors.** Error messages are static; the
//!   one exception, the `kid` in [`JwtError::UnknownKid`], is cut to 64
//!   characters of `[A-Za-z0-9._-]`.
//! - **One spelling per token.** base64url without padding, canonical
//!   trailing bits, JSON objects with unique member names.

mod claims;
mod der;
mod jwk;
mod key;

pub use claims::Claims;
pub use jwk::{SkippedKey, MAX_JWKS_KEYS, MAX_JWKS_LEN};
pub use key::{
    JwkError, KeySet, KeyType, VerifyingKey, MAX_KID_LEN, MAX_PEM_LEN, MAX_RSA_BITS,
    MIN_HMAC_SECRET_LEN, MIN_RSA_BITS,
};

/// Longest token accepted, in bytes. Real access tokens are 1–4 KiB; the
/// cap bounds the work an unauthenticated request can cause.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Most keys tried for a token that names no `kid`. Each try is a
/// signature verification (an RSA one costs tens of microseconds), so an
/// unnamed token must not make the verifier walk a large set. Keys are
/// tried in set order; issuers with more keys should put `kid` in tokens.
pub const MAX_KEYS_TRIED_WITHOUT_KID: usize = 3;

/// Longest `kid` echoed in [`JwtError::UnknownKid`].
const MAX_KID_IN_ERROR: usize = 64;

/// A JWS algorithm this crate verifies (RFC 7518 §3, RFC 8037 §3.1).
#[allow(clippy::upper_case_acronyms)]
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256 and MGF1-SHA-256.
    PS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 10] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::ES256,
        Self::ES384,
        Self::EdDSA,
    ];

    /// The algorithm named `name` in a JOSE header. Names are
    /// case-sensitive (RFC 7515 §4.1.1), so `none`, `None` and `hs256` are
    /// all `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The JOSE name, e.g. `"RS256"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a token was refused. Messages are static and never contain token
/// content, apart from the sanitized `kid` of [`JwtError::UnknownKid`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// The token is not a well-formed JWS/JWT; the reason is fixed text.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The token is longer than [`MAX_TOKEN_LEN`].
    #[error("token longer than {MAX_TOKEN_LEN} bytes")]
    TooLong,
    /// `alg` is not one of [`Algorithm::ALL`] (`none` included).
    #[error("unsupported signature algorithm")]
    UnsupportedAlgorithm,
    /// `alg` is supported but not in [`Validation::algorithms`].
    #[error("signature algorithm not allowed")]
    AlgorithmNotAllowed,
    /// No key in the set has the token's `kid` (shown sanitized: at most 64
    /// characters of `[A-Za-z0-9._-]`). Refreshing a JWK set may help.
    #[error("no key with id `{0}`")]
    UnknownKid(String),
    /// No key in the set may verify this algorithm (for this `kid`).
    #[error("no key for this token's algorithm")]
    NoMatchingKey,
    /// The signature does not verify with any candidate key.
    #[error("bad signature")]
    BadSignature,
    /// `exp` has passed, leeway included.
    #[error("token expired")]
    Expired,
    /// `nbf` is still ahead, leeway included.
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` lies in the future beyond the leeway.
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `exp` is further from `iat` (or now) than
    /// [`Validation::max_lifetime_secs`].
    #[error("token lifetime too long")]
    LifetimeTooLong,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` holds none of the configured audiences.
    #[error("wrong audience")]
    WrongAudience,
    /// A claim the validation requires is absent.
    #[error("missing claim `{0}`")]
    MissingClaim(&'static str),
}

impl JwtError {
    /// True when fetching the issuer's JWK set again and retrying could
    /// turn this failure into a success (a key rotation the verifier has
    /// not seen yet). Callers should rate-limit such refreshes: the `kid`
    /// is chosen by whoever sent the token.
    pub fn key_refresh_may_help(&self) -> bool {
        matches!(self, Self::UnknownKid(_))
    }
}

/// What a token must satisfy besides a good signature.
///
/// Built with [`Validation::new`], which forces the choice of algorithms
/// and sets the defaults documented on each field.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// Algorithms accepted. A token with any other `alg` fails with
    /// [`JwtError::AlgorithmNotAllowed`] before a key is looked at.
    pub algorithms: Vec<Algorithm>,
    /// Required exact `iss`, if set. Default: none.
    pub issuer: Option<String>,
    /// When non-empty, the token's `aud` (string or list) must contain at
    /// least one of these. Default: empty (not checked).
    pub audiences: Vec<String>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    /// Default: [`Validation::DEFAULT_LEEWAY_SECS`].
    pub leeway_secs: u64,
    /// Longest accepted lifetime in seconds: `exp - iat`, or `exp - now`
    /// for a token without `iat`. Setting it makes `exp` required.
    /// Default: none.
    pub max_lifetime_secs: Option<u64>,
    /// Refuse tokens without `exp`. Default: true; a token that never
    /// expires is a credential that cannot be revoked.
    pub require_exp: bool,
}

impl Validation {
    /// Default clock skew tolerance, in seconds.
    pub const DEFAULT_LEEWAY_SECS: u64 = 60;

    /// A validation accepting exactly `algorithms`, with the defaults of
    /// each field.
    pub fn new(algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        Self {
            algorithms: algorithms.into_iter().collect(),
            issuer: None,
            audiences: Vec::new(),
            leeway_secs: Self::DEFAULT_LEEWAY_SECS,
            max_lifetime_secs: None,
            require_exp: true,
        }
    }

    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    pub fn with_leeway_secs(mut self, secs: u64) -> Self {
        self.leeway_secs = secs;
        self
    }

    pub fn with_max_lifetime_secs(mut self, secs: u64) -> Self {
        self.max_lifetime_secs = Some(secs);
        self
    }
}

/// The JOSE header fields verification uses.
struct Header {
    alg: Algorithm,
    kid: Option<String>,
}

impl Header {
    fn parse(bytes: &[u8]) -> Result<Self, JwtError> {
        use serde_json::Value;
        let map = claims::parse_object(
            bytes,
            "header is not JSON",
            "header is not a JSON object with unique member names",
        )?;
        let alg = match map.get("alg") {
            None => return Err(JwtError::Malformed("header has no `alg`")),
            Some(Value::String(name)) => {
                Algorithm::from_name(name).ok_or(JwtError::UnsupportedAlgorithm)?
            }
            Some(_) => return Err(JwtError::Malformed("`alg` is not a string")),
        };
        // RFC 7515 §4.1.11: a recipient must refuse a `crit` extension it
        // does not understand, and this verifier understands none.
        if map.contains_key("crit") {
            return Err(JwtError::Malformed(
                "`crit` header extensions are not supported",
            ));
        }
        match map.get("typ") {
            None => {}
            Some(Value::String(typ)) if is_accepted_typ(typ) => {}
            Some(_) => return Err(JwtError::Malformed("`typ` is not JWT or at+jwt")),
        }
        let kid = match map.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(JwtError::Malformed("`kid` is not a string")),
        };
        // `jku`, `jwk`, `x5u` and `x5c` are ignored: keys come only from the
        // key set, never from the token that is being checked.
        Ok(Self { alg, kid })
    }
}

/// `typ` values that say "this is a JWT" (RFC 7519 §5.1, RFC 9068 §2.1),
/// with or without the `application/` prefix RFC 7515 §4.1.9 lets senders
/// drop. Anything else (e.g. a JWE's or a logout token's type) is another
/// kind of object that must not be accepted as an access token.
fn is_accepted_typ(typ: &str) -> bool {
    let typ = typ.to_ascii_lowercase();
    let typ = typ.strip_prefix("application/").unwrap_or(&typ);
    matches!(typ, "jwt" | "at+jwt")
}

/// A `kid` fit for an error message and a log line: the token sender
/// chose it, so only a short run of harmless characters is kept.
pub(crate) fn sanitize_kid(kid: &str) -> String {
    kid.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(MAX_KID_IN_ERROR)
        .collect()
}

/// Verifies a JWS compact token and returns its claims.
///
/// In order: size and shape (three base64url segments, at most
/// [`MAX_TOKEN_LEN`] bytes), header (`alg` supported and allowed, no
/// `crit`, `typ` absent or a JWT type), key selection, signature, then the
/// payload's claims against `validation` at `now` (Unix seconds).
///
/// Key selection: with a `kid` in the header, only keys with that id are
/// candidates, and none at all is [`JwtError::UnknownKid`]. Without a
/// `kid`, the first [`MAX_KEYS_TRIED_WITHOUT_KID`] keys of the set that
/// accept the algorithm are candidates. Either way a candidate must accept
/// the algorithm ([`VerifyingKey::accepts`]); if none does, the result is
/// [`JwtError::NoMatchingKey`], and if none verifies the signature,
/// [`JwtError::BadSignature`].
pub fn verify(
    token: &str,
    keys: &KeySet,
    validation: &Validation,
    now: i64,
) -> Result<Claims, JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::TooLong);
    }
    let mut segments = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(sig_b64), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(JwtError::Malformed("not three dot-separated segments"));
    };
    let header_bytes = crate::base64::decode_url(header_b64.as_bytes())
        .ok_or(JwtError::Malformed("header is not unpadded base64url"))?;
    // Decoded now only to refuse a bad encoding early; parsed after the
    // signature has been checked.
    let payload_bytes = crate::base64::decode_url(payload_b64.as_bytes())
        .ok_or(JwtError::Malformed("payload is not unpadded base64url"))?;
    let signature = crate::base64::decode_url(sig_b64.as_bytes())
        .ok_or(JwtError::Malformed("signature is not unpadded base64url"))?;

    let header = Header::parse(&header_bytes)?;
    if !validation.algorithms.contains(&header.alg) {
        return Err(JwtError::AlgorithmNotAllowed);
    }

    let signing_input = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
    let mut candidates: Vec<&VerifyingKey> = match &header.kid {
        Some(kid) => {
            let named: Vec<&VerifyingKey> = keys
                .iter()
                .filter(|k| k.kid() == Some(kid.as_str()))
                .collect();
            if named.is_empty() {
                return Err(JwtError::UnknownKid(sanitize_kid(kid)));
            }
            named
        }
        None => keys.iter().collect(),
    };
    candidates.retain(|k| k.accepts(header.alg));
    candidates.truncate(MAX_KEYS_TRIED_WITHOUT_KID);
    if candidates.is_empty() {
        return Err(JwtError::NoMatchingKey);
    }
    if !candidates
        .iter()
        .any(|k| k.verify_signature(header.alg, signing_input, &signature))
    {
        return Err(JwtError::BadSignature);
    }

    let payload = claims::parse_object(
        &payload_bytes,
        "payload is not JSON",
        "payload is not a JSON object with unique member names",
    )?;
    let claims = Claims::from_map(payload)?;
    validation.check(&claims, now)?;
    Ok(claims)
}

#[cfg(test)]
mod tests;
