//! The long-range attack with old keys on `pos-slot`, end to end on the shipped scenario
//! `attacks/pos-slot-long-range.toml`: growth against the closed forms, online nodes that
//! refuse the fork, a joiner that takes it under the longest-chain rule and not under
//! Ouroboros Genesis' density rule, byte-identical replay, and bad options.

use std::path::Path;

use crate::support::{assert_error, assert_same_files, forksim_ok, read, scenario, stdout};

/// Runs the shipped scenario into `out` with `--set` overrides, narrating `node`'s story;
/// returns the `long_range` section of `consensus.json` and the story.
fn run_narrated(out: &Path, sets: &[&str], node: &str) -> (serde_json::Value, String) {
    let path = scenario("attacks/pos-slot-long-range.toml");
    let mut args = vec!["run", path.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()];
    for s in sets {
        args.extend_from_slice(&["--set", s]);
    }
    args.extend_from_slice(&["--narrate", "--node", node]);
    let story = stdout(&forksim_ok(&args));
    let json: serde_json::Value = serde_json::from_slice(&read(out, "consensus.json")).unwrap();
    (json["long_range"].clone(), story)
}

/// [`run_narrated`]'s section alone.
fn run(out: &Path, sets: &[&str]) -> serde_json::Value {
    run_narrated(out, sets, "n0").0
}

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Checks one run of the scenario (σ_old = 0.6, f = 0.5, k = 20, fork point about slot
/// 100, sale at slot 400, 2,300 slots):
///
/// - growth per slot of the fork (about 2,200 slots, closed form φ(0.6) = 0.340), of the
///   honest chain before the sale (about 300 slots, f = 0.5) and after it (about 1,900
///   slots, φ(0.4) = 0.242), each within 3 standard errors of the closed form (binomial,
///   about ±0.030, ±0.087 and ±0.030 per slot); a model without the sale (honest chain at
///   f after it) would be 26 standard errors off;
/// - no online honest node ends on the fork, and the online nodes refused fork blocks by
///   the rollback limit (more than 18 × 100: every online node refuses every fork block
///   that would roll it back more than k);
/// - the fork was published and ended longer than the honest chain (else the joiner would
///   have nothing to choose).
fn check_run(lr: &serde_json::Value) {
    for part in ["fork", "honest_before_sale", "honest_after_sale"] {
        let g = &lr["growth"][part];
        let z = num(&g["z"]);
        assert!(z.abs() < 3.0, "{part}: {g}");
    }
    let after = &lr["growth"]["honest_after_sale"];
    let without_sale = (num(&after["per_slot"]) - 0.5) / num(&after["se"]);
    assert!(without_sale.abs() > 10.0, "no power against a model without the sale: {after}");
    assert_eq!(lr["online_honest_nodes"], 18, "{lr}");
    assert_eq!(lr["online_honest_nodes_on_fork"], 0, "{lr}");
    assert!(num(&lr["refusals"]["beyond-rollback-limit"]) > 1800.0, "{lr}");
    assert!(lr["published_at_s"].is_number(), "{lr}");
    assert!(num(&lr["fork_tip_height"]) > num(&lr["honest_tip_height"]), "{lr}");
}

#[test]
fn online_nodes_refuse_the_fork_and_the_joiner_follows_its_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let (longest, story) = run_narrated(&tmp.path().join("longest"), &[], "n5");
    check_run(&longest);
    assert!(
        story.contains(
            "more than the rollback limit k = 20, so n5 refuses it (beyond-rollback-limit)"
        ),
        "the online node's story tells the refusal"
    );
    let joiner = &longest["joiners"][0];
    assert_eq!(joiner["node"], 19, "{longest}");
    assert_eq!(joiner["fork_choice"], "longest");
    assert_eq!(joiner["on_fork"], true, "the joiner takes the longer fork: {longest}");
    assert_eq!(joiner["tip_height"], longest["fork_tip_height"]);
    assert!(num(&longest["deep_switches"]) >= 1.0, "{longest}");

    let (genesis, story) = run_narrated(
        &tmp.path().join("genesis"),
        &["consensus.fork_choice=genesis", "consensus.genesis_window_slots=200"],
        "n19",
    );
    check_run(&genesis);
    assert!(
        story.contains("so n19, syncing by the density rule, keeps its chain (sparser-after-fork)"),
        "the joiner's story tells the density rule"
    );
    let joiner = &genesis["joiners"][0];
    assert_eq!(joiner["fork_choice"], "genesis");
    assert_eq!(joiner["on_fork"], false, "the density rule keeps the honest chain: {genesis}");
    assert_eq!(joiner["tip_height"], genesis["honest_tip_height"]);
    let density = &genesis["density"];
    assert!(num(&density["honest_blocks"]) > num(&density["fork_blocks"]), "{density}");
    assert!(num(&genesis["refusals"]["sparser-after-fork"]) > 0.0, "{genesis}");
    // The fork's own blocks are in both runs; only the joiner's choice differs.
    assert_eq!(longest["fork_tip_height"], genesis["fork_tip_height"]);
}

/// Same seed twice, every file byte for byte (the run stops at 1,200 s, after the sale,
/// the replayed slots and the publication, to keep it short).
#[test]
fn the_attack_replays_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let sets = ["run.max_time_s=1200"];
    let lr = run(&a, &sets);
    assert!(lr["published_at_s"].is_number(), "published before the end: {lr}");
    // The second run prints its summary (neither it nor the narration changes a file): the
    // long-range lines say who took the fork.
    let path = scenario("attacks/pos-slot-long-range.toml");
    let summary = stdout(&forksim_ok(&[
        "run",
        path.to_str().unwrap(),
        "--set",
        sets[0],
        "--out",
        b.to_str().unwrap(),
    ]));
    for needle in [
        "  long range          old keys of 60.00 % of the stake fork at height ",
        "online honest nodes took the fork (",
        "  attacker n0 (long-range, 60.00 % of the stake)",
    ] {
        assert!(summary.contains(needle), "missing {needle:?} in:\n{summary}");
    }
    assert_same_files(&a, &b);
}

const BASE: &str = "[network]\nnodes = 10\n[mining]\nminers = 5\n";
const SLOTS: &str = "[consensus]\nkind = \"pos-slot\"\nactive_slot_coeff = 0.5\nk = 10\n";

fn attacker(options: &str) -> String {
    format!(
        "{BASE}{SLOTS}[[attacker]]\nnode = 0\nshare = 0.6\nstrategy = \"long-range\"\n{options}"
    )
}

#[test]
fn bad_long_range_options_name_the_field_and_value() {
    assert_error(&attacker(""), &[], &["attacker[0].sale_s", "(missing)"]);
    assert_error(&attacker("sale_s = 0\n"), &[], &["attacker[0].sale_s", "= 0", "after 0 s"]);
    assert_error(
        &attacker("sale_s = 100\nfork_s = 150\n"),
        &[],
        &["attacker[0].fork_s", "= 150", "between 0 and the sale"],
    );
    assert_error(
        &attacker("sale_s = 100\npublish_lead = 0\n"),
        &[],
        &["attacker[0].publish_lead", "= 0", "at least 1"],
    );
    // Options of the strategy on another strategy, and another strategy's on this one.
    assert_error(
        &format!(
            "{BASE}[[attacker]]\nnode = 0\nshare = 0.3\nstrategy = \"private-chain\"\nsale_s = 5\n"
        ),
        &[],
        &["attacker[0].sale_s", "does not apply", "private-chain"],
    );
    assert_error(
        &attacker("sale_s = 100\nz = 3\n"),
        &[],
        &["attacker[0].z", "does not apply", "long-range"],
    );
    assert_error(
        &attacker("sale_s = 100\n").replace("share = 0.6", "share = 0"),
        &[],
        &["attacker[0].share", "= 0", "sigma_old"],
    );
    // Other kinds: the strategy is named.
    assert_error(
        &format!(
            "{BASE}[[attacker]]\nnode = 0\nshare = 0.6\nstrategy = \"long-range\"\nsale_s = 9\n"
        ),
        &[],
        &["attacker[0].strategy", "\"long-range\"", "pos-slot"],
    );
    assert_error(
        &format!(
            "{BASE}[consensus]\nkind = \"dpos\"\nproducers = 3\n[[attacker]]\nnode = 0\nshare = 0.6\nstrategy = \"long-range\"\nsale_s = 9\n"
        ),
        &[],
        &["attacker[0].strategy", "\"long-range\"", "not wired yet for consensus.kind = \"dpos\""],
    );
    // The sync rule.
    assert_error(
        &format!("{BASE}{SLOTS}fork_choice = \"densest\"\n"),
        &[],
        &["consensus.fork_choice", "\"densest\"", "\"genesis\""],
    );
    assert_error(
        &format!("{BASE}{SLOTS}genesis_window_slots = 50\n"),
        &[],
        &[
            "consensus.genesis_window_slots",
            "50",
            "does not apply when consensus.fork_choice = \"longest\"",
        ],
    );
    assert_error(
        &format!("{BASE}{SLOTS}fork_choice = \"genesis\"\ngenesis_window_slots = 0\n"),
        &[],
        &["consensus.genesis_window_slots", "0", "at least 1"],
    );
    assert_error(
        &format!("{BASE}[consensus]\nkind = \"poet\"\nfork_choice = \"genesis\"\n"),
        &[],
        &["consensus.fork_choice", "does not apply when consensus.kind = \"poet\""],
    );
}
