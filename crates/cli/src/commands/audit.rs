//! `amanah audit verify`: checks the audit log in `<data-dir>/audit.db`
//! against its signed checkpoints and names the first damaged sequence
//! number and the kind of damage.

use std::path::PathBuf;
use std::process::ExitCode;

use amanah_audit::{parse_checkpoint_file, Checkpoint, StoredEvent, Verifier, VerifyingKey};
use amanah_store::{AuditStore, SqliteAuditStore};
use anyhow::Context as _;

use crate::context::{problems_error, Location};

/// The audit store's file name in the data directory.
pub const AUDIT_DB: &str = "audit.db";
/// The checkpoint signing key's public half, base64, in the data directory.
pub const AUDIT_PUBLIC_KEY: &str = "audit-signing.pub";

/// Events read from the store at a time.
const PAGE: u32 = 10_000;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Verify the hash chain and the signed checkpoints; exit 1 on damage.
    Verify {
        /// An external anchor: JSON-lines checkpoints kept outside the store (exported to a file or received by a webhook).
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// The checkpoint key's public half, base64 (default: <data-dir>/audit-signing.pub).
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Verify {
        checkpoint,
        public_key,
        json,
        location,
    } = cmd;
    let config = location.load().map_err(|p| problems_error(&p))?;
    let key_path = public_key.unwrap_or_else(|| config.data_dir.join(AUDIT_PUBLIC_KEY));
    let key_text = std::fs::read_to_string(&key_path)
        .with_context(|| format!("reading the audit public key {}", key_path.display()))?;
    let key = VerifyingKey::from_base64(key_text.trim()).with_context(|| {
        format!(
            "{} is not an Ed25519 public key in base64",
            key_path.display()
        )
    })?;
    let db = config.data_dir.join(AUDIT_DB);
    anyhow::ensure!(db.exists(), "no audit log at {}", db.display());
    let store = SqliteAuditStore::open(&db)?;

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
    if json {
        println!(
            "{}",
            serde_json::json!({
                "ok": report.is_ok(),
                "verified": report.verified,
                "first_damage": report.first_damage.map(|(seq, d)| serde_json::json!({"seq": seq, "kind": d.as_str()})),
                "last_checkpoint_seq": report.last_checkpoint_seq,
            })
        );
    } else {
        println!("{report}");
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
