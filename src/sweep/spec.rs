//! The sweep file, read and resolved into the fixed list of runs.
//!
//! Everything a run depends on is decided here, before anything runs: the points (the
//! Cartesian product of the axes, first axis outermost), the replicates, each run's
//! overrides and its seed. An axis may carry `paired` fields that take their own values
//! together with the axis's, one per point (an interval series whose block size scales
//! with the interval), so they add no points. Seeds are derived by hashing, not drawn from a stream, so run
//! 57 has the same seed whether it is run first, last, alone in a shard or after a resume.
//!
//! The file is walked by hand rather than through derived deserializers so that every
//! error names the sweep file, the full field path (`sweep.axis[1].range.steps`) and the
//! value; unknown fields are rejected at every level, as `deny_unknown_fields` would.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::SweepError;
use super::output::sha256_hex;
use crate::scenario::Override;

/// The most runs one sweep may have (points × seeds); a guard against a typo in `steps`
/// or `seeds` filling the memory.
pub const MAX_RUNS: u64 = 1_000_000;

/// One varied field and the values it takes, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Dotted path of the scenario field, e.g. `chain.block_interval_s`.
    pub field: String,
    /// The values, as TOML values (at least one).
    pub values: Vec<toml::Value>,
    /// Fields that vary together with this one: value `i` of each goes with value `i` of
    /// the axis (same length; no further pairing inside).
    pub paired: Vec<Axis>,
}

/// Published points to draw beside the sweep's own (`[sweep.reference]`): their x on the
/// first axis and, per metric, their value at each x. They change no run; the sweep writes
/// them to `reference.csv` for the figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// Where the points come from (the figures' legend).
    pub label: String,
    /// The x of each point, on the first axis.
    pub x: Vec<f64>,
    /// Per metric (in file order of names, sorted): its value at each x.
    pub metrics: Vec<(String, Vec<f64>)>,
}

impl Reference {
    /// `reference.csv`: one row per (point, metric), columns `label,x,metric,value`.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let mut rows = vec![["label".to_string(), "x".into(), "metric".into(), "value".into()]];
        for (metric, values) in &self.metrics {
            for (x, v) in self.x.iter().zip(values) {
                rows.push([self.label.clone(), x.to_string(), metric.clone(), v.to_string()]);
            }
        }
        for row in rows {
            out.write_record(&row).expect("writing to memory cannot fail");
        }
        out.into_inner().expect("writing to memory cannot fail")
    }
}

/// One run of a sweep: which point and replicate, its seed, and the overrides to apply.
#[derive(Clone, Debug, PartialEq)]
pub struct RunPlan {
    /// Run index: `point × seeds + replicate`.
    pub index: u64,
    /// Point index in the Cartesian product of the axes (first axis outermost).
    pub point: u64,
    /// Replicate number within the point, from 0.
    pub replicate: u64,
    /// The run's seed (see [`run_seed`]).
    pub seed: u64,
    /// The sweep's fixed `set` overrides, then one per axis, in axis order (each followed
    /// by its paired fields, in file order).
    pub overrides: Vec<Override>,
}

/// A parsed and resolved sweep file.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    file: PathBuf,
    name: String,
    base_text: String,
    base: PathBuf,
    base_sha256: String,
    seed: u64,
    seeds: u64,
    set: Vec<Override>,
    axes: Vec<Axis>,
    points: u64,
    reference: Option<Reference>,
}

/// The seed of replicate `replicate` of point `point`: the first 8 bytes (little-endian)
/// of SHA-256(`"forksim-sweep-v1"` ‖ sweep seed ‖ point ‖ replicate), each number as 8
/// little-endian bytes.
pub fn run_seed(sweep_seed: u64, point: u64, replicate: u64) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(b"forksim-sweep-v1");
    hasher.update(sweep_seed.to_le_bytes());
    hasher.update(point.to_le_bytes());
    hasher.update(replicate.to_le_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

impl SweepSpec {
    /// The sweep file, as given.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The sweep's name (the default output folder is `results/sweeps/<name>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The base scenario, resolved relative to the sweep file's folder.
    pub fn base_scenario(&self) -> &Path {
        &self.base
    }

    /// The base scenario path as written in the sweep file.
    pub fn base_as_written(&self) -> &str {
        &self.base_text
    }

    /// SHA-256 of the base scenario file's bytes, in hex.
    pub fn base_sha256(&self) -> &str {
        &self.base_sha256
    }

    /// The sweep seed, from which every run's seed is derived.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Replicates per point.
    pub fn seeds(&self) -> u64 {
        self.seeds
    }

    /// The fixed overrides applied to every run, before the axis values.
    pub fn fixed_overrides(&self) -> &[Override] {
        &self.set
    }

    /// The axes, in file order.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// The published points to draw beside the sweep's, if the file gives any.
    pub fn reference(&self) -> Option<&Reference> {
        self.reference.as_ref()
    }

    /// Number of points (the product of the axis lengths; 1 without axes).
    pub fn points_count(&self) -> u64 {
        self.points
    }

    /// Number of runs (points × seeds).
    pub fn runs_count(&self) -> u64 {
        self.points * self.seeds
    }

    /// The default output folder, `results/sweeps/<name>`, relative to the working folder.
    pub fn default_out_dir(&self) -> PathBuf {
        Path::new("results").join("sweeps").join(&self.name)
    }

    /// The index of each axis's value at `point`: the last axis varies fastest.
    pub fn point_coordinates(&self, point: u64) -> Vec<usize> {
        point_coordinates(self.axes.iter().map(|a| a.values.len()), point)
    }

    /// The overrides of every run of `point`: the fixed `set` ones, then one per axis, in
    /// axis order (each followed by its paired fields, in file order).
    pub fn point_overrides(&self, point: u64) -> Vec<Override> {
        let coordinates = self.point_coordinates(point);
        let mut overrides = self.set.clone();
        for (axis, &i) in self.axes.iter().zip(&coordinates) {
            overrides.push(axis_override(&axis.field, &axis.values[i]));
            for paired in &axis.paired {
                overrides.push(axis_override(&paired.field, &paired.values[i]));
            }
        }
        overrides
    }

    /// Every run, sorted by index.
    pub fn runs(&self) -> Vec<RunPlan> {
        let mut runs = Vec::with_capacity(usize::try_from(self.runs_count()).unwrap_or(0));
        for point in 0..self.points {
            let overrides = self.point_overrides(point);
            for replicate in 0..self.seeds {
                runs.push(RunPlan {
                    index: point * self.seeds + replicate,
                    point,
                    replicate,
                    seed: run_seed(self.seed, point, replicate),
                    overrides: overrides.clone(),
                });
            }
        }
        runs
    }
}

/// The coordinates of `point` in a grid with these axis lengths, last axis fastest.
pub(crate) fn point_coordinates(
    lengths: impl DoubleEndedIterator<Item = usize>,
    point: u64,
) -> Vec<usize> {
    let mut rest = point;
    let mut coordinates: Vec<usize> = lengths
        .rev()
        .map(|len| {
            let len = len.max(1) as u64;
            let i = rest % len;
            rest /= len;
            i as usize
        })
        .collect();
    coordinates.reverse();
    coordinates
}

/// The override that sets `field` to `value`.
fn axis_override(field: &str, value: &toml::Value) -> Override {
    Override {
        argument: format!("{field}={value}"),
        path: field.split('.').map(str::to_string).collect(),
        value: value.clone(),
    }
}

/// Top-level tables of a scenario file, none of which a sweep file has.
const SCENARIO_TABLES: [&str; 5] = ["run", "chain", "mining", "network", "node"];

/// Reads and resolves a sweep file.
///
/// # Errors
///
/// Returns [`SweepError::Read`] or [`SweepError::Syntax`] if the file cannot be read or is
/// not TOML, and [`SweepError::Field`] (naming the file, the field path and the value) for
/// an unknown field, a missing or mistyped one, an axis with both or neither of `values`
/// and `range`, an empty axis, a paired field whose values do not match its axis's in
/// number, a field varied twice, `seeds = 0`, a bad `set` entry, an unreadable base scenario,
/// or more than [`MAX_RUNS`] runs.
pub fn load(path: &Path) -> Result<SweepSpec, SweepError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| SweepError::Read { file: file.clone(), reason: e.to_string() })?;
    let root: toml::Table = toml::from_str(&text).map_err(|e| SweepError::Syntax {
        file: file.clone(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let walk = Walker { file: &file };
    walk.only(&root, "", &["sweep"])?;
    let sweep = walk.table(root.get("sweep"), "sweep")?;
    walk.only(sweep, "sweep", &["name", "base", "seed", "seeds", "set", "axis", "reference"])?;

    let name = match sweep.get("name") {
        None => path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        Some(v) => walk.string(Some(v), "sweep.name")?.to_string(),
    };
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
    {
        return Err(walk.err(
            "sweep.name",
            sweep.get("name"),
            "must be usable as a folder name: not empty, no `/` or `\\`",
        ));
    }

    let base_text = walk.string(sweep.get("base"), "sweep.base")?.to_string();
    if base_text.trim().is_empty() {
        return Err(walk.err("sweep.base", sweep.get("base"), "must name the base scenario file"));
    }
    let base = path.parent().unwrap_or(Path::new("")).join(&base_text);
    let base_bytes = std::fs::read(&base).map_err(|e| {
        walk.err(
            "sweep.base",
            sweep.get("base"),
            format!("cannot read the base scenario {}: {e}", base.display()),
        )
    })?;

    let seed = match sweep.get("seed") {
        None => 0,
        v => walk.whole(v, "sweep.seed")?,
    };
    let seeds = match sweep.get("seeds") {
        None => 1,
        v => walk.whole(v, "sweep.seeds")?,
    };
    if seeds == 0 {
        return Err(walk.err("sweep.seeds", sweep.get("seeds"), "needs at least 1 replicate"));
    }

    let mut set = Vec::new();
    if let Some(v) = sweep.get("set") {
        let items = walk.array(Some(v), "sweep.set")?;
        for (i, item) in items.iter().enumerate() {
            let at = format!("sweep.set[{i}]");
            let argument = walk.string(Some(item), &at)?;
            let parsed = Override::parse(argument).map_err(|e| {
                walk.err(&at, Some(item), format!("not a FIELD.PATH=VALUE override ({e})"))
            })?;
            set.push(parsed);
        }
    }

    let mut axes: Vec<Axis> = Vec::new();
    if let Some(v) = sweep.get("axis") {
        let items = walk.array(Some(v), "sweep.axis")?;
        for (i, item) in items.iter().enumerate() {
            let axis = walk.axis(item, &format!("sweep.axis[{i}]"), true)?;
            let varied = |field: &str| {
                axes.iter().any(|a| a.field == field || a.paired.iter().any(|p| p.field == field))
            };
            if varied(&axis.field) {
                return Err(walk.err(
                    &format!("sweep.axis[{i}].field"),
                    item.get("field"),
                    "this field already has an axis; give each field one axis",
                ));
            }
            for (k, paired) in axis.paired.iter().enumerate() {
                let again = paired.field == axis.field
                    || axis.paired[..k].iter().any(|p| p.field == paired.field);
                if varied(&paired.field) || again {
                    let at = format!("sweep.axis[{i}].paired[{k}].field");
                    let value =
                        item.get("paired").and_then(|p| p.get(k)).and_then(|p| p.get("field"));
                    return Err(walk.err(
                        &at,
                        value,
                        "this field is already varied; give each field one axis",
                    ));
                }
            }
            axes.push(axis);
        }
    }

    let mut points: u64 = 1;
    for axis in &axes {
        points = points.saturating_mul(axis.values.len() as u64);
    }
    let runs = points.saturating_mul(seeds);
    if runs > MAX_RUNS {
        return Err(walk.err(
            "sweep.seeds",
            sweep.get("seeds"),
            format!("{points} points × {seeds} seeds is more than the limit of {MAX_RUNS} runs"),
        ));
    }

    let reference = match sweep.get("reference") {
        None => None,
        Some(v) => Some(walk.reference(v, "sweep.reference")?),
    };
    if reference.is_some() && axes.is_empty() {
        return Err(walk.err(
            "sweep.reference",
            sweep.get("reference"),
            "reference points are drawn against the first axis; the sweep has none",
        ));
    }

    Ok(SweepSpec {
        file: path.to_path_buf(),
        reference,
        name,
        base_text,
        base,
        base_sha256: sha256_hex(&base_bytes),
        seed,
        seeds,
        set,
        axes,
        points,
    })
}

/// Reads fields of the sweep file, turning each problem into a [`SweepError::Field`].
struct Walker<'a> {
    file: &'a str,
}

impl Walker<'_> {
    fn err(
        &self,
        field: &str,
        value: Option<&toml::Value>,
        problem: impl Into<String>,
    ) -> SweepError {
        SweepError::Field {
            file: self.file.to_string(),
            field: field.to_string(),
            value: value.map_or_else(|| "(missing)".to_string(), show),
            problem: problem.into(),
        }
    }

    /// Rejects keys of `table` (at path `at`) that are not in `allowed`; a scenario's table
    /// at the top gets a hint that the file is a scenario.
    fn only(&self, table: &toml::Table, at: &str, allowed: &[&str]) -> Result<(), SweepError> {
        for (key, value) in table {
            if !allowed.contains(&key.as_str()) {
                let field = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
                let expected: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
                let mut problem = format!("unknown field, expected one of {}", expected.join(", "));
                if at.is_empty() && SCENARIO_TABLES.contains(&key.as_str()) {
                    problem.push_str(" (this is a scenario: run it with `forksim run FILE`)");
                }
                return Err(self.err(&field, Some(value), problem));
            }
        }
        Ok(())
    }

    fn table<'v>(
        &self,
        value: Option<&'v toml::Value>,
        at: &str,
    ) -> Result<&'v toml::Table, SweepError> {
        match value {
            Some(toml::Value::Table(t)) => Ok(t),
            other => Err(self.err(at, other, "expected a table")),
        }
    }

    fn array<'v>(
        &self,
        value: Option<&'v toml::Value>,
        at: &str,
    ) -> Result<&'v [toml::Value], SweepError> {
        match value {
            Some(toml::Value::Array(a)) => Ok(a),
            other => Err(self.err(at, other, "expected an array")),
        }
    }

    fn string<'v>(&self, value: Option<&'v toml::Value>, at: &str) -> Result<&'v str, SweepError> {
        match value {
            Some(toml::Value::String(s)) => Ok(s),
            other => Err(self.err(at, other, "expected a string")),
        }
    }

    fn whole(&self, value: Option<&toml::Value>, at: &str) -> Result<u64, SweepError> {
        match value {
            Some(toml::Value::Integer(i)) if *i >= 0 => Ok(*i as u64),
            other => Err(self.err(at, other, "expected a whole number ≥ 0")),
        }
    }

    /// Reads one `[[sweep.axis]]` table at path `at` (or, without `pairs`, one of its
    /// `paired` entries, which cannot have their own).
    fn axis(&self, value: &toml::Value, at: &str, pairs: bool) -> Result<Axis, SweepError> {
        let table = self.table(Some(value), at)?;
        let allowed: &[&str] = if pairs {
            &["field", "values", "range", "paired"]
        } else {
            &["field", "values", "range"]
        };
        self.only(table, at, allowed)?;
        let field_at = format!("{at}.field");
        let field = self.string(table.get("field"), &field_at)?;
        let key_ok = |k: &str| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !field.split('.').all(key_ok) {
            return Err(self.err(
                &field_at,
                table.get("field"),
                "expected a dotted scenario field path such as `chain.block_interval_s`",
            ));
        }
        let values = match (table.get("values"), table.get("range")) {
            (Some(_), Some(_)) => {
                return Err(self.err(
                    &format!("{at}.range"),
                    table.get("range"),
                    "an axis has either `values` or `range`, not both",
                ));
            }
            (None, None) => {
                return Err(self.err(
                    &format!("{at}.values"),
                    None,
                    "an axis needs `values = [...]` or `range = { from, to, steps }`",
                ));
            }
            (Some(v), None) => {
                let values = self.array(Some(v), &format!("{at}.values"))?.to_vec();
                if values.is_empty() {
                    return Err(self.err(
                        &format!("{at}.values"),
                        Some(v),
                        "an axis needs at least one value",
                    ));
                }
                values
            }
            (None, Some(r)) => self.range(r, &format!("{at}.range"))?,
        };
        let mut paired = Vec::new();
        if let Some(v) = table.get("paired") {
            let items = self.array(Some(v), &format!("{at}.paired"))?;
            for (k, item) in items.iter().enumerate() {
                let pair_at = format!("{at}.paired[{k}]");
                let pair = self.axis(item, &pair_at, false)?;
                if pair.values.len() != values.len() {
                    let key = if item.get("values").is_some() { "values" } else { "range" };
                    return Err(self.err(
                        &format!("{pair_at}.{key}"),
                        item.get(key),
                        format!(
                            "has {} values but its axis `{field}` has {}; a paired field needs \
                             one value per value of its axis",
                            pair.values.len(),
                            values.len()
                        ),
                    ));
                }
                paired.push(pair);
            }
        }
        Ok(Axis { field: field.to_string(), values, paired })
    }

    /// Reads `[sweep.reference]`: a `label`, an `x` list and one equally long list of
    /// finite numbers per metric.
    fn reference(&self, value: &toml::Value, at: &str) -> Result<Reference, SweepError> {
        let table = self.table(Some(value), at)?;
        let label_at = format!("{at}.label");
        let label = self.string(table.get("label"), &label_at)?;
        if label.trim().is_empty() {
            return Err(self.err(
                &label_at,
                table.get("label"),
                "must say where the points come from",
            ));
        }
        let numbers = |key: &str| -> Result<Vec<f64>, SweepError> {
            let list_at = format!("{at}.{key}");
            let items = self.array(table.get(key), &list_at)?;
            if items.is_empty() {
                return Err(self.err(&list_at, table.get(key), "needs at least one value"));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    toml::Value::Integer(n) => Ok(*n as f64),
                    toml::Value::Float(x) if x.is_finite() => Ok(*x),
                    other => Err(self.err(
                        &format!("{list_at}[{i}]"),
                        Some(other),
                        "expected a finite number",
                    )),
                })
                .collect()
        };
        let x = numbers("x")?;
        let mut metrics = Vec::new();
        for key in table.keys().filter(|k| !matches!(k.as_str(), "label" | "x")) {
            let ok = !key.is_empty()
                && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(self.err(
                    &format!("{at}.{key}"),
                    table.get(key),
                    "expected a metric name such as `stale_rate`",
                ));
            }
            let values = numbers(key)?;
            if values.len() != x.len() {
                return Err(self.err(
                    &format!("{at}.{key}"),
                    table.get(key),
                    format!("has {} values but `x` has {}", values.len(), x.len()),
                ));
            }
            metrics.push((key.clone(), values));
        }
        if metrics.is_empty() {
            return Err(self.err(
                at,
                Some(value),
                "needs at least one metric list beside `label` and `x`, e.g. `stale_rate = [...]`",
            ));
        }
        Ok(Reference { label: label.to_string(), x, metrics })
    }

    /// Expands `range = { from, to, steps }`: `steps` evenly spaced values, both ends
    /// included. Integer ends give integers (and must divide evenly); otherwise floats.
    fn range(&self, value: &toml::Value, at: &str) -> Result<Vec<toml::Value>, SweepError> {
        let table = self.table(Some(value), at)?;
        self.only(table, at, &["from", "to", "steps"])?;
        let steps_at = format!("{at}.steps");
        let steps = self.whole(table.get("steps"), &steps_at)?;
        if steps == 0 {
            return Err(self.err(&steps_at, table.get("steps"), "an axis needs at least one step"));
        }
        if steps > MAX_RUNS {
            return Err(self.err(
                &steps_at,
                table.get("steps"),
                format!("more than the limit of {MAX_RUNS} runs"),
            ));
        }
        let number = |key: &str| -> Result<toml::Value, SweepError> {
            match table.get(key) {
                Some(v @ (toml::Value::Integer(_) | toml::Value::Float(_))) => {
                    if let toml::Value::Float(x) = v
                        && !x.is_finite()
                    {
                        return Err(self.err(&format!("{at}.{key}"), Some(v), "must be finite"));
                    }
                    Ok(v.clone())
                }
                other => Err(self.err(&format!("{at}.{key}"), other, "expected a number")),
            }
        };
        let (from, to) = (number("from")?, number("to")?);
        if steps == 1 {
            if from != to {
                return Err(self.err(
                    &steps_at,
                    table.get("steps"),
                    "one step cannot reach from `from` to a different `to`; use 2 or more",
                ));
            }
            return Ok(vec![from]);
        }
        let last = steps - 1;
        if let (toml::Value::Integer(a), toml::Value::Integer(b)) = (&from, &to) {
            let span = i128::from(*b) - i128::from(*a);
            if span % i128::from(last) != 0 {
                return Err(self.err(
                    &steps_at,
                    table.get("steps"),
                    format!(
                        "from {a} to {b} in {steps} steps is not a whole-number spacing; change \
                         `steps`, or write the ends as floats (e.g. {a}.0) for float values"
                    ),
                ));
            }
            let step = span / i128::from(last);
            return Ok((0..steps)
                .map(|i| toml::Value::Integer((i128::from(*a) + step * i128::from(i)) as i64))
                .collect());
        }
        let as_f64 = |v: &toml::Value| match v {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(x) => *x,
            _ => f64::NAN,
        };
        let (a, b) = (as_f64(&from), as_f64(&to));
        Ok((0..steps)
            .map(|i| {
                let x = if i == last { b } else { a + (b - a) * (i as f64) / (last as f64) };
                toml::Value::Float(x)
            })
            .collect())
    }
}

/// A TOML value as it would be written in a file (tables abbreviated).
fn show(value: &toml::Value) -> String {
    match value {
        toml::Value::Table(_) => "{ ... }".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_from(body: &str) -> Result<SweepSpec, SweepError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.toml"), "[run]\n").unwrap();
        let path = dir.path().join("sw.toml");
        std::fs::write(&path, body).unwrap();
        load(&path)
    }

    fn err_text(body: &str) -> String {
        spec_from(body).unwrap_err().to_string()
    }

    #[test]
    fn golden_seed_is_stable() {
        // Pinned (checked independently with Python's hashlib): changing the derivation
        // changes every published sweep.
        assert_eq!(run_seed(1, 0, 0), 0x58df_4fd2_8233_3790_u64);
        assert_ne!(run_seed(1, 0, 1), run_seed(1, 1, 0));
        assert_ne!(run_seed(1, 0, 0), run_seed(2, 0, 0));
    }

    #[test]
    fn points_are_the_product_with_the_first_axis_outermost() {
        let spec = spec_from(
            r#"
            [sweep]
            base = "base.toml"
            seed = 1
            seeds = 2
            set = ["run.blocks=200"]
            [[sweep.axis]]
            field = "a.x"
            values = [1, 2, 3]
            [[sweep.axis]]
            field = "b"
            values = ["p", "q"]
            "#,
        )
        .unwrap();
        assert_eq!(spec.name(), "sw");
        assert_eq!(spec.points_count(), 6);
        let runs = spec.runs();
        assert_eq!(runs.len(), 12);
        let summary: Vec<(u64, u64, u64, Vec<String>)> = runs
            .iter()
            .map(|r| {
                (
                    r.index,
                    r.point,
                    r.replicate,
                    r.overrides.iter().map(|o| o.argument.clone()).collect(),
                )
            })
            .collect();
        let args = |x: i64, b: &str| {
            vec!["run.blocks=200".to_string(), format!("a.x={x}"), format!("b=\"{b}\"")]
        };
        assert_eq!(summary[0], (0, 0, 0, args(1, "p")));
        assert_eq!(summary[1], (1, 0, 1, args(1, "p")));
        assert_eq!(summary[2], (2, 1, 0, args(1, "q")));
        assert_eq!(summary[5], (5, 2, 1, args(2, "p")));
        assert_eq!(summary[7], (7, 3, 1, args(2, "q")));
        assert_eq!(summary[11], (11, 5, 1, args(3, "q")));
        assert_eq!(runs[3].overrides[1].path, ["a", "x"]);
        assert_eq!(runs[3].overrides[2].value, toml::Value::String("q".into()));
        for r in &runs {
            assert_eq!(r.seed, run_seed(1, r.point, r.replicate));
            // Each axis override reads back the same through the `--set` parser.
            for o in &r.overrides {
                assert_eq!(Override::parse(&o.argument).unwrap(), *o);
            }
        }
    }

    #[test]
    fn ranges_keep_integers_and_space_floats_evenly() {
        let spec = spec_from(
            r#"
            [sweep]
            base = "base.toml"
            [[sweep.axis]]
            field = "mining.block_size_bytes"
            range = { from = 100000, to = 900000, steps = 5 }
            [[sweep.axis]]
            field = "x"
            range = { from = 0, to = 1.0, steps = 5 }
            [[sweep.axis]]
            field = "y"
            range = { from = 10, to = -10, steps = 3 }
            [[sweep.axis]]
            field = "z"
            range = { from = 7, to = 7, steps = 1 }
            "#,
        )
        .unwrap();
        let ints: Vec<toml::Value> =
            [100000, 300000, 500000, 700000, 900000].map(toml::Value::Integer).to_vec();
        assert_eq!(spec.axes()[0].values, ints);
        let floats: Vec<toml::Value> = [0.0, 0.25, 0.5, 0.75, 1.0].map(toml::Value::Float).to_vec();
        assert_eq!(spec.axes()[1].values, floats);
        assert_eq!(spec.axes()[2].values, [10, 0, -10].map(toml::Value::Integer).to_vec());
        assert_eq!(spec.axes()[3].values, vec![toml::Value::Integer(7)]);
        assert_eq!(spec.points_count(), 75);
        assert_eq!(spec.seeds(), 1);
    }

    #[test]
    fn paired_fields_vary_with_their_axis_and_add_no_points() {
        let spec = spec_from(
            r#"
            [sweep]
            base = "base.toml"
            [[sweep.axis]]
            field = "chain.block_interval_s"
            values = [600, 60, 10]
            paired = [
                { field = "mining.block_size_bytes", values = [531081, 53181, 8931] },
                { field = "node.x", range = { from = 1, to = 3, steps = 3 } },
            ]
            [[sweep.axis]]
            field = "network.nodes"
            values = [100, 200]
            "#,
        )
        .unwrap();
        assert_eq!(spec.points_count(), 6);
        let args: Vec<Vec<String>> = spec
            .runs()
            .iter()
            .map(|r| r.overrides.iter().map(|o| o.argument.clone()).collect())
            .collect();
        let row = |t: i64, size: i64, x: i64, n: i64| {
            vec![
                format!("chain.block_interval_s={t}"),
                format!("mining.block_size_bytes={size}"),
                format!("node.x={x}"),
                format!("network.nodes={n}"),
            ]
        };
        assert_eq!(args[0], row(600, 531081, 1, 100));
        assert_eq!(args[1], row(600, 531081, 1, 200));
        assert_eq!(args[3], row(60, 53181, 2, 200));
        assert_eq!(args[4], row(10, 8931, 3, 100));
        assert_eq!(spec.axes()[0].paired.len(), 2);
        assert!(spec.axes()[1].paired.is_empty());
    }

    #[test]
    fn paired_field_errors_name_the_file_the_field_and_the_value() {
        let e = err_text(
            "[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\nvalues = [1, 2]\n\
             paired = [{ field = \"b\", values = [5, 6, 7] }]\n",
        );
        assert!(
            e.contains("sw.toml") && e.contains("`sweep.axis[0].paired[0].values` = [5, 6, 7]"),
            "{e}"
        );
        assert!(e.contains("has 3 values but its axis `a` has 2"), "{e}");

        let e = err_text(
            "[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\nvalues = [1]\n\
             paired = [{ field = \"a\", values = [5] }]\n",
        );
        assert!(
            e.contains("`sweep.axis[0].paired[0].field` = \"a\"") && e.contains("already"),
            "{e}"
        );

        let e = err_text(
            "[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"b\"\nvalues = [1]\n\
             [[sweep.axis]]\nfield = \"a\"\nvalues = [1]\npaired = [{ field = \"b\", values = [5] }]\n",
        );
        assert!(
            e.contains("`sweep.axis[1].paired[0].field` = \"b\"") && e.contains("already"),
            "{e}"
        );

        let e = err_text(
            "[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\nvalues = [1]\n\
             paired = [{ field = \"b\", values = [5], paired = [] }]\n",
        );
        assert!(
            e.contains("`sweep.axis[0].paired[0].paired`") && e.contains("unknown field"),
            "{e}"
        );

        let e = err_text(
            "[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\nvalues = [1]\n\
             paired = [{ field = \"not a path\", values = [5] }]\n",
        );
        assert!(e.contains("`sweep.axis[0].paired[0].field` = \"not a path\""), "{e}");

        let e = err_text(
            "[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\nvalues = [1]\npaired = 3\n",
        );
        assert!(e.contains("`sweep.axis[0].paired` = 3") && e.contains("expected an array"), "{e}");
    }

    #[test]
    fn reference_points_are_read_and_checked() {
        let spec = spec_from(
            "[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\nvalues = [1, 2]\n\
             [sweep.reference]\nlabel = \"them, 2016\"\nx = [1, 2.5]\nstale_rate = [0.1, 0.2]\n",
        )
        .unwrap();
        let r = spec.reference().unwrap();
        assert_eq!((r.label.as_str(), r.x.clone()), ("them, 2016", vec![1.0, 2.5]));
        assert_eq!(r.metrics, vec![("stale_rate".to_string(), vec![0.1, 0.2])]);
        let csv = String::from_utf8(r.to_csv()).unwrap();
        assert_eq!(
            csv,
            "label,x,metric,value\n\"them, 2016\",1,stale_rate,0.1\n\"them, 2016\",2.5,stale_rate,0.2\n"
        );

        let head = "[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\nvalues = [1]\n\
                    [sweep.reference]\nlabel = \"x\"\n";
        let e = err_text(&format!("{head}x = [1, 2]\nstale_rate = [0.1]\n"));
        assert!(e.contains("sw.toml") && e.contains("`sweep.reference.stale_rate` = [0.1]"), "{e}");
        assert!(e.contains("has 1 values but `x` has 2"), "{e}");
        let e = err_text(&format!("{head}x = [1]\nstale_rate = [\"a\"]\n"));
        assert!(e.contains("`sweep.reference.stale_rate[0]` = \"a\""), "{e}");
        let e = err_text(&format!("{head}x = [1]\n\"Stale Rate\" = [1]\n"));
        assert!(e.contains("`sweep.reference.Stale Rate`") && e.contains("metric name"), "{e}");
        let e = err_text(&format!("{head}x = [1]\n"));
        assert!(e.contains("`sweep.reference`") && e.contains("at least one metric"), "{e}");
        let e = err_text(&format!("{head}stale_rate = [1]\n"));
        assert!(e.contains("`sweep.reference.x` = (missing)"), "{e}");
        let e = err_text(
            "[sweep]\nbase = \"base.toml\"\n[sweep.reference]\nlabel = \"x\"\nx = [1]\ns = [1]\n",
        );
        assert!(e.contains("`sweep.reference`") && e.contains("has none"), "{e}");
    }

    #[test]
    fn base_is_resolved_next_to_the_sweep_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sweeps")).unwrap();
        std::fs::write(dir.path().join("base.toml"), "x = 1\n").unwrap();
        let path = dir.path().join("sweeps").join("s.toml");
        std::fs::write(&path, "[sweep]\nname = \"n\"\nbase = \"../base.toml\"\n").unwrap();
        let spec = load(&path).unwrap();
        assert_eq!(spec.base_scenario(), dir.path().join("sweeps").join("../base.toml"));
        assert_eq!(spec.default_out_dir(), Path::new("results/sweeps/n"));
        assert_eq!(spec.runs_count(), 1);
    }

    #[test]
    fn errors_name_the_file_the_field_and_the_value() {
        let e = err_text("[sweep]\nbase = \"base.toml\"\nseeds = 2\nsed = 3\n");
        assert!(e.contains("sw.toml") && e.contains("`sweep.sed` = 3"), "{e}");
        assert!(e.contains("unknown field"), "{e}");

        let e = err_text(
            "[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\nvalues = [1]\n\
             range = { from = 1, to = 2, steps = 2 }\n",
        );
        assert!(e.contains("sw.toml") && e.contains("sweep.axis[0].range"), "{e}");
        assert!(e.contains("not both"), "{e}");

        let e =
            err_text("[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\nvalues = []\n");
        assert!(e.contains("`sweep.axis[0].values` = []") && e.contains("at least one"), "{e}");

        let e = err_text("[sweep]\nbase = \"base.toml\"\nseeds = 0\n");
        assert!(e.contains("sw.toml") && e.contains("`sweep.seeds` = 0"), "{e}");

        let e = err_text(
            "[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\nrange = { from = 1, to = 2, steps = 2, step = 1 }\n",
        );
        assert!(e.contains("`sweep.axis[0].range.step` = 1"), "{e}");

        let e =
            err_text("[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\nvalue = [1]\n");
        assert!(e.contains("`sweep.axis[0].value`") && e.contains("unknown field"), "{e}");

        let e = err_text("[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\n");
        assert!(e.contains("sweep.axis[0].values") && e.contains("(missing)"), "{e}");

        let e = err_text(
            "[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\nrange = { from = 0, to = 10, steps = 4 }\n",
        );
        assert!(e.contains("sweep.axis[0].range.steps") && e.contains("whole-number"), "{e}");

        let e = err_text("[sweep]\nbase = \"missing.toml\"\n");
        assert!(e.contains("`sweep.base` = \"missing.toml\"") && e.contains("cannot read"), "{e}");

        let e = err_text("[sweep]\nbase = \"base.toml\"\nset = [\"network.nodes\"]\n");
        assert!(e.contains("`sweep.set[0]` = \"network.nodes\""), "{e}");

        let e = err_text("[sweep]\nbase = \"base.toml\"\nseed = -1\n");
        assert!(e.contains("`sweep.seed` = -1"), "{e}");

        let e = err_text("[sweeps]\nbase = \"base.toml\"\n");
        assert!(e.contains("`sweeps`") && e.contains("unknown field"), "{e}");

        let e = err_text(
            "[sweep]\nbase = \"base.toml\"\n[[sweep.axis]]\nfield = \"a\"\nvalues = [1]\n[[sweep.axis]]\nfield = \"a\"\nvalues = [2]\n",
        );
        assert!(e.contains("sweep.axis[1].field") && e.contains("already"), "{e}");

        let e = err_text(
            "[sweep]\nbase = \"base.toml\"\nseeds = 1000\n[[sweep.axis]]\nfield = \"a\"\nrange = { from = 1, to = 10000, steps = 10000 }\n",
        );
        assert!(e.contains("limit"), "{e}");

        let e = err_text("[sweep\n");
        assert!(e.contains("sw.toml") && e.contains("not valid TOML"), "{e}");
        let missing = load(Path::new("/nonexistent/sweep.toml")).unwrap_err().to_string();
        assert!(missing.contains("/nonexistent/sweep.toml"), "{missing}");
    }
}
