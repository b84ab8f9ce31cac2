//! Keys, public-key hashes, signing and signature checks for ed25519-signed payments.
//!
//! An output pays to a 20-byte public-key hash; the input that spends it reveals the 32-byte
//! ed25519 public key and a signature over the spending transaction's signature hash
//! ([`Transaction::sighash`]: the encoding with every signature zeroed). That is Bitcoin's
//! pay-to-public-key-hash with ed25519 in place of ECDSA and no script interpreter.
//!
//! Keys come from 32-byte seeds that callers draw from the run's own RNG streams, so the same
//! seed gives the same keys, transactions and ids on every machine. Signatures are
//! deterministic too (ed25519 derives its nonce from the key and message), and so is batch
//! verification: ed25519-dalek derives the batch coefficients from a transcript of the inputs,
//! not from an RNG.
//!
//! Verification is the expensive part of validation (about 35 µs per signature alone, 12-16 µs
//! in large batches), so [`verify_batch`] checks many signatures at once and only falls back
//! to one-by-one checks, to name the culprit, when a batch fails. A signature is valid if and
//! only if ed25519-dalek's single `verify` accepts it; the batch is a faster way to reach the
//! same verdict (both use the cofactorless equation, so they agree on every signature an
//! honest or a random signer makes).

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::chain::hash::sha256d;
use crate::chain::tx::{Amount, Transaction, TxOut};

/// Returns the public-key hash an output pays to: the first 20 bytes of SHA-256d of the
/// 32-byte public key.
pub fn pubkey_hash(pubkey: &[u8; 32]) -> [u8; 20] {
    let digest = sha256d(pubkey);
    let mut out = [0u8; 20];
    out.copy_from_slice(&digest[..20]);
    out
}

/// Returns the message every input of `tx` signs; the same as [`Transaction::sighash`].
pub fn sighash(tx: &Transaction) -> [u8; 32] {
    tx.sighash()
}

/// An ed25519 key pair with its public key and public-key hash precomputed.
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
    pubkey: [u8; 32],
    pubkey_hash: [u8; 20],
}

impl KeyPair {
    /// Derives the key pair from a 32-byte seed (the ed25519 secret key itself).
    pub fn from_seed(seed: &[u8; 32]) -> KeyPair {
        let signing = SigningKey::from_bytes(seed);
        let pubkey = signing.verifying_key().to_bytes();
        KeyPair { signing, pubkey, pubkey_hash: pubkey_hash(&pubkey) }
    }

    /// Returns the 32-byte public key that inputs reveal.
    pub fn pubkey(&self) -> [u8; 32] {
        self.pubkey
    }

    /// Returns the 20-byte hash outputs pay to.
    pub fn pubkey_hash(&self) -> [u8; 20] {
        self.pubkey_hash
    }

    /// Returns an output paying `value` to this key.
    pub fn pay(&self, value: Amount) -> TxOut {
        TxOut { value, pubkey_hash: self.pubkey_hash }
    }

    /// Signs `message` and returns the 64-byte signature.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

impl fmt::Debug for KeyPair {
    /// Shows the public key only; the secret never goes into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair").field("pubkey_hash", &self.pubkey_hash).finish_non_exhaustive()
    }
}

/// Why a transaction could not be signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The input index is past the end of the inputs.
    #[error("input {index} out of range: the transaction has {inputs} inputs")]
    InputOutOfRange {
        /// The index asked for.
        index: usize,
        /// The number of inputs.
        inputs: usize,
    },
    /// The number of keys differs from the number of inputs.
    #[error("{keys} keys given for {inputs} inputs")]
    KeyCountMismatch {
        /// The number of keys given.
        keys: usize,
        /// The number of inputs.
        inputs: usize,
    },
}

/// Writes `key`'s public key into input `index` and signs the transaction's signature hash
/// with it.
///
/// The signature hash commits to every input's public key, so set all public keys before
/// signing (or use [`sign_all`]): changing another input's key later invalidates this
/// signature. Other inputs' signatures stay valid, since signatures are not committed.
pub fn sign_input(tx: &mut Transaction, index: usize, key: &KeyPair) -> Result<(), SignError> {
    let inputs = tx.inputs.len();
    let input = tx.inputs.get_mut(index).ok_or(SignError::InputOutOfRange { index, inputs })?;
    input.pubkey = key.pubkey;
    let message = tx.sighash();
    tx.inputs[index].signature = key.sign(&message);
    Ok(())
}

/// Signs every input, input `i` with `keys[i]`: writes all public keys first, then computes
/// the signature hash once and signs it with each key.
pub fn sign_all(tx: &mut Transaction, keys: &[&KeyPair]) -> Result<(), SignError> {
    if keys.len() != tx.inputs.len() {
        return Err(SignError::KeyCountMismatch { keys: keys.len(), inputs: tx.inputs.len() });
    }
    for (input, key) in tx.inputs.iter_mut().zip(keys) {
        input.pubkey = key.pubkey;
    }
    let message = tx.sighash();
    for (input, key) in tx.inputs.iter_mut().zip(keys) {
        input.signature = key.sign(&message);
    }
    Ok(())
}

/// Returns true if input `index`'s signature verifies under its own public key over the
/// transaction's signature hash. Whether that key hashes to the spent output's key hash is the
/// UTXO layer's check, not this one. Returns false for an index out of range or a public key
/// that is not a valid curve point.
pub fn verify_input(tx: &Transaction, index: usize) -> bool {
    let Some(input) = tx.inputs.get(index) else {
        return false;
    };
    verify_signature(&tx.sighash(), &input.pubkey, &input.signature)
}

/// Returns true if `signature` is `pubkey`'s ed25519 signature of `message`.
pub fn verify_signature(message: &[u8], pubkey: &[u8; 32], signature: &[u8; 64]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(pubkey) else {
        return false;
    };
    key.verify(message, &Signature::from_bytes(signature)).is_ok()
}

/// One signature to check: a message, the public key and the signature bytes.
#[derive(Clone, Copy, Debug)]
pub struct SigCheck<'a> {
    /// The signed message (a signature hash).
    pub message: &'a [u8; 32],
    /// The signer's public key.
    pub pubkey: &'a [u8; 32],
    /// The signature.
    pub signature: &'a [u8; 64],
}

/// Checks all `checks` at once; returns `Err(i)` with the first failing index (in order) if
/// any fails.
///
/// Uses ed25519-dalek's `verify_batch` (deterministic, no RNG). If the batch fails, or a
/// public key does not decode, every signature is checked on its own in order to name the
/// first culprit, which costs one single verification per signature up to it. If every
/// single check passes after all, the verdict is `Ok`: single verification defines validity.
pub fn verify_batch(checks: &[SigCheck<'_>]) -> Result<(), usize> {
    match checks {
        [] => return Ok(()),
        [only] => {
            return if verify_signature(only.message, only.pubkey, only.signature) {
                Ok(())
            } else {
                Err(0)
            };
        }
        _ => {}
    }
    verify_batch_with(checks, |pubkey| VerifyingKey::from_bytes(pubkey).ok())
}

/// [`verify_batch`] with the public keys decoded by `decode` (so a caller can keep decoded
/// keys: decoding a point costs a field square root, about a fifth of a batch check).
pub fn verify_batch_with(
    checks: &[SigCheck<'_>],
    mut decode: impl FnMut(&[u8; 32]) -> Option<VerifyingKey>,
) -> Result<(), usize> {
    if checks.len() < 2 {
        return verify_batch(checks);
    }
    let keys: Option<Vec<VerifyingKey>> = checks.iter().map(|c| decode(c.pubkey)).collect();
    if let Some(keys) = keys {
        let messages: Vec<&[u8]> = checks.iter().map(|c| c.message.as_slice()).collect();
        let signatures: Vec<Signature> =
            checks.iter().map(|c| Signature::from_bytes(c.signature)).collect();
        if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
            return Ok(());
        }
    }
    match checks.iter().position(|c| !verify_signature(c.message, c.pubkey, c.signature)) {
        Some(culprit) => Err(culprit),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::hash::TxId;
    use crate::chain::tx::{OutPoint, TxIn};

    fn key(n: u8) -> KeyPair {
        KeyPair::from_seed(&[n; 32])
    }

    fn unsigned(inputs: usize) -> Transaction {
        Transaction {
            version: 1,
            coinbase: None,
            inputs: (0..inputs)
                .map(|i| TxIn {
                    prevout: OutPoint { txid: TxId([i as u8; 32]), vout: i as u32 },
                    pubkey: [0; 32],
                    signature: [0; 64],
                })
                .collect(),
            outputs: vec![key(9).pay(Amount(1_000))],
            lock_time: 0,
        }
    }

    #[test]
    fn keys_are_deterministic_and_hash_their_pubkey() {
        let a = key(1);
        assert_eq!(a.pubkey(), key(1).pubkey());
        assert_ne!(a.pubkey(), key(2).pubkey());
        assert_eq!(a.pubkey_hash(), pubkey_hash(&a.pubkey()));
        assert_eq!(&a.pubkey_hash()[..], &sha256d(&a.pubkey())[..20]);
        assert_eq!(a.pay(Amount(5)).pubkey_hash, a.pubkey_hash());
        assert!(!format!("{a:?}").contains("signing"));
    }

    #[test]
    fn sign_and_verify_inputs() {
        let (a, b) = (key(1), key(2));
        let mut tx = unsigned(2);
        sign_all(&mut tx, &[&a, &b]).expect("two keys for two inputs");
        assert!(verify_input(&tx, 0));
        assert!(verify_input(&tx, 1));
        assert!(!verify_input(&tx, 2));
        assert_eq!(tx.inputs[1].pubkey, b.pubkey());

        // Changing anything committed breaks the signatures; a signature alone does not.
        let mut changed = tx.clone();
        changed.outputs[0].value = Amount(999);
        assert!(!verify_input(&changed, 0));
        let mut bad_sig = tx.clone();
        bad_sig.inputs[0].signature[5] ^= 1;
        assert!(!verify_input(&bad_sig, 0));
        assert!(verify_input(&bad_sig, 1));
        // A public key that is not a curve point fails without panicking.
        let mut bad_key = tx.clone();
        bad_key.inputs[0].pubkey = [0xff; 32];
        assert!(!verify_input(&bad_key, 0));

        // Input-by-input signing after all keys are set gives valid signatures too.
        let mut one_by_one = unsigned(2);
        one_by_one.inputs[0].pubkey = a.pubkey();
        sign_input(&mut one_by_one, 1, &b).expect("in range");
        sign_input(&mut one_by_one, 0, &a).expect("in range");
        assert!(verify_input(&one_by_one, 0) && verify_input(&one_by_one, 1));
        assert_eq!(one_by_one, tx, "signatures are deterministic");

        assert_eq!(
            sign_input(&mut one_by_one, 2, &a),
            Err(SignError::InputOutOfRange { index: 2, inputs: 2 })
        );
        assert_eq!(
            sign_all(&mut one_by_one, &[&a]),
            Err(SignError::KeyCountMismatch { keys: 1, inputs: 2 })
        );
    }

    #[test]
    fn batch_finds_the_first_culprit() {
        let keys: Vec<KeyPair> = (0..20).map(key).collect();
        let messages: Vec<[u8; 32]> = (0..20u8).map(|i| [i; 32]).collect();
        let pubkeys: Vec<[u8; 32]> = keys.iter().map(KeyPair::pubkey).collect();
        let mut signatures: Vec<[u8; 64]> =
            keys.iter().zip(&messages).map(|(k, m)| k.sign(m)).collect();
        let checks = |sigs: &[[u8; 64]], pks: &[[u8; 32]]| -> Result<(), usize> {
            let items: Vec<SigCheck<'_>> = (0..sigs.len())
                .map(|i| SigCheck { message: &messages[i], pubkey: &pks[i], signature: &sigs[i] })
                .collect();
            verify_batch(&items)
        };
        assert_eq!(checks(&signatures, &pubkeys), Ok(()));
        assert_eq!(checks(&signatures[..1], &pubkeys[..1]), Ok(()));
        assert_eq!(checks(&[], &[]), Ok(()));
        signatures[13][0] ^= 1;
        signatures[17][40] ^= 1;
        assert_eq!(checks(&signatures, &pubkeys), Err(13));
        assert_eq!(checks(&signatures[13..14], &pubkeys[13..14]), Err(0));
        let mut bad_keys = pubkeys.clone();
        bad_keys[4] = [0xff; 32];
        assert_eq!(checks(&signatures, &bad_keys), Err(4));
    }
}
