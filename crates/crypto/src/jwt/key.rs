//! Verification keys, key sets and PEM import.

use std::fmt;

use ring::{hmac, signature};
use zeroize::Zeroizing;

use super::der::Reader;
use super::Algorithm;
use crate::base64;
use crate::SecretString;

/// Shortest HMAC secret accepted, in bytes. RFC 7518 §3.2 asks for at least
/// the hash size; 32 bytes covers HS256 and keeps guessable passwords out.
pub const MIN_HMAC_SECRET_LEN: usize = 32;
/// RSA modulus sizes accepted, in bits. `ring` refuses anything smaller
/// than 2048 at verification time; checking here as well means an unusable
/// key is reported when it is loaded, not when the first token fails.
pub const MIN_RSA_BITS: usize = 2048;
pub const MAX_RSA_BITS: usize = 8192;
/// Longest `kid` kept from configuration or a JWK set, in bytes.
pub const MAX_KID_LEN: usize = 256;
/// Largest PEM text accepted by [`VerifyingKey::from_pem`], in bytes.
pub const MAX_PEM_LEN: usize = 64 * 1024;

const P256_POINT_LEN: usize = 1 + 2 * 32;
const P384_POINT_LEN: usize = 1 + 2 * 48;
const ED25519_KEY_LEN: usize = 32;

// Object identifiers, as the contents of their DER encoding.
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// What a key can verify. Each type serves one family of algorithms and
/// nothing else: this pairing is what makes algorithm confusion (an RSA
/// public key used as an HMAC secret, an ES256 token checked on a P-384
/// key) impossible.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// A shared secret: HS256, HS384, HS512.
    Hmac,
    /// An RSA public key: RS256, RS384, RS512, PS256.
    Rsa,
    /// A NIST P-256 public key: ES256.
    EcP256,
    /// A NIST P-384 public key: ES384.
    EcP384,
    /// An Ed25519 public key: EdDSA.
    Ed25519,
}

impl KeyType {
    /// True when a key of this type may verify `alg`.
    pub fn supports(self, alg: Algorithm) -> bool {
        use Algorithm::*;
        matches!(
            (self, alg),
            (Self::Hmac, HS256 | HS384 | HS512)
                | (Self::Rsa, RS256 | RS384 | RS512 | PS256)
                | (Self::EcP256, ES256)
                | (Self::EcP384, ES384)
                | (Self::Ed25519, EdDSA)
        )
    }
}

/// Why a key could not be loaded. Messages are static: no key bytes, no
/// document content.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    /// The JWK set document is not JSON, or not an object with a `keys` array.
    #[error("not a JWK set: {0}")]
    NotAKeySet(&'static str),
    /// The JWK set document is larger than [`super::MAX_JWKS_LEN`].
    #[error("JWK set larger than {} bytes", super::MAX_JWKS_LEN)]
    TooLarge,
    /// The key came after the first [`super::MAX_JWKS_KEYS`] of its set.
    #[error("more than {} keys in the set", super::MAX_JWKS_KEYS)]
    TooManyKeys,
    /// A member is missing, has the wrong JSON type or a bad encoding.
    #[error("malformed key: {0}")]
    Malformed(&'static str),
    /// `kty` (or the PEM key algorithm) is not RSA, EC or OKP.
    #[error("unsupported key type")]
    UnsupportedKeyType,
    /// An EC or OKP curve other than P-256, P-384 or Ed25519.
    #[error("unsupported curve")]
    UnsupportedCurve,
    /// The key's `alg` is not one this crate verifies.
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    /// The key's `alg` cannot be used with its type (e.g. `RSA` + `ES256`).
    #[error("the key's algorithm does not match its type")]
    AlgorithmMismatch,
    /// `use` is not `sig`, or `key_ops` does not include `verify`.
    #[error("key is not meant for signature verification")]
    NotForSignatures,
    /// An `oct` key in a JWK set. HMAC secrets come only from configuration:
    /// a secret fetched with the public keys is a secret no longer.
    #[error("symmetric (`oct`) keys are not accepted from a JWK set")]
    SymmetricKeyNotAllowed,
    /// An RSA modulus outside [`MIN_RSA_BITS`]..=[`MAX_RSA_BITS`].
    #[error("RSA key of {bits} bits; {MIN_RSA_BITS} to {MAX_RSA_BITS} are accepted")]
    RsaKeySize {
        /// The modulus size found.
        bits: usize,
    },
    /// An HMAC secret shorter than [`MIN_HMAC_SECRET_LEN`] bytes.
    #[error("HMAC secret shorter than {MIN_HMAC_SECRET_LEN} bytes")]
    HmacSecretTooShort,
    /// A `kid` longer than [`MAX_KID_LEN`] bytes.
    #[error("key id longer than {MAX_KID_LEN} bytes")]
    KidTooLong,
    /// A private key where a public key belongs. Its content is not read.
    #[error("a private key was given where a public key is expected")]
    PrivateKey,
    /// The PEM text could not be used.
    #[error("PEM: {0}")]
    Pem(&'static str),
}

/// The key material. Private so that the only way to use it is through
/// [`VerifyingKey::verify_signature`], which pairs type and algorithm.
#[derive(Clone)]
pub(super) enum Material {
    /// Kept as bytes and wiped on drop. The `ring` HMAC key is derived per
    /// verification, because one secret may serve HS256, HS384 and HS512
    /// and `ring`'s derived state is not zeroized.
    Hmac(Zeroizing<Vec<u8>>),
    /// Big-endian modulus and exponent without leading zero bytes.
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// An uncompressed point `0x04 || x || y`.
    EcP256(Vec<u8>),
    EcP384(Vec<u8>),
    Ed25519([u8; ED25519_KEY_LEN]),
}

impl Material {
    fn key_type(&self) -> KeyType {
        match self {
            Self::Hmac(_) => KeyType::Hmac,
            Self::Rsa { .. } => KeyType::Rsa,
            Self::EcP256(_) => KeyType::EcP256,
            Self::EcP384(_) => KeyType::EcP384,
            Self::Ed25519(_) => KeyType::Ed25519,
        }
    }

    fn hmac(secret: &[u8]) -> Result<Self, JwkError> {
        if secret.len() < MIN_HMAC_SECRET_LEN {
            return Err(JwkError::HmacSecretTooShort);
        }
        Ok(Self::Hmac(Zeroizing::new(secret.to_vec())))
    }

    pub(super) fn rsa(n: &[u8], e: &[u8]) -> Result<Self, JwkError> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let bits = bit_len(n);
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(JwkError::RsaKeySize { bits });
        }
        // ring accepts odd exponents from 3 to 2^33 - 1; refusing others
        // here reports the key as unusable instead of failing every token.
        let e_value = if e.len() <= 5 {
            e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
        } else {
            0
        };
        if e_value < 3 || e_value % 2 == 0 || e_value >= 1 << 33 {
            return Err(JwkError::Malformed("unsupported RSA public exponent"));
        }
        Ok(Self::Rsa {
            n: n.to_vec(),
            e: e.to_vec(),
        })
    }

    pub(super) fn ec(key_type: KeyType, point: &[u8]) -> Result<Self, JwkError> {
        // Whether the point is on the curve is checked by ring on every
        // verification; here only the shape, so a compressed or truncated
        // point is reported when the key is loaded.
        let (len, wrap): (usize, fn(Vec<u8>) -> Self) = match key_type {
            KeyType::EcP256 => (P256_POINT_LEN, Self::EcP256),
            KeyType::EcP384 => (P384_POINT_LEN, Self::EcP384),
            _ => return Err(JwkError::UnsupportedCurve),
        };
        match point {
            [0x04, ..] if point.len() == len => Ok(wrap(point.to_vec())),
            [0x02 | 0x03, ..] => Err(JwkError::Malformed(
                "compressed EC points are not supported",
            )),
            _ => Err(JwkError::Malformed("EC point has the wrong length")),
        }
    }

    pub(super) fn ed25519(key: &[u8]) -> Result<Self, JwkError> {
        key.try_into()
            .map(Self::Ed25519)
            .map_err(|_| JwkError::Malformed("Ed25519 key is not 32 bytes"))
    }
}

impl fmt::Debug for Material {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hmac(_) => f.write_str("Hmac(***)"),
            Self::Rsa { n, .. } => write!(f, "Rsa({} bits)", bit_len(n)),
            Self::EcP256(_) => f.write_str("EcP256"),
            Self::EcP384(_) => f.write_str("EcP384"),
            Self::Ed25519(_) => f.write_str("Ed25519"),
        }
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// Bit length of a big-endian number without leading zero bytes.
fn bit_len(n: &[u8]) -> usize {
    match n.first() {
        None => 0,
        Some(&top) => (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    }
}

/// One key that can verify JWS signatures: its material, an optional key
/// id and an optional pinned algorithm.
///
/// `Debug` shows the id, the pinned algorithm and the key type; never the
/// bytes of an HMAC secret, which are wiped when the key is dropped.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: Option<String>,
    alg: Option<Algorithm>,
    material: Material,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("kind", &self.material)
            .finish()
    }
}

fn owned_kid(kid: Option<&str>) -> Result<Option<String>, JwkError> {
    match kid {
        Some(k) if k.len() > MAX_KID_LEN => Err(JwkError::KidTooLong),
        k => Ok(k.map(str::to_owned)),
    }
}

impl VerifyingKey {
    pub(super) fn from_material(material: Material, kid: Option<&str>) -> Result<Self, JwkError> {
        Ok(Self {
            kid: owned_kid(kid)?,
            alg: None,
            material,
        })
    }

    /// An HMAC key (HS256/HS384/HS512) from a configured secret. The secret
    /// is used as its UTF-8 bytes and must be at least
    /// [`MIN_HMAC_SECRET_LEN`] bytes long.
    pub fn hmac(secret: &SecretString, kid: Option<&str>) -> Result<Self, JwkError> {
        Self::hmac_from_bytes(secret.expose().as_bytes(), kid)
    }

    /// An HMAC key from raw secret bytes (e.g. a decoded base64 secret).
    /// The bytes are copied into a buffer that is wiped on drop.
    pub fn hmac_from_bytes(secret: &[u8], kid: Option<&str>) -> Result<Self, JwkError> {
        Self::from_material(Material::hmac(secret)?, kid)
    }

    /// A public key from PEM text: `-----BEGIN PUBLIC KEY-----`
    /// (SubjectPublicKeyInfo holding an RSA, P-256, P-384 or Ed25519 key) or
    /// `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1). Private keys and
    /// certificates are refused without decoding them.
    pub fn from_pem(pem: &str, kid: Option<&str>) -> Result<Self, JwkError> {
        let material = match pem_block(pem)? {
            (PemKind::Spki, der) => spki(&der)?,
            (PemKind::Pkcs1, der) => pkcs1(&der)?,
        };
        Self::from_material(material, kid)
    }

    /// Pins the key to one algorithm: it will verify nothing else. Fails
    /// when the key's type cannot serve `alg`.
    pub fn with_alg(mut self, alg: Algorithm) -> Result<Self, JwkError> {
        if !self.key_type().supports(alg) {
            return Err(JwkError::AlgorithmMismatch);
        }
        self.alg = Some(alg);
        Ok(self)
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The pinned algorithm, if any.
    pub fn alg(&self) -> Option<Algorithm> {
        self.alg
    }

    pub fn key_type(&self) -> KeyType {
        self.material.key_type()
    }

    /// True when this key may verify a token signed with `alg`: the key
    /// type serves that algorithm and no other algorithm is pinned.
    pub fn accepts(&self, alg: Algorithm) -> bool {
        self.key_type().supports(alg) && self.alg.is_none_or(|pinned| pinned == alg)
    }

    /// Checks `signature` over `message` with `alg`. False for a wrong
    /// signature and for any pairing [`Self::accepts`] refuses; the match
    /// below lists every allowed pairing, so a new algorithm cannot reach a
    /// key of the wrong type by accident.
    pub(super) fn verify_signature(&self, alg: Algorithm, message: &[u8], sig: &[u8]) -> bool {
        use Algorithm::*;
        if !self.accepts(alg) {
            return false;
        }
        let rsa = |params: &signature::RsaParameters, n: &[u8], e: &[u8]| {
            signature::RsaPublicKeyComponents { n, e }
                .verify(params, message, sig)
                .is_ok()
        };
        let hmac = |algorithm: hmac::Algorithm, secret: &[u8]| {
            // `hmac::verify` compares tags in constant time.
            hmac::verify(&hmac::Key::new(algorithm, secret), message, sig).is_ok()
        };
        let public = |algorithm: &'static dyn signature::VerificationAlgorithm, key: &[u8]| {
            signature::UnparsedPublicKey::new(algorithm, key)
                .verify(message, sig)
                .is_ok()
        };
        match (&self.material, alg) {
            (Material::Hmac(s), HS256) => hmac(hmac::HMAC_SHA256, s),
            (Material::Hmac(s), HS384) => hmac(hmac::HMAC_SHA384, s),
            (Material::Hmac(s), HS512) => hmac(hmac::HMAC_SHA512, s),
            (Material::Rsa { n, e }, RS256) => rsa(&signature::RSA_PKCS1_2048_8192_SHA256, n, e),
            (Material::Rsa { n, e }, RS384) => rsa(&signature::RSA_PKCS1_2048_8192_SHA384, n, e),
            (Material::Rsa { n, e }, RS512) => rsa(&signature::RSA_PKCS1_2048_8192_SHA512, n, e),
            (Material::Rsa { n, e }, PS256) => rsa(&signature::RSA_PSS_2048_8192_SHA256, n, e),
            (Material::EcP256(p), ES256) => public(&signature::ECDSA_P256_SHA256_FIXED, p),
            (Material::EcP384(p), ES384) => public(&signature::ECDSA_P384_SHA384_FIXED, p),
            (Material::Ed25519(k), EdDSA) => public(&signature::ED25519, k),
            _ => false,
        }
    }
}

/// The keys a verifier trusts: HMAC secrets from configuration and public
/// keys from PEM files or a JWK set, in any mix. Order matters only for
/// tokens without a `kid` (see [`super::verify`]).
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.keys).finish()
    }
}

impl KeySet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, key: VerifyingKey) {
        self.keys.push(key);
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, VerifyingKey> {
        self.keys.iter()
    }
}

impl FromIterator<VerifyingKey> for KeySet {
    fn from_iter<I: IntoIterator<Item = VerifyingKey>>(iter: I) -> Self {
        Self {
            keys: iter.into_iter().collect(),
        }
    }
}

impl Extend<VerifyingKey> for KeySet {
    fn extend<I: IntoIterator<Item = VerifyingKey>>(&mut self, iter: I) {
        self.keys.extend(iter);
    }
}

impl<'a> IntoIterator for &'a KeySet {
    type Item = &'a VerifyingKey;
    type IntoIter = std::slice::Iter<'a, VerifyingKey>;
    fn into_iter(self) -> Self::IntoIter {
        self.keys.iter()
    }
}

/// The two PEM labels [`VerifyingKey::from_pem`] reads.
enum PemKind {
    /// `PUBLIC KEY`: SubjectPublicKeyInfo.
    Spki,
    /// `RSA PUBLIC KEY`: PKCS#1 RSAPublicKey.
    Pkcs1,
}

/// Finds the one PEM block in `pem` and decodes it. Only the two
/// public-key labels are accepted; everything else is an error.
fn pem_block(pem: &str) -> Result<(PemKind, Vec<u8>), JwkError> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    if pem.len() > MAX_PEM_LEN {
        return Err(JwkError::Pem("PEM text too large"));
    }
    let start = pem.find(BEGIN).ok_or(JwkError::Pem("no BEGIN line"))?;
    let after_begin = &pem[start + BEGIN.len()..];
    let label_end = after_begin
        .find(DASHES)
        .ok_or(JwkError::Pem("unterminated BEGIN line"))?;
    let label = &after_begin[..label_end];
    let body_and_rest = &after_begin[label_end + DASHES.len()..];
    if body_and_rest.contains(BEGIN) {
        return Err(JwkError::Pem("more than one PEM block"));
    }
    // Refuse before decoding: private key bytes are never even parsed.
    if label.contains("PRIVATE KEY") {
        return Err(JwkError::PrivateKey);
    }
    let kind = match label {
        "PUBLIC KEY" => PemKind::Spki,
        "RSA PUBLIC KEY" => PemKind::Pkcs1,
        "CERTIFICATE" => {
            return Err(JwkError::Pem(
                "certificates are not accepted; give the public key (BEGIN PUBLIC KEY)",
            ))
        }
        _ => return Err(JwkError::Pem("unsupported PEM label")),
    };
    let end = format!("-----END {label}-----");
    let body_end = body_and_rest
        .find(&end)
        .ok_or(JwkError::Pem("no matching END line"))?;
    if !body_and_rest[body_end + end.len()..].trim().is_empty() {
        return Err(JwkError::Pem("text after the END line"));
    }
    let body = &body_and_rest[..body_end];
    // RFC 1421 encapsulated headers (`Proc-Type:`) mean an encrypted or
    // otherwise processed key, which a public key never needs.
    if body.contains(':') {
        return Err(JwkError::Pem("PEM headers are not supported"));
    }
    let der = base64::decode_standard_lenient_whitespace(body.as_bytes())
        .ok_or(JwkError::Pem("body is not base64"))?;
    Ok((kind, der))
}

/// SubjectPublicKeyInfo (RFC 5280 §4.1.2.7).
fn spki(der: &[u8]) -> Result<Material, JwkError> {
    let mut outer = Reader::new(der);
    let mut info = outer.sequence().map_err(JwkError::Malformed)?;
    outer.finish().map_err(JwkError::Malformed)?;
    let mut alg_id = info.sequence().map_err(JwkError::Malformed)?;
    let key = info.bit_string().map_err(JwkError::Malformed)?;
    info.finish().map_err(JwkError::Malformed)?;
    let oid = alg_id.oid().map_err(JwkError::Malformed)?;
    let material = match oid {
        OID_RSA_ENCRYPTION => {
            // Parameters must be NULL; some encoders omit them.
            if !alg_id.is_empty() {
                alg_id.null().map_err(JwkError::Malformed)?;
            }
            pkcs1(key)?
        }
        OID_EC_PUBLIC_KEY => {
            // Only named curves; explicit curve parameters are refused by
            // the OID read failing on a SEQUENCE.
            let curve = alg_id.oid().map_err(|_| JwkError::UnsupportedCurve)?;
            let key_type = match curve {
                OID_P256 => KeyType::EcP256,
                OID_P384 => KeyType::EcP384,
                _ => return Err(JwkError::UnsupportedCurve),
            };
            Material::ec(key_type, key)?
        }
        OID_ED25519 => Material::ed25519(key)?,
        _ => return Err(JwkError::UnsupportedKeyType),
    };
    alg_id.finish().map_err(JwkError::Malformed)?;
    Ok(material)
}

/// PKCS#1 RSAPublicKey (RFC 8017 §A.1.1): SEQUENCE { n, e }.
fn pkcs1(der: &[u8]) -> Result<Material, JwkError> {
    let mut outer = Reader::new(der);
    let mut seq = outer.sequence().map_err(JwkError::Malformed)?;
    outer.finish().map_err(JwkError::Malformed)?;
    let n = seq.positive_integer().map_err(JwkError::Malformed)?;
    let e = seq.positive_integer().map_err(JwkError::Malformed)?;
    seq.finish().map_err(JwkError::Malformed)?;
    Material::rsa(n, e)
}

/// Decodes a PEM block for tests that need the DER of a private key.
#[cfg(test)]
pub(super) fn pem_der_for_tests(pem: &str) -> Vec<u8> {
    let start = pem.find('\n').unwrap();
    let end = pem.find("-----END").unwrap();
    base64::decode_standard_lenient_whitespace(&pem.as_bytes()[start..end]).unwrap()
}
