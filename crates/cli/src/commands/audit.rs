//! `amanah audit verify|tail|export`: checks the audit log
//! (`<data-dir>/audit.db` by default) against its signed checkpoints and
//! names the first damaged sequence number and the kind of damage; prints
//! the newest events or every event since a time.

use std::path::PathBuf;
use std::process::ExitCode;

use amanah_audit::{
    hex_encode, parse_checkpoint_file, Checkpoint, DetailValue, Event, StoredEvent, Verifier,
    VerifyingKey,
};
use amanah_gateway::config::Config;
use amanah_store::{AuditRow, AuditStore, SqliteAuditStore};
use anyhow::Context as _;

use crate::context::{problems_error, Location};

/// Events read from the store at a time.
const PAGE: u32 = 10_000;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Verify the hash chain and the signed checkpoints; exit 1 on damage, 2 when no valid checkpoint anchors the events.
    Verify {
        /// An external anchor: JSON-lines checkpoints kept outside the store (exported to a file or received by a webhook).
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// The checkpoint key's public half, base64 (default: beside [audit].signing_key_file, <data-dir>/audit-signing.pub).
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Print the newest events (and, with --follow, new ones as they are written).
    Tail {
        /// How many of the newest events to print first.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: u32,
        /// Keep printing events as they are written, until interrupted.
        #[arg(long)]
        follow: bool,
        /// One JSON object per line: the event, its prev_hash and hash (hex).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Print every event written since a time, oldest first.
    Export {
        /// RFC 3339, Unix seconds, or a duration ago (24h, 7d). Default: everything kept.
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// One JSON object per line: the event, its prev_hash and hash (hex), enough to verify it elsewhere.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Verify {
            checkpoint,
            public_key,
            json,
            location,
        } => verify(checkpoint, public_key, json, &location).await,
        Command::Tail {
            lines,
            follow,
            json,
            location,
        } => tail(lines, follow, json, &location).await,
        Command::Export {
            since,
            json,
            location,
        } => export(since.as_deref(), json, &location).await,
    }
}

/// The audit store the configuration names; it must exist.
pub fn open_store(config: &Config) -> anyhow::Result<SqliteAuditStore> {
    let db = &config.audit.store;
    anyhow::ensure!(db.exists(), "no audit log at {}", db.display());
    Ok(SqliteAuditStore::open(db)?)
}

async fn verify(
    checkpoint: Option<PathBuf>,
    public_key: Option<PathBuf>,
    json: bool,
    location: &Location,
) -> anyhow::Result<ExitCode> {
    let config = location.load().map_err(|p| problems_error(&p))?;
    let key_given = public_key.is_some();
    let key_path = public_key
        .unwrap_or_else(|| amanah_gateway::audit::public_key_path(&config.audit.signing_key));
    let key_text = std::fs::read_to_string(&key_path)
        .with_context(|| format!("reading the audit public key {}", key_path.display()))?;
    let key = VerifyingKey::from_base64(key_text.trim()).with_context(|| {
        format!(
            "{} is not an Ed25519 public key in base64",
            key_path.display()
        )
    })?;
    let store = open_store(&config)?;

    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    for row in store.checkpoints().await? {
        // A stored checkpoint that does not parse is one the verifier
        // cannot use; a forged one fails its signature check there.
        if let Ok(cp) = Checkpoint::from_text(&row.text) {
            checkpoints.push(cp);
        }
    }
    if let Some(path) = &checkpoint {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        checkpoints.extend(
            parse_checkpoint_file(&text)
                .with_context(|| format!("reading checkpoints from {}", path.display()))?,
        );
    }

    let mut verifier = Verifier::new(&checkpoints, &key);
    if let Some(retention) = config.audit.retention {
        // Retention may have pruned what is older than its period, up to
        // a checkpoint signed before the cut, and nothing else.
        let period = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        verifier =
            verifier.with_retention_cut(amanah_gateway::audit::now_ms().saturating_sub(period));
    }
    let mut after = 0;
    loop {
        let page = store.events_by_row(after, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, row) in &page {
            match StoredEvent::from_parts(&row.event, &row.prev_hash, &row.hash) {
                Ok(stored) => verifier.push(&stored),
                Err(_) => verifier.push_unreadable(),
            }
        }
    }
    let report = verifier.finish();
    // Events that no valid checkpoint vouches for could all have been
    // rewritten by whoever can write the store (who can also delete the
    // stored checkpoints): intact, but not evidence.
    let anchored = report.last_checkpoint_seq.is_some() || report.verified == 0;
    if checkpoint.is_none() {
        eprintln!(
            "warning: checked against the checkpoints stored in {} only; whoever can write the \
             store can delete them. Pass --checkpoint with your external anchor (the anchor file \
             or the webhook's copy).",
            config.audit.store.display()
        );
    }
    if !key_given {
        eprintln!(
            "warning: the public key was read from {}, beside the store; pass --public-key with \
             a copy kept elsewhere.",
            key_path.display()
        );
    }
    if json {
        println!(
            "{}",
            serde_json::json!({
                "ok": report.is_ok() && anchored,
                "anchored": anchored,
                "first_seq": report.first_seq,
                "verified": report.verified,
                "first_damage": report.first_damage.map(|(seq, d)| serde_json::json!({"seq": seq, "kind": d.as_str()})),
                "last_checkpoint_seq": report.last_checkpoint_seq,
            })
        );
    } else {
        println!("{report}");
    }
    Ok(match (report.is_ok(), anchored) {
        (false, _) => ExitCode::from(1),
        (true, false) => {
            eprintln!("not anchored: no valid signed checkpoint vouches for these events (exit 2)");
            ExitCode::from(2)
        }
        (true, true) => ExitCode::SUCCESS,
    })
}

async fn tail(
    lines: u32,
    follow: bool,
    json: bool,
    location: &Location,
) -> anyhow::Result<ExitCode> {
    let config = location.load().map_err(|p| problems_error(&p))?;
    let store = open_store(&config)?;
    let newest = store.last_rows(lines).await?;
    let mut after = newest.last().map_or(0, |(pos, _)| *pos);
    for (_, row) in &newest {
        print_row(row, json);
    }
    if !follow {
        return Ok(ExitCode::SUCCESS);
    }
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        for (pos, row) in store.events_by_row(after, PAGE).await? {
            after = pos;
            print_row(&row, json);
        }
    }
}

async fn export(since: Option<&str>, json: bool, location: &Location) -> anyhow::Result<ExitCode> {
    let config = location.load().map_err(|p| problems_error(&p))?;
    let since_ms = match since {
        None => i64::MIN,
        Some(text) => parse_since(text).map_err(anyhow::Error::msg)?,
    };
    let store = open_store(&config)?;
    let mut after = 0;
    loop {
        let page = store.events_by_row(after, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, row) in page.iter().filter(|(_, r)| r.time_unix_ms >= since_ms) {
            print_row(row, json);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--since`: an instant (RFC 3339 or Unix seconds) or a duration ago, in
/// milliseconds since the epoch.
pub fn parse_since(text: &str) -> Result<i64, String> {
    if let Ok(ago) = crate::time::parse_duration(text) {
        let ago = i64::try_from(ago.as_millis()).unwrap_or(i64::MAX);
        return Ok(amanah_gateway::audit::now_ms().saturating_sub(ago));
    }
    crate::time::parse_timestamp(text)
        .map(|secs| secs.saturating_mul(1000))
        .map_err(|e| format!("{e}, or a duration ago such as 24h or 7d"))
}

fn print_row(row: &AuditRow, json: bool) {
    if json {
        // The event exactly as stored, so a verifier elsewhere can check it.
        let event = if serde_json::from_str::<serde_json::Value>(&row.event).is_ok() {
            row.event.clone()
        } else {
            serde_json::Value::String(row.event.clone()).to_string()
        };
        println!(
            "{{\"event\":{event},\"prev_hash\":\"{}\",\"hash\":\"{}\"}}",
            hex_encode(&row.prev_hash),
            hex_encode(&row.hash)
        );
        return;
    }
    match Event::from_json(&row.event) {
        Ok(e) => println!("{}", human(&e)),
        Err(_) => println!(
            "#{} (unreadable: the stored event is not a valid event)",
            row.seq
        ),
    }
}

/// `2026-11-24T03:15:08.123Z #12 success key:ab12cd34 model.invoke route:chat ip=… status=200 subject=hmac:1a2b…`
pub fn human(e: &Event) -> String {
    let secs = e.time_unix_ms.div_euclid(1000);
    let millis = e.time_unix_ms.rem_euclid(1000);
    let time = crate::time::rfc3339(secs);
    let mut line = format!(
        "{}.{millis:03}Z #{} {} {} {} {}",
        time.trim_end_matches('Z'),
        e.seq,
        e.outcome,
        printable(&e.actor),
        printable(&e.action),
        printable(&e.resource)
    );
    if let Some(ip) = &e.client_ip {
        line.push_str(&format!(" ip={}", printable(ip)));
    }
    if let Some(rid) = &e.request_id {
        line.push_str(&format!(" request={}", printable(rid)));
    }
    for (name, value) in &e.details {
        let name = printable(name);
        match value {
            DetailValue::Clear(v) if v.is_empty() => line.push_str(&format!(" {name}=\"\"")),
            DetailValue::Clear(v) => line.push_str(&format!(" {name}={}", printable(v))),
            DetailValue::Hmac(h) => {
                line.push_str(&format!(" {name}=hmac:{}", &hex_encode(h)[..16]))
            }
            _ => line.push_str(&format!(" {name}=?")),
        }
    }
    line
}

/// `text` safe for a terminal and a line-oriented reader: control
/// characters (newlines, escapes) and the space that separates fields are
/// written as escapes, so a value a client chose cannot forge a line or
/// recolour the screen.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() || c == ' ' || c == '\\')
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            ' ' => out.push_str("\\x20"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_line_or_escape_sequence_stays_one_inert_field() {
        let mut e = Event::new(
            0,
            "n",
            "jwt:eve\n2026-01-01T00:00:00.000Z #999 success user:alice key.revoke",
            "a",
            "r\u{1b}[31m",
            amanah_audit::Outcome::Success,
        );
        e.details
            .insert("roles".into(), DetailValue::Clear("admin\r\nx".into()));
        let line = human(&e);
        assert!(
            !line.contains('\n') && !line.contains('\r') && !line.contains('\u{1b}'),
            "{line}"
        );
        assert_eq!(line.split(' ').count(), 7, "{line}");
        assert_eq!(printable("key:0a1b"), "key:0a1b");
    }
}
