//! Generates the tonic client and server of `consent.v1.ConsentLedger`,
//! and nothing else, from the descriptor set consent-schema's build script
//! compiled (`DEP_CONSENT_SCHEMA_DESCRIPTOR_SET`): proto/ is compiled once,
//! and every message type is taken from `consent_schema::v1`
//! (`extern_path`), so the gRPC API and the HTTP JSON API share one set of
//! message types.

use prost::Message;
use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::var("DEP_CONSENT_SCHEMA_DESCRIPTOR_SET").map_err(|_| {
        "consent-schema did not export its descriptor set (links = \"consent_schema\")"
    })?;
    println!("cargo:rerun-if-changed={path}");
    let bytes = std::fs::read(&path)?;
    let descriptor_set = prost_types::FileDescriptorSet::decode(bytes.as_slice())?;
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
