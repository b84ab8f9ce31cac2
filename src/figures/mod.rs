//! Pictures of a run, drawn from its result files alone (never from the engine).
//!
//! - `propagation.png`/`.svg`: the share of nodes holding a block against time since it was
//!   mined: the median block and the 90th-percentile block (from `propagation_cdf.csv`);
//! - `revenue.png`/`.svg`: each miner's share of main-chain blocks against its share of
//!   hash power, with the fair line y = x (from `miners.csv`);
//! - `tree.png`/`.svg`: the block tree with forks (from `blocks.csv`, see [`tree`]);
//! - `transactions.png`/`.svg` in runs with a workload: mempool sizes and confirmation
//!   times by fee rate (see [`transactions`]).
//!
//! Because plots read only the CSV files, `forksim plot DIR` redraws them for any results
//! folder, and a plot can never show something the data files do not hold. Text uses the
//! DejaVu Sans font compiled into the binary, so no system font library is needed.

use std::path::{Path, PathBuf};
use std::sync::Once;

use image::ImageEncoder;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::results::files::{sha256_hex, write_atomic, write_atomic_streamed};
use svg_stream::StreamingSvg;

pub mod compare;
pub mod svg_stream;
pub mod sweep;
pub mod transactions;
pub mod tree;
use crate::results::rows::{CsvRow, MinerRow, PropagationCdfRow, RowsError, read_rows};

/// Distinct colours for series and miners, in order (Tableau 10).
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Pixel size of every figure.
const SIZE: (u32, u32) = (900, 600);

/// A figure that could not be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// A results file is missing or unreadable.
    #[error("{path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A results file lacks a column or holds a value of the wrong kind.
    #[error(transparent)]
    Rows(#[from] RowsError),
    /// The drawing backend or the PNG encoder failed.
    #[error("drawing {file}: {source}")]
    Draw {
        /// The figure.
        file: String,
        /// Why.
        source: DrawError,
    },
}

/// What drawing a figure into the PNG's pixel buffer fails with.
pub type BitmapDrawError =
    DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;

/// What drawing a figure as SVG fails with.
pub type SvgDrawError = DrawingAreaErrorKind<<StreamingSvg<'static> as DrawingBackend>::ErrorType>;

/// Why a figure could not be drawn or encoded: the plotting library's or the PNG encoder's
/// own error, kept as the source. The message is that error's debug text, as it has always
/// been printed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DrawError {
    /// Drawing the PNG's pixels failed.
    #[error("{0:?}")]
    Bitmap(#[source] BitmapDrawError),
    /// Drawing the SVG failed.
    #[error("{0:?}")]
    Svg(#[source] SvgDrawError),
    /// Encoding the pixels as PNG failed.
    #[error("{0:?}")]
    Png(#[source] image::ImageError),
}

static FONT: Once = Once::new();

pub(crate) fn register_font() {
    FONT.call_once(|| {
        // The font is compiled in and valid; failing here would be a build defect.
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the bundled DejaVu Sans font is a valid TTF"));
    });
}

/// A run's `summary.json`, if readable.
fn read_summary(dir: &Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).ok()?).ok()
}

/// The scenario name from `summary.json` ("run" if unreadable).
pub(crate) fn scenario_name(dir: &Path) -> String {
    read_summary(dir)
        .and_then(|s| s["scenario"].as_str().map(str::to_string))
        .unwrap_or_else(|| "run".to_string())
}

/// A caption line naming the run, from `summary.json`.
fn run_label(dir: &Path) -> String {
    read_summary(dir)
        .map(|s| {
            format!(
                "{}: {} nodes, {} blocks, seed {}",
                s["scenario"].as_str().unwrap_or("run"),
                s["nodes"],
                s["blocks_mined"],
                s["seed"]
            )
        })
        .unwrap_or_default()
}

/// Draws every figure of a run into `dir` and returns the files written with their SHA-256
/// digests (lowercase hex).
///
/// # Errors
///
/// Returns [`PlotError`] if a results file is missing or malformed, or drawing fails.
pub fn draw_run_plots(dir: &Path) -> Result<Vec<(PathBuf, String)>, PlotError> {
    register_font();
    let label = run_label(dir);
    let mut median = vec![(0.0, 0.0)];
    let mut p90 = vec![(0.0, 0.0)];
    let cdf = dir.join(PropagationCdfRow::FILE);
    for (i, r) in read_rows::<PropagationCdfRow>(dir)?.into_iter().enumerate() {
        let percent = f64::from(r.percent_of_nodes);
        if r.blocks > 0 {
            let median_s = plottable(&cdf, i, "median_ms", r.median_ms.0)? / 1_000.0;
            median.push((median_s, percent));
            p90.push((plottable(&cdf, i, "p90_ms", r.p90_ms.0)? / 1_000.0, percent));
        }
    }
    let miners = dir.join(MinerRow::FILE);
    let mut shares: Vec<(f64, f64)> = Vec::new();
    for (i, r) in read_rows::<MinerRow>(dir)?.into_iter().enumerate() {
        let hash = plottable(&miners, i, "hash_share", r.hash_share.0)?;
        shares.push((hash, plottable(&miners, i, "revenue_share", r.revenue_share.0)?));
    }

    let mut written = save_figure(
        dir,
        "propagation",
        |a| draw_propagation(a, &median, &p90, &label),
        |a| draw_propagation(a, &median, &p90, &label),
    )?;
    written.extend(save_figure(
        dir,
        "revenue",
        |a| draw_revenue(a, &shares, &label),
        |a| draw_revenue(a, &shares, &label),
    )?);
    written.extend(crate::figures::tree::draw_tree(dir, &scenario_name(dir))?);
    written.extend(crate::figures::transactions::draw_transaction_plots(dir, &label)?);
    Ok(written)
}

/// A value of row `index` of `file` that a figure places on an axis: a finite number at
/// least 0. Anything else is refused by line, column and value: an infinite axis would make
/// the plotting library loop forever dividing it into ticks.
fn plottable(file: &Path, index: usize, column: &str, value: f64) -> Result<f64, PlotError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(PlotError::Read {
            path: file.display().to_string(),
            reason: format!(
                "line {}, column `{column}` = {value}: not a finite number at least 0",
                index + 2
            ),
        })
    }
}

/// Draws one figure as `NAME.png` and `NAME.svg` in `dir`, each written atomically.
fn save_figure(
    dir: &Path,
    name: &str,
    png: impl Fn(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), BitmapDrawError>,
    svg: impl Fn(&DrawingArea<StreamingSvg<'_>, Shift>) -> Result<(), SvgDrawError>,
) -> Result<Vec<(PathBuf, String)>, PlotError> {
    save_figure_sized(dir, name, SIZE, png, svg)
}

/// Like [`save_figure`], with the pixel size given.
pub(crate) fn save_figure_sized(
    dir: &Path,
    name: &str,
    size: (u32, u32),
    png: impl Fn(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), BitmapDrawError>,
    svg: impl Fn(&DrawingArea<StreamingSvg<'_>, Shift>) -> Result<(), SvgDrawError>,
) -> Result<Vec<(PathBuf, String)>, PlotError> {
    register_font();
    let draw_err =
        |file: &str, source: DrawError| PlotError::Draw { file: file.to_string(), source };
    let io_err = |path: &Path, e: std::io::Error| PlotError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    };

    let png_name = format!("{name}.png");
    let png_path = dir.join(&png_name);
    let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        let bitmap = |e| draw_err(&png_name, DrawError::Bitmap(e));
        png(&area).map_err(bitmap)?;
        area.present().map_err(bitmap)?;
    }
    let png_bytes = encode_png(&rgb, size).map_err(|e| draw_err(&png_name, DrawError::Png(e)))?;
    write_atomic(&png_path, &png_bytes).map_err(|e| io_err(&png_path, e))?;

    // The SVG goes to disk as it is drawn (a long run's tree is a document of 100 MB).
    let svg_name = format!("{name}.svg");
    let svg_path = dir.join(&svg_name);
    let mut drawn = Ok(());
    let svg_digest = write_atomic_streamed(&svg_path, |out| {
        let area = StreamingSvg::new(out, size).into_drawing_area();
        drawn = svg(&area).and_then(|()| area.present());
        drawn.as_ref().map_err(|_| std::io::Error::other("drawing failed")).copied()
    });
    drawn.map_err(|e| draw_err(&svg_name, DrawError::Svg(e)))?;
    let svg_digest = svg_digest.map_err(|e| io_err(&svg_path, e))?;
    Ok(vec![(png_path, sha256_hex(&png_bytes)), (svg_path, svg_digest)])
}

/// Encodes an RGB buffer as PNG in memory (so the file can be written atomically).
fn encode_png(rgb: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(
        rgb,
        width,
        height,
        image::ColorType::Rgb8,
    )?;
    Ok(out)
}

fn draw_propagation<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    median: &[(f64, f64)],
    p90: &[(f64, f64)],
    label: &str,
) -> DrawResult<(), DB> {
    area.fill(&WHITE)?;
    let x_max = p90.iter().chain(median).map(|p| p.0).fold(0.0, f64::max).max(0.001) * 1.05;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("Block propagation  ({label})"), ("sans-serif", 22))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..100.0)?;
    chart
        .configure_mesh()
        .x_desc("time since the block was mined (s)")
        .y_desc("nodes holding the block (%)")
        .label_style(("sans-serif", 16))
        .draw()?;
    chart
        .draw_series(LineSeries::new(median.iter().copied(), BLUE.stroke_width(3)))?
        .label("median block")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(3)));
    chart
        .draw_series(LineSeries::new(p90.iter().copied(), RED.stroke_width(2)))?
        .label("90th-percentile block (slower than 90 % of blocks)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
}

fn draw_revenue<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    shares: &[(f64, f64)],
    label: &str,
) -> DrawResult<(), DB> {
    area.fill(&WHITE)?;
    let max = shares.iter().map(|p| p.0.max(p.1)).fold(0.0, f64::max).max(1e-6) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("Revenue against hash power  ({label})"), ("sans-serif", 22))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..max, 0.0..max)?;
    chart
        .configure_mesh()
        .x_desc("share of hash power")
        .y_desc("share of main-chain blocks")
        .label_style(("sans-serif", 16))
        .draw()?;
    chart
        .draw_series(LineSeries::new([(0.0, 0.0), (max, max)], BLACK.mix(0.6).stroke_width(1)))?
        .label("fair share (y = x)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.mix(0.6)));
    chart
        .draw_series(shares.iter().map(|&(x, y)| Circle::new((x, y), 4, BLUE.mix(0.7).filled())))?
        .label("miner")
        .legend(|(x, y)| Circle::new((x + 12, y), 4, BLUE.mix(0.7).filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
}
