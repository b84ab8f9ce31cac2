//! The simulation's side of a double spend against a merchant: the payment and its private
//! conflicting version, the merchant's shop, and when the attack is decided.
//!
//! At `pay_at` the attacker's wallet signs two versions spending the same coins: the payment,
//! submitted to the merchant and relayed like any payment, and the conflicting version, which
//! only the attacker's node holds (never announced). The attacker's strategy begins its
//! private branch on its tip of that moment; its templates take the conflicting version from
//! its own mempool. The merchant ships at `z` confirmations on its own best chain; the attack
//! succeeds when, after that, the merchant's best chain holds the conflicting version.
//!
//! It is decided by success, by the attacker giving up, or, when it never gives up, once it
//! is so far behind that catching up has probability below 10^-12 (as in the race mode). In
//! a trial (one of many runs) the run stops there.

use super::{Event, Phase, Simulation};
use crate::chain::BlockId;
use crate::engine::Scheduler;
use crate::merchant::{Merchant, MerchantEvent};
use crate::observe::{Observer, Record};
use crate::race::CUTOFF_CATCH_UP_PROBABILITY;
use crate::scenario::Scenario;
use crate::scenario::attack::{DoubleSpendSpec, StrategySpec};
use crate::time::SimTime;

/// A double spend under way in a run.
#[derive(Clone, Debug)]
pub struct DoubleSpendRun {
    /// The attacker's node.
    pub attacker: u32,
    /// The attack's settings.
    pub spec: DoubleSpendSpec,
    /// The attacker's share of the hash power.
    pub q: f64,
    /// The merchant's shop, once paid.
    pub merchant: Option<Merchant>,
    /// The attacker's tip when it paid (its private branch starts there).
    pub fork: Option<BlockId>,
    /// The attacker gave up its branch.
    pub gave_up: bool,
    /// The attacker fell so far behind that catching up has probability below 10^-12.
    pub cut_off: bool,
    /// Stop the run once decided (a trial of many).
    pub stop_when_decided: bool,
    /// The merchant is eclipsed (by the attacker's nodes).
    pub eclipsed_merchant: bool,
    /// With an eclipsed merchant: the honest node the attacker gives the other version to
    /// (the lowest-index node that is neither the merchant nor an attacker).
    pub public_entry: u32,
}

impl DoubleSpendRun {
    /// The double spend of `scenario`, if it has one.
    pub fn of(scenario: &Scenario, hash_shares: &[f64]) -> Option<DoubleSpendRun> {
        scenario.attackers.iter().find_map(|a| match a.strategy {
            StrategySpec::DoubleSpend(spec) => Some(DoubleSpendRun {
                attacker: a.node,
                spec,
                q: hash_shares[a.node as usize],
                merchant: None,
                fork: None,
                gave_up: false,
                cut_off: false,
                stop_when_decided: spec.trials > 1,
                eclipsed_merchant: scenario
                    .eclipse
                    .as_ref()
                    .is_some_and(|e| e.victim == spec.merchant),
                public_entry: (0..scenario.network.nodes)
                    .find(|&n| n != spec.merchant && scenario.attackers.iter().all(|x| x.node != n))
                    .unwrap_or(a.node),
            }),
            _ => None,
        })
    }

    /// Whether the attack is decided: reversed, given up or cut off.
    pub fn decided(&self) -> bool {
        self.gave_up || self.cut_off || self.merchant.as_ref().is_some_and(Merchant::reversed)
    }

    /// Blocks behind at which catching up has probability below 10^-12; `None` when the
    /// attacker has half the hash power or more, or gives up by its own rule.
    fn cut_off_deficit(&self) -> Option<u32> {
        let p = 1.0 - self.q;
        (self.spec.give_up_behind.is_none() && self.q > 0.0 && self.q < p).then(|| {
            libm::ceil(libm::log(CUTOFF_CATCH_UP_PROBABILITY) / libm::log(self.q / p)) as u32
        })
    }
}

impl<O: Observer> Simulation<O> {
    /// Schedules the payment.
    pub(super) fn schedule_double_spend(&mut self, sched: &mut Scheduler<Event>) {
        if let Some(d) = &self.double_spend {
            sched.at(d.spec.pay_at, Event::DoubleSpendPayment);
        }
    }

    /// The attacker pays the merchant and keeps the conflicting version to itself.
    pub(super) fn on_double_spend_payment(&mut self, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let Some(d) = self.double_spend.as_ref() else { return };
        let (attacker, merchant, z) = (d.attacker, d.spec.merchant, d.spec.z);
        let t = self.transactions.as_mut().expect("a double spend has a workload (validated)");
        let Some([payment, conflict]) = t.wallets.conflicting_pair([merchant, attacker]) else {
            // The wallet could not pay: nothing to attack with.
            if let Some(d) = self.double_spend.as_mut() {
                d.gave_up = true;
            }
            return;
        };
        let (paid, kept) = if d.eclipsed_merchant {
            // The merchant hears only the attacker's nodes: the attacker mines the payment
            // into blocks only the merchant takes, and gives the other version to an honest
            // node, from where it spreads to everyone else.
            let paid = t.pool.add_private(&self.network, payment.tx, payment.fee, attacker, now);
            let honest = d.public_entry;
            (paid, t.pool.add(&self.network, conflict.tx, conflict.fee, honest, now))
        } else {
            let paid = t.pool.add(&self.network, payment.tx, payment.fee, merchant, now);
            (paid, t.pool.add_private(&self.network, conflict.tx, conflict.fee, attacker, now))
        };
        for i in [paid, kept] {
            let txid = t.pool.txs()[i as usize].txid;
            let node = t.pool.txs()[i as usize].source;
            let record = Record::PaymentSent { txid, node, conflict: true, time: now };
            self.observer.record(&record, &self.store);
        }
        let fork = self.nodes[attacker as usize].tip;
        let feed = self.double_spend.as_ref().is_some_and(|d| d.eclipsed_merchant);
        if let Some(s) =
            self.adversary.strategies.get_mut(attacker as usize).and_then(Option::as_mut)
        {
            s.begin_private(fork, feed);
        }
        let d = self.double_spend.as_mut().expect("checked above");
        d.fork = Some(fork);
        d.merchant = Some(Merchant::new(merchant, z, paid, kept, now));
        // Mine the conflicting version from now on (ground mode rebuilds its template).
        self.restart_miner(attacker, sched);
        self.check_merchant(sched);
    }

    /// After the merchant's tip moved, or a block was mined: ship, notice the reversal, or
    /// cut the race off.
    pub(super) fn check_merchant(&mut self, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let Some(d) = self.double_spend.as_mut() else { return };
        let Some(m) = d.merchant.as_mut() else { return };
        let tip = self.nodes[m.node as usize].tip;
        let t = self.transactions.as_ref().expect("a double spend has a workload");
        let node = m.node;
        match m.on_tip(&t.pool, &self.store, tip, now) {
            Some(MerchantEvent::Shipped { confirmations }) => {
                let record = Record::GoodsShipped { node, confirmations, time: now };
                self.observer.record(&record, &self.store);
            }
            Some(MerchantEvent::Reversed) => {
                self.observer.record(&Record::PaymentReversed { node, time: now }, &self.store);
            }
            None => {}
        }
        self.check_cut_off();
        self.stop_if_decided();
    }

    /// Notes that the attacker gave up.
    pub(super) fn double_spend_gave_up(&mut self, node: u32) {
        if let Some(d) = self.double_spend.as_mut()
            && d.attacker == node
            && d.merchant.is_some()
        {
            d.gave_up = true;
        }
    }

    fn check_cut_off(&mut self) {
        let Some(d) = self.double_spend.as_ref() else { return };
        let (Some(m), Some(limit)) = (d.merchant.as_ref(), d.cut_off_deficit()) else { return };
        if m.reversed() {
            return;
        }
        let honest = self.store.get(self.nodes[m.node as usize].tip).height;
        let private = self.store.get(self.mining_tip(d.attacker)).height;
        if honest >= private + limit {
            self.double_spend.as_mut().expect("checked").cut_off = true;
        }
    }

    /// In a trial, stops mining once the attack is decided.
    pub(super) fn stop_if_decided(&mut self) {
        if self.double_spend.as_ref().is_some_and(|d| d.stop_when_decided && d.decided())
            && self.phase == Phase::Mining
        {
            self.stop_mining();
        }
    }

    /// When the merchant shipped, or `None`.
    pub fn shipped_at(&self) -> Option<SimTime> {
        self.double_spend.as_ref()?.merchant.as_ref()?.shipped_at
    }
}
