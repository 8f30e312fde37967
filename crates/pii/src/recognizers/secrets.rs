//! Recognizers: secrets — provider API keys, private keys, tokens,
//! passwords.
//!
//! Three kinds of evidence, strongest first:
//! - a documented prefix and shape (`ghp_…`, `AKIA…`, PEM armour): the
//!   shape alone is enough, score 0.95 and up;
//! - a shape plus context nearby (an AWS secret key after
//!   `aws_secret_access_key` or an access key id, a Twilio account SID near
//!   `twilio`);
//! - a key name in an assignment (`password=…`, `"token": "…"`): only the
//!   value is the span, and it must look random enough (length, entropy,
//!   not a placeholder) that prose such as "the password is required" does
//!   not fire. Scores 0.6–0.8, scaled by entropy.
//!
//! Every pattern is compiled once, in a constructor, and kept in its
//! recognizer; each recognizer first looks for a literal (its prefix), so a
//! text without one costs only a substring search.
//!
//! A match touching a character of its own alphabet is part of a longer
//! token and is refused: `task-…` holds `sk-`, but is no OpenAI key.

use regex::Regex;

use crate::validate::shannon_entropy;
use crate::{AnalyzerBuilder, Detection, EntityType, Recognizer};

/// Adds this module's recognizers to `builder`.
pub fn register(builder: AnalyzerBuilder) -> AnalyzerBuilder {
    let mut builder = builder;
    for r in shape_recognizers() {
        builder = builder.recognizer(r);
    }
    builder
        .recognizer(AwsSecretKey::new())
        .recognizer(PemPrivateKey::new())
        .recognizer(UrlCredentials::new())
        .recognizer(SecretAssignment::new())
}

/// How far (bytes) around a candidate context words are looked for.
const CONTEXT_BEFORE: usize = 80;
const CONTEXT_AFTER: usize = 40;

/// The characters that continue a token: a match with one of them right
/// before or after it is a piece of a longer token.
#[derive(Debug, Clone, Copy)]
enum Alphabet {
    /// `[A-Za-z0-9]`
    Alnum,
    /// `[A-Za-z0-9_]`
    Word,
    /// `[A-Za-z0-9_-]` (base64url, most provider keys)
    WordDash,
    /// `[A-Za-z0-9+/=]`
    Base64,
}

impl Alphabet {
    fn contains(self, c: char) -> bool {
        c.is_ascii_alphanumeric()
            || match self {
                Alphabet::Alnum => false,
                Alphabet::Word => c == '_',
                Alphabet::WordDash => c == '_' || c == '-',
                Alphabet::Base64 => matches!(c, '+' | '/' | '='),
            }
    }
}

/// Whether `text[start..end]` stands alone: no character of `alphabet`
/// touches it on either side.
fn standalone(text: &str, start: usize, end: usize, alphabet: Alphabet) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(|c| alphabet.contains(c)) && !after.is_some_and(|c| alphabet.contains(c))
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The text around `start..end`, lowercased, for context words.
fn context(text: &str, start: usize, end: usize) -> String {
    let from = floor_boundary(text, start.saturating_sub(CONTEXT_BEFORE));
    let to = ceil_boundary(text, (end + CONTEXT_AFTER).min(text.len()));
    let mut s = String::with_capacity(to - from);
    s.push_str(&text[from..start]);
    s.push(' ');
    s.push_str(&text[end..to]);
    s.to_ascii_lowercase()
}

/// Not trivially repetitive: rules out `ghp_xxxxxxxx…` placeholders.
fn varied(s: &str) -> bool {
    shannon_entropy(s) >= 2.5
}

fn has_classes(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
}

/// A secret recognized by its shape: a literal prefix, a regex, an
/// optional extra check and optional context words.
#[derive(Debug)]
pub struct ShapeRecognizer {
    name: &'static str,
    /// One of these must occur in the text before the regex runs.
    literals: &'static [&'static str],
    /// The span is capture group 1 if the regex has one, else the match.
    regex: Regex,
    alphabet: Alphabet,
    score: f32,
    /// Extra check on the span.
    accept: fn(&str) -> bool,
    /// Lowercase words of which one must occur near the span; empty when
    /// the shape is enough.
    context: &'static [&'static str],
}

impl ShapeRecognizer {
    fn new(
        name: &'static str,
        literals: &'static [&'static str],
        pattern: &str,
        alphabet: Alphabet,
        score: f32,
    ) -> Self {
        Self {
            name,
            literals,
            regex: Regex::new(pattern).expect("secret pattern compiles"),
            alphabet,
            score,
            accept: varied,
            context: &[],
        }
    }

    fn accept(mut self, f: fn(&str) -> bool) -> Self {
        self.accept = f;
        self
    }

    fn context(mut self, words: &'static [&'static str]) -> Self {
        self.context = words;
        self
    }
}

impl Recognizer for ShapeRecognizer {
    fn name(&self) -> &'static str {
        self.name
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        if !self.literals.iter().any(|l| text.contains(l)) {
            return;
        }
        for caps in self.regex.captures_iter(text) {
            // Boundaries are checked on the whole match (`AccountKey=…`),
            // the span is the secret inside it.
            let whole = caps.get(0).expect("group 0");
            let m = caps.get(1).unwrap_or(whole);
            let (start, end) = (m.start(), m.end());
            if !standalone(text, whole.start(), whole.end(), self.alphabet)
                || !(self.accept)(m.as_str())
            {
                continue;
            }
            if !self.context.is_empty() {
                let around = context(text, start, end);
                if !self.context.iter().any(|w| around.contains(w)) {
                    continue;
                }
            }
            out.push(Detection::new(
                start,
                end,
                EntityType::Secret,
                self.score,
                self.name,
            ));
        }
    }
}

fn openai_ok(s: &str) -> bool {
    if s.starts_with("sk-ant-") {
        return false; // Anthropic's, recognized by its own rule.
    }
    let body = s.trim_start_matches("sk-");
    let body = ["proj-", "svcacct-", "admin-"]
        .iter()
        .find_map(|p| body.strip_prefix(p))
        .unwrap_or(body);
    has_classes(body) && shannon_entropy(body) >= 3.5
}

fn hex_mixed(s: &str) -> bool {
    let body = &s[2..];
    body.bytes().any(|b| b.is_ascii_digit()) && body.bytes().any(|b| b.is_ascii_alphabetic())
}

fn slack_ok(s: &str) -> bool {
    s.len() >= 20 && s.bytes().any(|b| b.is_ascii_digit()) && varied(s)
}

fn azure_key_ok(s: &str) -> bool {
    shannon_entropy(s) >= 4.0
}

/// The recognizers that need only a shape (and sometimes a context word).
fn shape_recognizers() -> Vec<ShapeRecognizer> {
    use Alphabet::*;
    vec![
        // Legacy `sk-` + 48, and `sk-proj-`/`sk-svcacct-`/`sk-admin-` with
        // long base64url bodies.
        ShapeRecognizer::new(
            "openai_api_key",
            &["sk-"],
            r"sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{32,}",
            WordDash,
            0.95,
        )
        .accept(openai_ok),
        ShapeRecognizer::new(
            "anthropic_api_key",
            &["sk-ant-"],
            r"sk-ant-(?:api|admin|oat)[0-9]{2}-[A-Za-z0-9_-]{32,}",
            WordDash,
            0.98,
        ),
        ShapeRecognizer::new(
            "aws_access_key_id",
            &["AKIA", "ASIA", "ABIA", "ACCA"],
            r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}",
            Alnum,
            0.95,
        ),
        ShapeRecognizer::new(
            "github_token",
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
            r"gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82}",
            Word,
            0.97,
        ),
        ShapeRecognizer::new(
            "gitlab_token",
            &["glpat-"],
            r"glpat-[A-Za-z0-9_-]{20,}",
            WordDash,
            0.96,
        ),
        ShapeRecognizer::new(
            "slack_token",
            &["xox"],
            r"xox[baprs]-[A-Za-z0-9-]{10,}",
            WordDash,
            0.95,
        )
        .accept(slack_ok),
        ShapeRecognizer::new(
            "slack_webhook",
            &["hooks.slack.com"],
            r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{20,}",
            Alnum,
            0.97,
        ),
        // Secret and restricted keys only: `pk_` publishable keys are public.
        ShapeRecognizer::new(
            "stripe_secret_key",
            &["sk_live_", "sk_test_", "rk_live_", "rk_test_"],
            r"[sr]k_(?:live|test)_[A-Za-z0-9]{24,}",
            Word,
            0.97,
        ),
        ShapeRecognizer::new(
            "google_api_key",
            &["AIza"],
            r"AIza[A-Za-z0-9_-]{35}",
            WordDash,
            0.95,
        ),
        // In a connection string the account key is the secret; the span is
        // the key, not the account name or endpoint.
        ShapeRecognizer::new(
            "azure_storage_key",
            &["AccountKey=", "SharedAccessKey="],
            r"(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{40,86}={0,2})",
            Base64,
            0.97,
        )
        .accept(azure_key_ok),
        ShapeRecognizer::new(
            "azure_storage_key",
            &["=="],
            r"[A-Za-z0-9+/]{86}==",
            Base64,
            0.9,
        )
        .accept(azure_key_ok)
        .context(&[
            "azure",
            "storage",
            "accountkey",
            "account_key",
            "account key",
        ]),
        ShapeRecognizer::new("twilio_api_key", &["SK"], r"SK[0-9a-fA-F]{32}", Alnum, 0.95)
            .accept(hex_mixed),
        // Account SIDs are identifiers more than secrets: only with context.
        ShapeRecognizer::new(
            "twilio_account_sid",
            &["AC"],
            r"AC[0-9a-f]{32}",
            Alnum,
            0.85,
        )
        .accept(hex_mixed)
        .context(&["twilio", "account_sid", "accountsid", "account sid"]),
        ShapeRecognizer::new(
            "sendgrid_api_key",
            &["SG."],
            r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
            WordDash,
            0.98,
        ),
        // Amanah's own keys: `amk_<8 hex>_<40 base62>` (crates/crypto/src/api_key.rs).
        ShapeRecognizer::new(
            "amanah_api_key",
            &["amk_"],
            r"amk_[0-9a-f]{8}_[A-Za-z0-9]{40}",
            Word,
            0.99,
        ),
        // Header and payload are base64url JSON objects (`{"` = `eyJ`).
        ShapeRecognizer::new(
            "jwt",
            &["eyJ"],
            r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}",
            WordDash,
            0.9,
        ),
    ]
}

/// AWS secret access keys: 40 base64 characters, which alone could be
/// anything, so only near `secret`/`aws_secret_access_key` or right after
/// an access key id, and random enough.
#[derive(Debug)]
pub struct AwsSecretKey {
    candidate: Regex,
    key_id: Regex,
}

impl AwsSecretKey {
    pub fn new() -> Self {
        Self {
            candidate: Regex::new(r"[A-Za-z0-9/+]{40}").expect("pattern compiles"),
            key_id: Regex::new(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}").expect("pattern compiles"),
        }
    }
}

impl Default for AwsSecretKey {
    fn default() -> Self {
        Self::new()
    }
}

impl Recognizer for AwsSecretKey {
    fn name(&self) -> &'static str {
        "aws_secret_access_key"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        if text.len() < 40 {
            return;
        }
        for m in self.candidate.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            let s = m.as_str();
            // Hex (a git SHA) tops out at 4 bits per character.
            if !standalone(text, start, end, Alphabet::Base64)
                || shannon_entropy(s) < 4.2
                || !s.bytes().any(|b| b.is_ascii_uppercase())
                || !s.bytes().any(|b| b.is_ascii_lowercase())
            {
                continue;
            }
            let from = floor_boundary(text, start.saturating_sub(CONTEXT_BEFORE));
            let before = text[from..start].to_ascii_lowercase();
            let after_key_id = self.key_id.is_match(&text[from..start]);
            let score = if before.contains("aws") && before.contains("secret") || after_key_id {
                0.9
            } else if before.contains("secret") {
                0.85
            } else {
                continue;
            };
            out.push(Detection::new(
                start,
                end,
                EntityType::Secret,
                score,
                self.name(),
            ));
        }
    }
}

/// PEM private keys: the whole block, BEGIN line through the matching END
/// line; without an END, through the end of the base64 body.
#[derive(Debug)]
pub struct PemPrivateKey {
    begin: Regex,
    header_line: Regex,
}

impl PemPrivateKey {
    pub fn new() -> Self {
        Self {
            begin: Regex::new(
                r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----",
            )
            .expect("pattern compiles"),
            // `Proc-Type: 4,ENCRYPTED`, `DEK-Info: …`, `Comment: …`
            header_line: Regex::new(r"^[A-Za-z][A-Za-z-]*: [^\r\n]*").expect("pattern compiles"),
        }
    }

    /// The end of the body that starts at `from` when no END line exists.
    fn body_end(&self, text: &str, from: usize) -> usize {
        let mut end = from;
        let mut i = from;
        let bytes = text.as_bytes();
        let mut line_start = true;
        while i < bytes.len() {
            if line_start {
                if let Some(h) = self.header_line.find(&text[i..]) {
                    i += h.end();
                    end = i;
                    line_start = false;
                    continue;
                }
            }
            let b = bytes[i];
            if b == b'\n' {
                line_start = true;
            } else if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\\') {
                end = i + 1;
                line_start = false;
            } else if b == b' ' || b == b'\t' || b == b'\r' {
                // Whitespace inside the body; not counted in the span.
            } else {
                break;
            }
            i += 1;
        }
        end
    }
}

impl Default for PemPrivateKey {
    fn default() -> Self {
        Self::new()
    }
}

impl Recognizer for PemPrivateKey {
    fn name(&self) -> &'static str {
        "pem_private_key"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        if !text.contains("-----BEGIN ") {
            return;
        }
        let mut resume = 0;
        for caps in self.begin.captures_iter(text) {
            let m = caps.get(0).expect("group 0");
            if m.start() < resume {
                continue;
            }
            let label = &caps[1];
            let rest = &text[m.end()..];
            // The END must come before any next block.
            let stop = rest.find("-----BEGIN ").unwrap_or(rest.len());
            let end_marker = format!("-----END {label}-----");
            let end = match rest[..stop].find(&end_marker) {
                Some(pos) => m.end() + pos + end_marker.len(),
                None => self.body_end(text, m.end()),
            };
            resume = end;
            out.push(Detection::new(
                m.start(),
                end,
                EntityType::Secret,
                0.99,
                self.name(),
            ));
        }
    }
}

/// Credentials in URLs, `scheme://user:password@host`: the span is the
/// password only; the user and host stay readable.
#[derive(Debug)]
pub struct UrlCredentials {
    regex: Regex,
}

impl UrlCredentials {
    pub fn new() -> Self {
        Self {
            // The password runs to the last `@` before the path, so an
            // unescaped `@` inside it is kept.
            regex: Regex::new(
                r#"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@"'<>]*:([^\s/?#"'<>]+)@[A-Za-z0-9\[]"#,
            )
            .expect("pattern compiles"),
        }
    }
}

impl Default for UrlCredentials {
    fn default() -> Self {
        Self::new()
    }
}

impl Recognizer for UrlCredentials {
    fn name(&self) -> &'static str {
        "url_credentials"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        if !text.contains("://") {
            return;
        }
        for caps in self.regex.captures_iter(text) {
            let m = caps.get(1).expect("password group");
            let password = m.as_str();
            if password.len() < 3 || is_placeholder(password) {
                continue;
            }
            let score = if password.len() >= 8 { 0.9 } else { 0.85 };
            out.push(Detection::new(
                m.start(),
                m.end(),
                EntityType::Secret,
                score,
                self.name(),
            ));
        }
    }
}

/// Values given to a secret-sounding key: `password=…`, `DB_PASSWORD=…`,
/// `"api_key": "…"`, `token: …`. The span is the value only.
#[derive(Debug)]
pub struct SecretAssignment {
    regex: Regex,
}

/// Keys whose values are passwords: shorter, less random values count.
fn password_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("pass") || k.ends_with("pwd")
}

impl SecretAssignment {
    pub fn new() -> Self {
        // A key is an identifier ending in a keyword (so `author:` and
        // `max_tokens:` are not keys), an optional closing quote, a
        // separator, then a quoted or bare value.
        let pattern = concat!(
            r#"(?i)([A-Za-z0-9_.-]*?(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|"#,
            r#"access[_-]?key|secret[_-]?key|private[_-]?key|auth|authorization|credentials?))"#,
            r#"["']?[ \t]*(?::=|=>|=|:)[ \t]*"#,
            r#"(?:"([^"\r\n]*)"|'([^'\r\n]*)'|(?:(?:bearer|basic|token)[ \t]+)?([^\s"',;]+))"#,
        );
        Self {
            regex: Regex::new(pattern).expect("pattern compiles"),
        }
    }
}

impl Default for SecretAssignment {
    fn default() -> Self {
        Self::new()
    }
}

impl Recognizer for SecretAssignment {
    fn name(&self) -> &'static str {
        "secret_assignment"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for caps in self.regex.captures_iter(text) {
            let key = &caps[1];
            let (m, quoted) = match (caps.get(2), caps.get(3), caps.get(4)) {
                (Some(m), _, _) | (_, Some(m), _) => (m, true),
                (_, _, Some(m)) => (m, false),
                _ => continue,
            };
            let (mut start, end) = (m.start(), m.end());
            let mut value = m.as_str();
            if quoted {
                // `"Authorization": "Bearer …"`: the scheme is not secret.
                for scheme in ["Bearer ", "Basic ", "Token ", "bearer ", "basic ", "token "] {
                    if let Some(v) = value.strip_prefix(scheme) {
                        start += scheme.len();
                        value = v;
                        break;
                    }
                }
            }
            let Some(score) = assess_value(key, value, quoted) else {
                continue;
            };
            out.push(Detection::new(
                start,
                end,
                EntityType::Secret,
                score,
                self.name(),
            ));
        }
    }
}

/// The score of `value` as a secret given to `key`, or `None` when it is
/// too short, too regular, a placeholder or code rather than a literal.
fn assess_value(key: &str, value: &str, quoted: bool) -> Option<f32> {
    // `password == x` is a comparison, `password: |` a YAML block.
    if value.is_empty() || value.starts_with('=') || value != value.trim() {
        return None;
    }
    if is_placeholder(value) {
        return None;
    }
    // Bare expressions: `os.getenv("X")`, `config[...]`.
    if !quoted && value.contains(['(', ')', '[', ']', '{', '}']) {
        return None;
    }
    // Paths (`PWD=/home/me/src`).
    if value.starts_with(['/', '~', '.']) && value[1..].contains('/') {
        return None;
    }
    let password = password_key(key);
    let words = value.split_whitespace().count();
    if words > 1 && (!password || words > 4) {
        return None; // Prose, not a token.
    }
    let len = value.chars().count();
    let entropy = shannon_entropy(value);
    let floor = if password { 3.0 } else { 3.5 };
    if len < 8 || entropy + 1e-9 < floor {
        return None;
    }
    // A plain word (`something`, `mandatory`) needs to be long to count.
    let one_case_word = value.bytes().all(|b| b.is_ascii_lowercase())
        || value.bytes().all(|b| b.is_ascii_uppercase());
    if one_case_word && (len < 12 || entropy < 3.3) {
        return None;
    }
    let t = ((entropy - floor) / (4.5 - floor)).clamp(0.0, 1.0);
    Some((0.6 + 0.2 * t) as f32)
}

/// Values that stand for a secret without being one.
fn is_placeholder(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    const EXACT: &[&str] = &[
        "null",
        "none",
        "nil",
        "true",
        "false",
        "undefined",
        "empty",
        "required",
        "optional",
        "string",
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "token",
        "changeme",
        "change_me",
        "change-me",
        "changeit",
    ];
    const CONTAINS: &[&str] = &[
        "example",
        "changeme",
        "change_me",
        "placeholder",
        "redacted",
        "your_",
        "your-",
        "yourkey",
        "yourtoken",
        "yourpassword",
        "dummy",
        "${",
        "{{",
        "%(",
        "process.env",
        "os.environ",
    ];
    if EXACT.contains(&v.as_str()) || CONTAINS.iter().any(|c| v.contains(c)) {
        return true;
    }
    if v.starts_with('$') || v.starts_with('%') || (v.starts_with('<') && v.ends_with('>')) {
        return true;
    }
    // `***`, `xxxx`, `••••`, `XXXX-XXXX`: one symbol, maybe separators.
    let mut symbols = v.chars().filter(|c| !matches!(c, '-' | '_' | '.' | ' '));
    match symbols.next() {
        None => true,
        Some(first) => symbols.all(|c| c == first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Analyzer;

    fn analyzer() -> Analyzer {
        register(Analyzer::builder()).build()
    }

    /// `(text of span, recognizer)` of every detection.
    fn found(text: &str) -> Vec<(String, &'static str)> {
        analyzer()
            .analyze(text)
            .into_iter()
            .map(|d| (text[d.start..d.end].to_owned(), d.recognizer))
            .collect()
    }

    /// 62 varied base62 characters to cut fake keys from.
    const B62: &str = "aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zAbCdEfGhIjKlMnOpQrStUvWxYz1234";

    fn b62(n: usize) -> String {
        B62.chars().cycle().skip(n % 7).take(n).collect()
    }

    #[test]
    fn alphabet_boundaries() {
        assert!(standalone("x sk-1 y", 2, 6, Alphabet::WordDash));
        assert!(!standalone("task-1 y", 2, 6, Alphabet::WordDash));
        assert!(!standalone("é sk-1y", 3, 7, Alphabet::Alnum));
        assert!(standalone("é sk-1é", 3, 7, Alphabet::Alnum));
    }

    #[test]
    fn openai_and_anthropic_keys() {
        let key = format!("sk-proj-{}", b62(48));
        assert_eq!(
            found(&format!("OPENAI_API_KEY={key}")),
            [(key.clone(), "openai_api_key")]
        );
        let ant = format!("sk-ant-api03-{}AA", b62(93));
        assert_eq!(found(&format!("key: {ant}")), [(ant, "anthropic_api_key")]);
        assert!(found("sk-a1B2c").is_empty());
        // Embedded in a longer word.
        assert!(found(&format!("task-{}", b62(48))).is_empty());
    }

    #[test]
    fn placeholders() {
        for p in [
            "changeme",
            "${TOKEN}",
            "***",
            "xxxxxxxx",
            "<your-key>",
            "null",
            "EXAMPLE_KEY",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        assert!(!is_placeholder("Tr0ub4dor&3"));
    }

    #[test]
    fn assignment_scores_scale_with_entropy() {
        let low = assess_value("password", "abcd1234", false).unwrap();
        let high = assess_value("password", "q7#Lp2!vR9mK4wZx", false).unwrap();
        assert!((0.6..=0.8).contains(&low) && (0.6..=0.8).contains(&high));
        assert!(high > low);
        assert_eq!(assess_value("token", "something", false), None);
        assert_eq!(assess_value("pwd", "/home/me/src", false), None);
        assert_eq!(assess_value("api_key", "os.getenv(\"K\")", false), None);
    }
}
