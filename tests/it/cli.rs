//! End-to-end runs of the binary: the files a run writes and what it prints.

use forksim::results::rows::{BlockRow, read_rows};

use crate::support::{forksim, forksim_ok, read, scenario, stderr, stdout};

#[test]
fn quickstart_writes_every_file_with_matching_digests() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("q");
    let o = run_quickstart(&out, "run.blocks=100");
    let text = stdout(&o);
    assert!(text.contains("stale rate") && text.contains("propagation"), "{text}");

    let manifest: serde_json::Value = serde_json::from_slice(&read(&out, "manifest.json")).unwrap();
    let files = manifest["files"].as_object().unwrap();
    let mut names: Vec<&str> = files.keys().map(String::as_str).collect();
    names.sort_unstable();
    let expected = [
        "blocks.csv",
        "miners.csv",
        "propagation.csv",
        "propagation.png",
        "propagation.svg",
        "propagation_cdf.csv",
        "reorgs.csv",
        "revenue.png",
        "revenue.svg",
        "summary.json",
        "tree.png",
        "tree.svg",
    ];
    assert_eq!(names, expected);
    for (f, digest) in files {
        let actual = forksim::results::files::sha256_hex(&read(&out, f));
        assert_eq!(digest, actual.as_str(), "{f} does not match its manifest digest");
    }
    assert!(read(&out, "propagation.png").starts_with(b"\x89PNG"), "a real PNG");
    assert_eq!(manifest["scenario"]["run"]["blocks"], 100, "the override is recorded");
    assert_eq!(manifest["seed"], 1);
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let summary: serde_json::Value = serde_json::from_slice(&read(&out, "summary.json")).unwrap();
    assert_eq!(summary["blocks_mined"], 100);
    let blocks: Vec<BlockRow> = read_rows(&out).unwrap();
    let in_main = blocks.iter().filter(|b| b.in_main_chain).count() as u64;
    assert_eq!(
        summary["main_chain_height"].as_u64().unwrap(),
        in_main,
        "main chain height = main-chain rows"
    );
}

#[test]
fn validate_prints_the_resolved_scenario() {
    let q = scenario("quickstart.toml");
    let o = forksim_ok(&["validate", q.to_str().unwrap(), "--set", "network.nodes=42"]);
    let text = stdout(&o);
    assert!(text.contains("nodes = 42") && text.contains("max_events"), "{text}");
}

#[test]
fn hard_caps_stop_a_run_and_say_so() {
    let tmp = tempfile::tempdir().unwrap();
    let q = scenario("quickstart.toml");
    for (set, reason) in [("run.max_events=5000", "max_events"), ("run.max_time_s=600", "max_time")]
    {
        let out = tmp.path().join(reason);
        forksim_ok(&[
            "run",
            q.to_str().unwrap(),
            "--quiet",
            "--out",
            out.to_str().unwrap(),
            "--set",
            set,
        ]);
        let summary: serde_json::Value =
            serde_json::from_slice(&read(&out, "summary.json")).unwrap();
        assert_eq!(summary["stopped_by"], reason, "{set}");
        assert!(summary["blocks_mined"].as_u64().unwrap() < 500, "{set} stopped the run early");
    }
}

/// Blocks the network cannot carry (8 MB every 5 s on the quickstart's links) leave work
/// piling up, and the run says so, in `summary.json` and on the terminal; the quickstart's
/// own blocks drain between one block and the next. With another seed the same swamped
/// network piles up less than twice as much work in the second half as in the first (682
/// against 367 pieces pending: `grew`, a rule of thumb, is false), but 14 senders are over a
/// block interval behind, and the terminal still warns.
#[test]
fn a_network_that_does_not_keep_up_with_its_blocks_is_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let q = scenario("quickstart.toml");
    let swamped = [
        "chain.block_interval_s=5",
        "chain.max_block_size_bytes=8000000",
        "mining.block_size_bytes=8000000",
    ];
    let halves_miss = [&swamped[..], &["run.seed=1542679796258860888"]].concat();
    // (name, overrides, senders behind, the halves rule's `grew`)
    let cases: [(&str, &[&str], bool, bool); 3] = [
        ("keeps-up", &[], false, false),
        ("falls-behind", &swamped, true, true),
        ("falls-behind-evenly", &halves_miss, true, false),
    ];
    for (name, sets, behind, grew) in cases {
        let out = tmp.path().join(name);
        let mut args = vec!["run", q.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend(["--set", "run.blocks=100"]);
        for set in sets {
            args.extend(["--set", set]);
        }
        let text = stdout(&forksim_ok(&args));
        let summary: serde_json::Value =
            serde_json::from_slice(&read(&out, "summary.json")).unwrap();
        let backlog = &summary["backlog"];
        assert_eq!(backlog["grew"], grew, "{name}: {backlog}");
        assert_eq!(text.contains("did not keep up"), behind, "{name}: {text}");
        let (first, second) = (
            backlog["pending_mean_first_half"].as_f64().unwrap(),
            backlog["pending_mean_second_half"].as_f64().unwrap(),
        );
        let senders_behind = backlog["senders_behind"].as_u64().unwrap();
        assert_eq!(senders_behind > 0, behind, "{name}: {backlog}");
        if behind {
            assert!(second > first && second > 100.0, "{name}: {backlog}");
            // A sender behind holds more than a block interval of uploads.
            assert!(backlog["longest_upload_queue_s"].as_f64().unwrap() > 5.0, "{backlog}");
            // What was pending at the last block took longer than a block interval to go.
            assert!(backlog["drain_s"].as_f64().unwrap() > 5.0, "{name}: {backlog}");
        } else {
            assert!(second < 100.0, "{name}: {backlog}");
        }
        assert_eq!(backlog["pending_at_end"], 0, "{name}: the drain finished");
    }
}

#[test]
fn plot_redraws_the_same_figures_from_the_csv_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("q");
    let q = scenario("quickstart.toml");
    forksim_ok(&[
        "run",
        q.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "run.blocks=50",
    ]);
    let before = read(&out, "propagation.png");
    std::fs::remove_file(out.join("propagation.png")).unwrap();
    forksim_ok(&["plot", out.to_str().unwrap()]);
    assert!(read(&out, "propagation.png") == before, "redrawn figure differs");
    let o = forksim(&["plot", tmp.path().join("missing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("propagation_cdf.csv"), "{}", stderr(&o));
}

#[test]
fn a_renamed_or_missing_column_is_an_error_naming_the_file_and_the_column() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("q");
    let q = scenario("quickstart.toml");
    let args = ["run", q.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()];
    forksim_ok(&[&args[..], &["--set", "run.blocks=20"]].concat());

    // Columns moved around still draw the same figure: they are read by name.
    let before = read(&out, "revenue.svg");
    let miners = String::from_utf8(read(&out, "miners.csv")).unwrap();
    let moved: String = miners
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(',').collect();
            f.reverse();
            f.join(",") + "\n"
        })
        .collect();
    std::fs::write(out.join("miners.csv"), &moved).unwrap();
    forksim_ok(&["plot", out.to_str().unwrap()]);
    assert!(read(&out, "revenue.svg") == before, "moved columns changed the figure");

    std::fs::write(out.join("miners.csv"), moved.replacen("revenue_share", "revenue", 1)).unwrap();
    let o = forksim(&["plot", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("miners.csv") && err.contains("no column `revenue_share`"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let blocks = String::from_utf8(read(&out, "blocks.csv")).unwrap();
    let header_end = blocks.find('\n').unwrap();
    let without = blocks[..header_end].replace(",in_main_chain", "");
    let rows: String = blocks[header_end + 1..]
        .lines()
        .map(|l| l.rsplit_once(',').map_or(String::new(), |(kept, _)| format!("{kept}\n")))
        .collect();
    std::fs::write(out.join("blocks.csv"), format!("{without}\n{rows}")).unwrap();
    let o = forksim(&["tree", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("blocks.csv: no column `in_main_chain`"), "{}", stderr(&o));
}

#[test]
fn replay_confirms_identical_bytes_and_names_a_changed_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c");
    let class = scenario("classroom.toml");

    forksim_ok(&["run", class.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()]);
    let o = forksim(&["replay", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("byte-identical"), "{}", stdout(&o));

    let mut blocks = read(&out, "blocks.csv");
    blocks.push(b'\n');
    std::fs::write(out.join("blocks.csv"), blocks).unwrap();
    let o = forksim(&["replay", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("DIFFERS      blocks.csv"), "{}", stdout(&o));
    assert!(stderr(&o).contains("differs in 1 file(s): blocks.csv"), "{}", stderr(&o));
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".replay"))
        .collect();
    assert!(leftovers.is_empty(), "scratch folder left behind");
}

#[test]
fn narration_tells_the_fork_story_and_is_identical_for_the_same_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let class = scenario("classroom.toml");
    let run = |dir: &str, extra: &[&str]| {
        let out = tmp.path().join(dir);
        let mut args =
            vec!["run", class.to_str().unwrap(), "--narrate", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = forksim_ok(&args);
        // The story lines start with the virtual time; the summary after them has wall time.
        let text = stdout(&o);
        text.lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let first = run("a", &[]);
    assert_eq!(first, run("b", &[]), "narration differs between two runs with the same seed");
    // The story shows mining with real nonces, a fork kept by first-seen, and its resolution.
    assert!(first.contains("found block #1") && first.contains("zero bits"), "{first}");
    assert!(first.contains("a fork! It ties with"), "{first}");
    assert!(first.contains("switches to it and drops 1 block"), "{first}");
    // One node's view mentions only that node.
    let carol = run("c", &["--node", "Carol"]);
    assert!(!carol.is_empty());
    for line in carol.lines() {
        assert!(line.contains("Carol"), "{line}");
    }
    let o = forksim(&["run", class.to_str().unwrap(), "--narrate", "--node", "Zed"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--node Zed") && stderr(&o).contains("Alice, Bob, Carol, Dave, Erin"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn tree_draws_the_block_tree_from_blocks_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c");
    let class = scenario("classroom.toml");

    forksim_ok(&["run", class.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()]);
    let before = read(&out, "tree.svg");
    forksim_ok(&["tree", out.to_str().unwrap()]);
    let svg = String::from_utf8(read(&out, "tree.svg")).unwrap();
    assert!(svg.as_bytes() == before.as_slice(), "tree redrawn differently");
    // Every miner is in the legend; the caption counts the stale blocks from blocks.csv.
    for name in ["Alice", "Bob", "Carol", "Dave", "Erin"] {
        assert!(svg.contains(name), "{name} missing from the legend");
    }
    let blocks: Vec<BlockRow> = read_rows(&out).unwrap();
    let stale = blocks.iter().filter(|b| !b.in_main_chain).count();
    assert!(svg.contains(&format!("{stale} stale")), "caption lacks the stale count {stale}");
}

#[test]
fn html_on_a_race_without_a_network_is_an_input_error() {
    let race = scenario("attacks/double-spend-race.toml");
    let o = forksim(&["run", race.to_str().unwrap(), "--html"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--html") && stderr(&o).contains("race without a network"));
}

#[test]
fn a_run_that_mines_no_block_writes_every_file_and_its_tree_and_plots_redraw() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("empty");
    let o = run_quickstart(&out, "run.max_time_s=1");
    let text = stdout(&o);
    assert!(text.contains("blocks mined                 0"), "{text}");
    // No block counted: no rate is claimed.
    assert!(text.contains("stale rate             n/a"), "{text}");
    assert!(!text.contains("0.00 %"), "{text}");
    assert!(text.contains("propagation         n/a (no block was mined)"), "{text}");
    for name in ["manifest.json", "blocks.csv", "tree.png", "tree.svg", "propagation.png"] {
        assert!(out.join(name).exists(), "{name} missing");
    }
    let dir = out.to_str().unwrap();
    forksim_ok(&["tree", dir]);
    forksim_ok(&["plot", dir]);
}

#[test]
fn tree_on_a_header_only_blocks_file_draws_genesis_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("q");
    run_quickstart(&out, "run.blocks=20");
    let blocks = std::fs::read_to_string(out.join("blocks.csv")).unwrap();
    let header = blocks.lines().next().unwrap();
    std::fs::write(out.join("blocks.csv"), format!("{header}\n")).unwrap();
    let o = forksim_ok(&["tree", out.to_str().unwrap()]);
    assert!(!stderr(&o).contains("panicked"));
}

/// Runs quickstart.toml into `out` with one `--set` override; fails the test unless it succeeds.
fn run_quickstart(out: &std::path::Path, set: &str) -> std::process::Output {
    let q = scenario("quickstart.toml");
    forksim_ok(&["run", q.to_str().unwrap(), "--out", out.to_str().unwrap(), "--set", set])
}

#[test]
fn bench_refuses_overrides_without_a_scenario_and_zero_runs() {
    // Both used to be ignored: the full default suite ran, or one run was timed.
    let o = forksim(&["bench", "--set", "run.blocks=3"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("<SCENARIO>"), "{}", stderr(&o));
    let q = scenario("quickstart.toml");
    let o = forksim(&["bench", "--runs", "0", q.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--runs"), "{}", stderr(&o));
}

/// A stake kind's summary says what its consensus did: a DPoS run names its producers, its
/// schedule, finality under its own rule and what a censoring cartel left out, and gives
/// attackers their stake (not hash power); a proof-of-work summary keeps its mining lines.
#[test]
fn a_stake_run_prints_its_consensus_lines_and_a_pow_run_keeps_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let s = scenario("attacks/dpos-cartel-censor.toml");
    let out = tmp.path().join("cartel");
    let o = forksim_ok(&[
        "run",
        s.to_str().unwrap(),
        "--set",
        "run.blocks=120",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = stdout(&o);
    for needle in [
        "30 stakeholders electing 21 producers | dpos |",
        "  consensus           dpos | Nakamoto coefficient ",
        "  schedule            21 producers, 1 block per turn of 3 s: 0 of ",
        "blocks final (more than 2/3 of the 21 producers built on them): median ",
        "  cartel (censor)     7 of 21 producers left out ",
        "  attacker n2 (cartel, 6.02 % of the stake)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains("hash power") && !text.contains("honest mining"), "{text}");
    // The cartel line's count is the sum of what consensus.json says each member left out.
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("consensus.json")).unwrap()).unwrap();
    let left: u64 = doc["cartel"]["censor"]["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["payments"].as_u64().unwrap())
        .sum();
    assert!(left > 0);
    assert!(text.contains(&format!("producers left out {left} payments;")), "{text}");

    let q = scenario("quickstart.toml");
    let out = tmp.path().join("pow");
    let o = forksim_ok(&[
        "run",
        q.to_str().unwrap(),
        "--set",
        "run.blocks=20",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = stdout(&o);
    assert!(text.contains(" miners | sampled mining | "), "{text}");
    assert!(!text.contains("  consensus ") && !text.contains("  finality "), "{text}");
}
