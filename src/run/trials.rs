//! Many independent network runs of one double-spend scenario: the network-mode estimate of
//! the attacker's success probability, beside the closed forms.
//!
//! Trial `i` runs the whole scenario with its own seed, derived from the scenario's seed and
//! `i`, and stops once the attack is decided (reversed, given up, or hopelessly behind).
//! Trials run in parallel (one run per thread at a time) and their results are sorted by
//! index, so the files are the same whatever the thread count.

use rayon::prelude::*;
use serde::Serialize;

use crate::analytic::wilson_interval;
use crate::observe::Discard;
use crate::results::double_spend::{ClosedForms, summarize};
use crate::results::rows::{Fixed, TrialRow, to_csv_bytes};
use crate::rng::{Purpose, RngStreams};
use crate::scenario::Scenario;
use crate::scenario::attack::StrategySpec;
use crate::world::BuildError;

/// One trial's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trial {
    /// Trial index.
    pub trial: u64,
    /// Its seed.
    pub seed: u64,
    /// The merchant shipped.
    pub shipped: bool,
    /// The payment was reversed after shipping.
    pub success: bool,
    /// From payment to reversal, in seconds.
    pub time_to_success_s: Option<f64>,
    /// Attacker blocks mined after paying that ended outside the main chain.
    pub attacker_blocks_lost: u64,
    /// Blocks mined in the trial.
    pub blocks_mined: u64,
    /// Neither reversed, given up nor cut off when the run's limits stopped it.
    pub undecided: bool,
}

/// The `summary.json` of a trials run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrialsSummary {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// The attacker's share of the hash power.
    pub q: f64,
    /// Confirmations the merchant waits for.
    pub z: u32,
    /// Trials run.
    pub trials: u64,
    /// Trials in which the payment was reversed.
    pub successes: u64,
    /// successes / trials.
    pub success_rate: f64,
    /// Wilson 95 % interval of the success probability.
    pub ci95: (f64, f64),
    /// Trials that ended undecided at the block or time limit (counted as failures).
    pub undecided: u64,
    /// Mean time from payment to reversal over successes, in seconds.
    pub mean_time_to_success_s: Option<f64>,
    /// Mean attacker blocks lost per trial.
    pub mean_attacker_blocks_lost: f64,
    /// The closed forms for q and z.
    pub closed_form: ClosedForms,
}

/// The number of trials a scenario asks for (1 if it has no double spend).
pub fn trials_of(scenario: &Scenario) -> u64 {
    scenario
        .attackers
        .iter()
        .find_map(|a| match a.strategy {
            StrategySpec::DoubleSpend(d) => Some(d.trials),
            _ => None,
        })
        .unwrap_or(1)
}

/// Runs every trial of `scenario`.
///
/// # Errors
///
/// A [`BuildError`] if the scenario's network cannot be built.
///
/// # Panics
///
/// Panics if the scenario has no double spend.
pub fn run(scenario: &Scenario) -> Result<(TrialsSummary, Vec<Trial>), BuildError> {
    let n = trials_of(scenario);
    let streams = RngStreams::new(scenario.seed);
    let trials: Vec<Trial> = (0..n)
        .into_par_iter()
        .map(|i| {
            use rand::Rng as _;
            let seed = streams.stream(Purpose::Attacker, (1 << 40) | i).next_u64();
            let mut s = scenario.clone();
            s.seed = seed;
            let outcome = super::run_with(&s, Discard, None)?;
            let d = outcome.double_spend.as_ref().expect("a trials scenario has a double spend");
            let in_main = &outcome.main_chain.in_main;
            let summary = summarize(d, &outcome.store, in_main, &s.node_names);
            Ok(Trial {
                trial: i,
                seed,
                shipped: summary.shipped_at_s.is_some(),
                success: summary.success,
                time_to_success_s: summary.time_to_success_s,
                attacker_blocks_lost: summary.attacker_blocks_lost,
                blocks_mined: outcome.blocks_mined,
                undecided: !(summary.success || summary.gave_up || summary.cut_off),
            })
        })
        .collect::<Result<_, BuildError>>()?;
    let d = super::judge::Judge::of(scenario).expect("a trials scenario has a double spend");
    let successes = trials.iter().filter(|t| t.success).count() as u64;
    let times: Vec<f64> = trials.iter().filter_map(|t| t.time_to_success_s).collect();
    let summary = TrialsSummary {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        q: d.q,
        z: d.z,
        trials: n,
        successes,
        success_rate: successes as f64 / n as f64,
        ci95: wilson_interval(successes, n, 1.96),
        undecided: trials.iter().filter(|t| t.undecided).count() as u64,
        mean_time_to_success_s: (!times.is_empty())
            .then(|| times.iter().sum::<f64>() / times.len() as f64),
        mean_attacker_blocks_lost: trials
            .iter()
            .map(|t| t.attacker_blocks_lost as f64)
            .sum::<f64>()
            / n as f64,
        closed_form: ClosedForms::for_race(d.q, d.slot_coeff, d.z),
    };
    Ok((summary, trials))
}

/// `trials.csv` and `summary.json` of a trials run.
pub fn files(summary: &TrialsSummary, trials: &[Trial]) -> Vec<(&'static str, Vec<u8>)> {
    let trials_csv = to_csv_bytes(trials.iter().map(|t| TrialRow {
        trial: t.trial,
        seed: t.seed,
        shipped: t.shipped,
        success: t.success,
        time_to_success_s: t.time_to_success_s.map(Fixed),
        attacker_blocks_lost: t.attacker_blocks_lost,
        blocks_mined: t.blocks_mined,
    }));
    let mut json = serde_json::to_vec_pretty(summary).expect("the summary serializes");
    json.push(b'\n');
    vec![("trials.csv", trials_csv), ("summary.json", json)]
}

/// The terminal report of a trials run.
pub fn report(s: &TrialsSummary, wall_s: f64) -> String {
    let c = &s.closed_form;
    let mean = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |v| format!("{v:.0} s"));
    // Under pos-slot the slot race's forms lead, and the block race's follow for the same q.
    let slots = c.slots.map_or_else(String::new, |sc| {
        format!(
            "slot race            exact, must get ahead  {:.6}   (f = {}; q' = {:.4}: the attacker's share of the slots one side leads)\n  \
             \x20                    exact, level suffices  {:.6}\n  \
             block race, same q   ",
            sc.exact_ahead, sc.active_slot_coeff, sc.effective_share, sc.exact_level
        )
    });
    let slots_note = if c.slots.is_some() { "" } else { "closed forms         " };
    format!(
        "forksim {} | {} | seed {} | double spend on the network: q = {:.3}, z = {}, {} trials\n  \
         attacker success     simulated {:.6}   (95 % interval {:.6} .. {:.6}; {} of {} trials)\n  \
         {slots}{slots_note}exact, must get ahead  {:.6}   (honest nodes keep the block they saw first)\n  \
         \x20                    exact, level suffices  {:.6}   (the race mode's definition)\n  \
         \x20                    Nakamoto               {:.6}\n  \
         time to success      {}   attacker blocks lost per trial {:.3}\n  \
         wall {wall_s:.2} s\n",
        env!("CARGO_PKG_VERSION"),
        s.scenario,
        s.seed,
        s.q,
        s.z,
        s.trials,
        s.success_rate,
        s.ci95.0,
        s.ci95.1,
        s.successes,
        s.trials,
        c.exact_ahead,
        c.exact_level,
        c.nakamoto,
        mean(s.mean_time_to_success_s),
        s.mean_attacker_blocks_lost
    )
}
