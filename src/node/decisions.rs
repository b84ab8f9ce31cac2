//! Asking a node's protocol what to do with a block, then doing it.
//!
//! The protocol is asked before anything is relayed: its [`Answer`] lists every step (adopt
//! the block, publish withheld blocks, relay) in the order the node takes them, and only then
//! does the node act. An honest node answers "adopt and relay". A protocol that hears
//! announcements is also asked when a peer first tells the node of a block it lacks: a
//! selfish pool then publishes its competing block at once, before it fetches the other.

use super::Node;
use super::chain_view::BlockState;
use super::ctx::NodeCtx;
use super::protocol::{Answer, Step, View};
use super::relay::announcement;
use crate::chain::{BlockId, BlockStore};
use crate::consensus::{ChainSummary, Rule};
use crate::id::{LinkId, NodeId};
use crate::network::message::{Message, MessageKind};
use crate::observe::{KeepReason, Record, TipOutcome};
use crate::scenario::Announce;
use crate::scenario::attack::PublishVia;

/// Whether a node on `tip` switches to `candidate` under a length-based consensus rule
/// ([`Rule::prefers`]: longer, first seen on ties, within the rule's rollback limit).
/// `finalized` is the height the node never reverts (DPoS's LIB; 0 for other rules).
fn prefers_by_rule(
    rule: &Rule,
    store: &BlockStore,
    tip: BlockId,
    candidate: BlockId,
    finalized: u64,
) -> bool {
    let (t, c) = (store.get(tip).height, store.get(candidate).height);
    if c <= t {
        return false;
    }
    let fork = store.fork_point(tip, candidate);
    let rollback = u64::from(t - store.get(fork).height);
    let current =
        ChainSummary { height: t.into(), work: 0, rollback: 0, finalized_height: finalized };
    let summary = ChainSummary { height: c.into(), work: 0, rollback, finalized_height: finalized };
    rule.prefers(&current, &summary)
}

impl Node {
    /// `pos-slot`: whether the node switches from `tip` to `candidate` (Praos' rollback
    /// limit, or the sync rule while the node syncs from genesis); refusals of a longer
    /// candidate and switches deeper than k are counted for the results.
    fn slot_prefers(
        &self,
        ctx: &mut NodeCtx<'_>,
        rules: &crate::consensus::seal::SlotRules,
        tip: BlockId,
        candidate: BlockId,
    ) -> bool {
        use crate::consensus::ForkChoice;
        use crate::consensus::genesis::{Choice, choose};
        let ForkChoice::LongestWithinRollback { k } = rules.rule.fork_choice else {
            return prefers_by_rule(&rules.rule, ctx.store(), tip, candidate, 0);
        };
        let shared = &mut *ctx.shared;
        let stake = shared.stake.as_deref_mut().expect("slot runs keep seals");
        let sync = self.syncing.then_some(rules.sync);
        let (choice, rollback) = choose(k, sync, &shared.store, &stake.seals, tip, candidate);
        stake.fork_choice.note(choice, rollback, k);
        choice == Choice::Switch
    }

    /// A valid block is connected: the node asks its protocol, carries out the answer, lets
    /// its miner react, records the acceptance (of a peer's block) and connects orphans that
    /// were waiting for it.
    pub(super) fn accept(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        block: BlockId,
        from: Option<LinkId>,
        mined_here: bool,
    ) {
        ctx.set_state(block, BlockState::Accepted);
        let old_tip = self.view.tip;
        let mining_before = self.mining_tip();
        let slot_wins = match ctx.settings().slots.as_deref() {
            Some(rules) if !mined_here => Some(self.slot_prefers(ctx, rules, old_tip, block)),
            Some(_) => Some(false),
            None => None,
        };
        let store = ctx.store();
        let (work, tip_work) = (store.chain_work(block), store.chain_work(old_tip));
        let wins = match (slot_wins, ctx.settings().signed.as_deref()) {
            (Some(wins), _) => wins,
            (None, Some(rules)) => {
                let stake = ctx.shared.stake.as_deref().expect("signed runs keep seals");
                match (rules.chain_trust(stake, old_tip), rules.chain_trust(stake, block)) {
                    // Most chain trust, first seen on ties (coin-age).
                    (Some(current), Some(candidate)) => {
                        let weigh = |work| ChainSummary {
                            height: 0,
                            work,
                            rollback: 0,
                            finalized_height: 0,
                        };
                        rules.rule().prefers(&weigh(current), &weigh(candidate))
                    }
                    _ => {
                        let finalized = rules.finalized_height(stake, old_tip);
                        prefers_by_rule(rules.rule(), store, old_tip, block, finalized)
                    }
                }
            }
            (None, None) => {
                work > tip_work
                    || (work == tip_work && self.protocol.prefers_on_tie(store, old_tip, block))
            }
        };
        let answer = if mined_here {
            let view = View { store, tip: old_tip, now: ctx.now() };
            self.protocol.on_mined(&view, block)
        } else {
            let tip = if wins { block } else { old_tip };
            let view = View { store, tip, now: ctx.now() };
            self.protocol.on_accepted(&view, block)
        };
        if mined_here && !answer.adopts() && !answer.publishes(block) {
            ctx.record(Record::Withheld { node: self.id, block, time: ctx.now() });
        }
        // A peer's block is recorded as accepted once the node has acted on it, or, if the
        // node publishes blocks of its own in answer, just before it does.
        let kept = if work == tip_work { KeepReason::SeenFirst } else { KeepReason::MoreWork };
        let mut acceptance =
            (!mined_here).then_some(TipOutcome::Kept { tip: old_tip, reason: kept });
        let mut fork = None;
        // Gervais et al.'s nodes announce every block they validate, winning or not.
        let every_block = !mined_here
            && ctx.settings().relay.announce == Announce::EveryBlock
            && self.protocol.relays_peer_blocks();
        for step in &answer.steps {
            if let (Step::Publish, Some(outcome)) = (step, acceptance) {
                self.record_accepted(ctx, block, from, outcome);
                acceptance = None;
            }
            match step {
                Step::Adopt => {
                    let (f, outcome) = self.adopt(ctx, block);
                    fork = Some(f);
                    if let Some(a) = acceptance.as_mut() {
                        *a = outcome;
                    }
                }
                Step::Relay if every_block => {}
                Step::Relay => self.relay(ctx, block, from, fork),
                Step::Publish => {
                    let rival = self.view.tip;
                    self.publish(ctx, &answer.publish, rival);
                }
            }
        }
        if every_block {
            self.announce_validated(ctx, block, from);
        }
        if mined_here || self.view.tip != old_tip || self.mining_tip() != mining_before {
            self.tip_changed(ctx);
        }
        if let Some(outcome) = acceptance {
            self.record_accepted(ctx, block, from, outcome);
        }
        self.record_give_up(ctx, &answer);
        let tip = self.view.tip;
        self.protocol.after_block(ctx, tip);
        self.connect_orphans_of(ctx, block);
    }

    fn record_accepted(
        &self,
        ctx: &mut NodeCtx<'_>,
        block: BlockId,
        from: Option<LinkId>,
        outcome: TipOutcome,
    ) {
        let from_node = from.map(|l| ctx.network().link_target(l));
        let (node, time) = (self.id, ctx.now());
        ctx.record(Record::BlockAccepted { node, block, from: from_node, outcome, time });
    }

    /// A timer of the protocol fired.
    pub(super) fn decide_timer(&mut self, ctx: &mut NodeCtx<'_>, timer: u32) {
        let tip = self.view.tip;
        let answer = self.protocol.on_timer(ctx, tip, timer);
        if answer.steps.contains(&Step::Publish) {
            self.publish(ctx, &answer.publish, tip);
        }
        self.record_give_up(ctx, &answer);
        if answer.restart_mining {
            self.restart_mining(ctx);
        }
        if let Some(from) = answer.backfill_from {
            self.backfill_slots(ctx, from);
        }
    }

    /// A peer told the node of `block`, which it lacks: if its protocol hears
    /// announcements, it is asked before the node fetches the block, and any blocks it
    /// publishes go out at once.
    #[inline]
    pub(super) fn heard_of(&mut self, ctx: &mut NodeCtx<'_>, block: BlockId) {
        if self.hears_announcements {
            self.decide_announced(ctx, block);
        }
    }

    #[cold]
    #[inline(never)]
    fn decide_announced(&mut self, ctx: &mut NodeCtx<'_>, block: BlockId) {
        let (old_tip, mining_before) = (self.view.tip, self.mining_tip());
        let view = View { store: ctx.store(), tip: old_tip, now: ctx.now() };
        let answer = self.protocol.on_announced(&view, block);
        if answer.steps.contains(&Step::Publish) {
            self.publish(ctx, &answer.publish, block);
        }
        self.record_give_up(ctx, &answer);
        if self.view.tip != old_tip || self.mining_tip() != mining_before {
            self.tip_changed(ctx);
        }
    }

    /// Makes `block` the node's tip; returns the fork point with the old tip and what that
    /// did to the tip.
    fn adopt(&mut self, ctx: &NodeCtx<'_>, block: BlockId) -> (BlockId, TipOutcome) {
        let old_tip = self.view.tip;
        let store = ctx.store();
        let fork = store.fork_point(old_tip, block);
        let outcome = if fork == old_tip {
            TipOutcome::Extended { old_tip }
        } else {
            let depth = store.get(old_tip).height - store.get(fork).height;
            TipOutcome::Reorged { old_tip, depth }
        };
        self.view.tip = block;
        (fork, outcome)
    }

    /// The honest relay: announces `block`, and the blocks that joined the best chain with
    /// it (above `fork`, where it was adopted), oldest first, to every peer but the sender;
    /// nothing if another branch has taken over since.
    fn relay(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        block: BlockId,
        from: Option<LinkId>,
        fork: Option<BlockId>,
    ) {
        let tip = self.view.tip;
        let store = ctx.store();
        if tip != block && !store.is_ancestor(block, tip) {
            return;
        }
        let parent = store.get(block).parent.expect("genesis is never relayed");
        let fork = fork.unwrap_or(parent);
        // Almost always the block alone joined, extending the old tip: no list needed.
        if parent == fork {
            self.announce_validated(ctx, block, from);
        } else {
            for b in store.branch(block, fork) {
                let except = if b == block { from } else { None };
                self.announce_validated(ctx, b, except);
            }
        }
    }

    fn record_give_up(&mut self, ctx: &mut NodeCtx<'_>, answer: &Answer) {
        if let Some(abandoned) = answer.gave_up {
            let tip = self.mining_tip();
            ctx.record(Record::GaveUp { node: self.id, abandoned, tip, time: ctx.now() });
        }
    }

    /// Announces private blocks over every link of the node, oldest first, with the normal
    /// relay protocol; the node's own tip moves to them where they have more work. The
    /// publication opens a tie if the node then mines on the last block and `rival` (the
    /// block it answers, or its tip) is another block of the same work.
    fn publish(&mut self, ctx: &mut NodeCtx<'_>, blocks: &[BlockId], rival: BlockId) {
        let last = *blocks.last().expect("publishing at least one block");
        let store = ctx.store();
        let tie = self.mining_tip() == last
            && rival != last
            && store.chain_work(rival) == store.chain_work(last);
        ctx.record(Record::Published {
            node: self.id,
            tip: last,
            count: blocks.len() as u32,
            tie_with: tie.then_some(rival),
            time: ctx.now(),
        });
        let via = self.protocol.publish_via();
        for &b in blocks {
            self.send_published(ctx, b, via);
            let store = ctx.store();
            if store.chain_work(b) > store.chain_work(self.view.tip) {
                self.view.tip = b;
            }
        }
    }

    /// Sends a block the node publishes to every peer, `via` the way its protocol chose.
    fn send_published(&self, ctx: &mut NodeCtx<'_>, block: BlockId, via: PublishVia) {
        if via == PublishVia::Relay {
            return Node::announce(ctx, block, None);
        }
        let (relay, peers) = (&ctx.settings().relay, ctx.peers());
        let speaks = |n: NodeId| peers.compact.get(n.index()).copied().unwrap_or(false);
        for link in ctx.network().links_of(self.id) {
            let peer = ctx.network().link_target(link);
            let kind = match via {
                PublishVia::Push => MessageKind::Block,
                _ if speaks(self.id) && speaks(peer) => MessageKind::CmpctBlock,
                _ => announcement(relay, peers, self.id, link),
            };
            ctx.send(link, Message::about(kind, block), true);
        }
    }
}
