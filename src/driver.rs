//! Drivers: inputs that come from outside the nodes, such as the network's users paying each
//! other or a measurement that samples nodes at fixed times.
//!
//! The world routes a driver's events without knowing what they mean. A driver plans its
//! first events, is handed each one back when it falls due together with the shared state it
//! acts on, and answers with [`Effects`]: further events, records for the observers, and
//! nodes to sample. Keeping this behind one trait keeps the world free of any particular
//! workload, so a new kind of input (a light client's queries, a pool's share submissions)
//! adds a driver, not a branch in the routing.

use crate::id::NodeId;
use crate::network::Network;
use crate::observe::Record;
use crate::time::SimTime;

/// One step of a driver, opaque to the world: the driver alone decodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DriverEvent(pub u32);

/// What a driver's step asks of the world.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Events to schedule.
    pub schedule: Vec<(SimTime, DriverEvent)>,
    /// Records for the observers.
    pub records: Vec<Record>,
    /// Nodes whose protocol is asked for a sample now, in this order.
    pub sample: Vec<NodeId>,
}

/// An input from outside the nodes, acting on shared state `S`.
pub trait Driver<S> {
    /// The first events, in the order they are to be scheduled.
    fn start(&self, state: &mut S) -> Vec<(SimTime, DriverEvent)>;

    /// Handles one event at `now`; `mining` says whether the run still mines.
    fn handle(
        &mut self,
        event: DriverEvent,
        now: SimTime,
        mining: bool,
        state: &mut S,
        network: &Network,
    ) -> Effects;
}
