//! What a DPoS cartel did, measured after the run: the `cartel` section of
//! `consensus.json`.
//!
//! - **censor**: how many payments were censored, how many of them a member's block ever
//!   held (none, if the cartel kept its word), how many each member left out (distinct
//!   censored payments in its mempool when it produced a main-chain block without them),
//!   and the inclusion delay of censored and uncensored payments. A payment's delay in
//!   slots is the slot of the main-chain block that first holds it minus the first slot
//!   that starts after it was created; the mean extra delay of censored payments is
//!   checked against `analytic::dpos_censored_wait_slots`.
//! - **split**: each branch's tip, its growth (blocks in slots from the split on, against
//!   m/N and (N − m)/N) and its last irreversible height against the fork point.
//!
//! Everything here is read from the outcome (store, seals, payment pool), so it costs the
//! run nothing.

use serde::Serialize;

use super::seal::StakeState;
use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;
use crate::payments::pool::TxPool;
use crate::scenario::Scenario;
use crate::scenario::cartel::{CartelMode, Censor, cartel_of};
use crate::scenario::consensus::KindParams;
use crate::time::{SimDuration, SimTime};

/// One payment's inclusion on the main chain.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Delay {
    /// Whether the cartel censors it.
    pub censored: bool,
    /// Slots from the first slot that started after it was created to its block's slot.
    pub slots: u64,
    /// Seconds from its creation to its block's production.
    pub secs: f64,
}

/// Mean, standard error and count of a sample.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Mean {
    /// Values.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// Its standard error (sample standard deviation / √n).
    pub se: f64,
}

impl Mean {
    /// The mean of `values`, `None` if there are fewer than two.
    pub fn of(values: impl Iterator<Item = f64>) -> Option<Mean> {
        let v: Vec<f64> = values.collect();
        if v.len() < 2 {
            return None;
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
        Some(Mean { n: v.len() as u64, mean, se: (var / n).sqrt() })
    }
}

/// Per payment of the pool (by index): the first main-chain block holding it.
fn inclusion(pool: &TxPool, chain: &[BlockId]) -> Vec<Option<BlockId>> {
    let mut first = vec![None; pool.txs().len()];
    for &b in chain {
        for &i in pool.block_txs(b) {
            first[i as usize].get_or_insert(b);
        }
    }
    first
}

/// The main-chain delay of every payment included on `chain` (see the module docs),
/// in pool order; `censor` says which are censored.
pub fn payment_delays(
    store: &BlockStore,
    stake: &StakeState,
    pool: &TxPool,
    chain: &[BlockId],
    slot: SimDuration,
    censor: &Censor,
) -> Vec<Delay> {
    let first = inclusion(pool, chain);
    pool.txs()
        .iter()
        .zip(first)
        .filter_map(|(tx, b)| {
            let b = b?;
            let claim = stake.seals.signed(b)?.claim;
            let first_slot = tx.created.0 / slot.0;
            let made = store.get(b).meta.mined_at;
            Some(Delay {
                censored: censor.censors(tx.source),
                slots: claim.saturating_sub(first_slot),
                secs: made.saturating_since(tx.created).as_secs_f64(),
            })
        })
        .collect()
}

/// The `cartel` section of `consensus.json`.
#[derive(Clone, Debug, Serialize)]
pub struct CartelLine {
    mode: &'static str,
    /// Member nodes, by id.
    members: Vec<u32>,
    /// m.
    cartel_producers: u32,
    /// N.
    producers: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    censor: Option<CensorLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    split: Option<SplitLine>,
}

#[derive(Clone, Debug, Serialize)]
struct CensorLine {
    /// "all", or the nodes whose submitted payments are censored.
    censored_sources: Vec<u32>,
    censored_all: bool,
    payments_censored: u64,
    payments_uncensored: u64,
    censored_included: u64,
    /// Censored payments in any block a member produced (the cartel's promise: 0).
    censored_in_cartel_blocks: u64,
    /// Per member: distinct censored payments left out of its main-chain blocks while in
    /// its mempool.
    left_out: Vec<LeftOut>,
    delay_slots_censored: Option<Mean>,
    delay_slots_uncensored: Option<Mean>,
    delay_s_censored: Option<Mean>,
    delay_s_uncensored: Option<Mean>,
    /// The closed form of the censored payments' extra wait, in slots.
    expected_extra_wait_slots: f64,
}

/// What one member left out.
#[derive(Clone, Copy, Debug, Serialize)]
struct LeftOut {
    node: u32,
    payments: u64,
}

#[derive(Clone, Debug, Serialize)]
struct SplitLine {
    start_s: f64,
    /// The first slot that starts at or after the split.
    split_slot: u64,
    /// Slots from the split slot to the last slot with a block.
    slots_since_split: u64,
    cartel_branch: BranchLine,
    honest_branch: BranchLine,
    /// Height of the last block both branches hold.
    fork_height: u32,
}

#[derive(Clone, Debug, Serialize)]
struct BranchLine {
    tip_height: u32,
    /// Blocks on the branch in slots from the split slot on.
    blocks_since_split: u64,
    growth_per_slot: f64,
    expected_growth_per_slot: f64,
    /// The branch tip's last irreversible height (one-stage rule).
    lib_height: u32,
    /// Whether that is above the fork point.
    irreversible_past_fork: bool,
}

/// The cartel section of a finished `dpos` run with a cartel.
pub fn cartel_line<O>(
    scenario: &Scenario,
    outcome: &crate::results::outcome::Outcome<O>,
) -> Option<CartelLine> {
    let (members, spec) = cartel_of(&scenario.attackers)?;
    let KindParams::Dpos { producers, slot, .. } = scenario.consensus.params else {
        return None;
    };
    let stake = outcome.stake.as_deref()?;
    let store = &outcome.store;
    let chain = store.chain_to(outcome.main_chain.best);
    let m = members.len() as u32;
    let is_member = |n: Option<NodeId>| n.is_some_and(|n| members.binary_search(&n).is_ok());
    let (mut censor_line, mut split_line) = (None, None);
    match &spec.mode {
        CartelMode::Censor(censor) => {
            let pool = &outcome.payments.as_ref()?.pool;
            let delays = payment_delays(store, stake, pool, &chain, slot, censor);
            let of = |c: bool, f: fn(&Delay) -> f64| {
                Mean::of(delays.iter().filter(|d| d.censored == c).map(f))
            };
            let censored_total = pool.txs().iter().filter(|t| censor.censors(t.source)).count();
            let in_cartel = store
                .ids()
                .filter(|&b| is_member(store.get(b).meta.miner))
                .flat_map(|b| pool.block_txs(b).iter())
                .filter(|&&i| censor.censors(pool.txs()[i as usize].source))
                .count();
            let kp = match scenario.consensus.params {
                KindParams::Dpos { blocks_per_turn, .. } => blocks_per_turn,
                _ => 1,
            };
            censor_line = Some(CensorLine {
                censored_sources: match censor {
                    Censor::All => Vec::new(),
                    Censor::Sources(s) => s.iter().map(|n| n.0).collect(),
                },
                censored_all: *censor == Censor::All,
                payments_censored: censored_total as u64,
                payments_uncensored: (pool.txs().len() - censored_total) as u64,
                censored_included: delays.iter().filter(|d| d.censored).count() as u64,
                censored_in_cartel_blocks: in_cartel as u64,
                left_out: left_out(store, pool, &chain, &members, censor),
                delay_slots_censored: of(true, |d| d.slots as f64),
                delay_slots_uncensored: of(false, |d| d.slots as f64),
                delay_s_censored: of(true, |d| d.secs),
                delay_s_uncensored: of(false, |d| d.secs),
                expected_extra_wait_slots: crate::analytic::dpos_censored_wait_slots(
                    producers, m, kp,
                )
                .unwrap_or(f64::NAN),
            });
        }
        CartelMode::Split { start } => {
            split_line = Some(split(store, stake, &members, *start, slot, producers));
        }
    }
    Some(CartelLine {
        mode: spec.mode_name(),
        members: members.iter().map(|n| n.0).collect(),
        cartel_producers: m,
        producers,
        censor: censor_line,
        split: split_line,
    })
}

/// Per member: the distinct censored payments that were in its mempool (arrived, not yet
/// on the main chain) when it produced a main-chain block.
fn left_out(
    store: &BlockStore,
    pool: &TxPool,
    chain: &[BlockId],
    members: &[NodeId],
    censor: &Censor,
) -> Vec<LeftOut> {
    let first = inclusion(pool, chain);
    let included_at = |i: usize| first[i].map_or(SimTime::MAX, |b| store.get(b).meta.mined_at);
    let censored: Vec<usize> =
        (0..pool.txs().len()).filter(|&i| censor.censors(pool.txs()[i].source)).collect();
    members
        .iter()
        .map(|&node| {
            let mut seen = vec![false; pool.txs().len()];
            for &b in chain.iter().filter(|&&b| store.get(b).meta.miner == Some(node)) {
                let t = store.get(b).meta.mined_at;
                for &i in &censored {
                    if pool.txs()[i].created <= t
                        && included_at(i) > t
                        && pool.arrival(i as u32, node) <= t
                    {
                        seen[i] = true;
                    }
                }
            }
            LeftOut { node: node.0, payments: seen.iter().filter(|&&s| s).count() as u64 }
        })
        .collect()
}

/// The two branches of a split.
fn split(
    store: &BlockStore,
    stake: &StakeState,
    members: &[NodeId],
    start: SimTime,
    slot: SimDuration,
    producers: u32,
) -> SplitLine {
    let is_member = |n: Option<NodeId>| n.is_some_and(|n| members.binary_search(&n).is_ok());
    // Slot s starts at (s + 1) slot lengths: the first at or after the start.
    let split_slot = start.0.div_ceil(slot.0).saturating_sub(1);
    let claim = |b: BlockId| stake.seals.signed(b).map_or(0, |s| s.claim);
    // Each branch's tip: the highest block of its side made at or after the split slot
    // (the lowest id on ties), else genesis.
    let tip_of = |cartel: bool| {
        let mut best = BlockId::GENESIS;
        for b in store.ids().skip(1) {
            let e = store.get(b);
            if is_member(e.meta.miner) == cartel
                && claim(b) >= split_slot
                && e.height > store.get(best).height
            {
                best = b;
            }
        }
        best
    };
    let (cartel_tip, honest_tip) = (tip_of(true), tip_of(false));
    let fork = store.fork_point(cartel_tip, honest_tip);
    let fork_height = store.get(fork).height;
    let last_slot = store.ids().map(claim).max().unwrap_or(0);
    let slots = (last_slot + 1).saturating_sub(split_slot);
    let m = members.len() as u32;
    let dpos = stake.dpos.as_ref().expect("a dpos run keeps its schedule");
    let branch = |tip: BlockId, side: u32| {
        let blocks = store
            .chain_to(tip)
            .iter()
            .filter(|&&b| b != BlockId::GENESIS && claim(b) >= split_slot)
            .count() as u64;
        let lib_height = dpos.lib_height(tip);
        BranchLine {
            tip_height: store.get(tip).height,
            blocks_since_split: blocks,
            growth_per_slot: if slots == 0 { 0.0 } else { blocks as f64 / slots as f64 },
            expected_growth_per_slot: f64::from(side) / f64::from(producers),
            lib_height,
            irreversible_past_fork: lib_height > fork_height,
        }
    };
    SplitLine {
        start_s: start.0 as f64 / 1e6,
        split_slot,
        slots_since_split: slots,
        cartel_branch: branch(cartel_tip, m),
        honest_branch: branch(honest_tip, producers - m),
        fork_height,
    }
}
