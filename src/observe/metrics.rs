//! The metrics of DESIGN.md, computed from records only.
//!
//! - **Propagation** of a block: time from being mined until 50 %, 90 % and 100 % of nodes
//!   have accepted it (the miner counts as holding it at once). With `n` nodes, "p % of
//!   nodes" means the first ⌈p·n/100⌉ acceptances.
//! - **Stale block**: a valid block not in the final most-work chain, counted over the blocks
//!   mined before the last `settle_blocks` (so the chain tip does not bias the rate).
//! - **Reorg**: a node's tip moves to a chain that does not extend it; depth = blocks
//!   disconnected.
//! - **Revenue share**: a miner's blocks in the final main chain / all main-chain blocks.
//!
//! What depends on the final main chain (stale blocks, revenue) is computed here from the
//! records and the chain's per-block flags once the run is over.

use std::collections::BTreeMap;

use serde::Serialize;

use super::attack::AttackLog;
use super::invalid::InvalidTally;
use super::{Observer, Record, TipOutcome};
use crate::chain::validate::check_header_pow;
use crate::chain::{BlockId, BlockStore, RejectReason};
use crate::id::NodeId;
use crate::node::MAX_FUTURE_BLOCK_TIME_S;
use crate::scenario::Scenario;
use crate::scenario::attack::StrategySpec;
use crate::time::SimTime;

/// Shares of nodes, in percent, at which each block's spread is timed (every 5 %).
pub const CDF_PERCENTS: [u32; 20] =
    [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100];

/// Indices into [`CDF_PERCENTS`] of the 50 %, 90 % and 100 % columns of `propagation.csv`.
pub const P50_P90_P100: [usize; 3] = [9, 17, 19];

/// Per-block propagation progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockSpread {
    /// The block.
    pub block: BlockId,
    /// Who mined it.
    pub miner: NodeId,
    /// When it was mined.
    pub mined_at: SimTime,
    /// Nodes that hold it so far.
    pub holders: u32,
    /// When each share of [`CDF_PERCENTS`] of nodes held it.
    pub reached_at: [Option<SimTime>; 20],
    /// How many entries of `reached_at` are filled.
    reached: u8,
}

/// Every mined block's [`BlockSpread`], in mining order, kept compactly: the share times as
/// microseconds after mining in a `u32` (a time that does not fit, over 71 minutes after
/// mining, goes to a side table), about a third of the memory of a [`BlockSpread`]. Read
/// back as [`BlockSpread`] values, exactly as recorded.
#[derive(Clone, Debug, Default)]
pub struct Spreads {
    rows: Vec<CompactSpread>,
    /// Share times that do not fit a row, by (row, share index).
    late: BTreeMap<(u32, u8), SimTime>,
}

#[derive(Clone, Copy, Debug)]
struct CompactSpread {
    block: BlockId,
    miner: NodeId,
    mined_at: SimTime,
    holders: u32,
    reached: u8,
    /// For the first `reached` shares: microseconds after mining, or [`Spreads::LATE`].
    after_us: [u32; 20],
}

impl Spreads {
    /// Marks a share time kept in the side table.
    const LATE: u32 = u32::MAX;

    /// Number of mined blocks.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no block was mined.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The blocks' spreads in mining order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = BlockSpread> + '_ {
        (0..self.rows.len()).map(|i| self.get(i))
    }

    /// The spread of the `i`-th mined block.
    ///
    /// # Panics
    /// Panics if `i` is not below [`Spreads::len`].
    pub fn get(&self, i: usize) -> BlockSpread {
        let row = &self.rows[i];
        let mut reached_at = [None; 20];
        for (k, at) in reached_at.iter_mut().enumerate().take(usize::from(row.reached)) {
            *at = Some(match row.after_us[k] {
                Self::LATE => self.late[&(i as u32, k as u8)],
                us => SimTime(row.mined_at.0 + u64::from(us)),
            });
        }
        BlockSpread {
            block: row.block,
            miner: row.miner,
            mined_at: row.mined_at,
            holders: row.holders,
            reached_at,
            reached: row.reached,
        }
    }

    fn push(&mut self, block: BlockId, miner: NodeId, mined_at: SimTime) {
        self.rows.push(CompactSpread {
            block,
            miner,
            mined_at,
            holders: 0,
            reached: 0,
            after_us: [0; 20],
        });
    }

    /// Records one more holder of the `i`-th block at `time`, filling the shares of
    /// `thresholds` it completes.
    fn hold(&mut self, i: usize, time: SimTime, thresholds: &[u32; 20]) {
        let row = &mut self.rows[i];
        row.holders += 1;
        while let Some(&threshold) = thresholds.get(usize::from(row.reached)) {
            if row.holders < threshold {
                break;
            }
            let k = usize::from(row.reached);
            row.after_us[k] = match time.0.checked_sub(row.mined_at.0).map(u32::try_from) {
                Some(Ok(us)) if us != Self::LATE => us,
                _ => {
                    self.late.insert((i as u32, k as u8), time);
                    Self::LATE
                }
            };
            row.reached += 1;
        }
    }
}

/// One reorg as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReorgEvent {
    /// The node.
    pub node: NodeId,
    /// When.
    pub time: SimTime,
    /// Blocks disconnected.
    pub depth: u32,
    /// Old tip.
    pub old_tip: BlockId,
    /// New tip.
    pub new_tip: BlockId,
}

/// One mempool size sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MempoolSample {
    /// The node.
    pub node: NodeId,
    /// Transactions in its mempool.
    pub txs: u64,
    /// Their bytes.
    pub bytes: u64,
    /// When.
    pub time: SimTime,
}

/// Collects the metrics of a run from its records.
pub struct Metrics {
    thresholds: [u32; 20],
    /// Mined blocks in mining order.
    pub spreads: Spreads,
    /// Index into `spreads` by block id (`None` for genesis).
    spread_of: Vec<Option<u32>>,
    /// Every reorg, in time order.
    pub reorgs: Vec<ReorgEvent>,
    /// Rejections by reason, summed over nodes.
    pub rejected: Vec<u64>,
    /// Mempool sizes of the sampled nodes, in time order.
    pub mempool: Vec<MempoolSample>,
    /// Strategy decisions, ties and timeline events (empty in an honest run).
    pub attack: AttackLog,
    /// What `invalid` attackers sent and what became of it (runs with such attackers).
    pub invalid: Option<InvalidTally>,
    /// By node: the sum of its delays from a block's mining to its accepting it (µs), and
    /// how many blocks that sums (a miner's own blocks count with delay 0).
    node_delays: Vec<(u64, u32)>,
    /// Every (block, node) delay from mining to acceptance, in ms (the miner's own: 0), as
    /// counts per value: a run of a million blocks has a hundred million such pairs.
    pair_delays_ms: DelayCounts,
}

/// Counts of millisecond values: exact median and mean in memory bounded by the largest
/// value, not by how many were counted.
#[derive(Clone, Debug, Default)]
struct DelayCounts {
    /// Counts of values below [`DelayCounts::DENSE`], by value.
    dense: Vec<u64>,
    /// Counts of larger values.
    sparse: BTreeMap<u32, u64>,
    count: u64,
    sum: u128,
}

impl DelayCounts {
    /// Values below this are counted in a flat table (at most 8 MiB).
    const DENSE: u32 = 1 << 20;

    fn push(&mut self, ms: u32) {
        if ms < Self::DENSE {
            let i = ms as usize;
            if self.dense.len() <= i {
                self.dense.resize(i + 1, 0);
            }
            self.dense[i] += 1;
        } else {
            *self.sparse.entry(ms).or_insert(0) += 1;
        }
        self.count += 1;
        self.sum += u128::from(ms);
    }

    /// The value at sorted position `rank` (0-based), if there are more values than that.
    fn at_rank(&self, rank: u64) -> Option<u32> {
        let dense = self.dense.iter().enumerate().map(|(v, &n)| (v as u32, n));
        let sparse = self.sparse.iter().map(|(&v, &n)| (v, n));
        let mut seen = 0u64;
        for (value, n) in dense.chain(sparse) {
            seen += n;
            if seen > rank {
                return Some(value);
            }
        }
        None
    }
}

impl Metrics {
    /// Metrics for a network of `nodes` nodes.
    pub fn new(nodes: u32) -> Metrics {
        let thresholds =
            CDF_PERCENTS.map(|p| (u64::from(nodes) * u64::from(p)).div_ceil(100) as u32);
        Metrics {
            thresholds,
            spreads: Spreads::default(),
            spread_of: Vec::new(),
            reorgs: Vec::new(),
            rejected: vec![0; RejectReason::ALL.len()],
            mempool: Vec::new(),
            attack: AttackLog::default(),
            invalid: None,
            node_delays: vec![(0, 0); nodes as usize],
            pair_delays_ms: DelayCounts::default(),
        }
    }

    /// Metrics for `scenario`'s network, with the invalid-data tally if it has `invalid`
    /// attackers.
    pub fn for_scenario(scenario: &Scenario) -> Metrics {
        let mut m = Metrics::new(scenario.network.nodes);
        let invalid: Vec<NodeId> = scenario
            .attackers
            .iter()
            .filter(|a| matches!(a.strategy, StrategySpec::Invalid(_)))
            .map(|a| a.node)
            .collect();
        if !invalid.is_empty() {
            m.invalid = Some(InvalidTally::new(invalid));
        }
        m
    }

    fn delay(&mut self, node: NodeId, block: BlockId, time: SimTime) {
        let Some(&Some(i)) = self.spread_of.get(block.index()) else {
            return;
        };
        let mined_at = self.spreads.rows[i as usize].mined_at;
        let delay = (time - mined_at).as_micros();
        if let Some(d) = self.node_delays.get_mut(node.index()) {
            d.0 += delay;
            d.1 += 1;
        }
        self.pair_delays_ms.push((delay / 1_000).min(u64::from(u32::MAX)) as u32);
    }

    fn hold(&mut self, block: BlockId, time: SimTime) {
        let Some(&Some(i)) = self.spread_of.get(block.index()) else {
            return;
        };
        self.spreads.hold(i as usize, time, &self.thresholds);
    }
}

/// Blocks the stale rate is counted over, and how many of them are stale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StaleCount {
    /// Blocks mined before the last `settle` blocks.
    pub counted: u64,
    /// Of those, blocks not in the final main chain.
    pub stale: u64,
}

impl StaleCount {
    /// stale / counted (0 when nothing was counted).
    pub fn rate(&self) -> f64 {
        if self.counted == 0 { 0.0 } else { self.stale as f64 / self.counted as f64 }
    }
}

/// Blocks each node mined, and how many of them are in the final main chain, by node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlocksByMiner {
    /// Blocks mined, stale included.
    pub mined: Vec<u64>,
    /// Of those, blocks in the final main chain.
    pub in_main: Vec<u64>,
}

impl BlocksByMiner {
    /// A node's share of the `main_height` blocks of the main chain (0 for an empty chain).
    pub fn revenue_share(&self, node: NodeId, main_height: u32) -> f64 {
        if main_height == 0 {
            0.0
        } else {
            self.in_main[node.index()] as f64 / f64::from(main_height)
        }
    }
}

impl Metrics {
    /// The stale blocks among those mined before the last `settle` blocks, given the final
    /// main chain as per-block flags.
    pub fn stale(&self, in_main: &[bool], settle: u64) -> StaleCount {
        let mined = self.spreads.len() as u64;
        let counted = mined.saturating_sub(settle);
        let stale = self.spreads.rows[..counted as usize]
            .iter()
            .filter(|s| !in_main[s.block.index()])
            .count() as u64;
        StaleCount { counted, stale }
    }

    /// Per node of `nodes`: blocks mined and blocks in the final main chain.
    pub fn blocks_by_miner(&self, in_main: &[bool], nodes: usize) -> BlocksByMiner {
        let mut by = BlocksByMiner { mined: vec![0; nodes], in_main: vec![0; nodes] };
        for s in &self.spreads.rows {
            by.mined[s.miner.index()] += 1;
            if in_main[s.block.index()] {
                by.in_main[s.miner.index()] += 1;
            }
        }
        by
    }

    /// Gervais et al.'s "median block propagation time": each node's mean delay from a
    /// block's mining to its accepting it, over the blocks it accepted (its own mined blocks
    /// count as 0), then the median over nodes, in milliseconds (`None` if no node accepted a
    /// block). Not the same as the median over blocks of the time to reach half the nodes.
    pub fn median_node_mean_delay_ms(&self) -> Option<f64> {
        let mut means: Vec<f64> = self
            .node_delays
            .iter()
            .filter(|d| d.1 > 0)
            .map(|&(sum, n)| sum as f64 / f64::from(n) / 1_000.0)
            .collect();
        if means.is_empty() {
            return None;
        }
        means.sort_by(f64::total_cmp);
        Some(means[means.len() / 2])
    }

    /// Over every (block, node) pair where the node accepted the block: the median and mean
    /// delay from mining to acceptance, in milliseconds (Decker and Wattenhofer's "time until
    /// a node has the block"; `None` without any).
    ///
    /// The mean is the exact sum over the count; it equals a left-to-right `f64` sum of the
    /// values while that sum stays below 2^53 ms (every partial sum is then exact).
    pub fn pair_delay_ms(&self) -> Option<(f64, f64)> {
        let d = &self.pair_delays_ms;
        let median = f64::from(d.at_rank(d.count / 2)?);
        let mean = d.sum as f64 / d.count as f64;
        Some((median, mean))
    }

    /// Over blocks, the time to reach share `k` of [`CDF_PERCENTS`] of nodes.
    pub fn propagation(&self, k: usize) -> Spread {
        let mut v: Vec<f64> = self
            .spreads
            .iter()
            .filter_map(|s| s.reached_at[k].map(|t| (t - s.mined_at).as_micros() as f64 / 1_000.0))
            .collect();
        spread_of(&mut v)
    }
}

impl AsRef<Metrics> for Metrics {
    fn as_ref(&self) -> &Metrics {
        self
    }
}

impl Observer for Metrics {
    /// Metrics count no messages, except for the invalid-data tally (which counts relays).
    fn wants_messages(&self) -> bool {
        self.invalid.is_some()
    }

    // Inlined so that a message record, the most frequent, costs nothing.
    #[inline]
    fn record(&mut self, record: &Record, store: &BlockStore) {
        if let Some(t) = self.invalid.as_mut() {
            t.record(record);
        }
        match *record {
            Record::BlockMined { block, miner, time } => {
                if self.spread_of.len() <= block.index() {
                    self.spread_of.resize(block.index() + 1, None);
                }
                self.spread_of[block.index()] = Some(self.spreads.len() as u32);
                self.spreads.push(block, miner, time);
                self.hold(block, time);
                self.delay(miner, block, time);
                self.attack.mined(block, miner, store);
            }
            Record::BlockAccepted { node, block, outcome, time, .. } => {
                self.hold(block, time);
                self.delay(node, block, time);
                if let TipOutcome::Reorged { old_tip, depth } = outcome {
                    self.reorgs.push(ReorgEvent { node, time, depth, old_tip, new_tip: block });
                }
            }
            Record::BlockRejected { reason, .. } => {
                self.rejected[reason.index()] += 1;
            }
            Record::MempoolSampled { node, txs, bytes, time } => {
                self.mempool.push(MempoolSample { node, txs, bytes, time });
            }
            Record::MessageSent { .. }
            | Record::PaymentSent { .. }
            | Record::GoodsShipped { .. }
            | Record::PaymentReversed { .. } => {}
            Record::Withheld { .. }
            | Record::Published { .. }
            | Record::GaveUp { .. }
            | Record::MessageDropped { .. }
            | Record::Partitioned { .. }
            | Record::Healed { .. }
            | Record::NodeLeft { .. }
            | Record::NodeRejoined { .. } => self.attack.record(record),
            Record::InvalidSent { .. }
            | Record::PeerBanned { .. }
            | Record::BannedPeerIgnored { .. }
            | Record::OrphanEvicted { .. } => {}
        }
    }
}

/// Summary statistics of one propagation column over blocks, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spread {
    /// Blocks that reached this share of nodes.
    pub blocks: u64,
    /// Median over those blocks.
    pub median_ms: f64,
    /// Mean over those blocks.
    pub mean_ms: f64,
    /// 90th percentile over those blocks.
    pub p90_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

/// One miner's hash share against what it earned.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MinerShare {
    /// Node name.
    pub node: String,
    /// Share of the network's hash power.
    pub hash_share: f64,
    /// Blocks it mined.
    pub blocks_mined: u64,
    /// Of those, blocks in the final main chain.
    pub blocks_in_main_chain: u64,
    /// Its share of main-chain blocks.
    pub revenue_share: f64,
}

/// The final main chain: the most-work valid block's ancestry (ties go to the block mined
/// first), as a per-block flag. Valid means what a node checks: the store's verdict, the
/// header's proof of work, and a time at most two hours ahead of the clock when the block
/// was made (the last two matter only for blocks an `invalid` attacker made; they are checked
/// only for a block that would become the best, so a run pays for them about once per
/// height).
pub fn main_chain_flags(store: &mut BlockStore) -> (BlockId, Vec<bool>) {
    let mut best = BlockId::GENESIS;
    let genesis_time = u64::from(store.get(BlockId::GENESIS).header().time);
    let ids: Vec<BlockId> = store.ids().collect();
    for id in ids {
        if store.validity(id).is_ok() && store.get(id).chain_work > store.get(best).chain_work {
            let stored = store.get(id);
            let clock_s = genesis_time + stored.meta.mined_at.as_secs();
            let in_time =
                u64::from(stored.header().time) <= clock_s + u64::from(MAX_FUTURE_BLOCK_TIME_S);
            if in_time && check_header_pow(stored.header(), store.params()).is_ok() {
                best = id;
            }
        }
    }
    let mut flags = vec![false; store.len()];
    for id in store.chain_to(best) {
        flags[id.index()] = true;
    }
    (best, flags)
}

/// Median, mean, 90th percentile and maximum of `values_ms` (sorted in place).
pub fn spread_of(values_ms: &mut [f64]) -> Spread {
    values_ms.sort_by(f64::total_cmp);
    let n = values_ms.len();
    let pick = |q: f64| {
        if n == 0 { 0.0 } else { values_ms[((q * (n - 1) as f64).round() as usize).min(n - 1)] }
    };
    Spread {
        blocks: n as u64,
        median_ms: pick(0.5),
        mean_ms: if n == 0 { 0.0 } else { values_ms.iter().sum::<f64>() / n as f64 },
        p90_ms: pick(0.9),
        max_ms: values_ms.last().copied().unwrap_or(0.0),
    }
}
