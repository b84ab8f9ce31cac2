//! Propagation delay of links: how long a message's first bit takes to cross a link.
//!
//! Latency is drawn **once per undirected link**, when the network is built: it is the link's
//! propagation delay, the same in both directions, not a per-message draw. Messages on one link
//! therefore arrive in the order they were sent, as on a TCP connection, and sending ten million
//! messages costs no sampling at all. Jitter (SimBlock-style Pareto) thus spreads latency across
//! links rather than across messages on one link.
//!
//! Validation of a spec against the region count lives here too ([`LinkLatencySpec::validate`]),
//! so that [`LinkLatencySpec::sample`] can stay a plain function on checked input.

use crate::network::NetworkError;
use crate::rng::{SimRng, lognormal, pareto, uniform01};
use crate::time::SimDuration;

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
    fn out_of_range_regions_do_not_panic() {
        let mut r = rng(4);
        assert_eq!(
            regions_2019(Jitter::Pareto { shape: 3.0 }).sample(9, 0, &mut r),
            SimDuration::ZERO
        );
    }
}
