//! Time-based one-time passwords (RFC 6238 over RFC 4226) and recovery codes.
//!
//! - [`TotpSecret`]: the shared key, 20 random bytes, exchanged with the
//!   authenticator app as unpadded uppercase base32 (RFC 4648) inside an
//!   [`otpauth_uri`](Totp::otpauth_uri).
//! - [`Totp`]: code generation and verification. HMAC-SHA1 is used because it
//!   is what every authenticator app implements; HOTP's truncation makes
//!   SHA-1's collision weakness irrelevant here (RFC 4226 §B.2, RFC 6238 §1.2).
//!   [`Totp::verify`] returns the matched time step so the caller can store it
//!   and refuse the same code twice.
//! - Recovery codes: [`RecoveryCodes`] mints them for display,
//!   [`normalize_recovery_code`] turns what a user typed into a
//!   [`NormalizedRecoveryCode`], and [`RecoveryCodeHasher`] reduces it to a
//!   keyed tag, which is all the store keeps.

use std::fmt;

use ring::hmac;
use zeroize::{Zeroize, Zeroizing};

use crate::secret::constant_time_eq;
use crate::{random, SecretString};

/// Length of a generated TOTP secret: 160 bits, RFC 4226's recommendation and
/// the HMAC-SHA1 block-friendly size every app expects.
pub const SECRET_LEN: usize = 20;
/// Shortest secret accepted from elsewhere: RFC 4226 §4 requires 128 bits.
pub const MIN_SECRET_LEN: usize = 16;
/// Longest secret accepted (HMAC-SHA1 hashes longer keys anyway).
pub const MAX_SECRET_LEN: usize = 64;
/// The verification window most deployments want: one step either side of
/// now, for clocks up to 30 seconds apart and codes typed near a boundary.
pub const DEFAULT_SKEW_STEPS: u32 = 1;
/// Larger windows are clamped to this: every extra step is another chance for
/// a guess to match, and an unbounded window would be unbounded work.
pub const MAX_SKEW_STEPS: u32 = 10;

/// Why a TOTP secret or configuration was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TotpError {
    /// The secret is shorter than 128 bits or longer than 512 bits.
    #[error("TOTP secret must be between {MIN_SECRET_LEN} and {MAX_SECRET_LEN} bytes")]
    SecretLength,
    /// The text is not base32 (RFC 4648 alphabet, no stray bits).
    #[error("TOTP secret is not valid base32")]
    InvalidBase32,
    /// Digits outside 6..=8 or a zero period.
    #[error("TOTP digits must be 6 to 8 and the period at least one second")]
    InvalidParams,
}

/// The key shared with the user's authenticator. Wiped on drop; `Debug`
/// prints `TotpSecret(***)`.
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

impl TotpSecret {
    /// 20 bytes from the OS generator.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new(vec![0u8; SECRET_LEN]);
        random::fill(&mut bytes);
        Self(bytes)
    }

    /// Wraps bytes from storage (after [`crate::seal::Sealer::open`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TotpError> {
        if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&bytes.len()) {
            return Err(TotpError::SecretLength);
        }
        Ok(Self(Zeroizing::new(bytes.to_vec())))
    }

    /// Parses base32 as an authenticator or another system exports it:
    /// case-insensitive, spaces and trailing `=` ignored.
    pub fn from_base32(text: &str) -> Result<Self, TotpError> {
        let bytes = base32_decode(text).ok_or(TotpError::InvalidBase32)?;
        Self::from_bytes(&bytes)
    }

    /// The raw key. Call sites are deliberate: sealing it for storage.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Unpadded uppercase base32, to show once while the user enrolls.
    pub fn to_base32(&self) -> SecretString {
        SecretString::new(base32_encode(&self.0))
    }
}

const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32, uppercase, without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    // Exact capacity, so the string never reallocates and leaves a copy of a
    // secret behind in freed memory.
    let mut out = String::with_capacity((bytes.len() * 8).div_ceil(5));
    let mut buffer: u16 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        buffer = (buffer << 8) | u16::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32_ALPHABET[usize::from((buffer >> bits) & 0x1f)] as char);
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(BASE32_ALPHABET[usize::from((buffer << (5 - bits)) & 0x1f)] as char);
    }
    buffer.zeroize();
    out
}

/// Decodes RFC 4648 base32: case-insensitive, ASCII spaces ignored, trailing
/// `=` padding allowed. `None` for any other character, an impossible length
/// or non-zero leftover bits (so every byte string has one encoding).
pub fn base32_decode(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let trimmed = text.trim_end_matches(['=', ' ']);
    let mut out = Zeroizing::new(Vec::with_capacity(trimmed.len() * 5 / 8));
    let mut buffer: u16 = 0;
    let mut bits = 0u32;
    let mut symbols = 0usize;
    for c in trimmed.bytes() {
        let value = match c {
            b' ' => continue,
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        symbols += 1;
        buffer = (buffer << 5) | u16::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // A final group of 1, 3 or 6 symbols cannot come from whole bytes, and
    // leftover bits must be zero.
    let valid = !matches!(symbols % 8, 1 | 3 | 6) && buffer == 0;
    buffer.zeroize();
    valid.then_some(out)
}

/// A TOTP configuration: number of digits and period. `Default` is 6 digits
/// every 30 seconds, the only combination every authenticator app supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totp {
    digits: u32,
    period_secs: u64,
}

impl Default for Totp {
    fn default() -> Self {
        Self {
            digits: 6,
            period_secs: 30,
        }
    }
}

impl Totp {
    /// Checked construction: 6 to 8 digits (RFC 4226 §5.3), a period of at
    /// least one second.
    pub fn new(digits: u32, period_secs: u64) -> Result<Self, TotpError> {
        if !(6..=8).contains(&digits) || period_secs == 0 {
            return Err(TotpError::InvalidParams);
        }
        Ok(Self {
            digits,
            period_secs,
        })
    }

    pub fn digits(&self) -> u32 {
        self.digits
    }

    pub fn period_secs(&self) -> u64 {
        self.period_secs
    }

    /// The time step containing `unix_time`. Times before 1970 count as
    /// step 0: RFC 6238's T is unsigned, and such a clock is broken anyway.
    pub fn step_at(&self, unix_time: i64) -> u64 {
        u64::try_from(unix_time).unwrap_or(0) / self.period_secs
    }

    /// The code for `unix_time`, zero-padded to `digits`.
    pub fn code_at(&self, secret: &TotpSecret, unix_time: i64) -> String {
        self.code_for_step(secret, self.step_at(unix_time))
    }

    /// The code for a time step (RFC 4226 HOTP with the step as counter).
    pub fn code_for_step(&self, secret: &TotpSecret, step: u64) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
        format!(
            "{:0width$}",
            hotp(&key, step, self.digits),
            width = self.digits as usize
        )
    }

    /// Checks `code` against the steps from `skew_steps` before to
    /// `skew_steps` after `now` (clamped to [`MAX_SKEW_STEPS`]), skipping
    /// every step at or before `last_used_step`. Returns the matched step:
    /// store it and pass it back next time, so that a code seen over a
    /// shoulder or replayed from a log is refused.
    ///
    /// `code` must be exactly `digits` ASCII digits once spaces are removed.
    /// Every candidate step is computed and compared in constant time, so the
    /// time taken does not say which step matched.
    pub fn verify(
        &self,
        secret: &TotpSecret,
        code: &str,
        now: i64,
        skew_steps: u32,
        last_used_step: Option<u64>,
    ) -> Option<u64> {
        let presented: Zeroizing<Vec<u8>> =
            Zeroizing::new(code.bytes().filter(|&b| b != b' ').collect());
        if presented.len() != self.digits as usize || !presented.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
        let skew = u64::from(skew_steps.min(MAX_SKEW_STEPS));
        let current = self.step_at(now);
        let first = current.saturating_sub(skew);
        let last = current.saturating_add(skew);
        let mut matched = None;
        for step in first..=last {
            let expected = Zeroizing::new(format!(
                "{:0width$}",
                hotp(&key, step, self.digits),
                width = self.digits as usize
            ));
            let fresh = last_used_step.is_none_or(|used| step > used);
            // No early exit: the latest matching step wins, so that of two
            // (astronomically unlikely) matches the one that blocks more
            // replays is recorded.
            if constant_time_eq(expected.as_bytes(), &presented) && fresh {
                matched = Some(step);
            }
        }
        matched
    }

    /// The `otpauth://` URI an authenticator app reads from a QR code:
    /// `otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30`.
    /// Issuer and account are percent-encoded (RFC 3986 unreserved characters
    /// kept). The URI contains the secret, hence the [`SecretString`].
    pub fn otpauth_uri(&self, issuer: &str, account: &str, secret: &TotpSecret) -> SecretString {
        let issuer = percent_encode(issuer);
        let account = percent_encode(account);
        let b32 = secret.to_base32();
        let tail = format!(
            "&issuer={issuer}&algorithm=SHA1&digits={}&period={}",
            self.digits, self.period_secs
        );
        // Built in a buffer of the final size: growing it would leave copies
        // of the secret in freed memory.
        let mut uri = String::with_capacity(
            "otpauth://totp/:?secret=".len()
                + issuer.len()
                + account.len()
                + b32.expose().len()
                + tail.len(),
        );
        for part in [
            "otpauth://totp/",
            &issuer,
            ":",
            &account,
            "?secret=",
            b32.expose(),
            &tail,
        ] {
            uri.push_str(part);
        }
        SecretString::new(uri)
    }
}

/// RFC 4226 §5.3: HMAC-SHA1 of the big-endian counter, dynamic truncation,
/// reduced modulo 10^digits.
fn hotp(key: &hmac::Key, counter: u64, digits: u32) -> u32 {
    let tag = hmac::sign(key, &counter.to_be_bytes());
    let h = tag.as_ref();
    let offset = usize::from(h[h.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    binary % 10u32.pow(digits)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0x0f)] as char);
        }
    }
    out
}

/// Recovery-code alphabet: digits and lowercase letters without `0 o 1 l i`,
/// which are misread on paper. 31 symbols, ≈4.95 bits each.
const RECOVERY_ALPHABET: &[u8; 31] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// Symbols per group and groups per code: `xxxxxx-xxxxxx`. Two groups of five
/// would give only 49.5 bits with this alphabet; twelve symbols give 59.5.
const RECOVERY_GROUP_LEN: usize = 6;
const RECOVERY_GROUPS: usize = 2;
/// Symbols in a normalized recovery code.
pub const RECOVERY_CODE_LEN: usize = RECOVERY_GROUP_LEN * RECOVERY_GROUPS;
/// How many recovery codes a user usually gets.
pub const DEFAULT_RECOVERY_CODES: usize = 10;

/// Freshly minted recovery codes, in display form (`xxxxxx-xxxxxx`), to be
/// shown once. Wiped on drop; `Debug` shows only how many there are.
pub struct RecoveryCodes {
    codes: Vec<SecretString>,
}

impl fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecoveryCodes({} × ***)", self.codes.len())
    }
}

impl RecoveryCodes {
    /// `n` codes ([`DEFAULT_RECOVERY_CODES`] is the usual number).
    pub fn generate(n: usize) -> Self {
        Self {
            codes: (0..n).map(|_| random_recovery_code()).collect(),
        }
    }

    /// The codes in display form.
    pub fn codes(&self) -> &[SecretString] {
        &self.codes
    }
}

fn random_recovery_code() -> SecretString {
    let mut out = String::with_capacity(RECOVERY_CODE_LEN + RECOVERY_GROUPS - 1);
    let mut pool = Zeroizing::new([0u8; 32]);
    let mut taken = 0;
    while taken < RECOVERY_CODE_LEN {
        random::fill(pool.as_mut());
        for &b in pool.iter() {
            // Rejection sampling keeps the draw uniform: 248 = 8 × 31.
            if b < 248 && taken < RECOVERY_CODE_LEN {
                if taken > 0 && taken % RECOVERY_GROUP_LEN == 0 {
                    out.push('-');
                }
                out.push(RECOVERY_ALPHABET[usize::from(b % 31)] as char);
                taken += 1;
            }
        }
    }
    SecretString::new(out)
}

/// A recovery code as typed by a user, reduced to its canonical form:
/// lowercase, no dashes or spaces, checked alphabet and length. Only values
/// of this type can be tagged or matched. `Debug` prints `***`.
#[derive(Clone)]
pub struct NormalizedRecoveryCode(Zeroizing<String>);

impl fmt::Debug for NormalizedRecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NormalizedRecoveryCode(***)")
    }
}

impl NormalizedRecoveryCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lowercases `typed`, removes spaces and dashes, and checks length and
/// alphabet. `None` for anything that cannot be a recovery code; the reason
/// is not reported.
pub fn normalize_recovery_code(typed: &str) -> Option<NormalizedRecoveryCode> {
    let mut out = Zeroizing::new(String::with_capacity(RECOVERY_CODE_LEN));
    for c in typed.chars() {
        if c == ' ' || c == '-' {
            continue;
        }
        let c = c.to_ascii_lowercase();
        if !c.is_ascii()
            || !RECOVERY_ALPHABET.contains(&(c as u8))
            || out.len() == RECOVERY_CODE_LEN
        {
            return None;
        }
        out.push(c);
    }
    (out.len() == RECOVERY_CODE_LEN).then_some(NormalizedRecoveryCode(out))
}

/// Domain separation: these tags can never collide with API-key tags or
/// anything else keyed by the same deployment secret.
const RECOVERY_DOMAIN: &[u8] = b"amanah-recovery-v1\0";

/// `HMAC-SHA256(secret, "amanah-recovery-v1\0" || code)`: what the store
/// keeps instead of recovery codes. Without the server secret a stolen table
/// cannot even be tested against guesses.
pub struct RecoveryCodeHasher {
    key: hmac::Key,
}

impl fmt::Debug for RecoveryCodeHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCodeHasher(***)")
    }
}

impl RecoveryCodeHasher {
    pub fn new(secret: &SecretString) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes()),
        }
    }

    pub fn tag(&self, code: &NormalizedRecoveryCode) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(RECOVERY_DOMAIN);
        ctx.update(code.as_str().as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// Tags for every freshly generated code, in order, for the store.
    pub fn tags(&self, codes: &RecoveryCodes) -> Vec<[u8; 32]> {
        codes
            .codes()
            .iter()
            .map(|c| {
                let n = normalize_recovery_code(c.expose())
                    .expect("generated codes are always in normal form");
                self.tag(&n)
            })
            .collect()
    }

    /// True when `code` tags to `stored_tag`; the comparison is constant time.
    pub fn matches(&self, code: &NormalizedRecoveryCode, stored_tag: &[u8]) -> bool {
        constant_time_eq(&self.tag(code), stored_tag)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    /// RFC 6238 Appendix B, SHA-1 column, 8 digits, 30-second steps.
    #[test]
    fn rfc6238_appendix_b_sha1() {
        let totp = Totp::new(8, 30).unwrap();
        let s = rfc_secret();
        for (t, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp.code_at(&s, t), code, "t = {t}");
            assert_eq!(totp.verify(&s, code, t, 0, None), Some(totp.step_at(t)));
        }
    }

    /// RFC 4226 Appendix D: HOTP values for counters 0..9, 6 digits.
    #[test]
    fn rfc4226_appendix_d() {
        let totp = Totp::default();
        let s = rfc_secret();
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(totp.code_for_step(&s, counter as u64), *code);
        }
    }

    #[test]
    fn skew_window() {
        let totp = Totp::default();
        let s = TotpSecret::generate();
        let now = 1_700_000_000;
        let step = totp.step_at(now);
        let prev = totp.code_at(&s, now - 30);
        let next = totp.code_at(&s, now + 30);
        let far = totp.code_at(&s, now - 60);
        assert_eq!(totp.verify(&s, &prev, now, 1, None), Some(step - 1));
        assert_eq!(totp.verify(&s, &next, now, 1, None), Some(step + 1));
        assert_eq!(totp.verify(&s, &prev, now, 0, None), None);
        if far != prev && far != totp.code_at(&s, now) && far != next {
            assert_eq!(totp.verify(&s, &far, now, 1, None), None);
            assert_eq!(totp.verify(&s, &far, now, 2, None), Some(step - 2));
        }
        // An absurd window is clamped, not looped over.
        let way_back = totp.code_at(&s, now - 30 * 50);
        let in_window = (step - 10..=step + 10).any(|st| totp.code_for_step(&s, st) == way_back);
        if !in_window {
            assert_eq!(totp.verify(&s, &way_back, now, u32::MAX, None), None);
        }
    }

    #[test]
    fn replay_is_refused() {
        let totp = Totp::default();
        let s = TotpSecret::generate();
        let now = 1_700_000_000;
        let code = totp.code_at(&s, now);
        let step = totp.verify(&s, &code, now, 1, None).unwrap();
        assert_eq!(totp.verify(&s, &code, now, 1, Some(step)), None);
        assert_eq!(totp.verify(&s, &code, now + 5, 1, Some(step)), None);
        // A step after the last used one is fine.
        let later = totp.code_at(&s, now + 30);
        assert_eq!(
            totp.verify(&s, &later, now + 30, 1, Some(step)),
            Some(step + 1)
        );
        // An older code, once a newer one was used, is refused too.
        let earlier = totp.code_at(&s, now - 30);
        if earlier != code && earlier != later {
            assert_eq!(totp.verify(&s, &earlier, now, 1, Some(step)), None);
        }
    }

    #[test]
    fn malformed_codes_are_refused() {
        let totp = Totp::default();
        let s = rfc_secret();
        let now = 59;
        let good = totp.code_at(&s, now);
        assert!(totp.verify(&s, &good, now, 1, None).is_some());
        let spaced = format!("{} {}", &good[..3], &good[3..]);
        assert!(totp.verify(&s, &spaced, now, 1, None).is_some());
        for bad in [
            String::new(),
            good[..5].to_owned(),
            format!("{good}0"),
            format!("0{good}"),
            format!("{}a", &good[..5]),
            format!("{}-{}", &good[..3], &good[3..]),
            format!("{}\t{}", &good[..3], &good[3..]),
            "١٢٣٤٥٦".to_owned(),
            format!("+{}", &good[1..]),
        ] {
            assert_eq!(totp.verify(&s, &bad, now, 1, None), None, "{bad:?}");
        }
    }

    #[test]
    fn negative_time_is_step_zero() {
        let totp = Totp::default();
        assert_eq!(totp.step_at(-1), 0);
        assert_eq!(totp.step_at(i64::MIN), 0);
        assert_eq!(totp.code_at(&rfc_secret(), -100), "755224");
        assert_eq!(totp.step_at(i64::MAX), i64::MAX as u64 / 30);
        let c = totp.code_at(&rfc_secret(), i64::MAX);
        assert!(totp.verify(&rfc_secret(), &c, i64::MAX, 1, None).is_some());
    }

    #[test]
    fn params_are_checked() {
        assert_eq!(Totp::default(), Totp::new(6, 30).unwrap());
        assert_eq!(Totp::new(5, 30), Err(TotpError::InvalidParams));
        assert_eq!(Totp::new(9, 30), Err(TotpError::InvalidParams));
        assert_eq!(Totp::new(6, 0), Err(TotpError::InvalidParams));
    }

    #[test]
    fn secret_lengths_and_debug() {
        assert_eq!(TotpSecret::generate().as_bytes().len(), SECRET_LEN);
        assert_ne!(
            TotpSecret::generate().as_bytes(),
            TotpSecret::generate().as_bytes()
        );
        assert_eq!(
            TotpSecret::from_bytes(&[0; 15]).unwrap_err(),
            TotpError::SecretLength
        );
        assert!(TotpSecret::from_bytes(&[0; 16]).is_ok());
        assert_eq!(
            TotpSecret::from_bytes(&[0; 65]).unwrap_err(),
            TotpError::SecretLength
        );
        let s = rfc_secret();
        assert_eq!(format!("{s:?}"), "TotpSecret(***)");
        assert_eq!(
            format!("{:?}", s.to_base32()),
            "SecretString(***)",
            "the encoded secret is a secret too"
        );
    }

    #[test]
    fn base32_known_values() {
        // RFC 4648 §10, without padding.
        for (plain, enc) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), enc);
            assert_eq!(base32_decode(enc).unwrap().as_slice(), plain.as_bytes());
        }
        assert_eq!(
            rfc_secret().to_base32().expose(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        assert_eq!(
            base32_decode("mzxw 6ytb oi======").unwrap().as_slice(),
            b"foobar"
        );
    }

    #[test]
    fn base32_rejects_garbage() {
        for bad in [
            "M", "MZX", "MZXW6Y", "MZ1", "MZ0Q", "MZ8Q", "MZ=Q", "MZXR", "MZÉ",
        ] {
            assert!(base32_decode(bad).is_none(), "{bad}");
        }
        assert_eq!(
            TotpSecret::from_base32("not base32!").unwrap_err(),
            TotpError::InvalidBase32
        );
        assert_eq!(
            TotpSecret::from_base32("MZXW6YTBOI").unwrap_err(),
            TotpError::SecretLength
        );
    }

    #[test]
    fn otpauth_uri_format() {
        let s = rfc_secret();
        let uri = Totp::default().otpauth_uri("Amanah", "mariam@example.org", &s);
        assert_eq!(
            uri.expose(),
            "otpauth://totp/Amanah:mariam%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Amanah&algorithm=SHA1&digits=6&period=30"
        );
        let uri = Totp::new(8, 60)
            .unwrap()
            .otpauth_uri("Acme Corp: AI", "a.b-c_d~e", &s);
        assert_eq!(
            uri.expose(),
            "otpauth://totp/Acme%20Corp%3A%20AI:a.b-c_d~e?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Acme%20Corp%3A%20AI&algorithm=SHA1&digits=8&period=60"
        );
        let uri = Totp::default().otpauth_uri("أمانة", "x/y?z&w=1", &s);
        assert!(uri
            .expose()
            .starts_with("otpauth://totp/%D8%A3%D9%85%D8%A7%D9%86%D8%A9:x%2Fy%3Fz%26w%3D1?"));
    }

    #[test]
    fn recovery_codes_shape() {
        let codes = RecoveryCodes::generate(DEFAULT_RECOVERY_CODES);
        assert_eq!(codes.codes().len(), 10);
        for c in codes.codes() {
            let c = c.expose();
            assert_eq!(c.len(), 13, "{c}");
            assert_eq!(c.as_bytes()[6], b'-');
            assert!(c
                .bytes()
                .filter(|&b| b != b'-')
                .all(|b| RECOVERY_ALPHABET.contains(&b)));
            assert!(!c.contains(['0', 'o', '1', 'l', 'i']));
        }
        let shown = format!("{codes:?}");
        assert_eq!(shown, "RecoveryCodes(10 × ***)");
        // ≥ 50 bits each.
        let bits = RECOVERY_CODE_LEN as f64 * (RECOVERY_ALPHABET.len() as f64).log2();
        assert!(bits >= 50.0, "{bits}");
        let mut all: Vec<&str> = codes.codes().iter().map(|c| c.expose()).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 10);
    }

    #[test]
    fn recovery_code_normalization() {
        let n = normalize_recovery_code(" ABCDEF - gh2345 ").unwrap();
        assert_eq!(n.as_str(), "abcdefgh2345");
        assert_eq!(format!("{n:?}"), "NormalizedRecoveryCode(***)");
        for bad in [
            "",
            "abcdef-gh234",
            "abcdef-gh23456",
            "abcdef-gh234o",
            "abcdef-gh2340",
            "abcdef-gh234l",
            "abcdef-gh234i",
            "abcdef-gh2341",
            "abcdef_gh2345",
            "abcdéf-gh2345",
            "abcdef\tgh2345",
        ] {
            assert!(normalize_recovery_code(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn recovery_tags_are_keyed_and_domain_separated() {
        let a = RecoveryCodeHasher::new(&SecretString::new("a".repeat(40)));
        let b = RecoveryCodeHasher::new(&SecretString::new("b".repeat(40)));
        let codes = RecoveryCodes::generate(3);
        let tags = a.tags(&codes);
        let first = normalize_recovery_code(&codes.codes()[0].expose().to_uppercase()).unwrap();
        assert!(a.matches(&first, &tags[0]));
        assert!(!a.matches(&first, &tags[1]));
        assert!(!b.matches(&first, &tags[0]));
        assert!(!a.matches(&first, &tags[0][..31]));
        // Without the domain prefix the tag would be plain HMAC(secret, code).
        let key = hmac::Key::new(hmac::HMAC_SHA256, "a".repeat(40).as_bytes());
        let plain = hmac::sign(&key, first.as_str().as_bytes());
        assert_ne!(plain.as_ref(), &a.tag(&first)[..]);
        assert_eq!(format!("{a:?}"), "RecoveryCodeHasher(***)");
    }

    proptest! {
        #[test]
        fn base32_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let enc = base32_encode(&bytes);
            prop_assert!(enc.bytes().all(|b| BASE32_ALPHABET.contains(&b)));
            prop_assert_eq!(enc.len(), (bytes.len() * 8).div_ceil(5));
            let dec = base32_decode(&enc).unwrap();
            prop_assert_eq!(dec.as_slice(), bytes.as_slice());
            let lower = base32_decode(&enc.to_lowercase()).unwrap();
            prop_assert_eq!(lower.as_slice(), bytes.as_slice());
        }

        #[test]
        fn base32_decode_never_panics(s in ".{0,64}") {
            let _ = base32_decode(&s);
        }

        #[test]
        fn verify_never_panics(code in ".{0,12}", now in any::<i64>(), skew in 0u32..20, last in proptest::option::of(any::<u64>())) {
            let _ = Totp::default().verify(&rfc_secret(), &code, now, skew, last);
        }

        #[test]
        fn normalize_never_panics(s in ".{0,20}") {
            let _ = normalize_recovery_code(&s);
        }
    }
}
