//! Delegated proof of stake: stake holders elect a fixed number of block producers, who take
//! turns in a published schedule (BitShares, Steem, EOS).
//!
//! # Election
//!
//! Every voter approves any set of candidates; a candidate's tally is the sum of the stakes
//! of the voters approving it (stake-weighted approval voting, as BitShares and EOS count
//! it). The N candidates with the highest tallies (default 21; ties go to the lower candidate
//! id) are the round's producers; the rest, in tally order, are backups. The election is
//! rerun at the start of every round.
//!
//! # Schedule
//!
//! A round has N turns; a turn is `blocks_per_turn` consecutive slots of `slot` length:
//! EOS gives each producer 12 blocks of 0.5 s ([`ScheduleStyle::EOS`]), BitShares and Steem
//! one block of 3 s ([`ScheduleStyle::STEEM`]). The order of the turns is the producers' ids
//! in ascending order, shuffled per round (as Steem does) by a stream keyed by
//! (seed, round), so every node computes the same schedule. Slot `s` belongs to round
//! ⌊s / (N · blocks_per_turn)⌋.
//!
//! # Missed slots and voting out
//!
//! A producer that is offline or late when its slot comes misses it: the slot stays empty.
//! A producer that misses every slot of `vote_out_after_missed_turns` consecutive turns is
//! voted out (its voters withdraw their approval) from the next round on, and the best
//! backup steps in.
//!
//! # Irreversibility
//!
//! The rule implemented is the **one-stage** rule: a block is irreversible once more than
//! 2/3 of the N producers (c = ⌊2N/3⌋ + 1 of them) have produced it or a block on top of
//! it. The last irreversible block (LIB) is the newest such block ([`last_irreversible`]).
//! With every producer online and turns in a fixed order, a block at position j (0-based)
//! of a turn of K blocks becomes irreversible when the (c − 1)-th next producer makes its
//! first block: a lag of (c − 1) · K − j blocks ([`one_stage_lag_blocks`]); for N = 21,
//! K = 12 that is 168 − j blocks, 162.5 on average, 81.25 s, about 13.5 turns. EOS's
//! two-stage rule (a block is first pre-committed, then committed, each by 2/3 of the
//! producers) roughly doubles that; it is not implemented here.

use std::collections::BTreeSet;

use rand::SeedableRng;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::rng::{SimRng, below};
use crate::time::SimDuration;

/// A candidate (and, once elected, producer), by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Candidate(pub u32);

/// A stake holder's vote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Voter {
    /// The voter's stake.
    pub stake: u64,
    /// The candidates it approves.
    pub approves: Vec<Candidate>,
}

/// A bad DPoS configuration.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DposError {
    /// A round needs at least one producer.
    #[error("producers = 0: a round needs at least one producer")]
    NoProducers,
    /// A turn needs at least one block.
    #[error("blocks_per_turn = 0: a turn needs at least one block")]
    NoBlocksPerTurn,
    /// Not enough candidates that are not voted out to fill the producer set.
    #[error("only {available} candidates remain for {producers} producer places")]
    TooFewCandidates {
        /// Candidates still eligible.
        available: usize,
        /// Producer places.
        producers: u32,
    },
    /// A vote for a candidate that does not exist.
    #[error("a vote approves candidate {candidate}, but there are only {candidates}")]
    UnknownCandidate {
        /// The candidate voted for.
        candidate: u32,
        /// The number of candidates.
        candidates: u32,
    },
}

/// Each candidate's tally: the total stake of the voters approving it.
///
/// # Errors
///
/// [`DposError::UnknownCandidate`] if a vote names a candidate ≥ `candidates`.
pub fn tally(candidates: u32, voters: &[Voter]) -> Result<Vec<u128>, DposError> {
    let mut tallies = vec![0u128; candidates as usize];
    for voter in voters {
        // A voter approving a candidate twice counts once.
        let approved: BTreeSet<Candidate> = voter.approves.iter().copied().collect();
        for c in approved {
            let slot = tallies
                .get_mut(c.0 as usize)
                .ok_or(DposError::UnknownCandidate { candidate: c.0, candidates })?;
            *slot += u128::from(voter.stake);
        }
    }
    Ok(tallies)
}

/// The result of an election: producers (ascending id) and backups (best first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Election {
    /// The N producers, in ascending id order.
    pub producers: Vec<Candidate>,
    /// The other eligible candidates, highest tally first (ties: lower id first).
    pub backups: Vec<Candidate>,
}

/// Elects the `producers` highest-tallied candidates not in `excluded`.
///
/// # Errors
///
/// [`DposError::NoProducers`] if `producers` is 0, [`DposError::TooFewCandidates`] if fewer
/// eligible candidates remain.
pub fn elect(
    tallies: &[u128],
    producers: u32,
    excluded: &BTreeSet<Candidate>,
) -> Result<Election, DposError> {
    if producers == 0 {
        return Err(DposError::NoProducers);
    }
    let mut ranked: Vec<Candidate> =
        (0..tallies.len() as u32).map(Candidate).filter(|c| !excluded.contains(c)).collect();
    if ranked.len() < producers as usize {
        return Err(DposError::TooFewCandidates { available: ranked.len(), producers });
    }
    ranked.sort_by(|a, b| tallies[b.0 as usize].cmp(&tallies[a.0 as usize]).then(a.cmp(b)));
    let backups = ranked.split_off(producers as usize);
    ranked.sort();
    Ok(Election { producers: ranked, backups })
}

/// How turns are cut into slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduleStyle {
    /// Consecutive blocks of one producer's turn.
    pub blocks_per_turn: u32,
    /// Length of a slot.
    pub slot: SimDuration,
}

impl ScheduleStyle {
    /// EOS: 12 consecutive blocks of 0.5 s per turn.
    pub const EOS: ScheduleStyle =
        ScheduleStyle { blocks_per_turn: 12, slot: SimDuration::from_millis(500) };
    /// BitShares and Steem: one block of 3 s per turn.
    pub const STEEM: ScheduleStyle =
        ScheduleStyle { blocks_per_turn: 1, slot: SimDuration::from_secs(3) };
}

/// One round's schedule: who produces which slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The round number.
    pub round: u64,
    /// Producers in turn order.
    pub order: Vec<Candidate>,
    /// Blocks per turn.
    pub blocks_per_turn: u32,
}

impl Schedule {
    /// The schedule of `round` for `producers` (ascending ids): shuffled by the stream of
    /// (seed, round) if `shuffle`, in id order otherwise.
    pub fn new(
        round: u64,
        producers: &[Candidate],
        blocks_per_turn: u32,
        shuffle: bool,
        seed: u64,
    ) -> Schedule {
        let mut order = producers.to_vec();
        order.sort();
        if shuffle {
            let mut rng = round_stream(seed, round);
            // Fisher–Yates.
            for i in (1..order.len()).rev() {
                let j = below(&mut rng, i as u64 + 1) as usize;
                order.swap(i, j);
            }
        }
        Schedule { round, order, blocks_per_turn }
    }

    /// Slots in the round.
    pub fn slots(&self) -> u64 {
        self.order.len() as u64 * u64::from(self.blocks_per_turn)
    }

    /// The producer of absolute `slot`, if the slot is in this round.
    pub fn producer_of(&self, slot: u64) -> Option<Candidate> {
        let first = self.round * self.slots();
        if slot < first || slot >= first + self.slots() {
            return None;
        }
        Some(self.order[((slot - first) / u64::from(self.blocks_per_turn)) as usize])
    }
}

fn round_stream(seed: u64, round: u64) -> SimRng {
    let mut h = Sha256::new();
    h.update(b"forksim-dpos-shuffle-v1");
    h.update(seed.to_le_bytes());
    h.update(round.to_le_bytes());
    SimRng::from_seed(h.finalize().into())
}

/// The settings of a DPoS network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DposConfig {
    /// N, producers per round (21 in EOS and Steem).
    pub producers: u32,
    /// Turn and slot lengths.
    pub style: ScheduleStyle,
    /// Shuffle each round's turn order.
    pub shuffle: bool,
    /// Seed of the shuffle.
    pub seed: u64,
    /// Missed whole turns in a row after which a producer is voted out; `None` never.
    pub vote_out_after_missed_turns: Option<u32>,
}

impl DposConfig {
    /// Steem-like defaults: 21 producers, 3 s slots of one block, shuffled, voted out after
    /// missing 2 turns in a row.
    pub fn default_with_seed(seed: u64) -> DposConfig {
        DposConfig {
            producers: 21,
            style: ScheduleStyle::STEEM,
            shuffle: true,
            seed,
            vote_out_after_missed_turns: Some(2),
        }
    }
}

/// The schedule as it unfolds: elections per round, missed slots and voting out.
#[derive(Clone, Debug)]
pub struct Dpos {
    config: DposConfig,
    tallies: Vec<u128>,
    voted_out: BTreeSet<Candidate>,
    schedule: Schedule,
    /// Per candidate: missed slots in the current turn, and whole turns missed in a row.
    missed_in_turn: u32,
    missed_turns_in_row: Vec<u32>,
    to_vote_out: BTreeSet<Candidate>,
    missed_slots: u64,
    produced_slots: u64,
    next_slot: u64,
}

/// What happened in one slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotOutcome {
    /// The slot.
    pub slot: u64,
    /// Its scheduled producer.
    pub producer: Candidate,
    /// Whether it produced.
    pub produced: bool,
}

impl Dpos {
    /// Elects round 0's producers from `voters` over `candidates` candidates.
    ///
    /// # Errors
    ///
    /// [`DposError`] for a bad vote or configuration.
    pub fn new(config: DposConfig, candidates: u32, voters: &[Voter]) -> Result<Dpos, DposError> {
        if config.style.blocks_per_turn == 0 {
            return Err(DposError::NoBlocksPerTurn);
        }
        let tallies = tally(candidates, voters)?;
        let election = elect(&tallies, config.producers, &BTreeSet::new())?;
        let schedule = Schedule::new(
            0,
            &election.producers,
            config.style.blocks_per_turn,
            config.shuffle,
            config.seed,
        );
        Ok(Dpos {
            config,
            tallies,
            voted_out: BTreeSet::new(),
            schedule,
            missed_in_turn: 0,
            missed_turns_in_row: vec![0; candidates as usize],
            to_vote_out: BTreeSet::new(),
            missed_slots: 0,
            produced_slots: 0,
            next_slot: 0,
        })
    }

    /// The current round's schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Candidates voted out so far.
    pub fn voted_out(&self) -> &BTreeSet<Candidate> {
        &self.voted_out
    }

    /// Slots missed so far.
    pub fn missed_slots(&self) -> u64 {
        self.missed_slots
    }

    /// Slots with a block so far.
    pub fn produced_slots(&self) -> u64 {
        self.produced_slots
    }

    /// The next slot [`Dpos::step`] plays (every earlier slot has been played).
    pub fn next_slot(&self) -> u64 {
        self.next_slot
    }

    /// Plays the next slot: its scheduled producer produces if `online(producer)` says so.
    /// Starts the next round (with its election) when the round is over.
    ///
    /// # Errors
    ///
    /// None in practice: voting out that would leave too few candidates is not applied to
    /// the round's election (the error type is kept for the election's own checks).
    pub fn step(
        &mut self,
        online: impl FnOnce(Candidate) -> bool,
    ) -> Result<SlotOutcome, DposError> {
        let slot = self.next_slot;
        let producer = self.schedule.producer_of(slot).expect("next slot is in the round");
        let produced = online(producer);
        if produced {
            self.produced_slots += 1;
        } else {
            self.missed_slots += 1;
            self.missed_in_turn += 1;
        }
        let per_turn = u64::from(self.config.style.blocks_per_turn);
        let in_round = slot - self.schedule.round * self.schedule.slots();
        if (in_round + 1).is_multiple_of(per_turn) {
            // End of the producer's turn.
            let row = &mut self.missed_turns_in_row[producer.0 as usize];
            *row =
                if self.missed_in_turn == self.config.style.blocks_per_turn { *row + 1 } else { 0 };
            if self.config.vote_out_after_missed_turns.is_some_and(|limit| *row >= limit) {
                self.to_vote_out.insert(producer);
            }
            self.missed_in_turn = 0;
        }
        self.next_slot += 1;
        if in_round + 1 == self.schedule.slots() {
            self.voted_out.append(&mut self.to_vote_out);
            // Voting out never empties a producer place: if too few candidates remain, the
            // round is elected from every candidate.
            let election = elect(&self.tallies, self.config.producers, &self.voted_out)
                .or_else(|_| elect(&self.tallies, self.config.producers, &BTreeSet::new()))?;
            self.schedule = Schedule::new(
                self.schedule.round + 1,
                &election.producers,
                self.config.style.blocks_per_turn,
                self.config.shuffle,
                self.config.seed,
            );
        }
        Ok(SlotOutcome { slot, producer, produced })
    }
}

/// c = ⌊2N/3⌋ + 1: the number of producers that is more than 2/3 of N.
pub fn two_thirds_plus(producers: u32) -> u32 {
    2 * producers / 3 + 1
}

/// The index of the last irreversible block of a chain given its blocks' producers (oldest
/// first): the newest block that, with the blocks on top of it, was produced by at least
/// [`two_thirds_plus`]`(n)` distinct producers. `None` if no block is irreversible yet.
pub fn last_irreversible(chain_producers: &[Candidate], producers: u32) -> Option<usize> {
    let needed = two_thirds_plus(producers) as usize;
    let mut seen = BTreeSet::new();
    for (i, p) in chain_producers.iter().enumerate().rev() {
        seen.insert(*p);
        if seen.len() >= needed {
            return Some(i);
        }
    }
    None
}

/// The one-stage rule's lag, in blocks, of a block at position `j` of its turn, with every
/// producer online and a fixed turn order: (c − 1) · K − j (see the module docs).
pub fn one_stage_lag_blocks(producers: u32, blocks_per_turn: u32, j: u32) -> u64 {
    u64::from(two_thirds_plus(producers) - 1) * u64::from(blocks_per_turn) - u64::from(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 30 candidates; voter v (stake v + 1) approves candidates v, v + 1 and v + 2 (mod 30).
    fn voters() -> Vec<Voter> {
        (0..30u32)
            .map(|v| Voter {
                stake: u64::from(v) + 1,
                approves: (0..3).map(|k| Candidate((v + k) % 30)).collect(),
            })
            .collect()
    }

    #[test]
    fn stake_weighted_approval_elects_the_top_n() {
        let t = tally(30, &voters()).unwrap();
        // Candidate c is approved by voters c, c − 1, c − 2 (mod 30).
        assert_eq!(t[5], 6 + 5 + 4);
        assert_eq!(t[0], 1 + 30 + 29);
        assert_eq!(t[1], 2 + 1 + 30);
        let e = elect(&t, 21, &BTreeSet::new()).unwrap();
        assert_eq!(e.producers.len(), 21);
        assert_eq!(e.backups.len(), 9);
        // Every producer has at least the tally of every backup.
        let min_producer = e.producers.iter().map(|c| t[c.0 as usize]).min().unwrap();
        let max_backup = e.backups.iter().map(|c| t[c.0 as usize]).max().unwrap();
        assert!(min_producer >= max_backup);
        // The lowest tallies are candidates 2, 3, 4 (6+... small stakes): backups.
        assert!(e.backups.contains(&Candidate(2)) && e.backups.contains(&Candidate(3)));
        // Duplicated approvals count once; unknown candidates are errors.
        let dup = [Voter { stake: 5, approves: vec![Candidate(1), Candidate(1)] }];
        assert_eq!(tally(2, &dup).unwrap(), vec![0, 5]);
        let bad = [Voter { stake: 5, approves: vec![Candidate(7)] }];
        assert_eq!(
            tally(2, &bad),
            Err(DposError::UnknownCandidate { candidate: 7, candidates: 2 })
        );
        assert!(elect(&t, 31, &BTreeSet::new()).is_err());
        assert_eq!(elect(&t, 0, &BTreeSet::new()), Err(DposError::NoProducers));
    }

    #[test]
    fn schedule_says_who_produces_which_slot() {
        let producers: Vec<Candidate> = (0..21).map(Candidate).collect();
        let fixed = Schedule::new(2, &producers, 12, false, 1);
        let first = 2 * 21 * 12;
        assert_eq!(fixed.producer_of(first), Some(Candidate(0)));
        assert_eq!(fixed.producer_of(first + 11), Some(Candidate(0)));
        assert_eq!(fixed.producer_of(first + 12), Some(Candidate(1)));
        assert_eq!(fixed.producer_of(first + 251), Some(Candidate(20)));
        assert_eq!(fixed.producer_of(first + 252), None);
        assert_eq!(fixed.producer_of(first - 1), None);
        // Shuffled: a permutation, the same for the same (seed, round), different otherwise.
        let a = Schedule::new(3, &producers, 1, true, 9);
        let mut sorted = a.order.clone();
        sorted.sort();
        assert_eq!(sorted, producers);
        assert_eq!(a, Schedule::new(3, &producers, 1, true, 9));
        assert_ne!(a.order, Schedule::new(4, &producers, 1, true, 9).order);
        assert_ne!(a.order, Schedule::new(3, &producers, 1, true, 10).order);
        assert_eq!(a.producer_of(3 * 21 + 4), Some(a.order[4]));
    }

    /// Plays `rounds` rounds with every producer online and returns, per block, the lag in
    /// blocks until it became irreversible (`None` if it was not yet at the end).
    fn irreversibility_lags(config: DposConfig, rounds: u64) -> Vec<Option<u64>> {
        let mut dpos = Dpos::new(config, 30, &voters()).unwrap();
        let mut chain = Vec::new();
        let mut lags: Vec<Option<u64>> = Vec::new();
        let mut lib: Option<usize> = None;
        for _ in 0..(rounds * 21 * u64::from(config.style.blocks_per_turn)) {
            chain.push(dpos.step(|_| true).unwrap().producer);
            lags.push(None);
            let new_lib = last_irreversible(&chain, 21);
            assert!(new_lib >= lib, "the LIB never moves back");
            if let Some(l) = new_lib {
                let tip = chain.len() - 1;
                for (i, lag) in
                    lags.iter_mut().enumerate().take(l + 1).skip(lib.map_or(0, |o| o + 1))
                {
                    *lag = Some((tip - i) as u64);
                }
            }
            lib = new_lib;
        }
        assert_eq!(dpos.missed_slots(), 0);
        lags
    }

    /// Every producer online, fixed order, EOS turns: the LIB lag of every block equals
    /// (c − 1) K − j exactly (c = 15 of N = 21, K = 12): 162.5 blocks = 81.25 s on average.
    /// Steem turns: 14 blocks = 42 s.
    #[test]
    fn one_stage_irreversibility_lag_matches_its_derivation() {
        for style in [ScheduleStyle::EOS, ScheduleStyle::STEEM] {
            let config = DposConfig {
                producers: 21,
                style,
                shuffle: false,
                seed: 1,
                vote_out_after_missed_turns: Some(2),
            };
            let k = style.blocks_per_turn;
            let lags = irreversibility_lags(config, 6);
            let mut total = 0u64;
            let mut counted = 0u64;
            for (i, lag) in lags.iter().enumerate() {
                let Some(lag) = *lag else { continue };
                let j = (i as u32) % k;
                assert_eq!(lag, one_stage_lag_blocks(21, k, j), "block {i}");
                total += lag;
                counted += 1;
            }
            assert!(counted > 3 * 21 * u64::from(k));
            let mean_blocks = total as f64 / counted as f64;
            let expected = 14.0 * f64::from(k) - f64::from(k - 1) / 2.0;
            assert!((mean_blocks - expected).abs() < 1e-9, "{mean_blocks}");
            let mean_s = mean_blocks * style.slot.as_secs_f64();
            let expected_s = if k == 12 { 81.25 } else { 42.0 };
            assert!((mean_s - expected_s).abs() < 1e-9, "{mean_s}");
        }
    }

    /// Shuffled rounds: a turn adds at most one new producer, so no block is irreversible
    /// sooner than (c − 1) K − j blocks. A block at turn p of its round with N − p ≥ c turns
    /// left in the round (its own included) sees c distinct producers within the round and
    /// has exactly that lag. A later block waits at most until the c-th turn of the next round
    /// (whose first c turns are distinct), a lag of at most (K − j) + (N − 1 − p) K + (c − 1) K.
    #[test]
    fn shuffled_rounds_keep_the_lag_within_its_bounds() {
        for style in [ScheduleStyle::EOS, ScheduleStyle::STEEM] {
            let config = DposConfig {
                producers: 21,
                style,
                shuffle: true,
                seed: 5,
                vote_out_after_missed_turns: Some(2),
            };
            let k = u64::from(style.blocks_per_turn);
            let c = u64::from(two_thirds_plus(21));
            let lags = irreversibility_lags(config, 12);
            let (mut total, mut counted, mut longer) = (0u64, 0u64, 0u64);
            for (i, lag) in lags.iter().enumerate() {
                let Some(lag) = *lag else { continue };
                let (i, n) = (i as u64, 21u64);
                let (p, j) = ((i % (n * k)) / k, i % k);
                let least = (c - 1) * k - j;
                assert!(lag >= least, "block {i}: {lag} < {least}");
                if n - p >= c {
                    assert_eq!(lag, least, "block {i}");
                } else {
                    assert!(lag <= (k - j) + (n - 1 - p) * k + (c - 1) * k, "block {i}: {lag}");
                }
                longer += u64::from(lag > least);
                total += lag;
                counted += 1;
            }
            assert!(longer > 0, "some round boundary repeats a producer within the window");
            let mean_s = total as f64 / counted as f64 * style.slot.as_secs_f64();
            println!("shuffled {k} block(s) per turn: mean irreversibility lag {mean_s:.2} s");
        }
    }

    /// A producer that is offline misses its slots; after two missed turns in a row it is
    /// voted out and the best backup takes its place from the next round.
    #[test]
    fn offline_producer_misses_slots_and_is_voted_out() {
        let config = DposConfig::default_with_seed(4);
        let mut dpos = Dpos::new(config, 30, &voters()).unwrap();
        let tallies = tally(30, &voters()).unwrap();
        let first = elect(&tallies, 21, &BTreeSet::new()).unwrap();
        let offline = first.producers[3];
        let backup = first.backups[0];
        assert!(!dpos.schedule().order.contains(&backup));
        let mut produced_by_offline = 0;
        for _ in 0..(5 * 21) {
            let out = dpos.step(|p| p != offline).unwrap();
            produced_by_offline += u32::from(out.producer == offline && out.produced);
        }
        assert_eq!(produced_by_offline, 0);
        // Rounds 0 and 1 each hold one turn (one slot) of the offline producer.
        assert_eq!(dpos.missed_slots(), 2);
        assert_eq!(dpos.produced_slots(), 5 * 21 - 2);
        assert!(dpos.voted_out().contains(&offline));
        assert!(dpos.schedule().order.contains(&backup));
        assert!(!dpos.schedule().order.contains(&offline));
    }

    /// A late producer that makes some of its turn's blocks is not voted out.
    #[test]
    fn partly_missed_turns_do_not_vote_a_producer_out() {
        let mut config = DposConfig::default_with_seed(4);
        config.style = ScheduleStyle::EOS;
        let mut dpos = Dpos::new(config, 30, &voters()).unwrap();
        let late = dpos.schedule().order[0];
        let mut k = 0u32;
        for _ in 0..(4 * 21 * 12) {
            dpos.step(|p| {
                if p == late {
                    k += 1;
                    k % 12 != 1 // misses the first block of each turn
                } else {
                    true
                }
            })
            .unwrap();
        }
        assert_eq!(dpos.missed_slots(), 4);
        assert!(dpos.voted_out().is_empty());
    }

    /// A partition splits the 21 producers into m and 21 − m: each side's chain grows in
    /// exactly its own producers' slots, m/N of them per round, and only a side with more
    /// than 2/3 of the producers moves its last irreversible block past the split.
    #[test]
    fn partition_side_grows_at_m_over_n_of_slots() {
        for m in [7u32, 10, 15, 16] {
            let mut config = DposConfig::default_with_seed(11);
            config.vote_out_after_missed_turns = None;
            let mut dpos = Dpos::new(config, 30, &voters()).unwrap();
            // Before the split: two full rounds with everyone online.
            let mut common = Vec::new();
            for _ in 0..(2 * 21) {
                common.push(dpos.step(|_| true).unwrap().producer);
            }
            let lib_at_split = last_irreversible(&common, 21).unwrap();
            let side_a: BTreeSet<Candidate> =
                dpos.schedule().order.iter().copied().take(m as usize).collect();
            let (mut a, mut b) = (common.clone(), common.clone());
            let rounds = 20u64;
            for _ in 0..(rounds * 21) {
                let out = dpos.step(|_| true).unwrap();
                if side_a.contains(&out.producer) {
                    a.push(out.producer)
                } else {
                    b.push(out.producer)
                }
            }
            let slots = rounds * 21;
            let grown_a = (a.len() - common.len()) as u64;
            let grown_b = (b.len() - common.len()) as u64;
            assert_eq!(grown_a * 21, u64::from(m) * slots, "side a grows at m/N");
            assert_eq!(grown_b * 21, u64::from(21 - m) * slots);
            let lib_a = last_irreversible(&a, 21).unwrap();
            let lib_b = last_irreversible(&b, 21).unwrap();
            let past = |lib: usize| lib >= common.len();
            assert_eq!(past(lib_a), m >= two_thirds_plus(21), "m = {m}");
            assert_eq!(past(lib_b), 21 - m >= two_thirds_plus(21), "m = {m}");
            assert!(lib_a >= lib_at_split && lib_b >= lib_at_split);
        }
    }

    #[test]
    fn last_irreversible_counts_distinct_producers() {
        let c = |ids: &[u32]| ids.iter().map(|&i| Candidate(i)).collect::<Vec<_>>();
        assert_eq!(two_thirds_plus(21), 15);
        assert_eq!(two_thirds_plus(3), 3);
        assert_eq!(two_thirds_plus(4), 3);
        // N = 4 needs 3 distinct producers.
        assert_eq!(last_irreversible(&c(&[0, 1, 1, 2, 2]), 4), Some(0));
        assert_eq!(last_irreversible(&c(&[0, 1, 2, 3, 3]), 4), Some(1));
        assert_eq!(last_irreversible(&c(&[0, 0, 0]), 4), None);
        assert_eq!(last_irreversible(&[], 4), None);
    }
}
