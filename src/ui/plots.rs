//! Plot lanes: heap, goroutines by state and GOMAXPROCS over time.
//!
//! Painted directly rather than with `egui_plot`: a plot lane is a strip in a
//! scrolling list that must share the timeline's time mapping, pan and zoom,
//! and a mesh of column rectangles plus one polyline per series costs a few
//! microseconds. The worker hands over at most one point per pixel column
//! (with the column's min, max and last value), so spikes narrower than a
//! pixel still show as a vertical bar from min to max.
//!
//! Each series is a step function: a value holds until the next point. All
//! series of a lane share one y scale starting at zero, labelled with its
//! maximum, so "goal vs. in use" and "waiting vs. runnable" compare directly.

use egui::{Align2, Color32, FontId, Mesh, Pos2, Rect, Shape, Stroke};

use super::app::format_size;
use super::lanes::Scene;
use crate::model::{PlotKind, PlotPoint, Series};

/// Room above the highest value for the series names and scale, in points.
const HEADER: f32 = 12.0;

/// Opacity of the area under the first series of heap and GOMAXPROCS plots:
/// shows the quantity's mass while the line on top stays the sharp edge.
const AREA_ALPHA: f32 = 0.35;

/// Size of the series names and scale label, in points.
const TEXT_SIZE: f32 = 10.0;

/// The colour of a series; goroutine states match their span colours.
fn series_color(series: Series) -> Color32 {
    use super::palette::kind_color;
    use crate::model::SpanKind;
    match series {
        Series::HeapAlloc => Color32::from_rgb(0x26, 0xa6, 0x9a),
        Series::HeapGoal => Color32::from_rgb(0xff, 0x8f, 0x00),
        Series::Gomaxprocs => Color32::from_rgb(0x78, 0x90, 0x9c),
        Series::Running => kind_color(SpanKind::Running),
        Series::Runnable => kind_color(SpanKind::Runnable),
        Series::Waiting => kind_color(SpanKind::Waiting),
        Series::Syscall => kind_color(SpanKind::Syscall),
    }
}

/// A short name of a series for the lane header and tooltip.
fn series_name(series: Series) -> &'static str {
    match series {
        Series::HeapAlloc => "in use",
        Series::HeapGoal => "goal",
        Series::Gomaxprocs => "GOMAXPROCS",
        Series::Running => "running",
        Series::Runnable => "runnable",
        Series::Waiting => "waiting",
        Series::Syscall => "syscall",
    }
}

/// A value of `kind`'s unit, for people.
fn format_value(kind: PlotKind, value: i64) -> String {
    match kind {
        PlotKind::Heap => format_size(value.max(0).unsigned_abs()),
        PlotKind::Goroutines | PlotKind::Procs => value.to_string(),
    }
}

/// Paints plot lane `kind` into `rect`; `fetch` appends the pixel columns of
/// a series in view. Returns what the plot shows at the pointer, for a
/// tooltip, if the pointer is on it.
pub(crate) fn paint(
    scene: &Scene<'_>,
    kind: PlotKind,
    rect: Rect,
    mut fetch: impl FnMut(Series, &mut Vec<PlotPoint>),
    pointer: Option<Pos2>,
    text: Color32,
) -> Option<String> {
    let data: Vec<(Series, Vec<PlotPoint>)> = kind
        .series()
        .iter()
        .map(|&s| {
            let mut points = Vec::new();
            fetch(s, &mut points);
            (s, points)
        })
        .collect();
    let top = data
        .iter()
        .flat_map(|(_, p)| p)
        .map(|p| p.max)
        .max()
        .unwrap_or(0)
        .max(1);
    let plot = Rect::from_x_y_ranges(rect.x_range(), rect.top() + HEADER..=rect.bottom() - 2.0);
    let y = |v: i64| plot.bottom() - (v as f32 / top as f32) * plot.height();
    let filled = matches!(kind, PlotKind::Heap | PlotKind::Procs);
    for (i, (series, points)) in data.iter().enumerate() {
        paint_series(
            scene,
            points,
            &y,
            plot,
            series_color(*series),
            filled && i == 0,
        );
    }
    paint_header(scene.painter, rect, kind, &data, top, text);
    let p = pointer.filter(|p| rect.contains(*p))?;
    let t = scene.origin + scene.mapping.time(p.x) as i64;
    let values: Vec<String> = data
        .iter()
        .filter_map(|(series, points)| {
            let i = points.partition_point(|q| q.t <= t).checked_sub(1)?;
            let v = points.get(i)?.last;
            Some(format!(
                "{}: {}",
                series_name(*series),
                format_value(kind, v)
            ))
        })
        .collect();
    (!values.is_empty()).then(|| values.join("\n"))
}

/// One series as a step line (with min–max bars where a column hides
/// several values), over an area if `filled`.
fn paint_series(
    scene: &Scene<'_>,
    points: &[PlotPoint],
    y: &impl Fn(i64) -> f32,
    plot: Rect,
    color: Color32,
    filled: bool,
) {
    let mut mesh = Mesh::default();
    let mut line: Vec<Pos2> = Vec::with_capacity(points.len() * 2 + 1);
    for (i, p) in points.iter().enumerate() {
        let x0 = scene.x(p.t).max(plot.left());
        let x1 = points
            .get(i + 1)
            .map_or(plot.right(), |next| scene.x(next.t))
            .min(plot.right());
        if let Some(prev) = line.last().copied() {
            line.push(Pos2::new(x0, prev.y));
        }
        line.push(Pos2::new(x0, y(p.last)));
        if filled && x1 > x0 {
            let area = Rect::from_x_y_ranges(x0..=x1, y(p.last)..=plot.bottom());
            mesh.add_colored_rect(area, color.gamma_multiply(AREA_ALPHA));
        }
        if p.min != p.max {
            let bar = Rect::from_x_y_ranges(x0..=x0 + 1.0, y(p.max)..=y(p.min));
            mesh.add_colored_rect(bar, color);
        }
    }
    if let Some(last) = line.last().copied() {
        line.push(Pos2::new(plot.right(), last.y));
    }
    scene.painter.add(Shape::mesh(mesh));
    if line.len() >= 2 {
        scene
            .painter
            .add(Shape::line(line, Stroke::new(1.5, color)));
    }
}

/// Series names (in their colours) at the top left, the scale at the top right.
fn paint_header(
    painter: &egui::Painter,
    rect: Rect,
    kind: PlotKind,
    data: &[(Series, Vec<PlotPoint>)],
    top: i64,
    text: Color32,
) {
    let font = FontId::proportional(TEXT_SIZE);
    let mut x = rect.left() + 4.0;
    if data.len() > 1 {
        for (series, _) in data {
            let r = painter.text(
                Pos2::new(x, rect.top() + 1.0),
                Align2::LEFT_TOP,
                series_name(*series),
                font.clone(),
                series_color(*series),
            );
            x = r.right() + 8.0;
        }
    }
    painter.text(
        Pos2::new(rect.right() - 4.0, rect.top() + 1.0),
        Align2::RIGHT_TOP,
        format!("max {}", format_value(kind, top)),
        font,
        text.gamma_multiply(0.7),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_formatted_in_their_unit() {
        assert_eq!(format_value(PlotKind::Heap, 3 << 20), "3.0 MiB");
        assert_eq!(format_value(PlotKind::Goroutines, 6865), "6865");
    }

    #[test]
    fn every_series_has_a_distinct_colour() {
        let all = [
            Series::HeapAlloc,
            Series::HeapGoal,
            Series::Gomaxprocs,
            Series::Running,
            Series::Runnable,
            Series::Waiting,
            Series::Syscall,
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(series_color(*a), series_color(*b), "{a:?} {b:?}");
            }
        }
    }
}
