//! Assembling the world a scenario describes: the network, genesis (and the payments it
//! funds), the nodes (hash power and protocols, from [`crate::node::population`]), their
//! mining clocks and random streams, compact-block peers and the timeline.
//!
//! Every random draw comes from its own stream keyed by purpose, so the order of these steps
//! does not matter to the result, and one more draw in one step never shifts another.

use std::cell::Cell;

use thiserror::Error;

use super::{Monitor, Phase, World};
use crate::chain::pow::target_for_expected_hashes;
use crate::observe::backlog::Backlog;
use std::sync::Arc;

use crate::chain::params::NO_PROOF_OF_WORK_SHIFT;
use crate::chain::{BlockStore, CompactTarget, ConsensusParams};
use crate::consensus::epochs::EpochClock;
use crate::consensus::praos::{EpochNonce, SlotLottery};
use crate::consensus::rewards::{BlockRewards, StakeSnapshots};
use crate::consensus::seal::{Party, SlotRules, StakeKeys, StakeState};
use crate::consensus::{ConsensusKind, Rule};
use crate::driver::Driver;
use crate::id::{LinkId, NodeId};
use crate::mining::TemplateSpec;
use crate::network::faults::{Faults, FaultsError};
use crate::network::latency::LinkDraws;
use crate::network::transport::Transport;
use crate::network::{Network, NetworkError};
use crate::node::ctx::{NodeSettings, NodeStreams, Peers, Shared};
use crate::node::population::{self, PopulationError};
use crate::node::producer::Producer;
use crate::node::producer_signed::SignedProducer;
use crate::node::{MAX_FUTURE_BLOCK_TIME_S, Miner, Node};
use crate::observe::Observer;
use crate::payments;
use crate::rng::{self, Purpose, RngStreams, SimRng};
use crate::scenario::consensus::KindParams;
use crate::scenario::{MiningMode, RelayProtocol, Scenario};
use rand::Rng as _;

/// Why the world of a valid scenario cannot be built.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The network cannot be built (a disconnected graph, impossible degrees).
    #[error("{origin}: field `network.topology` = {value}: cannot build this network: {source}")]
    Network {
        /// The scenario file.
        origin: String,
        /// The topology, as written.
        value: String,
        /// Why.
        source: NetworkError,
    },
    /// The nodes cannot be set up on the network.
    #[error("{origin}: {source}")]
    Population {
        /// The scenario file.
        origin: String,
        /// Why.
        source: PopulationError,
    },
    /// The consensus kind cannot run with this stake.
    #[error("{origin}: {source}")]
    Consensus {
        /// The scenario file.
        origin: String,
        /// Why.
        source: super::kinds::TooFewStakeholders,
    },
    /// A timeline entry is impossible on this network.
    #[error("{origin}: {source}")]
    Timeline {
        /// The scenario file.
        origin: String,
        /// Why.
        source: FaultsError,
    },
}

/// The consensus parameters a scenario implies, with the initial difficulty.
///
/// In sampled mode the simulation target is the bits target shifted left so that grinding
/// a nonce takes about `grind_hashes` hashes at the initial difficulty; in ground mode the
/// real target is used.
fn consensus_params(scenario: &Scenario) -> (ConsensusParams, CompactTarget) {
    let chain = &scenario.chain;
    let mining = &scenario.mining;
    let expected = mining.network_hashrate_hs * chain.block_interval_s;
    let bits = CompactTarget::from_target(target_for_expected_hashes(expected));
    let sim_target_shift = match mining.mode {
        _ if scenario.consensus.kind != ConsensusKind::Pow => NO_PROOF_OF_WORK_SHIFT,
        MiningMode::Ground => 0,
        MiningMode::Sampled => {
            libm::floor(libm::log2(expected / mining.grind_hashes)).max(0.0) as u32
        }
    };
    // Stake blocks carry no proof of work: their bits never change, so every block has the
    // same work and most work is longest chain.
    let pow = scenario.consensus.kind == ConsensusKind::Pow;
    let params = ConsensusParams {
        retarget_interval: if pow { chain.retarget_interval } else { 0 },
        target_block_interval_s: chain.block_interval_s as u32,
        pow_limit: chain.pow_limit_bits.to_target().expect("validated when the scenario loaded"),
        max_block_size_bytes: chain.max_block_size_bytes,
        sim_target_shift,
        max_future_block_time_s: MAX_FUTURE_BLOCK_TIME_S,
        median_time_span: 11,
        coinbase_maturity: 100,
        halving_interval: 210_000,
    };
    (params, bits)
}

/// The network of a scenario, as built from its spec.
fn network(scenario: &Scenario, streams: &RngStreams) -> Result<Network, BuildError> {
    Network::build(&scenario.network, streams).map_err(|source| BuildError::Network {
        origin: scenario.source.display().to_string(),
        value: scenario
            .resolved
            .network
            .topology
            .as_ref()
            .and_then(|t| t.kind.clone())
            .map_or_else(|| "(default)".to_string(), |k| format!("kind = \"{k}\"")),
        source,
    })
}

/// Each compact-block node picks up to `per_node` of its compact-speaking peers, at random,
/// as its initial high-bandwidth peers (it changes them during the run by recent fastest
/// delivery, see [`crate::node::relay`]); returns, by directed link, whether the link's
/// sender pushes compact blocks to its receiver unannounced, and by node the links to the
/// peers it chose, in the order drawn (the first counts as the most recent).
fn choose_high_bandwidth_links(
    network: &Network,
    compact: &[bool],
    per_node: u32,
    rng: &mut SimRng,
) -> (Vec<Cell<bool>>, Vec<Vec<LinkId>>) {
    let high_bandwidth = vec![Cell::new(false); network.link_count()];
    let mut chosen = vec![Vec::new(); network.node_count() as usize];
    for node in NodeId::all(network.node_count()).filter(|n| compact[n.index()]) {
        let mut candidates: Vec<LinkId> =
            network.links_of(node).filter(|&l| compact[network.link_target(l).index()]).collect();
        let take = (per_node as usize).min(candidates.len());
        for i in 0..take {
            let j = i + rng::below(rng, (candidates.len() - i) as u64) as usize;
            candidates.swap(i, j);
            high_bandwidth[network.reverse_link(candidates[i]).index()].set(true);
        }
        candidates.truncate(take);
        chosen[node.index()] = candidates;
    }
    (high_bandwidth, chosen)
}

/// A `pos-slot` run's rules and each node's secret keys (`None` for nodes without stake);
/// `None` for other kinds. Stake is `[stake] shares` or, without it, the hash-power shares
/// (which then stand for stake in `shares`, so results report them per producer); keys come
/// from each stakeholder's election stream.
/// The third part is the run's stake snapshots (block rewards compounding into stake: see
/// `consensus::rewards`).
fn stake_setup(
    scenario: &Scenario,
    shares: &mut [f64],
    streams: &RngStreams,
) -> Option<(SlotRules, Vec<Option<StakeKeys>>, StakeSnapshots)> {
    let KindParams::PosSlot { slot, f, k, epoch_slots, block_reward } = scenario.consensus.params
    else {
        return None;
    };
    let mut keys: Vec<Option<StakeKeys>> = (0..shares.len()).map(|_| None).collect();
    let mut parties = Vec::new();
    let mut units = Vec::new();
    for holder in super::kinds::stakeholders(scenario, shares, streams) {
        let (node, k) = (holder.node, holder.keys);
        parties.push(Party { node, vrf: k.vrf.public(), signing: k.signing.pubkey() });
        // σ is the ratio of the stakes' units.
        units.push(holder.units);
        keys[node.index()] = Some(k);
    }
    let lottery = SlotLottery::new(f, &units).expect("validated: f in (0, 1], some stake");
    let rule = Rule::for_kind(ConsensusKind::PosSlot, 0, k);
    let clock = EpochClock { genesis: EpochNonce::genesis(scenario.seed), epoch_slots };
    let holders = parties.iter().map(|p| p.node).collect();
    let mut rewards = BlockRewards::new(holders, units, block_reward);
    if let Some(sale) = crate::node::attacker::long_range::sale_of(scenario) {
        rewards = rewards.with_sale(sale);
    }
    let snapshots = StakeSnapshots::new(rewards, f);
    let rules = SlotRules::new(rule, slot, lottery, clock, parties, shares.len())
        .with_sync(scenario.consensus.sync)
        .with_leader_input(scenario.consensus.leader_input);
    Some((rules, keys, snapshots))
}

impl<O: Observer, M: Monitor> World<O, M> {
    /// Builds the world a scenario describes, watched by `observer` and `monitor`.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] naming the scenario's fields when the network cannot be built, the
    /// nodes cannot be set up on it, or a timeline entry is impossible on it.
    pub fn build(scenario: &Scenario, observer: O, monitor: M) -> Result<Self, BuildError> {
        let streams = RngStreams::new(scenario.seed);
        let origin = scenario.source.display().to_string();
        let (params, bits) = consensus_params(scenario);
        let nodes_n = scenario.network.nodes;
        let (genesis, funded) = payments::genesis(scenario, &streams, &params, bits);
        let store = BlockStore::new(genesis, params).with_prune_depth(scenario.chain.prune_depth);
        let population = population::assemble(scenario, network(scenario, &streams)?, &streams)
            .map_err(|source| BuildError::Population { origin: origin.clone(), source })?;
        let network = population.network;
        let mut hash_shares = population.hash_shares;
        let mut stake = stake_setup(scenario, &mut hash_shares, &streams);
        let mut signed = super::kinds::signed_setup(scenario, &mut hash_shares, &streams)
            .map_err(|source| BuildError::Consensus { origin: origin.clone(), source })?;
        let faults = if scenario.timeline.is_empty() {
            None
        } else {
            let faults = Faults::new(&scenario.timeline, &network, streams)
                .map_err(|source| BuildError::Timeline { origin: origin.clone(), source })?;
            Some(faults)
        };

        let relay = scenario.relay.clone();
        let compact_run = relay.protocol == RelayProtocol::Compact;
        let compact_rng = &mut streams.stream(Purpose::Population, 2);
        let compact: Vec<bool> = (0..nodes_n)
            .map(|_| compact_run && rng::uniform01(compact_rng) < relay.compact_share)
            .collect();
        let churn_rng = &mut streams.stream(Purpose::Population, 4);
        let churn: Vec<bool> = if compact_run && relay.compact_churn_share > 0.0 {
            (0..nodes_n).map(|_| rng::uniform01(churn_rng) < relay.compact_churn_share).collect()
        } else {
            Vec::new()
        };
        let (high_bandwidth, chosen) = if compact_run {
            choose_high_bandwidth_links(
                &network,
                &compact,
                relay.compact_high_bandwidth_peers,
                &mut streams.stream(Purpose::Population, 3),
            )
        } else {
            (Vec::new(), Vec::new())
        };

        let mut nodes = Vec::with_capacity(nodes_n as usize);
        let mut node_streams = Vec::with_capacity(nodes_n as usize);
        for (i, protocol) in population.protocols.into_iter().enumerate() {
            let share = hash_shares[i];
            let miner = (share > 0.0 && stake.is_none() && signed.is_none())
                .then(|| Miner::new(share * scenario.mining.network_hashrate_hs));
            node_streams.push(NodeStreams {
                mining: miner
                    .is_some()
                    .then(|| Box::new(streams.stream(Purpose::Mining, i as u64))),
                relay: (compact_run || relay.request_timeout.is_some())
                    .then(|| Box::new(streams.stream(Purpose::Relay, i as u64))),
            });
            let mut node = Node::new(NodeId::from_index(i), miner, protocol);
            if let Some((rules, keys, _)) = stake.as_mut() {
                let id = NodeId::from_index(i);
                if let (Some(party), Some(k)) = (rules.party(id), keys[i].take()) {
                    node.set_producer(Producer::new(party, k));
                }
            }
            if let Some(s) = signed.as_mut()
                && let Some(key) = s.keys[i].take()
            {
                let waits = s.waits.get_mut(i).and_then(Option::take);
                node.set_signed_producer(SignedProducer::new(key).with_waits(waits));
            }
            if let Some(links) = chosen.get(i) {
                node.set_high_bandwidth_peers(links);
            }
            nodes.push(node);
        }

        let draws = LinkDraws::new(streams.stream(Purpose::Latency, 2).next_u64());
        let (payments, users) = payments::start(scenario, funded, &network, &streams).unzip();
        let template_max_tx_bytes = match scenario.mining.block_size_bytes {
            0 => scenario.chain.max_block_size_bytes,
            cap => cap,
        }
        .saturating_sub(1_000);
        let settings = NodeSettings {
            mode: scenario.mining.mode,
            relay,
            template: TemplateSpec {
                genesis_time: scenario.chain.genesis_time,
                block_size_bytes: scenario.mining.block_size_bytes,
                tx_size_bytes: scenario.mining.tx_size_bytes,
            },
            validation_base: scenario.node.validation_base,
            validation_ms_per_mb: scenario.node.validation_ms_per_mb,
            validation_per_input: scenario.node.validation_per_input,
            validation_per_missing_tx: scenario.node.validation_per_missing_tx,
            orphan_pool_max: scenario.node.orphan_pool_max as usize,
            genesis_time: scenario.chain.genesis_time,
            template_max_tx_bytes,
            slots: stake.as_ref().map(|(rules, _, _)| Arc::new(rules.clone())),
            signed: None,
        };
        let mut settings = settings;
        let mut shared = Shared::new(store, payments, nodes.len());
        if let Some((_, _, snapshots)) = stake {
            let rewards = Some(snapshots);
            shared.stake = Some(Box::new(StakeState { rewards, ..StakeState::default() }));
        }
        if let Some(setup) = signed {
            settings.signed = Some(Arc::new(setup.rules));
            shared.stake = Some(Box::new(setup.state));
        }
        let banned = vec![Cell::new(false); network.link_count()];
        let pruning = super::Pruning::new(settings.relay.request_timeout.is_some());
        let transport = Transport::new(network, scenario.transfer, draws, faults);
        let prefetching = transport.link_records_bytes() >= super::PREFETCH_FROM_BYTES;
        Ok(World {
            shared,
            transport,
            nodes,
            streams: node_streams,
            peers: Peers { compact, churn, high_bandwidth, banned, any_banned: Cell::new(false) },
            settings,
            driver: users.map(|w| Box::new(w) as Box<dyn Driver<Shared>>),
            messages_watched: observer.wants_messages(),
            observer,
            monitor,
            hash_shares,
            gamma_subset: population.gamma_subset,
            phase: Phase::Mining,
            in_flight: 0,
            backlog: Backlog::default(),
            blocks_mined: 0,
            target_blocks: scenario.run.blocks,
            progress: None,
            outbox: crate::node::ctx::Outbox::default(),
            pruning,
            prefetching,
        })
    }
}
