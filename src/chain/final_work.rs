//! The chain work of final blocks, kept as runs of equal steps instead of once per block.
//!
//! A block's chain work is its parent's plus the work of its own bits, and bits change only
//! at a retarget. Along the final chain (one block per height, made final lowest height
//! first) the work therefore grows by the same step for a whole retarget period. So instead
//! of 16 or 32 bytes per final block, [`FinalWork`] keeps one run per stretch of equal
//! steps: its first height, the chain work there and the step. Every block is checked as it
//! is added: a run is extended only when the block's work is exactly the run's last plus its
//! step, so [`FinalWork::get`] answers exactly the work the store computed when it inserted
//! the block, whatever the bits (a run at each retarget; a run per block at worst).

use crate::chain::pow::Work;
use crate::chain::uint::U256;

/// Heights `start ..= start + len - 1` of the final chain, whose work grows by `step`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    start: u32,
    len: u32,
    /// Chain work of the block at `start`.
    base: Work,
    /// Work added by each block after `start`.
    step: Work,
}

/// Chain work of the final chain's blocks by height (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct FinalWork {
    runs: Vec<Run>,
    /// Height and chain work of the last block added (genesis's when none was).
    last: (u32, Work),
}

impl FinalWork {
    /// Starts after genesis, whose chain work is `genesis_work` (genesis itself is not kept).
    pub(crate) fn new(genesis_work: Work) -> FinalWork {
        FinalWork { runs: Vec::new(), last: (0, genesis_work) }
    }

    /// Adds the final block at `height`, which must be the height after the last one added,
    /// with chain work `work`.
    ///
    /// # Panics
    /// Panics if `height` does not follow the last height added (a caller bug).
    pub(crate) fn push(&mut self, height: u32, work: Work) {
        let (last_height, last_work) = self.last;
        assert_eq!(height, last_height + 1, "final blocks are added one height at a time");
        let extends =
            self.runs.last_mut().filter(|run| last_work.checked_add(run.step) == Some(work));
        match extends {
            Some(run) => run.len += 1,
            None => {
                // A new step: the work of this block over its parent's (zero if the parent's
                // work had saturated, as the store's addition does).
                let step = Work(work.0.checked_sub(last_work.0).unwrap_or(U256::ZERO));
                self.runs.push(Run { start: height, len: 1, base: work, step });
            }
        }
        self.last = (height, work);
    }

    /// The chain work of the final block at `height`, if one was added there.
    pub(crate) fn get(&self, height: u32) -> Option<Work> {
        let i = self.runs.partition_point(|run| run.start <= height).checked_sub(1)?;
        let run = &self.runs[i];
        let k = height - run.start;
        if k >= run.len {
            return None;
        }
        // Exact: each block of the run was checked to add `step` without overflow.
        let grown = run.step.0.mul_u64(u64::from(k)).expect("checked as the run grew");
        Some(Work(run.base.0.checked_add(grown).expect("checked as the run grew")))
    }

    /// Number of runs kept, for the tests that bound memory.
    #[cfg(test)]
    pub(crate) fn runs(&self) -> usize {
        self.runs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::pow::{CompactTarget, work_from_target};

    fn work_of(bits: u32) -> Work {
        work_from_target(CompactTarget(bits).to_target().expect("valid bits"))
    }

    #[test]
    fn answers_every_added_work_exactly_with_a_run_per_step() {
        let genesis = work_of(0x207f_ffff);
        let mut kept = FinalWork::new(genesis);
        let mut expected = vec![genesis];
        // Three retarget periods of 50 blocks, then a saturating stretch.
        for (period, bits) in [0x207f_ffffu32, 0x1f00_ffff, 0x1d00_ffff].into_iter().enumerate() {
            for _ in 0..50 {
                let work = expected.last().expect("genesis").saturating_add(work_of(bits));
                expected.push(work);
                kept.push(expected.len() as u32 - 1, work);
            }
            assert_eq!(kept.runs(), period + 1);
        }
        let huge = Work(U256::MAX.shr(1));
        for _ in 0..4 {
            let work = expected.last().expect("genesis").saturating_add(huge);
            expected.push(work);
            kept.push(expected.len() as u32 - 1, work);
        }
        assert_eq!(expected.last(), Some(&Work(U256::MAX)), "the chain work saturated");
        for (height, &work) in expected.iter().enumerate().skip(1) {
            assert_eq!(kept.get(height as u32), Some(work), "height {height}");
        }
        assert_eq!(kept.get(0), None, "genesis is not kept");
        assert_eq!(kept.get(expected.len() as u32), None, "nothing above the last");
        assert!(kept.runs() <= 6, "{} runs", kept.runs());
    }

    #[test]
    #[should_panic(expected = "one height at a time")]
    fn a_gap_in_heights_is_a_caller_bug() {
        let mut kept = FinalWork::new(Work::ZERO);
        kept.push(2, Work::ZERO);
    }
}
