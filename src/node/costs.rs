//! The relay sizes and base validation time of every block, in 20 bytes a block.
//!
//! Every node reads a block's [`BlockCosts`] when it sends a message about the block or
//! validates it, so they are computed once, when the block is stored, and kept for the whole
//! run (a message about an old block can come at any time). Kept as they are (four `u64`
//! sizes and a `u64` duration) they take 40 bytes a block; every size and the duration of a
//! real block fits in 32 bits, so [`CostTable`] keeps five `u32`s, in fixed-size chunks that
//! never double, and keeps the rare block whose costs do not fit aside, whole.

use std::collections::BTreeMap;

use crate::chain::BlockId;
use crate::chain::chunked::ChunkedVec;
use crate::network::message::WireSizes;
use crate::node::ctx::BlockCosts;
use crate::time::SimDuration;

/// [`BlockCosts`] packed into 32-bit fields (see the module docs).
#[derive(Clone, Copy, Debug)]
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
    packed: ChunkedVec<PackedCosts>,
    /// Costs that do not fit in 32-bit fields, by block id.
    aside: BTreeMap<u32, BlockCosts>,
}

impl CostTable {
    /// Bytes a block's costs take in the table (the test `costs_take_20_bytes_a_block` holds
    /// it to that).
    #[cfg(test)]
    pub const BYTES_PER_BLOCK: usize = std::mem::size_of::<PackedCosts>();

    /// A table holding the costs of genesis (all zero: nobody relays or validates it).
    pub fn with_genesis() -> CostTable {
        let mut table = CostTable::default();
        table.push(BlockCosts::default());
        table
    }

    /// Appends the costs of the next block id.
    pub fn push(&mut self, costs: BlockCosts) {
        let packed = PackedCosts::pack(&costs).unwrap_or_else(|| {
            let id = u32::try_from(self.packed.len()).expect("fewer than 2^32 blocks in one run");
            self.aside.insert(id, costs);
            PackedCosts {
                block: 0,
                cmpct_block: 0,
                get_block_txn: 0,
                block_txn: 0,
                validation_us: PackedCosts::ASIDE,
            }
        });
        self.packed.push(packed);
    }

    /// Returns the costs of `block`.
    ///
    /// # Panics
    /// Panics if the block's costs were never pushed (every stored block has them).
    #[inline]
    pub fn get(&self, block: BlockId) -> BlockCosts {
        let packed = self.packed[block.index()];
        if packed.validation_us == PackedCosts::ASIDE {
            return self.aside[&block.0];
        }
        packed.unpack()
    }

    /// Returns the number of blocks with costs.
    pub fn len(&self) -> usize {
        self.packed.len()
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
    fn costs_take_20_bytes_a_block() {
        assert_eq!(CostTable::BYTES_PER_BLOCK, 20);
    }
}
