//! `amanah keyring status|rotate|rewrap|retire`: the master keys that wrap
//! every data key.

use std::process::ExitCode;

use amanah_gateway::keys::now_unix;
use serde_json::json;

use amanah_audit::Outcome::Success;

use crate::context::{audit, keyring, problems_error, Location};
use crate::time::rfc3339;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Show the master-key versions, the current one and the oldest that still decrypts.
    Status {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Make a new master key current for new data keys.
    Rotate {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Rewrap every data key under the current master key (records are not touched).
    Rewrap {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Bring your own key: add a master key sealed under this deployment's root key (base64 of the sealed-KEK format) as the next version.
    Import {
        /// FILE holding the base64 text, or - for standard input.
        #[arg(default_value = "-")]
        input: std::path::PathBuf,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Retire master keys older than VERSION: they no longer decrypt (refused while a data key needs them).
    Retire {
        version: u32,
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Status { json, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let ring = keyring(&config).await?;
            let versions = ring.versions();
            if json {
                let rows: Vec<_> = versions
                    .iter()
                    .map(|(v, at)| json!({ "version": v, "created_at": at }))
                    .collect();
                println!(
                    "{}",
                    json!({
                        "current": ring.current_version(),
                        "min_decryption_version": ring.min_decryption_version(),
                        "keys": rows,
                    })
                );
            } else {
                println!(
                    "current master key: version {} (oldest that decrypts: {})",
                    ring.current_version(),
                    ring.min_decryption_version()
                );
                for (v, at) in versions {
                    println!(
                        "  version {v:<4} created {}",
                        rfc3339(i64::try_from(at).unwrap_or(i64::MAX))
                    );
                }
            }
        }
        Command::Rotate { json, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let version = keyring(&config).await?.rotate(now_unix()).await?;
            audit(
                &config,
                "keyring.rotate",
                "keyring",
                Success,
                &[("version", &version.to_string())],
            )
            .await?;
            if json {
                println!("{}", json!({ "current": version }));
            } else {
                println!("master key version {version} is current; `amanah keyring rewrap` moves existing data keys to it");
            }
        }
        Command::Rewrap { json, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let ring = keyring(&config).await?;
            let done = ring.rewrap_all().await?;
            audit(
                &config,
                "keyring.rewrap",
                "keyring",
                Success,
                &[("rewrapped", &done.rewrapped.to_string())],
            )
            .await?;
            if json {
                println!(
                    "{}",
                    json!({ "rewrapped": done.rewrapped, "raced": done.raced, "current": ring.current_version() })
                );
            } else {
                println!(
                    "{} data key(s) rewrapped under master key version {}{}",
                    done.rewrapped,
                    ring.current_version(),
                    if done.raced > 0 {
                        format!("; {} changed meanwhile, run it again", done.raced)
                    } else {
                        String::new()
                    }
                );
            }
        }
        Command::Import {
            input,
            json,
            location,
        } => {
            use anyhow::Context as _;
            use std::io::Read as _;
            let config = location.load().map_err(|p| problems_error(&p))?;
            let mut text = String::new();
            if input.as_os_str() == "-" {
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("reading standard input")?;
            } else {
                text = std::fs::read_to_string(&input)
                    .with_context(|| format!("reading {}", input.display()))?;
            }
            let sealed = amanah_crypto::base64::decode_standard_padded(text.trim().as_bytes())
                .ok_or_else(|| {
                    anyhow::anyhow!("the input is not standard base64 of a sealed master key")
                })?;
            let version = keyring(&config).await?.import_sealed(&sealed).await?;
            audit(
                &config,
                "keyring.import",
                "keyring",
                Success,
                &[("version", &version.to_string())],
            )
            .await?;
            if json {
                println!("{}", json!({ "current": version }));
            } else {
                println!("imported master key version {version}; it is current for new data keys");
            }
        }
        Command::Retire { version, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            keyring(&config).await?.retire_below(version).await?;
            audit(
                &config,
                "keyring.retire",
                "keyring",
                Success,
                &[("below", &version.to_string())],
            )
            .await?;
            println!("master keys older than version {version} no longer decrypt");
        }
    }
    Ok(ExitCode::SUCCESS)
}
