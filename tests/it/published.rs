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
//! They used SimBlock, so forksim runs its SimBlock reference scenario
//! (`references/simblock.toml`: SimBlock's uplink and latency model; 300 blocks, 1000 nodes)
//! on the 2015 and 2019 tables for the Internet effect. Their compact-block relay predates
//! SimBlock's public one (added in August 2020, announcing every block by inv first), so the
//! compact effect is checked on the shipped 2019 network with forksim's BIP152 relay. The
//! test compares the relative reductions of the mean time to reach 50 % and 90 % of nodes. Tolerance: 5 percentage points for each of the four reductions. A model that
//! ignored bandwidth or latency tables, or sent full blocks in compact mode, misses by tens
//! of points.

use forksim::results::files::render;
use forksim::scenario::{self, Override};

use crate::support::scenario as shipped;

/// Mean time (ms) to reach 50 % and 90 % of nodes.
fn mean_propagation(base: &str, year: u32, relay: &str) -> (f64, f64) {
    let sets = [
        "run.blocks=300".to_string(),
        format!("network.regions=bitcoin-{year}"),
        format!("network.latency.table={year}"),
        format!("network.bandwidth.table={year}"),
        format!("network.relay.protocol={relay}"),
    ];
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let scenario = scenario::load(&shipped(base), &overrides, None).unwrap();
    let outcome = forksim::run::run(&scenario).unwrap();
    let summary = render(&scenario, &outcome).summary;
    (summary.propagation_ms.to_50_percent.mean_ms, summary.propagation_ms.to_90_percent.mean_ms)
}

fn reduction(before: f64, after: f64) -> f64 {
    100.0 * (1.0 - after / before)
}

#[test]
fn internet_and_compact_block_effects_match_the_published_reductions() {
    let simblock = "references/simblock.toml";
    let inv_2015 = mean_propagation(simblock, 2015, "inv");
    let inv_2019 = mean_propagation(simblock, 2019, "inv");
    let network = "bitcoin-2019.toml";
    let full_2019 = mean_propagation(network, 2019, "inv");
    let compact_2019 = mean_propagation(network, 2019, "compact");
    let checks = [
        ("internet, 50 %", reduction(inv_2015.0, inv_2019.0), 64.5),
        ("internet, 90 %", reduction(inv_2015.1, inv_2019.1), 63.7),
        ("compact relay, 50 %", reduction(full_2019.0, compact_2019.0), 90.1),
        ("compact relay, 90 %", reduction(full_2019.1, compact_2019.1), 87.6),
    ];
    for (what, simulated, published) in checks {
        assert!(
            (simulated - published).abs() <= 5.0,
            "{what}: simulated reduction {simulated:.1} % vs published {published} % (tolerance 5 points)"
        );
    }
}

/// Loads a shipped scenario with `--set` overrides.
fn load(name: &str, sets: &[&str]) -> forksim::scenario::Scenario {
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    scenario::load(&shipped(name), &overrides, None).unwrap()
}

/// The SimBlock preset's stale blocks and counted blocks at `interval_s`-second blocks,
/// summed over `seeds`, `blocks` blocks each.
fn simblock_stale_blocks(interval_s: u32, blocks: u32, seeds: &[u64]) -> (u64, u64) {
    let (mut stale, mut counted) = (0, 0);
    for seed in seeds {
        let sets = [
            format!("run.blocks={blocks}"),
            format!("run.seed={seed}"),
            format!("chain.block_interval_s={interval_s}"),
        ];
        let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
        let scenario = load("references/simblock.toml", &sets);
        let summary = render(&scenario, &forksim::run::run(&scenario).unwrap()).summary;
        stale += summary.stale_blocks;
        counted += summary.blocks_counted;
    }
    (stale, counted)
}

/// SimBlock's own model (scenarios/references/simblock.toml) against SimBlock's published
/// figures for 1000 nodes and 535 kB blocks: the median over blocks of the time to reach 50,
/// 90 and 100 % of nodes is 0.90, 1.99 and 4.1 s, and the stale rate is 11.3 % at 10-second
/// and 1.7 % at 60-second blocks. A cheaper run than the reference:
/// - propagation: 300 blocks, seed 1; tolerance ±15 % relative for each median (the time to
///   reach half the nodes varies widely between blocks: over 100 blocks its median can be
///   25 % off);
/// - stale rate at 10 s: seeds 1, 2 and 3, 1000 blocks each (2970 counted, pooled);
/// - stale rate at 60 s: seeds 1, 2 and 3, 2700 blocks each (8070 counted, pooled).
///
/// Stale-rate tolerance: ±20 % relative or three binomial standard errors of SimBlock's
/// rate over the pooled counted blocks, whichever is wider: ±20 % (±2.26 points; 3 SE is
/// 1.74) at 10 s, and 3 SE = ±0.43 points (±25 %) at 60 s.
/// Full blocks instead of compact ones (stale 24 % and 4.9 %, the time to reach half the
/// nodes 3.0 s) and a shared uplink (stale 7.5 % and 1.25 %, the time to reach all nodes
/// 1.8 s) each fail it. A latency fixed at each region pair's mean instead of SimBlock's
/// per-message draw moves these by under 4 % and passes: this test does not check that draw.
#[test]
fn the_simblock_preset_reproduces_simblocks_propagation_and_stale_rate() {
    let scenario = load("references/simblock.toml", &["run.blocks=300"]);
    let summary = render(&scenario, &forksim::run::run(&scenario).unwrap()).summary;
    let p = &summary.propagation_ms;
    for (what, simulated, published) in [
        ("50 %", p.to_50_percent.median_ms, 900.0),
        ("90 %", p.to_90_percent.median_ms, 1_990.0),
        ("100 %", p.to_100_percent.median_ms, 4_100.0),
    ] {
        let off = simulated / published - 1.0;
        assert!(off.abs() <= 0.15, "to {what}: {simulated:.0} ms vs SimBlock {published} ms");
    }
    for (interval_s, blocks, published) in [(10, 1000, 0.113), (60, 2700, 0.017)] {
        let (stale, counted) = simblock_stale_blocks(interval_s, blocks, &[1, 2, 3]);
        let simulated = stale as f64 / counted as f64;
        let se = (published * (1.0 - published) / counted as f64).sqrt();
        let tolerance = (0.20 * published).max(3.0 * se);
        assert!(
            (simulated - published).abs() <= tolerance,
            "stale rate at {interval_s} s: {simulated:.4} ({stale} of {counted} blocks) \
             vs SimBlock {published} (tolerance {tolerance:.4})"
        );
    }
}

/// Latency is drawn per message, so one miner's blocks do not all spread in the same time:
/// on the quickstart scenario the time to reach half the nodes takes at least 50 distinct
/// values over the largest miner's blocks, and over all blocks its median differs from its
/// 90th percentile. A latency frozen per link gave 94 % of one pool's blocks the same value.
#[test]
fn one_miners_blocks_do_not_all_spread_in_the_same_time() {
    let scenario = load("quickstart.toml", &[]);
    let outcome = forksim::run::run(&scenario).unwrap();
    let rendered = render(&scenario, &outcome);
    let dir = std::env::temp_dir().join(format!("forksim-pointmass-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    forksim::results::files::write_data(&dir, &rendered).unwrap();
    let csv = std::fs::read_to_string(dir.join("propagation.csv")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (miner_col, p50_col) = (col("miner"), col("p50_ms"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let mut blocks_by_miner = std::collections::BTreeMap::<&str, usize>::new();
    for r in &rows {
        *blocks_by_miner.entry(r[miner_col]).or_default() += 1;
    }
    let top = blocks_by_miner.iter().max_by_key(|(_, n)| **n).map(|(m, _)| *m).unwrap();
    let distinct: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter(|r| r[miner_col] == top && !r[p50_col].is_empty())
        .map(|r| r[p50_col])
        .collect();
    assert!(distinct.len() >= 50, "{} distinct p50 values for {top}", distinct.len());
    let summary = rendered.summary;
    let p50 = &summary.propagation_ms.to_50_percent;
    assert_ne!(p50.median_ms, p50.p90_ms);
    assert!(summary.request_timeouts.is_none(), "requests do not time out here");
}

/// Gervais et al.'s setup (`references/gervais-2015.toml`, 6000 nodes) against their
/// published simulator results (10,000 blocks per point; gh-pages `results.html` of their
/// Bitcoin-Simulator): at their 10-minute interval with 531 kB blocks the median over nodes
/// of each node's mean block delay is 14.7 s; with 1 MB blocks 27.67 s; at their 10-second
/// interval (8931-byte blocks, and their request timeout of 2T = 20 s) 1.0 s and a stale
/// rate of 4.77 %. A cheaper run than theirs:
/// 60 blocks for each delay at 10 minutes (the statistic is a median over 6000 nodes of
/// means over 60 blocks, steady to a few per cent), 400 at 10 seconds. Tolerances: ±35 %
/// for each delay, and three binomial standard errors for the stale rate. A miner's uplink
/// held for size / min(its upload, the receiver's download), as forksim's `block-fifo` did
/// before, gave 40 s at 10 minutes.
#[test]
fn the_gervais_preset_reproduces_their_delays_and_stale_rate() {
    let base = "references/gervais-2015.toml";
    let cases = [
        (vec!["run.blocks=60"], 14_700.0),
        (vec!["run.blocks=60", "mining.block_size_bytes=1000000"], 27_670.0),
        (
            vec![
                "run.blocks=400",
                "chain.block_interval_s=10.516",
                "mining.block_size_bytes=8931",
                "network.relay.request_timeout_s=20",
            ],
            1_000.0,
        ),
    ];
    for (sets, published_ms) in cases {
        let scenario = load(base, &sets);
        let summary = render(&scenario, &forksim::run::run(&scenario).unwrap()).summary;
        let delay = summary.node_mean_delay_median_ms.unwrap();
        assert!(
            (delay / published_ms - 1.0).abs() <= 0.35,
            "{sets:?}: median node delay {delay:.0} ms vs their {published_ms} ms (±35 %)"
        );
        let timeouts = summary.request_timeouts.as_ref().expect("the preset's requests time out");
        if published_ms == 1_000.0 {
            // 20-second timeouts against 1-second delays: some fire.
            assert!(timeouts.counts.asked_again + timeouts.counts.lapsed > 0, "{timeouts:?}");
            let n = summary.blocks_counted as f64;
            let se = (0.0477 * (1.0 - 0.0477) / n).sqrt();
            assert!(
                (summary.stale_rate - 0.0477).abs() <= (3.0 * se).max(0.35 * 0.0477),
                "stale rate {:.4} vs their 0.0477 (3 SE = {:.4})",
                summary.stale_rate,
                3.0 * se
            );
        }
    }
}

/// Gervais et al.'s congestion rise: from 1 MB to 8 MB blocks at 10 minutes their median
/// node delay grows 20.7 times (27.67 s to 571.5 s), far more than the 8 times of the size,
/// because the slowest uploaders cannot send an 8 MB block to each peer that asks before the
/// next block comes (see the README). Over 100 blocks (seed 1) forksim's preset gives 28.4 s
/// and 438 s (15.4 times; 11.1 over their 10,000 blocks). The test requires more than 10
/// times, which a model whose delays scale with size (no queue that outlasts a block
/// interval) cannot give, and that the backlog grows at 8 MB and not at 1 MB. With the
/// uplinks shared fairly among connections instead of their queue it fails: 85.4 s and
/// 737.8 s, 8.6 times.
#[test]
fn the_gervais_preset_congests_at_8_mb() {
    let base = "references/gervais-2015.toml";
    let run = |size: &str| {
        let sets = ["run.blocks=100", size];
        let scenario = load(base, &sets);
        render(&scenario, &forksim::run::run(&scenario).unwrap()).summary
    };
    let small = run("mining.block_size_bytes=1000000");
    let large = run("mining.block_size_bytes=8000000");
    let (d1, d8) =
        (small.node_mean_delay_median_ms.unwrap(), large.node_mean_delay_median_ms.unwrap());
    assert!(d8 > 10.0 * d1, "median node delay 1 MB {d1:.0} ms, 8 MB {d8:.0} ms: under 10 times");
    assert!(!small.backlog.grew, "1 MB keeps up: {:?}", small.backlog);
    assert!(large.backlog.grew, "8 MB piles up: {:?}", large.backlog);
}

/// The 2013 network (`references/decker-wattenhofer-2013.toml`) against Decker and
/// Wattenhofer's measurement (P2P 2013): a median delay of 6.5 s and a mean of 12.6 s from
/// a block's first announcement to each node's, and a fork rate of 1.69 %. As the README's
/// table: 3 seeds of the shipped 2000 blocks; the delays averaged over seeds, forks pooled.
/// Tolerance ±30 % on each. Single seeds are not within it (the network's latencies and
/// bandwidths are drawn per seed: means 8.2 to 13.7 s, forks 0.6 to 3.2 %), which is why
/// the test pools three.
#[test]
fn the_2013_preset_reproduces_decker_and_wattenhofers_measurement() {
    let (mut median_s, mut mean_s, mut stale, mut counted) = (0.0, 0.0, 0, 0);
    for seed in 1..=3 {
        let seed = format!("run.seed={seed}");
        let scenario = load("references/decker-wattenhofer-2013.toml", &[&seed]);
        let summary = render(&scenario, &forksim::run::run(&scenario).unwrap()).summary;
        median_s += summary.pair_delay_median_ms.unwrap() / 1000.0 / 3.0;
        mean_s += summary.pair_delay_mean_ms.unwrap() / 1000.0 / 3.0;
        stale += summary.stale_blocks;
        counted += summary.blocks_counted;
    }
    let forks = stale as f64 / counted as f64;
    for (what, simulated, published) in [
        ("median delay, s", median_s, 6.5),
        ("mean delay, s", mean_s, 12.6),
        ("fork rate", forks, 0.0169),
    ] {
        assert!(
            (simulated / published - 1.0).abs() <= 0.30,
            "{what}: {simulated:.4} against their {published} (±30 %)"
        );
    }
}
