//! Compiles `proto/consent/v1/*.proto` without a system `protoc`:
//!
//! 1. protox (pure Rust) parses the files into a `FileDescriptorSet`, with
//!    their imports (`google/protobuf/timestamp.proto`) included;
//! 2. the set is written to `$OUT_DIR/consent_v1_descriptor.bin`, which the
//!    crate exposes as `FILE_DESCRIPTOR_SET` (gRPC reflection, tooling) and
//!    hands to dependants' build scripts as `DEP_CONSENT_SCHEMA_DESCRIPTOR_SET`;
//! 3. prost-build generates the message types, with well-known types taken
//!    from pbjson-types so that they serialise in the proto3 JSON mapping;
//! 4. pbjson-build generates the proto3 JSON serde impls.

use std::error::Error;
use std::path::{Path, PathBuf};

/// The protobuf package the ledger speaks.
const PACKAGE: &str = ".consent.v1";
/// The folder of that package's files, relative to the include root.
const PACKAGE_DIR: &str = "consent/v1";

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let include_root = manifest_dir.join("../../proto").canonicalize()?;
    let package_dir = include_root.join(PACKAGE_DIR);

    let files = proto_files(&package_dir)?;
    if files.is_empty() {
        return Err(format!("no .proto files in {}", package_dir.display()).into());
    }
    // A new file in the folder, or a change to any of them, rebuilds.
    println!("cargo:rerun-if-changed={}", package_dir.display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let descriptor_set = protox::compile(&files, [&include_root])?;
    let descriptor_bytes = prost::Message::encode_to_vec(&descriptor_set);
    let descriptor_path = out_dir.join("consent_v1_descriptor.bin");
    std::fs::write(&descriptor_path, &descriptor_bytes)?;
    // For dependants' build scripts (`links = "consent_schema"`).
    println!("cargo:descriptor_set={}", descriptor_path.display());

    prost_build::Config::new()
        .compile_well_known_types()
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_fds(descriptor_set)?;

    pbjson_build::Builder::new()
        .register_descriptors(&descriptor_bytes)?
        // Emit zero values too ("allowed": false, "optOutTaken": false,
        // "offset": "0"): evidence and decisions state every fact rather
        // than leave a reader to know proto3's defaults. Input may still
        // omit them.
        .emit_fields()
        .build(&[PACKAGE])?;

    Ok(())
}

/// The package's `.proto` files, sorted so the build is reproducible.
fn proto_files(dir: &Path) -> Result<Vec<PathBuf>, Box<dyn Error>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "proto") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
