//! Misbehaving peers: a score per peer, and the ban (disconnection) once it reaches
//! Bitcoin Core's discouragement threshold.
//!
//! Core keeps a misbehaviour score per peer (`Misbehaving()` in net_processing.cpp, v0.20 to
//! v26; v27 bans at the first offence, which 100 points already means here): a block that
//! fails validation costs its sender the points of
//! [`RejectReason::misbehaviour_points`] (100 for nearly every rule, 0 for a time too far
//! ahead), and every [`MAX_UNCONNECTING_BLOCKS`]-th block whose parent the node had never heard
//! of costs [`UNCONNECTING_POINTS`] (Core's rule for unconnecting headers, reset when the peer
//! sends a block that connects). A parent the node was told of (an `inv` stands for Core's
//! header announcement), is fetching or is validating is known: blocks of a chain sent
//! faster than the node validates them are not unconnecting. At [`DISCOURAGEMENT_THRESHOLD`] the node bans the peer: it
//! drops the orphans the peer sent (they are rejected as `prev-blk-not-found`), marks the
//! connection banned in [`Peers::banned`](super::ctx::Peers::banned) so that the peer sends
//! nothing more, and ignores whatever was already on its way.
//!
//! BIP152 lets a high-bandwidth peer pass on a compact block before validating it, so a node
//! does not punish the peers it chose as high-bandwidth peers for a block that fails beyond
//! its header (Core's `via_compact_block`). Honest peers never send anything else invalid, so
//! in an honest run no score ever rises and nothing here runs beyond an empty-list check.

use super::Node;
use super::ctx::NodeCtx;
use crate::chain::{BlockId, RejectReason};
use crate::id::LinkId;
use crate::network::message::Message;
use crate::observe::Record;

/// The score at which a node bans a peer (Core's `DISCOURAGEMENT_THRESHOLD`).
pub const DISCOURAGEMENT_THRESHOLD: u32 = 100;

/// Blocks in a row with unknown parents that cost a peer [`UNCONNECTING_POINTS`] (Core's
/// `MAX_NUM_UNCONNECTING_HEADERS_MSGS`).
pub const MAX_UNCONNECTING_BLOCKS: u32 = 10;

/// Points for every [`MAX_UNCONNECTING_BLOCKS`] unconnecting blocks (Core: 20).
pub const UNCONNECTING_POINTS: u32 = 20;

/// What a node holds against one peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PeerConduct {
    /// The node's link to the peer.
    link: LinkId,
    /// Misbehaviour points so far.
    score: u32,
    /// Blocks in a row from the peer whose parent the node lacked.
    unconnecting: u32,
    /// The node banned the peer.
    banned: bool,
}

/// The scores of the peers that misbehaved (none in an honest run).
#[derive(Clone, Debug, Default)]
pub struct Conduct {
    peers: Vec<PeerConduct>,
}

impl Conduct {
    /// Whether the node banned the peer at the other end of `link`.
    #[inline]
    pub fn is_banned(&self, link: LinkId) -> bool {
        !self.peers.is_empty() && self.peers.iter().any(|p| p.link == link && p.banned)
    }

    fn entry(&mut self, link: LinkId) -> &mut PeerConduct {
        match self.peers.iter().position(|p| p.link == link) {
            Some(i) => &mut self.peers[i],
            None => {
                self.peers.push(PeerConduct { link, score: 0, unconnecting: 0, banned: false });
                self.peers.last_mut().expect("just pushed")
            }
        }
    }

    /// Adds `points` to the peer's score; returns the score if this reaches the threshold
    /// for the first time (the peer is banned now).
    pub fn punish(&mut self, link: LinkId, points: u32) -> Option<u32> {
        if points == 0 {
            return None;
        }
        let p = self.entry(link);
        if p.banned {
            return None;
        }
        p.score = p.score.saturating_add(points);
        p.banned = p.score >= DISCOURAGEMENT_THRESHOLD;
        p.banned.then_some(p.score)
    }

    /// The peer sent a block whose parent the node had never heard of; returns the points it
    /// costs.
    pub fn unconnecting(&mut self, link: LinkId) -> u32 {
        let p = self.entry(link);
        p.unconnecting += 1;
        if p.unconnecting.is_multiple_of(MAX_UNCONNECTING_BLOCKS) { UNCONNECTING_POINTS } else { 0 }
    }

    /// The peer sent a block that connects: its run of unconnecting blocks ends.
    #[inline]
    pub fn connected(&mut self, link: LinkId) {
        if let Some(p) = self.peers.iter_mut().find(|p| p.link == link) {
            p.unconnecting = 0;
        }
    }

    /// The peer's score (0 if it never misbehaved).
    #[cfg(test)]
    pub fn score(&self, link: LinkId) -> u32 {
        self.peers.iter().find(|p| p.link == link).map_or(0, |p| p.score)
    }
}

impl Node {
    /// The peer over `from` sent `block`, which failed for `reason`: it is punished as Core
    /// punishes (not at all if it is one of the node's high-bandwidth peers and the failure
    /// is beyond the header, see the module docs).
    pub(super) fn punish_for_block(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        from: LinkId,
        reason: RejectReason,
    ) {
        if !reason.is_header_rule() && self.high_bandwidth.contains(&from) {
            return;
        }
        let points = reason.misbehaviour_points();
        if let Some(score) = self.conduct.punish(from, points) {
            self.ban(ctx, from, score);
        }
    }

    /// The peer over `from` sent a block whose parent the node had never heard of.
    pub(super) fn punish_unconnecting(&mut self, ctx: &mut NodeCtx<'_>, from: LinkId) {
        let points = self.conduct.unconnecting(from);
        if let Some(score) = self.conduct.punish(from, points) {
            self.ban(ctx, from, score);
        }
    }

    /// Bans the peer over `link`: marks the connection, drops the orphans it sent.
    fn ban(&mut self, ctx: &mut NodeCtx<'_>, link: LinkId, score: u32) {
        if let Some(flag) = ctx.peers().banned.get(link.index()) {
            flag.set(true);
            ctx.peers().any_banned.set(true);
        }
        let peer = ctx.network().link_target(link);
        ctx.record(Record::PeerBanned { node: self.id, peer, score, time: ctx.now() });
        let (dropped, kept): (Vec<_>, Vec<_>) =
            self.view.orphans.iter().partition(|o| o.from == Some(link));
        self.view.orphans = kept;
        for orphan in dropped {
            self.reject(ctx, orphan.block, RejectReason::PrevBlkNotFound);
        }
    }

    /// A message from a banned peer arrived (it was on its way when the node banned the
    /// peer): the node ignores it.
    #[cold]
    #[inline(never)]
    pub(super) fn ignore_banned(&mut self, ctx: &mut NodeCtx<'_>, back: LinkId, msg: Message) {
        let peer = ctx.network().link_target(back);
        let block: BlockId = msg.block;
        ctx.record(Record::BannedPeerIgnored { node: self.id, peer, block, time: ctx.now() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_of_100_bans_once_and_unconnecting_blocks_cost_20_per_10() {
        let mut c = Conduct::default();
        let link = LinkId::from_index(3);
        assert!(!c.is_banned(link));
        assert_eq!(c.punish(link, 0), None);
        let mut points = 0;
        for _ in 0..49 {
            points += c.unconnecting(link);
        }
        assert_eq!(points, 80, "20 points per 10 unconnecting blocks");
        c.connected(link);
        assert_eq!(c.unconnecting(link), 0, "a connecting block restarts the count");
        assert_eq!(c.punish(link, 60), None);
        assert_eq!(c.punish(link, 40), Some(100));
        assert!(c.is_banned(link));
        assert_eq!(c.punish(link, 100), None, "banned once");
        assert_eq!(c.score(link), 100);
        assert!(!c.is_banned(LinkId::from_index(4)));
    }
}
