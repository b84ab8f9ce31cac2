//! The consensus layer: what a valid block is, independent of any node, clock or network.
//!
//! Everything here is pure functions over immutable data (hashes, headers, Merkle trees,
//! transactions, proof-of-work targets, difficulty, validation) plus the global
//! [`BlockStore`], where every block is built, hashed and stored exactly once and then shared
//! by id. Nothing in this module reads the clock or draws random numbers, so a run's chain
//! facts are the same on every machine.

pub mod block;
pub mod hash;
pub mod merkle;
pub mod params;
pub mod pow;
pub mod store;
pub mod tx;
pub mod uint;
pub mod validate;

pub use block::{Block, Filler, HEADER_SIZE_BYTES, Header};
pub use hash::{BlockHash, TxId, sha256d};
pub use params::ConsensusParams;
pub use pow::{CompactError, CompactTarget, Work};
pub use store::{BlockId, BlockMeta, BlockStore, InsertError, StoredBlock};
pub use tx::{Amount, Transaction};
pub use uint::U256;
pub use validate::{HeaderContext, RejectReason};
