//! What a node decides about mining and publishing: the honest protocol and the attacks,
//! behind one trait.
//!
//! DESIGN.md asks that honest nodes and attackers be the same kind of thing, so that an
//! attack is a different answer to the same questions rather than a special case in the
//! engine. [`crate::sim`] asks a node's [`Strategy`] at a few hook points:
//!
//! - **mining tip**: which block the node's miner builds on;
//! - **a block it just mined**: relay it at once like an honest miner, or keep it private
//!   (it is in the shared store and the node has it, but nobody else hears of it);
//! - **a block it accepted from a peer**: publish private blocks (announced over the node's
//!   links with the normal relay protocol, oldest first), or give up a private branch;
//! - **a tie**: whether to switch to a rival block of the same work as its tip (honest
//!   nodes keep the one they saw first);
//! - **relay**: whether it passes on blocks mined by others.
//!
//! Everything else (validation, storage, chain selection by most work, relay mechanics)
//! stays the honest protocol for every node. A node without a strategy object is honest;
//! the simulation checks for one only at the hook points, so honest runs pay nothing per
//! message. [`Honest`] spells out the honest answers, and a run that gives every node an
//! `Honest` object produces exactly the same bytes as one that gives none.
//!
//! The attacks: [`private_chain::PrivateChain`] (the majority or 51 % attack) and
//! [`selfish::Selfish`] (Eyal and Sirer's selfish mining). A double spend against a merchant
//! is a private chain started at the time of payment whose first block carries the
//! conflicting transaction; it reuses [`private_chain::PrivateChain`] through
//! [`private_chain::PrivateChain::begin`] once transactions exist.

pub mod private_chain;
pub mod selfish;

use crate::chain::{BlockId, BlockStore};
use crate::faults::Faults;
use crate::rng::{self, Purpose, RngStreams};
use crate::scenario::attack::{AttackerSpec, GammaSpec, StrategySpec};
use crate::time::SimTime;

/// What a strategy sees when it decides: the shared store, which node it is, the node's
/// public tip (its most-work chain of blocks known to the network) and the time.
pub struct View<'a> {
    /// Every block (the strategy may read heights, work and miners).
    pub store: &'a BlockStore,
    /// The deciding node.
    pub node: u32,
    /// The node's tip: its most-work chain among blocks mined by others and blocks it has
    /// published (first seen on ties).
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

/// What a strategy decided at a hook.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// For a block the node just mined: keep it private (unless it is in `publish`) instead
    /// of relaying it like an honest miner. Ignored at other hooks.
    pub withhold: bool,
    /// Private blocks to announce now, oldest first (each one's parent is public or earlier
    /// in the list).
    pub publish: Vec<BlockId>,
    /// The node gave up its private branch, dropping this many unpublished blocks, and now
    /// mines on its public tip.
    pub gave_up: Option<u32>,
}

impl Decision {
    /// Keep the just-mined block private.
    pub fn withhold() -> Decision {
        Decision { withhold: true, ..Decision::default() }
    }

    /// Whether the decision is the honest one (relay a mined block, nothing else).
    pub fn is_honest(&self) -> bool {
        !self.withhold && self.publish.is_empty() && self.gave_up.is_none()
    }
}

/// A node's behaviour at the hook points. Every method has the honest answer as default.
pub trait Strategy {
    /// The strategy's name, as in scenario files.
    fn name(&self) -> &'static str;

    /// The block the node's miner builds on, given the node's public tip.
    fn mining_tip(&self, tip: BlockId) -> BlockId {
        tip
    }

    /// The node just mined `block` (on [`Strategy::mining_tip`]).
    fn on_mined(&mut self, view: &View<'_>, block: BlockId) -> Decision {
        let _ = (view, block);
        Decision::default()
    }

    /// The node validated and accepted `block` from a peer; `view.tip` is its tip after.
    fn on_accepted(&mut self, view: &View<'_>, block: BlockId) -> Decision {
        let _ = (view, block);
        Decision::default()
    }

    /// Whether to switch from `tip` to `candidate`, a block of exactly the same chain work
    /// (honest: no, the block seen first stays).
    fn prefers_on_tie(&self, store: &BlockStore, tip: BlockId, candidate: BlockId) -> bool {
        let _ = (store, tip, candidate);
        false
    }

    /// A double spend's payment was just made: start a private branch on `fork` now. With
    /// `feed_victim`, the merchant is eclipsed: the branch carries the payment and is shown
    /// at once (only the merchant, who hears nothing else, takes it), and the honest chain is
    /// revealed to the merchant once the payment has its confirmations. Strategies that are
    /// not a double spend ignore it.
    fn begin_private(&mut self, fork: BlockId, feed_victim: bool) {
        let _ = (fork, feed_victim);
    }

    /// Whether the node announces blocks mined by others once they join its best chain.
    fn relays_peer_blocks(&self) -> bool {
        true
    }
}

/// The honest protocol: mine on the most-work tip, relay every block at once. With
/// `relay: false` the node still mines and publishes honestly but passes on nobody else's
/// blocks (a node an attacker placed around an eclipsed victim).
#[derive(Clone, Copy, Debug)]
pub struct Honest {
    /// Whether it relays blocks mined by others.
    pub relay: bool,
}

impl Default for Honest {
    fn default() -> Self {
        Honest { relay: true }
    }
}

impl Strategy for Honest {
    fn name(&self) -> &'static str {
        "honest"
    }

    fn relays_peer_blocks(&self) -> bool {
        self.relay
    }
}

/// An honest node with a fixed tie-break between attacker blocks and honest blocks: it
/// switches to a block of equal work when the block's miner is one it favours (and its tip's
/// miner is not), or when its tip's miner is one it disfavours (and the block's is not).
/// This is how an explicit γ is put into the network: the γ subset favours the attacker,
/// everyone else disfavours it.
#[derive(Clone, Debug, Default)]
pub struct TieBreak {
    favoured: Vec<u32>,
    disfavoured: Vec<u32>,
}

impl Strategy for TieBreak {
    fn name(&self) -> &'static str {
        "honest"
    }

    fn prefers_on_tie(&self, store: &BlockStore, tip: BlockId, candidate: BlockId) -> bool {
        let miner = |b: BlockId| store.get(b).meta.miner.unwrap_or(u32::MAX);
        let (t, c) = (miner(tip), miner(candidate));
        (self.favoured.contains(&c) && !self.favoured.contains(&t))
            || (self.disfavoured.contains(&t) && !self.disfavoured.contains(&c))
    }
}

/// The strategies and faults of a run.
#[derive(Default)]
pub struct Adversary {
    /// By node; empty when every node is honest (a `None` entry is an honest node).
    pub strategies: Vec<Option<Box<dyn Strategy>>>,
    /// The timeline's state, if the scenario has one.
    pub faults: Option<Box<Faults>>,
    /// Per attacker in scenario order: the share of honest hash power that favours its blocks
    /// in a tie, for an explicit γ.
    pub gamma_subset: Vec<Option<f64>>,
}

/// Gives attackers their hash shares and scales the honest miners' shares to the rest.
///
/// # Errors
///
/// A message if no honest miner is left to scale.
pub fn assign_attacker_shares(
    shares: &mut [f64],
    attackers: &[AttackerSpec],
) -> Result<(), String> {
    if attackers.is_empty() {
        return Ok(());
    }
    let is_attacker = |n: usize| attackers.iter().any(|a| a.node as usize == n);
    let honest: f64 =
        shares.iter().enumerate().filter(|(n, _)| !is_attacker(*n)).map(|(_, s)| s).sum();
    if honest <= 0.0 {
        return Err("every mining node is an attacker; honest miners need some hash power (raise mining.miners or pick other nodes)".to_string());
    }
    let attack: f64 = attackers.iter().map(|a| a.share).sum();
    let scale = (1.0 - attack) / honest;
    for (n, s) in shares.iter_mut().enumerate() {
        if !is_attacker(n) {
            *s *= scale;
        }
    }
    for a in attackers {
        shares[a.node as usize] = a.share;
    }
    Ok(())
}

/// Picks, with stream `(Attacker, 1 + attacker index)`, honest miners (in a seeded random
/// order) until their share of the honest hash power is as close to `gamma` as whole miners
/// allow; returns them sorted and the share they hold.
pub fn gamma_subset(
    shares: &[f64],
    attackers: &[AttackerSpec],
    index: usize,
    gamma: f64,
    streams: &RngStreams,
) -> (Vec<u32>, f64) {
    let mut honest: Vec<u32> = (0..shares.len() as u32)
        .filter(|&n| shares[n as usize] > 0.0 && attackers.iter().all(|a| a.node != n))
        .collect();
    let total: f64 = honest.iter().map(|&n| shares[n as usize]).sum();
    let mut rng = streams.stream(Purpose::Attacker, 1 + index as u64);
    for i in (1..honest.len()).rev() {
        let j = rng::below(&mut rng, i as u64 + 1) as usize;
        honest.swap(i, j);
    }
    let mut chosen = Vec::new();
    let mut held = 0.0;
    for &n in &honest {
        let with = held + shares[n as usize] / total;
        if (with - gamma).abs() >= (held - gamma).abs() {
            break;
        }
        held = with;
        chosen.push(n);
    }
    chosen.sort_unstable();
    (chosen, held)
}

impl Adversary {
    /// The strategies a scenario gives its nodes, from the final hash shares. With no
    /// attacker no node gets a strategy object.
    pub fn build(attackers: &[AttackerSpec], shares: &[f64], streams: &RngStreams) -> Adversary {
        if attackers.is_empty() {
            return Adversary::default();
        }
        let nodes = shares.len();
        let mut strategies: Vec<Option<Box<dyn Strategy>>> = (0..nodes).map(|_| None).collect();
        let mut subsets = vec![None; attackers.len()];
        let mut tie_breaks: Vec<TieBreak> = vec![TieBreak::default(); nodes];
        let mut any_tie_break = false;
        for (i, a) in attackers.iter().enumerate() {
            if let StrategySpec::Selfish { gamma: GammaSpec::Fixed(gamma) } = a.strategy {
                any_tie_break = true;
                let (subset, held) = gamma_subset(shares, attackers, i, gamma, streams);
                subsets[i] = Some(held);
                for (n, t) in tie_breaks.iter_mut().enumerate() {
                    if subset.binary_search(&(n as u32)).is_ok() {
                        t.favoured.push(a.node);
                    } else {
                        t.disfavoured.push(a.node);
                    }
                }
            }
        }
        if any_tie_break {
            for (n, t) in tie_breaks.into_iter().enumerate() {
                strategies[n] = Some(Box::new(t));
            }
        }
        for a in attackers {
            let s: Box<dyn Strategy> = match a.strategy {
                StrategySpec::Honest => Box::new(Honest { relay: a.relay }),
                StrategySpec::PrivateChain(spec) => {
                    Box::new(private_chain::PrivateChain::new(spec, a.relay))
                }
                StrategySpec::DoubleSpend(d) => {
                    Box::new(private_chain::PrivateChain::double_spend(d, a.relay))
                }
                StrategySpec::Selfish { .. } => Box::new(selfish::Selfish::new(a.relay)),
            };
            strategies[a.node as usize] = Some(s);
        }
        Adversary { strategies, faults: None, gamma_subset: subsets }
    }

    /// The strategy of `node`, if it has one.
    #[inline]
    pub fn strategy(&self, node: u32) -> Option<&dyn Strategy> {
        self.strategies.get(node as usize).and_then(|s| s.as_deref())
    }
}

/// Block trees for strategy tests.
#[cfg(test)]
pub(crate) mod testing {
    use crate::chain::store::{BlockMeta, genesis_block};
    use crate::chain::{BlockId, BlockStore, CompactTarget, ConsensusParams, U256};
    use crate::mining::{TemplateSpec, build_template};
    use crate::time::SimTime;

    /// A store holding only genesis, and genesis.
    pub fn store() -> (BlockStore, BlockId) {
        let params = ConsensusParams { pow_limit: U256::MAX, ..ConsensusParams::bitcoin() };
        let bits =
            CompactTarget::from_target(crate::chain::pow::target_for_expected_hashes(1000.0));
        (BlockStore::new(genesis_block(1_600_000_000, bits, &params), params), BlockId::GENESIS)
    }

    /// What a strategy on node 0 sees at time zero with public tip `tip`.
    pub fn view(store: &BlockStore, tip: BlockId) -> super::View<'_> {
        super::View { store, node: 0, tip, now: SimTime::ZERO }
    }

    /// A new block on `parent` mined by `miner`.
    pub fn child(store: &mut BlockStore, parent: BlockId, miner: u32) -> BlockId {
        let spec =
            TemplateSpec { genesis_time: 1_600_000_000, block_size_bytes: 0, tx_size_bytes: 250 };
        let extra_nonce = store.len() as u64;
        let block = build_template(
            store,
            parent,
            miner,
            SimTime::ZERO,
            extra_nonce,
            &spec,
            crate::mining::Body::Filler,
        );
        store
            .insert(block, BlockMeta { miner: Some(miner), mined_at: SimTime::ZERO })
            .expect("the parent is stored")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::attack::PrivateChainSpec;

    fn attacker(node: u32, share: f64, gamma: GammaSpec) -> AttackerSpec {
        AttackerSpec { node, share, relay: true, strategy: StrategySpec::Selfish { gamma } }
    }

    #[test]
    fn attacker_shares_replace_and_honest_shares_scale_to_the_rest() {
        let mut shares = vec![0.25, 0.25, 0.25, 0.25];
        assign_attacker_shares(&mut shares, &[attacker(1, 0.4, GammaSpec::Emergent)]).unwrap();
        assert!((shares[1] - 0.4).abs() < 1e-12);
        for n in [0, 2, 3] {
            assert!((shares[n] - 0.2).abs() < 1e-12, "{shares:?}");
        }
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let mut only = vec![1.0, 0.0];
        assert!(
            assign_attacker_shares(&mut only, &[attacker(0, 0.3, GammaSpec::Emergent)]).is_err()
        );
    }

    #[test]
    fn gamma_subset_holds_the_closest_share_of_honest_power() {
        let mut shares = vec![0.0; 41];
        shares[0] = 0.3;
        for s in &mut shares[1..] {
            *s = 0.7 / 40.0;
        }
        let a = [attacker(0, 0.3, GammaSpec::Fixed(0.5))];
        let streams = RngStreams::new(5);
        let (subset, held) = gamma_subset(&shares, &a, 0, 0.5, &streams);
        assert_eq!(subset.len(), 20);
        assert!((held - 0.5).abs() < 1e-12);
        assert!(!subset.contains(&0), "the attacker is not in its own subset");
        let (none, held) = gamma_subset(&shares, &a, 0, 0.0, &streams);
        assert!(none.is_empty() && held == 0.0);
        // The same seed picks the same miners.
        assert_eq!(gamma_subset(&shares, &a, 0, 0.5, &streams).0, subset);
    }

    #[test]
    fn honest_runs_get_no_strategy_objects() {
        let adversary = Adversary::build(&[], &[0.5, 0.5], &RngStreams::new(1));
        assert!(adversary.strategies.is_empty() && adversary.strategy(0).is_none());
        let spec = PrivateChainSpec {
            start: SimTime::ZERO,
            publish_lead: 1,
            publish_after: 0,
            give_up_behind: None,
        };
        let a = [AttackerSpec {
            node: 1,
            share: 0.3,
            relay: true,
            strategy: StrategySpec::PrivateChain(spec),
        }];
        let adversary = Adversary::build(&a, &[0.7, 0.3], &RngStreams::new(1));
        assert!(adversary.strategy(0).is_none(), "no tie-breaks without an explicit gamma");
        assert_eq!(adversary.strategy(1).map(Strategy::name), Some("private-chain"));
    }

    #[test]
    fn tie_breaks_favour_or_disfavour_the_attackers_blocks() {
        let (mut store, g) = testing::store();
        let honest = testing::child(&mut store, g, 0);
        let attack = testing::child(&mut store, g, 9);
        let gamma = TieBreak { favoured: vec![9], disfavoured: vec![] };
        let rest = TieBreak { favoured: vec![], disfavoured: vec![9] };
        assert!(gamma.prefers_on_tie(&store, honest, attack));
        assert!(!gamma.prefers_on_tie(&store, attack, honest));
        assert!(rest.prefers_on_tie(&store, attack, honest));
        assert!(!rest.prefers_on_tie(&store, honest, attack));
        let other = testing::child(&mut store, g, 1);
        assert!(!gamma.prefers_on_tie(&store, honest, other), "honest ties stay first-seen");
        assert!(!Honest::default().prefers_on_tie(&store, honest, attack));
    }
}
