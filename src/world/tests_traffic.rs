//! The traffic counters against the message records: every byte counted as sent is a
//! message the world recorded as sent, whatever the uplink model or relay protocol.

use super::tests::{build, load, run};
use crate::chain::{BlockId, BlockStore};
use crate::network::message::{Message, MessageKind};
use crate::observe::{Observer, Record};

/// Keeps every message the world records as sent.
#[derive(Default)]
struct Sent(Vec<Message>);

impl Observer for Sent {
    fn record(&mut self, record: &Record, _: &BlockStore) {
        if let Record::MessageSent { kind, block, .. } = *record {
            self.0.push(Message::about(kind, block));
        }
    }
}

const RUN: &str = r#"
[run]
seed = 3
blocks = 40
[chain]
block_interval_s = 10
[mining]
miners = 6
block_size_bytes = 200_000
[network]
nodes = 30
topology = { kind = "random", outbound = 4 }
"#;

#[test]
fn bytes_counted_as_sent_are_the_recorded_messages_for_every_uplink_and_relay() {
    let cases: [&[&str]; 4] = [
        &["network.bandwidth.uplink=\"shared\""],
        &["network.bandwidth.uplink=\"fifo\""],
        &["network.bandwidth.uplink=\"block-fifo\""],
        &["network.relay.protocol=\"compact\""],
    ];
    for sets in cases {
        let scenario = load(RUN, sets);
        let world = super::World::build(&scenario, Sent::default(), ()).unwrap();
        let remains = run(world, &scenario);
        let traffic = remains.transport.traffic();
        for kind in MessageKind::ALL {
            let recorded: u64 = remains
                .observer
                .0
                .iter()
                .filter(|m| m.kind == kind)
                .map(|m| remains.shared.costs.get(m.block).wire.of_message(m))
                .sum();
            assert_eq!(traffic.sent(kind), recorded, "{sets:?}: {}", kind.wire_name());
        }
        assert!(traffic.sent(MessageKind::Block) + traffic.sent(MessageKind::CmpctBlock) > 0);
        // No link is cut: everything sent arrives.
        assert_eq!(traffic.received_total(), traffic.sent_total(), "{sets:?}");
    }
}

#[test]
fn with_inv_relay_each_node_downloads_each_block_it_holds_once() {
    let scenario = load(RUN, &[]);
    let remains = run(build(&scenario), &scenario);
    let store = &remains.shared.store;
    // Every node ends on the same tip, so it holds every main-chain block; the miner made
    // its own, every other node downloaded it once.
    let tip = remains.nodes[0].tip();
    assert!(remains.nodes.iter().all(|n| n.tip() == tip));
    let main: u64 = store
        .chain_to(tip)
        .iter()
        .skip(1)
        .map(|&b| remains.shared.costs.get(b).wire.block * 29)
        .sum();
    let block_bytes = remains.transport.traffic().sent(MessageKind::Block);
    // Stale blocks add their downloads on top, and nothing is downloaded twice.
    assert!(block_bytes >= main, "{block_bytes} < {main}");
    let all: u64 =
        (1..store.len()).map(|i| remains.shared.costs.get(BlockId(i as u32)).wire.block * 29).sum();
    assert!(block_bytes <= all, "{block_bytes} > {all}");
}
