//! Observers learn what happened in a run without being able to change it.
//!
//! The simulation emits read-only [`Record`]s at the moments things happen; an [`Observer`]
//! turns them into metrics, traces or narration. Observers never see node internals, so a
//! metric cannot depend on anything but the recorded history.

pub mod attack;
pub mod backlog;
pub mod invalid;
pub mod metrics;
pub mod narrate;

use crate::chain::{BlockId, BlockStore, RejectReason, TxId};
use crate::id::NodeId;
use crate::network::message::MessageKind;
use crate::scenario::attack::InvalidKind;
use crate::time::SimTime;

/// What a node did with its tip when it accepted a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TipOutcome {
    /// The block extends the node's tip (directly or through blocks it connected).
    Extended {
        /// The tip before.
        old_tip: BlockId,
    },
    /// The block is on another branch with more work: the node switched (a reorg).
    Reorged {
        /// The tip before.
        old_tip: BlockId,
        /// Blocks disconnected from the old chain.
        depth: u32,
    },
    /// The block is on a branch without more work: the node kept its tip.
    Kept {
        /// The tip it kept.
        tip: BlockId,
        /// Why: the tip has strictly more work, or equal work and was seen first.
        reason: KeepReason,
    },
}

/// Why a node kept its tip over a rival block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepReason {
    /// Its tip has more cumulative work.
    MoreWork,
    /// Equal work: the block seen first stays.
    SeenFirst,
}

/// Something that happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    /// A miner found a block (the miner accepts it at once and builds on it).
    BlockMined {
        /// The new block.
        block: BlockId,
        /// The mining node.
        miner: NodeId,
        /// When.
        time: SimTime,
    },
    /// A node validated and accepted a block from a peer.
    BlockAccepted {
        /// The node.
        node: NodeId,
        /// The block.
        block: BlockId,
        /// The peer that sent it.
        from: Option<NodeId>,
        /// What the node did with its tip.
        outcome: TipOutcome,
        /// When.
        time: SimTime,
    },
    /// A node put a message about a block on a link. Announcements that the receiver would
    /// ignore are recorded too (their bytes occupy the uplink) but never arrive.
    MessageSent {
        /// The sending node.
        from: NodeId,
        /// The receiving node.
        to: NodeId,
        /// What the message says.
        kind: MessageKind,
        /// Which block it is about.
        block: BlockId,
        /// When the sender's uplink started transmitting it.
        sent: SimTime,
        /// When it reaches the receiver.
        arrives: SimTime,
    },
    /// A payment entered the network at a node (recorded for planned double payments; the
    /// background workload is summarised in `transactions.csv` instead).
    PaymentSent {
        /// The transaction.
        txid: TxId,
        /// The node it was submitted to.
        node: NodeId,
        /// Whether it is one version of a double payment.
        conflict: bool,
        /// When.
        time: SimTime,
    },
    /// The merchant of a double spend saw the payment reach the confirmations it waits
    /// for, and shipped the goods.
    GoodsShipped {
        /// The merchant.
        node: NodeId,
        /// The payment's depth in the merchant's chain.
        confirmations: u32,
        /// When.
        time: SimTime,
    },
    /// After shipping, the merchant's best chain holds the attacker's conflicting version:
    /// the payment is reversed (the double spend succeeded).
    PaymentReversed {
        /// The merchant.
        node: NodeId,
        /// When.
        time: SimTime,
    },
    /// A node's mempool size, sampled at a fixed interval.
    MempoolSampled {
        /// The node.
        node: NodeId,
        /// Transactions in its mempool.
        txs: u64,
        /// Their bytes.
        bytes: u64,
        /// When.
        time: SimTime,
    },
    /// A node rejected a block.
    BlockRejected {
        /// The node.
        node: NodeId,
        /// The block.
        block: BlockId,
        /// Why.
        reason: RejectReason,
        /// When.
        time: SimTime,
    },
    /// A node's strategy kept a block it just mined to itself.
    Withheld {
        /// The node.
        node: NodeId,
        /// The block.
        block: BlockId,
        /// When.
        time: SimTime,
    },
    /// A node's strategy announced blocks it had kept private, oldest first.
    Published {
        /// The node.
        node: NodeId,
        /// The newest block published (the others are its ancestors).
        tip: BlockId,
        /// How many blocks.
        count: u32,
        /// When the node thereby published all it held and its branch has the same work as
        /// its public tip: that tip (a tie, decided by how other nodes break ties).
        tie_with: Option<BlockId>,
        /// When.
        time: SimTime,
    },
    /// A node's strategy abandoned its private branch and went back to its public tip.
    GaveUp {
        /// The node.
        node: NodeId,
        /// Unpublished blocks dropped.
        abandoned: u32,
        /// The tip it now mines on.
        tip: BlockId,
        /// When.
        time: SimTime,
    },
    /// A message was lost because the link between the two nodes is cut.
    MessageDropped {
        /// The sending node.
        from: NodeId,
        /// The node it was for.
        to: NodeId,
        /// What it said.
        kind: MessageKind,
        /// Which block it was about.
        block: BlockId,
        /// When it was lost.
        time: SimTime,
    },
    /// The network split: links between groups are cut.
    Partitioned {
        /// Number of groups.
        groups: u32,
        /// Connections cut by the split.
        links_cut: u32,
        /// When.
        time: SimTime,
    },
    /// Cut links between groups were restored.
    Healed {
        /// Connections restored.
        links_restored: u32,
        /// When.
        time: SimTime,
    },
    /// `dpos`: a slot passed without a block of its scheduled producer (recorded when a
    /// later slot starts and the schedule is played up to it).
    SlotMissed {
        /// The producer the schedule named.
        producer: NodeId,
        /// The slot.
        slot: u64,
        /// When the miss was noted.
        time: SimTime,
    },
    /// `dpos`: a censoring cartel producer left payments of its mempool out of the block it
    /// produced.
    PaymentsLeftOut {
        /// The producer.
        producer: NodeId,
        /// Its block.
        block: BlockId,
        /// Payments left out.
        payments: u32,
        /// When.
        time: SimTime,
    },
    /// A node went offline: it stops mining and its links are down.
    NodeLeft {
        /// The node.
        node: NodeId,
        /// When.
        time: SimTime,
    },
    /// A node came back online and catches up with its peers.
    NodeRejoined {
        /// The node.
        node: NodeId,
        /// When.
        time: SimTime,
    },
    /// An `invalid` attacker sent a peer an invalid block it made.
    InvalidSent {
        /// The attacker.
        node: NodeId,
        /// The peer.
        to: NodeId,
        /// The block.
        block: BlockId,
        /// What is wrong with it.
        kind: InvalidKind,
        /// When.
        time: SimTime,
    },
    /// A node's misbehaviour score for a peer reached the threshold: it bans the peer.
    PeerBanned {
        /// The node.
        node: NodeId,
        /// The peer it banned.
        peer: NodeId,
        /// The peer's score.
        score: u32,
        /// When.
        time: SimTime,
    },
    /// A message about a block came from a peer the node had banned while it was on its
    /// way: the node ignored it.
    BannedPeerIgnored {
        /// The node.
        node: NodeId,
        /// The banned peer.
        peer: NodeId,
        /// The block the message was about.
        block: BlockId,
        /// When.
        time: SimTime,
    },
    /// A node's orphan pool was full: it dropped its oldest orphan (a block whose parent it
    /// lacks), unvalidated. It may fetch the block again if it hears of it.
    OrphanEvicted {
        /// The node.
        node: NodeId,
        /// The block dropped.
        block: BlockId,
        /// When.
        time: SimTime,
    },
}

/// Receives records as the run goes. Observers may read the shared block store to describe
/// blocks, but never change anything.
pub trait Observer {
    /// Called once per record, in event order.
    fn record(&mut self, record: &Record, store: &BlockStore);

    /// Whether this observer reads [`Record::MessageSent`]. When it does not, the world
    /// leaves those records out, and with them the latency draws of messages that no one
    /// else reads either (see [`crate::network::transport::Transport::transmit`]); nothing else changes.
    fn wants_messages(&self) -> bool {
        true
    }

    /// A hint that a record about `node` may follow soon: an observer that keeps a row per
    /// node may ask the processor for it now (see [`crate::engine::prefetch`]). Does nothing
    /// unless an observer says otherwise.
    #[inline]
    fn prefetch_node(&self, _node: NodeId) {}
}

/// An observer that ignores everything (for runs whose outputs are not needed).
pub struct Discard;

impl Observer for Discard {
    fn record(&mut self, _: &Record, _: &BlockStore) {}

    fn wants_messages(&self) -> bool {
        false
    }
}

/// Two observers fed the same records, in order.
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn record(&mut self, record: &Record, store: &BlockStore) {
        self.0.record(record, store);
        self.1.record(record, store);
    }

    fn wants_messages(&self) -> bool {
        self.0.wants_messages() || self.1.wants_messages()
    }

    #[inline]
    fn prefetch_node(&self, node: NodeId) {
        self.0.prefetch_node(node);
        self.1.prefetch_node(node);
    }
}

/// An optional observer: records go to it when present.
impl<T: Observer> Observer for Option<T> {
    fn record(&mut self, record: &Record, store: &BlockStore) {
        if let Some(o) = self {
            o.record(record, store);
        }
    }

    fn wants_messages(&self) -> bool {
        self.as_ref().is_some_and(T::wants_messages)
    }

    #[inline]
    fn prefetch_node(&self, node: NodeId) {
        if let Some(o) = self {
            o.prefetch_node(node);
        }
    }
}

impl<B: Observer> AsRef<metrics::Metrics> for (metrics::Metrics, B) {
    fn as_ref(&self) -> &metrics::Metrics {
        &self.0
    }
}
