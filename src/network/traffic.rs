//! Bytes moved over the network, by message kind: what a run costs its links, in the unit
//! simulators and measurements report bandwidth in.
//!
//! Gervais et al.'s simulator (CCS 2016) prints a "total average traffic/node": the mean
//! over nodes of every byte a node sent and received, divided by (blocks − 1) times the
//! nominal block interval, in kbit/s. Its published size series reports that column beside
//! the stale rate and the propagation times; forksim's [`Traffic`] makes it comparable.
//!
//! A message counts as **sent** when it leaves its sender's uplink: at once on a serial
//! uplink, when its last bit goes on a shared one (a message still queued when the run ends
//! is not counted). It counts as **received** unless a link cut while it travels loses it.
//! An announcement the receiver will ignore, which the engine does not deliver, still
//! crosses the link and counts both ways, as it would in a real node's byte counters.
//! Messages a cut or banned connection never sends are not counted. Transaction relay is
//! not counted: the payment pool models it without messages (see `payments::pool`).

use super::message::MessageKind;

/// Bytes sent by every node, by message kind, and bytes lost on the way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    sent: [u64; MessageKind::ALL.len()],
    lost: u64,
}

impl Traffic {
    /// A message of `kind`, `bytes` long, left its sender.
    #[inline]
    pub fn note_sent(&mut self, kind: MessageKind, bytes: u64) {
        self.sent[kind as usize] += bytes;
    }

    /// A message of `bytes` that left its sender was lost before it arrived.
    pub fn note_lost(&mut self, bytes: u64) {
        self.lost += bytes;
    }

    /// Bytes of `kind` that left their senders.
    pub fn sent(&self, kind: MessageKind) -> u64 {
        self.sent[kind as usize]
    }

    /// Bytes of every kind that left their senders.
    pub fn sent_total(&self) -> u64 {
        self.sent.iter().sum()
    }

    /// Bytes that reached their receivers.
    pub fn received_total(&self) -> u64 {
        self.sent_total() - self.lost
    }

    /// Over `nodes` nodes, the mean of the bytes each sent plus the bytes each received.
    pub fn per_node_bytes(&self, nodes: u32) -> f64 {
        (self.sent_total() + self.received_total()) as f64 / f64::from(nodes.max(1))
    }

    /// [`Traffic::per_node_bytes`] as Gervais et al.'s rate: over `blocks` blocks at a
    /// nominal `interval_s`, in kbit/s (1000 bits).
    pub fn per_node_kbit_s(&self, nodes: u32, blocks: u64, interval_s: f64) -> f64 {
        let seconds = blocks as f64 * interval_s;
        if seconds > 0.0 { self.per_node_bytes(nodes) * 8.0 / 1000.0 / seconds } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_counts_once_sent_and_once_received_unless_lost() {
        let mut t = Traffic::default();
        t.note_sent(MessageKind::Block, 1_000);
        t.note_sent(MessageKind::Inv, 61);
        t.note_sent(MessageKind::Block, 1_000);
        t.note_lost(1_000);
        assert_eq!(t.sent(MessageKind::Block), 2_000);
        assert_eq!(t.sent(MessageKind::GetData), 0);
        assert_eq!(t.sent_total(), 2_061);
        assert_eq!(t.received_total(), 1_061);
        // Two nodes: 2,061 bytes out and 1,061 in, 1,561 each.
        assert_eq!(t.per_node_bytes(2), 1_561.0);
    }

    #[test]
    fn the_rate_is_gervais_et_als_bytes_per_node_over_blocks_times_the_interval() {
        let mut t = Traffic::default();
        // One 8 MB block sent to each of 100 nodes by someone: each node receives it once
        // and, on average, sends it once.
        t.note_sent(MessageKind::Block, 100 * 8_000_000);
        let rate = t.per_node_kbit_s(100, 1, 600.0);
        // 16 MB per node over 600 s: 213.3 kbit/s, what Gervais et al.'s column calls one copy
        // of each block at 8 MB.
        assert!((rate - 213.333).abs() < 1e-3, "{rate}");
        assert_eq!(t.per_node_kbit_s(100, 0, 600.0), 0.0);
    }
}
