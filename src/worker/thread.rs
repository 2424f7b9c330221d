//! The background thread: opens and indexes the trace, then decodes
//! generations on a pool of scoped threads, one per core, in the order the
//! [`Schedule`] gives, until the ui shuts it down.
//!
//! The input and the trace index live on this thread's stack, and the pool
//! threads borrow them (scoped threads), so nothing about the trace is
//! shared with the ui but the messages. Each decode's result is sent as
//! soon as it is ready, followed by a repaint request (for summaries
//! decoded in the background, one within [`BACKGROUND_REPAINT`]). A generation that
//! fails (or makes the decoder panic) is reported and not retried; the
//! others still load.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::AnalysedGeneration;
use super::schedule::{Job, Schedule};
use super::{Command, Source, Update, bands, memory};
use crate::analysis::{GenerationLatency, OUTLIERS_KEPT, OutlierFloor};
use crate::model::{self, AnnotationEdges, GenerationModel, GenerationSummary, OpenAnnotations};
use crate::trace::index::GenerationEnd;
use crate::trace::{Error, Input, SharedIndex, Trace};

/// How soon the ui shows a generation's summary decoded in the background:
/// summaries arrive many times a second while a big trace loads, and every
/// frame drawn meanwhile takes CPU from the decoding (under software GL a
/// whole-trace frame costs tens of milliseconds of rasterising). Waking the
/// ui at most this often while it fills in keeps the progress visible;
/// what the user waits for (the index, errors, detail for the view, the
/// last summary) wakes it at once. Measured on the 1 GB benchmark trace on
/// two cores under software GL: 250 ms made the overview 0.3 s later than
/// 1 s.
const BACKGROUND_REPAINT: Duration = Duration::from_millis(500);

/// Sends updates to the ui and wakes it.
pub(crate) struct Notifier {
    pub(crate) updates: Sender<Update>,
    /// Wakes the ui within the given time.
    pub(crate) repaint: Box<dyn Fn(Duration) + Send + Sync>,
    /// Where each generation's latency analysis goes, if anywhere, and
    /// the outliers its stitcher keeps already.
    pub(crate) latency: Option<(Sender<AnalysedGeneration>, Arc<OutlierFloor>)>,
}

impl Notifier {
    fn send(&self, update: Update) {
        let after = match &update {
            Update::Decoded { detail: None, .. } | Update::Outdated(_) => BACKGROUND_REPAINT,
            _ => Duration::ZERO,
        };
        self.send_within(update, after);
    }

    /// Sends `update` and wakes the ui within `after`.
    fn send_within(&self, update: Update, after: Duration) {
        // The ui may be gone (a new file opened); then nobody listens.
        if self.updates.send(update).is_ok() {
            (self.repaint)(after);
        }
    }
}

/// The schedule and the signal that it changed.
struct Shared {
    schedule: Mutex<Schedule>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Schedule> {
        self.schedule.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The worker thread's body.
pub(crate) fn run(
    (source, index): (Source, Arc<SharedIndex>),
    commands: Receiver<Command>,
    notifier: Notifier,
) {
    let input = match source {
        Source::File(path) => {
            Input::open(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
        }
        Source::Bytes(bytes) => Ok(Input::Owned(bytes)),
    };
    let input = match input {
        Ok(input) => input,
        Err(message) => {
            return notifier.send(Update::Failed {
                generation: None,
                message,
            });
        }
    };
    memory::tune_allocator();
    let release = |range| input.release(range);
    let opened = Trace::open_shared(&input, &release, &index);
    let trace = match opened {
        Ok(trace) => trace,
        Err(e) => {
            return notifier.send(Update::Failed {
                generation: None,
                message: e.to_string(),
            });
        }
    };
    let sizes: Vec<usize> = trace
        .index()
        .generations
        .iter()
        .map(|g| g.span.len())
        .collect();
    notifier.send(Update::Indexed {
        bands: bands::estimate(trace.index()),
        sizes: sizes.clone(),
    });
    let mut schedule = Schedule::new(sizes);
    if notifier.latency.is_some() {
        schedule.analyse();
    }
    // What the ui said while the index was built decides the first jobs.
    while let Ok(command) = commands.try_recv() {
        if !apply(command, &mut schedule) {
            return;
        }
    }
    let shared = Shared {
        schedule: Mutex::new(schedule),
        changed: Condvar::new(),
    };
    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| decode_loop(&trace, &shared, &notifier));
        }
        coordinate(&commands, &shared);
    });
}

/// Applies the ui's commands to the schedule until shutdown.
fn coordinate(commands: &Receiver<Command>, shared: &Shared) {
    while let Ok(command) = commands.recv() {
        let go_on = apply(command, &mut shared.lock());
        if !go_on {
            break;
        }
        shared.changed.notify_all();
    }
    shared.lock().shutdown = true;
    shared.changed.notify_all();
}

/// Applies one command of the ui to `schedule`; `false` to shut down.
fn apply(command: Command, schedule: &mut Schedule) -> bool {
    match command {
        Command::Wants { focus, detail } => schedule.set_wants(focus, detail),
        Command::Evicted(generation) => schedule.evicted(generation),
        Command::AnalysesFirst(first) => schedule.set_analyses_first(first),
        Command::Shutdown => return false,
    }
    true
}

/// One pool thread: takes jobs until shutdown.
fn decode_loop(trace: &Trace<'_>, shared: &Shared, notifier: &Notifier) {
    let mut last_analysis = None;
    while let Some(job) = next_job(shared) {
        let g = job.generation;
        // Analyses and decodes leave the heap in different shapes (an
        // analysis needs a fraction of a decode's): what the jobs of the
        // other kind freed goes back to the OS first.
        if last_analysis.replace(job.analysis) == Some(!job.analysis) {
            memory::trim_heap();
        }
        if let (true, Some((tx, floor))) = (job.analysis, &notifier.latency) {
            // The ui may be gone; then nobody listens (the analysis gave
            // its pages back).
            let _ = tx.send(analyse(trace, g, floor));
            shared.lock().analysed(&job);
            shared.changed.notify_all();
            continue;
        }
        let open = job.open.clone().unwrap_or_default();
        let result = decode(trace, &job, &open);
        trace.release_generation(g);
        if job.detail.is_some() {
            // Detail decodes come one after the other while the user pans,
            // so this thread may never run out of work: what this one freed
            // goes back to the OS now.
            memory::trim_heap();
        }
        let (result, edges) = match result {
            Ok((summary, model, edges)) => (Ok((summary, model)), Some(edges)),
            Err(message) => (Err(message), None),
        };
        // The updates go out under the schedule's lock, so the ui learns
        // that a generation is outdated only after its summary.
        let mut schedule = shared.lock();
        let finished = schedule.finish(&job, edges);
        match result {
            Ok((summary, model)) => {
                let detail = model.filter(|_| finished.send_detail).map(Box::new);
                let update = Update::Decoded {
                    generation: g,
                    summary: summary.map(Box::new),
                    detail,
                };
                match finished.whole {
                    // The last piece of the overview: the user waits for it.
                    true => notifier.send_within(update, Duration::ZERO),
                    false => notifier.send(update),
                }
            }
            Err(message) => notifier.send(Update::Failed {
                generation: Some(g),
                message,
            }),
        }
        // Possibly this very generation.
        for &generation in &finished.outdated {
            notifier.send(Update::Outdated(generation));
        }
        drop(schedule);
        shared.changed.notify_all();
        if let (true, Some(GenerationEnd::CompleteThenError(e))) = (
            finished.first,
            trace.index().generations.get(g).map(|index| &index.end),
        ) {
            notifier.send(Update::Failed {
                generation: Some(g),
                message: format!("after this generation: {e}"),
            });
        }
    }
}

/// Waits for a job; `None` at shutdown.
///
/// The heap freed by the decodes is given back to the OS only when the
/// thread runs out of work: between two jobs the next one reuses it, which
/// spares faulting in a generation's worth of fresh pages per job.
fn next_job(shared: &Shared) -> Option<Job> {
    let mut schedule = shared.lock();
    let mut trimmed = false;
    loop {
        if schedule.shutdown {
            return None;
        }
        if let Some(job) = schedule.next() {
            return Some(job);
        }
        schedule = if trimmed {
            shared
                .changed
                .wait(schedule)
                .unwrap_or_else(PoisonError::into_inner)
        } else {
            // Out of work: trim without the lock, then look again, since
            // a job may have come in meanwhile.
            drop(schedule);
            memory::trim_heap();
            trimmed = true;
            shared.lock()
        };
    }
}

/// The latency analysis of generation `g`, keeping no outlier under
/// `floor`; a decoder panic loses it.
fn analyse(trace: &Trace<'_>, g: usize, floor: &OutlierFloor) -> AnalysedGeneration {
    let part = GenerationLatency::new(OUTLIERS_KEPT).above(floor);
    let (part, error) = match catch_unwind(AssertUnwindSafe(|| part.analyse(trace, g))) {
        Ok((part, error)) => (part, error.map(|e| e.to_string())),
        Err(panic) => {
            trace.release_generation(g);
            (None, Some(panic_message(panic.as_ref())))
        }
    };
    AnalysedGeneration {
        generation: g,
        part,
        error,
    }
}

/// What a decode made: the generation's summary (unless a detail decode
/// was told the ui has it) and, if a window was wanted in detail, its
/// model over that window, with the generation's annotation edges.
type Decoded = (
    Option<GenerationSummary>,
    Option<GenerationModel>,
    AnnotationEdges,
);

/// Decodes `job`'s generation, which started with the regions and tasks
/// of `open` in progress, into its summary (if the job wants it) and, if
/// the job wants a window in detail, its full model over that window; a
/// decoder panic becomes an error.
fn decode(trace: &Trace<'_>, job: &Job, open: &OpenAnnotations) -> Result<Decoded, String> {
    let g = job.generation;
    let decoded = catch_unwind(AssertUnwindSafe(|| {
        let failed = |e: Error| Err(e.to_string());
        let empty = || model::build(std::iter::empty());
        let none = || AnnotationEdges::default();
        let summary = |model: GenerationModel| job.summarize.then(|| model.summarize());
        match job.detail {
            Some(window) => match model::build_window(trace, g, open, window, job.summarize) {
                None => Ok((summary(empty()), Some(empty()), none())),
                Some((summary, model, edges, None)) => Ok((summary, Some(model), edges)),
                Some((.., Some(e))) => failed(e),
            },
            None => match model::summarize_generation(trace, g, open) {
                None => Ok((Some(empty().summarize()), None, none())),
                Some((summary, edges, None)) => Ok((Some(summary), None, edges)),
                Some((_, _, Some(e))) => failed(e),
            },
        }
    }));
    decoded.unwrap_or_else(|panic| Err(panic_message(panic.as_ref())))
}

/// What to say of a decoder panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let why = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("the decoder failed on this generation: {why}")
}
