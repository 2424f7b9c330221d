//! The goroutine analysis tab: goroutines grouped by start function, with
//! where their time went (running, waiting for a P, blocked, in syscalls),
//! as Go's `go tool trace` goroutine summary shows it.
//!
//! Groups answer "which kind of goroutine is slow"; the goroutines inside
//! answer "which one". A group's goroutines come from the timeline: the
//! goroutine lanes whose start function is the group's. Each shows its own
//! execution, scheduler wait, block and syscall time from the analysis in
//! the group's total columns (count, mean and max stay empty); a goroutine
//! the analysis does not know (as when it stopped early) shows none. They
//! are sorted by the sort column when it is one of those four, the ones
//! without numbers last, else by ID. Expanding a group lists them and
//! scrolls to the first one's lane; clicking a goroutine scrolls to its
//! lane.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::axis::format_duration;
use super::filter::GoroutineFilter;
use super::table::{self, Column, RowText, Sort};
use crate::analysis::{Analysis, GoroutineTimes, StartFunction};
use crate::model::{LaneKey, Timeline};
use crate::trace::Time;

/// Width of a duration or count column, in points.
const NUMBER: f32 = 78.0;

/// The columns, in the order [`value`] numbers them.
const COLUMNS: [Column; 10] = [
    Column {
        title: "Start function",
        width: 260.0,
        numeric: false,
    },
    Column {
        title: "Goroutines",
        width: NUMBER,
        numeric: true,
    },
    Column {
        title: "Exec total",
        width: NUMBER,
        numeric: true,
    },
    Column {
        title: "Exec mean",
        width: NUMBER,
        numeric: true,
    },
    Column {
        title: "Exec max",
        width: NUMBER,
        numeric: true,
    },
    Column {
        title: "Sched total",
        width: NUMBER,
        numeric: true,
    },
    Column {
        title: "Sched mean",
        width: NUMBER,
        numeric: true,
    },
    Column {
        title: "Sched max",
        width: NUMBER,
        numeric: true,
    },
    Column {
        title: "Blocked total",
        width: NUMBER,
        numeric: true,
    },
    Column {
        title: "Syscall total",
        width: NUMBER,
        numeric: true,
    },
];

/// Index of the execution total column: the default sort, as Go's summary.
const EXEC_TOTAL: usize = 2;

/// Name shown for goroutines whose start function is unknown (no stack).
const UNKNOWN: &str = "(unknown)";

/// What the tab keeps between frames.
#[derive(Debug)]
pub(crate) struct GoroutinesTab {
    sort: Sort,
    /// Start functions whose goroutines are listed.
    expanded: BTreeSet<String>,
    /// The goroutine whose lane was asked for last: highlighted.
    current: Option<i64>,
    /// Only groups with goroutines it shows are listed, with those goroutines.
    filter: GoroutineFilter,
    rows: Option<Rows>,
}

impl Default for GoroutinesTab {
    fn default() -> Self {
        Self {
            sort: Sort {
                column: EXEC_TOTAL,
                descending: true,
            },
            expanded: BTreeSet::new(),
            current: None,
            filter: GoroutineFilter::default(),
            rows: None,
        }
    }
}

/// The table's rows and what they were built from.
#[derive(Debug)]
struct Rows {
    analysis: Arc<Analysis>,
    sort: Sort,
    /// [`Timeline::revision`] of the lanes the rows were made from.
    lanes: u64,
    expanded: BTreeSet<String>,
    filter: GoroutineFilter,
    rows: Vec<Row>,
}

/// A row: a group, or one goroutine of an expanded group.
#[derive(Clone, Debug, PartialEq)]
enum Row {
    /// Index into [`Analysis::start_functions`], its name, and its
    /// goroutines' lanes found on the timeline.
    Group {
        index: usize,
        name: String,
        goroutines: Vec<i64>,
    },
    /// A goroutine of the group above.
    Goroutine(i64),
}

/// What a click in the goroutine table asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Clicked {
    /// A group was opened: its first goroutine's lane, scrolled to.
    Group(LaneKey),
    /// A goroutine: its lane, scrolled to, with its life in view.
    Goroutine(LaneKey),
}

impl GoroutinesTab {
    /// Draws the tab; returns the lane the user asked to see.
    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        analysis: &Arc<Analysis>,
        timeline: &Timeline,
    ) -> Option<Clicked> {
        ui.weak(format!(
            "{} start functions · click a header to sort, a group to list its goroutines, \
             a goroutine to show its lane",
            analysis.start_functions.len()
        ));
        if let Some(sort) = table::header(ui, &COLUMNS, self.sort) {
            self.sort = sort;
        }
        self.refresh(analysis, timeline);
        let rows = self.rows.as_ref().map_or(&[][..], |r| &r.rows[..]);
        let (expanded, current) = (&self.expanded, self.current);
        let clicked = table::rows(ui, "goroutine-rows", &COLUMNS, rows.len(), None, |i| {
            row_text(&rows[i], analysis, expanded, current)
        });
        match rows.get(clicked?)? {
            Row::Group {
                name, goroutines, ..
            } => {
                let opened = !self.expanded.remove(name);
                if opened {
                    self.expanded.insert(name.clone());
                }
                // The rows are rebuilt in the next frame.
                ui.ctx().request_repaint();
                let first = goroutines.first().filter(|_| opened);
                first.map(|&g| Clicked::Group(LaneKey::Goroutine(g)))
            }
            Row::Goroutine(g) => {
                self.current = Some(*g);
                Some(Clicked::Goroutine(LaneKey::Goroutine(*g)))
            }
        }
    }

    /// Lists only the groups and goroutines `filter` shows.
    pub(crate) fn set_filter(&mut self, filter: &GoroutineFilter) {
        if self.filter != *filter {
            self.filter = filter.clone();
        }
    }

    /// Rebuilds the rows if what they depend on changed.
    fn refresh(&mut self, analysis: &Arc<Analysis>, timeline: &Timeline) {
        let fresh = self.rows.as_ref().is_some_and(|r| {
            Arc::ptr_eq(&r.analysis, analysis)
                && r.sort == self.sort
                && r.lanes == timeline.revision
                && r.expanded == self.expanded
                && r.filter == self.filter
        });
        if fresh {
            return;
        }
        let mut members = goroutines_by_function(timeline);
        let mut order: Vec<usize> = (0..analysis.start_functions.len()).collect();
        let sort = self.sort;
        let functions = &analysis.start_functions;
        let name = |i: usize| group_name(analysis, &functions[i]);
        order.sort_by(|&a, &b| {
            let by_name = || name(a).cmp(&name(b));
            let natural = match (
                value(&functions[a], sort.column),
                value(&functions[b], sort.column),
            ) {
                (Some(x), Some(y)) => x.cmp(&y).then_with(by_name),
                _ => by_name(),
            };
            sort.apply(natural)
        });
        let mut rows = Vec::new();
        for index in order {
            let name = name(index);
            let mut goroutines = members.remove(name.as_str()).unwrap_or_default();
            if self.filter.is_active() {
                goroutines.retain(|&g| self.filter.shows(g, &name));
                if goroutines.is_empty() {
                    continue;
                }
            }
            sort_goroutines(&mut goroutines, analysis, sort);
            let open = self.expanded.contains(&name);
            let listed: Vec<Row> = if open {
                goroutines.iter().map(|&g| Row::Goroutine(g)).collect()
            } else {
                Vec::new()
            };
            rows.push(Row::Group {
                index,
                name,
                goroutines,
            });
            rows.extend(listed);
        }
        self.rows = Some(Rows {
            analysis: Arc::clone(analysis),
            sort,
            lanes: timeline.revision,
            expanded: self.expanded.clone(),
            filter: self.filter.clone(),
            rows,
        });
    }
}

/// The name a group is shown and matched under.
fn group_name(analysis: &Analysis, group: &StartFunction) -> String {
    let name = analysis.labels.text(group.name);
    if name.is_empty() {
        UNKNOWN.to_owned()
    } else {
        name
    }
}

/// The goroutine lanes of the timeline by start function, in ID order.
/// Each list is allocated at its final size: a trace can have 600k
/// goroutines of one start function, and doubling a list that long as it
/// grows would leave its earlier copies resident.
fn goroutines_by_function(timeline: &Timeline) -> HashMap<&str, Vec<i64>> {
    let goroutines = || {
        timeline.lanes.iter().filter_map(|lane| match lane.key() {
            LaneKey::Goroutine(g) => Some((timeline.lane_name(lane).unwrap_or(UNKNOWN), g)),
            _ => None,
        })
    };
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (name, _) in goroutines() {
        *counts.entry(name).or_default() += 1;
    }
    let mut map: HashMap<&str, Vec<i64>> = counts
        .into_iter()
        .map(|(name, count)| (name, Vec::with_capacity(count)))
        .collect();
    for (name, g) in goroutines() {
        if let Some(list) = map.get_mut(name) {
            list.push(g);
        }
    }
    map
}

/// The number in numeric column `column` of a group (`None` for the name).
fn value(group: &StartFunction, column: usize) -> Option<Time> {
    let count = group.count;
    Some(match column {
        1 => Time::try_from(count).unwrap_or(Time::MAX),
        2 => group.exec.total,
        3 => group.exec.mean(count),
        4 => group.exec.max,
        5 => group.sched_wait.total,
        6 => group.sched_wait.mean(count),
        7 => group.sched_wait.max,
        8 => group.block.iter().map(|(_, s)| s.total).sum(),
        9 => group.syscall.total + group.syscall_block.total,
        _ => return None,
    })
}

/// The number in numeric column `column` of one goroutine: only the totals
/// have one (`None` elsewhere).
fn goroutine_value(times: GoroutineTimes, column: usize) -> Option<Time> {
    match column {
        2 => Some(times.exec),
        5 => Some(times.sched_wait),
        8 => Some(times.block),
        9 => Some(times.syscall),
        _ => None,
    }
}

/// Orders a group's goroutines by their own number in the sort column, in
/// the groups' direction, those without one (not in the analysis) last; by
/// ID when the column has no per-goroutine number, and among equals.
fn sort_goroutines(goroutines: &mut [i64], analysis: &Analysis, sort: Sort) {
    let number = |g: i64| goroutine_value(analysis.goroutines.get(g)?, sort.column);
    // Goroutines with a number, keyed by it, then those without, by ID.
    // Two lists rather than one of `(Option<Time>, i64)` keys: 16 bytes a
    // goroutine instead of 24, for a group that can hold 600k.
    let mut keyed: Vec<(Time, i64)> = Vec::with_capacity(goroutines.len());
    let mut without = Vec::new();
    for &g in goroutines.iter() {
        match number(g) {
            Some(n) => keyed.push((n, g)),
            None => without.push(g),
        }
    }
    // IDs are unique, so no two keys tie and an unstable sort, which needs
    // no scratch copy, gives the same order.
    keyed.sort_unstable_by(|(x, a), (y, b)| sort.apply(x.cmp(y)).then(a.cmp(b)));
    without.sort_unstable();
    let ordered = keyed.into_iter().map(|(_, g)| g).chain(without);
    for (slot, g) in goroutines.iter_mut().zip(ordered) {
        *slot = g;
    }
}

/// The duration cells from column `first` on, empty where `value` has no
/// number.
fn duration_cells(
    first: usize,
    value: impl Fn(usize) -> Option<Time>,
) -> impl Iterator<Item = String> {
    (first..COLUMNS.len())
        .map(move |c| value(c).map_or_else(String::new, |ns| format_duration(ns as f64)))
}

/// The texts of a row, in [`COLUMNS`] order; `current` is the goroutine
/// shown last.
fn row_text(
    row: &Row,
    analysis: &Analysis,
    expanded: &BTreeSet<String>,
    current: Option<i64>,
) -> RowText {
    match row {
        Row::Group { index, name, .. } => {
            let Some(group) = analysis.start_functions.get(*index) else {
                return RowText::default();
            };
            let open = expanded.contains(name);
            let mut cells = vec![name.clone(), group.count.to_string()];
            cells.extend(duration_cells(2, |c| value(group, c)));
            RowText {
                cells,
                fold: Some(open),
                ..RowText::default()
            }
        }
        Row::Goroutine(g) => {
            let mut cells = vec![format!("G{g}")];
            if let Some(times) = analysis.goroutines.get(*g) {
                cells.extend(duration_cells(1, |c| goroutine_value(times, c)));
            }
            RowText {
                cells,
                nested: true,
                selected: current == Some(*g),
                ..RowText::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Label, Stat, analyze};
    use crate::trace::Trace;
    use crate::ui::open::SAMPLE;

    fn group(count: u64, exec: Time) -> StartFunction {
        StartFunction {
            name: Label::EMPTY,
            pc: 0,
            count,
            lifetime: Stat::default(),
            exec: Stat {
                total: exec,
                max: exec,
            },
            sched_wait: Stat::default(),
            block: vec![(Label::EMPTY, Stat { total: 5, max: 5 })],
            syscall: Stat { total: 1, max: 1 },
            syscall_block: Stat { total: 2, max: 2 },
        }
    }

    #[test]
    fn values_add_up_the_parts() {
        let g = group(2, 10);
        assert_eq!(value(&g, 1), Some(2));
        assert_eq!(value(&g, 3), Some(5));
        assert_eq!(value(&g, 8), Some(5));
        assert_eq!(value(&g, 9), Some(3));
        assert_eq!(value(&g, 0), None);
    }

    #[test]
    fn lanes_are_grouped_by_start_function() {
        let timeline = Timeline::of_lanes(&[
            (LaneKey::Proc(0), None, 1),
            (LaneKey::Goroutine(1), Some("main.main"), 1),
            (LaneKey::Goroutine(4), Some("main.worker"), 1),
            (LaneKey::Goroutine(5), Some("main.worker"), 1),
            (LaneKey::Goroutine(6), None, 1),
        ]);
        let map = goroutines_by_function(&timeline);
        assert_eq!(map["main.worker"], [4, 5]);
        assert_eq!(map["main.main"], [1]);
        assert_eq!(map[UNKNOWN], [6]);
    }

    #[test]
    fn goroutines_sort_by_their_own_totals_unknown_ones_last() {
        let trace = Trace::open(SAMPLE).expect("the sample opens");
        let a = analyze(&trace, 1).0;
        let mut ids: Vec<i64> = a.goroutines.iter().map(|t| t.id).collect();
        assert!(ids.len() > 3, "{ids:?}");
        let unknown = ids.last().map_or(0, |g| g + 1);
        ids.push(unknown);
        for column in [2, 5, 8, 9] {
            for descending in [false, true] {
                let sort = Sort { column, descending };
                let mut sorted = ids.clone();
                sort_goroutines(&mut sorted, &a, sort);
                assert_eq!(sorted.last(), Some(&unknown));
                let numbers: Vec<Time> = sorted
                    .iter()
                    .filter_map(|&g| goroutine_value(a.goroutines.get(g)?, column))
                    .collect();
                assert_eq!(numbers.len() + 1, ids.len());
                let ordered = numbers.windows(2).all(|w| {
                    let natural = w[0].cmp(&w[1]);
                    sort.apply(natural) != std::cmp::Ordering::Greater
                });
                assert!(ordered, "{column} {descending} {numbers:?}");
            }
        }
        let mut by_count = ids.clone();
        by_count.reverse();
        let sort = Sort {
            column: 1,
            descending: true,
        };
        sort_goroutines(&mut by_count, &a, sort);
        assert_eq!(by_count, ids, "by ID when a goroutine has no count");
    }

    #[test]
    fn a_goroutine_row_shows_its_own_totals() {
        let trace = Trace::open(SAMPLE).expect("the sample opens");
        let a = analyze(&trace, 1).0;
        let times = a.goroutines.iter().max_by_key(|t| t.exec);
        let Some(GoroutineTimes { id, exec, .. }) = times else {
            panic!("the sample has goroutines");
        };
        let text = |g| row_text(&Row::Goroutine(g), &a, &BTreeSet::new(), Some(id)).cells;
        let cells = text(id);
        assert_eq!(cells.len(), COLUMNS.len());
        assert_eq!(cells[0], format!("G{id}"));
        assert_eq!(cells[EXEC_TOTAL], format_duration(exec as f64));
        assert!(cells[1].is_empty() && cells[3].is_empty() && !cells[9].is_empty());
        assert_eq!(text(-1), ["G-1"], "unknown to the analysis");
    }
}
