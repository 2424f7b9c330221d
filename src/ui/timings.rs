//! `gotv --timings FILE`: when the window reached each stage of loading a
//! trace, on standard error.
//!
//! Loading a large trace takes seconds, in stages the user sees one after
//! the other: the first frame (time axis and generation bands), the whole
//! overview, the latency outliers, the goroutine statistics. How long each
//! takes on a given machine and trace is what a performance report needs,
//! measured in the real window rather than estimated from a benchmark, so
//! the app notes each stage the first time a frame sees it reached. Times
//! count from when the command line was read, before the window opened;
//! with each comes the number of frames drawn until then, since every
//! frame drawn while loading takes CPU from the decoding.

use std::time::Instant;

use super::analysis_task::AnalysisState;
use super::session::Session;

/// The stages, in the order they are usually reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    FirstFrame,
    Overview,
    Latencies,
    Statistics,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::FirstFrame => "first frame",
            Stage::Overview => "overview decoded",
            Stage::Latencies => "latency outliers",
            Stage::Statistics => "goroutine statistics",
        }
    }
}

/// The stages reached so far, when the clock started and the frames drawn.
#[derive(Debug)]
pub(crate) struct Timings {
    started: Instant,
    reached: Vec<Stage>,
    frames: u64,
}

impl Timings {
    /// Counting from `started`.
    pub(crate) fn new(started: Instant) -> Self {
        Self {
            started,
            reached: Vec::new(),
            frames: 0,
        }
    }

    /// Notes the stages `session` (the trace on screen, if any) reached by
    /// the end of a frame.
    pub(crate) fn frame(&mut self, session: Option<&Session>) {
        self.frames += 1;
        self.reach(Stage::FirstFrame);
        let Some(session) = session else { return };
        if session.worker.progress().is_complete() {
            self.reach(Stage::Overview);
        }
        if let AnalysisState::Done { complete, .. } = session.analysis.state() {
            self.reach(Stage::Latencies);
            if *complete {
                self.reach(Stage::Statistics);
            }
        }
    }

    fn reach(&mut self, stage: Stage) {
        if !self.reached.contains(&stage) {
            self.reached.push(stage);
            let secs = self.started.elapsed().as_secs_f64();
            let (name, frames) = (stage.name(), self.frames);
            eprintln!("gotv: {name} after {secs:.2} s ({frames} frames)");
        }
    }
}
