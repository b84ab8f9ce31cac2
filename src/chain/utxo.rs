//! The UTXO set: every unspent output of one chain, and the rules for moving it a block forward
//! or back.
//!
//! Connecting a block ([`UtxoSet::apply_block`], Core's `ConnectBlock`) checks every
//! transaction against the coins of the chain up to its parent, spends their inputs, adds
//! their outputs, and returns a [`BlockUndo`] holding the coins it spent, so the block can be
//! disconnected later ([`UtxoSet::undo_block`], Core's `DisconnectBlock`) without keeping a
//! copy of the set per block. That pair is what lets one set be shared by every simulated node:
//! the block store keeps a single set and moves it along the block tree (see the store module).
//!
//! Rules and their order follow Core: per transaction, the context-free `CheckTransaction`
//! rules ([`check_transaction`]), then the inputs (exist, are mature, pay to the revealed key,
//! values in range, cover the outputs); after all transactions, the coinbase amount; last,
//! the signatures, all uncached ones of the block in one batch (Core likewise defers script
//! checks to the end of `ConnectBlock`). So when a block breaks several rules, the first UTXO
//! rule broken in block order wins, then `bad-cb-amount`, then a bad signature.
//!
//! A failed connect leaves the set exactly as it was: each transaction is applied all or
//! nothing, and on a failure the transactions already applied are disconnected again.
//!
//! The coins live in hash maps used for lookups only; nothing iterates them except
//! [`UtxoSet::to_sorted_vec`] and the set's equality, which sort or look up, so no result
//! depends on hash order.
//!
//! **Memory.** Every unspent output of a run stays in the set for good (a million-block run
//! holds a million unspent coinbases; a payment run about one coin per payment), so a coin is
//! kept compact: its owner's 20-byte key hash is interned (a run pays a few
//! hundred keys: wallets and miners), which leaves 52 bytes per entry instead of 80; and the
//! coins are split over 256 maps by the first byte of the transaction id, so
//! that growing the set resizes one small map at a time instead of copying the whole set into
//! a table twice its size (for a moment both tables live: 1.5 times the set at every doubling).

use std::fmt;

use rustc_hash::FxHashMap;

use crate::chain::block::Block;
use crate::chain::final_coinbases::{FinalCoin, FinalCoinbases};
use crate::chain::hash::{BlockHash, TxId};
use crate::chain::keys::{SigCheck, pubkey_hash};
use crate::chain::params::{ConsensusParams, subsidy};
use crate::chain::sigcache::SigCache;
use crate::chain::sorted_shards::SortedShards;
use crate::chain::tx::{Amount, OutPoint, Transaction, TxIn, TxOut};
use crate::chain::validate::RejectReason;

/// Up to this many inputs, duplicates are found by comparing every pair (no allocation);
/// above it, by sorting a copy of the outpoints.
const PAIRWISE_DUPLICATE_CHECK_MAX: usize = 16;

/// An unspent output with the facts the spending rules need (Core's `Coin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Coin {
    /// The output itself.
    pub out: TxOut,
    /// Height of the block that created it.
    pub height: u32,
    /// Whether it was created by a coinbase (and so must mature before it is spent).
    pub is_coinbase: bool,
}

/// What disconnecting a block needs: the coins it spent, in spending order, and its
/// transaction ids (so disconnecting and reconnecting never hash a transaction again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockUndo {
    txids: Vec<TxId>,
    spent: Vec<Coin>,
    fees: Amount,
}

impl BlockUndo {
    /// Returns the block's transaction ids, in block order.
    pub fn txids(&self) -> &[TxId] {
        &self.txids
    }

    /// Returns the coins the block spent, in block order of the spending inputs.
    pub fn spent_coins(&self) -> &[Coin] {
        &self.spent
    }

    /// Returns the fees the block's transactions paid (inputs minus outputs).
    pub fn fees(&self) -> Amount {
        self.fees
    }
}

/// Why a block could not be disconnected or reconnected: a caller bug (wrong block, wrong
/// undo data or the set positioned elsewhere), never a consensus verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UndoError {
    /// The block to disconnect is not the set's best block.
    #[error("block is not the UTXO set's best block")]
    NotTip,
    /// The block to reconnect does not build on the set's best block.
    #[error("block does not build on the UTXO set's best block")]
    NotConnected,
    /// The undo data has the wrong number of transactions or spent coins for the block.
    #[error("undo data does not match the block")]
    Mismatch,
}

/// A coin as the set stores it: its value, its owner's index in [`CoinMap::owners`] with the
/// coinbase flag in the top bit, and its height (16 bytes, 4-byte aligned so that an entry with
/// its 36-byte outpoint takes 52 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PackedCoin {
    value: [u32; 2],
    owner_and_flag: u32,
    height: u32,
}

/// Flag bit of [`PackedCoin::owner_and_flag`]: the coin was created by a coinbase.
const COINBASE_FLAG: u32 = 1 << 31;

/// The coins of a [`UtxoSet`]: compact entries in sharded maps (see the module docs), and the
/// final coinbase outputs in sorted arrays.
#[derive(Clone)]
struct CoinMap {
    shards: Box<[FxHashMap<OutPoint, PackedCoin>]>,
    /// Coins moved out of `shards` by [`UtxoSet::make_final`]: outputs of final blocks'
    /// coinbases, which in a run without payments stay unspent for good, one per block. Kept
    /// as what rebuilds them (40 bytes a coin) when the coinbase allows it ...
    coinbases: FinalCoinbases,
    /// ... or whole, in sorted arrays (55 bytes a coin).
    finals: SortedShards<OutPoint, PackedCoin>,
    /// Every owner key hash seen, in first-seen order (never shrinks: a run pays a bounded
    /// set of keys).
    owners: Vec<[u8; 20]>,
    owner_index: FxHashMap<[u8; 20], u32>,
    len: usize,
}

impl CoinMap {
    /// Number of shards: the set's first txid byte picks one.
    const SHARDS: usize = 256;

    fn new() -> CoinMap {
        CoinMap {
            shards: (0..Self::SHARDS).map(|_| FxHashMap::default()).collect(),
            coinbases: FinalCoinbases::default(),
            finals: SortedShards::default(),
            owners: Vec::new(),
            owner_index: FxHashMap::default(),
            len: 0,
        }
    }

    fn shard(&self, outpoint: &OutPoint) -> &FxHashMap<OutPoint, PackedCoin> {
        &self.shards[usize::from(outpoint.txid.0[0])]
    }

    fn shard_mut(&mut self, outpoint: &OutPoint) -> &mut FxHashMap<OutPoint, PackedCoin> {
        &mut self.shards[usize::from(outpoint.txid.0[0])]
    }

    fn unpack(&self, packed: PackedCoin) -> Coin {
        let [lo, hi] = packed.value;
        Coin {
            out: TxOut {
                value: Amount(u64::from(lo) | (u64::from(hi) << 32)),
                pubkey_hash: self.owners[(packed.owner_and_flag & !COINBASE_FLAG) as usize],
            },
            height: packed.height,
            is_coinbase: packed.owner_and_flag & COINBASE_FLAG != 0,
        }
    }

    fn pack(&mut self, coin: Coin) -> PackedCoin {
        let owners = &mut self.owners;
        let owner = *self.owner_index.entry(coin.out.pubkey_hash).or_insert_with(|| {
            owners.push(coin.out.pubkey_hash);
            u32::try_from(owners.len() - 1)
                .ok()
                .filter(|&i| i < COINBASE_FLAG)
                .expect("fewer than 2^31 distinct owner keys in one run")
        });
        let value = coin.out.value.0;
        PackedCoin {
            value: [value as u32, (value >> 32) as u32],
            owner_and_flag: owner | if coin.is_coinbase { COINBASE_FLAG } else { 0 },
            height: coin.height,
        }
    }

    /// The shard of [`CoinMap::finals`] an outpoint lives in.
    fn final_shard(outpoint: &OutPoint) -> usize {
        SortedShards::<OutPoint, PackedCoin>::shard_of(outpoint.txid.0[0], outpoint.txid.0[1])
    }

    /// A coin kept by [`FinalCoinbases`], as the maps keep coins.
    fn pack_final(coin: FinalCoin) -> PackedCoin {
        PackedCoin {
            value: [coin.value as u32, (coin.value >> 32) as u32],
            owner_and_flag: coin.owner | COINBASE_FLAG,
            height: coin.height,
        }
    }

    fn get_packed(&self, outpoint: &OutPoint) -> Option<PackedCoin> {
        match self.shard(outpoint).get(outpoint) {
            Some(&p) => Some(p),
            None => self
                .finals
                .get(Self::final_shard(outpoint), outpoint)
                .copied()
                .or_else(|| self.coinbases.get(outpoint, &self.owners).map(Self::pack_final)),
        }
    }

    fn get(&self, outpoint: &OutPoint) -> Option<Coin> {
        self.get_packed(outpoint).map(|p| self.unpack(p))
    }

    fn contains_key(&self, outpoint: &OutPoint) -> bool {
        self.get_packed(outpoint).is_some()
    }

    fn insert(&mut self, outpoint: OutPoint, coin: Coin) -> Option<Coin> {
        let packed = self.pack(coin);
        let old = match self.shard_mut(&outpoint).insert(outpoint, packed) {
            Some(old) => Some(old),
            // The same outpoint final already: the new coin replaces it.
            None => self
                .finals
                .remove(Self::final_shard(&outpoint), &outpoint)
                .or_else(|| self.coinbases.remove(&outpoint, &self.owners).map(Self::pack_final)),
        };
        if old.is_none() {
            self.len += 1;
        }
        old.map(|p| self.unpack(p))
    }

    fn remove(&mut self, outpoint: &OutPoint) -> Option<Coin> {
        let old = match self.shard_mut(outpoint).remove(outpoint) {
            Some(old) => old,
            None => self
                .finals
                .remove(Self::final_shard(outpoint), outpoint)
                .or_else(|| self.coinbases.remove(outpoint, &self.owners).map(Self::pack_final))?,
        };
        self.len -= 1;
        Some(self.unpack(old))
    }

    /// Moves the unspent outputs of `coinbase` (whose id is `txid`) out of the maps: into
    /// [`CoinMap::coinbases`] when it keeps them, into [`CoinMap::finals`] otherwise.
    fn make_final(&mut self, txid: TxId, coinbase: &Transaction) {
        for vout in 0..coinbase.outputs.len() {
            let op = outpoint(txid, vout);
            let Some(packed) = self.shard_mut(&op).remove(&op) else { continue };
            let coin = FinalCoin {
                value: u64::from(packed.value[0]) | (u64::from(packed.value[1]) << 32),
                owner: packed.owner_and_flag & !COINBASE_FLAG,
                height: packed.height,
            };
            let is_coinbase = packed.owner_and_flag & COINBASE_FLAG != 0;
            if !(vout == 0 && is_coinbase && self.coinbases.add(txid, coinbase, coin)) {
                self.finals.insert(Self::final_shard(&op), op, packed);
            }
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Every coin, in hash order (callers sort or only look up).
    fn iter(&self) -> impl Iterator<Item = (OutPoint, Coin)> + '_ {
        let finals = self.finals.iter().map(|&(k, v)| (k, v));
        let coinbases = self.coinbases.iter(&self.owners).map(|(k, c)| (k, Self::pack_final(c)));
        self.shards
            .iter()
            .flatten()
            .map(|(k, &v)| (*k, v))
            .chain(finals)
            .chain(coinbases)
            .map(|(k, v)| (k, self.unpack(v)))
    }
}

impl PartialEq for CoinMap {
    /// The same coins (owner indices may differ: they depend on the order keys were seen).
    fn eq(&self, other: &CoinMap) -> bool {
        self.len == other.len && self.iter().all(|(k, coin)| other.get(&k) == Some(coin))
    }
}

impl Eq for CoinMap {}

/// The unspent outputs of one chain, positioned at that chain's best block.
#[derive(Clone, PartialEq, Eq)]
pub struct UtxoSet {
    coins: CoinMap,
    /// Sum of all coin values, kept up to date so that [`UtxoSet::total_value`] is O(1).
    total: u128,
    best_block: BlockHash,
}

impl Default for UtxoSet {
    fn default() -> UtxoSet {
        UtxoSet::new()
    }
}

impl fmt::Debug for UtxoSet {
    /// Shows the size, total and position, not the coins.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UtxoSet")
            .field("coins", &self.coins.len())
            .field("total", &self.total)
            .field("best_block", &self.best_block)
            .finish()
    }
}

/// Checks the context-free transaction rules (Core's `CheckTransaction`) and returns the sum
/// of the outputs.
///
/// A payment needs inputs ([`RejectReason::BadTxnsVinEmpty`]) and outputs
/// ([`RejectReason::BadTxnsVoutEmpty`]); every output and their sum must be at most
/// [`crate::chain::tx::MAX_MONEY`] ([`RejectReason::BadTxnsTxoutTotalTooLarge`]); no outpoint may be spent twice
/// ([`RejectReason::BadTxnsInputsDuplicate`]). More than `u32::MAX` outputs or inputs are
/// rejected as [`RejectReason::BadTxnsTxoutTotalTooLarge`] or
/// [`RejectReason::BadTxnsInputValuesOutOfRange`]. A coinbase needs no outputs (a miner may claim
/// nothing, and the simulator's filler blocks build such coinbases) but must have no inputs
/// ([`RejectReason::BadCbLength`]).
pub fn check_transaction(tx: &Transaction) -> Result<Amount, RejectReason> {
    if !tx.is_coinbase() {
        if tx.inputs.is_empty() {
            return Err(RejectReason::BadTxnsVinEmpty);
        }
        if tx.outputs.is_empty() {
            return Err(RejectReason::BadTxnsVoutEmpty);
        }
    }
    // Input and output indices must fit a u32 (no real block comes near).
    if u32::try_from(tx.outputs.len()).is_err() {
        return Err(RejectReason::BadTxnsTxoutTotalTooLarge);
    }
    if u32::try_from(tx.inputs.len()).is_err() {
        return Err(RejectReason::BadTxnsInputValuesOutOfRange);
    }
    let mut total = Amount::ZERO;
    for output in &tx.outputs {
        total = total
            .checked_add(output.value)
            .filter(|t| output.value.is_money_range() && t.is_money_range())
            .ok_or(RejectReason::BadTxnsTxoutTotalTooLarge)?;
    }
    if tx.is_coinbase() {
        if !tx.inputs.is_empty() {
            return Err(RejectReason::BadCbLength);
        }
    } else if has_duplicate_inputs(&tx.inputs) {
        return Err(RejectReason::BadTxnsInputsDuplicate);
    }
    Ok(total)
}

/// Returns true if two inputs spend the same outpoint.
fn has_duplicate_inputs(inputs: &[TxIn]) -> bool {
    if inputs.len() <= PAIRWISE_DUPLICATE_CHECK_MAX {
        inputs
            .iter()
            .enumerate()
            .any(|(i, a)| inputs[i + 1..].iter().any(|b| a.prevout == b.prevout))
    } else {
        let mut prevouts: Vec<OutPoint> = inputs.iter().map(|input| input.prevout).collect();
        prevouts.sort_unstable();
        prevouts.windows(2).any(|w| w[0] == w[1])
    }
}

/// Checks that `input` may spend `coin` in a block at `spend_height`: a coinbase output needs
/// `coinbase_maturity` confirmations ([`RejectReason::BadTxnsPrematureSpendOfCoinbase`]), and
/// the revealed public key must hash to the output's key hash
/// ([`RejectReason::MandatoryScriptVerifyFlagFailed`]). The signature is checked separately.
pub fn check_spend(
    coin: &Coin,
    input: &TxIn,
    spend_height: u32,
    params: &ConsensusParams,
) -> Result<(), RejectReason> {
    if coin.is_coinbase && spend_height.saturating_sub(coin.height) < params.coinbase_maturity {
        return Err(RejectReason::BadTxnsPrematureSpendOfCoinbase);
    }
    if pubkey_hash(&input.pubkey) != coin.out.pubkey_hash {
        return Err(RejectReason::MandatoryScriptVerifyFlagFailed);
    }
    Ok(())
}

/// Returns the outpoint of output `vout` of transaction `txid`.
fn outpoint(txid: TxId, vout: usize) -> OutPoint {
    OutPoint {
        txid,
        // check_transaction guarantees fewer than 2^32 outputs.
        vout: vout as u32,
    }
}

impl UtxoSet {
    /// Creates an empty set positioned before any block (best block all zeros), so the first
    /// block connected is a genesis block (previous hash all zeros).
    pub fn new() -> UtxoSet {
        UtxoSet { coins: CoinMap::new(), total: 0, best_block: BlockHash::ZERO }
    }

    /// Creates the set after `genesis`: every output of every genesis transaction, at height
    /// 0, without checks (genesis is valid by definition). Unlike Bitcoin, whose genesis
    /// coinbase is unspendable, these outputs are spendable at once by whoever holds the key
    /// (no coinbase maturity): genesis is where a run's wallets are funded.
    pub fn from_genesis(genesis: &Block) -> UtxoSet {
        let mut set = UtxoSet::new();
        for tx in &genesis.txs {
            let txid = tx.txid();
            for (vout, out) in tx.outputs.iter().enumerate() {
                set.add_coin(
                    outpoint(txid, vout),
                    Coin { out: *out, height: 0, is_coinbase: false },
                );
            }
        }
        set.best_block = genesis.header.block_hash();
        set
    }

    /// Returns the hash of the last block connected (the block the set is positioned at).
    pub fn best_block(&self) -> BlockHash {
        self.best_block
    }

    /// Returns the unspent coin at `outpoint`, if any.
    pub fn get(&self, outpoint: &OutPoint) -> Option<Coin> {
        self.coins.get(outpoint)
    }

    /// Returns true if `outpoint` is unspent.
    pub fn contains(&self, outpoint: &OutPoint) -> bool {
        self.coins.contains_key(outpoint)
    }

    /// Returns the number of unspent outputs.
    pub fn len(&self) -> usize {
        self.coins.len()
    }

    /// Returns true if there are no unspent outputs.
    pub fn is_empty(&self) -> bool {
        self.coins.len() == 0
    }

    /// Returns the sum of all unspent outputs' values (saturating at `u64::MAX` units), in
    /// O(1): the sum is kept up to date.
    pub fn total_value(&self) -> Amount {
        Amount(u64::try_from(self.total).unwrap_or(u64::MAX))
    }

    /// Returns every unspent output sorted by outpoint: the only way to list the set, so that
    /// listing it never depends on hash order.
    pub fn to_sorted_vec(&self) -> Vec<(OutPoint, Coin)> {
        let mut all: Vec<(OutPoint, Coin)> = self.coins.iter().collect();
        all.sort_unstable_by_key(|entry| entry.0);
        all
    }

    /// Moves the unspent outputs of a final block's coinbase (`coinbase`, whose id is
    /// `txid`) out of the hash maps: kept as what rebuilds them (the `final_coinbases`
    /// module, 40 bytes a coin) or else in sorted arrays (the `sorted_shards` module, about
    /// 55 bytes), instead of about 110 bytes in a map. The same coins, found and spent as before. The block
    /// store calls it for each block it makes final on the final chain (see
    /// [`crate::chain::BlockStore::prune_through`]).
    pub fn make_final(&mut self, txid: TxId, coinbase: &Transaction) {
        self.coins.make_final(txid, coinbase);
    }

    /// Returns how many final coinbase outputs are kept compactly, and the bytes they take
    /// (for the tests that bound memory).
    #[cfg(test)]
    pub(crate) fn final_coins(&self) -> (usize, usize) {
        let coins = &self.coins;
        (
            coins.finals.len() + coins.coinbases.len(),
            coins.finals.bytes_held() + coins.coinbases.bytes_held(),
        )
    }

    /// Adds a coin, keeping the total; returns the coin it replaced, if any.
    fn add_coin(&mut self, outpoint: OutPoint, coin: Coin) -> Option<Coin> {
        self.total += u128::from(coin.out.value.0);
        let old = self.coins.insert(outpoint, coin);
        if let Some(old) = &old {
            self.total -= u128::from(old.out.value.0);
        }
        old
    }

    /// Removes a coin, keeping the total.
    fn spend_coin(&mut self, outpoint: &OutPoint) -> Option<Coin> {
        let coin = self.coins.remove(outpoint)?;
        self.total -= u128::from(coin.out.value.0);
        Some(coin)
    }

    /// Checks that `block` may follow the set's best block at `height` and, if so, connects
    /// it and returns its undo data; on any error the set is left unchanged.
    ///
    /// Computes the block's transaction ids; use [`UtxoSet::connect_block`] when they are
    /// already known. See the module doc for the rules and their order. The block must build on
    /// [`UtxoSet::best_block`] ([`RejectReason::BadPrevBlk`] otherwise) and have exactly one
    /// coinbase, first ([`RejectReason::BadCbMissing`]); the Merkle root, size, proof of work
    /// and header rules are not checked here (see the validate module).
    pub fn apply_block(
        &mut self,
        block: &Block,
        height: u32,
        params: &ConsensusParams,
        sigs: &mut SigCache,
    ) -> Result<BlockUndo, RejectReason> {
        self.connect_block(block, block.txids(), height, params, sigs)
    }

    /// [`UtxoSet::apply_block`] with the transaction ids given (`txids` must be
    /// `block.txids()`; a list of the wrong length is [`RejectReason::BadTxnMrklRoot`]). The
    /// ids move into the returned undo data.
    pub fn connect_block(
        &mut self,
        block: &Block,
        txids: Vec<TxId>,
        height: u32,
        params: &ConsensusParams,
        sigs: &mut SigCache,
    ) -> Result<BlockUndo, RejectReason> {
        if txids.len() != block.txs.len() {
            return Err(RejectReason::BadTxnMrklRoot);
        }
        if block.header.prev_blockhash != self.best_block {
            return Err(RejectReason::BadPrevBlk);
        }
        match block.txs.split_first() {
            Some((first, rest)) if first.is_coinbase() && !rest.iter().any(|t| t.is_coinbase()) => {
            }
            _ => return Err(RejectReason::BadCbMissing),
        }
        let input_count = block.txs.iter().map(|tx| tx.inputs.len()).sum();
        let mut undo =
            BlockUndo { txids, spent: Vec::with_capacity(input_count), fees: Amount::ZERO };
        let mut applied = 0;
        let verdict = self.connect_txs(block, height, params, sigs, &mut undo, &mut applied);
        match verdict {
            Ok(()) => {
                self.best_block = block.header.block_hash();
                Ok(undo)
            }
            Err(reason) => {
                self.disconnect_txs(&block.txs[..applied], &undo.txids[..applied], &undo.spent);
                Err(reason)
            }
        }
    }

    /// Connects the transactions of `block` one by one, counting them in `applied`, then
    /// checks the coinbase amount and the signatures. On error the caller disconnects the
    /// `applied` transactions.
    fn connect_txs(
        &mut self,
        block: &Block,
        height: u32,
        params: &ConsensusParams,
        sigs: &mut SigCache,
        undo: &mut BlockUndo,
        applied: &mut usize,
    ) -> Result<(), RejectReason> {
        // Uncached signatures: (transaction, input, index into `messages`).
        let mut pending: Vec<(u32, u32, u32)> = Vec::new();
        let mut messages: Vec<[u8; 32]> = Vec::new();
        let mut coinbase_value = Amount::ZERO;
        let mut fees = Amount::ZERO;
        for (i, tx) in block.txs.iter().enumerate() {
            let txid = undo.txids[i];
            let value = match self.connect_tx(tx, txid, height, params, &mut undo.spent) {
                Ok(value) => value,
                Err(RejectReason::BadTxnsInputsMissingOrSpent) => {
                    return Err(self.missing_input_reason(&block.txs[..i], tx));
                }
                Err(reason) => return Err(reason),
            };
            *applied = i + 1;
            if i == 0 {
                coinbase_value = value;
            } else {
                // Core's bad-txns-accumulated-fee-outofrange, folded into this reason.
                fees = fees
                    .checked_add(value)
                    .filter(|f| f.is_money_range())
                    .ok_or(RejectReason::BadTxnsInputValuesOutOfRange)?;
            }
            let mut message = None;
            // check_transaction guarantees fewer than 2^32 inputs.
            for j in 0..tx.inputs.len() as u32 {
                if !sigs.lookup(&txid, j) {
                    let m = *message.get_or_insert_with(|| {
                        messages.push(tx.sighash());
                        messages.len() as u32 - 1
                    });
                    pending.push((i as u32, j, m));
                }
            }
        }
        let allowed = subsidy(height, params).checked_add(fees);
        if allowed.is_none_or(|allowed| coinbase_value > allowed) {
            return Err(RejectReason::BadCbAmount);
        }
        undo.fees = fees;
        if pending.is_empty() {
            return Ok(());
        }
        let checks: Vec<SigCheck<'_>> = pending
            .iter()
            .map(|&(i, j, m)| {
                let input = &block.txs[i as usize].inputs[j as usize];
                SigCheck {
                    message: &messages[m as usize],
                    pubkey: &input.pubkey,
                    signature: &input.signature,
                }
            })
            .collect();
        let keys: Vec<(TxId, u32)> =
            pending.iter().map(|&(i, j, _)| (undo.txids[i as usize], j)).collect();
        sigs.verify_batch(&checks, &keys).map_err(|_| RejectReason::MandatoryScriptVerifyFlagFailed)
    }

    /// Tells apart, for a transaction that failed with a missing input, an outpoint spent by
    /// an earlier transaction of the same block (`earlier`) from one missing altogether.
    fn missing_input_reason(&self, earlier: &[Transaction], tx: &Transaction) -> RejectReason {
        let missing = tx.inputs.iter().find(|input| !self.coins.contains_key(&input.prevout));
        let conflicting = missing.is_some_and(|missing| {
            earlier.iter().flat_map(|t| &t.inputs).any(|input| input.prevout == missing.prevout)
        });
        if conflicting {
            RejectReason::BadTxnsSpendsConflictingTx
        } else {
            RejectReason::BadTxnsInputsMissingOrSpent
        }
    }

    /// Connects one transaction, all or nothing: spends its inputs (pushing the coins onto
    /// `spent`) and adds its outputs. Returns the fee of a payment or the output value of a
    /// coinbase. Signatures are not checked here.
    fn connect_tx(
        &mut self,
        tx: &Transaction,
        txid: TxId,
        height: u32,
        params: &ConsensusParams,
        spent: &mut Vec<Coin>,
    ) -> Result<Amount, RejectReason> {
        let value_out = check_transaction(tx)?;
        let start = spent.len();
        let mut value_in = Amount::ZERO;
        let mut verdict = Ok(());
        for input in &tx.inputs {
            let Some(coin) = self.spend_coin(&input.prevout) else {
                verdict = Err(RejectReason::BadTxnsInputsMissingOrSpent);
                break;
            };
            spent.push(coin);
            if let Err(reason) = check_spend(&coin, input, height, params) {
                verdict = Err(reason);
                break;
            }
            match value_in.checked_add(coin.out.value).filter(|v| v.is_money_range()) {
                Some(v) => value_in = v,
                None => {
                    verdict = Err(RejectReason::BadTxnsInputValuesOutOfRange);
                    break;
                }
            }
        }
        if verdict.is_ok() && !tx.is_coinbase() && value_in < value_out {
            verdict = Err(RejectReason::BadTxnsInBelowOut);
        }
        if verdict.is_ok()
            && (0..tx.outputs.len()).any(|vout| self.coins.contains_key(&outpoint(txid, vout)))
        {
            verdict = Err(RejectReason::BadTxnsBip30);
        }
        if let Err(reason) = verdict {
            // Put back what this transaction spent, newest first.
            let spent_here = spent.len() - start;
            for input in tx.inputs[..spent_here].iter().rev() {
                if let Some(coin) = spent.pop() {
                    self.add_coin(input.prevout, coin);
                }
            }
            return Err(reason);
        }
        let is_coinbase = tx.is_coinbase();
        for (vout, out) in tx.outputs.iter().enumerate() {
            self.add_coin(outpoint(txid, vout), Coin { out: *out, height, is_coinbase });
        }
        Ok(if is_coinbase { value_out } else { Amount(value_in.0 - value_out.0) })
    }

    /// Disconnects `txs` (with ids `txids`), last first: removes their outputs and puts back
    /// the coins they spent, which are the last entries of `spent` in spending order.
    fn disconnect_txs(&mut self, txs: &[Transaction], txids: &[TxId], spent: &[Coin]) {
        let mut next = spent.len();
        for (tx, txid) in txs.iter().zip(txids).rev() {
            for vout in 0..tx.outputs.len() {
                self.spend_coin(&outpoint(*txid, vout));
            }
            if tx.is_coinbase() {
                continue;
            }
            for input in tx.inputs.iter().rev() {
                let Some(index) = next.checked_sub(1) else {
                    return;
                };
                next = index;
                self.add_coin(input.prevout, spent[index]);
            }
        }
    }

    /// Returns `Err(Mismatch)` unless `undo` has one id per transaction and one coin per
    /// spending input of `block`.
    fn check_undo_shape(block: &Block, undo: &BlockUndo) -> Result<(), UndoError> {
        let inputs: usize =
            block.txs.iter().filter(|tx| !tx.is_coinbase()).map(|tx| tx.inputs.len()).sum();
        if undo.txids.len() != block.txs.len() || undo.spent.len() != inputs {
            return Err(UndoError::Mismatch);
        }
        Ok(())
    }

    /// Disconnects `block`, the set's best block, with the undo data its connect returned,
    /// restoring the set exactly as it was before.
    pub fn undo_block(&mut self, block: &Block, undo: BlockUndo) -> Result<(), UndoError> {
        self.disconnect_block(block, &undo)
    }

    /// [`UtxoSet::undo_block`] with the undo data borrowed, so a cache can keep it for a later
    /// reconnect.
    pub fn disconnect_block(&mut self, block: &Block, undo: &BlockUndo) -> Result<(), UndoError> {
        if block.header.block_hash() != self.best_block {
            return Err(UndoError::NotTip);
        }
        UtxoSet::check_undo_shape(block, undo)?;
        self.disconnect_txs(&block.txs, &undo.txids, &undo.spent);
        self.best_block = block.header.prev_blockhash;
        Ok(())
    }

    /// Connects again a block that was connected before on the same parent state, using its
    /// undo data and without checking any rule: the state at a block is a function of its
    /// chain, so the verdict and the effect are the same as the first time. Used by the block
    /// store to move its shared set forward along already-validated blocks.
    pub(crate) fn reconnect_block(
        &mut self,
        block: &Block,
        undo: &BlockUndo,
        height: u32,
    ) -> Result<(), UndoError> {
        if block.header.prev_blockhash != self.best_block {
            return Err(UndoError::NotConnected);
        }
        UtxoSet::check_undo_shape(block, undo)?;
        for (tx, txid) in block.txs.iter().zip(&undo.txids) {
            let is_coinbase = tx.is_coinbase();
            if !is_coinbase {
                for input in &tx.inputs {
                    self.spend_coin(&input.prevout);
                }
            }
            for (vout, out) in tx.outputs.iter().enumerate() {
                self.add_coin(outpoint(*txid, vout), Coin { out: *out, height, is_coinbase });
            }
        }
        self.best_block = block.header.block_hash();
        Ok(())
    }

    /// Checks a loose transaction (with id `txid`) against this set as a mempool would, for
    /// inclusion in a block at `spend_height`, and returns its fee. Runs the same rules as a
    /// block connect (a coinbase is [`RejectReason::Coinbase`]) and verifies uncached
    /// signatures through `sigs`, caching them for the block that later includes it. Does not
    /// change the set.
    pub fn check_tx_inputs(
        &self,
        tx: &Transaction,
        txid: &TxId,
        spend_height: u32,
        params: &ConsensusParams,
        sigs: &mut SigCache,
    ) -> Result<Amount, RejectReason> {
        if tx.is_coinbase() {
            return Err(RejectReason::Coinbase);
        }
        let value_out = check_transaction(tx)?;
        let mut value_in = Amount::ZERO;
        for input in &tx.inputs {
            let coin =
                self.coins.get(&input.prevout).ok_or(RejectReason::BadTxnsInputsMissingOrSpent)?;
            check_spend(&coin, input, spend_height, params)?;
            value_in = value_in
                .checked_add(coin.out.value)
                .filter(|v| v.is_money_range())
                .ok_or(RejectReason::BadTxnsInputValuesOutOfRange)?;
        }
        let fee = value_in.checked_sub(value_out).ok_or(RejectReason::BadTxnsInBelowOut)?;
        let message = tx.sighash();
        let mut checks = Vec::new();
        let mut keys = Vec::new();
        for (j, input) in (0u32..).zip(&tx.inputs) {
            if !sigs.lookup(txid, j) {
                checks.push(SigCheck {
                    message: &message,
                    pubkey: &input.pubkey,
                    signature: &input.signature,
                });
                keys.push((*txid, j));
            }
        }
        sigs.verify_batch(&checks, &keys)
            .map_err(|_| RejectReason::MandatoryScriptVerifyFlagFailed)?;
        Ok(fee)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::chain::keys::{KeyPair, sign_all};
    use crate::chain::testutil::{block_on, input, keys, random_payments};
    use crate::chain::tx::MAX_MONEY;

    /// A chain under construction on one UTXO set.
    struct Chain {
        set: UtxoSet,
        params: ConsensusParams,
        sigs: SigCache,
        keys: Vec<KeyPair>,
        /// Height of the last connected block.
        height: u32,
        /// The last coinbase's id.
        last_coinbase: TxId,
    }

    impl Chain {
        /// Starts with a genesis block paying the subsidy to key 0.
        fn new(maturity: u32) -> Chain {
            let params = ConsensusParams {
                coinbase_maturity: maturity,
                halving_interval: 1_000,
                ..ConsensusParams::bitcoin()
            };
            let mut chain = Chain {
                set: UtxoSet::new(),
                params,
                sigs: SigCache::new(),
                keys: keys(),
                height: 0,
                last_coinbase: TxId::ZERO,
            };
            let genesis = chain.block(0, Vec::new(), None);
            chain.last_coinbase = genesis.txs[0].txid();
            chain
                .set
                .apply_block(&genesis, 0, &chain.params, &mut chain.sigs)
                .expect("genesis connects to the empty set");
            chain
        }

        /// A coinbase for `height` paying `value` (default: the subsidy) to key 0.
        fn coinbase(&self, height: u32, value: Option<Amount>) -> Transaction {
            let value = value.unwrap_or(subsidy(height, &self.params));
            Transaction::new_coinbase(height, 0, 0, vec![self.keys[0].pay(value)])
        }

        /// A block at `height` on the set's best block.
        fn block(&self, height: u32, payments: Vec<Transaction>, cb: Option<Amount>) -> Block {
            let mut txs = vec![self.coinbase(height, cb)];
            txs.extend(payments);
            block_on(self.set.best_block(), txs, 1_000 + height)
        }

        /// Connects a block of `payments` whose coinbase claims `cb` (default: the subsidy).
        fn mine_with(
            &mut self,
            payments: Vec<Transaction>,
            cb: Option<Amount>,
        ) -> Result<BlockUndo, RejectReason> {
            let height = self.height + 1;
            let block = self.block(height, payments, cb);
            let undo = self.set.apply_block(&block, height, &self.params, &mut self.sigs)?;
            self.height = height;
            self.last_coinbase = block.txs[0].txid();
            Ok(undo)
        }

        fn mine(&mut self, payments: Vec<Transaction>) -> BlockUndo {
            self.mine_with(payments, None).expect("valid block")
        }

        /// Mines empty blocks until the last coinbase before them is mature; returns its
        /// outpoint (worth the subsidy at its height, paying key 0).
        fn mature_coin(&mut self) -> OutPoint {
            let op = OutPoint { txid: self.last_coinbase, vout: 0 };
            for _ in 0..self.params.coinbase_maturity {
                self.mine(Vec::new());
            }
            op
        }

        /// Asserts that a block of `payments` with coinbase `cb` fails with `reason` and
        /// leaves the set unchanged.
        fn assert_rejects(
            &mut self,
            payments: Vec<Transaction>,
            cb: Option<Amount>,
            reason: RejectReason,
        ) {
            let before = self.set.clone();
            assert_eq!(self.mine_with(payments, cb).map(|_| ()), Err(reason));
            assert!(self.set == before, "a failed connect changed the set");
            assert_eq!(self.set.total_value(), before.total_value());
        }
    }

    /// A payment of `inputs` (signed by `signers`) to `outputs` values paying key 1.
    fn pay(inputs: &[OutPoint], signers: &[&KeyPair], outputs: &[u64]) -> Transaction {
        let mut tx = Transaction {
            version: 1,
            coinbase: None,
            inputs: inputs.iter().map(|&op| input(op)).collect(),
            outputs: outputs.iter().map(|&v| KeyPair::from_seed(&[2; 32]).pay(Amount(v))).collect(),
            lock_time: 0,
        };
        sign_all(&mut tx, signers).expect("one key per input");
        tx
    }

    fn fifty() -> u64 {
        Amount::from_coins(50).0
    }

    #[test]
    fn a_coin_entry_takes_52_bytes_and_round_trips() {
        assert_eq!(std::mem::size_of::<(OutPoint, PackedCoin)>(), 52);
        let mut map = CoinMap::new();
        let coin = |value: u64, owner: u8, height: u32, is_coinbase: bool| Coin {
            out: TxOut { value: Amount(value), pubkey_hash: [owner; 20] },
            height,
            is_coinbase,
        };
        let at = |first: u8, vout: u32| OutPoint { txid: TxId([first; 32]), vout };
        let coins = [
            (at(1, 0), coin(u64::MAX, 7, 0, true)),
            (at(1, 1), coin(1 << 40, 8, u32::MAX, false)),
            (at(2, 0), coin(0, 7, 12, false)),
        ];
        for (k, c) in coins {
            assert_eq!(map.insert(k, c), None);
        }
        assert_eq!(map.owners.len(), 2, "owners are interned");
        assert_eq!(map.len(), 3);
        for (k, c) in coins {
            assert_eq!(map.get(&k), Some(c));
        }
        assert_eq!(map.remove(&at(1, 1)), Some(coins[1].1));
        assert_eq!(map.get(&at(1, 1)), None);
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn final_coinbase_outputs_are_the_same_coins_spent_and_restored_alike() {
        let mut chain = Chain::new(2);
        let mut coinbases = Vec::new();
        let mut txs = Vec::new();
        for _ in 0..40 {
            chain.mine(Vec::new());
            coinbases.push(chain.last_coinbase);
            txs.push(chain.coinbase(chain.height, None));
        }
        assert!(coinbases.iter().zip(&txs).all(|(id, tx)| *id == tx.txid()));
        let plain = chain.set.clone();
        // As the store does for final blocks: most kept as what rebuilds them, one whole
        // (its coinbase given with a second output the set never had, so it is not rebuilt).
        for (&txid, tx) in coinbases.iter().zip(&txs).take(29) {
            chain.set.make_final(txid, tx);
        }
        let mut two = txs[29].clone();
        two.outputs.push(two.outputs[0]);
        chain.set.make_final(coinbases[29], &two);
        assert_eq!(chain.set.final_coins().0, 30);
        assert_eq!((chain.set.coins.coinbases.len(), chain.set.coins.finals.len()), (29, 1));
        let same = |a: &UtxoSet, b: &UtxoSet| {
            assert!(a == b, "equal one way");
            assert!(b == a, "equal the other way");
            assert_eq!((a.len(), a.total_value()), (b.len(), b.total_value()));
            assert_eq!(a.to_sorted_vec(), b.to_sorted_vec());
            for &txid in coinbases.iter().chain([&TxId::ZERO, &TxId([9; 32])]) {
                for vout in 0..2 {
                    let op = OutPoint { txid, vout };
                    assert_eq!(a.get(&op), b.get(&op));
                    assert_eq!(a.contains(&op), b.contains(&op));
                }
            }
        };
        same(&chain.set, &plain);

        // Spending a final coin: the same undo data and the same set; undoing the block
        // brings the coin back.
        let coin = OutPoint { txid: coinbases[0], vout: 0 };
        let key0 = chain.keys[0].clone();
        let tx = pay(&[coin], &[&key0], &[fifty() - 1_000]);
        let height = chain.height + 1;
        let cb = subsidy(height, &chain.params).checked_add(Amount(1_000));
        let block = chain.block(height, vec![tx], cb);
        let mut other = plain.clone();
        let undo =
            chain.set.apply_block(&block, height, &chain.params, &mut chain.sigs).expect("valid");
        let other_undo =
            other.apply_block(&block, height, &chain.params, &mut SigCache::new()).expect("valid");
        assert_eq!(undo, other_undo);
        assert!(!chain.set.contains(&coin));
        assert_eq!(chain.set.final_coins().0, 29);
        same(&chain.set, &other);
        chain.set.undo_block(&block, undo).expect("tip");
        other.undo_block(&block, other_undo).expect("tip");
        same(&chain.set, &other);
        same(&chain.set, &plain);
    }

    #[test]
    fn a_final_coin_takes_at_most_26_bytes_at_a_million() {
        // A million final coinbase outputs, as a million-block run without payments holds.
        let mut map = CoinMap::new();
        let n = 1_000_000u32;
        for i in 0..n {
            let out = TxOut { value: Amount(5_000_000_000), pubkey_hash: [(i % 16) as u8; 20] };
            let tx = Transaction::new_coinbase(i, i % 16, 0, vec![out]);
            let txid = tx.txid();
            let op = OutPoint { txid, vout: 0 };
            let coin = Coin { out, height: i, is_coinbase: true };
            map.insert(op, coin);
            map.make_final(txid, &tx);
            if i % 99_991 == 0 {
                assert_eq!(map.get(&op), Some(coin));
            }
        }
        assert_eq!((map.len(), map.coinbases.len()), (n as usize, n as usize));
        assert!(map.shards.iter().all(|s| s.is_empty()) && map.finals.len() == 0);
        let per_coin = map.coinbases.bytes_held() as f64 / f64::from(n);
        // A 16-byte record and an 8-byte index entry with at most an eighth (and four
        // slots) of room (heights and the values' high halves in a few runs); a hash map of
        // the same coins takes about 110 bytes a coin.
        assert!(per_coin <= 26.0, "{per_coin:.1} bytes per final coin");
    }

    #[test]
    fn valid_payment_connects_and_undoes() {
        let mut chain = Chain::new(2);
        let coin = chain.mature_coin();
        let before = chain.set.clone();
        let key0 = chain.keys[0].clone();
        let tx = pay(&[coin], &[&key0], &[fifty() - 1_000, 500]);
        let txid = tx.txid();
        let fee = Amount(500);
        let height = chain.height + 1;
        let cb = subsidy(height, &chain.params).checked_add(fee);
        let block = chain.block(height, vec![tx], cb);
        let undo =
            chain.set.apply_block(&block, height, &chain.params, &mut chain.sigs).expect("valid");
        assert_eq!(undo.fees(), fee);
        assert_eq!(undo.spent_coins().len(), 1);
        assert_eq!(undo.txids(), &block.txids()[..]);
        assert!(!chain.set.contains(&coin));
        assert_eq!(
            chain.set.get(&OutPoint { txid, vout: 1 }).map(|c| c.out.value),
            Some(Amount(500))
        );
        assert_eq!(chain.set.best_block(), block.header.block_hash());
        // Disconnecting anything but the tip, or with the wrong undo data, is refused.
        let other = chain.block(height, Vec::new(), None);
        assert_eq!(chain.set.disconnect_block(&other, &undo), Err(UndoError::NotTip));
        let mut wrong = undo.clone();
        wrong.spent.clear();
        assert_eq!(chain.set.disconnect_block(&block, &wrong), Err(UndoError::Mismatch));
        chain.set.undo_block(&block, undo).expect("tip");
        assert!(chain.set == before);
    }

    #[test]
    fn bad_signature_is_mandatory_script_verify_flag_failed() {
        let mut chain = Chain::new(2);
        let coin = chain.mature_coin();
        let key0 = chain.keys[0].clone();
        let mut tx = pay(&[coin], &[&key0], &[fifty()]);
        tx.inputs[0].signature[10] ^= 1;
        chain.assert_rejects(vec![tx], None, RejectReason::MandatoryScriptVerifyFlagFailed);
        // A valid signature from a key the output does not pay to fails the same way.
        let key1 = chain.keys[1].clone();
        let tx = pay(&[coin], &[&key1], &[fifty()]);
        chain.assert_rejects(vec![tx], None, RejectReason::MandatoryScriptVerifyFlagFailed);
        // A bad signature among many good ones (in one batch) is found too.
        let mut txs = Vec::new();
        let mut coins = vec![coin];
        for _ in 0..5 {
            coins.push(chain.mature_coin());
        }
        for &c in &coins {
            txs.push(pay(&[c], &[&key0], &[fifty() / 2]));
        }
        txs[3].inputs[0].signature[0] ^= 1;
        chain.assert_rejects(txs, None, RejectReason::MandatoryScriptVerifyFlagFailed);
    }

    #[test]
    fn missing_input() {
        let mut chain = Chain::new(2);
        chain.mature_coin();
        let key0 = chain.keys[0].clone();
        let nowhere = OutPoint { txid: TxId([0x42; 32]), vout: 0 };
        let tx = pay(&[nowhere], &[&key0], &[1]);
        chain.assert_rejects(vec![tx], None, RejectReason::BadTxnsInputsMissingOrSpent);
    }

    #[test]
    fn spent_input() {
        let mut chain = Chain::new(2);
        let coin = chain.mature_coin();
        let key0 = chain.keys[0].clone();
        chain.mine(vec![pay(&[coin], &[&key0], &[fifty()])]);
        let again = pay(&[coin], &[&key0], &[fifty() - 1]);
        chain.assert_rejects(vec![again], None, RejectReason::BadTxnsInputsMissingOrSpent);
    }

    #[test]
    fn same_input_twice_in_one_block() {
        let mut chain = Chain::new(2);
        let coin = chain.mature_coin();
        let other = chain.mature_coin();
        let key0 = chain.keys[0].clone();
        let first = pay(&[coin], &[&key0], &[fifty()]);
        let unrelated = pay(&[other], &[&key0], &[fifty()]);
        let second = pay(&[coin], &[&key0], &[fifty() - 1]);
        chain.assert_rejects(
            vec![first, unrelated, second],
            None,
            RejectReason::BadTxnsSpendsConflictingTx,
        );
    }

    #[test]
    fn same_input_twice_in_one_tx() {
        let mut chain = Chain::new(2);
        let coin = chain.mature_coin();
        let key0 = chain.keys[0].clone();
        let tx = pay(&[coin, coin], &[&key0, &key0], &[fifty()]);
        chain.assert_rejects(vec![tx], None, RejectReason::BadTxnsInputsDuplicate);
        // The sorting path for many inputs finds it too.
        let inputs: Vec<OutPoint> = (0..20)
            .map(|i| OutPoint { txid: TxId([i; 32]), vout: 0 })
            .chain([coin, coin])
            .collect();
        let signers = vec![&key0; inputs.len()];
        let tx = pay(&inputs, &signers, &[1]);
        assert_eq!(check_transaction(&tx), Err(RejectReason::BadTxnsInputsDuplicate));
    }

    #[test]
    fn overspend() {
        let mut chain = Chain::new(2);
        let coin = chain.mature_coin();
        let key0 = chain.keys[0].clone();
        let tx = pay(&[coin], &[&key0], &[fifty() - 10, 11]);
        chain.assert_rejects(vec![tx], None, RejectReason::BadTxnsInBelowOut);
        // Exactly the input value is fine.
        chain.mine(vec![pay(&[coin], &[&key0], &[fifty() - 10, 10])]);
    }

    #[test]
    fn immature_coinbase_spend() {
        let mut chain = Chain::new(3);
        let coin = OutPoint { txid: chain.last_coinbase, vout: 0 };
        let key0 = chain.keys[0].clone();
        chain.mine(Vec::new());
        // Spending at height 2 an output of height 0: 2 confirmations < 3.
        let tx = pay(&[coin], &[&key0], &[fifty()]);
        chain.assert_rejects(vec![tx.clone()], None, RejectReason::BadTxnsPrematureSpendOfCoinbase);
        chain.mine(Vec::new());
        chain.mine(vec![tx]);
        // A payment's outputs may be spent in the very block that creates them.
        let change = chain.mature_coin();
        let a = pay(&[change], &[&key0], &[fifty()]);
        let key1 = KeyPair::from_seed(&[2; 32]);
        let b = pay(&[OutPoint { txid: a.txid(), vout: 0 }], &[&key1], &[fifty()]);
        chain.assert_rejects(
            vec![b.clone(), a.clone()],
            None,
            RejectReason::BadTxnsInputsMissingOrSpent,
        );
        chain.mine(vec![a, b]);
    }

    #[test]
    fn coinbase_paying_too_much() {
        let mut chain = Chain::new(2);
        let coin = chain.mature_coin();
        let key0 = chain.keys[0].clone();
        let height = chain.height + 1;
        let fee = 777;
        let limit = subsidy(height, &chain.params).0 + fee;
        let tx = pay(&[coin], &[&key0], &[fifty() - fee]);
        chain.assert_rejects(vec![tx.clone()], Some(Amount(limit + 1)), RejectReason::BadCbAmount);
        chain.assert_rejects(
            Vec::new(),
            Some(Amount(subsidy(height, &chain.params).0 + 1)),
            RejectReason::BadCbAmount,
        );
        chain.mine_with(vec![tx], Some(Amount(limit))).expect("exactly the limit");
    }

    #[test]
    fn transaction_shape_rules() {
        let mut chain = Chain::new(2);
        let coin = chain.mature_coin();
        let key0 = chain.keys[0].clone();
        let no_inputs = pay(&[], &[], &[1]);
        chain.assert_rejects(vec![no_inputs], None, RejectReason::BadTxnsVinEmpty);
        let no_outputs = pay(&[coin], &[&key0], &[]);
        chain.assert_rejects(vec![no_outputs], None, RejectReason::BadTxnsVoutEmpty);
        let too_large = pay(&[coin], &[&key0], &[MAX_MONEY.0 + 1]);
        chain.assert_rejects(vec![too_large], None, RejectReason::BadTxnsTxoutTotalTooLarge);
        let overflow = pay(&[coin], &[&key0], &[u64::MAX, 2]);
        chain.assert_rejects(vec![overflow], None, RejectReason::BadTxnsTxoutTotalTooLarge);
        let sum_too_large = pay(&[coin], &[&key0], &[MAX_MONEY.0, 1]);
        chain.assert_rejects(vec![sum_too_large], None, RejectReason::BadTxnsTxoutTotalTooLarge);
        chain.assert_rejects(
            Vec::new(),
            Some(Amount(u64::MAX)),
            RejectReason::BadTxnsTxoutTotalTooLarge,
        );
    }

    #[test]
    fn block_shape_rules() {
        let mut chain = Chain::new(2);
        let coin = chain.mature_coin();
        let key0 = chain.keys[0].clone();
        let height = chain.height + 1;
        let (p, before) = (chain.params.clone(), chain.set.clone());

        // No coinbase first, or a second coinbase.
        let tx = pay(&[coin], &[&key0], &[1]);
        let no_cb = block_on(chain.set.best_block(), vec![tx], 0);
        let two_cb = block_on(
            chain.set.best_block(),
            vec![chain.coinbase(height, None), chain.coinbase(height, None)],
            0,
        );
        let empty = block_on(chain.set.best_block(), Vec::new(), 0);
        for block in [no_cb, two_cb, empty] {
            assert_eq!(
                chain.set.apply_block(&block, height, &p, &mut chain.sigs),
                Err(RejectReason::BadCbMissing)
            );
        }
        // A coinbase with inputs.
        let mut cb = chain.coinbase(height, None);
        cb.inputs.push(input(coin));
        let block = block_on(chain.set.best_block(), vec![cb], 0);
        assert_eq!(
            chain.set.apply_block(&block, height, &p, &mut chain.sigs),
            Err(RejectReason::BadCbLength)
        );
        // Not building on the best block.
        let block = block_on(BlockHash([1; 32]), vec![chain.coinbase(height, None)], 0);
        assert_eq!(
            chain.set.apply_block(&block, height, &p, &mut chain.sigs),
            Err(RejectReason::BadPrevBlk)
        );
        // Wrong number of ids.
        let block = chain.block(height, Vec::new(), None);
        assert_eq!(
            chain.set.connect_block(&block, Vec::new(), height, &p, &mut chain.sigs),
            Err(RejectReason::BadTxnMrklRoot)
        );
        assert!(chain.set == before);

        // Recreating an unspent output (the same coinbase at the same height) is BIP 30.
        let block = chain.block(height, Vec::new(), None);
        chain.mine(Vec::new());
        chain.set.best_block = block.header.prev_blockhash;
        let before = chain.set.clone();
        assert_eq!(
            chain.set.apply_block(&block, height, &p, &mut chain.sigs),
            Err(RejectReason::BadTxnsBip30)
        );
        assert!(chain.set == before);
    }

    #[test]
    fn failure_after_earlier_transactions_rolls_them_back() {
        let mut chain = Chain::new(2);
        let a = chain.mature_coin();
        let b = chain.mature_coin();
        let key0 = chain.keys[0].clone();
        let key1 = KeyPair::from_seed(&[2; 32]);
        let first = pay(&[a], &[&key0], &[fifty()]);
        let child = pay(&[OutPoint { txid: first.txid(), vout: 0 }], &[&key1], &[fifty()]);
        let overspend = pay(&[b], &[&key0], &[fifty() + 1]);
        chain.assert_rejects(vec![first, child, overspend], None, RejectReason::BadTxnsInBelowOut);
    }

    #[test]
    fn mempool_check_matches_block_rules_and_warms_the_cache() {
        let mut chain = Chain::new(2);
        let coin = chain.mature_coin();
        let key0 = chain.keys[0].clone();
        let spend_height = chain.height + 1;
        let tx = pay(&[coin], &[&key0], &[fifty() - 300]);
        let txid = tx.txid();
        let p = chain.params.clone();
        assert_eq!(
            chain.set.check_tx_inputs(&tx, &txid, spend_height, &p, &mut chain.sigs),
            Ok(Amount(300))
        );
        let cb = chain.coinbase(1, None);
        assert_eq!(
            chain.set.check_tx_inputs(&cb, &cb.txid(), spend_height, &p, &mut chain.sigs),
            Err(RejectReason::Coinbase)
        );
        let mut bad = tx.clone();
        bad.inputs[0].signature[1] ^= 1;
        assert_eq!(
            chain.set.check_tx_inputs(&bad, &bad.txid(), spend_height, &p, &mut chain.sigs),
            Err(RejectReason::MandatoryScriptVerifyFlagFailed)
        );
        let verified = chain.sigs.verifications();
        chain.mine_with(vec![tx], Some(Amount(subsidy(spend_height, &p).0 + 300))).expect("valid");
        assert_eq!(chain.sigs.verifications(), verified, "verified in the mempool");
    }

    #[test]
    fn second_apply_verifies_no_signature() {
        let mut chain = Chain::new(2);
        let coins: Vec<OutPoint> = (0..8).map(|_| chain.mature_coin()).collect();
        let key0 = chain.keys[0].clone();
        let txs: Vec<Transaction> =
            coins.chunks(2).map(|pair| pay(pair, &[&key0, &key0], &[fifty(), fifty()])).collect();
        let height = chain.height + 1;
        let block = chain.block(height, txs, None);
        let p = chain.params.clone();
        let before = chain.sigs.verifications();
        let undo = chain.set.apply_block(&block, height, &p, &mut chain.sigs).expect("valid");
        assert_eq!(chain.sigs.verifications() - before, 8);
        let after_first = chain.set.clone();
        chain.set.undo_block(&block, undo).expect("tip");
        let again =
            chain.set.apply_block(&block, height, &p, &mut chain.sigs).expect("still valid");
        assert_eq!(chain.sigs.verifications() - before, 8, "all cached");
        assert!(chain.sigs.hits() >= 8);
        assert!(chain.set == after_first);
        // Reconnecting from undo data gives the same set too.
        chain.set.undo_block(&block, again.clone()).expect("tip");
        chain.set.reconnect_block(&block, &again, height).expect("connects");
        assert!(chain.set == after_first);
    }

    /// Builds a chain of `plan.len()` blocks of random payments (claiming all fees) and
    /// returns the chain with the blocks, their heights and undo data, checking after each
    /// block that apply-then-undo restores the set exactly and that the total value equals
    /// the subsidies claimed.
    fn grow(plan: &[(u64, usize)], maturity: u32) -> Chain {
        let mut chain = Chain::new(maturity);
        // Halve often so the subsidy rule is exercised across eras.
        chain.params.halving_interval = 4;
        let mut claimed = subsidy(0, &chain.params).0;
        for &(seed, max_txs) in plan {
            let height = chain.height + 1;
            let (payments, fees) =
                random_payments(&chain.set, height, &chain.params, &chain.keys, seed, max_txs);
            let cb = subsidy(height, &chain.params).0 + fees.0;
            let block = chain.block(height, payments, Some(Amount(cb)));
            let before = chain.set.clone();
            let p = chain.params.clone();
            let undo = chain
                .set
                .apply_block(&block, height, &p, &mut chain.sigs)
                .expect("random payments are valid");
            assert_eq!(undo.fees(), fees);
            let after = chain.set.clone();
            chain.set.undo_block(&block, undo).expect("tip");
            assert!(chain.set == before, "undo restores the set");
            assert_eq!(chain.set.to_sorted_vec(), before.to_sorted_vec());
            chain.set.apply_block(&block, height, &p, &mut chain.sigs).expect("valid again");
            assert!(chain.set == after);
            chain.height = height;
            claimed += subsidy(height, &p).0;
            assert_eq!(chain.set.total_value(), Amount(claimed));
            let recount: u64 = chain.set.to_sorted_vec().iter().map(|(_, c)| c.out.value.0).sum();
            assert_eq!(recount, claimed);
        }
        chain
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn apply_then_undo_restores_exactly_and_value_is_conserved(
            plan in prop::collection::vec((any::<u64>(), 0usize..6), 1..14),
            maturity in 0u32..3,
        ) {
            let chain = grow(&plan, maturity);
            prop_assert_eq!(chain.height as usize, plan.len());
        }
    }
}
