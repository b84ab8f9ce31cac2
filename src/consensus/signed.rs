//! The rules of the kinds whose blocks carry a [`SignedSeal`] (producer, claim, ed25519
//! signature) rather than a VRF claim: what every node needs to check such a block and to
//! choose between chains. `pos-slot` keeps its own [`super::seal::SlotRules`].

use super::Rule;
use super::coinage_run::CoinageRules;
use super::dpos_run::DposRules;
use super::poet_run::PoetRules;
use super::seal::{SignedSeal, StakeState};
use crate::chain::{BlockId, BlockStore, RejectReason};
use crate::time::{SimDuration, SimTime};

/// A signed-seal kind's rules, shared read-only by every node.
#[derive(Clone, Debug)]
pub enum SignedRules {
    /// Delegated proof of stake.
    Dpos(DposRules),
    /// Coin-age proof of stake.
    Coinage(CoinageRules),
    /// Proof of elapsed time.
    Poet(PoetRules),
}

impl SignedRules {
    /// Fork choice and finality.
    pub fn rule(&self) -> &Rule {
        match self {
            SignedRules::Dpos(r) => &r.rule,
            SignedRules::Coinage(r) => &r.rule,
            SignedRules::Poet(r) => &r.rule,
        }
    }

    /// Modelled time a node spends checking a block's seal.
    pub fn seal_cost(&self) -> SimDuration {
        match self {
            SignedRules::Dpos(r) => r.seal_cost(),
            SignedRules::Coinage(r) => r.seal_cost(),
            SignedRules::Poet(r) => r.seal_cost(),
        }
    }

    /// Every node's check of `block`'s seal at `now`.
    ///
    /// # Errors
    ///
    /// The reason the node counts.
    pub fn check(
        &self,
        stake: &mut StakeState,
        store: &BlockStore,
        block: BlockId,
        now: SimTime,
    ) -> Result<(), RejectReason> {
        match self {
            SignedRules::Dpos(r) => {
                let run = stake.dpos.as_mut().expect("dpos runs keep their schedule");
                r.check(run, &stake.seals, store, block, now).map_err(|e| e.reject_reason())
            }
            SignedRules::Coinage(r) => {
                let run = stake.coinage.as_ref().expect("coin-age runs keep their stake");
                r.check(run, &stake.seals, store, block, now).map_err(|e| e.reject_reason())
            }
            SignedRules::Poet(r) => r.check(stake, store, block).map_err(|e| e.reject_reason()),
        }
    }

    /// The height below which a node on `tip` never switches (the LIB under DPoS).
    pub fn finalized_height(&self, stake: &StakeState, tip: BlockId) -> u64 {
        match self {
            SignedRules::Dpos(_) => stake.dpos.as_ref().map_or(0, |d| u64::from(d.lib_height(tip))),
            SignedRules::Coinage(_) | SignedRules::Poet(_) => 0,
        }
    }

    /// The chain trust of the chain ending at `tip`, for kinds whose fork choice weighs
    /// chains rather than counting blocks (coin-age: coin-age consumed).
    pub fn chain_trust(&self, stake: &StakeState, tip: BlockId) -> Option<u128> {
        match self {
            SignedRules::Dpos(_) => None,
            SignedRules::Coinage(_) => stake.coinage.as_ref().map(|c| c.trust(tip)),
            SignedRules::Poet(_) => None,
        }
    }
}

/// Keeps a freshly produced block's seal and what the kind derives from it.
pub fn note_sealed(stake: &mut StakeState, store: &BlockStore, block: BlockId, seal: SignedSeal) {
    stake.seals.set_signed(block, seal);
    if let Some(run) = stake.dpos.as_mut() {
        run.note_produced(seal.claim);
        run.note_block(store, block);
    }
    if let Some(run) = stake.coinage.as_mut() {
        run.note_block(store, block, &seal);
    }
    if let Some(run) = stake.poet.as_mut() {
        run.note_block(store, block);
    }
}
