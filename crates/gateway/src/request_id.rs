//! `X-Request-Id`: propagated when the client sends a well-formed one,
//! generated otherwise, and sent to the upstream and back to the client.

use http::{HeaderMap, HeaderValue};

pub const HEADER: &str = "x-request-id";
const MAX_LEN: usize = 128;

/// The client's id if it is 1–128 characters of `[A-Za-z0-9._:-]` (anything
/// else could smuggle text into logs), or a fresh random one.
pub fn accept_or_generate(headers: &HeaderMap) -> HeaderValue {
    headers
        .get(HEADER)
        .filter(|v| is_acceptable(v.as_bytes()))
        .cloned()
        .unwrap_or_else(generate)
}

fn is_acceptable(v: &[u8]) -> bool {
    !v.is_empty()
        && v.len() <= MAX_LEN
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// 128 random bits as 32 hex digits.
pub fn generate() -> HeaderValue {
    let id = amanah_crypto::random::encode_hex(&amanah_crypto::random::bytes::<16>());
    HeaderValue::from_str(&id).expect("hex is a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn propagates_a_clean_id() {
        let mut h = HeaderMap::new();
        h.insert(HEADER, HeaderValue::from_static("abc-123.x:y_z"));
        assert_eq!(accept_or_generate(&h), "abc-123.x:y_z");
    }

    #[test]
    fn replaces_a_hostile_or_missing_id() {
        let mut h = HeaderMap::new();
        assert_eq!(accept_or_generate(&h).len(), 32);
        for bad in ["", "has space", "quote\"", "{json}", &"a".repeat(129)] {
            h.insert(HEADER, HeaderValue::from_str(bad).unwrap());
            let got = accept_or_generate(&h);
            assert_ne!(got.as_bytes(), bad.as_bytes());
            assert_eq!(got.len(), 32);
        }
    }
}
