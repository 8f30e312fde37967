//! Randomness for identifiers and secrets: the operating system's CSPRNG.

use ring::rand::{SecureRandom, SystemRandom};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Fills `buf` from the OS generator.
///
/// # Panics
/// If the operating system cannot provide randomness. There is no safe way
/// to continue minting keys without it.
pub fn fill(buf: &mut [u8]) {
    SystemRandom::new()
        .fill(buf)
        .expect("the operating system's random number generator failed");
}

/// `n` random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill(&mut out);
    out
}

/// `len` characters drawn uniformly from `[0-9A-Za-z]`.
///
/// Rejection sampling keeps the draw uniform: bytes at or above 248
/// (= 4 × 62) are discarded instead of folded, which would bias the first
/// eight symbols.
pub fn base62(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut pool = [0u8; 64];
    while out.len() < len {
        fill(&mut pool);
        for &b in &pool {
            if b < 248 && out.len() < len {
                out.push(BASE62[usize::from(b % 62)] as char);
            }
        }
    }
    out
}

/// `len` lowercase hexadecimal characters.
pub fn hex(len: usize) -> String {
    let mut raw = vec![0u8; len.div_ceil(2)];
    fill(&mut raw);
    let mut out = encode_hex(&raw);
    out.truncate(len);
    out
}

/// Lowercase hexadecimal encoding.
pub fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_has_requested_length_and_alphabet() {
        for len in [0, 1, 32, 40, 100] {
            let s = base62(len);
            assert_eq!(s.len(), len);
            assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
    }

    #[test]
    fn base62_is_roughly_uniform() {
        // 62 symbols over 62_000 draws: each expected 1000 times. A biased
        // fold (b % 62 without rejection) gives the first 8 symbols ~1.03x.
        let s = base62(62_000);
        let mut counts = [0u32; 128];
        for b in s.bytes() {
            counts[usize::from(b)] += 1;
        }
        for &c in BASE62 {
            let n = counts[usize::from(c)];
            assert!((800..1200).contains(&n), "{} drawn {n} times", c as char);
        }
    }

    #[test]
    fn hex_lengths() {
        assert_eq!(hex(8).len(), 8);
        assert_eq!(hex(7).len(), 7);
        assert!(hex(64).bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(encode_hex(&[0x00, 0xff, 0x1a]), "00ff1a");
    }
}
