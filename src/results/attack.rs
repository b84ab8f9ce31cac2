//! What attacks and faults did, from the records alone: `attack.csv` and the `attack`
//! section of `summary.json`.
//!
//! Per attacker: blocks mined, kept private, published and lost, its share of the final main
//! chain beside its share of hash power (and, for selfish mining, beside Eyal and Sirer's
//! closed form), and the deepest reorg it caused on other nodes. γ is measured from the ties
//! the run's [`crate::observe::attack::AttackLog`] gathered.

use serde::Serialize;

use crate::analytic::selfish_mining_revenue;
use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;
use crate::observe::metrics::{Metrics, ReorgEvent};
use crate::results::rows::{AttackRow, Fixed, to_csv_bytes};
use crate::scenario::Scenario;
use crate::scenario::attack::{GammaSpec, StrategySpec};

/// γ of a selfish attacker: as set, and as measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GammaSummary {
    /// "fixed" or "emergent".
    pub setting: &'static str,
    /// The γ asked for (fixed only).
    pub requested: Option<f64>,
    /// Share of honest hash power in the subset that favours the attacker (fixed only).
    pub subset_share: Option<f64>,
    /// Ties the attacker opened.
    pub ties: u64,
    /// Honest blocks that closed a tie.
    pub honest_tie_blocks: u64,
    /// Of those, blocks built on the attacker's block.
    pub honest_on_attacker: u64,
    /// honest_on_attacker / honest_tie_blocks.
    pub measured: Option<f64>,
}

/// One attacker's results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttackerSummary {
    /// Node name.
    pub node: String,
    /// Strategy name.
    pub strategy: &'static str,
    /// Whether it relays blocks mined by others.
    pub relay: bool,
    /// Share of the total hash power.
    pub share: f64,
    /// Blocks it mined.
    pub blocks_mined: u64,
    /// Its share of all blocks mined (stale included): its hash share, up to luck.
    pub share_of_blocks_mined: f64,
    /// Of those, blocks in the final main chain.
    pub blocks_in_main_chain: u64,
    /// Its share of the main chain's blocks.
    pub relative_revenue: f64,
    /// Blocks it mined that are not in the final main chain.
    pub blocks_lost: u64,
    /// Blocks kept private when mined.
    pub withheld: u64,
    /// Blocks published after being kept private.
    pub published: u64,
    /// Times it gave up a private branch.
    pub gave_up: u64,
    /// Reorgs on other nodes onto a branch holding its blocks.
    pub reorgs_caused: u64,
    /// The deepest of those (blocks disconnected).
    pub max_reorg_depth_caused: u32,
    /// Selfish mining: γ as set and measured.
    pub gamma: Option<GammaSummary>,
    /// Selfish mining: Eyal and Sirer's relative revenue for this share and γ (the measured
    /// γ when emergent); absent for shares of 1/2 or more.
    pub eyal_sirer_revenue: Option<f64>,
}

/// The eclipsed node at the end of the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EclipseSummary {
    /// Victim's name.
    pub victim: String,
    /// Its peers (all attacker-chosen).
    pub peers: Vec<String>,
    /// Height of its tip at the end.
    pub victim_tip_height: u32,
    /// Whether its tip is on the final main chain.
    pub victim_tip_in_main_chain: bool,
    /// Height of the final main chain.
    pub main_chain_height: u32,
    /// Blocks the victim mined.
    pub victim_blocks_mined: u64,
    /// Of those, blocks in the final main chain.
    pub victim_blocks_in_main_chain: u64,
}

/// The timeline's effect.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelineSummary {
    /// Partitions applied.
    pub partitions: u64,
    /// Heals applied.
    pub heals: u64,
    /// Nodes that went offline.
    pub nodes_left: u64,
    /// Nodes that came back.
    pub nodes_rejoined: u64,
    /// Messages lost on cut links.
    pub messages_dropped: u64,
    /// Online nodes at the end.
    pub online_nodes_at_end: u64,
    /// Distinct tips among them.
    pub distinct_tips_at_end: u64,
    /// Of them, nodes whose tip has less work than the most-work tip among them.
    pub nodes_behind_at_end: u64,
}

/// The `attack` section of `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttackSection {
    /// One entry per `[[attacker]]`, in file order.
    pub attackers: Vec<AttackerSummary>,
    /// The eclipse, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eclipse: Option<EclipseSummary>,
    /// The timeline, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<TimelineSummary>,
}

/// What [`summarize`] needs from the finished run besides the metrics.
pub struct RunView<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Every block.
    pub store: &'a BlockStore,
    /// Main-chain flag by block.
    pub in_main: &'a [bool],
    /// The final main chain's tip.
    pub best: BlockId,
    /// Each node's tip at the end.
    pub tips: Vec<BlockId>,
    /// Per attacker: the honest share favouring it in ties (explicit γ).
    pub gamma_subset: &'a [Option<f64>],
    /// With a timeline: whether each node was online at the end.
    pub online: Option<Vec<bool>>,
    /// Each node's hash share.
    pub hash_shares: &'a [f64],
}

/// Whether the branch of `new_tip` above its fork with `old_tip` holds a block mined by
/// `attacker`.
fn reorg_onto(store: &BlockStore, r: &ReorgEvent, attacker: NodeId) -> bool {
    let fork = store.fork_point(r.old_tip, r.new_tip);
    store.branch(r.new_tip, fork).iter().any(|&b| store.get(b).meta.miner == Some(attacker))
}

/// The attack section of a run and its `attack.csv` (when it has attackers), or `None` for
/// an honest run without eclipse or timeline.
pub fn summarize(run: &RunView<'_>, metrics: &Metrics) -> Option<(AttackSection, Option<Vec<u8>>)> {
    let scenario = run.scenario;
    if scenario.attackers.is_empty() && scenario.eclipse.is_none() && scenario.timeline.is_empty() {
        return None;
    }
    let names = &scenario.node_names;
    let main_height = run.store.get(run.best).height;
    let by_miner = metrics.blocks_by_miner(run.in_main, names.len());
    let (mined, main) = (&by_miner.mined, &by_miner.in_main);
    let is_attacker = |n: NodeId| scenario.attackers.iter().any(|a| a.node == n);
    let log = &metrics.attack;
    let attackers: Vec<AttackerSummary> = scenario
        .attackers
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let n = a.node.index();
            let counts = log.nodes.get(&a.node).copied().unwrap_or_default();
            let caused: Vec<u32> = metrics
                .reorgs
                .iter()
                .filter(|r| !is_attacker(r.node) && reorg_onto(run.store, r, a.node))
                .map(|r| r.depth)
                .collect();
            let relative_revenue = by_miner.revenue_share(a.node, main_height);
            let gamma = match a.strategy {
                StrategySpec::Selfish { gamma, .. } => {
                    let ties = log.ties.get(&a.node).copied().unwrap_or_default();
                    let honest = ties.honest_on_attacker + ties.honest_on_honest;
                    Some(GammaSummary {
                        setting: match gamma {
                            GammaSpec::Fixed(_) => "fixed",
                            GammaSpec::Emergent => "emergent",
                        },
                        requested: match gamma {
                            GammaSpec::Fixed(g) => Some(g),
                            GammaSpec::Emergent => None,
                        },
                        subset_share: run.gamma_subset.get(i).copied().flatten(),
                        ties: ties.opened,
                        honest_tie_blocks: honest,
                        honest_on_attacker: ties.honest_on_attacker,
                        measured: (honest > 0)
                            .then(|| ties.honest_on_attacker as f64 / honest as f64),
                    })
                }
                StrategySpec::Honest
                | StrategySpec::Invalid(_)
                | StrategySpec::PrivateChain(_)
                | StrategySpec::DoubleSpend(_)
                | StrategySpec::Cartel(_)
                | StrategySpec::LongRange(_)
                | StrategySpec::NothingAtStake(_) => None,
            };
            let model_gamma = gamma.as_ref().and_then(|g| g.subset_share.or(g.measured));
            AttackerSummary {
                node: names[n].clone(),
                strategy: a.strategy.name(),
                relay: a.relay,
                share: run.hash_shares[n],
                blocks_mined: mined[n],
                share_of_blocks_mined: if metrics.spreads.is_empty() {
                    0.0
                } else {
                    mined[n] as f64 / metrics.spreads.len() as f64
                },
                blocks_in_main_chain: main[n],
                relative_revenue,
                blocks_lost: mined[n] - main[n],
                withheld: counts.withheld,
                published: counts.published,
                gave_up: counts.gave_up,
                reorgs_caused: caused.len() as u64,
                max_reorg_depth_caused: caused.iter().copied().max().unwrap_or(0),
                eyal_sirer_revenue: model_gamma
                    .and_then(|g| selfish_mining_revenue(run.hash_shares[n], g).ok()),
                gamma,
            }
        })
        .collect();
    let eclipse = scenario.eclipse.as_ref().map(|e| {
        let v = e.victim.index();
        let tip = run.tips[v];
        EclipseSummary {
            victim: names[v].clone(),
            peers: e.attackers.iter().map(|&a| names[a.index()].clone()).collect(),
            victim_tip_height: run.store.get(tip).height,
            victim_tip_in_main_chain: run.in_main[tip.index()],
            main_chain_height: main_height,
            victim_blocks_mined: mined[v],
            victim_blocks_in_main_chain: main[v],
        }
    });
    let timeline = run.online.as_ref().map(|online_nodes| {
        let online: Vec<BlockId> =
            (0..names.len()).filter(|&n| online_nodes[n]).map(|n| run.tips[n]).collect();
        let best = online.iter().map(|&t| run.store.chain_work(t)).max();
        let mut distinct = online.clone();
        distinct.sort_unstable();
        distinct.dedup();
        TimelineSummary {
            partitions: log.partitions,
            heals: log.heals,
            nodes_left: log.nodes_left,
            nodes_rejoined: log.nodes_rejoined,
            messages_dropped: log.messages_dropped,
            online_nodes_at_end: online.len() as u64,
            distinct_tips_at_end: distinct.len() as u64,
            nodes_behind_at_end: online
                .iter()
                .filter(|&&t| Some(run.store.chain_work(t)) < best)
                .count() as u64,
        }
    });
    let csv = (!attackers.is_empty()).then(|| attack_csv(&attackers));
    Some((AttackSection { attackers, eclipse, timeline }, csv))
}

fn attack_csv(attackers: &[AttackerSummary]) -> Vec<u8> {
    to_csv_bytes(attackers.iter().map(|a| AttackRow {
        node: a.node.clone(),
        strategy: a.strategy.to_string(),
        share: Fixed(a.share),
        blocks_mined: a.blocks_mined,
        blocks_in_main_chain: a.blocks_in_main_chain,
        relative_revenue: Fixed(a.relative_revenue),
        blocks_lost: a.blocks_lost,
        withheld: a.withheld,
        published: a.published,
        gave_up: a.gave_up,
        reorgs_caused: a.reorgs_caused,
        max_reorg_depth_caused: a.max_reorg_depth_caused,
        gamma_setting: a.gamma.as_ref().map(|g| g.setting.to_string()),
        gamma_measured: a.gamma.as_ref().and_then(|g| g.measured).map(Fixed),
        eyal_sirer_revenue: a.eyal_sirer_revenue.map(Fixed),
    }))
}
