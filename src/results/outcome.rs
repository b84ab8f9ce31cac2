//! The outcome of one network run: everything the result files, the terminal report, the
//! figures and the replay page are rendered from, as plain values.
//!
//! The world is taken apart when the run ends; nothing here can change the simulation.

use crate::chain::{BlockId, BlockStore};
use crate::engine::RunStats;
use crate::id::NodeId;
use crate::network::Network;
use crate::node::Report;
use crate::observe::metrics::{Metrics, Spread, StaleCount, main_chain_flags};
use crate::payments::Payments;
use crate::time::SimTime;

/// One node at the end of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeOutcome {
    /// Its tip.
    pub tip: BlockId,
    /// Whether it has hash power.
    pub mines: bool,
    /// Its protocol's name.
    pub protocol: &'static str,
    /// What its protocol reported.
    pub(crate) report: Report,
    /// Blocks it rejected, by reason (indexed like [`crate::chain::RejectReason::ALL`]).
    pub rejected: Vec<u64>,
    /// Whether it was online at the end (always, without a timeline).
    pub online: bool,
    /// What its request timeouts did (`network.relay.request_timeout_s`).
    pub request_timeouts: crate::node::relay::RequestTimeouts,
}

/// The final main chain: the most-work valid block and its ancestry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MainChain {
    /// Its tip.
    pub best: BlockId,
    /// Per block id: whether the block is on it.
    pub in_main: Vec<bool>,
}

impl MainChain {
    /// The main chain of `store` (ties go to the block stored first).
    pub fn of(store: &mut BlockStore) -> MainChain {
        let (best, in_main) = main_chain_flags(store);
        MainChain { best, in_main }
    }

    /// Whether `block` is on the main chain.
    pub fn contains(&self, block: BlockId) -> bool {
        self.in_main[block.index()]
    }
}

/// A double spend against a merchant, as it ended.
#[derive(Clone, Debug, PartialEq)]
pub struct DoubleSpendOutcome {
    /// The attacker's node.
    pub attacker: NodeId,
    /// The merchant's node.
    pub merchant: NodeId,
    /// Confirmations the merchant waited for.
    pub z: u32,
    /// The attacker's share of the hash power (of the stake under `pos-slot`).
    pub q: f64,
    /// Under `pos-slot`: the active-slot coefficient f of the slot race.
    pub slot_coeff: Option<f64>,
    /// When the attacker paid.
    pub paid_at: Option<SimTime>,
    /// When the merchant shipped.
    pub shipped_at: Option<SimTime>,
    /// When the merchant's chain came to hold the conflicting version.
    pub reversed_at: Option<SimTime>,
    /// The attacker gave up.
    pub gave_up: bool,
    /// The race was cut off (catching up had probability below 10^-12).
    pub cut_off: bool,
}

impl DoubleSpendOutcome {
    /// Whether the attack is decided: reversed, given up or cut off.
    pub fn decided(&self) -> bool {
        self.gave_up || self.cut_off || self.reversed_at.is_some()
    }
}

/// Everything a finished network run leaves behind.
pub struct Outcome<O = Metrics> {
    /// How the run ended.
    pub stats: RunStats,
    /// Every block mined.
    pub store: BlockStore,
    /// The network's graph (after any eclipse).
    pub network: Network,
    /// The observer that watched the run.
    pub observer: O,
    /// Every node at the end, by node id.
    pub nodes: Vec<NodeOutcome>,
    /// Each node's share of the hash power.
    pub hash_shares: Vec<f64>,
    /// Payments and mempools, in runs with a workload.
    pub(crate) payments: Option<Payments>,
    /// Per attacker in scenario order: the honest share that favours its blocks in ties
    /// (an explicit γ).
    pub gamma_subset: Vec<Option<f64>>,
    /// Whether the run had a timeline.
    pub timeline: bool,
    /// The double spend, if the scenario has one.
    pub double_spend: Option<DoubleSpendOutcome>,
    /// Blocks mined.
    pub blocks_mined: u64,
    /// The final main chain.
    pub main_chain: MainChain,
    /// Blocks at the end left out of the stale rate (the scenario's `run.settle_blocks`).
    pub settle_blocks: u64,
    /// Seals and slot counts, in stake runs.
    pub stake: Option<Box<crate::consensus::seal::StakeState>>,
    /// Bytes moved over the network.
    pub traffic: crate::network::traffic::Traffic,
    /// The work pending as blocks were found, and after the last one.
    pub backlog: crate::observe::backlog::Backlog,
}

impl<O> Outcome<O> {
    /// The nodes with hash power, in node order.
    pub fn miners(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes.iter().enumerate().filter(|(_, n)| n.mines).map(|(i, _)| NodeId::from_index(i))
    }

    /// Each node's tip at the end.
    pub fn tips(&self) -> Vec<BlockId> {
        self.nodes.iter().map(|n| n.tip).collect()
    }
}

impl<O: AsRef<Metrics>> Outcome<O> {
    /// The stale blocks among those mined before the last `settle_blocks` (DESIGN.md's
    /// definition: valid blocks not in the final most-work chain).
    pub fn stale(&self) -> StaleCount {
        self.observer.as_ref().stale(&self.main_chain.in_main, self.settle_blocks)
    }

    /// Stale blocks over counted blocks (0 when nothing was counted).
    pub fn stale_rate(&self) -> f64 {
        self.stale().rate()
    }

    /// A node's share of the final main chain's blocks.
    pub fn revenue_share(&self, node: NodeId) -> f64 {
        let metrics = self.observer.as_ref();
        let by_miner = metrics.blocks_by_miner(&self.main_chain.in_main, self.nodes.len());
        by_miner.revenue_share(node, self.store.get(self.main_chain.best).height)
    }

    /// Over blocks, the time (ms) until `percent` of nodes held each block; `percent` is one
    /// of 5, 10, ..., 100.
    ///
    /// # Panics
    ///
    /// Panics if `percent` is not a multiple of 5 between 5 and 100.
    pub fn propagation(&self, percent: u32) -> Spread {
        let k = crate::observe::metrics::CDF_PERCENTS
            .iter()
            .position(|&p| p == percent)
            .expect("percent is a multiple of 5 from 5 to 100");
        self.observer.as_ref().propagation(k)
    }
}
