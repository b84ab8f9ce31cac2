//! SHA-256d of block headers with the x86-64 SHA extensions (SHA-NI), two headers at a time.
//!
//! The miner's nonce search ([`grind_nonce`](crate::chain::block::grind_nonce), one to two
//! thousand tries a block) and every node's header check
//! ([`Header::block_hash`](crate::chain::Header::block_hash)) are the simulator's hottest
//! hashing: together about a fifth of a 1000-node run. Through `sha2`'s `compress256`
//! each of their compressions checks the CPU's features again, shuffles the state into and
//! out of the order the SHA instructions take, and turns the first digest into bytes only to
//! read the bytes back as the second block's words. Here the whole double hash stays in
//! registers: the state in the instructions' order (ABEF, CDGH) from the first round to the
//! digest, the first hash's state becoming the second block's message words directly, the
//! padding words as constants.
//!
//! One hash is a chain of 64 `sha256rnds2`, each waiting for the one before: on the Xeon
//! this was measured on, about 4 cycles apiece, while the unit accepts a new one every 3.
//! [`ShaNi::sha256d_header_tails`] therefore hashes two nonces' tails at once, the two
//! independent chains written side by side so that each fills the other's waits; a pair
//! costs about 1.75 single hashes (151 against 87 ns there), which is what the nonce search
//! gains.
//!
//! The algorithm is FIPS 180-4's (sections 4.2.2, 5.3.3 and 6.2.2), arranged as in Intel's
//! SHA extensions white paper. The functions give the bytes of `sha2`'s SHA-256 applied
//! twice, which the tests check for random headers and nonces; the callers in
//! [`hash`](crate::chain::hash) use them only on CPUs that have the instructions (checked
//! once, see [`ShaNi::detect`]) and `compress256` everywhere else.

use core::arch::x86_64::{
    __m128i, _mm_add_epi32, _mm_alignr_epi8, _mm_extract_epi64, _mm_set_epi32, _mm_set_epi64x,
    _mm_setzero_si128, _mm_sha256msg1_epu32, _mm_sha256msg2_epu32, _mm_sha256rnds2_epu32,
    _mm_shuffle_epi8, _mm_shuffle_epi32, _mm_unpackhi_epi64, _mm_unpacklo_epi64,
};
use std::sync::OnceLock;

use crate::chain::block::HEADER_SIZE_BYTES;
use crate::chain::hash::SHA256_IV;

/// SHA-256's round constants (FIPS 180-4, 4.2.2), a row for each step of four rounds.
#[rustfmt::skip]
const K: [u32; 64] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5,
    0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3,
    0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc,
    0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7,
    0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13,
    0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3,
    0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5,
    0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208,
    0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
];

/// Proof that this CPU has the SHA extensions and the SSE levels used with them: the only
/// way to get one is [`ShaNi::detect`], so its methods may run the instructions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ShaNi(());

impl ShaNi {
    /// A token if this CPU has SHA-NI, SSE2, SSSE3 and SSE4.1 (asked once per process).
    #[inline]
    pub(crate) fn detect() -> Option<ShaNi> {
        static DETECTED: OnceLock<bool> = OnceLock::new();
        let detected = *DETECTED.get_or_init(|| {
            std::is_x86_feature_detected!("sha")
                && std::is_x86_feature_detected!("sse2")
                && std::is_x86_feature_detected!("ssse3")
                && std::is_x86_feature_detected!("sse4.1")
        });
        detected.then_some(ShaNi(()))
    }

    /// SHA-256d of an 80-byte header from the state after its first 64 bytes and its last
    /// 16 (what [`sha256d_header_tail`](crate::chain::hash::sha256d_header_tail) returns).
    #[inline]
    pub(crate) fn sha256d_header_tail(self, midstate: &[u32; 8], tail: &[u8; 16]) -> [u8; 32] {
        // SAFETY: a `ShaNi` exists only once `detect` found every feature that
        // `double_hash_tails` enables on this CPU.
        let [digest] = unsafe { double_hash_tails(midstate, [tail]) };
        digest
    }

    /// [`Self::sha256d_header_tail`] of two tails after the same midstate, computed together.
    #[inline]
    pub(crate) fn sha256d_header_tails(
        self,
        midstate: &[u32; 8],
        tails: [&[u8; 16]; 2],
    ) -> [[u8; 32]; 2] {
        // SAFETY: as in `sha256d_header_tail`, the token proves the features were detected.
        unsafe { double_hash_tails(midstate, tails) }
    }

    /// SHA-256d of a whole 80-byte header: its three compressions without leaving registers.
    #[inline]
    pub(crate) fn sha256d_header(self, header: &[u8; HEADER_SIZE_BYTES]) -> [u8; 32] {
        // SAFETY: as in `sha256d_header_tail`, the token proves the features were detected.
        unsafe { double_hash_header(header) }
    }
}

/// A SHA-256 state in the order `sha256rnds2` takes it: lanes 3 to 0 hold A, B, E, F in
/// `abef` and C, D, G, H in `cdgh`.
#[derive(Clone, Copy)]
struct State {
    abef: __m128i,
    cdgh: __m128i,
}

/// One 64-byte message block as sixteen big-endian words, four to a vector: vector `i`
/// holds words `4i` to `4i + 3` in lanes 0 to 3.
type Block = [__m128i; 4];

impl State {
    /// From words A to H (FIPS 180-4 order, as `compress256` keeps them).
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn from_words(h: &[u32; 8]) -> State {
        let lane = |word: u32| word as i32;
        State {
            abef: _mm_set_epi32(lane(h[0]), lane(h[1]), lane(h[4]), lane(h[5])),
            cdgh: _mm_set_epi32(lane(h[2]), lane(h[3]), lane(h[6]), lane(h[7])),
        }
    }

    /// Words A to D and E to H, in lanes 0 to 3: the first half of the block that hashes
    /// this state's digest again.
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn words(self) -> [__m128i; 2] {
        // The high halves are B A | D C and the low ones F E | H G; swapping each pair of
        // lanes (0xB1: lanes 1, 0, 3, 2) puts them in order.
        [
            _mm_shuffle_epi32::<0xB1>(_mm_unpackhi_epi64(self.abef, self.cdgh)),
            _mm_shuffle_epi32::<0xB1>(_mm_unpacklo_epi64(self.abef, self.cdgh)),
        ]
    }

    /// The 32-byte digest: words A to H, each big-endian.
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn digest(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (bytes, words) in out.chunks_exact_mut(16).zip(self.words()) {
            let swapped = byte_swap_words(words);
            bytes[..8].copy_from_slice(&_mm_extract_epi64::<0>(swapped).to_le_bytes());
            bytes[8..].copy_from_slice(&_mm_extract_epi64::<1>(swapped).to_le_bytes());
        }
        out
    }
}

/// Reverses the bytes of each 32-bit lane (big-endian words to native ones and back).
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn byte_swap_words(v: __m128i) -> __m128i {
    let mask = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
    _mm_shuffle_epi8(v, mask)
}

/// Sixteen message bytes as four big-endian words in lanes 0 to 3.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn load_words(bytes: &[u8; 16]) -> __m128i {
    let v = u128::from_le_bytes(*bytes);
    byte_swap_words(_mm_set_epi64x((v >> 64) as u64 as i64, v as u64 as i64))
}

/// Four words as a vector, word 0 in lane 0.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn words4(w: [u32; 4]) -> __m128i {
    _mm_set_epi32(w[3] as i32, w[2] as i32, w[1] as i32, w[0] as i32)
}

/// One SHA-256 compression of each lane's block into its state (FIPS 180-4, 6.2.2),
/// all lanes' rounds side by side so that one lane's rounds run while another's wait.
///
/// LLVM keeps the two-lane instance out of line (it is called twice), and there it keeps
/// the lanes interleaved. Inlined into its caller (tried by making the two calls distinct
/// instances), it was scheduled one lane after the other and the pair took 169 ns, not 151.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn compress<const N: usize>(init: [State; N], mut w: [Block; N]) -> [State; N] {
    let mut s = init;
    // Written out step by step so that every index below is a constant.
    macro_rules! steps {
        ($($q:literal)*) => { $(step::<$q, N>(&mut s, &mut w);)* };
    }
    steps!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    for lane in 0..N {
        s[lane].abef = _mm_add_epi32(s[lane].abef, init[lane].abef);
        s[lane].cdgh = _mm_add_epi32(s[lane].cdgh, init[lane].cdgh);
    }
    s
}

/// Rounds `4Q` to `4Q + 3` of every lane. They use words `4Q` to `4Q + 3`, which from step 4
/// on are computed here and replace those of step `Q - 4` in `w[Q % 4]`.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn step<const Q: usize, const N: usize>(s: &mut [State; N], w: &mut [Block; N]) {
    let i = Q % 4;
    let k = words4([K[4 * Q], K[4 * Q + 1], K[4 * Q + 2], K[4 * Q + 3]]);
    for lane in 0..N {
        let w = &mut w[lane];
        if Q >= 4 {
            // W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16]: msg1 adds σ0 of words t-15..
            // to words t-16.., alignr picks words t-7.. out of the two vectors before, and
            // msg2 adds σ1 of the two words before each new one.
            let t16_t15 = _mm_sha256msg1_epu32(w[i], w[(i + 1) % 4]);
            let t7 = _mm_alignr_epi8::<4>(w[(i + 3) % 4], w[(i + 2) % 4]);
            w[i] = _mm_sha256msg2_epu32(_mm_add_epi32(t16_t15, t7), w[(i + 3) % 4]);
        }
        let wk = _mm_add_epi32(w[i], k);
        let s = &mut s[lane];
        // Each sha256rnds2 runs two rounds on the words + constants in lanes 0 and 1 and
        // returns the new ABEF; the old ABEF is the new CDGH.
        s.cdgh = _mm_sha256rnds2_epu32(s.cdgh, s.abef, wk);
        s.abef = _mm_sha256rnds2_epu32(s.abef, s.cdgh, _mm_shuffle_epi32::<0x0E>(wk));
    }
}

/// SHA-256d of 80-byte headers from the state (words A to H) after their shared first 64
/// bytes and each one's last 16.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn double_hash_tails<const N: usize>(midstate: &[u32; 8], tails: [&[u8; 16]; N]) -> [[u8; 32]; N] {
    double_hash_tails_from(State::from_words(midstate), tails)
}

/// SHA-256d of 80-byte headers from the state after their shared first 64 bytes and each
/// one's last 16: two compressions a lane, the second block built from the first's state.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn double_hash_tails_from<const N: usize>(midstate: State, tails: [&[u8; 16]; N]) -> [[u8; 32]; N] {
    // The header's last block: its 16 bytes, the 0x80 marker, zeros and the length in bits.
    let marker = words4([0x8000_0000, 0, 0, 0]);
    let zero = _mm_setzero_si128();
    let header_bits = words4([0, 0, 0, HEADER_SIZE_BYTES as u32 * 8]);
    let mut blocks = [[zero; 4]; N];
    for (block, tail) in blocks.iter_mut().zip(tails) {
        *block = [load_words(tail), marker, zero, header_bits];
    }
    let first = compress([midstate; N], blocks);
    // The 32-byte digest alone in a block: its eight words, the marker, zeros, 256 bits.
    let digest_bits = words4([0, 0, 0, 256]);
    for (block, state) in blocks.iter_mut().zip(first) {
        let [a_d, e_h] = state.words();
        *block = [a_d, e_h, marker, digest_bits];
    }
    let second = compress([State::from_words(&SHA256_IV); N], blocks);
    let mut out = [[0u8; 32]; N];
    for (digest, state) in out.iter_mut().zip(second) {
        *digest = state.digest();
    }
    out
}

/// SHA-256d of a whole 80-byte header.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn double_hash_header(header: &[u8; HEADER_SIZE_BYTES]) -> [u8; 32] {
    let (first, tail) = header.split_first_chunk::<64>().expect("80 bytes");
    let tail: &[u8; 16] = tail.try_into().expect("16 bytes");
    let mut block = [_mm_setzero_si128(); 4];
    for (words, bytes) in block.iter_mut().zip(first.chunks_exact(16)) {
        *words = load_words(bytes.try_into().expect("16 bytes"));
    }
    let [midstate] = compress([State::from_words(&SHA256_IV)], [block]);
    let [digest] = double_hash_tails_from(midstate, [tail]);
    digest
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use sha2::block_api::compress256;
    use sha2::{Digest, Sha256};

    use super::*;

    /// SHA-256 applied twice by `sha2`'s streaming hasher.
    fn reference(header: &[u8; HEADER_SIZE_BYTES]) -> [u8; 32] {
        Sha256::digest(Sha256::digest(header)).into()
    }

    /// The state after a header's first 64 bytes, by `sha2`'s own compression.
    fn midstate(header: &[u8; HEADER_SIZE_BYTES]) -> [u32; 8] {
        let mut state = SHA256_IV;
        compress256(&mut state, &[header[..64].try_into().expect("64 bytes")]);
        state
    }

    /// The header's last 16 bytes.
    fn tail(header: &[u8; HEADER_SIZE_BYTES]) -> &[u8; 16] {
        header.last_chunk().expect("80 bytes")
    }

    fn with_nonce(mut header: [u8; HEADER_SIZE_BYTES], nonce: u32) -> [u8; HEADER_SIZE_BYTES] {
        header[76..].copy_from_slice(&nonce.to_le_bytes());
        header
    }

    /// The token, or `None` (and a note) on a CPU without the SHA extensions, where these
    /// tests have nothing to check; `hash`'s tests cover the portable path everywhere.
    fn sha_ni() -> Option<ShaNi> {
        let ni = ShaNi::detect();
        if ni.is_none() {
            eprintln!("no SHA extensions on this CPU: the SHA-NI paths are not tested");
        }
        ni
    }

    proptest! {
        #[test]
        fn one_tail_matches_sha2(header in any::<[u8; HEADER_SIZE_BYTES]>()) {
            let Some(ni) = sha_ni() else { return Ok(()) };
            prop_assert_eq!(ni.sha256d_header_tail(&midstate(&header), tail(&header)), reference(&header));
        }

        #[test]
        fn both_lanes_match_sha2(
            header in any::<[u8; HEADER_SIZE_BYTES]>(),
            nonces in any::<[u32; 2]>(),
        ) {
            let Some(ni) = sha_ni() else { return Ok(()) };
            let [first, second] = nonces.map(|nonce| with_nonce(header, nonce));
            // Both headers share their first 64 bytes, so one midstate serves both lanes.
            let hashes = ni.sha256d_header_tails(&midstate(&header), [tail(&first), tail(&second)]);
            prop_assert_eq!(hashes, [reference(&first), reference(&second)]);
            // Each lane alone gives its single-lane hash: the lanes do not mix.
            let swapped = ni.sha256d_header_tails(&midstate(&header), [tail(&second), tail(&first)]);
            prop_assert_eq!(swapped, [hashes[1], hashes[0]]);
        }

        #[test]
        fn whole_header_matches_sha2(header in any::<[u8; HEADER_SIZE_BYTES]>()) {
            let Some(ni) = sha_ni() else { return Ok(()) };
            prop_assert_eq!(ni.sha256d_header(&header), reference(&header));
        }
    }
}
