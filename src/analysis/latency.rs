//! Latency intervals and their outliers.
//!
//! An interval is a span of time a goroutine spent in one situation, from the
//! event that put it there to the event that took it out:
//!
//! - [`LatencyKind::Sched`]: runnable, waiting for a P (the scheduler
//!   latency of Go's `cmd/trace` "sched" profile);
//! - [`LatencyKind::Block`]: waiting, labelled with the reason of the
//!   transition into waiting, exactly as the dump prints it;
//! - [`LatencyKind::Syscall`]: in a system call;
//! - [`LatencyKind::Region`] and [`LatencyKind::Task`]: user regions (per
//!   goroutine, innermost ending first) and tasks, labelled by type;
//! - [`LatencyKind::StopTheWorld`] and [`LatencyKind::MarkAssist`]: the
//!   goroutine-scoped GC ranges, stop-the-world labelled by its reason.
//!
//! The goroutine kinds follow Go's `cmd/trace/pprof.go`: an interval opens
//! when a goroutine enters the state and closes at its next transition to any
//! other state. Transitions whose two states are equal say nothing new: at
//! every generation start Go's reader re-states each goroutine's status as
//! such a transition (`Waiting->Waiting`, with an empty reason), so they
//! neither close nor restart an interval, which is how intervals crossing
//! generation boundaries come out whole. Likewise a mark assist found active
//! at a generation start continues the one already open.
//!
//! Only intervals whose both ends are in the trace are measured: one entered
//! from `Undetermined` (the goroutine was already in that state when the
//! trace began), a range first seen active, a region or task whose begin is
//! missing, and anything still open when the trace ends (or when its
//! goroutine exits) are dropped, since their length is unknown.
//!
//! Memory stays bounded by what is open at a time, plus per kind a [`TopK`]
//! of the longest intervals and [`LogHistogram`]s of all of them.
//!
//! Goroutine waits also feed the latency profiles (`profile.rs`): the stack
//! a wait began at is interned when its interval opens, and the interval is
//! added to it when it closes.

use std::collections::hash_map::Entry;

use crate::trace::{FxHashMap, FxHashSet};

use super::histogram::LogHistogram;
use super::labels::{Label, Labels};
use super::profile::{Origin, ProfileBuilder, StackId};
use super::step::{Edge, GcRange, GoChange, Step, What};
use super::stitch::Moved;
use super::topk::TopK;
use crate::trace::{GoId, GoState, TaskId, Time};

/// What an interval measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LatencyKind {
    /// Runnable until running.
    Sched,
    /// Waiting (blocked), by reason.
    Block,
    /// In a system call.
    Syscall,
    /// A user region, by type.
    Region,
    /// A user task, by type.
    Task,
    /// A stop-the-world pause, by reason.
    StopTheWorld,
    /// A GC mark assist.
    MarkAssist,
}

impl LatencyKind {
    /// Every kind.
    pub const ALL: [LatencyKind; 7] = [
        LatencyKind::Sched,
        LatencyKind::Block,
        LatencyKind::Syscall,
        LatencyKind::Region,
        LatencyKind::Task,
        LatencyKind::StopTheWorld,
        LatencyKind::MarkAssist,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The kind of interval a goroutine state opens, if any.
    fn of_state(state: GoState) -> Option<LatencyKind> {
        match state {
            GoState::Runnable => Some(LatencyKind::Sched),
            GoState::Waiting => Some(LatencyKind::Block),
            GoState::Syscall => Some(LatencyKind::Syscall),
            _ => None,
        }
    }
}

/// One measured interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    /// What was measured.
    pub kind: LatencyKind,
    /// The goroutine (for tasks: the one that began it).
    pub goroutine: GoId,
    /// Start, in the trace's nanoseconds (as the dump's `Time=`).
    pub start: Time,
    /// End, same clock.
    pub end: Time,
    /// Block or stop-the-world reason, region or task type; empty otherwise.
    pub label: Label,
    /// Where a scheduler wait, block or syscall began, in the latency
    /// profile; the root for the other kinds.
    pub stack: StackId,
}

impl Interval {
    /// Length in nanoseconds.
    pub fn duration(&self) -> Time {
        self.end - self.start
    }
}

/// An interval ordered by how much of an outlier it is: longer first, then
/// earlier, then lower goroutine ID (the rest only makes the order total).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ranked(Interval);

impl Ord for Ranked {
    fn cmp(&self, other: &Ranked) -> std::cmp::Ordering {
        let (a, b) = (&self.0, &other.0);
        a.duration()
            .cmp(&b.duration())
            .then(b.start.cmp(&a.start))
            .then(b.goroutine.cmp(&a.goroutine))
            .then(b.kind.cmp(&a.kind))
            .then(b.label.cmp(&a.label))
            .then(b.stack.cmp(&a.stack))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Ranked) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The measured intervals of one kind.
#[derive(Clone, Debug)]
struct KindStats {
    top: TopK<Ranked>,
    /// Shorter intervals cannot be among the outliers kept (see
    /// `OutlierFloor`): they are only counted.
    floor: Time,
    all: LogHistogram,
}

/// Outliers and distributions of every kind of interval in a trace.
#[derive(Clone, Debug)]
pub struct Latencies {
    kinds: Vec<KindStats>,
}

impl Latencies {
    fn new(top: usize) -> Latencies {
        let stats = KindStats {
            top: TopK::new(top),
            floor: Time::MIN,
            all: LogHistogram::default(),
        };
        Latencies {
            kinds: vec![stats; LatencyKind::ALL.len()],
        }
    }

    fn record(&mut self, interval: Interval) {
        let k = &mut self.kinds[interval.kind.index()];
        k.all.add(interval.duration());
        if interval.duration() >= k.floor {
            k.top.offer(Ranked(interval));
        }
    }

    /// Adds what `other` measured, its labels and stacks moved here.
    fn absorb(&mut self, other: Latencies, moved: &Moved) {
        for (mine, theirs) in self.kinds.iter_mut().zip(other.kinds) {
            mine.all.merge(&theirs.all);
            for Ranked(i) in theirs.top.into_items() {
                mine.top.offer(Ranked(Interval {
                    label: moved.label(i.label),
                    stack: moved.stack(i.stack),
                    ..i
                }));
            }
        }
    }

    /// The longest intervals of a kind (as many as the analysis was asked to
    /// keep), longest first, ties by start time then goroutine.
    pub fn outliers(&self, kind: LatencyKind) -> Vec<Interval> {
        self.kinds[kind.index()]
            .top
            .sorted()
            .into_iter()
            .map(|r| r.0)
            .collect()
    }

    /// The distribution of all intervals of a kind.
    pub fn histogram(&self, kind: LatencyKind) -> &LogHistogram {
        &self.kinds[kind.index()].all
    }
}

/// An open goroutine state: since when, why, where, and whether its start
/// is known.
#[derive(Clone, Copy, Debug)]
struct OpenState {
    state: GoState,
    since: Time,
    label: Label,
    origin: Origin,
    known: bool,
}

impl OpenState {
    /// This, with its start, label and origin moved by `moved`.
    fn moved(&self, moved: &Moved) -> OpenState {
        OpenState {
            since: moved.time(self.since),
            label: moved.label(self.label),
            origin: self.origin.moved(&moved.stacks),
            ..*self
        }
    }
}

/// An open range, region or task; `since` is `None` when its start
/// precedes the trace.
#[derive(Clone, Copy, Debug)]
struct Open {
    since: Option<Time>,
    label: Label,
    goroutine: GoId,
}

impl Open {
    /// This, with its label and start moved by `moved`.
    fn moved(&self, moved: &Moved) -> Open {
        Open {
            since: self.since.map(|t| moved.time(t)),
            label: moved.label(self.label),
            ..*self
        }
    }
}

/// Replaces, in `mine`, the entries of the `changed` keys by those `theirs`
/// has (moved here by `move_here`), if any.
fn replace<K: std::hash::Hash + Eq + Copy, V>(
    mine: &mut FxHashMap<K, V>,
    theirs: &FxHashMap<K, V>,
    changed: &FxHashSet<K>,
    move_here: impl Fn(&V) -> V,
) {
    for key in changed {
        mine.remove(key);
        if let Some(value) = theirs.get(key) {
            mine.insert(*key, move_here(value));
        }
    }
}

/// A GC range open on a goroutine.
type RangeKey = (GoId, LatencyKind);

/// What a tracker that sees one generation apart cannot
/// settle alone: the ends of what began before the generation, and which
/// of the things open before it the generation changed. The stitcher
/// (`stitch.rs`) settles them against what the earlier generations left
/// open, which is exactly what a tracker over the whole trace holds when
/// the generation begins.
///
/// The first change to a goroutine's state, task or range in the
/// generation decides: an end with nothing of the generation open ends
/// what was open before; any other change replaces it. Regions nest, so a
/// region end with no region of the generation open ends the innermost
/// one open before, until the goroutine exits.
#[derive(Debug, Default)]
struct Earlier {
    /// Goroutines whose first change of state leaves one entered earlier,
    /// and when.
    state_ends: Vec<(GoId, Time)>,
    /// Goroutines that changed state: their state at the end (if any)
    /// replaces the earlier one.
    states: FxHashSet<GoId>,
    /// In order: a goroutine ends a region begun earlier (`Some`), or
    /// exits, dropping those left (`None`).
    region_ends: Vec<(GoId, Option<Time>)>,
    /// Goroutines whose regions begun earlier are gone (they exited).
    exited: FxHashSet<GoId>,
    /// Goroutines that began regions: theirs at the end go on top of the
    /// earlier ones.
    regions: FxHashSet<GoId>,
    /// Tasks ended with their begin earlier, and when.
    task_ends: Vec<(TaskId, Time)>,
    /// Tasks begun or ended: their state at the end replaces the earlier.
    tasks: FxHashSet<TaskId>,
    /// Ranges ended with their begin earlier, and when.
    range_ends: Vec<(RangeKey, Time)>,
    /// Ranges begun or ended: their state at the end replaces the earlier.
    ranges: FxHashSet<RangeKey>,
    /// Ranges only found active: they continue the earlier range, or
    /// else began before the trace.
    active: FxHashMap<RangeKey, Open>,
    /// Times up to this one are of the generation's first events, which
    /// the whole trace may move later (see `stitch.rs`): an interval that
    /// begins at one is measured by the stitcher.
    provisional: Time,
    /// Those intervals, with where they began, in the generation's times.
    deferred: Vec<(Interval, Origin)>,
}

/// The streaming state that turns steps into intervals.
#[derive(Debug)]
pub(crate) struct LatencyTracker {
    states: FxHashMap<GoId, OpenState>,
    regions: FxHashMap<GoId, Vec<Open>>,
    tasks: FxHashMap<TaskId, Open>,
    ranges: FxHashMap<RangeKey, Open>,
    out: Latencies,
    /// Set when the tracker sees a generation apart.
    earlier: Option<Box<Earlier>>,
}

impl LatencyTracker {
    /// A tracker keeping the `top` longest intervals of each kind.
    pub fn new(top: usize) -> LatencyTracker {
        LatencyTracker {
            states: FxHashMap::default(),
            regions: FxHashMap::default(),
            tasks: FxHashMap::default(),
            ranges: FxHashMap::default(),
            out: Latencies::new(top),
            earlier: None,
        }
    }

    /// A tracker for one generation seen apart from the others (decoded on
    /// its own: the status events opening it come as transitions from
    /// `Undetermined`), to be stitched after the earlier ones with
    /// [`LatencyTracker::absorb`]. The first generation too: what it
    /// leaves unsettled settles against nothing, as in a pass over the
    /// whole trace, where the states its status events restate have no
    /// known start.
    pub fn apart(top: usize) -> LatencyTracker {
        let earlier = Earlier {
            provisional: Time::MAX,
            ..Earlier::default()
        };
        LatencyTracker {
            earlier: Some(Box::new(earlier)),
            ..LatencyTracker::new(top)
        }
    }

    /// Intervals beginning after `t` have their final times (a tracker
    /// [`LatencyTracker::apart`] defers all until told).
    pub fn provisional_until(&mut self, t: Time) {
        if let Some(earlier) = self.earlier.as_deref_mut() {
            earlier.provisional = t;
        }
    }

    /// Records `interval`, which began at `origin`, unless its start is
    /// provisional: then the stitcher will.
    /// Goroutine waits go to `profile` too (the other kinds have none).
    fn record(&mut self, interval: Interval, origin: Origin, profile: Option<&mut ProfileBuilder>) {
        match self.earlier.as_deref_mut() {
            Some(earlier) if interval.start <= earlier.provisional => {
                earlier.deferred.push((interval, origin));
            }
            _ => {
                if let Some(profile) = profile {
                    profile.add(interval.kind, origin, interval.duration());
                }
                self.out.record(interval);
            }
        }
    }

    /// Keeps no outlier of kind `LatencyKind::ALL[i]` shorter than
    /// `floors[i]` (only counts it): none could be among those kept.
    pub fn set_floors(&mut self, floors: [Time; LatencyKind::ALL.len()]) {
        for (k, floor) in self.out.kinds.iter_mut().zip(floors) {
            k.floor = floor;
        }
    }

    /// Per kind, the duration of the shortest outlier kept, once as many
    /// are kept as asked for.
    pub fn least_kept(&self) -> impl Iterator<Item = Option<Time>> + '_ {
        let kinds = self.out.kinds.iter();
        kinds.map(|k| k.top.least_when_full().map(|r| r.0.duration()))
    }

    /// Stitches on `part`, the tracker of the next generation seen apart
    /// (its labels and stacks moved here by `moved`), as if this tracker
    /// had seen its steps; the intervals crossing into it are measured
    /// with `profile`.
    pub fn absorb(
        &mut self,
        mut part: LatencyTracker,
        moved: &Moved,
        profile: &mut ProfileBuilder,
    ) {
        self.out.absorb(part.out, moved);
        let Some(earlier) = part.earlier.take() else {
            return;
        };
        for &(interval, origin) in &earlier.deferred {
            let interval = Interval {
                start: moved.time(interval.start),
                end: moved.time(interval.end),
                label: moved.label(interval.label),
                stack: moved.stack(interval.stack),
                ..interval
            };
            self.record(interval, origin.moved(&moved.stacks), Some(&mut *profile));
        }
        for &(g, t) in &earlier.state_ends {
            if let Some(open) = self.states.get(&g).copied() {
                self.measure(g, open, moved.time(t), profile);
            }
        }
        let move_state = |open: &OpenState| open.moved(moved);
        replace(&mut self.states, &part.states, &earlier.states, move_state);
        self.absorb_regions(&earlier, &mut part.regions, moved);
        for &(id, t) in &earlier.task_ends {
            if let Some(open) = self.tasks.remove(&id) {
                self.close(LatencyKind::Task, open, moved.time(t));
            }
        }
        let move_open = |open: &Open| open.moved(moved);
        replace(&mut self.tasks, &part.tasks, &earlier.tasks, move_open);
        for &(key, t) in &earlier.range_ends {
            if let Some(open) = self.ranges.remove(&key) {
                self.close(key.1, open, moved.time(t));
            }
        }
        replace(&mut self.ranges, &part.ranges, &earlier.ranges, move_open);
        for (key, open) in &earlier.active {
            self.ranges.entry(*key).or_insert(open.moved(moved));
        }
    }

    fn absorb_regions(
        &mut self,
        earlier: &Earlier,
        theirs: &mut FxHashMap<GoId, Vec<Open>>,
        moved: &Moved,
    ) {
        for &(g, end) in &earlier.region_ends {
            match end {
                Some(t) => {
                    if let Some(open) = self.regions.get_mut(&g).and_then(Vec::pop) {
                        self.close(LatencyKind::Region, open, moved.time(t));
                    }
                }
                None => {
                    self.regions.remove(&g);
                }
            }
        }
        for g in &earlier.regions {
            if let Some(stack) = theirs.remove(g).filter(|s| !s.is_empty()) {
                let mine = self.regions.entry(*g).or_default();
                mine.extend(stack.iter().map(|o| o.moved(moved)));
            }
        }
    }

    /// Feeds one step; goroutine waits go to `profile` too.
    pub fn step(&mut self, step: &Step<'_>, labels: &mut Labels, profile: &mut ProfileBuilder) {
        match step.what {
            What::Sync => profile.new_generation(),
            What::Go(ref change) => self.go_change(step.time, change, labels, profile),
            What::Range(edge, range) => self.range(step.time, edge, range, labels),
            What::Region(edge, name) => self.region(step.time, edge, step.goroutine, name, labels),
            What::Task(edge, id, name) => {
                self.task(step.time, edge, id, step.goroutine, name, labels)
            }
            _ => {}
        }
    }

    /// The result; whatever is still open is dropped.
    pub fn finish(self) -> Latencies {
        self.out
    }

    fn go_change(
        &mut self,
        time: Time,
        c: &GoChange<'_>,
        labels: &mut Labels,
        profile: &mut ProfileBuilder,
    ) {
        // Seen apart, a generation opens with each goroutine's status as
        // a transition from `Undetermined`: in the whole trace it restates
        // the state the goroutine was in.
        let restated = c.from == GoState::Undetermined && self.earlier.is_some();
        if c.from == c.to || restated {
            return;
        }
        let left = if c.to == GoState::NotExist {
            self.regions.remove(&c.id);
            if let Some(earlier) = self.earlier.as_deref_mut()
                && earlier.exited.insert(c.id)
            {
                earlier.region_ends.push((c.id, None));
            }
            self.states.remove(&c.id)
        } else {
            let open = Self::entered(time, c, labels, profile);
            // One lookup for both the state left and the one entered.
            match self.states.entry(c.id) {
                Entry::Occupied(mut o) => Some(std::mem::replace(o.get_mut(), open)),
                Entry::Vacant(v) => {
                    v.insert(open);
                    None
                }
            }
        };
        match left {
            Some(open) => self.measure(c.id, open, time, profile),
            None => {
                if let Some(earlier) = self.earlier.as_deref_mut()
                    && earlier.states.insert(c.id)
                {
                    earlier.state_ends.push((c.id, time));
                }
            }
        }
    }

    /// The state goroutine change `c` enters at `time`.
    fn entered(
        time: Time,
        c: &GoChange<'_>,
        labels: &mut Labels,
        profile: &mut ProfileBuilder,
    ) -> OpenState {
        let label = if c.to == GoState::Waiting {
            labels.intern(c.reason)
        } else {
            Label::EMPTY
        };
        let known = c.from != GoState::Undetermined;
        // Only a wait that will be measured needs its stack.
        let origin = if known && LatencyKind::of_state(c.to).is_some() {
            profile.intern(&c.origin, labels)
        } else {
            Origin::default()
        };
        OpenState {
            state: c.to,
            since: time,
            label,
            origin,
            known,
        }
    }

    /// Measures the state `open` goroutine `g` leaves at `time`, if its
    /// start is known and it is a latency.
    fn measure(&mut self, g: GoId, open: OpenState, time: Time, profile: &mut ProfileBuilder) {
        if open.known
            && let Some(kind) = LatencyKind::of_state(open.state)
        {
            let interval = Interval {
                kind,
                goroutine: g,
                start: open.since,
                end: time,
                label: open.label,
                stack: open.origin.stack,
            };
            self.record(interval, open.origin, Some(profile));
        }
    }

    fn range(&mut self, time: Time, edge: Edge, range: GcRange<'_>, labels: &mut Labels) {
        let (kind, label, g) = match range {
            GcRange::StopTheWorld(reason, g) => {
                (LatencyKind::StopTheWorld, labels.intern(reason), g)
            }
            GcRange::MarkAssist(g) => (LatencyKind::MarkAssist, Label::EMPTY, g),
            GcRange::Sweep => return,
        };
        let key = (g, kind);
        let earlier = self.earlier.as_deref_mut();
        match edge {
            Edge::Begin => {
                if let Some(earlier) = earlier {
                    earlier.ranges.insert(key);
                    earlier.active.remove(&key);
                }
                let open = Open {
                    since: Some(time),
                    label,
                    goroutine: g,
                };
                self.ranges.insert(key, open);
            }
            Edge::Active => {
                let open = Open {
                    since: None,
                    label,
                    goroutine: g,
                };
                match earlier {
                    // Open before the generation, or else before the trace.
                    Some(earlier) if !earlier.ranges.contains(&key) => {
                        earlier.active.entry(key).or_insert(open);
                    }
                    _ => {
                        self.ranges.entry(key).or_insert(open);
                    }
                }
            }
            Edge::End => match self.ranges.remove(&key) {
                Some(open) => self.close(kind, open, time),
                None => {
                    if let Some(earlier) = earlier
                        && earlier.ranges.insert(key)
                    {
                        earlier.active.remove(&key);
                        earlier.range_ends.push((key, time));
                    }
                }
            },
        }
    }

    fn region(&mut self, time: Time, edge: Edge, g: GoId, name: &[u8], labels: &mut Labels) {
        match edge {
            Edge::Begin | Edge::Active => {
                if let Some(earlier) = self.earlier.as_deref_mut() {
                    earlier.regions.insert(g);
                }
                let open = Open {
                    since: Some(time),
                    label: labels.intern(name),
                    goroutine: g,
                };
                self.regions.entry(g).or_default().push(open);
            }
            Edge::End => match self.regions.get_mut(&g).and_then(Vec::pop) {
                Some(open) => self.close(LatencyKind::Region, open, time),
                None => {
                    if let Some(earlier) = self.earlier.as_deref_mut()
                        && !earlier.exited.contains(&g)
                    {
                        earlier.region_ends.push((g, Some(time)));
                    }
                }
            },
        }
    }

    fn task(
        &mut self,
        time: Time,
        edge: Edge,
        id: TaskId,
        g: GoId,
        name: &[u8],
        labels: &mut Labels,
    ) {
        match edge {
            Edge::Begin | Edge::Active => {
                if let Some(earlier) = self.earlier.as_deref_mut() {
                    earlier.tasks.insert(id);
                }
                let open = Open {
                    since: Some(time),
                    label: labels.intern(name),
                    goroutine: g,
                };
                self.tasks.insert(id, open);
            }
            Edge::End => match self.tasks.remove(&id) {
                Some(open) => self.close(LatencyKind::Task, open, time),
                None => {
                    if let Some(earlier) = self.earlier.as_deref_mut()
                        && earlier.tasks.insert(id)
                    {
                        earlier.task_ends.push((id, time));
                    }
                }
            },
        }
    }

    fn close(&mut self, kind: LatencyKind, open: Open, end: Time) {
        if let Some(start) = open.since {
            let interval = Interval {
                kind,
                goroutine: open.goroutine,
                start,
                end,
                label: open.label,
                stack: StackId::ROOT,
            };
            self.record(interval, Origin::default(), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::step::{Frames, GoChange};
    use crate::trace::GoState::*;

    fn go(time: Time, id: GoId, from: GoState, to: GoState, reason: &'static str) -> Step<'static> {
        Step {
            time,
            goroutine: -1,
            proc: 0,
            what: What::Go(GoChange {
                id,
                from,
                to,
                reason: reason.as_bytes(),
                stack: Frames::None,
                origin: Frames::None,
            }),
        }
    }

    fn on(time: Time, g: GoId, what: What<'static>) -> Step<'static> {
        Step {
            time,
            goroutine: g,
            proc: 0,
            what,
        }
    }

    fn run(steps: &[Step<'_>]) -> (Latencies, Labels) {
        let mut labels = Labels::default();
        let mut t = LatencyTracker::new(100);
        let mut profile = ProfileBuilder::default();
        for s in steps {
            t.step(s, &mut labels, &mut profile);
        }
        (t.finish(), labels)
    }

    fn spans(l: &Latencies, kind: LatencyKind) -> Vec<(GoId, Time, Time)> {
        l.outliers(kind)
            .iter()
            .map(|i| (i.goroutine, i.start, i.end))
            .collect()
    }

    #[test]
    fn goroutine_states_become_intervals() {
        let (l, labels) = run(&[
            go(10, 1, NotExist, Runnable, ""),
            go(15, 2, Undetermined, Runnable, ""),
            go(20, 1, Runnable, Running, ""),
            go(25, 2, Runnable, Running, ""),
            go(30, 1, Running, Waiting, "chan receive"),
            // A generation boundary re-states the status: no split.
            go(40, 1, Waiting, Waiting, ""),
            go(50, 1, Waiting, Runnable, ""),
            go(60, 1, Runnable, Running, ""),
            go(70, 1, Running, Syscall, ""),
            go(75, 1, Syscall, Running, ""),
            go(80, 1, Running, Waiting, "select"),
        ]);
        assert_eq!(
            spans(&l, LatencyKind::Sched),
            vec![(1, 10, 20), (1, 50, 60)]
        );
        assert_eq!(spans(&l, LatencyKind::Syscall), vec![(1, 70, 75)]);
        let block = l.outliers(LatencyKind::Block);
        assert_eq!(block.len(), 1);
        assert_eq!((block[0].start, block[0].end), (30, 50));
        assert_eq!(labels.text(block[0].label), "chan receive");
        assert_eq!(l.histogram(LatencyKind::Block).count(), 1);
    }

    #[test]
    fn outliers_are_longest_first_then_earliest_then_lowest_goroutine() {
        let (l, _) = run(&[
            go(0, 3, NotExist, Runnable, ""),
            go(1, 2, NotExist, Runnable, ""),
            go(2, 1, NotExist, Runnable, ""),
            go(11, 3, Runnable, Running, ""),
            go(11, 2, Runnable, Running, ""),
            go(12, 1, Runnable, Running, ""),
        ]);
        assert_eq!(
            spans(&l, LatencyKind::Sched),
            vec![(3, 0, 11), (2, 1, 11), (1, 2, 12)]
        );
    }

    #[test]
    fn ranges_regions_and_tasks() {
        let stw = GcRange::StopTheWorld(b"GC mark termination", 1);
        let (l, labels) = run(&[
            on(1, 5, What::Range(Edge::Active, GcRange::MarkAssist(5))),
            on(2, 5, What::Range(Edge::End, GcRange::MarkAssist(5))),
            on(3, 6, What::Range(Edge::Begin, GcRange::MarkAssist(6))),
            on(4, 6, What::Range(Edge::Active, GcRange::MarkAssist(6))),
            on(9, 6, What::Range(Edge::End, GcRange::MarkAssist(6))),
            on(10, 1, What::Range(Edge::Begin, stw)),
            on(12, 1, What::Range(Edge::End, stw)),
            on(13, 1, What::Region(Edge::End, b"before")),
            on(14, 1, What::Task(Edge::Begin, 7, b"job")),
            on(15, 1, What::Region(Edge::Begin, b"outer")),
            on(16, 1, What::Region(Edge::Begin, b"inner")),
            on(18, 1, What::Region(Edge::End, b"inner")),
            on(19, 2, What::Task(Edge::End, 7, b"job")),
            on(20, 2, What::Task(Edge::End, 8, b"")),
            on(25, 1, What::Region(Edge::End, b"outer")),
            on(26, 1, What::Region(Edge::Begin, b"lost")),
            go(27, 1, Running, NotExist, ""),
        ]);
        assert_eq!(spans(&l, LatencyKind::MarkAssist), vec![(6, 3, 9)]);
        assert_eq!(spans(&l, LatencyKind::StopTheWorld), vec![(1, 10, 12)]);
        let regions = l.outliers(LatencyKind::Region);
        let names: Vec<(String, Time)> = regions
            .iter()
            .map(|r| (labels.text(r.label), r.duration()))
            .collect();
        assert_eq!(names, [("outer".to_string(), 10), ("inner".to_string(), 2)]);
        assert_eq!(spans(&l, LatencyKind::Task), vec![(1, 14, 19)]);
    }

    #[test]
    fn top_limits_what_is_kept_but_not_the_histogram() {
        let mut labels = Labels::default();
        let mut t = LatencyTracker::new(1);
        let mut profile = ProfileBuilder::default();
        for s in [
            go(0, 1, NotExist, Runnable, ""),
            go(0, 2, NotExist, Runnable, ""),
            go(5, 1, Runnable, Running, ""),
            go(9, 2, Runnable, Running, ""),
        ] {
            t.step(&s, &mut labels, &mut profile);
        }
        let l = t.finish();
        assert_eq!(spans(&l, LatencyKind::Sched), vec![(2, 0, 9)]);
        assert_eq!(l.histogram(LatencyKind::Sched).count(), 2);
    }
}
