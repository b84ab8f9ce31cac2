//! Result files of the transaction workload: `transactions.csv`, `mempool.csv` and the
//! `transactions` section of `summary.json`.
//!
//! Definitions:
//! - a transaction is **confirmed** if the final main chain holds it; its **confirmation
//!   latency** is from its creation to the mining of that main-chain block;
//! - **confirmations at end** count the blocks from that block to the final tip, inclusive;
//! - **throughput** is confirmed transactions per second of virtual time up to the final tip.

use serde::Serialize;

use crate::chain::{BlockId, BlockStore};
use crate::observe::metrics::{Metrics, Spread, spread_of};
use crate::payments::Payments;
use crate::results::rows::{Fixed, MempoolRow, Millis, TransactionRow};
use crate::results::sink::{Sink, write_csv};

/// The `transactions` section of `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TransactionSummary {
    /// Payments created by wallets.
    pub created: u64,
    /// Payments skipped because the payer could not cover them.
    pub skipped: u64,
    /// Of the created, confirmed in the final main chain.
    pub confirmed: u64,
    /// Confirmed transactions per second of virtual time.
    pub throughput_tx_per_s: f64,
    /// Fees of confirmed transactions, in coins.
    pub fees_confirmed_coins: f64,
    /// Median fee rate of confirmed transactions, satoshi per byte.
    pub median_fee_rate_sat_vb: f64,
    /// From creation to the main-chain block that confirmed it, in milliseconds.
    pub confirmation_latency_ms: Spread,
    /// Signatures verified (each once, then served from the signature cache).
    pub signatures_verified: u64,
    /// Largest mempool sampled, in transactions.
    pub max_mempool_txs: u64,
    /// Largest mempool sampled, in bytes.
    pub max_mempool_bytes: u64,
}

/// Renders the workload's files into `sink` and returns its summary.
///
/// # Errors
///
/// The sink's first I/O error.
pub fn render_transactions(
    t: &Payments,
    store: &BlockStore,
    best: BlockId,
    in_main: &[bool],
    metrics: &Metrics,
    names: &[String],
    sink: &mut dyn Sink,
) -> std::io::Result<TransactionSummary> {
    let pool = &t.pool;
    let tip_height = store.get(best).height;
    // Where each transaction sits in the final main chain.
    let mut confirmed_in: Vec<Option<BlockId>> = vec![None; pool.txs().len()];
    for id in store.chain_to(best) {
        for &i in pool.block_txs(id) {
            confirmed_in[i as usize] = Some(id);
        }
    }
    debug_assert!(confirmed_in.iter().flatten().all(|b| in_main[b.index()]));
    let mut latencies = Vec::new();
    let mut fee_rates = Vec::new();
    let mut fees = 0u64;
    let rows = pool.txs().iter().enumerate().map(|(i, e)| {
        let rate = e.fee.0 as f64 / f64::from(e.size);
        let (height, confirmations, latency) = match confirmed_in[i] {
            Some(b) => {
                let block = store.get(b);
                let latency = block.meta.mined_at.saturating_since(e.created).as_micros();
                latencies.push(latency as f64 / 1_000.0);
                fee_rates.push(rate);
                fees += e.fee.0;
                (
                    Some(block.height),
                    tip_height - block.height + 1,
                    Some(Millis::from_micros(latency)),
                )
            }
            None => (None, 0, None),
        };
        TransactionRow {
            txid: e.txid.to_string(),
            created_ms: Millis::from_micros(e.created.as_micros()),
            submitted_to: names[e.source.index()].clone(),
            size_bytes: e.size,
            fee_sat: e.fee.0,
            fee_rate_sat_vb: Fixed(rate),
            first_included_height: e.first_block.map(|b| store.get(b).height),
            confirmed_height: height,
            confirmations_at_end: confirmations,
            confirmation_latency_ms: latency,
        }
    });
    write_csv(sink, rows)?;

    write_csv(
        sink,
        metrics.mempool.iter().map(|s| MempoolRow {
            time_ms: Millis::from_micros(s.time.as_micros()),
            node: names[s.node.index()].clone(),
            txs: s.txs,
            bytes: s.bytes,
        }),
    )?;

    let confirmed = latencies.len() as u64;
    let elapsed_s = store.get(best).meta.mined_at.as_secs_f64();
    fee_rates.sort_by(f64::total_cmp);
    let summary = TransactionSummary {
        created: t.wallets.created,
        skipped: t.wallets.skipped,
        confirmed,
        throughput_tx_per_s: if elapsed_s > 0.0 { confirmed as f64 / elapsed_s } else { 0.0 },
        fees_confirmed_coins: fees as f64 / crate::chain::tx::UNITS_PER_COIN as f64,
        median_fee_rate_sat_vb: fee_rates.get(fee_rates.len() / 2).copied().unwrap_or(0.0),
        confirmation_latency_ms: spread_of(&mut latencies),
        signatures_verified: store.sigcache().verifications(),
        max_mempool_txs: metrics.mempool.iter().map(|s| s.txs).max().unwrap_or(0),
        max_mempool_bytes: metrics.mempool.iter().map(|s| s.bytes).max().unwrap_or(0),
    };
    Ok(summary)
}
