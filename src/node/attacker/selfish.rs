//! Selfish mining, exactly as Algorithm 1 of I. Eyal and E. G. Sirer, "Majority is not
//! enough: Bitcoin mining is vulnerable" (2014), played over the network.
//!
//! The pool mines on its private branch and keeps a lead over the public chain:
//! - it finds a block: it keeps it private, except in a tie (its branch of one published
//!   block against an honest block of the same height), when it publishes at once and wins;
//! - the public chain grows by an honest block: with lead 0 it adopts the public chain;
//!   lead 1 → it publishes its block (a tie, the match race whose outcome depends on γ);
//!   lead 2 → it publishes everything and wins by one; lead > 2 → it publishes its oldest
//!   unpublished block, keeping the rest.
//!
//! In the network the public chain is the node's own tip, so the pool reacts to what has
//! reached it: by default to a competing block's header, when a peer first announces the
//! block (`publish_on = "header"`), since a pool need not fetch and validate a block to
//! know it must race it; then it has seen its own block first and does not relay the
//! competitor. With `publish_on = "block"` it reacts once it has validated the block, and
//! publishes before relaying it. Leads are computed from heights, so an honest chain that grows by two blocks
//! at once (a reorg among honest nodes) is handled as two steps: the pool publishes every
//! private block up to the new honest height, and adopts the honest chain when it has
//! fallen behind.

use crate::chain::BlockId;
use crate::node::protocol::{Answer, Protocol, View};
use crate::scenario::attack::PublishVia;

/// The selfish pool.
#[derive(Clone, Debug)]
pub struct Selfish {
    relay: bool,
    publish: PublishVia,
    on_header: bool,
    /// Head of the private branch (the block the pool mines on).
    tip: BlockId,
    /// Private blocks not published yet, oldest first.
    unpublished: Vec<BlockId>,
    /// Eyal and Sirer's `privateBranchLen`.
    branch_len: u32,
    /// Height of the public chain as the pool last saw it.
    public_height: u32,
}

impl Selfish {
    /// A selfish pool starting at genesis; `relay`: whether it passes on others' blocks.
    pub fn new(relay: bool) -> Selfish {
        Selfish {
            relay,
            publish: PublishVia::Relay,
            on_header: true,
            tip: BlockId::GENESIS,
            unpublished: Vec::new(),
            branch_len: 0,
            public_height: 0,
        }
    }

    /// The pool sends the blocks it publishes `via` this way, and answers a competing
    /// block `on_header` (when a peer announces it) or once it has validated it.
    pub fn publishing(self, via: PublishVia, on_header: bool) -> Selfish {
        Selfish { publish: via, on_header, ..self }
    }

    /// The private lead over the public chain, in blocks.
    pub fn lead(&self, view: &View<'_>) -> i64 {
        i64::from(view.height(self.tip)) - i64::from(self.public_height)
    }

    /// What the pool publishes when the public chain has reached `height` and its private
    /// branch is `lead >= 0` blocks ahead: everything in a tie (lead 0, the match race) or
    /// one block ahead (it wins by one), else the blocks up to `height`.
    fn answer_lead(&mut self, view: &View<'_>, lead: i64, height: u32) -> Vec<BlockId> {
        match lead {
            0 => std::mem::take(&mut self.unpublished),
            1 => {
                self.branch_len = 0;
                self.public_height = view.height(self.tip);
                std::mem::take(&mut self.unpublished)
            }
            _ => self.publish_up_to(view, height),
        }
    }

    /// Publishes private blocks up to `height`, oldest first.
    fn publish_up_to(&mut self, view: &View<'_>, height: u32) -> Vec<BlockId> {
        let keep = self.unpublished.iter().position(|&b| view.height(b) > height);
        let rest = keep.map_or_else(Vec::new, |k| self.unpublished.split_off(k));
        std::mem::replace(&mut self.unpublished, rest)
    }
}

impl Protocol for Selfish {
    fn name(&self) -> &'static str {
        "selfish"
    }

    fn mining_tip(&self, _tip: BlockId) -> BlockId {
        self.tip
    }

    fn on_mined(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        let lead_before = self.lead(view);
        self.tip = block;
        self.unpublished.push(block);
        self.branch_len += 1;
        if lead_before == 0 && self.branch_len == 2 {
            // The tie is won: publish, and the branch becomes the public chain.
            self.branch_len = 0;
            self.public_height = view.height(block);
            return Answer::publish(std::mem::take(&mut self.unpublished));
        }
        Answer::withhold()
    }

    /// Publishes what the lead calls for before relaying the honest block that changed it,
    /// so that on every link the pool's block goes out first.
    fn on_accepted(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        let height = view.height(view.tip);
        if height <= self.public_height {
            return Answer::to_peer_block(view, block, self.relay, Vec::new());
        }
        self.public_height = height;
        let lead = self.lead(view);
        let (publish, gave_up) = if lead < 0 {
            // Behind: adopt the public chain.
            let abandoned = self.unpublished.len() as u32;
            self.unpublished.clear();
            self.tip = view.tip;
            self.branch_len = 0;
            (Vec::new(), (abandoned > 0).then_some(abandoned))
        } else {
            (self.answer_lead(view, lead, height), None)
        };
        Answer { gave_up, ..Answer::to_peer_block(view, block, self.relay, publish) }
    }

    /// Hears of a block before it has it: if the block raises the public chain to a height
    /// the private branch has reached, the pool publishes at once what the lead calls for,
    /// as it would once it had the block. Behind, it waits for the block to adopt it.
    fn on_announced(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        let height = view.height(block);
        if height <= self.public_height || view.height(self.tip) < height {
            return Answer::withhold();
        }
        self.public_height = height;
        let lead = self.lead(view);
        let publish = self.answer_lead(view, lead, height);
        if publish.is_empty() { Answer::withhold() } else { Answer::publish(publish) }
    }

    fn hears_announcements(&self) -> bool {
        self.on_header
    }

    fn publish_via(&self) -> PublishVia {
        self.publish
    }

    fn relays_peer_blocks(&self) -> bool {
        self.relay
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::NodeId;
    use crate::node::protocol::Step;
    use crate::node::testing::{child, store, view};

    const POOL: NodeId = NodeId(9);

    #[test]
    fn lead_zero_adopts_the_honest_block() {
        let (mut s, g) = store();
        let mut pool = Selfish::new(true);
        let h1 = child(&mut s, g, NodeId(0));
        assert_eq!(pool.on_accepted(&view(&s, h1), h1), Answer::adopt_and_relay());
        assert_eq!(pool.mining_tip(h1), h1);
    }

    #[test]
    fn lead_one_publishes_into_a_tie_and_the_next_pool_block_wins_it() {
        let (mut s, g) = store();
        let mut pool = Selfish::new(true);
        let a1 = child(&mut s, g, POOL);
        assert_eq!(pool.on_mined(&view(&s, g), a1), Answer::withhold());
        let h1 = child(&mut s, g, NodeId(0));
        let d = pool.on_accepted(&view(&s, h1), h1);
        assert_eq!(
            (d.steps.as_slice(), d.publish.as_slice()),
            ([Step::Adopt, Step::Publish, Step::Relay].as_slice(), [a1].as_slice()),
            "the match race: the pool's block goes out before the honest one is relayed"
        );
        assert_eq!(pool.mining_tip(h1), a1, "the pool mines on its own block in the tie");
        let a2 = child(&mut s, a1, POOL);
        let d = pool.on_mined(&view(&s, h1), a2);
        assert_eq!(d, Answer::publish(vec![a2]), "the pool wins the tie and publishes at once");
        // After the win the pool starts over: its next block is kept private.
        let a3 = child(&mut s, a2, POOL);
        assert_eq!(pool.on_mined(&view(&s, a2), a3), Answer::withhold());
    }

    #[test]
    fn an_announced_competitor_is_answered_before_the_pool_has_it() {
        let (mut s, g) = store();
        let mut pool = Selfish::new(true);
        let a1 = child(&mut s, g, POOL);
        pool.on_mined(&view(&s, g), a1);
        let h1 = child(&mut s, g, NodeId(0));
        // The header is enough to publish into the tie.
        assert_eq!(pool.on_announced(&view(&s, g), h1), Answer::publish(vec![a1]));
        assert_eq!(pool.mining_tip(g), a1);
        // Once validated, the competitor (which lost the tie at the pool) changes nothing.
        let d = pool.on_accepted(&view(&s, a1), h1);
        assert!(d.steps.is_empty(), "{d:?}");
        // A competitor above the private branch waits until the pool has it, to adopt it.
        let (mut s, g) = store();
        let mut pool = Selfish::new(true);
        let h1 = child(&mut s, g, NodeId(0));
        assert_eq!(pool.on_announced(&view(&s, g), h1), Answer::withhold());
        assert_eq!(pool.on_accepted(&view(&s, h1), h1), Answer::adopt_and_relay());
        // Waiting for the block is a choice: such a pool is never asked about headers.
        assert!(!Selfish::new(true).publishing(PublishVia::Relay, false).hears_announcements());
    }

    #[test]
    fn a_tie_lost_to_an_honest_block_adopts_it() {
        let (mut s, g) = store();
        let mut pool = Selfish::new(true);
        let a1 = child(&mut s, g, POOL);
        pool.on_mined(&view(&s, g), a1);
        let h1 = child(&mut s, g, NodeId(0));
        pool.on_accepted(&view(&s, h1), h1);
        // An honest node built on the pool's block (the gamma case): adopt it.
        let x = child(&mut s, a1, NodeId(1));
        assert_eq!(pool.on_accepted(&view(&s, x), x), Answer::adopt_and_relay());
        assert_eq!(pool.mining_tip(x), x);
    }

    #[test]
    fn lead_two_publishes_all_and_longer_leads_publish_one_at_a_time() {
        let (mut s, g) = store();
        let mut pool = Selfish::new(true);
        let a1 = child(&mut s, g, POOL);
        pool.on_mined(&view(&s, g), a1);
        let a2 = child(&mut s, a1, POOL);
        pool.on_mined(&view(&s, g), a2);
        let h1 = child(&mut s, g, NodeId(0));
        assert_eq!(pool.on_accepted(&view(&s, h1), h1).published(), [a1, a2]);

        let (mut s, g) = store();
        let mut pool = Selfish::new(true);
        let mut private = Vec::new();
        let mut tip = g;
        for _ in 0..4 {
            tip = child(&mut s, tip, POOL);
            private.push(tip);
            assert_eq!(pool.on_mined(&view(&s, g), tip), Answer::withhold());
        }
        let h1 = child(&mut s, g, NodeId(0));
        assert_eq!(pool.on_accepted(&view(&s, h1), h1).published(), [private[0]]);
        let h2 = child(&mut s, h1, NodeId(0));
        assert_eq!(pool.on_accepted(&view(&s, h2), h2).published(), [private[1]]);
        let h3 = child(&mut s, h2, NodeId(0));
        // Lead 2 before this block: publish the rest and win.
        assert_eq!(pool.on_accepted(&view(&s, h3), h3).published(), [private[2], private[3]]);
        // A side-branch block of no greater height changes nothing.
        let side = child(&mut s, h2, NodeId(1));
        let d = pool.on_accepted(&view(&s, h3), side);
        assert!(d.published().is_empty() && !d.adopts());
    }
}
