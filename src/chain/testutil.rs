//! Test helpers shared by the UTXO and store tests: a few keys, and builders for random valid
//! payments against a UTXO set, so property tests can grow random chains of real spends.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::chain::block::{Block, Filler, Header};
use crate::chain::hash::BlockHash;
use crate::chain::keys::{KeyPair, sign_all};
use crate::chain::params::ConsensusParams;
use crate::chain::pow::CompactTarget;
use crate::chain::tx::{Amount, OutPoint, Transaction, TxIn};
use crate::chain::utxo::UtxoSet;

/// The test wallet: a handful of keys, so spends often meet the same key twice.
pub fn keys() -> Vec<KeyPair> {
    (1..=4u8).map(|n| KeyPair::from_seed(&[n; 32])).collect()
}

/// Returns the key in `keys` that `pubkey_hash` pays to, if any.
pub fn owner<'a>(keys: &'a [KeyPair], pubkey_hash: &[u8; 20]) -> Option<&'a KeyPair> {
    keys.iter().find(|k| &k.pubkey_hash() == pubkey_hash)
}

/// An unsigned input spending `prevout`.
pub fn input(prevout: OutPoint) -> TxIn {
    TxIn { prevout, pubkey: [0; 32], signature: [0; 64] }
}

/// Builds a block on `prev` holding `txs` with a correct Merkle root (no proof of work).
pub fn block_on(prev: BlockHash, txs: Vec<Transaction>, time: u32) -> Block {
    let mut block = Block {
        header: Header {
            version: 1,
            prev_blockhash: prev,
            merkle_root: [0; 32],
            time,
            bits: CompactTarget(0x207fffff),
            nonce: 0,
        },
        txs,
        filler: Filler::default(),
    };
    block.header.merkle_root = block.compute_merkle_root();
    block
}

/// Builds up to `max_txs` random valid payments spending mature coins of `set` owned by
/// `keys`, for a block at `height`, each with 1-3 inputs, 1-3 outputs to random keys and a
/// random fee; some spend outputs of earlier payments of the same batch. Returns the payments
/// and their total fee.
pub fn random_payments(
    set: &UtxoSet,
    height: u32,
    params: &ConsensusParams,
    keys: &[KeyPair],
    seed: u64,
    max_txs: usize,
) -> (Vec<Transaction>, Amount) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut spendable: Vec<(OutPoint, Amount, [u8; 20])> = set
        .to_sorted_vec()
        .into_iter()
        .filter(|(_, coin)| {
            owner(keys, &coin.out.pubkey_hash).is_some()
                && coin.out.value.0 > 0
                && !(coin.is_coinbase && height - coin.height < params.coinbase_maturity)
        })
        .map(|(op, coin)| (op, coin.out.value, coin.out.pubkey_hash))
        .collect();
    let mut txs = Vec::new();
    let mut fees = Amount::ZERO;
    let n_txs = rng.random_range(0..=max_txs);
    for _ in 0..n_txs {
        if spendable.is_empty() {
            break;
        }
        let n_in = rng.random_range(1..=3usize).min(spendable.len());
        let mut ins = Vec::new();
        for _ in 0..n_in {
            let i = rng.random_range(0..spendable.len());
            ins.push(spendable.swap_remove(i));
        }
        let value_in: u64 = ins.iter().map(|c| c.1.0).sum();
        let fee = rng.random_range(0..=value_in / 10);
        let mut left = value_in - fee;
        let n_out = rng.random_range(1..=3usize);
        let mut outputs = Vec::new();
        for o in 0..n_out {
            let value = if o + 1 == n_out { left } else { rng.random_range(0..=left) };
            left -= value;
            outputs.push(keys[rng.random_range(0..keys.len())].pay(Amount(value)));
        }
        let mut tx = Transaction {
            version: 1,
            coinbase: None,
            inputs: ins.iter().map(|c| input(c.0)).collect(),
            outputs,
            lock_time: rng.random_range(0..1000),
        };
        let signers: Vec<&KeyPair> =
            ins.iter().map(|c| owner(keys, &c.2).expect("filtered to owned coins")).collect();
        sign_all(&mut tx, &signers).expect("one key per input");
        let txid = tx.txid();
        for (vout, out) in tx.outputs.iter().enumerate() {
            if out.value.0 > 0 {
                spendable.push((OutPoint { txid, vout: vout as u32 }, out.value, out.pubkey_hash));
            }
        }
        fees = Amount(fees.0 + fee);
        txs.push(tx);
    }
    (txs, fees)
}
