//! Typed ids for nodes and directed links.
//!
//! Nodes and links are both counted from zero, so bare integers mix them up easily (a link
//! passed where a node was meant still indexes a vector, only the wrong one). The newtypes
//! make that a compile error, and `Option<NodeId>` replaces the `u32::MAX` sentinels that
//! meant "no node" or "no link".

use std::fmt;

/// A node of the network, numbered from 0 in scenario order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The node with index `i`.
    ///
    /// # Panics
    ///
    /// Panics if `i` does not fit in 32 bits (networks are far smaller).
    pub fn from_index(i: usize) -> NodeId {
        NodeId(u32::try_from(i).expect("node indices fit in 32 bits"))
    }

    /// The id as a vector index.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// Every node id below `count`, in order.
    pub fn all(count: u32) -> impl DoubleEndedIterator<Item = NodeId> + ExactSizeIterator {
        (0..count).map(NodeId)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {}", self.0)
    }
}

/// A directed link between two peers (each connection is two links, one each way).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct LinkId(pub u32);

impl LinkId {
    /// The link with index `i`.
    ///
    /// # Panics
    ///
    /// Panics if `i` does not fit in 32 bits.
    pub fn from_index(i: usize) -> LinkId {
        LinkId(u32::try_from(i).expect("link indices fit in 32 bits"))
    }

    /// The id as a vector index.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "link {}", self.0)
    }
}
