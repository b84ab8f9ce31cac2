//! Release-mode timings of signing, verification and block connect/disconnect, for the
//! 500-transactions-per-block workload (one input, two outputs each).
//!
//! Run with `cargo run --release --example tx_bench`.

use std::time::Instant;

use forksim::chain::block::{Block, Filler, Header};
use forksim::chain::keys::{KeyPair, SigCheck, sign_all, verify_batch, verify_input};
use forksim::chain::pow::CompactTarget;
use forksim::chain::{
    Amount, BlockHash, ConsensusParams, OutPoint, SigCache, Transaction, TxIn, UtxoSet,
};

const TXS_PER_BLOCK: usize = 500;
const BLOCKS: usize = 10;

fn block_on(prev: BlockHash, height: u32, txs: Vec<Transaction>) -> Block {
    let mut all = vec![Transaction::new_coinbase(height, 0, 0, Vec::new())];
    all.extend(txs);
    let mut block = Block {
        header: Header {
            version: 1,
            prev_blockhash: prev,
            merkle_root: [0; 32],
            time: height,
            bits: CompactTarget(0x207fffff),
            nonce: 0,
        },
        txs: all,
        filler: Filler::default(),
    };
    block.header.merkle_root = block.compute_merkle_root();
    block
}

fn main() {
    let keys: Vec<KeyPair> = (0..100u32)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&i.to_le_bytes());
            KeyPair::from_seed(&seed)
        })
        .collect();
    let params = ConsensusParams { coinbase_maturity: 0, ..ConsensusParams::bitcoin() };
    // Genesis: one coinbase with an output per transaction of the first block.
    let genesis_cb = Transaction::new_coinbase(
        0,
        0,
        0,
        (0..TXS_PER_BLOCK).map(|i| keys[i % keys.len()].pay(Amount(1_000_000))).collect(),
    );
    let genesis = block_on(BlockHash::ZERO, 0, Vec::new());
    let genesis = Block { txs: vec![genesis_cb], ..genesis };
    let mut set = UtxoSet::from_genesis(&genesis);

    // Build BLOCKS blocks; block k spends output 0 of each transaction of block k-1.
    let mut prevouts: Vec<(OutPoint, usize)> = (0..TXS_PER_BLOCK)
        .map(|i| (OutPoint { txid: genesis.txs[0].txid(), vout: i as u32 }, i % keys.len()))
        .collect();
    let mut value = 1_000_000u64;
    let mut blocks = Vec::new();
    let mut prev = genesis.header.block_hash();
    let mut sign_time = 0.0;
    for b in 0..BLOCKS {
        value -= 1_000;
        let mut txs = Vec::with_capacity(TXS_PER_BLOCK);
        let mut next = Vec::with_capacity(TXS_PER_BLOCK);
        for (i, &(op, owner)) in prevouts.iter().enumerate() {
            let payee = (owner + 7 + b) % keys.len();
            let mut tx = Transaction {
                version: 1,
                coinbase: None,
                inputs: vec![TxIn { prevout: op, pubkey: [0; 32], signature: [0; 64] }],
                outputs: vec![
                    keys[payee].pay(Amount(value - 500)),
                    keys[(payee + 1) % keys.len()].pay(Amount(500)),
                ],
                lock_time: i as u32,
            };
            let t = Instant::now();
            sign_all(&mut tx, &[&keys[owner]]).expect("one key");
            sign_time += t.elapsed().as_secs_f64();
            next.push((OutPoint { txid: tx.txid(), vout: 0 }, payee));
            txs.push(tx);
        }
        let block = block_on(prev, b as u32 + 1, txs);
        prev = block.header.block_hash();
        blocks.push(block);
        prevouts = next;
    }
    let n_txs = (BLOCKS * TXS_PER_BLOCK) as f64;
    println!("sign (sighash + ed25519 sign), per tx: {:.2} µs", sign_time / n_txs * 1e6);

    // txid per tx.
    let t = Instant::now();
    let mut ids = 0usize;
    for block in &blocks {
        ids += block.txids().len();
    }
    println!("txid per tx: {:.3} µs", t.elapsed().as_secs_f64() / ids as f64 * 1e6);

    // Single verification per signature (sighash + key decode + verify).
    let t = Instant::now();
    let mut ok = 0;
    for tx in &blocks[0].txs[1..] {
        ok += usize::from(verify_input(tx, 0));
    }
    assert_eq!(ok, TXS_PER_BLOCK);
    println!(
        "verify single, per signature: {:.2} µs",
        t.elapsed().as_secs_f64() / TXS_PER_BLOCK as f64 * 1e6
    );

    // Public-key decoding (point decompression), part of every verification.
    let t = Instant::now();
    let mut decoded = 0;
    for tx in &blocks[0].txs[1..] {
        decoded +=
            usize::from(ed25519_dalek::VerifyingKey::from_bytes(&tx.inputs[0].pubkey).is_ok());
    }
    assert_eq!(decoded, TXS_PER_BLOCK);
    println!(
        "public key decode, per key: {:.2} µs",
        t.elapsed().as_secs_f64() / TXS_PER_BLOCK as f64 * 1e6
    );

    // Batch verification per signature (sighashes precomputed).
    let messages: Vec<[u8; 32]> = blocks[1].txs[1..].iter().map(Transaction::sighash).collect();
    for batch in [16usize, 64, 500] {
        let t = Instant::now();
        let mut reps = 0;
        while reps < 4 {
            for chunk in (0..TXS_PER_BLOCK).collect::<Vec<_>>().chunks(batch) {
                let checks: Vec<SigCheck<'_>> = chunk
                    .iter()
                    .map(|&i| SigCheck {
                        message: &messages[i],
                        pubkey: &blocks[1].txs[i + 1].inputs[0].pubkey,
                        signature: &blocks[1].txs[i + 1].inputs[0].signature,
                    })
                    .collect();
                assert_eq!(verify_batch(&checks), Ok(()));
            }
            reps += 1;
        }
        println!(
            "verify batch of {batch}, per signature: {:.2} µs",
            t.elapsed().as_secs_f64() / (4 * TXS_PER_BLOCK) as f64 * 1e6
        );
    }

    // Apply (first time: all signatures verified) and undo, per block.
    let mut sigs = SigCache::new();
    let mut undos = Vec::new();
    let t = Instant::now();
    for (h, block) in blocks.iter().enumerate() {
        undos.push(set.apply_block(block, h as u32 + 1, &params, &mut sigs).expect("valid"));
    }
    let apply_first = t.elapsed().as_secs_f64() / BLOCKS as f64;
    let t = Instant::now();
    for (block, undo) in blocks.iter().zip(undos).rev() {
        set.undo_block(block, undo).expect("tip");
    }
    let undo = t.elapsed().as_secs_f64() / BLOCKS as f64;
    assert_eq!(sigs.verifications() as usize, BLOCKS * TXS_PER_BLOCK);
    let t = Instant::now();
    let mut undos = Vec::new();
    for (h, block) in blocks.iter().enumerate() {
        undos.push(set.apply_block(block, h as u32 + 1, &params, &mut sigs).expect("valid"));
    }
    let apply_cached = t.elapsed().as_secs_f64() / BLOCKS as f64;
    assert_eq!(sigs.verifications() as usize, BLOCKS * TXS_PER_BLOCK, "all cached");
    println!(
        "apply block of {TXS_PER_BLOCK} txs, signatures uncached: {:.2} ms ({:.2} µs per tx)",
        apply_first * 1e3,
        apply_first / TXS_PER_BLOCK as f64 * 1e6
    );
    println!("apply block, signatures cached (re-apply after undo): {:.3} ms", apply_cached * 1e3);
    println!("undo block: {:.3} ms", undo * 1e3);
    println!(
        "apply + undo per block, uncached: {:.2} ms; cached: {:.3} ms",
        (apply_first + undo) * 1e3,
        (apply_cached + undo) * 1e3
    );
    println!(
        "projection, 1000 blocks x 500 txs verified once: {:.1} s (apply, including txids)",
        apply_first * 1000.0
    );
}
