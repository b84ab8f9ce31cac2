//! The wait of a payment that a cartel of DPoS producers censors.
//!
//! # Setting
//!
//! A round has N turns, one per elected producer, in an order shuffled uniformly at random
//! per round, independently from round to round (`consensus::dpos`); a turn is K slots. A
//! cartel of m producers (1 ≤ m < N) leaves a censored payment out of its blocks, so the
//! payment waits for the first slot whose producer is honest. Payments arrive at times
//! spread over a long window, so the first slot that starts after one is at a uniformly
//! random position of the schedule. W is the number of slots from that first slot until
//! the first honest slot (W = 0 if the first slot is honest).
//!
//! # Turns
//!
//! Let T be the number of consecutive cartel turns from a uniformly random turn (T = 0 if
//! it is honest), and q(j) = (m)_j / (N)_j (falling factorials) the probability that j
//! given turns of one round all belong to the cartel. For a turn with a turns left in its
//! round (itself included), T ≥ k has probability q(k) while k ≤ a; past the round's end
//! the next round is independent, so for k > a it is q(a) q(k − a) (runs never reach a
//! third round: q(j) = 0 for j > m, and m < N). Hence
//!
//! E\[T | a\] = Σ_{k=1..a} q(k) + q(a) Q,   Q = Σ_{r=1..N} q(r) = m / (N − m + 1),
//!
//! by the identity Σ_{r=0..M} (M)_r / (N)_r = (N + 1) / (N − M + 1) (hockey stick:
//! (M)_r / (N)_r = C(N − r, M − r) / C(N, M)). With a uniform on 1..N, and
//! (N + 1 − k) q(k) = m (m − 1)_{k−1} / (N)_{k−1} summing to m (N + 1) / (N − m + 2) by the
//! same identity with M = m − 1:
//!
//! E\[T\] = (1/N) [ m (N + 1) / (N − m + 2) + m² / (N − m + 1)² ].
//!
//! (With every turn drawn independently instead, T would be geometric with mean
//! m / (N − m): shuffling without replacement shortens the runs, for N = 21 and m = 7 from
//! 0.5 to 0.4687 turns.)
//!
//! # Slots
//!
//! The first slot is at offset j, uniform on 0..K − 1, of its turn. If the turn is honest,
//! W = 0; otherwise the payment waits for the rest of that turn, K − j slots, and K slots
//! for each further cartel turn: W = (K − j) + K (T − 1). So
//!
//! E\[W\] = (m/N) (K + 1)/2 + K (E\[T\] − m/N),
//!
//! which is E\[T\] for K = 1. A payment nobody censors waits W = 0 slots in this model; the
//! simulated delays add the same network terms (a payment that reaches the producer after
//! its slot starts waits one more slot) to censored and uncensored payments alike.

use super::AnalyticError;

fn check(producers: u32, cartel: u32, blocks_per_turn: u32) -> Result<(), AnalyticError> {
    if cartel >= 1 && cartel < producers && blocks_per_turn >= 1 {
        Ok(())
    } else {
        Err(AnalyticError::CartelSize { cartel, producers, blocks_per_turn })
    }
}

/// E\[T\]: the mean number of consecutive cartel turns from a uniformly random turn, with
/// `cartel` = m of `producers` = N producers in rounds shuffled independently (see the
/// module docs).
///
/// # Errors
///
/// [`AnalyticError::CartelSize`] unless 1 ≤ m < N.
pub fn dpos_cartel_run_turns(producers: u32, cartel: u32) -> Result<f64, AnalyticError> {
    check(producers, cartel, 1)?;
    let (n, m) = (f64::from(producers), f64::from(cartel));
    Ok((m * (n + 1.0) / (n - m + 2.0) + m * m / ((n - m + 1.0) * (n - m + 1.0))) / n)
}

/// E\[W\]: the mean number of slots a censored payment waits, from the first slot that starts
/// after it reaches the producers, until a slot whose producer is honest; m = `cartel` of
/// N = `producers`, K = `blocks_per_turn` (see the module docs).
///
/// # Errors
///
/// [`AnalyticError::CartelSize`] unless 1 ≤ m < N and K ≥ 1.
pub fn dpos_censored_wait_slots(
    producers: u32,
    cartel: u32,
    blocks_per_turn: u32,
) -> Result<f64, AnalyticError> {
    check(producers, cartel, blocks_per_turn)?;
    let turns = dpos_cartel_run_turns(producers, cartel)?;
    let (n, m, k) = (f64::from(producers), f64::from(cartel), f64::from(blocks_per_turn));
    Ok(m / n * (k + 1.0) / 2.0 + k * (turns - m / n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every permutation of `0..n` (Heap's algorithm is overkill for n ≤ 6).
    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![Vec::new()];
        }
        let mut out = Vec::new();
        for p in permutations(n - 1) {
            for i in 0..=p.len() {
                let mut q = p.clone();
                q.insert(i, n - 1);
                out.push(q);
            }
        }
        out
    }

    /// The exact mean wait by enumeration: every pair of round orders (a run never reaches
    /// a third round) and every start slot of the first round, producers 0..m the cartel.
    fn enumerated(n: usize, m: usize, k: usize) -> f64 {
        let perms = permutations(n);
        let (mut total, mut count) = (0u64, 0u64);
        for first in &perms {
            for second in &perms {
                let turns: Vec<bool> = first.iter().chain(second).map(|&p| p < m).collect();
                for start in 0..n * k {
                    let wait = (start..2 * n * k).take_while(|&s| turns[s / k]).count();
                    total += wait as u64;
                    count += 1;
                }
            }
        }
        total as f64 / count as f64
    }

    #[test]
    fn censored_wait_matches_enumeration_of_shuffled_rounds() {
        for (n, m) in [(2, 1), (3, 1), (3, 2), (4, 1), (4, 2), (4, 3), (5, 2), (5, 4)] {
            for k in [1, 2, 3] {
                let exact = enumerated(n, m, k);
                let closed = dpos_censored_wait_slots(n as u32, m as u32, k as u32).unwrap();
                assert!((exact - closed).abs() < 1e-12, "N {n} m {m} K {k}: {exact} vs {closed}");
            }
        }
        // N = 2, m = 1 by hand: 0.625 slots.
        assert!((dpos_cartel_run_turns(2, 1).unwrap() - 0.625).abs() < 1e-15);
        // Shorter than the independent-turn geometric mean m / (N − m).
        let t = dpos_cartel_run_turns(21, 7).unwrap();
        assert!((t - (7.0 * 22.0 / 16.0 + 49.0 / 225.0) / 21.0).abs() < 1e-15 && t < 0.5);
    }

    #[test]
    fn bad_cartel_sizes_are_errors() {
        for (n, m, k) in [(21, 0, 1), (21, 21, 1), (21, 22, 1), (21, 3, 0)] {
            assert_eq!(
                dpos_censored_wait_slots(n, m, k),
                Err(AnalyticError::CartelSize { cartel: m, producers: n, blocks_per_turn: k })
            );
        }
    }
}
