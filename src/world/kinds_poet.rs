//! Setting up a `poet` run: every participant's weight, enclave key and wait stream, the
//! real timers (compromised factors applied) and the z-test every node runs.
//!
//! Every node takes part with weight 1 unless `[stake] shares` gives weights (a node with
//! share 0 then takes no part); hash power plays no role. A participant's enclave key is
//! its block-signing key, drawn first from its election stream exactly as for the other
//! stake kinds; its waits are drawn from the same stream after the key, so each node has
//! its own wait stream and the topology and latency streams are untouched.

use super::kinds::SignedSetup;
use crate::chain::keys::KeyPair;
use crate::consensus::poet::WaitTimer;
use crate::consensus::poet_run::{PoetRules, PoetRun};
use crate::consensus::seal::{StakeKeys, StakeState};
use crate::consensus::signed::SignedRules;
use crate::id::NodeId;
use crate::rng::{Purpose, RngStreams};
use crate::scenario::Scenario;
use crate::scenario::consensus::{KindParams, StakeSource};

/// The setup of a `poet` run (`None` for other kinds); `shares` becomes the normalised
/// weights, which `consensus.json` lists as the producers' shares.
pub(super) fn poet_setup(
    scenario: &Scenario,
    shares: &mut [f64],
    streams: &RngStreams,
) -> Option<SignedSetup> {
    let KindParams::Poet { mean_wait, ztest, ref compromised } = scenario.consensus.params else {
        return None;
    };
    match &scenario.consensus.stake {
        StakeSource::Shares(given) => {
            shares.fill(0.0);
            shares[..given.len()].copy_from_slice(given);
        }
        StakeSource::HashPower => shares.fill(1.0 / shares.len() as f64),
    }
    let mut keys: Vec<Option<KeyPair>> = (0..shares.len()).map(|_| None).collect();
    let mut waits = Vec::with_capacity(shares.len());
    let (mut nodes, mut publics, mut weights) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &share) in shares.iter().enumerate() {
        if share <= 0.0 {
            waits.push(None);
            continue;
        }
        let mut rng = streams.stream(Purpose::Election, i as u64);
        let k = StakeKeys::from_rng(&mut rng);
        nodes.push(NodeId::from_index(i));
        publics.push(k.signing.pubkey());
        weights.push(share);
        keys[i] = Some(k.signing);
        waits.push(Some(Box::new(rng)));
    }
    let total: f64 = weights.iter().sum();
    let expected: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let mut timer = WaitTimer::new(mean_wait, &weights).expect("validated: positive weights");
    for &(node, factor) in compromised {
        let p = nodes.iter().position(|n| n.0 == node).expect("validated: a participant");
        timer = timer.with_timer_factor(p, factor).expect("validated: factor in (0, 1]");
    }
    let run = PoetRun::new(ztest, shares.to_vec());
    let rules = PoetRules::new(timer, ztest, nodes, publics, expected, shares.len());
    let state = StakeState { poet: Some(run), ..StakeState::default() };
    Some(SignedSetup { rules: SignedRules::Poet(rules), keys, waits, state })
}

/// The rules every node of `scenario`'s run checks PoET blocks with (`None` for other
/// kinds), rebuilt from the scenario and its seed, for reports.
pub fn poet_rules(scenario: &Scenario) -> Option<PoetRules> {
    let mut shares = vec![0.0; scenario.network.nodes as usize];
    let streams = RngStreams::new(scenario.seed);
    match poet_setup(scenario, &mut shares, &streams)?.rules {
        SignedRules::Poet(rules) => Some(rules),
        SignedRules::Dpos(_) | SignedRules::Coinage(_) => None,
    }
}
