//! Helpers of the GUI tests: the real `GotvApp` in an egui_kittest harness,
//! waits for its background work, input events, and the worker's public
//! query API on the sample trace.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui::{Event, Modifiers, PointerButton, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use gotv::model::{DrawItem, LaneKey};
use gotv::ui::{GotvApp, Options};
use gotv::worker::{Source, Viewport, Worker};

pub use super::traces::sample;

/// The app under test.
pub type App = Harness<'static, GotvApp>;

/// Simulated time per frame: a 60 Hz display, so that two clicks a frame
/// apart are a double-click as they are for a person.
pub const STEP_DT: f32 = 1.0 / 60.0;

/// How long a test waits for background work: decoding the sample takes
/// well under a second, but a debug build running every test at once on a
/// loaded CI machine can be many times slower.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Runs `step` until it returns true, or fails after [`PATIENCE`].
pub fn eventually(what: &str, mut step: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if step() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

/// Steps frames until `done` holds; files are opened and decoded on other
/// threads, so results arrive in real time, not in a known number of frames.
pub fn wait_for(harness: &mut App, what: &str, mut done: impl FnMut(&App) -> bool) {
    eventually(what, || {
        harness.step();
        done(harness)
    });
}

/// The app started with `options` in a `window`-sized harness stepping
/// [`STEP_DT`] a frame, as it comes up (nothing waited for).
pub fn app(options: Options, window: [f32; 2]) -> App {
    Harness::builder()
        .with_size(window)
        .with_step_dt(STEP_DT)
        .build_eframe(|cc| GotvApp::new(cc, options))
}

/// Waits until every generation is decoded, not only the visible ones:
/// lanes grow rows as generations arrive, which would move them under the
/// test's pointer.
pub fn wait_decoded(harness: &mut App) {
    wait_for(harness, "the trace to be decoded", |h| {
        let app = h.state();
        app.is_ready() && app.progress().is_some_and(|p| p.done == p.total)
    });
}

/// The app started with `options`, with everything decoded (as far as it
/// can be).
pub fn open_decoded(options: Options, window: [f32; 2]) -> App {
    let mut harness = app(options, window);
    wait_decoded(&mut harness);
    harness.step();
    harness
}

/// The app on the sample with everything decoded and the analysis done.
pub fn open_analysed(window: [f32; 2]) -> App {
    let options = Options {
        file: Some(sample()),
        ..Options::default()
    };
    let mut harness = app(options, window);
    wait_decoded(&mut harness);
    wait_for(&mut harness, "the analysis", |h| {
        h.query_by_label_contains("Analysing").is_none()
    });
    harness.step();
    harness
}

/// A press (`pressed`) or release of the primary button at `pos`.
pub fn button(pos: Pos2, pressed: bool, modifiers: Modifiers) -> Event {
    Event::PointerButton {
        pos,
        button: PointerButton::Primary,
        pressed,
        modifiers,
    }
}

/// Sends `events`, a frame after each.
pub fn send(harness: &mut App, events: impl IntoIterator<Item = Event>) {
    for event in events {
        harness.event(event);
        harness.step();
    }
}

/// A primary click at `pos`, without modifiers.
pub fn click(harness: &mut App, pos: Pos2) {
    send(
        harness,
        [
            button(pos, true, Modifiers::NONE),
            button(pos, false, Modifiers::NONE),
        ],
    );
}

/// Zooms by `factor` (Ctrl+wheel, pinch) with the pointer resting at `pos`.
pub fn zoom_at(harness: &mut App, pos: Pos2, factor: f32) {
    harness.hover_at(pos);
    harness.step();
    harness.event(Event::Zoom(factor));
    harness.step();
    harness.step();
}

/// A worker on the sample trace, with its index read.
pub fn sample_worker() -> Worker {
    let bytes = std::fs::read(sample()).expect("read the sample");
    let mut worker = Worker::start(Source::Bytes(bytes), |_| {});
    eventually("the index", || {
        worker.poll();
        !worker.timeline().generations.is_empty()
    });
    worker
}

/// `f` of the items of `lane` over the whole sample (its span as the index
/// gives it), with every generation in full detail, and of the trace's time
/// origin once all is decoded.
pub fn full_detail<R>(lane: LaneKey, f: impl FnOnce(&[DrawItem<'_>], i64) -> R) -> R {
    let mut worker = sample_worker();
    let span = worker.timeline().span;
    // A viewport a billion pixels wide wants every generation in full detail.
    worker.set_viewport(Viewport {
        range: span,
        width_px: 1e9,
        lanes: vec![lane],
    });
    eventually("full detail", || {
        worker.poll();
        worker.progress().done == worker.progress().total && worker.timeline().pending == 0
    });
    let mut items: Vec<DrawItem<'_>> = Vec::new();
    worker.lane_items(lane, span, 1.0, &mut items);
    let origin = worker.timeline().span.start;
    f(&items, origin)
}

/// The trace's start as the view counts from it (the worker's span).
pub fn origin() -> i64 {
    let mut worker = sample_worker();
    eventually("the exact span", || {
        worker.poll();
        worker.progress().done == worker.progress().total
    });
    worker.timeline().span.start
}

/// A table row of the outliers table: goroutine and start (relative ns),
/// parsed from its label `G7, main.f, 0.001234567 s, 1.23 ms, reason`.
pub fn outlier_rows(harness: &App) -> Vec<(i64, i64)> {
    harness
        .get_all_by_role(Role::Button)
        .filter_map(|node| {
            let label = node.accesskit_node().label()?;
            let mut cells = label.split(", ");
            let goroutine = cells.next()?.strip_prefix('G')?.parse().ok()?;
            let _function = cells.next()?;
            let seconds = cells.next()?.strip_suffix(" s")?;
            let (whole, nanos) = seconds.split_once('.')?;
            let start = whole.parse::<i64>().ok()? * 1_000_000_000 + nanos.parse::<i64>().ok()?;
            Some((goroutine, start))
        })
        .collect()
}

/// A shift-drag from `from` to `to`: selects the time range between them
/// over the lanes.
pub fn shift_drag(harness: &mut App, from: Pos2, to: Pos2) {
    let middle = Pos2::new((from.x + to.x) / 2.0, (from.y + to.y) / 2.0);
    send(
        harness,
        [
            Event::ModifiersChanged(Modifiers::SHIFT),
            Event::PointerMoved(from),
            button(from, true, Modifiers::SHIFT),
            Event::PointerMoved(middle),
            Event::PointerMoved(to),
            button(to, false, Modifiers::SHIFT),
            Event::ModifiersChanged(Modifiers::NONE),
        ],
    );
}
