//! The transaction figure of a run with a workload, drawn from `mempool.csv` and
//! `transactions.csv` alone: mempool sizes of the sampled nodes over time (left) and how long
//! payments waited for their main-chain block, by fee rate (right: the share confirmed within
//! a given time, for the lowest, middle and highest third of fee rates).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::figures::{PALETTE, PlotError, save_figure_sized};
use crate::results::rows::{CsvRow, MempoolRow, TransactionRow, for_each_row};

/// Series of (time in minutes, mempool transactions) per sampled node, in node order.
type MempoolSeries = BTreeMap<String, Vec<(f64, f64)>>;

/// Draws `transactions.png`/`.svg` if the folder has a workload's files.
///
/// # Errors
///
/// [`PlotError`] if a file is malformed or drawing fails.
pub fn draw_transaction_plots(
    dir: &Path,
    label: &str,
) -> Result<Vec<(PathBuf, String)>, PlotError> {
    if !dir.join(TransactionRow::FILE).exists() || !dir.join(MempoolRow::FILE).exists() {
        return Ok(Vec::new());
    }
    // Both files are read a row at a time: a long run's are hundreds of bytes per payment
    // as text, the figure keeps 16 bytes per point.
    let mut mempool: MempoolSeries = BTreeMap::new();
    for_each_row::<MempoolRow>(dir, |r| {
        let point = (r.time_ms.as_ms_f64() / 60_000.0, r.txs as f64);
        mempool.entry(r.node).or_default().push(point);
        Ok(())
    })?;
    // (fee rate, latency in minutes) of confirmed payments.
    let mut confirmed: Vec<(f64, f64)> = Vec::new();
    for_each_row::<TransactionRow>(dir, |r| {
        if let Some(latency) = r.confirmation_latency_ms {
            confirmed.push((r.fee_rate_sat_vb.0, latency.as_ms_f64() / 60_000.0));
        }
        Ok(())
    })?;
    confirmed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let thirds: Vec<Vec<f64>> = (0..3)
        .map(|k| {
            let n = confirmed.len();
            let mut v: Vec<f64> =
                confirmed[k * n / 3..(k + 1) * n / 3].iter().map(|x| x.1).collect();
            v.sort_by(f64::total_cmp);
            v
        })
        .collect();
    let bounds: Vec<f64> =
        (1..3).map(|k| confirmed.get(k * confirmed.len() / 3).map_or(0.0, |x| x.0)).collect();
    save_figure_sized(
        dir,
        "transactions",
        (1400, 600),
        |a| draw(a, &mempool, &thirds, &bounds, label),
        |a| draw(a, &mempool, &thirds, &bounds, label),
    )
}

fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    mempool: &MempoolSeries,
    thirds: &[Vec<f64>],
    bounds: &[f64],
    label: &str,
) -> DrawResult<(), DB> {
    area.fill(&WHITE)?;
    let (left, right) = area.split_horizontally(700);

    let t_max = mempool.values().flatten().map(|p| p.0).fold(0.0, f64::max).max(1e-3);
    let n_max = mempool.values().flatten().map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.1;
    let mut chart = ChartBuilder::on(&left)
        .caption(format!("Mempool size  ({label})"), ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(65)
        .build_cartesian_2d(0.0..t_max, 0.0..n_max)?;
    chart
        .configure_mesh()
        .x_desc("virtual time (minutes)")
        .y_desc("transactions in the mempool")
        .label_style(("sans-serif", 15))
        .draw()?;
    for (k, (node, points)) in mempool.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(1)))?
            .label(node.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;

    let l_max = thirds.iter().flatten().copied().fold(0.0, f64::max).max(1e-3);
    let mut chart = ChartBuilder::on(&right)
        .caption("Confirmed payments: time to their block, by fee rate", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(65)
        .build_cartesian_2d(0.0..l_max, 0.0..100.0)?;
    chart
        .configure_mesh()
        .x_desc("minutes from payment to its main-chain block")
        .y_desc("payments confirmed (%)")
        .label_style(("sans-serif", 15))
        .draw()?;
    let names = [
        format!("lowest third of fee rates (< {:.1} sat/B)", bounds.first().unwrap_or(&0.0)),
        "middle third".to_string(),
        format!("highest third (> {:.1} sat/B)", bounds.get(1).unwrap_or(&0.0)),
    ];
    for (k, (v, name)) in thirds.iter().zip(names).enumerate() {
        let colour = [PALETTE[3], PALETTE[1], PALETTE[2]][k];
        let n = v.len().max(1) as f64;
        let cdf = v.iter().enumerate().map(|(i, &x)| (x, 100.0 * (i + 1) as f64 / n));
        chart.draw_series(LineSeries::new(cdf, colour.stroke_width(2)))?.label(name).legend(
            move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)),
        );
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
}
