//! What a slot block carries in place of proof of work, and every node's check of it.
//!
//! A `pos-slot` block is a normal block (header, coinbase, body) with a [`Seal`]: the
//! producer's id, its leader claim for the slot (the VRF output and proof of
//! [`SlotLottery::try_lead`]) and the producer's ed25519 signature over the header
//! and the claim. The seal travels with the block: it adds [`SLOT_SEAL_WIRE_BYTES`] to
//! every message that carries the header (see [`Seal::wire_bytes`]).
//!
//! Every node that receives the block checks, in [`SlotRules::check`]:
//!
//! 1. the block has a seal by a known stakeholder;
//! 2. its slot comes after the parent's slot (at most one block per slot on a chain) and
//!    has started by the node's clock;
//! 3. the VRF proof verifies for the producer's VRF key on (η, slot) and the output is
//!    below the producer's threshold φ(σ) (a real schnorrkel verification);
//! 4. the signature verifies for the producer's signing key (a real ed25519 verification).
//!
//! A failure of 1 to 3 is [`SealError`] other than `Signature`, counted as
//! `bad-leader-claim`; a failure of 4 is `bad-block-signature`. The modelled time of both
//! checks is [`VRF_VERIFY_COST`] plus [`SIGNATURE_VERIFY_COST`], added to the block's
//! validation time at every node.
//!
//! The nonce η the claim is checked against is the one of the block's own chain and epoch
//! ([`super::epochs`]): η₀ of the run's seed in epoch 0, then evolved from the VRF outputs
//! along the chain.

use std::sync::Arc;

use thiserror::Error;

use super::Rule;
use super::epochs::{EpochClock, EpochNonces};
use super::praos::{EpochNonce, LeaderProof, PraosError, SlotLottery};
use super::vrf::{VrfKey, VrfPublic};
use crate::chain::block::Header;
use crate::chain::keys::{KeyPair, verify_signature};
use crate::chain::{BlockId, RejectReason};
use crate::id::NodeId;
use crate::time::{SimDuration, SimTime};

/// Modelled time of one VRF proof verification: the median of
/// `cargo bench --bench micro -- vrf` on an idle machine.
pub const VRF_VERIFY_COST: SimDuration = SimDuration::from_micros(148);
/// Modelled time of one ed25519 signature verification (about 35 µs for ed25519-dalek on
/// one core without batching).
pub const SIGNATURE_VERIFY_COST: SimDuration = SimDuration::from_micros(35);

/// Bytes a slot seal adds to a block on the wire: producer id (4), slot (8), VRF output
/// point (32), VRF proof (64), ed25519 signature (64). The hashed VRF output is recomputed
/// by the verifier from the point, so it is not sent.
pub const SLOT_SEAL_WIRE_BYTES: u64 = 4 + 8 + 32 + 64 + 64;

/// A slot block's producer, claim and signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seal {
    /// The producing node.
    pub producer: NodeId,
    /// Its leader claim for the slot.
    pub claim: LeaderProof,
    /// Its ed25519 signature over [`Seal::message`].
    pub signature: [u8; 64],
}

impl Seal {
    /// What the producer signs: the 80-byte header, its id and the claim (slot, VRF output
    /// point and proof).
    pub fn message(header: &Header, producer: NodeId, claim: &LeaderProof) -> Vec<u8> {
        let mut m = Vec::with_capacity(80 + 4 + 8 + 32 + 32 + 64);
        m.extend_from_slice(&header.serialize());
        m.extend_from_slice(&producer.0.to_le_bytes());
        m.extend_from_slice(&claim.slot.to_le_bytes());
        m.extend_from_slice(&claim.output.bytes);
        m.extend_from_slice(&claim.output.preout);
        m.extend_from_slice(&claim.proof.0);
        m
    }

    /// Seals `header` for `producer` with its claim, signed with `key`.
    pub fn sign(header: &Header, producer: NodeId, claim: LeaderProof, key: &KeyPair) -> Seal {
        let signature = key.sign(&Seal::message(header, producer, &claim));
        Seal { producer, claim, signature }
    }

    /// Bytes the seal adds to a message carrying the block's header.
    pub fn wire_bytes(&self) -> u64 {
        SLOT_SEAL_WIRE_BYTES
    }
}

/// A stakeholder as every node knows it: its node and public keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Party {
    /// The node.
    pub node: NodeId,
    /// Its VRF key.
    pub vrf: VrfPublic,
    /// Its block-signing key.
    pub signing: [u8; 32],
}

/// A stakeholder's secret keys (held by its node only).
pub struct StakeKeys {
    /// Its VRF key.
    pub vrf: VrfKey,
    /// Its block-signing key.
    pub signing: KeyPair,
}

impl StakeKeys {
    /// Keys drawn from a node's election stream: 32 bytes for the VRF key, then 32 for the
    /// signing key.
    pub fn from_rng<R: rand::Rng + ?Sized>(rng: &mut R) -> StakeKeys {
        let vrf = VrfKey::from_rng(rng);
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        StakeKeys { vrf, signing: KeyPair::from_seed(&seed) }
    }
}

/// Why a seal is refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SealError {
    /// The block carries no seal.
    #[error("the block carries no leader claim")]
    Missing,
    /// The producer holds no stake.
    #[error("node {0} holds no stake")]
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
    /// The VRF proof fails or the output is not below the producer's threshold.
    #[error(transparent)]
    Leader(#[from] PraosError),
    /// The producer's signature does not verify.
    #[error("the producer's signature does not verify")]
    Signature,
}

impl SealError {
    /// The reason a node counts.
    pub fn reject_reason(&self) -> RejectReason {
        match self {
            SealError::Signature => RejectReason::BadBlockSignature,
            _ => RejectReason::BadLeaderClaim,
        }
    }
}

/// What every node of a `pos-slot` run agrees on: the rule, slots, the lottery and every
/// stakeholder's public keys.
#[derive(Clone, Debug)]
pub struct SlotRules {
    /// Fork choice and finality.
    pub rule: Rule,
    /// Slot length.
    pub slot: SimDuration,
    /// φ(σ) per party.
    pub lottery: SlotLottery,
    /// Epoch length and η₀ (the nonces of later epochs depend on the chain: see
    /// [`super::epochs`]).
    pub clock: EpochClock,
    /// Stakeholders, in node order (party `i` is `parties[i]`).
    pub parties: Vec<Party>,
    /// Per node: its party, or `u32::MAX`.
    party_of: Vec<u32>,
    /// Modelled time a node spends on a seal.
    pub seal_cost: SimDuration,
    /// How a node syncing from genesis chooses its chain ([`super::genesis`]).
    pub sync: super::genesis::SyncRule,
    /// What the lottery runs on: the epoch nonce or the parent block
    /// ([`super::leader_input`]).
    pub leader_input: super::leader_input::LeaderInput,
}

impl SlotRules {
    /// Rules for `parties` (in node order, `nodes` nodes in all).
    pub fn new(
        rule: Rule,
        slot: SimDuration,
        lottery: SlotLottery,
        clock: EpochClock,
        parties: Vec<Party>,
        nodes: usize,
    ) -> SlotRules {
        let mut party_of = vec![u32::MAX; nodes];
        for (i, p) in parties.iter().enumerate() {
            party_of[p.node.index()] = i as u32;
        }
        SlotRules {
            rule,
            slot,
            lottery,
            clock,
            parties,
            party_of,
            seal_cost: VRF_VERIFY_COST + SIGNATURE_VERIFY_COST,
            sync: super::genesis::SyncRule::Longest,
            leader_input: super::leader_input::LeaderInput::EpochNonce,
        }
    }

    /// The same rules with the lottery run on `input`.
    pub fn with_leader_input(mut self, input: super::leader_input::LeaderInput) -> SlotRules {
        self.leader_input = input;
        self
    }

    /// The randomness a claim for a child of `parent` in `slot` is made and checked on
    /// ([`super::leader_input::lottery_input`] under these rules).
    pub fn lottery_input(
        &self,
        nonces: &mut EpochNonces,
        seals: &Seals,
        store: &crate::chain::BlockStore,
        parent: BlockId,
        slot: u64,
    ) -> EpochNonce {
        super::leader_input::lottery_input(
            self.leader_input,
            &self.clock,
            nonces,
            seals,
            store,
            parent,
            slot,
        )
    }

    /// The same rules with `sync` for nodes syncing from genesis.
    pub fn with_sync(mut self, sync: super::genesis::SyncRule) -> SlotRules {
        self.sync = sync;
        self
    }

    /// When `slot` starts (slot 0 at time 0).
    pub fn slot_start(&self, slot: u64) -> SimTime {
        SimTime(self.slot.0.saturating_mul(slot))
    }

    /// The party of `node`, if it holds stake.
    pub fn party(&self, node: NodeId) -> Option<usize> {
        match self.party_of.get(node.index()) {
            Some(&p) if p != u32::MAX => Some(p as usize),
            _ => None,
        }
    }

    /// Every node's check of a block's seal (see the module docs); `parent_slot` is the
    /// parent's slot (0 for genesis), `nonce` the nonce of the block's chain for the epoch
    /// of its claimed slot ([`super::epochs::EpochNonces::for_child`]), `now` the checking
    /// node's clock.
    ///
    /// # Errors
    ///
    /// The first check that fails, as a [`SealError`].
    pub fn check(
        &self,
        seal: Option<&Seal>,
        parent_slot: u64,
        nonce: &EpochNonce,
        header: &Header,
        now: SimTime,
    ) -> Result<(), SealError> {
        self.check_in(&self.lottery, seal, parent_slot, nonce, header, now)
    }

    /// [`SlotRules::check`] against `lottery`, the stake snapshot of the block's own chain
    /// when blocks pay rewards ([`super::rewards::StakeSnapshots::for_child`]).
    ///
    /// # Errors
    ///
    /// The first check that fails, as a [`SealError`].
    pub fn check_in(
        &self,
        lottery: &SlotLottery,
        seal: Option<&Seal>,
        parent_slot: u64,
        nonce: &EpochNonce,
        header: &Header,
        now: SimTime,
    ) -> Result<(), SealError> {
        let seal = seal.ok_or(SealError::Missing)?;
        let party = self.party(seal.producer).ok_or(SealError::UnknownProducer(seal.producer))?;
        let slot = seal.claim.slot;
        if slot <= parent_slot {
            return Err(SealError::SlotNotAfterParent { slot, parent: parent_slot });
        }
        if self.slot_start(slot) > now {
            return Err(SealError::FutureSlot(slot));
        }
        let keys = &self.parties[party];
        lottery.verify_leader(party, &keys.vrf, nonce, &seal.claim)?;
        let message = Seal::message(header, seal.producer, &seal.claim);
        if !verify_signature(&message, &keys.signing, &seal.signature) {
            return Err(SealError::Signature);
        }
        Ok(())
    }
}

/// A signed seal without a VRF claim: the producer, one number it claims (DPoS: the slot
/// of its turn; PoET: its wait in microseconds; coin-age: the kernel's second) and its
/// ed25519 signature over the header, the producer, a kind tag and the claim. Every node
/// checks the signature against the producer's registered key; what the claim must satisfy
/// is the kind's own check (`consensus::dpos_run`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedSeal {
    /// The producing node.
    pub producer: NodeId,
    /// The kind's claim.
    pub claim: u64,
    /// Its ed25519 signature over [`SignedSeal::message`].
    pub signature: [u8; 64],
}

/// Bytes a [`SignedSeal`] adds to a block on the wire: producer id (4), claim (8),
/// ed25519 signature (64).
pub const SIGNED_SEAL_WIRE_BYTES: u64 = 4 + 8 + 64;

impl SignedSeal {
    /// What the producer signs: the 80-byte header, a tag naming the kind (so a seal of one
    /// kind is never valid for another), its id and the claim.
    pub fn message(header: &Header, tag: &[u8], producer: NodeId, claim: u64) -> Vec<u8> {
        let mut m = Vec::with_capacity(80 + tag.len() + 4 + 8);
        m.extend_from_slice(&header.serialize());
        m.extend_from_slice(tag);
        m.extend_from_slice(&producer.0.to_le_bytes());
        m.extend_from_slice(&claim.to_le_bytes());
        m
    }

    /// Seals `header` for `producer` with `claim`, signed with `key`.
    pub fn sign(
        header: &Header,
        tag: &[u8],
        producer: NodeId,
        claim: u64,
        key: &KeyPair,
    ) -> SignedSeal {
        let signature = key.sign(&SignedSeal::message(header, tag, producer, claim));
        SignedSeal { producer, claim, signature }
    }

    /// Whether the signature verifies for `public` (a real ed25519 verification).
    pub fn verifies(&self, header: &Header, tag: &[u8], public: &[u8; 32]) -> bool {
        let message = SignedSeal::message(header, tag, self.producer, self.claim);
        verify_signature(&message, public, &self.signature)
    }
}

/// A block's seal, of either shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AnySeal {
    Slot(Seal),
    Signed(SignedSeal),
}

/// The seals of a run's blocks, by block id (none for genesis and PoW blocks).
#[derive(Clone, Debug, Default)]
pub struct Seals {
    by_block: Vec<Option<Box<AnySeal>>>,
}

impl Seals {
    /// The slot seal of `block`, if it has one.
    pub fn get(&self, block: BlockId) -> Option<&Seal> {
        match self.any(block)? {
            AnySeal::Slot(s) => Some(s),
            AnySeal::Signed(_) => None,
        }
    }

    /// The signed seal (DPoS, PoET, coin-age) of `block`, if it has one.
    pub fn signed(&self, block: BlockId) -> Option<&SignedSeal> {
        match self.any(block)? {
            AnySeal::Signed(s) => Some(s),
            AnySeal::Slot(_) => None,
        }
    }

    fn any(&self, block: BlockId) -> Option<&AnySeal> {
        self.by_block.get(block.index()).and_then(|s| s.as_deref())
    }

    /// The slot of `block` (0 for a block without a slot seal, such as genesis).
    pub fn slot_of(&self, block: BlockId) -> u64 {
        self.get(block).map_or(0, |s| s.claim.slot)
    }

    /// Bytes `block`'s seal adds to a message carrying its header (0 without a seal).
    pub fn wire_bytes(&self, block: BlockId) -> u64 {
        match self.any(block) {
            None => 0,
            Some(AnySeal::Slot(s)) => s.wire_bytes(),
            Some(AnySeal::Signed(_)) => SIGNED_SEAL_WIRE_BYTES,
        }
    }

    /// Records `block`'s seal.
    pub fn set(&mut self, block: BlockId, seal: Seal) {
        self.put(block, AnySeal::Slot(seal));
    }

    /// Records `block`'s signed seal.
    pub fn set_signed(&mut self, block: BlockId, seal: SignedSeal) {
        self.put(block, AnySeal::Signed(seal));
    }

    fn put(&mut self, block: BlockId, seal: AnySeal) {
        if self.by_block.len() <= block.index() {
            self.by_block.resize(block.index() + 1, None);
        }
        self.by_block[block.index()] = Some(Box::new(seal));
    }

    /// Mutable access, for tests that forge a seal.
    #[cfg(test)]
    pub fn get_mut(&mut self, block: BlockId) -> Option<&mut Seal> {
        match self.by_block.get_mut(block.index()).and_then(|s| s.as_deref_mut())? {
            AnySeal::Slot(s) => Some(s),
            AnySeal::Signed(_) => None,
        }
    }
}

/// Slot outcomes of a run: how many leaders each slot had, and each node's leaderships.
#[derive(Clone, Debug, Default)]
pub struct SlotStats {
    /// Per slot (index = slot): the stakeholders that evaluated it and the leaders among
    /// them.
    pub by_slot: Vec<(u16, u16)>,
    /// Per node: slots it led.
    pub led: Vec<u64>,
    /// Per node: slots it evaluated.
    pub evaluated: Vec<u64>,
}

impl SlotStats {
    /// Notes that `node` evaluated `slot` and whether it led.
    pub fn note(&mut self, node: NodeId, slot: u64, led: bool) {
        let s = slot as usize;
        if self.by_slot.len() <= s {
            self.by_slot.resize(s + 1, (0, 0));
        }
        let entry = &mut self.by_slot[s];
        entry.0 = entry.0.saturating_add(1);
        entry.1 = entry.1.saturating_add(u16::from(led));
        let n = node.index();
        if self.led.len() <= n {
            self.led.resize(n + 1, 0);
            self.evaluated.resize(n + 1, 0);
        }
        self.led[n] += u64::from(led);
        self.evaluated[n] += 1;
    }

    /// Slots evaluated by at least one stakeholder, and those of them without a leader.
    pub fn slots_and_empty(&self) -> (u64, u64) {
        let evaluated = self.by_slot.iter().filter(|(e, _)| *e > 0);
        let (mut slots, mut empty) = (0, 0);
        for &(_, leaders) in evaluated {
            slots += 1;
            empty += u64::from(leaders == 0);
        }
        (slots, empty)
    }
}

/// A run's stake state shared by every node: the slot rules (read-only) live in the node
/// settings; seals and slot counts grow here.
#[derive(Clone, Debug, Default)]
pub struct StakeState {
    /// Seals by block.
    pub seals: Seals,
    /// Slot outcomes.
    pub slots: SlotStats,
    /// Epoch nonces along every chain, in `pos-slot` runs.
    pub nonces: EpochNonces,
    /// Stake snapshots along every chain (block rewards), in `pos-slot` runs.
    pub rewards: Option<super::rewards::StakeSnapshots>,
    /// The DPoS schedule as it unfolds, in `dpos` runs.
    pub dpos: Option<super::dpos_run::DposRun>,
    /// Stake outputs along every chain, in `pos-coinage` runs.
    pub coinage: Option<super::coinage_run::CoinageRun>,
    /// Each block's z-test verdict, in `poet` runs.
    pub poet: Option<super::poet_run::PoetRun>,
    /// Refusals of longer candidates and deep switches, in `pos-slot` runs.
    pub fork_choice: super::genesis::ForkChoiceLog,
    /// What a long-range attacker did, in `pos-slot` runs with one.
    pub long_range: Option<super::long_range::LongRangeTrace>,
    /// What a nothing-at-stake attacker did, in `pos-slot` runs with one.
    pub nothing_at_stake: Option<Box<super::nothing_at_stake::NothingAtStakeTrace>>,
}

/// The rules, shared read-only by every node.
pub type SharedSlotRules = Arc<SlotRules>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::CompactTarget;
    use crate::chain::hash::BlockHash;
    use crate::consensus::ConsensusKind;
    use crate::rng::{Purpose, RngStreams};

    fn header(time: u32) -> Header {
        Header {
            version: 0x2000_0000,
            prev_blockhash: BlockHash::ZERO,
            merkle_root: [7; 32],
            time,
            bits: CompactTarget(0x207f_ffff),
            nonce: 0,
        }
    }

    /// Two parties, f = 1/2 each way; a found claim checks, and every forgery is refused
    /// with its own reason.
    #[test]
    fn claims_verify_and_forgeries_are_refused_with_their_reason() {
        let streams = RngStreams::new(5);
        let keys: Vec<StakeKeys> = (0..2)
            .map(|i| StakeKeys::from_rng(&mut streams.stream(Purpose::Election, i)))
            .collect();
        let parties: Vec<Party> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Party {
                node: NodeId(i as u32),
                vrf: k.vrf.public(),
                signing: k.signing.pubkey(),
            })
            .collect();
        let lottery = SlotLottery::new(0.5, &[1, 1]).unwrap();
        let rules = SlotRules::new(
            Rule::for_kind(ConsensusKind::PosSlot, 0, 5),
            SimDuration::from_secs(1),
            lottery.clone(),
            EpochClock { genesis: EpochNonce::genesis(5), epoch_slots: 1_000 },
            parties,
            3,
        );
        let nonce = rules.clock.genesis;
        let slot = (1..).find(|&s| lottery.try_lead(0, &keys[0].vrf, &nonce, s).is_some()).unwrap();
        let claim = lottery.try_lead(0, &keys[0].vrf, &nonce, slot).unwrap();
        let h = header(100);
        let seal = Seal::sign(&h, NodeId(0), claim, &keys[0].signing);
        let now = rules.slot_start(slot);
        assert_eq!(rules.check(Some(&seal), slot - 1, &nonce, &h, now), Ok(()));
        let reason = |r: Result<(), SealError>| r.unwrap_err().reject_reason();
        // Another header under the same signature.
        assert_eq!(
            reason(rules.check(Some(&seal), 0, &nonce, &header(101), now)),
            RejectReason::BadBlockSignature
        );
        // Claimed by node 1, whose key did not make the proof.
        let stolen = Seal::sign(&h, NodeId(1), claim, &keys[1].signing);
        assert_eq!(
            reason(rules.check(Some(&stolen), 0, &nonce, &h, now)),
            RejectReason::BadLeaderClaim
        );
        // Same slot as the parent, a future slot, no stake, no seal.
        assert!(matches!(
            rules.check(Some(&seal), slot, &nonce, &h, now),
            Err(SealError::SlotNotAfterParent { .. })
        ));
        let early = SimTime(rules.slot_start(slot).0 - 1);
        assert_eq!(
            rules.check(Some(&seal), 0, &nonce, &h, early),
            Err(SealError::FutureSlot(slot))
        );
        let outsider = Seal::sign(&h, NodeId(2), claim, &keys[0].signing);
        assert_eq!(
            rules.check(Some(&outsider), 0, &nonce, &h, now),
            Err(SealError::UnknownProducer(NodeId(2)))
        );
        assert_eq!(reason(rules.check(None, 0, &nonce, &h, now)), RejectReason::BadLeaderClaim);
        // A corrupted proof byte.
        let mut bent = seal;
        bent.claim.proof.0[3] ^= 1;
        assert!(matches!(rules.check(Some(&bent), 0, &nonce, &h, now), Err(SealError::Leader(_))));
    }
}
