//! Who the nodes of a scenario are: their hash power, their protocols and, for an eclipsed
//! node, whom the attacker lets it talk to.
//!
//! Hash shares are drawn for the honest miners first (stream `(Population, 1)`), or, for a
//! measured preset, placed without a draw: each pool on a node of its region in the
//! network as built (see `mining::place_pools`). Attackers
//! then take their configured shares and the honest shares are scaled to the rest. An
//! explicit γ picks its tie-breaking subset of honest miners from stream `(Attacker, 1 + i)`;
//! an eclipse draws the latencies of the victim's new links from `(Latency, 1)`.

use thiserror::Error;

use super::Protocol;
use super::attacker::{self, SharesError};
use crate::id::NodeId;
use crate::mining::assign_hash_shares;
use crate::network::groups::Group;
use crate::network::{Network, NetworkError};
use crate::rng::{Purpose, RngStreams};
use crate::scenario::Scenario;
use crate::scenario::groups::{ExtraLinks, Members};

/// Why a scenario's nodes cannot be set up on its network.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PopulationError {
    /// Rewiring an eclipsed node's links disconnects the network.
    #[error(
        "field `network.eclipse` = {{ victim = \"{victim}\", attackers = [{attackers} nodes] }}: rewiring the victim's links breaks the network: {source}"
    )]
    Eclipse {
        /// The victim's name.
        victim: String,
        /// How many attacker nodes surround it.
        attackers: usize,
        /// Why.
        source: NetworkError,
    },
    /// Attackers cannot get their hash power.
    #[error("field `attacker` = [{attackers} attackers]: {source}")]
    Shares {
        /// How many attackers.
        attackers: usize,
        /// Why.
        source: SharesError,
    },
    /// A `[[network.group]]` cannot be applied.
    #[error("field `network.group`: {source}")]
    Groups {
        /// Why.
        source: NetworkError,
    },
}

/// The nodes of a run, before they start.
pub struct Population {
    /// The network, after any eclipse.
    pub network: Network,
    /// Each node's share of the hash power.
    pub hash_shares: Vec<f64>,
    /// Each node's protocol.
    pub protocols: Vec<Box<dyn Protocol>>,
    /// Per attacker in scenario order: the honest share favouring it in ties (explicit γ).
    pub gamma_subset: Vec<Option<f64>>,
}

/// Sets up the nodes of `scenario` on `network`.
///
/// # Errors
///
/// A [`PopulationError`] when the eclipse disconnects the network or no honest miner is left.
pub fn assemble(
    scenario: &Scenario,
    network: Network,
    streams: &RngStreams,
) -> Result<Population, PopulationError> {
    let network = match &scenario.eclipse {
        None => network,
        Some(e) => {
            let mut rng = streams.stream(Purpose::Latency, 1);
            let victim = e.victim;
            network.eclipsed(victim, &e.attackers, &scenario.network.latency, &mut rng).map_err(
                |source| PopulationError::Eclipse {
                    victim: scenario.node_names[victim.index()].clone(),
                    attackers: e.attackers.len(),
                    source,
                },
            )?
        }
    };
    let node_region: Vec<&str> = NodeId::all(scenario.network.nodes)
        .map(|n| network.region_names()[network.region_of(n)].as_str())
        .collect();
    let mut hash_shares = assign_hash_shares(
        scenario.network.nodes,
        scenario.mining.miners,
        &scenario.mining.hash_power,
        &node_region,
        &mut streams.stream(Purpose::Population, 1),
    );
    attacker::assign_attacker_shares(&mut hash_shares, &scenario.attackers).map_err(|source| {
        PopulationError::Shares { attackers: scenario.attackers.len(), source }
    })?;
    let protocols = attacker::protocols(scenario, &hash_shares, streams);
    let miners: Vec<bool> = hash_shares.iter().map(|&s| s > 0.0).collect();
    let spread_rng = &mut streams.stream(Purpose::Population, 9);
    let network = match scenario.bandwidth_distribution {
        Some(measured) => network.with_measured_bandwidth(measured, &miners, spread_rng),
        None => network.with_bandwidth_spread(
            scenario.bandwidth_sigma,
            scenario.bandwidth_spread_independent,
            &miners,
            spread_rng,
        ),
    };
    let network = with_groups(scenario, network, &hash_shares, streams)?;
    Ok(Population {
        network,
        hash_shares,
        protocols: protocols.by_node,
        gamma_subset: protocols.gamma_subset,
    })
}

/// Applies the scenario's `[[network.group]]`s, with roles resolved: miners are the nodes
/// with hash power, attackers the scenario's attacker nodes.
fn with_groups(
    scenario: &Scenario,
    network: Network,
    hash_shares: &[f64],
    streams: &RngStreams,
) -> Result<Network, PopulationError> {
    if scenario.groups.is_empty() {
        return Ok(network);
    }
    let nodes = scenario.network.nodes;
    let groups: Vec<Group> = scenario
        .groups
        .iter()
        .map(|g| {
            let members: Vec<NodeId> = match &g.members {
                Members::Miners => {
                    NodeId::all(nodes).filter(|n| hash_shares[n.index()] > 0.0).collect()
                }
                Members::Attackers => {
                    let mut a: Vec<NodeId> = scenario.attackers.iter().map(|a| a.node).collect();
                    a.sort_unstable();
                    a.dedup();
                    a
                }
                Members::Nodes(list) => list.clone(),
            };
            let (extra_links, peers_min) = match g.extra {
                ExtraLinks::Count(k) => (k, 0),
                ExtraLinks::Share(share) => ((share * f64::from(nodes)).round() as u32, 0),
                ExtraLinks::UpTo(min) => (0, min),
            };
            Group {
                members,
                upload_bps: g.upload_bps,
                download_bps: g.download_bps,
                mesh: g.mesh,
                mesh_latency: g.mesh_latency,
                mesh_bandwidth_bps: g.mesh_bandwidth_bps,
                extra_links,
                peers_min,
                peers_max: g.peers_max.unwrap_or(0),
                region: g.region,
            }
        })
        .collect();
    network
        .with_groups(
            &groups,
            &scenario.network.latency,
            &mut streams.stream(Purpose::Latency, 4),
            &mut streams.stream(Purpose::Topology, 1),
        )
        .map_err(|source| PopulationError::Groups { source })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::network::Network;
    use crate::scenario::HashPowerSpec;

    /// The scenario `scenarios/<file>` on `seed`, its network and its nodes' hash shares.
    fn shipped(file: &str, seed: u64) -> (Scenario, Network, Vec<f64>) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file);
        let scenario = crate::scenario::load(&path, &[], Some(seed)).expect("shipped scenario");
        let streams = RngStreams::new(scenario.seed);
        let network = Network::build(&scenario.network, &streams).expect("shipped network");
        let population = assemble(&scenario, network, &streams).expect("shipped population");
        (scenario, population.network, population.hash_shares)
    }

    fn sorted(mut shares: Vec<f64>) -> Vec<f64> {
        shares.retain(|&s| s > 0.0);
        shares.sort_by(f64::total_cmp);
        shares
    }

    #[test]
    fn quickstart_has_no_majority_miner_on_seeds_1_to_20() {
        let (_, _, first) = shipped("quickstart.toml", 1);
        for seed in 1..=20 {
            let (_, _, shares) = shipped("quickstart.toml", seed);
            let top = shares.iter().copied().fold(0.0, f64::max);
            assert!(top < 0.5, "seed {seed}: one miner holds {top} of the hash power");
            // A preset draws nothing: the same shares on every seed, wherever they sit.
            assert_eq!(sorted(shares), sorted(first.clone()), "seed {seed}");
        }
    }

    #[test]
    fn measured_scenarios_put_every_pool_in_its_region() {
        for file in ["quickstart.toml", "litecoin.toml", "dogecoin.toml"] {
            let (scenario, network, shares) = shipped(file, 1);
            let HashPowerSpec::Preset(preset) = scenario.mining.hash_power else {
                panic!("{file} does not use a preset");
            };
            for region in network.region_names() {
                let placed: Vec<f64> = NodeId::all(scenario.network.nodes)
                    .filter(|&n| network.region_names()[network.region_of(n)] == *region)
                    .map(|n| shares[n.index()])
                    .collect();
                let wanted: Vec<f64> = preset
                    .pools
                    .iter()
                    .zip(preset.shares())
                    .filter(|(p, _)| p.region == region)
                    .map(|(_, s)| s)
                    .collect();
                assert_eq!(sorted(placed), sorted(wanted), "{file}: region {region}");
            }
        }
    }
}
