//! forksim as a library: build a scenario in code, run it, and read figures from the outcome.
//!
//! A small 2019 Bitcoin network is run at three block intervals; for each, the stale rate,
//! the median time for a block to reach half the nodes, and the largest miner's revenue
//! beside its hash share are read from the run's outcome, with no result files written.
//!
//! Run with `cargo run --release --example library`.

use std::error::Error;
use std::path::Path;

use forksim::scenario::{self, Override};

/// The scenario, as a scenario file would hold it: 300 nodes on the measured 2019 network,
/// ten miners with heavy-tailed hash power, 535 kB blocks, inv relay.
const SCENARIO: &str = r#"
[run]
name = "library-example"
blocks = 300

[chain]
block_interval_s = 600
retarget_interval = 0

[mining]
miners = 10
hash_power = { distribution = "pareto", alpha = 1.5 }
block_size_bytes = 535_000

[network]
nodes = 300
regions = "bitcoin-2019"

[network.latency]
model = "regions"
table = "2019"

[network.bandwidth]
model = "regions"
table = "2019"
"#;

fn main() -> Result<(), Box<dyn Error>> {
    println!("block interval   stale rate   to 50 % of nodes (median)   top miner: hash / revenue");
    for interval_s in [600, 60, 10] {
        let set = Override::parse(&format!("chain.block_interval_s={interval_s}"))?;
        let scenario = scenario::from_str(SCENARIO, Path::new("library.toml"), &[set], Some(1))?;
        let outcome = forksim::run::run(&scenario)?;
        let half = outcome.propagation(50);
        let top = outcome
            .miners()
            .max_by(|a, b| {
                outcome.hash_shares[a.index()].total_cmp(&outcome.hash_shares[b.index()])
            })
            .ok_or("the scenario has miners")?;
        println!(
            "{interval_s:>11} s   {:>8.2} %   {:>22.0} ms   {:>6.1} % / {:.1} %",
            100.0 * outcome.stale_rate(),
            half.median_ms,
            100.0 * outcome.hash_shares[top.index()],
            100.0 * outcome.revenue_share(top),
        );
    }
    Ok(())
}
