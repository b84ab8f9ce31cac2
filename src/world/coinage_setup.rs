//! Setting up a `pos-coinage` run: one stake output per stakeholder (its share of
//! `SUPPLY_COINS` coins, ageing from genesis), the kernel target calibrated to the
//! scenario's block interval, and each stakeholder's signing key from its election stream
//! (the same key it has under every stake kind).

use super::kinds::{SignedSetup, Stakeholder, stakeholders};
use crate::chain::keys::KeyPair;
use crate::consensus::coinage::{Consumption, Stake, UNITS_PER_COIN, rate_ppm};
use crate::consensus::coinage_run::{
    CoinageRules, CoinageRun, calibrated_target, output_id, stake_units,
};
use crate::consensus::report::POW_CONFIRMATIONS;
use crate::consensus::seal::StakeState;
use crate::consensus::signed::SignedRules;
use crate::rng::RngStreams;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};

/// The setup of a `pos-coinage` run with yearly `interest` and `consumption`.
pub(super) fn coinage_setup(
    scenario: &Scenario,
    shares: &mut [f64],
    streams: &RngStreams,
    interest: f64,
    consumption: Consumption,
) -> SignedSetup {
    let holders = stakeholders(scenario, shares, streams);
    let total: f64 = shares.iter().sum();
    let mut keys: Vec<Option<KeyPair>> = (0..shares.len()).map(|_| None).collect();
    let (mut genesis, mut owners, mut publics) = (Vec::new(), Vec::new(), Vec::new());
    for Stakeholder { node, keys: k, .. } in holders {
        let units = stake_units(shares[node.index()] / total);
        genesis.push(Stake::new(output_id(node), units, SimTime::ZERO));
        owners.push(node);
        publics.push(k.signing.pubkey());
        keys[node.index()] = Some(k.signing);
    }
    let coins: Vec<f64> =
        genesis.iter().map(|s| s.value_units as f64 / UNITS_PER_COIN as f64).collect();
    let interval = SimDuration::from_secs_f64(scenario.chain.block_interval_s);
    let target = calibrated_target(interval, &coins);
    let rate = rate_ppm(interest).expect("validated: a yearly rate in [0, 1]");
    let run = CoinageRun::new(genesis.clone(), owners.clone(), consumption, rate);
    let rules =
        CoinageRules::new(target, genesis, owners, publics, shares.len(), POW_CONFIRMATIONS);
    let state = StakeState { coinage: Some(run), ..StakeState::default() };
    SignedSetup { rules: SignedRules::Coinage(rules), keys, waits: Vec::new(), state }
}
