//! World-level checks of epoch-nonce evolution in `pos-slot` runs: short epochs, so that a
//! small run crosses dozens of them.

use super::tests::{SLOT_RUN, build, load, run};
use crate::consensus::epochs::{EpochClock, EpochNonces, along_chain};
use crate::consensus::praos::EpochNonce;

/// 600 blocks at f = 0.2 over epochs of 100 slots (windows of 66): about 30 epochs.
/// Along the final chain every nonce is new; every block's claim verifies under the nonce
/// of its own chain and epoch, computed plainly from the chain, and under no other (η₀
/// included); the memoised nonce of every stored block, stale ones included, equals the
/// plain one of its own chain; no block was rejected; and the share of leaderless slots
/// stays 1 − f within 4 standard errors (the lottery stays fair as the nonce moves).
#[test]
fn pos_slot_epoch_nonces_evolve_along_each_chain_and_every_claim_checks_under_its_own() {
    let scenario = load(SLOT_RUN, &["run.blocks=600", "consensus.epoch_slots=100"]);
    let world = build(&scenario);
    let rules = world.settings.slots.clone().expect("slot rules");
    let remains = run(world, &scenario);
    let stake = remains.shared.stake.as_ref().expect("a slot run keeps its stake state");
    let store = &remains.shared.store;
    let clock = EpochClock { genesis: EpochNonce::genesis(scenario.seed), epoch_slots: 100 };
    assert_eq!(rules.clock, clock, "the scenario's epoch length and the seed's η₀");
    for node in &remains.nodes {
        assert!(node.rejected().iter().all(|&r| r == 0), "{}: {:?}", node.id(), node.rejected());
    }
    let chain = store.chain_to(remains.nodes[0].tip());
    let nonces = along_chain(&clock, &stake.seals, &chain);
    assert!(nonces.len() >= 25, "{} epochs", nonces.len());
    let mut distinct = nonces.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), nonces.len(), "every epoch has a new nonce");

    let lottery = &rules.lottery;
    let party = |b| rules.party(stake.seals.get(b).expect("sealed").producer).expect("staked");
    let keys = |p: usize| rules.parties[p].vrf;
    let mut later_epochs = 0;
    for &b in &chain[1..] {
        let claim = stake.seals.get(b).expect("sealed").claim;
        let epoch = clock.epoch_of(claim.slot) as usize;
        let p = party(b);
        assert!(lottery.verify_leader(p, &keys(p), &nonces[epoch], &claim).is_ok(), "{b:?}");
        if epoch > 0 {
            later_epochs += 1;
            assert!(lottery.verify_leader(p, &keys(p), &clock.genesis, &claim).is_err(), "{b:?}");
            let previous = &nonces[epoch - 1];
            assert!(lottery.verify_leader(p, &keys(p), previous, &claim).is_err(), "{b:?}");
        }
    }
    assert!(later_epochs > 500, "{later_epochs} blocks after epoch 0");

    let mut fresh = EpochNonces::default();
    let mut stale = 0;
    for b in store.ids().skip(1) {
        let Some(seal) = stake.seals.get(b) else { continue };
        let parent = store.get(b).parent.expect("not genesis");
        let own_chain = store.chain_to(parent);
        stale += usize::from(!chain.contains(&b));
        let plain = along_chain(&clock, &stake.seals, &own_chain);
        let epoch = clock.epoch_of(seal.claim.slot);
        // The plain list stops at the parent's epoch; extend it over empty epochs.
        let mut expected = *plain.last().expect("epoch 0 at least");
        for e in plain.len() as u64..=epoch {
            let window: Vec<_> = own_chain
                .iter()
                .filter_map(|&x| stake.seals.get(x))
                .filter(|s| {
                    (clock.first_slot(e - 1)..clock.window_end(e - 1)).contains(&s.claim.slot)
                })
                .map(|s| s.claim.output)
                .collect();
            expected = expected.next(e - 1, &window);
        }
        let memo = fresh.for_child(&clock, &stake.seals, store, parent, seal.claim.slot);
        assert_eq!(memo, expected, "{b:?} in epoch {epoch}");
    }
    assert!(stale > 0, "the run has stale blocks, so forks are checked too");

    let (slots, empty) = stake.slots.slots_and_empty();
    let f = 0.2;
    let se = (f * (1.0 - f) / slots as f64).sqrt();
    let empty_rate = empty as f64 / slots as f64;
    assert!((empty_rate - (1.0 - f)).abs() < 4.0 * se, "empty {empty_rate} over {slots} slots");
}

/// Praos's epoch length: R = 10k/f (Cardano 432,000 slots), never below three slots.
#[test]
fn praos_epoch_length_is_ten_k_over_f() {
    assert_eq!(EpochClock::praos_epoch_slots(2160, 0.05), 432_000);
    assert_eq!(EpochClock::praos_epoch_slots(100, 0.05), 20_000);
    assert_eq!(EpochClock::praos_epoch_slots(1, 1.0), 10);
    assert_eq!(EpochClock::praos_epoch_slots(1, 1e-30), u64::MAX);
}
