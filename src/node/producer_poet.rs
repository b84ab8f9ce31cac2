//! A PoET participant's clock: it draws a wait from its trusted timer on its own stream at
//! start and whenever its mining tip changes, and if it wakes before anything changed it
//! builds the normal block template on its tip and seals it with its wait certificate
//! (`consensus::poet_run`).
//!
//! Redrawing at every tip change is exact: waits are exponential, so what is left of a
//! pending wait has the same law as a fresh one. Each draw bumps the producer's
//! generation, so the timer of an earlier draw is void when it fires; an offline node's
//! timer is voided and it draws again when it comes back.

use super::Node;
use super::ctx::{NodeCtx, Timer};
use crate::chain::RejectReason;
use crate::consensus::poet_run::PoetRules;

impl Node {
    /// Draws a fresh wait and sets the timer for it (the generation was bumped by the
    /// caller, [`Node::start_signed`]).
    pub(super) fn draw_wait(&mut self, ctx: &mut NodeCtx<'_>, rules: &PoetRules) {
        let Some(p) = self.signed.as_mut() else { return };
        let Some(participant) = rules.participant(self.id) else { return };
        let rng = p.waits.as_mut().expect("a poet participant has its wait stream");
        p.wait = rules.timer.draw(participant, rng);
        ctx.set_timer(ctx.now() + p.wait, Timer::Signed { generation: p.generation });
    }

    /// The wait ends: unless it was voided, the node produces on its mining tip, claiming
    /// the wait it waited. If the z-test flags the block, the node refuses it itself, as
    /// Sawtooth's publisher refuses to claim a block while its validator "is claiming
    /// blocks too frequently": the block is counted (`poet-z-test`) but never sent, and the
    /// node draws a new wait on its unchanged tip. A compromised enclave runs the same
    /// validator software; only its timer is broken.
    pub(super) fn on_poet_wake(&mut self, ctx: &mut NodeCtx<'_>, _: &PoetRules, generation: u32) {
        let Some(p) = self.signed.as_ref() else { return };
        if p.generation != generation || !self.online || !ctx.mining_open() {
            return;
        }
        let wait = p.wait;
        let id =
            self.seal_and_store(ctx, |header, node, key| PoetRules::seal(header, node, wait, key));
        let stake = ctx.shared.stake.as_deref().expect("poet runs keep seals");
        if stake.poet.as_ref().is_some_and(|run| run.flagged(id)) {
            self.reject(ctx, id, RejectReason::PoetZTest);
            self.start_signed(ctx);
        } else {
            self.accept(ctx, id, None, true);
        }
    }
}
