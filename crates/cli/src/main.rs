//! `amanah`: parse the command line, run one library operation, exit.
//!
//! Each subcommand lives in its own file under `commands/`, defines its
//! flags and calls into `amanah-gateway`. Nothing here decides policy.

#![forbid(unsafe_code)]

mod commands;
mod context;
mod time;

use clap::{Parser, Subcommand};

/// Amanah: a security and privacy gateway for AI services.
#[derive(Debug, Parser)]
#[command(name = "amanah", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway with a mock model, a fresh API key and ready-to-paste curl lines.
    Demo(commands::demo::Args),
    /// Run the gateway from a configuration file (production entry point).
    Serve(commands::serve::Args),
    /// Validate configuration.
    #[command(subcommand)]
    Config(commands::config::Command),
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    Keys(commands::keys::Command),
    /// Manage admin users: create (prints a one-time setup token), lock, unlock, roles, MFA reset.
    #[command(subcommand)]
    Users(commands::users::Command),
    /// List roles; create, replace and delete custom ones.
    #[command(subcommand)]
    Roles(commands::roles::Command),
    /// Grant roles to API keys and users, for good or for a while; list and revoke grants.
    #[command(subcommand)]
    Grants(commands::grants::Command),
    /// Store, read, list and delete protected records (encrypted; redacted unless --raw).
    #[command(subcommand)]
    Records(commands::records::Command),
    /// A data subject's rights: erase (crypto-shredding) and export.
    #[command(subcommand)]
    Subjects(commands::subjects::Command),
    /// Master keys: status, rotate, rewrap data keys, retire old versions.
    #[command(subcommand)]
    Keyring(commands::keyring::Command),
    /// The tamper-evident audit log: verify it against its signed checkpoints, tail it, export it.
    #[command(subcommand)]
    Audit(commands::audit::Command),
    /// Incident response: lockdown, mass revocation, and the report a breach notification needs.
    #[command(subcommand)]
    Incident(commands::incident::Command),
    /// Detect personal data and secrets (`pii detect` for labelled JSON lines).
    #[command(subcommand)]
    Pii(commands::pii::Command),
    /// Find personal data and secrets in files and folders (respects .gitignore; values masked).
    Scan(commands::scan::Args),
    /// Redact personal data and secrets from a file or standard input.
    Redact(commands::redact::Args),
    /// Run the mock OpenAI-compatible model on its own (for benchmarks and trials).
    MockUpstream(commands::mock_upstream::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo(args) => commands::demo::run(args).await,
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Config(cmd) => commands::config::run(cmd),
            Command::Keys(cmd) => commands::keys::run(cmd).await,
            // Boxed: the user service makes a large future.
            Command::Users(cmd) => Box::pin(commands::users::run(cmd)).await,
            Command::Roles(cmd) => commands::roles::run(cmd).await,
            Command::Grants(cmd) => commands::grants::run(cmd).await,
            Command::Records(cmd) => commands::records::run(cmd).await,
            Command::Subjects(cmd) => commands::subjects::run(cmd).await,
            Command::Keyring(cmd) => commands::keyring::run(cmd).await,
            Command::Audit(cmd) => commands::audit::run(cmd).await,
            Command::Incident(cmd) => commands::incident::run(cmd).await,
            Command::Pii(cmd) => commands::pii::run(cmd),
            Command::Scan(args) => commands::scan::run(args),
            Command::Redact(args) => commands::redact::run(args),
            Command::MockUpstream(args) => commands::mock_upstream::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
