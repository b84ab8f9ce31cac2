//! A cartel of m of the N elected DPoS producers, acting together against the rest.
//!
//! Every member runs this protocol; it knows the other members. Two modes
//! ([`CartelMode`]):
//!
//! - **censor**: a member leaves the censored payments (those submitted at named nodes, or
//!   all) out of the blocks it produces, and anything that spends them; it is honest in
//!   everything else. A censored payment waits for the next slot whose producer is honest
//!   (`analytic::dpos_censored_wait_slots` derives the mean wait).
//! - **split**: from `start` on, a member builds only on the cartel's branch: the newest
//!   block it knows whose chain, since `start`, holds blocks of cartel members only (blocks
//!   made before `start` count as the cartel's). It neither adopts nor relays blocks honest
//!   producers made after `start`, and relays the cartel's blocks, winning or not. The
//!   schedule splits into two branches: the cartel's grows in its m producers' slots, the
//!   honest one in the N − m others'. The members should be linked to each other (a
//!   `[[network.group]]` mesh): honest nodes do not relay the shorter branch.

use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;
use crate::node::protocol::{Answer, Protocol, View};
use crate::scenario::cartel::{CartelMode, CartelSpec, Censor};
use crate::time::SimTime;

/// A cartel member.
#[derive(Clone, Debug)]
pub struct Cartel {
    /// Every member, in id order.
    members: Vec<NodeId>,
    mode: CartelMode,
    /// Split: the highest block of the cartel's branch this node has (first seen on ties).
    branch_tip: Option<BlockId>,
    /// Split: the node has seen the clock reach the start.
    split: bool,
}

impl Cartel {
    /// A member of the cartel of `members` (any order) following `spec`.
    pub fn new(spec: &CartelSpec, mut members: Vec<NodeId>) -> Cartel {
        members.sort_unstable();
        Cartel { members, mode: spec.mode.clone(), branch_tip: None, split: false }
    }

    /// Whether `node` is a member.
    pub fn is_member(&self, node: NodeId) -> bool {
        self.members.binary_search(&node).is_ok()
    }

    /// The split's start, in split mode.
    fn start(&self) -> Option<SimTime> {
        match self.mode {
            CartelMode::Split { start } => Some(start),
            CartelMode::Censor(_) => None,
        }
    }

    /// Whether the cartel builds on `block`: genesis, a block made before the split, or a
    /// member's block. Members only ever build on such blocks, so every ancestor of one is
    /// one too.
    fn on_branch(&self, store: &BlockStore, block: BlockId, start: SimTime) -> bool {
        let e = store.get(block);
        e.parent.is_none()
            || e.meta.mined_at < start
            || e.meta.miner.is_some_and(|m| self.is_member(m))
    }

    /// Notes a block the node has: the branch tip moves to it if it is on the branch and
    /// higher.
    fn note(&mut self, view: &View<'_>, block: BlockId, start: SimTime) {
        if view.now >= start {
            self.split = true;
        }
        if !self.on_branch(view.store, block, start) {
            return;
        }
        let higher = self.branch_tip.is_none_or(|t| view.height(block) > view.height(t));
        if higher {
            self.branch_tip = Some(block);
        }
    }
}

impl Protocol for Cartel {
    fn name(&self) -> &'static str {
        "cartel"
    }

    /// Split: the branch tip once the split has begun. Until the node has seen the clock
    /// reach the start, its public tip holds only blocks it accepted before the start, all
    /// on the branch.
    fn mining_tip(&self, tip: BlockId) -> BlockId {
        match self.branch_tip {
            Some(b) if self.split => b,
            _ => tip,
        }
    }

    fn on_mined(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        if let Some(start) = self.start() {
            self.note(view, block, start);
        }
        Answer::adopt_and_relay()
    }

    /// Split: a block of the branch is adopted if it is the longer chain and relayed (to
    /// every peer, winning or not); an honest producer's block made after the start is
    /// neither adopted nor relayed.
    fn on_accepted(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        let Some(start) = self.start() else {
            return Answer::to_peer_block(view, block, true, Vec::new());
        };
        self.note(view, block, start);
        if !self.split {
            return Answer::to_peer_block(view, block, true, Vec::new());
        }
        if !self.on_branch(view.store, block, start) {
            return Answer::default();
        }
        if view.tip == block {
            Answer::adopt_and_relay()
        } else {
            // Not the node's longest chain (it holds an honest branch from before it saw
            // the start): pass it on to the members all the same.
            Answer::publish(vec![block])
        }
    }

    fn relays_peer_blocks(&self) -> bool {
        // In split, the answers above decide what is relayed (no announcing every block).
        !self.split
    }

    fn censor(&self) -> Option<&Censor> {
        match &self.mode {
            CartelMode::Censor(c) => Some(c),
            CartelMode::Split { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::protocol::Step;
    use crate::node::testing::{self as testutil, view};

    /// A block on `parent` by `miner`, made at `at` seconds.
    fn child_at(store: &mut BlockStore, parent: BlockId, miner: u32, at: u64) -> BlockId {
        use crate::chain::store::BlockMeta;
        use crate::mining::{Body, TemplateSpec, build_template};
        let spec = TemplateSpec {
            genesis_time: testutil::GENESIS_TIME,
            block_size_bytes: 0,
            tx_size_bytes: 250,
        };
        let (miner, mined_at) = (NodeId(miner), SimTime(at * 1_000_000));
        let nonce = store.len() as u64;
        let block = build_template(store, parent, miner, mined_at, nonce, &spec, Body::Filler);
        store.insert(block, BlockMeta { miner: Some(miner), mined_at }).unwrap()
    }

    fn split_at(start: SimTime) -> Cartel {
        Cartel::new(&CartelSpec { mode: CartelMode::Split { start } }, vec![NodeId(3), NodeId(1)])
    }

    /// Before the start the member is honest; after it, it builds on the highest block of
    /// members (or made before the start), drops honest producers' new blocks and relays
    /// the members' blocks.
    #[test]
    fn split_builds_and_relays_only_the_cartels_blocks() {
        let (mut store, g) = testutil::store();
        let mut c = split_at(SimTime(1_000_000));
        fn at(store: &BlockStore, tip: BlockId, s: u64) -> View<'_> {
            View { store, tip, now: SimTime(s * 1_000_000) }
        }
        // Before the start the member is honest.
        let h0 = child_at(&mut store, g, 0, 0);
        assert_eq!(c.on_accepted(&at(&store, h0, 0), h0), Answer::adopt_and_relay());
        assert_eq!(c.mining_tip(h0), h0);
        // After the start: an honest block made then is ignored.
        let h1 = child_at(&mut store, h0, 0, 5);
        assert_eq!(c.on_accepted(&at(&store, h1, 5), h1), Answer::default());
        assert_eq!(c.mining_tip(h1), h0, "builds on the branch, not the honest block");
        let a1 = child_at(&mut store, h0, 1, 6);
        let d = c.on_accepted(&at(&store, h1, 6), a1);
        assert_eq!(d.steps.as_slice(), &[Step::Publish], "relayed though it does not win");
        assert_eq!(c.mining_tip(h1), a1);
        let a2 = child_at(&mut store, a1, 3, 7);
        assert_eq!(c.on_mined(&at(&store, a1, 7), a2), Answer::adopt_and_relay());
        assert_eq!(c.mining_tip(a2), a2);
        let h2 = child_at(&mut store, h1, 2, 8);
        assert_eq!(c.on_accepted(&at(&store, a2, 8), h2), Answer::default());
        assert_eq!(c.mining_tip(a2), a2);
        assert!(!c.relays_peer_blocks());
        assert!(c.censor().is_none());
    }

    #[test]
    fn censor_mode_is_honest_but_for_its_templates() {
        let (mut store, g) = testutil::store();
        let spec = CartelSpec { mode: CartelMode::Censor(Censor::Sources(vec![NodeId(7)])) };
        let mut c = Cartel::new(&spec, vec![NodeId(1)]);
        let b = testutil::child(&mut store, g, NodeId(0));
        assert_eq!(c.on_accepted(&view(&store, b), b), Answer::adopt_and_relay());
        assert_eq!(c.mining_tip(b), b);
        let censor = c.censor().unwrap();
        assert!(censor.censors(NodeId(7)) && !censor.censors(NodeId(6)));
        assert!(Censor::All.censors(NodeId(0)));
    }
}
