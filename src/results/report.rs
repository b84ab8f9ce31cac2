//! The short, readable table a run prints on the terminal.

use std::fmt::Write;

use crate::results::attack::AttackSection;
use crate::results::files::Summary;
use crate::scenario::{MiningMode, RelayProtocol, Scenario};
use serde_json::Value;

fn percent(x: f64) -> String {
    format!("{:.2} %", x * 100.0)
}

fn ms(x: f64) -> String {
    if x >= 10_000.0 { format!("{:.1} s", x / 1_000.0) } else { format!("{x:.0} ms") }
}

/// The first line of the summary: version, scenario, seed, network size, mining mode (or
/// the consensus kind, when it is not proof of work) and relay protocol (also the replay
/// page's subtitle).
pub fn headline(scenario: &Scenario, nodes: u32, miners: u32) -> String {
    let mode = match scenario.mining.mode {
        MiningMode::Sampled => "sampled mining",
        MiningMode::Ground => "ground mining",
    };
    let relay = match scenario.relay.protocol {
        RelayProtocol::Inv => "inv/getdata relay",
        RelayProtocol::Push => "miner push relay",
        RelayProtocol::Flood => "flood relay",
        RelayProtocol::Compact => "compact-block relay",
    };
    use crate::scenario::consensus::KindParams;
    let (who, mode) = match scenario.consensus.params {
        KindParams::Pow => (format!("{miners} miners"), mode.to_string()),
        KindParams::Dpos { producers, .. } => {
            (format!("{miners} stakeholders electing {producers} producers"), "dpos".into())
        }
        KindParams::Poet { .. } => (format!("{miners} enclave nodes"), "poet".into()),
        _ => (format!("{miners} stakeholders"), scenario.consensus.kind.name().to_string()),
    };
    format!(
        "forksim {} | {} | seed {} | {nodes} nodes, {who} | {mode} | {relay}",
        env!("CARGO_PKG_VERSION"),
        scenario.name,
        scenario.seed,
    )
}

/// The consensus lines of a run of a kind other than proof of work, from the numbers
/// `forksim compare` reads (`row`) and the run's `consensus.json` (`doc`): slots, the
/// schedule, finality under the kind's rule, concentration, and what a PoET z-test or a
/// DPoS cartel did.
pub fn consensus_lines(scenario: &Scenario, row: &crate::compare::Row, doc: &Value) -> String {
    use crate::scenario::consensus::KindParams;
    let mut o = String::new();
    let num = |pointer: &str| doc.pointer(pointer).and_then(Value::as_f64);
    let int = |pointer: &str| doc.pointer(pointer).and_then(Value::as_u64);
    let opt = |v: Option<u64>| v.map_or_else(|| "n/a".to_string(), |v| v.to_string());
    let _ = writeln!(
        o,
        "  consensus           {} | Nakamoto coefficient {} | Gini of blocks {} | hashes computed {}",
        row.kind,
        opt(row.nakamoto_coefficient),
        row.gini.map_or_else(|| "n/a".to_string(), |g| format!("{g:.3}")),
        if row.energy_hashes == 0.0 {
            "0".to_string()
        } else {
            format!("{:.3e}", row.energy_hashes)
        }
    );
    let rule = match scenario.consensus.params {
        KindParams::PosSlot { f, k, .. } => {
            if let (Some(slots), Some(empty)) = (int("/slots/evaluated"), int("/slots/empty")) {
                let rate = if slots == 0 { 0.0 } else { empty as f64 / slots as f64 };
                let _ = writeln!(
                    o,
                    "  slots               {slots} played, {empty} without a leader ({}; 1 - f = {}), {} VRF evaluations",
                    percent(rate),
                    percent(1.0 - f),
                    opt(int("/slots/vrf_evaluations"))
                );
            }
            format!("{k} blocks deep, the rollback limit")
        }
        KindParams::Dpos { producers, .. } => {
            if let (Some(slots), Some(missed)) = (int("/dpos/slots"), int("/dpos/missed_slots")) {
                let _ = writeln!(
                    o,
                    "  schedule            {producers} producers, {} per turn of {} s: {missed} of {slots} slots missed over {} rounds; irreversible {} blocks behind the tip on average ({} by the rule's derivation)",
                    match int("/dpos/blocks_per_turn") {
                        Some(1) => "1 block".to_string(),
                        Some(k) => format!("{k} blocks"),
                        None => "n/a blocks".to_string(),
                    },
                    num("/dpos/slot_s").unwrap_or(0.0),
                    opt(int("/dpos/rounds")),
                    num("/dpos/mean_lag_blocks")
                        .map_or_else(|| "n/a".into(), |v| format!("{v:.1}")),
                    num("/dpos/expected_lag_blocks")
                        .map_or_else(|| "n/a".into(), |v| format!("{v:.1}"))
                );
            }
            format!("more than 2/3 of the {producers} producers built on them")
        }
        _ => format!("{} confirmations", crate::consensus::report::POW_CONFIRMATIONS),
    };
    let when = match (row.finality_median_s, row.finality_p90_s) {
        (Some(m), Some(p)) => format!(": median {m:.1} s, p90 {p:.1} s after production"),
        _ => String::new(),
    };
    let _ = writeln!(o, "  finality            {} blocks final ({rule}){when}", row.final_blocks);
    if let Some(rejected) = int("/poet/z_test_rejected") {
        let _ = writeln!(
            o,
            "  z-test              {rejected} blocks flagged (a producer winning more than z = {:.3} standard errors above its share); {} honest nodes flagged",
            num("/poet/z_max").unwrap_or(0.0),
            opt(int("/poet/honest_nodes_flagged"))
        );
    }
    cartel_lines(&mut o, doc);
    long_range_lines(&mut o, doc);
    crate::consensus::nothing_at_stake::console_lines(&mut o, doc);
    o
}

/// The long-range attack's lines: how the fork and the honest chain grew against the closed
/// forms, and who took the fork.
fn long_range_lines(o: &mut String, doc: &Value) {
    let Some(lr) = doc.get("long_range") else { return };
    let (int, num) = (|p: &str| u64_at(lr, p), |p: &str| f64_at(lr, p));
    let growth = |part: &str| {
        format!(
            "{:.3} (closed form {:.3}, z {:+.2})",
            num(&format!("/growth/{part}/per_slot")),
            num(&format!("/growth/{part}/closed_form")),
            num(&format!("/growth/{part}/z"))
        )
    };
    let _ = writeln!(
        o,
        "  long range          old keys of {} of the stake fork at height {}: blocks per slot on the fork {}, honest before the sale {}, after it {}",
        percent(num("/sigma_old")),
        int("/fork_height"),
        growth("fork"),
        growth("honest_before_sale"),
        growth("honest_after_sale")
    );
    let refused: u64 = lr
        .get("refusals")
        .and_then(Value::as_object)
        .map_or(0, |r| r.values().filter_map(Value::as_u64).sum());
    let joiners: Vec<String> = lr
        .get("joiners")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|j| {
            let on =
                if j["on_fork"].as_bool() == Some(true) { "the fork" } else { "the honest chain" };
            format!(
                "node {} ({}) ended on {on}",
                j["node"],
                j["fork_choice"].as_str().unwrap_or("?")
            )
        })
        .collect();
    let _ = writeln!(
        o,
        "                      fork {} vs honest {} blocks at the end; {} of {} online honest nodes took the fork ({refused} refusals); {}",
        int("/fork_tip_height"),
        int("/honest_tip_height"),
        int("/online_honest_nodes_on_fork"),
        int("/online_honest_nodes"),
        if joiners.is_empty() { "no node joined late".to_string() } else { joiners.join(", ") }
    );
}

/// The whole number at `pointer` in `doc`, 0 when absent (a console line, not a result).
fn u64_at(doc: &Value, pointer: &str) -> u64 {
    doc.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}

/// The number at `pointer` in `doc`, 0 when absent.
fn f64_at(doc: &Value, pointer: &str) -> f64 {
    doc.pointer(pointer).and_then(Value::as_f64).unwrap_or(0.0)
}

/// The DPoS cartel's line: what its members left out, or how its branch grew.
fn cartel_lines(o: &mut String, doc: &Value) {
    let Some(cartel) = doc.get("cartel") else { return };
    let (int, num) = (|p: &str| u64_at(cartel, p), |p: &str| f64_at(cartel, p));
    let (m, n) = (int("/cartel_producers"), int("/producers"));
    if cartel.get("censor").is_some() {
        let left_out: u64 = cartel
            .pointer("/censor/left_out")
            .and_then(Value::as_array)
            .map_or(0, |a| a.iter().filter_map(|l| l["payments"].as_u64()).sum());
        let _ = writeln!(
            o,
            "  cartel (censor)     {m} of {n} producers left out {left_out} payments; {} of {} censored payments confirmed, waiting {:.2} slots ({:.2} s) on average against {:.2} slots ({:.2} s) for the others (closed form: {:.2} slots more)",
            int("/censor/censored_included"),
            int("/censor/payments_censored"),
            num("/censor/delay_slots_censored/mean"),
            num("/censor/delay_s_censored/mean"),
            num("/censor/delay_slots_uncensored/mean"),
            num("/censor/delay_s_uncensored/mean"),
            num("/censor/expected_extra_wait_slots")
        );
    } else if cartel.get("split").is_some() {
        let _ = writeln!(
            o,
            "  cartel (split)      {m} of {n} producers on their own branch from slot {}: it grew {:.3} blocks per slot (expected {:.3}), the others' {:.3} (expected {:.3})",
            int("/split/split_slot"),
            num("/split/cartel_branch/growth_per_slot"),
            num("/split/cartel_branch/expected_growth_per_slot"),
            num("/split/honest_branch/growth_per_slot"),
            num("/split/honest_branch/expected_growth_per_slot")
        );
    }
}

/// Renders the terminal summary of a run.
///
/// `consensus` is [`consensus_lines`] for kinds other than proof of work.
pub fn terminal_summary(
    scenario: &Scenario,
    s: &Summary,
    consensus: Option<&str>,
    wall_s: f64,
    out_dir: &str,
) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}", headline(scenario, s.nodes, s.miners));
    let _ = writeln!(
        o,
        "  blocks mined        {:>10}    main chain height {:>8}",
        s.blocks_mined, s.main_chain_height
    );
    // With no block counted there is no rate: "0.00 %" would claim a measurement.
    let stale_rate = if s.blocks_counted == 0 { "n/a".to_string() } else { percent(s.stale_rate) };
    let _ = writeln!(
        o,
        "  stale blocks        {:>10}    stale rate        {:>8}   (over the first {} blocks; last {} settle)",
        s.stale_blocks, stale_rate, s.blocks_counted, s.settle_blocks
    );
    let _ = writeln!(
        o,
        "  mean block interval {:>10.1} s  (target {} s)",
        s.mean_block_interval_s, scenario.chain.block_interval_s
    );
    if s.blocks_mined == 0 {
        let _ = writeln!(o, "  propagation         n/a (no block was mined)");
    } else {
        propagation_lines(&mut o, s);
    }
    let _ = writeln!(
        o,
        "  reorgs              {:>10}    deepest           {:>8}   ({} nodes affected)",
        s.reorgs.count, s.reorgs.max_depth, s.reorgs.nodes_affected
    );
    let rejected: u64 = s.rejected.values().sum();
    let _ = writeln!(o, "  blocks rejected     {rejected:>10}");
    backlog_lines(&mut o, &s.backlog);
    if let Some(inv) = &s.invalid_data {
        let _ = writeln!(
            o,
            "  invalid data        kind                       sent  rejected  accepted  relayed"
        );
        for k in &inv.kinds {
            let _ = writeln!(
                o,
                "                      {:<24} {:>6} {:>9} {:>9} {:>8}",
                k.kind, k.sent, k.rejected, k.accepted, k.relayed
            );
        }
        for a in &inv.attackers {
            let _ = writeln!(
                o,
                "  banned              {} by {} of its {} peers",
                a.node, a.peers_banned, a.peers
            );
        }
    }
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
    if let Some(lines) = consensus {
        o.push_str(lines);
    }
    if let Some(attack) = &s.attack {
        attack_lines(
            &mut o,
            attack,
            scenario.consensus.kind == crate::consensus::ConsensusKind::Pow,
        );
    }
    if let Some(d) = &s.double_spend {
        double_spend_lines(&mut o, d);
    }
    let _ = writeln!(
        o,
        "  virtual time {:.0} s | {} events | stopped: {:?} | wall {:.2} s",
        s.virtual_time_s, s.events, s.stopped_by, wall_s
    );
    let attack_csv =
        if s.attack.as_ref().is_some_and(|a| !a.attackers.is_empty()) { "attack, " } else { "" };
    let _ = writeln!(
        o,
        "  results in {out_dir}/ (blocks, propagation, reorgs, {attack_csv}miners CSVs, summary.json, manifest.json, propagation and revenue plots)"
    );
    o
}

/// A warning when the network did not keep up with its blocks (nothing otherwise): the work
/// pending grew over the run, some senders held more than a block interval of uploads when
/// mining stopped, or work was still pending when the run ended.
fn backlog_lines(o: &mut String, b: &crate::results::files::BacklogSummary) {
    if !b.grew && b.senders_behind == 0 && b.pending_at_end == 0 {
        return;
    }
    if let (Some(first), Some(second)) = (b.pending_mean_first_half, b.pending_mean_second_half) {
        let _ = writeln!(
            o,
            "  backlog             {first:>10.0} messages and validations pending as blocks were found (mean, first half), {second:.0} (second half)"
        );
    }
    if b.senders_behind > 0 {
        let _ = writeln!(
            o,
            "                      {:>10} senders held more than a block interval of uploads when mining stopped (the longest {:.0} s)",
            b.senders_behind, b.longest_upload_queue_s
        );
    }
    if b.pending_at_end > 0 {
        let _ = writeln!(
            o,
            "                      {:>10} still pending when the run ended (cut short by run.drain_s or a cap)",
            b.pending_at_end
        );
    }
    // The halves of the pending work are a rule of thumb: a network swamped from its first
    // blocks on may pile up less than twice as much in the second half. A sender behind by
    // more than a block interval is the direct sign.
    if b.grew || b.senders_behind > 0 {
        let what = if b.grew { "work piled up over the run" } else { "senders fell behind" };
        let _ = writeln!(
            o,
            "  warning: {what} (some senders did not keep up with the blocks); figures over all nodes, such as the mean delay and the time to reach every node, depend on the run's length"
        );
    }
}

/// The propagation table: time to 50 %, 90 % and all nodes, over blocks.
fn propagation_lines(o: &mut String, s: &Summary) {
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
}

/// The attackers beside their hash share (under `pow`; their stake otherwise) and closed
/// form, the eclipse and the timeline.
fn attack_lines(o: &mut String, attack: &AttackSection, pow: bool) {
    let weight = if pow { "of the hash power" } else { "of the stake" };
    for a in &attack.attackers {
        let relay = if a.relay { "" } else { ", relays nothing it did not mine" };
        if a.strategy == "honest" {
            let _ = writeln!(
                o,
                "  attacker {} (honest{relay}, {} {weight}): {} blocks {}, {} in the main chain",
                a.node,
                percent(a.share),
                a.blocks_mined,
                if pow { "mined" } else { "produced" },
                a.blocks_in_main_chain
            );
            continue;
        }
        let _ = writeln!(
            o,
            "  attacker {} ({}{relay}, {} {weight})",
            a.node,
            a.strategy,
            percent(a.share)
        );
        let model = match (&a.gamma, a.eyal_sirer_revenue) {
            (Some(g), Some(r)) => {
                let (gamma, how) = match (g.subset_share, g.measured) {
                    (Some(set), _) => (set, "as set"),
                    (None, Some(measured)) => (measured, "as measured"),
                    (None, None) => (0.0, "unknown"),
                };
                format!("   Eyal-Sirer {} (gamma {gamma:.3} {how})", percent(r))
            }
            (Some(_), None) => "   Eyal-Sirer n/a (share of 1/2 or more, or no gamma)".to_string(),
            (None, _) => String::new(),
        };
        // Under a stake kind a producer's fair share of blocks is not its stake (a DPoS
        // producer's is one turn in N), so the revenue comparison is left to `pow`.
        if pow {
            let _ = writeln!(
                o,
                "    revenue share     {:>10}{model}   honest mining would give {}",
                percent(a.relative_revenue),
                percent(a.share)
            );
        }
        let _ = writeln!(
            o,
            "    blocks            {:>10} {} ({} of all), {} in the main chain, {} lost; {} withheld, {} published, gave up {} times",
            a.blocks_mined,
            if pow { "mined" } else { "produced" },
            percent(a.share_of_blocks_mined),
            a.blocks_in_main_chain,
            a.blocks_lost,
            a.withheld,
            a.published,
            a.gave_up
        );
        if let Some(g) = &a.gamma {
            let measured = g.measured.map_or_else(|| "n/a".to_string(), |m| format!("{m:.3}"));
            let set = match (g.requested, g.subset_share) {
                (Some(r), Some(held)) => format!(
                    "; set to {r} (the favouring miners hold {} of honest power)",
                    percent(held)
                ),
                _ => "; emergent: nodes keep the block they saw first".to_string(),
            };
            let _ = writeln!(
                o,
                "    gamma measured    {measured:>10} ({} of {} honest blocks in {} ties built on its block){set}",
                g.honest_on_attacker, g.honest_tie_blocks, g.ties
            );
        }
        let _ = writeln!(
            o,
            "    reorgs caused     {:>10} on other nodes, deepest {}",
            a.reorgs_caused, a.max_reorg_depth_caused
        );
    }
    if let Some(e) = &attack.eclipse {
        let _ = writeln!(
            o,
            "  eclipse             victim {}, linked only to {}: tip at height {} of {}{}; {} of its {} blocks in the main chain",
            e.victim,
            e.peers.join(", "),
            e.victim_tip_height,
            e.main_chain_height,
            if e.victim_tip_in_main_chain { "" } else { " (off the main chain)" },
            e.victim_blocks_in_main_chain,
            e.victim_blocks_mined
        );
    }
    if let Some(t) = &attack.timeline {
        let _ = writeln!(
            o,
            "  timeline            partitions {}, heals {}, nodes left {}, rejoined {}; {} messages lost on cut links",
            t.partitions, t.heals, t.nodes_left, t.nodes_rejoined, t.messages_dropped
        );
        let _ = writeln!(
            o,
            "                      at the end {} online nodes on {} distinct tips, {} behind the best",
            t.online_nodes_at_end, t.distinct_tips_at_end, t.nodes_behind_at_end
        );
    }
}

/// What the merchant of a double spend saw, beside the closed forms.
fn double_spend_lines(o: &mut String, d: &crate::results::double_spend::DoubleSpendSummary) {
    let at = |t: Option<f64>| t.map_or_else(|| "never".to_string(), |t| format!("at {t:.0} s"));
    let outcome = if d.success {
        format!(
            "SUCCEEDED: payment reversed {} ({:.0} s after paying)",
            at(d.reversed_at_s),
            d.time_to_success_s.unwrap_or(0.0)
        )
    } else if d.gave_up {
        "failed: the attacker gave up".to_string()
    } else if d.cut_off {
        "failed: the attacker fell hopelessly behind".to_string()
    } else {
        "not reversed by the end of the run".to_string()
    };
    let _ = writeln!(
        o,
        "  double spend        merchant {} waits for z = {}: paid {}, goods shipped {}; {outcome}; attacker blocks lost {}",
        d.merchant,
        d.z,
        at(d.paid_at_s),
        at(d.shipped_at_s),
        d.attacker_blocks_lost
    );
    let c = &d.closed_form;
    let _ = writeln!(
        o,
        "    closed forms for q = {:.3}, z = {}: success probability {:.6} (exact, drawing level wins), {:.6} (exact, must get ahead), {:.6} (Nakamoto)",
        d.q, d.z, c.exact_level, c.exact_ahead, c.nakamoto
    );
}
