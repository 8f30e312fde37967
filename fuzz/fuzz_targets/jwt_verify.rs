//! `amanah_crypto::jwt::verify` on arbitrary input, against a fixed key set
//! (the PyJWT fixture JWK set plus its HMAC secret) at the fixtures' `now`.
//!
//! Two modes, chosen by the first byte:
//! - anything but `{`: the input (longest valid UTF-8 prefix) is the token;
//! - `{`: the input is `<header JSON>\n<payload JSON>`, which the harness
//!   encodes and signs with HS256 under the fixture secret, so that the
//!   claim parsing behind the signature check gets fuzzed too.
//!
//! Asserts: never panics; on `Ok`, the token has three segments and is at
//! most `MAX_TOKEN_LEN` bytes, and the claims satisfy the validation (`exp`
//! present and not past, `iss` and `aud` as configured); on `Err`, an
//! `UnknownKid` carries at most 64 characters of `[A-Za-z0-9._-]`.
#![no_main]

use std::sync::LazyLock;

use amanah_crypto::jwt::{self, Algorithm, JwtError, KeySet, Validation, VerifyingKey};
use amanah_crypto::SecretString;
use libfuzzer_sys::fuzz_target;

const TOKENS: &str = include_str!("../../crates/crypto/tests/fixtures/pyjwt/tokens.json");
const JWKS: &str = include_str!("../../crates/crypto/tests/fixtures/pyjwt/jwks.json");
// Copied from tokens.json, which is the source of truth for these values.
const NOW: i64 = 1_700_000_000;
const ISS: &str = "https://idp.example.test";
const AUD: &str = "amanah";

/// A string field of tokens.json (`"name": "value"`); the fuzz crate has
/// no JSON parser of its own and the file's layout is fixed by mint.py.
fn field(name: &str) -> &'static str {
    let key = format!("\"{name}\": \"");
    let start = TOKENS.find(&key).unwrap() + key.len();
    let len = TOKENS[start..].find('"').unwrap();
    &TOKENS[start..start + len]
}

static SECRET: LazyLock<String> = LazyLock::new(|| field("hmac_secret").to_owned());

static KEYS: LazyLock<KeySet> = LazyLock::new(|| {
    let (mut keys, skipped) = KeySet::from_jwks(JWKS.as_bytes()).unwrap();
    assert!(skipped.is_empty());
    let secret = SecretString::new(SECRET.clone());
    keys.push(VerifyingKey::hmac(&secret, Some(field("hmac_kid"))).unwrap());
    keys
});

static VALIDATION: LazyLock<Validation> = LazyLock::new(|| {
    Validation::new(Algorithm::ALL)
        .with_issuer(ISS)
        .with_audience(AUD)
        .with_max_lifetime_secs(2 * 3600)
});

fn b64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=c.len() {
            out.push(char::from(A[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

fn signed_token(data: &[u8]) -> String {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (header, payload) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let input = format!("{}.{}", b64url(header), b64url(payload));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let tag = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64url(tag.as_ref()))
}

fuzz_target!(|data: &[u8]| {
    let token = if data.first() == Some(&b'{') {
        signed_token(data)
    } else {
        match std::str::from_utf8(data) {
            Ok(s) => s.to_owned(),
            Err(e) => std::str::from_utf8(&data[..e.valid_up_to()])
                .unwrap()
                .to_owned(),
        }
    };
    match jwt::verify(&token, &KEYS, &VALIDATION, NOW) {
        Ok(claims) => {
            assert!(token.len() <= jwt::MAX_TOKEN_LEN);
            assert_eq!(token.split('.').count(), 3);
            let exp = claims.exp.expect("exp is required");
            assert!(i128::from(exp) + i128::from(VALIDATION.leeway_secs) > i128::from(NOW));
            assert_eq!(claims.iss.as_deref(), Some(ISS));
            assert!(claims.aud.iter().any(|a| a == AUD));
            let _ = format!("{claims:?}");
        }
        Err(e) => {
            if let JwtError::UnknownKid(kid) = &e {
                assert!(kid.len() <= 64, "{kid:?}");
                assert!(
                    kid.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)),
                    "{kid:?}"
                );
            }
            let _ = e.to_string();
        }
    }
});
