//! The consensus layer: what a valid block is, independent of any node, clock or network.
//!
//! Everything here is pure functions over immutable data (hashes, headers, Merkle trees,
//! transactions, keys and signatures, proof-of-work targets, difficulty, validation) plus
//! the global [`BlockStore`], where every block is built, hashed and stored exactly once and
//! then shared by id, together with the one [`UtxoSet`] and [`SigCache`] that all nodes share. Nothing in this module reads the clock or draws random numbers, so a run's chain
//! facts are the same on every machine.

pub mod block;
pub(crate) mod chunked;
pub(crate) mod final_coinbases;
pub(crate) mod final_work;
pub mod hash;
pub mod keys;
pub mod merkle;
pub mod params;
pub mod pow;
pub(crate) mod prefix_index;
#[cfg(target_arch = "x86_64")]
pub(crate) mod sha256_ni;
pub mod sigcache;
pub(crate) mod sorted_shards;
pub mod store;
pub mod tx;
pub mod uint;
pub mod utxo;
pub mod validate;

#[cfg(test)]
mod prune_tests;
#[cfg(test)]
mod testutil;

pub use block::{Block, Filler, HEADER_SIZE_BYTES, Header};
pub use hash::{BlockHash, TxId, sha256d};
pub use keys::{KeyPair, pubkey_hash, sign_all, sign_input, verify_input};
pub use params::{ConsensusParams, subsidy};
pub use pow::{CompactError, CompactTarget, Work};
pub use sigcache::SigCache;
pub use store::{BlockId, BlockMeta, BlockStore, InsertError, StoredBlock};
pub use tx::{Amount, OutPoint, Transaction, TxIn, TxOut};
pub use uint::U256;
pub use utxo::{BlockUndo, Coin, UndoError, UtxoSet};
pub use validate::{HeaderContext, RejectReason};
