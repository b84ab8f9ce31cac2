//! The network at run time: what happens to a message a node puts on a link.
//!
//! [`Network`] is the immutable graph (who is linked to whom, base latency and rates).
//! A [`Transport`] adds what changes during a run: each node's uplink, each link's message
//! clock, and the timeline's faults, which cut links between partitioned groups or to offline
//! nodes. The world hands every message to [`Transport::transmit`] and schedules its arrival
//! (or, when the uplink holds it, the uplink's next wake-up); the protocol never sees any of
//! this, only messages that arrive (or, for a request it is waiting on, the news that it was
//! lost).
//!
//! # Uplink models ([`Uplink`])
//!
//! - **`Shared`** (the default): the sender's upload bandwidth is shared fairly among its
//!   connections that are sending block data, as TCP connections sharing one access link do.
//!   Each connection sends its messages in order (one TCP stream); connections with data
//!   share the uplink max-min fairly, and each connection's rate is also capped by the
//!   receiver's download bandwidth divided among the block transfers the receiver is taking
//!   in when the sender's rates are recomputed. Rates are recomputed whenever a transfer
//!   starts or ends at that sender (exact processor sharing at the sender; the receiver's
//!   share is the documented approximation: it is updated at the sender's own events only,
//!   which keeps the event count linear). An uplink keeps at most one wake-up pending that
//!   matters: at the end of its next transfer as planned when the wake-up was scheduled.
//!   A transfer that joins later slows the others, so that wake-up comes early; it then
//!   only schedules the next one, at the end planned now. However many transfers join
//!   meanwhile, that costs one event (a new wake-up per join cost one each); only a join
//!   whose transfer ends before the pending wake-up schedules an earlier one and leaves
//!   the other to do nothing. Control messages (`inv`, `getdata`, `getblocktxn`) on a
//!   connection that is not sending data go out at once at the link's rate, without
//!   waiting for block data to other peers; on a busy connection they follow its data, in
//!   order.
//! - **`Fifo`**: one message at a time, first come first served, control messages included,
//!   at `min(upload of the sender, download of the receiver)` (forksim's first model).
//! - **`BlockFifo`**: Gervais et al.'s model. Block data leaves one message at a time, the
//!   uplink busy for `size / upload of the sender` per block; the receiver takes blocks in
//!   one at a time through its own download queue (`size / its download` each), and a block
//!   has arrived `size / min(upload, download)` after its download began, plus the latency.
//!   A fast sender is therefore not held up by slow receivers. Before that queue the block
//!   crosses the link itself, at the smallest of both nodes' speeds and at most one TCP
//!   window (`network.bandwidth.tcp_window_bytes`, ns-3's 131,072 bytes) per round trip:
//!   forksim's own term, since their code sends only a short record of the block over its
//!   ns-3 connection and times the bytes by the two queues. `network.bandwidth.block_wire
//!   = "none"` drops that term, leaving their two queues alone. Control messages go at
//!   once without waiting.
//! - **`UntilArrival`**: SimBlock's model: block data goes one message at a time and the
//!   next one starts when the previous one *arrives*; control messages use no bandwidth.
//!
//! A link with bandwidth of its own (a relay network's mesh, `[[network.group]]
//! mesh_bandwidth_bps`) is outside all of these: its messages, control and block data
//! alike, go one at a time in order at the link's rate, neither waiting for nor slowing the
//! sender's other connections, and they take nothing from the receiver's download share (a
//! leased line into a relay node's own network interface).
//!
//! Every message then travels for its own latency ([`MessageLatency`] around the link's
//! base), plus the control overhead for control messages, and never overtakes an earlier
//! message on the same link.

use smallvec::{SmallVec, smallvec};

use super::faults::{Change, Faults};
use super::latency::{LinkDraws, MessageLatency};
use super::message::{Message, MessageKind};
use super::traffic::Traffic;
use super::{LinkId, Network, NodeId};
use crate::time::{SimDuration, SimTime, TICKS_PER_SEC};

/// How a node's uplink carries several messages at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Uplink {
    /// Fair sharing among connections sending block data (see the module docs).
    #[default]
    Shared,
    /// One message at a time, in order of sending.
    Fifo,
    /// Block data one message at a time, in order of sending; control messages go at once
    /// (Gervais et al.'s simulator: block uploads are serialised, announcements are not).
    BlockFifo,
    /// One block message at a time, the next released when the previous arrives (SimBlock).
    UntilArrival,
}

/// How messages use links: the uplink model, per-message latency and control overhead.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransferSpec {
    /// The uplink model.
    pub uplink: Uplink,
    /// Each message's latency around its link's base.
    pub message_latency: MessageLatency,
    /// Added to the latency of every control message (SimBlock uses 10 ms).
    pub control_overhead: SimDuration,
    /// `BlockFifo`: the TCP window of a connection in bytes, which caps what the link
    /// itself carries per round trip; 0 means no wire term (the other models, and
    /// `block-fifo` with `block_wire = "none"`).
    pub tcp_window_bytes: u64,
}

impl Default for TransferSpec {
    fn default() -> Self {
        TransferSpec {
            uplink: Uplink::Shared,
            message_latency: MessageLatency::SimBlock,
            control_overhead: SimDuration::ZERO,
            tcp_window_bytes: 0,
        }
    }
}

/// When a message leaves the sender and reaches the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmission {
    /// When the sender put it on its uplink.
    pub start: SimTime,
    /// When it reaches the receiver.
    pub arrives: SimTime,
}

/// What became of a message handed to the transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Its arrival is known now.
    Now(Transmission),
    /// It left at once, and as the caller said no one reads its arrival, that was not
    /// worked out (see [`Transport::transmit`]).
    Quiet,
    /// The uplink holds it; it leaves at one of the uplink's wake-ups. When the wake-up time
    /// changed, the new one is given.
    Held(Option<Wake>),
}

/// A wake-up of a node's shared uplink: when its next transfer ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wake {
    /// When.
    pub at: SimTime,
    /// Which plan (a later plan supersedes an earlier one).
    pub generation: u32,
}

/// A message that has left a shared uplink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finished {
    /// The link it travels.
    pub link: LinkId,
    /// The message.
    pub msg: Message,
    /// Whether it may be skipped when the receiver would ignore it.
    pub prunable: bool,
    /// When it was put on the uplink and when it arrives; `None` when the caller said no
    /// one reads its arrival (see [`Transport::wake`]).
    pub transmission: Option<Transmission>,
}

/// What a timeline entry did to the links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultEffect {
    /// The change itself.
    pub change: Change,
    /// Connections (pairs of directed links) cut by it.
    pub connections_cut: u32,
    /// Connections restored by it.
    pub connections_restored: u32,
    /// Directed links that came back, in link order.
    pub restored: Vec<LinkId>,
}

/// Everything a message reads and writes of its directed link, in one cache line: the
/// graph's figures for the link (copied from the [`Network`], which keeps them in another
/// array) and its message clock: the latest arrival so far, how many latencies were drawn,
/// and at most one message whose latency is not drawn yet (a quiet message, see
/// [`Transport::transmit`]).
///
/// A node's announcement touches the record of each of its links, and a message's arrival,
/// request or answer that of one link picked at random: with the graph's figures and the
/// clock in two arrays (32 bytes each), each of those cost two cache misses; in one line,
/// one.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
struct LinkState {
    /// Propagation delay (the graph's).
    latency: SimDuration,
    /// `min(upload of source, download of target)` (the graph's).
    rate_bps: u64,
    /// The latest arrival of the link's messages, the deferred one apart.
    last_arrival: SimTime,
    /// When the deferred message left, plus its control overhead.
    deferred_from: SimTime,
    /// The node at the far end (the graph's).
    target: NodeId,
    /// The link back (the graph's).
    reverse: LinkId,
    /// Transmission time of an `inv` or `getdata`, in microseconds (the graph's; below 500
    /// seconds, as no link is slower than one bit per second).
    inv_micros: u32,
    /// Latencies drawn or deferred so far (the next message's draw index).
    drawn: u32,
    /// Draw index of the deferred message.
    deferred_draw: u32,
    /// No message's latency on the link exceeds this many microseconds
    /// ([`MessageLatency::max_draw`]; `u32::MAX` when there is no such cheap bound).
    max_draw_micros: u32,
    /// Whether a quiet message's draw may be deferred on this link (the latency model gives
    /// a cheap bound per draw, [`MessageLatency::upper_bound`]).
    deferrable: bool,
    /// Whether a message's draw is deferred.
    deferred: bool,
    /// Whether the sender's shared uplink has a connection on this link (so a control
    /// message waits behind its data), kept here so that a control message on an idle
    /// link does not read the sender's uplink.
    busy: bool,
    /// Whether the link has bandwidth of its own ([`Network::dedicated_bps`]): its messages
    /// go one at a time at its rate, outside the sender's uplink.
    dedicated: bool,
}

const _: () = assert!(size_of::<LinkState>() == 64, "a link's state fills one cache line");

impl LinkState {
    /// A link at rest, whose messages' latencies follow `model`.
    fn new(graph: &Network, link: LinkId, model: MessageLatency) -> LinkState {
        let figures = &graph.figures[link.index()];
        let max_draw = model.max_draw(figures.latency);
        let dedicated = graph.dedicated_bps(link).is_some();
        LinkState {
            latency: figures.latency,
            rate_bps: figures.rate_bps,
            last_arrival: SimTime::ZERO,
            deferred_from: SimTime::ZERO,
            target: graph.link_target(link),
            reverse: graph.reverse_link(link),
            inv_micros: u32::try_from(figures.inv_time.as_micros())
                .expect("an inv takes under 500 s on any link"),
            drawn: 0,
            deferred_draw: 0,
            max_draw_micros: max_draw.map_or(u32::MAX, |d| {
                u32::try_from(d.as_micros()).expect("max_draw fits in u32 microseconds")
            }),
            // A dedicated link's messages take the general path, which draws at once.
            deferrable: model.upper_bound(figures.latency, 0.5).is_some() && !dedicated,
            deferred: false,
            busy: false,
            dedicated,
        }
    }

    /// Time to push `size_bytes` through the link (as [`Network::transmission_time`]).
    #[inline]
    fn transmission_time(&self, size_bytes: u64) -> SimDuration {
        let inv_time = SimDuration::from_micros(u64::from(self.inv_micros));
        super::transmission_time(size_bytes, self.rate_bps, inv_time)
    }
}

/// A message waiting on, or being sent over, a connection of a shared uplink.
#[derive(Clone, Copy, Debug)]
struct Queued {
    msg: Message,
    size_bytes: u64,
    prunable: bool,
    since: SimTime,
}

/// A connection of a shared uplink with data to send: its head is being sent.
#[derive(Clone, Debug)]
struct Connection {
    link: LinkId,
    /// The node at the far end (kept here so that recomputing rates reads no link record).
    to: NodeId,
    /// Its messages in order, the head first: nearly always one (a block), so it is kept
    /// inline rather than allocated per transfer.
    queue: SmallVec<[Queued; 1]>,
    /// Bits of the head still to send, times one million (so that bits per second times
    /// microseconds subtracts exactly).
    remaining: u64,
    /// Current rate, bit/s.
    rate: u64,
}

/// One node's shared uplink, in one cache line: at 100,000 nodes every wake-up and every
/// transfer that starts reads a random node's record, and a record that straddled two lines
/// (72 bytes with `Option` times) cost two cache misses where one will do.
#[derive(Clone, Debug)]
#[repr(align(64))]
struct SharedUplink {
    connections: Vec<Connection>,
    updated: SimTime,
    /// When the next transfer ends at the current rates (the plan); `SimTime::MAX` when the
    /// uplink is idle.
    wake_at: SimTime,
    /// When the live wake-up is scheduled, at or before `wake_at` (see [`Transport::wake`]);
    /// `SimTime::MAX` when none is.
    pending: SimTime,
    /// The plan of the live wake-up (a scheduled wake-up of another generation does nothing).
    generation: u32,
}

const _: () = assert!(size_of::<SharedUplink>() == 64, "an uplink fills one cache line");

impl Default for SharedUplink {
    fn default() -> Self {
        SharedUplink {
            connections: Vec::new(),
            updated: SimTime::ZERO,
            wake_at: SimTime::MAX,
            pending: SimTime::MAX,
            generation: 0,
        }
    }
}

impl SharedUplink {
    /// The uplink's plan is `wake_at`: returns a wake-up to schedule if none is pending at or
    /// before it.
    fn schedule(&mut self) -> Option<Wake> {
        let at = self.wake_at;
        if at == SimTime::MAX || self.pending <= at {
            return None;
        }
        self.generation = self.generation.wrapping_add(1);
        self.pending = at;
        Some(Wake { at, generation: self.generation })
    }
}

/// A node as the receiver of shared uplinks' block transfers: what caps each transfer's
/// rate, in one place (one cache miss per connection when rates are recomputed).
#[derive(Clone, Copy, Debug)]
struct Receiver {
    /// Its download bandwidth, bit/s.
    download_bps: u64,
    /// Block transfers it is receiving.
    transfers: u32,
}

/// The uplinks of every node, under one model.
enum Uplinks {
    /// `Fifo`, `BlockFifo` and `UntilArrival`: when each uplink is free again, and with
    /// `BlockFifo` each node's download queue (empty otherwise).
    Serial { free_at: Vec<SimTime>, downloads: Vec<DownloadQueue> },
    /// `Shared`: each uplink's connections, and the block transfers each node is receiving.
    Shared { uplinks: Vec<SharedUplink>, incoming: Vec<Receiver> },
}

/// A node's download queue under `block-fifo`: the intervals in which it is taking in a
/// block, in time order and disjoint. Blocks are taken one at a time; a block is booked
/// into the earliest free interval long enough for it that begins when it reaches the
/// node. Bookings are made when the sender's upload is scheduled, which under a sender's
/// backlog can be long before the block reaches the node, so a single "free at" time would
/// let a block that reaches the node an hour from now hold up every block reaching it in
/// between. Booking into gaps keeps each block's place by when it reaches the node, as
/// Gervais et al.'s receiver (which computes its backlog when the block message comes in)
/// does, except that a booked block is never moved back for one that reaches the node
/// earlier but does not fit in the gap before it.
#[derive(Clone, Debug, Default)]
struct DownloadQueue(Vec<(SimTime, SimTime)>);

impl DownloadQueue {
    /// Books `length` at the earliest free time at or after `reached`, forgetting intervals
    /// that ended by `now`; returns when the download begins.
    fn book(&mut self, reached: SimTime, length: SimDuration, now: SimTime) -> SimTime {
        let ended = self.0.partition_point(|&(_, end)| end <= now);
        self.0.drain(..ended);
        let mut begin = reached;
        let mut i = self.0.partition_point(|&(_, end)| end <= begin);
        while let Some(&(start, end)) = self.0.get(i) {
            if begin + length <= start {
                break;
            }
            begin = begin.max(end);
            i += 1;
        }
        self.0.insert(i, (begin, begin + length));
        begin
    }
}

/// The graph, the senders' uplinks, the links' states and the faults of one run.
pub struct Transport {
    graph: Network,
    spec: TransferSpec,
    draws: LinkDraws,
    links: Vec<LinkState>,
    uplinks: Uplinks,
    faults: Option<Faults>,
    traffic: Traffic,
    /// When each link with bandwidth of its own has sent its last message, by link index
    /// (empty when no link has).
    dedicated_free: Vec<SimTime>,
}

/// Bits of `size_bytes`, times one million.
fn scaled_bits(size_bytes: u64) -> u64 {
    size_bytes.saturating_mul(8 * TICKS_PER_SEC)
}

impl Transport {
    /// A network at rest: every uplink idle, no fault applied yet; `draws` feeds per-message
    /// latencies.
    pub fn new(
        graph: Network,
        spec: TransferSpec,
        draws: LinkDraws,
        faults: Option<Faults>,
    ) -> Transport {
        let nodes = graph.node_count() as usize;
        let uplinks = match spec.uplink {
            Uplink::Shared => Uplinks::Shared {
                uplinks: vec![SharedUplink::default(); nodes],
                incoming: NodeId::all(nodes as u32)
                    .map(|n| Receiver { download_bps: graph.download_bps(n), transfers: 0 })
                    .collect(),
            },
            Uplink::Fifo | Uplink::BlockFifo | Uplink::UntilArrival => Uplinks::Serial {
                free_at: vec![SimTime::ZERO; nodes],
                downloads: if spec.uplink == Uplink::BlockFifo {
                    vec![DownloadQueue::default(); nodes]
                } else {
                    Vec::new()
                },
            },
        };
        let links = (0..graph.link_count())
            .map(|l| LinkState::new(&graph, LinkId::from_index(l), spec.message_latency))
            .collect();
        let dedicated_free = if graph.has_dedicated_links() {
            vec![SimTime::ZERO; graph.link_count()]
        } else {
            Vec::new()
        };
        Transport {
            graph,
            spec,
            draws,
            links,
            uplinks,
            faults,
            traffic: Traffic::default(),
            dedicated_free,
        }
    }
    /// Bytes moved so far.
    pub fn traffic(&self) -> &Traffic {
        &self.traffic
    }

    /// A message of `bytes` that left its sender was lost on a cut link.
    pub fn note_lost(&mut self, bytes: u64) {
        self.traffic.note_lost(bytes);
    }

    /// The immutable graph.
    #[inline]
    pub fn graph(&self) -> &Network {
        &self.graph
    }

    /// The node `link` leads to (as [`Network::link_target`], from the record a message on
    /// the link reads anyway).
    #[inline]
    pub fn link_target(&self, link: LinkId) -> NodeId {
        self.links[link.index()].target
    }

    /// Asks the processor to start loading `link`'s record, which a message on the link
    /// reads: a hint only, with no effect on any result (a no-op off x86-64).
    #[inline]
    pub fn prefetch_link(&self, link: LinkId) {
        crate::engine::prefetch::prefetch(&self.links[link.index()]);
    }

    /// Bytes of the links' run-time records (one cache line per directed link).
    pub fn link_records_bytes(&self) -> usize {
        self.links.len() * size_of::<LinkState>()
    }

    /// Asks the processor for `node`'s shared uplink, which its wake-up reads (a hint only,
    /// see [`crate::engine::prefetch`]; nothing under the other uplink models).
    #[inline]
    pub fn prefetch_uplink(&self, node: NodeId) {
        if let Uplinks::Shared { uplinks, .. } = &self.uplinks
            && let Some(uplink) = uplinks.get(node.index())
        {
            crate::engine::prefetch::prefetch(uplink);
        }
    }

    /// The link back from the end of `link` (as [`Network::reverse_link`], from the record a
    /// message on the link reads anyway).
    #[inline]
    pub fn reverse_link(&self, link: LinkId) -> LinkId {
        self.links[link.index()].reverse
    }

    /// The timeline's state, if the run has one.
    pub fn faults(&self) -> Option<&Faults> {
        self.faults.as_ref()
    }

    /// Takes the graph back at the end of a run.
    pub fn into_parts(self) -> (Network, Option<Faults>) {
        (self.graph, self.faults)
    }

    /// Whether messages on `link` are lost (never, without a timeline: then this is one
    /// test on the hot path of every message, and the rest stays out of line).
    #[inline]
    pub fn is_cut(&self, link: LinkId) -> bool {
        self.faults.is_some() && self.cut_by_faults(link)
    }

    #[inline(never)]
    fn cut_by_faults(&self, link: LinkId) -> bool {
        self.faults
            .as_ref()
            .is_some_and(|f| f.cut(self.graph.link_source(link), self.graph.link_target(link)))
    }

    /// How long `node`'s uplink will take to send what is queued on it at `now`: exact for the
    /// serial uplinks (when it is free again); for a shared uplink, the bits still to send
    /// over its own upload rate, a lower bound when receivers' downloads cap it.
    pub fn upload_queue(&self, node: NodeId, now: SimTime) -> SimDuration {
        match &self.uplinks {
            Uplinks::Serial { free_at, .. } => free_at[node.index()].saturating_since(now),
            Uplinks::Shared { uplinks, .. } => {
                let uplink = &uplinks[node.index()];
                let at_head = uplink.updated;
                let scaled: u128 = uplink
                    .connections
                    .iter()
                    .map(|c| {
                        let rest: u64 = c.queue.iter().skip(1).map(|q| q.size_bytes).sum();
                        u128::from(c.remaining) + u128::from(scaled_bits(rest))
                    })
                    .sum();
                // Bits times one million over bit/s: microseconds, counted from the time the
                // uplink's remainders were last brought up to date.
                let rate = u128::from(self.graph.upload_bps(node).max(1));
                let ends = at_head + SimDuration((scaled / rate).min(u128::from(u64::MAX)) as u64);
                ends.saturating_since(now)
            }
        }
    }

    /// Whether `node` is online (always, without a timeline).
    pub fn online(&self, node: NodeId) -> bool {
        self.faults.as_ref().is_none_or(|f| f.online(node))
    }

    /// Puts `msg` (`size_bytes` on the wire) on `link`, which starts at `from`, at `now`.
    ///
    /// `quiet` says that no one will read this message's arrival time (the receiver ignores
    /// it and no observer records it). If it leaves at once, its latency is then not drawn
    /// unless a later message on the link needs it ([`Sent::Quiet`]); every other outcome,
    /// the link's later arrivals included, is exactly as without `quiet`.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn transmit(
        &mut self,
        from: NodeId,
        link: LinkId,
        msg: Message,
        size_bytes: u64,
        prunable: bool,
        now: SimTime,
        quiet: bool,
    ) -> Sent {
        let control = msg.kind.is_control();
        if self.links[link.index()].dedicated {
            return self.transmit_dedicated(link, msg.kind, size_bytes, now, quiet);
        }
        match &mut self.uplinks {
            Uplinks::Serial { free_at, .. } => {
                self.traffic.note_sent(msg.kind, size_bytes);
                let free = free_at[from.index()];
                if self.spec.uplink == Uplink::BlockFifo && !control {
                    return Sent::Now(self.block_fifo(from, link, size_bytes, now, now.max(free)));
                }
                let (start, sent) = match self.spec.uplink {
                    Uplink::UntilArrival if control => (now, now),
                    Uplink::BlockFifo => {
                        (now, now + self.links[link.index()].transmission_time(size_bytes))
                    }
                    _ => {
                        let start = now.max(free);
                        (start, start + self.links[link.index()].transmission_time(size_bytes))
                    }
                };
                // SimBlock's uplink waits for a block's arrival, so that one is always drawn.
                let quiet = quiet && (control || self.spec.uplink != Uplink::UntilArrival);
                let arrives = self.arrival(link, control, sent, quiet);
                match (self.spec.uplink, arrives) {
                    (Uplink::UntilArrival, Some(arrives)) if !control => {
                        *free_at_mut(&mut self.uplinks, from) = arrives
                    }
                    (Uplink::UntilArrival | Uplink::BlockFifo, _) if control => {}
                    _ => *free_at_mut(&mut self.uplinks, from) = sent,
                }
                match arrives {
                    Some(arrives) => Sent::Now(Transmission { start, arrives }),
                    None => Sent::Quiet,
                }
            }
            Uplinks::Shared { uplinks, .. } => {
                let busy = self.links[link.index()].busy;
                debug_assert_eq!(
                    busy,
                    uplinks[from.index()].connections.iter().any(|c| c.link == link)
                );
                if control && !busy {
                    let sent = self.send_idle_control(link, msg.kind, size_bytes, now);
                    return match self.arrival(link, true, sent, quiet) {
                        Some(arrives) => Sent::Now(Transmission { start: now, arrives }),
                        None => Sent::Quiet,
                    };
                }
                let queued = Queued { msg, size_bytes, prunable, since: now };
                Sent::Held(self.enqueue(from, link, queued, now))
            }
        }
    }

    /// [`Transport::transmit`] on a link with bandwidth of its own: the message leaves when
    /// the link's previous one has left, at the link's rate.
    fn transmit_dedicated(
        &mut self,
        link: LinkId,
        kind: MessageKind,
        size_bytes: u64,
        now: SimTime,
        quiet: bool,
    ) -> Sent {
        self.traffic.note_sent(kind, size_bytes);
        let start = now.max(self.dedicated_free[link.index()]);
        let sent = start + self.links[link.index()].transmission_time(size_bytes);
        self.dedicated_free[link.index()] = sent;
        match self.arrival(link, kind.is_control(), sent, quiet) {
            Some(arrives) => Sent::Now(Transmission { start, arrives }),
            None => Sent::Quiet,
        }
    }

    /// [`Transport::transmit`] of a quiet control message (`inv`, `getdata`) when its
    /// outcome is known without the general path: the uplink is shared, the connection is
    /// not sending data (so the message goes at once at the link's rate) and its latency
    /// draw may be deferred (as for a quiet message in [`Transport::transmit`]). Then the
    /// message is counted and its draw deferred, exactly as `transmit` would, and this
    /// returns true; otherwise it does nothing and returns false, and the caller takes the
    /// general path.
    ///
    /// A block's announcement to peers that already have it is nearly all of a run's
    /// messages (about 15 per node and block on an 8-peer random graph): this path skips
    /// the general one's dispatch on the uplink model and its returned outcome for each.
    #[inline]
    pub fn transmit_quiet_control(
        &mut self,
        link: LinkId,
        kind: MessageKind,
        size_bytes: u64,
        now: SimTime,
    ) -> bool {
        debug_assert!(kind.is_control());
        let state = &self.links[link.index()];
        // A link whose draws can be deferred has a latency model with draws (not `None`).
        if state.busy || !state.deferrable || !matches!(self.uplinks, Uplinks::Shared { .. }) {
            return false;
        }
        let sent = self.send_idle_control(link, kind, size_bytes, now);
        // What `arrival` does for a quiet control message on a deferrable link.
        self.defer_draw(link, sent + self.spec.control_overhead);
        true
    }

    /// A control message on a shared uplink's connection that is not sending data goes at
    /// once at the link's rate: counts it and returns when its last byte leaves.
    #[inline]
    fn send_idle_control(
        &mut self,
        link: LinkId,
        kind: MessageKind,
        size_bytes: u64,
        now: SimTime,
    ) -> SimTime {
        self.traffic.note_sent(kind, size_bytes);
        now + self.links[link.index()].transmission_time(size_bytes)
    }

    /// Gervais et al.'s block transfer, which `start`s when `from`'s uplink is free: the
    /// uplink is busy for `size / upload` only (a miner at 100 Mbit/s frees it after 42 ms
    /// per 531 kB, however slow the receiver); the block reaches the receiver's socket one
    /// latency after `start`, waits for the receiver's own download queue (blocks taken in
    /// one at a time, each for `size / download`), and has arrived `size / min(upload,
    /// download)` after its download began (their `BLOCK` handler's `eventTime`). The
    /// download is booked by when the block reaches the receiver ([`DownloadQueue`]), and
    /// the block holds up later messages on the connection only until it reaches the
    /// receiver, not through its download (their receiver times the download itself, after
    /// the short block record came in).
    fn block_fifo(
        &mut self,
        from: NodeId,
        link: LinkId,
        size_bytes: u64,
        now: SimTime,
        start: SimTime,
    ) -> Transmission {
        let to = self.links[link.index()].target;
        let (up, down) = (self.graph.upload_bps(from), self.graph.download_bps(to));
        let wire = self.wire_time(from, to, link, size_bytes);
        // Its last byte leaves onto the link `wire` after it started. The block keeps its
        // place behind earlier messages on the connection, but it is on the connection only
        // from `start` (their node writes the block's record when its upload begins), so
        // a message sent before then is not held behind it, nor is any message held behind
        // its time in the receiver's queue.
        let held_until = self.links[link.index()].last_arrival;
        let reached = self
            .arrival(link, false, start + wire, false)
            .expect("a block's arrival is drawn at once");
        if start > now {
            self.links[link.index()].last_arrival = held_until;
        }
        let Uplinks::Serial { free_at, downloads } = &mut self.uplinks else {
            unreachable!("block-fifo uplinks are serial")
        };
        free_at[from.index()] = start + super::transmission_micros(size_bytes, up);
        let taking = super::transmission_micros(size_bytes, down);
        let begin = downloads[to.index()].book(reached, taking, now);
        let arrives = begin + super::transmission_micros(size_bytes, up.min(down));
        Transmission { start, arrives }
    }

    /// `BlockFifo`: how long a block takes to cross `link` itself. In Gervais et al.'s
    /// simulator the block queue above is application bookkeeping; the bytes then travel
    /// over an ns-3 TCP connection on a point-to-point link whose data rate is the smallest
    /// of both nodes' upload and download speeds (their `bitcoin-topology-helper.cc`), and
    /// the receiver's queue starts only when the whole message has arrived. TCP carries at
    /// most one window per round trip (twice the link's base latency), so the link moves
    /// `min(data rate, window / round trip)`. TCP's slow start and losses are not modelled.
    fn wire_time(&self, from: NodeId, to: NodeId, link: LinkId, size_bytes: u64) -> SimDuration {
        if self.spec.tcp_window_bytes == 0 {
            return SimDuration::ZERO; // `block_wire = "none"`: the two queues alone
        }
        let g = &self.graph;
        let link_bps = g
            .upload_bps(from)
            .min(g.download_bps(from))
            .min(g.upload_bps(to))
            .min(g.download_bps(to));
        let round_trip_us = 2 * g.link_latency(link).as_micros().max(1);
        let window_bps = self.spec.tcp_window_bytes.saturating_mul(8 * 1_000_000) / round_trip_us;
        super::transmission_micros(size_bytes, link_bps.min(window_bps).max(1))
    }

    /// When a message that leaves the sender at `sent` reaches the end of `link`: its own
    /// latency, the control overhead, and never before an earlier message on the link.
    ///
    /// A `quiet` message (whose arrival no one reads) matters only through the bound it puts
    /// on later arrivals on the link, so its latency draw, a power function, is deferred
    /// where the model gives a cheap upper bound ([`MessageLatency::upper_bound`]): it
    /// returns `None` and the link remembers the message (its departure and draw index, and
    /// nothing else: no draw is made). The next message on the link, quiet or not, decides
    /// whether the deferred one can still matter, that is whether it may arrive after the
    /// later one leaves (quiet) or arrives (not quiet): not if the link's largest possible
    /// latency ([`MessageLatency::max_draw`]) ends before that, an integer comparison that
    /// settles most cases (on most links consecutive messages are a block interval apart
    /// and the largest latency is seconds); else not if the bound for its own uniform does;
    /// else the deferred draw is made then, with its own draw index. So every arrival is
    /// exactly what drawing at once would give: the last arrival of a link is the maximum of
    /// its messages' own arrival times, and a deferred message is forgotten only when a
    /// later message's own arrival is at least its own.
    #[inline]
    fn arrival(
        &mut self,
        link: LinkId,
        control: bool,
        sent: SimTime,
        quiet: bool,
    ) -> Option<SimTime> {
        let overhead = if control { self.spec.control_overhead } else { SimDuration::ZERO };
        let model = self.spec.message_latency;
        let clock = &mut self.links[link.index()];
        let base = clock.latency;
        let from = sent + overhead;
        let own = match model {
            MessageLatency::None => from + base,
            model => {
                if quiet && clock.deferrable {
                    self.defer_draw(link, from);
                    return None;
                }
                let k = clock.drawn;
                clock.drawn = clock.drawn.wrapping_add(1);
                let (u1, u2) = self.draws.uniforms(link.0, k);
                from + model.draw(base, u1, u2)
            }
        };
        if self.links[link.index()].deferred {
            self.forget_deferred(link, own);
        }
        let clock = &mut self.links[link.index()];
        let arrives = own.max(clock.last_arrival);
        clock.last_arrival = arrives;
        Some(arrives)
    }

    /// A quiet message on `link` that would leave for the receiver at `from` (its
    /// departure plus any control overhead) takes the link's next draw index and becomes
    /// the link's deferred message; the one deferred before it is settled first (see
    /// [`Transport::arrival`]).
    #[inline]
    fn defer_draw(&mut self, link: LinkId, from: SimTime) {
        let clock = &mut self.links[link.index()];
        let k = clock.drawn;
        clock.drawn = clock.drawn.wrapping_add(1);
        if clock.deferred {
            self.forget_deferred(link, from);
        }
        let clock = &mut self.links[link.index()];
        clock.deferred = true;
        clock.deferred_draw = k;
        clock.deferred_from = from;
    }

    /// A later message on `link` leaves or arrives at `time`: the deferred message is
    /// forgotten, and first drawn and taken into the link's last arrival if it may arrive
    /// after `time` (see [`Transport::arrival`]).
    #[inline]
    fn forget_deferred(&mut self, link: LinkId, time: SimTime) {
        let clock = &mut self.links[link.index()];
        clock.deferred = false;
        let latest =
            clock.deferred_from + SimDuration::from_micros(u64::from(clock.max_draw_micros));
        if clock.max_draw_micros == u32::MAX || latest > time {
            self.settle_deferred(link, time);
        }
    }

    /// The deferred message of `link` may arrive after `time`: if the bound for its own
    /// uniform says so too, makes its draw and takes its arrival into the link's last
    /// arrival.
    #[cold]
    #[inline(never)]
    fn settle_deferred(&mut self, link: LinkId, time: SimTime) {
        let model = self.spec.message_latency;
        let clock = &mut self.links[link.index()];
        let (u1, u2) = self.draws.uniforms(link.0, clock.deferred_draw);
        let bound = model.upper_bound(clock.latency, u1).expect("deferred only with a bound");
        if clock.deferred_from + bound > time {
            let own = clock.deferred_from + model.draw(clock.latency, u1, u2);
            clock.last_arrival = clock.last_arrival.max(own);
        }
    }

    /// Adds a message to `from`'s shared uplink.
    fn enqueue(
        &mut self,
        from: NodeId,
        link: LinkId,
        queued: Queued,
        now: SimTime,
    ) -> Option<Wake> {
        let Uplinks::Shared { uplinks, incoming } = &mut self.uplinks else {
            unreachable!("only shared uplinks hold messages")
        };
        let uplink = &mut uplinks[from.index()];
        advance(uplink, now);
        if let Some(connection) = uplink.connections.iter_mut().find(|c| c.link == link) {
            connection.queue.push(queued);
            return None;
        }
        let remaining = scaled_bits(queued.size_bytes);
        let state = &mut self.links[link.index()];
        state.busy = true;
        let to = state.target;
        incoming[to.index()].transfers += 1;
        uplink.connections.push(Connection {
            link,
            to,
            queue: smallvec![queued],
            remaining,
            rate: 0,
        });
        self.replan(from, now)
    }

    /// A wake-up of `node`'s shared uplink planned as `generation`: the messages whose
    /// sending ended by `now`, in connection order, and the next wake-up to schedule, if
    /// any. A superseded wake-up (of another generation) does nothing; one that comes before
    /// the end of any transfer (transfers that joined since slowed them down) only returns
    /// the next wake-up. `quiet(receiver, message, prunable)` says whether no one reads a
    /// finished message's arrival (as for [`Transport::transmit`]); such a message may come
    /// back without its transmission.
    pub fn wake(
        &mut self,
        node: NodeId,
        generation: u32,
        now: SimTime,
        mut quiet: impl FnMut(NodeId, &Message, bool) -> bool,
    ) -> (SmallVec<[Finished; 4]>, Option<Wake>) {
        let Uplinks::Shared { uplinks, incoming } = &mut self.uplinks else {
            return (SmallVec::new(), None);
        };
        let uplink = &mut uplinks[node.index()];
        if uplink.generation != generation {
            return (SmallVec::new(), None);
        }
        debug_assert_eq!(uplink.pending, now, "the live wake-up is at its time");
        uplink.pending = SimTime::MAX;
        if uplink.wake_at != now {
            // Transfers that joined since this wake-up was scheduled slowed the others down:
            // nothing ends yet; wake again when the next transfer ends at today's rates.
            return (SmallVec::new(), uplink.schedule());
        }
        uplink.wake_at = SimTime::MAX;
        advance(uplink, now);
        let mut done: SmallVec<[(LinkId, Queued); 4]> = SmallVec::new();
        let mut k = 0;
        while k < uplink.connections.len() {
            let connection = &mut uplink.connections[k];
            if connection.remaining > 0 {
                k += 1;
                continue;
            }
            assert!(!connection.queue.is_empty(), "a connection has a head");
            let head = connection.queue.remove(0);
            done.push((connection.link, head));
            match connection.queue.first() {
                Some(next) => {
                    connection.remaining = scaled_bits(next.size_bytes);
                    k += 1;
                }
                None => {
                    // The receiver from the connection, not from the link's record: the two
                    // reads then go to memory side by side rather than one after the other.
                    self.links[connection.link.index()].busy = false;
                    incoming[connection.to.index()].transfers -= 1;
                    uplink.connections.remove(k);
                }
            }
        }
        let finished = done
            .into_iter()
            .map(|(link, q)| {
                self.traffic.note_sent(q.msg.kind, q.size_bytes);
                let quiet = quiet(self.links[link.index()].target, &q.msg, q.prunable);
                let arrives = self.arrival(link, q.msg.kind.is_control(), now, quiet);
                Finished {
                    link,
                    msg: q.msg,
                    prunable: q.prunable,
                    transmission: arrives.map(|arrives| Transmission { start: q.since, arrives }),
                }
            })
            .collect();
        (finished, self.replan(node, now))
    }

    /// Shares `node`'s uplink among its connections (max-min fair, each capped by its
    /// receiver's download share) and plans the next wake-up; returns it if it changed.
    fn replan(&mut self, node: NodeId, now: SimTime) -> Option<Wake> {
        let Uplinks::Shared { uplinks, incoming } = &mut self.uplinks else {
            return None;
        };
        let upload = self.graph.upload_bps(node);
        let uplink = &mut uplinks[node.index()];
        let cap = |c: &Connection| {
            let receiver = &incoming[c.to.index()];
            receiver.download_bps / u64::from(receiver.transfers.max(1))
        };
        match uplink.connections.as_mut_slice() {
            [] => {}
            // The common case: one transfer takes what its receiver and the uplink allow.
            [only] => only.rate = cap(only).min(upload).max(1),
            connections => {
                // Water-filling from the smallest cap up (ties in connection order).
                let mut order: SmallVec<[(u64, u32); 16]> = SmallVec::new();
                for (i, c) in connections.iter().enumerate() {
                    order.push((cap(c), i as u32));
                }
                order.sort_unstable();
                let mut capacity = upload;
                let mut left = order.len() as u64;
                for &(cap, i) in &order {
                    let rate = cap.min(capacity / left).max(1);
                    connections[i as usize].rate = rate;
                    capacity = capacity.saturating_sub(rate);
                    left -= 1;
                }
            }
        }
        let next = uplink
            .connections
            .iter()
            .map(|c| now + SimDuration::from_micros(c.remaining.div_ceil(c.rate)))
            .min();
        uplink.wake_at = next.unwrap_or(SimTime::MAX);
        uplink.schedule()
    }

    /// When the timeline entries take effect, in entry order.
    pub fn fault_times(&self) -> Vec<SimTime> {
        self.faults.as_ref().map_or_else(Vec::new, |f| f.events().collect())
    }

    /// Applies timeline entry `index` and says which links it cut or restored.
    ///
    /// # Panics
    ///
    /// Panics if the run has no timeline (entries are only scheduled with one).
    pub fn apply_fault(&mut self, index: usize) -> FaultEffect {
        let before = self.cut_links();
        let change = self.faults.as_mut().expect("scheduled only with a timeline").apply(index);
        let after = self.cut_links();
        let changed = |from: bool, to: bool| {
            before.iter().zip(&after).filter(|(b, a)| **b == from && **a == to).count() as u32 / 2
        };
        let restored =
            (0..after.len()).filter(|&l| before[l] && !after[l]).map(LinkId::from_index).collect();
        FaultEffect {
            change,
            connections_cut: changed(false, true),
            connections_restored: changed(true, false),
            restored,
        }
    }

    fn cut_links(&self) -> Vec<bool> {
        (0..self.graph.link_count()).map(|l| self.is_cut(LinkId::from_index(l))).collect()
    }
}

/// The serial uplinks' free times (the caller knows the model is serial).
fn free_at_mut(uplinks: &mut Uplinks, node: NodeId) -> &mut SimTime {
    match uplinks {
        Uplinks::Serial { free_at, .. } => &mut free_at[node.index()],
        Uplinks::Shared { .. } => unreachable!("called for serial uplinks only"),
    }
}

/// Moves a shared uplink's transfers on to `now` at their current rates.
fn advance(uplink: &mut SharedUplink, now: SimTime) {
    let elapsed = (now - uplink.updated).as_micros();
    if elapsed > 0 {
        for c in &mut uplink.connections {
            c.remaining = c.remaining.saturating_sub(c.rate.saturating_mul(elapsed));
        }
    }
    uplink.updated = now;
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::chain::BlockId;
    use crate::network::latency::LinkLatencySpec;
    use crate::network::message::MessageKind;
    use crate::network::topology::TopologySpec;
    use crate::network::{BandwidthSpec, NetworkSpec};
    use crate::rng::RngStreams;

    /// A star: node 0 linked to nodes 1..=3; 50 ms links; 8 Mbit/s up, 80 Mbit/s down.
    fn star(uplink: Uplink, message_latency: MessageLatency) -> Transport {
        let spec = NetworkSpec {
            nodes: 4,
            region_names: vec!["global".to_string()],
            node_share: vec![1.0],
            topology: TopologySpec::Edges(vec![(0, 1), (0, 2), (0, 3)]),
            latency: LinkLatencySpec::Constant { ms: 50.0 },
            bandwidth: BandwidthSpec::Constant { upload_bps: 8_000_000, download_bps: 80_000_000 },
        };
        let graph = Network::build(&spec, &RngStreams::new(1)).expect("builds");
        let transfer = TransferSpec {
            uplink,
            message_latency,
            control_overhead: SimDuration::ZERO,
            tcp_window_bytes: 0,
        };
        Transport::new(graph, transfer, LinkDraws::new(7), None)
    }

    fn block(kind: MessageKind) -> Message {
        Message::about(kind, BlockId::GENESIS)
    }

    /// Node 0 puts a message about genesis on `link` (announcements are prunable).
    fn put(t: &mut Transport, link: LinkId, kind: MessageKind, size: u64, at: SimTime) -> Sent {
        t.transmit(NodeId(0), link, block(kind), size, kind.is_control(), at, false)
    }

    fn ms(t: SimTime) -> f64 {
        t.as_micros() as f64 / 1000.0
    }

    /// Runs a shared uplink's wake-ups until it is idle; returns what left it, in order.
    fn drain(t: &mut Transport, node: NodeId, mut wake: Option<Wake>) -> Vec<Finished> {
        let mut out = Vec::new();
        while let Some(w) = wake {
            let (done, next) = t.wake(node, w.generation, w.at, |_, _, _| false);
            out.extend(done);
            wake = next;
        }
        out
    }

    #[test]
    fn concurrent_transfers_share_the_uplink_fairly() {
        let mut t = star(Uplink::Shared, MessageLatency::None);
        let links: Vec<LinkId> = t.graph().links_of(NodeId(0)).collect();
        // Three 1 MB blocks at once on 8 Mbit/s: each gets a third, all end at 3 s.
        let mut wake = None;
        for &link in &links {
            match put(&mut t, link, MessageKind::Block, 1_000_000, SimTime::ZERO) {
                Sent::Held(w) => wake = w.or(wake),
                Sent::Now(_) | Sent::Quiet => panic!("block data waits on a shared uplink"),
            }
        }
        let done = drain(&mut t, NodeId(0), wake);
        assert_eq!(done.len(), 3);
        for f in &done {
            // Rates are whole bits per second: a third of the link is rounded down.
            let arrives = ms(f.transmission.expect("not quiet").arrives);
            assert!((arrives - 3_050.0).abs() < 0.01, "3 s of sending plus 50 ms: {arrives}");
        }
    }

    #[test]
    fn an_uplinks_queue_is_the_time_to_send_what_it_holds() {
        let secs = |d: SimDuration| d.as_micros() as f64 / 1e6;
        for uplink in [Uplink::Shared, Uplink::Fifo] {
            let mut t = star(uplink, MessageLatency::None);
            let links: Vec<LinkId> = t.graph().links_of(NodeId(0)).collect();
            assert_eq!(t.upload_queue(NodeId(0), SimTime::ZERO), SimDuration::ZERO);
            // Three 1 MB blocks on 8 Mbit/s: 3 s of uploads, 2 s left after one.
            for &link in &links {
                let _ = put(&mut t, link, MessageKind::Block, 1_000_000, SimTime::ZERO);
            }
            let start = secs(t.upload_queue(NodeId(0), SimTime::ZERO));
            let later = secs(t.upload_queue(NodeId(0), SimTime::ZERO + SimDuration::from_secs(1)));
            assert!((start - 3.0).abs() < 1e-3, "{uplink:?}: {start} s at first");
            assert!((later - 2.0).abs() < 1e-3, "{uplink:?}: {later} s after one second");
            assert_eq!(t.upload_queue(NodeId(1), SimTime::ZERO), SimDuration::ZERO);
        }
    }

    #[test]
    fn a_link_of_its_own_bandwidth_neither_waits_for_nor_slows_the_uplink() {
        for uplink in [Uplink::Shared, Uplink::Fifo, Uplink::BlockFifo, Uplink::UntilArrival] {
            let mut t = star(uplink, MessageLatency::None);
            let pairs = BTreeMap::from([((0, 1), 80_000_000)]);
            t = Transport::new(
                t.graph.clone().with_dedicated(&pairs),
                t.spec,
                LinkDraws::new(7),
                None,
            );
            let links: Vec<LinkId> = t.graph().links_of(NodeId(0)).collect();
            let mut wake = None;
            for &link in &links[1..] {
                if let Sent::Held(w) =
                    put(&mut t, link, MessageKind::Block, 1_000_000, SimTime::ZERO)
                {
                    wake = w.or(wake);
                }
            }
            // 1 MB at 80 Mbit/s: 100 ms, plus 50 ms; the second waits for the first to leave.
            for expected in [150.0, 250.0] {
                match put(&mut t, links[0], MessageKind::Block, 1_000_000, SimTime::ZERO) {
                    Sent::Now(tx) => assert_eq!(ms(tx.arrives), expected, "{uplink:?}"),
                    Sent::Held(_) | Sent::Quiet => panic!("{uplink:?}: a dedicated link sends now"),
                }
            }
            if uplink == Uplink::Shared {
                // The two others share 8 Mbit/s alone: 2 s, not the 3 s of three transfers.
                for f in drain(&mut t, NodeId(0), wake) {
                    let arrives = ms(f.transmission.expect("not quiet").arrives);
                    assert!((arrives - 2_050.0).abs() < 0.01, "{arrives}");
                }
            }
        }
    }

    #[test]
    fn a_transfer_that_joins_later_slows_the_first_and_takes_the_whole_link_after() {
        let mut t = star(Uplink::Shared, MessageLatency::None);
        let links: Vec<LinkId> = t.graph().links_of(NodeId(0)).collect();
        let Sent::Held(w0) = put(&mut t, links[0], MessageKind::Block, 1_000_000, SimTime::ZERO)
        else {
            panic!("held")
        };
        // Alone for 0.5 s (half a megabyte sent), then shared: the rest takes 1 s more.
        let half = SimTime::ZERO + SimDuration::from_millis_f64(500.0);
        let Sent::Held(w1) = put(&mut t, links[1], MessageKind::Block, 1_000_000, half) else {
            panic!("held")
        };
        let wake = w1.or(w0);
        let done = drain(&mut t, NodeId(0), wake);
        assert_eq!(done[0].link, links[0]);
        assert_eq!(ms(done[0].transmission.expect("not quiet").arrives), 1_550.0);
        // The second: 0.5 MB in that shared second, the other 0.5 MB alone in 0.5 s.
        assert_eq!(done[1].link, links[1]);
        assert_eq!(ms(done[1].transmission.expect("not quiet").arrives), 2_050.0);
    }

    #[test]
    fn joins_while_a_wake_up_is_pending_schedule_no_new_one() {
        let mut t = star(Uplink::Shared, MessageLatency::None);
        let links: Vec<LinkId> = t.graph().links_of(NodeId(0)).collect();
        // Three 1 MB blocks on 8 Mbit/s, joining at 0, 100 and 200 ms: every join moves the
        // first transfer's end later, so only the first join schedules a wake-up.
        let mut scheduled = Vec::new();
        for (i, &link) in links.iter().enumerate() {
            let at = SimTime::ZERO + SimDuration::from_millis_f64(100.0 * i as f64);
            match put(&mut t, link, MessageKind::Block, 1_000_000, at) {
                Sent::Held(wake) => scheduled.extend(wake),
                Sent::Now(_) | Sent::Quiet => panic!("block data waits on a shared uplink"),
            }
        }
        assert_eq!(scheduled.len(), 1, "{scheduled:?}");
        // Run the wake-ups as the engine would, in time order.
        let mut done = Vec::new();
        let mut events = 0;
        while let Some(i) = (0..scheduled.len()).min_by_key(|&i| scheduled[i].at) {
            let w = scheduled.remove(i);
            events += 1;
            let (finished, next) = t.wake(NodeId(0), w.generation, w.at, |_, _, _| false);
            done.extend(finished);
            scheduled.extend(next);
        }
        // Exact fair sharing (1 MB/s alone): the first block sends 0.1 MB alone and 0.05 MB
        // beside the second, so from 0.2 s the three have 0.85, 0.95 and 1 MB left at a third
        // of the link each. The first ends at 2.75 s, the second (0.1 MB left, half the
        // link) at 2.95 s, the third (0.05 MB, alone) at 3.0 s; plus 50 ms of latency each.
        let arrivals: Vec<f64> =
            done.iter().map(|f| ms(f.transmission.expect("not quiet").arrives)).collect();
        for (got, want) in arrivals.iter().zip([2_800.0, 3_000.0, 3_050.0]) {
            assert!((got - want).abs() < 0.01, "{arrivals:?}");
        }
        // One early wake-up (the one planned before the joins) and one per transfer's end.
        assert_eq!(events, 4);
    }

    #[test]
    fn control_messages_do_not_wait_behind_block_data_to_other_peers() {
        let mut t = star(Uplink::Shared, MessageLatency::None);
        let links: Vec<LinkId> = t.graph().links_of(NodeId(0)).collect();
        let held = put(&mut t, links[0], MessageKind::Block, 1_000_000, SimTime::ZERO);
        assert!(matches!(held, Sent::Held(_)));
        let Sent::Now(inv) = put(&mut t, links[1], MessageKind::Inv, 61, SimTime::ZERO) else {
            panic!("an inv to an idle connection goes at once")
        };
        assert!(ms(inv.arrives) < 50.1, "{}", ms(inv.arrives));
        // On the busy connection it follows the block, in order.
        let behind = put(&mut t, links[0], MessageKind::Inv, 61, SimTime::ZERO);
        assert_eq!(behind, Sent::Held(None));
    }

    #[test]
    fn fifo_sends_one_message_at_a_time_whatever_its_kind() {
        let mut t = star(Uplink::Fifo, MessageLatency::None);
        let links: Vec<LinkId> = t.graph().links_of(NodeId(0)).collect();
        let Sent::Now(a) = put(&mut t, links[0], MessageKind::Block, 1_000_000, SimTime::ZERO)
        else {
            panic!("fifo knows arrivals at once")
        };
        let Sent::Now(b) = put(&mut t, links[1], MessageKind::Inv, 61, SimTime::ZERO) else {
            panic!("fifo knows arrivals at once")
        };
        assert_eq!(ms(a.arrives), 1_050.0);
        assert!(b.start.as_micros() == 1_000_000 && ms(b.arrives) > 1_050.0);
    }

    /// Sends 1 MB of `kind` from node 0 over `link` at time zero on a serial uplink.
    fn send_1mb(t: &mut Transport, link: LinkId, kind: MessageKind) -> Transmission {
        match put(t, link, kind, 1_000_000, SimTime::ZERO) {
            Sent::Now(x) => x,
            Sent::Held(_) | Sent::Quiet => panic!("serial uplinks know arrivals at once"),
        }
    }

    /// A `block-fifo` transport (ns-3's 131,072-byte window) over `nodes` nodes linked to
    /// node 0, every link `latency_ms` long and every node with the same speeds.
    fn block_fifo_star(
        nodes: u32,
        latency_ms: f64,
        upload_bps: u64,
        download_bps: u64,
    ) -> Transport {
        block_fifo_star_with_window(nodes, latency_ms, upload_bps, download_bps, 131_072)
    }

    /// [`block_fifo_star`] with its TCP window (0: no wire term, `block_wire = "none"`).
    fn block_fifo_star_with_window(
        nodes: u32,
        latency_ms: f64,
        upload_bps: u64,
        download_bps: u64,
        tcp_window_bytes: u64,
    ) -> Transport {
        let spec = NetworkSpec {
            nodes,
            region_names: vec!["global".to_string()],
            node_share: vec![1.0],
            topology: TopologySpec::Edges((1..nodes).map(|n| (0, n)).collect()),
            latency: LinkLatencySpec::Constant { ms: latency_ms },
            bandwidth: BandwidthSpec::Constant { upload_bps, download_bps },
        };
        let graph = Network::build(&spec, &RngStreams::new(1)).expect("builds");
        let transfer = TransferSpec {
            uplink: Uplink::BlockFifo,
            message_latency: MessageLatency::None,
            control_overhead: SimDuration::ZERO,
            tcp_window_bytes,
        };
        Transport::new(graph, transfer, LinkDraws::new(7), None)
    }

    #[test]
    fn block_fifo_frees_the_uplink_at_its_own_rate_and_queues_at_the_receiver() {
        // Gervais et al.'s model: a fast uplink (80 Mbit/s) to slow receivers (8 Mbit/s).
        let mut t = block_fifo_star(3, 50.0, 80_000_000, 8_000_000);
        let links: Vec<LinkId> = t.graph().links_of(NodeId(0)).collect();
        let mut send = |link, kind| {
            let x = send_1mb(&mut t, link, kind);
            (ms(x.start), ms(x.arrives))
        };
        // 1 MB: 0.1 s on the sender's uplink; 1 s on the wire (the link runs at the
        // smallest of both nodes' speeds, 8 Mbit/s; a 131,072-byte window per 100 ms
        // round trip would allow 10.5 Mbit/s); then 1 s at the receiver's 8 Mbit/s.
        assert_eq!(send(links[0], MessageKind::Block), (0.0, 2_050.0));
        // The next upload starts after 0.1 s, not after the first receiver's 2 s.
        assert_eq!(send(links[1], MessageKind::Block), (100.0, 2_150.0));
        // A second block to the first receiver waits for its download queue.
        assert_eq!(send(links[0], MessageKind::Block), (200.0, 3_050.0));
        // Control messages do not wait for block data.
        let (start, arrives) = send(links[1], MessageKind::Inv);
        assert_eq!(start, 0.0);
        assert!(arrives < 2_150.0 + 1.0);
    }

    #[test]
    fn block_fifo_carries_at_most_one_tcp_window_per_round_trip() {
        // Fast nodes (100 Mbit/s) 100 ms apart: a 131,072-byte window per 200 ms round trip
        // moves 5.24 Mbit/s, so 1 MB takes 1.526 s on the wire.
        let mut t = block_fifo_star(2, 100.0, 100_000_000, 100_000_000);
        let link = t.graph().links_of(NodeId(0)).next().unwrap();
        let x = send_1mb(&mut t, link, MessageKind::Block);
        // 100 ms latency + 1,525.879 ms on the wire + 80 ms at the receiver's download.
        assert_eq!(ms(x.arrives), 1_705.879);
    }

    #[test]
    fn block_fifo_without_a_wire_term_times_a_block_by_the_two_queues_alone() {
        // Gervais et al.'s code: the block's record reaches the receiver one latency after
        // the upload starts, then takes size / min(upload, download) in its download
        // queue: 50 ms + 1 MB at 8 Mbit/s = 1,050 ms, with nothing for the wire.
        let mut t = block_fifo_star_with_window(3, 50.0, 80_000_000, 8_000_000, 0);
        let links: Vec<LinkId> = t.graph().links_of(NodeId(0)).collect();
        let a = send_1mb(&mut t, links[0], MessageKind::Block);
        assert_eq!((ms(a.start), ms(a.arrives)), (0.0, 1_050.0));
        // The uplink is free after 0.1 s (1 MB at 80 Mbit/s).
        let b = send_1mb(&mut t, links[1], MessageKind::Block);
        assert_eq!((ms(b.start), ms(b.arrives)), (100.0, 1_150.0));
    }

    #[test]
    fn a_download_booked_far_ahead_does_not_hold_up_blocks_reaching_the_node_before_it() {
        let at = |s: u64| SimTime::ZERO + SimDuration::from_secs(s);
        let secs = |s: u64| SimDuration::from_secs(s);
        let mut q = DownloadQueue::default();
        // A block from a sender with an hour of backlog is booked first.
        assert_eq!(q.book(at(3_600), secs(100), at(0)), at(3_600));
        // One reaching the node now fits before it; the next one waits for the first.
        assert_eq!(q.book(at(10), secs(100), at(0)), at(10));
        assert_eq!(q.book(at(50), secs(100), at(0)), at(110));
        // One that does not fit in the gap before the hour's booking goes after it.
        assert_eq!(q.book(at(3_550), secs(100), at(0)), at(3_700));
        // Finished intervals are forgotten.
        assert_eq!(q.book(at(4_000), secs(1), at(3_900)), at(4_000));
        assert_eq!(q.0.len(), 1);
    }

    #[test]
    fn a_queued_block_does_not_hold_up_control_messages_sent_before_its_upload() {
        // Two 1 MB blocks on one uplink (8 Mbit/s, 1 s each) to two receivers: the second
        // upload starts at 1 s. An inv to its receiver at 0.5 s is not held behind it.
        let mut t = block_fifo_star_with_window(3, 50.0, 8_000_000, 8_000_000, 0);
        let links: Vec<LinkId> = t.graph().links_of(NodeId(0)).collect();
        send_1mb(&mut t, links[0], MessageKind::Block);
        let second = send_1mb(&mut t, links[1], MessageKind::Block);
        assert_eq!(ms(second.start), 1_000.0);
        let half = SimTime::ZERO + SimDuration::from_millis_f64(500.0);
        let Sent::Now(inv) = put(&mut t, links[1], MessageKind::Inv, 61, half) else {
            panic!("serial uplinks know arrivals at once")
        };
        // 61 bytes at 8 Mbit/s (0.061 ms) and 50 ms latency, not after the block (2,050 ms).
        assert_eq!(ms(inv.arrives), 550.061);
    }

    #[test]
    fn until_arrival_releases_the_next_block_when_the_previous_arrives() {
        let mut t = star(Uplink::UntilArrival, MessageLatency::None);
        let links: Vec<LinkId> = t.graph().links_of(NodeId(0)).collect();
        let send = send_1mb;
        let a = send(&mut t, links[0], MessageKind::Block);
        let inv = send(&mut t, links[2], MessageKind::Inv);
        let b = send(&mut t, links[1], MessageKind::Block);
        assert_eq!(ms(a.arrives), 1_050.0);
        assert_eq!(ms(inv.arrives), 50.0, "control messages use no bandwidth");
        assert_eq!((ms(b.start), ms(b.arrives)), (1_050.0, 2_100.0));
    }

    #[test]
    fn per_message_latency_varies_but_keeps_the_order_of_a_connection() {
        let mut t = star(Uplink::Fifo, MessageLatency::Pareto { shape: 2.0 });
        let link = t.graph().links_of(NodeId(0)).next().expect("a link");
        let mut arrivals = Vec::new();
        let mut latencies = std::collections::BTreeSet::new();
        for k in 0..200u64 {
            let now = SimTime::ZERO + SimDuration::from_micros(k * 1_000);
            let Sent::Now(x) = put(&mut t, link, MessageKind::Inv, 61, now) else { panic!("fifo") };
            arrivals.push(x.arrives);
            latencies.insert((x.arrives - now).as_micros());
        }
        assert!(arrivals.windows(2).all(|w| w[0] <= w[1]), "in order on one connection");
        assert!(latencies.len() > 50, "{} distinct latencies", latencies.len());
    }

    #[test]
    fn quiet_messages_leave_every_other_arrival_unchanged() {
        for model in [MessageLatency::SimBlock, MessageLatency::Pareto { shape: 1.2 }] {
            let mut eager = star(Uplink::Shared, model);
            let mut lazy = star(Uplink::Shared, model);
            let link = eager.graph().links_of(NodeId(0)).next().expect("a link");
            let mut deferred = 0;
            for k in 0..5_000u64 {
                // Messages 0.1 to 3 ms apart on a 50 ms link: deferred draws often matter.
                let now = SimTime::ZERO + SimDuration::from_micros(k * 100 + (k * k) % 2_900);
                let quiet = k % 3 != 0;
                let msg = block(MessageKind::Inv);
                let a = eager.transmit(NodeId(0), link, msg, 61, true, now, false);
                let b = lazy.transmit(NodeId(0), link, msg, 61, true, now, quiet);
                match b {
                    Sent::Quiet => deferred += 1,
                    b => assert_eq!(a, b, "message {k}"),
                }
                assert!(quiet || b != Sent::Quiet);
            }
            assert!(deferred > 1_000, "{deferred} deferred draws");
        }
    }

    #[test]
    fn simblock_message_latency_keeps_the_table_mean() {
        let base = SimDuration::from_millis_f64(124.0);
        let draws = LinkDraws::new(3);
        let n = 200_000u32;
        let mean = (0..n)
            .map(|k| {
                let (u1, u2) = draws.uniforms(5, k);
                MessageLatency::SimBlock.draw(base, u1, u2).as_micros() as f64 / 1000.0
            })
            .sum::<f64>()
            / f64::from(n);
        // Shape 24.8, scale 119 ms: mean 124 ms; the sample mean is within 0.2 ms of it.
        assert!((mean - 124.0).abs() < 0.2, "mean {mean}");
    }
}
