//! Virtual time: integer microseconds, never floating point.
//!
//! Every event in a run is keyed by a [`SimTime`]. Using integers makes the event order exact
//! and identical on every machine; sampled floating-point delays are turned into ticks in one
//! place only ([`SimDuration::from_secs_f64`]), so rounding is decided once.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Ticks per second: virtual time counts microseconds.
pub const TICKS_PER_SEC: u64 = 1_000_000;

/// An instant of virtual time, in microseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of virtual time, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable instant, used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Microseconds since the start of the run.
    pub fn as_micros(self) -> u64 {
        self.0
    }

    /// Whole seconds since the start of the run (rounded down).
    pub fn as_secs(self) -> u64 {
        self.0 / TICKS_PER_SEC
    }

    /// Seconds since the start, as a float for reports only (never for ordering).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / TICKS_PER_SEC as f64
    }

    /// Milliseconds since the start, as a float for reports only.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1_000.0
    }

    /// Time elapsed since `earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A duration of whole microseconds.
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us)
    }

    /// A duration of whole milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * 1_000)
    }

    /// A duration of whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * TICKS_PER_SEC)
    }

    /// Converts a sampled delay in seconds to ticks, rounding to the nearest microsecond.
    ///
    /// This is the only place where floating-point delays become virtual time. Negative and
    /// NaN inputs become zero; values beyond the range saturate (they mean "never").
    pub fn from_secs_f64(secs: f64) -> Self {
        if secs.is_nan() || secs <= 0.0 {
            return SimDuration::ZERO;
        }
        let ticks = secs * TICKS_PER_SEC as f64 + 0.5;
        if ticks >= u64::MAX as f64 { SimDuration(u64::MAX) } else { SimDuration(ticks as u64) }
    }

    /// Converts a delay in milliseconds to ticks (see [`SimDuration::from_secs_f64`]).
    pub fn from_millis_f64(ms: f64) -> Self {
        Self::from_secs_f64(ms / 1_000.0)
    }

    /// Microseconds in this duration.
    pub fn as_micros(self) -> u64 {
        self.0
    }

    /// Seconds, as a float for reports only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / TICKS_PER_SEC as f64
    }

    /// Milliseconds, as a float for reports only.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1_000.0
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    /// Adds a duration, saturating at [`SimTime::MAX`] ("never").
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    /// The duration between two instants.
    ///
    /// # Panics
    ///
    /// Panics if `rhs` is later than `self`: the engine never moves time backwards.
    fn sub(self, rhs: SimTime) -> SimDuration {
        SimDuration(self.0.checked_sub(rhs.0).expect("virtual time never runs backwards"))
    }
}

impl fmt::Display for SimTime {
    /// Formats as `h:mm:ss.mmm` of virtual time.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms_total = self.0 / 1_000;
        let (h, rest) = (ms_total / 3_600_000, ms_total % 3_600_000);
        let (m, rest) = (rest / 60_000, rest % 60_000);
        let (s, ms) = (rest / 1_000, rest % 1_000);
        write!(f, "{h}:{m:02}:{s:02}.{ms:03}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_conversion_rounds_to_nearest_microsecond() {
        assert_eq!(SimDuration::from_secs_f64(1.0000004), SimDuration(1_000_000));
        assert_eq!(SimDuration::from_secs_f64(1.0000006), SimDuration(1_000_001));
        assert_eq!(SimDuration::from_secs_f64(-3.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(1e300), SimDuration(u64::MAX));
    }

    #[test]
    fn adding_saturates_at_never() {
        assert_eq!(SimTime::MAX + SimDuration::from_secs(1), SimTime::MAX);
    }

    #[test]
    fn display_is_clock_like() {
        let t = SimTime(3_723_004_000);
        assert_eq!(t.to_string(), "1:02:03.004");
    }
}
