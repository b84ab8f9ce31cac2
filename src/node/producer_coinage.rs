//! A coin-age minter's clock: the node hashes its own stake output's kernel second by second,
//! a chunk ahead of time, and mints at the first hit (see `consensus::coinage_run` for why
//! this is exact and what it costs). Its tip moving (a new modifier and new coin-ages)
//! starts the scan again from the current second.

use super::Node;
use super::ctx::{NodeCtx, Timer};
use crate::consensus::coinage_run::{CoinageRules, SCAN_CHUNK_S, claim};
use crate::time::{SimTime, TICKS_PER_SEC};

impl Node {
    /// Starts the scan on the mining tip, from the first whole second not yet past and after
    /// the tip's own kernel second.
    pub(super) fn start_coinage_scan(&mut self, ctx: &mut NodeCtx<'_>, rules: &CoinageRules) {
        let tip = self.mining_tip();
        let Some(p) = self.signed.as_mut() else { return };
        p.generation = p.generation.wrapping_add(1);
        p.hit = None;
        let stake = ctx.shared.stake.as_deref().expect("coin-age runs keep their stake");
        let run = stake.coinage.as_ref().expect("coin-age runs keep their stake");
        let now_s = ctx.now().0.div_ceil(TICKS_PER_SEC);
        let from = now_s.max(run.time_s(&stake.seals, tip) + 1);
        self.scan_coinage_chunk(ctx, rules, from);
    }

    /// Hashes the kernel for the seconds `from..from + SCAN_CHUNK_S` on the mining tip and
    /// sets the timer at the first hit, or at the chunk's end to hash on.
    fn scan_coinage_chunk(&mut self, ctx: &mut NodeCtx<'_>, rules: &CoinageRules, from: u64) {
        let Some(output) = rules.output_of(self.id) else { return };
        let tip = self.mining_tip();
        let shared = &mut *ctx.shared;
        let run = shared.stake.as_deref_mut().and_then(|s| s.coinage.as_mut());
        let run = run.expect("coin-age runs keep their stake");
        let stake = run.stake_on(&shared.store, tip, output);
        let modifier = shared.store.get(tip).hash.0;
        let to = from + SCAN_CHUNK_S;
        let hit = rules.first_hit(&stake, &modifier, from, to);
        run.kernel_hashes += hit.map_or(to, |t| t + 1) - from;
        let Some(p) = self.signed.as_mut() else { return };
        p.hit = hit.map(|t| claim(t, output));
        p.next_slot = hit.unwrap_or(to);
        let generation = p.generation;
        ctx.set_timer(SimTime(p.next_slot * TICKS_PER_SEC), Timer::Signed { generation });
    }

    /// The minter's timer fires: mint at a hit, else hash the next chunk.
    pub(super) fn on_coinage_timer(
        &mut self,
        ctx: &mut NodeCtx<'_>,
        rules: &CoinageRules,
        generation: u32,
    ) {
        let Some(p) = self.signed.as_ref() else { return };
        if p.generation != generation || !self.online || !ctx.mining_open() {
            return;
        }
        match p.hit {
            Some(c) => {
                self.produce_signed(ctx, |header, node, key| {
                    CoinageRules::seal(header, node, c, key)
                });
            }
            None => {
                let from = p.next_slot;
                self.scan_coinage_chunk(ctx, rules, from);
            }
        }
    }
}
