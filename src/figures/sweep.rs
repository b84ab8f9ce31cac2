//! Figures of a sweep, drawn from its `points.csv` alone.
//!
//! The figure follows from what the sweep varied:
//! - `race.q` and `race.z` (double-spend races): **confirmation safety against depth**:
//!   simulated success probability with 95 % bars on a log scale, one colour per q, with
//!   the exact curve (solid) and Nakamoto's (dashed) beside them;
//! - `race.alpha` and `race.gamma` (selfish mining): **relative revenue against alpha**,
//!   one colour per gamma, with Eyal and Sirer's curve and the honest line y = alpha;
//! - anything else with a `stale_rate` metric: **stale rate against each of the first two
//!   axes** (`stale_vs_<field>`), one colour per value of the other axis, with 95 % bars,
//!   and the two-miner closed form with d = the measured mean time to reach 50 % of nodes
//!   for reference;
//! - with published points (`reference.csv`, from the sweep file's `[sweep.reference]`):
//!   **each referenced metric against the first axis** (`reference_vs_<field>`), one panel
//!   per metric, the simulated means with 95 % bars as a line and the published points as
//!   black diamonds, both named in the legend.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::analytic;
use crate::figures::{PALETTE, PlotError, save_figure_sized};
use crate::results::rows::{self, CsvRow, SWEEP_POINT_COLUMN, SweepPointStats, Table};

/// Size of sweep figures.
const SIZE: (u32, u32) = (1000, 650);

/// One row of `points.csv`.
#[derive(Clone, Debug)]
struct PointRow {
    axes: Vec<f64>,
    metric: String,
    mean: f64,
    low: f64,
    high: f64,
}

/// One point of a curve: x, the mean and its 95 % interval.
#[derive(Clone, Copy, Debug)]
struct Mark {
    x: f64,
    mean: f64,
    low: f64,
    high: f64,
}

/// The marks of one series, with the value of the series axis.
type Group = (f64, Vec<Mark>);

/// The parsed points of a sweep.
struct Points {
    axis_names: Vec<String>,
    rows: Vec<PointRow>,
}

impl Points {
    fn read(dir: &Path) -> Result<Points, PlotError> {
        // The axes are the columns between `point` and the statistics: which they are
        // depends on the sweep, so they are found from the header.
        let table = Table::read(&dir.join(SweepPointStats::FILE))?;
        let first_axis = table.column(SWEEP_POINT_COLUMN)? + 1;
        let stats_start = table.column(rows::columns::<SweepPointStats>()[0])?;
        let axis_columns = first_axis..stats_start.max(first_axis);
        let axis_names: Vec<String> =
            axis_columns.clone().map(|c| table.headers()[c].to_string()).collect();
        let stats = table.rows::<SweepPointStats>()?;
        let mut rows = Vec::with_capacity(stats.len());
        for (record, s) in table.records().iter().zip(stats) {
            let axis = |c: usize| -> Result<f64, PlotError> {
                record[c]
                    .parse::<f64>()
                    .map_err(|_| table.value_error(record, c, "not a number").into())
            };
            rows.push(PointRow {
                axes: axis_columns.clone().map(axis).collect::<Result<_, _>>()?,
                metric: s.metric,
                mean: s.mean.0,
                low: s.ci95_low.0,
                high: s.ci95_high.0,
            });
        }
        Ok(Points { axis_names, rows })
    }

    fn axis(&self, name: &str) -> Option<usize> {
        self.axis_names.iter().position(|a| a == name)
    }

    /// Rows of `metric`, grouped by the value of axis `series` (or one group), each group
    /// sorted by axis `x`: (series value, [(x, mean, low, high)]).
    fn series(&self, metric: &str, x: usize, series: Option<usize>) -> Vec<Group> {
        let mut groups: BTreeMap<u64, Group> = BTreeMap::new();
        for r in self.rows.iter().filter(|r| r.metric == metric) {
            let key = series.map_or(0.0, |s| r.axes[s]);
            let entry = groups.entry(key.to_bits()).or_insert((key, Vec::new()));
            entry.1.push(Mark { x: r.axes[x], mean: r.mean, low: r.low, high: r.high });
        }
        let mut out: Vec<_> = groups.into_values().collect();
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (_, pts) in &mut out {
            pts.sort_by(|a, b| a.x.total_cmp(&b.x));
        }
        out
    }
}

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Draws the sweep's figure into `dir` as `NAME.png` and `NAME.svg`; returns the files.
///
/// # Errors
///
/// Returns [`PlotError`] if `points.csv` is missing or malformed, or drawing fails.
pub fn draw_sweep_plots(dir: &Path, title: &str) -> Result<Vec<(PathBuf, String)>, PlotError> {
    let points = Points::read(dir)?;
    if let (Some(q), Some(z)) = (points.axis("race.q"), points.axis("race.z")) {
        let series = points.series("success", z, Some(q));
        return save_figure_sized(
            dir,
            "safety",
            SIZE,
            |a| draw_safety(a, &series, title),
            |a| draw_safety(a, &series, title),
        );
    }
    if let (Some(alpha), gamma) = (points.axis("race.alpha"), points.axis("race.gamma")) {
        let series = points.series("relative_revenue", alpha, gamma);
        return save_figure_sized(
            dir,
            "selfish_revenue",
            SIZE,
            |a| draw_selfish(a, &series, title),
            |a| draw_selfish(a, &series, title),
        );
    }
    let mut written = Vec::new();
    let reference_path = dir.join(crate::sweep::REFERENCE_CSV);
    if reference_path.exists() && !points.axis_names.is_empty() {
        let reference = read_reference(&reference_path)?;
        let series_axis = (points.axis_names.len() > 1).then_some(1);
        let panels: Vec<Panel> = reference
            .iter()
            .map(|p| Panel {
                simulated: points.series(&p.metric, 0, series_axis),
                metric: p.metric.clone(),
                label: p.label.clone(),
                published: p.points.clone(),
            })
            .collect();
        let x_name = points.axis_names[0].clone();
        let short = x_name.rsplit('.').next().unwrap_or(&x_name).to_string();
        let size = (700 * panels.len().max(1) as u32, 600);
        written.extend(save_figure_sized(
            dir,
            &format!("reference_vs_{short}"),
            size,
            |a| draw_reference(a, &panels, &x_name, title),
            |a| draw_reference(a, &panels, &x_name, title),
        )?);
    }
    if points.rows.iter().any(|r| r.metric == "stale_rate") {
        // One figure against each of the first two axes, the other giving the series.
        for x in 0..points.axis_names.len().min(2) {
            let series_axis = (points.axis_names.len() > 1).then_some(1 - x);
            let stale = points.series("stale_rate", x, series_axis);
            let delay = points.series("propagation_p50_mean_ms", x, series_axis);
            let interval = points.series("block_interval_target_s", x, series_axis);
            let x_name = points.axis_names[x].clone();
            let series_name = series_axis.map(|s| points.axis_names[s].clone());
            let short = x_name.rsplit('.').next().unwrap_or(&x_name).to_string();
            written.extend(save_figure_sized(
                dir,
                &format!("stale_vs_{short}"),
                SIZE,
                |a| {
                    draw_stale(a, &stale, &delay, &interval, &x_name, series_name.as_deref(), title)
                },
                |a| {
                    draw_stale(a, &stale, &delay, &interval, &x_name, series_name.as_deref(), title)
                },
            )?);
        }
    }
    Ok(written)
}

/// Draws the legend box of a chart at a position (the same style on every figure).
macro_rules! legend_box {
    ($chart:expr, $position:expr) => {
        $chart
            .configure_series_labels()
            .position($position)
            .label_font(("sans-serif", 15))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
    };
}

/// Adds a legend entry for dashed reference curves (an invisible one-point series at `at`).
macro_rules! dashed_key {
    ($chart:expr, $at:expr, $label:expr) => {
        $chart
            .draw_series(DashedLineSeries::new(vec![$at, $at], 6, 4, BLACK.stroke_width(1)))?
            .label($label)
            .legend(|(x, y)| {
                PathElement::new(
                    vec![(x, y), (x + 8, y), (x + 14, y), (x + 24, y)],
                    BLACK.stroke_width(1),
                )
            })
    };
}

type Series = [Group];

fn draw_safety<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &Series,
    title: &str,
) -> DrawResult<(), DB> {
    area.fill(&WHITE)?;
    let z_max = series.iter().flat_map(|s| s.1.iter().map(|p| p.x)).fold(1.0, f64::max);
    let floor = 1e-7;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Double-spend success against confirmations  ({title})"),
            ("sans-serif", 22),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.3..z_max + 0.3, (floor..1.5).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("confirmations the merchant waits for (z)")
        .y_desc("probability the attacker succeeds")
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .label_style(("sans-serif", 16))
        .draw()?;
    for (i, (q, pts)) in series.iter().enumerate() {
        let c = colour(i);
        let zs: Vec<f64> = pts.iter().map(|p| p.x).collect();
        let curve = |f: &dyn Fn(f64, u32) -> f64| -> Vec<(f64, f64)> {
            zs.iter().map(|&z| (z, f(*q, z as u32).max(floor))).collect()
        };
        let exact = curve(&|q, z| analytic::exact_attacker_success(q, z).unwrap_or(f64::NAN));
        let nakamoto = curve(&|q, z| analytic::nakamoto_attacker_success(q, z).unwrap_or(f64::NAN));
        chart
            .draw_series(LineSeries::new(exact, c.stroke_width(2)))?
            .label(format!("q = {q}: simulated (bars: 95 %), exact (solid)"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(2)));
        chart.draw_series(DashedLineSeries::new(nakamoto, 6, 4, c.mix(0.8).stroke_width(1)))?;
        let visible: Vec<_> = pts.iter().filter(|p| p.mean > 0.0).collect();
        chart.draw_series(visible.iter().map(|p| {
            ErrorBar::new_vertical(p.x, p.low.max(floor), p.mean, p.high.max(floor), c.filled(), 8)
        }))?;
        chart.draw_series(visible.iter().map(|p| Circle::new((p.x, p.mean), 4, c.filled())))?;
    }
    dashed_key!(chart, (-1.0, 2.0), "Nakamoto's formula (dashed)");
    legend_box!(chart, SeriesLabelPosition::LowerLeft)
}

fn draw_selfish<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &Series,
    title: &str,
) -> DrawResult<(), DB> {
    area.fill(&WHITE)?;
    let a_max = series.iter().flat_map(|s| s.1.iter().map(|p| p.x)).fold(0.0, f64::max).max(0.1);
    let y_max = series.iter().flat_map(|s| s.1.iter().map(|p| p.high)).fold(a_max, f64::max) * 1.05;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Selfish mining: revenue against hash share  ({title})"),
            ("sans-serif", 22),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..a_max * 1.02, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("selfish pool's share of hash power (alpha)")
        .y_desc("pool's share of main-chain blocks")
        .label_style(("sans-serif", 16))
        .draw()?;
    chart
        .draw_series(LineSeries::new([(0.0, 0.0), (a_max, a_max)], BLACK.stroke_width(1)))?
        .label("honest mining (y = alpha)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(1)));
    for (i, (gamma, pts)) in series.iter().enumerate() {
        let c = colour(i);
        let curve: Vec<(f64, f64)> = (0..=100)
            .map(|k| a_max * f64::from(k) / 100.0)
            .filter_map(|a| analytic::selfish_mining_revenue(a, *gamma).ok().map(|r| (a, r)))
            .collect();
        chart
            .draw_series(LineSeries::new(curve, c.stroke_width(2)))?
            .label(format!("gamma = {gamma}: Eyal-Sirer (line), simulated (points)"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(2)));
        chart.draw_series(
            pts.iter().map(|p| ErrorBar::new_vertical(p.x, p.low, p.mean, p.high, c.filled(), 8)),
        )?;
        chart.draw_series(pts.iter().map(|p| Circle::new((p.x, p.mean), 5, c.filled())))?;
    }
    legend_box!(chart, SeriesLabelPosition::UpperLeft)
}

fn draw_stale<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    stale: &Series,
    delay_ms: &Series,
    interval_s: &Series,
    x_name: &str,
    series_name: Option<&str>,
    title: &str,
) -> DrawResult<(), DB> {
    area.fill(&WHITE)?;
    let xs = stale.iter().flat_map(|s| s.1.iter().map(|p| p.x));
    let (x_min, x_max) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let log_x = x_min > 0.0 && x_max / x_min >= 20.0;
    let y_max =
        stale.iter().flat_map(|s| s.1.iter().map(|p| p.high)).fold(0.0, f64::max).max(0.001) * 1.1;
    let caption = format!("Stale rate against {x_name}  ({title})");
    let x_label = x_name.to_string();
    // Reference points: the two-miner closed form with d = measured time to 50 % of nodes.
    let reference = |k: usize| -> Vec<(f64, f64)> {
        let (Some(d), Some(t)) = (delay_ms.get(k), interval_s.get(k)) else { return Vec::new() };
        d.1.iter()
            .zip(&t.1)
            .filter_map(|(d, t)| {
                analytic::two_miner_stale_rate(0.5, d.mean / 1_000.0 / t.mean)
                    .ok()
                    .map(|s| (d.x, s))
            })
            .collect()
    };
    macro_rules! body {
        ($chart:expr) => {{
            let chart = &mut $chart;
            chart
                .configure_mesh()
                .x_desc(x_label.as_str())
                .x_labels(8)
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_desc("stale (orphan) rate")
                .label_style(("sans-serif", 16))
                .draw()?;
            for (i, (v, pts)) in stale.iter().enumerate() {
                let c = colour(i);
                let label =
                    series_name.map_or_else(|| "simulated".to_string(), |n| format!("{n} = {v}"));
                chart
                    .draw_series(LineSeries::new(
                        pts.iter().map(|p| (p.x, p.mean)),
                        c.stroke_width(2),
                    ))?
                    .label(format!("{label} (bars: 95 %)"))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(2))
                    });
                chart
                    .draw_series(pts.iter().map(|p| {
                        ErrorBar::new_vertical(p.x, p.low, p.mean, p.high, c.filled(), 8)
                    }))?;
                chart.draw_series(DashedLineSeries::new(
                    reference(i),
                    6,
                    4,
                    c.mix(0.8).stroke_width(1),
                ))?;
            }
            dashed_key!(
                chart,
                (x_min, -1.0),
                "two-miner closed form, d = measured time to 50 % of nodes (dashed)"
            );
            legend_box!(chart, SeriesLabelPosition::UpperRight)
        }};
    }
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(caption, ("sans-serif", 22))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80);
    if log_x {
        let mut chart =
            builder.build_cartesian_2d((x_min * 0.9..x_max * 1.1).log_scale(), 0.0..y_max)?;
        body!(chart)
    } else {
        let pad = (x_max - x_min).max(1.0) * 0.05;
        let mut chart = builder.build_cartesian_2d(x_min - pad..x_max + pad, 0.0..y_max)?;
        body!(chart)
    }
}

/// One panel of the reference figure: a metric, simulated and published.
struct Panel {
    metric: String,
    label: String,
    simulated: Vec<Group>,
    published: Vec<(f64, f64)>,
}

/// One metric's published points.
struct Published {
    metric: String,
    label: String,
    points: Vec<(f64, f64)>,
}

/// `reference.csv`, per metric in order of first appearance.
fn read_reference(path: &Path) -> Result<Vec<Published>, PlotError> {
    let bad = |reason: String| PlotError::Read { path: path.display().to_string(), reason };
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let mut out: Vec<Published> = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        let field = |i: usize| record.get(i).unwrap_or("");
        let number = |i: usize| {
            field(i)
                .parse::<f64>()
                .map_err(|_| bad(format!("row {}: `{}` is not a number", line + 2, field(i))))
        };
        let (x, value) = (number(1)?, number(3)?);
        let (label, metric) = (field(0).to_string(), field(2).to_string());
        match out.iter_mut().find(|p| p.metric == metric) {
            Some(entry) => entry.points.push((x, value)),
            None => out.push(Published { metric, label, points: vec![(x, value)] }),
        }
    }
    Ok(out)
}

/// What a metric measures, for a panel's y axis.
fn metric_description(metric: &str) -> String {
    match metric {
        "stale_rate" => "stale (orphan) rate".to_string(),
        "node_mean_delay_median_ms" => "median over nodes of the mean block delay (ms)".to_string(),
        "traffic_kbit_s_per_node" => "traffic per node, sent and received (kbit/s)".to_string(),
        other => other.to_string(),
    }
}

fn draw_reference<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panels: &[Panel],
    x_name: &str,
    title: &str,
) -> DrawResult<(), DB> {
    area.fill(&WHITE)?;
    let areas = area.split_evenly((1, panels.len().max(1)));
    for (panel, area) in panels.iter().zip(&areas) {
        let xs = panel
            .simulated
            .iter()
            .flat_map(|g| g.1.iter().map(|p| p.x))
            .chain(panel.published.iter().map(|p| p.0));
        let (x_min, x_max) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
        let ys = panel
            .simulated
            .iter()
            .flat_map(|g| g.1.iter().flat_map(|p| [p.low, p.high, p.mean]))
            .chain(panel.published.iter().map(|p| p.1))
            .filter(|y| y.is_finite() && *y > 0.0);
        let (y_min, y_max) = ys.fold((f64::MAX, f64::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
        if x_min > x_max || y_min > y_max {
            continue;
        }
        let log_x = x_min > 0.0 && x_max / x_min >= 20.0;
        let log_y = y_max / y_min >= 20.0;
        let caption = format!("{}  ({title})", metric_description(&panel.metric));
        let mut builder = ChartBuilder::on(area);
        builder
            .caption(caption, ("sans-serif", 19))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80);
        let (x_lo, x_hi) = if log_x {
            (x_min / 1.3, x_max * 1.3)
        } else {
            let pad = (x_max - x_min).max(1.0) * 0.05;
            (x_min - pad, x_max + pad)
        };
        let (y_lo, y_hi) = if log_y { (y_min / 1.5, y_max * 1.5) } else { (0.0, y_max * 1.1) };
        macro_rules! body {
            ($chart:expr) => {{
                let chart = &mut $chart;
                chart
                    .configure_mesh()
                    .x_desc(x_name)
                    .y_desc(metric_description(&panel.metric))
                    .x_label_formatter(&|v| tick(*v))
                    .y_label_formatter(&|v| tick(*v))
                    .label_style(("sans-serif", 15))
                    .draw()?;
                for (i, (v, pts)) in panel.simulated.iter().enumerate() {
                    let c = colour(i);
                    let label = if panel.simulated.len() > 1 {
                        format!("forksim, series {v} (bars: 95 %)")
                    } else {
                        "forksim (bars: 95 %)".to_string()
                    };
                    let visible: Vec<Mark> = pts
                        .iter()
                        .copied()
                        .filter(|p| p.mean.is_finite() && (!log_y || p.mean > 0.0))
                        .collect();
                    chart
                        .draw_series(LineSeries::new(
                            visible.iter().map(|p| (p.x, p.mean)),
                            c.stroke_width(2),
                        ))?
                        .label(label)
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(2))
                        });
                    chart.draw_series(visible.iter().map(|p| {
                        let low = if log_y { p.low.max(y_lo) } else { p.low };
                        ErrorBar::new_vertical(p.x, low, p.mean, p.high, c.filled(), 8)
                    }))?;
                    chart.draw_series(
                        visible.iter().map(|p| Circle::new((p.x, p.mean), 4, c.filled())),
                    )?;
                }
                let published: Vec<(f64, f64)> =
                    panel.published.iter().copied().filter(|p| !log_y || p.1 > 0.0).collect();
                chart
                    .draw_series(published.iter().map(|&p| {
                        EmptyElement::at(p)
                            + Polygon::new(vec![(0, -7), (7, 0), (0, 7), (-7, 0)], BLACK.filled())
                    }))?
                    .label(panel.label.clone())
                    .legend(|(x, y)| {
                        Polygon::new(
                            vec![(x + 12, y - 6), (x + 18, y), (x + 12, y + 6), (x + 6, y)],
                            BLACK.filled(),
                        )
                    });
                legend_box!(chart, SeriesLabelPosition::UpperLeft)?;
            }};
        }
        match (log_x, log_y) {
            (true, true) => {
                let mut chart = builder
                    .build_cartesian_2d((x_lo..x_hi).log_scale(), (y_lo..y_hi).log_scale())?;
                body!(chart)
            }
            (true, false) => {
                let mut chart = builder.build_cartesian_2d((x_lo..x_hi).log_scale(), y_lo..y_hi)?;
                body!(chart)
            }
            (false, true) => {
                let mut chart = builder.build_cartesian_2d(x_lo..x_hi, (y_lo..y_hi).log_scale())?;
                body!(chart)
            }
            (false, false) => {
                let mut chart = builder.build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
                body!(chart)
            }
        }
    }
    Ok(())
}

/// A tick label with about three significant digits and no trailing zeros.
fn tick(v: f64) -> String {
    let digits = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 1.0 {
        2
    } else {
        (3 - v.abs().log10().floor() as i32).clamp(0, 9) as usize
    };
    let text = format!("{v:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}
