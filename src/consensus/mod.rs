//! The consensus seam: the four things a consensus rule decides, so that proof of work, slot
//! and coin-age proof of stake, delegated proof of stake and proof of elapsed time can run
//! on the same network, relay, payments and results.
//!
//! DESIGN.md's node seam says that consensus families differ only in four answers:
//!
//! 1. **Leader election**: who may produce the next block, and when.
//! 2. **Proof**: what in a block shows that its producer was entitled to make it, checked by
//!    every node that receives it.
//! 3. **Fork choice**: which of two chains a node adopts.
//! 4. **Finality**: when a block can no longer be reverted under the rule.
//!
//! [`ConsensusKind`] names a family (`[consensus] kind` in a scenario). [`Rule`] holds what
//! is common in shape (the fork choice and the finality rule, both implemented here, as
//! pure functions of chain summaries), and each family's leader election and proof live in
//! their own module:
//!
//! | kind | leader election | proof | fork choice | finality |
//! |---|---|---|---|---|
//! | `pow` | exponential clock per miner, rate ∝ hash power (`node::miner`) | SHA-256d header ≤ target | most work, first seen on ties | z confirmations (probabilistic) |
//! | `pos-slot` | [`praos`]: VRF lottery per party and slot, φ(σ) = 1 − (1 − f)^σ | [`vrf`] output and proof, below φ(σ); producer's signature | longest chain, never rolling back more than k blocks | k blocks deep |
//! | `pos-coinage` | [`coinage`]: kernel hash per stake output and second, target × coin-days | kernel hash, coin-age consumed; signature | most chain trust (as most work) | z confirmations |
//! | `dpos` | [`dpos`]: elected producers in a fixed, shuffled schedule of turns | the scheduled producer's signature in its slot | longest chain, never past the last irreversible block | more than 2/3 of producers built on it |
//! | `poet` | [`poet`]: trusted exponential wait per node, first to wake | enclave's wait certificate (modelled as trusted) | longest chain, first seen on ties | z confirmations |
//!
//! # How proof of work maps onto the seam
//!
//! Today's simulator is the `pow` row, spread over the node: the miner's clock
//! (`node::miner::Miner::sample_delay`, rate = hash rate / expected hashes at the target) is
//! the leader election, restarted when the tip changes, which is exact because mining is
//! memoryless; the proof is the header's SHA-256d against the target, checked in
//! `chain::validate`; fork choice is most cumulative work with first-seen ties
//! (`node::chain_view`); finality is the merchant's z confirmations. [`Rule::for_kind`] with
//! [`ConsensusKind::Pow`] states exactly these last two, so the seam can take over chain
//! selection without changing a byte of PoW output.
//!
//! # How the world will call it
//!
//! (Design note for the wiring; the world, engine and chain store are not touched yet.)
//!
//! - The scenario's `[consensus] kind` is parsed with [`ConsensusKind::parse`], and the world
//!   builds one `Rule` and one per-kind elector. Elections draw from their own random
//!   stream (a new `rng::Purpose`, index = node), so the topology and latency streams, and
//!   hence the network digest, are the same whatever the kind.
//! - **Leader election becomes a timer.** Where a PoW node sets its mining timer, a slot node
//!   sets one at the start of every slot and asks [`praos::SlotLottery::try_lead`] (DPoS asks
//!   [`dpos::Schedule::producer_of`], PoET draws [`poet::WaitTimer::draw`], coin-age scans
//!   its stake outputs with [`coinage::Stake::kernel_hit`]). A win builds the same block
//!   template as PoW, with the claim (VRF output and proof, or turn, or kernel) in place of
//!   the nonce, and signs it with the producer's ed25519 key.
//! - **Proof** is checked in validation next to the PoW check: the claim, then the producer's
//!   signature; the time charged follows the validation cost model (one VRF verification and
//!   one signature per block per node).
//! - **Fork choice** replaces the most-work comparison in the chain view by
//!   [`Rule::prefers`] on [`ChainSummary`]s (height, work, fork depth, finalized height).
//! - **Finality** is asked per block by the metrics ([`Rule::is_final`] or
//!   [`dpos::last_irreversible`]) to write `finality.csv`.
//! - Producer concentration ([`concentration`]) is computed from the final chain's producers.

pub mod cartel_report;
pub mod coinage;
pub mod coinage_run;
pub mod concentration;
pub mod dpos;
pub mod dpos_run;
pub mod drift;
pub mod epochs;
pub mod genesis;
pub mod leader_input;
pub mod long_range;
pub mod nothing_at_stake;
pub mod poet;
pub mod poet_run;
pub mod praos;
pub mod report;
pub mod rewards;
pub mod seal;
pub mod signed;
pub mod vrf;

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A consensus family, as named in `[consensus] kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConsensusKind {
    /// Proof of work (the simulator's original rule).
    Pow,
    /// Slot-based proof of stake, Ouroboros Praos-like.
    PosSlot,
    /// Coin-age proof of stake, Peercoin-like.
    PosCoinage,
    /// Delegated proof of stake (BitShares, Steem, EOS).
    Dpos,
    /// Proof of elapsed time (Hyperledger Sawtooth).
    Poet,
}

impl ConsensusKind {
    /// Every kind, in the order the choices are listed.
    pub const ALL: [ConsensusKind; 5] = [
        ConsensusKind::Pow,
        ConsensusKind::PosSlot,
        ConsensusKind::PosCoinage,
        ConsensusKind::Dpos,
        ConsensusKind::Poet,
    ];

    /// The name used in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            ConsensusKind::Pow => "pow",
            ConsensusKind::PosSlot => "pos-slot",
            ConsensusKind::PosCoinage => "pos-coinage",
            ConsensusKind::Dpos => "dpos",
            ConsensusKind::Poet => "poet",
        }
    }

    /// The kind named `value`, found in `file` at `field` (for the error text).
    ///
    /// # Errors
    ///
    /// [`UnknownKindError`], naming file, field, value and the choices.
    pub fn parse(file: &Path, field: &str, value: &str) -> Result<ConsensusKind, UnknownKindError> {
        ConsensusKind::ALL.into_iter().find(|k| k.name() == value).ok_or_else(|| UnknownKindError {
            file: file.to_path_buf(),
            field: field.to_string(),
            value: value.to_string(),
        })
    }
}

impl fmt::Display for ConsensusKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A consensus kind that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "{}: {field} = \"{value}\" is not a consensus kind; choose one of: pow, pos-slot, \
     pos-coinage, dpos, poet",
    file.display()
)]
pub struct UnknownKindError {
    /// The scenario file.
    pub file: PathBuf,
    /// The field (`consensus.kind`).
    pub field: String,
    /// The value given.
    pub value: String,
}

/// What fork choice compares: a chain as seen from the node's current tip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainSummary {
    /// Height of the chain's tip (genesis = 0).
    pub height: u64,
    /// Cumulative work (PoW) or chain trust (coin-age); unused by length-based rules.
    pub work: u128,
    /// Blocks of the node's current chain that adopting this one would disconnect (0 for
    /// the current chain itself and for any chain that extends it).
    pub rollback: u64,
    /// The height of the node's newest final block (what it will never revert), for rules
    /// with absolute finality (DPoS's last irreversible block).
    pub finalized_height: u64,
}

/// How a node chooses between its chain and a candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForkChoice {
    /// More cumulative work wins; on equal work the first seen (the current chain) stays.
    MostWork,
    /// The longer chain wins, first seen on ties.
    Longest,
    /// The longer chain wins, first seen on ties, but a candidate that would disconnect more
    /// than `k` blocks is refused (Praos' `maxvalid`: the rollback limit).
    LongestWithinRollback {
        /// The most blocks a switch may disconnect.
        k: u64,
    },
    /// The longer chain wins, first seen on ties, but never reverting the last irreversible
    /// block (DPoS).
    LongestAboveIrreversible,
}

/// When a block counts as final.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finality {
    /// Probabilistic: a block with at least `confirmations` blocks on and above it (itself
    /// included, as a merchant counts).
    Confirmations {
        /// Confirmations required.
        confirmations: u64,
    },
    /// A block at least `k` deep below the tip (rollback beyond k is refused, so it is
    /// final by rule).
    RollbackLimit {
        /// The rollback limit.
        k: u64,
    },
    /// A block at or below the last irreversible block: more than 2/3 of the scheduled
    /// producers built on it ([`dpos::last_irreversible`]).
    TwoThirdsOfProducers,
}

/// A consensus rule's fork choice and finality (its election and proof are per kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The family.
    pub kind: ConsensusKind,
    /// How a node chooses its chain.
    pub fork_choice: ForkChoice,
    /// When a block is final.
    pub finality: Finality,
}

impl Rule {
    /// The standard rule of a kind: `confirmations` for the probabilistic kinds (the
    /// merchant's z), `k` for the slot kind's rollback limit.
    pub fn for_kind(kind: ConsensusKind, confirmations: u64, k: u64) -> Rule {
        let (fork_choice, finality) = match kind {
            ConsensusKind::Pow | ConsensusKind::PosCoinage => {
                (ForkChoice::MostWork, Finality::Confirmations { confirmations })
            }
            ConsensusKind::PosSlot => {
                (ForkChoice::LongestWithinRollback { k }, Finality::RollbackLimit { k })
            }
            ConsensusKind::Dpos => {
                (ForkChoice::LongestAboveIrreversible, Finality::TwoThirdsOfProducers)
            }
            ConsensusKind::Poet => (ForkChoice::Longest, Finality::Confirmations { confirmations }),
        };
        Rule { kind, fork_choice, finality }
    }

    /// Whether a node on `current` switches to `candidate`. `candidate.rollback` is the
    /// number of the current chain's blocks the switch disconnects; `current.rollback` is 0.
    pub fn prefers(&self, current: &ChainSummary, candidate: &ChainSummary) -> bool {
        match self.fork_choice {
            ForkChoice::MostWork => candidate.work > current.work,
            ForkChoice::Longest => candidate.height > current.height,
            ForkChoice::LongestWithinRollback { k } => {
                candidate.height > current.height && candidate.rollback <= k
            }
            ForkChoice::LongestAboveIrreversible => {
                // The fork point is current.height − rollback; it must not lie below the
                // last irreversible block.
                candidate.height > current.height
                    && current.height.saturating_sub(candidate.rollback) >= current.finalized_height
            }
        }
    }

    /// Whether the block at `height` on a chain whose tip is at `tip_height` is final under
    /// the rule; `last_irreversible` is the chain's LIB height for DPoS (ignored otherwise).
    pub fn is_final(&self, height: u64, tip_height: u64, last_irreversible: Option<u64>) -> bool {
        if height > tip_height {
            return false;
        }
        match self.finality {
            Finality::Confirmations { confirmations } => tip_height - height + 1 >= confirmations,
            Finality::RollbackLimit { k } => tip_height - height >= k,
            Finality::TwoThirdsOfProducers => last_irreversible.is_some_and(|lib| height <= lib),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_unknown_kinds_name_file_field_value_and_choices() {
        for kind in ConsensusKind::ALL {
            assert_eq!(
                ConsensusKind::parse(Path::new("a.toml"), "consensus.kind", kind.name()),
                Ok(kind)
            );
            assert_eq!(kind.to_string(), kind.name());
        }
        let err =
            ConsensusKind::parse(Path::new("lab/a.toml"), "consensus.kind", "pos").unwrap_err();
        let text = err.to_string();
        for part in
            ["lab/a.toml", "consensus.kind", "\"pos\"", "pow, pos-slot, pos-coinage, dpos, poet"]
        {
            assert!(text.contains(part), "{text}");
        }
    }

    fn chain(height: u64, work: u128, rollback: u64, finalized_height: u64) -> ChainSummary {
        ChainSummary { height, work, rollback, finalized_height }
    }

    #[test]
    fn pow_fork_choice_is_most_work_first_seen_on_ties() {
        let rule = Rule::for_kind(ConsensusKind::Pow, 6, 0);
        let current = chain(10, 100, 0, 0);
        assert!(rule.prefers(&current, &chain(9, 101, 3, 0)), "more work, shorter, wins");
        assert!(!rule.prefers(&current, &chain(11, 100, 1, 0)), "equal work keeps first seen");
        assert!(!rule.prefers(&current, &chain(12, 99, 0, 0)));
    }

    #[test]
    fn slot_fork_choice_refuses_rollbacks_beyond_k() {
        let rule = Rule::for_kind(ConsensusKind::PosSlot, 0, 5);
        let current = chain(20, 0, 0, 0);
        assert!(rule.prefers(&current, &chain(21, 0, 5, 0)));
        assert!(!rule.prefers(&current, &chain(30, 0, 6, 0)), "deeper than k: refused");
        assert!(!rule.prefers(&current, &chain(20, 0, 1, 0)), "tie: first seen stays");
        // A block k deep is final; k − 1 deep is not.
        assert!(rule.is_final(15, 20, None));
        assert!(!rule.is_final(16, 20, None));
    }

    #[test]
    fn dpos_fork_choice_never_reverts_the_irreversible_block() {
        let rule = Rule::for_kind(ConsensusKind::Dpos, 0, 0);
        let current = chain(50, 0, 0, 40);
        assert!(rule.prefers(&current, &chain(52, 0, 10, 40)), "fork point 40 = LIB: allowed");
        assert!(!rule.prefers(&current, &chain(60, 0, 11, 40)), "fork point 39 < LIB");
        assert!(rule.is_final(40, 50, Some(40)));
        assert!(!rule.is_final(41, 50, Some(40)));
        assert!(!rule.is_final(0, 50, None));
    }

    #[test]
    fn confirmations_count_the_block_itself() {
        let rule = Rule::for_kind(ConsensusKind::Poet, 6, 0);
        assert!(rule.is_final(5, 10, None));
        assert!(!rule.is_final(6, 10, None));
        assert!(!rule.is_final(11, 10, None));
        assert_eq!(rule.fork_choice, ForkChoice::Longest);
        assert!(rule.prefers(&chain(3, 0, 0, 0), &chain(4, 0, 2, 0)));
    }
}
