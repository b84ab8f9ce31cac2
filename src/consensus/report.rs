//! What a run says about its consensus rule: `finality.csv` (per main-chain block, when it
//! was produced and when it became final under the kind's own rule) and `consensus.json`
//! (producer concentration, slots, the energy proxy).
//!
//! Both are written for runs whose scenario has a `[consensus]` section (also with
//! `kind = "pow"`), so that kinds compare file for file; a scenario without the section
//! writes neither, and its outputs are as before. Runs of the stake kinds also write
//! `stake.csv` and a `stake_drift` section in `consensus.json` ([`super::drift`]).
//!
//! **When a block is final.** The finality rule ([`Finality`]) says how deep a block must
//! be; the time it became final is when the main-chain block at that depth above it was
//! produced (the producer's clock: a node elsewhere learns it one propagation later).
//! Under `Confirmations { z }` (PoW: z = [`POW_CONFIRMATIONS`]) that is the block z − 1
//! above it; under `RollbackLimit { k }` the block k above it. A block without enough
//! blocks above it at the end of the run is not final (`final_s` empty).
//!
//! **Concentration** is over main-chain blocks per eligible producer (every node with hash
//! power or stake, zeros included): [`super::concentration`].
//!
//! **Energy proxy.** PoW: the expected number of hashes behind every block produced (stale
//! blocks included), the sum of their work at the real-scale difficulty of their bits.
//! Stake kinds compute no hashes for their election: 0 (their cost is VRF evaluations, one
//! per stakeholder and slot, counted under `slots`).

use std::fmt::Write as _;

use serde::Serialize;

use super::dpos::Candidate;
use super::epochs::EpochClock;
use super::seal::StakeState;
use super::{ConsensusKind, Finality, Rule, concentration};
use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;

/// Confirmations after which `finality.csv` counts a PoW block final (Bitcoin's custom).
pub const POW_CONFIRMATIONS: u64 = 6;

/// The rule whose finality a run of `kind` reports (`k` for the slot kind's rollback limit).
pub fn reported_rule(kind: ConsensusKind, k: u64) -> Rule {
    Rule::for_kind(kind, POW_CONFIRMATIONS, k)
}

/// How many blocks above a block make it final, under `rule` (`None`: not depth-based).
fn depth_above(rule: &Rule) -> Option<u64> {
    match rule.finality {
        Finality::Confirmations { confirmations } => Some(confirmations.saturating_sub(1)),
        Finality::RollbackLimit { k } => Some(k),
        Finality::TwoThirdsOfProducers => None,
    }
}

/// Per main-chain block (index = height): the height of the main-chain block whose
/// production made it final under `rule`, if any. A depth rule counts blocks above; the
/// one-stage DPoS rule (with `producers` per round) takes the first block whose last
/// irreversible block ([`super::dpos::last_irreversible`]) reaches it.
fn final_heights(
    store: &BlockStore,
    chain: &[BlockId],
    rule: &Rule,
    producers: u32,
) -> Vec<Option<usize>> {
    match depth_above(rule) {
        Some(d) => {
            (0..chain.len()).map(|h| Some(h + d as usize).filter(|&j| j < chain.len())).collect()
        }
        None => {
            let makers: Vec<Candidate> = chain
                .iter()
                .map(|&b| Candidate(store.get(b).meta.miner.map_or(u32::MAX, |m| m.0)))
                .collect();
            let mut out = vec![None; chain.len()];
            let mut next = 1;
            for j in 1..chain.len() {
                // The LIB of the chain up to j (genesis, which has no producer, excluded).
                let Some(lib) = super::dpos::last_irreversible(&makers[1..=j], producers) else {
                    continue;
                };
                while next <= lib + 1 {
                    out[next] = Some(j);
                    next += 1;
                }
            }
            out
        }
    }
}

/// `finality.csv`: one row per main-chain block above genesis (`chain` from genesis to the
/// tip): height, producer, time produced and time final, in seconds.
pub fn finality_csv(store: &BlockStore, chain: &[BlockId], rule: &Rule, producers: u32) -> Vec<u8> {
    let mut out = String::from("height,producer,produced_s,final_s\n");
    let finals = final_heights(store, chain, rule, producers);
    for (h, &block) in chain.iter().enumerate().skip(1) {
        let meta = &store.get(block).meta;
        let producer = meta.miner.map_or(String::new(), |m| m.0.to_string());
        let final_at = finals[h]
            .map(|j| format!("{:.6}", store.get(chain[j]).meta.mined_at.as_secs_f64()))
            .unwrap_or_default();
        let produced = meta.mined_at.as_secs_f64();
        let _ = writeln!(out, "{h},{producer},{produced:.6},{final_at}");
    }
    out.into_bytes()
}

/// One producer's line in `consensus.json`.
#[derive(Debug, Serialize)]
struct ProducerLine {
    node: u32,
    share: f64,
    main_chain_blocks: u64,
}

/// Slot counts (`pos-slot`).
#[derive(Debug, Serialize)]
struct SlotLine {
    evaluated: u64,
    empty: u64,
    empty_rate: f64,
    vrf_evaluations: u64,
}

/// Finality summary.
#[derive(Debug, Serialize)]
struct FinalityLine {
    rule: String,
    final_blocks: u64,
    mean_time_to_final_s: Option<f64>,
}

/// `consensus.json`.
#[derive(Debug, Serialize)]
struct ConsensusReport {
    kind: &'static str,
    blocks_produced: u64,
    main_chain_blocks: u64,
    nakamoto_coefficient: Option<usize>,
    gini: Option<f64>,
    producers: Vec<ProducerLine>,
    slots: Option<SlotLine>,
    expected_hashes: f64,
    finality: FinalityLine,
    #[serde(skip_serializing_if = "Option::is_none")]
    dpos: Option<DposLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coinage: Option<super::coinage_run::CoinageLine>,
    poet: Option<super::poet_run::PoetLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    epochs: Option<EpochsLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cartel: Option<super::cartel_report::CartelLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stake_drift: Option<super::drift::StakeDriftLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    long_range: Option<super::long_range::LongRangeLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nothing_at_stake: Option<super::nothing_at_stake::NothingAtStakeLine>,
}

/// The epoch nonces of the main chain (`pos-slot`), when it reaches past epoch 0.
#[derive(Debug, Serialize)]
struct EpochsLine {
    epoch_slots: u64,
    /// Slots at the start of each epoch whose blocks' VRF outputs make the next nonce.
    window_slots: u64,
    /// η_0, η_1, … in hex.
    nonces: Vec<String>,
    /// Per epoch: main-chain blocks in its window (outputs hashed into the next nonce).
    window_blocks: Vec<u64>,
}

/// The DPoS schedule's counts (`dpos`).
#[derive(Debug, Serialize)]
struct DposLine {
    producers: u32,
    blocks_per_turn: u32,
    slot_s: f64,
    slots: u64,
    missed_slots: u64,
    voted_out: Vec<u32>,
    rounds: u64,
    irreversibility_rule: &'static str,
    mean_lag_blocks: Option<f64>,
    expected_lag_blocks: f64,
}

/// What `consensus.json` reports of a DPoS run's schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct DposCounts {
    /// N.
    pub producers: u32,
    /// K.
    pub blocks_per_turn: u32,
    /// Slot length in seconds.
    pub slot_s: f64,
    /// Slots played.
    pub slots: u64,
    /// Of them, missed.
    pub missed: u64,
    /// Nodes voted out.
    pub voted_out: Vec<u32>,
    /// Rounds begun.
    pub rounds: u64,
}

/// The sections of `consensus.json` that only one kind writes.
#[derive(Clone, Debug, Default)]
pub struct KindSections<'a> {
    /// The DPoS schedule's counts.
    pub dpos: Option<&'a DposCounts>,
    /// PoET's lottery and z-test counts.
    pub poet: Option<super::poet_run::PoetLine>,
    /// The slot kind's epoch clock (reported when the main chain leaves epoch 0).
    pub epochs: Option<EpochClock>,
    /// What a DPoS cartel did.
    pub cartel: Option<super::cartel_report::CartelLine>,
    /// Stake drift along the main chain (stake kinds).
    pub stake_drift: Option<super::drift::StakeDriftLine>,
    /// What a long-range attacker did (`pos-slot`).
    pub long_range: Option<super::long_range::LongRangeLine>,
    /// What a nothing-at-stake attacker did (`pos-slot`).
    pub nothing_at_stake: Option<super::nothing_at_stake::NothingAtStakeLine>,
}

/// `consensus.json` for a run of `kind` whose producers had `shares` (hash power or stake,
/// by node), with main chain `chain` and, for slot runs, its stake state.
pub fn consensus_json(
    kind: ConsensusKind,
    rule: &Rule,
    store: &BlockStore,
    chain: &[BlockId],
    shares: &[f64],
    stake: Option<&StakeState>,
    kinds: KindSections<'_>,
) -> Vec<u8> {
    let KindSections { dpos, poet, epochs, cartel, stake_drift, long_range, nothing_at_stake } =
        kinds;
    let mut per_node = vec![0u64; shares.len()];
    for &b in &chain[1..] {
        if let Some(m) = store.get(b).meta.miner {
            per_node[m.index()] += 1;
        }
    }
    let eligible: Vec<usize> = (0..shares.len()).filter(|&i| shares[i] > 0.0).collect();
    let counts: Vec<u64> = eligible.iter().map(|&i| per_node[i]).collect();
    let producers = eligible
        .iter()
        .map(|&i| ProducerLine {
            node: NodeId::from_index(i).0,
            share: shares[i],
            main_chain_blocks: per_node[i],
        })
        .collect();
    let slots = stake.filter(|_| kind == ConsensusKind::PosSlot).map(|s| {
        let (evaluated, empty) = s.slots.slots_and_empty();
        SlotLine {
            evaluated,
            empty,
            empty_rate: if evaluated == 0 { 0.0 } else { empty as f64 / evaluated as f64 },
            vrf_evaluations: s.slots.evaluated.iter().sum(),
        }
    });
    let produced: Vec<BlockId> = store.ids().skip(1).collect();
    let expected_hashes = if kind == ConsensusKind::Pow {
        produced
            .iter()
            .map(|&b| {
                let bits = store.get(b).header().bits;
                bits.to_target().map_or(0.0, |t| crate::chain::pow::work_from_target(t).to_f64())
            })
            .sum()
    } else {
        0.0
    };
    let finals = final_heights(store, chain, rule, dpos.map_or(0, |d| d.producers));
    let mut waits = Vec::new();
    let mut lags = Vec::new();
    for (h, j) in finals.iter().enumerate().skip(1) {
        let Some(j) = *j else { continue };
        let t =
            store.get(chain[j]).meta.mined_at.saturating_since(store.get(chain[h]).meta.mined_at);
        waits.push(t.as_secs_f64());
        lags.push((j - h) as f64);
    }
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let dpos = dpos.map(|d| DposLine {
        producers: d.producers,
        blocks_per_turn: d.blocks_per_turn,
        slot_s: d.slot_s,
        slots: d.slots,
        missed_slots: d.missed,
        voted_out: d.voted_out.clone(),
        rounds: d.rounds,
        irreversibility_rule: "one-stage: more than 2/3 of the producers built on the block",
        mean_lag_blocks: mean(&lags),
        expected_lag_blocks: super::dpos::one_stage_lag_blocks(d.producers, d.blocks_per_turn, 0)
            as f64
            - f64::from(d.blocks_per_turn - 1) / 2.0,
    });
    let report = ConsensusReport {
        kind: kind.name(),
        blocks_produced: produced.len() as u64,
        main_chain_blocks: chain.len().saturating_sub(1) as u64,
        nakamoto_coefficient: concentration::nakamoto_coefficient(&counts, 0.5),
        gini: concentration::gini(&counts),
        producers,
        slots,
        expected_hashes,
        finality: FinalityLine {
            rule: format!("{:?}", rule.finality),
            final_blocks: waits.len() as u64,
            mean_time_to_final_s: mean(&waits),
        },
        dpos,
        coinage: stake.and_then(|s| s.coinage.as_ref()).map(|c| c.report(store, chain)),
        poet,
        epochs: epochs.zip(stake).and_then(|(clock, s)| epochs_line(&clock, &s.seals, chain)),
        cartel,
        stake_drift,
        long_range,
        nothing_at_stake,
    };
    let mut bytes = serde_json::to_vec_pretty(&report).expect("the report serializes");
    bytes.push(b'\n');
    bytes
}

/// `finality.csv` and `consensus.json` of a finished run (see the module docs), and
/// `stake.csv` for the stake kinds ([`super::drift`]).
pub fn files<O>(
    scenario: &crate::scenario::Scenario,
    outcome: &crate::results::outcome::Outcome<O>,
) -> Vec<(&'static str, Vec<u8>)> {
    let kind = scenario.consensus.kind;
    let (k, epochs) = match scenario.consensus.params {
        crate::scenario::consensus::KindParams::PosSlot { k, epoch_slots, .. } => {
            let genesis = super::praos::EpochNonce::genesis(scenario.seed);
            (k, Some(EpochClock { genesis, epoch_slots }))
        }
        _ => (0, None),
    };
    let rule = reported_rule(kind, k);
    let chain = outcome.store.chain_to(outcome.main_chain.best);
    let stake = outcome.stake.as_deref();
    let dpos = dpos_counts(scenario, stake);
    let producers = dpos.as_ref().map_or(0, |d| d.producers);
    let finality = finality_csv(&outcome.store, &chain, &rule, producers);
    let shares = &outcome.hash_shares;
    let poet = poet_line(scenario, stake, &outcome.store, &chain);
    let series = super::drift::series(kind, epochs.as_ref(), shares, stake, &chain);
    let stake_drift = series.as_ref().map(super::drift::StakeSeries::drift);
    let json = consensus_json(
        kind,
        &rule,
        &outcome.store,
        &chain,
        shares,
        stake,
        KindSections {
            dpos: dpos.as_ref(),
            poet,
            epochs,
            cartel: super::cartel_report::cartel_line(scenario, outcome),
            stake_drift,
            long_range: super::long_range::long_range_line(scenario, outcome),
            nothing_at_stake: super::nothing_at_stake::nothing_at_stake_line(scenario, outcome),
        },
    );
    let mut files = vec![("finality.csv", finality), ("consensus.json", json)];
    if let Some(series) = series {
        files.push(("stake.csv", series.csv(&outcome.store, &chain)));
    }
    files
}

/// The main chain's epoch nonces, if it reaches past epoch 0 (runs that stay in epoch 0,
/// such as every shipped one at Praos's epoch length, report nothing new).
fn epochs_line(
    clock: &EpochClock,
    seals: &super::seal::Seals,
    chain: &[BlockId],
) -> Option<EpochsLine> {
    let nonces = super::epochs::along_chain(clock, seals, chain);
    if nonces.len() < 2 {
        return None;
    }
    let window_blocks = (0..nonces.len() as u64)
        .map(|e| {
            let (first, end) = (clock.first_slot(e), clock.window_end(e));
            chain
                .iter()
                .filter(|&&b| (first..end).contains(&seals.slot_of(b)) && seals.get(b).is_some())
                .count() as u64
        })
        .collect();
    Some(EpochsLine {
        epoch_slots: clock.epoch_slots,
        window_slots: clock.window_end(0),
        nonces: nonces.iter().map(|n| crate::results::files::hex(&n.0)).collect(),
        window_blocks,
    })
}

/// A PoET run's lottery and z-test counts (the rules are rebuilt from the scenario: they
/// depend on it and the seed only).
fn poet_line(
    scenario: &crate::scenario::Scenario,
    stake: Option<&StakeState>,
    store: &BlockStore,
    chain: &[BlockId],
) -> Option<super::poet_run::PoetLine> {
    let crate::scenario::consensus::KindParams::Poet { ref compromised, .. } =
        scenario.consensus.params
    else {
        return None;
    };
    let rules = crate::world::poet_rules(scenario)?;
    Some(super::poet_run::poet_line(&rules, compromised, stake?, store, chain))
}

/// A DPoS run's schedule counts, from its stake state.
fn dpos_counts(
    scenario: &crate::scenario::Scenario,
    stake: Option<&StakeState>,
) -> Option<DposCounts> {
    let crate::scenario::consensus::KindParams::Dpos { producers, blocks_per_turn, slot } =
        scenario.consensus.params
    else {
        return None;
    };
    let run = stake?.dpos.as_ref()?;
    let (slots, missed) = run.slots_and_missed();
    Some(DposCounts {
        producers,
        blocks_per_turn,
        slot_s: slot.as_secs_f64(),
        slots,
        missed,
        voted_out: run.voted_out_nodes(),
        rounds: run.schedules().len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::testing::{child, store};

    /// Under a rollback limit of 2, a block is final when the block 2 above it is produced;
    /// the last two blocks are not final.
    #[test]
    fn finality_rows_follow_the_rule_depth() {
        let (mut s, g) = store();
        let mut chain = vec![g];
        for i in 0..4 {
            let b = child(&mut s, *chain.last().unwrap(), NodeId(i % 2));
            chain.push(b);
        }
        let csv = String::from_utf8(finality_csv(
            &s,
            &chain,
            &reported_rule(ConsensusKind::PosSlot, 2),
            0,
        ))
        .unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "height,producer,produced_s,final_s");
        assert_eq!(lines.len(), 5);
        let final_of = |l: &str| l.rsplit(',').next().unwrap().to_string();
        let produced_of = |l: &str| l.split(',').nth(2).unwrap().to_string();
        assert_eq!(final_of(lines[1]), produced_of(lines[3]));
        assert_eq!(final_of(lines[2]), produced_of(lines[4]));
        assert_eq!(final_of(lines[3]), "");
        assert_eq!(final_of(lines[4]), "");
        // PoW: final at 6 confirmations, so none of 4 blocks is.
        let pow =
            String::from_utf8(finality_csv(&s, &chain, &reported_rule(ConsensusKind::Pow, 0), 0))
                .unwrap();
        assert!(pow.lines().skip(1).all(|l| l.ends_with(',')));
        let json = String::from_utf8(consensus_json(
            ConsensusKind::Pow,
            &reported_rule(ConsensusKind::Pow, 0),
            &s,
            &chain,
            &[0.5, 0.5, 0.0],
            None,
            KindSections::default(),
        ))
        .unwrap();
        assert!(json.contains("\"nakamoto_coefficient\": 2"), "{json}");
        assert!(json.contains("\"gini\": 0.0"), "{json}");
    }
}
