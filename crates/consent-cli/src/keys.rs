//! `consent-ledger keys create --dir DIR`: the secret key files an
//! operator provisions once and shares between instances (a Kubernetes
//! Secret, a compose volume): the checkpoint signing key, the unsubscribe
//! token secret and the contact-digest key. A file that exists is kept,
//! never replaced: a new checkpoint key would not verify earlier bundles,
//! a new token secret would break every link already sent, and a new
//! digest key would match no contact recorded before (the log refuses it).

use crate::sealing_setup::DIGEST_KEY_FILE;
use anyhow::Context;
use consent_evidence::generate_key_file;
use consent_intake::load_or_generate_secret_file;
use consent_sealing::CONTACT_DIGEST_KEY_BYTES;
use consent_secret_file::write_new_secret;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

/// The checkpoint key's file name in a key directory.
pub const CHECKPOINT_KEY_FILE: &str = "checkpoint.key";
/// The unsubscribe token secret's file name in a key directory.
pub const UNSUBSCRIBE_KEY_FILE: &str = "unsubscribe.key";
/// The contact-digest key's file name in a key directory (the same name
/// as the data directory's default).
pub const CONTACT_DIGEST_KEY_FILE: &str = DIGEST_KEY_FILE;

#[derive(clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(clap::Subcommand)]
enum KeysCommand {
    /// Create checkpoint.key, unsubscribe.key and contact-digest.key in a directory (mode 0600), keeping those that exist.
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
    let digest = args.dir.join(CONTACT_DIGEST_KEY_FILE);
    if digest.exists() {
        eprintln!("kept {}", digest.display());
    } else {
        create_digest_key(&digest)?;
        eprintln!(
            "created {} (every instance on one log needs this key)",
            digest.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A new contact-digest key file: random bytes as one line of hex digits,
/// the form `serve` reads (--contact-digest-key).
fn create_digest_key(path: &Path) -> anyhow::Result<()> {
    let mut bytes = Zeroizing::new([0u8; CONTACT_DIGEST_KEY_BYTES]);
    getrandom::fill(bytes.as_mut_slice())
        .map_err(|e| anyhow::anyhow!("no random bytes from the operating system: {e}"))?;
    write_new_secret(path, &Zeroizing::new(hex::encode(bytes.as_slice())))
        .with_context(|| format!("cannot create {}", path.display()))
}
