//! The network digest: one hash of everything the network is made of, written to
//! `manifest.json`, so that two runs can be shown to share their network.
//!
//! Issue 13 compares consensus kinds "on the same network": the same seed must give the
//! same peers, regions, latencies and bandwidths whatever the kind. Every random draw comes
//! from a stream keyed by purpose, and consensus elections use their own purpose
//! (`rng::Purpose::Election`), so this holds by construction; the digest makes it checkable
//! from the results folders alone.
//!
//! Hashed, in order (integers little-endian): a version tag; the region names; the node
//! count; per node its region, upload and download bandwidth (bit/s); the directed link
//! count; per link its source, target and fixed latency (µs); then, only in a network with
//! links of their own bandwidth (a group's `mesh_bandwidth_bps`), a tag, their count and per
//! such link its index and bandwidth (bit/s), so that every other network keeps its digest.
//! Per-message latency draws are not part of the network (they come from the transport's
//! own streams during the run).

use sha2::{Digest, Sha256};

use crate::id::{LinkId, NodeId};
use crate::network::Network;

/// The SHA-256 of `network`'s topology, regions and link parameters, in hex.
pub fn network_digest(network: &Network) -> String {
    let mut h = Sha256::new();
    h.update(b"forksim-network-digest-v1");
    let regions = network.region_names();
    h.update((regions.len() as u64).to_le_bytes());
    for name in regions {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
    }
    let nodes = network.node_count();
    h.update(u64::from(nodes).to_le_bytes());
    for node in NodeId::all(nodes) {
        h.update((network.region_of(node) as u64).to_le_bytes());
        h.update(network.upload_bps(node).to_le_bytes());
        h.update(network.download_bps(node).to_le_bytes());
    }
    h.update((network.link_count() as u64).to_le_bytes());
    for i in 0..network.link_count() {
        let link = LinkId(i as u32);
        h.update(network.link_source(link).0.to_le_bytes());
        h.update(network.link_target(link).0.to_le_bytes());
        h.update(network.link_latency(link).as_micros().to_le_bytes());
    }
    let dedicated: Vec<(u32, u64)> = (0..network.link_count() as u32)
        .filter_map(|i| network.dedicated_bps(LinkId(i)).map(|bps| (i, bps)))
        .collect();
    if !dedicated.is_empty() {
        h.update(b"dedicated");
        h.update((dedicated.len() as u64).to_le_bytes());
        for (i, bps) in dedicated {
            h.update(i.to_le_bytes());
            h.update(bps.to_le_bytes());
        }
    }
    crate::results::files::hex(&h.finalize())
}
