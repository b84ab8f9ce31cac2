//! `strategy = "cartel"`: checking a DPoS cartel of elected producers.
//!
//! A cartel is written as one `[[attacker]]` entry per member, each naming an elected
//! producer of a `dpos` run, all with the same `mode` (and the same `censor` list or
//! `start_s`). Whether a node is an elected producer is known from `[stake] shares` when
//! the scenario is checked: every stakeholder votes for itself, so the N largest stakes are
//! elected (`consensus::dpos`), which is why a cartel needs `[stake] shares`. A cartel of
//! every producer (m = N) leaves nobody to compare it with and is refused; m = 0 cannot be
//! written (a cartel has at least one entry).

use super::ScenarioError;
use super::attack::{AttackerSpec, Names, StrategySpec};
use super::consensus::{ConsensusSpec, KindParams, StakeSource};
use super::raw::RawAttacker;
use super::validate::{Origin, quoted};
use crate::consensus::ConsensusKind;
use crate::id::NodeId;
use crate::time::{SimDuration, SimTime};

/// Which payments a censoring cartel leaves out of its blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Censor {
    /// Every payment.
    All,
    /// The payments submitted at these nodes (the wallets that use them), in id order.
    Sources(Vec<NodeId>),
}

impl Censor {
    /// Whether a payment submitted at `source` is censored.
    pub fn censors(&self, source: NodeId) -> bool {
        match self {
            Censor::All => true,
            Censor::Sources(nodes) => nodes.binary_search(&source).is_ok(),
        }
    }
}

/// What the cartel does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CartelMode {
    /// Its producers leave the censored payments out of their blocks and otherwise behave
    /// honestly.
    Censor(Censor),
    /// From `start` on its producers build only on blocks of the cartel (and blocks made
    /// before `start`) and relay only those.
    Split {
        /// When the split begins.
        start: SimTime,
    },
}

/// One cartel member's options (the same for every member).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartelSpec {
    /// What the cartel does.
    pub mode: CartelMode,
}

impl CartelSpec {
    /// The mode's name as written in scenarios.
    pub fn mode_name(&self) -> &'static str {
        match self.mode {
            CartelMode::Censor(_) => "censor",
            CartelMode::Split { .. } => "split",
        }
    }
}

/// The cartel's members (in id order) and their common spec, if the scenario has a cartel.
pub fn cartel_of(attackers: &[AttackerSpec]) -> Option<(Vec<NodeId>, &CartelSpec)> {
    let mut spec = None;
    let mut members = Vec::new();
    for a in attackers {
        if let StrategySpec::Cartel(c) = &a.strategy {
            spec.get_or_insert(c);
            members.push(a.node);
        }
    }
    members.sort_unstable();
    spec.map(|s| (members, s))
}

/// Checks the options of `attacker[i]` with `strategy = "cartel"`, filling defaults.
pub(super) fn cartel_spec(
    a: &mut RawAttacker,
    i: usize,
    names: &Names<'_>,
    origin: &Origin<'_>,
) -> Result<CartelSpec, ScenarioError> {
    let f = |name: &str| format!("attacker[{i}].{name}");
    let modes = "expected \"censor\" (leave payments out of the cartel's blocks) or \"split\" (build and relay only the cartel's blocks)";
    let mode = a.mode.clone().ok_or_else(|| origin.error(&f("mode"), "(missing)", modes))?;
    match mode.as_str() {
        "censor" => {
            origin.absent(&f("start_s"), &a.start_s, &f("mode"), "censor")?;
            let value = a.censor.get_or_insert_with(|| toml::Value::String("all".to_string()));
            let censor = match value {
                toml::Value::String(s) if s == "all" => Censor::All,
                toml::Value::Array(list) => {
                    origin.check(
                        !list.is_empty(),
                        &f("censor"),
                        "[]",
                        "name at least one node whose payments are censored, or \"all\"",
                    )?;
                    let mut nodes = Vec::with_capacity(list.len());
                    for (j, v) in list.iter().enumerate() {
                        let field = format!("attacker[{i}].censor[{j}]");
                        let node = names.node(v, &field, origin)?;
                        origin.check(!nodes.contains(&node), &field, v, "is named twice")?;
                        nodes.push(node);
                    }
                    nodes.sort_unstable();
                    Censor::Sources(nodes)
                }
                other => {
                    return Err(origin.error(
                        &f("censor"),
                        &*other,
                        "expected \"all\" or a list of nodes whose submitted payments are censored",
                    ));
                }
            };
            Ok(CartelSpec { mode: CartelMode::Censor(censor) })
        }
        "split" => {
            origin.absent(&f("censor"), &a.censor, &f("mode"), "split")?;
            let start_s = origin.non_negative(&f("start_s"), *a.start_s.get_or_insert(0.0))?;
            let start = SimTime::ZERO + SimDuration::from_secs_f64(start_s);
            Ok(CartelSpec { mode: CartelMode::Split { start } })
        }
        other => Err(origin.error(&f("mode"), quoted(other), modes)),
    }
}

/// Checks a scenario's cartel against its consensus and workload: `dpos` only, every
/// attacker a cartel member, every member an elected producer, the same options for all,
/// fewer members than producers, a `[workload]` to censor, and, to split, a prune depth of
/// at least `run.blocks`. `kept` is (whether there is a workload, `chain.prune_depth`,
/// `run.blocks`).
pub(super) fn check_cartel(
    attackers: &[AttackerSpec],
    consensus: &ConsensusSpec,
    (has_workload, prune_depth, blocks): (bool, u32, u64),
    node_names: &[String],
    origin: &Origin<'_>,
) -> Result<(), ScenarioError> {
    let Some((members, spec)) = cartel_of(attackers) else { return Ok(()) };
    let first = attackers
        .iter()
        .position(|a| matches!(a.strategy, StrategySpec::Cartel(_)))
        .expect("a cartel has a member");
    let strategy_field = format!("attacker[{first}].strategy");
    let KindParams::Dpos { producers, .. } = consensus.params else {
        return Err(origin.error(
            &strategy_field,
            "\"cartel\"",
            format!(
                "runs under consensus.kind = \"dpos\" only (this scenario runs \"{}\")",
                consensus.kind.name()
            ),
        ));
    };
    debug_assert_eq!(consensus.kind, ConsensusKind::Dpos);
    if let Some(i) = attackers.iter().position(|a| !matches!(a.strategy, StrategySpec::Cartel(_))) {
        return Err(origin.error(
            &format!("attacker[{i}].strategy"),
            quoted(attackers[i].strategy.name()),
            "under consensus.kind = \"dpos\" only strategy = \"cartel\" runs",
        ));
    }
    for (i, a) in attackers.iter().enumerate() {
        let StrategySpec::Cartel(c) = &a.strategy else { continue };
        origin.check(
            c == spec,
            &format!("attacker[{i}].mode"),
            quoted(c.mode_name()),
            "every cartel member needs the same mode, censor and start_s as the first",
        )?;
    }
    let StakeSource::Shares(shares) = &consensus.stake else {
        return Err(origin.error(
            &strategy_field,
            "\"cartel\"",
            "needs [stake] shares, so that the elected producers are known when the scenario is checked",
        ));
    };
    let elected = elected_producers(shares, producers);
    for (i, a) in attackers.iter().enumerate() {
        origin.check(
            elected.binary_search(&a.node).is_ok(),
            &format!("attacker[{i}].node"),
            quoted(&node_names[a.node.index()]),
            format!(
                "is not one of the {producers} elected producers (the largest stakes in [stake] shares)"
            ),
        )?;
    }
    let m = members.len() as u32;
    origin.check(
        m < producers,
        "attacker",
        format!("[{m} cartel members]"),
        format!(
            "a cartel of every producer (m = N = {producers}) leaves no honest producer; name fewer"
        ),
    )?;
    if matches!(spec.mode, CartelMode::Split { .. }) {
        // The cartel's branch stays apart from the main chain for the rest of the run; a
        // node can only validate blocks on a branch that leaves the main chain within the
        // prune depth (`BlockStore::leaves_final_chain`).
        origin.check(
            u64::from(prune_depth) >= blocks,
            "chain.prune_depth",
            prune_depth,
            format!(
                "must be at least run.blocks = {blocks} for a cartel split: the cartel's branch leaves the main chain for the rest of the run and its blocks must stay valid"
            ),
        )?;
    }
    if matches!(spec.mode, CartelMode::Censor(_)) {
        origin.check(
            has_workload,
            &format!("attacker[{first}].mode"),
            "\"censor\"",
            "needs a [workload] section: the cartel censors real payments",
        )?;
    }
    Ok(())
}

/// The producers elected in round 0 from `[stake] shares` (node `i` holds `shares[i]`): the
/// `producers` largest stakes, ties to the lower node, as `consensus::dpos::elect` counts
/// the stakeholders' self-votes (in the same units of 10^-12 of the whole). In id order.
pub fn elected_producers(shares: &[f64], producers: u32) -> Vec<NodeId> {
    let mut holders: Vec<(u64, NodeId)> = shares
        .iter()
        .enumerate()
        .filter(|(_, s)| **s > 0.0)
        .map(|(i, &s)| ((s * 1e12).round().max(1.0) as u64, NodeId::from_index(i)))
        .collect();
    holders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut elected: Vec<NodeId> =
        holders.into_iter().take(producers as usize).map(|(_, n)| n).collect();
    elected.sort_unstable();
    elected
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 12-node `dpos` scenario whose nodes 0 to 6 are the N = 7 elected producers (and 7,
    /// 8 backups), with `extra` appended.
    fn load(extra: &str) -> Result<crate::scenario::Scenario, ScenarioError> {
        let text = format!(
            "[run]\nblocks = 50\n[chain]\nblock_interval_s = 1\nprune_depth = 100\n\
             [network]\nnodes = 12\n[consensus]\nkind = \"dpos\"\nproducers = 7\n\
             blocks_per_turn = 1\nblock_interval_s = 1.0\n\
             [stake]\nshares = [9, 8, 7, 6, 5, 4, 3, 2, 1]\n{extra}"
        );
        crate::scenario::from_str(&text, std::path::Path::new("cartel.toml"), &[], None)
    }

    fn member(node: &str, options: &str) -> String {
        format!("[[attacker]]\nnode = \"{node}\"\nstrategy = \"cartel\"\n{options}\n")
    }

    const WORKLOAD: &str = "[workload]\npayments_per_s = 1\n";

    #[test]
    fn a_cartel_of_elected_producers_is_accepted() {
        let split = member("n0", "mode = \"split\"\nstart_s = 5")
            + &member("n6", "mode = \"split\"\nstart_s = 5");
        let s = load(&split).unwrap();
        let (members, spec) = cartel_of(&s.attackers).unwrap();
        assert_eq!(members, vec![NodeId(0), NodeId(6)]);
        assert_eq!(spec.mode, CartelMode::Split { start: SimTime(5_000_000) });
        let censor = member("n1", "mode = \"censor\"\ncensor = [\"n9\", 8]");
        let s = load(&(censor + WORKLOAD)).unwrap();
        let (_, spec) = cartel_of(&s.attackers).unwrap();
        assert_eq!(spec.mode, CartelMode::Censor(Censor::Sources(vec![NodeId(8), NodeId(9)])));
        let all = load(&(member("n1", "mode = \"censor\"") + WORKLOAD)).unwrap();
        assert_eq!(cartel_of(&all.attackers).unwrap().1.mode, CartelMode::Censor(Censor::All));
        assert_eq!(
            elected_producers(&[1.0, 3.0, 3.0, 2.0], 2),
            vec![NodeId(1), NodeId(2)],
            "largest stakes, ties to the lower node"
        );
    }

    /// Every refusal names the file, the field and the value.
    #[test]
    fn bad_cartels_are_refused_with_field_and_value() {
        let split = |node: &str| member(node, "mode = \"split\"");
        let all_seven: String = (0..7).map(|i| split(&format!("n{i}"))).collect();
        let cases: Vec<(String, &[&str])> = vec![
            (split("n7"), &["attacker[0].node", "\"n7\"", "not one of the 7 elected"]),
            (all_seven, &["attacker", "[7 cartel members]", "m = N = 7"]),
            (
                split("n0") + &member("n1", "mode = \"split\"\nstart_s = 3"),
                &["attacker[1].mode", "\"split\"", "same mode"],
            ),
            (member("n0", "mode = \"censor\""), &["attacker[0].mode", "\"censor\"", "[workload]"]),
            (member("n0", "mode = \"steal\""), &["attacker[0].mode", "\"steal\""]),
            (member("n0", ""), &["attacker[0].mode", "(missing)"]),
            (
                member("n0", "mode = \"split\"\ncensor = \"all\""),
                &["attacker[0].censor", "does not apply"],
            ),
            (
                member("n0", "mode = \"censor\"\ncensor = []") + WORKLOAD,
                &["attacker[0].censor", "[]"],
            ),
            (
                member("n0", "mode = \"split\"")
                    + "[[attacker]]\nnode = 1\nshare = 0.1\nstrategy = \"selfish\"\n",
                &["attacker[1].strategy", "\"selfish\"", "only strategy = \"cartel\""],
            ),
        ];
        for (extra, needles) in &cases {
            let err = load(extra).unwrap_err().to_string();
            assert!(err.contains("cartel.toml"), "{err}");
            for n in *needles {
                assert!(err.contains(n), "{n:?} not in: {err}");
            }
        }
        // The split's prune depth, and a cartel under another kind.
        assert!(load(&split("n0")).is_ok(), "prune_depth 100 ≥ run.blocks 50");
        let text = "[run]\nblocks = 500\n[chain]\nblock_interval_s = 1\n[network]\nnodes = 12\n\
                    [consensus]\nkind = \"dpos\"\nproducers = 7\nblocks_per_turn = 1\n\
                    block_interval_s = 1.0\n[stake]\nshares = [9, 8, 7, 6, 5, 4, 3, 2, 1]\n"
            .to_string()
            + &split("n0");
        let err = crate::scenario::from_str(&text, std::path::Path::new("c.toml"), &[], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("chain.prune_depth") && err.contains("288"), "{err}");
        let pow = "[network]\nnodes = 12\n".to_string() + &split("n0");
        let err = crate::scenario::from_str(&pow, std::path::Path::new("p.toml"), &[], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("attacker[0].strategy") && err.contains("\"dpos\" only"), "{err}");
    }
}
