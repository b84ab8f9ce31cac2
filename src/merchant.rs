//! The merchant of a double-spend attack: it ships the goods once the payment has `z`
//! confirmations on its own best chain, and the attack succeeds if its best chain later
//! holds the attacker's conflicting version instead (DESIGN.md's definition).
//!
//! The merchant is an honest node; this is only the bookkeeping of its shop, checked each
//! time its tip moves.

use crate::chain::{BlockId, BlockStore};
use crate::time::SimTime;
use crate::txpool::{TxIndex, TxPool};

/// What the merchant saw happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MerchantEvent {
    /// The payment reached the confirmations the merchant waits for: goods shipped.
    Shipped {
        /// Its depth in the merchant's chain.
        confirmations: u32,
    },
    /// After shipping, the merchant's chain holds the conflicting version: the payment is
    /// reversed and the double spend succeeded.
    Reversed,
}

/// The merchant's shop.
#[derive(Clone, Debug)]
pub struct Merchant {
    /// The merchant's node.
    pub node: u32,
    /// Confirmations it waits for.
    pub z: u32,
    /// The payment to the merchant.
    pub payment: TxIndex,
    /// The attacker's conflicting version.
    pub conflict: TxIndex,
    /// When the payment was made.
    pub paid_at: SimTime,
    /// When the goods were shipped.
    pub shipped_at: Option<SimTime>,
    /// When the merchant's chain came to hold the conflicting version after shipping.
    pub reversed_at: Option<SimTime>,
}

impl Merchant {
    /// A merchant on `node` waiting for `z` confirmations of `payment`, which `conflict`
    /// double-spends; paid at `paid_at`.
    pub fn new(node: u32, z: u32, payment: TxIndex, conflict: TxIndex, paid_at: SimTime) -> Self {
        Merchant { node, z, payment, conflict, paid_at, shipped_at: None, reversed_at: None }
    }

    /// Checks the merchant's new tip.
    pub fn on_tip(
        &mut self,
        pool: &TxPool,
        store: &BlockStore,
        tip: BlockId,
        now: SimTime,
    ) -> Option<MerchantEvent> {
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
            return Some(MerchantEvent::Shipped { confirmations });
        }
        pool.confirmations(store, tip, self.conflict)?;
        self.reversed_at = Some(now);
        Some(MerchantEvent::Reversed)
    }

    /// Whether the double spend succeeded.
    pub fn reversed(&self) -> bool {
        self.reversed_at.is_some()
    }
}
