//! `amanah keys create|list|rotate|revoke`.

use std::process::ExitCode;

use amanah_gateway::keys::{now_unix, KeySpec};
use amanah_store::{RevokeOutcome, ServiceBinding};
use serde_json::json;

use amanah_audit::Outcome::Success;

use crate::context::{access, audit, key_service, problems_error, Location};
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
        /// Limit the key to a route, by name (repeat for several; default: every route).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Make a service key for this service (with --instance): one live key per instance.
        #[arg(long, requires = "instance")]
        service: Option<String>,
        /// The server or region a service key belongs to.
        #[arg(long, requires = "service")]
        instance: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Replace a key by a new one; the old key keeps working for the grace period.
    Rotate {
        id: String,
        /// How long the old key keeps working (default: keys.rotation_grace_secs, 24h).
        #[arg(long, value_parser = parse_duration)]
        grace: Option<std::time::Duration>,
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
            scopes,
            service,
            instance,
            json,
            location,
        } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let keys = key_service(&config)?;
            let policy = access(&config)?.policy().await?;
            if let Some(unknown) = roles.iter().find(|r| !policy.knows_role(r)) {
                anyhow::bail!(
                    "no role named `{unknown}`; `amanah roles list` shows the roles there are"
                );
            }
            if let Some(unknown) = scopes
                .iter()
                .find(|s| !config.routes.iter().any(|r| &r.name == *s))
            {
                anyhow::bail!("no route named `{unknown}` in the configuration");
            }
            let now = now_unix();
            let mut spec = KeySpec::new(name, &roles, expires.unwrap_or(config.keys.default_ttl));
            spec.scopes = (!scopes.is_empty()).then_some(scopes);
            spec.service = service
                .zip(instance)
                .map(|(service, instance)| ServiceBinding { service, instance });
            let (key, info) = keys.create(&spec, now).await?;
            // Before the secret is shown: a key the log does not hold is
            // never handed out.
            audit(
                &config,
                "key.create",
                &format!("key:{}", info.id),
                Success,
                &[("roles", &info.roles.join(","))],
            )
            .await?;
            if json {
                println!(
                    "{}",
                    json!({
                        "id": info.id, "key": key.plaintext.expose(), "name": info.name,
                        "roles": info.roles, "expires_at": rfc3339(info.expires_at),
                        "scopes": info.scopes, "service": info.service, "instance": info.instance,
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
                            "last_used_ip": k.last_used_ip, "scopes": k.scopes,
                            "service": k.service, "instance": k.instance,
                            "replaced_by": k.replaced_by,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if list.is_empty() {
                println!("no keys");
            } else {
                println!(
                    "{:<8}  {:<20}  {:<24}  {:<8}  {:<20}  {:<20}  {:<15}  NAME",
                    "ID", "KEY", "ROLES", "STATUS", "EXPIRES", "LAST USED", "FROM"
                );
                for k in &list {
                    let mut name = k.name.clone();
                    if let (Some(s), Some(i)) = (&k.service, &k.instance) {
                        name.push_str(&format!(" [service {s} @ {i}]"));
                    }
                    if let Some(scopes) = &k.scopes {
                        name.push_str(&format!(" [routes: {}]", scopes.join(",")));
                    }
                    println!(
                        "{:<8}  {:<20}  {:<24}  {:<8}  {:<20}  {:<20}  {:<15}  {}",
                        k.id,
                        k.masked,
                        k.roles.join(","),
                        k.status,
                        rfc3339(k.expires_at),
                        k.last_used_at.map_or_else(|| "never".to_owned(), rfc3339),
                        k.last_used_ip.as_deref().unwrap_or("-"),
                        name
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rotate {
            id,
            grace,
            json,
            location,
        } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let keys = key_service(&config)?;
            let rotated = keys
                .rotate(&id, grace.unwrap_or(config.keys.rotation_grace), now_unix())
                .await?;
            audit(
                &config,
                "key.rotate",
                &format!("key:{id}"),
                Success,
                &[("successor", &rotated.info.id)],
            )
            .await?;
            if json {
                println!(
                    "{}",
                    json!({
                        "id": rotated.info.id, "key": rotated.key.plaintext.expose(),
                        "replaces": id, "old_key_expires_at": rfc3339(rotated.old_expires_at),
                        "revoked_successor": rotated.revoked_successor,
                    })
                );
            } else {
                println!(
                    "Key {id} is replaced by {}; {id} keeps working until {}.\n",
                    rotated.info.id,
                    rfc3339(rotated.old_expires_at)
                );
                println!("  {}\n", rotated.key.plaintext.expose());
                if let Some(previous) = &rotated.revoked_successor {
                    println!("The successor of an earlier rotation, {previous}, is revoked.");
                }
                println!(
                    "Store it now: Amanah keeps only a keyed hash and will never show it again."
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Revoke { id, json, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let outcome = key_service(&config)?.revoke(&id, now_unix()).await?;
            if outcome == RevokeOutcome::Revoked {
                audit(&config, "key.revoke", &format!("key:{id}"), Success, &[]).await?;
            }
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
