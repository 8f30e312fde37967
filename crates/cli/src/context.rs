//! How every command finds its configuration and store: `--config F` (or
//! `AMANAH_CONFIG`), `--data-dir D` (or `AMANAH_DATA_DIR`, or the config's
//! `data_dir`, or `./amanah-data`).

use std::path::PathBuf;
use std::sync::Arc;

use amanah_gateway::config::{self, Config, Problems};
use anyhow::Context as _;

#[derive(Debug, Clone, clap::Args)]
pub struct Location {
    /// Configuration file (default: $AMANAH_CONFIG, else built-in defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory holding the embedded store (default: $AMANAH_DATA_DIR, the config's data_dir, or ./amanah-data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl Location {
    fn config_path(&self) -> Option<PathBuf> {
        self.config
            .clone()
            .or_else(|| std::env::var_os("AMANAH_CONFIG").map(PathBuf::from))
    }

    /// Loads and validates the configuration, or returns every problem.
    pub fn load(&self) -> Result<Config, Problems> {
        let mut source = config::Source::from_path(self.config_path().as_deref())?;
        source.data_dir = self.data_dir.clone();
        config::load(&source)
    }
}

/// Prints problems the way `config check` does and turns them into an error.
pub fn problems_error(problems: &Problems) -> anyhow::Error {
    eprintln!("{} configuration problem(s):\n", problems.0.len());
    for p in &problems.0 {
        eprintln!("{p}\n");
    }
    anyhow::anyhow!("refusing to continue with an invalid configuration")
}

/// A failed start: configuration problems printed like `config check`,
/// anything else (a port in use, an unreadable store) as it is.
pub fn start_error(e: amanah_gateway::StartError) -> anyhow::Error {
    match e {
        amanah_gateway::StartError::Config(p) => problems_error(&p),
        other => other.into(),
    }
}

/// The key service over the embedded store named by the configuration.
pub fn key_service(config: &Config) -> anyhow::Result<amanah_gateway::keys::KeyService> {
    let hasher = amanah_gateway::key_hasher(config).map_err(|p| problems_error(&p))?;
    Ok(amanah_gateway::keys::KeyService::new(
        store(config)?,
        hasher,
    ))
}

/// Roles and grants over the embedded store named by the configuration.
pub fn access(config: &Config) -> anyhow::Result<amanah_gateway::access::AccessControl> {
    Ok(amanah_gateway::access::AccessControl::new(
        config,
        store(config)?,
    ))
}

/// The admin-user service over the embedded store named by the
/// configuration. Building it costs one Argon2 run.
pub fn user_service(config: &Config) -> anyhow::Result<amanah_gateway::users::UserService> {
    let store = store(config)?;
    let access = Arc::new(amanah_gateway::access::AccessControl::new(
        config,
        store.clone(),
    ));
    amanah_gateway::user_service(config, store, access).map_err(|p| problems_error(&p))
}

fn store(config: &Config) -> anyhow::Result<Arc<dyn amanah_store::Store>> {
    let store = amanah_gateway::open_embedded_store(&config.data_dir)
        .with_context(|| format!("opening the store in {}", config.data_dir.display()))?;
    Ok(Arc::new(store))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// The keyring over the key store the configuration names (the root key
/// file is created on first use, as `serve` would).
pub async fn keyring(
    config: &Config,
) -> anyhow::Result<Arc<amanah_gateway::keyring::KeyringService>> {
    let stores = amanah_gateway::Stores::embedded(config).map_err(start_error)?;
    Ok(Arc::new(
        amanah_gateway::open_keyring(config, stores.keys)
            .await
            .map_err(start_error)?,
    ))
}

/// Records over the embedded stores the configuration names.
pub async fn record_service(
    config: &Config,
) -> anyhow::Result<(
    amanah_gateway::records::RecordService,
    Arc<dyn amanah_store::RecordStore>,
)> {
    let stores = amanah_gateway::Stores::embedded(config).map_err(start_error)?;
    let keyring = Arc::new(
        amanah_gateway::open_keyring(config, stores.keys)
            .await
            .map_err(start_error)?,
    );
    let service = amanah_gateway::records::RecordService::new(
        Arc::clone(&stores.records),
        keyring,
        amanah_gateway::privacy::shared_analyzer(),
        amanah_gateway::records::Retention::default().with(&config.records.retention),
    );
    Ok((service, stores.records))
}

/// Who runs this command, as audit events name them: `cli:<user>`, the
/// account of the process's real user id (from `/proc` and
/// `/etc/passwd`, not `$USER`, which anyone can set), or `cli:uid:<n>`.
pub fn cli_actor() -> String {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().next().map(str::to_owned))
        });
    let Some(uid) = uid else {
        return "cli:unknown".to_owned();
    };
    let name = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let mut fields = line.split(':');
                let name = fields.next()?;
                let id = fields.nth(1)?;
                (id == uid).then(|| name.to_owned())
            })
        });
    match name {
        Some(name)
            if !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) =>
        {
            format!("cli:{name}")
        }
        _ => format!("cli:uid:{uid}"),
    }
}

/// Writes one audit event for a change made from the command line, to the
/// same log the gateway writes (linked after its newest event). A change
/// that cannot be audited is reported as an error after it was made, so
/// the operator knows the log misses it.
pub async fn audit(
    config: &Config,
    action: &str,
    resource: &str,
    outcome: amanah_audit::Outcome,
    details: &[(&str, &str)],
) -> anyhow::Result<()> {
    let secret = amanah_gateway::server_secret(config).map_err(|p| problems_error(&p))?;
    let hasher = amanah_gateway::audit::detail_hasher(secret.expose().as_bytes())?;
    let mut event = amanah_audit::Event::new(
        amanah_gateway::audit::now_ms(),
        config.audit.node.as_str(),
        cli_actor(),
        action,
        resource,
        outcome,
    );
    for (name, value) in details {
        let value = if *name == "subject" {
            hasher.hash(name, value)
        } else {
            amanah_audit::DetailValue::Clear((*value).to_owned())
        };
        event.details.insert((*name).to_owned(), value);
    }
    config::create_private_dir(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let store = amanah_store::SqliteAuditStore::open(&config.audit.store)
        .with_context(|| format!("opening the audit log {}", config.audit.store.display()))?;
    // The signing key exists from the first event on, so `audit verify`
    // finds its public half before any gateway has run; it is never made
    // for a log that already holds events (the gateway refuses that too).
    if amanah_store::AuditStore::last(&store).await?.is_none() {
        amanah_gateway::audit::load_or_create_signing_key(&config.audit.signing_key)?;
    }
    amanah_gateway::audit::append_one(&store, event)
        .await
        .with_context(|| {
            format!(
                "the change was made but could not be written to the audit log {}",
                config.audit.store.display()
            )
        })?;
    Ok(())
}
