//! The outliers tab: for each kind of latency (scheduler wait, blocking,
//! syscalls, regions, tasks, stop-the-world, mark assists) its distribution
//! and the worst intervals, leading to them on the timeline.
//!
//! A latency problem is found from the shape of the distribution, then
//! understood from single cases: so the histogram (all intervals, log
//! scales, see [`super::histogram_plot`]) sits next to a table of the
//! longest ones, clicking a bar narrows the table to that bin, and clicking
//! a row (or N / Shift+N, walking the table in its order) shows the interval
//! on the timeline: zoomed to with a margin, its goroutine's lane scrolled
//! into view and the interval selected, so the side panel tells the rest.
//!
//! The latency profiles (`super::flame`) narrow the table too: to the
//! intervals whose wait began under a frame of the flame graph, as the
//! profile's trie tells from each interval's stack.
//!
//! The table lists the intervals the analysis kept (the longest
//! [`OUTLIERS_KEPT`] per kind); rows are rebuilt only when what they depend
//! on changes (kind, bin, stack, sort, analysis, lanes), not every frame.

use std::cmp::Ordering;
use std::sync::Arc;

use super::axis::format_duration;
use super::details::{self, Picked, What};
use super::filter::GoroutineFilter;
use super::histogram_plot;
use super::table::{self, Column, RowText, Sort};
use crate::analysis::OUTLIERS_KEPT;
use crate::analysis::{Analysis, Interval, LatencyKind, StackId};
use crate::model::{LaneKey, SpanKind, Timeline};
use crate::trace::NO_GOROUTINE;

/// Width of the histogram beside the table, in points: a few decades of
/// bins wide enough to click.
const HISTOGRAM_WIDTH: f32 = 440.0;

/// The table's columns, in [`Row`] field order.
const COLUMNS: [Column; 5] = [
    Column {
        title: "Goroutine",
        width: 80.0,
        numeric: true,
    },
    Column {
        title: "Start function",
        width: 230.0,
        numeric: false,
    },
    Column {
        title: "Start",
        width: 110.0,
        numeric: true,
    },
    Column {
        title: "Duration",
        width: 80.0,
        numeric: true,
    },
    Column {
        title: "Reason / type",
        width: 160.0,
        numeric: false,
    },
];

/// Index of the duration column: the default sort, longest first.
const DURATION: usize = 3;

/// What the tab keeps between frames.
#[derive(Debug)]
pub(crate) struct OutliersTab {
    kind: LatencyKind,
    /// The histogram bin (`lo..hi` ns) the table is narrowed to.
    bin: Option<(i64, i64)>,
    /// The call path of the latency profile the table is narrowed to.
    stack: Option<StackId>,
    sort: Sort,
    /// The interval shown last: highlighted, and where N steps from.
    current: Option<Interval>,
    /// A row to scroll the table to in the next frame.
    scroll_to: Option<usize>,
    /// Only intervals of the goroutines it shows are listed.
    filter: GoroutineFilter,
    rows: Option<Rows>,
}

impl Default for OutliersTab {
    fn default() -> Self {
        Self {
            kind: LatencyKind::Sched,
            bin: None,
            stack: None,
            sort: Sort {
                column: DURATION,
                descending: true,
            },
            current: None,
            scroll_to: None,
            filter: GoroutineFilter::default(),
            rows: None,
        }
    }
}

/// The table's rows and what they were built from.
#[derive(Debug)]
struct Rows {
    analysis: Arc<Analysis>,
    kind: LatencyKind,
    bin: Option<(i64, i64)>,
    stack: Option<StackId>,
    sort: Sort,
    /// [`Timeline::revision`] of the lanes the rows were made from.
    lanes: u64,
    filter: GoroutineFilter,
    rows: Vec<Row>,
}

/// One interval with the texts the table shows.
#[derive(Debug)]
struct Row {
    interval: Interval,
    function: String,
    label: String,
}

/// What people call each kind, in the tab strip.
pub(crate) fn kind_name(kind: LatencyKind) -> &'static str {
    match kind {
        LatencyKind::Sched => "Scheduler wait",
        LatencyKind::Block => "Blocked",
        LatencyKind::Syscall => "Syscalls",
        LatencyKind::Region => "Regions",
        LatencyKind::Task => "Tasks",
        LatencyKind::StopTheWorld => "Stop-the-world",
        LatencyKind::MarkAssist => "Mark assists",
    }
}

/// The span kind the timeline draws an interval of `kind` as.
fn span_kind(kind: LatencyKind) -> SpanKind {
    match kind {
        LatencyKind::Sched => SpanKind::Runnable,
        LatencyKind::Block => SpanKind::Waiting,
        LatencyKind::Syscall => SpanKind::Syscall,
        LatencyKind::Region => SpanKind::Region,
        LatencyKind::Task => SpanKind::Task,
        LatencyKind::StopTheWorld => SpanKind::StopTheWorld,
        LatencyKind::MarkAssist => SpanKind::GcAssist,
    }
}

/// `interval` as a selection on its goroutine's lane, for the side panel.
/// A stop-the-world pause or task without a goroutine is selected on the
/// lane that draws it (GC, tasks) instead.
pub(crate) fn picked(interval: &Interval, analysis: &Analysis) -> Picked {
    let goroutine = (interval.goroutine != NO_GOROUTINE).then_some(interval.goroutine);
    let lane = match (goroutine, interval.kind) {
        (Some(g), _) => LaneKey::Goroutine(g),
        (None, LatencyKind::Task) => LaneKey::Tasks,
        (None, _) => LaneKey::Gc,
    };
    Picked {
        lane,
        row: 0,
        start: interval.start,
        end: interval.end,
        what: What::Span {
            kind: span_kind(interval.kind),
            label: analysis.labels.text(interval.label),
            goroutine,
            count: 0,
        },
    }
}

/// Whether `interval` belongs to a goroutine `filter` shows. Intervals
/// without a goroutine (stop-the-world pauses, tasks) pass unless the
/// filter names goroutines.
pub(crate) fn passes(filter: &GoroutineFilter, timeline: &Timeline, interval: &Interval) -> bool {
    if !filter.is_active() {
        return true;
    }
    if interval.goroutine == NO_GOROUTINE {
        return !filter.names_goroutines();
    }
    let function = details::start_function(timeline, interval.goroutine).unwrap_or_default();
    filter.shows(interval.goroutine, function)
}

/// A time from the trace start in seconds, to the nanosecond.
fn format_start(ns: i64) -> String {
    format!("{:.9} s", ns as f64 / 1e9)
}

impl OutliersTab {
    /// Draws the tab; returns the interval the user asked to see.
    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        analysis: &Arc<Analysis>,
        timeline: &Timeline,
        origin: i64,
    ) -> Option<Interval> {
        self.kind_strip(ui, analysis);
        ui.separator();
        let histogram = analysis.latencies.histogram(self.kind);
        if histogram.count() == 0 {
            ui.weak("No intervals of this kind in the trace.");
            return None;
        }
        self.stack_ui(ui, analysis, timeline);
        let mut shown = None;
        ui.horizontal_top(|ui| {
            ui.allocate_ui(egui::vec2(HISTOGRAM_WIDTH, ui.available_height()), |ui| {
                ui.vertical(|ui| self.histogram_ui(ui, analysis, timeline));
            });
            ui.separator();
            ui.vertical(|ui| shown = self.table_ui(ui, origin));
        });
        shown
    }

    fn kind_strip(&mut self, ui: &mut egui::Ui, analysis: &Analysis) {
        ui.horizontal_wrapped(|ui| {
            for kind in LatencyKind::ALL {
                let count = analysis.latencies.histogram(kind).count();
                let text = format!("{} ({count})", kind_name(kind));
                if ui.selectable_label(self.kind == kind, text).clicked() && self.kind != kind {
                    self.kind = kind;
                    self.bin = None;
                    self.stack = None;
                    self.current = None;
                }
            }
        });
    }

    /// The histogram and what it says; a click on a bar narrows the rows
    /// to it (again: widens them back), so the rows are refreshed here.
    fn histogram_ui(&mut self, ui: &mut egui::Ui, analysis: &Arc<Analysis>, timeline: &Timeline) {
        let histogram = analysis.latencies.histogram(self.kind);
        let name = format!("Histogram of {}", kind_name(self.kind));
        if let Some(bin) = histogram_plot::show(ui, &name, histogram, self.bin) {
            let picked = (bin.lo, bin.hi);
            self.bin = (self.bin != Some(picked)).then_some(picked);
            self.scroll_to = Some(0);
        }
        self.refresh(analysis, timeline);
        let quantile = |q| histogram.quantile(q).map_or(0.0, |d| d as f64);
        ui.weak(format!(
            "{} intervals · p50 ≤ {} · p99 ≤ {} · max {}",
            histogram.count(),
            format_duration(quantile(0.5)),
            format_duration(quantile(0.99)),
            format_duration(histogram.max() as f64),
        ));
        let Some((lo, hi)) = self.bin else {
            ui.weak("Click a bar to list only its intervals.");
            return;
        };
        let in_bin = histogram_plot::octaves(histogram)
            .iter()
            .find(|b| (b.lo, b.hi) == (lo, hi))
            .map_or(0, |b| b.count);
        let listed = self.rows.as_ref().map_or(0, |r| r.rows.len());
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "Bin {} – {}: {listed} of {in_bin} listed",
                format_duration(lo as f64),
                format_duration(hi as f64)
            ));
            if ui.button("Show all").clicked() {
                self.bin = None;
                // The rows are rebuilt in the next frame.
                ui.ctx().request_repaint();
            }
        });
        if (listed as u64) < in_bin {
            ui.weak(format!(
                "Only the {OUTLIERS_KEPT} longest intervals of each kind are listed."
            ));
        }
    }

    fn table_ui(&mut self, ui: &mut egui::Ui, origin: i64) -> Option<Interval> {
        if let Some(sort) = table::header(ui, &COLUMNS, self.sort) {
            self.sort = sort;
            self.scroll_to = Some(0);
            // The rows are rebuilt in the next frame.
            ui.ctx().request_repaint();
        }
        let rows = self.rows.as_ref().map_or(&[][..], |r| &r.rows[..]);
        let current = self.current;
        let clicked = table::rows(
            ui,
            "outlier-rows",
            &COLUMNS,
            rows.len(),
            self.scroll_to.take(),
            |i| {
                let row = &rows[i];
                RowText {
                    cells: cells(row, origin),
                    selected: current == Some(row.interval),
                    ..RowText::default()
                }
            },
        );
        let interval = rows.get(clicked?)?.interval;
        self.current = Some(interval);
        Some(interval)
    }

    /// The next (or previous) row after the one shown last, in table order;
    /// the first (or last) row if none was shown.
    pub(crate) fn step(
        &mut self,
        analysis: &Arc<Analysis>,
        timeline: &Timeline,
        forward: bool,
    ) -> Option<Interval> {
        self.refresh(analysis, timeline);
        let rows = &self.rows.as_ref()?.rows;
        let at = self
            .current
            .and_then(|c| rows.iter().position(|r| r.interval == c));
        let next = match (at, forward) {
            (None, true) => 0,
            (None, false) => rows.len().checked_sub(1)?,
            (Some(i), true) => (i + 1).min(rows.len() - 1),
            (Some(i), false) => i.saturating_sub(1),
        };
        let interval = rows.get(next)?.interval;
        self.current = Some(interval);
        self.scroll_to = Some(next);
        Some(interval)
    }

    /// Lists only the intervals of `kind` whose stacks pass through `node`
    /// of the latency profile, from the top of the table.
    pub(crate) fn filter_stack(&mut self, kind: LatencyKind, node: StackId) {
        self.kind = kind;
        self.bin = None;
        self.stack = Some(node);
        self.current = None;
        self.scroll_to = Some(0);
    }

    /// What the stack filter keeps, and the way back to all stacks.
    fn stack_ui(&mut self, ui: &mut egui::Ui, analysis: &Arc<Analysis>, timeline: &Timeline) {
        let Some(node) = self.stack else {
            return;
        };
        self.refresh(analysis, timeline);
        let function = analysis.profile.frame(node).map_or_else(
            || "any stack".to_owned(),
            |f| analysis.labels.text(f.function),
        );
        let through = analysis.profile.weight(node, self.kind).count;
        let listed = self.rows.as_ref().map_or(0, |r| r.rows.len());
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "Began under {function}: {listed} of {through} listed"
            ));
            if ui.button("All stacks").clicked() {
                self.stack = None;
                ui.ctx().request_repaint();
            }
        });
    }

    /// Lists only the intervals of goroutines `filter` shows.
    pub(crate) fn set_filter(&mut self, filter: &GoroutineFilter) {
        if self.filter != *filter {
            self.filter = filter.clone();
        }
    }

    /// Rebuilds the rows if what they depend on changed.
    fn refresh(&mut self, analysis: &Arc<Analysis>, timeline: &Timeline) {
        let fresh = self.rows.as_ref().is_some_and(|r| {
            Arc::ptr_eq(&r.analysis, analysis)
                && r.kind == self.kind
                && r.bin == self.bin
                && r.stack == self.stack
                && r.sort == self.sort
                && r.lanes == timeline.revision
                && r.filter == self.filter
        });
        if fresh {
            return;
        }
        let mut rows: Vec<Row> = analysis
            .latencies
            .outliers(self.kind)
            .into_iter()
            .filter(|i| {
                self.bin
                    .is_none_or(|(lo, hi)| (lo..hi).contains(&i.duration()))
            })
            .filter(|i| {
                self.stack
                    .is_none_or(|node| analysis.profile.passes_through(i.stack, node))
            })
            .filter(|i| passes(&self.filter, timeline, i))
            .map(|interval| Row {
                interval,
                function: function_of(timeline, interval.goroutine),
                label: analysis.labels.text(interval.label),
            })
            .collect();
        let sort = self.sort;
        rows.sort_by(|a, b| sort.apply(compare(a, b, sort.column)));
        self.rows = Some(Rows {
            analysis: Arc::clone(analysis),
            kind: self.kind,
            bin: self.bin,
            stack: self.stack,
            sort,
            lanes: timeline.revision,
            filter: self.filter.clone(),
            rows,
        });
    }
}

/// The start function of goroutine `id` as the table shows it: an
/// ellipsis while its lane is not decoded yet (the outliers can come
/// before the overview), nothing for no goroutine or no known function.
fn function_of(timeline: &Timeline, id: i64) -> String {
    match timeline.lane(LaneKey::Goroutine(id)) {
        Some(lane) => timeline.lane_name(lane).unwrap_or_default().to_owned(),
        None if id != NO_GOROUTINE => "…".to_owned(),
        None => String::new(),
    }
}

/// The natural order of two rows by column `column`; ties by duration.
fn compare(a: &Row, b: &Row, column: usize) -> Ordering {
    let (x, y) = (&a.interval, &b.interval);
    let by = match column {
        0 => x.goroutine.cmp(&y.goroutine),
        1 => a.function.cmp(&b.function),
        2 => x.start.cmp(&y.start),
        4 => a.label.cmp(&b.label),
        _ => Ordering::Equal,
    };
    by.then(x.duration().cmp(&y.duration()))
}

/// The texts of a row, in [`COLUMNS`] order.
fn cells(row: &Row, origin: i64) -> Vec<String> {
    let i = &row.interval;
    vec![
        if i.goroutine == NO_GOROUTINE {
            "–".to_owned()
        } else {
            format!("G{}", i.goroutine)
        },
        row.function.clone(),
        format_start(i.start - origin),
        format_duration(i.duration() as f64),
        row.label.clone(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Label, StackId};

    fn row(goroutine: i64, start: i64, end: i64) -> Row {
        Row {
            interval: Interval {
                kind: LatencyKind::Block,
                goroutine,
                start,
                end,
                label: Label::EMPTY,
                stack: StackId::ROOT,
            },
            function: format!("f{}", 9 - goroutine),
            label: String::new(),
        }
    }

    #[test]
    fn rows_sort_by_any_column() {
        let rows = [row(1, 10, 50), row(2, 0, 100), row(3, 5, 6)];
        let order = |column, descending| {
            let sort = Sort { column, descending };
            let mut sorted: Vec<&Row> = rows.iter().collect();
            sorted.sort_by(|a, b| sort.apply(compare(a, b, column)));
            sorted
                .iter()
                .map(|r| r.interval.goroutine)
                .collect::<Vec<_>>()
        };
        assert_eq!(order(DURATION, true), [2, 1, 3]);
        assert_eq!(order(0, false), [1, 2, 3]);
        assert_eq!(order(1, false), [3, 2, 1]);
        assert_eq!(order(2, false), [2, 3, 1]);
    }

    #[test]
    fn intervals_without_a_goroutine_are_picked_on_their_lane() {
        let analysis =
            crate::analysis::Analyzer::new(1, crate::analysis::UtilFlags::DEFAULT).finish();
        let mut stw = row(NO_GOROUTINE, 10, 20).interval;
        stw.kind = LatencyKind::StopTheWorld;
        assert_eq!(picked(&stw, &analysis).lane, LaneKey::Gc);
        let block = row(4, 10, 20).interval;
        let p = picked(&block, &analysis);
        assert_eq!(p.lane, LaneKey::Goroutine(4));
        assert_eq!(p.zoom_range(0), (10.0 - 500.0, 20.0 + 500.0));
        assert_eq!(cells(&row(NO_GOROUTINE, 0, 1), 0)[0], "–");
    }

    #[test]
    fn a_goroutine_not_decoded_yet_has_an_ellipsis_for_a_function() {
        let timeline = Timeline::default();
        assert_eq!(function_of(&timeline, 7), "…");
        assert_eq!(function_of(&timeline, NO_GOROUTINE), "");
    }

    #[test]
    fn cells_count_from_the_trace_start() {
        let cells = cells(&row(7, 1_500, 2_500), 500);
        assert_eq!(cells[0], "G7");
        assert_eq!(cells[2], "0.000001000 s");
        assert_eq!(cells[3], "1.00 µs");
    }
}
