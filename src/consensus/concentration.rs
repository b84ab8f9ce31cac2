//! Producer concentration: how few producers make most of the blocks, the same measures for
//! miners, stakers, delegates and PoET nodes, so the consensus kinds compare on one scale.
//!
//! - **Nakamoto coefficient** (Srinivasan and Lee, 2017): the smallest number of producers
//!   whose blocks together are more than half of all blocks; the fewest parties that would
//!   have to collude to control the chain's production. (The threshold is a parameter: DPoS
//!   safety is about a third, BFT-style.)
//! - **Gini coefficient** of blocks produced: 0 when every producer made the same number,
//!   (n − 1)/n when one made them all. With the counts sorted ascending, x_(1) ≤ … ≤ x_(n),
//!   G = 2 Σ_i i x_(i) / (n Σ_i x_i) − (n + 1)/n, which equals the mean absolute difference
//!   Σ_i Σ_j |x_i − x_j| / (2 n² x̄).
//!
//! Both take the block count of every eligible producer, zeros included: a producer that
//! made nothing is part of the population.

/// The smallest number of producers whose blocks are more than `fraction` of all blocks
/// (`fraction` = 0.5 for the usual Nakamoto coefficient). `None` when there are no blocks.
pub fn nakamoto_coefficient(blocks_per_producer: &[u64], fraction: f64) -> Option<usize> {
    let total: u128 = blocks_per_producer.iter().map(|&b| u128::from(b)).sum();
    if total == 0 {
        return None;
    }
    let mut sorted = blocks_per_producer.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut running = 0u128;
    for (i, &b) in sorted.iter().enumerate() {
        running += u128::from(b);
        if running as f64 > fraction * total as f64 {
            return Some(i + 1);
        }
    }
    // Only reached for fraction ≥ 1: nobody holds more than everything.
    None
}

/// The Gini coefficient of the block counts. `None` when there are no producers or no
/// blocks.
pub fn gini(blocks_per_producer: &[u64]) -> Option<f64> {
    let n = blocks_per_producer.len();
    let total: u128 = blocks_per_producer.iter().map(|&b| u128::from(b)).sum();
    if n == 0 || total == 0 {
        return None;
    }
    let mut sorted = blocks_per_producer.to_vec();
    sorted.sort_unstable();
    let weighted: u128 =
        sorted.iter().enumerate().map(|(i, &x)| (i as u128 + 1) * u128::from(x)).sum();
    let nf = n as f64;
    Some(2.0 * weighted as f64 / (nf * total as f64) - (nf + 1.0) / nf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gini_by_pairs(x: &[u64]) -> f64 {
        let n = x.len() as f64;
        let mean = x.iter().sum::<u64>() as f64 / n;
        let mut sum = 0.0;
        for a in x {
            for b in x {
                sum += (*a as f64 - *b as f64).abs();
            }
        }
        sum / (2.0 * n * n * mean)
    }

    #[test]
    fn gini_known_values() {
        assert_eq!(gini(&[5, 5, 5, 5]), Some(0.0));
        assert!((gini(&[0, 0, 0, 12]).unwrap() - 0.75).abs() < 1e-12);
        assert!((gini(&[1, 2, 3, 4, 5]).unwrap() - 4.0 / 15.0).abs() < 1e-12);
        for x in [vec![3u64, 0, 9, 1, 1, 27], vec![100, 1], vec![7, 7, 8]] {
            assert!((gini(&x).unwrap() - gini_by_pairs(&x)).abs() < 1e-12, "{x:?}");
        }
        // Order does not matter.
        assert_eq!(gini(&[5, 1, 3]), gini(&[1, 3, 5]));
        assert_eq!(gini(&[]), None);
        assert_eq!(gini(&[0, 0]), None);
    }

    #[test]
    fn nakamoto_coefficient_known_values() {
        // Bitcoin-like pools: 30 + 25 > 50 of 100.
        assert_eq!(nakamoto_coefficient(&[10, 30, 25, 20, 15], 0.5), Some(2));
        // Exactly half is not more than half.
        assert_eq!(nakamoto_coefficient(&[50, 50], 0.5), Some(2));
        assert_eq!(nakamoto_coefficient(&[51, 49], 0.5), Some(1));
        // 21 equal producers: 11 for a majority, 8 for more than 34 %.
        let equal = [4u64; 21];
        assert_eq!(nakamoto_coefficient(&equal, 0.5), Some(11));
        assert_eq!(nakamoto_coefficient(&equal, 0.34), Some(8));
        assert_eq!(nakamoto_coefficient(&[0, 0], 0.5), None);
        assert_eq!(nakamoto_coefficient(&[1, 2], 1.0), None);
    }
}
