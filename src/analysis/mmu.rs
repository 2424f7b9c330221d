//! Minimum mutator utilisation (MMU): how much of the CPU the program kept
//! for itself in the worst window of a given length, despite the GC.
//!
//! Two parts, both as Go's `internal/trace/gc.go` defines them (system-wide
//! mode, not per-P):
//!
//! 1. The **utilisation function**, built while streaming the events: at
//!    each moment, the fraction of the Ps (GOMAXPROCS) not doing GC work. A
//!    P does GC work while it runs a mark assist, an incremental sweep, or a
//!    goroutine that is a background mark worker (labelled `GC ...` other
//!    than `GC (idle)`) or in a mark assist; during a GC stop-the-world
//!    (reason containing `GC`) no P is the mutator's. [`UtilFlags`] choose
//!    which of these count. The function is stored as its change points
//!    only, so its size follows GC activity, not the event count. A sweep or
//!    assist first seen active in the first generation is taken to have run
//!    since the trace began, as Go does, by lowering everything recorded so
//!    far by one P's share.
//! 2. The **MMU** for a window length `w`: the minimum, over every window
//!    `[s, s + w]` inside the trace, of the mean utilisation in it. The mean
//!    is a piecewise-linear function of `s` whose slope only changes where
//!    `s` or `s + w` crosses a change point, so its minimum lies at one of
//!    those: `s = tᵢ` or `s = tᵢ - w`. Evaluating each candidate with prefix
//!    integrals and a binary search gives the exact value in `O(n log n)`
//!    (Go gets the same number with a band-pruned search, except that for a
//!    1 ns window its search also tries a window starting at the very end,
//!    where it reads utilisation 0, so Go's MMU(1 ns) is always 0).

use crate::trace::{FxHashMap, FxHashSet};

use super::step::{Edge, GcRange, GoChange, Step, What};
use crate::trace::{GoId, ProcId, Time};

/// Which GC activity counts against the mutator (Go's `UtilFlags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtilFlags {
    /// Stop-the-world pauses of the GC.
    pub stw: bool,
    /// Background mark workers.
    pub background: bool,
    /// Mark assists.
    pub assist: bool,
    /// Incremental sweeping.
    pub sweep: bool,
}

impl UtilFlags {
    /// What `go tool trace`'s MMU page selects by default: all but sweeping.
    pub const DEFAULT: UtilFlags = UtilFlags {
        stw: true,
        background: true,
        assist: true,
        sweep: false,
    };
}

/// A change of the mutator utilisation: from `time` on, `util` (0 to 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UtilPoint {
    /// When, in trace nanoseconds.
    pub time: Time,
    /// The fraction of the Ps left to the program.
    pub util: f64,
}

/// The mutator utilisation over the trace, as a step function.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MutatorUtilization {
    points: Vec<UtilPoint>,
}

impl MutatorUtilization {
    /// The change points, in time order; the last one (utilisation 0) marks
    /// the end of the trace. Empty if GOMAXPROCS was never seen.
    pub fn points(&self) -> &[UtilPoint] {
        &self.points
    }

    /// The minimum mutator utilisation over windows of `window` ns (longer
    /// windows are cut to the trace's length). 0 for an empty function or a
    /// window of 0.
    pub fn mmu(&self, window: Time) -> f64 {
        self.worst_window(window).map_or(0.0, |(util, _, _)| util)
    }

    /// The window of `window` ns (cut to the trace's length) with the
    /// least mutator utilisation: `(utilisation, start, length)`, the
    /// earliest of equal ones. `None` for an empty function or a window of 0.
    pub fn worst_window(&self, window: Time) -> Option<(f64, Time, Time)> {
        let (first, last) = (self.points.first()?, self.points.last()?);
        let w = window.min(last.time.saturating_sub(first.time));
        if w <= 0 {
            return None;
        }
        let integral = Integral::new(&self.points);
        // The minimum is at a window starting or ending at a change point.
        let starts = self
            .points
            .iter()
            .flat_map(|p| [p.time, p.time.saturating_sub(w)]);
        starts
            .filter(|&s| s >= first.time && s.saturating_add(w) <= last.time)
            .map(|s| ((integral.at(s + w) - integral.at(s)) / w as f64, s))
            .fold(None, |worst: Option<(f64, Time)>, (u, s)| match worst {
                Some((m, t)) if m < u || (m == u && t <= s) => Some((m, t)),
                _ => Some((u, s)),
            })
            .map(|(util, start)| (util, start, w))
    }
}

/// Prefix integrals of a step function, for the area under it up to any time.
struct Integral<'a> {
    points: &'a [UtilPoint],
    /// `cum[i]`: the area from the first point to point `i`.
    cum: Vec<f64>,
}

impl<'a> Integral<'a> {
    fn new(points: &'a [UtilPoint]) -> Integral<'a> {
        let mut cum = Vec::with_capacity(points.len());
        let mut area = 0.0;
        let mut prev: Option<&UtilPoint> = None;
        for p in points {
            if let Some(q) = prev {
                area += q.util * (p.time - q.time) as f64;
            }
            cum.push(area);
            prev = Some(p);
        }
        Integral { points, cum }
    }

    /// The area from the first point to `t` (not before it).
    fn at(&self, t: Time) -> f64 {
        let k = self
            .points
            .partition_point(|p| p.time <= t)
            .saturating_sub(1);
        let p = self.points[k];
        self.cum[k] + p.util * (t - p.time) as f64
    }
}

/// The streaming state building the utilisation function.
#[derive(Debug)]
pub(crate) struct UtilTracker {
    flags: UtilFlags,
    /// GC stop-the-worlds in progress.
    stw: i64,
    /// Per P (index = P ID): GC activities on it.
    gc_on_p: Vec<i64>,
    /// GOMAXPROCS changes: from when, how many.
    procs: Vec<(Time, usize)>,
    in_assist: FxHashSet<GoId>,
    bg_workers: FxHashSet<GoId>,
    /// Whether each goroutine is on a thread (running or in a syscall),
    /// kept during the first generation only: only ranges active when the
    /// trace began need it.
    executing: FxHashMap<GoId, bool>,
    syncs: u64,
    last_time: Option<Time>,
    out: Vec<UtilPoint>,
}

impl UtilTracker {
    /// A tracker counting what `flags` select.
    pub fn new(flags: UtilFlags) -> UtilTracker {
        UtilTracker {
            flags,
            stw: 0,
            gc_on_p: Vec::new(),
            procs: Vec::new(),
            in_assist: FxHashSet::default(),
            bg_workers: FxHashSet::default(),
            executing: FxHashMap::default(),
            syncs: 0,
            last_time: None,
            out: Vec::new(),
        }
    }

    /// Feeds one step.
    pub fn step(&mut self, step: &Step<'_>) {
        self.last_time = Some(step.time);
        match step.what {
            What::Sync => self.syncs += 1,
            What::Gomaxprocs(n) => self.set_procs(step.time, n),
            _ => {}
        }
        if self.gc_on_p.is_empty() {
            return;
        }
        let changed = match step.what {
            What::Gomaxprocs(_) => true,
            What::Range(Edge::Active, r) => self.range_active(step, r),
            What::Range(Edge::Begin, r) => self.range_edge(step.proc, r, 1),
            What::Range(Edge::End, r) => self.range_edge(step.proc, r, -1),
            What::Go(ref c) => self.go_change(step.proc, c),
            What::Label(label) => self.label(step, label),
            _ => false,
        };
        if changed {
            let util = self.current();
            self.add(UtilPoint {
                time: step.time,
                util,
            });
        }
    }

    /// The utilisation function, closed with a 0 at the last event.
    pub fn finish(mut self) -> MutatorUtilization {
        if let Some(time) = self.last_time
            && !self.gc_on_p.is_empty()
        {
            self.add(UtilPoint { time, util: 0.0 });
        }
        MutatorUtilization { points: self.out }
    }

    fn set_procs(&mut self, time: Time, n: u64) {
        let n = usize::try_from(n).unwrap_or(usize::MAX).min(1 << 20);
        if self.out.is_empty() && n > 0 {
            self.out.push(UtilPoint { time, util: 1.0 });
        }
        self.gc_on_p.resize(n, 0);
        if self.procs.last().is_none_or(|&(_, m)| m != n) {
            self.procs.push((time, n));
        }
    }

    fn p(&mut self, proc: ProcId) -> Option<&mut i64> {
        usize::try_from(proc)
            .ok()
            .and_then(|p| self.gc_on_p.get_mut(p))
    }

    fn counts_stw(&self, r: GcRange<'_>) -> bool {
        self.flags.stw
            && matches!(r, GcRange::StopTheWorld(reason, _) if reason.windows(2).any(|w| w == b"GC"))
    }

    /// A range begins (`delta` 1) or ends (-1).
    fn range_edge(&mut self, proc: ProcId, r: GcRange<'_>, delta: i64) -> bool {
        if self.counts_stw(r) {
            self.stw += delta;
            return true;
        }
        match r {
            GcRange::Sweep if self.flags.sweep => {}
            GcRange::MarkAssist(g) if self.flags.assist => {
                if delta > 0 {
                    self.in_assist.insert(g);
                } else {
                    self.in_assist.remove(&g);
                }
            }
            _ => return false,
        }
        if let Some(gc) = self.p(proc) {
            *gc += delta;
        }
        true
    }

    /// A range found active at a generation start: in the first generation
    /// it has been running since the trace began.
    fn range_active(&mut self, step: &Step<'_>, r: GcRange<'_>) -> bool {
        if self.syncs > 1 {
            return false;
        }
        let backdate = match r {
            GcRange::MarkAssist(_) if self.flags.assist => self
                .executing
                .get(&step.goroutine)
                .copied()
                .unwrap_or(false),
            GcRange::Sweep => self.flags.sweep,
            _ => false,
        };
        if backdate {
            self.lower_history();
        }
        self.range_edge(step.proc, r, 1)
    }

    /// Takes one P's share off every point recorded so far.
    fn lower_history(&mut self) {
        let mut pi = 0;
        let mut mi = 0;
        while mi < self.out.len() {
            if pi + 1 < self.procs.len() && self.procs[pi + 1].0 < self.out[mi].time {
                pi += 1;
                continue;
            }
            let share = 1.0 / self.procs[pi].1.max(1) as f64;
            let point = &mut self.out[mi];
            point.util = (point.util - share).max(0.0);
            mi += 1;
        }
    }

    fn go_change(&mut self, proc: ProcId, c: &GoChange<'_>) -> bool {
        let (was, is) = (c.from.executing(), c.to.executing());
        if self.syncs > 1 {
            if !self.executing.is_empty() {
                self.executing = FxHashMap::default();
            }
        } else if is {
            self.executing.insert(c.id, true);
        } else {
            self.executing.remove(&c.id);
        }
        // Most changes keep the goroutine on or off its thread: no lookup.
        if was == is || !(self.in_assist.contains(&c.id) || self.bg_workers.contains(&c.id)) {
            return false;
        }
        if let Some(gc) = self.p(proc) {
            *gc += if is { 1 } else { -1 };
        }
        true
    }

    fn label(&mut self, step: &Step<'_>, label: &[u8]) -> bool {
        if !self.flags.background || !label.starts_with(b"GC ") || label == b"GC (idle)" {
            return false;
        }
        self.bg_workers.insert(step.goroutine);
        if let Some(gc) = self.p(step.proc) {
            *gc += 1;
        }
        true
    }

    fn current(&self) -> f64 {
        let n = self.gc_on_p.len();
        let busy = if self.stw > 0 {
            n
        } else {
            self.gc_on_p.iter().filter(|&&gc| gc > 0).count()
        };
        1.0 - busy as f64 / n as f64
    }

    /// Records a point if the utilisation changed (at the same time, the
    /// lower value wins).
    fn add(&mut self, p: UtilPoint) {
        if let Some(last) = self.out.last_mut() {
            if last.util == p.util {
                return;
            }
            if last.time == p.time {
                if p.util < last.util {
                    *last = p;
                }
                return;
            }
        }
        self.out.push(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::step::Frames;
    use crate::trace::GoState;

    #[test]
    fn the_worst_window_is_where_the_mmu_is() {
        let u = curve(&[(0, 1.0), (100, 0.0), (110, 1.0), (300, 0.5), (400, 0.0)]);
        assert_eq!(u.worst_window(10), Some((0.0, 100, 10)));
        assert_eq!(u.worst_window(50), Some((0.5, 300, 50)));
        assert_eq!(u.mmu(50), 0.5);
        assert_eq!(u.worst_window(1000).map(|w| (w.1, w.2)), Some((0, 400)));
        assert_eq!(u.worst_window(0), None);
        assert_eq!(curve(&[]).worst_window(10), None);
    }

    fn curve(points: &[(Time, f64)]) -> MutatorUtilization {
        MutatorUtilization {
            points: points
                .iter()
                .map(|&(time, util)| UtilPoint { time, util })
                .collect(),
        }
    }

    fn step(time: Time, goroutine: GoId, proc: ProcId, what: What<'static>) -> Step<'static> {
        Step {
            time,
            goroutine,
            proc,
            what,
        }
    }

    /// The utilisation points of `steps` with Go's default flags.
    fn default_points(steps: &[Step<'static>]) -> Vec<(Time, f64)> {
        let mut t = UtilTracker::new(UtilFlags::DEFAULT);
        for s in steps {
            t.step(s);
        }
        t.finish()
            .points()
            .iter()
            .map(|p| (p.time, p.util))
            .collect()
    }

    fn go(time: Time, proc: ProcId, id: GoId, from: GoState, to: GoState) -> Step<'static> {
        let change = GoChange {
            id,
            from,
            to,
            reason: b"",
            stack: Frames::None,
            origin: Frames::None,
        };
        step(time, id, proc, What::Go(change))
    }

    #[test]
    fn gc_work_lowers_the_utilisation() {
        use GoState::*;
        let stw = GcRange::StopTheWorld(b"GC sweep termination", 1);
        let user_stw = GcRange::StopTheWorld(b"start trace", 1);
        let points = default_points(&[
            step(0, -1, -1, What::Sync),
            // Nothing counts before GOMAXPROCS is known.
            step(1, 1, 0, What::Range(Edge::Begin, GcRange::MarkAssist(1))),
            step(5, -1, -1, What::Gomaxprocs(4)),
            step(10, 1, 0, What::Range(Edge::Begin, stw)),
            step(20, 1, 0, What::Range(Edge::End, stw)),
            step(25, 1, 0, What::Range(Edge::Begin, user_stw)),
            step(26, 1, 0, What::Range(Edge::End, user_stw)),
            // A mark assist occupies its P while its goroutine runs.
            step(30, 2, 1, What::Range(Edge::Begin, GcRange::MarkAssist(2))),
            go(40, 1, 2, Running, Waiting),
            go(50, 3, 2, Runnable, Running),
            step(60, 2, 3, What::Range(Edge::End, GcRange::MarkAssist(2))),
            // A background worker, labelled when it starts.
            step(70, 7, 2, What::Label(b"GC (dedicated)")),
            go(80, 2, 7, Running, Runnable),
            step(81, 8, 2, What::Label(b"GC (idle)")),
            // Sweeping does not count by default.
            step(90, 3, 0, What::Range(Edge::Begin, GcRange::Sweep)),
            step(100, -1, -1, What::Sync),
        ]);
        assert_eq!(
            points,
            [
                (5, 1.0),
                (10, 0.0),
                (20, 1.0),
                (30, 0.75),
                (40, 1.0),
                (50, 0.75),
                (60, 1.0),
                (70, 0.75),
                (80, 1.0),
                (100, 0.0),
            ]
        );
    }

    #[test]
    fn an_assist_active_at_the_start_is_backdated() {
        use GoState::*;
        let points = default_points(&[
            step(0, -1, -1, What::Sync),
            step(1, -1, -1, What::Gomaxprocs(2)),
            go(2, 0, 5, Undetermined, Running),
            step(3, 5, 0, What::Range(Edge::Active, GcRange::MarkAssist(5))),
            step(9, 5, 0, What::Range(Edge::End, GcRange::MarkAssist(5))),
            step(10, -1, -1, What::Sync),
        ]);
        assert_eq!(points, [(1, 0.5), (9, 1.0), (10, 0.0)]);
    }

    #[test]
    fn mmu_of_a_step_function_is_exact() {
        // Full utilisation, then a 10 ns pause, then half, then the end.
        let u = curve(&[(0, 1.0), (100, 0.0), (110, 0.5), (200, 0.0)]);
        assert_eq!(u.mmu(0), 0.0);
        assert_eq!(u.mmu(5), 0.0);
        assert_eq!(u.mmu(10), 0.0);
        // A 20 ns window: at best 10 ns of it can avoid the pause.
        assert!((u.mmu(20) - 0.25).abs() < 1e-12);
        // The whole trace: (100 + 45) / 200.
        assert!((u.mmu(200) - 0.725).abs() < 1e-12);
        assert!((u.mmu(10_000) - 0.725).abs() < 1e-12);
        assert_eq!(MutatorUtilization::default().mmu(10), 0.0);
    }
}
