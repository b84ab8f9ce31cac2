//! The story of a run in plain language, one line per meaningful event, for teaching.
//!
//! `forksim run SCENARIO --narrate` prints who found a block (and, in ground mode, the
//! winning nonce and how many zero bits its hash starts with), who received it from whom and
//! when, what each node did with it: build on it, switch branch (a reorg, and how deep), or
//! keep its own tip because it has more work or was seen first; what attackers decide
//! (withhold, publish, give up) and what the timeline does (partitions, heals, nodes leaving
//! and rejoining). `--node NAME` keeps only the lines about one node (and the network-wide
//! partitions and heals). The text depends only on the records, so the same seed gives the
//! same story.

use std::cell::Cell;
use std::io::Write;

use super::{KeepReason, Observer, Record, TipOutcome};
use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;
use crate::time::{SimDuration, SimTime};

/// How the story tells who made a block, by consensus kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StakeStory {
    /// "found block": proof of work, and the kinds without slots (`pos-coinage`, `poet`).
    #[default]
    Found,
    /// `pos-slot`: the block's producer led its slot (its VRF output was below its
    /// threshold); slot s starts at s × `slot`. A longer branch a node keeps away from is
    /// told as a refusal: by the rollback limit `k`, or by the density rule of a node
    /// syncing from genesis.
    Slots {
        /// Slot length.
        slot: SimDuration,
        /// The rollback limit.
        k: u64,
    },
    /// `dpos`: the scheduled producer made the block in its slot, which starts at
    /// (s + 1) × `slot`; a block is irreversible once ⌊2N/3⌋ + 1 of the `producers` have
    /// built on it, and the story says when the newest irreversible block moves.
    Dpos {
        /// Slot length.
        slot: SimDuration,
        /// Producers per round, N.
        producers: u32,
    },
}

impl StakeStory {
    /// The story of `scenario`'s consensus kind.
    pub fn of(scenario: &crate::scenario::Scenario) -> StakeStory {
        use crate::scenario::consensus::KindParams;
        match scenario.consensus.params {
            KindParams::PosSlot { slot, k, .. } => StakeStory::Slots { slot, k },
            KindParams::Dpos { slot, producers, .. } => StakeStory::Dpos { slot, producers },
            _ => StakeStory::Found,
        }
    }

    /// The slot a block made at `time` belongs to (`None` for kinds without slots).
    pub fn slot_of(&self, time: SimTime) -> Option<u64> {
        match *self {
            StakeStory::Found => None,
            StakeStory::Slots { slot, .. } => Some(time.0 / slot.0.max(1)),
            StakeStory::Dpos { slot, .. } => Some((time.0 / slot.0.max(1)).saturating_sub(1)),
        }
    }
}

/// Writes the narrated story of a run.
pub struct Narrator {
    names: Vec<String>,
    only: Option<NodeId>,
    show_nonces: bool,
    out: Box<dyn Write>,
    story: StakeStory,
    /// `dpos`: the height of the newest block the story has called irreversible.
    irreversible: Cell<u32>,
    /// `pos-slot`: nodes that went offline at time 0, so that they sync from genesis when
    /// they come back (and choose by the sync rule, not the rollback limit).
    left_at_start: std::cell::RefCell<Vec<NodeId>>,
}

impl Narrator {
    /// A narrator writing to `out`; `only` keeps lines about one node; `show_nonces` adds the
    /// nonce and leading zero bits of found blocks (ground mode, where the hashes decide).
    pub fn new(
        names: Vec<String>,
        only: Option<NodeId>,
        show_nonces: bool,
        out: Box<dyn Write>,
    ) -> Self {
        Narrator {
            names,
            only,
            show_nonces,
            out,
            story: StakeStory::Found,
            irreversible: Cell::new(0),
            left_at_start: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// The narrator, telling blocks as `story` says (slot leaders, DPoS producers).
    #[must_use]
    pub fn with_story(mut self, story: StakeStory) -> Self {
        self.story = story;
        self
    }

    /// How the story tells who made a block.
    pub fn story(&self) -> StakeStory {
        self.story
    }

    /// `dpos`: the height of the newest block the story has called irreversible (0 before
    /// any).
    pub fn irreversible_height(&self) -> u32 {
        self.irreversible.get()
    }

    fn name(&self, node: NodeId) -> &str {
        &self.names[node.index()]
    }

    fn wants(&self, nodes: &[NodeId]) -> bool {
        self.only.is_none_or(|only| nodes.contains(&only))
    }
}

/// `#height [short hash]`.
fn label(store: &BlockStore, block: BlockId) -> String {
    let b = store.get(block);
    format!("#{} [{}]", b.height, b.hash.short())
}

/// Zero bits at the start of a block hash (in the usual big-endian display order).
fn leading_zero_bits(store: &BlockStore, block: BlockId) -> u32 {
    256 - store.get(block).hash.to_u256().bits()
}

impl Narrator {
    /// `dpos`: the line saying that the chain of `block` (just made) moved its last
    /// irreversible block past the newest one the story announced, if it did.
    fn newly_irreversible(
        &self,
        store: &BlockStore,
        block: BlockId,
        producers: u32,
        time: SimTime,
    ) -> Option<String> {
        let before = self.irreversible.get();
        let lib = crate::consensus::dpos_run::lib_above(store, block, producers, before);
        if lib <= before {
            return None;
        }
        self.irreversible.set(lib);
        let mut b = block;
        while store.get(b).height > lib {
            b = store.get(b).parent?;
        }
        let needed = crate::consensus::dpos::two_thirds_plus(producers);
        Some(format!(
            "{time}  block {} is now irreversible ({needed} of {producers} producers built on it)",
            label(store, b)
        ))
    }

    /// Why a node kept `tip` over the longer branch of `block`: the rollback limit, or (a
    /// node syncing from genesis) the density rule.
    fn refusal(
        &self,
        store: &BlockStore,
        node: NodeId,
        (got, who): (&str, &str),
        tip: BlockId,
        block: BlockId,
    ) -> String {
        let fork = store.fork_point(tip, block);
        let depth = store.get(tip).height - store.get(fork).height;
        let k = match self.story {
            StakeStory::Slots { k, .. } => k,
            _ => u64::MAX,
        };
        if !self.left_at_start.borrow().contains(&node) {
            format!(
                "{got}: that branch is longer, but switching would drop {depth} blocks of {who}'s chain, more than the rollback limit k = {k}, so {who} refuses it (beyond-rollback-limit)"
            )
        } else {
            format!(
                "{got}: that branch is longer, but it forks {depth} blocks deep and has fewer blocks in the slots just after the fork point, so {who}, syncing by the density rule, keeps its chain (sparser-after-fork)"
            )
        }
    }

    /// The line `record` adds to the story, if any: `None` for records the story skips
    /// (messages on links) and for lines about other nodes than `only`.
    pub fn describe(&self, record: &Record, store: &BlockStore) -> Option<String> {
        match *record {
            Record::BlockMined { block, miner, time } => {
                if !self.wants(&[miner]) {
                    return None;
                }
                let parent = store.get(block).parent.map_or_else(String::new, |p| label(store, p));
                let detail = if self.show_nonces {
                    format!(
                        " (nonce {}: its hash starts with {} zero bits)",
                        store.get(block).header().nonce,
                        leading_zero_bits(store, block)
                    )
                } else {
                    String::new()
                };
                let who = self.name(miner);
                let made = label(store, block);
                Some(match self.story {
                    StakeStory::Found => {
                        format!("{time}  {who} found block {made} on top of {parent}{detail}")
                    }
                    StakeStory::Slots { .. } => format!(
                        "{time}  {who} is the slot leader for slot {} (VRF output below threshold) and builds block {made} on top of {parent}",
                        self.story.slot_of(time).unwrap_or_default()
                    ),
                    StakeStory::Dpos { producers, .. } => {
                        let s = self.story.slot_of(time).unwrap_or_default();
                        let mut line = format!(
                            "{time}  producer {who} builds block {made} in its slot {s} on top of {parent}"
                        );
                        if let Some(lib) = self.newly_irreversible(store, block, producers, time) {
                            line.push('\n');
                            line.push_str(&lib);
                        }
                        line
                    }
                })
            }
            Record::SlotMissed { producer, slot, time } => self.wants(&[producer]).then(|| {
                format!("{time}  producer {} missed its slot {slot}", self.name(producer))
            }),
            Record::PaymentsLeftOut { producer, block, payments, time } => {
                self.wants(&[producer]).then(|| {
                    let who = self.name(producer);
                    let made = label(store, block);
                    let plural = if payments == 1 { "" } else { "s" };
                    format!("{time}  producer {who} (cartel) left out {payments} payment{plural} from {made}")
                })
            }
            Record::BlockAccepted { node, block, from, outcome, time } => {
                let mut involved = vec![node];
                involved.extend(from);
                if !self.wants(&involved) {
                    return None;
                }
                let who = self.name(node);
                let from = from.map_or_else(String::new, |f| format!(" from {}", self.name(f)));
                let got = format!("{time}  {who} got block {}{from}", label(store, block));
                let slots = matches!(self.story, StakeStory::Slots { .. });
                Some(match outcome {
                    TipOutcome::Extended { old_tip } => {
                        let joined = store.get(block).height - store.get(old_tip).height;
                        let extra = if joined > 1 {
                            format!(" (it connects {joined} blocks)")
                        } else {
                            String::new()
                        };
                        format!("{got} and builds on it{extra}")
                    }
                    TipOutcome::Reorged { old_tip, depth }
                        if slots && store.get(block).height <= store.get(old_tip).height =>
                    {
                        format!(
                            "{got}: that branch is not longer, but it forks {depth} blocks deep and has more blocks in the slots just after the fork point, so {who}, syncing by the density rule, switches to it (tip {} dropped)",
                            label(store, old_tip)
                        )
                    }
                    TipOutcome::Kept { tip, .. }
                        if slots && store.get(block).height > store.get(tip).height =>
                    {
                        self.refusal(store, node, (&got, who), tip, block)
                    }
                    TipOutcome::Reorged { old_tip, depth } => {
                        let plural = if depth == 1 { "" } else { "s" };
                        format!(
                            "{got}: that branch has more work, so {who} switches to it and drops {depth} block{plural} of its old chain (tip {})",
                            label(store, old_tip)
                        )
                    }
                    TipOutcome::Kept { tip, reason: KeepReason::SeenFirst } => format!(
                        "{got}: a fork! It ties with {who}'s tip {} (same work), so {who} keeps the one it saw first",
                        label(store, tip)
                    ),
                    TipOutcome::Kept { tip, reason: KeepReason::MoreWork } => format!(
                        "{got}: {who}'s tip {} already has more work, so it keeps its chain",
                        label(store, tip)
                    ),
                })
            }
            Record::BlockRejected { node, block, reason, time } => {
                if !self.wants(&[node]) {
                    return None;
                }
                let who = self.name(node);
                Some(format!("{time}  {who} rejected block {}: {reason}", label(store, block)))
            }
            Record::PaymentSent { txid, node, conflict, time } => {
                if !self.wants(&[node]) {
                    return None;
                }
                let who = self.name(node);
                let what = if conflict { "a double payment" } else { "a payment" };
                Some(format!("{time}  {who} received {what}, tx {}", txid.short()))
            }
            Record::GoodsShipped { node, confirmations, time } => {
                self.wants(&[node]).then(|| {
                    let plural = if confirmations == 1 { "" } else { "s" };
                    format!(
                        "{time}  {} sees the payment {confirmations} block{plural} deep in its chain: {confirmations} confirmation{plural}, so it ships the goods",
                        self.name(node)
                    )
                })
            }
            Record::PaymentReversed { node, time } => self.wants(&[node]).then(|| {
                format!(
                    "{time}  {}'s chain now holds the attacker's conflicting payment instead: the payment it shipped for is reversed (the double spend succeeded)",
                    self.name(node)
                )
            }),
            Record::Withheld { node, block, time } => self.wants(&[node]).then(|| {
                format!(
                    "{time}  {} withholds block {}: it mines on it in private and tells nobody",
                    self.name(node),
                    label(store, block)
                )
            }),
            Record::Published { node, tip, count, tie_with, time } => {
                if !self.wants(&[node]) {
                    return None;
                }
                let who = self.name(node);
                let first = store.ancestor(tip, store.get(tip).height + 1 - count);
                let blocks = if count == 1 {
                    format!("block {}", label(store, tip))
                } else {
                    format!("{count} blocks, {} to {}", label(store, first), label(store, tip))
                };
                let tie = tie_with.map_or_else(String::new, |t| {
                    format!(
                        ": a tie with {}; each node keeps the one it saw first (or prefers one)",
                        label(store, t)
                    )
                });
                Some(format!("{time}  {who} publishes {blocks}{tie}"))
            }
            Record::GaveUp { node, abandoned, tip, time } => self.wants(&[node]).then(|| {
                let plural = if abandoned == 1 { "" } else { "s" };
                format!(
                    "{time}  {} gives up its private branch, dropping {abandoned} block{plural}, and mines on {}",
                    self.name(node),
                    label(store, tip)
                )
            }),
            Record::Partitioned { groups, links_cut, time } => Some(format!(
                "{time}  the network splits into {groups} groups: {links_cut} connections between them are cut"
            )),
            Record::Healed { links_restored, time } => Some(format!(
                "{time}  the partition heals: {links_restored} connections are back, and their ends exchange chains"
            )),
            Record::NodeLeft { node, time } => self.wants(&[node]).then(|| {
                if time == SimTime::ZERO {
                    self.left_at_start.borrow_mut().push(node);
                }
                format!("{time}  {} goes offline: it stops mining and hears nothing", self.name(node))
            }),
            Record::NodeRejoined { node, time } => self.wants(&[node]).then(|| {
                format!(
                    "{time}  {} comes back online and catches up with its peers",
                    self.name(node)
                )
            }),
            Record::InvalidSent { node, to, block, kind, time } => {
                self.wants(&[node, to]).then(|| {
                    format!(
                        "{time}  {} sends {} an invalid block {} ({})",
                        self.name(node),
                        self.name(to),
                        label(store, block),
                        kind.name()
                    )
                })
            }
            Record::PeerBanned { node, peer, score, time } => {
                self.wants(&[node, peer]).then(|| {
                    format!(
                        "{time}  {} bans {}: its misbehaviour score reached {score} (100 bans), so {} disconnects it and drops what it sent",
                        self.name(node),
                        self.name(peer),
                        self.name(node)
                    )
                })
            }
            Record::BannedPeerIgnored { node, peer, block, time } => {
                self.wants(&[node]).then(|| {
                    format!(
                        "{time}  {} ignores block {} from {}, which it banned",
                        self.name(node),
                        label(store, block),
                        self.name(peer)
                    )
                })
            }
            Record::OrphanEvicted { node, block, time } => self.wants(&[node]).then(|| {
                format!(
                    "{time}  {}'s orphan pool is full: it drops block {}, whose parent it lacks",
                    self.name(node),
                    label(store, block)
                )
            }),
            Record::MessageSent { .. }
            | Record::MessageDropped { .. }
            | Record::MempoolSampled { .. } => None,
        }
    }
}

impl Observer for Narrator {
    fn record(&mut self, record: &Record, store: &BlockStore) {
        if let Some(text) = self.describe(record, store) {
            // Narration goes to a terminal or pipe; a closed pipe must not stop the simulation.
            let _ = writeln!(self.out, "{text}");
        }
    }

    fn wants_messages(&self) -> bool {
        false
    }
}
