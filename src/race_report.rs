//! Runs a scenario's `[race]` (the no-network Monte Carlo of [`crate::race`]) and reports the
//! estimate beside the closed forms of [`crate::analytic`].
//!
//! A race scenario writes `summary.json` and `manifest.json` like any run, so `--set`,
//! `replay` and sweeps treat it like a network run. The terminal shows the simulated value
//! and the closed-form values side by side.

use std::fmt::Write;

use serde::Serialize;

use crate::analytic;
use crate::race::{run_double_spend, run_selfish_mining};
use crate::rng::{Purpose, RngStreams};
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

/// The result of a race scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum RaceSummary {
    /// A double-spend race.
    DoubleSpend(DoubleSpendSummary),
    /// A selfish-mining race.
    SelfishMining(SelfishSummary),
}

impl RaceSummary {
    /// The summary as pretty JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = match self {
            RaceSummary::DoubleSpend(s) => serde_json::to_vec_pretty(s),
            RaceSummary::SelfishMining(s) => serde_json::to_vec_pretty(s),
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
                let _ = writeln!(
                    o,
                    "forksim {} | {} | seed {} | double-spend race: q = {}, z = {}, gives up: {give_up}, pre-mined {}",
                    env!("CARGO_PKG_VERSION"),
                    s.scenario,
                    s.seed,
                    s.q,
                    s.z,
                    s.premined
                );
                let _ = writeln!(
                    o,
                    "  attacker success     simulated {:.6}   (95 % interval {:.6} .. {:.6}; {} of {} races)",
                    s.success_rate, s.ci95_low, s.ci95_high, s.successes, s.trials
                );
                let _ = writeln!(o, "                       exact     {}", fmt(s.exact));
                let _ = writeln!(o, "                       Nakamoto  {}", fmt(s.nakamoto));
                let _ = writeln!(
                    o,
                    "  blocks to success    {}   attacker blocks lost per failure {}",
                    fmt(s.mean_blocks_to_success),
                    fmt(s.mean_attacker_blocks_lost)
                );
            }
            RaceSummary::SelfishMining(s) => {
                let _ = writeln!(
                    o,
                    "forksim {} | {} | seed {} | selfish-mining race: alpha = {}, gamma = {}, {} blocks",
                    env!("CARGO_PKG_VERSION"),
                    s.scenario,
                    s.seed,
                    s.alpha,
                    s.gamma,
                    s.blocks
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
        }
        let _ = writeln!(
            o,
            "  wall {wall_s:.2} s | results in {out_dir}/ (summary.json, manifest.json)"
        );
        o
    }
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
            })
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
