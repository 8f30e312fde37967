//! Logging: `tracing` with a redaction layer under every line.
//!
//! The redactor works on the finished line, after formatting, so it catches
//! a secret wherever it hides: a field, a message, an error's text, JSON or
//! human format alike. After the credential rules, `amanah-pii`'s
//! structured recognizers (contact details, payment and account numbers,
//! national identifiers, secrets) replace what they find with `<TYPE>`.
//!
//! The access log is its own stream (target [`ACCESS_TARGET`]) with dotted
//! field names, written to its own destination.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::{Arc, LazyLock, Mutex};

use amanah_pii::operators::{anonymize, NoContext, Operator, OperatorPolicy};
use amanah_pii::{recognizers, Analyzer, EntityType};
use regex::Regex;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{filter, Layer};

use crate::config::{AccessLog, Log, LogFormat};

pub const ACCESS_TARGET: &str = "amanah::access";

struct Rule {
    re: Regex,
    replacement: &'static str,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |re: &str, replacement| Rule {
        re: Regex::new(re).expect("redaction patterns compile"),
        replacement,
    };
    vec![
        // Amanah API keys: keep the public id, drop the secret. The secret
        // runs through underscores so that a key glued to another
        // (`amk_<id>_amk_<id>_<secret>`) cannot hide the second secret
        // behind a consumed prefix; over-masking is the safe direction.
        rule(
            r"amk_([0-9a-f]{8})_[0-9A-Za-z_]+",
            "amk_${1}_***REDACTED***",
        ),
        // Bearer tokens of any kind.
        rule(
            r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]+",
            "${1} ***REDACTED***",
        ),
        // OpenAI/Anthropic-style provider keys.
        // Not `\b`: `_` is a word character, and `KEY_sk-...` must be caught.
        rule(
            r"(^|[^A-Za-z0-9])sk-[A-Za-z0-9_\-]{8,}",
            "${1}sk-***REDACTED***",
        ),
        // password=..., "secret": "...", token: ...
        rule(
            r#"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|credential)(\\?"?\s*[:=]\s*\\?"?)[^\s"\\&,;}]+"#,
            "${1}${2}***REDACTED***",
        ),
    ]
});

/// The detector behind the redactor: identifiers and secrets only, whose
/// shapes are checked (checksums, prefixes, formats). Names, places, dates,
/// addresses and URLs are left out on purpose: a log line is made of
/// timestamps, client addresses and paths the operator needs, and request
/// bodies are never logged.
static LOG_ANALYZER: LazyLock<Analyzer> = LazyLock::new(|| {
    let b = Analyzer::builder();
    let b = recognizers::contact::register(b);
    let b = recognizers::financial::register(b);
    let b = recognizers::identifiers::register(b);
    recognizers::secrets::register(b).build()
});

/// Masks bearer tokens, API keys, provider keys and `password=`-style
/// assignments in one log line, then replaces the personal data and
/// secrets the PII engine finds with `<TYPE>`.
pub fn redact(line: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(line);
    for rule in RULES.iter() {
        if let Cow::Owned(s) = rule.re.replace_all(&out, rule.replacement) {
            out = Cow::Owned(s);
        }
    }
    let found = LOG_ANALYZER.analyze_only(&out, &EntityType::SHAPED);
    if found.is_empty() {
        return out;
    }
    let policy = OperatorPolicy::new(Operator::Replace);
    Cow::Owned(anonymize(&out, &found, &policy, &mut NoContext).text)
}

/// A [`MakeWriter`] whose writers hold each event's bytes and pass them
/// through [`redact`] before they reach `inner`.
#[derive(Clone, Debug)]
pub struct Redacting<M> {
    inner: M,
}

impl<M> Redacting<M> {
    pub fn new(inner: M) -> Self {
        Self { inner }
    }
}

/// One event's bytes, redacted and written on drop.
pub struct RedactingLine<W: Write> {
    buf: Vec<u8>,
    inner: W,
}

impl<W: Write> std::fmt::Debug for RedactingLine<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedactingLine")
            .field("len", &self.buf.len())
            .finish()
    }
}

impl<W: Write> Write for RedactingLine<W> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for RedactingLine<W> {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        let _ = self.inner.write_all(redact(&text).as_bytes());
        let _ = self.inner.flush();
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingLine<M::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        RedactingLine {
            buf: Vec::with_capacity(256),
            inner: self.inner.make_writer(),
        }
    }
}

/// A shared in-memory sink, for tests that read what was logged.
#[derive(Clone, Debug, Default)]
pub struct MemorySink(pub Arc<Mutex<Vec<u8>>>);

impl MemorySink {
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("sink lock")).into_owned()
    }
}

impl Write for MemorySink {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for MemorySink {
    type Writer = MemorySink;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A boxed writer factory, so destinations can be chosen at run time.
pub type BoxMakeWriter = tracing_subscriber::fmt::writer::BoxMakeWriter;

/// Where the access log goes.
pub fn access_writer(cfg: &AccessLog) -> io::Result<Option<BoxMakeWriter>> {
    Ok(match cfg {
        AccessLog::Off => None,
        AccessLog::Stdout => Some(BoxMakeWriter::new(io::stdout)),
        AccessLog::Stderr => Some(BoxMakeWriter::new(io::stderr)),
        AccessLog::File(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            let file = Arc::new(Mutex::new(file));
            Some(BoxMakeWriter::new(move || SharedFile(Arc::clone(&file))))
        }
    })
}

struct SharedFile(Arc<Mutex<std::fs::File>>);

impl Write for SharedFile {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .write(b)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .flush()
    }
}

/// Builds the subscriber: the main log (everything but access events) to
/// `main`, the access log to `access`, both through the redactor.
pub fn subscriber(
    cfg: &Log,
    main: BoxMakeWriter,
    access: Option<BoxMakeWriter>,
) -> impl tracing::Subscriber + Send + Sync {
    let level = filter::LevelFilter::from_level(cfg.level);
    let not_access = filter::filter_fn(|m| m.target() != ACCESS_TARGET);
    let only_access = filter::filter_fn(|m| m.target() == ACCESS_TARGET);
    let main_layer = fmt_layer(cfg.format, main, true)
        .with_filter(not_access)
        .with_filter(level);
    let access_layer = access.map(|w| fmt_layer(cfg.format, w, false).with_filter(only_access));
    tracing_subscriber::registry()
        .with(main_layer)
        .with(access_layer)
}

/// A formatting layer in the configured format, writing through the redactor.
fn fmt_layer<S>(
    format: LogFormat,
    writer: BoxMakeWriter,
    with_target: bool,
) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_target(with_target)
        .with_writer(Redacting::new(writer));
    match format {
        LogFormat::Json => layer.json().flatten_event(true).boxed(),
        LogFormat::Human => layer.boxed(),
    }
}

/// Installs the process-wide subscriber: main log to stderr.
pub fn init(cfg: &Log) -> io::Result<()> {
    let access = access_writer(&cfg.access_log)?;
    let sub = subscriber(cfg, BoxMakeWriter::new(io::stderr), access);
    tracing::subscriber::set_global_default(sub).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_each_kind_of_secret() {
        let cases = [
            (
                "Authorization: Bearer eyJhbGciOi.payload.sig",
                "Bearer ***REDACTED***",
            ),
            (
                "key=amk_1a2b3c4d_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd",
                "amk_1a2b3c4d_***REDACTED***",
            ),
            (
                "upstream said sk-proj-abcdefghijklmnop1234",
                "sk-***REDACTED***",
            ),
            ("sk-ant-api03-abcdefghijkl", "sk-***REDACTED***"),
            ("password=hunter2hunter2", "password=***REDACTED***"),
            (
                r#"{"password":"hunter2"}"#,
                r#"{"password":"***REDACTED***"}"#,
            ),
            (
                r#"{"msg":"x","token": "abc123"}"#,
                r#""token": "***REDACTED***""#,
            ),
            (
                r#"{"fields":"{\"api_key\":\"abc\"}"}"#,
                r#"\"api_key\":\"***REDACTED***"#,
            ),
        ];
        for (input, want) in cases {
            let got = redact(input);
            assert!(got.contains(want), "{input:?} → {got:?}");
            for secret in [
                "eyJhbGciOi",
                "AbCdEfGh",
                "abcdefghijklmnop1234",
                "hunter2",
                "abc123",
                "api03",
            ] {
                assert!(!got.contains(secret), "{input:?} → {got:?}");
            }
        }
    }

    #[test]
    fn personal_data_and_secrets_the_engine_finds_are_replaced() {
        let line = r#"{"msg":"upstream said: no account for maria.gonzalez@example.org, card 4111 1111 1111 1111, SSN 536-22-8475, key AKIAIOSFODNN7EXAMPLE"}"#;
        let out = redact(line);
        for value in [
            "maria.gonzalez@example.org",
            "4111 1111 1111 1111",
            "536-22-8475",
            "AKIAIOSFODNN7EXAMPLE",
        ] {
            assert!(!out.contains(value), "{value} in {out}");
        }
        assert!(
            out.contains("<EMAIL_ADDRESS>") && out.contains("<CREDIT_CARD>"),
            "{out}"
        );
    }

    #[test]
    fn ordinary_log_lines_pass_unchanged() {
        for line in [
            r#"{"timestamp":"2026-11-23T22:49:15.123456Z","level":"INFO","fields":{"request.id":"01JDAXK3Q8M2T7P4R6V9Z0B1C2","client.ip":"127.0.0.1","http.method":"POST","url.path":"/v1/chat/completions","route.name":"chat","principal.id":"key:3f9a1c2e","http.status":200,"latency_ms":1.234},"target":"amanah::access"}"#,
            "2026-11-23T22:49:15.123456Z  INFO amanah_gateway::server: listening addr=127.0.0.1:8080 max_connections=1024",
            r#"{"level":"WARN","fields":{"message":"upstream call failed","error":"upstream timed out (first byte)","request.id":"a1b2c3d4e5f6a7b8c9d0"}}"#,
        ] {
            assert_eq!(redact(line), line);
        }
    }

    #[test]
    fn provider_key_after_an_underscore_is_masked() {
        let out = redact("OPENAI_KEY_sk-proj-abcdefghij12345 task-manager-abcdefgh");
        assert!(!out.contains("abcdefghij12345"), "{out}");
        assert!(
            out.contains("task-manager-abcdefgh"),
            "ordinary words stay: {out}"
        );
    }

    /// Found by the `redact` fuzz target: the first key's match consumed the
    /// second key's `amk` and left its secret in clear.
    #[test]
    fn adjacent_keys_are_both_masked() {
        let out = redact("amk_1a2b3c4d_amk_1a2b3c4d_SECRETsecret1234");
        assert!(!out.contains("SECRETsecret1234"), "{out}");
        let out = redact("k1=amk_1a2b3c4d_AAAAAAAAAAAAAAAAAAAA,amk_99999999_BBBBBBBBBBBBBBBBBBBB");
        assert!(
            !out.contains("AAAAAAAA") && !out.contains("BBBBBBBB"),
            "{out}"
        );
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for s in [
            "GET /v1/models 200",
            "route.name=chat http.status=401",
            "tokens used: 12",
        ] {
            assert!(matches!(redact(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn subscriber_redacts_fields_and_messages() {
        let main = MemorySink::default();
        let access = MemorySink::default();
        let cfg = Log {
            format: LogFormat::Json,
            level: tracing::Level::INFO,
            access_log: AccessLog::Stdout,
        };
        let sub = subscriber(
            &cfg,
            BoxMakeWriter::new(main.clone()),
            Some(BoxMakeWriter::new(access.clone())),
        );
        tracing::subscriber::with_default(sub, || {
            tracing::info!(
                header = "Bearer amk_1a2b3c4d_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd",
                "got sk-live-0123456789abcdef"
            );
            tracing::event!(target: ACCESS_TARGET, tracing::Level::INFO, route.name = "chat", http.status = 200u16, "access");
        });
        let m = main.contents();
        assert!(
            !m.contains("AbCdEfGh") && !m.contains("0123456789abcdef"),
            "{m}"
        );
        assert!(
            !m.contains("route.name"),
            "access events stay out of the main log: {m}"
        );
        let a = access.contents();
        assert!(a.contains("\"route.name\":\"chat\""), "{a}");
    }
}
