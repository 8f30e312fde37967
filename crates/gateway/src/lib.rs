//! Amanah's HTTP gateway.
//!
//! - [`config`]: the TOML configuration, its overrides and validation.
//! - [`start`]: binds the traffic and admin listeners and runs the pipeline
//!   ([`pipeline`]) until [`Running::shutdown`].
//! - [`keys`]: API-key lifecycle shared by the CLI and the pipeline.
//! - [`logging`]: `tracing` with the redaction layer and the access log.
//! - [`mock_upstream`]: the OpenAI-compatible echo model of `amanah demo`.
//! - [`alerts`]: security alerts from audit events, delivered to webhooks,
//!   e-mail and the log ([`alerts::AlertDispatcher`]).
//!
//! IO lives here; decisions live in `amanah-policy` and `amanah-crypto`,
//! persistence behind `amanah-store`'s trait.

#![forbid(unsafe_code)]

pub mod access;
pub mod admin;
pub mod admin_api;
pub mod alerts;
pub mod audit;
pub mod body;
pub mod config;
pub mod data_api;
pub mod error;
pub mod identify;
pub mod incident;
pub mod jwt;
pub mod keyring;
pub mod keys;
pub mod logging;
pub mod metrics;
pub mod mock_upstream;
pub mod pipeline;
pub mod privacy;
pub mod protect;
pub mod proxy;
pub mod ratelimit;
pub mod records;
pub mod request_id;
pub mod router;
pub mod server;
pub mod subjects;
pub mod tls;
pub mod usage;
pub mod users;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use amanah_crypto::api_key::KeyHasher;
use amanah_crypto::envelope::KeyProvider;
use amanah_store::{
    AuditStore, KeyringStore, RecordStore, SqliteAuditStore, SqliteKeyringStore, SqliteStore,
    Store, StoreError,
};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use config::{Config, Problem, Problems};

/// How often pending last-used times are written to the store.
const LAST_USED_FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// How long queued alerts may take to go out at shutdown.
const ALERT_DRAIN: Duration = Duration::from_secs(5);
/// The embedded store's file name inside the data directory.
pub const DB_FILE: &str = "amanah.db";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the configuration has problems:\n{0}")]
    Config(#[from] Problems),
    #[error("cannot listen on {addr} ({what}): {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("the keyring: {0}")]
    Keyring(#[from] keyring::KeyringError),
    #[error("{0}")]
    Audit(#[from] audit::AuditStartError),
}

/// The stores a gateway runs on: its state (keys, users, roles), the
/// protected records, and the key store and the audit log, which live
/// apart from both.
#[derive(Clone)]
pub struct Stores {
    pub state: Arc<dyn Store>,
    pub records: Arc<dyn RecordStore>,
    pub keys: Arc<dyn KeyringStore>,
    pub audit: Arc<dyn AuditStore>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

impl Stores {
    /// The embedded backends: `amanah.db` in the data directory for state
    /// and records, and the key store where `[keyring].key_store` says.
    pub fn embedded(config: &Config) -> Result<Self, StartError> {
        let db = Arc::new(open_embedded_store(&config.data_dir)?);
        Ok(Self::embedded_with(config, db.clone(), db)?)
    }

    /// `state` and `records` as given, the embedded key store and audit
    /// log.
    pub fn embedded_with(
        config: &Config,
        state: Arc<dyn Store>,
        records: Arc<dyn RecordStore>,
    ) -> Result<Self, StoreError> {
        let keys = Arc::new(SqliteKeyringStore::open(&config.keyring.key_store)?);
        let audit = Arc::new(SqliteAuditStore::open_with(
            &config.audit.store,
            config.audit.sync,
        )?);
        Ok(Self {
            state,
            records,
            keys,
            audit,
        })
    }
}

/// The root-key provider `[keyring]` names. The default key file in the
/// data directory is created on first start (owner-only), as the HMAC
/// secret is; a key file named explicitly must exist.
pub fn key_provider(config: &Config) -> Result<Box<dyn KeyProvider>, StartError> {
    Ok(match &config.keyring.root_key {
        config::RootKeySource::Env(var) => Box::new(keyring::EnvKeyProvider::new(var.clone())),
        config::RootKeySource::File(path) => {
            let default = config.data_dir.join(config::defaults::ROOT_KEY_FILE);
            if *path == default && !path.exists() {
                config::create_private_dir(&config.data_dir).map_err(|source| {
                    StartError::DataDir {
                        path: config.data_dir.display().to_string(),
                        source,
                    }
                })?;
                Box::new(
                    keyring::FileKeyProvider::create(path)
                        .map_err(|e| StartError::Keyring(e.into()))?,
                )
            } else {
                Box::new(keyring::FileKeyProvider::new(path.clone()))
            }
        }
    })
}

/// The keyring of this deployment: root key from the provider, master
/// keys from the key store (the first one made on first start).
pub async fn open_keyring(
    config: &Config,
    keys: Arc<dyn KeyringStore>,
) -> Result<keyring::KeyringService, StartError> {
    let provider = key_provider(config)?;
    Ok(keyring::KeyringService::open(provider.as_ref(), keys, keys::now_unix()).await?)
}

/// Opens the embedded store in `data_dir`, creating the directory
/// (owner-only) if needed.
pub fn open_embedded_store(data_dir: &Path) -> Result<SqliteStore, StartError> {
    config::create_private_dir(data_dir).map_err(|source| StartError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    Ok(SqliteStore::open(&data_dir.join(DB_FILE))?)
}

/// The deployment secret (`keys.hmac_secret`; read, or created on first
/// start): API-key tags, and under their own domains session, setup and
/// CSRF tags, recovery-code tags and the sealing key of TOTP secrets.
pub fn server_secret(config: &Config) -> Result<amanah_crypto::SecretString, Problems> {
    config
        .keys
        .hmac_secret
        .resolve("keys.hmac_secret")
        .map_err(|p| Problems(vec![p]))
}

/// The API-key hasher for this deployment (reads or creates the secret).
pub fn key_hasher(config: &Config) -> Result<KeyHasher, Problems> {
    let secret = server_secret(config)?;
    KeyHasher::new(&secret).map_err(|e| {
        Problems(vec![Problem::new(
            "keys.hmac_secret",
            e.to_string(),
            "use at least 32 characters",
        )])
    })
}

/// The admin-user service of this deployment, with OWASP's Argon2id
/// parameters. `key_hasher` must have accepted the secret.
pub fn user_service(
    config: &Config,
    store: Arc<dyn Store>,
    access: Arc<access::AccessControl>,
) -> Result<users::UserService, Problems> {
    let secret = server_secret(config)?;
    key_hasher(config)?;
    Ok(users::UserService::new(
        store,
        access,
        &secret,
        &config.users,
        amanah_crypto::password::Params::OWASP,
    ))
}

/// Everything `start` needs from outside the config file, loaded and judged:
/// secrets, certificates, CA files.
pub struct Prepared {
    hasher: KeyHasher,
    server_secret: amanah_crypto::SecretString,
    /// Per provider, the header value that carries its credential.
    credentials: Vec<Option<http::HeaderValue>>,
    server_tls: Option<Arc<rustls::ServerConfig>>,
    client_tls: rustls::ClientConfig,
    jwt: Option<Arc<jwt::JwtVerifier>>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared").finish_non_exhaustive()
    }
}

/// Judges everything the config refers to without changing anything:
/// what `amanah config check` runs. A secret Amanah would generate on first
/// start is not created here.
pub fn check(config: &Config) -> Vec<Problem> {
    collect(config, false).1
}

/// Resolves every secret and loads every file the config names, reporting
/// all problems at once.
pub fn prepare(config: &Config) -> Result<Prepared, Problems> {
    match collect(config, true) {
        (Some(prepared), problems) if problems.is_empty() => Ok(prepared),
        (_, problems) => Err(Problems(problems)),
    }
}

fn collect(config: &Config, create_generated: bool) -> (Option<Prepared>, Vec<Problem>) {
    let mut problems = Vec::new();
    let secret = match &config.keys.hmac_secret {
        config::SecretRef::Generated(path) if !create_generated && !path.exists() => None,
        _ => server_secret(config)
            .and_then(|s| key_hasher(config).map(|h| (s, h)))
            .map_err(|p| problems.extend(p.0))
            .ok(),
    };
    let credentials: Vec<Option<http::HeaderValue>> = config
        .providers
        .iter()
        .map(|p| {
            let key = format!("providers.{}.credential", p.name);
            let secret = p.credential.as_ref()?.resolve(&key);
            secret
                .and_then(|s| proxy::credential_value(&p.credential_header, &s, &key))
                .map_err(|e| problems.push(e))
                .ok()
        })
        .collect();
    let server_tls = config
        .server
        .tls
        .as_ref()
        .and_then(|t| tls::server_config(t).map_err(|e| problems.push(e)).ok());
    let client_tls = proxy::client_tls(config).map_err(|e| problems.push(e)).ok();
    let jwt = match (&config.jwt, &client_tls) {
        (Some(j), Some(tls)) => {
            let secret = j.hmac_secret.as_ref().and_then(|r| {
                r.resolve("jwt.hmac_secret")
                    .map_err(|e| problems.push(e))
                    .ok()
            });
            jwt::JwtVerifier::new(j, secret.as_ref(), tls.clone())
                .map(|v| Some(Arc::new(v)))
                .map_err(|e| problems.push(e))
                .ok()
        }
        _ => Some(None),
    };
    let prepared = match (secret, client_tls, jwt) {
        (Some((server_secret, hasher)), Some(client_tls), Some(jwt)) => Some(Prepared {
            hasher,
            server_secret,
            credentials,
            server_tls,
            client_tls,
            jwt,
        }),
        _ => None,
    };
    (prepared, problems)
}

/// A running gateway.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub keys: Arc<keys::KeyService>,
    pub access: Arc<access::AccessControl>,
    pub users: Arc<users::UserService>,
    pub records: Arc<records::RecordService>,
    pub keyring: Arc<keyring::KeyringService>,
    pub audit: Arc<audit::AuditLog>,
    pub alerts: Arc<alerts::AlertDispatcher>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    audit_writer: (watch::Sender<bool>, JoinHandle<()>),
}

impl Running {
    /// Stops accepting, drains open connections, writes the last audit
    /// events and their checkpoint, flushes last-used times.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        let (stop, writer) = self.audit_writer;
        let _ = stop.send(true);
        let _ = writer.await;
        self.alerts.shutdown(ALERT_DRAIN).await;
        if let Err(e) = self.keys.flush_last_used().await {
            tracing::warn!(error = %e, "could not record last-used times at shutdown");
        }
    }
}

async fn bind(what: &'static str, addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { what, addr, source })
}

/// Binds the listeners and starts serving.
pub async fn start(config: &Config, stores: Stores) -> Result<Running, StartError> {
    let store = stores.state;
    let prepared = prepare(config)?;
    let keyring = Arc::new(open_keyring(config, stores.keys).await?);
    // Alerts watch every event the audit writer makes durable, and its
    // failures.
    let alerts = Arc::new(alerts::AlertDispatcher::from_config(
        config,
        &prepared.client_tls,
    )?);
    let (audit_log, audit_writer) = audit::AuditLog::open(
        &config.audit,
        Arc::clone(&stores.audit),
        audit::detail_hasher(prepared.server_secret.expose().as_bytes())?,
        Some(Arc::clone(&alerts) as Arc<dyn audit::AuditObserver>),
    )
    .await?;
    let audit_writer = match &config.audit.checkpoint_webhook {
        None => audit_writer,
        Some(hook) => {
            let secret = match &hook.secret {
                Some(r) => Some(
                    r.resolve("audit.checkpoint_webhook.secret")
                        .map_err(|p| Problems(vec![p]))?,
                ),
                None => None,
            };
            audit_writer.export_checkpoints_to(alerts::WebhookSink::new(
                "audit-checkpoints",
                hook,
                secret.as_ref(),
                prepared.client_tls.clone(),
            ))
        }
    };
    let audit_log = Arc::new(audit_log);
    let records = Arc::new(records::RecordService::new(
        Arc::clone(&stores.records),
        Arc::clone(&keyring),
        privacy::shared_analyzer(),
        records::Retention::default().with(&config.records.retention),
    ));
    let keys = Arc::new(keys::KeyService::new(Arc::clone(&store), prepared.hasher));
    let access = Arc::new(access::AccessControl::new(config, Arc::clone(&store)));
    let users = Arc::new(users::UserService::new(
        Arc::clone(&store),
        Arc::clone(&access),
        &prepared.server_secret,
        &config.users,
        amanah_crypto::password::Params::OWASP,
    ));
    let limiter: Arc<dyn ratelimit::RateLimiter> = Arc::new(ratelimit::LocalLimiter::default());
    let identifier = identify::Identifier {
        keys: Arc::clone(&keys),
        jwt: prepared.jwt,
        access: Arc::clone(&access),
        limiter: Arc::clone(&limiter),
        failures_per_ip: config.rate_limits.auth_failures_per_ip,
    };
    let upstreams = proxy::Upstreams::new(config, prepared.credentials, prepared.client_tls);
    let admin_api = admin_api::AdminApi::new(
        config,
        Arc::clone(&keys),
        Arc::clone(&users),
        Arc::clone(&access),
        Arc::clone(&limiter),
    );
    let data_api = data_api::DataApi::new(
        Arc::clone(&records),
        Arc::clone(&stores.records),
        Arc::clone(&access),
    );
    let lockdown = Arc::new(incident::Lockdown::load(Arc::clone(&store)).await?);
    let metrics = Arc::new(metrics::Metrics::new(
        config.routes.iter().map(|r| r.name.as_str()),
    ));
    let gateway = Arc::new(pipeline::Gateway::new(
        config,
        identifier,
        limiter,
        upstreams,
        pipeline::OwnStages {
            admin: admin_api,
            data: data_api,
            subjects: subjects::SubjectGate::new(config, Arc::clone(&stores.records)),
            lockdown: Arc::clone(&lockdown),
        },
        privacy::PrivacyStage::new(config, prepared.server_secret.expose().as_bytes()),
        pipeline::Recorders {
            metrics: Arc::clone(&metrics),
            audit: Arc::clone(&audit_log),
        },
    ));
    let admin = Arc::new(admin::AdminHandler {
        metrics,
        store,
        audit: Arc::clone(audit_log.status()),
        alerts: Arc::clone(&alerts),
    });

    let traffic = bind("traffic", config.server.listen).await?;
    let admin_listener = bind("admin", config.admin.listen).await?;
    let addr = traffic.local_addr().map_err(|source| StartError::Bind {
        what: "traffic",
        addr: config.server.listen,
        source,
    })?;
    let admin_addr = admin_listener
        .local_addr()
        .map_err(|source| StartError::Bind {
            what: "admin",
            addr: config.admin.listen,
            source,
        })?;

    let (shutdown, rx) = watch::channel(false);
    let limits = server::ConnLimits {
        max_connections: config.server.max_connections,
        header_read_timeout: config.server.header_read_timeout,
        max_header_bytes: config.server.max_header_bytes,
        max_headers: config.server.max_headers,
    };
    let admin_limits = server::ConnLimits {
        max_connections: 64,
        ..limits.clone()
    };
    let acceptor = prepared.server_tls.map(tokio_rustls::TlsAcceptor::from);
    // The audit writer is stopped last (see `Running::shutdown`): requests
    // still being answered while the listeners drain need it.
    let (audit_stop, audit_rx) = watch::channel(false);
    let audit_task = tokio::spawn(audit_writer.run(audit_rx));
    let mut tasks = vec![
        tokio::spawn(server::serve(
            traffic,
            acceptor,
            limits,
            gateway,
            rx.clone(),
        )),
        tokio::spawn(server::serve(
            admin_listener,
            None,
            admin_limits,
            admin,
            rx.clone(),
        )),
    ];
    tasks.push(tokio::spawn(flush_last_used_periodically(
        Arc::clone(&keys),
        rx.clone(),
    )));
    tasks.push(tokio::spawn(sweep_records_periodically(
        Arc::clone(&records),
        config.records.cleanup_interval,
        config.records.sweep_batch,
        rx.clone(),
    )));
    tasks.push(tokio::spawn(incident::follow_lockdown(
        lockdown,
        rx.clone(),
    )));
    if let Some(retention) = config.audit.retention {
        tasks.push(tokio::spawn(audit::prune_periodically(
            Arc::clone(&stores.audit),
            audit_log.verifying_key().clone(),
            retention,
            rx.clone(),
        )));
    }
    if let Some(period) = config.keyring.rotation_period {
        tasks.push(tokio::spawn(rotate_keys_when_due(
            Arc::clone(&keyring),
            period,
            rx,
        )));
    }
    tracing::info!(
        listen = %addr,
        admin = %admin_addr,
        tls = config.server.tls.is_some(),
        routes = config.routes.len(),
        "gateway started"
    );
    Ok(Running {
        addr,
        admin_addr,
        keys,
        access,
        users,
        records,
        keyring,
        audit: audit_log,
        alerts,
        shutdown,
        tasks,
        audit_writer: (audit_stop, audit_task),
    })
}

/// Deletes expired records every `interval` (and once at start).
async fn sweep_records_periodically(
    records: Arc<records::RecordService>,
    interval: Duration,
    batch: u32,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                match records.sweep(keys::now_unix(), batch).await {
                    Ok(deleted) if !deleted.is_empty() => tracing::info!(
                        target: "amanah::records",
                        deleted = deleted.len(),
                        "expired records deleted"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "the retention sweep failed"),
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// How often the master key's age is checked against the rotation period.
const ROTATION_CHECK_INTERVAL: Duration = Duration::from_secs(3600);

/// Rotates the master key when it is older than `period`.
async fn rotate_keys_when_due(
    keyring: Arc<keyring::KeyringService>,
    period: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(ROTATION_CHECK_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                match keyring.rotate_if_due(keys::now_unix(), period.as_secs()).await {
                    Ok(Some(version)) => tracing::info!(
                        target: "amanah::keyring",
                        version,
                        "master key rotated"
                    ),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "master key rotation failed"),
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

async fn flush_last_used_periodically(
    keys: Arc<keys::KeyService>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(LAST_USED_FLUSH_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = keys.flush_last_used().await {
                    tracing::warn!(error = %e, "could not record last-used times");
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// Serves the mock upstream on `listener` until `shutdown` turns true.
pub async fn serve_mock_upstream(
    listener: TcpListener,
    mock: mock_upstream::MockUpstream,
    shutdown: watch::Receiver<bool>,
) {
    let limits = server::ConnLimits {
        max_connections: 1024,
        header_read_timeout: Duration::from_secs(10),
        max_header_bytes: 64 * 1024,
        max_headers: 128,
    };
    server::serve(listener, None, limits, Arc::new(mock), shutdown).await;
}
