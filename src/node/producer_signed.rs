//! A producer of a signed-seal kind (`dpos`; `poet`'s clock is in `producer_poet`): where a PoW node runs its mining clock, a
//! DPoS stakeholder (producer or backup) wakes at every slot boundary, plays the schedule up
//! to the slot and, if the schedule names it, builds the normal block template on its
//! mining tip, signs it (a [`SignedSeal`] whose claim is the slot) and handles it as a
//! mined block.
//!
//! A node that is offline skips its slots (they count as missed); when it comes back it
//! waits for the next slot boundary. Each restart bumps a generation, so a timer set before
//! is void.

use super::Node;
use super::ctx::{NodeCtx, Timer};
use super::mempool;
use crate::chain::BlockId;
use crate::chain::keys::KeyPair;
use crate::consensus::dpos_run::DposRules;
use crate::consensus::seal::SignedSeal;
use crate::consensus::signed::SignedRules;
use crate::mining::build_template;
use crate::observe::Record;

/// A signed-seal producer's key and clock.
pub struct SignedProducer {
    /// Its block-signing key.
    pub signing: KeyPair,
    /// The slot its pending timer is for (coin-age: the next second to hash).
    pub(super) next_slot: u64,
    /// Bumped when the pending timer is voided.
    pub(super) generation: u32,
    /// Coin-age: the kernel hit its pending timer is for, if it found one.
    pub(super) hit: Option<u64>,
    /// Coinbase extra nonce, bumped per block so templates never repeat.
    extra_nonce: u64,
    /// Its own stream of draws, for kinds that draw per block (`poet`: its waits).
    pub(super) waits: Option<Box<crate::rng::SimRng>>,
    /// The wait its pending timer was drawn for (`poet`).
    pub(super) wait: crate::time::SimDuration,
}

impl SignedProducer {
    /// A producer signing with `signing`.
    pub fn new(signing: KeyPair) -> SignedProducer {
        SignedProducer {
            signing,
            next_slot: 0,
            generation: 0,
            hit: None,
            extra_nonce: 0,
            waits: None,
            wait: crate::time::SimDuration::ZERO,
        }
    }

    /// The same producer drawing from `waits` (its own stream), if given.
    pub fn with_waits(mut self, waits: Option<Box<crate::rng::SimRng>>) -> SignedProducer {
        self.waits = waits;
        self
    }
}

impl Node {
    /// Makes the node a producer of the run's signed-seal kind.
    pub fn set_signed_producer(&mut self, producer: SignedProducer) {
        self.signed = Some(Box::new(producer));
    }

    /// Starts the producer's clock (DPoS: the first slot that starts after now).
    pub(super) fn start_signed(&mut self, ctx: &mut NodeCtx<'_>) {
        let Some(rules) = ctx.settings().signed.clone() else { return };
        let Some(p) = self.signed.as_mut() else { return };
        p.generation = p.generation.wrapping_add(1);
        match &*rules {
            SignedRules::Dpos(r) => {
                p.next_slot = r.next_slot_after(ctx.now());
                ctx.set_timer(
                    r.slot_start(p.next_slot),
                    Timer::Signed { generation: p.generation },
                );
            }
            SignedRules::Coinage(r) => self.start_coinage_scan(ctx, r),
            SignedRules::Poet(r) => self.draw_wait(ctx, r),
        }
    }

    /// The node's mining tip moved: the kinds whose leader election depends on the tip
    /// (coin-age's kernel, PoET's wait) start again on it.
    pub(super) fn signed_tip_changed(&mut self, ctx: &mut NodeCtx<'_>) {
        if self.signed.is_none() || !self.online || !ctx.mining_open() {
            return;
        }
        let Some(rules) = ctx.settings().signed.clone() else { return };
        match &*rules {
            SignedRules::Coinage(r) => self.start_coinage_scan(ctx, r),
            SignedRules::Poet(_) => self.start_signed(ctx),
            SignedRules::Dpos(_) => {}
        }
    }

    /// Voids the pending timer (the node went offline).
    pub(super) fn stop_signed(&mut self) {
        if let Some(p) = self.signed.as_mut() {
            p.generation = p.generation.wrapping_add(1);
        }
    }

    /// The producer's timer fires.
    pub(super) fn on_signed_timer(&mut self, ctx: &mut NodeCtx<'_>, generation: u32) {
        let Some(rules) = ctx.settings().signed.clone() else { return };
        match &*rules {
            SignedRules::Dpos(r) => self.on_dpos_slot(ctx, r, generation),
            SignedRules::Coinage(r) => self.on_coinage_timer(ctx, r, generation),
            SignedRules::Poet(r) => self.on_poet_wake(ctx, r, generation),
        }
    }

    /// A DPoS slot starts: play the schedule up to it, produce if it is the node's, set the
    /// next slot's timer.
    fn on_dpos_slot(&mut self, ctx: &mut NodeCtx<'_>, rules: &DposRules, generation: u32) {
        let Some(p) = self.signed.as_mut() else { return };
        if p.generation != generation || !self.online {
            return;
        }
        let slot = p.next_slot;
        let stake = ctx.shared.stake.as_mut().expect("dpos runs keep their schedule");
        let run = stake.dpos.as_mut().expect("dpos runs keep their schedule");
        let scheduled = run.producer_of(slot);
        let missed = run.take_missed();
        let now = ctx.now();
        for (slot, producer) in missed {
            ctx.record(Record::SlotMissed { producer, slot, time: now });
        }
        if !ctx.mining_open() {
            return;
        }
        p.next_slot += 1;
        ctx.set_timer(rules.slot_start(p.next_slot), Timer::Signed { generation });
        if rules.candidate(self.id) != Some(scheduled) {
            return;
        }
        self.produce_signed(ctx, |header, node, key| DposRules::seal(header, node, slot, key));
    }

    /// The normal block template on `parent`, with `extra_nonce` in its coinbase (what
    /// every stake kind's producer builds before sealing; a `pos-slot` node builds on the
    /// block it leads on, see `Node::lead_slot`).
    pub(super) fn template_on(
        &self,
        ctx: &mut NodeCtx<'_>,
        parent: BlockId,
        extra_nonce: u64,
    ) -> crate::chain::block::Block {
        self.template_left_out_on(ctx, parent, extra_nonce).0
    }

    /// The template on the mining tip without the payments the node's protocol censors,
    /// and how many payments of its mempool it left out so.
    fn template_left_out(
        &self,
        ctx: &mut NodeCtx<'_>,
        extra_nonce: u64,
    ) -> (crate::chain::block::Block, u32) {
        self.template_left_out_on(ctx, self.mining_tip(), extra_nonce)
    }

    /// [`Node::template_left_out`] on `tip`.
    fn template_left_out_on(
        &self,
        ctx: &mut NodeCtx<'_>,
        tip: BlockId,
        extra_nonce: u64,
    ) -> (crate::chain::block::Block, u32) {
        let (body, left_out) = mempool::template_body_censoring(ctx, tip, self.protocol.censor());
        let (node, now, spec) = (ctx.node(), ctx.now(), ctx.settings().template);
        (build_template(ctx.store_mut(), tip, node, now, extra_nonce, &spec, body), left_out)
    }

    /// Builds the normal template on the mining tip, seals it with `seal` and handles it as
    /// a mined block.
    pub(super) fn produce_signed(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        seal: impl FnOnce(&crate::chain::block::Header, crate::id::NodeId, &KeyPair) -> SignedSeal,
    ) -> BlockId {
        let id = self.seal_and_store(ctx, seal);
        self.accept(ctx, id, None, true);
        id
    }

    /// Builds the normal template on the mining tip, seals it with `seal`, stores it and
    /// records it as produced (the caller decides what the node does with it).
    pub(super) fn seal_and_store(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        seal: impl FnOnce(&crate::chain::block::Header, crate::id::NodeId, &KeyPair) -> SignedSeal,
    ) -> BlockId {
        let p = self.signed.as_mut().expect("a signed producer");
        p.extra_nonce += 1;
        let extra_nonce = p.extra_nonce;
        let (block, left_out) = self.template_left_out(ctx, extra_nonce);
        let node = ctx.node();
        let p = self.signed.as_ref().expect("checked above");
        let seal = seal(&block.header, node, &p.signing);
        let id = super::miner::store_signed(ctx, block, seal);
        ctx.mined();
        ctx.record(Record::BlockMined { block: id, miner: self.id, time: ctx.now() });
        if left_out > 0 {
            let time = ctx.now();
            ctx.record(Record::PaymentsLeftOut {
                producer: node,
                block: id,
                payments: left_out,
                time,
            });
        }
        id
    }
}
