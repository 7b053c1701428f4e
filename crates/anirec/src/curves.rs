//! Training curves of a run (train and validation RMSE per factor epoch) drawn as PNG and SVG
//! with `plotters` and an embedded font, so they render on a machine without system fonts.

use std::path::Path;
use std::sync::Once;

use anirec_model::rating::model::EpochReport;
use anirec_model::training::run_files;
use plotters::prelude::*;

static FONT: Once = Once::new();

fn register_font() {
    FONT.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            include_bytes!("../assets/DejaVuSans.ttf"),
        );
    });
}

/// Writes `curves.png` and `curves.svg` into `dir` from the validation-phase epochs.
pub fn draw(dir: &Path, epochs: &[EpochReport]) -> anyhow::Result<()> {
    register_font();
    let png = dir.join(run_files::CURVES_PNG);
    let svg = dir.join(run_files::CURVES_SVG);
    draw_on(
        BitMapBackend::new(&png, (900, 540)).into_drawing_area(),
        epochs,
    )?;
    draw_on(
        SVGBackend::new(&svg, (900, 540)).into_drawing_area(),
        epochs,
    )?;
    Ok(())
}

fn draw_on<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    epochs: &[EpochReport],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow::anyhow!("drawing curves: {e:?}");
    root.fill(&WHITE).map_err(err)?;
    let tuning: Vec<&EpochReport> = epochs.iter().filter(|e| e.val_rmse.is_some()).collect();
    let train: Vec<(f64, f64)> = tuning
        .iter()
        .map(|e| (e.epoch as f64, e.train_mse.sqrt()))
        .collect();
    let val: Vec<(f64, f64)> = tuning
        .iter()
        .filter_map(|e| e.val_rmse.map(|v| (e.epoch as f64, v)))
        .collect();
    let all: Vec<f64> = train.iter().chain(&val).map(|p| p.1).collect();
    let (lo, hi) = all
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let (lo, hi) = if lo.is_finite() {
        (lo - 0.02, hi + 0.02)
    } else {
        (0.0, 1.0)
    };
    let last = tuning.last().map_or(1.0, |e| e.epoch as f64).max(1.0);
    let mut chart = ChartBuilder::on(&root)
        .caption("rating model: RMSE per factor epoch", ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..last + 1.0, lo..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("RMSE")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(train, BLUE.stroke_width(2)))
        .map_err(err)?
        .label("train")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(val, RED.stroke_width(2)))
        .map_err(err)?
        .label("validation")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}
