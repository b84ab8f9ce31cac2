//! `forksim compare`: one folder per kind on one network, a table that is each kind's own
//! result files, identical bytes on a second run, and exit-code-2 errors that name the kind
//! or the option.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{forksim, forksim_ok, read, stderr, stdout};

/// 24 nodes, 8 stakeholders; pos-slot as written, dpos with 5 producers from `[compare]`.
const SMALL: &str = r#"
[run]
name = "small-compare"
seed = 3
blocks = 40
settle_blocks = 4

[chain]
block_interval_s = 10
max_block_size_bytes = 1_000_000

[consensus]
kind = "pos-slot"
slot_s = 0.5
active_slot_coeff = 0.05
k = 4

[stake]
shares = [8, 7, 6, 5, 4, 3, 2, 1]

[compare.dpos]
producers = 5
blocks_per_turn = 2
block_interval_s = 2

[mining]
network_hashrate_hs = 1e15
block_size_bytes = 20_000

[network]
nodes = 24
regions = "bitcoin-2019"

[network.topology]
kind = "random"
outbound = 4
inbound_max = 20

[network.latency]
model = "regions"
table = "2019"
"#;

const KINDS: [&str; 3] = ["pow", "pos-slot", "dpos"];

fn json(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_slice(&read(dir, name)).unwrap()
}

/// Every file under `dir`, by relative path, with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The nearest-rank quantile, computed here independently of the command.
fn quantile(mut v: Vec<f64>, p: f64) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let rank = (p * v.len() as f64).ceil() as usize;
    (!v.is_empty()).then(|| v[rank.max(1) - 1])
}

#[test]
fn compare_runs_each_kind_on_one_network_and_reports_their_own_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("small.toml");
    std::fs::write(&scenario, SMALL).unwrap();
    let s = scenario.to_str().unwrap();
    let out = tmp.path().join("out");
    let o = forksim_ok(&[
        "compare",
        s,
        "--kinds",
        "pow,pos-slot,dpos",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(stdout(&o).is_empty(), "quiet prints nothing: {}", stdout(&o));

    // One run folder per kind, each a complete run with its consensus files.
    for kind in KINDS {
        let dir = out.join(kind);
        for file in
            ["manifest.json", "summary.json", "consensus.json", "finality.csv", "blocks.csv"]
        {
            assert!(dir.join(file).is_file(), "{kind}: no {file}");
        }
        assert_eq!(json(&dir, "consensus.json")["kind"], kind);
        assert_eq!(json(&dir, "summary.json")["scenario"], format!("small-compare-{kind}"));
    }
    // One network: the digest is in every manifest and the same.
    let digests: Vec<String> = KINDS
        .iter()
        .map(|k| {
            json(&out.join(k), "manifest.json")["network_digest"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(digests.len(), 3);
    assert!(digests.iter().all(|d| d == &digests[0] && d.len() == 64), "{digests:?}");
    // pow ran on the stake shares as hash power: the same eight nodes, the same weights.
    let pow_miners = json(&out.join("pow"), "consensus.json")["producers"].clone();
    let slot_producers = json(&out.join("pos-slot"), "consensus.json")["producers"].clone();
    let weights = |v: &serde_json::Value| -> Vec<(u64, f64)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| (p["node"].as_u64().unwrap(), p["share"].as_f64().unwrap()))
            .collect()
    };
    let (a, b) = (weights(&pow_miners), weights(&slot_producers));
    assert_eq!(a.len(), 8);
    for ((na, sa), (nb, sb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        assert!((sa - sb).abs() < 1e-9, "node {na}: {sa} against {sb}");
    }

    // The comparison's rows are each kind's own numbers.
    let cmp = json(&out, "compare.json");
    assert_eq!(cmp["network_digest"].as_str().unwrap(), digests[0]);
    let rows = cmp["kinds"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (row, kind) in rows.iter().zip(KINDS) {
        let dir = out.join(kind);
        let summary = json(&dir, "summary.json");
        let consensus = json(&dir, "consensus.json");
        assert_eq!(row["kind"], kind);
        assert_eq!(row["blocks_produced"], summary["blocks_mined"], "{kind}");
        assert_eq!(row["main_chain_blocks"], summary["main_chain_height"], "{kind}");
        assert_eq!(row["stale_rate"], summary["stale_rate"], "{kind}");
        assert_eq!(row["mean_interval_s"], summary["mean_block_interval_s"], "{kind}");
        assert_eq!(row["nakamoto_coefficient"], consensus["nakamoto_coefficient"], "{kind}");
        assert_eq!(row["gini"], consensus["gini"], "{kind}");
        assert_eq!(row["energy_hashes"], consensus["expected_hashes"], "{kind}");
        let nodes = summary["nodes"].as_f64().unwrap();
        let received = summary["traffic"]["bytes_received"].as_f64().unwrap();
        assert_eq!(row["bytes_per_node"].as_f64().unwrap(), received / nodes, "{kind}");
        // Finality from finality.csv, read here on its own.
        let text = String::from_utf8(read(&dir, "finality.csv")).unwrap();
        let lags: Vec<f64> = text
            .lines()
            .skip(1)
            .filter_map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                (!c[3].is_empty())
                    .then(|| c[3].parse::<f64>().unwrap() - c[2].parse::<f64>().unwrap())
            })
            .collect();
        assert!(!lags.is_empty(), "{kind}: no block final");
        assert_eq!(row["final_blocks"].as_u64().unwrap(), lags.len() as u64, "{kind}");
        // (Equal up to JSON's decimal round trip.)
        let close = |a: Option<f64>, b: Option<f64>| (a.unwrap() - b.unwrap()).abs() < 1e-9;
        assert!(close(row["finality_median_s"].as_f64(), quantile(lags.clone(), 0.5)), "{kind}");
        assert!(close(row["finality_p90_s"].as_f64(), quantile(lags, 0.9)), "{kind}");
        assert_eq!(row["network_digest"].as_str().unwrap(), digests[0]);
    }
    // Slot counts belong to their kinds: empty slots to pos-slot, missed slots to dpos.
    assert_eq!(
        rows[1]["empty_slots"],
        json(&out.join("pos-slot"), "consensus.json")["slots"]["empty"]
    );
    assert!(rows[0]["empty_slots"].is_null() && rows[0]["missed_slots"].is_null());
    assert_eq!(
        rows[2]["missed_slots"],
        json(&out.join("dpos"), "consensus.json")["dpos"]["missed_slots"]
    );
    // Only pow computes hashes; DPoS has no stale blocks on this network.
    assert!(rows[0]["energy_hashes"].as_f64().unwrap() > 0.0);
    assert_eq!(rows[1]["energy_hashes"].as_f64(), Some(0.0));
    let csv = String::from_utf8(read(&out, "compare.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    for (line, kind) in csv.lines().skip(1).zip(KINDS) {
        assert!(line.starts_with(&format!("{kind},")), "{line}");
        assert!(line.ends_with(&digests[0]), "{line}");
    }
    assert!(read(&out, "compare.png").starts_with(b"\x89PNG"));
    // The folder's manifest lists every file and folder in it.
    let manifest = json(&out, "manifest.json");
    let listed: Vec<&String> = manifest["files"].as_object().unwrap().keys().collect();
    for name in
        ["compare.csv", "compare.json", "compare.png", "compare.svg", "dpos", "pos-slot", "pow"]
    {
        assert!(listed.iter().any(|l| *l == name), "{name} not listed: {listed:?}");
    }

    // Same scenario, same seed: the same bytes, file for file; and the folder may be
    // replaced by a rerun.
    let again = tmp.path().join("again");
    forksim_ok(&[
        "compare",
        s,
        "--kinds",
        "pow,pos-slot,dpos",
        "--out",
        again.to_str().unwrap(),
        "-q",
    ]);
    let (first, second) = (tree(&out), tree(&again));
    assert_eq!(first.keys().collect::<Vec<_>>(), second.keys().collect::<Vec<_>>());
    for (name, bytes) in &first {
        assert!(bytes == &second[name], "{name} differs between two runs");
    }
    forksim_ok(&[
        "compare",
        s,
        "--kinds",
        "pow,pos-slot,dpos",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(tree(&out), first);
}

/// Runs `forksim compare` on `text` (written as `file`) with `kinds`, expects exit code 2
/// and a message holding every needle, and returns it.
fn refused(dir: &Path, file: &str, text: &str, kinds: Option<&str>, needles: &[&str]) {
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    let out = dir.join("out");
    let mut args = vec!["compare", path.to_str().unwrap(), "--out", out.to_str().unwrap()];
    if let Some(k) = kinds {
        args.extend(["--kinds", k]);
    }
    let o = forksim(&args);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{file}: {e}");
    for n in needles {
        assert!(e.contains(n), "{file}: message lacks {n:?}: {e}");
    }
    assert!(!e.contains("panicked"), "{e}");
    assert!(!out.exists(), "a failed comparison wrote {}", out.display());
}

#[test]
fn compare_errors_name_the_kind_or_the_option_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    refused(dir, "small.toml", SMALL, Some("pow,pos"), &["--kinds", "\"pos\"", "pos-slot"]);
    refused(dir, "small.toml", SMALL, Some("pow,pow"), &["--kinds", "twice"]);
    // dpos with more producer places than stakeholders: the kind and its field are named.
    let too_many = SMALL.replace("producers = 5", "producers = 9");
    let needles = ["bad.toml", "kind dpos", "consensus.producers", "9"];
    refused(dir, "bad.toml", &too_many, Some("pow,dpos"), &needles);
    // A kind without stake to produce from: dpos on a scenario without [stake] whose
    // hash power is one miner.
    let one_miner = SMALL.replace("[stake]\nshares = [8, 7, 6, 5, 4, 3, 2, 1]\n", "").replace(
        "block_size_bytes = 20_000",
        "block_size_bytes = 20_000\nhash_power = { shares = [1.0] }",
    );
    let needles = ["kind dpos", "consensus.producers"];
    refused(dir, "one.toml", &one_miner, Some("pos-slot,dpos"), &needles);
    // A setting of another kind in a kind's table.
    let wrong = SMALL.replace("[compare.dpos]\n", "[compare.dpos]\nk = 3\n");
    refused(dir, "wrong.toml", &wrong, Some("dpos"), &["kind dpos", "consensus.k"]);
    // An unknown kind table.
    let typo = SMALL.replace("[compare.dpos]", "[compare.dpoz]");
    refused(dir, "typo.toml", &typo, None, &["typo.toml", "compare.dpoz"]);
    // A stake share of 0 before the last stakeholder cannot become hash power under pow.
    let gap = SMALL.replace("shares = [8, 7, 6,", "shares = [8, 0, 6,");
    refused(dir, "gap.toml", &gap, Some("pow"), &["kind pow", "stake.shares[1]"]);
}

/// The scenario runs as an ordinary run too (its `[compare]` tables are ignored there and
/// left out of the manifest).
#[test]
fn a_comparison_scenario_runs_alone_and_its_manifest_has_no_compare_table() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("small.toml");
    std::fs::write(&scenario, SMALL).unwrap();
    let out = tmp.path().join("run");
    forksim_ok(&["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    let manifest = json(&out, "manifest.json");
    assert!(manifest["scenario"].get("compare").is_none(), "{}", manifest["scenario"]);
    assert_eq!(manifest["scenario"]["consensus"]["kind"], "pos-slot");
}
