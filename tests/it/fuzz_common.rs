//! What the fuzz targets share: a fixed proptest configuration per target (so CI explores
//! the same inputs on every run and a failure reproduces), hostile TOML values, and
//! structured mutations of a TOML tree (drop, replace or insert a field anywhere).
//!
//! A target fails on a panic (proptest catches it, shrinks the input and reports it), and on
//! an error message that does not name its source.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngSeed};

/// The configuration of a target: `cases` inputs from a fixed seed, no failure files
/// written into the source tree (a failure is fixed and kept as a named regression test).
pub fn config(cases: u32, seed: u64) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 4_096,
        ..Config::default()
    }
}

/// Names the simulator knows, so mutations reach past "unknown name" checks.
pub const WORDS: &[&str] = &[
    "random",
    "small_world",
    "scale_free",
    "complete",
    "edges",
    "regions",
    "constant",
    "uniform",
    "lognormal",
    "pareto",
    "none",
    "simblock",
    "shared",
    "fifo",
    "block-fifo",
    "until-arrival",
    "inv",
    "push",
    "flood",
    "compact",
    "fixed",
    "equal",
    "shares",
    "normal",
    "exponential",
    "sampled",
    "ground",
    "2015",
    "2019",
    "bitcoin-2015",
    "bitcoin-2018",
    "bitcoin-2019",
    "litecoin",
    "dogecoin",
    "global",
    "double_spend",
    "selfish_mining",
    "private-chain",
    "double-spend",
    "selfish",
    "honest",
    "emergent",
    "relay",
    "header",
    "block",
    "miners",
    "attackers",
    "all",
    "n0",
    "n1",
    "n99",
    "",
];

/// Integers at and around the limits the checks draw.
const EDGE_INTEGERS: &[i64] = &[
    0,
    -1,
    1,
    2,
    3,
    7,
    11,
    100,
    125,
    1_000,
    2_016,
    1_000_000,
    1_000_001,
    10_000_000,
    4_294_967_000,
    u32::MAX as i64,
    u32::MAX as i64 + 1,
    i64::MAX,
    i64::MIN,
];

/// Floats at the edges: zero, tiny, huge, infinite, not a number.
const EDGE_FLOATS: &[f64] = &[
    0.0,
    -0.0,
    0.5,
    1.0,
    -1.0,
    1e-300,
    5e-324,
    1e9,
    1e15,
    1e300,
    f64::MAX,
    f64::MIN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

/// A scalar TOML value, biased to edge numbers and known names.
pub fn scalar() -> impl Strategy<Value = toml::Value> {
    use toml::Value as V;
    prop_oneof![
        3 => prop::sample::select(EDGE_INTEGERS).prop_map(V::Integer),
        2 => any::<i64>().prop_map(V::Integer),
        2 => (-5i64..200).prop_map(V::Integer),
        3 => prop::sample::select(EDGE_FLOATS).prop_map(V::Float),
        2 => any::<f64>().prop_map(V::Float),
        1 => any::<bool>().prop_map(V::Boolean),
        4 => prop::sample::select(WORDS).prop_map(|w| V::String(w.to_string())),
        1 => "[a-z0-9_.\\-]{0,12}".prop_map(V::String),
        1 => ".{0,6}".prop_map(V::String),
    ]
}

/// Any TOML value: scalars, and arrays and tables of them (two levels deep).
pub fn value() -> impl Strategy<Value = toml::Value> {
    scalar().prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(toml::Value::Array),
            prop::collection::vec(("[a-z_]{1,10}", inner), 0..3)
                .prop_map(|kv| toml::Value::Table(kv.into_iter().collect())),
        ]
    })
}

/// One change to a TOML tree; `Index`es pick among the tree's paths at the time of use.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Remove a field or an array entry.
    Drop(Index),
    /// Replace a field or an entry with another value (often of another type).
    Replace(Index, toml::Value),
    /// Add a field to a table (a known or an unknown name), or an entry to an array.
    Insert(Index, String, toml::Value),
}

/// A mutation of a tree.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => any::<Index>().prop_map(Mutation::Drop),
        5 => (any::<Index>(), value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        2 => (any::<Index>(), field_name(), value()).prop_map(|(i, k, v)| Mutation::Insert(i, k, v)),
    ]
}

/// A field name: usually one the scenario format has somewhere, sometimes a new one.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(FIELD_NAMES).prop_map(str::to_string),
        1 => "[a-z_]{1,12}",
    ]
}

/// Field names of the scenario format (any table), for insertions.
const FIELD_NAMES: &[&str] = &[
    "name",
    "seed",
    "blocks",
    "max_time_s",
    "max_events",
    "settle_blocks",
    "drain_s",
    "block_interval_s",
    "retarget_interval",
    "max_block_size_bytes",
    "genesis_time",
    "pow_limit_bits",
    "mode",
    "network_hashrate_hs",
    "grind_hashes",
    "miners",
    "hash_power",
    "block_size_bytes",
    "tx_size_bytes",
    "preset",
    "distribution",
    "shares",
    "min",
    "max",
    "mean",
    "sd",
    "alpha",
    "nodes",
    "names",
    "regions",
    "topology",
    "latency",
    "bandwidth",
    "relay",
    "eclipse",
    "group",
    "region",
    "kind",
    "outbound",
    "inbound_max",
    "neighbors",
    "rewire_probability",
    "attach",
    "edges",
    "model",
    "table",
    "jitter",
    "jitter_shape",
    "ms",
    "min_ms",
    "max_ms",
    "median_ms",
    "sigma",
    "per_message",
    "matrix_ms",
    "upload_bps",
    "download_bps",
    "uplink",
    "protocol",
    "compact_share",
    "workload",
    "race",
    "attacker",
    "timeline",
    "node",
    "strategy",
    "share",
    "gamma",
    "merchant",
    "z",
    "pay_at_s",
    "trials",
    "at_s",
    "partition",
    "heal",
    "leave",
    "rejoin",
    "q",
    "victim",
    "attackers",
    "mesh",
    "payments_per_s",
    "wallets",
    "submit_to",
    "conflicts",
    "start_s",
    "stop_s",
];

/// One step of a path into a TOML tree.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Entry(usize),
}

/// Every path in `table` (tables, arrays and leaves), in document order.
fn paths(table: &toml::Table) -> Vec<Vec<Step>> {
    fn walk(value: &toml::Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        out.push(at.clone());
        match value {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    at.push(Step::Key(k.clone()));
                    walk(v, at, out);
                    at.pop();
                }
            }
            toml::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    at.push(Step::Entry(i));
                    walk(v, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (k, v) in table {
        let mut at = vec![Step::Key(k.clone())];
        walk(v, &mut at, &mut out);
    }
    out
}

/// The value at `path`, for changing.
fn at_mut<'a>(table: &'a mut toml::Table, path: &[Step]) -> Option<&'a mut toml::Value> {
    let (Step::Key(first), rest) = path.split_first()? else { return None };
    let mut v = table.get_mut(first)?;
    for step in rest {
        v = match (step, v) {
            (Step::Key(k), toml::Value::Table(t)) => t.get_mut(k)?,
            (Step::Entry(i), toml::Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Applies `m` to `table` (a mutation that finds nothing to change adds a top-level field).
pub fn apply(table: &mut toml::Table, m: &Mutation) {
    let all = paths(table);
    let pick = |i: &Index| (!all.is_empty()).then(|| all[i.index(all.len())].clone());
    match m {
        Mutation::Drop(i) => {
            let Some(path) = pick(i) else { return };
            let (last, parent) = path.split_last().expect("paths are never empty");
            let container = if parent.is_empty() { None } else { at_mut(table, parent) };
            match (last, container) {
                (Step::Key(k), None) => {
                    table.remove(k);
                }
                (Step::Key(k), Some(toml::Value::Table(t))) => {
                    t.remove(k);
                }
                (Step::Entry(i), Some(toml::Value::Array(a))) if *i < a.len() => {
                    a.remove(*i);
                }
                _ => {}
            }
        }
        Mutation::Replace(i, value) => {
            if let Some(slot) = pick(i).and_then(|p| at_mut(table, &p)) {
                *slot = value.clone();
            }
        }
        Mutation::Insert(i, key, value) => match pick(i).and_then(|p| at_mut(table, &p)) {
            Some(toml::Value::Table(t)) => {
                t.insert(key.clone(), value.clone());
            }
            Some(toml::Value::Array(a)) => a.push(value.clone()),
            _ => {
                table.insert(key.clone(), value.clone());
            }
        },
    }
}

/// The text a mutated tree is written as; some trees (a table inside a value array beside
/// scalars) have no TOML text, and are then written as the inline form of each field.
pub fn to_text(table: &toml::Table) -> String {
    toml::to_string(table)
        .unwrap_or_else(|_| table.iter().map(|(k, v)| format!("{k} = {v}\n")).collect::<String>())
}

/// Cuts `text` at a character boundary near `at` (a truncated file).
pub fn truncate(text: &str, at: Index) -> &str {
    let mut cut = at.index(text.len() + 1);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}
