//! SHA-256d and the two hash newtypes that name blocks and transactions.
//!
//! Bitcoin hashes everything twice with SHA-256 and stores the 32 bytes in the order the hash
//! function produced them ("internal" order), but shows them to humans byte-reversed, so that
//! a block hash that is small as a little-endian number starts with zeros on screen. Keeping
//! both conventions in one place means no other module ever reverses bytes by hand.

use std::fmt;

use sha2::block_api::compress256;
use sha2::{Digest, Sha256};

use crate::chain::block::HEADER_SIZE_BYTES;
#[cfg(target_arch = "x86_64")]
use crate::chain::sha256_ni::ShaNi;
use crate::chain::uint::U256;

/// Returns SHA-256 applied twice to `data` (Bitcoin's `Hash`/`SHA256d`), without allocating.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(data)).into()
}

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
pub(crate) const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// SHA-256 state after the first 64 bytes of an 80-byte block header, which hold no nonce:
/// a miner computes it once per template and each try then costs two compressions, not
/// three (see [`sha256d_header_tail`]).
#[derive(Clone, Copy, Debug)]
pub struct HeaderMidstate([u32; 8]);

impl HeaderMidstate {
    /// Splits a serialised header into the state after its first 64 bytes and its last 16
    /// (the part a miner's nonce changes), ready for [`sha256d_header_tail`].
    pub fn split(header: &[u8; HEADER_SIZE_BYTES]) -> (HeaderMidstate, [u8; 16]) {
        let (first, tail) = header.split_at(64);
        let mut state = SHA256_IV;
        compress256(&mut state, &[first.try_into().expect("64 bytes")]);
        (HeaderMidstate(state), tail.try_into().expect("16 bytes"))
    }
}

/// SHA-256d of an 80-byte header, from the state after its first 64 bytes and its last 16
/// (Merkle root tail, time, bits, nonce): [`sha256d`] of the whole header, byte for byte,
/// with the padding blocks written out rather than assembled by a streaming hasher (two
/// compressions, and no buffering, per hash). On x86-64 CPUs with the SHA extensions both
/// compressions run in registers (see `chain::sha256_ni`).
pub fn sha256d_header_tail(midstate: &HeaderMidstate, tail: &[u8; 16]) -> [u8; 32] {
    #[cfg(target_arch = "x86_64")]
    if let Some(ni) = ShaNi::detect() {
        return ni.sha256d_header_tail(&midstate.0, tail);
    }
    portable::sha256d_header_tail(midstate, tail)
}

/// [`sha256d_header_tail`] of two tails after the same midstate (a miner's next two
/// nonces). With the SHA extensions the two are hashed together, in about 1.75 times the
/// time of one (see `chain::sha256_ni`); elsewhere one after the other.
pub fn sha256d_header_tails(midstate: &HeaderMidstate, tails: [&[u8; 16]; 2]) -> [[u8; 32]; 2] {
    #[cfg(target_arch = "x86_64")]
    if let Some(ni) = ShaNi::detect() {
        return ni.sha256d_header_tails(&midstate.0, tails);
    }
    portable::sha256d_header_tails(midstate, tails)
}

/// SHA-256d of an 80-byte block header (the same bytes as [`sha256d`], faster).
pub fn sha256d_header(header: &[u8; HEADER_SIZE_BYTES]) -> [u8; 32] {
    #[cfg(target_arch = "x86_64")]
    if let Some(ni) = ShaNi::detect() {
        return ni.sha256d_header(header);
    }
    portable::sha256d_header(header)
}

/// The header hashes with `sha2`'s `compress256`, on any CPU: what the functions above
/// fall back to without the SHA extensions, and what the tests compare them with.
pub(crate) mod portable {
    use super::{HEADER_SIZE_BYTES, HeaderMidstate, SHA256_IV, compress256};

    /// A SHA-256 state as its 32-byte digest (each word big-endian).
    fn state_bytes(state: [u32; 8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// [`super::sha256d_header_tail`] with two calls of `compress256`.
    pub(crate) fn sha256d_header_tail(midstate: &HeaderMidstate, tail: &[u8; 16]) -> [u8; 32] {
        // First SHA-256: the header's last 16 bytes, the 0x80 marker, zeros, and the
        // message length in bits (640) big-endian.
        let mut block = [0u8; 64];
        block[..16].copy_from_slice(tail);
        block[16] = 0x80;
        block[56..].copy_from_slice(&(HEADER_SIZE_BYTES as u64 * 8).to_be_bytes());
        let mut state = midstate.0;
        compress256(&mut state, &[block]);
        // Second SHA-256: the 32-byte digest, padded in one block (length 256 bits).
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&state_bytes(state));
        block[32] = 0x80;
        block[56..].copy_from_slice(&256u64.to_be_bytes());
        let mut state = SHA256_IV;
        compress256(&mut state, &[block]);
        state_bytes(state)
    }

    /// [`super::sha256d_header_tails`], one tail after the other.
    pub(crate) fn sha256d_header_tails(
        midstate: &HeaderMidstate,
        tails: [&[u8; 16]; 2],
    ) -> [[u8; 32]; 2] {
        tails.map(|tail| sha256d_header_tail(midstate, tail))
    }

    /// [`super::sha256d_header`] as a midstate and a tail.
    pub(crate) fn sha256d_header(header: &[u8; HEADER_SIZE_BYTES]) -> [u8; 32] {
        let (midstate, tail) = HeaderMidstate::split(header);
        sha256d_header_tail(&midstate, &tail)
    }
}

/// Writes 32 internal-order bytes as 64 hex digits in Bitcoin's reversed display order.
fn fmt_reversed_hex(bytes: &[u8; 32], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for b in bytes.iter().rev() {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// Parses 64 hex digits in display order into internal-order bytes; `None` on bad input.
fn parse_reversed_hex(hex: &str) -> Option<[u8; 32]> {
    let digits = hex.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[31 - i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// The first eight display-order hex digits of a hash, for logs and tables.
fn short_hex(bytes: &[u8; 32]) -> String {
    bytes[28..].iter().rev().map(|b| format!("{b:02x}")).collect()
}

macro_rules! hash_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The all-zero hash (the "previous block" of a genesis block).
            pub const ZERO: $name = $name([0u8; 32]);

            /// Returns the first 8 hex digits of the display form, for compact logs.
            pub fn short(&self) -> String {
                short_hex(&self.0)
            }

            /// Parses 64 hex digits given in display (byte-reversed) order, as block
            /// explorers print them; returns `None` if the text is not exactly that.
            pub fn from_hex(hex: &str) -> Option<$name> {
                parse_reversed_hex(hex).map($name)
            }

            /// Interprets the bytes as a little-endian 256-bit number (Core's
            /// `UintToArith256`), the form in which a hash is compared with a target.
            pub fn to_u256(&self) -> U256 {
                U256::from_le_bytes(self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_reversed_hex(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_reversed_hex(&self.0, f)
            }
        }
    };
}

hash_newtype!(
    /// The SHA-256d hash of an 80-byte block header, in internal byte order.
    BlockHash
);
hash_newtype!(
    /// The SHA-256d hash of a serialized transaction, in internal byte order.
    TxId
);

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn header_hash_equals_streaming_sha256d(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 80)
        ) {
            let header: [u8; 80] = bytes.try_into().expect("80 bytes");
            proptest::prop_assert_eq!(sha256d_header(&header), sha256d(&header));
            proptest::prop_assert_eq!(portable::sha256d_header(&header), sha256d(&header));
        }

        // The public functions (SHA-NI on CPUs with it) and the portable ones they fall back
        // to, called directly so that both are checked on any machine.
        #[test]
        fn header_tails_equal_streaming_sha256d(
            header in proptest::prelude::any::<[u8; 80]>(),
            nonce in proptest::prelude::any::<u32>(),
        ) {
            let mut other = header;
            other[76..].copy_from_slice(&nonce.to_le_bytes());
            let (midstate, tail) = HeaderMidstate::split(&header);
            let (other_midstate, other_tail) = HeaderMidstate::split(&other);
            proptest::prop_assert_eq!(midstate.0, other_midstate.0);
            let expected = [sha256d(&header), sha256d(&other)];
            proptest::prop_assert_eq!(sha256d_header_tail(&midstate, &tail), expected[0]);
            proptest::prop_assert_eq!(portable::sha256d_header_tail(&midstate, &tail), expected[0]);
            proptest::prop_assert_eq!(sha256d_header_tails(&midstate, [&tail, &other_tail]), expected);
            proptest::prop_assert_eq!(
                portable::sha256d_header_tails(&midstate, [&tail, &other_tail]),
                expected
            );
        }
    }

    #[test]
    fn header_hash_of_bitcoins_genesis_block_is_the_known_one() {
        // Bitcoin's genesis header, serialised (version 1, zero parent, its Merkle root,
        // time 1231006505, bits 0x1d00ffff, nonce 2083236893).
        let mut header = [0u8; 80];
        header[0] = 1;
        let root = "3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a";
        for (i, pair) in root.as_bytes().chunks_exact(2).enumerate() {
            header[36 + i] =
                u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex");
        }
        header[68..72].copy_from_slice(&1_231_006_505u32.to_le_bytes());
        header[72..76].copy_from_slice(&0x1d00_ffffu32.to_le_bytes());
        header[76..80].copy_from_slice(&2_083_236_893u32.to_le_bytes());
        for hash in [sha256d_header(&header), portable::sha256d_header(&header)] {
            assert_eq!(
                BlockHash(hash).to_string(),
                "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
            );
        }
    }

    #[test]
    fn sha256d_of_empty_input_matches_known_value() {
        // SHA256(SHA256("")) is a widely published constant.
        let h = TxId(sha256d(b""));
        // Internal order, printed forwards:
        let forward: String = h.0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(forward, "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456");
    }

    #[test]
    fn display_is_byte_reversed_and_round_trips() {
        let mut bytes = [0u8; 32];
        bytes[31] = 0xab;
        bytes[0] = 0x01;
        let h = BlockHash(bytes);
        let s = h.to_string();
        assert!(s.starts_with("ab00"));
        assert!(s.ends_with("0001"));
        assert_eq!(format!("{h:?}"), s);
        assert_eq!(h.short(), "ab000000");
        assert_eq!(BlockHash::from_hex(&s), Some(h));
        assert_eq!(BlockHash::from_hex("zz"), None);
        assert_eq!(BlockHash::from_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn to_u256_is_little_endian() {
        let mut bytes = [0u8; 32];
        bytes[0] = 2;
        bytes[31] = 1;
        let n = BlockHash(bytes).to_u256();
        assert_eq!(n, U256::ONE.shl(248).wrapping_add(U256::from_u64(2)));
    }
}
