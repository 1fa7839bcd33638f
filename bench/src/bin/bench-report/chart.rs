//! The chart of `docs/benchmarks.svg`: throughput and p99 by concurrency, one line for
//! teleport, one for the raw ceiling and one for the codec ceiling.

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;

use crate::Summary;
use teleport_bench::row::Kind;

const SIZE: (u32, u32) = (960, 380);

/// Draws the two panels into `path`.
pub(crate) fn draw(path: &Path, summaries: &[Summary]) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 2));
    let throughput = Panel { title: "Throughput", unit: "calls/s (thousands)", legend: LOWER };
    panel(&panels[0], summaries, &throughput, |s| s.throughput / 1e3)?;
    let p99 = Panel { title: "p99 latency", unit: "ms", legend: UPPER };
    panel(&panels[1], summaries, &p99, |s| s.p99_ms)?;
    root.present()?;
    Ok(())
}

const LOWER: SeriesLabelPosition = SeriesLabelPosition::LowerLeft;
const UPPER: SeriesLabelPosition = SeriesLabelPosition::UpperLeft;

/// The labels of one panel.
struct Panel {
    title: &'static str,
    unit: &'static str,
    legend: SeriesLabelPosition,
}

fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    summaries: &[Summary],
    labels: &Panel,
    value: impl Fn(&Summary) -> f64,
) -> Result<(), Box<dyn Error>> {
    let max_c = summaries.iter().map(|s| s.clients).max().unwrap_or(1) as f64;
    let max_y = summaries.iter().map(&value).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let mut chart = ChartBuilder::on(area)
        .caption(labels.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..max_c * 1.08, 0.0..max_y * 1.15)?;
    chart
        .configure_mesh()
        .max_light_lines(0)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_desc("concurrent clients (C)")
        .y_desc(labels.unit)
        .draw()?;
    for (kind, color) in [
        (Kind::Ceiling, RGBColor(120, 120, 120)),
        (Kind::CodecCeiling, RGBColor(255, 127, 14)),
        (Kind::Teleport, RGBColor(31, 119, 180)),
    ] {
        let points: Vec<(f64, f64)> = summaries
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| (s.clients as f64, value(s)))
            .collect();
        if points.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)).point_size(4))?
            .label(kind.label())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(labels.legend.clone())
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
