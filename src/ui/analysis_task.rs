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
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use crossbeam_channel::Receiver;

use super::open::{Source, with_trace};
use crate::analysis::{Analysis, Analyzer, UtilFlags};
use crate::trace::{Error, Trace};

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

/// The analysis of one trace, running or done.
pub(crate) struct AnalysisTask {
    rx: Receiver<AnalysisState>,
    state: AnalysisState,
    /// Set when the task is dropped: the thread stops at its next event.
    cancel: Arc<AtomicBool>,
}

impl AnalysisTask {
    /// Starts analysing `source`; `wake` is called when the result is in.
    pub(crate) fn start(source: &Source, wake: impl FnOnce() + Send + 'static) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let cancel = Arc::new(AtomicBool::new(false));
        let source = source.clone();
        let stop = Arc::clone(&cancel);
        thread::spawn(move || {
            yield_to_the_timeline();
            let result = run(&source, &stop);
            if !stop.load(Ordering::Relaxed) && tx.send(result).is_ok() {
                wake();
            }
        });
        Self {
            rx,
            state: AnalysisState::Running,
            cancel,
        }
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

/// Reads `source` and analyses it, unless `cancel` is set first.
fn run(source: &Source, cancel: &AtomicBool) -> AnalysisState {
    let analyzer = Analyzer::new(OUTLIERS_KEPT, UtilFlags::DEFAULT);
    match with_trace(source, |trace| run_analyzer(trace, analyzer, cancel)) {
        Ok((analysis, error)) => AnalysisState::Done {
            analysis: Arc::new(analysis),
            error: error.map(|e| e.to_string()),
        },
        Err(message) => AnalysisState::Failed(message),
    }
}

/// Feeds every event of `trace` to `analyzer` until the end, the damage
/// (returned with what precedes it analysed) or `cancel`.
pub(crate) fn run_analyzer(
    trace: &Trace<'_>,
    mut analyzer: Analyzer,
    cancel: &AtomicBool,
) -> (Analysis, Option<Error>) {
    let result = trace.try_for_each_event(|ev| {
        if cancel.load(Ordering::Relaxed) {
            return ControlFlow::Break(());
        }
        analyzer.event(&ev);
        ControlFlow::Continue(())
    });
    (analyzer.finish(), result.err())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn analyses_the_bundled_sample_off_thread() {
        let (woke, woken) = crossbeam_channel::bounded(1);
        let mut task = AnalysisTask::start(&Source::Bundled, move || {
            let _ = woke.send(());
        });
        assert!(woken.recv_timeout(Duration::from_secs(60)).is_ok());
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
        let mut task = AnalysisTask::start(&source, move || {
            let _ = woke.send(());
        });
        assert!(woken.recv_timeout(Duration::from_secs(60)).is_ok());
        assert!(matches!(task.poll(), AnalysisState::Failed(m) if m.contains("Cannot read")));
    }
}
