//! `amanah config check [--config F]`: every problem, each with its fix.

use std::process::ExitCode;

use crate::context::Location;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate a configuration; exits non-zero if anything is wrong.
    Check {
        #[command(flatten)]
        location: Location,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Check { location } = cmd;
    let problems = match location.load() {
        Ok(config) => amanah_gateway::check(&config),
        Err(p) => p.0,
    };
    if problems.is_empty() {
        println!("configuration ok");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} problem(s) found:\n", problems.len());
    for p in &problems {
        println!("{p}\n");
    }
    Ok(ExitCode::FAILURE)
}
