//! A verifiable random function for slot leadership: schnorrkel's VRF on Ristretto, the one
//! Polkadot's BABE uses, with keys drawn from the run's seeded streams.
//!
//! Why a VRF and not the hash of a signature: a signer can make many valid signatures of one
//! message (a Schnorr or ECDSA nonce is the signer's choice), so "hash my signature of the
//! slot and compare with a threshold" lets a party grind until it wins. A VRF has exactly one
//! output per (key, input), and anybody holding the public key can check the output against
//! the proof. This is what Ouroboros Praos requires of its leader lottery.
//!
//! # Determinism
//!
//! - A key is a 32-byte mini secret (expanded as ed25519 does) taken from a seeded stream, so
//!   the same seed gives the same keys.
//! - The output depends only on the key and the input.
//! - The proof's nonce is derandomized: schnorrkel derives it from the transcript and the
//!   key's secret nonce, and also mixes in bytes from an RNG; we supply an RNG that yields
//!   zeros (the private `Derandomized`), so the nonce is a hash of secret and message, as in RFC 8032's
//!   deterministic signatures, and proofs are byte-identical across runs. The crate is built
//!   without its default features, so nothing in it can reach the OS random source.
//!
//! # From output to a fraction
//!
//! The 32 output bytes come from `VRFInOut::make_bytes` under the context
//! [`OUTPUT_CONTEXT`] (a hash of the VRF input and output points, the 2Hash-DH construction
//! of Praos). [`VrfOutput::fraction`] takes the first 8 bytes as a big-endian integer, keeps
//! its top 53 bits k and returns k · 2^−53. If the bytes are uniform, k is uniform on
//! 0..2^53, and every k · 2^−53 is an exact `f64` (53-bit mantissa, power-of-two scale), so
//! the fraction is exactly uniform on the grid {0, 2^−53, …, 1 − 2^−53} ⊂ [0, 1). A threshold
//! test "fraction < t" is then true with probability ⌈t · 2^53⌉ / 2^53, within 2^−53 of t;
//! [`VrfOutput::below`] performs it on the integer k.

use rand::Rng;
use schnorrkel::context::attach_rng;
use schnorrkel::vrf::{VRFPreOut, VRFProof};
use schnorrkel::{ExpansionMode, Keypair, MiniSecretKey, PublicKey, signing_context};
use thiserror::Error;

/// The signing context of every forksim VRF input (domain separation from other uses).
pub const INPUT_CONTEXT: &[u8] = b"forksim-vrf-input-v1";
/// The context under which the output point is hashed to output bytes.
pub const OUTPUT_CONTEXT: &[u8] = b"forksim-vrf-output-v1";
/// The context of the proof's extra transcript (the same for proving and verifying).
const EXTRA_CONTEXT: &[u8] = b"forksim-vrf-proof-v1";

/// Why a VRF proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VrfError {
    /// The public key bytes are not a valid Ristretto point.
    #[error("vrf public key is not a valid point")]
    PublicKey,
    /// The proof bytes are not two canonical scalars.
    #[error("vrf proof is malformed")]
    MalformedProof,
    /// The proof does not show that the output belongs to this key and input.
    #[error("vrf proof does not verify for this key, input and output")]
    Invalid,
}

/// A party's VRF key pair.
pub struct VrfKey {
    keypair: Keypair,
}

/// A public VRF key: what every node holds to check a leader's claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VrfPublic(pub [u8; 32]);

/// The VRF output: 32 bytes, pseudorandom to anybody without the secret key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VrfOutput {
    /// The hashed output (see the module docs).
    pub bytes: [u8; 32],
    /// The output point as sent with the proof (a block carries it).
    pub preout: [u8; 32],
}

/// A proof (64 bytes: challenge and response scalars) that an output is the key's on an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VrfProof(pub [u8; 64]);

/// The 53 bits of a fraction, as an integer (`fraction = k · 2^−53`).
pub const FRACTION_BITS: u32 = 53;

impl VrfKey {
    /// The key whose mini secret is `seed` (expanded the way ed25519 expands a seed).
    pub fn from_seed(seed: [u8; 32]) -> VrfKey {
        let mini = MiniSecretKey::from_bytes(&seed).expect("a mini secret key is any 32 bytes");
        VrfKey { keypair: mini.expand_to_keypair(ExpansionMode::Ed25519) }
    }

    /// A key drawn from a seeded stream (32 bytes of it).
    pub fn from_rng<R: Rng + ?Sized>(rng: &mut R) -> VrfKey {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        VrfKey::from_seed(seed)
    }

    /// The public half.
    pub fn public(&self) -> VrfPublic {
        VrfPublic(self.keypair.public.to_bytes())
    }

    /// Evaluates the VRF on `input` and proves the result.
    pub fn prove(&self, input: &[u8]) -> (VrfOutput, VrfProof) {
        self.prove_if(input, |_| true).expect("the check always passes")
    }

    /// Evaluates the VRF on `input`, and proves the result only if `check` accepts the
    /// output: a party that loses the lottery skips the proof, which costs about as much
    /// again as the evaluation.
    pub fn prove_if(
        &self,
        input: &[u8],
        mut check: impl FnMut(&VrfOutput) -> bool,
    ) -> Option<(VrfOutput, VrfProof)> {
        let mut output = None;
        let signed = self.keypair.vrf_sign_extra_after_check(input_transcript(input), |inout| {
            let out = VrfOutput {
                bytes: inout.make_bytes::<[u8; 32]>(OUTPUT_CONTEXT),
                preout: inout.to_preout().to_bytes(),
            };
            output = Some(out);
            check(&out).then(|| attach_rng(extra_transcript(), Derandomized))
        });
        let (_, proof, _) = signed?;
        Some((output.expect("the check ran"), VrfProof(proof.to_bytes())))
    }

    /// Evaluates the VRF on `input` without a proof (what a party computes to learn whether
    /// it leads).
    pub fn evaluate(&self, input: &[u8]) -> VrfOutput {
        let inout = self.keypair.vrf_create_hash(input_transcript(input));
        VrfOutput {
            bytes: inout.make_bytes::<[u8; 32]>(OUTPUT_CONTEXT),
            preout: inout.to_preout().to_bytes(),
        }
    }
}

/// Checks that `output` is `public`'s VRF output on `input`, as `proof` claims.
///
/// # Errors
///
/// [`VrfError`] when the key or proof bytes are malformed or the proof does not verify;
/// also when the claimed hashed output does not match the proven output point.
pub fn verify(
    public: &VrfPublic,
    input: &[u8],
    output: &VrfOutput,
    proof: &VrfProof,
) -> Result<(), VrfError> {
    let key = PublicKey::from_bytes(&public.0).map_err(|_| VrfError::PublicKey)?;
    let preout = VRFPreOut::from_bytes(&output.preout).map_err(|_| VrfError::Invalid)?;
    let proof = VRFProof::from_bytes(&proof.0).map_err(|_| VrfError::MalformedProof)?;
    let (inout, _) = key
        .vrf_verify_extra(input_transcript(input), &preout, &proof, extra_transcript())
        .map_err(|_| VrfError::Invalid)?;
    if inout.make_bytes::<[u8; 32]>(OUTPUT_CONTEXT) != output.bytes {
        return Err(VrfError::Invalid);
    }
    Ok(())
}

impl VrfOutput {
    /// The top 53 bits of the output as an integer k in 0..2^53 (first 8 bytes, big-endian).
    pub fn fraction_bits(&self) -> u64 {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.bytes[..8]);
        u64::from_be_bytes(first) >> (64 - FRACTION_BITS)
    }

    /// The output as a fraction k · 2^−53 in [0, 1), exactly (see the module docs).
    pub fn fraction(&self) -> f64 {
        self.fraction_bits() as f64 * fraction_scale()
    }

    /// Whether the fraction is below `threshold`, decided on the integer k: k < ⌈t · 2^53⌉.
    pub fn below(&self, threshold: f64) -> bool {
        self.fraction_bits() < threshold_bits(threshold)
    }
}

/// 2^−53: the grid step of [`VrfOutput::fraction`].
fn fraction_scale() -> f64 {
    1.0 / (1u64 << FRACTION_BITS) as f64
}

/// ⌈t · 2^53⌉ clamped to 0..=2^53: the integer threshold equivalent to "fraction < t" (the
/// product is exact, as 2^53 is a power of two, so only the ceiling rounds).
pub fn threshold_bits(threshold: f64) -> u64 {
    let scaled = threshold * (1u64 << FRACTION_BITS) as f64;
    if scaled.is_nan() || scaled <= 0.0 {
        0
    } else if scaled >= (1u64 << FRACTION_BITS) as f64 {
        1u64 << FRACTION_BITS
    } else {
        libm::ceil(scaled) as u64
    }
}

fn input_transcript(input: &[u8]) -> impl schnorrkel::vrf::VRFSigningTranscript {
    signing_context(INPUT_CONTEXT).bytes(input)
}

fn extra_transcript() -> impl schnorrkel::context::SigningTranscript {
    signing_context(EXTRA_CONTEXT).bytes(b"")
}

/// The RNG handed to schnorrkel's nonce derivation: all zeros. The nonce stays secret and
/// unique per message because schnorrkel hashes the key's secret nonce and the whole
/// transcript into it (derandomized signing); see the module docs.
struct Derandomized;

impl rand_core_06::RngCore for Derandomized {
    fn next_u32(&mut self) -> u32 {
        0
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core_06::Error> {
        dest.fill(0);
        Ok(())
    }
}

impl rand_core_06::CryptoRng for Derandomized {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, RngStreams};

    fn key(i: u64) -> VrfKey {
        VrfKey::from_rng(&mut RngStreams::new(5).stream(Purpose::Attacker, i))
    }

    #[test]
    fn proofs_verify_and_are_reproducible() {
        let k = key(1);
        let (out, proof) = k.prove(b"slot 7");
        assert_eq!(verify(&k.public(), b"slot 7", &out, &proof), Ok(()));
        // Same key, same input: same output and, derandomized, the same proof bytes.
        let again = key(1).prove(b"slot 7");
        assert_eq!(again, (out, proof));
        assert_eq!(k.evaluate(b"slot 7"), out);
        // A different input gives a different output.
        assert_ne!(k.evaluate(b"slot 8"), out);
    }

    #[test]
    fn wrong_key_input_output_or_proof_is_refused() {
        let (a, b) = (key(1), key(2));
        let (out, proof) = a.prove(b"slot 7");
        assert_eq!(verify(&b.public(), b"slot 7", &out, &proof), Err(VrfError::Invalid));
        assert_eq!(verify(&a.public(), b"slot 8", &out, &proof), Err(VrfError::Invalid));
        // Claiming a better (smaller) hashed output for the same proof fails.
        let mut forged = out;
        forged.bytes = [0u8; 32];
        assert_eq!(verify(&a.public(), b"slot 7", &forged, &proof), Err(VrfError::Invalid));
        // Another key's output point with this proof fails.
        let other = b.prove(b"slot 7").0;
        assert_eq!(verify(&a.public(), b"slot 7", &other, &proof), Err(VrfError::Invalid));
        let mut bad = proof;
        bad.0[40] ^= 1;
        assert!(verify(&a.public(), b"slot 7", &out, &bad).is_err());
        assert_eq!(
            verify(&a.public(), b"slot 7", &out, &VrfProof([0xff; 64])),
            Err(VrfError::MalformedProof)
        );
    }

    #[test]
    fn prove_if_skips_the_proof_when_the_check_fails() {
        let k = key(3);
        assert!(k.prove_if(b"x", |_| false).is_none());
        let (out, proof) = k.prove_if(b"x", |o| o.fraction() < 1.0).unwrap();
        assert_eq!(verify(&k.public(), b"x", &out, &proof), Ok(()));
    }

    #[test]
    fn fraction_is_the_top_53_bits_exactly() {
        let mut out = VrfOutput { bytes: [0u8; 32], preout: [0u8; 32] };
        assert_eq!(out.fraction(), 0.0);
        out.bytes[..8].copy_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(out.fraction(), 1.0 - 1.0 / (1u64 << 53) as f64);
        out.bytes[..8].copy_from_slice(&(1u64 << 63).to_be_bytes());
        assert_eq!(out.fraction(), 0.5);
        // The low 11 bits of the first 8 bytes are dropped.
        out.bytes[..8].copy_from_slice(&((1u64 << 63) | 0x7ff).to_be_bytes());
        assert_eq!(out.fraction(), 0.5);
        assert!(!out.below(0.5));
        assert!(out.below(0.5 + 1e-15));
        assert_eq!(threshold_bits(0.0), 0);
        assert_eq!(threshold_bits(1.0), 1u64 << 53);
        assert_eq!(threshold_bits(0.25), 1u64 << 51);
        assert_eq!(threshold_bits(f64::NAN), 0);
    }

    /// The fractions of real VRF outputs are uniform: a χ² test over 16 equal bins of 4,000
    /// outputs (15 degrees of freedom; the 0.1 % critical value is 37.70).
    #[test]
    fn real_outputs_are_uniform_fractions() {
        let k = key(4);
        let n = 4_000u32;
        let mut bins = [0u32; 16];
        for i in 0..n {
            let f = k.evaluate(&i.to_le_bytes()).fraction();
            assert!((0.0..1.0).contains(&f));
            bins[(f * 16.0) as usize] += 1;
        }
        let expected = f64::from(n) / 16.0;
        let chi2: f64 = bins.iter().map(|&o| (f64::from(o) - expected).powi(2) / expected).sum();
        assert!(chi2 < 37.70, "chi2 {chi2} bins {bins:?}");
    }
}
