//! `KeySet::from_jwks` and `VerifyingKey::from_pem` on arbitrary input.
//!
//! Asserts: never panics; a loaded set has at most `MAX_JWKS_KEYS` keys,
//! every skipped key's `kid` is at most 64 characters of `[A-Za-z0-9._-]`,
//! `Debug` of the set renders, and verifying a fixed token of each
//! asymmetric algorithm against whatever keys were loaded does not panic
//! (odd RSA moduli, off-curve points).
#![no_main]

use std::sync::LazyLock;

use amanah_crypto::jwt::{self, Algorithm, KeySet, Validation, VerifyingKey, MAX_JWKS_KEYS};
use libfuzzer_sys::fuzz_target;

const TOKENS: &str = include_str!("../../crates/crypto/tests/fixtures/pyjwt/tokens.json");

/// The fixture tokens, found by their `"token": "` prefix.
static FIXED_TOKENS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    TOKENS
        .split("\"token\": \"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect()
});

fuzz_target!(|data: &[u8]| {
    if let Ok((set, skipped)) = KeySet::from_jwks(data) {
        assert!(set.len() <= MAX_JWKS_KEYS);
        for s in &skipped {
            if let Some(kid) = &s.kid {
                assert!(kid.len() <= 64, "{kid:?}");
                assert!(kid
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)));
            }
            let _ = s.reason.to_string();
        }
        let _ = format!("{set:?}");
        let validation = Validation::new(Algorithm::ALL);
        for token in FIXED_TOKENS.iter() {
            let _ = jwt::verify(token, &set, &validation, 1_700_000_000);
        }
    }
    let text = match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap(),
    };
    if let Ok(key) = VerifyingKey::from_pem(text, Some("k")) {
        let _ = format!("{key:?}");
        let set: KeySet = [key].into_iter().collect();
        let validation = Validation::new(Algorithm::ALL);
        for token in FIXED_TOKENS.iter() {
            let _ = jwt::verify(token, &set, &validation, 1_700_000_000);
        }
    }
});
