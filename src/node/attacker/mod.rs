//! Attackers: nodes whose [`Protocol`] answers the decision points differently, and the
//! setup that gives a scenario's attackers their hash power and every node its protocol.
//!
//! - [`private_chain::PrivateChain`]: the majority or 51 % attack, a branch mined in private
//!   and published by a rule;
//! - [`selfish::Selfish`]: Eyal and Sirer's selfish mining;
//! - [`double_spend::DoubleSpend`]: pays a merchant, then mines a private branch holding a
//!   conflicting version of the payment, published once the merchant has shipped;
//! - [`invalid::InvalidPeer`]: sends its peers invalid blocks of every kind, until all of
//!   them have banned it;
//! - [`cartel::Cartel`]: a cartel of DPoS producers that censors payments or splits the
//!   schedule;
//! - [`long_range::LongRange`]: a `pos-slot` holder of old keys that sells its stake and
//!   builds a fork from before the sale;
//! - [`nothing_at_stake::NothingAtStake`]: a `pos-slot` stakeholder that runs the slot
//!   lottery on every block of a private tree;
//! - [`TieBreak`]: an honest node with a fixed tie-break, which is how an explicit γ is put
//!   into the network.
//!
//! An attacker is asked before the node acts on anything: the node's machinery relays or
//! withholds what its protocol says.

pub mod cartel;
pub mod double_spend;
pub mod invalid;
pub mod long_range;
pub mod nothing_at_stake;
pub mod private_chain;
pub mod selfish;

use thiserror::Error;

use super::merchant::{Merchant, merchant_of};
use super::protocol::{Honest, Protocol, Silent, TieBreak};
use crate::id::NodeId;
use crate::rng::{self, Purpose, RngStreams};
use crate::scenario::Scenario;
#[cfg(test)]
use crate::scenario::attack::PublishVia;
use crate::scenario::attack::{AttackerSpec, GammaSpec, StrategySpec};

/// Why attackers cannot get their hash power.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SharesError {
    /// Every miner is an attacker, so there is no honest power to scale to the rest.
    #[error(
        "every mining node is an attacker; honest miners need some hash power (raise mining.miners or pick other nodes)"
    )]
    NoHonestMiner,
}

/// Gives attackers their hash shares and scales the honest miners' shares to the rest.
///
/// # Errors
///
/// [`SharesError::NoHonestMiner`] if no honest miner is left to scale.
pub fn assign_attacker_shares(
    shares: &mut [f64],
    attackers: &[AttackerSpec],
) -> Result<(), SharesError> {
    if attackers.is_empty() {
        return Ok(());
    }
    let is_attacker = |n: usize| attackers.iter().any(|a| a.node.index() == n);
    let honest: f64 =
        shares.iter().enumerate().filter(|(n, _)| !is_attacker(*n)).map(|(_, s)| s).sum();
    if honest <= 0.0 {
        return Err(SharesError::NoHonestMiner);
    }
    let attack: f64 = attackers.iter().map(|a| a.share).sum();
    let scale = (1.0 - attack) / honest;
    for (n, s) in shares.iter_mut().enumerate() {
        if !is_attacker(n) {
            *s *= scale;
        }
    }
    for a in attackers {
        shares[a.node.index()] = a.share;
    }
    Ok(())
}

/// Picks, with stream `(Attacker, 1 + attacker index)`, honest miners (in a seeded random
/// order) until their share of the honest hash power is as close to `gamma` as whole miners
/// allow; returns them sorted and the share they hold.
pub fn gamma_subset(
    shares: &[f64],
    attackers: &[AttackerSpec],
    index: usize,
    gamma: f64,
    streams: &RngStreams,
) -> (Vec<NodeId>, f64) {
    let mut honest: Vec<NodeId> = NodeId::all(shares.len() as u32)
        .filter(|&n| shares[n.index()] > 0.0 && attackers.iter().all(|a| a.node != n))
        .collect();
    let total: f64 = honest.iter().map(|&n| shares[n.index()]).sum();
    let mut rng = streams.stream(Purpose::Attacker, 1 + index as u64);
    for i in (1..honest.len()).rev() {
        let j = rng::below(&mut rng, i as u64 + 1) as usize;
        honest.swap(i, j);
    }
    let mut chosen = Vec::new();
    let mut held = 0.0;
    for &n in &honest {
        let with = held + shares[n.index()] / total;
        if (with - gamma).abs() >= (held - gamma).abs() {
            break;
        }
        held = with;
        chosen.push(n);
    }
    chosen.sort_unstable();
    (chosen, held)
}

/// Every node's protocol, and what the setup drew for an explicit γ.
pub struct Protocols {
    /// By node.
    pub by_node: Vec<Box<dyn Protocol>>,
    /// Per attacker in scenario order: the share of honest hash power that favours its blocks
    /// in a tie, for an explicit γ.
    pub gamma_subset: Vec<Option<f64>>,
}

/// The protocols a scenario gives its nodes, from the final hash shares: honest by default;
/// with an explicit γ every honest node breaks ties by it; each attacker its strategy; the
/// merchant of a double spend keeps a shop on top of its protocol.
pub fn protocols(scenario: &Scenario, shares: &[f64], streams: &RngStreams) -> Protocols {
    let attackers = &scenario.attackers;
    let nodes = shares.len();
    let mut subsets = vec![None; attackers.len()];
    let mut tie_breaks: Vec<TieBreak> = vec![TieBreak::default(); nodes];
    let mut any_tie_break = false;
    for (i, a) in attackers.iter().enumerate() {
        if let StrategySpec::Selfish { gamma: GammaSpec::Fixed(gamma), .. } = a.strategy {
            any_tie_break = true;
            let (subset, held) = gamma_subset(shares, attackers, i, gamma, streams);
            subsets[i] = Some(held);
            for (n, t) in tie_breaks.iter_mut().enumerate() {
                if subset.binary_search(&NodeId::from_index(n)).is_ok() {
                    t.favoured.push(a.node);
                } else {
                    t.disfavoured.push(a.node);
                }
            }
        }
    }
    let mut by_node: Vec<Box<dyn Protocol>> = if any_tie_break {
        tie_breaks.into_iter().map(|t| Box::new(t) as Box<dyn Protocol>).collect()
    } else {
        (0..nodes).map(|_| Box::new(Honest) as Box<dyn Protocol>).collect()
    };
    for a in attackers {
        let p: Box<dyn Protocol> = match a.strategy {
            StrategySpec::Honest if a.relay => Box::new(Honest),
            StrategySpec::Honest => Box::new(Silent),
            StrategySpec::PrivateChain(spec) => {
                Box::new(private_chain::PrivateChain::new(spec, a.relay))
            }
            StrategySpec::DoubleSpend(d) => {
                Box::new(double_spend::DoubleSpend::new(scenario, a.node, d, a.relay))
            }
            StrategySpec::Selfish { publish, on_header, .. } => {
                Box::new(selfish::Selfish::new(a.relay).publishing(publish, on_header))
            }
            StrategySpec::Invalid(ref spec) => {
                Box::new(invalid::InvalidPeer::new(spec.clone(), a.relay))
            }
            StrategySpec::LongRange(spec) => {
                Box::new(long_range::LongRange::new(scenario, a.node, spec))
            }
            StrategySpec::NothingAtStake(spec) => {
                Box::new(nothing_at_stake::NothingAtStake::new(scenario, a.node, spec, a.relay))
            }
            StrategySpec::Cartel(ref spec) => {
                let (members, _) = crate::scenario::cartel::cartel_of(attackers).expect("a member");
                Box::new(cartel::Cartel::new(spec, members))
            }
        };
        by_node[a.node.index()] = p;
    }
    if let Some((merchant, z)) = merchant_of(scenario) {
        let inner = std::mem::replace(&mut by_node[merchant.index()], Box::new(Honest));
        by_node[merchant.index()] = Box::new(Merchant::new(inner, z));
    }
    Protocols { by_node, gamma_subset: subsets }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn attacker(node: u32, share: f64, gamma: GammaSpec) -> AttackerSpec {
        AttackerSpec {
            node: NodeId(node),
            share,
            relay: true,
            strategy: StrategySpec::Selfish { gamma, publish: PublishVia::Relay, on_header: true },
        }
    }

    #[test]
    fn attacker_shares_replace_and_honest_shares_scale_to_the_rest() {
        let mut shares = vec![0.25, 0.25, 0.25, 0.25];
        assign_attacker_shares(&mut shares, &[attacker(1, 0.4, GammaSpec::Emergent)]).unwrap();
        assert!((shares[1] - 0.4).abs() < 1e-12);
        for n in [0, 2, 3] {
            assert!((shares[n] - 0.2).abs() < 1e-12, "{shares:?}");
        }
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let mut only = vec![1.0, 0.0];
        assert!(
            assign_attacker_shares(&mut only, &[attacker(0, 0.3, GammaSpec::Emergent)]).is_err()
        );
    }

    #[test]
    fn gamma_subset_holds_the_closest_share_of_honest_power() {
        let mut shares = vec![0.0; 41];
        shares[0] = 0.3;
        for s in &mut shares[1..] {
            *s = 0.7 / 40.0;
        }
        let a = [attacker(0, 0.3, GammaSpec::Fixed(0.5))];
        let streams = RngStreams::new(5);
        let (subset, held) = gamma_subset(&shares, &a, 0, 0.5, &streams);
        assert_eq!(subset.len(), 20);
        assert!((held - 0.5).abs() < 1e-12);
        assert!(!subset.contains(&NodeId(0)), "the attacker is not in its own subset");
        let (none, held) = gamma_subset(&shares, &a, 0, 0.0, &streams);
        assert!(none.is_empty() && held == 0.0);
        // The same seed picks the same miners.
        assert_eq!(gamma_subset(&shares, &a, 0, 0.5, &streams).0, subset);
    }

    #[test]
    fn every_node_gets_a_protocol_and_attackers_their_strategy() {
        let text = r#"
[network]
nodes = 10
[network.latency]
model = "constant"
ms = 10
[mining]
miners = 10
[[attacker]]
node = "n3"
share = 0.3
strategy = "private-chain"
"#;
        let scenario =
            crate::scenario::from_str(text, std::path::Path::new("t.toml"), &[], None).unwrap();
        let shares = vec![0.1; 10];
        let p = protocols(&scenario, &shares, &RngStreams::new(1));
        let names: Vec<&str> = p.by_node.iter().map(|p| p.name()).collect();
        assert_eq!(names.len(), 10);
        assert_eq!(names[3], "private-chain");
        assert!(names.iter().enumerate().all(|(n, name)| n == 3 || *name == "honest"));
        assert_eq!(p.gamma_subset, vec![None], "no tie-breaks without an explicit gamma");
    }
}
