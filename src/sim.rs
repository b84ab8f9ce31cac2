//! The simulated world: nodes running the honest protocol over the network, driven by the
//! engine's events.
//!
//! This is where the protocol decides *what* a node does. The engine decides *when*; the
//! chain module decides what is valid; the network module decides how long a message takes.
//!
//! Honest rules, as Bitcoin Core follows them:
//! - **Chain selection**: a node's tip is its most-work valid block; on equal work the block
//!   seen first stays (a node switches only for strictly more work).
//! - **Relay**: a node announces a block once it has validated it and it became part of its
//!   best chain; side-branch blocks are kept but not announced. Announcements go to every
//!   peer but the one the block came from. With `inv` the peer asks (`getdata`) and gets the
//!   block; with `push` the block is sent unasked. With `compact`, between two BIP152
//!   speakers: each node picks a few high-bandwidth peers (3 by default, as Bitcoin Core)
//!   that push it a `cmpctblock` unannounced; its other peers announce with `inv` and it
//!   asks for the compact block. When the receiver lacks transactions it needs one more
//!   round trip (`getblocktxn`/`blocktxn`).
//! - **Orphans**: a block whose parent the node lacks waits in a bounded pool while the
//!   parent is requested from the peer that sent the block.
//! - **Validation**: a node validates one block at a time and spends a modelled time on it
//!   (a base cost plus a cost per megabyte) before it relays. Every node re-checks the
//!   header's proof of work itself; the node-independent part of validity is computed once
//!   per block in the shared store.
//!
//! Attack strategies and faults hook in at a few points (see [`crate::strategy`] and
//! [`crate::faults`]; the glue is in the `adversary` submodule): the block a miner builds
//! on, what happens to a block a node just mined or accepted from a peer, ties of equal
//! work, whether a node relays others' blocks, and whether a link is cut. A node without a
//! strategy object is honest and a run without a timeline has no cut links; either check is
//! one branch.
//!
//! One exact shortcut keeps large runs fast: an announcement to a peer that already has the
//! block, or has asked for it, would be ignored on arrival whatever happens in between
//! (those states never go back), so it is not delivered at all. Its bytes still occupy the
//! sender's uplink, so timing is unchanged.

use crate::chain::pow::target_for_expected_hashes;
use crate::chain::store::BlockMeta;
use crate::chain::validate::check_header_pow;
use crate::chain::{BlockId, BlockStore, CompactTarget, ConsensusParams, RejectReason};
use crate::engine::{Engine, Limits, Model, Scheduler, StopReason};
use crate::mining::{
    Body, GROUND_CHUNK_HASHES, Miner, TemplateSpec, assign_hash_shares, build_template,
};
use crate::network::Network;
use crate::node::relay::{Message, MessageKind, WireSizes};
use crate::node::{BlockState, Node, Orphan};
use crate::observe::{KeepReason, Observer, Record, TipOutcome};
use crate::rng::{self, Purpose, RngStreams, SimRng};
use crate::scenario::{MiningMode, RelayProtocol, RelaySpec, Scenario, ScenarioError};
use crate::strategy::Adversary;
use crate::time::{SimDuration, SimTime};
use crate::txpool::TxPool;
use crate::wallet::Wallets;

mod adversary;
mod double_spend;

pub use double_spend::DoubleSpendRun;

/// A link index meaning "no link" (a block the node mined itself).
pub const NO_LINK: u32 = u32::MAX;

/// Bitcoin's limit on how far a block's time may be ahead of the receiving node's clock.
pub const MAX_FUTURE_BLOCK_TIME_S: u32 = 7_200;

/// Everything that happens in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A message arrives over a directed link.
    Deliver {
        /// The link it travelled.
        link: u32,
        /// What it says.
        msg: Message,
    },
    /// A node finishes validating a block.
    Validated {
        /// The node.
        node: u32,
        /// The block.
        block: BlockId,
        /// The link from the node back to the peer that sent it.
        from_link: u32,
        /// `None` if valid.
        verdict: Option<RejectReason>,
    },
    /// A miner's clock fires (stale if the generation has moved on).
    Mined {
        /// Index into the miner list.
        miner: u32,
        /// The generation it was scheduled under.
        generation: u32,
    },
    /// A wallet makes the next payment of the workload.
    Payment,
    /// A planned double payment (index into the workload's conflicts).
    Conflict {
        /// Which one.
        index: u32,
    },
    /// The sampled nodes' mempool sizes are recorded.
    SampleMempools,
    /// The attacker of a double spend pays the merchant.
    DoubleSpendPayment,
    /// A `[[timeline]]` entry takes effect.
    Timeline {
        /// Index into the scenario's timeline.
        index: u32,
    },
}

/// Per-block facts the simulation needs besides the block itself.
#[derive(Clone, Copy, Debug)]
struct BlockCosts {
    wire: WireSizes,
    validation: SimDuration,
}

/// Settings the event handlers read.
struct Settings {
    mode: MiningMode,
    relay: RelaySpec,
    template: TemplateSpec,
    validation_base: SimDuration,
    validation_ms_per_mb: f64,
    orphan_pool_max: usize,
    target_blocks: u64,
    genesis_time: u32,
    validation_per_input: SimDuration,
    /// Most bytes of transactions a template takes.
    template_max_tx_bytes: u64,
}

/// The transaction side of a run with a `[workload]`.
pub struct Transactions {
    /// Every transaction in flight, and each node's mempool as a view of it.
    pub pool: TxPool,
    /// The wallets making payments.
    pub wallets: Wallets,
    /// Planned double payments.
    conflicts: Vec<crate::scenario::ConflictSpec>,
    /// No payments after this time.
    stop: Option<SimTime>,
    /// First payment time.
    start: SimTime,
    /// Mempool sampling interval and nodes.
    sample_every: SimDuration,
    sampled_nodes: Vec<u32>,
}

/// Which part of the run is under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Miners are mining.
    Mining,
    /// The block count was reached; the engine returns so the drain cap can be set.
    StopRequested,
    /// Mining has stopped; messages in flight finish.
    Draining,
}

/// The world of one run.
pub struct Simulation<O: Observer> {
    /// Every block ever mined, shared by all nodes.
    pub store: BlockStore,
    /// Peers, links and their delays.
    pub network: Network,
    /// Per-node state, by node index.
    pub nodes: Vec<Node>,
    /// Mining nodes.
    pub miners: Vec<Miner>,
    /// Each node's share of the hash power.
    pub hash_shares: Vec<f64>,
    /// Watches what happens.
    pub observer: O,
    /// Blocks mined so far.
    pub blocks_mined: u64,
    /// Wallets, payments and mempools, when the scenario has a workload.
    pub transactions: Option<Transactions>,
    /// The most-work block mined so far (transactions confirmed deep below it retire).
    best_block: BlockId,
    /// Attack strategies and the timeline's faults (empty for an honest run).
    pub adversary: Adversary,
    /// The double spend against a merchant, if the scenario has one.
    pub double_spend: Option<DoubleSpendRun>,
    miner_of: Vec<u32>,
    costs: Vec<BlockCosts>,
    relay_rng: Vec<SimRng>,
    /// By directed link: whether the receiver chose the sender as a high-bandwidth
    /// compact-block peer.
    high_bandwidth: Vec<bool>,
    settings: Settings,
    phase: Phase,
    in_flight: u64,
    progress: Option<Box<dyn FnMut(u64)>>,
}

/// How a run ended, for the report.
#[derive(Clone, Copy, Debug)]
pub struct RunStats {
    /// Why the engine stopped.
    pub stopped_by: StopReason,
    /// Events processed.
    pub events: u64,
    /// Virtual time at the end.
    pub end_time: SimTime,
}

/// The consensus parameters a scenario implies, with the initial difficulty.
///
/// In sampled mode the simulation target is the bits target shifted left so that grinding
/// a nonce takes about `grind_hashes` hashes at the initial difficulty; in ground mode the
/// real target is used.
pub fn consensus_params(scenario: &Scenario) -> (ConsensusParams, CompactTarget) {
    let chain = &scenario.chain;
    let mining = &scenario.mining;
    let expected = mining.network_hashrate_hs * chain.block_interval_s;
    let bits = CompactTarget::from_target(target_for_expected_hashes(expected));
    let sim_target_shift = match mining.mode {
        MiningMode::Ground => 0,
        MiningMode::Sampled => {
            libm::floor(libm::log2(expected / mining.grind_hashes)).max(0.0) as u32
        }
    };
    let params = ConsensusParams {
        retarget_interval: chain.retarget_interval,
        target_block_interval_s: chain.block_interval_s as u32,
        pow_limit: chain.pow_limit_bits.to_target().expect("validated when the scenario loaded"),
        max_block_size_bytes: chain.max_block_size_bytes,
        sim_target_shift,
        max_future_block_time_s: MAX_FUTURE_BLOCK_TIME_S,
        median_time_span: 11,
        coinbase_maturity: 100,
        halving_interval: 210_000,
    };
    (params, bits)
}

impl<O: Observer> Simulation<O> {
    /// Builds the world a scenario describes.
    ///
    /// # Errors
    ///
    /// Returns a [`ScenarioError`] naming the network fields when the network cannot be
    /// built (a disconnected graph, impossible degrees).
    pub fn new(scenario: &Scenario, observer: O) -> Result<Self, ScenarioError> {
        let streams = RngStreams::new(scenario.seed);
        let mut network =
            Network::build(&scenario.network, &streams).map_err(|e| ScenarioError::Field {
                origin: scenario.source.display().to_string(),
                field: "network.topology".to_string(),
                value: scenario
                    .resolved
                    .network
                    .topology
                    .as_ref()
                    .and_then(|t| t.kind.clone())
                    .map_or_else(|| "(default)".to_string(), |k| format!("kind = \"{k}\"")),
                problem: format!("cannot build this network: {e}"),
            })?;
        let (params, bits) = consensus_params(scenario);
        let mut wallets =
            scenario.workload.as_ref().map(|w| Wallets::new(w, &streams, scenario.network.nodes));
        let funding = wallets.as_ref().map(Wallets::funding_outputs);
        let genesis = crate::chain::store::genesis_block_paying(
            scenario.chain.genesis_time,
            bits,
            &params,
            funding,
        );
        if let Some(w) = wallets.as_mut() {
            w.fund(genesis.txs[0].txid());
        }
        let store = BlockStore::new(genesis, params);
        let nodes_n = scenario.network.nodes;
        let mut hash_shares = assign_hash_shares(
            nodes_n,
            scenario.mining.miners,
            &scenario.mining.hash_power,
            &mut streams.stream(Purpose::Population, 1),
        );
        let adversary = adversary::build(scenario, &mut network, &mut hash_shares, &streams)?;
        let double_spend = DoubleSpendRun::of(scenario, &hash_shares);
        let compact_rng = &mut streams.stream(Purpose::Population, 2);
        let relay = scenario.relay.clone();
        let nodes: Vec<Node> = (0..nodes_n)
            .map(|i| {
                let compact = relay.protocol == RelayProtocol::Compact
                    && rng::uniform01(compact_rng) < relay.compact_share;
                Node::new(i, BlockId::GENESIS, compact)
            })
            .collect();
        let mut miner_of = vec![u32::MAX; nodes_n as usize];
        let mut miners = Vec::new();
        for (node, share) in hash_shares.iter().enumerate() {
            if *share > 0.0 {
                miner_of[node] = miners.len() as u32;
                let rng = streams.stream(Purpose::Mining, node as u64);
                miners.push(Miner::new(
                    node as u32,
                    share * scenario.mining.network_hashrate_hs,
                    rng,
                ));
            }
        }
        let relay_rng = if relay.protocol == RelayProtocol::Compact {
            (0..nodes_n).map(|i| streams.stream(Purpose::Relay, u64::from(i))).collect()
        } else {
            Vec::new()
        };
        let high_bandwidth = if relay.protocol == RelayProtocol::Compact {
            choose_high_bandwidth_links(
                &network,
                &nodes,
                relay.compact_high_bandwidth_peers,
                &mut streams.stream(Purpose::Population, 3),
            )
        } else {
            Vec::new()
        };
        let genesis_costs =
            BlockCosts { wire: WireSizes::default(), validation: SimDuration::ZERO };
        let transactions = match (&scenario.workload, wallets) {
            (Some(w), Some(wallets)) => {
                let nodes = scenario.network.nodes;
                let k = w.sample_nodes.max(1).min(nodes);
                Some(Transactions {
                    pool: TxPool::new(&network, &streams, w.trickle_interval, w.mempool_max_bytes),
                    wallets,
                    conflicts: w.conflicts.clone(),
                    stop: w.stop,
                    start: w.start,
                    sample_every: w.mempool_sample,
                    sampled_nodes: if w.sample_nodes == 0 {
                        Vec::new()
                    } else {
                        (0..k)
                            .map(|i| (u64::from(i) * u64::from(nodes) / u64::from(k)) as u32)
                            .collect()
                    },
                })
            }
            _ => None,
        };
        let template_max_tx_bytes = match scenario.mining.block_size_bytes {
            0 => scenario.chain.max_block_size_bytes,
            cap => cap,
        }
        .saturating_sub(1_000);
        Ok(Simulation {
            store,
            network,
            nodes,
            miners,
            hash_shares,
            observer,
            blocks_mined: 0,
            transactions,
            best_block: BlockId::GENESIS,
            double_spend,
            adversary,
            miner_of,
            costs: vec![genesis_costs],
            relay_rng,
            high_bandwidth,
            settings: Settings {
                mode: scenario.mining.mode,
                relay,
                template: TemplateSpec {
                    genesis_time: scenario.chain.genesis_time,
                    block_size_bytes: scenario.mining.block_size_bytes,
                    tx_size_bytes: scenario.mining.tx_size_bytes,
                },
                validation_base: scenario.node.validation_base,
                validation_ms_per_mb: scenario.node.validation_ms_per_mb,
                orphan_pool_max: scenario.node.orphan_pool_max as usize,
                target_blocks: scenario.run.blocks,
                genesis_time: scenario.chain.genesis_time,
                validation_per_input: scenario.node.validation_per_input,
                template_max_tx_bytes,
            },
            phase: Phase::Mining,
            in_flight: 0,
            progress: None,
        })
    }

    /// Calls `f` with the number of blocks mined after every block.
    pub fn on_progress(&mut self, f: impl FnMut(u64) + 'static) {
        self.progress = Some(Box::new(f));
    }

    /// Runs the scenario: mine until the block count is reached, then let messages drain
    /// (bounded by `drain`), all within the hard caps.
    pub fn run(&mut self, scenario: &Scenario) -> RunStats {
        let limits =
            Limits { max_events: scenario.run.max_events, max_time: scenario.run.max_time };
        let mut engine = Engine::new(limits);
        for m in 0..self.miners.len() {
            self.start_mining(m, engine.scheduler());
        }
        if let Some(t) = self.transactions.as_mut() {
            let sched = engine.scheduler();
            let first = t.start + t.wallets.next_gap();
            sched.at(first, Event::Payment);
            for (index, c) in t.conflicts.iter().enumerate() {
                sched.at(c.at, Event::Conflict { index: index as u32 });
            }
            if !t.sampled_nodes.is_empty() {
                sched.at(SimTime::ZERO, Event::SampleMempools);
            }
        }
        self.schedule_timeline(engine.scheduler());
        self.schedule_double_spend(engine.scheduler());
        let mut stopped_by = engine.run(self);
        if stopped_by == StopReason::Done {
            self.phase = Phase::Draining;
            if self.in_flight == 0 {
                return RunStats { stopped_by, events: engine.processed(), end_time: engine.now() };
            }
            let drain_end = engine.now() + scenario.run.drain;
            engine.set_limits(Limits {
                max_events: scenario.run.max_events,
                max_time: drain_end.min(scenario.run.max_time),
            });
            stopped_by = engine.run(self);
        }
        RunStats { stopped_by, events: engine.processed(), end_time: engine.now() }
    }

    /// The node a miner runs on.
    pub fn miner_node(&self, miner: usize) -> u32 {
        self.miners[miner].node
    }

    // ----- mining -----

    fn start_mining(&mut self, m: usize, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let tip = self.mining_tip(self.miners[m].node);
        let bits = self.store.next_bits(tip);
        let miner = &mut self.miners[m];
        miner.generation = miner.generation.wrapping_add(1);
        let delay = match self.settings.mode {
            MiningMode::Sampled => {
                miner.clock_bits = bits;
                miner.sample_delay(bits)
            }
            MiningMode::Ground => {
                miner.extra_nonce += 1;
                let (node, extra_nonce) = (miner.node, miner.extra_nonce);
                let body = self.template_body(node, tip, now);
                let block = build_template(
                    &mut self.store,
                    tip,
                    node,
                    now,
                    extra_nonce,
                    &self.settings.template,
                    body,
                );
                let miner = &mut self.miners[m];
                miner.pending_block = Some(block);
                miner.template_started_at = now;
                miner.template_hashes = 0;
                return self.ground_step(m, sched);
            }
        };
        let miner = &self.miners[m];
        sched.at(now + delay, Event::Mined { miner: m as u32, generation: miner.generation });
    }

    /// Ground mode: hashes the next chunk of nonces and schedules either the find (at the
    /// virtual time of the winning hash) or the end of the chunk.
    fn ground_step(&mut self, m: usize, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let miner = &mut self.miners[m];
        let mut block = miner.pending_block.take().expect("a ground miner has a template");
        let bits_target = block.header.bits.to_target().expect("bits in the store always decode");
        let target = self.store.params().pow_check_target(bits_target);
        let (hashes, found) = miner.grind(&target, &mut block, GROUND_CHUNK_HASHES);
        miner.pending_block = Some(block);
        miner.pending_found = found;
        miner.template_hashes += hashes;
        // Measured from the template's start so chunking never changes the result.
        let at = (miner.template_started_at + miner.time_for(miner.template_hashes)).max(now);
        sched.at(at, Event::Mined { miner: m as u32, generation: miner.generation });
    }

    /// A miner's node has a new tip: in sampled mode the clock only changes if the rate
    /// does (a different next target); in ground mode the template must be rebuilt.
    fn tip_changed(&mut self, node: u32, sched: &mut Scheduler<Event>) {
        let m = self.miner_of[node as usize];
        if m == u32::MAX || self.phase != Phase::Mining || !self.online(node) {
            return;
        }
        let m = m as usize;
        let needs_restart = match self.settings.mode {
            MiningMode::Ground => true,
            MiningMode::Sampled => {
                let tip = self.mining_tip(node);
                self.store.next_bits(tip) != self.miners[m].clock_bits
            }
        };
        if needs_restart {
            self.start_mining(m, sched);
        }
    }

    fn on_mined(&mut self, m: usize, generation: u32, sched: &mut Scheduler<Event>) {
        if self.phase != Phase::Mining || self.miners[m].generation != generation {
            return;
        }
        let now = sched.now();
        let node = self.miners[m].node;
        let block = match self.settings.mode {
            MiningMode::Ground if !self.miners[m].pending_found => {
                return self.ground_step(m, sched);
            }
            MiningMode::Ground => {
                self.miners[m].pending_block.take().expect("a ground miner's event has its block")
            }
            MiningMode::Sampled => {
                let tip = self.mining_tip(node);
                let miner = &mut self.miners[m];
                miner.extra_nonce += 1;
                let extra_nonce = miner.extra_nonce;
                let body = self.template_body(node, tip, now);
                let mut block = build_template(
                    &mut self.store,
                    tip,
                    node,
                    now,
                    extra_nonce,
                    &self.settings.template,
                    body,
                );
                let target = self.store.params().pow_check_target(bits_target_of(&block));
                self.miners[m].grind(&target, &mut block, u64::MAX);
                block
            }
        };
        let id = self
            .store
            .insert(block, BlockMeta { miner: Some(node), mined_at: now })
            .expect("a freshly mined block extends a block in the store");
        if let Err(reason) = self.store.validity(id) {
            panic!(
                "an honest miner built an invalid block ({reason}); this is a bug in the template builder"
            );
        }
        self.register_transactions(id);
        let size = self.store.get(id).size_bytes;
        let validation = self.settings.validation_base
            + SimDuration::from_secs_f64(size as f64 * self.settings.validation_ms_per_mb / 1e9);
        let wire =
            WireSizes::of(&self.store.get(id).block, self.settings.relay.compact_missing_tx_share);
        debug_assert_eq!(self.costs.len(), id.index());
        self.costs.push(BlockCosts { wire, validation });
        self.blocks_mined += 1;
        self.observer
            .record(&Record::BlockMined { block: id, miner: node, time: now }, &self.store);
        if let Some(progress) = self.progress.as_mut() {
            progress(self.blocks_mined);
        }
        // The clock that fired is used up: force a fresh draw when the tip moves.
        self.miners[m].clock_bits = CompactTarget(0);
        if self.adversary.strategy(node).is_some() {
            self.strategy_mined(node, id, sched);
        } else {
            self.accept(node, id, NO_LINK, true, sched);
        }
        if self.double_spend.is_some() {
            self.check_merchant(sched);
        }
        if self.blocks_mined >= self.settings.target_blocks && self.phase == Phase::Mining {
            self.stop_mining();
        }
    }

    /// Mining stops: pending finds are void; messages in flight drain.
    fn stop_mining(&mut self) {
        self.phase = Phase::StopRequested;
        for miner in &mut self.miners {
            miner.generation = miner.generation.wrapping_add(1);
            miner.pending_block = None;
        }
    }

    /// Restarts a node's miner (if it mines) on its current mining tip.
    fn restart_miner(&mut self, node: u32, sched: &mut Scheduler<Event>) {
        let m = self.miner_of[node as usize];
        if m != u32::MAX && self.phase == Phase::Mining {
            self.start_mining(m as usize, sched);
        }
    }

    // ----- relay -----

    /// Sends `msg` over `link`: the sender's uplink is busy for the transmission time, then
    /// the message travels for the link's latency. `prunable` marks announcements that may
    /// be skipped when the receiver would ignore them (see the module docs).
    fn send(&mut self, link: usize, msg: Message, prunable: bool, sched: &mut Scheduler<Event>) {
        if self.link_cut(link) {
            return self.drop_message(link, msg, sched.now());
        }
        let from = self.network.link_source(link) as usize;
        let size = self.costs[msg.block.index()].wire.of_message(&msg);
        let start = sched.now().max(self.nodes[from].uplink_free_at);
        let sent = start + self.network.transmission_time(link, size);
        self.nodes[from].uplink_free_at = sent;
        let arrives = sent + self.network.link_latency(link);
        let to = self.network.link_target(link);
        let record = Record::MessageSent {
            from: from as u32,
            to,
            kind: msg.kind,
            block: msg.block,
            sent: start,
            arrives,
        };
        self.observer.record(&record, &self.store);
        if prunable {
            let target_state = self.nodes[self.network.link_target(link) as usize].state(msg.block);
            let ignored = match msg.kind {
                MessageKind::Inv => target_state.ignores_announcement(),
                _ => target_state.ignores_block(),
            };
            if ignored {
                return;
            }
        }
        self.in_flight += 1;
        sched.at(arrives, Event::Deliver { link: link as u32, msg });
    }

    /// Sends a request or answer about `block` over `link` (never skipped: the other side
    /// is waiting for it).
    fn reply(
        &mut self,
        link: usize,
        kind: MessageKind,
        block: BlockId,
        sched: &mut Scheduler<Event>,
    ) {
        self.send(link, Message::about(kind, block), false, sched);
    }

    /// Announces `block` to every peer of `node` except over `except_link`.
    fn announce(
        &mut self,
        node: u32,
        block: BlockId,
        except_link: u32,
        sched: &mut Scheduler<Event>,
    ) {
        let protocol = self.settings.relay.protocol;
        let sender_compact = self.nodes[node as usize].compact;
        for link in self.network.links_of(node) {
            if link as u32 == except_link {
                continue;
            }
            let kind = match protocol {
                RelayProtocol::Push => MessageKind::Block,
                RelayProtocol::Compact if sender_compact && self.high_bandwidth[link] => {
                    MessageKind::CmpctBlock
                }
                _ => MessageKind::Inv,
            };
            self.send(link, Message::about(kind, block), true, sched);
        }
    }

    fn on_deliver(&mut self, link: usize, msg: Message, sched: &mut Scheduler<Event>) {
        self.in_flight -= 1;
        if self.link_cut(link) {
            return self.drop_message(link, msg, sched.now());
        }
        let node = self.network.link_target(link);
        let reply = self.network.reverse_link(link);
        let state = self.nodes[node as usize].state(msg.block);
        match msg.kind {
            MessageKind::Inv => {
                if state.wants() {
                    self.nodes[node as usize].set_state(msg.block, BlockState::Requested);
                    let sender = self.network.link_source(link) as usize;
                    let compact = self.nodes[node as usize].compact && self.nodes[sender].compact;
                    let kind = if compact { MessageKind::GetCmpct } else { MessageKind::GetData };
                    self.reply(reply, kind, msg.block, sched);
                }
            }
            MessageKind::GetData => self.reply(reply, MessageKind::Block, msg.block, sched),
            MessageKind::GetCmpct => self.reply(reply, MessageKind::CmpctBlock, msg.block, sched),
            MessageKind::GetBlockTxn => {
                let answer = Message { kind: MessageKind::BlockTxn, ..msg };
                self.send(reply, answer, false, sched);
            }
            MessageKind::Block | MessageKind::BlockTxn => {
                if !state.ignores_block() {
                    self.receive_block(node, msg.block, reply as u32, sched);
                }
            }
            MessageKind::CmpctBlock => {
                if state.ignores_block() {
                    return;
                }
                let parent = self.store.get(msg.block).parent.expect("genesis is never relayed");
                let n = node as usize;
                let next = if self.nodes[n].state(parent) != BlockState::Accepted {
                    // Cannot reconstruct without the parent: fall back to the full block.
                    Some(Message::about(MessageKind::GetData, msg.block))
                } else if let Some(t) = &self.transactions {
                    // Rebuild from the mempool; ask for what it lacks.
                    let missing = t.pool.missing(msg.block, node, sched.now());
                    (missing.txs > 0).then_some(Message {
                        kind: MessageKind::GetBlockTxn,
                        block: msg.block,
                        missing_txs: missing.txs,
                        missing_bytes: missing.bytes.min(u64::from(u32::MAX)) as u32,
                    })
                } else if rng::uniform01(&mut self.relay_rng[n])
                    < self.settings.relay.compact_failure_probability
                {
                    Some(Message::about(MessageKind::GetBlockTxn, msg.block))
                } else {
                    None
                };
                match next {
                    Some(request) => {
                        if state != BlockState::Requested {
                            self.nodes[n].set_state(msg.block, BlockState::Requested);
                        }
                        self.send(reply, request, false, sched);
                    }
                    None => self.receive_block(node, msg.block, reply as u32, sched),
                }
            }
        }
    }

    // ----- validation and chain selection -----

    /// A node has the whole block: validate it if its parent is accepted, reject it if the
    /// parent was rejected, otherwise hold it as an orphan and fetch the parent.
    fn receive_block(
        &mut self,
        node: u32,
        block: BlockId,
        from_link: u32,
        sched: &mut Scheduler<Event>,
    ) {
        let n = node as usize;
        let parent = self.store.get(block).parent.expect("genesis is never relayed");
        match self.nodes[n].state(parent) {
            BlockState::Accepted => self.start_validation(node, block, from_link, sched),
            BlockState::Invalid => self.reject(node, block, RejectReason::BadPrevBlk, sched.now()),
            parent_state => {
                let pool_max = self.settings.orphan_pool_max;
                let state = &mut self.nodes[n];
                state.set_state(block, BlockState::Orphan);
                state.orphans.push(Orphan { block, from_link });
                if state.orphans.len() > pool_max {
                    let evicted = state.orphans.remove(0);
                    if state.state(evicted.block) == BlockState::Orphan {
                        state.set_state(evicted.block, BlockState::Evicted);
                    }
                }
                if parent_state.wants() && from_link != NO_LINK {
                    self.nodes[n].set_state(parent, BlockState::Requested);
                    self.reply(from_link as usize, MessageKind::GetData, parent, sched);
                }
            }
        }
    }

    fn start_validation(
        &mut self,
        node: u32,
        block: BlockId,
        from_link: u32,
        sched: &mut Scheduler<Event>,
    ) {
        let n = node as usize;
        let now = sched.now();
        self.nodes[n].set_state(block, BlockState::Received);
        let verdict = self.store.validity(block).and_then(|()| {
            let header = &self.store.get(block).block.header;
            check_header_pow(header, self.store.params())?;
            let node_clock_s = u64::from(self.settings.genesis_time) + now.as_secs();
            if u64::from(header.time) > node_clock_s + u64::from(MAX_FUTURE_BLOCK_TIME_S) {
                return Err(RejectReason::TimeTooNew);
            }
            Ok(())
        });
        let start = now.max(self.nodes[n].validator_free_at);
        let mut cost = self.costs[block.index()].validation;
        if let Some(t) = &self.transactions {
            // Signatures the node did not verify in its mempool are checked now.
            let unverified = t.pool.missing(block, node, now).inputs;
            cost = cost + SimDuration(self.settings.validation_per_input.0 * u64::from(unverified));
        }
        let done = start + cost;
        self.nodes[n].validator_free_at = done;
        self.in_flight += 1;
        sched.at(done, Event::Validated { node, block, from_link, verdict: verdict.err() });
    }

    fn reject(&mut self, node: u32, block: BlockId, reason: RejectReason, time: SimTime) {
        let n = node as usize;
        self.nodes[n].set_state(block, BlockState::Invalid);
        self.nodes[n].count_rejection(reason);
        self.observer.record(&Record::BlockRejected { node, block, reason, time }, &self.store);
        // Orphans waiting on this block can never connect.
        let children: Vec<Orphan> = self.take_orphans_of(node, block);
        for child in children {
            self.reject(node, child.block, RejectReason::BadPrevBlk, time);
        }
    }

    fn take_orphans_of(&mut self, node: u32, parent: BlockId) -> Vec<Orphan> {
        let state = &mut self.nodes[node as usize];
        if state.orphans.is_empty() {
            return Vec::new();
        }
        let store = &self.store;
        let (children, rest): (Vec<Orphan>, Vec<Orphan>) =
            state.orphans.iter().partition(|o| store.get(o.block).parent == Some(parent));
        state.orphans = rest;
        children
    }

    /// A node accepts a valid block: switch tip if it has more work (recording a reorg if
    /// the old tip is not its ancestor), announce newly connected blocks, let the node's
    /// miner react, and connect orphans that were waiting for it.
    fn accept(
        &mut self,
        node: u32,
        block: BlockId,
        from_link: u32,
        mined_here: bool,
        sched: &mut Scheduler<Event>,
    ) {
        let n = node as usize;
        let now = sched.now();
        self.nodes[n].set_state(block, BlockState::Accepted);
        let old_tip = self.nodes[n].tip;
        let (work, tip_work) =
            (self.store.get(block).chain_work, self.store.get(old_tip).chain_work);
        let switch =
            work > tip_work || (work == tip_work && self.prefers_on_tie(node, old_tip, block));
        let outcome = if switch {
            let fork = self.store.fork_point(old_tip, block);
            self.nodes[n].tip = block;
            // Announce every block that joined the best chain, oldest first. Almost always
            // that is the block alone, extending the old tip: no list needed.
            if !mined_here && !self.relays(node) {
                // The node's strategy keeps others' blocks to itself.
            } else if self.store.get(block).parent == Some(fork) {
                self.announce(node, block, from_link, sched);
            } else {
                for b in self.store.branch(block, fork) {
                    let except = if b == block { from_link } else { NO_LINK };
                    self.announce(node, b, except, sched);
                }
            }
            self.tip_changed(node, sched);
            if fork == old_tip {
                TipOutcome::Extended { old_tip }
            } else {
                let depth = self.store.get(old_tip).height - self.store.get(fork).height;
                TipOutcome::Reorged { old_tip, depth }
            }
        } else {
            let reason =
                if work == tip_work { KeepReason::SeenFirst } else { KeepReason::MoreWork };
            TipOutcome::Kept { tip: old_tip, reason }
        };
        if !mined_here {
            let from = (from_link != NO_LINK).then(|| self.network.link_target(from_link as usize));
            let record = Record::BlockAccepted { node, block, from, outcome, time: now };
            self.observer.record(&record, &self.store);
            if self.adversary.strategy(node).is_some() {
                self.strategy_accepted(node, block, sched);
            }
            if self.double_spend.as_ref().is_some_and(|d| d.spec.merchant == node) {
                self.check_merchant(sched);
            }
        }
        for orphan in self.take_orphans_of(node, block) {
            self.start_validation(node, orphan.block, orphan.from_link, sched);
        }
    }

    fn on_validated(
        &mut self,
        node: u32,
        block: BlockId,
        from_link: u32,
        verdict: Option<RejectReason>,
        sched: &mut Scheduler<Event>,
    ) {
        self.in_flight -= 1;
        match verdict {
            None => self.accept(node, block, from_link, false, sched),
            Some(reason) => self.reject(node, block, reason, sched.now()),
        }
    }
}

impl<O: Observer> Simulation<O> {
    // ----- transactions -----

    /// A template's transactions for `node` on `tip` at `now`: the node's mempool by fee
    /// rate up to the size cap, or filler in runs without a workload.
    fn template_body(&mut self, node: u32, tip: BlockId, now: SimTime) -> Body {
        let Some(t) = &self.transactions else { return Body::Filler };
        let extra = t.pool.off_chain(&self.store, tip);
        let utxo = self.store.utxo_at(tip).expect("a miner's tip is valid");
        let chosen = t.pool.select(utxo, &extra, node, now, self.settings.template_max_tx_bytes);
        let txs = t.pool.txs();
        let fees = chosen.iter().fold(crate::chain::Amount::ZERO, |sum, &i| {
            sum.checked_add(txs[i as usize].fee).expect("fees stay within the money range")
        });
        Body::Txs(chosen.iter().map(|&i| txs[i as usize].tx.clone()).collect(), fees)
    }

    /// Tells the pool which of its transactions a newly mined block carries, and retires
    /// transactions buried deep under the most-work block.
    fn register_transactions(&mut self, id: BlockId) {
        if self.store.get(id).chain_work > self.store.get(self.best_block).chain_work {
            self.best_block = id;
        }
        let Some(t) = self.transactions.as_mut() else { return };
        let parent = self.store.get(id).parent.expect("a mined block has a parent");
        let undo = self.store.block_undo(id).expect("a valid mined block has undo data");
        let indices: Vec<u32> =
            undo.txids()[1..].iter().filter_map(|txid| t.pool.index_of(txid)).collect();
        t.pool.register_block(id, parent, &indices);
        t.pool.retire(&self.store, self.best_block);
    }

    fn on_payment(&mut self, sched: &mut Scheduler<Event>) {
        if self.phase != Phase::Mining {
            return;
        }
        let now = sched.now();
        let Some(t) = self.transactions.as_mut() else { return };
        if t.stop.is_some_and(|stop| now >= stop) {
            return;
        }
        if let Some(p) = t.wallets.next_payment() {
            t.pool.add(&self.network, p.tx, p.fee, p.node, now);
        }
        let next = now + t.wallets.next_gap();
        sched.at(next, Event::Payment);
    }

    fn on_conflict(&mut self, index: usize, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let Some(t) = self.transactions.as_mut() else { return };
        let nodes = t.conflicts[index].nodes;
        if let Some(pair) = t.wallets.conflicting_pair(nodes) {
            for p in pair {
                let i = t.pool.add(&self.network, p.tx, p.fee, p.node, now);
                let txid = t.pool.txs()[i as usize].txid;
                self.observer.record(
                    &Record::PaymentSent { txid, node: p.node, conflict: true, time: now },
                    &self.store,
                );
            }
        }
    }

    fn on_sample(&mut self, sched: &mut Scheduler<Event>) {
        if self.phase != Phase::Mining {
            return;
        }
        let now = sched.now();
        let Some(t) = self.transactions.as_ref() else { return };
        for &node in &t.sampled_nodes {
            let tip = self.nodes[node as usize].tip;
            let (txs, bytes) = t.pool.mempool_size(&mut self.store, tip, node, now);
            self.observer
                .record(&Record::MempoolSampled { node, txs, bytes, time: now }, &self.store);
        }
        sched.at(now + t.sample_every, Event::SampleMempools);
    }
}

/// The target a block's `bits` encode (valid for every block built from the store).
fn bits_target_of(block: &crate::chain::Block) -> crate::chain::U256 {
    block.header.bits.to_target().expect("bits in the store always decode")
}

/// Each compact-block node picks up to `per_node` of its compact-speaking peers, at random,
/// as high-bandwidth peers; returns, by directed link, whether the link's sender pushes
/// compact blocks to its receiver unannounced.
fn choose_high_bandwidth_links(
    network: &Network,
    nodes: &[Node],
    per_node: u32,
    rng: &mut SimRng,
) -> Vec<bool> {
    let mut high_bandwidth = vec![false; network.link_count()];
    for node in nodes.iter().filter(|n| n.compact) {
        let mut candidates: Vec<usize> = network
            .links_of(node.id)
            .filter(|&l| nodes[network.link_target(l) as usize].compact)
            .collect();
        let take = (per_node as usize).min(candidates.len());
        for i in 0..take {
            let j = i + rng::below(rng, (candidates.len() - i) as u64) as usize;
            candidates.swap(i, j);
            high_bandwidth[network.reverse_link(candidates[i])] = true;
        }
    }
    high_bandwidth
}

impl<O: Observer> Model for Simulation<O> {
    type Event = Event;

    fn handle(&mut self, event: Event, sched: &mut Scheduler<Event>) {
        match event {
            Event::Deliver { link, msg } => self.on_deliver(link as usize, msg, sched),
            Event::Validated { node, block, from_link, verdict } => {
                self.on_validated(node, block, from_link, verdict, sched);
            }
            Event::Mined { miner, generation } => self.on_mined(miner as usize, generation, sched),
            Event::Payment => self.on_payment(sched),
            Event::Conflict { index } => self.on_conflict(index as usize, sched),
            Event::SampleMempools => self.on_sample(sched),
            Event::Timeline { index } => self.on_timeline(index as usize, sched),
            Event::DoubleSpendPayment => self.on_double_spend_payment(sched),
        }
    }

    fn is_done(&self, _: &Scheduler<Event>) -> bool {
        match self.phase {
            Phase::Mining => false,
            Phase::StopRequested => true,
            Phase::Draining => self.in_flight == 0,
        }
    }
}
