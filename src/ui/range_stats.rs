//! The "Range" tab: what happened inside the time range selected with a
//! shift-drag.
//!
//! Figures come from the worker's draw items over the range, clipped to it:
//! - goroutine states (running, runnable, waiting by reason, syscall)
//!   summed over the goroutine lanes the filter shows;
//! - per-P busy time (goroutines running or in syscalls on the P, GC
//!   workers included as the goroutines they are) and its share of the
//!   range;
//! - GC time on the GC lane by activity (mark, stop-the-world, assists,
//!   sweeping; overlapping activities each count);
//! - the latency outliers of the analysis lying wholly inside the range.
//!
//! Where a generation's full detail is not loaded (the view is zoomed out
//! past it) the worker answers with summary buckets: a bucket counts whole
//! towards its dominant state on goroutine lanes, and by its busy fraction
//! on P lanes (summaries carry no wait reasons, so their waiting time is
//! plain "waiting"). Spans folded together because they are very short count as
//! "short spans (mixed)". Either makes the figures approximate, and the tab
//! says so. The figures are computed once per selection, filter and
//! decoding progress (not per frame) and only once the drag ends, so even
//! thousands of lanes cost one pass, not one per frame.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::axis::format_duration;
use super::filter::GoroutineFilter;
use super::table::{self, Column, RowText};
use crate::analysis::{Analysis, Interval, LatencyKind};
use crate::model::{DrawItem, ItemKind, Lane, LaneKey, SpanKind, TimeSpan, Timeline};
use crate::trace::NO_GOROUTINE;
use crate::worker::Worker;

/// Resolution of the draw-item query, in "pixels" across the range: spans
/// shorter than 3 / `RESOLUTION_PX` of the range are folded (and counted as
/// mixed). Finer is more exact but returns more items; 100 000 keeps a
/// dense lane's query to a few thousand items while folding only spans
/// under 0.003 % of the range.
const RESOLUTION_PX: f64 = 100_000.0;

/// The row of a goroutine lane holding its states, and of a P lane holding
/// the goroutines it ran (the model's `G_STATES` and `P_GOROUTINES`); the
/// other rows (samples, regions, GC work on a P) would count time twice.
const FIRST_ROW: usize = 0;

/// Most outliers listed: the longest ones. The analysis keeps thousands
/// per kind; a list of hundreds is as much as anyone reads.
const OUTLIERS_SHOWN: usize = 500;

/// Width of the figures column, in points: a wait reason, a duration and a
/// share side by side; the outliers table takes the rest.
const FIGURES_WIDTH: f32 = 420.0;

/// Name of the goroutine state under which folded short spans count.
const MIXED: &str = "short spans (mixed)";

/// Names of the goroutine states under which a summary bucket's time
/// counts where it does not say which of two states it was: its busy time
/// (running or in a syscall) when the bucket is mostly idle, and its idle
/// time (runnable or waiting) when it is mostly busy.
const BUSY_UNSPLIT: &str = "running or syscall (summary)";
const IDLE_UNSPLIT: &str = "runnable or waiting (summary)";

/// The columns of the in-range outliers table.
const COLUMNS: [Column; 4] = [
    Column {
        title: "Kind",
        width: 90.0,
        numeric: false,
    },
    Column {
        title: "Goroutine",
        width: 80.0,
        numeric: true,
    },
    Column {
        title: "Duration",
        width: 90.0,
        numeric: true,
    },
    Column {
        title: "Label",
        width: 120.0,
        numeric: false,
    },
];

/// What the selected range holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RangeStats {
    /// The range, in absolute trace time.
    pub(crate) range: TimeSpan,
    /// Goroutines in the range, of the lanes the filter shows.
    pub(crate) goroutines: usize,
    /// Time per goroutine state (`waiting: reason` per reason), in ns.
    pub(crate) states: BTreeMap<String, i64>,
    /// Busy time per P, in ns, by P ID.
    pub(crate) procs: BTreeMap<i64, i64>,
    /// GC time per activity, in ns.
    pub(crate) gc: BTreeMap<&'static str, i64>,
    /// Whether summaries or folded spans went into the figures.
    pub(crate) approximate: bool,
}

impl RangeStats {
    /// The figures of `range` from `worker`, over the lanes `shows` keeps.
    pub(crate) fn compute(
        worker: &Worker,
        range: TimeSpan,
        shows: impl Fn(&Lane) -> bool,
    ) -> RangeStats {
        let mut stats = RangeStats {
            range,
            ..RangeStats::default()
        };
        let ns_per_px = (range.len() as f64 / RESOLUTION_PX).max(1.0);
        let mut items = Vec::new();
        for lane in worker.timeline().lanes.iter().filter(|l| shows(l)) {
            items.clear();
            worker.lane_items(lane.key(), range, ns_per_px, &mut items);
            match lane.key() {
                LaneKey::Goroutine(_) => {
                    let added: i64 = row_items(&items, FIRST_ROW)
                        .map(|i| stats.add_state(&i))
                        .sum();
                    // Only goroutines that exist in the range count.
                    stats.goroutines += usize::from(added > 0);
                }
                LaneKey::Proc(p) => {
                    let busy = row_items(&items, FIRST_ROW).map(|i| stats.busy(&i));
                    let total = busy.sum();
                    stats.procs.insert(p, total);
                }
                LaneKey::Gc => {
                    let rows = items.iter().map(|i| i.row + 1).max().unwrap_or(0);
                    for row in 0..rows {
                        row_items(&items, row).for_each(|i| stats.add_gc(&i));
                    }
                }
                _ => {}
            }
        }
        stats
    }

    /// Length of `item` inside the range.
    fn clipped(&self, item: &DrawItem<'_>) -> i64 {
        (item.end.min(self.range.end) - item.start.max(self.range.start)).max(0)
    }

    /// Adds a goroutine lane's item to the state totals; returns the time
    /// it added.
    fn add_state(&mut self, item: &DrawItem<'_>) -> i64 {
        let len = self.clipped(item);
        match item.kind {
            ItemKind::Span { kind, label, .. } => self.add_time(state_name(kind, label), len),
            ItemKind::Summary {
                kind,
                busy,
                covered,
                ..
            } => {
                // Only the part of the bucket the goroutine existed in
                // counts: its busy time and the rest, the one of them its
                // dominant state is in under that state.
                self.approximate = true;
                let part = |fraction: f32| (f64::from(fraction) * len as f64).round() as i64;
                let (busy, idle) = (part(busy), part((covered - busy).max(0.0)));
                let (dominant, other, other_name) = match kind.is_busy() {
                    true => (busy, idle, IDLE_UNSPLIT),
                    false => (idle, busy, BUSY_UNSPLIT),
                };
                self.add_time(state_name(kind, ""), dominant)
                    + self.add_time(Some(other_name.to_owned()), other)
            }
            ItemKind::Fold { .. } => {
                self.approximate = true;
                self.add_time(Some(MIXED.to_owned()), len)
            }
        }
    }

    /// Adds `len` ns to state `name`, if it is a state; returns the time
    /// added.
    fn add_time(&mut self, name: Option<String>, len: i64) -> i64 {
        match name.filter(|_| len > 0) {
            Some(name) => {
                *self.states.entry(name).or_default() += len;
                len
            }
            None => 0,
        }
    }

    /// Busy time of a P lane's item.
    fn busy(&mut self, item: &DrawItem<'_>) -> i64 {
        let len = self.clipped(item);
        match item.kind {
            ItemKind::Span { kind, .. } if kind.is_busy() => len,
            ItemKind::Span { .. } => 0,
            ItemKind::Summary { busy, .. } => {
                self.approximate = true;
                (f64::from(busy) * len as f64).round() as i64
            }
            ItemKind::Fold { .. } => {
                self.approximate = true;
                len
            }
        }
    }

    /// Adds a GC lane's item to the GC totals.
    fn add_gc(&mut self, item: &DrawItem<'_>) {
        let len = self.clipped(item);
        let kind = match item.kind {
            ItemKind::Span { kind, .. } => kind,
            ItemKind::Summary { kind, .. } => {
                self.approximate = true;
                kind
            }
            ItemKind::Fold { .. } => {
                self.approximate = true;
                return;
            }
        };
        if len > 0 {
            *self.gc.entry(kind.name()).or_default() += len;
        }
    }

    /// Goroutine time in all states.
    pub(crate) fn state_total(&self) -> i64 {
        self.states.values().sum()
    }
}

/// The items of row `row`, each starting no earlier than the ones before it
/// end: summary buckets are aligned to a grid per generation, so the last
/// bucket of a generation can run into the next one's first.
fn row_items<'a>(items: &[DrawItem<'a>], row: usize) -> impl Iterator<Item = DrawItem<'a>> {
    let mut covered = i64::MIN;
    items.iter().filter(move |i| i.row == row).map(move |i| {
        let item = DrawItem {
            start: i.start.max(covered),
            ..*i
        };
        covered = covered.max(i.end);
        item
    })
}

/// The state total a goroutine span of `kind` adds to, if it is a state.
fn state_name(kind: SpanKind, label: &str) -> Option<String> {
    match kind {
        SpanKind::Running | SpanKind::Runnable | SpanKind::Syscall => Some(kind.name().to_owned()),
        SpanKind::Waiting if label.is_empty() => Some(kind.name().to_owned()),
        SpanKind::Waiting => Some(format!("waiting: {label}")),
        _ => None,
    }
}

/// What the figures were computed from: recomputed when any of it changes.
#[derive(Clone, Debug, PartialEq)]
struct Key {
    range: TimeSpan,
    filter: GoroutineFilter,
    /// Generations decoded: more detail can arrive for the same range.
    decoded: usize,
    pending: usize,
}

/// The tab's state.
#[derive(Debug, Default)]
pub(crate) struct RangeTab {
    key: Option<Key>,
    stats: Option<RangeStats>,
    /// The outliers inside the range, longest first, and the analysis they
    /// come from.
    outliers: Option<(Arc<Analysis>, Vec<Interval>)>,
}

impl RangeTab {
    /// Recomputes the figures if the selection (absolute times), the filter
    /// or the decoded data changed.
    pub(crate) fn refresh(
        &mut self,
        worker: &Worker,
        selection: Option<TimeSpan>,
        filter: &GoroutineFilter,
        shows: impl Fn(&Lane) -> bool,
    ) {
        let Some(range) = selection.filter(|r| !r.is_empty()) else {
            *self = RangeTab::default();
            return;
        };
        let key = Key {
            range,
            filter: filter.clone(),
            decoded: worker.progress().done,
            pending: worker.timeline().pending,
        };
        if self.key.as_ref() == Some(&key) {
            return;
        }
        self.stats = Some(RangeStats::compute(worker, range, shows));
        self.outliers = None;
        self.key = Some(key);
    }

    /// Draws the tab; returns the outlier the user clicked.
    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        analysis: &Arc<Analysis>,
        timeline: &Timeline,
        filter: &GoroutineFilter,
    ) -> Option<Interval> {
        let Some(stats) = &self.stats else {
            ui.weak("Shift-drag over the timeline to select a time range.");
            return None;
        };
        let fresh = self
            .outliers
            .as_ref()
            .is_some_and(|(a, _)| Arc::ptr_eq(a, analysis));
        if !fresh {
            let inside = outliers_inside(analysis, stats.range, timeline, filter);
            self.outliers = Some((Arc::clone(analysis), inside));
        }
        let outliers = self.outliers.as_ref().map_or(&[][..], |(_, o)| &o[..]);
        let mut clicked = None;
        ui.horizontal_top(|ui| {
            let size = egui::vec2(FIGURES_WIDTH, ui.available_height());
            ui.allocate_ui(size, |ui| ui.vertical(|ui| figures_ui(ui, stats)));
            ui.separator();
            ui.vertical(|ui| clicked = outliers_ui(ui, outliers, analysis));
        });
        clicked
    }
}

/// The outliers of every kind wholly inside `range` whose goroutine passes
/// `filter`, longest first, at most [`OUTLIERS_SHOWN`].
fn outliers_inside(
    analysis: &Analysis,
    range: TimeSpan,
    timeline: &Timeline,
    filter: &GoroutineFilter,
) -> Vec<Interval> {
    let mut inside: Vec<Interval> = LatencyKind::ALL
        .into_iter()
        .flat_map(|kind| analysis.latencies.outliers(kind))
        .filter(|i| i.start >= range.start && i.end <= range.end)
        .filter(|i| super::outliers::passes(filter, timeline, i))
        .collect();
    inside.sort_by_key(|i| std::cmp::Reverse(i.duration()));
    inside.truncate(OUTLIERS_SHOWN);
    inside
}

/// The state, P and GC figures as grids.
fn figures_ui(ui: &mut egui::Ui, stats: &RangeStats) {
    let len = stats.range.len();
    ui.strong(format!("Range {}", exact(len)));
    if stats.approximate {
        ui.weak("Approximate: parts are drawn from summaries; zoom in for exact figures.")
            .on_hover_text(
                "Where full detail is not loaded, a summary bucket counts whole towards \
                 its dominant state, and short folded spans count as mixed.",
            );
    }
    egui::ScrollArea::vertical()
        .id_salt("range-figures")
        .max_width(FIGURES_WIDTH)
        .max_height(ui.available_height())
        .show(ui, |ui| {
            let all = stats.state_total();
            let plural = if stats.goroutines == 1 { "" } else { "s" };
            ui.label(format!(
                "Goroutine states {} over {} goroutine{plural}",
                exact(all),
                stats.goroutines
            ));
            let share = |ns: i64, of: i64| 100.0 * ns as f64 / of.max(1) as f64;
            grid(ui, "range-states", stats.states.iter(), |&ns| {
                format!("{:.1} %", share(ns, all))
            });
            ui.separator();
            ui.label("Busy time per P");
            let procs = stats.procs.iter().map(|(p, ns)| (format!("P{p} busy"), ns));
            grid(ui, "range-procs", procs, |&ns| {
                format!("{:.1} %", share(ns, len))
            });
            ui.separator();
            ui.label("GC");
            grid(ui, "range-gc", stats.gc.iter(), |&ns| {
                format!("{:.1} %", share(ns, len))
            });
        });
}

/// `G7`, or a dash for intervals of no goroutine (stop-the-world pauses).
fn goroutine_text(id: i64) -> String {
    if id == NO_GOROUTINE {
        "–".to_owned()
    } else {
        format!("G{id}")
    }
}

/// `12.3 ms (12345678 ns)`: readable, and exact for comparing.
fn exact(ns: i64) -> String {
    format!("{} ({ns} ns)", format_duration(ns as f64))
}

/// A grid of name, duration and `extra` per row.
fn grid<'a, N: std::fmt::Display>(
    ui: &mut egui::Ui,
    id: &str,
    rows: impl Iterator<Item = (N, &'a i64)>,
    extra: impl Fn(&i64) -> String,
) {
    egui::Grid::new(id).striped(true).show(ui, |ui| {
        for (name, ns) in rows {
            ui.label(name.to_string());
            ui.label(format_duration(*ns as f64));
            ui.label(extra(ns));
            ui.end_row();
        }
    });
}

/// The in-range outliers; returns the one clicked.
fn outliers_ui(ui: &mut egui::Ui, outliers: &[Interval], analysis: &Analysis) -> Option<Interval> {
    ui.label(format!("Outliers inside the range ({})", outliers.len()));
    let unsorted = table::Sort {
        column: 2,
        descending: true,
    };
    table::header(ui, &COLUMNS, unsorted);
    let clicked = table::rows(ui, "range-outliers", &COLUMNS, outliers.len(), None, |i| {
        let interval = &outliers[i];
        RowText {
            cells: vec![
                super::outliers::kind_name(interval.kind).to_owned(),
                goroutine_text(interval.goroutine),
                format_duration(interval.duration() as f64),
                analysis.labels.text(interval.label),
            ],
            selected: false,
            fold: None,
            nested: false,
        }
    });
    outliers.get(clicked?).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: i64, end: i64, kind: SpanKind, label: &'static str) -> DrawItem<'static> {
        DrawItem {
            start,
            end,
            row: 0,
            kind: ItemKind::Span {
                kind,
                label,
                color_key: 0,
                goroutine: Some(1),
                count: 0,
            },
        }
    }

    #[test]
    fn states_are_clipped_to_the_range() {
        let mut stats = RangeStats {
            range: TimeSpan::new(100, 200),
            ..RangeStats::default()
        };
        stats.add_state(&span(50, 150, SpanKind::Running, ""));
        stats.add_state(&span(150, 400, SpanKind::Waiting, "chan receive"));
        stats.add_state(&span(150, 160, SpanKind::Region, "r"));
        assert_eq!(stats.states.get("running"), Some(&50));
        assert_eq!(stats.states.get("waiting: chan receive"), Some(&50));
        assert_eq!(stats.state_total(), 100);
        assert!(!stats.approximate);
    }

    #[test]
    fn overlapping_buckets_count_once() {
        let items = [
            span(0, 100, SpanKind::Running, ""),
            span(90, 150, SpanKind::Running, ""),
        ];
        let clipped: Vec<(i64, i64)> = row_items(&items, 0).map(|i| (i.start, i.end)).collect();
        assert_eq!(clipped, [(0, 100), (100, 150)]);
    }

    #[test]
    fn summaries_count_by_busy_fraction_and_say_so() {
        let mut stats = RangeStats {
            range: TimeSpan::new(0, 1000),
            ..RangeStats::default()
        };
        let bucket = DrawItem {
            start: 0,
            end: 1000,
            row: 0,
            kind: ItemKind::Summary {
                kind: SpanKind::Running,
                busy: 0.25,
                covered: 0.5,
                count: 3,
            },
        };
        assert_eq!(stats.busy(&bucket), 250);
        assert!(stats.approximate);
        // A goroutine present in half the bucket counts half of it: its
        // busy quarter as running (its dominant state), the rest as
        // runnable or waiting, which the bucket does not tell apart.
        stats.add_state(&bucket);
        assert_eq!(stats.states.values().sum::<i64>(), 500);
        assert_eq!(stats.states.get("running"), Some(&250));
        assert_eq!(stats.states.get(IDLE_UNSPLIT), Some(&250));
        // Mostly waiting: its busy time still counts, as busy.
        let mut stats = RangeStats {
            range: TimeSpan::new(0, 1000),
            ..RangeStats::default()
        };
        let waiting = DrawItem {
            kind: ItemKind::Summary {
                kind: SpanKind::Waiting,
                busy: 0.1,
                covered: 1.0,
                count: 3,
            },
            ..bucket
        };
        stats.add_state(&waiting);
        assert_eq!(stats.states.get("waiting"), Some(&900));
        assert_eq!(stats.states.get(BUSY_UNSPLIT), Some(&100));
    }
}
