//! The nothing-at-stake attack on `pos-slot`: a stakeholder that runs the slot lottery on
//! every block of a private tree in every slot, instead of once per slot on its tip.
//!
//! Producing a block under slot-based proof of stake costs nothing but a VRF evaluation and
//! a signature, so an attacker can extend many blocks at once. Whether that pays depends on
//! what the lottery runs on (`consensus.leader_input`, [`crate::consensus::leader_input`]):
//!
//! - under `"parent-block"` (randomness updated per block) each (block, slot) pair is an
//!   independent chance φ(α), and the longest branch of the tree grows at about e times the
//!   slot rate (v*(p), [`crate::analytic::nothing_at_stake_growth_rate`]; Bagaria et al.,
//!   arXiv 1910.02218), so the safe stake falls from 1/2 to about 1/(1 + e);
//! - under `"epoch-nonce"` (Praos) every block of the tree gets the same answer in a slot:
//!   the attacker leads on all of them or on none, its tree grows wide but its longest
//!   branch only at p = φ(α), as one private chain does.
//!
//! The strategy, on one node with stake α (`attacker[i].share`):
//!
//! 1. **Before `start_s`** it stakes honestly.
//! 2. **From the first slot starting at or after `start_s`** it roots a private tree at its
//!    tip. At every slot start its node runs the real lottery (a VRF proof on the block's
//!    own input) on every block of the tree it keeps ([`Protocol::lottery_parents`]) and,
//!    for each win, builds, signs and keeps a child: every block carries a claim that every
//!    node checks against the block's parent. With `lottery_on = "tip"` it runs the lottery
//!    on its longest branch's tip alone (a private chain, the per-slot attacker).
//! 3. **The bound**: the full tree has (1 + p)^slots blocks, so the attacker keeps the
//!    `max_blocks` highest (older first among equal heights, as the race does:
//!    [`crate::race::nothing_at_stake::keep_highest`]). A front of N kept blocks advances
//!    more slowly than the unbounded tree. Brunet and Derrida's leading-order correction
//!    for a front of N particles is π² γ₀ v*(1 − v*) / (2 ln² N), with
//!    γ₀ = ln(v* / ((1 − v*) p)); at the default N = 64 and p = φ(0.35) = 0.0178
//!    (f = 0.05) it reads 0.013 blocks per slot, 28 % of v* = 0.0472. That is the first term
//!    of a series in 1 / ln N and overstates the loss at such small N: the race without a
//!    network measures 0.0427 (9.6 % below v*) over 4,000 slots, and 0.0394 (17 %) at
//!    N = 32.
//! 4. **Publishing**: half-way through every slot (the slot's honest blocks are in by
//!    then, as for the double spend) it publishes its longest branch, every block of it not
//!    yet published, once that branch is `publish_lead` blocks longer than the honest chain
//!    it sees. Honest nodes take it by the longest-chain rule, within the rollback limit k.
//!    The tree goes on; a later, longer branch is published the same way.
//!
//! What it did is kept in the run's stake state
//! ([`crate::consensus::nothing_at_stake::NothingAtStakeTrace`]) and reported in
//! `consensus.json`.

use crate::chain::{BlockId, BlockStore};
use crate::consensus::nothing_at_stake::{NothingAtStakeTrace, PublishedBranch};
use crate::id::NodeId;
use crate::node::attacker::long_range::first_slot_from;
use crate::node::ctx::NodeCtx;
use crate::node::protocol::{Answer, Protocol, View};
use crate::race::nothing_at_stake::keep_highest;
use crate::scenario::Scenario;
use crate::scenario::attack::{LotteryOn, NothingAtStakeSpec};
use crate::scenario::consensus::KindParams;
use crate::time::{SimDuration, SimTime};

/// The protocol timer of the tree's start.
const START: u32 = 0;
/// The protocol timer of the middle of a slot.
const MID_SLOT: u32 = 1;

/// The private tree under way.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Tree {
    /// Where it leaves the public chain.
    root: BlockId,
    /// The blocks kept, oldest first among equal heights after each pruning.
    kept: Vec<BlockId>,
    /// Blocks made since the last slot start, oldest first.
    children: Vec<BlockId>,
    /// The highest block made (the first made among equal heights).
    best: BlockId,
    /// Blocks published, sorted.
    published: Vec<BlockId>,
}

/// The nothing-at-stake attacker.
pub struct NothingAtStake {
    spec: NothingAtStakeSpec,
    node: NodeId,
    /// Slot length.
    slot: SimDuration,
    relay: bool,
    tree: Option<Tree>,
    /// Blocks the lottery ran on in the current slot, and the wins among them.
    evaluated_this_slot: u64,
    won_this_slot: u64,
}

impl NothingAtStake {
    /// The attacker on `node` of `scenario` (a `pos-slot` run, validated), following `spec`;
    /// `relay`: whether it passes on others' blocks.
    pub fn new(scenario: &Scenario, node: NodeId, spec: NothingAtStakeSpec, relay: bool) -> Self {
        let KindParams::PosSlot { slot, .. } = scenario.consensus.params else {
            panic!("validated: a nothing-at-stake attacker runs under pos-slot");
        };
        NothingAtStake {
            spec,
            node,
            slot,
            relay,
            tree: None,
            evaluated_this_slot: 0,
            won_this_slot: 0,
        }
    }

    /// The first slot of the tree.
    fn start_slot(&self) -> u64 {
        first_slot_from(self.spec.start, self.slot).max(1)
    }

    /// Sets the timer of the next slot's middle, after now.
    fn wake_mid_slot(&self, ctx: &mut NodeCtx<'_>) {
        let (now, slot) = (ctx.now().0, self.slot.0);
        let mid = (now / slot) * slot + slot / 2;
        let at = if mid > now { mid } else { mid + slot };
        ctx.set_timer(SimTime(at), crate::node::Timer::Protocol(MID_SLOT));
    }

    /// The tree starts on the public tip.
    fn start(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId) {
        self.tree = Some(Tree {
            root: tip,
            kept: vec![tip],
            children: Vec::new(),
            best: tip,
            published: Vec::new(),
        });
        let start_slot = self.start_slot();
        if let Some(stake) = ctx.shared.stake.as_deref_mut() {
            stake.nothing_at_stake = Some(Box::new(NothingAtStakeTrace {
                attacker: self.node,
                lottery_on: self.spec.lottery_on,
                max_blocks: self.spec.max_blocks,
                publish_lead: self.spec.publish_lead,
                start_slot,
                root: tip,
                best: tip,
                heights: Vec::new(),
                vrf_evaluations: 0,
                blocks: 0,
                winning_slots: 0,
                split_slots: 0,
                published: Vec::new(),
            }));
        }
        self.wake_mid_slot(ctx);
    }

    /// The middle of a slot: note the slot's outcome, publish the longest branch if the
    /// rule says so, and wait for the next slot's middle.
    fn at_mid_slot(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId) -> Answer {
        let Some(tree) = self.tree.as_mut() else { return Answer::default() };
        let (evaluated, won) = (
            std::mem::take(&mut self.evaluated_this_slot),
            std::mem::take(&mut self.won_this_slot),
        );
        let store = ctx.store();
        let root_height = store.get(tree.root).height;
        let best_height = store.get(tree.best).height;
        let lead = i64::from(best_height) - i64::from(store.get(tip).height);
        let publish = if lead >= i64::from(self.spec.publish_lead)
            && tree.published.binary_search(&tree.best).is_err()
        {
            unpublished_branch(store, tree, tree.best)
        } else {
            Vec::new()
        };
        for b in &publish {
            let at = tree.published.binary_search(b).expect_err("not yet published");
            tree.published.insert(at, *b);
        }
        let (best, now) = (tree.best, ctx.now());
        let honest_height = store.get(tip).height;
        if let Some(trace) =
            ctx.shared.stake.as_deref_mut().and_then(|s| s.nothing_at_stake.as_mut())
        {
            trace.best = best;
            trace.heights.push(u64::from(best_height - root_height));
            trace.vrf_evaluations += evaluated;
            trace.blocks += won;
            trace.winning_slots += u64::from(won > 0);
            trace.split_slots += u64::from(won > 0 && won < evaluated);
            if let Some(&last) = publish.last() {
                trace.published.push(PublishedBranch {
                    at: now,
                    tip: last,
                    blocks: publish.len() as u32,
                    height: best_height,
                    honest_height,
                });
            }
        }
        self.wake_mid_slot(ctx);
        if publish.is_empty() { Answer::default() } else { Answer::publish(publish) }
    }
}

/// The blocks from `tip` down to (not including) the first published block or the root,
/// oldest first.
fn unpublished_branch(store: &BlockStore, tree: &Tree, tip: BlockId) -> Vec<BlockId> {
    let mut branch = Vec::new();
    let mut at = tip;
    while at != tree.root && tree.published.binary_search(&at).is_err() {
        branch.push(at);
        at = store.get(at).parent.expect("a tree block has a parent");
    }
    branch.reverse();
    branch
}

impl Protocol for NothingAtStake {
    fn name(&self) -> &'static str {
        "nothing-at-stake"
    }

    fn mining_tip(&self, tip: BlockId) -> BlockId {
        self.tree.as_ref().map_or(tip, |t| t.best)
    }

    fn lottery_parents(&mut self, store: &BlockStore, _tip: BlockId) -> Option<Vec<BlockId>> {
        let tree = self.tree.as_mut()?;
        let parents = match self.spec.lottery_on {
            LotteryOn::EveryBlock => {
                tree.kept.append(&mut tree.children);
                let height = |b: &BlockId| u64::from(store.get(*b).height);
                keep_highest(&mut tree.kept, self.spec.max_blocks as usize, height);
                tree.kept.clone()
            }
            LotteryOn::Tip => {
                tree.children.clear();
                vec![tree.best]
            }
        };
        self.evaluated_this_slot += parents.len() as u64;
        Some(parents)
    }

    fn on_mined(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        let Some(tree) = self.tree.as_mut() else {
            return Answer::adopt_and_relay();
        };
        self.won_this_slot += 1;
        tree.children.push(block);
        if view.height(block) > view.height(tree.best) {
            tree.best = block;
        }
        Answer::withhold()
    }

    fn on_accepted(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        Answer::to_peer_block(view, block, self.relay, Vec::new())
    }

    fn relays_peer_blocks(&self) -> bool {
        self.relay
    }

    fn on_start(&mut self, ctx: &mut NodeCtx<'_>) {
        // Half a slot before the tree's first slot: the slots before are played honestly.
        let at = SimTime(self.slot.0 * self.start_slot() - self.slot.0 / 2);
        ctx.set_timer(at, crate::node::Timer::Protocol(START));
    }

    fn on_timer(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId, timer: u32) -> Answer {
        match timer {
            START => {
                self.start(ctx, tip);
                Answer::default()
            }
            MID_SLOT => self.at_mid_slot(ctx, tip),
            _ => Answer::default(),
        }
    }
}
