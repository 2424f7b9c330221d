//! Frame benchmark: the CPU time of one frame of the real app — building
//! the ui (lane queries to the worker, folding, painting) and tessellating
//! what it painted — at zoom levels from the whole trace down to 1 µs wide.
//!
//! ```sh
//! cargo bench --bench frame -- TRACE [--frames N] [--width NS]
//! ```
//!
//! `--width` measures that one width (nanoseconds, 0 for the whole trace)
//! instead of the list, for profiling.
//!
//! Without a trace it measures the bundled sample. The app runs headless
//! in egui_kittest at 1600×1000 points: the trace is opened and decoded as
//! in a window (every generation summarised first), then for each width the
//! view is centred on the middle of the trace, frames are stepped until
//! everything visible is decoded (that wait is printed as "ready after":
//! how long a jump to that zoom level takes to show full detail), and `N`
//! frames (default 30) are timed.
//! The harness builds an AccessKit tree every frame, which a window does
//! only under a screen reader, so the figures are an upper bound.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gotv::ui::{GotvApp, Options};

/// Widths of the view, in nanoseconds (0: the whole trace).
const WIDTHS: [(i64, &str); 9] = [
    (0, "whole trace"),
    (10_000_000_000, "10 s"),
    (1_000_000_000, "1 s"),
    (100_000_000, "100 ms"),
    (10_000_000, "10 ms"),
    (1_000_000, "1 ms"),
    (100_000, "100 µs"),
    (10_000, "10 µs"),
    (1_000, "1 µs"),
];

/// Longest wait for decoding, at the start and at each zoom level.
const PATIENCE: Duration = Duration::from_secs(600);

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut file = None;
    let mut frames = 30;
    let mut widths = WIDTHS.to_vec();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--frames" => frames = args.next().and_then(|n| n.parse().ok()).unwrap_or(frames),
            "--width" => {
                let width = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
                widths = vec![(width, "--width")];
            }
            path => file = Some(PathBuf::from(path)),
        }
    }
    let name = file
        .as_ref()
        .map_or("the bundled sample".to_owned(), |f| f.display().to_string());
    let options = Options {
        file,
        ..Options::default()
    };
    let start = Instant::now();
    let mut harness = Harness::builder()
        .with_size([1600.0, 1000.0])
        .with_max_steps(u64::MAX)
        .build_eframe(|cc| GotvApp::new(cc, options));
    let [summarised, outliers] = load(&mut harness, start);
    println!(
        "{name}: every generation summarised after {:.2} s, outliers after {:.2} s, \
         analysis done after {:.2} s",
        summarised.as_secs_f64(),
        outliers.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    println!("width        ui+tessellate median   max      vertices   ready after");
    let whole = harness.state().visible_range();
    let middle = (whole.0 + whole.1) / 2;
    for (width, label) in widths {
        let range = if width == 0 {
            whole
        } else {
            (middle - width / 2, middle + width / 2)
        };
        harness.state_mut().show_range(range.0, range.1);
        let ready = settle(&mut harness);
        let (median, max, vertices) = measure(&mut harness, frames);
        println!(
            "{label:<12} {:>10.2} ms {:>10.2} ms {vertices:>10} {:>10.0} ms",
            ms(median),
            ms(max),
            ms(ready)
        );
    }
}

/// Steps frames until the trace is loaded: every generation summarised
/// and the analysis done (frames are timed after that: until then the
/// analysis shares the cores with the ui thread). Returns when every
/// generation was summarised and when the outliers were in, since `start`.
fn load(harness: &mut Harness<'_, GotvApp>, start: Instant) -> [Duration; 2] {
    let deadline = start + PATIENCE;
    let mut milestones = [None; 2];
    loop {
        harness.step();
        let app = harness.state();
        let summarised = app.progress().is_some_and(|p| p.done == p.total);
        for (seen, now) in milestones
            .iter_mut()
            .zip([summarised, app.outliers_ready()])
        {
            if now && seen.is_none() {
                *seen = Some(start.elapsed());
            }
        }
        let analysed = harness.query_by_label_contains("Analysing").is_none();
        if (app.is_ready() && summarised && analysed) || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    milestones.map(|m| m.unwrap_or(PATIENCE))
}

/// Steps frames until everything visible is drawn from decoded data;
/// returns how long that took.
fn settle(harness: &mut Harness<'_, GotvApp>) -> Duration {
    let start = Instant::now();
    let deadline = start + PATIENCE;
    loop {
        harness.step();
        if harness.state().is_ready() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let ready = start.elapsed();
    // A few more frames: layout settles once lanes have their final size.
    for _ in 0..3 {
        harness.step();
    }
    ready
}

/// Times `frames` frames: median and maximum of ui + tessellation, and the
/// vertices of the last frame.
fn measure(harness: &mut Harness<'_, GotvApp>, frames: usize) -> (Duration, Duration, usize) {
    let mut times = Vec::with_capacity(frames);
    let mut vertices = 0;
    for _ in 0..frames.max(1) {
        // Each frame must do its whole work: nothing is cached between
        // frames but what the app caches itself.
        harness.ctx.request_repaint();
        let t = Instant::now();
        harness.step();
        let shapes = harness.output().shapes.clone();
        let ppp = harness.output().pixels_per_point;
        let meshes = harness.ctx.tessellate(shapes, ppp);
        times.push(t.elapsed());
        vertices = meshes
            .iter()
            .map(|m| match &m.primitive {
                egui::epaint::Primitive::Mesh(mesh) => mesh.vertices.len(),
                egui::epaint::Primitive::Callback(_) => 0,
            })
            .sum();
    }
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let max = times.last().copied().unwrap_or_default();
    (median, max, vertices)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
