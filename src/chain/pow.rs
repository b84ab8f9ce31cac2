//! Proof-of-work arithmetic: compact targets, block work, and Bitcoin's difficulty retarget.
//!
//! A header's `bits` field encodes its target in Bitcoin's 32-bit "compact" floating format;
//! the decoding and encoding here reproduce Core's `SetCompact`/`GetCompact` bit for bit,
//! because headers built by one node must decode identically on every other. Work (expected
//! hashes) is derived from the target the way Core's `GetBlockProof` does it, and the retarget
//! is Core's `CalculateNextWorkRequired`, so a simulated chain's difficulty moves exactly as a
//! real one would given the same timestamps.

use std::fmt;

use crate::chain::hash::BlockHash;
use crate::chain::uint::U256;

/// Why a compact `bits` value does not describe a usable target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
pub enum CompactError {
    /// The sign bit (0x00800000) is set with a nonzero mantissa: a negative target.
    #[error("compact target is negative")]
    Negative,
    /// The exponent pushes the mantissa beyond 256 bits (Core's `fOverflow`).
    #[error("compact target overflows 256 bits")]
    Overflow,
    /// The target decodes to zero, which no hash can meet.
    #[error("compact target is zero")]
    Zero,
}

/// A target in Bitcoin's compact encoding (`nBits`): one exponent byte, then a 23-bit mantissa
/// and a sign bit.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub struct CompactTarget(pub u32);

impl CompactTarget {
    /// Decodes exactly like Core's `SetCompact`, returning the raw value together with the
    /// negative and overflow flags (the value is what Core would hold even when a flag is set).
    pub fn decode_raw(self) -> (U256, bool, bool) {
        let bits = self.0;
        let size = bits >> 24;
        let mut word = bits & 0x007f_ffff;
        let value = if size <= 3 {
            word >>= 8 * (3 - size);
            U256::from_u64(word as u64)
        } else {
            U256::from_u64(word as u64).shl(8 * (size - 3))
        };
        let negative = word != 0 && (bits & 0x0080_0000) != 0;
        let overflow =
            word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
        (value, negative, overflow)
    }

    /// Decodes the target, rejecting negative, overflowing and zero encodings.
    pub fn to_target(self) -> Result<U256, CompactError> {
        let (value, negative, overflow) = self.decode_raw();
        if negative {
            Err(CompactError::Negative)
        } else if overflow {
            Err(CompactError::Overflow)
        } else if value.is_zero() {
            Err(CompactError::Zero)
        } else {
            Ok(value)
        }
    }

    /// Encodes a target exactly like Core's `GetCompact` (never producing the sign bit).
    pub fn from_target(target: U256) -> CompactTarget {
        let mut size = target.bits().div_ceil(8);
        let mut compact: u32 = if size <= 3 {
            (target.low_u64() << (8 * (3 - size))) as u32
        } else {
            target.shr(8 * (size - 3)).low_u64() as u32
        };
        // The mantissa is signed: if its top bit would be set, move one byte into the exponent.
        if compact & 0x0080_0000 != 0 {
            compact >>= 8;
            size += 1;
        }
        CompactTarget(compact | (size << 24))
    }
}

impl fmt::Display for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

/// An amount of proof of work: the expected number of hashes to meet some target(s).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default, Hash)]
pub struct Work(pub U256);

impl Work {
    /// No work.
    pub const ZERO: Work = Work(U256::ZERO);

    /// Adds, returning `None` on overflow.
    pub fn checked_add(self, rhs: Work) -> Option<Work> {
        self.0.checked_add(rhs.0).map(Work)
    }

    /// Adds, saturating at 2^256 - 1.
    pub fn saturating_add(self, rhs: Work) -> Work {
        Work(self.0.saturating_add(rhs.0))
    }

    /// Returns the work as a float: the expected number of hashes, for reports and rates.
    pub fn to_f64(&self) -> f64 {
        self.0.to_f64()
    }
}

/// Returns the work of one block with `target`: 2^256 / (target + 1), computed as Core's
/// `GetBlockProof` does, `(!target / (target + 1)) + 1`.
///
/// Edge cases Core never meets: a zero target saturates to `U256::MAX` work, and the maximal
/// target (where `target + 1` overflows) has work 1.
pub fn work_from_target(target: U256) -> Work {
    match target.checked_add(U256::ONE) {
        None => Work(U256::ONE),
        Some(divisor) => Work(target.not().div_rem(divisor).0.saturating_add(U256::ONE)),
    }
}

/// Returns the target whose block work is about `hashes`: floor(2^256 / hashes) - 1.
///
/// Saturates at `U256::MAX` for `hashes <= 1` (and NaN) and never returns less than one,
/// since a zero target cannot be met. Float precision makes this approximate (about 53
/// significant bits), which is ample for choosing a simulation difficulty.
pub fn target_for_expected_hashes(hashes: f64) -> U256 {
    if hashes.is_nan() || hashes <= 1.0 {
        return U256::MAX;
    }
    let two_pow_256 = f64::from_bits((1023u64 + 256) << 52);
    let quotient = U256::from_f64(two_pow_256 / hashes);
    quotient.saturating_sub(U256::ONE).max(U256::ONE)
}

/// Returns true if the hash, read as a little-endian number, is at most `target`.
pub fn hash_meets_target(hash: &BlockHash, target: &U256) -> bool {
    hash.to_u256() <= *target
}

/// Computes the next compact target like Core's `CalculateNextWorkRequired`.
///
/// The measured timespan `last_block_time_s - first_block_time_s` is clamped to
/// `[target_timespan_s / 4, target_timespan_s * 4]`, the old target (decoded as Core's
/// `SetCompact` would, flags ignored) is scaled by `actual / target_timespan_s`, and the
/// result is capped at `pow_limit`. If the multiplication would overflow 256 bits (impossible
/// for real limits), the division is done first instead. A zero `target_timespan_s` returns
/// `last_bits` unchanged.
pub fn retarget(
    last_bits: CompactTarget,
    first_block_time_s: u32,
    last_block_time_s: u32,
    target_timespan_s: u32,
    pow_limit: U256,
) -> CompactTarget {
    if target_timespan_s == 0 {
        return last_bits;
    }
    let timespan = target_timespan_s as i64;
    let actual = (last_block_time_s as i64 - first_block_time_s as i64)
        .clamp(timespan / 4, timespan * 4) as u64;
    let (old, _, _) = last_bits.decode_raw();
    let new = match old.mul_u64(actual) {
        Some(product) => product.div_u64(timespan as u64).0,
        None => old.div_u64(timespan as u64).0.mul_u64(actual).unwrap_or(U256::MAX),
    };
    CompactTarget::from_target(new.min(pow_limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> U256 {
        U256::from_be_hex(s).expect("test hex is valid")
    }

    fn mainnet_limit() -> U256 {
        CompactTarget(0x1d00ffff).to_target().expect("0x1d00ffff is a valid target")
    }

    #[test]
    fn set_compact_vectors_from_core() {
        // Values from Bitcoin Core's arith_uint256 tests (SetCompact / GetCompact).
        assert_eq!(CompactTarget(0).decode_raw(), (U256::ZERO, false, false));
        assert_eq!(CompactTarget(0).to_target(), Err(CompactError::Zero));
        assert_eq!(CompactTarget(0x00123456).to_target(), Err(CompactError::Zero));
        assert_eq!(CompactTarget(0x01003456).to_target(), Err(CompactError::Zero));
        assert_eq!(CompactTarget(0x02000056).to_target(), Err(CompactError::Zero));
        assert_eq!(CompactTarget(0x03000000).to_target(), Err(CompactError::Zero));
        assert_eq!(CompactTarget(0x04000000).to_target(), Err(CompactError::Zero));
        assert_eq!(CompactTarget(0x00923456).to_target(), Err(CompactError::Zero));
        assert_eq!(CompactTarget(0x01803456).to_target(), Err(CompactError::Zero));

        assert_eq!(CompactTarget(0x01123456).to_target(), Ok(U256::from_u64(0x12)));
        assert_eq!(CompactTarget::from_target(U256::from_u64(0x12)), CompactTarget(0x01120000));
        assert_eq!(CompactTarget::from_target(U256::from_u64(0x80)), CompactTarget(0x02008000));

        assert_eq!(CompactTarget(0x01fedcba).decode_raw(), (U256::from_u64(0x7e), true, false));
        assert_eq!(CompactTarget(0x01fedcba).to_target(), Err(CompactError::Negative));

        assert_eq!(CompactTarget(0x02123456).to_target(), Ok(U256::from_u64(0x1234)));
        assert_eq!(CompactTarget(0x03123456).to_target(), Ok(U256::from_u64(0x123456)));
        assert_eq!(CompactTarget(0x04123456).to_target(), Ok(U256::from_u64(0x12345600)));
        assert_eq!(
            CompactTarget::from_target(U256::from_u64(0x12345600)),
            CompactTarget(0x04123456)
        );

        assert_eq!(
            CompactTarget(0x04923456).decode_raw(),
            (U256::from_u64(0x12345600), true, false)
        );
        assert_eq!(CompactTarget(0x04923456).to_target(), Err(CompactError::Negative));

        assert_eq!(CompactTarget(0x05009234).to_target(), Ok(U256::from_u64(0x92340000)));
        assert_eq!(
            CompactTarget::from_target(U256::from_u64(0x92340000)),
            CompactTarget(0x05009234)
        );

        let big = hex("0x1234560000000000000000000000000000000000000000000000000000000000");
        assert_eq!(CompactTarget(0x20123456).to_target(), Ok(big));
        assert_eq!(CompactTarget::from_target(big), CompactTarget(0x20123456));

        let (_, negative, overflow) = CompactTarget(0xff123456).decode_raw();
        assert!(!negative && overflow);
        assert_eq!(CompactTarget(0xff123456).to_target(), Err(CompactError::Overflow));
    }

    #[test]
    fn mainnet_limit_round_trips() {
        let limit = mainnet_limit();
        assert_eq!(
            limit,
            hex("0x00000000ffff0000000000000000000000000000000000000000000000000000")
        );
        assert_eq!(CompactTarget::from_target(limit), CompactTarget(0x1d00ffff));
        assert_eq!(CompactTarget(0x1d00ffff).to_string(), "0x1d00ffff");
    }

    #[test]
    fn work_of_difficulty_one() {
        let work = work_from_target(mainnet_limit());
        assert_eq!(work, Work(U256::from_u64(0x1_0001_0001)));
        assert_eq!(work.to_f64(), 4_295_032_833.0);
        assert_eq!(work_from_target(U256::MAX), Work(U256::ONE));
        assert_eq!(work_from_target(U256::ZERO), Work(U256::MAX));
        assert_eq!(work_from_target(U256::ONE), Work(U256::ONE.shl(255)));
    }

    #[test]
    fn expected_hashes_target_inverts_work() {
        for hashes in [2.0, 1000.0, 4_295_032_833.0, 1e20, 1e40] {
            let work = work_from_target(target_for_expected_hashes(hashes)).to_f64();
            // Work is an integer quotient, so allow one hash of rounding on small values.
            assert!(
                (work - hashes).abs() <= 1.0 || (work / hashes - 1.0).abs() < 1e-9,
                "{hashes} -> {work}"
            );
        }
        assert_eq!(target_for_expected_hashes(1.0), U256::MAX);
        assert_eq!(target_for_expected_hashes(0.5), U256::MAX);
        assert_eq!(target_for_expected_hashes(f64::NAN), U256::MAX);
        assert_eq!(target_for_expected_hashes(f64::INFINITY), U256::ONE);
        // 2^32 hashes: target 2^224 - 1.
        assert_eq!(
            target_for_expected_hashes(4_294_967_296.0),
            U256::ONE.shl(224).wrapping_sub(U256::ONE)
        );
    }

    #[test]
    fn hash_target_comparison_is_inclusive() {
        let target = U256::from_u64(1000);
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&1000u64.to_le_bytes());
        assert!(hash_meets_target(&BlockHash(bytes), &target));
        bytes[..8].copy_from_slice(&1001u64.to_le_bytes());
        assert!(!hash_meets_target(&BlockHash(bytes), &target));
    }

    // Real mainnet transitions, from Bitcoin Core's pow_tests.cpp.
    const TIMESPAN_S: u32 = 14 * 24 * 60 * 60;

    #[test]
    fn retarget_mainnet_normal() {
        let bits = retarget(
            CompactTarget(0x1d00ffff),
            1261130161,
            1262152739,
            TIMESPAN_S,
            mainnet_limit(),
        );
        assert_eq!(bits, CompactTarget(0x1d00d86a));
    }

    #[test]
    fn retarget_mainnet_pow_limit() {
        let bits = retarget(
            CompactTarget(0x1d00ffff),
            1231006505,
            1233061996,
            TIMESPAN_S,
            mainnet_limit(),
        );
        assert_eq!(bits, CompactTarget(0x1d00ffff));
    }

    #[test]
    fn retarget_mainnet_lower_clamp() {
        let bits = retarget(
            CompactTarget(0x1c05a3f4),
            1279008237,
            1279297671,
            TIMESPAN_S,
            mainnet_limit(),
        );
        assert_eq!(bits, CompactTarget(0x1c0168fd));
    }

    #[test]
    fn retarget_mainnet_upper_clamp() {
        let bits = retarget(
            CompactTarget(0x1c387f6f),
            1263163443,
            1269211443,
            TIMESPAN_S,
            mainnet_limit(),
        );
        assert_eq!(bits, CompactTarget(0x1d00e1fd));
    }

    #[test]
    fn retarget_never_panics_on_huge_targets() {
        // Target near 2^256 with a 4x stretch would overflow the multiply; the result is capped.
        let bits = retarget(CompactTarget(0x2100ffff), 0, u32::MAX, 100, U256::MAX);
        assert_eq!(bits, CompactTarget::from_target(U256::MAX));
        assert_eq!(
            retarget(CompactTarget(0x1d00ffff), 0, 10, 0, U256::MAX),
            CompactTarget(0x1d00ffff)
        );
        // Time going backwards is clamped to a quarter of the timespan.
        let limit = mainnet_limit();
        let bits = retarget(CompactTarget(0x1d00ffff), 1000, 0, 400, limit);
        assert_eq!(bits, CompactTarget::from_target(limit.div_u64(4).0));
    }
}
