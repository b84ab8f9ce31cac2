//! The replay page: one self-contained HTML file that plays a run back in a browser.
//!
//! The CSV files and figures summarise a run; the page shows it happen. Messages move over
//! the network as dots, each node takes the colour of the miner of its current tip, the
//! block tree grows as blocks are found and the narrated story scrolls beside it, with play,
//! pause, a time slider and a speed control. `forksim run SCENARIO --html` writes it as
//! `replay.html`. It needs nothing outside the file (inline CSS, JavaScript and data; no
//! fonts, images or network), so it opens from a file path on a machine that is offline.
//!
//! [`Recorder`] is an observer that keeps what the page needs from the records;
//! [`render()`] lays out the network and the tree and writes the page. Everything is derived
//! from the records, the network and the final block store in a fixed order, with integer
//! numbers only, so the same seed gives the same bytes and `forksim replay` checks the page
//! like every other result file.
//!
//! Large runs stay small enough to open: messages are kept up to [`MESSAGE_CAP`] (the page
//! says when the animation of messages stops), and routine narration (a node building on a
//! block or keeping a tip with more work) up to [`ROUTINE_LINE_CAP`] lines; found blocks,
//! forks, reorgs and rejections are always kept.

mod layout;
mod render;

pub use render::{FILE_NAME, render};

use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;
use crate::network::message::MessageKind;
use crate::observe::narrate::Narrator;
use crate::observe::{KeepReason, Observer, Record, TipOutcome};
use crate::time::SimTime;

/// Messages kept for the animation (about 20 bytes each in the page).
pub const MESSAGE_CAP: usize = 200_000;
/// Routine narration lines kept (about 100 bytes each in the page).
pub const ROUTINE_LINE_CAP: usize = 20_000;

/// What a narration line is about; the page styles and filters lines by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum LineKind {
    /// A miner found a block.
    Mined = 0,
    /// A node built on a block, or kept a tip with more work.
    Routine = 1,
    /// A tie: the node keeps the block it saw first.
    Fork = 2,
    /// A node switched branch.
    Reorg = 3,
    /// A node rejected a block.
    Rejected = 4,
}

/// A node's tip moved to `block`.
#[derive(Clone, Copy, Debug)]
struct TipChange {
    time: SimTime,
    node: NodeId,
    block: BlockId,
}

/// One message on a link.
#[derive(Clone, Copy, Debug)]
struct Sent {
    sent: SimTime,
    arrives: SimTime,
    from: NodeId,
    to: NodeId,
    kind: MessageKind,
    block: BlockId,
}

/// One narrated line.
#[derive(Clone, Debug)]
struct Line {
    time: SimTime,
    kind: LineKind,
    text: String,
}

/// Keeps what the replay page shows: found blocks, tip changes, messages on links and the
/// narrated story, each in record order.
pub struct Recorder {
    narrator: Narrator,
    /// (block, miner, time) in mining order.
    mined: Vec<(BlockId, NodeId, SimTime)>,
    tips: Vec<TipChange>,
    messages: Vec<Sent>,
    /// When the first message past [`MESSAGE_CAP`] was sent.
    messages_cut: Option<SimTime>,
    lines: Vec<Line>,
    routine_lines: usize,
    /// When the first routine line past [`ROUTINE_LINE_CAP`] was dropped.
    lines_cut: Option<SimTime>,
    /// `dpos`: (slot, scheduled producer) of every missed slot, in record order.
    missed: Vec<(u64, NodeId)>,
    /// `dpos`: (time, height) each time the newest irreversible block moved up.
    irreversible: Vec<(SimTime, u32)>,
}

impl Recorder {
    /// A recorder for a network whose nodes are called `names`; `show_nonces` adds the nonce
    /// of found blocks to the story (ground mode, as `--narrate` does).
    pub fn new(names: Vec<String>, show_nonces: bool) -> Recorder {
        Recorder {
            narrator: Narrator::new(names, None, show_nonces, Box::new(std::io::sink())),
            mined: Vec::new(),
            tips: Vec::new(),
            messages: Vec::new(),
            messages_cut: None,
            lines: Vec::new(),
            routine_lines: 0,
            lines_cut: None,
            missed: Vec::new(),
            irreversible: Vec::new(),
        }
    }

    /// The recorder, whose story tells blocks as `story` says (slot leaders, DPoS
    /// producers, missed slots and irreversible blocks), as `--narrate` does.
    #[must_use]
    pub fn with_story(mut self, story: crate::observe::narrate::StakeStory) -> Recorder {
        self.narrator = self.narrator.with_story(story);
        self
    }

    fn narrate(&mut self, record: &Record, store: &BlockStore, time: SimTime, kind: LineKind) {
        if kind == LineKind::Routine {
            if self.routine_lines >= ROUTINE_LINE_CAP {
                self.lines_cut.get_or_insert(time);
                return;
            }
            self.routine_lines += 1;
        }
        if let Some(text) = self.narrator.describe(record, store) {
            // A record may tell two things (a DPoS block, and the irreversible block it
            // moves): one story line each.
            for part in text.lines() {
                self.lines.push(Line { time, kind, text: part.to_string() });
            }
        }
    }
}

impl Observer for Recorder {
    fn record(&mut self, record: &Record, store: &BlockStore) {
        match *record {
            Record::BlockMined { block, miner, time } => {
                self.mined.push((block, miner, time));
                self.tips.push(TipChange { time, node: miner, block });
                self.narrate(record, store, time, LineKind::Mined);
                let lib = self.narrator.irreversible_height();
                if lib > self.irreversible.last().map_or(0, |&(_, h)| h) {
                    self.irreversible.push((time, lib));
                }
            }
            Record::BlockAccepted { node, block, outcome, time, .. } => {
                let kind = match outcome {
                    TipOutcome::Extended { .. } => LineKind::Routine,
                    TipOutcome::Reorged { .. } => LineKind::Reorg,
                    TipOutcome::Kept { reason: KeepReason::SeenFirst, .. } => LineKind::Fork,
                    TipOutcome::Kept { reason: KeepReason::MoreWork, .. } => LineKind::Routine,
                };
                if !matches!(outcome, TipOutcome::Kept { .. }) {
                    self.tips.push(TipChange { time, node, block });
                }
                self.narrate(record, store, time, kind);
            }
            Record::BlockRejected { time, .. } => {
                self.narrate(record, store, time, LineKind::Rejected);
            }
            Record::PaymentSent { time, .. } => {
                self.narrate(record, store, time, LineKind::Routine);
            }
            Record::MempoolSampled { .. } | Record::MessageDropped { .. } => {}
            Record::InvalidSent { time, .. }
            | Record::BannedPeerIgnored { time, .. }
            | Record::OrphanEvicted { time, .. }
            | Record::PeerBanned { time, .. } => {
                self.narrate(record, store, time, LineKind::Routine);
            }
            Record::GoodsShipped { time, .. } | Record::PaymentReversed { time, .. } => {
                self.narrate(record, store, time, LineKind::Reorg);
            }
            Record::Withheld { time, .. }
            | Record::Published { time, .. }
            | Record::GaveUp { time, .. }
            | Record::Partitioned { time, .. }
            | Record::Healed { time, .. }
            | Record::NodeLeft { time, .. }
            | Record::NodeRejoined { time, .. }
            | Record::PaymentsLeftOut { time, .. } => {
                self.narrate(record, store, time, LineKind::Reorg);
            }
            Record::SlotMissed { producer, slot, time } => {
                self.missed.push((slot, producer));
                self.narrate(record, store, time, LineKind::Reorg);
            }
            Record::MessageSent { from, to, kind, block, sent, arrives } => {
                if self.messages.len() < MESSAGE_CAP {
                    self.messages.push(Sent { sent, arrives, from, to, kind, block });
                } else {
                    let cut = self.messages_cut.get_or_insert(sent);
                    *cut = (*cut).min(sent);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Outcome;

    /// Runs a shipped scenario with a recorder; returns the page and its data.
    fn page_of(file: &str) -> (Outcome<Recorder>, String, serde_json::Value) {
        page_with(file, &[])
    }

    /// Like [`page_of`], with `--set` overrides.
    fn page_with(file: &str, set: &[&str]) -> (Outcome<Recorder>, String, serde_json::Value) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file);
        let set: Vec<_> =
            set.iter().map(|s| crate::scenario::Override::parse(s).unwrap()).collect();
        let scenario = crate::scenario::load(&path, &set, None).unwrap();
        let ground = scenario.mining.mode == crate::scenario::MiningMode::Ground;
        let story = crate::observe::narrate::StakeStory::of(&scenario);
        let recorder = Recorder::new(scenario.node_names.clone(), ground).with_story(story);
        let sim = crate::run::run_with(&scenario, recorder, None).unwrap();
        let html = render(&scenario, &sim, &sim.observer);
        let html = String::from_utf8(html).unwrap();
        let start = html.find(r#"type="application/json">"#).unwrap() + 24;
        let end = start + html[start..].find("</script>").unwrap();
        let data = serde_json::from_str(&html[start..end]).unwrap();
        (sim, html, data)
    }

    #[test]
    fn html_page_is_self_contained_and_holds_the_whole_run() {
        let (sim, html, data) = page_of("classroom.toml");
        for outside in ["http://", "https://", " src=", "href=", "url(", "@import", "<link"] {
            assert!(!html.contains(outside), "the page refers outside itself: {outside}");
        }
        assert!(html.contains("<title>forksim replay: classroom, seed 1</title>"));
        for id in [r#"id="play""#, r#"id="slider""#, r#"id="tree""#, r#"id="events""#] {
            assert!(html.contains(id), "{id} missing");
        }
        assert_eq!(data["names"], serde_json::json!(["Alice", "Bob", "Carol", "Dave", "Erin"]));
        assert!(data["labels"].as_bool().unwrap(), "five nodes are labelled");
        // Genesis plus every mined block; every message and story line of the run.
        let blocks = data["blocks"]["t"].as_array().unwrap().len();
        assert_eq!(blocks as u64, sim.blocks_mined + 1);
        let r = &sim.observer;
        assert_eq!(data["msgs"].as_array().unwrap().len(), r.messages.len() * 5);
        assert_eq!(data["tips"].as_array().unwrap().len(), r.tips.len() * 3);
        let text = data["lines"]["text"].as_array().unwrap();
        assert!(text.iter().any(|l| l.as_str().unwrap().contains("a fork!")));
        assert!(data["msg_cut"].is_null() && data["line_cut"].is_null());
        // One story line per found block, and the miner's tip moves to it.
        let found = r.lines.iter().filter(|l| l.kind == LineKind::Mined).count();
        assert_eq!(found as u64, sim.blocks_mined);
        assert!(r.tips.len() > found, "the other nodes' tips move too");
    }

    /// A DPoS page tells producers, their slots, the missed ones and the irreversible
    /// blocks, each on a line of its own.
    #[test]
    fn dpos_page_shows_producers_missed_slots_and_irreversible_blocks() {
        let (sim, _, data) = page_with("consensus/dpos.toml", &["run.blocks=1300"]);
        let text: Vec<&str> =
            data["lines"]["text"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
        let count = |needle: &str| text.iter().filter(|l| l.contains(needle)).count();
        assert_eq!(count(" in its slot ") as u64, sim.blocks_mined);
        let missed = sim.stake.as_ref().unwrap().dpos.as_ref().unwrap().slots_and_missed().1;
        assert!(missed > 0);
        assert_eq!(count(" missed its slot ") as u64, missed);
        assert!(count(" is now irreversible (15 of 21 producers built on it)") > 50);
        assert!(text.iter().all(|l| !l.contains('\n')));

        // The slot strip: every block in the slot its line names, every missed slot with
        // its producer, and the irreversible height rising once per irreversible line.
        let strip = &data["slots"];
        assert_eq!(strip["kind"], "dpos");
        assert_eq!(strip["offset"], 1);
        let slots = numbers(&strip["block"]);
        assert_eq!(slots.len() as u64, sim.blocks_mined + 1);
        assert_eq!(&slots[1..], &numbers_after(&text, " in its slot ")[..]);
        assert_eq!(numbers(&strip["missed"]).len() as u64, 2 * missed);
        let lib = numbers(&strip["irreversible"]);
        assert_eq!(lib.len() / 2, count(" is now irreversible "));
        assert!(lib.chunks(2).zip(lib.chunks(2).skip(1)).all(|(a, b)| a[0] <= b[0] && a[1] < b[1]));
    }

    /// The number after `needle` on every story line that has it.
    fn numbers_after(text: &[&str], needle: &str) -> Vec<u64> {
        text.iter()
            .filter_map(|l| l.split(needle).nth(1))
            .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
            .collect()
    }

    /// The integers of a JSON array.
    fn numbers(v: &serde_json::Value) -> Vec<u64> {
        v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect()
    }

    /// A pos-slot page's strip puts each block in its leader's slot, says the rollback
    /// limit that makes blocks final, and a proof-of-work page has no strip.
    #[test]
    fn slot_page_strip_puts_each_block_in_its_leaders_slot() {
        let (sim, _, data) = page_with("consensus/pos-slot.toml", &["run.blocks=60"]);
        let strip = &data["slots"];
        assert_eq!(strip["kind"], "pos-slot");
        assert_eq!(strip["len_us"], 1_000_000);
        assert_eq!(strip["final_depth"], 100);
        let slots = numbers(&strip["block"]);
        assert_eq!(slots.len() as u64, sim.blocks_mined + 1);
        let text: Vec<&str> =
            data["lines"]["text"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
        assert_eq!(&slots[1..], &numbers_after(&text, " is the slot leader for slot ")[..]);
        // Slots run forward with mining order; at f = 0.05 most slots have no block.
        assert!(slots.windows(2).all(|w| w[0] <= w[1]));
        assert!(*slots.last().unwrap() > 5 * sim.blocks_mined);
        let (_, _, pow) = page_with("classroom.toml", &[]);
        assert!(pow.get("slots").is_none());
    }

    /// A censoring cartel's page says, block by block, how many payments a member left out;
    /// only members do.
    #[test]
    fn cartel_page_says_what_each_member_left_out() {
        let (_, _, data) = page_with("attacks/dpos-cartel-censor.toml", &["run.blocks=100"]);
        let text: Vec<&str> =
            data["lines"]["text"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
        let members = ["n2", "n4", "n6", "n8", "n10", "n12", "n14"];
        let left: Vec<&&str> = text.iter().filter(|l| l.contains(" (cartel) left out ")).collect();
        assert!(left.len() > 10, "{} lines", left.len());
        for line in left {
            let who = line.split("producer ").nth(1).unwrap().split(' ').next().unwrap();
            assert!(members.contains(&who), "{line}");
        }
    }

    #[test]
    fn html_recorder_stops_keeping_messages_at_the_cap() {
        let (sim, _, _) = page_of("classroom.toml");
        let mut r = Recorder::new(vec!["a".into(), "b".into()], false);
        let block = BlockId::GENESIS;
        for i in 0..MESSAGE_CAP as u64 + 10 {
            let sent = SimTime(1_000_000_000 - i);
            let m = Record::MessageSent {
                from: NodeId(0),
                to: NodeId(1),
                kind: MessageKind::Inv,
                block,
                sent,
                arrives: SimTime(sent.0 + 5),
            };
            r.record(&m, &sim.store);
        }
        assert_eq!(r.messages.len(), MESSAGE_CAP);
        assert_eq!(r.messages_cut, Some(SimTime(1_000_000_000 - MESSAGE_CAP as u64 - 9)));
    }
}
