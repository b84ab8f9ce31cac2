//! The block tree of a run as a picture (`tree.png`/`tree.svg`), drawn from `blocks.csv`.
//!
//! Heights run left to right. The final main chain sits on one line with a dark outline;
//! stale branches sit on lanes above it, joined to the block they forked from, faded. Every
//! block is coloured by its miner, with a legend. In a long run, straight stretches of the
//! main chain far from any fork are collapsed into one "... N blocks ..." mark, so a
//! thousand-block run still shows each fork clearly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::chain::prefix_index::PrefixIndex;
use crate::figures::{PALETTE, PlotError, save_figure_sized};
use crate::results::rows::{BlockRow, CsvRow, for_each_row};

/// Runs shorter than this are drawn in full.
const COLLAPSE_ABOVE_HEIGHTS: u32 = 60;
/// Main-chain blocks kept on each side of a fork when collapsing.
const CONTEXT_BLOCKS: u32 = 2;
/// Stretches shorter than this are drawn rather than collapsed.
const COLLAPSE_MIN_BLOCKS: usize = 3;
/// Miners named in the legend; the rest share one grey.
const LEGEND_MINERS: usize = 10;

/// One block of the tree (genesis first, then in mining order).
#[derive(Clone, Debug)]
pub(crate) struct TreeBlock {
    pub(crate) height: u32,
    /// Index of the parent in the same list.
    pub(crate) parent: Option<usize>,
    pub(crate) miner: String,
    /// In the final main chain.
    pub(crate) main: bool,
}

/// Where each block is drawn.
pub(crate) struct Layout {
    /// Column of each height (None inside a collapsed stretch).
    pub(crate) column_of_height: Vec<Option<u32>>,
    /// Collapsed stretches: (column, blocks hidden).
    pub(crate) gaps: Vec<(u32, u32)>,
    /// Lane of each block (0 = main chain).
    pub(crate) lane: Vec<u32>,
    pub(crate) columns: u32,
    pub(crate) lanes: u32,
}

/// The rows read so far, by block hash: a hash of 64 lowercase hex digits (what a run
/// writes) as 32 bytes in a [`PrefixIndex`] (8 bytes an entry, confirmed against the row's
/// hash kept in `hashes`: 40 bytes a row instead of about 75 in an ordered map of whole
/// keys), any other text (a damaged file) by its text. Two rows share a key exactly when
/// their texts are equal, and a later row replaces an earlier one under the same key.
#[derive(Default)]
struct RowIndex {
    by_prefix: PrefixIndex<u32>,
    /// Each row's hash as bytes (zeros for a row whose hash is not hex), by row.
    hashes: Vec<[u8; 32]>,
    /// Hex hashes that stand for genesis (the parent of the first blocks), which has no row
    /// hash of its own.
    genesis: BTreeSet<[u8; 32]>,
    /// Keys that are not 64 lowercase hex digits.
    text: BTreeMap<String, usize>,
}

/// Decodes 64 lowercase hex digits.
fn hex_hash(text: &str) -> Option<[u8; 32]> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = digit(bytes[2 * i])? << 4 | digit(bytes[2 * i + 1])?;
    }
    Some(out)
}

impl RowIndex {
    /// The row indexed under `key`.
    fn get(&self, key: &str) -> Option<usize> {
        match hex_hash(key) {
            Some(hash) => {
                let hashes = &self.hashes;
                match self.by_prefix.get(&hash, |row| hashes[row as usize]) {
                    Some(row) => Some(row as usize),
                    None => self.genesis.contains(&hash).then_some(0),
                }
            }
            None => self.text.get(key).copied(),
        }
    }

    /// Indexes genesis (row 0) under `key`.
    fn insert_genesis(&mut self, key: String) {
        match hex_hash(&key) {
            Some(hash) => {
                self.genesis.insert(hash);
            }
            None => {
                self.text.insert(key, 0);
            }
        }
    }

    /// Indexes the next row (`row`, one past the last) under `key`.
    fn insert_row(&mut self, key: String, row: usize) {
        self.hashes.resize(row, [0; 32]);
        match hex_hash(&key) {
            Some(hash) => {
                self.hashes.push(hash);
                let hashes = &self.hashes;
                let id = u32::try_from(row).expect("fewer than 2^32 rows");
                self.by_prefix.insert(hash, id, |r| hashes[r as usize]);
            }
            None => {
                self.hashes.push([0; 32]);
                self.text.insert(key, row);
            }
        }
    }
}

/// Reads `blocks.csv` one row at a time (a million-block run's file is hundreds of
/// megabytes as text), keeping per block only what the tree needs and its hash as bytes.
fn read_blocks(dir: &Path) -> Result<Vec<TreeBlock>, PlotError> {
    let path = dir.join(BlockRow::FILE);
    let err = |reason: String| PlotError::Read { path: path.display().to_string(), reason };
    // Genesis is not a row: it is the parent of the first block, at index 0.
    let mut blocks = vec![TreeBlock { height: 0, parent: None, miner: String::new(), main: true }];
    let mut index = RowIndex::default();
    let mut failed = None;
    let mut i = 0usize;
    for_each_row::<BlockRow>(dir, |r| {
        let row = i;
        i += 1;
        if failed.is_some() {
            return Ok(());
        }
        let height = r.height;
        let parent_text = r.parent.unwrap_or_default();
        let parent = match index.get(&parent_text) {
            Some(p) => p,
            None if height == 1 => {
                index.insert_genesis(parent_text);
                0
            }
            None => {
                failed =
                    Some(format!("row {}: parent {parent_text} is not an earlier row", row + 2));
                return Ok(());
            }
        };
        // A block sits one above its parent; a damaged height (4294967295) would otherwise
        // size the layout's per-height tables.
        let expected = blocks[parent].height + 1;
        if height != expected {
            failed = Some(format!(
                "row {}: height {height} is not one above its parent's ({})",
                row + 2,
                expected - 1
            ));
            return Ok(());
        }
        index.insert_row(r.hash, blocks.len());
        blocks.push(TreeBlock {
            height,
            parent: Some(parent),
            miner: r.miner,
            main: r.in_main_chain,
        });
        Ok(())
    })?;
    match failed {
        Some(reason) => Err(err(reason)),
        None => Ok(blocks),
    }
}

/// Columns and lanes of the tree. With `collapse`, a long run keeps only its ends and the
/// heights around forks; without it every height gets its own column.
pub(crate) fn layout(blocks: &[TreeBlock], collapse: bool) -> Layout {
    let max_height = blocks.iter().map(|b| b.height).max().unwrap_or(0);
    // Heights to show: all of them in a short run; otherwise the ends and every fork with
    // some context.
    let mut keep = vec![!collapse || max_height <= COLLAPSE_ABOVE_HEIGHTS; max_height as usize + 1];
    // The ends of the chain (a run that mined nothing has genesis alone).
    for h in [0, 1, max_height.saturating_sub(1), max_height] {
        if h <= max_height {
            keep[h as usize] = true;
        }
    }
    for b in blocks.iter().filter(|b| !b.main) {
        let from = b.height.saturating_sub(CONTEXT_BLOCKS + 1);
        let to = (b.height + CONTEXT_BLOCKS).min(max_height);
        for h in from..=to {
            keep[h as usize] = true;
        }
    }
    // Collapsing one or two blocks saves nothing: draw them.
    let mut h = 0usize;
    while h < keep.len() {
        let start = h;
        while h < keep.len() && !keep[h] {
            h += 1;
        }
        if h - start < COLLAPSE_MIN_BLOCKS {
            keep[start..h].iter_mut().for_each(|k| *k = true);
        }
        h = h.max(start + 1);
    }
    let mut column_of_height = vec![None; keep.len()];
    let mut gaps = Vec::new();
    let mut column = 0u32;
    let mut h = 0usize;
    while h < keep.len() {
        if keep[h] {
            column_of_height[h] = Some(column);
            column += 1;
            h += 1;
        } else {
            let start = h;
            while h < keep.len() && !keep[h] {
                h += 1;
            }
            gaps.push((column, (h - start) as u32));
            column += 1;
        }
    }
    // Lanes: the main chain on 0; each stale branch on the lowest lane free over its span.
    let mut lane = vec![0u32; blocks.len()];
    let mut lane_busy_until: Vec<u32> = vec![u32::MAX];
    let mut continued = vec![false; blocks.len()];
    let mut order: Vec<usize> = (0..blocks.len()).collect();
    order.sort_by_key(|&i| (blocks[i].height, i));
    for i in order {
        let b = &blocks[i];
        if b.main {
            continue;
        }
        let parent = b.parent.unwrap_or(0);
        let col = |h: u32| column_of_height[h as usize].unwrap_or(0);
        let l = if !blocks[parent].main && !continued[parent] {
            continued[parent] = true;
            lane[parent]
        } else {
            let start = col(b.height);
            match lane_busy_until.iter().skip(1).position(|&until| until < start) {
                Some(k) => k as u32 + 1,
                None => {
                    lane_busy_until.push(0);
                    lane_busy_until.len() as u32 - 1
                }
            }
        };
        lane[i] = l;
        lane_busy_until[l as usize] = col(b.height) + 1;
    }
    Layout { column_of_height, gaps, lane, columns: column, lanes: lane_busy_until.len() as u32 }
}

/// A distinct colour per legend slot; grey for the rest.
pub(crate) fn miner_colour(slot: Option<usize>) -> RGBColor {
    slot.map_or(RGBColor(150, 150, 150), |s| PALETTE[s % PALETTE.len()])
}

/// Miners ranked by blocks mined, most first (ties by name), and the legend slot (hence
/// colour) of the first `LEGEND_MINERS`; the rest share one grey.
pub(crate) fn miner_slots(blocks: &[TreeBlock]) -> (Vec<(&str, u32)>, BTreeMap<String, usize>) {
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for b in blocks.iter().skip(1) {
        *counts.entry(b.miner.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<(&str, u32)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let slot = ranked
        .iter()
        .take(LEGEND_MINERS)
        .enumerate()
        .map(|(i, (m, _))| (m.to_string(), i))
        .collect();
    (ranked, slot)
}

/// Draws `tree.png` and `tree.svg` for a results folder.
///
/// # Errors
///
/// Returns [`PlotError`] if `blocks.csv` is missing or malformed, or drawing fails.
pub fn draw_tree(dir: &Path, title: &str) -> Result<Vec<(PathBuf, String)>, PlotError> {
    let blocks = read_blocks(dir)?;
    let layout = layout(&blocks, true);
    // Legend: miners by number of blocks, most first (ties by name).
    let (ranked, slot) = miner_slots(&blocks);
    let others = ranked.len().saturating_sub(LEGEND_MINERS);
    let stale = blocks.iter().filter(|b| !b.main).count();
    let caption = format!("{title}: {} blocks, {stale} stale", blocks.len() - 1);
    let width = (160 + layout.columns * 34).clamp(700, 4000);
    let height = (230 + layout.lanes * 60).clamp(330, 1400);
    let legend: Vec<(String, RGBColor)> = ranked
        .iter()
        .take(LEGEND_MINERS)
        .map(|(m, n)| (format!("{m} ({n})"), miner_colour(slot.get(*m).copied())))
        .chain((others > 0).then(|| (format!("{others} other miners"), miner_colour(None))))
        .collect();
    let scene =
        Scene { blocks: &blocks, layout: &layout, slot: &slot, caption: &caption, legend: &legend };
    save_figure_sized(dir, "tree", (width, height), |a| scene.draw(a), |a| scene.draw(a))
}

/// Everything one drawing needs.
struct Scene<'a> {
    blocks: &'a [TreeBlock],
    layout: &'a Layout,
    slot: &'a BTreeMap<String, usize>,
    caption: &'a str,
    legend: &'a [(String, RGBColor)],
}

impl Scene<'_> {
    /// Where block `i` is drawn; `None` inside a collapsed stretch.
    fn position(&self, i: usize) -> Option<(f64, f64)> {
        let b = &self.blocks[i];
        let col = self.layout.column_of_height[b.height as usize]?;
        Some((f64::from(col), f64::from(self.layout.lane[i])))
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        area.fill(&WHITE)?;
        let (legend_area, tree_area) = area.split_vertically(70);
        let cols = f64::from(self.layout.columns.max(1));
        let lanes = f64::from(self.layout.lanes.max(1));
        let mut chart = ChartBuilder::on(&tree_area)
            .caption(self.caption, ("sans-serif", 22))
            .margin(25)
            .build_cartesian_2d(-0.7..cols - 0.3, -0.9..lanes - 0.3)?;
        let font = ("sans-serif", 14).into_font();
        // The main chain is one line across every column (collapsed stretches included);
        // branch edges follow; blocks sit on top.
        let baseline = vec![(0.0, 0.0), (cols - 1.0, 0.0)];
        chart.draw_series(std::iter::once(PathElement::new(baseline, BLACK.stroke_width(3))))?;
        for (i, b) in self.blocks.iter().enumerate().filter(|(_, b)| !b.main) {
            let (Some(p), Some(to)) = (b.parent, self.position(i)) else { continue };
            let Some(from) = self.position(p) else { continue };
            let style = BLACK.mix(0.35).stroke_width(2);
            let path =
                if from.1 == to.1 { vec![from, to] } else { vec![from, (from.0 + 0.5, to.1), to] };
            chart.draw_series(std::iter::once(PathElement::new(path, style)))?;
        }
        for &(col, hidden) in &self.layout.gaps {
            let x = f64::from(col);
            chart.draw_series(std::iter::once(Text::new(
                format!("... {hidden} blocks ..."),
                (x - 0.45, -0.45),
                font.clone().color(&BLACK.mix(0.7)),
            )))?;
        }
        let pixels_per_column = f64::from(tree_area.dim_in_pixel().0) / cols;
        let label_every = if pixels_per_column >= 28.0 { 1 } else { 5 };
        for (i, b) in self.blocks.iter().enumerate() {
            let Some(pos) = self.position(i) else { continue };
            let colour =
                if i == 0 { BLACK } else { miner_colour(self.slot.get(&b.miner).copied()) };
            let (fill, radius) =
                if b.main { (colour.filled(), 10) } else { (colour.mix(0.55).filled(), 9) };
            chart.draw_series(std::iter::once(Circle::new(pos, radius, fill)))?;
            if b.main {
                chart.draw_series(std::iter::once(Circle::new(
                    pos,
                    radius,
                    BLACK.stroke_width(2),
                )))?;
                let col = pos.0 as u32;
                if col.is_multiple_of(label_every) || b.height == 0 {
                    let text = Text::new(b.height.to_string(), (pos.0 - 0.15, -0.3), font.clone());
                    chart.draw_series(std::iter::once(text))?;
                }
            }
        }
        // Legend across the top: one coloured dot and name per miner.
        let mut x = 20;
        let heading = Text::new("miners (blocks):", (x, 12), ("sans-serif", 16).into_font());
        legend_area.draw(&heading)?;
        x += 140;
        let mut y = 12;
        for (name, colour) in self.legend {
            let width = 30 + 8 * name.chars().count() as i32;
            if x + width > legend_area.dim_in_pixel().0 as i32 - 10 {
                x = 160;
                y += 22;
            }
            legend_area.draw(&Circle::new((x + 7, y + 8), 7, colour.filled()))?;
            legend_area.draw(&Text::new(
                name.clone(),
                (x + 20, y),
                ("sans-serif", 15).into_font(),
            ))?;
            x += width;
        }
        let note = "main chain: dark outline, on the bottom line; stale branches: faded, above it";
        let note_font = ("sans-serif", 15).into_font().color(&BLACK.mix(0.7));
        legend_area.draw(&Text::new(note, (20, 50), note_font))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(height: u32, parent: usize, main: bool) -> TreeBlock {
        TreeBlock { height, parent: Some(parent), miner: "m".into(), main }
    }

    #[test]
    fn stale_branches_get_their_own_lanes_and_long_runs_collapse() {
        // Genesis, a main chain of 100 blocks, a one-block fork at height 50 and a
        // two-block fork at height 50 too.
        let mut blocks =
            vec![TreeBlock { height: 0, parent: None, miner: String::new(), main: true }];
        for h in 1..=100 {
            blocks.push(block(h, h as usize - 1, true));
        }
        blocks.push(block(50, 49, false)); // index 101
        blocks.push(block(50, 49, false)); // index 102
        blocks.push(block(51, 102, false)); // index 103 continues 102's lane
        let l = layout(&blocks, true);
        assert_eq!(l.lane[101], 1);
        assert_eq!(l.lane[102], 2);
        assert_eq!(l.lane[103], 2);
        assert!(l.columns < 30, "{} columns for 100 blocks with one fork", l.columns);
        assert!(l.column_of_height[50].is_some() && l.column_of_height[20].is_none());
        let hidden: u32 = l.gaps.iter().map(|g| g.1).sum();
        let shown = l.column_of_height.iter().filter(|c| c.is_some()).count() as u32;
        assert_eq!(hidden + shown, 101, "every height is either shown or counted in a gap");
    }

    #[test]
    fn the_row_index_finds_what_an_ordered_map_of_whole_texts_finds() {
        // The index as it was: whole key texts, a later row replacing an earlier one.
        let mut model: BTreeMap<String, usize> = BTreeMap::new();
        let mut index = RowIndex::default();
        let hex = |i: u32| -> String {
            crate::chain::hash::sha256d(&i.to_le_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        let mut keys: Vec<String> = (0..3_000).map(hex).collect();
        // Not 64 lowercase hex digits: kept as text.
        keys.extend(["NOT-HEX".to_string(), hex(5).to_uppercase(), hex(6)[..63].to_string()]);
        // The first 10 bytes of another key's hash (its prefix and shard), then others.
        let twin = format!("{}{}", &hex(7)[..20], &hex(8)[20..]);
        keys.push(twin);
        let mut row = 1;
        for (i, key) in keys.iter().enumerate() {
            if i % 11 == 0 && index.get(key).is_none() {
                index.insert_genesis(key.clone());
                model.insert(key.clone(), 0);
            }
            if i % 3 != 1 {
                index.insert_row(key.clone(), row);
                model.insert(key.clone(), row);
                row += 1;
            }
            if i % 13 == 12 {
                let again = keys[i / 2].clone();
                index.insert_row(again.clone(), row);
                model.insert(again, row);
                row += 1;
            }
        }
        for key in keys.iter().chain([&hex(99_999), &String::new()]) {
            assert_eq!(index.get(key), model.get(key).copied(), "{key}");
        }
    }

    #[test]
    fn short_runs_are_drawn_in_full() {
        let mut blocks =
            vec![TreeBlock { height: 0, parent: None, miner: String::new(), main: true }];
        for h in 1..=40 {
            blocks.push(block(h, h as usize - 1, true));
        }
        let l = layout(&blocks, true);
        assert!(l.gaps.is_empty());
        assert_eq!(l.columns, 41);
    }
}
