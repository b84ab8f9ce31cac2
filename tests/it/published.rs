//! The network model against published numbers.
//!
//! Nagayama, Banno and Shudo, "Identifying Impacts of Protocol and Internet Development on
//! the Bitcoin Network" (IEEE ISCC 2020, arXiv:1912.05208), simulate the Bitcoin network on
//! the same public region tables. They report that between 2015 and 2019:
//! - Internet improvements (the 2015 to the 2019 latency, bandwidth and node-share tables)
//!   cut block propagation delay by 64.5 % at the 50th percentile of nodes and 63.7 % at
//!   the 90th;
//! - compact block relay (the 2019 network with and without it) cut it by 90.1 % and 87.6 %.
//!
//! forksim runs the shipped `bitcoin-2019` scenario (300 blocks, 1000 nodes) in the four
//! settings and compares the relative reductions of the mean time to reach 50 % and 90 % of
//! nodes. Tolerance: 5 percentage points for each of the four reductions. A model that
//! ignored bandwidth or latency tables, or sent full blocks in compact mode, misses by tens
//! of points.

use forksim::results::files::render;
use forksim::scenario::{self, Override};

use crate::support::scenario as shipped;

/// Mean time (ms) to reach 50 % and 90 % of nodes.
fn mean_propagation(year: u32, relay: &str) -> (f64, f64) {
    let sets = [
        "run.blocks=300".to_string(),
        format!("network.regions=bitcoin-{year}"),
        format!("network.latency.table={year}"),
        format!("network.bandwidth.table={year}"),
        format!("network.relay.protocol={relay}"),
    ];
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let scenario = scenario::load(&shipped("bitcoin-2019.toml"), &overrides, None).unwrap();
    let outcome = forksim::run::run(&scenario).unwrap();
    let summary = render(&scenario, &outcome).summary;
    (summary.propagation_ms.to_50_percent.mean_ms, summary.propagation_ms.to_90_percent.mean_ms)
}

fn reduction(before: f64, after: f64) -> f64 {
    100.0 * (1.0 - after / before)
}

#[test]
fn internet_and_compact_block_effects_match_the_published_reductions() {
    let inv_2015 = mean_propagation(2015, "inv");
    let inv_2019 = mean_propagation(2019, "inv");
    let compact_2019 = mean_propagation(2019, "compact");
    let checks = [
        ("internet, 50 %", reduction(inv_2015.0, inv_2019.0), 64.5),
        ("internet, 90 %", reduction(inv_2015.1, inv_2019.1), 63.7),
        ("compact relay, 50 %", reduction(inv_2019.0, compact_2019.0), 90.1),
        ("compact relay, 90 %", reduction(inv_2019.1, compact_2019.1), 87.6),
    ];
    for (what, simulated, published) in checks {
        assert!(
            (simulated - published).abs() <= 5.0,
            "{what}: simulated reduction {simulated:.1} % vs published {published} % (tolerance 5 points)"
        );
    }
}
