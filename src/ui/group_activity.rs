//! A goroutine group's activity, painted in its header row: how many of the
//! start function's goroutines are running, runnable, in a system call and
//! waiting over time, stacked in that order from the bottom, in the colours
//! of those states.
//!
//! The header is what a folded group shows, so it has to say what the group
//! does: when its goroutines exist, how many run, and how many wait to run
//! (the scheduling latency a folded row would otherwise hide). The worker
//! hands over the group's summary buckets (`model::activity`: average
//! goroutines per state over each bucket); buckets narrower than a pixel
//! are merged into one column, averaged by time. The height is scaled to
//! the highest column in view, and a state present in a column gets at
//! least a pixel there, so two running goroutines among ten thousand
//! waiting still show. The tooltip gives the numbers.

use egui::{Mesh, Pos2, Rect, Shape};

use super::axis::format_duration;
use super::lanes::Scene;
use super::palette::kind_color;
use crate::model::{GROUP_STATES, GroupValues, SpanKind, TimeSpan};

/// The states from the bottom of the stack up, as indices of
/// [`GROUP_STATES`]: running, runnable, syscall, waiting — the work first,
/// then what holds it up.
const STACK: [usize; 4] = [0, 1, 3, 2];

/// Room left free above and below the stack in the header row, in points.
const PAD: f32 = 2.0;

/// Thinnest band a state present in a column gets, in points.
const MIN_BAND: f32 = 1.0;

/// Opacity of the waiting band: the goroutines that wait are most of a
/// group's mass and the least of its news, so they recede behind those
/// that run or are ready to (as waiting spans do on goroutine lanes).
const WAITING_ALPHA: f32 = 0.5;

/// The colour of state `k` of [`GROUP_STATES`].
fn color(k: usize) -> egui::Color32 {
    let state = GROUP_STATES.get(k).copied().unwrap_or(SpanKind::Waiting);
    match state {
        SpanKind::Waiting => kind_color(state).gamma_multiply(WAITING_ALPHA),
        _ => kind_color(state),
    }
}

/// One pixel column (or wider bucket) of the activity.
struct Column {
    x0: f32,
    x1: f32,
    time: TimeSpan,
    /// Goroutine-nanoseconds per state.
    weighted: [f64; 4],
}

impl Column {
    fn new(x0: f32, x1: f32, time: TimeSpan, values: GroupValues) -> Column {
        let mut column = Column {
            x0,
            x1,
            time,
            weighted: [0.0; 4],
        };
        column.absorb(x1, time, values);
        column
    }

    fn absorb(&mut self, x1: f32, time: TimeSpan, values: GroupValues) {
        let len = time.len() as f64;
        for (w, v) in self.weighted.iter_mut().zip(values) {
            *w += f64::from(v) * len;
        }
        self.x1 = self.x1.max(x1);
        self.time = TimeSpan::new(self.time.start, time.end);
    }

    /// Average goroutines per state over the column.
    fn values(&self) -> [f64; 4] {
        let len = self.time.len().max(1) as f64;
        self.weighted.map(|w| w / len)
    }

    fn total(&self) -> f64 {
        self.values().iter().sum()
    }
}

/// Merges `buckets` (in time order) into columns at least a pixel wide.
fn columns(scene: &Scene<'_>, buckets: &[(TimeSpan, GroupValues)]) -> Vec<Column> {
    let mut out: Vec<Column> = Vec::new();
    for &(time, values) in buckets {
        let (x0, x1) = (scene.x(time.start), scene.x(time.end));
        match out.last_mut() {
            Some(last) if x0.floor() <= last.x0.floor() || last.x1 - last.x0 < 1.0 => {
                last.absorb(x1, time, values);
            }
            _ => out.push(Column::new(x0, x1, time, values)),
        }
    }
    out
}

/// Paints the activity `buckets` of the group `title` names into `rect`
/// (its header row right of the name column); returns the tooltip for the
/// column under `pointer`, if any.
pub(crate) fn paint(
    scene: &Scene<'_>,
    (rect, title): (Rect, &str),
    buckets: &[(TimeSpan, GroupValues)],
    pointer: Option<Pos2>,
) -> Option<String> {
    let columns = columns(scene, buckets);
    let peak = columns.iter().map(Column::total).fold(0.0, f64::max);
    if peak <= 0.0 {
        return None;
    }
    let plot = rect.shrink2(egui::vec2(0.0, PAD));
    let scale = f64::from(plot.height()) / peak;
    let mut mesh = Mesh::default();
    for column in &columns {
        let values = column.values();
        let mut y = plot.bottom();
        for &k in &STACK {
            let v = values.get(k).copied().unwrap_or_default();
            if v <= 0.0 {
                continue;
            }
            let height = ((v * scale) as f32).max(MIN_BAND);
            let top = (y - height).max(plot.top());
            let x1 = column.x1.max(column.x0 + 1.0);
            let band = Rect::from_x_y_ranges(column.x0..=x1, top..=y);
            mesh.add_colored_rect(band, color(k));
            y = top;
        }
    }
    scene.painter.add(Shape::mesh(mesh));
    let pointer = pointer.filter(|p| rect.contains(*p))?;
    let column = columns
        .iter()
        .find(|c| pointer.x >= c.x0 && pointer.x < c.x1.max(c.x0 + 1.0))?;
    Some(tooltip(scene, (column, title), peak))
}

/// What a column shows, in words, under the group's `title`.
fn tooltip(scene: &Scene<'_>, (column, title): (&Column, &str), peak: f64) -> String {
    let relative = |t: i64| (t - scene.origin) as f64;
    let mut text = format!(
        "{title}\n{} – {}, goroutines on average:",
        format_duration(relative(column.time.start)),
        format_duration(relative(column.time.end)),
    );
    let values = column.values();
    for &k in &STACK {
        if let (Some(state), Some(&v)) = (GROUP_STATES.get(k), values.get(k)) {
            text.push_str(&format!("\n  {} {}", state.name(), format_count(v)));
        }
    }
    text.push_str(&format!(
        "\nThe row's height is {} (the highest column in view)",
        format_count(peak)
    ));
    text
}

/// An average number of goroutines: a decimal when small.
fn format_count(v: f64) -> String {
    if v >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_whole_numbers_or_one_decimal() {
        assert_eq!(format_count(0.0), "0");
        assert_eq!(format_count(3.26), "3.3");
        assert_eq!(format_count(12.0), "12");
        assert_eq!(format_count(1016.4), "1016");
    }
}
