//! The workload: wallets paying each other at random times, planned double payments, and
//! the mempool samples taken at a fixed interval.
//!
//! This is what the network's users do, not what a node does: it is a [`Driver`], so the
//! world routes its events here without knowing them and applies what it asks (a payment
//! enters the pool at its submission node; a sampled node reports its mempool).

use super::Payments;
use crate::chain::sigcache::SigCache;
use crate::driver::{Driver, DriverEvent, Effects};
use crate::id::NodeId;
use crate::network::Network;
use crate::observe::Record;
use crate::scenario::{ConflictSpec, WorkloadSpec};
use crate::time::{SimDuration, SimTime};

/// A workload event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WorkloadEvent {
    /// A wallet makes the next payment.
    Payment,
    /// A planned double payment (index into the workload's conflicts).
    Conflict {
        /// Which one.
        index: u32,
    },
    /// The sampled nodes' mempool sizes are recorded.
    Sample,
}

impl WorkloadEvent {
    const PAYMENT: u32 = 0;
    const SAMPLE: u32 = 1;
    const FIRST_CONFLICT: u32 = 2;

    /// The opaque form the world schedules.
    fn encode(self) -> DriverEvent {
        DriverEvent(match self {
            WorkloadEvent::Payment => Self::PAYMENT,
            WorkloadEvent::Sample => Self::SAMPLE,
            WorkloadEvent::Conflict { index } => Self::FIRST_CONFLICT + index,
        })
    }

    fn decode(event: DriverEvent) -> WorkloadEvent {
        match event.0 {
            Self::PAYMENT => WorkloadEvent::Payment,
            Self::SAMPLE => WorkloadEvent::Sample,
            n => WorkloadEvent::Conflict { index: n - Self::FIRST_CONFLICT },
        }
    }
}

/// Shared state that holds the run's payments (when it has a workload).
pub trait HoldsPayments {
    /// The payments, if the run has any, and the signature cache payments are verified
    /// through when they enter the pool.
    fn payments_mut(&mut self) -> Option<(&mut Payments, &mut SigCache)>;
}

/// The payment process of a run.
#[derive(Clone, Debug)]
pub struct Workload {
    conflicts: Vec<ConflictSpec>,
    /// No payments after this time.
    stop: Option<SimTime>,
    /// First payment time.
    start: SimTime,
    sample_every: SimDuration,
    sampled_nodes: Vec<NodeId>,
}

impl Workload {
    /// The workload of `spec` on a network of `nodes` nodes.
    pub fn new(spec: &WorkloadSpec, nodes: u32) -> Workload {
        let k = spec.sample_nodes.max(1).min(nodes);
        Workload {
            conflicts: spec.conflicts.clone(),
            stop: spec.stop,
            start: spec.start,
            sample_every: spec.mempool_sample,
            sampled_nodes: if spec.sample_nodes == 0 {
                Vec::new()
            } else {
                (0..k)
                    .map(|i| NodeId((u64::from(i) * u64::from(nodes) / u64::from(k)) as u32))
                    .collect()
            },
        }
    }

    /// The first events: the first payment, every planned double payment, the first sample.
    fn first_events(&self, payments: &mut Payments) -> Vec<(SimTime, WorkloadEvent)> {
        let mut events = vec![(self.start + payments.wallets.next_gap(), WorkloadEvent::Payment)];
        for (index, c) in self.conflicts.iter().enumerate() {
            events.push((c.at, WorkloadEvent::Conflict { index: index as u32 }));
        }
        if !self.sampled_nodes.is_empty() {
            events.push((SimTime::ZERO, WorkloadEvent::Sample));
        }
        events
    }

    /// Handles one event at `now`; `mining` says whether the run still mines (payments and
    /// samples stop with mining).
    fn step(
        &mut self,
        event: WorkloadEvent,
        now: SimTime,
        mining: bool,
        (payments, sigs): (&mut Payments, &mut SigCache),
        network: &Network,
    ) -> Effects {
        let mut out = Effects::default();
        match event {
            WorkloadEvent::Payment => {
                if !mining || self.stop.is_some_and(|stop| now >= stop) {
                    return out;
                }
                if let Some(p) = payments.wallets.next_payment() {
                    // A wallet's payment passes; were it refused, the pool counts it.
                    let _ = payments.pool.admit(network, sigs, (p.tx, p.fee), p.node, now);
                }
                out.schedule
                    .push((now + payments.wallets.next_gap(), WorkloadEvent::Payment.encode()));
            }
            WorkloadEvent::Conflict { index } => {
                let nodes = self.conflicts[index as usize].nodes;
                if let Some(pair) = payments.wallets.conflicting_pair(nodes) {
                    for p in pair {
                        let Ok(i) = payments.pool.admit(network, sigs, (p.tx, p.fee), p.node, now)
                        else {
                            continue;
                        };
                        let txid = payments.pool.txs()[i as usize].txid;
                        out.records.push(Record::PaymentSent {
                            txid,
                            node: p.node,
                            conflict: true,
                            time: now,
                        });
                    }
                }
            }
            WorkloadEvent::Sample => {
                if !mining {
                    return out;
                }
                out.sample.clone_from(&self.sampled_nodes);
                out.schedule.push((now + self.sample_every, WorkloadEvent::Sample.encode()));
            }
        }
        out
    }
}

impl<S: HoldsPayments> Driver<S> for Workload {
    fn start(&self, state: &mut S) -> Vec<(SimTime, DriverEvent)> {
        let Some((payments, _)) = state.payments_mut() else {
            return Vec::new();
        };
        let events = self.first_events(payments);
        events.into_iter().map(|(at, e)| (at, e.encode())).collect()
    }

    fn handle(
        &mut self,
        event: DriverEvent,
        now: SimTime,
        mining: bool,
        state: &mut S,
        network: &Network,
    ) -> Effects {
        match state.payments_mut() {
            Some((payments, sigs)) => {
                self.step(WorkloadEvent::decode(event), now, mining, (payments, sigs), network)
            }
            None => Effects::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_their_opaque_form() {
        for e in [
            WorkloadEvent::Payment,
            WorkloadEvent::Sample,
            WorkloadEvent::Conflict { index: 0 },
            WorkloadEvent::Conflict { index: 7 },
        ] {
            assert_eq!(WorkloadEvent::decode(e.encode()), e);
        }
        assert_ne!(WorkloadEvent::Payment.encode(), WorkloadEvent::Sample.encode());
    }
}
