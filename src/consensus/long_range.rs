//! What a long-range attack did, measured after the run: the `long_range` section of
//! `consensus.json`.
//!
//! The attacker leaves a [`LongRangeTrace`] in the run's stake state (its fork point, the
//! fork's tip, when it published); nodes count their refusals of longer candidates and
//! their deep switches in [`super::genesis::ForkChoiceLog`]. From these and the store the
//! section reports:
//!
//! - **growth**: blocks per slot of the fork over the slots after the fork point, and of
//!   the honest chain before and after the sale, each beside its closed form
//!   (`analytic::long_range_rates`) with the binomial standard error of the closed form
//!   and the z score;
//! - **overtake**: the expected slots after the sale until the fork is longer
//!   (`analytic::long_range_overtake_slots`) and the slot at which it was;
//! - **refusals** by reason and **deep switches** (only nodes syncing from genesis make
//!   them);
//! - the online honest nodes and how many of them ended on the fork (none, under the
//!   rollback limit), and per syncing node where it ended;
//! - **density**: each chain's blocks in the window after the fork point, expected values,
//!   and the chance that the density rule is fooled (`analytic::long_range_density_failure`).
//!
//! The honest chain is the tip of highest height not on the fork among the online nodes
//! that neither attack nor sync (the final most-work chain of the run is the fork once it
//! is longer, so it cannot stand for the honest chain).

use std::collections::BTreeMap;

use serde::Serialize;

use super::genesis::{Refusal, SyncRule, default_window_slots, density};
use super::seal::{Seals, StakeState};
use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;
use crate::scenario::Scenario;
use crate::scenario::consensus::KindParams;
use crate::time::SimTime;

/// What the long-range attacker did, kept in the run's stake state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongRangeTrace {
    /// The attacker's node.
    pub attacker: NodeId,
    /// The first slot after the sale.
    pub sale_slot: u64,
    /// Where the fork leaves the honest chain.
    pub fork_point: BlockId,
    /// The fork's last block.
    pub fork_tip: BlockId,
    /// When the fork was published (`None`: never).
    pub published_at: Option<SimTime>,
}

/// Blocks per slot of one chain over a range of slots, beside the closed form.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Growth {
    /// Slots in the range.
    pub slots: u64,
    /// The chain's blocks in them.
    pub blocks: u64,
    /// blocks / slots.
    pub per_slot: f64,
    /// The closed form.
    pub closed_form: f64,
    /// Binomial standard error of the closed form over `slots`.
    pub se: f64,
    /// (per_slot − closed_form) / se.
    pub z: f64,
}

impl Growth {
    fn of(blocks: u64, slots: u64, closed_form: f64) -> Option<Growth> {
        if slots == 0 {
            return None;
        }
        let n = slots as f64;
        let per_slot = blocks as f64 / n;
        let se = (closed_form * (1.0 - closed_form) / n).sqrt();
        let z = if se > 0.0 { (per_slot - closed_form) / se } else { 0.0 };
        Some(Growth { slots, blocks, per_slot, closed_form, se, z })
    }
}

/// Growth of the fork and of the honest chain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GrowthLine {
    /// The fork, over the slots after the fork point (closed form φ(σ_old)).
    pub fork: Option<Growth>,
    /// The honest chain from the fork point to the sale (closed form f).
    pub honest_before_sale: Option<Growth>,
    /// The honest chain from the sale on (closed form φ(1 − σ_old)).
    pub honest_after_sale: Option<Growth>,
}

/// When the fork is longer than the honest chain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OvertakeLine {
    /// Expected slots after the sale (`None`: never, σ_old ≤ 1/2).
    pub expected_slots_after_sale: Option<f64>,
    /// Slots after the sale at which the fork first had more blocks above the fork point.
    pub measured_slots_after_sale: Option<u64>,
}

/// Both chains in the density window after the fork point.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DensityLine {
    /// The window s, in slots (the scenario's, or k / (4f) under `longest`).
    pub window_slots: u64,
    /// The honest chain's blocks in it.
    pub honest_blocks: u64,
    /// The fork's blocks in it.
    pub fork_blocks: u64,
    /// Expected honest blocks, f s.
    pub honest_expected: f64,
    /// Expected fork blocks, φ(σ_old) s.
    pub fork_expected: f64,
    /// The chance that the fork is not sparser, (1 − d)^s (window before the sale, in the
    /// fork point's epoch).
    pub rule_fooled_probability: f64,
}

/// Where a node syncing from genesis ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JoinerLine {
    /// The node.
    pub node: u32,
    /// Its sync rule.
    pub fork_choice: &'static str,
    /// Its tip's height.
    pub tip_height: u32,
    /// Whether its tip is on the fork.
    pub on_fork: bool,
}

/// The `long_range` section of `consensus.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LongRangeLine {
    /// The attacker's node.
    pub attacker: u32,
    /// The old keys' relative stake.
    pub sigma_old: f64,
    /// Active-slot coefficient.
    pub f: f64,
    /// Rollback limit.
    pub k: u64,
    /// The fork point's slot.
    pub fork_slot: u64,
    /// The fork point's height.
    pub fork_height: u32,
    /// The first slot after the sale.
    pub sale_slot: u64,
    /// When the fork was published, in seconds (`None`: never).
    pub published_at_s: Option<f64>,
    /// The fork's tip height.
    pub fork_tip_height: u32,
    /// The honest chain's tip height.
    pub honest_tip_height: Option<u32>,
    /// Blocks per slot against the closed forms.
    pub growth: GrowthLine,
    /// When the fork overtook.
    pub overtake: OvertakeLine,
    /// Refusals of a longer candidate, by reason (counted per node and block).
    pub refusals: BTreeMap<&'static str, u64>,
    /// Switches that disconnected more than k blocks.
    pub deep_switches: u64,
    /// Online nodes that neither attack nor sync.
    pub online_honest_nodes: u64,
    /// Of them, nodes whose tip is on the fork.
    pub online_honest_nodes_on_fork: u64,
    /// Nodes that synced from genesis.
    pub joiners: Vec<JoinerLine>,
    /// The density window.
    pub density: DensityLine,
}

/// Slots of the blocks from `tip` down to (not including) `fork`.
fn slots_above(store: &BlockStore, seals: &Seals, tip: BlockId, fork: BlockId) -> Vec<u64> {
    let mut slots = Vec::new();
    let mut at = tip;
    while at != fork {
        slots.push(seals.slot_of(at));
        at = store.get(at).parent.expect("the fork point is an ancestor");
    }
    slots.reverse();
    slots
}

/// Slots in `fork_slots` and `honest_slots` (sorted) at which the fork first has more blocks.
fn first_lead(fork_slots: &[u64], honest_slots: &[u64]) -> Option<u64> {
    let (mut i, mut j) = (0, 0);
    let mut events: Vec<u64> = fork_slots.iter().chain(honest_slots).copied().collect();
    events.sort_unstable();
    events.dedup();
    for slot in events {
        while i < fork_slots.len() && fork_slots[i] <= slot {
            i += 1;
        }
        while j < honest_slots.len() && honest_slots[j] <= slot {
            j += 1;
        }
        if i > j {
            return Some(slot);
        }
    }
    None
}

/// The `long_range` section of a finished run with a long-range attacker (`None` otherwise,
/// or if the attacker never reached its sale).
pub fn long_range_line<O>(
    scenario: &Scenario,
    outcome: &crate::results::outcome::Outcome<O>,
) -> Option<LongRangeLine> {
    let KindParams::PosSlot { f, k, .. } = scenario.consensus.params else { return None };
    let stake: &StakeState = outcome.stake.as_deref()?;
    let trace = stake.long_range?;
    let (store, seals) = (&outcome.store, &stake.seals);
    let sigma_old = outcome.hash_shares[trace.attacker.index()];
    let rates = crate::analytic::long_range_rates(sigma_old, f).ok()?;
    let point = trace.fork_point;
    let on_fork = |b: BlockId| {
        trace.fork_tip != point
            && store.get(store.fork_point(b, trace.fork_tip)).height > store.get(point).height
    };
    let joiners_set = &stake.fork_choice.syncing;
    let honest_nodes: Vec<usize> = (0..outcome.nodes.len())
        .filter(|&n| {
            let id = NodeId::from_index(n);
            outcome.nodes[n].online
                && id != trace.attacker
                && joiners_set.binary_search(&id).is_err()
        })
        .collect();
    let honest_tip = honest_nodes
        .iter()
        .map(|&n| outcome.nodes[n].tip)
        .filter(|&t| !on_fork(t) && store.is_ancestor(point, t))
        .max_by_key(|&t| (store.get(t).height, std::cmp::Reverse(t)));
    let fork_slot = seals.slot_of(point);
    let fork_slots = slots_above(store, seals, trace.fork_tip, point);
    let honest_slots = honest_tip.map_or_else(Vec::new, |t| slots_above(store, seals, t, point));
    let last = fork_slots.last().copied().max(honest_slots.last().copied()).unwrap_or(fork_slot);
    let sale = trace.sale_slot;
    let count = |slots: &[u64], lo: u64, hi: u64| {
        slots.iter().filter(|&&s| s >= lo && s <= hi).count() as u64
    };
    let growth = GrowthLine {
        fork: Growth::of(
            fork_slots.len() as u64,
            last.saturating_sub(fork_slot),
            rates.fork_per_slot,
        ),
        honest_before_sale: Growth::of(
            count(&honest_slots, fork_slot + 1, sale.saturating_sub(1)),
            sale.saturating_sub(1).saturating_sub(fork_slot),
            rates.honest_before_sale_per_slot,
        ),
        honest_after_sale: Growth::of(
            count(&honest_slots, sale, last),
            (last + 1).saturating_sub(sale),
            rates.honest_after_sale_per_slot,
        ),
    };
    let overtake = OvertakeLine {
        expected_slots_after_sale: crate::analytic::long_range_overtake_slots(
            sigma_old,
            f,
            sale.saturating_sub(fork_slot + 1),
        )
        .ok()
        .flatten(),
        measured_slots_after_sale: first_lead(&fork_slots, &honest_slots)
            .map(|s| s.saturating_sub(sale)),
    };
    let window_slots = match scenario.consensus.sync {
        SyncRule::Genesis { window_slots } => window_slots,
        SyncRule::Longest => default_window_slots(k, f),
    };
    let density_line = DensityLine {
        window_slots,
        honest_blocks: honest_tip.map_or(0, |t| density(store, seals, t, point, window_slots)),
        fork_blocks: density(store, seals, trace.fork_tip, point, window_slots),
        honest_expected: f * window_slots as f64,
        fork_expected: rates.fork_per_slot * window_slots as f64,
        rule_fooled_probability: crate::analytic::long_range_density_failure(
            sigma_old,
            f,
            window_slots,
        )
        .unwrap_or(f64::NAN),
    };
    let log = &stake.fork_choice;
    Some(LongRangeLine {
        attacker: trace.attacker.0,
        sigma_old,
        f,
        k,
        fork_slot,
        fork_height: store.get(point).height,
        sale_slot: sale,
        published_at_s: trace.published_at.map(SimTime::as_secs_f64),
        fork_tip_height: store.get(trace.fork_tip).height,
        honest_tip_height: honest_tip.map(|t| store.get(t).height),
        growth,
        overtake,
        refusals: Refusal::ALL.iter().zip(log.refused).map(|(r, n)| (r.name(), n)).collect(),
        deep_switches: log.deep_switches,
        online_honest_nodes: honest_nodes.len() as u64,
        online_honest_nodes_on_fork: honest_nodes
            .iter()
            .filter(|&&n| on_fork(outcome.nodes[n].tip))
            .count() as u64,
        joiners: joiners_set
            .iter()
            .map(|&n| {
                let tip = outcome.nodes[n.index()].tip;
                JoinerLine {
                    node: n.0,
                    fork_choice: scenario.consensus.sync.name(),
                    tip_height: store.get(tip).height,
                    on_fork: on_fork(tip),
                }
            })
            .collect(),
        density: density_line,
    })
}

#[cfg(test)]
mod tests {
    use super::first_lead;

    #[test]
    fn the_fork_leads_from_the_first_slot_it_has_more_blocks() {
        assert_eq!(first_lead(&[2, 4, 5, 6], &[1, 3, 7]), Some(5));
        assert_eq!(first_lead(&[2], &[1, 3]), None);
        assert_eq!(first_lead(&[1], &[]), Some(1));
    }
}
