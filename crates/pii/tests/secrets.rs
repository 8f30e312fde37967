//! The secret recognizers through the public API. Every key here is fake
//! and assembled at run time from parts, so no secret scanner mistakes
//! this file for a leak.

use amanah_pii::recognizers::secrets;
use amanah_pii::{Analyzer, EntityType};
use proptest::prelude::*;

fn analyzer() -> Analyzer {
    secrets::register(Analyzer::builder()).build()
}

/// `(span text, recognizer)` for every detection in `text`.
fn found(text: &str) -> Vec<(String, &'static str)> {
    let out = analyzer().analyze(text);
    for d in &out {
        assert_eq!(d.entity, EntityType::Secret);
        assert!((0.0..=1.0).contains(&d.score));
    }
    out.into_iter()
        .map(|d| (text[d.start..d.end].to_owned(), d.recognizer))
        .collect()
}

fn assert_only(text: &str, span: &str, recognizer: &str) {
    assert_eq!(found(text), [(span.to_owned(), recognizer)], "in {text:?}");
}

fn assert_none(text: &str) {
    assert_eq!(found(text), [], "in {text:?}");
}

const ALNUM: &str = "Qm7xK2pL9vR4tZ8wN3bC6yH1jF5dG0sAeUiOk";

/// `n` varied alphanumeric characters, shifted by `seed`.
fn alnum(n: usize, seed: usize) -> String {
    ALNUM.chars().cycle().skip(seed).take(n).collect()
}

fn hex(n: usize) -> String {
    "3f9a0c7e1b5d2846".chars().cycle().take(n).collect()
}

fn base32(n: usize) -> String {
    "QZ7XK2MP5VR4TW6N3BCY".chars().cycle().take(n).collect()
}

fn base64_40() -> String {
    format!("{}/{}+{}", alnum(13, 1), alnum(13, 5), alnum(12, 9))
}

#[test]
fn openai_keys() {
    let legacy = format!("sk-{}T3Blbk{}{}", alnum(20, 0), "FJ", alnum(20, 3));
    assert_only(&format!("key {legacy} ok"), &legacy, "openai_api_key");
    for kind in ["proj", "svcacct", "admin"] {
        let key = format!(
            "sk-{kind}-{}_{}-{}",
            alnum(40, 1),
            alnum(40, 2),
            alnum(20, 4)
        );
        assert_only(&format!("\"{key}\""), &key, "openai_api_key");
    }
    assert_none("sk-a1B2c");
    assert_none(&format!("sk-{}", "a".repeat(40)));
    assert_none("sk-this-is-not-a-key-just-a-long-kebab-name");
}

#[test]
fn anthropic_keys() {
    for kind in ["api03", "admin01"] {
        let key = format!("sk-ant-{kind}-{}-{}AA", alnum(60, 2), alnum(30, 7));
        assert_only(&format!("x-api-key: {key}"), &key, "anthropic_api_key");
    }
}

#[test]
fn aws_access_key_ids() {
    for prefix in ["AKIA", "ASIA", "ABIA", "ACCA"] {
        let id = format!("{prefix}{}", base32(16));
        assert_only(&format!("id={id}\n"), &id, "aws_access_key_id");
    }
    assert_none(&format!("AKIA{} here", base32(15)));
    assert_none(&format!("AKIA{}", base32(17)));
    assert_none(&format!("xAKIA{}", base32(16)));
}

#[test]
fn aws_secret_keys_need_context() {
    let secret = base64_40();
    assert_only(
        &format!("aws_secret_access_key = {secret}"),
        &secret,
        "aws_secret_access_key",
    );
    let id = format!("AKIA{}", base32(16));
    let out = found(&format!("{id} {secret}"));
    assert_eq!(
        out,
        [
            (id.clone(), "aws_access_key_id"),
            (secret.clone(), "aws_secret_access_key")
        ]
    );
    assert_none(&format!("checksum {secret}"));
    // A git SHA near "secret" is too regular.
    assert_none(&format!("secret commit {}", hex(40)));
}

#[test]
fn github_and_gitlab_tokens() {
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        let token = format!("{prefix}{}", alnum(36, 3));
        assert_only(&format!("GITHUB_TOKEN={token}"), &token, "github_token");
    }
    let pat = format!("github_{}{}_{}", "pat_", alnum(22, 1), alnum(59, 4));
    assert_only(&format!("token {pat}."), &pat, "github_token");
    assert_none(&format!("ghp_{}", alnum(35, 3)));
    assert_none(&format!("ghp_{}", alnum(37, 3)));
    let gl = format!("glpat-{}", alnum(20, 6));
    assert_only(&format!("({gl})"), &gl, "gitlab_token");
    assert_none("glpat-short");
}

#[test]
fn slack_tokens_and_webhooks() {
    for kind in ["b", "p", "a", "r", "s"] {
        let token = format!("xox{kind}-1234567890-9876543210-{}", alnum(24, 2));
        assert_only(&format!("slack: {token}"), &token, "slack_token");
    }
    let hook = format!(
        "https://hooks.slack{}/services/T{}/B{}/{}",
        ".com",
        base32(8),
        base32(10),
        alnum(24, 5)
    );
    assert_only(&format!("post to {hook} now"), &hook, "slack_webhook");
}

#[test]
fn stripe_secret_keys_but_not_publishable_ones() {
    for prefix in ["sk_live_", "sk_test_", "rk_live_", "rk_test_"] {
        let key = format!("{prefix}{}", alnum(24, 1));
        assert_only(&format!("stripe {key}"), &key, "stripe_secret_key");
    }
    assert_none(&format!("pk_live_{}", alnum(24, 1)));
    assert_none(&format!("sk_live_{}", alnum(10, 1)));
}

#[test]
fn google_api_key() {
    let key = format!("AIza{}-{}", alnum(20, 2), alnum(14, 8));
    assert_only(&format!("?key={key}&x=1"), &key, "google_api_key");
    assert_none(&format!("AIza{}", alnum(20, 2)));
}

#[test]
fn azure_storage_keys() {
    let key = format!("{}+{}/{}==", alnum(30, 1), alnum(30, 3), alnum(24, 6));
    assert_eq!(key.len(), 88);
    let conn = format!(
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={key};EndpointSuffix=core.windows.net"
    );
    assert_only(&conn, &key, "azure_storage_key");
    assert_only(
        &format!("azure storage key:\n{key}\n"),
        &key,
        "azure_storage_key",
    );
    assert_none(&format!("blob {key}"));
}

#[test]
fn twilio_keys() {
    let sk = format!("SK{}", hex(32));
    assert_only(&format!("sid {sk}"), &sk, "twilio_api_key");
    let ac = format!("AC{}", hex(32));
    assert_only(&format!("TWILIO_ACCOUNT {ac}"), &ac, "twilio_account_sid");
    assert_none(&format!("ref {ac}"));
}

#[test]
fn sendgrid_key() {
    let key = format!("SG.{}.{}", alnum(22, 1), alnum(43, 2));
    assert_only(&format!("SENDGRID={key}"), &key, "sendgrid_api_key");
    assert_none(&format!("SG.{}.{}", alnum(10, 1), alnum(43, 2)));
}

#[test]
fn amanah_keys() {
    let key = format!("amk_{}_{}", hex(8), alnum(40, 3));
    let text = format!("Authorization: Bearer {key}");
    let out = analyzer().analyze(&text);
    assert_eq!(out.len(), 1);
    assert_eq!(&text[out[0].start..out[0].end], key);
    assert_eq!(out[0].recognizer, "amanah_api_key");
    assert!(out[0].score >= 0.99);
    assert_none(&format!("amk_{}_{}", hex(8), alnum(39, 3)));
}

fn b64url(s: &str) -> String {
    // Enough of base64url for the test headers (no padding).
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = s.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(T[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn jwt() -> String {
    format!(
        "{}.{}.{}",
        b64url(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64url(r#"{"sub":"1234567890","name":"Test"}"#),
        alnum(43, 4)
    )
}

#[test]
fn jwts() {
    let token = jwt();
    assert!(token.starts_with("eyJ"));
    assert_only(&format!("Authorization: Bearer {token}"), &token, "jwt");
    assert_only(&format!("{{\"id_token\":\"{token}\"}}"), &token, "jwt");
    // A short signature is no token.
    let (head, _) = token.rsplit_once('.').unwrap();
    assert_none(&format!("{head}.abc"));
}

#[test]
fn pem_blocks_are_whole_spans() {
    let body = format!("{}\n{}\n{}==", alnum(64, 1), alnum(64, 2), alnum(30, 3));
    for label in ["", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED "] {
        let block =
            format!("-----BEGIN {label}PRIVATE KEY-----\n{body}\n-----END {label}PRIVATE KEY-----");
        assert_only(&format!("key:\n{block}\nthanks"), &block, "pem_private_key");
    }
    // JSON-escaped, as in service-account files.
    let escaped = format!(
        "-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n",
        alnum(64, 1)
    );
    let text = format!("{{\"private_key\": \"{escaped}\"}}");
    let out = found(&text);
    assert_eq!(out.len(), 1);
    assert!(escaped.starts_with(&out[0].0) && out[0].0.ends_with("KEY-----"));
    // No END: through the end of the body.
    let cut = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}");
    assert_only(&format!("{cut}\n\n(truncated)"), &cut, "pem_private_key");
    // Public keys and certificates are public.
    assert_none(&format!(
        "-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----"
    ));
}

#[test]
fn url_credentials_span_only_the_password() {
    let password = format!("{}x9", alnum(12, 2));
    let text = format!("DATABASE_URL=postgres://app:{password}@db.internal:5432/main");
    let out = found(&text);
    assert!(
        out.contains(&(password.clone(), "url_credentials")),
        "{out:?}"
    );
    assert_only(
        &format!("see redis://:{password}@cache:6379 ok"),
        &password,
        "url_credentials",
    );
    assert_none("postgres://user:password@localhost/db");
    assert_none("https://example.com:8443/path");
    assert_none("ftp://anon:${FTP_PASS}@host/");
}

#[test]
fn assignments_span_only_the_value() {
    let value = format!("{}#{}", alnum(10, 1), alnum(6, 9));
    let cases = [
        (format!("password={value}"), "password"),
        (format!("DB_PASSWORD={value}\nDB_USER=app"), "env"),
        (format!("export API_TOKEN=\"{value}\""), "shell"),
        (
            format!("{{\"client_secret\": \"{value}\", \"id\": 3}}"),
            "json",
        ),
        (format!("db:\n  passwd: {value}\n  host: x"), "yaml"),
        (format!("apikey: '{value}'"), "yaml quoted"),
        (format!("access_token => \"{value}\""), "ruby"),
        (format!("Authorization: Bearer {value}"), "header"),
        (format!("pwd := {value}"), "go"),
    ];
    for (text, what) in &cases {
        let out = found(text);
        assert_eq!(
            out,
            [(value.clone(), "secret_assignment")],
            "{what}: {text:?}"
        );
        let d = analyzer().analyze(text)[0];
        assert!((0.6..=0.8).contains(&d.score), "{what}");
    }
}

#[test]
fn assignment_near_misses() {
    for text in [
        "password=changeme",
        "the password is required",
        "password: required",
        "token: ${TOKEN}",
        "api_key = <your-key>",
        "secret: \"***\"",
        "password: xxxxxxxxxx",
        "auth: null",
        "author: Jane Smith",
        "max_tokens: 4096",
        "token = os.getenv(\"TOKEN\")",
        "PWD=/home/someone/projects/amanah",
        "\"token\": \"Please paste your access token in this field\"",
        "password: something",
        "if password == expected_value:",
        "api_key: EXAMPLE_KEY_VALUE_123",
        "token: dGVzdA==",
    ] {
        assert_none(text);
    }
}

#[test]
fn utf8_around_secrets() {
    let token = format!("ghp_{}", alnum(36, 3));
    let text = format!("clé « {token} » — ünïcödé");
    assert_only(&text, &token, "github_token");
    let value = format!("{}é{}", alnum(8, 2), alnum(6, 5));
    assert_only(
        &format!("mot_de_passe_password: {value} ✓"),
        &value,
        "secret_assignment",
    );
}

fn key_strategy() -> impl Strategy<Value = String> {
    let b62 = |n: usize| proptest::string::string_regex(&format!("[A-Za-z0-9]{{{n}}}")).unwrap();
    let hexs = |n: usize| proptest::string::string_regex(&format!("[0-9a-f]{{{n}}}")).unwrap();
    prop_oneof![
        // Fixed classes make the mixed-class check deterministic.
        b62(45).prop_map(|b| format!("sk-proj-Ab3{b}")),
        b62(90).prop_map(|b| format!("sk-ant-api03-{b}AA")),
        proptest::string::string_regex("(AKIA|ASIA)[A-Z2-7]{16}")
            .unwrap()
            .prop_filter("varied", |s| amanah_pii::validate::shannon_entropy(s)
                >= 2.5),
        b62(36).prop_map(|b| format!("gh{}_{b}", "p")),
        b62(24).prop_map(|b| format!("sk_{}_{b}", "live")),
        b62(35).prop_map(|b| format!("AIza{b}")),
        (b62(22), b62(43)).prop_map(|(a, b)| format!("SG.{a}.{b}")),
        (hexs(8), b62(40)).prop_map(|(a, b)| format!("amk_{a}_{b}")),
        b62(24).prop_map(|b| format!("glpat-{b}")),
        hexs(31).prop_map(|b| format!("SK{b}a")),
    ]
    .prop_filter("varied", |s| {
        amanah_pii::validate::shannon_entropy(s) >= 2.5
    })
}

proptest! {
    #[test]
    fn detection_covers_exactly_the_key(
        prefix in "[a-zA-Zé ,.]{0,30}",
        before in prop::sample::select(vec![" ", "\n", "=", ": ", "\"", "(", "«"]),
        key in key_strategy(),
        after in prop::sample::select(vec![" ", "\n", "\"", ")", ". ", ",", "»"]),
        suffix in "[a-zA-Zü ,.]{0,30}",
    ) {
        let text = format!("{prefix}{before}{key}{after}{suffix}");
        let start = prefix.len() + before.len();
        let out = analyzer().analyze(&text);
        prop_assert_eq!(out.len(), 1, "{:?}", out);
        prop_assert_eq!((out[0].start, out[0].end), (start, start + key.len()));
        prop_assert!(out[0].score >= 0.95);
    }
}

#[test]
fn large_text_with_many_near_misses() {
    // Prefixes and key words everywhere, no secret: stays quiet and fast.
    let line = "task-force sk- AKIA token: ${T} password is required AC12 eyJ x://a@b == \n";
    let text = line.repeat(4000);
    let started = std::time::Instant::now();
    assert_none(&text);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
