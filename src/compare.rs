//! `forksim compare`: one scenario run once per consensus kind on the same seed, and the
//! kinds' results side by side.
//!
//! Teachers and researchers contrast consensus families on one network. Running the same
//! scenario file with `--set consensus.kind=...` five times works, but each kind needs its
//! own settings, the same parties must hold the same weight under every kind, and the
//! numbers then have to be gathered from five folders. This module does that:
//!
//! 1. [`prepare`] turns the scenario into one scenario per kind (see below) and validates
//!    each, so a kind that cannot run fails before anything runs (exit code 2, naming the
//!    kind and the field).
//! 2. The command runs each with `forksim run`'s own code into `OUT/<kind>/`.
//! 3. [`Row::read`] gathers each kind's numbers from its result files alone
//!    (`summary.json`, `consensus.json`, `finality.csv`, `blocks.csv`, `manifest.json`), and
//!    [`table`], [`csv()`] and [`json`] render them; `figures::compare` draws `compare.png`.
//!
//! # One scenario per kind
//!
//! Starting from the scenario file (its `--set` overrides apply to every kind):
//!
//! - **The kind's settings.** If the scenario's `[consensus]` names the kind, its section is
//!   used as written; otherwise the section is `kind = "<kind>"` with that kind's documented
//!   defaults (`scenario::consensus`). An optional `[compare.<kind>]` table in the file
//!   adds or replaces `[consensus]` fields for that kind only, e.g.
//!   `[compare.pos-slot] k = 20`. `[compare] kinds = [...]` gives the default of `--kinds`.
//!   `forksim compare` removes the `[compare]` tables before it validates each kind's
//!   scenario, so every kind's `manifest.json` holds an ordinary scenario that
//!   `forksim replay` re-runs.
//! - **Who holds what.** Stake kinds take `[stake] shares`, or without it the hash-power
//!   shares drawn by `[mining]` (the same nodes as under PoW). For `pow`, `[stake] shares`
//!   become the hash-power shares (`mining.hash_power.shares`), so the same nodes hold the
//!   same weight under every kind. A share of 0 before the last stakeholder cannot be a
//!   hash-power share (a miner needs power): that is an error naming `stake.shares`.
//! - **Names.** Each kind's run is named `<name>-<kind>`; the network, its seed and the
//!   workload are the scenario's, so `network_digest` must be the same for every kind.
//!   The command fails (exit code 1) if it is not.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::consensus::ConsensusKind;
use crate::results::rows::{BlockRow, read_rows};
use crate::scenario::{self, Override, Scenario};

/// The comparison table's file names in the output folder.
pub const COMPARE_CSV: &str = "compare.csv";
/// See [`COMPARE_CSV`].
pub const COMPARE_JSON: &str = "compare.json";

/// The kinds compared when neither `--kinds` nor `[compare] kinds` says.
pub const DEFAULT_KINDS: [ConsensusKind; 3] =
    [ConsensusKind::Pow, ConsensusKind::PosSlot, ConsensusKind::Dpos];

/// Why a comparison cannot be prepared or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    /// The file cannot be read or is not TOML.
    #[error("{file}: {reason}")]
    Read {
        /// The scenario file.
        file: String,
        /// Why.
        reason: String,
    },
    /// `--kinds` or a `[compare]` field is wrong.
    #[error("{file}: {field} = {value}: {reason}")]
    Field {
        /// The scenario file (or the command line).
        file: String,
        /// The field or option.
        field: String,
        /// The value given.
        value: String,
        /// Why it is wrong.
        reason: String,
    },
    /// The scenario is not valid as it stands, before any kind is applied.
    #[error(transparent)]
    Scenario(#[from] scenario::ScenarioError),
    /// One kind's scenario is not valid, or cannot be built.
    #[error("kind {kind}: {reason}")]
    Kind {
        /// The kind.
        kind: ConsensusKind,
        /// The scenario's or the world's error, naming file, field and value.
        reason: String,
    },
    /// A kind's result file lacks a value the table needs.
    #[error("{file}: {reason}")]
    Results {
        /// The file.
        file: String,
        /// What is missing.
        reason: String,
    },
    /// The kinds did not run on the same network.
    #[error(
        "the kinds did not run on the same network: network_digest differs ({0}); the comparison is void"
    )]
    NetworkDiffers(String),
}

impl CompareError {
    /// Whether the user's input is at fault (exit code 2) rather than the run (exit code 1).
    pub fn is_input(&self) -> bool {
        !matches!(self, CompareError::Results { .. } | CompareError::NetworkDiffers(_))
    }
}

/// One kind's scenario, ready to run.
#[derive(Debug)]
pub struct KindRun {
    /// The kind.
    pub kind: ConsensusKind,
    /// Its scenario, validated.
    pub scenario: Scenario,
}

/// A prepared comparison: the base scenario's name and one scenario per kind, in the order
/// asked for.
#[derive(Debug)]
pub struct Prepared {
    /// The scenario's name (`run.name`, or the file's stem).
    pub name: String,
    /// The seed every kind runs with.
    pub seed: u64,
    /// One run per kind.
    pub runs: Vec<KindRun>,
}

/// Parses `--kinds` (`pow,pos-slot,dpos`): known kinds, each once.
///
/// # Errors
///
/// [`CompareError::Field`] naming the option and the value.
pub fn parse_kinds(text: &str) -> Result<Vec<ConsensusKind>, CompareError> {
    let names: Vec<String> = text.split(',').map(|s| s.trim().to_string()).collect();
    kinds_from_names("command line", "--kinds", &names)
}

/// Kinds from their names, each known and given once, at least one.
fn kinds_from_names(
    file: &str,
    field: &str,
    names: &[String],
) -> Result<Vec<ConsensusKind>, CompareError> {
    let choices: Vec<&str> = ConsensusKind::ALL.iter().map(|k| k.name()).collect();
    let bad = |value: &str, reason: String| CompareError::Field {
        file: file.to_string(),
        field: field.to_string(),
        value: format!("\"{value}\""),
        reason,
    };
    let mut kinds = Vec::new();
    for name in names {
        let kind = ConsensusKind::ALL.into_iter().find(|k| k.name() == name).ok_or_else(|| {
            bad(name, format!("is not a consensus kind; choose from {}", choices.join(", ")))
        })?;
        if kinds.contains(&kind) {
            return Err(bad(name, "is listed twice".to_string()));
        }
        kinds.push(kind);
    }
    if kinds.is_empty() {
        return Err(bad("", "name at least one kind".to_string()));
    }
    Ok(kinds)
}

/// Builds and validates one scenario per kind from the file at `path` (see the module
/// docs). `kinds` is `--kinds` if given; otherwise `[compare] kinds`, otherwise
/// [`DEFAULT_KINDS`].
///
/// # Errors
///
/// [`CompareError`]: an unreadable file, a bad `[compare]` table, a base scenario that is
/// not valid, or a kind whose scenario is not valid (naming the kind, the field and the
/// value).
pub fn prepare(
    path: &Path,
    kinds: Option<Vec<ConsensusKind>>,
    overrides: &[Override],
    seed: Option<u64>,
) -> Result<Prepared, CompareError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CompareError::Read { file: file.clone(), reason: e.to_string() })?;
    let mut table: toml::Table = toml::from_str(&text)
        .map_err(|e| CompareError::Read { file: file.clone(), reason: one_line(&e.to_string()) })?;
    let compare = match table.remove("compare") {
        None => toml::Table::new(),
        Some(toml::Value::Table(t)) => t,
        Some(other) => {
            return Err(field_error(&file, "compare", &other, "must be a table"));
        }
    };
    let mut per_kind: BTreeMap<ConsensusKind, toml::Table> = BTreeMap::new();
    let mut listed = None;
    for (key, value) in &compare {
        if key == "kinds" {
            let names: Vec<String> = value
                .as_array()
                .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_string)).collect())
                .ok_or_else(|| {
                    field_error(&file, "compare.kinds", value, "must be a list of kind names")
                })?;
            listed = Some(kinds_from_names(&file, "compare.kinds", &names)?);
            continue;
        }
        let field = format!("compare.{key}");
        let kind = ConsensusKind::ALL.into_iter().find(|k| k.name() == key).ok_or_else(|| {
            field_error(
                &file,
                &field,
                value,
                "is not `kinds` nor a consensus kind (pow, pos-slot, pos-coinage, dpos, poet)",
            )
        })?;
        let settings = value.as_table().ok_or_else(|| {
            field_error(&file, &field, value, "must be a table of [consensus] fields")
        })?;
        if settings.contains_key("kind") {
            return Err(field_error(
                &file,
                &format!("{field}.kind"),
                &settings["kind"],
                "is set by the table's name; leave it out",
            ));
        }
        per_kind.insert(kind, settings.clone());
    }
    let kinds = kinds.or(listed).unwrap_or_else(|| DEFAULT_KINDS.to_vec());

    // The scenario must be valid as written (its own kind), so that general mistakes are
    // reported once, without a kind.
    let base_text = toml::to_string(&table).map_err(|e| CompareError::Read {
        file: file.clone(),
        reason: format!("cannot re-encode the scenario: {e}"),
    })?;
    let base = scenario::from_str(&base_text, path, overrides, seed)?;
    let base_kind = base.consensus.kind;

    let mut runs = Vec::new();
    for kind in kinds {
        let kind_error = |reason: String| CompareError::Kind { kind, reason };
        let mut t = table.clone();
        let mut consensus = match t.remove("consensus") {
            Some(toml::Value::Table(c)) if kind == base_kind => c,
            _ => toml::Table::new(),
        };
        consensus.insert("kind".to_string(), toml::Value::String(kind.name().to_string()));
        if let Some(extra) = per_kind.get(&kind) {
            consensus.extend(extra.clone());
        }
        t.insert("consensus".to_string(), toml::Value::Table(consensus));
        if kind == ConsensusKind::Pow {
            stake_to_hash_power(&mut t, &file).map_err(kind_error)?;
        }
        let run = t.entry("run").or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(run) = run.as_table_mut() {
            run.insert(
                "name".to_string(),
                toml::Value::String(format!("{}-{}", base.name, kind.name())),
            );
        }
        let text = toml::to_string(&t).map_err(|e| kind_error(e.to_string()))?;
        let scenario = scenario::from_str(&text, path, overrides, seed)
            .map_err(|e| kind_error(e.to_string()))?;
        // Building the world checks what only the world knows (enough stakeholders for
        // the producer places, a connected network).
        crate::world::World::build(&scenario, crate::observe::Discard, ())
            .map_err(|e| kind_error(e.to_string()))?;
        runs.push(KindRun { kind, scenario });
    }
    Ok(Prepared { name: base.name.clone(), seed: base.seed, runs })
}

/// For `pow`: `[stake] shares`, if given, become `mining.hash_power.shares` (normalised,
/// trailing zeros dropped), in place of `[mining]`'s own hash power.
fn stake_to_hash_power(t: &mut toml::Table, file: &str) -> Result<(), String> {
    let Some(stake) = t.remove("stake") else { return Ok(()) };
    let Some(shares) = stake.get("shares").and_then(toml::Value::as_array) else {
        return Ok(());
    };
    let mut values: Vec<f64> = Vec::new();
    for (i, v) in shares.iter().enumerate() {
        let x = v
            .as_float()
            .or_else(|| v.as_integer().map(|n| n as f64))
            .ok_or_else(|| format!("{file}: field `stake.shares[{i}]` = {v}: must be a number"))?;
        values.push(x);
    }
    while values.last() == Some(&0.0) {
        values.pop();
    }
    let total: f64 = values.iter().sum();
    if let Some(i) = values.iter().position(|&x| x <= 0.0 || !x.is_finite()) {
        return Err(format!(
            "{file}: field `stake.shares[{i}]` = {}: under pow the stake shares become hash-power shares, and a miner before the last one cannot hold none; list stakeholders first",
            values[i]
        ));
    }
    if values.is_empty() || total <= 0.0 {
        return Ok(());
    }
    let normalised: Vec<toml::Value> =
        values.iter().map(|x| toml::Value::Float(x / total)).collect();
    let mining = t.entry("mining").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(m) = mining.as_table_mut() {
        m.remove("miners");
        let mut hp = toml::Table::new();
        hp.insert("distribution".to_string(), toml::Value::String("shares".to_string()));
        hp.insert("shares".to_string(), toml::Value::Array(normalised));
        m.insert("hash_power".to_string(), toml::Value::Table(hp));
    }
    Ok(())
}

fn field_error(file: &str, field: &str, value: &toml::Value, reason: &str) -> CompareError {
    CompareError::Field {
        file: file.to_string(),
        field: field.to_string(),
        value: one_line(&value.to_string()),
        reason: reason.to_string(),
    }
}

fn one_line(text: &str) -> String {
    text.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// One kind's numbers, read from its results folder.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// The kind.
    pub kind: &'static str,
    /// Blocks produced, stale ones included (`summary.json`: `blocks_mined`).
    pub blocks_produced: u64,
    /// Blocks in the final main chain (`summary.json`: `main_chain_height`).
    pub main_chain_blocks: u64,
    /// Mean time between main-chain blocks, s (`summary.json`: `mean_block_interval_s`).
    pub mean_interval_s: f64,
    /// Share of counted blocks not in the final main chain (`summary.json`: `stale_rate`).
    pub stale_rate: f64,
    /// `pos-slot`: slots in which no stakeholder led (`consensus.json`: `slots.empty`).
    pub empty_slots: Option<u64>,
    /// `dpos`: slots whose scheduled producer made no block (`consensus.json`:
    /// `dpos.missed_slots`).
    pub missed_slots: Option<u64>,
    /// Main-chain blocks final under the kind's rule by the end of the run
    /// (`finality.csv` rows with `final_s`).
    pub final_blocks: u64,
    /// Median of `final_s − produced_s` over those blocks, s.
    pub finality_median_s: Option<f64>,
    /// 90th percentile of the same, s.
    pub finality_p90_s: Option<f64>,
    /// Main-chain transactions (coinbases excluded) per second, from the start to the
    /// production of the main chain's tip (`blocks.csv`).
    pub throughput_tx_s: f64,
    /// Fewest producers holding more than half the main-chain blocks (`consensus.json`).
    pub nakamoto_coefficient: Option<u64>,
    /// Gini coefficient of main-chain blocks over eligible producers (`consensus.json`).
    pub gini: Option<f64>,
    /// Expected hashes behind every block produced (`consensus.json`: `expected_hashes`;
    /// 0 for the stake kinds, which hash nothing to elect).
    pub energy_hashes: f64,
    /// Bytes received per node over the run (`summary.json`: `traffic.bytes_received` /
    /// `nodes`).
    pub bytes_per_node: f64,
    /// `manifest.json`: `network_digest`.
    pub network_digest: String,
}

/// Reads a JSON file of a results folder.
pub(crate) fn read_json(path: &Path) -> Result<serde_json::Value, CompareError> {
    let results =
        |reason: String| CompareError::Results { file: path.display().to_string(), reason };
    let bytes = std::fs::read(path).map_err(|e| results(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| results(format!("not valid JSON: {e}")))
}

/// The value at `pointer` (`/traffic/bytes_received`) of `doc`, read from `path`.
fn need<'a>(
    doc: &'a serde_json::Value,
    path: &Path,
    pointer: &str,
) -> Result<&'a serde_json::Value, CompareError> {
    doc.pointer(pointer).filter(|v| !v.is_null()).ok_or_else(|| CompareError::Results {
        file: path.display().to_string(),
        reason: format!("has no value at {pointer}"),
    })
}

fn need_f64(doc: &serde_json::Value, path: &Path, pointer: &str) -> Result<f64, CompareError> {
    need(doc, path, pointer)?.as_f64().ok_or_else(|| CompareError::Results {
        file: path.display().to_string(),
        reason: format!("{pointer} is not a number"),
    })
}

fn need_u64(doc: &serde_json::Value, path: &Path, pointer: &str) -> Result<u64, CompareError> {
    need(doc, path, pointer)?.as_u64().ok_or_else(|| CompareError::Results {
        file: path.display().to_string(),
        reason: format!("{pointer} is not a whole number"),
    })
}

/// The nearest-rank `p`-quantile (0 < p ≤ 1) of sorted `values`.
fn nearest_rank(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

impl Row {
    /// Reads the numbers of `kind`'s run from its results folder `dir`.
    ///
    /// # Errors
    ///
    /// [`CompareError::Results`] naming the file and the missing value.
    pub fn read(kind: ConsensusKind, dir: &Path) -> Result<Row, CompareError> {
        let summary_path = dir.join("summary.json");
        let summary = read_json(&summary_path)?;
        let consensus_path = dir.join("consensus.json");
        let consensus = read_json(&consensus_path)?;
        let manifest_path = dir.join("manifest.json");
        let manifest = read_json(&manifest_path)?;
        let finality = dir.join("finality.csv");
        let results = |file: &Path, reason: String| CompareError::Results {
            file: file.display().to_string(),
            reason,
        };
        let text =
            std::fs::read_to_string(&finality).map_err(|e| results(&finality, e.to_string()))?;
        let mut lags = Vec::new();
        for (i, line) in text.lines().enumerate().skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            let bad = || {
                results(
                    &finality,
                    format!("line {}: not height,producer,produced_s,final_s", i + 1),
                )
            };
            if cols.len() != 4 {
                return Err(bad());
            }
            if cols[3].is_empty() {
                continue;
            }
            let produced: f64 = cols[2].parse().map_err(|_| bad())?;
            let done: f64 = cols[3].parse().map_err(|_| bad())?;
            lags.push(done - produced);
        }
        lags.sort_by(f64::total_cmp);
        let blocks = read_rows::<BlockRow>(dir)
            .map_err(|e| results(&dir.join("blocks.csv"), e.to_string()))?;
        let mut tip_us = 0;
        let mut txs = 0u64;
        for b in blocks.iter().filter(|b| b.in_main_chain && b.height > 0) {
            tip_us = tip_us.max(b.mined_at_ms.as_micros());
            txs += u64::from(b.tx_count.saturating_sub(1));
        }
        let throughput_tx_s = if tip_us == 0 { 0.0 } else { txs as f64 / (tip_us as f64 / 1e6) };
        let nodes = need_u64(&summary, &summary_path, "/nodes")?.max(1);
        let received = need_u64(&summary, &summary_path, "/traffic/bytes_received")?;
        let opt_u64 =
            |pointer: &str| consensus.pointer(pointer).and_then(serde_json::Value::as_u64);
        Ok(Row {
            kind: kind.name(),
            blocks_produced: need_u64(&summary, &summary_path, "/blocks_mined")?,
            main_chain_blocks: need_u64(&summary, &summary_path, "/main_chain_height")?,
            mean_interval_s: need_f64(&summary, &summary_path, "/mean_block_interval_s")?,
            stale_rate: need_f64(&summary, &summary_path, "/stale_rate")?,
            empty_slots: opt_u64("/slots/empty"),
            missed_slots: opt_u64("/dpos/missed_slots"),
            final_blocks: lags.len() as u64,
            finality_median_s: nearest_rank(&lags, 0.5),
            finality_p90_s: nearest_rank(&lags, 0.9),
            throughput_tx_s,
            nakamoto_coefficient: opt_u64("/nakamoto_coefficient"),
            gini: consensus.pointer("/gini").and_then(serde_json::Value::as_f64),
            energy_hashes: need_f64(&consensus, &consensus_path, "/expected_hashes")?,
            bytes_per_node: received as f64 / nodes as f64,
            network_digest: need(&manifest, &manifest_path, "/network_digest")?
                .as_str()
                .unwrap_or_default()
                .to_string(),
        })
    }
}

/// Checks that every kind ran on the same network.
///
/// # Errors
///
/// [`CompareError::NetworkDiffers`] listing each kind's digest.
pub fn check_network(rows: &[Row]) -> Result<(), CompareError> {
    let first = rows.first().map(|r| r.network_digest.as_str()).unwrap_or_default();
    if rows.iter().all(|r| r.network_digest == first) {
        Ok(())
    } else {
        let each: Vec<String> =
            rows.iter().map(|r| format!("{} {}", r.kind, short(&r.network_digest))).collect();
        Err(CompareError::NetworkDiffers(each.join(", ")))
    }
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(12)]
}

/// The table's lines: a metric per line, a kind per column.
fn lines(rows: &[Row]) -> Vec<(&'static str, Vec<String>)> {
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
    let col = |f: &dyn Fn(&Row) -> String| rows.iter().map(f).collect::<Vec<String>>();
    vec![
        ("blocks produced", col(&|r| r.blocks_produced.to_string())),
        ("main-chain blocks", col(&|r| r.main_chain_blocks.to_string())),
        ("mean interval (s)", col(&|r| format!("{:.2}", r.mean_interval_s))),
        ("stale rate (%)", col(&|r| format!("{:.2}", 100.0 * r.stale_rate))),
        ("empty slots", col(&|r| opt(r.empty_slots.map(|v| v.to_string())))),
        ("missed slots", col(&|r| opt(r.missed_slots.map(|v| v.to_string())))),
        ("final blocks", col(&|r| r.final_blocks.to_string())),
        ("finality median (s)", col(&|r| opt(r.finality_median_s.map(|v| format!("{v:.1}"))))),
        ("finality p90 (s)", col(&|r| opt(r.finality_p90_s.map(|v| format!("{v:.1}"))))),
        ("throughput (tx/s)", col(&|r| format!("{:.1}", r.throughput_tx_s))),
        ("Nakamoto coefficient", col(&|r| opt(r.nakamoto_coefficient.map(|v| v.to_string())))),
        ("Gini of blocks", col(&|r| opt(r.gini.map(|v| format!("{v:.3}"))))),
        ("energy (hashes)", col(&|r| format!("{:.3e}", r.energy_hashes))),
        ("received per node (MB)", col(&|r| format!("{:.1}", r.bytes_per_node / 1e6))),
        ("network digest", col(&|r| short(&r.network_digest).to_string())),
    ]
}

/// The side-by-side table printed by `forksim compare`.
pub fn table(title: &str, rows: &[Row]) -> String {
    let lines = lines(rows);
    let label_w = lines.iter().map(|l| l.0.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..rows.len())
        .map(|i| lines.iter().map(|l| l.1[i].len()).chain([rows[i].kind.len()]).max().unwrap_or(0))
        .collect();
    let mut out = format!("{title}\n");
    let _ = write!(out, "  {:<label_w$}", "");
    for (r, w) in rows.iter().zip(&widths) {
        let _ = write!(out, "  {:>w$}", r.kind);
    }
    out.push('\n');
    for (label, cells) in &lines {
        let _ = write!(out, "  {label:<label_w$}");
        for (c, w) in cells.iter().zip(&widths) {
            let _ = write!(out, "  {c:>w$}");
        }
        out.push('\n');
    }
    out
}

/// `compare.csv`: one line per kind, units in the column names, empty where a kind has no
/// such value.
pub fn csv(rows: &[Row]) -> Vec<u8> {
    let mut out = String::from(
        "kind,blocks_produced,main_chain_blocks,mean_interval_s,stale_rate,empty_slots,\
         missed_slots,final_blocks,finality_median_s,finality_p90_s,throughput_tx_s,\
         nakamoto_coefficient,gini,energy_hashes,bytes_per_node,network_digest\n",
    );
    let o = |v: Option<String>| v.unwrap_or_default();
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{:.6},{:.6},{},{},{},{},{},{:.6},{},{},{:e},{:.0},{}",
            r.kind,
            r.blocks_produced,
            r.main_chain_blocks,
            r.mean_interval_s,
            r.stale_rate,
            o(r.empty_slots.map(|v| v.to_string())),
            o(r.missed_slots.map(|v| v.to_string())),
            r.final_blocks,
            o(r.finality_median_s.map(|v| format!("{v:.6}"))),
            o(r.finality_p90_s.map(|v| format!("{v:.6}"))),
            r.throughput_tx_s,
            o(r.nakamoto_coefficient.map(|v| v.to_string())),
            o(r.gini.map(|v| format!("{v:.6}"))),
            r.energy_hashes,
            r.bytes_per_node,
            r.network_digest,
        );
    }
    out.into_bytes()
}

/// `compare.json`.
#[derive(Serialize)]
struct CompareJson<'a> {
    scenario: &'a str,
    seed: u64,
    network_digest: &'a str,
    kinds: &'a [Row],
}

/// `compare.json`: the scenario, the seed, the common network digest and every row.
pub fn json(name: &str, seed: u64, rows: &[Row]) -> Vec<u8> {
    let doc = CompareJson {
        scenario: name,
        seed,
        network_digest: rows.first().map(|r| r.network_digest.as_str()).unwrap_or_default(),
        kinds: rows,
    };
    let mut bytes = serde_json::to_vec_pretty(&doc).expect("the comparison serializes");
    bytes.push(b'\n');
    bytes
}

/// The folder of `kind`'s run inside the comparison's folder `out`.
pub fn kind_dir(out: &Path, kind: ConsensusKind) -> PathBuf {
    out.join(kind.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_once_each_and_unknown_ones_name_the_option() {
        assert_eq!(
            parse_kinds("pow, dpos").unwrap(),
            vec![ConsensusKind::Pow, ConsensusKind::Dpos]
        );
        let e = parse_kinds("pow,pos").unwrap_err().to_string();
        assert!(e.contains("--kinds") && e.contains("\"pos\"") && e.contains("pos-slot"), "{e}");
        let e = parse_kinds("dpos,dpos").unwrap_err().to_string();
        assert!(e.contains("twice"), "{e}");
    }

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 0.5), Some(5.0));
        assert_eq!(nearest_rank(&v, 0.9), Some(9.0));
        assert_eq!(nearest_rank(&[], 0.5), None);
        assert_eq!(nearest_rank(&[3.0], 0.9), Some(3.0));
    }

    #[test]
    fn pow_takes_stake_shares_as_hash_power_and_refuses_gaps() {
        let mut t: toml::Table =
            toml::from_str("[stake]\nshares = [3, 1, 0]\n[mining]\nminers = 4\n").unwrap();
        stake_to_hash_power(&mut t, "a.toml").unwrap();
        assert!(!t.contains_key("stake"));
        let hp = &t["mining"]["hash_power"];
        assert_eq!(hp["distribution"].as_str(), Some("shares"));
        let shares: Vec<f64> =
            hp["shares"].as_array().unwrap().iter().map(|v| v.as_float().unwrap()).collect();
        assert_eq!(shares, vec![0.75, 0.25]);
        assert!(t["mining"].get("miners").is_none());
        let mut gap: toml::Table = toml::from_str("[stake]\nshares = [3, 0, 1]\n").unwrap();
        let e = stake_to_hash_power(&mut gap, "a.toml").unwrap_err();
        assert!(e.contains("a.toml") && e.contains("stake.shares[1]") && e.contains("= 0"), "{e}");
    }

    fn row(kind: &'static str, digest: &str) -> Row {
        Row {
            kind,
            blocks_produced: 10,
            main_chain_blocks: 9,
            mean_interval_s: 2.0,
            stale_rate: 0.1,
            empty_slots: None,
            missed_slots: Some(3),
            final_blocks: 4,
            finality_median_s: Some(1.5),
            finality_p90_s: None,
            throughput_tx_s: 7.0,
            nakamoto_coefficient: Some(2),
            gini: Some(0.25),
            energy_hashes: 0.0,
            bytes_per_node: 2e6,
            network_digest: digest.to_string(),
        }
    }

    #[test]
    fn differing_networks_void_the_comparison() {
        assert!(check_network(&[row("pow", "ab"), row("dpos", "ab")]).is_ok());
        let e = check_network(&[row("pow", "ab"), row("dpos", "cd")]).unwrap_err();
        assert!(!e.is_input());
        assert!(e.to_string().contains("pow ab, dpos cd"), "{e}");
    }

    #[test]
    fn table_and_csv_show_every_kind_and_leave_missing_values_blank() {
        let rows = [row("pow", "ab"), row("dpos", "ab")];
        let t = table("t", &rows);
        assert!(t.contains("stale rate (%)") && t.contains("10.00"), "{t}");
        assert!(t.lines().any(|l| l.starts_with("  finality p90 (s)") && l.ends_with('-')), "{t}");
        let c = String::from_utf8(csv(&rows)).unwrap();
        let line = c.lines().nth(1).unwrap();
        assert_eq!(
            line,
            "pow,10,9,2.000000,0.100000,,3,4,1.500000,,7.000000,2,0.250000,0e0,2000000,ab"
        );
        assert_eq!(c.lines().count(), 3);
    }
}
