//! `amanah keys create|list|revoke`.

use std::process::ExitCode;

use amanah_gateway::keys::now_unix;
use amanah_store::RevokeOutcome;
use serde_json::json;

use crate::context::{key_service, problems_error, Location};
use crate::time::{parse_duration, rfc3339};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a key; the key is printed once and never again.
    Create {
        /// A name to recognise the key by.
        #[arg(long)]
        name: String,
        /// Role granted to the key (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Lifetime, e.g. 30d, 12h (default: keys.default_ttl_days, 90 days).
        #[arg(long, value_parser = parse_duration)]
        expires: Option<std::time::Duration>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// List keys, masked.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Revoke a key by id; a running gateway refuses it within 1 s.
    Revoke {
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Create {
            name,
            roles,
            expires,
            json,
            location,
        } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let keys = key_service(&config)?;
            let now = now_unix();
            let (key, info) = keys
                .create(
                    &name,
                    &roles,
                    expires.unwrap_or(config.keys.default_ttl),
                    now,
                )
                .await?;
            if json {
                println!(
                    "{}",
                    json!({
                        "id": info.id, "key": key.plaintext.expose(), "name": info.name,
                        "roles": info.roles, "expires_at": rfc3339(info.expires_at),
                    })
                );
            } else {
                println!(
                    "Created key {} \"{}\" (roles: {}; expires {})\n",
                    info.id,
                    info.name,
                    info.roles.join(", "),
                    rfc3339(info.expires_at)
                );
                println!("  {}\n", key.plaintext.expose());
                println!(
                    "Store it now: Amanah keeps only a keyed hash and will never show it again."
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::List { json, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let list = key_service(&config)?.list(now_unix()).await?;
            if json {
                let rows: Vec<_> = list
                    .iter()
                    .map(|k| {
                        json!({
                            "id": k.id, "name": k.name, "roles": k.roles, "key": k.masked,
                            "status": k.status, "created_at": rfc3339(k.created_at),
                            "expires_at": rfc3339(k.expires_at),
                            "revoked_at": k.revoked_at.map(rfc3339),
                            "last_used_at": k.last_used_at.map(rfc3339),
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if list.is_empty() {
                println!("no keys");
            } else {
                println!(
                    "{:<8}  {:<20}  {:<24}  {:<8}  {:<20}  {:<20}  NAME",
                    "ID", "KEY", "ROLES", "STATUS", "EXPIRES", "LAST USED"
                );
                for k in &list {
                    println!(
                        "{:<8}  {:<20}  {:<24}  {:<8}  {:<20}  {:<20}  {}",
                        k.id,
                        k.masked,
                        k.roles.join(","),
                        k.status,
                        rfc3339(k.expires_at),
                        k.last_used_at.map_or_else(|| "never".to_owned(), rfc3339),
                        k.name
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Revoke { id, json, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let outcome = key_service(&config)?.revoke(&id, now_unix()).await?;
            let (word, code) = match outcome {
                RevokeOutcome::Revoked => ("revoked", ExitCode::SUCCESS),
                RevokeOutcome::AlreadyRevoked => ("already_revoked", ExitCode::SUCCESS),
                RevokeOutcome::NotFound => ("not_found", ExitCode::FAILURE),
            };
            if json {
                println!("{}", json!({"id": id, "result": word}));
            } else {
                match outcome {
                    RevokeOutcome::Revoked => println!("revoked key {id}"),
                    RevokeOutcome::AlreadyRevoked => println!("key {id} was already revoked"),
                    RevokeOutcome::NotFound => eprintln!("error: no key with id {id}"),
                }
            }
            Ok(code)
        }
    }
}
