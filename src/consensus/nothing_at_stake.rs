//! What a nothing-at-stake attack did, measured after the run: the `nothing_at_stake`
//! section of `consensus.json` and its two console lines.
//!
//! The attacker (`node::attacker::nothing_at_stake`) leaves a [`NothingAtStakeTrace`] in the
//! run's stake state: the height of its longest private branch after every slot, its VRF
//! evaluations, the blocks it made, and each branch it published. From these and the store
//! the section reports:
//!
//! - **growth**: the longest branch's blocks per slot over the whole tree and its slope
//!   over the last three quarters of the slots (the front needs a while to form), beside
//!   the closed forms: p = φ(α) for one lottery per slot, v*(p) for a lottery on every
//!   block (`analytic::nothing_at_stake_growth_rate`), and e p;
//! - **the honest chain**: the share of slots after the tree's start in which an honest
//!   node made a block (the honest chain's growth on a fast network), beside φ(1 − α);
//! - **the tree**: blocks, VRF evaluations, slots won, and slots *split*: slots in which
//!   some but not all of the blocks the lottery ran on won. Under `leader_input =
//!   "epoch-nonce"` every block of the tree gets the same answer in a slot, so no slot is
//!   split: trying every block gains nothing;
//! - **published branches** and how many honest nodes ended on one, with the safe stake
//!   (`analytic::nothing_at_stake_safe_stake`).

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::seal::StakeState;
use crate::chain::BlockId;
use crate::id::NodeId;
use crate::race::nothing_at_stake::Growth;
use crate::scenario::Scenario;
use crate::scenario::attack::LotteryOn;
use crate::scenario::consensus::KindParams;
use crate::time::SimTime;

/// A branch the attacker published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublishedBranch {
    /// When.
    pub at: SimTime,
    /// Its last block.
    pub tip: BlockId,
    /// Blocks published.
    pub blocks: u32,
    /// Its tip's height.
    pub height: u32,
    /// The height of the chain the attacker saw then.
    pub honest_height: u32,
}

/// What the nothing-at-stake attacker did, kept in the run's stake state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NothingAtStakeTrace {
    /// The attacker's node.
    pub attacker: NodeId,
    /// Which blocks it ran the lottery on.
    pub lottery_on: LotteryOn,
    /// The most blocks it kept.
    pub max_blocks: u32,
    /// Its publish rule's lead.
    pub publish_lead: u32,
    /// The tree's first slot.
    pub start_slot: u64,
    /// The block the tree grows from.
    pub root: BlockId,
    /// Its highest block.
    pub best: BlockId,
    /// The longest branch's height above the root after each slot from `start_slot` on.
    pub heights: Vec<u64>,
    /// VRF evaluations of the tree's lottery.
    pub vrf_evaluations: u64,
    /// Blocks made (won evaluations).
    pub blocks: u64,
    /// Slots with at least one win.
    pub winning_slots: u64,
    /// Slots in which some but not all evaluations won.
    pub split_slots: u64,
    /// Branches published, in order.
    pub published: Vec<PublishedBranch>,
}

/// Blocks per slot of the longest private branch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BranchGrowth {
    /// Slots of the tree.
    pub slots: u64,
    /// The longest branch's height above the root at the end.
    pub height: u64,
    /// height / slots.
    pub per_slot: f64,
    /// The first slot (counted from the tree's start) of the window of the slope.
    pub window_from: u64,
    /// The slope over the window (the last three quarters of the slots).
    pub slope: f64,
    /// The slope over p.
    pub slope_over_p: f64,
    /// The slope over the closed form that applies (`expected`).
    pub slope_over_expected: f64,
}

/// The closed forms at the attacker's stake.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClosedForms {
    /// p = φ(α): the chance of a win per block and slot.
    pub p: f64,
    /// v*(p): the growth of the longest branch with a lottery on every block whose input is
    /// the parent block.
    pub tree_growth: f64,
    /// e p, the limit of v* for small p.
    pub e_p: f64,
    /// The growth that applies to this run: v* for a lottery on every block under
    /// `parent-block`, p otherwise.
    pub expected: f64,
    /// φ(1 − α): the honest chain's growth at zero delay.
    pub honest_growth: f64,
    /// The largest stake a lottery on every block under `parent-block` cannot outgrow the
    /// honest chain with (1/(1 + e) as f → 0); 1/2 otherwise.
    pub safe_stake_every_block: f64,
}

/// The tree's counts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TreeLine {
    /// Blocks made.
    pub blocks: u64,
    /// VRF evaluations.
    pub vrf_evaluations: u64,
    /// Slots with at least one win.
    pub winning_slots: u64,
    /// Slots in which some but not all evaluations won (none under `epoch-nonce`).
    pub split_slots: u64,
}

/// A published branch, and who took it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublishedLine {
    /// When, in seconds.
    pub at_s: f64,
    /// Blocks published.
    pub blocks: u32,
    /// Its tip's height.
    pub height: u32,
    /// The height of the chain the attacker saw then.
    pub honest_height: u32,
    /// Honest nodes whose final tip builds on it.
    pub honest_nodes_on_it: u64,
}

/// The `nothing_at_stake` section of `consensus.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NothingAtStakeLine {
    /// The attacker's node.
    pub attacker: u32,
    /// Its relative stake α.
    pub stake: f64,
    /// Active-slot coefficient.
    pub f: f64,
    /// What the lottery runs on.
    pub leader_input: &'static str,
    /// Which blocks the attacker ran it on.
    pub lottery_on: &'static str,
    /// The most blocks it kept.
    pub max_blocks: u32,
    /// Its publish rule's lead.
    pub publish_lead: u32,
    /// The tree's first slot.
    pub start_slot: u64,
    /// The root's height.
    pub root_height: u32,
    /// The longest private branch.
    pub growth: BranchGrowth,
    /// Slots after the tree's start with a block by an honest node, per slot.
    pub honest_per_slot: f64,
    /// The closed forms.
    pub closed_forms: ClosedForms,
    /// The tree's counts.
    pub tree: TreeLine,
    /// Branches published.
    pub published: Vec<PublishedLine>,
    /// Online honest nodes.
    pub honest_nodes: u64,
    /// Of them, nodes whose final tip builds on a published branch.
    pub honest_nodes_on_attacker_branch: u64,
    /// Blocks above the root made by the attacker on the honest nodes' chain at the end
    /// (the highest of their tips).
    pub honest_chain_attacker_blocks: u64,
}

/// The `nothing_at_stake` section of a finished run with a nothing-at-stake attacker
/// (`None` otherwise, or if its tree never started).
pub fn nothing_at_stake_line<O>(
    scenario: &Scenario,
    outcome: &crate::results::outcome::Outcome<O>,
) -> Option<NothingAtStakeLine> {
    let KindParams::PosSlot { f, .. } = scenario.consensus.params else { return None };
    let stake: &StakeState = outcome.stake.as_deref()?;
    let trace = stake.nothing_at_stake.as_deref()?;
    let (store, seals) = (&outcome.store, &stake.seals);
    let alpha = outcome.hash_shares[trace.attacker.index()];
    let p = super::praos::phi(f, alpha).ok()?;
    let h = super::praos::phi(f, 1.0 - alpha).ok()?;
    let tree_growth = crate::analytic::nothing_at_stake_growth_rate(p).ok()?;
    let parent_block =
        scenario.consensus.leader_input == super::leader_input::LeaderInput::ParentBlock;
    let every_block = trace.lottery_on == LotteryOn::EveryBlock;
    let expected = if parent_block && every_block { tree_growth } else { p };
    let slots = trace.heights.len() as u64;
    let height = trace.heights.last().copied().unwrap_or(0);
    let window_from = slots / 4;
    let slope = if slots >= 2 {
        let growth = Growth { heights: trace.heights.clone(), vrf_evaluations: 0, blocks: 0 };
        growth.slope_from(window_from as usize)
    } else {
        0.0
    };
    let last_slot = trace.start_slot + slots.saturating_sub(1);
    let mut honest_slots: Vec<u64> = store
        .ids()
        .filter(|&b| store.get(b).meta.miner.is_some_and(|m| m != trace.attacker))
        .filter_map(|b| seals.get(b).map(|s| s.claim.slot))
        .filter(|s| (trace.start_slot..=last_slot).contains(s))
        .collect();
    honest_slots.sort_unstable();
    honest_slots.dedup();
    let on = |tip: BlockId, t: BlockId| tip == t || store.is_ancestor(tip, t);
    let honest: Vec<usize> = (0..outcome.nodes.len())
        .filter(|&n| outcome.nodes[n].online && NodeId::from_index(n) != trace.attacker)
        .collect();
    let on_branch = |t: BlockId| trace.published.iter().any(|b| on(b.tip, t));
    let root_height = store.get(trace.root).height;
    // The honest nodes' chain: the highest of their tips (the run's main chain counts
    // withheld blocks too, so it cannot stand for what honest nodes hold).
    let honest_tip = honest
        .iter()
        .map(|&n| outcome.nodes[n].tip)
        .max_by_key(|&t| (store.get(t).height, std::cmp::Reverse(t)))
        .unwrap_or(trace.root);
    let honest_chain_attacker_blocks = store
        .chain_to(honest_tip)
        .iter()
        .skip(root_height as usize + 1)
        .filter(|&&b| store.get(b).meta.miner == Some(trace.attacker))
        .count() as u64;
    let ratio = |x: f64, y: f64| if y > 0.0 { x / y } else { 0.0 };
    Some(NothingAtStakeLine {
        attacker: trace.attacker.0,
        stake: alpha,
        f,
        leader_input: scenario.consensus.leader_input.name(),
        lottery_on: trace.lottery_on.name(),
        max_blocks: trace.max_blocks,
        publish_lead: trace.publish_lead,
        start_slot: trace.start_slot,
        root_height,
        growth: BranchGrowth {
            slots,
            height,
            per_slot: ratio(height as f64, slots as f64),
            window_from,
            slope,
            slope_over_p: ratio(slope, p),
            slope_over_expected: ratio(slope, expected),
        },
        honest_per_slot: ratio(honest_slots.len() as f64, slots as f64),
        closed_forms: ClosedForms {
            p,
            tree_growth,
            e_p: std::f64::consts::E * p,
            expected,
            honest_growth: h,
            safe_stake_every_block: if parent_block {
                crate::analytic::nothing_at_stake_safe_stake(f).unwrap_or(f64::NAN)
            } else {
                0.5
            },
        },
        tree: TreeLine {
            blocks: trace.blocks,
            vrf_evaluations: trace.vrf_evaluations,
            winning_slots: trace.winning_slots,
            split_slots: trace.split_slots,
        },
        published: trace
            .published
            .iter()
            .map(|b| PublishedLine {
                at_s: b.at.as_secs_f64(),
                blocks: b.blocks,
                height: b.height,
                honest_height: b.honest_height,
                honest_nodes_on_it: honest
                    .iter()
                    .filter(|&&n| on(b.tip, outcome.nodes[n].tip))
                    .count() as u64,
            })
            .collect(),
        honest_nodes: honest.len() as u64,
        honest_nodes_on_attacker_branch: honest
            .iter()
            .filter(|&&n| on_branch(outcome.nodes[n].tip))
            .count() as u64,
        honest_chain_attacker_blocks,
    })
}

/// The attack's two console lines, from `consensus.json` (nothing without the section).
pub fn console_lines(o: &mut String, doc: &Value) {
    let Some(nas) = doc.get("nothing_at_stake") else { return };
    let num = |p: &str| nas.pointer(p).and_then(Value::as_f64).unwrap_or(0.0);
    let int = |p: &str| nas.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    let text = |p: &str| nas.pointer(p).and_then(Value::as_str).unwrap_or("?").to_string();
    let p = num("/closed_forms/p");
    let _ = writeln!(
        o,
        "  nothing at stake    stake {:.1} %, lottery on {} ({} input): longest private branch {:.4} blocks per slot ({:.2} p; closed form {:.4}, v* {:.4} = {:.2} p), honest chain {:.4} (closed form {:.4}); safe stake {:.4}",
        100.0 * num("/stake"),
        if text("/lottery_on") == "tip" {
            "its tip".to_string()
        } else {
            "every block".to_string()
        },
        text("/leader_input"),
        num("/growth/slope"),
        num("/growth/slope_over_p"),
        num("/closed_forms/expected"),
        num("/closed_forms/tree_growth"),
        if p > 0.0 { num("/closed_forms/tree_growth") / p } else { 0.0 },
        num("/honest_per_slot"),
        num("/closed_forms/honest_growth"),
        num("/closed_forms/safe_stake_every_block"),
    );
    let published = nas.get("published").and_then(Value::as_array).map_or(0, Vec::len);
    let _ = writeln!(
        o,
        "                      tree of at most {} blocks: {} blocks, {} VRF evaluations, {} of {} winning slots split between blocks; {published} branches published, {} of {} honest nodes ended on one",
        int("/max_blocks"),
        int("/tree/blocks"),
        int("/tree/vrf_evaluations"),
        int("/tree/split_slots"),
        int("/tree/winning_slots"),
        int("/honest_nodes_on_attacker_branch"),
        int("/honest_nodes"),
    );
}
