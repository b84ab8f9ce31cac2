//! Relay messages and their sizes on the wire, from the real Bitcoin P2P encodings.
//!
//! Only sizes matter to the network model (they set transmission time); the content of a
//! message is the id of a block in the shared store.

use crate::chain::BlockId;
use crate::chain::block::{Block, HEADER_SIZE_BYTES};
use crate::chain::tx::compact_size_len;

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

impl MessageKind {
    /// Every kind, in the order of their numbers.
    pub const ALL: [MessageKind; 7] = [
        MessageKind::Inv,
        MessageKind::GetData,
        MessageKind::GetCmpct,
        MessageKind::Block,
        MessageKind::CmpctBlock,
        MessageKind::GetBlockTxn,
        MessageKind::BlockTxn,
    ];

    /// The name of the kind in result files (`getdata_cmpct` is a `getdata` asking for a
    /// compact block).
    pub fn wire_name(self) -> &'static str {
        match self {
            MessageKind::Inv => "inv",
            MessageKind::GetData => "getdata",
            MessageKind::GetCmpct => "getdata_cmpct",
            MessageKind::Block => "block",
            MessageKind::CmpctBlock => "cmpctblock",
            MessageKind::GetBlockTxn => "getblocktxn",
            MessageKind::BlockTxn => "blocktxn",
        }
    }

    /// Whether this is a small control message (an announcement or a request) rather than a
    /// message carrying block data.
    #[inline]
    pub fn is_control(self) -> bool {
        matches!(
            self,
            MessageKind::Inv
                | MessageKind::GetData
                | MessageKind::GetCmpct
                | MessageKind::GetBlockTxn
        )
    }
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

/// How many transactions, and how many of their bytes, a receiver lacking `share` of
/// `block`'s transactions (the coinbase aside) fetches: at least one when the share is
/// positive.
pub fn refetch_size(block: &Block, share: f64) -> (u64, u64) {
    let block_bytes = block.size_bytes();
    let short_ids = u64::from(block.tx_count()).saturating_sub(1);
    let coinbase_bytes = block.txs.first().map_or(0, |t| t.size_bytes() as u64);
    let missing = (share * short_ids as f64).ceil() as u64;
    let payload_bytes = block_bytes.saturating_sub(HEADER_SIZE_BYTES as u64 + coinbase_bytes);
    let missing_bytes = (payload_bytes * missing).checked_div(short_ids).unwrap_or(0);
    (missing, missing_bytes)
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
        let (missing, missing_bytes) = refetch_size(block, missing_tx_share);
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
