//! World-level checks of the consensus kinds: whole runs on a simulated network.

use std::path::Path;

use super::{Remains, World, network_digest};
use crate::chain::RejectReason;
use crate::consensus::praos::phi;
use crate::consensus::seal::StakeKeys;
use crate::engine::Limits;
use crate::id::NodeId;
use crate::node::producer::Producer;
use crate::observe::{Observer, Record};
use crate::rng::{Purpose, RngStreams};
use crate::scenario::{self, Override, Scenario};

/// Watches nothing.
pub(super) struct Quiet;

impl Observer for Quiet {
    fn record(&mut self, _: &Record, _: &crate::chain::BlockStore) {}
}

/// A small regional network of 12 nodes, 4 of them holding stake 0.1, 0.2, 0.3 and 0.4.
pub(super) const SLOT_RUN: &str = r#"
[run]
seed = 7
blocks = 1500
[chain]
block_interval_s = 5
[mining]
miners = 4
block_size_bytes = 20_000
[network]
nodes = 12
topology = { kind = "random", outbound = 4 }
[consensus]
kind = "pos-slot"
slot_s = 1.0
active_slot_coeff = 0.2
k = 50
[stake]
shares = [0.1, 0.2, 0.3, 0.4]
"#;

pub(super) fn load(text: &str, sets: &[&str]) -> Scenario {
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    scenario::from_str(text, Path::new("pos-slot-test.toml"), &overrides, None).unwrap()
}

pub(super) fn build(scenario: &Scenario) -> World<Quiet> {
    World::build(scenario, Quiet, ()).unwrap()
}

pub(super) fn run<O: Observer>(mut world: World<O>, scenario: &Scenario) -> Remains<O> {
    let limits = Limits { max_events: scenario.run.max_events, max_time: scenario.run.max_time };
    world.run(limits, scenario.run.drain);
    world.finish().0
}

/// A long cheap run (1500 blocks, about 7000 slots): the share of slots without a leader
/// is 1 − f, and each stakeholder leads a share φ(σ) of the slots, both within 4 standard
/// errors (a binomial proportion's); no block is rejected, every node ends on one chain
/// (up to a tie in the last slot) whose slots strictly increase, and every block but genesis carries a seal.
#[test]
fn pos_slot_empty_slots_at_one_minus_f_and_leaders_at_phi() {
    let scenario = load(SLOT_RUN, &[]);
    let remains = run(build(&scenario), &scenario);
    let stake = remains.shared.stake.as_ref().expect("a slot run keeps its stake state");
    let (slots, empty) = stake.slots.slots_and_empty();
    assert!(slots > 5_000, "{slots} slots");
    let f = 0.2;
    let se = (f * (1.0 - f) / slots as f64).sqrt();
    let empty_rate = empty as f64 / slots as f64;
    assert!((empty_rate - (1.0 - f)).abs() < 4.0 * se, "empty {empty_rate} over {slots} slots");
    for (i, sigma) in [0.1, 0.2, 0.3, 0.4].into_iter().enumerate() {
        let p = phi(f, sigma).unwrap();
        let led = stake.slots.led[i] as f64 / stake.slots.evaluated[i] as f64;
        let se = (p * (1.0 - p) / stake.slots.evaluated[i] as f64).sqrt();
        assert!((led - p).abs() < 4.0 * se, "node {i}: led {led}, phi {p}");
    }
    for node in &remains.nodes {
        assert!(node.rejected().iter().all(|&r| r == 0), "{}: {:?}", node.id(), node.rejected());
    }
    let store = &remains.shared.store;
    let tip = remains.nodes[0].tip();
    // Every node ends on one chain; only a tie of the last slot may split them (a slot can
    // have several leaders, and each node keeps the block it saw first).
    for n in &remains.nodes {
        let fork = store.get(store.fork_point(n.tip(), tip)).height;
        let (a, b) = (store.get(n.tip()).height, store.get(tip).height);
        assert!(a == b && a - fork <= 1, "{}: tip at {a}, node 0's at {b}, fork at {fork}", n.id());
        assert_eq!(stake.seals.slot_of(n.tip()), stake.seals.slot_of(tip), "{}", n.id());
    }
    let chain = store.chain_to(tip);
    assert!(chain.len() > 1000);
    let slots_on_chain: Vec<u64> = chain.iter().map(|&b| stake.seals.slot_of(b)).collect();
    assert!(slots_on_chain.windows(2).all(|w| w[0] < w[1]), "slots increase along the chain");
    assert!(chain[1..].iter().all(|&b| stake.seals.get(b).is_some()));
    // Blocks are bigger on the wire by their seal (a block inside the prune window: a final
    // block's stored body is emptied).
    let b = chain[chain.len() - 5];
    let plain = crate::network::message::WireSizes::of(&store.get(b).block, 0.0).block;
    assert_eq!(remains.shared.costs.get(b).wire.block, plain + 172);
}

/// A node that claims slots with keys that are not its registered ones: with another VRF
/// key its proofs fail (`bad-leader-claim`); with its own VRF key but another signing key
/// its signatures fail (`bad-block-signature`). Its peers reject such blocks with that
/// reason and relay none, and the honest stakeholders' chain goes on without them.
#[test]
fn pos_slot_forged_claims_and_signatures_are_rejected_with_their_reasons() {
    let scenario = load(SLOT_RUN, &["run.blocks=300"]);
    let streams = RngStreams::new(scenario.seed);
    for (forge_vrf, reason) in
        [(true, RejectReason::BadLeaderClaim), (false, RejectReason::BadBlockSignature)]
    {
        let mut world = build(&scenario);
        let own = StakeKeys::from_rng(&mut streams.stream(Purpose::Election, 3));
        let other = StakeKeys::from_rng(&mut streams.stream(Purpose::Election, 99));
        let keys = if forge_vrf {
            StakeKeys { vrf: other.vrf, signing: own.signing }
        } else {
            StakeKeys { vrf: own.vrf, signing: other.signing }
        };
        world.nodes[3].set_producer(Producer::new(3, keys));
        let remains = run(world, &scenario);
        let stake = remains.shared.stake.as_ref().unwrap();
        let forged = remains
            .shared
            .store
            .ids()
            .filter(|&b| stake.seals.get(b).is_some_and(|s| s.producer == NodeId(3)));
        let forged = forged.count() as u64;
        assert!(forged > 10, "the forger produced {forged} blocks");
        let graph = remains.transport.graph();
        let peers: Vec<NodeId> = graph.links_of(NodeId(3)).map(|l| graph.link_target(l)).collect();
        for node in remains.nodes.iter().filter(|n| n.id() != NodeId(3)) {
            let rejected = node.rejected();
            // The forger's peers reject its blocks and relay none of them, so nobody else
            // hears of them. Blocks built on the forger's blocks are refused as children of
            // invalid ones.
            if peers.contains(&node.id()) {
                assert!(rejected[reason.index()] > 0, "{}: {rejected:?}", node.id());
            } else {
                assert_eq!(rejected[reason.index()], 0, "{}: {rejected:?}", node.id());
            }
            assert!(rejected[reason.index()] <= forged, "{}: {rejected:?}", node.id());
            let other_reasons = RejectReason::ALL
                .iter()
                .filter(|r| **r != reason && **r != RejectReason::BadPrevBlk)
                .map(|r| rejected[r.index()])
                .sum::<u64>();
            assert_eq!(other_reasons, 0, "{}: {rejected:?}", node.id());
        }
        let tip = remains.nodes[0].tip();
        let chain = remains.shared.store.chain_to(tip);
        assert!(
            chain[1..].iter().all(|&b| stake.seals.get(b).unwrap().producer != NodeId(3)),
            "no forged block on the honest chain"
        );
    }
}

/// The same seed gives the same network whatever the consensus kind (the digest of
/// topology, regions and link parameters); another seed gives another.
#[test]
fn network_digest_is_the_same_across_kinds_for_one_seed() {
    let text = SLOT_RUN.replace("blocks = 1500", "blocks = 20");
    let slot = load(&text, &[]);
    let pow_text = text.split("[consensus]").next().unwrap().to_string();
    let pow = load(&pow_text, &[]);
    assert_eq!(pow.consensus.kind, crate::consensus::ConsensusKind::Pow);
    let digest = |s: &Scenario| network_digest(run(build(s), s).transport.graph());
    let d = digest(&slot);
    assert_eq!(d, digest(&pow));
    let stake = "[stake]\nshares = [0.1, 0.2, 0.3, 0.4]\n";
    let dpos = format!("{pow_text}[consensus]\nkind = \"dpos\"\nproducers = 3\n{stake}");
    assert_eq!(d, digest(&load(&dpos, &[])));
    assert_eq!(d.len(), 64);
    assert_ne!(d, digest(&load(&text, &["run.seed=8"])));
}

/// Two runs of one slot scenario write byte-identical result files (the standard ones,
/// `finality.csv` and `consensus.json`); the results see the stake blocks' main chain.
#[test]
fn pos_slot_replays_byte_identically() {
    let scenario = load(SLOT_RUN, &["run.blocks=200"]);
    let render = || {
        let outcome = crate::run::run(&scenario).unwrap();
        let best = outcome.store.get(outcome.main_chain.best).height;
        assert!(best > 150, "main chain height {best}");
        let mut files = crate::results::files::render(&scenario, &outcome).files;
        files.extend(crate::consensus::report::files(&scenario, &outcome));
        files
    };
    let (a, b) = (render(), render());
    assert!(a.iter().any(|(name, _)| *name == "finality.csv"));
    assert_eq!(a, b);
}

/// Keeps every record, as text, in order.
struct Everything(Vec<String>);

impl Observer for Everything {
    fn record(&mut self, record: &Record, _: &crate::chain::BlockStore) {
        self.0.push(format!("{record:?}"));
    }

    /// As the metrics: messages unwatched, so ignored announcements take the short paths.
    fn wants_messages(&self) -> bool {
        false
    }
}

/// Asking the processor for the likely next event's memory is a hint: a run with it gives
/// the same records, in the same order, and the same event count as a run without it.
/// (Shipped runs below 4 MiB of link records never take it, so it is forced on here.)
#[test]
fn prefetching_the_next_event_changes_nothing() {
    let text = include_str!("../../scenarios/bitcoin-2019.toml");
    let scenario = load(text, &["network.nodes=300", "run.blocks=40"]);
    let limits = Limits { max_events: scenario.run.max_events, max_time: scenario.run.max_time };
    let run_with = |prefetching: bool| {
        let mut world = World::build(&scenario, Everything(Vec::new()), ()).unwrap();
        assert!(!world.prefetching, "300 nodes hold less than the threshold's link records");
        world.prefetching = prefetching;
        assert_eq!(crate::engine::Model::wants_prefetch(&world), prefetching);
        let stats = world.run(limits, scenario.run.drain);
        (stats.events, world.finish().0.observer.0)
    };
    let (events_without, records_without) = run_with(false);
    let (events_with, records_with) = run_with(true);
    assert!(records_without.len() > 5_000, "{} records", records_without.len());
    assert_eq!(events_with, events_without);
    assert!(records_with == records_without, "the records differ");
}

/// Leaving undelivered the messages a receiver would ignore is exact: a run that delivers
/// every message gives the same records, in the same order. Checked where it is hardest:
/// Gervais et al.'s relay, whose requests time out (a node that asked for a block still
/// notes who else announces it, and asks one of them when its request times out), with
/// timeouts short enough against 2 MB blocks on their slow links that hundreds fire.
#[test]
fn leaving_ignored_messages_undelivered_changes_nothing() {
    let text = include_str!("../../scenarios/references/gervais-2015.toml");
    let scenario = load(
        text,
        &[
            "network.nodes=300",
            "run.blocks=30",
            "mining.block_size_bytes=2000000",
            "network.relay.request_timeout_s=60",
            "network.group[0].peers_min=60",
        ],
    );
    let limits = Limits { max_events: scenario.run.max_events, max_time: scenario.run.max_time };
    let run_with = |prune: bool| {
        let mut world = World::build(&scenario, Everything(Vec::new()), ()).unwrap();
        if !prune {
            world.pruning = super::Pruning::NONE;
        }
        let stats = world.run(limits, scenario.run.drain);
        let remains = world.finish().0;
        (stats.events, remains.observer.0)
    };
    let (events_all, records_all) = run_with(false);
    let (events_pruned, records_pruned) = run_with(true);
    assert!(records_all.len() > 2_000, "{} records", records_all.len());
    assert!(events_pruned < events_all, "pruning left {events_pruned} of {events_all} events");
    assert!(records_pruned == records_all, "the records differ");
}
