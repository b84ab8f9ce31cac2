//! End-to-end tests of the sweep engine with a fake runner: thread counts, shards and
//! merges, a real process kill and resume, and refusals to mix sweeps.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::journal::{JOURNAL_DIR, Journal};
use super::output::sha256_hex;
use super::spec::run_seed;
use super::*;
use crate::results::rows::{SweepRunKey, Table};
use crate::rng::{Purpose, RngStreams, below, uniform01};

/// Why a fake run fails.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
struct FakeError(&'static str);

/// A deterministic stand-in for the simulator: metrics from a ChaCha stream keyed by the
/// seed and the override arguments, after a short sleep that varies by run so parallel
/// runs finish out of order.
struct FakeRunner {
    sleep_ms: u64,
}

impl Runner for FakeRunner {
    type Error = FakeError;

    fn run(&self, overrides: &[Override], seed: u64) -> Result<Vec<(String, Metric)>, FakeError> {
        let mut hasher = Sha256::new();
        for o in overrides {
            hasher.update(o.argument.as_bytes());
            hasher.update([0]);
        }
        let digest = hasher.finalize();
        let mut key = [0u8; 8];
        key.copy_from_slice(&digest[..8]);
        let mut rng = RngStreams::new(seed ^ u64::from_le_bytes(key)).stream(Purpose::Workload, 0);
        std::thread::sleep(Duration::from_millis(self.sleep_ms + seed % 4));
        let interval = overrides
            .iter()
            .find(|o| o.field() == "chain.block_interval_s")
            .and_then(|o| o.value.as_integer())
            .ok_or(FakeError("no chain.block_interval_s override"))? as f64;
        let trials = 50 + below(&mut rng, 50);
        let stale = uniform01(&mut rng) * 10.0 / interval;
        Ok(vec![
            ("stale_rate".into(), Metric::Value(stale)),
            (
                "orphans".into(),
                Metric::Proportion { successes: below(&mut rng, trials + 1), trials },
            ),
            ("height".into(), Metric::Value(below(&mut rng, 1000) as f64)),
        ])
    }
}

/// A runner that fails for one value of the interval.
struct FailingRunner;

impl Runner for FailingRunner {
    type Error = FakeError;

    fn run(&self, overrides: &[Override], seed: u64) -> Result<Vec<(String, Metric)>, FakeError> {
        if overrides.iter().any(|o| o.argument == "chain.block_interval_s=30") {
            return Err(FakeError("block interval 30 is cursed"));
        }
        FakeRunner { sleep_ms: 0 }.run(overrides, seed)
    }
}

const SWEEP: &str = r#"
[sweep]
name = "orphans-vs-interval"
base = "base.toml"
seed = 1
seeds = 3
set = ["run.blocks=200", "network.nodes=1000"]

[[sweep.axis]]
field = "chain.block_interval_s"
values = [10, 30, 60]

[[sweep.axis]]
field = "mining.block_size_bytes"
range = { from = 100000, to = 900000, steps = 3 }
"#;

/// Writes a base scenario and a sweep file into `dir`; returns the sweep file.
fn write_sweep(dir: &Path, body: &str) -> PathBuf {
    std::fs::write(dir.join("base.toml"), "[run]\nblocks = 10\n").unwrap();
    let path = dir.join("sweep.toml");
    std::fs::write(&path, body).unwrap();
    path
}

fn options(out_dir: PathBuf) -> SweepOptions {
    SweepOptions { out_dir, resume: false, shard: None, threads: Some(2), progress: false }
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

/// The three result files of a folder.
fn outputs(dir: &Path) -> [Vec<u8>; 3] {
    [read(dir, RUNS_CSV), read(dir, POINTS_CSV), read(dir, SWEEP_JSON)]
}

/// Runs the sweep at `path` into `out` with `threads` threads.
fn run_into(path: &Path, out: PathBuf, threads: usize) -> SweepReport {
    let spec = load(path).unwrap();
    let opts = SweepOptions { threads: Some(threads), ..options(out) };
    run_sweep(&spec, &FakeRunner { sleep_ms: 3 }, &opts).unwrap()
}

#[test]
fn thread_count_does_not_change_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sweep(dir.path(), SWEEP);
    let one = run_into(&path, dir.path().join("one"), 1);
    let two = run_into(&path, dir.path().join("two"), 2);
    let four = run_into(&path, dir.path().join("four"), 4);
    assert_eq!((one.runs_done, one.runs_skipped), (27, 0));
    assert_eq!(two.runs_done, 27);
    assert_eq!(one.outputs.len(), 3);
    assert_eq!(outputs(&dir.path().join("one")), outputs(&dir.path().join("two")));
    assert_eq!(outputs(&dir.path().join("one")), outputs(&dir.path().join("four")));
    assert!(four.outputs.iter().all(|p| p.exists()));
}

#[test]
fn tables_have_the_documented_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sweep(dir.path(), SWEEP);
    let out = dir.path().join("out");
    run_into(&path, out.clone(), 2);
    let runs = String::from_utf8(read(&out, RUNS_CSV)).unwrap();
    let lines: Vec<&str> = runs.lines().collect();
    assert_eq!(
        lines[0],
        "run,point,replicate,seed,chain.block_interval_s,mining.block_size_bytes,stale_rate,\
         orphans_successes,orphans_trials,orphans,height"
    );
    assert_eq!(lines.len(), 28);
    assert!(
        lines[1].starts_with(&format!("0,0,0,{},10,100000,", run_seed(1, 0, 0))),
        "{}",
        lines[1]
    );
    assert!(
        lines[4].starts_with(&format!("3,1,0,{},10,500000,", run_seed(1, 1, 0))),
        "{}",
        lines[4]
    );
    assert!(lines[27].starts_with(&format!("26,8,2,{},60,900000,", run_seed(1, 8, 2))));

    let points = String::from_utf8(read(&out, POINTS_CSV)).unwrap();
    let lines: Vec<&str> = points.lines().collect();
    assert_eq!(
        lines[0],
        "point,chain.block_interval_s,mining.block_size_bytes,metric,runs,mean,sd,ci95_low,ci95_high"
    );
    assert_eq!(lines.len(), 1 + 9 * 3);
    assert!(lines[1].starts_with("0,10,100000,stale_rate,3,"));
    assert!(lines[2].starts_with("0,10,100000,orphans,3,"));
    assert!(lines[27].starts_with("8,60,900000,height,3,"));

    // Recompute one proportion row from runs.csv: pooled counts, Wilson interval.
    let table = Table::from_reader(RUNS_CSV, runs.as_bytes()).unwrap();
    let keys = table.rows::<SweepRunKey>().unwrap();
    assert_eq!(keys[4], SweepRunKey { run: 4, point: 1, replicate: 1, seed: run_seed(1, 1, 1) });
    let successes = table.column("orphans_successes").unwrap();
    let trials = table.column("orphans_trials").unwrap();
    let (mut s, mut t) = (0u64, 0u64);
    for row in table.records().iter().take(3) {
        s += row[successes].parse::<u64>().unwrap();
        t += row[trials].parse::<u64>().unwrap();
    }
    let (low, high) = stats::wilson(s as f64, t as f64, stats::Z_975);
    let p = s as f64 / t as f64;
    let expected = format!("{p},{},{low},{high}", (p * (1.0 - p) / t as f64).sqrt());
    assert!(lines[2].ends_with(&expected), "{} vs {expected}", lines[2]);

    let sweep: serde_json::Value = serde_json::from_slice(&read(&out, SWEEP_JSON)).unwrap();
    assert_eq!(sweep["runs"], 27);
    assert_eq!(sweep["points"], 9);
    assert_eq!(sweep["base"], "base.toml");
    assert_eq!(sweep["axes"][1]["values"], serde_json::json!([100000, 500000, 900000]));
}

#[test]
fn shards_merge_into_the_single_process_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sweep(dir.path(), SWEEP);
    let spec = load(&path).unwrap();
    let single = dir.path().join("single");
    run_into(&path, single.clone(), 2);

    let mut shards = Vec::new();
    for k in 1..=3 {
        let out = dir.path().join(format!("shard{k}"));
        let opts = SweepOptions { shard: Some((k, 3)), ..options(out.clone()) };
        let report = run_sweep(&spec, &FakeRunner { sleep_ms: 1 }, &opts).unwrap();
        assert_eq!(report.runs_done, 9);
        assert!(!out.join(RUNS_CSV).exists() && !out.join(POINTS_CSV).exists());
        assert_eq!(read(&out, SWEEP_JSON), read(&single, SWEEP_JSON));
        shards.push(out);
    }
    // Every run is in exactly the shard its index says.
    for (k, shard) in shards.iter().enumerate() {
        let files = Journal::open(shard).entry_files().unwrap();
        assert!(files.iter().all(|(run, _)| run % 3 == k as u64));
    }

    let merged = dir.path().join("merged");
    let report =
        merge(&[shards[2].clone(), shards[0].clone(), shards[1].clone()], &merged).unwrap();
    assert_eq!((report.runs_done, report.runs_skipped), (0, 27));
    assert_eq!(outputs(&merged), outputs(&single));

    let err = merge(&shards[..2], &dir.path().join("partial")).unwrap_err().to_string();
    assert!(err.contains("9 of 27 runs are missing") && err.contains("runs 2, 5, 8"), "{err}");
    assert!(!dir.path().join("partial").join(RUNS_CSV).exists());

    let twice = [shards[0].clone(), shards[1].clone(), shards[2].clone(), shards[0].clone()];
    let err = merge(&twice, &dir.path().join("twice")).unwrap_err().to_string();
    assert!(err.contains("given twice"), "{err}");

    // A copy of a shard under another name is caught by its runs.
    let copy = dir.path().join("copy");
    std::fs::create_dir_all(copy.join(JOURNAL_DIR)).unwrap();
    std::fs::copy(shards[0].join(SWEEP_JSON), copy.join(SWEEP_JSON)).unwrap();
    for (_, file) in Journal::open(&shards[0]).entry_files().unwrap() {
        std::fs::copy(&file, copy.join(JOURNAL_DIR).join(file.file_name().unwrap())).unwrap();
    }
    let dup = [shards[0].clone(), shards[1].clone(), shards[2].clone(), copy];
    let err = merge(&dup, &dir.path().join("dup")).unwrap_err().to_string();
    assert!(err.contains("run 0 is in both"), "{err}");

    // Shards of another sweep do not mix.
    let other_path =
        write_sweep(&dir.path().join("other").tap_mkdir(), &SWEEP.replace("seed = 1", "seed = 2"));
    let other_out = dir.path().join("other-shard");
    let other = load(&other_path).unwrap();
    let opts = SweepOptions { shard: Some((3, 3)), ..options(other_out.clone()) };
    run_sweep(&other, &FakeRunner { sleep_ms: 0 }, &opts).unwrap();
    let err = merge(&[shards[0].clone(), shards[1].clone(), other_out], &dir.path().join("x"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("different sweeps"), "{err}");
}

/// Creates a folder and returns it (for one-line test setup).
trait TapMkdir {
    fn tap_mkdir(self) -> PathBuf;
}

impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> PathBuf {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

#[test]
fn rerunning_over_a_journal_needs_resume_and_the_same_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sweep(dir.path(), SWEEP);
    let out = dir.path().join("out");
    run_into(&path, out.clone(), 2);
    let before = outputs(&out);

    let spec = load(&path).unwrap();
    let err = run_sweep(&spec, &FakeRunner { sleep_ms: 0 }, &options(out.clone())).unwrap_err();
    assert!(matches!(err, SweepError::AlreadyStarted { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("--resume") && text.contains("27 finished runs"), "{text}");

    // Resuming a finished sweep runs nothing and rewrites the same bytes.
    let resume = SweepOptions { resume: true, ..options(out.clone()) };
    let report = run_sweep(&spec, &FakeRunner { sleep_ms: 0 }, &resume).unwrap();
    assert_eq!((report.runs_done, report.runs_skipped), (0, 27));
    assert_eq!(outputs(&out), before);

    // Another sweep (different seeds count) is refused, with or without --resume.
    std::fs::write(&path, SWEEP.replace("seeds = 3", "seeds = 2")).unwrap();
    let changed = load(&path).unwrap();
    for resume in [true, false] {
        let opts = SweepOptions { resume, ..options(out.clone()) };
        let err = run_sweep(&changed, &FakeRunner { sleep_ms: 0 }, &opts).unwrap_err();
        assert!(matches!(err, SweepError::DifferentSweep { .. }), "{err}");
        assert!(err.to_string().contains("different sweep"), "{err}");
    }
    // So is a changed base scenario.
    std::fs::write(&path, SWEEP).unwrap();
    std::fs::write(dir.path().join("base.toml"), "[run]\nblocks = 11\n").unwrap();
    let rebased = load(&path).unwrap();
    let err = run_sweep(&rebased, &FakeRunner { sleep_ms: 0 }, &resume).unwrap_err();
    assert!(matches!(err, SweepError::DifferentSweep { .. }), "{err}");
    assert_eq!(outputs(&out), before);

    // And a different shard of the same sweep.
    std::fs::write(dir.path().join("base.toml"), "[run]\nblocks = 10\n").unwrap();
    let opts = SweepOptions { resume: true, shard: Some((1, 2)), ..options(out.clone()) };
    let err = run_sweep(&spec, &FakeRunner { sleep_ms: 0 }, &opts).unwrap_err();
    assert!(err.to_string().contains("shard 1/1"), "{err}");
}

#[test]
fn results_without_a_journal_are_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sweep(dir.path(), SWEEP);
    let out = dir.path().join("out").tap_mkdir();
    std::fs::write(out.join(RUNS_CSV), "precious\n").unwrap();
    let spec = load(&path).unwrap();
    let err = run_sweep(&spec, &FakeRunner { sleep_ms: 0 }, &options(out.clone())).unwrap_err();
    assert!(err.to_string().contains("runs.csv") && err.to_string().contains("--resume"), "{err}");
    assert_eq!(read(&out, RUNS_CSV), b"precious\n");
}

#[test]
fn a_failing_run_keeps_the_others_and_resume_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sweep(dir.path(), SWEEP);
    let spec = load(&path).unwrap();
    let out = dir.path().join("out");
    let opts = SweepOptions { threads: Some(1), ..options(out.clone()) };
    let err = run_sweep(&spec, &FailingRunner, &opts).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("run 9 ") && text.contains("cursed"), "{text}");
    assert!(text.contains("chain.block_interval_s=30"), "{text}");
    // The runner's own error is kept, not only its text.
    let SweepError::Run { source: RunFailure::Runner(cause), .. } = &err else { panic!("{err:?}") };
    assert_eq!(cause.downcast_ref(), Some(&FakeError("block interval 30 is cursed")));
    assert!(!out.join(RUNS_CSV).exists());
    // One thread: runs 0..9 were done and journaled before the failure stopped the rest.
    assert_eq!(Journal::open(&out).entry_count().unwrap(), 9);

    let resume = SweepOptions { resume: true, ..options(out.clone()) };
    let report = run_sweep(&spec, &FakeRunner { sleep_ms: 0 }, &resume).unwrap();
    assert_eq!((report.runs_done, report.runs_skipped), (18, 9));
    let reference = dir.path().join("reference");
    run_into(&path, reference.clone(), 2);
    assert_eq!(outputs(&out), outputs(&reference));
}

#[test]
fn inconsistent_metrics_are_refused() {
    struct Shifty;
    impl Runner for Shifty {
        type Error = std::convert::Infallible;

        fn run(&self, _: &[Override], seed: u64) -> Result<Vec<(String, Metric)>, Self::Error> {
            let name = if seed.is_multiple_of(2) { "a" } else { "b" };
            Ok(vec![(name.to_string(), Metric::Value(1.0))])
        }
    }
    struct Clash;
    impl Runner for Clash {
        type Error = std::convert::Infallible;

        fn run(&self, _: &[Override], _: u64) -> Result<Vec<(String, Metric)>, Self::Error> {
            Ok(vec![("seed".to_string(), Metric::Value(1.0))])
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_sweep(dir.path(), SWEEP);
    let spec = load(&path).unwrap();
    let err = run_sweep(&spec, &Shifty, &options(dir.path().join("a"))).unwrap_err();
    assert!(matches!(err, SweepError::Metrics { .. }), "{err}");
    let err = run_sweep(&spec, &Clash, &options(dir.path().join("b"))).unwrap_err();
    assert!(err.to_string().contains("second `seed` column"), "{err}");
    assert!(
        matches!(
            err,
            SweepError::Run {
                source: RunFailure::Metrics(MetricError::DuplicateColumn { .. }),
                ..
            }
        ),
        "{err:?}"
    );
}

/// A resumed journal whose runs returned other metrics (another build of forksim) stops
/// the sweep at its first new run, which is not journaled, instead of after all of them.
#[test]
fn a_journal_with_other_metrics_stops_the_resumed_sweep_at_once() {
    /// [`FakeRunner`] with one metric more, counting the runs it starts.
    struct OneMore(std::sync::atomic::AtomicU64);
    impl Runner for OneMore {
        type Error = FakeError;

        fn run(
            &self,
            overrides: &[Override],
            seed: u64,
        ) -> Result<Vec<(String, Metric)>, FakeError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut metrics = FakeRunner { sleep_ms: 5 }.run(overrides, seed)?;
            metrics.push(("drain_s".into(), Metric::Value(1.0)));
            Ok(metrics)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_sweep(dir.path(), SWEEP);
    let spec = load(&path).unwrap();
    let out = dir.path().join("out");
    let one_thread = SweepOptions { threads: Some(1), ..options(out.clone()) };
    run_sweep(&spec, &FailingRunner, &one_thread).unwrap_err();
    assert_eq!(Journal::open(&out).entry_count().unwrap(), 9);

    let runner = OneMore(std::sync::atomic::AtomicU64::new(0));
    let resume = SweepOptions { resume: true, ..options(out.clone()) };
    let err = run_sweep(&spec, &runner, &resume).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SweepError::Metrics { .. }), "{err:?}");
    assert!(text.contains("drain_s") && text.contains("into another output folder"), "{text}");
    // Two threads: each started at most a run or two of the 18 left before the first failed.
    let started = runner.0.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=4).contains(&started), "{started} runs started");
    assert_eq!(Journal::open(&out).entry_count().unwrap(), 9, "no new run journaled");
}

#[test]
fn shard_arguments_are_checked() {
    assert_eq!(parse_shard("2/3").unwrap(), (2, 3));
    assert_eq!(parse_shard(" 1 / 1 ").unwrap(), (1, 1));
    for bad in ["0/3", "4/3", "1/0", "3", "a/b", "1/2/3", ""] {
        let err = parse_shard(bad).unwrap_err().to_string();
        assert!(err.starts_with(&format!("--shard {bad}:")), "{err}");
    }
}

/// Environment variable that turns [`kill_helper`] into a slow sweep: `<sweep file>|<out dir>`.
const HELPER_ENV: &str = "FORKSIM_SWEEP_KILL_HELPER";

/// Not a test by itself: the child process of [`a_killed_sweep_resumes_to_the_same_bytes`],
/// which re-runs this test binary with only this test selected. Without the variable it
/// does nothing.
#[test]
#[ignore = "helper process for a_killed_sweep_resumes_to_the_same_bytes"]
fn kill_helper() {
    let Ok(arg) = std::env::var(HELPER_ENV) else {
        return;
    };
    let (sweep, out) = arg.split_once('|').unwrap();
    let spec = load(Path::new(sweep)).unwrap();
    let opts = SweepOptions { threads: Some(2), ..options(PathBuf::from(out)) };
    run_sweep(&spec, &FakeRunner { sleep_ms: 50 }, &opts).unwrap();
}

#[test]
fn a_killed_sweep_resumes_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sweep(dir.path(), SWEEP);
    let out = dir.path().join("killed");
    let module = module_path!().split_once("::").map_or(module_path!(), |(_, rest)| rest);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([&format!("{module}::kill_helper"), "--exact", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(HELPER_ENV, format!("{}|{}", path.display(), out.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = Journal::open(&out);
    let deadline = Instant::now() + Duration::from_secs(60);
    while journal.entry_count().unwrap_or(0) < 4 {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the helper exited ({status}) before it could be killed");
        }
        assert!(Instant::now() < deadline, "the helper journaled nothing in 60 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    assert!(!out.join(RUNS_CSV).exists() && !out.join(POINTS_CSV).exists());
    let digest = sha256_hex(&read(&out, SWEEP_JSON));
    let survivors = journal.records(&digest).unwrap();
    assert!(survivors.len() >= 4 && survivors.len() < 27, "{} runs journaled", survivors.len());

    let spec = load(&path).unwrap();
    let err = run_sweep(&spec, &FakeRunner { sleep_ms: 0 }, &options(out.clone())).unwrap_err();
    assert!(err.to_string().contains("--resume"), "{err}");
    let resume = SweepOptions { resume: true, ..options(out.clone()) };
    let report = run_sweep(&spec, &FakeRunner { sleep_ms: 1 }, &resume).unwrap();
    assert_eq!(report.runs_skipped, survivors.len() as u64);
    assert_eq!(report.runs_done + report.runs_skipped, 27);
    // No temporary survives a resume.
    let leftovers: Vec<_> = std::fs::read_dir(out.join(JOURNAL_DIR))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());

    let reference = dir.path().join("reference");
    run_into(&path, reference.clone(), 3);
    assert_eq!(outputs(&out), outputs(&reference));
}

#[test]
fn a_sweep_without_axes_replicates_one_point() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sweep(
        dir.path(),
        "[sweep]\nbase = \"base.toml\"\nseeds = 2\nset = [\"chain.block_interval_s=600\"]\n",
    );
    let out = dir.path().join("out");
    run_into(&path, out.clone(), 2);
    let points = String::from_utf8(read(&out, POINTS_CSV)).unwrap();
    assert!(points.starts_with("point,metric,runs,mean,sd,ci95_low,ci95_high\n0,stale_rate,2,"));
}

/// A runner whose check refuses interval 30 and that counts the runs it is asked to do.
struct CheckedRunner {
    runs: std::sync::atomic::AtomicU64,
}

impl Runner for CheckedRunner {
    type Error = FakeError;

    fn run(&self, overrides: &[Override], seed: u64) -> Result<Vec<(String, Metric)>, FakeError> {
        self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        FakeRunner { sleep_ms: 0 }.run(overrides, seed)
    }

    fn check(&self, overrides: &[Override]) -> Result<(), FakeError> {
        FailingRunner.run(overrides, 0).map(|_| ())
    }
}

#[test]
fn every_point_is_checked_before_any_run_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sweep(dir.path(), SWEEP);
    let spec = load(&path).unwrap();
    let out = dir.path().join("out");
    let runner = CheckedRunner { runs: 0.into() };
    let err = run_sweep(&spec, &runner, &options(out.clone())).unwrap_err();
    // Interval 30 is the second value of the outer axis (3 sizes each): points 3 to 5.
    let SweepError::Point { point: 3, points: 9, values, file, source } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(values, "chain.block_interval_s=30, mining.block_size_bytes=100000");
    assert_eq!(file, &path.display().to_string());
    assert_eq!(source.downcast_ref(), Some(&FakeError("block interval 30 is cursed")));
    assert_eq!(runner.runs.load(std::sync::atomic::Ordering::Relaxed), 0, "no run started");
    assert!(!out.exists(), "the output folder is not touched");
}
