//! The command line: argument definitions and the commands they run.
//!
//! Exit codes: 0 success, 1 an I/O or internal failure, 2 bad input (a scenario or
//! argument error, with a message naming the file, field and value).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::chain::BlockStore;
use crate::figures::draw_run_plots;
use crate::id::NodeId;
use crate::observe::metrics::Metrics;
use crate::observe::narrate::Narrator;
use crate::observe::{Observer, Record};
use crate::race_report::RaceSummary;
use crate::replay_page::Recorder;
use crate::results::files::Summary;
use crate::results::files::{
    render_into, sha256_hex, write_atomic, write_manifest, write_manifest_with_network,
};
use crate::results::folder::Staging;
use crate::results::report::terminal_summary;
use crate::results::sink::{FolderSink, write_bytes};
use crate::results::trace::{TRACE_CSV, Tracer};
use crate::run::{Kind, RunError};
use crate::scenario::{self, Override, Scenario, ScenarioError};
use crate::world::{BuildError, World};

/// Writes a line to standard output; a closed pipe (`forksim ... | head`) is not an error.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Writes text to standard output without adding a newline; a closed pipe is not an error.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Deterministic discrete-event simulator of proof-of-work blockchain networks.
#[derive(Parser, Debug)]
#[command(name = "forksim", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario and write its results.
    Run {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Master seed (overrides run.seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Results folder (default: results/NAME, NAME being the scenario name).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a scenario field, e.g. --set network.nodes=1000 (repeatable).
        #[arg(long = "set", value_name = "FIELD.PATH=VALUE")]
        set: Vec<String>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Tell the story of the run as it happens, one line per event (for teaching).
        #[arg(long)]
        narrate: bool,
        /// With --narrate: only the lines about this node (by name).
        #[arg(long, value_name = "NAME", requires = "narrate")]
        node: Option<String>,
        /// Also write replay.html: one self-contained page that plays the run back in a
        /// browser (network, messages, block tree and narration; works offline).
        #[arg(long)]
        html: bool,
        /// Also write trace.csv: one line per record (every message sent or lost, every
        /// block mined or accepted, attacker decisions, partitions and churn).
        #[arg(long)]
        trace: bool,
    },
    /// Time whole runs: median wall time and peak memory (the core benchmarks by default).
    Bench {
        /// Scenario to time instead of the default cases.
        scenario: Option<PathBuf>,
        /// Override a scenario field (repeatable; with SCENARIO only).
        #[arg(long = "set", value_name = "FIELD.PATH=VALUE", requires = "scenario")]
        set: Vec<String>,
        /// Runs per case (the median is reported); at least 1.
        #[arg(long, default_value_t = NonZeroUsize::new(5).expect("5 is not zero"))]
        runs: NonZeroUsize,
    },
    /// Run a parameter sweep: every point of the axes times every seed, in parallel.
    Sweep {
        /// Sweep file (TOML).
        sweep: PathBuf,
        /// Output folder (default: results/sweeps/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Continue an interrupted sweep, running only the runs it has not finished.
        #[arg(long)]
        resume: bool,
        /// Run only shard K of N (runs whose index modulo N is K - 1), for a cluster.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Worker threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Merge the folders of a sharded sweep into the files one process would have written.
    Merge {
        /// Shard folders written by `forksim sweep --shard`.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Re-run a results folder from its manifest and confirm every file is byte-identical.
    Replay {
        /// A folder written by `forksim run`.
        results: PathBuf,
    },
    /// Draw the block tree of a results folder (tree.png and tree.svg) from blocks.csv.
    Tree {
        /// A folder written by `forksim run`.
        results: PathBuf,
    },
    /// Redraw the figures of a run or sweep folder from its CSV files.
    Plot {
        /// A folder written by `forksim run`.
        results: PathBuf,
    },
    /// Run one scenario once per consensus kind on the same seed and network, and print
    /// the kinds side by side (compare.csv, compare.json, compare.png, a folder per kind).
    Compare {
        /// Scenario file (TOML); `[compare.KIND]` tables add settings for one kind.
        scenario: PathBuf,
        /// Kinds to run, comma-separated (default: `[compare] kinds`, else pow,pos-slot,dpos).
        #[arg(long, value_name = "KIND,KIND,...")]
        kinds: Option<String>,
        /// Master seed (overrides run.seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: results/compare/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a scenario field for every kind (repeatable).
        #[arg(long = "set", value_name = "FIELD.PATH=VALUE")]
        set: Vec<String>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Check a scenario and print it with every default filled in.
    Validate {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Override a scenario field (repeatable).
        #[arg(long = "set", value_name = "FIELD.PATH=VALUE")]
        set: Vec<String>,
    },
}

/// A failure, with its exit code.
enum Failure {
    Input(String),
    Internal(String),
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        Failure::Input(e.to_string())
    }
}

impl From<BuildError> for Failure {
    fn from(e: BuildError) -> Self {
        Failure::Input(e.to_string())
    }
}

impl From<RunError> for Failure {
    fn from(e: RunError) -> Self {
        Failure::Input(e.to_string())
    }
}

/// Parses arguments, runs the command and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    crate::crash::install();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Internal(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}

fn parse_overrides(set: &[String]) -> Result<Vec<Override>, Failure> {
    set.iter().map(|s| Override::parse(s).map_err(Failure::from)).collect()
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Validate { scenario: path, set } => {
            let overrides = parse_overrides(&set)?;
            let scenario = scenario::load(&path, &overrides, None)?;
            // Building the world checks the network too (connectivity, degree limits).
            World::build(&scenario, crate::observe::Discard, ())?;
            let text = toml::to_string_pretty(&scenario.resolved).map_err(|e| {
                Failure::Internal(format!("cannot print the resolved scenario: {e}"))
            })?;
            say!("# {}: valid; every setting, defaults filled in:\n{text}", path.display());
            Ok(())
        }
        Command::Replay { results } => replay(&results),
        Command::Compare { scenario: path, kinds, seed, out, set, quiet } => {
            compare(&path, kinds.as_deref(), seed, out, &set, quiet)
        }
        Command::Sweep { sweep, out, resume, shard, threads, quiet } => {
            let spec = crate::sweep::load(&sweep).map_err(sweep_failure)?;
            let shard =
                shard.map(|s| crate::sweep::parse_shard(&s)).transpose().map_err(sweep_failure)?;
            let out_dir = out.unwrap_or_else(|| spec.default_out_dir());
            let options = crate::sweep::SweepOptions {
                out_dir: out_dir.clone(),
                resume,
                shard,
                threads,
                progress: !quiet,
            };
            let runner =
                crate::experiment::ScenarioRunner { base: spec.base_scenario().to_path_buf() };
            let wall = Instant::now();
            let report =
                crate::sweep::run_sweep(&spec, &runner, &options).map_err(sweep_failure)?;
            let mut outputs = report.outputs.clone();
            if out_dir.join(crate::sweep::POINTS_CSV).exists() {
                let figures = crate::figures::sweep::draw_sweep_plots(&out_dir, spec.name())
                    .map_err(|e| Failure::Internal(e.to_string()))?;
                outputs.extend(figures.into_iter().map(|(p, _)| p));
            }
            if !quiet {
                say!(
                    "sweep {}: {} runs done, {} resumed, wall {:.1} s",
                    spec.name(),
                    report.runs_done,
                    report.runs_skipped,
                    wall.elapsed().as_secs_f64()
                );
                for p in outputs {
                    say!("  {}", p.display());
                }
            }
            Ok(())
        }
        Command::Merge { shards, out } => {
            let report = crate::sweep::merge(&shards, &out).map_err(sweep_failure)?;
            let mut outputs = report.outputs.clone();
            let name = sweep_name(&out);
            let figures = crate::figures::sweep::draw_sweep_plots(&out, &name)
                .map_err(|e| Failure::Internal(e.to_string()))?;
            outputs.extend(figures.into_iter().map(|(p, _)| p));
            say!("merged {} runs into {}", report.runs_skipped, out.display());
            for p in outputs {
                say!("  {}", p.display());
            }
            Ok(())
        }
        Command::Tree { results } => {
            let title = crate::figures::scenario_name(&results);
            let written = crate::figures::tree::draw_tree(&results, &title)
                .map_err(|e| Failure::Input(e.to_string()))?;
            for (path, _) in written {
                say!("{}", path.display());
            }
            Ok(())
        }
        Command::Plot { results } => {
            let written = if results.join(crate::sweep::POINTS_CSV).exists() {
                crate::figures::sweep::draw_sweep_plots(&results, &sweep_name(&results))
            } else {
                draw_run_plots(&results)
            }
            .map_err(|e| Failure::Input(e.to_string()))?;
            for (path, _) in written {
                say!("{}", path.display());
            }
            Ok(())
        }
        Command::Bench { scenario: path, set, runs } => {
            let cases = match path {
                Some(p) => vec![crate::bench::Case {
                    label: p.display().to_string(),
                    scenario: p,
                    overrides: set,
                    max_runs: None,
                }],
                None => crate::bench::default_cases(std::path::Path::new(".")),
            };
            say!(
                "forksim {} bench: {runs} runs per case, median wall time",
                env!("CARGO_PKG_VERSION")
            );
            for case in &cases {
                let m = crate::bench::run_case(case, runs.get())?;
                say!("{}", crate::bench::report_line(case, &m));
            }
            Ok(())
        }
        Command::Run { scenario: path, seed, out, set, quiet, narrate, node, html, trace } => {
            let overrides = parse_overrides(&set)?;
            let scenario = scenario::load(&path, &overrides, seed)?;
            let _crash =
                crate::crash::enter(&scenario, crate::crash::command_with_seed(scenario.seed));
            let out_dir = out.unwrap_or_else(|| PathBuf::from("results").join(&scenario.name));
            let wall = Instant::now();
            let kind = Kind::of(&scenario);
            if kind == Kind::Race {
                if narrate || html || trace {
                    let flag = if narrate {
                        "--narrate"
                    } else if html {
                        "--html"
                    } else {
                        "--trace"
                    };
                    return Err(Failure::Input(format!(
                        "{flag}: {} is a race without a network; there is nothing to show",
                        path.display()
                    )));
                }
                let staging = stage(&out_dir)?;
                let (summary, _) = execute_race(&scenario, staging.dir())?;
                commit(staging)?;
                if !quiet {
                    say_raw!(
                        "{}",
                        summary
                            .terminal(wall.elapsed().as_secs_f64(), &out_dir.display().to_string())
                    );
                }
                return Ok(());
            }
            if let Kind::Trials { .. } = kind {
                if narrate || html || trace {
                    return Err(Failure::Input(format!(
                        "{}: a double spend with trials > 1 runs many short runs; --narrate, --html and --trace need trials = 1 (--set 'attacker[0].trials=1')",
                        path.display()
                    )));
                }
                let staging = stage(&out_dir)?;
                let (summary, _) = execute_trials(&scenario, staging.dir())?;
                commit(staging)?;
                if !quiet {
                    say_raw!(
                        "{}",
                        crate::run::trials::report(&summary, wall.elapsed().as_secs_f64())
                    );
                    say!(
                        "  results in {}/ (trials.csv, summary.json, manifest.json)",
                        out_dir.display()
                    );
                }
                return Ok(());
            }
            let staging = stage(&out_dir)?;
            let mut watchers = Watchers::new(&scenario, html);
            watchers.metrics.spill_into(staging.dir());
            if trace {
                watchers.tracer = Some(
                    Tracer::create(staging.dir(), scenario.node_names.clone())
                        .map_err(|e| Failure::Internal(e.to_string()))?,
                );
            }
            if narrate {
                let only = match node {
                    None => None,
                    Some(name) => Some(
                        scenario
                            .node_names
                            .iter()
                            .position(|n| *n == name)
                            .map(NodeId::from_index)
                            .ok_or_else(|| {
                                Failure::Input(format!(
                                    "--node {name}: {} has no node of that name (its nodes: {})",
                                    path.display(),
                                    name_list(&scenario.node_names)
                                ))
                            })?,
                    ),
                };
                let ground = scenario.mining.mode == crate::scenario::MiningMode::Ground;
                watchers.narrator = Some(
                    Narrator::new(
                        scenario.node_names.clone(),
                        only,
                        ground,
                        Box::new(std::io::stdout()),
                    )
                    .with_story(crate::observe::narrate::StakeStory::of(&scenario)),
                );
            }
            let (summary, _) = execute(&scenario, staging.dir(), !quiet && !narrate, watchers)?;
            commit(staging)?;
            if !quiet {
                let wall_s = wall.elapsed().as_secs_f64();
                let consensus = consensus_lines_of(&scenario, &out_dir)?;
                say_raw!(
                    "{}",
                    terminal_summary(
                        &scenario,
                        &summary,
                        consensus.as_deref(),
                        wall_s,
                        &out_dir.display().to_string()
                    )
                );
                if html {
                    let page = out_dir.join(crate::replay_page::FILE_NAME);
                    say!("  replay page {} (open it in a browser)", page.display());
                }
            }
            Ok(())
        }
    }
}

/// The terminal's consensus lines of a finished run of a kind other than proof of work, read
/// from its results folder `dir` as `forksim compare` reads it.
fn consensus_lines_of(scenario: &Scenario, dir: &Path) -> Result<Option<String>, Failure> {
    let kind = scenario.consensus.kind;
    if kind == crate::consensus::ConsensusKind::Pow {
        return Ok(None);
    }
    let internal = |e: crate::compare::CompareError| Failure::Internal(e.to_string());
    let row = crate::compare::Row::read(kind, dir).map_err(internal)?;
    let doc = crate::compare::read_json(&dir.join("consensus.json")).map_err(internal)?;
    Ok(Some(crate::results::report::consensus_lines(scenario, &row, &doc)))
}

/// What a `forksim run` watches: the metrics always; the narrated story, the trace and the
/// replay page when asked for.
struct Watchers {
    metrics: Metrics,
    narrator: Option<Narrator>,
    tracer: Option<Tracer>,
    page: Option<Recorder>,
}

impl Watchers {
    /// Metrics for `scenario`, and the replay page's recorder if `html`.
    fn new(scenario: &Scenario, html: bool) -> Watchers {
        let ground = scenario.mining.mode == crate::scenario::MiningMode::Ground;
        Watchers {
            metrics: Metrics::for_scenario(scenario),
            narrator: None,
            tracer: None,
            page: html.then(|| {
                Recorder::new(scenario.node_names.clone(), ground)
                    .with_story(crate::observe::narrate::StakeStory::of(scenario))
            }),
        }
    }
}

impl Observer for Watchers {
    fn record(&mut self, record: &Record, store: &BlockStore) {
        self.metrics.record(record, store);
        if let Some(n) = self.narrator.as_mut() {
            n.record(record, store);
        }
        if let Some(t) = self.tracer.as_mut() {
            t.record(record, store);
        }
        if let Some(p) = self.page.as_mut() {
            p.record(record, store);
        }
    }

    fn wants_messages(&self) -> bool {
        self.metrics.wants_messages()
            || self.narrator.as_ref().is_some_and(Observer::wants_messages)
            || self.tracer.as_ref().is_some_and(Observer::wants_messages)
            || self.page.as_ref().is_some_and(Observer::wants_messages)
    }

    #[inline]
    fn prefetch_node(&self, node: NodeId) {
        self.metrics.prefetch_node(node);
    }
}

impl AsRef<Metrics> for Watchers {
    fn as_ref(&self) -> &Metrics {
        &self.metrics
    }
}

/// Runs a validated scenario and writes every result file into `out_dir`: data files (the
/// trace was streamed during the run), then the replay page if asked for, then figures
/// drawn from them, then the manifest with every file's digest.
fn execute(
    scenario: &Scenario,
    out_dir: &Path,
    show_progress: bool,
    observer: Watchers,
) -> Result<(Summary, BTreeMap<String, String>), Failure> {
    let bar = progress_bar(scenario.run.blocks, !show_progress);
    let progress =
        bar.clone().map(|bar| Box::new(move |n: u64| bar.set_position(n)) as crate::run::Progress);
    let mut outcome = crate::run::run_with(scenario, observer, progress)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let internal = |e: &dyn std::fmt::Display| Failure::Internal(e.to_string());
    let streamed =
        outcome.observer.tracer.take().map(Tracer::finish).transpose().map_err(|e| internal(&e))?;
    // Each file goes to disk as it is rendered, and the run's state is dropped before the
    // figures are drawn: neither holds memory that grows with the run at once.
    let mut sink = FolderSink::new(out_dir).map_err(|e| internal(&e))?;
    let summary = render_into(scenario, &outcome, &mut sink).map_err(|e| internal(&e))?;
    if let Some(page) = &outcome.observer.page {
        let bytes = crate::replay_page::render(scenario, &outcome, page);
        write_bytes(&mut sink, crate::replay_page::FILE_NAME, &bytes).map_err(|e| internal(&e))?;
    }
    let network_digest = crate::world::network_digest(&outcome.network);
    if scenario.resolved.consensus.is_some() {
        for (name, bytes) in crate::consensus::report::files(scenario, &outcome) {
            write_bytes(&mut sink, name, &bytes).map_err(|e| internal(&e))?;
        }
    }
    drop(outcome);
    crate::engine::huge_pages::release_free_memory();
    let mut digests = sink.digests;
    digests.extend(streamed);
    for (path, digest) in draw_run_plots(out_dir).map_err(|e| internal(&e))? {
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        digests.insert(name, digest);
    }
    write_manifest_with_network(out_dir, scenario, Some(&network_digest), &digests)
        .map_err(|e| internal(&e))?;
    Ok((summary, digests))
}

/// Runs a race scenario and writes `summary.json`, then the manifest.
/// Runs every trial of a double-spend scenario and writes `trials.csv`, `summary.json` and
/// the manifest.
fn execute_trials(
    scenario: &Scenario,
    out_dir: &Path,
) -> Result<(crate::run::trials::TrialsSummary, BTreeMap<String, String>), Failure> {
    let (summary, trials) = crate::run::trials::run(scenario)?;
    let internal = |e: &dyn std::fmt::Display| Failure::Internal(e.to_string());
    std::fs::create_dir_all(out_dir)
        .map_err(|e| internal(&format!("{}: {e}", out_dir.display())))?;
    let mut digests = BTreeMap::new();
    for (name, bytes) in crate::run::trials::files(&summary, &trials) {
        write_atomic(&out_dir.join(name), &bytes).map_err(|e| internal(&e))?;
        digests.insert(name.to_string(), sha256_hex(&bytes));
    }
    write_manifest(out_dir, scenario, &digests).map_err(|e| internal(&e))?;
    Ok((summary, digests))
}

fn execute_race(
    scenario: &Scenario,
    out_dir: &Path,
) -> Result<(RaceSummary, BTreeMap<String, String>), Failure> {
    let summary = crate::race_report::run(scenario);
    let internal = |e: &dyn std::fmt::Display| Failure::Internal(e.to_string());
    std::fs::create_dir_all(out_dir)
        .map_err(|e| internal(&format!("{}: {e}", out_dir.display())))?;
    let bytes = summary.to_json();
    write_atomic(&out_dir.join("summary.json"), &bytes).map_err(|e| internal(&e))?;
    let digests = BTreeMap::from([("summary.json".to_string(), sha256_hex(&bytes))]);
    write_manifest(out_dir, scenario, &digests).map_err(|e| internal(&e))?;
    Ok((summary, digests))
}

/// Re-runs a results folder from its manifest into a scratch folder and compares every
/// file's digest with the manifest's.
fn replay(results: &Path) -> Result<(), Failure> {
    let manifest_path = results.join("manifest.json");
    let input = |reason: String| Failure::Input(format!("{}: {reason}", manifest_path.display()));
    let bytes = std::fs::read(&manifest_path).map_err(|e| input(format!("cannot read: {e}")))?;
    let manifest: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| input(format!("not valid JSON: {e}")))?;
    let raw: scenario::RawScenario = serde_json::from_value(manifest["scenario"].clone())
        .map_err(|e| input(format!("field `scenario` is not a scenario: {e}")))?;
    let expected: BTreeMap<String, String> = serde_json::from_value(manifest["files"].clone())
        .map_err(|e| input(format!("field `files` is not a map of digests: {e}")))?;
    let source = PathBuf::from(manifest["scenario_file"].as_str().unwrap_or("manifest.json"));
    let scenario = scenario::from_raw(raw, &source)?;
    let _crash = crate::crash::enter(&scenario, crate::crash::this_command());
    let recorded_version = manifest["forksim_version"].as_str().unwrap_or("unknown");
    if recorded_version != env!("CARGO_PKG_VERSION") {
        eprintln!(
            "warning: the run was made by forksim {recorded_version}; this is {}",
            env!("CARGO_PKG_VERSION")
        );
    }
    // The scratch run goes to the system's temporary folder, so a read-only archive can be
    // replayed; dropping the staging folder removes it.
    let staging =
        stage(&std::env::temp_dir().join(format!("forksim-replay.{}", std::process::id())))?;
    let scratch = staging.dir().to_path_buf();
    let outcome = match Kind::of(&scenario) {
        Kind::Race => execute_race(&scenario, &scratch).map(|(_, d)| d),
        Kind::Trials { .. } => execute_trials(&scenario, &scratch).map(|(_, d)| d),
        Kind::Network => {
            // A page or a trace is part of the run when the manifest lists one.
            let html = expected.contains_key(crate::replay_page::FILE_NAME);
            let mut watchers = Watchers::new(&scenario, html);
            watchers.metrics.spill_into(staging.dir());
            if expected.contains_key(TRACE_CSV) {
                watchers.tracer = Some(
                    Tracer::create(&scratch, scenario.node_names.clone())
                        .map_err(|e| Failure::Internal(e.to_string()))?,
                );
            }
            execute(&scenario, &scratch, false, watchers).map(|(_, d)| d)
        }
    };
    drop(staging);
    let actual = outcome?;
    let mut differing = Vec::new();
    for (name, recorded) in &expected {
        let on_disk = std::fs::read(results.join(name)).ok().map(|b| sha256_hex(&b));
        let status = match (on_disk.as_ref(), actual.get(name)) {
            (None, _) => "MISSING",
            (Some(_), None) => "NOT PRODUCED",
            (Some(disk), Some(new)) if disk != new => "DIFFERS",
            (Some(disk), Some(_)) if disk != recorded => {
                "identical (but the manifest digest differs)"
            }
            _ => "identical",
        };
        if !status.starts_with("identical") {
            differing.push(name.clone());
        }
        say!("  {status:<12} {name}");
    }
    for name in actual.keys().filter(|n| !expected.contains_key(*n)) {
        say!("  {:<12} {name}", "NEW");
        differing.push(name.clone());
    }
    if differing.is_empty() {
        say!(
            "replay of {} (seed {}): all {} files byte-identical",
            results.display(),
            scenario.seed,
            expected.len()
        );
        Ok(())
    } else {
        Err(Failure::Internal(format!(
            "replay of {} differs in {} file(s): {}",
            results.display(),
            differing.len(),
            differing.join(", ")
        )))
    }
}

/// `forksim compare`: prepares one scenario per kind (all checked before any runs), runs
/// each into its own folder of one staged output folder, then writes the comparison's files
/// and a manifest listing them and each kind's manifest digest.
fn compare(
    path: &Path,
    kinds: Option<&str>,
    seed: Option<u64>,
    out: Option<PathBuf>,
    set: &[String],
    quiet: bool,
) -> Result<(), Failure> {
    use crate::compare::{self as cmp, CompareError};
    let to_failure = |e: CompareError| {
        if e.is_input() { Failure::Input(e.to_string()) } else { Failure::Internal(e.to_string()) }
    };
    let overrides = parse_overrides(set)?;
    let kinds = kinds.map(cmp::parse_kinds).transpose().map_err(to_failure)?;
    let prepared = cmp::prepare(path, kinds, &overrides, seed).map_err(to_failure)?;
    for run in &prepared.runs {
        if Kind::of(&run.scenario) != Kind::Network {
            return Err(Failure::Input(format!(
                "{}: compare runs networks; this scenario is a race or a set of trials ([race] or attacker trials > 1)",
                path.display()
            )));
        }
    }
    let out_dir = out.unwrap_or_else(|| PathBuf::from("results/compare").join(&prepared.name));
    let staging = stage(&out_dir)?;
    let wall = Instant::now();
    let progress = crate::sweep::progress::Progress::for_command(
        "compare",
        !quiet,
        &prepared.name,
        prepared.runs.len() as u64,
        0,
    );
    let internal = |e: &dyn std::fmt::Display| Failure::Internal(e.to_string());
    let mut files = BTreeMap::new();
    let mut rows = Vec::new();
    for run in &prepared.runs {
        let dir = cmp::kind_dir(staging.dir(), run.kind);
        std::fs::create_dir(&dir).map_err(|e| internal(&format!("{}: {e}", dir.display())))?;
        let mut watchers = Watchers::new(&run.scenario, false);
        watchers.metrics.spill_into(&dir);
        execute(&run.scenario, &dir, false, watchers)?;
        progress.tick();
        let manifest = std::fs::read(dir.join("manifest.json")).map_err(|e| internal(&e))?;
        files.insert(run.kind.name().to_string(), sha256_hex(&manifest));
        rows.push(cmp::Row::read(run.kind, &dir).map_err(to_failure)?);
    }
    progress.finish();
    cmp::check_network(&rows).map_err(to_failure)?;
    let outputs = [
        (cmp::COMPARE_CSV, cmp::csv(&rows)),
        (cmp::COMPARE_JSON, cmp::json(&prepared.name, prepared.seed, &rows)),
    ];
    for (name, bytes) in &outputs {
        write_atomic(&staging.dir().join(name), bytes).map_err(|e| internal(&e))?;
        files.insert((*name).to_string(), sha256_hex(bytes));
    }
    for (p, digest) in crate::figures::compare::draw_compare(staging.dir(), &prepared.name)
        .map_err(|e| internal(&e))?
    {
        let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        files.insert(name, digest);
    }
    let manifest = serde_json::json!({
        "forksim_version": env!("CARGO_PKG_VERSION"),
        "command": "compare",
        "scenario_file": path.display().to_string(),
        "scenario_name": prepared.name,
        "seed": prepared.seed,
        "kinds": prepared.runs.iter().map(|r| r.kind.name()).collect::<Vec<_>>(),
        "files": files,
    });
    let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| internal(&e))?;
    bytes.push(b'\n');
    write_atomic(&staging.dir().join("manifest.json"), &bytes).map_err(|e| internal(&e))?;
    commit(staging)?;
    if !quiet {
        let title = format!(
            "compare {}: {} kinds on one network (seed {}, network digest {}), wall {:.1} s",
            prepared.name,
            rows.len(),
            prepared.seed,
            rows.first().map_or("", |r| &r.network_digest[..r.network_digest.len().min(12)]),
            wall.elapsed().as_secs_f64()
        );
        say_raw!("{}", cmp::table(&title, &rows));
        say!(
            "  results in {}/ (compare.csv, compare.json, compare.png; a run folder per kind)",
            out_dir.display()
        );
    }
    Ok(())
}

/// A staging folder for results that will replace `out_dir`, created before any work so
/// that an unusable output location is reported at once (exit code 2).
fn stage(out_dir: &Path) -> Result<Staging, Failure> {
    Staging::begin(out_dir).map_err(|e| Failure::Input(e.to_string()))
}

/// Puts a finished run's staging folder in place of its target.
fn commit(staging: Staging) -> Result<(), Failure> {
    staging.commit().map_err(|e| {
        if e.is_input() { Failure::Input(e.to_string()) } else { Failure::Internal(e.to_string()) }
    })
}

/// The sweep's name from its `sweep.json` ("sweep" if unreadable), for figure titles.
fn sweep_name(dir: &Path) -> String {
    std::fs::read(dir.join(crate::sweep::SWEEP_JSON))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["name"].as_str().map(str::to_string))
        .unwrap_or_else(|| "sweep".to_string())
}

/// Maps a sweep error to an exit code: bad input (file, field, shard, journal of another
/// sweep) is 2; I/O and run failures are 1.
fn sweep_failure(e: crate::sweep::SweepError) -> Failure {
    use crate::sweep::SweepError as E;
    match e {
        E::Io { .. } | E::Run { .. } => Failure::Internal(e.to_string()),
        other => Failure::Input(other.to_string()),
    }
}

/// The first few names of a list, for messages.
fn name_list(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
    let more =
        if names.len() > 8 { format!(", ... ({} in all)", names.len()) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

/// A progress bar on a terminal; nothing when output is piped or `quiet`.
fn progress_bar(blocks: u64, quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(blocks);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} mining [{bar:40}] {pos}/{len} blocks  {elapsed} (eta {eta})",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    Some(bar)
}
