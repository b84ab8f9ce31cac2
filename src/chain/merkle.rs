//! Bitcoin's Merkle root over transaction ids.
//!
//! The header commits to a block's transactions through this root, so a block whose
//! transactions were altered no longer matches its header. The rule is Core's
//! `ComputeMerkleRoot`: hash pairs of 32-byte ids with SHA-256d level by level, duplicating
//! the last id of an odd-sized level. (That duplication is the source of Core's CVE-2012-2459
//! "mutated block" ambiguity: `[a, b, c]` and `[a, b, c, c]` share a root, so a peer can send
//! a block with a duplicated transaction under a valid block's header. [`merkle_root_checked`]
//! also reports such a mutation, as Core's `ComputeMerkleRoot(..., &mutated)` does, and block
//! validation rejects it as `bad-txns-duplicate`.)

use crate::chain::hash::{TxId, sha256d};

/// Returns the Merkle root of `txids` in internal byte order: all zeros for no transactions,
/// the id itself for one, otherwise the pairwise SHA-256d tree described in the module doc.
pub fn merkle_root(txids: &[TxId]) -> [u8; 32] {
    merkle_root_checked(txids).0
}

/// Returns the Merkle root of `txids` and whether the list is *mutated*: some level pairs a
/// hash with an equal hash as real (not padding) siblings, so a shorter list of transactions
/// has the same root (CVE-2012-2459). Core's `ComputeMerkleRoot` with its `mutated` flag.
pub fn merkle_root_checked(txids: &[TxId]) -> ([u8; 32], bool) {
    match txids {
        [] => return ([0u8; 32], false),
        [only] => return (only.0, false),
        _ => {}
    }
    let mut mutated = false;
    // One buffer for the whole tree: each level is written over the front of the previous one,
    // which is safe because node i of a level is computed from nodes 2i and 2i+1 below it.
    let mut level: Vec<[u8; 32]> = txids.iter().map(|t| t.0).collect();
    let mut len = level.len();
    let mut pair = [0u8; 64];
    while len > 1 {
        let parents = len.div_ceil(2);
        for i in 0..parents {
            let left = level[2 * i];
            let right = if 2 * i + 1 < len {
                mutated |= level[2 * i + 1] == left;
                level[2 * i + 1]
            } else {
                left
            };
            pair[..32].copy_from_slice(&left);
            pair[32..].copy_from_slice(&right);
            level[i] = sha256d(&pair);
        }
        len = parents;
    }
    (level[0], mutated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txid(hex: &str) -> TxId {
        TxId::from_hex(hex).expect("test hex is valid")
    }

    #[test]
    fn mainnet_block_100000() {
        let txids = [
            txid("8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87"),
            txid("fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4"),
            txid("6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4"),
            txid("e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d"),
        ];
        let root = TxId(merkle_root(&txids));
        assert_eq!(
            root.to_string(),
            "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766"
        );
    }

    #[test]
    fn small_trees() {
        assert_eq!(merkle_root(&[]), [0u8; 32]);
        let a = TxId(sha256d(b"a"));
        let b = TxId(sha256d(b"b"));
        let c = TxId(sha256d(b"c"));
        assert_eq!(merkle_root(&[a]), a.0);
        let mut pair = [0u8; 64];
        pair[..32].copy_from_slice(&a.0);
        pair[32..].copy_from_slice(&b.0);
        let ab = sha256d(&pair);
        assert_eq!(merkle_root(&[a, b]), ab);
        // Odd level: c is paired with itself.
        pair[..32].copy_from_slice(&c.0);
        pair[32..].copy_from_slice(&c.0);
        let cc = sha256d(&pair);
        pair[..32].copy_from_slice(&ab);
        pair[32..].copy_from_slice(&cc);
        assert_eq!(merkle_root(&[a, b, c]), sha256d(&pair));
        // ...which is why [a, b, c] and [a, b, c, c] share a root (CVE-2012-2459).
        assert_eq!(merkle_root(&[a, b, c]), merkle_root(&[a, b, c, c]));
        // ...and only the longer list is reported as mutated.
        assert!(!merkle_root_checked(&[a, b, c]).1);
        assert!(merkle_root_checked(&[a, b, c, c]).1);
        assert!(merkle_root_checked(&[a, a]).1);
        assert!(!merkle_root_checked(&[a, b]).1);
        // A duplicate pair one level up is a mutation too: [a, b, a, b].
        assert!(merkle_root_checked(&[a, b, a, b]).1);
    }
}
