//! Delegated proof of stake in a run: the schedule as it unfolds over the simulated network,
//! every node's check of a DPoS block, and each block's last irreversible block.
//!
//! [`super::dpos`] has the pure logic (election, shuffled schedule, missed slots, voting
//! out, the one-stage rule). A run adds time and a network:
//!
//! - **Slots.** Slot `s` starts at (s + 1) · `block_interval_s` (slot 0 starts one interval
//!   after genesis). Every stakeholder (producer or backup) wakes at each slot boundary; the
//!   one the schedule names builds on its tip and signs the block with a [`SignedSeal`]
//!   whose claim is the slot.
//! - **Missed slots and voting out.** A slot is missed when its scheduled producer made no
//!   block in it (it was offline). The schedule is played slot by slot ([`DposRun::advance_to`])
//!   only for slots that have started and ended, so whether a slot was produced is known
//!   when it is played. The tally of missed turns, and the vote-out it leads to, are common
//!   knowledge of the stake holders here (they are not read from any one node's chain): a
//!   partitioned producer still produces on its side, so a partition causes no missed
//!   slots.
//! - **Proof.** Every node checks a block's seal ([`DposRules::check`]): a known
//!   stakeholder, a slot after the parent's and started by the node's clock, the producer
//!   the schedule names for that slot (else `not-scheduled-producer`), and the ed25519
//!   signature (else `bad-block-signature`). Checking costs one signature verification.
//! - **Irreversibility.** Each block's last irreversible block (LIB) under the one-stage
//!   rule is computed once, when the block is stored ([`DposRun::note_block`]), and fork
//!   choice never switches to a chain that forks below the node's LIB.

use std::collections::BTreeSet;

use thiserror::Error;

use super::dpos::{Candidate, Dpos, Schedule, two_thirds_plus};
use super::seal::{SIGNATURE_VERIFY_COST, SignedSeal};
use super::{ConsensusKind, Rule};
use crate::chain::block::Header;
use crate::chain::{BlockId, BlockStore, RejectReason};
use crate::id::NodeId;
use crate::time::{SimDuration, SimTime};

/// The tag a DPoS producer signs with its claim.
pub const DPOS_TAG: &[u8] = b"forksim-dpos-v1";

/// What every node of a `dpos` run agrees on: slot length, schedule shape and every
/// candidate's node and public signing key.
#[derive(Clone, Debug)]
pub struct DposRules {
    /// Fork choice (longest above the LIB) and finality (one-stage 2/3).
    pub rule: Rule,
    /// Slot length.
    pub slot: SimDuration,
    /// N, producers per round.
    pub producers: u32,
    /// Blocks per turn.
    pub blocks_per_turn: u32,
    /// Candidates' nodes (candidate `k` is `nodes[k]`).
    nodes: Vec<NodeId>,
    /// Candidates' public signing keys.
    keys: Vec<[u8; 32]>,
    /// Per node: its candidate, or `u32::MAX`.
    candidate_of: Vec<u32>,
}

/// Why a DPoS block's seal is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DposSealError {
    /// The block carries no seal.
    #[error("the block carries no producer seal")]
    Missing,
    /// The producer is no candidate.
    #[error("node {0} is not a candidate")]
    UnknownProducer(NodeId),
    /// The slot is not after the parent's.
    #[error("slot {slot} is not after the parent's slot {parent}")]
    SlotNotAfterParent {
        /// The claimed slot.
        slot: u64,
        /// The parent's slot.
        parent: u64,
    },
    /// The slot has not started by the checking node's clock.
    #[error("slot {0} has not started yet")]
    FutureSlot(u64),
    /// Another producer has the slot.
    #[error("slot {slot} belongs to node {scheduled}, not node {producer}")]
    NotScheduled {
        /// The slot.
        slot: u64,
        /// Who signed.
        producer: NodeId,
        /// Who the schedule names.
        scheduled: NodeId,
    },
    /// The signature does not verify.
    #[error("the producer's signature does not verify")]
    Signature,
}

impl DposSealError {
    /// The reason a node counts.
    pub fn reject_reason(&self) -> RejectReason {
        match self {
            DposSealError::Signature => RejectReason::BadBlockSignature,
            _ => RejectReason::NotScheduledProducer,
        }
    }
}

impl DposRules {
    /// Rules for candidates on `nodes` with public `keys` (same order), in a run of
    /// `node_count` nodes.
    pub fn new(
        slot: SimDuration,
        producers: u32,
        blocks_per_turn: u32,
        nodes: Vec<NodeId>,
        keys: Vec<[u8; 32]>,
        node_count: usize,
    ) -> DposRules {
        let mut candidate_of = vec![u32::MAX; node_count];
        for (k, n) in nodes.iter().enumerate() {
            candidate_of[n.index()] = k as u32;
        }
        DposRules {
            rule: Rule::for_kind(ConsensusKind::Dpos, 0, 0),
            slot,
            producers,
            blocks_per_turn,
            nodes,
            keys,
            candidate_of,
        }
    }

    /// Modelled time a node spends on a seal: one signature verification.
    pub fn seal_cost(&self) -> SimDuration {
        SIGNATURE_VERIFY_COST
    }

    /// When `slot` starts: (slot + 1) slot lengths after genesis.
    pub fn slot_start(&self, slot: u64) -> SimTime {
        SimTime(self.slot.0.saturating_mul(slot + 1))
    }

    /// The first slot that starts after `now`.
    pub fn next_slot_after(&self, now: SimTime) -> u64 {
        now.0 / self.slot.0
    }

    /// The candidate of `node`, if it holds stake.
    pub fn candidate(&self, node: NodeId) -> Option<Candidate> {
        match self.candidate_of.get(node.index()) {
            Some(&c) if c != u32::MAX => Some(Candidate(c)),
            _ => None,
        }
    }

    /// The node of `candidate`.
    pub fn node_of(&self, candidate: Candidate) -> NodeId {
        self.nodes[candidate.0 as usize]
    }

    /// Every node's check of `block`'s seal (see the module docs), at `now`.
    ///
    /// # Errors
    ///
    /// The first check that fails.
    pub fn check(
        &self,
        run: &mut DposRun,
        seals: &super::seal::Seals,
        store: &BlockStore,
        block: BlockId,
        now: SimTime,
    ) -> Result<(), DposSealError> {
        let seal = seals.signed(block).ok_or(DposSealError::Missing)?;
        let candidate =
            self.candidate(seal.producer).ok_or(DposSealError::UnknownProducer(seal.producer))?;
        let slot = seal.claim;
        let parent = store.get(block).parent.expect("genesis is never relayed");
        if let Some(p) = seals.signed(parent)
            && slot <= p.claim
        {
            return Err(DposSealError::SlotNotAfterParent { slot, parent: p.claim });
        }
        if self.slot_start(slot) > now {
            return Err(DposSealError::FutureSlot(slot));
        }
        let scheduled = run.producer_of(slot);
        if scheduled != candidate {
            let scheduled = self.node_of(scheduled);
            return Err(DposSealError::NotScheduled { slot, producer: seal.producer, scheduled });
        }
        if !seal.verifies(
            &store.get(block).block.header,
            DPOS_TAG,
            &self.keys[candidate.0 as usize],
        ) {
            return Err(DposSealError::Signature);
        }
        Ok(())
    }

    /// Seals `header` for `producer` in `slot`.
    pub fn seal(
        header: &Header,
        producer: NodeId,
        slot: u64,
        key: &crate::chain::keys::KeyPair,
    ) -> SignedSeal {
        SignedSeal::sign(header, DPOS_TAG, producer, slot, key)
    }
}

/// The schedule of a run as it unfolds, and each block's LIB height.
#[derive(Clone, Debug)]
pub struct DposRun {
    dpos: Dpos,
    /// Candidates' nodes.
    nodes: Vec<NodeId>,
    producers: u32,
    /// Every round's schedule so far (index = round).
    history: Vec<Schedule>,
    /// Per slot: whether its scheduled producer made a block in it.
    produced: Vec<bool>,
    /// Per block id: the height of the LIB of the chain ending at it (0: genesis or none).
    lib: Vec<u32>,
    /// Slots played and missed that [`DposRun::take_missed`] has not handed out yet:
    /// (slot, scheduled producer's node).
    missed: Vec<(u64, NodeId)>,
}

/// The height of the last irreversible block of the chain ending at `block`, with
/// `producers` per round, when it is known to be at least `floor`: walking down from
/// `block`, the first height at which ⌊2N/3⌋ + 1 distinct producers have built the blocks
/// from there up, or `floor` if the walk reaches it first.
pub fn lib_above(store: &BlockStore, block: BlockId, producers: u32, floor: u32) -> u32 {
    let needed = two_thirds_plus(producers) as usize;
    let mut seen: BTreeSet<NodeId> = BTreeSet::new();
    let mut b = block;
    loop {
        let e = store.get(b);
        if e.height <= floor {
            return floor;
        }
        if let Some(m) = e.meta.miner {
            seen.insert(m);
        }
        if seen.len() >= needed {
            return e.height;
        }
        b = e.parent.expect("above genesis");
    }
}

impl DposRun {
    /// The run of `dpos` (round 0 elected) over candidates on `nodes`, with `producers` per
    /// round.
    pub fn new(dpos: Dpos, nodes: Vec<NodeId>, producers: u32) -> DposRun {
        let history = vec![dpos.schedule().clone()];
        DposRun {
            dpos,
            nodes,
            producers,
            history,
            produced: Vec::new(),
            lib: vec![0],
            missed: Vec::new(),
        }
    }

    /// Plays every slot before `slot` (each one's producer produced iff it made a block).
    /// Call only once `slot` has started, so every earlier slot's block is known.
    pub fn advance_to(&mut self, slot: u64) {
        while self.dpos.next_slot() < slot {
            let s = self.dpos.next_slot() as usize;
            let produced = self.produced.get(s).copied().unwrap_or(false);
            let mut producer = None;
            self.dpos
                .step(|p| {
                    producer = Some(p);
                    produced
                })
                .expect("an election never lacks candidates");
            if let Some(p) = producer.filter(|_| !produced) {
                self.missed.push((s as u64, self.nodes[p.0 as usize]));
            }
            if self.dpos.schedule().round as usize == self.history.len() {
                self.history.push(self.dpos.schedule().clone());
            }
        }
    }

    /// The scheduled producer of `slot` (which must have started).
    pub fn producer_of(&mut self, slot: u64) -> Candidate {
        self.advance_to(slot);
        let round = slot / self.history[0].slots();
        self.history[round as usize].producer_of(slot).expect("the round's schedule has it")
    }

    /// The slots found missed since the last call, oldest first: (slot, the node that was
    /// scheduled to produce it). For the narration; the counts do not depend on it.
    pub fn take_missed(&mut self) -> Vec<(u64, NodeId)> {
        std::mem::take(&mut self.missed)
    }

    /// Notes that `slot`'s producer made a block in it.
    pub fn note_produced(&mut self, slot: u64) {
        let s = slot as usize;
        if self.produced.len() <= s {
            self.produced.resize(s + 1, false);
        }
        self.produced[s] = true;
    }

    /// Computes and keeps the LIB height of the chain ending at `block`, just stored: the
    /// newest block on it that, with the blocks above it, has at least ⌊2N/3⌋ + 1 distinct
    /// producers. The LIB never moves back along a chain, so the walk stops at the parent's.
    pub fn note_block(&mut self, store: &BlockStore, block: BlockId) {
        let parent_lib = store.get(block).parent.map_or(0, |p| self.lib_height(p));
        let lib = lib_above(store, block, self.producers, parent_lib);
        if self.lib.len() <= block.index() {
            self.lib.resize(block.index() + 1, 0);
        }
        self.lib[block.index()] = lib;
    }

    /// The LIB height of the chain ending at `block`.
    pub fn lib_height(&self, block: BlockId) -> u32 {
        self.lib.get(block.index()).copied().unwrap_or(0)
    }

    /// Every round's schedule so far.
    pub fn schedules(&self) -> &[Schedule] {
        &self.history
    }

    /// Slots played, and of them those missed.
    pub fn slots_and_missed(&self) -> (u64, u64) {
        (self.dpos.next_slot(), self.dpos.missed_slots())
    }

    /// Candidates voted out so far.
    pub fn voted_out(&self) -> &BTreeSet<Candidate> {
        self.dpos.voted_out()
    }

    /// The nodes of the candidates voted out so far, by node id.
    pub fn voted_out_nodes(&self) -> Vec<u32> {
        self.voted_out().iter().map(|c| self.nodes[c.0 as usize].0).collect()
    }
}
