//! World-level checks of coin-age proof of stake: whole runs on a small fast network,
//! against the interest formula, both consumption conventions, the calibration's closed
//! forms (`consensus::coinage_run`) and every node's checks of a block.

use super::tests::{build, load, run};
use crate::chain::{BlockId, BlockStore, RejectReason};
use crate::consensus::coinage::{CoinAge, Stake, interest_units};
use crate::consensus::coinage_run::{CoinageRun, split_claim};
use crate::consensus::seal::StakeState;
use crate::id::NodeId;
use crate::time::{SimTime, TICKS_PER_SEC};

/// 12 nodes, fully connected with 10 ms links; nodes 0 to 7 hold stake 16, 8, 4, 2, 1, 1,
/// 1, 1 (of 1,000,000 coins); blocks every 60 s on average.
const COINAGE_RUN: &str = r#"
[run]
seed = 5
blocks = 1500
[chain]
block_interval_s = 60
[mining]
block_size_bytes = 5_000
[network]
nodes = 12
topology = { kind = "complete" }
[network.latency]
model = "constant"
ms = 10
[consensus]
kind = "pos-coinage"
interest = 0.05
consumption = "reset"
[stake]
shares = [16, 8, 4, 2, 1, 1, 1, 1]
"#;

const STAKES: [f64; 8] = [16.0, 8.0, 4.0, 2.0, 1.0, 1.0, 1.0, 1.0];

fn run_of(stake: &StakeState) -> &CoinageRun {
    stake.coinage.as_ref().expect("a coin-age run keeps its stake")
}

/// The main chain (genesis first) of the run's best node and the output states on it.
fn main_chain(store: &BlockStore, tip: BlockId) -> Vec<BlockId> {
    store.chain_to(tip)
}

/// Every block of the store (not only the main chain) minted its output as it stood on the
/// parent's chain: under `reset` the whole coin-age value × held seconds is consumed and
/// the output restarts at 0; under `365-days` min(age, 365 coin-days) is consumed and the
/// rest stays. Interest is ⌊consumed (coin-units × s) × 50,000 ppm / (86,400 × 365 ×
/// 10⁶)⌋ coin-units for every mint, recomputed here from the ages (tolerance 0). Returns
/// the mints that consumed exactly 365 coin-days and kept some age.
fn check_every_mint(store: &BlockStore, run: &CoinageRun, stake: &StakeState, reset: bool) -> u64 {
    let year = CoinAge::from_coin_days(365).0;
    let mut capped = 0;
    let mut mints = 0;
    for b in store.ids().skip(1) {
        let m = run.mint_of(b).expect("every produced block minted");
        let parent = store.get(b).parent.unwrap();
        let before: Stake = run.stake_on(store, parent, m.output);
        let held = m.time_s - before.since.0 / TICKS_PER_SEC;
        let age = before.age_at_since.0 + u128::from(before.value_units) * u128::from(held);
        let consumed = if reset { age } else { age.min(year) };
        assert_eq!(m.minted.consumed.0, consumed, "block {b:?}");
        let reward = consumed * 50_000 / (86_400 * 365 * 1_000_000);
        assert_eq!(u128::from(m.minted.reward_units), reward);
        assert_eq!(m.after.value_units, before.value_units + m.minted.reward_units);
        assert_eq!(m.after.age_at_since.0, age - consumed);
        assert_eq!(m.after.since, SimTime(m.time_s * TICKS_PER_SEC));
        assert_eq!(split_claim(stake.seals.signed(b).unwrap().claim), (m.time_s, m.output));
        capped += u64::from(consumed == year && age > year);
        mints += 1;
    }
    assert!(mints >= 1500);
    capped
}

/// Reset: every mint of a real run consumed the whole coin-age it had on its parent's
/// chain and paid exactly ⌊consumed × 5 % / 365⌋; the textbook figures in coin-units:
/// 3,000 coin-days pay 410,958 units (0.41 coins), 5,000 pay 684,931 (0.68 coins). The run
/// has mints that consumed between 2,000 and 4,000 coin-days, and no node rejects any
/// block.
#[test]
fn coinage_interest_is_exact_for_every_mint() {
    let scenario = load(COINAGE_RUN, &[]);
    let remains = run(build(&scenario), &scenario);
    let stake = remains.shared.stake.as_deref().unwrap();
    let run = run_of(stake);
    let store = &remains.shared.store;
    assert_eq!(check_every_mint(store, run, stake, true), 0, "reset never keeps age");
    assert_eq!(interest_units(CoinAge::from_coin_days(3_000), 50_000), 410_958);
    assert_eq!(interest_units(CoinAge::from_coin_days(5_000), 50_000), 684_931);
    let consumed: Vec<f64> =
        store.ids().skip(1).map(|b| run.mint_of(b).unwrap().minted.consumed.coin_days()).collect();
    assert!(consumed.iter().any(|&d| (2_000.0..4_000.0).contains(&d)));
    for node in &remains.nodes {
        assert!(node.rejected().iter().all(|&r| r == 0), "{}: {:?}", node.id(), node.rejected());
    }
}

/// 365 days: every mint consumed min(age, 365 coin-days) (checked exactly as above), and
/// the run has mints that consumed exactly 365 coin-days and kept the rest of their age.
#[test]
fn coinage_reduce_by_365_coin_days_keeps_the_rest() {
    let scenario = load(COINAGE_RUN, &["consensus.consumption=\"365-days\""]);
    let remains = run(build(&scenario), &scenario);
    let stake = remains.shared.stake.as_deref().unwrap();
    let capped = check_every_mint(&remains.shared.store, run_of(stake), stake, false);
    assert!(capped >= 100, "{capped} mints kept age");
}

/// Under `reset` each output's time between mints is Rayleigh with mean √(π / 2κᵢ), κᵢ ∝
/// its value, so output i makes a share √vᵢ / Σ √vⱼ of the blocks (the chance to mint
/// grows with coin-age: stake × time held). Each holder's main-chain share is within 3
/// binomial standard errors of that (renewal counts vary less than binomial ones, so the
/// test is conservative), and the largest holder's share is more than 3 standard errors
/// away from its stake share (16/34): a lottery by stake alone would fail it. The mean
/// block interval (main chain, from genesis) is within 3 standard errors of 60 s.
#[test]
fn coinage_block_shares_and_interval_follow_the_calibration() {
    let scenario = load(COINAGE_RUN, &["run.blocks=3000"]);
    let remains = run(build(&scenario), &scenario);
    let store = &remains.shared.store;
    let chain = main_chain(store, remains.nodes[0].tip());
    let n = (chain.len() - 1) as f64;
    let sum_sqrt: f64 = STAKES.iter().map(|v| v.sqrt()).sum();
    for (i, v) in STAKES.iter().enumerate() {
        let blocks =
            chain[1..].iter().filter(|&&b| store.get(b).meta.miner == Some(NodeId(i as u32)));
        let share = blocks.count() as f64 / n;
        let p = v.sqrt() / sum_sqrt;
        let se = (p * (1.0 - p) / n).sqrt();
        assert!((share - p).abs() < 3.0 * se, "node {i}: {share} vs {p} ± {se}");
        if i == 0 {
            let by_stake = v / STAKES.iter().sum::<f64>();
            assert!((share - by_stake).abs() > 3.0 * se, "{share} vs stake share {by_stake}");
        }
    }
    let times: Vec<f64> = chain.iter().map(|&b| store.get(b).meta.mined_at.as_secs_f64()).collect();
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let mean = gaps.iter().sum::<f64>() / n;
    let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let se = sd / n.sqrt();
    assert!((mean - 60.0).abs() < 3.0 * se, "mean interval {mean} ± {se}");
}

/// A block with a bad kernel (the claimed second moved by one, re-signed by its real
/// minter), another node's output (re-signed by that node with its own key: the owner
/// check), or a signature by a key that is not the minter's is refused with its own
/// reason; the untouched seal checks. In a run where node 1 signs with a stranger's key,
/// every other node rejects its blocks as `bad-block-signature` (and their children as
/// `bad-prevblk`), and none is on the main chain.
#[test]
fn coinage_forged_blocks_are_rejected_with_their_reason() {
    use crate::consensus::coinage_run::{CoinageRules, claim};
    use crate::consensus::seal::StakeKeys;
    use crate::consensus::signed::SignedRules;
    use crate::node::producer_signed::SignedProducer;
    use crate::rng::{Purpose, RngStreams};
    let scenario = load(COINAGE_RUN, &["run.blocks=200"]);
    let streams = RngStreams::new(scenario.seed);
    let mut world = build(&scenario);
    let rules = world.settings.signed.clone().expect("coin-age rules");
    let stranger = StakeKeys::from_rng(&mut streams.stream(Purpose::Election, 99)).signing;
    world.nodes[1].set_signed_producer(SignedProducer::new(stranger));
    let mut remains = run(world, &scenario);
    let store = &remains.shared.store;
    let forged = store.ids().filter(|&b| store.get(b).meta.miner == Some(NodeId(1))).count();
    assert!(forged >= 3, "node 1 made {forged} blocks");
    for node in remains.nodes.iter().filter(|n| n.id() != NodeId(1)) {
        let rejected = node.rejected();
        assert!(rejected[RejectReason::BadBlockSignature.index()] > 0, "{rejected:?}");
        let others: u64 = RejectReason::ALL
            .iter()
            .filter(|r| ![RejectReason::BadBlockSignature, RejectReason::BadPrevBlk].contains(r))
            .map(|r| rejected[r.index()])
            .sum();
        assert_eq!(others, 0, "{}: {rejected:?}", node.id());
    }
    let chain = store.chain_to(remains.nodes[0].tip());
    assert!(chain[1..].iter().all(|&b| store.get(b).meta.miner != Some(NodeId(1))));
    let b = *chain[20..].iter().find(|&&b| store.get(b).meta.miner == Some(NodeId(0))).unwrap();
    let stake = remains.shared.stake.as_deref_mut().unwrap();
    let seal = *stake.seals.signed(b).unwrap();
    let (t, output) = split_claim(seal.claim);
    let key = |n: u32| StakeKeys::from_rng(&mut streams.stream(Purpose::Election, n.into()));
    let header = store.get(b).block.header;
    let now = SimTime(u64::MAX / 2);
    assert_eq!(rules.check(stake, store, b, now), Ok(()), "the real seal checks");
    let reseal = |stake: &mut StakeState, node: u32, c: u64, signer: u32| {
        let s = CoinageRules::seal(&header, NodeId(node), c, &key(signer).signing);
        stake.seals.set_signed(b, s);
    };
    // The first second after t at which the output's kernel misses on the parent's chain.
    let parent = store.get(b).parent.unwrap();
    let before = run_of(stake).stake_on(store, parent, output);
    let modifier = store.get(parent).hash.0;
    let SignedRules::Coinage(r) = &*rules else { unreachable!("a coin-age run") };
    let at = |s: u64| SimTime(s * TICKS_PER_SEC);
    let misses = |s: &u64| !before.kernel_hit(&modifier, at(*s), r.target_per_coin_day, None);
    let miss = (t + 1..).find(misses).unwrap();
    reseal(stake, 0, claim(miss, output), 0);
    assert_eq!(rules.check(stake, store, b, now), Err(RejectReason::BadKernel));
    reseal(stake, 2, seal.claim, 2);
    assert_eq!(rules.check(stake, store, b, now), Err(RejectReason::WrongStakeOwner));
    reseal(stake, 0, seal.claim, 3);
    assert_eq!(rules.check(stake, store, b, now), Err(RejectReason::BadBlockSignature));
    reseal(stake, 0, seal.claim, 0);
    assert_eq!(
        rules.check(stake, store, b, SimTime((t - 1) * TICKS_PER_SEC)),
        Err(RejectReason::BadKernel)
    );
}

/// Two runs write byte-identical result files, `finality.csv` and `consensus.json`
/// included; the network digest equals that of the same scenario under proof of work.
#[test]
fn coinage_replays_byte_identically_on_pows_network() {
    let scenario = load(COINAGE_RUN, &["run.blocks=150"]);
    let render = || {
        let outcome = crate::run::run(&scenario).unwrap();
        let mut files = crate::results::files::render(&scenario, &outcome).files;
        files.extend(crate::consensus::report::files(&scenario, &outcome));
        files
    };
    let (a, b) = (render(), render());
    let json = &a.iter().find(|(name, _)| *name == "consensus.json").unwrap().1;
    assert!(String::from_utf8_lossy(json).contains("\"interest_coins\""));
    assert_eq!(a, b);
    let pow_text = COINAGE_RUN.split("[consensus]").next().unwrap();
    let pow = load(pow_text, &["run.blocks=20"]);
    let digest =
        |s: &crate::scenario::Scenario| super::network_digest(run(build(s), s).transport.graph());
    assert_eq!(digest(&scenario), digest(&pow));
}
