//! Strict base64 (RFC 4648): the URL-safe alphabet without padding for JWS
//! segments and JWK members (RFC 7515 §2), the standard alphabet with
//! optional padding for PEM bodies (RFC 7468), and the standard alphabet
//! with required padding for root keys kept as text.
//!
//! Strict means one byte string has exactly one accepted encoding: padding
//! in a JWS segment, characters outside the alphabet and non-zero trailing
//! bits are all refused. A lenient decoder would let an attacker produce
//! many spellings of one signature, which breaks replay caches keyed by the
//! token text and hides parser differentials.

#[derive(Clone, Copy)]
enum Alphabet {
    /// `A-Z a-z 0-9 - _`, no padding.
    Url,
    /// `A-Z a-z 0-9 + /`, `=` padding allowed at the end.
    Standard,
}

fn value(alphabet: Alphabet, c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' if matches!(alphabet, Alphabet::Url) => Some(62),
        b'_' if matches!(alphabet, Alphabet::Url) => Some(63),
        b'+' if matches!(alphabet, Alphabet::Standard) => Some(62),
        b'/' if matches!(alphabet, Alphabet::Standard) => Some(63),
        _ => None,
    }
}

/// Decodes unpadded symbols. `None` on any character outside the alphabet,
/// an impossible length (4n+1) or non-zero bits left over at the end.
fn decode_symbols(alphabet: Alphabet, input: &[u8]) -> Option<Vec<u8>> {
    if input.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    for &c in input {
        acc = (acc << 6) | u32::from(value(alphabet, c)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            // Truncation is the point: take the next whole byte.
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits (2 or 4) must be zero for the encoding to be canonical.
    (acc == 0).then_some(out)
}

/// base64url without padding, as JWS compact serialization requires.
pub(crate) fn decode_url(input: &[u8]) -> Option<Vec<u8>> {
    decode_symbols(Alphabet::Url, input)
}

/// Standard base64 as found in a PEM body: ASCII whitespace is skipped and
/// `=` padding is accepted only at the very end (and only as much as the
/// length calls for).
pub(crate) fn decode_standard_lenient_whitespace(input: &[u8]) -> Option<Vec<u8>> {
    let compact: Vec<u8> = input
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let unpadded_len = compact
        .iter()
        .rposition(|&c| c != b'=')
        .map_or(0, |i| i + 1);
    let padding = compact.len() - unpadded_len;
    // Not `is_multiple_of`: that is Rust 1.87 and the workspace MSRV is 1.85.
    #[allow(clippy::manual_is_multiple_of)]
    let whole_quanta = compact.len() % 4 == 0;
    if padding > 0 && (padding > 2 || !whole_quanta) {
        return None;
    }
    decode_symbols(Alphabet::Standard, &compact[..unpadded_len])
}

/// Padded standard base64 with nothing else around it (a root key): padding
/// is required where the length calls for it, so one key has one spelling.
pub fn decode_standard_padded(input: &[u8]) -> Option<Vec<u8>> {
    // Not `is_multiple_of`: that is Rust 1.87 and the workspace MSRV is 1.85.
    #[allow(clippy::manual_is_multiple_of)]
    let whole_quanta = input.len() % 4 == 0;
    if !whole_quanta {
        return None;
    }
    let symbols = match input {
        [rest @ .., b'=', b'='] => rest,
        [rest @ .., b'='] => rest,
        _ => input,
    };
    decode_symbols(Alphabet::Standard, symbols)
}

/// Padded standard base64. The output is sized up front and never
/// reallocated, so a caller may wrap it in `Zeroizing` with no stray copy.
pub fn encode_standard(input: &[u8]) -> String {
    encode(Alphabet::Standard, input)
}

/// base64url without padding; only tests mint tokens.
#[cfg(test)]
pub(crate) fn encode_url(input: &[u8]) -> String {
    encode(Alphabet::Url, input)
}

fn encode(alphabet: Alphabet, input: &[u8]) -> String {
    let symbols: &[u8; 64] = match alphabet {
        Alphabet::Url => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        Alphabet::Standard => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    };
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(symbols[((n >> (18 - 6 * i)) & 63) as usize]));
        }
        if matches!(alphabet, Alphabet::Standard) {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_round_trips() {
        for len in 0..40 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let enc = encode_url(&data);
            assert!(!enc.contains('='));
            assert_eq!(decode_url(enc.as_bytes()).unwrap(), data, "len {len}");
        }
    }

    #[test]
    fn known_vectors() {
        assert_eq!(decode_url(b"").unwrap(), b"");
        assert_eq!(decode_url(b"Zg").unwrap(), b"f");
        assert_eq!(decode_url(b"Zm8").unwrap(), b"fo");
        assert_eq!(decode_url(b"Zm9v").unwrap(), b"foo");
        assert_eq!(decode_url(b"-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(
            decode_standard_lenient_whitespace(b"Zm9v\nYmE=\r\n").unwrap(),
            b"fooba"
        );
        assert_eq!(decode_standard_lenient_whitespace(b"Zg==").unwrap(), b"f");
    }

    #[test]
    fn url_rejects_padding_alphabet_and_non_canonical() {
        for bad in [
            &b"Zg=="[..],
            b"Zm8=",
            b"Z",
            b"Zm9v+",
            b"Zm9v/A",
            b"Zm 9v",
            b"Zh",  // 'h' leaves non-zero trailing bits
            b"Zm9", // same for a two-byte tail
            "Zé".as_bytes(),
        ] {
            assert!(decode_url(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn standard_rejects_misplaced_padding() {
        for bad in [&b"Zg="[..], b"Z===", b"Zg==Zg==", b"=Zg=", b"Zm9v-_8"] {
            assert!(decode_standard_lenient_whitespace(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn padded_standard_rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode_standard(plain.as_bytes()), enc);
            assert_eq!(
                decode_standard_padded(enc.as_bytes()).unwrap(),
                plain.as_bytes()
            );
        }
        assert_eq!(decode_standard_padded(b"+/8=").unwrap(), [0xfb, 0xff]);
        for len in 0..70 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let enc = encode_standard(&data);
            assert_eq!(enc.len() % 4, 0);
            assert_eq!(
                decode_standard_padded(enc.as_bytes()).unwrap(),
                data,
                "{len}"
            );
        }
    }

    #[test]
    fn padded_standard_rejects_everything_non_canonical() {
        for bad in [
            &b"Zg"[..], // padding missing
            b"Zg=",
            b"Z===",
            b"=Zg=",
            b"Zg==Zg==",
            b"Zh==", // non-zero trailing bits
            b"Zm9=",
            b"Zm9v-_8=", // URL alphabet
            b"Zm 9v",
            b"Zm9v\n",
            "Zé==".as_bytes(),
        ] {
            assert!(decode_standard_padded(bad).is_none(), "{bad:?}");
        }
    }
}
