//! `amanah demo`: the gateway in front of a mock model (or `--upstream`),
//! on the embedded store, with a fresh API key and curl lines to paste.
//!
//! The demo builds its configuration as TOML text and runs it through the
//! same loader as `serve`, so it is validated by the same rules.

use std::path::PathBuf;

use amanah_gateway::config::{self, Source};
use amanah_gateway::keys::{now_unix, KeySpec};
use amanah_gateway::mock_upstream::MockUpstream;
use anyhow::Context as _;

use crate::context::{problems_error, shutdown_signal, start_error};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Gateway port on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Admin port on 127.0.0.1 (health, readiness, metrics).
    #[arg(long, default_value_t = 9090)]
    admin_port: u16,
    /// Data directory for the embedded store (default: $AMANAH_DATA_DIR or ./amanah-data).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A real OpenAI-compatible base URL instead of the mock, e.g. http://127.0.0.1:8765/v1.
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// Environment variable holding the upstream's API key, injected by the gateway.
    #[arg(long, value_name = "VAR", requires = "upstream")]
    upstream_key_env: Option<String>,
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

pub async fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);

    // The model: the built-in mock unless --upstream names a real one.
    let (base_url, mock_task) = match &args.upstream {
        Some(url) => (url.trim_end_matches('/').to_owned(), None),
        None => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .context("starting the mock model")?;
            let addr = listener.local_addr()?;
            let task = tokio::spawn(amanah_gateway::serve_mock_upstream(
                listener,
                MockUpstream::default(),
                shutdown_rx.clone(),
            ));
            (format!("http://{addr}/v1"), Some(task))
        }
    };
    let credential = args
        .upstream_key_env
        .as_deref()
        .map(|var| format!("credential = {{ env = {} }}\n", toml_string(var)))
        .unwrap_or_default();
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:{port}"
[admin]
listen = "127.0.0.1:{admin_port}"
[log]
access_log = "stderr"
[providers.model]
base_url = {base_url}
{credential}
[[routes]]
name = "chat"
path_prefix = "/v1"
methods = ["GET", "POST"]
provider = "model"
privacy = "pseudonymize"
"#,
        port = args.port,
        admin_port = args.admin_port,
        base_url = toml_string(&base_url),
    );
    let mut source = Source::from_path(None).map_err(|p| problems_error(&p))?;
    source.file = Some(("demo configuration".into(), text));
    source.data_dir = args.data_dir.clone();
    let config = config::load(&source).map_err(|p| problems_error(&p))?;
    amanah_gateway::logging::init(&config.log).context("initializing logging")?;

    let stores = amanah_gateway::Stores::embedded(&config).map_err(start_error)?;
    let running = amanah_gateway::start(&config, stores)
        .await
        .map_err(start_error)?;
    let (demo_key, info) = running
        .keys
        .create(
            &KeySpec::new("demo", &["contributor".to_owned()], config.keys.default_ttl),
            now_unix(),
        )
        .await?;
    let gw = format!("http://{}", running.addr);
    let key = demo_key.plaintext.expose();
    let model = if args.upstream.is_some() {
        "your upstream"
    } else {
        "the mock model (it echoes what it received)"
    };
    println!(
        r#"
Amanah demo is running.

  gateway  {gw}    route "chat": /v1/* -> {base_url}  ({model})
           personal data and secrets pseudonymized before the model, restored after
  admin    http://{admin}    /healthz /readyz /metrics
  data     {data}

Demo API key "{name}" (id {id}, role contributor). It is shown once; Amanah
stores only a keyed hash of it:

  {key}

Try it:

  export AMANAH_KEY='{key}'

  # a chat completion through the gateway
  curl -s {gw}/v1/chat/completions -H "Authorization: Bearer $AMANAH_KEY" \
    -H 'content-type: application/json' \
    -d '{{"model":"demo","messages":[{{"role":"user","content":"Hello from Amanah"}}]}}'

  # personal data: the model gets placeholders (<PERSON_1>, <EMAIL_ADDRESS_1>;
  # the log line "the model received" shows them), you get the real values back
  curl -si {gw}/v1/chat/completions -H "Authorization: Bearer $AMANAH_KEY" \
    -H 'content-type: application/json' \
    -d '{{"model":"demo","messages":[{{"role":"user","content":"I am Maria Gonzalez, write to maria.gonzalez@example.org"}}]}}'

  # the same, streamed as server-sent events
  curl -sN {gw}/v1/chat/completions -H "Authorization: Bearer $AMANAH_KEY" \
    -H 'content-type: application/json' \
    -d '{{"model":"demo","stream":true,"messages":[{{"role":"user","content":"Stream this"}}]}}'

  # no key, no entry (401)
  curl -si {gw}/v1/models

  # a protected record: stored redacted and encrypted under the subject's key
  curl -s {gw}/v1/records -H "Authorization: Bearer $AMANAH_KEY" \
    -H 'content-type: application/json' \
    -d '{{"subject":"caller-1","kind":"transcript","content":"Caller Maria, maria.gonzalez@example.org"}}'
  curl -s "{gw}/v1/records?subject=caller-1" -H "Authorization: Bearer $AMANAH_KEY"

  # metrics
  curl -s http://{admin}/metrics | grep amanah_requests_total

  # keys
  cargo run --release -- keys list --data-dir {data}

Press Ctrl-C to stop.
"#,
        admin = running.admin_addr,
        data = config.data_dir.display(),
        name = info.name,
        id = info.id,
    );
    drop(demo_key);

    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = shutdown_tx.send(true);
    running.shutdown().await;
    if let Some(t) = mock_task {
        let _ = t.await;
    }
    Ok(std::process::ExitCode::SUCCESS)
}
