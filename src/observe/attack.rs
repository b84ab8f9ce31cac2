//! What attackers and faults did, gathered from the records as the run goes: strategy
//! decisions, timeline events, and for selfish mining γ as the network produced it:
//!
//! - a **tie** opens when the attacker publishes everything it holds and its branch then has
//!   the same work as its own public tip (the match race: its block against an honest one);
//! - the tie closes with the first block mined on either of the two blocks; if an honest
//!   node mined it, it counts for γ on the attacker's side when its parent is the
//!   attacker's block;
//! - measured γ = honest tie-closing blocks on the attacker's block / all honest
//!   tie-closing blocks.
//!
//! This is Eyal and Sirer's γ (the share of honest power that mines on the attacker's block
//! in state 0'), estimated from who actually extended which block.

use std::collections::BTreeMap;

use super::Record;
use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;

/// Decisions one node's strategy made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StrategyCounts {
    /// Blocks kept private when mined.
    pub withheld: u64,
    /// Blocks published later.
    pub published: u64,
    /// Times it gave up a private branch.
    pub gave_up: u64,
    /// Unpublished blocks dropped when giving up.
    pub abandoned: u64,
}

/// Ties one attacker opened and how honest miners broke them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TieCounts {
    /// Ties opened by publishing.
    pub opened: u64,
    /// Ties closed by an honest block on the attacker's block.
    pub honest_on_attacker: u64,
    /// Ties closed by an honest block on the honest block.
    pub honest_on_honest: u64,
    /// Ties closed by the attacker's own next block.
    pub won_by_attacker: u64,
}

/// A tie not yet closed.
#[derive(Clone, Copy, Debug)]
struct OpenTie {
    attacker: NodeId,
    attacker_block: BlockId,
    honest_block: BlockId,
}

/// Strategy decisions, ties and timeline events, gathered as the run goes.
#[derive(Clone, Debug, Default)]
pub struct AttackLog {
    /// Per node whose strategy withheld or published.
    pub nodes: BTreeMap<NodeId, StrategyCounts>,
    /// Per attacker that opened ties.
    pub ties: BTreeMap<NodeId, TieCounts>,
    open: Vec<OpenTie>,
    /// Messages lost on cut links.
    pub messages_dropped: u64,
    /// Partitions applied.
    pub partitions: u64,
    /// Heals applied.
    pub heals: u64,
    /// Nodes that went offline.
    pub nodes_left: u64,
    /// Nodes that came back.
    pub nodes_rejoined: u64,
}

impl AttackLog {
    /// A block was mined: it may close open ties.
    #[inline]
    pub fn mined(&mut self, block: BlockId, miner: NodeId, store: &BlockStore) {
        if !self.open.is_empty() {
            self.close_ties(block, miner, store);
        }
    }

    #[cold]
    #[inline(never)]
    fn close_ties(&mut self, block: BlockId, miner: NodeId, store: &BlockStore) {
        let Some(parent) = store.get(block).parent else {
            return;
        };
        let strategic = self.nodes.contains_key(&miner);
        let ties = &mut self.ties;
        self.open.retain(|t| {
            if parent != t.attacker_block && parent != t.honest_block {
                return true;
            }
            let counts = ties.entry(t.attacker).or_default();
            if strategic {
                counts.won_by_attacker += u64::from(miner == t.attacker);
            } else if parent == t.attacker_block {
                counts.honest_on_attacker += 1;
            } else {
                counts.honest_on_honest += 1;
            }
            false
        });
    }

    /// A strategy or timeline record (rare: kept out of the metrics' hot path).
    #[cold]
    #[inline(never)]
    pub fn record(&mut self, record: &Record) {
        match *record {
            Record::Withheld { node, .. } => self.nodes.entry(node).or_default().withheld += 1,
            Record::Published { node, tip, count, tie_with, .. } => {
                self.nodes.entry(node).or_default().published += u64::from(count);
                if let Some(honest_block) = tie_with {
                    self.ties.entry(node).or_default().opened += 1;
                    self.open.push(OpenTie { attacker: node, attacker_block: tip, honest_block });
                }
            }
            Record::GaveUp { node, abandoned, .. } => {
                let c = self.nodes.entry(node).or_default();
                c.gave_up += 1;
                c.abandoned += u64::from(abandoned);
            }
            Record::MessageDropped { .. } => self.messages_dropped += 1,
            Record::Partitioned { .. } => self.partitions += 1,
            Record::Healed { .. } => self.heals += 1,
            Record::NodeLeft { .. } => self.nodes_left += 1,
            Record::NodeRejoined { .. } => self.nodes_rejoined += 1,
            Record::BlockMined { .. }
            | Record::SlotMissed { .. }
            | Record::PaymentsLeftOut { .. }
            | Record::InvalidSent { .. }
            | Record::PeerBanned { .. }
            | Record::BannedPeerIgnored { .. }
            | Record::OrphanEvicted { .. }
            | Record::BlockAccepted { .. }
            | Record::MessageSent { .. }
            | Record::BlockRejected { .. }
            | Record::PaymentSent { .. }
            | Record::GoodsShipped { .. }
            | Record::PaymentReversed { .. }
            | Record::MempoolSampled { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::testing::{child, store};
    use crate::time::SimTime;

    #[test]
    fn ties_are_counted_for_the_side_the_next_block_builds_on() {
        let (mut s, g) = store();
        let honest = child(&mut s, g, NodeId(0));
        let pool = child(&mut s, g, NodeId(9));
        let mut log = AttackLog::default();
        log.record(&Record::Withheld { node: NodeId(9), block: pool, time: SimTime::ZERO });
        let publish = Record::Published {
            node: NodeId(9),
            tip: pool,
            count: 1,
            tie_with: Some(honest),
            time: SimTime::ZERO,
        };
        log.record(&publish);
        let on_pool = child(&mut s, pool, NodeId(3));
        log.mined(on_pool, NodeId(3), &s);
        // A second block on the same pair is not counted: the tie is closed.
        let late = child(&mut s, honest, NodeId(4));
        log.mined(late, NodeId(4), &s);
        log.record(&publish);
        let on_honest = child(&mut s, honest, NodeId(5));
        log.mined(on_honest, NodeId(5), &s);
        log.record(&publish);
        let won = child(&mut s, pool, NodeId(9));
        log.mined(won, NodeId(9), &s);
        let t = log.ties[&NodeId(9)];
        assert_eq!(
            (t.opened, t.honest_on_attacker, t.honest_on_honest, t.won_by_attacker),
            (3, 1, 1, 1)
        );
        assert_eq!(log.nodes[&NodeId(9)].published, 3);
    }
}
