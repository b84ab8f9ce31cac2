//! Block rewards that compound into stake in `pos-slot` runs, and the per-chain stake
//! snapshots the leader lottery uses.
//!
//! With `consensus.block_reward = r`, every block pays its producer r × the initial total
//! stake, in stake: a party's stake on a chain is its initial stake plus r × the initial
//! total × the blocks it produced on that chain. The stake ledger is kept apart from the
//! payment UTXO set (as coin-age's stake outputs are), so payments never move stake.
//!
//! # Which stake a slot's lottery uses
//!
//! As in Ouroboros Praos (David, Gaži, Kiayias and Russell, "Ouroboros Praos", Eurocrypt
//! 2018: the stake distribution of epoch e_j is the one recorded in the blockchain up to
//! the end of epoch e_{j−2}), and as Cardano's leader schedule does, the lottery of epoch
//! e uses the stake at the **end of epoch e − 2** of the chain being extended: the stake
//! after the chain's blocks whose slots lie before the first slot of epoch e − 1. Epochs 0
//! and 1 use the initial stake. The two-epoch lag lets every honest chain agree on the
//! snapshot long before it is used (blocks more than k deep are final).
//!
//! The snapshot therefore belongs to a chain, not to the run: two branches whose blocks up to
//! that boundary differ (different producers) play the lottery on different stakes, and a
//! block's claim is checked against the snapshot of its own chain. [`StakeSnapshots`]
//! memoises "the lottery a child of `parent` in epoch e plays" per (block, epoch), as
//! [`super::epochs::EpochNonces`] does for nonces: a child in epoch e depends only on its
//! chain's *anchor* for e, the last block at or below the parent whose slot lies before the
//! first slot of e − 1. The stake at an anchor is remembered too, and computed from the
//! nearest remembered anchor below it, so each block is walked past at most once per epoch
//! that asks about it, whichever node asks first.
//!
//! With r = 0 (the default) and no sale nothing here is consulted: the lottery is the
//! initial one, and runs are as before to the byte.
//!
//! # A sale of stake, per chain
//!
//! A long-range attack (`node::attacker::long_range`) needs stake that moves on one chain
//! and not on another: the old keys' holder sells its coins on the honest chain, and the
//! fork, which leaves that chain before the sale, never sees it. A [`Sale`] moves the
//! seller's whole stake to *idle holders* (an exchange, cold wallets: stake that never runs
//! the lottery), an extra entry after the parties, so the total and every other party's σ
//! stay as they were. A chain carries the sale from its first block in a slot at or after
//! the sale's slot made by anybody but the seller (the first honest block after the sale,
//! which holds the sale's transaction). Like rewards, the move reaches the lottery through
//! the snapshot two epochs later.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::epochs::{EpochClock, walk_to_anchor};
use super::praos::SlotLottery;
use super::seal::Seals;
use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;

/// The reward rule and the initial stake: what every node agrees on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockRewards {
    /// Stakeholders in node order (party `i` is `holders[i]`).
    pub holders: Vec<NodeId>,
    /// Initial stake per party, in units (any scale; only ratios matter).
    pub initial: Vec<u64>,
    /// Stake a block pays its producer, in the same units.
    pub reward_units: u64,
    /// A sale of one party's stake to idle holders (see the module docs).
    pub sale: Option<Sale>,
}

/// The seller's stake moves to idle holders on every chain that carries the sale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sale {
    /// The party that sells (the old keys' holder).
    pub seller: NodeId,
    /// The first slot after the sale: a chain carries the sale from its first block in
    /// this slot or later made by another party.
    pub slot: u64,
}

impl BlockRewards {
    /// The rule for parties `holders` with `initial` stake units and a reward of
    /// `block_reward` × the initial total per block (rounded to whole units).
    pub fn new(holders: Vec<NodeId>, initial: Vec<u64>, block_reward: f64) -> BlockRewards {
        let total: u128 = initial.iter().map(|&u| u128::from(u)).sum();
        let reward_units = libm::round(block_reward * total as f64) as u64;
        BlockRewards { holders, initial, reward_units, sale: None }
    }

    /// The same rule with `sale`.
    pub fn with_sale(mut self, sale: Sale) -> BlockRewards {
        self.sale = Some(sale);
        self
    }

    /// The stake vector before any block: the initial stake per party, and with a sale the
    /// idle holders' entry (0) after them.
    fn base_stake(&self) -> Vec<u64> {
        let mut stake = self.initial.clone();
        if self.sale.is_some() {
            stake.push(0);
        }
        stake
    }

    /// Whether a block sealed by `seal` carries the sale.
    fn carries_sale(&self, seal: &super::seal::Seal) -> bool {
        self.sale.is_some_and(|s| seal.claim.slot >= s.slot && seal.producer != s.seller)
    }

    /// Moves the seller's stake to the idle holders (with a sale).
    fn apply_sale(&self, stake: &mut [u64]) {
        if let Some(p) = self.sale.and_then(|s| self.party_of(s.seller)) {
            let idle = stake.len() - 1;
            stake[idle] += std::mem::take(&mut stake[p]);
        }
    }

    /// The party of `node`, if it holds stake.
    pub fn party_of(&self, node: NodeId) -> Option<usize> {
        self.holders.binary_search(&node).ok()
    }

    /// The first slot after the snapshot that the lottery of `epoch` uses (the first slot of
    /// epoch − 1), or `None` for epochs 0 and 1, which use the initial stake.
    pub fn snapshot_end(clock: &EpochClock, epoch: u64) -> Option<u64> {
        (epoch >= 2).then(|| clock.first_slot(epoch - 1))
    }

    /// The stake of every party after the blocks of `chain` (genesis first) whose slots
    /// lie before `end` (all of them for `u64::MAX`): the definition [`StakeSnapshots`]
    /// memoises, written out plainly.
    pub fn stake_along(&self, seals: &Seals, chain: &[BlockId], end: u64) -> Vec<u64> {
        let mut stake = self.base_stake();
        let mut sold = false;
        for seal in chain.iter().filter_map(|&b| seals.get(b)) {
            if seal.claim.slot >= end {
                break;
            }
            if let Some(p) = self.party_of(seal.producer) {
                stake[p] += self.reward_units;
            }
            sold |= self.carries_sale(seal);
        }
        if sold {
            self.apply_sale(&mut stake);
        }
        stake
    }
}

/// One snapshot: the stake per party and the lottery on it.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Stake per party, in units.
    pub stake: Vec<u64>,
    /// The lottery with these stakes.
    pub lottery: SlotLottery,
    /// Whether the chain carries the sale by this snapshot.
    pub sold: bool,
}

/// Per (block, epoch): the stake snapshot a child of the block in that epoch plays on.
#[derive(Clone, Debug)]
pub struct StakeSnapshots {
    rewards: BlockRewards,
    f: f64,
    initial: Arc<Snapshot>,
    /// (tip, epoch) → the snapshot of tip's chain for epoch.
    memo: FxHashMap<(BlockId, u64), Arc<Snapshot>>,
    /// Anchor → the stake after it (and the lottery on it).
    at_anchor: FxHashMap<BlockId, Arc<Snapshot>>,
}

impl StakeSnapshots {
    /// Snapshots for `rewards`, with active-slot coefficient `f`.
    ///
    /// # Panics
    ///
    /// If the initial stake is all zero or f is outside (0, 1] (the scenario's validation
    /// refuses both).
    pub fn new(rewards: BlockRewards, f: f64) -> StakeSnapshots {
        let stake = rewards.base_stake();
        let lottery = SlotLottery::new(f, &stake).expect("validated: f and stake");
        let initial = Arc::new(Snapshot { stake, lottery, sold: false });
        StakeSnapshots {
            rewards,
            f,
            initial,
            memo: FxHashMap::default(),
            at_anchor: FxHashMap::default(),
        }
    }

    /// The reward rule and initial stake.
    pub fn rewards(&self) -> &BlockRewards {
        &self.rewards
    }

    /// Whether blocks pay rewards or stake is sold (otherwise nodes keep the initial
    /// lottery throughout and never ask for a snapshot).
    pub fn active(&self) -> bool {
        self.rewards.reward_units > 0 || self.rewards.sale.is_some()
    }

    /// The snapshot a child of `parent` in `slot` plays on (the initial one in epochs 0
    /// and 1, and whenever rewards are 0).
    pub fn for_child(
        &mut self,
        clock: &EpochClock,
        seals: &Seals,
        store: &BlockStore,
        parent: BlockId,
        slot: u64,
    ) -> Arc<Snapshot> {
        let epoch = clock.epoch_of(slot);
        let Some(end) = BlockRewards::snapshot_end(clock, epoch) else {
            return Arc::clone(&self.initial);
        };
        if let Some(s) = self.memo.get(&(parent, epoch)) {
            return Arc::clone(s);
        }
        // Walk down to the anchor: the last block before `end`. Every block passed on the
        // way shares its answer.
        let (found, at, passed) = walk_to_anchor(&self.memo, seals, store, parent, epoch, end);
        let snapshot = match found {
            Some(s) => s,
            None => {
                let s = self.at_anchor(seals, store, at);
                self.memo.insert((at, epoch), Arc::clone(&s));
                s
            }
        };
        for b in passed {
            self.memo.insert((b, epoch), Arc::clone(&snapshot));
        }
        snapshot
    }

    /// The stake after `anchor` on its chain, from the nearest remembered anchor below it.
    fn at_anchor(&mut self, seals: &Seals, store: &BlockStore, anchor: BlockId) -> Arc<Snapshot> {
        if let Some(s) = self.at_anchor.get(&anchor) {
            return Arc::clone(s);
        }
        let mut gained = vec![0u64; self.initial.stake.len()];
        let mut sold_here = false;
        let mut at = anchor;
        let base = loop {
            if let Some(s) = self.at_anchor.get(&at) {
                break Arc::clone(s);
            }
            let Some(seal) = seals.get(at) else {
                // Genesis (or another block without a slot seal): the initial stake.
                break Arc::clone(&self.initial);
            };
            if let Some(p) = self.rewards.party_of(seal.producer) {
                gained[p] += 1;
            }
            sold_here |= self.rewards.carries_sale(seal);
            at = store.get(at).parent.expect("a sealed block has a parent");
        };
        let reward = self.rewards.reward_units;
        let mut stake: Vec<u64> =
            base.stake.iter().zip(&gained).map(|(&s, &g)| s + g * reward).collect();
        let sold = base.sold || sold_here;
        if sold {
            self.rewards.apply_sale(&mut stake);
        }
        let lottery = SlotLottery::new(self.f, &stake).expect("the total never shrinks");
        let snapshot = Arc::new(Snapshot { stake, lottery, sold });
        self.at_anchor.insert(anchor, Arc::clone(&snapshot));
        snapshot
    }

    /// Remembered (block, epoch) and anchor answers (for tests and memory accounting).
    pub fn len(&self) -> usize {
        self.memo.len() + self.at_anchor.len()
    }

    /// Whether nothing is remembered yet.
    pub fn is_empty(&self) -> bool {
        self.memo.is_empty() && self.at_anchor.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::keys::KeyPair;
    use crate::consensus::praos::{EpochNonce, LeaderProof};
    use crate::consensus::seal::Seal;
    use crate::consensus::vrf::VrfKey;
    use crate::node::testing::{child, store};

    /// A block of `producer` in `slot` on `parent`, with a real (but unchecked here) claim.
    fn sealed(
        s: &mut BlockStore,
        seals: &mut Seals,
        parent: BlockId,
        producer: NodeId,
        slot: u64,
    ) -> BlockId {
        let b = child(s, parent, producer);
        let (output, proof) = VrfKey::from_seed([producer.0 as u8; 32]).prove(&slot.to_le_bytes());
        let claim = LeaderProof { slot, output, proof };
        let key = KeyPair::from_seed(&[9; 32]);
        seals.set(b, Seal::sign(&s.get(b).block.header, producer, claim, &key));
        b
    }

    /// A sale at slot 4 by party 0 (600 of 1,000 units), epochs of 3 slots: the honest
    /// branch carries it from its first block of another party in slot 4 or later, the
    /// fork (party 0's blocks only) never does. Two epochs later the honest chain's lottery
    /// gives party 0 nothing (the units sit with the idle holders, the total unchanged,
    /// party 1's share unchanged), the fork's still gives it 0.6; before that both
    /// chains play the initial lottery. The memo equals the plain definition.
    #[test]
    fn a_sale_moves_stake_on_the_chain_that_carries_it_only() {
        let (mut s, g) = store();
        let mut seals = Seals::default();
        let clock = EpochClock { genesis: EpochNonce::genesis(1), epoch_slots: 3 };
        let sale = Sale { seller: NodeId(0), slot: 4 };
        let rewards =
            BlockRewards::new(vec![NodeId(0), NodeId(1)], vec![600, 400], 0.0).with_sale(sale);
        let point = sealed(&mut s, &mut seals, g, NodeId(0), 1);
        let (mut honest, mut fork) = (vec![g, point], vec![g, point]);
        for slot in [4, 5, 7] {
            let h = sealed(&mut s, &mut seals, *honest.last().unwrap(), NodeId(1), slot);
            honest.push(h);
            let f = sealed(&mut s, &mut seals, *fork.last().unwrap(), NodeId(0), slot);
            fork.push(f);
        }
        let mut memo = StakeSnapshots::new(rewards.clone(), 0.5);
        assert!(memo.active(), "a sale alone makes the snapshots matter");
        let on_honest = memo.for_child(&clock, &seals, &s, honest[4], 9);
        let on_fork = memo.for_child(&clock, &seals, &s, fork[4], 9);
        assert_eq!(on_honest.stake, vec![0, 400, 600]);
        assert!(on_honest.sold && !on_fork.sold);
        assert_eq!(on_honest.lottery.threshold(0), 0.0, "sold keys never lead there");
        assert_eq!(on_honest.lottery.threshold(1), on_fork.lottery.threshold(1));
        assert_eq!(on_fork.stake, vec![600, 400, 0]);
        assert!((on_fork.lottery.sigma(0) - 0.6).abs() < 1e-12);
        // Epoch 2 (slots 6–8) counts blocks before slot 3: no sale on either chain yet.
        assert_eq!(memo.for_child(&clock, &seals, &s, honest[3], 6).stake, vec![600, 400, 0]);
        for chain in [&honest, &fork] {
            for slot in [6, 9, 12] {
                let end = BlockRewards::snapshot_end(&clock, clock.epoch_of(slot)).unwrap();
                let plain = rewards.stake_along(&seals, chain, end);
                let memoised = memo.for_child(&clock, &seals, &s, *chain.last().unwrap(), slot);
                assert_eq!(memoised.stake, plain, "slot {slot}");
            }
        }
    }

    /// Final shares of the urn model the simulator approximates, without a network: per
    /// slot each holder leads with probability φ(σ) of its stake in the snapshot at the end
    /// of epoch e − 2 (epochs of `epoch_slots`), one of the slot's leaders (uniformly) makes
    /// the block and gains `r`; until `n` blocks. Returns per holder the mean final share
    /// and the mean of (X − s)², over `reps` runs.
    fn lagged_urn(
        s0: &[f64],
        f: f64,
        r: f64,
        epoch_slots: u64,
        n: u64,
        reps: u64,
    ) -> Vec<(f64, f64)> {
        use crate::rng::{Purpose, RngStreams, uniform01};
        let mut rng = RngStreams::new(3).stream(Purpose::Attacker, 2);
        let k = s0.len();
        let mut sums = vec![(0.0, 0.0); k];
        for _ in 0..reps {
            let mut stake = s0.to_vec();
            let mut ends = vec![stake.clone()];
            let mut phi = Vec::new();
            let (mut blocks, mut slot) = (0, 0u64);
            while blocks < n {
                if slot % epoch_slots == 0 {
                    let e = (slot / epoch_slots) as usize;
                    let snap = &ends[e.saturating_sub(1)];
                    let total: f64 = snap.iter().sum();
                    phi = snap
                        .iter()
                        .map(|x| crate::consensus::praos::phi(f, x / total).unwrap())
                        .collect();
                }
                let leaders: Vec<usize> =
                    (0..k).filter(|&i| uniform01(&mut rng) < phi[i]).collect();
                if !leaders.is_empty() {
                    let w = leaders[crate::rng::below(&mut rng, leaders.len() as u64) as usize];
                    stake[w] += r;
                    blocks += 1;
                }
                slot += 1;
                if slot % epoch_slots == 0 {
                    ends.push(stake.clone());
                }
            }
            let total: f64 = stake.iter().sum();
            for i in 0..k {
                let x = stake[i] / total;
                sums[i].0 += x;
                sums[i].1 += (x - s0[i]).powi(2);
            }
        }
        sums.iter().map(|&(a, b)| (a / reps as f64, b / reps as f64)).collect()
    }

    /// The corrections for φ(σ) and the e − 2 snapshot, measured on the model of the
    /// shipped `pos-slot-rewards.toml` (0.2 / 0.3 / 0.5, f = 0.05, epochs of 20 slots,
    /// r = 0.02, n = 96 main-chain blocks): over 4,000 runs each holder's mean final share
    /// is its initial share within 3 standard errors and its variance is the Pólya urn's
    /// s(1 − s) n / ((1/r + 1)(1/r + n)) within 10 % (the estimate's own standard error is
    /// about 2.2 %; φ and the lag lower the variance by a few per cent). The same model
    /// without compounding would be 3 times lower.
    #[test]
    fn the_lagged_phi_lottery_stays_close_to_the_polya_urn() {
        let (s0, r, n) = ([0.2, 0.3, 0.5], 0.02, 96.0);
        let reps = 4_000;
        for (i, (mean, var)) in lagged_urn(&s0, 0.05, r, 20, n as u64, reps).into_iter().enumerate()
        {
            let s = s0[i];
            let urn = s * (1.0 - s) * n / ((1.0 / r + 1.0) * (1.0 / r + n));
            let se = (urn / reps as f64).sqrt();
            eprintln!("s {s}: mean {mean:.4}, variance {var:.6}, urn {urn:.6}");
            assert!((mean - s).abs() < 3.0 * se, "holder {i}: mean {mean} vs {s}");
            assert!((var / urn - 1.0).abs() < 0.10, "holder {i}: variance {var} vs urn {urn}");
        }
    }

    /// Two branches from genesis, each made by one of two equal holders, over epochs of 3
    /// slots: a child in epoch 2 (slots 6–8) plays on the stake after slots 0–2 of its own
    /// chain, so the branches' snapshots differ (each favours its own producer), epochs 0
    /// and 1 use the initial stake, and the memoised answers equal the plain definition for
    /// every block and epoch, whichever branch is asked first.
    #[test]
    fn snapshots_belong_to_the_chain_and_lag_two_epochs() {
        let (mut s, g) = store();
        let mut seals = Seals::default();
        let clock = EpochClock { genesis: EpochNonce::genesis(1), epoch_slots: 3 };
        let rewards = BlockRewards::new(vec![NodeId(0), NodeId(1)], vec![500, 500], 0.1);
        assert_eq!(rewards.reward_units, 100);
        let (mut a, mut b) = (vec![g], vec![g]);
        for slot in 1..=7 {
            let next = sealed(&mut s, &mut seals, *a.last().unwrap(), NodeId(0), slot);
            a.push(next);
            let next = sealed(&mut s, &mut seals, *b.last().unwrap(), NodeId(1), slot);
            b.push(next);
        }
        let mut memo = StakeSnapshots::new(rewards.clone(), 0.05);
        assert!(memo.active());
        // Epoch 2: slots 1 and 2 count.
        let on_a = memo.for_child(&clock, &seals, &s, a[7], 8);
        let on_b = memo.for_child(&clock, &seals, &s, b[7], 8);
        assert_eq!(on_a.stake, vec![700, 500]);
        assert_eq!(on_b.stake, vec![500, 700]);
        assert!(on_a.lottery.threshold(0) > on_b.lottery.threshold(0));
        // Epoch 3 (slots 9–11): slots 1–5 count.
        assert_eq!(memo.for_child(&clock, &seals, &s, a[7], 9).stake, vec![1_000, 500]);
        // Epochs 0 and 1: the initial stake, whatever the chain.
        for slot in [2, 5] {
            assert_eq!(
                memo.for_child(&clock, &seals, &s, a[slot as usize - 1], slot).stake,
                [500, 500]
            );
        }
        let mut fresh = StakeSnapshots::new(rewards.clone(), 0.05);
        for chain in [&b, &a] {
            for (h, &parent) in chain.iter().enumerate() {
                for slot in (h as u64 + 1)..=14 {
                    let epoch = clock.epoch_of(slot);
                    let end = BlockRewards::snapshot_end(&clock, epoch).unwrap_or(0);
                    let plain = rewards.stake_along(&seals, &chain[..=h], end);
                    let memoised = fresh.for_child(&clock, &seals, &s, parent, slot);
                    assert_eq!(memoised.stake, plain, "height {h}, slot {slot}");
                    assert_eq!(memoised.lottery, SlotLottery::new(0.05, &plain).unwrap());
                }
            }
        }
        assert!(!fresh.is_empty());
        // No reward: inactive, and every snapshot is the initial one.
        let mut none = StakeSnapshots::new(BlockRewards::new(vec![NodeId(0)], vec![7], 0.0), 0.5);
        assert!(!none.active());
        assert_eq!(none.for_child(&clock, &seals, &s, a[7], 14).stake, vec![7]);
    }
}
