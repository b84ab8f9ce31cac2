//! One pipeline from a scenario to its outcome, used by every command and by the tests.
//!
//! A scenario is one of three kinds ([`Kind`]): a race without a network (`[race]`), many
//! trials of a double spend on the network (`trials > 1`), or one network run. [`run`]
//! builds the world of a network run, runs it and returns its [`Outcome`]; the trials and
//! the races have their own entry points ([`trials::run`], [`race`]).

pub mod judge;
#[cfg(test)]
mod tests;
pub mod trials;

use crate::engine::{Limits, RunStats};
use crate::id::NodeId;
use crate::node::Report;
use crate::observe::Observer;
use crate::observe::metrics::Metrics;
use crate::results::{DoubleSpendOutcome, MainChain, NodeOutcome, Outcome};
use crate::scenario::{Scenario, ScenarioError};
use crate::world::{Remains, World};
use judge::Judge;

/// Why a scenario could not be run: it does not load, or its world cannot be built. Both
/// are problems with the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The scenario file or an override is wrong.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The scenario's network or attack setup cannot be built.
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// What kind of run a scenario asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A race without a network (`[race]`).
    Race,
    /// Many independent network runs of a double spend.
    Trials {
        /// How many.
        trials: u64,
    },
    /// One network run.
    Network,
}

impl Kind {
    /// The kind of `scenario`.
    pub fn of(scenario: &Scenario) -> Kind {
        if scenario.race.is_some() {
            return Kind::Race;
        }
        match trials::trials_of(scenario) {
            0 | 1 => Kind::Network,
            trials => Kind::Trials { trials },
        }
    }
}

pub use crate::race_report::RaceSummary;
pub use crate::world::BuildError;

/// Runs a race scenario (`[race]`): many races without a network, reported beside the
/// closed forms.
pub fn race(scenario: &Scenario) -> RaceSummary {
    crate::race_report::run(scenario)
}

/// Calls its function with the number of blocks mined after every block.
pub type Progress = Box<dyn FnMut(u64)>;

/// Runs a network scenario with its own seed and returns the outcome, with the standard
/// metrics as observer.
///
/// # Errors
///
/// A [`BuildError`] when the scenario's network or attack setup cannot be built.
pub fn run(scenario: &Scenario) -> Result<Outcome<Metrics>, BuildError> {
    run_with(scenario, Metrics::for_scenario(scenario), None)
}

/// Runs a network scenario watched by `observer` (metrics, narration, a trace, a replay
/// page, or several), reporting progress to `progress`.
///
/// # Errors
///
/// A [`BuildError`] when the scenario's network or attack setup cannot be built.
pub fn run_with<O: Observer>(
    scenario: &Scenario,
    observer: O,
    progress: Option<Progress>,
) -> Result<Outcome<O>, BuildError> {
    let mut world = World::build(scenario, observer, Judge::of(scenario))?;
    if let Some(p) = progress {
        world.on_progress(p);
    }
    let limits = Limits { max_events: scenario.run.max_events, max_time: scenario.run.max_time };
    let stats = world.run(limits, scenario.run.drain);
    let (remains, judge) = world.finish();
    Ok(outcome(remains, judge, stats, scenario.run.settle_blocks))
}

/// Puts a finished world's remains into an outcome.
fn outcome<O>(
    remains: Remains<O>,
    judge: Option<Judge>,
    stats: RunStats,
    settle_blocks: u64,
) -> Outcome<O> {
    let Remains {
        mut shared,
        transport,
        nodes,
        observer,
        hash_shares,
        gamma_subset,
        blocks_mined,
        backlog,
    } = remains;
    let timeline = transport.faults().is_some();
    let node_outcomes: Vec<NodeOutcome> = nodes
        .iter()
        .map(|n| NodeOutcome {
            tip: n.tip(),
            mines: n.mines(),
            protocol: n.protocol_name(),
            report: n.report(),
            rejected: n.rejected().to_vec(),
            online: transport.online(n.id()),
            request_timeouts: n.request_timeouts(),
        })
        .collect();
    let double_spend = judge.map(|j| {
        let shop = match node_outcomes[j.merchant.index()].report {
            Report::Merchant(shop) => Some(shop),
            _ => None,
        };
        let gave_up = matches!(
            node_outcomes[j.attacker.index()].report,
            Report::DoubleSpender { gave_up: true, .. }
        );
        DoubleSpendOutcome {
            attacker: j.attacker,
            merchant: j.merchant,
            z: j.z,
            q: j.q,
            slot_coeff: j.slot_coeff,
            paid_at: shop.map(|s| s.paid_at),
            shipped_at: shop.and_then(|s| s.shipped_at),
            reversed_at: shop.and_then(|s| s.reversed_at),
            gave_up,
            cut_off: j.cut_off,
        }
    });
    let main_chain = MainChain::of(&mut shared.store);
    let traffic = transport.traffic().clone();
    let (network, _) = transport.into_parts();
    Outcome {
        stats,
        store: shared.store,
        network,
        observer,
        nodes: node_outcomes,
        hash_shares,
        payments: shared.payments,
        gamma_subset,
        timeline,
        double_spend,
        blocks_mined,
        main_chain,
        settle_blocks,
        stake: shared.stake,
        traffic,
        backlog,
    }
}

/// The attacker and merchant of a scenario's double spend, if it has one.
pub fn double_spend_parties(scenario: &Scenario) -> Option<(NodeId, NodeId)> {
    judge::Judge::of(scenario).map(|j| (j.attacker, j.merchant))
}
