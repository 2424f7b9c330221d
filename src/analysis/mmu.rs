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
//!
//! One deviation, where Go's bookkeeping slips: the runtime labels a
//! background mark worker with its mode each time it starts running, and
//! Go counts a worker it has seen labelled once when it starts *and* again
//! at the label, but uncounts it once when it stops. Each run after a
//! worker's first thus leaves its P counted as doing GC work for good; on
//! a 100 MB trace of a program that collects all the time, every P is
//! taken by the 80th millisecond and Go's MMU is 0 for every window longer
//! than that. Here a worker's run counts from its label until it stops
//! running, on the P that labelled it.

use std::collections::hash_map::Entry;

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
///
/// A busy program's GC changes the utilisation millions of times (3.5 M
/// change points on the 1 GB benchmark trace, 55 MB as [`UtilPoint`]s), so
/// the points are kept encoded, about two bytes each: one LEB128 varint of
/// the time since the previous point, in units of the `quantum` every such
/// time is a multiple of (Go's clock ticks: 64 ns on Linux), and the
/// utilisation's code in a table of the values seen (they are few:
/// fractions of GOMAXPROCS). A point that does not fit that form is
/// written out: a 1, the time since the previous point in ns, the code, or
/// `RAW_VALUE` and the value itself. Everything reads them in order.
/// They are kept in chunks of `CHUNK` bytes that never grow, so the
/// function costs what it holds, not up to twice that as a vector that
/// doubles.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MutatorUtilization {
    /// The encoded points; no point is split between two chunks.
    chunks: Vec<Vec<u8>>,
    values: Vec<f64>,
    /// The unit of the times between points, in ns (0 counts as 1).
    quantum: i64,
    /// The first and the last point.
    ends: Option<(UtilPoint, UtilPoint)>,
}

/// The code of a utilisation value not in the table (which holds at most
/// this many); its 8 bytes follow.
const RAW_VALUE: u8 = u8::MAX;

/// Bytes per chunk of an encoded [`MutatorUtilization`]. A block this
/// large is mapped on its own by the allocator (see `worker::memory`), so
/// only the pages written take memory and the chunks, which outlive the
/// pass that writes them, leave no holes in its thread's heap: with 1 MiB
/// chunks the window's peak RSS on the 1 GB benchmark trace grew by about
/// twice what the points took.
#[cfg(not(test))]
const CHUNK: usize = 16 << 20;
/// Small in tests, so that points cross chunks.
#[cfg(test)]
const CHUNK: usize = 4 << 10;

/// The most bytes one point takes: written out, a 1, a 10-byte varint, the
/// code and a raw value.
const MAX_POINT_BYTES: usize = 20;

/// Codes below this fit in a point's varint (its bits 1 to 3).
const SHORT_CODES: u8 = 8;

/// `v` with its sign in the lowest bit, so small magnitudes stay small.
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(z: u64) -> i64 {
    (z >> 1) as i64 ^ -((z & 1) as i64)
}

fn put_varint(bytes: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        bytes.push(v as u8 | 0x80);
        v >>= 7;
    }
    bytes.push(v as u8);
}

impl MutatorUtilization {
    /// Appends a point (not before the last one).
    fn push(&mut self, p: UtilPoint) {
        let room = self
            .chunks
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= MAX_POINT_BYTES);
        if !room {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let since = self.ends.map_or(0, |(_, last)| last.time);
        let Some(bytes) = self.chunks.last_mut() else {
            return;
        };
        let delta = p.time.wrapping_sub(since);
        let code = match self
            .values
            .iter()
            .position(|&v| v.to_bits() == p.util.to_bits())
        {
            Some(i) => i as u8,
            None if self.values.len() < usize::from(RAW_VALUE) => {
                self.values.push(p.util);
                (self.values.len() - 1) as u8
            }
            None => RAW_VALUE,
        };
        let q = self.quantum.max(1);
        let units = (delta % q == 0).then(|| zigzag(delta / q));
        match units.filter(|&z| z < 1 << 59 && code < SHORT_CODES) {
            Some(z) => put_varint(bytes, (z << 4) | u64::from(code) << 1),
            None => {
                put_varint(bytes, 1);
                put_varint(bytes, zigzag(delta));
                bytes.push(code);
                if code == RAW_VALUE {
                    bytes.extend(p.util.to_bits().to_le_bytes());
                }
            }
        }
        self.ends = Some(match self.ends {
            Some((first, _)) => (first, p),
            None => (p, p),
        });
    }

    /// The change points, in time order; the last one (utilisation 0) marks
    /// the end of the trace. No points if GOMAXPROCS was never seen.
    pub fn points(&self) -> impl Iterator<Item = UtilPoint> + '_ {
        self.decode()
    }

    fn decode(&self) -> Points<'_> {
        Points {
            all: self,
            chunk: 0,
            at: 0,
            time: 0,
        }
    }

    /// Frees the spare room of the last chunk, once every point is in.
    fn shrink_to_fit(&mut self) {
        if let Some(last) = self.chunks.last_mut() {
            last.shrink_to_fit();
        }
    }

    /// Whether the function is empty (GOMAXPROCS was never seen).
    pub fn is_empty(&self) -> bool {
        self.ends.is_none()
    }

    /// The times of the first and the last point.
    pub fn span(&self) -> Option<(Time, Time)> {
        self.ends.map(|(first, last)| (first.time, last.time))
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
    ///
    /// The minimum is at a window starting or ending at a change point. One
    /// pass over the points tries both at each, with the area up to the
    /// point summed as it goes and the area up to the window's other end
    /// read off a cursor that only moves forward, one running ahead of the
    /// pass and one behind it.
    pub fn worst_window(&self, window: Time) -> Option<(f64, Time, Time)> {
        let (first, last) = self.span()?;
        let w = window.min(last.saturating_sub(first));
        if w <= 0 {
            return None;
        }
        let (mut ahead, mut behind) = (Area::new(self), Area::new(self));
        let mut worst: Option<(f64, Time)> = None;
        let mut consider = |u: f64, s: Time| {
            if worst.is_none_or(|(m, t)| u < m || (u == m && s < t)) {
                worst = Some((u, s));
            }
        };
        let (mut area, mut prev): (f64, Option<UtilPoint>) = (0.0, None);
        let w_f = w as f64;
        for p in self.points() {
            if let Some(q) = prev.replace(p) {
                area += q.util * (p.time - q.time) as f64;
            }
            let t = p.time;
            if t.saturating_add(w) <= last {
                consider((ahead.at(t + w) - area) / w_f, t);
            }
            let s = t.saturating_sub(w);
            if s >= first {
                consider((area - behind.at(s)) / w_f, s);
            }
        }
        worst.map(|(util, start)| (util, start, w))
    }
}

/// The points of a [`MutatorUtilization`], decoded in order.
struct Points<'a> {
    all: &'a MutatorUtilization,
    /// Where the next point's bytes begin: a chunk, and an offset in it.
    chunk: usize,
    at: usize,
    /// The previous point's time.
    time: Time,
}

impl Iterator for Points<'_> {
    type Item = UtilPoint;

    fn next(&mut self) -> Option<UtilPoint> {
        let chunks = &self.all.chunks;
        if chunks.get(self.chunk).is_some_and(|c| self.at >= c.len()) {
            (self.chunk, self.at) = (self.chunk + 1, 0);
        }
        let bytes = chunks.get(self.chunk)?;
        let head = self.varint(bytes)?;
        let (delta, code) = if head & 1 == 0 {
            let q = self.all.quantum.max(1);
            (unzigzag(head >> 4).wrapping_mul(q), (head >> 1) as u8 & 7)
        } else {
            let delta = unzigzag(self.varint(bytes)?);
            let &code = bytes.get(self.at)?;
            self.at += 1;
            (delta, code)
        };
        self.time = self.time.wrapping_add(delta);
        let util = match self.all.values.get(usize::from(code)) {
            Some(&v) if code != RAW_VALUE => v,
            _ => {
                let raw = bytes.get(self.at..self.at + 8)?;
                self.at += 8;
                f64::from_bits(u64::from_le_bytes(raw.try_into().ok()?))
            }
        };
        Some(UtilPoint {
            time: self.time,
            util,
        })
    }
}

impl Points<'_> {
    /// Reads a varint at the current place in `bytes`.
    fn varint(&mut self, bytes: &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let &b = bytes.get(self.at)?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                break;
            }
        }
        Some(v)
    }
}

/// The area under a utilisation function from its first point up to times
/// asked for in increasing order.
struct Area<'a> {
    points: std::iter::Peekable<Points<'a>>,
    /// The last point passed, and the area up to it.
    at: Option<(UtilPoint, f64)>,
}

impl<'a> Area<'a> {
    fn new(u: &'a MutatorUtilization) -> Area<'a> {
        let mut points = u.decode().peekable();
        let at = points.next().map(|p| (p, 0.0));
        Area { points, at }
    }

    /// The area up to `t` (not before the first point, nor before the last
    /// time asked for).
    fn at(&mut self, t: Time) -> f64 {
        let Some((mut p, mut area)) = self.at else {
            return 0.0;
        };
        while let Some(next) = self.points.next_if(|n| n.time <= t) {
            area += p.util * (next.time - p.time) as f64;
            p = next;
        }
        self.at = Some((p, area));
        area + p.util * (t - p.time) as f64
    }
}

/// The largest unit of time between utilisation points tried: Go's clock
/// ticks are 64 ns on Linux, and a coarser unit saves little.
const MAX_QUANTUM: i64 = 1 << 10;

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
    /// Background mark workers counted against the mutator now (from
    /// their label to when they stop running), and the P of each.
    bg_running: FxHashMap<GoId, ProcId>,
    /// Whether each goroutine is on a thread (running or in a syscall),
    /// kept during the first generation only: only ranges active when the
    /// trace began need it.
    executing: FxHashMap<GoId, bool>,
    syncs: u64,
    last_time: Option<Time>,
    /// The function so far, but for the points in `recent`.
    out: MutatorUtilization,
    /// The points not yet in `out`: the last one, which a change at the
    /// same time may still lower, and during the first generation all of
    /// them, which a sweep or an assist found active may still lower (see
    /// [`UtilTracker::lower_history`]).
    recent: Vec<UtilPoint>,
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
            bg_running: FxHashMap::default(),
            executing: FxHashMap::default(),
            syncs: 0,
            last_time: None,
            out: MutatorUtilization::default(),
            recent: Vec::new(),
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
        self.flush();
        self.out.shrink_to_fit();
        self.out
    }

    fn set_procs(&mut self, time: Time, n: u64) {
        let n = usize::try_from(n).unwrap_or(usize::MAX).min(1 << 20);
        if self.out.is_empty() && self.recent.is_empty() && n > 0 {
            self.recent.push(UtilPoint { time, util: 1.0 });
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
        while mi < self.recent.len() {
            if pi + 1 < self.procs.len() && self.procs[pi + 1].0 < self.recent[mi].time {
                pi += 1;
                continue;
            }
            let share = 1.0 / self.procs[pi].1.max(1) as f64;
            let point = &mut self.recent[mi];
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
        // Most changes keep the goroutine on or off its thread.
        if was == is {
            return false;
        }
        if self.in_assist.contains(&c.id) {
            if let Some(gc) = self.p(proc) {
                *gc += if is { 1 } else { -1 };
            }
            return true;
        }
        // A worker counts from its label on, which follows its start.
        match self.bg_running.remove(&c.id).filter(|_| was) {
            Some(p) => {
                if let Some(gc) = self.p(p) {
                    *gc -= 1;
                }
                true
            }
            None => false,
        }
    }

    /// A background mark worker's run is labelled with its mode right after
    /// it starts: from then until it stops, its P works for the GC (idle
    /// workers only use Ps the program left idle).
    fn label(&mut self, step: &Step<'_>, label: &[u8]) -> bool {
        if !self.flags.background || !label.starts_with(b"GC ") || label == b"GC (idle)" {
            return false;
        }
        match self.bg_running.entry(step.goroutine) {
            Entry::Occupied(_) => return false,
            Entry::Vacant(v) => v.insert(step.proc),
        };
        if let Some(gc) = self.p(step.proc) {
            *gc += 1;
        }
        true
    }

    /// Moves the points in `recent` to `out`. The first time, the times
    /// between them (a generation's worth) give the quantum of the times:
    /// the largest power of two, up to [`MAX_QUANTUM`], that divides nine
    /// in ten of them (Go's reader moves a time that equals the one before
    /// by a nanosecond, so a few are off).
    fn flush(&mut self) {
        if self.out.is_empty() {
            let gaps: Vec<i64> = self
                .recent
                .windows(2)
                .map(|w| w[1].time.wrapping_sub(w[0].time))
                .collect();
            let divides =
                |q: i64| gaps.iter().filter(|&&g| g % q == 0).count() * 10 >= gaps.len() * 9;
            self.out.quantum = (0..=MAX_QUANTUM.ilog2())
                .rev()
                .map(|k| 1i64 << k)
                .find(|&q| divides(q))
                .unwrap_or(1);
        }
        for p in self.recent.drain(..) {
            self.out.push(p);
        }
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
        if let Some(last) = self.recent.last_mut() {
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
        if self.syncs > 1 {
            self.flush();
        }
        self.recent.push(p);
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

    #[test]
    fn points_come_back_as_they_went_in() {
        // Enough points for several chunks, more distinct values than the
        // table holds, and times that jump anywhere (a damaged trace).
        let points: Vec<UtilPoint> = (0..400_000i64)
            .map(|i| UtilPoint {
                time: match i % 1000 {
                    999 => i64::MAX - i,
                    998 => i64::MIN + i,
                    _ => i * 977,
                },
                util: (i % 300) as f64 / 299.0,
            })
            .collect();
        let mut u = MutatorUtilization {
            quantum: 977,
            ..MutatorUtilization::default()
        };
        for &p in &points {
            u.push(p);
        }
        u.shrink_to_fit();
        assert!(u.chunks.len() > 1, "{} chunks", u.chunks.len());
        assert!(u.points().eq(points.iter().copied()));
        let (first, last) = (points[0].time, points[points.len() - 1].time);
        assert_eq!(u.span(), Some((first, last)));
    }

    fn curve(points: &[(Time, f64)]) -> MutatorUtilization {
        let mut u = MutatorUtilization::default();
        for &(time, util) in points {
            u.push(UtilPoint { time, util });
        }
        u
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
        t.finish().points().map(|p| (p.time, p.util)).collect()
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
    fn a_worker_counts_from_its_label_to_its_stop_every_run() {
        use GoState::*;
        // Go's reader counts a worker it knows from an earlier label twice
        // when it starts again (the start, then the label); the one-off
        // stays counted after it stops, and the P is taken for GC work
        // until the end of the trace.
        let mut steps = vec![
            step(0, -1, -1, What::Sync),
            step(1, -1, -1, What::Gomaxprocs(2)),
        ];
        for run in 0..3 {
            let t = 10 + run * 10;
            steps.push(go(t, 0, 7, Waiting, Running));
            steps.push(step(t, 7, 0, What::Label(b"GC (dedicated)")));
            steps.push(go(t + 5, 0, 7, Running, Waiting));
        }
        // An idle worker's run costs the program nothing.
        steps.push(go(50, 1, 7, Waiting, Running));
        steps.push(step(50, 7, 1, What::Label(b"GC (idle)")));
        steps.push(go(55, 1, 7, Running, Waiting));
        steps.push(step(60, -1, -1, What::Sync));
        assert_eq!(
            default_points(&steps),
            [
                (1, 1.0),
                (10, 0.5),
                (15, 1.0),
                (20, 0.5),
                (25, 1.0),
                (30, 0.5),
                (35, 1.0),
                (60, 0.0),
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
