//! Parameter sweeps: many runs of one base scenario over a grid of overrides and seeds.
//!
//! A sweep is only useful if its numbers can be trusted and reproduced, so this module is
//! built around one promise: **the output files are a function of the sweep file alone**.
//! They do not depend on the thread count, the order in which runs finish, whether the
//! sweep was killed and resumed, or whether it was split into shards on a cluster and
//! merged afterwards; every one of those paths writes byte-identical `runs.csv`,
//! `points.csv` and `sweep.json`.
//!
//! How that is kept:
//! - [`spec`]: the sweep file is resolved into a fixed list of runs; each run's seed is
//!   derived from the sweep seed, its point and its replicate by SHA-256, never drawn;
//! - [`journal`]: each finished run is written at once to its own file, atomically (temp
//!   file, fsync, rename) and with a checksum, so a kill loses only the runs in progress and
//!   `--resume` (or [`merge`]) can pick up the rest;
//! - [`output`]: the result files are built only from the resolved sweep (`sweep.json`) and
//!   the journal records sorted by run index, and are written atomically once every run is
//!   done;
//! - [`stats`]: the per-point summaries (Student-t intervals for values, Wilson intervals
//!   for proportions);
//! - [`progress`]: a bar or a plain line on stderr, never in the files.
//!
//! The simulator itself is behind the [`Runner`] trait, so all of this is tested with a
//! fake runner and the real one is plugged in by the command line.

pub mod journal;
pub mod output;
pub mod progress;
pub mod spec;
pub mod stats;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::scenario::Override;

use journal::{Journal, Manifest, RunRecord};
use output::{MetricError, RecordError, Resolved, atomic_write, sha256_hex};
use progress::Progress;

pub use spec::{MAX_RUNS, RunPlan, SweepSpec, load};

/// Name of the resolved sweep file in an output folder.
pub const SWEEP_JSON: &str = "sweep.json";
/// Name of the one-row-per-run table in an output folder.
pub const RUNS_CSV: &str = "runs.csv";
/// Name of the one-row-per-(point, metric) table in an output folder.
pub const POINTS_CSV: &str = "points.csv";

/// Name of the published points a sweep file gives to draw beside its own (`[sweep.reference]`).
pub const REFERENCE_CSV: &str = "reference.csv";

/// One measured quantity of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    /// A number; points report its mean over replicates with a Student-t interval.
    Value(f64),
    /// A count of successes in trials; points pool the counts over replicates and report
    /// the rate with a Wilson interval.
    Proportion {
        /// Trials that succeeded.
        successes: u64,
        /// All trials (at least `successes`).
        trials: u64,
    },
}

/// Runs one simulation; implemented by the simulator, and by fakes in tests.
pub trait Runner: Sync {
    /// Why a run cannot be done; kept as the source of the sweep's [`SweepError::Run`].
    type Error: std::error::Error + Send + Sync + 'static;

    /// Runs one simulation of the base scenario with these overrides and seed; returns its
    /// metrics in a fixed order (the same names in the same order for every run of a sweep).
    ///
    /// # Errors
    ///
    /// Returns [`Self::Error`] when the run cannot be done (for example, an override is
    /// invalid); the sweep then stops starting new runs and reports the first failed run.
    fn run(&self, overrides: &[Override], seed: u64) -> Result<Vec<(String, Metric)>, Self::Error>;

    /// Checks, without running anything, that a run with these overrides can be done (the
    /// scenario they make is valid). [`run_sweep`] checks every point this way before it
    /// starts any run; the default accepts everything.
    ///
    /// # Errors
    ///
    /// Returns [`Self::Error`] when a run with these overrides would fail at once.
    fn check(&self, overrides: &[Override]) -> Result<(), Self::Error> {
        let _ = overrides;
        Ok(())
    }
}

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// Folder of `sweep.json`, `journal/`, and (once complete) `runs.csv` and `points.csv`.
    pub out_dir: PathBuf,
    /// Continue from the journal in `out_dir` instead of refusing to touch it.
    pub resume: bool,
    /// `(K, N)`: run only the runs whose index is `K − 1` modulo `N` (see [`parse_shard`]).
    pub shard: Option<(u32, u32)>,
    /// Worker threads; `None` (or 0) lets rayon choose.
    pub threads: Option<usize>,
    /// Report progress on stderr.
    pub progress: bool,
}

/// What a call to [`run_sweep`] or [`merge`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Runs simulated by this call.
    pub runs_done: u64,
    /// Runs taken from a journal instead of being simulated (resumed, or merged).
    pub runs_skipped: u64,
    /// Files written, in the order written.
    pub outputs: Vec<PathBuf>,
}

/// A sweep that could not be loaded, run or merged; every variant says where and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// The sweep file could not be read.
    #[error("{file}: cannot read sweep file: {reason}")]
    Read {
        /// The path given.
        file: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The sweep file is not valid TOML.
    #[error("{file}: not valid TOML: {message}")]
    Syntax {
        /// The path given.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A field of the sweep file is unknown, missing, of the wrong type or out of range.
    #[error("{file}: field `{field}` = {value}: {problem}")]
    Field {
        /// The sweep file.
        file: String,
        /// Dotted path of the field, e.g. `sweep.axis[1].range.steps`.
        field: String,
        /// The offending value as written (or `(missing)`).
        value: String,
        /// What is wrong, in plain words.
        problem: String,
    },
    /// A `--shard K/N` argument is malformed.
    #[error("--shard {text}: {source}")]
    Shard {
        /// The argument as given.
        text: String,
        /// What is wrong with it.
        source: ShardError,
    },
    /// The output folder already holds work of this sweep and `--resume` was not given.
    #[error(
        "{dir}: already holds {what}; pass --resume to continue it, or choose another output folder"
    )]
    AlreadyStarted {
        /// The output folder.
        dir: String,
        /// What was found, e.g. `a journal with 12 finished runs`.
        what: String,
    },
    /// The output folder holds a journal of another sweep (or another shard).
    #[error("{dir}: {problem}; choose another output folder, or delete that one")]
    DifferentSweep {
        /// The output folder.
        dir: String,
        /// How they differ.
        problem: String,
    },
    /// A journal file is damaged or does not fit the sweep.
    #[error("{file}: bad journal entry: {problem}")]
    Journal {
        /// The journal file.
        file: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A journal entry is intact but its run is not one of the sweep's, or not where the
    /// sweep puts it.
    #[error("{file}: bad journal entry: {source}")]
    Record {
        /// The journal file.
        file: String,
        /// How the entry differs from the sweep.
        source: RecordError,
    },
    /// A file or folder could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file or folder.
        path: String,
        /// The operating system's reason, or what was expected.
        reason: String,
    },
    /// A point of the sweep is invalid (found before any run started).
    #[error(
        "{file}: point {point} of {points} ({values}) is invalid, so no run was started: {source}"
    )]
    Point {
        /// The sweep file.
        file: String,
        /// The invalid point (the first one, in point order).
        point: u64,
        /// How many points the sweep has.
        points: u64,
        /// The point's axis values, as `FIELD=VALUE` overrides.
        values: String,
        /// Why the runner refused it.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The runner failed (or returned malformed metrics) for at least one run.
    #[error(
        "run {run} (point {point}, replicate {replicate}, seed {seed}, overrides [{overrides}]) failed: {source}{}",
        others_note(*others)
    )]
    Run {
        /// Index of the first failed run.
        run: u64,
        /// Its point.
        point: u64,
        /// Its replicate.
        replicate: u64,
        /// Its seed.
        seed: u64,
        /// Its overrides, as `--set` arguments.
        overrides: String,
        /// Why it failed.
        source: RunFailure,
        /// How many other runs failed too.
        others: usize,
    },
    /// Runs of one sweep returned different metric names or kinds.
    #[error("run {run}: {problem}")]
    Metrics {
        /// The run whose metrics differ from run 0's (or the first run present).
        run: u64,
        /// How they differ.
        problem: String,
    },
    /// Shard folders cannot be merged.
    #[error("merge: {problem}")]
    Merge {
        /// What is wrong: different sweeps, missing or duplicated runs.
        problem: String,
    },
}

/// Why one run of a sweep failed (see [`SweepError::Run`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunFailure {
    /// The runner could not do the run: its [`Runner::Error`], boxed.
    #[error(transparent)]
    Runner(Box<dyn std::error::Error + Send + Sync>),
    /// The runner returned metrics that cannot be tabled.
    #[error("the runner returned bad metrics: {0}")]
    Metrics(#[source] MetricError),
}

/// What is wrong with a `--shard K/N` argument; [`SweepError::Shard`] gives the argument.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShardError {
    /// There is no `/`.
    #[error("expected K/N, e.g. 2/3")]
    NoSlash,
    /// K is not a whole number.
    #[error("K is not a whole number (expected K/N)")]
    KNotANumber,
    /// N is not a whole number.
    #[error("N is not a whole number (expected K/N)")]
    NNotANumber,
    /// N is 0.
    #[error("N must be at least 1")]
    NoShards,
    /// K is 0 or above N.
    #[error("K must be between 1 and N = {n}")]
    KOutOfRange {
        /// The K given.
        k: u32,
        /// The N given.
        n: u32,
    },
}

/// The tail of a [`SweepError::Run`] message counting the other failed runs.
fn others_note(others: usize) -> String {
    match others {
        0 => String::new(),
        1 => " (and 1 other run failed)".to_string(),
        n => format!(" (and {n} other runs failed)"),
    }
}

impl SweepError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: &Path, err: impl std::fmt::Display) -> SweepError {
        SweepError::Io { path: path.display().to_string(), reason: err.to_string() }
    }
}

/// Parses `K/N` (1 ≤ K ≤ N): this process is shard K of N.
///
/// # Errors
///
/// Returns [`SweepError::Shard`] when the text is not two whole numbers around a `/`, or
/// `N` is 0, or `K` is not in `1..=N`.
pub fn parse_shard(text: &str) -> Result<(u32, u32), SweepError> {
    let bad = |source: ShardError| SweepError::Shard { text: text.to_string(), source };
    let (k, n) = text.split_once('/').ok_or_else(|| bad(ShardError::NoSlash))?;
    let k: u32 = k.trim().parse().map_err(|_| bad(ShardError::KNotANumber))?;
    let n: u32 = n.trim().parse().map_err(|_| bad(ShardError::NNotANumber))?;
    check_shard(k, n).map_err(bad)?;
    Ok((k, n))
}

/// Checks 1 ≤ K ≤ N.
fn check_shard(k: u32, n: u32) -> Result<(), ShardError> {
    if n == 0 {
        return Err(ShardError::NoShards);
    }
    if k == 0 || k > n {
        return Err(ShardError::KOutOfRange { k, n });
    }
    Ok(())
}

/// Runs the sweep (or one shard of it) and writes its outputs into `options.out_dir`.
///
/// Every finished run goes to the journal at once. When the whole sweep is done (always,
/// unless it is one shard of several) `runs.csv` and `points.csv` are written; a shard's
/// folder is combined with the others by [`merge`].
///
/// # Errors
///
/// - [`SweepError::AlreadyStarted`] if the folder holds a journal or results and
///   `options.resume` is false;
/// - [`SweepError::DifferentSweep`] if its journal belongs to another sweep or shard;
/// - [`SweepError::Journal`] if a journal entry is damaged, [`SweepError::Record`] if it is
///   intact but its run does not fit the sweep;
/// - [`SweepError::Run`] if the runner fails for any run (the runs that succeeded are kept
///   in the journal, so a `--resume` after fixing the cause continues from there);
/// - [`SweepError::Metrics`] if runs return different metrics;
/// - [`SweepError::Shard`], [`SweepError::Io`] for a bad shard or an I/O failure.
pub fn run_sweep<R: Runner>(
    spec: &SweepSpec,
    runner: &R,
    options: &SweepOptions,
) -> Result<SweepReport, SweepError> {
    let (k, n) = options.shard.unwrap_or((1, 1));
    check_shard(k, n).map_err(|source| SweepError::Shard { text: format!("{k}/{n}"), source })?;
    check_points(spec, runner)?;
    let resolved = Resolved::of(spec);
    let sweep_json = resolved.to_bytes();
    let digest = sha256_hex(&sweep_json);
    let out = options.out_dir.as_path();
    let journal = Journal::create(out)?;
    let manifest = Manifest::new(&digest, k, n);
    prepare_folder(out, &journal, &manifest, options.resume)?;

    journal.remove_temporaries();
    journal.write_manifest(&manifest)?;
    let mut report = SweepReport::default();
    let sweep_path = out.join(SWEEP_JSON);
    atomic_write(&sweep_path, &sweep_json)?;
    report.outputs.push(sweep_path);
    if let Some(reference) = spec.reference() {
        let path = out.join(REFERENCE_CSV);
        atomic_write(&path, &reference.to_csv())?;
        report.outputs.push(path);
    }

    let previous = if options.resume { journal.records(&digest)? } else { Vec::new() };
    for record in &previous {
        let file = journal.entry_path(record.run);
        resolved
            .check_record(record)
            .map_err(|source| SweepError::Record { file: file.display().to_string(), source })?;
        if record.run % u64::from(n) != u64::from(k - 1) {
            return Err(SweepError::Journal {
                file: file.display().to_string(),
                problem: format!("run {} does not belong to shard {k}/{n}", record.run),
            });
        }
    }
    let finished: BTreeSet<u64> = previous.iter().map(|r| r.run).collect();
    let todo: Vec<RunPlan> = spec
        .runs()
        .into_iter()
        .filter(|p| p.index % u64::from(n) == u64::from(k - 1) && !finished.contains(&p.index))
        .collect();
    report.runs_skipped = previous.len() as u64;

    let progress = Progress::new(
        options.progress,
        spec.name(),
        previous.len() as u64 + todo.len() as u64,
        previous.len() as u64,
    );
    let journaled = previous.first();
    let fresh =
        execute(&todo, runner, &journal, &digest, &resolved, journaled, options.threads, &progress);
    progress.finish();
    // Only the check against the journal's metrics fails a new run with `Metrics`.
    let fresh = fresh.map_err(|err| from_another_build(err, &options.out_dir))?;
    report.runs_done = fresh.len() as u64;

    if n == 1 {
        let mut records = previous;
        records.extend(fresh);
        records.sort_by_key(|r| r.run);
        report.outputs.extend(output::write_tables(out, &resolved, &records)?);
    }
    Ok(report)
}

/// Checks every point (every combination of axis values, paired fields and the fixed
/// overrides) with [`Runner::check`] before any folder is touched or any run started, so a
/// bad axis value is reported at once as bad input instead of failing run 6 of 9.
fn check_points<R: Runner>(spec: &SweepSpec, runner: &R) -> Result<(), SweepError> {
    let fixed = spec.fixed_overrides().len();
    for point in 0..spec.points_count() {
        let overrides = spec.point_overrides(point);
        runner.check(&overrides).map_err(|e| {
            let values: Vec<&str> =
                overrides[fixed..].iter().map(|o| o.argument.as_str()).collect();
            SweepError::Point {
                file: spec.file().display().to_string(),
                point,
                points: spec.points_count(),
                values: if values.is_empty() { "no axes".to_string() } else { values.join(", ") },
                source: Box::new(e),
            }
        })?;
    }
    Ok(())
}

/// Refuses to reuse a folder that holds other work, unless resuming the same sweep and shard.
fn prepare_folder(
    out: &Path,
    journal: &Journal,
    manifest: &Manifest,
    resume: bool,
) -> Result<(), SweepError> {
    let dir = out.display().to_string();
    let existing = journal.read_manifest()?;
    if let Some(found) = &existing {
        if found.sweep_sha256 != manifest.sweep_sha256 {
            return Err(SweepError::DifferentSweep {
                dir,
                problem: format!(
                    "its journal belongs to a different sweep (sweep.json SHA-256 {} there, {} \
                     here: the sweep file, the base scenario or forksim changed)",
                    short(&found.sweep_sha256),
                    short(&manifest.sweep_sha256)
                ),
            });
        }
        if found.shard != manifest.shard {
            return Err(SweepError::DifferentSweep {
                dir,
                problem: format!(
                    "its journal is of shard {} of this sweep, not shard {}",
                    found.shard, manifest.shard
                ),
            });
        }
    }
    if resume {
        return Ok(());
    }
    let entries = journal.entry_count()?;
    if entries > 0 || existing.is_some() {
        let what = format!(
            "a journal of this sweep with {entries} finished run{}",
            if entries == 1 { "" } else { "s" }
        );
        return Err(SweepError::AlreadyStarted { dir, what });
    }
    for name in [RUNS_CSV, POINTS_CSV] {
        if out.join(name).exists() {
            return Err(SweepError::AlreadyStarted { dir, what: format!("a {name}") });
        }
    }
    Ok(())
}

/// The first 12 hex digits of a digest, for messages.
fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// Runs `todo` on a thread pool, journaling each run as it finishes; returns the records in
/// the order of `todo`. After the first failure no new run is started.
///
/// A resumed sweep passes a run from its journal (`journaled`): a new run whose metrics
/// differ from it fails at once, unjournaled, rather than after every remaining run (a
/// journal written by another build of forksim, whose runs return other metrics).
#[allow(clippy::too_many_arguments)]
fn execute<R: Runner>(
    todo: &[RunPlan],
    runner: &R,
    journal: &Journal,
    digest: &str,
    resolved: &Resolved,
    journaled: Option<&RunRecord>,
    threads: Option<usize>,
    progress: &Progress,
) -> Result<Vec<RunRecord>, SweepError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| SweepError::Io { path: "thread pool".into(), reason: e.to_string() })?;
    let failed = AtomicBool::new(false);
    let results: Vec<Option<Result<RunRecord, SweepError>>> = pool.install(|| {
        todo.par_iter()
            .map(|plan| {
                if failed.load(Ordering::Relaxed) {
                    return None;
                }
                let result = run_one(plan, runner, resolved)
                    .and_then(|record| match journaled {
                        Some(first) => output::check_same_metrics(first, &record).map(|()| record),
                        None => Ok(record),
                    })
                    .and_then(|record| journal.write(digest, &record).map(|()| record));
                match &result {
                    Ok(_) => progress.tick(),
                    Err(_) => failed.store(true, Ordering::Relaxed),
                }
                Some(result)
            })
            .collect()
    });
    let mut records = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for result in results.into_iter().flatten() {
        match result {
            Ok(record) => records.push(record),
            Err(err) => errors.push(err),
        }
    }
    let others = errors.len().saturating_sub(1);
    match errors.into_iter().next() {
        None => Ok(records),
        Some(SweepError::Run { run, point, replicate, seed, overrides, source, .. }) => {
            Err(SweepError::Run { run, point, replicate, seed, overrides, source, others })
        }
        Some(other) => Err(other),
    }
}

/// A new run's metrics differ from those of a run in the journal being resumed (in
/// `out_dir`): says what that most likely means. Other errors pass unchanged.
fn from_another_build(err: SweepError, out_dir: &Path) -> SweepError {
    match err {
        SweepError::Metrics { run, problem } => SweepError::Metrics {
            run,
            problem: format!(
                "{problem} (that run is in the journal of {}; a journal written by another \
                 build of forksim cannot be resumed: run the sweep again into another output \
                 folder)",
                out_dir.display()
            ),
        },
        other => other,
    }
}

/// Runs one plan and checks the shape of its metrics.
fn run_one<R: Runner>(
    plan: &RunPlan,
    runner: &R,
    resolved: &Resolved,
) -> Result<RunRecord, SweepError> {
    let fail = |source: RunFailure| SweepError::Run {
        run: plan.index,
        point: plan.point,
        replicate: plan.replicate,
        seed: plan.seed,
        overrides: plan
            .overrides
            .iter()
            .map(|o| o.argument.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        source,
        others: 0,
    };
    let metrics = runner
        .run(&plan.overrides, plan.seed)
        .map_err(|e| fail(RunFailure::Runner(Box::new(e))))?;
    output::check_metric_names(&metrics, resolved).map_err(|e| fail(RunFailure::Metrics(e)))?;
    Ok(RunRecord {
        run: plan.index,
        point: plan.point,
        replicate: plan.replicate,
        seed: plan.seed,
        metrics,
    })
}

/// Combines shard folders of one sweep into `out_dir`: `sweep.json`, `runs.csv` and
/// `points.csv`, byte-identical to what a single process would have written.
///
/// # Errors
///
/// Returns [`SweepError::Merge`] when no folder is given, a folder is given twice, the
/// folders hold different sweeps, a run is in two folders, or runs are missing (the
/// message counts them and lists the first few); [`SweepError::Journal`] for a damaged
/// entry, [`SweepError::Record`] for one whose run does not fit the sweep;
/// [`SweepError::Io`] when a folder has no `sweep.json` or a file cannot be written.
pub fn merge(dirs: &[PathBuf], out_dir: &Path) -> Result<SweepReport, SweepError> {
    let Some(first) = dirs.first() else {
        return Err(SweepError::Merge { problem: "no shard folders given".into() });
    };
    let mut seen: Vec<(PathBuf, &PathBuf)> = Vec::new();
    for dir in dirs {
        let canonical = fs::canonicalize(dir).map_err(|e| SweepError::io(dir, e))?;
        if let Some((_, earlier)) = seen.iter().find(|(c, _)| *c == canonical) {
            return Err(SweepError::Merge {
                problem: format!(
                    "{} is given twice (also as {})",
                    dir.display(),
                    earlier.display()
                ),
            });
        }
        seen.push((canonical, dir));
    }
    let read_sweep = |dir: &Path| {
        let path = dir.join(SWEEP_JSON);
        fs::read(&path).map_err(|e| SweepError::Io {
            path: path.display().to_string(),
            reason: format!("not a sweep output folder: {e}"),
        })
    };
    let sweep_json = read_sweep(first)?;
    for dir in &dirs[1..] {
        if read_sweep(dir)? != sweep_json {
            return Err(SweepError::Merge {
                problem: format!(
                    "{} and {} hold different sweeps (their {SWEEP_JSON} differ)",
                    first.display(),
                    dir.display()
                ),
            });
        }
    }
    let resolved = Resolved::from_bytes(&sweep_json, &first.join(SWEEP_JSON))?;
    let digest = sha256_hex(&sweep_json);

    let mut owner: Vec<Option<usize>> = vec![None; usize::try_from(resolved.runs).unwrap_or(0)];
    let mut records = Vec::new();
    for (d, dir) in dirs.iter().enumerate() {
        let journal = Journal::open(dir);
        for record in journal.records(&digest)? {
            let file = journal.entry_path(record.run);
            resolved.check_record(&record).map_err(|source| SweepError::Record {
                file: file.display().to_string(),
                source,
            })?;
            let slot = &mut owner[record.run as usize];
            if let Some(other) = *slot {
                return Err(SweepError::Merge {
                    problem: format!(
                        "run {} is in both {} and {} (was a shard run twice?)",
                        record.run,
                        dirs[other].display(),
                        dir.display()
                    ),
                });
            }
            *slot = Some(d);
            records.push(record);
        }
    }
    let missing: Vec<usize> = (0..owner.len()).filter(|&i| owner[i].is_none()).collect();
    if !missing.is_empty() {
        let listed: Vec<String> = missing.iter().take(10).map(usize::to_string).collect();
        let more = if missing.len() > 10 { ", ..." } else { "" };
        return Err(SweepError::Merge {
            problem: format!(
                "{} of {} runs are missing (runs {}{more}); merge every shard's folder, and \
                 resume (--resume) any shard that did not finish",
                missing.len(),
                resolved.runs,
                listed.join(", ")
            ),
        });
    }
    records.sort_by_key(|r| r.run);

    fs::create_dir_all(out_dir).map_err(|e| SweepError::io(out_dir, e))?;
    let mut report = SweepReport { runs_skipped: records.len() as u64, ..SweepReport::default() };
    let sweep_path = out_dir.join(SWEEP_JSON);
    atomic_write(&sweep_path, &sweep_json)?;
    report.outputs.push(sweep_path);
    let reference = first.join(REFERENCE_CSV);
    if reference.exists() {
        let bytes = fs::read(&reference).map_err(|e| SweepError::io(&reference, e))?;
        let path = out_dir.join(REFERENCE_CSV);
        atomic_write(&path, &bytes)?;
        report.outputs.push(path);
    }
    report.outputs.extend(output::write_tables(out_dir, &resolved, &records)?);
    Ok(report)
}
