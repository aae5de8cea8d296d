//! Charts with plotters: one description ([`Chart`]), drawn as SVG (inline in the HTML report)
//! or PNG (for slides) by the same code.
//!
//! Colours are the Okabe-Ito palette, readable with every common form of colour blindness. PNG
//! text is drawn with the `DejaVu` Sans font compiled into the binary, so a machine without any
//! system font draws the same picture.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

/// Okabe-Ito: blue, vermillion, bluish green, orange, sky blue, reddish purple.
pub const BLUE: RGBColor = RGBColor(0, 114, 178);
pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
pub const GREEN: RGBColor = RGBColor(0, 158, 115);
pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
const GRID: RGBColor = RGBColor(225, 225, 225);
const INK: RGBColor = RGBColor(40, 40, 40);

const SIZE: (u32, u32) = (860, 380);
const FONT: &str = "sans-serif";

/// How values on the y axis read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Count,
    Hours,
    Percent,
}

impl Scale {
    fn format(self, v: f64) -> String {
        match self {
            Scale::Count => {
                if v.fract().abs() < 1e-9 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.1}")
                }
            }
            Scale::Hours => hours(v),
            Scale::Percent => format!("{:.0}%", v * 100.0),
        }
    }
}

/// A duration in hours as a short axis label.
fn hours(h: f64) -> String {
    if h <= 0.0 {
        "0".into()
    } else if h < 1.0 {
        format!("{:.0}m", h * 60.0)
    } else if h < 48.0 {
        format!("{}h", trim(h))
    } else if h < 24.0 * 14.0 {
        format!("{}d", trim(h / 24.0))
    } else {
        format!("{}w", trim(h / 168.0))
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.1}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One named series of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: RGBColor,
    /// One value per x label; `None` where there is no data (drawn as a gap).
    pub values: Vec<Option<f64>>,
}

/// What to draw.
#[derive(Debug, Clone)]
pub enum Chart {
    /// Bars per period, the series stacked bottom to top.
    StackedBars {
        title: String,
        y_label: String,
        labels: Vec<String>,
        series: Vec<Series>,
    },
    /// Lines with markers per period; gaps where a period has no data.
    Lines {
        title: String,
        y_label: String,
        scale: Scale,
        labels: Vec<String>,
        series: Vec<Series>,
    },
    /// Counts of values (hours) in bins evenly spaced on a log scale.
    LogHistogram {
        title: String,
        x_label: String,
        values: Vec<f64>,
    },
    /// Scores of 0 to 10, one bar per label, each with its benchmark drawn across it.
    Scores {
        title: String,
        labels: Vec<String>,
        /// The team's scores (`None`: no data, no bar).
        scores: Vec<Option<f64>>,
        /// What the benchmark is (`All industries mean`), and its value per label.
        benchmark_name: String,
        benchmark: Vec<f64>,
    },
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let font: &'static [u8] = include_bytes!("../../../reports/fonts/DejaVuSans.ttf");
        // The font is compiled in and known to parse; a failure would show as missing text.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, font);
    });
}

/// Why a chart could not be drawn: plotters' message (its error type is generic over the
/// backend, so the message is what survives).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DrawError(String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        DrawError(e.to_string())
    }
}

impl Chart {
    /// The chart as an SVG document.
    pub fn svg(&self) -> Result<String, DrawError> {
        register_font();
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
            self.draw(&root)?;
            root.present()?;
        }
        Ok(text)
    }

    /// The chart as a PNG file.
    pub fn png(&self, path: &Path) -> Result<(), DrawError> {
        register_font();
        // Twice the size of the SVG, for sharp text on slides.
        let root = BitMapBackend::new(path, (SIZE.0 * 2, SIZE.1 * 2)).into_drawing_area();
        self.draw_scaled(&root, 2.0)?;
        root.present().map_err(DrawError::from)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        self.draw_scaled(root, 1.0)
    }

    fn draw_scaled<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, k: f64) -> Result<(), DrawError> {
        #[expect(
            clippy::cast_sign_loss,
            clippy::cast_possible_truncation,
            reason = "small positive sizes"
        )]
        let px = |v: f64| -> u32 { (v * k).round().max(0.0) as u32 };
        root.fill(&WHITE)?;
        match self {
            Chart::StackedBars {
                title,
                y_label,
                labels,
                series,
            } => {
                let n = labels.len().max(1);
                let totals: Vec<f64> = (0..n)
                    .map(|i| series.iter().filter_map(|s| s.values.get(i).copied().flatten()).sum())
                    .collect();
                let top = nice_top(totals.iter().copied().fold(0.0, f64::max));
                let mut chart = area(root, title, n, top, 44.0, k)?;
                mesh(&mut chart, labels, y_label, None, Scale::Count, k)?;
                let mut base = vec![0.0; n];
                for s in series {
                    let bars: Vec<Rectangle<(f64, f64)>> = (0..n)
                        .filter_map(|i| {
                            let v = s.values.get(i).copied().flatten().unwrap_or(0.0);
                            let from = base[i];
                            base[i] += v;
                            (v > 0.0).then(|| {
                                Rectangle::new([(i as f64 - 0.36, from), (i as f64 + 0.36, from + v)], s.color.filled())
                            })
                        })
                        .collect();
                    let color = s.color;
                    chart
                        .draw_series(bars)?
                        .label(s.name.as_str())
                        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
                }
                legend(&mut chart, k)?;
            }
            Chart::Lines {
                title,
                y_label,
                scale,
                labels,
                series,
            } => {
                let n = labels.len().max(1);
                let max = series
                    .iter()
                    .flat_map(|s| s.values.iter().flatten().copied())
                    .fold(0.0, f64::max);
                // Durations are drawn in the unit that suits the largest one, so the axis
                // reads 0, 2, 4, 6 days rather than 0, 48, 96, 144 hours.
                let (divisor, unit) = if *scale == Scale::Hours {
                    time_unit(max)
                } else {
                    (1.0, "")
                };
                let scale = &if *scale == Scale::Hours { Scale::Count } else { *scale };
                let y_label = &if unit.is_empty() {
                    y_label.clone()
                } else {
                    format!("{y_label} ({unit})")
                };
                let series: Vec<Series> = series
                    .iter()
                    .map(|s| Series {
                        values: s.values.iter().map(|v| v.map(|x| x / divisor)).collect(),
                        ..s.clone()
                    })
                    .collect();
                let max = max / divisor;
                let top = if *scale == Scale::Percent {
                    (max * 1.15).clamp(0.05, 1.0)
                } else {
                    nice_top(max)
                };
                let mut chart = area(root, title, n, top, 44.0, k)?;
                mesh(&mut chart, labels, y_label, None, *scale, k)?;
                for s in &series {
                    let style = ShapeStyle::from(&s.color).stroke_width(px(2.5));
                    // Consecutive periods with data form one line; a period without data
                    // breaks it.
                    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
                    for (i, v) in s.values.iter().enumerate() {
                        match v {
                            Some(v) => runs.last_mut().map(|r| r.push((i as f64, *v))).unwrap_or_default(),
                            None => runs.push(Vec::new()),
                        }
                    }
                    for run in runs.iter().filter(|r| r.len() > 1) {
                        chart.draw_series(LineSeries::new(run.iter().copied(), style))?;
                    }
                    let color = s.color;
                    let points = runs
                        .into_iter()
                        .flatten()
                        .map(|p| Circle::new(p, px(3.5), color.filled()));
                    chart
                        .draw_series(points)?
                        .label(s.name.as_str())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(3)));
                }
                legend(&mut chart, k)?;
            }
            Chart::LogHistogram { title, x_label, values } => {
                // Bins that double (roughly) in length: a histogram on a log scale, with bins a
                // person can name.
                let counts: Vec<usize> = BINS
                    .iter()
                    .map(|(lo, hi, _)| values.iter().filter(|v| **v >= *lo && **v < *hi).count())
                    .collect();
                let first = counts.iter().position(|c| *c > 0).unwrap_or(4).min(4);
                let last = counts.iter().rposition(|c| *c > 0).unwrap_or(8).max(8);
                let shown: Vec<(String, Option<f64>)> = (first..=last)
                    .map(|i| (BINS[i].2.to_string(), Some(counts[i] as f64)))
                    .collect();
                let labels: Vec<String> = shown.iter().map(|(l, _)| l.clone()).collect();
                let n = labels.len();
                let top = nice_top(shown.iter().filter_map(|(_, c)| *c).fold(0.0, f64::max));
                let mut chart = area(root, title, n, top, 56.0, k)?;
                mesh(&mut chart, &labels, "changes", Some(x_label), Scale::Count, k)?;
                let bars = shown.iter().enumerate().filter_map(|(i, (_, c))| {
                    let c = (*c)?;
                    (c > 0.0).then(|| Rectangle::new([(i as f64 - 0.45, 0.0), (i as f64 + 0.45, c)], BLUE.filled()))
                });
                chart.draw_series(bars)?;
            }
            Chart::Scores {
                title,
                labels,
                scores,
                benchmark_name,
                benchmark,
            } => {
                let n = labels.len().max(1);
                let mut chart = area(root, title, n, 10.0, 44.0, k)?;
                mesh(&mut chart, labels, "score (0-10)", None, Scale::Count, k)?;
                let bars = scores.iter().enumerate().filter_map(|(i, s)| {
                    let s = (*s)?;
                    Some(Rectangle::new(
                        [(i as f64 - 0.3, 0.0), (i as f64 + 0.3, s)],
                        BLUE.filled(),
                    ))
                });
                chart
                    .draw_series(bars)?
                    .label("this team")
                    .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], BLUE.filled()));
                let style = ShapeStyle::from(&VERMILLION).stroke_width(px(3.0));
                let marks = benchmark
                    .iter()
                    .enumerate()
                    .map(|(i, b)| PathElement::new(vec![(i as f64 - 0.42, *b), (i as f64 + 0.42, *b)], style));
                chart
                    .draw_series(marks)?
                    .label(benchmark_name.as_str())
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], VERMILLION.stroke_width(3)));
                legend(&mut chart, k)?;
            }
        }
        Ok(())
    }
}

/// The plotting area every chart uses: a title, room for the axis labels, one slot per period
/// on the x axis, `0..top` on the y axis.
fn area<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    n: usize,
    top: f64,
    x_label_area: f64,
    k: f64,
) -> Result<Cartesian<'a, DB>, DrawError> {
    #[expect(
        clippy::cast_sign_loss,
        clippy::cast_possible_truncation,
        reason = "small positive sizes"
    )]
    let px = |v: f64| -> u32 { (v * k).round().max(0.0) as u32 };
    ChartBuilder::on(root)
        .caption(title, (FONT, 20.0 * k).into_font().color(&INK))
        .margin(px(12.0))
        .x_label_area_size(px(x_label_area))
        .y_label_area_size(px(56.0))
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
        .map_err(DrawError::from)
}

type Cartesian<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

fn mesh<'a, DB: DrawingBackend + 'a>(
    chart: &mut Cartesian<'a, DB>,
    labels: &[String],
    y_label: &str,
    x_label: Option<&str>,
    scale: Scale,
    k: f64,
) -> Result<(), DrawError> {
    let font = |size: f64| (FONT, size * k).into_font().color(&INK);
    let every = labels.len().div_ceil(16).max(1);
    let mut mesh = chart.configure_mesh();
    if let Some(x) = x_label {
        mesh.x_desc(x);
    }
    mesh.disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(WHITE)
        .y_desc(y_label)
        .label_style(font(13.0))
        .axis_desc_style(font(14.0))
        .x_labels(labels.len().max(1))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() > 1e-6 || i < 0.0 {
                return String::new();
            }
            #[expect(
                clippy::cast_sign_loss,
                clippy::cast_possible_truncation,
                reason = "checked non-negative above"
            )]
            let i = i as usize;
            if i.is_multiple_of(every) {
                labels.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| scale.format(*v))
        .draw()
        .map_err(DrawError::from)
}

fn legend<'a, DB: DrawingBackend + 'a>(chart: &mut Cartesian<'a, DB>, k: f64) -> Result<(), DrawError> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 13.0 * k).into_font().color(&INK))
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .draw()
        .map_err(DrawError::from)
}

/// Lead time bins in hours: `[from, to)` and a label.
const BINS: [(f64, f64, &str); 15] = [
    (f64::NEG_INFINITY, 1.0 / 12.0, "<5m"),
    (1.0 / 12.0, 0.25, "5-15m"),
    (0.25, 0.5, "15-30m"),
    (0.5, 1.0, "30m-1h"),
    (1.0, 2.0, "1-2h"),
    (2.0, 4.0, "2-4h"),
    (4.0, 8.0, "4-8h"),
    (8.0, 24.0, "8h-1d"),
    (24.0, 48.0, "1-2d"),
    (48.0, 96.0, "2-4d"),
    (96.0, 168.0, "4d-1w"),
    (168.0, 336.0, "1-2w"),
    (336.0, 672.0, "2-4w"),
    (672.0, 1344.0, "4-8w"),
    (1344.0, f64::INFINITY, ">8w"),
];

/// The unit to draw durations in, given the largest (hours): (hours per unit, name).
fn time_unit(max_hours: f64) -> (f64, &'static str) {
    if max_hours < 2.0 {
        (1.0 / 60.0, "minutes")
    } else if max_hours < 72.0 {
        (1.0, "hours")
    } else if max_hours < 24.0 * 30.0 {
        (24.0, "days")
    } else {
        (168.0, "weeks")
    }
}

/// A round upper bound a little above `max` (at least 1).
fn nice_top(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let target = max * 1.15;
    let magnitude = 10f64.powf(target.log10().floor());
    let steps = [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0];
    steps
        .iter()
        .map(|s| s * magnitude)
        .find(|v| *v >= target)
        .unwrap_or(10.0 * magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(values: Vec<Option<f64>>) -> Chart {
        Chart::StackedBars {
            title: "Deployments per week".into(),
            y_label: "deployments".into(),
            labels: (0..values.len()).map(|i| format!("W{i}")).collect(),
            series: vec![Series {
                name: "succeeded".into(),
                color: BLUE,
                values,
            }],
        }
    }

    #[test]
    fn empty_and_single_periods_draw() {
        for values in [
            vec![],
            vec![None],
            vec![Some(0.0)],
            vec![Some(1.0)],
            vec![None, Some(3.0), None],
        ] {
            let svg = bars(values.clone()).svg().unwrap();
            assert!(
                svg.starts_with("<svg") && svg.contains("Deployments per week"),
                "{values:?}"
            );
            let lines = Chart::Lines {
                title: "Lead time".into(),
                y_label: "hours".into(),
                scale: Scale::Hours,
                labels: (0..values.len()).map(|i| format!("W{i}")).collect(),
                series: vec![Series {
                    name: "median".into(),
                    color: BLUE,
                    values,
                }],
            };
            assert!(lines.svg().unwrap().contains("Lead time"));
        }
        for values in [vec![], vec![0.0], vec![5.0], vec![0.01, 3.0, 400.0, 9000.0]] {
            let h = Chart::LogHistogram {
                title: "Lead time distribution".into(),
                x_label: "lead time".into(),
                values,
            };
            assert!(h.svg().unwrap().contains("Lead time distribution"));
        }
    }

    #[test]
    fn axis_helpers() {
        assert!((nice_top(0.0) - 1.0).abs() < 1e-9);
        assert!((nice_top(7.0) - 10.0).abs() < 1e-9);
        assert!((nice_top(42.0) - 50.0).abs() < 1e-9);
        assert_eq!(hours(0.5), "30m");
        assert_eq!(hours(36.0), "36h");
        assert_eq!(hours(72.0), "3d");
        assert_eq!(hours(500.0), "3w");
        assert_eq!(time_unit(1.0), (1.0 / 60.0, "minutes"));
        assert_eq!(time_unit(50.0), (1.0, "hours"));
        assert_eq!(time_unit(100.0), (24.0, "days"));
        assert_eq!(time_unit(2000.0), (168.0, "weeks"));
    }
}
