//! The global block store: every block is built once, hashed once and stored once.
//!
//! Hundreds of simulated nodes see the same blocks, so blocks live here, behind an `Arc`, and
//! nodes refer to them by [`BlockId`]. Everything that is a function of a block and its
//! ancestors alone (height, cumulative work, median time past, the bits its children must
//! carry, its node-independent validity) is computed here once and cached, instead of once per
//! node. What does differ per node (whether it has the block, its clock for the time-too-new
//! rule, the cost of checking proof of work) stays with the node.
//!
//! The UTXO state is shared the same way. The store owns a single [`UtxoSet`], a *cursor*
//! positioned at some block, and moves it along the block tree: to reach block `b` it
//! disconnects blocks back to the fork point with `b`'s chain and reconnects forward. Each
//! block's [`BlockUndo`] is computed once, when the block is first connected during
//! validation, and kept, so moving the cursor never checks a rule or a signature again. So
//! hundreds of nodes on several branches share one set instead of holding one copy each, and
//! a reorg costs the store only the blocks between the two tips. Validation also shares one
//! [`SigCache`], so a transaction seen on two branches has its signatures verified once.
//!
//! Lookups by hash use a prefix-keyed index that nothing iterates, so nothing depends on
//! hash-map iteration order; ids are
//! assigned in insertion order, which the deterministic engine fixes.
//!
//! **Pruning.** A long run would otherwise keep every block body, every block's undo data and
//! every verified signature. [`BlockStore::prune_through`] makes a block and everything at or
//! below its height final, as a pruned Bitcoin Core node does with its block and undo files:
//! a final-chain block's body is dropped (every node has it, so none asks for it again; its
//! header, transaction count and encoded size stay in the [`StoredBlock`]), a stale block's
//! transactions after the coinbase are folded into its [`Filler`] (a late compact-block
//! exchange reads the coinbase's size), their undo data is dropped, and the
//! signature-cache entries of the final main chain's transactions are forgotten. Headers and
//! every per-block fact (height, work, median time past, size, miner) stay. The cursor then
//! never goes below that height: a block whose branch leaves the final chain below it is
//! refused (counted by [`BlockStore::refused_below_pruned`]) instead of validated. Core keeps
//! at least 288 blocks (`MIN_BLOCKS_TO_KEEP`) and cannot reorganise deeper than its undo
//! files reach either: it stops with a fatal "failed to read block" error and must re-download.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::chain::block::{Block, Filler, Header, grind_nonce};
use crate::chain::chunked::ChunkedVec;
use crate::chain::final_work::FinalWork;
use crate::chain::hash::BlockHash;
use crate::chain::params::ConsensusParams;
use crate::chain::pow::{CompactTarget, Work, retarget, work_from_target};
use crate::chain::prefix_index::PrefixIndex;
use crate::chain::sigcache::SigCache;
use crate::chain::tx::{Amount, Transaction, TxOut};
use crate::chain::utxo::{BlockUndo, UtxoSet};
use crate::chain::validate::{
    HeaderContext, RejectReason, check_block_body_with_txids, contextual_check_block,
    contextual_check_header, median_in_place,
};
use crate::id::NodeId;
use crate::time::SimTime;

/// A block's index in the [`BlockStore`], assigned in insertion order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct BlockId(pub u32);

impl BlockId {
    /// The genesis block, always the first one stored.
    pub const GENESIS: BlockId = BlockId(0);

    /// Returns the id as a vector index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Simulation facts about a block that are not part of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockMeta {
    /// The node that mined it; `None` for genesis.
    pub miner: Option<NodeId>,
    /// Virtual time at which it was mined.
    pub mined_at: SimTime,
}

/// The header fields a stored block keeps when its body is gone: its previous hash is its
/// parent's [`StoredBlock::hash`], and only the Merkle root (in the body, while there is one)
/// is not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderFields {
    /// Block version.
    pub version: i32,
    /// Timestamp claimed by the miner, seconds since the Unix epoch (virtual).
    pub time: u32,
    /// The target the block's work is measured against, in compact form.
    pub bits: CompactTarget,
    /// The nonce that meets the target.
    pub nonce: u32,
}

/// A block together with the facts derived from it and its ancestors: 88 bytes a block (see
/// the `stored_block_is_at_most_88_bytes` test), kept for every block of a run. Its chain
/// work and median time past are the store's to answer ([`BlockStore::chain_work`],
/// [`BlockStore::median_time_past`]): a final block's work is kept in runs of equal steps,
/// and its median time past is computed from its ancestors' times when asked.
#[derive(Clone, Debug)]
pub struct StoredBlock {
    /// The block itself, shared. Once pruned as part of the final chain (see
    /// [`BlockStore::prune_through`]) it is an empty placeholder shared by every such block
    /// of the same version and bits (so of the same retarget period, as a rule): read its
    /// header fields with [`StoredBlock::header`] and its size and transaction count from
    /// [`StoredBlock::size_bytes`] and [`StoredBlock::tx_count`], which stay.
    pub block: Arc<Block>,
    /// Its header hash.
    pub hash: BlockHash,
    /// Who mined it and when.
    pub meta: BlockMeta,
    /// Its encoded size (saturating at `u32::MAX`, 4 GiB, far above any block size limit).
    pub size_bytes: u32,
    /// Transactions, coinbase and filler included.
    pub tx_count: u32,
    /// Number of blocks between it and genesis (genesis is 0).
    pub height: u32,
    /// The parent; `None` only for genesis.
    pub parent: Option<BlockId>,
    /// A far ancestor for fast ancestor lookups (Core's `pskip`; genesis for genesis).
    skip: BlockId,
    /// Its header's time (the version and bits are those of `block`'s header, which a
    /// final block's placeholder shares).
    time: u32,
    /// Its header's nonce.
    nonce: u32,
}

impl StoredBlock {
    /// Returns the block's header fields (all but the previous hash, which is its parent's
    /// hash, and the Merkle root).
    pub fn header(&self) -> HeaderFields {
        HeaderFields {
            version: self.block.header.version,
            time: self.time,
            bits: self.block.header.bits,
            nonce: self.nonce,
        }
    }
}

/// Why a block could not be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    /// No stored block has the hash in `prev_blockhash` (an orphan).
    #[error("parent block is unknown")]
    UnknownParent,
    /// The block is already stored under this id.
    #[error("block already stored as {0:?}")]
    Duplicate(BlockId),
    /// The header's bits do not decode, so its work is undefined.
    #[error("header bits do not decode to a target")]
    BadCompact,
}

/// All blocks of a run, with per-block caches shared by every node.
#[derive(Debug)]
pub struct BlockStore {
    params: ConsensusParams,
    /// Every block, by id, in fixed-size chunks (see [`ChunkedVec`]).
    blocks: ChunkedVec<StoredBlock>,
    /// The chain work of each block not pruned yet, genesis included (looked up only).
    hot_work: FxHashMap<BlockId, Work>,
    /// The chain work of the final chain's pruned blocks, by height (a pruned stale block's
    /// is its parent's plus its own, computed when asked).
    final_work: FinalWork,
    /// Block ids by hash (see [`PrefixIndex`]: about 9 bytes per block).
    by_hash: PrefixIndex<BlockId>,
    /// The bits a child must carry, per parent above the pruned height (a pruned parent's
    /// are computed again if ever asked: they depend on headers only, which stay).
    next_bits_cache: FxHashMap<BlockId, CompactTarget>,
    validity_cache: Vec<Option<Result<(), RejectReason>>>,
    scratch_times: Vec<u32>,
    /// The shared UTXO set, positioned at `utxo_tip`.
    utxo: UtxoSet,
    utxo_tip: BlockId,
    /// The undo data of each valid non-genesis block's connect, until the block is pruned
    /// (looked up by id only: nothing iterates it in a way that reaches a result).
    undo_cache: FxHashMap<BlockId, BlockUndo>,
    sigcache: SigCache,
    /// Blocks at or below this height are pruned (0 before any pruning: genesis is never).
    pruned_height: u32,
    /// The block [`BlockStore::prune_through`] last made final (genesis before).
    last_final: BlockId,
    /// Blocks not pruned yet (genesis aside), lowest height first.
    unpruned: BinaryHeap<Reverse<(u32, BlockId)>>,
    /// Cursor moves refused because they needed pruned blocks.
    refused_below_pruned: u64,
    /// Blocks found invalid because their branch leaves the final chain below the pruned
    /// height (each counted once: verdicts are cached).
    blocks_refused_below_pruned: u64,
    /// Depth below the most-work tip at which blocks are made final and pruned.
    prune_depth: u32,
    /// The most-work block a node accepted from a peer (see
    /// [`BlockStore::best_published`]).
    best_published: BlockId,
    /// The bodies pruned blocks of the final chain share, by header version and bits (see
    /// [`StoredBlock::block`]): one per retarget period as a rule.
    final_bodies: BTreeMap<(i32, u32), Arc<Block>>,
    /// The header the final bodies copy but for their version and bits (genesis's).
    final_header: Header,
}

/// Depth below the most-work tip at which blocks are pruned by default: Bitcoin Core's
/// `MIN_BLOCKS_TO_KEEP`, far deeper than any reorg of a shipped scenario (at most a few dozen
/// blocks).
pub const DEFAULT_PRUNE_DEPTH: u32 = 288;

/// The shallowest prune depth a scenario may ask for (`chain.prune_depth`). Shallower pruning
/// would reach into what mempools still treat as reversible (24 blocks, see
/// `RETIRE_DEPTH` of the payment pool) and into the private chains of the shipped
/// attacks; Bitcoin Core itself keeps at least 288 blocks.
pub const MIN_PRUNE_DEPTH: u32 = 100;

/// Why the UTXO cursor could not be moved: the move needed blocks below the pruned height.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BelowPruned;

/// A stored size in 32 bits (see [`StoredBlock::size_bytes`]).
fn size_u32(size_bytes: u64) -> u32 {
    u32::try_from(size_bytes).unwrap_or(u32::MAX)
}

/// Clears the lowest set bit (Core's `InvertLowestOne`).
fn invert_lowest_one(n: u32) -> u32 {
    n & n.wrapping_sub(1)
}

/// The height a block's skip pointer points to (Core's `GetSkipHeight`): chosen so that
/// ancestor lookups take O(log n) steps.
fn skip_height(height: u32) -> u32 {
    if height < 2 {
        0
    } else if !height.is_multiple_of(2) {
        invert_lowest_one(invert_lowest_one(height - 1)) + 1
    } else {
        invert_lowest_one(height)
    }
}

impl BlockStore {
    /// Creates a store holding only `genesis` (id 0, height 0, work of its bits).
    ///
    /// Genesis is valid by definition: it is not validated. If its bits do not decode, its
    /// work is zero.
    pub fn new(genesis: Block, params: ConsensusParams) -> BlockStore {
        let hash = genesis.header.block_hash();
        let chain_work =
            genesis.header.bits.to_target().map(work_from_target).unwrap_or(Work::ZERO);
        let size_bytes = size_u32(genesis.size_bytes());
        let utxo = UtxoSet::from_genesis(&genesis);
        let final_header = genesis.header;
        let mut hot_work = FxHashMap::default();
        hot_work.insert(BlockId::GENESIS, chain_work);
        let stored = StoredBlock {
            time: genesis.header.time,
            nonce: genesis.header.nonce,
            tx_count: genesis.tx_count(),
            block: Arc::new(genesis),
            hash,
            height: 0,
            parent: None,
            meta: BlockMeta { miner: None, mined_at: SimTime::ZERO },
            size_bytes,
            skip: BlockId::GENESIS,
        };
        let mut by_hash = PrefixIndex::default();
        by_hash.insert(hash.0, BlockId::GENESIS, |_| hash.0);
        let mut blocks = ChunkedVec::new();
        blocks.push(stored);
        BlockStore {
            params,
            blocks,
            hot_work,
            final_work: FinalWork::new(chain_work),
            by_hash,
            next_bits_cache: FxHashMap::default(),
            validity_cache: vec![Some(Ok(()))],
            scratch_times: Vec::new(),
            utxo,
            utxo_tip: BlockId::GENESIS,
            undo_cache: FxHashMap::default(),
            sigcache: SigCache::new(),
            pruned_height: 0,
            last_final: BlockId::GENESIS,
            unpruned: BinaryHeap::new(),
            refused_below_pruned: 0,
            blocks_refused_below_pruned: 0,
            prune_depth: DEFAULT_PRUNE_DEPTH,
            best_published: BlockId::GENESIS,
            final_bodies: BTreeMap::new(),
            final_header,
        }
    }

    /// The same store pruning `depth` blocks below the most-work tip instead of
    /// [`DEFAULT_PRUNE_DEPTH`] (a scenario's `chain.prune_depth`; at least 1).
    #[must_use]
    pub fn with_prune_depth(mut self, depth: u32) -> BlockStore {
        self.prune_depth = depth.max(1);
        self
    }

    /// Returns the depth below the most-work tip at which blocks are pruned.
    pub fn prune_depth(&self) -> u32 {
        self.prune_depth
    }

    /// Returns the consensus parameters the store was created with.
    pub fn params(&self) -> &ConsensusParams {
        &self.params
    }

    /// Stores a block whose parent is already stored and returns its new id.
    ///
    /// Computes the hash (once), height, cumulative work and skip pointer.
    /// Does not validate: see [`BlockStore::validity`].
    pub fn insert(&mut self, block: Block, meta: BlockMeta) -> Result<BlockId, InsertError> {
        let hash = block.header.block_hash();
        if let Some(existing) = self.lookup(&hash) {
            return Err(InsertError::Duplicate(existing));
        }
        let parent = self.lookup(&block.header.prev_blockhash).ok_or(InsertError::UnknownParent)?;
        let target = block.header.bits.to_target().map_err(|_| InsertError::BadCompact)?;
        let id =
            BlockId(u32::try_from(self.blocks.len()).expect("fewer than 2^32 blocks in one run"));
        let parent_block = self.get(parent);
        let height = parent_block.height + 1;
        let chain_work = self.chain_work(parent).saturating_add(work_from_target(target));
        let skip = self.ancestor(parent, skip_height(height));
        let size_bytes = size_u32(block.size_bytes());
        self.hot_work.insert(id, chain_work);
        self.blocks.push(StoredBlock {
            time: block.header.time,
            nonce: block.header.nonce,
            tx_count: block.tx_count(),
            block: Arc::new(block),
            hash,
            height,
            parent: Some(parent),
            meta,
            size_bytes,
            skip,
        });
        let blocks = &self.blocks;
        self.by_hash.insert(hash.0, id, |other| blocks[other.index()].hash.0);
        self.validity_cache.push(None);
        self.unpruned.push(Reverse((height, id)));
        Ok(id)
    }

    /// Returns a stored block.
    ///
    /// # Panics
    /// Panics if `id` did not come from this store.
    pub fn get(&self, id: BlockId) -> &StoredBlock {
        self.blocks.get(id.index()).expect("BlockId must come from this store")
    }

    /// Returns the total work of the chain ending at `id`, including it.
    ///
    /// # Panics
    /// Panics if `id` did not come from this store.
    pub fn chain_work(&self, id: BlockId) -> Work {
        // A pruned stale branch adds its blocks' own work, from the top, to the work of the
        // first block with a kept work (in the same order as `insert` added it).
        let mut walk = id;
        let mut branch = Vec::new();
        let base = loop {
            if let Some(&work) = self.hot_work.get(&walk) {
                break work;
            }
            let stored = self.get(walk);
            if self.has_final_body(stored) {
                break self.final_work.get(stored.height).expect("a final block's work is kept");
            }
            branch.push(walk);
            walk = stored.parent.expect("genesis keeps its work");
        };
        branch.iter().rev().fold(base, |work, &b| {
            let target = self.get(b).header().bits.to_target().expect("decoded when stored");
            work.saturating_add(work_from_target(target))
        })
    }

    /// Returns the median time of the last `median_time_span` blocks ending at `id` (0 when
    /// the span is 0), computed from their header times.
    ///
    /// # Panics
    /// Panics if `id` did not come from this store.
    pub fn median_time_past(&self, id: BlockId) -> u32 {
        self.median_time_past_with(id, &mut Vec::new())
    }

    /// [`BlockStore::median_time_past`] with a scratch buffer for the times.
    fn median_time_past_with(&self, id: BlockId, times: &mut Vec<u32>) -> u32 {
        times.clear();
        let mut walk = Some(id);
        while let Some(ancestor) = walk {
            if times.len() >= self.params.median_time_span {
                break;
            }
            let stored = self.get(ancestor);
            times.push(stored.header().time);
            walk = stored.parent;
        }
        median_in_place(times)
    }

    /// Returns a stored block, or `None` for an id this store never issued.
    pub fn try_get(&self, id: BlockId) -> Option<&StoredBlock> {
        self.blocks.get(id.index())
    }

    /// Returns the number of stored blocks (at least 1: genesis).
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Returns false: the store always holds genesis.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Returns the id of the block with this hash, if stored.
    pub fn lookup(&self, hash: &BlockHash) -> Option<BlockId> {
        self.by_hash.get(&hash.0, |id| self.blocks[id.index()].hash.0)
    }

    /// Returns all ids in insertion order.
    pub fn ids(&self) -> impl Iterator<Item = BlockId> + use<> {
        (0..self.blocks.len() as u32).map(BlockId)
    }

    /// Returns the ancestor of `id` at `height` (`id` itself at its own height), in O(log n)
    /// steps using skip pointers (Core's `GetAncestor`).
    ///
    /// # Panics
    /// Panics if `height` is above the block's height (a caller bug).
    pub fn ancestor(&self, id: BlockId, height: u32) -> BlockId {
        let mut walk = id;
        let mut walk_height = self.get(id).height;
        assert!(
            height <= walk_height,
            "ancestor height {height} is above block height {walk_height}"
        );
        while walk_height > height {
            let stored = self.get(walk);
            let skip_h = skip_height(walk_height) as i64;
            let skip_prev_h = skip_height(walk_height - 1) as i64;
            let target = height as i64;
            let take_skip = skip_h == target
                || (skip_h > target && !(skip_prev_h < skip_h - 2 && skip_prev_h >= target));
            if take_skip {
                walk = stored.skip;
                walk_height = skip_h as u32;
            } else {
                walk = stored.parent.expect("a block above height 0 has a parent");
                walk_height -= 1;
            }
        }
        walk
    }

    /// Returns the bits a child of `parent` must carry (Core's `GetNextWorkRequired` without
    /// testnet rules), cached per parent.
    ///
    /// Between retargets the parent's bits carry over. When the child's height is a multiple
    /// of `retarget_interval`, the target is rescaled by the time from the block at height
    /// `parent.height + 1 - retarget_interval` to the parent (Core's off-by-one: the first
    /// interval of a period is not measured).
    pub fn next_bits(&mut self, parent: BlockId) -> CompactTarget {
        if let Some(&bits) = self.next_bits_cache.get(&parent) {
            return bits;
        }
        let stored = self.get(parent);
        let parent_bits = stored.header().bits;
        let interval = self.params.retarget_interval;
        let child_height = stored.height + 1;
        let bits = if !child_height.is_multiple_of(interval) {
            parent_bits
        } else {
            let first = self.ancestor(parent, child_height - interval);
            retarget(
                parent_bits,
                self.get(first).header().time,
                stored.header().time,
                self.params.target_timespan_s(),
                self.params.pow_limit,
            )
        };
        if child_height > self.pruned_height + 1 {
            self.next_bits_cache.insert(parent, bits);
        }
        bits
    }

    /// Returns the facts a child header of `parent` is checked against.
    pub fn header_context(&mut self, parent: BlockId) -> HeaderContext {
        let expected_bits = self.next_bits(parent);
        let mut times = std::mem::take(&mut self.scratch_times);
        let median_time_past = self.median_time_past_with(parent, &mut times);
        self.scratch_times = times;
        HeaderContext { height: self.get(parent).height + 1, expected_bits, median_time_past }
    }

    /// Returns the node-independent validity of a block, computed once and cached.
    ///
    /// A block is invalid with [`RejectReason::BadPrevBlk`] if any ancestor is invalid, or if
    /// its branch leaves the final chain below the pruned height (see
    /// [`BlockStore::prune_through`]); otherwise the verdict is [`crate::chain::validate::check_block_body`], then
    /// [`contextual_check_header`] without the per-node time-too-new rule, then
    /// [`contextual_check_block`], then the transaction rules of [`UtxoSet::connect_block`]
    /// against the UTXO state at the parent (which moves the shared UTXO cursor to the block
    /// if it is valid, or leaves it at the parent if not). Proof of work is not
    /// part of the verdict: every node checks it itself with
    /// [`crate::chain::validate::check_header_pow`], whose cost is charged per node. Genesis is
    /// valid by definition.
    pub fn validity(&mut self, id: BlockId) -> Result<(), RejectReason> {
        if let Some(verdict) = self.validity_cache[id.index()] {
            return verdict;
        }
        // Walk up to the nearest ancestor with a verdict, then decide top-down, so a long
        // unvalidated chain needs no recursion.
        let mut pending = vec![id];
        let mut walk = self.get(id).parent;
        while let Some(ancestor) = walk {
            if self.validity_cache[ancestor.index()].is_some() {
                break;
            }
            pending.push(ancestor);
            walk = self.get(ancestor).parent;
        }
        let mut verdict = Ok(());
        while let Some(block_id) = pending.pop() {
            verdict = self.compute_validity(block_id);
            self.validity_cache[block_id.index()] = Some(verdict);
        }
        verdict
    }

    /// Whether `id`'s branch leaves the final chain below the pruned height: such a block
    /// can never be valid (its verdict is [`RejectReason::BadPrevBlk`]), whoever mined it.
    pub fn leaves_final_chain(&self, id: BlockId) -> bool {
        self.pruned_height > 0
            && self.get(self.fork_point(id, self.last_final)).height < self.pruned_height
    }

    /// Notes that a node accepted `id` from a peer (so it is published, and valid): the
    /// most-work such block is the tip of the chain the network follows.
    pub fn note_published(&mut self, id: BlockId) {
        if self.chain_work(id) > self.chain_work(self.best_published) {
            self.best_published = id;
        }
    }

    /// Returns the most-work block a node has accepted from a peer (the first of equals;
    /// genesis before any): the tip of the chain the network follows, whoever mined it, and
    /// so the one along which [`BlockStore::prune_candidate`] makes blocks final. A private
    /// chain no other node has seen does not count: a reorg onto it, once published, is
    /// refused if it is deeper than the prune depth.
    pub fn best_published(&self) -> BlockId {
        self.best_published
    }

    /// Decides one block's validity, given that its parent's verdict is cached.
    fn compute_validity(&mut self, id: BlockId) -> Result<(), RejectReason> {
        let Some(parent) = self.get(id).parent else {
            return Ok(());
        };
        if self.validity_cache[parent.index()]
            .expect("parent verdict is decided before its child")
            .is_err()
        {
            return Err(RejectReason::BadPrevBlk);
        }
        let ctx = self.header_context(parent);
        let block = Arc::clone(&self.get(id).block);
        let txids = block.txids();
        check_block_body_with_txids(&block, &txids, &self.params)?;
        contextual_check_header(&block.header, &ctx, u64::MAX, &self.params)?;
        contextual_check_block(&block, ctx.height)?;
        if self.move_utxo_to(parent).is_err() {
            self.blocks_refused_below_pruned += 1;
            return Err(RejectReason::BadPrevBlk);
        }
        let undo =
            self.utxo.connect_block(&block, txids, ctx.height, &self.params, &mut self.sigcache)?;
        self.undo_cache.insert(id, undo);
        self.utxo_tip = id;
        Ok(())
    }

    /// Moves the UTXO cursor to `target`, which must be valid with every block on its chain
    /// connected once (so its undo data is cached): disconnects back to the fork point with
    /// `target`'s chain, then reconnects forward from cached undo data. Refused (and counted)
    /// when the fork point is below the pruned height, whose blocks have no undo data left.
    fn move_utxo_to(&mut self, target: BlockId) -> Result<(), BelowPruned> {
        if self.utxo_tip == target {
            return Ok(());
        }
        let fork = self.fork_point(self.utxo_tip, target);
        if self.get(fork).height < self.pruned_height {
            self.refused_below_pruned += 1;
            return Err(BelowPruned);
        }
        while self.utxo_tip != fork {
            let stored = &self.blocks[self.utxo_tip.index()];
            let undo = self
                .undo_cache
                .get(&self.utxo_tip)
                .expect("every block the cursor passed was connected and keeps its undo data");
            self.utxo
                .disconnect_block(&stored.block, undo)
                .expect("the cursor's block is the set's best block");
            self.utxo_tip = stored.parent.expect("the fork point is an ancestor");
        }
        let mut path =
            Vec::with_capacity((self.get(target).height - self.get(fork).height) as usize);
        let mut walk = target;
        while walk != fork {
            path.push(walk);
            walk = self.get(walk).parent.expect("the fork point is an ancestor");
        }
        for &id in path.iter().rev() {
            let stored = &self.blocks[id.index()];
            let undo = self
                .undo_cache
                .get(&id)
                .expect("a valid block's undo data is cached when it is first connected");
            self.utxo
                .reconnect_block(&stored.block, undo, stored.height)
                .expect("the path starts at the cursor and follows parent links");
            self.utxo_tip = id;
        }
        Ok(())
    }

    /// The block that [`BlockStore::prune_through`] would make final now that `best` is the
    /// most-work tip: its ancestor [`BlockStore::prune_depth`] blocks below it, if that is
    /// above the pruned height.
    pub fn prune_candidate(&self, best: BlockId) -> Option<BlockId> {
        let height = self.get(best).height.checked_sub(self.prune_depth)?;
        (height > self.pruned_height).then(|| self.ancestor(best, height))
    }

    /// Makes `last_final` and every block at or below its height final: folds their
    /// transactions into their filler (count and size unchanged),
    /// drops their undo data and forgets the verified signatures of the transactions of
    /// `last_final`'s chain (a stale block's transactions may still be mined again, so theirs
    /// stay). The UTXO cursor is moved onto `last_final`'s chain first.
    ///
    /// Does nothing unless `last_final` is above the pruned height and descends from the
    /// last block made final.
    pub fn prune_through(&mut self, last_final: BlockId) {
        let height = self.get(last_final).height;
        if height <= self.pruned_height {
            return;
        }
        if !self.is_ancestor(self.last_final, last_final) {
            return;
        }
        if !self.is_ancestor(last_final, self.utxo_tip) && self.move_utxo_to(last_final).is_err() {
            return;
        }
        while let Some(&Reverse((h, id))) = self.unpruned.peek() {
            if h > height {
                break;
            }
            self.unpruned.pop();
            let on_final_chain = self.ancestor(last_final, h) == id;
            self.prune_block(id, on_final_chain);
        }
        self.pruned_height = height;
        self.last_final = last_final;
    }

    /// Drops one block's body and undo data (see [`BlockStore::prune_through`]).
    fn prune_block(&mut self, id: BlockId, on_final_chain: bool) {
        let undo = self.undo_cache.remove(&id);
        self.next_bits_cache.remove(&id);
        let work = self.hot_work.remove(&id).expect("an unpruned block keeps its work");
        let final_body = on_final_chain.then(|| {
            let header = &self.get(id).block.header;
            let key = (header.version, header.bits.0);
            let template = Header { version: key.0, bits: header.bits, ..self.final_header };
            let body = self.final_bodies.entry(key).or_insert_with(|| {
                Arc::new(Block { header: template, txs: Vec::new(), filler: Filler::default() })
            });
            Arc::clone(body)
        });
        let stored = &mut self.blocks[id.index()];
        if on_final_chain {
            // Its work joins the final chain's runs (a stale block's is computed again).
            self.final_work.push(stored.height, work);
        }
        if stored.block.txs.is_empty() {
            if let Some(body) = final_body {
                stored.block = body;
            }
            return;
        }
        if on_final_chain && let Some(undo) = &undo {
            for (tx, txid) in stored.block.txs.iter().zip(undo.txids()).skip(1) {
                self.sigcache.forget(txid, tx.inputs.len());
            }
        }
        if on_final_chain {
            // Its coinbase outputs can never be disconnected now: keep them compactly.
            let coinbase = &stored.block.txs[0];
            let txid = undo.as_ref().map_or_else(|| coinbase.txid(), |u| u.txids()[0]);
            self.utxo.make_final(txid, coinbase);
        }
        if let Some(body) = final_body {
            // Every node has it and none asks for it again: header, size and count stay in
            // the stored block (its version and bits in the shared body).
            stored.block = body;
            return;
        }
        // A stale block keeps its coinbase: a node that never had it may still ask for it,
        // and the compact-block refetch sizes read the coinbase's size.
        let block = &stored.block;
        let kept = 1;
        if block.txs.len() <= kept {
            return;
        }
        let folded = &block.txs[kept..];
        let folded_bytes: u64 = folded.iter().map(|tx| tx.size_bytes() as u64).sum();
        let filler = Filler {
            tx_count: block.filler.tx_count.saturating_add(folded.len() as u32),
            size_bytes: block
                .filler
                .size_bytes
                .saturating_add(u32::try_from(folded_bytes).unwrap_or(u32::MAX)),
        };
        let pruned = Block { header: block.header, txs: block.txs[..kept].to_vec(), filler };
        debug_assert_eq!(size_u32(pruned.size_bytes()), stored.size_bytes);
        debug_assert_eq!(pruned.tx_count(), block.tx_count());
        stored.block = Arc::new(pruned);
    }

    /// Returns the block [`BlockStore::prune_through`] last made final (genesis before any):
    /// the final chain runs through it, so a block at or below the pruned height is in the
    /// final chain exactly when it is this block's ancestor.
    pub fn last_final(&self) -> BlockId {
        self.last_final
    }

    /// Returns the height at and below which blocks are pruned (0 before any pruning).
    pub fn pruned_height(&self) -> u32 {
        self.pruned_height
    }

    /// Returns how many cursor moves (validations or UTXO look-ups) were refused because
    /// they needed blocks below the pruned height: reorgs deeper than the pruning depth.
    pub fn refused_below_pruned(&self) -> u64 {
        self.refused_below_pruned
    }

    /// Returns how many blocks were found invalid ([`RejectReason::BadPrevBlk`]) because
    /// their branch leaves the final chain below the pruned height: each stands for a reorg
    /// deeper than the prune depth, refused (as a pruned Bitcoin Core node cannot make it
    /// either). Each block counts once.
    pub fn blocks_refused_below_pruned(&self) -> u64 {
        self.blocks_refused_below_pruned
    }

    /// Returns how many parents have their children's bits cached: only blocks above the
    /// pruned height keep theirs, so pruning keeps this bounded too.
    pub fn next_bits_cached(&self) -> usize {
        self.next_bits_cache.len()
    }

    /// Returns how many blocks still hold undo data and how many still hold transactions
    /// beyond the coinbase: what pruning keeps bounded.
    pub fn unpruned_counts(&self) -> (usize, usize) {
        let undo = self.undo_cache.len();
        let bodies = self.blocks.iter().filter(|b| b.block.txs.len() > 1).count();
        (undo, bodies)
    }

    /// Returns how many blocks hold a body of their own (not the final chain's shared empty
    /// one): those above the pruned height, and stale ones (which keep their coinbase).
    pub fn bodies_held(&self) -> usize {
        self.blocks.iter().filter(|b| !self.has_final_body(b)).count()
    }

    /// Whether `stored`'s body is one of the final chain's shared placeholders.
    fn has_final_body(&self, stored: &StoredBlock) -> bool {
        let header = &stored.block.header;
        stored.block.txs.is_empty()
            && self
                .final_bodies
                .get(&(header.version, header.bits.0))
                .is_some_and(|body| Arc::ptr_eq(body, &stored.block))
    }

    /// Returns the UTXO set after block `id` (the state a mempool on that tip checks
    /// transactions against), moving the shared cursor there; or the block's reject reason if
    /// it is invalid, since an invalid block has no UTXO state.
    ///
    /// Moving the cursor costs one disconnect or reconnect (no rule or signature checks) per
    /// block between the current position and `id`.
    ///
    /// A block whose chain leaves the cursor's below the pruned height has no reachable
    /// state: [`RejectReason::BadPrevBlk`] (counted in [`BlockStore::refused_below_pruned`]).
    pub fn utxo_at(&mut self, id: BlockId) -> Result<&UtxoSet, RejectReason> {
        self.validity(id)?;
        self.move_utxo_to(id).map_err(|BelowPruned| RejectReason::BadPrevBlk)?;
        Ok(&self.utxo)
    }

    /// [`BlockStore::utxo_at`] together with the shared signature cache, so that a mempool can
    /// check a transaction with [`UtxoSet::check_tx_inputs`] and leave its verified signatures
    /// for the block that later includes it.
    pub fn utxo_and_sigcache_at(
        &mut self,
        id: BlockId,
    ) -> Result<(&UtxoSet, &mut SigCache), RejectReason> {
        self.validity(id)?;
        self.move_utxo_to(id).map_err(|BelowPruned| RejectReason::BadPrevBlk)?;
        Ok((&self.utxo, &mut self.sigcache))
    }

    /// Returns the shared UTXO set where its cursor stands (for the tests of how it keeps its
    /// coins).
    #[cfg(test)]
    pub(crate) fn utxo_set(&self) -> &UtxoSet {
        &self.utxo
    }

    /// Returns the block the UTXO cursor is positioned at.
    pub fn utxo_tip(&self) -> BlockId {
        self.utxo_tip
    }

    /// Returns the undo data of a block that was connected (a valid block other than
    /// genesis), for its fees and spent coins.
    pub fn block_undo(&self, id: BlockId) -> Option<&BlockUndo> {
        self.undo_cache.get(&id)
    }

    /// Returns the shared signature cache (for its counters).
    pub fn sigcache(&self) -> &SigCache {
        &self.sigcache
    }

    /// Returns the shared signature cache, for checks outside block validation (a mempool
    /// verifying a payment on entry caches what blocks will verify again).
    pub fn sigcache_mut(&mut self) -> &mut SigCache {
        &mut self.sigcache
    }

    /// Returns true if `maybe_ancestor` is `of` or one of its ancestors.
    pub fn is_ancestor(&self, maybe_ancestor: BlockId, of: BlockId) -> bool {
        let height = self.get(maybe_ancestor).height;
        height <= self.get(of).height && self.ancestor(of, height) == maybe_ancestor
    }

    /// Returns the last common ancestor of `a` and `b` (the block where their chains fork).
    pub fn fork_point(&self, a: BlockId, b: BlockId) -> BlockId {
        let height = self.get(a).height.min(self.get(b).height);
        let mut a = self.ancestor(a, height);
        let mut b = self.ancestor(b, height);
        while a != b {
            a = self.get(a).parent.expect("chains meet at genesis at the latest");
            b = self.get(b).parent.expect("chains meet at genesis at the latest");
        }
        a
    }

    /// Returns how many blocks of `old_tip`'s chain are disconnected when switching to
    /// `new_tip`: the height of `old_tip` above their fork point.
    pub fn reorg_depth(&self, old_tip: BlockId, new_tip: BlockId) -> u32 {
        self.get(old_tip).height - self.get(self.fork_point(old_tip, new_tip)).height
    }

    /// Returns the blocks above `ancestor` up to `tip`, oldest first (empty when they are the
    /// same block): what a node connects when it switches from `ancestor` to `tip`.
    ///
    /// # Panics
    ///
    /// Panics if `ancestor` is not an ancestor of `tip`.
    pub fn branch(&self, tip: BlockId, ancestor: BlockId) -> Vec<BlockId> {
        let mut blocks = Vec::new();
        let mut b = tip;
        while b != ancestor {
            blocks.push(b);
            b = self.get(b).parent.expect("`ancestor` is an ancestor of `tip`");
        }
        blocks.reverse();
        blocks
    }

    /// Returns the chain from genesis to `tip`, inclusive, in height order.
    pub fn chain_to(&self, tip: BlockId) -> Vec<BlockId> {
        let mut chain = Vec::with_capacity(self.get(tip).height as usize + 1);
        let mut walk = Some(tip);
        while let Some(id) = walk {
            chain.push(id);
            walk = self.get(id).parent;
        }
        chain.reverse();
        chain
    }
}

/// Builds a deterministic genesis block: a height-0 coinbase paying 50 coins to an all-zero
/// key hash from miner `u32::MAX`, the Merkle root over it, and a nonce ground against
/// `params.pow_check_target` of `bits`.
///
/// If the bits do not decode, or no nonce is found within 16 extra-nonce rounds of the full
/// nonce space (a target far too hard for a simulation), the block is returned with the last
/// nonce tried; genesis is valid by definition in the store either way.
pub fn genesis_block(time_s: u32, bits: CompactTarget, params: &ConsensusParams) -> Block {
    genesis_block_paying(time_s, bits, params, None)
}

/// [`genesis_block`] whose coinbase pays `funding` instead of 50 coins to nobody: how a
/// workload's wallets get their first coins. Genesis outputs need no maturity.
pub fn genesis_block_paying(
    time_s: u32,
    bits: CompactTarget,
    params: &ConsensusParams,
    funding: Option<Vec<TxOut>>,
) -> Block {
    const EXTRA_NONCE_ROUNDS: u64 = 16;
    let outputs = funding
        .unwrap_or_else(|| vec![TxOut { value: Amount::from_coins(50), pubkey_hash: [0u8; 20] }]);
    let mut block = Block {
        header: Header {
            version: 1,
            prev_blockhash: BlockHash::ZERO,
            merkle_root: [0u8; 32],
            time: time_s,
            bits,
            nonce: 0,
        },
        txs: vec![Transaction::new_coinbase(0, u32::MAX, 0, outputs.clone())],
        filler: Filler::default(),
    };
    block.header.merkle_root = block.compute_merkle_root();
    let Ok(target) = bits.to_target() else {
        return block;
    };
    let check_target = params.pow_check_target(target);
    for extra_nonce in 0..EXTRA_NONCE_ROUNDS {
        if extra_nonce > 0 {
            block.txs[0] = Transaction::new_coinbase(0, u32::MAX, extra_nonce, outputs.clone());
            block.header.merkle_root = block.compute_merkle_root();
            block.header.nonce = 0;
        }
        if grind_nonce(&mut block.header, &check_target, u64::MAX).is_some() {
            break;
        }
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::tx::OutPoint;
    use crate::chain::uint::U256;
    use crate::chain::validate::{check_header_pow, check_pow_of_hash};

    /// Easy bits so tests need no grinding to speak of; shift makes the check target easier.
    const EASY_BITS: CompactTarget = CompactTarget(0x2000ffff);

    fn params(retarget_interval: u32) -> ConsensusParams {
        ConsensusParams {
            retarget_interval,
            target_block_interval_s: 10,
            pow_limit: CompactTarget(0x207fffff).to_target().expect("valid"),
            max_block_size_bytes: 1_000_000,
            sim_target_shift: 16,
            max_future_block_time_s: 7200,
            median_time_span: 11,
            coinbase_maturity: 100,
            halving_interval: 210_000,
        }
    }

    fn new_store(retarget_interval: u32) -> BlockStore {
        let p = params(retarget_interval);
        BlockStore::new(genesis_block(1_000, EASY_BITS, &p), p)
    }

    /// Builds a valid child of `parent` at `time` with PoW ground; `salt` makes siblings differ.
    fn child(store: &mut BlockStore, parent: BlockId, time: u32, salt: u32) -> Block {
        let ctx = store.header_context(parent);
        let mut block = Block {
            header: Header {
                version: 1,
                prev_blockhash: store.get(parent).hash,
                merkle_root: [0; 32],
                time,
                bits: ctx.expected_bits,
                nonce: 0,
            },
            txs: vec![Transaction::new_coinbase(ctx.height, salt, 0, Vec::new())],
            filler: Filler::default(),
        };
        block.header.merkle_root = block.compute_merkle_root();
        let target =
            store.params().pow_check_target(ctx.expected_bits.to_target().expect("valid bits"));
        grind_nonce(&mut block.header, &target, 1 << 24).expect("easy target");
        block
    }

    fn meta(miner: u32) -> BlockMeta {
        BlockMeta { miner: Some(NodeId(miner)), mined_at: SimTime(u64::from(miner)) }
    }

    fn extend(store: &mut BlockStore, parent: BlockId, time: u32, salt: u32) -> BlockId {
        let block = child(store, parent, time, salt);
        store.insert(block, meta(salt)).expect("insertable")
    }

    /// Extends `from` by `n` blocks spaced `step_s` apart; returns the ids.
    fn extend_chain(
        store: &mut BlockStore,
        from: BlockId,
        n: u32,
        step_s: u32,
        salt: u32,
    ) -> Vec<BlockId> {
        let mut ids = Vec::new();
        let mut tip = from;
        for _ in 0..n {
            let time = store.get(tip).header().time + step_s;
            tip = extend(store, tip, time, salt);
            ids.push(tip);
        }
        ids
    }

    #[test]
    fn genesis_is_deterministic_and_meets_its_check_target() {
        let p = params(0);
        let a = genesis_block(1_000, EASY_BITS, &p);
        assert_eq!(a, genesis_block(1_000, EASY_BITS, &p));
        assert_eq!(check_header_pow(&a.header, &p), Ok(a.header.block_hash()));
        assert_eq!(a.txs[0].coinbase.expect("coinbase").height, 0);
        let store = BlockStore::new(a.clone(), p);
        let g = store.get(BlockId::GENESIS);
        assert_eq!(g.height, 0);
        assert_eq!(g.parent, None);
        assert_eq!(g.hash, a.header.block_hash());
        assert_eq!(
            store.chain_work(BlockId::GENESIS),
            work_from_target(EASY_BITS.to_target().expect("valid"))
        );
        assert_eq!(store.median_time_past(BlockId::GENESIS), 1_000);
        assert_eq!(store.len(), 1);
        assert!(!store.is_empty());
    }

    #[test]
    fn insert_computes_height_work_and_rejects_duplicates_and_orphans() {
        let mut store = new_store(0);
        let block = child(&mut store, BlockId::GENESIS, 1_010, 1);
        let id = store.insert(block.clone(), meta(1)).expect("insertable");
        assert_eq!(id, BlockId(1));
        let stored = store.get(id);
        assert_eq!(stored.height, 1);
        assert_eq!(stored.parent, Some(BlockId::GENESIS));
        let one = work_from_target(EASY_BITS.to_target().expect("valid"));
        assert_eq!(store.chain_work(id), one.saturating_add(one));
        assert_eq!(stored.meta, meta(1));
        assert_eq!(u64::from(stored.size_bytes), block.size_bytes());
        assert_eq!(store.lookup(&block.header.block_hash()), Some(id));
        assert_eq!(store.insert(block.clone(), meta(1)), Err(InsertError::Duplicate(id)));

        // A block whose prev_blockhash names no stored block is an orphan.
        let mut orphan = child(&mut store, id, 1_020, 1);
        orphan.header.prev_blockhash.0[0] ^= 1;
        assert_eq!(store.insert(orphan, meta(1)), Err(InsertError::UnknownParent));

        let mut bad_bits = child(&mut store, id, 1_020, 1);
        bad_bits.header.bits = CompactTarget(0x20800001);
        assert_eq!(store.insert(bad_bits, meta(1)), Err(InsertError::BadCompact));
        assert_eq!(store.ids().collect::<Vec<_>>(), vec![BlockId(0), BlockId(1)]);
    }

    #[test]
    fn forks_ancestors_and_reorg_depth() {
        let mut store = new_store(0);
        // Main chain: heights 1..=6. Fork off height 3: heights 4..=8.
        let main = extend_chain(&mut store, BlockId::GENESIS, 6, 10, 1);
        let fork = extend_chain(&mut store, main[2], 5, 11, 2);
        let main_tip = main[5];
        let fork_tip = fork[4];
        assert_eq!(store.get(fork_tip).height, 8);
        assert_eq!(store.fork_point(main_tip, fork_tip), main[2]);
        assert_eq!(store.fork_point(fork_tip, main_tip), main[2]);
        assert_eq!(store.fork_point(main_tip, main[1]), main[1]);
        assert_eq!(store.fork_point(main_tip, main_tip), main_tip);
        assert_eq!(store.reorg_depth(main_tip, fork_tip), 3);
        assert_eq!(store.reorg_depth(fork_tip, main_tip), 5);
        assert_eq!(store.reorg_depth(main[1], main_tip), 0);
        assert!(store.chain_work(fork_tip) > store.chain_work(main_tip));

        assert_eq!(store.ancestor(fork_tip, 3), main[2]);
        assert_eq!(store.ancestor(fork_tip, 0), BlockId::GENESIS);
        assert_eq!(store.ancestor(fork_tip, 8), fork_tip);
        assert!(store.is_ancestor(main[2], fork_tip));
        assert!(store.is_ancestor(BlockId::GENESIS, fork_tip));
        assert!(store.is_ancestor(fork_tip, fork_tip));
        assert!(!store.is_ancestor(main[3], fork_tip));
        assert!(!store.is_ancestor(fork_tip, main[2]));

        let chain = store.chain_to(fork_tip);
        assert_eq!(chain.len(), 9);
        assert_eq!(chain[0], BlockId::GENESIS);
        assert_eq!(&chain[1..4], &main[..3]);
        assert_eq!(&chain[4..], &fork[..]);
    }

    #[test]
    #[should_panic(expected = "above block height")]
    fn ancestor_above_height_panics() {
        let store = new_store(0);
        store.ancestor(BlockId::GENESIS, 1);
    }

    #[test]
    fn skip_pointers_agree_with_parent_walks() {
        let mut store = new_store(0);
        let main = extend_chain(&mut store, BlockId::GENESIS, 600, 10, 1);
        let fork = extend_chain(&mut store, main[300], 300, 10, 2);
        for &tip in [main[599], fork[299], main[17]].iter() {
            let chain = store.chain_to(tip);
            for (height, &expected) in chain.iter().enumerate() {
                assert_eq!(store.ancestor(tip, height as u32), expected);
            }
        }
    }

    #[test]
    fn median_time_past_covers_last_eleven() {
        let mut store = new_store(0);
        // Times 1010, 1020, ... ; the block at height 20 has MTP of heights 10..=20: 1150.
        let ids = extend_chain(&mut store, BlockId::GENESIS, 20, 10, 1);
        assert_eq!(store.median_time_past(ids[19]), 1_150);
        // Height 4: times 1000..=1040 (5 values), sorted, element 2: 1020.
        assert_eq!(store.median_time_past(ids[3]), 1_020);
        let ctx = store.header_context(ids[19]);
        assert_eq!(ctx.height, 21);
        assert_eq!(ctx.median_time_past, 1_150);
        assert_eq!(ctx.expected_bits, EASY_BITS);
    }

    #[test]
    fn retarget_halves_target_when_blocks_come_twice_as_fast() {
        // Interval 4 blocks of 10 s: timespan 40 s. Retarget at child height 4 measures
        // heights 0..=3 (three gaps, Core's off-by-one).
        let mut store = new_store(4);
        let old_target = EASY_BITS.to_target().expect("valid");
        let b1 = extend(&mut store, BlockId::GENESIS, 1_005, 1);
        let b2 = extend(&mut store, b1, 1_010, 1);
        assert_eq!(store.next_bits(b1), EASY_BITS, "no retarget mid-period");
        let b3 = extend(&mut store, b2, 1_020, 1); // 20 s for the measured span: half of 40.
        let bits = store.next_bits(b3);
        assert_eq!(bits, CompactTarget::from_target(old_target.div_u64(2).0));
        assert_eq!(store.header_context(b3).expected_bits, bits);

        // The child with the new bits is valid; one that keeps the old bits is not.
        let b4 = extend(&mut store, b3, 1_030, 1);
        assert_eq!(store.get(b4).header().bits, bits);
        assert_eq!(store.validity(b4), Ok(()));
        let mut stale = child(&mut store, b3, 1_031, 2);
        stale.header.bits = EASY_BITS;
        let stale = store.insert(stale, meta(2)).expect("insertable");
        assert_eq!(store.validity(stale), Err(RejectReason::BadDiffBits));
        // Doubled difficulty means the correctly retargeted block adds twice the work.
        assert!(store.chain_work(b4) > store.chain_work(stale));
    }

    #[test]
    fn retarget_clamps_at_four_times() {
        let mut store = new_store(4);
        let old_target = EASY_BITS.to_target().expect("valid");
        // Much too fast: 3 s for the span -> clamped to 10 s -> target / 4.
        let fast = extend_chain(&mut store, BlockId::GENESIS, 3, 1, 1);
        assert_eq!(store.next_bits(fast[2]), CompactTarget::from_target(old_target.div_u64(4).0));
        // Much too slow: 3000 s -> clamped to 160 s -> target * 4 (below the pow limit).
        let slow = extend_chain(&mut store, BlockId::GENESIS, 3, 1_000, 2);
        assert_eq!(
            store.next_bits(slow[2]),
            CompactTarget::from_target(old_target.mul_u64(4).expect("fits"))
        );
        // Never easier than the pow limit.
        let p = ConsensusParams { pow_limit: old_target, ..params(4) };
        let mut capped = BlockStore::new(genesis_block(1_000, EASY_BITS, &p), p);
        let slow = extend_chain(&mut capped, BlockId::GENESIS, 3, 1_000, 2);
        assert_eq!(capped.next_bits(slow[2]), EASY_BITS);
    }

    #[test]
    fn validity_is_cached_and_invalidity_is_inherited() {
        let mut store = new_store(0);
        let good = extend(&mut store, BlockId::GENESIS, 1_010, 1);
        let mut bad = child(&mut store, good, 1_020, 1);
        bad.txs[0].lock_time = 7; // Merkle root no longer matches.
        let bad = store.insert(bad, meta(1)).expect("insertable");
        let bad_child = extend(&mut store, bad, 1_030, 1);
        let grandchild = extend(&mut store, bad_child, 1_040, 1);

        assert_eq!(store.validity_cache[grandchild.index()], None);
        assert_eq!(store.validity(grandchild), Err(RejectReason::BadPrevBlk));
        // Asking for the grandchild decided every ancestor on the way.
        assert_eq!(store.validity_cache[bad.index()], Some(Err(RejectReason::BadTxnMrklRoot)));
        assert_eq!(store.validity(bad), Err(RejectReason::BadTxnMrklRoot));
        assert_eq!(store.validity(bad_child), Err(RejectReason::BadPrevBlk));
        assert_eq!(store.validity(good), Ok(()));
        assert_eq!(store.validity(BlockId::GENESIS), Ok(()));
    }

    #[test]
    fn contextual_rules_in_validity() {
        let mut store = new_store(0);
        let ids = extend_chain(&mut store, BlockId::GENESIS, 12, 10, 1);
        let tip = ids[11];
        let mtp = store.median_time_past(tip);

        let too_old = child(&mut store, tip, mtp, 2);
        let too_old = store.insert(too_old, meta(2)).expect("insertable");
        assert_eq!(store.validity(too_old), Err(RejectReason::TimeTooOld));

        // Far in the future is fine for the shared verdict; nodes apply time-too-new.
        let future = child(&mut store, tip, u32::MAX, 3);
        let future = store.insert(future, meta(3)).expect("insertable");
        assert_eq!(store.validity(future), Ok(()));

        let mut wrong_height = child(&mut store, tip, mtp + 1, 4);
        wrong_height.txs[0] = Transaction::new_coinbase(99, 4, 0, Vec::new());
        wrong_height.header.merkle_root = wrong_height.compute_merkle_root();
        let wrong_height = store.insert(wrong_height, meta(4)).expect("insertable");
        assert_eq!(store.validity(wrong_height), Err(RejectReason::BadCbHeight));

        let mut oversize = child(&mut store, tip, mtp + 1, 5);
        oversize.filler = Filler { tx_count: 10, size_bytes: 2_000_000 };
        let oversize = store.insert(oversize, meta(5)).expect("insertable");
        assert_eq!(store.validity(oversize), Err(RejectReason::BadBlkLength));
    }

    #[test]
    fn long_unvalidated_chain_needs_no_recursion() {
        let p = ConsensusParams { sim_target_shift: 0, ..params(0) };
        // Maximal target: every hash meets it, so no grinding.
        let bits = CompactTarget::from_target(U256::MAX.shr(1));
        let p = ConsensusParams { pow_limit: U256::MAX, ..p };
        let mut store = BlockStore::new(genesis_block(1_000, bits, &p), p);
        let ids = extend_chain(&mut store, BlockId::GENESIS, 20_000, 1, 1);
        assert_eq!(store.validity(ids[19_999]), Ok(()));
        assert_eq!(store.ancestor(ids[19_999], 2016), ids[2015]);
    }

    /// Builds a child of `parent` holding a coinbase paying `coinbase_value` to `payee` (salt
    /// makes coinbases unique) followed by `payments`, with proof of work ground.
    fn child_with(
        store: &mut BlockStore,
        parent: BlockId,
        salt: u32,
        coinbase_outputs: Vec<TxOut>,
        payments: Vec<Transaction>,
    ) -> Block {
        let time = store.get(parent).header().time + 10;
        let mut block = child(store, parent, time, salt);
        let height = store.get(parent).height + 1;
        block.txs = vec![Transaction::new_coinbase(height, salt, 0, coinbase_outputs)];
        block.txs.extend(payments);
        block.header.merkle_root = block.compute_merkle_root();
        let target =
            store.params().pow_check_target(block.header.bits.to_target().expect("valid bits"));
        block.header.nonce = 0;
        grind_nonce(&mut block.header, &target, 1 << 24).expect("easy target");
        block
    }

    fn utxo_params() -> ConsensusParams {
        ConsensusParams { coinbase_maturity: 2, halving_interval: 6, ..params(0) }
    }

    /// Recomputes the UTXO set at `tip` from genesis with a fresh signature cache.
    fn recompute(store: &BlockStore, tip: BlockId) -> UtxoSet {
        let chain = store.chain_to(tip);
        let mut set = UtxoSet::from_genesis(&store.get(BlockId::GENESIS).block);
        let mut sigs = SigCache::new();
        for &id in &chain[1..] {
            let stored = store.get(id);
            set.apply_block(&stored.block, stored.height, store.params(), &mut sigs)
                .expect("a valid chain recomputes");
        }
        set
    }

    #[test]
    fn pruning_keeps_sizes_and_refuses_forks_below_the_pruned_height() {
        let mut store = new_store(0);
        let main = extend_chain(&mut store, BlockId::GENESIS, 30, 10, 1);
        for &id in &main {
            assert_eq!(store.validity(id), Ok(()));
        }
        let time = store.get(main[4]).header().time + 5;
        let stale = extend(&mut store, main[4], time, 2);
        assert_eq!(store.validity(stale), Ok(()));
        let facts = |store: &BlockStore| -> Vec<(u32, u32, HeaderFields)> {
            store
                .ids()
                .map(|id| {
                    let b = store.get(id);
                    (b.size_bytes, b.tx_count, b.header())
                })
                .collect()
        };
        let before = facts(&store);
        assert_eq!(store.unpruned_counts().0, 31);

        store.prune_through(main[19]);
        assert_eq!(store.pruned_height(), 20);
        assert_eq!(facts(&store), before, "sizes and transaction counts are kept");
        assert!(store.block_undo(main[19]).is_none() && store.block_undo(stale).is_none());
        assert!(store.get(main[19]).block.txs.is_empty(), "a final block keeps no transaction");
        assert_eq!(store.get(stale).block.txs.len(), 1, "a stale block keeps its coinbase");
        assert_eq!(store.unpruned_counts().0, 10, "undo data of heights 21 to 30 only");
        assert!(store.is_ancestor(main[19], store.utxo_tip()), "the cursor is on the final chain");

        // A child of the stale block would need pruned undo data: refused and counted.
        let time = store.get(stale).header().time + 5;
        let late = extend(&mut store, stale, time, 3);
        assert_eq!(store.validity(late), Err(RejectReason::BadPrevBlk));
        assert_eq!(store.refused_below_pruned(), 1);
        // A fork above the pruned height still validates, and the cursor reaches every tip.
        let time = store.get(main[22]).header().time + 5;
        let fork = extend(&mut store, main[22], time, 4);
        assert_eq!(store.validity(fork), Ok(()));
        assert!(store.utxo_at(main[29]).is_ok() && store.utxo_at(fork).is_ok());
        assert_eq!(store.refused_below_pruned(), 1);
        // Pruning again below the pruned height, or off the final chain, does nothing.
        store.prune_through(main[10]);
        store.prune_through(late);
        assert_eq!(store.pruned_height(), 20);
    }

    #[test]
    fn filler_blocks_validate_as_before() {
        let p = utxo_params();
        let mut store = BlockStore::new(genesis_block(1_000, EASY_BITS, &p), p.clone());
        let genesis_total =
            store.utxo_at(BlockId::GENESIS).expect("genesis is valid").total_value();
        assert_eq!(genesis_total, Amount::from_coins(50), "genesis outputs are coins");
        let pay = |v: u64| vec![TxOut { value: Amount(v), pubkey_hash: [7; 20] }];
        let subsidy = p.subsidy(1).0;
        let mut exact = child_with(&mut store, BlockId::GENESIS, 1, pay(subsidy), Vec::new());
        exact.filler = Filler { tx_count: 2_000, size_bytes: 500_000 };
        let exact = store.insert(exact, meta(1)).expect("insertable");
        assert_eq!(store.validity(exact), Ok(()));
        let greedy = child_with(&mut store, BlockId::GENESIS, 2, pay(subsidy + 1), Vec::new());
        let greedy = store.insert(greedy, meta(2)).expect("insertable");
        assert_eq!(store.validity(greedy), Err(RejectReason::BadCbAmount));
        assert_eq!(store.utxo_at(greedy).map(|_| ()), Err(RejectReason::BadCbAmount));
        let set = store.utxo_at(exact).expect("valid");
        assert_eq!(set.total_value(), Amount(genesis_total.0 + subsidy));
        assert_eq!(set.best_block(), store.get(exact).hash);
        assert_eq!(store.utxo_tip(), exact);
        assert_eq!(store.block_undo(exact).map(BlockUndo::fees), Some(Amount::ZERO));
        assert!(store.block_undo(greedy).is_none());
    }

    #[test]
    fn one_transaction_on_two_branches_is_verified_once() {
        let p = utxo_params();
        let keys = crate::chain::testutil::keys();
        let mut store = BlockStore::new(genesis_block(1_000, EASY_BITS, &p), p.clone());
        let first = child_with(
            &mut store,
            BlockId::GENESIS,
            1,
            vec![keys[0].pay(p.subsidy(1))],
            Vec::new(),
        );
        let coin = OutPoint { txid: first.txs[0].txid(), vout: 0 };
        let mut tip = store.insert(first, meta(1)).expect("insertable");
        for salt in 2..4 {
            let block = child_with(&mut store, tip, salt, Vec::new(), Vec::new());
            tip = store.insert(block, meta(salt)).expect("insertable");
        }
        let mut tx = Transaction {
            version: 1,
            coinbase: None,
            inputs: vec![crate::chain::testutil::input(coin)],
            outputs: vec![keys[1].pay(Amount(1_000))],
            lock_time: 0,
        };
        crate::chain::keys::sign_all(&mut tx, &[&keys[0]]).expect("one key");
        let a = child_with(&mut store, tip, 10, Vec::new(), vec![tx.clone()]);
        let a = store.insert(a, meta(10)).expect("insertable");
        let b = child_with(&mut store, tip, 11, Vec::new(), vec![tx.clone()]);
        let b = store.insert(b, meta(11)).expect("insertable");
        assert_eq!(store.validity(a), Ok(()));
        assert_eq!(store.sigcache().verifications(), 1);
        assert_eq!(store.validity(b), Ok(()));
        assert_eq!(store.sigcache().verifications(), 1, "cached from branch a");
        // Spending it again on top of a is a missing input there.
        let again = child_with(&mut store, a, 12, Vec::new(), vec![tx]);
        let again = store.insert(again, meta(12)).expect("insertable");
        assert_eq!(store.validity(again), Err(RejectReason::BadTxnsInputsMissingOrSpent));
        assert_eq!(store.utxo_tip(), a, "a failed connect leaves the cursor at the parent");
        for id in [a, b, a, tip, b] {
            let expected = recompute(&store, id);
            assert!(*store.utxo_at(id).expect("valid") == expected);
        }
    }

    #[test]
    fn stored_block_is_at_most_88_bytes() {
        // With the block's costs (4 bytes) and its hash index entry (about 9), a final
        // block costs the store about 100 bytes; the full header copy it used to keep alone
        // took 80.
        assert!(std::mem::size_of::<StoredBlock>() <= 88, "{}", std::mem::size_of::<StoredBlock>());
    }

    /// Everything the store answers about one block, for comparing before and after pruning.
    fn facts_of(store: &BlockStore, id: BlockId) -> impl PartialEq + std::fmt::Debug + use<> {
        let b = store.get(id);
        (
            (b.hash, b.height, b.parent, store.chain_work(id), store.median_time_past(id)),
            (b.meta, b.size_bytes, b.tx_count, b.header()),
            (store.ancestor(id, b.height / 2), store.lookup(&b.hash)),
            check_pow_of_hash(b.header().bits, &b.hash, store.params()),
        )
    }

    #[test]
    fn final_blocks_answer_every_accessor_as_before_pruning() {
        let mut store = new_store(8);
        let main = extend_chain(&mut store, BlockId::GENESIS, 40, 10, 1);
        for (n, &at) in [main[3], main[9], main[17], main[30]].iter().enumerate() {
            // Two stale blocks 3 seconds apart on each fork.
            extend_chain(&mut store, at, 2, 3, 10 + n as u32);
        }
        for id in store.ids() {
            assert_eq!(store.validity(id), Ok(()));
            // The kept header fields are the block's, and its previous hash is its parent's.
            let (b, header) = (store.get(id), store.get(id).block.header);
            assert_eq!(
                b.header(),
                HeaderFields {
                    version: header.version,
                    time: header.time,
                    bits: header.bits,
                    nonce: header.nonce
                }
            );
            let parent_hash = b.parent.map_or(BlockHash::ZERO, |p| store.get(p).hash);
            assert_eq!(header.prev_blockhash, parent_hash);
            // The proof of work checks the same from the kept hash as from the full header.
            assert_eq!(
                check_pow_of_hash(header.bits, &b.hash, store.params()),
                check_header_pow(&header, store.params()).map(|_| ())
            );
        }
        let before: Vec<_> = store.ids().map(|id| facts_of(&store, id)).collect();
        store.prune_through(main[29]);
        assert_eq!(store.pruned_height(), 30);
        assert!(store.get(main[20]).block.txs.is_empty(), "the final block's body is gone");
        let after: Vec<_> = store.ids().map(|id| facts_of(&store, id)).collect();
        assert!(before == after, "every accessor answers as before pruning");
        assert_eq!(store.next_bits(main[29]), store.get(main[30]).header().bits);
        // One shared body per version and bits of the final blocks (several retargets here).
        let kinds: std::collections::BTreeSet<_> = main[..30]
            .iter()
            .map(|&id| (store.get(id).header().version, store.get(id).header().bits.0))
            .collect();
        assert!(kinds.len() > 1, "the test chain retargets");
        assert_eq!(store.final_bodies.len(), kinds.len());
        assert_eq!(store.bodies_held(), store.len() - 30);
    }

    #[test]
    fn a_reorg_from_the_last_final_block_still_validates() {
        let mut store = new_store(0);
        let main = extend_chain(&mut store, BlockId::GENESIS, 30, 10, 1);
        assert_eq!(store.validity(main[29]), Ok(()));
        store.prune_through(main[19]);
        assert_eq!(store.pruned_height(), 20);
        // A branch forking at the last final block, longer than the chain above it.
        let time = store.get(main[19]).header().time + 7;
        let step = time - store.get(main[19]).header().time;
        let fork = extend_chain(&mut store, main[19], 12, step, 2);
        for &id in &fork {
            assert_eq!(store.validity(id), Ok(()));
        }
        let (old_tip, new_tip) = (main[29], fork[11]);
        assert!(store.chain_work(new_tip) > store.chain_work(old_tip));
        assert_eq!(store.reorg_depth(old_tip, new_tip), 10);
        assert!(store.utxo_at(new_tip).is_ok() && store.utxo_at(old_tip).is_ok());
        assert_eq!(store.refused_below_pruned(), 0);
        // One block deeper is below the pruned height: refused.
        let time = store.get(main[18]).header().time + 7;
        let deep = extend(&mut store, main[18], time, 3);
        assert_eq!(store.validity(deep), Err(RejectReason::BadPrevBlk));
    }

    #[test]
    fn chain_work_beyond_128_bits_is_kept_exactly() {
        let mut store = new_store(0);
        let one = work_from_target(EASY_BITS.to_target().expect("valid"));
        let hardest = CompactTarget::from_target(U256::ONE);
        let mut tip = BlockId::GENESIS;
        let mut expected = one;
        for salt in 1..4 {
            // Not valid (no proof of work): the store keeps its work all the same.
            let block = Block {
                header: Header {
                    version: 1,
                    prev_blockhash: store.get(tip).hash,
                    merkle_root: [0; 32],
                    time: 1_010 + salt,
                    bits: hardest,
                    nonce: salt,
                },
                txs: Vec::new(),
                filler: Filler::default(),
            };
            tip = store.insert(block, meta(salt)).expect("insertable");
            expected = expected.saturating_add(work_from_target(U256::ONE));
            assert_eq!(store.chain_work(tip), expected);
            assert!(expected.0.to_u128().is_none());
        }
        // Pruned as a stale branch, its work is computed again from its parents: the same.
        let main = extend_chain(&mut store, BlockId::GENESIS, 6, 10, 9);
        let main_work: Vec<Work> = main.iter().map(|&id| store.chain_work(id)).collect();
        assert_eq!(store.validity(main[5]), Ok(()));
        store.prune_through(main[3]);
        assert_eq!(store.pruned_height(), 4);
        assert_eq!(store.chain_work(tip), expected);
        assert_eq!(main.iter().map(|&id| store.chain_work(id)).collect::<Vec<_>>(), main_work);
    }

    /// One step of the random reorg test: a new block on a random valid block (possibly
    /// invalid on purpose), or a cursor move to a random valid block.
    #[derive(Clone, Debug)]
    enum Step {
        Mine { parent: usize, seed: u64, max_txs: usize, corrupt: Option<bool> },
        Visit(usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            3 => (any::<usize>(), any::<u64>(), 1usize..6, proptest::option::weighted(0.15, any::<bool>()))
                .prop_map(|(parent, seed, max_txs, corrupt)| Step::Mine { parent, seed, max_txs, corrupt }),
            1 => any::<usize>().prop_map(Step::Visit),
        ]
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn random_reorgs_keep_the_cursor_equal_to_a_recomputation(
            steps in prop::collection::vec(step(), 1..60),
        ) {
            let p = utxo_params();
            let keys = crate::chain::testutil::keys();
            let mut store = BlockStore::new(genesis_block(1_000, EASY_BITS, &p), p.clone());
            let mut valid = vec![BlockId::GENESIS];
            for (n, step) in steps.into_iter().enumerate() {
                let salt = n as u32 + 1;
                let target = match step {
                    Step::Visit(pick) => valid[pick % valid.len()],
                    Step::Mine { parent, seed, max_txs, corrupt } => {
                        let parent = valid[parent % valid.len()];
                        let height = store.get(parent).height + 1;
                        let set = store.utxo_at(parent).expect("valid parent");
                        let (mut payments, fees) = crate::chain::testutil::random_payments(
                            set, height, &p, &keys, seed, max_txs,
                        );
                        let before = set.clone();
                        let mut claim = p.subsidy(height).0 + fees.0;
                        let expected = match corrupt {
                            Some(true) if !payments.is_empty() => {
                                payments.push(payments[0].clone());
                                Err(RejectReason::BadTxnsSpendsConflictingTx)
                            }
                            Some(_) => {
                                claim += 1;
                                Err(RejectReason::BadCbAmount)
                            }
                            None => Ok(()),
                        };
                        let payee = keys[(seed % keys.len() as u64) as usize].pay(Amount(claim));
                        let block = child_with(&mut store, parent, salt, vec![payee], payments);
                        let id = store.insert(block, meta(salt)).expect("insertable");
                        prop_assert_eq!(store.validity(id), expected);
                        if expected.is_err() {
                            prop_assert_eq!(store.utxo_tip(), parent);
                            prop_assert!(store.utxo_at(parent).expect("valid") == &before);
                            parent
                        } else {
                            valid.push(id);
                            id
                        }
                    }
                };
                let expected = recompute(&store, target);
                let set = store.utxo_at(target).expect("valid");
                prop_assert_eq!(set.to_sorted_vec(), expected.to_sorted_vec());
                prop_assert_eq!(set.total_value(), expected.total_value());
                prop_assert!(*set == expected);
            }
        }
    }
}
