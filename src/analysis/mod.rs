//! Trace analyses computed in one streaming pass: latency outliers and
//! profiles, per-start-function goroutine statistics and mutator
//! utilisation.
//!
//! The layer sits on [`trace`](crate::trace) only and knows nothing of the
//! GUI. Feeding the events of [`Trace::for_each_event`] to an [`Analyzer`],
//! in order, gives an [`Analysis`]; the whole-trace stream is what stitches
//! intervals crossing generation boundaries (see `latency.rs`). Memory stays
//! bounded: what is open at a time, the requested number of outliers per
//! kind, log-scaled histograms, a trie of the distinct wait stacks (capped),
//! one record per goroutine start function, a small fixed-size record per
//! goroutine (40 bytes), and the change points of the mutator utilisation.
//!
//! Modules (private; their types are re-exported here):
//!
//! - `latency`: scheduler, block, syscall, region, task, stop-the-world and
//!   mark-assist intervals, their outliers and distributions;
//! - `profile`: the stacks where scheduler waits, blocking and syscalls
//!   began, for flame graphs;
//! - `goroutines`: time split per start function, as Go's summary does it;
//! - `mmu`: the mutator utilisation function and its minimum over windows;
//! - `stitch`: the latency analysis of generations decoded apart, on
//!   several cores, joined in order;
//! - `step`: the part of an event the analyses read;
//! - `histogram`, `topk`, `labels`: the bounded-memory building blocks.

mod goroutines;
mod histogram;
mod labels;
mod latency;
mod mmu;
mod profile;
mod step;
mod stitch;
mod topk;

use crate::trace::{Error, Event, Trace};

pub use goroutines::{GoroutineTimes, PerGoroutine, StartFunction, Stat};
pub use histogram::{Bin, LogHistogram};
pub use labels::{Label, Labels};
pub use latency::{Interval, Latencies, LatencyKind};
pub use mmu::{MutatorUtilization, UtilFlags, UtilPoint};
pub use profile::{Frame, PROFILED, Profile, StackId, Weight};
pub use stitch::{GenerationLatency, LatencyStitcher, OutlierFloor, analyze_latency};

use goroutines::GoroutineTracker;
use latency::LatencyTracker;
use mmu::UtilTracker;
use profile::ProfileBuilder;
use step::Step;

/// Longest intervals the viewer keeps per latency kind for its outlier
/// tables. Every
/// interval is counted in the histograms; only these are listed. Ten
/// thousand rows of seven kinds cost about 3 MB and fill any bin of the
/// tail a person would click, while the shortest bins of a busy trace
/// (millions of sub-microsecond waits) are summarised, not listed.
pub const OUTLIERS_KEPT: usize = 10_000;

/// What one pass over a trace found.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// Names that labels stand for.
    pub labels: Labels,
    /// Latency intervals: outliers and distributions.
    pub latencies: Latencies,
    /// Where goroutine waits began.
    pub profile: Profile,
    /// Goroutines per start function, by total execution time, longest first.
    pub start_functions: Vec<StartFunction>,
    /// Each goroutine's own totals, by ID.
    pub goroutines: PerGoroutine,
    /// Mutator utilisation over time, for MMU curves.
    pub utilization: MutatorUtilization,
}

/// The analyses a pass runs; the others give empty results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts {
    /// Latency intervals and the profiles of where waits began.
    pub latency: bool,
    /// Goroutine statistics per start function and per goroutine.
    pub goroutines: bool,
    /// Mutator utilisation.
    pub utilization: bool,
}

impl Parts {
    /// Every analysis.
    pub const ALL: Parts = Parts {
        latency: true,
        goroutines: true,
        utilization: true,
    };
}

/// The streaming analysis: feed it every event in order, then finish.
#[derive(Debug)]
pub struct Analyzer {
    parts: Parts,
    labels: Labels,
    latency: LatencyTracker,
    profile: ProfileBuilder,
    goroutines: GoroutineTracker,
    utilization: UtilTracker,
}

impl Analyzer {
    /// An analyzer keeping the `outliers` longest intervals of each kind,
    /// counting the GC activity `util` selects against the mutator.
    pub fn new(outliers: usize, util: UtilFlags) -> Analyzer {
        Analyzer::of(Parts::ALL, outliers, util)
    }

    /// [`Analyzer::new`] running only `parts` (a pass over a large trace
    /// costs a few seconds per part).
    pub fn of(parts: Parts, outliers: usize, util: UtilFlags) -> Analyzer {
        Analyzer {
            parts,
            labels: Labels::default(),
            latency: LatencyTracker::new(outliers),
            profile: ProfileBuilder::default(),
            goroutines: GoroutineTracker::default(),
            utilization: UtilTracker::new(util),
        }
    }

    /// Feeds the next event of the trace.
    pub fn event(&mut self, ev: &Event<'_>) {
        self.step(&Step::of(ev));
    }

    fn step(&mut self, step: &Step<'_>) {
        if self.parts.latency {
            self.latency.step(step, &mut self.labels, &mut self.profile);
        }
        if self.parts.goroutines {
            self.goroutines.step(step, &mut self.labels);
        }
        if self.parts.utilization {
            self.utilization.step(step);
        }
    }

    /// Ends the pass: intervals still open are dropped, live goroutines are
    /// counted up to the last event.
    pub fn finish(self) -> Analysis {
        let (start_functions, goroutines) = self.goroutines.finish();
        Analysis {
            profile: self.profile.finish(&self.labels),
            labels: self.labels,
            latencies: self.latency.finish(),
            start_functions,
            goroutines,
            utilization: self.utilization.finish(),
        }
    }
}

impl Analysis {
    /// This latency analysis with the goroutine statistics and mutator
    /// utilisation of `rest` (another pass over the same trace), whose
    /// labels are moved into this one's.
    pub fn with_rest(mut self, rest: Analysis) -> Analysis {
        let moved = self.labels.absorb(&rest.labels);
        self.start_functions = rest.start_functions;
        for f in &mut self.start_functions {
            f.name = moved.get(f.name);
            for (reason, _) in &mut f.block {
                *reason = moved.get(*reason);
            }
        }
        self.goroutines = rest.goroutines;
        self.utilization = rest.utilization;
        self
    }
}

/// Analyzes a whole trace, keeping `outliers` intervals per kind, with the
/// default [`UtilFlags`]. On a broken trace, the analysis of everything
/// before the fault comes with the error.
pub fn analyze(trace: &Trace<'_>, outliers: usize) -> (Analysis, Option<Error>) {
    analyze_parts(trace, Parts::ALL, outliers)
}

/// [`analyze`], running only `parts`.
pub fn analyze_parts(
    trace: &Trace<'_>,
    parts: Parts,
    outliers: usize,
) -> (Analysis, Option<Error>) {
    let mut analyzer = Analyzer::of(parts, outliers, UtilFlags::DEFAULT);
    let result = trace.for_each_event(|ev| analyzer.event(&ev));
    (analyzer.finish(), result.err())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{GoId, GoState, Time, Transition};
    use std::collections::HashMap;

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
    fn profiles_add_up_to_the_histograms() {
        for name in ["sample", "workload-go1.25"] {
            let a = analyze_file(name);
            for kind in LatencyKind::ALL {
                let h = a.latencies.histogram(kind);
                let total = a.profile.total(kind);
                let want = if PROFILED.contains(&kind) {
                    (h.sum(), h.count())
                } else {
                    (0, 0)
                };
                assert_eq!(
                    (i128::from(total.time), total.count),
                    want,
                    "{name} {kind:?}"
                );
                assert_eq!(a.profile.cut(kind), Weight::default());
            }
            let block: Time = a
                .latencies
                .outliers(LatencyKind::Block)
                .iter()
                .map(Interval::duration)
                .sum();
            assert!(block > 0, "{name}");
            assert_eq!(a.profile.total(LatencyKind::Block).time, block, "{name}");
        }
    }

    /// A frame as text: function, file, line.
    type TextFrame = (String, String, u64);

    /// The block profile computed straight from the events, independently
    /// of the analyzer: per goroutine, the frames (outermost first) of the
    /// event that made it wait, its time and count added to them at its
    /// next change of state.
    fn block_profile_of_events(trace: &Trace<'_>) -> HashMap<Vec<TextFrame>, Weight> {
        let mut waiting: HashMap<GoId, (Time, Vec<TextFrame>)> = HashMap::new();
        let mut profile: HashMap<Vec<TextFrame>, Weight> = HashMap::new();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let result = trace.for_each_event(|ev| {
            let Some(Transition::Goroutine { id, from, to }) =
                ev.state_transition().map(|st| st.transition)
            else {
                return;
            };
            if from == to {
                return;
            }
            if let Some((since, frames)) = waiting.remove(&id) {
                let w = profile.entry(frames).or_default();
                w.time += ev.time() - since;
                w.count += 1;
            }
            if to == GoState::Waiting && from != GoState::Undetermined {
                let mut frames: Vec<TextFrame> = ev
                    .stack()
                    .map(|s| {
                        s.frames()
                            .map(|f| (text(f.func), text(f.file), f.line))
                            .collect()
                    })
                    .unwrap_or_default();
                frames.reverse();
                waiting.insert(id, (ev.time(), frames));
            }
        });
        assert!(result.is_ok());
        profile
    }

    /// The call paths of a profile with the intervals of `kind` ending at
    /// each.
    fn own_weights(a: &Analysis, kind: LatencyKind) -> HashMap<Vec<TextFrame>, Weight> {
        let mut out = HashMap::new();
        let mut todo = vec![(StackId::ROOT, Vec::new())];
        while let Some((node, path)) = todo.pop() {
            let own = a.profile.own(node, kind);
            if own.count > 0 {
                out.insert(path.clone(), own);
            }
            for &child in a.profile.children(node) {
                let Some(f) = a.profile.frame(child) else {
                    continue;
                };
                let mut longer = path.clone();
                longer.push((a.labels.text(f.function), a.labels.text(f.file), f.line));
                todo.push((child, longer));
            }
        }
        out
    }

    #[test]
    fn the_block_profile_matches_the_stacks_of_the_events() {
        let name = "workload-go1.25";
        let path = format!(
            "{}/testdata/traces/{name}.trace",
            env!("CARGO_MANIFEST_DIR")
        );
        let data = std::fs::read(path).expect("test trace");
        let trace = Trace::open(&data).expect("valid trace");
        let want = block_profile_of_events(&trace);
        let got = own_weights(&analyze_file(name), LatencyKind::Block);
        assert!(want.len() > 3, "{want:?}");
        assert_eq!(got, want);
    }

    #[test]
    fn a_part_run_alone_finds_what_it_finds_with_the_others() {
        let data = std::fs::read(format!(
            "{}/testdata/traces/workload-go1.25.trace",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("test trace");
        let trace = Trace::open(&data).expect("valid trace");
        let all = analyze(&trace, usize::MAX).0;
        let only = |latency, goroutines, utilization| {
            let parts = Parts {
                latency,
                goroutines,
                utilization,
            };
            analyze_parts(&trace, parts, usize::MAX).0
        };
        let latency = only(true, false, false);
        for kind in LatencyKind::ALL {
            let text = |a: &Analysis| -> Vec<(GoId, Time, Time, String)> {
                let outliers = a.latencies.outliers(kind).into_iter();
                outliers
                    .map(|i| (i.goroutine, i.start, i.end, a.labels.text(i.label)))
                    .collect()
            };
            assert_eq!(text(&latency), text(&all), "{kind:?}");
        }
        assert!(latency.start_functions.is_empty() && latency.utilization.is_empty());
        let utilization = only(false, false, true);
        assert_eq!(utilization.utilization, all.utilization);
        assert!(!all.utilization.is_empty());
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
        }
    }
}
