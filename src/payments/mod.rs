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

/// The payments of a run with a `[workload]`: every transaction in flight and the wallets.
pub struct Payments {
    /// Every transaction in flight, and each node's mempool as a view of it.
    pub pool: TxPool,
    /// The wallets making payments.
    pub wallets: Wallets,
}
