//! The long-range attack with old keys on `pos-slot`: the holder of keys that held much
//! stake long ago builds, from a block before it sold that stake, a fork on which the keys
//! keep their stake for ever.
//!
//! Producing a block under slot-based proof of stake costs nothing, so keys whose coins
//! were sold are worthless to their holder on the honest chain and priceless on a chain
//! that leaves the honest one before the sale. The strategy plays both roles on one node:
//!
//! 1. **Before the sale** it is an honest stakeholder: it leads slots at rate φ(σ_old) on
//!    the honest chain, relays and builds on the longest chain.
//! 2. **At the sale** (the first slot starting at or after `sale_s`) its stake moves on the
//!    honest chain to holders who do not stake (`consensus::rewards::Sale`: the first
//!    honest block after the sale carries the move). It takes the block of its chain that
//!    lies before `fork_s` (by default its tip) as the fork point and replays every slot
//!    since with its old keys on the fork ([`Answer::backfill_from`]): slots gone by are as
//!    easy to claim as new ones, each block with a real VRF proof and signature that every
//!    node checks against the fork's own stake and nonce.
//! 3. **After the sale** it builds only on the fork, leading slots at rate φ(σ_old) while
//!    the honest chain grows at φ(1 − σ_old), the rate of the stake still staking. It keeps
//!    the fork private until the fork is `publish_lead` blocks longer than the honest chain
//!    it sees, then publishes it, and every later block at once.
//!
//! Online honest nodes refuse the published fork by the rollback limit k (it disconnects
//! far more than k of their blocks); a node syncing from genesis compares the chains
//! afresh (`consensus::genesis`).

use crate::chain::BlockId;
use crate::consensus::long_range::LongRangeTrace;
use crate::consensus::rewards::Sale;
use crate::id::NodeId;
use crate::node::ctx::NodeCtx;
use crate::node::protocol::{Answer, Protocol, View};
use crate::scenario::Scenario;
use crate::scenario::attack::{LongRangeSpec, StrategySpec};
use crate::scenario::consensus::KindParams;
use crate::time::{SimDuration, SimTime};

/// The protocol timer of the sale.
const SALE: u32 = 0;

/// The fork under way.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fork {
    /// Where it leaves the honest chain.
    point: BlockId,
    /// Its last block.
    tip: BlockId,
    /// Its blocks not yet published, oldest first.
    unpublished: Vec<BlockId>,
}

/// The long-range attacker.
pub struct LongRange {
    spec: LongRangeSpec,
    node: NodeId,
    /// Slot length.
    slot: SimDuration,
    fork: Option<Fork>,
    /// When the fork was published.
    published_at: Option<SimTime>,
    /// The trace needs an update after the current block.
    trace_due: bool,
}

/// The first slot that starts at or after `at`.
pub fn first_slot_from(at: SimTime, slot: SimDuration) -> u64 {
    at.0.div_ceil(slot.0)
}

/// The first slot after the sale of `spec` with slots of `slot` (at least 1).
pub fn sale_slot(spec: &LongRangeSpec, slot: SimDuration) -> u64 {
    first_slot_from(spec.sale, slot).max(1)
}

/// The [`Sale`] a scenario's long-range attacker makes, if it has one (a `pos-slot` run).
pub fn sale_of(scenario: &Scenario) -> Option<Sale> {
    let KindParams::PosSlot { slot, .. } = scenario.consensus.params else { return None };
    scenario.attackers.iter().find_map(|a| match a.strategy {
        StrategySpec::LongRange(spec) => {
            Some(Sale { seller: a.node, slot: sale_slot(&spec, slot) })
        }
        _ => None,
    })
}

impl LongRange {
    /// The attacker on `node` of `scenario` (a `pos-slot` run, validated), following `spec`.
    pub fn new(scenario: &Scenario, node: NodeId, spec: LongRangeSpec) -> LongRange {
        let KindParams::PosSlot { slot, .. } = scenario.consensus.params else {
            panic!("validated: a long-range attacker runs under pos-slot");
        };
        LongRange { spec, node, slot, fork: None, published_at: None, trace_due: false }
    }

    /// The first slot after the sale, S: the attacker stakes honestly in slots before it.
    pub fn sale_slot(&self) -> u64 {
        sale_slot(&self.spec, self.slot)
    }

    /// The sale: pick the fork point, start the fork there and replay the slots since.
    fn sell(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId) -> Answer {
        let fork_slot = first_slot_from(self.spec.fork, self.slot);
        let store = ctx.store();
        let seals = &ctx.shared.stake.as_deref().expect("slot runs keep seals").seals;
        let mut point = tip;
        while point != BlockId::GENESIS && seals.slot_of(point) >= fork_slot {
            point = store.get(point).parent.expect("a block above genesis has a parent");
        }
        let from = seals.slot_of(point) + 1;
        self.fork = Some(Fork { point, tip: point, unpublished: Vec::new() });
        let sale_slot = self.sale_slot();
        if let Some(stake) = ctx.shared.stake.as_deref_mut() {
            stake.long_range = Some(LongRangeTrace {
                attacker: self.node,
                sale_slot,
                fork_point: point,
                fork_tip: point,
                published_at: None,
            });
        }
        Answer { backfill_from: Some(from), ..Answer::default() }
    }
}

impl Protocol for LongRange {
    fn name(&self) -> &'static str {
        "long-range"
    }

    fn mining_tip(&self, tip: BlockId) -> BlockId {
        self.fork.as_ref().map_or(tip, |f| f.tip)
    }

    fn on_mined(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        let Some(fork) = self.fork.as_mut() else {
            return Answer::adopt_and_relay();
        };
        fork.tip = block;
        self.trace_due = true;
        if self.published_at.is_some() {
            return Answer::publish(vec![block]);
        }
        fork.unpublished.push(block);
        let lead = i64::from(view.height(block)) - i64::from(view.height(view.tip));
        if lead >= i64::from(self.spec.publish_lead) {
            self.published_at = Some(view.now);
            return Answer::publish(std::mem::take(&mut fork.unpublished));
        }
        Answer::withhold()
    }

    fn on_start(&mut self, ctx: &mut NodeCtx<'_>) {
        // Half-way through the slot before the first slot after the sale: the clock has
        // played that slot on the honest chain, and the next one is the fork's.
        let at = SimTime(self.slot.0 * self.sale_slot() - self.slot.0 / 2);
        ctx.set_timer(at, crate::node::Timer::Protocol(SALE));
    }

    fn on_timer(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId, timer: u32) -> Answer {
        match timer {
            SALE => self.sell(ctx, tip),
            _ => Answer::default(),
        }
    }

    fn after_block(&mut self, ctx: &mut NodeCtx<'_>, _tip: BlockId) {
        if !std::mem::take(&mut self.trace_due) {
            return;
        }
        let (Some(fork), Some(stake)) = (self.fork.as_ref(), ctx.shared.stake.as_deref_mut())
        else {
            return;
        };
        if let Some(trace) = stake.long_range.as_mut() {
            trace.fork_tip = fork.tip;
            trace.published_at = self.published_at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sale_takes_effect_at_the_first_slot_starting_at_or_after_it() {
        let slot = SimDuration::from_secs(2);
        assert_eq!(first_slot_from(SimTime(0), slot), 0);
        assert_eq!(first_slot_from(SimTime(1), slot), 1);
        assert_eq!(first_slot_from(SimTime::ZERO + SimDuration::from_secs(4), slot), 2);
        assert_eq!(first_slot_from(SimTime::ZERO + SimDuration::from_secs(5), slot), 3);
    }
}
