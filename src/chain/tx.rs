//! Transactions, their canonical encoding, and Bitcoin's CompactSize integers.
//!
//! Today blocks carry only a coinbase transaction (the rest of a block's payload is modelled
//! as filler, see the block module), but the types are already shaped for ed25519-signed UTXO
//! payments: inputs spend outpoints with a public key and signature, outputs pay to a 20-byte
//! public-key hash. The byte encoding is fixed and documented so that transaction ids, block
//! sizes and message sizes are the same everywhere.

use crate::chain::hash::{TxId, sha256d};

/// Base units per coin (Bitcoin's `COIN`).
pub const UNITS_PER_COIN: u64 = 100_000_000;

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
        out.extend_from_slice(&self.version.to_le_bytes());
        match &self.coinbase {
            Some(cb) => {
                out.push(COINBASE_MARKER);
                out.extend_from_slice(&cb.height.to_le_bytes());
                out.extend_from_slice(&cb.extra_nonce.to_le_bytes());
                out.extend_from_slice(&cb.miner.to_le_bytes());
            }
            None => out.push(REGULAR_MARKER),
        }
        write_compact_size(self.inputs.len() as u64, out);
        for input in &self.inputs {
            out.extend_from_slice(&input.prevout.txid.0);
            out.extend_from_slice(&input.prevout.vout.to_le_bytes());
            out.extend_from_slice(&input.pubkey);
            out.extend_from_slice(&input.signature);
        }
        write_compact_size(self.outputs.len() as u64, out);
        for output in &self.outputs {
            out.extend_from_slice(&output.value.0.to_le_bytes());
            out.extend_from_slice(&output.pubkey_hash);
        }
        out.extend_from_slice(&self.lock_time.to_le_bytes());
    }

    /// Returns the canonical encoding as a new vector.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size_bytes());
        self.serialize_into(&mut out);
        out
    }

    /// Returns the transaction id: SHA-256d of the canonical encoding.
    pub fn txid(&self) -> TxId {
        TxId(sha256d(&self.serialize()))
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
        assert_eq!(cb.txid(), TxId(sha256d(&bytes)));
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
    fn amount_arithmetic() {
        assert_eq!(Amount::from_coins(1), Amount(100_000_000));
        assert_eq!(Amount(u64::MAX).checked_add(Amount(1)), None);
        assert_eq!(Amount(1).checked_sub(Amount(2)), None);
        assert_eq!(Amount(3).checked_sub(Amount(2)), Some(Amount(1)));
        assert_eq!(Amount::from_coins(u64::MAX), Amount(u64::MAX));
    }
}
