//! Observers learn what happened in a run without being able to change it.
//!
//! The simulation emits read-only [`Record`]s at the moments things happen; an [`Observer`]
//! turns them into metrics, traces or narration. Observers never see node internals, so a
//! metric cannot depend on anything but the recorded history.

pub mod metrics;
pub mod output;

use crate::chain::{BlockId, RejectReason};
use crate::time::SimTime;

/// Something that happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    /// A miner found a block (the miner accepts it at once).
    BlockMined {
        /// The new block.
        block: BlockId,
        /// The mining node.
        miner: u32,
        /// When.
        time: SimTime,
    },
    /// A node validated and accepted a block.
    BlockAccepted {
        /// The node.
        node: u32,
        /// The block.
        block: BlockId,
        /// When.
        time: SimTime,
    },
    /// A node rejected a block.
    BlockRejected {
        /// The node.
        node: u32,
        /// The block.
        block: BlockId,
        /// Why.
        reason: RejectReason,
        /// When.
        time: SimTime,
    },
    /// A node's tip moved to a block that does not extend the old tip.
    Reorg {
        /// The node.
        node: u32,
        /// When.
        time: SimTime,
        /// Blocks disconnected from the old chain.
        depth: u32,
        /// The old tip.
        old_tip: BlockId,
        /// The new tip.
        new_tip: BlockId,
    },
}

/// Receives records as the run goes.
pub trait Observer {
    /// Called once per record, in event order.
    fn record(&mut self, record: &Record);
}

/// An observer that ignores everything (for runs whose outputs are not needed).
pub struct Discard;

impl Observer for Discard {
    fn record(&mut self, _: &Record) {}
}
