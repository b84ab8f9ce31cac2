//! Summaries of a point's replicates: the numbers in `points.csv`.
//!
//! Two kinds of metric, two honest intervals:
//! - a **value** (one number per run): `mean` is the mean over replicates, `sd` the sample
//!   standard deviation (n − 1 in the denominator; 0 for a single run), and the 95 %
//!   interval is mean ± t(0.975, n − 1) · sd / √n, with Student's t from a table for
//!   n − 1 = 1..30 and the normal 1.96 beyond (slightly narrow for 31..~60 runs, by under
//!   4 %); a single run gives the degenerate interval [mean, mean];
//! - a **proportion** (successes in trials per run): successes and trials are pooled over
//!   replicates; `mean` is the pooled rate p, `sd` is its *standard error*
//!   √(p(1 − p)/trials) (not a spread between runs), and the 95 % interval is Wilson's
//!   score interval, which stays inside [0, 1] and behaves at p = 0 or 1 where p ± 1.96·se
//!   does not. With no trials at all every number is NaN.
//!
//! Sums run in replicate order, so the floats are the same on every run of the program.

/// The normal quantile z(0.975).
pub const Z_975: f64 = 1.959_963_984_540_054;

/// Student's t quantile t(0.975, df) for df = 1..=30 (index df − 1).
const T_975: [f64; 30] = [
    12.706_204_736,
    4.302_652_730,
    3.182_446_305,
    2.776_445_105,
    2.570_581_836,
    2.446_911_851,
    2.364_624_252,
    2.306_004_135,
    2.262_157_163,
    2.228_138_852,
    2.200_985_160,
    2.178_812_830,
    2.160_368_656,
    2.144_786_688,
    2.131_449_546,
    2.119_905_299,
    2.109_815_578,
    2.100_922_040,
    2.093_024_054,
    2.085_963_447,
    2.079_613_845,
    2.073_873_068,
    2.068_657_610,
    2.063_898_562,
    2.059_538_553,
    2.055_529_439,
    2.051_830_516,
    2.048_407_142,
    2.045_229_642,
    2.042_272_456,
];

/// One row's numbers in `points.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Runs summarized.
    pub runs: u64,
    /// Mean (values) or pooled rate (proportions).
    pub mean: f64,
    /// Sample standard deviation (values) or standard error of the rate (proportions).
    pub sd: f64,
    /// Lower end of the 95 % interval.
    pub ci95_low: f64,
    /// Upper end of the 95 % interval.
    pub ci95_high: f64,
}

/// t(0.975, df): the table for df ≤ 30, 1.96 beyond; `df = 0` has no quantile (NaN).
pub fn t_975(df: u64) -> f64 {
    match df {
        0 => f64::NAN,
        1..=30 => T_975[(df - 1) as usize],
        _ => Z_975,
    }
}

/// Mean, sample sd and t interval of values.
pub fn summarize_values(xs: &[f64]) -> Summary {
    let n = xs.len() as u64;
    if n == 0 {
        return Summary {
            runs: 0,
            mean: f64::NAN,
            sd: f64::NAN,
            ci95_low: f64::NAN,
            ci95_high: f64::NAN,
        };
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Summary { runs: 1, mean, sd: 0.0, ci95_low: mean, ci95_high: mean };
    }
    let squares = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>();
    let sd = (squares / (n - 1) as f64).sqrt();
    let half = t_975(n - 1) * sd / (n as f64).sqrt();
    Summary { runs: n, mean, sd, ci95_low: mean - half, ci95_high: mean + half }
}

/// Pooled rate, its standard error and the Wilson interval of `(successes, trials)` per run.
pub fn summarize_proportion(counts: &[(u64, u64)]) -> Summary {
    let successes: u128 = counts.iter().map(|&(s, _)| u128::from(s)).sum();
    let trials: u128 = counts.iter().map(|&(_, t)| u128::from(t)).sum();
    let (s, t) = (successes as f64, trials as f64);
    let p = s / t;
    let se = (p * (1.0 - p) / t).sqrt();
    let (low, high) = wilson(s, t, Z_975);
    Summary { runs: counts.len() as u64, mean: p, sd: se, ci95_low: low, ci95_high: high }
}

/// Wilson's score interval for `successes` of `trials` at normal quantile `z`, clamped to
/// [0, 1]; NaN for no trials.
pub fn wilson(successes: f64, trials: f64, z: f64) -> (f64, f64) {
    if trials <= 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let p = successes / trials;
    let z2 = z * z;
    let denominator = 1.0 + z2 / trials;
    let centre = (p + z2 / (2.0 * trials)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / trials + z2 / (4.0 * trials * trials)).sqrt();
    // The ends are exactly 0 and 1 when every trial failed or succeeded; rounding would
    // otherwise leave 1e-17 or 0.9999999999999999.
    let low = if successes <= 0.0 { 0.0 } else { (centre - half).max(0.0) };
    let high = if successes >= trials { 1.0 } else { (centre + half).min(1.0) };
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() < tol
    }

    #[test]
    fn wilson_matches_the_textbook_case() {
        // 5 of 10 at 95 %: (0.2366, 0.7634).
        let (low, high) = wilson(5.0, 10.0, Z_975);
        assert!(close(low, 0.2366, 5e-5) && close(high, 0.7634, 5e-5), "{low} {high}");
        // 0 of 10: (0, 0.2775); 10 of 10: (0.7225, 1).
        let (low, high) = wilson(0.0, 10.0, Z_975);
        assert!(low == 0.0 && close(high, 0.2775, 5e-5), "{low} {high}");
        let (low, high) = wilson(10.0, 10.0, Z_975);
        assert!(close(low, 0.7225, 5e-5) && high == 1.0, "{low} {high}");
        assert!(wilson(0.0, 0.0, Z_975).0.is_nan());
    }

    #[test]
    fn proportions_pool_over_replicates() {
        let s = summarize_proportion(&[(2, 4), (3, 6)]);
        assert_eq!(s.runs, 2);
        assert_eq!(s.mean, 0.5);
        assert!(close(s.sd, (0.25f64 / 10.0).sqrt(), 1e-15));
        assert!(close(s.ci95_low, 0.2366, 5e-5) && close(s.ci95_high, 0.7634, 5e-5), "{s:?}");
        let none = summarize_proportion(&[(0, 0)]);
        assert!(none.mean.is_nan() && none.ci95_low.is_nan());
    }

    #[test]
    fn values_use_student_t() {
        // 1..=5: mean 3, sd √2.5, t(0.975, 4) = 2.776445: 3 ± 1.963243.
        let s = summarize_values(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(s.runs, 5);
        assert_eq!(s.mean, 3.0);
        assert!(close(s.sd, 2.5f64.sqrt(), 1e-12));
        assert!(close(s.ci95_low, 1.036757, 1e-6) && close(s.ci95_high, 4.963243, 1e-6), "{s:?}");
        // Two runs 0 and 2: mean 1, sd √2, half = 12.7062 · √2 / √2.
        let s = summarize_values(&[0.0, 2.0]);
        assert!(close(s.ci95_high - s.mean, 12.706_204_736, 1e-9), "{s:?}");
        let one = summarize_values(&[7.5]);
        assert_eq!((one.sd, one.ci95_low, one.ci95_high), (0.0, 7.5, 7.5));
        assert_eq!(t_975(31), Z_975);
        assert!(T_975.windows(2).all(|w| w[0] > w[1]));
    }
}
