//! The signature cache: each input's signature is verified once per run, like Bitcoin Core's
//! sigcache.
//!
//! Signature checks dominate validation cost, and the same input is checked again and again
//! in a simulation: when the transaction enters a mempool, when a block holding it connects,
//! when that block is reconnected after a reorg, and when a competing block on another branch
//! holds the same transaction. The verdict depends only on the transaction's bytes, so it is
//! cached by (txid, input index): the txid commits to every byte of the transaction including
//! the signatures (there is no segregated witness), so equal keys mean equal signature checks.
//! Only successes are cached, as in Core, so an invalid signature never becomes valid by
//! being remembered.
//!
//! Whether the revealed public key hashes to the spent output's key hash depends on the UTXO
//! set, not on the transaction alone, so it is checked on every spend and is not cached here.
//!
//! Decoded public keys are kept too (a wallet's key signs many payments), keyed by their
//! bytes; decoding is deterministic, so this only saves time.
//!
//! The cache is a lookup table only (`FxHashSet`, never iterated), so it cannot make a run
//! depend on hash order. It holds one entry per verified input (about 40 bytes plus table
//! overhead); the block store forgets the entries of transactions whose block has become final
//! ([`crate::chain::BlockStore::prune_through`]), since no later block can hold them again, so
//! a long run keeps only those of recent and unconfirmed transactions.

use ed25519_dalek::VerifyingKey;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::chain::hash::TxId;
use crate::chain::keys::{SigCheck, verify_batch_with, verify_signature};
use crate::chain::tx::Transaction;

/// Verified (txid, input index) pairs, with counters of the work done.
#[derive(Clone, Debug, Default)]
pub struct SigCache {
    verified: FxHashSet<(TxId, u32)>,
    /// Public keys already decoded to curve points (wallets reuse their keys).
    decoded: FxHashMap<[u8; 32], VerifyingKey>,
    verifications: u64,
    hits: u64,
}

impl SigCache {
    /// Creates an empty cache.
    pub fn new() -> SigCache {
        SigCache::default()
    }

    /// Returns true if input `input` of transaction `txid` has been verified.
    pub fn contains(&self, txid: &TxId, input: u32) -> bool {
        self.verified.contains(&(*txid, input))
    }

    /// [`SigCache::contains`], counting a hit for [`SigCache::hits`]; validation uses this.
    pub fn lookup(&mut self, txid: &TxId, input: u32) -> bool {
        let hit = self.contains(txid, input);
        self.hits += u64::from(hit);
        hit
    }

    /// Records that input `input` of transaction `txid` verified.
    pub fn insert(&mut self, txid: TxId, input: u32) {
        self.verified.insert((txid, input));
    }

    /// Forgets the verdicts of inputs `0..inputs` of transaction `txid` (the counters are
    /// kept).
    pub fn forget(&mut self, txid: &TxId, inputs: usize) {
        for input in 0..inputs {
            if let Ok(input) = u32::try_from(input) {
                self.verified.remove(&(*txid, input));
            }
        }
    }

    /// Returns the number of cached verdicts.
    pub fn len(&self) -> usize {
        self.verified.len()
    }

    /// Returns true if nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.verified.is_empty()
    }

    /// Forgets every verdict (the counters are kept).
    pub fn clear(&mut self) {
        self.verified.clear();
    }

    /// Returns how many signatures were submitted for real verification through this cache:
    /// each signature of a batch counts once, whether or not the batch needed a one-by-one
    /// fallback.
    pub fn verifications(&self) -> u64 {
        self.verifications
    }

    /// Returns how many lookups found a cached verdict.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Verifies input `index` of `tx` (whose id is `txid`) unless cached, and caches success.
    /// Returns false for an index out of range or a bad signature.
    pub fn verify_input(&mut self, tx: &Transaction, txid: &TxId, index: usize) -> bool {
        let Some(input) = tx.inputs.get(index) else {
            return false;
        };
        let Ok(index) = u32::try_from(index) else {
            return false;
        };
        if self.lookup(txid, index) {
            return true;
        }
        self.verifications += 1;
        let ok = verify_signature(&tx.sighash(), &input.pubkey, &input.signature);
        if ok {
            self.insert(*txid, index);
        }
        ok
    }

    /// Batch-verifies `checks`, where `checks[i]` is input `keys[i].1` of transaction
    /// `keys[i].0`, and caches them all on success. On failure returns the first failing
    /// index and caches the ones before it, which the fallback verified one by one.
    ///
    /// The caller has already left out cached inputs; `checks` and `keys` have equal lengths
    /// (extra entries of the longer one are ignored).
    pub fn verify_batch(
        &mut self,
        checks: &[SigCheck<'_>],
        keys: &[(TxId, u32)],
    ) -> Result<(), usize> {
        let n = checks.len().min(keys.len());
        self.verifications += n as u64;
        let decoded = &mut self.decoded;
        let verdict = verify_batch_with(&checks[..n], |pubkey| {
            if let Some(key) = decoded.get(pubkey) {
                return Some(*key);
            }
            let key = VerifyingKey::from_bytes(pubkey).ok()?;
            decoded.insert(*pubkey, key);
            Some(key)
        });
        let good = match verdict {
            Ok(()) => n,
            Err(culprit) => culprit,
        };
        self.verified.reserve(good);
        for &(txid, input) in &keys[..good] {
            self.verified.insert((txid, input));
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::keys::{KeyPair, sign_all};
    use crate::chain::tx::{Amount, OutPoint, TxIn};

    #[test]
    fn verifies_once_then_hits() {
        let key = KeyPair::from_seed(&[3; 32]);
        let mut tx = Transaction {
            version: 1,
            coinbase: None,
            inputs: vec![TxIn {
                prevout: OutPoint::default(),
                pubkey: [0; 32],
                signature: [0; 64],
            }],
            outputs: vec![key.pay(Amount(1))],
            lock_time: 0,
        };
        let mut cache = SigCache::new();
        let txid = tx.txid();
        assert!(!cache.verify_input(&tx, &txid, 0), "unsigned");
        assert_eq!(cache.verifications(), 1);
        assert!(cache.is_empty(), "failures are not cached");
        sign_all(&mut tx, &[&key]).expect("one key");
        let txid = tx.txid();
        assert!(cache.verify_input(&tx, &txid, 0));
        assert!(cache.verify_input(&tx, &txid, 0));
        assert!(!cache.verify_input(&tx, &txid, 1));
        assert_eq!(cache.verifications(), 2);
        assert_eq!(cache.hits(), 1);
        assert_eq!(cache.len(), 1);
        cache.forget(&txid, 1);
        assert!(!cache.contains(&txid, 0));
        assert!(cache.verify_input(&tx, &txid, 0));
        assert_eq!(cache.verifications(), 3, "a forgotten verdict is verified again");
        cache.clear();
        assert!(cache.is_empty());
    }
}
