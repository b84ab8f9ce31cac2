//! Sweeps through the binary: thread count, sharding and a killed process never change the
//! bytes of `runs.csv` and `points.csv`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{forksim, read, root, stderr};

const OUTPUTS: [&str; 3] = ["runs.csv", "points.csv", "sweep.json"];

/// A small race sweep (fast) written next to the shipped scenarios so `base` resolves.
fn sweep_file(dir: &Path, trials: u64) -> std::path::PathBuf {
    let base = root().join("scenarios/attacks/double-spend-race.toml");
    let text = format!(
        "[sweep]\nname = \"t\"\nbase = \"{}\"\nseed = 5\nseeds = 3\nset = [\"race.trials={trials}\"]\n\
         [[sweep.axis]]\nfield = \"race.q\"\nvalues = [0.1, 0.3]\n\
         [[sweep.axis]]\nfield = \"race.z\"\nrange = {{ from = 0, to = 4, steps = 5 }}\n",
        base.display()
    );
    let path = dir.join("sweep.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn sweep(args: &[&str]) {
    let o = forksim(args);
    assert!(o.status.success(), "forksim {args:?}: {}", stderr(&o));
}

#[test]
fn threads_and_shards_give_identical_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let file = sweep_file(tmp.path(), 20_000);
    let f = file.to_str().unwrap();
    let out = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    sweep(&["sweep", f, "--quiet", "--threads", "1", "--out", &out("one")]);
    sweep(&["sweep", f, "--quiet", "--threads", "2", "--out", &out("two")]);
    for k in 1..=3 {
        sweep(&[
            "sweep",
            f,
            "--quiet",
            "--shard",
            &format!("{k}/3"),
            "--out",
            &out(&format!("s{k}")),
        ]);
    }
    sweep(&["merge", &out("s1"), &out("s2"), &out("s3"), "--out", &out("merged")]);
    for name in OUTPUTS {
        let one = read(&tmp.path().join("one"), name);
        assert!(one == read(&tmp.path().join("two"), name), "{name}: 1 vs 2 threads");
        assert!(
            one == read(&tmp.path().join("merged"), name),
            "{name}: single process vs 3 merged shards"
        );
    }
    // The figure comes from points.csv alone: forksim plot redraws the same bytes.
    let figure = read(&tmp.path().join("one"), "safety.png");
    std::fs::remove_file(tmp.path().join("one/safety.png")).unwrap();
    sweep(&["plot", &out("one")]);
    assert!(read(&tmp.path().join("one"), "safety.png") == figure, "redrawn safety figure differs");
    // Two of three shards do not make a sweep.
    let o = forksim(&["merge", &out("s1"), &out("s2"), "--out", &out("partial")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_killed_sweep_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    // Slow enough runs (2 x 10^6 races each) that a kill lands part-way.
    let file = sweep_file(tmp.path(), 2_000_000);
    let f = file.to_str().unwrap();
    let (killed, whole) = (tmp.path().join("killed"), tmp.path().join("whole"));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_forksim"))
        .args(["sweep", f, "--quiet", "--threads", "1", "--out", killed.to_str().unwrap()])
        .spawn()
        .unwrap();
    let journal = killed.join("journal");
    let started = Instant::now();
    let finished = |dir: &Path| {
        std::fs::read_dir(dir).map_or(0, |d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("run-"))
                .count()
        })
    };
    while finished(&journal) < 3 {
        assert!(started.elapsed() < Duration::from_secs(120), "the sweep made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = finished(&journal);
    assert!(done < 30, "the kill came after every run had finished ({done})");
    assert!(!killed.join("runs.csv").exists(), "an interrupted sweep left runs.csv");
    // Plain rerun refuses; --resume finishes it.
    let o = forksim(&["sweep", f, "--quiet", "--out", killed.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    sweep(&["sweep", f, "--quiet", "--resume", "--out", killed.to_str().unwrap()]);
    sweep(&["sweep", f, "--quiet", "--out", whole.to_str().unwrap()]);
    for name in OUTPUTS {
        assert!(
            read(&killed, name) == read(&whole, name),
            "{name}: killed and resumed vs uninterrupted"
        );
    }
}

#[test]
fn a_sweep_with_a_bad_axis_value_fails_before_any_run_naming_the_point() {
    // 3 × 3 points; the interval axis's third value is invalid, so points 6 to 8 are bad.
    // It used to fail at run 6 of 9, after real work, with exit code 1.
    let tmp = tempfile::tempdir().unwrap();
    let base = root().join("scenarios/quickstart.toml");
    let text = format!(
        "[sweep]\nname = \"bad\"\nbase = \"{}\"\nset = [\"run.blocks=20\", \"network.nodes=20\"]\n\
         [[sweep.axis]]\nfield = \"chain.block_interval_s\"\nvalues = [600, 60, -1]\n\
         [[sweep.axis]]\nfield = \"network.relay.protocol\"\nvalues = [\"inv\", \"push\", \"compact\"]\n",
        base.display()
    );
    let file = tmp.path().join("bad.toml");
    std::fs::write(&file, text).unwrap();
    let out = tmp.path().join("out");
    let o = forksim(&["sweep", file.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    for needle in [
        format!("{}: point 6 of 9", file.display()),
        "chain.block_interval_s=-1, network.relay.protocol=\"inv\"".to_string(),
        "no run was started".to_string(),
        "field `chain.block_interval_s` = -1".to_string(),
        "greater than 0".to_string(),
    ] {
        assert!(err.contains(&needle), "message lacks {needle:?}: {err}");
    }
    assert!(!out.exists(), "a sweep with a bad point must not start: {}", out.display());

    // A paired field is checked with its axis: the second point pairs a bad protocol.
    let text = format!(
        "[sweep]\nname = \"bad2\"\nbase = \"{}\"\nset = [\"run.blocks=20\"]\n\
         [[sweep.axis]]\nfield = \"chain.block_interval_s\"\nvalues = [600, 60]\n\
         paired = [{{ field = \"network.relay.protocol\", values = [\"inv\", \"gossip\"] }}]\n",
        base.display()
    );
    std::fs::write(&file, text).unwrap();
    let o = forksim(&["sweep", file.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("point 1 of 2 (chain.block_interval_s=60, network.relay.protocol=\"gossip\")"),
        "{err}"
    );
    assert!(err.contains("field `network.relay.protocol` = \"gossip\""), "{err}");
    assert!(!out.exists());
}

/// A sweep says at which point the network stops keeping up with its blocks: the quickstart
/// carries 200 kB blocks every 5 s but not 8 MB ones (what `summary.json`'s `backlog` says
/// of a single run, `tests/it/cli.rs`).
#[test]
fn a_sweep_reports_where_senders_fall_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let base = root().join("scenarios/quickstart.toml");
    let text = format!(
        "[sweep]\nname = \"backlog\"\nbase = \"{}\"\nseed = 1\nseeds = 2\n\
         set = [\"run.blocks=100\", \"chain.block_interval_s=5\", \"chain.max_block_size_bytes=8000000\"]\n\
         [[sweep.axis]]\nfield = \"mining.block_size_bytes\"\nvalues = [200000, 8000000]\n",
        base.display()
    );
    let file = tmp.path().join("sweep.toml");
    std::fs::write(&file, text).unwrap();
    let out = tmp.path().join("out");
    sweep(&["sweep", file.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()]);
    let points = String::from_utf8(read(&out, "points.csv")).unwrap();
    // (block size, metric) -> mean over the two seeds.
    let mean = |size: &str, metric: &str| -> f64 {
        let row = points
            .lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f[1] == size && f[2] == metric)
            .unwrap_or_else(|| panic!("no {metric} row at {size}:\n{points}"));
        row[4].parse().unwrap()
    };
    // 200 kB: no sender behind, and the last block's work gone within a block interval.
    assert_eq!(mean("200000", "senders_behind"), 0.0, "{points}");
    assert!(mean("200000", "longest_upload_queue_s") < 5.0, "{points}");
    assert!(mean("200000", "drain_s") < 5.0, "{points}");
    // 8 MB: senders more than a block interval (5 s) of uploads behind, and the work pending
    // at the last block taking many intervals to finish.
    assert!(mean("8000000", "senders_behind") >= 1.0, "{points}");
    assert!(mean("8000000", "longest_upload_queue_s") > 5.0, "{points}");
    assert!(mean("8000000", "drain_s") > 100.0, "{points}");
}
