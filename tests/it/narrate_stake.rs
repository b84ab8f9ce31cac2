//! Narration of the stake kinds: slot leaders (`pos-slot`), producers, missed slots and
//! irreversible blocks (`dpos`), checked against the run's own result files.

use std::path::Path;

use crate::support::{forksim_ok, read, stdout};

/// Twelve fully connected nodes, eight stakeholders; `consensus` and `extra` complete it.
fn scenario(consensus: &str, extra: &str) -> String {
    format!(
        "[run]\nseed = 5\nblocks = 150\nsettle_blocks = 5\n\
         [chain]\nblock_interval_s = 2\n\
         [consensus]\n{consensus}\n\
         [stake]\nshares = [8, 7, 6, 5, 4, 3, 2, 1]\n\
         [mining]\nnetwork_hashrate_hs = 1e15\nblock_size_bytes = 2_000\n\
         [network]\nnodes = 12\ntopology = {{ kind = \"complete\" }}\n\
         [network.latency]\nmodel = \"constant\"\nms = 40\n{extra}"
    )
}

/// Runs `text` with `--narrate` and returns the story lines (those starting with a time).
fn narrate(dir: &Path, text: &str) -> Vec<String> {
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    let out = dir.join("out");
    let o =
        forksim_ok(&["run", path.to_str().unwrap(), "--narrate", "--out", out.to_str().unwrap()]);
    stdout(&o)
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

/// `h:mm:ss.mmm` in milliseconds.
fn millis(line: &str) -> u64 {
    let time = line.split_whitespace().next().unwrap();
    let (hms, ms) = time.split_once('.').unwrap();
    let parts: Vec<u64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
    ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + ms.parse::<u64>().unwrap()
}

/// The number after `key` in `line`.
fn number_after(line: &str, key: &str) -> u64 {
    let rest = &line[line.find(key).unwrap_or_else(|| panic!("{key} in {line}")) + key.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

#[test]
fn dpos_narration_names_producers_missed_slots_and_irreversible_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    // Node 1 (a producer) leaves at 40 s: its slots are missed until it is voted out.
    let text = scenario(
        "kind = \"dpos\"\nproducers = 5\nblocks_per_turn = 2\nblock_interval_s = 1",
        "[[timeline]]\nat_s = 40\nleave = [\"n1\"]\n",
    );
    let lines = narrate(tmp.path(), &text);
    let consensus: serde_json::Value =
        serde_json::from_slice(&read(&tmp.path().join("out"), "consensus.json")).unwrap();
    // Every block is made at the start of its slot: slot s starts at (s + 1) s.
    let made: Vec<&String> = lines.iter().filter(|l| l.contains(" builds block #")).collect();
    assert_eq!(made.len(), 150);
    for l in &made {
        assert!(l.contains("  producer n"), "{l}");
        assert_eq!(millis(l), (number_after(l, "in its slot ") + 1) * 1000, "{l}");
    }
    // One line per missed slot, each of the node that left, after it left; as many as
    // consensus.json counts.
    let missed: Vec<&String> = lines.iter().filter(|l| l.contains(" missed its slot ")).collect();
    let counted = consensus["dpos"]["missed_slots"].as_u64().unwrap();
    assert!(counted > 0, "no slot missed: {consensus}");
    assert_eq!(missed.len() as u64, counted);
    for l in &missed {
        assert!(l.contains("producer n1 missed its slot "), "{l}");
        assert!(number_after(l, "its slot ") >= 39, "{l}");
    }
    // The newest irreversible block only moves up, 4 of 5 producers having built on it.
    let lib: Vec<u64> = lines
        .iter()
        .filter(|l| l.contains(" is now irreversible (4 of 5 producers built on it)"))
        .map(|l| number_after(l, "block #"))
        .collect();
    assert!(lib.len() > 10, "{lib:?}");
    assert!(lib.windows(2).all(|w| w[0] < w[1]), "{lib:?}");
}

#[test]
fn slot_narration_names_the_leader_of_each_slot() {
    let tmp = tempfile::tempdir().unwrap();
    let text = scenario("kind = \"pos-slot\"\nslot_s = 0.5\nactive_slot_coeff = 0.25\nk = 5", "");
    let lines = narrate(tmp.path(), &text);
    let led: Vec<&String> =
        lines.iter().filter(|l| l.contains(" is the slot leader for slot ")).collect();
    assert_eq!(led.len(), 150);
    for l in &led {
        assert!(l.contains("(VRF output below threshold) and builds block #"), "{l}");
        assert_eq!(millis(l), number_after(l, "for slot ") * 500, "{l}");
    }
    assert!(!lines.iter().any(|l| l.contains(" found block ")));
}
