//! The merchant: a node role that sells goods for a payment and ships once the payment has
//! `z` confirmations on its own best chain.
//!
//! The merchant runs the protocol of any other node (honest by default); the role only adds
//! its shop's bookkeeping, checked each time its tip moves. A double spend succeeds if, after
//! shipping, the merchant's best chain holds a transaction that conflicts with the payment
//! instead of it (DESIGN.md's definition).

use super::ctx::NodeCtx;
use super::protocol::{Answer, Protocol, Report, View};
use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;
use crate::observe::Record;
use crate::payments::pool::{TxIndex, TxPool};
use crate::time::SimTime;

/// What the merchant saw happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShopEvent {
    /// The payment reached the confirmations the merchant waits for: goods shipped.
    Shipped {
        /// Its depth in the merchant's chain.
        confirmations: u32,
    },
    /// After shipping, the merchant's chain holds a conflicting version: the payment is
    /// reversed and the double spend succeeded.
    Reversed,
}

/// The merchant's shop once it has been paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shop {
    /// Confirmations it waits for.
    pub z: u32,
    /// The payment to the merchant.
    pub payment: TxIndex,
    /// When the payment was handed over.
    pub paid_at: SimTime,
    /// When the goods were shipped.
    pub shipped_at: Option<SimTime>,
    /// When the merchant's chain came to hold a conflicting version after shipping.
    pub reversed_at: Option<SimTime>,
}

impl Shop {
    /// A shop waiting for `z` confirmations of `payment`, paid at `paid_at`.
    pub fn new(z: u32, payment: TxIndex, paid_at: SimTime) -> Shop {
        Shop { z, payment, paid_at, shipped_at: None, reversed_at: None }
    }

    /// Checks the merchant's new tip.
    pub fn on_tip(
        &mut self,
        pool: &TxPool,
        store: &BlockStore,
        tip: BlockId,
        now: SimTime,
    ) -> Option<ShopEvent> {
        if self.reversed_at.is_some() {
            return None;
        }
        if self.shipped_at.is_none() {
            let confirmations = if self.z == 0 {
                // Zero confirmations: ships as soon as it has the payment at all.
                Some(0)
            } else {
                pool.confirmations(store, tip, self.payment).filter(|&c| c >= self.z)
            }?;
            self.shipped_at = Some(now);
            return Some(ShopEvent::Shipped { confirmations });
        }
        pool.rivals(self.payment).find_map(|r| pool.confirmations(store, tip, r))?;
        self.reversed_at = Some(now);
        Some(ShopEvent::Reversed)
    }

    /// Whether the double spend succeeded.
    pub fn reversed(&self) -> bool {
        self.reversed_at.is_some()
    }
}

/// A node that keeps a shop: it follows its inner protocol and checks its shop whenever its
/// tip moves.
pub struct Merchant {
    inner: Box<dyn Protocol>,
    z: u32,
    shop: Option<Shop>,
}

impl Merchant {
    /// A merchant that ships at `z` confirmations and otherwise follows `inner`.
    pub fn new(inner: Box<dyn Protocol>, z: u32) -> Merchant {
        Merchant { inner, z, shop: None }
    }

    fn check(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId) {
        let Some(shop) = self.shop.as_mut() else { return };
        let (now, node) = (ctx.now(), ctx.node());
        let pool = &ctx.payments().expect("a merchant is paid with a workload").pool;
        let event = shop.on_tip(pool, ctx.store(), tip, now);
        match event {
            Some(ShopEvent::Shipped { confirmations }) => {
                ctx.record(Record::GoodsShipped { node, confirmations, time: now });
            }
            Some(ShopEvent::Reversed) => {
                ctx.record(Record::PaymentReversed { node, time: now });
            }
            None => {}
        }
    }
}

impl Protocol for Merchant {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn mining_tip(&self, tip: BlockId) -> BlockId {
        self.inner.mining_tip(tip)
    }

    fn on_mined(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        self.inner.on_mined(view, block)
    }

    fn on_accepted(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        self.inner.on_accepted(view, block)
    }

    fn prefers_on_tie(&self, store: &BlockStore, tip: BlockId, candidate: BlockId) -> bool {
        self.inner.prefers_on_tie(store, tip, candidate)
    }

    fn relays_peer_blocks(&self) -> bool {
        self.inner.relays_peer_blocks()
    }

    fn on_start(&mut self, ctx: &mut NodeCtx<'_>) {
        self.inner.on_start(ctx);
    }

    fn on_timer(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId, timer: u32) -> Answer {
        self.inner.on_timer(ctx, tip, timer)
    }

    fn on_handover(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId, payment: TxIndex) {
        self.shop = Some(Shop::new(self.z, payment, ctx.now()));
        self.check(ctx, tip);
    }

    fn after_block(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId) {
        self.inner.after_block(ctx, tip);
        self.check(ctx, tip);
    }

    fn report(&self) -> Report {
        self.shop.map_or(Report::Plain, Report::Merchant)
    }
}

/// The merchant's node in a scenario's double spend, if it has one.
pub fn merchant_of(scenario: &crate::scenario::Scenario) -> Option<(NodeId, u32)> {
    scenario.attackers.iter().find_map(|a| match a.strategy {
        crate::scenario::attack::StrategySpec::DoubleSpend(d) => Some((d.merchant, d.z)),
        _ => None,
    })
}
