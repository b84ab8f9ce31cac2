//! Runs checked from inside the crate, where the transaction pool can be asked what each
//! node's mempool holds.

use std::path::Path;

use crate::chain::{BlockId, BlockStore, TxId};
use crate::id::NodeId;
use crate::observe::{Observer, Record};
use crate::payments::pool::NEVER;
use crate::scenario::{self, Override};
use crate::time::SimTime;

use super::run_with;

/// Remembers the double payment's two transaction ids.
#[derive(Default)]
struct Watch {
    versions: Vec<TxId>,
}

impl Observer for Watch {
    fn record(&mut self, record: &Record, _: &BlockStore) {
        if let Record::PaymentSent { txid, conflict: true, .. } = *record {
            self.versions.push(txid);
        }
    }
}

fn load(name: &str, sets: &[&str]) -> scenario::Scenario {
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name);
    scenario::load(&path, &overrides, None).unwrap()
}

#[test]
fn a_double_payment_splits_the_network_then_exactly_one_version_survives() {
    // Stop 20 s after the double payment (at 90 s), before a block is likely: each node
    // holds the version it heard first.
    let early = load("double-payment.toml", &["run.max_time_s=110"]);
    let mut sim = run_with(&early, Watch::default(), None).unwrap();
    let t = sim.payments.as_ref().unwrap();
    let ids: Vec<u32> =
        sim.observer.versions.iter().map(|txid| t.pool.index_of(txid).unwrap()).collect();
    assert_eq!(ids.len(), 2, "two versions were sent");
    let now = SimTime(110_000_000);
    let (mut first, mut second) = (0, 0);
    for node in NodeId::all(early.network.nodes) {
        let tip = sim.nodes[node.index()].tip;
        let holds: Vec<bool> =
            ids.iter().map(|&i| t.pool.in_mempool(&mut sim.store, tip, i, node, now)).collect();
        let arrivals: Vec<SimTime> = ids.iter().map(|&i| t.pool.arrival(i, node)).collect();
        assert!(arrivals.iter().filter(|&&a| a != NEVER).count() == 1, "{node}: one version");
        if arrivals.iter().all(|&a| a == NEVER || a <= now) {
            assert_eq!(holds.iter().filter(|&&h| h).count(), 1, "{node} holds one version");
        }
        first += u32::from(holds[0]);
        second += u32::from(holds[1]);
    }
    eprintln!(
        "double payment after 20 s: {first} nodes hold the first version, {second} the second"
    );
    assert!(first >= 5 && second >= 5, "both camps hold nodes: {first} and {second}");

    // The whole run: exactly one version is confirmed, and no node keeps either.
    let full = load("double-payment.toml", &[]);
    let mut sim = run_with(&full, Watch::default(), None).unwrap();
    let end = SimTime(u64::MAX / 2);
    let t = sim.payments.as_ref().unwrap();
    let ids: Vec<u32> =
        sim.observer.versions.iter().map(|txid| t.pool.index_of(txid).unwrap()).collect();
    let (best, in_main) = (sim.main_chain.best, &sim.main_chain.in_main);
    let confirmed: Vec<bool> = ids
        .iter()
        .map(|&i| sim.store.chain_to(best).iter().any(|b| t.pool.block_txs(*b).contains(&i)))
        .collect();
    assert_eq!(confirmed.iter().filter(|&&c| c).count(), 1, "exactly one version confirms");
    assert!(in_main[best.index()]);
    for node in NodeId::all(full.network.nodes) {
        let tip = sim.nodes[node.index()].tip;
        assert_ne!(tip, BlockId::GENESIS);
        for &i in &ids {
            assert!(
                !t.pool.in_mempool(&mut sim.store, tip, i, node, end),
                "{node} still holds a version after confirmation"
            );
        }
    }
}
