//! A node's mining clock: when it finds its next block, and what it does when it does.
//!
//! Two modes (see DESIGN.md):
//! - **sampled**: the next block comes after an exponential time with mean
//!   `work(next target) / hash rate`. Mining is memoryless, so the clock only has to be
//!   redrawn when the miner's rate changes (its next target differs after a retarget), not on
//!   every new tip. When the clock fires, the node builds a real block on its mining tip and
//!   grinds a real nonce against the easy simulation target.
//! - **ground**: when the miner starts on a tip it builds the template and literally tries
//!   nonces 0, 1, 2, ... against the real (small) target; nonce `k` is tried at
//!   `start + k / rate` of virtual time, so the block is found at the first `k` that meets
//!   the target. A new tip before then means a new template: the hashes decide who wins.
//!   Hashing is done in chunks of [`GROUND_CHUNK_HASHES`] as virtual time passes, so the
//!   real work per block stays about the expected hashes of one block, however many nodes
//!   mine.
//!
//! Each clock carries a generation: restarting the clock bumps it, and a timer set under an
//! older generation is void when it fires.

use super::Node;
use super::ctx::{BlockCosts, NodeCtx, NodeSettings, Shared, Timer};
use super::mempool;
use crate::chain::BlockStore;
use crate::chain::block::{Block, grind_nonce};
use crate::chain::pow::{CompactTarget, work_from_target};
use crate::chain::{BlockId, BlockMeta, U256};
use crate::consensus::seal::{Seal, SignedSeal, StakeState};
use crate::consensus::signed::note_sealed;
use crate::mining::build_template;
use crate::network::message::WireSizes;
use crate::observe::Record;
use crate::rng::{self, SimRng};
use crate::scenario::MiningMode;
use crate::time::{SimDuration, SimTime};

/// Hashes a ground-mode miner computes per step of virtual time.
pub const GROUND_CHUNK_HASHES: u64 = 4096;

/// The mining clock of a node with hash power.
#[derive(Clone, Debug)]
pub struct Miner {
    /// Hashes per second of virtual time.
    pub hashrate_hs: f64,
    /// Bumped whenever the pending find is invalidated; stale timers carry an old value.
    pub generation: u32,
    /// The block being ground (ground mode).
    pub pending_block: Option<Block>,
    /// Ground mode: whether the pending timer completes `pending_block` (otherwise it ends
    /// a chunk of hashing and the next chunk follows).
    pub pending_found: bool,
    /// Ground mode: when hashing on the pending template started.
    pub template_started_at: SimTime,
    /// Ground mode: hashes tried on the pending template so far.
    pub template_hashes: u64,
    /// Coinbase extra nonce, bumped per template so templates never repeat.
    pub extra_nonce: u64,
}

impl Miner {
    /// A clock for `hashrate_hs` hashes per second.
    pub fn new(hashrate_hs: f64) -> Miner {
        Miner {
            hashrate_hs,
            generation: 0,
            pending_block: None,
            pending_found: false,
            template_started_at: SimTime::ZERO,
            template_hashes: 0,
            extra_nonce: 0,
        }
    }

    /// Draws the time to the next block at difficulty `bits` (sampled mode).
    pub fn sample_delay(&self, bits: CompactTarget, rng: &mut SimRng) -> SimDuration {
        let target = bits.to_target().expect("bits in the store always decode");
        let expected_hashes = work_from_target(target).to_f64();
        SimDuration::from_secs_f64(rng::exp1(rng) * expected_hashes / self.hashrate_hs)
    }

    /// Tries up to `max_tries` nonces on `block` against `target`, rolling the coinbase's
    /// extra nonce when the 32-bit nonce runs out. Returns hashes tried and whether the block
    /// now meets the target.
    pub fn grind(&mut self, target: &U256, block: &mut Block, max_tries: u64) -> (u64, bool) {
        let mut tried: u64 = 0;
        while tried < max_tries {
            let start = u64::from(block.header.nonce);
            if let Some(t) = grind_nonce(&mut block.header, target, max_tries - tried) {
                return (tried + t, true);
            }
            let last = u64::from(block.header.nonce);
            tried += last - start + 1;
            if last == u64::from(u32::MAX) {
                self.extra_nonce += 1;
                if let Some(cb) = block.txs[0].coinbase.as_mut() {
                    cb.extra_nonce = self.extra_nonce;
                }
                block.header.merkle_root = block.compute_merkle_root();
                block.header.nonce = 0;
            } else {
                block.header.nonce += 1;
            }
        }
        (tried, false)
    }

    /// Virtual time to compute `hashes` hashes.
    pub fn time_for(&self, hashes: u64) -> SimDuration {
        SimDuration::from_secs_f64(hashes as f64 / self.hashrate_hs)
    }

    /// Voids the pending find (a new generation) and drops any template being ground.
    pub fn void(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.pending_block = None;
    }
}

/// The target a block's `bits` encode (valid for every block built from the store).
fn bits_target_of(block: &Block) -> U256 {
    block.header.bits.to_target().expect("bits in the store always decode")
}

impl Node {
    /// Starts the mining clock on the node's mining tip (a fresh draw, or a new template).
    pub(super) fn start_mining(&mut self, ctx: &mut NodeCtx<'_>) {
        let tip = self.mining_tip();
        let bits = ctx.store_mut().next_bits(tip);
        let mode = ctx.settings().mode;
        let Some(miner) = self.miner.as_mut() else { return };
        miner.generation = miner.generation.wrapping_add(1);
        match mode {
            MiningMode::Sampled => {
                self.clock_bits = bits;
                let delay = miner.sample_delay(bits, ctx.mining_rng());
                let generation = miner.generation;
                ctx.set_timer(ctx.now() + delay, Timer::Mined { generation });
            }
            MiningMode::Ground => {
                miner.extra_nonce += 1;
                let extra_nonce = miner.extra_nonce;
                let body = mempool::template_body(ctx, tip);
                let (node, now, spec) = (ctx.node(), ctx.now(), ctx.settings().template);
                let block =
                    build_template(ctx.store_mut(), tip, node, now, extra_nonce, &spec, body);
                let miner = self.miner.as_mut().expect("checked above");
                miner.pending_block = Some(block);
                miner.template_started_at = now;
                miner.template_hashes = 0;
                self.ground_step(ctx);
            }
        }
    }

    /// Ground mode: hashes the next chunk of nonces and sets the timer either at the virtual
    /// time of the winning hash or at the end of the chunk.
    fn ground_step(&mut self, ctx: &mut NodeCtx<'_>) {
        let now = ctx.now();
        let miner = self.miner.as_mut().expect("only miners grind");
        let mut block = miner.pending_block.take().expect("a ground miner has a template");
        let target = ctx.store().params().pow_check_target(bits_target_of(&block));
        let (hashes, found) = miner.grind(&target, &mut block, GROUND_CHUNK_HASHES);
        miner.pending_block = Some(block);
        miner.pending_found = found;
        miner.template_hashes += hashes;
        // Measured from the template's start so chunking never changes the result.
        let at = (miner.template_started_at + miner.time_for(miner.template_hashes)).max(now);
        ctx.set_timer(at, Timer::Mined { generation: miner.generation });
    }

    /// The node's tip moved: in sampled mode the clock only changes if the rate does (a
    /// different next target); in ground mode the template must be rebuilt.
    pub(super) fn tip_changed(&mut self, ctx: &mut NodeCtx<'_>) {
        if self.signed.is_some() {
            self.signed_tip_changed(ctx);
        }
        if self.miner.is_none() || !ctx.mining_open() || !self.online {
            return;
        }
        let needs_restart = match ctx.settings().mode {
            MiningMode::Ground => true,
            MiningMode::Sampled => {
                let tip = self.mining_tip();
                let bits = ctx.store_mut().next_bits(tip);
                bits != self.clock_bits
            }
        };
        if needs_restart {
            self.start_mining(ctx);
        }
    }

    /// Restarts the miner (if the node mines and the run still does) on its mining tip.
    pub(super) fn restart_mining(&mut self, ctx: &mut NodeCtx<'_>) {
        if self.miner.is_some() && ctx.mining_open() {
            self.start_mining(ctx);
        }
    }

    /// The mining clock fired: build and store the block, then relay it or ask the
    /// protocol what to do with it.
    pub(super) fn on_mined(&mut self, ctx: &mut NodeCtx<'_>, generation: u32) {
        let Some(miner) = self.miner.as_ref() else { return };
        if !ctx.mining_open() || miner.generation != generation {
            return;
        }
        let block = match ctx.settings().mode {
            MiningMode::Ground if !miner.pending_found => return self.ground_step(ctx),
            MiningMode::Ground => self
                .miner
                .as_mut()
                .and_then(|m| m.pending_block.take())
                .expect("a ground miner's timer has its block"),
            MiningMode::Sampled => {
                let tip = self.mining_tip();
                let miner = self.miner.as_mut().expect("checked above");
                miner.extra_nonce += 1;
                let extra_nonce = miner.extra_nonce;
                let body = mempool::template_body(ctx, tip);
                let (node, now, spec) = (ctx.node(), ctx.now(), ctx.settings().template);
                let mut block =
                    build_template(ctx.store_mut(), tip, node, now, extra_nonce, &spec, body);
                let target = ctx.store().params().pow_check_target(bits_target_of(&block));
                let miner = self.miner.as_mut().expect("checked above");
                miner.grind(&target, &mut block, u64::MAX);
                block
            }
        };
        let id = store_mined(ctx, block, None);
        ctx.mined();
        ctx.record(Record::BlockMined { block: id, miner: self.id, time: ctx.now() });
        // The clock that fired is used up: force a fresh draw when the tip moves.
        self.clock_bits = CompactTarget(0);
        self.accept(ctx, id, None, true);
    }
}

/// Stores a block the node just mined (or produced, with its seal) in the shared store,
/// with its costs, and tells the transaction pool which of its transactions it carries.
///
/// # Panics
///
/// Panics if the block is invalid: an honest template is always valid, so that is a bug in
/// the template builder.
pub(super) fn store_mined(ctx: &mut NodeCtx<'_>, block: Block, seal: Option<Seal>) -> BlockId {
    store_sealed(ctx, block, |stake, _, id| {
        if let Some(seal) = seal {
            stake.seals.set(id, seal);
        }
    })
}

/// [`store_mined`] for a block with a signed seal (DPoS, PoET, coin-age): the seal and what
/// the kind derives from it are kept before the block's costs are computed.
pub(super) fn store_signed(ctx: &mut NodeCtx<'_>, block: Block, seal: SignedSeal) -> BlockId {
    store_sealed(ctx, block, |stake, store, id| note_sealed(stake, store, id, seal))
}

/// Stores `block`, then lets `seal` keep its seal (in stake runs).
fn store_sealed(
    ctx: &mut NodeCtx<'_>,
    block: Block,
    seal: impl FnOnce(&mut StakeState, &BlockStore, BlockId),
) -> BlockId {
    let (node, now) = (ctx.node(), ctx.now());
    let settings = ctx.settings();
    let shared = &mut *ctx.shared;
    let id = shared
        .store
        .insert(block, BlockMeta { miner: Some(node), mined_at: now })
        .expect("a freshly mined block extends a block in the store");
    if let Some(stake) = shared.stake.as_mut() {
        seal(stake, &shared.store, id);
    }
    if let Err(reason) = shared.store.validity(id) {
        if shared.store.leaves_final_chain(id) {
            // The miner's branch forks deeper than the prune depth (an attacker's long private
            // chain, or a node that followed it): the block is refused like any other block on
            // that branch (counted in the store), and the miner wastes its work until it
            // adopts the final chain.
            push_costs(shared, settings, id);
            return id;
        }
        panic!(
            "an honest miner built an invalid block ({reason}); this is a bug in the template builder"
        );
    }
    if shared.store.chain_work(id) > shared.store.chain_work(shared.best_block) {
        shared.best_block = id;
    }
    if let Some(p) = shared.payments.as_mut() {
        let parent = shared.store.get(id).parent.expect("a mined block has a parent");
        let undo = shared.store.block_undo(id).expect("a valid mined block has undo data");
        let indices: Vec<u32> =
            undo.txids()[1..].iter().filter_map(|txid| p.pool.index_of(txid)).collect();
        p.pool.register_block(id, parent, &indices);
        p.pool.retire(&shared.store, shared.best_block);
    }
    push_costs(shared, settings, id);
    prune_final(shared);
    id
}

/// Computes the relay sizes and base validation time of `id`, just stored, once for every
/// node (every stored block has its costs, in id order).
pub(crate) fn push_costs(shared: &mut Shared, settings: &NodeSettings, id: BlockId) {
    let stored = shared.store.get(id);
    let validation = settings.validation_base
        + SimDuration::from_secs_f64(
            stored.size_bytes as f64 * settings.validation_ms_per_mb / 1e9,
        );
    let mut wire = WireSizes::of(&stored.block, settings.relay.compact_missing_tx_share);
    // A seal travels with the header: in the full block and in the compact block.
    if let Some(bytes) = shared.stake.as_ref().map(|s| s.seals.wire_bytes(id)) {
        wire.block += bytes;
        wire.cmpct_block += bytes;
    }
    debug_assert_eq!(shared.costs.len(), id.index());
    shared.costs.push(BlockCosts { wire, validation });
}

/// Prunes the block the store's prune depth (`chain.prune_depth`) below the most-work
/// published block (whoever mined it: nodes follow an attacker's published chain too) and everything under it
/// (see [`crate::chain::BlockStore::prune_through`]) once every node has accepted it: a node
/// still behind it may need its undo data to reach its own tip.
fn prune_final(shared: &mut super::ctx::Shared) {
    let Some(last_final) = shared.store.prune_candidate(shared.store.best_published()) else {
        return;
    };
    if !shared.states.all_accepted(last_final) {
        return;
    }
    shared.store.prune_through(last_final);
    if let Some(p) = shared.payments.as_mut() {
        p.pool.prune_final(&shared.store, last_final);
    }
}
