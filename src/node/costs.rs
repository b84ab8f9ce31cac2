//! The relay sizes and base validation time of every block, in 4 bytes a block when blocks
//! are alike.
//!
//! Every node reads a block's [`BlockCosts`] when it sends a message about the block or
//! validates it, so they are computed once, when the block is stored, and kept for the whole
//! run (a message about an old block can come at any time). Kept as they are (four `u64`
//! sizes and a `u64` duration) they take 40 bytes a block; every size and the duration of a
//! real block fits in 32 bits, so they pack into five `u32`s, and the rare block whose costs
//! do not fit is kept aside, whole. Blocks of the same size and shape have the same costs
//! (in a run without payments, nearly every block does), so [`CostTable`] keeps each distinct
//! packed record once and a 4-byte index per block, in fixed-size chunks that never double;
//! past [`CostTable::MAX_DISTINCT`] distinct records (a run whose blocks all differ), a block
//! keeps its record beside its index: 24 bytes a block at worst.

use std::collections::BTreeMap;

use crate::chain::BlockId;
use crate::chain::chunked::ChunkedVec;
use crate::network::message::WireSizes;
use crate::node::ctx::BlockCosts;
use crate::time::SimDuration;

/// [`BlockCosts`] packed into 32-bit fields (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct PackedCosts {
    block: u32,
    cmpct_block: u32,
    get_block_txn: u32,
    block_txn: u32,
    /// Microseconds, or [`PackedCosts::ASIDE`] when the costs are kept whole aside.
    validation_us: u32,
}

impl PackedCosts {
    /// The `validation_us` of a block whose costs are in [`CostTable::aside`].
    const ASIDE: u32 = u32::MAX;

    /// Packs `costs`, or `None` if one of them needs more than 32 bits.
    fn pack(costs: &BlockCosts) -> Option<PackedCosts> {
        let validation_us = u32::try_from(costs.validation.0).ok().filter(|&v| v != Self::ASIDE)?;
        Some(PackedCosts {
            block: u32::try_from(costs.wire.block).ok()?,
            cmpct_block: u32::try_from(costs.wire.cmpct_block).ok()?,
            get_block_txn: u32::try_from(costs.wire.get_block_txn).ok()?,
            block_txn: u32::try_from(costs.wire.block_txn).ok()?,
            validation_us,
        })
    }

    fn unpack(self) -> BlockCosts {
        BlockCosts {
            wire: WireSizes {
                block: u64::from(self.block),
                cmpct_block: u64::from(self.cmpct_block),
                get_block_txn: u64::from(self.get_block_txn),
                block_txn: u64::from(self.block_txn),
            },
            validation: SimDuration(u64::from(self.validation_us)),
        }
    }
}

/// The [`BlockCosts`] of every stored block, by id (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct CostTable {
    /// By block: an index into `distinct`, or, with [`CostTable::OWN`] set, into `own`.
    index: ChunkedVec<u32>,
    /// Each distinct packed record, in first-seen order.
    distinct: Vec<PackedCosts>,
    /// `distinct` by record, for lookups when a block is pushed.
    lookup: BTreeMap<PackedCosts, u32>,
    /// Records of blocks pushed once `distinct` was full, in push order.
    own: ChunkedVec<PackedCosts>,
    /// Costs that do not fit in 32-bit fields, by block id.
    aside: BTreeMap<u32, BlockCosts>,
    /// Blocks pushed.
    len: usize,
}

impl CostTable {
    /// Distinct records kept once; blocks with other records keep their own.
    pub const MAX_DISTINCT: usize = 4096;

    /// Flag of an index into `own`.
    const OWN: u32 = 1 << 31;

    /// Bytes the table holds (its chunks' and arrays' capacity), for the tests that bound
    /// memory.
    #[cfg(test)]
    fn bytes_held(&self) -> usize {
        self.index.capacity() * 4
            + self.own.capacity() * std::mem::size_of::<PackedCosts>()
            + self.distinct.capacity() * std::mem::size_of::<PackedCosts>()
            + self.lookup.len() * (std::mem::size_of::<PackedCosts>() + 4)
    }

    /// A table holding the costs of genesis (all zero: nobody relays or validates it).
    pub fn with_genesis() -> CostTable {
        let mut table = CostTable::default();
        table.push(BlockCosts::default());
        table
    }

    /// Appends the costs of the next block id.
    pub fn push(&mut self, costs: BlockCosts) {
        let id = u32::try_from(self.len).expect("fewer than 2^31 blocks in one run");
        let packed = PackedCosts::pack(&costs).unwrap_or_else(|| {
            self.aside.insert(id, costs);
            PackedCosts {
                block: 0,
                cmpct_block: 0,
                get_block_txn: 0,
                block_txn: 0,
                validation_us: PackedCosts::ASIDE,
            }
        });
        let index = match self.lookup.get(&packed) {
            Some(&i) => i,
            None if self.distinct.len() < Self::MAX_DISTINCT => {
                let i = self.distinct.len() as u32;
                self.distinct.push(packed);
                self.lookup.insert(packed, i);
                i
            }
            None => {
                let i = u32::try_from(self.own.len())
                    .ok()
                    .filter(|&i| i < Self::OWN)
                    .expect("fewer than 2^31 blocks in one run");
                self.own.push(packed);
                i | Self::OWN
            }
        };
        self.index.push(index);
        self.len += 1;
    }

    /// Returns the costs of `block`.
    ///
    /// # Panics
    /// Panics if the block's costs were never pushed (every stored block has them).
    #[inline]
    pub fn get(&self, block: BlockId) -> BlockCosts {
        let index = self.index[block.index()];
        let packed = if index & Self::OWN == 0 {
            self.distinct[index as usize]
        } else {
            self.own[(index & !Self::OWN) as usize]
        };
        if packed.validation_us == PackedCosts::ASIDE {
            return self.aside[&block.0];
        }
        packed.unpack()
    }

    /// Returns the number of blocks with costs.
    pub fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs(block: u64, validation_us: u64) -> BlockCosts {
        BlockCosts {
            wire: WireSizes { block, cmpct_block: block / 3, get_block_txn: 61, block_txn: 7 },
            validation: SimDuration(validation_us),
        }
    }

    #[test]
    fn costs_come_back_exactly_even_when_they_do_not_fit_in_32_bits() {
        let all = [
            costs(1_000_089, 22_000),
            costs(u64::from(u32::MAX) + 1, 5),
            costs(80, u64::from(u32::MAX)),
            costs(80, u64::from(u32::MAX) - 1),
            costs(u64::MAX, u64::MAX),
        ];
        let mut table = CostTable::with_genesis();
        for c in &all {
            table.push(*c);
        }
        assert_eq!(table.len(), all.len() + 1);
        for (i, c) in all.iter().enumerate() {
            let got = table.get(BlockId(i as u32 + 1));
            assert_eq!((got.wire, got.validation), (c.wire, c.validation));
        }
        assert_eq!(table.aside.len(), 3, "only the costs that do not fit are kept whole");
    }

    #[test]
    fn alike_blocks_take_4_bytes_each_and_all_different_ones_at_most_24() {
        // With genesis, twelve whole chunks of indices.
        let n = 12 * ChunkedVec::<u32>::CHUNK as u64 - 1;
        // Blocks of a few shapes (a run without payments): one index each, a few records.
        let mut alike = CostTable::with_genesis();
        for i in 0..n {
            alike.push(costs(1_000_000 + i % 3, 20_000));
        }
        let per_block = alike.bytes_held() as f64 / n as f64;
        assert!(per_block <= 4.1, "{per_block:.2} bytes per block");
        // Every block different: the records past the distinct ones are kept per block.
        let mut all = CostTable::with_genesis();
        for i in 0..n {
            all.push(costs(1_000_000 + i, 20_000 + i));
        }
        for i in (0..n).step_by(997) {
            let got = all.get(BlockId(i as u32 + 1));
            let want = costs(1_000_000 + i, 20_000 + i);
            assert_eq!((got.wire, got.validation), (want.wire, want.validation));
        }
        // Block 7 is the seventh pushed after genesis (i = 6, a multiple of 3).
        let (got, want) = (alike.get(BlockId(7)), costs(1_000_000, 20_000));
        assert_eq!((got.wire, got.validation), (want.wire, want.validation));
        let per_block = all.bytes_held() as f64 / n as f64;
        // 4 + 20 bytes, and the 4,096 distinct records with their lookup entries.
        assert!(per_block <= 25.0, "{per_block:.2} bytes per block");
        assert_eq!((alike.len(), all.len()), (n as usize + 1, n as usize + 1));
    }
}
