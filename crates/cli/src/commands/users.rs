//! `amanah users create|list|show|set-roles|disable|enable|lock|unlock|
//! reset-password|reset-mfa|revoke-sessions`.

use std::process::ExitCode;
use std::time::Duration;

use amanah_gateway::config::Config;
use amanah_gateway::keys::now_unix;
use amanah_gateway::users::{UserError, UserInfo, UserService};
use serde_json::json;

use amanah_audit::Outcome::Success;

use crate::context::{access, audit, problems_error, user_service, Location};
use crate::time::{parse_duration, rfc3339};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a user without a password; prints a one-time setup token.
    Create {
        /// 1 to 64 of a-z, 0-9, '.', '_', '@' and '-' (stored lowercased).
        username: String,
        /// Role the user holds (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// List users.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Show one user.
    Show(Target),
    /// Replace a user's roles.
    SetRoles {
        username: String,
        /// Role the user holds (repeat for several); replaces all current ones.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Disable a user and end their sessions.
    Disable(Target),
    /// Enable a disabled user.
    Enable(Target),
    /// Lock a user for a while and end their sessions.
    Lock {
        username: String,
        /// How long the lock lasts, e.g. 30m, 12h, 7d.
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration, default_value = "24h")]
        period: Duration,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Lift a lock and forget the failed sign-ins counted so far.
    Unlock(Target),
    /// Remove a forgotten password; prints a new one-time setup token.
    ResetPassword(Target),
    /// Remove a lost second factor; the user enrolls again at the next sign-in.
    ResetMfa(Target),
    /// End every session of a user.
    RevokeSessions(Target),
}

/// A command that acts on one user.
#[derive(Debug, clap::Args)]
pub struct Target {
    username: String,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    location: Location,
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Create {
            username,
            roles,
            json,
            location,
        } => {
            let (config, users) = open(&location)?;
            check_roles(&config, &roles).await?;
            let now = now_unix();
            let (info, token) = users.create(&username, &roles, now).await?;
            let user = format!("user:{}", info.username);
            audit(
                &config,
                "user.create",
                &user,
                Success,
                &[("roles", &info.roles.join(","))],
            )
            .await?;
            let setup_expires_at = now.saturating_add(secs(config.users.setup_token_ttl));
            if json {
                println!(
                    "{}",
                    json!({
                        "user": info, "setup_token": token.expose(),
                        "setup_expires_at": setup_expires_at,
                    })
                );
            } else {
                println!(
                    "Created user {} (roles: {}; status: {})\n",
                    info.username,
                    info.roles.join(", "),
                    info.status.as_str()
                );
                println!("  {}\n", token.expose());
                print_setup_help(&info.username, setup_expires_at);
            }
        }
        Command::List { json, location } => {
            let (_, users) = open(&location)?;
            let list = users.list(now_unix()).await?;
            if json {
                println!("{}", serde_json::to_value(&list)?);
            } else if list.is_empty() {
                println!("no users; `amanah users create NAME --role admin` makes the first");
            } else {
                println!(
                    "{:<24}  {:<13}  {:<24}  {:<8}  {:<20}  {:<20}  ID",
                    "USERNAME", "STATUS", "ROLES", "MFA", "LOCKED UNTIL", "CREATED"
                );
                for u in &list {
                    println!(
                        "{:<24}  {:<13}  {:<24}  {:<8}  {:<20}  {:<20}  {}",
                        u.username,
                        u.status.as_str(),
                        u.roles.join(","),
                        mfa_word(u),
                        u.locked_until.map_or_else(|| "-".to_owned(), rfc3339),
                        rfc3339(u.created_at),
                        u.id
                    );
                }
            }
        }
        Command::Show(t) => {
            let (_, users) = open(&t.location)?;
            let info = users
                .get(&t.username, now_unix())
                .await
                .map_err(no_such_user(&t.username))?;
            if t.json {
                println!("{}", serde_json::to_value(&info)?);
            } else {
                print_user(&info);
            }
        }
        Command::SetRoles {
            username,
            roles,
            json,
            location,
        } => {
            let (config, users) = open(&location)?;
            check_roles(&config, &roles).await?;
            let info = users
                .set_roles(&username, &roles, now_unix())
                .await
                .map_err(no_such_user(&username))?;
            let user = format!("user:{}", info.username);
            audit(
                &config,
                "user.roles",
                &user,
                Success,
                &[("roles", &info.roles.join(","))],
            )
            .await?;
            if json {
                println!("{}", serde_json::to_value(&info)?);
            } else {
                println!(
                    "user {} now has roles: {}",
                    info.username,
                    info.roles.join(", ")
                );
            }
        }
        Command::Disable(t) => {
            let (config, users) = open(&t.location)?;
            let now = now_unix();
            users
                .disable(&t.username, now)
                .await
                .map_err(no_such_user(&t.username))?;
            audited_user(&config, "user.disable", &t.username, &[]).await?;
            let info = users.get(&t.username, now).await?;
            if t.json {
                println!(
                    "{}",
                    json!({"username": info.username, "status": info.status})
                );
            } else {
                println!("disabled user {}; their sessions are ended", info.username);
            }
        }
        Command::Enable(t) => {
            let (config, users) = open(&t.location)?;
            let now = now_unix();
            users
                .enable(&t.username, now)
                .await
                .map_err(no_such_user(&t.username))?;
            audited_user(&config, "user.enable", &t.username, &[]).await?;
            let info = users.get(&t.username, now).await?;
            if t.json {
                println!(
                    "{}",
                    json!({"username": info.username, "status": info.status})
                );
            } else {
                println!(
                    "enabled user {} (status: {})",
                    info.username,
                    info.status.as_str()
                );
            }
        }
        Command::Lock {
            username,
            period,
            json,
            location,
        } => {
            if period.is_zero() {
                anyhow::bail!("--for must be at least 1s");
            }
            let (config, users) = open(&location)?;
            let now = now_unix();
            let until = now.saturating_add(secs(period));
            users
                .lock(&username, until, now)
                .await
                .map_err(no_such_user(&username))?;
            audited_user(
                &config,
                "user.lock",
                &username,
                &[("locked_until", &until.to_string())],
            )
            .await?;
            let info = users.get(&username, now).await?;
            if json {
                println!(
                    "{}",
                    json!({
                        "username": info.username, "status": info.status,
                        "locked_until": until,
                    })
                );
            } else {
                println!(
                    "locked user {} until {}; their sessions are ended",
                    info.username,
                    rfc3339(until)
                );
            }
        }
        Command::Unlock(t) => {
            let (config, users) = open(&t.location)?;
            let now = now_unix();
            users
                .unlock(&t.username, now)
                .await
                .map_err(no_such_user(&t.username))?;
            audited_user(&config, "user.unlock", &t.username, &[]).await?;
            let info = users.get(&t.username, now).await?;
            if t.json {
                println!(
                    "{}",
                    json!({
                        "username": info.username, "status": info.status,
                        "locked_until": info.locked_until,
                    })
                );
            } else {
                println!(
                    "unlocked user {} (status: {})",
                    info.username,
                    info.status.as_str()
                );
            }
        }
        Command::ResetPassword(t) => {
            let (config, users) = open(&t.location)?;
            let now = now_unix();
            let token = users
                .reset_password(&t.username, now)
                .await
                .map_err(no_such_user(&t.username))?;
            audited_user(&config, "user.reset_password", &t.username, &[]).await?;
            let info = users.get(&t.username, now).await?;
            let setup_expires_at = now.saturating_add(secs(config.users.setup_token_ttl));
            if t.json {
                println!(
                    "{}",
                    json!({
                        "username": info.username, "setup_token": token.expose(),
                        "setup_expires_at": setup_expires_at,
                    })
                );
            } else {
                println!(
                    "The password of {} is removed and their sessions are ended; a new setup token:\n",
                    info.username
                );
                println!("  {}\n", token.expose());
                print_setup_help(&info.username, setup_expires_at);
            }
        }
        Command::ResetMfa(t) => {
            let (config, users) = open(&t.location)?;
            let now = now_unix();
            users
                .reset_mfa(&t.username, now)
                .await
                .map_err(no_such_user(&t.username))?;
            audited_user(&config, "user.reset_mfa", &t.username, &[]).await?;
            let info = users.get(&t.username, now).await?;
            if t.json {
                println!(
                    "{}",
                    json!({"username": info.username, "mfa_enabled": info.mfa_enabled})
                );
            } else {
                println!(
                    "removed the second factor of {}; their sessions are ended{}",
                    info.username,
                    if info.mfa_required {
                        " and they must enroll again at the next sign-in"
                    } else {
                        ""
                    }
                );
            }
        }
        Command::RevokeSessions(t) => {
            let (config, users) = open(&t.location)?;
            let revoked = users
                .revoke_sessions(&t.username, now_unix())
                .await
                .map_err(no_such_user(&t.username))?;
            audited_user(
                &config,
                "user.revoke_sessions",
                &t.username,
                &[("sessions", &revoked.to_string())],
            )
            .await?;
            let username = t.username.to_ascii_lowercase();
            if t.json {
                println!(
                    "{}",
                    json!({"username": username, "revoked_sessions": revoked})
                );
            } else {
                println!("ended {revoked} session(s) of {username}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the audit event of a change to `username`'s account.
async fn audited_user(
    config: &Config,
    action: &str,
    username: &str,
    details: &[(&str, &str)],
) -> anyhow::Result<()> {
    let user = format!("user:{}", username.to_ascii_lowercase());
    audit(config, action, &user, Success, details).await
}

fn open(location: &Location) -> anyhow::Result<(Config, UserService)> {
    let config = location.load().map_err(|p| problems_error(&p))?;
    let users = user_service(&config)?;
    Ok((config, users))
}

/// The user service checks only that role names are well formed; a role the
/// policy does not define would grant nothing, so it is refused here.
async fn check_roles(config: &Config, roles: &[String]) -> anyhow::Result<()> {
    let policy = access(config)?.policy().await?;
    if let Some(unknown) = roles.iter().find(|r| !policy.knows_role(r)) {
        anyhow::bail!("no role named `{unknown}`; `amanah roles list` shows the roles there are");
    }
    Ok(())
}

/// Names the user in the one error a typo causes.
fn no_such_user(username: &str) -> impl FnOnce(UserError) -> anyhow::Error + '_ {
    move |e| match e {
        UserError::NotFound => anyhow::anyhow!(
            "no such user `{username}`; `amanah users list` shows the users there are"
        ),
        other => other.into(),
    }
}

fn print_setup_help(username: &str, expires_at: i64) {
    println!(
        "This setup token is shown once: Amanah keeps only a keyed hash of it. It works once, \
         until {}, to set the password of {username}:\n\n  \
         POST /admin/v1/setup with {{\"username\": \"{username}\", \"setup_token\": \"<the token>\", \
         \"password\": \"<the new password>\"}}",
        rfc3339(expires_at)
    );
}

fn print_user(u: &UserInfo) {
    println!("user       {}", u.username);
    println!("id         {}", u.id);
    println!("status     {}", u.status.as_str());
    println!("roles      {}", u.roles.join(", "));
    let mfa = match (u.mfa_enabled, u.recovery_codes_left) {
        (true, Some(left)) => format!("enabled ({left} recovery codes left)"),
        (true, None) => "enabled".to_owned(),
        (false, _) if u.mfa_required => "not enrolled (required by the roles)".to_owned(),
        (false, _) => "not enrolled".to_owned(),
    };
    println!("mfa        {mfa}");
    if let Some(until) = u.locked_until {
        println!("locked     until {}", rfc3339(until));
    }
    if let Some(at) = u.disabled_at {
        println!("disabled   since {}", rfc3339(at));
    }
    println!("created    {}", rfc3339(u.created_at));
    println!("updated    {}", rfc3339(u.updated_at));
}

fn mfa_word(u: &UserInfo) -> &'static str {
    match (u.mfa_enabled, u.mfa_required) {
        (true, _) => "on",
        (false, true) => "required",
        (false, false) => "off",
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
