//! Goroutine analysis: where goroutines spent their time, per start function.
//!
//! Per goroutine, the time is split as Go's `internal/trace/summary.go` splits
//! it (the numbers of `go tool trace`'s goroutine pages):
//!
//! - execution (running), scheduler wait (runnable), block time per reason
//!   (waiting), syscall time, and syscall block time: the part of a syscall
//!   after its P was taken away (the P went idle while the goroutine was in
//!   the syscall), which Go reports as "Block time (syscall)";
//! - a goroutine first seen in a generation's status (`Undetermined`) is
//!   taken to have been in that state since the generation's Sync;
//! - waiting with reason `forever` counts as the goroutine's end, as exiting
//!   does; goroutines alive at the end of the trace are closed at its last
//!   event, their open state counted up to it.
//!
//! Two deviations, where Go's bookkeeping slips: for a goroutine still in a
//! syscall that lost its P when the trace ends, Go adds the time since the P
//! was lost to the scheduler wait *and* the whole syscall to the syscall
//! time, while here the open syscall is split exactly as a closed one is; and
//! when a goroutine leaves a syscall, Go forgets whichever goroutine is now
//! in a syscall on the P it entered on (possibly another one, after a P
//! steal), while here only its own entry is forgotten.
//!
//! A goroutine's start function is the outermost frame of the first
//! transition stack seen for it (Go's `GoroutineSummary.Name`/`PC`); those
//! never seen with a stack get the empty name. Goroutines are folded into
//! their start function's totals when they end, leaving behind only a small
//! fixed-size record of their own totals ([`GoroutineTimes`]), so memory is
//! bounded by the live goroutines, one record per start function and 32
//! bytes per goroutine seen.

use crate::trace::FxHashMap;

use super::labels::{Label, Labels};
use super::step::{GoChange, Step, What};
use crate::trace::{GoId, GoState, NO_PROC, ProcId, Time};

/// Total and maximum of a per-goroutine quantity over a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    /// Sum over the goroutines, nanoseconds.
    pub total: Time,
    /// Largest value for one goroutine, nanoseconds.
    pub max: Time,
}

impl Stat {
    fn add(&mut self, v: Time) {
        self.total = self.total.saturating_add(v);
        self.max = self.max.max(v);
    }

    /// The mean over `count` goroutines (0 for none).
    pub fn mean(&self, count: u64) -> Time {
        if count == 0 {
            0
        } else {
            self.total / count as Time
        }
    }
}

/// The goroutines sharing a start function, and where their time went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartFunction {
    /// Function name (empty if no stack was ever seen).
    pub name: Label,
    /// The start PC seen first (0 if none).
    pub pc: u64,
    /// Number of goroutines.
    pub count: u64,
    /// Time from creation (or the first Sync) to exit (or the trace end).
    pub lifetime: Stat,
    /// Running.
    pub exec: Stat,
    /// Runnable, waiting to be scheduled.
    pub sched_wait: Stat,
    /// Blocked, per reason (in order of first appearance).
    pub block: Vec<(Label, Stat)>,
    /// In a syscall, holding a P.
    pub syscall: Stat,
    /// In a syscall after losing the P.
    pub syscall_block: Stat,
}

/// One goroutine's own totals, kept for every goroutine of the trace
/// (packed, see [`PerGoroutine`]). Only what the goroutine table shows per
/// goroutine is kept (its lifetime, for one, is only summed over its
/// group).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GoroutineTimes {
    /// The goroutine.
    pub id: GoId,
    /// Running, nanoseconds.
    pub exec: Time,
    /// Runnable, waiting to be scheduled, nanoseconds.
    pub sched_wait: Time,
    /// Blocked, for any reason, nanoseconds.
    pub block: Time,
    /// In a syscall, holding a P or not, nanoseconds.
    pub syscall: Time,
}

impl GoroutineTimes {
    /// The record of goroutine `id`, which spent `t`.
    fn of(id: GoId, t: &Times) -> GoroutineTimes {
        GoroutineTimes {
            id,
            exec: t.exec,
            sched_wait: t.sched_wait,
            block: t
                .block
                .iter()
                .fold(0, |sum: Time, &(_, d)| sum.saturating_add(d)),
            syscall: t.syscall.saturating_add(t.syscall_block),
        }
    }

    /// Adds the totals of `other` (another life of the same goroutine).
    fn absorb(&mut self, other: &GoroutineTimes) {
        self.exec = self.exec.saturating_add(other.exec);
        self.sched_wait = self.sched_wait.saturating_add(other.sched_wait);
        self.block = self.block.saturating_add(other.block);
        self.syscall = self.syscall.saturating_add(other.syscall);
    }
}

/// Every goroutine's own totals, by goroutine ID.
///
/// Packed, 32 bytes a goroutine rather than 40: the 683k goroutines of the
/// 1 GB benchmark trace take 22 MB. Each total takes 48 bits, which hold
/// 78 hours; one at least that long (damaged timestamps) reads back as
/// [`Time::MAX`], as a saturated sum does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PerGoroutine {
    /// Sorted by ID, one record per ID.
    by_id: Vec<Packed>,
}

impl PerGoroutine {
    /// Sorts `records` by ID; a goroutine ended more than once (waiting
    /// forever, then seen again in a later generation) gets one record of
    /// its lives' sums.
    fn new(mut records: Vec<Packed>) -> PerGoroutine {
        // Unstable: no scratch copy of 600k records; equal IDs are summed.
        records.sort_unstable_by_key(|t| t.id);
        records.dedup_by(|later, first| {
            let same = later.id == first.id;
            if same {
                let mut sum = first.unpack();
                sum.absorb(&later.unpack());
                *first = Packed::new(&sum);
            }
            same
        });
        records.shrink_to_fit();
        PerGoroutine { by_id: records }
    }

    /// The totals of goroutine `id`, if it was seen.
    pub fn get(&self, id: GoId) -> Option<GoroutineTimes> {
        let i = self.by_id.binary_search_by_key(&id, |t| t.id).ok()?;
        self.by_id.get(i).map(Packed::unpack)
    }

    /// All records, by ID.
    pub fn iter(&self) -> impl Iterator<Item = GoroutineTimes> + '_ {
        self.by_id.iter().map(Packed::unpack)
    }
}

/// Bytes of one total in a [`Packed`] record.
const PACKED_TIME_BYTES: usize = 6;

/// The largest total a [`Packed`] record holds: it stands for any larger.
const MAX_PACKED_TIME: u64 = (1 << (8 * PACKED_TIME_BYTES)) - 1;

/// A [`GoroutineTimes`] in 32 bytes: the ID, then the four totals in
/// [`PACKED_TIME_BYTES`] each, little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Packed {
    id: GoId,
    times: [u8; 4 * PACKED_TIME_BYTES],
}

impl Packed {
    fn new(t: &GoroutineTimes) -> Packed {
        let mut times = [0; 4 * PACKED_TIME_BYTES];
        let totals = [t.exec, t.sched_wait, t.block, t.syscall];
        for (out, total) in times.chunks_exact_mut(PACKED_TIME_BYTES).zip(totals) {
            let total = u64::try_from(total).unwrap_or(0).min(MAX_PACKED_TIME);
            let bytes = total.to_le_bytes();
            out.copy_from_slice(bytes.get(..PACKED_TIME_BYTES).unwrap_or_default());
        }
        Packed { id: t.id, times }
    }

    fn unpack(&self) -> GoroutineTimes {
        let mut totals = self.times.chunks_exact(PACKED_TIME_BYTES).map(|bytes| {
            let mut word = [0; 8];
            if let Some(low) = word.get_mut(..PACKED_TIME_BYTES) {
                low.copy_from_slice(bytes);
            }
            match u64::from_le_bytes(word) {
                MAX_PACKED_TIME => Time::MAX,
                total => total as Time,
            }
        });
        let mut next = || totals.next().unwrap_or_default();
        GoroutineTimes {
            id: self.id,
            exec: next(),
            sched_wait: next(),
            block: next(),
            syscall: next(),
        }
    }
}

/// One goroutine's time split, as it accumulates.
#[derive(Clone, Debug, Default)]
struct Times {
    exec: Time,
    sched_wait: Time,
    block: Vec<(Label, Time)>,
    syscall: Time,
    syscall_block: Time,
}

impl Times {
    fn add_block(&mut self, reason: Label, d: Time) {
        match self.block.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, t)) => *t = t.saturating_add(d),
            None => self.block.push((reason, d)),
        }
    }

    /// Adds `d` spent in `state` (for a syscall: holding a P or not).
    fn add_state(&mut self, state: GoState, reason: Label, has_p: bool, d: Time) {
        match state {
            GoState::Running => self.exec = self.exec.saturating_add(d),
            GoState::Runnable => self.sched_wait = self.sched_wait.saturating_add(d),
            GoState::Waiting => self.add_block(reason, d),
            GoState::Syscall if has_p => self.syscall = self.syscall.saturating_add(d),
            GoState::Syscall => self.syscall_block = self.syscall_block.saturating_add(d),
            _ => {}
        }
    }
}

/// A live goroutine.
#[derive(Clone, Debug)]
struct Live {
    name: Option<(Label, u64)>,
    created: Time,
    times: Times,
    /// The current state and when it began.
    state: GoState,
    since: Time,
    reason: Label,
    /// When the syscall in progress lost its P.
    lost_p: Option<Time>,
}

impl Live {
    fn new(created: Time) -> Live {
        Live {
            name: None,
            created,
            times: Times::default(),
            state: GoState::NotExist,
            since: created,
            reason: Label::EMPTY,
            lost_p: None,
        }
    }

    /// Counts the current state up to `time`.
    fn leave_state(&mut self, time: Time) {
        match (self.state, self.lost_p.take()) {
            (GoState::Syscall, Some(lost)) => {
                let (held, lost) = (lost.saturating_sub(self.since), time.saturating_sub(lost));
                self.times.syscall = self.times.syscall.saturating_add(held);
                self.times.syscall_block = self.times.syscall_block.saturating_add(lost);
            }
            (state, _) => {
                self.times
                    .add_state(state, self.reason, true, time.saturating_sub(self.since))
            }
        }
    }
}

/// The streaming state of the goroutine analysis.
#[derive(Debug, Default)]
pub(crate) struct GoroutineTracker {
    live: FxHashMap<GoId, Live>,
    /// Which goroutine is in a syscall on which P.
    syscall_on_p: FxHashMap<ProcId, GoId>,
    groups: FxHashMap<Label, StartFunction>,
    order: Vec<Label>,
    /// The goroutines ended so far, in the order they ended.
    ended: Vec<Packed>,
    sync_time: Option<Time>,
    last_time: Time,
}

impl GoroutineTracker {
    /// Feeds one step.
    pub fn step(&mut self, step: &Step<'_>, labels: &mut Labels) {
        let sync = *self.sync_time.get_or_insert(step.time);
        self.last_time = step.time;
        match step.what {
            What::Sync => self.sync_time = Some(step.time),
            What::Go(ref change) if change.from != change.to => {
                self.go_change(step, sync, change, labels)
            }
            What::ProcIdle(p) => self.proc_idle(step.time, p),
            _ => {}
        }
    }

    /// Closes every live goroutine at the last event and returns the start
    /// functions, by total execution time, longest first, and every
    /// goroutine's own totals.
    pub fn finish(mut self) -> (Vec<StartFunction>, PerGoroutine) {
        let mut ids: Vec<GoId> = self.live.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.end(id, self.last_time);
        }
        let mut groups = self.groups;
        let mut out: Vec<StartFunction> =
            self.order.iter().filter_map(|l| groups.remove(l)).collect();
        out.sort_by_key(|g| std::cmp::Reverse(g.exec.total));
        (out, PerGoroutine::new(self.ended))
    }

    fn go_change(&mut self, step: &Step<'_>, sync: Time, c: &GoChange<'_>, labels: &mut Labels) {
        let time = step.time;
        // Only time spent waiting is kept per reason.
        let reason = if c.to == GoState::Waiting {
            labels.intern(c.reason)
        } else {
            Label::EMPTY
        };
        match c.from {
            GoState::Undetermined | GoState::NotExist => self.appear(step, sync, c, reason),
            GoState::Syscall => self.syscall_on_p.retain(|_, id| *id != c.id),
            _ => {}
        }
        let Some(g) = self.live.get_mut(&c.id) else {
            return;
        };
        if !matches!(c.from, GoState::Undetermined | GoState::NotExist) {
            g.leave_state(time);
        }
        if g.name.is_none()
            && let Some((pc, func)) = c.stack.root()
        {
            g.name = Some((labels.intern(func), pc));
        }
        g.state = c.to;
        g.since = time;
        g.reason = reason;
        match c.to {
            GoState::NotExist => self.end(c.id, time),
            GoState::Waiting if c.reason == b"forever" => self.end(c.id, time),
            GoState::Syscall => {
                self.syscall_on_p.insert(step.proc, c.id);
            }
            _ => {}
        }
    }

    /// Starts tracking a goroutine that is created, or first seen in a
    /// status, which counts as in that state since the generation's Sync.
    fn appear(&mut self, step: &Step<'_>, sync: Time, c: &GoChange<'_>, reason: Label) {
        let g = if c.from == GoState::NotExist {
            Live::new(step.time)
        } else {
            let mut g = Live::new(sync);
            let has_p = step.proc != NO_PROC;
            g.times
                .add_state(c.to, reason, has_p, step.time.saturating_sub(sync));
            g
        };
        self.live.insert(c.id, g);
    }

    fn proc_idle(&mut self, time: Time, p: ProcId) {
        if let Some(id) = self.syscall_on_p.remove(&p)
            && let Some(g) = self.live.get_mut(&id)
            && g.state == GoState::Syscall
        {
            g.lost_p = Some(time);
        }
    }

    /// Ends goroutine `id` at `time` and folds it into its start function.
    fn end(&mut self, id: GoId, time: Time) {
        let Some(mut g) = self.live.remove(&id) else {
            return;
        };
        if time > g.since {
            g.leave_state(time);
        }
        let (name, pc) = g.name.unwrap_or((Label::EMPTY, 0));
        let group = self.groups.entry(name).or_insert_with(|| {
            self.order.push(name);
            StartFunction {
                name,
                pc,
                count: 0,
                lifetime: Stat::default(),
                exec: Stat::default(),
                sched_wait: Stat::default(),
                block: Vec::new(),
                syscall: Stat::default(),
                syscall_block: Stat::default(),
            }
        });
        let lifetime = time.saturating_sub(g.created);
        fold(group, &g.times, lifetime);
        self.ended
            .push(Packed::new(&GoroutineTimes::of(id, &g.times)));
    }
}

/// Adds one goroutine's times to its group.
fn fold(group: &mut StartFunction, t: &Times, lifetime: Time) {
    group.count += 1;
    group.lifetime.add(lifetime);
    group.exec.add(t.exec);
    group.sched_wait.add(t.sched_wait);
    group.syscall.add(t.syscall);
    group.syscall_block.add(t.syscall_block);
    for &(reason, d) in &t.block {
        match group.block.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, s)) => s.add(d),
            None => {
                let mut s = Stat::default();
                s.add(d);
                group.block.push((reason, s));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::step::Frames;
    use crate::trace::GoState::*;

    #[test]
    fn sums_saturate_on_damaged_times() {
        // Damaged timestamps can make a goroutine's times years long; their
        // sums must not overflow (a debug build panics, a release one wraps).
        let mut stat = Stat::default();
        stat.add(Time::MAX - 1);
        stat.add(Time::MAX - 1);
        assert_eq!((stat.total, stat.max), (Time::MAX, Time::MAX - 1));
        let mut times = Times::default();
        times.add_state(GoState::Syscall, Label::EMPTY, true, Time::MAX);
        times.add_state(GoState::Syscall, Label::EMPTY, false, Time::MAX);
        assert_eq!(GoroutineTimes::of(1, &times).syscall, Time::MAX);
    }

    #[test]
    fn packed_totals_read_back_up_to_78_hours_and_saturate_beyond() {
        let max = MAX_PACKED_TIME as Time;
        let t = GoroutineTimes {
            id: i64::MIN,
            exec: max - 1,
            sched_wait: max,
            block: Time::MAX,
            syscall: 12_345,
        };
        let back = Packed::new(&t).unpack();
        assert_eq!((back.id, back.exec, back.syscall), (t.id, max - 1, 12_345));
        assert_eq!((back.sched_wait, back.block), (Time::MAX, Time::MAX));
        let negative = GoroutineTimes { exec: -5, ..t };
        assert_eq!(Packed::new(&negative).unpack().exec, 0);
    }

    fn sync(time: Time) -> Step<'static> {
        Step {
            time,
            goroutine: -1,
            proc: -1,
            what: What::Sync,
        }
    }

    fn go(
        time: Time,
        proc: ProcId,
        id: GoId,
        from: GoState,
        to: GoState,
        reason: &'static str,
    ) -> Step<'static> {
        go_with(time, proc, id, from, to, reason, Frames::None)
    }

    fn go_with(
        time: Time,
        proc: ProcId,
        id: GoId,
        from: GoState,
        to: GoState,
        reason: &'static str,
        stack: Frames<'static>,
    ) -> Step<'static> {
        let change = GoChange {
            id,
            from,
            to,
            reason: reason.as_bytes(),
            stack,
            origin: Frames::None,
        };
        Step {
            time,
            goroutine: -1,
            proc,
            what: What::Go(change),
        }
    }

    fn idle(time: Time, p: ProcId) -> Step<'static> {
        Step {
            time,
            goroutine: -1,
            proc: p,
            what: What::ProcIdle(p),
        }
    }

    fn run(steps: &[Step<'_>]) -> (Vec<StartFunction>, PerGoroutine, Labels) {
        let mut labels = Labels::default();
        let mut t = GoroutineTracker::default();
        for s in steps {
            t.step(s, &mut labels);
        }
        let (groups, goroutines) = t.finish();
        (groups, goroutines, labels)
    }

    fn stat(total: Time, max: Time) -> Stat {
        Stat { total, max }
    }

    fn worker() -> Frames<'static> {
        Frames::Root(0x10, b"main.worker")
    }

    /// G1 started by `main.main`, seen waiting at 110; G2 and G3 started by
    /// `main.worker`, G2 exiting at 211, G3 waiting forever at 260.
    fn two_groups() -> Vec<Step<'static>> {
        vec![
            sync(100),
            go_with(
                110,
                0,
                1,
                Undetermined,
                Waiting,
                "",
                Frames::Root(0x20, b"main.main"),
            ),
            go_with(120, 0, 2, NotExist, Runnable, "", worker()),
            go(130, 0, 2, Runnable, Running, ""),
            go(140, 0, 2, Running, Syscall, ""),
            idle(150, 0),
            go(170, 1, 2, Syscall, Runnable, ""),
            go(175, 1, 2, Runnable, Running, ""),
            go(180, 1, 2, Running, Waiting, "chan receive"),
            go(200, 1, 2, Waiting, Runnable, ""),
            go(201, 1, 2, Runnable, Running, ""),
            go(211, 1, 2, Running, NotExist, ""),
            go_with(220, 0, 3, NotExist, Runnable, "", worker()),
            go(230, 0, 3, Runnable, Running, ""),
            go(260, 0, 3, Running, Waiting, "forever"),
            go(300, 0, 1, Waiting, Waiting, ""),
            go(310, 0, 1, Waiting, Runnable, ""),
            sync(400),
        ]
    }

    #[test]
    fn time_is_split_per_state_and_grouped_by_start_function() {
        let (groups, _, labels) = run(&two_groups());
        assert_eq!(groups.len(), 2);
        let w = &groups[0];
        assert_eq!(
            (labels.text(w.name).as_str(), w.pc, w.count),
            ("main.worker", 0x10, 2)
        );
        assert_eq!(w.lifetime, stat(131, 91));
        assert_eq!(w.exec, stat(55, 30));
        assert_eq!(w.exec.mean(w.count), 27);
        assert_eq!(w.sched_wait, stat(26, 16));
        assert_eq!(w.syscall, stat(10, 10));
        assert_eq!(w.syscall_block, stat(20, 20));
        let blocks: Vec<(String, Stat)> =
            w.block.iter().map(|&(r, s)| (labels.text(r), s)).collect();
        assert_eq!(blocks, [("chan receive".to_string(), stat(20, 20))]);

        let m = &groups[1];
        assert_eq!(
            (labels.text(m.name).as_str(), m.pc, m.count),
            ("main.main", 0x20, 1)
        );
        assert_eq!(m.lifetime, stat(300, 300));
        assert_eq!(m.exec, stat(0, 0));
        assert_eq!(m.sched_wait, stat(90, 90));
        assert_eq!(m.block, [(Label::EMPTY, stat(210, 210))]);
    }

    /// A goroutine's totals, compared with a group's.
    fn group_times(g: &StartFunction) -> GoroutineTimes {
        GoroutineTimes {
            id: 0,
            exec: g.exec.total,
            sched_wait: g.sched_wait.total,
            block: g.block.iter().map(|(_, s)| s.total).sum(),
            syscall: g.syscall.total + g.syscall_block.total,
        }
    }

    #[test]
    fn each_goroutine_keeps_its_own_totals_adding_up_to_its_group() {
        let mut steps = two_groups();
        // G3, waiting forever since 260, is seen again in the next
        // generation: its second life is added to its first.
        steps.push(go_with(
            410,
            0,
            3,
            Undetermined,
            Waiting,
            "forever",
            worker(),
        ));
        let (groups, goroutines, labels) = run(&steps);
        let times = |id, exec, sched_wait, block, syscall| GoroutineTimes {
            id,
            exec,
            sched_wait,
            block,
            syscall,
        };
        let g1 = times(1, 0, 100, 210, 0);
        let g2 = times(2, 25, 16, 20, 30);
        let g3 = times(3, 30, 10, 10, 0);
        assert_eq!(goroutines.iter().collect::<Vec<_>>(), [g1, g2, g3]);
        assert_eq!(goroutines.get(2), Some(g2));
        assert_eq!(goroutines.get(4), None);
        assert_eq!(size_of::<Packed>(), 32, "the documented cost");

        let group = |name: &str| {
            let g = groups.iter().find(|g| labels.text(g.name) == name);
            g.map(group_times)
        };
        let mut workers = g2;
        workers.absorb(&g3);
        assert_eq!(
            group("main.worker"),
            Some(GoroutineTimes { id: 0, ..workers })
        );
        assert_eq!(group("main.main"), Some(GoroutineTimes { id: 0, ..g1 }));
    }

    #[test]
    fn syscalls_with_and_without_a_p() {
        let (groups, _, _) = run(&[
            sync(0),
            go(10, -1, 5, Undetermined, Syscall, ""),
            go(30, 2, 5, Syscall, Running, ""),
            go(40, 1, 6, Undetermined, Running, ""),
            go(50, 1, 6, Running, Syscall, ""),
            idle(60, 1),
            sync(100),
        ]);
        assert_eq!(groups.len(), 1);
        let g = &groups[0];
        assert_eq!((g.name, g.pc, g.count), (Label::EMPTY, 0, 2));
        // G6: 40 from the Sync plus 10; G5: from its first step to the end.
        assert_eq!(g.exec, stat(50 + 70, 70));
        assert_eq!(g.syscall, stat(20 + 10, 20));
        assert_eq!(g.syscall_block, stat(10 + 40, 40));
        assert_eq!(g.lifetime, stat(200, 100));
        assert_eq!(Stat::default().mean(0), 0);
    }
}
