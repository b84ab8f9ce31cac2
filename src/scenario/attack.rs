//! Attacks and faults in a network scenario: `[[attacker]]`, `network.eclipse` and
//! `[[timeline]]`, checked and turned into typed specs.
//!
//! These tables describe who deviates from the honest protocol and what happens to the
//! network over time, so they are validated apart from the honest settings: every node is
//! named by index or by name (`network.names`, or the generated `n0`, `n1`, ...), groups
//! may also name regions, and every error names the field (`attacker[1].share`,
//! `timeline[2].at_s`) and the value, like the rest of the scenario.

use super::ScenarioError;
use super::raw::{RawAttacker, RawEclipse, RawTimelineEvent};
use super::validate::{Origin, expected_one_of, quoted};
use crate::id::NodeId;
pub use crate::network::faults::{
    Members, NodeGroup, PartitionSpec, TimelineAction, TimelineEvent,
};
use crate::time::{SimDuration, SimTime};

/// One attacker node.
#[derive(Clone, Debug, PartialEq)]
pub struct AttackerSpec {
    /// The node.
    pub node: NodeId,
    /// Its share of the total hash power.
    pub share: f64,
    /// Whether it relays blocks mined by others.
    pub relay: bool,
    /// What it does.
    pub strategy: StrategySpec,
}

/// An attacker's strategy and its options.
#[derive(Clone, Debug, PartialEq)]
pub enum StrategySpec {
    /// The honest protocol (with `relay = false`, a node that keeps others' blocks to
    /// itself, as the nodes around an eclipsed victim do).
    Honest,
    /// A private branch, published by a rule (the majority or 51 % attack).
    PrivateChain(PrivateChainSpec),
    /// A double spend against a merchant: a private chain begun at the payment, its first
    /// block holding the conflicting version, published once the merchant has shipped.
    DoubleSpend(DoubleSpendSpec),
    /// A peer that sends invalid blocks of every kind, to see honest nodes reject them,
    /// relay none and ban it.
    Invalid(InvalidSpec),
    /// A DPoS cartel member: censors payments or splits the schedule
    /// ([`super::cartel`]).
    Cartel(super::cartel::CartelSpec),
    /// `pos-slot`: the holder of old keys that sells its stake on the honest chain and
    /// builds a fork from before the sale, on which the keys keep their stake
    /// (`node::attacker::long_range`).
    LongRange(LongRangeSpec),
    /// `pos-slot`: a private tree on whose every block the attacker runs the slot lottery in
    /// every slot (`node::attacker::nothing_at_stake`).
    NothingAtStake(NothingAtStakeSpec),
    /// Eyal and Sirer's selfish mining.
    Selfish {
        /// How honest nodes break ties between the attacker's block and an honest one.
        gamma: GammaSpec,
        /// How the pool sends the blocks it publishes.
        publish: PublishVia,
        /// Whether the pool answers a competing block when a peer announces it (its header)
        /// rather than once it has fetched and validated it.
        on_header: bool,
    },
}

/// How a selfish pool sends the blocks it publishes (`attacker[i].publish`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PublishVia {
    /// `"relay"`: as the network's relay protocol has a miner announce a block it mined:
    /// an `inv` (`inv`), the block itself (`push`, `flood`), a `cmpctblock` to the peers
    /// that chose the pool as a high-bandwidth peer and an `inv` to the others (`compact`).
    #[default]
    Relay,
    /// `"push"`: the whole block, unasked, to every peer (the miner's unsolicited push of
    /// the literature, e.g. Gervais et al., CCS 2016).
    Push,
    /// `"compact"`: a `cmpctblock`, unasked, to every peer that speaks BIP152 (as if every
    /// one had chosen the pool as a high-bandwidth peer); the others as with `"relay"`.
    Compact,
}

impl PublishVia {
    /// The name as written in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            PublishVia::Relay => "relay",
            PublishVia::Push => "push",
            PublishVia::Compact => "compact",
        }
    }
}

impl StrategySpec {
    /// The strategy's name as written in scenarios.
    pub fn name(&self) -> &'static str {
        match self {
            StrategySpec::Honest => "honest",
            StrategySpec::PrivateChain(_) => "private-chain",
            StrategySpec::DoubleSpend(_) => "double-spend",
            StrategySpec::Selfish { .. } => "selfish",
            StrategySpec::Invalid(_) => "invalid",
            StrategySpec::Cartel(_) => "cartel",
            StrategySpec::LongRange(_) => "long-range",
            StrategySpec::NothingAtStake(_) => "nothing-at-stake",
        }
    }
}

/// What an `invalid` attacker sends, and how often.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidSpec {
    /// Time between two items (each goes to one peer, the peers in turn).
    pub every: SimDuration,
    /// The kinds it sends, in turn.
    pub kinds: Vec<InvalidKind>,
    /// Blocks in one `unknown-parent` item.
    pub flood_blocks: u32,
}

/// A kind of invalid data, each with the rule that catches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InvalidKind {
    /// A header whose hash misses its target (too little work): `high-hash`.
    HighHash,
    /// A header with other bits than the difficulty rules require: `bad-diffbits`.
    BadBits,
    /// A Merkle root that does not match the transactions: `bad-txnmrklroot`.
    BadMerkleRoot,
    /// A time not after the median of the last 11 blocks: `time-too-old`.
    TimeTooOld,
    /// A time more than 2 hours ahead of the receiver's clock: `time-too-new`.
    TimeTooNew,
    /// A block over the size limit: `bad-blk-length`.
    Oversized,
    /// A coinbase paying more than subsidy plus fees: `bad-cb-amount`.
    CoinbaseOverpays,
    /// A payment whose signature does not verify: `mandatory-script-verify-flag-failed`.
    BadSignature,
    /// A payment spending an output that does not exist: `bad-txns-inputs-missingorspent`.
    MissingInput,
    /// Two payments of one block spending the same output: `bad-txns-spends-conflicting-tx`.
    DoubleSpendInBlock,
    /// A payment spending a coinbase output younger than the maturity:
    /// `bad-txns-premature-spend-of-coinbase`.
    ImmatureCoinbaseSpend,
    /// A flood of blocks whose parent the sender never delivers: `prev-blk-not-found`.
    UnknownParent,
    /// A block repeating its last transaction under a valid header (CVE-2012-2459):
    /// `bad-txns-duplicate`.
    DuplicateTxs,
}

impl InvalidKind {
    /// Every kind, in the order an attacker sends them by default.
    pub const ALL: [InvalidKind; 13] = [
        InvalidKind::HighHash,
        InvalidKind::BadBits,
        InvalidKind::BadMerkleRoot,
        InvalidKind::TimeTooOld,
        InvalidKind::TimeTooNew,
        InvalidKind::Oversized,
        InvalidKind::CoinbaseOverpays,
        InvalidKind::BadSignature,
        InvalidKind::MissingInput,
        InvalidKind::DoubleSpendInBlock,
        InvalidKind::ImmatureCoinbaseSpend,
        InvalidKind::UnknownParent,
        InvalidKind::DuplicateTxs,
    ];

    /// The name as written in scenarios and results.
    pub fn name(self) -> &'static str {
        match self {
            InvalidKind::HighHash => "high-hash",
            InvalidKind::BadBits => "bad-bits",
            InvalidKind::BadMerkleRoot => "bad-merkle-root",
            InvalidKind::TimeTooOld => "time-too-old",
            InvalidKind::TimeTooNew => "time-too-new",
            InvalidKind::Oversized => "oversized",
            InvalidKind::CoinbaseOverpays => "coinbase-overpays",
            InvalidKind::BadSignature => "bad-signature",
            InvalidKind::MissingInput => "missing-input",
            InvalidKind::DoubleSpendInBlock => "double-spend-in-block",
            InvalidKind::ImmatureCoinbaseSpend => "immature-coinbase-spend",
            InvalidKind::UnknownParent => "unknown-parent",
            InvalidKind::DuplicateTxs => "duplicate-txs",
        }
    }

    /// Position in [`InvalidKind::ALL`].
    pub fn index(self) -> usize {
        InvalidKind::ALL.iter().position(|k| *k == self).expect("ALL lists every kind")
    }

    /// Whether the kind spends a wallet's coins, so the run needs a `[workload]`.
    pub fn needs_wallets(self) -> bool {
        matches!(self, InvalidKind::BadSignature | InvalidKind::DoubleSpendInBlock)
    }
}

/// When a private-chain attacker starts, publishes and gives up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrivateChainSpec {
    /// Before this time the node mines honestly; then it forks from its tip.
    pub start: SimTime,
    /// Publish once the private branch is at least this many blocks ahead (and has more work).
    pub publish_lead: u32,
    /// ... and the honest chain has at least this many blocks on top of the fork point.
    pub publish_after: u32,
    /// Give up this many blocks behind; `None`: never.
    pub give_up_behind: Option<u32>,
}

/// The long-range attack: when the old keys' stake is sold, where the fork leaves the
/// chain, and when the fork is published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongRangeSpec {
    /// When the stake is sold on the honest chain (the attacker stakes honestly before).
    pub sale: SimTime,
    /// The fork leaves the chain at the attacker's last block in a slot before the one
    /// that starts at or after this time (at most `sale`).
    pub fork: SimTime,
    /// Publish once the fork is this many blocks longer than the honest chain it sees.
    pub publish_lead: u32,
}

/// The nothing-at-stake attack: when the private tree starts, how many blocks it keeps,
/// which blocks the lottery runs on, and when a branch is published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NothingAtStakeSpec {
    /// The tree starts, on the attacker's tip, at the first slot starting at or after this
    /// time (the attacker stakes honestly before).
    pub start: SimTime,
    /// The most blocks of the tree the attacker keeps (the highest; its compute bound).
    pub max_blocks: u32,
    /// Publish the longest branch once it is this many blocks longer than the honest chain
    /// the attacker sees.
    pub publish_lead: u32,
    /// Which blocks the attacker runs the lottery on in each slot.
    pub lottery_on: LotteryOn,
}

/// Which blocks a nothing-at-stake attacker runs the lottery on (`attacker[i].lottery_on`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LotteryOn {
    /// `"every-block"`: every block it keeps, once per slot each.
    #[default]
    EveryBlock,
    /// `"tip"`: its longest branch's tip alone, once per slot (a private chain).
    Tip,
}

impl LotteryOn {
    /// Every choice, in the order scenarios list them.
    pub const ALL: [LotteryOn; 2] = [LotteryOn::EveryBlock, LotteryOn::Tip];

    /// The name as written in scenarios and results.
    pub fn name(self) -> &'static str {
        match self {
            LotteryOn::EveryBlock => "every-block",
            LotteryOn::Tip => "tip",
        }
    }
}

/// The double spend: who is paid, when, and how long the merchant waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DoubleSpendSpec {
    /// The merchant's node.
    pub merchant: NodeId,
    /// Confirmations the merchant waits for.
    pub z: u32,
    /// When the attacker pays (and forks from its tip).
    pub pay_at: SimTime,
    /// Give up this many blocks behind; `None`: never.
    pub give_up_behind: Option<u32>,
    /// Independent runs of the scenario.
    pub trials: u64,
}

/// Tie-breaking between an attacker block and an honest block of equal work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GammaSpec {
    /// A seeded subset of honest miners with this share of the honest hash power takes the
    /// attacker's block; every other honest node takes the honest one.
    Fixed(f64),
    /// Every node keeps the block it saw first; γ is measured.
    Emergent,
}

/// The eclipsed node and the nodes that surround it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EclipseSpec {
    /// The victim.
    pub victim: NodeId,
    /// Its only peers.
    pub attackers: Vec<NodeId>,
}

/// What node and region references are checked against.
pub(super) struct Names<'a> {
    /// Node names by index.
    pub nodes: &'a [String],
    /// Region names by index; only one ("global") in a non-regional network.
    pub regions: &'a [String],
}

impl Names<'_> {
    fn listing(&self) -> String {
        let shown: Vec<&str> = self.nodes.iter().take(6).map(String::as_str).collect();
        let more = if self.nodes.len() > 6 {
            format!(", ... ({} in all)", self.nodes.len())
        } else {
            String::new()
        };
        format!("{}{more}", shown.join(", "))
    }

    /// A node by index or name.
    pub(super) fn node(
        &self,
        value: &toml::Value,
        field: &str,
        origin: &Origin<'_>,
    ) -> Result<NodeId, ScenarioError> {
        let n = self.nodes.len();
        match value {
            toml::Value::Integer(i) if *i >= 0 && (*i as u64) < n as u64 => Ok(NodeId(*i as u32)),
            toml::Value::Integer(i) => Err(origin.error(
                field,
                i,
                format!("node index must be between 0 and network.nodes - 1 = {}", n - 1),
            )),
            toml::Value::String(s) => {
                self.nodes.iter().position(|name| name == s).map(NodeId::from_index).ok_or_else(
                    || {
                        origin.error(
                            field,
                            quoted(s),
                            format!("no node of that name (its nodes: {})", self.listing()),
                        )
                    },
                )
            }
            other => Err(origin.error(field, other, "expected a node index or a node name")),
        }
    }

    /// A node or, for names that are not node names, a region of a regional network.
    fn member(
        &self,
        value: &toml::Value,
        field: &str,
        group: &mut NodeGroup,
        origin: &Origin<'_>,
    ) -> Result<(), ScenarioError> {
        if let toml::Value::String(s) = value
            && !self.nodes.contains(s)
            && self.regions.len() > 1
        {
            let region = self.regions.iter().position(|r| r == s).ok_or_else(|| {
                origin.error(
                    field,
                    quoted(s),
                    format!(
                        "no node or region of that name (regions: {}; nodes: {})",
                        self.regions.join(", "),
                        self.listing()
                    ),
                )
            })?;
            group.regions.push(region as u32);
            return Ok(());
        }
        group.nodes.push(self.node(value, field, origin)?);
        Ok(())
    }

    /// A list of nodes and regions, each named once.
    fn group(
        &self,
        list: &[toml::Value],
        field: &str,
        origin: &Origin<'_>,
    ) -> Result<NodeGroup, ScenarioError> {
        origin.check(!list.is_empty(), field, "[]", "must name at least one node or region")?;
        let mut group = NodeGroup::default();
        for (i, v) in list.iter().enumerate() {
            self.member(v, &format!("{field}[{i}]"), &mut group, origin)?;
        }
        let mut nodes = group.nodes.clone();
        nodes.sort_unstable();
        if let Some(w) = nodes.windows(2).find(|w| w[0] == w[1]) {
            return Err(origin.error(
                field,
                quoted(&self.nodes[w[0].index()]),
                "names the same node twice",
            ));
        }
        Ok(group)
    }
}

/// The strategies a scenario may name.
const STRATEGIES: [&str; 8] = [
    "private-chain",
    "double-spend",
    "selfish",
    "invalid",
    "honest",
    "cartel",
    "long-range",
    "nothing-at-stake",
];

/// A `{ share = x }` table with 0 < x < 1.
fn share_table(
    table: &toml::Table,
    field: &str,
    origin: &Origin<'_>,
) -> Result<f64, ScenarioError> {
    if let Some(key) = table.keys().find(|k| *k != "share") {
        return Err(origin.error(
            &format!("{field}.{key}"),
            &table[key],
            "unknown field; expected `share`",
        ));
    }
    let share = match table.get("share") {
        Some(toml::Value::Float(f)) => *f,
        Some(toml::Value::Integer(i)) => *i as f64,
        Some(other) => {
            return Err(origin.error(&format!("{field}.share"), other, "expected a number"));
        }
        None => {
            return Err(origin.error(&format!("{field}.share"), "(missing)", "expected a number"));
        }
    };
    origin.check(
        share > 0.0 && share < 1.0,
        &format!("{field}.share"),
        share,
        "must be a share strictly between 0 and 1",
    )?;
    Ok(share)
}

/// Checks `[[attacker]]`, filling defaults.
pub(super) fn validate_attackers(
    attackers: &mut [RawAttacker],
    names: &Names<'_>,
    is_race: bool,
    origin: &Origin<'_>,
) -> Result<Vec<AttackerSpec>, ScenarioError> {
    if is_race && !attackers.is_empty() {
        return Err(origin.error(
            "attacker",
            format!("[{} attackers]", attackers.len()),
            "does not apply to a [race], which has no network; remove [race] to run the attack on nodes",
        ));
    }
    let mut specs: Vec<AttackerSpec> = Vec::with_capacity(attackers.len());
    let mut total = 0.0;
    for (i, a) in attackers.iter_mut().enumerate() {
        let f = |name: &str| format!("attacker[{i}].{name}");
        let node_value = a.node.as_ref().ok_or_else(|| {
            origin.error(&f("node"), "(missing)", "name the attacker's node by index or name")
        })?;
        let node = names.node(node_value, &f("node"), origin)?;
        if let Some(j) = specs.iter().position(|s| s.node == node) {
            return Err(origin.error(
                &f("node"),
                node_value,
                format!("is already attacker[{j}]; one strategy per node"),
            ));
        }
        // A cartel member produces by stake, not hash power: its share defaults to 0.
        let cartel = a.strategy.as_deref() == Some("cartel");
        let share = a.share.or(cartel.then_some(0.0)).ok_or_else(|| {
            origin.error(&f("share"), "(missing)", "give the attacker's share of the total hash power (0 for a node that does not mine)")
        })?;
        origin.check(
            share.is_finite() && (0.0..1.0).contains(&share),
            &f("share"),
            share,
            "must be at least 0 and less than 1 (honest miners share the rest)",
        )?;
        total += share;
        let relay = *a.relay.get_or_insert(true);
        let strategy_name = a.strategy.clone().ok_or_else(|| {
            origin.error(&f("strategy"), "(missing)", expected_one_of(&STRATEGIES))
        })?;
        let k = f("strategy");
        // A misspelt strategy is reported as itself, not as an option that "does not apply".
        origin.known(&k, &strategy_name, &STRATEGIES)?;
        let nothing_at_stake = strategy_name == "nothing-at-stake";
        if strategy_name != "private-chain" && !cartel && !nothing_at_stake {
            origin.absent(&f("start_s"), &a.start_s, &k, &strategy_name)?;
        }
        if !nothing_at_stake {
            origin.absent(&f("max_blocks"), &a.max_blocks, &k, &strategy_name)?;
            origin.absent(&f("lottery_on"), &a.lottery_on, &k, &strategy_name)?;
        }
        if !cartel {
            origin.absent(&f("mode"), &a.mode, &k, &strategy_name)?;
            origin.absent(&f("censor"), &a.censor, &k, &strategy_name)?;
        }
        if strategy_name != "long-range" {
            origin.absent(&f("sale_s"), &a.sale_s, &k, &strategy_name)?;
            origin.absent(&f("fork_s"), &a.fork_s, &k, &strategy_name)?;
        }
        if strategy_name != "private-chain" && strategy_name != "long-range" && !nothing_at_stake {
            origin.absent(&f("publish_lead"), &a.publish_lead, &k, &strategy_name)?;
        }
        if strategy_name != "private-chain" {
            origin.absent(&f("publish_after"), &a.publish_after, &k, &strategy_name)?;
            if strategy_name != "double-spend" {
                origin.absent(&f("give_up_behind"), &a.give_up_behind, &k, &strategy_name)?;
            }
        }
        if strategy_name != "double-spend" {
            origin.absent(&f("merchant"), &a.merchant, &k, &strategy_name)?;
            origin.absent(&f("z"), &a.z, &k, &strategy_name)?;
            origin.absent(&f("pay_at_s"), &a.pay_at_s, &k, &strategy_name)?;
            origin.absent(&f("trials"), &a.trials, &k, &strategy_name)?;
        }
        if strategy_name != "invalid" {
            origin.absent(&f("every_s"), &a.every_s, &k, &strategy_name)?;
            origin.absent(&f("kinds"), &a.kinds, &k, &strategy_name)?;
            origin.absent(&f("flood_blocks"), &a.flood_blocks, &k, &strategy_name)?;
        }
        if strategy_name != "selfish" {
            origin.absent(&f("gamma"), &a.gamma, &k, &strategy_name)?;
            origin.absent(&f("publish"), &a.publish, &k, &strategy_name)?;
            origin.absent(&f("publish_on"), &a.publish_on, &k, &strategy_name)?;
        }
        let strategy = match strategy_name.as_str() {
            "honest" => StrategySpec::Honest,
            "private-chain" => {
                let start_s = origin.non_negative(&f("start_s"), *a.start_s.get_or_insert(0.0))?;
                let publish_lead = *a.publish_lead.get_or_insert(1);
                origin.check(
                    publish_lead >= 1,
                    &f("publish_lead"),
                    publish_lead,
                    "must be at least 1 (publishing while not ahead changes nothing)",
                )?;
                let publish_after = *a.publish_after.get_or_insert(0);
                if let Some(g) = a.give_up_behind {
                    origin.check(
                        g >= 1,
                        &f("give_up_behind"),
                        g,
                        "must be at least 1 (leave it out to never give up)",
                    )?;
                }
                StrategySpec::PrivateChain(PrivateChainSpec {
                    start: SimTime::ZERO + SimDuration::from_secs_f64(start_s),
                    publish_lead,
                    publish_after,
                    give_up_behind: a.give_up_behind,
                })
            }
            "double-spend" => {
                let merchant_value = a.merchant.as_ref().ok_or_else(|| {
                    origin.error(&f("merchant"), "(missing)", "name the merchant's node")
                })?;
                let merchant = names.node(merchant_value, &f("merchant"), origin)?;
                origin.check(
                    merchant != node,
                    &f("merchant"),
                    merchant_value,
                    "must be another node than the attacker",
                )?;
                let z = *a.z.get_or_insert(6);
                origin.check(z <= 1000, &f("z"), z, "must be at most 1000")?;
                let pay_at_s =
                    origin.non_negative(&f("pay_at_s"), *a.pay_at_s.get_or_insert(0.0))?;
                if let Some(g) = a.give_up_behind {
                    origin.check(
                        g >= 1,
                        &f("give_up_behind"),
                        g,
                        "must be at least 1 (leave it out to never give up)",
                    )?;
                }
                let trials = *a.trials.get_or_insert(1);
                origin.check(
                    (1..=10_000_000).contains(&trials),
                    &f("trials"),
                    trials,
                    "must be between 1 and 10000000",
                )?;
                StrategySpec::DoubleSpend(DoubleSpendSpec {
                    merchant,
                    z,
                    pay_at: SimTime::ZERO + SimDuration::from_secs_f64(pay_at_s),
                    give_up_behind: a.give_up_behind,
                    trials,
                })
            }
            "selfish" => {
                let value =
                    a.gamma.get_or_insert_with(|| toml::Value::String("emergent".to_string()));
                let gamma = match value {
                    toml::Value::String(s) if s == "emergent" => GammaSpec::Emergent,
                    toml::Value::Float(g) => GammaSpec::Fixed(origin.probability(&f("gamma"), *g)?),
                    toml::Value::Integer(g) => {
                        GammaSpec::Fixed(origin.probability(&f("gamma"), *g as f64)?)
                    }
                    other => {
                        return Err(origin.error(
                            &f("gamma"),
                            &*other,
                            "expected a share of honest hash power between 0 and 1, or \"emergent\"",
                        ));
                    }
                };
                let publish = match a.publish.get_or_insert_with(|| "relay".to_string()).as_str() {
                    "relay" => PublishVia::Relay,
                    "push" => PublishVia::Push,
                    "compact" => PublishVia::Compact,
                    other => {
                        return Err(origin.error(
                            &f("publish"),
                            quoted(other),
                            "expected \"relay\" (as the relay protocol announces a mined block), \"push\" (the whole block to every peer) or \"compact\" (a cmpctblock to every BIP152 peer)",
                        ));
                    }
                };
                let on_header = match a
                    .publish_on
                    .get_or_insert_with(|| "header".to_string())
                    .as_str()
                {
                    "header" => true,
                    "block" => false,
                    other => {
                        return Err(origin.error(
                                &f("publish_on"),
                                quoted(other),
                                "expected \"header\" (answer a competing block when a peer announces it) or \"block\" (once the pool has validated it)",
                            ));
                    }
                };
                StrategySpec::Selfish { gamma, publish, on_header }
            }
            "invalid" => StrategySpec::Invalid(invalid_spec(a, i, origin)?),
            "cartel" => StrategySpec::Cartel(super::cartel::cartel_spec(a, i, names, origin)?),
            "long-range" => StrategySpec::LongRange(long_range_spec(a, i, origin)?),
            "nothing-at-stake" => {
                StrategySpec::NothingAtStake(nothing_at_stake_spec(a, i, origin)?)
            }
            other => return Err(origin.unknown(&k, other, &STRATEGIES)),
        };
        specs.push(AttackerSpec { node, share, relay, strategy });
    }
    origin.check(
        total < 1.0,
        "attacker",
        format!("[shares summing to {total}]"),
        "the attackers' shares must sum to less than 1 (honest miners need some hash power)",
    )?;
    Ok(specs)
}

/// `attacker[i].publish_lead` (default 1), at least 1: `what` is published once it is that
/// many blocks longer than the honest chain.
fn publish_lead(
    a: &mut RawAttacker,
    i: usize,
    what: &str,
    origin: &Origin<'_>,
) -> Result<u32, ScenarioError> {
    let publish_lead = *a.publish_lead.get_or_insert(1);
    origin.check(
        publish_lead >= 1,
        &format!("attacker[{i}].publish_lead"),
        publish_lead,
        format!("must be at least 1 ({what} is published once it is that many blocks longer)"),
    )?;
    Ok(publish_lead)
}

/// Checks the options of `attacker[i]` with `strategy = "long-range"`, filling defaults:
/// a sale after time 0, a fork point no later than the sale, a lead of at least one block.
fn long_range_spec(
    a: &mut RawAttacker,
    i: usize,
    origin: &Origin<'_>,
) -> Result<LongRangeSpec, ScenarioError> {
    let f = |name: &str| format!("attacker[{i}].{name}");
    let sale_s = a.sale_s.ok_or_else(|| {
        origin.error(
            &f("sale_s"),
            "(missing)",
            "give the time of the sale of the old keys' stake, in seconds",
        )
    })?;
    origin.check(
        sale_s.is_finite() && sale_s > 0.0,
        &f("sale_s"),
        sale_s,
        "must be a time after 0 s (the old keys stake honestly before the sale)",
    )?;
    let fork_s = *a.fork_s.get_or_insert(sale_s);
    origin.check(
        fork_s.is_finite() && (0.0..=sale_s).contains(&fork_s),
        &f("fork_s"),
        fork_s,
        format!("must lie between 0 and the sale (sale_s = {sale_s}): the fork leaves the chain before the stake is sold"),
    )?;
    let publish_lead = publish_lead(a, i, "the fork", origin)?;
    let at = |s: f64| SimTime::ZERO + SimDuration::from_secs_f64(s);
    Ok(LongRangeSpec { sale: at(sale_s), fork: at(fork_s), publish_lead })
}

/// The default bound on a nothing-at-stake attacker's tree (`attacker[i].max_blocks`).
pub const NOTHING_AT_STAKE_MAX_BLOCKS: u32 = 64;

/// The largest bound a scenario may give (each kept block costs one VRF evaluation a slot).
const NOTHING_AT_STAKE_MAX_BLOCKS_LIMIT: u32 = 4096;

/// Checks the options of `attacker[i]` with `strategy = "nothing-at-stake"`, filling
/// defaults: a start at or after 0, a bound between 1 and 4096 blocks, a lead of at least
/// one block, and `lottery_on` one of "every-block" and "tip".
fn nothing_at_stake_spec(
    a: &mut RawAttacker,
    i: usize,
    origin: &Origin<'_>,
) -> Result<NothingAtStakeSpec, ScenarioError> {
    let f = |name: &str| format!("attacker[{i}].{name}");
    let start_s = origin.non_negative(&f("start_s"), *a.start_s.get_or_insert(0.0))?;
    let max_blocks = *a.max_blocks.get_or_insert(NOTHING_AT_STAKE_MAX_BLOCKS);
    origin.check(
        (1..=NOTHING_AT_STAKE_MAX_BLOCKS_LIMIT).contains(&max_blocks),
        &f("max_blocks"),
        max_blocks,
        format!(
            "must be between 1 and {NOTHING_AT_STAKE_MAX_BLOCKS_LIMIT} (the blocks of its tree the attacker keeps, each one VRF evaluation a slot)"
        ),
    )?;
    let publish_lead = publish_lead(a, i, "a branch", origin)?;
    let name = a.lottery_on.get_or_insert_with(|| LotteryOn::EveryBlock.name().to_string());
    let names = LotteryOn::ALL.map(LotteryOn::name);
    origin.known(&f("lottery_on"), name, &names)?;
    let lottery_on = LotteryOn::ALL
        .into_iter()
        .find(|l| l.name() == name.as_str())
        .expect("checked against the names");
    Ok(NothingAtStakeSpec {
        start: SimTime::ZERO + SimDuration::from_secs_f64(start_s),
        max_blocks,
        publish_lead,
        lottery_on,
    })
}

/// Checks the options of `attacker[i]` with `strategy = "invalid"`, filling defaults.
fn invalid_spec(
    a: &mut RawAttacker,
    i: usize,
    origin: &Origin<'_>,
) -> Result<InvalidSpec, ScenarioError> {
    let f = |name: &str| format!("attacker[{i}].{name}");
    let every_s = *a.every_s.get_or_insert(60.0);
    origin.check(
        every_s.is_finite() && every_s >= 0.001,
        &f("every_s"),
        every_s,
        "must be at least 0.001 (seconds between two items of bad data)",
    )?;
    let names = a
        .kinds
        .get_or_insert_with(|| InvalidKind::ALL.iter().map(|k| k.name().to_string()).collect());
    origin.check(!names.is_empty(), &f("kinds"), "[]", "name at least one kind of bad data")?;
    let mut kinds = Vec::with_capacity(names.len());
    for (j, name) in names.iter().enumerate() {
        let field = format!("attacker[{i}].kinds[{j}]");
        let Some(kind) = InvalidKind::ALL.iter().copied().find(|k| k.name() == name) else {
            let all: Vec<String> = InvalidKind::ALL.iter().map(|k| quoted(k.name())).collect();
            return Err(origin.error(&field, quoted(name), format!("expected {}", all.join(", "))));
        };
        origin.check(!kinds.contains(&kind), &field, quoted(name), "is named twice")?;
        kinds.push(kind);
    }
    let flood_blocks = *a.flood_blocks.get_or_insert(50);
    origin.check(
        (1..=10_000).contains(&flood_blocks),
        &f("flood_blocks"),
        flood_blocks,
        "must be between 1 and 10000",
    )?;
    Ok(InvalidSpec { every: SimDuration::from_secs_f64(every_s), kinds, flood_blocks })
}

/// Checks `network.eclipse`.
pub(super) fn validate_eclipse(
    e: &RawEclipse,
    names: &Names<'_>,
    origin: &Origin<'_>,
) -> Result<EclipseSpec, ScenarioError> {
    let victim_value = e.victim.as_ref().ok_or_else(|| {
        origin.error("network.eclipse.victim", "(missing)", "name the eclipsed node")
    })?;
    let victim = names.node(victim_value, "network.eclipse.victim", origin)?;
    let list = e.attackers.as_deref().unwrap_or_default();
    origin.check(
        !list.is_empty(),
        "network.eclipse.attackers",
        "[]",
        "name at least one node for the victim to connect to",
    )?;
    let mut attackers = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let field = format!("network.eclipse.attackers[{i}]");
        let node = names.node(v, &field, origin)?;
        origin.check(node != victim, &field, v, "is the victim itself")?;
        origin.check(!attackers.contains(&node), &field, v, "is named twice")?;
        attackers.push(node);
    }
    Ok(EclipseSpec { victim, attackers })
}

/// Which nodes are offline, as far as the timeline's explicit lists tell.
#[derive(Default)]
struct Offline {
    nodes: Vec<NodeId>,
    /// Set once nodes leave by share or by region: which are offline is then only known when
    /// the run builds the network, so rejoins can no longer be checked here.
    uncertain: bool,
}

/// Checks a `partition`: a list of groups or `{ share = x }`.
fn partition(
    value: &toml::Value,
    field: &str,
    names: &Names<'_>,
    origin: &Origin<'_>,
) -> Result<PartitionSpec, ScenarioError> {
    let groups = match value {
        toml::Value::Table(t) => return Ok(PartitionSpec::Share(share_table(t, field, origin)?)),
        toml::Value::Array(groups) => groups,
        other => {
            return Err(origin.error(
                field,
                other,
                "expected a list of groups, e.g. [[\"a\", \"b\"], [\"c\"]], or { share = 0.5 }",
            ));
        }
    };
    origin.check(!groups.is_empty(), field, "[]", "list at least one group")?;
    let mut parsed: Vec<NodeGroup> = Vec::with_capacity(groups.len());
    for (g, group) in groups.iter().enumerate() {
        let gfield = format!("{field}[{g}]");
        let toml::Value::Array(list) = group else {
            return Err(origin.error(
                &gfield,
                group,
                "expected a list of nodes or region names, e.g. [\"a\", \"b\"]",
            ));
        };
        let group = names.group(list, &gfield, origin)?;
        for prior in &parsed {
            if let Some(n) = group.nodes.iter().find(|n| prior.nodes.contains(n)) {
                let name = quoted(&names.nodes[n.index()]);
                return Err(origin.error(
                    &gfield,
                    name,
                    "this node is already in an earlier group",
                ));
            }
            if let Some(r) = group.regions.iter().find(|r| prior.regions.contains(r)) {
                let name = quoted(&names.regions[*r as usize]);
                return Err(origin.error(
                    &gfield,
                    name,
                    "this region is already in an earlier group",
                ));
            }
        }
        parsed.push(group);
    }
    let listed: usize = parsed.iter().map(|g| g.nodes.len()).sum();
    let only_nodes = parsed.iter().all(|g| g.regions.is_empty());
    origin.check(
        !(parsed.len() == 1 && only_nodes && listed == names.nodes.len()),
        field,
        format!("[1 group of all {listed} nodes]"),
        "a partition needs at least two groups",
    )?;
    Ok(PartitionSpec::Groups(parsed))
}

/// Checks a `leave` (a list of nodes and regions, or `{ share = x }`) or, with `leaving`
/// false, a `rejoin` (a list of nodes and regions, or "all").
fn churn(
    value: &toml::Value,
    field: &str,
    names: &Names<'_>,
    offline: &mut Offline,
    leaving: bool,
    origin: &Origin<'_>,
) -> Result<Members, ScenarioError> {
    match value {
        toml::Value::Table(t) if leaving => {
            offline.uncertain = true;
            Ok(Members::Share(share_table(t, field, origin)?))
        }
        toml::Value::String(s) if !leaving && s == "all" => {
            *offline = Offline::default();
            Ok(Members::All)
        }
        toml::Value::Array(list) => {
            let group = names.group(list, field, origin)?;
            offline.uncertain |= leaving && !group.regions.is_empty();
            for n in &group.nodes {
                let pos = offline.nodes.iter().position(|o| o == n);
                let (ok, problem) = if leaving {
                    (pos.is_none(), "is already offline (it left earlier and has not rejoined)")
                } else {
                    (
                        pos.is_some() || offline.uncertain,
                        "is not offline (no earlier `leave` names it)",
                    )
                };
                origin.check(ok, field, quoted(&names.nodes[n.index()]), problem)?;
                match (leaving, pos) {
                    (true, _) => offline.nodes.push(*n),
                    (false, Some(p)) => {
                        offline.nodes.remove(p);
                    }
                    (false, None) => {}
                }
            }
            Ok(Members::Listed(group))
        }
        other => {
            let expected = if leaving { "{ share = 0.1 }" } else { "\"all\"" };
            Err(origin.error(
                field,
                other,
                format!("expected a list of nodes or region names, or {expected}"),
            ))
        }
    }
}

/// Checks `[[timeline]]`: times never decrease, one action per entry, every name known,
/// and explicitly named nodes leave only while online and rejoin only while offline.
pub(super) fn validate_timeline(
    events: &[RawTimelineEvent],
    names: &Names<'_>,
    origin: &Origin<'_>,
) -> Result<Vec<TimelineEvent>, ScenarioError> {
    let mut out = Vec::with_capacity(events.len());
    let mut previous: Option<(usize, f64)> = None;
    let mut offline = Offline::default();
    for (i, e) in events.iter().enumerate() {
        let f = |name: &str| format!("timeline[{i}].{name}");
        let at_s = e.at_s.ok_or_else(|| {
            origin.error(&f("at_s"), "(missing)", "give the virtual time in seconds")
        })?;
        let at_s = origin.non_negative(&f("at_s"), at_s)?;
        if let Some((j, before)) = previous {
            origin.check(
                at_s >= before,
                &f("at_s"),
                at_s,
                format!(
                    "is before timeline[{j}].at_s = {before}; list timeline entries in time order"
                ),
            )?;
        }
        previous = Some((i, at_s));
        let given =
            [e.partition.is_some(), e.heal.is_some(), e.leave.is_some(), e.rejoin.is_some()];
        let count = given.iter().filter(|g| **g).count();
        origin.check(
            count == 1,
            &format!("timeline[{i}]"),
            format!("[{count} actions]"),
            "needs exactly one of `partition`, `heal`, `leave` or `rejoin`",
        )?;
        let action = match (&e.partition, e.heal, &e.leave, &e.rejoin) {
            (Some(p), ..) => {
                TimelineAction::Partition(partition(p, &f("partition"), names, origin)?)
            }
            (_, Some(heal), ..) => {
                origin.check(
                    heal,
                    &f("heal"),
                    heal,
                    "write `heal = true` to restore the cut links",
                )?;
                TimelineAction::Heal
            }
            (_, _, Some(v), _) => {
                TimelineAction::Leave(churn(v, &f("leave"), names, &mut offline, true, origin)?)
            }
            (_, _, _, Some(v)) => {
                TimelineAction::Rejoin(churn(v, &f("rejoin"), names, &mut offline, false, origin)?)
            }
            _ => unreachable!("exactly one action was checked above"),
        };
        out.push(TimelineEvent { at: SimTime::ZERO + SimDuration::from_secs_f64(at_s), action });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::from_str;
    use std::path::Path;

    fn load(text: &str) -> crate::scenario::Scenario {
        from_str(text, Path::new("t.toml"), &[], None).unwrap()
    }

    #[test]
    fn attackers_eclipse_and_timeline_resolve_names_regions_and_defaults() {
        let s = load(
            r#"
[network]
nodes = 20
regions = "bitcoin-2019"
eclipse = { victim = "n3", attackers = [1, "n2"] }

[[attacker]]
node = "n1"
strategy = "selfish"
share = 0.25

[[attacker]]
node = 2
strategy = "private-chain"
share = 0.1
publish_after = 6

[[timeline]]
at_s = 10
partition = [["europe", "n4"], ["n5"]]

[[timeline]]
at_s = 10
leave = ["asia_pacific"]

[[timeline]]
at_s = 20
rejoin = "all"
"#,
        );
        assert_eq!(s.attackers[0].node, NodeId(1));
        assert_eq!(
            s.attackers[0].strategy,
            StrategySpec::Selfish {
                gamma: GammaSpec::Emergent,
                publish: PublishVia::Relay,
                on_header: true
            }
        );
        let StrategySpec::PrivateChain(p) = s.attackers[1].strategy else { panic!() };
        assert_eq!((p.publish_lead, p.publish_after, p.give_up_behind), (1, 6, None));
        assert!(s.attackers.iter().all(|a| a.relay));
        assert_eq!(
            s.eclipse,
            Some(EclipseSpec { victim: NodeId(3), attackers: vec![NodeId(1), NodeId(2)] })
        );
        let TimelineAction::Partition(PartitionSpec::Groups(groups)) = &s.timeline[0].action else {
            panic!("{:?}", s.timeline[0]);
        };
        assert_eq!(groups[0], NodeGroup { nodes: vec![NodeId(4)], regions: vec![1] });
        assert_eq!(groups[1], NodeGroup { nodes: vec![NodeId(5)], regions: vec![] });
        assert_eq!(s.timeline[2].action, TimelineAction::Rejoin(Members::All));
        // Defaults are written back for the manifest.
        assert_eq!(s.resolved.attacker[0].gamma, Some(toml::Value::String("emergent".into())));
        assert_eq!(s.resolved.attacker[1].relay, Some(true));
    }

    #[test]
    fn honest_scenarios_resolve_without_attack_tables() {
        let s = load("[network]\nnodes = 20\n");
        assert!(s.attackers.is_empty() && s.eclipse.is_none() && s.timeline.is_empty());
        let json = serde_json::to_string(&s.resolved).unwrap();
        assert!(
            !json.contains("attacker") && !json.contains("timeline") && !json.contains("eclipse")
        );
    }
}
