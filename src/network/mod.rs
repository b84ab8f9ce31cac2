//! The network: who is linked to whom, and how long a message takes on each link.
//!
//! A [`NetworkSpec`] (regions, node shares, topology, latency and bandwidth) is turned once, at
//! the start of a run, into an immutable [`Network`]. The engine then asks it, for each of
//! millions of messages, for a link's target, latency and transmission time, so the network is
//! stored as a compressed sparse row (CSR) array of *directed* links: each undirected edge
//! `{a, b}` becomes the two links `a -> b` and `b -> a`, the links out of a node are contiguous
//! and sorted by target id, and every per-message query is a single array lookup without
//! allocation.
//!
//! Per link the network stores its target, the index of its reverse link, its propagation
//! latency (drawn once per undirected link, see [`latency`]) and its rate, `min(upload of the
//! source, download of the target)`. Queueing on a node's uplink is the engine's business: this
//! module only says how long one message occupies a link.
//!
//! Randomness comes from three streams of the run, each used for one thing only, so changing
//! one part of a spec never shifts the draws of another: `(Population, 0)` shuffles the region
//! assignment, `(Topology, 0)` builds the graph and `(Latency, 0)` draws link latencies.

pub mod faults;
pub mod groups;
pub mod latency;
pub mod measured_bandwidth;
pub mod message;
pub mod presets;
pub mod topology;
pub mod traffic;
pub mod transport;

use std::collections::BTreeMap;
use std::ops::Range;

pub use crate::id::{LinkId, NodeId};

use petgraph::visit::EdgeRef;
use serde::Serialize;
use thiserror::Error;

use crate::rng::{Purpose, RngStreams, SimRng, below};
use crate::time::{SimDuration, TICKS_PER_SEC};

use latency::LinkLatencySpec;
use topology::{TopologyError, TopologySpec, build_topology};

/// How far the node shares may sum from 1 before the spec is rejected (the published tables
/// are rounded to four digits).
pub const SHARE_SUM_TOLERANCE: f64 = 1e-3;

/// Per-node bandwidth, in bit/s.
#[derive(Clone, Debug, PartialEq)]
pub enum BandwidthSpec {
    /// Each node gets the bandwidth of its region.
    PerRegion {
        /// Upload bandwidth per region, in bit/s.
        upload_bps: Vec<u64>,
        /// Download bandwidth per region, in bit/s.
        download_bps: Vec<u64>,
    },
    /// Every node gets the same bandwidth.
    Constant {
        /// Upload bandwidth, in bit/s.
        upload_bps: u64,
        /// Download bandwidth, in bit/s.
        download_bps: u64,
    },
}

/// Everything needed to build a [`Network`].
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkSpec {
    /// Number of nodes; node ids are `0..nodes`.
    pub nodes: u32,
    /// Region names, at least one; a non-regional network uses `["global"]`.
    pub region_names: Vec<String>,
    /// Share of nodes per region, summing to 1 (within 1e-3; normalised before use).
    pub node_share: Vec<f64>,
    /// The shape of the peer graph.
    pub topology: TopologySpec,
    /// How link latencies are drawn.
    pub latency: LinkLatencySpec,
    /// Per-node bandwidth.
    pub bandwidth: BandwidthSpec,
}

/// Why a [`NetworkSpec`] cannot be built.
#[derive(Clone, Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum NetworkError {
    /// No region names were given.
    #[error("a network needs at least one region name (use [\"global\"] for a non-regional one)")]
    NoRegions,
    /// Two regions have the same name.
    #[error("region name {name:?} appears more than once")]
    DuplicateRegion {
        /// The repeated name.
        name: String,
    },
    /// The share vector does not have one entry per region.
    #[error("node_share has {shares} entries but there are {regions} regions")]
    ShareLength {
        /// Entries in `node_share`.
        shares: usize,
        /// Number of regions.
        regions: usize,
    },
    /// A share is negative, NaN or infinite.
    #[error("node_share of region {region} is {value}, not a finite number >= 0")]
    ShareValue {
        /// Region index.
        region: usize,
        /// The share.
        value: f64,
    },
    /// The shares do not sum to 1.
    #[error("node_share sums to {sum}, not 1 (tolerance {SHARE_SUM_TOLERANCE})")]
    ShareSum {
        /// Their sum.
        sum: f64,
    },
    /// The latency matrix has the wrong number of rows.
    #[error("latency matrix has {rows} rows but there are {regions} regions")]
    LatencyMatrixRows {
        /// Rows in the matrix.
        rows: usize,
        /// Number of regions.
        regions: usize,
    },
    /// A latency matrix row has the wrong number of columns.
    #[error("latency matrix row {row} has {columns} columns but there are {regions} regions")]
    LatencyMatrixColumns {
        /// The row.
        row: usize,
        /// Its length.
        columns: usize,
        /// Number of regions.
        regions: usize,
    },
    /// A latency matrix entry is negative, NaN or infinite.
    #[error("latency matrix entry [{from}][{to}] is {value} ms, not a finite number >= 0")]
    LatencyMatrixEntry {
        /// Row (from region).
        from: usize,
        /// Column (to region).
        to: usize,
        /// The entry.
        value: f64,
    },
    /// A latency parameter is negative, NaN or infinite.
    #[error("latency {name} is {value}, not a finite number >= 0")]
    LatencyParameter {
        /// The parameter's field name.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// A uniform latency range is reversed.
    #[error("uniform latency min_ms {min_ms} is above max_ms {max_ms}")]
    UniformRange {
        /// Lower bound.
        min_ms: f64,
        /// Upper bound.
        max_ms: f64,
    },
    /// A Pareto jitter shape leaves the mean undefined.
    #[error(
        "pareto jitter shape must be a finite number above 1 (so the mean exists), got {shape}"
    )]
    ParetoShape {
        /// The shape.
        shape: f64,
    },
    /// A per-region bandwidth vector does not have one entry per region.
    #[error("{direction} bandwidth has {len} entries but there are {regions} regions")]
    BandwidthLength {
        /// `"upload"` or `"download"`.
        direction: &'static str,
        /// Entries given.
        len: usize,
        /// Number of regions.
        regions: usize,
    },
    /// A region's bandwidth is zero, so messages would never arrive.
    #[error("{direction} bandwidth of region {region} ({name}) is 0 bit/s")]
    ZeroRegionBandwidth {
        /// `"upload"` or `"download"`.
        direction: &'static str,
        /// Region index.
        region: usize,
        /// Region name.
        name: String,
    },
    /// The constant bandwidth is zero, so messages would never arrive.
    #[error("{direction} bandwidth is 0 bit/s")]
    ZeroBandwidth {
        /// `"upload"` or `"download"`.
        direction: &'static str,
    },
    /// The topology cannot be built.
    #[error(transparent)]
    Topology(#[from] TopologyError),
    /// A group names a node the network does not have.
    #[error("a group member is node {node}, but the network has {nodes} nodes")]
    GroupMember {
        /// The member.
        node: u32,
        /// Nodes in the network.
        nodes: u32,
    },
    /// A group names a region the network does not have.
    #[error("a group's region is region {region}, but the network has {regions} regions")]
    GroupRegion {
        /// The region's index.
        region: u32,
        /// Regions in the network.
        regions: u32,
    },
}

/// One directed link's place in the graph: 8 bytes, so that a node's lookups of a link's
/// ends (for every message it receives) hit a table an eighth the size of the links'
/// figures, which the run reads from the transport's own per-link records instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Link {
    /// Index of the link target -> source.
    reverse: u32,
    /// The node at the far end.
    target: u32,
}

/// One directed link's figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LinkFigures {
    /// Propagation delay, the same as the reverse link's.
    latency: SimDuration,
    /// `min(upload of source, download of target)`, never zero.
    rate_bps: u64,
    /// Transmission time of an `inv` or `getdata` (most messages), computed once.
    inv_time: SimDuration,
}

impl LinkFigures {
    fn new(latency: SimDuration, rate_bps: u64) -> LinkFigures {
        let inv_time = transmission_micros(message::inv_size(), rate_bps);
        LinkFigures { latency, rate_bps, inv_time }
    }
}

/// Time to push `size_bytes` over a link of `rate_bps` whose `inv` takes `inv_time` (the
/// most common size, computed once per link).
#[inline]
fn transmission_time(size_bytes: u64, rate_bps: u64, inv_time: SimDuration) -> SimDuration {
    if size_bytes == message::inv_size() {
        return inv_time;
    }
    transmission_micros(size_bytes, rate_bps)
}

/// Time to push `size_bytes` at `rate_bps`: `size * 8 / rate`, rounded up to a whole
/// microsecond (integer math, no floats); saturates at `u64::MAX` microseconds ("never").
fn transmission_micros(size_bytes: u64, rate_bps: u64) -> SimDuration {
    let micros = match size_bytes.checked_mul(8 * TICKS_PER_SEC) {
        Some(bit_micros) => bit_micros.div_ceil(rate_bps),
        None => {
            let bit_micros = size_bytes as u128 * (8 * TICKS_PER_SEC) as u128;
            u64::try_from(bit_micros.div_ceil(rate_bps as u128)).unwrap_or(u64::MAX)
        }
    };
    SimDuration::from_micros(micros)
}

/// The built, immutable network of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    region_names: Vec<String>,
    /// Region index of each node.
    node_region: Vec<u32>,
    upload_bps: Vec<u64>,
    download_bps: Vec<u64>,
    /// `links[link_offsets[n]..link_offsets[n + 1]]` are the links out of node `n`.
    link_offsets: Vec<usize>,
    links: Vec<Link>,
    /// Each link's figures, by link index.
    figures: Vec<LinkFigures>,
    /// Whether each link has bandwidth of its own (its figures' rate), by link index;
    /// empty when every link shares its sender's uplink.
    dedicated: Vec<bool>,
}

/// The links out of one node, in target order: an iterator over [`LinkId`]s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkRange(Range<u32>);

impl Iterator for LinkRange {
    type Item = LinkId;

    #[inline]
    fn next(&mut self) -> Option<LinkId> {
        self.0.next().map(LinkId)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for LinkRange {
    fn next_back(&mut self) -> Option<LinkId> {
        self.0.next_back().map(LinkId)
    }
}

impl ExactSizeIterator for LinkRange {}

/// Summary of a network for reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkStats {
    /// Number of nodes.
    pub nodes: u32,
    /// Number of undirected edges (half the directed links).
    pub edges: usize,
    /// Mean number of peers per node.
    pub degree_mean: f64,
    /// Fewest peers of any node.
    pub degree_min: usize,
    /// Most peers of any node.
    pub degree_max: usize,
    /// Mean link latency, in milliseconds.
    pub latency_ms_mean: f64,
    /// Smallest link latency, in milliseconds.
    pub latency_ms_min: f64,
    /// Largest link latency, in milliseconds.
    pub latency_ms_max: f64,
    /// Region names, in region order.
    pub region_names: Vec<String>,
    /// Number of nodes in each region, in region order.
    pub nodes_per_region: Vec<u32>,
}

impl Network {
    /// Builds the network of a run from its spec and random streams.
    ///
    /// Steps, each with its own stream:
    /// 1. The spec is validated (regions, shares, latency, bandwidth) before anything is drawn.
    /// 2. The topology is built from stream `(Topology, 0)` (see [`build_topology`]).
    /// 3. Regions: each region gets exactly its largest-remainder share of the nodes (floors of
    ///    `nodes * share` first, then one more node to the regions with the largest fractional
    ///    parts, ties to the lower region index), laid out in region order and then shuffled
    ///    (Fisher–Yates from the last node down) with stream `(Population, 0)`. Region counts are
    ///    thus exact rather than noisy, and which node lands where is still random. With a single
    ///    region nothing is drawn.
    /// 4. Latencies: one draw per undirected edge from stream `(Latency, 0)`, edges taken in
    ///    `(lower id, higher id)` order, with the lower id's region as `from_region`.
    ///
    /// # Errors
    ///
    /// Returns a [`NetworkError`] for an inconsistent spec or a topology that cannot be built.
    pub fn build(spec: &NetworkSpec, streams: &RngStreams) -> Result<Network, NetworkError> {
        let regions = validate_regions(spec)?;
        spec.latency.validate(regions)?;
        let (upload_by_region, download_by_region) = validate_bandwidth(spec, regions)?;

        let mut topology_rng = streams.stream(Purpose::Topology, 0);
        let graph = build_topology(spec.nodes, &spec.topology, &mut topology_rng)?;

        let mut population_rng = streams.stream(Purpose::Population, 0);
        let node_region = assign_regions(spec.nodes, &spec.node_share, &mut population_rng);

        let upload_bps: Vec<u64> =
            node_region.iter().map(|&r| upload_by_region[r as usize]).collect();
        let download_bps: Vec<u64> =
            node_region.iter().map(|&r| download_by_region[r as usize]).collect();

        let mut edges: Vec<(u32, u32)> = graph
            .edge_references()
            .map(|e| {
                let (a, b) = (e.source().index() as u32, e.target().index() as u32);
                (a.min(b), a.max(b))
            })
            .collect();
        edges.sort_unstable();

        let mut latency_rng = streams.stream(Purpose::Latency, 0);
        let latencies: Vec<SimDuration> = edges
            .iter()
            .map(|&(a, b)| {
                spec.latency.sample(
                    node_region[a as usize] as usize,
                    node_region[b as usize] as usize,
                    &mut latency_rng,
                )
            })
            .collect();
        Ok(Network::assemble(
            spec.region_names.clone(),
            node_region,
            upload_bps,
            download_bps,
            &edges,
            &latencies,
        ))
    }

    /// Lays out sorted `(lower, higher)` edges with their latencies as CSR directed links.
    fn assemble(
        region_names: Vec<String>,
        node_region: Vec<u32>,
        upload_bps: Vec<u64>,
        download_bps: Vec<u64>,
        edges: &[(u32, u32)],
        latencies: &[SimDuration],
    ) -> Network {
        let n = node_region.len();
        let mut link_offsets = vec![0usize; n + 1];
        for &(a, b) in edges {
            link_offsets[a as usize + 1] += 1;
            link_offsets[b as usize + 1] += 1;
        }
        for i in 0..n {
            link_offsets[i + 1] += link_offsets[i];
        }
        let mut links = vec![Link { reverse: 0, target: 0 }; 2 * edges.len()];
        let mut figures = vec![LinkFigures::new(SimDuration::ZERO, 1); 2 * edges.len()];
        let mut cursor: Vec<usize> = link_offsets[..n].to_vec();
        // Edges are sorted by (lower, higher): every edge (x, b) with x < a reaches row a before
        // any edge (a, y), and both kinds arrive in increasing order, so rows come out sorted.
        for (&(a, b), &latency) in edges.iter().zip(latencies) {
            let (forward, backward) = (cursor[a as usize], cursor[b as usize]);
            cursor[a as usize] += 1;
            cursor[b as usize] += 1;
            let index = |i: usize| u32::try_from(i).expect("link indices fit in 32 bits");
            links[forward] = Link { reverse: index(backward), target: b };
            let rate = upload_bps[a as usize].min(download_bps[b as usize]);
            figures[forward] = LinkFigures::new(latency, rate);
            links[backward] = Link { reverse: index(forward), target: a };
            let rate = upload_bps[b as usize].min(download_bps[a as usize]);
            figures[backward] = LinkFigures::new(latency, rate);
        }
        Network {
            region_names,
            node_region,
            upload_bps,
            download_bps,
            link_offsets,
            links,
            figures,
            dedicated: Vec::new(),
        }
    }

    /// This network with each of `pairs` (`(lower, higher)` node, already linked) given
    /// bandwidth of its own, the same each way: its rate is that bandwidth, and the
    /// transport carries its messages outside the sender's uplink.
    fn with_dedicated(mut self, pairs: &BTreeMap<(u32, u32), u64>) -> Network {
        if pairs.is_empty() {
            return self;
        }
        self.dedicated = vec![false; self.links.len()];
        for (&(a, b), &bps) in pairs {
            let forward = self.find_link(NodeId(a), NodeId(b)).expect("a dedicated pair is linked");
            for link in [forward, self.reverse_link(forward)] {
                self.dedicated[link.index()] = true;
                self.figures[link.index()] =
                    LinkFigures::new(self.figures[link.index()].latency, bps);
            }
        }
        self
    }

    /// The bandwidth of `link`'s own (bit/s), or `None` when it shares its sender's uplink.
    pub fn dedicated_bps(&self, link: LinkId) -> Option<u64> {
        self.is_dedicated(link.index()).then(|| self.figures[link.index()].rate_bps)
    }

    /// Whether some link has bandwidth of its own.
    pub fn has_dedicated_links(&self) -> bool {
        !self.dedicated.is_empty()
    }

    /// Whether the link at `index` has bandwidth of its own.
    fn is_dedicated(&self, index: usize) -> bool {
        self.dedicated.get(index).copied().unwrap_or(false)
    }

    /// The same network with `victim` eclipsed: its links are removed and it is linked to
    /// each of `attackers` instead. Links that existed keep their latency; new ones draw
    /// theirs from `latency` with `rng`, in attacker order, so the rest of the network is
    /// exactly as built.
    ///
    /// # Errors
    ///
    /// [`NetworkError::Topology`] with [`TopologyError::Disconnected`] if some node reached
    /// the others only through the victim.
    /// Recomputes every link's rate from the nodes' bandwidths.
    fn relink(&mut self) {
        for a in 0..self.node_region.len() {
            for l in self.link_offsets[a]..self.link_offsets[a + 1] {
                if self.is_dedicated(l) {
                    continue;
                }
                let b = self.links[l].target as usize;
                let rate = self.upload_bps[a].min(self.download_bps[b]);
                self.figures[l] = LinkFigures::new(self.figures[l].latency, rate);
            }
        }
    }

    pub fn eclipsed(
        &self,
        victim: NodeId,
        attackers: &[NodeId],
        latency: &LinkLatencySpec,
        rng: &mut SimRng,
    ) -> Result<Network, NetworkError> {
        let mut edges: Vec<((u32, u32), SimDuration)> = Vec::with_capacity(self.links.len() / 2);
        let v = victim.0;
        for a in NodeId::all(self.node_count()) {
            for link in self.links_of(a) {
                let b = self.links[link.index()].target;
                if a.0 < b && a.0 != v && b != v {
                    edges.push(((a.0, b), self.figures[link.index()].latency));
                }
            }
        }
        for &attacker in attackers {
            let latency = match self.find_link(victim, attacker) {
                Some(link) => self.link_latency(link),
                None => latency.sample(self.region_of(victim), self.region_of(attacker), rng),
            };
            edges.push(((v.min(attacker.0), v.max(attacker.0)), latency));
        }
        edges.sort_unstable_by_key(|e| e.0);
        let pairs: Vec<(u32, u32)> = edges.iter().map(|e| e.0).collect();
        topology::check_connected(self.node_count(), &pairs)?;
        let latencies: Vec<SimDuration> = edges.iter().map(|e| e.1).collect();
        Ok(Network::assemble(
            self.region_names.clone(),
            self.node_region.clone(),
            self.upload_bps.clone(),
            self.download_bps.clone(),
            &pairs,
            &latencies,
        ))
    }

    /// Number of nodes.
    pub fn node_count(&self) -> u32 {
        self.node_region.len() as u32
    }

    /// Indices of the directed links out of `node`, sorted by target id.
    ///
    /// # Panics
    ///
    /// Panics if `node` is not below [`Network::node_count`].
    pub fn links_of(&self, node: NodeId) -> LinkRange {
        let n = node.index();
        LinkRange(self.link_offsets[n] as u32..self.link_offsets[n + 1] as u32)
    }

    /// The node a link leads to.
    ///
    /// # Panics
    ///
    /// Panics if `link` is not below [`Network::link_count`] (as do all per-link queries).
    #[inline]
    pub fn link_target(&self, link: LinkId) -> NodeId {
        NodeId(self.links[link.index()].target)
    }

    /// Asks the processor for `link`'s record, which [`Network::link_target`] reads (a hint
    /// only, see [`crate::engine::prefetch`]).
    #[inline]
    pub fn prefetch_link(&self, link: LinkId) {
        crate::engine::prefetch::prefetch(&self.links[link.index()]);
    }

    /// The node a link starts from (the target of its reverse link).
    #[inline]
    pub fn link_source(&self, link: LinkId) -> NodeId {
        NodeId(self.links[self.links[link.index()].reverse as usize].target)
    }

    /// The link in the opposite direction, target -> source.
    #[inline]
    pub fn reverse_link(&self, link: LinkId) -> LinkId {
        LinkId(self.links[link.index()].reverse)
    }

    /// The link `from -> to`, if the two nodes are peers (binary search in `from`'s row).
    /// Returns `None` for unknown nodes too.
    pub fn find_link(&self, from: NodeId, to: NodeId) -> Option<LinkId> {
        let start = *self.link_offsets.get(from.index())?;
        let end = *self.link_offsets.get(from.index() + 1)?;
        self.links[start..end]
            .binary_search_by_key(&to.0, |l| l.target)
            .ok()
            .map(|i| LinkId::from_index(start + i))
    }

    /// The propagation delay of a link, the same in both directions.
    #[inline]
    pub fn link_latency(&self, link: LinkId) -> SimDuration {
        self.figures[link.index()].latency
    }

    /// Time to push `size_bytes` through the link: `size * 8 / min(upload of source, download
    /// of target)`, rounded up to a whole microsecond (integer math, no floats). Saturates at
    /// `u64::MAX` microseconds ("never") for absurd sizes.
    #[inline]
    pub fn transmission_time(&self, link: LinkId, size_bytes: u64) -> SimDuration {
        let figures = &self.figures[link.index()];
        transmission_time(size_bytes, figures.rate_bps, figures.inv_time)
    }

    /// Number of peers of `node`.
    ///
    /// # Panics
    ///
    /// Panics if `node` is not below [`Network::node_count`].
    pub fn degree(&self, node: NodeId) -> usize {
        self.links_of(node).len()
    }

    /// Region index of `node` (into [`Network::region_names`]).
    ///
    /// # Panics
    ///
    /// Panics if `node` is not below [`Network::node_count`].
    pub fn region_of(&self, node: NodeId) -> usize {
        self.node_region[node.index()] as usize
    }

    /// Region names, in region order.
    pub fn region_names(&self) -> &[String] {
        &self.region_names
    }

    /// Upload bandwidth of `node`, in bit/s.
    ///
    /// # Panics
    ///
    /// Panics if `node` is not below [`Network::node_count`].
    pub fn upload_bps(&self, node: NodeId) -> u64 {
        self.upload_bps[node.index()]
    }

    /// Download bandwidth of `node`, in bit/s.
    ///
    /// # Panics
    ///
    /// Panics if `node` is not below [`Network::node_count`].
    pub fn download_bps(&self, node: NodeId) -> u64 {
        self.download_bps[node.index()]
    }

    /// Number of directed links (twice the number of undirected edges).
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    /// Summary for reports: degree and latency statistics and node count per region.
    pub fn stats(&self) -> NetworkStats {
        let nodes = self.node_count();
        let degrees: Vec<usize> = NodeId::all(nodes).map(|n| self.degree(n)).collect();
        let degrees = degrees.iter().copied();
        let degree_min = degrees.clone().min().unwrap_or(0);
        let degree_max = degrees.max().unwrap_or(0);
        let latency_us = self.figures.iter().map(|l| l.latency.as_micros());
        let (latency_ms_min, latency_ms_max, latency_ms_mean) = if self.links.is_empty() {
            (0.0, 0.0, 0.0)
        } else {
            let min = latency_us.clone().min().unwrap_or(0);
            let max = latency_us.clone().max().unwrap_or(0);
            let sum: u128 = latency_us.map(u128::from).sum();
            (
                min as f64 / 1_000.0,
                max as f64 / 1_000.0,
                sum as f64 / self.links.len() as f64 / 1_000.0,
            )
        };
        let mut nodes_per_region = vec![0u32; self.region_names.len()];
        for &r in &self.node_region {
            nodes_per_region[r as usize] += 1;
        }
        NetworkStats {
            nodes,
            edges: self.links.len() / 2,
            degree_mean: if nodes == 0 { 0.0 } else { self.links.len() as f64 / nodes as f64 },
            degree_min,
            degree_max,
            latency_ms_mean,
            latency_ms_min,
            latency_ms_max,
            region_names: self.region_names.clone(),
            nodes_per_region,
        }
    }
}

/// Checks region names and shares; returns the region count.
fn validate_regions(spec: &NetworkSpec) -> Result<usize, NetworkError> {
    let regions = spec.region_names.len();
    if regions == 0 {
        return Err(NetworkError::NoRegions);
    }
    let mut sorted: Vec<&String> = spec.region_names.iter().collect();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(NetworkError::DuplicateRegion { name: w[0].clone() });
    }
    if spec.node_share.len() != regions {
        return Err(NetworkError::ShareLength { shares: spec.node_share.len(), regions });
    }
    for (region, &value) in spec.node_share.iter().enumerate() {
        if !(value.is_finite() && value >= 0.0) {
            return Err(NetworkError::ShareValue { region, value });
        }
    }
    let sum: f64 = spec.node_share.iter().sum();
    if (sum - 1.0).abs() > SHARE_SUM_TOLERANCE {
        return Err(NetworkError::ShareSum { sum });
    }
    Ok(regions)
}

/// Checks the bandwidth spec; returns per-region `(upload, download)` vectors.
fn validate_bandwidth(
    spec: &NetworkSpec,
    regions: usize,
) -> Result<(Vec<u64>, Vec<u64>), NetworkError> {
    match &spec.bandwidth {
        BandwidthSpec::Constant { upload_bps, download_bps } => {
            for (direction, value) in [("upload", upload_bps), ("download", download_bps)] {
                if *value == 0 {
                    return Err(NetworkError::ZeroBandwidth { direction });
                }
            }
            Ok((vec![*upload_bps; regions], vec![*download_bps; regions]))
        }
        BandwidthSpec::PerRegion { upload_bps, download_bps } => {
            for (direction, values) in [("upload", upload_bps), ("download", download_bps)] {
                if values.len() != regions {
                    return Err(NetworkError::BandwidthLength {
                        direction,
                        len: values.len(),
                        regions,
                    });
                }
                if let Some(region) = values.iter().position(|&v| v == 0) {
                    return Err(NetworkError::ZeroRegionBandwidth {
                        direction,
                        region,
                        name: spec.region_names[region].clone(),
                    });
                }
            }
            Ok((upload_bps.clone(), download_bps.clone()))
        }
    }
}

/// Exact node counts per region by the largest-remainder method (shares normalised first).
fn region_counts(nodes: u32, share: &[f64]) -> Vec<u32> {
    let total: f64 = share.iter().sum();
    let quotas: Vec<f64> =
        share.iter().map(|&s| if total > 0.0 { nodes as f64 * s / total } else { 0.0 }).collect();
    let mut counts: Vec<u32> = quotas.iter().map(|&q| libm::floor(q) as u32).collect();
    let assigned: u64 = counts.iter().map(|&c| c as u64).sum();
    if assigned > nodes as u64 {
        // Only float rounding can get here; take the excess from the largest regions.
        for _ in 0..(assigned - nodes as u64) {
            let largest = (0..counts.len())
                .max_by_key(|&r| (counts[r], std::cmp::Reverse(r)))
                .expect("at least one region");
            counts[largest] -= 1;
        }
        return counts;
    }
    let mut order: Vec<usize> = (0..share.len()).collect();
    // Largest fractional part first; ties to the lower region index (stable sort).
    order.sort_by(|&x, &y| {
        let fx = quotas[x] - libm::floor(quotas[x]);
        let fy = quotas[y] - libm::floor(quotas[y]);
        fy.total_cmp(&fx)
    });
    let mut left = nodes as u64 - assigned;
    for &r in order.iter().cycle() {
        if left == 0 {
            break;
        }
        counts[r] += 1;
        left -= 1;
    }
    counts
}

/// Gives each node a region: exact largest-remainder counts, then a seeded shuffle.
fn assign_regions(nodes: u32, share: &[f64], rng: &mut SimRng) -> Vec<u32> {
    let counts = region_counts(nodes, share);
    let mut node_region: Vec<u32> = Vec::with_capacity(nodes as usize);
    for (region, &count) in counts.iter().enumerate() {
        node_region.extend(std::iter::repeat_n(region as u32, count as usize));
    }
    if share.len() > 1 {
        for i in (1..node_region.len()).rev() {
            let j = below(rng, i as u64 + 1) as usize;
            node_region.swap(i, j);
        }
    }
    node_region
}

#[cfg(test)]
mod tests {
    use super::latency::Jitter;
    use super::topology::OutboundDegree;
    use super::*;

    fn bitcoin_2019(nodes: u32) -> NetworkSpec {
        let (upload, download) = presets::bandwidth_bps("2019").expect("preset");
        NetworkSpec {
            nodes,
            region_names: presets::REGION_NAMES.iter().map(|s| s.to_string()).collect(),
            node_share: presets::NODE_SHARE_BITCOIN_2019.to_vec(),
            topology: TopologySpec::Random { outbound: OutboundDegree::Fixed(8), inbound_max: 125 },
            latency: LinkLatencySpec::Regions {
                matrix_ms: presets::LATENCY_MS_2019.iter().map(|r| r.to_vec()).collect(),
                jitter: Jitter::Pareto { shape: 5.0 },
            },
            bandwidth: BandwidthSpec::PerRegion {
                upload_bps: upload.to_vec(),
                download_bps: download.to_vec(),
            },
        }
    }

    fn global(nodes: u32, topology: TopologySpec) -> NetworkSpec {
        NetworkSpec {
            nodes,
            region_names: vec!["global".to_string()],
            node_share: vec![1.0],
            topology,
            latency: LinkLatencySpec::Constant { ms: 50.0 },
            bandwidth: BandwidthSpec::Constant { upload_bps: 19_200_000, download_bps: 22_800_000 },
        }
    }

    #[test]
    fn csr_invariants_hold() {
        let net = Network::build(&bitcoin_2019(500), &RngStreams::new(1)).expect("builds");
        assert_eq!(net.node_count(), 500);
        assert_eq!(net.link_count(), 2 * 500 * 8);
        let mut total = 0;
        for node in NodeId::all(net.node_count()) {
            let row = net.links_of(node);
            total += row.len();
            assert_eq!(net.degree(node), row.len());
            assert!(net.degree(node) >= 8);
            let targets: Vec<NodeId> = row.clone().map(|l| net.link_target(l)).collect();
            assert!(targets.windows(2).all(|w| w[0] < w[1]), "sorted, no dups");
            for link in row {
                let target = net.link_target(link);
                let back = net.reverse_link(link);
                assert_ne!(target, node);
                assert_eq!(net.link_source(link), node);
                assert_eq!(net.reverse_link(back), link);
                assert_eq!(net.link_source(back), target);
                assert_eq!(net.link_target(back), node);
                assert_eq!(net.link_latency(back), net.link_latency(link));
                assert_eq!(net.find_link(node, target), Some(link));
                assert_eq!(net.find_link(target, node), Some(back));
            }
        }
        assert_eq!(total, net.link_count());
        assert_eq!(net.find_link(NodeId(0), NodeId(0)), None);
        assert_eq!(net.find_link(NodeId(500), NodeId(0)), None);
        assert_eq!(net.find_link(NodeId(0), NodeId(500)), None);
    }

    #[test]
    fn transmission_time_is_exact_and_rounds_up() {
        let spec = global(3, TopologySpec::Edges(vec![(0, 1), (1, 2)]));
        let net = Network::build(&spec, &RngStreams::new(2)).expect("builds");
        let link = net.find_link(NodeId(0), NodeId(1)).expect("edge");
        // 535_000 bytes * 8 / 19_200_000 bit/s = 0.22291666... s.
        assert_eq!(net.transmission_time(link, 535_000), SimDuration::from_micros(222_917));
        assert_eq!(net.transmission_time(link, 0), SimDuration::ZERO);
        // 1 byte = 8 bits at 19.2 Mbit/s = 0.4166 us, rounded up to 1.
        assert_eq!(net.transmission_time(link, 1), SimDuration::from_micros(1));
        // 2_400 bytes = 19_200 bits = exactly 1_000 us.
        assert_eq!(net.transmission_time(link, 2_400), SimDuration::from_micros(1_000));
        // Overflowing the u64 fast path still gives the exact answer, or saturates.
        assert_eq!(
            net.transmission_time(link, u64::MAX),
            SimDuration::from_micros((u64::MAX as u128 * 8_000_000).div_ceil(19_200_000) as u64)
        );
        let mut slow = spec.clone();
        slow.bandwidth = BandwidthSpec::Constant { upload_bps: 1_000_000, download_bps: 1_000_000 };
        let slow = Network::build(&slow, &RngStreams::new(2)).expect("builds");
        assert_eq!(slow.transmission_time(LinkId(0), u64::MAX), SimDuration::from_micros(u64::MAX));
        assert_eq!(
            net.transmission_time(link, 1 << 50),
            SimDuration::from_micros(((1u128 << 50) * 8_000_000).div_ceil(19_200_000) as u64)
        );
        assert_eq!(net.link_latency(link), SimDuration::from_millis(50));
    }

    #[test]
    fn link_rate_is_min_of_upload_and_download() {
        let net = Network::build(&bitcoin_2019(300), &RngStreams::new(3)).expect("builds");
        for link in (0..net.link_count()).map(LinkId::from_index) {
            let (s, t) = (net.link_source(link), net.link_target(link));
            let rate = net.upload_bps(s).min(net.download_bps(t));
            let expected = (1_000u64 * 8 * TICKS_PER_SEC).div_ceil(rate);
            assert_eq!(net.transmission_time(link, 1_000).as_micros(), expected);
            let (up, down) = presets::bandwidth_bps("2019").expect("preset");
            assert_eq!(net.upload_bps(s), up[net.region_of(s)]);
            assert_eq!(net.download_bps(t), down[net.region_of(t)]);
        }
    }

    #[test]
    fn same_seed_gives_identical_network() {
        let spec = bitcoin_2019(1_000);
        let a = Network::build(&spec, &RngStreams::new(4)).expect("builds");
        let b = Network::build(&spec, &RngStreams::new(4)).expect("builds");
        let c = Network::build(&spec, &RngStreams::new(5)).expect("builds");
        assert_eq!(a, b);
        let view = |n: &Network| -> Vec<(u32, u32, SimDuration)> {
            (0..n.link_count())
                .map(LinkId::from_index)
                .map(|l| (n.link_source(l).0, n.link_target(l).0, n.link_latency(l)))
                .collect()
        };
        assert_eq!(view(&a), view(&b));
        assert_ne!(view(&a), view(&c));
        let regions =
            |n: &Network| NodeId::all(n.node_count()).map(|i| n.region_of(i)).collect::<Vec<_>>();
        assert_eq!(regions(&a), regions(&b));
        assert_ne!(regions(&a), regions(&c));
    }

    #[test]
    fn regions_follow_the_shares_exactly() {
        let net = Network::build(&bitcoin_2019(10_000), &RngStreams::new(6)).expect("builds");
        let stats = net.stats();
        // 10_000 x share is an integer for every bitcoin-2019 entry.
        assert_eq!(stats.nodes_per_region, vec![3316, 4998, 90, 1177, 224, 195]);
        assert_eq!(stats.nodes, 10_000);
        assert_eq!(stats.edges, 80_000);
        assert_eq!(stats.degree_mean, 16.0);
        assert!(stats.degree_min >= 8 && stats.degree_max <= 133);
        assert!(stats.latency_ms_min > 0.0 && stats.latency_ms_max > stats.latency_ms_mean);
        // Not all nodes of a region sit together: the assignment is shuffled.
        let first: Vec<usize> = (0..100).map(|n| net.region_of(NodeId(n))).collect();
        assert!(first.iter().any(|&r| r != first[0]));
    }

    #[test]
    fn largest_remainder_counts_are_exact() {
        assert_eq!(region_counts(10, &[0.5, 0.5]), vec![5, 5]);
        assert_eq!(region_counts(3, &[0.5, 0.5]), vec![2, 1]);
        assert_eq!(region_counts(7, &[0.2, 0.3, 0.5]), vec![1, 2, 4]);
        assert_eq!(region_counts(2, &[0.0, 1.0]), vec![0, 2]);
        for nodes in [1, 2, 7, 99, 1_001] {
            for name in presets::NODE_SHARE_NAMES {
                let share = presets::node_share(name).expect("listed");
                let counts = region_counts(nodes, &share);
                assert_eq!(counts.iter().sum::<u32>(), nodes);
                for (c, s) in counts.iter().zip(share) {
                    assert!((*c as f64 - nodes as f64 * s).abs() < 1.01, "{name} {nodes}");
                }
            }
        }
    }

    #[test]
    fn large_random_network_builds() {
        let net = Network::build(&bitcoin_2019(10_000), &RngStreams::new(7)).expect("builds");
        assert_eq!(net.link_count(), 160_000);
    }

    #[test]
    fn other_topologies_build() {
        let complete = Network::build(&global(20, TopologySpec::Complete), &RngStreams::new(8))
            .expect("builds");
        assert_eq!(complete.link_count(), 20 * 19);
        assert!((0..20).all(|n| complete.degree(NodeId(n)) == 19));
        let stats = complete.stats();
        assert_eq!(stats.latency_ms_mean, 50.0);
        assert_eq!(stats.nodes_per_region, vec![20]);
        let small_world =
            global(100, TopologySpec::SmallWorld { neighbors: 4, rewire_probability: 0.1 });
        assert!(Network::build(&small_world, &RngStreams::new(8)).is_ok());
        let scale_free = global(100, TopologySpec::ScaleFree { attach: 2 });
        assert!(Network::build(&scale_free, &RngStreams::new(8)).is_ok());
    }

    #[test]
    fn spec_inconsistencies_are_reported() {
        let streams = RngStreams::new(9);
        let build = |f: &dyn Fn(&mut NetworkSpec)| {
            let mut spec = bitcoin_2019(50);
            f(&mut spec);
            Network::build(&spec, &streams).expect_err("invalid")
        };
        assert_eq!(build(&|s| s.region_names.clear()), NetworkError::NoRegions);
        assert_eq!(
            build(&|s| s.region_names[3] = "europe".to_string()),
            NetworkError::DuplicateRegion { name: "europe".to_string() }
        );
        assert_eq!(
            build(&|s| {
                s.node_share.pop();
            }),
            NetworkError::ShareLength { shares: 5, regions: 6 }
        );
        let nan = build(&|s| s.node_share[2] = f64::NAN);
        assert!(matches!(nan, NetworkError::ShareValue { region: 2, value } if value.is_nan()));
        assert_eq!(nan.to_string(), "node_share of region 2 is NaN, not a finite number >= 0");
        assert!(matches!(
            build(&|s| s.node_share[2] = -0.1),
            NetworkError::ShareValue { region: 2, .. }
        ));
        assert!(matches!(build(&|s| s.node_share[0] = 0.5), NetworkError::ShareSum { .. }));
        assert_eq!(
            build(&|s| s.latency = LinkLatencySpec::Regions {
                matrix_ms: vec![vec![1.0; 6]; 5],
                jitter: Jitter::None
            }),
            NetworkError::LatencyMatrixRows { rows: 5, regions: 6 }
        );
        assert_eq!(
            build(&|s| s.bandwidth =
                BandwidthSpec::PerRegion { upload_bps: vec![1; 6], download_bps: vec![1; 4] }),
            NetworkError::BandwidthLength { direction: "download", len: 4, regions: 6 }
        );
        let zero = build(&|s| {
            s.bandwidth = BandwidthSpec::PerRegion {
                upload_bps: vec![1, 1, 0, 1, 1, 1],
                download_bps: vec![1; 6],
            }
        });
        assert_eq!(zero.to_string(), "upload bandwidth of region 2 (south_america) is 0 bit/s");
        assert_eq!(
            build(&|s| s.bandwidth = BandwidthSpec::Constant { upload_bps: 5, download_bps: 0 }),
            NetworkError::ZeroBandwidth { direction: "download" }
        );
        assert_eq!(
            build(&|s| s.nodes = 1),
            NetworkError::Topology(TopologyError::NodeCount { nodes: 1 })
        );
        let islands = build(&|s| s.topology = TopologySpec::Edges(vec![(0, 1)]));
        assert!(matches!(islands, NetworkError::Topology(TopologyError::Disconnected { .. })));
        assert!(islands.to_string().starts_with("topology is disconnected: 49 components"));
    }

    #[test]
    fn an_eclipsed_victim_links_only_to_the_attackers_and_nothing_else_moves() {
        let streams = RngStreams::new(4);
        let spec = global(
            30,
            TopologySpec::Random { outbound: OutboundDegree::Fixed(4), inbound_max: 30 },
        );
        let net = Network::build(&spec, &streams).unwrap();
        let mut rng = streams.stream(Purpose::Latency, 1);
        let attackers = [NodeId(7), NodeId(3), NodeId(9)];
        let eclipsed = net.eclipsed(NodeId(0), &attackers, &spec.latency, &mut rng).unwrap();
        let peers: Vec<u32> =
            eclipsed.links_of(NodeId(0)).map(|l| eclipsed.link_target(l).0).collect();
        assert_eq!(peers, vec![3, 7, 9]);
        for a in (1..30).map(NodeId) {
            for link in net.links_of(a) {
                let b = net.link_target(link);
                if b == NodeId(0) {
                    continue;
                }
                let same = eclipsed.find_link(a, b).expect("links between others stay");
                assert_eq!(eclipsed.link_latency(same), net.link_latency(link));
            }
        }
        for link in (0..eclipsed.link_count()).map(LinkId::from_index) {
            assert_eq!(
                eclipsed.link_source(eclipsed.reverse_link(link)),
                eclipsed.link_target(link)
            );
        }
        // A star: the victim is the hub, so its leaves would be cut off.
        let star = global(4, TopologySpec::Edges(vec![(0, 1), (0, 2), (0, 3)]));
        let net = Network::build(&star, &streams).unwrap();
        let err = net.eclipsed(NodeId(0), &[NodeId(1)], &star.latency, &mut rng).unwrap_err();
        assert!(err.to_string().contains("disconnected"), "{err}");
    }
}
