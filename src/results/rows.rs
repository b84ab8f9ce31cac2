//! One serde struct per kind of CSV row a finished run writes, and the one way to write and
//! read them.
//!
//! A row struct's fields are its file's columns, with the same names in the same order.
//! Writers serialize rows ([`to_csv_bytes`], or [`writer`] for a file that streams); the
//! header comes from the struct itself, so a file without rows still has its header.
//! Readers ([`read_rows`], [`Table`]) match columns by name, never by position: a column
//! added or moved cannot shift a figure, and a missing or renamed column is an error that
//! names the file and the column ([`RowsError`]).
//!
//! Where the text of a value matters, a small newtype fixes it, and reading accepts exactly
//! that text:
//! - [`Millis`]: whole microseconds, written as milliseconds with three decimals (`1234.567`);
//! - [`Fixed`]: a float with a fixed number of decimals (`0.250000`), or `NaN`, `inf`, `-inf`;
//! - [`Shortest`]: a float in Rust's shortest round-trip form (`0.1`, `2`, `NaN`, `inf`).
//!
//! An absent value is an `Option` and is written as an empty field.
//!
//! The sweep's tables are partly shaped by the sweep: `points.csv` has one column per axis
//! between `point` and the statistics, and `runs.csv` has the axes and then one column per
//! metric (three for a proportion). Only their fixed columns are structs here
//! ([`SweepRunKey`], [`SweepPointStats`]); the rest are found from the header.
//!
//! ```
//! use forksim::results::rows::{Millis, ReorgRow, read_rows_from, to_csv_bytes};
//!
//! let row = ReorgRow {
//!     node: "n1".into(),
//!     time_ms: Millis::from_micros(1_234_567),
//!     depth: 2,
//!     old_tip: "aa".into(),
//!     new_tip: "bb".into(),
//! };
//! let bytes = to_csv_bytes([row.clone()]);
//! assert_eq!(bytes, b"node,time_ms,depth,old_tip,new_tip\nn1,1234.567,2,aa,bb\n");
//! assert_eq!(read_rows_from::<ReorgRow>("reorgs.csv", bytes.as_slice())?, [row]);
//! # Ok::<(), forksim::results::rows::RowsError>(())
//! ```

use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A row of one kind of CSV results file.
pub trait CsvRow: Serialize + DeserializeOwned {
    /// The file's name in a results folder.
    const FILE: &'static str;
}

/// A results file that could not be read as the rows it should hold.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RowsError {
    /// The file is missing, unreadable or not well-formed CSV.
    #[error("{file}: {reason}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The header lacks a column the rows need (renamed, removed or misspelt).
    #[error("{file}: no column `{column}` (the header has: {header})")]
    MissingColumn {
        /// The file.
        file: String,
        /// The column looked for.
        column: String,
        /// The header's columns, comma-separated.
        header: String,
    },
    /// A field does not hold a value of its column's kind.
    #[error("{file}: line {line}, column `{column}` = {value:?}: {reason}")]
    Value {
        /// The file.
        file: String,
        /// Line of the record (the header is line 1).
        line: u64,
        /// The column's name.
        column: String,
        /// The field's text.
        value: String,
        /// Why it is not a value of the column's kind.
        reason: String,
    },
}

// ---------------------------------------------------------------------------------------
// Values whose text matters

/// A time in whole microseconds, written in milliseconds with exactly three decimals
/// (`1234.567`), as [`format_ms`](crate::results::files::format_ms) does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(u64);

impl Millis {
    /// The value of `us` microseconds.
    pub const fn from_micros(us: u64) -> Millis {
        Millis(us)
    }

    /// The value in microseconds.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// The value in milliseconds: the same `f64` as parsing the written text.
    ///
    /// Both are the double nearest to the exact decimal, since microseconds below 2^53 and
    /// 1000 are exact doubles and a division rounds correctly.
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / 1_000.0
    }

    fn parse(text: &str) -> Option<Millis> {
        let (whole, fraction) = text.split_once('.')?;
        if !all_digits(whole) || fraction.len() != 3 || !all_digits(fraction) {
            return None;
        }
        let us = whole.parse::<u64>().ok()?.checked_mul(1_000)?;
        us.checked_add(fraction.parse::<u64>().ok()?).map(Millis)
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1_000, self.0 % 1_000)
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Millis, D::Error> {
        deserialize_text(
            deserializer,
            "milliseconds with three decimals, like 1234.567",
            Millis::parse,
        )
    }
}

/// A float written with exactly `DECIMALS` decimals (`format!("{:.6}", x)` for
/// `Fixed<6>`); `NaN`, `inf` and `-inf` as Rust writes them.
///
/// Reading keeps the parsed text's value, so a value read back is the written text's
/// nearest double, not the float it was written from.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Fixed<const DECIMALS: usize>(pub f64);

/// A float with three decimals.
pub type Fixed3 = Fixed<3>;
/// A float with six decimals.
pub type Fixed6 = Fixed<6>;

impl<const DECIMALS: usize> Fixed<DECIMALS> {
    fn parse(text: &str) -> Option<Self> {
        if !matches!(text, "NaN" | "inf" | "-inf") {
            let digits = text.strip_prefix('-').unwrap_or(text);
            let (whole, fraction) = match DECIMALS {
                0 => (digits, None),
                _ => digits.split_once('.').map(|(w, f)| (w, Some(f)))?,
            };
            let fraction_ok = fraction.is_none_or(|f| f.len() == DECIMALS && all_digits(f));
            if !all_digits(whole) || !fraction_ok {
                return None;
            }
        }
        text.parse().ok().map(Fixed)
    }
}

impl<const DECIMALS: usize> fmt::Display for Fixed<DECIMALS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.*}", DECIMALS, self.0)
    }
}

impl<const DECIMALS: usize> Serialize for Fixed<DECIMALS> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de, const DECIMALS: usize> Deserialize<'de> for Fixed<DECIMALS> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let expecting = match DECIMALS {
            3 => "a number with three decimals, like 0.250",
            6 => "a number with six decimals, like 0.250000",
            _ => "a number with a fixed count of decimals",
        };
        deserialize_text(deserializer, expecting, Fixed::parse)
    }
}

/// A float in Rust's shortest round-trip form (`0.1`, `2`, `1e-7` as `0.0000001`, `NaN`,
/// `inf`), which never depends on the platform; reading gives back the same float.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Shortest(pub f64);

impl fmt::Display for Shortest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Shortest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Shortest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Shortest, D::Error> {
        deserialize_text(deserializer, "a number", |t| t.parse().ok().map(Shortest))
    }
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Deserializes a value from its text with `parse`, which says whether the text is one.
fn deserialize_text<'de, D, T>(
    deserializer: D,
    expecting: &'static str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct Text<T> {
        expecting: &'static str,
        parse: fn(&str) -> Option<T>,
    }
    impl<T> Visitor<'_> for Text<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
            (self.parse)(text).ok_or_else(|| E::custom(format_args!("expected {}", self.expecting)))
        }
    }
    deserializer.deserialize_str(Text { expecting, parse })
}

// ---------------------------------------------------------------------------------------
// The rows of a run

/// A row of `blocks.csv`: one mined block, in mining order (genesis is not a row).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockRow {
    /// Block hash, hex.
    pub hash: String,
    /// Height (genesis is 0).
    pub height: u32,
    /// The parent's hash (absent only for a block without parent).
    pub parent: Option<String>,
    /// Name of the node that mined it.
    pub miner: String,
    /// When it was mined.
    pub mined_at_ms: Millis,
    /// Encoded size.
    pub size_bytes: u64,
    /// Transactions, coinbase included.
    pub tx_count: u32,
    /// Whether the final main chain holds it.
    pub in_main_chain: bool,
}

impl CsvRow for BlockRow {
    const FILE: &'static str = "blocks.csv";
}

/// A row of `propagation.csv`: how long one block took to reach a share of the nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PropagationRow {
    /// Block hash, hex.
    pub hash: String,
    /// Height.
    pub height: u32,
    /// Name of the node that mined it.
    pub miner: String,
    /// Nodes that came to hold it.
    pub nodes_reached: u32,
    /// From mining to 50 % of nodes holding it (absent if it never got there).
    pub p50_ms: Option<Millis>,
    /// From mining to 90 % of nodes holding it.
    pub p90_ms: Option<Millis>,
    /// From mining to every node holding it.
    pub p100_ms: Option<Millis>,
}

impl CsvRow for PropagationRow {
    const FILE: &'static str = "propagation.csv";
}

/// A row of `propagation_cdf.csv`: the time blocks took to reach one share of the nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PropagationCdfRow {
    /// The share of nodes, in percent.
    pub percent_of_nodes: u32,
    /// Blocks that reached it.
    pub blocks: u64,
    /// Median time to reach it, over those blocks.
    pub median_ms: Fixed3,
    /// Mean time.
    pub mean_ms: Fixed3,
    /// 90th-percentile time.
    pub p90_ms: Fixed3,
}

impl CsvRow for PropagationCdfRow {
    const FILE: &'static str = "propagation_cdf.csv";
}

/// A row of `reorgs.csv`: one node switching to another branch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReorgRow {
    /// The node's name.
    pub node: String,
    /// When.
    pub time_ms: Millis,
    /// Blocks disconnected.
    pub depth: u32,
    /// Its tip before, hex.
    pub old_tip: String,
    /// Its tip after, hex.
    pub new_tip: String,
}

impl CsvRow for ReorgRow {
    const FILE: &'static str = "reorgs.csv";
}

/// A row of `miners.csv`: one miner's hash share against its revenue share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinerRow {
    /// The node's name.
    pub node: String,
    /// Its share of the hash power.
    pub hash_share: Fixed6,
    /// Blocks it mined, stale included.
    pub blocks_mined: u64,
    /// Of those, blocks in the final main chain.
    pub blocks_in_main_chain: u64,
    /// Its share of the main chain's blocks.
    pub revenue_share: Fixed6,
}

impl CsvRow for MinerRow {
    const FILE: &'static str = "miners.csv";
}

/// A row of `transactions.csv`: one payment of the workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransactionRow {
    /// Transaction id, hex.
    pub txid: String,
    /// When the wallet created it.
    pub created_ms: Millis,
    /// The node it was submitted to.
    pub submitted_to: String,
    /// Encoded size.
    pub size_bytes: u32,
    /// Fee, in satoshi.
    pub fee_sat: u64,
    /// Fee rate, satoshi per byte.
    pub fee_rate_sat_vb: Fixed3,
    /// Height of the first block that held it, on any branch (absent if none).
    pub first_included_height: Option<u32>,
    /// Height of the final main-chain block that holds it (absent if unconfirmed).
    pub confirmed_height: Option<u32>,
    /// Blocks from that block to the final tip, inclusive (0 if unconfirmed).
    pub confirmations_at_end: u32,
    /// From creation to the mining of that block (absent if unconfirmed).
    pub confirmation_latency_ms: Option<Millis>,
}

impl CsvRow for TransactionRow {
    const FILE: &'static str = "transactions.csv";
}

/// A row of `mempool.csv`: one sample of one node's mempool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MempoolRow {
    /// When it was sampled.
    pub time_ms: Millis,
    /// The node's name.
    pub node: String,
    /// Transactions in its mempool.
    pub txs: u64,
    /// Their size.
    pub bytes: u64,
}

impl CsvRow for MempoolRow {
    const FILE: &'static str = "mempool.csv";
}

/// A row of `attack.csv`: one attacker's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackRow {
    /// The attacker's node name.
    pub node: String,
    /// Strategy name.
    pub strategy: String,
    /// Its share of the hash power.
    pub share: Fixed6,
    /// Blocks it mined.
    pub blocks_mined: u64,
    /// Of those, blocks in the final main chain.
    pub blocks_in_main_chain: u64,
    /// Its share of the main chain's blocks.
    pub relative_revenue: Fixed6,
    /// Blocks it mined that are not in the final main chain.
    pub blocks_lost: u64,
    /// Blocks kept private when mined.
    pub withheld: u64,
    /// Blocks published after being kept private.
    pub published: u64,
    /// Times it gave up a private branch.
    pub gave_up: u64,
    /// Reorgs on other nodes onto a branch holding its blocks.
    pub reorgs_caused: u64,
    /// The deepest of those.
    pub max_reorg_depth_caused: u32,
    /// Selfish mining: `fixed` or `emergent` (absent for other strategies).
    pub gamma_setting: Option<String>,
    /// Selfish mining: γ as measured (absent without ties or for other strategies).
    pub gamma_measured: Option<Fixed6>,
    /// Selfish mining: Eyal and Sirer's relative revenue (absent when undefined).
    pub eyal_sirer_revenue: Option<Fixed6>,
}

impl CsvRow for AttackRow {
    const FILE: &'static str = "attack.csv";
}

/// A row of `trials.csv`: one network run of a double spend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialRow {
    /// Trial index.
    pub trial: u64,
    /// Its seed.
    pub seed: u64,
    /// The merchant shipped.
    pub shipped: bool,
    /// The payment was reversed after shipping.
    pub success: bool,
    /// From payment to reversal, in seconds (absent without success).
    pub time_to_success_s: Option<Fixed3>,
    /// Attacker blocks mined after paying that ended outside the main chain.
    pub attacker_blocks_lost: u64,
    /// Blocks mined in the trial.
    pub blocks_mined: u64,
}

impl CsvRow for TrialRow {
    const FILE: &'static str = "trials.csv";
}

/// A row of `trace.csv`: one record of the run (see [`crate::results::trace`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceRow {
    /// When it happened, in microseconds (for a sent message, when sending started).
    pub time_us: u64,
    /// What happened: `mined`, `accepted`, `sent`, ...
    pub event: String,
    /// The node it happened at (absent for network-wide events).
    pub node: Option<String>,
    /// The other node of a message or of an accepted block.
    pub peer: Option<String>,
    /// The first eight hex digits of the block's hash.
    pub block: Option<String>,
    /// The block's height.
    pub height: Option<u32>,
    /// `key=value` pairs, space-separated (may be empty).
    pub detail: String,
}

impl CsvRow for TraceRow {
    const FILE: &'static str = "trace.csv";
}

// ---------------------------------------------------------------------------------------
// The sweep's tables: fixed columns only

/// The first column of `points.csv`; the axes follow it, then [`SweepPointStats`].
pub const SWEEP_POINT_COLUMN: &str = "point";

/// The fixed first columns of a row of `runs.csv`; the axis values and the metrics follow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepRunKey {
    /// Run index.
    pub run: u64,
    /// Point index.
    pub point: u64,
    /// Replicate within the point.
    pub replicate: u64,
    /// The run's seed.
    pub seed: u64,
}

impl CsvRow for SweepRunKey {
    const FILE: &'static str = "runs.csv";
}

/// A metric's cell in `runs.csv`: a count (a proportion's successes or trials) or a value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SweepCell {
    /// A count.
    Count(u64),
    /// A value.
    Value(Shortest),
}

/// The statistics columns of a row of `points.csv`: one metric at one point (see
/// the sweep statistics module for what they mean for each kind of metric).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPointStats {
    /// The metric's name.
    pub metric: String,
    /// Runs summarised.
    pub runs: u64,
    /// Mean (a proportion's pooled rate).
    pub mean: Shortest,
    /// Standard deviation.
    pub sd: Shortest,
    /// Low end of the 95 % interval.
    pub ci95_low: Shortest,
    /// High end of the 95 % interval.
    pub ci95_high: Shortest,
}

impl CsvRow for SweepPointStats {
    const FILE: &'static str = "points.csv";
}

// ---------------------------------------------------------------------------------------
// Writing

/// The columns of `R`, in file order: the field names its `Deserialize` derive declares.
///
/// # Panics
///
/// If `R` is not a struct with named fields (a row type defect).
pub fn columns<R: CsvRow>() -> &'static [&'static str] {
    let mut fields = None;
    // Stops at the first question the derive asks: which fields the struct has.
    let _ = R::deserialize(FieldNames(&mut fields));
    fields.expect("a CSV row is a struct with named fields")
}

/// A CSV writer over `out` that has written the header of `R`; rows follow with
/// [`csv::Writer::serialize`].
///
/// # Errors
///
/// The CSV writer's error if the header cannot be written.
pub fn writer<R: CsvRow, W: Write>(out: W) -> csv::Result<csv::Writer<W>> {
    // The header is written here, from the struct, so that a file without rows has one.
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(out);
    w.write_record(columns::<R>())?;
    Ok(w)
}

/// Renders `rows` as a CSV file in memory: the header of `R`, then one line per row.
pub fn to_csv_bytes<R: CsvRow>(rows: impl IntoIterator<Item = R>) -> Vec<u8> {
    let mut w = writer::<R, _>(Vec::new()).expect("writing to memory cannot fail");
    for row in rows {
        w.serialize(row).expect("a row serializes to plain fields in memory");
    }
    w.into_inner().expect("flushing to memory cannot fail")
}

/// A deserializer that only records the field names of the struct asked for.
struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

/// What [`FieldNames`] returns once it has the names.
#[derive(Debug)]
struct NamesTaken;

impl fmt::Display for NamesTaken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("only the field names were asked for")
    }
}

impl std::error::Error for NamesTaken {}

impl de::Error for NamesTaken {
    fn custom<T: fmt::Display>(_: T) -> NamesTaken {
        NamesTaken
    }
}

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = NamesTaken;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, NamesTaken> {
        Err(NamesTaken)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, NamesTaken> {
        *self.0 = Some(fields);
        Err(NamesTaken)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

// ---------------------------------------------------------------------------------------
// Reading

/// Reads every row of `R::FILE` in the results folder `dir`, by column name.
///
/// # Errors
///
/// [`RowsError`] naming the file: unreadable, a column missing, or a field that is not a
/// value of its column's kind.
pub fn read_rows<R: CsvRow>(dir: &Path) -> Result<Vec<R>, RowsError> {
    let path = dir.join(R::FILE);
    let file = path.display().to_string();
    let reader = File::open(&path)
        .map_err(|e| RowsError::Read { file: file.clone(), reason: e.to_string() })?;
    read_rows_from(&file, reader)
}

/// Reads every row of CSV text from `reader`, by column name; `file` names it in errors.
///
/// Columns the rows do not need are ignored.
///
/// # Errors
///
/// As [`read_rows`].
pub fn read_rows_from<R: CsvRow>(file: &str, reader: impl Read) -> Result<Vec<R>, RowsError> {
    let mut csv = csv::Reader::from_reader(reader);
    let headers = csv.headers().map_err(|e| unreadable(file, &e))?.clone();
    let indices = column_indices::<R>(file, &headers)?;
    let mut record = csv::StringRecord::new();
    let mut rows = Vec::new();
    while csv.read_record(&mut record).map_err(|e| unreadable(file, &e))? {
        rows.push(row_of(file, &headers, &indices, &record)?);
    }
    Ok(rows)
}

/// Reads the rows of `R::FILE` in the results folder `dir` one at a time, by column name,
/// handing each to `each`: for files too long to hold whole (`blocks.csv` of a million
/// blocks).
///
/// # Errors
///
/// As [`read_rows`], or the first error `each` returns.
pub fn for_each_row<R: CsvRow>(
    dir: &Path,
    mut each: impl FnMut(R) -> Result<(), RowsError>,
) -> Result<(), RowsError> {
    let path = dir.join(R::FILE);
    let file = path.display().to_string();
    let reader = File::open(&path)
        .map_err(|e| RowsError::Read { file: file.clone(), reason: e.to_string() })?;
    let mut csv = csv::Reader::from_reader(std::io::BufReader::new(reader));
    let headers = csv.headers().map_err(|e| unreadable(&file, &e))?.clone();
    let indices = column_indices::<R>(&file, &headers)?;
    let mut record = csv::StringRecord::new();
    while csv.read_record(&mut record).map_err(|e| unreadable(&file, &e))? {
        each(row_of(&file, &headers, &indices, &record)?)?;
    }
    Ok(())
}

/// A CSV results file read whole, for tables whose columns depend on their contents (the
/// sweep's): the header, the records, and the rows of any struct of its fixed columns.
#[derive(Clone, Debug)]
pub struct Table {
    file: String,
    headers: csv::StringRecord,
    records: Vec<csv::StringRecord>,
}

impl Table {
    /// Reads the file at `path`.
    ///
    /// # Errors
    ///
    /// [`RowsError::Read`] naming the file if it is missing or not well-formed CSV.
    pub fn read(path: &Path) -> Result<Table, RowsError> {
        let file = path.display().to_string();
        let reader = File::open(path)
            .map_err(|e| RowsError::Read { file: file.clone(), reason: e.to_string() })?;
        Table::from_reader(&file, reader)
    }

    /// Reads CSV text from `reader`; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// As [`Table::read`].
    pub fn from_reader(file: &str, reader: impl Read) -> Result<Table, RowsError> {
        let mut csv = csv::Reader::from_reader(reader);
        let headers = csv.headers().map_err(|e| unreadable(file, &e))?.clone();
        let records = csv.records().collect::<Result<_, _>>().map_err(|e| unreadable(file, &e))?;
        Ok(Table { file: file.to_string(), headers, records })
    }

    /// The file, as named in errors.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The header.
    pub fn headers(&self) -> &csv::StringRecord {
        &self.headers
    }

    /// The records after the header.
    pub fn records(&self) -> &[csv::StringRecord] {
        &self.records
    }

    /// The index of column `name`.
    ///
    /// # Errors
    ///
    /// [`RowsError::MissingColumn`] if the header has no such column.
    pub fn column(&self, name: &str) -> Result<usize, RowsError> {
        self.headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| missing_column(&self.file, name, &self.headers))
    }

    /// Every record as an `R`, by column name; other columns are ignored.
    ///
    /// # Errors
    ///
    /// As [`read_rows`].
    pub fn rows<R: CsvRow>(&self) -> Result<Vec<R>, RowsError> {
        let indices = column_indices::<R>(&self.file, &self.headers)?;
        self.records.iter().map(|r| row_of(&self.file, &self.headers, &indices, r)).collect()
    }

    /// The error for field `index` of `record`, which is not a value of its column's kind.
    pub fn value_error(
        &self,
        record: &csv::StringRecord,
        index: usize,
        reason: impl Into<String>,
    ) -> RowsError {
        value_error(&self.file, &self.headers, record, index, reason.into())
    }
}

fn unreadable(file: &str, e: &csv::Error) -> RowsError {
    RowsError::Read { file: file.to_string(), reason: e.to_string() }
}

fn missing_column(file: &str, column: &str, headers: &csv::StringRecord) -> RowsError {
    RowsError::MissingColumn {
        file: file.to_string(),
        column: column.to_string(),
        header: headers.iter().collect::<Vec<_>>().join(", "),
    }
}

fn value_error(
    file: &str,
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
    index: usize,
    reason: String,
) -> RowsError {
    RowsError::Value {
        file: file.to_string(),
        line: record.position().map_or(0, csv::Position::line),
        column: headers.get(index).unwrap_or("?").to_string(),
        value: record.get(index).unwrap_or("").to_string(),
        reason,
    }
}

/// Where each column of `R` is in the header, in `R`'s order.
///
/// Every column is required: without this check a missing optional column would read as
/// empty on every line instead of failing.
fn column_indices<R: CsvRow>(
    file: &str,
    headers: &csv::StringRecord,
) -> Result<Vec<usize>, RowsError> {
    columns::<R>()
        .iter()
        .map(|c| {
            headers.iter().position(|h| h == *c).ok_or_else(|| missing_column(file, c, headers))
        })
        .collect()
}

/// One record as an `R`: its fields are picked by column name (`indices`, from
/// [`column_indices`]) into `R`'s order, then read in that order.
fn row_of<R: CsvRow>(
    file: &str,
    headers: &csv::StringRecord,
    indices: &[usize],
    record: &csv::StringRecord,
) -> Result<R, RowsError> {
    let mut ordered = csv::StringRecord::with_capacity(record.as_slice().len(), indices.len());
    for &i in indices {
        ordered.push_field(record.get(i).unwrap_or(""));
    }
    let failed_at = match ordered.deserialize::<Located<R>>(None) {
        Ok(Located::Row(row)) => return Ok(row),
        Ok(Located::FailedAt(k)) => k,
        Err(e) => return Err(unreadable(file, &e)),
    };
    // Read again, untracked, for csv's own account of what is wrong with the field.
    let reason = match ordered.deserialize::<R>(None) {
        Err(e) => match e.kind() {
            csv::ErrorKind::Deserialize { err, .. } => err.kind().to_string(),
            _ => e.to_string(),
        },
        Ok(_) => "read differently the second time".to_string(),
    };
    Err(match failed_at.and_then(|k| indices.get(k)) {
        Some(&index) => value_error(file, headers, record, index, reason),
        None => {
            let line = record.position().map_or(0, csv::Position::line);
            RowsError::Read { file: file.to_string(), reason: format!("line {line}: {reason}") }
        }
    })
}

/// A row, or the position (in the row's column order) of the field it failed at.
///
/// csv locates its own parse errors but not those raised by a field's `Deserialize` (such
/// as [`Millis`]'s), so the row is read through `serde_path_to_error`, which records the
/// position whatever raised the error.
enum Located<R> {
    Row(R),
    FailedAt(Option<usize>),
}

impl<'de, R: Deserialize<'de>> Deserialize<'de> for Located<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut track = serde_path_to_error::Track::new();
        match R::deserialize(serde_path_to_error::Deserializer::new(deserializer, &mut track)) {
            Ok(row) => Ok(Located::Row(row)),
            Err(_) => Ok(Located::FailedAt(track.path().iter().find_map(|s| match s {
                serde_path_to_error::Segment::Seq { index } => Some(*index),
                _ => None,
            }))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header csv itself writes from `R`'s `Serialize` derive.
    fn serialized_header<R: CsvRow>(row: R) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(row).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        text.lines().next().unwrap().to_string()
    }

    /// Writes `rows`, reads them back, and checks both the values and the bytes survive.
    fn round_trip<R: CsvRow + Clone + PartialEq + fmt::Debug>(rows: &[R]) -> String {
        let bytes = to_csv_bytes(rows.iter().cloned());
        let back: Vec<R> = read_rows_from(R::FILE, bytes.as_slice()).unwrap();
        assert_eq!(back, rows, "{}", String::from_utf8_lossy(&bytes));
        assert_eq!(to_csv_bytes(back), bytes, "rewritten differently");
        String::from_utf8(bytes).unwrap()
    }

    fn ms(us: u64) -> Millis {
        Millis::from_micros(us)
    }

    fn block(parent: Option<&str>) -> BlockRow {
        BlockRow {
            hash: "00ab".into(),
            height: 1,
            parent: parent.map(str::to_string),
            miner: "node, with a comma".into(),
            mined_at_ms: ms(600_123_456),
            size_bytes: 285,
            tx_count: 1,
            in_main_chain: true,
        }
    }

    #[test]
    fn millis_are_written_with_three_decimals_and_read_back_exactly() {
        for (us, text) in [(0, "0.000"), (1, "0.001"), (999, "0.999"), (1_234_567, "1234.567")] {
            assert_eq!(ms(us).to_string(), text);
            assert_eq!(Millis::parse(text), Some(ms(us)));
        }
        let max = ms(u64::MAX);
        assert_eq!(Millis::parse(&max.to_string()), Some(max));
        assert_eq!(Millis::parse("18446744073709552.000"), None, "overflow is not a value");
        for bad in ["", "1", "1.", ".500", "1.5", "1.5000", "+1.500", "-1.000", " 1.500", "1.50x"] {
            assert_eq!(Millis::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn millis_as_f64_equal_the_parsed_text() {
        // What the figures used to compute from the text, they now compute from the integer.
        let mut us = 1u64;
        for _ in 0..100_000 {
            us = us.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let v = ms(us >> 12);
            assert_eq!(v.as_ms_f64().to_bits(), v.to_string().parse::<f64>().unwrap().to_bits());
        }
    }

    #[test]
    fn fixed_floats_keep_their_decimals_and_read_back_their_text() {
        assert_eq!(Fixed6::default().to_string(), "0.000000");
        assert_eq!(Fixed::<6>(0.25).to_string(), "0.250000");
        assert_eq!(Fixed::<3>(1.0 / 3.0).to_string(), "0.333");
        assert_eq!(Fixed::<3>(-0.0).to_string(), "-0.000");
        for x in [0.0, 1.0 / 3.0, -2.5, 123456.789, 1e300, f64::INFINITY, f64::NEG_INFINITY] {
            let text = Fixed::<6>(x).to_string();
            assert_eq!(Fixed6::parse(&text).unwrap().to_string(), text);
        }
        assert!(Fixed6::parse("NaN").unwrap().0.is_nan());
        assert_eq!(Fixed::<0>::parse("12"), Some(Fixed(12.0)));
        for bad in ["", "0.25", "0.2500000", "1e5", ".250000", "+0.250000", "0.25000x", "nan"] {
            assert_eq!(Fixed6::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Fixed::<0>::parse("12.0"), None);
    }

    #[test]
    fn shortest_floats_read_back_bit_for_bit() {
        for x in [0.1, 2.0, 1e-7, 1e21, -0.0, f64::MIN_POSITIVE, f64::MAX, f64::INFINITY] {
            let text = Shortest(x).to_string();
            let back: Shortest = text.parse::<f64>().map(Shortest).unwrap();
            assert_eq!(back.0.to_bits(), x.to_bits(), "{text}");
        }
        assert_eq!(Shortest(2.0).to_string(), "2");
        assert_eq!(Shortest(1e-7).to_string(), "0.0000001");
        assert_eq!(Shortest(f64::NAN).to_string(), "NaN");
    }

    #[test]
    fn headers_are_todays_columns_in_todays_order() {
        fn check<R: CsvRow>(row: R, expected: &str) {
            assert_eq!(columns::<R>().join(","), expected, "{}", R::FILE);
            assert_eq!(serialized_header(row), expected, "{}: ser and de disagree", R::FILE);
        }
        check(
            block(None),
            "hash,height,parent,miner,mined_at_ms,size_bytes,tx_count,in_main_chain",
        );
        check(
            PropagationRow {
                hash: "ab".into(),
                height: 1,
                miner: "a".into(),
                nodes_reached: 3,
                p50_ms: None,
                p90_ms: None,
                p100_ms: None,
            },
            "hash,height,miner,nodes_reached,p50_ms,p90_ms,p100_ms",
        );
        check(
            PropagationCdfRow {
                percent_of_nodes: 5,
                blocks: 0,
                median_ms: Fixed(0.0),
                mean_ms: Fixed(0.0),
                p90_ms: Fixed(0.0),
            },
            "percent_of_nodes,blocks,median_ms,mean_ms,p90_ms",
        );
        check(
            ReorgRow {
                node: "a".into(),
                time_ms: ms(1),
                depth: 1,
                old_tip: "x".into(),
                new_tip: "y".into(),
            },
            "node,time_ms,depth,old_tip,new_tip",
        );
        check(
            MinerRow {
                node: "a".into(),
                hash_share: Fixed(0.5),
                blocks_mined: 1,
                blocks_in_main_chain: 1,
                revenue_share: Fixed(1.0),
            },
            "node,hash_share,blocks_mined,blocks_in_main_chain,revenue_share",
        );
        check(
            transaction(false),
            "txid,created_ms,submitted_to,size_bytes,fee_sat,fee_rate_sat_vb,\
             first_included_height,confirmed_height,confirmations_at_end,confirmation_latency_ms",
        );
        check(
            MempoolRow { time_ms: ms(1), node: "a".into(), txs: 2, bytes: 3 },
            "time_ms,node,txs,bytes",
        );
        check(
            attacker(false),
            "node,strategy,share,blocks_mined,blocks_in_main_chain,relative_revenue,\
             blocks_lost,withheld,published,gave_up,reorgs_caused,max_reorg_depth_caused,\
             gamma_setting,gamma_measured,eyal_sirer_revenue",
        );
        check(
            trial(None),
            "trial,seed,shipped,success,time_to_success_s,attacker_blocks_lost,blocks_mined",
        );
        check(trace(false), "time_us,event,node,peer,block,height,detail");
        check(SweepRunKey { run: 0, point: 0, replicate: 0, seed: 0 }, "run,point,replicate,seed");
        check(
            SweepPointStats {
                metric: "m".into(),
                runs: 1,
                mean: Shortest(0.0),
                sd: Shortest(0.0),
                ci95_low: Shortest(0.0),
                ci95_high: Shortest(0.0),
            },
            "metric,runs,mean,sd,ci95_low,ci95_high",
        );
    }

    fn transaction(confirmed: bool) -> TransactionRow {
        TransactionRow {
            txid: "beef".into(),
            created_ms: ms(1_500),
            submitted_to: "n3".into(),
            size_bytes: 226,
            fee_sat: 4_520,
            fee_rate_sat_vb: Fixed(20.0),
            first_included_height: confirmed.then_some(7),
            confirmed_height: confirmed.then_some(7),
            confirmations_at_end: if confirmed { 4 } else { 0 },
            confirmation_latency_ms: confirmed.then_some(ms(61_000_250)),
        }
    }

    fn attacker(selfish: bool) -> AttackRow {
        AttackRow {
            node: "pool".into(),
            strategy: if selfish { "selfish" } else { "private-chain" }.into(),
            share: Fixed(0.3),
            blocks_mined: 30,
            blocks_in_main_chain: 25,
            relative_revenue: Fixed(0.357143),
            blocks_lost: 5,
            withheld: 30,
            published: 28,
            gave_up: 2,
            reorgs_caused: 9,
            max_reorg_depth_caused: 2,
            gamma_setting: selfish.then(|| "emergent".into()),
            gamma_measured: selfish.then_some(Fixed(0.5)),
            eyal_sirer_revenue: selfish.then_some(Fixed(0.353_774)),
        }
    }

    fn trial(time: Option<f64>) -> TrialRow {
        TrialRow {
            trial: 3,
            seed: 1 << 60,
            shipped: true,
            success: time.is_some(),
            time_to_success_s: time.map(Fixed),
            attacker_blocks_lost: 0,
            blocks_mined: 12,
        }
    }

    fn trace(full: bool) -> TraceRow {
        TraceRow {
            time_us: 600_000_000,
            event: if full { "sent" } else { "partitioned" }.into(),
            node: full.then(|| "alice".into()),
            peer: full.then(|| "bob".into()),
            block: full.then(|| "00000abc".into()),
            height: full.then_some(4),
            detail: if full { "kind=inv arrives_us=600050000" } else { "" }.into(),
        }
    }

    #[test]
    fn every_row_reads_back_what_it_wrote_empty_fields_included() {
        let text = round_trip(&[block(Some("0000ff")), block(None)]);
        assert_eq!(
            text,
            "hash,height,parent,miner,mined_at_ms,size_bytes,tx_count,in_main_chain\n\
             00ab,1,0000ff,\"node, with a comma\",600123.456,285,1,true\n\
             00ab,1,,\"node, with a comma\",600123.456,285,1,true\n"
        );
        let text = round_trip(&[PropagationRow {
            hash: "ab".into(),
            height: 9,
            miner: "m".into(),
            nodes_reached: 99,
            p50_ms: Some(ms(120_000)),
            p90_ms: Some(ms(480_001)),
            p100_ms: None,
        }]);
        assert!(text.ends_with("\nab,9,m,99,120.000,480.001,\n"), "{text}");
        round_trip(&[PropagationCdfRow {
            percent_of_nodes: 100,
            blocks: 12,
            median_ms: Fixed(812.25),
            mean_ms: Fixed(f64::INFINITY),
            p90_ms: Fixed(1000.0),
        }]);
        round_trip(&[ReorgRow {
            node: "n1".into(),
            time_ms: ms(0),
            depth: 2,
            old_tip: "aa".into(),
            new_tip: "bb".into(),
        }]);
        round_trip(&[MinerRow {
            node: "n1".into(),
            hash_share: Fixed(0.125),
            blocks_mined: 10,
            blocks_in_main_chain: 9,
            revenue_share: Fixed(0.9),
        }]);
        let text = round_trip(&[transaction(true), transaction(false)]);
        assert!(text.ends_with("\nbeef,1.500,n3,226,4520,20.000,,,0,\n"), "{text}");
        round_trip(&[MempoolRow {
            time_ms: ms(60_000_000),
            node: "n0".into(),
            txs: 5,
            bytes: 1130,
        }]);
        let text = round_trip(&[attacker(true), attacker(false)]);
        assert!(text.ends_with(",9,2,,,\n"), "{text}");
        round_trip(&[trial(Some(3600.5)), trial(None)]);
        let text = round_trip(&[trace(true), trace(false)]);
        assert!(text.ends_with("\n600000000,partitioned,,,,,\n"), "{text}");
        round_trip(&[SweepRunKey { run: 4, point: 1, replicate: 1, seed: u64::MAX }]);
        round_trip(&[SweepPointStats {
            metric: "stale_rate".into(),
            runs: 3,
            mean: Shortest(0.1),
            sd: Shortest(f64::INFINITY),
            ci95_low: Shortest(1e-7),
            ci95_high: Shortest(2.0),
        }]);
    }

    #[test]
    fn a_file_without_rows_still_has_its_header() {
        let bytes = to_csv_bytes(Vec::<ReorgRow>::new());
        assert_eq!(bytes, b"node,time_ms,depth,old_tip,new_tip\n");
        assert!(read_rows_from::<ReorgRow>("reorgs.csv", bytes.as_slice()).unwrap().is_empty());
    }

    #[test]
    fn columns_are_found_by_name_wherever_they_are() {
        let text = "extra,revenue_share,node,blocks_in_main_chain,blocks_mined,hash_share\n\
                    x,0.500000,n1,1,2,0.250000\n";
        let rows: Vec<MinerRow> = read_rows_from("miners.csv", text.as_bytes()).unwrap();
        assert_eq!(rows[0].hash_share, Fixed(0.25));
        assert_eq!(rows[0].revenue_share, Fixed(0.5));
        assert_eq!(rows[0].blocks_mined, 2);
    }

    #[test]
    fn a_missing_or_renamed_column_is_an_error_naming_file_and_column() {
        let text = "node,hash_share,blocks_mined,blocks_in_main_chain,revenue\n\
                    n1,0.250000,2,1,0.500000\n";
        let err = read_rows_from::<MinerRow>("out/miners.csv", text.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, RowsError::MissingColumn { column, .. } if column == "revenue_share")
        );
        let message = err.to_string();
        assert!(message.starts_with("out/miners.csv: no column `revenue_share`"), "{message}");
        // An optional column is required too: without it every value would read as absent.
        let text = "txid,created_ms,submitted_to,size_bytes,fee_sat,fee_rate_sat_vb,\
                    first_included_height,confirmed_height,confirmations_at_end\n";
        let err = read_rows_from::<TransactionRow>("t.csv", text.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("no column `confirmation_latency_ms`"), "{err}");
        // The same through a table.
        let table = Table::from_reader("p.csv", "point,metric\n0,x\n".as_bytes()).unwrap();
        let err = table.rows::<SweepPointStats>().unwrap_err();
        assert!(err.to_string().starts_with("p.csv: no column `runs`"), "{err}");
        assert!(table.column("mean").unwrap_err().to_string().contains("`mean`"));
    }

    #[test]
    fn a_bad_value_names_file_line_and_column() {
        let text = "node,time_ms,depth,old_tip,new_tip\n\
                    a,1.000,1,x,y\n\
                    a,1.5,1,x,y\n";
        let err = read_rows_from::<ReorgRow>("reorgs.csv", text.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "reorgs.csv: line 3, column `time_ms` = \"1.5\": expected milliseconds with three \
             decimals, like 1234.567"
        );
        let text = "node,time_ms,depth,old_tip,new_tip\na,1.000,deep,x,y\n";
        let err = read_rows_from::<ReorgRow>("reorgs.csv", text.as_bytes()).unwrap_err();
        assert!(
            err.to_string().starts_with("reorgs.csv: line 2, column `depth` = \"deep\": "),
            "{err}"
        );
        // Inside an optional value too, wherever the column stands.
        let text = "p90_ms,hash,height,miner,nodes_reached,p50_ms,p100_ms\n\
                    1.5,ab,9,m,99,,\n";
        let err = read_rows_from::<PropagationRow>("p.csv", text.as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("p.csv: line 2, column `p90_ms` = \"1.5\": "), "{err}");
        let text = "hash,height,parent,miner,mined_at_ms,size_bytes,tx_count,in_main_chain\n\
                    ab,1,,m,1.000,285,1,yes\n";
        let err = read_rows_from::<BlockRow>("b.csv", text.as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("b.csv: line 2, column `in_main_chain` = \"yes\": "));
        let text = "node,time_ms,depth,old_tip,new_tip\na,1.000,1,x\n";
        let err = read_rows_from::<ReorgRow>("reorgs.csv", text.as_bytes()).unwrap_err();
        assert!(matches!(err, RowsError::Read { .. }), "{err}");
    }
}
