//! `consent-ledger api-key`: create, list and revoke the API keys of a key
//! file, and the choice `serve` makes between keys and open mode.
//!
//! A key is 256 random bits, printed once when created; the key file keeps
//! only its SHA-256 and its principal (an organisation, or the admin), so
//! the file can be backed up and read without revealing any key
//! (docs/OPERATIONS.md, "API keys").

use crate::key_source::{KeySource, API_KEYS};
use anyhow::{bail, Context};
use consent_auth::{ApiKey, Guard, KeyEntry, KeyRing, Principal};
use consent_domain::OrganisationId;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ApiKeyArgs {
    #[command(subcommand)]
    command: ApiKeyCommand,
}

#[derive(clap::Subcommand)]
enum ApiKeyCommand {
    /// Create a key: add its hash to the key file and print the key (once: it is stored nowhere).
    Create(CreateArgs),
    /// List the key file's keys: id, principal, creation time, note (no secret: none is stored).
    List(KeyFileArgs),
    /// Remove a key, by the id `list` shows, from the key file; a running `serve` stops accepting it within --api-keys-reload-secs.
    Revoke(RevokeArgs),
}

#[derive(clap::Args)]
pub struct KeyFileArgs {
    /// The data directory, whose `api-keys.toml` is the default key file.
    #[arg(long, env = "CONSENT_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The key file (default: DATA_DIR/api-keys.toml).
    #[arg(long, env = "CONSENT_API_KEYS_FILE")]
    pub api_keys: Option<PathBuf>,
}

impl KeyFileArgs {
    fn path(&self) -> PathBuf {
        self.api_keys
            .clone()
            .unwrap_or_else(|| default_key_file(&self.data_dir))
    }
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("principal").required(true).args(["organisation", "admin"])))]
pub struct CreateArgs {
    /// The organisation whose data the key appends, checks and reads.
    #[arg(long)]
    organisation: Option<String>,
    /// The admin key: reads and exports any organisation, signs checkpoints; never appends or checks.
    #[arg(long)]
    admin: bool,
    /// What the key is for (kept in the key file).
    #[arg(long)]
    note: Option<String>,
    #[command(flatten)]
    file: KeyFileArgs,
}

#[derive(clap::Args)]
pub struct RevokeArgs {
    /// The key's id (12 hex digits, as `list` and `create` show it).
    id: String,
    #[command(flatten)]
    file: KeyFileArgs,
}

/// The key file `serve` reads when `--api-keys` names none.
pub fn default_key_file(data_dir: &Path) -> PathBuf {
    data_dir.join("api-keys.toml")
}

pub async fn run(args: ApiKeyArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ApiKeyCommand::Create(args) => create(args),
        ApiKeyCommand::List(args) => list(&args),
        ApiKeyCommand::Revoke(args) => revoke(args),
    }
}

fn create(args: CreateArgs) -> anyhow::Result<ExitCode> {
    let principal = match (args.organisation, args.admin) {
        (Some(organisation), false) if !organisation.trim().is_empty() => {
            Principal::Organisation(OrganisationId::new(organisation))
        }
        (Some(_), false) => bail!("--organisation must not be empty"),
        (None, true) => Principal::Admin,
        _ => bail!("give either --organisation ORG or --admin"),
    };
    let path = args.file.path();
    let key = add_key(&path, principal.clone(), args.note)?;
    eprintln!(
        "created API key {} for {} in {}\nit is shown once, below: store it now (the ledger keeps only its SHA-256)",
        key.hash().id(),
        describe(&principal),
        path.display()
    );
    println!("{}", key.secret());
    Ok(ExitCode::SUCCESS)
}

/// Adds a new key for `principal` to the key file at `path` (created,
/// readable by its owner only, when missing): the key, to show once.
pub fn add_key(path: &Path, principal: Principal, note: Option<String>) -> anyhow::Result<ApiKey> {
    let existed = path.exists();
    // Refuse to add to a file the server could not read.
    if existed {
        KeyRing::read(path)?;
    } else if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| anyhow::anyhow!("no random key could be drawn: {error}"))?;
    let key = ApiKey::from_random_bytes(&bytes);
    bytes.fill(0);
    let created = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .ok();
    let entry = KeyEntry {
        hash: key.hash(),
        principal,
        created,
        note,
    };
    let header = if existed {
        ""
    } else {
        "# consent-ledger API keys: the SHA-256 of each key, never the key.\n"
    };
    let mut file = open_private(path, false)?;
    writeln!(file, "{header}\n{}", entry.to_toml().trim_end())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write the key file {}", path.display()))?;
    Ok(key)
}

fn list(args: &KeyFileArgs) -> anyhow::Result<ExitCode> {
    let path = args.path();
    if !path.exists() {
        eprintln!(
            "no key file at {}: the server runs without keys (open mode, loopback only)",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let ring = KeyRing::read(&path)?;
    println!("id\tprincipal\tcreated\tnote");
    for entry in ring.entries() {
        println!(
            "{}\t{}\t{}\t{}",
            entry.hash.id(),
            describe(&entry.principal),
            entry.created.as_deref().unwrap_or("-"),
            entry.note.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn revoke(args: RevokeArgs) -> anyhow::Result<ExitCode> {
    let path = args.file.path();
    if !remove_key(&path, args.id.trim())? {
        bail!(
            "no key with id `{}` in {} (`consent-ledger api-key list` shows the ids)",
            args.id,
            path.display()
        );
    }
    eprintln!(
        "revoked API key {} in {}; a running `consent-ledger serve` stops accepting it at its next reading of the file (--api-keys-reload-secs, or at once on SIGHUP)",
        args.id,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Removes the key of id `id` from the key file at `path`, rewriting it
/// whole (a reader sees the old file or the new one, never half of one);
/// whether there was one.
pub fn remove_key(path: &Path, id: &str) -> anyhow::Result<bool> {
    let ring = KeyRing::read(path)?;
    let (kept, removed) = ring.without(id);
    if removed == 0 {
        return Ok(false);
    }
    // Write the new file beside the old one, then rename it over.
    let temporary = path.with_extension("toml.new");
    let mut file = open_private(&temporary, true)?;
    writeln!(
        file,
        "# consent-ledger API keys: the SHA-256 of each key, never the key.\n{}",
        kept.to_toml()
    )
    .and_then(|()| file.sync_all())
    .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("cannot replace the key file {}", path.display()))?;
    Ok(true)
}

fn describe(principal: &Principal) -> String {
    match principal {
        Principal::Organisation(id) => format!("organisation {}", id.as_str()),
        Principal::Admin => "admin".to_owned(),
    }
}

/// Opens `path` to append (or, `truncate`, to rewrite), creating it
/// readable by its owner only.
fn open_private(path: &Path, truncate: bool) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true);
    if truncate {
        options.write(true).truncate(true);
    } else {
        options.append(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .with_context(|| format!("cannot open the key file {}", path.display()))
}

/// The key file `serve` reads again to rotate keys without a restart
/// ([`crate::api_key_reload`]): the one named or the data directory's;
/// none when the keys came as text in the environment (a restart applies
/// a new value there).
pub fn key_file_to_watch(
    api_keys: Option<&Path>,
    data_dir: &Path,
) -> anyhow::Result<Option<PathBuf>> {
    let source = API_KEYS.resolve(api_keys, default_key_file(data_dir))?;
    Ok(source.path().map(Path::to_path_buf))
}

/// How `serve` authenticates: the keys of the key file when there is one
/// (`--api-keys` / `CONSENT_API_KEYS_FILE`, the file's text in
/// `CONSENT_API_KEYS`, else DATA_DIR/api-keys.toml when it exists);
/// without one, open mode, but only on loopback addresses or when
/// `insecure_no_auth` says so.
pub fn serve_guard(
    api_keys: Option<&Path>,
    data_dir: &Path,
    insecure_no_auth: bool,
    addresses: &[SocketAddr],
) -> anyhow::Result<Guard> {
    let source = API_KEYS.resolve(api_keys, default_key_file(data_dir))?;
    guard_for(&source, insecure_no_auth, addresses)
}

fn guard_for(
    source: &KeySource,
    insecure_no_auth: bool,
    addresses: &[SocketAddr],
) -> anyhow::Result<Guard> {
    let shown = API_KEYS.describe(source);
    let ring = match source {
        KeySource::Value { text, .. } => Some(KeyRing::parse(text).map_err(|error| {
            API_KEYS.not_a_key(source, &format!("the TOML text of a key file ({error})"))
        })?),
        KeySource::Named { path } => Some(KeyRing::read(path)?),
        KeySource::Default { path } if path.exists() => Some(KeyRing::read(path)?),
        KeySource::Default { .. } => None,
    };
    if let Some(ring) = ring {
        if ring.is_empty() {
            tracing::warn!(
                keys = %shown,
                "the API key file holds no key: every API call is refused until one is created"
            );
        }
        if insecure_no_auth {
            tracing::warn!("--insecure-no-auth is ignored: the key file's keys are enforced");
        }
        tracing::info!(keys = %shown, count = ring.entries().len(), "API keys required");
        return Ok(Guard::keys(ring));
    }
    let path = source.path().unwrap_or(Path::new("api-keys.toml"));
    if let Some(exposed) = addresses.iter().find(|address| !address.ip().is_loopback()) {
        if !insecure_no_auth {
            bail!(
                "no API key file at {} and {exposed} is not a loopback address: create keys with \
                 `consent-ledger api-key create --organisation ORG` (and `--admin`), name a key \
                 file with --api-keys (CONSENT_API_KEYS_FILE) or give its text in \
                 CONSENT_API_KEYS, or pass --insecure-no-auth to serve without authentication",
                path.display()
            );
        }
        tracing::warn!(
            address = %exposed,
            "--insecure-no-auth: serving WITHOUT authentication on a non-loopback address; \
             anyone who can reach it can read and write every organisation's data"
        );
        return Ok(Guard::Open);
    }
    tracing::warn!(
        file = %path.display(),
        "no API key file: serving without authentication, on loopback only; \
         create keys with `consent-ledger api-key create`"
    );
    Ok(Guard::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> SocketAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn without_keys_only_loopback_or_explicitly_insecure_serves_open() {
        let dir = tempfile::tempdir().expect("temp dir");
        let loopback = [address("127.0.0.1:8080"), address("[::1]:50051")];
        assert!(matches!(
            serve_guard(None, dir.path(), false, &loopback),
            Ok(Guard::Open)
        ));
        let exposed = [address("127.0.0.1:8080"), address("0.0.0.0:50051")];
        let error = serve_guard(None, dir.path(), false, &exposed)
            .expect_err("refused")
            .to_string();
        assert!(error.contains("0.0.0.0:50051"), "{error}");
        assert!(error.contains("--insecure-no-auth"), "{error}");
        assert!(matches!(
            serve_guard(None, dir.path(), true, &exposed),
            Ok(Guard::Open)
        ));
    }

    #[test]
    fn the_key_files_text_may_come_from_the_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = format!(
            "[[key]]\nsha256 = \"{}\"\norganisation = \"acme\"\n",
            "ab".repeat(32)
        );
        let source = API_KEYS
            .resolve_from(
                Some(zeroize::Zeroizing::new(text)),
                None,
                default_key_file(dir.path()),
            )
            .expect("the value");
        let exposed = [address("0.0.0.0:8080")];
        match guard_for(&source, false, &exposed).map(|guard| guard.current_keys()) {
            Ok(Some(ring)) => assert_eq!(ring.entries().len(), 1),
            Ok(None) => panic!("expected the keys to be enforced"),
            Err(error) => panic!("{error:#}"),
        }
        let broken = API_KEYS
            .resolve_from(
                Some(zeroize::Zeroizing::new("not toml [".to_owned())),
                None,
                default_key_file(dir.path()),
            )
            .expect("the value");
        let Err(error) = guard_for(&broken, false, &exposed) else {
            panic!("a key file that is not TOML is refused");
        };
        let error = format!("{error:#}");
        assert!(error.contains("CONSENT_API_KEYS"), "{error}");
    }

    #[test]
    fn a_key_file_is_enforced_even_when_told_insecure() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(default_key_file(dir.path()), "").expect("key file");
        let exposed = [address("0.0.0.0:8080")];
        assert!(matches!(
            serve_guard(None, dir.path(), true, &exposed),
            Ok(Guard::Keys(_))
        ));
        let missing = dir.path().join("elsewhere.toml");
        let error = serve_guard(Some(&missing), dir.path(), false, &exposed)
            .expect_err("a named key file must exist")
            .to_string();
        assert!(error.contains("elsewhere.toml"), "{error}");
    }
}
