//! Coin-age proof of stake in a run: every stakeholder's stake output, the kernel scan that
//! elects the next minter, every node's check of a coin-age block, and each output's coin-age
//! and value along every chain.
//!
//! [`super::coinage`] has the pure maths (coin-age, the SHA-256 kernel, minting, interest).
//! A run adds stakeholders, time and forks:
//!
//! - **Stake.** Each stakeholder (`[stake] shares`, or the hash-power shares) holds one stake
//!   output of `share × ` [`SUPPLY_COINS`] coins, ageing from genesis. The stake ledger is
//!   kept apart from the payment UTXO set: payments never move stake, and minting pays its
//!   interest into the stake output, not into a wallet.
//! - **Leader election (exact, by scanning).** As in Peercoin, an output may try the kernel
//!   once per whole second `t`: SHA-256(modifier ‖ output id ‖ t) below
//!   `target_per_coin_day × coin-days(t)`. The modifier is the hash of the block the minter
//!   builds on, so every node can recompute it. A producer hashes only its own output, second
//!   by second, ahead of time in chunks of [`SCAN_CHUNK_S`] seconds: at the start of a chunk
//!   it hashes the chunk's seconds and sets its timer at the first hit, or at the chunk's end
//!   to hash the next one. When its tip changes (new modifier, new coin-ages) it starts
//!   again from the current second. Every second that passes is hashed once per stake output
//!   (Peercoin's own cost), plus at most one chunk per output and tip change that the tip
//!   change makes void; nothing is drawn at random in place of the kernel.
//! - **Calibration.** Under the `reset` convention an output of v coins, its age restarted
//!   at its last mint τ seconds ago, hits in a second with probability c · v · τ / 86,400
//!   (c = target · 2⁻⁶⁴ per coin-day): its time between mints has hazard κτ with
//!   κ = c · v / 86,400, a Rayleigh law with mean √(π / 2κ). The outputs mint independently
//!   (a hash per output and second), so the network's block rate is
//!   Σᵢ √(2κᵢ/π) = √(2c / (86,400 π)) · Σᵢ √vᵢ, and a mean interval I needs
//!   **c = 86,400 π / (2 I² (Σᵢ √vᵢ)²)**, target = c · 2⁶⁴ ([`calibrated_target`]). The
//!   share of blocks of output i is √vᵢ / Σⱼ √vⱼ: coin-age makes small holders mint more
//!   often than their stake (they wait longer and so build more age per coin). Under
//!   `365-days` a mint consumes at most 365 coin-days; when the outputs build more than that
//!   between their mints (the chain's supply builds V/86,400 coin-days a second) ages pile up
//!   and the chain runs faster, at one block per 365 · 86,400 / V seconds at most.
//! - **Claim and proof.** The seal's claim is `t · 2²⁰ + output` ([`claim`]). Every node
//!   checks ([`CoinageRules::check`]): the output exists and its time is after the parent's
//!   and not ahead of the node's clock, else `bad-kernel`; the output belongs to the producer,
//!   else `wrong-stake-owner`; the kernel at t with the parent's hash is below the threshold
//!   for the output's coin-age on the parent's chain, else `bad-kernel`; the producer's
//!   ed25519 signature, else `bad-block-signature`. Checking costs one signature
//!   verification (and one SHA-256).
//! - **Minting per chain.** When a block is stored, [`CoinageRun::note_block`] mints its
//!   output as it stood on the parent's chain ([`super::coinage::Stake::mint`]: coin-age
//!   consumed by the scenario's convention, interest paid into the output) and keeps the
//!   output's new state with the block. An output's state on a chain is the one kept with
//!   the newest block on that chain that minted it (or its genesis state): a reorganisation
//!   undoes a mint simply by leaving its block.
//! - **Fork choice.** Most chain trust, with Peercoin's original definition: the total
//!   coin-age consumed by the chain's blocks (first seen on ties). Finality: z confirmations.

use serde::Serialize;
use thiserror::Error;

use super::coinage::{Consumption, Minted, Stake, UNITS_PER_COIN};
use super::seal::{SIGNATURE_VERIFY_COST, SignedSeal};
use super::{ConsensusKind, Rule};
use crate::chain::block::Header;
use crate::chain::keys::KeyPair;
use crate::chain::{BlockId, BlockStore, RejectReason};
use crate::id::NodeId;
use crate::time::{SimDuration, SimTime, TICKS_PER_SEC};

/// The tag a coin-age minter signs with its claim.
pub const COINAGE_TAG: &[u8] = b"forksim-coinage-v1";
/// Coins of stake in a run, shared out by the stake shares.
pub const SUPPLY_COINS: u64 = 1_000_000;
/// Seconds a producer hashes ahead in one go.
pub const SCAN_CHUNK_S: u64 = 600;
/// Bits of the claim that carry the output.
const OUTPUT_BITS: u32 = 20;

/// The claim of a kernel hit of `output` at second `time_s`.
pub fn claim(time_s: u64, output: u32) -> u64 {
    (time_s << OUTPUT_BITS) | u64::from(output)
}

/// The second and output of a claim.
pub fn split_claim(claim: u64) -> (u64, u32) {
    (claim >> OUTPUT_BITS, (claim & ((1 << OUTPUT_BITS) - 1)) as u32)
}

/// `target_per_coin_day` for a mean block interval `interval` over outputs of
/// `values_coins` under the `reset` convention (see the module docs).
pub fn calibrated_target(interval: SimDuration, values_coins: &[f64]) -> u64 {
    let sum_sqrt: f64 = values_coins.iter().map(|v| v.sqrt()).sum();
    let i = interval.as_secs_f64();
    let c = 86_400.0 * std::f64::consts::PI / (2.0 * i * i * sum_sqrt * sum_sqrt);
    let target = c * 2f64.powi(64);
    if target >= u64::MAX as f64 { u64::MAX } else { target.max(1.0) as u64 }
}

/// Why a coin-age block's seal is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CoinageSealError {
    /// No seal, no such output, a time not after the parent's or ahead of the clock, or a
    /// kernel above its threshold.
    #[error("bad kernel: {0}")]
    Kernel(&'static str),
    /// The output belongs to another node.
    #[error("stake output {output} belongs to node {owner}, not node {producer}")]
    WrongOwner {
        /// The output.
        output: u32,
        /// Its owner.
        owner: NodeId,
        /// Who signed.
        producer: NodeId,
    },
    /// The signature does not verify.
    #[error("the minter's signature does not verify")]
    Signature,
}

impl CoinageSealError {
    /// The reason a node counts.
    pub fn reject_reason(&self) -> RejectReason {
        match self {
            CoinageSealError::Kernel(_) => RejectReason::BadKernel,
            CoinageSealError::WrongOwner { .. } => RejectReason::WrongStakeOwner,
            CoinageSealError::Signature => RejectReason::BadBlockSignature,
        }
    }
}

/// What every node of a `pos-coinage` run agrees on.
#[derive(Clone, Debug)]
pub struct CoinageRules {
    /// Fork choice (most chain trust) and finality (z confirmations).
    pub rule: Rule,
    /// The kernel target per coin-day.
    pub target_per_coin_day: u64,
    /// Stake outputs at genesis (index = output).
    pub genesis: Vec<Stake>,
    /// Owner of each output.
    pub owners: Vec<NodeId>,
    /// Owners' public signing keys, per output.
    keys: Vec<[u8; 32]>,
    /// Per node: its output, or `u32::MAX`.
    output_of: Vec<u32>,
}

impl CoinageRules {
    /// Rules for `genesis` outputs owned by `owners` with public `keys` (same order), in a
    /// run of `node_count` nodes, finality at `confirmations`.
    pub fn new(
        target_per_coin_day: u64,
        genesis: Vec<Stake>,
        owners: Vec<NodeId>,
        keys: Vec<[u8; 32]>,
        node_count: usize,
        confirmations: u64,
    ) -> CoinageRules {
        let mut output_of = vec![u32::MAX; node_count];
        for (k, n) in owners.iter().enumerate() {
            output_of[n.index()] = k as u32;
        }
        CoinageRules {
            rule: Rule::for_kind(ConsensusKind::PosCoinage, confirmations, 0),
            target_per_coin_day,
            genesis,
            owners,
            keys,
            output_of,
        }
    }

    /// Modelled time a node spends on a seal: one signature verification (the kernel's
    /// single SHA-256 is negligible beside it).
    pub fn seal_cost(&self) -> SimDuration {
        SIGNATURE_VERIFY_COST
    }

    /// The stake output of `node`, if it holds stake.
    pub fn output_of(&self, node: NodeId) -> Option<u32> {
        match self.output_of.get(node.index()) {
            Some(&o) if o != u32::MAX => Some(o),
            _ => None,
        }
    }

    /// Seals `header` for `producer` with its kernel hit `claim`.
    pub fn seal(header: &Header, producer: NodeId, claim: u64, key: &KeyPair) -> SignedSeal {
        SignedSeal::sign(header, COINAGE_TAG, producer, claim, key)
    }

    /// The first second in `from..to` at which `stake` hits with `modifier`, if any.
    pub fn first_hit(&self, stake: &Stake, modifier: &[u8; 32], from: u64, to: u64) -> Option<u64> {
        (from..to).find(|&t| {
            stake.kernel_hit(modifier, SimTime(t * TICKS_PER_SEC), self.target_per_coin_day, None)
        })
    }

    /// Every node's check of `block`'s seal at `now` (see the module docs).
    ///
    /// # Errors
    ///
    /// The first check that fails.
    pub fn check(
        &self,
        run: &CoinageRun,
        seals: &super::seal::Seals,
        store: &BlockStore,
        block: BlockId,
        now: SimTime,
    ) -> Result<(), CoinageSealError> {
        let seal = seals.signed(block).ok_or(CoinageSealError::Kernel("no seal"))?;
        let (time_s, output) = split_claim(seal.claim);
        let owner = *self
            .owners
            .get(output as usize)
            .ok_or(CoinageSealError::Kernel("no such stake output"))?;
        let parent = store.get(block).parent.expect("genesis is never relayed");
        if time_s <= run.time_s(seals, parent) {
            return Err(CoinageSealError::Kernel("time not after the parent's"));
        }
        if SimTime(time_s * TICKS_PER_SEC) > now {
            return Err(CoinageSealError::Kernel("time ahead of the node's clock"));
        }
        if owner != seal.producer {
            return Err(CoinageSealError::WrongOwner { output, owner, producer: seal.producer });
        }
        let stake = run.stake_on(store, parent, output);
        let modifier = store.get(parent).hash.0;
        let at = SimTime(time_s * TICKS_PER_SEC);
        if !stake.kernel_hit(&modifier, at, self.target_per_coin_day, None) {
            return Err(CoinageSealError::Kernel("kernel above the coin-age threshold"));
        }
        if !seal.verifies(&store.get(block).block.header, COINAGE_TAG, &self.keys[output as usize])
        {
            return Err(CoinageSealError::Signature);
        }
        Ok(())
    }
}

/// One block's mint: its output, the output's state after the mint, and what it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MintRecord {
    /// The output that minted.
    pub output: u32,
    /// The kernel's second.
    pub time_s: u64,
    /// The output after the mint.
    pub after: Stake,
    /// Coin-age consumed and interest paid.
    pub minted: Minted,
}

/// Every output's coin-age and value along every chain, derived from the blocks.
#[derive(Clone, Debug)]
pub struct CoinageRun {
    owners: Vec<NodeId>,
    consumption: Consumption,
    rate_ppm: u64,
    genesis: Vec<Stake>,
    /// Per block id: its mint (none for genesis).
    minted: Vec<Option<MintRecord>>,
    /// Per output: the blocks that minted it, in the order they were stored.
    mints_of: Vec<Vec<BlockId>>,
    /// Per block id: the chain trust (coin-age consumed, units × s) of the chain ending at it.
    trust: Vec<u128>,
    /// Kernel hashes computed by the producers.
    pub kernel_hashes: u64,
}

impl CoinageRun {
    /// A run over `genesis` outputs of `owners`, minting by `consumption` at `rate_ppm` a
    /// year.
    pub fn new(
        genesis: Vec<Stake>,
        owners: Vec<NodeId>,
        consumption: Consumption,
        rate_ppm: u64,
    ) -> CoinageRun {
        let mints_of = vec![Vec::new(); genesis.len()];
        CoinageRun {
            owners,
            consumption,
            rate_ppm,
            genesis,
            minted: vec![None],
            mints_of,
            trust: vec![0],
            kernel_hashes: 0,
        }
    }

    /// The consumption convention.
    pub fn consumption(&self) -> Consumption {
        self.consumption
    }

    /// The kernel second of `block` (0 for genesis or a block without a coin-age seal).
    pub fn time_s(&self, seals: &super::seal::Seals, block: BlockId) -> u64 {
        seals.signed(block).map_or(0, |s| split_claim(s.claim).0)
    }

    /// `output` as it stands on the chain ending at `tip`.
    pub fn stake_on(&self, store: &BlockStore, tip: BlockId, output: u32) -> Stake {
        let mints = &self.mints_of[output as usize];
        for &b in mints.iter().rev() {
            if b.index() <= tip.index() && store.is_ancestor(b, tip) {
                return self.minted[b.index()].expect("a minting block has its record").after;
            }
        }
        self.genesis[output as usize]
    }

    /// Mints `block`'s output (from its `seal`), just stored, as it stood on the parent's
    /// chain, and keeps the result and the chain trust.
    pub fn note_block(&mut self, store: &BlockStore, block: BlockId, seal: &SignedSeal) {
        let (time_s, output) = split_claim(seal.claim);
        let parent = store.get(block).parent.expect("a minted block has a parent");
        let i = block.index();
        if self.minted.len() <= i {
            self.minted.resize(i + 1, None);
            self.trust.resize(i + 1, 0);
        }
        let parent_trust = self.trust.get(parent.index()).copied().unwrap_or(0);
        if (output as usize) >= self.genesis.len() {
            self.trust[i] = parent_trust;
            return;
        }
        let mut stake = self.stake_on(store, parent, output);
        let minted = stake.mint(SimTime(time_s * TICKS_PER_SEC), self.consumption, self.rate_ppm);
        self.minted[i] = Some(MintRecord { output, time_s, after: stake, minted });
        self.mints_of[output as usize].push(block);
        self.trust[i] = parent_trust + minted.consumed.0;
    }

    /// The mint of `block`, if it minted.
    pub fn mint_of(&self, block: BlockId) -> Option<&MintRecord> {
        self.minted.get(block.index()).and_then(Option::as_ref)
    }

    /// The chain trust of the chain ending at `block`.
    pub fn trust(&self, block: BlockId) -> u128 {
        self.trust.get(block.index()).copied().unwrap_or(0)
    }

    /// Stake outputs at genesis.
    pub fn genesis(&self) -> &[Stake] {
        &self.genesis
    }

    /// The stakeholder of each output, by output.
    pub fn owners(&self) -> &[NodeId] {
        &self.owners
    }
}

/// One stakeholder's line in `consensus.json`: its output's mints on the main chain.
#[derive(Debug, Serialize)]
pub struct MinterLine {
    node: u32,
    stake_coins: f64,
    mints: u64,
    coin_days_consumed: f64,
    interest_coins: f64,
    final_stake_coins: f64,
}

/// The `coinage` section of `consensus.json`.
#[derive(Debug, Serialize)]
pub struct CoinageLine {
    consumption: &'static str,
    interest_rate_ppm: u64,
    supply_coins: u64,
    kernel_hashes: u64,
    mints: u64,
    coin_days_consumed: f64,
    interest_coins: f64,
    mean_block_interval_s: Option<f64>,
    minters: Vec<MinterLine>,
}

impl CoinageRun {
    /// Mints, coin-age consumed and interest paid along the main chain `chain` (genesis
    /// first), per stakeholder and in all.
    pub fn report(&self, store: &BlockStore, chain: &[BlockId]) -> CoinageLine {
        let coins = |units: u128| units as f64 / UNITS_PER_COIN as f64;
        let n = self.genesis.len();
        let (mut mints, mut consumed, mut paid) = (vec![0u64; n], vec![0u128; n], vec![0u128; n]);
        let mut last = self.genesis.clone();
        for &b in &chain[1..] {
            if let Some(m) = self.mint_of(b) {
                let o = m.output as usize;
                mints[o] += 1;
                consumed[o] += m.minted.consumed.0;
                paid[o] += u128::from(m.minted.reward_units);
                last[o] = m.after;
            }
        }
        let day_units = u128::from(UNITS_PER_COIN) * u128::from(super::coinage::SECONDS_PER_DAY);
        let minters = (0..n)
            .map(|o| MinterLine {
                node: self.owners[o].0,
                stake_coins: coins(u128::from(self.genesis[o].value_units)),
                mints: mints[o],
                coin_days_consumed: consumed[o] as f64 / day_units as f64,
                interest_coins: coins(paid[o]),
                final_stake_coins: coins(u128::from(last[o].value_units)),
            })
            .collect();
        let span = store.get(*chain.last().expect("genesis")).meta.mined_at.as_secs_f64();
        let blocks = chain.len() - 1;
        CoinageLine {
            consumption: match self.consumption {
                Consumption::Reset => "reset",
                Consumption::Reduce365 => "365-days",
            },
            interest_rate_ppm: self.rate_ppm,
            supply_coins: SUPPLY_COINS,
            kernel_hashes: self.kernel_hashes,
            mints: mints.iter().sum(),
            coin_days_consumed: consumed.iter().sum::<u128>() as f64 / day_units as f64,
            interest_coins: coins(paid.iter().sum()),
            mean_block_interval_s: (blocks > 0).then(|| span / blocks as f64),
            minters,
        }
    }
}

/// The stake output id of the stakeholder on `node` (distinct per node).
pub fn output_id(node: NodeId) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"forksim-stake-output");
    h.update(node.0.to_le_bytes());
    h.finalize().into()
}

/// `share` of [`SUPPLY_COINS`] in coin units.
pub fn stake_units(share: f64) -> u64 {
    libm::round(share * SUPPLY_COINS as f64 * UNITS_PER_COIN as f64).max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_round_trip_and_the_target_follows_the_formula() {
        assert_eq!(split_claim(claim(86_400 * 400, 1_000)), (86_400 * 400, 1_000));
        // Ten outputs of 100,000 coins, 600 s: c = 86,400 π / (2 · 600² · 3,162.28²).
        let t = calibrated_target(SimDuration::from_secs(600), &[100_000.0; 10]);
        let c = 86_400.0 * std::f64::consts::PI / (2.0 * 360_000.0 * 1e7);
        assert!((t as f64 / 2f64.powi(64) / c - 1.0).abs() < 1e-9);
    }
}
