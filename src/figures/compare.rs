//! `compare.png`/`.svg`: the consensus kinds of a `forksim compare` side by side, drawn
//! from `compare.csv` alone (so `forksim compare` and a reader of its folder see the same
//! numbers).
//!
//! Four panels with one bar per kind: the stale rate, the time to finality under each
//! kind's own rule (bar: median; black tick: 90th percentile), and producer concentration
//! as the Nakamoto coefficient and the Gini coefficient of main-chain blocks. A kind
//! without a value (no block final by the end of the run) gets no bar.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::{PALETTE, PlotError, save_figure_sized};
use crate::results::rows::{CsvRow, read_rows};

/// The columns of `compare.csv` the figure uses.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct KindRow {
    kind: String,
    stale_rate: f64,
    finality_median_s: Option<f64>,
    finality_p90_s: Option<f64>,
    nakamoto_coefficient: Option<f64>,
    gini: Option<f64>,
}

impl CsvRow for KindRow {
    const FILE: &'static str = crate::compare::COMPARE_CSV;
}

/// One panel: a title, a unit, and per kind a bar and an optional upper tick.
struct Panel {
    title: &'static str,
    y_desc: &'static str,
    bars: Vec<Option<f64>>,
    ticks: Vec<Option<f64>>,
}

/// Draws `compare.png` and `compare.svg` into `dir` from its `compare.csv`; `title` names
/// the scenario.
///
/// # Errors
///
/// [`PlotError`] if `compare.csv` is missing or malformed, or drawing fails.
pub fn draw_compare(dir: &Path, title: &str) -> Result<Vec<(PathBuf, String)>, PlotError> {
    let rows = read_rows::<KindRow>(dir)?;
    let kinds: Vec<String> = rows.iter().map(|r| r.kind.clone()).collect();
    let finite = |v: Option<f64>| v.filter(|x| x.is_finite() && *x >= 0.0);
    let panels = [
        Panel {
            title: "Stale rate",
            y_desc: "blocks not in the final chain (%)",
            bars: rows.iter().map(|r| finite(Some(100.0 * r.stale_rate))).collect(),
            ticks: vec![None; rows.len()],
        },
        Panel {
            title: "Time to finality (bar: median, tick: p90)",
            y_desc: "seconds from production to final",
            bars: rows.iter().map(|r| finite(r.finality_median_s)).collect(),
            ticks: rows.iter().map(|r| finite(r.finality_p90_s)).collect(),
        },
        Panel {
            title: "Nakamoto coefficient",
            y_desc: "producers holding > 1/2 of the blocks",
            bars: rows.iter().map(|r| finite(r.nakamoto_coefficient)).collect(),
            ticks: vec![None; rows.len()],
        },
        Panel {
            title: "Gini of main-chain blocks",
            y_desc: "0: equal, 1: one producer",
            bars: rows.iter().map(|r| finite(r.gini)).collect(),
            ticks: vec![None; rows.len()],
        },
    ];
    save_figure_sized(
        dir,
        "compare",
        (1200, 900),
        |a| draw(a, &kinds, &panels, title),
        |a| draw(a, &kinds, &panels, title),
    )
}

fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    kinds: &[String],
    panels: &[Panel],
    title: &str,
) -> DrawResult<(), DB> {
    area.fill(&WHITE)?;
    let area =
        area.titled(&format!("Consensus kinds on one network  ({title})"), ("sans-serif", 24))?;
    let n = kinds.len().max(1);
    for (panel, area) in panels.iter().zip(area.split_evenly((2, 2))) {
        let top = panel.bars.iter().chain(&panel.ticks).flatten().copied().fold(0.0, f64::max);
        let y_max = if top > 0.0 { top * 1.15 } else { 1.0 };
        let mut chart = ChartBuilder::on(&area)
            .caption(panel.title, ("sans-serif", 19))
            .margin(15)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..n as f64, 0.0..y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n * 2 + 1)
            .x_label_formatter(&|x| {
                let i = x.floor() as usize;
                if (x - i as f64 - 0.5).abs() < 1e-9 && i < kinds.len() {
                    kinds[i].clone()
                } else {
                    String::new()
                }
            })
            .y_desc(panel.y_desc)
            .label_style(("sans-serif", 15))
            .draw()?;
        for (i, bar) in panel.bars.iter().enumerate() {
            let Some(v) = bar else { continue };
            let colour = PALETTE[i % PALETTE.len()];
            let x = i as f64;
            chart
                .draw_series([Rectangle::new([(x + 0.2, 0.0), (x + 0.8, *v)], colour.filled())])?;
        }
        for (i, tick) in panel.ticks.iter().enumerate() {
            let Some(v) = tick else { continue };
            let x = i as f64;
            chart.draw_series([PathElement::new(
                vec![(x + 0.3, *v), (x + 0.7, *v)],
                BLACK.stroke_width(3),
            )])?;
            let from = panel.bars[i].unwrap_or(0.0);
            chart.draw_series([PathElement::new(vec![(x + 0.5, from), (x + 0.5, *v)], BLACK)])?;
        }
    }
    Ok(())
}
