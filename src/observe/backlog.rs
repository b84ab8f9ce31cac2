//! Whether the network kept up with its blocks.
//!
//! A run's delays and stale rate describe a steady state only if the work that blocks cause
//! (messages queued at senders or on their way, validations under way) drains between
//! blocks as fast as it builds up. When blocks come faster than the network can carry them
//! (8 MB blocks on 2015 links, say), that work piles up, and every figure then depends on
//! how long the run was. The world counts this work anyway, to know when a run has drained;
//! here it is sampled each time a block is found, and the time the last of it took to finish
//! once mining stopped is kept, so that the summary can say which case a run was. Which
//! senders fell behind is read from their uplinks' queues when mining stops. The world
//! fills it in; it is a measurement, so it lives beside the other observers' figures.

use crate::time::{SimDuration, SimTime};

/// The work pending at each block found, and when mining stopped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Per block found, in order: messages queued or on their way, plus validations under
    /// way, at that moment (saturated at `u32::MAX`).
    pending_at_blocks: Vec<u32>,
    /// When the last block was found.
    last_found: Option<SimTime>,
    /// Work still pending when the run ended (the drain cap or a hard cap cut it short).
    pending_at_end: u64,
    /// When mining stopped: how long each node's uplink would take to send what was queued
    /// on it, for the nodes with anything queued, longest first.
    upload_queues: Vec<SimDuration>,
}

impl Backlog {
    /// A block was found at `now` with `pending` pieces of work under way.
    pub(crate) fn block_found(&mut self, pending: u64, now: SimTime) {
        self.pending_at_blocks.push(u32::try_from(pending).unwrap_or(u32::MAX));
        self.last_found = Some(now);
    }

    /// Mining stopped with `queues` of uploads waiting (one per node with any).
    pub(crate) fn mining_stopped(&mut self, queues: impl Iterator<Item = SimDuration>) {
        self.upload_queues = queues.collect();
        self.upload_queues.sort_unstable_by(|a, b| b.cmp(a));
    }

    /// Nodes whose uplink held more than `limit` of uploads when mining stopped.
    pub fn uploads_queued_over(&self, limit: SimDuration) -> usize {
        self.upload_queues.partition_point(|q| *q > limit)
    }

    /// The longest upload queue when mining stopped (zero if every uplink was idle).
    pub fn longest_upload_queue(&self) -> SimDuration {
        self.upload_queues.first().copied().unwrap_or(SimDuration::ZERO)
    }

    /// The run ended with `pending` pieces of work still under way.
    pub(crate) fn ended(&mut self, pending: u64) {
        self.pending_at_end = pending;
    }

    /// Mean pending work at the blocks found in the first half of the run, and in the second
    /// (the middle block, with an odd count, goes to the second); `None` with fewer than two
    /// blocks.
    pub fn half_means(&self) -> Option<(f64, f64)> {
        let n = self.pending_at_blocks.len();
        if n < 2 {
            return None;
        }
        let mean = |s: &[u32]| s.iter().map(|&p| f64::from(p)).sum::<f64>() / s.len() as f64;
        let (first, second) = self.pending_at_blocks.split_at(n / 2);
        Some((mean(first), mean(second)))
    }

    /// Whether the backlog grew over a run on `nodes` nodes: the second half's mean is over
    /// twice the first half's and over one piece of work per node (never with fewer than two
    /// blocks).
    pub fn grew(&self, nodes: u32) -> bool {
        self.half_means()
            .is_some_and(|(first, second)| second > 2.0 * first && second > f64::from(nodes))
    }

    /// Pending work when the last block was found.
    pub fn at_last_block(&self) -> Option<u32> {
        self.pending_at_blocks.last().copied()
    }

    /// When the last block was found.
    pub fn last_found(&self) -> Option<SimTime> {
        self.last_found
    }

    /// Work still pending when the run ended.
    pub fn pending_at_end(&self) -> u64 {
        self.pending_at_end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_halves_split_the_blocks_found_in_order() {
        let mut b = Backlog::default();
        assert_eq!(b.half_means(), None);
        for (i, pending) in [2u64, 4, 10, 20, 30].into_iter().enumerate() {
            b.block_found(pending, SimTime::ZERO + SimDuration::from_secs(i as u64));
        }
        assert_eq!(b.half_means(), Some((3.0, 20.0)));
        assert!(b.grew(19), "20 is over twice 3 and over one per node");
        assert!(!b.grew(20), "not over one per node");
        assert_eq!(b.at_last_block(), Some(30));
        assert_eq!(b.last_found(), Some(SimTime::ZERO + SimDuration::from_secs(4)));
        b.block_found(u64::MAX, SimTime::ZERO + SimDuration::from_secs(9));
        assert_eq!(b.at_last_block(), Some(u32::MAX));
    }

    #[test]
    fn upload_queues_are_counted_over_a_limit_and_the_longest_kept() {
        let mut b = Backlog::default();
        assert_eq!(b.longest_upload_queue(), SimDuration::ZERO);
        b.mining_stopped([5, 700, 600, 1200].into_iter().map(SimDuration::from_secs));
        let interval = SimDuration::from_secs(600);
        assert_eq!(b.uploads_queued_over(interval), 2, "600 s is not over 600 s");
        assert_eq!(b.uploads_queued_over(SimDuration::ZERO), 4);
        assert_eq!(b.longest_upload_queue(), SimDuration::from_secs(1200));
    }
}
