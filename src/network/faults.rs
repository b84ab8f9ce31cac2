//! Faults over time: partitions, heals, and nodes that leave and rejoin (`[[timeline]]`).
//!
//! Real networks split (a cut cable, a national firewall, a routing incident) and nodes come
//! and go; both decide who hears of which block, so they decide forks. This module keeps the
//! state the timeline changes, which nodes are in which group and which are online, and
//! answers one question for the simulation, cheaply, for every message: is the link between
//! two nodes cut? A link is cut when its ends are in different groups or either end is
//! offline. What a node does when links come back (exchanging tips so partitions converge on
//! the most-work chain) is protocol, in the node module.
//!
//! Randomness: a `{ share = x }` partition or leave draws from stream `(Faults, entry
//! index)`, so adding an entry never changes another entry's draw.

use thiserror::Error;

use super::{Network, NodeId};
use crate::rng::{self, Purpose, RngStreams};
use crate::time::SimTime;

/// Nodes named in a timeline entry: explicit nodes and whole regions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeGroup {
    /// Nodes.
    pub nodes: Vec<NodeId>,
    /// Region indices (every node of the region).
    pub regions: Vec<u32>,
}

/// Which nodes a `leave` or `rejoin` concerns.
#[derive(Clone, Debug, PartialEq)]
pub enum Members {
    /// These nodes and regions.
    Listed(NodeGroup),
    /// A seeded random share of the nodes that are online.
    Share(f64),
    /// Every node that is offline.
    All,
}

/// How a partition splits the network.
#[derive(Clone, Debug, PartialEq)]
pub enum PartitionSpec {
    /// Explicit groups; nodes named in none of them form one more group.
    Groups(Vec<NodeGroup>),
    /// A seeded random share of the nodes against the rest.
    Share(f64),
}

/// What happens at a timeline entry.
#[derive(Clone, Debug, PartialEq)]
pub enum TimelineAction {
    /// Links between groups are cut (replacing any earlier partition).
    Partition(PartitionSpec),
    /// Every cut link is restored.
    Heal,
    /// Nodes go offline.
    Leave(Members),
    /// Nodes come back online.
    Rejoin(Members),
}

/// One timeline entry.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEvent {
    /// When.
    pub at: SimTime,
    /// What.
    pub action: TimelineAction,
}

/// Why a timeline cannot be applied to the network it was built for.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultsError {
    /// A partition puts every node in one group.
    #[error(
        "field `timeline[{entry}].partition` = [{groups} group]: puts every node in one group; a partition needs at least two"
    )]
    OneGroup {
        /// Index of the timeline entry.
        entry: usize,
        /// Groups it makes.
        groups: usize,
    },
}

/// What a timeline entry changed, for the simulation to act on and record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The network split into this many groups.
    Partitioned {
        /// Number of non-empty groups.
        groups: u32,
    },
    /// Every group was merged back.
    Healed,
    /// These nodes went offline (those already offline are left out).
    Left(Vec<NodeId>),
    /// These nodes came back online (those already online are left out).
    Rejoined(Vec<NodeId>),
}

/// The timeline of a run and the state it has reached.
#[derive(Clone, Debug)]
pub struct Faults {
    events: Vec<TimelineEvent>,
    /// Per entry, the group of every node for a partition entry (resolved up front).
    partitions: Vec<Option<Vec<u32>>>,
    /// Group of each node (all 0 when the network is whole).
    group: Vec<u32>,
    /// Whether each node is online.
    online: Vec<bool>,
    node_region: Vec<u32>,
    streams: RngStreams,
}

impl Faults {
    /// The timeline of a run on `network`, with every partition resolved to groups.
    ///
    /// # Errors
    ///
    /// [`FaultsError::OneGroup`] naming the entry if a partition leaves fewer than two groups.
    pub fn new(
        events: &[TimelineEvent],
        network: &Network,
        streams: RngStreams,
    ) -> Result<Faults, FaultsError> {
        let nodes = network.node_count() as usize;
        let node_region: Vec<u32> =
            NodeId::all(nodes as u32).map(|n| network.region_of(n) as u32).collect();
        let mut partitions = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let TimelineAction::Partition(spec) = &e.action else {
                partitions.push(None);
                continue;
            };
            let group = match spec {
                PartitionSpec::Share(share) => {
                    let mut order: Vec<NodeId> = NodeId::all(nodes as u32).collect();
                    let mut rng = streams.stream(Purpose::Faults, i as u64);
                    let take = (libm::round(share * nodes as f64) as usize).clamp(1, nodes - 1);
                    for k in 0..take {
                        let j = k + rng::below(&mut rng, (nodes - k) as u64) as usize;
                        order.swap(k, j);
                    }
                    let mut group = vec![0u32; nodes];
                    for &n in &order[..take] {
                        group[n.index()] = 1;
                    }
                    group
                }
                PartitionSpec::Groups(groups) => {
                    let mut group = vec![0u32; nodes];
                    for (g, members) in groups.iter().enumerate() {
                        for (n, slot) in group.iter_mut().enumerate() {
                            if members.regions.contains(&node_region[n]) {
                                *slot = g as u32 + 1;
                            }
                        }
                    }
                    // Named nodes override their region's group.
                    for (g, members) in groups.iter().enumerate() {
                        for &n in &members.nodes {
                            group[n.index()] = g as u32 + 1;
                        }
                    }
                    group
                }
            };
            let mut used: Vec<u32> = group.clone();
            used.sort_unstable();
            used.dedup();
            if used.len() < 2 {
                return Err(FaultsError::OneGroup { entry: i, groups: used.len() });
            }
            partitions.push(Some(group));
        }
        Ok(Faults {
            events: events.to_vec(),
            partitions,
            group: vec![0; nodes],
            online: vec![true; nodes],
            node_region,
            streams,
        })
    }

    /// The entries, in time order.
    pub fn events(&self) -> impl Iterator<Item = SimTime> + '_ {
        self.events.iter().map(|e| e.at)
    }

    /// Whether messages between `a` and `b` are lost.
    #[inline]
    pub fn cut(&self, a: NodeId, b: NodeId) -> bool {
        let (a, b) = (a.index(), b.index());
        self.group[a] != self.group[b] || !self.online[a] || !self.online[b]
    }

    /// Whether `node` is online.
    #[inline]
    pub fn online(&self, node: NodeId) -> bool {
        self.online[node.index()]
    }

    fn listed(&self, group: &NodeGroup) -> Vec<NodeId> {
        NodeId::all(self.group.len() as u32)
            .filter(|&n| {
                group.nodes.contains(&n) || group.regions.contains(&self.node_region[n.index()])
            })
            .collect()
    }

    /// Applies entry `index` and says what changed.
    pub fn apply(&mut self, index: usize) -> Change {
        match &self.events[index].action {
            TimelineAction::Partition(_) => {
                let group = self.partitions[index].clone().expect("resolved in Faults::new");
                let mut used = group.clone();
                used.sort_unstable();
                used.dedup();
                self.group = group;
                Change::Partitioned { groups: used.len() as u32 }
            }
            TimelineAction::Heal => {
                self.group.iter_mut().for_each(|g| *g = 0);
                Change::Healed
            }
            TimelineAction::Leave(members) => {
                let chosen: Vec<NodeId> = match members {
                    Members::Listed(group) => self.listed(group),
                    Members::Share(share) => {
                        let mut candidates: Vec<NodeId> = NodeId::all(self.online.len() as u32)
                            .filter(|&n| self.online(n))
                            .collect();
                        let take = (libm::round(share * candidates.len() as f64) as usize)
                            .min(candidates.len());
                        let mut rng = self.streams.stream(Purpose::Faults, index as u64);
                        for k in 0..take {
                            let j =
                                k + rng::below(&mut rng, (candidates.len() - k) as u64) as usize;
                            candidates.swap(k, j);
                        }
                        candidates.truncate(take);
                        candidates.sort_unstable();
                        candidates
                    }
                    Members::All => NodeId::all(self.online.len() as u32).collect(),
                };
                let left: Vec<NodeId> = chosen.into_iter().filter(|&n| self.online(n)).collect();
                for &n in &left {
                    self.online[n.index()] = false;
                }
                Change::Left(left)
            }
            TimelineAction::Rejoin(members) => {
                let chosen: Vec<NodeId> = match members {
                    Members::Listed(group) => self.listed(group),
                    Members::Share(_) | Members::All => {
                        NodeId::all(self.online.len() as u32).collect()
                    }
                };
                let back: Vec<NodeId> = chosen.into_iter().filter(|&n| !self.online(n)).collect();
                for &n in &back {
                    self.online[n.index()] = true;
                }
                Change::Rejoined(back)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::latency::LinkLatencySpec;
    use crate::network::topology::TopologySpec;
    use crate::network::{BandwidthSpec, NetworkSpec};

    fn network(nodes: u32) -> Network {
        let spec = NetworkSpec {
            nodes,
            region_names: vec!["global".into()],
            node_share: vec![1.0],
            topology: TopologySpec::Complete,
            latency: LinkLatencySpec::Constant { ms: 10.0 },
            bandwidth: BandwidthSpec::Constant { upload_bps: 1_000_000, download_bps: 1_000_000 },
        };
        Network::build(&spec, &RngStreams::new(1)).unwrap()
    }

    fn at(s: u64, action: TimelineAction) -> TimelineEvent {
        TimelineEvent { at: SimTime(s * 1_000_000), action }
    }

    #[test]
    fn partitions_cut_links_between_groups_until_healed() {
        let events = vec![
            at(
                10,
                TimelineAction::Partition(PartitionSpec::Groups(vec![NodeGroup {
                    nodes: vec![NodeId(0), NodeId(1)],
                    regions: vec![],
                }])),
            ),
            at(20, TimelineAction::Heal),
        ];
        let mut f = Faults::new(&events, &network(4), RngStreams::new(1)).unwrap();
        let cut = |f: &Faults, a, b| f.cut(NodeId(a), NodeId(b));
        assert!(!cut(&f, 0, 3));
        assert_eq!(f.apply(0), Change::Partitioned { groups: 2 });
        assert!(!cut(&f, 0, 1) && !cut(&f, 2, 3));
        assert!(cut(&f, 0, 2) && cut(&f, 3, 1));
        assert_eq!(f.apply(1), Change::Healed);
        assert!(!cut(&f, 0, 2));
    }

    #[test]
    fn a_share_partition_is_seeded_and_splits_by_the_share() {
        let events = vec![at(1, TimelineAction::Partition(PartitionSpec::Share(0.25)))];
        let mut a = Faults::new(&events, &network(100), RngStreams::new(3)).unwrap();
        let mut b = Faults::new(&events, &network(100), RngStreams::new(3)).unwrap();
        a.apply(0);
        b.apply(0);
        assert_eq!(a.group, b.group);
        assert_eq!(a.group.iter().filter(|&&g| g == 1).count(), 25);
    }

    #[test]
    fn offline_nodes_are_cut_from_everyone_until_they_rejoin() {
        let events = vec![
            at(
                1,
                TimelineAction::Leave(Members::Listed(NodeGroup {
                    nodes: vec![NodeId(2)],
                    regions: vec![],
                })),
            ),
            at(2, TimelineAction::Rejoin(Members::All)),
        ];
        let mut f = Faults::new(&events, &network(4), RngStreams::new(1)).unwrap();
        let cut = |f: &Faults, a, b| f.cut(NodeId(a), NodeId(b));
        assert_eq!(f.apply(0), Change::Left(vec![NodeId(2)]));
        assert!(cut(&f, 2, 0) && cut(&f, 1, 2) && !cut(&f, 0, 1));
        assert!(!f.online(NodeId(2)));
        assert_eq!(f.apply(1), Change::Rejoined(vec![NodeId(2)]));
        assert!(!cut(&f, 2, 0));
    }

    #[test]
    fn a_partition_of_one_group_is_an_error_naming_the_entry() {
        let events = vec![at(
            1,
            TimelineAction::Partition(PartitionSpec::Groups(vec![NodeGroup {
                nodes: vec![],
                regions: vec![0],
            }])),
        )];
        let err = Faults::new(&events, &network(4), RngStreams::new(1)).unwrap_err();
        assert!(err.to_string().contains("timeline[0].partition"), "{err}");
    }
}
