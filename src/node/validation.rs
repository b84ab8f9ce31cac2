//! Validation and chain selection: what a node does with a whole block.
//!
//! - **Orphans**: a block whose parent the node lacks waits in a bounded pool while the
//!   parent is requested from the peer that sent the block.
//! - **Validation**: a node validates one block at a time and spends a modelled time on it
//!   before it acts on it (see [the cost model](#the-validation-cost-model)). Every node
//!   re-checks the header's proof of work itself (in a slot run: the block's seal, its VRF
//!   proof and signature, really verified, see [`crate::consensus::seal`]); the
//!   node-independent part of validity is computed once per block in the shared store.
//! - **Chain selection**: a node's tip is its most-work valid block; on equal work the block
//!   seen first stays (a node switches only for strictly more work, unless its protocol
//!   breaks ties otherwise).
//!
//! # The validation cost model
//!
//! The time a node spends on a block it receives is
//!
//! ```text
//! node.validation_ms_base                                   fixed, per block
//! + node.validation_ms_per_mb        x block size in MB      every byte (hashing, UTXO lookups)
//! + node.validation_us_per_missing_tx x transactions not in the node's mempool
//! + node.validation_us_per_input     x inputs whose signatures it has not verified
//! + 148 µs + 35 µs                                          slot runs: VRF proof and signature
//! ```
//!
//! A transaction in the mempool was checked when it arrived: Bitcoin Core caches its
//! signatures and script results (bitcoin/bitcoin#10192), so connecting a block of such
//! transactions costs little beyond the per-byte work. The defaults are 2 ms, 20 ms/MB,
//! 100 µs per missing transaction and 40 µs per input. 20 ms/MB is an assumption for the
//! pre-verified case (morcos measured ConnectBlock at 130–150 ms per block in November 2015,
//! including UTXO-database access that the per-byte term only partly models,
//! bitcoin/bitcoin#6976); 40 µs is roughly one libsecp256k1 ECDSA verification. The per-
//! transaction default is calibrated so that a block of which nothing was pre-verified costs
//! what Gervais et al. (CCS 2016) measured: 0.174 s for a 458,263-byte block, about
//! 0.38 s/MB (assuming about 500 bytes and 2 inputs per transaction, that block held about
//! 916 transactions: 2 + 9.2 + 916 × (100 + 2 × 40) µs ≈ 176 ms).
//!
//! **Which transactions are in the mempool.** With a `[workload]`, the shared transaction
//! pool says which of the block's transactions had reached the node, and their inputs. Without
//! one a block's body is filler, taken to have been relayed ahead of the block: the node has
//! all of it except the transactions it had to fetch after a failed compact-block
//! reconstruction (the `blocktxn` of the `relay.compact_*` failure and refetch model), each
//! counted with [`FILLER_INPUTS_PER_TX`] inputs. So without a workload, `inv`, `push` and
//! `flood` runs pay only the base and per-byte costs.

use super::Node;
use super::chain_view::{BlockState, Orphan};
use super::ctx::{NodeCtx, NodeSettings, Timer};
use crate::chain::validate::check_header_pow;
use crate::chain::{BlockId, RejectReason};
use crate::id::LinkId;
use crate::network::message::{Message, MessageKind};
use crate::observe::Record;
use crate::time::SimDuration;

/// Bitcoin's limit on how far a block's time may be ahead of the receiving node's clock.
pub const MAX_FUTURE_BLOCK_TIME_S: u32 = 7_200;

/// Inputs counted per filler transaction a node lacked (runs without a workload): about
/// Bitcoin's average in 2015-16, the assumption the per-transaction default is calibrated
/// with.
pub const FILLER_INPUTS_PER_TX: u32 = 2;

/// What a node had not verified of a block before it came: transactions not in its mempool
/// and the inputs of those (and other) transactions whose signatures it has not checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unverified {
    /// Transactions not in the node's mempool.
    pub txs: u32,
    /// Inputs whose signatures the node has not verified.
    pub inputs: u32,
}

impl Unverified {
    /// `txs` filler transactions the node lacked (runs without a workload).
    pub fn filler(txs: u32) -> Unverified {
        Unverified { txs, inputs: txs.saturating_mul(FILLER_INPUTS_PER_TX) }
    }
}

/// The time to validate a block whose size-dependent cost is `sized` (base plus per byte,
/// computed once per block), given what the node had not verified of it.
pub fn validation_cost(
    settings: &NodeSettings,
    sized: SimDuration,
    unverified: Unverified,
) -> SimDuration {
    let per_tx = settings.validation_per_missing_tx.0.saturating_mul(u64::from(unverified.txs));
    let per_input = settings.validation_per_input.0.saturating_mul(u64::from(unverified.inputs));
    SimDuration(sized.0.saturating_add(per_tx).saturating_add(per_input))
}

impl Node {
    /// The node has the whole block: validate it if its parent is accepted, reject it if the
    /// parent was rejected, otherwise hold it as an orphan and fetch the parent. `fetched_txs`
    /// is how many of its transactions the node had to fetch in a `blocktxn` (used for the
    /// validation cost in runs without a workload; see the module docs).
    pub(super) fn receive_block(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        block: BlockId,
        from: Option<LinkId>,
        fetched_txs: u32,
    ) {
        let parent = ctx.store().get(block).parent.expect("genesis is never relayed");
        match ctx.state(parent) {
            BlockState::Accepted => {
                if let Some(link) = from {
                    self.conduct.connected(link);
                }
                self.start_validation(ctx, block, from, fetched_txs);
            }
            BlockState::Invalid => {
                self.reject(ctx, block, RejectReason::BadPrevBlk);
                if let Some(link) = from {
                    self.punish_for_block(ctx, link, RejectReason::BadPrevBlk);
                }
            }
            parent_state => {
                let pool_max = ctx.settings().orphan_pool_max;
                ctx.set_state(block, BlockState::Orphan);
                let orphans = &mut self.view.orphans;
                orphans.push(Orphan { block, from });
                if orphans.len() > pool_max {
                    let evicted = orphans.remove(0);
                    if ctx.state(evicted.block) == BlockState::Orphan {
                        ctx.set_state(evicted.block, BlockState::Evicted);
                        let (node, now) = (self.id, ctx.now());
                        ctx.record(Record::OrphanEvicted { node, block: evicted.block, time: now });
                    }
                }
                if let Some(link) = from
                    && parent_state.wants()
                {
                    ctx.set_state(parent, BlockState::Requested);
                    ctx.send(link, Message::about(MessageKind::GetData, parent), false);
                    // The node had never heard of the parent: an unconnecting block (a
                    // parent announced, on its way or being validated is known).
                    self.punish_unconnecting(ctx, link);
                }
            }
        }
    }

    /// Starts validating `block`: the verdict is known now, the node acts on it when its
    /// validator has spent the block's validation time on it.
    fn start_validation(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        block: BlockId,
        from: Option<LinkId>,
        fetched_txs: u32,
    ) {
        let now = ctx.now();
        ctx.set_state(block, BlockState::Received);
        let genesis_time = ctx.settings().genesis_time;
        let slots = ctx.settings().slots.as_deref();
        let signed = ctx.settings().signed.as_deref();
        let shared = &mut *ctx.shared;
        let store = &mut shared.store;
        // The header checks a node makes before anything else (Core's AcceptBlockHeader):
        // the proof of work, or a stake block's seal.
        let header_verdict = {
            let header = &store.get(block).block.header;
            let proof = match slots {
                None if signed.is_some() => {
                    let stake = shared.stake.as_deref_mut().expect("signed runs keep seals");
                    signed.expect("checked").check(stake, store, block, now)
                }
                None => check_header_pow(header, store.params()).map(|_hash| ()),
                Some(rules) => {
                    let stake = shared.stake.as_deref_mut().expect("slot runs keep seals");
                    let (seals, nonces) = (&stake.seals, &mut stake.nonces);
                    let parent = store.get(block).parent.expect("genesis is never relayed");
                    let seal = seals.get(block);
                    let slot = seal.map_or(0, |s| s.claim.slot);
                    let nonce = rules.lottery_input(nonces, seals, store, parent, slot);
                    // With block rewards, the claim is checked against the stake snapshot
                    // of the block's own chain.
                    let snapshot = stake
                        .rewards
                        .as_mut()
                        .filter(|r| r.active())
                        .map(|r| r.for_child(&rules.clock, seals, store, parent, slot));
                    let lottery = snapshot.as_ref().map_or(&rules.lottery, |s| &s.lottery);
                    rules
                        .check_in(lottery, seal, seals.slot_of(parent), &nonce, header, now)
                        .map_err(|e| e.reject_reason())
                }
            };
            proof.and_then(|()| {
                let node_clock_s = u64::from(genesis_time) + now.as_secs();
                if u64::from(header.time) > node_clock_s + u64::from(MAX_FUTURE_BLOCK_TIME_S) {
                    return Err(RejectReason::TimeTooNew);
                }
                Ok(())
            })
        };
        let verdict = store.validity(block).and(header_verdict);
        if header_verdict.is_ok() {
            self.announce_before_validation(ctx, block, from);
        }
        let start = now.max(self.validator_free_at);
        let unverified = match super::mempool::missing(ctx, block) {
            // Transactions and signatures the node did not verify in its mempool.
            Some(missing) => Unverified { txs: missing.txs, inputs: missing.inputs },
            None => Unverified::filler(fetched_txs),
        };
        let mut cost = validation_cost(ctx.settings(), ctx.costs(block).validation, unverified);
        if let Some(rules) = slots {
            // One VRF proof and one signature per block (see `consensus::seal`).
            cost = cost + rules.seal_cost;
        }
        if let Some(rules) = signed {
            // One signature per block.
            cost = cost + rules.seal_cost();
        }
        let done = start + cost;
        self.validator_free_at = done;
        ctx.busy_until(done, Timer::Validated { block, from, verdict: verdict.err() });
    }

    /// The validator finished `block`.
    pub(super) fn on_validated(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        block: BlockId,
        from: Option<LinkId>,
        verdict: Option<RejectReason>,
    ) {
        match verdict {
            None => {
                if let Some(link) = from {
                    self.delivered_first(ctx, link);
                }
                self.accept(ctx, block, from, false);
            }
            Some(reason) => {
                self.reject(ctx, block, reason);
                if let Some(link) = from {
                    self.punish_for_block(ctx, link, reason);
                }
            }
        }
        self.fast_announced.retain(|b| *b != block);
    }

    pub(super) fn reject(&mut self, ctx: &mut NodeCtx<'_>, block: BlockId, reason: RejectReason) {
        ctx.set_state(block, BlockState::Invalid);
        self.rejected[reason.index()] += 1;
        let (node, time) = (self.id, ctx.now());
        ctx.record(Record::BlockRejected { node, block, reason, time });
        // Orphans waiting on this block can never connect.
        for child in self.take_orphans_of(ctx, block) {
            self.reject(ctx, child.block, RejectReason::BadPrevBlk);
        }
    }

    fn take_orphans_of(&mut self, ctx: &NodeCtx<'_>, parent: BlockId) -> Vec<Orphan> {
        let view = &mut self.view;
        if view.orphans.is_empty() {
            return Vec::new();
        }
        let store = ctx.store();
        let (children, rest): (Vec<Orphan>, Vec<Orphan>) =
            view.orphans.iter().partition(|o| store.get(o.block).parent == Some(parent));
        view.orphans = rest;
        children
    }

    /// Starts validating the orphans that were waiting for `block`.
    pub(super) fn connect_orphans_of(&mut self, ctx: &mut NodeCtx<'_>, block: BlockId) {
        for orphan in self.take_orphans_of(ctx, block) {
            // An orphan came whole (a compact block is rebuilt only on a known parent).
            self.start_validation(ctx, orphan.block, orphan.from, 0);
        }
    }
}
