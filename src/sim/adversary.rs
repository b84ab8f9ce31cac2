//! The simulation's side of strategies and faults: asking a node's strategy at the hook
//! points and carrying out its decisions with the honest relay machinery, and applying
//! timeline entries to links and miners.
//!
//! Kept apart from the honest protocol in the parent module so that the protocol reads as
//! Bitcoin Core does, with only a one-line call at each hook.

use super::{Event, NO_LINK, Phase, Simulation};
use crate::chain::BlockId;
use crate::engine::Scheduler;
use crate::faults::{Change, Faults};
use crate::network::Network;
use crate::node::BlockState;
use crate::node::relay::{Message, MessageKind};
use crate::observe::{Observer, Record};
use crate::rng::{Purpose, RngStreams};
use crate::scenario::{Scenario, ScenarioError};
use crate::strategy::{self, Adversary, Decision, Strategy, View};
use crate::time::SimTime;

/// Sets up a run's attacks and faults: rewires an eclipsed victim's links, gives attackers
/// their hash shares (scaling honest miners to the rest) and builds every node's strategy
/// and the timeline's state.
///
/// # Errors
///
/// A [`ScenarioError`] naming the field when the eclipse disconnects the network, no honest
/// miner is left, or a partition leaves fewer than two groups.
pub(super) fn build(
    scenario: &Scenario,
    network: &mut Network,
    hash_shares: &mut [f64],
    streams: &RngStreams,
) -> Result<Adversary, ScenarioError> {
    let origin = scenario.source.display().to_string();
    if let Some(e) = &scenario.eclipse {
        let mut rng = streams.stream(Purpose::Latency, 1);
        *network = network
            .eclipsed(e.victim, &e.attackers, &scenario.network.latency, &mut rng)
            .map_err(|err| ScenarioError::Field {
                origin: origin.clone(),
                field: "network.eclipse".to_string(),
                value: format!(
                    "{{ victim = \"{}\", attackers = [{} nodes] }}",
                    scenario.node_names[e.victim as usize],
                    e.attackers.len()
                ),
                problem: format!("rewiring the victim's links breaks the network: {err}"),
            })?;
    }
    strategy::assign_attacker_shares(hash_shares, &scenario.attackers).map_err(|problem| {
        ScenarioError::Field {
            origin: origin.clone(),
            field: "attacker".to_string(),
            value: format!("[{} attackers]", scenario.attackers.len()),
            problem,
        }
    })?;
    let mut adversary = Adversary::build(&scenario.attackers, hash_shares, streams);
    if !scenario.timeline.is_empty() {
        adversary.faults =
            Some(Box::new(Faults::new(&scenario.timeline, network, *streams, &origin)?));
    }
    Ok(adversary)
}

impl<O: Observer> Simulation<O> {
    /// The block `node`'s miner builds on.
    #[inline]
    pub(super) fn mining_tip(&self, node: u32) -> BlockId {
        let tip = self.nodes[node as usize].tip;
        match self.adversary.strategy(node) {
            None => tip,
            Some(s) => s.mining_tip(tip),
        }
    }

    /// Whether `node` announces blocks mined by others.
    #[inline]
    pub(super) fn relays(&self, node: u32) -> bool {
        self.adversary.strategy(node).is_none_or(|s| s.relays_peer_blocks())
    }

    /// Whether `node` switches from `tip` to `candidate`, a block of equal work.
    pub(super) fn prefers_on_tie(&self, node: u32, tip: BlockId, candidate: BlockId) -> bool {
        self.adversary.strategy(node).is_some_and(|s| s.prefers_on_tie(&self.store, tip, candidate))
    }

    /// Whether `node` is online (always, without a timeline).
    #[inline]
    pub(super) fn online(&self, node: u32) -> bool {
        self.adversary.faults.as_ref().is_none_or(|f| f.online(node))
    }

    /// Whether messages on `link` are lost (never, without a timeline: then this is one
    /// test on the hot path of every message, and the rest stays out of line).
    #[inline]
    pub(super) fn link_cut(&self, link: usize) -> bool {
        self.adversary.faults.is_some() && self.link_cut_by_faults(link)
    }

    #[inline(never)]
    fn link_cut_by_faults(&self, link: usize) -> bool {
        self.adversary
            .faults
            .as_ref()
            .is_some_and(|f| f.cut(self.network.link_source(link), self.network.link_target(link)))
    }

    /// A message on a cut link is lost. A lost request or answer leaves the block wanted
    /// again, so the node asks once it hears of the block anew.
    #[cold]
    pub(super) fn drop_message(&mut self, link: usize, msg: Message, time: SimTime) {
        let (from, to) = (self.network.link_source(link), self.network.link_target(link));
        let record = Record::MessageDropped { from, to, kind: msg.kind, block: msg.block, time };
        self.observer.record(&record, &self.store);
        let waiting = match msg.kind {
            MessageKind::Inv => return,
            MessageKind::GetData | MessageKind::GetCmpct | MessageKind::GetBlockTxn => from,
            MessageKind::Block | MessageKind::CmpctBlock | MessageKind::BlockTxn => to,
        };
        let node = &mut self.nodes[waiting as usize];
        if node.state(msg.block) == BlockState::Requested {
            node.set_state(msg.block, BlockState::Unknown);
        }
    }

    /// Puts a question to `node`'s strategy, which sees the node's tip and the time.
    fn ask(
        &mut self,
        node: u32,
        now: SimTime,
        question: impl FnOnce(&mut dyn Strategy, &View<'_>) -> Decision,
    ) -> Decision {
        let view = View { store: &self.store, node, tip: self.nodes[node as usize].tip, now };
        let strategy = self.adversary.strategies[node as usize].as_deref_mut();
        question(strategy.expect("asked only of nodes with a strategy"), &view)
    }

    /// Asks `node`'s strategy about the block it just mined and carries out the answer; the
    /// honest answer takes the honest path.
    #[cold]
    pub(super) fn strategy_mined(
        &mut self,
        node: u32,
        block: BlockId,
        sched: &mut Scheduler<Event>,
    ) {
        let n = node as usize;
        let decision = self.ask(node, sched.now(), |s, view| s.on_mined(view, block));
        if decision.is_honest() {
            return self.accept(node, block, NO_LINK, true, sched);
        }
        self.nodes[n].set_state(block, BlockState::Accepted);
        if decision.withhold && !decision.publish.contains(&block) {
            let record = Record::Withheld { node, block, time: sched.now() };
            self.observer.record(&record, &self.store);
        }
        self.carry_out(node, &decision, sched);
        // The clock that fired is used up: mine on, on the strategy's tip.
        self.tip_changed(node, sched);
    }

    /// Tells `node`'s strategy it accepted `block` from a peer and carries out the answer.
    #[cold]
    pub(super) fn strategy_accepted(
        &mut self,
        node: u32,
        block: BlockId,
        sched: &mut Scheduler<Event>,
    ) {
        let before = self.mining_tip(node);
        let decision = self.ask(node, sched.now(), |s, view| s.on_accepted(view, block));
        self.carry_out(node, &decision, sched);
        if self.mining_tip(node) != before {
            self.tip_changed(node, sched);
        }
    }

    fn carry_out(&mut self, node: u32, decision: &Decision, sched: &mut Scheduler<Event>) {
        if !decision.publish.is_empty() {
            self.publish(node, &decision.publish, sched);
        }
        if let Some(abandoned) = decision.gave_up {
            self.double_spend_gave_up(node);
            let tip = self.mining_tip(node);
            let record = Record::GaveUp { node, abandoned, tip, time: sched.now() };
            self.observer.record(&record, &self.store);
        }
    }

    /// Announces private blocks over every link of `node`, oldest first, with the normal
    /// relay protocol; the node's own tip moves to them where they have more work.
    fn publish(&mut self, node: u32, blocks: &[BlockId], sched: &mut Scheduler<Event>) {
        let n = node as usize;
        let last = *blocks.last().expect("publishing at least one block");
        let tip = self.nodes[n].tip;
        let tie = self.mining_tip(node) == last
            && tip != last
            && self.store.get(tip).chain_work == self.store.get(last).chain_work;
        let record = Record::Published {
            node,
            tip: last,
            count: blocks.len() as u32,
            tie_with: tie.then_some(tip),
            time: sched.now(),
        };
        self.observer.record(&record, &self.store);
        for &b in blocks {
            self.announce(node, b, NO_LINK, sched);
            if self.store.get(b).chain_work > self.store.get(self.nodes[n].tip).chain_work {
                self.nodes[n].tip = b;
            }
        }
    }

    /// Schedules every timeline entry at its time.
    pub(super) fn schedule_timeline(&mut self, sched: &mut Scheduler<Event>) {
        if let Some(f) = &self.adversary.faults {
            for (index, at) in f.events().enumerate() {
                sched.at(at, Event::Timeline { index: index as u32 });
            }
        }
    }

    fn cut_links(&self) -> Vec<bool> {
        (0..self.network.link_count()).map(|l| self.link_cut(l)).collect()
    }

    /// Applies a timeline entry: records it, stops or restarts miners, and lets the two ends
    /// of every link that came back exchange their chains.
    pub(super) fn on_timeline(&mut self, index: usize, sched: &mut Scheduler<Event>) {
        let time = sched.now();
        let before = self.cut_links();
        let change =
            self.adversary.faults.as_mut().expect("scheduled only with a timeline").apply(index);
        let after = self.cut_links();
        let changed = |from: bool, to: bool| {
            before.iter().zip(&after).filter(|(b, a)| **b == from && **a == to).count() as u32 / 2
        };
        match change {
            Change::Partitioned { groups } => {
                let links_cut = changed(false, true);
                self.observer.record(&Record::Partitioned { groups, links_cut, time }, &self.store);
            }
            Change::Healed => {
                let links_restored = changed(true, false);
                self.observer.record(&Record::Healed { links_restored, time }, &self.store);
            }
            Change::Left(nodes) => {
                for node in nodes {
                    self.observer.record(&Record::NodeLeft { node, time }, &self.store);
                    let m = self.miner_of[node as usize];
                    if m != u32::MAX {
                        let miner = &mut self.miners[m as usize];
                        miner.generation = miner.generation.wrapping_add(1);
                        miner.pending_block = None;
                    }
                }
            }
            Change::Rejoined(nodes) => {
                for node in nodes {
                    self.observer.record(&Record::NodeRejoined { node, time }, &self.store);
                    let m = self.miner_of[node as usize];
                    if m != u32::MAX && self.phase == Phase::Mining {
                        self.start_mining(m as usize, sched);
                    }
                }
            }
        }
        for link in 0..after.len() {
            if before[link] && !after[link] {
                self.sync_link(link, sched);
            }
        }
    }

    /// A link came back: its source announces the blocks of its best chain that the other
    /// end lacks, oldest first, as Bitcoin's header exchange on (re)connection finds them
    /// (the locator is read from the other end's tip). The other end fetches them with the
    /// normal relay protocol and switches if they have more work.
    fn sync_link(&mut self, link: usize, sched: &mut Scheduler<Event>) {
        let (from, to) = (self.network.link_source(link), self.network.link_target(link));
        if !self.relays(from) {
            return;
        }
        let tip = self.nodes[from as usize].tip;
        let fork = self.store.fork_point(tip, self.nodes[to as usize].tip);
        for block in self.store.branch(tip, fork) {
            self.send(link, Message::about(MessageKind::Inv, block), true, sched);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::observe::metrics::Metrics;
    use crate::observe::output::render;
    use crate::scenario::{self, Override};
    use crate::sim::Simulation;
    use crate::strategy::{Honest, Strategy};

    /// The files of a run, with every node given an explicit [`Honest`] object or none.
    fn run(file: &str, sets: &[&str], honest_objects: bool) -> Vec<(&'static str, Vec<u8>)> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file);
        let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
        let sc = scenario::load(&path, &overrides, None).unwrap();
        let mut sim = Simulation::new(&sc, Metrics::new(sc.network.nodes)).unwrap();
        if honest_objects {
            sim.adversary.strategies = (0..sc.network.nodes)
                .map(|_| Some(Box::new(Honest::default()) as Box<dyn Strategy>))
                .collect();
        }
        let stats = sim.run(&sc);
        render(&sc, &mut sim, &stats).files
    }

    #[test]
    fn honest_strategy_objects_give_the_same_bytes_as_none() {
        let cases: [(&str, &[&str]); 3] = [
            ("quickstart.toml", &["run.blocks=120", "network.nodes=50"]),
            (
                "quickstart.toml",
                &["run.blocks=80", "network.nodes=40", "network.relay.protocol=compact"],
            ),
            ("classroom.toml", &["run.blocks=15"]),
        ];
        for (file, sets) in cases {
            assert!(run(file, sets, false) == run(file, sets, true), "{file} {sets:?}");
        }
    }
}
