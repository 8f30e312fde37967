//! `request_id::accept_or_generate` with an `x-request-id` header built
//! from the input bytes (inputs `HeaderValue::from_bytes` refuses are
//! skipped).
//!
//! Asserts: never panics; the result is 1–128 bytes of `[A-Za-z0-9._:-]`;
//! a value that already has that shape is propagated unchanged, any other
//! is replaced by a fresh 32-hex-digit id.
#![no_main]

use amanah_gateway::request_id::{accept_or_generate, HEADER};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fn allowed(v: &[u8]) -> bool {
    v.iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(HEADER, value);
    let id = accept_or_generate(&headers);
    let got = id.as_bytes();
    assert!(
        !got.is_empty() && got.len() <= 128,
        "{data:?} -> {got:?}: bad length"
    );
    assert!(allowed(got), "{data:?} -> {got:?}: forbidden byte");
    if !data.is_empty() && data.len() <= 128 && allowed(data) {
        assert_eq!(got, data, "a clean id was not propagated");
    } else {
        assert_eq!(got.len(), 32, "{data:?} -> {got:?}: not a generated id");
        assert!(
            got.iter().all(|b| b.is_ascii_hexdigit()),
            "{data:?} -> {got:?}: not a generated id"
        );
    }
});
