//! A small stable hash (FNV-1a, 64 bit) for feature hashing: the same input
//! gives the same bucket on every machine and in every version.

/// FNV-1a's start: the hash of no bytes.
pub(crate) const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// One more byte into an FNV-1a hash.
#[inline]
pub(crate) fn fnv1a_byte(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
}

/// Hashes bytes with FNV-1a.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_START, |h, &b| fnv1a_byte(h, b))
}

/// Mixes a hash into a well-spread 64-bit value (SplitMix64 finalizer).
pub fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A product's stable key: a well-spread hash of its id. Strategies break
/// exact ties by it, so which product wins does not depend on row order.
pub fn product_key(id: &str) -> u64 {
    mix(fnv1a(id.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vector() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
