//! A node's own view of the chain: which blocks it has, is fetching or rejected, its tip
//! and its orphan pool.
//!
//! Blocks themselves live once in the shared [`crate::chain::BlockStore`]; what a node
//! knows of a block is one byte. Those bytes sit in one [`BlockStates`] table for all
//! nodes, laid out block by block: while a block spreads, every node it reaches reads and
//! writes the same few cache lines, where a byte array per node would cost a cache miss per
//! message. Each node reads and writes only its own column, through its context. The rules
//! a node follows with this state are in the rest of [`crate::node`].

mod packed_rows;

use crate::chain::BlockId;
use crate::id::{LinkId, NodeId};

/// What a node knows about one block. Transitions only move forward, except an orphan that
/// is evicted from a full pool, which becomes [`BlockState::Evicted`] and may be fetched
/// again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum BlockState {
    /// Never heard of it.
    Unknown = 0,
    /// Asked a peer for it (getdata or getblocktxn) and waiting.
    Requested = 1,
    /// Has the block and is validating it.
    Received = 2,
    /// Valid and connected to the node's block tree.
    Accepted = 3,
    /// Failed validation.
    Invalid = 4,
    /// Has the block but not its parent; waiting in the orphan pool.
    Orphan = 5,
    /// Was an orphan, dropped from a full pool; treated like unknown.
    Evicted = 6,
}

impl BlockState {
    /// Every state, in the order of their values.
    pub const ALL: [BlockState; 7] = [
        BlockState::Unknown,
        BlockState::Requested,
        BlockState::Received,
        BlockState::Accepted,
        BlockState::Invalid,
        BlockState::Orphan,
        BlockState::Evicted,
    ];

    fn from_u8(v: u8) -> BlockState {
        match v {
            0 => BlockState::Unknown,
            1 => BlockState::Requested,
            2 => BlockState::Received,
            3 => BlockState::Accepted,
            4 => BlockState::Invalid,
            5 => BlockState::Orphan,
            _ => BlockState::Evicted,
        }
    }

    /// Whether an announcement (inv) of the block would be ignored now and at any later
    /// time: the node has it or rejected it, or asked for it (requests are always answered)
    /// and `requests_time_out` is false. With request timeouts a node that asked still reads
    /// each announcement (it notes the announcer, to ask it if the request times out), and
    /// a request whose announcers run out lapses back to `Unknown`.
    pub fn ignores_announcement(self, requests_time_out: bool) -> bool {
        match self {
            BlockState::Requested => !requests_time_out,
            BlockState::Received | BlockState::Accepted | BlockState::Invalid => true,
            _ => false,
        }
    }

    /// Whether the full block or a compact block would be ignored now and at any later time.
    pub fn ignores_block(self) -> bool {
        matches!(self, BlockState::Received | BlockState::Accepted | BlockState::Invalid)
    }

    /// Whether the node would fetch the block if told about it.
    pub fn wants(self) -> bool {
        matches!(self, BlockState::Unknown | BlockState::Evicted)
    }
}

/// An orphan waiting for its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Orphan {
    /// The block.
    pub block: BlockId,
    /// The link back to the peer it came from (its parent is requested there); `None` for
    /// a block of the node's own.
    pub from: Option<LinkId>,
}

/// What one node knows of the block tree, apart from its block states.
#[derive(Clone, Debug)]
pub struct ChainView {
    /// The block at the end of the node's most-work chain (first seen on ties).
    pub tip: BlockId,
    /// Blocks waiting for their parents, oldest first.
    pub orphans: Vec<Orphan>,
}

impl ChainView {
    /// A view whose tip is genesis.
    pub fn new(genesis: BlockId) -> ChainView {
        ChainView { tip: genesis, orphans: Vec::new() }
    }
}

/// What every node knows of every block: one byte per (block, node), block-major. A row
/// is added when a node first hears of a block beyond the last row; genesis is accepted
/// by everyone.
///
/// Rows of old blocks are kept compactly, losslessly: once a block is [`BlockStates::WINDOW`]
/// ids behind the newest row, its row moves out of the dense table and becomes one byte
/// when every node is in the same state (as for any block that has spread everywhere) or
/// stays a full row in a side table otherwise (stale blocks that some nodes never heard
/// of; four bits a node, see [`packed_rows`]). Reading an old row costs a branch; writing
/// one that was uniform turns it back into a full row. A million blocks then cost about a
/// megabyte instead of a byte per node each.
#[derive(Clone, Debug)]
pub struct BlockStates {
    nodes: usize,
    /// Rows of blocks `base..`, block-major.
    bytes: Vec<u8>,
    /// The first block whose row is in `bytes`.
    base: usize,
    /// Per block below `base`: the state of every node, or [`BlockStates::MIXED`].
    old: Vec<u8>,
    /// Full rows of blocks below `base` whose nodes differ.
    mixed: packed_rows::PackedRows,
}

impl BlockStates {
    /// Blocks kept in the dense table behind the newest row (rows move out in batches of
    /// this many, once twice as many are dense).
    pub const WINDOW: usize = 1024;

    /// Marks an old block whose row is in `mixed`.
    const MIXED: u8 = u8::MAX;

    /// A table for `nodes` nodes that all hold genesis (block 0).
    pub fn new(nodes: usize) -> BlockStates {
        BlockStates {
            nodes,
            bytes: vec![BlockState::Accepted as u8; nodes],
            base: 0,
            old: Vec::new(),
            mixed: packed_rows::PackedRows::new(nodes),
        }
    }

    /// What `node` knows of `block`.
    #[inline]
    pub fn get(&self, node: NodeId, block: BlockId) -> BlockState {
        let Some(row) = block.index().checked_sub(self.base) else {
            return self.get_old(node, block);
        };
        let i = row * self.nodes + node.index();
        self.bytes.get(i).map_or(BlockState::Unknown, |&s| BlockState::from_u8(s))
    }

    /// Asks the processor for the byte [`BlockStates::get`] reads for `node` and `block`
    /// (a hint only, see [`crate::engine::prefetch`]; nothing for an old row).
    #[inline]
    pub fn prefetch(&self, node: NodeId, block: BlockId) {
        if let Some(row) = block.index().checked_sub(self.base)
            && let Some(byte) = self.bytes.get(row * self.nodes + node.index())
        {
            crate::engine::prefetch::prefetch(byte);
        }
    }

    #[cold]
    fn get_old(&self, node: NodeId, block: BlockId) -> BlockState {
        match self.old[block.index()] {
            Self::MIXED => BlockState::from_u8(self.mixed.get(block.0, node.index())),
            uniform => BlockState::from_u8(uniform),
        }
    }

    /// Whether every node has accepted `block` (so none can still need anything below it
    /// unless it reorganises away from it): what makes a block final enough to prune.
    pub fn all_accepted(&self, block: BlockId) -> bool {
        let accepted = BlockState::Accepted as u8;
        let Some(row) = block.index().checked_sub(self.base) else {
            return match self.old[block.index()] {
                Self::MIXED => self.mixed.all(block.0, accepted),
                uniform => uniform == accepted,
            };
        };
        let start = row * self.nodes;
        self.bytes.get(start..start + self.nodes).is_some_and(|r| r.iter().all(|&s| s == accepted))
    }

    /// Records what `node` now knows of `block`.
    #[inline]
    pub fn set(&mut self, node: NodeId, block: BlockId, state: BlockState) {
        let Some(row) = block.index().checked_sub(self.base) else {
            return self.set_old(node, block, state);
        };
        let i = row * self.nodes + node.index();
        if i >= self.bytes.len() {
            self.bytes.resize((row + 1) * self.nodes, BlockState::Unknown as u8);
            if row >= 2 * Self::WINDOW {
                self.compact();
            }
            return self.set(node, block, state);
        }
        self.bytes[i] = state as u8;
    }

    #[cold]
    fn set_old(&mut self, node: NodeId, block: BlockId, state: BlockState) {
        let old = &mut self.old[block.index()];
        if *old == state as u8 {
            return;
        }
        if *old != Self::MIXED {
            self.mixed.insert(block.0, &vec![*old; self.nodes]);
            *old = Self::MIXED;
        }
        self.mixed.set(block.0, node.index(), state as u8);
    }

    /// Moves the oldest [`BlockStates::WINDOW`] dense rows out to the compact table.
    fn compact(&mut self) {
        let n = self.nodes;
        if n == 0 {
            return;
        }
        for (k, row) in self.bytes[..Self::WINDOW * n].chunks_exact(n).enumerate() {
            let first = row[0];
            if row.iter().all(|&s| s == first) {
                self.old.push(first);
            } else {
                self.old.push(Self::MIXED);
                let block = u32::try_from(self.base + k).expect("block ids are u32");
                self.mixed.insert(block, row);
            }
        }
        self.bytes.drain(..Self::WINDOW * n);
        self.base += Self::WINDOW;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ALL` lists every state once, in the order of their values, as the world's
    /// per-state bit masks assume.
    #[test]
    fn all_states_are_listed_by_value() {
        for (value, &state) in BlockState::ALL.iter().enumerate() {
            assert_eq!(state as usize, value);
            assert_eq!(BlockState::from_u8(value as u8), state);
        }
    }

    /// A table written in a scattered order (new blocks, late writes to old rows, rows that
    /// become uniform and mixed again) reads back exactly like a plain byte per (block, node),
    /// and keeps only the window dense.
    #[test]
    fn compact_rows_read_back_like_a_plain_table() {
        let (nodes, blocks) = (7usize, 5 * BlockStates::WINDOW + 17);
        let mut table = BlockStates::new(nodes);
        let mut plain = vec![vec![BlockState::Unknown as u8; nodes]; blocks];
        plain[0] = vec![BlockState::Accepted as u8; nodes];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % m as u64) as usize
        };
        for b in 1..blocks {
            for (node, slot) in plain[b].iter_mut().enumerate() {
                // Most blocks end accepted everywhere; every fifth stays mixed.
                let state = if b % 5 == 0 && node % 2 == 0 { 1 } else { 3 };
                table.set(NodeId(node as u32), BlockId(b as u32), BlockState::from_u8(state));
                *slot = state;
            }
            // A late write to an older row, sometimes one already compacted.
            let (ob, on, os) = (next(b + 1), next(nodes), next(7) as u8);
            table.set(NodeId(on as u32), BlockId(ob as u32), BlockState::from_u8(os));
            plain[ob][on] = os;
        }
        for (b, row) in plain.iter().enumerate() {
            for (node, &state) in row.iter().enumerate() {
                let got = table.get(NodeId(node as u32), BlockId(b as u32));
                assert_eq!(got as u8, state, "block {b} node {node}");
            }
            let all = row.iter().all(|&s| s == BlockState::Accepted as u8);
            assert_eq!(table.all_accepted(BlockId(b as u32)), all, "block {b}");
        }
        assert!(table.bytes.len() <= 2 * BlockStates::WINDOW * nodes);
        assert!(table.base >= 3 * BlockStates::WINDOW);
        assert_eq!(table.get(NodeId(0), BlockId(blocks as u32 + 5)), BlockState::Unknown);
    }
}
