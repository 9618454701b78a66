//! `consent-ledger keys create --dir DIR`: the secret key files an
//! operator provisions once and shares between instances (a Kubernetes
//! Secret, a compose volume): the checkpoint signing key and the
//! unsubscribe token secret. A file that exists is kept, never replaced:
//! a new checkpoint key would not verify earlier bundles, and a new token
//! secret would break every link already sent.

use anyhow::Context;
use consent_evidence::generate_key_file;
use consent_intake::load_or_generate_secret_file;
use std::path::PathBuf;
use std::process::ExitCode;

/// The checkpoint key's file name in a key directory.
pub const CHECKPOINT_KEY_FILE: &str = "checkpoint.key";
/// The unsubscribe token secret's file name in a key directory.
pub const UNSUBSCRIBE_KEY_FILE: &str = "unsubscribe.key";

#[derive(clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(clap::Subcommand)]
enum KeysCommand {
    /// Create checkpoint.key and unsubscribe.key in a directory (mode 0600), keeping those that exist.
    Create(CreateArgs),
}

#[derive(clap::Args)]
struct CreateArgs {
    /// The directory of the key files (created if absent).
    #[arg(long)]
    dir: PathBuf,
    /// The log's name in checkpoints, and the checkpoint key's name (e.g. `ledger.example.org/consent`).
    #[arg(
        long,
        env = "CONSENT_CHECKPOINT_ORIGIN",
        default_value = "consent-ledger.local/consent"
    )]
    checkpoint_origin: String,
}

pub async fn run(args: KeysArgs) -> anyhow::Result<ExitCode> {
    let KeysCommand::Create(args) = args.command;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let checkpoint = args.dir.join(CHECKPOINT_KEY_FILE);
    if checkpoint.exists() {
        eprintln!("kept {}", checkpoint.display());
    } else {
        let signer = generate_key_file(&checkpoint, &args.checkpoint_origin)
            .with_context(|| format!("cannot create {}", checkpoint.display()))?;
        let public = checkpoint.with_extension("pub");
        std::fs::write(&public, format!("{}\n", signer.verifier_key()))
            .with_context(|| format!("cannot write {}", public.display()))?;
        eprintln!(
            "created {} (verifier key, to publish: {})",
            checkpoint.display(),
            signer.verifier_key()
        );
    }
    let unsubscribe = args.dir.join(UNSUBSCRIBE_KEY_FILE);
    let existed = unsubscribe.exists();
    load_or_generate_secret_file(&unsubscribe)
        .with_context(|| format!("cannot use {}", unsubscribe.display()))?;
    eprintln!(
        "{} {}",
        if existed { "kept" } else { "created" },
        unsubscribe.display()
    );
    Ok(ExitCode::SUCCESS)
}
