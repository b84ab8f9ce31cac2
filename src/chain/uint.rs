//! A small fixed-width 256-bit unsigned integer for targets, hashes-as-numbers and chain work.
//!
//! Proof of work compares a 256-bit hash with a 256-bit target and sums 256-bit work values,
//! exactly like Bitcoin Core's `arith_uint256`. The operations needed are few (add, subtract,
//! multiply and divide by a word, long division, shifts), so they are written here directly on
//! four `u64` limbs rather than pulling in a big-integer crate. Overflow is always explicit:
//! every operation that can overflow is `checked_`, `saturating_` or `wrapping_`.

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Not, Shl, Shr};

/// An unsigned 256-bit integer stored as four 64-bit limbs, limb 0 least significant.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct U256([u64; 4]);

impl U256 {
    /// Zero.
    pub const ZERO: U256 = U256([0; 4]);
    /// One.
    pub const ONE: U256 = U256([1, 0, 0, 0]);
    /// 2^256 - 1.
    pub const MAX: U256 = U256([u64::MAX; 4]);

    /// Builds a value from its limbs, least significant first.
    pub const fn from_limbs(limbs: [u64; 4]) -> U256 {
        U256(limbs)
    }

    /// Returns the limbs, least significant first.
    pub const fn limbs(&self) -> [u64; 4] {
        self.0
    }

    /// Converts a `u64`.
    pub const fn from_u64(n: u64) -> U256 {
        U256([n, 0, 0, 0])
    }

    /// Converts a `u128`.
    pub const fn from_u128(n: u128) -> U256 {
        U256([n as u64, (n >> 64) as u64, 0, 0])
    }

    /// Returns the value as a `u128` if it fits.
    pub fn to_u128(&self) -> Option<u128> {
        if self.0[2] != 0 || self.0[3] != 0 {
            return None;
        }
        Some(self.0[0] as u128 | ((self.0[1] as u128) << 64))
    }

    /// Reads 32 bytes as a little-endian number (byte 0 least significant).
    pub fn from_le_bytes(bytes: [u8; 32]) -> U256 {
        let mut limbs = [0u64; 4];
        for (i, limb) in limbs.iter_mut().enumerate() {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            *limb = u64::from_le_bytes(word);
        }
        U256(limbs)
    }

    /// Writes the number as 32 little-endian bytes.
    pub fn to_le_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, limb) in self.0.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&limb.to_le_bytes());
        }
        out
    }

    /// Parses big-endian hex (most significant digit first, optional `0x`, 1 to 64 digits).
    ///
    /// Returns `None` for empty, over-long or non-hex input.
    pub fn from_be_hex(hex: &str) -> Option<U256> {
        let digits = hex.strip_prefix("0x").or_else(|| hex.strip_prefix("0X")).unwrap_or(hex);
        if digits.is_empty() || digits.len() > 64 {
            return None;
        }
        let mut out = U256::ZERO;
        for c in digits.chars() {
            let d = c.to_digit(16)?;
            out = out.shl(4);
            out.0[0] |= d as u64;
        }
        Some(out)
    }

    /// Returns the position of the highest set bit plus one (0 for zero), like Core's `bits()`.
    pub fn bits(&self) -> u32 {
        for i in (0..4).rev() {
            if self.0[i] != 0 {
                return 64 * i as u32 + (64 - self.0[i].leading_zeros());
            }
        }
        0
    }

    /// Returns true for zero.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    /// Adds, returning the wrapped result and whether it overflowed.
    fn overflowing_add(self, rhs: U256) -> (U256, bool) {
        let mut out = [0u64; 4];
        let mut carry = false;
        for (i, limb) in out.iter_mut().enumerate() {
            let (s1, c1) = self.0[i].overflowing_add(rhs.0[i]);
            let (s2, c2) = s1.overflowing_add(carry as u64);
            *limb = s2;
            carry = c1 || c2;
        }
        (U256(out), carry)
    }

    /// Subtracts, returning the wrapped result and whether it borrowed.
    fn overflowing_sub(self, rhs: U256) -> (U256, bool) {
        let mut out = [0u64; 4];
        let mut borrow = false;
        for (i, limb) in out.iter_mut().enumerate() {
            let (d1, b1) = self.0[i].overflowing_sub(rhs.0[i]);
            let (d2, b2) = d1.overflowing_sub(borrow as u64);
            *limb = d2;
            borrow = b1 || b2;
        }
        (U256(out), borrow)
    }

    /// Adds, returning `None` on overflow.
    pub fn checked_add(self, rhs: U256) -> Option<U256> {
        match self.overflowing_add(rhs) {
            (v, false) => Some(v),
            _ => None,
        }
    }

    /// Adds, returning [`U256::MAX`] on overflow.
    pub fn saturating_add(self, rhs: U256) -> U256 {
        self.checked_add(rhs).unwrap_or(U256::MAX)
    }

    /// Adds modulo 2^256.
    pub fn wrapping_add(self, rhs: U256) -> U256 {
        self.overflowing_add(rhs).0
    }

    /// Subtracts, returning `None` if `rhs > self`.
    pub fn checked_sub(self, rhs: U256) -> Option<U256> {
        match self.overflowing_sub(rhs) {
            (v, false) => Some(v),
            _ => None,
        }
    }

    /// Subtracts, returning zero if `rhs > self`.
    pub fn saturating_sub(self, rhs: U256) -> U256 {
        self.checked_sub(rhs).unwrap_or(U256::ZERO)
    }

    /// Subtracts modulo 2^256.
    pub fn wrapping_sub(self, rhs: U256) -> U256 {
        self.overflowing_sub(rhs).0
    }

    /// Multiplies by a word, returning `None` on overflow.
    pub fn mul_u64(self, rhs: u64) -> Option<U256> {
        let mut out = [0u64; 4];
        let mut carry: u128 = 0;
        for (i, limb) in out.iter_mut().enumerate() {
            let prod = self.0[i] as u128 * rhs as u128 + carry;
            *limb = prod as u64;
            carry = prod >> 64;
        }
        if carry != 0 { None } else { Some(U256(out)) }
    }

    /// Divides by a word, returning the quotient and the remainder.
    ///
    /// # Panics
    /// Panics if `rhs` is zero (a caller bug, like integer division by zero).
    pub fn div_u64(self, rhs: u64) -> (U256, u64) {
        assert!(rhs != 0, "U256::div_u64: division by zero");
        let mut out = [0u64; 4];
        let mut rem: u128 = 0;
        for i in (0..4).rev() {
            let cur = (rem << 64) | self.0[i] as u128;
            out[i] = (cur / rhs as u128) as u64;
            rem = cur % rhs as u128;
        }
        (U256(out), rem as u64)
    }

    /// Divides by a 256-bit value, returning the quotient and the remainder (long division).
    ///
    /// # Panics
    /// Panics if `divisor` is zero (a caller bug, like integer division by zero).
    pub fn div_rem(self, divisor: U256) -> (U256, U256) {
        assert!(!divisor.is_zero(), "U256::div_rem: division by zero");
        if divisor.0[1..] == [0, 0, 0] {
            let (q, r) = self.div_u64(divisor.0[0]);
            return (q, U256::from_u64(r));
        }
        if self < divisor {
            return (U256::ZERO, self);
        }
        let shift = self.bits() - divisor.bits();
        let mut d = divisor.shl(shift);
        let mut rem = self;
        let mut quot = U256::ZERO;
        for bit in (0..=shift).rev() {
            if rem >= d {
                rem = rem.wrapping_sub(d);
                quot.0[(bit / 64) as usize] |= 1u64 << (bit % 64);
            }
            d = d.shr(1);
        }
        (quot, rem)
    }

    /// Shifts left by `n` bits, dropping bits shifted out (zero for `n >= 256`).
    #[allow(clippy::should_implement_trait)]
    pub fn shl(self, n: u32) -> U256 {
        if n >= 256 {
            return U256::ZERO;
        }
        let words = (n / 64) as usize;
        let bits = n % 64;
        let mut out = [0u64; 4];
        for i in (words..4).rev() {
            let src = i - words;
            out[i] = self.0[src] << bits;
            if bits != 0 && src > 0 {
                out[i] |= self.0[src - 1] >> (64 - bits);
            }
        }
        U256(out)
    }

    /// Shifts right by `n` bits (zero for `n >= 256`).
    #[allow(clippy::should_implement_trait)]
    pub fn shr(self, n: u32) -> U256 {
        if n >= 256 {
            return U256::ZERO;
        }
        let words = (n / 64) as usize;
        let bits = n % 64;
        let mut out = [0u64; 4];
        for (i, limb) in out.iter_mut().enumerate().take(4 - words) {
            let src = i + words;
            *limb = self.0[src] >> bits;
            if bits != 0 && src + 1 < 4 {
                *limb |= self.0[src + 1] << (64 - bits);
            }
        }
        U256(out)
    }

    /// Shifts left by `n` bits, returning [`U256::MAX`] if any set bit would be lost.
    pub fn saturating_shl(self, n: u32) -> U256 {
        if self.is_zero() {
            return U256::ZERO;
        }
        if self.bits() as u64 + n as u64 > 256 {
            return U256::MAX;
        }
        self.shl(n)
    }

    /// Returns the bitwise complement (Core's `~`).
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> U256 {
        U256([!self.0[0], !self.0[1], !self.0[2], !self.0[3]])
    }

    /// Returns the least significant 64 bits (Core's `GetLow64`).
    pub fn low_u64(&self) -> u64 {
        self.0[0]
    }

    /// Converts to the nearest `f64` (ties to even), for reports and expected-hash arithmetic.
    pub fn to_f64(&self) -> f64 {
        let bits = self.bits();
        if bits <= 64 {
            return self.0[0] as f64;
        }
        // Keep the top 64 bits and fold every lower bit into a sticky bit 0: the 53-bit
        // rounding of `u64 -> f64` then rounds exactly as the full value would. Scaling by a
        // power of two is exact.
        let shift = bits - 64;
        let top = self.shr(shift).low_u64();
        let sticky = self.shl(256 - shift).is_zero();
        let top = top | (!sticky) as u64;
        top as f64 * f64::from_bits((1023u64 + shift as u64) << 52)
    }

    /// Converts a non-negative `f64`, rounding down; NaN and values below one give zero and
    /// values at or above 2^256 saturate to [`U256::MAX`].
    pub fn from_f64(x: f64) -> U256 {
        // 2^256 built from its bit pattern (exponent 1023 + 256, zero mantissa).
        let two_pow_256 = f64::from_bits((1023u64 + 256) << 52);
        if x.is_nan() || x < 1.0 {
            return U256::ZERO;
        }
        if x >= two_pow_256 {
            return U256::MAX;
        }
        if x < 18_446_744_073_709_551_616.0 {
            // `as` truncates toward zero, which is floor for positive values.
            return U256::from_u64(x as u64);
        }
        // x >= 2^64 is an integer: x = mantissa * 2^(exponent - 52) exactly.
        let raw = x.to_bits();
        let exponent = ((raw >> 52) & 0x7ff) as u32; // biased; x is normal here
        let mantissa = (raw & ((1u64 << 52) - 1)) | (1u64 << 52);
        U256::from_u64(mantissa).shl(exponent - 1023 - 52)
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &U256) -> Ordering {
        for i in (0..4).rev() {
            match self.0[i].cmp(&other.0[i]) {
                Ordering::Equal => continue,
                ord => return ord,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &U256) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Not for U256 {
    type Output = U256;
    fn not(self) -> U256 {
        U256::not(self)
    }
}

impl Shl<u32> for U256 {
    type Output = U256;
    fn shl(self, n: u32) -> U256 {
        U256::shl(self, n)
    }
}

impl Shr<u32> for U256 {
    type Output = U256;
    fn shr(self, n: u32) -> U256 {
        U256::shr(self, n)
    }
}

impl fmt::Display for U256 {
    /// Formats as `0x` followed by 64 hex digits, most significant first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:016x}{:016x}{:016x}{:016x}", self.0[3], self.0[2], self.0[1], self.0[0])
    }
}

impl fmt::Debug for U256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn u(n: u128) -> U256 {
        U256::from_u128(n)
    }

    #[test]
    fn constants_and_bits() {
        assert_eq!(U256::ZERO.bits(), 0);
        assert_eq!(U256::ONE.bits(), 1);
        assert_eq!(U256::MAX.bits(), 256);
        assert_eq!(U256::ONE.shl(200).bits(), 201);
        assert!(U256::ZERO.is_zero());
        assert_eq!(U256::MAX.not(), U256::ZERO);
        assert_eq!(!U256::ZERO, U256::MAX);
    }

    #[test]
    fn hex_and_bytes_round_trip() {
        let v =
            U256::from_be_hex("0x00000000ffff0000000000000000000000000000000000000000000000000000")
                .expect("valid hex");
        assert_eq!(v, U256::from_u64(0xffff).shl(208));
        assert_eq!(
            v.to_string(),
            "0x00000000ffff0000000000000000000000000000000000000000000000000000"
        );
        assert_eq!(U256::from_le_bytes(v.to_le_bytes()), v);
        assert_eq!(U256::from_be_hex(""), None);
        assert_eq!(U256::from_be_hex("0xg"), None);
        assert_eq!(U256::from_be_hex(&"f".repeat(65)), None);
        assert_eq!(U256::from_be_hex(&"f".repeat(64)), Some(U256::MAX));
    }

    #[test]
    fn overflow_is_reported() {
        assert_eq!(U256::MAX.checked_add(U256::ONE), None);
        assert_eq!(U256::MAX.saturating_add(U256::ONE), U256::MAX);
        assert_eq!(U256::MAX.wrapping_add(U256::ONE), U256::ZERO);
        assert_eq!(U256::ZERO.checked_sub(U256::ONE), None);
        assert_eq!(U256::MAX.mul_u64(2), None);
        assert_eq!(U256::ONE.shl(255).saturating_shl(1), U256::MAX);
        assert_eq!(U256::ONE.shl(254).saturating_shl(1), U256::ONE.shl(255));
        assert_eq!(U256::ZERO.saturating_shl(1000), U256::ZERO);
        assert_eq!(U256::MAX.shl(256), U256::ZERO);
        assert_eq!(U256::MAX.shr(256), U256::ZERO);
    }

    #[test]
    fn long_division_on_wide_values() {
        let a = U256::MAX;
        let b = U256::ONE.shl(128).wrapping_add(U256::from_u64(12345));
        let (q, r) = a.div_rem(b);
        assert!(r < b);
        // q * b + r == a, checked via limbs: q fits in 128 bits here.
        let q128 = q.to_u128().expect("quotient fits in 128 bits");
        let lo = (q128 as u64, (q128 >> 64) as u64);
        let back = b
            .mul_u64(lo.0)
            .expect("no overflow")
            .wrapping_add(b.mul_u64(lo.1).expect("no overflow").shl(64))
            .wrapping_add(r);
        assert_eq!(back, a);
    }

    #[test]
    fn f64_conversions() {
        assert_eq!(U256::from_f64(-1.0), U256::ZERO);
        assert_eq!(U256::from_f64(f64::NAN), U256::ZERO);
        assert_eq!(U256::from_f64(3.9), U256::from_u64(3));
        assert_eq!(U256::from_f64(1e300), U256::MAX);
        assert_eq!(U256::from_f64(2f64.powi(100)), U256::ONE.shl(100));
        assert_eq!(U256::ONE.shl(200).to_f64(), 2f64.powi(200));
        let x = 123_456_789.0 * 2f64.powi(150);
        assert_eq!(U256::from_f64(x).to_f64(), x);
    }

    proptest! {
        #[test]
        fn add_sub_match_u128(a in any::<u128>(), b in any::<u128>()) {
            let (s, overflow) = a.overflowing_add(b);
            let wide = u(a).checked_add(u(b)).expect("two u128 never overflow 256 bits");
            if overflow {
                prop_assert_eq!(wide, u(s).wrapping_add(U256::ONE.shl(128)));
            } else {
                prop_assert_eq!(wide, u(s));
            }
            prop_assert_eq!(u(a).checked_sub(u(b)), a.checked_sub(b).map(u));
            prop_assert_eq!(u(a).cmp(&u(b)), a.cmp(&b));
        }

        #[test]
        fn mul_div_match_u128(a in any::<u64>(), b in any::<u64>(), c in 1u64..) {
            let prod = a as u128 * b as u128;
            prop_assert_eq!(U256::from_u64(a).mul_u64(b), Some(u(prod)));
            let (q, r) = u(prod).div_u64(c);
            prop_assert_eq!(q, u(prod / c as u128));
            prop_assert_eq!(r as u128, prod % c as u128);
        }

        #[test]
        fn div_rem_matches_u128(a in any::<u128>(), b in 1u128..) {
            let (q, r) = u(a).div_rem(u(b));
            prop_assert_eq!(q, u(a / b));
            prop_assert_eq!(r, u(a % b));
        }

        #[test]
        fn shifts_match_u128(a in any::<u128>(), n in 0u32..128) {
            prop_assert_eq!(u(a).shr(n), u(a >> n));
            // Shifting left within 256 bits loses nothing, so shifting back restores it.
            prop_assert_eq!(u(a).shl(n).shr(n), u(a));
            prop_assert_eq!(u(a).shl(n).bits(), if a == 0 { 0 } else { 128 - a.leading_zeros() + n });
            if a.leading_zeros() >= n {
                prop_assert_eq!(u(a).shl(n), u(a << n));
            }
        }

        #[test]
        fn bits_and_f64_match_u128(a in any::<u128>()) {
            prop_assert_eq!(u(a).bits(), 128 - a.leading_zeros());
            prop_assert_eq!(u(a).to_f64(), a as f64);
            prop_assert_eq!(&u(a).to_le_bytes()[..16], &a.to_le_bytes()[..]);
        }

        #[test]
        fn wide_div_rem_reconstructs(limbs in any::<[u64; 4]>(), dl in any::<[u64; 4]>()) {
            let a = U256::from_limbs(limbs);
            let d = U256::from_limbs(dl);
            prop_assume!(!d.is_zero());
            let (q, r) = a.div_rem(d);
            prop_assert!(r < d);
            // Reconstruct q * d + r limb by limb (q*d fits since q*d <= a).
            let mut back = r;
            for (i, ql) in q.limbs().iter().enumerate() {
                let part = d.mul_u64(*ql);
                if *ql != 0 {
                    let part = part.expect("q*d <= a cannot overflow");
                    prop_assert!(part.bits() + 64 * i as u32 <= 256 || part.is_zero());
                    back = back.checked_add(part.shl(64 * i as u32)).expect("sum <= a");
                }
            }
            prop_assert_eq!(back, a);
        }
    }
}
