//! The private-chain (majority, "51 %") attack: mine a branch in private from a start
//! point and publish it when a rule says so.
//!
//! Until its start time the attacker mines honestly. Then it forks from its tip and mines
//! only on its own branch, whatever the honest chain does. It publishes every private block
//! (oldest first) once the branch has more work than the honest chain it has seen, is at
//! least `publish_lead` blocks ahead, and the honest chain has at least `publish_after`
//! blocks on top of the fork point; honest nodes then switch to the longer branch,
//! disconnecting the blocks they had on top of the fork. The attacker then starts a new
//! branch from its published tip. With `give_up_behind` it abandons a branch that falls
//! that many blocks behind and restarts from the honest tip; without it, it never does.
//!
//! With more than half the hash power the branch overtakes the honest chain sooner or later
//! from any depth, which is the point of the attack. A double spend is this strategy begun
//! (with [`PrivateChain::begin`]) at the time of payment, its first block carrying a
//! transaction that conflicts with the payment, and `publish_after` set to the merchant's
//! confirmations.

use crate::chain::BlockId;
use crate::node::protocol::{Answer, Protocol, View};
use crate::scenario::attack::{DoubleSpendSpec, PrivateChainSpec};
use crate::time::SimTime;

/// A private branch under way.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Branch {
    /// Where it leaves the public chain.
    fork: BlockId,
    /// Its last block (the fork point itself while it has none).
    tip: BlockId,
    /// Its blocks not yet published, oldest first.
    unpublished: Vec<BlockId>,
}

/// The private-chain attacker.
#[derive(Clone, Debug)]
pub struct PrivateChain {
    spec: PrivateChainSpec,
    relay: bool,
    branch: Option<Branch>,
    /// "private-chain", or "double-spend" when begun by a payment.
    name: &'static str,
    /// A double spend against an eclipsed merchant: publish every block at once, reveal the
    /// honest chain once the branch is `publish_after` blocks long.
    feed_victim: bool,
    /// Decide only when asked ([`PrivateChain::decide_now`]), not on every block: under a
    /// slot clock the owner asks once per slot, half-way through it, once the slot's blocks are in.
    deferred: bool,
}

impl PrivateChain {
    /// An attacker following `spec`; `relay`: whether it passes on others' blocks.
    pub fn new(spec: PrivateChainSpec, relay: bool) -> PrivateChain {
        PrivateChain {
            spec,
            relay,
            branch: None,
            name: "private-chain",
            feed_victim: false,
            deferred: false,
        }
    }

    /// The double spend: honest until the payment, then a private branch from the tip of
    /// that moment (begun by [`PrivateChain::begin_double_spend`] at the payment), published
    /// once it is longer than the honest chain and the merchant has its `z` confirmations.
    pub fn double_spend(spec: DoubleSpendSpec, relay: bool) -> PrivateChain {
        let chain = PrivateChainSpec {
            // Never begins by itself: the payment begins it.
            start: SimTime::MAX,
            publish_lead: 1,
            publish_after: spec.z,
            give_up_behind: spec.give_up_behind,
        };
        PrivateChain {
            spec: chain,
            relay,
            branch: None,
            name: "double-spend",
            feed_victim: false,
            deferred: false,
        }
    }

    /// Decides only when [`PrivateChain::decide_now`] is called, never on a block.
    ///
    /// Under a slot clock every leader of a slot builds at the slot's start, so a branch
    /// published the moment its own block is built meets the honest leaders' blocks of the
    /// same slot as a tie, which the network resolves for the block it saw first. Deciding
    /// later in the slot (the owner picks when), with the slot's blocks in, publishes a
    /// branch only when it is still strictly ahead.
    pub fn deferred(mut self) -> PrivateChain {
        self.deferred = true;
        self
    }

    /// Whether a branch is under way.
    pub fn in_progress(&self) -> bool {
        self.branch.is_some()
    }

    /// Publishes the branch or gives it up now, if the rule says so (a deferred attacker's
    /// decision point).
    pub fn decide_now(&mut self, view: &View<'_>) -> Answer {
        let (publish, gave_up) = self.decide(view);
        let steps = if publish.is_empty() { Answer::default() } else { Answer::publish(publish) };
        Answer { gave_up, ..steps }
    }

    /// Starts a private branch from `fork` now (a double spend begins it at the payment).
    pub fn begin(&mut self, fork: BlockId) {
        self.branch = Some(Branch { fork, tip: fork, unpublished: Vec::new() });
    }

    /// Whether a branch is under way.
    #[cfg(test)]
    pub fn is_private(&self) -> bool {
        self.in_progress()
    }

    /// Blocks mined in private and not yet published.
    #[cfg(test)]
    pub fn unpublished(&self) -> &[BlockId] {
        self.branch.as_ref().map_or(&[], |b| &b.unpublished)
    }

    /// Against an eclipsed merchant: shows the block at once (the merchant hears nothing
    /// else), and once the branch is `publish_after` blocks long (the merchant has its
    /// confirmations) reveals the honest chain since the fork and relays from then on, so
    /// the merchant switches to the honest chain, which holds the conflicting version.
    fn feed(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        let store = view.store;
        let branch = self.branch.as_ref().expect("feeding a branch");
        let mut publish = vec![block];
        if store.get(block).height - store.get(branch.fork).height >= self.spec.publish_after {
            let fork = store.fork_point(view.tip, branch.fork);
            let mut honest = Vec::new();
            let mut b = view.tip;
            while b != fork {
                honest.push(b);
                b = store.get(b).parent.expect("the fork point is an ancestor");
            }
            publish.extend(honest.into_iter().rev());
            self.branch = None;
            self.feed_victim = false;
            self.relay = true;
        }
        Answer::publish(publish)
    }

    /// Publishes the branch if the rule says so (the blocks to publish), or gives it up if it
    /// fell too far behind (the blocks dropped).
    fn decide(&mut self, view: &View<'_>) -> (Vec<BlockId>, Option<u32>) {
        let spec = self.spec;
        let Some(branch) = self.branch.as_mut() else {
            return (Vec::new(), None);
        };
        let store = view.store;
        let (mine, public) = (store.get(branch.tip), store.get(view.tip));
        if !branch.unpublished.is_empty()
            && store.chain_work(branch.tip) > store.chain_work(view.tip)
        {
            let lead = mine.height.saturating_sub(public.height);
            let fork = store.fork_point(view.tip, branch.tip);
            let honest_on_fork = public.height - store.get(fork).height;
            if lead >= spec.publish_lead && honest_on_fork >= spec.publish_after {
                branch.fork = branch.tip;
                let publish = std::mem::take(&mut branch.unpublished);
                if self.name == "double-spend" {
                    // The payment is reversed; the attacker mines honestly from here on.
                    self.branch = None;
                }
                return (publish, None);
            }
        }
        if let Some(limit) = spec.give_up_behind
            && public.height >= mine.height + limit
        {
            let abandoned = branch.unpublished.len() as u32;
            if self.name == "double-spend" {
                // One payment, one attempt: after giving up the attacker mines honestly.
                self.branch = None;
            } else {
                *branch = Branch { fork: view.tip, tip: view.tip, unpublished: Vec::new() };
            }
            return (Vec::new(), Some(abandoned));
        }
        (Vec::new(), None)
    }
}

impl PrivateChain {
    /// A double spend's payment was just made: start the private branch on `fork` now. With
    /// `feed_victim`, the merchant is eclipsed: the branch carries the payment and is shown at
    /// once (only the merchant, who hears nothing else, takes it), and the honest chain is
    /// revealed to the merchant once the payment has its confirmations.
    pub fn begin_double_spend(&mut self, fork: BlockId, feed_victim: bool) {
        self.begin(fork);
        self.feed_victim = feed_victim;
    }
}

impl Protocol for PrivateChain {
    fn name(&self) -> &'static str {
        self.name
    }

    fn mining_tip(&self, tip: BlockId) -> BlockId {
        self.branch.as_ref().map_or(tip, |b| b.tip)
    }

    fn on_mined(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        if self.branch.is_none() {
            if view.now < self.spec.start {
                return Answer::adopt_and_relay();
            }
            // The block was mined on the public tip: the branch starts under it.
            let parent = view.store.get(block).parent.expect("a mined block has a parent");
            self.begin(parent);
        }
        let branch = self.branch.as_mut().expect("begun above");
        branch.tip = block;
        if self.feed_victim {
            return self.feed(view, block);
        }
        branch.unpublished.push(block);
        if self.deferred {
            return Answer::withhold();
        }
        let (publish, gave_up) = self.decide(view);
        let steps = if publish.is_empty() { Answer::withhold() } else { Answer::publish(publish) };
        Answer { gave_up, ..steps }
    }

    /// Publishes the branch, if the rule says so, before relaying the block that changed
    /// the race (which is then relayed only if it is still on the node's best chain).
    fn on_accepted(&mut self, view: &View<'_>, block: BlockId) -> Answer {
        if self.branch.is_none() {
            if view.now >= self.spec.start {
                self.begin(view.tip);
            }
            return Answer::to_peer_block(view, block, self.relay, Vec::new());
        }
        if self.deferred {
            return Answer::to_peer_block(view, block, self.relay, Vec::new());
        }
        let (publish, gave_up) = self.decide(view);
        Answer { gave_up, ..Answer::to_peer_block(view, block, self.relay, publish) }
    }

    fn relays_peer_blocks(&self) -> bool {
        self.relay
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::NodeId;
    use crate::node::testing::{self as testutil, view};
    use crate::time::SimTime;

    fn spec(
        publish_lead: u32,
        publish_after: u32,
        give_up_behind: Option<u32>,
    ) -> PrivateChainSpec {
        PrivateChainSpec { start: SimTime::ZERO, publish_lead, publish_after, give_up_behind }
    }

    #[test]
    fn withholds_until_ahead_and_past_the_confirmations_then_publishes_everything() {
        let (mut store, g) = testutil::store();
        let mut attacker = PrivateChain::new(spec(1, 2, None), true);
        // Honest chain g <- h1; the attacker mines a1, a2 on g.
        let a1 = testutil::child(&mut store, g, NodeId(1));
        assert_eq!(attacker.on_mined(&view(&store, g), a1), Answer::withhold());
        assert_eq!(attacker.mining_tip(g), a1);
        let h1 = testutil::child(&mut store, g, NodeId(0));
        assert_eq!(attacker.on_accepted(&view(&store, h1), h1), Answer::adopt_and_relay());
        let a2 = testutil::child(&mut store, a1, NodeId(1));
        // Ahead by one, but the honest chain has only one block on the fork.
        assert_eq!(attacker.on_mined(&view(&store, h1), a2), Answer::withhold());
        let h2 = testutil::child(&mut store, h1, NodeId(0));
        assert_eq!(attacker.on_accepted(&view(&store, h2), h2), Answer::adopt_and_relay());
        let a3 = testutil::child(&mut store, a2, NodeId(1));
        let d = attacker.on_mined(&view(&store, h2), a3);
        assert_eq!(d, Answer::publish(vec![a1, a2, a3]));
        assert!(!d.adopts());
        assert!(attacker.unpublished().is_empty());
        assert_eq!(attacker.mining_tip(a3), a3, "the next branch starts at the published tip");
    }

    #[test]
    fn gives_up_when_far_behind_and_restarts_from_the_honest_tip() {
        let (mut store, g) = testutil::store();
        let mut attacker = PrivateChain::new(spec(1, 5, Some(2)), true);
        let a1 = testutil::child(&mut store, g, NodeId(1));
        attacker.on_mined(&view(&store, g), a1);
        let h1 = testutil::child(&mut store, g, NodeId(0));
        let h2 = testutil::child(&mut store, h1, NodeId(0));
        assert_eq!(attacker.on_accepted(&view(&store, h2), h2), Answer::adopt_and_relay());
        let h3 = testutil::child(&mut store, h2, NodeId(0));
        let d = attacker.on_accepted(&view(&store, h3), h3);
        assert_eq!(d.gave_up, Some(1));
        assert_eq!(attacker.mining_tip(h3), h3);
    }

    #[test]
    fn mines_honestly_before_its_start_time() {
        let (mut store, g) = testutil::store();
        let start = SimTime(10_000_000);
        let mut attacker = PrivateChain::new(PrivateChainSpec { start, ..spec(1, 0, None) }, true);
        let b = testutil::child(&mut store, g, NodeId(1));
        let early = View { store: &store, tip: g, now: SimTime(5) };
        assert_eq!(attacker.on_mined(&early, b), Answer::adopt_and_relay());
        assert!(!attacker.is_private());
        let late = View { store: &store, tip: b, now: start };
        attacker.on_accepted(&late, b);
        assert!(attacker.is_private());
        assert_eq!(attacker.mining_tip(b), b);
    }
}
