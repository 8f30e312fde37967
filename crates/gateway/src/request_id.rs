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
///
/// Drawn from a per-thread buffer refilled from the OS generator, so a
/// request id costs no system call. Ids are correlation handles, not
/// secrets; what matters is that they do not repeat.
pub fn generate() -> HeaderValue {
    use std::cell::RefCell;
    const BUF: usize = 1024;
    thread_local! {
        static POOL: RefCell<([u8; BUF], usize)> = const { RefCell::new(([0; BUF], BUF)) };
    }
    let bytes: [u8; 16] = POOL.with(|pool| {
        let (buf, used) = &mut *pool.borrow_mut();
        if *used + 16 > BUF {
            amanah_crypto::random::fill(buf);
            *used = 0;
        }
        let mut out = [0u8; 16];
        out.copy_from_slice(&buf[*used..*used + 16]);
        *used += 16;
        out
    });
    let id = amanah_crypto::random::encode_hex(&bytes);
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
    fn generated_ids_do_not_repeat_across_refills() {
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| generate()).collect();
        assert_eq!(ids.len(), 10_000);
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
