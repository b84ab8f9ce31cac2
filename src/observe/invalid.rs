//! The invalid-data tally: what `invalid` attackers sent, per kind, and what honest nodes
//! did with it (rejected, by reason; accepted; relayed), with the bans.
//!
//! Everything is counted from records, never from node internals: the attacker records each
//! block it sends ([`Record::InvalidSent`]); a rejection, an acceptance or a message about
//! that block by any other node is then attributed to the block's kind. "Relayed" counts
//! every announcement or block message an honest node sent about such a block (`inv`,
//! `block`, `cmpctblock`, `blocktxn`), so the tally needs the message records
//! ([`crate::observe::Observer::wants_messages`]).

use std::collections::BTreeMap;

use crate::chain::BlockId;
use crate::id::NodeId;
use crate::network::message::MessageKind;
use crate::observe::Record;
use crate::scenario::attack::InvalidKind;
use crate::time::SimTime;

/// What happened to one kind of bad data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindTally {
    /// Items (blocks) sent by attackers, one per (block, peer).
    pub sent: u64,
    /// Rejections by honest nodes.
    pub rejected: u64,
    /// Rejections by reason: Core's reject string, or `ignored-banned-peer` for a block
    /// that arrived after its receiver banned the sender.
    pub reasons: BTreeMap<&'static str, u64>,
    /// Acceptances by honest nodes.
    pub accepted: u64,
    /// Messages honest nodes sent that announce or carry such a block.
    pub relayed: u64,
}

/// One ban.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ban {
    /// The banning node.
    pub node: NodeId,
    /// The banned peer.
    pub peer: NodeId,
    /// The peer's misbehaviour score.
    pub score: u32,
    /// When.
    pub time: SimTime,
}

/// The reason under which a block from a banned peer is counted.
pub const IGNORED_BANNED_PEER: &str = "ignored-banned-peer";

/// The reason under which a block dropped from a full orphan pool is counted (dropped
/// unvalidated, as a rejection would, before its sender was banned).
pub const ORPHAN_POOL_FULL: &str = "orphan-pool-full";

/// The tally of a run with `invalid` attackers.
#[derive(Clone, Debug)]
pub struct InvalidTally {
    attackers: Vec<NodeId>,
    kind_of: BTreeMap<BlockId, InvalidKind>,
    /// By [`InvalidKind::index`].
    pub kinds: Vec<KindTally>,
    /// Every ban, in time order (by any node of any peer).
    pub bans: Vec<Ban>,
}

impl InvalidTally {
    /// A tally for blocks sent by `attackers`.
    pub fn new(mut attackers: Vec<NodeId>) -> InvalidTally {
        attackers.sort_unstable();
        InvalidTally {
            attackers,
            kind_of: BTreeMap::new(),
            kinds: vec![KindTally::default(); InvalidKind::ALL.len()],
            bans: Vec::new(),
        }
    }

    /// The attackers.
    pub fn attackers(&self) -> &[NodeId] {
        &self.attackers
    }

    fn honest_kind(&self, node: NodeId, block: BlockId) -> Option<usize> {
        if self.attackers.binary_search(&node).is_ok() {
            return None;
        }
        self.kind_of.get(&block).map(|k| k.index())
    }

    /// Counts one record.
    pub fn record(&mut self, record: &Record) {
        match *record {
            Record::InvalidSent { block, kind, .. } => {
                self.kind_of.insert(block, kind);
                self.kinds[kind.index()].sent += 1;
            }
            Record::BlockRejected { node, block, reason, .. } => {
                if let Some(k) = self.honest_kind(node, block) {
                    let t = &mut self.kinds[k];
                    t.rejected += 1;
                    *t.reasons.entry(reason.as_str()).or_default() += 1;
                }
            }
            Record::BannedPeerIgnored { node, block, .. } => {
                if let Some(k) = self.honest_kind(node, block) {
                    let t = &mut self.kinds[k];
                    t.rejected += 1;
                    *t.reasons.entry(IGNORED_BANNED_PEER).or_default() += 1;
                }
            }
            Record::OrphanEvicted { node, block, .. } => {
                if let Some(k) = self.honest_kind(node, block) {
                    let t = &mut self.kinds[k];
                    t.rejected += 1;
                    *t.reasons.entry(ORPHAN_POOL_FULL).or_default() += 1;
                }
            }
            Record::BlockAccepted { node, block, .. } => {
                if let Some(k) = self.honest_kind(node, block) {
                    self.kinds[k].accepted += 1;
                }
            }
            Record::MessageSent { from, kind, block, .. } => {
                let carries = matches!(
                    kind,
                    MessageKind::Inv
                        | MessageKind::Block
                        | MessageKind::CmpctBlock
                        | MessageKind::BlockTxn
                );
                if carries && let Some(k) = self.honest_kind(from, block) {
                    self.kinds[k].relayed += 1;
                }
            }
            Record::PeerBanned { node, peer, score, time } => {
                self.bans.push(Ban { node, peer, score, time });
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::RejectReason;

    #[test]
    fn only_honest_nodes_count_and_only_for_attacker_blocks() {
        let mut t = InvalidTally::new(vec![NodeId(7)]);
        let (bad, other, time) = (BlockId(5), BlockId(6), SimTime::ZERO);
        let kind = InvalidKind::BadMerkleRoot;
        t.record(&Record::InvalidSent { node: NodeId(7), to: NodeId(1), block: bad, kind, time });
        let reason = RejectReason::BadTxnMrklRoot;
        t.record(&Record::BlockRejected { node: NodeId(1), block: bad, reason, time });
        t.record(&Record::BlockRejected { node: NodeId(1), block: other, reason, time });
        t.record(&Record::BlockRejected { node: NodeId(7), block: bad, reason, time });
        let (sent, arrives) = (time, time);
        let msg = |from, kind| Record::MessageSent {
            from,
            to: NodeId(2),
            kind,
            block: bad,
            sent,
            arrives,
        };
        t.record(&msg(NodeId(1), MessageKind::GetData));
        t.record(&msg(NodeId(7), MessageKind::Block));
        let k = &t.kinds[kind.index()];
        assert_eq!((k.sent, k.rejected, k.accepted, k.relayed), (1, 1, 0, 0));
        assert_eq!(k.reasons.get("bad-txnmrklroot"), Some(&1));
        t.record(&msg(NodeId(1), MessageKind::Inv));
        assert_eq!(t.kinds[kind.index()].relayed, 1, "an honest inv is a relay");
    }
}
