//! The world: the nodes of a run, assembled from a scenario, and the routing between them.
//!
//! The world makes no protocol decision. It pops each event from the engine, hands it to the
//! node it is addressed to with a [`NodeCtx`], and applies the node's outbox in order:
//! messages go to the [`Transport`] (uplink queueing, latency, cut links) and their arrival
//! is scheduled; timers are scheduled; records go to the observers. A [`Driver`]'s events (inputs from
//! outside the nodes) go back to the driver, timeline entries to the transport's faults, and
//! both come back to nodes as ordinary inputs (a sample the driver asks for, a node going
//! offline, a link coming back).
//!
//! Run control is the world's too: mining stops once the scenario's block count is reached
//! (or a [`Monitor`] asks, as a decided trial does), messages in flight then drain, and hard
//! caps bound everything.
//!
//! One exact shortcut keeps large runs fast: an announcement to a peer that already has the
//! block, or has asked for it, would be ignored on arrival whatever happens in between
//! (those states never go back), so it is not delivered at all. With request timeouts
//! (`network.relay.request_timeout_s`) a peer that asked still reads announcements, whose
//! senders it asks if its request times out, so they are delivered to it. Its bytes still occupy the
//! sender's uplink, so timing is unchanged. When no observer records messages either, such
//! an announcement's own arrival time is never read, and its latency draw is deferred until
//! a later message on the same link needs it, which is rare (see
//! [`Transport::transmit`]): most announcements reach peers that already have the block.

mod build;
mod coinage_setup;
mod digest;
mod kinds;
mod kinds_poet;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cartel;
#[cfg(test)]
mod tests_coinage;
#[cfg(test)]
mod tests_dpos;
#[cfg(test)]
mod tests_epochs;
#[cfg(test)]
mod tests_poet;
#[cfg(test)]
mod tests_rewards;
#[cfg(test)]
mod tests_traffic;

pub use build::BuildError;
pub use digest::network_digest;
pub use kinds_poet::poet_rules;

use smallvec::SmallVec;

use crate::chain::{BlockId, BlockStore};
use crate::driver::{Driver, DriverEvent};
use crate::engine::{Engine, Limits, Model, RunStats, Scheduler, StopReason};
use crate::id::{LinkId, NodeId};
use crate::network::faults::Change;
use crate::network::message::{Message, MessageKind};
use crate::network::transport::{Finished, Sent, Transmission, Transport, Wake};
use crate::node::chain_view::BlockState;
use crate::node::ctx::{Env, NodeSettings, NodeStreams, Outbox, Peers, Shared};
use crate::node::relay::announcement;
use crate::node::{Action, Node, NodeCtx, Timer};
use crate::observe::backlog::Backlog;
use crate::observe::{Observer, Record};
use crate::payments::pool::TxIndex;
use crate::time::{SimDuration, SimTime};

/// Everything that happens in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A message arrives over a directed link.
    Deliver {
        /// The link back from the receiver to the sender (the reverse of the link it
        /// travelled): carried, with the receiver, so that an arrival reads neither from the
        /// graph before the receiver is known.
        back: LinkId,
        /// The receiver.
        to: NodeId,
        /// What it says.
        msg: Message,
    },
    /// A node's timer fires (one the run does not wait for, such as a mining clock).
    Timer {
        /// The node.
        node: NodeId,
        /// Which timer.
        timer: Timer,
    },
    /// A node's timer for work in progress fires (the run waits for it before it ends).
    /// A variant of its own rather than a flag: with the flag the event took 28 bytes, and
    /// the event queue moves every event a few times; without it, 24.
    Work {
        /// The node.
        node: NodeId,
        /// Which timer.
        timer: Timer,
    },
    /// A driver's next step.
    Driver(DriverEvent),
    /// A node's shared uplink finishes a transfer (unless a later plan superseded this one).
    Uplink {
        /// The sending node.
        node: NodeId,
        /// Which plan of its uplink.
        generation: u32,
    },
    /// A `[[timeline]]` entry takes effect.
    Fault {
        /// Index into the scenario's timeline.
        index: u32,
    },
}

const _: () = assert!(size_of::<Event>() == 24, "the queue moves events: keep them small");

/// Size of the links' records from which the world asks the engine for the likely next
/// event ahead of time ([`Model::wants_prefetch`]): 4 MiB, past a core's second-level cache
/// and a good part of the shared one (1000 nodes with 8 outbound peers each hold 1 MiB;
/// 10,000 nodes, 10 MiB).
const PREFETCH_FROM_BYTES: usize = 4 << 20;

/// Watches a run from outside after every event and may stop its mining: a checker, such as
/// a checker that decides when a trial is over. It reads nodes, never changes them.
pub trait Monitor {
    /// Called after every event; returns true to stop mining now.
    fn after_event(&mut self, nodes: &[Node], store: &BlockStore) -> bool;
}

/// No monitor: the run stops by its block count and caps alone.
impl Monitor for () {
    #[inline]
    fn after_event(&mut self, _: &[Node], _: &BlockStore) -> bool {
        false
    }
}

/// An optional monitor watches when present.
impl<M: Monitor> Monitor for Option<M> {
    #[inline]
    fn after_event(&mut self, nodes: &[Node], store: &BlockStore) -> bool {
        match self {
            Some(m) => m.after_event(nodes, store),
            None => false,
        }
    }
}

/// Which part of the run is under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Miners are mining.
    Mining,
    /// The block count was reached; the engine returns so the drain cap can be set.
    StopRequested,
    /// Mining has stopped; messages in flight finish.
    Draining,
}

/// The world of one run.
pub struct World<O: Observer, M: Monitor = ()> {
    shared: Shared,
    transport: Transport,
    nodes: Vec<Node>,
    streams: Vec<NodeStreams>,
    peers: Peers,
    settings: NodeSettings,
    driver: Option<Box<dyn Driver<Shared>>>,
    observer: O,
    /// Whether the observer reads message records ([`Observer::wants_messages`]).
    messages_watched: bool,
    monitor: M,
    hash_shares: Vec<f64>,
    gamma_subset: Vec<Option<f64>>,
    phase: Phase,
    in_flight: u64,
    /// `in_flight` at each block found, and every uplink's queue when mining stops.
    backlog: Backlog,
    blocks_mined: u64,
    target_blocks: u64,
    progress: Option<Box<dyn FnMut(u64)>>,
    outbox: Outbox,
    /// Which messages are left undelivered.
    pruning: Pruning,
    /// Whether handling asks for memory ahead: the links' records (fixed when the world is
    /// built) reach [`PREFETCH_FROM_BYTES`]. Below that the hints only add work (1.4 % of
    /// 1000 x 1000); tests force them on to check that they change nothing.
    prefetching: bool,
}

/// What a finished world leaves behind, for the outcome.
pub struct Remains<O> {
    /// Shared blocks and transactions.
    pub shared: Shared,
    /// The graph and the timeline's final state.
    pub transport: Transport,
    /// The nodes as they ended.
    pub nodes: Vec<Node>,
    /// The observer.
    pub observer: O,
    /// Each node's share of the hash power.
    pub hash_shares: Vec<f64>,
    /// What the population setup drew for explicit tie-breaks (see
    /// [`crate::node::population`]).
    pub gamma_subset: Vec<Option<f64>>,
    /// Blocks mined.
    pub blocks_mined: u64,
    /// Whether the network kept up with the blocks.
    pub backlog: Backlog,
}

impl<O: Observer, M: Monitor> World<O, M> {
    /// Calls `f` with the number of blocks mined after every block.
    pub fn on_progress(&mut self, f: impl FnMut(u64) + 'static) {
        self.progress = Some(Box::new(f));
    }

    /// Runs the scenario: mine until the block count is reached, then let messages drain
    /// (for at most `drain`), all within the hard caps.
    pub fn run(&mut self, limits: Limits, drain: SimDuration) -> RunStats {
        let mut engine = Engine::new(limits);
        self.start(engine.scheduler());
        let mut stopped_by = engine.run(self);
        let now = engine.now();
        let queues = NodeId::all(self.nodes.len() as u32)
            .map(|node| self.transport.upload_queue(node, now))
            .filter(|q| *q > SimDuration::ZERO);
        self.backlog.mining_stopped(queues);
        if stopped_by == StopReason::Done {
            self.phase = Phase::Draining;
            if self.in_flight == 0 {
                return RunStats { stopped_by, events: engine.processed(), end_time: engine.now() };
            }
            let drain_end = engine.now() + drain;
            engine.set_limits(Limits {
                max_events: limits.max_events,
                max_time: drain_end.min(limits.max_time),
            });
            stopped_by = engine.run(self);
        }
        RunStats { stopped_by, events: engine.processed(), end_time: engine.now() }
    }

    /// Takes the world apart at the end of a run.
    pub fn finish(mut self) -> (Remains<O>, M) {
        self.backlog.ended(self.in_flight);
        let remains = Remains {
            shared: self.shared,
            transport: self.transport,
            nodes: self.nodes,
            observer: self.observer,
            hash_shares: self.hash_shares,
            gamma_subset: self.gamma_subset,
            blocks_mined: self.blocks_mined,
            backlog: self.backlog,
        };
        (remains, self.monitor)
    }

    /// The first events, in a fixed order (so that events due at the same time keep theirs):
    /// the miners' clocks in node order, the driver, the timeline, then the protocols' own
    /// plans.
    fn start(&mut self, sched: &mut Scheduler<Event>) {
        for node in NodeId::all(self.nodes.len() as u32) {
            self.visit(node, sched, |n, ctx| n.on_start(ctx));
        }
        if let Some(driver) = self.driver.as_ref() {
            for (at, event) in driver.start(&mut self.shared) {
                sched.at(at, Event::Driver(event));
            }
        }
        for (index, at) in self.transport.fault_times().into_iter().enumerate() {
            sched.at(at, Event::Fault { index: index as u32 });
        }
        for node in NodeId::all(self.nodes.len() as u32) {
            self.visit(node, sched, |n, ctx| n.on_plans(ctx));
        }
    }

    fn stop_mining(&mut self) {
        self.phase = Phase::StopRequested;
    }

    #[inline]
    fn record(&mut self, record: Record) {
        self.observer.record(&record, &self.shared.store);
    }

    /// Asks the processor for `node`'s record and streams, which handling an event
    /// addressed to it reads (a hint only, see [`crate::engine::prefetch`]).
    #[inline]
    fn prefetch_node(&self, node: NodeId) {
        crate::engine::prefetch::prefetch(&self.nodes[node.index()]);
        crate::engine::prefetch::prefetch(&self.streams[node.index()]);
    }

    /// Hands an input to `node` with a context, then applies its outbox.
    #[inline]
    fn visit(
        &mut self,
        node: NodeId,
        sched: &mut Scheduler<Event>,
        f: impl FnOnce(&mut Node, &mut NodeCtx<'_>),
    ) {
        self.with_node(node, sched.now(), f);
        self.apply(sched);
    }

    /// Runs `f` on `node` with a context whose outbox is the world's.
    #[inline]
    fn with_node(
        &mut self,
        node: NodeId,
        now: SimTime,
        f: impl FnOnce(&mut Node, &mut NodeCtx<'_>),
    ) {
        let env = Env {
            shared: &mut self.shared,
            network: self.transport.graph(),
            peers: &self.peers,
            settings: &self.settings,
        };
        let mut ctx = NodeCtx::new(
            now,
            node,
            self.phase == Phase::Mining,
            env,
            &mut self.streams[node.index()],
            &mut self.outbox,
        );
        f(&mut self.nodes[node.index()], &mut ctx);
    }

    /// Applies the outbox in order. A hand-over runs the other node at once; its actions
    /// join the end of the outbox.
    fn apply(&mut self, sched: &mut Scheduler<Event>) {
        let mut i = 0;
        while i < self.outbox.len() {
            // Matching on the place copies each field at its own width (a whole-action copy
            // would read back, in wide loads, what the node just wrote in narrow stores).
            let at = i;
            i += 1;
            match *self.outbox.action(at) {
                Action::Send { from, link, msg, prunable } => {
                    self.send(from, link, msg, prunable, sched);
                }
                Action::Announce { from, block, except } => {
                    self.announce(from, block, except, sched);
                }
                Action::Timer { node, at, timer, work } => {
                    if work {
                        self.in_flight += 1;
                        sched.at(at, Event::Work { node, timer });
                    } else {
                        sched.at(at, Event::Timer { node, timer });
                    }
                }
                Action::Record(at) => {
                    let record = *self.outbox.get(at);
                    self.record(record);
                }
                Action::Mined => self.count_mined(sched.now()),
                Action::HandOver { to, payment } => self.hand_over(to, payment, sched),
            }
        }
        self.outbox.clear();
    }

    /// A node hands `to` a payment: `to` hears of it at once, and its actions join the
    /// outbox being applied.
    #[cold]
    fn hand_over(&mut self, to: NodeId, payment: TxIndex, sched: &mut Scheduler<Event>) {
        self.with_node(to, sched.now(), |node, ctx| node.on_handover(ctx, payment));
    }

    fn count_mined(&mut self, now: SimTime) {
        self.blocks_mined += 1;
        self.backlog.block_found(self.in_flight, now);
        if let Some(progress) = self.progress.as_mut() {
            progress(self.blocks_mined);
        }
        if self.blocks_mined >= self.target_blocks && self.phase == Phase::Mining {
            self.stop_mining();
        }
    }

    /// Puts `from`'s announcement of `block` on each of its links but `except`.
    ///
    /// What each receiver would make of it is read first, for all links in one tight loop:
    /// those loads (each link's record, then the receiver's state for the block) do not
    /// depend on each other, so the processor overlaps their cache misses, and the sends
    /// that follow find the links' records in cache. Reading the states early is exact:
    /// sending changes no node's state (a message lost on a cut link changes only its own
    /// receiver's, and each link has another receiver).
    fn announce(
        &mut self,
        from: NodeId,
        block: BlockId,
        except: Option<LinkId>,
        sched: &mut Scheduler<Event>,
    ) {
        // The receivers come from the graph's compact rows (a node's peers in a line or two)
        // rather than from the links' records, whose lines are only asked for here: sending
        // below reads each of them, by then on their way from memory all at once instead of
        // one after another.
        let graph = self.transport.graph();
        let mut planned: SmallVec<[(LinkId, MessageKind, bool); 32]> = SmallVec::new();
        for link in graph.links_of(from) {
            if Some(link) == except {
                continue;
            }
            self.transport.prefetch_link(link);
            let kind = announcement(&self.settings.relay, &self.peers, from, link);
            let msg = Message::about(kind, block);
            planned.push((link, kind, self.ignored_by(graph.link_target(link), &msg)));
        }
        // An ignored `inv` that no one watches, on a link without faults or bans, changes
        // only the link's clock and the traffic counts: the transport does that directly.
        let direct = !self.messages_watched
            && self.transport.faults().is_none()
            && !self.peers.any_banned.get();
        let now = sched.now();
        let inv = Message::about(MessageKind::Inv, block);
        let inv_size = self.shared.costs.get(block).wire.of_message(&inv);
        for &(link, kind, ignored) in &planned {
            if direct
                && ignored
                && kind == MessageKind::Inv
                && self.transport.transmit_quiet_control(link, kind, inv_size, now)
            {
                continue;
            }
            self.send_known(from, link, Message::about(kind, block), true, ignored, sched);
        }
    }

    /// Puts a message from `from` on `link` (which starts at `from`): the transport decides
    /// when it arrives, or that it is lost. `prunable` marks announcements that may be
    /// skipped when the receiver would ignore them (see the module docs).
    #[inline]
    fn send(
        &mut self,
        from: NodeId,
        link: LinkId,
        msg: Message,
        prunable: bool,
        sched: &mut Scheduler<Event>,
    ) {
        // The receiver's state for the block cannot change while the message is sent.
        let ignored = prunable && self.ignored(link, &msg);
        self.send_known(from, link, msg, prunable, ignored, sched);
    }

    /// [`World::send`] once it is known whether the receiver would ignore the message
    /// (`ignored`, false unless `prunable`; not read if the link is cut).
    #[inline]
    fn send_known(
        &mut self,
        from: NodeId,
        link: LinkId,
        msg: Message,
        prunable: bool,
        ignored: bool,
        sched: &mut Scheduler<Event>,
    ) {
        let now = sched.now();
        if self.transport.is_cut(link) {
            return self.drop_message(link, msg, now);
        }
        if self.peers.any_banned.get() && self.is_banned_connection(link) {
            return;
        }
        debug_assert_eq!(self.transport.graph().link_source(link), from);
        let size = self.shared.costs.get(msg.block).wire.of_message(&msg);
        let ignored = prunable && ignored;
        let quiet = !self.messages_watched && ignored;
        match self.transport.transmit(from, link, msg, size, prunable, now, quiet) {
            Sent::Now(t) => self.dispatch(from, link, msg, ignored, t, sched),
            Sent::Quiet => {}
            Sent::Held(wake) => {
                self.in_flight += 1;
                self.plan_wake(from, wake, sched);
            }
        }
    }

    /// Whether either end of `link` banned the other: the connection is closed, so nothing
    /// more is sent over it (what was already on its way still arrives, and the banning node
    /// ignores it).
    #[cold]
    fn is_banned_connection(&self, link: LinkId) -> bool {
        let reverse = self.transport.reverse_link(link);
        let banned = |l: LinkId| self.peers.banned.get(l.index()).is_some_and(std::cell::Cell::get);
        banned(link) || banned(reverse)
    }

    /// Schedules a shared uplink's new wake-up.
    #[inline]
    fn plan_wake(&mut self, node: NodeId, wake: Option<Wake>, sched: &mut Scheduler<Event>) {
        if let Some(Wake { at, generation }) = wake {
            sched.at(at, Event::Uplink { node, generation });
        }
    }

    /// A shared uplink wakes: the messages it finished sending go on their way.
    fn uplink_wake(&mut self, node: NodeId, generation: u32, sched: &mut Scheduler<Event>) {
        let watched = self.messages_watched;
        let (states, pruning) = (&self.shared.states, self.pruning);
        let (finished, wake) =
            self.transport.wake(node, generation, sched.now(), |to, msg, prunable| {
                !watched && prunable && pruning.ignores(states.get(to, msg.block), msg.kind)
            });
        for Finished { link, msg, prunable, transmission } in finished {
            self.in_flight -= 1;
            if let Some(t) = transmission {
                let ignored = prunable && self.ignored(link, &msg);
                self.dispatch(node, link, msg, ignored, t, sched);
            }
        }
        self.plan_wake(node, wake, sched);
    }

    /// A message has left its sender: it is recorded and its arrival scheduled, unless it is
    /// an announcement the receiver would ignore (`ignored`, see the module docs; the caller
    /// has already read the receiver's state). The caller passes the sender, which it knows,
    /// so that the reverse link (far away in memory) is not read.
    #[inline]
    fn dispatch(
        &mut self,
        from: NodeId,
        link: LinkId,
        msg: Message,
        ignored: bool,
        t: Transmission,
        sched: &mut Scheduler<Event>,
    ) {
        if self.messages_watched {
            self.record(Record::MessageSent {
                from,
                to: self.transport.graph().link_target(link),
                kind: msg.kind,
                block: msg.block,
                sent: t.start,
                arrives: t.arrives,
            });
        }
        if ignored {
            return;
        }
        self.in_flight += 1;
        let (back, to) = (self.transport.reverse_link(link), self.transport.link_target(link));
        sched.at(t.arrives, Event::Deliver { back, to, msg });
    }

    /// Whether the receiver of `msg` on `link` would ignore it on arrival, now and at any
    /// later time (see the module docs).
    #[inline]
    fn ignored(&self, link: LinkId, msg: &Message) -> bool {
        self.ignored_by(self.transport.link_target(link), msg)
    }

    /// [`World::ignored`] for a receiver the caller already knows.
    #[inline]
    fn ignored_by(&self, to: NodeId, msg: &Message) -> bool {
        self.pruning.ignores(self.shared.states.get(to, msg.block), msg.kind)
    }

    /// A message on a cut link is lost. A lost request or answer leaves the block wanted
    /// again at the node that was waiting for it.
    #[cold]
    fn drop_message(&mut self, link: LinkId, msg: Message, time: SimTime) {
        let graph = self.transport.graph();
        let (from, to) = (graph.link_source(link), graph.link_target(link));
        let record = Record::MessageDropped { from, to, kind: msg.kind, block: msg.block, time };
        self.record(record);
        let waiting = match msg.kind {
            MessageKind::Inv => return,
            MessageKind::GetData | MessageKind::GetCmpct | MessageKind::GetBlockTxn => from,
            MessageKind::Block | MessageKind::CmpctBlock | MessageKind::BlockTxn => to,
        };
        self.with_node(waiting, time, |node, ctx| node.on_lost(ctx, &msg));
    }

    fn deliver(&mut self, back: LinkId, to: NodeId, msg: Message, sched: &mut Scheduler<Event>) {
        self.in_flight -= 1;
        if self.transport.faults().is_some() {
            let link = self.transport.graph().reverse_link(back);
            if self.transport.is_cut(link) {
                let size = self.shared.costs.get(msg.block).wire.of_message(&msg);
                self.transport.note_lost(size);
                return self.drop_message(link, msg, sched.now());
            }
        }
        self.visit(to, sched, |n, ctx| n.on_deliver_back(ctx, back, msg));
    }

    fn driver_event(&mut self, event: DriverEvent, sched: &mut Scheduler<Event>) {
        let Some(driver) = self.driver.as_mut() else {
            return;
        };
        let mining = self.phase == Phase::Mining;
        let network = self.transport.graph();
        let effects = driver.handle(event, sched.now(), mining, &mut self.shared, network);
        for record in effects.records {
            self.record(record);
        }
        for node in effects.sample {
            self.visit(node, sched, |n, ctx| n.on_sample(ctx));
        }
        for (at, event) in effects.schedule {
            sched.at(at, Event::Driver(event));
        }
    }

    /// Applies a timeline entry: records it, takes nodes offline or back, and lets the two
    /// ends of every link that came back exchange their chains.
    #[cold]
    fn fault(&mut self, index: usize, sched: &mut Scheduler<Event>) {
        let time = sched.now();
        let effect = self.transport.apply_fault(index);
        match effect.change {
            Change::Partitioned { groups } => {
                let links_cut = effect.connections_cut;
                self.record(Record::Partitioned { groups, links_cut, time });
            }
            Change::Healed => {
                let links_restored = effect.connections_restored;
                self.record(Record::Healed { links_restored, time });
            }
            Change::Left(nodes) => {
                for node in nodes {
                    self.record(Record::NodeLeft { node, time });
                    self.nodes[node.index()].on_offline();
                }
            }
            Change::Rejoined(nodes) => {
                for node in nodes {
                    self.record(Record::NodeRejoined { node, time });
                    self.visit(node, sched, |n, ctx| n.on_online(ctx));
                }
            }
        }
        for link in effect.restored {
            let graph = self.transport.graph();
            let (from, to) = (graph.link_source(link), graph.link_target(link));
            let peer_tip = self.nodes[to.index()].tip();
            self.visit(from, sched, |n, ctx| n.on_link_restored(ctx, link, peer_tip));
        }
    }
}

/// Which messages the world leaves undelivered because their receivers would ignore them
/// (see the module docs), as one bit per [`BlockState`] for each kind of message: the test
/// runs for every message a shared uplink finishes, so it is a shift and a mask.
#[derive(Clone, Copy, Debug)]
struct Pruning {
    /// Bit `s` set: a node in state `s` ignores announcements (`inv`) now and for good.
    announcements: u8,
    /// Bit `s` set: a node in state `s` ignores the other messages about a block for good.
    others: u8,
}

impl Pruning {
    /// What the relay's nodes ignore, from [`BlockState::ignores_announcement`] and
    /// [`BlockState::ignores_block`]; `requests_time_out` says whether their requests time out.
    fn new(requests_time_out: bool) -> Pruning {
        let bits = |ignores: &dyn Fn(BlockState) -> bool| {
            BlockState::ALL.iter().filter(|&&s| ignores(s)).fold(0u8, |m, &s| m | 1 << s as u8)
        };
        Pruning {
            announcements: bits(&|s| s.ignores_announcement(requests_time_out)),
            others: bits(&|s| s.ignores_block()),
        }
    }

    /// Leaves nothing undelivered (tests check that leaving messages out changes nothing).
    #[cfg(test)]
    const NONE: Pruning = Pruning { announcements: 0, others: 0 };

    /// Whether a node in `state` for a block ignores a message of `kind` about it, now and
    /// at any later time, and the message may therefore be left undelivered.
    #[inline]
    fn ignores(self, state: BlockState, kind: MessageKind) -> bool {
        let mask = if kind == MessageKind::Inv { self.announcements } else { self.others };
        mask >> state as u8 & 1 != 0
    }
}

impl<O: Observer, M: Monitor> Model for World<O, M> {
    type Event = Event;

    fn handle(&mut self, event: Event, sched: &mut Scheduler<Event>) {
        match event {
            Event::Deliver { back, to, msg } => {
                if self.prefetching {
                    self.prefetch(&event);
                }
                self.deliver(back, to, msg, sched);
            }
            Event::Timer { node, timer } => {
                self.visit(node, sched, |n, ctx| n.on_timer(ctx, timer));
            }
            Event::Work { node, timer } => {
                if self.prefetching {
                    self.prefetch(&event);
                }
                self.in_flight -= 1;
                self.visit(node, sched, |n, ctx| n.on_timer(ctx, timer));
            }
            Event::Driver(d) => self.driver_event(d, sched),
            Event::Uplink { node, generation } => self.uplink_wake(node, generation, sched),
            Event::Fault { index } => self.fault(index as usize, sched),
        }
        if self.monitor.after_event(&self.nodes, &self.shared.store) && self.phase == Phase::Mining
        {
            self.stop_mining();
        }
    }

    /// Once the links' records outgrow [`PREFETCH_FROM_BYTES`], most of an event's reads
    /// miss the caches, and asking for the next event's memory while this one is handled
    /// hides part of that wait: 100,000 nodes x 100 blocks 2 to 9 % faster, 10,000 x 100
    /// 9 % (both binaries run side by side, one per core). Below it the reads hit the
    /// caches anyway, and finding the next event only adds work: 1000 x 1000 was 6 % slower.
    fn wants_prefetch(&self) -> bool {
        self.prefetching
    }

    /// Asks for what handling `event` reads first: the node's record and streams, its
    /// state for the block, the link an answer goes back over (and for a request, the
    /// uplink the answer goes on), the link a validated block came from and the metrics' row
    /// of the node; for an uplink's wake-up, its record.
    /// When the world prefetches, called for the likely next event, and again when a
    /// delivery or finished work is handled (the guess can be wrong, and the lines can be
    /// gone by then).
    #[inline]
    fn prefetch(&self, event: &Event) {
        match *event {
            Event::Deliver { back, to, msg } => {
                self.prefetch_node(to);
                self.shared.states.prefetch(to, msg.block);
                self.transport.prefetch_link(back);
                // A request is answered with block data, which goes on the receiver's uplink.
                if matches!(
                    msg.kind,
                    MessageKind::GetData | MessageKind::GetCmpct | MessageKind::GetBlockTxn
                ) {
                    self.transport.prefetch_uplink(to);
                }
            }
            Event::Work { node, timer } | Event::Timer { node, timer } => {
                self.prefetch_node(node);
                if let Timer::Validated { block, from, .. } = timer {
                    self.shared.states.prefetch(node, block);
                    self.observer.prefetch_node(node);
                    if let Some(link) = from {
                        self.transport.graph().prefetch_link(link);
                    }
                }
            }
            Event::Uplink { node, .. } => self.transport.prefetch_uplink(node),
            Event::Driver(_) | Event::Fault { .. } => {}
        }
    }

    fn is_done(&self, _: &Scheduler<Event>) -> bool {
        match self.phase {
            Phase::Mining => false,
            Phase::StopRequested => true,
            Phase::Draining => self.in_flight == 0,
        }
    }
}
