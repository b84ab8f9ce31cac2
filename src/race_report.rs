//! Runs a scenario's `[race]` (the no-network Monte Carlo of [`crate::race`]) and reports the
//! estimate beside the closed forms of [`crate::analytic`].
//!
//! A race scenario writes `summary.json` and `manifest.json` like any run, so `--set`,
//! `replay` and sweeps treat it like a network run. The terminal shows the simulated value
//! and the closed-form values side by side.
//!
//! A `double_spend` race under `[consensus] kind = "pos-slot"` is the slot-lottery race of
//! [`crate::race::pos_slot`] (real VRF, `race.q` the attacker's stake, f from
//! `consensus.active_slot_coeff`), checked against
//! [`analytic::pos_slot_attacker_success`]; its summary adds a `pos_slot` object.

use std::fmt::Write;

use serde::Serialize;

use crate::analytic;
use crate::race::pos_slot::{self, PosSlotDoubleSpend};
use crate::race::{run_double_spend, run_selfish_mining};
use crate::rng::{Purpose, RngStreams};
use crate::scenario::consensus::KindParams;
use crate::scenario::{RaceSpec, Scenario};

/// `summary.json` of a double-spend race.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DoubleSpendSummary {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// Always "double_spend".
    pub race: &'static str,
    /// Attacker share of hash power.
    pub q: f64,
    /// Confirmations the merchant waits for.
    pub z: u32,
    /// Give-up rule (blocks behind), if any.
    pub give_up_behind: Option<u32>,
    /// Blocks mined in private before the payment.
    pub premined: u32,
    /// Races run.
    pub trials: u64,
    /// Races the attacker won.
    pub successes: u64,
    /// successes / trials.
    pub success_rate: f64,
    /// Wilson 95 % interval, low end.
    pub ci95_low: f64,
    /// Wilson 95 % interval, high end.
    pub ci95_high: f64,
    /// The exact probability of the same race (none with a give-up rule).
    pub exact: Option<f64>,
    /// Nakamoto's whitepaper formula (only without pre-mining and give-up rule).
    pub nakamoto: Option<f64>,
    /// Mean blocks (both sides) from the payment until the attacker won.
    pub mean_blocks_to_success: Option<f64>,
    /// Mean attacker blocks lost per failed race.
    pub mean_attacker_blocks_lost: Option<f64>,
    /// The slot-lottery race's figures, for a race under `consensus.kind = "pos-slot"`
    /// (absent under proof of work).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pos_slot: Option<PosSlotDetails>,
}

/// What a pos-slot double-spend race adds to its summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PosSlotDetails {
    /// The active-slot coefficient f.
    pub active_slot_coeff: f64,
    /// φ(α): the chance that the attacker leads a slot.
    pub attacker_slot_probability: f64,
    /// φ(1 − α): the chance that some honest key leads a slot.
    pub honest_slot_probability: f64,
    /// q' = a (1 − h) / (a (1 − h) + h (1 − a)).
    pub effective_share: f64,
    /// Rosenfeld's probability for the block race with q = α, for comparison.
    pub rosenfeld: f64,
    /// The honest stake's split over keys (fractions of the honest stake).
    pub honest_keys: Vec<f64>,
    /// A race is stopped as lost once catching up is less likely than this.
    pub cutoff: f64,
    /// Slots, VRF evaluations and who led them, over all races.
    #[serde(flatten)]
    pub counts: pos_slot::SlotCounts,
}

/// `summary.json` of a selfish-mining race.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SelfishSummary {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// Always "selfish_mining".
    pub race: &'static str,
    /// Selfish miner's share of hash power.
    pub alpha: f64,
    /// Tie-breaking share of honest power.
    pub gamma: f64,
    /// Blocks mined.
    pub blocks: u64,
    /// Selfish blocks in the main chain.
    pub attacker_main: u64,
    /// Honest blocks in the main chain.
    pub honest_main: u64,
    /// Blocks off the main chain.
    pub stale: u64,
    /// Selfish share of main-chain blocks (its revenue share once difficulty adjusts).
    pub relative_revenue: Option<f64>,
    /// Eyal and Sirer's closed form for the same alpha and gamma.
    pub eyal_sirer_revenue: f64,
    /// The share above which selfish mining pays for this gamma.
    pub profitability_threshold: f64,
    /// stale / blocks.
    pub stale_rate: f64,
}

/// `summary.json` of a nothing-at-stake race (under `consensus.kind = "pos-slot"`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NothingAtStakeSummary {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// Always "nothing_at_stake".
    pub race: &'static str,
    /// The attacker's relative stake α.
    pub stake: f64,
    /// The active-slot coefficient f.
    pub active_slot_coeff: f64,
    /// Slots run by each attacker.
    pub slots: u64,
    /// The most blocks the tree attacker keeps.
    pub max_blocks: u64,
    /// p = φ(α): the chance of one (block, slot) lottery.
    pub slot_rate: f64,
    /// Growth of the per-slot attacker's chain, blocks per slot, over the last 3/4 of the
    /// slots.
    pub chain_attacker_rate: f64,
    /// Growth of the tree attacker's longest chain, blocks per slot, over the same window.
    pub tree_attacker_rate: f64,
    /// The closed form v*(p) of the unbounded tree.
    pub tree_growth_closed_form: f64,
    /// e p, the small-rate limit.
    pub e_times_slot_rate: f64,
    /// φ(1 − α): the honest chain's growth at zero delay.
    pub honest_rate: f64,
    /// The stake below which the honest chain outgrows the unbounded tree, at this f.
    pub safe_stake: f64,
    /// VRF evaluations of the tree attacker.
    pub tree_vrf_evaluations: u64,
    /// Heights reached by the per-slot and the tree attacker.
    pub final_heights: [u64; 2],
}

/// The result of a race scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum RaceSummary {
    /// A double-spend race.
    DoubleSpend(DoubleSpendSummary),
    /// A selfish-mining race.
    SelfishMining(SelfishSummary),
    /// A nothing-at-stake race.
    NothingAtStake(NothingAtStakeSummary),
}

impl RaceSummary {
    /// The summary as pretty JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = match self {
            RaceSummary::DoubleSpend(s) => serde_json::to_vec_pretty(s),
            RaceSummary::SelfishMining(s) => serde_json::to_vec_pretty(s),
            RaceSummary::NothingAtStake(s) => serde_json::to_vec_pretty(s),
        }
        .expect("race summaries serialize");
        bytes.push(b'\n');
        bytes
    }

    /// The terminal table: simulation and closed forms side by side.
    pub fn terminal(&self, wall_s: f64, out_dir: &str) -> String {
        let mut o = String::new();
        let fmt = |p: Option<f64>| p.map_or_else(|| "n/a".to_string(), |p| format!("{p:.6}"));
        match self {
            RaceSummary::DoubleSpend(s) => {
                let give_up =
                    s.give_up_behind.map_or_else(|| "never".to_string(), |g| format!("{g} behind"));
                header(
                    &mut o,
                    &s.scenario,
                    s.seed,
                    format_args!(
                        "double-spend race: q = {}, z = {}, gives up: {give_up}, pre-mined {}",
                        s.q, s.z, s.premined
                    ),
                );
                let _ = writeln!(
                    o,
                    "  attacker success     simulated {:.6}   (95 % interval {:.6} .. {:.6}; {} of {} races)",
                    s.success_rate, s.ci95_low, s.ci95_high, s.successes, s.trials
                );
                if let Some(p) = &s.pos_slot {
                    let _ = writeln!(
                        o,
                        "                       closed form {} (pos-slot, f = {}, q' = {:.4})",
                        fmt(s.exact),
                        p.active_slot_coeff,
                        p.effective_share
                    );
                    let _ = writeln!(
                        o,
                        "                       Rosenfeld {:.6} (blocks, q = {})",
                        p.rosenfeld, s.q
                    );
                    let _ = writeln!(
                        o,
                        "  slots {}   VRF evaluations {}   several honest leaders {}   both sides {}",
                        p.counts.slots,
                        p.counts.vrf_evaluations,
                        p.counts.multi_leader_slots,
                        p.counts.both_slots
                    );
                } else {
                    let _ = writeln!(o, "                       exact     {}", fmt(s.exact));
                    let _ = writeln!(o, "                       Nakamoto  {}", fmt(s.nakamoto));
                    let _ = writeln!(
                        o,
                        "  blocks to success    {}   attacker blocks lost per failure {}",
                        fmt(s.mean_blocks_to_success),
                        fmt(s.mean_attacker_blocks_lost)
                    );
                }
            }
            RaceSummary::SelfishMining(s) => {
                header(
                    &mut o,
                    &s.scenario,
                    s.seed,
                    format_args!(
                        "selfish-mining race: alpha = {}, gamma = {}, {} blocks",
                        s.alpha, s.gamma, s.blocks
                    ),
                );
                let _ = writeln!(
                    o,
                    "  relative revenue     simulated {}   Eyal-Sirer {:.6}   honest share would be {}",
                    fmt(s.relative_revenue),
                    s.eyal_sirer_revenue,
                    s.alpha
                );
                let _ = writeln!(
                    o,
                    "  pays off above alpha {:.6}     stale rate {:.4}",
                    s.profitability_threshold, s.stale_rate
                );
            }
            RaceSummary::NothingAtStake(s) => {
                header(
                    &mut o,
                    &s.scenario,
                    s.seed,
                    format_args!(
                        "nothing-at-stake race: stake = {}, f = {}, {} slots, tree of at most {} blocks",
                        s.stake, s.active_slot_coeff, s.slots, s.max_blocks
                    ),
                );
                let p = s.slot_rate;
                let _ = writeln!(
                    o,
                    "  growth per slot      one lottery per slot {:.5} ({:.3} p)   every block {:.5} ({:.3} p)",
                    s.chain_attacker_rate,
                    s.chain_attacker_rate / p,
                    s.tree_attacker_rate,
                    s.tree_attacker_rate / p
                );
                let _ = writeln!(
                    o,
                    "  closed forms         p = {p:.5}   v*(p) = {:.5} ({:.3} p)   e p = {:.5}   honest chain {:.5}",
                    s.tree_growth_closed_form,
                    s.tree_growth_closed_form / p,
                    s.e_times_slot_rate,
                    s.honest_rate
                );
                let _ = writeln!(
                    o,
                    "  safe stake           {:.4} against an attacker trying every block (1/2 against one lottery per slot)",
                    s.safe_stake
                );
            }
        }
        let _ = writeln!(
            o,
            "  wall {wall_s:.2} s | results in {out_dir}/ (summary.json, manifest.json)"
        );
        o
    }
}

/// The first line of a race's terminal report: version, scenario, seed and what was raced.
fn header(o: &mut String, scenario: &str, seed: u64, race: std::fmt::Arguments<'_>) {
    let _ =
        writeln!(o, "forksim {} | {scenario} | seed {seed} | {race}", env!("CARGO_PKG_VERSION"));
}

/// Runs the scenario's race; every draw comes from the stream (Attacker, 0) of its seed.
///
/// # Panics
///
/// Panics if the scenario has no `[race]`; callers check first.
pub fn run(scenario: &Scenario) -> RaceSummary {
    let spec = scenario.race.as_ref().expect("run only for race scenarios");
    let mut rng = RngStreams::new(scenario.seed).stream(Purpose::Attacker, 0);
    match *spec {
        RaceSpec::DoubleSpend { params, trials } => {
            if let KindParams::PosSlot { f, .. } = scenario.consensus.params {
                return run_pos_slot(scenario, &params, f, trials);
            }
            let outcome =
                run_double_spend(&params, trials, &mut rng).expect("validated race parameters");
            let (low, high) = analytic::wilson_interval(outcome.successes, outcome.trials, 1.96);
            let exact = params
                .give_up_behind
                .is_none()
                .then(|| {
                    analytic::exact_attacker_success_with_lead(params.q, params.z, params.premined)
                        .ok()
                })
                .flatten();
            let nakamoto = (params.give_up_behind.is_none() && params.premined == 0)
                .then(|| analytic::nakamoto_attacker_success(params.q, params.z).ok())
                .flatten();
            RaceSummary::DoubleSpend(DoubleSpendSummary {
                scenario: scenario.name.clone(),
                seed: scenario.seed,
                race: "double_spend",
                q: params.q,
                z: params.z,
                give_up_behind: params.give_up_behind,
                premined: params.premined,
                trials: outcome.trials,
                successes: outcome.successes,
                success_rate: outcome.success_rate(),
                ci95_low: low,
                ci95_high: high,
                exact,
                nakamoto,
                mean_blocks_to_success: outcome.mean_blocks_to_success(),
                mean_attacker_blocks_lost: outcome.mean_attacker_blocks_lost(),
                pos_slot: None,
            })
        }
        RaceSpec::NothingAtStake { stake, slots, max_blocks } => {
            let f = match scenario.consensus.params {
                KindParams::PosSlot { f, .. } => f,
                _ => unreachable!("validated: nothing_at_stake needs pos-slot"),
            };
            run_nothing_at_stake(scenario, stake, f, slots, max_blocks)
        }
        RaceSpec::SelfishMining { alpha, gamma, blocks } => {
            let outcome = run_selfish_mining(alpha, gamma, blocks, &mut rng)
                .expect("validated race parameters");
            RaceSummary::SelfishMining(SelfishSummary {
                scenario: scenario.name.clone(),
                seed: scenario.seed,
                race: "selfish_mining",
                alpha,
                gamma,
                blocks,
                attacker_main: outcome.attacker_main,
                honest_main: outcome.honest_main,
                stale: outcome.stale,
                relative_revenue: outcome.relative_revenue(),
                eyal_sirer_revenue: analytic::selfish_mining_revenue(alpha, gamma)
                    .expect("validated alpha and gamma"),
                profitability_threshold: analytic::selfish_mining_threshold(gamma)
                    .expect("validated gamma"),
                stale_rate: outcome.stale as f64 / blocks as f64,
            })
        }
    }
}

/// The double spend of a `[race]` under `consensus.kind = "pos-slot"`: the real-VRF slot race
/// of [`pos_slot::run_pos_slot_double_spend`] with the scenario's seed, the attacker's stake
/// `race.q` and f; premined blocks are refused when the scenario is validated.
fn run_pos_slot(
    scenario: &Scenario,
    params: &crate::race::DoubleSpendRace,
    f: f64,
    trials: u64,
) -> RaceSummary {
    let race = PosSlotDoubleSpend {
        stake: params.q,
        f,
        z: params.z,
        give_up_behind: params.give_up_behind,
    };
    let outcome = pos_slot::run_pos_slot_double_spend(&race, trials, scenario.seed)
        .expect("validated race parameters");
    let (low, high) = analytic::wilson_interval(outcome.successes, outcome.trials, 1.96);
    let (a, h) = analytic::pos_slot_probabilities(params.q, f).expect("validated q and f");
    let exact = params
        .give_up_behind
        .is_none()
        .then(|| analytic::pos_slot_attacker_success(params.q, f, params.z).ok())
        .flatten();
    let parts: u64 = pos_slot::HONEST_SPLIT.iter().sum();
    RaceSummary::DoubleSpend(DoubleSpendSummary {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        race: "double_spend",
        q: params.q,
        z: params.z,
        give_up_behind: params.give_up_behind,
        premined: 0,
        trials: outcome.trials,
        successes: outcome.successes,
        success_rate: outcome.success_rate(),
        ci95_low: low,
        ci95_high: high,
        exact,
        nakamoto: None,
        mean_blocks_to_success: None,
        mean_attacker_blocks_lost: None,
        pos_slot: Some(PosSlotDetails {
            active_slot_coeff: f,
            attacker_slot_probability: a,
            honest_slot_probability: h,
            effective_share: analytic::pos_slot_effective_share(params.q, f)
                .expect("validated q and f"),
            rosenfeld: analytic::exact_attacker_success(params.q, params.z).expect("validated q"),
            honest_keys: pos_slot::HONEST_SPLIT
                .iter()
                .map(|&part| part as f64 / parts as f64)
                .collect(),
            cutoff: pos_slot::POS_SLOT_CUTOFF,
            counts: outcome.counts,
        }),
    })
}

/// The nothing-at-stake race of a `[race]` under `consensus.kind = "pos-slot"`: the per-slot
/// and the tree attacker of [`crate::race::nothing_at_stake`] on the scenario's seed, their
/// growth over the last three quarters of the slots, and the closed forms.
fn run_nothing_at_stake(
    scenario: &Scenario,
    stake: f64,
    f: f64,
    slots: u64,
    max_blocks: u64,
) -> RaceSummary {
    use crate::race::nothing_at_stake::{NothingAtStake, run_chain_attacker, run_tree_attacker};
    let params = NothingAtStake { stake, f };
    let seed = scenario.seed;
    let chain = run_chain_attacker(&params, slots, seed).expect("validated stake and f");
    let tree = run_tree_attacker(&params, slots, max_blocks as usize, seed)
        .expect("validated stake and f");
    let from = (slots / 4) as usize;
    let (a, h) = analytic::pos_slot_probabilities(stake, f).expect("validated stake and f");
    let last = |g: &crate::race::nothing_at_stake::Growth| *g.heights.last().expect("slots >= 2");
    RaceSummary::NothingAtStake(NothingAtStakeSummary {
        scenario: scenario.name.clone(),
        seed,
        race: "nothing_at_stake",
        stake,
        active_slot_coeff: f,
        slots,
        max_blocks,
        slot_rate: a,
        chain_attacker_rate: chain.slope_from(from),
        tree_attacker_rate: tree.slope_from(from),
        tree_growth_closed_form: analytic::nothing_at_stake_growth_rate(a).expect("0 < p < 1"),
        e_times_slot_rate: std::f64::consts::E * a,
        honest_rate: h,
        safe_stake: analytic::nothing_at_stake_safe_stake(f).expect("validated f"),
        tree_vrf_evaluations: tree.vrf_evaluations,
        final_heights: [last(&chain), last(&tree)],
    })
}
