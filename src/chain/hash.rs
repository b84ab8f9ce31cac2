//! SHA-256d and the two hash newtypes that name blocks and transactions.
//!
//! Bitcoin hashes everything twice with SHA-256 and stores the 32 bytes in the order the hash
//! function produced them ("internal" order), but shows them to humans byte-reversed, so that
//! a block hash that is small as a little-endian number starts with zeros on screen. Keeping
//! both conventions in one place means no other module ever reverses bytes by hand.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::chain::uint::U256;

/// Returns SHA-256 applied twice to `data` (Bitcoin's `Hash`/`SHA256d`), without allocating.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(data)).into()
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
