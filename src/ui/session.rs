//! A trace on screen: what the opener learned about the file, and the
//! worker that decodes it and answers the lanes' draw queries.
//!
//! Opening runs two things at once on other threads: the opener checks the
//! file (header, index, damage — the words an error needs) and the worker
//! opens it to send the generation bands. Whichever comes first indexes the
//! file for both (a [`SharedIndex`]: indexing touches every page of the
//! file, about 0.15 s of CPU for a gigabyte, which every later pass over it
//! — the analysis, the filter's scans — also saves), and the trace is shown
//! as soon as both answered, with the axis and bands in its first frame.
//! Until then the previous trace stays on screen, so a reload (F5) keeps
//! the user's place, and a newer open drops the older one with its worker
//! thread. The trace analysis (outliers, goroutine statistics)
//! starts with the open too: the worker analyses each generation's
//! latencies as it decodes it and sends them to the analysis task, which
//! stitches them and runs the statistics pass on threads of its own; it
//! stops with the open, and so do the goroutine filter's scans.

use std::sync::Arc;

use super::analysis_task::AnalysisTask;
use super::filter_scan::FilterScans;
use super::open::{Loaded, Source};
use crate::analysis::OutlierFloor;
use crate::trace::SharedIndex;
use crate::worker::{self, Worker};

/// A trace being shown.
pub(crate) struct Session {
    /// What the opener found.
    pub(crate) loaded: Loaded,
    /// Decodes it and answers draw queries.
    pub(crate) worker: Worker,
    /// Outliers and goroutine statistics, computed in the background.
    pub(crate) analysis: AnalysisTask,
    /// The goroutine filter's `stack:` and `state:` scans of this trace.
    pub(crate) filter_scans: FilterScans,
}

/// A trace being opened: its worker started, the opener's answer maybe in.
pub(crate) struct Incoming {
    /// Where it comes from.
    pub(crate) source: Source,
    /// When opening began, in egui's input time (seconds).
    pub(crate) started: f64,
    worker: Worker,
    analysis: AnalysisTask,
    loaded: Option<Loaded>,
}

impl Incoming {
    /// Starts the worker on `source`, with the latency analyses before the
    /// overview if `analyses_first` (see [`Worker::set_analyses_first`]);
    /// it wakes `ctx` when something arrives. The file's `index` is
    /// shared with the opener checking it.
    pub(crate) fn start(
        (source, index): (Source, Arc<SharedIndex>),
        ctx: &egui::Context,
        analyses_first: bool,
    ) -> Self {
        let wake = ctx.clone();
        let (latency_tx, latency_rx) = crossbeam_channel::unbounded();
        let floor = Arc::new(OutlierFloor::default());
        let repaint = move |after| wake.request_repaint_after(after);
        let mut worker = Worker::start_analysing(
            (worker_source(&source), Arc::clone(&index)),
            repaint,
            latency_tx,
            Arc::clone(&floor),
        );
        worker.set_analyses_first(analyses_first);
        let wake = ctx.clone();
        let analysis = AnalysisTask::start((&source, index), (latency_rx, floor), move |after| {
            wake.request_repaint_after(after)
        });
        Self {
            source,
            started: ctx.input(|i| i.time),
            worker,
            analysis,
            loaded: None,
        }
    }

    /// The opener accepted the file.
    pub(crate) fn accept(&mut self, loaded: Loaded) {
        self.loaded = Some(loaded);
    }

    /// Takes in the worker's news; returns whether the trace can be shown:
    /// the opener accepted the file and the worker has the bands (or gave up).
    pub(crate) fn poll(&mut self) -> bool {
        self.worker.poll();
        let indexed = !self.worker.timeline().generations.is_empty();
        let failed = self.worker.errors().iter().any(|e| e.generation.is_none());
        self.loaded.is_some() && (indexed || failed)
    }

    /// The session to show, once the opener accepted the file.
    pub(crate) fn into_session(self) -> Option<Session> {
        Some(Session {
            loaded: self.loaded?,
            worker: self.worker,
            analysis: self.analysis,
            filter_scans: FilterScans::default(),
        })
    }
}

/// What the worker reads for `source`.
fn worker_source(source: &Source) -> worker::Source {
    match source {
        Source::Bundled => worker::Source::Bytes(super::open::SAMPLE.to_vec()),
        Source::File(path) => worker::Source::File(path.clone()),
    }
}
