use std::fmt;

use zeroize::Zeroizing;

/// A secret value held in memory: provider credentials, HMAC keys.
///
/// The bytes are wiped when the value is dropped, `Debug` and `Display` print
/// a fixed placeholder, and comparison runs in constant time, so a secret can
/// travel through configs, errors and logs without ever appearing in them.
#[derive(Clone)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret itself. Call sites are few and deliberate: injecting a
    /// provider credential into an upstream request, keying an HMAC.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in characters, for policy checks that must not see the value.
    pub fn char_len(&self) -> usize {
        self.0.chars().count()
    }

    /// Constant-time equality (the length is not hidden).
    pub fn ct_eq(&self, other: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), other.as_bytes())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

/// Compares two byte strings without an early exit on the first difference.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    // `black_box` keeps the optimizer from turning the fold into an early exit.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_value() {
        let s = SecretString::new("sk-live-abcdefghijklmnopqrstuvwxyz012345".into());
        let shown = format!("{s:?}");
        assert!(!shown.contains("abcdef"), "{shown}");
        assert_eq!(shown, "SecretString(***)");
    }

    #[test]
    fn constant_time_eq_agrees_with_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
        let s = SecretString::new("x".repeat(40));
        assert!(s.ct_eq(&"x".repeat(40)));
        assert!(!s.ct_eq(&"x".repeat(39)));
    }
}
