//! The trace analysis ([`crate::analysis`]) of the trace being opened, run on
//! its own thread.
//!
//! The analysis reads every event of the trace once: seconds for a large
//! file, which must never be spent on the UI thread. It starts with the
//! opening of a trace (alongside the opener and the worker, see
//! `super::session`), reads the same bytes the session shows (the bundled
//! sample, or the file mapped again), and hands its result back through a
//! channel, waking the window. A newer open drops the task: the thread sees
//! the cancel flag at its next event and stops, so a superseded analysis
//! neither wastes a core for long nor lands on the wrong trace.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use crossbeam_channel::Receiver;

use super::open::{Source, with_trace};
use crate::analysis::{Analysis, Analyzer, UtilFlags};
use crate::trace::{Error, EventKind, Trace};

/// Longest intervals kept per latency kind for the outlier tables. Every
/// interval is counted in the histograms; only these are listed. Ten
/// thousand rows of seven kinds cost about 3 MB and fill any bin of the
/// tail a person would click, while the shortest bins of a busy trace
/// (millions of sub-microsecond waits) are summarised, not listed.
pub(crate) const OUTLIERS_KEPT: usize = 10_000;

/// Where the analysis of a trace is.
pub(crate) enum AnalysisState {
    /// Still reading the trace.
    Running,
    /// Done. `error` says why the analysis stops early (a damaged trace):
    /// what precedes the damage is analysed.
    Done {
        /// What the pass found.
        analysis: Arc<Analysis>,
        /// Why it stopped before the end, if it did.
        error: Option<String>,
    },
    /// The trace could not be read at all.
    Failed(String),
}

/// How soon the window shows the analysis' progress: the pass takes seconds
/// on a large trace, and each frame drawn meanwhile takes CPU from it and
/// from the timeline's decoding. Asked for with this delay, the repaint
/// coalesces with the worker's (which waits as long for background
/// summaries), so the window draws a few frames a second while loading.
const PROGRESS_WAKE: Duration = Duration::from_millis(250);

/// How far the pass is: generations read, of how many (0 until the trace
/// is open).
#[derive(Default)]
struct Generations {
    done: AtomicUsize,
    total: AtomicUsize,
}

/// The analysis of one trace, running or done.
pub(crate) struct AnalysisTask {
    rx: Receiver<AnalysisState>,
    state: AnalysisState,
    /// Set when the task is dropped: the thread stops at its next event.
    cancel: Arc<AtomicBool>,
    progress: Arc<Generations>,
}

impl AnalysisTask {
    /// Starts analysing `source`; `wake` asks for a repaint within the given
    /// time: at once when the result is in, within [`PROGRESS_WAKE`] as the
    /// pass advances.
    pub(crate) fn start(source: &Source, wake: impl Fn(Duration) + Send + 'static) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Generations::default());
        let source = source.clone();
        let (stop, shared) = (Arc::clone(&cancel), Arc::clone(&progress));
        thread::spawn(move || {
            yield_to_the_timeline();
            let result = run(&source, &stop, &shared, &wake);
            if !stop.load(Ordering::Relaxed) && tx.send(result).is_ok() {
                wake(Duration::ZERO);
            }
        });
        Self {
            rx,
            state: AnalysisState::Running,
            cancel,
            progress,
        }
    }

    /// Generations read so far and in all, while the pass runs (`None`
    /// before the trace is open).
    pub(crate) fn progress(&self) -> Option<(usize, usize)> {
        let total = self.progress.total.load(Ordering::Relaxed);
        let done = self.progress.done.load(Ordering::Relaxed);
        (total > 0).then_some((done.min(total), total))
    }

    /// Takes in the result if it arrived; returns the current state.
    pub(crate) fn poll(&mut self) -> &AnalysisState {
        if let Ok(state) = self.rx.try_recv() {
            self.state = state;
        }
        &self.state
    }

    /// The current state, as of the last [`Self::poll`].
    pub(crate) fn state(&self) -> &AnalysisState {
        &self.state
    }

    /// The analysis, once done.
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

/// Reads `source` and analyses it, unless `cancel` is set first, counting
/// the generations read in `progress` and waking the window for them.
fn run(
    source: &Source,
    cancel: &AtomicBool,
    progress: &Generations,
    wake: &impl Fn(Duration),
) -> AnalysisState {
    let analyzer = Analyzer::new(OUTLIERS_KEPT, UtilFlags::DEFAULT);
    let analyse = |trace: &Trace<'_>| {
        let total = trace.index().generations.len();
        progress.total.store(total, Ordering::Relaxed);
        run_analyzer(trace, analyzer, cancel, |done| {
            progress.done.store(done, Ordering::Relaxed);
            wake(PROGRESS_WAKE);
        })
    };
    match with_trace(source, analyse) {
        Ok((analysis, error)) => AnalysisState::Done {
            analysis: Arc::new(analysis),
            error: error.map(|e| e.to_string()),
        },
        Err(message) => AnalysisState::Failed(message),
    }
}

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
    use std::time::Instant;

    #[test]
    fn analyses_the_bundled_sample_off_thread() {
        let (woke, woken) = crossbeam_channel::bounded(1);
        let mut task = AnalysisTask::start(&Source::Bundled, move |_| {
            let _ = woke.try_send(());
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        while matches!(task.poll(), AnalysisState::Running) && Instant::now() < deadline {
            let _ = woken.recv_timeout(Duration::from_millis(100));
        }
        assert_eq!(task.progress(), Some((8, 8)), "every generation read");
        match task.poll() {
            AnalysisState::Done { analysis, error } => {
                assert!(error.is_none(), "{error:?}");
                assert!(!analysis.start_functions.is_empty());
            }
            AnalysisState::Running | AnalysisState::Failed(_) => panic!("not done"),
        }
    }

    #[test]
    fn a_missing_file_fails_in_words() {
        let (woke, woken) = crossbeam_channel::bounded(1);
        let source = Source::File("/nonexistent/gotv.trace".into());
        let mut task = AnalysisTask::start(&source, move |_| {
            let _ = woke.try_send(());
        });
        assert!(woken.recv_timeout(Duration::from_secs(60)).is_ok());
        assert!(matches!(task.poll(), AnalysisState::Failed(m) if m.contains("Cannot read")));
    }
}
