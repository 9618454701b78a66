//! The key file: created private, never overwritten, refused when others
//! can read it, and loading it gives back the same signing identity.
#![cfg(unix)]

use consent_evidence::merkle::empty_root;
use consent_evidence::{generate_key_file, load_key_file, Checkpoint, KeyFileError, VerifierKey};
use consent_secret_file::SecretFileError;
use std::fs;
use std::os::unix::fs::PermissionsExt;

const ORIGIN: &str = "ledger.example/consent";

#[test]
fn a_generated_key_file_is_private_and_loads_as_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoint.key");
    let generated = generate_key_file(&path, ORIGIN).unwrap();

    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(&format!("PRIVATE+KEY+{ORIGIN}+{}+", generated.key_id())));

    let loaded = load_key_file(&path).unwrap();
    assert_eq!(loaded.verifier_key(), generated.verifier_key());

    // The published verifier key checks what the loaded key signs.
    let published: VerifierKey = generated.verifier_key().to_string().parse().unwrap();
    let checkpoint = Checkpoint::over(ORIGIN, [], 0).unwrap();
    assert_eq!(checkpoint.root_hash, empty_root());
    let note = checkpoint.sign(&loaded).unwrap();
    assert_eq!(Checkpoint::open(&note, &[published]).unwrap().0, checkpoint);
}

#[test]
fn two_generated_keys_differ() {
    let dir = tempfile::tempdir().unwrap();
    let a = generate_key_file(&dir.path().join("a.key"), ORIGIN).unwrap();
    let b = generate_key_file(&dir.path().join("b.key"), ORIGIN).unwrap();
    assert_ne!(a.verifier_key(), b.verifier_key());
}

#[test]
fn an_existing_key_file_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoint.key");
    let first = generate_key_file(&path, ORIGIN).unwrap();
    assert!(matches!(
        generate_key_file(&path, ORIGIN),
        Err(KeyFileError::File(SecretFileError::AlreadyExists(_)))
    ));
    assert_eq!(
        load_key_file(&path).unwrap().verifier_key(),
        first.verifier_key()
    );
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoint.key");
    generate_key_file(&path, ORIGIN).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(
        load_key_file(&path),
        Err(KeyFileError::File(SecretFileError::TooOpen {
            mode: 0o644,
            ..
        }))
    ));
}

#[test]
fn a_damaged_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoint.key");
    generate_key_file(&path, ORIGIN).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    // Another name with the same seed no longer matches the stated key id.
    fs::write(&path, text.replacen(ORIGIN, "other.example/log", 1)).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(matches!(
        load_key_file(&path),
        Err(KeyFileError::Invalid { .. })
    ));

    assert!(matches!(
        load_key_file(&dir.path().join("missing.key")),
        Err(KeyFileError::File(SecretFileError::Io { .. }))
    ));
}

#[test]
fn an_invalid_origin_is_refused_before_any_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoint.key");
    assert!(matches!(
        generate_key_file(&path, "has space"),
        Err(KeyFileError::Invalid { .. })
    ));
    assert!(!path.exists());
}
