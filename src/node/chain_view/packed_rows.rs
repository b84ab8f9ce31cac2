//! The rows of old blocks whose nodes differ, four bits a node, in one chunked array.
//!
//! A stale block that some nodes never heard of keeps a full row of node states for the
//! whole run (see [`super::BlockStates`]): about one block in fifteen on a network with
//! forks. A row boxed on its own costs a byte a node, the allocator's header and an ordered
//! map's entry (about 140 bytes a row at 100 nodes); here a state takes four bits (there are
//! seven), rows sit one after another in fixed-size chunks, and the map keeps only a row
//! number (about 60 bytes a row at 100 nodes).

use std::collections::BTreeMap;

use crate::chain::chunked::ChunkedVec;

/// Rows of `nodes` states below 16, by block (see the module docs).
#[derive(Clone, Debug)]
pub(super) struct PackedRows {
    nodes: usize,
    /// Row number by block.
    rows: BTreeMap<u32, u32>,
    /// Rows of `nodes.div_ceil(2)` bytes, in the order they were added; node `i`'s state is
    /// the low half of byte `i / 2` for even `i`, the high half for odd.
    packed: ChunkedVec<u8>,
}

impl PackedRows {
    /// No rows, for `nodes` nodes.
    pub(super) fn new(nodes: usize) -> PackedRows {
        PackedRows { nodes, rows: BTreeMap::new(), packed: ChunkedVec::new() }
    }

    fn row_bytes(&self) -> usize {
        self.nodes.div_ceil(2)
    }

    /// Where `block`'s row starts.
    ///
    /// # Panics
    /// Panics if `block` has no row (a caller bug).
    fn start(&self, block: u32) -> usize {
        self.rows[&block] as usize * self.row_bytes()
    }

    /// Adds `block`'s row of `nodes` states (each below 16). `block` must have none yet.
    pub(super) fn insert(&mut self, block: u32, states: &[u8]) {
        debug_assert_eq!(states.len(), self.nodes);
        debug_assert!(!self.rows.contains_key(&block), "a block has one row");
        let row = u32::try_from(self.rows.len()).expect("fewer than 2^32 rows");
        for pair in states.chunks(2) {
            let high = pair.get(1).copied().unwrap_or(0);
            debug_assert!(pair[0] < 16 && high < 16);
            self.packed.push(pair[0] | (high << 4));
        }
        self.rows.insert(block, row);
    }

    /// Node `node`'s state in `block`'s row.
    pub(super) fn get(&self, block: u32, node: usize) -> u8 {
        self.nibble(self.start(block), node)
    }

    /// Node `node`'s state in the row that starts at `start`.
    fn nibble(&self, start: usize, node: usize) -> u8 {
        let byte = self.packed[start + node / 2];
        if node.is_multiple_of(2) { byte & 0x0f } else { byte >> 4 }
    }

    /// Sets node `node`'s state (below 16) in `block`'s row.
    pub(super) fn set(&mut self, block: u32, node: usize, state: u8) {
        debug_assert!(state < 16);
        let at = self.start(block) + node / 2;
        let byte = &mut self.packed[at];
        *byte = if node.is_multiple_of(2) {
            (*byte & 0xf0) | state
        } else {
            (*byte & 0x0f) | (state << 4)
        };
    }

    /// Whether every node's state in `block`'s row is `state`.
    pub(super) fn all(&self, block: u32, state: u8) -> bool {
        let start = self.start(block);
        (0..self.nodes).all(|node| self.nibble(start, node) == state)
    }

    /// Bytes held by the rows and the map's entries (not its nodes' room), for the tests
    /// that bound memory.
    #[cfg(test)]
    pub(super) fn bytes_held(&self) -> usize {
        self.packed.capacity() + self.rows.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_back_what_was_written_in_four_bits_a_node() {
        for nodes in [1usize, 2, 7, 100] {
            let mut rows = PackedRows::new(nodes);
            let mut plain: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
            // Blocks added out of order, as late writes to old uniform rows add them.
            for block in [9u32, 3, 40, 4, 1000] {
                let states: Vec<u8> =
                    (0..nodes).map(|i| ((i as u32 * 5 + block) % 7) as u8).collect();
                rows.insert(block, &states);
                plain.insert(block, states);
            }
            rows.set(40, nodes - 1, 6);
            plain.get_mut(&40).expect("row")[nodes - 1] = 6;
            rows.set(3, 0, 0);
            plain.get_mut(&3).expect("row")[0] = 0;
            for (&block, states) in &plain {
                for (node, &state) in states.iter().enumerate() {
                    assert_eq!(rows.get(block, node), state, "{nodes} nodes, block {block}");
                }
                let first = states[0];
                assert_eq!(rows.all(block, first), states.iter().all(|&s| s == first));
            }
        }
    }

    #[test]
    fn a_row_of_100_nodes_takes_at_most_60_bytes() {
        // 50 bytes of states and an 8-byte map entry (the map's nodes add a few more), at
        // 20,000 rows; a boxed row of bytes took about 140.
        let mut rows = PackedRows::new(100);
        let states: Vec<u8> = (0..100).map(|i| (i % 7) as u8).collect();
        for block in 0..20_000 {
            rows.insert(block * 15, &states);
        }
        let per_row = rows.bytes_held() as f64 / 20_000.0;
        assert!(per_row <= 60.0, "{per_row:.1} bytes per row");
    }
}
