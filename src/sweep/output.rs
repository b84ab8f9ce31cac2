//! The result files: `sweep.json`, `runs.csv` and `points.csv`.
//!
//! The tables are built from two inputs only, the resolved sweep (exactly what
//! `sweep.json` holds) and the run records sorted by index, by one function used both by a
//! sweep that finishes and by [`merge`](super::merge). Axis values are written from the
//! `cells` stored in `sweep.json` (their text in the tables), never re-parsed from floats,
//! so every path to the tables yields the same bytes.
//!
//! Number format: integers in decimal; floats in Rust's shortest round-trip form (`0.1`,
//! `2`, `NaN`, `inf`), which never depends on the platform. No file holds a wall-clock
//! value. Files are written atomically (temporary, fsync, rename).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::journal::RunRecord;
use super::spec::{SweepSpec, point_coordinates, run_seed};
use super::stats::{Summary, summarize_proportion, summarize_values};
use super::{Metric, POINTS_CSV, RUNS_CSV, SweepError};
/// SHA-256 of bytes in lowercase hex, the same digest run manifests use.
pub use crate::results::files::sha256_hex;
use crate::results::rows::{
    self, SWEEP_POINT_COLUMN, Shortest, SweepCell, SweepPointStats, SweepRunKey,
};

/// Format tag of `sweep.json`.
const SWEEP_FORMAT: &str = "forksim-sweep-v1";

/// The resolved sweep, as stored in `sweep.json`: everything the tables need and every
/// input the results depend on (its SHA-256 identifies the sweep in journals).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolved {
    /// Always `forksim-sweep-v1`.
    pub format: String,
    /// Version of forksim that ran it.
    pub forksim_version: String,
    /// The sweep's name.
    pub name: String,
    /// The base scenario as written in the sweep file (relative to it), so that the file
    /// is the same on every machine of a cluster.
    pub base: String,
    /// SHA-256 of the base scenario's bytes: a changed base is a different sweep.
    pub base_sha256: String,
    /// The sweep seed.
    pub seed: u64,
    /// Replicates per point.
    pub seeds: u64,
    /// The fixed overrides, as `--set` arguments.
    pub set: Vec<String>,
    /// The axes, in order.
    pub axes: Vec<ResolvedAxis>,
    /// Number of points.
    pub points: u64,
    /// Number of runs.
    pub runs: u64,
}

/// One axis in `sweep.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolvedAxis {
    /// Dotted scenario field.
    pub field: String,
    /// Its values, as JSON.
    pub values: Vec<serde_json::Value>,
    /// The same values as written in the tables' cells.
    pub cells: Vec<String>,
    /// Fields that vary together with this one, one value per value of the axis (absent
    /// when there are none, so older sweep descriptions read the same).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paired: Vec<ResolvedAxis>,
}

impl ResolvedAxis {
    fn of(axis: &crate::sweep::spec::Axis) -> ResolvedAxis {
        ResolvedAxis {
            field: axis.field.clone(),
            values: axis.values.iter().map(toml_to_json).collect(),
            cells: axis.values.iter().map(cell).collect(),
            paired: axis.paired.iter().map(ResolvedAxis::of).collect(),
        }
    }
}

impl Resolved {
    /// The resolved form of a loaded sweep.
    pub fn of(spec: &SweepSpec) -> Resolved {
        Resolved {
            format: SWEEP_FORMAT.to_string(),
            forksim_version: env!("CARGO_PKG_VERSION").to_string(),
            name: spec.name().to_string(),
            base: spec.base_as_written().to_string(),
            base_sha256: spec.base_sha256().to_string(),
            seed: spec.seed(),
            seeds: spec.seeds(),
            set: spec.fixed_overrides().iter().map(|o| o.argument.clone()).collect(),
            axes: spec.axes().iter().map(ResolvedAxis::of).collect(),
            points: spec.points_count(),
            runs: spec.runs_count(),
        }
    }

    /// `sweep.json`'s bytes: pretty JSON and a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Parses `sweep.json` (read from `path`, for messages) and checks it is consistent.
    ///
    /// # Errors
    ///
    /// Returns [`SweepError::Io`] naming the file if it is not a sweep description.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Resolved, SweepError> {
        let bad = |reason: String| SweepError::Io { path: path.display().to_string(), reason };
        let resolved: Resolved = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("not a sweep description: {e}")))?;
        if resolved.format != SWEEP_FORMAT {
            return Err(bad(format!("unknown format `{}`", resolved.format)));
        }
        let mut points: u64 = 1;
        for axis in &resolved.axes {
            if axis.cells.is_empty()
                || axis.cells.len() != axis.values.len()
                || axis.paired.iter().any(|p| p.cells.len() != axis.cells.len())
            {
                return Err(bad(format!(
                    "axis `{}` has no values or mismatched cells",
                    axis.field
                )));
            }
            points = points.saturating_mul(axis.cells.len() as u64);
        }
        if points != resolved.points
            || resolved.seeds == 0
            || points.checked_mul(resolved.seeds) != Some(resolved.runs)
            || resolved.runs > super::MAX_RUNS
        {
            return Err(bad("its points, seeds and runs do not agree".into()));
        }
        Ok(resolved)
    }

    /// The cells of the axis values at `point`.
    fn point_cells(&self, point: u64) -> Vec<&str> {
        let coordinates = point_coordinates(self.axes.iter().map(|a| a.cells.len()), point);
        self.axes.iter().zip(coordinates).map(|(a, i)| a.cells[i].as_str()).collect()
    }

    /// Checks that a record's run index exists and its point, replicate and seed are the
    /// ones the sweep gives that run.
    ///
    /// # Errors
    ///
    /// Returns [`RecordError`] saying what does not match.
    pub fn check_record(&self, record: &RunRecord) -> Result<(), RecordError> {
        if record.run >= self.runs {
            return Err(RecordError::BeyondSweep { run: record.run, runs: self.runs });
        }
        let (point, replicate) = (record.run / self.seeds, record.run % self.seeds);
        let seed = run_seed(self.seed, point, replicate);
        if (record.point, record.replicate, record.seed) != (point, replicate, seed) {
            return Err(RecordError::Misplaced {
                run: record.run,
                expected: (point, replicate, seed),
                found: (record.point, record.replicate, record.seed),
            });
        }
        Ok(())
    }
}

/// A journal record that does not fit the sweep; [`SweepError::Record`] names its file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The record's run index is not a run of the sweep.
    #[error("run {run} is beyond the sweep's {runs} runs")]
    BeyondSweep {
        /// The record's run index.
        run: u64,
        /// How many runs the sweep has.
        runs: u64,
    },
    /// The record's point, replicate or seed is not the one the sweep gives its run.
    #[error(
        "run {run} should be point {}, replicate {}, seed {}, but says point {}, replicate {}, \
         seed {}",
        expected.0, expected.1, expected.2, found.0, found.1, found.2
    )]
    Misplaced {
        /// The record's run index.
        run: u64,
        /// The (point, replicate, seed) the sweep gives that run.
        expected: (u64, u64, u64),
        /// The (point, replicate, seed) the record holds.
        found: (u64, u64, u64),
    },
}

/// A TOML value as JSON (for `sweep.json` only; datetimes become strings).
fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(x) => serde_json::Number::from_f64(*x)
            .map_or_else(|| serde_json::Value::String(x.to_string()), serde_json::Value::Number),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(toml_to_json).collect())
        }
        toml::Value::Table(t) => {
            serde_json::Value::Object(t.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect())
        }
    }
}

/// An axis value as written in a table cell: strings bare, numbers as numbers, arrays
/// and tables as compact JSON.
fn cell(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(x) => x.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        other => toml_to_json(other).to_string(),
    }
}

/// Writes `bytes` to `path` atomically: a hidden temporary beside it, fsync, rename.
///
/// # Errors
///
/// Returns [`SweepError::Io`] naming the file if any step fails.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), SweepError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new(""));
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(SweepError::io(path, e));
    }
    // Best effort: make the rename itself durable (not possible on every platform).
    if let Ok(d) = fs::File::open(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Metrics of a run that cannot be tabled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricError {
    /// A proportion counts more successes than trials.
    #[error("`{name}` has {successes} successes in only {trials} trials")]
    SuccessesAboveTrials {
        /// The metric.
        name: String,
        /// Its successes.
        successes: u64,
        /// Its trials.
        trials: u64,
    },
    /// A metric has no name.
    #[error("a metric has an empty name")]
    EmptyName,
    /// A metric's column is already taken, by a fixed column, an axis or another metric.
    #[error("metric `{name}` gives a second `{column}` column")]
    DuplicateColumn {
        /// The metric.
        name: String,
        /// The column it would add a second time.
        column: String,
    },
}

/// Checks a run's metrics can be tabled: unique names that clash with no column, and
/// proportions with no more successes than trials.
///
/// # Errors
///
/// Returns [`MetricError`] saying what is wrong.
pub fn check_metric_names(
    metrics: &[(String, Metric)],
    resolved: &Resolved,
) -> Result<(), MetricError> {
    // The fixed columns of both tables: no metric may take these names.
    let mut columns: Vec<String> = rows::columns::<SweepRunKey>()
        .iter()
        .chain(rows::columns::<SweepPointStats>())
        .chain(&[SWEEP_POINT_COLUMN])
        .map(|c| c.to_string())
        .collect();
    columns.extend(resolved.axes.iter().map(|a| a.field.clone()));
    for (name, metric) in metrics {
        let mut own = vec![name.clone()];
        if let Metric::Proportion { successes, trials } = metric {
            if successes > trials {
                return Err(MetricError::SuccessesAboveTrials {
                    name: name.clone(),
                    successes: *successes,
                    trials: *trials,
                });
            }
            own.push(format!("{name}_successes"));
            own.push(format!("{name}_trials"));
        }
        if name.is_empty() {
            return Err(MetricError::EmptyName);
        }
        for column in own {
            if columns.contains(&column) {
                return Err(MetricError::DuplicateColumn { name: name.clone(), column });
            }
            columns.push(column);
        }
    }
    Ok(())
}

/// The metric names and kinds of `first`, which every other record must repeat.
fn check_schema(records: &[RunRecord]) -> Result<(), SweepError> {
    let Some(first) = records.first() else {
        return Ok(());
    };
    records[1..].iter().try_for_each(|record| check_same_metrics(first, record))
}

/// Checks that `record` returned the metrics `first` did: the same names, kinds and order.
///
/// # Errors
///
/// Returns [`SweepError::Metrics`] naming `record`'s run and listing both.
pub(super) fn check_same_metrics(first: &RunRecord, record: &RunRecord) -> Result<(), SweepError> {
    let shape = |r: &RunRecord| -> Vec<(String, bool)> {
        r.metrics.iter().map(|(n, m)| (n.clone(), matches!(m, Metric::Proportion { .. }))).collect()
    };
    let (expected, found) = (shape(first), shape(record));
    if found == expected {
        return Ok(());
    }
    let describe = |s: &[(String, bool)]| -> String {
        s.iter()
            .map(|(n, p)| if *p { format!("{n} (proportion)") } else { n.clone() })
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(SweepError::Metrics {
        run: record.run,
        problem: format!(
            "returned metrics [{}], but run {} returned [{}]; every run of a sweep must return \
             the same metrics in the same order",
            describe(&found),
            first.run,
            describe(&expected)
        ),
    })
}

/// Writes `runs.csv` and `points.csv` from the complete, sorted records; returns the paths.
///
/// # Errors
///
/// Returns [`SweepError::Merge`] if records are missing or out of order (a bug upstream),
/// [`SweepError::Metrics`] if runs returned different metrics, and [`SweepError::Io`] if a
/// file cannot be written.
pub fn write_tables(
    out_dir: &Path,
    resolved: &Resolved,
    records: &[RunRecord],
) -> Result<Vec<PathBuf>, SweepError> {
    let complete = records.len() as u64 == resolved.runs
        && records.iter().enumerate().all(|(i, r)| r.run == i as u64);
    if !complete {
        return Err(SweepError::Merge {
            problem: format!(
                "{} run records for a sweep of {} runs; cannot write the tables",
                records.len(),
                resolved.runs
            ),
        });
    }
    check_schema(records)?;
    let runs_path = out_dir.join(RUNS_CSV);
    let points_path = out_dir.join(POINTS_CSV);
    let runs = runs_csv(resolved, records).map_err(|e| SweepError::io(&runs_path, e))?;
    let points = points_csv(resolved, records).map_err(|e| SweepError::io(&points_path, e))?;
    atomic_write(&runs_path, &runs)?;
    atomic_write(&points_path, &points)?;
    Ok(vec![runs_path, points_path])
}

/// `runs.csv`: `run,point,replicate,seed,<axes...>,<metric columns...>`, one row per run.
fn runs_csv(resolved: &Resolved, records: &[RunRecord]) -> Result<Vec<u8>, csv::Error> {
    // The header is written by hand: the axis and metric columns depend on the sweep.
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .has_headers(false)
        .from_writer(Vec::new());
    let mut header: Vec<String> =
        rows::columns::<SweepRunKey>().iter().map(|c| c.to_string()).collect();
    header.extend(resolved.axes.iter().map(|a| a.field.clone()));
    if let Some(first) = records.first() {
        for (name, metric) in &first.metrics {
            match metric {
                Metric::Value(_) => header.push(name.clone()),
                Metric::Proportion { .. } => {
                    header.push(format!("{name}_successes"));
                    header.push(format!("{name}_trials"));
                    header.push(name.clone());
                }
            }
        }
    }
    out.write_record(&header)?;
    for r in records {
        let key = SweepRunKey { run: r.run, point: r.point, replicate: r.replicate, seed: r.seed };
        let mut cells = Vec::new();
        for (_, metric) in &r.metrics {
            match *metric {
                Metric::Value(x) => cells.push(SweepCell::Value(Shortest(x))),
                Metric::Proportion { successes, trials } => {
                    cells.push(SweepCell::Count(successes));
                    cells.push(SweepCell::Count(trials));
                    cells.push(SweepCell::Value(Shortest(successes as f64 / trials as f64)));
                }
            }
        }
        out.serialize((key, resolved.point_cells(r.point), cells))?;
    }
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// `points.csv`: `point,<axes...>,metric,runs,mean,sd,ci95_low,ci95_high`, one row per
/// point and metric (see [`super::stats`] for what the columns mean for each kind).
fn points_csv(resolved: &Resolved, records: &[RunRecord]) -> Result<Vec<u8>, csv::Error> {
    // The header is written by hand: the axis columns depend on the sweep.
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .has_headers(false)
        .from_writer(Vec::new());
    let mut header = vec![SWEEP_POINT_COLUMN.to_string()];
    header.extend(resolved.axes.iter().map(|a| a.field.clone()));
    header.extend(rows::columns::<SweepPointStats>().iter().map(|c| c.to_string()));
    out.write_record(&header)?;
    let seeds = resolved.seeds as usize;
    for (point, group) in records.chunks(seeds).enumerate() {
        let cells = resolved.point_cells(point as u64);
        let Some(first) = group.first() else { continue };
        for (m, (name, kind)) in first.metrics.iter().enumerate() {
            let summary: Summary = match kind {
                Metric::Value(_) => {
                    let xs: Vec<f64> = group
                        .iter()
                        .map(|r| match r.metrics[m].1 {
                            Metric::Value(x) => x,
                            Metric::Proportion { .. } => f64::NAN,
                        })
                        .collect();
                    summarize_values(&xs)
                }
                Metric::Proportion { .. } => {
                    let counts: Vec<(u64, u64)> = group
                        .iter()
                        .map(|r| match r.metrics[m].1 {
                            Metric::Proportion { successes, trials } => (successes, trials),
                            Metric::Value(_) => (0, 0),
                        })
                        .collect();
                    summarize_proportion(&counts)
                }
            };
            let stats = SweepPointStats {
                metric: name.clone(),
                runs: summary.runs,
                mean: Shortest(summary.mean),
                sd: Shortest(summary.sd),
                ci95_low: Shortest(summary.ci95_low),
                ci95_high: Shortest(summary.ci95_high),
            };
            out.serialize((point, &cells, stats))?;
        }
    }
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
