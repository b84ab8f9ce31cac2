//! Meaning checks: from the raw scenario to the typed [`Scenario`], with every default filled.
//!
//! Each check reports the field path and the value, and whether it came from the file or a
//! `--set`. Defaults are written back into the raw tree, so the resolved scenario in the
//! manifest names every setting the run used.

use std::fmt::Display;
use std::path::Path;

use super::RaceSpec;
use super::attack;
use super::overrides::{origin_of, show};
use super::raw::{
    RawBandwidth, RawHashPower, RawLatency, RawRace, RawRelay, RawScenario, RawTopology,
};
use super::{
    Announce, ChainSpec, HashPowerSpec, MiningMode, MiningSpec, NodeSpec, Override, Refetch,
    RelayProtocol, RelaySpec, RunSpec, Scenario, ScenarioError,
};
use crate::chain::CompactTarget;
use crate::chain::store::{DEFAULT_PRUNE_DEPTH, MIN_PRUNE_DEPTH};
use crate::mining::pools;
use crate::network::latency::{Jitter, LinkLatencySpec, MessageLatency};
use crate::network::measured_bandwidth::{MEASURED_BANDWIDTH_NAMES, MeasuredBandwidth};
use crate::network::presets;
use crate::network::topology::{OutboundDegree, TopologySpec};
use crate::network::transport::{TransferSpec, Uplink};
use crate::network::{BandwidthSpec, NetworkSpec};
use crate::time::{SimDuration, SimTime};

/// Most hashes per block ground mode will grind for real (about 2.5 s of CPU per block).
pub const GROUND_HASHES_MAX: f64 = 16_777_216.0;

/// `network.topology.kind`.
const TOPOLOGY_KINDS: [&str; 5] = ["random", "small_world", "scale_free", "complete", "edges"];
/// `network.latency.model`.
const LATENCY_MODELS: [&str; 4] = ["regions", "constant", "uniform", "lognormal"];
/// `network.bandwidth.model`.
const BANDWIDTH_MODELS: [&str; 2] = ["regions", "constant"];
/// `network.latency.per_message`.
const PER_MESSAGE_MODELS: [&str; 4] = ["simblock", "pareto", "lognormal", "none"];
/// `mining.hash_power.distribution`.
const DISTRIBUTIONS: [&str; 6] = ["equal", "shares", "uniform", "normal", "exponential", "pareto"];
/// `race.kind`.
const RACE_KINDS: [&str; 3] = ["double_spend", "selfish_mining", "nothing_at_stake"];

/// Where values came from, for messages.
pub struct Origin<'a> {
    file: &'a str,
    overrides: &'a [Override],
}

impl<'a> Origin<'a> {
    /// Values came from `file`, possibly changed by `overrides`.
    pub fn new(file: &'a str, overrides: &'a [Override]) -> Self {
        Origin { file, overrides }
    }

    /// A field error.
    pub(super) fn error(
        &self,
        field: &str,
        value: impl Display,
        problem: impl Display,
    ) -> ScenarioError {
        ScenarioError::Field {
            origin: origin_of(field, self.file, self.overrides),
            field: field.to_string(),
            value: value.to_string(),
            problem: problem.to_string(),
        }
    }

    /// Fails with `problem` unless `ok`.
    pub(super) fn check(
        &self,
        ok: bool,
        field: &str,
        value: impl Display,
        problem: impl Display,
    ) -> Result<(), ScenarioError> {
        if ok { Ok(()) } else { Err(self.error(field, value, problem)) }
    }

    /// A finite number greater than zero.
    pub(super) fn positive(&self, field: &str, v: f64) -> Result<f64, ScenarioError> {
        self.check(v.is_finite() && v > 0.0, field, v, "must be a number greater than 0")?;
        Ok(v)
    }

    /// A finite number at least zero.
    pub(super) fn non_negative(&self, field: &str, v: f64) -> Result<f64, ScenarioError> {
        self.check(v.is_finite() && v >= 0.0, field, v, "must be a number at least 0")?;
        Ok(v)
    }

    /// A count of peers per node: at most `network.nodes` - 1, the most peers a node can
    /// have.
    pub(super) fn peer_count(&self, field: &str, v: u32, nodes: u32) -> Result<u32, ScenarioError> {
        self.check(
            v < nodes,
            field,
            v,
            format!(
                "must be at most network.nodes - 1 = {}, the most peers a node can have",
                nodes - 1
            ),
        )?;
        Ok(v)
    }

    /// A probability.
    pub(super) fn probability(&self, field: &str, v: f64) -> Result<f64, ScenarioError> {
        self.check((0.0..=1.0).contains(&v), field, v, "must be a probability between 0 and 1")?;
        Ok(v)
    }

    /// Rejects a field that does not apply to the chosen kind. The value is shown as TOML
    /// would write it.
    pub(super) fn absent<T: serde::Serialize>(
        &self,
        field: &str,
        v: &Option<T>,
        kind_field: &str,
        kind: &str,
    ) -> Result<(), ScenarioError> {
        match v {
            None => Ok(()),
            Some(v) => Err(self.error(
                field,
                as_toml(v),
                format!("does not apply when {kind_field} = \"{kind}\""),
            )),
        }
    }

    /// The error for a kind field naming none of `names`.
    pub(super) fn unknown(&self, field: &str, name: &str, names: &[&str]) -> ScenarioError {
        self.error(field, quoted(name), expected_one_of(names))
    }

    /// Checks that a kind field names one of `names`. Called before the fields that depend
    /// on the kind are checked, so a misspelt kind is reported as itself rather than as a
    /// neighbouring field that "does not apply" to it.
    pub(super) fn known(
        &self,
        field: &str,
        name: &str,
        names: &[&str],
    ) -> Result<(), ScenarioError> {
        if names.contains(&name) { Ok(()) } else { Err(self.unknown(field, name, names)) }
    }
}

/// `expected "a", "b" or "c"`: the valid names of a kind, for messages.
pub(super) fn expected_one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| quoted(n)).collect();
    match quoted.split_last() {
        None => "expected nothing".to_string(),
        Some((last, [])) => format!("expected {last}"),
        Some((last, rest)) => format!("expected {} or {last}", rest.join(", ")),
    }
}

/// A value as a TOML file would write it (`8`, `"randm"`, `[0.5, 0.5]`).
fn as_toml<T: serde::Serialize>(v: &T) -> String {
    toml::Value::try_from(v).map_or_else(|e| format!("(unprintable: {e})"), |v| show(&v))
}

/// Quotes a string value for messages.
pub(super) fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}

/// Validates `raw`, fills its defaults and builds the typed scenario.
///
/// # Errors
///
/// Returns the first problem found, naming field, value and origin.
pub fn validate(
    mut raw: RawScenario,
    path: &Path,
    origin: &Origin<'_>,
) -> Result<Scenario, ScenarioError> {
    // `[compare]` is for `forksim compare` alone: no run reads it, so the resolved scenario
    // (a manifest's) does not hold it.
    raw.compare = None;
    // Whether the file or an override set anything under [network], before defaults fill it.
    // A race's resolved form (its manifest) holds the defaults filled into [network]; those
    // are not settings given, or `replay` could not validate a race's own manifest.
    let network_given = raw.network != super::raw::RawNetwork::default()
        && (raw.race.is_none() || !network_is_resolved_default(&raw, path, origin));
    // [run]
    let stem = path
        .file_stem()
        .map_or_else(|| "scenario".to_string(), |s| s.to_string_lossy().to_string());
    let name = raw.run.name.get_or_insert(stem).clone();
    origin.check(
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !name.starts_with('.'),
        "run.name",
        quoted(&name),
        "must be a non-empty folder name of letters, digits, '-', '_' and '.'",
    )?;
    let seed = *raw.run.seed.get_or_insert(1);
    let blocks = *raw.run.blocks.get_or_insert(100);
    origin.check(blocks > 0, "run.blocks", blocks, "must be at least 1")?;

    // [chain]
    let block_interval_s = origin
        .positive("chain.block_interval_s", *raw.chain.block_interval_s.get_or_insert(600.0))?;
    let retarget_interval = *raw.chain.retarget_interval.get_or_insert(2016);
    // Bitcoin's rule measures the time over the interval's last `interval - 1` gaps: one
    // block has none, so every retarget would hit the fourfold limit.
    origin.check(
        retarget_interval != 1,
        "chain.retarget_interval",
        retarget_interval,
        "must be 0 (no retargets) or at least 2: over one block there is no time to measure",
    )?;
    let max_block_size_bytes = *raw.chain.max_block_size_bytes.get_or_insert(1_000_000);
    origin.check(
        max_block_size_bytes >= 1_000,
        "chain.max_block_size_bytes",
        max_block_size_bytes,
        "must be at least 1000 bytes (a header and a coinbase must fit)",
    )?;
    // Not inserted into the resolved scenario when absent: manifests stay as they were.
    let prune_depth = raw.chain.prune_depth.unwrap_or(DEFAULT_PRUNE_DEPTH);
    origin.check(
        prune_depth >= MIN_PRUNE_DEPTH,
        "chain.prune_depth",
        prune_depth,
        format!(
            "must be at least {MIN_PRUNE_DEPTH}: blocks this deep below the tip are final and \
             pruned, and mempools and attackers' private chains work within that depth"
        ),
    )?;
    let genesis_time = *raw.chain.genesis_time.get_or_insert(1_231_006_505);
    let pow_limit_bits = CompactTarget(*raw.chain.pow_limit_bits.get_or_insert(0x207f_ffff));
    let pow_limit = pow_limit_bits.to_target().map_err(|e| {
        origin.error(
            "chain.pow_limit_bits",
            format!("{pow_limit_bits}"),
            format!("not a usable compact target: {e}"),
        )
    })?;

    // Header times are 32-bit seconds since 1970, as Bitcoin's: they end in February 2106,
    // so a run must end before the header time after genesis runs out. A header's time runs
    // ahead of the clock by at most a second per block (it must pass the median of the last
    // eleven), hence the margin of `blocks` seconds.
    let header_seconds_left = (f64::from(u32::MAX - genesis_time) - blocks as f64).max(0.0);
    let expected_s = blocks as f64 * block_interval_s;
    if expected_s >= header_seconds_left {
        let (field, value) = if expected_s >= f64::from(u32::MAX) {
            ("chain.block_interval_s", block_interval_s.to_string())
        } else {
            ("chain.genesis_time", genesis_time.to_string())
        };
        return Err(origin.error(
            field,
            value,
            format!(
                "run.blocks = {blocks} blocks at {block_interval_s} s take about {expected_s:.3e} s, \
                 but 32-bit header times end {header_seconds_left:.3e} s after chain.genesis_time = \
                 {genesis_time}"
            ),
        ));
    }
    // The default cap: a thousand times the expected duration, within the header times.
    let max_time_default = (expected_s * 1000.0).min(header_seconds_left);
    let max_time_s =
        origin.positive("run.max_time_s", *raw.run.max_time_s.get_or_insert(max_time_default))?;
    origin.check(
        max_time_s <= header_seconds_left,
        "run.max_time_s",
        max_time_s,
        format!(
            "must be at most {header_seconds_left} s: 32-bit header times end that long after \
             chain.genesis_time = {genesis_time}"
        ),
    )?;
    let max_events = *raw.run.max_events.get_or_insert(4_000_000_000);
    origin.check(max_events > 0, "run.max_events", max_events, "must be at least 1")?;
    let settle_blocks = *raw.run.settle_blocks.get_or_insert(blocks.min(10) / 2);
    origin.check(
        settle_blocks < blocks,
        "run.settle_blocks",
        settle_blocks,
        format!("must be less than run.blocks = {blocks}, or no block would be counted"),
    )?;
    let drain_s = origin.non_negative("run.drain_s", *raw.run.drain_s.get_or_insert(3600.0))?;

    // [network] comes before mining: miners are counted in nodes.
    let nodes = *raw.network.nodes.get_or_insert(100);
    origin.check(nodes >= 2, "network.nodes", nodes, "must be at least 2")?;
    origin.check(nodes <= 1_000_000, "network.nodes", nodes, "must be at most 1000000")?;
    let node_names = match &raw.network.names {
        None => (0..nodes).map(|i| format!("n{i}")).collect(),
        Some(names) => {
            origin.check(
                names.len() == nodes as usize,
                "network.names",
                format!("[{} names]", names.len()),
                format!("must give exactly one name per node (network.nodes = {nodes})"),
            )?;
            let mut sorted = names.clone();
            sorted.sort();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(origin.error("network.names", quoted(&w[0]), "names must be unique"));
            }
            if let Some(empty) = names.iter().position(String::is_empty) {
                return Err(origin.error(
                    &format!("network.names[{empty}]"),
                    "\"\"",
                    "must not be empty",
                ));
            }
            names.clone()
        }
    };
    let region_table = super::regions::validate_regions(&mut raw.network, origin)?;
    let regions = region_table.describe(raw.network.regions.as_deref());

    let topology = validate_topology(
        raw.network.topology.get_or_insert_with(Default::default),
        nodes,
        origin,
    )?;
    let latency = validate_latency(
        raw.network.latency.get_or_insert_with(Default::default),
        &region_table,
        &regions,
        origin,
    )?;
    let bandwidth = validate_bandwidth(
        raw.network.bandwidth.get_or_insert_with(Default::default),
        &region_table,
        &regions,
        origin,
    )?;
    let is_user_regions = region_table.is_user();
    let super::regions::RegionTable { names: region_names, node_share, .. } = region_table;
    let relay = validate_relay(raw.network.relay.get_or_insert_with(Default::default), origin)?;
    let bandwidth_sigma = {
        let b = raw.network.bandwidth.get_or_insert_with(Default::default);
        let sigma = *b.node_spread_sigma.get_or_insert(0.0);
        origin.non_negative("network.bandwidth.node_spread_sigma", sigma)?
    };
    let bandwidth_spread_independent = {
        let b = raw.network.bandwidth.get_or_insert_with(Default::default);
        match b.node_spread_directions.as_deref() {
            None | Some("shared") => false,
            Some("independent") => true,
            Some(other) => {
                return Err(origin.error(
                    "network.bandwidth.node_spread_directions",
                    quoted(other),
                    "expected \"shared\" or \"independent\"",
                ));
            }
        }
    };
    let bandwidth_distribution = validate_bandwidth_distribution(
        raw.network.bandwidth.get_or_insert_with(Default::default),
        &region_names,
        is_user_regions,
        origin,
    )?;
    let transfer = validate_transfer(
        raw.network.latency.get_or_insert_with(Default::default),
        raw.network.bandwidth.get_or_insert_with(Default::default),
        raw.network.relay.get_or_insert_with(Default::default),
        origin,
    )?;

    // [mining]
    let mode_name = raw.mining.mode.get_or_insert_with(|| "sampled".to_string()).clone();
    let mode = match mode_name.as_str() {
        "sampled" => MiningMode::Sampled,
        "ground" => MiningMode::Ground,
        other => {
            return Err(origin.error(
                "mining.mode",
                quoted(other),
                "expected \"sampled\" or \"ground\"",
            ));
        }
    };
    let default_rate = match mode {
        MiningMode::Sampled => 1e15,
        MiningMode::Ground => 1_000.0,
    };
    let network_hashrate_hs = origin.positive(
        "mining.network_hashrate_hs",
        *raw.mining.network_hashrate_hs.get_or_insert(default_rate),
    )?;
    let expected_hashes = network_hashrate_hs * block_interval_s;
    origin.check(
        expected_hashes >= 1.0,
        "mining.network_hashrate_hs",
        network_hashrate_hs,
        format!("times chain.block_interval_s = {block_interval_s} gives {expected_hashes} hashes per block; at least 1 is needed"),
    )?;
    let initial_target = crate::chain::pow::target_for_expected_hashes(expected_hashes);
    origin.check(
        initial_target <= pow_limit,
        "mining.network_hashrate_hs",
        network_hashrate_hs,
        format!(
            "gives {expected_hashes:.0} expected hashes per block, easier than chain.pow_limit_bits = {pow_limit_bits} allows; raise the hash rate or the limit"
        ),
    )?;
    if mode == MiningMode::Ground {
        origin.check(
            expected_hashes <= GROUND_HASHES_MAX,
            "mining.network_hashrate_hs",
            network_hashrate_hs,
            format!(
                "ground mode computes every hash for real; {expected_hashes:.0} hashes per block (hash rate x chain.block_interval_s = {block_interval_s}) is more than {GROUND_HASHES_MAX}; use mode = \"sampled\" or a lower rate"
            ),
        )?;
    }
    let grind_hashes = *raw.mining.grind_hashes.get_or_insert(1_000.0);
    origin.check(
        (1.0..=GROUND_HASHES_MAX).contains(&grind_hashes),
        "mining.grind_hashes",
        grind_hashes,
        format!("must be between 1 and {GROUND_HASHES_MAX}"),
    )?;
    let hash_power = validate_hash_power(
        raw.mining.hash_power.get_or_insert_with(Default::default),
        nodes,
        origin,
    )?;
    let miners_default = match &hash_power {
        HashPowerSpec::Shares(s) => s.len() as u32,
        HashPowerSpec::Preset(preset) => preset.pools.len() as u32,
        _ => nodes,
    };
    let miners = *raw.mining.miners.get_or_insert(miners_default);
    origin.check(
        miners >= 1 && miners <= nodes,
        "mining.miners",
        miners,
        format!("must be between 1 and network.nodes = {nodes}"),
    )?;
    if let HashPowerSpec::Shares(s) = &hash_power {
        origin.check(
            miners as usize == s.len(),
            "mining.miners",
            miners,
            format!("must equal the number of mining.hash_power.shares ({})", s.len()),
        )?;
    }
    if let HashPowerSpec::Preset(preset) = &hash_power {
        let pool_count = preset.pools.len();
        origin.check(
            miners as usize == pool_count,
            "mining.miners",
            miners,
            format!(
                "must equal the {pool_count} pools of mining.hash_power.preset = \"{}\" (one mining node per pool); leave mining.miners out",
                preset.name
            ),
        )?;
    }
    let block_size_bytes = *raw.mining.block_size_bytes.get_or_insert(0);
    origin.check(
        block_size_bytes <= max_block_size_bytes,
        "mining.block_size_bytes",
        block_size_bytes,
        format!("exceeds chain.max_block_size_bytes = {max_block_size_bytes}; every block would be invalid"),
    )?;
    let tx_size_bytes = *raw.mining.tx_size_bytes.get_or_insert(250);
    origin.check(
        tx_size_bytes >= 60,
        "mining.tx_size_bytes",
        tx_size_bytes,
        "must be at least 60 bytes",
    )?;

    // [node]
    let validation_ms_base = origin
        .non_negative("node.validation_ms_base", *raw.node.validation_ms_base.get_or_insert(2.0))?;
    let validation_ms_per_mb = origin.non_negative(
        "node.validation_ms_per_mb",
        *raw.node.validation_ms_per_mb.get_or_insert(20.0),
    )?;
    let orphan_pool_max = *raw.node.orphan_pool_max.get_or_insert(100);
    origin.check(
        orphan_pool_max >= 1,
        "node.orphan_pool_max",
        orphan_pool_max,
        "must be at least 1",
    )?;

    let validation_us_per_input = origin.non_negative(
        "node.validation_us_per_input",
        *raw.node.validation_us_per_input.get_or_insert(40.0),
    )?;
    // Calibrated with the other validation defaults so that a block none of whose
    // transactions were pre-verified costs what Gervais et al. (CCS 2016) measured: 0.174 s
    // for a 458,263-byte block (about 0.38 s/MB). Taking about 500 bytes and 2 inputs per
    // transaction (an assumption: roughly Bitcoin's 2015-16 averages), that block held about
    // 916 transactions, and (174 ms - 2 ms - 0.458 MB x 20 ms/MB) / 916 = 178 us each, of
    // which 2 x 40 us are signatures: about 100 us per transaction beside its inputs. See
    // `node::validation` for the whole model.
    let validation_us_per_missing_tx = origin.non_negative(
        "node.validation_us_per_missing_tx",
        *raw.node.validation_us_per_missing_tx.get_or_insert(100.0),
    )?;
    let workload = match raw.workload.as_mut() {
        None => None,
        Some(w) => {
            Some(super::workload::validate_workload(w, &node_names, block_interval_s, origin)?)
        }
    };

    let race = match raw.race.as_mut() {
        None => None,
        Some(r) => Some(validate_race(r, origin)?),
    };

    // [[attacker]], network.eclipse, [[timeline]]
    let names = attack::Names { nodes: &node_names, regions: &region_names };
    let attackers = attack::validate_attackers(&mut raw.attacker, &names, race.is_some(), origin)?;
    let eclipse = match raw.network.eclipse.as_ref() {
        None => None,
        Some(e) => Some(attack::validate_eclipse(e, &names, origin)?),
    };
    let timeline = attack::validate_timeline(&raw.timeline, &names, origin)?;
    let groups = super::groups::validate_groups(
        raw.network.group.as_deref().unwrap_or_default(),
        &names,
        origin,
    )?;
    if let Some(i) =
        attackers.iter().position(|a| matches!(a.strategy, attack::StrategySpec::DoubleSpend(_)))
    {
        origin.check(
            workload.is_some(),
            &format!("attacker[{i}].strategy"),
            "\"double-spend\"",
            "needs a [workload] section: the payment and its conflicting version are real transactions from a wallet",
        )?;
        let mining_attackers =
            attackers.iter().filter(|a| a.strategy != attack::StrategySpec::Honest).count();
        origin.check(
            mining_attackers == 1,
            "attacker",
            format!("[{} attackers]", attackers.len()),
            "a double spend runs with one attacking node (others may only be honest nodes that do not relay, around an eclipsed merchant)",
        )?;
    }
    for (i, a) in attackers.iter().enumerate() {
        if let attack::StrategySpec::Invalid(spec) = &a.strategy
            && let Some(kind) = spec.kinds.iter().find(|k| k.needs_wallets())
        {
            origin.check(
                workload.is_some(),
                &format!("attacker[{i}].kinds"),
                format!("[.. \"{}\" ..]", kind.name()),
                "needs a [workload] section: that kind spends wallets' coins (or leave it out of kinds)",
            )?;
        }
    }
    let consensus = super::consensus::validate_consensus(
        &mut raw.consensus,
        &raw.stake,
        nodes,
        block_interval_s,
        mode,
        origin,
    )?;
    let kept = (workload.is_some(), prune_depth, blocks);
    super::cartel::check_cartel(&attackers, &consensus, kept, &node_names, origin)?;
    if consensus.kind == crate::consensus::ConsensusKind::Pow
        && let Some(i) = attackers
            .iter()
            .position(|a| matches!(a.strategy, attack::StrategySpec::NothingAtStake(_)))
    {
        return Err(origin.error(
            &format!("attacker[{i}].strategy"),
            "\"nothing-at-stake\"",
            "applies only under consensus.kind = \"pos-slot\": it runs the slot lottery on every block of a private tree, which costs nothing only under proof of stake",
        ));
    }
    if consensus.kind == crate::consensus::ConsensusKind::Pow
        && let Some(i) =
            attackers.iter().position(|a| matches!(a.strategy, attack::StrategySpec::LongRange(_)))
    {
        return Err(origin.error(
            &format!("attacker[{i}].strategy"),
            "\"long-range\"",
            "applies only under consensus.kind = \"pos-slot\": old keys hold stake, and producing a block costs nothing only under proof of stake",
        ));
    }
    if consensus.kind != crate::consensus::ConsensusKind::Pow {
        let kind = consensus.kind.name();
        validate_stake_attackers(&attackers, &consensus, origin)?;
        // A pos-slot double spend races the slot lottery (race::pos_slot); nothing else.
        let slot_race = match &race {
            Some(super::RaceSpec::DoubleSpend { params, .. })
                if consensus.kind == crate::consensus::ConsensusKind::PosSlot =>
            {
                origin.check(
                    params.premined == 0,
                    "race.premined",
                    params.premined,
                    "must be 0 under consensus.kind = \"pos-slot\": the slot race starts at the fork point",
                )?;
                true
            }
            Some(super::RaceSpec::NothingAtStake { .. }) => {
                consensus.kind == crate::consensus::ConsensusKind::PosSlot
            }
            _ => false,
        };
        origin.check(
            race.is_none() || slot_race,
            "race",
            "{ ... }",
            format!(
                "does not apply when consensus.kind = \"{kind}\": a [race] is proof of work, or a double_spend or nothing_at_stake under \"pos-slot\""
            ),
        )?;
    }
    if matches!(race, Some(super::RaceSpec::NothingAtStake { .. }))
        && consensus.kind == crate::consensus::ConsensusKind::Pow
    {
        return Err(origin.error(
            "race.kind",
            "\"nothing_at_stake\"",
            "needs [consensus] kind = \"pos-slot\": it races a slot lottery",
        ));
    }
    if race.is_some() {
        let without_network = "does not apply to a [race], which has no network";
        origin.check(
            !network_given,
            "network",
            "{ ... }",
            "does not apply to a [race], which has no network: remove [network] or [race]",
        )?;
        origin.check(eclipse.is_none(), "network.eclipse", "{ ... }", without_network)?;
        let entries = format!("[{} entries]", timeline.len());
        origin.check(timeline.is_empty(), "timeline", entries, without_network)?;
    }

    Ok(Scenario {
        source: path.to_path_buf(),
        race,
        attackers,
        eclipse,
        timeline,
        name,
        seed,
        run: RunSpec {
            blocks,
            max_time: SimTime(0) + SimDuration::from_secs_f64(max_time_s),
            max_events,
            settle_blocks,
            drain: SimDuration::from_secs_f64(drain_s),
        },
        chain: ChainSpec {
            block_interval_s,
            retarget_interval,
            max_block_size_bytes,
            genesis_time,
            pow_limit_bits,
            prune_depth,
        },
        mining: MiningSpec {
            mode,
            network_hashrate_hs,
            grind_hashes,
            miners,
            hash_power,
            block_size_bytes,
            tx_size_bytes,
        },
        network: NetworkSpec { nodes, region_names, node_share, topology, latency, bandwidth },
        node_names,
        relay,
        bandwidth_sigma,
        bandwidth_spread_independent,
        bandwidth_distribution,
        groups,
        transfer,
        node: NodeSpec {
            validation_base: SimDuration::from_millis_f64(validation_ms_base),
            validation_ms_per_mb,
            orphan_pool_max,
            validation_per_input: SimDuration::from_secs_f64(validation_us_per_input / 1e6),
            validation_per_missing_tx: SimDuration::from_secs_f64(
                validation_us_per_missing_tx / 1e6,
            ),
        },
        workload,
        consensus,
        resolved: raw,
    })
}

/// Whether `raw.network` is exactly what validation fills into an empty `[network]` (as in
/// the resolved scenario a run records).
fn network_is_resolved_default(raw: &RawScenario, path: &Path, origin: &Origin<'_>) -> bool {
    let mut empty = raw.clone();
    empty.network = super::raw::RawNetwork::default();
    validate(empty, path, origin).is_ok_and(|s| s.resolved.network == raw.network)
}

fn validate_topology(
    t: &mut RawTopology,
    nodes: u32,
    origin: &Origin<'_>,
) -> Result<TopologySpec, ScenarioError> {
    let kind = t.kind.get_or_insert_with(|| "random".to_string()).clone();
    let k = "network.topology.kind";
    origin.known(k, &kind, &TOPOLOGY_KINDS)?;
    if kind != "random" {
        origin.absent("network.topology.outbound", &t.outbound, k, &kind)?;
        origin.absent("network.topology.inbound_max", &t.inbound_max, k, &kind)?;
    }
    if kind != "small_world" {
        origin.absent("network.topology.neighbors", &t.neighbors, k, &kind)?;
        origin.absent("network.topology.rewire_probability", &t.rewire_probability, k, &kind)?;
    }
    if kind != "scale_free" {
        origin.absent("network.topology.attach", &t.attach, k, &kind)?;
    }
    if kind != "edges" {
        origin.absent("network.topology.edges", &t.edges, k, &kind)?;
    }
    match kind.as_str() {
        "random" => {
            let outbound_value = t.outbound.get_or_insert(toml::Value::Integer(8)).clone();
            let field = "network.topology.outbound";
            let outbound = match &outbound_value {
                toml::Value::Integer(n) if *n >= 1 && *n < nodes as i64 => {
                    OutboundDegree::Fixed(*n as u32)
                }
                toml::Value::Integer(n) => {
                    return Err(origin.error(
                        field,
                        n,
                        format!("must be between 1 and network.nodes - 1 = {}", nodes - 1),
                    ));
                }
                toml::Value::String(name) => match presets::outbound_degree_cdf(name) {
                    Some(cdf) => OutboundDegree::Cdf(cdf.to_vec()),
                    None => {
                        return Err(origin.error(
                            field,
                            quoted(name),
                            format!(
                                "unknown degree distribution; expected a number or one of {:?}",
                                presets::OUTBOUND_DEGREE_CDF_NAMES
                            ),
                        ));
                    }
                },
                other => {
                    return Err(origin.error(
                        field,
                        other,
                        "expected a number or a distribution name",
                    ));
                }
            };
            let inbound_max = *t.inbound_max.get_or_insert(125);
            origin.check(
                inbound_max >= 1,
                "network.topology.inbound_max",
                inbound_max,
                "must be at least 1",
            )?;
            Ok(TopologySpec::Random { outbound, inbound_max })
        }
        "small_world" => {
            let neighbors = *t.neighbors.get_or_insert(8);
            let field = "network.topology.neighbors";
            origin.check(
                neighbors >= 2 && neighbors.is_multiple_of(2),
                field,
                neighbors,
                "must be an even number, at least 2",
            )?;
            origin.check(
                neighbors < nodes,
                field,
                neighbors,
                format!("must be less than network.nodes = {nodes}"),
            )?;
            let p = origin.probability(
                "network.topology.rewire_probability",
                *t.rewire_probability.get_or_insert(0.1),
            )?;
            Ok(TopologySpec::SmallWorld { neighbors, rewire_probability: p })
        }
        "scale_free" => {
            let attach = *t.attach.get_or_insert(4);
            origin.check(
                attach >= 1 && attach < nodes,
                "network.topology.attach",
                attach,
                format!("must be between 1 and network.nodes - 1 = {}", nodes - 1),
            )?;
            Ok(TopologySpec::ScaleFree { attach })
        }
        "complete" => Ok(TopologySpec::Complete),
        "edges" => {
            let edges = t.edges.as_ref().ok_or_else(|| {
                origin.error(
                    "network.topology.edges",
                    "(missing)",
                    "kind = \"edges\" needs a list of [a, b] pairs",
                )
            })?;
            for (i, [a, b]) in edges.iter().enumerate() {
                origin.check(
                    *a < nodes && *b < nodes,
                    &format!("network.topology.edges[{i}]"),
                    format!("[{a}, {b}]"),
                    format!("node indices must be below network.nodes = {nodes}"),
                )?;
                origin.check(
                    a != b,
                    &format!("network.topology.edges[{i}]"),
                    format!("[{a}, {b}]"),
                    "a node cannot link to itself",
                )?;
            }
            Ok(TopologySpec::Edges(edges.iter().map(|[a, b]| (*a, *b)).collect()))
        }
        other => Err(origin.unknown(k, other, &TOPOLOGY_KINDS)),
    }
}

fn validate_latency(
    l: &mut RawLatency,
    region_table: &super::regions::RegionTable,
    regions: &str,
    origin: &Origin<'_>,
) -> Result<LinkLatencySpec, ScenarioError> {
    let regional = region_table.regional();
    let default_model = if regional { "regions" } else { "constant" };
    let model = l.model.get_or_insert_with(|| default_model.to_string()).clone();
    let m = "network.latency.model";
    origin.known(m, &model, &LATENCY_MODELS)?;
    if model != "regions" {
        origin.absent("network.latency.table", &l.table, m, &model)?;
        origin.absent("network.latency.matrix_ms", &l.matrix_ms, m, &model)?;
        origin.absent("network.latency.jitter", &l.jitter, m, &model)?;
        origin.absent("network.latency.jitter_shape", &l.jitter_shape, m, &model)?;
    }
    if model != "constant" {
        origin.absent("network.latency.ms", &l.ms, m, &model)?;
    }
    if model != "uniform" {
        origin.absent("network.latency.min_ms", &l.min_ms, m, &model)?;
        origin.absent("network.latency.max_ms", &l.max_ms, m, &model)?;
    }
    if model != "lognormal" {
        origin.absent("network.latency.median_ms", &l.median_ms, m, &model)?;
        origin.absent("network.latency.sigma", &l.sigma, m, &model)?;
    }
    match model.as_str() {
        "regions" => {
            origin.check(
                regional,
                m,
                quoted(&model),
                format!("needs regional nodes, but {regions}; pick a region share such as \"bitcoin-2019\" or give a [[network.region]] table"),
            )?;
            let matrix = super::regions::latency_matrix(l, region_table, origin)?;
            let jitter_name = l.jitter.get_or_insert_with(|| "pareto".to_string()).clone();
            let jitter = match jitter_name.as_str() {
                "none" => {
                    origin.absent(
                        "network.latency.jitter_shape",
                        &l.jitter_shape,
                        "network.latency.jitter",
                        "none",
                    )?;
                    Jitter::None
                }
                "pareto" => {
                    let shape = *l.jitter_shape.get_or_insert(5.0);
                    origin.check(
                        shape.is_finite() && shape > 1.0,
                        "network.latency.jitter_shape",
                        shape,
                        "must be greater than 1 (the mean is infinite otherwise)",
                    )?;
                    Jitter::Pareto { shape }
                }
                other => {
                    return Err(origin.error(
                        "network.latency.jitter",
                        quoted(other),
                        "expected \"pareto\" or \"none\"",
                    ));
                }
            };
            Ok(LinkLatencySpec::Regions { matrix_ms: matrix, jitter })
        }
        "constant" => {
            let ms = origin.non_negative("network.latency.ms", *l.ms.get_or_insert(50.0))?;
            Ok(LinkLatencySpec::Constant { ms })
        }
        "uniform" => {
            let min_ms =
                origin.non_negative("network.latency.min_ms", *l.min_ms.get_or_insert(10.0))?;
            let max_ms =
                origin.non_negative("network.latency.max_ms", *l.max_ms.get_or_insert(100.0))?;
            origin.check(
                max_ms >= min_ms,
                "network.latency.max_ms",
                max_ms,
                format!("must be at least network.latency.min_ms = {min_ms}"),
            )?;
            Ok(LinkLatencySpec::Uniform { min_ms, max_ms })
        }
        "lognormal" => {
            let median_ms =
                origin.positive("network.latency.median_ms", *l.median_ms.get_or_insert(50.0))?;
            let sigma =
                origin.non_negative("network.latency.sigma", *l.sigma.get_or_insert(0.5))?;
            Ok(LinkLatencySpec::LogNormal { median_ms, sigma })
        }
        other => Err(origin.unknown(m, other, &LATENCY_MODELS)),
    }
}

fn validate_bandwidth(
    b: &mut RawBandwidth,
    region_table: &super::regions::RegionTable,
    regions: &str,
    origin: &Origin<'_>,
) -> Result<BandwidthSpec, ScenarioError> {
    let regional = region_table.regional();
    let default_model = if regional { "regions" } else { "constant" };
    let model = b.model.get_or_insert_with(|| default_model.to_string()).clone();
    let m = "network.bandwidth.model";
    origin.known(m, &model, &BANDWIDTH_MODELS)?;
    match model.as_str() {
        "regions" => {
            origin.absent("network.bandwidth.upload_bps", &b.upload_bps, m, &model)?;
            origin.absent("network.bandwidth.download_bps", &b.download_bps, m, &model)?;
            origin.check(
                regional,
                m,
                quoted(&model),
                format!("needs regional nodes, but {regions}"),
            )?;
            if region_table.is_user() {
                if let Some(table) = &b.table {
                    return Err(origin.error(
                        "network.bandwidth.table",
                        quoted(table),
                        "the built-in tables describe the six built-in regions; give upload_bps and download_bps in each [[network.region]]",
                    ));
                }
                let (up, down) = super::regions::user_bandwidth(region_table, origin)?;
                return Ok(BandwidthSpec::PerRegion { upload_bps: up, download_bps: down });
            }
            let table = b.table.get_or_insert_with(|| "2019".to_string()).clone();
            let (up, down) = presets::bandwidth_bps(&table).ok_or_else(|| {
                origin.error(
                    "network.bandwidth.table",
                    quoted(&table),
                    "expected \"2015\" or \"2019\"",
                )
            })?;
            Ok(BandwidthSpec::PerRegion { upload_bps: up.to_vec(), download_bps: down.to_vec() })
        }
        "constant" => {
            origin.absent("network.bandwidth.table", &b.table, m, &model)?;
            super::regions::no_user_bandwidth(region_table, &model, origin)?;
            let up = *b.upload_bps.get_or_insert(20_000_000);
            let down = *b.download_bps.get_or_insert(50_000_000);
            origin.check(up > 0, "network.bandwidth.upload_bps", up, "must be greater than 0")?;
            origin.check(
                down > 0,
                "network.bandwidth.download_bps",
                down,
                "must be greater than 0",
            )?;
            Ok(BandwidthSpec::Constant { upload_bps: up, download_bps: down })
        }
        other => Err(origin.unknown(m, other, &BANDWIDTH_MODELS)),
    }
}

/// `network.bandwidth.node_distribution`: a measured per-node distribution per region. It
/// replaces the log-normal spread (so neither `node_spread_*` field may be given with it)
/// and needs the built-in six regions, the ones the measurements cover.
fn validate_bandwidth_distribution(
    b: &RawBandwidth,
    region_names: &[String],
    user_regions: bool,
    origin: &Origin<'_>,
) -> Result<Option<MeasuredBandwidth>, ScenarioError> {
    const FIELD: &str = "network.bandwidth.node_distribution";
    let Some(name) = b.node_distribution.as_deref() else { return Ok(None) };
    let Some(distribution) = MeasuredBandwidth::parse(name) else {
        return Err(origin.error(
            FIELD,
            quoted(name),
            format!("expected one of {}", MEASURED_BANDWIDTH_NAMES.join(", ")),
        ));
    };
    if b.node_spread_sigma.is_some_and(|s| s > 0.0) || b.node_spread_directions.is_some() {
        return Err(origin.error(
            FIELD,
            quoted(name),
            "cannot be combined with network.bandwidth.node_spread_sigma or \
             node_spread_directions (the measured distribution replaces the log-normal \
             spread); give one or the other",
        ));
    }
    let covered = distribution.regions();
    let matches = !user_regions
        && region_names.len() == covered.len()
        && region_names.iter().zip(covered).all(|(a, b)| a == b);
    if !matches {
        return Err(origin.error(
            FIELD,
            quoted(name),
            format!(
                "needs the built-in regions ({}) set by network.regions; this scenario has {}",
                covered.join(", "),
                if region_names.is_empty() { "none".to_string() } else { region_names.join(", ") }
            ),
        ));
    }
    Ok(Some(distribution))
}

fn validate_transfer(
    l: &mut RawLatency,
    b: &mut RawBandwidth,
    r: &mut RawRelay,
    origin: &Origin<'_>,
) -> Result<TransferSpec, ScenarioError> {
    let per_message = l.per_message.get_or_insert_with(|| "simblock".to_string()).clone();
    let k = "network.latency.per_message";
    origin.known(k, &per_message, &PER_MESSAGE_MODELS)?;
    if per_message != "pareto" {
        origin.absent(
            "network.latency.per_message_shape",
            &l.per_message_shape,
            k,
            &per_message,
        )?;
    }
    if per_message != "lognormal" {
        origin.absent(
            "network.latency.per_message_sigma",
            &l.per_message_sigma,
            k,
            &per_message,
        )?;
    }
    let message_latency = match per_message.as_str() {
        "none" => MessageLatency::None,
        "simblock" => MessageLatency::SimBlock,
        "pareto" => {
            let shape = *l.per_message_shape.get_or_insert(5.0);
            origin.check(
                shape.is_finite() && shape > 1.0,
                "network.latency.per_message_shape",
                shape,
                "must be greater than 1 (the mean is infinite otherwise)",
            )?;
            MessageLatency::Pareto { shape }
        }
        "lognormal" => {
            let sigma = *l.per_message_sigma.get_or_insert(0.5);
            origin.non_negative("network.latency.per_message_sigma", sigma)?;
            MessageLatency::LogNormal { sigma }
        }
        other => return Err(origin.unknown(k, other, &PER_MESSAGE_MODELS)),
    };
    let uplink = match b.uplink.get_or_insert_with(|| "shared".to_string()).as_str() {
        "shared" => Uplink::Shared,
        "fifo" => Uplink::Fifo,
        "block-fifo" => Uplink::BlockFifo,
        "until-arrival" => Uplink::UntilArrival,
        other => {
            return Err(origin.error(
                "network.bandwidth.uplink",
                quoted(other),
                "expected \"shared\", \"fifo\", \"block-fifo\" or \"until-arrival\"",
            ));
        }
    };
    let window_field = "network.bandwidth.tcp_window_bytes";
    let wire_field = "network.bandwidth.block_wire";
    let wire_none = match b.block_wire.as_deref() {
        None | Some("tcp") => false,
        Some("none") => true,
        Some(other) => {
            return Err(origin.error(wire_field, quoted(other), "expected \"tcp\" or \"none\""));
        }
    };
    if let Some(wire) = b.block_wire.as_deref().filter(|_| uplink != Uplink::BlockFifo) {
        return Err(origin.error(
            wire_field,
            quoted(wire),
            "only the \"block-fifo\" uplink has a wire term (set network.bandwidth.uplink = \"block-fifo\" or remove this field)",
        ));
    }
    if let (true, Some(w)) = (wire_none, b.tcp_window_bytes) {
        return Err(origin.error(
            window_field,
            w.to_string(),
            "has no effect with network.bandwidth.block_wire = \"none\"; give one or the other",
        ));
    }
    let tcp_window_bytes = if wire_none {
        0
    } else if uplink == Uplink::BlockFifo {
        match *b.tcp_window_bytes.get_or_insert(NS3_TCP_BUFFER_BYTES) {
            0 => return Err(origin.error(window_field, "0".to_string(), "must be at least 1")),
            w => w,
        }
    } else if let Some(w) = b.tcp_window_bytes {
        return Err(origin.error(
            window_field,
            w.to_string(),
            "only the \"block-fifo\" uplink models a TCP window (set network.bandwidth.uplink = \"block-fifo\" or remove this field)",
        ));
    } else {
        0
    };
    let overhead_ms = *r.control_overhead_ms.get_or_insert(0.0);
    let overhead_ms = origin.non_negative("network.relay.control_overhead_ms", overhead_ms)?;
    Ok(TransferSpec {
        tcp_window_bytes,
        uplink,
        message_latency,
        control_overhead: SimDuration::from_millis_f64(overhead_ms),
    })
}

/// ns-3's default TCP socket buffers (`ns3::TcpSocket` `SndBufSize` and `RcvBufSize`,
/// 131,072 bytes), which Gervais et al.'s simulator runs with: the default window of the
/// `block-fifo` model.
const NS3_TCP_BUFFER_BYTES: u64 = 131_072;

fn validate_relay(r: &mut RawRelay, origin: &Origin<'_>) -> Result<RelaySpec, ScenarioError> {
    let name = r.protocol.get_or_insert_with(|| "inv".to_string()).clone();
    let protocol = match name.as_str() {
        "inv" => RelayProtocol::Inv,
        "push" => RelayProtocol::Push,
        "flood" => RelayProtocol::Flood,
        "compact" => RelayProtocol::Compact,
        other => {
            return Err(origin.error(
                "network.relay.protocol",
                quoted(other),
                "expected \"inv\", \"push\", \"flood\" or \"compact\"",
            ));
        }
    };
    let compact_share =
        origin.probability("network.relay.compact_share", *r.compact_share.get_or_insert(0.964))?;
    let compact_high_bandwidth_peers = *r.compact_high_bandwidth_peers.get_or_insert(3);
    let compact_failure_probability = origin.probability(
        "network.relay.compact_failure_probability",
        *r.compact_failure_probability.get_or_insert(0.13),
    )?;
    let compact_missing_tx_share = origin.probability(
        "network.relay.compact_missing_tx_share",
        *r.compact_missing_tx_share.get_or_insert(0.05),
    )?;
    let compact_refetch =
        match r.compact_refetch.get_or_insert_with(|| "fixed".to_string()).as_str() {
            "fixed" => Refetch::Fixed,
            "simblock" => Refetch::SimBlock,
            other => {
                return Err(origin.error(
                    "network.relay.compact_refetch",
                    quoted(other),
                    "expected \"fixed\" or \"simblock\"",
                ));
            }
        };
    let compact_churn_share = origin.probability(
        "network.relay.compact_churn_share",
        *r.compact_churn_share.get_or_insert(0.0),
    )?;
    let compact_churn_failure_probability = origin.probability(
        "network.relay.compact_churn_failure_probability",
        *r.compact_churn_failure_probability.get_or_insert(0.27),
    )?;
    let announce = match r.announce.as_deref() {
        None | Some("best-chain") => Announce::BestChain,
        Some("every-block") => Announce::EveryBlock,
        Some(other) => {
            return Err(origin.error(
                "network.relay.announce",
                quoted(other),
                "expected \"best-chain\" or \"every-block\"",
            ));
        }
    };
    let request_timeout = match r.request_timeout_s {
        None => None,
        Some(t) => {
            let field = "network.relay.request_timeout_s";
            origin.check(
                matches!(protocol, RelayProtocol::Inv | RelayProtocol::Push),
                field,
                t,
                "only the \"inv\" and \"push\" relays ask for a block again after a timeout",
            )?;
            Some(SimDuration::from_secs_f64(origin.positive(field, t)?))
        }
    };
    Ok(RelaySpec {
        announce,
        request_timeout,
        protocol,
        compact_share,
        compact_high_bandwidth_peers,
        compact_failure_probability,
        compact_missing_tx_share,
        compact_refetch,
        compact_churn_share,
        compact_churn_failure_probability,
    })
}

fn validate_hash_power(
    h: &mut RawHashPower,
    nodes: u32,
    origin: &Origin<'_>,
) -> Result<HashPowerSpec, ScenarioError> {
    let d = "mining.hash_power.distribution";
    if let Some(dist) = &h.distribution {
        origin.known(d, dist, &DISTRIBUTIONS)?;
    }
    if let Some(name) = h.preset.clone() {
        return validate_pool_preset(h, &name, nodes, origin);
    }
    let dist = h.distribution.get_or_insert_with(|| {
        if h.shares.is_some() { "shares".to_string() } else { "equal".to_string() }
    });
    let dist = dist.clone();
    if dist != "shares" {
        origin.absent("mining.hash_power.shares", &h.shares, d, &dist)?;
    }
    if dist != "uniform" {
        origin.absent("mining.hash_power.min", &h.min, d, &dist)?;
        origin.absent("mining.hash_power.max", &h.max, d, &dist)?;
    }
    if dist != "normal" && dist != "exponential" {
        origin.absent("mining.hash_power.mean", &h.mean, d, &dist)?;
    }
    if dist != "normal" {
        origin.absent("mining.hash_power.sd", &h.sd, d, &dist)?;
    }
    if dist != "pareto" {
        origin.absent("mining.hash_power.alpha", &h.alpha, d, &dist)?;
    }
    match dist.as_str() {
        "equal" => Ok(HashPowerSpec::Equal),
        "shares" => {
            let shares = h.shares.as_ref().ok_or_else(|| {
                origin.error(
                    "mining.hash_power.shares",
                    "(missing)",
                    "distribution = \"shares\" needs a list of shares",
                )
            })?;
            origin.check(
                !shares.is_empty() && shares.len() <= nodes as usize,
                "mining.hash_power.shares",
                format!("[{} shares]", shares.len()),
                format!("must list between 1 and network.nodes = {nodes} shares"),
            )?;
            for (i, s) in shares.iter().enumerate() {
                origin.check(
                    s.is_finite() && *s > 0.0,
                    &format!("mining.hash_power.shares[{i}]"),
                    s,
                    "must be greater than 0 (leave non-mining nodes off the list)",
                )?;
            }
            let sum: f64 = shares.iter().sum();
            origin.check(
                (sum - 1.0).abs() <= 1e-6,
                "mining.hash_power.shares",
                format!("{shares:?}"),
                format!("must sum to 1, but sum to {sum}"),
            )?;
            Ok(HashPowerSpec::Shares(shares.clone()))
        }
        "uniform" => {
            let min = origin.positive("mining.hash_power.min", *h.min.get_or_insert(0.5))?;
            let max = origin.positive("mining.hash_power.max", *h.max.get_or_insert(1.5))?;
            origin.check(
                max >= min,
                "mining.hash_power.max",
                max,
                format!("must be at least mining.hash_power.min = {min}"),
            )?;
            Ok(HashPowerSpec::Uniform { min, max })
        }
        "normal" => {
            let mean = origin.positive("mining.hash_power.mean", *h.mean.get_or_insert(1.0))?;
            let sd = origin.non_negative("mining.hash_power.sd", *h.sd.get_or_insert(0.25))?;
            Ok(HashPowerSpec::Normal { mean, sd })
        }
        "exponential" => {
            let mean = origin.positive("mining.hash_power.mean", *h.mean.get_or_insert(1.0))?;
            Ok(HashPowerSpec::Exponential { mean })
        }
        "pareto" => {
            let alpha = origin.positive("mining.hash_power.alpha", *h.alpha.get_or_insert(1.16))?;
            Ok(HashPowerSpec::Pareto { alpha })
        }
        other => Err(origin.unknown(d, other, &DISTRIBUTIONS)),
    }
}

/// `mining.hash_power.preset`: a known name, no distribution or distribution parameter
/// beside it, and a node for every pool.
fn validate_pool_preset(
    h: &RawHashPower,
    name: &str,
    nodes: u32,
    origin: &Origin<'_>,
) -> Result<HashPowerSpec, ScenarioError> {
    let p = "mining.hash_power.preset";
    let preset = pools::pool_preset(name).ok_or_else(|| {
        origin.error(
            p,
            quoted(name),
            format!(
                "unknown pool preset; expected one of {}",
                pools::POOL_PRESET_NAMES.map(quoted).join(", ")
            ),
        )
    })?;
    if let Some(dist) = &h.distribution {
        return Err(origin.error(
            p,
            quoted(name),
            format!(
                "cannot be combined with mining.hash_power.distribution = {}: a preset fixes every share; keep one of the two",
                quoted(dist)
            ),
        ));
    }
    origin.absent("mining.hash_power.shares", &h.shares, p, name)?;
    origin.absent("mining.hash_power.min", &h.min, p, name)?;
    origin.absent("mining.hash_power.max", &h.max, p, name)?;
    origin.absent("mining.hash_power.mean", &h.mean, p, name)?;
    origin.absent("mining.hash_power.sd", &h.sd, p, name)?;
    origin.absent("mining.hash_power.alpha", &h.alpha, p, name)?;
    let pool_count = preset.pools.len();
    origin.check(
        pool_count <= nodes as usize,
        p,
        quoted(name),
        format!("has {pool_count} pools, one mining node each, but network.nodes = {nodes}"),
    )?;
    Ok(HashPowerSpec::Preset(preset))
}

fn validate_race(r: &mut RawRace, origin: &Origin<'_>) -> Result<RaceSpec, ScenarioError> {
    let kind = r.kind.get_or_insert_with(|| "double_spend".to_string()).clone();
    let k = "race.kind";
    origin.known(k, &kind, &RACE_KINDS)?;
    if kind != "double_spend" && kind != "nothing_at_stake" {
        origin.absent("race.q", &r.q, k, &kind)?;
    }
    if kind != "nothing_at_stake" {
        origin.absent("race.slots", &r.slots, k, &kind)?;
        origin.absent("race.max_blocks", &r.max_blocks, k, &kind)?;
    }
    if kind != "double_spend" {
        origin.absent("race.z", &r.z, k, &kind)?;
        origin.absent("race.give_up_behind", &r.give_up_behind, k, &kind)?;
        origin.absent("race.premined", &r.premined, k, &kind)?;
        origin.absent("race.trials", &r.trials, k, &kind)?;
    }
    if kind != "selfish_mining" {
        origin.absent("race.alpha", &r.alpha, k, &kind)?;
        origin.absent("race.gamma", &r.gamma, k, &kind)?;
        origin.absent("race.blocks", &r.blocks, k, &kind)?;
    }
    match kind.as_str() {
        "double_spend" => {
            let q = *r.q.get_or_insert(0.1);
            origin.check(
                q > 0.0 && q < 1.0,
                "race.q",
                q,
                "must be a share strictly between 0 and 1",
            )?;
            let z = *r.z.get_or_insert(6);
            origin.check(z <= 10_000, "race.z", z, "must be at most 10000")?;
            let premined = *r.premined.get_or_insert(0);
            let trials = *r.trials.get_or_insert(100_000);
            origin.check(trials >= 1, "race.trials", trials, "must be at least 1")?;
            if r.give_up_behind.is_none() {
                origin.check(
                    q < 0.5,
                    "race.q",
                    q,
                    "with q >= 0.5 a race may never end; set race.give_up_behind to bound it",
                )?;
            }
            let params =
                crate::race::DoubleSpendRace { q, z, give_up_behind: r.give_up_behind, premined };
            Ok(RaceSpec::DoubleSpend { params, trials })
        }
        "selfish_mining" => {
            let alpha = *r.alpha.get_or_insert(0.3);
            origin.check(
                (0.0..0.5).contains(&alpha),
                "race.alpha",
                alpha,
                "must be in [0, 0.5)",
            )?;
            let gamma = origin.probability("race.gamma", *r.gamma.get_or_insert(0.0))?;
            let blocks = *r.blocks.get_or_insert(1_000_000);
            origin.check(blocks >= 1, "race.blocks", blocks, "must be at least 1")?;
            Ok(RaceSpec::SelfishMining { alpha, gamma, blocks })
        }
        "nothing_at_stake" => {
            let stake = *r.q.get_or_insert(0.3);
            origin.check(
                stake > 0.0 && stake < 1.0,
                "race.q",
                stake,
                "must be a stake strictly between 0 and 1",
            )?;
            let slots = *r.slots.get_or_insert(2_000);
            origin.check(slots >= 2, "race.slots", slots, "must be at least 2")?;
            let max_blocks = *r.max_blocks.get_or_insert(128);
            origin.check(max_blocks >= 1, "race.max_blocks", max_blocks, "must be at least 1")?;
            Ok(RaceSpec::NothingAtStake { stake, slots, max_blocks })
        }
        other => Err(origin.unknown(k, other, &RACE_KINDS)),
    }
}

/// Attackers outside proof of work: a double spend under `pos-slot` (its private branch drawn
/// from its own VRF lottery, its stake its `share`) and a cartel of producers under `dpos`;
/// nothing else is wired yet.
fn validate_stake_attackers(
    attackers: &[attack::AttackerSpec],
    consensus: &super::consensus::ConsensusSpec,
    origin: &Origin<'_>,
) -> Result<(), ScenarioError> {
    use crate::consensus::ConsensusKind::{Dpos, PosSlot};
    let kind = consensus.kind.name();
    for (i, a) in attackers.iter().enumerate() {
        let name = a.strategy.name();
        let double_spend = matches!(a.strategy, attack::StrategySpec::DoubleSpend(_));
        let long_range = matches!(a.strategy, attack::StrategySpec::LongRange(_));
        let cartel = matches!(a.strategy, attack::StrategySpec::Cartel(_));
        let nothing_at_stake = matches!(a.strategy, attack::StrategySpec::NothingAtStake(_));
        origin.check(
            (consensus.kind == PosSlot && (double_spend || long_range || nothing_at_stake))
                || (consensus.kind == Dpos && cartel),
            &format!("attacker[{i}].strategy"),
            format!("\"{name}\""),
            format!(
                "not wired yet for consensus.kind = \"{kind}\": attacks run under \"pow\", a double-spend, a long-range or a nothing-at-stake attack under \"pos-slot\" and a cartel under \"dpos\""
            ),
        )?;
        if nothing_at_stake {
            origin.check(
                attackers.len() == 1,
                &format!("attacker[{i}].strategy"),
                "\"nothing-at-stake\"",
                "runs as the only attacker of a scenario (its tree is measured against the honest chain)",
            )?;
            origin.check(
                a.share > 0.0,
                &format!("attacker[{i}].share"),
                a.share,
                "must be above 0: it is the attacker's stake, which its lottery runs on",
            )?;
        }
        if long_range {
            let first = attackers
                .iter()
                .position(|a| matches!(a.strategy, attack::StrategySpec::LongRange(_)));
            origin.check(
                first == Some(i),
                &format!("attacker[{i}].strategy"),
                "\"long-range\"",
                "only one long-range attacker per scenario (one holder of the old keys)",
            )?;
            origin.check(
                a.share > 0.0,
                &format!("attacker[{i}].share"),
                a.share,
                "must be above 0: it is the old keys' stake at the fork point, sigma_old",
            )?;
        }
        if double_spend || long_range || nothing_at_stake {
            origin.check(
                consensus.stake == super::consensus::StakeSource::HashPower,
                "stake.shares",
                "[ ... ]",
                format!(
                    "does not apply with attacker[{i}]: under \"pos-slot\" an attacker's stake is its share, and the honest stake follows [mining] hash_power; remove [stake]"
                ),
            )?;
        }
    }
    Ok(())
}
