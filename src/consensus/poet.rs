//! Proof of elapsed time (Hyperledger Sawtooth's PoET): every node asks its trusted enclave
//! for a random wait, and the first to wake produces the block; a statistical test catches
//! nodes that win too often, the symptom of a compromised enclave.
//!
//! # Wait times
//!
//! For each block, node i draws a wait W_i = T · (Σ_j w_j / w_i) · E_i, with E_i ~ Exp(1),
//! T the target block interval and w_i the node's weight (1 for every node unless
//! configured). The minimum of independent exponentials is exponential with the sum of the
//! rates, Σ_i w_i / (T Σ_j w_j) = 1/T, and node i is the minimum with probability
//! w_i / Σ_j w_j. So with equal weights PoET elects leaders exactly as proof of work does
//! with equal hash shares: the same exponential block interval and the same uniform winner,
//! which is why the two should give the same stale-rate distribution on one network.
//!
//! Ties (equal microsecond waits) go to the lower node id.
//!
//! # A compromised enclave
//!
//! An attacker who has broken its enclave multiplies its waits by a factor c < 1
//! ([`WaitTimer::with_timer_factor`]). Its rate becomes w_i / c, and it wins with probability
//! (w_i / c) / (w_i / c + Σ_{j≠i} w_j).
//!
//! # The z-test
//!
//! Sawtooth's defence: after each block, for each node with k wins out of the n blocks it
//! has been eligible for and expected share p, compute z = (k − n p) / √(n p (1 − p)) and
//! flag the node if it has at least [`ZTest::min_wins`] wins and z > [`ZTest::z_max`].
//! Sawtooth's defaults are z_max = 3.075 (the one-sided normal tail beyond 3.075 is 0.00105:
//! a significance of about 0.1 % per check) and 3 wins. The check is repeated after every
//! block, so over a long run an honest node is flagged more often than 0.1 %; the tests
//! measure that rate.

use thiserror::Error;

use crate::rng::{SimRng, exp1};
use crate::time::SimDuration;

/// A bad PoET setting.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PoetError {
    /// Weights must be positive and finite.
    #[error("node {node}: poet weight {weight} is not positive")]
    Weight {
        /// The node.
        node: usize,
        /// Its weight.
        weight: f64,
    },
    /// The timer factor of a compromised node must be in (0, 1].
    #[error("node {node}: timer factor {factor} is outside (0, 1]")]
    TimerFactor {
        /// The node.
        node: usize,
        /// The factor.
        factor: f64,
    },
    /// The target interval must be positive.
    #[error("target block interval must be positive")]
    Interval,
}

/// The trusted timers of a network of nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitTimer {
    target: SimDuration,
    /// Mean wait per node: T · Σw / w_i, times its timer factor.
    mean_s: Vec<f64>,
}

impl WaitTimer {
    /// Timers for nodes with these weights and target interval.
    ///
    /// # Errors
    ///
    /// [`PoetError`] for a non-positive weight or interval.
    pub fn new(target: SimDuration, weights: &[f64]) -> Result<WaitTimer, PoetError> {
        if target == SimDuration::ZERO {
            return Err(PoetError::Interval);
        }
        for (node, &weight) in weights.iter().enumerate() {
            if !(weight > 0.0 && weight.is_finite()) {
                return Err(PoetError::Weight { node, weight });
            }
        }
        let total: f64 = weights.iter().sum();
        let t = target.as_secs_f64();
        Ok(WaitTimer { target, mean_s: weights.iter().map(|w| t * total / w).collect() })
    }

    /// Equal weights for `nodes` nodes.
    ///
    /// # Errors
    ///
    /// [`PoetError::Interval`] for a zero interval.
    pub fn equal(target: SimDuration, nodes: usize) -> Result<WaitTimer, PoetError> {
        WaitTimer::new(target, &vec![1.0; nodes])
    }

    /// The same timers with `node`'s enclave compromised: its waits are multiplied by
    /// `factor`.
    ///
    /// # Errors
    ///
    /// [`PoetError::TimerFactor`] unless 0 < factor ≤ 1.
    pub fn with_timer_factor(mut self, node: usize, factor: f64) -> Result<WaitTimer, PoetError> {
        if !(factor > 0.0 && factor <= 1.0) {
            return Err(PoetError::TimerFactor { node, factor });
        }
        self.mean_s[node] *= factor;
        Ok(self)
    }

    /// The target interval.
    pub fn target(&self) -> SimDuration {
        self.target
    }

    /// Node `node`'s wait for the next block, from its own stream.
    pub fn draw(&self, node: usize, rng: &mut SimRng) -> SimDuration {
        SimDuration::from_secs_f64(self.mean_s[node] * exp1(rng))
    }

    /// One block: every node draws from its stream; the first to wake (lowest id on a tie)
    /// wins. Returns the winner and the wait.
    pub fn round(&self, streams: &mut [SimRng]) -> (usize, SimDuration) {
        let mut best = (0usize, SimDuration(u64::MAX));
        for (node, rng) in streams.iter_mut().enumerate() {
            let wait = self.draw(node, rng);
            if wait < best.1 {
                best = (node, wait);
            }
        }
        best
    }

    /// The probability that `node` wins a block (its rate over the sum of the rates).
    pub fn win_probability(&self, node: usize) -> f64 {
        let total: f64 = self.mean_s.iter().map(|m| 1.0 / m).sum();
        (1.0 / self.mean_s[node]) / total
    }
}

/// Sawtooth's z-test on win counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ZTest {
    /// Flag when z exceeds this (Sawtooth: 3.075).
    pub z_max: f64,
    /// Flag only nodes with at least this many wins (Sawtooth: 3).
    pub min_wins: u64,
}

impl Default for ZTest {
    fn default() -> Self {
        ZTest { z_max: 3.075, min_wins: 3 }
    }
}

impl ZTest {
    /// z = (k − n p) / √(n p (1 − p)) for k wins in n blocks at expected share p.
    pub fn z(wins: u64, blocks: u64, share: f64) -> f64 {
        let n = blocks as f64;
        let sd = libm::sqrt(n * share * (1.0 - share));
        if sd == 0.0 {
            return 0.0;
        }
        (wins as f64 - n * share) / sd
    }

    /// Whether a node with `wins` of `blocks` at expected share `share` is flagged.
    pub fn flags(&self, wins: u64, blocks: u64, share: f64) -> bool {
        wins >= self.min_wins && ZTest::z(wins, blocks, share) > self.z_max
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, RngStreams};

    fn streams(seed: u64, nodes: usize) -> Vec<SimRng> {
        let s = RngStreams::new(seed);
        (0..nodes as u64).map(|i| s.stream(Purpose::Mining, i)).collect()
    }

    /// Equal weights: 100,000 blocks among 10 nodes. The winner is uniform (χ², 9 degrees of
    /// freedom, 0.1 % critical value 27.877), and the interval is exponential with mean T:
    /// mean within 4 standard errors (T/√n) and variance within 4 standard errors of T²
    /// (the variance of an exponential's sample variance is 8 T⁴ / n): the same as proof of
    /// work with ten equal hash shares.
    #[test]
    fn equal_weights_elect_like_pow_with_equal_shares() {
        let target = SimDuration::from_secs(600);
        let timer = WaitTimer::equal(target, 10).unwrap();
        let mut rngs = streams(1, 10);
        let n = 100_000u64;
        let mut wins = [0u64; 10];
        let (mut sum, mut sum_sq) = (0.0, 0.0);
        for _ in 0..n {
            let (w, wait) = timer.round(&mut rngs);
            wins[w] += 1;
            let x = wait.as_secs_f64();
            sum += x;
            sum_sq += x * x;
        }
        let expected = n as f64 / 10.0;
        let chi2: f64 = wins.iter().map(|&o| (o as f64 - expected).powi(2) / expected).sum();
        assert!(chi2 < 27.877, "chi2 {chi2} {wins:?}");
        let t = 600.0;
        let mean = sum / n as f64;
        let var = sum_sq / n as f64 - mean * mean;
        assert!((mean - t).abs() < 4.0 * t / (n as f64).sqrt(), "mean {mean}");
        assert!((var - t * t).abs() < 4.0 * (8.0f64).sqrt() * t * t / (n as f64).sqrt(), "{var}");
    }

    /// Weights 1, 1, 3, 5: node i wins w_i / 10 of 100,000 blocks within 4 standard errors.
    #[test]
    fn weights_set_the_win_shares() {
        let timer = WaitTimer::new(SimDuration::from_secs(10), &[1.0, 1.0, 3.0, 5.0]).unwrap();
        let mut rngs = streams(2, 4);
        let n = 100_000u64;
        let mut wins = [0u64; 4];
        for _ in 0..n {
            wins[timer.round(&mut rngs).0] += 1;
        }
        for (i, w) in [1.0, 1.0, 3.0, 5.0].into_iter().enumerate() {
            let p = w / 10.0;
            assert!((timer.win_probability(i) - p).abs() < 1e-12);
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!((wins[i] as f64 / n as f64 - p).abs() < 4.0 * se, "node {i}: {wins:?}");
        }
        assert!(WaitTimer::new(SimDuration::from_secs(10), &[1.0, 0.0]).is_err());
        assert!(WaitTimer::new(SimDuration::ZERO, &[1.0]).is_err());
        assert!(
            WaitTimer::equal(SimDuration::from_secs(1), 2)
                .unwrap()
                .with_timer_factor(0, 0.0)
                .is_err()
        );
    }

    #[test]
    fn z_statistic_values() {
        // 30 wins of 100 at p = 0.1: z = 20 / 3 = 6.67.
        assert!((ZTest::z(30, 100, 0.1) - 20.0 / 3.0).abs() < 1e-12);
        assert_eq!(ZTest::z(10, 100, 0.1), 0.0);
        let t = ZTest::default();
        assert!(t.flags(30, 100, 0.1));
        assert!(!t.flags(2, 2, 0.1), "fewer than 3 wins are never flagged");
        assert!(!t.flags(15, 100, 0.1), "z = 1.67");
    }

    /// A compromised enclave halving its waits among 10 nodes wins 2/11 = 18.2 % instead of
    /// 10 %. The z-test (checked after every block, z_max 3.075) flags it within 800 blocks
    /// in each of 30 seeds (normal approximation: at n = 800 its win excess is 3.6 standard
    /// deviations above the flag line, so a seed escapes with chance below 2·10^−4). Measured
    /// here: median detection at block 63, latest 360. Some come very early, because at
    /// small n the normal approximation is poor (3 wins in the first 3 blocks give z = 5.2).
    /// The same weakness flags honest nodes: 13 of 270 (seed, node) runs, 4.8 %, against the
    /// bound of 5 % asserted here, which is far above the 0.1 % of a single check. The cause
    /// is repeating the test after every block, as Sawtooth does.
    #[test]
    fn compromised_enclave_is_flagged_by_the_z_test() {
        let nodes = 10;
        let attacker = 7;
        let timer = WaitTimer::equal(SimDuration::from_secs(15), nodes)
            .unwrap()
            .with_timer_factor(attacker, 0.5)
            .unwrap();
        assert!((timer.win_probability(attacker) - 2.0 / 11.0).abs() < 1e-12);
        let test = ZTest::default();
        let limit = 800u64;
        let mut detected_at = Vec::new();
        let mut honest_flagged = 0u32;
        for seed in 0..30 {
            let mut rngs = streams(100 + seed, nodes);
            let mut wins = vec![0u64; nodes];
            let mut flagged = vec![false; nodes];
            let mut attacker_at = None;
            for n in 1..=limit {
                wins[timer.round(&mut rngs).0] += 1;
                for (node, (flag, &won)) in flagged.iter_mut().zip(&wins).enumerate() {
                    if !*flag && test.flags(won, n, 0.1) {
                        *flag = true;
                        if node == attacker {
                            attacker_at = Some(n);
                        }
                    }
                }
            }
            detected_at.push(attacker_at.unwrap_or_else(|| panic!("seed {seed}: not flagged")));
            honest_flagged +=
                flagged.iter().enumerate().filter(|&(i, &f)| f && i != attacker).count() as u32;
        }
        detected_at.sort();
        let median = detected_at[detected_at.len() / 2];
        println!(
            "z-test: attacker flagged at blocks {detected_at:?} (median {median}); honest nodes flagged: {honest_flagged} of {}",
            30 * (nodes - 1)
        );
        assert!((40..=400).contains(&median), "median detection {median}: {detected_at:?}");
        let honest_runs = 30 * (nodes as u32 - 1);
        assert!(f64::from(honest_flagged) < 0.05 * f64::from(honest_runs), "{honest_flagged}");
    }
}
