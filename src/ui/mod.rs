//! The desktop viewer: an immediate-mode egui window over a trace.
//!
//! Go engineers double-click a trace (or drop it on the window) and see the
//! whole run at once, then zoom into latency outliers. The ui draws lanes from
//! what the background worker (`crate::worker::Worker`) answers each frame —
//! the lane list (`crate::model::Timeline`) and per-lane draw items for the
//! visible range — and never waits for the file or the decoder: every slow
//! step runs on another thread and wakes the window when it is done, so the
//! first frame comes at once and frames stay cheap.
//!
//! Modules, one concept each:
//! - `app`: the window layout and the one place commands change state;
//! - `view`: the visible range, navigation and history, time ↔ pixel mapping;
//! - `axis`: adaptive ticks and time formatting;
//! - `timeline`: axis, generation bands and virtualised lanes, pointer input;
//! - `lanes`: painting a lane's spans from the worker's draw items, hit tests;
//! - `plots`: the heap, goroutine and GOMAXPROCS plot lanes;
//! - `palette`: span colours and their legend;
//! - `details`: the hover tooltip and the selected span's side panel;
//! - `editor`: opening a stack frame's source in the user's editor;
//! - `filter`: the goroutine filter (function, ID, latency, stack, state, runtime);
//! - `filter_scan`: the filter's background scans of the trace;
//! - `stack_scan`: which goroutines have a stack frame matching a pattern;
//! - `state_scan`: which goroutines were in a state at a time;
//! - `analysis_task`: the trace analysis, run on its own thread per trace;
//! - `analysis_panel`: the panel under the timeline with the analysis tabs;
//! - `outliers`: latency histograms and the worst intervals, leading to them;
//! - `flame`: latency profiles as flame graphs, leading to their outliers;
//! - `goroutines`: goroutines grouped by start function, leading to lanes;
//! - `range_stats`: what the selected time range holds (states, Ps, GC, outliers);
//! - `mmu`: the minimum mutator utilisation curve, computed in the background;
//! - `histogram_plot`: a latency distribution over a log duration axis;
//! - `table`: sortable, virtualised tables of fixed-width columns;
//! - `shortcuts`: keys and the `?` overlay;
//! - `open`: opening, recent files, the file dialog, the file watcher, and
//!   mapping a trace for a background pass;
//! - `session`: a trace on screen with its worker, and one being opened;
//! - `screenshot`: `--screenshot` mode;
//! - `desktop`: the icon and `--install-desktop`.

mod analysis_panel;
mod analysis_task;
mod annotation_scan;
mod app;
mod axis;
mod canvas;
mod desktop;
mod details;
mod editor;
mod filter;
mod filter_scan;
mod flame;
mod goroutines;
mod group_activity;
mod histogram_plot;
mod lanes;
mod mmu;
mod open;
mod outliers;
mod palette;
mod plots;
mod range_stats;
mod screenshot;
mod session;
mod shortcuts;
mod source_file;
mod stack_scan;
mod state_scan;
mod table;
mod timeline;
mod timings;
mod view;
mod wake_chain;

use std::cell::Cell;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

pub use analysis_panel::Tab as Panel;
pub use app::GotvApp;

/// Window size of screenshot mode when none is given: large enough to show
/// dozens of lanes, small enough for a software renderer to fill quickly.
const SCREENSHOT_SIZE: (u32, u32) = (1600, 1000);

/// Initial window size of an interactive session (eframe remembers the user's size after).
const WINDOW_SIZE: (u32, u32) = (1280, 800);

/// How the window starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Trace to open; `None` opens the bundled sample trace.
    pub file: Option<PathBuf>,
    /// Save the window as this PNG once everything visible is drawn, then exit.
    pub screenshot: Option<PathBuf>,
    /// Window size in points (default 1600×1000 for screenshots).
    pub size: Option<(u32, u32)>,
    /// Visible range `(start, end)` in nanoseconds from the start of the trace.
    pub range: Option<(i64, i64)>,
    /// Analysis panel to open; a screenshot then waits for what it shows.
    pub panel: Option<Panel>,
    /// Time range to select `(start, end)`, in nanoseconds from the start
    /// of the trace, as a shift-drag over it would.
    pub select: Option<(i64, i64)>,
    /// Goroutine filter text, as typed into the filter field.
    pub filter: Option<String>,
    /// Hide goroutines started in package `runtime`.
    pub hide_runtime: bool,
    /// Print when each stage of loading was reached, counting from this
    /// instant (see `--timings`).
    pub timings: Option<Instant>,
}

/// Opens the viewer window and runs until it is closed. Exit code 0, or in
/// screenshot mode 1 when the trace could not be opened or the image not saved;
/// 2 when no window can be opened at all.
pub fn run(options: Options) -> ExitCode {
    let screenshot = options.screenshot.is_some();
    let default_size = if screenshot {
        SCREENSHOT_SIZE
    } else {
        WINDOW_SIZE
    };
    let (width, height) = options.size.unwrap_or(default_size);
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("gotv")
        .with_app_id("gotv")
        .with_inner_size([width as f32, height as f32])
        .with_drag_and_drop(true);
    if let Some(icon) = desktop::window_icon() {
        viewport = viewport.with_icon(icon);
    }
    if screenshot {
        viewport = viewport.with_resizable(false);
    }
    // A screenshot must not depend on (or change) the user's saved session:
    // eframe restores the last window size and egui state from its storage
    // even when told not to save them, so screenshot runs get an empty,
    // throw-away storage file instead.
    let scratch_storage = screenshot
        .then(|| std::env::temp_dir().join(format!("gotv-screenshot-{}.ron", std::process::id())));
    let native = eframe::NativeOptions {
        viewport,
        // glow, not wgpu: under software GL (laptops without GPU drivers, VMs,
        // Xvfb in CI) glow draws a frame about 5× cheaper, and egui needs nothing more.
        renderer: eframe::Renderer::Glow,
        persist_window: !screenshot,
        persistence_path: scratch_storage.clone(),
        ..Default::default()
    };
    let exit_code = Rc::new(Cell::new(0));
    let app_exit_code = Rc::clone(&exit_code);
    let result = eframe::run_native(
        "gotv",
        native,
        Box::new(move |cc| {
            Ok(Box::new(GotvApp::with_exit_code(
                cc,
                options,
                app_exit_code,
            )))
        }),
    );
    if let Some(file) = scratch_storage {
        let _ = std::fs::remove_file(file);
    }
    match result {
        Ok(()) => ExitCode::from(exit_code.get()),
        Err(e) => {
            eprintln!("gotv: cannot open a window: {e}");
            ExitCode::from(2)
        }
    }
}

/// `gotv --install-desktop`: installs the launcher, MIME type and icon for the
/// current user so traces open with a double-click.
pub fn install_desktop() -> ExitCode {
    desktop::install()
}
