//! The judge of a double spend: decides, from outside the nodes, when the attack is over.
//!
//! It is decided by success (the merchant's chain holds the conflicting version after
//! shipping), by the attacker giving up, or, when it never gives up, once it is so far
//! behind that catching up has probability below 10^-12 (as in the race mode): the merchant's
//! chain is at least `d` blocks higher than the attacker's branch, with
//! `d = ⌈log(10^-12) / log(q / p)⌉`. In a trial (one of many runs) the run stops there.
//!
//! The attacker's branch is its private branch while it mines one, and the branch it
//! published once it has: a published branch that lost a tie is then cut off like a private
//! one left behind, instead of keeping the trial open while the attacker mines honestly.
//! Under `pos-slot` the per-block odds are those of the slot race, q' / (1 − q') with
//! q' = a(1 − h) / (a(1 − h) + h(1 − a)) ([`analytic::pos_slot_effective_share`]): a slot both
//! sides lead moves neither ahead.

use crate::analytic;
use crate::chain::BlockStore;
use crate::id::NodeId;
use crate::node::{Node, Report};
use crate::race::CUTOFF_CATCH_UP_PROBABILITY;
use crate::scenario::Scenario;
use crate::scenario::attack::StrategySpec;
use crate::scenario::consensus::KindParams;
use crate::world::Monitor;

/// Watches a double spend.
#[derive(Clone, Debug, PartialEq)]
pub struct Judge {
    /// The attacker's node.
    pub attacker: NodeId,
    /// The merchant's node.
    pub merchant: NodeId,
    /// Confirmations the merchant waits for.
    pub z: u32,
    /// The attacker's share of the hash power (of the stake under `pos-slot`).
    pub q: f64,
    /// Under `pos-slot`: the active-slot coefficient f (the race is a slot race).
    pub slot_coeff: Option<f64>,
    /// Blocks behind at which the race is cut off (`None`: the attacker has half the power
    /// or more, or gives up by its own rule).
    deficit: Option<u32>,
    /// Stop mining once decided (a trial of many).
    stop_when_decided: bool,
    /// The race was cut off.
    pub cut_off: bool,
}

impl Judge {
    /// The judge of `scenario`'s double spend, if it has one.
    pub fn of(scenario: &Scenario) -> Option<Judge> {
        scenario.attackers.iter().find_map(|a| match a.strategy {
            StrategySpec::DoubleSpend(spec) => {
                let q = a.share;
                let slot_coeff = match scenario.consensus.params {
                    KindParams::PosSlot { f, .. } => Some(f),
                    _ => None,
                };
                let per_block =
                    slot_coeff.map_or(q, |f| analytic::pos_slot_effective_share(q, f).unwrap_or(q));
                let (q, p) = (per_block, 1.0 - per_block);
                let deficit = (spec.give_up_behind.is_none() && q > 0.0 && q < p).then(|| {
                    libm::ceil(libm::log(CUTOFF_CATCH_UP_PROBABILITY) / libm::log(q / p)) as u32
                });
                Some(Judge {
                    attacker: a.node,
                    merchant: spec.merchant,
                    z: spec.z,
                    q: a.share,
                    slot_coeff,
                    deficit,
                    stop_when_decided: spec.trials > 1,
                    cut_off: false,
                })
            }
            _ => None,
        })
    }
}

impl Monitor for Judge {
    fn after_event(&mut self, nodes: &[Node], store: &BlockStore) -> bool {
        let merchant = &nodes[self.merchant.index()];
        // Nothing to judge before the merchant is paid.
        let Report::Merchant(shop) = merchant.report() else { return false };
        if let Some(deficit) = self.deficit
            && !shop.reversed()
        {
            let honest = store.get(merchant.tip()).height;
            let attacker = &nodes[self.attacker.index()];
            let branch = match attacker.report() {
                Report::DoubleSpender { published: Some(tip), .. } => tip,
                _ => attacker.mining_tip(),
            };
            if honest >= store.get(branch).height + deficit {
                self.cut_off = true;
            }
        }
        let gave_up = matches!(
            nodes[self.attacker.index()].report(),
            Report::DoubleSpender { gave_up: true, .. }
        );
        self.stop_when_decided && (gave_up || self.cut_off || shop.reversed())
    }
}
