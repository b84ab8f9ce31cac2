//! The shared transaction pool: every transaction in flight stored once, and each node's
//! mempool as a view of it.
//!
//! Why a view and not a copy per node: 1000 nodes each inserting 500,000 transactions would
//! be 5×10^8 inserts and as many relay messages, more than a run can afford. Instead:
//!
//! - **Relay** is a flood over the peer graph with a fixed delay per directed link: the inv
//!   trickle (Bitcoin Core batches transaction announcements per peer on a Poisson timer; here
//!   the wait is drawn once per link, as link latencies are) plus three latencies (`inv`,
//!   `getdata`, `tx`) plus the transmission of a transaction. A transaction created at `t` on
//!   node `s` therefore reaches node `v` at `t + d(s, v)`, the shortest path, and `d` is
//!   computed once per submission node. Relay costs one shortest-path computation per
//!   submission node and a lookup per (transaction, node) question, whatever the number of
//!   transactions or links.
//! - **First seen wins**: a node that holds one of two conflicting transactions does not
//!   relay the other, so conflicting versions flood competitively: one multi-source
//!   shortest-path computation labels every node with the version it saw first.
//! - **A node's mempool** at time `t` is every transaction that reached it by `t`, that it
//!   holds (the first seen among conflicts), and that is valid on its tip: not confirmed on
//!   its chain, its inputs unspent there. Because that is a function of the node's tip, a
//!   reorg returns the transactions of disconnected blocks to the mempool and drops those that
//!   now conflict with the new chain, with no per-node bookkeeping. The size limit keeps the
//!   highest fee rates: beyond `mempool_max_bytes` (in fee-rate order) transactions are
//!   evicted.
//!
//! **Entry checks**: a payment enters the pool through [`TxPool::admit`], which checks it as
//! a mempool does before anything else (Core's `CheckTransaction` and the input signatures
//! of `AcceptToMemoryPool`); a payment that fails is refused with its reason and counted,
//! and never reaches any node, so it is never relayed. Signatures are verified through the
//! store's shared [`SigCache`], so a block holding the payment later finds them verified.
//! Verifying at entry costs no virtual time: the validation cost model charges a node for
//! what it had not verified when a block arrives (see `node::validation`), unchanged.
//! Inputs are checked against the chain where the pool decides membership (a payment whose
//! inputs are spent or missing on a node's tip is not in that node's mempool).
//!
//! Simplifications, stated: a node never forgets an evicted transaction's place (if space
//! frees up it is back, as if re-announced); transaction bytes do not occupy uplinks (at
//! hundreds of payments per block interval they are a few hundred bytes per second per
//! link); compact-block reconstruction counts a transaction as present once it has arrived,
//! even if the node's size limit would have evicted it.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use rustc_hash::{FxHashMap, FxHashSet};

use crate::chain::prefix_index::PrefixIndex;
use crate::chain::sigcache::SigCache;
use crate::chain::tx::{Amount, OutPoint, Transaction};
use crate::chain::utxo::check_transaction;
use crate::chain::{BlockId, BlockStore, RejectReason, TxId, UtxoSet};
use crate::network::{LinkId, Network, NodeId};
use crate::rng::{self, Purpose, RngStreams};
use crate::time::{SimDuration, SimTime};

/// Arrival time of a transaction a node never gets.
pub const NEVER: SimTime = SimTime::MAX;

/// Blocks this deep in the most-work chain are final for mempools: their transactions (and
/// whatever conflicts with them) are no longer considered. A reorg deeper than this would not
/// return them to mempools.
pub const RETIRE_DEPTH: u32 = 24;

/// Bytes on the wire for relaying one transaction to one peer: its share of an `inv`, the
/// `getdata` and the `tx` message of a typical payment.
const RELAY_BYTES_PER_TX: u64 = 36 + 36 + 250;

/// Number of maps the spender index is split over.
const SPENDER_SHARDS: usize = 256;

/// Index of a transaction in the pool.
pub type TxIndex = u32;

/// One transaction and what the simulation knows about it.
#[derive(Clone, Debug)]
pub struct PoolTx {
    /// The signed transaction, boxed so that a final one, whose body is dropped, keeps only
    /// the facts below (a pool record of 96 bytes instead of 168).
    body: Option<Box<Transaction>>,
    /// Its id.
    pub txid: TxId,
    /// Inputs minus outputs.
    pub fee: Amount,
    /// Serialized size.
    pub size: u32,
    /// When the wallet created it.
    pub created: SimTime,
    /// The node it was submitted to.
    pub source: NodeId,
    /// The first block (in mining order) that included it.
    pub first_block: Option<BlockId>,
    /// The last block that included it (the same, unless forks included it twice).
    last_block: Option<BlockId>,
    slot: u32,
    /// The conflict group it belongs to, if it conflicts with another transaction.
    group: Option<u32>,
    /// False for a transaction its source keeps to itself (an attacker's conflicting
    /// version, mined privately and never announced).
    relays: bool,
}

/// What [`PoolTx::tx`] shows once a final transaction's body is dropped: no inputs, no
/// outputs.
static DROPPED_BODY: Transaction = Transaction {
    version: 1,
    coinbase: None,
    inputs: Vec::new(),
    outputs: Vec::new(),
    lock_time: 0,
};

impl PoolTx {
    /// The signed transaction; once final and dropped ([`TxPool::prune_final`]), one without
    /// inputs or outputs.
    pub fn tx(&self) -> &Transaction {
        self.body.as_deref().unwrap_or(&DROPPED_BODY)
    }

    /// Fee rate in thousandths of a satoshi per byte (an exact integer ordering key).
    pub fn fee_rate_milli(&self) -> u64 {
        self.fee.0.saturating_mul(1000) / u64::from(self.size.max(1))
    }
}

/// What a node lacks of a block's transactions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Missing {
    /// Transactions not in its mempool.
    pub txs: u32,
    /// Their inputs (signatures it has not verified yet).
    pub inputs: u32,
    /// Their bytes.
    pub bytes: u64,
}

/// A submission node's distances and the transactions it received, in creation order.
struct Source {
    delay: Vec<SimDuration>,
    created: Vec<SimTime>,
    /// `cum_bytes[k]` = bytes of the first `k` transactions.
    cum_bytes: Vec<u64>,
}

/// Conflicting transactions and, per node, which one it saw first and when.
struct ConflictGroup {
    members: Vec<TxIndex>,
    arrival: Vec<SimTime>,
    /// Per node, the member it saw first (`None` for a node no member reaches).
    holder: Vec<Option<TxIndex>>,
    /// Blocks that included a member.
    included: Vec<(TxIndex, BlockId)>,
}

/// Per block: its pool transactions, conflict-group members first, then newest first.
#[derive(Clone, Debug, Default)]
struct BlockTxs {
    txs: Vec<TxIndex>,
    grouped: u32,
    cum_count: u64,
    cum_bytes: u64,
}

/// A walk over the candidates as a node's mempool sees them.
struct Walk {
    chosen: Vec<TxIndex>,
    count: u64,
    bytes: u64,
    /// Payments in the mempool that a censoring walk left out.
    censored: u32,
}

/// The pool.
pub struct TxPool {
    txs: Vec<PoolTx>,
    /// Transactions no registered block includes, by fee rate.
    unincluded: BTreeSet<(Reverse<u64>, TxIndex)>,
    /// Registered blocks above the final depth (their transactions return to the mempool of
    /// a node whose chain does not hold them).
    recent: Vec<BlockId>,
    /// Transactions by id (see [`PrefixIndex`]: about 9 bytes per transaction, confirmed against
    /// [`PoolTx::txid`]).
    by_txid: PrefixIndex<TxIndex>,
    /// The first transaction spending each outpoint, in [`SPENDER_SHARDS`] maps by a byte
    /// of the outpoint's txid, so that growing it resizes one small map at a time.
    spender: Box<[FxHashMap<OutPoint, TxIndex>]>,
    groups: Vec<ConflictGroup>,
    hop: Vec<SimDuration>,
    sources: Vec<Source>,
    /// Per node, its slot in `sources` once it has been a submission node.
    slot_of_node: Vec<Option<u32>>,
    max_delay: Vec<SimDuration>,
    blocks: Vec<BlockTxs>,
    retired_height: u32,
    mempool_max_bytes: u64,
    /// Payments refused at entry, by reason (indexed like [`RejectReason::ALL`]).
    rejected: Vec<u64>,
    /// Height up to which the final chain's transactions have dropped their bodies.
    pruned_height: u32,
}

impl TxPool {
    /// An empty pool over `network`; per-link trickle delays are drawn from the workload's
    /// relay stream with mean `trickle_mean`.
    pub fn new(
        network: &Network,
        streams: &RngStreams,
        trickle_mean: SimDuration,
        mempool_max_bytes: u64,
    ) -> TxPool {
        let mut trickle = streams.stream(Purpose::Workload, 3);
        let hop = (0..network.link_count())
            .map(LinkId::from_index)
            .map(|link| {
                let wait = SimDuration::from_secs_f64(
                    rng::exp1(&mut trickle) * trickle_mean.as_secs_f64(),
                );
                let latency = network.link_latency(link);
                wait + latency
                    + latency
                    + latency
                    + network.transmission_time(link, RELAY_BYTES_PER_TX)
            })
            .collect();
        let nodes = network.node_count() as usize;
        TxPool {
            txs: Vec::new(),
            unincluded: BTreeSet::new(),
            recent: Vec::new(),
            by_txid: PrefixIndex::default(),
            spender: (0..SPENDER_SHARDS).map(|_| FxHashMap::default()).collect(),
            groups: Vec::new(),
            hop,
            sources: Vec::new(),
            slot_of_node: vec![None; nodes],
            max_delay: vec![SimDuration::ZERO; nodes],
            blocks: vec![BlockTxs::default()],
            retired_height: 0,
            mempool_max_bytes,
            rejected: vec![0; RejectReason::ALL.len()],
            pruned_height: 0,
        }
    }

    /// Every transaction created so far, by index.
    pub fn txs(&self) -> &[PoolTx] {
        &self.txs
    }

    /// The pool index of a transaction, if it is a pool transaction.
    pub fn index_of(&self, txid: &TxId) -> Option<TxIndex> {
        self.by_txid.get(&txid.0, |i| self.txs[i as usize].txid.0)
    }

    /// The map of [`TxPool::spender`] that holds `outpoint`.
    fn spender_shard(outpoint: &OutPoint) -> usize {
        usize::from(outpoint.txid.0[8])
    }

    /// The pool transactions of a block registered with [`TxPool::register_block`].
    pub fn block_txs(&self, block: BlockId) -> &[TxIndex] {
        self.blocks.get(block.index()).map_or(&[], |b| &b.txs)
    }

    /// Checks a payment offered at `source` at `now` as a mempool does on entry (the
    /// context-free transaction rules, then every input's signature, through `sigs`) and
    /// adds it if it passes ([`TxPool::add`]).
    ///
    /// # Errors
    ///
    /// The reason it is refused: a rule of [`check_transaction`] ([`RejectReason::Coinbase`]
    /// for a coinbase), or [`RejectReason::MandatoryScriptVerifyFlagFailed`] for a signature
    /// that does not verify. A refused payment is counted ([`TxPool::rejected`]) and goes
    /// nowhere.
    pub fn admit(
        &mut self,
        network: &Network,
        sigs: &mut SigCache,
        payment: (Transaction, Amount),
        source: NodeId,
        now: SimTime,
    ) -> Result<TxIndex, RejectReason> {
        let (tx, fee) = payment;
        let verdict = entry_check(&tx, sigs);
        if let Err(reason) = verdict {
            self.rejected[reason.index()] += 1;
            return Err(reason);
        }
        Ok(self.add(network, tx, fee, source, now))
    }

    /// Payments refused at entry, by reason (indexed like [`RejectReason::ALL`]).
    pub fn rejected(&self) -> &[u64] {
        &self.rejected
    }

    /// Adds a transaction created at `now` on `source`, unchecked (callers offer payments
    /// through [`TxPool::admit`]). If it spends an outpoint that an earlier transaction
    /// spends, the two (and any others) form a conflict group and flood competitively.
    pub fn add(
        &mut self,
        network: &Network,
        tx: Transaction,
        fee: Amount,
        source: NodeId,
        now: SimTime,
    ) -> TxIndex {
        self.add_with(network, tx, fee, source, now, true)
    }

    /// Adds a transaction that only its source holds and never announces (an attacker's
    /// conflicting version of a payment, which it mines into its private branch).
    pub fn add_private(
        &mut self,
        network: &Network,
        tx: Transaction,
        fee: Amount,
        source: NodeId,
        now: SimTime,
    ) -> TxIndex {
        self.add_with(network, tx, fee, source, now, false)
    }

    fn add_with(
        &mut self,
        network: &Network,
        tx: Transaction,
        fee: Amount,
        source: NodeId,
        now: SimTime,
        relays: bool,
    ) -> TxIndex {
        let index = self.txs.len() as TxIndex;
        let txid = tx.txid();
        let size = tx.size_bytes() as u32;
        let slot = self.source_slot(network, source);
        let s = &mut self.sources[slot as usize];
        s.created.push(now);
        let last = *s.cum_bytes.last().expect("starts with 0");
        s.cum_bytes.push(last + u64::from(size));
        let conflicts: Vec<TxIndex> = tx
            .inputs
            .iter()
            .filter_map(|i| self.spender[Self::spender_shard(&i.prevout)].get(&i.prevout))
            .copied()
            .collect();
        for input in &tx.inputs {
            self.spender[Self::spender_shard(&input.prevout)].entry(input.prevout).or_insert(index);
        }
        let txs = &self.txs;
        self.by_txid.insert(txid.0, index, |i| {
            // The entry being added is not in `txs` yet.
            txs.get(i as usize).map_or(txid.0, |e| e.txid.0)
        });
        let entry = PoolTx {
            body: Some(Box::new(tx)),
            txid,
            fee,
            size,
            created: now,
            source,
            first_block: None,
            last_block: None,
            slot,
            group: None,
            relays,
        };
        self.unincluded.insert((Reverse(entry.fee_rate_milli()), index));
        self.txs.push(entry);
        if !conflicts.is_empty() {
            self.form_group(network, index, &conflicts);
        }
        index
    }

    /// When transaction `i` reaches `node` ([`NEVER`] if the node holds a conflicting one).
    pub fn arrival(&self, i: TxIndex, node: NodeId) -> SimTime {
        let e = &self.txs[i as usize];
        if let Some(g) = e.group {
            let g = &self.groups[g as usize];
            return if g.holder[node.index()] == Some(i) { g.arrival[node.index()] } else { NEVER };
        }
        if !e.relays {
            return if node == e.source { e.created } else { NEVER };
        }
        e.created + self.sources[e.slot as usize].delay[node.index()]
    }

    /// Transactions of recent blocks that are not on `tip`'s chain, by fee rate: with the
    /// never-included ones, the candidates for a mempool on that tip. Usually empty (a node
    /// on the main chain has every recent block); after a reorg it holds the disconnected
    /// blocks' transactions.
    pub fn off_chain(&self, store: &BlockStore, tip: BlockId) -> Vec<(Reverse<u64>, TxIndex)> {
        let mut extra: Vec<(Reverse<u64>, TxIndex)> = self
            .recent
            .iter()
            .filter(|&&b| !store.is_ancestor(b, tip))
            .flat_map(|b| self.blocks[b.index()].txs.iter())
            .map(|&i| (Reverse(self.txs[i as usize].fee_rate_milli()), i))
            .collect();
        extra.sort_unstable();
        extra.dedup();
        extra
    }

    /// Whether `node`'s mempool holds transaction `i` at `now` on `tip` (arrived, first seen
    /// among conflicts, valid on that tip, within the size limit).
    pub fn in_mempool(
        &self,
        store: &mut BlockStore,
        tip: BlockId,
        i: TxIndex,
        node: NodeId,
        now: SimTime,
    ) -> bool {
        if self.arrival(i, node) > now {
            return false;
        }
        let extra = self.off_chain(store, tip);
        let utxo = store.utxo_at(tip).expect("a node's tip is valid");
        self.mempool_walk(utxo, &extra, node, now, 0, Some(i), None).chosen.first() == Some(&i)
    }

    /// Chooses a block template's transactions for `node` at `now` on the tip whose UTXO set
    /// is `utxo` (and whose [`TxPool::off_chain`] transactions are `extra`): highest fee rate
    /// first, parents before children, up to `max_bytes`.
    pub fn select(
        &self,
        utxo: &UtxoSet,
        extra: &[(Reverse<u64>, TxIndex)],
        node: NodeId,
        now: SimTime,
        max_bytes: u64,
    ) -> Vec<TxIndex> {
        self.mempool_walk(utxo, extra, node, now, max_bytes, None, None).chosen
    }

    /// [`TxPool::select`], leaving out every payment whose source node `censored` names
    /// (and so every payment that spends one of theirs): a censoring producer's template,
    /// and how many payments of its mempool it left out for their source.
    pub fn select_censoring(
        &self,
        utxo: &UtxoSet,
        extra: &[(Reverse<u64>, TxIndex)],
        (node, now): (NodeId, SimTime),
        max_bytes: u64,
        censored: &dyn Fn(NodeId) -> bool,
    ) -> (Vec<TxIndex>, u32) {
        let walk = self.mempool_walk(utxo, extra, node, now, max_bytes, None, Some(censored));
        (walk.chosen, walk.censored)
    }

    /// Walks the candidates (never included, plus `extra`) in fee-rate order as `node` sees
    /// them at `now`: counts its mempool (up to the size limit) and chooses up to `max_bytes`
    /// of them, or only `only` if given, never choosing one whose source `censored` names.
    #[allow(clippy::too_many_arguments)]
    fn mempool_walk(
        &self,
        utxo: &UtxoSet,
        extra: &[(Reverse<u64>, TxIndex)],
        node: NodeId,
        now: SimTime,
        max_bytes: u64,
        only: Option<TxIndex>,
        censored: Option<&dyn Fn(NodeId) -> bool>,
    ) -> Walk {
        let mut walk = Walk { chosen: Vec::new(), count: 0, bytes: 0, censored: 0 };
        let mut block_bytes = 0u64;
        let mut spent: FxHashSet<OutPoint> = FxHashSet::default();
        let mut chosen_ids: FxHashSet<TxId> = FxHashSet::default();
        let mut deferred: Vec<TxIndex> = Vec::new();
        for (_, i) in merge_sorted(self.unincluded.iter().copied(), extra.iter().copied()) {
            if self.arrival(i, node) > now {
                continue;
            }
            let e = &self.txs[i as usize];
            let Some(waits) = self.inputs_available(e, utxo, &spent, &chosen_ids, now, node) else {
                continue;
            };
            walk.count += 1;
            walk.bytes += u64::from(e.size);
            if walk.bytes > self.mempool_max_bytes {
                walk.count -= 1;
                walk.bytes -= u64::from(e.size);
                break;
            }
            if let Some(o) = only {
                if o == i {
                    walk.chosen.push(i);
                    break;
                }
                continue;
            }
            if censored.is_some_and(|c| c(e.source)) {
                walk.censored += 1;
                continue;
            }
            if waits {
                deferred.push(i);
            } else if block_bytes + u64::from(e.size) <= max_bytes {
                block_bytes += u64::from(e.size);
                Self::take(e, &mut spent, &mut chosen_ids);
                walk.chosen.push(i);
            }
        }
        // Children whose parents were chosen after them in fee-rate order.
        for i in deferred {
            let e = &self.txs[i as usize];
            let ready = self.inputs_available(e, utxo, &spent, &chosen_ids, now, node);
            if ready == Some(false) && block_bytes + u64::from(e.size) <= max_bytes {
                block_bytes += u64::from(e.size);
                Self::take(e, &mut spent, &mut chosen_ids);
                walk.chosen.push(i);
            }
        }
        walk
    }

    fn take(e: &PoolTx, spent: &mut FxHashSet<OutPoint>, chosen: &mut FxHashSet<TxId>) {
        spent.extend(e.tx().inputs.iter().map(|i| i.prevout));
        chosen.insert(e.txid);
    }

    /// `None` if a transaction cannot be in the mempool on this tip (an input is spent or
    /// missing there); `Some(true)` if it spends an unconfirmed parent in the mempool that is
    /// not chosen yet; `Some(false)` if it can be chosen now.
    fn inputs_available(
        &self,
        e: &PoolTx,
        utxo: &UtxoSet,
        spent: &FxHashSet<OutPoint>,
        chosen: &FxHashSet<TxId>,
        now: SimTime,
        node: NodeId,
    ) -> Option<bool> {
        let mut waits = false;
        for input in &e.tx().inputs {
            let p = &input.prevout;
            if spent.contains(p) {
                return None;
            }
            if utxo.contains(p) || chosen.contains(&p.txid) {
                continue;
            }
            // An unconfirmed parent the node holds lets the child wait for it.
            match self.index_of(&p.txid) {
                Some(parent) if self.arrival(parent, node) <= now => waits = true,
                _ => return None,
            }
        }
        Some(waits)
    }

    /// Records that `block` (child of `parent`) carries pool transactions `txs`.
    pub fn register_block(&mut self, block: BlockId, parent: BlockId, txs: &[TxIndex]) {
        let (parent_count, parent_bytes) =
            self.blocks.get(parent.index()).map_or((0, 0), |b| (b.cum_count, b.cum_bytes));
        let mut list = txs.to_vec();
        let bytes: u64 = txs.iter().map(|&i| u64::from(self.txs[i as usize].size)).sum();
        for &i in txs {
            let e = &mut self.txs[i as usize];
            e.first_block.get_or_insert(block);
            e.last_block = Some(block);
            let key = (Reverse(e.fee_rate_milli()), i);
            self.unincluded.remove(&key);
            if let Some(g) = e.group {
                self.groups[g as usize].included.push((i, block));
            }
        }
        let grouped = self.order_for_scan(&mut list);
        if self.blocks.len() <= block.index() {
            self.blocks.resize(block.index() + 1, BlockTxs::default());
        }
        self.recent.push(block);
        self.blocks[block.index()] = BlockTxs {
            txs: list,
            grouped,
            cum_count: parent_count + txs.len() as u64,
            cum_bytes: parent_bytes + bytes,
        };
    }

    /// Sorts a block's transactions for [`TxPool::missing`]: conflict-group members first,
    /// then newest first (so a scan can stop at the first transaction every node has).
    fn order_for_scan(&self, list: &mut [TxIndex]) -> u32 {
        list.sort_by_key(|&i| {
            let e = &self.txs[i as usize];
            (e.group.is_none(), Reverse(e.created), i)
        });
        list.iter().filter(|&&i| self.txs[i as usize].group.is_some()).count() as u32
    }

    /// Makes blocks [`RETIRE_DEPTH`] deep on `best`'s chain final for mempools: their
    /// transactions and whatever conflicts with them stop being candidates.
    pub fn retire(&mut self, store: &BlockStore, best: BlockId) {
        let height = store.get(best).height;
        if self.retired_height + RETIRE_DEPTH >= height {
            return;
        }
        while self.retired_height + RETIRE_DEPTH < height {
            self.retired_height += 1;
            let block = store.ancestor(best, self.retired_height);
            let Some(b) = self.blocks.get(block.index()) else { continue };
            let groups: Vec<u32> =
                b.txs.iter().filter_map(|&i| self.txs[i as usize].group).collect();
            for g in groups {
                for m in self.groups[g as usize].members.clone() {
                    let key = (Reverse(self.txs[m as usize].fee_rate_milli()), m);
                    self.unincluded.remove(&key);
                }
            }
        }
        let final_height = self.retired_height;
        let (keep, done): (Vec<BlockId>, Vec<BlockId>) =
            self.recent.iter().partition(|b| store.get(**b).height > final_height);
        self.recent = keep;
        // A stale block's transactions that no main-chain block holds are candidates again.
        for b in done.into_iter().filter(|&b| !store.is_ancestor(b, best)) {
            for k in 0..self.blocks[b.index()].txs.len() {
                let i = self.blocks[b.index()].txs[k];
                let e = &self.txs[i as usize];
                let on_main = [e.first_block, e.last_block]
                    .into_iter()
                    .flatten()
                    .any(|x| store.is_ancestor(x, best));
                if !on_main {
                    self.unincluded.insert((Reverse(e.fee_rate_milli()), i));
                }
            }
        }
    }

    /// Drops the inputs and outputs of the transactions confirmed on `last_final`'s chain up
    /// to its height, once the store has made those blocks final
    /// ([`BlockStore::prune_through`]): they are no mempool candidates any more and every
    /// node has their blocks, so only the facts the results need (id, fee, size, times,
    /// blocks) are read from then on. Members of conflict groups and private transactions keep
    /// their bodies: [`TxPool::missing`] still counts their inputs.
    pub fn prune_final(&mut self, store: &BlockStore, last_final: BlockId) {
        let mut walk = Some(last_final);
        while let Some(id) = walk {
            let stored = store.get(id);
            if stored.height <= self.pruned_height {
                break;
            }
            if let Some(b) = self.blocks.get(id.index()) {
                for &i in &b.txs {
                    let e = &mut self.txs[i as usize];
                    // A candidate again (a stale block's copy retired it back) keeps its body.
                    let candidate = self.unincluded.contains(&(Reverse(e.fee_rate_milli()), i));
                    if e.group.is_none() && e.relays && !candidate {
                        e.body = None;
                    }
                }
            }
            walk = stored.parent;
        }
        self.pruned_height = self.pruned_height.max(store.get(last_final).height);
    }

    /// How many transactions still hold their inputs and outputs (what
    /// [`TxPool::prune_final`] keeps bounded).
    pub fn unpruned_bodies(&self) -> usize {
        self.txs.iter().filter(|e| e.body.is_some()).count()
    }

    /// What `node` lacks, at `now`, of `block`'s transactions (for compact-block
    /// reconstruction and for the validation cost of signatures not verified before).
    pub fn missing(&self, block: BlockId, node: NodeId, now: SimTime) -> Missing {
        let mut m = Missing::default();
        let Some(b) = self.blocks.get(block.index()) else { return m };
        let horizon = self.max_delay[node.index()];
        for (k, &i) in b.txs.iter().enumerate() {
            let e = &self.txs[i as usize];
            if k >= b.grouped as usize && e.created + horizon <= now {
                break;
            }
            if self.arrival(i, node) > now {
                m.txs += 1;
                m.inputs += e.tx().inputs.len() as u32;
                m.bytes += u64::from(e.size);
            }
        }
        m
    }

    /// The transactions that conflict with `i` (spend one of its inputs), in the order they
    /// were added.
    pub fn rivals(&self, i: TxIndex) -> impl Iterator<Item = TxIndex> + '_ {
        let members = match self.txs[i as usize].group {
            None => &[][..],
            Some(g) => &self.groups[g as usize].members[..],
        };
        members.iter().copied().filter(move |&m| m != i)
    }

    /// How many blocks deep transaction `i` is in `tip`'s chain (1 = in the tip), if it is
    /// there.
    pub fn confirmations(&self, store: &BlockStore, tip: BlockId, i: TxIndex) -> Option<u32> {
        let e = &self.txs[i as usize];
        let in_chain = |b: BlockId| store.is_ancestor(b, tip);
        let block = match e.group {
            None => {
                // Forks can hold a transaction twice; the chain holds at most one of them.
                let candidates = [e.first_block, e.last_block];
                candidates.into_iter().flatten().find(|&b| in_chain(b)).or_else(|| {
                    self.recent
                        .iter()
                        .copied()
                        .find(|&b| in_chain(b) && self.blocks[b.index()].txs.contains(&i))
                })
            }
            Some(g) => {
                let g = &self.groups[g as usize];
                g.included.iter().find(|&&(m, b)| m == i && in_chain(b)).map(|&(_, b)| b)
            }
        }?;
        Some(store.get(tip).height - store.get(block).height + 1)
    }

    /// Size of `node`'s mempool at `now` on `tip`: transactions and bytes.
    ///
    /// Counted without a walk: transactions that reached the node (per submission node, a
    /// binary search), minus those confirmed on its chain, minus conflict losers. Only when
    /// that exceeds the size limit is the fee-rate walk needed (`store` positions the UTXO
    /// cursor for it).
    pub fn mempool_size(
        &self,
        store: &mut BlockStore,
        tip: BlockId,
        node: NodeId,
        now: SimTime,
    ) -> (u64, u64) {
        let n = node.index();
        let (mut count, mut bytes) = (0i64, 0i64);
        for s in &self.sources {
            let Some(cutoff) = now.0.checked_sub(s.delay[n].0) else { continue };
            let k = s.created.partition_point(|t| t.0 <= cutoff);
            count += k as i64;
            bytes += s.cum_bytes[k] as i64;
        }
        // Conflict groups are counted apart: take their members out of the counts above and
        // put back the one the node holds, unless some member is confirmed on its chain (the
        // confirmed member is taken off below with every confirmed transaction, so it is
        // added here first).
        for g in &self.groups {
            let mut settled = false;
            for &(m, b) in &g.included {
                if store.is_ancestor(b, tip) {
                    settled = true;
                    count += 1;
                    bytes += i64::from(self.txs[m as usize].size);
                }
            }
            for &i in &g.members {
                let e = &self.txs[i as usize];
                let counted = e.created + self.sources[e.slot as usize].delay[n] <= now;
                let held = !settled && self.arrival(i, node) <= now;
                let delta = i64::from(held) - i64::from(counted);
                count += delta;
                bytes += delta * i64::from(e.size);
            }
        }
        // Confirmed on the node's chain and arrived: all confirmed minus those not arrived,
        // which can only be in blocks mined within the longest relay delay.
        if let Some(b) = self.blocks.get(tip.index()) {
            count -= b.cum_count as i64;
            bytes -= b.cum_bytes as i64;
        }
        let horizon = self.max_delay[n];
        let mut walk = Some(tip);
        while let Some(id) = walk {
            let stored = store.get(id);
            if stored.meta.mined_at + horizon <= now {
                break;
            }
            if let Some(b) = self.blocks.get(id.index()) {
                for &i in &b.txs {
                    let e = &self.txs[i as usize];
                    if e.group.is_none() && self.arrival(i, node) > now {
                        count += 1;
                        bytes += i64::from(e.size);
                    }
                }
            }
            walk = stored.parent;
        }
        let (count, bytes) = (count.max(0) as u64, bytes.max(0) as u64);
        if bytes <= self.mempool_max_bytes {
            return (count, bytes);
        }
        let extra = self.off_chain(store, tip);
        let utxo = store.utxo_at(tip).expect("a node's tip is valid");
        let walk = self.mempool_walk(utxo, &extra, node, now, 0, None, None);
        (walk.count, walk.bytes)
    }

    #[cfg(test)]
    fn source_slot_of(&self, node: NodeId) -> usize {
        self.slot_of_node[node.index()].expect("a submission node") as usize
    }

    /// The slot of a submission node, computing its relay distances the first time.
    fn source_slot(&mut self, network: &Network, node: NodeId) -> u32 {
        if let Some(slot) = self.slot_of_node[node.index()] {
            return slot;
        }
        let (at, _) = flood(network, &self.hop, &[(node, SimTime::ZERO, 0, true)]);
        let delay: Vec<SimDuration> = at.iter().map(|t| SimDuration(t.0)).collect();
        for (m, d) in self.max_delay.iter_mut().zip(&delay) {
            *m = (*m).max(*d);
        }
        let slot = self.sources.len() as u32;
        self.sources.push(Source { delay, created: Vec::new(), cum_bytes: vec![0] });
        self.slot_of_node[node.index()] = Some(slot);
        slot
    }

    /// Puts `new` and the transactions it conflicts with into one group and floods all
    /// members competitively from their sources and creation times.
    fn form_group(&mut self, network: &Network, new: TxIndex, conflicts: &[TxIndex]) {
        let mut members = vec![new];
        let mut old_groups = Vec::new();
        for &c in conflicts {
            match self.txs[c as usize].group {
                None => members.push(c),
                Some(g) => {
                    old_groups.push(g);
                    members.extend(self.groups[g as usize].members.iter().copied());
                }
            }
        }
        members.sort_unstable();
        members.dedup();
        let mut included = Vec::new();
        for g in old_groups {
            let old = &mut self.groups[g as usize];
            old.members.clear();
            included.append(&mut old.included);
        }
        let starts: Vec<(NodeId, SimTime, u32, bool)> = members
            .iter()
            .map(|&m| {
                let e = &self.txs[m as usize];
                (e.source, e.created, m, e.relays)
            })
            .collect();
        let (arrival, holder) = flood(network, &self.hop, &starts);
        let id = self.groups.len() as u32;
        for &m in &members {
            self.txs[m as usize].group = Some(id);
            if let Some(b) = self.txs[m as usize].first_block {
                included.push((m, b));
            }
        }
        included.sort_unstable_by_key(|&(m, b)| (b, m));
        included.dedup();
        self.groups.push(ConflictGroup { members, arrival, holder, included });
        // Members already in blocks move to the front of those blocks' scan order.
        let blocks: Vec<BlockId> = self.groups[id as usize].included.iter().map(|x| x.1).collect();
        for b in blocks {
            let mut list = std::mem::take(&mut self.blocks[b.index()].txs);
            let grouped = self.order_for_scan(&mut list);
            let entry = &mut self.blocks[b.index()];
            entry.txs = list;
            entry.grouped = grouped;
        }
    }
}

/// The entry checks of [`TxPool::admit`].
fn entry_check(tx: &Transaction, sigs: &mut SigCache) -> Result<(), RejectReason> {
    if tx.is_coinbase() {
        return Err(RejectReason::Coinbase);
    }
    check_transaction(tx)?;
    let txid = tx.txid();
    if (0..tx.inputs.len()).all(|i| sigs.verify_input(tx, &txid, i)) {
        Ok(())
    } else {
        Err(RejectReason::MandatoryScriptVerifyFlagFailed)
    }
}

/// Merges two ascending sequences into one ascending sequence.
fn merge_sorted<T: Ord + Copy>(
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
) -> impl Iterator<Item = T> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if y < x => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}

/// Earliest arrival at every node of a flood started at `starts` (node, time, label, whether
/// it relays), over per-link delays `hop`; returns arrival times and, per node, the label
/// that got there first (ties go to the smaller label; `None` where nothing arrives). A node
/// relays only what it got first, and a label that does not relay stays at its start node.
fn flood(
    network: &Network,
    hop: &[SimDuration],
    starts: &[(NodeId, SimTime, u32, bool)],
) -> (Vec<SimTime>, Vec<Option<u32>>) {
    let n = network.node_count() as usize;
    let mut at = vec![NEVER; n];
    let mut label = vec![None; n];
    let mut heap = BinaryHeap::new();
    let quiet: Vec<u32> = starts.iter().filter(|s| !s.3).map(|s| s.2).collect();
    for &(node, t, l, _) in starts {
        heap.push(Reverse((t, l, node)));
    }
    while let Some(Reverse((t, l, v))) = heap.pop() {
        if at[v.index()] != NEVER {
            continue;
        }
        at[v.index()] = t;
        label[v.index()] = Some(l);
        if quiet.contains(&l) {
            continue;
        }
        for link in network.links_of(v) {
            let w = network.link_target(link);
            if at[w.index()] == NEVER {
                heap.push(Reverse((t + hop[link.index()], l, w)));
            }
        }
    }
    (at, label)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::chain::BlockMeta;
    use crate::mining::{Body, TemplateSpec, build_template};
    use crate::observe::Discard;
    use crate::payments::Payments;
    use crate::payments::wallet::Payment;
    use crate::world::World;

    /// A final payment keeps its facts in 96 bytes, its body boxed apart: at 300 payments a
    /// block, 20,000 blocks hold six million records, and every 8 bytes here is 48 MB.
    #[test]
    fn a_pool_record_without_its_body_takes_96_bytes() {
        assert_eq!(std::mem::size_of::<PoolTx>(), 96);
    }

    /// The shared state of a run: its store, network and payments.
    struct Sim {
        store: BlockStore,
        network: Network,
        transactions: Option<Payments>,
    }

    fn world(extra: &str) -> Sim {
        let text = format!(
            r#"
[chain]
block_interval_s = 60
[network]
nodes = 30
[network.latency]
model = "constant"
ms = 50
[workload]
wallets = 20
submit_to = ["n0"]
{extra}
"#
        );
        let scenario = crate::scenario::from_str(&text, Path::new("t.toml"), &[], None).unwrap();
        let (remains, ()) = World::build(&scenario, Discard, ()).unwrap().finish();
        let (network, _) = remains.transport.into_parts();
        Sim { store: remains.shared.store, network, transactions: remains.shared.payments }
    }

    fn submit(sim: &mut Sim, p: Payment, now: SimTime) -> TxIndex {
        let t = sim.transactions.as_mut().unwrap();
        t.pool.add(&sim.network, p.tx, p.fee, p.node, now)
    }

    /// Mines (without grinding: validity does not include proof of work) a block on `parent`
    /// carrying pool transactions `txs`, and registers it.
    fn block(sim: &mut Sim, parent: BlockId, txs: &[TxIndex], salt: u64) -> BlockId {
        let t = sim.transactions.as_mut().unwrap();
        let body_txs: Vec<Transaction> =
            txs.iter().map(|&i| t.pool.txs()[i as usize].tx().clone()).collect();
        let fees = txs
            .iter()
            .fold(Amount::ZERO, |s, &i| s.checked_add(t.pool.txs()[i as usize].fee).unwrap());
        let spec =
            TemplateSpec { genesis_time: 1_231_006_505, block_size_bytes: 0, tx_size_bytes: 250 };
        let now = SimTime(60_000_000 * (salt + 1));
        let b = build_template(
            &mut sim.store,
            parent,
            NodeId(1),
            now,
            salt,
            &spec,
            Body::Txs(body_txs, fees),
        );
        let id = sim.store.insert(b, BlockMeta { miner: Some(NodeId(1)), mined_at: now }).unwrap();
        assert_eq!(sim.store.validity(id), Ok(()));
        sim.transactions.as_mut().unwrap().pool.register_block(id, parent, txs);
        id
    }

    fn in_mempool(sim: &mut Sim, tip: BlockId, i: TxIndex, node: NodeId) -> bool {
        let t = sim.transactions.as_ref().unwrap();
        t.pool.in_mempool(&mut sim.store, tip, i, node, SimTime(10_000_000_000))
    }

    #[test]
    fn the_pool_verifies_signatures_on_entry_and_refuses_bad_payments() {
        let mut sim = world("");
        let now = SimTime(1_000_000);
        let t = sim.transactions.as_mut().unwrap();
        let good = t.wallets.next_payment().unwrap();
        let mut forged = t.wallets.next_payment().unwrap();
        forged.tx.inputs[0].signature[0] ^= 1;
        let coinbase = Transaction::new_coinbase(1, 0, 0, Vec::new());
        let sigs = sim.store.sigcache_mut();
        let before = sigs.verifications();
        let pool = &mut t.pool;
        let fee = good.fee;
        let offer = |pool: &mut TxPool, sigs: &mut SigCache, tx: Transaction, node| {
            pool.admit(&sim.network, sigs, (tx, fee), node, now)
        };
        assert_eq!(
            offer(pool, sigs, forged.tx.clone(), forged.node),
            Err(RejectReason::MandatoryScriptVerifyFlagFailed)
        );
        assert_eq!(offer(pool, sigs, coinbase, NodeId(0)), Err(RejectReason::Coinbase));
        let mut empty = good.tx.clone();
        empty.outputs.clear();
        assert_eq!(offer(pool, sigs, empty, NodeId(0)), Err(RejectReason::BadTxnsVoutEmpty));
        assert!(pool.txs().is_empty(), "nothing refused enters the pool");
        let i = offer(pool, sigs, good.tx.clone(), good.node).unwrap();
        assert_eq!(pool.txs()[i as usize].txid, good.tx.txid());
        let r = pool.rejected();
        assert_eq!(r[RejectReason::MandatoryScriptVerifyFlagFailed.index()], 1);
        assert_eq!(r.iter().sum::<u64>(), 3);
        // The good payment's signature is cached: a block holding it verifies nothing again.
        let verified = sigs.verifications();
        assert!(verified > before);
        assert!(sigs.contains(&good.tx.txid(), 0));
        let b = block(&mut sim, BlockId::GENESIS, &[i], 1);
        assert_eq!(sim.store.validity(b), Ok(()));
        assert_eq!(sim.store.sigcache().verifications(), verified, "checked at entry, cached");
    }

    #[test]
    fn conflicting_versions_are_held_by_the_side_that_heard_them_first() {
        let mut sim = world("");
        let now = SimTime(1_000_000);
        let pair = sim
            .transactions
            .as_mut()
            .unwrap()
            .wallets
            .conflicting_pair([NodeId(0), NodeId(29)])
            .unwrap();
        let [a, b] = pair;
        let (ia, ib) = (submit(&mut sim, a, now), submit(&mut sim, b, now));
        let pool = &sim.transactions.as_ref().unwrap().pool;
        let (sa, sb) = (pool.source_slot_of(NodeId(0)), pool.source_slot_of(NodeId(29)));
        let (mut held_a, mut held_b) = (0, 0);
        for v in NodeId::all(30) {
            let (da, db) = (pool.sources[sa].delay[v.index()], pool.sources[sb].delay[v.index()]);
            let (aa, ab) = (pool.arrival(ia, v), pool.arrival(ib, v));
            assert!((aa == NEVER) != (ab == NEVER), "{v} holds exactly one version");
            if da < db {
                assert_eq!(aa, now + da, "{v} is closer to n0 and hears its version first");
                held_a += 1;
            } else if db < da {
                assert_eq!(ab, now + db, "{v} is closer to n29 and hears its version first");
                held_b += 1;
            }
        }
        assert!(held_a > 0 && held_b > 0, "the network splits: {held_a} / {held_b}");
    }

    #[test]
    fn a_reorg_returns_disconnected_payments_and_drops_the_new_chain_conflicts() {
        let mut sim = world("");
        let now = SimTime(1_000_000);
        let [c1, c2] = sim
            .transactions
            .as_mut()
            .unwrap()
            .wallets
            .conflicting_pair([NodeId(0), NodeId(29)])
            .unwrap();
        let p = sim.transactions.as_mut().unwrap().wallets.next_payment().unwrap();
        let (i1, i2, ip) =
            (submit(&mut sim, c1, now), submit(&mut sim, c2, now), submit(&mut sim, p, now));
        let genesis = BlockId::GENESIS;
        assert!(
            in_mempool(&mut sim, genesis, i1, NodeId(0))
                && in_mempool(&mut sim, genesis, ip, NodeId(0))
        );
        assert!(
            !in_mempool(&mut sim, genesis, i2, NodeId(0)),
            "n0 refuses the version it heard second"
        );
        assert!(
            in_mempool(&mut sim, genesis, i2, NodeId(29))
                && !in_mempool(&mut sim, genesis, i1, NodeId(29))
        );

        let a = block(&mut sim, genesis, &[i1, ip], 1);
        for i in [i1, i2, ip] {
            assert!(
                !in_mempool(&mut sim, a, i, NodeId(0)),
                "tx {i}: confirmed or conflicting on A"
            );
            assert!(
                !in_mempool(&mut sim, a, i, NodeId(29)),
                "tx {i}: confirmed or conflicting on A"
            );
        }
        // A competing branch confirms the other version; a node that reorgs onto it gets the
        // payment back and drops the version that now conflicts.
        let b1 = block(&mut sim, genesis, &[], 2);
        let b2 = block(&mut sim, b1, &[i2], 3);
        assert!(in_mempool(&mut sim, b2, ip, NodeId(0)), "the disconnected payment returns");
        assert!(
            !in_mempool(&mut sim, b2, i1, NodeId(0)),
            "the version in the old chain now conflicts"
        );
        assert!(!in_mempool(&mut sim, b2, i2, NodeId(0)), "the new chain confirmed this one");
        let t = sim.transactions.as_ref().unwrap();
        let late = SimTime(10_000_000_000);
        assert_eq!(t.pool.mempool_size(&mut sim.store, b2, NodeId(0), late).0, 1);
        assert_eq!(t.pool.mempool_size(&mut sim.store, a, NodeId(0), late).0, 0);
        assert_eq!(t.pool.mempool_size(&mut sim.store, genesis, NodeId(0), late).0, 2);
    }

    #[test]
    fn templates_take_the_highest_fee_rates_and_the_size_limit_evicts_the_lowest() {
        // About three 199-byte payments fit in 600 bytes.
        let mut sim = world("mempool_max_mb = 0.0006");
        let mut all = Vec::new();
        for k in 0..10 {
            let p = sim.transactions.as_mut().unwrap().wallets.next_payment().unwrap();
            all.push(submit(&mut sim, p, SimTime(k)));
        }
        let late = SimTime(10_000_000_000);
        let t = sim.transactions.as_ref().unwrap();
        let rate = |i: TxIndex| t.pool.txs()[i as usize].fee_rate_milli();
        let mut by_rate = all.clone();
        by_rate.sort_by_key(|&i| (Reverse(rate(i)), i));
        let extra = t.pool.off_chain(&sim.store, BlockId::GENESIS);
        let utxo = sim.store.utxo_at(BlockId::GENESIS).unwrap();
        let chosen = t.pool.select(utxo, &extra, NodeId(5), late, 1_000_000);
        assert_eq!(chosen, by_rate[..chosen.len()].to_vec(), "fee-rate order");
        let kept: u64 = chosen.iter().map(|&i| u64::from(t.pool.txs()[i as usize].size)).sum();
        assert!(kept <= 600 && kept + 199 > 600, "{} payments, {kept} bytes kept", chosen.len());
        let (count, bytes) = t.pool.mempool_size(&mut sim.store, BlockId::GENESIS, NodeId(5), late);
        assert_eq!((count, bytes), (chosen.len() as u64, kept));
        // A small template takes only what fits.
        let utxo = sim.store.utxo_at(BlockId::GENESIS).unwrap();
        assert_eq!(t.pool.select(utxo, &extra, NodeId(5), late, 250), by_rate[..1].to_vec());
    }

    #[test]
    fn a_block_with_a_payment_a_node_has_not_heard_of_needs_it_fetched() {
        let mut sim = world("");
        let now = SimTime(5_000_000);
        let p = sim.transactions.as_mut().unwrap().wallets.next_payment().unwrap();
        let i = submit(&mut sim, p, now);
        let b = block(&mut sim, BlockId::GENESIS, &[i], 1);
        let t = sim.transactions.as_ref().unwrap();
        let far = NodeId::all(30).max_by_key(|&v| t.pool.arrival(i, v)).unwrap();
        let arrives = t.pool.arrival(i, far);
        let size = u64::from(t.pool.txs()[i as usize].size);
        assert_eq!(t.pool.missing(b, far, now), Missing { txs: 1, inputs: 1, bytes: size });
        assert_eq!(t.pool.missing(b, far, arrives), Missing::default());
        assert_eq!(
            t.pool.missing(b, NodeId(0), now),
            Missing::default(),
            "the submission node has it"
        );
    }
}
