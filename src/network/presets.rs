//! Public measurements of real peer-to-peer networks, as Rust constants.
//!
//! These tables let a scenario say "regions as in Bitcoin 2019" instead of typing 36 latencies.
//! They are the public measurement tables of the Bitcoin (and Litecoin, Dogecoin) networks *as
//! tabulated by the SimBlock project from measurement studies* (dsg-titech/simblock,
//! `settings/NetworkConfiguration.java` and `SimulationConfiguration.java`, which cite the
//! underlying studies). The same figures live in `data/bitcoin-regions.toml`; the six regions are
//! always in the order of [`REGION_NAMES`].
//!
//! Each family of tables has a lookup function taking a preset name (for scenario files) and a
//! `*_NAMES` constant listing the valid names (for error messages).

/// The six regions of every table, in row/column order.
pub const REGION_NAMES: [&str; 6] =
    ["north_america", "europe", "south_america", "asia_pacific", "japan", "australia"];

/// Mean one-way latency between regions in 2015, in milliseconds (row = from, column = to).
pub const LATENCY_MS_2015: [[f64; 6]; 6] = [
    [36.0, 119.0, 255.0, 310.0, 154.0, 208.0],
    [119.0, 12.0, 221.0, 242.0, 266.0, 350.0],
    [255.0, 221.0, 137.0, 347.0, 256.0, 269.0],
    [310.0, 242.0, 347.0, 99.0, 172.0, 278.0],
    [154.0, 266.0, 256.0, 172.0, 9.0, 163.0],
    [208.0, 350.0, 269.0, 278.0, 163.0, 22.0],
];

/// Mean one-way latency between regions in 2019, in milliseconds (row = from, column = to).
pub const LATENCY_MS_2019: [[f64; 6]; 6] = [
    [32.0, 124.0, 184.0, 198.0, 151.0, 189.0],
    [124.0, 11.0, 227.0, 237.0, 252.0, 294.0],
    [184.0, 227.0, 88.0, 325.0, 301.0, 322.0],
    [198.0, 237.0, 325.0, 85.0, 58.0, 198.0],
    [151.0, 252.0, 301.0, 58.0, 12.0, 126.0],
    [189.0, 294.0, 322.0, 198.0, 126.0, 16.0],
];

/// Per-node download bandwidth by region in 2015, in bit/s.
pub const DOWNLOAD_BPS_2015: [u64; 6] =
    [25_000_000, 24_000_000, 6_500_000, 10_000_000, 17_500_000, 14_000_000];

/// Per-node download bandwidth by region in 2019, in bit/s.
pub const DOWNLOAD_BPS_2019: [u64; 6] =
    [52_000_000, 40_000_000, 18_000_000, 22_800_000, 22_800_000, 29_900_000];

/// Per-node upload bandwidth by region in 2015, in bit/s.
pub const UPLOAD_BPS_2015: [u64; 6] =
    [4_700_000, 8_100_000, 1_800_000, 5_300_000, 3_400_000, 5_200_000];

/// Per-node upload bandwidth by region in 2019, in bit/s.
pub const UPLOAD_BPS_2019: [u64; 6] =
    [19_200_000, 20_700_000, 5_800_000, 15_700_000, 10_200_000, 11_300_000];

/// Share of Bitcoin nodes per region in 2015.
pub const NODE_SHARE_BITCOIN_2015: [f64; 6] = [0.3869, 0.5159, 0.0113, 0.0574, 0.0119, 0.0166];

/// Share of Bitcoin nodes per region in 2019.
pub const NODE_SHARE_BITCOIN_2019: [f64; 6] = [0.3316, 0.4998, 0.0090, 0.1177, 0.0224, 0.0195];

/// Share of Litecoin nodes per region.
pub const NODE_SHARE_LITECOIN: [f64; 6] = [0.3661, 0.4791, 0.0149, 0.1022, 0.0238, 0.0139];

/// Share of Dogecoin nodes per region.
pub const NODE_SHARE_DOGECOIN: [f64; 6] = [0.3924, 0.4879, 0.0212, 0.0697, 0.0106, 0.0182];

/// Cumulative distribution of a Bitcoin node's outbound degree in 2015: entry `i` is
/// P(degree <= i + 1).
pub const OUTBOUND_DEGREE_CDF_BITCOIN_2015: [f64; 20] = [
    0.025, 0.050, 0.075, 0.10, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.85, 0.90, 0.95, 0.97,
    0.97, 0.98, 0.99, 0.995, 1.0,
];

/// Cumulative distribution of a Litecoin node's outbound degree: entry `i` is P(degree <= i + 1).
pub const OUTBOUND_DEGREE_CDF_LITECOIN: [f64; 20] = [
    0.01, 0.02, 0.04, 0.07, 0.09, 0.14, 0.20, 0.28, 0.39, 0.5, 0.6, 0.69, 0.76, 0.81, 0.85, 0.87,
    0.89, 0.92, 0.93, 1.0,
];

/// Cumulative distribution of a Dogecoin node's outbound degree: entry `i` is P(degree <= i + 1)
/// (every node has exactly 8 outbound connections).
pub const OUTBOUND_DEGREE_CDF_DOGECOIN: [f64; 20] = [
    0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 1.0, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00,
    1.00, 1.00, 1.00, 1.0,
];

/// Valid names for [`latency_matrix_ms`].
pub const LATENCY_MATRIX_NAMES: &[&str] = &["2015", "2019"];

/// Valid names for [`bandwidth_bps`].
pub const BANDWIDTH_NAMES: &[&str] = &["2015", "2019"];

/// Valid names for [`node_share`].
pub const NODE_SHARE_NAMES: &[&str] = &["bitcoin-2015", "bitcoin-2019", "litecoin", "dogecoin"];

/// Valid names for [`outbound_degree_cdf`].
pub const OUTBOUND_DEGREE_CDF_NAMES: &[&str] = &["bitcoin-2015", "litecoin", "dogecoin"];

/// Returns the region latency matrix (ms) of the named year (`"2015"` or `"2019"`).
pub fn latency_matrix_ms(name: &str) -> Option<[[f64; 6]; 6]> {
    match name {
        "2015" => Some(LATENCY_MS_2015),
        "2019" => Some(LATENCY_MS_2019),
        _ => None,
    }
}

/// Returns the per-region `(upload, download)` bandwidths (bit/s) of the named year
/// (`"2015"` or `"2019"`).
pub fn bandwidth_bps(name: &str) -> Option<([u64; 6], [u64; 6])> {
    match name {
        "2015" => Some((UPLOAD_BPS_2015, DOWNLOAD_BPS_2015)),
        "2019" => Some((UPLOAD_BPS_2019, DOWNLOAD_BPS_2019)),
        _ => None,
    }
}

/// Returns the per-region node shares of the named network (see [`NODE_SHARE_NAMES`]).
pub fn node_share(name: &str) -> Option<[f64; 6]> {
    match name {
        "bitcoin-2015" => Some(NODE_SHARE_BITCOIN_2015),
        "bitcoin-2019" => Some(NODE_SHARE_BITCOIN_2019),
        "litecoin" => Some(NODE_SHARE_LITECOIN),
        "dogecoin" => Some(NODE_SHARE_DOGECOIN),
        _ => None,
    }
}

/// Returns the outbound-degree CDF of the named network (see [`OUTBOUND_DEGREE_CDF_NAMES`]).
pub fn outbound_degree_cdf(name: &str) -> Option<[f64; 20]> {
    match name {
        "bitcoin-2015" => Some(OUTBOUND_DEGREE_CDF_BITCOIN_2015),
        "litecoin" => Some(OUTBOUND_DEGREE_CDF_LITECOIN),
        "dogecoin" => Some(OUTBOUND_DEGREE_CDF_DOGECOIN),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_share_table_sums_to_one() {
        for name in NODE_SHARE_NAMES {
            let share = node_share(name).expect("every listed name resolves");
            let sum: f64 = share.iter().sum();
            assert!((sum - 1.0).abs() < 1e-3, "{name}: sum {sum}");
            assert!(share.iter().all(|&s| s >= 0.0), "{name}");
        }
    }

    #[test]
    fn every_cdf_is_non_decreasing_and_ends_at_one() {
        for name in OUTBOUND_DEGREE_CDF_NAMES {
            let cdf = outbound_degree_cdf(name).expect("every listed name resolves");
            assert!(cdf.windows(2).all(|w| w[0] <= w[1]), "{name}");
            assert!(cdf.iter().all(|&c| (0.0..=1.0).contains(&c)), "{name}");
            assert_eq!(cdf[19], 1.0, "{name}");
        }
    }

    #[test]
    fn every_listed_name_resolves_and_others_do_not() {
        assert!(LATENCY_MATRIX_NAMES.iter().all(|n| latency_matrix_ms(n).is_some()));
        assert!(BANDWIDTH_NAMES.iter().all(|n| bandwidth_bps(n).is_some()));
        assert!(latency_matrix_ms("2020").is_none());
        assert!(bandwidth_bps("").is_none());
        assert!(node_share("bitcoin").is_none());
        assert!(outbound_degree_cdf("bitcoin-2019").is_none());
    }

    #[test]
    fn latency_matrices_are_symmetric_and_bandwidths_positive() {
        for name in LATENCY_MATRIX_NAMES {
            let m = latency_matrix_ms(name).expect("listed");
            for (i, row) in m.iter().enumerate() {
                for (j, &value) in row.iter().enumerate() {
                    assert_eq!(value, m[j][i], "{name} [{i}][{j}]");
                    assert!(value > 0.0);
                }
            }
        }
        for name in BANDWIDTH_NAMES {
            let (upload, download) = bandwidth_bps(name).expect("listed");
            assert!(upload.iter().chain(download.iter()).all(|&b| b > 0));
        }
    }
}
