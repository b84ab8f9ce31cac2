//! Memory stays bounded on long runs: the block store's bodies, undo data and signature
//! cache, and the transaction pool's bodies, hold only what lies above the pruned height,
//! whatever the length of the run. Counted, not timed: a regression that stops pruning fails
//! these bounds on any machine.

use crate::chain::store::DEFAULT_PRUNE_DEPTH;
use crate::chain::{BlockId, BlockStore};
use crate::observe::{Observer, Record};
use crate::run::run_with;
use crate::scenario::{self, Override};

/// Largest counts seen at each mined block.
#[derive(Default)]
struct Peaks {
    /// Blocks holding undo data.
    undo: usize,
    /// Blocks holding transactions beyond the coinbase.
    bodies: usize,
    /// Height of the newest block above the pruned height.
    lag: u32,
    /// Parents with their children's bits cached.
    next_bits: usize,
}

impl Observer for Peaks {
    fn wants_messages(&self) -> bool {
        false
    }

    fn record(&mut self, record: &Record, store: &BlockStore) {
        if let Record::BlockMined { block, .. } = *record {
            let (undo, bodies) = store.unpruned_counts();
            self.undo = self.undo.max(undo);
            self.bodies = self.bodies.max(bodies);
            self.next_bits = self.next_bits.max(store.next_bits_cached());
            let height = store.get(block).height;
            self.lag = self.lag.max(height.saturating_sub(store.pruned_height()));
        }
    }
}

fn load(name: &str, sets: &[&str]) -> scenario::Scenario {
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name);
    scenario::load(&path, &overrides, None).unwrap()
}

/// `quickstart.toml` on 20 nodes for `blocks` blocks, pruning `depth` deep.
fn small_quickstart(blocks: u32, depth: u32) -> scenario::Scenario {
    load(
        "quickstart.toml",
        &[
            &format!("run.blocks={blocks}"),
            "network.nodes=20",
            &format!("chain.prune_depth={depth}"),
        ],
    )
}

/// Blocks above `height`, on any branch.
fn blocks_above(store: &BlockStore, height: u32) -> usize {
    store.ids().filter(|&id| store.get(id).height > height).count()
}

#[test]
fn a_long_payment_run_keeps_bodies_undo_and_signatures_of_recent_blocks_only() {
    let blocks = 2 * DEFAULT_PRUNE_DEPTH + 120;
    let s = load(
        "payments.toml",
        &[
            &format!("run.blocks={blocks}"),
            "network.nodes=24",
            "workload.payments_per_s=0.5",
            "workload.wallets=200",
            "workload.submit_to=4",
            "workload.sample_nodes=2",
            "workload.mempool_sample_s=600",
        ],
    );
    let sim = run_with(&s, Peaks::default(), None).unwrap();
    let store = &sim.store;
    let best = sim.main_chain.best;
    let pruned = store.pruned_height();
    let top = store.get(best).height;
    assert_eq!(store.refused_below_pruned(), 0, "no shipped-size reorg reaches the depth");
    assert!(pruned > 0 && top - pruned <= DEFAULT_PRUNE_DEPTH + 10, "pruned to {pruned} of {top}");
    // Through the whole run, never more than the blocks within the depth (and their few
    // stale siblings) held bodies or undo data.
    let bound = DEFAULT_PRUNE_DEPTH as usize + 30;
    let peaks = &sim.observer;
    assert!(peaks.undo <= bound, "undo data of {} blocks at once (bound {bound})", peaks.undo);
    assert!(peaks.bodies <= bound, "bodies of {} blocks at once (bound {bound})", peaks.bodies);
    assert!(peaks.lag <= DEFAULT_PRUNE_DEPTH + 10, "{} blocks above the pruned height", peaks.lag);
    assert!(peaks.next_bits <= bound, "bits cached for {} parents", peaks.next_bits);
    let (undo, bodies) = store.unpruned_counts();
    assert!(undo <= blocks_above(store, pruned) && bodies <= blocks_above(store, pruned));

    // The pool drops the bodies of the final chain's transactions, and the signature cache
    // forgets their inputs: what is left belongs to transactions above the pruned height,
    // unconfirmed ones or stale blocks' ones.
    let payments = sim.payments.as_ref().expect("a workload");
    let pool = &payments.pool;
    let last_final = store.ancestor(best, pruned);
    let final_tx = |b: Option<BlockId>| {
        b.is_some_and(|b| store.get(b).height <= pruned && store.is_ancestor(b, last_final))
    };
    let total = pool.txs().len();
    let not_final = pool.txs().iter().filter(|e| !final_tx(e.first_block)).count();
    let kept_inputs: usize = pool.txs().iter().map(|e| e.tx().inputs.len()).sum();
    assert!(total > 10_000, "{total} payments: too few for the run to mean anything");
    assert!(not_final < total / 2, "{not_final} of {total} payments are not final");
    assert!(pool.unpruned_bodies() <= not_final, "{} bodies kept", pool.unpruned_bodies());
    assert!(
        store.sigcache().len() <= kept_inputs,
        "{} cached signatures for {kept_inputs} inputs of kept bodies",
        store.sigcache().len()
    );
}

#[test]
fn a_long_run_without_payments_keeps_undo_data_of_recent_blocks_only() {
    let blocks = 3 * DEFAULT_PRUNE_DEPTH;
    let s = load("quickstart.toml", &[&format!("run.blocks={blocks}"), "network.nodes=20"]);
    let sim = run_with(&s, Peaks::default(), None).unwrap();
    let store = &sim.store;
    let top = store.get(sim.main_chain.best).height;
    assert_eq!(store.refused_below_pruned(), 0);
    assert!(top - store.pruned_height() <= DEFAULT_PRUNE_DEPTH + 10);
    let bound = DEFAULT_PRUNE_DEPTH as usize + 30;
    assert!(sim.observer.undo <= bound, "undo data of {} blocks at once", sim.observer.undo);
}

#[test]
fn a_scenario_prune_depth_bounds_what_the_store_keeps() {
    let depth = crate::chain::store::MIN_PRUNE_DEPTH;
    let s = small_quickstart(4 * depth, depth);
    let sim = run_with(&s, Peaks::default(), None).unwrap();
    let store = &sim.store;
    assert_eq!(store.prune_depth(), depth);
    assert_eq!(store.blocks_refused_below_pruned(), 0);
    let top = store.get(sim.main_chain.best).height;
    assert!(
        top - store.pruned_height() <= depth + 10,
        "pruned to {} of {top}",
        store.pruned_height()
    );
    let bound = depth as usize + 30;
    assert!(sim.observer.undo <= bound, "undo data of {} blocks at once", sim.observer.undo);
    assert!(sim.observer.lag <= depth + 10, "{} blocks above the pruned height", sim.observer.lag);
    assert!(sim.observer.next_bits <= bound, "bits cached for {} parents", sim.observer.next_bits);
    assert!(
        store.len() > 3 * bound,
        "{} blocks: too few for the bound to mean anything",
        store.len()
    );
}

#[test]
fn a_payment_run_pruning_shallower_than_the_scenario_minimum_does_not_panic() {
    // The loader refuses `chain.prune_depth` below MIN_PRUNE_DEPTH; a depth set on the
    // loaded scenario reaches the store all the same. Shallower than the pool's retire depth
    // (24), a node's mempool may sit on a tip whose UTXO state is no longer reachable.
    for depth in [3, 12, 29] {
        let mut s = load(
            "payments.toml",
            &[
                "run.blocks=90",
                "network.nodes=24",
                "workload.payments_per_s=0.5",
                "workload.wallets=60",
                "workload.submit_to=4",
                "workload.sample_nodes=2",
                "workload.mempool_sample_s=300",
            ],
        );
        s.chain.prune_depth = depth;
        let sim = run_with(&s, Peaks::default(), None).unwrap();
        let store = &sim.store;
        assert_eq!(store.prune_depth(), depth);
        assert!(store.pruned_height() > 0, "depth {depth}: nothing was pruned");
        let payments = sim.payments.as_ref().expect("a workload");
        assert!(payments.pool.txs().len() > 1_000, "depth {depth}: too few payments");
    }
}

#[test]
fn a_prune_depth_below_the_minimum_is_refused_naming_file_field_and_value() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml");
    let low = crate::chain::store::MIN_PRUNE_DEPTH - 1;
    let overrides = [Override::parse(&format!("chain.prune_depth={low}")).unwrap()];
    let err = scenario::load(&path, &overrides, None).unwrap_err().to_string();
    assert!(err.contains("quickstart.toml"), "{err}");
    assert!(err.contains(&format!("chain.prune_depth` = {low}")), "{err}");
}

#[test]
fn a_reorg_deeper_than_the_prune_depth_is_refused_and_counted_without_a_crash() {
    // A 55 % private chain published only once the honest chain has 150 blocks on the fork:
    // by then the honest blocks 100 deep are final, so the published branch is refused.
    let depth = crate::chain::store::MIN_PRUNE_DEPTH;
    let s = load(
        "attacks/majority.toml",
        &[&format!("chain.prune_depth={depth}"), "attacker[0].publish_after=150", "run.blocks=400"],
    );
    let sim = crate::run::run(&s).unwrap();
    assert!(sim.store.blocks_refused_below_pruned() >= 1, "the deep branch was not refused");
    let deepest = sim.observer.reorgs.iter().map(|r| r.depth).max().unwrap_or(0);
    assert!(deepest <= depth, "a reorg of {deepest} blocks went through");
    let bad_prev = sim.observer.rejected[crate::chain::RejectReason::BadPrevBlk.index()];
    assert!(bad_prev > 0, "peers rejected the refused branch's blocks");
}

/// The metrics of a run, with the largest counts of what they and the store hold per block.
struct Held {
    metrics: crate::observe::metrics::Metrics,
    /// Mined blocks whose rows were still held.
    rows: usize,
    /// Blocks holding a body of their own.
    bodies: usize,
}

impl Observer for Held {
    fn wants_messages(&self) -> bool {
        self.metrics.wants_messages()
    }

    fn record(&mut self, record: &Record, store: &BlockStore) {
        self.metrics.record(record, store);
        if let Record::BlockMined { .. } = record {
            self.rows = self.rows.max(self.metrics.rows_held().0);
            self.bodies = self.bodies.max(store.bodies_held());
        }
    }
}

impl AsRef<crate::observe::metrics::Metrics> for Held {
    fn as_ref(&self) -> &crate::observe::metrics::Metrics {
        &self.metrics
    }
}

#[test]
fn a_long_run_holds_rows_and_bodies_of_recent_blocks_only() {
    let depth = crate::chain::store::MIN_PRUNE_DEPTH;
    let blocks = 10 * depth;
    let s = small_quickstart(blocks, depth);
    let metrics = crate::observe::metrics::Metrics::for_scenario(&s);
    let sim = run_with(&s, Held { metrics, rows: 0, bodies: 0 }, None).unwrap();
    let bound = depth as usize + 30;
    let held = &sim.observer;
    assert!(held.rows <= bound, "rows of {} blocks held at once (bound {bound})", held.rows);
    // Stale blocks keep their coinbase (a late compact-block exchange reads its size).
    let stale = sim.main_chain.in_main.iter().filter(|&&m| !m).count();
    assert!(
        held.bodies <= bound + stale,
        "{} blocks held bodies at once (bound {bound} and {stale} stale blocks)",
        held.bodies
    );
    assert_eq!(held.metrics.late_holds(), 0, "a row changed after it was written out");
    // Every row is in its file all the same, written out or rendered at the end.
    let rendered = crate::results::files::render(&s, &sim);
    let lines = |name: &str| {
        let (_, bytes) = rendered.files.iter().find(|(n, _)| *n == name).expect("rendered");
        bytes.iter().filter(|&&b| b == b'\n').count()
    };
    let mined = held.metrics.spreads.len();
    assert!(mined >= blocks as usize && held.rows < mined / 5);
    assert_eq!(lines("blocks.csv"), mined + 1);
    assert_eq!(lines("propagation.csv"), mined + 1);
    assert_eq!(lines("reorgs.csv") as u64, held.metrics.reorg_counts().count + 1);
}

/// Checks that the UTXO set after `best` holds exactly one coin per block of its chain and
/// genesis's, worth the subsidies (a run without payments: no fees, nothing spent), and that
/// the coinbases of the final chain are kept compactly.
fn assert_one_coinbase_per_block(store: &mut BlockStore, best: BlockId) {
    let height = store.get(best).height;
    let params = store.params().clone();
    let pruned = store.pruned_height();
    let subsidies = (1..=height).map(|h| params.subsidy(h).0).sum::<u64>();
    let genesis = crate::chain::Amount::from_coins(50).0;
    let set = store.utxo_at(best).expect("the best chain is valid");
    assert_eq!(set.len(), height as usize + 1, "one coin per block and genesis's");
    assert_eq!(set.total_value().0, genesis + subsidies);
    // Every final main-chain coinbase sits in the compact arrays; the maps hold only the
    // coins of blocks above the pruned height (and genesis's).
    let (finals, _) = store.utxo_set().final_coins();
    assert_eq!(finals, pruned as usize, "final coinbases kept compactly");
}

#[test]
fn final_coinbases_are_kept_compactly_and_count_as_before() {
    let depth = crate::chain::store::MIN_PRUNE_DEPTH;
    let s = small_quickstart(5 * depth, depth);
    let mut sim = run_with(&s, Peaks::default(), None).unwrap();
    let best = sim.main_chain.best;
    assert!(sim.store.pruned_height() >= 3 * depth, "pruned to {}", sim.store.pruned_height());
    assert_one_coinbase_per_block(&mut sim.store, best);
}

#[test]
fn a_reorg_just_within_the_prune_depth_goes_through_above_final_coinbases() {
    // A 55 % private chain forks once the honest chain is about 250 blocks long and is
    // published when the honest chain has 95 blocks on the fork: at a prune depth of 100,
    // the fork point is then 5 blocks above the pruned height, whose coinbases are final.
    let depth = crate::chain::store::MIN_PRUNE_DEPTH;
    let s = load(
        "attacks/majority.toml",
        &[
            &format!("chain.prune_depth={depth}"),
            "attacker[0].start_s=150000",
            "attacker[0].publish_after=95",
            "run.blocks=700",
        ],
    );
    let mut sim = crate::run::run(&s).unwrap();
    assert_eq!(sim.store.blocks_refused_below_pruned(), 0, "the branch was within the depth");
    let deepest = sim.observer.reorgs.iter().map(|r| r.depth).max().unwrap_or(0);
    assert!((90..depth).contains(&deepest), "deepest reorg {deepest} blocks");
    let best = sim.main_chain.best;
    let miner = sim.store.get(best).meta.miner;
    assert!(sim.store.pruned_height() > 0);
    assert_eq!(miner, Some(crate::id::NodeId(0)), "the attacker's branch won");
    assert_one_coinbase_per_block(&mut sim.store, best);
}
