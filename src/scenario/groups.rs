//! `[[network.group]]`: checking node groups with their own network attributes.
//!
//! Members are named by role ("miners", "attackers") or listed by index or name; roles are
//! resolved when the world is built, once hash shares and attackers are known.

use super::ScenarioError;
use super::attack::Names;
use super::raw::RawGroup;
use super::validate::{Origin, quoted};
use crate::id::NodeId;
use crate::time::SimDuration;

/// Who belongs to a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Members {
    /// Every node with hash power.
    Miners,
    /// Every attacker node.
    Attackers,
    /// These nodes.
    Nodes(Vec<NodeId>),
}

/// How many extra peers each member links to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExtraLinks {
    /// This many.
    Count(u32),
    /// This share of all nodes.
    Share(f64),
    /// As many as bring each member to at least this many peers in all.
    UpTo(u32),
}

/// A checked `[[network.group]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSpec {
    /// Its members.
    pub members: Members,
    /// Upload bandwidth of every member, bit/s.
    pub upload_bps: Option<u64>,
    /// Download bandwidth of every member, bit/s.
    pub download_bps: Option<u64>,
    /// Link every pair of members.
    pub mesh: bool,
    /// Latency of the mesh links.
    pub mesh_latency: Option<SimDuration>,
    /// Bandwidth of each mesh link of its own, bit/s.
    pub mesh_bandwidth_bps: Option<u64>,
    /// Extra peers per member.
    pub extra: ExtraLinks,
    /// At most this many peers per member, if capped.
    pub peers_max: Option<u32>,
    /// The region the members sit in (an index into the scenario's regions).
    pub region: Option<u32>,
}

/// Checks every group.
pub(super) fn validate_groups(
    raw: &[RawGroup],
    names: &Names<'_>,
    origin: &Origin<'_>,
) -> Result<Vec<GroupSpec>, ScenarioError> {
    raw.iter().enumerate().map(|(i, g)| validate_group(i, g, names, origin)).collect()
}

fn validate_group(
    i: usize,
    g: &RawGroup,
    names: &Names<'_>,
    origin: &Origin<'_>,
) -> Result<GroupSpec, ScenarioError> {
    let field = |name: &str| format!("network.group[{i}].{name}");
    let nodes_field = field("nodes");
    let members = match &g.nodes {
        None => {
            return Err(origin.error(
                &nodes_field,
                "(missing)",
                "name the members: \"miners\", \"attackers\" or a list of node indices or names",
            ));
        }
        Some(toml::Value::String(s)) if s == "miners" => Members::Miners,
        Some(toml::Value::String(s)) if s == "attackers" => Members::Attackers,
        Some(toml::Value::String(s)) => {
            return Err(origin.error(
                &nodes_field,
                quoted(s),
                "expected \"miners\", \"attackers\" or a list of node indices or names",
            ));
        }
        Some(toml::Value::Array(list)) => {
            let mut nodes = list
                .iter()
                .enumerate()
                .map(|(k, v)| names.node(v, &format!("{nodes_field}[{k}]"), origin))
                .collect::<Result<Vec<NodeId>, _>>()?;
            nodes.sort_unstable();
            nodes.dedup();
            origin.check(!nodes.is_empty(), &nodes_field, "[]", "a group needs a member")?;
            Members::Nodes(nodes)
        }
        Some(other) => {
            return Err(origin.error(
                &nodes_field,
                other,
                "expected \"miners\", \"attackers\" or a list of node indices or names",
            ));
        }
    };
    for (name, value) in [("upload_bps", g.upload_bps), ("download_bps", g.download_bps)] {
        if let Some(v) = value {
            origin.check(v > 0, &field(name), v, "must be greater than 0")?;
        }
    }
    let mesh = g.mesh.unwrap_or(false);
    let mesh_latency = match g.mesh_latency_ms {
        None => None,
        Some(ms) => {
            origin.check(
                mesh,
                &field("mesh_latency_ms"),
                ms,
                "applies to mesh links only; set mesh = true",
            )?;
            Some(SimDuration::from_millis_f64(origin.non_negative(&field("mesh_latency_ms"), ms)?))
        }
    };
    if let Some(bps) = g.mesh_bandwidth_bps {
        let f = field("mesh_bandwidth_bps");
        origin.check(mesh, &f, bps, "applies to mesh links only; set mesh = true")?;
        origin.check(bps > 0, &f, bps, "must be greater than 0")?;
    }
    // Node names are checked to be one per node, and there are at least 2 nodes.
    let nodes = names.nodes.len() as u32;
    let one_of = "give one of extra_links, link_share and peers_min";
    let extra = match (g.extra_links, g.link_share, g.peers_min) {
        (Some(_), Some(share), _) => return Err(origin.error(&field("link_share"), share, one_of)),
        (Some(_), None, Some(min)) | (None, Some(_), Some(min)) => {
            return Err(origin.error(&field("peers_min"), min, one_of));
        }
        (Some(count), None, None) => {
            ExtraLinks::Count(origin.peer_count(&field("extra_links"), count, nodes)?)
        }
        (None, Some(share), None) => {
            ExtraLinks::Share(origin.probability(&field("link_share"), share)?)
        }
        (None, None, Some(min)) => {
            origin.check(min > 0, &field("peers_min"), min, "must be greater than 0")?;
            ExtraLinks::UpTo(origin.peer_count(&field("peers_min"), min, nodes)?)
        }
        (None, None, None) => ExtraLinks::Count(0),
    };
    let peers_max = match g.peers_max {
        None => None,
        Some(max) => {
            let f = field("peers_max");
            origin.check(max > 0, &f, max, "must be greater than 0")?;
            let max = origin.peer_count(&f, max, nodes)?;
            if let ExtraLinks::UpTo(min) = extra {
                origin.check(max >= min, &f, max, format!("must be at least peers_min = {min}"))?;
            }
            Some(max)
        }
    };
    let region = match &g.region {
        None => None,
        Some(name) => {
            let f = field("region");
            origin.check(
                names.regions.len() > 1,
                &f,
                quoted(name),
                "the network has no regions; give network.regions or [[network.region]]",
            )?;
            let index = names.regions.iter().position(|r| r == name).ok_or_else(|| {
                origin.error(
                    &f,
                    quoted(name),
                    format!("no region of that name (regions: {})", names.regions.join(", ")),
                )
            })?;
            Some(index as u32)
        }
    };
    Ok(GroupSpec {
        members,
        upload_bps: g.upload_bps,
        download_bps: g.download_bps,
        mesh,
        mesh_latency,
        mesh_bandwidth_bps: g.mesh_bandwidth_bps,
        extra,
        peers_max,
        region,
    })
}
