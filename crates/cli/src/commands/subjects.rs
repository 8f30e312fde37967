//! `amanah subjects erase|export`: a data subject's rights, on the embedded
//! store.

use std::process::ExitCode;

use amanah_gateway::data_api::{export_json, receipt_json};
use amanah_gateway::keys::now_unix;
use amanah_gateway::records::{Erased, ErasureReceipt};

use amanah_audit::Outcome::Success;

use crate::context::{audit, problems_error, record_service, Location};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Erase every record of the subject (legal holds excepted), its consents, and its data key; prints the receipt.
    Erase {
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Offboard a tenant: erase every record kept for it (legal holds excepted) and destroy every data key in its namespace; prints the receipt.
    EraseTenant {
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Print everything kept about the subject, decrypted, as one JSON document.
    Export {
        id: String,
        #[command(flatten)]
        location: Location,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Erase { id, json, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let (records, _) = record_service(&config).await?;
            let receipt = records.erase_subject(&id, now_unix()).await?;
            let deleted = receipt.records_deleted.len().to_string();
            audit(
                &config,
                "subject.erase",
                "subject",
                Success,
                &[("subject", &id), ("records_deleted", &deleted)],
            )
            .await?;
            print_receipt(&receipt, json);
        }
        Command::EraseTenant { id, json, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let (records, _) = record_service(&config).await?;
            let receipt = records.erase_tenant(&id, now_unix()).await?;
            let deleted = receipt.records_deleted.len().to_string();
            audit(
                &config,
                "tenant.erase",
                &format!("tenant:{id}"),
                Success,
                &[("records_deleted", &deleted)],
            )
            .await?;
            print_receipt(&receipt, json);
        }
        Command::Export { id, location } => {
            let config = location.load().map_err(|p| problems_error(&p))?;
            let (records, _) = record_service(&config).await?;
            let export = records.export(&id, now_unix()).await?;
            // Before anything is printed: no export the log does not hold.
            audit(
                &config,
                "subject.export",
                "subject",
                Success,
                &[("subject", &id)],
            )
            .await?;
            println!("{}", export_json(&export, now_unix()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_receipt(receipt: &ErasureReceipt, json: bool) {
    if json {
        println!("{}", receipt_json(receipt));
        return;
    }
    let whose = match &receipt.erased {
        Erased::Subject(id) => format!("subject {id}"),
        Erased::Tenant(id) => format!("tenant {id}"),
    };
    println!(
        "erased {whose}: {} record(s) deleted, {} kept on legal hold, {} consent event(s) deleted; data keys {}",
        receipt.records_deleted.len(),
        receipt.records_held.len(),
        receipt.consents_deleted,
        if receipt.key_destroyed {
            "destroyed (copies in backups are unreadable)"
        } else if receipt.records_held.is_empty() {
            "not found (nothing was ever stored)"
        } else {
            "kept for the held records"
        }
    );
}
