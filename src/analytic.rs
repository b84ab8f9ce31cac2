//! Closed-form results that the simulator is checked against.
//!
//! A simulator of attacks is only trustworthy where it reproduces what is known on paper,
//! so this module collects the published formulas, written once and tested against the
//! numbers their authors printed:
//!
//! * the double-spend race of Nakamoto's whitepaper, section 11 ("Calculations"), which
//!   approximates the attacker's progress by a Poisson variable;
//! * the exact probability of the same race, in which the attacker's progress is
//!   negative-binomial, from M. Rosenfeld, "Analysis of hashrate-based double spending"
//!   (2014);
//! * the relative revenue and profitability threshold of selfish mining from I. Eyal and
//!   E. G. Sirer, "Majority is not enough: Bitcoin mining is vulnerable" (2014);
//! * the first-order stale rate of two miners separated by a propagation delay;
//! * the private double spend on slot-based proof of stake (Ouroboros Praos leader lottery)
//!   with zero network delay;
//! * the Wilson score interval used to report Monte Carlo estimates;
//! * the wait of a payment censored by a cartel of DPoS producers under shuffled rounds
//!   ([`dpos_censored_wait_slots`], derived in `analytic/dpos_cartel.rs`);
//! * the long-range attack with old keys on slot-based proof of stake: the growth of the
//!   fork and of the honest chain, when the fork overtakes, and how often Ouroboros
//!   Genesis' density rule could be fooled ([`long_range_rates`], derived in
//!   `analytic/long_range.rs`).
//!
//! Every function validates its inputs and returns an [`AnalyticError`] naming the bad value
//! instead of panicking or returning NaN. Exponentials, logarithms and powers go through
//! `libm` so that results are bit-identical on every platform.

use thiserror::Error;

mod dpos_cartel;
mod long_range;
pub use dpos_cartel::{dpos_cartel_run_turns, dpos_censored_wait_slots};
pub use long_range::{
    LongRangeRates, long_range_density_failure, long_range_overtake_slots, long_range_rates,
};

/// An input outside the domain of a closed form.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum AnalyticError {
    /// The attacker's share of the hash power must lie strictly between 0 and 1.
    #[error("attacker hash share q = {0} is outside (0, 1)")]
    AttackerShare(f64),
    /// A target probability must lie in (0, 1].
    #[error("target probability {0} is outside (0, 1]")]
    TargetProbability(f64),
    /// No number of confirmations brings the success probability below the target.
    #[error(
        "no number of confirmations up to {max_confirmations} brings the success \
         probability for q = {q} below {max_p}"
    )]
    Unreachable {
        /// The attacker's share.
        q: f64,
        /// The target probability.
        max_p: f64,
        /// The largest number of confirmations tried.
        max_confirmations: u32,
    },
    /// The selfish miner's share must lie in [0, 1/2), where the Eyal–Sirer chain is recurrent.
    #[error("selfish miner share alpha = {0} is outside [0, 1/2)")]
    SelfishShare(f64),
    /// The tie-breaking fraction must lie in [0, 1].
    #[error("tie-breaking fraction gamma = {0} is outside [0, 1]")]
    Gamma(f64),
    /// A miner's share must lie in [0, 1].
    #[error("miner share {0} is outside [0, 1]")]
    MinerShare(f64),
    /// The delay as a fraction of the block interval must be finite and non-negative.
    #[error("delay over interval d/T = {0} is negative or not finite")]
    DelayOverInterval(f64),
    /// The active-slot coefficient of a slot lottery must lie strictly between 0 and 1.
    #[error("active slot coefficient f = {0} is outside (0, 1)")]
    ActiveSlotCoefficient(f64),
    /// A DPoS cartel needs 1 ≤ m < N producers, and a turn at least one block.
    #[error(
        "a cartel of m = {cartel} of N = {producers} producers (K = {blocks_per_turn}) needs 1 ≤ m < N and K ≥ 1"
    )]
    CartelSize {
        /// m.
        cartel: u32,
        /// N.
        producers: u32,
        /// K.
        blocks_per_turn: u32,
    },
}

/// The largest number of confirmations [`nakamoto_min_confirmations`] tries.
pub const MAX_CONFIRMATIONS: u32 = 100_000;

fn check_q(q: f64) -> Result<(), AnalyticError> {
    if q > 0.0 && q < 1.0 { Ok(()) } else { Err(AnalyticError::AttackerShare(q)) }
}

/// Nakamoto's probability that an attacker with hash share `q` ever catches up with an honest
/// chain that is `z` blocks ahead of the point where the payment was made (whitepaper,
/// section 11).
///
/// With p = 1 − q and λ = z q / p, the attacker's progress while the honest chain mines z
/// blocks is approximated by a Poisson(λ) variable k, and from k ≤ z it catches up with the
/// gambler's-ruin probability (q/p)^(z−k):
///
/// P = 1 − Σ_{k=0..z} e^(−λ) λ^k / k! · (1 − (q/p)^(z−k)),
///
/// and P = 1 when q ≥ p. The sum is evaluated as the Poisson tail Σ_{k>z} plus
/// Σ_{k≤z} Poisson(k) (q/p)^(z−k), which is algebraically the same but has only positive
/// terms, so small probabilities keep their relative precision.
///
/// # Errors
///
/// [`AnalyticError::AttackerShare`] unless 0 < q < 1.
pub fn nakamoto_attacker_success(q: f64, z: u32) -> Result<f64, AnalyticError> {
    check_q(q)?;
    let p = 1.0 - q;
    if q >= p {
        return Ok(1.0);
    }
    if z == 0 {
        return Ok(1.0);
    }
    let ratio = q / p;
    let lambda = f64::from(z) * ratio;
    let ln_lambda = libm::log(lambda);
    let ln_ratio = libm::log(ratio);
    // ln Poisson(k; λ), advanced by one k at a time.
    let mut ln_pmf = -lambda;
    let mut head = 0.0;
    for k in 0..=z {
        if k > 0 {
            ln_pmf += ln_lambda - libm::log(f64::from(k));
        }
        head += libm::exp(ln_pmf + f64::from(z - k) * ln_ratio);
    }
    // Tail Σ_{k>z}: λ < z + 1, so its terms decrease geometrically.
    let mut tail = 0.0;
    let mut k = u64::from(z);
    loop {
        k += 1;
        ln_pmf += ln_lambda - libm::log(k as f64);
        let term = libm::exp(ln_pmf);
        tail += term;
        if term <= tail * 1e-18 || term == 0.0 {
            break;
        }
    }
    Ok((head + tail).min(1.0))
}

/// The smallest number of confirmations z for which [`nakamoto_attacker_success`] is strictly
/// below `max_p` (the whitepaper's "solving for P less than 0.1 %" table uses
/// `max_p` = 0.001).
///
/// # Errors
///
/// [`AnalyticError::AttackerShare`] unless 0 < q < 1, [`AnalyticError::TargetProbability`]
/// unless 0 < `max_p` ≤ 1, and [`AnalyticError::Unreachable`] when q ≥ 1/2 (success is then
/// certain) or no z up to [`MAX_CONFIRMATIONS`] suffices.
pub fn nakamoto_min_confirmations(q: f64, max_p: f64) -> Result<u32, AnalyticError> {
    check_q(q)?;
    if !(max_p > 0.0 && max_p <= 1.0) {
        return Err(AnalyticError::TargetProbability(max_p));
    }
    let unreachable = AnalyticError::Unreachable { q, max_p, max_confirmations: MAX_CONFIRMATIONS };
    if q >= 0.5 {
        return Err(unreachable);
    }
    for z in 0..=MAX_CONFIRMATIONS {
        if nakamoto_attacker_success(q, z)? < max_p {
            return Ok(z);
        }
    }
    Err(unreachable)
}

/// The exact probability that a double spend succeeds against a merchant who waits for `z`
/// confirmations, when each block is the attacker's with probability q independently
/// (Rosenfeld 2014).
///
/// The event. The race starts when the payment is broadcast; from that moment the honest
/// network extends the public chain with the payment and the attacker mines a private chain
/// from the same parent. The merchant ships once the honest chain holds z blocks counted from
/// the fork point (the payment block is the first of them). The attack succeeds if, at that
/// moment or at any later moment, the attacker's chain is **at least as long** as the honest
/// chain, both counted from the fork point. (Equivalently: strictly longer, if the attacker
/// starts with one pre-mined block, which is how Rosenfeld motivates his formula.) For z = 0
/// the chains are level when the merchant ships, so P = 1.
///
/// The derivation. While the honest chain mines z blocks the attacker mines m blocks with the
/// negative-binomial probability C(m+z−1, m) p^z q^m (p = 1 − q); from a deficit z − m > 0 it
/// ever draws level with the gambler's-ruin probability (q/p)^(z−m), and with m ≥ z it is
/// already level. Summing gives Rosenfeld's closed form, for q < p:
///
/// P = 1 − Σ_{m=0..z} C(m+z−1, m) (p^z q^m − q^z p^m),
///
/// and P = 1 for q ≥ p. It is evaluated as P(m > z) + Σ_{m=0..z} C(m+z−1, m) q^z p^m, the
/// same quantity with only positive terms, so small probabilities keep their relative
/// precision.
///
/// # Errors
///
/// [`AnalyticError::AttackerShare`] unless 0 < q < 1.
pub fn exact_attacker_success(q: f64, z: u32) -> Result<f64, AnalyticError> {
    exact_attacker_success_with_lead(q, z, 0)
}

/// The exact success probability of the race of [`exact_attacker_success`] when the attacker
/// starts `lead_blocks` ahead (blocks pre-mined on the fork point before the payment).
///
/// With s = `lead_blocks` and m ~ NegBin as above, the attacker is level when the merchant
/// ships iff m ≥ z − s, and otherwise draws level later with probability (q/p)^(z−s−m):
///
/// P = Σ_{m ≥ max(0, z−s)} C(m+z−1, m) p^z q^m + Σ_{m=0..z−s−1} C(m+z−1, m) p^z q^m (q/p)^(z−s−m),
///
/// which reduces to [`exact_attacker_success`] for s = 0. P = 1 when z = 0, s ≥ z or q ≥ p.
///
/// # Errors
///
/// [`AnalyticError::AttackerShare`] unless 0 < q < 1.
pub fn exact_attacker_success_with_lead(
    q: f64,
    z: u32,
    lead_blocks: u32,
) -> Result<f64, AnalyticError> {
    check_q(q)?;
    if lead_blocks >= z {
        return Ok(1.0);
    }
    // Attacker blocks needed to be level when the merchant ships.
    Ok(success_needing(q, z, z - lead_blocks))
}

/// The probability that an attacker with share `q` ever gets strictly *ahead* of the honest
/// chain after the merchant has `z` confirmations: the double spend on a network where a
/// tie is not enough, because honest nodes (the merchant among them) keep the block they
/// saw first and switch only to strictly more work.
///
/// As [`exact_attacker_success_with_lead`] with the attacker needing z + 1 blocks instead of
/// z − s when the merchant ships:
///
/// P = Σ_{m ≥ z+1} C(m+z−1, m) p^z q^m + Σ_{m=0..z} C(m+z−1, m) p^z q^m (q/p)^(z+1−m).
///
/// # Errors
///
/// [`AnalyticError::AttackerShare`] unless 0 < q < 1.
pub fn exact_attacker_success_ahead(q: f64, z: u32) -> Result<f64, AnalyticError> {
    check_q(q)?;
    if z == 0 {
        // The merchant ships at once; the attacker must get one block ahead.
        let p = 1.0 - q;
        return Ok(if q >= p { 1.0 } else { q / p });
    }
    Ok(success_needing(q, z, z + 1))
}

/// Σ over m ~ NegBin(z, p) of 1 if m ≥ `needed`, else (q/p)^(needed − m).
fn success_needing(q: f64, z: u32, needed: u32) -> f64 {
    let p = 1.0 - q;
    if q >= p {
        return 1.0;
    }
    let ln_p = libm::log(p);
    let ln_q = libm::log(q);
    let zf = f64::from(z);
    // ln of the negative-binomial pmf C(m+z−1, m) p^z q^m, advanced one m at a time.
    let mut ln_pmf = zf * ln_p;
    let mut behind = 0.0;
    for m in 0..needed {
        if m > 0 {
            ln_pmf += libm::log((f64::from(m) + zf - 1.0) / f64::from(m)) + ln_q;
        }
        behind += libm::exp(ln_pmf + f64::from(needed - m) * (ln_q - ln_p));
    }
    // Tail Σ_{m ≥ needed}. The ratio of successive terms, q (m+z)/(m+1), falls below 1 once
    // m is large enough; sum until the terms are negligible on the way down.
    let mut level = 0.0;
    let mut m = u64::from(needed);
    if m > 0 {
        ln_pmf += libm::log((m as f64 + zf - 1.0) / m as f64) + ln_q;
    }
    loop {
        let term = libm::exp(ln_pmf);
        level += term;
        let next_ratio = q * (m as f64 + zf) / (m as f64 + 1.0);
        if next_ratio < 1.0 && term <= level * 1e-18 {
            break;
        }
        m += 1;
        ln_pmf += libm::log((m as f64 + zf - 1.0) / m as f64) + ln_q;
    }
    (behind + level).min(1.0)
}

fn check_gamma(gamma: f64) -> Result<(), AnalyticError> {
    if (0.0..=1.0).contains(&gamma) { Ok(()) } else { Err(AnalyticError::Gamma(gamma)) }
}

/// The selfish miner's relative revenue (its share of main-chain blocks) in Eyal and Sirer's
/// model, for hash share α and tie-breaking fraction γ (the fraction of honest hash power that
/// mines on the selfish block during a tie):
///
/// R = [α (1−α)² (4α + γ (1−2α)) − α³] / [1 − α (1 + (2−α) α)].
///
/// # Errors
///
/// [`AnalyticError::SelfishShare`] unless 0 ≤ α < 1/2 (beyond, the selfish lead grows without
/// bound and the formula no longer applies); [`AnalyticError::Gamma`] unless 0 ≤ γ ≤ 1.
pub fn selfish_mining_revenue(alpha: f64, gamma: f64) -> Result<f64, AnalyticError> {
    if !(0.0..0.5).contains(&alpha) {
        return Err(AnalyticError::SelfishShare(alpha));
    }
    check_gamma(gamma)?;
    let a = alpha;
    let numerator = a * (1.0 - a) * (1.0 - a) * (4.0 * a + gamma * (1.0 - 2.0 * a)) - a * a * a;
    let denominator = 1.0 - a * (1.0 + (2.0 - a) * a);
    Ok(numerator / denominator)
}

/// The hash share above which selfish mining pays more than honest mining (Eyal and Sirer):
///
/// α* = (1 − γ) / (3 − 2γ),
///
/// so 1/3 with γ = 0, 1/4 with γ = 1/2 and 0 with γ = 1.
///
/// # Errors
///
/// [`AnalyticError::Gamma`] unless 0 ≤ γ ≤ 1.
pub fn selfish_mining_threshold(gamma: f64) -> Result<f64, AnalyticError> {
    check_gamma(gamma)?;
    Ok((1.0 - gamma) / (3.0 - 2.0 * gamma))
}

/// The first-order fraction of blocks that go stale when two miners with hash shares a and
/// 1 − a (`share` = a) are joined by a constant one-way delay d and blocks arrive as a Poisson
/// process with mean interval T (`delay_over_interval` = d/T):
///
/// s = a (1 − e^(−(1−a) d/T)) + (1 − a) (1 − e^(−a d/T)).
///
/// A block of the first miner (probability a) is at risk when the other miner finds a
/// block within d of it, before hearing of it, which happens with probability
/// 1 − e^(−(1−a) d/T); symmetrically for the second miner. The formula counts each such
/// collision once and neglects further forks that start while a fork is being resolved, so
/// its error is O((d/T)²).
///
/// # Errors
///
/// [`AnalyticError::MinerShare`] unless 0 ≤ a ≤ 1; [`AnalyticError::DelayOverInterval`]
/// unless d/T is finite and non-negative.
pub fn two_miner_stale_rate(share: f64, delay_over_interval: f64) -> Result<f64, AnalyticError> {
    if !(0.0..=1.0).contains(&share) {
        return Err(AnalyticError::MinerShare(share));
    }
    if !(delay_over_interval.is_finite() && delay_over_interval >= 0.0) {
        return Err(AnalyticError::DelayOverInterval(delay_over_interval));
    }
    let a = share;
    let d = delay_over_interval;
    Ok(a * -libm::expm1(-(1.0 - a) * d) + (1.0 - a) * -libm::expm1(-a * d))
}

/// The per-slot probabilities (a, h) of the private double spend on slot-based proof of
/// stake: a = φ(α), the chance that some key of the adversary (relative stake α = `stake`)
/// leads a slot, and h = φ(1 − α), the chance that some honest key does, with
/// φ(σ) = 1 − (1 − f)^σ (see `consensus::praos`).
///
/// Why these are the right events: every key runs its own lottery with its own VRF, so the
/// adversary's keys and the honest keys lead independently; and by independent aggregation
/// the chance that *at least one* of several keys with stakes σ_1 … σ_k leads is
/// 1 − Π (1 − f)^σ_i = φ(Σ σ_i), whatever the split. So (1 − a)(1 − h) = 1 − f, and a slot
/// is of one of four kinds: empty ((1 − a)(1 − h)), adversarial only (a (1 − h)), honest only
/// (h (1 − a)) or both (a h).
///
/// # Errors
///
/// [`AnalyticError::AttackerShare`] unless 0 < α < 1, [`AnalyticError::ActiveSlotCoefficient`]
/// unless 0 < f < 1.
pub fn pos_slot_probabilities(stake: f64, f: f64) -> Result<(f64, f64), AnalyticError> {
    check_q(stake)?;
    if !(f > 0.0 && f < 1.0) {
        return Err(AnalyticError::ActiveSlotCoefficient(f));
    }
    let phi =
        |sigma| crate::consensus::praos::phi(f, sigma).expect("f and sigma were checked above");
    Ok((phi(stake), phi(1.0 - stake)))
}

/// The adversary's effective share q' = a (1 − h) / (a (1 − h) + h (1 − a)) in the slot race
/// of [`pos_slot_attacker_success`]: the chance that a slot which changes the gap between
/// the chains favours the adversary. At α = 0.3, f = 0.05: a = 0.015270, h = 0.035268,
/// q' = 0.2978. q' < 1/2 exactly when a < h, that is α < 1/2.
///
/// # Errors
///
/// As [`pos_slot_probabilities`].
pub fn pos_slot_effective_share(stake: f64, f: f64) -> Result<f64, AnalyticError> {
    let (a, h) = pos_slot_probabilities(stake, f)?;
    Ok(a * (1.0 - h) / (a * (1.0 - h) + h * (1.0 - a)))
}

/// The most slots [`pos_slot_attacker_success`] sums over; beyond them the neglected
/// probability is reported by nothing, so it is set far past any realistic race (f ≥ 10⁻⁵).
const POS_SLOT_MAX_SLOTS: u64 = 200_000_000;

/// The probability that a private double spend succeeds on slot-based proof of stake with
/// zero network delay, against a merchant who waits for `z` blocks, when the adversary holds
/// relative stake α = `stake` and the active-slot coefficient is `f`.
///
/// The event (as [`exact_attacker_success`], with slots for blocks). From the fork point the
/// honest parties extend the public chain, which holds the payment in its first block, and
/// the adversary extends a private chain. The merchant ships once the public chain holds z
/// blocks counted from the fork point. The attack succeeds if, at that moment or any later
/// one, the private chain is at least as long as the public one.
///
/// The chains. With zero delay every honest leader of a slot builds on the whole public
/// chain, so the public chain grows by exactly one block in each slot with an honest leader
/// (several honest leaders make sibling blocks of one height). The private chain grows by
/// one block in each slot with an adversarial leader: a chain holds at most one block per
/// slot, since slot numbers strictly increase along it. With a and h of
/// [`pos_slot_probabilities`]:
///
/// 1. The slots N until the merchant ships end with the z-th honest slot: N − z is
///    negative binomial, P(N = n) = C(n − 1, z − 1) h^z (1 − h)^(n − z), n ≥ z.
/// 2. The private blocks M in those n slots: the adversary's lottery is independent of the
///    honest one, so given N = n, M ~ Binomial(n, a) (a slot may count for both chains,
///    including the z-th honest slot itself).
/// 3. If M ≥ z the adversary is level when the merchant ships. Otherwise it is d = z − M
///    behind, and each later slot moves the gap by −1 with probability a (1 − h)
///    (adversarial only), by +1 with probability h (1 − a) (honest only), and not at all
///    in empty slots or slots both lead (each chain grows one). The moves that count form a
///    ±1 walk with down-step probability q' ([`pos_slot_effective_share`]), p' = 1 − q', and
///    by gambler's ruin it ever closes the gap with probability (q'/p')^d if q' < p', else 1.
///
/// Together:
///
/// P = Σ_{n ≥ z} C(n − 1, z − 1) h^z (1 − h)^(n − z) ·
///     [ P(Bin(n, a) ≥ z) + Σ_{m=0..z−1} C(n, m) a^m (1 − a)^(n − m) (q'/p')^(z − m) ].
///
/// P = 1 for z = 0 or α ≥ 1/2 (then q' ≥ 1/2). As f → 0 both-lead slots vanish, the slots
/// that matter are adversarial with probability → α, and P tends to Rosenfeld's
/// [`exact_attacker_success`]`(α, z)`.
///
/// The sum runs over n until a geometric bound on the remaining negative-binomial mass is
/// below 10⁻¹⁷ (at most 2 · 10⁸ slots); terms are computed in logarithms.
///
/// # Errors
///
/// As [`pos_slot_probabilities`].
pub fn pos_slot_attacker_success(stake: f64, f: f64, z: u32) -> Result<f64, AnalyticError> {
    pos_slot_success(stake, f, z, 0)
}

/// [`pos_slot_attacker_success`] when the private chain must get strictly *longer* than
/// the public one, as on a network whose nodes keep the block they saw first (the slot
/// analogue of [`exact_attacker_success_ahead`]): the adversary wins at once with M ≥ z + 1
/// private blocks, and otherwise closes a gap of z + 1 − M:
///
/// P = Σ_{n ≥ z} C(n − 1, z − 1) h^z (1 − h)^(n − z) ·
///     [ P(Bin(n, a) ≥ z + 1) + Σ_{m=0..z} C(n, m) a^m (1 − a)^(n − m) (q'/p')^(z + 1 − m) ].
///
/// For z = 0 it is (q'/p'), the chance to ever get one ahead from level.
///
/// # Errors
///
/// As [`pos_slot_probabilities`].
pub fn pos_slot_attacker_success_ahead(stake: f64, f: f64, z: u32) -> Result<f64, AnalyticError> {
    pos_slot_success(stake, f, z, 1)
}

/// The sum of [`pos_slot_attacker_success`], with the private chain needing `lead` blocks
/// more than the public one (0: level suffices; 1: strictly ahead).
fn pos_slot_success(stake: f64, f: f64, z: u32, lead: u32) -> Result<f64, AnalyticError> {
    let (a, h) = pos_slot_probabilities(stake, f)?;
    let q_eff = pos_slot_effective_share(stake, f)?;
    if q_eff >= 0.5 || (z == 0 && lead == 0) {
        return Ok(1.0);
    }
    let ln_ratio = libm::log(q_eff) - libm::log(1.0 - q_eff);
    if z == 0 {
        return Ok(libm::exp(f64::from(lead) * ln_ratio));
    }
    let (ln_a, ln_1a, ln_h, ln_1h) = (libm::log(a), libm::log1p(-a), libm::log(h), libm::log1p(-h));
    let zf = f64::from(z);
    let mut total = 0.0;
    // ln P(N = n), starting at n = z: h^z.
    let mut ln_nb = zf * ln_h;
    let mut n = u64::from(z);
    loop {
        let nf = n as f64;
        // Binomial(n, a) terms for m < z, in logarithms.
        let mut ln_bin = nf * ln_1a;
        let (mut below, mut behind) = (0.0, 0.0);
        for m in 0..z + lead {
            if u64::from(m) > n {
                break; // Bin(n, a) has no mass above n
            }
            if m > 0 {
                let mf = f64::from(m);
                ln_bin += libm::log((nf - mf + 1.0) / mf) + ln_a - ln_1a;
            }
            let bin = libm::exp(ln_bin);
            below += bin;
            behind += libm::exp(ln_bin + f64::from(z + lead - m) * ln_ratio);
        }
        let term = libm::exp(ln_nb);
        total += term * ((1.0 - below).max(0.0) + behind);
        // P(N = n + 1) / P(N = n) = n (1 − h) / (n + 1 − z), falling towards 1 − h.
        let ratio = nf * (1.0 - h) / (nf + 1.0 - zf);
        if (ratio < 1.0 && term * ratio / (1.0 - ratio) < 1e-17) || n >= POS_SLOT_MAX_SLOTS {
            break;
        }
        ln_nb += libm::log(nf / (nf + 1.0 - zf)) + ln_1h;
        n += 1;
    }
    Ok(total.min(1.0))
}

/// The growth rate, in blocks per slot, of the longest chain of a nothing-at-stake
/// attacker's private tree when every (block, slot) pair wins the lottery independently with
/// probability `p`: the attacker runs its lottery on every block of its tree in every slot,
/// as it can when the lottery's input includes the parent block (randomness updated per
/// block), and extends each block that wins.
///
/// Derivation. A chain of n blocks built within t slots is a choice of slots
/// t_1 < … < t_n (block i is made in slot t_i on block i − 1, and wins there with
/// probability p, independently of every other pair), so the expected number of such chains
/// is C(t, n) p^n. With n = v t, ln C(t, v t) = t H(v) + O(ln t), H(v) = −v ln v −
/// (1 − v) ln(1 − v), so the expected number grows for v below the root v* in (p, 1) of
///
/// H(v) + v ln p = 0,
///
/// and vanishes above it. For a branching process this first-moment bound is the growth
/// rate of the deepest branch (J. D. Biggins, "Chernoff's theorem in the branching random
/// walk", 1977). For small p, v = c p gives c p (1 − ln c) + O(p²) = 0, so v*/p → e: the
/// tree grows about e times as fast as the attacker's one chain grows when it runs the
/// lottery once per slot (rate p). Bagaria, Dembo, Kannan, Oh, Tse, Viswanath, Wang and
/// Zeitouni ("Proof-of-stake longest chain protocols: security vs predictability",
/// arXiv 1910.02218) prove the continuous-time version, rate e λ. Discrete slots lower the
/// factor: v*/p = 2.543 at p = 0.05, 2.682 at p = 0.01.
///
/// Solved by bisection on (p, 1), where H(v) + v ln p is concave, positive at p and
/// negative at 1.
///
/// # Errors
///
/// [`AnalyticError::MinerShare`] unless 0 < p < 1.
pub fn nothing_at_stake_growth_rate(p: f64) -> Result<f64, AnalyticError> {
    if !(p > 0.0 && p < 1.0) {
        return Err(AnalyticError::MinerShare(p));
    }
    let ln_p = libm::log(p);
    let g = |v: f64| -v * libm::log(v) - (1.0 - v) * libm::log1p(-v) + v * ln_p;
    let (mut lo, mut hi) = (p, 1.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}

/// The largest stake α at which a nothing-at-stake attacker (see
/// [`nothing_at_stake_growth_rate`]) cannot outgrow the honest chain of a slot lottery with
/// active-slot coefficient `f`, at zero delay: the root of
/// v*(φ(α)) = φ(1 − α), where the honest chain grows by one block in each slot with an honest
/// leader (probability φ(1 − α), see [`pos_slot_probabilities`]). As f → 0 both sides are
/// linear in f and the condition becomes e α = 1 − α: α = 1/(1 + e) = 0.2689, against 1/2
/// for an attacker that runs the lottery once per slot (Bagaria et al., arXiv 1910.02218).
/// Solved by bisection on (0, 1/2), where the difference increases with α.
///
/// # Errors
///
/// [`AnalyticError::ActiveSlotCoefficient`] unless 0 < f < 1.
pub fn nothing_at_stake_safe_stake(f: f64) -> Result<f64, AnalyticError> {
    if !(f > 0.0 && f < 1.0) {
        return Err(AnalyticError::ActiveSlotCoefficient(f));
    }
    let gap = |alpha: f64| -> f64 {
        let (a, h) = pos_slot_probabilities(alpha, f).expect("0 < alpha < 1 and 0 < f < 1");
        nothing_at_stake_growth_rate(a).expect("0 < a < 1") - h
    };
    let (mut lo, mut hi) = (1e-9, 0.5);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if gap(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}

/// The Wilson score interval (lower, upper) for a binomial proportion, with `z` standard
/// normal quantiles (1.96 for 95 %):
///
/// centre = (p̂ + z²/2n) / (1 + z²/n),
/// half-width = z / (1 + z²/n) · √(p̂ (1 − p̂)/n + z²/4n²),
///
/// where p̂ = successes / n and n = `trials`. It stays inside [0, 1] and behaves well at
/// p̂ = 0 or 1, unlike the normal approximation.
///
/// Degenerate inputs do not panic: with no trials (or a `z` that is not finite) the interval
/// is the uninformative (0, 1); `successes` above `trials` is clamped to `trials`; a negative
/// `z` is used by its absolute value.
pub fn wilson_interval(successes: u64, trials: u64, z: f64) -> (f64, f64) {
    if trials == 0 || !z.is_finite() {
        return (0.0, 1.0);
    }
    let n = trials as f64;
    let phat = successes.min(trials) as f64 / n;
    let z = z.abs();
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (phat + z2 / (2.0 * n)) / denominator;
    let half = z / denominator * libm::sqrt(phat * (1.0 - phat) / n + z2 / (4.0 * n * n));
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strictly-ahead variant against a direct Monte Carlo of the same race (each block
    /// the attacker's with probability q; success once h >= z and a >= h + 1; stop when the
    /// attacker is 40 behind, where catching up has probability below 1e-15 for q <= 0.4).
    /// Tolerance: 4 standard errors of 200,000 trials.
    #[test]
    fn attacker_getting_strictly_ahead_matches_a_direct_simulation() {
        use crate::rng::{Purpose, RngStreams, uniform01};
        let mut rng = RngStreams::new(11).stream(Purpose::Attacker, 99);
        for (q, z) in [(0.1, 1), (0.3, 2), (0.4, 0), (0.25, 4)] {
            let exact = exact_attacker_success_ahead(q, z).unwrap();
            assert!(exact < exact_attacker_success(q, z).unwrap() || z == 0);
            let trials = 200_000u32;
            let mut wins = 0u32;
            for _ in 0..trials {
                let (mut h, mut a) = (0i64, 0i64);
                loop {
                    if h >= i64::from(z) && a > h {
                        wins += 1;
                        break;
                    }
                    if h - a >= 40 {
                        break;
                    }
                    if uniform01(&mut rng) < q { a += 1 } else { h += 1 }
                }
            }
            let p = f64::from(wins) / f64::from(trials);
            let se = (exact * (1.0 - exact) / f64::from(trials)).sqrt();
            assert!((p - exact).abs() < 4.0 * se, "q {q} z {z}: simulated {p}, exact {exact}");
        }
    }

    fn rounded7(x: f64) -> String {
        format!("{x:.7}")
    }

    #[test]
    fn nakamoto_matches_the_whitepaper_table_for_q_0_1() {
        let printed = [
            "1.0000000",
            "0.2045873",
            "0.0509779",
            "0.0131722",
            "0.0034552",
            "0.0009137",
            "0.0002428",
            "0.0000647",
            "0.0000173",
            "0.0000046",
            "0.0000012",
        ];
        for (z, want) in printed.iter().enumerate() {
            let got = nakamoto_attacker_success(0.1, z as u32).unwrap();
            assert_eq!(rounded7(got), *want, "q = 0.1, z = {z}");
        }
    }

    #[test]
    fn nakamoto_matches_the_whitepaper_table_for_q_0_3() {
        let printed = [
            "1.0000000",
            "0.1773523",
            "0.0416605",
            "0.0101008",
            "0.0024804",
            "0.0006132",
            "0.0001522",
            "0.0000379",
            "0.0000095",
            "0.0000024",
            "0.0000006",
        ];
        for (i, want) in printed.iter().enumerate() {
            let z = 5 * i as u32;
            let got = nakamoto_attacker_success(0.3, z).unwrap();
            assert_eq!(rounded7(got), *want, "q = 0.3, z = {z}");
        }
    }

    /// The whitepaper's C routine, transcribed literally (1 − Σ form), as a cross-check of the
    /// rearranged evaluation.
    fn nakamoto_literal(q: f64, z: u32) -> f64 {
        let p = 1.0 - q;
        let lambda = f64::from(z) * (q / p);
        let mut sum = 1.0;
        for k in 0..=z {
            let mut poisson = libm::exp(-lambda);
            for i in 1..=k {
                poisson *= lambda / f64::from(i);
            }
            sum -= poisson * (1.0 - libm::pow(q / p, f64::from(z - k)));
        }
        sum
    }

    #[test]
    fn nakamoto_rearrangement_agrees_with_the_literal_routine() {
        for &q in &[0.05, 0.1, 0.2, 0.3, 0.4, 0.45] {
            for z in 0..60 {
                let a = nakamoto_attacker_success(q, z).unwrap();
                let b = nakamoto_literal(q, z);
                assert!((a - b).abs() < 1e-13, "q {q} z {z}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn nakamoto_min_confirmations_matches_the_whitepaper() {
        let printed = [
            (0.10, 5),
            (0.15, 8),
            (0.20, 11),
            (0.25, 15),
            (0.30, 24),
            (0.35, 41),
            (0.40, 89),
            (0.45, 340),
        ];
        for (q, z) in printed {
            assert_eq!(nakamoto_min_confirmations(q, 0.001).unwrap(), z, "q = {q}");
        }
    }

    #[test]
    fn bad_inputs_are_errors_naming_the_value() {
        for q in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
            assert!(nakamoto_attacker_success(q, 3).is_err());
            assert!(exact_attacker_success(q, 3).is_err());
        }
        let err = exact_attacker_success(1.5, 3).unwrap_err();
        assert!(err.to_string().contains("1.5"), "{err}");
        assert!(matches!(
            nakamoto_min_confirmations(0.1, 0.0),
            Err(AnalyticError::TargetProbability(_))
        ));
        assert!(matches!(
            nakamoto_min_confirmations(0.5, 0.001),
            Err(AnalyticError::Unreachable { .. })
        ));
        assert!(selfish_mining_revenue(0.5, 0.0).is_err());
        assert!(selfish_mining_revenue(0.3, 1.1).is_err());
        assert!(selfish_mining_threshold(f64::NAN).is_err());
        assert!(two_miner_stale_rate(1.2, 0.1).is_err());
        assert!(two_miner_stale_rate(0.5, -0.1).is_err());
        assert!(two_miner_stale_rate(0.5, f64::INFINITY).is_err());
    }

    #[test]
    fn majority_attacker_always_succeeds() {
        for z in [0, 1, 6, 50] {
            assert_eq!(nakamoto_attacker_success(0.5, z).unwrap(), 1.0);
            assert_eq!(exact_attacker_success(0.5, z).unwrap(), 1.0);
            assert_eq!(exact_attacker_success(0.7, z).unwrap(), 1.0);
        }
    }

    /// Rosenfeld's closed form transcribed literally, binomials and all.
    fn rosenfeld_literal(q: f64, z: u32) -> f64 {
        if z == 0 {
            return 1.0;
        }
        let p = 1.0 - q;
        let mut sum = 0.0;
        for m in 0..=z {
            // C(m+z−1, m) as a float product.
            let mut binom = 1.0;
            for i in 1..=m {
                binom *= f64::from(z - 1 + i) / f64::from(i);
            }
            sum += binom
                * (libm::pow(p, f64::from(z)) * libm::pow(q, f64::from(m))
                    - libm::pow(q, f64::from(z)) * libm::pow(p, f64::from(m)));
        }
        1.0 - sum
    }

    /// The race summed directly from its definition: negative-binomial attacker progress m
    /// while the honest chain mines z blocks, times the gambler's-ruin probability of drawing
    /// level from deficit z − m (1 if m ≥ z), with the infinite sum over m cut where the terms
    /// are negligible.
    fn direct_negative_binomial_sum(q: f64, z: u32) -> f64 {
        if z == 0 {
            return 1.0;
        }
        let p = 1.0 - q;
        let mut pmf = libm::pow(p, f64::from(z)); // m = 0
        let mut total = 0.0;
        for m in 0..20_000u32 {
            if m > 0 {
                pmf *= q * f64::from(m + z - 1) / f64::from(m);
            }
            let catch_up = if m >= z { 1.0 } else { libm::pow(q / p, f64::from(z - m)) };
            total += pmf * catch_up;
        }
        total
    }

    #[test]
    fn exact_closed_form_agrees_with_direct_summation() {
        for &q in &[0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.49] {
            for z in 0..=40 {
                let fast = exact_attacker_success(q, z).unwrap();
                let literal = rosenfeld_literal(q, z);
                let direct = direct_negative_binomial_sum(q, z);
                assert!(
                    (fast - direct).abs() <= 1e-12 * direct,
                    "q {q} z {z}: closed form {fast} vs direct sum {direct}"
                );
                // The literal 1 − Σ form loses absolute precision to cancellation only.
                assert!((fast - literal).abs() < 1e-13, "q {q} z {z}: {fast} vs literal {literal}");
            }
        }
    }

    #[test]
    fn exact_known_values() {
        // z = 0 gives 1 in both forms; z = 1 gives 1 − (p − q) = 2q exactly.
        assert_eq!(exact_attacker_success(0.3, 0).unwrap(), 1.0);
        assert_eq!(nakamoto_attacker_success(0.3, 0).unwrap(), 1.0);
        for q in [0.1, 0.25, 0.4] {
            let got = exact_attacker_success(q, 1).unwrap();
            assert!((got - 2.0 * q).abs() < 1e-15, "q {q}: {got}");
        }
        // For q = 0.1, z = 6 the closed form is a polynomial in q; in exact rational
        // arithmetic it is 1848163/3125000000 = 0.00059141216 (Rosenfeld's table: 0.059 %).
        let got = exact_attacker_success(0.1, 6).unwrap();
        assert!((got - 0.000_591_412_16).abs() < 1e-17, "{got}");
        // Nakamoto's Poisson race underestimates the exact one from z = 2 on (at z = 1 it
        // gives 0.2045873 against exactly 0.2).
        for z in 2..=10 {
            assert!(
                nakamoto_attacker_success(0.1, z).unwrap()
                    < exact_attacker_success(0.1, z).unwrap()
            );
        }
    }

    #[test]
    fn lead_raises_success_and_zero_lead_is_the_plain_race() {
        for &q in &[0.1, 0.3] {
            for z in 0..=12 {
                let plain = exact_attacker_success(q, z).unwrap();
                assert_eq!(exact_attacker_success_with_lead(q, z, 0).unwrap(), plain);
                if z >= 2 {
                    let led = exact_attacker_success_with_lead(q, z, 1).unwrap();
                    assert!(led > plain);
                }
                assert_eq!(exact_attacker_success_with_lead(q, z, z).unwrap(), 1.0);
            }
        }
    }

    #[test]
    fn selfish_threshold_values() {
        assert!((selfish_mining_threshold(0.0).unwrap() - 1.0 / 3.0).abs() < 1e-15);
        assert!((selfish_mining_threshold(0.5).unwrap() - 0.25).abs() < 1e-15);
        assert_eq!(selfish_mining_threshold(1.0).unwrap(), 0.0);
    }

    #[test]
    fn selfish_revenue_exceeds_share_exactly_above_threshold() {
        let r = selfish_mining_revenue(1.0 / 3.0, 0.0).unwrap();
        assert!((r - 1.0 / 3.0).abs() < 1e-12, "{r}");
        for gi in 0..=20 {
            let gamma = f64::from(gi) / 20.0;
            let threshold = selfish_mining_threshold(gamma).unwrap();
            for ai in 1..100 {
                let alpha = f64::from(ai) / 200.0;
                if (alpha - threshold).abs() < 1e-9 {
                    continue;
                }
                let gain = selfish_mining_revenue(alpha, gamma).unwrap() - alpha;
                assert_eq!(
                    gain > 0.0,
                    alpha > threshold,
                    "alpha {alpha} gamma {gamma}: R − α = {gain}, threshold {threshold}"
                );
            }
        }
        assert_eq!(selfish_mining_revenue(0.0, 0.5).unwrap(), 0.0);
    }

    #[test]
    fn stale_rate_limits_and_symmetry() {
        assert_eq!(two_miner_stale_rate(0.0, 0.5).unwrap(), 0.0);
        assert_eq!(two_miner_stale_rate(0.3, 0.0).unwrap(), 0.0);
        let a = two_miner_stale_rate(0.3, 0.01).unwrap();
        let b = two_miner_stale_rate(0.7, 0.01).unwrap();
        assert!((a - b).abs() < 1e-15);
        // Small d/T: s ≈ 2 a (1 − a) d/T.
        let small = two_miner_stale_rate(0.5, 1e-4).unwrap();
        assert!((small - 0.5e-4).abs() < 1e-8, "{small}");
        // Equal shares maximise the stale rate.
        assert!(
            two_miner_stale_rate(0.5, 0.05).unwrap() > two_miner_stale_rate(0.4, 0.05).unwrap()
        );
    }

    #[test]
    fn wilson_interval_properties() {
        let (lo, hi) = wilson_interval(50, 100, 1.96);
        assert!((lo - 0.4038).abs() < 1e-4 && (hi - 0.5962).abs() < 1e-4, "{lo} {hi}");
        let (lo, hi) = wilson_interval(0, 100, 1.96);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.0370).abs() < 1e-4, "{hi}");
        assert_eq!(wilson_interval(0, 0, 1.96), (0.0, 1.0));
        let (lo, hi) = wilson_interval(200, 100, 1.96);
        assert!(lo > 0.9 && (hi - 1.0).abs() < 1e-12, "{lo} {hi}");
        assert_eq!(wilson_interval(3, 10, f64::NAN), (0.0, 1.0));
    }

    #[test]
    fn pos_slot_effective_share_at_stake_0_3_and_f_0_05() {
        let (a, h) = pos_slot_probabilities(0.3, 0.05).unwrap();
        assert!((a - 0.015270).abs() < 5e-7 && (h - 0.035268).abs() < 5e-7, "{a} {h}");
        assert!(((1.0 - a) * (1.0 - h) - 0.95).abs() < 1e-15, "independent aggregation");
        let q = pos_slot_effective_share(0.3, 0.05).unwrap();
        assert_eq!(format!("{q:.4}"), "0.2978");
        // q' = 1/2 exactly at α = 1/2, and on the same side of 1/2 as α.
        assert!((pos_slot_effective_share(0.5, 0.3).unwrap() - 0.5).abs() < 1e-15);
        assert!(pos_slot_effective_share(0.49, 0.9).unwrap() < 0.5);
        assert!(pos_slot_effective_share(0.51, 0.9).unwrap() > 0.5);
        assert_eq!(pos_slot_attacker_success(0.5, 0.1, 6).unwrap(), 1.0);
        assert_eq!(pos_slot_attacker_success(0.2, 0.1, 0).unwrap(), 1.0);
        assert_eq!(
            pos_slot_probabilities(0.3, 1.0),
            Err(AnalyticError::ActiveSlotCoefficient(1.0))
        );
        assert_eq!(pos_slot_probabilities(0.0, 0.05), Err(AnalyticError::AttackerShare(0.0)));
    }

    /// The strictly-ahead slot race tends to the strictly-ahead block race as f → 0 (gap at
    /// least fivefold smaller from f = 0.01 to 0.001, and below 2·10⁻³), lies below the
    /// level-suffices one, and is q'/p' at z = 0.
    #[test]
    fn pos_slot_success_ahead_limits() {
        for (stake, z) in [(0.1, 2), (0.3, 4), (0.45, 6)] {
            let block_race = exact_attacker_success_ahead(stake, z).unwrap();
            let d1 = (pos_slot_attacker_success_ahead(stake, 0.01, z).unwrap() - block_race).abs();
            let d2 = (pos_slot_attacker_success_ahead(stake, 0.001, z).unwrap() - block_race).abs();
            assert!(d2 < d1 / 5.0 && d2 < 2e-3, "stake {stake} z {z}: {d1} {d2}");
            let level = pos_slot_attacker_success(stake, 0.05, z).unwrap();
            let ahead = pos_slot_attacker_success_ahead(stake, 0.05, z).unwrap();
            assert!(ahead < level, "stake {stake} z {z}: {ahead} {level}");
        }
        let q = pos_slot_effective_share(0.3, 0.05).unwrap();
        let at_zero = pos_slot_attacker_success_ahead(0.3, 0.05, 0).unwrap();
        assert!((at_zero - q / (1.0 - q)).abs() < 1e-15);
        assert_eq!(pos_slot_attacker_success_ahead(0.5, 0.05, 3).unwrap(), 1.0);
        // At stake 0.3, f = 0.05: 0.3063, 0.2314, 0.1789 for z = 1, 2, 3.
        let at = |z| format!("{:.4}", pos_slot_attacker_success_ahead(0.3, 0.05, z).unwrap());
        assert_eq!([at(1), at(2), at(3)], ["0.3063", "0.2314", "0.1789"]);
    }

    /// As f → 0 the slot race becomes Rosenfeld's block race: the gap to
    /// exact_attacker_success shrinks with f (at least fivefold from f = 0.01 to 0.001, and
    /// below 2·10⁻³ at f = 0.001). Success falls with z and rises with stake.
    #[test]
    fn pos_slot_success_limits() {
        for (stake, z) in [(0.1, 2), (0.3, 4), (0.45, 6)] {
            let rosenfeld = exact_attacker_success(stake, z).unwrap();
            let d1 = (pos_slot_attacker_success(stake, 0.01, z).unwrap() - rosenfeld).abs();
            let d2 = (pos_slot_attacker_success(stake, 0.001, z).unwrap() - rosenfeld).abs();
            assert!(d2 < d1 / 5.0 && d2 < 2e-3, "stake {stake} z {z}: {d1} {d2}");
        }
        let p = |stake, z| pos_slot_attacker_success(stake, 0.05, z).unwrap();
        assert!(p(0.3, 1) > p(0.3, 2) && p(0.3, 2) > p(0.3, 6) && p(0.3, 6) > p(0.3, 12));
        assert!(p(0.1, 4) < p(0.2, 4) && p(0.2, 4) < p(0.4, 4));
        assert!(p(0.01, 6) < 1e-6 && p(0.01, 6) > 0.0);
    }

    /// The closed form against a direct Monte Carlo of the slot process with the Praos
    /// lottery: the adversary one key of stake α, the honest stake split over three keys
    /// (50 %, 30 %, 20 % of it), each key leading a slot when its uniform 53-bit draw is below
    /// φ(σ). 20,000 races per point; the race is cut when the adversary is 25 behind after
    /// the merchant ships (catching up from there has probability (q'/p')^25 < 2·10⁻⁵ at
    /// these points). Tolerance: 3 standard errors.
    #[test]
    fn pos_slot_success_matches_a_direct_simulation() {
        use crate::consensus::praos::SlotLottery;
        use crate::rng::{Purpose, RngStreams};
        use rand::Rng;
        let mut rng = RngStreams::new(12).stream(Purpose::Attacker, 98);
        for (stake, f, z) in [(0.3, 0.05, 2u32), (0.2, 0.1, 3), (0.4, 0.3, 4)] {
            let exact = pos_slot_attacker_success(stake, f, z).unwrap();
            let honest = 1.0 - stake;
            let units = |x: f64| (x * 1e6).round() as u64;
            let lottery = SlotLottery::new(
                f,
                &[units(stake), units(0.5 * honest), units(0.3 * honest), units(0.2 * honest)],
            )
            .unwrap();
            let trials = 20_000u32;
            let mut wins = 0u32;
            for _ in 0..trials {
                let (mut public, mut private) = (0i64, 0i64);
                loop {
                    let adversary = lottery.leads_with_bits(0, rng.next_u64() >> 11);
                    let mut any_honest = false;
                    for key in 1..4 {
                        any_honest |= lottery.leads_with_bits(key, rng.next_u64() >> 11);
                    }
                    private += i64::from(adversary);
                    public += i64::from(any_honest);
                    if public >= i64::from(z) {
                        if private >= public {
                            wins += 1;
                            break;
                        }
                        if public - private >= 25 {
                            break;
                        }
                    }
                }
            }
            let p = f64::from(wins) / f64::from(trials);
            let se = (exact * (1.0 - exact) / f64::from(trials)).sqrt();
            println!(
                "pos-slot double spend stake {stake} f {f} z {z}: closed form {exact:.4}, simulated {p:.4} (se {se:.4})"
            );
            assert!(
                (p - exact).abs() < 3.0 * se,
                "stake {stake} f {f} z {z}: simulated {p}, closed form {exact}, se {se}"
            );
        }
    }

    /// The nothing-at-stake growth rate: v*/p at the values quoted in the docs, tending to e
    /// as p → 0 (within 0.1 % at p = 10⁻⁵), above p always; the safe stake tends to
    /// 1/(1 + e) as f → 0 and lies below 1/2.
    #[test]
    fn nothing_at_stake_growth_and_safe_stake() {
        let ratio = |p: f64| nothing_at_stake_growth_rate(p).unwrap() / p;
        assert_eq!(format!("{:.3}", ratio(0.05)), "2.543");
        assert_eq!(format!("{:.3}", ratio(0.01)), "2.682");
        let e = std::f64::consts::E;
        assert!((ratio(1e-5) - e).abs() < 1e-3 * e, "{}", ratio(1e-5));
        assert!(ratio(0.3) > 1.0 && ratio(0.3) < ratio(0.1) && ratio(0.1) < ratio(0.01));
        // The root solves H(v) + v ln p = 0.
        let (p, v): (f64, f64) = (0.05, nothing_at_stake_growth_rate(0.05).unwrap());
        let g = -v * v.ln() - (1.0 - v) * (1.0 - v).ln() + v * p.ln();
        assert!(g.abs() < 1e-12, "{g}");
        let limit = 1.0 / (1.0 + e);
        let small = nothing_at_stake_safe_stake(1e-4).unwrap();
        assert!((small - limit).abs() < 1e-3, "{small} vs {limit}");
        let at_005 = nothing_at_stake_safe_stake(0.05).unwrap();
        assert!(at_005 > limit && at_005 < 0.5, "{at_005}");
        assert_eq!(nothing_at_stake_growth_rate(0.0), Err(AnalyticError::MinerShare(0.0)));
        assert_eq!(
            nothing_at_stake_safe_stake(1.0),
            Err(AnalyticError::ActiveSlotCoefficient(1.0))
        );
        println!("nothing-at-stake safe stake at f = 0.05: {at_005:.4}; limit {limit:.4}");
    }
}
