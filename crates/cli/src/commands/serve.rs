//! `amanah serve --config amanah.toml`: the production entry point.

use anyhow::Context as _;

use crate::context::{problems_error, shutdown_signal, start_error, Location};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    location: Location,
}

pub async fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let config = args.location.load().map_err(|p| problems_error(&p))?;
    amanah_gateway::logging::init(&config.log).context("initializing logging")?;
    let stores = amanah_gateway::Stores::embedded(&config).map_err(start_error)?;
    let running = amanah_gateway::start(&config, stores)
        .await
        .map_err(start_error)?;
    eprintln!(
        "amanah: serving on {} (admin {})",
        running.addr, running.admin_addr
    );
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await;
    Ok(std::process::ExitCode::SUCCESS)
}
