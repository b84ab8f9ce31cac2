//! Where the page draws each node, computed here rather than in the browser so that the
//! picture is the same on every machine and part of the bytes `forksim replay` checks.
//!
//! A small network sits on one circle. A larger one is drawn as clusters, one per region:
//! regions with the names of the measured presets sit roughly where they are on a world
//! map, other regions around an ellipse. Inside a cluster nodes follow a sunflower spiral
//! (golden-angle steps, radius growing with the square root of the index), which packs any
//! number of nodes evenly without a force simulation. Coordinates are whole units of a
//! fixed 1000 x 600 drawing.

use crate::id::NodeId;
use crate::network::Network;

/// Width of the drawing, in page units.
pub(super) const WIDTH: i32 = 1000;
/// Height of the drawing, in page units.
pub(super) const HEIGHT: i32 = 600;
/// Networks up to this size with one region sit on a circle.
const CIRCLE_MAX_NODES: usize = 40;
/// Largest radius of a region's cluster.
const CLUSTER_RADIUS_MAX: f64 = 120.0;
/// The golden angle, in radians: successive nodes of a spiral never line up.
const GOLDEN_ANGLE: f64 = 2.399_963_229_728_653;

/// Rough map positions of the regions of the measured presets.
const WORLD: [(&str, f64, f64); 6] = [
    ("north_america", 215.0, 215.0),
    ("south_america", 330.0, 500.0),
    ("europe", 520.0, 190.0),
    ("asia_pacific", 745.0, 370.0),
    ("japan", 885.0, 200.0),
    ("australia", 870.0, 520.0),
];

/// Node positions and region labels.
pub(super) struct NodeLayout {
    /// x of each node.
    pub(super) x: Vec<i32>,
    /// y of each node.
    pub(super) y: Vec<i32>,
    /// Radius of a node's dot.
    pub(super) radius: i32,
    /// (name, x, y) of each region label; none when the network has one region.
    pub(super) regions: Vec<(String, i32, i32)>,
}

/// Lays out the nodes of `network`.
pub(super) fn layout(network: &Network) -> NodeLayout {
    let n = network.node_count() as usize;
    let names = network.region_names();
    let regions_n = names.len().max(1);
    let mut members: Vec<Vec<NodeId>> = vec![Vec::new(); regions_n];
    for node in NodeId::all(network.node_count()) {
        members[network.region_of(node).min(regions_n - 1)].push(node);
    }
    let used = members.iter().filter(|m| !m.is_empty()).count();
    let (mut x, mut y) = (vec![0i32; n], vec![0i32; n]);
    let (cx, cy) = (f64::from(WIDTH) / 2.0, f64::from(HEIGHT) / 2.0);
    if used <= 1 && n <= CIRCLE_MAX_NODES {
        let r = f64::from(HEIGHT) / 2.0 - 60.0;
        for node in 0..n {
            // Clockwise from the top.
            let a = std::f64::consts::TAU * node as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
            x[node] = round(cx + r * libm::cos(a));
            y[node] = round(cy + r * libm::sin(a));
        }
        let gap = std::f64::consts::TAU * r / n as f64;
        return NodeLayout { x, y, radius: (gap * 0.3).clamp(4.0, 24.0) as i32, regions: vec![] };
    }
    let largest = members.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let cluster_max = if used <= 1 { f64::from(HEIGHT) / 2.0 - 40.0 } else { CLUSTER_RADIUS_MAX };
    let step = (cluster_max / libm::sqrt(largest as f64)).min(16.0);
    let mut regions = Vec::new();
    for (r, nodes) in members.iter().enumerate() {
        if nodes.is_empty() {
            continue;
        }
        let name = names.get(r).map_or("", String::as_str);
        let (rx, ry) = if used <= 1 {
            (cx, cy)
        } else {
            WORLD.iter().find(|w| w.0 == name).map_or_else(
                || {
                    let a = std::f64::consts::TAU * r as f64 / names.len() as f64
                        - std::f64::consts::FRAC_PI_2;
                    (cx + 360.0 * libm::cos(a), cy + 200.0 * libm::sin(a))
                },
                |w| (w.1, w.2),
            )
        };
        for (i, &node) in nodes.iter().enumerate() {
            let radius = step * libm::sqrt(i as f64 + 0.5);
            let a = GOLDEN_ANGLE * i as f64;
            x[node.index()] = round(rx + radius * libm::cos(a));
            y[node.index()] = round(ry + radius * libm::sin(a));
        }
        if used > 1 {
            let top = ry - step * libm::sqrt(nodes.len() as f64) - 14.0;
            regions.push((name.replace('_', " "), round(rx), round(top)));
        }
    }
    NodeLayout { x, y, radius: (step * 0.38).clamp(2.0, 9.0) as i32, regions }
}

fn round(v: f64) -> i32 {
    libm::round(v) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::RngStreams;

    fn network(nodes: u32, regions: &str) -> Network {
        let text = format!(
            "[run]\nblocks = 1\n[network]\nnodes = {nodes}\nregions = \"{regions}\"\n\
             [network.topology]\nkind = \"complete\"\n"
        );
        let scenario =
            crate::scenario::from_str(&text, std::path::Path::new("t.toml"), &[], None).unwrap();
        Network::build(&scenario.network, &RngStreams::new(1)).unwrap()
    }

    #[test]
    fn nodes_stay_inside_the_drawing_and_do_not_overlap() {
        for (nodes, regions) in [(5, "global"), (100, "bitcoin-2019"), (1000, "bitcoin-2019")] {
            let net = network(nodes, regions);
            let l = layout(&net);
            let n = nodes as usize;
            for i in 0..n {
                assert!((0..=WIDTH).contains(&l.x[i]) && (0..=HEIGHT).contains(&l.y[i]));
            }
            let mut closest = i64::MAX;
            for i in 0..n {
                for j in i + 1..n {
                    let (dx, dy) = (i64::from(l.x[i] - l.x[j]), i64::from(l.y[i] - l.y[j]));
                    closest = closest.min(dx * dx + dy * dy);
                }
            }
            let r = i64::from(l.radius);
            assert!(closest >= r * r, "{nodes} nodes: two nodes closer than a radius");
            assert_eq!(l.regions.is_empty(), regions == "global", "{nodes} nodes");
        }
    }
}
