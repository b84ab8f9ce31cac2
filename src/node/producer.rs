//! A stakeholder's slot clock: where a PoW node runs its mining clock, a `pos-slot` node
//! with stake wakes at every slot boundary, runs the VRF lottery for the slot and, if it
//! leads, builds the normal block template on its mining tip, seals it (claim and
//! signature, see [`crate::consensus::seal`]) and handles it as a mined block.
//!
//! The lottery needs no random stream: a slot's outcome is the VRF of the node's key on
//! (η, slot), so it is fixed by the keys, which come from the node's election stream.
//! A node that is offline skips slots; when it comes back it waits for the next slot
//! boundary. Each restart bumps a generation, so a slot timer set before is void.

use super::Node;
use super::ctx::{NodeCtx, Timer};
use crate::consensus::seal::{Seal, SlotRules, StakeKeys};
use crate::observe::Record;

/// A stakeholder's keys and slot clock.
pub struct Producer {
    /// Its secret keys.
    pub keys: StakeKeys,
    /// Its party in the lottery.
    pub party: usize,
    /// The slot its pending timer is for.
    next_slot: u64,
    /// Bumped when the pending timer is voided.
    generation: u32,
    /// Coinbase extra nonce, bumped per block so templates never repeat.
    extra_nonce: u64,
}

impl Producer {
    /// A producer for `party` with `keys`.
    pub fn new(party: usize, keys: StakeKeys) -> Producer {
        Producer { keys, party, next_slot: 0, generation: 0, extra_nonce: 0 }
    }
}

impl Node {
    /// Gives the node stake: it produces blocks in the slots it leads.
    pub fn set_producer(&mut self, producer: Producer) {
        self.producer = Some(Box::new(producer));
    }

    /// Sets the slot timer for the first slot that starts after now (slot 0 is genesis's).
    pub(super) fn start_slots(&mut self, ctx: &mut NodeCtx<'_>) {
        let Some(rules) = ctx.settings().slots.as_deref() else { return };
        let Some(p) = self.producer.as_mut() else { return };
        p.generation = p.generation.wrapping_add(1);
        p.next_slot = ctx.now().0 / rules.slot.0 + 1;
        let at = rules.slot_start(p.next_slot);
        ctx.set_timer(at, Timer::Slot { generation: p.generation });
    }

    /// Voids the pending slot timer (the node went offline).
    pub(super) fn stop_slots(&mut self) {
        if let Some(p) = self.producer.as_mut() {
            p.generation = p.generation.wrapping_add(1);
        }
    }

    /// A slot starts: run the lottery, produce if the node leads, set the next slot's timer.
    pub(super) fn on_slot(&mut self, ctx: &mut NodeCtx<'_>, generation: u32) {
        let Some(rules) = ctx.settings().slots.as_deref() else { return };
        let Some(p) = self.producer.as_mut() else { return };
        if p.generation != generation || !ctx.mining_open() || !self.online {
            return;
        }
        let slot = p.next_slot;
        p.next_slot += 1;
        ctx.set_timer(rules.slot_start(p.next_slot), Timer::Slot { generation });
        self.lead_slot(ctx, rules, slot, true);
    }

    /// Plays the slots from `from` up to the last one that has started again, in order, on
    /// the node's mining tip (each block produced becomes the next one's parent if the
    /// protocol builds on it): what a long-range attacker does with keys for slots gone by.
    /// The slots already played by the clock are not counted again in the slot statistics.
    pub(super) fn backfill_slots(&mut self, ctx: &mut NodeCtx<'_>, from: u64) {
        let Some(rules) = ctx.settings().slots.as_deref() else { return };
        let Some(p) = self.producer.as_ref() else { return };
        if !ctx.mining_open() || !self.online {
            return;
        }
        // The clock's next slot has not started: everything before it has.
        let until = p.next_slot;
        for slot in from..until {
            self.lead_slot(ctx, rules, slot, false);
        }
    }

    /// Runs the lottery of `slot` on the mining tip, or on each block the protocol names
    /// ([`crate::node::protocol::Protocol::lottery_parents`]), and produces on each block
    /// it leads on; `count`: whether the slot statistics count the slot (once per slot and
    /// node, led if any evaluation won).
    fn lead_slot(&mut self, ctx: &mut NodeCtx<'_>, rules: &SlotRules, slot: u64, count: bool) {
        let Some(parents) = self.protocol.lottery_parents(ctx.store(), self.view.tip) else {
            let tip = self.mining_tip();
            self.lead_on(ctx, rules, slot, tip, count);
            return;
        };
        let mut led = false;
        for parent in parents {
            led |= self.lead_on(ctx, rules, slot, parent, false);
        }
        if let Some(stake) = ctx.shared.stake.as_mut()
            && count
        {
            stake.slots.note(self.id, slot, led);
        }
    }

    /// Runs the lottery of `slot` on `tip` and, if the node leads, produces a block on it;
    /// returns whether it led. `count` as in [`Node::lead_slot`].
    fn lead_on(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        rules: &SlotRules,
        slot: u64,
        tip: crate::chain::BlockId,
        count: bool,
    ) -> bool {
        let (nonce, snapshot) = match ctx.shared.stake.as_deref_mut() {
            Some(stake) => {
                let store = &ctx.shared.store;
                let nonce = rules.lottery_input(&mut stake.nonces, &stake.seals, store, tip, slot);
                // With block rewards, the stake snapshot of the tip's chain for this epoch.
                let snapshot = stake
                    .rewards
                    .as_mut()
                    .filter(|r| r.active())
                    .map(|r| r.for_child(&rules.clock, &stake.seals, store, tip, slot));
                (nonce, snapshot)
            }
            None => (rules.clock.genesis, None),
        };
        let lottery = snapshot.as_ref().map_or(&rules.lottery, |s| &s.lottery);
        let p = self.producer.as_mut().expect("checked above");
        let claim = lottery.try_lead(p.party, &p.keys.vrf, &nonce, slot);
        if let Some(stake) = ctx.shared.stake.as_mut()
            && count
        {
            stake.slots.note(self.id, slot, claim.is_some());
        }
        let Some(claim) = claim else { return false };
        p.extra_nonce += 1;
        let extra_nonce = p.extra_nonce;
        let block = self.template_on(ctx, tip, extra_nonce);
        let node = ctx.node();
        let p = self.producer.as_ref().expect("checked above");
        let seal = Seal::sign(&block.header, node, claim, &p.keys.signing);
        let id = super::miner::store_mined(ctx, block, Some(seal));
        ctx.mined();
        ctx.record(Record::BlockMined { block: id, miner: self.id, time: ctx.now() });
        self.accept(ctx, id, None, true);
        true
    }
}
