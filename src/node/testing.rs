//! Test support: small block trees, and a fake context that drives nodes without a world.
//!
//! [`Harness`] holds what the world would lend a node (a store, a complete network with
//! constant latency, settings, streams and an outbox); a test hands a node an input through
//! [`Harness::ctx`] and reads what it decided from [`Harness::take`].

use crate::chain::store::{BlockMeta, genesis_block};
use crate::chain::{BlockId, BlockStore, CompactTarget, ConsensusParams, U256};
use crate::id::{LinkId, NodeId};
use crate::mining::{Body, TemplateSpec, build_template};
use crate::network::latency::LinkLatencySpec;
use crate::network::message::Message;
use crate::network::topology::TopologySpec;
use crate::network::{BandwidthSpec, Network, NetworkSpec};
use crate::node::ctx::{
    Action, Env, NodeCtx, NodeSettings, NodeStreams, Outbox, Peers, Shared, Timer,
};
use crate::node::protocol::View;
use crate::node::relay::announcement;
use crate::observe::Record;
use crate::payments::pool::TxIndex;
use crate::rng::RngStreams;
use crate::scenario::{MiningMode, RelayProtocol, RelaySpec};
use crate::time::{SimDuration, SimTime};

/// Genesis time of the test chains.
pub const GENESIS_TIME: u32 = 1_600_000_000;

/// A store holding only genesis, and genesis.
pub fn store() -> (BlockStore, BlockId) {
    let params = ConsensusParams { pow_limit: U256::MAX, ..ConsensusParams::bitcoin() };
    let bits = CompactTarget::from_target(crate::chain::pow::target_for_expected_hashes(1000.0));
    (BlockStore::new(genesis_block(GENESIS_TIME, bits, &params), params), BlockId::GENESIS)
}

/// What a protocol on node 0 sees at time zero with public tip `tip`.
pub fn view(store: &BlockStore, tip: BlockId) -> View<'_> {
    View { store, tip, now: SimTime::ZERO }
}

/// A new block on `parent` mined by `miner` (its nonce is not ground: the store's validity
/// does not include proof of work, but a node's does).
pub fn child(store: &mut BlockStore, parent: BlockId, miner: NodeId) -> BlockId {
    let spec = TemplateSpec { genesis_time: GENESIS_TIME, block_size_bytes: 0, tx_size_bytes: 250 };
    let extra_nonce = store.len() as u64;
    let block =
        build_template(store, parent, miner, SimTime::ZERO, extra_nonce, &spec, Body::Filler);
    store
        .insert(block, BlockMeta { miner: Some(miner), mined_at: SimTime::ZERO })
        .expect("the parent is stored")
}

/// How [`Harness::mine_tampered`] spoils a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// A valid block.
    Nothing,
    /// A wrong Merkle root under a header that meets its target (invalid only in full
    /// validation).
    MerkleRoot,
    /// A header whose nonce is not ground (fails the proof-of-work check).
    ProofOfWork,
}

/// What a node asked for, with its records in place.
#[derive(Clone, Debug, PartialEq)]
pub enum Did {
    /// A message on one of its links.
    Send {
        /// The link.
        link: LinkId,
        /// The message.
        msg: Message,
        /// Whether it may be skipped when the receiver would ignore it.
        prunable: bool,
    },
    /// A timer.
    Timer {
        /// When.
        at: SimTime,
        /// What for.
        timer: Timer,
        /// Whether the run waits for it.
        work: bool,
    },
    /// A record.
    Record(Record),
    /// A mined block counted.
    Mined,
    /// A payment handed to another node.
    HandOver {
        /// The node paid.
        to: NodeId,
        /// The payment.
        payment: TxIndex,
    },
}

/// Everything the world lends a node, for driving nodes by hand.
pub struct Harness {
    /// Shared blocks and costs.
    pub shared: Shared,
    /// A complete network.
    pub network: Network,
    /// Relay facts.
    pub peers: Peers,
    /// Settings.
    pub settings: NodeSettings,
    streams: Vec<NodeStreams>,
    outbox: Outbox,
    /// Virtual time of the next input.
    pub now: SimTime,
}

impl Harness {
    /// `nodes` nodes, all linked to each other with 10 ms links, inv relay, ground mining
    /// against a target of about a thousand hashes, and no payments.
    pub fn new(nodes: u32) -> Harness {
        let spec = NetworkSpec {
            nodes,
            region_names: vec!["global".into()],
            node_share: vec![1.0],
            topology: TopologySpec::Complete,
            latency: LinkLatencySpec::Constant { ms: 10.0 },
            bandwidth: BandwidthSpec::Constant { upload_bps: 8_000_000, download_bps: 8_000_000 },
        };
        let network = Network::build(&spec, &RngStreams::new(1)).expect("a complete network");
        let (store, _) = store();
        let banned = vec![std::cell::Cell::new(false); network.link_count()];
        let settings = NodeSettings {
            mode: MiningMode::Ground,
            relay: RelaySpec {
                protocol: RelayProtocol::Inv,
                compact_share: 0.0,
                compact_high_bandwidth_peers: 3,
                compact_failure_probability: 0.0,
                compact_missing_tx_share: 0.0,
                compact_refetch: crate::scenario::Refetch::Fixed,
                compact_churn_share: 0.0,
                compact_churn_failure_probability: 0.0,
                announce: crate::scenario::Announce::BestChain,
                request_timeout: None,
            },
            template: TemplateSpec {
                genesis_time: GENESIS_TIME,
                block_size_bytes: 0,
                tx_size_bytes: 250,
            },
            validation_base: SimDuration::from_millis(2),
            validation_ms_per_mb: 0.0,
            validation_per_input: SimDuration::ZERO,
            validation_per_missing_tx: SimDuration::ZERO,
            orphan_pool_max: 100,
            genesis_time: GENESIS_TIME,
            template_max_tx_bytes: 0,
            slots: None,
            signed: None,
        };
        Harness {
            shared: Shared::new(store, None, nodes as usize),
            network,
            peers: Peers {
                compact: vec![false; nodes as usize],
                churn: Vec::new(),
                high_bandwidth: Vec::new(),
                banned,
                any_banned: std::cell::Cell::new(false),
            },
            settings,
            streams: vec![NodeStreams::default(); nodes as usize],
            outbox: Outbox::default(),
            now: SimTime::ZERO,
        }
    }

    /// Switches the run to BIP152 compact relay: every node speaks it, has a relay stream,
    /// and nobody has chosen a high-bandwidth peer yet; reconstruction fails with
    /// `failure_probability`, each failure fetching `missing_tx_share` of the transactions.
    pub fn compact(&mut self, failure_probability: f64, missing_tx_share: f64) {
        let relay = &mut self.settings.relay;
        relay.protocol = RelayProtocol::Compact;
        relay.compact_share = 1.0;
        relay.compact_failure_probability = failure_probability;
        relay.compact_missing_tx_share = missing_tx_share;
        let nodes = self.network.node_count();
        self.peers.compact = vec![true; nodes as usize];
        self.peers.high_bandwidth = vec![std::cell::Cell::new(false); self.network.link_count()];
        let streams = RngStreams::new(1);
        for (i, s) in self.streams.iter_mut().enumerate() {
            s.relay = Some(Box::new(streams.stream(crate::rng::Purpose::Relay, i as u64)));
        }
    }

    /// Gives requests made on an `inv` a timeout, with a relay stream for every node to
    /// choose the peer asked again.
    pub fn request_timeout(&mut self, timeout: SimDuration) {
        self.settings.relay.request_timeout = Some(timeout);
        let streams = RngStreams::new(1);
        for (i, s) in self.streams.iter_mut().enumerate() {
            s.relay = Some(Box::new(streams.stream(crate::rng::Purpose::Relay, i as u64)));
        }
    }

    /// A block on `parent` mined by `miner` whose header meets its target, stored with its
    /// costs (as a node that mined it would store it).
    pub fn mine(&mut self, parent: BlockId, miner: NodeId) -> BlockId {
        self.mine_tampered(parent, miner, Tamper::Nothing)
    }

    /// Like [`Harness::mine`], with the block spoilt as `tamper` says.
    pub fn mine_tampered(&mut self, parent: BlockId, miner: NodeId, tamper: Tamper) -> BlockId {
        let store = &mut self.shared.store;
        let spec = self.settings.template;
        let extra_nonce = store.len() as u64;
        let mut block =
            build_template(store, parent, miner, self.now, extra_nonce, &spec, Body::Filler);
        if tamper == Tamper::MerkleRoot {
            block.header.merkle_root[0] ^= 1;
        }
        if tamper != Tamper::ProofOfWork {
            let bits = block.header.bits.to_target().expect("bits decode");
            let target = store.params().pow_check_target(bits);
            let mut miner_clock = crate::node::Miner::new(1.0);
            let (_, found) = miner_clock.grind(&target, &mut block, u64::MAX);
            assert!(found);
        }
        let id = store
            .insert(block, BlockMeta { miner: Some(miner), mined_at: self.now })
            .expect("the parent is stored");
        let wire = crate::network::message::WireSizes::of(&store.get(id).block, 0.0);
        self.shared
            .costs
            .push(crate::node::ctx::BlockCosts { wire, validation: self.settings.validation_base });
        id
    }

    /// The context `node` gets for its next input.
    pub fn ctx(&mut self, node: NodeId) -> NodeCtx<'_> {
        let env = Env {
            shared: &mut self.shared,
            network: &self.network,
            peers: &self.peers,
            settings: &self.settings,
        };
        NodeCtx::new(self.now, node, true, env, &mut self.streams[node.index()], &mut self.outbox)
    }

    /// What the nodes asked for since the last call, in order.
    pub fn take(&mut self) -> Vec<Did> {
        let (actions, records) = self.outbox.split();
        let mut did = Vec::new();
        for a in actions.drain(..) {
            match a {
                Action::Send { link, msg, prunable, .. } => {
                    did.push(Did::Send { link, msg, prunable });
                }
                Action::Announce { from, block, except } => {
                    for link in self.network.links_of(from).filter(|&l| Some(l) != except) {
                        let kind = announcement(&self.settings.relay, &self.peers, from, link);
                        let msg = Message::about(kind, block);
                        did.push(Did::Send { link, msg, prunable: true });
                    }
                }
                Action::Timer { at, timer, work, .. } => did.push(Did::Timer { at, timer, work }),
                Action::Record(r) => did.push(Did::Record(records[r.index()])),
                Action::Mined => did.push(Did::Mined),
                Action::HandOver { to, payment } => did.push(Did::HandOver { to, payment }),
            }
        }
        self.outbox.clear();
        did
    }

    /// The link from `from` to `to`.
    pub fn link(&self, from: NodeId, to: NodeId) -> LinkId {
        self.network.find_link(from, to).expect("a complete network")
    }
}
