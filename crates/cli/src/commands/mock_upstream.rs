//! `amanah mock-upstream`: the demo's OpenAI-compatible echo model, alone.

use std::net::SocketAddr;
use std::time::Duration;

use amanah_gateway::mock_upstream::MockUpstream;

use crate::context::shutdown_signal;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8765")]
    listen: SocketAddr,
    /// Pause between streamed chunks, in milliseconds.
    #[arg(long, default_value_t = 40)]
    chunk_delay_ms: u64,
}

pub async fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    eprintln!(
        "mock model listening on http://{}/v1",
        listener.local_addr()?
    );
    let (tx, rx) = tokio::sync::watch::channel(false);
    let mock = MockUpstream {
        chunk_delay: Duration::from_millis(args.chunk_delay_ms),
    };
    let server = tokio::spawn(amanah_gateway::serve_mock_upstream(listener, mock, rx));
    shutdown_signal().await;
    let _ = tx.send(true);
    let _ = server.await;
    Ok(std::process::ExitCode::SUCCESS)
}
