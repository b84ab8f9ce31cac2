//! Block headers and blocks: the 80-byte header that proof of work commits to, and the body.
//!
//! The header layout is Bitcoin's exactly, so header hashes can be checked against real
//! mainnet blocks. A block's body is its real transactions plus [`Filler`]: a count and a byte
//! size standing for payload that the simulator does not model transaction by transaction (a
//! 535 kB block is its coinbase plus filler). Filler affects sizes, and therefore transfer and
//! validation times, but it is **not** committed in the Merkle root: two blocks differing only
//! in filler have the same header. That is a simplification, not a Bitcoin rule; a later
//! change replaces filler with real transactions.

use crate::chain::hash::{BlockHash, HeaderMidstate, TxId, sha256d_header, sha256d_header_tails};
use crate::chain::merkle::merkle_root;
use crate::chain::pow::CompactTarget;
use crate::chain::tx::{Transaction, compact_size_len};
use crate::chain::uint::U256;

/// Size of a serialized block header.
pub const HEADER_SIZE_BYTES: usize = 80;

/// A block header in Bitcoin's layout.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Header {
    /// Block version.
    pub version: i32,
    /// Hash of the parent block's header.
    pub prev_blockhash: BlockHash,
    /// Merkle root of the block's transaction ids, internal byte order.
    pub merkle_root: [u8; 32],
    /// Timestamp claimed by the miner, seconds since the Unix epoch (virtual).
    pub time: u32,
    /// The target the block's work is measured against, in compact form.
    pub bits: CompactTarget,
    /// The value miners vary to search for a hash below the target.
    pub nonce: u32,
}

impl Header {
    /// Returns the 80-byte encoding: version, previous hash, Merkle root, time, bits, nonce,
    /// integers little-endian and hashes in internal order.
    pub fn serialize(&self) -> [u8; HEADER_SIZE_BYTES] {
        let mut out = [0u8; HEADER_SIZE_BYTES];
        out[0..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..36].copy_from_slice(&self.prev_blockhash.0);
        out[36..68].copy_from_slice(&self.merkle_root);
        out[68..72].copy_from_slice(&self.time.to_le_bytes());
        out[72..76].copy_from_slice(&self.bits.0.to_le_bytes());
        out[76..80].copy_from_slice(&self.nonce.to_le_bytes());
        out
    }

    /// Returns the header's SHA-256d hash, computed on the stack without allocating.
    pub fn block_hash(&self) -> BlockHash {
        BlockHash(sha256d_header(&self.serialize()))
    }
}

/// Payload standing in for transactions that are not simulated individually.
///
/// Filler counts towards [`Block::size_bytes`] and [`Block::tx_count`] but is not part of the
/// Merkle root, so it is not protected by proof of work (see the module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Filler {
    /// Number of transactions the filler stands for.
    pub tx_count: u32,
    /// Their total encoded size.
    pub size_bytes: u32,
}

/// A full block: header, real transactions (coinbase first) and filler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The header that proof of work commits to.
    pub header: Header,
    /// Real transactions, coinbase first.
    pub txs: Vec<Transaction>,
    /// Modelled payload not committed in the Merkle root.
    pub filler: Filler,
}

impl Block {
    /// Returns the Merkle root over the real transactions' ids (filler is not included).
    pub fn compute_merkle_root(&self) -> [u8; 32] {
        merkle_root(&self.txids())
    }

    /// Returns the ids of the real transactions, in block order. Callers that need them more
    /// than once (the Merkle check and then the UTXO update) compute them once with this.
    pub fn txids(&self) -> Vec<TxId> {
        self.txs.iter().map(Transaction::txid).collect()
    }

    /// Returns the number of transactions, real plus filler (saturating).
    pub fn tx_count(&self) -> u32 {
        u32::try_from(self.txs.len()).unwrap_or(u32::MAX).saturating_add(self.filler.tx_count)
    }

    /// Returns the encoded block size: header, transaction-count CompactSize (over real plus
    /// filler transactions), real transactions and filler bytes.
    pub fn size_bytes(&self) -> u64 {
        let count = self.txs.len() as u64 + self.filler.tx_count as u64;
        let txs: u64 = self.txs.iter().map(|tx| tx.size_bytes() as u64).sum();
        HEADER_SIZE_BYTES as u64
            + compact_size_len(count) as u64
            + txs
            + self.filler.size_bytes as u64
    }
}

/// Searches nonces upward from `header.nonce` until the header hash is at most `target`.
///
/// On success the header holds the winning nonce and the number of hashes tried (at least 1)
/// is returned. Returns `None`, leaving the header at the last nonce tried, if `max_tries`
/// hashes fail or the nonce would wrap past `u32::MAX`; the caller then changes the time or
/// the coinbase extra nonce and tries again.
///
/// The first 64 header bytes do not contain the nonce, so their SHA-256 state is computed
/// once and each try hashes only the last 16 bytes plus the second SHA-256. Nonces are
/// hashed in pairs ([`sha256d_header_tails`]) but checked in order, so the result and the
/// nonce left in the header are those of trying one nonce at a time.
pub fn grind_nonce(header: &mut Header, target: &U256, max_tries: u64) -> Option<u64> {
    grind_nonce_with(header, target, max_tries, sha256d_header_tails)
}

/// [`grind_nonce`] with `hash_pair` giving the hashes of two tails after a midstate (the
/// tests pass the portable one, which runs on any CPU).
fn grind_nonce_with(
    header: &mut Header,
    target: &U256,
    max_tries: u64,
    hash_pair: impl Fn(&HeaderMidstate, [&[u8; 16]; 2]) -> [[u8; 32]; 2],
) -> Option<u64> {
    let (midstate, tail) = HeaderMidstate::split(&header.serialize());
    let mut nonce = header.nonce;
    let mut tries = 0u64;
    while tries < max_tries {
        // This nonce and the next, or this one twice when one try is left or the nonce
        // cannot grow; only the first `count` hashes are looked at.
        let count = if max_tries - tries >= 2 && nonce < u32::MAX { 2 } else { 1 };
        let nonces = [nonce, nonce + (count - 1)];
        let mut tails = [tail; 2];
        for (tail, n) in tails.iter_mut().zip(nonces) {
            tail[12..16].copy_from_slice(&n.to_le_bytes());
        }
        let hashes = hash_pair(&midstate, [&tails[0], &tails[1]]);
        for (hash, n) in hashes.into_iter().zip(nonces).take(count as usize) {
            tries += 1;
            header.nonce = n;
            if BlockHash(hash).to_u256() <= *target {
                return Some(tries);
            }
        }
        nonce = nonces[1].checked_add(1)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::chain::hash::portable;
    use crate::chain::tx::{Amount, TxOut};

    /// The nonce search as it was before nonces were hashed in pairs: one at a time, with
    /// the portable hash. [`grind_nonce`] must agree with it in every outcome.
    fn reference_grind_nonce(header: &mut Header, target: &U256, max_tries: u64) -> Option<u64> {
        let (midstate, mut tail) = HeaderMidstate::split(&header.serialize());
        let mut nonce = header.nonce;
        let mut tries = 0u64;
        while tries < max_tries {
            tail[12..16].copy_from_slice(&nonce.to_le_bytes());
            let hash = BlockHash(portable::sha256d_header_tail(&midstate, &tail));
            tries += 1;
            header.nonce = nonce;
            if hash.to_u256() <= *target {
                return Some(tries);
            }
            nonce = nonce.checked_add(1)?;
        }
        None
    }

    /// Grinds `header` with [`grind_nonce`] (SHA-NI where the CPU has it), with the portable
    /// pair hash and with the reference; asserts that the tries and the header left behind
    /// agree, and returns them.
    fn grinds_agree(header: Header, target: &U256, max_tries: u64) -> (Option<u64>, Header) {
        let mut expected = header;
        let tries = reference_grind_nonce(&mut expected, target, max_tries);
        let mut fast = header;
        assert_eq!(grind_nonce(&mut fast, target, max_tries), tries, "grind_nonce's tries");
        assert_eq!(fast, expected, "the header grind_nonce leaves");
        let mut slow = header;
        let slow_tries =
            grind_nonce_with(&mut slow, target, max_tries, portable::sha256d_header_tails);
        assert_eq!(slow_tries, tries, "the portable path's tries");
        assert_eq!(slow, expected, "the header the portable path leaves");
        (tries, expected)
    }

    /// What a test grinds for.
    #[derive(Clone, Copy, Debug)]
    enum Goal {
        /// A hash at most `U256::MAX >> n` (about one try in 2^n).
        Shift(u32),
        /// A target no hash meets.
        Never,
        /// The hash of the nonce this many after the start, exactly (or an earlier one at
        /// most as large): lands on either lane.
        HashAt(u32),
    }

    fn target(header: &Header, goal: Goal) -> U256 {
        match goal {
            Goal::Shift(n) => U256::MAX.shr(n),
            Goal::Never => U256::ZERO,
            Goal::HashAt(k) => {
                let mut at = *header;
                at.nonce = at.nonce.wrapping_add(k);
                at.block_hash().to_u256()
            }
        }
    }

    fn any_header() -> impl Strategy<Value = Header> {
        let nonce = prop_oneof![any::<u32>(), (u32::MAX - 6)..=u32::MAX, 0u32..4];
        (any::<i32>(), any::<[u8; 32]>(), any::<[u8; 32]>(), any::<u32>(), any::<u32>(), nonce)
            .prop_map(|(version, prev, merkle_root, time, bits, nonce)| Header {
                version,
                prev_blockhash: BlockHash(prev),
                merkle_root,
                time,
                bits: CompactTarget(bits),
                nonce,
            })
    }

    fn any_goal() -> impl Strategy<Value = Goal> {
        prop_oneof![
            (0u32..=10).prop_map(Goal::Shift),
            Just(Goal::Never),
            (0u32..4).prop_map(Goal::HashAt)
        ]
    }

    proptest! {
        #[test]
        fn grinding_in_pairs_agrees_with_one_at_a_time(
            header in any_header(),
            goal in any_goal(),
            max_tries in prop_oneof![0u64..=3, 4u64..3000, Just(u64::MAX)],
        ) {
            // Without a reachable target, unlimited tries end only at the last nonce.
            let max_tries = match goal {
                Goal::Never if header.nonce < u32::MAX - 10_000 => max_tries.min(3001),
                _ => max_tries,
            };
            grinds_agree(header, &target(&header, goal), max_tries);
        }
    }

    #[test]
    fn grinding_in_pairs_agrees_at_the_edges() {
        let start = genesis_header();
        // Tries 0 to 5 (so odd and even), against no target, from nonces that leave room
        // and from the last ones (there also without a limit).
        for nonce in [0, 7, u32::MAX - 3, u32::MAX - 2, u32::MAX - 1, u32::MAX] {
            let unlimited = (nonce > u32::MAX - 8).then_some(u64::MAX);
            for max_tries in (0..=5).chain(unlimited) {
                let header = Header { nonce, ..start };
                let (tries, left) = grinds_agree(header, &U256::ZERO, max_tries);
                assert_eq!(tries, None);
                let last = u64::from(nonce) + max_tries.min(u64::from(u32::MAX - nonce) + 1);
                assert_eq!(u64::from(left.nonce), last.saturating_sub(1).max(u64::from(nonce)));
            }
        }
        // The first nonce from 0 whose hash meets an easy target, found on the first lane
        // (started there) and on the second (started one before), alone or in a pair, and
        // missed by one try.
        let target = U256::MAX.shr(4);
        let mut found = Header { nonce: 0, ..start };
        let tries = reference_grind_nonce(&mut found, &target, u64::MAX).expect("easy target");
        let hit = found.nonce;
        assert!(hit >= 2, "the test wants two misses before the hit (found after {tries} tries)");
        for (from, max_tries, expected) in [
            (hit, 1, Some(1)),
            (hit, 2, Some(1)),
            (hit - 1, 2, Some(2)),
            (hit - 1, 1, None),
            (hit - 2, 3, Some(3)),
            (hit - 2, 4, Some(3)),
        ] {
            let (tries, left) = grinds_agree(Header { nonce: from, ..start }, &target, max_tries);
            assert_eq!(tries, expected, "from {from} with {max_tries} tries");
            assert_eq!(u64::from(left.nonce), u64::from(from) + tries.unwrap_or(max_tries) - 1);
        }
    }

    fn genesis_header() -> Header {
        Header {
            version: 1,
            prev_blockhash: BlockHash::ZERO,
            merkle_root: TxId::from_hex(
                "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
            )
            .expect("valid hex")
            .0,
            time: 1231006505,
            bits: CompactTarget(0x1d00ffff),
            nonce: 2083236893,
        }
    }

    #[test]
    fn bitcoin_genesis_header_hash() {
        let header = genesis_header();
        assert_eq!(
            header.block_hash().to_string(),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        let bytes = header.serialize();
        assert_eq!(&bytes[..4], &[1, 0, 0, 0]);
        assert_eq!(&bytes[72..76], &[0xff, 0xff, 0x00, 0x1d]);
    }

    #[test]
    fn grinding_finds_the_genesis_nonce() {
        let mut header = genesis_header();
        header.nonce -= 5;
        let target = CompactTarget(0x1d00ffff).to_target().expect("valid");
        assert_eq!(grind_nonce(&mut header, &target, 100), Some(6));
        assert_eq!(header, genesis_header());
    }

    #[test]
    fn grinding_gives_up() {
        let mut header = genesis_header();
        header.nonce = 0;
        assert_eq!(grind_nonce(&mut header, &U256::ZERO, 10), None);
        assert_eq!(header.nonce, 9);
        header.nonce = u32::MAX - 1;
        assert_eq!(grind_nonce(&mut header, &U256::ZERO, 10), None);
        assert_eq!(grind_nonce(&mut header, &U256::MAX, 0), None);
        // An easy target: every found nonce really meets it.
        let easy = U256::MAX.shr(8);
        header.nonce = 0;
        let tries = grind_nonce(&mut header, &easy, 1 << 20).expect("easy target");
        assert!(tries >= 1);
        assert!(header.block_hash().to_u256() <= easy);
    }

    #[test]
    fn block_size_and_count_include_filler() {
        let coinbase = Transaction::new_coinbase(
            1,
            0,
            0,
            vec![TxOut { value: Amount::from_coins(50), pubkey_hash: [0; 20] }],
        );
        let mut block = Block {
            header: genesis_header(),
            txs: vec![coinbase.clone()],
            filler: Filler::default(),
        };
        assert_eq!(block.tx_count(), 1);
        assert_eq!(block.size_bytes(), 80 + 1 + coinbase.size_bytes() as u64);
        assert_eq!(block.compute_merkle_root(), coinbase.txid().0);
        let root = block.compute_merkle_root();
        block.filler = Filler { tx_count: 1000, size_bytes: 500_000 };
        assert_eq!(block.tx_count(), 1001);
        assert_eq!(block.size_bytes(), 80 + 3 + coinbase.size_bytes() as u64 + 500_000);
        assert_eq!(block.compute_merkle_root(), root, "filler is not committed");
    }
}
