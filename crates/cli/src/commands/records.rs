//! `amanah records put|get|list|delete`: protected records on the embedded
//! store, as the data API keeps them (redacted unless `--raw`, encrypted
//! under the subject's data key).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use amanah_gateway::data_api::{meta_value, record_json, DEFAULT_DATA_CLASS};
use amanah_gateway::keys::now_unix;
use amanah_gateway::records::NewRecord;
use amanah_store::DeleteOutcome;

use amanah_audit::Outcome::Success;

use crate::context::{audit, problems_error, record_service, Location};
use crate::time::rfc3339;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Store a record from FILE or standard input (-); prints its id.
    Put {
        /// The data subject the record is about.
        #[arg(long)]
        subject: String,
        /// The tenant it is kept for (its key is the subject's within the tenant).
        #[arg(long)]
        tenant: Option<String>,
        /// Record kind (picks the retention): conversation, transcript, call_metadata, document, or one from [records.retention].
        #[arg(long)]
        kind: String,
        /// Data class: who may read it (default: general).
        #[arg(long = "class", default_value = DEFAULT_DATA_CLASS)]
        data_class: String,
        #[arg(long)]
        region: Option<String>,
        /// The consent purpose it was collected under.
        #[arg(long)]
        purpose: Option<String>,
        /// Media type (default: text/plain; charset=utf-8 for UTF-8 input, else application/octet-stream).
        #[arg(long)]
        content_type: Option<String>,
        /// Store the content as given, without redacting personal data.
        #[arg(long)]
        raw: bool,
        /// FILE, or - for standard input.
        #[arg(default_value = "-")]
        input: PathBuf,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Print a record's content (with --json, its metadata too).
    Get {
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// List a subject's records, oldest first.
    List {
        #[arg(long)]
        subject: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Delete a record (refused while it is on legal hold).
    Delete {
        id: String,
        #[command(flatten)]
        location: Location,
    },
    /// Delete every expired record not on legal hold now (the gateway does it every records.cleanup_interval_secs) and list what went.
    Sweep {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Set or clear a record's legal hold.
    Hold {
        id: String,
        /// Clear the hold instead of setting it.
        #[arg(long)]
        release: bool,
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Put {
            subject,
            tenant,
            kind,
            data_class,
            region,
            purpose,
            content_type,
            raw,
            input,
            json,
            location,
        } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let content = read_input(&input)?;
            let content_type = content_type.unwrap_or_else(|| {
                if std::str::from_utf8(&content).is_ok() {
                    "text/plain; charset=utf-8".to_owned()
                } else {
                    "application/octet-stream".to_owned()
                }
            });
            let (records, _) = record_service(&config).await?;
            let meta = records
                .put(
                    NewRecord {
                        subject,
                        tenant,
                        kind,
                        data_class,
                        region,
                        purpose,
                        content_type,
                        content,
                        raw,
                        ttl_secs: None,
                    },
                    now_unix(),
                )
                .await?;
            audit(
                &config,
                "record.put",
                &format!("record:{}", meta.id),
                Success,
                &[
                    ("subject", &meta.subject),
                    ("data_class", &meta.data_class),
                    ("kind", &meta.kind),
                ],
            )
            .await?;
            if json {
                println!("{}", serde_json::json!({ "id": meta.id }));
            } else {
                println!("{}", meta.id);
            }
        }
        Command::Get { id, json, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let (records, _) = record_service(&config).await?;
            let Some(record) = records.get(&id, now_unix()).await? else {
                anyhow::bail!("no record with id `{id}`");
            };
            // Before the content is shown: no read the log does not hold.
            audit(
                &config,
                "record.read",
                &format!("record:{id}"),
                Success,
                &[
                    ("subject", &record.meta.subject),
                    ("data_class", &record.meta.data_class),
                ],
            )
            .await?;
            if json {
                println!("{}", record_json(&record));
            } else {
                use std::io::Write;
                std::io::stdout().write_all(&record.content)?;
            }
        }
        Command::List {
            subject,
            json,
            location,
        } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let (records, _) = record_service(&config).await?;
            let list = records.list(&subject, now_unix()).await?;
            audit(
                &config,
                "record.list",
                "records",
                Success,
                &[("subject", &subject)],
            )
            .await?;
            if json {
                let rows: Vec<_> = list.iter().map(meta_value).collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if list.is_empty() {
                println!("no records for subject {subject}");
            } else {
                println!(
                    "{:<30}  {:<14}  {:<12}  {:>9}  {:<20}  {:<20}  HOLD",
                    "ID", "KIND", "CLASS", "BYTES", "CREATED", "EXPIRES"
                );
                for m in &list {
                    println!(
                        "{:<30}  {:<14}  {:<12}  {:>9}  {:<20}  {:<20}  {}",
                        m.id,
                        m.kind,
                        m.data_class,
                        m.size,
                        rfc3339(m.created_at),
                        m.expires_at.map_or_else(|| "never".to_owned(), rfc3339),
                        if m.legal_hold { "yes" } else { "-" }
                    );
                }
            }
        }
        Command::Delete { id, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let (records, _) = record_service(&config).await?;
            match records.delete(&id).await? {
                DeleteOutcome::Deleted => {
                    audit(
                        &config,
                        "record.delete",
                        &format!("record:{id}"),
                        Success,
                        &[],
                    )
                    .await?;
                    println!("deleted record {id}");
                }
                DeleteOutcome::NotFound => anyhow::bail!("no record with id `{id}`"),
                DeleteOutcome::Held => anyhow::bail!(
                    "record {id} is on legal hold; `amanah records hold {id} --release` first"
                ),
            }
        }
        Command::Sweep { json, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let (records, _) = record_service(&config).await?;
            let deleted = records
                .sweep(now_unix(), config.records.sweep_batch)
                .await?;
            audit(
                &config,
                "record.sweep",
                "records",
                Success,
                &[("deleted", &deleted.len().to_string())],
            )
            .await?;
            if json {
                let rows: Vec<_> = deleted.iter().map(meta_value).collect();
                println!("{}", serde_json::json!({ "deleted": rows }));
            } else if deleted.is_empty() {
                println!("no expired records");
            } else {
                for m in &deleted {
                    println!(
                        "deleted {}  subject {}  kind {}  expired {}",
                        m.id,
                        m.subject,
                        m.kind,
                        m.expires_at.map_or_else(|| "-".to_owned(), rfc3339)
                    );
                }
                println!("{} expired record(s) deleted", deleted.len());
            }
        }
        Command::Hold {
            id,
            release,
            location,
        } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let (records, _) = record_service(&config).await?;
            if !records.set_legal_hold(&id, !release).await? {
                anyhow::bail!("no record with id `{id}`");
            }
            let hold = if release { "released" } else { "set" };
            audit(
                &config,
                "record.hold",
                &format!("record:{id}"),
                Success,
                &[("hold", hold)],
            )
            .await?;
            println!(
                "record {id}: legal hold {}",
                if release { "released" } else { "set" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_input(input: &PathBuf) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context as _;
    let mut content = Vec::new();
    if input.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut content)
            .context("reading standard input")?;
    } else {
        content = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    }
    Ok(content)
}
