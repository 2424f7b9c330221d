//! Draw items: what a lane looks like over a time range at a pixel density,
//! from a generation's full detail (folded) or from its summary.
//!
//! Both paths cost `O(items · log n)` per row: binary searches to the
//! visible range, then one step per emitted item, so a frame stays cheap
//! at every zoom level.

use super::fold::fold;
use super::generation::{GenerationModel, GenerationSummary};
use super::plot::{PlotPoint, Series, columns};
use super::span::{Span, SpanKind};
use super::timeline::{LaneKey, TimeSpan};

/// Spans narrower than this many pixels are folded with their neighbours.
/// Smaller shows more individual spans but draws more items; 3 px keeps
/// spans clickable while bounding a 2000 px lane to ~700 items per row.
pub const FOLD_PX: f64 = 3.0;

/// One thing to draw in a lane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DrawItem<'a> {
    /// First nanosecond.
    pub start: i64,
    /// First nanosecond after (equal to `start` for instants: draw a tick).
    pub end: i64,
    /// Row within the lane, from the top.
    pub row: usize,
    /// What it is.
    pub kind: ItemKind<'a>,
}

/// What a [`DrawItem`] shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ItemKind<'a> {
    /// One span of full detail.
    Span {
        /// Colour family.
        kind: SpanKind,
        /// Start function (on P and M lanes), block reason, region or task
        /// type, log message, sampled function; may be empty.
        label: &'a str,
        /// Hash of `label`: the same text has the same key everywhere, for
        /// a colour per function.
        color_key: u32,
        /// The goroutine a P or M lane's span runs, or the lane's goroutine.
        goroutine: Option<i64>,
        /// For the GC lane's sweeps and assists, the most Ps or goroutines
        /// at once; 0 otherwise.
        count: u32,
    },
    /// Several spans, each narrower than [`FOLD_PX`]: draw one neutral block
    /// ("N spans"), zoom in to see them.
    Fold {
        /// Spans in the block.
        count: usize,
    },
    /// A summary bucket (the generation's detail is not loaded, or the view
    /// is zoomed out past it): the dominant kind, shaded by busy fraction.
    Summary {
        /// The kind covering most of the bucket.
        kind: SpanKind,
        /// Fraction of the bucket spent busy, 0.0..=1.0.
        busy: f32,
        /// Fraction of the bucket covered by any span, 0.0..=1.0.
        covered: f32,
        /// Spans starting in the bucket.
        count: u32,
    },
}

/// Whether `summary` is fine enough for lane `key` at `ns_per_px`: its
/// finest buckets are no wider than a pixel (so full detail would only add
/// items, not information).
pub(crate) fn summary_suffices(summary: &GenerationSummary, key: LaneKey, ns_per_px: f64) -> bool {
    if let LaneKey::Plot(_) = key {
        return summary.plot_width as f64 <= ns_per_px;
    }
    summary.lane(key).is_none_or(|lane| {
        summary
            .rows(&lane)
            .filter_map(|p| p.finest_width())
            .all(|w| w as f64 <= ns_per_px)
    })
}

/// Appends the items of lane `key` in `model` over `view`.
pub(crate) fn detail_items<'a>(
    model: &'a GenerationModel,
    key: LaneKey,
    view: TimeSpan,
    ns_per_px: f64,
    out: &mut Vec<DrawItem<'a>>,
) {
    let Some(lane) = model.lane(key) else { return };
    let threshold = (FOLD_PX * ns_per_px).ceil() as i64;
    for (row_index, row) in model.rows(lane).enumerate() {
        fold(row, view, threshold, |f| {
            let (Some(first), Some(last)) = (row.get(f.first), row.get(f.first + f.count - 1))
            else {
                return;
            };
            let kind = if f.count == 1 {
                span_kind(model, key, first)
            } else {
                ItemKind::Fold { count: f.count }
            };
            out.push(DrawItem {
                start: first.start,
                end: last.end(),
                row: row_index,
                kind,
            });
        });
    }
}

/// The draw item kind of `span` of lane `key`: its label and goroutine
/// resolved as the lane shows them.
pub(crate) fn span_kind<'a>(model: &'a GenerationModel, key: LaneKey, span: &Span) -> ItemKind<'a> {
    let kind = span.kind();
    let (label, goroutine, count) = match (key, kind) {
        (LaneKey::Proc(_) | LaneKey::Thread(_), SpanKind::Running | SpanKind::Syscall) => {
            let g = model.goroutine(span);
            (g.map_or(0, |g| g.name), g.map(|g| g.id), 0)
        }
        (LaneKey::Gc, SpanKind::GcSweep | SpanKind::GcAssist) => (0, None, span.value()),
        (LaneKey::Goroutine(id), _) => (span.value(), Some(id), 0),
        _ => (span.value(), None, 0),
    };
    ItemKind::Span {
        kind,
        label: model.strings.get(label),
        color_key: model.strings.color(label),
        goroutine,
        count,
    }
}

/// Appends the summary items of lane `key` over `view`.
pub(crate) fn summary_items(
    summary: &GenerationSummary,
    key: LaneKey,
    view: TimeSpan,
    ns_per_px: f64,
    out: &mut Vec<DrawItem<'_>>,
) {
    let Some(lane) = summary.lane(key) else {
        return;
    };
    for (row, pyramid) in summary.rows(&lane).enumerate() {
        let Some(level) = pyramid.level_for(ns_per_px) else {
            continue;
        };
        for cell in level.visible(view) {
            let span = level.span_of(cell);
            let share = share_inside(span, summary.span());
            out.push(DrawItem {
                start: span.start,
                end: span.end,
                row,
                kind: ItemKind::Summary {
                    kind: cell.kind(),
                    busy: (cell.busy() / share).min(1.0),
                    covered: (cell.covered() / share).min(1.0),
                    count: cell.count(),
                },
            });
        }
    }
}

/// The fraction of `cell` inside `generation` (1 if none of it is).
///
/// Buckets are aligned to absolute time, so the bucket holding the
/// boundary between two generations is in both summaries, each covering
/// only its own side of it: measured against the whole bucket, both sides
/// are pale, a notch in every lane at every generation boundary of a
/// zoomed-out view. Measured against the generation's share of the bucket
/// instead, a goroutine that lives on across the boundary covers it whole
/// on both sides (whichever is drawn on top).
fn share_inside(cell: TimeSpan, generation: TimeSpan) -> f32 {
    let inside = cell.intersect(generation).len();
    match inside > 0 && !cell.is_empty() {
        true => (inside as f64 / cell.len() as f64) as f32,
        false => 1.0,
    }
}

/// Appends the pixel columns of `series` over `part` of a view whose pixel
/// grid starts at `origin`: from `model`'s raw samples if given and the
/// summary is coarser than a pixel, else from `summary`'s downsampled ones.
pub(crate) fn series_columns(
    model: Option<&GenerationModel>,
    summary: &GenerationSummary,
    series: Series,
    (part, origin): (TimeSpan, i64),
    ns_per_px: f64,
    out: &mut Vec<PlotPoint>,
) {
    match model {
        Some(m) if summary.plot_width as f64 > ns_per_px => {
            columns(m.series(series), part, origin, ns_per_px, out)
        }
        _ => columns(
            summary.series(series, ns_per_px),
            part,
            origin,
            ns_per_px,
            out,
        ),
    }
}
