//! The unspent outputs of final blocks' coinbases, kept as what rebuilds them.
//!
//! A run without payments never spends a coinbase, so its UTXO set ends with one coin per
//! block: a million coins in a million-block run, each a 36-byte outpoint and a 16-byte coin
//! in a hash map (about 110 bytes a coin with the map's room). A miner's coinbase is a
//! function of a few numbers (height, miner, extra nonce, value and owner: see
//! [`Transaction::new_coinbase`]), so for the coinbase of a final block (which can no longer
//! be disconnected) [`FinalCoinbases`] keeps those numbers, 16 bytes (miner, owner, extra
//! nonce and the value's low half; the heights, one more per record as a rule, and the
//! values' high halves, which change at halvings, are kept as runs), and an index from the
//! first 4 bytes of its transaction id to them, 8 bytes (see [`SortedShards`]; the shard
//! takes 12 more bits of the id, so two of a million ids share a shard and prefix about once
//! in thirty runs). A lookup that finds a prefix rebuilds the coinbase and hashes it, and
//! answers only if the whole id matches: the same coins as before, found and spent exactly
//! as before. A coinbase of another shape (several outputs, a lock time, an extra nonce of
//! more than 32 bits), or whose prefix is taken, is not kept here.

use crate::chain::chunked::ChunkedVec;
use crate::chain::hash::TxId;
use crate::chain::sorted_shards::SortedShards;
use crate::chain::tx::{Amount, OutPoint, Transaction, TxOut};

/// What rebuilds one final coinbase and its coin with its height and the high half of its
/// value (16 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Record {
    miner: u32,
    /// The owner's index in the UTXO set's owner table, [`Record::SPENT`] once spent.
    owner: u32,
    extra_nonce: u32,
    /// The value's low 32 bits.
    value_low: u32,
}

/// A `u32` per record, kept as runs in which each value is the previous one plus `STEP`
/// (heights of final blocks, one after another: step 1; high halves of values: step 0).
#[derive(Clone, Debug, Default)]
struct Runs<const STEP: u32> {
    /// The first record of each run and its value.
    starts: Vec<(u32, u32)>,
    /// Records so far.
    len: u32,
    /// The last record's value.
    last: u32,
}

impl<const STEP: u32> Runs<STEP> {
    /// Appends the next record's value.
    fn push(&mut self, value: u32) {
        if self.len == 0 || Some(value) != self.last.checked_add(STEP) {
            self.starts.push((self.len, value));
        }
        self.last = value;
        self.len += 1;
    }

    /// The value of record `at` (which must have been pushed).
    fn get(&self, at: u32) -> u32 {
        let i = self.starts.partition_point(|&(start, _)| start <= at) - 1;
        let (start, value) = self.starts[i];
        value + STEP * (at - start)
    }

    /// Bytes held, for the tests that bound memory.
    #[cfg(test)]
    fn bytes_held(&self) -> usize {
        self.starts.capacity() * std::mem::size_of::<(u32, u32)>()
    }
}

impl Record {
    /// Marks a spent record (its index entry is gone too).
    const SPENT: u32 = u32::MAX;
}

/// The first 4 bytes of a transaction id (an index entry then takes 8 bytes).
type Prefix = u32;

fn prefix(txid: &TxId) -> Prefix {
    u32::from_le_bytes(txid.0[..4].try_into().expect("4 bytes"))
}

fn shard(txid: &TxId) -> usize {
    SortedShards::<Prefix, u32>::shard_of(txid.0[8], txid.0[9])
}

/// An unspent output of a final coinbase, as the UTXO set stores coins: value, owner index
/// and height (the coinbase flag is the caller's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FinalCoin {
    pub(crate) value: u64,
    pub(crate) owner: u32,
    pub(crate) height: u32,
}

/// Final coinbases' unspent outputs, rebuilt on lookup (see the module docs).
#[derive(Clone, Debug, Default)]
pub(crate) struct FinalCoinbases {
    /// Record index by transaction id prefix.
    index: SortedShards<Prefix, u32>,
    records: ChunkedVec<Record>,
    /// Each record's height.
    heights: Runs<1>,
    /// Each record's value's high 32 bits.
    values_high: Runs<0>,
    unspent: usize,
}

impl FinalCoinbases {
    /// The coinbase record `at` stands for.
    fn rebuild(&self, at: u32, owners: &[[u8; 20]]) -> Transaction {
        let record = &self.records[at as usize];
        let coin = self.coin(at);
        let out = TxOut { value: Amount(coin.value), pubkey_hash: owners[record.owner as usize] };
        let extra_nonce = u64::from(record.extra_nonce);
        Transaction::new_coinbase(coin.height, record.miner, extra_nonce, vec![out])
    }

    /// Keeps output 0 of `coinbase` (whose id is `txid`, and whose coin is `coin`, owned by
    /// `owners[coin.owner]`), if the coinbase has the shape a record rebuilds exactly and its
    /// id's prefix is free; returns whether it did.
    pub(crate) fn add(&mut self, txid: TxId, coinbase: &Transaction, coin: FinalCoin) -> bool {
        let Some(data) = coinbase.coinbase else { return false };
        let [out] = coinbase.outputs.as_slice() else { return false };
        let Ok(extra_nonce) = u32::try_from(data.extra_nonce) else { return false };
        let rebuilds = coinbase.version == 1
            && coinbase.lock_time == 0
            && coinbase.inputs.is_empty()
            && data.height == coin.height
            && out.value.0 == coin.value
            && coin.owner != Record::SPENT;
        let (shard, prefix) = (shard(&txid), prefix(&txid));
        if !rebuilds || self.index.get(shard, &prefix).is_some() {
            return false;
        }
        let at = u32::try_from(self.records.len()).expect("fewer than 2^32 final coinbases");
        self.records.push(Record {
            miner: data.miner,
            owner: coin.owner,
            extra_nonce,
            value_low: coin.value as u32,
        });
        self.heights.push(data.height);
        self.values_high.push((coin.value >> 32) as u32);
        self.index.insert(shard, prefix, at);
        self.unspent += 1;
        true
    }

    /// The record of the unspent coin at `outpoint`, if it is kept here.
    fn find(&self, outpoint: &OutPoint, owners: &[[u8; 20]]) -> Option<u32> {
        if outpoint.vout != 0 {
            return None;
        }
        let &at = self.index.get(shard(&outpoint.txid), &prefix(&outpoint.txid))?;
        (self.rebuild(at, owners).txid() == outpoint.txid).then_some(at)
    }

    /// The coin of record `at`.
    fn coin(&self, at: u32) -> FinalCoin {
        let record = &self.records[at as usize];
        let value = u64::from(record.value_low) | (u64::from(self.values_high.get(at)) << 32);
        FinalCoin { value, owner: record.owner, height: self.heights.get(at) }
    }

    /// The unspent coin at `outpoint`, if it is kept here.
    pub(crate) fn get(&self, outpoint: &OutPoint, owners: &[[u8; 20]]) -> Option<FinalCoin> {
        self.find(outpoint, owners).map(|at| self.coin(at))
    }

    /// Spends the coin at `outpoint`, if it is kept here, and returns it.
    pub(crate) fn remove(&mut self, outpoint: &OutPoint, owners: &[[u8; 20]]) -> Option<FinalCoin> {
        let at = self.find(outpoint, owners)?;
        self.index.remove(shard(&outpoint.txid), &prefix(&outpoint.txid));
        let coin = self.coin(at);
        self.records[at as usize].owner = Record::SPENT;
        self.unspent -= 1;
        Some(coin)
    }

    /// Every unspent coin kept here, with its outpoint, in record order (each id rebuilt:
    /// for listing the whole set only).
    pub(crate) fn iter<'a>(
        &'a self,
        owners: &'a [[u8; 20]],
    ) -> impl Iterator<Item = (OutPoint, FinalCoin)> + 'a {
        let unspent = self.records.iter().zip(0u32..).filter(|(r, _)| r.owner != Record::SPENT);
        unspent.map(move |(_, at)| {
            (OutPoint { txid: self.rebuild(at, owners).txid(), vout: 0 }, self.coin(at))
        })
    }

    /// Number of unspent coins kept here.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.unspent
    }

    /// Bytes held, for the tests that bound memory.
    #[cfg(test)]
    pub(crate) fn bytes_held(&self) -> usize {
        self.index.bytes_held()
            + self.records.capacity() * std::mem::size_of::<Record>()
            + self.heights.bytes_held()
            + self.values_high.bytes_held()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coinbase(height: u32, miner: u32, extra_nonce: u64, value: u64) -> Transaction {
        let out = TxOut { value: Amount(value), pubkey_hash: [miner as u8; 20] };
        Transaction::new_coinbase(height, miner, extra_nonce, vec![out])
    }

    #[test]
    fn a_record_takes_16_bytes() {
        assert_eq!(std::mem::size_of::<Record>(), 16);
    }

    #[test]
    fn runs_answer_every_value_pushed() {
        let values: Vec<u32> = vec![7, 8, 9, 10, 12, 13, 13, 2, 3, u32::MAX, 0, 1];
        let mut runs = Runs::<1>::default();
        values.iter().for_each(|&v| runs.push(v));
        assert_eq!((0..values.len() as u32).map(|at| runs.get(at)).collect::<Vec<_>>(), values);
        assert_eq!(runs.starts.len(), 6, "{:?}", runs.starts);
        let highs = [1u32, 1, 1, 0, 0, 1];
        let mut flat = Runs::<0>::default();
        highs.iter().for_each(|&v| flat.push(v));
        assert_eq!((0..6).map(|at| flat.get(at)).collect::<Vec<_>>(), highs);
        assert_eq!(flat.starts, vec![(0, 1), (3, 0), (5, 1)]);
    }

    #[test]
    fn keeps_only_what_it_rebuilds_and_finds_it_by_whole_id() {
        let owners: Vec<[u8; 20]> = (0..4u8).map(|i| [i; 20]).collect();
        let mut kept = FinalCoinbases::default();
        let cb = coinbase(7, 2, (1 << 32) - 1, 5_000_000_000);
        let txid = cb.txid();
        let coin = FinalCoin { value: 5_000_000_000, owner: 2, height: 7 };
        assert!(kept.add(txid, &cb, coin));
        let at = OutPoint { txid, vout: 0 };
        assert_eq!(kept.get(&at, &owners), Some(coin));
        assert_eq!(kept.get(&OutPoint { txid, vout: 1 }, &owners), None);
        // Same prefix (and shard), another id: not found, and not kept a second time.
        let mut twin = txid;
        twin.0[31] ^= 1;
        assert_eq!(kept.get(&OutPoint { txid: twin, vout: 0 }, &owners), None);
        assert!(!kept.add(twin, &cb, coin));
        // Shapes a record cannot rebuild.
        let mut locked = coinbase(8, 1, 0, 50);
        locked.lock_time = 3;
        let two = Transaction::new_coinbase(9, 1, 0, vec![cb.outputs[0], cb.outputs[0]]);
        let coin8 = FinalCoin { value: 50, owner: 1, height: 8 };
        assert!(!kept.add(locked.txid(), &locked, coin8));
        assert!(!kept.add(two.txid(), &two, coin8));
        let wide_nonce = coinbase(8, 1, 1 << 32, 50);
        assert!(!kept.add(wide_nonce.txid(), &wide_nonce, coin8));
        assert!(!kept.add(coinbase(8, 1, 0, 50).txid(), &coinbase(8, 1, 0, 50), coin));
        assert_eq!(kept.len(), 1);
        assert_eq!(kept.iter(&owners).collect::<Vec<_>>(), vec![(at, coin)]);
        assert_eq!(kept.remove(&at, &owners), Some(coin));
        assert_eq!(
            (kept.get(&at, &owners), kept.remove(&at, &owners), kept.len()),
            (None, None, 0)
        );
        assert_eq!(kept.iter(&owners).count(), 0);
    }
}
