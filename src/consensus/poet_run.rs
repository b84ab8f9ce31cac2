//! Proof of elapsed time in a run: the wait certificate every block carries, every node's
//! check of it (signature, elapsed time, Sawtooth's z-test) and what `consensus.json`
//! reports of the lottery.
//!
//! [`super::poet`] has the lottery's maths ([`WaitTimer`], [`ZTest`]). A run adds a network:
//!
//! - **Leader election.** Every participating node (weight 1 each, or its `[stake] shares`
//!   weight) draws a wait from its [`WaitTimer`] on its own random stream whenever its
//!   mining tip changes, and at start (`node::producer_poet`). The first to wake builds the
//!   normal block template on its tip and seals it. Waits are exponential, hence
//!   memoryless: redrawing a pending wait at every tip change gives exactly the same law as
//!   keeping it, so a node's blocks form a Poisson process of rate w_i / (T Σw) whatever
//!   the tips do, as a PoW miner's do at rate hash share / T.
//! - **Proof: the wait certificate.** The seal is a [`SignedSeal`] whose claim is the wait
//!   the node waited, in microseconds, signed (ed25519) by the node's enclave key. The
//!   simulator has no enclave: the node's block-signing key (drawn from its election
//!   stream, as for every stake kind) stands in for the enclave's attestation key, and the
//!   registered public key for its attestation. Every node checks, in order:
//!   1. the producer is a registered participant (else `bad-leader-claim`);
//!   2. the signature verifies (else `bad-block-signature`);
//!   3. the block's time is not earlier than its parent's time plus the claimed wait, in
//!      the headers' whole seconds: header time − parent header time ≥ ⌊claim / 10⁶⌋
//!      (else `poet-wait-not-elapsed`): a certificate cannot claim a longer wait than the
//!      chain shows elapsed. The test is in seconds because header times are; an honest
//!      block always passes it unless the median-time-past rule pushed its parent's time
//!      ahead of the clock by more than the rounding (blocks less than a second apart);
//!   4. Sawtooth's z-test on the chain the block extends, the block included (else
//!      `poet-z-test`): with k the producer's blocks on that chain, n the block's height
//!      and p the producer's honest win share w_i / Σw, the block is refused if
//!      [`ZTest::flags`]`(k, n, p)`. This is the cumulative form of [`super::poet`]'s
//!      docs; Sawtooth also tests trailing windows, which flags more honest nodes. A
//!      producer runs the same test on the block it just sealed and refuses it itself (it
//!      is counted, never sent), as Sawtooth's publisher refuses to claim a block while
//!      its validator "is claiming too frequently"; a compromised enclave runs the same
//!      validator software, so its flagged blocks are refused at its own node.
//!
//!   What no check can see is a wait shorter than the enclave should have drawn: that is
//!   the compromised enclave, caught (if at all) only by the z-test. Checking costs one
//!   signature verification ([`SIGNATURE_VERIFY_COST`]).
//! - **Fork choice and finality.** Longest chain, first seen on ties; final after z
//!   confirmations ([`super::Rule::for_kind`]).
//! - **Compromised enclaves.** `[consensus] compromised = [{ node, timer_factor }]`
//!   multiplies the node's waits by the factor c < 1 ([`WaitTimer::with_timer_factor`]);
//!   its certificates claim its real, shortened waits and are validly signed.
//!
//! The z-test verdict of a block is a function of the chain ending at it, the same at
//! every node, so it is computed once, when the block is stored ([`PoetRun::note_block`]).

use serde::Serialize;
use thiserror::Error;

use super::poet::{WaitTimer, ZTest};
use super::seal::{SIGNATURE_VERIFY_COST, SignedSeal, StakeState};
use super::{ConsensusKind, Rule};
use crate::chain::block::Header;
use crate::chain::keys::KeyPair;
use crate::chain::{BlockId, BlockStore, RejectReason};
use crate::id::NodeId;
use crate::time::SimDuration;

/// The tag a PoET enclave signs its certificate with.
pub const POET_TAG: &[u8] = b"forksim-poet-v1";

/// What every node of a `poet` run agrees on: the timers, the z-test and every
/// participant's registered public key.
#[derive(Clone, Debug)]
pub struct PoetRules {
    /// Longest chain, first seen on ties; z confirmations.
    pub rule: Rule,
    /// The real timers (compromised factors applied), by participant.
    pub timer: WaitTimer,
    /// The z-test every node runs.
    pub ztest: ZTest,
    /// Per participant: its node.
    nodes: Vec<NodeId>,
    /// Per participant: its registered public key.
    keys: Vec<[u8; 32]>,
    /// Per participant: its honest win share w_i / Σw (what the z-test expects).
    expected: Vec<f64>,
    /// Per node: its participant, or `u32::MAX`.
    participant_of: Vec<u32>,
}

/// Why a PoET block's certificate is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PoetSealError {
    /// The block carries no certificate.
    #[error("the block carries no wait certificate")]
    Missing,
    /// The producer is not registered.
    #[error("node {0} is not a registered participant")]
    UnknownProducer(NodeId),
    /// The signature does not verify.
    #[error("the enclave's signature does not verify")]
    Signature,
    /// The claimed wait exceeds the time the headers show elapsed.
    #[error("claimed wait {claim_us} µs, but only {elapsed_s} s elapsed since the parent")]
    WaitNotElapsed {
        /// The claimed wait.
        claim_us: u64,
        /// Header time minus the parent's header time, in seconds.
        elapsed_s: i64,
    },
    /// The z-test flags the producer on this chain.
    #[error("node {0} wins too often on this chain (z-test)")]
    ZTest(NodeId),
}

impl PoetSealError {
    /// The reason a node counts.
    pub fn reject_reason(&self) -> RejectReason {
        match self {
            PoetSealError::Missing | PoetSealError::UnknownProducer(_) => {
                RejectReason::BadLeaderClaim
            }
            PoetSealError::Signature => RejectReason::BadBlockSignature,
            PoetSealError::WaitNotElapsed { .. } => RejectReason::PoetWaitNotElapsed,
            PoetSealError::ZTest(_) => RejectReason::PoetZTest,
        }
    }
}

impl PoetRules {
    /// Rules for participants on `nodes` with public `keys` (same order) and real `timer`,
    /// whose honest shares are `expected`, in a run of `node_count` nodes.
    pub fn new(
        timer: WaitTimer,
        ztest: ZTest,
        nodes: Vec<NodeId>,
        keys: Vec<[u8; 32]>,
        expected: Vec<f64>,
        node_count: usize,
    ) -> PoetRules {
        let mut participant_of = vec![u32::MAX; node_count];
        for (k, n) in nodes.iter().enumerate() {
            participant_of[n.index()] = k as u32;
        }
        PoetRules {
            rule: Rule::for_kind(ConsensusKind::Poet, super::report::POW_CONFIRMATIONS, 0),
            timer,
            ztest,
            nodes,
            keys,
            expected,
            participant_of,
        }
    }

    /// Modelled time a node spends on a certificate: one signature verification.
    pub fn seal_cost(&self) -> SimDuration {
        SIGNATURE_VERIFY_COST
    }

    /// The participant of `node`, if it takes part.
    pub fn participant(&self, node: NodeId) -> Option<usize> {
        match self.participant_of.get(node.index()) {
            Some(&p) if p != u32::MAX => Some(p as usize),
            _ => None,
        }
    }

    /// The participants' nodes.
    pub fn nodes(&self) -> &[NodeId] {
        &self.nodes
    }

    /// Participant `p`'s honest win share (what the z-test expects).
    pub fn expected_share(&self, p: usize) -> f64 {
        self.expected[p]
    }

    /// Every node's check of `block`'s certificate (see the module docs).
    ///
    /// # Errors
    ///
    /// The first check that fails.
    pub fn check(
        &self,
        stake: &StakeState,
        store: &BlockStore,
        block: BlockId,
    ) -> Result<(), PoetSealError> {
        let seal = stake.seals.signed(block).ok_or(PoetSealError::Missing)?;
        let p =
            self.participant(seal.producer).ok_or(PoetSealError::UnknownProducer(seal.producer))?;
        let entry = store.get(block);
        let header = &entry.block.header;
        if !seal.verifies(header, POET_TAG, &self.keys[p]) {
            return Err(PoetSealError::Signature);
        }
        let parent = entry.parent.expect("genesis is never relayed");
        let elapsed_s = i64::from(header.time) - i64::from(store.get(parent).header().time);
        if elapsed_s < (seal.claim / 1_000_000) as i64 {
            return Err(PoetSealError::WaitNotElapsed { claim_us: seal.claim, elapsed_s });
        }
        let run = stake.poet.as_ref().expect("poet runs keep their z-test state");
        if run.flagged(block) {
            return Err(PoetSealError::ZTest(seal.producer));
        }
        Ok(())
    }

    /// The certificate of `producer` for `header` after waiting `wait`, signed with `key`.
    pub fn seal(header: &Header, producer: NodeId, wait: SimDuration, key: &KeyPair) -> SignedSeal {
        SignedSeal::sign(header, POET_TAG, producer, wait.0, key)
    }
}

/// Per block: the producer's blocks on the chain ending at it, and the z-test verdict.
#[derive(Clone, Debug, Default)]
pub struct PoetRun {
    /// Per block id: the producer's wins on its chain, the block included (0: none).
    wins: Vec<u32>,
    /// Per block id: whether the z-test flags it.
    flagged: Vec<bool>,
    /// The z-test, and per node its honest share (0: not a participant).
    ztest: ZTest,
    share_of: Vec<f64>,
}

impl PoetRun {
    /// The state of a run whose nodes have honest win shares `share_of` (0 for
    /// non-participants).
    pub fn new(ztest: ZTest, share_of: Vec<f64>) -> PoetRun {
        PoetRun { wins: vec![0], flagged: vec![false], ztest, share_of }
    }

    /// Computes and keeps `block`'s z-test verdict, just stored: its producer's wins are
    /// one more than at the newest earlier block of the same producer on its chain.
    pub fn note_block(&mut self, store: &BlockStore, block: BlockId) {
        let entry = store.get(block);
        let Some(producer) = entry.meta.miner else { return };
        let mut prior = 0;
        let mut b = entry.parent;
        while let Some(id) = b {
            let e = store.get(id);
            if e.meta.miner == Some(producer) {
                prior = self.wins.get(id.index()).copied().unwrap_or(0);
                break;
            }
            b = e.parent;
        }
        let wins = prior + 1;
        let share = self.share_of.get(producer.index()).copied().unwrap_or(0.0);
        let flagged = self.ztest.flags(u64::from(wins), u64::from(entry.height), share);
        let i = block.index();
        if self.wins.len() <= i {
            self.wins.resize(i + 1, 0);
            self.flagged.resize(i + 1, false);
        }
        self.wins[i] = wins;
        self.flagged[i] = flagged;
    }

    /// Whether the z-test flags `block`.
    pub fn flagged(&self, block: BlockId) -> bool {
        self.flagged.get(block.index()).copied().unwrap_or(false)
    }
}

/// One node's line in `consensus.json`'s `poet.nodes`: every compromised node and every
/// node the z-test flagged at least once.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PoetNodeLine {
    /// The node.
    pub node: u32,
    /// Its timer factor, if its enclave is compromised.
    pub timer_factor: Option<f64>,
    /// Blocks it produced.
    pub blocks_produced: u64,
    /// Its share of all blocks produced.
    pub win_share: f64,
    /// Its win probability under the real timers ([`WaitTimer::win_probability`]).
    pub win_probability: f64,
    /// The standard error of `win_share` at that probability.
    pub standard_error: f64,
    /// Its honest share w_i / Σw, the z-test's expectation.
    pub expected_share: f64,
    /// Its blocks the z-test refused (its own node refuses to publish them; any other node
    /// would refuse them).
    pub z_test_rejected: u64,
    /// Its blocks on the main chain.
    pub main_chain_blocks: u64,
}

/// `consensus.json`'s `poet` section.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PoetLine {
    /// The network's mean block interval.
    pub mean_wait_s: f64,
    /// Participants.
    pub participants: usize,
    /// The z-test's threshold.
    pub z_max: f64,
    /// The z-test's least wins.
    pub z_min_wins: u64,
    /// Blocks the z-test flagged, of every producer.
    pub z_test_rejected: u64,
    /// Honest (not compromised) nodes with at least one flagged block.
    pub honest_nodes_flagged: u64,
    /// Compromised and flagged nodes.
    pub nodes: Vec<PoetNodeLine>,
}

/// The `poet` section of a run with `rules`, compromised nodes `compromised` (node, factor),
/// final `stake` state and main chain `chain`.
pub fn poet_line(
    rules: &PoetRules,
    compromised: &[(u32, f64)],
    stake: &StakeState,
    store: &BlockStore,
    chain: &[BlockId],
) -> PoetLine {
    let n = rules.nodes.len();
    let (mut produced, mut rejected, mut main) = (vec![0u64; n], vec![0u64; n], vec![0u64; n]);
    let participant = |b: BlockId| store.get(b).meta.miner.and_then(|m| rules.participant(m));
    for b in store.ids().skip(1) {
        if let Some(p) = participant(b) {
            produced[p] += 1;
            rejected[p] += u64::from(stake.poet.as_ref().is_some_and(|r| r.flagged(b)));
        }
    }
    for &b in &chain[1..] {
        if let Some(p) = participant(b) {
            main[p] += 1;
        }
    }
    let total: u64 = produced.iter().sum();
    let factor_of = |node: u32| compromised.iter().find(|c| c.0 == node).map(|c| c.1);
    let nodes = (0..n)
        .filter(|&p| factor_of(rules.nodes[p].0).is_some() || rejected[p] > 0)
        .map(|p| {
            let q = rules.timer.win_probability(p);
            PoetNodeLine {
                node: rules.nodes[p].0,
                timer_factor: factor_of(rules.nodes[p].0),
                blocks_produced: produced[p],
                win_share: if total == 0 { 0.0 } else { produced[p] as f64 / total as f64 },
                win_probability: q,
                standard_error: if total == 0 {
                    0.0
                } else {
                    libm::sqrt(q * (1.0 - q) / total as f64)
                },
                expected_share: rules.expected[p],
                z_test_rejected: rejected[p],
                main_chain_blocks: main[p],
            }
        })
        .collect();
    let honest_nodes_flagged =
        (0..n).filter(|&p| rejected[p] > 0 && factor_of(rules.nodes[p].0).is_none()).count();
    PoetLine {
        mean_wait_s: rules.timer.target().as_secs_f64(),
        participants: n,
        z_max: rules.ztest.z_max,
        z_min_wins: rules.ztest.min_wins,
        z_test_rejected: rejected.iter().sum(),
        honest_nodes_flagged: honest_nodes_flagged as u64,
        nodes,
    }
}
