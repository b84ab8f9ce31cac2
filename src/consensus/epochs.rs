//! Epoch nonces along each chain of a `pos-slot` run, as Ouroboros Praos evolves them.
//!
//! The leader lottery of slot `s` runs on (η_e, s), where e = ⌊s / L⌋ for the epoch length
//! L (`consensus.epoch_slots`). The nonce of epoch 0 is η₀ of the run's seed; the nonce of
//! epoch e + 1 is [`EpochNonce::next`] of η_e and the VRF outputs of the blocks of epoch e
//! whose slots lie in its first two thirds, ⌊2L/3⌋ slots (Praos settles the nonce before the
//! epoch ends, so that every honest chain agrees on it by the time it is used). The nonce is
//! therefore a property of a chain, not of the run: two forks that differ in the blocks of
//! that window play the next epoch's lottery on different nonces, and a block is checked
//! against the nonce of its own chain.
//!
//! [`EpochNonces::for_child`] answers "which nonce does a child of `parent` in slot `s` play
//! on?". A child in epoch e ≥ 1 depends only on the *anchor* of its chain for e: the last
//! block at or below `parent` whose slot lies before the end of epoch e − 1's window. The
//! answer is remembered per (block, epoch), so each block is walked past at most once per
//! epoch that asks about it, whichever node asks first: the nonce is the same for every
//! node (the shared-state rule of the design), while each node still checks each block's
//! VRF proof itself against it.
//!
//! The default epoch is Praos's R = 10k/f slots (Cardano: k = 2160, f = 0.05, 432,000 slots
//! of 1 s, five days), so a run of a few thousand blocks stays in epoch 0 unless the
//! scenario asks for shorter epochs.

use rustc_hash::FxHashMap;

use super::praos::EpochNonce;
use super::seal::Seals;
use crate::chain::{BlockId, BlockStore};

/// Per (block, epoch): the nonce a child of the block in that epoch plays on.
#[derive(Clone, Debug, Default)]
pub struct EpochNonces {
    memo: FxHashMap<(BlockId, u64), EpochNonce>,
}

/// The epoch of a slot, its window, and η₀: what [`EpochNonces`] needs from the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpochClock {
    /// η₀, the nonce of epoch 0.
    pub genesis: EpochNonce,
    /// Slots per epoch, L (at least [`MIN_EPOCH_SLOTS`]).
    pub epoch_slots: u64,
}

/// The shortest epoch a scenario may ask for: three slots, so that the window (the first
/// ⌊2L/3⌋ slots) is not empty and ends before the epoch does.
pub const MIN_EPOCH_SLOTS: u64 = 3;

impl EpochClock {
    /// The epoch of `slot`.
    pub fn epoch_of(&self, slot: u64) -> u64 {
        slot / self.epoch_slots
    }

    /// The first slot of `epoch`.
    pub fn first_slot(&self, epoch: u64) -> u64 {
        epoch.saturating_mul(self.epoch_slots)
    }

    /// The first slot after the window of `epoch` whose outputs make the next nonce.
    pub fn window_end(&self, epoch: u64) -> u64 {
        self.first_slot(epoch).saturating_add(self.epoch_slots * 2 / 3)
    }

    /// Praos's epoch length R = 10k/f, rounded, and at least [`MIN_EPOCH_SLOTS`].
    pub fn praos_epoch_slots(k: u64, f: f64) -> u64 {
        let r = (10.0 * k as f64 / f).round();
        if r >= u64::MAX as f64 { u64::MAX } else { (r as u64).max(MIN_EPOCH_SLOTS) }
    }
}

/// The nonces of epochs 0 ..= e along `chain` (genesis first, each block's parent before
/// it), e being the epoch of its last block, computed epoch by epoch from the chain alone:
/// the definition [`EpochNonces`] memoises, written out plainly (the report and the tests
/// use it).
pub fn along_chain(clock: &EpochClock, seals: &Seals, chain: &[BlockId]) -> Vec<EpochNonce> {
    let last_epoch = chain.last().map_or(0, |&b| clock.epoch_of(seals.slot_of(b)));
    let mut nonces = vec![clock.genesis];
    for epoch in 0..last_epoch {
        let (first, end) = (clock.first_slot(epoch), clock.window_end(epoch));
        let outputs: Vec<_> = chain
            .iter()
            .filter_map(|&b| seals.get(b))
            .filter(|s| (first..end).contains(&s.claim.slot))
            .map(|s| s.claim.output)
            .collect();
        let next = nonces[nonces.len() - 1].next(epoch, &outputs);
        nonces.push(next);
    }
    nonces
}

/// Walks down the chain from `tip` until `memo` has an answer for (block, `epoch`) or a
/// block's slot lies before `end` (the anchor; genesis has slot 0). Returns the answer, if
/// one was found, the block the walk stopped at, and the blocks passed on the way (which
/// share the answer). [`EpochNonces`] and `rewards::StakeSnapshots` memoise this way.
pub(crate) fn walk_to_anchor<T: Clone>(
    memo: &FxHashMap<(BlockId, u64), T>,
    seals: &Seals,
    store: &BlockStore,
    tip: BlockId,
    epoch: u64,
    end: u64,
) -> (Option<T>, BlockId, Vec<BlockId>) {
    let mut passed = Vec::new();
    let mut at = tip;
    loop {
        if let Some(answer) = memo.get(&(at, epoch)) {
            return (Some(answer.clone()), at, passed);
        }
        if seals.slot_of(at) < end {
            return (None, at, passed);
        }
        passed.push(at);
        at = store.get(at).parent.expect("genesis has slot 0, before every end");
    }
}

impl EpochNonces {
    /// The nonce a child of `parent` in `slot` plays on, along `parent`'s chain (see the
    /// module docs). Genesis and other blocks without a slot seal count as slot 0.
    pub fn for_child(
        &mut self,
        clock: &EpochClock,
        seals: &Seals,
        store: &BlockStore,
        parent: BlockId,
        slot: u64,
    ) -> EpochNonce {
        self.of_epoch(clock, seals, store, parent, clock.epoch_of(slot))
    }

    /// η_epoch on the chain ending at `tip` (`tip` may lie in any earlier epoch or in the
    /// window's aftermath of `epoch − 1`; only blocks before the window's end count).
    fn of_epoch(
        &mut self,
        clock: &EpochClock,
        seals: &Seals,
        store: &BlockStore,
        tip: BlockId,
        epoch: u64,
    ) -> EpochNonce {
        if epoch == 0 {
            return clock.genesis;
        }
        if let Some(&nonce) = self.memo.get(&(tip, epoch)) {
            return nonce;
        }
        // Walk down to the anchor: the last block before the end of the previous epoch's
        // window. Every block passed on the way shares its answer.
        let window_end = clock.window_end(epoch - 1);
        let (found, at, passed) = walk_to_anchor(&self.memo, seals, store, tip, epoch, window_end);
        let nonce = match found {
            Some(nonce) => nonce,
            None => {
                let anchor = at;
                // The outputs of the anchor's chain inside the previous epoch, in slot order.
                let first = clock.first_slot(epoch - 1);
                let mut outputs = Vec::new();
                let mut b = anchor;
                while let Some(seal) = seals.get(b).filter(|s| s.claim.slot >= first) {
                    outputs.push(seal.claim.output);
                    b = store.get(b).parent.expect("a sealed block has a parent");
                }
                outputs.reverse();
                let before = self.of_epoch(clock, seals, store, anchor, epoch - 1);
                let nonce = before.next(epoch - 1, &outputs);
                self.memo.insert((anchor, epoch), nonce);
                nonce
            }
        };
        for b in passed {
            self.memo.insert((b, epoch), nonce);
        }
        nonce
    }

    /// Remembered (block, epoch) answers (for tests and memory accounting).
    pub fn len(&self) -> usize {
        self.memo.len()
    }

    /// Whether nothing is remembered yet.
    pub fn is_empty(&self) -> bool {
        self.memo.is_empty()
    }
}
