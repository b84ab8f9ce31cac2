//! The determinism contract: same scenario and seed give byte-identical files; another seed
//! gives different blocks.

use crate::support::{forksim, read, scenario, stderr};

const FILES: [&str; 5] =
    ["blocks.csv", "propagation.csv", "reorgs.csv", "summary.json", "manifest.json"];

fn run_quickstart(out: &std::path::Path, seed: &str, extra: &[&str]) {
    let q = scenario("quickstart.toml");
    let mut args =
        vec!["run", q.to_str().unwrap(), "--quiet", "--seed", seed, "--out", out.to_str().unwrap()];
    args.extend_from_slice(&["--set", "run.blocks=150", "--set", "network.nodes=60"]);
    args.extend_from_slice(extra);
    let o = forksim(&args);
    assert!(o.status.success(), "run failed: {}", stderr(&o));
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_differs() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("c"));
    run_quickstart(&a, "7", &[]);
    run_quickstart(&b, "7", &[]);
    run_quickstart(&c, "8", &[]);
    for f in FILES {
        assert!(read(&a, f) == read(&b, f), "{f} differs between two runs with seed 7");
    }
    assert!(
        read(&a, "blocks.csv") != read(&c, "blocks.csv"),
        "seeds 7 and 8 gave the same blocks.csv"
    );
    // The run is not trivial: blocks were mined and some forked.
    let blocks = String::from_utf8(read(&a, "blocks.csv")).unwrap();
    assert_eq!(blocks.lines().count(), 151, "150 blocks plus the header");
}

#[test]
fn every_relay_protocol_and_ground_mode_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    for protocol in ["push", "flood", "compact"] {
        let set = format!("network.relay.protocol={protocol}");
        let (a, b) =
            (tmp.path().join(format!("{protocol}-a")), tmp.path().join(format!("{protocol}-b")));
        run_quickstart(&a, "3", &["--set", &set]);
        run_quickstart(&b, "3", &["--set", &set]);
        for f in FILES {
            assert!(read(&a, f) == read(&b, f), "{f} differs between two {protocol} runs");
        }
    }
    let class = scenario("classroom.toml");
    let (a, b) = (tmp.path().join("class-a"), tmp.path().join("class-b"));
    for out in [&a, &b] {
        let o =
            forksim(&["run", class.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()]);
        assert!(o.status.success(), "classroom failed: {}", stderr(&o));
    }
    for f in FILES {
        assert!(read(&a, f) == read(&b, f), "{f} differs between two classroom runs");
    }
}

#[test]
fn replay_page_is_byte_identical_for_the_same_seed_and_replay_checks_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("c"));
    run_quickstart(&a, "7", &["--html"]);
    run_quickstart(&b, "7", &["--html"]);
    run_quickstart(&c, "8", &["--html"]);
    let page = "replay.html";
    assert!(read(&a, page) == read(&b, page), "{page} differs between two runs with seed 7");
    assert!(read(&a, page) != read(&c, page), "seeds 7 and 8 gave the same {page}");
    // The page is listed in the manifest, so `forksim replay` rebuilds and compares it.
    let manifest = String::from_utf8(read(&a, "manifest.json")).unwrap();
    assert!(manifest.contains("\"replay.html\""), "{manifest}");
    let o = forksim(&["replay", a.to_str().unwrap()]);
    assert!(o.status.success(), "replay failed: {}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("identical    replay.html"), "{text}");
}
