//! The background worker: indexes and decodes a trace off the ui thread and
//! answers the ui's per-frame draw queries.
//!
//! The ui creates a [`Worker`] per opened trace. A background thread
//! (`thread`) opens the file, builds the generation index and at once
//! sends the generation bands, so the first frame shows the time axis and
//! the whole run before anything is decoded. It then decodes generations on
//! all cores — the ones the viewport shows first, then the rest — and sends
//! each one's summary (and, when the view is zoomed into it, its full
//! detail over a window around what the view shows) with a repaint request. A generation that fails to decode is
//! reported and the others still load. User regions and tasks open across
//! generation boundaries are only known once the generations before are
//! decoded; a generation decoded before that is marked outdated and decoded
//! again after the others (`schedule`).
//!
//! Started with [`Worker::start_analysing`], the same threads then analyse
//! each generation's latencies (`analysis::stitch`), for the ui's analysis
//! task to stitch: after the overview, since that is what the user sees
//! first, and sharing the cores with nothing else.
//!
//! On the ui thread, [`Worker::poll`] takes in what arrived; the
//! [`Worker::set_viewport`] call each frame tells the thread what matters
//! now (superseding the previous request, so panning never queues stale
//! work); [`Worker::lane_items`] and [`Worker::plot`] answer from what is
//! loaded — full detail if cached and useful at this zoom, summaries
//! otherwise — in a few binary searches per lane and generation.
//! [`Worker::span_details`] answers the side panel the same way, never
//! waiting: from cached detail, or "loading" while it is decoded again.
//!
//! Memory: summaries of every generation (small), full detail of windows
//! of the generations on screen, each sized to `store::WINDOW_BYTES` from
//! the generation's size in the file (a busy generation's whole detail is
//! over a hundred megabytes), one more under `cache::DETAIL_BUDGET`, one
//! detail decode at a time, summary decodes in
//! flight under the schedule's budget; mapped file pages and freed heap are
//! given back to the OS after each decode (`memory`).
//!
//! [`build_all`] (`headless`) runs the same builds on every generation
//! without a window or threads, for `gotv check --deep` and the fuzz target.

mod bands;
mod cache;
mod headless;
mod memory;
mod schedule;
mod store;
mod thread;

use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use std::sync::Arc;

use crate::analysis::{GenerationLatency, OutlierFloor};
use crate::model::{
    DrawItem, GenerationModel, GenerationSummary, GroupValues, LaneKey, PlotPoint, Series,
    SpanDetails, TimeSpan, Timeline,
};
use crate::trace::SharedIndex;
pub use headless::{Problem, build_all};
use store::Store;
use thread::Notifier;

/// What to open.
#[derive(Debug)]
pub enum Source {
    /// A file (memory-mapped); `-` reads standard input.
    File(PathBuf),
    /// Bytes already in memory.
    Bytes(Vec<u8>),
}

/// What the ui shows, for scheduling: decoding goes where the view is.
#[derive(Clone, Debug, PartialEq)]
pub struct Viewport {
    /// The visible time range.
    pub range: TimeSpan,
    /// Width of the lanes' drawing area in pixels.
    pub width_px: f32,
    /// The lanes on screen: full detail is loaded when one of them needs
    /// more resolution than its summary has.
    pub lanes: Vec<LaneKey>,
}

impl Viewport {
    /// Nanoseconds per pixel.
    pub fn ns_per_px(&self) -> f64 {
        self.range.len() as f64 / f64::from(self.width_px.max(1.0))
    }
}

/// A problem reported by the worker: with a generation, that generation
/// could not be decoded (the others still load); without, the trace could
/// not be opened or read past some point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerationError {
    /// Index of the generation in the trace, if the problem is in one.
    pub generation: Option<usize>,
    /// What went wrong, as the decoder words it.
    pub message: String,
}

/// How far decoding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Generations summarised or failed.
    pub done: usize,
    /// Generations in the trace (0 until indexed).
    pub total: usize,
}

impl Progress {
    /// Whether every generation of an indexed trace is summarised or
    /// failed: the overview is whole.
    pub fn is_complete(&self) -> bool {
        self.total > 0 && self.done >= self.total
    }
}

/// The answer to [`Worker::span_details`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpanQuery {
    /// The span's details.
    Ready(SpanDetails),
    /// Its generation's full detail is being decoded (again): ask next frame.
    Loading,
    /// No such span (or its generation could not be decoded).
    Unknown,
}

/// What the ui wants decoded: the visible generations, most central first,
/// and those wanted in full detail, each over a window.
type Wants = (Vec<usize>, Vec<(usize, TimeSpan)>);

/// From the ui to the worker thread.
enum Command {
    /// The visible generations (most central first) and those wanted in
    /// full detail; replaces earlier wants.
    Wants {
        focus: Vec<usize>,
        detail: Vec<(usize, TimeSpan)>,
    },
    /// The ui dropped this generation's detail.
    Evicted(usize),
    /// Whether the latency analyses come before the overview (the ui
    /// shows the outliers).
    AnalysesFirst(bool),
    /// Stop.
    Shutdown,
}

/// From the worker thread to the ui.
enum Update {
    /// The index is built: each generation's estimated time range and its
    /// size in the file.
    Indexed {
        bands: Vec<TimeSpan>,
        sizes: Vec<usize>,
    },
    /// A generation is decoded.
    Decoded {
        generation: usize,
        /// `None` from a detail decode of a generation the ui has the
        /// summary of.
        summary: Option<Box<GenerationSummary>>,
        /// Boxed, as the summary: both are large next to the other updates.
        detail: Option<Box<GenerationModel>>,
    },
    /// A generation's summary was built without what was open at its
    /// start and will be decoded again.
    Outdated(usize),
    /// Something could not be read.
    Failed {
        generation: Option<usize>,
        message: String,
    },
}

/// The latency analysis of a generation (see [`Worker::start_analysing`]).
pub struct AnalysedGeneration {
    /// Which generation.
    pub generation: usize,
    /// Its analysis (marked damaged if it could not be read to its end);
    /// `None` if it could not be analysed at all.
    pub part: Option<GenerationLatency>,
    /// Why it could not be read to its end, if it could not.
    pub error: Option<String>,
}

/// A trace being loaded in the background; the ui's handle.
pub struct Worker {
    commands: Sender<Command>,
    updates: Receiver<Update>,
    thread: Option<JoinHandle<()>>,
    last_wants: Option<Wants>,
    analyses_first: bool,
    store: Store,
}

impl Worker {
    /// Starts loading `source` on a background thread. `repaint` is called
    /// (from that thread) whenever something new arrived, with how soon the
    /// ui should show it (zero: at once); pass
    /// `move |after| ctx.request_repaint_after(after)` with a clone of the
    /// `egui::Context`.
    pub fn start(source: Source, repaint: impl Fn(Duration) + Send + Sync + 'static) -> Worker {
        let index = Arc::default();
        Worker::launch((source, index), Box::new(repaint), None)
    }

    /// [`Worker::start`], also analysing the latencies of each generation
    /// on the decoding threads once every generation is summarised (or
    /// before, see [`Worker::set_analyses_first`]): the
    /// analyses go to `latency`, in trace order (give or take the threads'
    /// timing), for a [`LatencyStitcher`](crate::analysis::LatencyStitcher).
    /// `floor` is the stitcher's (see [`OutlierFloor`]). The file's index
    /// comes from `index` if another thread opening it made it first, else
    /// the worker makes it there (see [`SharedIndex`]).
    pub fn start_analysing(
        source: (Source, Arc<SharedIndex>),
        repaint: impl Fn(Duration) + Send + Sync + 'static,
        latency: Sender<AnalysedGeneration>,
        floor: Arc<OutlierFloor>,
    ) -> Worker {
        Worker::launch(source, Box::new(repaint), Some((latency, floor)))
    }

    fn launch(
        source: (Source, Arc<SharedIndex>),
        repaint: Box<dyn Fn(Duration) + Send + Sync>,
        latency: Option<(Sender<AnalysedGeneration>, Arc<OutlierFloor>)>,
    ) -> Worker {
        let (commands, command_rx) = crossbeam_channel::unbounded();
        let (update_tx, updates) = crossbeam_channel::unbounded();
        let notifier = Notifier {
            updates: update_tx,
            repaint,
            latency,
        };
        let thread = std::thread::Builder::new()
            .name("gotv-worker".into())
            .spawn(move || thread::run(source, command_rx, notifier))
            .ok();
        let mut worker = Worker {
            commands,
            updates,
            thread,
            last_wants: None,
            analyses_first: false,
            store: Store::default(),
        };
        if worker.thread.is_none() {
            let message = "cannot start the worker thread".to_owned();
            worker.store.apply(Update::Failed {
                generation: None,
                message,
            });
        }
        worker
    }

    /// Takes in everything that arrived; call once per frame. Returns
    /// whether anything changed.
    pub fn poll(&mut self) -> bool {
        let mut changed = false;
        while let Ok(update) = self.updates.try_recv() {
            changed = true;
            for command in self.store.apply(update) {
                let _ = self.commands.send(command);
            }
        }
        // New summaries can change what needs decoding for the same view.
        if changed && let Some(viewport) = self.store.viewport().cloned() {
            self.set_viewport(viewport);
        }
        changed
    }

    /// Tells the worker what is on screen; cheap when nothing changed.
    pub fn set_viewport(&mut self, viewport: Viewport) {
        let wants = self.store.set_viewport(viewport);
        if self.last_wants.as_ref() != Some(&wants) {
            let (focus, detail) = wants.clone();
            let _ = self.commands.send(Command::Wants { focus, detail });
            self.last_wants = Some(wants);
        }
    }

    /// Whether the latency analyses (of a worker
    /// [`Worker::start_analysing`]) come before the overview: set while
    /// the ui shows what they find, which the user then waits for; cheap
    /// when nothing changed.
    pub fn set_analyses_first(&mut self, first: bool) {
        if self.analyses_first != first {
            let _ = self.commands.send(Command::AnalysesFirst(first));
            self.analyses_first = first;
        }
    }

    /// The trace's span, generation bands, lanes and pending work.
    pub fn timeline(&self) -> &Timeline {
        self.store.timeline()
    }

    /// Appends to `out` what to draw for lane `key` over `view` at
    /// `ns_per_px`: spans and fold blocks where full detail is loaded,
    /// summary buckets elsewhere, in generation order, row by row.
    pub fn lane_items<'a>(
        &'a self,
        key: LaneKey,
        view: TimeSpan,
        ns_per_px: f64,
        out: &mut Vec<DrawItem<'a>>,
    ) {
        self.store.lane_items(key, view, ns_per_px, out);
    }

    /// Appends to `out` the pixel columns of `series` over `view` (one
    /// point per column at most; each value holds until the next point).
    pub fn plot(&self, series: Series, view: TimeSpan, ns_per_px: f64, out: &mut Vec<PlotPoint>) {
        self.store.plot(series, view, ns_per_px, out);
    }

    /// Appends to `out` what the goroutines of start function `name` (an
    /// index of the timeline's [`names`](Timeline::names)) do over `view`:
    /// for each summary bucket, the time it covers and the average number
    /// of them in each of [`GROUP_STATES`](crate::model::GROUP_STATES).
    pub fn group_activity(
        &self,
        name: u32,
        view: TimeSpan,
        out: &mut Vec<(TimeSpan, GroupValues)>,
    ) {
        self.store.group_activity(name, view, out);
    }

    /// The span after (`forward`) or before the one starting at absolute
    /// time `start` on lane `key`'s row `row`, if the full detail holding
    /// it is loaded (it is for a span the view shows in detail).
    pub fn neighbour(
        &self,
        (key, row): (LaneKey, usize),
        start: i64,
        forward: bool,
    ) -> Option<DrawItem<'_>> {
        self.store.neighbour((key, row), start, forward)
    }

    /// The span of lane `key`'s row `row` that holds absolute time `t` (or
    /// the instant at `t`), if the full detail holding it is loaded.
    pub fn span_at(&self, at: (LaneKey, usize), t: i64) -> Option<DrawItem<'_>> {
        self.store.span_at(at, t)
    }

    /// When lane `key` has anything (a goroutine: its life), as far as the
    /// summaries decoded so far tell, to their finest buckets.
    pub fn lane_extent(&self, key: LaneKey) -> Option<TimeSpan> {
        self.store.lane_extent(key)
    }

    /// Releases the generation [`Worker::span_details`] keeps decoded for
    /// the span asked about: its answer is in, or nothing is selected.
    pub fn unpin(&self) {
        self.store.unpin();
    }

    /// Like [`Worker::span_details`], but answering only from full detail
    /// already loaded and asking for nothing to be decoded: `None` if it
    /// is not loaded (or there is no such span).
    pub fn loaded_span_details(&self, key: LaneKey, row: usize, t: i64) -> Option<SpanDetails> {
        self.store.loaded_span_details(key, row, t)
    }

    /// The details of the span of lane `key`'s row `row` at absolute time
    /// `t` (any time within it): its stack, goroutine, P, M and unblocker.
    /// Answers from cached full detail; otherwise returns
    /// [`SpanQuery::Loading`] and has the generation decoded and kept,
    /// so asking again in a later frame answers.
    pub fn span_details(&self, key: LaneKey, row: usize, t: i64) -> SpanQuery {
        self.store.span_details(key, row, t)
    }

    /// Problems so far.
    pub fn errors(&self) -> &[GenerationError] {
        self.store.errors()
    }

    /// Generations decoded so far.
    pub fn progress(&self) -> Progress {
        self.store.progress()
    }

    /// Stops the background thread and waits for it (decodes in flight
    /// finish first). Dropping the worker stops it without waiting.
    pub fn shutdown(mut self) {
        let _ = self.commands.send(Command::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
    }
}

#[cfg(test)]
mod tests;
