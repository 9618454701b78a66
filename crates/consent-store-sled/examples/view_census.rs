//! Prints what a sled view holds, by kind of key: keys, key bytes and
//! value bytes (the live data; the directory on disk holds more, sled's
//! own overhead and garbage).
//!
//! `cargo run --release -p consent-store-sled --example view_census -- VIEW_DIR`

use std::collections::BTreeMap;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: view_census VIEW_DIR")?;
    let db = sled::open(&dir)?;
    let tree = db.open_tree("view")?;
    let mut census: BTreeMap<u8, (u64, u64, u64)> = BTreeMap::new();
    for item in tree.iter() {
        let (key, value) = item?;
        let tag = key.first().copied().unwrap_or(0);
        let entry = census.entry(tag).or_default();
        entry.0 += 1;
        entry.1 += key.len() as u64;
        entry.2 += value.len() as u64;
    }
    println!(
        "{:>4} {:>12} {:>14} {:>14}",
        "kind", "keys", "key bytes", "value bytes"
    );
    let mut total = (0, 0, 0);
    for (tag, (keys, key_bytes, value_bytes)) in census {
        println!(
            "{:>4} {keys:>12} {key_bytes:>14} {value_bytes:>14}",
            tag as char
        );
        total = (total.0 + keys, total.1 + key_bytes, total.2 + value_bytes);
    }
    println!(
        "{:>4} {:>12} {:>14} {:>14}",
        "all", total.0, total.1, total.2
    );
    println!("size_on_disk {}", db.size_on_disk()?);
    Ok(())
}
