//! Propagation delay of links: how long a message's first bit takes to cross a link.
//!
//! Latency has two parts. A link's **base latency** is drawn once per undirected link, when
//! the network is built ([`LinkLatencySpec`]: a region table, optionally spread per link, or
//! a constant, uniform or log-normal draw); it is the path's typical delay, the same in both
//! directions. Each **message** then draws its own latency around that base
//! ([`MessageLatency`]), because the delay of one path varies from message to message (queues
//! in routers, retransmissions). A draw frozen per link would make every block of a miner
//! spread in exactly the same time. The transport keeps the order of a connection: a message
//! never overtakes an earlier one on the same directed link (TCP delivers in order).
//!
//! Per-message draws come from a counter-based stream per link ([`LinkDraws`]): the `k`-th
//! draw on link `l` is a hash of (run key, `l`, `k`), so a message on one link never shifts
//! the draws of another, and a run with millions of links keeps no generator state per link.
//!
//! Validation of a spec against the region count lives here too ([`LinkLatencySpec::validate`]),
//! so that [`LinkLatencySpec::sample`] can stay a plain function on checked input.

use crate::network::NetworkError;
use crate::rng::{SimRng, lognormal, pareto, uniform01};
use crate::time::SimDuration;

/// How one message's latency is drawn around its link's base latency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MessageLatency {
    /// The base latency exactly: every message on a link takes the same time.
    None,
    /// SimBlock's per-message Pareto (its `getLatency`): with base `m` ms, shape `0.2 m` and
    /// scale `m - 5` ms, so the mean stays close to `m` and the spread grows with distance.
    /// Links under 10 ms (where that shape is not above 2) keep their base.
    SimBlock,
    /// Pareto with this shape (above 1) and mean equal to the base.
    Pareto {
        /// The Pareto shape (alpha).
        shape: f64,
    },
    /// Log-normal with this sigma and mean equal to the base.
    LogNormal {
        /// Standard deviation of the log of the latency.
        sigma: f64,
    },
}

impl MessageLatency {
    /// One message's latency on a link of base latency `base`, from two independent uniform
    /// draws in (0, 1).
    pub fn draw(&self, base: SimDuration, u1: f64, u2: f64) -> SimDuration {
        let base_ms = base.as_millis_f64();
        match *self {
            MessageLatency::None => base,
            MessageLatency::SimBlock => {
                let shape = 0.2 * base_ms;
                if shape <= 2.0 {
                    return base;
                }
                pareto_delay(base_ms - 5.0, u1, 1.0 / shape)
            }
            MessageLatency::Pareto { shape } => {
                pareto_delay(base_ms * (shape - 1.0) / shape, u1, 1.0 / shape)
            }
            MessageLatency::LogNormal { sigma } => {
                let normal =
                    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2);
                SimDuration::from_millis_f64(
                    base_ms * libm::exp(sigma * normal - 0.5 * sigma * sigma),
                )
            }
        }
    }

    /// A latency that no draw from `u1` exceeds on a link of base latency `base`, found
    /// without the power function; `None` where the model has no such cheap bound (then the
    /// draw itself is cheap or rare).
    ///
    /// For a Pareto draw `scale / u^(1/shape)` with `shape > 1` (`> 2` for SimBlock) and
    /// `0 < u < 1`, `u^(1/shape)` is above `u` (above `sqrt(u)` for SimBlock), so
    /// `scale / u` (`scale / sqrt(u)`) bounds it; a relative margin of 1e-9 and two
    /// microseconds cover the rounding of both computations many times over. Division and
    /// square root are exactly rounded, so the bound is the same on every platform.
    pub fn upper_bound(&self, base: SimDuration, u1: f64) -> Option<SimDuration> {
        let base_ms = base.as_millis_f64();
        let ms = match *self {
            MessageLatency::SimBlock => {
                let shape = 0.2 * base_ms;
                if shape <= 2.0 {
                    return None;
                }
                (base_ms - 5.0) / u1.sqrt()
            }
            MessageLatency::Pareto { shape } => base_ms * (shape - 1.0) / shape / u1,
            MessageLatency::None | MessageLatency::LogNormal { .. } => return None,
        };
        Some(SimDuration::from_millis_f64(ms * (1.0 + 1e-9)) + SimDuration::from_micros(2))
    }

    /// A latency that no draw exceeds on a link of base latency `base`, whatever the
    /// uniforms; `None` where [`MessageLatency::upper_bound`] is `None` (the draws are not
    /// deferred) or the bound does not fit in a `u32` of microseconds.
    ///
    /// A Pareto draw `scale / u^(1/shape)` is largest at the smallest uniform the draws
    /// give, [`MIN_UNIFORM`] = 2^-54: `scale * 2^(54/shape)`. On most links that is seconds
    /// (a 50 ms SimBlock link: 1.9 s), so a deferred draw followed by a message more than that
    /// later on the link can be forgotten without computing even its bound. The margin
    /// (1e-6 relative and one millisecond) covers the rounding of `exp` and of the draw's
    /// own computation many times over.
    pub fn max_draw(&self, base: SimDuration) -> Option<SimDuration> {
        self.upper_bound(base, 0.5)?;
        let base_ms = base.as_millis_f64();
        let (scale_ms, shape) = match *self {
            MessageLatency::SimBlock => (base_ms - 5.0, 0.2 * base_ms),
            MessageLatency::Pareto { shape } => (base_ms * (shape - 1.0) / shape, shape),
            MessageLatency::None | MessageLatency::LogNormal { .. } => return None,
        };
        // 2^(54/shape) = 1 / MIN_UNIFORM^(1/shape), with the processor's `exp` (computed
        // for every link of the network, so cheaper than `pow`; a bound only decides
        // whether to skip work, never a result, so it need not be the same everywhere).
        let ms = scale_ms * (54.0 / shape * std::f64::consts::LN_2).exp() * (1.0 + 1e-6) + 1.0;
        (ms < f64::from(u32::MAX) / 1_000.0).then(|| SimDuration::from_millis_f64(ms))
    }

    /// Checks the parameters.
    ///
    /// # Errors
    ///
    /// A Pareto shape not above 1, or a sigma that is negative or not finite.
    pub fn validate(&self) -> Result<(), NetworkError> {
        match *self {
            MessageLatency::Pareto { shape } if !(shape.is_finite() && shape > 1.0) => {
                Err(NetworkError::ParetoShape { shape })
            }
            MessageLatency::LogNormal { sigma } if !(sigma.is_finite() && sigma >= 0.0) => {
                Err(NetworkError::LatencyParameter { name: "per_message_sigma", value: sigma })
            }
            _ => Ok(()),
        }
    }
}

/// `SimDuration::from_millis_f64(scale_ms / libm::pow(u, exponent))`, exactly, for `u` in
/// (0, 1) and a positive `exponent`, mostly without the power function (a third of a
/// message's cost when it was called for every draw).
///
/// `u^exponent` is first taken as `exp(exponent ln u)`. With `|exponent ln u|` below 40
/// (`u` is at least 2^-54 and the exponent at most 1), that is within a few times 1e-14,
/// relative, of the power function's result, for any libm whose `exp` and `ln` are within a
/// few units in the last place; `SLACK` allows a thousand times more. Conversion to whole
/// microseconds is monotone, so when both ends of that error interval convert to the same
/// tick count, that count is the exact answer on every platform; otherwise (about one draw
/// in 10^5) the pure-Rust power function decides, as before.
#[inline]
fn pareto_delay(scale_ms: f64, u: f64, exponent: f64) -> SimDuration {
    const SLACK: f64 = 1e-11;
    let approx = scale_ms / (exponent * u.ln()).exp();
    let low = SimDuration::from_millis_f64(approx * (1.0 - SLACK));
    let high = SimDuration::from_millis_f64(approx * (1.0 + SLACK));
    if low == high {
        return low;
    }
    SimDuration::from_millis_f64(scale_ms / libm::pow(u, exponent))
}

/// The smallest uniform [`LinkDraws::uniforms`] returns (53 random bits, offset by half a
/// step): 2^-54.
pub const MIN_UNIFORM: f64 = 0.5 / (1u64 << 53) as f64;

/// The per-link counter-based random stream of message latencies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkDraws {
    key: u64,
}

impl LinkDraws {
    /// The streams of a run whose key is `key` (drawn once from the run's latency stream).
    pub fn new(key: u64) -> LinkDraws {
        LinkDraws { key }
    }

    /// The `k`-th pair of uniform draws in (0, 1) on directed link `link`.
    #[inline]
    pub fn uniforms(&self, link: u32, k: u32) -> (f64, f64) {
        let counter = (u64::from(link) << 32) | u64::from(k);
        let a = splitmix64(self.key ^ splitmix64(counter));
        let b = splitmix64(a);
        (open01(a), open01(b))
    }
}

/// The SplitMix64 finaliser: a bijective mixer whose outputs pass BigCrush when fed a counter.
#[inline]
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// 53 random bits as a number strictly between 0 and 1.
#[inline]
fn open01(x: u64) -> f64 {
    ((x >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// Random spread of a link's latency around its table value.
#[derive(Clone, Debug, PartialEq)]
pub enum Jitter {
    /// The table value exactly.
    None,
    /// SimBlock-style: Pareto with this shape, scaled so its mean equals the table value.
    ///
    /// The shape must exceed 1 (otherwise the mean is infinite). With mean `m` and shape `a` the
    /// scale is `m (a - 1) / a`, so every link is at least that fast and a few are much slower.
    Pareto {
        /// The Pareto shape (alpha), greater than 1.
        shape: f64,
    },
}

/// How a link's latency is chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkLatencySpec {
    /// Mean one-way latency from a region matrix (ms), with jitter.
    Regions {
        /// `matrix_ms[from][to]`, square, one row per region.
        matrix_ms: Vec<Vec<f64>>,
        /// Spread around the matrix value.
        jitter: Jitter,
    },
    /// The same latency on every link.
    Constant {
        /// Latency in milliseconds.
        ms: f64,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Lower bound in milliseconds.
        min_ms: f64,
        /// Upper bound in milliseconds.
        max_ms: f64,
    },
    /// Log-normal with this median and shape (sigma of the underlying normal).
    LogNormal {
        /// Median latency in milliseconds.
        median_ms: f64,
        /// Standard deviation of the log of the latency.
        sigma: f64,
    },
}

impl LinkLatencySpec {
    /// Draws the latency of one link between a node in `from_region` and one in `to_region`.
    ///
    /// Draws from `rng`: none for `Constant` and unjittered `Regions`, one for `Uniform` and
    /// Pareto jitter, two for `LogNormal`. Sampled milliseconds are rounded to the nearest
    /// microsecond. The spec is assumed valid (see [`LinkLatencySpec::validate`]); a region
    /// outside the matrix reads as a zero latency rather than panicking.
    pub fn sample(&self, from_region: usize, to_region: usize, rng: &mut SimRng) -> SimDuration {
        let ms = match self {
            LinkLatencySpec::Regions { matrix_ms, jitter } => {
                let mean_ms = matrix_ms
                    .get(from_region)
                    .and_then(|row| row.get(to_region))
                    .copied()
                    .unwrap_or(0.0);
                match jitter {
                    Jitter::None => mean_ms,
                    Jitter::Pareto { shape } => {
                        if mean_ms <= 0.0 {
                            0.0
                        } else {
                            pareto(rng, mean_ms * (shape - 1.0) / shape, *shape)
                        }
                    }
                }
            }
            LinkLatencySpec::Constant { ms } => *ms,
            LinkLatencySpec::Uniform { min_ms, max_ms } => {
                min_ms + (max_ms - min_ms) * uniform01(rng)
            }
            LinkLatencySpec::LogNormal { median_ms, sigma } => lognormal(rng, *median_ms, *sigma),
        };
        SimDuration::from_millis_f64(ms)
    }

    /// Checks the spec for a network with `regions` regions.
    ///
    /// # Errors
    ///
    /// Returns a [`NetworkError`] when the matrix is not `regions` x `regions`, when a latency
    /// or parameter is negative, NaN or infinite, when `min_ms > max_ms`, or when a Pareto shape
    /// is not above 1.
    pub fn validate(&self, regions: usize) -> Result<(), NetworkError> {
        let non_negative = |name: &'static str, value: f64| {
            if value.is_finite() && value >= 0.0 {
                Ok(())
            } else {
                Err(NetworkError::LatencyParameter { name, value })
            }
        };
        match self {
            LinkLatencySpec::Regions { matrix_ms, jitter } => {
                if matrix_ms.len() != regions {
                    return Err(NetworkError::LatencyMatrixRows { rows: matrix_ms.len(), regions });
                }
                for (from, row) in matrix_ms.iter().enumerate() {
                    if row.len() != regions {
                        return Err(NetworkError::LatencyMatrixColumns {
                            row: from,
                            columns: row.len(),
                            regions,
                        });
                    }
                    for (to, &value) in row.iter().enumerate() {
                        if !(value.is_finite() && value >= 0.0) {
                            return Err(NetworkError::LatencyMatrixEntry { from, to, value });
                        }
                    }
                }
                if let Jitter::Pareto { shape } = jitter
                    && !(shape.is_finite() && *shape > 1.0)
                {
                    return Err(NetworkError::ParetoShape { shape: *shape });
                }
                Ok(())
            }
            LinkLatencySpec::Constant { ms } => non_negative("ms", *ms),
            LinkLatencySpec::Uniform { min_ms, max_ms } => {
                non_negative("min_ms", *min_ms)?;
                non_negative("max_ms", *max_ms)?;
                if min_ms > max_ms {
                    return Err(NetworkError::UniformRange { min_ms: *min_ms, max_ms: *max_ms });
                }
                Ok(())
            }
            LinkLatencySpec::LogNormal { median_ms, sigma } => {
                non_negative("median_ms", *median_ms)?;
                non_negative("sigma", *sigma)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::presets::LATENCY_MS_2019;
    use crate::rng::{Purpose, RngStreams};

    fn rng(seed: u64) -> SimRng {
        RngStreams::new(seed).stream(Purpose::Latency, 0)
    }

    fn regions_2019(jitter: Jitter) -> LinkLatencySpec {
        LinkLatencySpec::Regions {
            matrix_ms: LATENCY_MS_2019.iter().map(|row| row.to_vec()).collect(),
            jitter,
        }
    }

    #[test]
    fn unjittered_regions_and_constant_are_exact() {
        let mut r = rng(1);
        assert_eq!(regions_2019(Jitter::None).sample(0, 3, &mut r), SimDuration::from_millis(198));
        assert_eq!(
            LinkLatencySpec::Constant { ms: 2.5 }.sample(0, 0, &mut r),
            SimDuration::from_micros(2_500)
        );
    }

    #[test]
    fn pareto_jitter_keeps_the_table_mean() {
        // Shape 5: variance of the mean over n draws is m^2 / (a (a - 2)) / n = m^2 / 15 / n.
        // With n = 200k the standard error is about 0.06 % of m; allow 1 % (heavy tail).
        let spec = regions_2019(Jitter::Pareto { shape: 5.0 });
        let mut r = rng(2);
        let n = 200_000;
        let mean_ms =
            (0..n).map(|_| spec.sample(1, 2, &mut r).as_millis_f64()).sum::<f64>() / n as f64;
        assert!((mean_ms - 227.0).abs() < 2.27, "mean {mean_ms}");
        let floor = spec.sample(1, 2, &mut r).as_millis_f64();
        assert!(floor >= 227.0 * 4.0 / 5.0 - 0.001);
    }

    #[test]
    fn uniform_stays_in_range_and_lognormal_has_its_median() {
        let uniform = LinkLatencySpec::Uniform { min_ms: 10.0, max_ms: 20.0 };
        let mut r = rng(3);
        assert!((0..10_000).all(|_| {
            let d = uniform.sample(0, 0, &mut r).as_micros();
            (10_000..=20_000).contains(&d)
        }));
        let lognormal = LinkLatencySpec::LogNormal { median_ms: 50.0, sigma: 0.5 };
        let mut draws: Vec<u64> =
            (0..20_001).map(|_| lognormal.sample(0, 0, &mut r).as_micros()).collect();
        draws.sort_unstable();
        let median_ms = draws[10_000] as f64 / 1_000.0;
        // The sample median's SE is about 1.25 sigma m / sqrt(n) = 0.22 ms; allow 5 SE.
        assert!((median_ms - 50.0).abs() < 1.1, "median {median_ms}");
    }

    #[test]
    fn validation_rejects_bad_specs() {
        assert!(regions_2019(Jitter::None).validate(6).is_ok());
        assert_eq!(
            regions_2019(Jitter::None).validate(5),
            Err(NetworkError::LatencyMatrixRows { rows: 6, regions: 5 })
        );
        let ragged = LinkLatencySpec::Regions {
            matrix_ms: vec![vec![1.0, 2.0], vec![3.0]],
            jitter: Jitter::None,
        };
        assert_eq!(
            ragged.validate(2),
            Err(NetworkError::LatencyMatrixColumns { row: 1, columns: 1, regions: 2 })
        );
        let negative = LinkLatencySpec::Regions {
            matrix_ms: vec![vec![1.0, -2.0], vec![3.0, 4.0]],
            jitter: Jitter::None,
        };
        assert_eq!(
            negative.validate(2),
            Err(NetworkError::LatencyMatrixEntry { from: 0, to: 1, value: -2.0 })
        );
        assert_eq!(
            regions_2019(Jitter::Pareto { shape: 1.0 }).validate(6),
            Err(NetworkError::ParetoShape { shape: 1.0 })
        );
        assert!(LinkLatencySpec::Constant { ms: f64::NAN }.validate(1).is_err());
        assert_eq!(
            LinkLatencySpec::Uniform { min_ms: 5.0, max_ms: 4.0 }.validate(1),
            Err(NetworkError::UniformRange { min_ms: 5.0, max_ms: 4.0 })
        );
        assert_eq!(
            LinkLatencySpec::LogNormal { median_ms: 5.0, sigma: -1.0 }.validate(1),
            Err(NetworkError::LatencyParameter { name: "sigma", value: -1.0 })
        );
    }

    #[test]
    fn pareto_draws_equal_the_power_function_exactly() {
        let draws = LinkDraws::new(5);
        let mut k = 0;
        for scale_ms in [0.5, 6.0, 45.3, 119.0, 222.0, 1_000.0, 86_400_000.0] {
            for exponent in [1.0, 0.5, 1.0 / 1.2, 1.0 / 3.0, 1.0 / 24.8, 1.0 / 100.0] {
                for _ in 0..20_000 {
                    let (u, _) = draws.uniforms(1, k);
                    k += 1;
                    let exact = SimDuration::from_millis_f64(scale_ms / libm::pow(u, exponent));
                    assert_eq!(pareto_delay(scale_ms, u, exponent), exact, "{scale_ms} {u}");
                }
                for u in [0.5 / (1u64 << 53) as f64, 1.0 - 0.5 / (1u64 << 53) as f64, 0.5] {
                    let exact = SimDuration::from_millis_f64(scale_ms / libm::pow(u, exponent));
                    assert_eq!(pareto_delay(scale_ms, u, exponent), exact, "{scale_ms} {u}");
                }
            }
        }
    }

    #[test]
    fn upper_bounds_hold_for_every_draw() {
        let draws = LinkDraws::new(11);
        let models = [MessageLatency::SimBlock, MessageLatency::Pareto { shape: 1.5 }];
        for model in models {
            for base_ms in [11.0, 50.0, 124.0, 300.0] {
                let base = SimDuration::from_millis_f64(base_ms);
                for k in 0..50_000 {
                    let (u1, u2) = draws.uniforms(3, k);
                    let bound = model.upper_bound(base, u1).expect("a bound");
                    assert!(model.draw(base, u1, u2) <= bound, "{model:?} {base_ms} {u1}");
                }
                // The extremes of the uniforms.
                for u1 in [0.5 / (1u64 << 53) as f64, 1.0 - 0.5 / (1u64 << 53) as f64] {
                    let bound = model.upper_bound(base, u1).expect("a bound");
                    assert!(model.draw(base, u1, 0.5) <= bound, "{model:?} {base_ms} {u1}");
                }
            }
        }
        let short = SimDuration::from_millis_f64(9.0);
        assert_eq!(MessageLatency::SimBlock.upper_bound(short, 0.5), None);
        let lognormal = MessageLatency::LogNormal { sigma: 0.5 };
        assert_eq!(lognormal.upper_bound(short, 0.5), None);
    }

    #[test]
    fn max_draws_hold_for_every_draw_and_are_seconds_on_most_links() {
        let draws = LinkDraws::new(13);
        let (lowest, highest) = (MIN_UNIFORM, 1.0 - MIN_UNIFORM);
        assert_eq!(open01(0), lowest, "the smallest uniform the draws give");
        let models = [MessageLatency::SimBlock, MessageLatency::Pareto { shape: 3.0 }];
        for model in models {
            for base_ms in [11.0, 16.0, 32.0, 124.0, 325.0] {
                let base = SimDuration::from_millis_f64(base_ms);
                let Some(max) = model.max_draw(base) else { continue };
                for k in 0..20_000 {
                    let (u1, u2) = draws.uniforms(5, k);
                    assert!(model.draw(base, u1, u2) <= max, "{model:?} {base_ms} {u1}");
                }
                for u1 in [lowest, highest] {
                    assert!(model.draw(base, u1, 0.5) <= max, "{model:?} {base_ms} {u1}");
                }
            }
        }
        // A 50 ms SimBlock link: 45 ms * 2^(54/10), about 1.9 s.
        let fifty = MessageLatency::SimBlock.max_draw(SimDuration::from_millis_f64(50.0));
        let seconds = fifty.expect("bounded").as_micros() as f64 / 1e6;
        assert!((1.8..2.0).contains(&seconds), "{seconds} s");
        // Short SimBlock links have no cheap bound per draw, and no draw at all under 10 ms.
        assert_eq!(MessageLatency::SimBlock.max_draw(SimDuration::from_millis_f64(11.0)), None);
        assert_eq!(MessageLatency::SimBlock.max_draw(SimDuration::from_millis_f64(9.0)), None);
        let lognormal = MessageLatency::LogNormal { sigma: 0.5 };
        assert_eq!(lognormal.max_draw(SimDuration::from_millis_f64(50.0)), None);
    }

    #[test]
    fn out_of_range_regions_do_not_panic() {
        let mut r = rng(4);
        assert_eq!(
            regions_2019(Jitter::Pareto { shape: 3.0 }).sample(9, 0, &mut r),
            SimDuration::ZERO
        );
    }
}
