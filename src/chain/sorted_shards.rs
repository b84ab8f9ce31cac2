//! A map kept as sorted arrays, for the tables of a long run that only grow.
//!
//! A hash map pays for its speed in room: a table is between seven-sixteenths and
//! seven-eighths full, so an entry costs up to twice its size, and each doubling briefly
//! holds the old table beside the new one. The block hash index and the UTXO set's final
//! coins hold an entry per block for the whole run (a million of each in a million-block
//! run) and are looked up far less often than they grow, so they keep their entries in
//! [`SortedShards::SHARDS`] arrays instead, each sorted by key and grown by an eighth at a
//! time: an entry then costs its own size and about 6 % more. The caller picks the shard
//! (from bits of a hash that spread evenly), so each array stays short: at a million
//! entries, about 250, and an insertion moves a few kilobytes at most.
//!
//! Lookups are binary searches; iteration runs over shards in order and keys in order, so
//! nothing depends on hash order.

/// Entries `(K, V)` in [`SortedShards::SHARDS`] sorted arrays (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SortedShards<K, V> {
    shards: Box<[Vec<(K, V)>]>,
    len: usize,
}

impl<K: Ord + Copy, V: Copy> Default for SortedShards<K, V> {
    fn default() -> SortedShards<K, V> {
        SortedShards { shards: (0..Self::SHARDS).map(|_| Vec::new()).collect(), len: 0 }
    }
}

impl<K: Ord + Copy, V: Copy> SortedShards<K, V> {
    /// Number of shards; callers pick one with [`SortedShards::shard_of`].
    pub(crate) const SHARDS: usize = 4096;

    /// The shard for a key whose hash has these two bytes (12 of their bits are used).
    pub(crate) fn shard_of(a: u8, b: u8) -> usize {
        (usize::from(a) << 4) | usize::from(b >> 4)
    }

    /// Number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The value under `key` in `shard`.
    pub(crate) fn get(&self, shard: usize, key: &K) -> Option<&V> {
        let entries = &self.shards[shard];
        entries.binary_search_by(|e| e.0.cmp(key)).ok().map(|i| &entries[i].1)
    }

    /// Sets the value under `key` in `shard`; returns the one it replaced, if any.
    pub(crate) fn insert(&mut self, shard: usize, key: K, value: V) -> Option<V> {
        let entries = &mut self.shards[shard];
        match entries.binary_search_by(|e| e.0.cmp(&key)) {
            Ok(i) => Some(std::mem::replace(&mut entries[i].1, value)),
            Err(i) => {
                if entries.len() == entries.capacity() {
                    // Grow by an eighth, not by doubling (see the module docs).
                    entries.reserve_exact(entries.len() / 8 + 4);
                }
                entries.insert(i, (key, value));
                self.len += 1;
                None
            }
        }
    }

    /// Removes the entry under `key` in `shard`; returns its value, if there was one.
    pub(crate) fn remove(&mut self, shard: usize, key: &K) -> Option<V> {
        let entries = &mut self.shards[shard];
        let i = entries.binary_search_by(|e| e.0.cmp(key)).ok()?;
        self.len -= 1;
        Some(entries.remove(i).1)
    }

    /// Every entry, shard by shard, each shard in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &(K, V)> {
        self.shards.iter().flatten()
    }

    /// Bytes held by the arrays (their capacity), for the tests that bound memory.
    #[cfg(test)]
    pub(crate) fn bytes_held(&self) -> usize {
        self.shards.iter().map(|s| s.capacity() * std::mem::size_of::<(K, V)>()).sum::<usize>()
            + Self::SHARDS * std::mem::size_of::<Vec<(K, V)>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A deterministic stream of pseudo-random 64-bit keys.
    fn keys(n: usize) -> Vec<u64> {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            })
            .collect()
    }

    fn shard(k: u64) -> usize {
        let b = k.to_le_bytes();
        SortedShards::<u64, u32>::shard_of(b[0], b[1])
    }

    #[test]
    fn behaves_like_an_ordered_map() {
        let mut sharded = SortedShards::<u64, u32>::default();
        let mut plain = BTreeMap::new();
        let ks = keys(20_000);
        for (i, &k) in ks.iter().enumerate() {
            // Every fifth key again (a replacement), every seventh removed.
            let k = if i % 5 == 4 { ks[i / 2] } else { k };
            assert_eq!(sharded.insert(shard(k), k, i as u32), plain.insert(k, i as u32));
            if i % 7 == 6 {
                let gone = ks[i / 3];
                assert_eq!(sharded.remove(shard(gone), &gone), plain.remove(&gone));
            }
        }
        assert_eq!(sharded.len(), plain.len());
        for &k in &ks {
            assert_eq!(sharded.get(shard(k), &k), plain.get(&k));
        }
        assert_eq!(sharded.get(shard(7), &7), None);
        let mut listed: Vec<(u64, u32)> = sharded.iter().copied().collect();
        listed.sort_unstable();
        assert!(listed.into_iter().eq(plain.into_iter()));
    }

    #[test]
    fn an_entry_costs_at_most_an_eighth_more_than_its_size() {
        // 12-byte entries: a prefix as two u32 and a u32 id, as the block index keeps them.
        let mut sharded = SortedShards::<[u32; 2], u32>::default();
        let n = 400_000;
        for (i, k) in keys(n).into_iter().enumerate() {
            let key = [k as u32, (k >> 32) as u32];
            sharded.insert(shard(k), key, i as u32);
        }
        let per_entry = sharded.bytes_held() as f64 / n as f64;
        // 12 bytes, at most 1/8 + 4 slots of room per shard, and the shard headers.
        assert!(per_entry <= 12.0 * 1.125 + 1.0, "{per_entry:.2} bytes per entry");
    }
}
