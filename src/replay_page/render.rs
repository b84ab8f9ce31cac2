//! Turns a [`Recorder`] and the finished run into the page: the data as compact JSON
//! (integers only: milliseconds of virtual time, node and block indices, times sorted and
//! stored as differences), spliced with the inline style sheet and script into one file.

use serde::Serialize;

use super::Recorder;
use super::layout::{HEIGHT, WIDTH, layout};
use crate::chain::BlockId;
use crate::figures::PALETTE;
use crate::figures::tree::{TreeBlock, miner_colour, miner_slots};
use crate::id::NodeId;
use crate::network::message::MessageKind;
use crate::results::Outcome;
use crate::scenario::Scenario;
use crate::time::SimTime;

/// The page's file name in a results folder.
pub const FILE_NAME: &str = "replay.html";

/// Node names are written on the drawing up to this many nodes.
const LABELLED_MAX_NODES: usize = 30;
/// Activity closer than this (ms) counts as one busy stretch; the page fast-forwards between
/// stretches.
const BUSY_GAP_MS: u64 = 1_000;

const TEMPLATE: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// Message kind names, indexed by the kind's number.
const KIND_NAMES: [&str; 7] =
    ["inv", "getdata", "getcmpct", "block", "cmpctblock", "getblocktxn", "blocktxn"];

/// Everything the script reads, in one JSON object.
#[derive(Serialize)]
struct PageData<'a> {
    title: &'a str,
    seed: u64,
    headline: String,
    /// End of the run, ms.
    end: u64,
    width: i32,
    height: i32,
    names: &'a [String],
    /// Region of each node, as an index into `region_names`.
    region: Vec<usize>,
    region_names: &'a [String],
    x: Vec<i32>,
    y: Vec<i32>,
    radius: i32,
    /// Whether node names are drawn.
    labels: bool,
    /// (name, x, y) of region labels.
    regions: Vec<(String, i32, i32)>,
    /// Nodes with hash power.
    miners: Vec<u32>,
    /// Undirected links as a flat list of (lower node, higher node).
    edges: Vec<u32>,
    /// Colour of each legend slot, then the colour of the other miners last.
    palette: Vec<String>,
    /// Colour slot of each node's blocks (the last palette entry for miners out of the
    /// legend and for nodes that mined nothing).
    slot: Vec<usize>,
    /// Legend: (label, slot).
    legend: Vec<(String, usize)>,
    blocks: Blocks,
    /// Tip changes as flat (ms since the previous change, node, block index).
    tips: Vec<u64>,
    /// Messages sorted by sending time, as flat (ms since the previous message, ms on the
    /// way, directed link = edge * 2 + (1 if sent from the higher node), kind, block index).
    msgs: Vec<u64>,
    /// Messages from this time on were not kept (ms).
    msg_cut: Option<u64>,
    kinds: [&'static str; 7],
    lines: Lines,
    /// Routine lines from this time on were not kept (ms).
    line_cut: Option<u64>,
    /// Stretches with something happening, as flat (start ms, end ms).
    busy: Vec<u64>,
    /// `pos-slot` and `dpos`: the strip of slots and their producers (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    slots: Option<SlotStrip>,
}

/// What the slot strip draws: each slot of the run with the blocks made in it, the missed
/// ones, and which blocks are final by the kind's own rule.
#[derive(Serialize)]
struct SlotStrip {
    /// `"pos-slot"` or `"dpos"`.
    kind: &'static str,
    /// Slot length, µs.
    len_us: u64,
    /// Slot s starts at (s + `offset`) slot lengths (a DPoS schedule starts one slot in).
    offset: u64,
    /// The slot of each block of `blocks`, genesis first (genesis says 0).
    block: Vec<u64>,
    /// `dpos`: missed slots as flat (slot, scheduled producer), in record order.
    missed: Vec<u64>,
    /// `pos-slot`: a block is final once it is this many blocks below the highest tip (k).
    final_depth: Option<u64>,
    /// `dpos`: producers per round.
    producers: Option<u32>,
    /// `dpos`: the newest irreversible block's height each time it moves up, as flat (ms,
    /// height).
    irreversible: Vec<u64>,
}

/// The slot strip of a run whose story has slots.
fn slot_strip(scenario: &Scenario, recorder: &Recorder) -> Option<SlotStrip> {
    use crate::observe::narrate::StakeStory;
    use crate::scenario::consensus::KindParams;
    let story = recorder.narrator.story();
    let (kind, len, offset, producers) = match story {
        StakeStory::Found => return None,
        StakeStory::Slots { slot, .. } => ("pos-slot", slot, 0, None),
        StakeStory::Dpos { slot, producers } => ("dpos", slot, 1, Some(producers)),
    };
    let final_depth = match scenario.consensus.params {
        KindParams::PosSlot { k, .. } => Some(k),
        _ => None,
    };
    let block = std::iter::once(0)
        .chain(recorder.mined.iter().map(|&(_, _, time)| story.slot_of(time).unwrap_or(0)))
        .collect();
    Some(SlotStrip {
        kind,
        len_us: len.as_micros().max(1),
        offset,
        block,
        missed: recorder.missed.iter().flat_map(|&(slot, who)| [slot, u64::from(who.0)]).collect(),
        final_depth,
        producers,
        irreversible: recorder
            .irreversible
            .iter()
            .flat_map(|&(time, height)| [ms(time), u64::from(height)])
            .collect(),
    })
}

/// The blocks, genesis first, then in mining order.
#[derive(Serialize, Default)]
struct Blocks {
    /// Index of the parent; genesis has none and says 0.
    parent: Vec<usize>,
    /// Mining node; genesis says the node count.
    miner: Vec<u32>,
    /// When mined, ms.
    t: Vec<u64>,
    height: Vec<u32>,
    /// 1 when in the final main chain.
    main: Vec<u8>,
    /// Lane in the tree (0 = the main chain).
    lane: Vec<u32>,
    hash: Vec<String>,
    lanes: u32,
}

/// The narrated story.
#[derive(Serialize, Default)]
struct Lines {
    /// ms since the previous line.
    t: Vec<u64>,
    /// What the line is about (see `LineKind`).
    k: Vec<u8>,
    text: Vec<String>,
}

/// Rounds virtual time to the nearest millisecond.
fn ms(t: SimTime) -> u64 {
    t.as_micros().saturating_add(500) / 1_000
}

/// Replaces each time of `flat` (every `stride`-th value, from 0) by its difference from the
/// previous one. The times must be sorted.
fn delta_encode(flat: &mut [u64], stride: usize) {
    let mut previous = 0;
    for chunk in flat.chunks_mut(stride) {
        let t = chunk[0];
        chunk[0] = t - previous;
        previous = t;
    }
}

/// Renders the replay page of a finished run from its outcome and the `recorder` that
/// watched it.
pub fn render<O>(scenario: &Scenario, outcome: &Outcome<O>, recorder: &Recorder) -> Vec<u8> {
    let (main, end) = (&outcome.main_chain.in_main, outcome.stats.end_time);
    let (network, store) = (&outcome.network, &outcome.store);
    let n = network.node_count();
    let miners: Vec<u32> = outcome.miners().map(|m| m.0).collect();
    let names = &scenario.node_names;

    // Blocks: genesis, then mining order; `page_index` maps store ids to that order (every
    // block but genesis is recorded as mined, after its parent).
    let mut page_index: Vec<Option<usize>> = vec![None; store.len()];
    page_index[BlockId::GENESIS.index()] = Some(0);
    let mut tree = vec![TreeBlock { height: 0, parent: None, miner: String::new(), main: true }];
    let mut blocks = Blocks::default();
    let genesis = store.get(BlockId::GENESIS);
    blocks.parent.push(0);
    blocks.miner.push(n);
    blocks.t.push(0);
    blocks.height.push(0);
    blocks.main.push(1);
    blocks.hash.push(genesis.hash.short());
    for &(id, miner, time) in &recorder.mined {
        let b = store.get(id);
        let parent =
            b.parent.map_or(0, |p| page_index[p.index()].expect("parents are mined first"));
        page_index[id.index()] = Some(tree.len());
        tree.push(TreeBlock {
            height: b.height,
            parent: Some(parent),
            miner: names[miner.index()].clone(),
            main: main[id.index()],
        });
        blocks.parent.push(parent);
        blocks.miner.push(miner.0);
        blocks.t.push(ms(time));
        blocks.height.push(b.height);
        blocks.main.push(u8::from(main[id.index()]));
        blocks.hash.push(b.hash.short());
    }
    let tree_layout = crate::figures::tree::layout(&tree, false);
    blocks.lane = tree_layout.lane;
    blocks.lanes = tree_layout.lanes;

    // Colours: the block tree's legend slots, so the page matches tree.png.
    let (ranked, slots) = miner_slots(&tree);
    let hex = |c: plotters::style::RGBColor| format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2);
    let others = PALETTE.len().min(slots.len());
    let mut palette: Vec<String> = (0..others).map(|s| hex(miner_colour(Some(s)))).collect();
    palette.push(hex(miner_colour(None)));
    let slot = names.iter().map(|name| slots.get(name).copied().unwrap_or(others)).collect();
    let mut legend: Vec<(String, usize)> = ranked
        .iter()
        .take(others)
        .map(|(m, count)| {
            let plural = if *count == 1 { "" } else { "s" };
            (format!("{m} ({count} block{plural})"), slots[*m])
        })
        .collect();
    let rest = ranked.len().saturating_sub(others);
    if rest > 0 {
        let plural = if rest == 1 { "" } else { "s" };
        legend.push((format!("{rest} other miner{plural}"), others));
    }

    // Links: undirected edges, and the edge of every directed link.
    let mut edges = Vec::new();
    let mut edge_of_link = vec![0u32; network.link_count()];
    for a in NodeId::all(n) {
        for link in network.links_of(a) {
            let b = network.link_target(link);
            if a < b {
                let e = (edges.len() / 2) as u32;
                edge_of_link[link.index()] = e;
                edge_of_link[network.reverse_link(link).index()] = e;
                edges.extend([a.0, b.0]);
            }
        }
    }

    let mut tips: Vec<u64> = recorder
        .tips
        .iter()
        .flat_map(|c| {
            let block = page_index[c.block.index()].expect("a tip is a recorded block");
            [ms(c.time), u64::from(c.node.0), block as u64]
        })
        .collect();
    delta_encode(&mut tips, 3);

    let msg_cut = recorder.messages_cut;
    let mut sent: Vec<&super::Sent> =
        recorder.messages.iter().filter(|m| msg_cut.is_none_or(|cut| m.sent < cut)).collect();
    sent.sort_by_key(|m| (m.sent, m.arrives));
    let mut msgs = Vec::with_capacity(sent.len() * 5);
    for m in &sent {
        let Some(block) = page_index[m.block.index()] else { continue };
        let Some(link) = network.find_link(m.from, m.to) else { continue };
        let directed = u64::from(edge_of_link[link.index()]) * 2 + u64::from(m.from > m.to);
        let (s, a) = (ms(m.sent), ms(m.arrives));
        msgs.extend([s, a - s, directed, kind_number(m.kind), block as u64]);
    }
    delta_encode(&mut msgs, 5);

    let mut lines = Lines::default();
    let mut previous = 0;
    for line in &recorder.lines {
        let t = ms(line.time);
        lines.t.push(t - previous);
        previous = t;
        lines.k.push(line.kind as u8);
        lines.text.push(line.text.clone());
    }

    let nodes = layout(network);
    let data = PageData {
        title: &scenario.name,
        seed: scenario.seed,
        headline: crate::results::report::headline(scenario, n, miners.len() as u32),
        end: ms(end),
        width: WIDTH,
        height: HEIGHT,
        names,
        region: NodeId::all(n).map(|v| network.region_of(v)).collect(),
        region_names: network.region_names(),
        x: nodes.x,
        y: nodes.y,
        radius: nodes.radius,
        labels: (n as usize) <= LABELLED_MAX_NODES,
        regions: nodes.regions,
        miners,
        edges,
        palette,
        slot,
        legend,
        blocks,
        tips,
        msgs,
        msg_cut: msg_cut.map(ms),
        kinds: KIND_NAMES,
        lines,
        line_cut: recorder.lines_cut.map(ms),
        busy: busy_stretches(recorder),
        slots: slot_strip(scenario, recorder),
    };
    let json = serde_json::to_string(&data).expect("the page data serializes");
    let title = format!("forksim replay: {}, seed {}", scenario.name, scenario.seed);
    fill(
        TEMPLATE,
        &[
            ("TITLE", &escape_html(&title)),
            ("STYLE", STYLE),
            ("SCRIPT", SCRIPT),
            // Inside <script>, only "</" can end the element early; "<\/" is the same JSON.
            ("DATA", &json.replace("</", "<\\/")),
        ],
    )
    .into_bytes()
}

fn kind_number(kind: MessageKind) -> u64 {
    kind as u8 as u64
}

/// Stretches of virtual time with messages on the way or lines told, merged when closer
/// than [`BUSY_GAP_MS`].
fn busy_stretches(recorder: &Recorder) -> Vec<u64> {
    let mut spans: Vec<(u64, u64)> = recorder
        .messages
        .iter()
        .map(|m| (ms(m.sent), ms(m.arrives)))
        .chain(recorder.lines.iter().map(|l| (ms(l.time), ms(l.time))))
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 + BUSY_GAP_MS => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged.into_iter().flat_map(|(s, e)| [s, e]).collect()
}

/// Escapes text for HTML.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Replaces each `{{NAME}}` of `template` by its value, in one pass (a value is never
/// searched for markers).
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|v| v.1.len()).sum::<usize>());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").expect("every marker of the template is closed");
        let name = &after[..end];
        let value = values.iter().find(|v| v.0 == name).expect("every marker has a value");
        out.push_str(value.1);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_markers_once() {
        let out = fill("<a>{{X}}</a>{{Y}}", &[("X", "{{Y}}"), ("Y", "2")]);
        assert_eq!(out, "<a>{{Y}}</a>2");
    }

    #[test]
    fn times_become_differences() {
        let mut flat = vec![5, 1, 7, 2, 7, 3, 20, 4];
        delta_encode(&mut flat, 2);
        assert_eq!(flat, vec![5, 1, 2, 2, 0, 3, 13, 4]);
    }
}
