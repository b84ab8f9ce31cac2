//! The short, readable table a run prints on the terminal.

use std::fmt::Write;

use crate::observe::output::Summary;
use crate::scenario::{MiningMode, RelayProtocol, Scenario};

fn percent(x: f64) -> String {
    format!("{:.2} %", x * 100.0)
}

fn ms(x: f64) -> String {
    if x >= 10_000.0 { format!("{:.1} s", x / 1_000.0) } else { format!("{x:.0} ms") }
}

/// The first line of the summary: version, scenario, seed, network size, mining mode and
/// relay protocol (also the replay page's subtitle).
pub fn headline(scenario: &Scenario, nodes: u32, miners: u32) -> String {
    let mode = match scenario.mining.mode {
        MiningMode::Sampled => "sampled mining",
        MiningMode::Ground => "ground mining",
    };
    let relay = match scenario.relay.protocol {
        RelayProtocol::Inv => "inv/getdata relay",
        RelayProtocol::Push => "push relay",
        RelayProtocol::Compact => "compact-block relay",
    };
    format!(
        "forksim {} | {} | seed {} | {nodes} nodes, {miners} miners | {mode} | {relay}",
        env!("CARGO_PKG_VERSION"),
        scenario.name,
        scenario.seed,
    )
}

/// Renders the terminal summary of a run.
pub fn terminal_summary(scenario: &Scenario, s: &Summary, wall_s: f64, out_dir: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", headline(scenario, s.nodes, s.miners));
    let _ = writeln!(
        o,
        "  blocks mined        {:>10}    main chain height {:>8}",
        s.blocks_mined, s.main_chain_height
    );
    let _ = writeln!(
        o,
        "  stale blocks        {:>10}    stale rate        {:>8}   (over the first {} blocks; last {} settle)",
        s.stale_blocks,
        percent(s.stale_rate),
        s.blocks_counted,
        s.settle_blocks
    );
    let _ = writeln!(
        o,
        "  mean block interval {:>10.1} s  (target {} s)",
        s.mean_block_interval_s, scenario.chain.block_interval_s
    );
    let _ = writeln!(o, "  propagation           median       mean        p90        max");
    for (label, sp) in [
        ("to 50 % of nodes", &s.propagation_ms.to_50_percent),
        ("to 90 % of nodes", &s.propagation_ms.to_90_percent),
        ("to all nodes", &s.propagation_ms.to_100_percent),
    ] {
        let _ = writeln!(
            o,
            "    {label:<17} {:>10} {:>10} {:>10} {:>10}",
            ms(sp.median_ms),
            ms(sp.mean_ms),
            ms(sp.p90_ms),
            ms(sp.max_ms)
        );
    }
    let _ = writeln!(
        o,
        "  reorgs              {:>10}    deepest           {:>8}   ({} nodes affected)",
        s.reorgs.count, s.reorgs.max_depth, s.reorgs.nodes_affected
    );
    let rejected: u64 = s.rejected.values().sum();
    let _ = writeln!(o, "  blocks rejected     {rejected:>10}");
    if let Some(t) = &s.transactions {
        let _ = writeln!(
            o,
            "  payments            {:>10} created, {} confirmed ({:.2} per s), fees {:.4} coins",
            t.created, t.confirmed, t.throughput_tx_per_s, t.fees_confirmed_coins
        );
        let lat = &t.confirmation_latency_ms;
        let _ = writeln!(
            o,
            "  time to confirm     median {:.1} s, 90th percentile {:.1} s | largest mempool {} txs | {} signatures verified",
            lat.median_ms / 1e3,
            lat.p90_ms / 1e3,
            t.max_mempool_txs,
            t.signatures_verified
        );
    }
    let _ = writeln!(
        o,
        "  virtual time {:.0} s | {} events | stopped: {:?} | wall {:.2} s",
        s.virtual_time_s, s.events, s.stopped_by, wall_s
    );
    let _ = writeln!(
        o,
        "  results in {out_dir}/ (blocks, propagation, reorgs and miners CSVs, summary.json, manifest.json, propagation and revenue plots)"
    );
    o
}
