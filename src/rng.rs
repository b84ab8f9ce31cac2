//! Seeded random streams, one per (purpose, index), and the few distributions the model uses.
//!
//! A run has one master seed. Every consumer of randomness (the topology builder, the
//! latency sampler of one node, the mining clock of one miner, ...) gets its own ChaCha8
//! stream whose key is SHA-256(master seed, purpose, index). Adding a node, a feature or one
//! more draw in one place therefore never shifts the numbers seen anywhere else.
//!
//! The distributions are written out here with the pure-Rust `libm` so that a given seed
//! produces the same floats on every platform, whatever the system math library does.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// The random number generator of every stream.
pub type SimRng = ChaCha8Rng;

/// What a stream is used for. The discriminants are part of the determinism contract:
/// never renumber them, only append.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u32)]
pub enum Purpose {
    /// Building the peer graph.
    Topology = 1,
    /// Assigning nodes to regions and drawing their hash power.
    Population = 2,
    /// A miner's block-finding clock (index = node).
    Mining = 3,
    /// Link latencies drawn when the network is built (index 0).
    Latency = 4,
    /// Relay-protocol chance events at a node (index = receiving node).
    Relay = 5,
    /// Transaction workload: index 0 payment times and choices, 1 wallet keys, 2 submission
    /// nodes, 3 per-link transaction trickle delays.
    Workload = 6,
    /// Attacker strategies (reserved).
    Attacker = 7,
    /// Faults, partitions and churn (reserved).
    Faults = 8,
    /// Coinbase extra-nonce and template details of a miner (index = node).
    Template = 9,
    /// Consensus elections of a node other than proof of work: its stake keys (VRF and
    /// block-signing), its PoET wait draws (index = node). Topology and latency streams do
    /// not depend on it, so the network is the same whatever the consensus kind.
    Election = 10,
}

/// Derives independent streams from one master seed.
#[derive(Clone, Copy, Debug)]
pub struct RngStreams {
    master_seed: u64,
}

impl RngStreams {
    /// Creates the stream factory for a run.
    pub fn new(master_seed: u64) -> Self {
        RngStreams { master_seed }
    }

    /// The master seed of the run.
    pub fn master_seed(&self) -> u64 {
        self.master_seed
    }

    /// The stream for `purpose` and `index` (a node id, or 0 for run-wide purposes).
    pub fn stream(&self, purpose: Purpose, index: u64) -> SimRng {
        let mut hasher = Sha256::new();
        hasher.update(b"forksim-rng-v1");
        hasher.update(self.master_seed.to_le_bytes());
        hasher.update((purpose as u32).to_le_bytes());
        hasher.update(index.to_le_bytes());
        let key: [u8; 32] = hasher.finalize().into();
        ChaCha8Rng::from_seed(key)
    }
}

/// A uniform draw in [0, 1) with 53 random bits.
pub fn uniform01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform draw in (0, 1], safe to take the logarithm of.
pub fn uniform01_open<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    1.0 - uniform01(rng)
}

/// A uniform integer in `0..n`, without modulo bias.
///
/// # Panics
///
/// Panics if `n` is zero.
pub fn below<R: Rng + ?Sized>(rng: &mut R, n: u64) -> u64 {
    assert!(n > 0, "below(0) has no values to draw from");
    // Lemire's nearly-divisionless method.
    let mut m = (rng.next_u64() as u128) * (n as u128);
    let mut low = m as u64;
    if low < n {
        let threshold = n.wrapping_neg() % n;
        while low < threshold {
            m = (rng.next_u64() as u128) * (n as u128);
            low = m as u64;
        }
    }
    (m >> 64) as u64
}

/// An exponential draw with mean 1.
pub fn exp1<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    -libm::log(uniform01_open(rng))
}

/// A standard normal draw (Box–Muller; one of the pair is discarded for simplicity).
pub fn std_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = uniform01_open(rng);
    let u2 = uniform01(rng);
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

/// A log-normal draw with the given median and shape (sigma of the underlying normal).
pub fn lognormal<R: Rng + ?Sized>(rng: &mut R, median: f64, sigma: f64) -> f64 {
    median * libm::exp(sigma * std_normal(rng))
}

/// A Pareto draw with scale `x_min` and shape `alpha` (values are at least `x_min`).
pub fn pareto<R: Rng + ?Sized>(rng: &mut R, x_min: f64, alpha: f64) -> f64 {
    x_min / libm::pow(uniform01_open(rng), 1.0 / alpha)
}

/// Draws an index from a cumulative distribution (`cdf` non-decreasing, last entry 1).
pub fn from_cdf<R: Rng + ?Sized>(rng: &mut R, cdf: &[f64]) -> usize {
    let u = uniform01(rng);
    cdf.iter().position(|&c| u < c).unwrap_or(cdf.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let streams = RngStreams::new(42);
        let a1: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(streams.stream(Purpose::Mining, 3), |r, _| Some(r.next_u64()))
            .collect();
        let a2: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(streams.stream(Purpose::Mining, 3), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(streams.stream(Purpose::Mining, 4), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(streams.stream(Purpose::Latency, 3), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_ne!(a1, c);
        let other_seed: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(RngStreams::new(43).stream(Purpose::Mining, 3), |r, _| Some(r.next_u64()))
            .collect();
        assert_ne!(a1, other_seed);
    }

    #[test]
    fn exponential_mean_is_one_within_tolerance() {
        // 200k draws: the standard error of the mean is 1/sqrt(200k) ~ 0.0022; allow 5 SE.
        let mut rng = RngStreams::new(7).stream(Purpose::Mining, 0);
        let n = 200_000;
        let mean = (0..n).map(|_| exp1(&mut rng)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.011, "mean {mean}");
    }

    #[test]
    fn normal_has_unit_variance_within_tolerance() {
        let mut rng = RngStreams::new(8).stream(Purpose::Population, 0);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| std_normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        // SE of the mean 0.0022, SE of the variance ~ sqrt(2/n) = 0.0032; allow 5 SE.
        assert!(mean.abs() < 0.011, "mean {mean}");
        assert!((var - 1.0).abs() < 0.016, "var {var}");
    }

    #[test]
    fn below_is_in_range_and_covers_it() {
        let mut rng = RngStreams::new(9).stream(Purpose::Topology, 0);
        let mut seen = [0u32; 7];
        for _ in 0..7_000 {
            seen[below(&mut rng, 7) as usize] += 1;
        }
        // Each bucket expects 1000 with SD ~ 29; allow 5 SD.
        assert!(seen.iter().all(|&c| (855..=1145).contains(&c)), "{seen:?}");
    }

    #[test]
    fn from_cdf_respects_the_steps() {
        let mut rng = RngStreams::new(10).stream(Purpose::Topology, 0);
        let cdf = [0.0, 0.0, 1.0];
        assert!((0..100).all(|_| from_cdf(&mut rng, &cdf) == 2));
    }
}
