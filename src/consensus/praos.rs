//! Slot leadership as in Ouroboros Praos: a private lottery per party and slot, decided by a
//! VRF, so that nobody knows the next leader before it shows its proof.
//!
//! # The lottery
//!
//! Time is cut into slots of fixed length. A party with relative stake σ (its stake over the
//! total) leads slot `s` of epoch `e` iff the fraction of its VRF output on (η_e, s) is below
//!
//! φ(σ) = 1 − (1 − f)^σ,
//!
//! where f is the active-slot coefficient. Two properties follow, and the tests check both:
//!
//! - **Independent aggregation**: the chance that none of the parties leads is
//!   Π (1 − f)^σ_i = (1 − f)^Σσ_i = 1 − f, whatever the split of the stake; so a slot is
//!   empty with probability 1 − f, and splitting stake among many keys gains nothing.
//! - Each party leads with probability φ(σ) (several parties can lead one slot).
//!
//! The comparison is made on the 53-bit integer of [`VrfOutput::fraction_bits`], so a party
//! leads with probability ⌈φ · 2^53⌉ / 2^53 exactly, within 2^−53 of φ.
//!
//! # Epoch randomness
//!
//! The VRF input of slot `s` is the 32-byte epoch nonce η_e followed by `s` as 8 little-endian
//! bytes. The nonce of the next epoch is
//!
//! η_{e+1} = SHA-256("forksim-praos-eta-v1" ‖ η_e ‖ e (8 bytes, LE) ‖ y_1 ‖ … ‖ y_n),
//!
//! where y_1 … y_n are the 32-byte VRF outputs carried by the blocks of epoch e on the chain,
//! in slot order. (Praos takes only the blocks of the first two thirds of the epoch, so the
//! nonce is settled before the epoch ends; the caller decides which outputs to pass.) An
//! adversary's influence is limited to withholding its own blocks: it cannot choose its
//! outputs. The first nonce η_0 comes from the run's seed.

use sha2::{Digest, Sha256};
use thiserror::Error;

use super::vrf::{self, VrfError, VrfKey, VrfOutput, VrfProof, VrfPublic, threshold_bits};

/// Why a slot-leader configuration or claim was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PraosError {
    /// The active-slot coefficient must lie in (0, 1].
    #[error("active slot coefficient f = {0} is outside (0, 1]")]
    ActiveSlotCoefficient(f64),
    /// A relative stake must lie in [0, 1].
    #[error("relative stake {0} is outside [0, 1]")]
    Stake(f64),
    /// Stakes must not all be zero.
    #[error("the total stake is zero")]
    NoStake,
    /// The claimed VRF output does not verify.
    #[error("slot {slot}: {source}")]
    Proof {
        /// The slot of the claim.
        slot: u64,
        /// What was wrong with the proof.
        source: VrfError,
    },
    /// The VRF output verifies but is not below the party's threshold.
    #[error("slot {slot}: vrf output {fraction} is not below the leader threshold {threshold}")]
    NotLeader {
        /// The slot of the claim.
        slot: u64,
        /// The output as a fraction.
        fraction: f64,
        /// φ(σ) of the claimant.
        threshold: f64,
    },
}

/// φ(σ) = 1 − (1 − f)^σ: the chance that a party with relative stake σ leads a slot.
///
/// Computed as −expm1(σ · ln(1 − f)) so that small σ keep their relative precision (f = 1
/// gives 1 for every σ > 0 and 0 for σ = 0).
///
/// # Errors
///
/// [`PraosError`] unless 0 < f ≤ 1 and 0 ≤ σ ≤ 1.
pub fn phi(f: f64, sigma: f64) -> Result<f64, PraosError> {
    check_f(f)?;
    if !(0.0..=1.0).contains(&sigma) {
        return Err(PraosError::Stake(sigma));
    }
    if sigma == 0.0 {
        return Ok(0.0);
    }
    if f == 1.0 {
        return Ok(1.0);
    }
    Ok(-libm::expm1(sigma * libm::log1p(-f)))
}

fn check_f(f: f64) -> Result<(), PraosError> {
    if f > 0.0 && f <= 1.0 { Ok(()) } else { Err(PraosError::ActiveSlotCoefficient(f)) }
}

/// An epoch nonce η_e.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EpochNonce(pub [u8; 32]);

impl EpochNonce {
    /// η_0 from the run's master seed.
    pub fn genesis(master_seed: u64) -> EpochNonce {
        let mut h = Sha256::new();
        h.update(b"forksim-praos-eta0-v1");
        h.update(master_seed.to_le_bytes());
        EpochNonce(h.finalize().into())
    }

    /// η_{e+1} from η_e (this nonce, of epoch `epoch`) and the VRF outputs of the epoch's
    /// blocks in slot order (see the module docs).
    pub fn next(&self, epoch: u64, outputs: &[VrfOutput]) -> EpochNonce {
        let mut h = Sha256::new();
        h.update(b"forksim-praos-eta-v1");
        h.update(self.0);
        h.update(epoch.to_le_bytes());
        for y in outputs {
            h.update(y.bytes);
        }
        EpochNonce(h.finalize().into())
    }

    /// The VRF input of `slot` under this nonce: η ‖ slot (LE).
    pub fn slot_input(&self, slot: u64) -> [u8; 40] {
        let mut input = [0u8; 40];
        input[..32].copy_from_slice(&self.0);
        input[32..].copy_from_slice(&slot.to_le_bytes());
        input
    }
}

/// A slot leader's claim, carried in its block: the VRF output and its proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderProof {
    /// The slot claimed.
    pub slot: u64,
    /// The VRF output on (η, slot).
    pub output: VrfOutput,
    /// Its proof.
    pub proof: VrfProof,
}

/// The lottery's parameters for one epoch: f and the parties' relative stakes (the stake
/// distribution is fixed per epoch, as in Praos, where it is taken from a snapshot).
#[derive(Clone, Debug, PartialEq)]
pub struct SlotLottery {
    f: f64,
    sigma: Vec<f64>,
    threshold: Vec<f64>,
}

impl SlotLottery {
    /// The lottery for parties with these stakes (any non-negative units; only the relative
    /// stakes matter) and active-slot coefficient `f`.
    ///
    /// # Errors
    ///
    /// [`PraosError`] if f is outside (0, 1] or every stake is zero.
    pub fn new(f: f64, stakes: &[u64]) -> Result<SlotLottery, PraosError> {
        check_f(f)?;
        let total: u128 = stakes.iter().map(|&s| u128::from(s)).sum();
        if total == 0 {
            return Err(PraosError::NoStake);
        }
        let sigma: Vec<f64> = stakes.iter().map(|&s| s as f64 / total as f64).collect();
        let threshold = sigma.iter().map(|&s| phi(f, s)).collect::<Result<Vec<_>, _>>()?;
        Ok(SlotLottery { f, sigma, threshold })
    }

    /// The active-slot coefficient.
    pub fn f(&self) -> f64 {
        self.f
    }

    /// The number of parties.
    pub fn parties(&self) -> usize {
        self.sigma.len()
    }

    /// Party `i`'s relative stake σ_i.
    pub fn sigma(&self, party: usize) -> f64 {
        self.sigma[party]
    }

    /// φ(σ_i): party `i`'s chance to lead a slot.
    pub fn threshold(&self, party: usize) -> f64 {
        self.threshold[party]
    }

    /// Whether party `i` leads with a VRF fraction whose 53-bit integer is `bits` (the test
    /// of [`VrfOutput::below`]; also used with exactly uniform stand-in draws).
    pub fn leads_with_bits(&self, party: usize, bits: u64) -> bool {
        bits < threshold_bits(self.threshold[party])
    }

    /// Party `i`, holding `key`, checks whether it leads `slot` under `nonce`, and if it
    /// does, proves it.
    pub fn try_lead(
        &self,
        party: usize,
        key: &VrfKey,
        nonce: &EpochNonce,
        slot: u64,
    ) -> Option<LeaderProof> {
        let threshold = self.threshold[party];
        key.prove_if(&nonce.slot_input(slot), |out| out.below(threshold))
            .map(|(output, proof)| LeaderProof { slot, output, proof })
    }

    /// Every node's check of a block's leader claim: the proof verifies for the producer's
    /// public key on (η, slot), and the output is below the producer's threshold.
    ///
    /// # Errors
    ///
    /// [`PraosError::Proof`] if the VRF proof fails, [`PraosError::NotLeader`] if the output
    /// is not below φ(σ) of the party.
    pub fn verify_leader(
        &self,
        party: usize,
        public: &VrfPublic,
        nonce: &EpochNonce,
        claim: &LeaderProof,
    ) -> Result<(), PraosError> {
        let slot = claim.slot;
        vrf::verify(public, &nonce.slot_input(slot), &claim.output, &claim.proof)
            .map_err(|source| PraosError::Proof { slot, source })?;
        let threshold = self.threshold[party];
        if !claim.output.below(threshold) {
            return Err(PraosError::NotLeader {
                slot,
                fraction: claim.output.fraction(),
                threshold,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, RngStreams, SimRng};
    use rand::Rng;

    /// χ² critical values at significance 0.001 for 1..=15 degrees of freedom.
    const CHI2_999: [f64; 15] = [
        10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877, 29.588, 31.264,
        32.909, 34.528, 36.123, 37.697,
    ];

    #[test]
    fn phi_values_and_limits() {
        assert_eq!(phi(0.05, 0.0).unwrap(), 0.0);
        assert!((phi(0.05, 1.0).unwrap() - 0.05).abs() < 1e-15);
        assert!((phi(0.05, 0.3).unwrap() - (1.0 - 0.95f64.powf(0.3))).abs() < 1e-15);
        assert_eq!(phi(1.0, 0.2).unwrap(), 1.0);
        // Concave: splitting stake in two gives each half at least half the chance.
        let (whole, half) = (phi(0.2, 0.4).unwrap(), phi(0.2, 0.2).unwrap());
        assert!(2.0 * half > whole);
        assert_eq!(phi(0.0, 0.5), Err(PraosError::ActiveSlotCoefficient(0.0)));
        assert_eq!(phi(1.5, 0.5), Err(PraosError::ActiveSlotCoefficient(1.5)));
        assert_eq!(phi(0.5, 1.5), Err(PraosError::Stake(1.5)));
        assert_eq!(SlotLottery::new(0.05, &[0, 0]), Err(PraosError::NoStake));
    }

    /// The lottery with exactly uniform 53-bit stand-in outputs (a ChaCha stream stands in
    /// for the VRF, whose outputs are uniform: see `vrf::tests`), over 200,000 slots for each
    /// of five stake splits. The stand-in is needed because of cost. One VRF evaluation takes
    /// 84 µs here (`cargo bench --bench micro -- vrf`, median, idle machine), so 10^6 real
    /// evaluations would take minutes. `real_vrf_lottery_end_to_end` runs the same checks on real proofs over fewer
    /// slots. Per split: a χ² goodness-of-fit test over all 2^n leader sets
    /// (probability Π_{i∈S} φ_i Π_{i∉S} (1 − φ_i)), which includes the empty set with
    /// probability 1 − f; across splits: a χ² test of the empty-slot count against 1 − f
    /// (5 degrees of freedom). Significance 0.001 each. Each party's rate within 4 standard
    /// errors of φ(σ).
    #[test]
    fn empty_slots_occur_at_rate_one_minus_f_whatever_the_split() {
        let f = 0.05;
        let slots = 200_000u64;
        let splits: [&[u64]; 5] = [&[1], &[1, 1], &[3, 7], &[1, 2, 3, 4], &[1, 99]];
        let mut rng: SimRng = RngStreams::new(17).stream(Purpose::Attacker, 1);
        let mut empty_chi2 = 0.0;
        for stakes in splits {
            let lottery = SlotLottery::new(f, stakes).unwrap();
            let n = lottery.parties();
            let mut by_set = vec![0u64; 1 << n];
            let mut by_party = vec![0u64; n];
            for _ in 0..slots {
                let mut set = 0usize;
                for (i, won) in by_party.iter_mut().enumerate() {
                    if lottery.leads_with_bits(i, rng.next_u64() >> 11) {
                        set |= 1 << i;
                        *won += 1;
                    }
                }
                by_set[set] += 1;
            }
            let mut chi2 = 0.0;
            for (set, &observed) in by_set.iter().enumerate() {
                let p: f64 = (0..n)
                    .map(|i| {
                        let t = lottery.threshold(i);
                        if set & (1 << i) != 0 { t } else { 1.0 - t }
                    })
                    .product();
                let expected = p * slots as f64;
                chi2 += (observed as f64 - expected).powi(2) / expected;
            }
            let df = (1 << n) - 1;
            assert!(chi2 < CHI2_999[df - 1], "split {stakes:?}: chi2 {chi2} df {df}");
            let empty_expected = (1.0 - f) * slots as f64;
            let nonempty_expected = f * slots as f64;
            let empty = by_set[0] as f64;
            empty_chi2 += (empty - empty_expected).powi(2) / empty_expected
                + (slots as f64 - empty - nonempty_expected).powi(2) / nonempty_expected;
            for (i, &won) in by_party.iter().enumerate() {
                let t = lottery.threshold(i);
                let se = (t * (1.0 - t) / slots as f64).sqrt();
                let rate = won as f64 / slots as f64;
                assert!((rate - t).abs() < 4.0 * se, "split {stakes:?} party {i}: {rate} vs {t}");
            }
        }
        assert!(empty_chi2 < CHI2_999[splits.len() - 1], "empty-slot chi2 {empty_chi2}");
    }

    /// One stake split of the real-VRF lottery checks: the active-slot coefficient and the
    /// stakes (any units).
    struct Split {
        f: f64,
        stakes: Vec<u64>,
    }

    /// Runs the real lottery ([`SlotLottery::try_lead`], one schnorrkel VRF evaluation per
    /// key and slot, a proof for each win) for every split over `slots` slots, each split with
    /// its own keys and nonce from `seed`, and checks against the closed forms:
    ///
    /// - per split, the number of empty slots against Binomial(slots, 1 − f): |z| < 4;
    /// - across splits, Σ z² of the empty-slot counts against χ² with one degree of freedom
    ///   per split, at significance 0.001;
    /// - per split, each key's wins against Binomial(slots, φ(σ)): |z| < 4, and Σ z² over the
    ///   keys (independent, as each key has its own VRF) against χ² with one degree of
    ///   freedom per key, at significance 0.001.
    ///
    /// Power: every split with more than one key must be one where the wrong model "a key
    /// leads with probability f·σ" (linear instead of φ) predicts an empty-slot rate
    /// Π (1 − f σ_i) at least 6 standard errors away from 1 − f, so that model would fail the
    /// empty-slot check; this is asserted before the lottery runs.
    ///
    /// Returns the VRF evaluations made.
    fn check_real_lottery(splits: &[Split], slots: u64, seed: u64) -> u64 {
        assert!(splits.len() <= CHI2_999.len());
        let n = slots as f64;
        let mut evaluations = 0u64;
        let mut empty_chi2 = 0.0;
        for (index, split) in splits.iter().enumerate() {
            let Split { f, ref stakes } = *split;
            let lottery = SlotLottery::new(f, stakes).unwrap();
            let parties = lottery.parties();
            assert!(parties <= CHI2_999.len());
            let empty_se = (f * (1.0 - f) / n).sqrt();
            if parties > 1 {
                let linear: f64 = (0..parties).map(|i| 1.0 - f * lottery.sigma(i)).product();
                assert!(
                    (linear - (1.0 - f)).abs() > 6.0 * empty_se,
                    "split {stakes:?} f {f}: no power against a linear lottery"
                );
            }
            let streams = RngStreams::new(seed);
            let keys: Vec<VrfKey> = (0..parties)
                .map(|i| {
                    VrfKey::from_rng(
                        &mut streams.stream(Purpose::Attacker, 1000 * index as u64 + i as u64),
                    )
                })
                .collect();
            let nonce = EpochNonce::genesis(seed ^ index as u64);
            let mut empty = 0u64;
            let mut won = vec![0u64; parties];
            for slot in 0..slots {
                let mut any = false;
                for (i, key) in keys.iter().enumerate() {
                    if lottery.try_lead(i, key, &nonce, slot).is_some() {
                        won[i] += 1;
                        any = true;
                    }
                }
                empty += u64::from(!any);
            }
            evaluations += slots * parties as u64;
            let z_empty = (empty as f64 / n - (1.0 - f)) / empty_se;
            assert!(
                z_empty.abs() < 4.0,
                "split {stakes:?} f {f}: {empty} empty slots, z {z_empty}"
            );
            empty_chi2 += z_empty * z_empty;
            let mut party_chi2 = 0.0;
            for (i, &w) in won.iter().enumerate() {
                let t = lottery.threshold(i);
                let z = (w as f64 / n - t) / (t * (1.0 - t) / n).sqrt();
                assert!(z.abs() < 4.0, "split {stakes:?} f {f} key {i}: {w} wins, phi {t}, z {z}");
                party_chi2 += z * z;
            }
            assert!(
                party_chi2 < CHI2_999[parties - 1],
                "split {stakes:?} f {f}: leadership chi2 {party_chi2} with {parties} df"
            );
            println!(
                "split {stakes:?} f {f}: {slots} slots, empty rate {:.5} (1 - f = {:.5}, z {z_empty:.2}), \
                 leadership chi2 {party_chi2:.2} ({parties} df)",
                empty as f64 / n,
                1.0 - f
            );
        }
        assert!(
            empty_chi2 < CHI2_999[splits.len() - 1],
            "empty-slot chi2 {empty_chi2} with {} df",
            splits.len()
        );
        evaluations
    }

    /// The stake splits of the lottery checks: one key; equal stakes; stakes doubling; one
    /// large holder among many small ones. The lottery's properties hold for every f; each
    /// multi-key split has an f large enough that a linear lottery would be caught (see
    /// [`check_real_lottery`]), while the one-key split has Cardano's f = 0.05.
    fn lottery_splits(keys: usize) -> Vec<Split> {
        vec![
            Split { f: 0.05, stakes: vec![1] },
            Split { f: 0.5, stakes: vec![1; keys] },
            Split { f: 0.8, stakes: (0..keys.min(5)).map(|i| 1 << i).collect() },
            Split {
                f: 0.8,
                stakes: std::iter::once(40).chain(std::iter::repeat_n(1, keys + 2)).collect(),
            },
        ]
    }

    /// The Praos lottery at scale with real VRF proofs: 100,000 slots for each of four splits
    /// (1 key at f = 0.05; 10 equal keys at f = 0.5; 5 keys with stakes 1, 2, 4, 8, 16 at
    /// f = 0.8; one key of 40 and 12 keys of 1 at f = 0.8): 2.9 million VRF evaluations, about
    /// 4 minutes at 84 µs each, hence ignored by default. Tolerances in
    /// [`check_real_lottery`]. Run with
    /// `cargo test --release --lib praos -- --ignored --nocapture`.
    #[test]
    #[ignore = "2.9 million VRF evaluations, about 4 minutes in release; see the docs"]
    fn real_lottery_at_scale_empty_slots_and_leadership_rates() {
        let start = std::time::Instant::now();
        let evaluations = check_real_lottery(&lottery_splits(10), 100_000, 41);
        println!("{evaluations} VRF evaluations in {:.1} s", start.elapsed().as_secs_f64());
    }

    /// The same checks, cheap enough to run always: 3,000 slots for each of the four splits
    /// with 4 keys where the large test has 10 (1 + 4 + 4 + 7 keys, 48,000 VRF evaluations).
    /// The tolerances are the same number of standard errors, which are wider in rate: about
    /// ±0.036 on the empty-slot rate at f = 0.5 instead of ±0.0063.
    #[test]
    fn real_lottery_empty_slots_and_leadership_rates() {
        let evaluations = check_real_lottery(&lottery_splits(4), 3_000, 43);
        assert_eq!(evaluations, 3_000 * (1 + 4 + 4 + 7));
    }

    /// End to end with real VRF keys and proofs: 3 parties (stakes 0.2, 0.3, 0.5), f = 0.2,
    /// 4,000 slots over 4 epochs of 1,000 with the nonce evolving from the blocks' outputs.
    /// Empty-slot and per-party rates within 4 standard errors; every claim verifies, and
    /// fails for another party's threshold or key where it must.
    #[test]
    fn real_vrf_lottery_end_to_end() {
        let f = 0.2;
        let lottery = SlotLottery::new(f, &[2, 3, 5]).unwrap();
        let keys: Vec<VrfKey> = (0..3)
            .map(|i| VrfKey::from_rng(&mut RngStreams::new(3).stream(Purpose::Attacker, i)))
            .collect();
        let mut nonce = EpochNonce::genesis(3);
        let (epochs, per_epoch) = (4u64, 1_000u64);
        let mut empty = 0u64;
        let mut won = [0u64; 3];
        let mut nonces = vec![nonce];
        for epoch in 0..epochs {
            let mut outputs = Vec::new();
            for slot in epoch * per_epoch..(epoch + 1) * per_epoch {
                let mut any = false;
                for (i, key) in keys.iter().enumerate() {
                    if let Some(claim) = lottery.try_lead(i, key, &nonce, slot) {
                        lottery.verify_leader(i, &key.public(), &nonce, &claim).unwrap();
                        // Checked as another party: wrong key, so the proof fails.
                        let other = (i + 1) % 3;
                        assert!(matches!(
                            lottery.verify_leader(other, &keys[other].public(), &nonce, &claim),
                            Err(PraosError::Proof { .. })
                        ));
                        if !any {
                            outputs.push(claim.output);
                        }
                        any = true;
                        won[i] += 1;
                    }
                }
                empty += u64::from(!any);
            }
            nonce = nonce.next(epoch, &outputs);
            nonces.push(nonce);
        }
        let slots = (epochs * per_epoch) as f64;
        let se = (f * (1.0 - f) / slots).sqrt();
        assert!((empty as f64 / slots - (1.0 - f)).abs() < 4.0 * se, "empty {empty}");
        for (i, &w) in won.iter().enumerate() {
            let t = lottery.threshold(i);
            let se = (t * (1.0 - t) / slots).sqrt();
            assert!((w as f64 / slots - t).abs() < 4.0 * se, "party {i}: {w}");
        }
        nonces.dedup();
        assert_eq!(nonces.len() as u64, epochs + 1, "every epoch has a fresh nonce");
    }

    #[test]
    fn a_losing_output_is_refused_as_a_claim() {
        // Party 0 has a tiny stake: find a slot it loses, prove the output anyway (as a
        // cheater would) and check that the claim is refused with the threshold in the text.
        let lottery = SlotLottery::new(0.05, &[1, 999]).unwrap();
        let key = VrfKey::from_seed([9u8; 32]);
        let nonce = EpochNonce::genesis(1);
        let slot = (0..)
            .find(|&s| lottery.try_lead(0, &key, &nonce, s).is_none())
            .expect("a losing slot exists");
        let (output, proof) = key.prove(&nonce.slot_input(slot));
        let claim = LeaderProof { slot, output, proof };
        let err = lottery.verify_leader(0, &key.public(), &nonce, &claim).unwrap_err();
        assert!(matches!(err, PraosError::NotLeader { .. }), "{err}");
        assert!(err.to_string().contains("leader threshold"), "{err}");
    }

    #[test]
    fn nonce_depends_on_every_output_and_their_order() {
        let eta = EpochNonce::genesis(1);
        let k = VrfKey::from_seed([1u8; 32]);
        let (a, b) = (k.evaluate(b"a"), k.evaluate(b"b"));
        assert_ne!(eta.next(0, &[a, b]), eta.next(0, &[b, a]));
        assert_ne!(eta.next(0, &[a]), eta.next(0, &[a, b]));
        assert_ne!(eta.next(0, &[a]), eta.next(1, &[a]));
        assert_eq!(eta.next(0, &[a, b]), EpochNonce::genesis(1).next(0, &[a, b]));
        assert_ne!(EpochNonce::genesis(1), EpochNonce::genesis(2));
    }
}
