//! Node groups with their own network attributes: a mining pool with a fat pipe, a relay
//! network among miners, an attacker linked to a third of the network.
//!
//! A group is a set of nodes (resolved by the scenario: miners, attackers or named nodes)
//! and what is special about them: their upload and download bandwidth, links among every
//! pair of members (a mesh, as a relay network such as FIBRE or Gervais et al.'s fully
//! connected miners), the latency of those links and their bandwidth of their own (the
//! transport then carries them outside the members' uplinks), and extra links from each member to other
//! nodes (a count, a share of the whole network, or as many as bring the member to a number
//! of peers in all), a cap on each member's peers, and a region the members sit in (their
//! latency class: a region of a scenario's own table may be a well-connected backbone with
//! no nodes of its own). Groups apply in order after the peer graph is built; a link that
//! already exists keeps its latency unless a member moves to another region. New and
//! redrawn links draw their latency from the network's latency model, and extra peers and
//! the peers a cap drops are drawn from the stream `(Topology, 1)`, so groups never shift
//! the draws of the base graph.

use std::collections::{BTreeMap, BTreeSet};

use super::latency::LinkLatencySpec;
use super::{Network, NetworkError, NodeId, topology};
use crate::rng::{SimRng, below};
use crate::time::SimDuration;

/// A group of nodes and its attributes, with members resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The members, in increasing id order.
    pub members: Vec<NodeId>,
    /// Upload bandwidth of every member, in bit/s.
    pub upload_bps: Option<u64>,
    /// Download bandwidth of every member, in bit/s.
    pub download_bps: Option<u64>,
    /// Link every pair of members.
    pub mesh: bool,
    /// Latency of the mesh links (otherwise drawn from the latency model).
    pub mesh_latency: Option<SimDuration>,
    /// Bandwidth of each mesh link of its own, in bit/s each way (otherwise the mesh links
    /// share the members' uplinks like any other link): a relay network's leased lines.
    pub mesh_bandwidth_bps: Option<u64>,
    /// Extra peers each member links to, chosen uniformly among the other nodes.
    pub extra_links: u32,
    /// Then more peers, chosen the same way, until each member has at least this many in
    /// all (0: none), as Gervais et al.'s miners open connections until they have 700
    /// peers, the other miners among them.
    pub peers_min: u32,
    /// Then, at most this many peers per member (0: no cap): links to non-members, chosen
    /// at random, are dropped until each member is down to it. Mesh links and links among
    /// members stay, so a member may keep more when the members alone exceed the cap.
    pub peers_max: u32,
    /// The region the members sit in, applied first: each member's existing links draw
    /// their latency again from the latency model for the new pair of regions (once per
    /// link, in `(lower, higher)` order), and its new links draw theirs for it.
    pub region: Option<u32>,
}

impl Network {
    /// This network with each node's upload and download bandwidth multiplied by its own
    /// log-normal factor of mean 1 and shape `sigma` (one factor per node, for both
    /// directions): measured per-node bandwidths are heavy-tailed, with medians well below
    /// their means (Gervais et al.'s 2015 distributions: median/mean about 0.5, sigma about
    /// 1.2), while region tables give only the means. Nodes marked in `keep` (miners, whose
    /// pools run on provisioned servers) keep their table values; a factor is still drawn
    /// for them, so which nodes mine never shifts the others' draws. Rates never fall below
    /// 1 kbit/s. With `independent`, the download takes a second factor of its own, drawn
    /// after the upload's (Gervais et al. draw a node's upload and download from separate
    /// distributions, so a node that downloads fast may upload slowly).
    pub fn with_bandwidth_spread(
        self,
        sigma: f64,
        independent: bool,
        keep: &[bool],
        rng: &mut SimRng,
    ) -> Network {
        let mut out = self;
        if sigma <= 0.0 {
            return out;
        }
        let mut factor = || libm::exp(sigma * crate::rng::std_normal(rng) - 0.5 * sigma * sigma);
        for i in 0..out.upload_bps.len() {
            let up = factor();
            let down = if independent { factor() } else { up };
            if keep.get(i).copied().unwrap_or(false) {
                continue;
            }
            out.upload_bps[i] = ((out.upload_bps[i] as f64 * up) as u64).max(1_000);
            out.download_bps[i] = ((out.download_bps[i] as f64 * down) as u64).max(1_000);
        }
        out.relink();
        out
    }

    /// This network with `groups` applied in order (see the module docs).
    ///
    /// # Errors
    ///
    /// A member outside the network, or (never in practice) a disconnected result.
    pub fn with_groups(
        &self,
        groups: &[Group],
        latency: &LinkLatencySpec,
        latency_rng: &mut SimRng,
        peer_rng: &mut SimRng,
    ) -> Result<Network, NetworkError> {
        let n = self.node_count();
        let mut edges = Edges {
            latency: BTreeMap::new(),
            neighbours: vec![BTreeSet::new(); n as usize],
            dedicated: BTreeMap::new(),
        };
        for a in NodeId::all(n) {
            for link in self.links_of(a) {
                let b = self.links[link.index()].target;
                if a.0 < b {
                    edges.add(a.0, b, || self.figures[link.index()].latency);
                }
            }
        }
        let (mut upload, mut download) = (self.upload_bps.clone(), self.download_bps.clone());
        let mut node_region = self.node_region.clone();
        for group in groups {
            if let Some(bad) = group.members.iter().find(|m| m.0 >= n) {
                return Err(NetworkError::GroupMember { node: bad.0, nodes: n });
            }
            if let Some(region) = group.region {
                if region as usize >= self.region_names.len() {
                    return Err(NetworkError::GroupRegion {
                        region,
                        regions: self.region_names.len() as u32,
                    });
                }
                for m in &group.members {
                    node_region[m.index()] = region;
                }
                let moved: BTreeSet<(u32, u32)> = group
                    .members
                    .iter()
                    .flat_map(|m| edges.neighbours[m.index()].iter().map(|&b| pair(m.0, b)))
                    .collect();
                for (a, b) in moved {
                    let drawn = latency.sample(
                        node_region[a as usize] as usize,
                        node_region[b as usize] as usize,
                        latency_rng,
                    );
                    edges.latency.insert((a, b), drawn);
                }
            }
            for m in &group.members {
                if let Some(up) = group.upload_bps {
                    upload[m.index()] = up;
                }
                if let Some(down) = group.download_bps {
                    download[m.index()] = down;
                }
            }
            let mut add = |edges: &mut Edges, a: u32, b: u32, fixed: Option<SimDuration>| {
                edges.add(a, b, || {
                    fixed.unwrap_or_else(|| {
                        latency.sample(
                            node_region[a as usize] as usize,
                            node_region[b as usize] as usize,
                            latency_rng,
                        )
                    })
                });
            };
            if group.mesh {
                for (i, a) in group.members.iter().enumerate() {
                    for b in &group.members[i + 1..] {
                        add(&mut edges, a.0, b.0, group.mesh_latency);
                        if let Some(bps) = group.mesh_bandwidth_bps {
                            edges.dedicated.insert(pair(a.0, b.0), bps);
                        }
                    }
                }
            }
            let extra = group.extra_links.min(n.saturating_sub(1));
            for m in &group.members {
                for peer in distinct_others(n, m.0, extra, peer_rng) {
                    add(&mut edges, m.0, peer, None);
                }
            }
            let wanted = group.peers_min.min(n.saturating_sub(1)) as usize;
            for m in &group.members {
                let mut others = DistinctOthers::new(n, m.0);
                while edges.degree(m.0) < wanted {
                    let Some(peer) = others.next(peer_rng) else { break };
                    add(&mut edges, m.0, peer, None);
                }
            }
            if group.peers_max > 0 {
                let members: BTreeSet<u32> = group.members.iter().map(|m| m.0).collect();
                for m in &group.members {
                    while edges.degree(m.0) > group.peers_max as usize {
                        let outside: Vec<u32> = edges.neighbours[m.index()]
                            .iter()
                            .copied()
                            .filter(|b| !members.contains(b))
                            .collect();
                        if outside.is_empty() {
                            break;
                        }
                        let dropped = outside[below(peer_rng, outside.len() as u64) as usize];
                        edges.remove(m.0, dropped);
                    }
                }
            }
        }
        let Edges { latency: edges, dedicated, .. } = edges;
        let pairs: Vec<(u32, u32)> = edges.keys().copied().collect();
        topology::check_connected(n, &pairs)?;
        let latencies: Vec<SimDuration> = edges.values().copied().collect();
        Ok(Network::assemble(
            self.region_names.clone(),
            node_region,
            upload,
            download,
            &pairs,
            &latencies,
        )
        .with_dedicated(&dedicated))
    }
}

/// The key of the link between `a` and `b`: `(lower, higher)`.
fn pair(a: u32, b: u32) -> (u32, u32) {
    (a.min(b), a.max(b))
}

/// The links being built, with each node's peers.
struct Edges {
    /// Latency of each link, keyed by `(lower, higher)` node.
    latency: BTreeMap<(u32, u32), SimDuration>,
    /// Each node's peers, in increasing order.
    neighbours: Vec<BTreeSet<u32>>,
    /// Links with bandwidth of their own (bit/s each way), keyed by `(lower, higher)` node.
    dedicated: BTreeMap<(u32, u32), u64>,
}

impl Edges {
    /// How many peers `a` has.
    fn degree(&self, a: u32) -> usize {
        self.neighbours[a as usize].len()
    }

    /// Links `a` and `b` unless they are the same node or already linked; `latency` is drawn
    /// only for a new link, so a skipped pair shifts no draw.
    fn add(&mut self, a: u32, b: u32, latency: impl FnOnce() -> SimDuration) {
        let key = pair(a, b);
        if a != b && !self.latency.contains_key(&key) {
            self.neighbours[a as usize].insert(b);
            self.neighbours[b as usize].insert(a);
            self.latency.insert(key, latency());
        }
    }

    /// Unlinks `a` and `b`.
    fn remove(&mut self, a: u32, b: u32) {
        self.latency.remove(&pair(a, b));
        self.dedicated.remove(&pair(a, b));
        self.neighbours[a as usize].remove(&b);
        self.neighbours[b as usize].remove(&a);
    }
}

/// `k` distinct nodes of `0..n` other than `me`, uniformly (see [`DistinctOthers`]).
fn distinct_others(n: u32, me: u32, k: u32, rng: &mut SimRng) -> Vec<u32> {
    let mut others = DistinctOthers::new(n, me);
    (0..k).map_while(|_| others.next(rng)).collect()
}

/// The nodes of `0..n` other than `me` in a uniformly random order, drawn one at a time (a
/// partial Fisher–Yates shuffle over the others; only the touched positions are stored).
struct DistinctOthers {
    me: u32,
    /// How many nodes there are besides `me`.
    others: u32,
    /// How many were drawn.
    drawn: u32,
    /// Positions whose node was swapped away, and the node now there.
    swapped: BTreeMap<u32, u32>,
}

impl DistinctOthers {
    fn new(n: u32, me: u32) -> DistinctOthers {
        DistinctOthers { me, others: n.saturating_sub(1), drawn: 0, swapped: BTreeMap::new() }
    }

    /// The next node, or `None` once every other node was drawn.
    fn next(&mut self, rng: &mut SimRng) -> Option<u32> {
        let i = self.drawn;
        if i >= self.others {
            return None;
        }
        self.drawn += 1;
        let j = i + below(rng, u64::from(self.others - i)) as u32;
        let at_j = *self.swapped.get(&j).unwrap_or(&j);
        let at_i = *self.swapped.get(&i).unwrap_or(&i);
        self.swapped.insert(j, at_i);
        // Position p of the others stands for node p, skipping `me`.
        Some(if at_j >= self.me { at_j + 1 } else { at_j })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::topology::{OutboundDegree, TopologySpec};
    use crate::network::{BandwidthSpec, NetworkSpec};
    use crate::rng::{Purpose, RngStreams};

    fn base(nodes: u32) -> Network {
        let spec = NetworkSpec {
            nodes,
            region_names: vec!["global".to_string()],
            node_share: vec![1.0],
            topology: TopologySpec::Random { outbound: OutboundDegree::Fixed(4), inbound_max: 50 },
            latency: LinkLatencySpec::Constant { ms: 50.0 },
            bandwidth: BandwidthSpec::Constant { upload_bps: 1_000_000, download_bps: 2_000_000 },
        };
        Network::build(&spec, &RngStreams::new(4)).expect("builds")
    }

    /// Applies `groups` to `net` on seed 9's group streams.
    fn apply(net: &Network, groups: &[Group], latency: &LinkLatencySpec) -> Network {
        let streams = RngStreams::new(9);
        net.with_groups(
            groups,
            latency,
            &mut streams.stream(Purpose::Latency, 4),
            &mut streams.stream(Purpose::Topology, 1),
        )
        .expect("applies")
    }

    /// A group of `members` with nothing special about it.
    fn plain(members: Vec<NodeId>) -> Group {
        Group {
            members,
            upload_bps: None,
            download_bps: None,
            mesh: false,
            mesh_latency: None,
            mesh_bandwidth_bps: None,
            extra_links: 0,
            peers_min: 0,
            peers_max: 0,
            region: None,
        }
    }

    #[test]
    fn a_group_gets_its_bandwidth_a_mesh_with_its_latency_and_extra_peers() {
        let net = base(200);
        let members = vec![NodeId(3), NodeId(50), NodeId(120)];
        let group = Group {
            upload_bps: Some(100_000_000),
            download_bps: Some(100_000_000),
            mesh: true,
            mesh_latency: Some(SimDuration::from_millis_f64(5.0)),
            extra_links: 60,
            ..plain(members.clone())
        };
        let out = apply(&net, &[group], &LinkLatencySpec::Constant { ms: 50.0 });
        for &m in &members {
            assert_eq!(out.upload_bps(m), 100_000_000);
            assert!(out.degree(m) >= 60, "degree {}", out.degree(m));
            for &other in &members {
                if other != m {
                    let link = out.find_link(m, other).expect("meshed");
                    assert_eq!(out.link_latency(link).as_micros(), 5_000);
                }
            }
        }
        assert_eq!(out.upload_bps(NodeId(4)), 1_000_000, "others keep theirs");
        // Every old link survives with its latency.
        for a in NodeId::all(200) {
            for link in net.links_of(a) {
                let b = net.link_target(link);
                let kept = out.find_link(a, b).expect("kept");
                assert_eq!(out.link_latency(kept), net.link_latency(link));
            }
        }
    }

    #[test]
    fn peers_min_tops_each_member_up_to_the_minimum_and_leaves_the_rest() {
        let net = base(300);
        let busy = NodeId::all(300).max_by_key(|&m| net.degree(m)).expect("nodes");
        let floor = net.degree(busy) as u32;
        let members = vec![NodeId(3), NodeId(50), busy];
        let group = |peers_min| [Group { mesh: true, peers_min, ..plain(members.clone()) }];
        let constant = LinkLatencySpec::Constant { ms: 50.0 };
        let meshed = apply(&net, &group(0), &constant);
        let topped = apply(&net, &group(floor), &constant);
        let lacking = [NodeId(3), NodeId(50)];
        for m in lacking {
            assert!((meshed.degree(m) as u32) < floor, "the test needs members below the minimum");
            // The members are meshed already, so no top-up links two members: exact.
            assert_eq!(topped.degree(m) as u32, floor, "{m:?} is brought up to the minimum");
        }
        assert!(meshed.degree(busy) as u32 > floor, "mesh links put it above the minimum");
        assert_eq!(
            topped.degree(busy),
            meshed.degree(busy),
            "a member above the minimum gets none"
        );
        let links = |n: &Network| NodeId::all(300).map(|a| n.degree(a)).sum::<usize>() / 2;
        let lacked: usize = lacking.iter().map(|&m| floor as usize - meshed.degree(m)).sum();
        assert_eq!(links(&topped), links(&meshed) + lacked, "only the missing links are added");
    }

    #[test]
    fn a_mesh_bandwidth_gives_the_mesh_links_and_only_them_a_rate_of_their_own() {
        let net = base(100);
        let members = vec![NodeId(3), NodeId(50), NodeId(70)];
        let relay = Group {
            mesh: true,
            mesh_bandwidth_bps: Some(1_000_000_000),
            extra_links: 5,
            ..plain(members.clone())
        };
        let out = apply(&net, &[relay], &LinkLatencySpec::Constant { ms: 50.0 });
        for a in NodeId::all(100) {
            for link in out.links_of(a) {
                let b = out.link_target(link);
                let meshed = members.contains(&a) && members.contains(&b);
                let expected = if meshed { Some(1_000_000_000) } else { None };
                assert_eq!(out.dedicated_bps(link), expected, "{a:?} to {b:?}");
                let rate = if meshed { 1_000_000_000 } else { 1_000_000 };
                let bits = 8 * 125_000;
                assert_eq!(
                    out.transmission_time(link, 125_000).as_micros(),
                    bits * 1_000_000 / rate,
                    "{a:?} to {b:?}"
                );
            }
        }
        assert_eq!(net.dedicated_bps(net.links_of(NodeId(3)).next().expect("linked")), None);
    }

    #[test]
    fn peers_max_drops_links_to_non_members_down_to_the_cap_and_keeps_the_mesh() {
        let net = base(300);
        let constant = LinkLatencySpec::Constant { ms: 50.0 };
        let members = vec![NodeId(3), NodeId(50), NodeId(120)];
        let widened = Group { extra_links: 20, mesh: true, ..plain(members.clone()) };
        let wide = apply(&net, std::slice::from_ref(&widened), &constant);
        let capped = apply(&net, &[Group { peers_max: 6, ..widened }], &constant);
        for &m in &members {
            assert!(wide.degree(m) > 6, "the test needs members above the cap");
            assert_eq!(capped.degree(m), 6, "{m:?} is cut down to the cap");
            for &other in &members {
                if other != m {
                    assert!(capped.find_link(m, other).is_some(), "mesh links stay");
                }
            }
            // Every peer it keeps was a peer before.
            for link in capped.links_of(m) {
                assert!(wide.find_link(m, capped.link_target(link)).is_some());
            }
        }
        let links = |n: &Network| NodeId::all(300).map(|a| n.degree(a)).sum::<usize>() / 2;
        let dropped: usize = members.iter().map(|&m| wide.degree(m) - 6).sum();
        assert_eq!(links(&capped), links(&wide) - dropped, "only the members' links go");
    }

    #[test]
    fn a_group_region_redraws_its_members_links_for_their_new_region_only() {
        let spec = NetworkSpec {
            nodes: 200,
            region_names: vec!["near".to_string(), "far".to_string(), "backbone".to_string()],
            node_share: vec![0.5, 0.5, 0.0],
            topology: TopologySpec::Random { outbound: OutboundDegree::Fixed(4), inbound_max: 50 },
            latency: LinkLatencySpec::Regions {
                matrix_ms: vec![
                    vec![20.0, 150.0, 5.0],
                    vec![150.0, 30.0, 5.0],
                    vec![5.0, 5.0, 1.0],
                ],
                jitter: super::super::latency::Jitter::None,
            },
            bandwidth: BandwidthSpec::Constant { upload_bps: 1_000_000, download_bps: 2_000_000 },
        };
        let net = Network::build(&spec, &RngStreams::new(4)).expect("builds");
        let members = vec![NodeId(3), NodeId(50), NodeId(120)];
        let moved = Group { region: Some(2), extra_links: 5, ..plain(members.clone()) };
        let out = apply(&net, &[moved], &spec.latency);
        for &m in &members {
            assert_eq!(out.region_of(m), 2);
            assert!(out.degree(m) > net.degree(m), "new links are drawn for the new region too");
            for link in out.links_of(m) {
                let peer = out.link_target(link);
                let ms = if members.contains(&peer) { 1_000 } else { 5_000 };
                assert_eq!(out.link_latency(link).as_micros(), ms, "{m:?} to {peer:?}");
            }
        }
        for a in NodeId::all(200).filter(|a| !members.contains(a)) {
            assert_eq!(out.region_of(a), net.region_of(a), "others stay where they are");
            for link in net.links_of(a) {
                let b = net.link_target(link);
                if !members.contains(&b) {
                    let kept = out.find_link(a, b).expect("kept");
                    assert_eq!(out.link_latency(kept), net.link_latency(link));
                }
            }
        }
    }

    #[test]
    fn extra_peers_are_distinct_and_never_the_member_itself() {
        let mut rng = RngStreams::new(1).stream(Purpose::Topology, 1);
        for me in [0, 7, 99] {
            let peers = distinct_others(100, me, 99, &mut rng);
            let set: std::collections::BTreeSet<u32> = peers.iter().copied().collect();
            assert_eq!(set.len(), 99);
            assert!(!set.contains(&me));
            assert!(set.iter().all(|&p| p < 100));
        }
    }
}
