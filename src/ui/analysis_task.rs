//! The trace analysis ([`crate::analysis`]) of the trace being opened, run
//! off the UI thread.
//!
//! The analysis reads every event of the trace: seconds for a large file,
//! which must never be spent on the UI thread. It comes in two parts.
//! The latencies (outliers, profiles), most of the cost, are analysed
//! generation by generation by the worker on all its cores (once the
//! timeline's overview is decoded, or before it while the outliers are
//! shown); this task's thread stitches them in trace order
//! ([`LatencyStitcher`]) and hands the result over as soon as every
//! generation is in. The goroutine statistics and the mutator utilisation
//! follow from a pass of their own over the trace, which begins once the
//! overview is decoded ([`AnalysisTask::overview_decoded`]), at a lower
//! priority, and complete the analysis.
//!
//! The task starts with the opening of a trace (alongside the opener and
//! the worker, see `super::session`), reads the same bytes the session
//! shows (the bundled sample, or the file mapped again), and hands its
//! results back through a channel, waking the window. A newer open drops
//! the task: its threads see the cancel flag and stop, so a superseded
//! analysis neither wastes a core for long nor lands on the wrong trace.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::analysis_panel::Tab;
use super::open::{Source, with_trace};
use crate::analysis::{
    Analysis, Analyzer, LatencyStitcher, OUTLIERS_KEPT, OutlierFloor, Parts, UtilFlags,
};
use crate::trace::{Error, EventKind, SharedIndex, Trace};
use crate::worker::AnalysedGeneration;

/// Where the analysis of a trace is.
pub(crate) enum AnalysisState {
    /// Still reading the trace.
    Running,
    /// The latencies are in. `error` says why the analysis stops early (a
    /// damaged trace): what precedes the damage is analysed.
    Done {
        /// What the analysis found.
        analysis: Arc<Analysis>,
        /// Why it stopped before the end, if it did.
        error: Option<String>,
        /// The goroutine statistics and the mutator utilisation are in
        /// too (until then they are empty).
        complete: bool,
    },
    /// The trace could not be read at all.
    Failed(String),
}

/// How soon the window shows the analysis' progress: the analysis takes
/// seconds on a large trace, and each frame drawn meanwhile takes CPU from
/// it (under software GL, a whole-window frame costs tens of milliseconds
/// of rasterizing). While the timeline loads, the worker's repaints come
/// sooner and this one coalesces with them; after that only the progress
/// bar changes, and a step a second is enough to see it move (measured on
/// the 1 GB trace: outliers in 11.5 s, against 12.0 s at four a second).
const PROGRESS_WAKE: Duration = Duration::from_secs(1);

/// How often the stitching thread looks at the cancel flag while it waits
/// for the worker.
const CANCEL_POLL: Duration = Duration::from_millis(100);

/// How far the analysis is: generations stitched, generations read by
/// the statistics pass, of how many (0 until the trace is open).
#[derive(Default)]
struct Generations {
    stitched: AtomicUsize,
    read: AtomicUsize,
    total: AtomicUsize,
}

/// The analysis of one trace, running or done.
pub(crate) struct AnalysisTask {
    rx: Receiver<AnalysisState>,
    state: AnalysisState,
    /// Set when the task is dropped: the threads stop.
    cancel: Arc<AtomicBool>,
    progress: Arc<Generations>,
    /// Lets the statistics pass begin.
    begin: Sender<()>,
}

impl AnalysisTask {
    /// Starts analysing `source` (with the file's shared index), whose
    /// worker sends each generation's latency analysis to `latency`; `wake`
    /// asks for a repaint within the given time: at once when a result is
    /// in, within [`PROGRESS_WAKE`] as the analysis advances.
    pub(crate) fn start(
        (source, index): (&Source, Arc<SharedIndex>),
        (latency, floor): (Receiver<AnalysedGeneration>, Arc<OutlierFloor>),
        wake: impl Fn(Duration) + Send + Sync + 'static,
    ) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Generations::default());
        let source = source.clone();
        let (stop, shared) = (Arc::clone(&cancel), Arc::clone(&progress));
        let (begin, begun) = crossbeam_channel::bounded::<()>(1);
        thread::spawn(move || {
            let tasks = Tasks {
                floor: &floor,
                cancel: &stop,
                progress: &shared,
                wake: &wake,
                results: &tx,
            };
            let analysed = with_trace(&source, &index, |trace| tasks.run(trace, &latency, &begun));
            if let Err(message) = analysed {
                tasks.send(AnalysisState::Failed(message));
            }
        });
        Self {
            rx,
            state: AnalysisState::Running,
            cancel,
            progress,
            begin,
        }
    }

    /// The timeline's overview is decoded: the statistics pass may begin
    /// (before, it would take CPU and memory from what the user waits for).
    pub(crate) fn overview_decoded(&self) {
        let _ = self.begin.try_send(());
    }

    /// Generations analysed so far and in all, while the analysis runs:
    /// those stitched until the latencies are in, then those the
    /// statistics pass read (`None` before the trace is open).
    pub(crate) fn progress(&self) -> Option<(usize, usize)> {
        let total = self.progress.total.load(Ordering::Relaxed);
        let counter = match self.state {
            AnalysisState::Running => &self.progress.stitched,
            _ => &self.progress.read,
        };
        let done = counter.load(Ordering::Relaxed);
        (total > 0).then_some((done.min(total), total))
    }

    /// What is being analysed, for the status bar.
    pub(crate) fn stage(&self) -> &'static str {
        match self.state {
            AnalysisState::Running => "latencies",
            _ => "goroutines",
        }
    }

    /// Whether the analysis is still going on.
    pub(crate) fn running(&self) -> bool {
        matches!(
            self.state,
            AnalysisState::Running
                | AnalysisState::Done {
                    complete: false,
                    ..
                }
        )
    }

    /// Takes in what arrived; returns the current state.
    pub(crate) fn poll(&mut self) -> &AnalysisState {
        while let Ok(state) = self.rx.try_recv() {
            self.state = state;
        }
        &self.state
    }

    /// The current state, as of the last [`Self::poll`].
    pub(crate) fn state(&self) -> &AnalysisState {
        &self.state
    }

    /// Whether what `tab` shows is in (or the analysis failed: the tab
    /// says so).
    pub(crate) fn ready_for(&self, tab: Tab) -> bool {
        match self.state {
            AnalysisState::Running => false,
            AnalysisState::Done { complete, .. } => complete || !tab.needs_statistics(),
            AnalysisState::Failed(_) => true,
        }
    }

    /// The analysis, once the latencies are in.
    pub(crate) fn analysis(&self) -> Option<&Arc<Analysis>> {
        match &self.state {
            AnalysisState::Done { analysis, .. } => Some(analysis),
            AnalysisState::Running | AnalysisState::Failed(_) => None,
        }
    }
}

impl Drop for AnalysisTask {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// What the analysis threads share.
struct Tasks<'a, W> {
    /// The outliers kept so far, for the worker.
    floor: &'a OutlierFloor,
    cancel: &'a AtomicBool,
    progress: &'a Generations,
    wake: &'a W,
    results: &'a Sender<AnalysisState>,
}

impl<W: Fn(Duration) + Sync> Tasks<'_, W> {
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Hands `state` to the window, unless cancelled, and wakes it.
    fn send(&self, state: AnalysisState) {
        if !self.cancelled() && self.results.send(state).is_ok() {
            (self.wake)(Duration::ZERO);
        }
    }

    /// Analyses `trace`: the statistics pass on a thread of its own, once
    /// `begun` says so, while this one stitches the worker's latency
    /// analyses.
    fn run(&self, trace: &Trace<'_>, latency: &Receiver<AnalysedGeneration>, begun: &Receiver<()>) {
        self.progress
            .total
            .store(trace.index().generations.len(), Ordering::Relaxed);
        thread::scope(|scope| {
            let statistics = scope.spawn(move || {
                yield_to_the_timeline();
                while !self.cancelled()
                    && begun.recv_timeout(CANCEL_POLL) == Err(RecvTimeoutError::Timeout)
                {
                }
                let parts = Parts {
                    latency: false,
                    goroutines: true,
                    utilization: true,
                };
                let analyzer = Analyzer::of(parts, 0, UtilFlags::DEFAULT);
                run_analyzer(trace, analyzer, self.cancel, |done| {
                    self.progress.read.store(done, Ordering::Relaxed);
                    (self.wake)(PROGRESS_WAKE);
                })
            });
            let Some((latencies, error)) = self.stitch(trace, latency) else {
                return;
            };
            let latencies = Arc::new(latencies);
            self.send(AnalysisState::Done {
                analysis: Arc::clone(&latencies),
                error: error.clone(),
                complete: false,
            });
            let Ok((rest, rest_error)) = statistics.join() else {
                return;
            };
            let analysis = Arc::unwrap_or_clone(latencies).with_rest(rest);
            self.send(AnalysisState::Done {
                analysis: Arc::new(analysis),
                error: error.or_else(|| rest_error.map(|e| e.to_string())),
                complete: true,
            });
        });
    }

    /// Stitches the latency analyses of every generation of `trace` as the
    /// worker sends them (analysing again any it must): `None` if
    /// cancelled, else the latencies and why they end early, if they do.
    fn stitch(
        &self,
        trace: &Trace<'_>,
        latency: &Receiver<AnalysedGeneration>,
    ) -> Option<(Analysis, Option<String>)> {
        let total = trace.index().generations.len();
        let mut stitcher = LatencyStitcher::new(OUTLIERS_KEPT);
        let mut errors: Vec<(usize, String)> = Vec::new();
        loop {
            let (done, ended) = stitcher.progress();
            if ended || done >= total {
                break;
            }
            if self.cancelled() {
                return None;
            }
            match latency.recv_timeout(CANCEL_POLL) {
                Ok(analysed) => {
                    if let Some(error) = analysed.error {
                        errors.push((analysed.generation, error));
                    }
                    stitcher.take(analysed.generation, analysed.part, trace, self.floor);
                    let (stitched, _) = stitcher.progress();
                    self.progress.stitched.store(stitched, Ordering::Relaxed);
                    (self.wake)(PROGRESS_WAKE);
                }
                Err(RecvTimeoutError::Timeout) => {}
                // The worker stopped: what is stitched is all there is.
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let (done, _) = stitcher.progress();
        let error = errors
            .into_iter()
            .filter(|&(g, _)| g <= done)
            .min_by_key(|&(g, _)| g)
            .map(|(_, e)| e);
        Some((stitcher.finish(), error))
    }
}

/// Nice value of the analysis threads (the helper thread the reader starts
/// inherits it): the timeline's decoding threads come first, so the whole
/// trace is on screen sooner, and the analysis takes the cores they leave.
#[cfg(target_os = "linux")]
const ANALYSIS_NICE: libc::c_int = 10;

/// Lowers the calling thread's scheduling priority to [`ANALYSIS_NICE`].
#[cfg(target_os = "linux")]
fn yield_to_the_timeline() {
    // SAFETY: gettid has no preconditions; setpriority on our own thread
    // only changes its nice value (Linux applies it per thread), and a
    // failure just leaves the priority as it was.
    unsafe {
        let tid = libc::gettid();
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, ANALYSIS_NICE);
    }
}

/// Elsewhere the analysis runs at normal priority.
#[cfg(not(target_os = "linux"))]
fn yield_to_the_timeline() {}

/// Feeds every event of `trace` to `analyzer` until the end, the damage
/// (returned with what precedes it analysed) or `cancel`; `read` learns how
/// many generations were read whenever one more is.
pub(crate) fn run_analyzer(
    trace: &Trace<'_>,
    mut analyzer: Analyzer,
    cancel: &AtomicBool,
    mut read: impl FnMut(usize),
) -> (Analysis, Option<Error>) {
    // A Sync event begins each generation (and Go 1.25+ ends the trace
    // with one): the first is generation 0 starting.
    let mut syncs = 0;
    let result = trace.try_for_each_event(|ev| {
        if cancel.load(Ordering::Relaxed) {
            return ControlFlow::Break(());
        }
        if ev.kind() == EventKind::Sync {
            if syncs > 0 {
                read(syncs);
            }
            syncs += 1;
        }
        analyzer.event(&ev);
        ControlFlow::Continue(())
    });
    (analyzer.finish(), result.err())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{LatencyKind, analyze};
    use crate::worker::{self, Worker};
    use std::time::Instant;

    /// The outliers of every kind, as text.
    fn outliers(a: &Analysis) -> Vec<Vec<(i64, i64, i64, String)>> {
        let text =
            |i: &crate::analysis::Interval| (i.goroutine, i.start, i.end, a.labels.text(i.label));
        let kinds = LatencyKind::ALL.into_iter();
        kinds
            .map(|k| a.latencies.outliers(k).iter().map(text).collect())
            .collect()
    }

    /// Runs a worker analysing `source` (as `bytes` for it) and the
    /// analysis task until the analysis is done, telling the task when the
    /// overview is decoded as the app does; returns the task and whether
    /// the latencies came before the rest.
    fn analysed(source: &Source, bytes: worker::Source) -> (AnalysisTask, bool) {
        let (woke, woken) = crossbeam_channel::bounded(1);
        let (parts, latency) = crossbeam_channel::unbounded();
        let floor = Arc::new(OutlierFloor::default());
        // One index for both, as the app shares it.
        let index = Arc::<SharedIndex>::default();
        let bytes = (bytes, Arc::clone(&index));
        let mut worker = Worker::start_analysing(bytes, |_| {}, parts, Arc::clone(&floor));
        let mut task = AnalysisTask::start((source, index), (latency, floor), move |_| {
            let _ = woke.try_send(());
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut latencies_first = false;
        while task.running() && Instant::now() < deadline {
            let _ = woken.recv_timeout(Duration::from_millis(100));
            worker.poll();
            if worker.progress().is_complete() {
                task.overview_decoded();
            }
            task.poll();
            latencies_first |= !task.ready_for(Tab::Goroutines) && task.analysis().is_some();
        }
        drop(worker);
        (task, latencies_first)
    }

    /// The whole analysis and why it ends early, once done.
    fn complete(task: &mut AnalysisTask) -> (Arc<Analysis>, Option<String>) {
        match task.poll() {
            AnalysisState::Done {
                analysis,
                error,
                complete: true,
            } => (Arc::clone(analysis), error.clone()),
            _ => panic!("not done"),
        }
    }

    #[test]
    fn the_worker_s_latencies_and_the_statistics_pass_make_the_whole_analysis() {
        let bytes = worker::Source::Bytes(super::super::open::SAMPLE.to_vec());
        let (mut task, latencies_first) = analysed(&Source::Bundled, bytes);
        let trace = Trace::open(super::super::open::SAMPLE).expect("sample");
        let (want, _) = analyze(&trace, OUTLIERS_KEPT);
        let (analysis, error) = complete(&mut task);
        assert!(error.is_none(), "{error:?}");
        assert_eq!(outliers(&analysis), outliers(&want));
        let names = |a: &Analysis| -> Vec<(String, u64, i64)> {
            let f = a.start_functions.iter();
            f.map(|f| (a.labels.text(f.name), f.count, f.exec.total))
                .collect()
        };
        assert_eq!(names(&analysis), names(&want));
        assert!(!analysis.start_functions.is_empty());
        assert_eq!(analysis.goroutines, want.goroutines);
        assert_eq!(analysis.utilization, want.utilization);
        assert!(latencies_first, "the latencies came before the rest");
        assert_eq!(task.progress(), Some((8, 8)), "every generation read");
    }

    #[test]
    fn the_statistics_pass_waits_for_the_overview() {
        let (parts, latency) = crossbeam_channel::unbounded();
        let floor = Arc::new(OutlierFloor::default());
        let bytes = worker::Source::Bytes(super::super::open::SAMPLE.to_vec());
        let bytes = (bytes, Arc::default());
        let worker = Worker::start_analysing(bytes, |_| {}, parts, Arc::clone(&floor));
        let source = (&Source::Bundled, Arc::default());
        let mut task = AnalysisTask::start(source, (latency, floor), |_| {});
        let deadline = Instant::now() + Duration::from_secs(60);
        while task.analysis().is_none() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
            task.poll();
        }
        assert!(task.analysis().is_some(), "the latencies are in");
        // Never told the overview is decoded: nothing more comes.
        thread::sleep(Duration::from_millis(300));
        task.poll();
        assert!(!task.ready_for(Tab::Goroutines));
        assert_eq!(task.progress(), Some((0, 8)), "no generation read yet");
        task.overview_decoded();
        while task.running() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
            task.poll();
        }
        assert!(task.ready_for(Tab::Goroutines), "the statistics are in");
        drop(worker);
    }

    #[test]
    fn a_damaged_trace_is_analysed_up_to_the_damage() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/traces/truncated-go1.27.trace"
        );
        let bytes = worker::Source::File(path.into());
        let (mut task, _) = analysed(&Source::File(path.into()), bytes);
        let data = std::fs::read(path).expect("test trace");
        let (want, want_error) = analyze(&Trace::open(&data).expect("trace"), OUTLIERS_KEPT);
        let want_error = want_error.map(|e| e.to_string());
        assert!(want_error.is_some());
        let (analysis, error) = complete(&mut task);
        assert_eq!(outliers(&analysis), outliers(&want));
        assert_eq!(error, want_error);
    }

    #[test]
    fn a_missing_file_fails_in_words() {
        let (woke, woken) = crossbeam_channel::bounded(1);
        let source = Source::File("/nonexistent/gotv.trace".into());
        let (_parts, latency) = crossbeam_channel::unbounded();
        let floor = Arc::default();
        let mut task =
            AnalysisTask::start((&source, Arc::default()), (latency, floor), move |_| {
                let _ = woke.try_send(());
            });
        assert!(woken.recv_timeout(Duration::from_secs(60)).is_ok());
        assert!(matches!(task.poll(), AnalysisState::Failed(m) if m.contains("Cannot read")));
    }
}
