pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/consent.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/consent.v1.serde.rs"));
}
