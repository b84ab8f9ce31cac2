//! The judge of a double spend: decides, from outside the nodes, when the attack is over.
//!
//! It is decided by success (the merchant's chain holds the conflicting version after
//! shipping), by the attacker giving up, or, when it never gives up, once it is so far
//! behind that catching up has probability below 10^-12 (as in the race mode): the merchant's
//! chain is at least `d` blocks higher than the attacker's private branch, with
//! `d = ⌈log(10^-12) / log(q / p)⌉`. In a trial (one of many runs) the run stops there.

use crate::chain::BlockStore;
use crate::id::NodeId;
use crate::node::{Node, Report};
use crate::race::CUTOFF_CATCH_UP_PROBABILITY;
use crate::scenario::Scenario;
use crate::scenario::attack::StrategySpec;
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
    /// The attacker's share of the hash power.
    pub q: f64,
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
                let p = 1.0 - q;
                let deficit = (spec.give_up_behind.is_none() && q > 0.0 && q < p).then(|| {
                    libm::ceil(libm::log(CUTOFF_CATCH_UP_PROBABILITY) / libm::log(q / p)) as u32
                });
                Some(Judge {
                    attacker: a.node,
                    merchant: spec.merchant,
                    z: spec.z,
                    q,
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
            let private = store.get(nodes[self.attacker.index()].mining_tip()).height;
            if honest >= private + deficit {
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
