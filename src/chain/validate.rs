//! Block validation rules, split the way Bitcoin Core splits them.
//!
//! - [`check_header_pow`]: the header's hash meets its (simulation) target. Every node runs it
//!   on every header, and its cost is charged per node, so it is one SHA-256d and no
//!   allocation.
//! - [`check_block_body`]: context-free body rules (coinbase, Merkle root, size).
//! - [`contextual_check_header`] and [`contextual_check_block`]: rules that need facts about
//!   the parent chain (expected bits, median time past, height), which the block store computes
//!   once for everyone.
//! - The transaction rules (Core's `CheckTransaction`, `CheckTxInputs`, the coinbase amount and
//!   the signature checks of `ConnectBlock`) live with the UTXO set in the utxo module, since
//!   all but the first need the coins a block spends; their reasons are listed here.
//!
//! Rejections use Bitcoin Core's reject strings so results read like a real node's logs.

use std::fmt;

use crate::chain::block::{Block, Header};
use crate::chain::hash::{BlockHash, TxId};
use crate::chain::merkle::merkle_root_checked;
use crate::chain::params::ConsensusParams;
use crate::chain::pow::{CompactTarget, hash_meets_target};

/// Why a header or block is invalid.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// The header hash does not meet its target (or the target exceeds the PoW limit).
    HighHash,
    /// The bits differ from what the difficulty rules require.
    BadDiffBits,
    /// The Merkle root does not match the transactions.
    BadTxnMrklRoot,
    /// The block is larger than allowed.
    BadBlkLength,
    /// The time is not after the median time past.
    TimeTooOld,
    /// The time is too far ahead of the validating node's clock.
    TimeTooNew,
    /// The first transaction is not a coinbase, or a later one is.
    BadCbMissing,
    /// The coinbase does not carry the block's height.
    BadCbHeight,
    /// The parent (or an earlier ancestor) is invalid.
    BadPrevBlk,
    /// The bits do not decode to a usable target.
    BadCompact,
    /// A non-coinbase transaction has no inputs.
    BadTxnsVinEmpty,
    /// A non-coinbase transaction has no outputs.
    BadTxnsVoutEmpty,
    /// An output, or the sum of a transaction's outputs, overflows or exceeds `MAX_MONEY`
    /// (Core's `bad-txns-vout-toolarge` is folded into this reason).
    BadTxnsTxoutTotalTooLarge,
    /// One transaction spends the same outpoint twice.
    BadTxnsInputsDuplicate,
    /// An input's outpoint is not in the UTXO set (never created, or spent by an earlier
    /// block).
    BadTxnsInputsMissingOrSpent,
    /// Two transactions of one block spend the same outpoint. Core reports the second spend
    /// as `bad-txns-inputs-missingorspent` and uses this string for mempool conflicts; the
    /// simulator gives the in-block double spend its own reason so results can tell it apart.
    BadTxnsSpendsConflictingTx,
    /// An input spends a coinbase output with fewer than `coinbase_maturity` confirmations.
    BadTxnsPrematureSpendOfCoinbase,
    /// The sum of a transaction's input values overflows or exceeds `MAX_MONEY`.
    BadTxnsInputValuesOutOfRange,
    /// A transaction's outputs are worth more than its inputs.
    BadTxnsInBelowOut,
    /// A transaction would create an output that already exists unspent (BIP 30).
    BadTxnsBip30,
    /// The coinbase pays more than the block subsidy plus the block's fees.
    BadCbAmount,
    /// An input's signature does not verify, or its public key does not hash to the spent
    /// output's public-key hash (the simulator's whole "script").
    MandatoryScriptVerifyFlagFailed,
    /// A coinbase carries inputs. (Core's string is about the coinbase script's length; the
    /// simulator's coinbase has no script, so inputs are its only malformation.)
    BadCbLength,
    /// A coinbase transaction was offered outside a block (Core's mempool reason).
    Coinbase,
    /// The block repeats transactions so that its Merkle root equals that of a shorter list
    /// (CVE-2012-2459, a "mutated" block; Core's `bad-txns-duplicate`).
    BadTxnsDuplicate,
    /// The block's parent never came: the peer that sent it did not deliver the parent when
    /// asked, and the node dropped it (Core's `prev-blk-not-found`).
    PrevBlkNotFound,
    /// A stake block's leader claim fails: no claim, a producer without stake, a slot not
    /// after its parent's or not yet started, a VRF proof that does not verify or an output
    /// above the producer's threshold (`consensus::seal`).
    BadLeaderClaim,
    /// A stake block's producer signature does not verify (`consensus::seal`).
    BadBlockSignature,
    /// A DPoS block's producer is not the one the schedule names for its slot, or its slot
    /// is not after its parent's or has not started (`consensus::dpos_run`).
    NotScheduledProducer,
    /// A coin-age block's kernel claim fails: no such stake output, a time not after the
    /// parent's or ahead of the node's clock, or a kernel hash above the threshold for the
    /// output's coin-age (`consensus::coinage_run`).
    BadKernel,
    /// A coin-age block's stake output belongs to another node (`consensus::coinage_run`).
    WrongStakeOwner,
    /// A PoET block's wait certificate claims a longer wait than its header time shows
    /// elapsed since its parent's (`consensus::poet_run`).
    PoetWaitNotElapsed,
    /// A PoET block's producer wins too often on the chain the block extends: Sawtooth's
    /// z-test (`consensus::poet_run`).
    PoetZTest,
}

impl RejectReason {
    /// Every reason, in declaration order, for counting tables.
    pub const ALL: [RejectReason; 33] = [
        RejectReason::HighHash,
        RejectReason::BadDiffBits,
        RejectReason::BadTxnMrklRoot,
        RejectReason::BadBlkLength,
        RejectReason::TimeTooOld,
        RejectReason::TimeTooNew,
        RejectReason::BadCbMissing,
        RejectReason::BadCbHeight,
        RejectReason::BadPrevBlk,
        RejectReason::BadCompact,
        RejectReason::BadTxnsVinEmpty,
        RejectReason::BadTxnsVoutEmpty,
        RejectReason::BadTxnsTxoutTotalTooLarge,
        RejectReason::BadTxnsInputsDuplicate,
        RejectReason::BadTxnsInputsMissingOrSpent,
        RejectReason::BadTxnsSpendsConflictingTx,
        RejectReason::BadTxnsPrematureSpendOfCoinbase,
        RejectReason::BadTxnsInputValuesOutOfRange,
        RejectReason::BadTxnsInBelowOut,
        RejectReason::BadTxnsBip30,
        RejectReason::BadCbAmount,
        RejectReason::MandatoryScriptVerifyFlagFailed,
        RejectReason::BadCbLength,
        RejectReason::Coinbase,
        RejectReason::BadTxnsDuplicate,
        RejectReason::PrevBlkNotFound,
        RejectReason::BadLeaderClaim,
        RejectReason::BadBlockSignature,
        RejectReason::NotScheduledProducer,
        RejectReason::BadKernel,
        RejectReason::WrongStakeOwner,
        RejectReason::PoetWaitNotElapsed,
        RejectReason::PoetZTest,
    ];

    /// How many reasons `summary.json` always lists (the first ones of [`RejectReason::ALL`]);
    /// the later ones are listed only when counted, so that outputs written before they
    /// existed stay as they were.
    pub const ALWAYS_LISTED: usize = 24;

    /// Position of this reason in [`RejectReason::ALL`], for counting tables.
    pub fn index(self) -> usize {
        RejectReason::ALL.iter().position(|r| *r == self).expect("ALL lists every reason")
    }

    /// Returns Bitcoin Core's reject string for this reason.
    pub fn as_str(&self) -> &'static str {
        match self {
            RejectReason::HighHash => "high-hash",
            RejectReason::BadDiffBits => "bad-diffbits",
            RejectReason::BadTxnMrklRoot => "bad-txnmrklroot",
            RejectReason::BadBlkLength => "bad-blk-length",
            RejectReason::TimeTooOld => "time-too-old",
            RejectReason::TimeTooNew => "time-too-new",
            RejectReason::BadCbMissing => "bad-cb-missing",
            RejectReason::BadCbHeight => "bad-cb-height",
            RejectReason::BadPrevBlk => "bad-prevblk",
            RejectReason::BadCompact => "bad-compact",
            RejectReason::BadTxnsVinEmpty => "bad-txns-vin-empty",
            RejectReason::BadTxnsVoutEmpty => "bad-txns-vout-empty",
            RejectReason::BadTxnsTxoutTotalTooLarge => "bad-txns-txouttotal-toolarge",
            RejectReason::BadTxnsInputsDuplicate => "bad-txns-inputs-duplicate",
            RejectReason::BadTxnsInputsMissingOrSpent => "bad-txns-inputs-missingorspent",
            RejectReason::BadTxnsSpendsConflictingTx => "bad-txns-spends-conflicting-tx",
            RejectReason::BadTxnsPrematureSpendOfCoinbase => "bad-txns-premature-spend-of-coinbase",
            RejectReason::BadTxnsInputValuesOutOfRange => "bad-txns-inputvalues-outofrange",
            RejectReason::BadTxnsInBelowOut => "bad-txns-in-belowout",
            RejectReason::BadTxnsBip30 => "bad-txns-BIP30",
            RejectReason::BadCbAmount => "bad-cb-amount",
            RejectReason::MandatoryScriptVerifyFlagFailed => "mandatory-script-verify-flag-failed",
            RejectReason::BadCbLength => "bad-cb-length",
            RejectReason::Coinbase => "coinbase",
            RejectReason::BadTxnsDuplicate => "bad-txns-duplicate",
            RejectReason::PrevBlkNotFound => "prev-blk-not-found",
            RejectReason::BadLeaderClaim => "bad-leader-claim",
            RejectReason::BadBlockSignature => "bad-block-signature",
            RejectReason::NotScheduledProducer => "not-scheduled-producer",
            RejectReason::BadKernel => "bad-kernel",
            RejectReason::WrongStakeOwner => "wrong-stake-owner",
            RejectReason::PoetWaitNotElapsed => "poet-wait-not-elapsed",
            RejectReason::PoetZTest => "poet-z-test",
        }
    }

    /// Whether the reason is about the header alone (Core's `BLOCK_INVALID_HEADER`), so a
    /// peer that sent the block cannot have relayed it in good faith before validating it.
    pub fn is_header_rule(self) -> bool {
        matches!(
            self,
            RejectReason::HighHash
                | RejectReason::BadDiffBits
                | RejectReason::TimeTooOld
                | RejectReason::TimeTooNew
                | RejectReason::BadCompact
                | RejectReason::BadLeaderClaim
                | RejectReason::BadBlockSignature
                | RejectReason::NotScheduledProducer
                | RejectReason::BadKernel
                | RejectReason::WrongStakeOwner
                | RejectReason::PoetWaitNotElapsed
                | RejectReason::PoetZTest
        )
    }

    /// The misbehaviour points a node gives the peer that sent it a block rejected for this
    /// reason, as Bitcoin Core's `MaybePunishNodeForBlock` (net_processing.cpp, v0.20 to
    /// v26): 100 (the discouragement threshold) for an invalid header, a mutated block, a
    /// consensus failure or an invalid parent; 0 for a time too far ahead
    /// (`BLOCK_TIME_FUTURE`: the block may become valid later). A block whose parent never
    /// came is scored by the unconnecting-blocks rule in the node instead
    /// (`node::misbehaviour`), not here.
    pub fn misbehaviour_points(self) -> u32 {
        match self {
            // A PoET block the z-test refuses is well formed and validly certified: the
            // chain's statistics refuse it, and Sawtooth does not drop the peer that sent it.
            RejectReason::TimeTooNew | RejectReason::PrevBlkNotFound | RejectReason::PoetZTest => 0,
            _ => 100,
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks a header's proof of work and returns its hash.
///
/// The bits must decode ([`RejectReason::BadCompact`]); as in Core's `CheckProofOfWork`, the
/// bits target must not exceed `pow_limit`, and the hash must be at most
/// `params.pow_check_target(target)` ([`RejectReason::HighHash`] for either).
pub fn check_header_pow(
    header: &Header,
    params: &ConsensusParams,
) -> Result<BlockHash, RejectReason> {
    let hash = header.block_hash();
    check_pow_of_hash(header.bits, &hash, params)?;
    Ok(hash)
}

/// [`check_header_pow`] for a header already hashed: `hash` (the header's hash) must meet the
/// simulation target of `bits`, and `bits` must decode to a target no easier than the pow
/// limit. A stored block keeps its hash and bits, so its proof of work can be checked again
/// after its body (and Merkle root) is gone.
///
/// # Errors
/// [`RejectReason::BadCompact`] if `bits` do not decode; [`RejectReason::HighHash`] otherwise
/// when the check fails.
pub fn check_pow_of_hash(
    bits: CompactTarget,
    hash: &BlockHash,
    params: &ConsensusParams,
) -> Result<(), RejectReason> {
    let target = bits.to_target().map_err(|_| RejectReason::BadCompact)?;
    if target > params.pow_limit || !hash_meets_target(hash, &params.pow_check_target(target)) {
        return Err(RejectReason::HighHash);
    }
    Ok(())
}

/// Checks the context-free body rules, in Core's `CheckBlock` order: the Merkle root matches
/// the transactions ([`RejectReason::BadTxnMrklRoot`]) and is not reached by duplicating
/// transactions ([`RejectReason::BadTxnsDuplicate`], CVE-2012-2459), the block fits the size limit
/// ([`RejectReason::BadBlkLength`]), and the first transaction and only the first is a
/// coinbase ([`RejectReason::BadCbMissing`]; Core says `bad-cb-multiple` for a second
/// coinbase, which this simulator folds into the same reason).
pub fn check_block_body(block: &Block, params: &ConsensusParams) -> Result<(), RejectReason> {
    check_block_body_with_txids(block, &block.txids(), params)
}

/// [`check_block_body`] with the block's transaction ids already computed (they must be
/// `block.txids()`), so a caller that needs them again does not hash every transaction twice.
pub fn check_block_body_with_txids(
    block: &Block,
    txids: &[TxId],
    params: &ConsensusParams,
) -> Result<(), RejectReason> {
    let (root, mutated) = merkle_root_checked(txids);
    if root != block.header.merkle_root {
        return Err(RejectReason::BadTxnMrklRoot);
    }
    if mutated {
        return Err(RejectReason::BadTxnsDuplicate);
    }
    if block.size_bytes() > params.max_block_size_bytes {
        return Err(RejectReason::BadBlkLength);
    }
    match block.txs.split_first() {
        Some((first, rest)) if first.is_coinbase() && !rest.iter().any(|tx| tx.is_coinbase()) => {
            Ok(())
        }
        _ => Err(RejectReason::BadCbMissing),
    }
}

/// Facts about a block's parent chain that its header is checked against; the same for every
/// node, computed once by the block store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderContext {
    /// Height the new block would have.
    pub height: u32,
    /// The bits the difficulty rules require of the new block.
    pub expected_bits: CompactTarget,
    /// Median time past of the parent (its last `median_time_span` blocks).
    pub median_time_past: u32,
}

/// Checks a header against its parent chain and a node's clock, in Core's order: bits equal
/// the expected bits ([`RejectReason::BadDiffBits`]), time is after the median time past
/// ([`RejectReason::TimeTooOld`]), and time is at most `node_time_s + max_future_block_time_s`
/// ([`RejectReason::TimeTooNew`]; pass `u64::MAX` to skip this per-node check).
pub fn contextual_check_header(
    header: &Header,
    ctx: &HeaderContext,
    node_time_s: u64,
    params: &ConsensusParams,
) -> Result<(), RejectReason> {
    if header.bits != ctx.expected_bits {
        return Err(RejectReason::BadDiffBits);
    }
    if header.time <= ctx.median_time_past {
        return Err(RejectReason::TimeTooOld);
    }
    if header.time as u64 > node_time_s.saturating_add(params.max_future_block_time_s as u64) {
        return Err(RejectReason::TimeTooNew);
    }
    Ok(())
}

/// Checks that the coinbase commits to the block's height (BIP 34): [`RejectReason::BadCbHeight`]
/// if it does not, [`RejectReason::BadCbMissing`] if there is no coinbase at all.
pub fn contextual_check_block(block: &Block, height: u32) -> Result<(), RejectReason> {
    match block.txs.first().and_then(|tx| tx.coinbase) {
        None => Err(RejectReason::BadCbMissing),
        Some(cb) if cb.height != height => Err(RejectReason::BadCbHeight),
        Some(_) => Ok(()),
    }
}

/// Returns the median of the last (up to) 11 of `times`, as Core's `GetMedianTimePast`:
/// sort them and take element `len / 2`. Returns 0 for no times.
pub fn median_time_past(times: &[u32]) -> u32 {
    let recent = &times[times.len().saturating_sub(11)..];
    let mut sorted = [0u32; 11];
    let sorted = &mut sorted[..recent.len()];
    sorted.copy_from_slice(recent);
    median_in_place(sorted)
}

/// Sorts `times` and returns element `len / 2` (0 if empty); the store uses it for spans
/// other than 11.
pub(crate) fn median_in_place(times: &mut [u32]) -> u32 {
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::block::{Filler, grind_nonce};
    use crate::chain::tx::{Amount, Transaction, TxOut};

    fn params() -> ConsensusParams {
        ConsensusParams {
            retarget_interval: 0,
            target_block_interval_s: 600,
            pow_limit: CompactTarget(0x207fffff).to_target().expect("valid"),
            max_block_size_bytes: 10_000,
            // Bits 0x1f00ffff need ~2^24 hashes; shifted by 12 bits, ~2^12.
            sim_target_shift: 12,
            max_future_block_time_s: 7200,
            median_time_span: 11,
            coinbase_maturity: 100,
            halving_interval: 210_000,
        }
    }

    const BITS: CompactTarget = CompactTarget(0x1f00ffff);

    fn ctx() -> HeaderContext {
        HeaderContext { height: 5, expected_bits: BITS, median_time_past: 1_000 }
    }

    fn valid_block(p: &ConsensusParams) -> Block {
        let coinbase = Transaction::new_coinbase(
            5,
            3,
            0,
            vec![TxOut { value: Amount::from_coins(50), pubkey_hash: [9; 20] }],
        );
        let mut block = Block {
            header: Header {
                version: 1,
                prev_blockhash: BlockHash([0x11; 32]),
                merkle_root: [0; 32],
                time: 1_200,
                bits: BITS,
                nonce: 0,
            },
            txs: vec![coinbase],
            filler: Filler::default(),
        };
        block.header.merkle_root = block.compute_merkle_root();
        regrind(&mut block.header, p);
        block
    }

    fn regrind(header: &mut Header, p: &ConsensusParams) {
        let target = p.pow_check_target(header.bits.to_target().expect("valid bits"));
        header.nonce = 0;
        grind_nonce(header, &target, 1 << 24).expect("easy simulation target");
    }

    fn full_check(
        block: &Block,
        node_time_s: u64,
        p: &ConsensusParams,
    ) -> Result<(), RejectReason> {
        check_header_pow(&block.header, p)?;
        check_block_body(block, p)?;
        contextual_check_header(&block.header, &ctx(), node_time_s, p)?;
        contextual_check_block(block, ctx().height)
    }

    #[test]
    fn reject_strings() {
        let strings: Vec<_> = RejectReason::ALL.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            strings,
            [
                "high-hash",
                "bad-diffbits",
                "bad-txnmrklroot",
                "bad-blk-length",
                "time-too-old",
                "time-too-new",
                "bad-cb-missing",
                "bad-cb-height",
                "bad-prevblk",
                "bad-compact",
                "bad-txns-vin-empty",
                "bad-txns-vout-empty",
                "bad-txns-txouttotal-toolarge",
                "bad-txns-inputs-duplicate",
                "bad-txns-inputs-missingorspent",
                "bad-txns-spends-conflicting-tx",
                "bad-txns-premature-spend-of-coinbase",
                "bad-txns-inputvalues-outofrange",
                "bad-txns-in-belowout",
                "bad-txns-BIP30",
                "bad-cb-amount",
                "mandatory-script-verify-flag-failed",
                "bad-cb-length",
                "coinbase",
                "bad-txns-duplicate",
                "prev-blk-not-found",
                "bad-leader-claim",
                "bad-block-signature",
                "not-scheduled-producer",
                "bad-kernel",
                "wrong-stake-owner",
                "poet-wait-not-elapsed",
                "poet-z-test",
            ]
        );
    }

    #[test]
    fn valid_block_passes_and_pow_returns_hash() {
        let p = params();
        let block = valid_block(&p);
        assert_eq!(check_header_pow(&block.header, &p), Ok(block.header.block_hash()));
        assert_eq!(full_check(&block, 0, &p), Ok(()));
        // Without the simulation shift the same nonce almost surely fails (deterministic here).
        let strict = ConsensusParams { sim_target_shift: 0, ..p.clone() };
        assert_eq!(check_header_pow(&block.header, &strict), Err(RejectReason::HighHash));
    }

    #[test]
    fn changed_nonce_is_high_hash() {
        let p = params();
        let block = valid_block(&p);
        let target = p.pow_check_target(BITS.to_target().expect("valid"));
        let mut bad = block.clone();
        // Search upward for the first nonce whose hash misses the target.
        loop {
            bad.header.nonce = bad.header.nonce.wrapping_add(1);
            if bad.header.block_hash().to_u256() > target {
                break;
            }
        }
        assert_eq!(full_check(&bad, 0, &p), Err(RejectReason::HighHash));
    }

    #[test]
    fn changed_merkle_root_is_rejected() {
        let p = params();
        let mut bad = valid_block(&p);
        bad.header.merkle_root[0] ^= 1;
        // Re-grind so the failure is the body, not the proof of work.
        regrind(&mut bad.header, &p);
        assert_eq!(full_check(&bad, 0, &p), Err(RejectReason::BadTxnMrklRoot));
        // Changing a transaction instead of the header has the same effect.
        let mut bad = valid_block(&p);
        bad.txs[0].lock_time = 1;
        assert_eq!(full_check(&bad, 0, &p), Err(RejectReason::BadTxnMrklRoot));
    }

    #[test]
    fn wrong_bits_is_bad_diffbits() {
        let p = params();
        let mut bad = valid_block(&p);
        bad.header.bits = CompactTarget(0x1f00fffe);
        regrind(&mut bad.header, &p);
        assert_eq!(full_check(&bad, 0, &p), Err(RejectReason::BadDiffBits));
    }

    #[test]
    fn undecodable_or_too_easy_bits() {
        let p = params();
        let mut bad = valid_block(&p);
        bad.header.bits = CompactTarget(0x1f80ffff);
        assert_eq!(full_check(&bad, 0, &p), Err(RejectReason::BadCompact));
        bad.header.bits = CompactTarget(0);
        assert_eq!(check_header_pow(&bad.header, &p), Err(RejectReason::BadCompact));
        bad.header.bits = CompactTarget(0x2100ffff);
        assert_eq!(check_header_pow(&bad.header, &p), Err(RejectReason::HighHash));
    }

    #[test]
    fn time_rules() {
        let p = params();
        let mut bad = valid_block(&p);
        bad.header.time = 1_000; // equal to the median time past
        regrind(&mut bad.header, &p);
        assert_eq!(full_check(&bad, 10_000, &p), Err(RejectReason::TimeTooOld));

        let mut bad = valid_block(&p);
        bad.header.time = 20_000;
        regrind(&mut bad.header, &p);
        assert_eq!(full_check(&bad, 20_000 - 7_200, &p), Ok(()));
        assert_eq!(full_check(&bad, 20_000 - 7_201, &p), Err(RejectReason::TimeTooNew));
        assert_eq!(full_check(&bad, u64::MAX, &p), Ok(()));
    }

    #[test]
    fn coinbase_rules() {
        let p = params();
        let good = valid_block(&p);

        let mut bad = good.clone();
        bad.txs[0].coinbase = None;
        bad.header.merkle_root = bad.compute_merkle_root();
        regrind(&mut bad.header, &p);
        assert_eq!(full_check(&bad, 0, &p), Err(RejectReason::BadCbMissing));

        let mut bad = good.clone();
        bad.txs.clear();
        bad.header.merkle_root = bad.compute_merkle_root();
        regrind(&mut bad.header, &p);
        assert_eq!(full_check(&bad, 0, &p), Err(RejectReason::BadCbMissing));

        let mut bad = good.clone();
        bad.txs.push(Transaction::new_coinbase(5, 4, 0, Vec::new()));
        bad.header.merkle_root = bad.compute_merkle_root();
        regrind(&mut bad.header, &p);
        assert_eq!(full_check(&bad, 0, &p), Err(RejectReason::BadCbMissing));

        let mut bad = good.clone();
        bad.txs[0] = Transaction::new_coinbase(6, 3, 0, Vec::new());
        bad.header.merkle_root = bad.compute_merkle_root();
        regrind(&mut bad.header, &p);
        assert_eq!(full_check(&bad, 0, &p), Err(RejectReason::BadCbHeight));
    }

    #[test]
    fn oversize_block() {
        let p = params();
        let mut bad = valid_block(&p);
        let room = p.max_block_size_bytes - bad.size_bytes();
        bad.filler = Filler { tx_count: 1, size_bytes: room as u32 };
        // Two transactions still need a one-byte count, so this is exactly at the limit.
        assert_eq!(bad.size_bytes(), p.max_block_size_bytes);
        assert_eq!(full_check(&bad, 0, &p), Ok(()), "filler is not committed; header still valid");
        bad.filler.size_bytes += 1;
        assert_eq!(full_check(&bad, 0, &p), Err(RejectReason::BadBlkLength));
    }

    #[test]
    fn duplicated_transactions_are_a_mutated_block() {
        use crate::chain::tx::{OutPoint, TxIn};
        let p = params();
        let mut block = valid_block(&p);
        let payment = |n: u8| Transaction {
            version: 1,
            coinbase: None,
            inputs: vec![TxIn {
                prevout: OutPoint { txid: TxId([n; 32]), vout: 0 },
                pubkey: [0; 32],
                signature: [0; 64],
            }],
            outputs: vec![TxOut { value: Amount(1), pubkey_hash: [0; 20] }],
            lock_time: 0,
        };
        block.txs.push(payment(1));
        block.txs.push(payment(2));
        block.header.merkle_root = block.compute_merkle_root();
        regrind(&mut block.header, &p);
        assert_eq!(check_block_body(&block, &p), Ok(()));
        // CVE-2012-2459: the last transaction twice, under the same header (same hash).
        let mut mutated = block.clone();
        mutated.txs.push(payment(2));
        assert_eq!(mutated.header.block_hash(), block.header.block_hash());
        assert_eq!(mutated.compute_merkle_root(), block.header.merkle_root);
        assert_eq!(check_block_body(&mutated, &p), Err(RejectReason::BadTxnsDuplicate));
    }

    #[test]
    fn misbehaviour_points_follow_core() {
        assert_eq!(RejectReason::HighHash.misbehaviour_points(), 100);
        assert_eq!(RejectReason::BadTxnsDuplicate.misbehaviour_points(), 100);
        assert_eq!(RejectReason::MandatoryScriptVerifyFlagFailed.misbehaviour_points(), 100);
        assert_eq!(RejectReason::TimeTooNew.misbehaviour_points(), 0);
        assert!(RejectReason::BadDiffBits.is_header_rule());
        assert!(!RejectReason::BadCbAmount.is_header_rule());
    }

    #[test]
    fn median_time_past_like_core() {
        assert_eq!(median_time_past(&[]), 0);
        assert_eq!(median_time_past(&[5]), 5);
        assert_eq!(median_time_past(&[3, 1]), 3); // sorted [1, 3], element 1
        assert_eq!(median_time_past(&[9, 1, 5]), 5);
        // Only the last 11 count: the leading 1000s are ignored.
        let mut times = vec![1000, 1000, 1000];
        times.extend(1..=11);
        assert_eq!(median_time_past(&times), 6);
    }
}
