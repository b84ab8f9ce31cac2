//! The scenario file exactly as written: serde structs that mirror the TOML one to one.
//!
//! Every struct denies unknown fields so a typo is an error, not a silently ignored setting.
//! Optional fields are `Option`s here; [`super::validate`] fills in every default, so the
//! resolved form written to `manifest.json` names every setting a run used. Fields whose
//! TOML type varies (a number or a name) are kept as `toml::Value` and interpreted during
//! validation, where the error can say exactly what was expected.

use serde::{Deserialize, Serialize};

/// A whole scenario file.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// How long to run and with which seed.
    #[serde(default)]
    pub run: RawRun,
    /// Consensus rules: block interval, retargeting, size limit.
    #[serde(default)]
    pub chain: RawChain,
    /// Who mines, with how much hash power, in which mode.
    #[serde(default)]
    pub mining: RawMining,
    /// Peers, regions, latency, bandwidth and relay protocol.
    #[serde(default)]
    pub network: RawNetwork,
    /// Per-node costs and limits.
    #[serde(default)]
    pub node: RawNode,
    /// Wallets paying each other with signed transactions (absent: blocks carry filler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<super::workload::RawWorkload>,
    /// A no-network race (Monte Carlo of an attack) instead of a network run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub race: Option<RawRace>,
    /// `[[attacker]]`: nodes that follow an attack strategy instead of the honest protocol.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attacker: Vec<RawAttacker>,
    /// `[[timeline]]`: partitions, heals, nodes leaving and rejoining, at virtual times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<RawTimelineEvent>,
    /// `[consensus]`: the consensus kind and its parameters (absent: proof of work).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus: Option<RawConsensus>,
    /// `[stake]`: each node's stake (absent: the hash-power shares, drawn as for PoW).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stake: Option<RawStake>,
    /// `[compare]`: per-kind settings read by `forksim compare` (see [`crate::compare`]);
    /// a run ignores it, and it is never written into a manifest.
    #[serde(default, skip_serializing)]
    pub compare: Option<toml::Table>,
}

/// `[consensus]`: which consensus family runs, with its parameters (see
/// [`super::consensus`] for the defaults and checks).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawConsensus {
    /// "pow", "pos-slot", "pos-coinage", "dpos" or "poet".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `pos-slot`: slot length in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_s: Option<f64>,
    /// `pos-slot`: the active-slot coefficient f (the chance that a slot has a leader).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_slot_coeff: Option<f64>,
    /// `pos-slot`: the rollback limit k, in blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<u64>,
    /// `pos-slot`: slots per epoch, after which the epoch nonce evolves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch_slots: Option<u64>,
    /// `pos-slot`: stake each block pays its producer, as a fraction of the initial total
    /// stake (absent or 0: no rewards, and nothing is written into the resolved scenario).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_reward: Option<f64>,
    /// `dpos`: elected producers N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producers: Option<u32>,
    /// `dpos`: consecutive blocks of one producer's turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks_per_turn: Option<u32>,
    /// `dpos`: seconds per block slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_interval_s: Option<f64>,
    /// `poet`: mean wait of the network (the expected block interval), in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_wait_s: Option<f64>,
    /// `poet`: the z-test's threshold z_max (Sawtooth: 3.075; `inf` turns the test off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z_max: Option<f64>,
    /// `poet`: the z-test flags only nodes with at least this many wins (Sawtooth: 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z_min_wins: Option<u64>,
    /// `poet`: nodes whose enclave is compromised, each shortening its waits by a factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromised: Option<Vec<RawCompromised>>,
    /// `pos-coinage`: yearly interest on consumed coin-age.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interest: Option<f64>,
    /// `pos-coinage`: what minting does to coin-age: "reset" or "365-days".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumption: Option<String>,
    /// `pos-slot`: how a node syncing from genesis chooses between chains that fork more
    /// than k blocks deep: "longest" (absent: nothing is written into the resolved scenario)
    /// or "genesis" (Ouroboros Genesis' density rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork_choice: Option<String>,
    /// `pos-slot`, `fork_choice = "genesis"`: slots after the fork point whose blocks the
    /// density rule counts (default k / (4f)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genesis_window_slots: Option<u64>,
    /// `pos-slot`: what the leader lottery runs on: "epoch-nonce" (Praos; absent: nothing is
    /// written into the resolved scenario) or "parent-block" (randomness updated per block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_input: Option<String>,
}

/// One `poet` compromised enclave: `{ node = 3, timer_factor = 0.2 }`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawCompromised {
    /// The node, by index.
    pub node: u32,
    /// What its waits are multiplied by, in (0, 1].
    pub timer_factor: f64,
}

/// `[stake]`: stake per node.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawStake {
    /// Stake of node `i` is `shares[i]` (normalised to sum to 1; later nodes hold none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<Vec<f64>>,
}

/// One `[[attacker]]`: a node, its strategy, its hash share and the strategy's options.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawAttacker {
    /// The node, by index or by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<toml::Value>,
    /// "private-chain", "selfish", "double-spend", "invalid", "cartel" (`dpos`) or "honest"
    /// (with `relay = false`: an eclipsing node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// The attacker's share of the total hash power (honest miners share the rest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// Whether the node relays blocks mined by others (false: it keeps them to itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<bool>,
    /// `private-chain`: virtual time at which the private branch starts (mines honestly before);
    /// `cartel`, mode "split": when the split begins; `nothing-at-stake`: when its tree starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_s: Option<f64>,
    /// `private-chain`, `long-range`, `nothing-at-stake`: publish once the private branch is
    /// this many blocks ahead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_lead: Option<u32>,
    /// `private-chain`: publish only once the honest chain has this many blocks on the fork.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_after: Option<u32>,
    /// `private-chain`: give up (adopt the honest tip) this many blocks behind; absent = never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub give_up_behind: Option<u32>,
    /// `selfish`: share of honest power that takes the attacker's block in a tie (a number), or
    /// "emergent" (first seen over the network's real latency, then measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma: Option<toml::Value>,
    /// `selfish`: how the pool sends the blocks it publishes: "relay" (as the relay
    /// protocol announces a mined block), "push" (the whole block to every peer) or
    /// "compact" (a `cmpctblock` to every BIP152 peer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<String>,
    /// `selfish`: when the pool answers a competing block: "header" (when a peer announces
    /// it) or "block" (once it has fetched and validated it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_on: Option<String>,
    /// `double-spend`: the merchant's node, by index or name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant: Option<toml::Value>,
    /// `double-spend`: confirmations the merchant waits for before shipping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z: Option<u32>,
    /// `double-spend`: when the attacker pays the merchant (and starts its private branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_at_s: Option<f64>,
    /// `double-spend`: independent runs of the whole scenario (each stops once the attack
    /// is decided); 1 = one ordinary run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials: Option<u64>,
    /// `invalid`: seconds between two items of bad data (each to one peer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_s: Option<f64>,
    /// `invalid`: the kinds of bad data it sends, in turn (default: every kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<String>>,
    /// `invalid`: blocks with an unknown parent sent at once in one `unknown-parent` item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flood_blocks: Option<u32>,
    /// `cartel`: "censor" (leave payments out of the cartel's blocks) or "split" (build and
    /// relay only the cartel's blocks from `start_s` on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// `cartel`, mode "censor": "all", or the nodes whose submitted payments are censored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censor: Option<toml::Value>,
    /// `long-range` (`pos-slot`): when the old keys' stake is sold on the honest chain, in
    /// seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale_s: Option<f64>,
    /// `long-range`: the fork leaves the chain at its last block before this time, in
    /// seconds (default: the sale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork_s: Option<f64>,
    /// `nothing-at-stake` (`pos-slot`): the most blocks of its private tree the attacker
    /// keeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_blocks: Option<u32>,
    /// `nothing-at-stake`: which blocks it runs the lottery on in each slot: "every-block"
    /// or "tip".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lottery_on: Option<String>,
}

/// `network.eclipse`: a victim whose every connection goes to attacker nodes.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawEclipse {
    /// The eclipsed node, by index or name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub victim: Option<toml::Value>,
    /// The nodes it is connected to instead of its own peers, by index or name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attackers: Option<Vec<toml::Value>>,
}

/// One `[[timeline]]` entry: one action at a virtual time.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawTimelineEvent {
    /// When, in virtual seconds from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_s: Option<f64>,
    /// Split the network: a list of groups (nodes or region names), or `{ share = 0.5 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<toml::Value>,
    /// `true`: restore every cut link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heal: Option<bool>,
    /// Nodes going offline: a list of nodes or region names, or `{ share = 0.1 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leave: Option<toml::Value>,
    /// Nodes coming back: a list of nodes or region names, or "all".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejoin: Option<toml::Value>,
}

/// `[race]`: the attack race without a network, each block the attacker's with probability q
/// (or alpha).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawRace {
    /// "double_spend" or "selfish_mining".
    pub kind: Option<String>,
    /// `double_spend`: the attacker's share of the hash power.
    pub q: Option<f64>,
    /// `double_spend`: confirmations the merchant waits for.
    pub z: Option<u32>,
    /// `double_spend`: blocks behind at which the attacker gives up (absent = never).
    pub give_up_behind: Option<u32>,
    /// `double_spend`: blocks the attacker mined in private before paying.
    pub premined: Option<u32>,
    /// `double_spend`: independent races to run.
    pub trials: Option<u64>,
    /// `selfish_mining`: the selfish miner's share of the hash power.
    pub alpha: Option<f64>,
    /// `selfish_mining`: share of honest power that mines on the selfish block in a tie.
    pub gamma: Option<f64>,
    /// `selfish_mining`: blocks to mine.
    pub blocks: Option<u64>,
    /// `nothing_at_stake` (pos-slot): slots to run. (Left out of manifests when absent, so
    /// the manifests of other races are as before.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<u64>,
    /// `nothing_at_stake` (pos-slot): the most blocks the attacker keeps in its tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_blocks: Option<u64>,
}

/// `[run]`
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    /// Scenario name; results go to `results/<name>/`. Defaults to the file stem.
    pub name: Option<String>,
    /// Master seed of every random stream.
    pub seed: Option<u64>,
    /// Stop mining after this many blocks have been mined (stale ones included).
    pub blocks: Option<u64>,
    /// Hard cap on virtual time, in seconds.
    pub max_time_s: Option<f64>,
    /// Hard cap on processed events.
    pub max_events: Option<u64>,
    /// The last this-many mined blocks are left out of the stale rate.
    pub settle_blocks: Option<u64>,
    /// After mining stops, let messages drain for at most this many seconds.
    pub drain_s: Option<f64>,
}

/// `[chain]`
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawChain {
    /// Target time between blocks, in seconds.
    pub block_interval_s: Option<f64>,
    /// Blocks between difficulty retargets (0 = never).
    pub retarget_interval: Option<u32>,
    /// Consensus limit on serialized block size.
    pub max_block_size_bytes: Option<u64>,
    /// Timestamp of the genesis block (Unix seconds).
    pub genesis_time: Option<u32>,
    /// The easiest target allowed, in compact form.
    pub pow_limit_bits: Option<u32>,
    /// Depth below the most-work tip at which block bodies, undo data and verified
    /// signatures are dropped (left out of the resolved scenario when not given, so results
    /// folders of scenarios without it are unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune_depth: Option<u32>,
}

/// `[mining]`
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawMining {
    /// "sampled" or "ground".
    pub mode: Option<String>,
    /// Total hash rate of the network, in hashes per second; sets the initial difficulty.
    pub network_hashrate_hs: Option<f64>,
    /// Sampled mode: expected hashes to grind a nonce against the simulation target.
    pub grind_hashes: Option<f64>,
    /// How many nodes mine (a seeded random subset); the rest only relay.
    pub miners: Option<u32>,
    /// How hash power is spread over the miners.
    pub hash_power: Option<RawHashPower>,
    /// Payload of every mined block, in bytes (coinbase included).
    pub block_size_bytes: Option<u64>,
    /// Mean transaction size used to turn the payload into a transaction count.
    pub tx_size_bytes: Option<u32>,
}

/// `[mining.hash_power]`
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawHashPower {
    /// Measured pool shares by name ("bitcoin-2015", "bitcoin-2018", "bitcoin-2019", "litecoin",
    /// "dogecoin"), instead of a distribution. Left out of the resolved form when absent, so
    /// older manifests stay as they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// "equal", "shares", "uniform", "normal", "exponential" or "pareto".
    pub distribution: Option<String>,
    /// `shares`: one share per node in node order, summing to 1.
    pub shares: Option<Vec<f64>>,
    /// `uniform`: smallest weight.
    pub min: Option<f64>,
    /// `uniform`: largest weight.
    pub max: Option<f64>,
    /// `normal` and `exponential`: mean weight.
    pub mean: Option<f64>,
    /// `normal`: standard deviation of the weight.
    pub sd: Option<f64>,
    /// `pareto`: tail index (smaller = more concentrated pools).
    pub alpha: Option<f64>,
}

/// `[network]`
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    /// Number of nodes.
    pub nodes: Option<u32>,
    /// Optional node names (classroom networks), one per node.
    pub names: Option<Vec<String>>,
    /// Node share per region: a preset name or "global" for one region.
    pub regions: Option<String>,
    /// Peer graph.
    pub topology: Option<RawTopology>,
    /// Link latency.
    pub latency: Option<RawLatency>,
    /// Node bandwidth.
    pub bandwidth: Option<RawBandwidth>,
    /// Block relay protocol.
    pub relay: Option<RawRelay>,
    /// An eclipsed node: all its links go to attacker nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eclipse: Option<RawEclipse>,
    /// `[[network.group]]`: nodes with their own bandwidth and links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Vec<RawGroup>>,
    /// `[[network.region]]`: a region table of the user's own, in place of a named
    /// `regions` share (its latency matrix is `network.latency.matrix_ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Vec<RawRegion>>,
}

/// `[[network.region]]`: one region of a user-supplied region table.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    /// The region's name (unique; attackers, groups and the timeline may name it).
    pub name: Option<String>,
    /// Share of the nodes in this region; the shares of all regions sum to 1.
    pub node_share: Option<f64>,
    /// Upload bandwidth of a node in this region, bit/s (`network.bandwidth.model =
    /// "regions"`).
    pub upload_bps: Option<u64>,
    /// Download bandwidth of a node in this region, bit/s (`network.bandwidth.model =
    /// "regions"`).
    pub download_bps: Option<u64>,
}

/// `[[network.group]]`
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    /// "miners", "attackers", or a list of node indices or names.
    pub nodes: Option<toml::Value>,
    /// Upload bandwidth of every member, bit/s.
    pub upload_bps: Option<u64>,
    /// Download bandwidth of every member, bit/s.
    pub download_bps: Option<u64>,
    /// Link every pair of members.
    pub mesh: Option<bool>,
    /// Latency of the mesh links, ms (otherwise from the latency model).
    pub mesh_latency_ms: Option<f64>,
    /// Bandwidth of each mesh link of its own, bit/s (left out of the manifest when not
    /// given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mesh_bandwidth_bps: Option<u64>,
    /// Extra peers per member.
    pub extra_links: Option<u32>,
    /// Extra peers per member, as a share of all nodes.
    pub link_share: Option<f64>,
    /// Extra peers until each member has at least this many peers in all (left out of
    /// the manifest when not given, so that older manifests read the same).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peers_min: Option<u32>,
    /// At most this many peers per member (left out of the manifest when not given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peers_max: Option<u32>,
    /// The region the members sit in (left out of the manifest when not given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// `[network.topology]`
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawTopology {
    /// "random", "small_world", "scale_free", "complete" or "edges".
    pub kind: Option<String>,
    /// `random`: outbound connections per node, a number or a measured distribution name.
    pub outbound: Option<toml::Value>,
    /// `random`: most inbound connections a node accepts.
    pub inbound_max: Option<u32>,
    /// `small_world`: ring neighbours per node (even).
    pub neighbors: Option<u32>,
    /// `small_world`: probability of rewiring each ring edge.
    pub rewire_probability: Option<f64>,
    /// `scale_free`: edges each new node attaches with.
    pub attach: Option<u32>,
    /// `edges`: explicit undirected edges as `[a, b]` node index pairs.
    pub edges: Option<Vec<[u32; 2]>>,
}

/// `[network.latency]`
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawLatency {
    /// "regions", "constant", "uniform" or "lognormal".
    pub model: Option<String>,
    /// `regions`: which measured matrix, "2015" or "2019" (a bare number is accepted).
    #[serde(default, deserialize_with = "name_or_number")]
    pub table: Option<String>,
    /// `regions`: "pareto" (SimBlock-style spread around the table mean) or "none".
    pub jitter: Option<String>,
    /// `regions` with pareto jitter: Pareto shape.
    pub jitter_shape: Option<f64>,
    /// `constant`: one-way latency.
    pub ms: Option<f64>,
    /// `uniform`: lower bound.
    pub min_ms: Option<f64>,
    /// `uniform`: upper bound.
    pub max_ms: Option<f64>,
    /// `lognormal`: median latency.
    pub median_ms: Option<f64>,
    /// `lognormal`: sigma of the underlying normal.
    pub sigma: Option<f64>,
    /// Each message's latency around its link's: "simblock", "pareto", "lognormal" or "none".
    pub per_message: Option<String>,
    /// `per_message = "pareto"`: the Pareto shape.
    pub per_message_shape: Option<f64>,
    /// `per_message = "lognormal"`: sigma of the underlying normal.
    pub per_message_sigma: Option<f64>,
    /// `regions` with a `[[network.region]]` table: the mean one-way latency in ms between
    /// regions, one row per region in table order (`matrix_ms[from][to]`, symmetric).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix_ms: Option<Vec<Vec<f64>>>,
}

/// `[network.bandwidth]`
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawBandwidth {
    /// "regions" or "constant".
    pub model: Option<String>,
    /// `regions`: which measured table, "2015" or "2019" (a bare number is accepted).
    #[serde(default, deserialize_with = "name_or_number")]
    pub table: Option<String>,
    /// `constant`: upload of every node.
    pub upload_bps: Option<u64>,
    /// `constant`: download of every node.
    pub download_bps: Option<u64>,
    /// Spread of per-node bandwidth around the table: sigma of a log-normal factor of mean 1.
    pub node_spread_sigma: Option<f64>,
    /// Whether a node's upload and download take one spread factor ("shared", the default)
    /// or one each ("independent", as Gervais et al. draw them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_spread_directions: Option<String>,
    /// Per-node bandwidth drawn from a measured distribution per region ("bitcoin-2015")
    /// instead of the table's means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_distribution: Option<String>,
    /// How an uplink carries concurrent messages: "shared", "fifo", "block-fifo" or
    /// "until-arrival".
    pub uplink: Option<String>,
    /// `block-fifo`: the TCP window of a connection, in bytes (a connection carries at most
    /// one window per round trip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_window_bytes: Option<u64>,
    /// `block-fifo`: whether a block also crosses the link itself ("tcp", the default: at
    /// the smallest of both nodes' speeds, one TCP window per round trip) or only the two
    /// queues time it ("none", as Gervais et al.'s code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_wire: Option<String>,
}

/// `[network.relay]`
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawRelay {
    /// "inv" (inv, getdata, block), "push" (unsolicited blocks) or "compact" (BIP152).
    pub protocol: Option<String>,
    /// `compact`: share of nodes that speak compact blocks.
    pub compact_share: Option<f64>,
    /// `compact`: peers each node asks to push compact blocks unannounced (BIP152
    /// high-bandwidth mode); its other compact peers announce first (low-bandwidth mode).
    pub compact_high_bandwidth_peers: Option<u32>,
    /// `compact`, without a workload: probability a receiver lacks transactions and needs
    /// an extra round trip (default 0.13, SimBlock's `CBR_FAILURE_RATE_FOR_CONTROL_NODE`).
    pub compact_failure_probability: Option<f64>,
    /// `compact`: share of the block's transaction bytes fetched in that round trip
    /// (default 0.05, an assumption with no measured source).
    pub compact_missing_tx_share: Option<f64>,
    /// `compact`: how much a failed reconstruction fetches: "fixed" (the missing share) or
    /// "simblock" (SimBlock's measured distributions).
    pub compact_refetch: Option<String>,
    /// `compact`: share of nodes whose mempools churn.
    pub compact_churn_share: Option<f64>,
    /// `compact`: failure probability of a churning node's reconstruction.
    pub compact_churn_failure_probability: Option<f64>,
    /// Added to the latency of every control message (inv, getdata), in milliseconds.
    pub control_overhead_ms: Option<f64>,
    /// Which validated blocks a node announces: "best-chain" (the default) or
    /// "every-block" (stale ones included, as Gervais et al.'s nodes do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announce: Option<String>,
    /// `inv` and `push`: seconds after which a node that asked a peer for a block and has
    /// not got it asks another peer that announced it (absent: it never asks again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout_s: Option<f64>,
}

/// `[node]`
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    /// Fixed validation cost per block before relaying.
    pub validation_ms_base: Option<f64>,
    /// Validation cost per megabyte of block.
    pub validation_ms_per_mb: Option<f64>,
    /// Most blocks with unknown parents a node holds.
    pub orphan_pool_max: Option<u32>,
    /// Validation cost per transaction input whose signature the node had not already
    /// verified in its mempool, in microseconds.
    pub validation_us_per_input: Option<f64>,
    /// Validation cost per transaction that was not in the node's mempool when the block
    /// came (beside its inputs' signatures), in microseconds.
    pub validation_us_per_missing_tx: Option<f64>,
}

/// Reads a name that may be written as a bare integer (`table = 2019` or `"2019"`), as
/// users type on the command line.
fn name_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct NameOrNumber;
    impl<'de> serde::de::Visitor<'de> for NameOrNumber {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a table name such as \"2019\"")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: serde::Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(self)
        }
    }
    d.deserialize_option(NameOrNumber)
}
