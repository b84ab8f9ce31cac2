//! A node's protocol, driven through a fake context: what it sends, sets and records for
//! each input, with no world around it.

use super::attacker::invalid::InvalidPeer;
use super::attacker::selfish::Selfish;
use super::protocol::Honest;
use super::relay::RequestTimeouts;
use super::testing::{Did, Harness};
use super::{BlockState, Miner, Node, Protocol, Timer};
use crate::chain::{BlockId, RejectReason};
use crate::id::{LinkId, NodeId};
use crate::network::message::{Message, MessageKind};
use crate::observe::{KeepReason, Record, TipOutcome};
use crate::scenario::attack::{InvalidKind, InvalidSpec, PublishVia};
use crate::time::SimDuration;

/// Node 0 of a four-node complete network, following `protocol`.
fn node(protocol: Box<dyn Protocol>, miner: Option<Miner>) -> Node {
    Node::new(NodeId(0), miner, protocol)
}

/// Delivers `kind` about `block` to node 0 from peer `from`; returns what it asked for.
fn deliver(
    h: &mut Harness,
    n: &mut Node,
    from: NodeId,
    kind: MessageKind,
    block: BlockId,
) -> Vec<Did> {
    let link = h.link(from, NodeId(0));
    n.on_deliver(&mut h.ctx(NodeId(0)), link, Message::about(kind, block));
    h.take()
}

/// Fires every validation timer among `actions` (in order), and those they set in turn;
/// returns everything else the node asked for, in order.
fn validate_all(h: &mut Harness, n: &mut Node, actions: Vec<Did>) -> Vec<Did> {
    let mut out = Vec::new();
    let mut pending: std::collections::VecDeque<Did> = actions.into();
    while let Some(a) = pending.pop_front() {
        match a {
            Did::Timer { timer: t @ Timer::Validated { .. }, at, .. } => {
                h.now = h.now.max(at);
                n.on_timer(&mut h.ctx(NodeId(0)), t);
                pending.extend(h.take());
            }
            other => out.push(other),
        }
    }
    out
}

/// Delivers a message to node 0 and runs its validations to the end.
fn receive(
    h: &mut Harness,
    n: &mut Node,
    from: NodeId,
    kind: MessageKind,
    block: BlockId,
) -> Vec<Did> {
    let actions = deliver(h, n, from, kind, block);
    validate_all(h, n, actions)
}

/// The messages among `actions`: (link, kind, block).
fn sends(actions: &[Did]) -> Vec<(LinkId, MessageKind, BlockId)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Did::Send { link, msg, .. } => Some((*link, msg.kind, msg.block)),
            _ => None,
        })
        .collect()
}

fn accepted(actions: &[Did]) -> Vec<(BlockId, TipOutcome)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Did::Record(Record::BlockAccepted { block, outcome, .. }) => Some((*block, *outcome)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_node_adopts_the_most_work_tip_and_relays_it_to_everyone_but_the_sender() {
    let mut h = Harness::new(4);
    let mut n = node(Box::new(Honest), None);
    let g = BlockId::GENESIS;
    let b1 = h.mine(g, NodeId(1));
    let out = receive(&mut h, &mut n, NodeId(1), MessageKind::Block, b1);
    assert_eq!(n.tip(), b1);
    assert_eq!(accepted(&out), vec![(b1, TipOutcome::Extended { old_tip: g })]);
    let relayed = sends(&out);
    assert_eq!(
        relayed,
        vec![
            (h.link(NodeId(0), NodeId(2)), MessageKind::Inv, b1),
            (h.link(NodeId(0), NodeId(3)), MessageKind::Inv, b1)
        ],
        "announced to every peer but the one it came from"
    );
    // A longer rival branch takes over: a reorg of depth one, and both its blocks are
    // announced, oldest first.
    let c1 = h.mine(g, NodeId(2));
    let c2 = h.mine(c1, NodeId(2));
    let out = receive(&mut h, &mut n, NodeId(2), MessageKind::Block, c1);
    assert_eq!(n.tip(), b1, "equal work: the block seen first stays");
    assert!(sends(&out).is_empty(), "a block that is not on the best chain is not relayed");
    let out = receive(&mut h, &mut n, NodeId(2), MessageKind::Block, c2);
    assert_eq!(n.tip(), c2);
    assert_eq!(accepted(&out), vec![(c2, TipOutcome::Reorged { old_tip: b1, depth: 1 })]);
    let relayed: Vec<BlockId> = sends(&out).iter().map(|s| s.2).collect();
    assert_eq!(relayed, vec![c1, c1, c1, c2, c2], "c1 to all three peers, then c2 to two");
}

#[test]
fn first_seen_wins_a_tie() {
    let mut h = Harness::new(4);
    let mut n = node(Box::new(Honest), None);
    let g = BlockId::GENESIS;
    let (a, b) = (h.mine(g, NodeId(1)), h.mine(g, NodeId(2)));
    receive(&mut h, &mut n, NodeId(1), MessageKind::Block, a);
    let out = receive(&mut h, &mut n, NodeId(2), MessageKind::Block, b);
    assert_eq!(n.tip(), a);
    let kept = TipOutcome::Kept { tip: a, reason: KeepReason::SeenFirst };
    assert_eq!(accepted(&out), vec![(b, kept)]);
    assert_eq!(
        h.shared.states.get(NodeId(0), b),
        BlockState::Accepted,
        "the rival is kept, not rejected"
    );
}

#[test]
fn an_unknown_parent_is_requested_and_the_orphan_connected_when_it_arrives() {
    let mut h = Harness::new(4);
    let mut n = node(Box::new(Honest), None);
    let g = BlockId::GENESIS;
    let b1 = h.mine(g, NodeId(1));
    let b2 = h.mine(b1, NodeId(1));
    // An announcement is answered with a request; the block comes with an unknown parent.
    let asked = deliver(&mut h, &mut n, NodeId(3), MessageKind::Inv, b2);
    assert_eq!(sends(&asked), vec![(h.link(NodeId(0), NodeId(3)), MessageKind::GetData, b2)]);
    let out = deliver(&mut h, &mut n, NodeId(3), MessageKind::Block, b2);
    assert_eq!(h.shared.states.get(NodeId(0), b2), BlockState::Orphan);
    assert_eq!(
        sends(&out),
        vec![(h.link(NodeId(0), NodeId(3)), MessageKind::GetData, b1)],
        "parent requested"
    );
    assert_eq!(h.shared.states.get(NodeId(0), b1), BlockState::Requested);
    // The parent arrives: it is validated, and then the orphan, which becomes the tip.
    let out = receive(&mut h, &mut n, NodeId(3), MessageKind::Block, b1);
    assert_eq!(n.tip(), b2);
    let order: Vec<BlockId> = accepted(&out).iter().map(|a| a.0).collect();
    assert_eq!(order, vec![b1, b2]);
}

/// A selfish pool (node 0 of four) that has mined a block and withheld it: the harness,
/// the pool's node, its block, and an honest competitor mined by node 1 (not yet sent).
fn pool_with_a_withheld_block(pool: Selfish) -> (Harness, Node, BlockId, BlockId) {
    let mut h = Harness::new(4);
    let mut n = node(Box::new(pool), Some(Miner::new(1e6)));
    let g = BlockId::GENESIS;
    n.on_start(&mut h.ctx(NodeId(0)));
    let mut actions = h.take();
    let mined = loop {
        let Some(Did::Timer { timer, at, .. }) = actions.pop() else {
            panic!("a miner always has its clock set: {actions:?}")
        };
        h.now = at;
        n.on_timer(&mut h.ctx(NodeId(0)), timer);
        actions = h.take();
        if let Some(b) = actions.iter().find_map(|a| match a {
            Did::Record(Record::BlockMined { block, .. }) => Some(*block),
            _ => None,
        }) {
            break b;
        }
    };
    assert!(
        actions.iter().any(|a| matches!(a, Did::Record(Record::Withheld { .. }))),
        "the pool withholds its block"
    );
    assert!(sends(&actions).is_empty(), "nothing of a withheld block is sent");
    assert_eq!(n.tip(), g, "its public tip has not moved");
    let honest = h.mine(g, NodeId(1));
    (h, n, mined, honest)
}

/// The tie a publication among `actions` opened, if any.
fn tie_opened(actions: &[Did]) -> Option<Option<BlockId>> {
    actions.iter().find_map(|a| match a {
        Did::Record(Record::Published { tie_with, .. }) => Some(*tie_with),
        _ => None,
    })
}

#[test]
fn a_selfish_pool_publishes_when_a_competitor_is_announced_and_keeps_it_to_itself() {
    let (mut h, mut n, mined, honest) = pool_with_a_withheld_block(Selfish::new(true));
    // The competitor's announcement (its header) is enough: the pool publishes on every
    // link, then asks for the competitor.
    let out = deliver(&mut h, &mut n, NodeId(1), MessageKind::Inv, honest);
    let l = |to: u32| h.link(NodeId(0), NodeId(to));
    assert_eq!(
        sends(&out),
        vec![
            (l(1), MessageKind::Inv, mined),
            (l(2), MessageKind::Inv, mined),
            (l(3), MessageKind::Inv, mined),
            (l(1), MessageKind::GetData, honest),
        ]
    );
    assert_eq!(tie_opened(&out), Some(Some(honest)), "a match race between the two blocks");
    assert_eq!(n.tip(), mined, "the pool saw its own block first");
    // The competitor arrives: it loses the tie at the pool, which does not relay it.
    let out = receive(&mut h, &mut n, NodeId(1), MessageKind::Block, honest);
    assert!(sends(&out).is_empty(), "the competitor is not relayed: {out:?}");
    let kept = TipOutcome::Kept { tip: mined, reason: KeepReason::SeenFirst };
    assert_eq!(accepted(&out), vec![(honest, kept)]);
    assert_eq!(n.mining_tip(), mined);
}

#[test]
fn a_selfish_pool_that_waits_for_the_competitor_publishes_before_it_relays_it() {
    let pool = Selfish::new(true).publishing(PublishVia::Relay, false);
    let (mut h, mut n, mined, honest) = pool_with_a_withheld_block(pool);
    // Announced, the competitor changes nothing until the pool has validated it.
    let out = deliver(&mut h, &mut n, NodeId(1), MessageKind::Inv, honest);
    assert_eq!(sends(&out), vec![(h.link(NodeId(0), NodeId(1)), MessageKind::GetData, honest)]);
    // Then the pool's answer publishes its own block on every link before the competitor
    // is relayed.
    let out = receive(&mut h, &mut n, NodeId(1), MessageKind::Block, honest);
    let order: Vec<(BlockId, LinkId)> = sends(&out).iter().map(|s| (s.2, s.0)).collect();
    let expected = vec![
        (mined, h.link(NodeId(0), NodeId(1))),
        (mined, h.link(NodeId(0), NodeId(2))),
        (mined, h.link(NodeId(0), NodeId(3))),
        (honest, h.link(NodeId(0), NodeId(2))),
        (honest, h.link(NodeId(0), NodeId(3))),
    ];
    assert_eq!(order, expected);
    assert_eq!(tie_opened(&out), Some(Some(honest)), "a match race between the two blocks");
}

#[test]
fn a_selfish_pool_can_push_what_it_publishes() {
    let pool = Selfish::new(true).publishing(PublishVia::Push, true);
    let (mut h, mut n, mined, honest) = pool_with_a_withheld_block(pool);
    let out = deliver(&mut h, &mut n, NodeId(1), MessageKind::Inv, honest);
    let pushed: Vec<(MessageKind, BlockId)> =
        sends(&out).iter().filter(|s| s.2 == mined).map(|s| (s.1, s.2)).collect();
    assert_eq!(pushed, vec![(MessageKind::Block, mined); 3], "the whole block to every peer");
}

/// When the validation timer among `actions` fires.
fn validated_at(actions: &[Did]) -> crate::time::SimTime {
    actions
        .iter()
        .find_map(|a| match a {
            Did::Timer { timer: Timer::Validated { .. }, at, .. } => Some(*at),
            _ => None,
        })
        .expect("the node started validating")
}

#[test]
fn the_validation_cost_adds_missing_transactions_and_their_inputs() {
    use super::validation::{FILLER_INPUTS_PER_TX, Unverified, validation_cost};
    use crate::time::SimDuration;
    let mut h = Harness::new(2);
    h.settings.validation_per_missing_tx = SimDuration::from_micros(100);
    h.settings.validation_per_input = SimDuration::from_micros(40);
    let sized = SimDuration::from_millis(3);
    let cost = |u| validation_cost(&h.settings, sized, u);
    assert_eq!(cost(Unverified::default()), sized, "a pre-verified block pays base and bytes");
    assert_eq!(cost(Unverified { txs: 10, inputs: 0 }), SimDuration::from_micros(4_000));
    assert_eq!(cost(Unverified { txs: 0, inputs: 25 }), SimDuration::from_micros(4_000));
    assert_eq!(
        cost(Unverified::filler(10)),
        SimDuration::from_micros(3_000 + 10 * (100 + 40 * u64::from(FILLER_INPUTS_PER_TX)))
    );
}

#[test]
fn without_a_workload_only_transactions_fetched_after_a_failed_reconstruction_cost_extra() {
    use super::validation::{Unverified, validation_cost};
    use crate::time::SimDuration;
    let mut h = Harness::new(3);
    h.compact(1.0, 0.1);
    h.settings.template.block_size_bytes = 100_000;
    h.settings.validation_per_missing_tx = SimDuration::from_micros(100);
    h.settings.validation_per_input = SimDuration::from_micros(40);
    let g = BlockId::GENESIS;
    let b1 = h.mine(g, NodeId(1));
    let txs = h.shared.store.get(b1).block.tx_count();
    assert!(txs > 100, "a block of filler: {txs} transactions");
    let base = h.settings.validation_base;

    // Whole, as a `block`: everything was in the mempool.
    let mut whole = node(Box::new(Honest), None);
    let out = deliver(&mut h, &mut whole, NodeId(1), MessageKind::Block, b1);
    assert_eq!(validated_at(&out), h.now + base);

    // Compact, and reconstruction fails: a tenth of the transactions is fetched, and each
    // is verified in full.
    let mut n = Node::new(NodeId(2), None, Box::new(Honest));
    let link = h.link(NodeId(1), NodeId(2));
    n.on_deliver(&mut h.ctx(NodeId(2)), link, Message::about(MessageKind::CmpctBlock, b1));
    let asked = h.take();
    assert!(matches!(sends(&asked)[..], [(_, MessageKind::GetBlockTxn, b)] if b == b1));
    n.on_deliver(&mut h.ctx(NodeId(2)), link, Message::about(MessageKind::BlockTxn, b1));
    let out = h.take();
    let fetched = (txs - 1).div_ceil(10);
    let expected = validation_cost(&h.settings, base, Unverified::filler(fetched));
    assert_eq!(validated_at(&out), h.now + expected);
    assert!(expected > base + SimDuration::from_millis(5));
}

/// The link from `from` to `to` is a high-bandwidth one: `to` chose `from`.
fn choose_high_bandwidth(h: &mut Harness, to: NodeId, from: NodeId) {
    let link = h.link(from, to);
    h.peers.high_bandwidth[link.index()].set(true);
}

#[test]
fn a_block_goes_to_high_bandwidth_peers_before_validation_and_not_again_after() {
    let mut h = Harness::new(4);
    h.compact(0.0, 0.0);
    choose_high_bandwidth(&mut h, NodeId(3), NodeId(0));
    let mut n = node(Box::new(Honest), None);
    let g = BlockId::GENESIS;
    let b1 = h.mine(g, NodeId(1));
    let out = deliver(&mut h, &mut n, NodeId(1), MessageKind::CmpctBlock, b1);
    let to3 = h.link(NodeId(0), NodeId(3));
    assert_eq!(sends(&out), vec![(to3, MessageKind::CmpctBlock, b1)], "forwarded at once");
    assert!(
        matches!(out.last(), Some(Did::Timer { timer: Timer::Validated { .. }, .. })),
        "before its validation ends: {out:?}"
    );
    let out = validate_all(&mut h, &mut n, out);
    assert_eq!(n.tip(), b1);
    assert_eq!(
        sends(&out),
        vec![
            (to3, MessageKind::CmpctBlock, b1),
            (h.link(NodeId(0), NodeId(2)), MessageKind::Inv, b1)
        ],
        "after validation the others hear of it, the high-bandwidth peer not twice"
    );
    // A rival at the same height does not extend the tip: it waits for validation, and is
    // not relayed (the block seen first stays).
    let c1 = h.mine(g, NodeId(2));
    let out = deliver(&mut h, &mut n, NodeId(2), MessageKind::CmpctBlock, c1);
    assert!(sends(&out).is_empty());
}

#[test]
fn a_block_invalid_in_full_validation_is_forwarded_early_then_rejected_and_counted() {
    use super::testing::Tamper;
    use crate::chain::RejectReason;
    let mut h = Harness::new(4);
    h.compact(0.0, 0.0);
    choose_high_bandwidth(&mut h, NodeId(3), NodeId(0));
    choose_high_bandwidth(&mut h, NodeId(2), NodeId(0));
    let mut n = node(Box::new(Honest), None);
    let g = BlockId::GENESIS;

    let bad_pow = h.mine_tampered(g, NodeId(1), Tamper::ProofOfWork);
    let out = receive(&mut h, &mut n, NodeId(1), MessageKind::CmpctBlock, bad_pow);
    assert!(sends(&out).is_empty(), "a header that fails its checks goes nowhere");
    assert_eq!(n.rejected()[RejectReason::HighHash.index()], 1);
    assert!(
        out.iter().any(|a| matches!(a, Did::Record(Record::PeerBanned { peer: NodeId(1), .. }))),
        "an invalid header costs its sender 100 points: a ban"
    );

    // A node that has not banned node 1 yet.
    let mut n = node(Box::new(Honest), None);
    let bad_body = h.mine_tampered(g, NodeId(1), Tamper::MerkleRoot);
    let out = deliver(&mut h, &mut n, NodeId(1), MessageKind::CmpctBlock, bad_body);
    assert_eq!(sends(&out).len(), 2, "its header is fine: both high-bandwidth peers get it");
    let out = validate_all(&mut h, &mut n, out);
    assert_eq!(sends(&out).len(), 2, "nothing more after validation fails");
    assert_eq!(n.rejected()[RejectReason::BadTxnMrklRoot.index()], 1);
    assert_eq!(h.shared.states.get(NodeId(0), bad_body), BlockState::Invalid);
    assert_eq!(n.tip(), g);
    assert!(out.iter().any(
        |a| matches!(a, Did::Record(Record::BlockRejected { block, .. }) if *block == bad_body)
    ));
}

#[test]
fn high_bandwidth_peers_are_the_latest_to_deliver_a_new_block_first() {
    use super::testing::Tamper;
    let mut h = Harness::new(5);
    h.compact(0.0, 0.0);
    h.settings.relay.compact_high_bandwidth_peers = 2;
    let mut n = node(Box::new(Honest), None);
    // The initial choice: node 4.
    n.set_high_bandwidth_peers(&[h.link(NodeId(0), NodeId(4))]);
    choose_high_bandwidth(&mut h, NodeId(0), NodeId(4));
    let chosen = |h: &Harness, n: &Node| {
        let flagged: Vec<u32> = (1..5)
            .filter(|&p| h.peers.high_bandwidth[h.link(NodeId(p), NodeId(0)).index()].get())
            .collect();
        let order: Vec<u32> =
            n.high_bandwidth_peers().iter().map(|&l| h.network.link_target(l).0).collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(flagged, sorted, "the peers' flags follow the node's list");
        order
    };
    assert_eq!(chosen(&h, &n), vec![4]);
    let mut tip = BlockId::GENESIS;
    let mut deliver_next = |h: &mut Harness, n: &mut Node, from: u32| {
        tip = h.mine(tip, NodeId(from));
        receive(h, n, NodeId(from), MessageKind::CmpctBlock, tip);
        assert_eq!(n.tip(), tip);
    };
    deliver_next(&mut h, &mut n, 1);
    assert_eq!(chosen(&h, &n), vec![1, 4]);
    deliver_next(&mut h, &mut n, 2);
    assert_eq!(chosen(&h, &n), vec![2, 1], "node 4 went longest without a block first");
    deliver_next(&mut h, &mut n, 1);
    assert_eq!(chosen(&h, &n), vec![1, 2], "a chosen peer moves to the front");
    deliver_next(&mut h, &mut n, 3);
    assert_eq!(chosen(&h, &n), vec![3, 1]);
    // An invalid block earns nothing.
    let bad = h.mine_tampered(n.tip(), NodeId(4), Tamper::MerkleRoot);
    receive(&mut h, &mut n, NodeId(4), MessageKind::CmpctBlock, bad);
    assert_eq!(chosen(&h, &n), vec![3, 1]);
}

#[test]
fn with_push_only_the_miner_pushes_the_whole_block_and_others_announce_it() {
    use crate::scenario::RelayProtocol;
    let mut h = Harness::new(4);
    h.settings.relay.protocol = RelayProtocol::Push;
    let mut n = node(Box::new(Honest), None);
    let g = BlockId::GENESIS;
    let b1 = h.mine(g, NodeId(1));
    let out = receive(&mut h, &mut n, NodeId(1), MessageKind::Block, b1);
    let kinds: Vec<MessageKind> = sends(&out).iter().map(|s| s.1).collect();
    assert_eq!(kinds, vec![MessageKind::Inv, MessageKind::Inv], "a relaying node announces");
    // Its own block: pushed whole to every peer.
    let b2 = h.mine(b1, NodeId(0));
    n.accept(&mut h.ctx(NodeId(0)), b2, None, true);
    let pushed = sends(&h.take());
    let expected: Vec<_> =
        (1..4).map(|p| (h.link(NodeId(0), NodeId(p)), MessageKind::Block, b2)).collect();
    assert_eq!(pushed, expected);
    // `flood` is the old model: every node pushes every block.
    let mut m = node(Box::new(Honest), None);
    let mut h2 = Harness::new(4);
    h2.settings.relay.protocol = RelayProtocol::Flood;
    let c1 = h2.mine(g, NodeId(1));
    let out = receive(&mut h2, &mut m, NodeId(1), MessageKind::Block, c1);
    let kinds: Vec<MessageKind> = sends(&out).iter().map(|s| s.1).collect();
    assert_eq!(kinds, vec![MessageKind::Block, MessageKind::Block]);
}

/// The kinds an `invalid` attacker builds without wallets, the reason a node rejects each
/// for, and whether that costs the sender the 100 points of a ban.
const INVALID_KINDS: [(InvalidKind, RejectReason, bool); 11] = [
    (InvalidKind::HighHash, RejectReason::HighHash, true),
    (InvalidKind::BadBits, RejectReason::BadDiffBits, true),
    (InvalidKind::BadMerkleRoot, RejectReason::BadTxnMrklRoot, true),
    (InvalidKind::TimeTooOld, RejectReason::TimeTooOld, true),
    (InvalidKind::TimeTooNew, RejectReason::TimeTooNew, false),
    (InvalidKind::Oversized, RejectReason::BadBlkLength, true),
    (InvalidKind::CoinbaseOverpays, RejectReason::BadCbAmount, true),
    (InvalidKind::MissingInput, RejectReason::BadTxnsInputsMissingOrSpent, true),
    (InvalidKind::ImmatureCoinbaseSpend, RejectReason::BadTxnsPrematureSpendOfCoinbase, true),
    (InvalidKind::UnknownParent, RejectReason::PrevBlkNotFound, true),
    (InvalidKind::DuplicateTxs, RejectReason::BadTxnsDuplicate, true),
];

fn invalid_spec(kind: InvalidKind) -> InvalidSpec {
    InvalidSpec { every: SimDuration::from_secs_f64(10.0), kinds: vec![kind], flood_blocks: 50 }
}

#[test]
fn every_kind_of_invalid_block_is_rejected_for_its_own_reason_relayed_by_nobody_and_punished() {
    for (kind, reason, bans) in INVALID_KINDS {
        let mut h = Harness::new(4);
        let mut n = node(Box::new(Honest), None);
        let b1 = h.mine(BlockId::GENESIS, NodeId(2));
        receive(&mut h, &mut n, NodeId(2), MessageKind::Block, b1);
        assert_eq!(n.tip(), b1);
        let mut attacker = InvalidPeer::new(invalid_spec(kind), true);
        let blocks = attacker.build(&mut h.ctx(NodeId(1)), b1, kind);
        let expected = if kind == InvalidKind::UnknownParent { 50 } else { 1 };
        assert_eq!(blocks.len(), expected, "{kind:?}");
        let mut out = Vec::new();
        for &b in &blocks {
            out.extend(receive(&mut h, &mut n, NodeId(1), MessageKind::Block, b));
        }
        let rejected: Vec<RejectReason> = out
            .iter()
            .filter_map(|a| match a {
                Did::Record(Record::BlockRejected { block, reason, .. }) => {
                    assert!(blocks.contains(block));
                    Some(*reason)
                }
                _ => None,
            })
            .collect();
        assert_eq!(rejected, vec![reason; expected], "{kind:?}");
        assert!(accepted(&out).is_empty(), "{kind:?}: nothing accepted");
        assert_eq!(n.tip(), b1);
        let carried = sends(&out).into_iter().filter(|s| {
            blocks.contains(&s.2) && matches!(s.1, MessageKind::Inv | MessageKind::Block)
        });
        assert_eq!(carried.count(), 0, "{kind:?}: nothing relayed");
        let banned = out.iter().any(|a| {
            matches!(a, Did::Record(Record::PeerBanned { peer: NodeId(1), score: 100, .. }))
        });
        assert_eq!(banned, bans, "{kind:?}");
        // A banned peer's next block is ignored, unvalidated.
        if bans {
            let next = h.mine(b1, NodeId(1));
            let out = receive(&mut h, &mut n, NodeId(1), MessageKind::Block, next);
            assert!(
                matches!(out[..], [Did::Record(Record::BannedPeerIgnored { .. })]),
                "{kind:?}: {out:?}"
            );
            assert_eq!(n.tip(), b1);
        }
    }
}

#[test]
fn a_flood_of_orphans_stays_within_the_pool_bound_and_the_parent_is_never_served() {
    let mut h = Harness::new(4);
    h.settings.orphan_pool_max = 20;
    let mut n = node(Box::new(Honest), None);
    let mut attacker = InvalidPeer::new(invalid_spec(InvalidKind::UnknownParent), true);
    let blocks =
        attacker.build(&mut h.ctx(NodeId(1)), BlockId::GENESIS, InvalidKind::UnknownParent);
    let parent = h.shared.store.get(blocks[0]).parent.unwrap();
    assert!(attacker.hides(parent) && !attacker.hides(blocks[0]));
    for (i, &b) in blocks.iter().enumerate() {
        receive(&mut h, &mut n, NodeId(1), MessageKind::Block, b);
        assert!(n.orphan_count() <= 20, "after {} orphans: {}", i + 1, n.orphan_count());
    }
    assert_eq!(n.orphan_count(), 0, "the ban dropped the sender's orphans");
    // The attacker's node does not answer a request for the hidden parent.
    let mut a = Node::new(NodeId(1), None, Box::new(attacker));
    let link = h.link(NodeId(0), NodeId(1));
    a.on_deliver(&mut h.ctx(NodeId(1)), link, Message::about(MessageKind::GetData, parent));
    assert!(h.take().is_empty());
    a.on_deliver(&mut h.ctx(NodeId(1)), link, Message::about(MessageKind::GetData, blocks[0]));
    assert_eq!(h.take().len(), 1, "other blocks are served");
}

#[test]
fn honest_orphans_from_a_peer_cost_nothing_until_fifty_in_a_row() {
    // Blocks whose parent is still on its way are normal on an inv network: only 50 in a
    // row, none connecting, reach the threshold.
    let mut h = Harness::new(4);
    let mut n = node(Box::new(Honest), None);
    let mut parent = BlockId::GENESIS;
    let mut chain = Vec::new();
    for _ in 0..60 {
        parent = h.mine(parent, NodeId(2));
        chain.push(parent);
    }
    // Delivered newest first: 49 orphans, then the chain connects from its root.
    for &b in chain[11..].iter().rev() {
        let out = receive(&mut h, &mut n, NodeId(2), MessageKind::Block, b);
        assert!(!out.iter().any(|a| matches!(a, Did::Record(Record::PeerBanned { .. }))));
    }
    for &b in &chain[..11] {
        receive(&mut h, &mut n, NodeId(2), MessageKind::Block, b);
    }
    assert_eq!(n.tip(), chain[59], "the orphans connected");
    // A chain sent oldest first, faster than the node validates it (a partition heals, an
    // eclipsed node is shown the honest chain): every parent is known, none is unconnecting.
    let mut m = Node::new(NodeId(0), None, Box::new(Honest));
    h.shared.states = crate::node::chain_view::BlockStates::new(4);
    let mut pending = Vec::new();
    for &b in &chain {
        pending.extend(deliver(&mut h, &mut m, NodeId(2), MessageKind::Block, b));
    }
    let out = validate_all(&mut h, &mut m, pending);
    assert!(!out.iter().any(|a| matches!(a, Did::Record(Record::PeerBanned { .. }))));
    assert_eq!(m.tip(), chain[59]);
}

#[test]
fn with_every_block_a_node_announces_the_rival_it_keeps_and_each_block_once() {
    let mut h = Harness::new(4);
    h.settings.relay.announce = crate::scenario::Announce::EveryBlock;
    let mut n = node(Box::new(Honest), None);
    let g = BlockId::GENESIS;
    let (a, b) = (h.mine(g, NodeId(1)), h.mine(g, NodeId(2)));
    receive(&mut h, &mut n, NodeId(1), MessageKind::Block, a);
    let out = receive(&mut h, &mut n, NodeId(2), MessageKind::Block, b);
    assert_eq!(n.tip(), a, "the block seen first stays the tip");
    // Node 0's links to peers 1, 2 and 3.
    let [to1, to2, to3] = [1, 2, 3].map(|p| h.link(NodeId(0), NodeId(p)));
    assert_eq!(
        sends(&out),
        vec![(to1, MessageKind::Inv, b), (to3, MessageKind::Inv, b)],
        "the losing rival is announced to every peer but its sender"
    );
    // Its child makes the rival branch the best chain: only the child is announced now.
    let b2 = h.mine(b, NodeId(2));
    let out = receive(&mut h, &mut n, NodeId(3), MessageKind::Block, b2);
    assert_eq!(n.tip(), b2);
    assert_eq!(sends(&out), vec![(to1, MessageKind::Inv, b2), (to2, MessageKind::Inv, b2)]);
}

#[test]
fn a_request_that_times_out_goes_to_another_announcer_and_then_waits_for_a_new_inv() {
    let mut h = Harness::new(4);
    let timeout = SimDuration::from_secs(1200);
    h.request_timeout(timeout);
    let mut n = node(Box::new(Honest), None);
    let b = h.mine(BlockId::GENESIS, NodeId(1));
    let to = |h: &Harness, p: u32| h.link(NodeId(0), NodeId(p));
    let out = deliver(&mut h, &mut n, NodeId(1), MessageKind::Inv, b);
    assert_eq!(sends(&out), vec![(to(&h, 1), MessageKind::GetData, b)]);
    let timer = |out: &[Did]| {
        out.iter().find_map(|a| match a {
            Did::Timer { at, timer: t @ Timer::Request { .. }, .. } => Some((*at, *t)),
            _ => None,
        })
    };
    let (at, t) = timer(&out).expect("the request has a timer");
    assert_eq!(at, h.now + timeout);
    for p in [2, 3] {
        assert!(sends(&deliver(&mut h, &mut n, NodeId(p), MessageKind::Inv, b)).is_empty());
    }
    // Timeout: one of the two other announcers is asked; the next timeout asks the last.
    let mut asked = vec![];
    let mut next = (at, t);
    for _ in 0..2 {
        h.now = next.0;
        n.on_timer(&mut h.ctx(NodeId(0)), next.1);
        let out = h.take();
        let s = sends(&out);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].1, s[0].2), (MessageKind::GetData, b));
        asked.push(s[0].0);
        next = timer(&out).expect("a new timer");
        assert_eq!(next.0, h.now + timeout);
    }
    asked.sort();
    assert_eq!(asked, vec![to(&h, 2), to(&h, 3)], "each other announcer once");
    let counted = |asked_again, lapsed| RequestTimeouts { asked_again, lapsed };
    assert_eq!(n.request_timeouts(), counted(2, 0));
    // Nobody left: the node forgets the request and asks on the next announcement.
    h.now = next.0;
    n.on_timer(&mut h.ctx(NodeId(0)), next.1);
    assert!(h.take().is_empty());
    assert_eq!(h.shared.states.get(NodeId(0), b), BlockState::Unknown);
    assert_eq!(n.request_timeouts(), counted(2, 1));
    let out = deliver(&mut h, &mut n, NodeId(2), MessageKind::Inv, b);
    assert_eq!(sends(&out), vec![(to(&h, 2), MessageKind::GetData, b)]);
    // The block arrives (from the first, slow request): its timer then does nothing.
    let (at, t) = timer(&out).expect("a timer");
    receive(&mut h, &mut n, NodeId(1), MessageKind::Block, b);
    h.now = at;
    n.on_timer(&mut h.ctx(NodeId(0)), t);
    assert!(sends(&h.take()).is_empty());
    assert_eq!(n.tip(), b);
    assert_eq!(n.request_timeouts(), counted(2, 1), "a timer with nothing to do is not counted");
}
