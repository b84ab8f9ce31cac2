//! A node's mempool, as a view of the shared transaction pool.
//!
//! The pool ([`crate::payments::pool`]) knows when each transaction reaches each node and
//! which of two conflicting versions a node saw first; a node's mempool at a moment is a
//! function of that and of the node's tip. This module asks the pool the three questions a
//! node has: what goes into its next block template, what it lacks of a block it received
//! (compact-block reconstruction, and signatures it has not verified yet), and how large its
//! mempool is (for the sampled mempool sizes).

use super::ctx::NodeCtx;
use crate::chain::{Amount, BlockId};
use crate::mining::Body;
use crate::payments::pool::Missing;

/// A template's transactions on `tip` at the context's time: the node's mempool by fee rate
/// up to the size cap, or filler in runs without a workload.
pub fn template_body(ctx: &mut NodeCtx<'_>, tip: BlockId) -> Body {
    template_body_censoring(ctx, tip, None).0
}

/// [`template_body`] without the payments `censor` names (a censoring cartel producer's
/// template; `None`: the honest one), and how many payments of the mempool it left out
/// for their source.
pub fn template_body_censoring(
    ctx: &mut NodeCtx<'_>,
    tip: BlockId,
    censor: Option<&crate::scenario::cartel::Censor>,
) -> (Body, u32) {
    let (node, now, max_bytes) = (ctx.node(), ctx.now(), ctx.settings().template_max_tx_bytes);
    let shared = &mut *ctx.shared;
    let Some(payments) = &shared.payments else { return (Body::Filler, 0) };
    let pool = &payments.pool;
    let extra = pool.off_chain(&shared.store, tip);
    // A tip whose branch leaves the final chain below the pruned height has no UTXO state
    // (see `BlockStore::leaves_final_chain`): its template is empty, and refused anyway.
    let Ok(utxo) = shared.store.utxo_at(tip) else {
        debug_assert!(shared.store.leaves_final_chain(tip), "a miner's tip is valid");
        return (Body::Txs(Vec::new(), Amount::ZERO), 0);
    };
    let (chosen, left_out) = match censor {
        None => (pool.select(utxo, &extra, node, now, max_bytes), 0),
        Some(c) => pool.select_censoring(utxo, &extra, (node, now), max_bytes, &|s| c.censors(s)),
    };
    let txs = pool.txs();
    let fees = chosen.iter().fold(Amount::ZERO, |sum, &i| {
        sum.checked_add(txs[i as usize].fee).expect("fees stay within the money range")
    });
    (Body::Txs(chosen.iter().map(|&i| txs[i as usize].tx().clone()).collect(), fees), left_out)
}

/// What the node lacks of `block`'s transactions now (`None` in runs without payments).
pub fn missing(ctx: &NodeCtx<'_>, block: BlockId) -> Option<Missing> {
    ctx.payments().map(|p| p.pool.missing(block, ctx.node(), ctx.now()))
}

/// The node's mempool size on `tip` now: transactions and bytes (`None` without payments).
pub fn size(ctx: &mut NodeCtx<'_>, tip: BlockId) -> Option<(u64, u64)> {
    let (node, now) = (ctx.node(), ctx.now());
    let shared = &mut *ctx.shared;
    let payments = shared.payments.as_ref()?;
    Some(payments.pool.mempool_size(&mut shared.store, tip, node, now))
}
