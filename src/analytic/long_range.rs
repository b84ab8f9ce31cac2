//! Closed forms of the long-range attack with old keys on slot-based proof of stake
//! (`node::attacker::long_range`, `consensus::genesis`).
//!
//! # Set-up
//!
//! Keys holding relative stake σ = σ_old run the Praos lottery with active-slot coefficient
//! f; every other stakeholder is honest and online. The fork leaves the honest chain at the
//! fork point, in slot F; the old keys' coins are sold in slot S ≥ F on the honest chain, to
//! holders who do not stake. W = S − F.
//!
//! # Growth per slot
//!
//! With zero network delay (slots much longer than propagation) a chain grows by one block
//! in each slot that has at least one leader among the keys building it, whatever the number
//! of leaders (independent aggregation, see `consensus::praos`: keys with stakes σ_1 … σ_k
//! together lead with probability φ(Σ σ_i), φ(σ) = 1 − (1 − f)^σ). So:
//!
//! - the **fork**, built by the old keys alone, grows at a = φ(σ) per slot, before and
//!   after the sale alike (on the fork the sale never happens);
//! - the **honest chain** grows at φ(1) = f per slot before the sale (every key stakes on
//!   it, the old keys included) and at h = φ(1 − σ) after it (the sold stake is idle).
//!
//! # Whether and when the fork overtakes
//!
//! t slots after the sale (t ≥ 0) the fork has a (W + t) blocks above the fork point in
//! expectation and the honest chain f W + h t. The fork is longer once
//!
//! t > t* = (f − a) W / (a − h),
//!
//! which is finite exactly when a > h, that is σ > 1/2 (φ is increasing): the old keys must
//! have held a majority at the fork point, and did, honestly. At σ = 0.6, f = 0.5:
//! a = 0.34024, h = 0.24214, and with W = 300 slots t* = 488.5 slots after the sale.
//!
//! # The density rule
//!
//! Ouroboros Genesis compares two chains forking deeper than k by their blocks in the s
//! slots after the fork point. If those slots lie before the sale and in the epoch of the
//! fork point, both chains play the lottery on the same stake and the same nonce there, so
//! the old keys lead the same slots on both: the fork's blocks in the window are a subset
//! of the honest chain's. The honest chain has, in addition, one block in each window slot
//! that some other key leads and the old keys do not, with probability
//!
//! d = (1 − f)^σ (1 − (1 − f)^(1 − σ)) = (1 − f)^σ − (1 − f)
//!
//! per slot, independently. The rule favours the fork only if the honest chain has no such
//! slot (the chains then tie, and a tie keeps the chain held): with probability
//!
//! P_fail = (1 − d)^s.
//!
//! Expected blocks in the window: f s on the honest chain, a s on the fork. At σ = 0.6,
//! f = 0.5, d = 0.15975, and s = 10 gives P_fail = 0.1754, s = 200 gives 7.6 × 10⁻¹⁶.

use super::{AnalyticError, pos_slot_probabilities};

/// The growth rates per slot of the long-range attack (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LongRangeRates {
    /// The fork's, a = φ(σ_old).
    pub fork_per_slot: f64,
    /// The honest chain's before the sale, f.
    pub honest_before_sale_per_slot: f64,
    /// The honest chain's after the sale, h = φ(1 − σ_old).
    pub honest_after_sale_per_slot: f64,
}

/// The growth rates per slot of the fork and the honest chain for old keys of relative
/// stake `sigma_old` and active-slot coefficient `f`.
///
/// # Errors
///
/// As [`pos_slot_probabilities`]: 0 < σ_old < 1 and 0 < f < 1.
pub fn long_range_rates(sigma_old: f64, f: f64) -> Result<LongRangeRates, AnalyticError> {
    let (a, h) = pos_slot_probabilities(sigma_old, f)?;
    Ok(LongRangeRates {
        fork_per_slot: a,
        honest_before_sale_per_slot: f,
        honest_after_sale_per_slot: h,
    })
}

/// Expected slots after the sale until the fork is longer than the honest chain,
/// t* = (f − a) W / (a − h) for a fork point `pre_sale_slots` = W slots before the sale;
/// `None` when the fork never overtakes in expectation (a ≤ h, σ_old ≤ 1/2).
///
/// # Errors
///
/// As [`long_range_rates`].
pub fn long_range_overtake_slots(
    sigma_old: f64,
    f: f64,
    pre_sale_slots: u64,
) -> Result<Option<f64>, AnalyticError> {
    let r = long_range_rates(sigma_old, f)?;
    let gain = r.fork_per_slot - r.honest_after_sale_per_slot;
    let deficit = (f - r.fork_per_slot) * pre_sale_slots as f64;
    Ok((gain > 0.0).then(|| deficit / gain))
}

/// The chance that the density rule fails to prefer the honest chain over the fork, with a
/// window of `window_slots` = s slots lying before the sale and in the fork point's epoch:
/// P_fail = (1 − d)^s, d = (1 − f)^σ − (1 − f) (see the module docs).
///
/// # Errors
///
/// As [`long_range_rates`].
pub fn long_range_density_failure(
    sigma_old: f64,
    f: f64,
    window_slots: u64,
) -> Result<f64, AnalyticError> {
    long_range_rates(sigma_old, f)?;
    let d = libm::pow(1.0 - f, sigma_old) - (1.0 - f);
    Ok(libm::pow(1.0 - d, window_slots as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_overtake_and_density_match_the_worked_numbers() {
        let r = long_range_rates(0.6, 0.5).unwrap();
        assert!((r.fork_per_slot - 0.340_246).abs() < 1e-6, "{r:?}");
        assert!((r.honest_after_sale_per_slot - 0.242_142).abs() < 1e-6, "{r:?}");
        assert_eq!(r.honest_before_sale_per_slot, 0.5);
        let t = long_range_overtake_slots(0.6, 0.5, 300).unwrap().unwrap();
        assert!((t - 488.52).abs() < 0.01, "{t}");
        // A minority of old keys never overtakes; no head start, no wait.
        assert_eq!(long_range_overtake_slots(0.4, 0.5, 300).unwrap(), None);
        assert_eq!(long_range_overtake_slots(0.6, 0.5, 0).unwrap(), Some(0.0));
        let p10 = long_range_density_failure(0.6, 0.5, 10).unwrap();
        assert!((p10 - 0.175_414).abs() < 1e-6, "{p10}");
        let p200 = long_range_density_failure(0.6, 0.5, 200).unwrap();
        assert!((p200 / 7.6084e-16 - 1.0).abs() < 1e-4, "{p200}");
        assert!(long_range_rates(1.0, 0.5).is_err());
        assert!(long_range_rates(0.5, 1.0).is_err());
    }

    /// The density-failure closed form against a direct count of the coupled lottery: per
    /// window slot the old keys lead with probability a and some other key with
    /// probability h, independently; the honest chain has a block if either leads, the fork
    /// if the old keys do. Over 200,000 windows of 10 slots, the share of windows in which
    /// the fork has as many blocks as the honest chain is within 4 standard errors of
    /// P_fail.
    #[test]
    fn density_failure_matches_a_direct_count() {
        use crate::rng::{Purpose, RngStreams, uniform01};
        let (sigma, f, s) = (0.6, 0.5, 10u64);
        let r = long_range_rates(sigma, f).unwrap();
        let (a, h) = (r.fork_per_slot, r.honest_after_sale_per_slot);
        let mut rng = RngStreams::new(13).stream(Purpose::Attacker, 7);
        let windows = 200_000u64;
        let mut fails = 0u64;
        for _ in 0..windows {
            let (mut honest, mut fork) = (0, 0);
            for _ in 0..s {
                let old = uniform01(&mut rng) < a;
                let other = uniform01(&mut rng) < h;
                honest += u32::from(old || other);
                fork += u32::from(old);
            }
            fails += u64::from(fork >= honest);
        }
        let p = long_range_density_failure(sigma, f, s).unwrap();
        let se = (p * (1.0 - p) / windows as f64).sqrt();
        let measured = fails as f64 / windows as f64;
        assert!((measured - p).abs() < 4.0 * se, "measured {measured}, closed form {p}");
    }
}
