//! Block relay: the messages, their sizes on the wire from the real Bitcoin P2P encodings,
//! and what a node does when one arrives.
//!
//! Only sizes matter to the network model (they set transmission time); the content of a
//! message is the id of a block in the shared store.
//!
//! The rules, as Bitcoin Core follows them: a node announces a block once it has validated
//! it and it joined its best chain. With `inv` the peer asks (`getdata`) and gets the block;
//! with `push` the block is sent unasked. With `compact`, between two BIP152 speakers: each
//! node picks a few high-bandwidth peers (3 by default, as Bitcoin Core) that push it a
//! `cmpctblock` unannounced; its other peers announce with `inv` and it asks for the compact
//! block. When the receiver lacks transactions it needs one more round trip
//! (`getblocktxn`/`blocktxn`).

use super::Node;
use super::chain_view::BlockState;
use super::ctx::NodeCtx;
use super::mempool;
use crate::chain::BlockId;
use crate::chain::block::{Block, HEADER_SIZE_BYTES};
use crate::chain::tx::compact_size_len;
use crate::id::LinkId;
use crate::rng;
use crate::scenario::RelayProtocol;

/// Every P2P message starts with a 24-byte header (magic, command, length, checksum).
pub const MESSAGE_HEADER_BYTES: u64 = 24;
/// An inventory entry: 4-byte type and 32-byte hash.
pub const INV_ENTRY_BYTES: u64 = 36;
/// A BIP152 short transaction id.
pub const SHORT_ID_BYTES: u64 = 6;

/// What a message says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MessageKind {
    /// "I have this block."
    Inv,
    /// "Send me this block."
    GetData,
    /// BIP152 low-bandwidth mode: a getdata asking for the compact block.
    GetCmpct,
    /// The full block.
    Block,
    /// BIP152 compact block: header plus short transaction ids.
    CmpctBlock,
    /// BIP152: "send me the transactions I lack."
    GetBlockTxn,
    /// BIP152: the missing transactions.
    BlockTxn,
}

/// A message about one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    /// What it says.
    pub kind: MessageKind,
    /// Which block.
    pub block: BlockId,
    /// `getblocktxn`/`blocktxn` with real transactions: how many the receiver lacks
    /// (0 otherwise, and in runs without a workload, where sizes come from [`WireSizes`]).
    pub missing_txs: u32,
    /// Their total size in bytes.
    pub missing_bytes: u32,
}

impl Message {
    /// A message of `kind` about `block` with no transaction list.
    pub fn about(kind: MessageKind, block: BlockId) -> Message {
        Message { kind, block, missing_txs: 0, missing_bytes: 0 }
    }
}

/// Sizes of `getblocktxn` and `blocktxn` for `txs` missing transactions of `bytes` bytes
/// (indexes are differentially encoded, one byte each for nearby transactions).
pub fn block_txn_sizes(txs: u64, bytes: u64) -> (u64, u64) {
    let prefix = MESSAGE_HEADER_BYTES + 32 + compact_size_len(txs) as u64;
    (prefix + txs, prefix + bytes)
}

/// Wire sizes of every message about one block, computed once when the block is mined.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireSizes {
    /// `block` message.
    pub block: u64,
    /// `cmpctblock` message (header, nonce, short ids, prefilled coinbase).
    pub cmpct_block: u64,
    /// `getblocktxn` for the transactions a receiver is missing.
    pub get_block_txn: u64,
    /// `blocktxn` carrying them.
    pub block_txn: u64,
}

/// Size of an `inv` or `getdata` naming one block.
pub const fn inv_size() -> u64 {
    MESSAGE_HEADER_BYTES + 1 + INV_ENTRY_BYTES
}

impl WireSizes {
    /// Computes the sizes for `block`; `missing_tx_share` is the share of its non-coinbase
    /// transactions a receiver of a failed compact block must fetch.
    pub fn of(block: &Block, missing_tx_share: f64) -> WireSizes {
        let block_bytes = block.size_bytes();
        let tx_count = u64::from(block.tx_count());
        let coinbase_bytes = block.txs.first().map_or(0, |t| t.size_bytes() as u64);
        let short_ids = tx_count.saturating_sub(1);
        let cmpct_block = MESSAGE_HEADER_BYTES
            + HEADER_SIZE_BYTES as u64
            + 8
            + compact_size_len(short_ids) as u64
            + SHORT_ID_BYTES * short_ids
            + 1
            + 1
            + coinbase_bytes;
        let missing = (missing_tx_share * short_ids as f64).ceil() as u64;
        let payload_bytes = block_bytes.saturating_sub(HEADER_SIZE_BYTES as u64 + coinbase_bytes);
        let missing_bytes = (payload_bytes * missing).checked_div(short_ids).unwrap_or(0);
        let (get_block_txn, block_txn) = block_txn_sizes(missing, missing_bytes);
        WireSizes {
            block: MESSAGE_HEADER_BYTES + block_bytes,
            cmpct_block,
            get_block_txn,
            block_txn,
        }
    }

    /// Size of `msg` on the wire.
    pub fn of_message(&self, msg: &Message) -> u64 {
        let (txs, bytes) = (u64::from(msg.missing_txs), u64::from(msg.missing_bytes));
        match msg.kind {
            MessageKind::GetBlockTxn | MessageKind::BlockTxn if txs > 0 => {
                let (get, txn) = block_txn_sizes(txs, bytes);
                if msg.kind == MessageKind::GetBlockTxn { get } else { txn }
            }
            MessageKind::Inv | MessageKind::GetData | MessageKind::GetCmpct => inv_size(),
            MessageKind::Block => self.block,
            MessageKind::CmpctBlock => self.cmpct_block,
            MessageKind::GetBlockTxn => self.get_block_txn,
            MessageKind::BlockTxn => self.block_txn,
        }
    }
}

// ----- what a node does with relay messages -----

impl Node {
    /// Sends a request or answer about `block` over `link` (never skipped: the other side
    /// is waiting for it).
    fn reply(ctx: &mut NodeCtx<'_>, link: LinkId, kind: MessageKind, block: BlockId) {
        ctx.send(link, Message::about(kind, block), false);
    }

    /// Announces `block` to every peer except over `except`: an `inv`, or with `push` the
    /// block itself, or with `compact` a `cmpctblock` to the peers that chose this node as
    /// a high-bandwidth peer.
    pub(super) fn announce(ctx: &mut NodeCtx<'_>, block: BlockId, except: Option<LinkId>) {
        let protocol = ctx.settings().relay.protocol;
        let node = ctx.node();
        let peers = ctx.peers();
        let sender_compact = peers.compact[node.index()];
        for link in ctx.network().links_of(node) {
            if Some(link) == except {
                continue;
            }
            let kind = match protocol {
                RelayProtocol::Push => MessageKind::Block,
                RelayProtocol::Compact if sender_compact && peers.high_bandwidth[link.index()] => {
                    MessageKind::CmpctBlock
                }
                _ => MessageKind::Inv,
            };
            ctx.send(link, Message::about(kind, block), true);
        }
    }

    /// A message arrived from the peer at the other end of `back` (the node's link to it).
    pub(super) fn on_message(&mut self, ctx: &mut NodeCtx<'_>, back: LinkId, msg: Message) {
        let state = self.view.state(msg.block);
        match msg.kind {
            MessageKind::Inv => {
                if state.wants() {
                    self.view.set_state(msg.block, BlockState::Requested);
                    let sender = ctx.network().link_target(back);
                    let compact = &ctx.peers().compact;
                    let kind = if compact[self.id.index()] && compact[sender.index()] {
                        MessageKind::GetCmpct
                    } else {
                        MessageKind::GetData
                    };
                    Node::reply(ctx, back, kind, msg.block);
                }
            }
            MessageKind::GetData => Node::reply(ctx, back, MessageKind::Block, msg.block),
            MessageKind::GetCmpct => Node::reply(ctx, back, MessageKind::CmpctBlock, msg.block),
            MessageKind::GetBlockTxn => {
                let answer = Message { kind: MessageKind::BlockTxn, ..msg };
                ctx.send(back, answer, false);
            }
            MessageKind::Block | MessageKind::BlockTxn => {
                if !state.ignores_block() {
                    self.receive_block(ctx, msg.block, Some(back));
                }
            }
            MessageKind::CmpctBlock => {
                if !state.ignores_block() {
                    self.on_compact_block(ctx, back, msg.block, state);
                }
            }
        }
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
        let next = if self.view.state(parent) != BlockState::Accepted {
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
            let failure = ctx.settings().relay.compact_failure_probability;
            let rng = ctx.rng.relay.as_mut().expect("compact relay draws from the relay stream");
            (rng::uniform01(rng) < failure).then(|| Message::about(MessageKind::GetBlockTxn, block))
        };
        match next {
            Some(request) => {
                if state != BlockState::Requested {
                    self.view.set_state(block, BlockState::Requested);
                }
                ctx.send(back, request, false);
            }
            None => self.receive_block(ctx, block, Some(back)),
        }
    }
}
