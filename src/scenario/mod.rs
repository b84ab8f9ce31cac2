//! Scenarios: the TOML files that describe a run, and their validated, typed form.
//!
//! Loading follows three steps, kept apart so each error is precise:
//! 1. [`raw`]: parse the file into structs that mirror it (typos and wrong types fail here);
//! 2. [`overrides`]: apply `--set FIELD.PATH=VALUE` to the parsed tree before step 1's
//!    deserialization, so an override is checked exactly like the file;
//! 3. [`validate`]: check meaning (positive rates, shares summing to 1, possible networks),
//!    fill every default, and build the typed [`Scenario`] the simulator runs.
//!
//! Every error names the file (or the `--set` that caused it), the field path and the value.

pub mod attack;
pub mod cartel;
pub mod consensus;
pub mod groups;
pub mod overrides;
pub mod raw;
pub mod regions;
pub mod validate;
pub mod workload;

use std::path::{Path, PathBuf};

use crate::chain::CompactTarget;
use crate::network::NetworkSpec;
use crate::time::{SimDuration, SimTime};

pub use crate::mining::pools::{Pool, PoolPreset};
pub use overrides::{Override, OverrideError};
pub use raw::RawScenario;
pub use workload::{ConflictSpec, SubmitTo, WorkloadSpec};

/// A scenario that failed to load; every variant says where and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{file}: cannot read scenario file: {reason}")]
    Read {
        /// The path given.
        file: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The file is not valid TOML.
    #[error("{file}: not valid TOML: {message}")]
    Syntax {
        /// The path given.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A field is unknown, has the wrong type, or a value that makes no sense.
    #[error("{origin}: field `{field}` = {value}: {problem}")]
    Field {
        /// The file, or the `--set` argument the value came from.
        origin: String,
        /// Dotted path of the field, e.g. `network.topology.outbound`.
        field: String,
        /// The offending value as written (or `(missing)`).
        value: String,
        /// What is wrong, in plain words.
        problem: String,
    },
    /// A `--set` argument is malformed.
    #[error("--set {argument}: {source}")]
    Override {
        /// The argument as given.
        argument: String,
        /// What is wrong with it.
        source: OverrideError,
    },
}

/// How blocks are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MiningMode {
    /// Exponential block times from hash power and difficulty; a real nonce is then ground
    /// against the easy simulation target.
    Sampled,
    /// Nodes try nonces one by one at their hash rate in virtual time against the real
    /// (small) target: the hashes themselves decide who wins.
    Ground,
}

/// How hash power is spread over the miners (weights are normalised to shares).
#[derive(Clone, Debug, PartialEq)]
pub enum HashPowerSpec {
    /// Measured pools from a named table (`hash_power = { preset = "..." }`): one pool per
    /// mining node, the same shares on every seed, each pool on a node of its region when
    /// the network has regions.
    Preset(&'static PoolPreset),
    /// Every miner has the same share.
    Equal,
    /// Explicit shares for nodes 0, 1, ... in order; the rest do not mine.
    Shares(Vec<f64>),
    /// Weights uniform on [min, max].
    Uniform {
        /// Smallest weight.
        min: f64,
        /// Largest weight.
        max: f64,
    },
    /// Normal weights (truncated at a small positive floor).
    Normal {
        /// Mean weight.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// Exponential weights.
    Exponential {
        /// Mean weight.
        mean: f64,
    },
    /// Pareto weights with scale 1 and tail index `alpha` (few large pools).
    Pareto {
        /// Tail index.
        alpha: f64,
    },
}

/// Block relay protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayProtocol {
    /// inv, then getdata, then the block.
    Inv,
    /// The miner of a block pushes the whole block unasked to all its peers; every other
    /// node relays by inv/getdata (the literature's "unsolicited block push").
    Push,
    /// Every node pushes every whole block unasked to every peer (a flood: simplest to
    /// follow in a classroom, but no real node does it).
    Flood,
    /// BIP152 compact blocks between nodes that both speak them (pushed by a node's
    /// high-bandwidth peers, announced and then requested from the others); inv otherwise.
    Compact,
}

/// When a run stops.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// Mining stops after this many blocks.
    pub blocks: u64,
    /// Hard cap on virtual time.
    pub max_time: SimTime,
    /// Hard cap on processed events.
    pub max_events: u64,
    /// Blocks at the end excluded from the stale rate.
    pub settle_blocks: u64,
    /// How long messages may drain after mining stops.
    pub drain: SimDuration,
}

/// Consensus settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainSpec {
    /// Target block interval in seconds.
    pub block_interval_s: f64,
    /// Blocks between retargets (0 = never).
    pub retarget_interval: u32,
    /// Size limit.
    pub max_block_size_bytes: u64,
    /// Genesis timestamp (Unix seconds).
    pub genesis_time: u32,
    /// Easiest allowed target.
    pub pow_limit_bits: CompactTarget,
    /// Depth below the most-work tip at which blocks become final and are pruned; a reorg
    /// deeper than this is refused.
    pub prune_depth: u32,
}

/// Mining settings.
#[derive(Clone, Debug, PartialEq)]
pub struct MiningSpec {
    /// Sampled or ground.
    pub mode: MiningMode,
    /// Total hash rate (H/s) that sets the initial difficulty.
    pub network_hashrate_hs: f64,
    /// Expected hashes against the simulation target (sampled mode).
    pub grind_hashes: f64,
    /// Number of mining nodes.
    pub miners: u32,
    /// Spread of hash power.
    pub hash_power: HashPowerSpec,
    /// Payload per block.
    pub block_size_bytes: u64,
    /// Mean transaction size (for the transaction count).
    pub tx_size_bytes: u32,
}

/// Relay settings.
#[derive(Clone, Debug, PartialEq)]
pub struct RelaySpec {
    /// Protocol.
    pub protocol: RelayProtocol,
    /// Share of nodes speaking compact blocks.
    pub compact_share: f64,
    /// Peers a node takes compact blocks from unannounced (BIP152 high-bandwidth mode).
    pub compact_high_bandwidth_peers: u32,
    /// Probability a compact block needs an extra round trip.
    pub compact_failure_probability: f64,
    /// Share of transaction bytes fetched in that round trip.
    pub compact_missing_tx_share: f64,
    /// How much of a block a failed reconstruction fetches (without a workload).
    pub compact_refetch: Refetch,
    /// Share of nodes whose mempools churn (SimBlock: 97.6 %): they fail with
    /// `compact_churn_failure_probability` instead.
    pub compact_churn_share: f64,
    /// Failure probability of a churning node's reconstruction.
    pub compact_churn_failure_probability: f64,
    /// Which validated blocks a node announces.
    pub announce: Announce,
    /// After this long without the block it asked a peer for (on that peer's `inv`), a
    /// node asks another peer that announced it, chosen at random, without cancelling the
    /// first request (Gervais et al.'s `InvTimeoutMinutes`, twice their block interval);
    /// `None`: a node waits for its first request however long it takes.
    pub request_timeout: Option<SimDuration>,
}

/// Which validated blocks a node announces to its peers (`network.relay.announce`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Announce {
    /// Blocks that join its best chain, as Bitcoin Core does (the default): a block that
    /// loses a race at a node goes no further from it.
    #[default]
    BestChain,
    /// Every block it validates, stale ones included, as the nodes of Gervais et al.'s
    /// simulator do (`AdvertiseNewBlock` after every `AfterBlockValidation`).
    EveryBlock,
}

/// How much of a block a failed compact-block reconstruction fetches, when no workload fills
/// real mempools.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Refetch {
    /// Always `compact_missing_tx_share` of the transactions.
    Fixed,
    /// SimBlock's measured distributions (its `CBR_FAILURE_BLOCK_SIZE_DISTRIBUTION_*`): 1 % of
    /// the block for a non-churning node; for a churning node a draw from 945 measured
    /// shares (median 1 %, mean 8.7 %, 90th percentile 28 %).
    SimBlock,
}

impl Refetch {
    /// SimBlock's churning-node shares, in hundredths, as (share, how many of the 945).
    const SIMBLOCK_CHURN: [(u32, u32); 23] = [
        (1, 546),
        (2, 66),
        (3, 39),
        (4, 27),
        (5, 21),
        (6, 17),
        (7, 14),
        (8, 12),
        (9, 11),
        (10, 10),
        (11, 9),
        (12, 8),
        (13, 7),
        (14, 7),
        (15, 6),
        (16, 6),
        (17, 5),
        (18, 5),
        (19, 5),
        // From here on each share in a range appears the same number of times.
        (20, 4),
        (25, 3),
        (33, 2),
        (49, 1),
    ];

    /// The share of a block to fetch, for a node that churns or not, from a uniform draw `u`
    /// in [0, 1).
    pub fn share(self, fixed: f64, churn: bool, u: f64) -> f64 {
        match self {
            Refetch::Fixed => fixed,
            Refetch::SimBlock if !churn => 0.01,
            Refetch::SimBlock => {
                let mut index = (u * 945.0) as u32;
                let table = &Self::SIMBLOCK_CHURN;
                for (k, &(share, count)) in table.iter().enumerate() {
                    let last = table.get(k + 1).map_or(97, |next| next.0);
                    let (width, per) = if share >= 20 { (last - share, count) } else { (1, count) };
                    let block = width * per;
                    if index < block {
                        return f64::from(share + index / per) / 100.0;
                    }
                    index -= block;
                }
                0.96
            }
        }
    }
}

/// Per-node settings.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpec {
    /// Fixed validation cost.
    pub validation_base: SimDuration,
    /// Validation cost per megabyte, in milliseconds.
    pub validation_ms_per_mb: f64,
    /// Orphan pool bound.
    pub orphan_pool_max: u32,
    /// Validation cost per input not verified before (in the node's mempool).
    pub validation_per_input: SimDuration,
    /// Validation cost per transaction not in the node's mempool, beside its inputs.
    pub validation_per_missing_tx: SimDuration,
}

/// A race without a network.
#[derive(Clone, Debug, PartialEq)]
pub enum RaceSpec {
    /// Double spend against a merchant waiting for z confirmations.
    DoubleSpend {
        /// Attacker share, confirmations, give-up rule, pre-mined blocks.
        params: crate::race::DoubleSpendRace,
        /// Independent races.
        trials: u64,
    },
    /// Eyal and Sirer's selfish mining.
    SelfishMining {
        /// The selfish miner's share.
        alpha: f64,
        /// Tie-breaking share of honest power.
        gamma: f64,
        /// Blocks to mine.
        blocks: u64,
    },
    /// Nothing at stake on a slot lottery (`consensus.kind = "pos-slot"` only).
    NothingAtStake {
        /// The attacker's relative stake.
        stake: f64,
        /// Slots to run.
        slots: u64,
        /// The most blocks the attacker keeps in its tree.
        max_blocks: u64,
    },
}

/// A validated scenario, ready to build a world from.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Where it came from (for messages).
    pub source: PathBuf,
    /// Name, used for the results folder.
    pub name: String,
    /// Master seed.
    pub seed: u64,
    /// Stop rules.
    pub run: RunSpec,
    /// Consensus.
    pub chain: ChainSpec,
    /// Mining.
    pub mining: MiningSpec,
    /// Network layout.
    pub network: NetworkSpec,
    /// Node names (generated `n0`, `n1`, ... when not given).
    pub node_names: Vec<String>,
    /// Relay protocol.
    pub relay: RelaySpec,
    /// Per-node bandwidth spread: sigma of a log-normal factor of mean 1 (0: none).
    pub bandwidth_sigma: f64,
    /// Whether the spread draws one factor for a node's upload and another for its
    /// download (Gervais et al.) rather than one for both.
    pub bandwidth_spread_independent: bool,
    /// Per-node bandwidth drawn from a measured distribution per region, replacing the
    /// table's means and the log-normal spread.
    pub bandwidth_distribution: Option<crate::network::measured_bandwidth::MeasuredBandwidth>,
    /// Node groups with their own bandwidth and links, applied in order.
    pub groups: Vec<groups::GroupSpec>,
    /// How messages use links: uplink model, per-message latency, control overhead.
    pub transfer: crate::network::transport::TransferSpec,
    /// Node costs.
    pub node: NodeSpec,
    /// Wallets and payments, if the scenario has `[workload]`.
    pub workload: Option<WorkloadSpec>,
    /// `[consensus]` and `[stake]`: the consensus kind (proof of work when absent).
    pub consensus: consensus::ConsensusSpec,
    /// A no-network race instead of a network run, if the scenario has `[race]`.
    pub race: Option<RaceSpec>,
    /// Nodes following an attack strategy, in file order (empty: every node is honest).
    pub attackers: Vec<attack::AttackerSpec>,
    /// An eclipsed node, if any.
    pub eclipse: Option<attack::EclipseSpec>,
    /// Partitions, heals and churn, in time order.
    pub timeline: Vec<attack::TimelineEvent>,
    /// The scenario with every default filled in, as recorded in the manifest.
    pub resolved: RawScenario,
}

/// Reads, overrides and validates a scenario file.
///
/// # Errors
///
/// Returns a [`ScenarioError`] naming the file, field and value of the first problem found.
pub fn load(
    path: &Path,
    overrides: &[Override],
    seed: Option<u64>,
) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ScenarioError::Read { file: file.clone(), reason: e.to_string() })?;
    from_str(&text, path, overrides, seed)
}

/// Like [`load`], from text already in memory (`path` is used for messages and the default
/// name).
///
/// # Errors
///
/// Returns a [`ScenarioError`] naming the file, field and value of the first problem found.
pub fn from_str(
    text: &str,
    path: &Path,
    overrides: &[Override],
    seed: Option<u64>,
) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let mut table: toml::Table = toml::from_str(text).map_err(|e| ScenarioError::Syntax {
        file: file.clone(),
        message: flatten(&e.to_string()),
    })?;
    for o in overrides {
        o.apply_to(&mut table, &file)?;
    }
    let mut raw: RawScenario = overrides::deserialize(table, &file, overrides)?;
    if seed.is_some() {
        raw.run.seed = seed;
    }
    let origin = validate::Origin::new(&file, overrides);
    validate::validate(raw, path, &origin)
}

/// Validates a scenario that is already parsed, such as the resolved scenario recorded in a
/// run's `manifest.json` (`source` is used in messages and for the default name).
///
/// # Errors
///
/// Returns a [`ScenarioError`] naming the field and value of the first problem found.
pub fn from_raw(raw: RawScenario, source: &Path) -> Result<Scenario, ScenarioError> {
    let file = source.display().to_string();
    validate::validate(raw, source, &validate::Origin::new(&file, &[]))
}

/// Turns a multi-line parser message into one line.
fn flatten(message: &str) -> String {
    message.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod refetch_tests {
    use super::Refetch;

    #[test]
    fn simblock_churn_refetch_shares_have_simblocks_mean_median_and_p90() {
        let n = 945;
        let shares: Vec<f64> = (0..n)
            .map(|i| Refetch::SimBlock.share(0.0, true, (f64::from(i) + 0.5) / f64::from(n)))
            .collect();
        assert!(shares.windows(2).all(|w| w[0] <= w[1]));
        let mean = shares.iter().sum::<f64>() / f64::from(n);
        assert!((mean - 0.0872).abs() < 5e-4, "mean {mean}");
        assert_eq!(shares[472], 0.01, "median");
        assert_eq!(shares[850], 0.28, "90th percentile");
        assert_eq!(shares[944], 0.96, "largest");
        assert_eq!(Refetch::SimBlock.share(0.5, false, 0.9), 0.01, "non-churning nodes");
        assert_eq!(Refetch::Fixed.share(0.05, true, 0.9), 0.05);
    }
}
