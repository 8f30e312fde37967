//! `amanah incident lockdown|revoke|report`: contain an incident and
//! gather what a breach notification needs (docs/INCIDENT_RUNBOOK.md).

use std::process::ExitCode;
use std::sync::Arc;

use amanah_audit::{Event, Outcome};
use amanah_gateway::incident::{self, Report, Revoked};
use amanah_store::AuditStore;
use anyhow::Context as _;

use super::audit::printable;
use crate::context::{self, problems_error, Location};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Answer 503 to everyone but administrators (every gateway on this store follows within a second), or end it.
    Lockdown {
        #[arg(value_parser = ["on", "off"])]
        state: String,
        #[command(flatten)]
        location: Location,
    },
    /// Revoke credentials: every API key and admin session, one key, or one user (sessions ended, account disabled).
    Revoke {
        #[arg(long, conflicts_with_all = ["key", "user"], required_unless_present_any = ["key", "user"])]
        all: bool,
        #[arg(long, value_name = "ID", conflicts_with = "user")]
        key: Option<String>,
        #[arg(long, value_name = "USERNAME")]
        user: Option<String>,
        #[command(flatten)]
        location: Location,
    },
    /// Which keys, users, subjects and records the audit log shows touched since a time.
    Report {
        /// RFC 3339, Unix seconds, or a duration ago (72h, 7d).
        #[arg(long, value_name = "TIME")]
        since: String,
        /// Also say whether this data subject was touched (the log holds only a keyed hash of subject ids).
        #[arg(long, value_name = "ID")]
        subject: Vec<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Lockdown { state, location } => lockdown(state == "on", &location).await,
        Command::Revoke {
            all,
            key,
            user,
            location,
        } => revoke(all, key, user, &location).await,
        Command::Report {
            since,
            subject,
            json,
            location,
        } => report(&since, &subject, json, &location).await,
    }
}

async fn lockdown(on: bool, location: &Location) -> anyhow::Result<ExitCode> {
    let config = location.load().map_err(|p| problems_error(&p))?;
    let store = amanah_gateway::open_embedded_store(&config.data_dir)?;
    let state = if on { "on" } else { "off" };
    incident::set_lockdown(
        &store,
        on,
        &context::cli_actor(),
        amanah_gateway::keys::now_unix(),
    )
    .await?;
    context::audit(
        &config,
        "incident.lockdown",
        "gateway",
        Outcome::Success,
        &[("state", state)],
    )
    .await?;
    if on {
        println!(
            "Lockdown on: every gateway on this store answers 503 to all but administrators within {} s.",
            incident::LOCKDOWN_POLL.as_secs()
        );
        println!("End it with: amanah incident lockdown off");
    } else {
        println!("Lockdown off: traffic is served again.");
    }
    Ok(ExitCode::SUCCESS)
}

async fn revoke(
    all: bool,
    key: Option<String>,
    user: Option<String>,
    location: &Location,
) -> anyhow::Result<ExitCode> {
    let config = location.load().map_err(|p| problems_error(&p))?;
    let keys = context::key_service(&config)?;
    let now = amanah_gateway::keys::now_unix();
    let (revoked, resource): (Revoked, String) = match (all, key, user) {
        (true, _, _) => {
            let users = context::user_service(&config)?;
            (
                incident::revoke_all(&keys, &users, now).await?,
                "all".into(),
            )
        }
        (_, Some(id), _) => (
            incident::revoke_key(&keys, &id, now).await?,
            format!("key:{id}"),
        ),
        (_, _, Some(name)) => {
            let users = context::user_service(&config)?;
            (
                incident::revoke_user(&users, &name, now).await?,
                format!("user:{}", name.to_ascii_lowercase()),
            )
        }
        _ => anyhow::bail!("say what to revoke: --all, --key ID or --user USERNAME"),
    };
    let keys_n = revoked.keys.len().to_string();
    let sessions_n = revoked.sessions.to_string();
    context::audit(
        &config,
        "incident.revoke",
        &resource,
        Outcome::Success,
        &[("keys", &keys_n), ("sessions", &sessions_n)],
    )
    .await?;
    println!(
        "Revoked {} API key(s) and {} admin session(s){}.",
        revoked.keys.len(),
        revoked.sessions,
        if revoked.users.is_empty() {
            String::new()
        } else {
            format!("; disabled {}", revoked.users.join(", "))
        }
    );
    for id in &revoked.keys {
        println!("  key {id}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn report(
    since: &str,
    subjects: &[String],
    json: bool,
    location: &Location,
) -> anyhow::Result<ExitCode> {
    let config = location.load().map_err(|p| problems_error(&p))?;
    let since_ms = super::audit::parse_since(since).map_err(anyhow::Error::msg)?;
    let store: Arc<dyn AuditStore> = Arc::new(super::audit::open_store(&config)?);
    let mut report = Report::new(since_ms);
    let mut after = 0;
    loop {
        let page = store.events_by_row(after, 10_000).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, row) in page.iter().filter(|(_, r)| r.time_unix_ms >= since_ms) {
            let event = Event::from_json(&row.event).with_context(|| {
                format!(
                    "audit event {} does not parse; run amanah audit verify",
                    row.seq
                )
            })?;
            report.add(&event);
        }
    }
    let secret = amanah_gateway::server_secret(&config).map_err(|p| problems_error(&p))?;
    let hasher = amanah_gateway::audit::detail_hasher(secret.expose().as_bytes())?;
    let checked: Vec<(String, u64)> = subjects
        .iter()
        .map(|s| {
            let hash = incident::subject_hash(&hasher, s);
            (s.clone(), report.subjects.get(&hash).copied().unwrap_or(0))
        })
        .collect();

    if json {
        let mut value = serde_json::to_value(&report)?;
        value["checked_subjects"] = checked
            .iter()
            .map(|(s, n)| serde_json::json!({"subject": s, "events": n}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    print_report(&report, &checked);
    Ok(ExitCode::SUCCESS)
}

fn print_report(r: &Report, checked: &[(String, u64)]) {
    let time = |ms: i64| crate::time::rfc3339(ms.div_euclid(1000));
    println!("Incident report since {}", time(r.since_unix_ms));
    match (r.first_seq, r.last_seq) {
        (Some(a), Some(b)) => println!("{} audit events, seq {a} to {b}", r.events),
        _ => println!("no audit events in this window"),
    }
    println!("\nActors ({}):", r.actors.len());
    let list = |items: &std::collections::BTreeSet<String>| {
        items
            .iter()
            .map(|i| printable(i).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (actor, a) in &r.actors {
        println!(
            "  {}: {} events, {} refused; from {}; {}",
            printable(actor),
            a.events,
            a.refused,
            list(&a.addresses),
            list(&a.actions)
        );
    }
    println!(
        "\nData subjects touched: {} (ids are kept only as keyed hashes)",
        r.subjects.len()
    );
    for (subject, n) in checked {
        println!(
            "  {}: {}",
            printable(subject),
            if *n == 0 {
                "not touched".to_owned()
            } else {
                format!("touched by {n} event(s)")
            }
        );
    }
    println!("\nRecords touched ({}):", r.records.len());
    for (id, actions) in &r.records {
        println!("  {}: {}", printable(id), list(actions));
    }
    println!(
        "\nChanges to keys, users, roles, grants and lockdown ({}):",
        r.changes.len()
    );
    for c in &r.changes {
        println!(
            "  #{} {} {} {} {} ({})",
            c.seq,
            time(c.time_unix_ms),
            printable(&c.actor),
            printable(&c.action),
            printable(&c.resource),
            c.outcome
        );
    }
    println!("\nFailed authentications by address:");
    for (ip, n) in &r.auth_failures_by_ip {
        println!("  {}: {n}", printable(ip));
    }
}
