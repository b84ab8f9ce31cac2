//! Setting up the kinds whose blocks carry a signed seal (`dpos`; `poet` in `kinds_poet`): every node's rules, each
//! stakeholder's signing key and the run's shared schedule state.
//!
//! Stake is `[stake] shares` or, without it, the hash-power shares drawn by `[mining]` (the
//! same nodes as under PoW). Keys come from each stakeholder's election stream, drawn as
//! for `pos-slot` (the signing key is the second 32 bytes), so a node has the same signing
//! key under every stake kind.

use crate::chain::keys::KeyPair;
use crate::consensus::dpos::{Candidate, Dpos, DposConfig, ScheduleStyle, Voter};
use crate::consensus::dpos_run::{DposRules, DposRun};
use crate::consensus::seal::{StakeKeys, StakeState};
use crate::consensus::signed::SignedRules;
use crate::id::NodeId;
use crate::rng::{Purpose, RngStreams};
use crate::scenario::Scenario;
use crate::scenario::consensus::{KindParams, StakeSource};

/// Puts `[stake] shares`, if given, in place of the hash-power shares.
fn apply_stake_shares(scenario: &Scenario, shares: &mut [f64]) {
    if let StakeSource::Shares(given) = &scenario.consensus.stake {
        shares.fill(0.0);
        shares[..given.len()].copy_from_slice(given);
    }
}

/// A node holding stake: its keys and its stake.
pub(super) struct Stakeholder {
    /// The node.
    pub node: NodeId,
    /// Its keys, from its election stream.
    pub keys: StakeKeys,
    /// Its stake in units of 10^-12 of the whole (at least 1).
    pub units: u64,
}

/// The nodes holding stake, in node order, after `[stake] shares` (if given) replaced the
/// hash-power `shares`.
pub(super) fn stakeholders(
    scenario: &Scenario,
    shares: &mut [f64],
    streams: &RngStreams,
) -> Vec<Stakeholder> {
    apply_stake_shares(scenario, shares);
    let holders = shares.iter().enumerate().filter(|(_, s)| **s > 0.0);
    holders
        .map(|(i, &share)| Stakeholder {
            node: NodeId::from_index(i),
            keys: StakeKeys::from_rng(&mut streams.stream(Purpose::Election, i as u64)),
            units: crate::consensus::drift::units_of_share(share),
        })
        .collect()
}

/// A signed-seal kind's setup.
pub(super) struct SignedSetup {
    /// What every node checks blocks with.
    pub rules: SignedRules,
    /// Per node: its signing key, if it produces.
    pub keys: Vec<Option<KeyPair>>,
    /// Per node: its own stream of election draws, for kinds that draw per block (`poet`).
    pub waits: Vec<Option<Box<crate::rng::SimRng>>>,
    /// The shared state the run starts with.
    pub state: StakeState,
}

/// Why a signed-seal kind cannot run with this stake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "field `consensus.producers` = {producers}: only {stakeholders} nodes hold stake; give \
     at least that many nodes stake in [stake] shares or lower consensus.producers"
)]
pub struct TooFewStakeholders {
    /// Producers asked for.
    pub producers: u32,
    /// Nodes with stake.
    pub stakeholders: usize,
}

/// The setup of a `dpos` run (`None` for other kinds). Every stakeholder is a candidate and
/// approves itself with its stake (stake-weighted approval voting with self-votes), so the
/// N largest stakeholders produce and the rest are backups, best first.
///
/// # Errors
///
/// [`TooFewStakeholders`] when fewer nodes hold stake than there are producer places.
pub(super) fn signed_setup(
    scenario: &Scenario,
    shares: &mut [f64],
    streams: &RngStreams,
) -> Result<Option<SignedSetup>, TooFewStakeholders> {
    if let KindParams::Coinage { interest, consumption } = scenario.consensus.params {
        let setup =
            super::coinage_setup::coinage_setup(scenario, shares, streams, interest, consumption);
        return Ok(Some(setup));
    }
    if let Some(setup) = super::kinds_poet::poet_setup(scenario, shares, streams) {
        return Ok(Some(setup));
    }
    let KindParams::Dpos { producers, blocks_per_turn, slot } = scenario.consensus.params else {
        return Ok(None);
    };
    let holders = stakeholders(scenario, shares, streams);
    let mut keys: Vec<Option<KeyPair>> = (0..shares.len()).map(|_| None).collect();
    let (mut nodes, mut publics, mut voters) = (Vec::new(), Vec::new(), Vec::new());
    for Stakeholder { node, keys: k, units } in holders {
        let candidate = Candidate(nodes.len() as u32);
        nodes.push(node);
        publics.push(k.signing.pubkey());
        voters.push(Voter { stake: units, approves: vec![candidate] });
        keys[node.index()] = Some(k.signing);
    }
    if nodes.len() < producers as usize {
        return Err(TooFewStakeholders { producers, stakeholders: nodes.len() });
    }
    let config = DposConfig {
        producers,
        style: ScheduleStyle { blocks_per_turn, slot },
        shuffle: true,
        seed: scenario.seed,
        vote_out_after_missed_turns: Some(2),
    };
    let dpos = Dpos::new(config, nodes.len() as u32, &voters).expect("validated: N ≥ 1, K ≥ 1");
    let run = DposRun::new(dpos, nodes.clone(), producers);
    let rules = DposRules::new(slot, producers, blocks_per_turn, nodes, publics, shares.len());
    let state = StakeState { dpos: Some(run), ..StakeState::default() };
    Ok(Some(SignedSetup { rules: SignedRules::Dpos(rules), keys, waits: Vec::new(), state }))
}
