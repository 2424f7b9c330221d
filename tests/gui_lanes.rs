//! The lanes users see, driven through egui_kittest: the real `GotvApp` on
//! the sample trace, decoded by the real worker, checked through the
//! AccessKit tree (lane names, the side panel) and the painted shapes.
//!
//! Where a span is comes from the model itself, through the worker's public
//! query API, so the test clicks where the trace really has one rather than
//! where a screenshot once showed it.

mod common;

use std::path::PathBuf;

use common::gui::{App, click, full_detail, open_decoded, sample, zoom_at};
use egui::Pos2;
use egui_kittest::kittest::{NodeT, Queryable};
use gotv::model::{ItemKind, LaneKey, SpanKind, TimeSpan};
use gotv::ui::Options;

/// Size of the test window, in points.
const WINDOW: [f32; 2] = [1200.0, 800.0];

/// Screen x of the middle of the timeline body (right of the 200-point name
/// column, inside the panel margins).
const BODY_MIDDLE_X: f32 = 700.0;

/// The app on the sample trace, showing `range` (or all of it), with
/// everything decoded.
fn open(range: Option<(i64, i64)>) -> App {
    open_with(Options {
        file: Some(sample()),
        range,
        ..Options::default()
    })
}

/// The app started with `options`, with everything decoded (as far as it
/// can be).
fn open_with(options: Options) -> App {
    open_decoded(options, WINDOW)
}

/// A span the model has on P0: the widest running one with a start function.
struct P0Span {
    /// Start, relative to the trace start.
    start: i64,
    /// End, relative to the trace start.
    end: i64,
    /// The goroutine's start function.
    function: String,
    /// The goroutine it runs.
    goroutine: i64,
}

/// Finds the [`P0Span`] through the worker's public query API.
fn widest_p0_span() -> P0Span {
    full_detail(LaneKey::Proc(0), |items, origin| {
        items
            .iter()
            .filter_map(|item| match item.kind {
                ItemKind::Span {
                    kind: SpanKind::Running,
                    label,
                    goroutine: Some(goroutine),
                    ..
                } if !label.is_empty() => Some(P0Span {
                    start: item.start - origin,
                    end: item.end - origin,
                    function: label.to_owned(),
                    goroutine,
                }),
                _ => None,
            })
            .max_by_key(|span| span.end - span.start)
            .expect("P0 runs goroutines")
    })
}

/// Screen y of the first row of the lane named `label`.
fn lane_y(harness: &App, label: &str) -> f32 {
    harness.get_by_label(label).rect().center().y
}

#[test]
fn lanes_are_labelled_and_painted() {
    let harness = open(None);
    for label in ["Procs (4)", "P0", "GC", "Heap", "G1 main.main"] {
        assert!(
            harness.query_by_label(label).is_some(),
            "no lane named {label:?}"
        );
    }
    assert!(
        harness.query_by_label_contains("Goroutines (").is_some(),
        "the goroutine section"
    );
    // Lanes are meshes: one per lane, thousands of vertices in all.
    let vertices: usize = harness
        .output()
        .shapes
        .iter()
        .map(|clipped| match &clipped.shape {
            egui::Shape::Mesh(mesh) => mesh.vertices.len(),
            _ => 0,
        })
        .sum();
    assert!(vertices > 1000, "only {vertices} vertices of lanes");
}

/// A start function's header row shows what its goroutines do: over the
/// time they exist, how many of them are running, runnable, in a system
/// call and waiting, on average, in its tooltip.
#[test]
fn a_group_header_shows_what_its_goroutines_do() {
    // The sample's three readLoop goroutines of the first HTTP client live
    // from about 10 to 140 ms; a window tall enough to show their header.
    let options = Options {
        file: Some(sample()),
        range: Some((20_000_000, 120_000_000)),
        ..Options::default()
    };
    let mut harness = open_decoded(options, [1200.0, 1100.0]);
    let header = "3 × net/http.(*persistConn).readLoop";
    let y = harness
        .query_all_by_label(header)
        .next()
        .expect("the group's header")
        .rect()
        .center()
        .y;
    harness.hover_at(Pos2::new(BODY_MIDDLE_X, y));
    harness.run_steps(45);
    let tooltip = harness
        .query_all_by_label_contains("goroutines on average")
        .next()
        .expect("the header's tooltip")
        .accesskit_node()
        .label()
        .unwrap_or_default();
    assert!(tooltip.starts_with(header), "{tooltip}");
    let count = |state: &str| -> f64 {
        let line = tooltip
            .lines()
            .find_map(|l| l.trim().strip_prefix(state))
            .unwrap_or_else(|| panic!("no {state} in {tooltip:?}"));
        line.trim().parse().unwrap()
    };
    let counts = ["running", "runnable", "syscall", "waiting"].map(count);
    // Each count is rounded to a tenth.
    let alive: f64 = counts.iter().sum();
    assert!(
        alive > 0.5 && alive <= 3.2,
        "between one and three of the three exist: {tooltip}"
    );
}

#[test]
fn zooming_changes_the_range() {
    let mut harness = open(None);
    let whole = harness.state().visible_range();
    zoom_at(&mut harness, Pos2::new(BODY_MIDDLE_X, 400.0), 4.0);
    let zoomed = harness.state().visible_range();
    assert_eq!(zoomed.1 - zoomed.0, (whole.1 - whole.0) / 4, "{zoomed:?}");
}

#[test]
fn a_span_shows_details_zooms_on_double_click_and_leads_to_its_goroutine() {
    let P0Span {
        start,
        end,
        function,
        goroutine,
    } = widest_p0_span();
    // The span fills the middle half of the view.
    let len = end - start;
    let mut harness = open(Some((start - len / 2, end + len / 2)));
    let target = Pos2::new(BODY_MIDDLE_X, lane_y(&harness, "P0"));
    assert!(harness.query_by_label("Selected span").is_none());

    // Resting on the span shows its tooltip: what it is, how long, when.
    harness.hover_at(target);
    harness.run_steps(45);
    assert!(
        harness.query_by_label_contains(" at ").is_some(),
        "a tooltip with the span's duration and start"
    );
    click(&mut harness, target);
    // The panel opens once the click can no longer become a double-click.
    harness.run_steps(30);
    assert!(
        harness.query_by_label("Selected span").is_some(),
        "the side panel opens"
    );
    assert!(harness.query_by_label("Stack").is_some());
    assert!(
        harness.query_all_by_label(&function).count() >= 2,
        "the panel names {function} as the span's function and stack frame"
    );

    // Esc closes the panel.
    harness.key_press(egui::Key::Escape);
    harness.step();
    harness.step();
    assert!(harness.query_by_label("Selected span").is_none());

    // Double-click: zoom to the span, with a margin around it; the panel
    // opens after.
    let before = harness.state().visible_range();
    click(&mut harness, target);
    click(&mut harness, target);
    harness.step();
    let (a, b) = harness.state().visible_range();
    assert_ne!((a, b), before);
    assert!(a < start && start - a <= len / 5, "{a} vs {start}");
    assert!(b > end && b - end <= len / 5, "{b} vs {end}");
    harness.run_steps(30);
    assert!(harness.query_by_label("Selected span").is_some());

    // The panel leads to the goroutine's own lane, far down the list.
    let lane = format!("G{goroutine} {function}");
    assert_eq!(
        harness.query_all_by_label(&lane).count(),
        1,
        "only in the panel"
    );
    harness.get_by_label(&lane).click();
    harness.run_steps(3);
    assert_eq!(
        harness.query_all_by_label(&lane).count(),
        2,
        "the lane is scrolled into view"
    );
}

#[test]
fn the_status_bar_reports_decoding() {
    let harness = open(None);
    // Everything is decoded: no progress bar is left, and no error.
    assert!(harness.query_by_label_contains("Decoding ").is_none());
    assert!(
        harness
            .query_by_label_contains("could not be read")
            .is_none()
    );
    let range = harness.state().visible_range();
    assert!(
        TimeSpan::new(range.0, range.1).len() > 1_000_000_000,
        "the whole 1.5 s sample is in view: {range:?}"
    );
}

#[test]
fn a_generation_that_cannot_be_read_is_reported_not_fatal() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gui_lanes");
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    let path = dir.join("cut.trace");
    let bytes = std::fs::read(sample()).expect("read the sample");
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).expect("write");
    let harness = open_with(Options {
        file: Some(path),
        ..Options::default()
    });
    assert!(
        harness.query_by_label("1 part could not be read").is_some(),
        "the status bar reports the failure"
    );
    assert!(
        harness.query_by_label("P0").is_some(),
        "what precedes the damage is drawn"
    );
    let marker = harness
        .output()
        .shapes
        .iter()
        .any(|clipped| match &clipped.shape {
            egui::Shape::Text(text) => text
                .galley
                .text()
                .starts_with("The trace cannot be read from here"),
            _ => false,
        });
    assert!(marker, "a marker where the data ends");
}
