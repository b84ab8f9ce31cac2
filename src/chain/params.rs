//! Consensus parameters: the numbers every node of one simulated network agrees on.
//!
//! # Sampled mining and the simulation target
//!
//! Real difficulty needs around 2^70 hashes per block, which no simulator can grind. In the
//! default *sampled* mode the time to the next block is drawn from the exponential
//! distribution implied by the miner's hash rate and the block's work, and only then is a real
//! nonce ground. Two targets are therefore in play:
//!
//! - the header's `bits` carry the *virtual*, real-scale difficulty. It sets the block's work
//!   (and so chain selection and the mining clock) and is what difficulty retargeting adjusts;
//! - the header hash is checked against [`ConsensusParams::pow_check_target`]: the bits target
//!   shifted left by `sim_target_shift` bits (saturating), an easy target that a real nonce
//!   meets after a few hundred or thousand hashes.
//!
//! Every node still verifies every header with SHA-256d against that easy target, so forged or
//! corrupted headers are rejected for real. With `sim_target_shift = 0` (*ground* mode, for
//! classroom-sized runs with small virtual difficulty) the hash is checked against the bits
//! target itself, exactly as in Bitcoin.

use crate::chain::pow::CompactTarget;
use crate::chain::tx::Amount;
use crate::chain::uint::U256;

/// The `sim_target_shift` of a chain whose blocks carry no proof of work (the stake
/// consensus kinds): the check target saturates at 2^256 − 1, so every header hash meets it
/// and [`crate::chain::validate::check_header_pow`] checks only that the bits are well
/// formed. Such a chain's blocks prove their producer's right with a seal instead
/// (`consensus::seal`), which every node checks in its place.
pub const NO_PROOF_OF_WORK_SHIFT: u32 = 256;

/// The subsidy of the first halving era (Bitcoin: 50 coins).
pub const INITIAL_SUBSIDY: Amount = Amount(50 * crate::chain::tx::UNITS_PER_COIN);

/// The consensus rules' numeric parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsensusParams {
    /// Blocks between difficulty adjustments (Bitcoin: 2016); 0 means never retarget.
    pub retarget_interval: u32,
    /// Intended mean time between blocks (Bitcoin: 600 s).
    pub target_block_interval_s: u32,
    /// The easiest allowed target (Bitcoin: the target of `0x1d00ffff`).
    pub pow_limit: U256,
    /// Largest allowed block, in encoded bytes.
    pub max_block_size_bytes: u64,
    /// Bits by which the bits target is shifted left to give the hash-check target (see the
    /// module doc); 0 checks the hash against the bits target itself.
    pub sim_target_shift: u32,
    /// How far a header's time may run ahead of a node's clock (Bitcoin: 7200 s).
    pub max_future_block_time_s: u32,
    /// Number of blocks whose median time a new block must exceed (Bitcoin: 11).
    pub median_time_span: usize,
    /// Confirmations a coinbase output needs before it may be spent (Bitcoin: 100): spending
    /// at height `h` an output created at height `c` needs `h - c >= coinbase_maturity`.
    pub coinbase_maturity: u32,
    /// Blocks between subsidy halvings (Bitcoin: 210 000); 0 means the subsidy never halves.
    pub halving_interval: u32,
}

/// Returns the block subsidy at `height` (Core's `GetBlockSubsidy`): [`INITIAL_SUBSIDY`]
/// halved once per `halving_interval` blocks, and zero after 64 halvings.
pub fn subsidy(height: u32, params: &ConsensusParams) -> Amount {
    let halvings = height.checked_div(params.halving_interval).unwrap_or(0);
    if halvings >= 64 { Amount::ZERO } else { Amount(INITIAL_SUBSIDY.0 >> halvings) }
}

impl ConsensusParams {
    /// Bitcoin mainnet's values with a 1 MB size limit and no simulation shift.
    pub fn bitcoin() -> ConsensusParams {
        ConsensusParams {
            retarget_interval: 2016,
            target_block_interval_s: 600,
            pow_limit: CompactTarget(0x1d00ffff)
                .to_target()
                .expect("0x1d00ffff is a valid compact target"),
            max_block_size_bytes: 1_000_000,
            sim_target_shift: 0,
            max_future_block_time_s: 7200,
            median_time_span: 11,
            coinbase_maturity: 100,
            halving_interval: 210_000,
        }
    }

    /// Returns the block subsidy at `height`; see [`subsidy`].
    pub fn subsidy(&self, height: u32) -> Amount {
        subsidy(height, self)
    }

    /// Returns the intended duration of one retarget period: block interval × retarget
    /// interval (saturating).
    pub fn target_timespan_s(&self) -> u32 {
        self.target_block_interval_s.saturating_mul(self.retarget_interval)
    }

    /// Returns the target a header hash is checked against, given the target its bits encode:
    /// `bits_target << sim_target_shift`, saturating at 2^256 - 1.
    pub fn pow_check_target(&self, bits_target: U256) -> U256 {
        bits_target.saturating_shl(self.sim_target_shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitcoin_values() {
        let p = ConsensusParams::bitcoin();
        assert_eq!(p.target_timespan_s(), 1_209_600);
        assert_eq!(CompactTarget::from_target(p.pow_limit), CompactTarget(0x1d00ffff));
        assert_eq!(p.pow_check_target(p.pow_limit), p.pow_limit);
    }

    #[test]
    fn subsidy_halves() {
        let p = ConsensusParams::bitcoin();
        assert_eq!(subsidy(0, &p), Amount::from_coins(50));
        assert_eq!(subsidy(209_999, &p), Amount::from_coins(50));
        assert_eq!(subsidy(210_000, &p), Amount(2_500_000_000));
        assert_eq!(p.subsidy(420_000), Amount(1_250_000_000));
        assert_eq!(subsidy(64 * 210_000, &p), Amount::ZERO);
        let fast = ConsensusParams { halving_interval: 10, ..ConsensusParams::bitcoin() };
        assert_eq!(subsidy(25, &fast), Amount(1_250_000_000));
        assert_eq!(subsidy(u32::MAX, &fast), Amount::ZERO);
        let never = ConsensusParams { halving_interval: 0, ..ConsensusParams::bitcoin() };
        assert_eq!(subsidy(u32::MAX, &never), Amount::from_coins(50));
    }

    #[test]
    fn shifted_check_target() {
        let p = ConsensusParams { sim_target_shift: 20, ..ConsensusParams::bitcoin() };
        assert_eq!(p.pow_check_target(U256::ONE), U256::ONE.shl(20));
        assert_eq!(p.pow_check_target(U256::MAX.shr(10)), U256::MAX);
    }
}
