//! The latency profiles tab driven through egui_kittest: the real `GotvApp`
//! on the sample trace, its block profile as a flame graph, a frame zoomed
//! into and then listed in the outliers table, checked through the
//! AccessKit tree.
//!
//! What the graph and the table should show comes from the analysis run
//! here on the same file through the public API.

mod common;

use std::collections::HashSet;

use common::gui::{App, button, click, open_analysed, origin, outlier_rows, sample, send};
use egui::accesskit::Role;
use egui::{Event, Modifiers, Pos2, Rect};
use egui_kittest::kittest::{NodeT, Queryable};
use gotv::analysis::{Analysis, LatencyKind, StackId, analyze};
use gotv::trace::Trace;

/// Size of the test window, in points: room for the panel and some lanes.
const WINDOW: [f32; 2] = [1400.0, 900.0];

/// The intervals the analysis keeps per kind (`ui::analysis_task`).
const KEPT: usize = 10_000;

/// The sample analysed as the app does it.
fn analysis() -> Analysis {
    let bytes = std::fs::read(sample()).expect("read the sample");
    let trace = Trace::open(&bytes).expect("the sample opens");
    let (analysis, error) = analyze(&trace, KEPT);
    assert!(error.is_none(), "{error:?}");
    analysis
}

/// The call path to click: the heaviest one of several intervals, from the
/// root down, that does not hold every interval of `kind` (so listing it
/// leaves some out).
fn target(a: &Analysis, kind: LatencyKind) -> StackId {
    let total = a.profile.total(kind).count;
    let mut node = StackId::ROOT;
    loop {
        let heaviest = a
            .profile
            .children(node)
            .iter()
            .copied()
            .filter(|&c| a.profile.weight(c, kind).count >= 2)
            .max_by_key(|&c| a.profile.weight(c, kind).time)
            .expect("a call path with fewer intervals than the root");
        if a.profile.weight(heaviest, kind).count < total {
            return heaviest;
        }
        node = heaviest;
    }
}

/// Where the frame of `function` with `count` intervals is drawn.
fn frame_rect(harness: &App, function: &str, count: u64) -> Option<Rect> {
    let prefix = format!("{function}, ");
    let suffix = format!(", {count} intervals");
    harness
        .get_all_by_role(Role::Button)
        .find(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.starts_with(&prefix) && l.ends_with(&suffix))
        })
        .map(|n| n.rect())
}

/// The root frame: "All blocked, …, N intervals".
fn root_rect(harness: &App) -> Rect {
    harness.get_by_label_contains("All blocked, ").rect()
}

#[test]
fn a_frame_zooms_in_and_lists_the_outliers_that_began_under_it() {
    let a = analysis();
    let kind = LatencyKind::Block;
    let node = target(&a, kind);
    let weight = a.profile.weight(node, kind);
    let function = a
        .profile
        .frame(node)
        .map(|f| a.labels.text(f.function))
        .expect("a frame");
    let outliers = a.latencies.outliers(kind);
    let through: HashSet<(i64, i64)> = outliers
        .iter()
        .filter(|i| a.profile.passes_through(i.stack, node))
        .map(|i| (i.goroutine, i.start))
        .collect();
    assert!((2..outliers.len()).contains(&through.len()));
    let origin = origin();

    let mut harness = open_analysed(WINDOW);
    harness.key_press(egui::Key::P);
    harness.run_steps(2);
    harness.get_by_label_contains("Blocked (").click();
    harness.run_steps(2);
    let total = a.profile.total(kind).count;
    assert!(
        harness
            .get_by_label_contains("All blocked, ")
            .accesskit_node()
            .label()
            .is_some_and(|l| l.ends_with(&format!(", {total} intervals"))),
        "the root holds every blocking interval"
    );
    let root = root_rect(&harness);
    let frame = frame_rect(&harness, &function, weight.count).expect("the frame is drawn");
    assert!(
        frame.width() < root.width() && frame.top() > root.top(),
        "{frame:?} is narrower than and below {root:?}"
    );

    // A click zooms in: the frame takes the full width under its callers.
    click(&mut harness, frame.center());
    harness.run_steps(2);
    let zoomed = frame_rect(&harness, &function, weight.count).expect("the zoomed frame");
    assert!(
        (zoomed.width() - root_rect(&harness).width()).abs() < 1.0,
        "{zoomed:?} spans the graph"
    );
    assert!(
        harness
            .query_by_label_contains(&format!("{function}: "))
            .is_some(),
        "the header names the zoomed frame"
    );

    // Ctrl+click lists its intervals in the outliers table, and only those.
    let at = zoomed.center();
    send(
        &mut harness,
        [
            Event::ModifiersChanged(Modifiers::COMMAND),
            button(at, true, Modifiers::COMMAND),
            button(at, false, Modifiers::COMMAND),
            Event::ModifiersChanged(Modifiers::NONE),
        ],
    );
    harness.run_steps(3);
    let summary = format!(
        "Began under {function}: {} of {} listed",
        through.len(),
        weight.count
    );
    assert!(
        harness.query_by_label(&summary).is_some(),
        "the outliers tab says what it lists: {summary}"
    );
    let rows = outlier_rows(&harness);
    assert!(rows.len() >= 2, "{rows:?}");
    for (g, start) in &rows {
        assert!(
            through.contains(&(*g, start + origin)),
            "G{g} at {start} did not begin under {function}"
        );
    }

    // "All stacks" lists the others again.
    harness.get_by_label("All stacks").click();
    harness.run_steps(3);
    let all = outlier_rows(&harness);
    assert!(
        all.iter()
            .any(|(g, start)| !through.contains(&(*g, start + origin))),
        "the whole table is back: {all:?}"
    );

    // Back in the profiles, the root zooms out again.
    harness.key_press(egui::Key::P);
    harness.run_steps(2);
    let root = root_rect(&harness);
    click(&mut harness, Pos2::new(root.left() + 5.0, root.center().y));
    harness.run_steps(2);
    let frame = frame_rect(&harness, &function, weight.count).expect("the frame again");
    assert!(frame.width() < root.width(), "zoomed out: {frame:?}");
}
