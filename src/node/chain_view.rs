//! A node's own view of the chain: which blocks it has, is fetching or rejected, its tip
//! and its orphan pool.
//!
//! Blocks themselves live once in the shared [`crate::chain::BlockStore`]; what a node
//! knows of a block is one byte. Those bytes sit in one [`BlockStates`] table for all
//! nodes, laid out block by block: while a block spreads, every node it reaches reads and
//! writes the same few cache lines, where a byte array per node would cost a cache miss per
//! message. Each node reads and writes only its own column, through its context. The rules
//! a node follows with this state are in the rest of [`crate::node`].

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
    /// time: the node has it, rejected it, or asked for it (requests are always answered).
    pub fn ignores_announcement(self) -> bool {
        matches!(
            self,
            BlockState::Requested
                | BlockState::Received
                | BlockState::Accepted
                | BlockState::Invalid
        )
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
#[derive(Clone, Debug)]
pub struct BlockStates {
    nodes: usize,
    bytes: Vec<u8>,
}

impl BlockStates {
    /// A table for `nodes` nodes that all hold genesis (block 0).
    pub fn new(nodes: usize) -> BlockStates {
        BlockStates { nodes, bytes: vec![BlockState::Accepted as u8; nodes] }
    }

    /// What `node` knows of `block`.
    #[inline]
    pub fn get(&self, node: NodeId, block: BlockId) -> BlockState {
        let i = block.index() * self.nodes + node.index();
        self.bytes.get(i).map_or(BlockState::Unknown, |&s| BlockState::from_u8(s))
    }

    /// Records what `node` now knows of `block`.
    #[inline]
    pub fn set(&mut self, node: NodeId, block: BlockId, state: BlockState) {
        let i = block.index() * self.nodes + node.index();
        if i >= self.bytes.len() {
            self.bytes.resize((block.index() + 1) * self.nodes, BlockState::Unknown as u8);
        }
        self.bytes[i] = state as u8;
    }
}
