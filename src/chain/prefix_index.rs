//! An index from 32-byte hashes (block hashes, transaction ids) to small ids, for lookups only.
//!
//! Why not a `HashMap<[u8; 32], Id>`: a long run indexes millions of hashes, and a whole hash
//! per entry is most of the index. The owner of the index keeps every indexed hash anyway
//! (the block store its blocks' hashes, the transaction pool its transactions' ids), so the
//! index is keyed by the hash's first 4 bytes and a hit is confirmed against the owner's
//! copy. The rare second hash whose shard and first 4 bytes are taken (44 bits in all: about
//! once in thirty runs of a million hashes) goes to a small ordered map of whole hashes.
//!
//! The prefixes live in sorted arrays sharded by the hash's ninth and tenth bytes (see
//! [`SortedShards`]): 8 bytes an entry and about 6 % of room, instead of a hash map's 16
//! bytes an entry in a table up to half empty (about 36 bytes an entry at a million blocks),
//! and no table that doubles.
//!
//! Nothing depends on the order of entries, so hash order cannot leak into a run.

use std::collections::BTreeMap;

use crate::chain::sorted_shards::SortedShards;

/// The first 4 bytes of a hash, so that an entry with a 4-byte id takes 8 bytes.
type Prefix = u32;

/// Ids of type `V` by 32-byte hash; see the module docs.
#[derive(Debug)]
pub(crate) struct PrefixIndex<V> {
    by_prefix: SortedShards<Prefix, V>,
    collisions: BTreeMap<[u8; 32], V>,
}

impl<V: Copy> Default for PrefixIndex<V> {
    fn default() -> PrefixIndex<V> {
        PrefixIndex { by_prefix: SortedShards::default(), collisions: BTreeMap::new() }
    }
}

impl<V: Copy> PrefixIndex<V> {
    fn prefix(hash: &[u8; 32]) -> Prefix {
        u32::from_le_bytes(hash[..4].try_into().expect("4 bytes"))
    }

    /// The shard `hash`'s prefix lives in (picked by bytes outside the prefix).
    fn shard(hash: &[u8; 32]) -> usize {
        SortedShards::<Prefix, V>::shard_of(hash[8], hash[9])
    }

    /// The id indexed under `hash`; `hash_of` gives an indexed id's whole hash.
    pub(crate) fn get(&self, hash: &[u8; 32], hash_of: impl Fn(V) -> [u8; 32]) -> Option<V> {
        match self.by_prefix.get(Self::shard(hash), &Self::prefix(hash)) {
            Some(&id) if hash_of(id) == *hash => Some(id),
            Some(_) => self.collisions.get(hash).copied(),
            None => None,
        }
    }

    /// Indexes `id` under `hash`, replacing the id indexed under it before, if any.
    pub(crate) fn insert(&mut self, hash: [u8; 32], id: V, hash_of: impl Fn(V) -> [u8; 32]) {
        let (shard, prefix) = (Self::shard(&hash), Self::prefix(&hash));
        match self.by_prefix.get(shard, &prefix) {
            Some(&other) if hash_of(other) != hash => {
                self.collisions.insert(hash, id);
            }
            _ => {
                self.by_prefix.insert(shard, prefix, id);
            }
        }
    }

    /// How many hashes are indexed by prefix.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_prefix.len()
    }

    /// Bytes the prefix arrays hold, for the tests that bound memory.
    #[cfg(test)]
    pub(crate) fn bytes_held(&self) -> usize {
        self.by_prefix.bytes_held()
    }

    /// How many hashes are kept whole (their shard and first 4 bytes were taken).
    #[cfg(test)]
    fn collisions(&self) -> usize {
        self.collisions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(first: u8, last: u8) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        bytes[0] = first;
        bytes[31] = last;
        bytes
    }

    #[test]
    fn hashes_sharing_a_prefix_are_told_apart() {
        let hashes = [hash(1, 1), hash(1, 2), hash(2, 1), hash(1, 3)];
        let of = |id: u32| hashes[id as usize];
        let mut index = PrefixIndex::default();
        for (i, h) in hashes.iter().enumerate().take(3) {
            index.insert(*h, i as u32, of);
        }
        assert_eq!(index.collisions(), 1, "the second hash with prefix 1 is kept whole");
        for (i, h) in hashes.iter().enumerate().take(3) {
            assert_eq!(index.get(h, of), Some(i as u32));
        }
        assert_eq!(index.get(&hashes[3], of), None, "same first bytes, unknown hash");
        assert_eq!(index.get(&hash(9, 9), of), None);
    }

    #[test]
    fn an_entry_takes_at_most_10_bytes_at_a_million() {
        let hashes: Vec<[u8; 32]> =
            (0..1_000_000u32).map(|i| crate::chain::hash::sha256d(&i.to_le_bytes())).collect();
        let of = |id: u32| hashes[id as usize];
        let mut index = PrefixIndex::default();
        for (i, h) in hashes.iter().enumerate() {
            index.insert(*h, i as u32, of);
        }
        assert_eq!(index.len() + index.collisions(), hashes.len());
        for (i, h) in hashes.iter().enumerate().step_by(997) {
            assert_eq!(index.get(h, of), Some(i as u32));
        }
        assert_eq!(index.get(&hash(9, 9), of), None);
        let per_entry = index.bytes_held() as f64 / hashes.len() as f64;
        // 8 bytes an entry and at most an eighth of room (a hash map of 8-byte prefixes
        // took about 36 bytes an entry at a million blocks).
        assert!(per_entry <= 10.0, "{per_entry:.2} bytes per entry");
    }

    #[test]
    fn indexing_a_hash_again_replaces_its_id() {
        // Ids 0 and 2 share a hash (a transaction added twice); 1 shares the prefix only.
        let hashes = [hash(1, 1), hash(1, 2), hash(1, 1)];
        let of = |id: u32| hashes[id as usize];
        let mut index = PrefixIndex::default();
        index.insert(hashes[0], 0, of);
        index.insert(hashes[1], 1, of);
        index.insert(hashes[2], 2, of);
        assert_eq!(index.get(&hashes[0], of), Some(2));
        assert_eq!(index.get(&hashes[1], of), Some(1));
        index.insert(hashes[1], 1, of);
        assert_eq!(index.get(&hashes[1], of), Some(1));
        assert_eq!(index.collisions(), 1);
    }
}
