//! What a node does: a state machine over a [`NodeCtx`], one per simulated node.
//!
//! Every node runs the same machinery, as Bitcoin Core does: it answers relay messages
//! ([`relay`]), validates whole blocks one at a time and keeps the most-work chain
//! (`validation`), holds orphans until their parents arrive, and, if it has hash power,
//! runs a mining clock ([`miner`]) over templates from its mempool ([`mempool`]). Where a
//! node has a choice (which block to mine on, what to do with a block it mined or accepted,
//! ties, relaying others' blocks, its own plans) it asks its [`Protocol`]: the honest
//! answers, or an attacker's ([`attacker`]), or a role's such as the [`merchant`]'s.
//!
//! A node sees the rest of the run only through the [`NodeCtx`] the world lends it for each
//! input, and acts only through the context's outbox. So a node can be driven and inspected
//! without a world (the `testing` module does so in unit tests), and the world contains no protocol
//! decision at all.

pub mod attacker;
pub mod chain_view;
pub mod costs;
pub mod ctx;
pub mod decisions;
pub mod mempool;
pub mod merchant;
pub mod miner;
pub mod misbehaviour;
pub mod population;
pub mod producer;
mod producer_coinage;
mod producer_poet;
pub mod producer_signed;
pub mod protocol;
pub mod relay;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
pub mod validation;

pub use chain_view::{BlockState, ChainView};
pub use ctx::{Action, NodeCtx, Timer};
pub use miner::Miner;
pub use protocol::{Protocol, Report};
pub use validation::MAX_FUTURE_BLOCK_TIME_S;

use smallvec::SmallVec;

use crate::chain::pow::CompactTarget;
use crate::chain::{BlockId, RejectReason};
use crate::id::{LinkId, NodeId};
use crate::network::message::{Message, MessageKind};
use crate::observe::Record;
use crate::payments::pool::TxIndex;
use crate::time::SimTime;

/// One simulated node: its tip and orphans, its mining clock and its protocol (what it
/// knows of each block is its column of the shared [`chain_view::BlockStates`]).
pub struct Node {
    view: ChainView,
    /// The next-block bits the pending mining clock was drawn for (sampled mode; zero when
    /// no clock is pending or the node does not mine). Kept here rather than in the boxed
    /// [`Miner`], so deciding whether a new tip changes the clock reads no other memory.
    clock_bits: CompactTarget,
    /// The mining clock, if the node has hash power (boxed: most nodes have none).
    miner: Option<Box<Miner>>,
    /// The slot clock and keys, if the node holds stake in a `pos-slot` run.
    producer: Option<Box<producer::Producer>>,
    /// The key and clock of a signed-seal producer (`dpos`), if the node holds stake.
    signed: Option<Box<producer_signed::SignedProducer>>,
    protocol: Box<dyn Protocol>,
    id: NodeId,
    /// When the node's validator is free again (one block at a time).
    validator_free_at: SimTime,
    online: bool,
    /// `pos-slot`: the node came online holding nothing but genesis, so it syncs: it
    /// chooses its chain by the scenario's sync rule (`consensus::genesis`), not by the
    /// rollback limit.
    syncing: bool,
    /// Whether its protocol is asked about announcements of blocks it lacks
    /// ([`Protocol::on_announced`]).
    hears_announcements: bool,
    /// Blocks rejected, by reason.
    rejected: Vec<u64>,
    /// Blocks it sent to its high-bandwidth-mode peers before validating them (BIP152), until
    /// it has validated them: they are not sent to those peers again afterwards.
    fast_announced: SmallVec<[BlockId; 2]>,
    /// Its high-bandwidth peers (BIP152), as its links to them, the latest to deliver it a
    /// new block first at the front; at most `relay.compact_high_bandwidth_peers`.
    high_bandwidth: SmallVec<[LinkId; 3]>,
    /// The height of the last block it announced so (Bitcoin Core's
    /// `m_highest_fast_announce`): a block is fast-announced at most once per height.
    highest_fast_announce: u32,
    /// Misbehaviour scores of its peers, and the peers it banned.
    conduct: misbehaviour::Conduct,
    /// Whether its protocol may refuse to serve blocks it was asked for
    /// ([`Protocol::hides`]; read once, so honest nodes pay nothing per request).
    may_hide: bool,
    /// With a request timeout: the blocks it asked for on an `inv` and is waiting for
    /// (created on the first such request).
    requests: Option<Box<relay::Requests>>,
}

impl Node {
    /// A node that knows only genesis, with a mining clock if it has hash power, following
    /// `protocol`.
    pub fn new(id: NodeId, miner: Option<Miner>, protocol: Box<dyn Protocol>) -> Node {
        Node {
            id,
            view: ChainView::new(BlockId::GENESIS),
            clock_bits: CompactTarget(0),
            validator_free_at: SimTime::ZERO,
            miner: miner.map(Box::new),
            producer: None,
            signed: None,
            hears_announcements: protocol.hears_announcements(),
            may_hide: protocol.may_hide(),
            protocol,
            online: true,
            syncing: false,
            rejected: vec![0; RejectReason::ALL.len()],
            fast_announced: SmallVec::new(),
            high_bandwidth: SmallVec::new(),
            highest_fast_announce: 0,
            conduct: misbehaviour::Conduct::default(),
            requests: None,
        }
    }

    /// Sets the node's initial high-bandwidth peers, as its links to them, the first the
    /// most recent (the peers' flags in [`ctx::Peers`] are set by the caller).
    pub fn set_high_bandwidth_peers(&mut self, links: &[LinkId]) {
        self.high_bandwidth = links.iter().copied().collect();
    }

    /// The node's high-bandwidth peers, as its links to them, the latest to deliver it a
    /// new block first at the front.
    #[cfg(test)]
    pub fn high_bandwidth_peers(&self) -> &[LinkId] {
        &self.high_bandwidth
    }

    /// The node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The node's public tip: its most-work chain (first seen on ties).
    #[inline]
    pub fn tip(&self) -> BlockId {
        self.view.tip
    }

    /// The block its miner builds on (the tip, unless its protocol mines a private branch).
    #[inline]
    pub fn mining_tip(&self) -> BlockId {
        self.protocol.mining_tip(self.view.tip)
    }

    /// Whether the node produces blocks: it has hash power, or stake in a slot run.
    pub fn mines(&self) -> bool {
        self.miner.is_some() || self.producer.is_some() || self.signed.is_some()
    }

    /// Its protocol's name.
    pub fn protocol_name(&self) -> &'static str {
        self.protocol.name()
    }

    /// What its protocol reports about itself.
    pub fn report(&self) -> Report {
        self.protocol.report()
    }

    /// Orphans the node holds.
    #[cfg(test)]
    pub fn orphan_count(&self) -> usize {
        self.view.orphans.len()
    }

    /// Blocks the node rejected, by reason (indexed like [`RejectReason::ALL`]).
    pub fn rejected(&self) -> &[u64] {
        &self.rejected
    }

    /// What its request timeouts did (nothing without `network.relay.request_timeout_s`).
    pub fn request_timeouts(&self) -> relay::RequestTimeouts {
        self.requests.as_ref().map(|r| r.timeouts).unwrap_or_default()
    }

    // ----- inputs -----

    /// The run starts: miners start their clocks, stakeholders their slot clocks.
    pub fn on_start(&mut self, ctx: &mut NodeCtx<'_>) {
        if self.miner.is_some() {
            self.start_mining(ctx);
        }
        if self.producer.is_some() {
            self.start_slots(ctx);
        }
        if self.signed.is_some() {
            self.start_signed(ctx);
        }
    }

    /// After every node's clock and the workload and timeline are set: the protocol sets
    /// its own timers.
    pub fn on_plans(&mut self, ctx: &mut NodeCtx<'_>) {
        self.protocol.on_start(ctx);
    }

    /// A message arrived over `link` (which leads from the sender to this node): for tests;
    /// the world knows the link back and calls [`Node::on_deliver_back`].
    #[cfg(test)]
    pub fn on_deliver(&mut self, ctx: &mut NodeCtx<'_>, link: LinkId, msg: Message) {
        let back = ctx.network().reverse_link(link);
        self.on_deliver_back(ctx, back, msg);
    }

    /// A message arrived from the peer at the other end of `back` (this node's link to the
    /// sender, the reverse of the link the message travelled).
    #[inline]
    pub fn on_deliver_back(&mut self, ctx: &mut NodeCtx<'_>, back: LinkId, msg: Message) {
        if self.conduct.is_banned(back) {
            return self.ignore_banned(ctx, back, msg);
        }
        self.on_message(ctx, back, msg);
    }

    /// A timer the node set fires.
    pub fn on_timer(&mut self, ctx: &mut NodeCtx<'_>, timer: Timer) {
        match timer {
            Timer::Mined { generation } => self.on_mined(ctx, generation),
            Timer::Validated { block, from, verdict } => {
                self.on_validated(ctx, block, from, verdict);
            }
            Timer::Protocol(k) => self.decide_timer(ctx, k),
            Timer::Request { block } => self.on_request_timeout(ctx, block),
            Timer::Slot { generation } => self.on_slot(ctx, generation),
            Timer::Signed { generation } => self.on_signed_timer(ctx, generation),
        }
    }

    /// A message about `block` that this node was waiting for (its own request, or an
    /// answer to it) was lost on a cut link: the block is wanted again, so the node asks
    /// once it hears of the block anew.
    pub fn on_lost(&mut self, ctx: &mut NodeCtx<'_>, msg: &Message) {
        if msg.kind != MessageKind::Inv && ctx.state(msg.block) == BlockState::Requested {
            ctx.set_state(msg.block, BlockState::Unknown);
        }
    }

    /// A link to a peer came back. The node announces the blocks of its best chain that the
    /// peer lacks, oldest first, as Bitcoin's header exchange on (re)connection finds them
    /// from the peer's locator (`peer_tip`). The peer fetches them with the normal relay
    /// protocol and switches if they have more work.
    pub fn on_link_restored(&mut self, ctx: &mut NodeCtx<'_>, link: LinkId, peer_tip: BlockId) {
        if !self.protocol.relays_peer_blocks() {
            return;
        }
        let tip = self.view.tip;
        let fork = ctx.store().fork_point(tip, peer_tip);
        for block in ctx.store().branch(tip, fork) {
            ctx.send(link, Message::about(MessageKind::Inv, block), true);
        }
    }

    /// The node went offline: its miner stops.
    pub fn on_offline(&mut self) {
        self.online = false;
        if let Some(m) = self.miner.as_mut() {
            m.void();
        }
        self.stop_slots();
        self.stop_signed();
    }

    /// The node came back online: its miner starts again.
    pub fn on_online(&mut self, ctx: &mut NodeCtx<'_>) {
        self.online = true;
        if self.view.tip == BlockId::GENESIS && ctx.settings().slots.is_some() {
            self.syncing = true;
            if let Some(stake) = ctx.shared.stake.as_deref_mut() {
                stake.fork_choice.syncs(self.id);
            }
        }
        self.restart_mining(ctx);
        if self.producer.is_some() && ctx.mining_open() {
            self.start_slots(ctx);
        }
        if self.signed.is_some() && ctx.mining_open() {
            self.start_signed(ctx);
        }
    }

    /// Another node handed this node a payment.
    pub fn on_handover(&mut self, ctx: &mut NodeCtx<'_>, payment: TxIndex) {
        let tip = self.view.tip;
        self.protocol.on_handover(ctx, tip, payment);
    }

    /// The workload samples the node's mempool: it records its size.
    pub fn on_sample(&mut self, ctx: &mut NodeCtx<'_>) {
        let tip = self.view.tip;
        if let Some((txs, bytes)) = mempool::size(ctx, tip) {
            ctx.record(Record::MempoolSampled { node: self.id, txs, bytes, time: ctx.now() });
        }
    }
}
