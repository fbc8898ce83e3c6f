//! SVG charts (grouped bars and lines) from a JSON spec, drawn with plotters'
//! SVG backend. Text is written as SVG `<text>` elements, so no fonts are needed.

use std::error::Error;
use std::fs;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Deserialize;

const SIZE: (u32, u32) = (800, 480);
const FONT: &str = "sans-serif";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Bars,
    Lines,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chart {
    /// Output file name, relative to the output directory.
    pub file: String,
    pub title: String,
    pub kind: Kind,
    #[serde(default)]
    pub x_label: String,
    #[serde(default)]
    pub y_label: String,
    /// `bars` only: one group per category.
    #[serde(default)]
    pub categories: Vec<String>,
    /// `lines` only: logarithmic axes.
    #[serde(default)]
    pub log_x: bool,
    #[serde(default)]
    pub log_y: bool,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    pub name: String,
    /// `bars`: one value per category; null skips the bar.
    #[serde(default)]
    pub values: Vec<Option<f64>>,
    /// `lines`: `[x, y]` pairs; a null y (or null pair) skips the point and breaks the line.
    #[serde(default)]
    pub points: Vec<Option<(f64, Option<f64>)>>,
}

type DynResult<T> = Result<T, Box<dyn Error>>;

/// Read a spec file: a JSON list of charts.
pub fn load_spec(path: &Path) -> Result<Vec<Chart>, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("bad chart spec {}: {e}", path.display()))
}

/// Render every chart into `out_dir` (created if missing); returns the files written.
pub fn render_all(charts: &[Chart], out_dir: &Path) -> Result<Vec<PathBuf>, String> {
    fs::create_dir_all(out_dir).map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    charts.iter().map(|c| render(c, out_dir)).collect()
}

/// Render one chart into `out_dir`.
pub fn render(chart: &Chart, out_dir: &Path) -> Result<PathBuf, String> {
    let rel = Path::new(&chart.file);
    if chart.file.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(format!("chart file {:?} must be a relative path", chart.file));
    }
    let svg = to_svg(chart).map_err(|e| format!("{}: {e}", chart.file))?;
    let path = out_dir.join(rel);
    fs::write(&path, svg).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Render one chart to an SVG document.
pub fn to_svg(chart: &Chart) -> DynResult<String> {
    validate(chart)?;
    let styles = series_styles(&chart.series);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let area = root.titled(&chart.title, (FONT, 20))?;
        let legend_h = legend_height(&chart.series);
        let (legend, body) = area.split_vertically(legend_h);
        draw_legend(&legend, chart, &styles)?;
        match chart.kind {
            Kind::Bars => draw_bars(&body, chart, &styles)?,
            Kind::Lines => draw_lines(&body, chart, &styles)?,
        }
        root.present()?;
    }
    Ok(svg)
}

fn validate(chart: &Chart) -> Result<(), String> {
    match chart.kind {
        Kind::Bars => {
            if chart.categories.is_empty() {
                return Err("a bars chart needs categories".into());
            }
            if chart.log_x || chart.log_y {
                return Err("log axes are only supported for lines charts".into());
            }
            for s in &chart.series {
                if s.values.len() != chart.categories.len() {
                    return Err(format!(
                        "series {:?} has {} values for {} categories",
                        s.name,
                        s.values.len(),
                        chart.categories.len()
                    ));
                }
            }
        }
        Kind::Lines => {
            if let Some(s) = chart.series.iter().find(|s| !s.values.is_empty()) {
                return Err(format!("series {:?}: a lines chart takes points, not values", s.name));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- colours

/// Fixed colours for the systems compared in the lab; others get a stable pick.
const KNOWN: [(&str, RGBColor); 3] = [
    ("nginx", RGBColor(0x2c, 0xa0, 0x2c)),
    ("haproxy", RGBColor(0x1f, 0x77, 0xb4)),
    ("ringgate", RGBColor(0xd6, 0x27, 0x28)),
];
const OTHERS: [RGBColor; 7] = [
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// Base colour of a series, keyed by the first word of its name
/// ("ringgate p99" -> "ringgate"), so it is the same in every chart.
pub fn base_colour(name: &str) -> RGBColor {
    let key = name.split_whitespace().next().unwrap_or("").to_lowercase();
    if let Some((_, c)) = KNOWN.iter().find(|(k, _)| *k == key) {
        return *c;
    }
    // FNV-1a: stable across runs and platforms.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    OTHERS[(hash % OTHERS.len() as u64) as usize]
}

#[derive(Debug, Clone, Copy)]
struct SeriesStyle {
    colour: RGBColor,
    /// Marker shape for lines: the n-th series sharing a base colour in this chart.
    variant: usize,
}

/// Series sharing a base colour in one chart get lighter/darker shades and other markers.
fn series_styles(series: &[Series]) -> Vec<SeriesStyle> {
    let bases: Vec<RGBColor> = series.iter().map(|s| base_colour(&s.name)).collect();
    bases
        .iter()
        .enumerate()
        .map(|(i, base)| {
            let variant = bases[..i].iter().filter(|b| *b == base).count();
            let colour = match variant % 4 {
                0 => *base,
                1 => shade(*base, 1.0, 0.45),
                2 => shade(*base, 0.0, 0.35),
                _ => shade(*base, 1.0, 0.7),
            };
            SeriesStyle { colour, variant }
        })
        .collect()
}

/// Mix `c` towards white (target 1.0) or black (target 0.0) by `amount`.
fn shade(c: RGBColor, target: f64, amount: f64) -> RGBColor {
    let mix = |v: u8| (f64::from(v) + (target * 255.0 - f64::from(v)) * amount).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// Evaluate `$draw` with `$mk` bound to a constructor `|point| element` for
/// marker shape number `$variant` (circle, triangle, square, cross).
macro_rules! with_marker {
    ($variant:expr, $colour:expr, $mk:ident => $draw:expr) => {{
        let colour: RGBColor = $colour;
        let style = colour.filled();
        match $variant % 4 {
            0 => {
                let $mk = |p| Circle::new(p, 4, style);
                $draw
            }
            1 => {
                let $mk = |p| TriangleMarker::new(p, 5, style);
                $draw
            }
            2 => {
                let $mk = |p| EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], style);
                $draw
            }
            _ => {
                let $mk = |p| Cross::new(p, 4, colour.stroke_width(2));
                $draw
            }
        }
    }};
}

// ---------------------------------------------------------------- legend

const LEGEND_ROW: i32 = 20;
const LEGEND_LEFT: i32 = 80;

fn legend_entry_width(name: &str) -> i32 {
    // Rough width of 13px sans-serif text plus swatch and gap.
    30 + 7 * name.chars().count() as i32 + 18
}

/// Lay the legend out in rows; returns (x, row) per series.
fn legend_layout(series: &[Series]) -> Vec<(i32, i32)> {
    let (mut x, mut row) = (LEGEND_LEFT, 0);
    series
        .iter()
        .map(|s| {
            let w = legend_entry_width(&s.name);
            if x > LEGEND_LEFT && x + w > SIZE.0 as i32 - 10 {
                x = LEGEND_LEFT;
                row += 1;
            }
            let pos = (x, row);
            x += w;
            pos
        })
        .collect()
}

fn legend_height(series: &[Series]) -> u32 {
    let rows = legend_layout(series).last().map_or(0, |(_, r)| r + 1);
    (rows * LEGEND_ROW + 8) as u32
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart,
    styles: &[SeriesStyle],
) -> DynResult<()>
where
    DB::ErrorType: 'static,
{
    let font = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for ((s, st), (x, row)) in chart.series.iter().zip(styles).zip(legend_layout(&chart.series)) {
        let y = row * LEGEND_ROW + LEGEND_ROW / 2;
        match chart.kind {
            Kind::Bars => {
                area.draw(&Rectangle::new([(x, y - 6), (x + 22, y + 6)], st.colour.filled()))?;
            }
            Kind::Lines => {
                area.draw(&PathElement::new(vec![(x, y), (x + 22, y)], st.colour.stroke_width(2)))?;
                with_marker!(st.variant, st.colour, mk => area.draw(&mk((x + 11, y))))?;
            }
        }
        area.draw(&Text::new(s.name.clone(), (x + 28, y), font.clone()))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- axes

/// One axis in plot space (log10 of the value on a log axis), with our own
/// ticks and labels. A category axis spans 0..n with a tick at each centre.
#[derive(Debug, Clone)]
struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
    categories: Vec<String>,
}

impl Axis {
    fn linear(lo: f64, hi: f64) -> Self {
        Axis { log: false, lo, hi, categories: Vec::new() }
    }

    fn categories(names: &[String]) -> Self {
        Axis { categories: names.to_vec(), ..Axis::linear(0.0, names.len() as f64) }
    }

    /// Value -> plot space; None if the value cannot be shown on this axis.
    fn map_value(&self, v: f64) -> Option<f64> {
        match (self.log, v.is_finite()) {
            (_, false) => None,
            (true, _) => (v > 0.0).then(|| v.log10()),
            (false, _) => Some(v),
        }
    }

    /// Fit an axis around `values`; `from_zero` starts a linear axis at 0.
    fn fit(values: impl Iterator<Item = f64>, log: bool, from_zero: bool, pad: f64) -> Self {
        let axis = |lo, hi| Axis { log, ..Axis::linear(lo, hi) };
        let probe = axis(0.0, 1.0);
        let mapped: Vec<f64> = values.filter_map(|v| probe.map_value(v)).collect();
        if mapped.is_empty() {
            return probe;
        }
        let (min, max) = mapped.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
        if !log && from_zero && min >= 0.0 {
            return axis(0.0, if max > 0.0 { max * (1.0 + pad) } else { 1.0 });
        }
        let span = max - min;
        let margin = if span > 0.0 {
            span * pad
        } else if log {
            0.5
        } else {
            min.abs().max(1.0) * 0.1
        };
        axis(min - margin, max + margin)
    }

    fn ticks(&self) -> Vec<f64> {
        if !self.categories.is_empty() {
            return (0..self.categories.len()).map(|i| i as f64 + 0.5).collect();
        }
        if !self.log {
            return nice_ticks(self.lo, self.hi);
        }
        let mults: &[f64] = if self.hi - self.lo <= 3.0 { &[1.0, 2.0, 5.0] } else { &[1.0] };
        let mut ticks = Vec::new();
        for decade in (self.lo.floor() as i32)..=(self.hi.ceil() as i32) {
            for m in mults {
                let t = m.log10() + f64::from(decade);
                if t >= self.lo - 1e-9 && t <= self.hi + 1e-9 {
                    ticks.push(t);
                }
            }
        }
        if ticks.len() < 2 {
            let lin = nice_ticks(10f64.powf(self.lo), 10f64.powf(self.hi));
            ticks = lin.into_iter().filter(|v| *v > 0.0).map(f64::log10).collect();
        }
        ticks
    }

    fn label(&self, t: f64) -> String {
        if !self.categories.is_empty() {
            let i = t.floor().max(0.0) as usize;
            return self.categories.get(i).cloned().unwrap_or_default();
        }
        fmt_num(if self.log { 10f64.powf(t) } else { t })
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.lo..self.hi).map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Bold lines and labels only; no light grid.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, value: &f64) -> String {
        self.label(*value)
    }
}

/// About eight "nice" ticks (1, 2, 2.5, 5 x 10^k steps) covering [lo, hi].
fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / 8.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Compact number: 1.5k, 12k, 250k, 1.2M, 0.05, 3.
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = scaled.abs();
    let digits = if s == 0.0 || s >= 100.0 {
        0
    } else if s >= 10.0 {
        1
    } else if s >= 1.0 {
        2
    } else {
        ((-s.log10()).floor() as usize + 2).min(6)
    };
    let mut text = format!("{scaled:.digits$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if text == "-0" {
        text = "0".into();
    }
    text + suffix
}

// ---------------------------------------------------------------- charts

fn draw_bars<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart, styles: &[SeriesStyle]) -> DynResult<()>
where
    DB::ErrorType: 'static,
{
    let n = chart.categories.len();
    let values = chart.series.iter().flat_map(|s| s.values.iter().flatten().copied());
    let y = Axis::fit(values, false, true, 0.1);
    let mut ctx = ChartBuilder::on(area)
        .margin(10)
        .margin_right(20)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(Axis::categories(&chart.categories), y)?;
    ctx.configure_mesh()
        .disable_x_mesh()
        .bold_line_style(BLACK.mix(0.12))
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;

    let m = chart.series.len().max(1) as f64;
    let width = 0.8 / m;
    let show_values = chart.series.len() * n <= 24;
    let value_font = TextStyle::from((FONT, 11).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    for (j, (s, st)) in chart.series.iter().zip(styles).enumerate() {
        for (i, v) in s.values.iter().enumerate() {
            let Some(v) = v.filter(|v| v.is_finite()) else {
                continue;
            };
            let x0 = i as f64 + 0.1 + j as f64 * width;
            let x1 = x0 + width * 0.9;
            ctx.draw_series(std::iter::once(Rectangle::new([(x0, 0.0), (x1, v)], st.colour.filled())))?;
            if show_values {
                let label = Text::new(fmt_num(v), (0, -3), value_font.clone());
                ctx.draw_series(std::iter::once(EmptyElement::at(((x0 + x1) / 2.0, v)) + label))?;
            }
        }
    }
    Ok(())
}

fn draw_lines<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart, styles: &[SeriesStyle]) -> DynResult<()>
where
    DB::ErrorType: 'static,
{
    let points = || chart.series.iter().flat_map(|s| s.points.iter().flatten());
    let x = Axis::fit(points().map(|p| p.0), chart.log_x, false, 0.03);
    let y_values = points().filter_map(|p| p.1);
    let y = Axis::fit(y_values, chart.log_y, true, if chart.log_y { 0.05 } else { 0.1 });
    let mut ctx = ChartBuilder::on(area)
        .margin(10)
        .margin_right(20)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x.clone(), y.clone())?;
    ctx.configure_mesh()
        .bold_line_style(BLACK.mix(0.12))
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;

    for (s, st) in chart.series.iter().zip(styles) {
        // Split into runs of drawable points: a skipped point breaks the line.
        let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for p in &s.points {
            let mapped = p.and_then(|(px, py)| Some((x.map_value(px)?, y.map_value(py?)?)));
            match (mapped, segments.last_mut()) {
                (Some(p), Some(seg)) => seg.push(p),
                (None, Some(seg)) if !seg.is_empty() => segments.push(Vec::new()),
                _ => {}
            }
        }
        for seg in segments.iter().filter(|s| !s.is_empty()) {
            ctx.draw_series(LineSeries::new(seg.iter().copied(), st.colour.stroke_width(2)))?;
            with_marker!(st.variant, st.colour, mk => ctx.draw_series(seg.iter().map(|p| mk(*p))))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"[
      {"file": "bars.svg", "title": "Req/s by size", "kind": "bars",
       "x_label": "response body", "y_label": "requests/s",
       "categories": ["128 B", "1 KiB", "16 KiB", "256 KiB"],
       "series": [{"name": "nginx", "values": [52000, 50000, 31000, 4000]},
                  {"name": "haproxy", "values": [48000, null, 29000, 3500]},
                  {"name": "ringgate", "values": [61000, 58000, 35000, 4200]}]},
      {"file": "lines.svg", "title": "Latency by rate", "kind": "lines",
       "x_label": "offered load (req/s)", "y_label": "latency (ms)", "log_y": true,
       "series": [{"name": "ringgate p50", "points": [[1000, 0.2], [2000, 0.25], [4000, null], [8000, 0.4]]},
                  {"name": "ringgate p99", "points": [[1000, 0.5], [2000, 0.7], [4000, 1.9], [8000, 40]]},
                  {"name": "nginx p99", "points": [[1000, 0.4], [2000, 0.6], null, [8000, 12]]}]}
    ]"#;

    #[test]
    fn renders_spec_to_svg_files() {
        let dir = tempfile::tempdir().unwrap();
        let spec_path = dir.path().join("spec.json");
        fs::write(&spec_path, SPEC).unwrap();
        let charts = load_spec(&spec_path).unwrap();
        let out = dir.path().join("out");
        let files = render_all(&charts, &out).unwrap();
        assert_eq!(files.len(), 2);
        let bars = fs::read_to_string(out.join("bars.svg")).unwrap();
        for name in ["nginx", "haproxy", "ringgate", "Req/s by size", "16 KiB", "requests/s"] {
            assert!(bars.contains(name), "bars.svg lacks {name}");
        }
        let lines = fs::read_to_string(out.join("lines.svg")).unwrap();
        for name in ["ringgate p50", "ringgate p99", "nginx p99", "latency (ms)"] {
            assert!(lines.contains(name), "lines.svg lacks {name}");
        }
        assert!(lines.starts_with("<svg") && lines.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn rejects_bad_specs() {
        let dir = tempfile::tempdir().unwrap();
        let mut charts: Vec<Chart> = serde_json::from_str(SPEC).unwrap();
        charts[0].series[0].values.pop();
        assert!(render(&charts[0], dir.path()).unwrap_err().contains("3 values for 4 categories"));
        charts[1].file = "../escape.svg".into();
        assert!(render(&charts[1], dir.path()).is_err());
        assert!(serde_json::from_str::<Vec<Chart>>(
            r#"[{"file": "a.svg", "title": "t", "kind": "pie", "series": []}]"#
        )
        .is_err());
    }

    #[test]
    fn colours_are_stable_per_system() {
        assert_eq!(base_colour("ringgate p99"), base_colour("ringgate"));
        assert_eq!(base_colour("envoy"), base_colour("envoy p50"));
        assert_ne!(base_colour("nginx"), base_colour("haproxy"));
        let series: Vec<Series> =
            serde_json::from_str(r#"[{"name": "ringgate p50"}, {"name": "ringgate p99"}, {"name": "nginx"}]"#).unwrap();
        let styles = series_styles(&series);
        assert_ne!(styles[0].colour, styles[1].colour);
        assert_eq!(styles[1].variant, 1);
        assert_eq!(styles[2].colour, base_colour("nginx"));
    }

    #[test]
    fn numbers_and_ticks() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(1500.0), "1.5k");
        assert_eq!(fmt_num(250_000.0), "250k");
        assert_eq!(fmt_num(1_200_000.0), "1.2M");
        assert_eq!(fmt_num(0.005), "0.005");
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(fmt_num(12.0), "12");
        assert_eq!(nice_ticks(0.0, 66_000.0).first(), Some(&0.0));
        assert!(nice_ticks(0.0, 66_000.0).len() >= 5);
        let log = Axis { log: true, ..Axis::linear(-1.0, 1.7) };
        let labels: Vec<String> = log.ticks().iter().map(|t| log.label(*t)).collect();
        assert_eq!(labels, ["0.1", "0.2", "0.5", "1", "2", "5", "10", "20", "50"]);
    }
}
