//! World-level checks of the DPoS cartel (`node::attacker::cartel`): whole runs on a small
//! fast network, against the closed form of the censored wait
//! (`analytic::dpos_censored_wait_slots`) and the schedule's shares of slots.

use super::tests::load;
use crate::analytic::dpos_censored_wait_slots;
use crate::consensus::cartel_report::{Delay, Mean, payment_delays};
use crate::consensus::dpos::two_thirds_plus;
use crate::id::NodeId;
use crate::scenario::cartel::Censor;
use crate::time::SimDuration;

/// 12 nodes, fully connected with 10 ms links; nodes 0 to 8 hold stake 9, 8, ..., 1, so
/// nodes 0 to 6 are the N = 7 producers. Turns of one block of 1 s (Steem-like). Payments
/// enter at nodes 9, 10 and 11, 4 per second, announced after 50 ms on average, and stop
/// 40 s before the last slot so that every one is included.
const CARTEL_RUN: &str = r#"
[run]
seed = 7
blocks = 1500
[chain]
block_interval_s = 1
prune_depth = 2000
[mining]
block_size_bytes = 200_000
[network]
nodes = 12
topology = { kind = "complete" }
[network.latency]
model = "constant"
ms = 10
[consensus]
kind = "dpos"
producers = 7
blocks_per_turn = 1
block_interval_s = 1.0
[stake]
shares = [9, 8, 7, 6, 5, 4, 3, 2, 1]
[workload]
payments_per_s = 4
wallets = 600
submit_to = ["n9", "n10", "n11"]
trickle_interval_s = 0.05
stop_s = 1460
"#;

const N: u32 = 7;

/// Three producers (m = 3 of N = 7) censor the payments submitted at nodes 9 and 10.
fn censoring_cartel(mode_lines: &str) -> String {
    let mut text = CARTEL_RUN.to_string();
    for node in ["n0", "n1", "n2"] {
        text.push_str(&format!(
            "[[attacker]]\nnode = \"{node}\"\nstrategy = \"cartel\"\n{mode_lines}\n"
        ));
    }
    text
}

/// The main chain's payment delays of a run of `text`, with `censor` marking which count
/// as censored, and every block a cartel member (nodes 0 to 2) produced.
fn delays(text: &str, censor: &Censor) -> (Vec<Delay>, crate::results::outcome::Outcome) {
    let scenario = load(text, &[]);
    let outcome = crate::run::run(&scenario).unwrap();
    let chain = outcome.store.chain_to(outcome.main_chain.best);
    let stake = outcome.stake.as_deref().unwrap();
    let pool = &outcome.payments.as_ref().unwrap().pool;
    let d = payment_delays(&outcome.store, stake, pool, &chain, SimDuration::from_secs(1), censor);
    (d, outcome)
}

fn mean(delays: &[Delay], censored: bool) -> Mean {
    Mean::of(delays.iter().filter(|d| d.censored == censored).map(|d| d.slots as f64)).unwrap()
}

/// The cartel's blocks never hold a censored payment, and every payment is included. The
/// censored payments' mean delay exceeds the uncensored ones' by the closed form's wait
/// E[W] = 0.6229 slots (m = 3, N = 7, K = 1), within 3 standard errors of the difference;
/// the closed form for independent turns, m / (N − m) = 0.75, lies more than 3 standard
/// errors away (the test tells the two apart). Without the cartel, the same payments
/// (same seed, same schedule) are delayed alike in both groups, and the uncensored ones'
/// mean delay is the same as with the cartel within 3 standard errors.
#[test]
fn censored_payments_wait_for_an_honest_slot_as_derived() {
    let censor = Censor::Sources(vec![NodeId(9), NodeId(10)]);
    let text = censoring_cartel("mode = \"censor\"\ncensor = [\"n9\", \"n10\"]");
    let (with, outcome) = delays(&text, &censor);
    let pool = &outcome.payments.as_ref().unwrap().pool;
    let store = &outcome.store;
    let members = [NodeId(0), NodeId(1), NodeId(2)];
    let mut cartel_blocks = 0;
    for b in store.ids().filter(|&b| store.get(b).meta.miner.is_some_and(|m| members.contains(&m)))
    {
        cartel_blocks += 1;
        for &i in pool.block_txs(b) {
            assert!(!censor.censors(pool.txs()[i as usize].source), "block {b:?} holds one");
        }
    }
    assert!(cartel_blocks > 500, "{cartel_blocks} cartel blocks");
    assert_eq!(with.len(), pool.txs().len(), "every payment is included");
    let (c, u) = (mean(&with, true), mean(&with, false));
    assert!(c.n > 3000 && u.n > 1500, "{c:?} {u:?}");
    let expected = dpos_censored_wait_slots(N, 3, 1).unwrap();
    let se = (c.se * c.se + u.se * u.se).sqrt();
    let extra = c.mean - u.mean;
    println!(
        "censored {c:?}, uncensored {u:?}: extra {extra:.4} ± {se:.4}, expected {expected:.4}"
    );
    assert!((extra - expected).abs() < 3.0 * se, "{extra} vs {expected} ± {se}");
    assert!((extra - 0.75).abs() > 3.0 * se, "independent turns would give 0.75");

    let (without, _) = delays(CARTEL_RUN, &censor);
    let (c0, u0) = (mean(&without, true), mean(&without, false));
    let se0 = (c0.se * c0.se + u0.se * u0.se).sqrt();
    assert!((c0.mean - u0.mean).abs() < 3.0 * se0, "no cartel: {c0:?} vs {u0:?}");
    let se_u = (u.se * u.se + u0.se * u0.se).sqrt();
    assert!((u.mean - u0.mean).abs() < 3.0 * se_u, "uncensored: {u:?} vs {u0:?} ({se_u})");
}

/// Censoring every payment: all of them wait, by E[W] more than without a cartel (same
/// seed), within 3 standard errors; `consensus.json` reports the figures, with no censored
/// payment in a cartel block.
#[test]
fn a_cartel_censoring_all_payments_delays_all_of_them() {
    let text = censoring_cartel("mode = \"censor\"");
    let (with, outcome) = delays(&text, &Censor::All);
    let (without, _) = delays(CARTEL_RUN, &Censor::All);
    let (c, u0) = (mean(&with, true), mean(&without, true));
    let expected = dpos_censored_wait_slots(N, 3, 1).unwrap();
    let se = (c.se * c.se + u0.se * u0.se).sqrt();
    assert!((c.mean - u0.mean - expected).abs() < 3.0 * se, "{c:?} {u0:?} {expected}");
    let scenario = load(&text, &[]);
    let json = crate::consensus::report::files(&scenario, &outcome)[1].1.clone();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let censor = &json["cartel"]["censor"];
    assert_eq!(censor["censored_in_cartel_blocks"], 0);
    assert_eq!(censor["censored_all"], true);
    assert!(censor["left_out"][0]["payments"].as_u64().unwrap() > 100, "{censor}");
}

/// The run without payments, with the first `m` producers (nodes 0 to m − 1) splitting
/// from 100.5 s on; `consensus.json`'s cartel section and the outcome.
fn split_run(m: u32, sets: &[&str]) -> (serde_json::Value, crate::results::outcome::Outcome) {
    let text = CARTEL_RUN.split("[workload]").next().unwrap().to_string();
    let mut text = text;
    for node in 0..m {
        text.push_str(&format!(
            "[[attacker]]\nnode = {node}\nstrategy = \"cartel\"\nmode = \"split\"\nstart_s = 100.5\n"
        ));
    }
    let scenario = load(&text, sets);
    let outcome = crate::run::run(&scenario).unwrap();
    let json = crate::consensus::report::files(&scenario, &outcome)[1].1.clone();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    (json["cartel"]["split"].clone(), outcome)
}

/// A split by m = 2 and m = 3 of N = 7 producers, over about 1400 slots. Each branch grows
/// in its own producers' slots: every round holds each producer's turn once, so the cartel
/// branch holds m/N of the slots since the split, and the honest branch (N − m)/N, each
/// within one round's slots (N; a round cut by the split or the end). The one-stage rule
/// needs c = ⌊2N/3⌋ + 1 = 5 distinct producers: with m = 2 (< N/3) the honest branch's
/// 5 producers keep moving its last irreversible block past the fork and the cartel's
/// never does; with m = 3 (> N/3) neither side has 5 producers and nothing past the fork
/// becomes irreversible. Honest nodes (m < N/2) all stay on the honest branch, the members
/// on theirs.
#[test]
fn a_split_cartel_grows_its_branch_at_m_over_n_and_never_finalizes_it() {
    assert_eq!(two_thirds_plus(N), 5);
    for m in [2u32, 3] {
        let (split, outcome) = split_run(m, &[]);
        let slots = split["slots_since_split"].as_u64().unwrap();
        assert!(slots > 1200, "{split}");
        let n = u64::from(N);
        for (branch, side) in [("cartel_branch", u64::from(m)), ("honest_branch", n - u64::from(m))]
        {
            let b = &split[branch];
            let blocks = b["blocks_since_split"].as_u64().unwrap();
            let expected = slots * side / n;
            assert!(blocks.abs_diff(expected) <= n, "m = {m}, {branch}: {blocks} vs {expected}");
            let rate = b["growth_per_slot"].as_f64().unwrap();
            let want = side as f64 / n as f64;
            assert!((rate - want).abs() <= n as f64 / slots as f64, "m = {m}, {branch}: {rate}");
        }
        let past = |branch: &str| split[branch]["irreversible_past_fork"].as_bool().unwrap();
        assert!(!past("cartel_branch"), "m = {m}: {split}");
        assert_eq!(past("honest_branch"), N - m >= two_thirds_plus(N), "m = {m}: {split}");
        // Where every node ends: honest nodes at the honest tip, members at the cartel's.
        let store = &outcome.store;
        let (ch, hh) = (
            split["cartel_branch"]["tip_height"].as_u64().unwrap(),
            split["honest_branch"]["tip_height"].as_u64().unwrap(),
        );
        for node in &outcome.nodes {
            let h = u64::from(store.get(node.tip).height);
            let member = node.protocol == "cartel";
            assert!(h + 1 >= if member { ch } else { hh }, "m = {m}: {} at {h}", node.protocol);
            let by_member = |b| store.get(b).meta.miner.is_some_and(|p: NodeId| p.0 < m);
            assert_eq!(by_member(node.tip), member, "m = {m}: node tips stay on their side");
        }
        let best = outcome.main_chain.best;
        assert!(store.get(best).meta.miner.is_some_and(|p| p.0 >= m), "the honest branch is main");
    }
}

/// Each shipped cartel scenario (cut to 400 blocks) writes byte-identical result files on
/// a second run, `consensus.json` with its `cartel` section included.
#[test]
fn shipped_cartel_scenarios_replay_byte_identically() {
    use crate::scenario::{self, Override};
    for name in ["dpos-cartel-censor.toml", "dpos-cartel-split.toml"] {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/attacks").join(name);
        let overrides = [Override::parse("run.blocks=400").unwrap()];
        let scenario = scenario::load(&path, &overrides, None).unwrap();
        let render = || {
            let outcome = crate::run::run(&scenario).unwrap();
            let mut files = crate::results::files::render(&scenario, &outcome).files;
            files.extend(crate::consensus::report::files(&scenario, &outcome));
            files
        };
        let (a, b) = (render(), render());
        let json = &a.iter().find(|(f, _)| *f == "consensus.json").unwrap().1;
        assert!(String::from_utf8_lossy(json).contains("\"cartel\""), "{name}");
        assert_eq!(a, b, "{name}");
    }
}
