//! What miners share, apart from their clocks: who has how much hash power, the key a
//! miner is paid to, and how a block template is built from a tip and a body.
//!
//! The mining clock itself (sampled and ground modes) is a node's: see `node::miner`.

use crate::chain::block::{Block, Filler, Header};
use crate::chain::tx::{Amount, Transaction, TxOut};
use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;
use crate::rng::{self, SimRng};
use crate::scenario::HashPowerSpec;
use crate::time::SimTime;

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
    let mut chosen: Vec<NodeId> = NodeId::all(nodes).collect();
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
        shares[node.index()] = w / total;
    }
    shares
}

/// The key hash a node's coinbase pays to (derived from its id; keys arrive with wallets).
pub fn payout_key_hash(node: NodeId) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[..4].copy_from_slice(&node.0.to_le_bytes());
    h[4..8].copy_from_slice(b"mine");
    h
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

/// What a template carries besides its coinbase.
#[derive(Clone, Debug, Default)]
pub enum Body {
    /// Filler payload sized by the [`TemplateSpec`] (runs without a workload).
    #[default]
    Filler,
    /// Real transactions (parents before children) and the fees they pay.
    Txs(Vec<Transaction>, Amount),
}

/// Builds an unground block on `parent` for `miner` at virtual time `now`.
///
/// The timestamp is the miner's clock, raised to one second past the parent's median time
/// past when blocks come faster than a second apart (as Bitcoin Core's miner does). The
/// coinbase claims the subsidy plus the fees of `body`'s transactions.
pub fn build_template(
    store: &mut BlockStore,
    parent: BlockId,
    miner: NodeId,
    now: SimTime,
    extra_nonce: u64,
    spec: &TemplateSpec,
    body: Body,
) -> Block {
    let ctx = store.header_context(parent);
    let parent_entry = store.get(parent);
    let clock = u64::from(spec.genesis_time) + now.as_secs();
    let time = clock.max(u64::from(ctx.median_time_past) + 1).min(u64::from(u32::MAX)) as u32;
    let with_filler = matches!(body, Body::Filler);
    let (txs, fees) = match body {
        Body::Filler => (Vec::new(), Amount::ZERO),
        Body::Txs(txs, fees) => (txs, fees),
    };
    let reward = store
        .params()
        .subsidy(ctx.height)
        .checked_add(fees)
        .expect("fees of valid transactions stay within the money range");
    let coinbase = Transaction::new_coinbase(
        ctx.height,
        miner.0,
        extra_nonce,
        vec![TxOut { value: reward, pubkey_hash: payout_key_hash(miner) }],
    );
    let filler = if with_filler {
        // The transaction count prefix grows with the count (1, 3 or 5 bytes), so size the
        // filler from an estimate, then take the prefix's real length off it.
        let payload = spec.block_size_bytes.saturating_sub(80 + coinbase.size_bytes() as u64);
        let filler_txs = (payload / u64::from(spec.tx_size_bytes)) as u32;
        let prefix = crate::chain::tx::compact_size_len(1 + u64::from(filler_txs.max(1))) as u64;
        let filler_bytes = payload.saturating_sub(prefix);
        Filler {
            tx_count: if filler_bytes > 0 { filler_txs.max(1) } else { 0 },
            size_bytes: filler_bytes as u32,
        }
    } else {
        Filler::default()
    };
    let mut all = Vec::with_capacity(1 + txs.len());
    all.push(coinbase);
    all.extend(txs);
    let mut block = Block {
        header: Header {
            version: 0x2000_0000,
            prev_blockhash: parent_entry.hash,
            merkle_root: [0; 32],
            time,
            bits: ctx.expected_bits,
            nonce: 0,
        },
        txs: all,
        filler,
    };
    block.header.merkle_root = block.compute_merkle_root();
    block
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::store::genesis_block;
    use crate::chain::{CompactTarget, ConsensusParams, U256};
    use crate::rng::{Purpose, RngStreams};

    #[test]
    fn blocks_fill_their_payload_without_exceeding_it() {
        let params = ConsensusParams { pow_limit: U256::MAX, ..ConsensusParams::bitcoin() };
        let bits =
            CompactTarget::from_target(crate::chain::pow::target_for_expected_hashes(1000.0));
        let mut store = BlockStore::new(genesis_block(1_600_000_000, bits, &params), params);
        for size in [0, 200, 535_000, 1_000_000] {
            let spec = TemplateSpec {
                genesis_time: 1_600_000_000,
                block_size_bytes: size,
                tx_size_bytes: 250,
            };
            let block = build_template(
                &mut store,
                BlockId::GENESIS,
                NodeId(0),
                SimTime::ZERO,
                1,
                &spec,
                Body::Filler,
            );
            let actual = block.size_bytes();
            if size == 0 {
                assert_eq!(block.filler.size_bytes, 0, "a zero payload means coinbase only");
            } else {
                // Within two bytes of the payload (a varint can shrink), never above it.
                assert!(actual <= size && size - actual <= 2, "{size}: {actual} bytes");
            }
        }
    }

    #[test]
    fn shares_sum_to_one_and_respect_the_miner_count() {
        let mut rng = RngStreams::new(3).stream(Purpose::Population, 1);
        for spec in [
            HashPowerSpec::Equal,
            HashPowerSpec::Uniform { min: 0.5, max: 1.5 },
            HashPowerSpec::Normal { mean: 1.0, sd: 0.5 },
            HashPowerSpec::Exponential { mean: 1.0 },
            HashPowerSpec::Pareto { alpha: 1.16 },
        ] {
            let shares = assign_hash_shares(50, 20, &spec, &mut rng);
            assert_eq!(shares.iter().filter(|s| **s > 0.0).count(), 20, "{spec:?}");
            assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{spec:?}");
        }
        let explicit = assign_hash_shares(4, 2, &HashPowerSpec::Shares(vec![0.7, 0.3]), &mut rng);
        assert_eq!(explicit, vec![0.7, 0.3, 0.0, 0.0]);
    }
}
