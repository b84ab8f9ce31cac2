//! Miners: who has hash power, when they find blocks, and how a found block is built.
//!
//! Two modes (see DESIGN.md):
//! - **sampled**: a miner's next block comes after an exponential time with mean
//!   `work(next target) / hash rate`. Mining is memoryless, so the clock only has to be
//!   redrawn when the miner's rate changes (its next target differs after a retarget), not on
//!   every new tip. When the clock fires, the miner builds a real block on its current tip
//!   and grinds a real nonce against the easy simulation target.
//! - **ground**: when a miner starts on a tip it builds the template and literally tries
//!   nonces 0, 1, 2, ... against the real (small) target; nonce `k` is tried at
//!   `start + k / rate` of virtual time, so the block is found at the first `k` that meets
//!   the target. A new tip before then means a new template: the hashes decide who wins.

use crate::chain::block::{Block, Filler, Header, grind_nonce};
use crate::chain::pow::{CompactTarget, work_from_target};
use crate::chain::tx::{Amount, Transaction, TxOut};
use crate::chain::{BlockId, BlockStore};
use crate::rng::{self, SimRng};
use crate::scenario::HashPowerSpec;
use crate::time::{SimDuration, SimTime};

/// Smallest weight a normal draw is truncated to (a miner with no power would not mine).
const NORMAL_WEIGHT_FLOOR: f64 = 1e-3;

/// Draws each node's share of the network's hash power (0 for non-miners; shares sum to 1).
///
/// With explicit shares, share `i` goes to node `i`. Otherwise `miners` nodes are chosen
/// uniformly at random (all of them when `miners == nodes`) and draw weights from the
/// distribution, normalised to sum to 1.
pub fn assign_hash_shares(
    nodes: u32,
    miners: u32,
    spec: &HashPowerSpec,
    rng: &mut SimRng,
) -> Vec<f64> {
    let mut shares = vec![0.0; nodes as usize];
    if let HashPowerSpec::Shares(s) = spec {
        shares[..s.len()].copy_from_slice(s);
        return shares;
    }
    let mut chosen: Vec<u32> = (0..nodes).collect();
    if miners < nodes {
        // Partial Fisher-Yates: the first `miners` entries are a uniform random subset.
        for i in 0..miners as usize {
            let j = i + rng::below(rng, u64::from(nodes) - i as u64) as usize;
            chosen.swap(i, j);
        }
        chosen.truncate(miners as usize);
        chosen.sort_unstable();
    }
    let weights: Vec<f64> = chosen
        .iter()
        .map(|_| match *spec {
            HashPowerSpec::Equal | HashPowerSpec::Shares(_) => 1.0,
            HashPowerSpec::Uniform { min, max } => min + (max - min) * rng::uniform01(rng),
            HashPowerSpec::Normal { mean, sd } => {
                (mean + sd * rng::std_normal(rng)).max(NORMAL_WEIGHT_FLOOR * mean)
            }
            HashPowerSpec::Exponential { mean } => mean * rng::exp1(rng),
            HashPowerSpec::Pareto { alpha } => rng::pareto(rng, 1.0, alpha),
        })
        .collect();
    let total: f64 = weights.iter().sum();
    for (node, w) in chosen.iter().zip(&weights) {
        shares[*node as usize] = w / total;
    }
    shares
}

/// The key hash a node's coinbase pays to (derived from its id; keys arrive with wallets).
pub fn payout_key_hash(node: u32) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[..4].copy_from_slice(&node.to_le_bytes());
    h[4..8].copy_from_slice(b"mine");
    h
}

/// The block subsidy (50 coins, halving every 210,000 blocks as on Bitcoin).
pub fn subsidy(height: u32) -> Amount {
    let halvings = height / 210_000;
    if halvings >= 64 { Amount::ZERO } else { Amount(Amount::from_coins(50).0 >> halvings) }
}

/// What every block template needs to know besides its parent.
#[derive(Clone, Copy, Debug)]
pub struct TemplateSpec {
    /// Genesis timestamp (virtual time 0 is this Unix second).
    pub genesis_time: u32,
    /// Payload per block (coinbase included).
    pub block_size_bytes: u64,
    /// Mean transaction size, to turn payload into a transaction count.
    pub tx_size_bytes: u32,
}

/// Builds an unground block on `parent` for `miner` at virtual time `now`.
///
/// The timestamp is the miner's clock, raised to one second past the parent's median time
/// past when blocks come faster than a second apart (as Bitcoin Core's miner does).
pub fn build_template(
    store: &mut BlockStore,
    parent: BlockId,
    miner: u32,
    now: SimTime,
    extra_nonce: u64,
    spec: &TemplateSpec,
) -> Block {
    let ctx = store.header_context(parent);
    let parent_entry = store.get(parent);
    let clock = u64::from(spec.genesis_time) + now.as_secs();
    let time = clock.max(u64::from(ctx.median_time_past) + 1).min(u64::from(u32::MAX)) as u32;
    let coinbase = Transaction::new_coinbase(
        ctx.height,
        miner,
        extra_nonce,
        vec![TxOut { value: subsidy(ctx.height), pubkey_hash: payout_key_hash(miner) }],
    );
    let base_bytes = 80 + 1 + coinbase.size_bytes() as u64;
    let filler_bytes = spec.block_size_bytes.saturating_sub(base_bytes);
    let filler_txs = (filler_bytes / u64::from(spec.tx_size_bytes)) as u32;
    let filler = Filler {
        tx_count: if filler_bytes > 0 { filler_txs.max(1) } else { 0 },
        size_bytes: filler_bytes as u32,
    };
    let mut block = Block {
        header: Header {
            version: 0x2000_0000,
            prev_blockhash: parent_entry.hash,
            merkle_root: [0; 32],
            time,
            bits: ctx.expected_bits,
            nonce: 0,
        },
        txs: vec![coinbase],
        filler,
    };
    block.header.merkle_root = block.compute_merkle_root();
    block
}

/// One mining node.
pub struct Miner {
    /// The node that mines.
    pub node: u32,
    /// Hashes per second of virtual time.
    pub hashrate_hs: f64,
    /// Bumped whenever the pending find is invalidated; stale events carry an old value.
    pub generation: u32,
    /// The next-block bits the pending clock was drawn for (sampled mode).
    pub clock_bits: CompactTarget,
    /// The block being ground (ground mode), found at the pending event.
    pub pending_block: Option<Block>,
    /// Coinbase extra nonce, bumped per template so templates never repeat.
    pub extra_nonce: u64,
    /// This miner's own clock stream.
    pub rng: SimRng,
}

impl Miner {
    /// Sampled mode: time until this miner finds a block at a target with `bits`.
    pub fn sample_delay(&mut self, bits: CompactTarget) -> SimDuration {
        let target = bits.to_target().expect("bits in the store always decode");
        let expected_hashes = work_from_target(target).to_f64();
        SimDuration::from_secs_f64(rng::exp1(&mut self.rng) * expected_hashes / self.hashrate_hs)
    }

    /// Ground mode: grinds `block` from nonce 0 against its real target and returns the
    /// virtual time needed to reach the winning nonce at this miner's hash rate. Exhausting
    /// the 32-bit nonce bumps the coinbase extra nonce (new Merkle root) and goes on.
    pub fn grind(&mut self, store: &BlockStore, block: &mut Block) -> SimDuration {
        let target = store.params().pow_check_target(
            block.header.bits.to_target().expect("bits in the store always decode"),
        );
        let mut hashes: u64 = 0;
        loop {
            block.header.nonce = 0;
            if let Some(tries) = grind_nonce(&mut block.header, &target, 1u64 << 32) {
                hashes += tries;
                break;
            }
            hashes += 1u64 << 32;
            self.extra_nonce += 1;
            let tx = &mut block.txs[0];
            if let Some(cb) = tx.coinbase.as_mut() {
                cb.extra_nonce = self.extra_nonce;
            }
            block.header.merkle_root = block.compute_merkle_root();
        }
        SimDuration::from_secs_f64(hashes as f64 / self.hashrate_hs)
    }
}
