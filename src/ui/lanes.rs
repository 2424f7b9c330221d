//! Painting one lane of spans from the worker's draw items, and finding the
//! item under the pointer.
//!
//! A lane is coloured rectangles filled into the frame's [`Canvas`] (one
//! texture for all lanes, however many spans they have) plus a text label
//! for each span wide enough to hold one. The worker's items are already
//! culled to the visible range and folded where spans are narrower than a
//! few pixels, so a lane costs at most a few items per pixel column;
//! rectangles are still clipped to the lane so that a span reaching far off
//! screen does not fill thousands of invisible pixels.
//!
//! Instants (CPU samples, log messages) are drawn as [`MARK_WIDTH`] ticks,
//! and every span at least a pixel wide, so that nothing the trace recorded
//! disappears at any zoom.

use std::cell::RefCell;

use egui::text::{LayoutJob, TextWrapping};
use egui::{Color32, FontId, Pos2, Rangef, Rect, Stroke};

use super::canvas::Canvas;
use super::palette;
use super::view::Mapping;
use crate::model::timeline::ROW_HEIGHT;
use crate::model::{DrawItem, ItemKind, LaneKey, SpanKind};

/// Width of an instant's tick, in points: visible without hiding neighbours.
const MARK_WIDTH: f32 = 3.0;

/// Narrowest span that gets a text label, in points: below this even an
/// ellipsis and two letters do not fit.
const MIN_LABEL_WIDTH: f32 = 28.0;

/// Spans at least this wide leave a one-point gap at their end, so two
/// consecutive runs of the same goroutine read as two spans. Summary
/// buckets and fold blocks get none: they are contiguous by nature, and
/// gaps would draw stripes that are not in the trace.
const GAP_MIN_WIDTH: f32 = 4.0;

/// Size of span labels, in points: fits a [`ROW_HEIGHT`] row with a margin.
const LABEL_SIZE: f32 = 11.0;

/// Extra points around an instant or narrow span in which the pointer still
/// hits it: a 1-pixel tick is otherwise hard to hover.
const HIT_SLOP: f32 = 2.0;

/// What is shared by every lane of a frame.
pub(crate) struct Scene<'a> {
    /// Paints into the lanes area.
    pub(crate) painter: &'a egui::Painter,
    /// Time ↔ x of this frame.
    pub(crate) mapping: &'a Mapping,
    /// Absolute time of relative time 0.
    pub(crate) origin: i64,
    /// Screen columns of the lanes' drawing area (right of the name column).
    pub(crate) body: Rangef,
    /// Where the lanes' rectangles go.
    pub(crate) canvas: RefCell<Canvas>,
}

impl Scene<'_> {
    /// Screen x of absolute time `t`, clamped to just outside the body.
    pub(crate) fn x(&self, t: i64) -> f32 {
        let x = self.mapping.x((t - self.origin) as f64);
        x.clamp(self.body.min - 1.0, self.body.max + 1.0)
    }

    /// The screen rectangle of an item from `start` to `end` drawn as
    /// `shape` in the row whose top is `top`; at least a pixel wide.
    pub(crate) fn item_rect(&self, start: i64, end: i64, shape: ItemShape, top: f32) -> Rect {
        let (mut x0, mut x1) = (self.x(start), self.x(end));
        match shape {
            ItemShape::Tick => {
                x0 -= MARK_WIDTH / 2.0;
                x1 = x0 + MARK_WIDTH;
            }
            _ if x1 - x0 < 1.0 => x1 = x0 + 1.0,
            ItemShape::Span if x1 - x0 >= GAP_MIN_WIDTH => x1 -= 1.0,
            ItemShape::Span | ItemShape::Block => {}
        }
        Rect::from_x_y_ranges(x0..=x1, top + 1.0..=top + ROW_HEIGHT - 1.0)
    }
}

/// How an item is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ItemShape {
    /// An instant: a tick centred on its time.
    Tick,
    /// A span: a bar, with a gap at its end when wide enough.
    Span,
    /// A fold block or summary bucket: a bar without a gap.
    Block,
}

impl ItemShape {
    /// How `item` is drawn.
    pub(crate) fn of(item: &DrawItem<'_>) -> Self {
        match item.kind {
            ItemKind::Span { kind, .. }
                if matches!(kind, SpanKind::CpuSample | SpanKind::Log)
                    || item.start == item.end =>
            {
                ItemShape::Tick
            }
            ItemKind::Span { .. } => ItemShape::Span,
            ItemKind::Fold { .. } | ItemKind::Summary { .. } => ItemShape::Block,
        }
    }
}

/// The text inside an item wide enough for one, if it has any.
fn label_text(lane: LaneKey, item: &DrawItem<'_>) -> Option<String> {
    match item.kind {
        ItemKind::Span {
            kind,
            label,
            goroutine,
            ..
        } => {
            let on_cpu_lane = matches!(lane, LaneKey::Proc(_) | LaneKey::Thread(_));
            match (on_cpu_lane, goroutine) {
                (true, Some(g)) if label.is_empty() => Some(format!("G{g}")),
                (true, Some(g)) => Some(format!("G{g} {label}")),
                _ if !label.is_empty() => Some(label.to_owned()),
                _ if kind == SpanKind::Syscall => Some(kind.name().to_owned()),
                _ => None,
            }
        }
        ItemKind::Fold { count } => Some(format!("{count} spans")),
        ItemKind::Summary { .. } => None,
    }
}

/// Paints `items` of lane `lane` into `rect` (the lane's drawing area, one
/// [`ROW_HEIGHT`] per row; rows from `rows` on are folded away), and returns
/// the index of the item under `pointer`, if any.
pub(crate) fn paint(
    scene: &Scene<'_>,
    lane: LaneKey,
    rect: Rect,
    rows: usize,
    items: &[DrawItem<'_>],
    pointer: Option<Pos2>,
) -> Option<usize> {
    let mut canvas = scene.canvas.borrow_mut();
    let mut labels = Vec::new();
    let mut hit: Option<(usize, f32)> = None;
    let pointer = pointer.filter(|p| rect.contains(*p));
    for (i, item) in items.iter().enumerate().filter(|(_, it)| it.row < rows) {
        let top = rect.top() + item.row as f32 * ROW_HEIGHT;
        let r = scene.item_rect(item.start, item.end, ItemShape::of(item), top);
        if r.right() < rect.left() || r.left() > rect.right() {
            continue;
        }
        let r = r.intersect(rect);
        let fill = palette::item_color(lane, &item.kind);
        canvas.fill(r, fill);
        if r.width() >= MIN_LABEL_WIDTH
            && let Some(text) = label_text(lane, item)
        {
            labels.push((r, text, palette::text_on(fill)));
        }
        if let Some(p) = pointer
            && let Some(distance) = hit_distance(r, p)
            && hit.is_none_or(|(_, best)| distance < best)
        {
            hit = Some((i, distance));
        }
    }
    for (r, text, color) in labels {
        paint_label(scene.painter, r, text, color);
    }
    hit.map(|(i, _)| i)
}

/// How far `p` is from `r` horizontally if it hits it (0 inside), counting
/// [`HIT_SLOP`] around narrow items.
fn hit_distance(r: Rect, p: Pos2) -> Option<f32> {
    if !r.y_range().expand(1.0).contains(p.y) {
        return None;
    }
    let distance = (r.left() - p.x).max(p.x - r.right()).max(0.0);
    (distance <= HIT_SLOP).then_some(distance)
}

/// Text inside `r`, elided with `…` to fit.
fn paint_label(painter: &egui::Painter, r: Rect, text: String, color: Color32) {
    let mut job = LayoutJob::simple_singleline(text, FontId::proportional(LABEL_SIZE), color);
    job.wrap = TextWrapping::truncate_at_width(r.width() - 6.0);
    let galley = painter.layout_job(job);
    let pos = Pos2::new(r.left() + 3.0, r.center().y - galley.size().y / 2.0);
    painter.galley(pos, galley, color);
}

/// How an outlined item is emphasised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Emphasis {
    /// Under the pointer: a thin outline, feedback for what a click picks.
    Hovered,
    /// Selected (its details are in the side panel): a bold accent outline.
    Selected,
}

/// Outlines the item from `start` to `end` on row `row` of the lane drawn
/// in `rect`, if it is on screen.
pub(crate) fn paint_outline(
    scene: &Scene<'_>,
    rect: Rect,
    (start, end, row): (i64, i64, usize),
    emphasis: Emphasis,
) {
    let top = rect.top() + row as f32 * ROW_HEIGHT;
    if top >= rect.bottom() {
        return;
    }
    let shape = if start == end {
        ItemShape::Tick
    } else {
        ItemShape::Span
    };
    let r = scene.item_rect(start, end, shape, top).intersect(rect);
    if r.width() <= 0.0 {
        return;
    }
    let stroke = match emphasis {
        Emphasis::Hovered => Stroke::new(1.0, Color32::WHITE),
        Emphasis::Selected => Stroke::new(2.0, Color32::from_rgb(0x00, 0xad, 0xd8)),
    };
    scene
        .painter
        .rect_stroke(r, 1.0, stroke, egui::StrokeKind::Outside);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimeSpan;
    use crate::ui::view::View;

    fn item(start: i64, end: i64, kind: SpanKind) -> DrawItem<'static> {
        DrawItem {
            start,
            end,
            row: 0,
            kind: ItemKind::Span {
                kind,
                label: "main.worker",
                color_key: 1,
                goroutine: Some(3),
                count: 0,
            },
        }
    }

    #[test]
    fn labels_name_the_goroutine_on_cpu_lanes() {
        let running = item(0, 10, SpanKind::Running);
        assert_eq!(
            label_text(LaneKey::Proc(0), &running).as_deref(),
            Some("G3 main.worker")
        );
        assert_eq!(
            label_text(LaneKey::Goroutine(3), &running).as_deref(),
            Some("main.worker")
        );
        let fold = DrawItem {
            kind: ItemKind::Fold { count: 12 },
            ..running
        };
        assert_eq!(
            label_text(LaneKey::Proc(0), &fold).as_deref(),
            Some("12 spans")
        );
    }

    #[test]
    fn hits_prefer_the_item_under_the_pointer() {
        let r = Rect::from_x_y_ranges(10.0..=20.0, 0.0..=16.0);
        assert_eq!(hit_distance(r, Pos2::new(15.0, 8.0)), Some(0.0));
        assert_eq!(hit_distance(r, Pos2::new(21.0, 8.0)), Some(1.0));
        assert_eq!(hit_distance(r, Pos2::new(30.0, 8.0)), None);
        assert_eq!(hit_distance(r, Pos2::new(15.0, 40.0)), None);
    }

    #[test]
    fn items_are_at_least_a_pixel_and_clamped() {
        let view = View::new(TimeSpan::new(1_000, 2_000));
        let mapping = Mapping::new(&view, 100.0, 1100.0);
        let ctx = egui::Context::default();
        let painter = egui::Painter::new(
            ctx,
            egui::LayerId::background(),
            Rect::from_x_y_ranges(0.0..=1200.0, 0.0..=100.0),
        );
        let scene = Scene {
            painter: &painter,
            mapping: &mapping,
            origin: 1_000,
            body: Rangef::new(100.0, 1100.0),
            canvas: RefCell::new(Canvas::new(&painter, painter.clip_rect())),
        };
        let thin = scene.item_rect(1_500, 1_500, ItemShape::Block, 0.0);
        assert_eq!(thin.width(), 1.0);
        let mark = scene.item_rect(1_500, 1_500, ItemShape::Tick, 0.0);
        assert_eq!(mark.width(), MARK_WIDTH);
        let huge = scene.item_rect(-1_000_000_000, 1_000_000_000, ItemShape::Span, 0.0);
        assert!(huge.left() >= 99.0 && huge.right() <= 1101.0);
    }
}
