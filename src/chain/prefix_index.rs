//! An index from 32-byte hashes (block hashes, transaction ids) to small ids, for lookups only.
//!
//! Why not a `HashMap<[u8; 32], Id>`: a long run indexes millions of hashes, and a whole hash
//! per entry is most of the index. The owner of the index keeps every indexed hash anyway
//! (the block store its blocks' hashes, the transaction pool its transactions' ids), so the
//! index is keyed by the hash's first 8 bytes and a hit is confirmed against the owner's
//! copy: about 16 bytes an entry instead of 40 to 50. The rare second hash whose first 8 bytes
//! are taken goes to a small ordered map of whole hashes.
//!
//! The prefixes are split over [`PrefixIndex::SHARDS`] maps by the hash's ninth byte, so that
//! growing the index resizes one small map at a time: a single map, at each doubling, briefly
//! holds its old table and one twice the size, which at a million entries is a spike of tens
//! of megabytes.
//!
//! Nothing iterates the maps, so hash order cannot leak into a run.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

/// Ids of type `V` by 32-byte hash; see the module docs.
#[derive(Debug)]
pub(crate) struct PrefixIndex<V> {
    by_prefix: Box<[FxHashMap<u64, V>]>,
    collisions: BTreeMap<[u8; 32], V>,
}

impl<V: Copy> Default for PrefixIndex<V> {
    fn default() -> PrefixIndex<V> {
        PrefixIndex {
            by_prefix: (0..Self::SHARDS).map(|_| FxHashMap::default()).collect(),
            collisions: BTreeMap::new(),
        }
    }
}

impl<V: Copy> PrefixIndex<V> {
    /// Number of shards of the prefix map.
    const SHARDS: usize = 256;

    fn prefix(hash: &[u8; 32]) -> u64 {
        u64::from_le_bytes(hash[..8].try_into().expect("8 bytes"))
    }

    /// The shard `hash`'s prefix lives in (picked by a byte outside the prefix).
    fn shard(hash: &[u8; 32]) -> usize {
        usize::from(hash[8])
    }

    /// The id indexed under `hash`; `hash_of` gives an indexed id's whole hash.
    pub(crate) fn get(&self, hash: &[u8; 32], hash_of: impl Fn(V) -> [u8; 32]) -> Option<V> {
        match self.by_prefix[Self::shard(hash)].get(&Self::prefix(hash)) {
            Some(&id) if hash_of(id) == *hash => Some(id),
            Some(_) => self.collisions.get(hash).copied(),
            None => None,
        }
    }

    /// Indexes `id` under `hash`, replacing the id indexed under it before, if any.
    pub(crate) fn insert(&mut self, hash: [u8; 32], id: V, hash_of: impl Fn(V) -> [u8; 32]) {
        match self.by_prefix[Self::shard(&hash)].entry(Self::prefix(&hash)) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(id);
            }
            std::collections::hash_map::Entry::Occupied(mut e) => {
                if hash_of(*e.get()) == hash {
                    e.insert(id);
                } else {
                    self.collisions.insert(hash, id);
                }
            }
        }
    }

    /// How many hashes are kept whole (their first 8 bytes were taken).
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
