//! The pos-slot races (double spend and nothing at stake) through the command line: they
//! run, report the closed forms, replay byte for byte, and bad settings exit with code 2.

use crate::support::{forksim, forksim_ok, read, scenario, stderr, stdout};

fn run(file: &str, sets: &[&str], out: &std::path::Path) -> (String, serde_json::Value) {
    let path = scenario(file);
    let mut args = vec!["run", path.to_str().unwrap(), "--out", out.to_str().unwrap()];
    for s in sets {
        args.extend_from_slice(&["--set", s]);
    }
    let o = forksim_ok(&args);
    (stdout(&o), serde_json::from_slice(&read(out, "summary.json")).unwrap())
}

/// A short double spend (f = 0.5, z = 1, 40 races) reports the closed form and its slot
/// counts, and the same seed gives the same summary bytes.
#[test]
fn pos_slot_double_spend_runs_and_replays() {
    let tmp = tempfile::tempdir().unwrap();
    let sets = ["consensus.active_slot_coeff=0.5", "race.z=1", "race.trials=40"];
    let file = "consensus/pos-slot-double-spend.toml";
    let (text, s) = run(file, &sets, &tmp.path().join("a"));
    assert!(text.contains("closed form") && text.contains("Rosenfeld"), "{text}");
    let exact = s["exact"].as_f64().unwrap();
    assert!((exact - 0.6066).abs() < 1e-4, "{exact}");
    let p = &s["pos_slot"];
    assert_eq!(p["vrf_evaluations"].as_u64().unwrap(), 3 * p["slots"].as_u64().unwrap());
    assert_eq!(s["trials"].as_u64(), Some(40));
    run(file, &sets, &tmp.path().join("b"));
    assert_eq!(
        read(&tmp.path().join("a"), "summary.json"),
        read(&tmp.path().join("b"), "summary.json")
    );
}

/// A short nothing-at-stake race: the tree grows faster than the per-slot chain.
#[test]
fn nothing_at_stake_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let sets = ["consensus.active_slot_coeff=0.3", "race.slots=300", "race.max_blocks=16"];
    let (text, s) = run("consensus/pos-slot-nothing-at-stake.toml", &sets, &tmp.path().join("n"));
    assert!(text.contains("safe stake"), "{text}");
    let (chain, tree) =
        (s["chain_attacker_rate"].as_f64().unwrap(), s["tree_attacker_rate"].as_f64().unwrap());
    assert!(tree > 1.5 * chain, "tree {tree} chain {chain}");
    assert!(s["tree_vrf_evaluations"].as_u64().unwrap() <= 300 * 16);
}

#[test]
fn misplaced_pos_slot_races_are_rejected() {
    let ds = scenario("consensus/pos-slot-double-spend.toml");
    let o = forksim(&["validate", ds.to_str().unwrap(), "--set", "race.premined=2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("race.premined") && stderr(&o).contains("pos-slot"),
        "{}",
        stderr(&o)
    );
    let pow = scenario("attacks/double-spend-race.toml");
    let o = forksim(&["validate", pow.to_str().unwrap(), "--set", "race.kind=nothing_at_stake"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nothing_at_stake"), "{}", stderr(&o));
    let nas = scenario("consensus/pos-slot-nothing-at-stake.toml");
    let o = forksim(&["validate", nas.to_str().unwrap(), "--set", "race.z=3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("race.z") && stderr(&o).contains("does not apply"),
        "{}",
        stderr(&o)
    );
}
