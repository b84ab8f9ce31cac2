//! Validation and chain selection: what a node does with a whole block.
//!
//! - **Orphans**: a block whose parent the node lacks waits in a bounded pool while the
//!   parent is requested from the peer that sent the block.
//! - **Validation**: a node validates one block at a time and spends a modelled time on it
//!   (a base cost, a cost per megabyte, and a cost per input whose signature it has not
//!   verified in its mempool) before it acts on it. Every node re-checks the header's proof
//!   of work itself; the node-independent part of validity is computed once per block in the
//!   shared store.
//! - **Chain selection**: a node's tip is its most-work valid block; on equal work the block
//!   seen first stays (a node switches only for strictly more work, unless its protocol
//!   breaks ties otherwise).

use super::Node;
use super::chain_view::{BlockState, Orphan};
use super::ctx::{NodeCtx, Timer};
use crate::chain::validate::check_header_pow;
use crate::chain::{BlockId, RejectReason};
use crate::id::LinkId;
use crate::network::message::{Message, MessageKind};
use crate::observe::Record;
use crate::time::SimDuration;

/// Bitcoin's limit on how far a block's time may be ahead of the receiving node's clock.
pub const MAX_FUTURE_BLOCK_TIME_S: u32 = 7_200;

impl Node {
    /// The node has the whole block: validate it if its parent is accepted, reject it if the
    /// parent was rejected, otherwise hold it as an orphan and fetch the parent.
    pub(super) fn receive_block(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        block: BlockId,
        from: Option<LinkId>,
    ) {
        let parent = ctx.store().get(block).parent.expect("genesis is never relayed");
        match ctx.state(parent) {
            BlockState::Accepted => self.start_validation(ctx, block, from),
            BlockState::Invalid => self.reject(ctx, block, RejectReason::BadPrevBlk),
            parent_state => {
                let pool_max = ctx.settings().orphan_pool_max;
                ctx.set_state(block, BlockState::Orphan);
                let orphans = &mut self.view.orphans;
                orphans.push(Orphan { block, from });
                if orphans.len() > pool_max {
                    let evicted = orphans.remove(0);
                    if ctx.state(evicted.block) == BlockState::Orphan {
                        ctx.set_state(evicted.block, BlockState::Evicted);
                    }
                }
                if let Some(link) = from
                    && parent_state.wants()
                {
                    ctx.set_state(parent, BlockState::Requested);
                    ctx.send(link, Message::about(MessageKind::GetData, parent), false);
                }
            }
        }
    }

    /// Starts validating `block`: the verdict is known now, the node acts on it when its
    /// validator has spent the block's validation time on it.
    fn start_validation(&mut self, ctx: &mut NodeCtx<'_>, block: BlockId, from: Option<LinkId>) {
        let now = ctx.now();
        ctx.set_state(block, BlockState::Received);
        let genesis_time = ctx.settings().genesis_time;
        let store = ctx.store_mut();
        let verdict = store.validity(block).and_then(|()| {
            let header = &store.get(block).block.header;
            check_header_pow(header, store.params())?;
            let node_clock_s = u64::from(genesis_time) + now.as_secs();
            if u64::from(header.time) > node_clock_s + u64::from(MAX_FUTURE_BLOCK_TIME_S) {
                return Err(RejectReason::TimeTooNew);
            }
            Ok(())
        });
        let start = now.max(self.validator_free_at);
        let mut cost = ctx.costs(block).validation;
        if let Some(missing) = super::mempool::missing(ctx, block) {
            // Signatures the node did not verify in its mempool are checked now.
            let per_input = ctx.settings().validation_per_input;
            cost = cost + SimDuration(per_input.0 * u64::from(missing.inputs));
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
            None => self.accept(ctx, block, from, false),
            Some(reason) => self.reject(ctx, block, reason),
        }
    }

    fn reject(&mut self, ctx: &mut NodeCtx<'_>, block: BlockId, reason: RejectReason) {
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
            self.start_validation(ctx, orphan.block, orphan.from);
        }
    }
}
