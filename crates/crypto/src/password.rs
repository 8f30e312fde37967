//! Password hashing (Argon2id) and the password policy.
//!
//! - [`PasswordHasher`] turns a password into a PHC string
//!   (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) and checks a password
//!   against one. The production parameters are the OWASP Password Storage
//!   Cheat Sheet's first Argon2id option ([`Params::OWASP`]); the PHC string
//!   records the parameters, so old hashes keep verifying after an upgrade and
//!   [`PasswordHasher::needs_rehash`] says when to re-hash at the next login.
//! - [`PasswordPolicy`] decides whether a new password is acceptable and
//!   reports every reason it is not, in words a user can read and that never
//!   repeat the password.
//! - [`is_common_password`] looks a candidate up in the 10,000 most frequent
//!   passwords shipped in `data/common-passwords.txt`.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Version};
use zeroize::Zeroizing;

use crate::{random, SecretString};

/// Salt length in bytes: the length RFC 9106 and OWASP recommend.
pub const SALT_LEN: usize = 16;
/// Length of the derived hash in bytes.
pub const OUTPUT_LEN: usize = 32;

/// Upper bounds on the cost parameters, both for hashers we build and for PHC
/// strings we are asked to verify. A stored hash is data: a corrupted or
/// tampered row claiming `m=4294967295` must fail verification, not make the
/// process try to allocate 4 TiB and abort.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_ITERATIONS: u32 = 64;
const MAX_PARALLELISM: u32 = 16;

/// Argon2id cost parameters.
///
/// Only valid combinations can be built: [`Params::OWASP`] (the default and
/// the production setting), [`Params::new`] (checked), and
/// [`Params::insecure_for_tests`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl Params {
    /// OWASP Password Storage Cheat Sheet: Argon2id with 19 MiB of memory,
    /// 2 iterations, 1 degree of parallelism.
    pub const OWASP: Params = Params {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Checked construction, for deployments that tune the cost upwards.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, PasswordError> {
        let within_caps = memory_kib <= MAX_MEMORY_KIB
            && iterations <= MAX_ITERATIONS
            && parallelism <= MAX_PARALLELISM;
        // argon2 checks the lower bounds (m >= 8p, t >= 1, p >= 1).
        let valid =
            argon2::Params::new(memory_kib, iterations, parallelism, Some(OUTPUT_LEN)).is_ok();
        if within_caps && valid {
            Ok(Self {
                memory_kib,
                iterations,
                parallelism,
            })
        } else {
            Err(PasswordError::InvalidParams)
        }
    }

    /// Very cheap parameters (64 KiB, 1 iteration) so that test suites can
    /// run many logins. **Never use these in production**: they make an
    /// offline guessing attack on a stolen database thousands of times
    /// cheaper. [`PasswordHasher::needs_rehash`] flags hashes made with them
    /// under the production hasher.
    pub const fn insecure_for_tests() -> Self {
        Params {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }

    pub const fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    pub const fn iterations(&self) -> u32 {
        self.iterations
    }

    pub const fn parallelism(&self) -> u32 {
        self.parallelism
    }

    fn to_argon2(self) -> argon2::Params {
        argon2::Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(OUTPUT_LEN),
        )
        .expect("Params are validated at construction")
    }
}

impl Default for Params {
    fn default() -> Self {
        Self::OWASP
    }
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordError {
    /// The cost parameters are outside what Argon2 accepts or above our caps.
    #[error("invalid Argon2 parameters")]
    InvalidParams,
    /// Argon2 failed; the cause is not reported because nothing the caller
    /// can do depends on it.
    #[error("password hashing failed")]
    Hashing,
}

/// Argon2id password hashing with PHC-string output.
pub struct PasswordHasher {
    params: Params,
    argon2: Argon2<'static>,
    /// A hash of a random password, made once at construction with the same
    /// parameters, that [`PasswordHasher::verify_dummy`] verifies against so
    /// that an unknown user costs exactly what a wrong password costs.
    dummy_phc: String,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Default for PasswordHasher {
    /// The production hasher: [`Params::OWASP`].
    fn default() -> Self {
        Self::new(Params::OWASP)
    }
}

impl PasswordHasher {
    /// Builds a hasher and computes its dummy hash (one full Argon2 run, so
    /// this is as slow as one login).
    ///
    /// # Panics
    /// If Argon2 fails on validated parameters, which only happens when the
    /// memory cannot be allocated.
    pub fn new(params: Params) -> Self {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.to_argon2());
        // A random 32-byte password nobody knows: verifying anything against
        // its hash fails, after doing the full work.
        let mut unknowable = Zeroizing::new([0u8; 32]);
        random::fill(unknowable.as_mut());
        let dummy_phc = hash_with(&argon2, unknowable.as_ref())
            .expect("Argon2id with validated parameters cannot fail");
        Self {
            params,
            argon2,
            dummy_phc,
        }
    }

    pub fn params(&self) -> Params {
        self.params
    }

    /// Hashes `password` under a fresh random salt.
    pub fn hash(&self, password: &SecretString) -> Result<String, PasswordError> {
        hash_with(&self.argon2, password.expose().as_bytes())
    }

    /// True when `password` matches `phc`. A malformed PHC string, another
    /// algorithm than Argon2id v19, or costs above our caps give `false`,
    /// never a panic. The comparison of the outputs is constant time.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        let Some(parsed) = parse_phc(phc) else {
            return false;
        };
        // Verification uses the parameters recorded in the PHC string, not
        // ours: hashes made before a parameter change keep working.
        self.argon2
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    }

    /// Spends the work of one [`verify`](Self::verify) and throws the result
    /// away. Call it when the user does not exist, so that "no such user" and
    /// "wrong password" go through the same code and take the same time.
    pub fn verify_dummy(&self, password: &str) {
        std::hint::black_box(self.verify(password, &self.dummy_phc));
    }

    /// True when `phc` was not made with this hasher's algorithm, version,
    /// parameters and output length (or cannot be parsed): after a successful
    /// login, hash the password again and store the new PHC string.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return true;
        };
        if parsed.algorithm != Algorithm::Argon2id.ident()
            || parsed.version != Some(Version::V0x13.into())
        {
            return true;
        }
        let salt_ok = parsed
            .salt
            .map(|s| {
                let mut buf = [0u8; 64];
                s.decode_b64(&mut buf).map(<[u8]>::len).unwrap_or(0) >= SALT_LEN
            })
            .unwrap_or(false);
        match argon2::Params::try_from(&parsed) {
            Ok(p) => !salt_ok || p != self.params.to_argon2(),
            Err(_) => true,
        }
    }
}

fn hash_with(argon2: &Argon2<'_>, password: &[u8]) -> Result<String, PasswordError> {
    // The salt is public (it is in the PHC string); it only has to be unique.
    let salt =
        SaltString::encode_b64(&random::bytes::<SALT_LEN>()).map_err(|_| PasswordError::Hashing)?;
    argon2
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hashing)
}

/// Parses a PHC string we are willing to verify: Argon2id, version 19, costs
/// within our caps.
fn parse_phc(phc: &str) -> Option<PasswordHash<'_>> {
    let parsed = PasswordHash::new(phc).ok()?;
    if parsed.algorithm != Algorithm::Argon2id.ident()
        || parsed.version != Some(Version::V0x13.into())
    {
        return None;
    }
    let p = argon2::Params::try_from(&parsed).ok()?;
    let within_caps = p.m_cost() <= MAX_MEMORY_KIB
        && p.t_cost() <= MAX_ITERATIONS
        && p.p_cost() <= MAX_PARALLELISM;
    within_caps.then_some(parsed)
}

/// One reason a candidate password is refused. The `Display` text is meant
/// for the user and never contains the password.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyViolation {
    /// Fewer than `min` characters (Unicode scalar values).
    #[error("Password must be at least {min} characters long.")]
    TooShort { min: usize },
    /// More than `max` characters (Unicode scalar values).
    #[error("Password must be at most {max} characters long.")]
    TooLong { max: usize },
    /// No letter in any script.
    #[error("Password must contain a letter.")]
    NoLetter,
    /// No digit.
    #[error("Password must contain a digit.")]
    NoDigit,
    /// Nothing but letters and digits.
    #[error("Password must contain a symbol or a space.")]
    NoSymbol,
    /// The password, or its core without leading and trailing digits and
    /// symbols, is among the most common passwords.
    #[error("Password is too common; choose one that is harder to guess.")]
    Common,
    /// The password contains the user's name or the local part of their
    /// email address.
    #[error("Password must not contain your username or email address.")]
    ContainsContext,
}

/// Rules for choosing a password. `Default` is the production policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Minimum length in characters (Unicode scalar values). Default 12.
    pub min_chars: usize,
    /// Maximum length in characters. Default 256: long passphrases are
    /// welcome, megabyte "passwords" are a denial-of-service attempt.
    pub max_chars: usize,
    /// Require a letter (any script). Default true.
    pub require_letter: bool,
    /// Require a digit (any script). Default true.
    pub require_digit: bool,
    /// Require a character that is neither letter nor digit; a space counts,
    /// so that passphrases qualify. Default true.
    pub require_symbol: bool,
    /// Refuse the 10,000 most common passwords and their decorated forms
    /// (`Password123!`). Default true.
    pub reject_common: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: 12,
            max_chars: 256,
            require_letter: true,
            require_digit: true,
            require_symbol: true,
            reject_common: true,
        }
    }
}

/// Context words shorter than this are not checked: a two-letter username
/// would forbid half the passwords in the language.
const MIN_CONTEXT_CHARS: usize = 3;

impl PasswordPolicy {
    /// Checks `candidate` and returns every violation, so that the user can
    /// fix them all at once. `context` holds words the password must not
    /// contain (username, email address); for an email address only its
    /// local part is used. Matching is case-insensitive.
    pub fn check(&self, candidate: &str, context: &[&str]) -> Result<(), Vec<PolicyViolation>> {
        let mut violations = Vec::new();
        let len = candidate.chars().count();
        if len < self.min_chars {
            violations.push(PolicyViolation::TooShort {
                min: self.min_chars,
            });
        }
        if len > self.max_chars {
            violations.push(PolicyViolation::TooLong {
                max: self.max_chars,
            });
        }
        if self.require_letter && !candidate.chars().any(char::is_alphabetic) {
            violations.push(PolicyViolation::NoLetter);
        }
        if self.require_digit && !candidate.chars().any(char::is_numeric) {
            violations.push(PolicyViolation::NoDigit);
        }
        if self.require_symbol && candidate.chars().all(char::is_alphanumeric) {
            violations.push(PolicyViolation::NoSymbol);
        }
        if self.reject_common && is_common_password(candidate) {
            violations.push(PolicyViolation::Common);
        }
        if contains_context(candidate, context) {
            violations.push(PolicyViolation::ContainsContext);
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }
}

fn contains_context(candidate: &str, context: &[&str]) -> bool {
    let lowered = Zeroizing::new(candidate.to_lowercase());
    context.iter().any(|word| {
        // For an email address, the local part is what people reuse.
        let word = word.split('@').next().unwrap_or("").trim();
        word.chars().count() >= MIN_CONTEXT_CHARS && lowered.contains(&word.to_lowercase())
    })
}

const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// True when `candidate`, case-insensitively, is one of the 10,000 most
/// common passwords, or becomes one once the digits and symbols at either
/// end are stripped (`Password123!` → `password`, `!!dragon2024` → `dragon`):
/// decorating a common word is the first thing a guessing attack tries.
pub fn is_common_password(candidate: &str) -> bool {
    let set = common_passwords();
    let lowered = Zeroizing::new(candidate.to_lowercase());
    if set.contains(lowered.as_str()) {
        return true;
    }
    let not_letter = |c: char| !c.is_alphabetic();
    let trailing = lowered.trim_end_matches(not_letter);
    let both = trailing.trim_start_matches(not_letter);
    [trailing, both]
        .iter()
        .any(|core| !core.is_empty() && set.contains(core))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(Params::insecure_for_tests())
    }

    fn secret(s: &str) -> SecretString {
        SecretString::new(s.to_owned())
    }

    #[test]
    fn owasp_parameters_appear_in_the_phc_string() {
        let h = PasswordHasher::default();
        assert_eq!(h.params(), Params::OWASP);
        let phc = h.hash(&secret("correct-Horse-7-battery")).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        // $argon2id$v=19$params$salt$hash: 16-byte salt (22 b64 chars) and
        // 32-byte hash (43 b64 chars), unpadded.
        let parts: Vec<&str> = phc.split('$').collect();
        assert_eq!(parts.len(), 6);
        assert_eq!(parts[4].len(), 22);
        assert_eq!(parts[5].len(), 43);
        assert!(h.verify("correct-Horse-7-battery", &phc));
        assert!(!h.verify("correct-Horse-7-batterY", &phc));
        assert!(!h.needs_rehash(&phc));
    }

    #[test]
    fn verify_true_and_false() {
        let h = cheap();
        let phc = h.hash(&secret("hunter2-but-longer")).unwrap();
        assert!(h.verify("hunter2-but-longer", &phc));
        assert!(!h.verify("hunter2-but-longeR", &phc));
        assert!(!h.verify("", &phc));
    }

    #[test]
    fn same_password_gets_different_salts() {
        let h = cheap();
        let a = h.hash(&secret("same password 1")).unwrap();
        let b = h.hash(&secret("same password 1")).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn old_parameters_still_verify_but_need_rehash() {
        let old = cheap();
        let phc = old.hash(&secret("upgrade me please 1")).unwrap();
        let new = PasswordHasher::default();
        assert!(new.verify("upgrade me please 1", &phc));
        assert!(new.needs_rehash(&phc));
        assert!(!old.needs_rehash(&phc));
    }

    #[test]
    fn malformed_phc_is_false_and_needs_rehash() {
        let h = cheap();
        let good = h.hash(&secret("whatever-it-is-9")).unwrap();
        let cases = [
            String::new(),
            "$".into(),
            "not a phc string".into(),
            "$argon2id$".into(),
            "$argon2id$v=19$m=64,t=1,p=1$".into(),
            good[..good.len() - 5].to_owned(),
            good.replacen("argon2id", "argon2i", 1),
            good.replacen("argon2id", "bcrypt", 1),
            good.replacen("v=19", "v=16", 1),
            good.replacen("m=64", "m=4294967295", 1),
            good.replacen("t=1", "t=4294967295", 1),
            good.replacen("m=64", "m=1", 1),
            good.replacen("p=1", "p=0", 1),
            format!("{good}$extra"),
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$!!!!".into(),
        ];
        for phc in &cases {
            assert!(!h.verify("whatever-it-is-9", phc), "{phc:?} verified");
            assert!(h.needs_rehash(phc), "{phc:?} did not need rehash");
        }
    }

    #[test]
    fn verify_dummy_does_the_work_and_matches_nothing() {
        let h = cheap();
        assert!(h.dummy_phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        h.verify_dummy("anything");
        h.verify_dummy("");
    }

    #[test]
    fn params_are_checked() {
        assert_eq!(Params::default(), Params::OWASP);
        assert!(Params::new(19 * 1024, 2, 1).is_ok());
        assert_eq!(Params::new(7, 1, 1), Err(PasswordError::InvalidParams));
        assert_eq!(Params::new(64, 0, 1), Err(PasswordError::InvalidParams));
        assert_eq!(Params::new(64, 1, 0), Err(PasswordError::InvalidParams));
        assert_eq!(
            Params::new(MAX_MEMORY_KIB + 1, 1, 1),
            Err(PasswordError::InvalidParams)
        );
    }

    #[test]
    fn debug_shows_params_only() {
        let shown = format!("{:?}", cheap());
        assert!(shown.contains("memory_kib: 64"), "{shown}");
        assert!(!shown.contains("argon2id"), "{shown}");
    }

    #[test]
    fn common_list_is_loaded_without_header() {
        let set = common_passwords();
        assert_eq!(set.len(), 10_000);
        assert!(set.iter().all(|p| !p.starts_with('#')));
        assert!(set.iter().all(|p| *p == p.to_lowercase()));
    }

    #[test]
    fn common_lookup_strips_decoration() {
        for p in [
            "password",
            "PASSWORD",
            "Password123!",
            "password1",
            "!!Dragon2024",
            "qwerty123456",
            "123456",
            "iloveyou!!!",
        ] {
            assert!(is_common_password(p), "{p}");
        }
        for p in ["correct-Horse-7-battery", "", "1234-zq-9999", "!!!"] {
            assert!(!is_common_password(p), "{p}");
        }
    }

    #[test]
    fn violations_never_contain_the_password() {
        let candidate = "secretword";
        let Err(v) = PasswordPolicy::default().check(candidate, &["secretword"]) else {
            panic!("should fail");
        };
        for violation in v {
            assert!(!violation.to_string().contains(candidate));
            assert!(!format!("{violation:?}").contains(candidate));
        }
    }
}
