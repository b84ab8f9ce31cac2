//! The engine decides *when* things happen: it owns virtual time and the event queue, pops
//! the earliest event and hands it to the model, which decides *what* happens and schedules
//! follow-up events through the [`Scheduler`]. It knows nothing of blocks or networks.
//!
//! A run is bounded: it stops when the model says it is done, when no events are left, or at
//! the scenario's hard caps on processed events and virtual time, whichever comes first.

pub mod huge_pages;
pub mod prefetch;
pub mod queue;

pub use queue::EventQueue;

use crate::time::SimTime;

/// What a model sees of the engine while handling an event.
pub struct Scheduler<E> {
    now: SimTime,
    queue: EventQueue<E>,
}

impl<E> Scheduler<E> {
    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `time`.
    ///
    /// # Panics
    ///
    /// Panics if `time` is in the past: that would break causality and determinism.
    pub fn at(&mut self, time: SimTime, event: E) {
        assert!(time >= self.now, "event scheduled in the past ({time:?} < {:?})", self.now);
        self.queue.push(time, event);
    }

    /// Pending events.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

/// A simulation model driven by the engine.
pub trait Model {
    /// The model's event type.
    type Event;

    /// Handles one event at the scheduler's current time.
    fn handle(&mut self, event: Self::Event, scheduler: &mut Scheduler<Self::Event>);

    /// Whether the run is complete (checked after every event).
    fn is_done(&self, scheduler: &Scheduler<Self::Event>) -> bool {
        let _ = scheduler;
        false
    }

    /// Whether the engine should pass the model the likely next event before each one is
    /// handled ([`Model::prefetch`]); asked once per run. Finding that event costs a little
    /// per event, which pays off only when the model's memory is larger than the caches.
    fn wants_prefetch(&self) -> bool {
        false
    }

    /// A hint: `event` will probably be handled after the one now being handled, so the
    /// model may ask the processor for the memory it reads (see [`crate::engine::prefetch`]).
    /// It must change nothing the model reads or does. Does nothing unless a model says
    /// otherwise.
    #[inline]
    fn prefetch(&self, event: &Self::Event) {
        let _ = event;
    }
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model finished its work.
    Done,
    /// No events were left.
    Idle,
    /// The hard cap on events was reached.
    MaxEvents,
    /// The hard cap on virtual time was reached.
    MaxTime,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunStats {
    /// Why the engine stopped.
    pub stopped_by: StopReason,
    /// Events processed.
    pub events: u64,
    /// Virtual time at the end.
    pub end_time: SimTime,
}

/// Limits that bound every run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most events to process.
    pub max_events: u64,
    /// Latest virtual time to reach.
    pub max_time: SimTime,
}

/// Owns virtual time and the queue.
pub struct Engine<E> {
    scheduler: Scheduler<E>,
    processed: u64,
    limits: Limits,
}

impl<E> Engine<E> {
    /// A fresh engine at time zero.
    pub fn new(limits: Limits) -> Self {
        Engine {
            scheduler: Scheduler { now: SimTime::ZERO, queue: EventQueue::new() },
            processed: 0,
            limits,
        }
    }

    /// The scheduler, for seeding initial events.
    pub fn scheduler(&mut self) -> &mut Scheduler<E> {
        &mut self.scheduler
    }

    /// Current virtual time.
    pub fn now(&self) -> SimTime {
        self.scheduler.now
    }

    /// Events processed so far.
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// Replaces the limits (used to bound the drain phase after mining stops).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Runs until the model is done, the queue is empty or a cap is hit.
    pub fn run<M: Model<Event = E>>(&mut self, model: &mut M) -> StopReason {
        let prefetch = model.wants_prefetch();
        loop {
            if model.is_done(&self.scheduler) {
                return StopReason::Done;
            }
            if self.processed >= self.limits.max_events {
                return StopReason::MaxEvents;
            }
            let Some(time) = self.scheduler.queue.peek_time() else {
                return StopReason::Idle;
            };
            if time > self.limits.max_time {
                self.scheduler.now = self.limits.max_time;
                return StopReason::MaxTime;
            }
            let (time, event) = self.scheduler.queue.pop().expect("peeked an event just now");
            self.scheduler.now = time;
            self.processed += 1;
            // The next event's memory then loads while this one is handled.
            if prefetch && let Some(next) = self.scheduler.queue.likely_next() {
                model.prefetch(next);
            }
            model.handle(event, &mut self.scheduler);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    /// A model that re-schedules itself every second and counts.
    struct Ticker {
        ticks: u64,
        until: u64,
    }

    impl Model for Ticker {
        type Event = ();
        fn handle(&mut self, _: (), s: &mut Scheduler<()>) {
            self.ticks += 1;
            let next = s.now() + SimDuration::from_secs(1);
            s.at(next, ());
        }
        fn is_done(&self, _: &Scheduler<()>) -> bool {
            self.ticks >= self.until
        }
    }

    #[test]
    fn caps_bound_the_run() {
        let limits = Limits { max_events: 5, max_time: SimTime::MAX };
        let mut engine = Engine::new(limits);
        engine.scheduler().at(SimTime::ZERO, ());
        assert_eq!(engine.run(&mut Ticker { ticks: 0, until: 100 }), StopReason::MaxEvents);

        let limits = Limits { max_events: 1000, max_time: SimTime(2_500_000) };
        let mut engine = Engine::new(limits);
        engine.scheduler().at(SimTime::ZERO, ());
        let mut t = Ticker { ticks: 0, until: 100 };
        assert_eq!(engine.run(&mut t), StopReason::MaxTime);
        assert_eq!(t.ticks, 3);

        let mut engine = Engine::new(Limits { max_events: 1000, max_time: SimTime::MAX });
        engine.scheduler().at(SimTime::ZERO, ());
        assert_eq!(engine.run(&mut Ticker { ticks: 0, until: 4 }), StopReason::Done);
    }

    /// Records the time and label of every event it handles.
    struct Log(Vec<(u64, char)>);

    impl Model for Log {
        type Event = char;
        fn handle(&mut self, event: char, s: &mut Scheduler<char>) {
            self.0.push((s.now().0, event));
        }
    }

    #[test]
    fn events_scheduled_after_a_time_cap_keep_time_order() {
        // The cap stops the engine before 'b' at 10 s; the queue has looked at 'b' already.
        // An event scheduled at the cap, before 'b', must still come out first.
        let mut engine = Engine::new(Limits { max_events: 100, max_time: SimTime(4_000_000) });
        engine.scheduler().at(SimTime(1_000_000), 'a');
        engine.scheduler().at(SimTime(10_000_000), 'b');
        engine.scheduler().at(SimTime(1_000_000), 'c');
        let mut log = Log(Vec::new());
        assert_eq!(engine.run(&mut log), StopReason::MaxTime);
        assert_eq!(engine.now(), SimTime(4_000_000));
        engine.scheduler().at(SimTime(4_000_000), 'd');
        engine.scheduler().at(SimTime(10_000_000), 'e');
        engine.set_limits(Limits { max_events: 100, max_time: SimTime::MAX });
        assert_eq!(engine.run(&mut log), StopReason::Idle);
        let expected = [
            (1_000_000, 'a'),
            (1_000_000, 'c'),
            (4_000_000, 'd'),
            (10_000_000, 'b'),
            (10_000_000, 'e'),
        ];
        assert_eq!(log.0, expected);
        assert_eq!(engine.processed(), 5);
    }
}
