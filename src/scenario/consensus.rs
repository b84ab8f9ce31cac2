//! `[consensus]` and `[stake]`: which consensus family a run uses, its parameters and who
//! holds stake.
//!
//! An absent `[consensus]` is proof of work, and nothing is written into the resolved
//! scenario, so the manifests of PoW runs stay as they were. A present section has every
//! default of its kind filled in. A field of another kind is an error naming the kind.
//!
//! Defaults (the reference system of each family):
//!
//! | kind | field | default | source |
//! |---|---|---|---|
//! | `pos-slot` | `slot_s` | 1 s | Cardano Shelley |
//! | `pos-slot` | `active_slot_coeff` | 0.05 | Cardano Shelley |
//! | `pos-slot` | `k` | 2160 blocks | Cardano Shelley |
//! | `pos-slot` | `epoch_slots` | 10k/f (432,000 at the defaults) | Ouroboros Praos, Cardano |
//! | `pos-slot` | `block_reward` | 0 (no rewards; written only when given) | |
//! | `pos-slot` | `fork_choice` | `"longest"` (written only when given) | Praos |
//! | `pos-slot` | `genesis_window_slots` | k / (4f) (with `"genesis"` only) | Ouroboros Genesis |
//! | `pos-slot` | `leader_input` | `"epoch-nonce"` (written only when given; or `"parent-block"`) | Praos |
//! | `dpos` | `producers` | 21 | EOS, Steem |
//! | `dpos` | `blocks_per_turn` | 12 | EOS |
//! | `dpos` | `block_interval_s` | 0.5 s | EOS |
//! | `poet` | `mean_wait_s` | `chain.block_interval_s` | |
//! | `poet` | `z_max` | 3.075 (`inf`: no z-test) | Sawtooth |
//! | `poet` | `z_min_wins` | 3 | Sawtooth |
//! | `poet` | `compromised` | none: `[{ node = 3, timer_factor = 0.2 }]` | |
//! | `pos-coinage` | `interest` | 0.05 a year | textbook example |
//! | `pos-coinage` | `consumption` | `"reset"` | Peercoin |
//!
//! Stake: `[stake] shares` gives node `i` the share `shares[i]` (normalised); without it the
//! stake of every node is its hash-power share, drawn by `[mining]` exactly as for PoW (same
//! stream, same nodes), so switching the kind of a scenario keeps who holds what.

use super::raw::{RawConsensus, RawStake};
use super::validate::{Origin, quoted};
use super::{MiningMode, ScenarioError};
use crate::consensus::ConsensusKind;
use crate::consensus::epochs::{EpochClock, MIN_EPOCH_SLOTS};
pub use crate::consensus::genesis::SyncRule;
use crate::consensus::genesis::default_window_slots;
pub use crate::consensus::leader_input::LeaderInput;
use crate::time::SimDuration;

/// `pos-coinage`: `consumption`.
const CONSUMPTIONS: [&str; 2] = ["reset", "365-days"];

/// `pos-slot`: `fork_choice`.
const FORK_CHOICES: [&str; 2] = ["longest", "genesis"];

/// Kinds whose world wiring is not finished: a scenario naming one is refused rather than
/// run as something else.
const NOT_WIRED: [ConsensusKind; 0] = [];

/// A validated `[consensus]` section.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsensusSpec {
    /// The family.
    pub kind: ConsensusKind,
    /// Its parameters.
    pub params: KindParams,
    /// Who holds stake (ignored by `pow`).
    pub stake: StakeSource,
    /// `pos-slot`: how a node syncing from genesis chooses between chains forking deeper
    /// than k (`consensus.fork_choice`; [`crate::consensus::genesis`]).
    pub sync: SyncRule,
    /// `pos-slot`: what the leader lottery runs on (`consensus.leader_input`;
    /// [`crate::consensus::leader_input`]).
    pub leader_input: LeaderInput,
}

impl ConsensusSpec {
    /// Proof of work: what an absent section means.
    pub fn pow() -> ConsensusSpec {
        ConsensusSpec {
            kind: ConsensusKind::Pow,
            params: KindParams::Pow,
            stake: StakeSource::HashPower,
            sync: SyncRule::Longest,
            leader_input: LeaderInput::EpochNonce,
        }
    }
}

/// A kind's parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum KindParams {
    /// Proof of work: `[mining]` and `[chain]` say everything.
    Pow,
    /// Ouroboros Praos-like slots.
    PosSlot {
        /// Slot length.
        slot: SimDuration,
        /// Active-slot coefficient f.
        f: f64,
        /// Rollback limit in blocks.
        k: u64,
        /// Slots per epoch.
        epoch_slots: u64,
        /// Stake each block pays its producer, as a fraction of the initial total stake
        /// (0: none; see `consensus::rewards`).
        block_reward: f64,
    },
    /// Delegated proof of stake.
    Dpos {
        /// Producers per round.
        producers: u32,
        /// Blocks per turn.
        blocks_per_turn: u32,
        /// Slot length.
        slot: SimDuration,
    },
    /// Proof of elapsed time.
    Poet {
        /// The network's mean block interval.
        mean_wait: SimDuration,
        /// The z-test every node runs.
        ztest: crate::consensus::poet::ZTest,
        /// Compromised enclaves: (node, timer factor), in node order.
        compromised: Vec<(u32, f64)>,
    },
    /// Peercoin-like coin-age.
    Coinage {
        /// Yearly interest on consumed coin-age.
        interest: f64,
        /// What minting does to coin-age.
        consumption: crate::consensus::coinage::Consumption,
    },
}

/// Where stake comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum StakeSource {
    /// Each node's hash-power share, drawn by `[mining]`.
    HashPower,
    /// `[stake] shares`, normalised to sum to 1 (node `i` holds `shares[i]`).
    Shares(Vec<f64>),
}

/// Validates `[consensus]` and `[stake]`, filling the kind's defaults into `raw`.
///
/// # Errors
///
/// A [`ScenarioError`] naming the field and value: an unknown kind (with the choices), a
/// field of another kind, a value out of range, a kind that is not wired yet, or a setting
/// the kind cannot run with.
pub(super) fn validate_consensus(
    raw: &mut Option<RawConsensus>,
    stake: &Option<RawStake>,
    nodes: u32,
    block_interval_s: f64,
    mode: MiningMode,
    origin: &Origin<'_>,
) -> Result<ConsensusSpec, ScenarioError> {
    let Some(c) = raw.as_mut() else {
        return match stake {
            None => Ok(ConsensusSpec::pow()),
            Some(_) => Err(origin.error(
                "stake",
                "{ ... }",
                "does not apply to proof of work (no [consensus] section); hash power comes from [mining]",
            )),
        };
    };
    let name = c.kind.get_or_insert_with(|| "pow".to_string()).clone();
    let names: Vec<&str> = ConsensusKind::ALL.iter().map(|k| k.name()).collect();
    let kind = ConsensusKind::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .ok_or_else(|| origin.unknown("consensus.kind", &name, &names))?;
    let f = "consensus.kind";
    let not_slot = kind != ConsensusKind::PosSlot;
    if not_slot {
        origin.absent("consensus.slot_s", &c.slot_s, f, &name)?;
        origin.absent("consensus.active_slot_coeff", &c.active_slot_coeff, f, &name)?;
        origin.absent("consensus.k", &c.k, f, &name)?;
        origin.absent("consensus.epoch_slots", &c.epoch_slots, f, &name)?;
        origin.absent("consensus.block_reward", &c.block_reward, f, &name)?;
        origin.absent("consensus.fork_choice", &c.fork_choice, f, &name)?;
        origin.absent("consensus.genesis_window_slots", &c.genesis_window_slots, f, &name)?;
        origin.absent("consensus.leader_input", &c.leader_input, f, &name)?;
    }
    if kind != ConsensusKind::Dpos {
        origin.absent("consensus.producers", &c.producers, f, &name)?;
        origin.absent("consensus.blocks_per_turn", &c.blocks_per_turn, f, &name)?;
        origin.absent("consensus.block_interval_s", &c.block_interval_s, f, &name)?;
    }
    if kind != ConsensusKind::Poet {
        origin.absent("consensus.mean_wait_s", &c.mean_wait_s, f, &name)?;
        origin.absent("consensus.z_max", &c.z_max, f, &name)?;
        origin.absent("consensus.z_min_wins", &c.z_min_wins, f, &name)?;
        origin.absent("consensus.compromised", &c.compromised, f, &name)?;
    }
    if kind != ConsensusKind::PosCoinage {
        origin.absent("consensus.interest", &c.interest, f, &name)?;
        origin.absent("consensus.consumption", &c.consumption, f, &name)?;
    }
    let params = match kind {
        ConsensusKind::Pow => KindParams::Pow,
        ConsensusKind::PosSlot => {
            let slot_s = origin.positive("consensus.slot_s", *c.slot_s.get_or_insert(1.0))?;
            let slot = SimDuration::from_secs_f64(slot_s);
            origin.check(
                slot >= SimDuration::from_millis(1),
                "consensus.slot_s",
                slot_s,
                "must be at least 0.001 s",
            )?;
            let coeff = *c.active_slot_coeff.get_or_insert(0.05);
            origin.check(
                coeff > 0.0 && coeff <= 1.0,
                "consensus.active_slot_coeff",
                coeff,
                "must be greater than 0 and at most 1",
            )?;
            let k = *c.k.get_or_insert(2160);
            origin.check(k >= 1, "consensus.k", k, "must be at least 1")?;
            let epoch_slots = *c.epoch_slots.get_or_insert(EpochClock::praos_epoch_slots(k, coeff));
            origin.check(
                epoch_slots >= MIN_EPOCH_SLOTS,
                "consensus.epoch_slots",
                epoch_slots,
                "must be at least 3 (the nonce window is its first two thirds)",
            )?;
            // Left out of the resolved scenario when absent, so runs without rewards keep
            // their manifests.
            let block_reward = c.block_reward.unwrap_or(0.0);
            origin.check(
                block_reward.is_finite() && (0.0..=1.0).contains(&block_reward),
                "consensus.block_reward",
                block_reward,
                "must be a fraction of the initial total stake between 0 and 1",
            )?;
            KindParams::PosSlot { slot, f: coeff, k, epoch_slots, block_reward }
        }
        ConsensusKind::Dpos => {
            let producers = *c.producers.get_or_insert(21);
            origin.check(producers >= 1, "consensus.producers", producers, "must be at least 1")?;
            let per_turn = *c.blocks_per_turn.get_or_insert(12);
            origin.check(
                per_turn >= 1,
                "consensus.blocks_per_turn",
                per_turn,
                "must be at least 1",
            )?;
            let slot_s = origin
                .positive("consensus.block_interval_s", *c.block_interval_s.get_or_insert(0.5))?;
            KindParams::Dpos {
                producers,
                blocks_per_turn: per_turn,
                slot: SimDuration::from_secs_f64(slot_s),
            }
        }
        ConsensusKind::Poet => {
            let wait_s = origin.positive(
                "consensus.mean_wait_s",
                *c.mean_wait_s.get_or_insert(block_interval_s),
            )?;
            let mean_wait = SimDuration::from_secs_f64(wait_s);
            origin.check(
                mean_wait >= SimDuration::from_millis(1),
                "consensus.mean_wait_s",
                wait_s,
                "must be at least 0.001 s",
            )?;
            let (ztest, compromised) = validate_poet(c, nodes, origin)?;
            KindParams::Poet { mean_wait, ztest, compromised }
        }
        ConsensusKind::PosCoinage => {
            let interest = *c.interest.get_or_insert(0.05);
            origin.check(
                (0.0..=1.0).contains(&interest),
                "consensus.interest",
                interest,
                "must be a yearly rate between 0 and 1",
            )?;
            let rule = c.consumption.get_or_insert_with(|| "reset".to_string()).clone();
            origin.known("consensus.consumption", &rule, &CONSUMPTIONS)?;
            let consumption = if rule == "reset" {
                crate::consensus::coinage::Consumption::Reset
            } else {
                crate::consensus::coinage::Consumption::Reduce365
            };
            KindParams::Coinage { interest, consumption }
        }
    };
    origin.check(
        !NOT_WIRED.contains(&kind),
        "consensus.kind",
        quoted(&name),
        "not wired yet: this kind's election and proof exist in src/consensus but the \
         simulated network cannot run it; choose \"pow\", \"pos-slot\", \"pos-coinage\", \"dpos\" or \"poet\"",
    )?;
    if kind != ConsensusKind::Pow {
        origin.check(
            mode == MiningMode::Sampled,
            "mining.mode",
            "\"ground\"",
            format!(
                "does not apply when consensus.kind = \"{name}\": there are no nonces to grind"
            ),
        )?;
    }
    let stake = match stake.as_ref().and_then(|s| s.shares.as_ref()) {
        None => StakeSource::HashPower,
        Some(_) if kind == ConsensusKind::Pow => {
            return Err(origin.error(
                "stake.shares",
                "[ ... ]",
                "does not apply when consensus.kind = \"pow\"; hash power comes from [mining]",
            ));
        }
        Some(shares) => StakeSource::Shares(validate_shares(shares, nodes, origin)?),
    };
    if let (KindParams::Poet { compromised, .. }, StakeSource::Shares(shares)) = (&params, &stake) {
        for (i, &(node, _)) in compromised.iter().enumerate() {
            origin.check(
                shares.get(node as usize).is_some_and(|&s| s > 0.0),
                &format!("consensus.compromised[{i}].node"),
                node,
                "holds no weight in [stake] shares, so it takes no part in the lottery",
            )?;
        }
    }
    let sync = match params {
        KindParams::PosSlot { f, k, .. } => validate_sync(c, k, f, origin)?,
        _ => SyncRule::Longest,
    };
    // Left out of the resolved scenario when absent, so Praos runs keep their manifests.
    let leader_input = match c.leader_input.as_deref() {
        None => LeaderInput::EpochNonce,
        Some(name) => {
            let names = LeaderInput::ALL.map(LeaderInput::name);
            origin.known("consensus.leader_input", name, &names)?;
            LeaderInput::parse(name).expect("checked against the names")
        }
    };
    Ok(ConsensusSpec { kind, params, stake, sync, leader_input })
}

/// `pos-slot`: `fork_choice` ("longest" or "genesis") and, with "genesis", the density
/// window (default k / (4f), filled in); a window without "genesis" is refused.
fn validate_sync(
    c: &mut RawConsensus,
    k: u64,
    f: f64,
    origin: &Origin<'_>,
) -> Result<SyncRule, ScenarioError> {
    let rule = c.fork_choice.clone().unwrap_or_else(|| "longest".to_string());
    origin.known("consensus.fork_choice", &rule, &FORK_CHOICES)?;
    if rule == "longest" {
        origin.absent(
            "consensus.genesis_window_slots",
            &c.genesis_window_slots,
            "consensus.fork_choice",
            &rule,
        )?;
        return Ok(SyncRule::Longest);
    }
    let window_slots = *c.genesis_window_slots.get_or_insert(default_window_slots(k, f));
    origin.check(
        window_slots >= 1,
        "consensus.genesis_window_slots",
        window_slots,
        "must be at least 1 slot",
    )?;
    Ok(SyncRule::Genesis { window_slots })
}

/// `poet`: the z-test's settings and the compromised enclaves (each on an existing node,
/// once, with a factor in (0, 1]), filling the defaults into `c`.
fn validate_poet(
    c: &mut RawConsensus,
    nodes: u32,
    origin: &Origin<'_>,
) -> Result<(crate::consensus::poet::ZTest, Vec<(u32, f64)>), ScenarioError> {
    let default = crate::consensus::poet::ZTest::default();
    let z_max = *c.z_max.get_or_insert(default.z_max);
    origin.check(
        z_max > 0.0,
        "consensus.z_max",
        z_max,
        "must be greater than 0 (inf turns the z-test off)",
    )?;
    let min_wins = *c.z_min_wins.get_or_insert(default.min_wins);
    origin.check(min_wins >= 1, "consensus.z_min_wins", min_wins, "must be at least 1")?;
    let mut compromised = Vec::new();
    for (i, entry) in c.compromised.iter().flatten().enumerate() {
        let field = format!("consensus.compromised[{i}]");
        origin.check(
            entry.node < nodes,
            &format!("{field}.node"),
            entry.node,
            format!("is not a node: network.nodes = {nodes}"),
        )?;
        origin.check(
            !compromised.iter().any(|&(n, _)| n == entry.node),
            &format!("{field}.node"),
            entry.node,
            "is listed twice",
        )?;
        let factor = entry.timer_factor;
        origin.check(
            factor > 0.0 && factor <= 1.0,
            &format!("{field}.timer_factor"),
            factor,
            "must be greater than 0 and at most 1 (the enclave shortens its waits)",
        )?;
        compromised.push((entry.node, factor));
    }
    compromised.sort_by_key(|c| c.0);
    Ok((crate::consensus::poet::ZTest { z_max, min_wins }, compromised))
}

/// `[stake] shares`: at most one per node, none negative, not all zero; normalised.
fn validate_shares(
    shares: &[f64],
    nodes: u32,
    origin: &Origin<'_>,
) -> Result<Vec<f64>, ScenarioError> {
    let f = "stake.shares";
    origin.check(
        !shares.is_empty() && shares.len() <= nodes as usize,
        f,
        format!("[{} shares]", shares.len()),
        format!("must list between 1 and network.nodes = {nodes} shares (node i holds shares[i])"),
    )?;
    for (i, &s) in shares.iter().enumerate() {
        origin.non_negative(&format!("stake.shares[{i}]"), s)?;
    }
    let total: f64 = shares.iter().sum();
    origin.check(total > 0.0, f, "[0, ..]", "must not all be 0: somebody must hold stake")?;
    Ok(shares.iter().map(|s| s / total).collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::consensus::ConsensusKind;
    use crate::scenario::{self, Scenario, ScenarioError};

    fn load(text: &str) -> Result<Scenario, ScenarioError> {
        scenario::from_str(text, Path::new("lab/c.toml"), &[], None)
    }

    fn error(text: &str) -> String {
        load(text).unwrap_err().to_string()
    }

    #[test]
    fn an_absent_section_is_pow_and_leaves_the_resolved_scenario_alone() {
        let s = load("[run]\nblocks = 5\n").unwrap();
        assert_eq!(s.consensus.kind, ConsensusKind::Pow);
        assert!(s.resolved.consensus.is_none() && s.resolved.stake.is_none());
    }

    #[test]
    fn pos_slot_fills_its_defaults_and_reads_stake_shares() {
        let s = load("[consensus]\nkind = \"pos-slot\"\n[stake]\nshares = [1, 3]\n").unwrap();
        let c = s.resolved.consensus.as_ref().unwrap();
        assert_eq!((c.slot_s, c.active_slot_coeff, c.k), (Some(1.0), Some(0.05), Some(2160)));
        assert_eq!(c.epoch_slots, Some(432_000), "Cardano's epoch: 10k/f slots");
        assert_eq!(s.consensus.stake, super::StakeSource::Shares(vec![0.25, 0.75]));
    }

    #[test]
    fn poet_fills_its_defaults_and_reads_compromised_enclaves() {
        let s = load(
            "[chain]\nblock_interval_s = 20\n[consensus]\nkind = \"poet\"\n\
             compromised = [{ node = 4, timer_factor = 0.2 }, { node = 1, timer_factor = 0.5 }]\n",
        )
        .unwrap();
        let c = s.resolved.consensus.as_ref().unwrap();
        assert_eq!((c.mean_wait_s, c.z_max, c.z_min_wins), (Some(20.0), Some(3.075), Some(3)));
        let super::KindParams::Poet { mean_wait, ztest, compromised } = &s.consensus.params else {
            panic!("{:?}", s.consensus.params)
        };
        assert_eq!(*mean_wait, crate::time::SimDuration::from_secs(20));
        assert_eq!(*ztest, crate::consensus::poet::ZTest::default());
        assert_eq!(compromised, &vec![(1, 0.5), (4, 0.2)]);
    }

    /// Bad `poet` fields: each error names the file, the field and the value.
    #[test]
    fn bad_poet_fields_name_file_field_and_value() {
        let poet = "[network]\nnodes = 5\ntopology = { kind = \"complete\" }\n[consensus]\nkind = \"poet\"\n";
        let cases: [(&str, &[&str]); 8] = [
            ("mean_wait_s = 0\n", &["consensus.mean_wait_s", "0"]),
            ("mean_wait_s = 0.0001\n", &["consensus.mean_wait_s", "0.0001", "0.001 s"]),
            ("z_max = -1\n", &["consensus.z_max", "-1", "greater than 0"]),
            ("z_min_wins = 0\n", &["consensus.z_min_wins", "0", "at least 1"]),
            (
                "compromised = [{ node = 5, timer_factor = 0.5 }]\n",
                &["consensus.compromised[0].node", "5", "network.nodes = 5"],
            ),
            (
                "compromised = [{ node = 1, timer_factor = 0.5 }, { node = 1, timer_factor = 0.2 }]\n",
                &["consensus.compromised[1].node", "1", "twice"],
            ),
            (
                "compromised = [{ node = 1, timer_factor = 1.5 }]\n",
                &["consensus.compromised[0].timer_factor", "1.5", "at most 1"],
            ),
            (
                "compromised = [{ node = 3, timer_factor = 0.5 }]\n[stake]\nshares = [1, 1]\n",
                &["consensus.compromised[0].node", "3", "no weight"],
            ),
        ];
        for (extra, parts) in cases {
            let e = error(&format!("{poet}{extra}"));
            assert!(e.contains("lab/c.toml"), "{extra}: {e}");
            for part in parts {
                assert!(e.contains(part), "{extra}: {e}");
            }
        }
        let e = error("[consensus]\nkind = \"dpos\"\nz_max = 2.0\n");
        assert!(e.contains("consensus.z_max") && e.contains("\"dpos\""), "{e}");
    }

    #[test]
    fn bad_consensus_input_names_file_field_value_and_choices() {
        let cases: [(&str, &[&str]); 11] = [
            (
                "[consensus]\nkind = \"pos\"\n",
                &["lab/c.toml", "consensus.kind", "\"pos\"", "\"pos-slot\"", "\"poet\""],
            ),
            (
                "[consensus]\nkind = \"pos-coinage\"\nconsumption = \"half\"\n",
                &["lab/c.toml", "consensus.consumption", "\"half\"", "\"365-days\""],
            ),
            (
                "[consensus]\nkind = \"pos-coinage\"\ninterest = 1.5\n",
                &["lab/c.toml", "consensus.interest", "1.5", "between 0 and 1"],
            ),
            (
                "[consensus]\nkind = \"pos-coinage\"\nproducers = 3\n",
                &["consensus.producers", "does not apply when consensus.kind = \"pos-coinage\""],
            ),
            (
                "[consensus]\nkind = \"pos-slot\"\nproducers = 21\n",
                &["consensus.producers", "21", "does not apply when consensus.kind = \"pos-slot\""],
            ),
            ("[stake]\nshares = [1]\n", &["stake", "does not apply to proof of work"]),
            (
                "[consensus]\nkind = \"pos-slot\"\nactive_slot_coeff = 1.5\n",
                &["consensus.active_slot_coeff", "1.5"],
            ),
            (
                "[consensus]\nkind = \"pos-slot\"\nepoch_slots = 2\n",
                &["consensus.epoch_slots", "2", "at least 3"],
            ),
            (
                "[consensus]\nkind = \"pos-slot\"\nblock_reward = 1.5\n",
                &["lab/c.toml", "consensus.block_reward", "1.5", "between 0 and 1"],
            ),
            (
                "[consensus]\nkind = \"poet\"\nblock_reward = 0.01\n",
                &[
                    "consensus.block_reward",
                    "0.01",
                    "does not apply when consensus.kind = \"poet\"",
                ],
            ),
            (
                "[consensus]\nkind = \"dpos\"\nepoch_slots = 100\n",
                &["consensus.epoch_slots", "does not apply when consensus.kind = \"dpos\""],
            ),
        ];
        for (text, parts) in cases {
            let e = error(text);
            for part in parts {
                assert!(e.contains(part), "{text}: {e}");
            }
        }
        let e = error(
            "[network]\nnodes = 3\ntopology = { kind = \"complete\" }\n[consensus]\nkind = \"pos-slot\"\n[stake]\nshares = [1, 1, 1, 1]\n",
        );
        assert!(e.contains("stake.shares") && e.contains("network.nodes = 3"), "{e}");
        let e = error("[consensus]\nkind = \"pos-slot\"\n[stake]\nshares = [0, 0]\n");
        assert!(e.contains("must not all be 0"), "{e}");
    }
}
