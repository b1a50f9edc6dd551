//! What values hold on the heap, counted from their capacities (not their
//! lengths): the sums behind [`crate::Catalog::heap_bytes`], which a
//! server's memory budget is made of. Each allocation also costs the
//! allocator a little (a size class, a header): counted per allocation as
//! [`ALLOCATION`].

use std::collections::HashMap;

/// What the allocator adds to each allocation, about (glibc: a header word
/// and rounding to 16 bytes; jemalloc and mimalloc round to a size class).
pub const ALLOCATION: usize = 16;

/// The bytes of `n` bytes asked of the allocator (none for none).
pub fn block(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        n + ALLOCATION
    }
}

/// The heap bytes of a `Vec` (its capacity, not its length).
pub fn vec<T>(v: &Vec<T>) -> usize {
    block(v.capacity() * std::mem::size_of::<T>())
}

/// The heap bytes of a `Vec` of `Vec`s: the outer one and each inner one.
pub fn vecs<T>(v: &Vec<Vec<T>>) -> usize {
    vec(v) + v.iter().map(vec).sum::<usize>()
}

/// The heap bytes of a string.
pub fn string(s: &str) -> usize {
    block(s.len())
}

/// The heap bytes of a hash table (hashbrown's layout, which std's maps
/// use too) of `capacity` entries of `slot` bytes: a power of two of
/// buckets at most 7/8 full, each with its slot and a control byte.
pub fn table(capacity: usize, slot: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 {
        (capacity + 1).next_power_of_two()
    } else {
        (capacity * 8 / 7).next_power_of_two()
    };
    block(buckets * (slot + 1) + 16)
}

/// The heap bytes of a `HashMap`'s table (not what its keys and values
/// hold themselves).
pub fn map<K, V, S>(m: &HashMap<K, V, S>) -> usize {
    table(m.capacity(), std::mem::size_of::<(K, V)>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_counts_not_length() {
        let mut v: Vec<u64> = Vec::with_capacity(100);
        v.push(1);
        assert_eq!(vec(&v), 800 + ALLOCATION);
        assert_eq!(vec(&Vec::<u64>::new()), 0);
    }

    #[test]
    fn a_table_counts_its_buckets_and_control_bytes() {
        let mut m: HashMap<u64, u32> = HashMap::new();
        assert_eq!(map(&m), 0);
        m.extend((0..1000).map(|i| (i, 0)));
        // 1,000 entries fit 2,048 buckets of 16 bytes plus a control byte each.
        assert_eq!(map(&m), block(2048 * 17 + 16));
    }
}
