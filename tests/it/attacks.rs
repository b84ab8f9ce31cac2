//! Attacks and faults in the network, end to end: the shipped attack scenarios, the
//! majority attack, selfish mining against Eyal and Sirer's closed form, emergent γ,
//! partitions, churn, eclipse, traces, narration and bad input.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{assert_error, forksim, forksim_ok, read, scenario, stderr, stdout};

/// Runs a scenario file quietly into `out` with extra arguments.
fn run(file: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["run", file.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    forksim_ok(&args);
}

/// Writes a scenario into `dir` and returns its path.
fn write_scenario(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(dir, "summary.json")).unwrap()
}

/// The rows of a CSV results file, each as column name -> value.
fn rows(dir: &Path, file: &str) -> Vec<BTreeMap<String, String>> {
    let bytes = read(dir, file);
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers.iter().map(String::from).zip(r.iter().map(String::from)).collect()
        })
        .collect()
}

fn float(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row[column].parse().unwrap_or_else(|e| panic!("{column} = {:?}: {e}", row[column]))
}

#[test]
fn every_attack_scenario_runs_and_replays_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 6] = [
        ("majority.toml", &[]),
        ("eclipse.toml", &[]),
        ("partition.toml", &[]),
        ("selfish-gamma0.toml", &["--set", "run.blocks=1500"]),
        ("selfish-gamma05.toml", &["--set", "run.blocks=1500"]),
        ("selfish-emergent.toml", &["--set", "run.blocks=400", "--set", "network.nodes=80"]),
    ];
    for (file, sets) in cases {
        let path = scenario(&format!("attacks/{file}"));
        forksim_ok(&["validate", path.to_str().unwrap()]);
        let out = tmp.path().join(file);
        let mut extra = vec!["--trace"];
        extra.extend_from_slice(sets);
        run(&path, &out, &extra);
        let manifest: serde_json::Value =
            serde_json::from_slice(&read(&out, "manifest.json")).unwrap();
        let files = manifest["files"].as_object().unwrap();
        assert!(files.contains_key("trace.csv"), "{file}: the trace is in the manifest");
        let has_attackers = file != "partition.toml";
        assert_eq!(files.contains_key("attack.csv"), has_attackers, "{file}");
        assert!(summary(&out)["attack"].is_object(), "{file}: summary.json has an attack section");
        let o = forksim(&["replay", out.to_str().unwrap()]);
        assert!(o.status.success(), "{file}: {}{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains("byte-identical"), "{file}: {}", stdout(&o));
    }
}

/// The chain of blocks.csv: hash -> (parent, in main chain).
fn block_tree(dir: &Path) -> BTreeMap<String, (String, bool)> {
    rows(dir, "blocks.csv")
        .into_iter()
        .map(|r| (r["hash"].clone(), (r["parent"].clone(), r["in_main_chain"] == "true")))
        .collect()
}

#[test]
fn a_majority_attacker_rewrites_a_block_six_deep_on_honest_nodes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("majority");
    run(&scenario("attacks/majority.toml"), &out, &[]);
    let tree = block_tree(&out);
    let reorg = rows(&out, "reorgs.csv")
        .into_iter()
        .find(|r| r["node"] != "mallory" && r["depth"].parse::<u32>().unwrap() >= 6)
        .expect("an honest node disconnected at least 6 blocks");
    // The block 6 deep in that node's old chain: its tip had 5 blocks on top of it.
    let mut six_deep = reorg["old_tip"].clone();
    for _ in 0..5 {
        six_deep = tree[&six_deep].0.clone();
    }
    assert!(
        !tree[&six_deep].1,
        "block {six_deep}, 6 deep on {}, is not in the final chain",
        reorg["node"]
    );
    let attack = &rows(&out, "attack.csv")[0];
    assert!(attack["max_reorg_depth_caused"].parse::<u32>().unwrap() >= 6);
    assert!(float(attack, "relative_revenue") > 0.55, "a majority takes more than its share");
}

#[test]
fn a_ten_percent_attacker_with_the_same_rules_never_reverses_six_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let path = scenario("attacks/majority.toml");
    for seed in 1..=20 {
        let out = tmp.path().join(format!("s{seed}"));
        let seed = seed.to_string();
        run(&path, &out, &["--seed", &seed, "--set", "attacker[0].share=0.1"]);
        let s = summary(&out);
        assert!(s["reorgs"]["max_depth"].as_u64().unwrap() < 6, "seed {seed}: {}", s["reorgs"]);
        let attacker = &s["attack"]["attackers"][0];
        assert!(attacker["withheld"].as_u64().unwrap() > 0, "seed {seed}: it did mine in private");
        assert!(attacker["max_reorg_depth_caused"].as_u64().unwrap() < 6, "seed {seed}");
    }
}

/// Runs a selfish-mining scenario over four seeds on 11 nodes (the pool and 10 honest
/// miners, so an explicit γ of 0.5 is exactly 5 of them) and returns the pool's mean
/// relative revenue, the closed form, and the pooled measured γ.
fn selfish_revenue(file: &str) -> (f64, f64, f64) {
    let tmp = tempfile::tempdir().unwrap();
    let (mut revenue, mut closed_form, mut on_attacker, mut tie_blocks) = (0.0, 0.0, 0, 0);
    for seed in 1..=4 {
        let out = tmp.path().join(format!("s{seed}"));
        let seed = seed.to_string();
        let sets = [
            "--seed",
            &seed,
            "--set",
            "network.nodes=11",
            "--set",
            "run.blocks=20000",
            "--set",
            "mining.grind_hashes=1",
        ];
        run(&scenario(&format!("attacks/{file}")), &out, &sets);
        let a = &summary(&out)["attack"]["attackers"][0];
        let (held, asked) = (a["gamma"]["subset_share"].as_f64(), a["gamma"]["requested"].as_f64());
        assert!(
            (held.unwrap() - asked.unwrap()).abs() < 1e-9,
            "{held:?} of honest power for {asked:?}"
        );
        revenue += a["relative_revenue"].as_f64().unwrap() / 4.0;
        closed_form = a["eyal_sirer_revenue"].as_f64().unwrap();
        on_attacker += a["gamma"]["honest_on_attacker"].as_u64().unwrap();
        tie_blocks += a["gamma"]["honest_tie_blocks"].as_u64().unwrap();
    }
    (revenue, closed_form, on_attacker as f64 / tie_blocks as f64)
}

// Tolerance of the selfish-mining revenue tests: the pool's relative revenue over one run
// of 20,000 blocks has a standard deviation of about 0.0073 (race-mode Monte Carlo over 30
// seeds gives 0.0103 at 10,000 blocks, for both gamma = 0 and 0.5), so the mean of four
// independent runs has a standard error of about 0.0037; we allow 3 SE = 0.011. Honest
// mining (revenue 0.30) is 0.027 away from either closed form, so a model that did not
// reproduce selfish mining would fail.
const REVENUE_TOLERANCE: f64 = 0.011;

#[test]
fn selfish_mining_with_gamma_zero_matches_eyal_and_sirer() {
    let (revenue, closed_form, gamma) = selfish_revenue("selfish-gamma0.toml");
    let expected = forksim::analytic::selfish_mining_revenue(0.3, 0.0).unwrap();
    assert!((closed_form - expected).abs() < 1e-12);
    assert!((revenue - expected).abs() < REVENUE_TOLERANCE, "revenue {revenue} vs {expected}");
    assert!((revenue - 0.3).abs() > REVENUE_TOLERANCE, "indistinguishable from honest mining");
    // Every honest node takes the honest block in a tie.
    assert!(gamma < 0.01, "measured gamma {gamma}");
}

#[test]
fn selfish_mining_with_gamma_half_matches_eyal_and_sirer() {
    let (revenue, closed_form, gamma) = selfish_revenue("selfish-gamma05.toml");
    let expected = forksim::analytic::selfish_mining_revenue(0.3, 0.5).unwrap();
    assert!((closed_form - expected).abs() < 1e-12);
    assert!((revenue - expected).abs() < REVENUE_TOLERANCE, "revenue {revenue} vs {expected}");
    assert!((revenue - 0.3).abs() > REVENUE_TOLERANCE, "indistinguishable from honest mining");
    // About 6,600 honest tie-closing blocks: the SE of the measured share is about 0.006;
    // we allow 0.03 (5 SE).
    assert!((gamma - 0.5).abs() < 0.03, "measured gamma {gamma}");
}

#[test]
fn emergent_gamma_is_measured_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("emergent");
    let sets = ["--set", "run.blocks=1500", "--set", "network.nodes=80"];
    run(&scenario("attacks/selfish-emergent.toml"), &out, &sets);
    let a = &summary(&out)["attack"]["attackers"][0];
    let g = &a["gamma"];
    assert_eq!(g["setting"], "emergent");
    assert!(g["requested"].is_null() && g["subset_share"].is_null());
    assert!(g["ties"].as_u64().unwrap() > 0 && g["honest_tie_blocks"].as_u64().unwrap() > 0);
    let measured = g["measured"].as_f64().expect("gamma is measured");
    assert!((0.0..=1.0).contains(&measured), "{measured}");
    let share = a["share"].as_f64().unwrap();
    let closed = forksim::analytic::selfish_mining_revenue(share, measured).unwrap();
    assert_eq!(a["eyal_sirer_revenue"].as_f64(), Some(closed), "closed form at measured gamma");
    let csv = &rows(&out, "attack.csv")[0];
    assert_eq!(csv["gamma_setting"], "emergent");
    assert!((float(csv, "gamma_measured") - measured).abs() < 1e-6);
}

/// A small network with 10-minute blocks, 50 ms links and equal miners, followed by
/// `timeline` (`[[timeline]]` entries).
fn small_network(seed: u64, blocks: u64, nodes: u32, timeline: &str) -> String {
    format!(
        "[run]\nseed = {seed}\nblocks = {blocks}\n[chain]\nblock_interval_s = 600\nretarget_interval = 0\n\
         [mining]\ngrind_hashes = 16\nhash_power = {{ distribution = \"equal\" }}\n\
         [network]\nnodes = {nodes}\n[network.topology]\noutbound = 4\ninbound_max = {nodes}\n\
         [network.latency]\nmodel = \"constant\"\nms = 50\n{timeline}"
    )
}

const PARTITION: &str = r#"
[[timeline]]
at_s = 3000
partition = { share = 0.5 }

[[timeline]]
at_s = 15000
heal = true
"#;

#[test]
fn a_partition_grows_two_chains_and_the_heal_reorgs_one_side_onto_the_other() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write_scenario(tmp.path(), "split.toml", &small_network(3, 80, 40, PARTITION));
    let out = tmp.path().join("split");
    run(&path, &out, &[]);
    let during: Vec<BTreeMap<String, String>> = rows(&out, "blocks.csv")
        .into_iter()
        .filter(|b| (3_000_000.0..15_000_000.0).contains(&float(b, "mined_at_ms")))
        .collect();
    let mut heights: Vec<&str> = during.iter().map(|b| b["height"].as_str()).collect();
    let mined = heights.len();
    heights.sort_unstable();
    heights.dedup();
    assert!(heights.len() < mined, "both sides mined blocks at the same heights");
    let stale = during.iter().filter(|b| b["in_main_chain"] == "false").count();
    assert!(stale >= 2 && stale < mined, "one side's branch of {stale} blocks lost at the heal");
    let heal_reorgs: Vec<u32> = rows(&out, "reorgs.csv")
        .iter()
        .filter(|r| float(r, "time_ms") >= 15_000_000.0)
        .map(|r| r["depth"].parse().unwrap())
        .collect();
    assert!(heal_reorgs.iter().any(|&d| d >= 2), "the heal reorganised nodes: {heal_reorgs:?}");
    let t = &summary(&out)["attack"]["timeline"];
    assert!(t["messages_dropped"].as_u64().unwrap() > 0);
    assert_eq!(t["distinct_tips_at_end"], 1, "every node converged: {t}");
    assert_eq!(t["nodes_behind_at_end"], 0);
}

const CHURN: &str = r#"
[[timeline]]
at_s = 1200
leave = ["n5"]

[[timeline]]
at_s = 12000
rejoin = ["n5"]
"#;

#[test]
fn a_node_that_left_hears_nothing_and_catches_up_after_rejoining() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write_scenario(tmp.path(), "churn.toml", &small_network(5, 60, 30, CHURN));
    let out = tmp.path().join("churn");
    run(&path, &out, &["--trace"]);
    let trace = rows(&out, "trace.csv");
    let at = |r: &BTreeMap<String, String>| float(r, "time_us") / 1e6;
    let n5 = |r: &&BTreeMap<String, String>| r["node"] == "n5";
    assert!(trace.iter().filter(n5).any(|r| r["event"] == "left" && at(r) == 1200.0));
    assert!(trace.iter().filter(n5).any(|r| r["event"] == "rejoined" && at(r) == 12000.0));
    let away = |r: &BTreeMap<String, String>| (1200.0..12000.0).contains(&at(r));
    assert!(
        !trace
            .iter()
            .filter(n5)
            .any(|r| away(r) && matches!(r["event"].as_str(), "accepted" | "mined")),
        "n5 accepted or mined nothing while offline"
    );
    assert!(trace.iter().any(|r| r["peer"] == "n5" && r["event"] == "dropped" && away(r)));
    let missed = trace.iter().filter(|r| r["event"] == "mined" && away(r)).count();
    let caught_up = trace
        .iter()
        .filter(n5)
        .filter(|r| r["event"] == "accepted" && (12000.0..12060.0).contains(&at(r)))
        .count();
    assert!(
        missed > 5 && caught_up >= missed,
        "{caught_up} of {missed} missed blocks fetched in a minute"
    );
    let t = &summary(&out)["attack"]["timeline"];
    assert_eq!((t["nodes_left"].as_u64(), t["nodes_rejoined"].as_u64()), (Some(1), Some(1)));
    assert_eq!(t["nodes_behind_at_end"], 0, "{t}");
    assert_eq!(t["distinct_tips_at_end"], 1, "{t}");
}

#[test]
fn an_eclipsed_victim_only_hears_what_the_attacker_nodes_pass_on() {
    let tmp = tempfile::tempdir().unwrap();
    let path = scenario("attacks/eclipse.toml");
    let eves = ["eve1", "eve2", "eve3"];
    let victim_lines = |out: &Path| -> Vec<BTreeMap<String, String>> {
        rows(out, "trace.csv").into_iter().filter(|r| r["node"] == "vera").collect()
    };

    // The attacker nodes relay nothing: the victim never gets a block and falls behind.
    let out = tmp.path().join("withheld");
    run(&path, &out, &["--trace"]);
    let e = &summary(&out)["attack"]["eclipse"];
    assert_eq!(e["victim_blocks_in_main_chain"], 0, "{e}");
    assert_eq!(e["victim_tip_in_main_chain"], false);
    let (tip, main) =
        (e["victim_tip_height"].as_u64().unwrap(), e["main_chain_height"].as_u64().unwrap());
    assert!(tip * 4 < main, "victim at {tip}, main chain at {main}");
    let lines = victim_lines(&out);
    assert!(!lines.iter().any(|r| r["event"] == "accepted"), "the victim accepted a peer's block");
    for r in lines.iter().filter(|r| r["event"] == "sent") {
        assert!(eves.contains(&r["peer"].as_str()), "the victim talks to {}", r["peer"]);
    }

    // The same nodes relaying: every block the victim gets comes from one of them, and it
    // follows the main chain.
    let out = tmp.path().join("relayed");
    let mut sets = vec!["--trace"];
    let relays: Vec<String> = (0..3).map(|i| format!("attacker[{i}].relay=true")).collect();
    for r in &relays {
        sets.extend(["--set", r.as_str()]);
    }
    run(&path, &out, &sets);
    let lines = victim_lines(&out);
    let accepted: Vec<&BTreeMap<String, String>> =
        lines.iter().filter(|r| r["event"] == "accepted").collect();
    assert!(accepted.len() > 50);
    assert!(accepted.iter().all(|r| eves.contains(&r["peer"].as_str())));
    assert_eq!(summary(&out)["attack"]["eclipse"]["victim_tip_in_main_chain"], true);
}

#[test]
fn the_trace_is_optional_complete_and_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let path = scenario("attacks/majority.toml");
    let (plain, a, b) = (tmp.path().join("plain"), tmp.path().join("a"), tmp.path().join("b"));
    run(&path, &plain, &[]);
    run(&path, &a, &["--trace"]);
    run(&path, &b, &["--trace"]);
    assert!(!plain.join("trace.csv").exists(), "no trace without --trace");
    assert!(read(&a, "trace.csv") == read(&b, "trace.csv"), "same seed, same trace");
    for f in ["blocks.csv", "reorgs.csv", "attack.csv", "summary.json"] {
        assert!(read(&plain, f) == read(&a, f), "{f}: tracing changed the run");
    }
    let trace = rows(&a, "trace.csv");
    let count = |event: &str| trace.iter().filter(|r| r["event"] == event).count();
    let s = summary(&a);
    assert_eq!(count("mined") as u64, s["blocks_mined"].as_u64().unwrap());
    assert_eq!(count("withheld") as u64, s["attack"]["attackers"][0]["withheld"].as_u64().unwrap());
    assert!(count("published") > 0 && count("sent") > count("accepted"));
    let reorgs = trace.iter().filter(|r| r["detail"].starts_with("tip=reorg")).count();
    assert_eq!(reorgs as u64, s["reorgs"]["count"].as_u64().unwrap());
    let no_leftovers = std::fs::read_dir(&a)
        .unwrap()
        .all(|e| !e.unwrap().file_name().to_string_lossy().starts_with('.'));
    assert!(no_leftovers, "temporary files left behind");
}

#[test]
fn narration_tells_the_attack_and_the_partition() {
    let o = forksim_ok(&[
        "run",
        scenario("attacks/majority.toml").to_str().unwrap(),
        "--narrate",
        "--out",
        tempfile::tempdir().unwrap().path().join("m").to_str().unwrap(),
    ]);
    let text = stdout(&o);
    assert!(text.contains("mallory withholds block #"), "withhold");
    assert!(text.contains("mallory publishes ") && text.contains(" blocks, #"), "publish");
    assert!(text.contains("switches to it and drops"), "honest nodes reorganise");
    let o = forksim_ok(&[
        "run",
        scenario("attacks/partition.toml").to_str().unwrap(),
        "--narrate",
        "--out",
        tempfile::tempdir().unwrap().path().join("p").to_str().unwrap(),
    ]);
    let text = stdout(&o);
    for needle in [
        "the network splits into 2 groups",
        "the partition heals",
        "goes offline",
        "comes back online",
    ] {
        assert!(text.contains(needle), "{needle}");
    }
}

const TEN: &str = "[network]\nnodes = 10\n";

#[test]
fn bad_attack_input_names_file_field_and_value() {
    let attacker = |body: &str| format!("{TEN}[[attacker]]\n{body}\n");
    assert_error(
        &attacker("node = 1\nstrategy = \"sneaky\"\nshare = 0.2"),
        &[],
        &["attacker[0].strategy", "\"sneaky\"", "\"private-chain\""],
    );
    assert_error(
        &attacker("node = 1\nstrategy = \"selfish\"\nshare = 1.0"),
        &[],
        &["attacker[0].share", "= 1", "less than 1"],
    );
    assert_error(
        &format!(
            "{TEN}[[attacker]]\nnode = 1\nstrategy = \"selfish\"\nshare = 0.6\n[[attacker]]\nnode = 2\nstrategy = \"private-chain\"\nshare = 0.5\n"
        ),
        &[],
        &["field `attacker`", "1.1", "sum to less than 1"],
    );
    assert_error(
        &attacker("node = \"mallory\"\nstrategy = \"selfish\"\nshare = 0.2"),
        &[],
        &["attacker[0].node", "\"mallory\"", "no node of that name"],
    );
    assert_error(
        &attacker("node = 1\nstrategy = \"private-chain\"\nshare = 0.2\ngamma = 0.5"),
        &[],
        &["attacker[0].gamma", "does not apply"],
    );
    assert_error(
        &attacker("node = 1\nstrategy = \"selfish\"\nshare = 0.2\npublish = \"fast\""),
        &[],
        &["attacker[0].publish", "\"fast\"", "\"relay\""],
    );
    assert_error(
        &attacker("node = 1\nstrategy = \"selfish\"\nshare = 0.2\npublish_on = \"blok\""),
        &[],
        &["attacker[0].publish_on", "\"blok\"", "\"header\""],
    );
    assert_error(
        &attacker("node = 1\nstrategy = \"private-chain\"\nshare = 0.2\npublish = \"push\""),
        &[],
        &["attacker[0].publish", "does not apply"],
    );
    assert_error(
        &attacker("node = 1\nstrategy = \"selfish\"\nshare = 0.2\ngamma = 1.5"),
        &[],
        &["attacker[0].gamma", "1.5", "between 0 and 1"],
    );
    assert_error(
        &attacker("node = 1\nstrategy = \"selfish\"\nshare = 0.2"),
        &["--set", "attacker[0].share=1.5"],
        &["--set attacker[0].share=1.5", "attacker[0].share", "1.5"],
    );
    assert_error(
        &format!("{TEN}eclipse = {{ victim = \"zed\", attackers = [1, 2] }}\n"),
        &[],
        &["network.eclipse.victim", "\"zed\"", "no node of that name"],
    );
    assert_error(
        "[network]\nnodes = 4\neclipse = { victim = 0, attackers = [1] }\n[network.topology]\nkind = \"edges\"\nedges = [[0, 1], [0, 2], [0, 3]]\n",
        &[],
        &["network.eclipse", "disconnected"],
    );
    assert_error(
        &format!("{TEN}[[timeline]]\nat_s = 10\nleave = [\"zed\"]\n"),
        &[],
        &["timeline[0].leave[0]", "\"zed\"", "no node"],
    );
    assert_error(
        &format!(
            "{TEN}[[timeline]]\nat_s = 100\nheal = true\n[[timeline]]\nat_s = 50\nheal = true\n"
        ),
        &[],
        &["timeline[1].at_s", "= 50", "before timeline[0].at_s = 100"],
    );
    assert_error(
        &format!("{TEN}[[timeline]]\nat_s = 10\nheal = true\nleave = [1]\n"),
        &[],
        &["timeline[0]", "exactly one of"],
    );
    assert_error(
        &format!("{TEN}[[timeline]]\nat_s = 10\nrejoin = [\"n3\"]\n"),
        &[],
        &["timeline[0].rejoin", "\"n3\"", "not offline"],
    );
    assert_error(
        "[race]\nkind = \"selfish_mining\"\n[[timeline]]\nat_s = 10\nheal = true\n",
        &[],
        &["field `timeline`", "[race]"],
    );
    assert_error(
        &format!("{TEN}[[timeline]]\nat_s = 10\npartition = {{ share = 1.5 }}\n"),
        &[],
        &["timeline[0].partition.share", "1.5"],
    );
}

/// Measured gamma of `file` over `blocks` blocks with the extra settings `sets`: (honest
/// tie-closing blocks on the pool's block, all honest tie-closing blocks).
fn emergent_gamma(file: &str, blocks: u64, sets: &[&str]) -> (u64, u64) {
    let (g, _) = emergent_run(file, blocks, sets);
    (g["honest_on_attacker"].as_u64().unwrap(), g["honest_tie_blocks"].as_u64().unwrap())
}

/// The pool's `gamma` section and its relative revenue over `blocks` blocks of `file`.
fn emergent_run(file: &str, blocks: u64, sets: &[&str]) -> (serde_json::Value, f64) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join(file);
    let blocks = format!("run.blocks={blocks}");
    let mut args = vec!["--set", &blocks];
    args.extend_from_slice(sets);
    run(&scenario(&format!("attacks/{file}")), &out, &args);
    let a = &summary(&out)["attack"]["attackers"][0];
    (a["gamma"].clone(), a["relative_revenue"].as_f64().unwrap())
}

#[test]
fn a_selfish_pool_with_a_fat_pipe_that_answers_headers_wins_a_third_of_the_ties() {
    // selfish-fat-pipe.toml: the pool (100 Mbit/s, links to 30 % of nodes) publishes its
    // block when a peer announces the competitor, before fetching it. Over 20,000 blocks
    // it measures gamma 0.4 with inv relay (see the scenario); here, with 3,000 blocks
    // (about 260 honest tie-closing blocks, standard error about 0.03), we require more
    // than 0.3, about 3 SE below. The same pool waiting until it has validated the
    // competitor starts its block seconds later and measures 0.060 over 20,000 blocks; we
    // require less than 0.15 (5 SE above 0.07).
    let (g, revenue) = emergent_run("selfish-fat-pipe.toml", 3_000, &[]);
    let (on_pool, ties) =
        (g["honest_on_attacker"].as_u64().unwrap(), g["honest_tie_blocks"].as_u64().unwrap());
    let header = on_pool as f64 / ties as f64;
    let (on_pool_b, ties_b) =
        emergent_gamma("selfish-fat-pipe.toml", 3_000, &["--set", "attacker[0].publish_on=block"]);
    let block = on_pool_b as f64 / ties_b as f64;
    eprintln!(
        "fat pipe over 3000 blocks: on the header gamma {header:.3} ({on_pool}/{ties}), revenue {revenue:.4}; on the block gamma {block:.3} ({on_pool_b}/{ties_b})"
    );
    assert!(ties > 150 && ties_b > 150, "enough ties to measure: {ties}, {ties_b}");
    assert!(header > 0.3, "answering the header: gamma {header}");
    assert!(block < 0.15, "answering the validated block: gamma {block}");
}

#[test]
fn a_selfish_pool_with_a_fat_pipe_earns_more_than_its_share() {
    // The shipped scenario as it stands (α = 0.3, 20,000 blocks): over seeds 1 and 2 the
    // pool mined 29.4 % and 30.0 % of all blocks and earned 31.1 % and 31.6 % of the main
    // chain (Eyal and Sirer at the measured γ: 31.8 % and 31.6 %). Its revenue must exceed
    // both its hash share and its own share of the blocks mined. Given the blocks it mined,
    // its revenue varies with the tie races it wins and loses (about 1,700 honest
    // tie-closing blocks): a standard error of about 0.3 points, so the 1.7 points above
    // its mined share are about 5 standard errors. The same pool answering only the
    // validated block (γ 0.06) earns 27.3 % and fails both.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("selfish-fat-pipe");
    run(&scenario("attacks/selfish-fat-pipe.toml"), &out, &[]);
    let a = &summary(&out)["attack"]["attackers"][0];
    let revenue = a["relative_revenue"].as_f64().unwrap();
    let (share, mined) =
        (a["share"].as_f64().unwrap(), a["share_of_blocks_mined"].as_f64().unwrap());
    assert_eq!(share, 0.3);
    assert!(revenue > share && revenue > mined, "revenue {revenue}, mined {mined} of blocks");
}

#[test]
fn a_selfish_pool_linked_to_every_node_wins_ties_because_it_publishes_before_relaying() {
    // A pool that waits until it has validated the honest block (publish_on = "block")
    // answers with its own on every link before it relays the honest one. Linked to every
    // node, that gives it a fifth of the honest tie-closing blocks (0.205 over 20,000
    // blocks); relaying first, as a pool asked too late would, gives it almost none
    // (0.001). With about 250 honest tie-closing blocks in 3,000 blocks the standard error
    // is about 0.025: we require more than 0.1 (4 SE below 0.2), far above what relaying
    // first gives. The same pool with 8 peers stays low: its block reaches few nodes
    // before the honest one (0.023 over 20,000 blocks; we require below 0.1).
    let on_block = ["--set", "attacker[0].publish_on=block"];
    let (on_pool, ties) = emergent_gamma("selfish-linked.toml", 3_000, &on_block);
    let linked = on_pool as f64 / ties as f64;
    let (on_pool8, ties8) = emergent_gamma("selfish-emergent.toml", 3_000, &on_block);
    let eight = on_pool8 as f64 / ties8 as f64;
    eprintln!(
        "emergent gamma over 3000 blocks: linked to every node {linked:.3} ({on_pool}/{ties}), 8 peers {eight:.3} ({on_pool8}/{ties8})"
    );
    assert!(ties > 150 && ties8 > 150, "enough ties to measure: {ties}, {ties8}");
    assert!(linked > 0.1, "linked pool: gamma {linked}");
    assert!(eight < 0.1, "8-peer pool: gamma {eight}");
}

/// The reject reason each kind of bad data must be caught by.
const INVALID_KINDS: [(&str, &str); 13] = [
    ("high-hash", "high-hash"),
    ("bad-bits", "bad-diffbits"),
    ("bad-merkle-root", "bad-txnmrklroot"),
    ("time-too-old", "time-too-old"),
    ("time-too-new", "time-too-new"),
    ("oversized", "bad-blk-length"),
    ("coinbase-overpays", "bad-cb-amount"),
    ("bad-signature", "mandatory-script-verify-flag-failed"),
    ("missing-input", "bad-txns-inputs-missingorspent"),
    ("double-spend-in-block", "bad-txns-spends-conflicting-tx"),
    ("immature-coinbase-spend", "bad-txns-premature-spend-of-coinbase"),
    ("unknown-parent", "prev-blk-not-found"),
    ("duplicate-txs", "bad-txns-duplicate"),
];

#[test]
fn an_invalid_peer_on_the_2019_network_is_caught_every_time_banned_by_all_and_replays_identically()
{
    let tmp = tempfile::tempdir().unwrap();
    let path = scenario("attacks/invalid-peer.toml");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run(&path, &a, &[]);
    run(&path, &b, &[]);
    for file in ["summary.json", "blocks.csv", "manifest.json", "miners.csv"] {
        assert_eq!(read(&a, file), read(&b, file), "{file}: same seed, same bytes");
    }
    let s = summary(&a);
    assert!(s["nodes"].as_u64().unwrap() >= 200);
    let inv = &s["invalid_data"];
    let kinds = inv["kinds"].as_array().unwrap();
    assert_eq!(kinds.len(), INVALID_KINDS.len(), "every kind was sent: {inv}");
    for (k, (name, reason)) in kinds.iter().zip(INVALID_KINDS) {
        assert_eq!(k["kind"], name);
        let sent = k["sent"].as_u64().unwrap();
        assert!(sent >= 2, "{name}: {k}");
        assert_eq!(k["rejected"].as_u64().unwrap(), sent, "{name}: every one rejected: {k}");
        assert_eq!(k["rejected_by_reason"][reason].as_u64(), Some(sent), "{name}: {k}");
        assert_eq!(k["accepted"], 0, "{name}");
        assert_eq!(k["relayed"], 0, "{name}");
    }
    let attacker = &inv["attackers"][0];
    assert!(attacker["peers"].as_u64().unwrap() >= 10);
    assert_eq!(attacker["peers_banned"], attacker["peers"], "every peer bans it: {attacker}");
    assert_eq!(inv["bans"], attacker["peers"], "no honest peer is banned");
    // The rejections are in the node-wide counts too, and the narration tells the bans.
    assert_eq!(s["rejected"]["bad-txns-duplicate"], kinds[12]["sent"]);
    let o = forksim_ok(&[
        "run",
        path.to_str().unwrap(),
        "--quiet",
        "--narrate",
        "--node",
        "n0",
        "--out",
        tmp.path().join("c").to_str().unwrap(),
    ]);
    let text = stdout(&o);
    assert!(text.contains("bans n0: its misbehaviour score reached 100"), "{text}");
    assert!(text.contains("sends") && text.contains("(duplicate-txs)"));
}

#[test]
fn orphans_a_full_pool_drops_are_counted_so_every_block_of_a_flood_is_accounted_for() {
    // With a pool of 20 a node drops orphans before the 50 unconnecting blocks that ban
    // their sender: those drops count too, so sent still equals rejected.
    let tmp = tempfile::tempdir().unwrap();
    let path = scenario("attacks/invalid-peer.toml");
    let out = tmp.path().join("a");
    let kinds = "attacker[0].kinds=[\"unknown-parent\"]";
    run(&path, &out, &["--set", "node.orphan_pool_max=20", "--set", kinds]);
    let s = summary(&out);
    let flood = &s["invalid_data"]["kinds"][0];
    assert_eq!(flood["kind"], "unknown-parent", "{flood}");
    let sent = flood["sent"].as_u64().unwrap();
    assert!(sent >= 100, "{flood}");
    assert_eq!(flood["rejected"].as_u64(), Some(sent), "{flood}");
    let reasons = flood["rejected_by_reason"].as_object().unwrap();
    assert!(reasons["orphan-pool-full"].as_u64().unwrap() > 0, "{flood}");
    assert_eq!(reasons.values().map(|n| n.as_u64().unwrap()).sum::<u64>(), sent, "{flood}");
    assert_eq!(flood["accepted"], 0);
}

#[test]
fn a_banned_connection_carries_no_message_sent_after_the_ban_either_way() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a");
    run(&scenario("attacks/invalid-peer.toml"), &out, &["--trace"]);
    let trace = rows(&out, "trace.csv");
    let time = |r: &BTreeMap<String, String>| r["time_us"].parse::<u64>().unwrap();
    let bans: BTreeMap<(&str, &str), u64> = trace
        .iter()
        .filter(|r| r["event"] == "banned")
        .map(|r| ((r["node"].as_str(), r["peer"].as_str()), time(r)))
        .collect();
    assert!(bans.len() >= 10, "{} bans", bans.len());
    let sent = trace.iter().filter(|r| r["event"] == "sent").count();
    assert!(sent > 1000, "the trace holds the messages: {sent}");
    let after: Vec<_> = trace
        .iter()
        .filter(|r| r["event"] == "sent")
        .filter(|r| {
            let (a, b) = (r["node"].as_str(), r["peer"].as_str());
            [(a, b), (b, a)].iter().any(|k| bans.get(k).is_some_and(|&t| time(r) > t))
        })
        .take(3)
        .collect();
    assert!(after.is_empty(), "sent over a banned connection: {after:?}");
}

#[test]
fn invalid_attacker_options_are_checked() {
    let base = r#"
[network]
nodes = 10
[network.latency]
model = "constant"
ms = 10
[[attacker]]
node = 1
share = 0
strategy = "invalid"
"#;
    assert_error(
        &format!("{base}kinds = [\"high-hash\", \"bad-sig\"]\n"),
        &[],
        &["attacker[0].kinds[1]", "\"bad-sig\"", "\"bad-signature\""],
    );
    assert_error(
        &format!("{base}kinds = [\"bad-signature\"]\n"),
        &[],
        &["attacker[0].kinds", "[workload]"],
    );
    assert_error(&format!("{base}every_s = 0\n"), &[], &["attacker[0].every_s", "0.001"]);
    assert_error(&format!("{base}flood_blocks = 0\n"), &[], &["attacker[0].flood_blocks"]);
    let selfish = base.replace("\"invalid\"", "\"selfish\"");
    assert_error(
        &format!("{selfish}every_s = 5\n"),
        &[],
        &["attacker[0].every_s", "does not apply"],
    );
}
