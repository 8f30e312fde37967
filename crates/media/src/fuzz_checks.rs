//! The properties the `media_sniff` fuzz target asserts, here so that the
//! seed replay test and the property tests check exactly the same thing.
//! Not part of the API.

use crate::{sniff, Limits, Rejection, Sniffer, Verdict};

/// The limits used when the selector byte has bit 6 set: small enough that
/// fuzzed inputs reach `TooLarge`, `TooLong` and `TooManyChars`.
pub fn small_limits() -> Limits {
    Limits {
        max_bytes: 2048,
        max_duration_secs: 60,
        max_text_chars: 256,
        ..Limits::default()
    }
}

/// Feeds `body` in chunks of `size` bytes (the last may be shorter),
/// stopping at the first rejection.
pub fn sniff_chunked(limits: Limits, body: &[u8], size: usize) -> Result<Verdict, Rejection> {
    let mut s = Sniffer::new(limits);
    for chunk in body.chunks(size.max(1)) {
        s.push(chunk)?;
    }
    s.finish()
}

/// `data[0]` picks the chunk size (`1 + low 6 bits`) and, with bit 6, the
/// [`small_limits`]; the rest is the body. Sniffs it whole, in chunks and
/// (when short) byte by byte.
///
/// # Panics
///
/// When the results differ or a verdict breaks the limits: that is the bug
/// the fuzzer looks for.
pub fn check_media_sniff(data: &[u8]) -> Result<Verdict, Rejection> {
    let Some((&sel, body)) = data.split_first() else {
        return Err(Rejection::malformed("empty body"));
    };
    let limits = if sel & 0x40 != 0 {
        small_limits()
    } else {
        Limits::default()
    };
    let size = usize::from(sel & 0x3F) + 1;
    let whole = sniff(limits.clone(), body);
    let chunked = sniff_chunked(limits.clone(), body, size);
    assert_eq!(whole, chunked, "chunks of {size} differ from whole");
    if body.len() <= 8192 {
        let bytewise = sniff_chunked(limits.clone(), body, 1);
        assert_eq!(whole, bytewise, "byte by byte differs from whole");
    }
    match &whole {
        Ok(v) => {
            assert_eq!(v.bytes, body.len() as u64);
            assert!(limits.allowed.contains(v.format));
            if let Some(hz) = v.sample_rate {
                assert!((limits.min_sample_rate..=limits.max_sample_rate).contains(&hz));
            }
            if let Some(secs) = v.duration_secs {
                assert!(secs.is_finite() && secs >= 0.0);
                assert!(secs <= limits.max_duration_secs as f64);
            }
            if !v.format.is_audio() {
                assert!(v.sample_rate.is_none() && v.duration_secs.is_none());
            }
        }
        Err(Rejection::TooLarge { max_bytes }) => {
            assert!(body.len() as u64 > *max_bytes);
        }
        Err(r) => {
            let _ = r.to_string();
            assert!(matches!(r.status(), 413 | 415 | 422));
        }
    }
    whole
}

/// The boundary the `media_multipart` fuzz target's bodies use.
pub const FUZZ_BOUNDARY: &str = "fuzzb";

fn multipart_chunked(body: &[u8], size: usize) -> Result<Verdict, Rejection> {
    let mut m = crate::MultipartSniffer::new(FUZZ_BOUNDARY, Limits::default());
    for chunk in body.chunks(size.max(1)) {
        m.push(chunk)?;
    }
    m.finish()
}

/// `data[0]` picks the chunk size (`1 + low 6 bits`); the rest is a
/// `multipart/form-data` body with boundary [`FUZZ_BOUNDARY`]. Reads it
/// whole, in chunks and (when short) byte by byte.
///
/// # Panics
///
/// When the results differ: a delimiter or header cut across chunks was
/// read differently.
pub fn check_multipart_sniff(data: &[u8]) -> Result<Verdict, Rejection> {
    let Some((&sel, body)) = data.split_first() else {
        return Err(Rejection::malformed("empty body"));
    };
    let size = usize::from(sel & 0x3F) + 1;
    let whole = multipart_chunked(body, body.len());
    let chunked = multipart_chunked(body, size);
    assert_eq!(whole, chunked, "chunks of {size} differ from whole");
    if body.len() <= 8192 {
        assert_eq!(whole, multipart_chunked(body, 1), "byte by byte differs");
    }
    whole
}
