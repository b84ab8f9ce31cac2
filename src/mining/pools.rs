//! Measured hash-power presets: the mining pools of real networks, with their shares of the
//! hash power and the regions they mine from, as Rust constants next to their sources.
//!
//! A scenario names a preset (`hash_power = { preset = "bitcoin-2015" }`) instead of drawing
//! shares from a distribution, so its largest miner is the measured one on every seed. Like
//! the region tables in `network::presets`, each table is a constant here and
//! [`POOL_PRESET_NAMES`] lists the valid names for error messages.
//!
//! Every table is the published array as it was written, so a reader can check it against
//! its source. Published shares are rounded and may not sum to exactly 1:
//! [`PoolPreset::shares`] normalises them before use. Regions are names from
//! `network::presets::REGION_NAMES`; how pools are placed on nodes is described in
//! `mining::assign_hash_shares`.

/// One mining pool of a preset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pool {
    /// The pool's share of the network's hash power, as published.
    pub share: f64,
    /// The region the pool mines from, one of `network::presets::REGION_NAMES`.
    pub region: &'static str,
}

/// A named table of pools, largest first.
#[derive(Debug, PartialEq)]
pub struct PoolPreset {
    /// The name a scenario gives in `mining.hash_power.preset`.
    pub name: &'static str,
    /// The pools, in the order of the source (largest share first).
    pub pools: &'static [Pool],
}

impl PoolPreset {
    /// Returns the pools' shares, normalised to sum to 1, in pool order.
    pub fn shares(&self) -> Vec<f64> {
        let total: f64 = self.pools.iter().map(|p| p.share).sum();
        self.pools.iter().map(|p| p.share / total).collect()
    }
}

const NORTH_AMERICA: &str = "north_america";
const EUROPE: &str = "europe";
const ASIA_PACIFIC: &str = "asia_pacific";

/// Builds a pool (keeps the tables below one line per pool).
const fn pool(share: f64, region: &'static str) -> Pool {
    Pool { share, region }
}

// Source of the three tables below: the simulator behind Gervais, Karame, Wüst, Glykantzis,
// Ritzdorf and Capkun, "On the Security and Performance of Proof of Work Blockchains",
// ACM CCS 2016 — github.com/arthurgervais/Bitcoin-Simulator, file scratch/bitcoin-test.cc at
// commit dd866b553a4a9e5a7dd2585826b091c3fa73a100 (2016-10-13), arrays `bitcoinMinersHash`,
// `litecoinMinersHash`, `dogecoinMinersHash` and their `*MinersRegions` in the `MPI_TEST`
// branch. (The other branch of that file holds test values, {0.5, 0.5} for Bitcoin, and a
// nine-entry Dogecoin array that lumps the last four pools into one of 0.04.) The file does
// not say when or from which explorer the shares were taken; the repository's README says
// the authors crawled explorers such as blockchain.info for their network statistics. The
// simulator's region enum is the same six regions as ours.

/// Bitcoin's 16 largest pools as used by Gervais et al. (CCS 2016); published shares sum to
/// 1.001.
pub const BITCOIN_2015: PoolPreset = PoolPreset {
    name: "bitcoin-2015",
    pools: &[
        pool(0.289, ASIA_PACIFIC),
        pool(0.196, ASIA_PACIFIC),
        pool(0.159, ASIA_PACIFIC),
        pool(0.133, NORTH_AMERICA),
        pool(0.066, ASIA_PACIFIC),
        pool(0.054, NORTH_AMERICA),
        pool(0.029, EUROPE),
        pool(0.016, EUROPE),
        pool(0.012, NORTH_AMERICA),
        pool(0.012, NORTH_AMERICA),
        pool(0.012, NORTH_AMERICA),
        pool(0.009, EUROPE),
        pool(0.005, NORTH_AMERICA),
        pool(0.005, NORTH_AMERICA),
        pool(0.002, NORTH_AMERICA),
        pool(0.002, NORTH_AMERICA),
    ],
};

/// Litecoin's 12 largest pools as used by Gervais et al. (CCS 2016); published shares sum
/// to 1.000.
pub const LITECOIN: PoolPreset = PoolPreset {
    name: "litecoin",
    pools: &[
        pool(0.366, ASIA_PACIFIC),
        pool(0.314, ASIA_PACIFIC),
        pool(0.122, ASIA_PACIFIC),
        pool(0.072, NORTH_AMERICA),
        pool(0.028, EUROPE),
        pool(0.024, NORTH_AMERICA),
        pool(0.022, NORTH_AMERICA),
        pool(0.018, ASIA_PACIFIC),
        pool(0.012, NORTH_AMERICA),
        pool(0.010, NORTH_AMERICA),
        pool(0.006, NORTH_AMERICA),
        pool(0.006, NORTH_AMERICA),
    ],
};

/// Dogecoin's 12 largest pools as used by Gervais et al. (CCS 2016); published shares sum
/// to 1.00.
pub const DOGECOIN: PoolPreset = PoolPreset {
    name: "dogecoin",
    pools: &[
        pool(0.33, ASIA_PACIFIC),
        pool(0.26, ASIA_PACIFIC),
        pool(0.19, ASIA_PACIFIC),
        pool(0.09, NORTH_AMERICA),
        pool(0.03, EUROPE),
        pool(0.02, NORTH_AMERICA),
        pool(0.02, NORTH_AMERICA),
        pool(0.02, ASIA_PACIFIC),
        pool(0.01, NORTH_AMERICA),
        pool(0.01, ASIA_PACIFIC),
        pool(0.01, NORTH_AMERICA),
        pool(0.01, NORTH_AMERICA),
    ],
};

// Source of the table below: per-block pool labels of the BTC.com block explorer
// (`extras.pool_name` of chain.api.btc.com/v3/block/<height>), collected block by block by
// github.com/Canhui/Bitcoin_Mining_Pools, file `Data Set/Mining Pool Label/miningpool.csv`
// at commit ac86ef4bf1725caccf0f55a1c06ebaf650ec5e7c (2019-02-22). We counted the labels of
// blocks 501,726 (the first block of 2018) to 546,234 (the file's last, late October 2018):
// 44,421 labelled blocks (88 heights are missing from the file), of which 1,548 are
// "unknown". The shares are each pool's blocks among the 41,049 blocks of the 16 largest
// named pools, rounded to three decimals. The file has no later blocks; `BITCOIN_2019` below
// comes from another attribution (coinbase markers). Regions are where each pool's operator
// is based: the Chinese pools in Asia-Pacific, Slush Pool (Czech Republic) and BitFury
// (Netherlands) in Europe, BitClub and Bitcoin.com in North America (the least certain two:
// both ran servers on several continents).

/// Bitcoin's 16 largest pools over the first ten months of 2018, from per-block explorer
/// labels; published shares sum to 0.999.
pub const BITCOIN_2018: PoolPreset = PoolPreset {
    name: "bitcoin-2018",
    pools: &[
        pool(0.245, ASIA_PACIFIC),  // BTC.com, 10,074 blocks
        pool(0.160, ASIA_PACIFIC),  // AntPool, 6,576
        pool(0.119, EUROPE),        // SlushPool, 4,893
        pool(0.117, ASIA_PACIFIC),  // ViaBTC, 4,815
        pool(0.111, ASIA_PACIFIC),  // BTC.TOP, 4,539
        pool(0.082, ASIA_PACIFIC),  // F2Pool, 3,369
        pool(0.024, ASIA_PACIFIC),  // BTCC, 965
        pool(0.022, NORTH_AMERICA), // BitClub, 901
        pool(0.021, ASIA_PACIFIC),  // DPOOL, 882
        pool(0.020, EUROPE),        // BitFury, 835
        pool(0.020, ASIA_PACIFIC),  // Poolin, 829
        pool(0.014, ASIA_PACIFIC),  // Bixin, 581
        pool(0.012, ASIA_PACIFIC),  // BWPool, 494
        pool(0.012, ASIA_PACIFIC),  // WAYI.CN, 478
        pool(0.010, NORTH_AMERICA), // Bitcoin.com, 413
        pool(0.010, ASIA_PACIFIC),  // 58COIN, 405
    ],
};

// Source of the table below: the workbook of Messias, Pahari, Chandrasekaran, Gummadi and
// Loiseau, "Dissecting Bitcoin and Ethereum Transactions: On the Lack of Transaction
// Contention and Prioritization Transparency in Blockchains" (FC 2023) —
// github.com/johnnatan-messias/blockchain-transaction-ordering, file
// `complementary-analysis/SPPE-values-Bitcoin.xlsx` at commit
// 17330357a0e29ea662911319421658273f949b52 (2023-08-02), sheet `hashrate-2019` (columns
// "miner", "# of blocks", "frac. of blocks (hashrate)"). Its sheet `overview-2019` gives the
// window: January 1 to December 31, 2019, blocks 556,459 to 610,690, 54,232 blocks, "27 MPOs +
// Unknown". The authors attributed each block to a pool from the pool's marker in the
// coinbase transaction (section 4.2 of the paper, `papers/messias-fc23-transaction-
// prioritization.pdf` in the same repository); 3,287 blocks of 2019 are "Unknown". The 28
// rows of the sheet sum to its total, 54,232, and the totals of the sheets of 2018, 2019 and
// 2020 to the paper's 161,954 blocks (heights 501,951 to 663,904). The paper's text gives
// 4,911 unattributed blocks over 2018-2020 where the workbook, made after it, has 7,519 (its
// three yearly "Unknown" rows add up to that); we take the workbook's counts. The shares are
// each pool's blocks among the 49,841 blocks of the 16 largest named pools, rounded to three
// decimals (the next two are NovaBlock, 317, and Bixin, 302). We took the counts as the sheet
// gives them and did not recount blocks: the authors' per-block attribution file
// (`miners_500000_664000.csv.gz`) is on their web site, not in the repository. The sheet keeps
// a row "E2M & BTC.TOP" apart from "BTC.TOP", and so do we. Regions are where each pool's
// operator is based, as in `BITCOIN_2018`: the Chinese pools (Okex too: the pool of OKEx, an
// exchange registered in Malta that grew out of China's OKCoin) in Asia-Pacific, SlushPool
// (Czech Republic) and BitFury (Netherlands) in Europe, BitClub and Bitcoin.com in North
// America (the least certain two: both ran servers on several continents).

/// Bitcoin's 16 largest pools over 2019, from per-block coinbase attributions; published
/// shares sum to 0.998.
pub const BITCOIN_2019: PoolPreset = PoolPreset {
    name: "bitcoin-2019",
    pools: &[
        pool(0.187, ASIA_PACIFIC),  // BTC.com, 9,313 blocks
        pool(0.141, ASIA_PACIFIC),  // F2Pool, 7,043
        pool(0.132, ASIA_PACIFIC),  // Poolin, 6,593
        pool(0.130, ASIA_PACIFIC),  // AntPool, 6,495
        pool(0.086, EUROPE),        // SlushPool, 4,272
        pool(0.080, ASIA_PACIFIC),  // ViaBTC, 4,006
        pool(0.072, ASIA_PACIFIC),  // BTC.TOP, 3,607
        pool(0.053, ASIA_PACIFIC),  // Huobi, 2,650
        pool(0.040, EUROPE),        // BitFury, 1,969
        pool(0.015, ASIA_PACIFIC),  // DPool.TOP, 738
        pool(0.015, NORTH_AMERICA), // BitClub Network, 737
        pool(0.012, ASIA_PACIFIC),  // 1THash & 58COIN, 605
        pool(0.011, NORTH_AMERICA), // Bitcoin.com, 552
        pool(0.010, ASIA_PACIFIC),  // BytePool, 516
        pool(0.008, ASIA_PACIFIC),  // E2M & BTC.TOP, 422
        pool(0.006, ASIA_PACIFIC),  // Okex, 323
    ],
};

/// Every preset, in the order of [`POOL_PRESET_NAMES`].
pub const POOL_PRESETS: [&PoolPreset; 5] =
    [&BITCOIN_2015, &BITCOIN_2018, &BITCOIN_2019, &LITECOIN, &DOGECOIN];

/// Valid names for [`pool_preset`].
pub const POOL_PRESET_NAMES: [&str; 5] =
    [BITCOIN_2015.name, BITCOIN_2018.name, BITCOIN_2019.name, LITECOIN.name, DOGECOIN.name];

/// Returns the preset called `name` (see [`POOL_PRESET_NAMES`]).
pub fn pool_preset(name: &str) -> Option<&'static PoolPreset> {
    POOL_PRESETS.into_iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::presets::REGION_NAMES;

    #[test]
    fn every_name_resolves_to_its_own_table_and_others_do_not() {
        for (name, preset) in POOL_PRESET_NAMES.iter().zip(POOL_PRESETS) {
            assert_eq!(pool_preset(name), Some(preset), "{name}");
            assert_eq!(preset.name, *name);
        }
        for bad in ["", "bitcoin", "Bitcoin-2015", "bitcoin-2016", "pareto"] {
            assert!(pool_preset(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn published_shares_sum_to_one_within_rounding_and_normalised_shares_exactly() {
        for preset in POOL_PRESETS {
            let published: f64 = preset.pools.iter().map(|p| p.share).sum();
            // Three-decimal shares of 16 pools may round as far as 16 * 0.0005 from 1; every
            // table is within 0.002 (bitcoin-2019 sums to 0.998), plus 1e-9 for the f64 sum.
            assert!(
                (published - 1.0).abs() <= 0.002 + 1e-9,
                "{}: published sum {published}",
                preset.name
            );
            let shares = preset.shares();
            let sum: f64 = shares.iter().sum();
            assert!((sum - 1.0).abs() < 1e-12, "{}: normalised sum {sum}", preset.name);
            assert!(shares.iter().all(|&s| s > 0.0), "{}", preset.name);
        }
    }

    #[test]
    fn pools_are_largest_first_with_no_majority_and_known_regions() {
        for preset in POOL_PRESETS {
            assert!(
                preset.pools.windows(2).all(|w| w[0].share >= w[1].share),
                "{}: not largest first",
                preset.name
            );
            assert!(preset.shares()[0] < 0.5, "{}: a pool holds a majority", preset.name);
            for p in preset.pools {
                assert!(REGION_NAMES.contains(&p.region), "{}: region {}", preset.name, p.region);
            }
        }
    }

    #[test]
    fn tables_match_their_source() {
        // Spot checks against scratch/bitcoin-test.cc, so an edited digit fails.
        assert_eq!(BITCOIN_2015.pools.len(), 16);
        assert_eq!(BITCOIN_2015.pools[0], pool(0.289, ASIA_PACIFIC));
        assert_eq!(BITCOIN_2015.pools[3], pool(0.133, NORTH_AMERICA));
        assert_eq!(BITCOIN_2015.pools[11], pool(0.009, EUROPE));
        assert_eq!(BITCOIN_2018.pools.len(), 16);
        assert_eq!(BITCOIN_2018.pools[0], pool(0.245, ASIA_PACIFIC));
        assert_eq!(BITCOIN_2018.pools[2], pool(0.119, EUROPE));
        assert_eq!(BITCOIN_2018.pools[7], pool(0.022, NORTH_AMERICA));
        assert_eq!(BITCOIN_2019.pools.len(), 16);
        assert_eq!(BITCOIN_2019.pools[0], pool(0.187, ASIA_PACIFIC));
        assert_eq!(BITCOIN_2019.pools[4], pool(0.086, EUROPE));
        assert_eq!(BITCOIN_2019.pools[10], pool(0.015, NORTH_AMERICA));
        assert_eq!(LITECOIN.pools.len(), 12);
        assert_eq!(LITECOIN.pools[1], pool(0.314, ASIA_PACIFIC));
        assert_eq!(LITECOIN.pools[7], pool(0.018, ASIA_PACIFIC));
        assert_eq!(DOGECOIN.pools.len(), 12);
        assert_eq!(DOGECOIN.pools[4], pool(0.03, EUROPE));
        assert_eq!(DOGECOIN.pools[9], pool(0.01, ASIA_PACIFIC));
    }

    #[test]
    fn bitcoin_2019_shares_are_the_sheet_block_counts_rounded() {
        // Blocks of the 16 pools in sheet `hashrate-2019`, in table order (see the source
        // comment above `BITCOIN_2019`): each published share must be its count over their
        // sum, rounded to three decimals, so a mistyped share or count fails.
        const BLOCKS: [u32; 16] = [
            9313, 7043, 6593, 6495, 4272, 4006, 3607, 2650, 1969, 738, 737, 605, 552, 516, 422, 323,
        ];
        let total: u32 = BLOCKS.iter().sum();
        assert_eq!(total, 49_841);
        assert_eq!(BITCOIN_2019.pools.len(), BLOCKS.len());
        for (i, (p, &blocks)) in BITCOIN_2019.pools.iter().zip(&BLOCKS).enumerate() {
            let rounded = (f64::from(blocks) / f64::from(total) * 1000.0).round() / 1000.0;
            assert_eq!(p.share, rounded, "pool {i}: {blocks} blocks");
        }
        // Normalised, the largest pool (BTC.com) keeps its share of these blocks to rounding.
        let largest = BITCOIN_2019.shares()[0];
        assert!((largest - 9313.0 / 49_841.0).abs() < 1e-3, "{largest}");
    }
}
