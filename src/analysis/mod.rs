//! Trace analyses computed in one streaming pass: latency outliers,
//! per-start-function goroutine statistics and mutator utilisation.
//!
//! The layer sits on [`trace`](crate::trace) only and knows nothing of the
//! GUI. Feeding the events of [`Trace::for_each_event`] to an [`Analyzer`],
//! in order, gives an [`Analysis`]; the whole-trace stream is what stitches
//! intervals crossing generation boundaries (see `latency.rs`). Memory stays
//! bounded: what is open at a time, the requested number of outliers per
//! kind, log-scaled histograms, one record per goroutine start function, and
//! the change points of the mutator utilisation.
//!
//! Modules (private; their types are re-exported here):
//!
//! - `latency`: scheduler, block, syscall, region, task, stop-the-world and
//!   mark-assist intervals, their outliers and distributions;
//! - `goroutines`: time split per start function, as Go's summary does it;
//! - `mmu`: the mutator utilisation function and its minimum over windows;
//! - `step`: the part of an event the analyses read;
//! - `histogram`, `topk`, `labels`: the bounded-memory building blocks.

mod goroutines;
mod histogram;
mod labels;
mod latency;
mod mmu;
mod step;
mod topk;

use crate::trace::{Error, Event, Trace};

pub use goroutines::{StartFunction, Stat};
pub use histogram::{Bin, LogHistogram};
pub use labels::{Label, Labels};
pub use latency::{Interval, Latencies, LatencyKind};
pub use mmu::{MutatorUtilization, UtilFlags, UtilPoint};

use goroutines::GoroutineTracker;
use latency::LatencyTracker;
use mmu::UtilTracker;
use step::Step;

/// What one pass over a trace found.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// Names that labels stand for.
    pub labels: Labels,
    /// Latency intervals: outliers and distributions.
    pub latencies: Latencies,
    /// Goroutines per start function, by total execution time, longest first.
    pub start_functions: Vec<StartFunction>,
    /// Mutator utilisation over time, for MMU curves.
    pub utilization: MutatorUtilization,
}

/// The streaming analysis: feed it every event in order, then finish.
#[derive(Debug)]
pub struct Analyzer {
    labels: Labels,
    latency: LatencyTracker,
    goroutines: GoroutineTracker,
    utilization: UtilTracker,
}

impl Analyzer {
    /// An analyzer keeping the `outliers` longest intervals of each kind,
    /// counting the GC activity `util` selects against the mutator.
    pub fn new(outliers: usize, util: UtilFlags) -> Analyzer {
        Analyzer {
            labels: Labels::default(),
            latency: LatencyTracker::new(outliers),
            goroutines: GoroutineTracker::default(),
            utilization: UtilTracker::new(util),
        }
    }

    /// Feeds the next event of the trace.
    pub fn event(&mut self, ev: &Event<'_>) {
        self.step(&Step::of(ev));
    }

    fn step(&mut self, step: &Step<'_>) {
        self.latency.step(step, &mut self.labels);
        self.goroutines.step(step, &mut self.labels);
        self.utilization.step(step);
    }

    /// Ends the pass: intervals still open are dropped, live goroutines are
    /// counted up to the last event.
    pub fn finish(self) -> Analysis {
        Analysis {
            labels: self.labels,
            latencies: self.latency.finish(),
            start_functions: self.goroutines.finish(),
            utilization: self.utilization.finish(),
        }
    }
}

/// Analyzes a whole trace, keeping `outliers` intervals per kind, with the
/// default [`UtilFlags`]. On a broken trace, the analysis of everything
/// before the fault comes with the error.
pub fn analyze(trace: &Trace<'_>, outliers: usize) -> (Analysis, Option<Error>) {
    let mut analyzer = Analyzer::new(outliers, UtilFlags::DEFAULT);
    let result = trace.for_each_event(|ev| analyzer.event(&ev));
    (analyzer.finish(), result.err())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Time;

    fn analyze_file(name: &str) -> Analysis {
        let path = format!(
            "{}/testdata/traces/{name}.trace",
            env!("CARGO_MANIFEST_DIR")
        );
        let data = std::fs::read(path).expect("test trace");
        let trace = Trace::open(&data).expect("valid trace");
        let (analysis, error) = analyze(&trace, usize::MAX);
        assert!(error.is_none(), "{error:?}");
        analysis
    }

    #[test]
    fn goroutine_time_adds_up_to_lifetimes() {
        let a = analyze_file("workload-go1.25");
        let main = a
            .start_functions
            .iter()
            .find(|g| a.labels.bytes(g.name) == b"main.main");
        assert_eq!(main.map(|g| g.count), Some(1));
        for g in &a.start_functions {
            let blocked: Time = g.block.iter().map(|(_, s)| s.total).sum();
            let split = g.exec.total
                + g.sched_wait.total
                + g.syscall.total
                + g.syscall_block.total
                + blocked;
            assert_eq!(split, g.lifetime.total, "{}", a.labels.text(g.name));
            assert!(g.exec.max <= g.exec.total && g.exec.mean(g.count) <= g.exec.max);
        }
    }

    #[test]
    fn histograms_count_every_interval_kept() {
        let a = analyze_file("sample");
        for kind in LatencyKind::ALL {
            let outliers = a.latencies.outliers(kind);
            let h = a.latencies.histogram(kind);
            assert_eq!(outliers.len() as u64, h.count(), "{kind:?}");
            assert_eq!(
                outliers.first().map(Interval::duration),
                h.count().gt(&0).then(|| h.max())
            );
            let per_label: u64 = a.latencies.by_label(kind).map(|(_, h)| h.count()).sum();
            assert_eq!(per_label, h.count());
        }
    }
}
