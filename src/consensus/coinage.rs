//! Coin-age proof of stake, as Peercoin introduced it: the right to mint grows with how many
//! coins a party holds and for how long, and minting spends that age and pays interest.
//!
//! # Coin-age
//!
//! A stake output of v coins held for d days has coin-age v · d coin-days. It is kept
//! exactly, in coin-units × seconds ([`UNITS_PER_COIN`] units per coin, 86,400 s per day).
//!
//! # Minting (the kernel)
//!
//! Every second a stake output may try once: it hashes its kernel,
//! SHA-256(stake modifier ‖ output id ‖ time in seconds), and mints if the first 8 bytes,
//! read as a big-endian integer, are below `target_per_coin_day × coin-days` (saturating).
//! So the chance per try is min(1, `target_per_coin_day` · 2^−64 · coin-days): it grows
//! linearly with coin-age, as in Peercoin (whose kernel target is the block target times
//! the coin-days). An optional cap on the coin-days that count for the kernel
//! (`weight_cap_days`; Peercoin caps the weight at 90 days of holding) limits hoarding.
//!
//! # Consumption and interest
//!
//! Minting consumes coin-age, by one of two conventions found in teaching material:
//!
//! - [`Consumption::Reset`]: the coin-age is reset to 0 (Peercoin: the stake output is spent
//!   into a new one whose age starts at 0);
//! - [`Consumption::Reduce365`]: the coin-age is reduced by 365 coin-days (floored at 0).
//!
//! The minter is paid interest on the coin-days consumed, at a yearly rate:
//! reward = consumed coin-days × rate / 365 coins (Peercoin's 1 % a year; the textbook
//! example uses 5 %: 3,000 coin-days give 0.41 coins and 5,000 give 0.68). The reward is
//! computed in integer units and rounded down.

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::time::{SimTime, TICKS_PER_SEC};

/// Smallest units per coin (Peercoin counts in 10^-6 coins).
pub const UNITS_PER_COIN: u64 = 1_000_000;
/// Seconds in a day (coin-days are coins × days).
pub const SECONDS_PER_DAY: u64 = 86_400;
/// Days in a year for the interest formula.
pub const DAYS_PER_YEAR: u64 = 365;

/// A bad coin-age parameter.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CoinageError {
    /// The yearly interest rate must be finite and in [0, 1].
    #[error("yearly interest rate {0} is outside [0, 1]")]
    InterestRate(f64),
}

/// How minting consumes coin-age.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consumption {
    /// Coin-age goes back to 0.
    Reset,
    /// Coin-age falls by 365 coin-days (not below 0).
    Reduce365,
}

/// Coin-age in coin-units × seconds (exact).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CoinAge(pub u128);

impl CoinAge {
    /// `coin_days` coin-days.
    pub fn from_coin_days(coin_days: u64) -> CoinAge {
        CoinAge(u128::from(coin_days) * u128::from(UNITS_PER_COIN) * u128::from(SECONDS_PER_DAY))
    }

    /// The coin-age in coin-days (as a float, for reports and the kernel weight).
    pub fn coin_days(self) -> f64 {
        self.0 as f64 / (UNITS_PER_COIN as f64 * SECONDS_PER_DAY as f64)
    }
}

/// Interest on `consumed` coin-age at `rate_ppm` parts per million a year, in coin units,
/// rounded down: consumed coin-days × rate / 365.
pub fn interest_units(consumed: CoinAge, rate_ppm: u64) -> u64 {
    // units·s × ppm / (s/day × days/year × 10^6): exact integer arithmetic, one floor.
    let denominator = u128::from(SECONDS_PER_DAY) * u128::from(DAYS_PER_YEAR) * 1_000_000;
    (consumed.0 * u128::from(rate_ppm) / denominator) as u64
}

/// A yearly rate as parts per million (5 % = 50,000).
///
/// # Errors
///
/// [`CoinageError::InterestRate`] unless 0 ≤ rate ≤ 1.
pub fn rate_ppm(yearly_rate: f64) -> Result<u64, CoinageError> {
    if !(0.0..=1.0).contains(&yearly_rate) {
        return Err(CoinageError::InterestRate(yearly_rate));
    }
    Ok(libm::round(yearly_rate * 1e6) as u64)
}

/// A stake output: coins and the coin-age they have built up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stake {
    /// An id of the output (a txid and index in the wiring; any distinct value in tests).
    pub id: [u8; 32],
    /// Value in coin units.
    pub value_units: u64,
    /// Coin-age already built up at `since`.
    pub age_at_since: CoinAge,
    /// From when the output has been ageing at its value.
    pub since: SimTime,
}

/// What a mint did to the stake output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Minted {
    /// Coin-age consumed by the mint.
    pub consumed: CoinAge,
    /// Interest paid, in coin units (added to the stake output's value).
    pub reward_units: u64,
}

impl Stake {
    /// A fresh output of `value_units` created at `since`.
    pub fn new(id: [u8; 32], value_units: u64, since: SimTime) -> Stake {
        Stake { id, value_units, age_at_since: CoinAge(0), since }
    }

    /// Its coin-age at `now`.
    pub fn coin_age(&self, now: SimTime) -> CoinAge {
        let held_s = now.saturating_since(self.since).as_micros() / TICKS_PER_SEC;
        CoinAge(self.age_at_since.0 + u128::from(self.value_units) * u128::from(held_s))
    }

    /// The kernel's threshold at `now`: `target_per_coin_day` × coin-days (capped at
    /// `weight_cap_days` coin-days if given), saturating at 2^64 − 1.
    pub fn kernel_threshold(
        &self,
        now: SimTime,
        target_per_coin_day: u64,
        weight_cap_days: Option<u64>,
    ) -> u64 {
        let mut age = self.coin_age(now);
        if let Some(cap) = weight_cap_days {
            let cap = CoinAge(
                u128::from(self.value_units) * u128::from(cap) * u128::from(SECONDS_PER_DAY),
            );
            age = age.min(cap);
        }
        let per_coin_day = u128::from(UNITS_PER_COIN) * u128::from(SECONDS_PER_DAY);
        let threshold = age.0 * u128::from(target_per_coin_day) / per_coin_day;
        u64::try_from(threshold).unwrap_or(u64::MAX)
    }

    /// The kernel hash's first 8 bytes at a whole second (see the module docs).
    pub fn kernel(&self, modifier: &[u8; 32], time_s: u64) -> u64 {
        let mut h = Sha256::new();
        h.update(b"forksim-kernel-v1");
        h.update(modifier);
        h.update(self.id);
        h.update(time_s.to_le_bytes());
        let digest: [u8; 32] = h.finalize().into();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first)
    }

    /// Whether the output's kernel at whole second `now` meets its threshold: the output
    /// may mint the next block.
    pub fn kernel_hit(
        &self,
        modifier: &[u8; 32],
        now: SimTime,
        target_per_coin_day: u64,
        weight_cap_days: Option<u64>,
    ) -> bool {
        let time_s = now.as_micros() / TICKS_PER_SEC;
        self.kernel(modifier, time_s)
            < self.kernel_threshold(now, target_per_coin_day, weight_cap_days)
    }

    /// Mints at `now`: consumes coin-age by `rule`, pays interest at `rate_ppm` a year on
    /// what was consumed into the output, and restarts its ageing at `now`.
    pub fn mint(&mut self, now: SimTime, rule: Consumption, rate_ppm: u64) -> Minted {
        let age = self.coin_age(now);
        let consumed = match rule {
            Consumption::Reset => age,
            Consumption::Reduce365 => age.min(CoinAge::from_coin_days(DAYS_PER_YEAR)),
        };
        let reward_units = interest_units(consumed, rate_ppm);
        self.age_at_since = CoinAge(age.0 - consumed.0);
        self.value_units += reward_units;
        self.since = now;
        Minted { consumed, reward_units }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(d: u64) -> SimTime {
        SimTime(d * SECONDS_PER_DAY * TICKS_PER_SEC)
    }

    /// Coin units as hundredths of a coin, rounded down: the textbook's two decimals.
    fn cents(units: u64) -> u64 {
        units / (UNITS_PER_COIN / 100)
    }

    #[test]
    fn five_percent_interest_gives_the_textbook_figures() {
        let rate = rate_ppm(0.05).unwrap();
        assert_eq!(rate, 50_000);
        // 3,000 coin-days × 0.05 / 365 = 0.410958... coins; 5,000 give 0.684931...
        let r3000 = interest_units(CoinAge::from_coin_days(3_000), rate);
        let r5000 = interest_units(CoinAge::from_coin_days(5_000), rate);
        assert_eq!(r3000, 410_958);
        assert_eq!(r5000, 684_931);
        assert_eq!((cents(r3000), cents(r5000)), (41, 68));
        // 100 coins held 30 days and 50 days are those coin-ages, and minting pays them.
        let mut stake = Stake::new([1; 32], 100 * UNITS_PER_COIN, SimTime::ZERO);
        assert_eq!(stake.coin_age(days(30)), CoinAge::from_coin_days(3_000));
        let minted = stake.mint(days(30), Consumption::Reset, rate);
        assert_eq!(cents(minted.reward_units), 41);
        assert_eq!(stake.coin_age(days(30)), CoinAge(0));
        assert_eq!(stake.value_units, 100 * UNITS_PER_COIN + 410_958);
        assert!(rate_ppm(1.5).is_err() && rate_ppm(-0.1).is_err());
    }

    #[test]
    fn the_two_consumption_conventions() {
        let rate = rate_ppm(0.05).unwrap();
        // 10 coins for 100 days: 1,000 coin-days.
        let mut reset = Stake::new([2; 32], 10 * UNITS_PER_COIN, SimTime::ZERO);
        let mut reduce = reset;
        let m = reset.mint(days(100), Consumption::Reset, rate);
        assert_eq!(m.consumed, CoinAge::from_coin_days(1_000));
        assert_eq!(reset.coin_age(days(100)), CoinAge(0));
        let m = reduce.mint(days(100), Consumption::Reduce365, rate);
        assert_eq!(m.consumed, CoinAge::from_coin_days(365));
        assert_eq!(m.reward_units, 50_000, "365 coin-days at 5 % pay 0.05 coins");
        assert_eq!(reduce.coin_age(days(100)), CoinAge::from_coin_days(635));
        // Ageing resumes at the new value: one more day adds 10.05 coin-days.
        let one_day_later = reduce.coin_age(days(101));
        assert_eq!(one_day_later.0 - CoinAge::from_coin_days(635).0, 10_050_000 * 86_400);
        // Reducing an age below 365 coin-days floors at 0.
        let mut small = Stake::new([3; 32], UNITS_PER_COIN, SimTime::ZERO);
        let m = small.mint(days(10), Consumption::Reduce365, rate);
        assert_eq!(m.consumed, CoinAge::from_coin_days(10));
        assert_eq!(small.coin_age(days(10)), CoinAge(0));
    }

    #[test]
    fn kernel_threshold_grows_linearly_and_respects_the_cap() {
        let stake = Stake::new([4; 32], 2 * UNITS_PER_COIN, SimTime::ZERO);
        let t = 1u64 << 40;
        assert_eq!(stake.kernel_threshold(days(1), t, None), 2 * t);
        assert_eq!(stake.kernel_threshold(days(50), t, None), 100 * t);
        assert_eq!(stake.kernel_threshold(days(200), t, Some(90)), 180 * t);
        assert_eq!(stake.kernel_threshold(days(200), u64::MAX / 2, None), u64::MAX);
        assert_eq!(stake.kernel_threshold(SimTime::ZERO, t, None), 0);
    }

    /// The mint chance per try is target · 2^−64 · coin-days: with p0 = 2^−14 per coin-day,
    /// outputs of 100 and 400 coin-days, 200,000 tries each (seconds 0..200,000 with the
    /// age held fixed by ageing the output from far back), hit rates within 4 standard
    /// errors of 100 p0 and 400 p0.
    #[test]
    fn mint_chance_grows_with_coin_age() {
        let target = 1u64 << 50; // p0 = 2^50 / 2^64 = 2^-14 per coin-day
        let p0 = 1.0 / f64::from(1u32 << 14);
        let modifier = [7u8; 32];
        for coin_days in [100u64, 400] {
            let mut hits = 0u64;
            let tries = 200_000u64;
            let stake = Stake {
                id: [coin_days as u8; 32],
                value_units: UNITS_PER_COIN,
                age_at_since: CoinAge::from_coin_days(coin_days),
                since: SimTime::ZERO,
            };
            let threshold = stake.kernel_threshold(SimTime::ZERO, target, None);
            for s in 0..tries {
                hits += u64::from(stake.kernel(&modifier, s) < threshold);
            }
            let p = p0 * coin_days as f64;
            let se = (p * (1.0 - p) / tries as f64).sqrt();
            let rate = hits as f64 / tries as f64;
            assert!((rate - p).abs() < 4.0 * se, "{coin_days} coin-days: {rate} vs {p}");
        }
        // kernel_hit uses the age at that moment: a fresh output cannot mint.
        let fresh = Stake::new([8; 32], UNITS_PER_COIN, SimTime::ZERO);
        assert!(!fresh.kernel_hit(&modifier, SimTime::ZERO, u64::MAX, None));
        let aged = Stake::new([8; 32], UNITS_PER_COIN, SimTime::ZERO);
        assert!(aged.kernel_hit(&modifier, days(400), u64::MAX / 100, None));
    }
}
