//! The invalid-data attacker: a peer that sends its peers bad blocks of every kind, one item
//! at a time, so that a run shows honest nodes rejecting each with its own reason, relaying
//! none of it, and banning the sender.
//!
//! Every `every_s` the attacker takes the next kind of [`InvalidSpec::kinds`] and the next of
//! its peers that has not banned it (in link order, round robin), builds one item of that
//! kind on its current tip and pushes it to that peer as a `block` message. An item is one
//! block, except `unknown-parent`: a flood of [`InvalidSpec::flood_blocks`] blocks, each on a
//! parent of its own that the attacker made and never serves ([`Protocol::hides`]). It stops once every peer has
//! banned it.
//!
//! Every block is a real block built by the honest template builder and then spoilt in one
//! way, with its proof of work ground (except `high-hash`), so it is caught by the rule it
//! breaks and by no earlier one; the unit tests check each kind against a node's validation.
//! Bad payments travel inside blocks (a block holding the payment, its header and proof of
//! work valid): a block is how a payment that a mempool would refuse can still reach a node,
//! and it is what block validation must catch. Payments offered loose are checked on entry
//! to the pool instead ([`crate::payments::pool::TxPool::admit`]).

use super::super::ctx::NodeCtx;
use super::super::miner::push_costs;
use super::super::protocol::{Answer, Protocol};
use crate::chain::block::{Block, grind_nonce};
use crate::chain::hash::sha256d;
use crate::chain::keys::KeyPair;
use crate::chain::tx::{Amount, OutPoint, Transaction, TxIn, TxOut};
use crate::chain::{BlockId, BlockMeta, CompactTarget, TxId};
use crate::id::LinkId;
use crate::mining::{Body, build_template};
use crate::network::message::{Message, MessageKind};
use crate::node::MAX_FUTURE_BLOCK_TIME_S;
use crate::observe::Record;
use crate::scenario::attack::{InvalidKind, InvalidSpec};

/// The protocol's only timer.
const SEND_TIMER: u32 = 0;

/// Extra nonces of the attacker's blocks start here, far from its own mining's.
const EXTRA_NONCE_BASE: u64 = 1 << 48;

/// A peer that sends invalid blocks.
#[derive(Clone, Debug)]
pub struct InvalidPeer {
    spec: InvalidSpec,
    relay: bool,
    /// Items sent so far (picks the next kind).
    items: u64,
    /// Peers served so far (picks the next peer).
    turns: u64,
    /// Blocks made so far (makes every block unique).
    made: u64,
    /// Parents it never serves, sorted.
    hidden: Vec<BlockId>,
}

impl InvalidPeer {
    /// An attacker sending what `spec` says; `relay`: whether it passes on honest blocks.
    pub fn new(spec: InvalidSpec, relay: bool) -> InvalidPeer {
        InvalidPeer { spec, relay, items: 0, turns: 0, made: 0, hidden: Vec::new() }
    }

    /// The next peer that has not banned the attacker, in turn.
    fn next_peer(&mut self, ctx: &NodeCtx<'_>) -> Option<LinkId> {
        let network = ctx.network();
        let banned = &ctx.peers().banned;
        let open: Vec<LinkId> = network
            .links_of(ctx.node())
            .filter(|&l| !banned.get(network.reverse_link(l).index()).is_some_and(|b| b.get()))
            .collect();
        if open.is_empty() {
            return None;
        }
        let link = open[(self.turns % open.len() as u64) as usize];
        self.turns += 1;
        Some(link)
    }

    /// Sends the next item; returns false once every peer has banned the attacker.
    fn send_next(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId) -> bool {
        let Some(link) = self.next_peer(ctx) else { return false };
        let count = self.spec.kinds.len() as u64;
        // A kind that cannot be built now (no wallet coin yet) gives its turn to the next.
        for _ in 0..count {
            let kind = self.spec.kinds[(self.items % count) as usize];
            self.items += 1;
            let blocks = self.build(ctx, tip, kind);
            if blocks.is_empty() {
                continue;
            }
            let (node, to, time) = (ctx.node(), ctx.network().link_target(link), ctx.now());
            for block in blocks {
                ctx.send(link, Message::about(MessageKind::Block, block), false);
                ctx.record(Record::InvalidSent { node, to, block, kind, time });
            }
            break;
        }
        true
    }

    /// Builds one item of `kind` on `tip`, stored with its costs.
    pub(crate) fn build(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        tip: BlockId,
        kind: InvalidKind,
    ) -> Vec<BlockId> {
        let one = |block: Option<Block>, this: &mut Self, ctx: &mut NodeCtx<'_>| {
            block.and_then(|b| this.store(ctx, b)).into_iter().collect()
        };
        match kind {
            InvalidKind::HighHash => {
                let mut b = self.template(ctx, tip, Body::Filler);
                let target = pow_target(ctx, &b);
                while b.header.block_hash().to_u256() <= target {
                    b.header.nonce = b.header.nonce.wrapping_add(1);
                }
                one(Some(b), self, ctx)
            }
            InvalidKind::BadBits => {
                let mut b = self.template(ctx, tip, Body::Filler);
                let target = b.header.bits.to_target().expect("the store's bits decode");
                b.header.bits = CompactTarget::from_target(target.shr(1));
                one(Some(grind(ctx, b)), self, ctx)
            }
            InvalidKind::BadMerkleRoot => {
                let mut b = self.template(ctx, tip, Body::Filler);
                b.header.merkle_root[0] ^= 1;
                one(Some(grind(ctx, b)), self, ctx)
            }
            InvalidKind::TimeTooOld => {
                let mut b = self.template(ctx, tip, Body::Filler);
                b.header.time = ctx.store_mut().header_context(tip).median_time_past;
                one(Some(grind(ctx, b)), self, ctx)
            }
            InvalidKind::TimeTooNew => {
                let mut b = self.template(ctx, tip, Body::Filler);
                let clock = u64::from(ctx.settings().genesis_time) + ctx.now().as_secs();
                let ahead = clock + u64::from(MAX_FUTURE_BLOCK_TIME_S) + 3_600;
                b.header.time = ahead.min(u64::from(u32::MAX)) as u32;
                one(Some(grind(ctx, b)), self, ctx)
            }
            InvalidKind::Oversized => {
                let mut b = self.template(ctx, tip, Body::Filler);
                let limit = ctx.store().params().max_block_size_bytes;
                b.filler.tx_count = b.filler.tx_count.max(1);
                b.filler.size_bytes = u32::try_from(limit + 1).unwrap_or(u32::MAX);
                one(Some(grind(ctx, b)), self, ctx)
            }
            InvalidKind::CoinbaseOverpays => {
                let b = self.template(ctx, tip, Body::Filler);
                one(Some(grind(ctx, overpay(b))), self, ctx)
            }
            InvalidKind::BadSignature => {
                let Some((coin, value, pubkey)) = wallet_coin(ctx, tip) else { return Vec::new() };
                let mut tx = spend(coin, pubkey, value.0.saturating_sub(1_000).max(1));
                // Signed, but by another key than the one the coin pays to.
                let forger = KeyPair::from_seed(&sha256d(&self.made.to_le_bytes()));
                tx.inputs[0].signature = forger.sign(&tx.sighash());
                let b = self.template(ctx, tip, Body::Txs(vec![tx], Amount::ZERO));
                one(Some(grind(ctx, b)), self, ctx)
            }
            InvalidKind::MissingInput => {
                let tx = self.missing_spend();
                let b = self.template(ctx, tip, Body::Txs(vec![tx], Amount::ZERO));
                one(Some(grind(ctx, b)), self, ctx)
            }
            InvalidKind::DoubleSpendInBlock => {
                let Some((coin, _, pubkey)) = wallet_coin(ctx, tip) else { return Vec::new() };
                let txs = vec![spend(coin, pubkey, 1), spend(coin, pubkey, 2)];
                let b = self.template(ctx, tip, Body::Txs(txs, Amount::ZERO));
                one(Some(grind(ctx, b)), self, ctx)
            }
            InvalidKind::ImmatureCoinbaseSpend => {
                // The tip's coinbase is one block old (genesis's coinbase funds wallets and
                // is not a mined coinbase: wait for a mined tip).
                if tip == BlockId::GENESIS {
                    return Vec::new();
                }
                let coinbase = ctx.store().get(tip).block.txs[0].txid();
                let tx = spend(OutPoint { txid: coinbase, vout: 0 }, [0; 32], 1);
                let b = self.template(ctx, tip, Body::Txs(vec![tx], Amount::ZERO));
                one(Some(grind(ctx, b)), self, ctx)
            }
            InvalidKind::UnknownParent => (0..self.spec.flood_blocks)
                .filter_map(|_| {
                    // Each block on a parent of its own that nobody has heard of. The parent
                    // is itself invalid (it overpays), so that no chain can ever grow from
                    // it, and it is never served.
                    let parent = self.template(ctx, tip, Body::Filler);
                    let parent = self.store(ctx, grind(ctx, overpay(parent)))?;
                    if let Err(at) = self.hidden.binary_search(&parent) {
                        self.hidden.insert(at, parent);
                    }
                    let b = self.template(ctx, parent, Body::Filler);
                    let b = grind(ctx, b);
                    self.store(ctx, b)
                })
                .collect(),
            InvalidKind::DuplicateTxs => {
                let txs = vec![self.missing_spend(), self.missing_spend()];
                let mut b = self.template(ctx, tip, Body::Txs(txs, Amount::ZERO));
                let last = b.txs.last().expect("two payments").clone();
                // CVE-2012-2459: [cb, a, b, b] has the root of [cb, a, b].
                b.txs.push(last);
                one(Some(grind(ctx, b)), self, ctx)
            }
        }
    }

    /// An honest template on `parent` with a fresh extra nonce.
    fn template(&mut self, ctx: &mut NodeCtx<'_>, parent: BlockId, body: Body) -> Block {
        self.made += 1;
        let (node, now, spec) = (ctx.node(), ctx.now(), ctx.settings().template);
        let extra_nonce = EXTRA_NONCE_BASE + self.made;
        build_template(ctx.store_mut(), parent, node, now, extra_nonce, &spec, body)
    }

    /// A payment spending an output that does not exist.
    fn missing_spend(&mut self) -> Transaction {
        self.made += 1;
        let mut seed = b"forksim: an output nobody made".to_vec();
        seed.extend_from_slice(&self.made.to_le_bytes());
        spend(OutPoint { txid: TxId(sha256d(&seed)), vout: 0 }, [0; 32], 1)
    }

    /// Stores a block the attacker made, with its costs (`None` if the store holds it
    /// already).
    fn store(&mut self, ctx: &mut NodeCtx<'_>, block: Block) -> Option<BlockId> {
        let meta = BlockMeta { miner: Some(ctx.node()), mined_at: ctx.now() };
        let id = ctx.shared.store.insert(block, meta).ok()?;
        push_costs(ctx.shared, ctx.settings(), id);
        Some(id)
    }
}

/// The easy simulation target a block's header must meet.
fn pow_target(ctx: &NodeCtx<'_>, block: &Block) -> crate::chain::U256 {
    let bits = block.header.bits.to_target().expect("the attacker's bits decode");
    ctx.store().params().pow_check_target(bits)
}

/// Grinds a nonce that meets the block's own bits (against the easy simulation target).
fn grind(ctx: &NodeCtx<'_>, mut block: Block) -> Block {
    let target = pow_target(ctx, &block);
    grind_nonce(&mut block.header, &target, u64::MAX).expect("the simulation target is easy");
    block
}

/// The block with its coinbase paying one unit more than allowed.
fn overpay(mut block: Block) -> Block {
    let out = &mut block.txs[0].outputs[0];
    out.value = Amount(out.value.0 + 1);
    block.header.merkle_root = block.compute_merkle_root();
    block
}

/// A one-input payment of `value` spending `coin`, revealing `pubkey`, unsigned.
fn spend(coin: OutPoint, pubkey: [u8; 32], value: u64) -> Transaction {
    Transaction {
        version: 1,
        coinbase: None,
        inputs: vec![TxIn { prevout: coin, pubkey, signature: [0; 64] }],
        outputs: vec![TxOut { value: Amount(value), pubkey_hash: [0xba; 20] }],
        lock_time: 0,
    }
}

/// A wallet's coin unspent on `tip`, its value and the wallet's public key (runs with a
/// workload).
fn wallet_coin(ctx: &mut NodeCtx<'_>, tip: BlockId) -> Option<(OutPoint, Amount, [u8; 32])> {
    let shared = &mut *ctx.shared;
    let payments = shared.payments.as_ref()?;
    let utxo = shared.store.utxo_at(tip).ok()?;
    payments.wallets.wallets().iter().find_map(|w| {
        w.coins()
            .find(|(coin, _)| utxo.contains(coin))
            .map(|&(coin, value)| (coin, value, w.pubkey()))
    })
}

impl Protocol for InvalidPeer {
    fn name(&self) -> &'static str {
        "invalid"
    }

    fn relays_peer_blocks(&self) -> bool {
        self.relay
    }

    fn on_start(&mut self, ctx: &mut NodeCtx<'_>) {
        let at = ctx.now() + self.spec.every;
        ctx.set_timer(at, super::super::Timer::Protocol(SEND_TIMER));
    }

    fn on_timer(&mut self, ctx: &mut NodeCtx<'_>, tip: BlockId, timer: u32) -> Answer {
        if timer == SEND_TIMER && self.send_next(ctx, tip) {
            let at = ctx.now() + self.spec.every;
            ctx.set_timer(at, super::super::Timer::Protocol(SEND_TIMER));
        }
        Answer::default()
    }

    fn hides(&self, block: BlockId) -> bool {
        self.hidden.binary_search(&block).is_ok()
    }

    fn may_hide(&self) -> bool {
        true
    }
}
