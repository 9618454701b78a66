//! proto/ is a contract: `buf lint` passes with the root buf.yaml, and
//! `buf breaking` finds nothing against the last released schema
//! (proto/released/consent-v1.binpb, see its README), so no change can
//! renumber, rename or retype what producers, consumers and the generated
//! clients rely on. And the check is live: a renumbered field is caught.
//!
//! buf comes from npm (@bufbuild/buf, pinned by clients/typescript's lock
//! file, installed by .ci/install-client-tools.sh): a missing buf fails
//! the test, naming the script.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const RELEASED: &str = "proto/released/consent-v1.binpb";

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs buf with `args` in `dir`.
fn buf(dir: &Path, args: &[&str]) -> Output {
    let buf = repository().join("clients/typescript/node_modules/.bin/buf");
    Command::new(&buf)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run {} ({error}): install it with `bash .ci/install-client-tools.sh` \
                 (scripts/test.sh runs it)",
                buf.display()
            )
        })
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_schema_passes_buf_lint() {
    let output = buf(&repository(), &["lint"]);
    assert!(output.status.success(), "buf lint:\n{}", text(&output));
}

#[test]
fn the_schema_breaks_nothing_of_the_last_release() {
    let output = buf(&repository(), &["breaking", "--against", RELEASED]);
    assert!(
        output.status.success(),
        "buf breaking against {RELEASED} (a breaking change needs a new package, \
         not a new baseline; see proto/released/README.md):\n{}",
        text(&output)
    );
}

#[test]
fn a_renumbered_field_is_a_breaking_change() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let copy = scratch.path();
    std::fs::copy(repository().join("buf.yaml"), copy.join("buf.yaml")).expect("copy buf.yaml");
    let proto = copy.join("proto/consent/v1");
    std::fs::create_dir_all(&proto).expect("mkdir");
    for entry in std::fs::read_dir(repository().join("proto/consent/v1")).expect("proto/") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_owned();
        std::fs::copy(&path, proto.join(name)).expect("copy a .proto");
    }
    let events = proto.join("events.proto");
    let schema = std::fs::read_to_string(&events).expect("events.proto");
    let renumbered = schema.replacen("string subject_id = 3;", "string subject_id = 99;", 1);
    assert_ne!(schema, renumbered, "Envelope.subject_id is field 3");
    std::fs::write(&events, renumbered).expect("write");

    let released = repository().join(RELEASED);
    let output = buf(
        copy,
        &["breaking", "--against", &released.display().to_string()],
    );
    let report = text(&output);
    assert!(!output.status.success(), "not caught:\n{report}");
    assert!(report.contains("subject_id"), "{report}");
}
