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

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use serde::Serialize;

use super::attack::AttackLog;
use super::invalid::InvalidTally;
use super::{Observer, Record, TipOutcome};
use crate::chain::validate::check_pow_of_hash;
use crate::chain::{BlockId, BlockStore, RejectReason};
use crate::id::NodeId;
use crate::node::MAX_FUTURE_BLOCK_TIME_S;
use crate::results::rows::{BlockRow, Millis, PropagationRow, ReorgRow};
use crate::results::spill::{CsvSpill, RecordSpill};
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

/// Every mined block's [`BlockSpread`] not yet written out, in mining order, kept compactly:
/// the share times as microseconds after mining in a `u32` (a time that does not fit, over
/// 71 minutes after mining, goes to a side table), about a third of the memory of a
/// [`BlockSpread`]. Read back as [`BlockSpread`] values, exactly as recorded. Rows are
/// indexed in mining order over the whole run; the first ones leave (see
/// [`Metrics`]) once their block is final.
#[derive(Clone, Debug, Default)]
pub struct Spreads {
    rows: VecDeque<CompactSpread>,
    /// Index of `rows[0]` in mining order (rows before it were written out).
    first: usize,
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

    /// Number of mined blocks (those written out included).
    pub fn len(&self) -> usize {
        self.first + self.rows.len()
    }

    /// Whether no block was mined.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The spreads still held, with their index in mining order: every block's, unless
    /// the run wrote the first ones out (see [`Metrics`]).
    pub fn pending(&self) -> impl ExactSizeIterator<Item = (usize, BlockSpread)> + '_ {
        (self.first..self.len()).map(|i| (i, self.get(i)))
    }

    /// Whether the `i`-th mined block's spread is still held.
    fn holds(&self, i: usize) -> bool {
        (self.first..self.len()).contains(&i)
    }

    /// The spread of the `i`-th mined block.
    ///
    /// # Panics
    /// Panics if the row is not held (see [`Spreads::pending`]).
    pub fn get(&self, i: usize) -> BlockSpread {
        let row = &self.rows[i - self.first];
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

    /// The first spread still held, if any, and its block.
    fn front(&self) -> Option<BlockId> {
        self.rows.front().map(|r| r.block)
    }

    /// Removes and returns the first spread still held.
    fn pop_front(&mut self) -> Option<BlockSpread> {
        let first = self.rows.front()?;
        let spread = self.get(self.first);
        if first.after_us.contains(&Self::LATE) {
            // Rows leave in order, so this row's late times are the first in the table.
            let i = self.first as u32;
            while let Some(entry) = self.late.first_entry() {
                if entry.key().0 != i {
                    break;
                }
                entry.remove();
            }
        }
        self.rows.pop_front();
        self.first += 1;
        Some(spread)
    }

    fn push(&mut self, block: BlockId, miner: NodeId, mined_at: SimTime) {
        self.rows.push_back(CompactSpread {
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
        let row = &mut self.rows[i - self.first];
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
///
/// **Bounded memory.** Per-block rows leave memory once their block is final: when the
/// store's pruned height passes a block (see [`BlockStore::prune_through`]), nothing can
/// change its row any more (every node holds a final main-chain block, and a stale block
/// below the pruned height can never be built on), so the first rows in mining order down
/// to the first non-final one are written to their files' spills (`blocks.csv`,
/// `propagation.csv`, and the twenty share times `propagation_cdf.csv` is computed from,
/// see [`crate::results::spill`]) and folded into per-miner counts. A reorg's row is written
/// when it happens. What stays per block is one `u32` (the block's row index) and, for a
/// stale block written out, another.
pub struct Metrics {
    thresholds: [u32; 20],
    /// Mined blocks in mining order (those not written out yet).
    pub spreads: Spreads,
    /// Index into `spreads` by block id ([`NO_ROW`] for genesis and unmined blocks).
    spread_of: Vec<u32>,
    /// Every reorg, in time order: kept only in runs with attackers (whose summary looks
    /// at the branch each reorg moved onto); see [`Metrics::reorg_counts`] otherwise.
    pub reorgs: Vec<ReorgEvent>,
    /// Reorgs over all nodes, the deepest, and which nodes had one.
    reorg_counts: ReorgCounts,
    keep_reorgs: bool,
    /// Node names, for the rows written out.
    names: Vec<String>,
    /// The rows written out, and what the summary needs of them.
    written: Written,
    spill: RefCell<Spill>,
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
    /// Holders summed over the rows written out.
    written_holders: u64,
}

/// Marks a block without a row in [`Spreads`].
const NO_ROW: u32 = u32::MAX;

/// Reorg counts of a run, whether or not its events are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReorgCounts {
    /// Reorgs over all nodes.
    pub count: u64,
    /// Deepest (blocks disconnected).
    pub max_depth: u32,
    /// By node: whether it reorganised at least once.
    pub nodes: Vec<bool>,
}

/// What the summary needs of the rows already written out.
#[derive(Clone, Debug, Default)]
struct Written {
    /// Pruned height up to which rows were written.
    through_height: u32,
    /// Mining-order indices of the stale blocks written out.
    stale_rows: Vec<u32>,
    /// By miner: blocks written out, and of those in the final main chain.
    mined: Vec<u64>,
    in_main: Vec<u64>,
    /// Acceptances of a block after its row was written (none when rows are written only
    /// once final; counted so that a test can tell).
    late_holds: u64,
}

/// The spill files of a run's per-block rows, created on first use.
#[derive(Debug)]
struct Spill {
    dir: std::path::PathBuf,
    blocks: Option<CsvSpill<BlockRow>>,
    propagation: Option<CsvSpill<PropagationRow>>,
    reorgs: Option<CsvSpill<ReorgRow>>,
    /// Per block written out: microseconds from mining to each share of
    /// [`CDF_PERCENTS`] (`u64::MAX` if never reached).
    cdf: Option<RecordSpill<20>>,
    /// The first error of reading a spill back outside rendering.
    error: Option<std::io::Error>,
}

impl Spill {
    fn new(dir: &Path) -> Spill {
        Spill {
            dir: dir.to_path_buf(),
            blocks: None,
            propagation: None,
            reorgs: None,
            cdf: None,
            error: None,
        }
    }
}

/// The `blocks.csv` row of a block, given whether the final main chain holds it.
pub fn block_row(store: &BlockStore, names: &[String], s: &BlockSpread, in_main: bool) -> BlockRow {
    let b = store.get(s.block);
    BlockRow {
        hash: b.hash.to_string(),
        height: b.height,
        parent: b.parent.map(|p| store.get(p).hash.to_string()),
        miner: names[s.miner.index()].clone(),
        mined_at_ms: Millis::from_micros(s.mined_at.as_micros()),
        size_bytes: u64::from(b.size_bytes),
        tx_count: b.tx_count,
        in_main_chain: in_main,
    }
}

/// The `propagation.csv` row of a block.
pub fn propagation_row(store: &BlockStore, names: &[String], s: &BlockSpread) -> PropagationRow {
    let b = store.get(s.block);
    let since = |k: usize| {
        s.reached_at[P50_P90_P100[k]].map(|t| Millis::from_micros((t - s.mined_at).as_micros()))
    };
    PropagationRow {
        hash: b.hash.to_string(),
        height: b.height,
        miner: names[s.miner.index()].clone(),
        nodes_reached: s.holders,
        p50_ms: since(0),
        p90_ms: since(1),
        p100_ms: since(2),
    }
}

/// The `reorgs.csv` row of a reorg.
pub fn reorg_row(store: &BlockStore, names: &[String], r: &ReorgEvent) -> ReorgRow {
    ReorgRow {
        node: names[r.node.index()].clone(),
        time_ms: Millis::from_micros(r.time.as_micros()),
        depth: r.depth,
        old_tip: store.get(r.old_tip).hash.to_string(),
        new_tip: store.get(r.new_tip).hash.to_string(),
    }
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
    /// Values below this (262 s) are counted in a flat table (at most 2 MiB); the rare
    /// larger ones in the ordered map.
    const DENSE: u32 = 1 << 18;

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
    /// Metrics for a network of `nodes` nodes named `n0`, `n1`, ...
    pub fn new(nodes: u32) -> Metrics {
        Metrics::named((0..nodes).map(|i| format!("n{i}")).collect())
    }

    /// Metrics for a network of nodes with these names, writing rows out into the system's
    /// temporary folder (see [`Metrics::spill_into`]).
    fn named(names: Vec<String>) -> Metrics {
        let nodes = names.len() as u32;
        let thresholds =
            CDF_PERCENTS.map(|p| (u64::from(nodes) * u64::from(p)).div_ceil(100) as u32);
        Metrics {
            thresholds,
            spreads: Spreads::default(),
            spread_of: Vec::new(),
            reorgs: Vec::new(),
            reorg_counts: ReorgCounts { nodes: vec![false; nodes as usize], ..Default::default() },
            keep_reorgs: true,
            written: Written {
                mined: vec![0; nodes as usize],
                in_main: vec![0; nodes as usize],
                ..Written::default()
            },
            spill: RefCell::new(Spill::new(&std::env::temp_dir())),
            names,
            rejected: vec![0; RejectReason::ALL.len()],
            mempool: Vec::new(),
            attack: AttackLog::default(),
            invalid: None,
            node_delays: vec![(0, 0); nodes as usize],
            pair_delays_ms: DelayCounts::default(),
            written_holders: 0,
        }
    }

    /// Metrics for `scenario`'s network, with the invalid-data tally if it has `invalid`
    /// attackers.
    pub fn for_scenario(scenario: &Scenario) -> Metrics {
        let mut m = Metrics::named(scenario.node_names.clone());
        m.keep_reorgs = !scenario.attackers.is_empty();
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

    /// Writes rows out into `dir` (a run's results folder, so that they never pass through
    /// memory-backed temporary storage) instead of the system's temporary folder. Call it
    /// before the run.
    pub fn spill_into(&mut self, dir: &Path) {
        *self.spill.get_mut() = Spill::new(dir);
    }

    /// The reorg counts of the run.
    pub fn reorg_counts(&self) -> &ReorgCounts {
        &self.reorg_counts
    }

    /// Acceptances counted after the block's row was written out (0: rows are written once
    /// final).
    pub fn late_holds(&self) -> u64 {
        self.written.late_holds
    }

    /// Over every mined block, the number of nodes that came to hold it.
    pub fn holders_total(&self) -> u64 {
        self.written_holders + self.spreads.rows.iter().map(|r| u64::from(r.holders)).sum::<u64>()
    }

    /// Rows held in memory: mined blocks not written out yet (what the writing out keeps
    /// bounded), and reorg events kept.
    pub fn rows_held(&self) -> (usize, usize) {
        (self.spreads.rows.len(), self.reorgs.len())
    }

    fn delay(&mut self, node: NodeId, block: BlockId, time: SimTime, store: &BlockStore) {
        let Some(&i) = self.spread_of.get(block.index()) else {
            return;
        };
        if i == NO_ROW {
            return;
        }
        let mined_at = if self.spreads.holds(i as usize) {
            self.spreads.rows[i as usize - self.spreads.first].mined_at
        } else {
            store.get(block).meta.mined_at
        };
        let delay = (time - mined_at).as_micros();
        if let Some(d) = self.node_delays.get_mut(node.index()) {
            d.0 += delay;
            d.1 += 1;
        }
        self.pair_delays_ms.push((delay / 1_000).min(u64::from(u32::MAX)) as u32);
    }

    fn hold(&mut self, block: BlockId, time: SimTime) {
        let Some(&i) = self.spread_of.get(block.index()) else {
            return;
        };
        if i == NO_ROW {
            return;
        }
        if self.spreads.holds(i as usize) {
            self.spreads.hold(i as usize, time, &self.thresholds);
        } else {
            self.written.late_holds += 1;
        }
    }

    fn reorged(&mut self, event: ReorgEvent, store: &BlockStore) {
        let c = &mut self.reorg_counts;
        c.count += 1;
        c.max_depth = c.max_depth.max(event.depth);
        if let Some(n) = c.nodes.get_mut(event.node.index()) {
            *n = true;
        }
        let spill = self.spill.get_mut();
        let dir = &spill.dir;
        spill.reorgs.get_or_insert_with(|| CsvSpill::create(dir)).push(reorg_row(
            store,
            &self.names,
            &event,
        ));
        if self.keep_reorgs {
            self.reorgs.push(event);
        }
    }

    /// Writes out the rows of blocks now final, in mining order, up to the first that is
    /// not (see [`Metrics`]).
    fn write_final(&mut self, store: &BlockStore) {
        let pruned = store.pruned_height();
        self.written.through_height = pruned;
        let last_final = store.last_final();
        let spill = self.spill.get_mut();
        while let Some(block) = self.spreads.front() {
            let height = store.get(block).height;
            if height > pruned {
                break;
            }
            let i = self.spreads.first;
            let s = self.spreads.pop_front().expect("a front row");
            let in_main = store.ancestor(last_final, height) == block;
            let dir = &spill.dir;
            spill.blocks.get_or_insert_with(|| CsvSpill::create(dir)).push(block_row(
                store,
                &self.names,
                &s,
                in_main,
            ));
            spill.propagation.get_or_insert_with(|| CsvSpill::create(dir)).push(propagation_row(
                store,
                &self.names,
                &s,
            ));
            let since =
                |k: usize| s.reached_at[k].map_or(u64::MAX, |t| (t - s.mined_at).as_micros());
            spill
                .cdf
                .get_or_insert_with(|| RecordSpill::create(dir, "propagation_cdf"))
                .push(&std::array::from_fn(since));
            self.written_holders += u64::from(s.holders);
            if let Some(n) = self.written.mined.get_mut(s.miner.index()) {
                *n += 1;
            }
            if in_main {
                if let Some(n) = self.written.in_main.get_mut(s.miner.index()) {
                    *n += 1;
                }
            } else {
                self.written.stale_rows.push(i as u32);
            }
        }
    }

    /// Copies `blocks.csv`, `propagation.csv` and `reorgs.csv` as written so far into `out`
    /// by file; the rows still held follow (see [`crate::results::files`]).
    pub(crate) fn with_spills<T>(
        &self,
        f: impl FnOnce(
            Option<&mut CsvSpill<BlockRow>>,
            Option<&mut CsvSpill<PropagationRow>>,
            Option<&mut CsvSpill<ReorgRow>>,
        ) -> T,
    ) -> T {
        let mut spill = self.spill.borrow_mut();
        let spill = &mut *spill;
        f(spill.blocks.as_mut(), spill.propagation.as_mut(), spill.reorgs.as_mut())
    }

    /// The first error of reading a spill back (outside rendering, which returns its own).
    pub fn spill_error(&self) -> Option<std::io::Error> {
        self.spill.borrow_mut().error.take()
    }

    /// The names of the nodes, for rows.
    pub fn names(&self) -> &[String] {
        &self.names
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
        let written =
            self.written.stale_rows.iter().filter(|&&i| u64::from(i) < counted).count() as u64;
        let held = (self.spreads.first..)
            .zip(&self.spreads.rows)
            .take_while(|(i, _)| (*i as u64) < counted)
            .filter(|(_, s)| !in_main[s.block.index()])
            .count() as u64;
        StaleCount { counted, stale: written + held }
    }

    /// Per node of `nodes`: blocks mined and blocks in the final main chain.
    pub fn blocks_by_miner(&self, in_main: &[bool], nodes: usize) -> BlocksByMiner {
        let mut by = BlocksByMiner { mined: vec![0; nodes], in_main: vec![0; nodes] };
        for (n, (&mined, &main)) in self.written.mined.iter().zip(&self.written.in_main).enumerate()
        {
            if n < nodes {
                by.mined[n] += mined;
                by.in_main[n] += main;
            }
        }
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
    ///
    /// Rows written out are read back from their spill (one pass per call); a read error is
    /// kept for [`Metrics::spill_error`].
    pub fn propagation(&self, k: usize) -> Spread {
        let mut v: Vec<f64> = Vec::with_capacity(self.spreads.len());
        let mut spill = self.spill.borrow_mut();
        let spill = &mut *spill;
        if let Some(cdf) = spill.cdf.as_mut() {
            let read = cdf.for_each(|r| {
                if r[k] != u64::MAX {
                    v.push(r[k] as f64 / 1_000.0);
                }
            });
            if let Err(e) = read {
                spill.error.get_or_insert(e);
            }
        }
        v.extend(self.spreads.pending().filter_map(|(_, s)| {
            s.reached_at[k].map(|t| (t - s.mined_at).as_micros() as f64 / 1_000.0)
        }));
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

    /// The node's delay row, which its next accepted block adds to.
    #[inline]
    fn prefetch_node(&self, node: NodeId) {
        if let Some(row) = self.node_delays.get(node.index()) {
            crate::engine::prefetch::prefetch(row);
        }
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
                    self.spread_of.resize(block.index() + 1, NO_ROW);
                }
                self.spread_of[block.index()] = self.spreads.len() as u32;
                self.spreads.push(block, miner, time);
                self.hold(block, time);
                self.delay(miner, block, time, store);
                self.attack.mined(block, miner, store);
            }
            Record::BlockAccepted { node, block, outcome, time, .. } => {
                self.hold(block, time);
                self.delay(node, block, time, store);
                if let TipOutcome::Reorged { old_tip, depth } = outcome {
                    let event = ReorgEvent { node, time, depth, old_tip, new_tip: block };
                    self.reorged(event, store);
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
            | Record::OrphanEvicted { .. }
            | Record::SlotMissed { .. }
            | Record::PaymentsLeftOut { .. } => {}
        }
        if store.pruned_height() > self.written.through_height {
            self.write_final(store);
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
        if store.validity(id).is_ok() && store.chain_work(id) > store.chain_work(best) {
            let stored = store.get(id);
            let clock_s = genesis_time + stored.meta.mined_at.as_secs();
            let in_time =
                u64::from(stored.header().time) <= clock_s + u64::from(MAX_FUTURE_BLOCK_TIME_S);
            if in_time
                && check_pow_of_hash(stored.header().bits, &stored.hash, store.params()).is_ok()
            {
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
