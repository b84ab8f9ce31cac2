//! Stake drift: every stakeholder's share of the stake along the final main chain, sampled
//! over the run (`stake.csv`), and its summary in `consensus.json` (`stake_drift`).
//!
//! Where stake moves, and so what the samples show, depends on the kind:
//!
//! | kind | stake | cadence |
//! |---|---|---|
//! | `pos-slot` | initial stake plus block rewards ([`super::rewards`]; constant with `block_reward = 0`) | genesis, then the end of every epoch the chain reaches (the last sample is the tip) |
//! | `pos-coinage` | each stake output's value, which grows with the interest of every mint | every N blocks, N = ⌈main-chain blocks / 100⌉, and the tip |
//! | `dpos` | each voter's stake (votes do not move stake: constant) | every N blocks, as above |
//! | `poet` | each node's lottery weight (constant) | every N blocks, as above |
//!
//! A sample is the stake after the main-chain block at `height` (genesis is height 0);
//! `time_s` is when that block was produced. Shares are a holder's stake over the sample's
//! total. Holders are the nodes that held stake at genesis, in node order.
//!
//! **`stake_drift`** compares the first sample (genesis) with the last (the tip): the initial
//! and final share of the largest initial holder (the lowest node on ties), the Gini
//! coefficient of stake over the holders at both ends ([`super::concentration::gini`] of the
//! stake units), and the largest absolute change of any holder's share, with its node.

use std::fmt::Write as _;

use serde::Serialize;

use super::concentration;
use super::epochs::EpochClock;
use super::rewards::BlockRewards;
use super::seal::{Seals, StakeState};
use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;

/// Samples at most about this many points along a chain (for the every-N-blocks kinds).
pub const TARGET_SAMPLES: u64 = 100;

/// Stake units of a share, as every signed-seal and slot stakeholder is set up with:
/// 10^-12 of the whole, at least 1.
pub fn units_of_share(share: f64) -> u64 {
    libm::round(share * 1e12).max(1.0) as u64
}

/// The stake of every holder after the main-chain block at `height`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StakeSample {
    /// Height of the last block counted (0: genesis).
    pub height: u64,
    /// Stake per holder, in the kind's units.
    pub units: Vec<u64>,
}

impl StakeSample {
    /// Each holder's share of the sample's total stake.
    pub fn shares(&self) -> Vec<f64> {
        let total: u128 = self.units.iter().map(|&u| u128::from(u)).sum();
        self.units.iter().map(|&u| if total == 0 { 0.0 } else { u as f64 / total as f64 }).collect()
    }
}

/// The stake of every holder along a main chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StakeSeries {
    /// How the samples were taken, in words.
    pub cadence: String,
    /// The holders, in node order.
    pub holders: Vec<NodeId>,
    /// The samples, genesis first, the tip last.
    pub samples: Vec<StakeSample>,
}

/// The `stake_drift` section of `consensus.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StakeDriftLine {
    /// How `stake.csv` was sampled.
    pub cadence: String,
    /// Samples in `stake.csv`.
    pub samples: u64,
    /// Stakeholders.
    pub holders: u64,
    /// The largest holder at genesis.
    pub largest_holder: u32,
    /// Its share at genesis.
    pub largest_share_initial: f64,
    /// Its share at the tip.
    pub largest_share_final: f64,
    /// Gini of stake over the holders at genesis.
    pub gini_initial: Option<f64>,
    /// Gini of stake over the holders at the tip.
    pub gini_final: Option<f64>,
    /// The largest |final share − initial share| of any holder.
    pub max_abs_share_change: f64,
    /// The holder with that change (the lowest node on ties).
    pub max_abs_share_change_node: u32,
}

impl StakeSeries {
    /// `stake.csv`: one row per sample and holder (`sample,height,time_s,node,stake_share`),
    /// `time_s` being when the sample's block was produced on `chain` (genesis first).
    pub fn csv(&self, store: &BlockStore, chain: &[BlockId]) -> Vec<u8> {
        let mut out = String::from("sample,height,time_s,node,stake_share\n");
        for (i, sample) in self.samples.iter().enumerate() {
            let time = store.get(chain[sample.height as usize]).meta.mined_at.as_secs_f64();
            for (node, share) in self.holders.iter().zip(sample.shares()) {
                let _ = writeln!(out, "{i},{},{time:.6},{},{share:.12}", sample.height, node.0);
            }
        }
        out.into_bytes()
    }

    /// The summary of the first and last samples.
    ///
    /// # Panics
    ///
    /// If the series has no sample or no holder (every series starts at genesis, where
    /// somebody holds stake).
    pub fn drift(&self) -> StakeDriftLine {
        let first = self.samples.first().expect("a series starts at genesis");
        let last = self.samples.last().expect("a series starts at genesis");
        let (start, end) = (first.shares(), last.shares());
        let largest = (0..start.len())
            .reduce(|best, i| if start[i] > start[best] { i } else { best })
            .expect("somebody holds stake");
        let changes: Vec<f64> = start.iter().zip(&end).map(|(a, b)| (b - a).abs()).collect();
        let moved = (0..changes.len())
            .reduce(|best, i| if changes[i] > changes[best] { i } else { best })
            .expect("somebody holds stake");
        StakeDriftLine {
            cadence: self.cadence.clone(),
            samples: self.samples.len() as u64,
            holders: self.holders.len() as u64,
            largest_holder: self.holders[largest].0,
            largest_share_initial: start[largest],
            largest_share_final: end[largest],
            gini_initial: concentration::gini(&first.units),
            gini_final: concentration::gini(&last.units),
            max_abs_share_change: changes[moved],
            max_abs_share_change_node: self.holders[moved].0,
        }
    }
}

/// The heights sampled on a chain of `blocks` blocks above genesis: 0, N, 2N, … and the
/// tip, N = ⌈blocks / [`TARGET_SAMPLES`]⌉ (at least 1).
pub fn every_n_heights(blocks: u64) -> (u64, Vec<u64>) {
    let n = blocks.div_ceil(TARGET_SAMPLES).max(1);
    let mut heights: Vec<u64> = (0..=blocks).step_by(n as usize).collect();
    if heights.last() != Some(&blocks) {
        heights.push(blocks);
    }
    (n, heights)
}

/// A series sampled every N blocks of `chain` (see [`every_n_heights`]), starting from
/// `initial` and applying `step` to the stake at each block above genesis.
pub fn every_n_series(
    holders: Vec<NodeId>,
    initial: Vec<u64>,
    chain: &[BlockId],
    mut step: impl FnMut(BlockId, &mut [u64]),
) -> StakeSeries {
    let blocks = chain.len().saturating_sub(1) as u64;
    let (n, heights) = every_n_heights(blocks);
    let mut units = initial;
    let mut samples = Vec::with_capacity(heights.len());
    let mut next = heights.iter().peekable();
    for (h, &b) in chain.iter().enumerate() {
        if h > 0 {
            step(b, &mut units);
        }
        if next.peek() == Some(&&(h as u64)) {
            next.next();
            samples.push(StakeSample { height: h as u64, units: units.clone() });
        }
    }
    StakeSeries { cadence: format!("every {n} blocks and the tip"), holders, samples }
}

/// A `pos-slot` series: genesis, then the stake at the end of every epoch the chain reaches
/// (after its blocks with slots before the next epoch's first slot; the last is the tip).
pub fn slot_series(
    rewards: &BlockRewards,
    clock: &EpochClock,
    seals: &Seals,
    chain: &[BlockId],
) -> StakeSeries {
    let mut units = rewards.initial.clone();
    let mut samples = vec![StakeSample { height: 0, units: units.clone() }];
    let last_epoch = chain.last().map_or(0, |&b| clock.epoch_of(seals.slot_of(b)));
    let mut h = 0;
    for epoch in 0..=last_epoch {
        let end = clock.first_slot(epoch + 1);
        while let Some(seal) = chain.get(h + 1).and_then(|&b| seals.get(b)) {
            if seal.claim.slot >= end {
                break;
            }
            if let Some(p) = rewards.party_of(seal.producer) {
                units[p] += rewards.reward_units;
            }
            h += 1;
        }
        samples.push(StakeSample { height: h as u64, units: units.clone() });
    }
    StakeSeries {
        cadence: format!("genesis, then the end of every epoch of {} slots", clock.epoch_slots),
        holders: rewards.holders.clone(),
        samples,
    }
}

/// The series of a finished run of a stake kind (`None` for `pow`, or without stake
/// state): `shares` are the initial stake (or weight) shares by node, `chain` the main
/// chain, genesis first.
pub fn series(
    kind: super::ConsensusKind,
    clock: Option<&EpochClock>,
    shares: &[f64],
    stake: Option<&StakeState>,
    chain: &[BlockId],
) -> Option<StakeSeries> {
    use super::ConsensusKind as K;
    let stake = stake?;
    match kind {
        K::Pow => None,
        K::PosSlot => {
            Some(slot_series(stake.rewards.as_ref()?.rewards(), clock?, &stake.seals, chain))
        }
        K::PosCoinage => {
            let run = stake.coinage.as_ref()?;
            let initial = run.genesis().iter().map(|s| s.value_units).collect();
            Some(every_n_series(run.owners().to_vec(), initial, chain, |b, units| {
                if let Some(m) = run.mint_of(b) {
                    units[m.output as usize] = m.after.value_units;
                }
            }))
        }
        K::Dpos | K::Poet => {
            let held = shares.iter().enumerate().filter(|(_, s)| **s > 0.0);
            let (holders, initial) =
                held.map(|(i, &s)| (NodeId::from_index(i), units_of_share(s))).unzip();
            Some(every_n_series(holders, initial, chain, |_, _| {}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::testing::{child, store};

    #[test]
    fn every_n_heights_end_at_the_tip() {
        assert_eq!(every_n_heights(0), (1, vec![0]));
        assert_eq!(every_n_heights(3), (1, vec![0, 1, 2, 3]));
        let (n, h) = every_n_heights(250);
        assert_eq!(n, 3);
        assert_eq!(h.len(), 85);
        assert_eq!((h[1], *h.last().unwrap(), h[h.len() - 2]), (3, 250, 249));
    }

    /// A series whose stake moves: shares per sample sum to 1, and the summary takes the
    /// first and last samples.
    #[test]
    fn csv_rows_sum_to_one_and_the_summary_matches_them() {
        let (mut s, g) = store();
        let mut chain = vec![g];
        for i in 0..5 {
            let b = child(&mut s, *chain.last().unwrap(), NodeId(i % 2));
            chain.push(b);
        }
        let holders = vec![NodeId(0), NodeId(1), NodeId(4)];
        // Node 0's stake doubles at every block it makes.
        let mut step_of = 0;
        let series = every_n_series(holders, vec![30, 50, 20], &chain, |_, units| {
            step_of += 1;
            if step_of % 2 == 1 {
                units[0] *= 2;
            }
        });
        assert_eq!(series.samples.len(), 6);
        let csv = String::from_utf8(series.csv(&s, &chain)).unwrap();
        let mut sums = vec![0.0; 6];
        for line in csv.lines().skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            sums[cols[0].parse::<usize>().unwrap()] += cols[4].parse::<f64>().unwrap();
        }
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-9), "{sums:?}");
        let d = series.drift();
        assert_eq!(d.largest_holder, 1);
        assert!((d.largest_share_initial - 0.5).abs() < 1e-15);
        // At the tip node 0 holds 240 of 310.
        assert!((d.largest_share_final - 50.0 / 310.0).abs() < 1e-15);
        assert_eq!(d.max_abs_share_change_node, 0);
        assert!((d.max_abs_share_change - (240.0 / 310.0 - 0.3)).abs() < 1e-15);
        assert_eq!(d.gini_initial, concentration::gini(&[30, 50, 20]));
        assert_eq!(d.gini_final, concentration::gini(&[240, 50, 20]));
    }
}
