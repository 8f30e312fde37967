//! Replays the seed corpora of the `jwt_verify` and `jwks` fuzz targets
//! (`fuzz/seeds/<target>/`) through the same calls and properties on every
//! test run, so a bug a fuzzer once found stays fixed without a fuzzer.
//! Seeds named `ok_*` must succeed and `bad_*` must fail; others (and
//! crash reproducers) only must not panic.

use std::path::{Path, PathBuf};

use amanah_crypto::jwt::{self, Algorithm, JwtError, KeySet, Validation, VerifyingKey};
use amanah_crypto::SecretString;

const TOKENS: &str = include_str!("fixtures/pyjwt/tokens.json");
const JWKS: &str = include_str!("fixtures/pyjwt/jwks.json");
const NOW: i64 = 1_700_000_000;
const ISS: &str = "https://idp.example.test";
const AUD: &str = "amanah";

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds for {target}");
    out
}

fn utf8_prefix(data: &[u8]) -> &str {
    match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap(),
    }
}

fn name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

fn fixture() -> (serde_json::Value, KeySet, Validation) {
    let doc: serde_json::Value = serde_json::from_str(TOKENS).unwrap();
    assert_eq!(doc["now"].as_i64(), Some(NOW));
    assert_eq!(doc["issuer"].as_str(), Some(ISS));
    let (mut keys, skipped) = KeySet::from_jwks(JWKS.as_bytes()).unwrap();
    assert!(skipped.is_empty());
    let secret = SecretString::new(doc["hmac_secret"].as_str().unwrap().to_owned());
    keys.push(VerifyingKey::hmac(&secret, doc["hmac_kid"].as_str()).unwrap());
    let validation = Validation::new(Algorithm::ALL)
        .with_issuer(ISS)
        .with_audience(AUD)
        .with_max_lifetime_secs(2 * 3600);
    (doc, keys, validation)
}

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

/// The fuzz target's signed mode: `<header>\n<payload>`, HS256 under the
/// fixture secret.
fn signed_token(data: &[u8], secret: &str) -> String {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (header, payload) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let input = format!("{}.{}", b64url(header), b64url(payload));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64url(tag.as_ref()))
}

#[test]
fn jwt_verify_seeds() {
    let (doc, keys, validation) = fixture();
    let secret = doc["hmac_secret"].as_str().unwrap();
    for (path, data) in seeds("jwt_verify") {
        let token = if data.first() == Some(&b'{') {
            signed_token(&data, secret)
        } else {
            utf8_prefix(&data).to_owned()
        };
        let result = jwt::verify(&token, &keys, &validation, NOW);
        let n = name(&path);
        match &result {
            Ok(claims) => {
                assert!(!n.starts_with("bad_"), "{n} verified: {claims:?}");
                assert_eq!(claims.iss.as_deref(), Some(ISS), "{n}");
                assert!(claims.aud.iter().any(|a| a == AUD), "{n}");
            }
            Err(e) => {
                assert!(!n.starts_with("ok_"), "{n}: {e}");
                if let JwtError::UnknownKid(kid) = e {
                    assert!(kid.len() <= 64, "{n}");
                    assert!(
                        kid.chars()
                            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)),
                        "{n}: {kid:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn jwks_seeds() {
    let (doc, _, _) = fixture();
    let tokens: Vec<String> = doc["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token"].as_str().unwrap().to_owned())
        .collect();
    let validation = Validation::new(Algorithm::ALL);
    for (path, data) in seeds("jwks") {
        let n = name(&path);
        let mut loaded = 0;
        if let Ok((set, skipped)) = KeySet::from_jwks(&data) {
            assert!(set.len() <= jwt::MAX_JWKS_KEYS, "{n}");
            for s in &skipped {
                if let Some(kid) = &s.kid {
                    assert!(kid.len() <= 64, "{n}");
                }
            }
            let _ = format!("{set:?}");
            for t in &tokens {
                let _ = jwt::verify(t, &set, &validation, NOW);
            }
            loaded += set.len();
        }
        if let Ok(key) = VerifyingKey::from_pem(utf8_prefix(&data), Some("k")) {
            let set: KeySet = [key].into_iter().collect();
            for t in &tokens {
                let _ = jwt::verify(t, &set, &validation, NOW);
            }
            loaded += 1;
        }
        if n.starts_with("ok_") {
            assert!(loaded > 0, "{n} loaded no key");
        }
        if n.starts_with("bad_") {
            assert_eq!(loaded, 0, "{n} loaded a key");
        }
    }
}
