//! The double spend against a merchant: pay, then take the payment back with a private
//! branch that holds a conflicting version of it.
//!
//! At `pay_at` the attacker's wallet signs two versions spending the same coins: the payment,
//! submitted at the merchant and relayed like any payment, and the conflicting version, which
//! only the attacker's node holds (never announced). The attacker hands the payment to the
//! merchant and begins its private branch on its tip of that moment; its templates take the
//! conflicting version from its own mempool. It publishes the branch once it is longer than
//! the honest chain and the merchant has its `z` confirmations ([`PrivateChain`]'s rule).
//!
//! Under `pos-slot` the attacker decides once per slot, half a slot after its start, rather
//! than on each block ([`PrivateChain::deferred`]): every leader of a slot builds at its
//! start, so the honest leaders' blocks of the slot are in by then, it publishes only a
//! branch that is still strictly ahead of them, and the branch reaches the next slot's
//! leaders before they build.
//!
//! Against an eclipsed merchant (every peer of the merchant is an attacker node) the roles of
//! the two versions swap: the attacker mines the payment into blocks only the merchant takes,
//! and gives the other version to an honest node, from where it spreads to everyone else.

use super::private_chain::PrivateChain;
use crate::chain::BlockId;
use crate::id::NodeId;
use crate::node::ctx::NodeCtx;
use crate::node::protocol::{Answer, Protocol, Report, View};
use crate::observe::Record;
use crate::payments::pool::TxPool;
use crate::scenario::Scenario;
use crate::scenario::attack::DoubleSpendSpec;
use crate::scenario::consensus::KindParams;
use crate::time::{SimDuration, SimTime};

/// The protocol timer of the payment.
const PAY: u32 = 0;
/// The protocol timer of the middle of a slot (slot clocks only).
const MID_SLOT: u32 = 1;

/// The double-spend attacker.
pub struct DoubleSpend {
    chain: PrivateChain,
    node: NodeId,
    merchant: NodeId,
    pay_at: SimTime,
    /// The merchant is eclipsed (by the attacker's nodes).
    eclipsed_merchant: bool,
    /// With an eclipsed merchant: the honest node the attacker gives the other version to
    /// (the lowest-index node that is neither the merchant nor an attacker).
    public_entry: NodeId,
    paid_at: Option<SimTime>,
    gave_up: bool,
    /// The slot length, under a slot clock: the attacker decides half-way through each slot.
    slot: Option<SimDuration>,
    /// The last block of the branch once published.
    published: Option<BlockId>,
}

impl DoubleSpend {
    /// The attacker on `node` of `scenario`, following `spec`; `relay`: whether it passes on
    /// others' blocks.
    pub fn new(scenario: &Scenario, node: NodeId, spec: DoubleSpendSpec, relay: bool) -> Self {
        let merchant = spec.merchant;
        let slot = match scenario.consensus.params {
            KindParams::PosSlot { slot, .. } => Some(slot),
            _ => None,
        };
        let chain = PrivateChain::double_spend(spec, relay);
        DoubleSpend {
            chain: if slot.is_some() { chain.deferred() } else { chain },
            node,
            merchant,
            pay_at: spec.pay_at,
            eclipsed_merchant: scenario.eclipse.as_ref().is_some_and(|e| e.victim == spec.merchant),
            public_entry: NodeId::all(scenario.network.nodes)
                .find(|&n| n != merchant && scenario.attackers.iter().all(|x| x.node != n))
                .unwrap_or(node),
            paid_at: None,
            gave_up: false,
            slot,
            published: None,
        }
    }

    /// Sets the timer of the next decision point: the middle of a slot, after now.
    ///
    /// Half a slot after its start the slot's blocks are in (links far faster than a slot),
    /// and a branch published then reaches every node before the next slot's leaders build:
    /// deciding at the slot's very end would let them build on the honest chain first and
    /// turn the published branch into a tie.
    fn wake_mid_slot(&self, ctx: &mut NodeCtx<'_>, slot: SimDuration) {
        let now = ctx.now().0;
        let mid = (now / slot.0) * slot.0 + slot.0 / 2;
        let at = if mid > now { mid } else { mid + slot.0 };
        ctx.set_timer(SimTime(at), crate::node::Timer::Protocol(MID_SLOT));
    }

    /// The middle of a slot: publish or give up if the rule says so, and wait for the next
    /// slot's middle while the branch is under way.
    fn at_mid_slot(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId) -> Answer {
        let view = View { store: ctx.store(), tip, now: ctx.now() };
        let decision = self.chain.decide_now(&view);
        let decision = self.note(decision);
        if let Some(slot) = self.slot
            && self.chain.in_progress()
        {
            self.wake_mid_slot(ctx, slot);
        }
        decision
    }

    /// Pays the merchant and keeps the conflicting version to itself.
    fn pay(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId) -> Answer {
        let now = ctx.now();
        let network = ctx.network();
        let (attacker, merchant) = (self.node, self.merchant);
        let shared = &mut *ctx.shared;
        let sigs = shared.store.sigcache_mut();
        let payments = shared.payments.as_mut().expect("a double spend has a workload (validated)");
        let Some([payment, conflict]) = payments.wallets.conflicting_pair([merchant, attacker])
        else {
            // The wallet could not pay: nothing to attack with.
            self.gave_up = true;
            return Answer::default();
        };
        let pool = &mut payments.pool;
        // The public version enters through the pool's checks; the attacker keeps the
        // other to itself (it checks nothing of its own).
        let mut public = |pool: &mut TxPool, tx, fee, at| {
            pool.admit(network, sigs, (tx, fee), at, now)
                .expect("a wallet's payment passes the entry checks")
        };
        let (paid, kept) = if self.eclipsed_merchant {
            let paid = pool.add_private(network, payment.tx, payment.fee, attacker, now);
            (paid, public(pool, conflict.tx, conflict.fee, self.public_entry))
        } else {
            let paid = public(pool, payment.tx, payment.fee, merchant);
            (paid, pool.add_private(network, conflict.tx, conflict.fee, attacker, now))
        };
        let sent: Vec<Record> = [paid, kept]
            .iter()
            .map(|&i| {
                let tx = &pool.txs()[i as usize];
                Record::PaymentSent { txid: tx.txid, node: tx.source, conflict: true, time: now }
            })
            .collect();
        for record in sent {
            ctx.record(record);
        }
        self.chain.begin_double_spend(tip, self.eclipsed_merchant);
        self.paid_at = Some(now);
        ctx.hand_over(merchant, paid);
        if let Some(slot) = self.slot {
            self.wake_mid_slot(ctx, slot);
        }
        // Mine the conflicting version from now on (ground mode rebuilds its template).
        Answer { restart_mining: true, ..Answer::default() }
    }

    fn note(&mut self, decision: Answer) -> Answer {
        if decision.gave_up.is_some() && self.paid_at.is_some() {
            self.gave_up = true;
        }
        if let Some(&last) = decision.published().last()
            && !self.chain.in_progress()
        {
            self.published = Some(last);
        }
        decision
    }
}

impl Protocol for DoubleSpend {
    fn name(&self) -> &'static str {
        self.chain.name()
    }

    fn mining_tip(&self, tip: BlockId) -> BlockId {
        self.chain.mining_tip(tip)
    }

    fn on_mined(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        let decision = self.chain.on_mined(view, block);
        self.note(decision)
    }

    fn on_accepted(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        let decision = self.chain.on_accepted(view, block);
        self.note(decision)
    }

    fn relays_peer_blocks(&self) -> bool {
        self.chain.relays_peer_blocks()
    }

    fn on_start(&mut self, ctx: &mut NodeCtx<'_>) {
        ctx.set_timer(self.pay_at, crate::node::Timer::Protocol(PAY));
    }

    fn on_timer(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId, timer: u32) -> Answer {
        match timer {
            PAY => self.pay(ctx, tip),
            MID_SLOT => self.at_mid_slot(ctx, tip),
            _ => Answer::default(),
        }
    }

    fn report(&self) -> Report {
        Report::DoubleSpender {
            paid_at: self.paid_at,
            gave_up: self.gave_up,
            published: self.published,
        }
    }
}
