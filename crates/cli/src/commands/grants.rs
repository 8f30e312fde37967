//! `amanah grants list|add|revoke`.

use std::process::ExitCode;
use std::time::Duration;

use amanah_gateway::config::Config;
use amanah_gateway::keys::now_unix;
use amanah_store::GrantRecord;
use serde_json::json;

use amanah_audit::Outcome::Success;

use crate::context::{access, audit, key_service, problems_error, user_service, Location};
use crate::time::{parse_duration, parse_timestamp, rfc3339};

/// Who made a grant through the command line.
const CREATED_BY: &str = "cli";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List grants, oldest first.
    List {
        /// Only the grants of this principal: key:<id> or user:<id>.
        #[arg(long)]
        principal: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Grant a role to an API key or a user, for good or for a while.
    Add {
        /// Who receives the role: key:<id> or user:<id> (ids as `keys list` and `users list` show them).
        #[arg(long)]
        principal: String,
        /// The role granted.
        #[arg(long)]
        role: String,
        /// When the grant starts: RFC 3339 (2026-05-01T09:00:00Z, ...+02:00) or Unix seconds (default: now).
        #[arg(long, value_name = "TIME", value_parser = parse_timestamp)]
        not_before: Option<i64>,
        /// When the grant ends (exclusive): RFC 3339 or Unix seconds (default: never).
        #[arg(long, value_name = "TIME", value_parser = parse_timestamp, conflicts_with = "period")]
        not_after: Option<i64>,
        /// How long the grant lasts from its start (now, or --not-before), e.g. 8h, 7d.
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
        period: Option<Duration>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Revoke a grant by id; a running gateway stops honouring it within 1 s.
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
        Command::List {
            principal,
            json,
            location,
        } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let grants = access(&config)?.list_grants(principal.as_deref()).await?;
            let now = now_unix();
            if json {
                let rows: Vec<_> = grants.iter().map(|g| grant_json(g, now)).collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if grants.is_empty() {
                println!("no grants");
            } else {
                println!(
                    "{:<18}  {:<21}  {:<16}  {:<9}  {:<20}  {:<20}  BY",
                    "ID", "PRINCIPAL", "ROLE", "STATUS", "FROM", "UNTIL"
                );
                for g in &grants {
                    println!(
                        "{:<18}  {:<21}  {:<16}  {:<9}  {:<20}  {:<20}  {}",
                        g.id,
                        g.principal,
                        g.role,
                        status(g, now),
                        g.not_before.map_or_else(|| "-".to_owned(), rfc3339),
                        g.not_after.map_or_else(|| "never".to_owned(), rfc3339),
                        g.created_by
                    );
                }
            }
        }
        Command::Add {
            principal,
            role,
            not_before,
            not_after,
            period,
            json,
            location,
        } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let now = now_unix();
            let not_after = match period {
                Some(d) if d.is_zero() => anyhow::bail!("--for must be at least 1s"),
                Some(d) => {
                    let start = not_before.map_or(now, |t| t.max(now));
                    Some(start.saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)))
                }
                None => not_after,
            };
            check_principal(&config, &principal, now).await?;
            let grant = access(&config)?
                .grant(&principal, &role, not_before, not_after, CREATED_BY, now)
                .await?;
            audit(
                &config,
                "grant.create",
                &format!("grant:{}", grant.id),
                Success,
                &[("role", &grant.role), ("principal", &grant.principal)],
            )
            .await?;
            if json {
                println!("{}", grant_json(&grant, now));
            } else {
                println!(
                    "granted role {} to {} from {} until {} (grant {})",
                    grant.role,
                    grant.principal,
                    grant.not_before.map_or_else(|| "now".to_owned(), rfc3339),
                    grant
                        .not_after
                        .map_or_else(|| "revoked".to_owned(), rfc3339),
                    grant.id
                );
            }
        }
        Command::Revoke { id, json, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            if !access(&config)?.revoke_grant(&id).await? {
                anyhow::bail!(
                    "no grant with id `{id}`; `amanah grants list` shows the grants there are"
                );
            }
            audit(
                &config,
                "grant.revoke",
                &format!("grant:{id}"),
                Success,
                &[],
            )
            .await?;
            if json {
                println!("{}", json!({"id": id, "revoked": true}));
            } else {
                println!("revoked grant {id}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The store takes any `key:<id>` or `user:<id>`; a grant to an id that
/// names nobody would silently grant nothing, and `user:<username>` is the
/// likely slip, so both are refused here with the id to use.
async fn check_principal(config: &Config, principal: &str, now: i64) -> anyhow::Result<()> {
    match principal.split_once(':') {
        Some(("key", id)) if !id.is_empty() => {
            let keys = key_service(config)?.list(now).await?;
            if !keys.iter().any(|k| k.id == id) {
                anyhow::bail!("no key with id `{id}`; `amanah keys list` shows the key ids");
            }
        }
        Some(("user", id)) if !id.is_empty() => {
            let users = user_service(config)?.list(now).await?;
            if users.iter().any(|u| u.id == id) {
                return Ok(());
            }
            if let Some(u) = users.iter().find(|u| u.username == id.to_ascii_lowercase()) {
                anyhow::bail!(
                    "`{principal}` names a user by id, not by name; for {} write user:{}",
                    u.username,
                    u.id
                );
            }
            anyhow::bail!("no user with id `{id}`; `amanah users list` shows the user ids");
        }
        // The access service explains the format.
        _ => {}
    }
    Ok(())
}

/// `scheduled`, `active` or `expired` at `now`.
fn status(g: &GrantRecord, now: i64) -> &'static str {
    if g.not_before.is_some_and(|t| now < t) {
        "scheduled"
    } else if g.not_after.is_some_and(|t| t <= now) {
        "expired"
    } else {
        "active"
    }
}

fn grant_json(g: &GrantRecord, now: i64) -> serde_json::Value {
    json!({
        "id": g.id, "principal": g.principal, "role": g.role, "status": status(g, now),
        "not_before": g.not_before.map(rfc3339), "not_after": g.not_after.map(rfc3339),
        "created_at": rfc3339(g.created_at), "created_by": g.created_by,
    })
}
