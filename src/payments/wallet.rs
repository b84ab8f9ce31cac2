//! Wallets and the payments they make: the transaction workload of a run.
//!
//! Every wallet has an ed25519 key derived from the run's seed and a queue of coins it owns
//! (funded by outputs of the genesis coinbase). A payment of a random payer to a random other
//! wallet spends the payer's oldest coin that covers amount plus fee (or else its oldest
//! coins together) and sends the change back to the payer. Oldest first means a wallet
//! normally spends coins that confirmed long ago; a coin received moments ago may be spent
//! unconfirmed, as real wallets do. Payments are timed by a Poisson process and enter the
//! network at the payer's submission node.

use std::collections::VecDeque;

use rand::Rng as _;

use crate::chain::TxId;
use crate::chain::keys::{KeyPair, sign_all};
use crate::chain::tx::{Amount, OutPoint, Transaction, TxIn, TxOut};
use crate::id::NodeId;
use crate::rng::{self, Purpose, RngStreams, SimRng};
use crate::scenario::{SubmitTo, WorkloadSpec};
use crate::time::SimDuration;

/// Outputs below this are not worth creating (Bitcoin Core's dust limit for a P2PKH output);
/// such change goes to the fee instead.
pub const DUST: Amount = Amount(546);

/// Most inputs one payment gathers before giving up (the payer is then skipped).
const MAX_INPUTS: usize = 8;

/// Encoded size of one input: outpoint, public key, signature.
const TXIN_BYTES: usize = 36 + 32 + 64;

/// One wallet.
pub struct Wallet {
    key: KeyPair,
    coins: VecDeque<(OutPoint, Amount)>,
}

impl Wallet {
    /// The wallet's spendable balance (confirmed or not).
    pub fn balance(&self) -> Amount {
        Amount(self.coins.iter().map(|c| c.1.0).sum())
    }

    /// The wallet's public key (revealed by every input it signs).
    pub fn pubkey(&self) -> [u8; 32] {
        self.key.pubkey()
    }

    /// The coins the wallet holds, oldest first (confirmed or not).
    pub fn coins(&self) -> impl Iterator<Item = &(OutPoint, Amount)> {
        self.coins.iter()
    }
}

/// A signed payment ready to enter the network.
#[derive(Clone, Debug)]
pub struct Payment {
    /// The transaction.
    pub tx: Transaction,
    /// Inputs minus outputs.
    pub fee: Amount,
    /// The node it is submitted to.
    pub node: NodeId,
}

/// All wallets of a run and the stream that drives them.
pub struct Wallets {
    spec: WorkloadSpec,
    wallets: Vec<Wallet>,
    submit_nodes: Vec<NodeId>,
    rng: SimRng,
    /// Payments created.
    pub created: u64,
    /// Payments skipped because the payer could not cover amount and fee.
    pub skipped: u64,
}

impl Wallets {
    /// Creates the wallets with keys derived from the run's seed and picks the submission
    /// nodes. Wallets own nothing until [`Wallets::fund`].
    pub fn new(spec: &WorkloadSpec, streams: &RngStreams, nodes: u32) -> Wallets {
        let mut key_rng = streams.stream(Purpose::Workload, 1);
        let wallets = (0..spec.wallets)
            .map(|_| {
                let mut seed = [0u8; 32];
                for chunk in seed.chunks_mut(8) {
                    chunk.copy_from_slice(&key_rng.next_u64().to_le_bytes());
                }
                Wallet { key: KeyPair::from_seed(&seed), coins: VecDeque::new() }
            })
            .collect();
        let submit_nodes = match &spec.submit_to {
            SubmitTo::Nodes(list) => list.clone(),
            SubmitTo::Random(k) => {
                let mut pick = streams.stream(Purpose::Workload, 2);
                let mut all: Vec<NodeId> = NodeId::all(nodes).collect();
                for i in 0..*k as usize {
                    let j = i + rng::below(&mut pick, u64::from(nodes) - i as u64) as usize;
                    all.swap(i, j);
                }
                all.truncate(*k as usize);
                all.sort_unstable();
                all
            }
        };
        Wallets {
            spec: spec.clone(),
            wallets,
            submit_nodes,
            rng: streams.stream(Purpose::Workload, 0),
            created: 0,
            skipped: 0,
        }
    }

    /// The genesis coinbase outputs that fund the wallets, wallet by wallet.
    pub fn funding_outputs(&self) -> Vec<TxOut> {
        let per = self.spec.coins_per_wallet as usize;
        let mut outputs = Vec::with_capacity(self.wallets.len() * per);
        for w in &self.wallets {
            outputs.extend((0..per).map(|_| w.key.pay(self.spec.coin_value)));
        }
        outputs
    }

    /// Gives each wallet its funding outputs from the genesis coinbase `txid`.
    pub fn fund(&mut self, txid: TxId) {
        let per = self.spec.coins_per_wallet;
        for (w, wallet) in self.wallets.iter_mut().enumerate() {
            for c in 0..per {
                let vout = w as u32 * per + c;
                wallet.coins.push_back((OutPoint { txid, vout }, self.spec.coin_value));
            }
        }
    }

    /// The nodes payments are submitted to.
    pub fn submit_nodes(&self) -> &[NodeId] {
        &self.submit_nodes
    }

    /// The wallets.
    pub fn wallets(&self) -> &[Wallet] {
        &self.wallets
    }

    /// Time until the next payment (exponential, the Poisson process of the workload).
    pub fn next_gap(&mut self) -> SimDuration {
        SimDuration::from_secs_f64(rng::exp1(&mut self.rng) / self.spec.payments_per_s)
    }

    /// Builds and signs the next payment: random payer, payee, amount and fee rate. Returns
    /// `None` (and counts a skip) when the payer cannot cover it.
    pub fn next_payment(&mut self) -> Option<Payment> {
        let n = self.wallets.len() as u64;
        let payer = rng::below(&mut self.rng, n) as usize;
        let payee = (payer + 1 + rng::below(&mut self.rng, n - 1) as usize) % n as usize;
        let amount = self.draw_amount();
        let fee_rate = self.draw_fee_rate();
        let payment = self.pay(payer, &[payee], amount, fee_rate);
        match payment {
            Some((tx, fee)) => {
                self.credit(&tx, &[payee], payer);
                self.created += 1;
                Some(Payment { node: self.node_of(payer), tx, fee })
            }
            None => {
                self.skipped += 1;
                None
            }
        }
    }

    /// Two payments from one wallet spending the same coins to two different payees (a
    /// double payment), for `nodes[0]` and `nodes[1]`. The payer's change from the first is
    /// kept; the second's outputs are never credited (at most one can confirm).
    pub fn conflicting_pair(&mut self, nodes: [NodeId; 2]) -> Option<[Payment; 2]> {
        let n = self.wallets.len() as u64;
        let payer = rng::below(&mut self.rng, n) as usize;
        let payees = [(payer + 1) % n as usize, (payer + 2) % n as usize];
        let amount = self.draw_amount();
        let fee_rate = self.draw_fee_rate();
        let saved = self.wallets[payer].coins.clone();
        let (first, fee_a) = self.pay(payer, &payees[..1], amount, fee_rate)?;
        // Rewind so the second version spends exactly the same coins.
        self.wallets[payer].coins = saved;
        let (mut second, fee_b) = self.pay(payer, &payees[1..], amount, fee_rate)?;
        debug_assert_eq!(
            first.inputs.iter().map(|i| i.prevout).collect::<Vec<_>>(),
            second.inputs.iter().map(|i| i.prevout).collect::<Vec<_>>()
        );
        // Same inputs and values: make sure the ids differ even if the payees' keys repeat.
        second.lock_time = 1;
        let keys: Vec<&KeyPair> = second.inputs.iter().map(|_| &self.wallets[payer].key).collect();
        sign_all(&mut second, &keys).expect("one key per input");
        self.credit(&first, &payees[..1], payer);
        self.created += 2;
        Some([
            Payment { tx: first, fee: fee_a, node: nodes[0] },
            Payment { tx: second, fee: fee_b, node: nodes[1] },
        ])
    }

    fn node_of(&self, wallet: usize) -> NodeId {
        self.submit_nodes[wallet % self.submit_nodes.len()]
    }

    fn draw_amount(&mut self) -> Amount {
        let (lo, hi) = (self.spec.amount_min.0, self.spec.amount_max.0);
        Amount(lo + rng::below(&mut self.rng, hi - lo + 1))
    }

    /// Log-uniform between the bounds, in satoshi per byte.
    fn draw_fee_rate(&mut self) -> f64 {
        let (lo, hi) = (self.spec.fee_rate_min_sat_vb, self.spec.fee_rate_max_sat_vb);
        lo * libm::exp(libm::log(hi / lo) * rng::uniform01(&mut self.rng))
    }

    /// Takes coins from `payer` (oldest first) to pay `amount` to each of `payees` at
    /// `fee_rate`, with change back to the payer, and signs it. On failure the payer's coins
    /// are untouched.
    fn pay(
        &mut self,
        payer: usize,
        payees: &[usize],
        amount: Amount,
        fee_rate: f64,
    ) -> Option<(Transaction, Amount)> {
        let wallet = &self.wallets[payer];
        let paid = amount.0 * payees.len() as u64;
        let mut outputs: Vec<TxOut> =
            payees.iter().map(|&p| self.wallets[p].key.pay(amount)).collect();
        outputs.push(wallet.key.pay(Amount::ZERO));
        let mut tx =
            Transaction { version: 1, coinbase: None, inputs: Vec::new(), outputs, lock_time: 0 };
        let mut gathered = 0u64;
        let mut fee = 0u64;
        // One input when a single coin covers the payment (the oldest such coin), as coin
        // selection normally manages; otherwise the oldest coins, up to MAX_INPUTS.
        let one_input_fee = (fee_rate * (tx.size_bytes() + TXIN_BYTES) as f64).ceil() as u64;
        let single = wallet.coins.iter().position(|c| c.1.0 >= paid + one_input_fee);
        let picked: Vec<usize> = match single {
            Some(k) => vec![k],
            None => (0..wallet.coins.len().min(MAX_INPUTS)).collect(),
        };
        for &k in &picked {
            let (prevout, value) = wallet.coins[k];
            tx.inputs.push(TxIn { prevout, pubkey: [0; 32], signature: [0; 64] });
            gathered += value.0;
            fee = (fee_rate * tx.size_bytes() as f64).ceil() as u64;
            if gathered >= paid + fee {
                break;
            }
        }
        if gathered < paid + fee {
            return None;
        }
        let change = gathered - paid - fee;
        if change < DUST.0 {
            tx.outputs.pop();
            fee += change;
        } else {
            tx.outputs.last_mut().expect("the change output").value = Amount(change);
        }
        let wallet = &mut self.wallets[payer];
        match single {
            Some(k) => {
                wallet.coins.remove(k);
            }
            None => {
                wallet.coins.drain(..tx.inputs.len());
            }
        }
        // Exact capacities: a payment stays in memory until it is final (`chain.prune_depth`
        // blocks deep), and vectors grown by pushes would hold room for four inputs.
        tx.inputs.shrink_to_fit();
        tx.outputs.shrink_to_fit();
        let keys: Vec<&KeyPair> = tx.inputs.iter().map(|_| &wallet.key).collect();
        sign_all(&mut tx, &keys).expect("one key per input");
        Some((tx, Amount(fee)))
    }

    /// Credits the payees (outputs `0..payees.len()`) and the payer's change (the output
    /// after them, if any).
    fn credit(&mut self, tx: &Transaction, payees: &[usize], payer: usize) {
        let txid = tx.txid();
        for (vout, out) in tx.outputs.iter().enumerate() {
            let owner = payees.get(vout).copied().unwrap_or(payer);
            self.wallets[owner].coins.push_back((OutPoint { txid, vout: vout as u32 }, out.value));
        }
    }
}
