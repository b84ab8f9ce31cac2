//! Payments: wallets that sign UTXO payments, the shared pool of transactions in flight (each
//! node's mempool is a view of it), and the workload that makes payments over time.
//!
//! The pool and the wallets are shared state, like the block store: a node reads its mempool
//! through them (templates, compact-block reconstruction, the cost of signatures it has not
//! verified), and an attacker's wallet signs through them. The [`workload::Workload`] is what
//! the users of the network do: it is driven by its own events, outside every node.

pub mod pool;
pub mod wallet;
pub mod workload;

use pool::TxPool;
use wallet::Wallets;
use workload::Workload;

use crate::chain::store::genesis_block_paying;
use crate::chain::{Block, CompactTarget, ConsensusParams};
use crate::network::Network;
use crate::rng::RngStreams;
use crate::scenario::Scenario;

/// The payments of a run with a `[workload]`: every transaction in flight and the wallets.
pub struct Payments {
    /// Every transaction in flight, and each node's mempool as a view of it.
    pub pool: TxPool,
    /// The wallets making payments.
    pub wallets: Wallets,
}

/// The genesis block of a scenario, paying the wallets of its workload if it has one, and
/// the wallets, funded by it.
pub fn genesis(
    scenario: &Scenario,
    streams: &RngStreams,
    params: &ConsensusParams,
    bits: CompactTarget,
) -> (Block, Option<Wallets>) {
    let nodes = scenario.network.nodes;
    let mut wallets = scenario.workload.as_ref().map(|w| Wallets::new(w, streams, nodes));
    let funding = wallets.as_ref().map(Wallets::funding_outputs);
    let genesis = genesis_block_paying(scenario.chain.genesis_time, bits, params, funding);
    if let Some(w) = wallets.as_mut() {
        w.fund(genesis.txs[0].txid());
    }
    (genesis, wallets)
}

/// The payments and the workload of a scenario with funded `wallets` on `network`.
pub fn start(
    scenario: &Scenario,
    wallets: Option<Wallets>,
    network: &Network,
    streams: &RngStreams,
) -> Option<(Payments, Workload)> {
    let (w, wallets) = (scenario.workload.as_ref()?, wallets?);
    let pool = TxPool::new(network, streams, w.trickle_interval, w.mempool_max_bytes);
    Some((Payments { pool, wallets }, Workload::new(w, scenario.network.nodes)))
}
