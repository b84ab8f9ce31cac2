//! The `[workload]` section: wallets paying each other with signed transactions.
//!
//! Kept apart from the rest of validation because it is optional and self-contained: a
//! scenario without `[workload]` runs blocks with filler payload only, exactly as before.

use serde::{Deserialize, Serialize};

use super::ScenarioError;
use super::validate::Origin;
use crate::chain::tx::{Amount, MAX_MONEY, UNITS_PER_COIN};
use crate::id::NodeId;
use crate::time::{SimDuration, SimTime};

/// `[workload]` as written.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    /// Payments per second over the whole network (a Poisson process).
    pub payments_per_s: Option<f64>,
    /// Number of wallets; keys are derived from the run's seed.
    pub wallets: Option<u32>,
    /// Genesis outputs that fund each wallet.
    pub coins_per_wallet: Option<u32>,
    /// Value of each funding output, in coins.
    pub coin_value_coins: Option<f64>,
    /// Smallest payment, in coins (amounts are uniform between the bounds).
    pub amount_min_coins: Option<f64>,
    /// Largest payment, in coins.
    pub amount_max_coins: Option<f64>,
    /// Lowest fee rate, satoshi per byte (fee rates are log-uniform between the bounds).
    pub fee_rate_min_sat_vb: Option<f64>,
    /// Highest fee rate, satoshi per byte.
    pub fee_rate_max_sat_vb: Option<f64>,
    /// Where wallets submit payments: a number of seeded random nodes, or a list of names.
    pub submit_to: Option<toml::Value>,
    /// When payments start, seconds of virtual time.
    pub start_s: Option<f64>,
    /// When payments stop (absent: they go on until mining stops).
    pub stop_s: Option<f64>,
    /// Mean delay before a node announces new transactions on a link (inv trickling).
    pub trickle_interval_s: Option<f64>,
    /// Mempool size limit per node; the lowest fee rates are evicted beyond it.
    pub mempool_max_mb: Option<f64>,
    /// Interval between mempool size samples.
    pub mempool_sample_s: Option<f64>,
    /// How many nodes' mempools are sampled (spread evenly over the node indices).
    pub sample_nodes: Option<u32>,
    /// Pairs of conflicting payments: one coin spent twice, each version sent to one node.
    pub conflicts: Option<Vec<RawConflict>>,
}

/// `[[workload.conflicts]]`: a wallet spends one coin twice at `at_s`, paying two
/// different wallets, and sends one version to each of two nodes.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawConflict {
    /// When, in seconds of virtual time.
    pub at_s: Option<f64>,
    /// The two nodes (names) that receive the first and the second version.
    pub nodes: Option<Vec<String>>,
}

/// Where payments enter the network.
#[derive(Clone, Debug, PartialEq)]
pub enum SubmitTo {
    /// This many nodes, chosen with the workload's seeded stream.
    Random(u32),
    /// These nodes.
    Nodes(Vec<NodeId>),
}

/// A double payment planned by the scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct ConflictSpec {
    /// When both versions are created.
    pub at: SimTime,
    /// The node receiving the first version, and the one receiving the second.
    pub nodes: [NodeId; 2],
}

/// The validated workload.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadSpec {
    /// Payments per second, network-wide.
    pub payments_per_s: f64,
    /// Wallet count.
    pub wallets: u32,
    /// Funding outputs per wallet.
    pub coins_per_wallet: u32,
    /// Value of each funding output.
    pub coin_value: Amount,
    /// Payment amount bounds.
    pub amount_min: Amount,
    /// Upper payment bound.
    pub amount_max: Amount,
    /// Fee rate bounds, satoshi per byte.
    pub fee_rate_min_sat_vb: f64,
    /// Upper fee rate bound.
    pub fee_rate_max_sat_vb: f64,
    /// Submission nodes.
    pub submit_to: SubmitTo,
    /// First payment time.
    pub start: SimTime,
    /// No payments after this time.
    pub stop: Option<SimTime>,
    /// Mean trickle delay per link.
    pub trickle_interval: SimDuration,
    /// Mempool size limit in bytes.
    pub mempool_max_bytes: u64,
    /// Sampling interval of mempool sizes.
    pub mempool_sample: SimDuration,
    /// Number of sampled nodes.
    pub sample_nodes: u32,
    /// Planned double payments.
    pub conflicts: Vec<ConflictSpec>,
}

fn coins(v: f64) -> Amount {
    Amount((v * UNITS_PER_COIN as f64).round() as u64)
}

/// Validates `[workload]`, filling in defaults.
///
/// # Errors
///
/// A [`ScenarioError`] naming the field and value of the first problem.
pub fn validate_workload(
    w: &mut RawWorkload,
    node_names: &[String],
    block_interval_s: f64,
    origin: &Origin<'_>,
) -> Result<WorkloadSpec, ScenarioError> {
    let nodes = node_names.len() as u32;
    let payments_per_s =
        origin.positive("workload.payments_per_s", *w.payments_per_s.get_or_insert(1.0))?;
    let wallets = *w.wallets.get_or_insert(1000);
    origin.check(
        (2..=10_000_000).contains(&wallets),
        "workload.wallets",
        wallets,
        "must be between 2 and 10000000",
    )?;
    let coins_per_wallet = *w.coins_per_wallet.get_or_insert(4);
    origin.check(
        (1..=1000).contains(&coins_per_wallet),
        "workload.coins_per_wallet",
        coins_per_wallet,
        "must be between 1 and 1000",
    )?;
    let coin_value_coins =
        origin.positive("workload.coin_value_coins", *w.coin_value_coins.get_or_insert(1.0))?;
    let coin_value = coins(coin_value_coins);
    let total = u128::from(coin_value.0) * u128::from(wallets) * u128::from(coins_per_wallet);
    origin.check(
        coin_value.0 >= 1 && total <= u128::from(MAX_MONEY.0),
        "workload.coin_value_coins",
        coin_value_coins,
        format!(
            "times {wallets} wallets x {coins_per_wallet} coins must be between 1 satoshi and 21 million coins"
        ),
    )?;
    let amount_min_coins =
        origin.positive("workload.amount_min_coins", *w.amount_min_coins.get_or_insert(0.001))?;
    let amount_max_coins =
        origin.positive("workload.amount_max_coins", *w.amount_max_coins.get_or_insert(0.05))?;
    origin.check(
        amount_max_coins >= amount_min_coins,
        "workload.amount_max_coins",
        amount_max_coins,
        format!("must be at least workload.amount_min_coins = {amount_min_coins}"),
    )?;
    origin.check(
        amount_max_coins < coin_value_coins,
        "workload.amount_max_coins",
        amount_max_coins,
        format!("must be below workload.coin_value_coins = {coin_value_coins} (fees come on top)"),
    )?;
    let fee_rate_min_sat_vb = origin
        .positive("workload.fee_rate_min_sat_vb", *w.fee_rate_min_sat_vb.get_or_insert(1.0))?;
    let fee_rate_max_sat_vb = origin
        .positive("workload.fee_rate_max_sat_vb", *w.fee_rate_max_sat_vb.get_or_insert(100.0))?;
    origin.check(
        fee_rate_max_sat_vb >= fee_rate_min_sat_vb && fee_rate_max_sat_vb <= 100_000.0,
        "workload.fee_rate_max_sat_vb",
        fee_rate_max_sat_vb,
        format!("must be between workload.fee_rate_min_sat_vb = {fee_rate_min_sat_vb} and 100000"),
    )?;
    let submit_default = toml::Value::Integer(i64::from(nodes.min(16)));
    let submit_to = match w.submit_to.get_or_insert(submit_default).clone() {
        toml::Value::Integer(n) => {
            origin.check(
                n >= 1 && n <= i64::from(nodes),
                "workload.submit_to",
                n,
                format!("must be between 1 and network.nodes = {nodes}"),
            )?;
            SubmitTo::Random(n as u32)
        }
        toml::Value::Array(list) if !list.is_empty() => {
            let mut out = Vec::with_capacity(list.len());
            for (i, v) in list.iter().enumerate() {
                let field = format!("workload.submit_to[{i}]");
                let name = v
                    .as_str()
                    .ok_or_else(|| origin.error(&field, v, "expected a node name (a string)"))?;
                out.push(node_by_name(name, node_names, &field, origin)?);
            }
            SubmitTo::Nodes(out)
        }
        other => {
            return Err(origin.error(
                "workload.submit_to",
                other,
                "expected a number of nodes or a non-empty list of node names",
            ));
        }
    };
    let start_s = origin.non_negative("workload.start_s", *w.start_s.get_or_insert(0.0))?;
    let stop = match w.stop_s {
        None => None,
        Some(s) => {
            origin.check(
                s > start_s,
                "workload.stop_s",
                s,
                format!("must be after workload.start_s = {start_s}"),
            )?;
            Some(SimTime::ZERO + SimDuration::from_secs_f64(s))
        }
    };
    let trickle = origin
        .non_negative("workload.trickle_interval_s", *w.trickle_interval_s.get_or_insert(2.0))?;
    let mempool_max_mb =
        origin.positive("workload.mempool_max_mb", *w.mempool_max_mb.get_or_insert(300.0))?;
    let sample_s = origin.positive(
        "workload.mempool_sample_s",
        *w.mempool_sample_s.get_or_insert(block_interval_s / 10.0),
    )?;
    let sample_nodes = *w.sample_nodes.get_or_insert(nodes.min(16));
    origin.check(
        sample_nodes <= nodes,
        "workload.sample_nodes",
        sample_nodes,
        format!("must be at most network.nodes = {nodes}"),
    )?;
    let mut conflicts = Vec::new();
    for (i, c) in w.conflicts.get_or_insert_with(Vec::new).iter().enumerate() {
        let at_field = format!("workload.conflicts[{i}].at_s");
        let at_s = origin.non_negative(&at_field, c.at_s.unwrap_or(0.0))?;
        let field = format!("workload.conflicts[{i}].nodes");
        let names = c.nodes.as_ref().ok_or_else(|| {
            origin.error(&field, "(missing)", "give the two nodes that receive the versions")
        })?;
        origin.check(
            names.len() == 2,
            &field,
            format!("{names:?}"),
            "must name exactly two nodes",
        )?;
        let a = node_by_name(&names[0], node_names, &field, origin)?;
        let b = node_by_name(&names[1], node_names, &field, origin)?;
        conflicts.push(ConflictSpec {
            at: SimTime::ZERO + SimDuration::from_secs_f64(at_s),
            nodes: [a, b],
        });
    }
    Ok(WorkloadSpec {
        payments_per_s,
        wallets,
        coins_per_wallet,
        coin_value,
        amount_min: coins(amount_min_coins),
        amount_max: coins(amount_max_coins),
        fee_rate_min_sat_vb,
        fee_rate_max_sat_vb,
        submit_to,
        start: SimTime::ZERO + SimDuration::from_secs_f64(start_s),
        stop,
        trickle_interval: SimDuration::from_secs_f64(trickle),
        mempool_max_bytes: (mempool_max_mb * 1e6) as u64,
        mempool_sample: SimDuration::from_secs_f64(sample_s),
        sample_nodes,
        conflicts,
    })
}

fn node_by_name(
    name: &str,
    node_names: &[String],
    field: &str,
    origin: &Origin<'_>,
) -> Result<NodeId, ScenarioError> {
    node_names.iter().position(|n| n == name).map(NodeId::from_index).ok_or_else(|| {
        origin.error(field, format!("\"{name}\""), "no node has this name (see network.names)")
    })
}
