//! The `double_spend` section of `summary.json`: what the merchant saw and did, whether the
//! payment was reversed, what the attack cost the attacker, and the closed forms for the
//! same attacker share and depth.

use serde::Serialize;

use crate::analytic;
use crate::chain::BlockStore;
use crate::results::DoubleSpendOutcome;

/// One double spend's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DoubleSpendSummary {
    /// The merchant's node.
    pub merchant: String,
    /// Confirmations it waited for.
    pub z: u32,
    /// The attacker's share of the hash power.
    pub q: f64,
    /// When the attacker paid, in seconds (absent if the run ended first).
    pub paid_at_s: Option<f64>,
    /// When the merchant shipped.
    pub shipped_at_s: Option<f64>,
    /// When its chain came to hold the conflicting version (the attack succeeded).
    pub reversed_at_s: Option<f64>,
    /// From payment to reversal.
    pub time_to_success_s: Option<f64>,
    /// Whether the double spend succeeded.
    pub success: bool,
    /// The attacker gave up.
    pub gave_up: bool,
    /// The race was cut off (catching up had probability below 10^-12).
    pub cut_off: bool,
    /// Blocks the attacker mined after paying that are not in the final main chain.
    pub attacker_blocks_lost: u64,
    /// Closed forms for q and z.
    pub closed_form: ClosedForms,
}

/// The double spend's closed forms for the same q and z.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ClosedForms {
    /// The exact probability when drawing level suffices (the race mode's definition).
    pub exact_level: f64,
    /// The exact probability when the attacker must get strictly ahead, as on a network of
    /// nodes that keep the block they saw first.
    pub exact_ahead: f64,
    /// Nakamoto's Poisson approximation (section 11).
    pub nakamoto: f64,
    /// Under `pos-slot`: the slot race's closed forms (absent under proof of work).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slots: Option<SlotClosedForms>,
}

/// The double spend's closed forms on a slot lottery (`analytic::pos_slot_*`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SlotClosedForms {
    /// The active-slot coefficient f.
    pub active_slot_coeff: f64,
    /// q' = a(1 − h) / (a(1 − h) + h(1 − a)): the attacker's share of the slots only one
    /// side leads.
    pub effective_share: f64,
    /// The attacker must end strictly ahead (a network of nodes keeping the first block
    /// they saw).
    pub exact_ahead: f64,
    /// Drawing level suffices (the race mode's definition).
    pub exact_level: f64,
}

impl ClosedForms {
    /// The closed forms for `q`, `z` (NaN outside their domain, q in (0, 1)).
    pub fn of(q: f64, z: u32) -> ClosedForms {
        ClosedForms {
            exact_level: analytic::exact_attacker_success(q, z).unwrap_or(f64::NAN),
            exact_ahead: analytic::exact_attacker_success_ahead(q, z).unwrap_or(f64::NAN),
            nakamoto: analytic::nakamoto_attacker_success(q, z).unwrap_or(f64::NAN),
            slots: None,
        }
    }

    /// The closed forms for `q`, `z`, and those of the slot race with coefficient `f` if the
    /// race runs on a slot lottery.
    pub fn for_race(q: f64, f: Option<f64>, z: u32) -> ClosedForms {
        f.map_or_else(|| ClosedForms::of(q, z), |f| ClosedForms::of_slots(q, f, z))
    }

    /// The closed forms for stake `q` on a slot lottery with active-slot coefficient `f`,
    /// beside the block race's for the same `q` (NaN outside their domain).
    pub fn of_slots(q: f64, f: f64, z: u32) -> ClosedForms {
        let nan = |r: Result<f64, analytic::AnalyticError>| r.unwrap_or(f64::NAN);
        ClosedForms {
            slots: Some(SlotClosedForms {
                active_slot_coeff: f,
                effective_share: nan(analytic::pos_slot_effective_share(q, f)),
                exact_ahead: nan(analytic::pos_slot_attacker_success_ahead(q, f, z)),
                exact_level: nan(analytic::pos_slot_attacker_success(q, f, z)),
            }),
            ..ClosedForms::of(q, z)
        }
    }
}

/// The summary of `d` at the end of a run whose final main chain is `in_main`.
pub fn summarize(
    d: &DoubleSpendOutcome,
    store: &BlockStore,
    in_main: &[bool],
    names: &[String],
) -> DoubleSpendSummary {
    let secs = |t: Option<crate::time::SimTime>| t.map(|t| t.as_secs_f64());
    let paid = d.paid_at;
    let lost = paid.map_or(0, |paid| {
        store
            .ids()
            .filter(|&b| {
                let s = store.get(b);
                s.meta.miner == Some(d.attacker) && s.meta.mined_at >= paid && !in_main[b.index()]
            })
            .count() as u64
    });
    let reversed = d.reversed_at;
    DoubleSpendSummary {
        merchant: names[d.merchant.index()].clone(),
        z: d.z,
        q: d.q,
        paid_at_s: secs(paid),
        shipped_at_s: secs(d.shipped_at),
        reversed_at_s: secs(reversed),
        time_to_success_s: reversed.zip(paid).map(|(r, p)| (r - p).as_secs_f64()),
        success: reversed.is_some(),
        gave_up: d.gave_up,
        cut_off: d.cut_off,
        attacker_blocks_lost: lost,
        closed_form: ClosedForms::for_race(d.q, d.slot_coeff, d.z),
    }
}
