//! The success-rate-by-round plot: one panel per scenario, one line per
//! strategy (mean over seeds), drawn with plotters as SVG.

use std::path::Path;

use anyhow::Context;
use morelike_core::eval::Scenario;
use plotters::prelude::*;

use super::report::Row;

const COLOURS: [RGBColor; 8] = [
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Draws success rate by round per strategy, one panel per scenario run.
pub fn draw(rows: &[Row], title: &str, path: &Path) -> anyhow::Result<()> {
    let scenarios: Vec<Scenario> = Scenario::ALL
        .into_iter()
        .filter(|s| rows.iter().any(|r| r.scenario == *s))
        .collect();
    let grid = if scenarios.len() > 2 { (2, 2) } else { (1, 2) };
    let height = 480 * grid.0 as u32;
    let root = SVGBackend::new(path, (1100, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 20))?;
    let panels = root.split_evenly(grid);
    let mut strategies: Vec<&str> = Vec::new();
    for r in rows {
        if !strategies.contains(&r.strategy.as_str()) {
            strategies.push(&r.strategy);
        }
    }
    for (panel, &scenario) in panels.iter().zip(&scenarios) {
        let scenario_rows: Vec<&Row> = rows.iter().filter(|r| r.scenario == scenario).collect();
        let rounds = scenario_rows
            .iter()
            .map(|r| r.success_by_round.len())
            .max()
            .unwrap_or(1) as u32;
        let mut chart = ChartBuilder::on(panel)
            .caption(scenario.name(), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0u32..rounds, 0.0f64..1.0)?;
        chart
            .configure_mesh()
            .x_desc("round")
            .y_desc("success rate (cumulative)")
            .draw()?;
        for r in scenario_rows {
            let i = strategies
                .iter()
                .position(|s| *s == r.strategy)
                .unwrap_or(0);
            let colour = COLOURS[i % COLOURS.len()];
            let width = if i == 0 { 3 } else { 1 };
            let points = std::iter::once((0, 0.0)).chain(
                r.success_by_round
                    .iter()
                    .enumerate()
                    .map(|(round, &sr)| (round as u32 + 1, sr)),
            );
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(width)))?
                .label(r.strategy.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(width))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()
        .with_context(|| format!("cannot write the plot {}", path.display()))?;
    Ok(())
}
