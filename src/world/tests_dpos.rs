//! World-level checks of DPoS: whole runs on a small fast network, against the schedule
//! and the one-stage rule's derivation (`consensus::dpos`).

use super::tests::{build, load, run};
use crate::chain::BlockId;
use crate::consensus::dpos::{Candidate, last_irreversible, one_stage_lag_blocks, two_thirds_plus};
use crate::consensus::dpos_run::DposRun;
use crate::consensus::seal::StakeState;
use crate::id::NodeId;

/// 12 nodes, fully connected with 10 ms links (a block reaches everyone well within a
/// slot); nodes 0 to 8 hold stake 9, 8, ..., 1, so nodes 0 to 6 are the N = 7 producers
/// (c = 5) and nodes 7 and 8 the backups. Turns of K = 3 blocks of 1 s: a round is 21
/// slots.
const DPOS_RUN: &str = r#"
[run]
seed = 3
blocks = 252
[chain]
block_interval_s = 1
[mining]
block_size_bytes = 5_000
[network]
nodes = 12
topology = { kind = "complete" }
[network.latency]
model = "constant"
ms = 10
[consensus]
kind = "dpos"
producers = 7
blocks_per_turn = 3
block_interval_s = 1.0
[stake]
shares = [9, 8, 7, 6, 5, 4, 3, 2, 1]
"#;

const N: u32 = 7;
const K: u64 = 3;
const ROUND: u64 = N as u64 * K;

fn dpos_of(stake: &StakeState) -> &DposRun {
    stake.dpos.as_ref().expect("a dpos run keeps its schedule")
}

/// The scheduled node of `slot`, from the run's schedules (candidate k is node k here:
/// stakeholders are nodes 0 to 8 in order).
fn scheduled(run: &DposRun, slot: u64) -> NodeId {
    let round = &run.schedules()[(slot / ROUND) as usize];
    NodeId(round.producer_of(slot).expect("in its round").0)
}

/// Every producer online: every slot has its block, made by the producer
/// `Schedule::producer_of` names, and the main chain holds them all in slot order (no
/// forks on this network). Each block's irreversibility lag, in blocks, is at least
/// (c − 1) K − j ([`one_stage_lag_blocks`], j its position in the turn) and exactly that
/// when its turn leaves at least c turns in the round, at most the shuffled bound
/// otherwise; in seconds it is the lag in blocks times the slot (blocks are made at slot
/// starts), exactly (tolerance 0). The world's per-block LIB agrees with
/// [`last_irreversible`] over the chain's producers.
#[test]
fn dpos_schedule_and_irreversibility_lag_follow_the_rule() {
    let scenario = load(DPOS_RUN, &[]);
    let remains = run(build(&scenario), &scenario);
    let stake = remains.shared.stake.as_deref().unwrap();
    let dpos = dpos_of(stake);
    let store = &remains.shared.store;
    for node in &remains.nodes {
        assert!(node.rejected().iter().all(|&r| r == 0), "{}: {:?}", node.id(), node.rejected());
    }
    let tip = remains.nodes[0].tip();
    assert!(remains.nodes.iter().all(|n| n.tip() == tip), "one tip");
    let chain = store.chain_to(tip);
    assert_eq!(chain.len() as u64, 252 + 1, "no stale block");
    let (slots, missed) = dpos.slots_and_missed();
    assert_eq!(missed, 0);
    // The last slot is played when the next starts, after mining stopped.
    assert!(slots >= 251, "{slots} slots played");
    for (h, &b) in chain.iter().enumerate().skip(1) {
        let seal = stake.seals.signed(b).expect("sealed");
        let slot = seal.claim;
        assert_eq!(slot, h as u64 - 1, "slots in order, none missed");
        assert_eq!(seal.producer, scheduled(dpos, slot), "slot {slot}");
        assert_eq!(store.get(b).meta.miner, Some(seal.producer));
    }
    let makers: Vec<Candidate> =
        chain[1..].iter().map(|&b| Candidate(store.get(b).meta.miner.unwrap().0)).collect();
    let c = u64::from(two_thirds_plus(N));
    let slot_s = 1.0;
    let mut checked = 0;
    for i in 0..makers.len() {
        // The first block whose LIB reaches block i (index i = height i + 1).
        let Some(j) = (i..makers.len())
            .find(|&j| last_irreversible(&makers[..=j], N).is_some_and(|lib| lib >= i))
        else {
            continue;
        };
        let lag = (j - i) as u64;
        let (p, pos) = ((i as u64 % ROUND) / K, i as u64 % K);
        let least = one_stage_lag_blocks(N, K as u32, pos as u32);
        assert!(lag >= least, "block {i}: {lag} < {least}");
        if u64::from(N) - p >= c {
            assert_eq!(lag, least, "block {i}");
        } else {
            assert!(lag <= (K - pos) + (u64::from(N) - 1 - p) * K + (c - 1) * K, "block {i}");
        }
        let produced = |k: usize| store.get(chain[k + 1]).meta.mined_at;
        let lag_s = produced(j).saturating_since(produced(i)).as_secs_f64();
        assert_eq!(lag_s, lag as f64 * slot_s, "block {i}");
        checked += 1;
        let world_lib = dpos.lib_height(chain[j + 1]);
        assert!(u64::from(world_lib) > i as u64, "the world's LIB reaches block {i}");
    }
    assert!(checked > 200, "{checked} blocks became irreversible");
    let lib_tip = last_irreversible(&makers, N).map_or(0, |l| l as u32 + 1);
    assert_eq!(dpos.lib_height(tip), lib_tip);
}

/// Producers 1 and 4 go offline at 30.5 s and never return: each slot the schedule gives
/// them from then on is missed, and the run's count is exactly the number of such slots
/// among those played (recounted from the schedules); both are voted out after two whole
/// missed turns, the backups take their places, and no later schedule names them.
#[test]
fn dpos_offline_producers_miss_their_slots_and_are_voted_out() {
    let text = format!("{DPOS_RUN}\n[[timeline]]\nat_s = 30.5\nleave = [\"n1\", \"n4\"]\n");
    let scenario = load(&text, &[]);
    let remains = run(build(&scenario), &scenario);
    let stake = remains.shared.stake.as_deref().unwrap();
    let dpos = dpos_of(stake);
    let (slots, missed) = dpos.slots_and_missed();
    let offline = [NodeId(1), NodeId(4)];
    // Slot s starts at s + 1 seconds: slots from 30 on start after the leave.
    let expected = (30..slots).filter(|&s| offline.contains(&scheduled(dpos, s))).count() as u64;
    assert!(expected > 0);
    assert_eq!(missed, expected, "missed slots over {slots} slots");
    assert!(missed <= 2 * 3 * K, "at most three turns each before the vote-out");
    assert_eq!(dpos.voted_out_nodes(), vec![1, 4]);
    let last = dpos.schedules().last().unwrap();
    assert!(!last.order.contains(&Candidate(1)) && !last.order.contains(&Candidate(4)));
    assert!(last.order.contains(&Candidate(7)) && last.order.contains(&Candidate(8)));
    // Every main-chain block is its slot's scheduled producer's.
    let chain = remains.shared.store.chain_to(remains.nodes[0].tip());
    for &b in &chain[1..] {
        let seal = stake.seals.signed(b).unwrap();
        assert_eq!(seal.producer, scheduled(dpos, seal.claim));
    }
}

/// A partition at a round boundary puts producers 0 and 1 (m = 2 of N = 7) with nodes 9
/// and 10 on one side, the other five producers on the other. Over the next 10 rounds each
/// side's chain grows by exactly its own producers' slots: m/N = 2/7 and 5/7 of the 210
/// slots (exact: no slot is missed and a round holds each producer's turn once). Only the
/// side with c = 5 producers moves its last irreversible block past the split.
#[test]
fn dpos_partition_sides_grow_at_m_over_n_of_the_slots() {
    // Round 2 starts with slot 42, at 43 s; the partition comes half a slot before.
    let text = format!(
        "{DPOS_RUN}\n[[timeline]]\nat_s = 42.5\npartition = [[\"n0\", \"n1\", \"n9\", \"n10\"]]\n"
    );
    let blocks = 2 * ROUND + 10 * ROUND;
    let scenario = load(&text, &[&format!("run.blocks={blocks}")]);
    let remains = run(build(&scenario), &scenario);
    let store = &remains.shared.store;
    let stake = remains.shared.stake.as_deref().unwrap();
    let dpos = dpos_of(stake);
    assert_eq!(dpos.slots_and_missed().1, 0);
    let (a, b) = (remains.nodes[0].tip(), remains.nodes[5].tip());
    let fork = store.fork_point(a, b);
    assert_eq!(store.get(fork).height as u64, 2 * ROUND, "the sides split at the round boundary");
    let grown = |tip: BlockId| u64::from(store.get(tip).height) - 2 * ROUND;
    let slots = 10 * ROUND;
    assert_eq!(grown(a) * u64::from(N), 2 * slots, "side a: 2/7 of the slots");
    assert_eq!(grown(b) * u64::from(N), 5 * slots, "side b: 5/7 of the slots");
    for (tip, side) in [(a, [0u32, 1].as_slice()), (b, [2, 3, 4, 5, 6].as_slice())] {
        for &blk in &store.chain_to(tip)[2 * ROUND as usize + 1..] {
            let seal = stake.seals.signed(blk).unwrap();
            assert!(side.contains(&seal.producer.0));
            assert_eq!(seal.producer, scheduled(dpos, seal.claim));
        }
    }
    let split = 2 * ROUND as u32;
    assert!(dpos.lib_height(a) <= split, "2 of 7 producers cannot make a block irreversible");
    assert!(dpos.lib_height(b) > split, "5 of 7 can");
}

/// Two runs write byte-identical result files, `finality.csv` and `consensus.json`
/// included (the network digest against PoW's is checked in `world::tests`).
#[test]
fn dpos_replays_byte_identically() {
    let scenario = load(DPOS_RUN, &["run.blocks=120"]);
    let render = || {
        let outcome = crate::run::run(&scenario).unwrap();
        let mut files = crate::results::files::render(&scenario, &outcome).files;
        files.extend(crate::consensus::report::files(&scenario, &outcome));
        files
    };
    let (a, b) = (render(), render());
    let json = &a.iter().find(|(name, _)| *name == "consensus.json").unwrap().1;
    assert!(String::from_utf8_lossy(json).contains("\"missed_slots\": 0"));
    assert_eq!(a, b);
}

/// Node 2 signs with a key that is not its registered one: every other node (all are its
/// peers) rejects its blocks as `bad-block-signature` and no other reason but children of
/// those blocks (`bad-prevblk`); none is on the honest chain. A main-chain block re-sealed,
/// with a real key, by a candidate the schedule does not name for its slot is refused as
/// `not-scheduled-producer`.
#[test]
fn dpos_forged_signatures_and_unscheduled_producers_are_rejected() {
    use crate::chain::RejectReason;
    use crate::consensus::dpos_run::DposRules;
    use crate::consensus::seal::StakeKeys;
    use crate::node::producer_signed::SignedProducer;
    use crate::rng::{Purpose, RngStreams};
    let scenario = load(DPOS_RUN, &["run.blocks=100"]);
    let streams = RngStreams::new(scenario.seed);
    let mut world = build(&scenario);
    let rules = world.settings.signed.clone().expect("dpos rules");
    let other = StakeKeys::from_rng(&mut streams.stream(Purpose::Election, 99)).signing;
    world.nodes[2].set_signed_producer(SignedProducer::new(other));
    let mut remains = run(world, &scenario);
    let forged = remains
        .shared
        .store
        .ids()
        .filter(|&b| remains.shared.store.get(b).meta.miner == Some(NodeId(2)));
    let forged = forged.count() as u64;
    assert!(forged >= K, "node 2 made {forged} blocks");
    for node in remains.nodes.iter().filter(|n| n.id() != NodeId(2)) {
        let rejected = node.rejected();
        assert!(
            rejected[RejectReason::BadBlockSignature.index()] > 0,
            "{}: {rejected:?}",
            node.id()
        );
        let others: u64 = RejectReason::ALL
            .iter()
            .filter(|r| ![RejectReason::BadBlockSignature, RejectReason::BadPrevBlk].contains(r))
            .map(|r| rejected[r.index()])
            .sum();
        assert_eq!(others, 0, "{}: {rejected:?}", node.id());
    }
    let store = &remains.shared.store;
    let chain = store.chain_to(remains.nodes[0].tip());
    assert!(chain[1..].iter().all(|&b| store.get(b).meta.miner != Some(NodeId(2))));
    let b = chain[10];
    let stake = remains.shared.stake.as_deref_mut().unwrap();
    let seal = *stake.seals.signed(b).unwrap();
    let impostor = if seal.producer == NodeId(0) { NodeId(1) } else { NodeId(0) };
    let key = StakeKeys::from_rng(&mut streams.stream(Purpose::Election, impostor.0.into()));
    let header = store.get(b).block.header;
    let now = store.get(chain[20]).meta.mined_at;
    assert_eq!(rules.check(stake, store, b, now), Ok(()), "the real seal checks");
    stake.seals.set_signed(b, DposRules::seal(&header, impostor, seal.claim, &key.signing));
    assert_eq!(rules.check(stake, store, b, now), Err(RejectReason::NotScheduledProducer));
}
