//! Peer graphs: who is connected to whom.
//!
//! The propagation of a block depends on the shape of the peer graph as much as on latency, so
//! the simulator offers the usual families (Bitcoin-like random with inbound limits,
//! Watts–Strogatz small world, Barabási–Albert scale free, complete, explicit edge list) and
//! builds them itself from the run's seeded stream: petgraph has no stable generators, and the
//! order of every random draw here is part of the determinism contract.
//!
//! Every builder checks its parameters before drawing anything, never creates self-loops or
//! duplicate edges, and rejects a disconnected result with the number of components and a node
//! of the smallest one, because a partitioned network silently turns every metric into nonsense.
//! Intentional partitions are a fault to inject later, not a topology.

use petgraph::graph::{NodeIndex, UnGraph};
use thiserror::Error;

use crate::rng::{SimRng, below, from_cdf, uniform01};

/// How many random candidates a builder tries before it falls back to a scan of all eligible
/// nodes. Rejection is fast while most nodes are eligible; the scan keeps the worst case bounded
/// when few are.
const REJECTION_TRIES: u32 = 64;

/// How far below 1 the last entry of a degree CDF may be (float noise in a hand-written table).
const CDF_END_TOLERANCE: f64 = 1e-9;

/// How many outbound connections each node of a [`TopologySpec::Random`] graph opens.
#[derive(Clone, Debug, PartialEq)]
pub enum OutboundDegree {
    /// Every node opens exactly this many.
    Fixed(u32),
    /// Each node draws its degree from this CDF: entry `i` is P(degree <= i + 1).
    Cdf(Vec<f64>),
}

/// The shape of the peer graph.
#[derive(Clone, Debug, PartialEq)]
pub enum TopologySpec {
    /// Bitcoin-like: each node opens `outbound` connections to uniformly chosen distinct peers
    /// that still have inbound slots (`inbound_max`); connections are undirected once made.
    Random {
        /// Outbound connections per node.
        outbound: OutboundDegree,
        /// The most connections a node accepts from others.
        inbound_max: u32,
    },
    /// Watts–Strogatz: ring lattice with `neighbors` (even) nearest neighbours, each edge rewired
    /// with `rewire_probability` (no self loops / duplicates).
    SmallWorld {
        /// Lattice degree: each node links to `neighbors / 2` nodes on either side.
        neighbors: u32,
        /// Probability that a lattice edge gets a new, uniformly chosen far end.
        rewire_probability: f64,
    },
    /// Barabási–Albert preferential attachment, each new node attaching `attach` edges (start
    /// from a small complete core of `attach + 1` nodes).
    ScaleFree {
        /// Edges each new node attaches to existing nodes.
        attach: u32,
    },
    /// Every node linked to every other.
    Complete,
    /// Explicit undirected edge list over node indices `0..n`.
    Edges(Vec<(u32, u32)>),
}

/// Why a topology cannot be built.
#[derive(Clone, Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum TopologyError {
    /// A network needs at least two nodes (and fewer than `u32::MAX`).
    #[error("a network needs at least 2 nodes and fewer than {}, got {nodes}", u32::MAX)]
    NodeCount {
        /// The requested node count.
        nodes: u32,
    },
    /// An outbound degree of zero would leave nodes without peers of their own.
    #[error("outbound degree must be at least 1, got 0")]
    ZeroOutbound,
    /// A node cannot open more connections than there are other nodes.
    #[error(
        "outbound degree {outbound} is impossible with {nodes} nodes (a node has at most {} peers)",
        nodes.saturating_sub(1)
    )]
    OutboundTooLarge {
        /// The (largest possible) outbound degree.
        outbound: u32,
        /// The node count.
        nodes: u32,
    },
    /// The outbound-degree CDF is not a CDF.
    #[error(
        "outbound degree cdf must be non-empty, with entries in [0, 1], non-decreasing and ending at 1: entry {index} is {value}"
    )]
    InvalidDegreeCdf {
        /// The first offending entry (0 for an empty CDF).
        index: usize,
        /// Its value (NaN for an empty CDF).
        value: f64,
    },
    /// All inbound slots together cannot absorb the outbound connections.
    #[error(
        "{nodes} nodes with inbound_max {inbound_max} accept at most {} connections, but the nodes open {demand}",
        *nodes as u64 * *inbound_max as u64
    )]
    InboundCapacity {
        /// The node count.
        nodes: u32,
        /// Inbound slots per node.
        inbound_max: u32,
        /// Total outbound connections wanted.
        demand: u64,
    },
    /// While building, a node found no peer with a free inbound slot that it is not yet linked to.
    #[error(
        "node {node} found no peer it is not already linked to with a free inbound slot after opening {opened} of its {wanted} outbound connections (in a small network every other node may already be its peer: lower `outbound`, raise `inbound_max` or use kind = \"complete\")"
    )]
    NoPeerAvailable {
        /// The node that could not connect.
        node: u32,
        /// Connections it had opened.
        opened: u32,
        /// Connections it wanted.
        wanted: u32,
    },
    /// A small-world lattice needs an even, non-zero neighbour count below the node count.
    #[error(
        "small-world neighbors must be even, at least 2 and below the node count: got {neighbors} with {nodes} nodes"
    )]
    SmallWorldNeighbors {
        /// The requested lattice degree.
        neighbors: u32,
        /// The node count.
        nodes: u32,
    },
    /// The rewiring probability is not a probability.
    #[error("small-world rewire probability must be in [0, 1], got {value}")]
    RewireProbability {
        /// The requested probability.
        value: f64,
    },
    /// Preferential attachment needs `1 <= attach < nodes`.
    #[error(
        "scale-free attach must be at least 1 and below the node count: got {attach} with {nodes} nodes"
    )]
    ScaleFreeAttach {
        /// The requested edges per new node.
        attach: u32,
        /// The node count.
        nodes: u32,
    },
    /// A complete graph this large does not fit the graph's edge index.
    #[error("a complete graph of {nodes} nodes has {edges} edges, more than the {} supported", u32::MAX - 1)]
    TooManyEdges {
        /// The node count.
        nodes: u32,
        /// The edges it would need.
        edges: u64,
    },
    /// An explicit edge names a node that does not exist.
    #[error("edge {index} ({source_node}, {target_node}) names a node >= the node count {nodes}")]
    EdgeNodeOutOfRange {
        /// Position of the edge in the list.
        index: usize,
        /// One end.
        source_node: u32,
        /// The other end.
        target_node: u32,
        /// The node count.
        nodes: u32,
    },
    /// An explicit edge links a node to itself.
    #[error("edge {index} is a self-loop on node {node}")]
    SelfLoop {
        /// Position of the edge in the list.
        index: usize,
        /// The node.
        node: u32,
    },
    /// An explicit edge appears twice (in either direction).
    #[error("edge {index} ({source_node}, {target_node}) duplicates an earlier edge")]
    DuplicateEdge {
        /// Position of the second occurrence in the list.
        index: usize,
        /// One end.
        source_node: u32,
        /// The other end.
        target_node: u32,
    },
    /// The graph falls apart into several pieces.
    #[error(
        "topology is disconnected: {components} components, the smallest has {smallest_size} nodes (one of them is node {smallest_node})"
    )]
    Disconnected {
        /// Number of connected components.
        components: u32,
        /// Node count of the smallest component.
        smallest_size: u32,
        /// The lowest node id in that component.
        smallest_node: u32,
    },
}

/// Builds the peer graph of `nodes` nodes described by `spec`, drawing from `rng` only.
///
/// Node `i` of the graph is simulator node `i`. Draws happen in a fixed order (documented per
/// builder below), so the same stream state gives the same graph. Edge order in the returned
/// graph is deterministic too: for [`TopologySpec::Random`] edges appear in the order they were
/// opened, each with the node that opened it as its source; for [`TopologySpec::Edges`] in list
/// order; for the others sorted by `(lower id, higher id)`.
///
/// Draw order:
/// - `Random`: (for `Cdf`) one degree per node in id order, then for each node in id order and
///   each of its outbound slots, candidate draws until one is accepted.
/// - `SmallWorld`: for `j` in `1..=neighbors/2`, for each node `i` in order, one coin, and if it
///   rewires, candidate draws for the new far end of edge `(i, i + j)`.
/// - `ScaleFree`: for each new node in order, candidate draws for its `attach` targets.
/// - `Complete`, `Edges`: no draws.
///
/// # Errors
///
/// Returns a [`TopologyError`] for impossible parameters (checked before any draw where the
/// parameters alone decide it), when a random builder runs out of eligible peers, or when the
/// result is disconnected.
pub fn build_topology(
    nodes: u32,
    spec: &TopologySpec,
    rng: &mut SimRng,
) -> Result<UnGraph<(), ()>, TopologyError> {
    if nodes < 2 || nodes == u32::MAX {
        return Err(TopologyError::NodeCount { nodes });
    }
    let edges = match spec {
        TopologySpec::Random { outbound, inbound_max } => {
            random_outbound_edges(nodes, outbound, *inbound_max, rng)?
        }
        TopologySpec::SmallWorld { neighbors, rewire_probability } => {
            small_world_edges(nodes, *neighbors, *rewire_probability, rng)?
        }
        TopologySpec::ScaleFree { attach } => scale_free_edges(nodes, *attach, rng)?,
        TopologySpec::Complete => complete_edges(nodes)?,
        TopologySpec::Edges(list) => {
            check_edge_list(nodes, list)?;
            list.clone()
        }
    };
    check_connected(nodes, &edges)?;
    let mut graph = UnGraph::with_capacity(nodes as usize, edges.len());
    for _ in 0..nodes {
        graph.add_node(());
    }
    for &(a, b) in &edges {
        graph.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), ());
    }
    Ok(graph)
}

/// Per-node neighbour lists used while building; degrees are small, so a linear `contains` is
/// faster than any set.
struct Adjacency {
    neighbors: Vec<Vec<u32>>,
}

impl Adjacency {
    fn new(nodes: u32) -> Self {
        Adjacency { neighbors: vec![Vec::new(); nodes as usize] }
    }

    fn linked(&self, a: u32, b: u32) -> bool {
        // Scan the shorter list.
        let (x, y) = if self.neighbors[a as usize].len() <= self.neighbors[b as usize].len() {
            (a, b)
        } else {
            (b, a)
        };
        self.neighbors[x as usize].contains(&y)
    }

    fn link(&mut self, a: u32, b: u32) {
        self.neighbors[a as usize].push(b);
        self.neighbors[b as usize].push(a);
    }

    fn unlink(&mut self, a: u32, b: u32) {
        for (x, y) in [(a, b), (b, a)] {
            let list = &mut self.neighbors[x as usize];
            if let Some(pos) = list.iter().position(|&n| n == y) {
                list.swap_remove(pos);
            }
        }
    }

    fn degree(&self, a: u32) -> usize {
        self.neighbors[a as usize].len()
    }

    /// All edges as `(lower, higher)`, sorted.
    fn sorted_edges(mut self) -> Vec<(u32, u32)> {
        let mut edges = Vec::new();
        for (a, list) in self.neighbors.iter_mut().enumerate() {
            list.sort_unstable();
            let a = a as u32;
            edges.extend(list.iter().filter(|&&b| b > a).map(|&b| (a, b)));
        }
        edges
    }
}

/// Picks a node in `0..nodes` satisfying `eligible`: first by rejection sampling, then, if that
/// keeps failing, uniformly among all eligible nodes found by a scan in id order. Returns `None`
/// when no node is eligible.
fn pick_eligible(rng: &mut SimRng, nodes: u32, eligible: impl Fn(u32) -> bool) -> Option<u32> {
    for _ in 0..REJECTION_TRIES {
        let candidate = below(rng, nodes as u64) as u32;
        if eligible(candidate) {
            return Some(candidate);
        }
    }
    let pool: Vec<u32> = (0..nodes).filter(|&n| eligible(n)).collect();
    if pool.is_empty() { None } else { Some(pool[below(rng, pool.len() as u64) as usize]) }
}

/// Checks a degree CDF and returns the largest degree it can produce.
fn cdf_max_degree(cdf: &[f64]) -> Result<u32, TopologyError> {
    let Some(&last) = cdf.last() else {
        return Err(TopologyError::InvalidDegreeCdf { index: 0, value: f64::NAN });
    };
    let mut previous = 0.0;
    for (index, &value) in cdf.iter().enumerate() {
        if !(value.is_finite() && (0.0..=1.0).contains(&value) && value >= previous) {
            return Err(TopologyError::InvalidDegreeCdf { index, value });
        }
        previous = value;
    }
    if last < 1.0 - CDF_END_TOLERANCE {
        return Err(TopologyError::InvalidDegreeCdf { index: cdf.len() - 1, value: last });
    }
    // `from_cdf` returns the first index whose entry exceeds a draw in [0, 1), so it never goes
    // past the first entry that reaches 1 (and falls back to the last entry otherwise).
    let max_index = cdf.iter().position(|&c| c >= 1.0).unwrap_or(cdf.len() - 1);
    Ok(u32::try_from(max_index + 1).unwrap_or(u32::MAX))
}

/// Draws each node's outbound degree, in node order.
fn draw_outbound_degrees(
    nodes: u32,
    outbound: &OutboundDegree,
    rng: &mut SimRng,
) -> Result<Vec<u32>, TopologyError> {
    let max_degree = match outbound {
        OutboundDegree::Fixed(d) => *d,
        OutboundDegree::Cdf(cdf) => cdf_max_degree(cdf)?,
    };
    if max_degree == 0 {
        return Err(TopologyError::ZeroOutbound);
    }
    if max_degree >= nodes {
        return Err(TopologyError::OutboundTooLarge { outbound: max_degree, nodes });
    }
    Ok(match outbound {
        OutboundDegree::Fixed(d) => vec![*d; nodes as usize],
        OutboundDegree::Cdf(cdf) => (0..nodes).map(|_| from_cdf(rng, cdf) as u32 + 1).collect(),
    })
}

/// The Bitcoin-like builder. Returns `(opener, peer)` pairs in the order they were opened.
fn random_outbound_edges(
    nodes: u32,
    outbound: &OutboundDegree,
    inbound_max: u32,
    rng: &mut SimRng,
) -> Result<Vec<(u32, u32)>, TopologyError> {
    let degrees = draw_outbound_degrees(nodes, outbound, rng)?;
    let demand: u64 = degrees.iter().map(|&d| d as u64).sum();
    if demand > nodes as u64 * inbound_max as u64 {
        return Err(TopologyError::InboundCapacity { nodes, inbound_max, demand });
    }
    let mut adjacency = Adjacency::new(nodes);
    let mut inbound = vec![0u32; nodes as usize];
    let mut edges = Vec::with_capacity(demand as usize);
    for (node, &wanted) in (0..nodes).zip(&degrees) {
        for opened in 0..wanted {
            let peer = pick_eligible(rng, nodes, |c| {
                c != node && inbound[c as usize] < inbound_max && !adjacency.linked(node, c)
            })
            .ok_or(TopologyError::NoPeerAvailable { node, opened, wanted })?;
            adjacency.link(node, peer);
            inbound[peer as usize] += 1;
            edges.push((node, peer));
        }
    }
    Ok(edges)
}

/// The Watts–Strogatz builder. Returns sorted `(lower, higher)` edges.
fn small_world_edges(
    nodes: u32,
    neighbors: u32,
    rewire_probability: f64,
    rng: &mut SimRng,
) -> Result<Vec<(u32, u32)>, TopologyError> {
    if neighbors == 0 || neighbors % 2 == 1 || neighbors >= nodes {
        return Err(TopologyError::SmallWorldNeighbors { neighbors, nodes });
    }
    if !(0.0..=1.0).contains(&rewire_probability) {
        return Err(TopologyError::RewireProbability { value: rewire_probability });
    }
    let half = neighbors / 2;
    let mut adjacency = Adjacency::new(nodes);
    for i in 0..nodes {
        for j in 1..=half {
            adjacency.link(i, (i + j) % nodes);
        }
    }
    if rewire_probability > 0.0 {
        let full_degree = nodes as usize - 1;
        for j in 1..=half {
            for i in 0..nodes {
                if uniform01(rng) >= rewire_probability || adjacency.degree(i) >= full_degree {
                    continue;
                }
                let old = (i + j) % nodes;
                let new = pick_eligible(rng, nodes, |c| c != i && !adjacency.linked(i, c))
                    .expect("a node below full degree has a node it is not linked to");
                adjacency.unlink(i, old);
                adjacency.link(i, new);
            }
        }
    }
    Ok(adjacency.sorted_edges())
}

/// The Barabási–Albert builder. Returns sorted `(lower, higher)` edges.
fn scale_free_edges(
    nodes: u32,
    attach: u32,
    rng: &mut SimRng,
) -> Result<Vec<(u32, u32)>, TopologyError> {
    if attach == 0 || attach >= nodes {
        return Err(TopologyError::ScaleFreeAttach { attach, nodes });
    }
    let core = attach + 1;
    let mut adjacency = Adjacency::new(nodes);
    // Every edge end, once per edge: a uniform pick from it is a degree-proportional pick.
    let mut ends: Vec<u32> = Vec::with_capacity(2 * attach as usize * nodes as usize);
    for a in 0..core {
        for b in (a + 1)..core {
            adjacency.link(a, b);
            ends.push(a);
            ends.push(b);
        }
    }
    let mut chosen: Vec<u32> = Vec::with_capacity(attach as usize);
    for node in core..nodes {
        chosen.clear();
        while chosen.len() < attach as usize {
            chosen.push(pick_by_degree(rng, &ends, &adjacency, node, &chosen));
        }
        for &target in &chosen {
            adjacency.link(node, target);
            ends.push(node);
            ends.push(target);
        }
    }
    Ok(adjacency.sorted_edges())
}

/// Picks an existing node (id below `node`) not in `chosen`, with probability proportional to
/// its degree: rejection from the edge-end list first, then a weighted scan.
fn pick_by_degree(
    rng: &mut SimRng,
    ends: &[u32],
    adjacency: &Adjacency,
    node: u32,
    chosen: &[u32],
) -> u32 {
    for _ in 0..REJECTION_TRIES {
        let candidate = ends[below(rng, ends.len() as u64) as usize];
        if !chosen.contains(&candidate) {
            return candidate;
        }
    }
    let weight = |c: u32| {
        if chosen.contains(&c) { 0 } else { adjacency.degree(c) as u64 }
    };
    let total: u64 = (0..node).map(weight).sum();
    // The core is complete with attach + 1 nodes of positive degree, and fewer than attach are
    // chosen, so some unchosen node has positive weight.
    let mut remaining = below(rng, total.max(1));
    for c in 0..node {
        let w = weight(c);
        if remaining < w {
            return c;
        }
        remaining -= w;
    }
    unreachable!("the weighted scan covers the whole total")
}

/// All pairs, sorted.
fn complete_edges(nodes: u32) -> Result<Vec<(u32, u32)>, TopologyError> {
    let edges = nodes as u64 * (nodes as u64 - 1) / 2;
    if edges >= u32::MAX as u64 {
        return Err(TopologyError::TooManyEdges { nodes, edges });
    }
    let mut list = Vec::with_capacity(edges as usize);
    for a in 0..nodes {
        list.extend(((a + 1)..nodes).map(|b| (a, b)));
    }
    Ok(list)
}

/// Checks an explicit edge list for range errors, self-loops and duplicates.
fn check_edge_list(nodes: u32, list: &[(u32, u32)]) -> Result<(), TopologyError> {
    if list.len() >= u32::MAX as usize {
        return Err(TopologyError::TooManyEdges { nodes, edges: list.len() as u64 });
    }
    let mut seen: Vec<(u32, u32, usize)> = Vec::with_capacity(list.len());
    for (index, &(a, b)) in list.iter().enumerate() {
        if a >= nodes || b >= nodes {
            return Err(TopologyError::EdgeNodeOutOfRange {
                index,
                source_node: a,
                target_node: b,
                nodes,
            });
        }
        if a == b {
            return Err(TopologyError::SelfLoop { index, node: a });
        }
        seen.push((a.min(b), a.max(b), index));
    }
    seen.sort_unstable();
    if let Some(w) =
        seen.windows(2).filter(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1)).min_by_key(|w| w[1].2)
    {
        let index = w[1].2;
        let (source_node, target_node) = list[index];
        return Err(TopologyError::DuplicateEdge { index, source_node, target_node });
    }
    Ok(())
}

/// Rejects a graph with more than one connected component (union–find, deterministic).
pub(crate) fn check_connected(nodes: u32, edges: &[(u32, u32)]) -> Result<(), TopologyError> {
    let n = nodes as usize;
    let mut parent: Vec<u32> = (0..nodes).collect();
    let mut size = vec![1u32; n];
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let grand = parent[parent[x as usize] as usize];
            parent[x as usize] = grand;
            x = grand;
        }
        x
    }
    let mut components = nodes;
    for &(a, b) in edges {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            let (big, small) =
                if size[ra as usize] >= size[rb as usize] { (ra, rb) } else { (rb, ra) };
            parent[small as usize] = big;
            size[big as usize] += size[small as usize];
            components -= 1;
        }
    }
    if components == 1 {
        return Ok(());
    }
    // Nodes in id order: the first node met in a component is its lowest id, so the strict `<`
    // keeps the component with the lowest id among equally small ones.
    let mut smallest: Option<(u32, u32)> = None;
    let mut first_of_root: Vec<Option<u32>> = vec![None; n];
    for node in 0..nodes {
        let root = find(&mut parent, node);
        if first_of_root[root as usize].is_none() {
            first_of_root[root as usize] = Some(node);
            let s = size[root as usize];
            if smallest.is_none_or(|(best, _)| s < best) {
                smallest = Some((s, node));
            }
        }
    }
    let (smallest_size, smallest_node) = smallest.expect("a graph with nodes has a component");
    Err(TopologyError::Disconnected { components, smallest_size, smallest_node })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, RngStreams};
    use petgraph::visit::EdgeRef;

    fn rng(seed: u64) -> SimRng {
        RngStreams::new(seed).stream(Purpose::Topology, 0)
    }

    fn edge_list(graph: &UnGraph<(), ()>) -> Vec<(u32, u32)> {
        graph
            .edge_references()
            .map(|e| (e.source().index() as u32, e.target().index() as u32))
            .collect()
    }

    fn degrees(graph: &UnGraph<(), ()>) -> Vec<usize> {
        graph.node_indices().map(|n| graph.neighbors(n).count()).collect()
    }

    fn assert_simple(graph: &UnGraph<(), ()>) {
        let mut pairs: Vec<(u32, u32)> =
            edge_list(graph).into_iter().map(|(a, b)| (a.min(b), a.max(b))).collect();
        assert!(pairs.iter().all(|&(a, b)| a != b), "self-loop");
        let before = pairs.len();
        pairs.sort_unstable();
        pairs.dedup();
        assert_eq!(pairs.len(), before, "duplicate edge");
        assert_eq!(petgraph::algo::connected_components(graph), 1);
    }

    #[test]
    fn random_fixed_outbound_respects_degrees_and_inbound_limit() {
        let (nodes, inbound_max) = (500, 12);
        let edges =
            random_outbound_edges(nodes, &OutboundDegree::Fixed(8), inbound_max, &mut rng(1))
                .expect("feasible");
        let mut out = vec![0u32; nodes as usize];
        let mut inbound = vec![0u32; nodes as usize];
        for &(a, b) in &edges {
            out[a as usize] += 1;
            inbound[b as usize] += 1;
        }
        assert!(out.iter().all(|&d| d == 8));
        assert!(inbound.iter().all(|&d| d <= inbound_max));
        let graph = build_topology(
            nodes,
            &TopologySpec::Random { outbound: OutboundDegree::Fixed(8), inbound_max },
            &mut rng(1),
        )
        .expect("feasible");
        assert_eq!(edge_list(&graph), edges);
        assert_simple(&graph);
    }

    #[test]
    fn random_cdf_outbound_matches_the_drawn_degrees() {
        let nodes = 300;
        let outbound =
            OutboundDegree::Cdf(crate::network::presets::OUTBOUND_DEGREE_CDF_LITECOIN.to_vec());
        let drawn = draw_outbound_degrees(nodes, &outbound, &mut rng(2)).expect("valid cdf");
        let edges = random_outbound_edges(nodes, &outbound, 125, &mut rng(2)).expect("feasible");
        let mut out = vec![0u32; nodes as usize];
        for &(a, _) in &edges {
            out[a as usize] += 1;
        }
        assert_eq!(out, drawn);
        assert!(drawn.iter().all(|&d| (1..=20).contains(&d)));
        assert!(drawn.iter().any(|&d| d != drawn[0]), "degrees vary");
    }

    #[test]
    fn random_large_network_builds() {
        let spec = TopologySpec::Random { outbound: OutboundDegree::Fixed(8), inbound_max: 125 };
        let graph = build_topology(10_000, &spec, &mut rng(3)).expect("feasible");
        assert_eq!(graph.edge_count(), 80_000);
        assert!(degrees(&graph).iter().all(|&d| (8..=133).contains(&d)));
    }

    #[test]
    fn random_rejects_impossible_parameters() {
        let spec = |outbound, inbound_max| TopologySpec::Random {
            outbound: OutboundDegree::Fixed(outbound),
            inbound_max,
        };
        assert_eq!(
            build_topology(8, &spec(8, 125), &mut rng(4)).err(),
            Some(TopologyError::OutboundTooLarge { outbound: 8, nodes: 8 })
        );
        assert_eq!(
            build_topology(100, &spec(8, 7), &mut rng(4)).err(),
            Some(TopologyError::InboundCapacity { nodes: 100, inbound_max: 7, demand: 800 })
        );
        assert_eq!(
            build_topology(10, &spec(0, 7), &mut rng(4)).err(),
            Some(TopologyError::ZeroOutbound)
        );
        // Capacity suffices in total, but the last nodes find every peer linked or full.
        let err = build_topology(5, &spec(4, 4), &mut rng(4)).expect_err("infeasible");
        assert!(matches!(err, TopologyError::NoPeerAvailable { .. }), "{err}");
        let bad_cdf = TopologySpec::Random {
            outbound: OutboundDegree::Cdf(vec![0.5, 0.4, 1.0]),
            inbound_max: 10,
        };
        assert_eq!(
            build_topology(10, &bad_cdf, &mut rng(4)).err(),
            Some(TopologyError::InvalidDegreeCdf { index: 1, value: 0.4 })
        );
        let big_cdf = TopologySpec::Random {
            outbound: OutboundDegree::Cdf(
                crate::network::presets::OUTBOUND_DEGREE_CDF_BITCOIN_2015.to_vec(),
            ),
            inbound_max: 125,
        };
        assert_eq!(
            build_topology(20, &big_cdf, &mut rng(4)).err(),
            Some(TopologyError::OutboundTooLarge { outbound: 20, nodes: 20 })
        );
    }

    #[test]
    fn same_seed_gives_identical_edges_and_other_seeds_differ() {
        let specs = [
            TopologySpec::Random { outbound: OutboundDegree::Fixed(4), inbound_max: 20 },
            TopologySpec::SmallWorld { neighbors: 4, rewire_probability: 0.3 },
            TopologySpec::ScaleFree { attach: 3 },
        ];
        for spec in &specs {
            let a = edge_list(&build_topology(200, spec, &mut rng(5)).expect("valid"));
            let b = edge_list(&build_topology(200, spec, &mut rng(5)).expect("valid"));
            let c = edge_list(&build_topology(200, spec, &mut rng(6)).expect("valid"));
            assert_eq!(a, b, "{spec:?}");
            assert_ne!(a, c, "{spec:?}");
        }
    }

    #[test]
    fn small_world_without_rewiring_is_the_ring_lattice() {
        let spec = TopologySpec::SmallWorld { neighbors: 4, rewire_probability: 0.0 };
        let graph = build_topology(10, &spec, &mut rng(7)).expect("valid");
        let mut expected: Vec<(u32, u32)> = (0..10u32)
            .flat_map(|i| [1, 2].map(|j| ((i).min((i + j) % 10), (i).max((i + j) % 10))))
            .collect();
        expected.sort_unstable();
        assert_eq!(edge_list(&graph), expected);
        assert!(degrees(&graph).iter().all(|&d| d == 4));
    }

    #[test]
    fn small_world_rewiring_keeps_edge_count_and_simplicity() {
        let spec = TopologySpec::SmallWorld { neighbors: 6, rewire_probability: 0.2 };
        let graph = build_topology(1_000, &spec, &mut rng(8)).expect("connected");
        assert_eq!(graph.edge_count(), 3_000);
        assert_simple(&graph);
        // Full rewiring on a sparse ring tends to disconnect; either way no panic and no dups.
        let wild = TopologySpec::SmallWorld { neighbors: 2, rewire_probability: 1.0 };
        match build_topology(200, &wild, &mut rng(8)) {
            Ok(g) => assert_simple(&g),
            Err(e) => assert!(matches!(e, TopologyError::Disconnected { .. }), "{e}"),
        }
    }

    #[test]
    fn small_world_rejects_bad_parameters() {
        let spec = |neighbors, p| TopologySpec::SmallWorld { neighbors, rewire_probability: p };
        for neighbors in [0, 3, 10, 12] {
            assert_eq!(
                build_topology(10, &spec(neighbors, 0.1), &mut rng(9)).err(),
                Some(TopologyError::SmallWorldNeighbors { neighbors, nodes: 10 })
            );
        }
        for p in [-0.1, 1.5, f64::NAN] {
            let err = build_topology(10, &spec(2, p), &mut rng(9)).expect_err("bad p");
            assert!(matches!(err, TopologyError::RewireProbability { .. }));
        }
    }

    #[test]
    fn scale_free_has_the_expected_edge_count() {
        let (nodes, attach) = (1_000u32, 3u32);
        let graph =
            build_topology(nodes, &TopologySpec::ScaleFree { attach }, &mut rng(10)).expect("ok");
        let core = attach + 1;
        let expected = core * (core - 1) / 2 + (nodes - core) * attach;
        assert_eq!(graph.edge_count() as u32, expected);
        assert_simple(&graph);
        let max_degree = degrees(&graph).into_iter().max().expect("nodes");
        assert!(max_degree > 30, "hubs form: max degree {max_degree}");
        assert_eq!(
            build_topology(5, &TopologySpec::ScaleFree { attach: 5 }, &mut rng(10)).err(),
            Some(TopologyError::ScaleFreeAttach { attach: 5, nodes: 5 })
        );
        // attach = nodes - 1 is the complete graph.
        let full =
            build_topology(5, &TopologySpec::ScaleFree { attach: 4 }, &mut rng(10)).expect("ok");
        assert_eq!(full.edge_count(), 10);
    }

    #[test]
    fn complete_has_all_pairs() {
        let graph = build_topology(30, &TopologySpec::Complete, &mut rng(11)).expect("ok");
        assert_eq!(graph.edge_count(), 30 * 29 / 2);
        assert_simple(&graph);
        assert_eq!(
            build_topology(1, &TopologySpec::Complete, &mut rng(11)).err(),
            Some(TopologyError::NodeCount { nodes: 1 })
        );
    }

    #[test]
    fn edge_list_is_validated() {
        let build = |nodes, list: Vec<(u32, u32)>| {
            build_topology(nodes, &TopologySpec::Edges(list), &mut rng(12))
        };
        let ok = build(3, vec![(0, 1), (2, 1)]).expect("path");
        assert_eq!(edge_list(&ok), vec![(0, 1), (2, 1)]);
        assert_eq!(
            build(4, vec![(0, 1), (2, 3), (1, 0)]).err(),
            Some(TopologyError::DuplicateEdge { index: 2, source_node: 1, target_node: 0 })
        );
        assert_eq!(
            build(3, vec![(0, 1), (1, 3)]).err(),
            Some(TopologyError::EdgeNodeOutOfRange {
                index: 1,
                source_node: 1,
                target_node: 3,
                nodes: 3
            })
        );
        assert_eq!(
            build(3, vec![(0, 1), (2, 2)]).err(),
            Some(TopologyError::SelfLoop { index: 1, node: 2 })
        );
    }

    #[test]
    fn two_islands_are_reported() {
        // Island {0, 1, 2, 3} and island {4, 5}.
        let list = vec![(0, 1), (1, 2), (2, 3), (4, 5)];
        let err = build_topology(6, &TopologySpec::Edges(list), &mut rng(13)).expect_err("split");
        assert_eq!(
            err,
            TopologyError::Disconnected { components: 2, smallest_size: 2, smallest_node: 4 }
        );
        assert_eq!(
            err.to_string(),
            "topology is disconnected: 2 components, the smallest has 2 nodes (one of them is node 4)"
        );
        // Isolated nodes count as components of size one; the lowest id wins a tie.
        let err =
            build_topology(5, &TopologySpec::Edges(vec![(1, 2)]), &mut rng(13)).expect_err("split");
        assert_eq!(
            err,
            TopologyError::Disconnected { components: 4, smallest_size: 1, smallest_node: 0 }
        );
    }

    #[test]
    fn error_messages_name_the_numbers() {
        let err = TopologyError::InboundCapacity { nodes: 100, inbound_max: 7, demand: 800 };
        assert_eq!(
            err.to_string(),
            "100 nodes with inbound_max 7 accept at most 700 connections, but the nodes open 800"
        );
        let err = TopologyError::OutboundTooLarge { outbound: 8, nodes: 8 };
        assert_eq!(
            err.to_string(),
            "outbound degree 8 is impossible with 8 nodes (a node has at most 7 peers)"
        );
    }
}
