//! What a `pos-slot` leader lottery is run on: the epoch nonce (Praos) or the parent block
//! (randomness updated per block).
//!
//! The VRF input of a claim is 32 bytes of randomness followed by the slot
//! ([`EpochNonce::slot_input`]). Where the 32 bytes come from decides whether a producer
//! gains anything by trying many blocks in one slot:
//!
//! - [`LeaderInput::EpochNonce`] (`consensus.leader_input = "epoch-nonce"`, the default, as
//!   in Ouroboros Praos): η of the epoch along the block's chain ([`super::epochs`]). Every
//!   block of one chain and epoch gives the same input for a slot, so a party either leads
//!   the slot on all of them or on none: trying every block of a private tree is the same
//!   as trying one.
//! - [`LeaderInput::ParentBlock`] (`"parent-block"`): the hash of the parent the claim
//!   builds on, as in the designs whose randomness is updated with every block (Bagaria et
//!   al., arXiv 1910.02218). A claim on one block says nothing about the same slot on
//!   another, so a party that keeps a tree of blocks has one independent chance per block
//!   and slot: the nothing-at-stake attack (`node::attacker::nothing_at_stake`).
//!
//! Honest nodes lead on their tip with the input of that tip, and every node checks a
//! block's claim against the input of the block's own parent ([`lottery_input`]), so both
//! choices are real verification: a proof made on another parent fails as
//! `bad-leader-claim`.

use super::epochs::{EpochClock, EpochNonces};
use super::praos::EpochNonce;
use super::seal::Seals;
use crate::chain::{BlockId, BlockStore};

/// The randomness a slot claim is made on (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LeaderInput {
    /// η of the epoch along the chain (Praos).
    #[default]
    EpochNonce,
    /// The parent block's hash (randomness updated per block).
    ParentBlock,
}

impl LeaderInput {
    /// Every choice, in the order scenarios list them.
    pub const ALL: [LeaderInput; 2] = [LeaderInput::EpochNonce, LeaderInput::ParentBlock];

    /// The name as written in scenarios and results.
    pub fn name(self) -> &'static str {
        match self {
            LeaderInput::EpochNonce => "epoch-nonce",
            LeaderInput::ParentBlock => "parent-block",
        }
    }

    /// The choice of that name.
    pub fn parse(name: &str) -> Option<LeaderInput> {
        LeaderInput::ALL.into_iter().find(|i| i.name() == name)
    }
}

/// The 32 bytes a claim for a child of `parent` in `slot` is made on: the epoch nonce of
/// `parent`'s chain for the slot's epoch, or `parent`'s hash.
pub fn lottery_input(
    input: LeaderInput,
    clock: &EpochClock,
    nonces: &mut EpochNonces,
    seals: &Seals,
    store: &BlockStore,
    parent: BlockId,
    slot: u64,
) -> EpochNonce {
    match input {
        LeaderInput::EpochNonce => nonces.for_child(clock, seals, store, parent, slot),
        LeaderInput::ParentBlock => EpochNonce(store.get(parent).hash.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::RejectReason;
    use crate::consensus::praos::SlotLottery;
    use crate::consensus::seal::{Party, Seal, SlotRules, StakeKeys};
    use crate::consensus::{ConsensusKind, Rule};
    use crate::id::NodeId;
    use crate::node::testing::{child, store};
    use crate::rng::{Purpose, RngStreams};
    use crate::time::SimDuration;

    /// Two sibling blocks A and B on genesis, one party of stake 1/2 at f = 1/2. Under
    /// `parent-block` a claim made for a child of A verifies against A's input and fails
    /// against B's (another VRF input: `bad-leader-claim`), and A's and B's answers differ
    /// in some slot; under `epoch-nonce` both inputs are the epoch nonce, so the claim
    /// verifies on either parent and every slot has one answer for both.
    #[test]
    fn a_claim_verifies_against_its_own_parent_under_parent_block_only() {
        let (mut blocks, genesis) = store();
        let (a, b) =
            (child(&mut blocks, genesis, NodeId(1)), child(&mut blocks, genesis, NodeId(1)));
        let keys = StakeKeys::from_rng(&mut RngStreams::new(7).stream(Purpose::Election, 0));
        let party =
            Party { node: NodeId(0), vrf: keys.vrf.public(), signing: keys.signing.pubkey() };
        let lottery = SlotLottery::new(0.5, &[1, 1]).unwrap();
        let clock = EpochClock { genesis: EpochNonce::genesis(7), epoch_slots: 1_000 };
        let rules = |input| {
            let rule = Rule::for_kind(ConsensusKind::PosSlot, 0, 5);
            let parties = vec![party, Party { node: NodeId(1), ..party }];
            SlotRules::new(rule, SimDuration::from_secs(1), lottery.clone(), clock, parties, 2)
                .with_leader_input(input)
        };
        let (seals, mut nonces) = (Seals::default(), EpochNonces::default());
        for input in LeaderInput::ALL {
            let rules = rules(input);
            let mut on =
                |parent, slot| rules.lottery_input(&mut nonces, &seals, &blocks, parent, slot);
            let slot = (1..)
                .find(|&s| lottery.try_lead(0, &keys.vrf, &on(a, s), s).is_some())
                .expect("a slot it leads on A");
            let claim = lottery.try_lead(0, &keys.vrf, &on(a, slot), slot).unwrap();
            let header = blocks.get(a).block.header;
            let seal = Seal::sign(&header, NodeId(0), claim, &keys.signing);
            let now = rules.slot_start(slot);
            assert_eq!(rules.check(Some(&seal), 0, &on(a, slot), &header, now), Ok(()));
            let on_b = rules.check(Some(&seal), 0, &on(b, slot), &header, now);
            let differs = (1..200).any(|s| {
                let mut lead = |p| lottery.try_lead(0, &keys.vrf, &on(p, s), s).is_some();
                lead(a) != lead(b)
            });
            match input {
                LeaderInput::ParentBlock => {
                    assert_eq!(on_b.unwrap_err().reject_reason(), RejectReason::BadLeaderClaim);
                    assert!(differs, "independent answers per parent");
                }
                LeaderInput::EpochNonce => {
                    assert_eq!(on_b, Ok(()));
                    assert!(!differs, "one answer per slot");
                }
            }
        }
    }

    #[test]
    fn names_round_trip_and_the_default_is_praos() {
        for input in LeaderInput::ALL {
            assert_eq!(LeaderInput::parse(input.name()), Some(input));
        }
        assert_eq!(LeaderInput::parse("parent"), None);
        assert_eq!(LeaderInput::default(), LeaderInput::EpochNonce);
    }
}
