//! Fuzzing the chain layer where it meets data it did not make.
//!
//! The simulator has no byte decoder for blocks or payments: blocks travel between simulated
//! nodes as structs, and their bytes are only ever written (to hash them and count their
//! size). What does take outside input is fuzzed here instead:
//! - the compact target (`nBits`, also `chain.pow_limit_bits` in a scenario) and the hex
//!   parsers of hashes and 256-bit numbers;
//! - blocks and payments as a hostile peer could send them: a real block (a coinbase and a
//!   signed payment) mutated field by field (header, Merkle root, duplicated, dropped or
//!   reordered transactions, amounts at the money limits, spends of missing, same-block or
//!   duplicated outputs, broken or re-made signatures, oversized filler). Every check either
//!   accepts or rejects with a reason; a rejected connect leaves the UTXO set unchanged, and
//!   an accepted one is undone exactly. The encoding's length always equals the size the
//!   size limit is checked against.

use forksim::chain::store::genesis_block_paying;
use forksim::chain::utxo::check_transaction;
use forksim::chain::validate::{check_block_body, check_header_pow, contextual_check_block};
use forksim::chain::{
    Amount, Block, BlockHash, CompactTarget, ConsensusParams, KeyPair, OutPoint, SigCache,
    Transaction, TxId, TxIn, U256, sign_all,
};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::fuzz_common as common;

const COMPACT_CASES: u32 = 30_000;
const HEX_CASES: u32 = 10_000;
const BLOCK_CASES: u32 = 6_000;

proptest! {
    #![proptest_config(common::config(COMPACT_CASES, 0xb175_0001))]

    #[test]
    fn fuzz_compact_targets_decode_or_are_refused_and_round_trip(bits in prop_oneof![
        any::<u32>(),
        // Exponents near the limits, with mantissas of every width and the sign bit.
        (0u32..40, prop_oneof![Just(0u32), Just(1), Just(0x7f_ffff), Just(0x80_0000), Just(0xff), Just(0xffff), any::<u32>()])
            .prop_map(|(e, m)| (e << 24) | (m & 0xff_ffff)),
    ]) {
        let compact = CompactTarget(bits);
        let _ = compact.decode_raw();
        if let Ok(target) = compact.to_target() {
            // The canonical encoding decodes to the same target.
            let again = CompactTarget::from_target(target).to_target();
            prop_assert_eq!(again, Ok(target), "bits {:#010x}", bits);
            let _ = forksim::chain::pow::work_from_target(target);
        }
    }
}

proptest! {
    #![proptest_config(common::config(HEX_CASES, 0x4e8_0001))]

    #[test]
    fn fuzz_hex_hashes_and_numbers_parse_or_are_refused(text in prop_oneof![
        "[0-9a-fA-F]{0,70}",
        "0[xX][0-9a-f]{0,66}",
        ".{0,70}",
    ]) {
        if let Some(n) = U256::from_be_hex(&text) {
            prop_assert!(n.bits() <= 256);
        }
        if let Some(h) = BlockHash::from_hex(&text) {
            prop_assert_eq!(BlockHash::from_hex(&h.to_string()), Some(h));
        }
        if let Some(t) = TxId::from_hex(&text) {
            prop_assert_eq!(TxId::from_hex(&t.to_string()), Some(t));
        }
    }
}

/// The chain the mutated blocks are offered to: a genesis block funding two keys, and a
/// valid block 1 (a coinbase and a payment from the first key to the second).
struct Base {
    params: ConsensusParams,
    genesis: Block,
    block: Block,
    keys: [KeyPair; 2],
}

fn base() -> &'static Base {
    static BASE: std::sync::OnceLock<Base> = std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        let mut params = ConsensusParams::bitcoin();
        // An easy target, so blocks need no grinding (the hash check is one of the checks
        // fuzzed, not a wall in front of the others).
        params.pow_limit = U256::from_be_hex(&"f".repeat(62)).unwrap();
        let bits = CompactTarget::from_target(params.pow_limit);
        let keys = [KeyPair::from_seed(&[1; 32]), KeyPair::from_seed(&[2; 32])];
        let funding = vec![
            keys[0].pay(Amount::from_coins(10)),
            keys[0].pay(Amount::from_coins(5)),
            keys[1].pay(Amount::from_coins(1)),
        ];
        let genesis = genesis_block_paying(1_231_006_505, bits, &params, Some(funding));
        let genesis_txid = genesis.txs[0].txid();
        let mut pay = Transaction {
            version: 1,
            coinbase: None,
            inputs: vec![TxIn {
                prevout: OutPoint { txid: genesis_txid, vout: 0 },
                pubkey: [0; 32],
                signature: [0; 64],
            }],
            outputs: vec![keys[1].pay(Amount::from_coins(9)), keys[0].pay(Amount(99_990_000))],
            lock_time: 0,
        };
        sign_all(&mut pay, &[&keys[0]]).unwrap();
        let coinbase =
            Transaction::new_coinbase(1, 7, 0, vec![keys[0].pay(Amount::from_coins(50))]);
        let mut block = Block {
            header: forksim::chain::Header {
                version: 1,
                prev_blockhash: genesis.header.block_hash(),
                merkle_root: [0; 32],
                time: genesis.header.time + 600,
                bits,
                nonce: 0,
            },
            txs: vec![coinbase, pay],
            filler: forksim::chain::Filler::default(),
        };
        block.header.merkle_root = block.compute_merkle_root();
        let target = bits.to_target().unwrap();
        forksim::chain::block::grind_nonce(&mut block.header, &target, 1 << 20)
            .expect("an easy target is met within a million tries");
        Base { params, genesis, block, keys }
    })
}

/// One change a hostile peer could make to a block.
#[derive(Clone, Debug)]
enum Change {
    Version(i32),
    Prev(Option<[u8; 32]>),
    MerkleRoot([u8; 32]),
    Time(u32),
    Bits(u32),
    Nonce(u32),
    DuplicateTx(Index),
    DropTx(Index),
    SwapTxs(Index, Index),
    /// Coinbase data put on, or taken off, a transaction.
    Coinbase(Index, Option<(u32, u64, u32)>),
    OutputValue(Index, Index, u64),
    AddOutput(Index, u64),
    DropOutputs(Index),
    DropInputs(Index),
    /// An input made to spend another output: of genesis, of a transaction in this block,
    /// or one that does not exist.
    Prevout(Index, Index, Option<[u8; 32]>, u32),
    DuplicateInput(Index, Index),
    FlipSignature(Index, Index, Index),
    PubKey(Index, Index, [u8; 32]),
    /// Every input of a transaction signed again by one key (valid signatures over changed
    /// data, or by the wrong owner).
    Resign(Index, bool),
    LockTime(Index, u32),
    Filler(u32, u32),
    /// The Merkle root recomputed after the changes (so later checks are reached).
    Remerkle,
}

fn change() -> impl Strategy<Value = Change> {
    let i = || any::<Index>();
    let amount = prop_oneof![
        Just(0u64),
        Just(1),
        Just(u64::MAX),
        Just(21_000_000 * 100_000_000),
        Just(21_000_000 * 100_000_000 + 1),
        Just(50 * 100_000_000),
        Just(50 * 100_000_000 + 1),
        any::<u64>(),
    ];
    prop_oneof![
        1 => any::<i32>().prop_map(Change::Version),
        1 => prop::option::of(any::<[u8; 32]>()).prop_map(Change::Prev),
        1 => any::<[u8; 32]>().prop_map(Change::MerkleRoot),
        1 => prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()].prop_map(Change::Time),
        1 => any::<u32>().prop_map(Change::Bits),
        1 => any::<u32>().prop_map(Change::Nonce),
        2 => i().prop_map(Change::DuplicateTx),
        1 => i().prop_map(Change::DropTx),
        1 => (i(), i()).prop_map(|(a, b)| Change::SwapTxs(a, b)),
        1 => (i(), prop::option::of((prop_oneof![Just(0u32), Just(1), Just(2), any::<u32>()], any::<u64>(), any::<u32>())))
            .prop_map(|(t, c)| Change::Coinbase(t, c)),
        3 => (i(), i(), amount.clone()).prop_map(|(t, o, v)| Change::OutputValue(t, o, v)),
        1 => (i(), amount).prop_map(|(t, v)| Change::AddOutput(t, v)),
        1 => i().prop_map(Change::DropOutputs),
        1 => i().prop_map(Change::DropInputs),
        3 => (i(), i(), prop::option::weighted(0.2, any::<[u8; 32]>()), prop_oneof![0u32..4, any::<u32>()])
            .prop_map(|(t, k, txid, vout)| Change::Prevout(t, k, txid, vout)),
        1 => (i(), i()).prop_map(|(t, k)| Change::DuplicateInput(t, k)),
        1 => (i(), i(), i()).prop_map(|(t, k, b)| Change::FlipSignature(t, k, b)),
        1 => (i(), i(), any::<[u8; 32]>()).prop_map(|(t, k, p)| Change::PubKey(t, k, p)),
        2 => (i(), any::<bool>()).prop_map(|(t, owner)| Change::Resign(t, owner)),
        1 => (i(), any::<u32>()).prop_map(|(t, l)| Change::LockTime(t, l)),
        1 => (prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()], prop_oneof![Just(0u32), Just(u32::MAX), Just(999_000), any::<u32>()])
            .prop_map(|(n, s)| Change::Filler(n, s)),
        3 => Just(Change::Remerkle),
    ]
}

/// Applies `c` to `block` (a change that finds nothing to change does nothing).
fn apply(block: &mut Block, c: &Change, base: &Base) {
    let txs = block.txs.len();
    let tx = |i: &Index| (txs > 0).then(|| i.index(txs));
    match c {
        Change::Version(v) => block.header.version = *v,
        Change::Prev(p) => block.header.prev_blockhash = p.map_or(BlockHash::ZERO, BlockHash),
        Change::MerkleRoot(m) => block.header.merkle_root = *m,
        Change::Time(t) => block.header.time = *t,
        Change::Bits(b) => block.header.bits = CompactTarget(*b),
        Change::Nonce(n) => block.header.nonce = *n,
        Change::DuplicateTx(i) => {
            if let Some(t) = tx(i) {
                block.txs.push(block.txs[t].clone());
            }
        }
        Change::DropTx(i) => {
            if let Some(t) = tx(i) {
                block.txs.remove(t);
            }
        }
        Change::SwapTxs(a, b) => {
            if let (Some(a), Some(b)) = (tx(a), tx(b)) {
                block.txs.swap(a, b);
            }
        }
        Change::Coinbase(i, data) => {
            if let Some(t) = tx(i) {
                block.txs[t].coinbase = data.map(|(height, extra_nonce, miner)| {
                    forksim::chain::tx::CoinbaseData { height, extra_nonce, miner }
                });
            }
        }
        Change::OutputValue(i, o, v) => {
            if let Some(t) = tx(i) {
                let outs = &mut block.txs[t].outputs;
                if !outs.is_empty() {
                    let k = o.index(outs.len());
                    outs[k].value = Amount(*v);
                }
            }
        }
        Change::AddOutput(i, v) => {
            if let Some(t) = tx(i) {
                block.txs[t].outputs.push(base.keys[1].pay(Amount(*v)));
            }
        }
        Change::DropOutputs(i) => {
            if let Some(t) = tx(i) {
                block.txs[t].outputs.clear();
            }
        }
        Change::DropInputs(i) => {
            if let Some(t) = tx(i) {
                block.txs[t].inputs.clear();
            }
        }
        Change::Prevout(i, k, txid, vout) => {
            if let Some(t) = tx(i) {
                let source = match txid {
                    Some(bytes) => TxId(*bytes),
                    None if k.index(2) == 0 => base.genesis.txs[0].txid(),
                    None => block.txs[k.index(txs)].txid(),
                };
                let prevout = OutPoint { txid: source, vout: *vout };
                let inputs = &mut block.txs[t].inputs;
                if inputs.is_empty() {
                    inputs.push(TxIn { prevout, pubkey: [0; 32], signature: [0; 64] });
                } else {
                    let n = k.index(inputs.len());
                    inputs[n].prevout = prevout;
                }
            }
        }
        Change::DuplicateInput(i, k) => {
            if let Some(t) = tx(i) {
                let inputs = &mut block.txs[t].inputs;
                if !inputs.is_empty() {
                    let copy = inputs[k.index(inputs.len())];
                    inputs.push(copy);
                }
            }
        }
        Change::FlipSignature(i, k, b) => {
            if let Some(t) = tx(i) {
                let inputs = &mut block.txs[t].inputs;
                if !inputs.is_empty() {
                    let n = k.index(inputs.len());
                    inputs[n].signature[b.index(64)] ^= 0x01;
                }
            }
        }
        Change::PubKey(i, k, p) => {
            if let Some(t) = tx(i) {
                let inputs = &mut block.txs[t].inputs;
                if !inputs.is_empty() {
                    let n = k.index(inputs.len());
                    inputs[n].pubkey = *p;
                }
            }
        }
        Change::Resign(i, owner) => {
            if let Some(t) = tx(i) {
                let key = &base.keys[usize::from(!*owner)];
                let keys = vec![key; block.txs[t].inputs.len()];
                sign_all(&mut block.txs[t], &keys).unwrap();
            }
        }
        Change::LockTime(i, l) => {
            if let Some(t) = tx(i) {
                block.txs[t].lock_time = *l;
            }
        }
        Change::Filler(n, s) => {
            block.filler = forksim::chain::Filler { tx_count: *n, size_bytes: *s };
        }
        Change::Remerkle => block.header.merkle_root = block.compute_merkle_root(),
    }
}

proptest! {
    #![proptest_config(common::config(BLOCK_CASES, 0xb10c_0001))]

    #[test]
    fn fuzz_hostile_blocks_are_rejected_with_a_reason_and_leave_the_utxo_set_unchanged(
        changes in prop::collection::vec(change(), 1..6),
    ) {
        let base = base();
        let mut block = base.block.clone();
        for c in &changes {
            apply(&mut block, c, base);
        }
        let params = &base.params;
        // The size the limit is checked against is the encoding's length.
        for tx in &block.txs {
            prop_assert_eq!(tx.serialize().len(), tx.size_bytes());
            let _ = check_transaction(tx);
        }
        let _ = block.size_bytes();
        let _ = check_header_pow(&block.header, params);
        let body = check_block_body(&block, params);
        let _ = contextual_check_block(&block, 1);

        let before = forksim::chain::UtxoSet::from_genesis(&base.genesis);
        let mut utxo = before.clone();
        let mut sigs = SigCache::new();
        match utxo.apply_block(&block, 1, params, &mut sigs) {
            Err(_) => prop_assert!(utxo == before, "a rejected block changed the UTXO set"),
            Ok(undo) => {
                // An accepted block never creates money from nothing.
                prop_assert!(utxo.total_value() <= before.total_value().checked_add(params.subsidy(1)).unwrap());
                if body.is_ok() {
                    prop_assert!(block.txs[0].is_coinbase());
                }
                utxo.undo_block(&block, undo).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(utxo == before, "undo did not restore the UTXO set");
            }
        }
    }
}

#[test]
fn the_unmutated_fuzz_block_is_valid() {
    // The fuzzed blocks start from a valid one, so mutations test real rejections.
    let base = base();
    let params = &base.params;
    assert!(check_header_pow(&base.block.header, params).is_ok());
    assert_eq!(check_block_body(&base.block, params), Ok(()));
    assert_eq!(contextual_check_block(&base.block, 1), Ok(()));
    let mut utxo = forksim::chain::UtxoSet::from_genesis(&base.genesis);
    let before = utxo.total_value();
    utxo.apply_block(&base.block, 1, params, &mut SigCache::new()).unwrap();
    assert_eq!(utxo.total_value().0, before.0 + 50 * 100_000_000 - 10_000);
}
