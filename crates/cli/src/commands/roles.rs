//! `amanah roles list|show|put|delete`.

use std::process::ExitCode;

use amanah_gateway::config::Config;
use amanah_gateway::keys::now_unix;
use amanah_store::RoleRecord;
use anyhow::Context as _;
use serde_json::json;

use amanah_audit::Outcome::Success;

use crate::context::{access, audit, problems_error, Location};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List every role: predefined, from the configuration file, and custom ones in the store.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Show one role and everything it may do, inherited permissions included.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Create or replace a custom role in the store.
    Put {
        /// 1 to 64 of a-z, 0-9, _ and -; not a predefined role's name.
        name: String,
        /// A permission, `resource:action` (`*` allowed); repeat for several.
        #[arg(long = "permission", required_unless_present = "inherits")]
        permissions: Vec<String>,
        /// A role whose permissions this role also holds; repeat for several.
        #[arg(long = "inherits")]
        inherits: Vec<String>,
        /// Free text shown by the admin API and console.
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Delete a custom role; roles inheriting it must be changed first.
    Delete {
        name: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
}

/// A [`Role`] from a policy's role view. A macro, because the view's type
/// belongs to `amanah-policy`, which the binary reaches only through the
/// gateway.
macro_rules! role_of {
    ($view:expr, $config:expr) => {{
        let view = $view;
        let strings = |ps: &[_]| ps.iter().map(ToString::to_string).collect::<Vec<String>>();
        Role {
            name: view.name().to_owned(),
            description: view.description().to_owned(),
            source: Role::source(view.name(), view.is_predefined(), $config),
            permissions: strings(view.permissions()),
            inherits: view.inherits().to_vec(),
            effective: strings(view.effective_permissions()),
        }
    }};
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::List { json, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let policy = access(&config)?.policy().await?;
            let roles: Vec<_> = policy
                .roles()
                .iter()
                .map(|r| role_of!(r, &config))
                .collect();
            if json {
                let rows: Vec<_> = roles.iter().map(Role::json).collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!(
                    "{:<20}  {:<10}  {:<20}  EFFECTIVE PERMISSIONS",
                    "NAME", "SOURCE", "INHERITS"
                );
                for r in &roles {
                    println!(
                        "{:<20}  {:<10}  {:<20}  {}",
                        r.name,
                        r.source,
                        or_dash(&r.inherits.join(",")),
                        r.effective.join(", ")
                    );
                }
            }
        }
        Command::Show {
            name,
            json,
            location,
        } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let policy = access(&config)?.policy().await?;
            let role = policy.role(&name).ok_or_else(|| no_such_role(&name))?;
            let role = role_of!(role, &config);
            if json {
                println!("{}", role.json());
            } else {
                role.print();
            }
        }
        Command::Put {
            name,
            permissions,
            inherits,
            description,
            json,
            location,
        } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let access = access(&config)?;
            if access
                .policy()
                .await?
                .role(&name)
                .is_some_and(|r| r.is_predefined())
            {
                anyhow::bail!("`{name}` is a predefined role and cannot be changed");
            }
            let now = now_unix();
            let created_at = access
                .list_roles()
                .await?
                .iter()
                .find(|r| r.name == name)
                .map_or(now, |r| r.created_at);
            access
                .put_role(RoleRecord {
                    name: name.clone(),
                    description,
                    permissions,
                    inherits,
                    created_at,
                    updated_at: now,
                })
                .await
                .with_context(|| format!("cannot save role `{name}`"))?;
            audit(&config, "role.put", &format!("role:{name}"), Success, &[]).await?;
            let policy = access.policy().await?;
            let role = policy
                .role(&name)
                .context("the role was saved but the policy does not show it")?;
            let role = role_of!(role, &config);
            if json {
                println!("{}", role.json());
            } else {
                println!(
                    "saved role {}{}; it may: {}",
                    role.name,
                    if role.inherits.is_empty() {
                        String::new()
                    } else {
                        format!(" (inherits {})", role.inherits.join(", "))
                    },
                    or_dash(&role.effective.join(", "))
                );
            }
        }
        Command::Delete {
            name,
            json,
            location,
        } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let access = access(&config)?;
            let policy = access.policy().await?;
            if policy.role(&name).is_some_and(|r| r.is_predefined()) {
                anyhow::bail!("`{name}` is a predefined role and cannot be deleted");
            }
            if let Some(child) = policy.roles().iter().find(|r| r.inherits().contains(&name)) {
                anyhow::bail!(
                    "role `{}` inherits `{name}`; change or delete it first",
                    child.name()
                );
            }
            let deleted = access
                .delete_role(&name)
                .await
                .with_context(|| format!("cannot delete role `{name}`"))?;
            if !deleted {
                anyhow::bail!(
                    "no custom role named `{name}`; `amanah roles list` shows the roles there are"
                );
            }
            audit(
                &config,
                "role.delete",
                &format!("role:{name}"),
                Success,
                &[],
            )
            .await?;
            if json {
                println!("{}", json!({"name": name, "deleted": true}));
            } else {
                println!("deleted role {name}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A role as shown: the shape the admin API answers with.
struct Role {
    name: String,
    description: String,
    /// `predefined`, `config` (the configuration file) or `custom` (the store).
    source: &'static str,
    permissions: Vec<String>,
    inherits: Vec<String>,
    effective: Vec<String>,
}

impl Role {
    /// `predefined`, `config` or `custom`.
    fn source(name: &str, predefined: bool, config: &Config) -> &'static str {
        if predefined {
            "predefined"
        } else if config.roles.iter().any(|r| r.name == name) {
            "config"
        } else {
            "custom"
        }
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "name": self.name, "description": self.description, "source": self.source,
            "permissions": self.permissions, "inherits": self.inherits,
            "effective_permissions": self.effective,
        })
    }

    fn print(&self) {
        println!("role         {}", self.name);
        println!("source       {}", self.source);
        if !self.description.is_empty() {
            println!("description  {}", self.description);
        }
        println!("permissions  {}", or_dash(&self.permissions.join(", ")));
        println!("inherits     {}", or_dash(&self.inherits.join(", ")));
        println!("effective    {}", or_dash(&self.effective.join(", ")));
    }
}

fn no_such_role(name: &str) -> anyhow::Error {
    anyhow::anyhow!("no role named `{name}`; `amanah roles list` shows the roles there are")
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}
