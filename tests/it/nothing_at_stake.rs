//! The nothing-at-stake attacker on `pos-slot`, end to end on the shipped scenario
//! `attacks/pos-slot-nothing-at-stake.toml` (with `--set` overrides): the tree's growth
//! under `leader_input = "parent-block"` against the closed form corrected for the tree
//! bound, the same strategy under the epoch nonce and the per-slot attacker against p, the
//! safe stake (35 % overtakes only when the lottery runs on the parent block), byte-identical
//! replay, and bad options.

use std::path::Path;

use forksim::analytic::nothing_at_stake_growth_rate;
use forksim::consensus::praos::phi;

use crate::support::{assert_error, assert_same_files, forksim_ok, read, scenario, stdout};

/// Runs the shipped scenario into `out` with `--set` overrides; returns the
/// `nothing_at_stake` section of `consensus.json` and the console summary.
fn run(out: &Path, sets: &[&str]) -> (serde_json::Value, String) {
    let path = scenario("attacks/pos-slot-nothing-at-stake.toml");
    let mut args = vec!["run", path.to_str().unwrap(), "--out", out.to_str().unwrap()];
    for s in sets {
        args.extend_from_slice(&["--set", s]);
    }
    let summary = stdout(&forksim_ok(&args));
    let json: serde_json::Value = serde_json::from_slice(&read(out, "consensus.json")).unwrap();
    (json["nothing_at_stake"].clone(), summary)
}

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A small network for the growth runs: the attacker (stake 0.3) and three honest
/// stakeholders, f = 0.3 (p = φ(0.3) = 0.1014 per block and slot), a branch never
/// published, `slots` slots.
fn growth_sets(slots: u64) -> Vec<String> {
    [
        "network.nodes=4",
        "mining.miners=4",
        "consensus.active_slot_coeff=0.3",
        "attacker.0.share=0.3",
        "attacker.0.publish_lead=1000000",
        "attacker.0.start_s=0",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("run.max_time_s={}", slots + 1)])
    .collect()
}

fn with<'a>(base: &'a [String], more: &[&'a str]) -> Vec<&'a str> {
    base.iter().map(String::as_str).chain(more.iter().copied()).collect()
}

/// The race without a network (`consensus/pos-slot-nothing-at-stake.toml`) at stake 0.3,
/// f = 0.3, 64 kept blocks and 2,000 slots: its tree's slope over the last three quarters.
fn race_tree_rate(out: &Path) -> f64 {
    let path = scenario("consensus/pos-slot-nothing-at-stake.toml");
    let mut args = vec!["run", path.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()];
    for s in
        ["race.q=0.3", "consensus.active_slot_coeff=0.3", "race.slots=2000", "race.max_blocks=64"]
    {
        args.extend_from_slice(&["--set", s]);
    }
    forksim_ok(&args);
    let summary: serde_json::Value = serde_json::from_slice(&read(out, "summary.json")).unwrap();
    num(&summary["tree_attacker_rate"])
}

/// Under `parent-block`, the tree of 64 kept blocks over 2,000 slots (about 128,000 VRF
/// evaluations): the slope of its longest branch over slots 500 to 2,000 (the last three
/// quarters; about 330 blocks of height) against
///
/// - v*(p) = 2.39 p corrected for the bound: the same process without a network
///   (the race of `consensus/pos-slot-nothing-at-stake.toml`: same p, 64 kept blocks,
///   2,000 slots, slope over the same window) measures the bounded rate, 0.215 to 0.220
///   (0.89 to 0.91 v*) over 4,000 slots at seeds 1 to 3; the network's slope must lie
///   within ±10 % of it (over 1,500 slots either slope moves by about 5 % with the seed);
/// - v*(p) itself: the bound can only slow the tree, by about 10 % at 64 blocks (Brunet and
///   Derrida's leading-order term, 25 % here, overstates it at such small N; see the
///   attacker's module docs), so the slope must lie between 0.8 v* and 1.02 v*;
/// - the per-slot rate: above 2 p (a lottery once per slot, or one whose answer is the same
///   on every block, grows at p and fails every check above).
///
/// Nearly every winning slot is split between blocks (the answers differ per block).
#[test]
fn under_parent_block_the_tree_grows_at_the_bounded_closed_form() {
    let tmp = tempfile::tempdir().unwrap();
    let sets = growth_sets(2000);
    let (nas, summary) = run(&tmp.path().join("tree"), &with(&sets, &[]));
    let p = phi(0.3, 0.3).unwrap();
    let v = nothing_at_stake_growth_rate(p).unwrap();
    assert!((num(&nas["closed_forms"]["p"]) - p).abs() < 1e-6, "{nas}");
    assert!((num(&nas["closed_forms"]["tree_growth"]) - v).abs() < 1e-6, "{nas}");
    let growth = &nas["growth"];
    assert_eq!(growth["window_from"], 500, "{nas}");
    let slope = num(&growth["slope"]);
    let bounded = race_tree_rate(&tmp.path().join("race"));
    println!(
        "network tree: slope {slope:.4} ({:.3} p, {:.3} v*); race with 64 kept blocks {bounded:.4} ({:.3} v*); v* = {v:.4}, p = {p:.4}",
        slope / p,
        slope / v,
        bounded / v
    );
    assert!((slope / bounded - 1.0).abs() < 0.10, "slope {slope} against the race's {bounded}");
    assert!(slope > 0.8 * v && slope < 1.02 * v, "slope {slope} against v* = {v}");
    assert!(slope > 2.0 * p, "slope {slope} against p = {p}");
    let tree = &nas["tree"];
    let (won, split) = (num(&tree["winning_slots"]), num(&tree["split_slots"]));
    assert!(split > 0.9 * won && won > 1800.0, "{tree}");
    assert!(num(&tree["vrf_evaluations"]) > 60.0 * 1900.0, "{tree}");
    assert_eq!(nas["published"].as_array().unwrap().len(), 0, "never published: {nas}");
    assert!(summary.contains("  nothing at stake    stake 30.0 %, lottery on every block"));
}

/// One lottery's worth of growth, p = 0.1014, for the same strategy under the epoch nonce
/// (8 kept blocks: the bound does not matter there, every kept block gets the same answer
/// in a slot) and for the per-slot attacker (`lottery_on = "tip"`) under the parent block:
/// the longest branch's height over 8,000 slots within ±10 % of p (the binomial standard
/// error is 3.3 % of p, so ±10 % is 3 standard errors; the tree's rate under the parent
/// block, 2.2 p, is 36 standard errors away). Under the epoch nonce no slot is split: the
/// attacker leads on all its blocks or on none; the per-slot attacker makes one VRF
/// evaluation a slot.
#[test]
fn under_the_epoch_nonce_and_with_one_lottery_a_slot_the_branch_grows_at_p() {
    let tmp = tempfile::tempdir().unwrap();
    let p = phi(0.3, 0.3).unwrap();
    let sets = growth_sets(8000);
    let (nonce, _) = run(
        &tmp.path().join("nonce"),
        &with(&sets, &["consensus.leader_input=epoch-nonce", "attacker.0.max_blocks=8"]),
    );
    let (tip, _) = run(&tmp.path().join("tip"), &with(&sets, &["attacker.0.lottery_on=tip"]));
    for (name, nas) in [("epoch nonce", &nonce), ("one lottery a slot", &tip)] {
        let rate = num(&nas["growth"]["per_slot"]);
        println!("{name}: {rate:.4} blocks per slot ({:.3} p), p = {p:.4}", rate / p);
        assert!((rate / p - 1.0).abs() < 0.10, "{name}: {rate} against p = {p}: {nas}");
        assert!((num(&nas["closed_forms"]["expected"]) - p).abs() < 1e-12, "{nas}");
        assert_eq!(nas["growth"]["slots"], 8000, "{nas}");
    }
    let tree = &nonce["tree"];
    assert_eq!(tree["split_slots"], 0, "{tree}");
    assert!(num(&tree["winning_slots"]) > 700.0, "{tree}");
    assert!(num(&tree["blocks"]) > 7.0 * num(&tree["winning_slots"]), "wide, not deep: {tree}");
    assert_eq!(nonce["leader_input"], "epoch-nonce");
    assert_eq!(tip["tree"]["vrf_evaluations"], 8000, "{tip}");
    assert_eq!(tip["lottery_on"], "tip");
}

/// The safe stake, on the shipped scenario: stake 0.35, f = 0.05, 4,000 slots, ten nodes
/// on a complete graph with 50 ms links (fast against the 1 s slot). Closed forms:
/// p = φ(0.35) = 0.0178, the honest chain φ(0.65) = 0.0328 per slot, the tree
/// v*(p) = 0.0472 (0.043 at 64 kept blocks), the safe stake 0.2703 against a lottery on
/// every block, 1/2 against one lottery a slot.
///
/// - Under `parent-block` (35 % > 0.2703) the tree outgrows the honest chain: it published
///   branches, every honest node ended on one, and the honest nodes' chain holds the
///   attacker's blocks; its slope beats the honest rate.
/// - Under `epoch-nonce` (35 % < 1/2; 16 kept blocks, which cannot matter there) it grows
///   at p = 0.0178, behind the honest chain: nothing is published (a branch 6 blocks ahead
///   of a chain that outgrows it at 0.015 per slot has a chance of about 0.53^6 = 2 %
///   from the start), no honest node ends on it, and no slot is split.
#[test]
fn at_35_percent_the_tree_overtakes_only_when_the_lottery_runs_on_the_parent_block() {
    let tmp = tempfile::tempdir().unwrap();
    let (tree, summary) = run(&tmp.path().join("parent"), &[]);
    let h = phi(0.05, 0.65).unwrap();
    assert!((num(&tree["closed_forms"]["honest_growth"]) - h).abs() < 1e-9, "{tree}");
    assert!((num(&tree["closed_forms"]["safe_stake_every_block"]) - 0.2703).abs() < 1e-4);
    assert!(num(&tree["growth"]["slope"]) > num(&tree["honest_per_slot"]), "{tree}");
    assert!(!tree["published"].as_array().unwrap().is_empty(), "{tree}");
    assert_eq!(tree["honest_nodes"], 9, "{tree}");
    assert_eq!(tree["honest_nodes_on_attacker_branch"], 9, "{tree}");
    assert!(num(&tree["honest_chain_attacker_blocks"]) > 50.0, "{tree}");
    for needle in [
        "  nothing at stake    stake 35.0 %, lottery on every block (parent-block input)",
        "9 of 9 honest nodes ended on one",
    ] {
        assert!(summary.contains(needle), "missing {needle:?} in:\n{summary}");
    }

    let (nonce, _) = run(
        &tmp.path().join("nonce"),
        &["consensus.leader_input=epoch-nonce", "attacker.0.max_blocks=16"],
    );
    assert!(num(&nonce["growth"]["per_slot"]) < num(&nonce["honest_per_slot"]), "{nonce}");
    assert_eq!(nonce["published"].as_array().unwrap().len(), 0, "{nonce}");
    assert_eq!(nonce["honest_nodes_on_attacker_branch"], 0, "{nonce}");
    assert_eq!(nonce["honest_chain_attacker_blocks"], 0, "{nonce}");
    assert_eq!(nonce["tree"]["split_slots"], 0, "{nonce}");
    assert_eq!(nonce["closed_forms"]["safe_stake_every_block"], 0.5, "{nonce}");
}

/// Same seed twice, every file byte for byte: a short run (300 slots, f = 0.3, 16 kept
/// blocks) that publishes branches.
#[test]
fn the_attack_replays_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let sets = [
        "network.nodes=4",
        "mining.miners=4",
        "consensus.active_slot_coeff=0.3",
        "attacker.0.max_blocks=16",
        "attacker.0.publish_lead=1",
        "run.max_time_s=301",
    ];
    let (nas, _) = run(&a, &sets);
    assert!(!nas["published"].as_array().unwrap().is_empty(), "published: {nas}");
    run(&b, &sets);
    assert_same_files(&a, &b);
}

const BASE: &str = "[network]\nnodes = 10\n[mining]\nminers = 5\n";
const SLOTS: &str = "[consensus]\nkind = \"pos-slot\"\nactive_slot_coeff = 0.5\n";

fn attacker(options: &str) -> String {
    format!(
        "{BASE}{SLOTS}[[attacker]]\nnode = 0\nshare = 0.3\nstrategy = \"nothing-at-stake\"\n{options}"
    )
}

#[test]
fn bad_nothing_at_stake_options_name_the_field_and_value() {
    assert_error(&attacker("max_blocks = 0\n"), &[], &["attacker[0].max_blocks", "= 0"]);
    assert_error(
        &attacker("max_blocks = 5000\n"),
        &[],
        &["attacker[0].max_blocks", "= 5000", "between 1 and 4096"],
    );
    assert_error(
        &attacker("publish_lead = 0\n"),
        &[],
        &["attacker[0].publish_lead", "= 0", "at least 1"],
    );
    assert_error(
        &attacker("lottery_on = \"all\"\n"),
        &[],
        &["attacker[0].lottery_on", "\"all\"", "\"every-block\"", "\"tip\""],
    );
    assert_error(&attacker("start_s = -1\n"), &[], &["attacker[0].start_s", "-1"]);
    assert_error(
        &attacker("sale_s = 5\n"),
        &[],
        &["attacker[0].sale_s", "does not apply", "nothing-at-stake"],
    );
    assert_error(
        &attacker("").replace("share = 0.3", "share = 0"),
        &[],
        &["attacker[0].share", "= 0", "stake"],
    );
    // The strategy's options on another strategy.
    assert_error(
        &format!(
            "{BASE}[[attacker]]\nnode = 0\nshare = 0.3\nstrategy = \"private-chain\"\nmax_blocks = 5\n"
        ),
        &[],
        &["attacker[0].max_blocks", "does not apply", "private-chain"],
    );
    // Other kinds: the strategy is named.
    assert_error(
        &format!("{BASE}[[attacker]]\nnode = 0\nshare = 0.3\nstrategy = \"nothing-at-stake\"\n"),
        &[],
        &["attacker[0].strategy", "\"nothing-at-stake\"", "pos-slot"],
    );
    assert_error(
        &format!(
            "{BASE}[consensus]\nkind = \"dpos\"\nproducers = 3\n[[attacker]]\nnode = 0\nshare = 0.3\nstrategy = \"nothing-at-stake\"\n"
        ),
        &[],
        &[
            "attacker[0].strategy",
            "\"nothing-at-stake\"",
            "not wired yet for consensus.kind = \"dpos\"",
        ],
    );
    // The lottery's input.
    assert_error(
        &format!("{BASE}{SLOTS}leader_input = \"parent\"\n"),
        &[],
        &["consensus.leader_input", "\"parent\"", "\"epoch-nonce\"", "\"parent-block\""],
    );
    assert_error(
        &format!(
            "{BASE}[consensus]\nkind = \"dpos\"\nproducers = 3\nleader_input = \"parent-block\"\n"
        ),
        &[],
        &["consensus.leader_input", "does not apply", "dpos"],
    );
}
