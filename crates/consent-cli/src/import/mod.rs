//! `consent-ledger import ...`: bringing existing lists into the ledger as
//! facts, re-runnable (docs/OPERATIONS.md, "Imports"). `append` shares the
//! machinery ([`runner`]).

pub mod ids;
pub mod runner;
pub mod suppressions;
pub mod time;
pub mod tps;

/// What to import.
#[derive(clap::Subcommand)]
pub enum ImportCommand {
    /// An ESP's suppression export (SendGrid, Mailchimp, Amazon SES CSV) as address-only opt-outs and objections.
    Suppressions(suppressions::SuppressionArgs),
    /// A TPS or CTPS file (full or delta) as preference-service listings, then the screening it records.
    Tps(tps::TpsArgs),
}

pub async fn run(command: ImportCommand) -> anyhow::Result<std::process::ExitCode> {
    match command {
        ImportCommand::Suppressions(args) => suppressions::run(args).await,
        ImportCommand::Tps(args) => tps::run(args).await,
    }
}
