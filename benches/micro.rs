//! Micro-benchmarks of the hot paths: the event queue, header proof-of-work checks, nonce
//! grinding and the header hashes under both, and the VRF a slot leader proves and every
//! node verifies. Whole-run figures come from `forksim bench`.

use criterion::{Criterion, criterion_group, criterion_main};
use forksim::chain::block::{Header, grind_nonce};
use forksim::chain::hash::{
    HeaderMidstate, sha256d_header, sha256d_header_tail, sha256d_header_tails,
};
use forksim::chain::validate::check_header_pow;
use forksim::chain::{BlockHash, CompactTarget, ConsensusParams, U256};
use forksim::consensus::vrf::{VrfKey, verify};
use forksim::engine::EventQueue;
use forksim::time::SimTime;
use std::hint::black_box;

fn queue(c: &mut Criterion) {
    let mut q = EventQueue::new();
    let mut t = 0u64;
    for i in 0..10_000u64 {
        q.push(SimTime(i * 7919 % 100_000), i);
    }
    c.bench_function("queue pop+push, 10k resident", |b| {
        b.iter(|| {
            let (time, e) = q.pop().expect("never empty");
            t = t.wrapping_add(6_151);
            q.push(SimTime(time.0 + t % 100_000), black_box(e));
        })
    });
    // What a 100,000-node run holds: a mining clock per node, months out, and half as many
    // messages in flight within two seconds. A popped clock is redrawn far ahead, a popped
    // message is replaced by one a latency later. The cost per event should not depend on
    // the far clocks (see src/engine/queue.rs).
    for nodes in [1_000u64, 100_000] {
        let (mut q, mut rng) = (EventQueue::new(), 0x9e37_79b9_7f4a_7c15u64);
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let clock_us = 600_000_000 * nodes;
        for node in 0..nodes {
            q.push(SimTime(next() % (4 * clock_us)), (true, node));
            if node % 2 == 0 {
                q.push(SimTime(20_000 + next() % 2_000_000), (false, node));
            }
        }
        let label = format!("queue peek+pop+push, {nodes} clocks + {} messages", nodes / 2);
        c.bench_function(&label, |b| {
            b.iter(|| {
                let _ = q.peek_time();
                let (time, (clock, node)) = q.pop().expect("never empty");
                let delay =
                    if clock { next() % (4 * clock_us) } else { 20_000 + next() % 2_000_000 };
                q.push(SimTime(time.0 + delay), black_box((clock, node)));
            })
        });
    }
}

fn header(c: &mut Criterion) {
    let mut params = ConsensusParams::bitcoin();
    params.pow_limit = U256::MAX;
    params.sim_target_shift = 200;
    let mut h = Header {
        version: 0x2000_0000,
        prev_blockhash: BlockHash([7; 32]),
        merkle_root: [9; 32],
        time: 1_600_000_000,
        bits: CompactTarget(0x1d00_ffff),
        nonce: 0,
    };
    let target = params.pow_check_target(h.bits.to_target().expect("valid bits"));
    grind_nonce(&mut h, &target, u64::MAX).expect("an easy target is met");
    c.bench_function("check_header_pow (one sha256d)", |b| {
        b.iter(|| check_header_pow(black_box(&h), &params))
    });
    c.bench_function("grind 1000 nonces", |b| {
        b.iter(|| {
            let mut g = h;
            grind_nonce(&mut g, &U256::ZERO, 1000)
        })
    });
    // The hashing alone, one tail and two at once (the SHA extensions' two-lane path where
    // the CPU has them).
    let (midstate, tail) = HeaderMidstate::split(&h.serialize());
    let mut next = tail;
    next[15] ^= 1;
    c.bench_function("sha256d_header_tail", |b| {
        b.iter(|| sha256d_header_tail(&midstate, black_box(&tail)))
    });
    c.bench_function("sha256d_header_tails (two)", |b| {
        b.iter(|| sha256d_header_tails(&midstate, [black_box(&tail), black_box(&next)]))
    });
    c.bench_function("sha256d_header", |b| b.iter(|| sha256d_header(black_box(&h.serialize()))));
}

fn vrf(c: &mut Criterion) {
    let key = VrfKey::from_seed([6; 32]);
    let input = 812u64.to_le_bytes();
    c.bench_function("vrf evaluate", |b| b.iter(|| key.evaluate(black_box(&input))));
    c.bench_function("vrf evaluate + prove", |b| b.iter(|| key.prove(black_box(&input))));
    let (out, proof) = key.prove(&input);
    let public = key.public();
    c.bench_function("vrf verify", |b| {
        b.iter(|| verify(&public, black_box(&input), &out, &proof).expect("a valid proof"))
    });
}

criterion_group!(benches, queue, header, vrf);
criterion_main!(benches);
