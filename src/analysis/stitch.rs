//! The latency analysis of generations decoded apart, stitched in order.
//!
//! The latency analysis is most of a pass's cost, and a trace's
//! generations can be decoded on their own (Go 1.22+): so each generation
//! is analysed apart, on whichever core decodes it (the worker's pool, or
//! [`analyze_latency`]'s threads), into a [`GenerationLatency`], and a
//! [`LatencyStitcher`] absorbs them in trace order into what one pass over
//! the whole trace finds, interval for interval.
//!
//! A generation seen apart measures what begins and ends inside it. What
//! was open when it began it cannot know: it records the ends of those
//! things (the first change of a goroutine's state, a region, task or
//! range ended without its begin) and which open things it replaced (see
//! `Earlier` in `latency.rs`). The stitcher holds what the generations so
//! far left open, exactly the state of a tracker over the whole trace at
//! that point, and settles those ends against it: the intervals crossing
//! a generation boundary come out whole. Each part has its own names and
//! stack trie; absorbing one moves its labels and stacks into the
//! stitcher's ([`Moved`]).
//!
//! Two things a generation alone cannot know besides: the whole trace's
//! times of its first events, which Go's reader may move later to keep
//! times increasing across generations (see [`GenerationLatency`]), and
//! which of its intervals are too short to be among the outliers kept
//! ([`OutlierFloor`], shared by the threads).
//!
//! Parts can arrive in any order; those ahead of the next one due wait.
//! A generation that could not be read ends the analysis there, as the
//! pass over the whole trace stops at the first damage.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use super::labels::{Label, Labels, Relabel};
use super::latency::{LatencyKind, LatencyTracker};
use super::profile::{Origin, ProfileBuilder, StackId};
use super::step::Step;
use super::{Analysis, GoroutineTracker, MutatorUtilization};
use crate::trace::{Error, Event, Trace};

/// Events at the start of a generation whose times the part keeps, in
/// case the whole trace moves them (see [`GenerationLatency`]): 32 KB a
/// generation. Go's writer flushes each M's batches on its own, so a
/// generation's first events can be earlier than the last ones of the one
/// before, and the reader, which makes times strictly increasing, moves
/// them after those; a few dozen at most in real traces. A generation
/// with more moved than this is analysed again once the time before it is
/// known.
const FIRST_EVENTS: usize = 4096;

/// Where the labels, stacks and times of an absorbed part are now.
pub(crate) struct Moved {
    labels: Relabel,
    /// Where each node of the part's stack trie is now.
    pub stacks: Vec<Origin>,
    /// The times of the part's first events, in the generation's own clock.
    first: Vec<i64>,
    /// The whole trace's time of the event before the generation.
    before: i64,
}

impl Moved {
    /// Time `t` of the part (an event's), in the whole trace: the `i`th
    /// event of the generation comes at least `i + 1` ns after the one
    /// before it.
    pub fn time(&self, t: i64) -> i64 {
        match self.first.binary_search(&t) {
            Ok(i) => t.max(self.before.saturating_add(1 + i as i64)),
            Err(_) => t,
        }
    }

    /// Label `l` of the part, here.
    pub fn label(&self, l: Label) -> Label {
        self.labels.get(l)
    }

    /// Stack `s` of the part, here.
    pub fn stack(&self, s: StackId) -> StackId {
        self.stacks
            .get(s.index())
            .map_or(StackId::ROOT, |o| o.stack)
    }
}

/// Per kind of interval, a duration under which none can be among the
/// outliers kept: the shortest one the stitcher keeps, once it keeps as
/// many as asked for (it only ever rises). Shared with the threads that
/// analyse generations, it spares their outlier lists the intervals that
/// cannot make the final one: keeping ten thousand per kind, a
/// generation's list would otherwise take in and sort out most of its
/// intervals.
#[derive(Debug)]
pub struct OutlierFloor([AtomicI64; LatencyKind::ALL.len()]);

impl Default for OutlierFloor {
    fn default() -> OutlierFloor {
        OutlierFloor(std::array::from_fn(|_| AtomicI64::new(i64::MIN)))
    }
}

impl OutlierFloor {
    fn get(&self) -> [i64; LatencyKind::ALL.len()] {
        std::array::from_fn(|i| self.0[i].load(Ordering::Relaxed))
    }
}

/// The latency analysis of one generation, decoded on its own.
///
/// Decoded on its own, a generation's event times are made strictly
/// increasing from zero; in the whole trace, from the time of the event
/// before it, `L`. Times only increase, so the `i`th event's time in the
/// whole trace is `max(t, L + 1 + i)`: only a run of first events can
/// move. Their times are kept (`FIRST_EVENTS`), and intervals beginning
/// at them are measured when stitched, once `L` is known.
#[derive(Debug)]
pub struct GenerationLatency {
    labels: Labels,
    profile: ProfileBuilder,
    tracker: LatencyTracker,
    /// The generation could not be read to its end: no later one counts.
    damaged: bool,
    /// The times of its first events.
    first: Vec<i64>,
    /// The time of the event after those, if any.
    then: Option<i64>,
    /// Events, and the time of the last.
    events: u64,
    last: i64,
    /// Analysed after the whole trace's time given, not apart: the time
    /// of the last event so far (its times are the whole trace's).
    after: Option<(i64, i64)>,
    /// How many first events' times to keep.
    keep: usize,
}

impl GenerationLatency {
    /// The analysis of a generation, keeping its `outliers` longest
    /// intervals of each kind; feed it the generation's events in order.
    pub fn new(outliers: usize) -> GenerationLatency {
        GenerationLatency::keeping(outliers, FIRST_EVENTS)
    }

    /// [`GenerationLatency::new`] keeping the times of `first` events.
    fn keeping(outliers: usize, first: usize) -> GenerationLatency {
        GenerationLatency {
            keep: first,
            labels: Labels::default(),
            profile: ProfileBuilder::default(),
            tracker: LatencyTracker::apart(outliers),
            damaged: false,
            first: Vec::new(),
            then: None,
            events: 0,
            last: 0,
            after: None,
        }
    }

    /// Keeps no outlier that cannot be among those of the whole trace, as
    /// far as `floor` knows yet.
    pub fn above(mut self, floor: &OutlierFloor) -> GenerationLatency {
        self.tracker.set_floors(floor.get());
        self
    }

    /// [`GenerationLatency::new`] for a generation following an event at
    /// time `before` of the whole trace: its times are final.
    fn after(outliers: usize, before: i64) -> GenerationLatency {
        let mut part = GenerationLatency::new(outliers);
        part.tracker.provisional_until(i64::MIN);
        part.after = Some((before, before));
        part
    }

    /// Feeds the generation's next event.
    pub fn event(&mut self, ev: &Event<'_>) {
        let mut step = Step::of(ev);
        match &mut self.after {
            Some((_, last)) => {
                // As Go's reader does.
                if step.time <= *last {
                    step.time = last.wrapping_add(1);
                }
                *last = step.time;
            }
            None if self.first.len() < self.keep => {
                self.first.push(step.time);
                if self.first.len() == self.keep {
                    self.tracker.provisional_until(step.time);
                }
            }
            None => {
                self.then.get_or_insert(step.time);
            }
        }
        self.events += 1;
        self.last = step.time;
        self.tracker
            .step(&step, &mut self.labels, &mut self.profile);
    }

    /// Whether its times can be made the whole trace's, after an event at
    /// `before`: no event after the first ones kept moves.
    fn fits_after(&self, before: i64) -> bool {
        match (self.after, self.then) {
            (Some((from, _)), _) => from == before,
            (None, None) => true,
            (None, Some(t)) => i128::from(t) - self.keep as i128 > i128::from(before),
        }
    }

    /// Analyses generation `g` of `trace` and gives its mapped pages back.
    /// Returns the analysis, `None` if the trace ended cleanly before `g`;
    /// and why `g` could not be read to its end, or the trace past it: such
    /// a generation ends the whole analysis.
    pub fn analyse(
        mut self,
        trace: &Trace<'_>,
        g: usize,
    ) -> (Option<GenerationLatency>, Option<Error>) {
        let read = trace.stream_generation(g, |ev| self.event(&ev));
        trace.release_generation(g);
        let Some(read) = read else {
            return (None, None);
        };
        let error = read.err().or_else(|| trace.error_after_generation(g));
        self.damaged = error.is_some();
        (Some(self), error)
    }
}

/// Joins the latency analyses of generations into the whole trace's.
#[derive(Debug)]
pub struct LatencyStitcher {
    labels: Labels,
    profile: ProfileBuilder,
    tracker: LatencyTracker,
    /// The next generation to absorb.
    next: usize,
    /// Parts arrived ahead of it; `None`: that generation failed.
    waiting: BTreeMap<usize, Option<GenerationLatency>>,
    /// A generation failed: the analysis ends before it, or with it.
    ended: bool,
    /// The whole trace's time of the last event stitched on.
    last: i64,
    /// The next generation must be analysed again, after `last`.
    redo: bool,
    outliers: usize,
}

impl LatencyStitcher {
    /// A stitcher keeping the `outliers` longest intervals of each kind.
    pub fn new(outliers: usize) -> LatencyStitcher {
        LatencyStitcher {
            labels: Labels::default(),
            profile: ProfileBuilder::default(),
            tracker: LatencyTracker::new(outliers),
            next: 0,
            waiting: BTreeMap::new(),
            ended: false,
            last: 0,
            redo: false,
            outliers,
        }
    }

    /// Takes generation `g`'s analysis (`None`: it could not be analysed
    /// at all) and stitches on every part now in order, analysing again
    /// from `trace` any whose times cannot be placed; then raises `floor`
    /// to what the outliers kept imply.
    pub fn take(
        &mut self,
        g: usize,
        part: Option<GenerationLatency>,
        trace: &Trace<'_>,
        floor: &OutlierFloor,
    ) {
        self.add(g, part);
        self.reanalyse(trace);
        self.raise(floor);
    }

    /// Takes generation `g`'s analysis and stitches on every part now in
    /// order. A part whose times cannot be placed is dropped, and the
    /// stitcher waits for that generation analysed again (see
    /// [`LatencyStitcher::reanalyse`]).
    fn add(&mut self, g: usize, part: Option<GenerationLatency>) {
        if g >= self.next && !self.ended {
            self.waiting.insert(g, part);
            self.redo &= g != self.next;
        }
        while !self.ended && !self.redo {
            let Some(part) = self.waiting.remove(&self.next) else {
                break;
            };
            match part {
                None => self.ended = true,
                Some(part) if !part.fits_after(self.last) => self.redo = true,
                Some(part) => {
                    self.next += 1;
                    self.ended = part.damaged;
                    self.absorb(part);
                }
            }
        }
        if self.ended {
            self.waiting.clear();
        }
    }

    /// Analyses again, on this thread, each generation of `trace` whose
    /// part could not be placed, with the time before it now known, and
    /// stitches on what then follows (rare: see `FIRST_EVENTS`).
    fn reanalyse(&mut self, trace: &Trace<'_>) {
        while self.redo {
            let g = self.next;
            let (part, _) = GenerationLatency::after(self.outliers, self.last).analyse(trace, g);
            self.add(g, part);
        }
    }

    /// Raises `floor` to what the outliers kept so far imply.
    fn raise(&self, floor: &OutlierFloor) {
        for (shared, least) in floor.0.iter().zip(self.tracker.least_kept()) {
            if let Some(d) = least {
                shared.fetch_max(d, Ordering::Relaxed);
            }
        }
    }

    /// Generations stitched so far, and whether a failed one ended the
    /// analysis.
    pub fn progress(&self) -> (usize, bool) {
        (self.next, self.ended)
    }

    fn absorb(&mut self, part: GenerationLatency) {
        let labels = self.labels.absorb(&part.labels);
        let stacks = self.profile.absorb(&part.profile, &labels);
        let before = self.last;
        let events = i64::try_from(part.events).unwrap_or(i64::MAX);
        self.last = part.last.max(before.saturating_add(events));
        let moved = Moved {
            labels,
            stacks,
            first: part.first,
            before,
        };
        self.tracker.absorb(part.tracker, &moved, &mut self.profile);
    }

    /// The analysis of the generations stitched: latencies and profiles
    /// only.
    pub fn finish(self) -> Analysis {
        let (start_functions, goroutines) = GoroutineTracker::default().finish();
        Analysis {
            profile: self.profile.finish(&self.labels),
            labels: self.labels,
            latencies: self.tracker.finish(),
            start_functions,
            goroutines,
            utilization: MutatorUtilization::default(),
        }
    }
}

/// The latency analysis of `trace` (as [`super::analyze_parts`] with only
/// the latency part), its generations analysed on `threads` threads at
/// once and stitched in order. On a damaged trace, the analysis of what
/// precedes the damage comes with the error.
pub fn analyze_latency(
    trace: &Trace<'_>,
    outliers: usize,
    threads: usize,
) -> (Analysis, Option<Error>) {
    analyze_keeping(trace, outliers, threads, FIRST_EVENTS)
}

/// [`analyze_latency`] with parts keeping the times of `first` events.
fn analyze_keeping(
    trace: &Trace<'_>,
    outliers: usize,
    threads: usize,
    first: usize,
) -> (Analysis, Option<Error>) {
    let total = trace.index().generations.len();
    let next = AtomicUsize::new(0);
    let floor = OutlierFloor::default();
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut stitcher = LatencyStitcher::new(outliers);
    let mut first_error: Option<(usize, Error)> = None;
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, total.max(1)) {
            let (tx, next, floor) = (tx.clone(), &next, &floor);
            scope.spawn(move || {
                loop {
                    let g = next.fetch_add(1, Ordering::Relaxed);
                    if g >= total {
                        break;
                    }
                    let part = GenerationLatency::keeping(outliers, first).above(floor);
                    let (part, error) = part.analyse(trace, g);
                    if tx.send((g, part, error)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (g, part, error) in rx {
            if let Some(e) = error
                && first_error.as_ref().is_none_or(|(first, _)| g < *first)
            {
                first_error = Some((g, e));
            }
            stitcher.take(g, part, trace, &floor);
        }
    });
    (stitcher.finish(), first_error.map(|(_, e)| e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{LatencyKind, PROFILED, Parts, Weight, analyze_parts};
    use std::collections::BTreeMap;

    /// A call path as text, outermost frame first.
    type Path = Vec<String>;

    /// One outlier as text: goroutine, start, end, label, stack.
    type Row = (i64, i64, i64, String, Path);

    /// What an analysis found for one kind, with every label and stack
    /// written out (their numbers depend on the order they were met in).
    #[derive(Debug, PartialEq)]
    struct Found {
        outliers: Vec<Row>,
        histogram: crate::analysis::LogHistogram,
        profile: BTreeMap<Path, Weight>,
        cut: Weight,
    }

    fn path(a: &Analysis, mut node: StackId) -> Path {
        let mut out = Vec::new();
        while let Some(f) = a.profile.frame(node) {
            let (func, file) = (a.labels.text(f.function), a.labels.text(f.file));
            out.push(format!("{func} {file}:{}", f.line));
            node = a.profile.parent(node).unwrap_or(StackId::ROOT);
        }
        out.reverse();
        out
    }

    fn found(a: &Analysis, kind: LatencyKind) -> Found {
        let outliers = a.latencies.outliers(kind).into_iter();
        let outliers = outliers
            .map(|i| {
                let label = a.labels.text(i.label);
                (i.goroutine, i.start, i.end, label, path(a, i.stack))
            })
            .collect();
        let mut profile = BTreeMap::new();
        if PROFILED.contains(&kind) {
            let mut todo = vec![StackId::ROOT];
            while let Some(node) = todo.pop() {
                let own = a.profile.own(node, kind);
                if own != Weight::default() {
                    profile.insert(path(a, node), own);
                }
                todo.extend_from_slice(a.profile.children(node));
            }
        }
        Found {
            outliers,
            histogram: a.latencies.histogram(kind).clone(),
            profile,
            cut: a.profile.cut(kind),
        }
    }

    /// Every committed trace: stitching the generations analysed apart
    /// finds what one pass over the whole trace finds, interval for
    /// interval, with the same error.
    #[test]
    fn stitched_generations_equal_one_pass() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/traces");
        let mut traces = 0;
        for entry in std::fs::read_dir(dir).expect("test traces") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "trace") {
                continue;
            }
            let data = std::fs::read(&path).expect("trace");
            let Ok(trace) = Trace::open(&data) else {
                continue;
            };
            traces += 1;
            let only_latency = Parts {
                latency: true,
                goroutines: false,
                utilization: false,
            };
            // Keeping the times of one first event, most generations are
            // analysed again.
            for (outliers, first) in [(3, FIRST_EVENTS), (usize::MAX, FIRST_EVENTS), (50, 1)] {
                let (whole, error) = analyze_parts(&trace, only_latency, outliers);
                let (stitched, stitched_error) = analyze_keeping(&trace, outliers, 3, first);
                let name = path.display();
                assert_eq!(
                    stitched_error.map(|e| e.to_string()),
                    error.map(|e| e.to_string()),
                    "{name}"
                );
                for kind in LatencyKind::ALL {
                    let (got, want) = (found(&stitched, kind), found(&whole, kind));
                    assert_eq!(got.outliers, want.outliers, "{name} {kind:?}");
                    assert_eq!(got.histogram, want.histogram, "{name} {kind:?}");
                    let differ: Vec<_> = got
                        .profile
                        .iter()
                        .filter(|(p, w)| want.profile.get(*p) != Some(w))
                        .collect();
                    let missing: Vec<_> = want
                        .profile
                        .iter()
                        .filter(|(p, w)| got.profile.get(*p) != Some(w))
                        .collect();
                    assert!(
                        differ.is_empty() && missing.is_empty(),
                        "{name} {kind:?} got {differ:?} want {missing:?}"
                    );
                    assert_eq!(got, want, "{name} {kind:?}");
                }
            }
        }
        assert!(traces >= 15, "{traces} traces");
    }

    #[test]
    fn parts_wait_for_the_ones_before_and_a_failed_one_ends_the_analysis() {
        let mut s = LatencyStitcher::new(10);
        s.add(2, Some(GenerationLatency::new(10)));
        assert_eq!(s.progress(), (0, false));
        s.add(0, Some(GenerationLatency::new(10)));
        assert_eq!(s.progress(), (1, false));
        s.add(1, None);
        assert_eq!(s.progress(), (1, true));
        s.add(3, Some(GenerationLatency::new(10)));
        assert_eq!(s.progress(), (1, true));
    }
}
