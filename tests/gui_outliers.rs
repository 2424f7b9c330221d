//! The analysis panel driven through egui_kittest: the real `GotvApp` on
//! the sample trace, its background analysis, the outliers histogram and
//! table, and the goroutine analysis, checked through the AccessKit tree.
//!
//! What the panel should list comes from the analysis itself, run here on
//! the same file through the public API, so the test checks the panel
//! against the trace rather than against numbers copied from a screenshot.

mod common;

use common::gui::{
    App, app, click, full_detail, open_analysed, origin, outlier_rows, sample, wait_decoded,
    wait_for,
};
use egui::accesskit::Role;
use egui::{Event, Modifiers, Pos2};
use egui_kittest::kittest::{NodeT, Queryable};
use gotv::analysis::{Interval, LatencyKind, analyze};
use gotv::model::LaneKey;
use gotv::trace::Trace;
use gotv::ui::{Options, Panel};

/// Size of the test window, in points: room for the panel and some lanes.
const WINDOW: [f32; 2] = [1400.0, 900.0];

/// The intervals the analysis keeps per kind (`ui::analysis_task`): a
/// bar whose intervals are all among the longest this many is fully listed.
const KEPT: usize = 10_000;

/// Right edge of the lanes' name column, in points (`ui::timeline`).
const NAME_COLUMN: f32 = 200.0;

/// Most rows of a bar the test filters to: all fit in the panel without
/// scrolling, so all are in the AccessKit tree.
const MAX_ROWS: u64 = 8;

/// The app on the sample with everything decoded and the analysis done.
fn open() -> App {
    open_analysed(WINDOW)
}

/// An octave `lo..hi` of scheduler waits holding 2 to [`MAX_ROWS`]
/// intervals, all among the [`KEPT`] longest, and those intervals: the
/// longest such octave.
fn tail_octave() -> ((i64, i64), Vec<Interval>) {
    let bytes = std::fs::read(sample()).expect("read the sample");
    let trace = Trace::open(&bytes).expect("the sample opens");
    let (analysis, error) = analyze(&trace, usize::MAX);
    assert!(error.is_none(), "{error:?}");
    let all = analysis.latencies.outliers(LatencyKind::Sched);
    let octave = |d: i64| {
        let lo = 1i64 << d.max(1).ilog2();
        (lo, 2 * lo)
    };
    let mut longer = 0;
    let mut e = 62;
    while e > 0 {
        let (lo, hi) = (1i64 << e, 1i64 << (e + 1));
        let inside: Vec<Interval> = all
            .iter()
            .filter(|i| octave(i.duration()) == (lo, hi) && i.duration() > 0)
            .copied()
            .collect();
        longer += inside.len();
        if (2..=MAX_ROWS as usize).contains(&inside.len()) && longer <= KEPT {
            return ((lo, hi), inside);
        }
        e -= 1;
    }
    panic!("no octave of 2 to {MAX_ROWS} scheduler waits");
}

/// The x axis range of a chart whose bars span `first..last_end` ns
/// (`histogram_plot`: `log10` of the durations, zero drawn from 0.5 ns).
fn log_x(ns: i64) -> f64 {
    (ns as f64).max(0.5).log10()
}

#[test]
fn a_bar_filters_the_outliers_and_a_row_leads_to_the_interval() {
    let ((lo, hi), inside) = tail_octave();
    let origin = origin();
    let mut harness = open();
    assert!(
        harness
            .query_by_label("Histogram of Scheduler wait")
            .is_none()
    );
    harness.key_press(egui::Key::L);
    harness.run_steps(2);
    let chart = harness.get_by_label("Histogram of Scheduler wait").rect();
    let unfiltered = outlier_rows(&harness);
    assert!(
        unfiltered.len() > inside.len(),
        "the whole table shows more rows than the bar: {unfiltered:?}"
    );

    // The bars span the chart exactly: the first octave's start to the
    // last one's end (the longest scheduler wait's octave).
    let bytes = std::fs::read(sample()).expect("read the sample");
    let trace = Trace::open(&bytes).expect("the sample opens");
    let (analysis, _) = analyze(&trace, 1);
    let h = analysis.latencies.histogram(LatencyKind::Sched);
    let first = if h.min() == 0 {
        0
    } else {
        1 << h.min().ilog2()
    };
    let last_end = 2i64 << h.max().ilog2();
    let (x0, x1) = (log_x(first), log_x(last_end));
    let centre = (log_x(lo) + log_x(hi)) / 2.0;
    let x = f64::from(chart.left()) + (centre - x0) / (x1 - x0) * f64::from(chart.width());
    click(&mut harness, Pos2::new(x as f32, chart.bottom() - 4.0));
    harness.run_steps(2);

    let filtered = outlier_rows(&harness);
    assert_eq!(
        filtered.len(),
        inside.len(),
        "only the bar's intervals are listed: {filtered:?}"
    );
    for (goroutine, start) in &filtered {
        let interval = inside
            .iter()
            .find(|i| i.goroutine == *goroutine && i.start - origin == *start)
            .unwrap_or_else(|| panic!("G{goroutine} at {start} is not in the bar"));
        assert!((lo..hi).contains(&interval.duration()));
    }
    assert!(
        harness.query_by_label_contains("listed").is_some(),
        "the panel says the table is narrowed"
    );

    // A row: the view shows its interval, its lane and its details.
    let (goroutine, start) = filtered[0];
    let interval = inside
        .iter()
        .find(|i| i.goroutine == goroutine && i.start - origin == start)
        .copied()
        .expect("the row's interval");
    click_row(&mut harness, goroutine);
    harness.run_steps(3);
    let (a, b) = harness.state().visible_range();
    let (s, e) = (interval.start - origin, interval.end - origin);
    assert!(a < s && e < b, "{a}..{b} shows {s}..{e}");
    assert!(b - a < 2 * (e - s), "zoomed to it: {a}..{b} for {s}..{e}");
    assert!(
        harness.query_by_label("Selected span").is_some(),
        "the interval is selected"
    );
    let lane = lane_rect(&harness, goroutine).expect("the goroutine's lane is in view");
    assert!(lane.bottom() < chart.top(), "above the panel: {lane:?}");

    // N walks the table in its order: the next row.
    let (g2, s2) = filtered[1];
    harness.key_press(egui::Key::N);
    harness.run_steps(3);
    let next = inside
        .iter()
        .find(|i| i.goroutine == g2 && i.start - origin == s2)
        .expect("the next row's interval");
    let (a, b) = harness.state().visible_range();
    assert!(
        a < next.start - origin && next.end - origin < b,
        "{a}..{b} shows the next outlier"
    );
    assert!(lane_rect(&harness, g2).is_some(), "G{g2}'s lane is in view");

    // Shift+N goes back to the first row's interval.
    harness.key_press_modifiers(Modifiers::SHIFT, egui::Key::N);
    harness.run_steps(3);
    let (a, b) = harness.state().visible_range();
    assert!(a < s && e < b, "{a}..{b} shows {s}..{e} again");
}

/// A row whose goroutine's lane is folded away unfolds it and scrolls it
/// into view, where it stays: the jump goes far past the folded lanes'
/// height (on a trace of 600k goroutines, by hundreds of thousands of
/// points), which egui's scroll area took for an overscroll and sprang
/// back from, over the next hundred frames, to the top.
#[test]
fn a_row_unfolds_its_lane_which_stays_in_view() {
    let mut harness = open();
    harness.get_by_label_contains("Goroutines (").click();
    harness.key_press(egui::Key::L);
    harness.run_steps(3);
    let (goroutine, _) = outlier_rows(&harness)[0];
    assert!(lane_rect(&harness, goroutine).is_none(), "folded away");
    click_row(&mut harness, goroutine);
    harness.run_steps(120);
    assert!(
        lane_rect(&harness, goroutine).is_some(),
        "G{goroutine}'s lane is in view"
    );
}

/// Clicks the outliers table's row of goroutine `g` (the first, if several).
fn click_row(harness: &mut App, g: i64) {
    let row = harness
        .get_all_by_role(Role::Button)
        .find(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.starts_with(&format!("G{g}, ")))
        })
        .expect("the row")
        .rect()
        .center();
    click(harness, row);
}

/// Where the name of goroutine `g`'s lane is, if on screen: the name column
/// at the window's left edge (the side panel names it too, on the right).
fn lane_rect(harness: &App, g: i64) -> Option<egui::Rect> {
    harness
        .query_all_by_label_contains(&format!("G{g} "))
        .map(|n| n.rect())
        .find(|r| r.left() < NAME_COLUMN)
}

#[test]
fn goroutine_analysis_groups_sorts_and_leads_to_lanes() {
    let mut harness = open();
    harness.key_press(egui::Key::G);
    harness.run_steps(2);
    // A group row names its function and nine statistics.
    let group_rows = |harness: &App| -> Vec<String> {
        harness
            .get_all_by_role(Role::Button)
            .filter_map(|n| n.accesskit_node().label())
            .filter(|l| l.split(", ").count() == 10)
            .collect()
    };
    let by_exec = group_rows(&harness);
    assert!(by_exec.len() > 5, "{by_exec:?}");

    // Sorting by goroutine count, largest first.
    harness
        .get_by_role_and_label(Role::Button, "Goroutines")
        .click();
    harness.run_steps(2);
    let by_count = group_rows(&harness);
    assert_ne!(by_count, by_exec);
    let counts: Vec<u64> = by_count
        .iter()
        .filter_map(|l| l.split(", ").nth(1)?.parse().ok())
        .collect();
    assert!(
        counts.len() > 5 && counts.windows(2).all(|w| w[0] >= w[1]),
        "{counts:?}"
    );

    // Expanding the largest group lists its goroutines; one leads to its lane.
    let largest = by_count[0].clone();
    let function = largest.split(", ").next().expect("a name").to_owned();
    // A goroutine row's first cell is its ID ("G123"); the others are its
    // own totals.
    let goroutine_id = |l: &str| {
        l.split(", ")
            .next()
            .and_then(|cell| cell.strip_prefix('G'))
            .and_then(|id| id.parse::<i64>().ok())
    };
    let goroutine_rows = |harness: &App| -> Vec<String> {
        harness
            .get_all_by_role(Role::Button)
            .filter_map(|n| n.accesskit_node().label())
            .filter(|l| goroutine_id(l).is_some())
            .collect()
    };
    assert!(goroutine_rows(&harness).is_empty());
    harness.get_by_label(&largest).click();
    harness.run_steps(3);
    let rows = goroutine_rows(&harness);
    let first = rows.first().expect("the group's goroutines are listed");
    let g = goroutine_id(first).expect("a goroutine ID");
    assert!(
        lane_rect(&harness, g).is_some(),
        "expanding shows the group's first lane"
    );

    // Back to the top of the lanes, then the goroutine's row leads to it.
    harness.hover_at(Pos2::new(700.0, 200.0));
    harness.event(Event::MouseWheel {
        unit: egui::MouseWheelUnit::Page,
        delta: egui::vec2(0.0, 1000.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Unknown,
        modifiers: Modifiers::NONE,
    });
    harness.run_steps(30);
    assert!(lane_rect(&harness, g).is_none(), "G{g} scrolled away");
    harness.get_by_label(first).click();
    harness.run_steps(3);
    assert!(
        harness
            .query_by_label(&format!("G{g} {function}"))
            .is_some(),
        "G{g}'s lane is scrolled into view"
    );

    // Viewed where the goroutine is not, its row shows it where it lived.
    let life = full_detail(LaneKey::Goroutine(g), |items, origin| {
        let start = items.iter().map(|i| i.start).min().expect("G has spans");
        let end = items.iter().map(|i| i.end).max().expect("G has spans");
        (start - origin, end - origin)
    });
    let elsewhere = match life.0 > 2_000_000 {
        true => (0, life.0 / 2),
        false => (life.1 + 1_000_000, life.1 + 2_000_000),
    };
    harness.state_mut().show_range(elsewhere.0, elsewhere.1);
    harness.run_steps(2);
    wait_for(&mut harness, "the view in detail", |h| h.state().is_ready());
    harness.get_by_label(first).click();
    harness.run_steps(3);
    let (a, b) = harness.state().visible_range();
    assert!(
        a <= life.0 && life.1 <= b,
        "{a}..{b} shows G{g}'s life {life:?}"
    );
}

#[test]
fn the_lane_filter_keeps_matching_goroutines_and_takes_letters_as_text() {
    let mut harness = open();
    assert!(harness.query_by_label("G1 main.main").is_some());
    assert!(harness.query_by_label("G3 runtime.bgsweep").is_some());
    let filter = harness.get_by_role(Role::TextInput);
    filter.focus();
    filter.type_text("BGSweep");
    harness.run_steps(2);
    // A letter shortcut typed into the field stays out of the shortcuts.
    harness.key_press(egui::Key::G);
    harness.run_steps(2);
    assert!(
        harness.query_by_label("Goroutine analysis").is_none(),
        "G went to the text field, not to the goroutine analysis"
    );
    assert!(harness.query_by_label("G1 main.main").is_none());
    assert!(harness.query_by_label("G3 runtime.bgsweep").is_some());
    assert!(harness.query_by_label("Goroutines (1 matching)").is_some());
}

#[test]
fn shown_at_start_the_outliers_come_before_the_overview_and_a_row_waits_for_its_lane() {
    let options = Options {
        file: Some(sample()),
        panel: Some(Panel::Outliers),
        ..Options::default()
    };
    let mut harness = app(options, WINDOW);
    wait_for(&mut harness, "the outliers", |h| {
        !outlier_rows(h).is_empty()
    });

    // The longest scheduler wait: its goroutine may have no lane yet (the
    // analyses come before the overview: `worker::schedule`).
    let rows = outlier_rows(&harness);
    let (goroutine, start) = rows[0];
    let label = format!("G{goroutine}, ");
    let row = harness
        .get_all_by_role(Role::Button)
        .find(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.starts_with(&label))
        })
        .expect("the row")
        .rect()
        .center();
    let had_lane = lane_rect(&harness, goroutine).is_some();
    click(&mut harness, row);
    wait_decoded(&mut harness);
    harness.run_steps(3);
    let (a, b) = harness.state().visible_range();
    assert!(a < start && start < b, "{a}..{b} shows {start}");
    assert!(
        lane_rect(&harness, goroutine).is_some(),
        "G{goroutine}'s lane is in view once decoded (it was there at the click: {had_lane})"
    );
    // Its start function is in the table too (an ellipsis until decoded).
    let row = harness
        .get_all_by_role(Role::Button)
        .filter_map(|n| n.accesskit_node().label())
        .find(|l| l.starts_with(&label))
        .expect("the row");
    let function = row.split(", ").nth(1).unwrap_or_default();
    assert!(
        !function.is_empty() && function != "…",
        "a start function: {row}"
    );
}

/// A task of the outliers table is selected on the tasks lane's row that
/// draws it, once its detail is in, and answered about there: with the
/// stack where it began, not its goroutine's state then.
#[test]
fn a_task_row_selects_the_task_on_its_row() {
    let mut harness = open();
    harness.key_press(egui::Key::L);
    harness.run_steps(2);
    harness.get_by_label_contains("Tasks (").click();
    harness.run_steps(2);
    let (goroutine, _) = outlier_rows(&harness)[0];
    click_row(&mut harness, goroutine);
    wait_for(&mut harness, "the task on the tasks lane", |h| {
        h.state().selected_lane() == Some(LaneKey::Tasks)
    });
    wait_for(&mut harness, "its stack", |h| {
        h.query_by_label("Stack").is_some()
    });
    assert!(
        harness.query_by_label_contains("task: ").is_some(),
        "the panel is about the task"
    );
}
