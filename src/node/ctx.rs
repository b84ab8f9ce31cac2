//! The node context: everything a node may see and do while it handles one input.
//!
//! A node never holds a reference to the world. For each input (a message, a timer, a fault
//! notice) the world lends it a [`NodeCtx`]: the current virtual time, its id, read access to
//! the shared block store and the network's graph, the shared transaction pool (its mempool
//! is a view of it), its own random streams, and an outbox. Everything the node wants done
//! outside itself goes into the outbox as an [`Action`], in order: messages to send, timers to
//! set, records for observers. The world applies them after the node returns, in that order,
//! so a node's answer to one input is complete before anything it decided takes effect.
//!
//! The same context serves unit tests: `node::testing` builds one around a tiny store
//! and network, and a test reads the outbox to see what a node decided.

use std::cell::Cell;

use super::chain_view::{BlockState, BlockStates};
use crate::chain::sigcache::SigCache;
use crate::chain::{BlockId, BlockStore, RejectReason};
use crate::id::{LinkId, NodeId};
use crate::mining::TemplateSpec;
use crate::network::Network;
use crate::network::message::{Message, WireSizes};
use crate::observe::Record;
use crate::payments::Payments;
use crate::payments::pool::TxIndex;
use crate::payments::workload::HoldsPayments;
use crate::rng::SimRng;
use crate::scenario::{MiningMode, RelaySpec};
use crate::time::{SimDuration, SimTime};

/// A timer a node set for itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The node's mining clock fires (void if the clock was restarted since: a newer
    /// generation).
    Mined {
        /// The clock generation it was set under.
        generation: u32,
    },
    /// The node finishes validating a block.
    Validated {
        /// The block.
        block: BlockId,
        /// The link back to the peer that sent it (`None` for a block of its own).
        from: Option<LinkId>,
        /// `None` if valid.
        verdict: Option<RejectReason>,
    },
    /// A timer of the node's protocol (an attacker's plan), numbered by the protocol.
    Protocol(u32),
    /// The node's request for a block may have timed out (`network.relay.request_timeout_s`).
    Request {
        /// The block it asked for.
        block: BlockId,
    },
    /// A stakeholder's next slot starts (void if its slot clock was restarted since: a
    /// newer generation).
    Slot {
        /// The slot-clock generation it was set under.
        generation: u32,
    },
    /// A signed-seal producer's clock fires (DPoS: its next slot starts); void if the clock
    /// was restarted since.
    Signed {
        /// The clock generation it was set under.
        generation: u32,
    },
}

/// Something a node asks the world to do.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    /// Put a message on one of the node's links.
    Send {
        /// The sending node.
        from: NodeId,
        /// The link (it starts at the node).
        link: LinkId,
        /// The message.
        msg: Message,
        /// An announcement the receiver would ignore may be skipped: its bytes still take
        /// the uplink, but it is never delivered (see [`crate::world`]).
        prunable: bool,
    },
    /// Announce a block to every peer of a node but one, with the relay protocol's
    /// announcement on each link ([`crate::node::relay::announcement`]).
    Announce {
        /// The announcing node.
        from: NodeId,
        /// The block.
        block: BlockId,
        /// The link it is not announced on (back to the peer it came from).
        except: Option<LinkId>,
    },
    /// Wake a node at a later time.
    Timer {
        /// The node (the one that set it).
        node: NodeId,
        /// When.
        at: SimTime,
        /// What for.
        timer: Timer,
        /// Whether the run waits for it before it ends (work in progress, such as a block
        /// being validated), or not (a mining clock).
        work: bool,
    },
    /// Tell the observers something happened (the record is kept beside the actions, in
    /// the [`Outbox`], so that actions stay small).
    Record(RecordRef),
    /// The node mined a block (the world counts blocks toward the run's target).
    Mined,
    /// Hand a payment to another node directly (a customer handing a merchant the
    /// transaction that pays it); that node hears of it at once.
    HandOver {
        /// The node paid.
        to: NodeId,
        /// The payment.
        payment: TxIndex,
    },
}

/// Where a record waits in an [`Outbox`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordRef(u32);

#[cfg(test)]
impl RecordRef {
    /// Its position in the outbox's records.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What nodes asked for, in order: small actions, and the records they refer to.
#[derive(Debug, Default)]
pub struct Outbox {
    actions: Vec<Action>,
    records: Vec<Record>,
}

impl Outbox {
    #[inline]
    fn push(&mut self, action: Action) {
        self.actions.push(action);
    }

    #[inline]
    fn record(&mut self, record: Record) {
        let at = RecordRef(self.records.len() as u32);
        self.records.push(record);
        self.actions.push(Action::Record(at));
    }

    /// The number of actions waiting.
    #[inline]
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// The `i`-th action.
    ///
    /// # Panics
    ///
    /// Panics if `i` is not below [`Outbox::len`].
    #[inline]
    pub fn action(&self, i: usize) -> &Action {
        &self.actions[i]
    }

    /// The record `at` refers to.
    pub fn get(&self, at: RecordRef) -> &Record {
        &self.records[at.0 as usize]
    }

    /// The actions in order, and the records they refer to (the outbox keeps them until
    /// [`Outbox::clear`]).
    #[cfg(test)]
    pub fn split(&mut self) -> (&mut Vec<Action>, &[Record]) {
        (&mut self.actions, &self.records)
    }

    /// Empties the outbox, keeping its buffers.
    pub fn clear(&mut self) {
        self.actions.clear();
        self.records.clear();
    }
}

/// Per-block facts that every node needs and that are computed once, when the block is
/// mined.
#[derive(Clone, Copy, Debug, Default)]
pub struct BlockCosts {
    /// Sizes of every relay message about the block.
    pub wire: WireSizes,
    /// Base time to validate it (before the per-input cost of signatures a node has not
    /// verified yet).
    pub validation: SimDuration,
}

/// State every node shares: blocks, their costs and the transaction pool.
pub struct Shared {
    /// Every block ever mined.
    pub store: BlockStore,
    /// Costs by block id.
    pub costs: crate::node::costs::CostTable,
    /// Payments, mempools and wallets, in runs with a workload.
    pub payments: Option<Payments>,
    /// The most-work block mined so far (transactions confirmed deep below it retire).
    pub best_block: BlockId,
    /// What each node knows of each block (each node writes only its own).
    pub states: BlockStates,
    /// Seals and slot counts, in stake runs.
    pub stake: Option<Box<crate::consensus::seal::StakeState>>,
}

impl HoldsPayments for Shared {
    fn payments_mut(&mut self) -> Option<(&mut Payments, &mut SigCache)> {
        let sigs = self.store.sigcache_mut();
        self.payments.as_mut().map(|p| (p, sigs))
    }
}

impl Shared {
    /// Shared state of `nodes` nodes holding only genesis.
    pub fn new(store: BlockStore, payments: Option<Payments>, nodes: usize) -> Shared {
        Shared {
            store,
            costs: crate::node::costs::CostTable::with_genesis(),
            payments,
            best_block: BlockId::GENESIS,
            states: BlockStates::new(nodes),
            stake: None,
        }
    }
}

/// What each node knows about its peers' relay: whether they speak BIP152 compact blocks,
/// and which peers asked it to push compact blocks unannounced (high-bandwidth mode).
///
/// The high-bandwidth flags change during a run: each node picks its high-bandwidth peers
/// by recent fastest delivery (see [`crate::node::relay`]) and sets the flags of its own
/// incoming links through the shared reference it is lent, so the flags are cells. Only the
/// receiving node of a link writes its flag, and the world reads it when that link's sender
/// announces; the run is single-threaded, so the order of writes and reads is the event
/// order.
#[derive(Clone, Debug, Default)]
pub struct Peers {
    /// By node: speaks BIP152.
    pub compact: Vec<bool>,
    /// By node: its mempool churns, so compact blocks fail more often (empty unless the
    /// relay protocol is `compact`).
    pub churn: Vec<bool>,
    /// By directed link: its receiver chose its sender as a high-bandwidth peer (empty
    /// unless the relay protocol is `compact`).
    pub high_bandwidth: Vec<Cell<bool>>,
    /// By directed link: its sender banned its receiver for misbehaviour (see
    /// [`crate::node::misbehaviour`]); the banned peer sends nothing more over the reverse
    /// link. Written only by the banning node; read by protocols that send bad data and by
    /// the world, which sends nothing more over a banned connection in either direction.
    pub banned: Vec<Cell<bool>>,
    /// Whether any node has banned a peer (so that runs without bans never read
    /// [`Peers::banned`] on the hot path).
    pub any_banned: Cell<bool>,
}

/// Settings every node follows, from the scenario.
#[derive(Clone, Debug)]
pub struct NodeSettings {
    /// Sampled or ground mining.
    pub mode: MiningMode,
    /// The relay protocol.
    pub relay: RelaySpec,
    /// What a block template holds.
    pub template: TemplateSpec,
    /// Validation time per block.
    pub validation_base: SimDuration,
    /// Validation time per megabyte.
    pub validation_ms_per_mb: f64,
    /// Validation time per input whose signature was not verified in the mempool.
    pub validation_per_input: SimDuration,
    /// Validation time per transaction that was not in the mempool, beside its inputs.
    pub validation_per_missing_tx: SimDuration,
    /// Most blocks in an orphan pool.
    pub orphan_pool_max: usize,
    /// Genesis time (virtual time 0 is this Unix second).
    pub genesis_time: u32,
    /// Most bytes of transactions a template takes.
    pub template_max_tx_bytes: u64,
    /// The slot rules, in `pos-slot` runs (`None`: proof of work).
    pub slots: Option<crate::consensus::seal::SharedSlotRules>,
    /// The rules of a signed-seal kind (`dpos`), `None` otherwise.
    pub signed: Option<std::sync::Arc<crate::consensus::signed::SignedRules>>,
}

/// A node's own random streams, each derived from the run's seed by purpose and node id
/// (boxed: a stream's state is a few hundred bytes, and most nodes of a large run use one
/// rarely).
#[derive(Clone, Debug, Default)]
pub struct NodeStreams {
    /// The mining clock's draws (miners only).
    pub mining: Option<Box<SimRng>>,
    /// Compact-block reconstruction draws (compact relay without payments only), and the
    /// choice of the peer asked again after a request timeout.
    pub relay: Option<Box<SimRng>>,
}

/// What a node sees and does while handling one input.
pub struct NodeCtx<'a> {
    now: SimTime,
    node: NodeId,
    mining_open: bool,
    pub(crate) shared: &'a mut Shared,
    network: &'a Network,
    peers: &'a Peers,
    settings: &'a NodeSettings,
    pub(crate) rng: &'a mut NodeStreams,
    outbox: &'a mut Outbox,
}

/// What the world lends a node: everything but the time, the node and the outbox.
pub struct Env<'a> {
    /// Shared blocks, costs and payments.
    pub shared: &'a mut Shared,
    /// The graph.
    pub network: &'a Network,
    /// Relay facts about peers.
    pub peers: &'a Peers,
    /// Node settings.
    pub settings: &'a NodeSettings,
}

impl<'a> NodeCtx<'a> {
    /// A context for `node` at `now`; `mining_open` says whether mining goes on.
    pub fn new(
        now: SimTime,
        node: NodeId,
        mining_open: bool,
        env: Env<'a>,
        rng: &'a mut NodeStreams,
        outbox: &'a mut Outbox,
    ) -> NodeCtx<'a> {
        let Env { shared, network, peers, settings } = env;
        NodeCtx { now, node, mining_open, shared, network, peers, settings, rng, outbox }
    }

    /// Virtual time now.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The node handling the input.
    #[inline]
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// Whether the run still mines (false once the block target is reached).
    #[inline]
    pub fn mining_open(&self) -> bool {
        self.mining_open
    }

    /// The shared block store.
    #[inline]
    pub fn store(&self) -> &BlockStore {
        &self.shared.store
    }

    /// What this node knows of `block`.
    #[inline]
    pub fn state(&self, block: BlockId) -> BlockState {
        self.shared.states.get(self.node, block)
    }

    /// Records what this node now knows of `block`.
    #[inline]
    pub fn set_state(&mut self, block: BlockId, state: BlockState) {
        self.shared.states.set(self.node, block, state);
        // A block accepted from a peer is published: pruning follows the most-work one.
        if state == BlockState::Accepted
            && self.shared.store.get(block).meta.miner != Some(self.node)
        {
            self.shared.store.note_published(block);
        }
    }

    /// The shared block store, for its caches (validity, UTXO cursor) and for storing a
    /// block the node mined.
    #[inline]
    pub fn store_mut(&mut self) -> &mut BlockStore {
        &mut self.shared.store
    }

    /// The network's graph.
    #[inline]
    pub fn network(&self) -> &'a Network {
        self.network
    }

    /// Relay facts about peers.
    #[inline]
    pub fn peers(&self) -> &'a Peers {
        self.peers
    }

    /// The settings every node follows.
    #[inline]
    pub fn settings(&self) -> &'a NodeSettings {
        self.settings
    }

    /// The shared payments, in runs with a workload.
    #[inline]
    pub fn payments(&self) -> Option<&Payments> {
        self.shared.payments.as_ref()
    }

    /// Costs of a block.
    #[inline]
    pub fn costs(&self, block: BlockId) -> BlockCosts {
        self.shared.costs.get(block)
    }

    /// Queues a message on `link`.
    #[inline]
    pub fn send(&mut self, link: LinkId, msg: Message, prunable: bool) {
        self.outbox.push(Action::Send { from: self.node, link, msg, prunable });
    }

    /// Queues the announcement of `block` to every peer but the one over `except`.
    #[inline]
    pub fn announce(&mut self, block: BlockId, except: Option<LinkId>) {
        self.outbox.push(Action::Announce { from: self.node, block, except });
    }

    /// Sets a timer the run does not wait for.
    #[inline]
    pub fn set_timer(&mut self, at: SimTime, timer: Timer) {
        self.outbox.push(Action::Timer { node: self.node, at, timer, work: false });
    }

    /// Sets a timer for work in progress: the run does not end before it fires.
    #[inline]
    pub fn busy_until(&mut self, at: SimTime, timer: Timer) {
        self.outbox.push(Action::Timer { node: self.node, at, timer, work: true });
    }

    /// Tells the observers.
    #[inline]
    pub fn record(&mut self, record: Record) {
        self.outbox.record(record);
    }

    /// Counts a mined block toward the run's target.
    pub fn mined(&mut self) {
        self.outbox.push(Action::Mined);
    }

    /// Hands a payment to another node.
    pub fn hand_over(&mut self, to: NodeId, payment: TxIndex) {
        self.outbox.push(Action::HandOver { to, payment });
    }

    /// The node's mining stream.
    ///
    /// # Panics
    ///
    /// Panics if the node has no hash power (only miners have the stream).
    pub fn mining_rng(&mut self) -> &mut SimRng {
        self.rng.mining.as_deref_mut().expect("only miners draw mining times")
    }
}
