//! The `invalid_data` section of `summary.json`: per kind of bad data an `invalid` attacker
//! sent, how many blocks it sent, how many honest nodes rejected (and why), accepted and
//! relayed, and which of its peers banned it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::network::Network;
use crate::observe::invalid::InvalidTally;
use crate::scenario::attack::InvalidKind;

/// One kind of bad data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KindSummary {
    /// The kind, as named in scenarios.
    pub kind: &'static str,
    /// Blocks sent to peers.
    pub sent: u64,
    /// Rejections by honest nodes (equal to `sent` when every item was caught).
    pub rejected: u64,
    /// Rejections by reason.
    pub rejected_by_reason: BTreeMap<&'static str, u64>,
    /// Acceptances by honest nodes.
    pub accepted: u64,
    /// Messages honest nodes sent announcing or carrying such a block.
    pub relayed: u64,
}

/// One attacker's peers and how many banned it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttackerBans {
    /// The attacker.
    pub node: String,
    /// Its peers.
    pub peers: u64,
    /// Of those, the peers that banned it.
    pub peers_banned: u64,
    /// When the last of them did, in seconds (`None` if none did).
    pub last_ban_s: Option<f64>,
}

/// The section.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InvalidDataSummary {
    /// Per kind that was sent, in the order of the kinds list of the docs.
    pub kinds: Vec<KindSummary>,
    /// Per attacker.
    pub attackers: Vec<AttackerBans>,
    /// Bans of any peer by any node (honest peers included, which an honest run never has).
    pub bans: u64,
}

/// Summarises the tally of a run.
pub fn summarize(tally: &InvalidTally, network: &Network, names: &[String]) -> InvalidDataSummary {
    let kinds = InvalidKind::ALL
        .iter()
        .zip(&tally.kinds)
        .filter(|(_, t)| t.sent > 0 || t.rejected > 0 || t.accepted > 0 || t.relayed > 0)
        .map(|(k, t)| KindSummary {
            kind: k.name(),
            sent: t.sent,
            rejected: t.rejected,
            rejected_by_reason: t.reasons.clone(),
            accepted: t.accepted,
            relayed: t.relayed,
        })
        .collect();
    let attackers = tally
        .attackers()
        .iter()
        .map(|&a| {
            let peers: Vec<_> = network.links_of(a).map(|l| network.link_target(l)).collect();
            let mut banned: Vec<_> =
                tally.bans.iter().filter(|b| b.peer == a && peers.contains(&b.node)).collect();
            banned.sort_by_key(|b| b.node);
            banned.dedup_by_key(|b| b.node);
            AttackerBans {
                node: names[a.index()].clone(),
                peers: peers.len() as u64,
                peers_banned: banned.len() as u64,
                last_ban_s: banned.iter().map(|b| b.time).max().map(|t| t.as_secs_f64()),
            }
        })
        .collect();
    InvalidDataSummary { kinds, attackers, bans: tally.bans.len() as u64 }
}
