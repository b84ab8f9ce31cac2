//! Block relay: what a node does when a relay message arrives, and how it announces
//! blocks (the messages themselves are in [`crate::network::message`]).
//!
//! The rules, as Bitcoin Core follows them: a node announces a block once it has validated
//! it and it joined its best chain. With `inv` the peer asks (`getdata`) and gets the block.
//! With `push` the block's miner sends the block unasked to all its peers, and every other
//! node relays with `inv` (unsolicited block push as the literature means it, e.g. Gervais
//! et al., CCS 2016); `flood` is the older model in which every node pushes every block.
//! With `compact`, between two BIP152 speakers: each node picks a few high-bandwidth peers
//! (3 by default, as Bitcoin Core) that push it a `cmpctblock` unannounced; its other
//! peers announce with `inv` and it asks for the compact block. When the receiver lacks
//! transactions it needs one more round trip (`getblocktxn`/`blocktxn`).
//!
//! High-bandwidth peers are chosen by recent fastest delivery, as Bitcoin Core's
//! `MaybeSetPeerAsAnnouncingHeaderAndIDs` does: whenever a peer delivers a node a valid new
//! block first, it becomes the node's most recent high-bandwidth peer, dropping the one
//! that has gone longest without doing so beyond `compact_high_bandwidth_peers` (3). At the
//! start each node has a seeded random choice of that many compact-speaking peers (Bitcoin
//! Core starts with none; a random start keeps the first blocks of a run from travelling
//! by `inv` alone). A block that passes the header and proof-of-work checks and extends the
//! node's tip goes to its high-bandwidth-mode peers before full validation.
//!
//! With a request timeout (`network.relay.request_timeout_s`, Gervais et al.'s
//! `InvTimeoutMinutes`), a node remembers every peer that announced a block it asked for;
//! when the block has not come within the timeout it forgets the peer it asked, asks one of
//! the others at random and waits again, and with no one left it waits for the next `inv`.
//! The first request is not cancelled: a slow sender still sends the block, and both copies
//! cost the links their time.

use smallvec::{SmallVec, smallvec};

use super::Node;
use super::chain_view::BlockState;
use super::ctx::{NodeCtx, Peers};
use super::mempool;
use crate::chain::BlockId;
use crate::id::{LinkId, NodeId};
use crate::network::message::refetch_size;
use crate::network::message::{Message, MessageKind};
use crate::rng;
use crate::scenario::{Refetch, RelayProtocol, RelaySpec};
use crate::time::SimTime;

/// A node's requests for blocks that may time out, and what their timeouts did.
#[derive(Clone, Debug, Default)]
pub struct Requests {
    /// Per block waited for: when the current request times out and the links to the peers
    /// that announced it, the one asked first.
    waiting: std::collections::BTreeMap<BlockId, (SimTime, SmallVec<[LinkId; 4]>)>,
    /// What the timeouts that fired did.
    pub(super) timeouts: RequestTimeouts,
}

/// What a node's request timeouts did (Gervais et al.'s `InvTimeoutExpired` count is
/// their sum).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RequestTimeouts {
    /// Timeouts on which the node asked another peer that had announced the block.
    pub asked_again: u64,
    /// Timeouts with no other announcer left: the node forgot the block until the next
    /// announcement.
    pub lapsed: u64,
}

impl RequestTimeouts {
    /// Adds another node's counts.
    pub fn add(&mut self, other: RequestTimeouts) {
        self.asked_again += other.asked_again;
        self.lapsed += other.lapsed;
    }
}

// ----- what a node does with relay messages -----

/// The message that announces a block on `link`, which starts at `node`: an `inv`, or with
/// `flood` the block itself, or with `compact` a `cmpctblock` if the peer chose `node` as a
/// high-bandwidth peer (both must speak BIP152). With `push` only the block's miner pushes
/// it ([`Node::announce`] sends those itself); everyone else announces with `inv`.
#[inline]
pub fn announcement(relay: &RelaySpec, peers: &Peers, node: NodeId, link: LinkId) -> MessageKind {
    match relay.protocol {
        RelayProtocol::Flood => MessageKind::Block,
        RelayProtocol::Compact
            if peers.compact[node.index()] && peers.high_bandwidth[link.index()].get() =>
        {
            MessageKind::CmpctBlock
        }
        _ => MessageKind::Inv,
    }
}

impl Node {
    /// Sends a request or answer about `block` over `link` (never skipped: the other side
    /// is waiting for it).
    fn reply(ctx: &mut NodeCtx<'_>, link: LinkId, kind: MessageKind, block: BlockId) {
        ctx.send(link, Message::about(kind, block), false);
    }

    /// Announces `block` to every peer except over `except` (see [`announcement`] for what
    /// goes on each link). With `push`, the block's miner sends the whole block to every
    /// such peer instead.
    pub(super) fn announce(ctx: &mut NodeCtx<'_>, block: BlockId, except: Option<LinkId>) {
        let node = ctx.node();
        if ctx.settings().relay.protocol == RelayProtocol::Push
            && ctx.store().get(block).meta.miner == Some(node)
        {
            for link in ctx.network().links_of(node).filter(|&l| Some(l) != except) {
                ctx.send(link, Message::about(MessageKind::Block, block), true);
            }
            return;
        }
        ctx.announce(block, except);
    }

    /// BIP152 high-bandwidth relay, as Bitcoin Core's `NewPoWValidBlock`: a block from a peer
    /// that passed the header and proof-of-work checks and extends the node's tip goes at
    /// once, as a `cmpctblock`, to the peers that chose this node as a high-bandwidth peer,
    /// before the node validates it in full (so a compact block from a high-bandwidth peer
    /// is passed on after one header check per hop). Core does this whichever way the block
    /// came, once per height; so does this node. If full validation then fails, the block
    /// is rejected and goes no further from this node; its high-bandwidth peers check it
    /// themselves (BIP152 lets a peer relay such a block without being punished).
    pub(super) fn announce_before_validation(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        block: BlockId,
        from: Option<LinkId>,
    ) {
        let Some(from) = from else { return };
        let (relay, peers) = (&ctx.settings().relay, ctx.peers());
        if relay.protocol != RelayProtocol::Compact
            || !peers.compact[self.id.index()]
            || !self.protocol.relays_peer_blocks()
        {
            return;
        }
        let entry = ctx.store().get(block);
        if entry.parent != Some(self.view.tip) || entry.height <= self.highest_fast_announce {
            return;
        }
        self.highest_fast_announce = entry.height;
        self.fast_announced.push(block);
        for link in ctx.network().links_of(self.id) {
            if link != from && announcement(relay, peers, self.id, link) == MessageKind::CmpctBlock
            {
                ctx.send(link, Message::about(MessageKind::CmpctBlock, block), true);
            }
        }
    }

    /// Announces a validated block of the node's best chain to every peer but over
    /// `except`, leaving out the high-bandwidth-mode peers it already sent the block to
    /// before validation.
    pub(super) fn announce_validated(
        &self,
        ctx: &mut NodeCtx<'_>,
        block: BlockId,
        except: Option<LinkId>,
    ) {
        if !self.fast_announced.contains(&block) {
            return Node::announce(ctx, block, except);
        }
        let (relay, peers) = (&ctx.settings().relay, ctx.peers());
        for link in ctx.network().links_of(self.id) {
            let kind = announcement(relay, peers, self.id, link);
            if Some(link) != except && kind != MessageKind::CmpctBlock {
                ctx.send(link, Message::about(kind, block), true);
            }
        }
    }

    /// The peer over `link` delivered the node a valid new block first: with BIP152 it
    /// becomes the node's most recent high-bandwidth peer, and if that makes one too many,
    /// the peer that has gone longest without doing so is dropped (Bitcoin Core's
    /// `MaybeSetPeerAsAnnouncingHeaderAndIDs`). The `sendcmpct` messages that tell the
    /// peers take effect at once here.
    pub(super) fn delivered_first(&mut self, ctx: &mut NodeCtx<'_>, link: LinkId) {
        let (relay, peers) = (&ctx.settings().relay, ctx.peers());
        let peer = ctx.network().link_target(link);
        let max = relay.compact_high_bandwidth_peers as usize;
        if relay.protocol != RelayProtocol::Compact
            || max == 0
            || !peers.compact[self.id.index()]
            || !peers.compact[peer.index()]
        {
            return;
        }
        let chosen = &mut self.high_bandwidth;
        if let Some(at) = chosen.iter().position(|&l| l == link) {
            chosen[..=at].rotate_right(1);
            return;
        }
        while chosen.len() >= max {
            let dropped = chosen.pop().expect("at least one peer to drop");
            peers.high_bandwidth[ctx.network().reverse_link(dropped).index()].set(false);
        }
        chosen.insert(0, link);
        peers.high_bandwidth[ctx.network().reverse_link(link).index()].set(true);
    }

    /// A message arrived from the peer at the other end of `back` (the node's link to it).
    pub(super) fn on_message(&mut self, ctx: &mut NodeCtx<'_>, back: LinkId, msg: Message) {
        if self.may_hide
            && matches!(
                msg.kind,
                MessageKind::GetData | MessageKind::GetCmpct | MessageKind::GetBlockTxn
            )
            && self.protocol.hides(msg.block)
        {
            // The protocol does not serve this block (an attacker's unknown parent).
            return;
        }
        let state = ctx.state(msg.block);
        match msg.kind {
            MessageKind::Inv => {
                if state.wants() {
                    self.heard_of(ctx, msg.block);
                    ctx.set_state(msg.block, BlockState::Requested);
                    let compact = &ctx.peers().compact;
                    // The sender is looked up only when this node speaks BIP152.
                    let kind = if compact[self.id.index()]
                        && compact[ctx.network().link_target(back).index()]
                    {
                        MessageKind::GetCmpct
                    } else {
                        MessageKind::GetData
                    };
                    Node::reply(ctx, back, kind, msg.block);
                    self.await_block(ctx, back, msg.block);
                } else if state == BlockState::Requested {
                    self.also_announced(back, msg.block);
                }
            }
            MessageKind::GetData => Node::reply(ctx, back, MessageKind::Block, msg.block),
            MessageKind::GetCmpct => Node::reply(ctx, back, MessageKind::CmpctBlock, msg.block),
            MessageKind::GetBlockTxn => {
                let answer = Message { kind: MessageKind::BlockTxn, ..msg };
                ctx.send(back, answer, false);
            }
            MessageKind::Block => {
                if !state.ignores_block() {
                    if state.wants() {
                        self.heard_of(ctx, msg.block);
                    }
                    self.receive_block(ctx, msg.block, Some(back), 0);
                }
            }
            MessageKind::BlockTxn => {
                if !state.ignores_block() {
                    let fetched = Node::fetched_txs(ctx, &msg);
                    self.receive_block(ctx, msg.block, Some(back), fetched);
                }
            }
            MessageKind::CmpctBlock => {
                if !state.ignores_block() {
                    if state.wants() {
                        self.heard_of(ctx, msg.block);
                    }
                    self.on_compact_block(ctx, back, msg.block, state);
                }
            }
        }
    }

    /// The node asked the peer over `link` for `block` on its `inv`: with a request timeout,
    /// it remembers the peer and sets the timer.
    fn await_block(&mut self, ctx: &mut NodeCtx<'_>, link: LinkId, block: BlockId) {
        let Some(timeout) = ctx.settings().relay.request_timeout else { return };
        let deadline = ctx.now() + timeout;
        let requests = self.requests.get_or_insert_with(Box::default);
        requests.waiting.insert(block, (deadline, smallvec![link]));
        ctx.set_timer(deadline, super::Timer::Request { block });
    }

    /// The peer over `link` announced `block`, which the node already asked another peer
    /// for: it is a candidate if that request times out.
    fn also_announced(&mut self, link: LinkId, block: BlockId) {
        if let Some((_, peers)) = self.requests.as_mut().and_then(|r| r.waiting.get_mut(&block)) {
            peers.push(link);
        }
    }

    /// A request timer for `block` fires. If the node still waits for the block under that
    /// request, it forgets the peer it asked and asks another that announced the block,
    /// chosen at random (Gervais et al.'s `InvTimeoutExpired`); with no one left it waits
    /// for the next announcement. The first request stands.
    pub(super) fn on_request_timeout(&mut self, ctx: &mut NodeCtx<'_>, block: BlockId) {
        let Some(requests) = self.requests.as_mut() else { return };
        let Some((deadline, peers)) = requests.waiting.get_mut(&block) else { return };
        if *deadline != ctx.now() {
            return; // a later request superseded this timer
        }
        if ctx.state(block) != BlockState::Requested {
            requests.waiting.remove(&block);
            return;
        }
        peers.remove(0);
        if peers.is_empty() {
            requests.waiting.remove(&block);
            requests.timeouts.lapsed += 1;
            ctx.set_state(block, BlockState::Unknown);
            return;
        }
        requests.timeouts.asked_again += 1;
        let rng =
            ctx.rng.relay.as_deref_mut().expect("request timeouts draw from the relay stream");
        let pick = rng::below(rng, peers.len() as u64) as usize;
        peers.swap(0, pick);
        let link = peers[0];
        let timeout = ctx.settings().relay.request_timeout.expect("the timer was set with one");
        *deadline = ctx.now() + timeout;
        let next = *deadline;
        Node::reply(ctx, link, MessageKind::GetData, block);
        ctx.set_timer(next, super::Timer::Request { block });
    }

    /// How many transactions a `blocktxn` brought: its own count, or with the fixed refetch
    /// model (whose messages carry none) the scenario's share of the block's transactions.
    fn fetched_txs(ctx: &NodeCtx<'_>, msg: &Message) -> u32 {
        if msg.missing_txs > 0 {
            return msg.missing_txs;
        }
        let share = ctx.settings().relay.compact_missing_tx_share;
        let (txs, _) = refetch_size(&ctx.store().get(msg.block).block, share);
        txs.min(u64::from(u32::MAX)) as u32
    }

    /// Whether this node fails to rebuild `block` from its (modelled) mempool, and if so the
    /// request for what it lacks: the failure probability of its class (churning or not) and
    /// the share of the block to fetch from the scenario's refetch model.
    fn compact_failure(&self, ctx: &mut NodeCtx<'_>, block: BlockId) -> Option<Message> {
        let relay = &ctx.settings().relay;
        let churn = ctx.peers().churn.get(self.id.index()).copied().unwrap_or(false);
        let failure = if churn {
            relay.compact_churn_failure_probability
        } else {
            relay.compact_failure_probability
        };
        let (refetch, fixed) = (relay.compact_refetch, relay.compact_missing_tx_share);
        let rng = ctx.rng.relay.as_deref_mut().expect("compact relay draws from the relay stream");
        if rng::uniform01(rng) >= failure {
            return None;
        }
        if refetch == Refetch::Fixed {
            return Some(Message::about(MessageKind::GetBlockTxn, block));
        }
        let share = refetch.share(fixed, churn, rng::uniform01(rng));
        let (txs, bytes) = refetch_size(&ctx.store().get(block).block, share);
        Some(Message {
            kind: MessageKind::GetBlockTxn,
            block,
            missing_txs: txs.min(u64::from(u32::MAX)) as u32,
            missing_bytes: bytes.min(u64::from(u32::MAX)) as u32,
        })
    }

    /// BIP152: rebuild a compact block from the mempool, asking for what is missing, or
    /// fall back to the full block when the parent is unknown.
    fn on_compact_block(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        back: LinkId,
        block: BlockId,
        state: BlockState,
    ) {
        let parent = ctx.store().get(block).parent.expect("genesis is never relayed");
        let next = if ctx.state(parent) != BlockState::Accepted {
            // Cannot reconstruct without the parent: fall back to the full block.
            Some(Message::about(MessageKind::GetData, block))
        } else if let Some(missing) = mempool::missing(ctx, block) {
            // Rebuild from the mempool; ask for what it lacks.
            (missing.txs > 0).then_some(Message {
                kind: MessageKind::GetBlockTxn,
                block,
                missing_txs: missing.txs,
                missing_bytes: missing.bytes.min(u64::from(u32::MAX)) as u32,
            })
        } else {
            self.compact_failure(ctx, block)
        };
        match next {
            Some(request) => {
                if state != BlockState::Requested {
                    ctx.set_state(block, BlockState::Requested);
                }
                ctx.send(back, request, false);
            }
            None => self.receive_block(ctx, block, Some(back), 0),
        }
    }
}
