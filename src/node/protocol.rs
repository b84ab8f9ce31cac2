//! What a node decides: the honest answers and the attacks, behind one trait.
//!
//! DESIGN.md asks that honest nodes and attackers be the same kind of thing, so that an
//! attack is a different answer to the same questions rather than a special case in the
//! world. Every [`Node`](super::Node) runs the same machinery (relay messages, validation,
//! chain selection by most work, orphans, its mining clock) and asks its [`Protocol`] at the
//! points where a node has a choice:
//!
//! - **mining tip**: which block the node's miner builds on;
//! - **a block it just mined**: relay it at once like an honest miner, or keep it private
//!   (it is in the shared store and the node has it, but nobody else hears of it);
//! - **a block it accepted from a peer**: publish private blocks (announced over the node's
//!   links with the normal relay protocol, oldest first), or give up a private branch;
//! - **a tie**: whether to switch to a rival block of the same work as its tip (honest
//!   nodes keep the one they saw first);
//! - **relay**: whether it passes on blocks mined by others;
//! - **its own plans**: timers it sets at the start (an attacker's payment), and payments
//!   handed to it (a merchant's shop).
//!
//! [`Honest`] gives the honest answers; a run in which every node has an `Honest` protocol
//! is the honest network.

use smallvec::{SmallVec, smallvec};

use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;
use crate::node::ctx::NodeCtx;
use crate::node::merchant::Shop;
use crate::payments::pool::TxIndex;
use crate::scenario::attack::PublishVia;
use crate::time::SimTime;

/// What a protocol sees when it decides: the shared store, the node's
/// public tip (its most-work chain of blocks known to the network) and the time.
pub struct View<'a> {
    /// Every block (the protocol may read heights, work and miners).
    pub store: &'a BlockStore,
    /// The node's public tip: its most-work chain among blocks mined by others and blocks
    /// it has published (first seen on ties). Asked about a block from a peer, the protocol
    /// sees the tip the most-work rule gives with that block (the block itself if it has
    /// more work or wins a tie); asked about a block it mined, the tip it mined on.
    pub tip: BlockId,
    /// Virtual time now.
    pub now: SimTime,
}

impl View<'_> {
    /// Height of a block.
    pub fn height(&self, block: BlockId) -> u32 {
        self.store.get(block).height
    }
}

/// One thing a node does about a block, in the order its protocol lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Make the block the node's public tip.
    Adopt,
    /// Announce the block, with any ancestors that joined the node's best chain with it,
    /// oldest first, to every peer but the one it came from: the honest relay. Done only
    /// if the block is still on the node's best chain when this step comes.
    Relay,
    /// Announce the answer's [`Answer::publish`] blocks, oldest first, to every peer (each
    /// one's parent is public or earlier in the list); the node's tip moves to them where
    /// they have more work.
    Publish,
}

/// A protocol's whole answer to a block (mined or accepted) or to one of its timers: what
/// the node does, in order, before anything of it takes effect.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// What the node does, in order. A block the node mined that it neither adopts nor
    /// publishes is withheld: it has it, nobody else hears of it.
    pub steps: SmallVec<[Step; 4]>,
    /// The private blocks a [`Step::Publish`] announces, oldest first.
    pub publish: Vec<BlockId>,
    /// The node gave up its private branch, dropping this many unpublished blocks, and now
    /// mines on its public tip.
    pub gave_up: Option<u32>,
    /// The node's miner starts over on its mining tip (a new template).
    pub restart_mining: bool,
    /// `pos-slot`: the node's slot clock plays the slots from this one up to the current
    /// one again, on its mining tip (a long-range attacker building a fork for slots gone
    /// by: producing a block costs nothing, and a past slot's claim is as valid as ever).
    pub backfill_from: Option<u64>,
}

impl Answer {
    /// Adopt the block and relay it: the honest answer to a block that wins.
    pub fn adopt_and_relay() -> Answer {
        Answer { steps: smallvec![Step::Adopt, Step::Relay], ..Answer::default() }
    }

    /// Keep a block the node mined to itself.
    pub fn withhold() -> Answer {
        Answer::default()
    }

    /// Publish private blocks (and nothing else).
    pub fn publish(blocks: Vec<BlockId>) -> Answer {
        Answer { steps: smallvec![Step::Publish], publish: blocks, ..Answer::default() }
    }

    /// The answer to a block from a peer: adopt it if it wins by the most-work rule
    /// (`view.tip == block`), publish `publish` first if there is anything to publish, then
    /// relay the block if the node relays others' blocks.
    pub fn to_peer_block(
        view: &View<'_>,
        block: BlockId,
        relay: bool,
        publish: Vec<BlockId>,
    ) -> Answer {
        let wins = view.tip == block;
        let mut steps = SmallVec::new();
        if wins {
            steps.push(Step::Adopt);
        }
        if !publish.is_empty() {
            steps.push(Step::Publish);
        }
        if wins && relay {
            steps.push(Step::Relay);
        }
        Answer { steps, publish, ..Answer::default() }
    }

    /// Whether the answer publishes `block`.
    pub fn publishes(&self, block: BlockId) -> bool {
        self.steps.contains(&Step::Publish) && self.publish.contains(&block)
    }

    /// Whether the answer adopts the block it answers.
    pub fn adopts(&self) -> bool {
        self.steps.contains(&Step::Adopt)
    }

    /// The blocks the answer publishes, in order.
    pub fn published(&self) -> &[BlockId] {
        if self.steps.contains(&Step::Publish) { &self.publish } else { &[] }
    }
}

/// What a node's protocol reports about itself, for the run's outcome and for monitors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Report {
    /// Nothing beyond the node's chain.
    #[default]
    Plain,
    /// A merchant's shop.
    Merchant(Shop),
    /// A double-spend attacker.
    DoubleSpender {
        /// When it paid the merchant (`None` before, or if its wallet could not pay).
        paid_at: Option<SimTime>,
        /// It gave up (its branch, or at the payment because its wallet could not pay).
        gave_up: bool,
        /// The last block of its branch, once published (`None` before).
        published: Option<BlockId>,
    },
}

/// A node's answers at the decision points. Every method has the honest answer as default.
pub trait Protocol {
    /// The protocol's name, as in scenario files.
    fn name(&self) -> &'static str;

    /// The block the node's miner builds on, given the node's public tip.
    fn mining_tip(&self, tip: BlockId) -> BlockId {
        tip
    }

    /// `pos-slot`: a slot starts; the blocks the node runs the slot's lottery on, each once,
    /// oldest first (`tip` is its public tip). Honest: `None`, its mining tip alone. A
    /// nothing-at-stake attacker names every block of its private tree.
    fn lottery_parents(&mut self, store: &BlockStore, tip: BlockId) -> Option<Vec<BlockId>> {
        let _ = (store, tip);
        None
    }

    /// The node just mined `block` (on [`Protocol::mining_tip`]): the whole answer, before
    /// anything is relayed. Honest: adopt it and relay it.
    fn on_mined(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        let _ = (view, block);
        Answer::adopt_and_relay()
    }

    /// The node validated `block` from a peer: the whole answer, before anything is
    /// relayed. Honest: adopt it if it wins by the most-work rule, and relay it then.
    fn on_accepted(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        Answer::to_peer_block(view, block, self.relays_peer_blocks(), Vec::new())
    }

    /// A peer told the node of `block`, which it has not got yet: an `inv` (standing for
    /// the `headers` announcement of BIP 130, which carries the block's header), or the
    /// header of a compact or pushed block, before the node fetches or validates it. The
    /// node carries out the answer's [`Step::Publish`] at once (nothing else applies to a
    /// block it lacks) and then goes on as usual. Asked only if
    /// [`Protocol::hears_announcements`]; honest: nothing, a node acts on a block once it
    /// has validated it.
    fn on_announced(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        let _ = (view, block);
        Answer::default()
    }

    /// Whether the node asks [`Protocol::on_announced`] (read once, when the node is built,
    /// so that honest nodes pay nothing per announcement).
    fn hears_announcements(&self) -> bool {
        false
    }

    /// Whether the node refuses to answer a peer's request for `block` (asked only if
    /// [`Protocol::may_hide`]; honest: never, a node serves every block it announced).
    fn hides(&self, block: BlockId) -> bool {
        let _ = block;
        false
    }

    /// Whether the node asks [`Protocol::hides`] (read once, when the node is built).
    fn may_hide(&self) -> bool {
        false
    }

    /// How the node sends the blocks it publishes (honest nodes publish nothing).
    fn publish_via(&self) -> PublishVia {
        PublishVia::Relay
    }

    /// Whether to switch from `tip` to `candidate`, a block of exactly the same chain work
    /// (honest: no, the block seen first stays).
    fn prefers_on_tie(&self, store: &BlockStore, tip: BlockId, candidate: BlockId) -> bool {
        let _ = (store, tip, candidate);
        false
    }

    /// Whether the node announces blocks mined by others once they join its best chain.
    fn relays_peer_blocks(&self) -> bool {
        true
    }

    /// The run starts: a protocol with plans sets its timers.
    fn on_start(&mut self, ctx: &mut NodeCtx<'_>) {
        let _ = ctx;
    }

    /// A timer the protocol set fires; `tip` is the node's public tip.
    fn on_timer(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId, timer: u32) -> Answer {
        let _ = (ctx, tip, timer);
        Answer::default()
    }

    /// Another node handed this node a payment; `tip` is its tip.
    fn on_handover(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId, payment: TxIndex) {
        let _ = (ctx, tip, payment);
    }

    /// The node finished acting on a block it mined or accepted; `tip` is its tip now.
    fn after_block(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId) {
        let _ = (ctx, tip);
    }

    /// The payments the node leaves out of the blocks it produces (honest: none).
    fn censor(&self) -> Option<&crate::scenario::cartel::Censor> {
        None
    }

    /// What the protocol reports about itself.
    fn report(&self) -> Report {
        Report::Plain
    }
}

/// The honest protocol: mine on the most-work tip, relay every block at once.
///
/// A unit struct, so that the thousands of honest nodes of a large run hold no data behind
/// their protocol pointer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Honest;

impl Protocol for Honest {
    fn name(&self) -> &'static str {
        "honest"
    }
}

/// An honest miner that passes on nobody else's blocks (a node an attacker placed around an
/// eclipsed victim): it still mines and publishes its own blocks honestly.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Protocol for Silent {
    fn name(&self) -> &'static str {
        "honest"
    }

    fn relays_peer_blocks(&self) -> bool {
        false
    }
}

/// An honest node with a fixed tie-break between attacker blocks and honest blocks: it
/// switches to a block of equal work when the block's miner is one it favours (and its tip's
/// miner is not), or when its tip's miner is one it disfavours (and the block's is not).
/// This is how an explicit γ is put into the network: the γ subset favours the attacker,
/// everyone else disfavours it.
#[derive(Clone, Debug, Default)]
pub struct TieBreak {
    /// Miners whose blocks win ties.
    pub favoured: Vec<NodeId>,
    /// Miners whose blocks lose ties.
    pub disfavoured: Vec<NodeId>,
}

impl Protocol for TieBreak {
    fn name(&self) -> &'static str {
        "honest"
    }

    fn prefers_on_tie(&self, store: &BlockStore, tip: BlockId, candidate: BlockId) -> bool {
        // Genesis has no miner, and is in neither list.
        let listed = |list: &[NodeId], b: BlockId| {
            store.get(b).meta.miner.is_some_and(|m| list.contains(&m))
        };
        (listed(&self.favoured, candidate) && !listed(&self.favoured, tip))
            || (listed(&self.disfavoured, tip) && !listed(&self.disfavoured, candidate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::testing::{child, store};

    #[test]
    fn tie_breaks_favour_or_disfavour_the_attackers_blocks() {
        let (mut store, g) = store();
        let honest = child(&mut store, g, NodeId(0));
        let attack = child(&mut store, g, NodeId(9));
        let gamma = TieBreak { favoured: vec![NodeId(9)], disfavoured: vec![] };
        let rest = TieBreak { favoured: vec![], disfavoured: vec![NodeId(9)] };
        assert!(gamma.prefers_on_tie(&store, honest, attack));
        assert!(!gamma.prefers_on_tie(&store, attack, honest));
        assert!(rest.prefers_on_tie(&store, attack, honest));
        assert!(!rest.prefers_on_tie(&store, honest, attack));
        let other = child(&mut store, g, NodeId(1));
        assert!(!gamma.prefers_on_tie(&store, honest, other), "honest ties stay first-seen");
        assert!(!Honest.prefers_on_tie(&store, honest, attack));
    }
}
