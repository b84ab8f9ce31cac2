//! Transactions, their canonical encoding, and Bitcoin's CompactSize integers.
//!
//! Payments are ed25519-signed UTXO transactions: inputs spend outpoints with a public key and
//! signature, outputs pay to a 20-byte public-key hash (see the keys module for signing and
//! the utxo module for the rules). Blocks may also carry filler standing for payload that is
//! not simulated transaction by transaction (see the block module). The byte encoding is fixed
//! and documented so that transaction ids, signature hashes, block sizes and message sizes are
//! the same everywhere.
//!
//! Ids and signature hashes are computed by streaming the encoding into SHA-256 rather than
//! building a byte vector first, because they are computed for every transaction of every
//! block and allocation would dominate their cost.

use sha2::{Digest, Sha256};

use crate::chain::hash::TxId;

/// Base units per coin (Bitcoin's `COIN`).
pub const UNITS_PER_COIN: u64 = 100_000_000;

/// The largest amount any output or transaction total may carry (Bitcoin's `MAX_MONEY`,
/// 21 million coins); larger totals are rejected with `bad-txns-txouttotal-toolarge`.
pub const MAX_MONEY: Amount = Amount(21_000_000 * UNITS_PER_COIN);

/// An amount of currency in base units (1 coin = 100 000 000 units).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(pub u64);

impl Amount {
    /// Nothing.
    pub const ZERO: Amount = Amount(0);

    /// Returns `coins` whole coins, saturating at `u64::MAX` units.
    pub fn from_coins(coins: u64) -> Amount {
        Amount(coins.saturating_mul(UNITS_PER_COIN))
    }

    /// Adds, returning `None` on overflow.
    pub fn checked_add(self, rhs: Amount) -> Option<Amount> {
        self.0.checked_add(rhs.0).map(Amount)
    }

    /// Subtracts, returning `None` if `rhs` is larger.
    pub fn checked_sub(self, rhs: Amount) -> Option<Amount> {
        self.0.checked_sub(rhs.0).map(Amount)
    }

    /// Returns true if the amount is at most [`MAX_MONEY`] (Core's `MoneyRange`).
    pub fn is_money_range(self) -> bool {
        self <= MAX_MONEY
    }
}

/// Where the encoder writes: a byte vector (serialization) or a running hash (ids and
/// signature hashes without allocating).
trait ByteSink {
    fn put(&mut self, bytes: &[u8]);
}

impl ByteSink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl ByteSink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// A reference to one output of an earlier transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutPoint {
    /// The transaction that created the output.
    pub txid: TxId,
    /// The index of the output within that transaction.
    pub vout: u32,
}

/// A spend of an earlier output, authorised by an ed25519 key and signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TxIn {
    /// The output being spent.
    pub prevout: OutPoint,
    /// The ed25519 public key whose hash the spent output pays to.
    pub pubkey: [u8; 32],
    /// The ed25519 signature over the spending transaction.
    pub signature: [u8; 64],
}

/// A new output paying `value` to the holder of the key hashing to `pubkey_hash`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TxOut {
    /// The amount paid.
    pub value: Amount,
    /// A 20-byte hash of the recipient's public key.
    pub pubkey_hash: [u8; 20],
}

/// What a coinbase carries instead of inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CoinbaseData {
    /// The height of the block this coinbase belongs to (BIP 34), which makes coinbase ids
    /// unique across blocks.
    pub height: u32,
    /// Free bits a miner changes to get a fresh Merkle root when the nonce space runs out.
    pub extra_nonce: u64,
    /// The simulated miner's id.
    pub miner: u32,
}

/// Marker byte that precedes the coinbase data in the encoding.
const COINBASE_MARKER: u8 = 0x01;
/// Marker byte of a transaction without coinbase data.
const REGULAR_MARKER: u8 = 0x00;
/// Encoded size of coinbase data after its marker: height, extra nonce, miner.
const COINBASE_DATA_BYTES: usize = 4 + 8 + 4;
/// Encoded size of one input: outpoint (32 + 4), public key, signature.
const TXIN_BYTES: usize = 32 + 4 + 32 + 64;
/// Encoded size of one output: value, public-key hash.
const TXOUT_BYTES: usize = 8 + 20;

/// A transaction: a coinbase (new coins for the miner) or a payment spending earlier outputs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Transaction {
    /// Format version; 1 for everything built today.
    pub version: u32,
    /// Present exactly for a coinbase transaction.
    pub coinbase: Option<CoinbaseData>,
    /// Outputs spent (empty for a coinbase).
    pub inputs: Vec<TxIn>,
    /// Outputs created.
    pub outputs: Vec<TxOut>,
    /// Earliest height or time at which the transaction may be mined (0 = any).
    pub lock_time: u32,
}

impl Transaction {
    /// Builds the coinbase for a block at `height` mined by `miner`.
    pub fn new_coinbase(
        height: u32,
        miner: u32,
        extra_nonce: u64,
        outputs: Vec<TxOut>,
    ) -> Transaction {
        Transaction {
            version: 1,
            coinbase: Some(CoinbaseData { height, extra_nonce, miner }),
            inputs: Vec::new(),
            outputs,
            lock_time: 0,
        }
    }

    /// Returns true if this is a coinbase transaction.
    pub fn is_coinbase(&self) -> bool {
        self.coinbase.is_some()
    }

    /// Appends the canonical encoding to `out`. Layout (all integers little-endian):
    ///
    /// | field | bytes |
    /// |---|---|
    /// | version | 4 (`u32`) |
    /// | marker | 1: `0x01` coinbase, `0x00` otherwise |
    /// | coinbase data (if marker is `0x01`) | height 4, extra nonce 8, miner 4 |
    /// | input count | CompactSize |
    /// | each input | prevout txid 32 (internal order), vout 4, pubkey 32, signature 64 |
    /// | output count | CompactSize |
    /// | each output | value 8 (`u64` units), pubkey hash 20 |
    /// | lock time | 4 (`u32`) |
    pub fn serialize_into(&self, out: &mut Vec<u8>) {
        out.reserve(self.size_bytes());
        self.encode(true, out);
    }

    /// Writes the canonical encoding to `sink`; with `with_signatures` false every input's
    /// signature is written as 64 zero bytes (the signature-hash preimage).
    fn encode<S: ByteSink>(&self, with_signatures: bool, sink: &mut S) {
        const ZERO_SIGNATURE: [u8; 64] = [0u8; 64];
        sink.put(&self.version.to_le_bytes());
        match &self.coinbase {
            Some(cb) => {
                let mut data = [0u8; 1 + COINBASE_DATA_BYTES];
                data[0] = COINBASE_MARKER;
                data[1..5].copy_from_slice(&cb.height.to_le_bytes());
                data[5..13].copy_from_slice(&cb.extra_nonce.to_le_bytes());
                data[13..17].copy_from_slice(&cb.miner.to_le_bytes());
                sink.put(&data);
            }
            None => sink.put(&[REGULAR_MARKER]),
        }
        put_compact_size(self.inputs.len() as u64, sink);
        for input in &self.inputs {
            let mut head = [0u8; 32 + 4 + 32];
            head[..32].copy_from_slice(&input.prevout.txid.0);
            head[32..36].copy_from_slice(&input.prevout.vout.to_le_bytes());
            head[36..].copy_from_slice(&input.pubkey);
            sink.put(&head);
            sink.put(if with_signatures { &input.signature } else { &ZERO_SIGNATURE });
        }
        put_compact_size(self.outputs.len() as u64, sink);
        for output in &self.outputs {
            let mut bytes = [0u8; TXOUT_BYTES];
            bytes[..8].copy_from_slice(&output.value.0.to_le_bytes());
            bytes[8..].copy_from_slice(&output.pubkey_hash);
            sink.put(&bytes);
        }
        sink.put(&self.lock_time.to_le_bytes());
    }

    /// Returns SHA-256d of the encoding, streamed into the hash without allocating.
    fn hash_encoding(&self, with_signatures: bool) -> [u8; 32] {
        let mut hasher = Sha256::new();
        self.encode(with_signatures, &mut hasher);
        Sha256::digest(hasher.finalize()).into()
    }

    /// Returns the canonical encoding as a new vector.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size_bytes());
        self.serialize_into(&mut out);
        out
    }

    /// Returns the transaction id: SHA-256d of the canonical encoding.
    ///
    /// The id commits to the signatures too (there is no segregated witness), so a
    /// (txid, input) pair names exact signature bytes: that is what makes the signature cache
    /// sound.
    pub fn txid(&self) -> TxId {
        TxId(self.hash_encoding(true))
    }

    /// Returns the signature hash every input signs: SHA-256d of the canonical encoding with
    /// every input's signature replaced by 64 zero bytes.
    ///
    /// It commits to everything except the signatures: version, coinbase data, every input's
    /// outpoint and public key, every output, and the lock time. So a signature cannot be
    /// moved to a changed transaction, and signing one input does not invalidate another's
    /// signature. All inputs sign the same message (like `SIGHASH_ALL`, but the input index is
    /// not committed); since each input names its own key, this allows no theft, only reuse of
    /// one key's signature by two inputs spending outputs of that same key. The spent
    /// outputs' values are not committed either (as in legacy Bitcoin signatures); the
    /// outpoints fix them.
    pub fn sighash(&self) -> [u8; 32] {
        self.hash_encoding(false)
    }

    /// Returns the length of the canonical encoding, computed without encoding.
    pub fn size_bytes(&self) -> usize {
        let coinbase = if self.coinbase.is_some() { COINBASE_DATA_BYTES } else { 0 };
        4 + 1
            + coinbase
            + compact_size_len(self.inputs.len() as u64)
            + self.inputs.len() * TXIN_BYTES
            + compact_size_len(self.outputs.len() as u64)
            + self.outputs.len() * TXOUT_BYTES
            + 4
    }
}

/// Appends `n` as a Bitcoin CompactSize integer (1, 3, 5 or 9 bytes).
pub fn write_compact_size(n: u64, out: &mut Vec<u8>) {
    if n < 0xfd {
        out.push(n as u8);
    } else if n <= 0xffff {
        out.push(0xfd);
        out.extend_from_slice(&(n as u16).to_le_bytes());
    } else if n <= 0xffff_ffff {
        out.push(0xfe);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    } else {
        out.push(0xff);
        out.extend_from_slice(&n.to_le_bytes());
    }
}

/// Writes `n` as a CompactSize integer to `sink`.
fn put_compact_size<S: ByteSink>(n: u64, sink: &mut S) {
    let mut buf = [0u8; 9];
    let len = compact_size_len(n);
    match len {
        1 => buf[0] = n as u8,
        3 => {
            buf[0] = 0xfd;
            buf[1..3].copy_from_slice(&(n as u16).to_le_bytes());
        }
        5 => {
            buf[0] = 0xfe;
            buf[1..5].copy_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            buf[0] = 0xff;
            buf[1..9].copy_from_slice(&n.to_le_bytes());
        }
    }
    sink.put(&buf[..len]);
}

/// Returns how many bytes [`write_compact_size`] writes for `n`.
pub fn compact_size_len(n: u64) -> usize {
    if n < 0xfd {
        1
    } else if n <= 0xffff {
        3
    } else if n <= 0xffff_ffff {
        5
    } else {
        9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment() -> Transaction {
        Transaction {
            version: 1,
            coinbase: None,
            inputs: vec![TxIn {
                prevout: OutPoint { txid: TxId([7u8; 32]), vout: 3 },
                pubkey: [1u8; 32],
                signature: [2u8; 64],
            }],
            outputs: vec![
                TxOut { value: Amount(5), pubkey_hash: [3u8; 20] },
                TxOut { value: Amount(6), pubkey_hash: [4u8; 20] },
            ],
            lock_time: 9,
        }
    }

    #[test]
    fn compact_size_boundaries() {
        for (n, expected) in [
            (0u64, vec![0x00]),
            (0xfc, vec![0xfc]),
            (0xfd, vec![0xfd, 0xfd, 0x00]),
            (0xffff, vec![0xfd, 0xff, 0xff]),
            (0x1_0000, vec![0xfe, 0x00, 0x00, 0x01, 0x00]),
            (0xffff_ffff, vec![0xfe, 0xff, 0xff, 0xff, 0xff]),
            (0x1_0000_0000, vec![0xff, 0, 0, 0, 0, 1, 0, 0, 0]),
        ] {
            let mut out = Vec::new();
            write_compact_size(n, &mut out);
            assert_eq!(out, expected, "n = {n:#x}");
            assert_eq!(compact_size_len(n), expected.len());
        }
    }

    #[test]
    fn coinbase_encoding_layout() {
        let cb = Transaction::new_coinbase(
            0x0102_0304,
            7,
            0x1122_3344_5566_7788,
            vec![TxOut { value: Amount::from_coins(50), pubkey_hash: [0xaa; 20] }],
        );
        assert!(cb.is_coinbase());
        let bytes = cb.serialize();
        assert_eq!(bytes.len(), cb.size_bytes());
        assert_eq!(&bytes[..4], &[1, 0, 0, 0]);
        assert_eq!(bytes[4], COINBASE_MARKER);
        assert_eq!(&bytes[5..9], &[4, 3, 2, 1]);
        assert_eq!(&bytes[9..17], &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(&bytes[17..21], &7u32.to_le_bytes());
        assert_eq!(bytes[21], 0); // no inputs
        assert_eq!(bytes[22], 1); // one output
        assert_eq!(&bytes[23..31], &5_000_000_000u64.to_le_bytes());
        assert_eq!(&bytes[31..51], &[0xaa; 20]);
        assert_eq!(&bytes[51..], &[0, 0, 0, 0]);
        assert_eq!(cb.txid(), TxId(crate::chain::hash::sha256d(&bytes)));
    }

    #[test]
    fn payment_size_matches_encoding_and_ids_differ() {
        let tx = payment();
        assert!(!tx.is_coinbase());
        assert_eq!(tx.serialize().len(), tx.size_bytes());
        assert_eq!(tx.size_bytes(), 4 + 1 + 1 + TXIN_BYTES + 1 + 2 * TXOUT_BYTES + 4);
        let mut other = tx.clone();
        other.lock_time += 1;
        assert_ne!(tx.txid(), other.txid());
        let a = Transaction::new_coinbase(1, 0, 0, Vec::new());
        let b = Transaction::new_coinbase(2, 0, 0, Vec::new());
        assert_ne!(a.txid(), b.txid());
    }

    #[test]
    fn streamed_hashes_match_the_serialization() {
        use crate::chain::hash::sha256d;
        let tx = payment();
        assert_eq!(tx.txid(), TxId(sha256d(&tx.serialize())));
        let mut zeroed = tx.clone();
        zeroed.inputs[0].signature = [0u8; 64];
        assert_eq!(tx.sighash(), sha256d(&zeroed.serialize()));
        // The signature hash ignores signatures but not public keys.
        let mut resigned = tx.clone();
        resigned.inputs[0].signature = [9u8; 64];
        assert_eq!(resigned.sighash(), tx.sighash());
        assert_ne!(resigned.txid(), tx.txid());
        let mut rekeyed = tx.clone();
        rekeyed.inputs[0].pubkey = [9u8; 32];
        assert_ne!(rekeyed.sighash(), tx.sighash());
        // Large counts use the longer CompactSize forms in the stream too.
        let mut big = tx.clone();
        big.outputs = vec![TxOut::default(); 0x1_0000];
        assert_eq!(big.txid(), TxId(sha256d(&big.serialize())));
        big.outputs.truncate(0xfd);
        assert_eq!(big.txid(), TxId(sha256d(&big.serialize())));
    }

    #[test]
    fn amount_arithmetic() {
        assert!(MAX_MONEY.is_money_range());
        assert!(!Amount(MAX_MONEY.0 + 1).is_money_range());
        assert_eq!(Amount::from_coins(1), Amount(100_000_000));
        assert_eq!(Amount(u64::MAX).checked_add(Amount(1)), None);
        assert_eq!(Amount(1).checked_sub(Amount(2)), None);
        assert_eq!(Amount(3).checked_sub(Amount(2)), Some(Amount(1)));
        assert_eq!(Amount::from_coins(u64::MAX), Amount(u64::MAX));
    }
}
