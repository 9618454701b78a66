//! Key to partition: the same answer for every log implementation.
//!
//! Uses Kafka's Java-client default for keyed records,
//! `(murmur2(key) & 0x7fffffff) % partitions`, so that producers written in
//! other languages with that partitioner (librdkafka's `murmur2_random`, the
//! Java client) place a subject's records on the same partition as the
//! ledger does.

/// Kafka's murmur2 seed.
const SEED: u32 = 0x9747_b28c;
const M: u32 = 0x5bd1_e995;
const R: u32 = 24;

/// The partition of `key` among `partitions` partitions.
///
/// `partitions` must be at least 1: every log validates its layout when it
/// opens. For 0 this returns partition 0 rather than panicking.
pub fn partition_for(key: &[u8], partitions: u32) -> u32 {
    to_positive(murmur2(key))
        .checked_rem(partitions)
        .unwrap_or(0)
}

/// Kafka's `Utils.toPositive`: clears the sign bit.
fn to_positive(n: i32) -> u32 {
    u32::from_ne_bytes(n.to_ne_bytes()) & 0x7fff_ffff
}

/// Kafka's murmur2 (seed 0x9747b28c), bit for bit the Java client's
/// `Utils.murmur2`: little-endian 4-byte blocks, the tail mixed in from its
/// last byte down, Java's 32-bit wrapping arithmetic.
pub fn murmur2(data: &[u8]) -> i32 {
    // Java lengths are ints; keys never approach 4 GiB.
    let length = u32::try_from(data.len()).unwrap_or(u32::MAX);
    let mut h = SEED ^ length;

    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }

    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate().rev() {
            h ^= u32::from(byte) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }

    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    i32::from_ne_bytes(h.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kafka's `UtilsTest.testMurmur2` and librdkafka's `rdmurmur2.c` unit
    /// test vectors (the latter given there as unsigned hex).
    const VECTORS: &[(&[u8], i32)] = &[
        // Kafka UtilsTest
        (b"21", -973_932_308),
        (b"foobar", -790_332_482),
        (b"a-little-bit-long-string", -985_981_536),
        (b"a-little-bit-longer-string", -1_486_304_829),
        (
            b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
            -58_897_971,
        ),
        (b"abc", 479_470_107),
        // librdkafka rdmurmur2.c
        (b"kafka", signed(0xd067_cf64)),
        (b"giberish123456789", signed(0x8f55_2b0c)),
        (b"1234", signed(0x9fc9_7b14)),
        (b"234", signed(0xe7c0_09ca)),
        (b"34", signed(0x8739_30da)),
        (b"4", signed(0x5a4b_5ca1)),
        (
            b"PreAmbleWillBeRemoved,ThePrePartThatIs",
            signed(0x7842_4f1c),
        ),
        (
            b"reAmbleWillBeRemoved,ThePrePartThatIs",
            signed(0x4a62_b377),
        ),
        (b"eAmbleWillBeRemoved,ThePrePartThatIs", signed(0xe0e4_e09e)),
        (b"AmbleWillBeRemoved,ThePrePartThatIs", signed(0x62b8_b43f)),
        (b"", signed(0x106e_08d9)),
    ];

    /// librdkafka prints hashes unsigned; Java's are the same bits as `int`.
    const fn signed(hash: u32) -> i32 {
        i32::from_ne_bytes(hash.to_ne_bytes())
    }

    #[test]
    fn murmur2_matches_kafka_and_librdkafka_vectors() {
        for &(key, expected) in VECTORS {
            assert_eq!(
                murmur2(key),
                expected,
                "murmur2({:?})",
                String::from_utf8_lossy(key)
            );
        }
    }

    #[test]
    fn partition_is_the_positive_hash_modulo_the_partition_count() {
        // murmur2("21") = -973932308; & 0x7fffffff = 1173551340.
        assert_eq!(partition_for(b"21", 1_000), 1_173_551_340 % 1_000);
        assert_eq!(partition_for(b"abc", 7), 479_470_107 % 7);
        for key in [&b"org-1/subject-1"[..], b"", b"x"] {
            assert!(partition_for(key, 8) < 8);
            assert_eq!(partition_for(key, 1), 0);
        }
    }

    #[test]
    fn zero_partitions_does_not_panic() {
        assert_eq!(partition_for(b"foobar", 0), 0);
    }
}
