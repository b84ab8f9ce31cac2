//! Runs of a sweep: one scenario with one point's overrides and one seed, reduced to the
//! metrics that `runs.csv` and `points.csv` hold.
//!
//! The metric names and their order depend only on the kind of scenario, so every run of a
//! sweep has the same columns:
//! - network runs: `stale_rate` (stale blocks over counted blocks, a proportion),
//!   `propagation_p50_mean_ms`, `propagation_p90_mean_ms`, `mean_block_interval_s`,
//!   `block_interval_target_s`, `reorgs`, `blocks_mined`, `node_mean_delay_median_ms`
//!   (Gervais et al.'s median over nodes of each node's mean block delay),
//!   `traffic_kbit_s_per_node` (their total average traffic per node), and whether the
//!   network kept up with its blocks (`summary.json`'s `backlog`): `senders_behind` (nodes
//!   holding more than a block interval of uploads when mining stopped),
//!   `longest_upload_queue_s` (the longest of those queues) and `drain_s` (how long the
//!   work pending at the last block took to finish; NaN without blocks);
//! - double-spend races: `success` (a proportion), `exact`, `nakamoto` (NaN where the closed
//!   form does not apply);
//! - selfish-mining races: `relative_revenue`, `eyal_sirer_revenue`, `stale_rate`.

use std::path::PathBuf;

use crate::race_report::{self, RaceSummary};
use crate::results::files::render;
use crate::run::RunError;
use crate::scenario::{self, Override};
use crate::sweep::{Metric, Runner};

/// Runs a base scenario file with overrides; used by `forksim sweep`.
pub struct ScenarioRunner {
    /// The base scenario.
    pub base: PathBuf,
}

impl Runner for ScenarioRunner {
    /// The scenario with these overrides does not load, or its world cannot be built.
    type Error = RunError;

    /// Loads and validates the base scenario with these overrides (what `forksim validate`
    /// checks of the file; the network itself is built only by the run).
    fn check(&self, overrides: &[Override]) -> Result<(), RunError> {
        scenario::load(&self.base, overrides, None)?;
        Ok(())
    }

    fn run(&self, overrides: &[Override], seed: u64) -> Result<Vec<(String, Metric)>, RunError> {
        let scenario = scenario::load(&self.base, overrides, Some(seed))?;
        let arguments: Vec<String> = overrides.iter().map(|o| o.argument.clone()).collect();
        let _crash =
            crate::crash::enter(&scenario, crate::crash::run_command(&self.base, &arguments, seed));
        let value = |name: &str, v: f64| (name.to_string(), Metric::Value(v));
        if scenario.race.is_some() {
            return Ok(match race_report::run(&scenario) {
                RaceSummary::DoubleSpend(s) => vec![
                    (
                        "success".to_string(),
                        Metric::Proportion { successes: s.successes, trials: s.trials },
                    ),
                    value("exact", s.exact.unwrap_or(f64::NAN)),
                    value("nakamoto", s.nakamoto.unwrap_or(f64::NAN)),
                ],
                RaceSummary::SelfishMining(s) => vec![
                    value("relative_revenue", s.relative_revenue.unwrap_or(f64::NAN)),
                    value("eyal_sirer_revenue", s.eyal_sirer_revenue),
                    (
                        "stale_rate".to_string(),
                        Metric::Proportion { successes: s.stale, trials: s.blocks },
                    ),
                ],
                RaceSummary::NothingAtStake(s) => vec![
                    value("chain_attacker_rate", s.chain_attacker_rate),
                    value("tree_attacker_rate", s.tree_attacker_rate),
                    value("tree_growth_closed_form", s.tree_growth_closed_form),
                    value("honest_rate", s.honest_rate),
                ],
            });
        }
        let outcome = crate::run::run(&scenario)?;
        let s = render(&scenario, &outcome).summary;
        Ok(vec![
            (
                "stale_rate".to_string(),
                Metric::Proportion { successes: s.stale_blocks, trials: s.blocks_counted },
            ),
            value("propagation_p50_mean_ms", s.propagation_ms.to_50_percent.mean_ms),
            value("propagation_p90_mean_ms", s.propagation_ms.to_90_percent.mean_ms),
            value("mean_block_interval_s", s.mean_block_interval_s),
            value("block_interval_target_s", scenario.chain.block_interval_s),
            value("reorgs", s.reorgs.count as f64),
            value("blocks_mined", s.blocks_mined as f64),
            value("node_mean_delay_median_ms", s.node_mean_delay_median_ms.unwrap_or(f64::NAN)),
            value("traffic_kbit_s_per_node", s.traffic.per_node_kbit_s),
            value("senders_behind", s.backlog.senders_behind as f64),
            value("longest_upload_queue_s", s.backlog.longest_upload_queue_s),
            value("drain_s", s.backlog.drain_s.unwrap_or(f64::NAN)),
        ])
    }
}
