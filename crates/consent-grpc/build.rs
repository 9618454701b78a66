//! Generates the tonic client and server of `consent.v1.ConsentLedger`
//! without a system `protoc`, and nothing else:
//!
//! 1. protox (pure Rust) compiles `proto/consent/v1/*.proto`, the same files
//!    consent-schema compiles;
//! 2. tonic-prost-build generates the service code with every message type
//!    taken from `consent_schema::v1` (`extern_path`), so the gRPC API and
//!    the HTTP JSON API share one set of message types, and no message
//!    type is generated here.

use std::error::Error;
use std::path::{Path, PathBuf};

/// The folder of the `consent.v1` files, relative to the include root.
const PACKAGE_DIR: &str = "consent/v1";

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let include_root = manifest_dir.join("../../proto").canonicalize()?;
    let package_dir = include_root.join(PACKAGE_DIR);

    let files = proto_files(&package_dir)?;
    if files.is_empty() {
        return Err(format!("no .proto files in {}", package_dir.display()).into());
    }
    println!("cargo:rerun-if-changed={}", package_dir.display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let descriptor_set = protox::compile(&files, [&include_root])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .build_transport(true)
        // Well-known types are consent-schema's too (pbjson-types), not
        // prost-types' default.
        .compile_well_known_types(true)
        .extern_path(".consent.v1", "::consent_schema::v1")
        .extern_path(".google.protobuf", "::consent_schema::pbjson_types")
        .compile_fds(descriptor_set)?;
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
