//! Statistical check of the network model against the closed form of a two-miner race.
//!
//! Two miners with hash shares a and 1 - a, joined by one link with a constant one-way
//! delay d (flood relay, no transmission or validation time), block interval T. A block by
//! the first miner becomes stale-or-competing when the second finds a block before hearing
//! of it, which happens with probability 1 - exp(-(1 - a) d / T); each such fork leaves
//! exactly one stale block. To first order in d / T the stale rate is therefore
//!
//!   s = a (1 - exp(-(1 - a) d / T)) + (1 - a) (1 - exp(-a d / T)).
//!
//! Higher-order effects (a second fork during the first one's resolution) are bounded by
//! (d / T)^2. Tolerance: three binomial standard errors plus (d / T)^2.
//! With d / T = 0.01 and 400,000 blocks that is about 7 % of s; doubling the delay (for
//! example, a relay that took three trips instead of one) or ignoring it would fail.

use forksim::results::files::render;
use forksim::scenario;

fn stale_rate(share: f64, delay_s: f64, interval_s: f64, blocks: u64, seed: u64) -> f64 {
    let text = format!(
        r#"
[run]
blocks = {blocks}
settle_blocks = 10
[chain]
block_interval_s = {interval_s}
retarget_interval = 0
[mining]
network_hashrate_hs = 1e6
grind_hashes = 1
block_size_bytes = 0
hash_power = {{ distribution = "shares", shares = [{share}, {other}] }}
[network]
nodes = 2
[network.topology]
kind = "complete"
[network.latency]
model = "constant"
ms = {delay_ms}
[network.bandwidth]
model = "constant"
upload_bps = 1_000_000_000_000
download_bps = 1_000_000_000_000
[network.relay]
protocol = "flood"
[node]
validation_ms_base = 0.0
validation_ms_per_mb = 0.0
"#,
        other = 1.0 - share,
        delay_ms = delay_s * 1000.0,
    );
    let scenario =
        scenario::from_str(&text, std::path::Path::new("race.toml"), &[], Some(seed)).unwrap();
    let outcome = forksim::run::run(&scenario).unwrap();
    render(&scenario, &outcome).summary.stale_rate
}

#[test]
fn two_miner_stale_rate_matches_the_race_closed_form() {
    let (a, d, t, n) = (0.3, 6.0, 600.0, 400_000u64);
    let expected = forksim::analytic::two_miner_stale_rate(a, d / t).unwrap();
    let simulated = stale_rate(a, d, t, n, 11);
    let se = (expected * (1.0 - expected) / n as f64).sqrt();
    let tolerance = 3.0 * se + (d / t) * (d / t);
    eprintln!(
        "two-miner race: simulated {simulated:.5}, closed form {expected:.5}, tolerance {tolerance:.5}"
    );
    assert!(
        (simulated - expected).abs() <= tolerance,
        "stale rate {simulated:.5} vs closed form {expected:.5} (tolerance {tolerance:.5}); replay with seed 11"
    );
}

#[test]
fn without_delay_there_are_no_stale_blocks() {
    assert_eq!(stale_rate(0.5, 0.0, 600.0, 2_000, 3), 0.0);
}
