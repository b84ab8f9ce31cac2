//! What miners share, apart from their clocks: who has how much hash power, the key a
//! miner is paid to, and how a block template is built from a tip and a body.
//!
//! The mining clock itself (sampled and ground modes) is a node's: see `node::miner`.
//! Measured pool shares (hash-power presets) are tables in [`pools`].

pub mod pools;

use crate::chain::block::{Block, Filler, Header};
use crate::chain::tx::{Amount, Transaction, TxOut};
use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;
use crate::rng::{self, SimRng};
use crate::scenario::{HashPowerSpec, PoolPreset};
use crate::time::SimTime;

/// Smallest weight a normal draw is truncated to (a miner with no power would not mine).
const NORMAL_WEIGHT_FLOOR: f64 = 1e-3;

/// Draws each node's share of the network's hash power (0 for non-miners; shares sum to 1).
///
/// - Explicit shares: share `i` goes to node `i`.
/// - A preset: see [`place_pools`]; `node_region` (each node's region name) decides where
///   pools go, and nothing is drawn, so the shares are the same on every seed.
/// - A distribution: `miners` nodes are chosen uniformly at random (all of them when
///   `miners == nodes`) and draw weights from the distribution, normalised to sum to 1.
///
/// # Panics
///
/// Panics if a preset has more pools than there are nodes (validation rejects that).
pub fn assign_hash_shares(
    nodes: u32,
    miners: u32,
    spec: &HashPowerSpec,
    node_region: &[&str],
    rng: &mut SimRng,
) -> Vec<f64> {
    let mut shares = vec![0.0; nodes as usize];
    match spec {
        HashPowerSpec::Shares(s) => {
            shares[..s.len()].copy_from_slice(s);
            return shares;
        }
        HashPowerSpec::Preset(preset) => return place_pools(nodes, preset, node_region),
        _ => {}
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
            HashPowerSpec::Equal | HashPowerSpec::Shares(_) | HashPowerSpec::Preset(_) => 1.0,
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

/// Puts each pool of `preset` on its own node and returns every node's share (0 for nodes
/// without a pool; the pools' shares normalised to sum to 1).
///
/// Pools are placed in table order, largest first. A pool goes to the lowest-numbered free
/// node of its region (`node_region[i]` is node `i`'s region name). When no free node is
/// left in that region, or the network has no such region (a `"global"` network), it goes
/// to the lowest-numbered free node. On a network without regions pool `i` is thus node
/// `i`; on a regional one the nodes depend on the seeded region layout, the shares do not.
///
/// # Panics
///
/// Panics if the preset has more pools than there are nodes.
pub fn place_pools(nodes: u32, preset: &PoolPreset, node_region: &[&str]) -> Vec<f64> {
    let n = nodes as usize;
    assert!(node_region.len() >= n, "one region name per node");
    let mut shares = vec![0.0; n];
    let mut taken = vec![false; n];
    for (pool, share) in preset.pools.iter().zip(preset.shares()) {
        let node = (0..n)
            .find(|&i| !taken[i] && node_region[i] == pool.region)
            .or_else(|| (0..n).find(|&i| !taken[i]))
            .expect("validation allows no more pools than nodes");
        taken[node] = true;
        shares[node] = share;
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
            let shares = assign_hash_shares(50, 20, &spec, &["global"; 50], &mut rng);
            assert_eq!(shares.iter().filter(|s| **s > 0.0).count(), 20, "{spec:?}");
            assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{spec:?}");
        }
        let explicit = assign_hash_shares(
            4,
            2,
            &HashPowerSpec::Shares(vec![0.7, 0.3]),
            &["global"; 4],
            &mut rng,
        );
        assert_eq!(explicit, vec![0.7, 0.3, 0.0, 0.0]);
    }

    #[test]
    fn preset_shares_are_the_same_on_every_seed_and_sum_to_one() {
        for preset in pools::POOL_PRESETS {
            let spec = HashPowerSpec::Preset(preset);
            let first = assign_hash_shares(
                30,
                preset.pools.len() as u32,
                &spec,
                &["global"; 30],
                &mut RngStreams::new(1).stream(Purpose::Population, 1),
            );
            for seed in 2..=20 {
                let again = assign_hash_shares(
                    30,
                    preset.pools.len() as u32,
                    &spec,
                    &["global"; 30],
                    &mut RngStreams::new(seed).stream(Purpose::Population, 1),
                );
                assert_eq!(first, again, "{} differs on seed {seed}", preset.name);
            }
            // Without regions pool i is node i, and nobody else mines.
            let pool_count = preset.pools.len();
            assert_eq!(first[..pool_count], preset.shares()[..], "{}", preset.name);
            assert!(first[pool_count..].iter().all(|&s| s == 0.0), "{}", preset.name);
            assert!((first.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{}", preset.name);
        }
    }

    #[test]
    fn pools_go_to_nodes_of_their_region_and_overflow_to_the_lowest_free_node() {
        // Ten nodes: 0..4 in Europe, 4..8 in Asia-Pacific, 8..10 in North America.
        let mut ten = vec!["europe"; 4];
        ten.extend(["asia_pacific"; 4]);
        ten.extend(["north_america"; 2]);
        // Fifty nodes repeating that layout: room for every pool of bitcoin-2015 (4 in
        // Asia-Pacific, 9 in North America, 3 in Europe) in its own region.
        let fifty: Vec<&str> = (0..50).map(|i| ten[i % 10]).collect();
        let preset = &pools::BITCOIN_2015;
        let shares = place_pools(50, preset, &fifty);
        let mut placed: Vec<(usize, f64)> =
            shares.iter().copied().enumerate().filter(|(_, s)| *s > 0.0).collect();
        assert_eq!(placed.len(), 16);
        for (pool, share) in preset.pools.iter().zip(preset.shares()) {
            // Equal shares belong to pools of the same region, so any match will do.
            let at = placed.iter().position(|&(_, s)| s == share).expect("every pool placed");
            let (node, _) = placed.remove(at);
            assert_eq!(fifty[node], pool.region, "pool with share {share} on node {node}");
        }
        assert_eq!(shares[4], preset.shares()[0], "largest pool on the first Asian node");

        // Twelve nodes, two of them in a region no pool names: litecoin's seven North
        // American pools find two North American nodes, the rest take the lowest free nodes.
        let mut twelve = ten.clone();
        twelve.extend(["south_america"; 2]);
        let small = place_pools(12, &pools::LITECOIN, &twelve);
        let litecoin = pools::LITECOIN.shares();
        assert_eq!(small.iter().filter(|&&s| s > 0.0).count(), 12);
        assert_eq!(small[4], litecoin[0], "largest Asian pool on the first Asian node");
        assert_eq!(small[7], litecoin[7], "fourth Asian pool on the fourth Asian node");
        assert_eq!(small[8], litecoin[3], "largest North American pool on node 8");
        assert_eq!(small[9], litecoin[5], "next North American pool on node 9");
        assert_eq!(small[0], litecoin[4], "the European pool on the first European node");
        assert_eq!(small[1], litecoin[6], "third North American pool: lowest free node");
        assert_eq!(small[11], litecoin[11], "last pool on the last free node");
    }
}
