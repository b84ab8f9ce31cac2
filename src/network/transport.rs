//! The network at run time: what happens to a message a node puts on a link.
//!
//! [`Network`] is the immutable graph (who is linked to whom, latency and rate per link).
//! A [`Transport`] adds what changes during a run: when each node's uplink is free again, and
//! the timeline's faults, which cut links between partitioned groups or to offline nodes.
//! The world hands every message to [`Transport::transmit`] and schedules its arrival; the
//! protocol never sees any of this, only messages that arrive (or, for a request it is
//! waiting on, the news that it was lost).
//!
//! Uplink model: a node's uplink sends one message at a time, first come first served, at the
//! link's rate (`min(upload of the sender, download of the receiver)`); the message then
//! travels for the link's latency.

use super::faults::{Change, Faults};
use super::{LinkId, Network, NodeId};
use crate::time::SimTime;

/// When a message leaves the sender and reaches the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmission {
    /// When the sender's uplink starts transmitting it.
    pub start: SimTime,
    /// When it reaches the receiver.
    pub arrives: SimTime,
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

/// The graph, the senders' uplinks and the faults of one run.
pub struct Transport {
    graph: Network,
    uplink_free_at: Vec<SimTime>,
    faults: Option<Faults>,
}

impl Transport {
    /// A network at rest: every uplink idle, no fault applied yet.
    pub fn new(graph: Network, faults: Option<Faults>) -> Transport {
        let nodes = graph.node_count() as usize;
        Transport { graph, uplink_free_at: vec![SimTime::ZERO; nodes], faults }
    }

    /// The immutable graph.
    #[inline]
    pub fn graph(&self) -> &Network {
        &self.graph
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

    /// Whether `node` is online (always, without a timeline).
    pub fn online(&self, node: NodeId) -> bool {
        self.faults.as_ref().is_none_or(|f| f.online(node))
    }

    /// Puts `size_bytes` on `link`, which starts at `from`, at `now`: the sender's uplink is
    /// busy for the transmission time, after any message it is still sending, then the
    /// message travels for the link's latency.
    #[inline(always)]
    pub fn transmit(
        &mut self,
        from: NodeId,
        link: LinkId,
        size_bytes: u64,
        now: SimTime,
    ) -> Transmission {
        let start = now.max(self.uplink_free_at[from.index()]);
        let sent = start + self.graph.transmission_time(link, size_bytes);
        self.uplink_free_at[from.index()] = sent;
        Transmission { start, arrives: sent + self.graph.link_latency(link) }
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
