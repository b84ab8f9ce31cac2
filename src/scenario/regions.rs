//! The scenario's regions: a built-in table named by `network.regions`, or a table of the
//! user's own in `[[network.region]]` entries (with `network.latency.matrix_ms`).
//!
//! A user table describes any network, e.g. Bitcoin in 2013, for which no built-in table
//! exists:
//!
//! ```toml
//! [[network.region]]
//! name = "north_america"
//! node_share = 0.6
//! upload_bps = 1_000_000
//! download_bps = 8_000_000
//!
//! [[network.region]]
//! name = "europe"
//! node_share = 0.4
//! upload_bps = 1_500_000
//! download_bps = 12_000_000
//!
//! [network.latency]
//! matrix_ms = [[36, 119], [119, 12]]
//! ```
//!
//! The checks: at least one region, every name given, non-empty and unique, every share a
//! finite number at least 0, the shares summing to 1 within [`SHARE_SUM_TOLERANCE`]; the
//! matrix square with one row per region, every entry a finite number above 0 and the
//! matrix symmetric (a link has one base latency both ways: the network draws it once per
//! link, so an asymmetric entry would silently never be used); every bandwidth above 0.

use super::ScenarioError;
use super::raw::{RawLatency, RawNetwork, RawRegion};
use super::validate::{Origin, quoted};
use crate::network::{SHARE_SUM_TOLERANCE, presets};

/// The regions a scenario's nodes are spread over.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct RegionTable {
    /// Region names, in table order.
    pub names: Vec<String>,
    /// Share of nodes per region, in table order.
    pub node_share: Vec<f64>,
    /// `Some` for a `[[network.region]]` table: its entries' bandwidths, in table order
    /// (`None` where an entry gives none).
    pub user_bandwidth: Option<Vec<(Option<u64>, Option<u64>)>>,
}

impl RegionTable {
    /// Whether nodes have regions (a region latency matrix and region bandwidths apply).
    pub fn regional(&self) -> bool {
        self.user_bandwidth.is_some() || self.names.len() > 1
    }

    /// Whether the table is the user's own.
    pub fn is_user(&self) -> bool {
        self.user_bandwidth.is_some()
    }

    /// How the scenario chose its regions, for messages.
    pub fn describe(&self, raw_regions: Option<&str>) -> String {
        match raw_regions {
            Some(name) if !self.is_user() => format!("network.regions = \"{name}\""),
            _ => format!("a [[network.region]] table of {} regions", self.names.len()),
        }
    }
}

/// Checks `network.regions` or `[[network.region]]` (not both) and fills the default
/// (`regions = "global"`, one region) when neither is given.
pub(super) fn validate_regions(
    network: &mut RawNetwork,
    origin: &Origin<'_>,
) -> Result<RegionTable, ScenarioError> {
    if let Some(entries) = network.region.as_ref() {
        if let Some(name) = &network.regions {
            return Err(origin.error(
                "network.regions",
                quoted(name),
                "cannot be combined with a [[network.region]] table; give one or the other",
            ));
        }
        return validate_user_regions(entries, origin);
    }
    let regions = network.regions.get_or_insert_with(|| "global".to_string()).clone();
    if regions == "global" {
        return Ok(RegionTable {
            names: vec!["global".to_string()],
            node_share: vec![1.0],
            user_bandwidth: None,
        });
    }
    let share = presets::node_share(&regions).ok_or_else(|| {
        origin.error(
            "network.regions",
            quoted(&regions),
            format!(
                "unknown region share; expected \"global\" or one of {:?}, or a [[network.region]] table",
                presets::NODE_SHARE_NAMES
            ),
        )
    })?;
    Ok(RegionTable {
        names: presets::REGION_NAMES.iter().map(|s| s.to_string()).collect(),
        node_share: share.to_vec(),
        user_bandwidth: None,
    })
}

fn validate_user_regions(
    entries: &[RawRegion],
    origin: &Origin<'_>,
) -> Result<RegionTable, ScenarioError> {
    origin.check(!entries.is_empty(), "network.region", "[]", "must list at least one region")?;
    let mut names: Vec<String> = Vec::with_capacity(entries.len());
    let mut node_share = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let field = format!("network.region[{i}].name");
        let name = entry
            .name
            .clone()
            .ok_or_else(|| origin.error(&field, "(missing)", "every region needs a name"))?;
        origin.check(!name.is_empty(), &field, "\"\"", "must not be empty")?;
        if let Some(first) = names.iter().position(|n| *n == name) {
            return Err(origin.error(
                &field,
                quoted(&name),
                format!("network.region[{first}] has the same name; names must be unique"),
            ));
        }
        names.push(name);
        let field = format!("network.region[{i}].node_share");
        let share = entry.node_share.ok_or_else(|| {
            origin.error(&field, "(missing)", "every region needs its share of the nodes")
        })?;
        origin.check(
            share.is_finite() && share >= 0.0,
            &field,
            share,
            "must be a number at least 0",
        )?;
        node_share.push(share);
    }
    let sum: f64 = node_share.iter().sum();
    origin.check(
        (sum - 1.0).abs() <= SHARE_SUM_TOLERANCE,
        "network.region.node_share",
        format!("{node_share:?}"),
        format!(
            "the regions' shares must sum to 1 (within {SHARE_SUM_TOLERANCE}); they sum to {sum:.6}"
        ),
    )?;
    let user_bandwidth = entries.iter().map(|e| (e.upload_bps, e.download_bps)).collect();
    Ok(RegionTable { names, node_share, user_bandwidth: Some(user_bandwidth) })
}

/// The region latency matrix of `network.latency.model = "regions"`: `matrix_ms` when given
/// (checked against the regions), otherwise the built-in `table` (default "2019"), which
/// only a built-in region share may use.
pub(super) fn latency_matrix(
    l: &mut RawLatency,
    regions: &RegionTable,
    origin: &Origin<'_>,
) -> Result<Vec<Vec<f64>>, ScenarioError> {
    let field = "network.latency.matrix_ms";
    if let Some(matrix) = &l.matrix_ms {
        if let Some(table) = &l.table {
            return Err(origin.error(
                "network.latency.table",
                quoted(table),
                "cannot be combined with network.latency.matrix_ms; give one or the other",
            ));
        }
        check_matrix(matrix, &regions.names, origin)?;
        return Ok(matrix.clone());
    }
    if regions.is_user() {
        if let Some(table) = &l.table {
            return Err(origin.error(
                "network.latency.table",
                quoted(table),
                "the built-in tables describe the six built-in regions; a [[network.region]] table needs network.latency.matrix_ms",
            ));
        }
        return Err(origin.error(
            field,
            "(missing)",
            format!(
                "a [[network.region]] table needs a latency matrix in ms, one row per region ({})",
                regions.names.join(", ")
            ),
        ));
    }
    let table = l.table.get_or_insert_with(|| "2019".to_string()).clone();
    let matrix = presets::latency_matrix_ms(&table).ok_or_else(|| {
        origin.error(
            "network.latency.table",
            quoted(&table),
            "expected \"2015\" or \"2019\", or a network.latency.matrix_ms",
        )
    })?;
    Ok(matrix.iter().map(|r| r.to_vec()).collect())
}

/// Square, one row per region, finite entries above 0, symmetric.
fn check_matrix(
    matrix: &[Vec<f64>],
    names: &[String],
    origin: &Origin<'_>,
) -> Result<(), ScenarioError> {
    let n = names.len();
    origin.check(
        matrix.len() == n,
        "network.latency.matrix_ms",
        format!("[{} rows]", matrix.len()),
        format!("must have one row per region, {n} ({})", names.join(", ")),
    )?;
    for (i, row) in matrix.iter().enumerate() {
        origin.check(
            row.len() == n,
            &format!("network.latency.matrix_ms[{i}]"),
            format!("{row:?}"),
            format!("must have one column per region, {n} ({})", names.join(", ")),
        )?;
        for (j, &ms) in row.iter().enumerate() {
            origin.check(
                ms.is_finite() && ms > 0.0,
                &format!("network.latency.matrix_ms[{i}][{j}]"),
                ms,
                format!("must be a latency in ms greater than 0 ({} to {})", names[i], names[j]),
            )?;
        }
    }
    for (i, row) in matrix.iter().enumerate() {
        for (j, &ms) in row.iter().enumerate().skip(i + 1) {
            let back = matrix[j][i];
            origin.check(
                ms == back,
                &format!("network.latency.matrix_ms[{i}][{j}]"),
                ms,
                format!(
                    "must equal matrix_ms[{j}][{i}] = {back}: the matrix must be symmetric, as a link has one latency both ways ({} and {})",
                    names[i], names[j]
                ),
            )?;
        }
    }
    Ok(())
}

/// The per-region `(upload, download)` bandwidths of `network.bandwidth.model = "regions"`
/// from a `[[network.region]]` table: every region must give both, above 0.
pub(super) fn user_bandwidth(
    regions: &RegionTable,
    origin: &Origin<'_>,
) -> Result<(Vec<u64>, Vec<u64>), ScenarioError> {
    let entries = regions.user_bandwidth.as_deref().unwrap_or_default();
    let mut upload = Vec::with_capacity(entries.len());
    let mut download = Vec::with_capacity(entries.len());
    for (i, &(up, down)) in entries.iter().enumerate() {
        for (key, value, out) in
            [("upload_bps", up, &mut upload), ("download_bps", down, &mut download)]
        {
            let field = format!("network.region[{i}].{key}");
            let bps = value.ok_or_else(|| {
                origin.error(
                    &field,
                    "(missing)",
                    format!(
                        "every region ({}) needs its bandwidth with network.bandwidth.model = \"regions\"",
                        regions.names[i]
                    ),
                )
            })?;
            origin.check(bps > 0, &field, bps, "must be greater than 0")?;
            out.push(bps);
        }
    }
    Ok((upload, download))
}

/// With a bandwidth model other than "regions", no region may give a bandwidth.
pub(super) fn no_user_bandwidth(
    regions: &RegionTable,
    model: &str,
    origin: &Origin<'_>,
) -> Result<(), ScenarioError> {
    let entries = regions.user_bandwidth.as_deref().unwrap_or_default();
    for (i, &(up, down)) in entries.iter().enumerate() {
        let m = "network.bandwidth.model";
        origin.absent(&format!("network.region[{i}].upload_bps"), &up, m, model)?;
        origin.absent(&format!("network.region[{i}].download_bps"), &down, m, model)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::network::BandwidthSpec;
    use crate::network::latency::LinkLatencySpec;
    use crate::scenario::{Override, Scenario, from_str};

    const TWO: &str = r#"
[network]
nodes = 20

[[network.region]]
name = "north_america"
node_share = 0.6
upload_bps = 1_000_000
download_bps = 8_000_000

[[network.region]]
name = "europe"
node_share = 0.4
upload_bps = 1_500_000
download_bps = 12_000_000

[network.latency]
matrix_ms = [[36, 119], [119, 12]]
"#;

    fn load(text: &str, set: &[&str]) -> Result<Scenario, String> {
        let overrides: Vec<Override> =
            set.iter().map(|s| Override::parse(s).expect("a valid --set")).collect();
        from_str(text, Path::new("net.toml"), &overrides, None).map_err(|e| e.to_string())
    }

    fn error(text: &str, set: &[&str]) -> String {
        load(text, set).expect_err("the scenario is invalid")
    }

    fn contains_all(message: &str, parts: &[&str]) {
        for part in parts {
            assert!(message.contains(part), "{message:?} lacks {part:?}");
        }
    }

    #[test]
    fn a_user_table_gives_the_network_its_regions_matrix_and_bandwidths() {
        let s = load(TWO, &[]).expect("valid");
        assert_eq!(s.network.region_names, ["north_america", "europe"]);
        assert_eq!(s.network.node_share, [0.6, 0.4]);
        let LinkLatencySpec::Regions { matrix_ms, .. } = &s.network.latency else {
            panic!("regions latency by default: {:?}", s.network.latency);
        };
        assert_eq!(matrix_ms, &[vec![36.0, 119.0], vec![119.0, 12.0]]);
        assert_eq!(
            s.network.bandwidth,
            BandwidthSpec::PerRegion {
                upload_bps: vec![1_000_000, 1_500_000],
                download_bps: vec![8_000_000, 12_000_000],
            }
        );
        // The resolved scenario keeps the table and adds no built-in names.
        let network = &s.resolved.network;
        assert_eq!(network.regions, None);
        assert_eq!(network.region.as_ref().map(Vec::len), Some(2));
        assert_eq!(network.latency.as_ref().and_then(|l| l.table.clone()), None);
        assert_eq!(network.bandwidth.as_ref().and_then(|b| b.table.clone()), None);
    }

    #[test]
    fn the_resolved_user_table_validates_again_to_the_same_scenario() {
        let s = load(TWO, &[]).expect("valid");
        let text = toml::to_string_pretty(&s.resolved).expect("serialisable");
        let again = load(&text, &[]).expect("the resolved scenario is valid");
        assert_eq!(again.network, s.network);
    }

    #[test]
    fn a_user_table_with_the_built_in_numbers_is_the_built_in_network() {
        use crate::network::presets;
        let mut text = String::from("[network]\nnodes = 50\n");
        for (i, name) in presets::REGION_NAMES.iter().enumerate() {
            text += &format!(
                "[[network.region]]\nname = \"{name}\"\nnode_share = {}\nupload_bps = {}\ndownload_bps = {}\n",
                presets::NODE_SHARE_BITCOIN_2015[i],
                presets::UPLOAD_BPS_2015[i],
                presets::DOWNLOAD_BPS_2015[i],
            );
        }
        let rows: Vec<String> =
            presets::LATENCY_MS_2015.iter().map(|row| format!("{row:?}")).collect();
        text += &format!("[network.latency]\nmatrix_ms = [{}]\n", rows.join(", "));
        let user = load(&text, &[]).expect("valid");
        let built_in = "[network]\nnodes = 50\nregions = \"bitcoin-2015\"\n[network.latency]\ntable = \"2015\"\n[network.bandwidth]\ntable = \"2015\"\n";
        let built_in = load(built_in, &[]).expect("valid");
        assert_eq!(user.network, built_in.network);
    }

    #[test]
    fn a_single_region_table_is_allowed() {
        let text = r#"
[network]
nodes = 10
[[network.region]]
name = "everywhere"
node_share = 1.0
upload_bps = 2_000_000
download_bps = 2_000_000
[network.latency]
matrix_ms = [[80]]
"#;
        let s = load(text, &[]).expect("valid");
        assert_eq!(s.network.region_names, ["everywhere"]);
    }

    #[test]
    fn a_matrix_may_replace_the_built_in_table_of_the_built_in_regions() {
        let row = "[50, 50, 50, 50, 50, 50]";
        let matrix = format!("[{}]", [row; 6].join(", "));
        let text = format!(
            "[network]\nnodes = 30\nregions = \"bitcoin-2019\"\n[network.latency]\nmatrix_ms = {matrix}\n"
        );
        let s = load(&text, &[]).expect("valid");
        let LinkLatencySpec::Regions { matrix_ms, .. } = &s.network.latency else {
            panic!("regions latency");
        };
        assert!(matrix_ms.iter().flatten().all(|&ms| ms == 50.0));
        let five = format!("[{}]", [row; 5].join(", "));
        contains_all(
            &error(&text.replace(&matrix, &five), &[]),
            &["net.toml", "network.latency.matrix_ms", "[5 rows]", "one row per region, 6"],
        );
    }

    #[test]
    fn shares_must_sum_to_one_within_the_tolerance() {
        contains_all(
            &error(TWO, &["network.region[1].node_share=0.3"]),
            &["network.region.node_share", "[0.6, 0.3]", "sum to 1 (within 0.001)", "0.9"],
        );
        // Rounded tables pass.
        load(TWO, &["network.region[1].node_share=0.4009"]).expect("within the tolerance");
        contains_all(
            &error(TWO, &["network.region[0].node_share=-0.1"]),
            &["network.region[0].node_share", "-0.1", "at least 0"],
        );
    }

    #[test]
    fn names_must_be_given_and_unique() {
        contains_all(
            &error(TWO, &["network.region[1].name=\"north_america\""]),
            &["network.region[1].name", "\"north_america\"", "network.region[0]", "unique"],
        );
        contains_all(
            &error(&TWO.replace("name = \"europe\"\n", ""), &[]),
            &["network.region[1].name", "(missing)"],
        );
        contains_all(
            &error(TWO, &["network.region[0].name=\"\""]),
            &["network.region[0].name", "must not be empty"],
        );
        contains_all(&error(TWO, &["network.region=[]"]), &["network.region", "at least one"]);
    }

    #[test]
    fn the_matrix_must_be_square_positive_and_symmetric() {
        contains_all(
            &error(TWO, &["network.latency.matrix_ms=[[36, 119]]"]),
            &["--set network.latency.matrix_ms", "[1 rows]", "one row per region, 2"],
        );
        contains_all(
            &error(TWO, &["network.latency.matrix_ms=[[36, 119], [119]]"]),
            &["network.latency.matrix_ms[1]", "[119.0]", "one column per region"],
        );
        contains_all(
            &error(TWO, &["network.latency.matrix_ms=[[36, 119], [119, 0]]"]),
            &["network.latency.matrix_ms[1][1]", "= 0", "greater than 0", "europe to europe"],
        );
        contains_all(
            &error(TWO, &["network.latency.matrix_ms=[[36, 119], [120, 12]]"]),
            &["network.latency.matrix_ms[0][1]", "= 119", "matrix_ms[1][0] = 120", "symmetric"],
        );
        contains_all(
            &error(&TWO.replace("matrix_ms = [[36, 119], [119, 12]]", ""), &[]),
            &["network.latency.matrix_ms", "(missing)", "north_america, europe"],
        );
    }

    #[test]
    fn built_in_tables_and_names_do_not_mix_with_a_user_table() {
        contains_all(
            &error(TWO, &["network.regions=\"bitcoin-2015\""]),
            &["network.regions", "\"bitcoin-2015\"", "one or the other"],
        );
        contains_all(
            &error(TWO, &["network.latency.table=\"2015\""]),
            &["network.latency.table", "\"2015\"", "matrix_ms"],
        );
        contains_all(
            &error(TWO, &["network.bandwidth.table=\"2015\""]),
            &["network.bandwidth.table", "\"2015\"", "[[network.region]]"],
        );
        contains_all(
            &error(TWO, &["network.regions=\"bitcoin-2020\"", "network.region=[]"]),
            &["network.regions", "one or the other"],
        );
    }

    #[test]
    fn bandwidths_are_needed_above_zero_and_only_with_the_regions_model() {
        contains_all(
            &error(TWO, &["network.region[1].upload_bps=0"]),
            &["network.region[1].upload_bps", "= 0", "greater than 0"],
        );
        contains_all(
            &error(&TWO.replace("download_bps = 12_000_000\n", ""), &[]),
            &["network.region[1].download_bps", "(missing)", "europe"],
        );
        contains_all(
            &error(TWO, &["network.bandwidth.model=\"constant\""]),
            &["network.region[0].upload_bps", "does not apply", "constant"],
        );
    }

    #[test]
    fn unknown_region_names_and_fields_are_rejected() {
        let with_attacker = format!("{TWO}\n[[timeline]]\nat_s = 10\nleave = [\"asia\"]\n");
        let message = error(&with_attacker, &[]);
        contains_all(&message, &["\"asia\"", "north_america, europe"]);
        contains_all(
            &error(TWO, &["network.region[0].share=0.5"]),
            &["network.region", "unknown field `share`"],
        );
    }
}
