//! How a `pos-slot` node chooses between its chain and a candidate: Praos' rollback limit
//! for a node that is caught up, and, for a node syncing from genesis, either the plain
//! longest chain or Ouroboros Genesis' density rule.
//!
//! # Why a syncing node needs its own rule
//!
//! A node that has been online all along refuses any switch that disconnects more than k
//! blocks (Praos' `maxvalid` with the rollback limit, [`super::Rule::prefers`]): blocks k
//! deep are final to it. That is what keeps it safe from a long-range fork, built by
//! someone who bought keys that held much stake long ago and grows its own chain from a
//! block before those keys' coins were sold. A node joining later starts from genesis and
//! holds no chain of its own: between two chains that share only an old prefix, neither
//! switch is a rollback of anything it had, so the rollback limit cannot help it.
//!
//! - Under `consensus.fork_choice = "longest"` (the default) it takes the longer chain.
//!   When the fork grows faster than the honest chain after the sale, which happens when
//!   the sold stake went to holders who do not stake, the joiner ends up on the fork.
//! - Under `"genesis"` it follows Badertscher, Gaži, Kiayias, Russell and Zikas,
//!   "Ouroboros Genesis" (CCS 2018), `maxvalid-bg`: a candidate that forks from the
//!   current chain at most k blocks deep is compared by length, as in Praos; one that forks
//!   deeper is compared by **density**, the number of blocks each chain has in the `s`
//!   slots after the fork point, and wins only with strictly more. Right after the fork
//!   point the old keys were still held by honest parties staking on the honest chain, so
//!   the honest chain holds a block in every slot with a leader (rate f) while the fork
//!   holds only the old keys' slots (rate φ(σ_old)): the honest chain is denser there
//!   whatever the fork did later. The paper's window is s = k / (4f) slots
//!   ([`default_window_slots`]); a scenario may set `consensus.genesis_window_slots`.
//!
//! A checkpoint (a block hash every node ships with) is the other textbook defence; it is
//! not modelled here.
//!
//! A syncing node keeps its rule to the end of the run (a real node returns to Praos'
//! rule once it has caught up with every peer). That lets it compare the two chains in
//! whatever order their blocks reach it: under the density rule a deep candidate that is
//! shorter can still win, so the joiner moves to the honest chain once enough of it has
//! arrived, even if the fork came first.
//!
//! Every refusal of a longer candidate is counted with its reason ([`ForkChoiceLog`]) for
//! `consensus.json`.

use super::seal::Seals;
use crate::chain::{BlockId, BlockStore};

/// How a node syncing from genesis chooses between chains forking more than k deep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SyncRule {
    /// The longer chain, first seen on ties (no rollback limit: the node has nothing to
    /// roll back).
    #[default]
    Longest,
    /// Ouroboros Genesis' `maxvalid-bg`: more blocks in the window after the fork point.
    Genesis {
        /// The window s, in slots after the fork point's slot.
        window_slots: u64,
    },
}

impl SyncRule {
    /// The name used in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            SyncRule::Longest => "longest",
            SyncRule::Genesis { .. } => "genesis",
        }
    }
}

/// The Genesis paper's window s = k / (4f) slots, rounded up, at least 1.
pub fn default_window_slots(k: u64, f: f64) -> u64 {
    (libm::ceil(k as f64 / (4.0 * f)) as u64).max(1)
}

/// Why a node kept its chain although the candidate was longer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The switch would disconnect more than k blocks (a caught-up node).
    BeyondRollbackLimit,
    /// The candidate forks deeper than k and has no more blocks in the window after the
    /// fork point (a syncing node under the density rule).
    SparserAfterFork,
}

impl Refusal {
    /// Every reason, in the order of [`ForkChoiceLog::refused`].
    pub const ALL: [Refusal; 2] = [Refusal::BeyondRollbackLimit, Refusal::SparserAfterFork];

    /// The reason's name in results.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::BeyondRollbackLimit => "beyond-rollback-limit",
            Refusal::SparserAfterFork => "sparser-after-fork",
        }
    }
}

/// A fork-choice decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Switch to the candidate.
    Switch,
    /// Keep the current chain (the candidate is not longer, or ties).
    Keep,
    /// Keep the current chain although the candidate is longer.
    Refuse(Refusal),
}

/// Refusals of longer candidates by reason, and switches deeper than k, over all nodes of
/// a run (one count per node and block).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForkChoiceLog {
    /// Per [`Refusal::ALL`].
    pub refused: [u64; 2],
    /// Switches that disconnected more than k blocks (only a syncing node makes them).
    pub deep_switches: u64,
    /// The nodes that synced from genesis, in node order.
    pub syncing: Vec<crate::id::NodeId>,
}

impl ForkChoiceLog {
    /// Notes that `node` syncs from genesis.
    pub fn syncs(&mut self, node: crate::id::NodeId) {
        if let Err(at) = self.syncing.binary_search(&node) {
            self.syncing.insert(at, node);
        }
    }

    /// Counts a decision whose switch would disconnect `rollback` blocks under limit `k`.
    pub fn note(&mut self, choice: Choice, rollback: u64, k: u64) {
        match choice {
            Choice::Refuse(r) => {
                let i = Refusal::ALL.iter().position(|&x| x == r).expect("listed");
                self.refused[i] += 1;
            }
            Choice::Switch if rollback > k => self.deep_switches += 1,
            Choice::Switch | Choice::Keep => {}
        }
    }
}

/// Blocks of the chain ending at `tip` whose slots lie in (slot of `fork`, slot of `fork` +
/// `window_slots`]; `fork` must be an ancestor of `tip` (or `tip` itself).
pub fn density(
    store: &BlockStore,
    seals: &Seals,
    tip: BlockId,
    fork: BlockId,
    window_slots: u64,
) -> u64 {
    let start = seals.slot_of(fork);
    let end = start.saturating_add(window_slots);
    let mut count = 0;
    let mut at = tip;
    while at != fork {
        let slot = seals.slot_of(at);
        if slot > start && slot <= end {
            count += 1;
        }
        at = store.get(at).parent.expect("the fork point is an ancestor");
    }
    count
}

/// The choice between the chain ending at `tip` and the one ending at `candidate`, under
/// rollback limit `k`: Praos' rule for a caught-up node (`sync` is `None`), the syncing
/// node's rule otherwise (see the module docs).
pub fn choose(
    k: u64,
    sync: Option<SyncRule>,
    store: &BlockStore,
    seals: &Seals,
    tip: BlockId,
    candidate: BlockId,
) -> (Choice, u64) {
    let (t, c) = (store.get(tip).height, store.get(candidate).height);
    let longer = c > t;
    if sync.is_none() && !longer {
        // The common case, decided without walking to the fork point.
        return (Choice::Keep, 0);
    }
    let fork = store.fork_point(tip, candidate);
    let rollback = u64::from(t - store.get(fork).height);
    let choice = match sync {
        Some(SyncRule::Genesis { window_slots }) if rollback > k => {
            let mine = density(store, seals, tip, fork, window_slots);
            let theirs = density(store, seals, candidate, fork, window_slots);
            if theirs > mine {
                Choice::Switch
            } else if longer {
                Choice::Refuse(Refusal::SparserAfterFork)
            } else {
                Choice::Keep
            }
        }
        Some(_) => {
            if longer {
                Choice::Switch
            } else {
                Choice::Keep
            }
        }
        None if !longer => Choice::Keep,
        None if rollback > k => Choice::Refuse(Refusal::BeyondRollbackLimit),
        None => Choice::Switch,
    };
    (choice, rollback)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::keys::KeyPair;
    use crate::consensus::praos::LeaderProof;
    use crate::consensus::seal::Seal;
    use crate::consensus::vrf::VrfKey;
    use crate::id::NodeId;
    use crate::node::testing::{child, store};

    /// A chain of blocks in `slots` on `parent`; returns its blocks.
    fn chain(
        s: &mut BlockStore,
        seals: &mut Seals,
        parent: BlockId,
        slots: &[u64],
    ) -> Vec<BlockId> {
        let mut at = parent;
        let mut out = Vec::new();
        for &slot in slots {
            let b = child(s, at, NodeId(1));
            let (output, proof) = VrfKey::from_seed([1; 32]).prove(&slot.to_le_bytes());
            let claim = LeaderProof { slot, output, proof };
            seals.set(
                b,
                Seal::sign(&s.get(b).block.header, NodeId(1), claim, &KeyPair::from_seed(&[2; 32])),
            );
            out.push(b);
            at = b;
        }
        out
    }

    /// A fork point at slot 1; an honest chain dense right after it (slots 2–7) and slow
    /// later, a fork sparse after it (slots 3, 6) and fast later, longer in the end. The
    /// caught-up node refuses the fork by k; a syncing node takes it under `longest` and
    /// keeps the honest chain under the density rule, in either order of arrival.
    #[test]
    fn rollback_limit_longest_and_density_decide_as_documented() {
        let (mut s, g) = store();
        let mut seals = Seals::default();
        let base = chain(&mut s, &mut seals, g, &[1]);
        let fork_point = base[0];
        let honest = chain(&mut s, &mut seals, fork_point, &[2, 3, 4, 5, 6, 7, 20]);
        let fork = chain(&mut s, &mut seals, fork_point, &[3, 6, 9, 10, 11, 12, 13, 14, 15]);
        let (h, f) = (*honest.last().unwrap(), *fork.last().unwrap());
        assert_eq!(density(&s, &seals, h, fork_point, 6), 6);
        assert_eq!(density(&s, &seals, f, fork_point, 6), 2);
        let k = 3;
        assert_eq!(
            choose(k, None, &s, &seals, h, f),
            (Choice::Refuse(Refusal::BeyondRollbackLimit), 7)
        );
        assert_eq!(choose(k, Some(SyncRule::Longest), &s, &seals, h, f).0, Choice::Switch);
        let genesis = Some(SyncRule::Genesis { window_slots: 6 });
        assert_eq!(
            choose(k, genesis, &s, &seals, h, f).0,
            Choice::Refuse(Refusal::SparserAfterFork)
        );
        // On the fork first: the shorter but denser honest chain wins.
        assert_eq!(choose(k, genesis, &s, &seals, f, h).0, Choice::Switch);
        // Within k, length decides under every rule.
        assert_eq!(choose(k, genesis, &s, &seals, honest[1], fork[2]).0, Choice::Switch);
        assert_eq!(choose(k, None, &s, &seals, honest[1], fork[2]).0, Choice::Switch);
        let mut log = ForkChoiceLog::default();
        log.note(Choice::Refuse(Refusal::SparserAfterFork), 7, k);
        log.note(Choice::Switch, 9, k);
        log.note(Choice::Switch, 1, k);
        assert_eq!(log, ForkChoiceLog { refused: [0, 1], deep_switches: 1, syncing: vec![] });
        assert_eq!(default_window_slots(20, 0.5), 10);
        assert_eq!(default_window_slots(2160, 0.05), 10_800);
    }
}
