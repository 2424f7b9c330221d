//! The ordering state machine: which event may happen next.
//!
//! Timestamps from different Ms cannot be trusted to order events, so Go's
//! reader emulates the scheduler: it tracks every goroutine, P and M, and
//! an event is only accepted ("advanced") once the state it requires holds.
//! Events that move a resource between Ms carry per-generation sequence
//! numbers (a goroutine's `GoStart`/`GoUnblock`, a P's `ProcStart`/
//! `ProcSteal`), so the candidate with the right sequence number wins even
//! when timestamps disagree. The reader offers the candidate with the
//! smallest timestamp first and falls back to the others in time order.
//!
//! This is a faithful re-implementation of the rules of Go's
//! `internal/trace` ordering, including its error messages, so that the
//! same traces are accepted and the same faults reported. Accepted events
//! are queued as [`EventRecord`]s with their execution context; some carry
//! derived data in otherwise unused argument slots (old states, the STW
//! reason on `STWEnd`, the task's parent and name on `UserTaskEnd`), which
//! the [event model](super::event) reads back.
//!
//! Speed: goroutine and P states live in `IdMap`s (direct indexing by ID,
//! no hashing) and a goroutine's state is a few words, its rarely used
//! regions and ranges behind a pointer. `Ordering::advance_fast_on` handles
//! the events that make up nearly all of a real trace (goroutine start,
//! stop, block, unblock, heap metrics) when they are accepted without
//! error, touching only what they change and queueing nothing; everything
//! else, errors and "not yet" included, goes through `Ordering::advance`,
//! which decides exactly as if the fast path had not been tried.

use super::base::{
    BACKGROUND_TASK, FxHashMap, GoId, IdMap, NO_GOROUTINE, NO_PROC, NO_TASK, NO_THREAD, ProcId,
    SchedCtx, TaskId, ThreadId,
};
use super::batchcursor::BaseEvent;
use super::error::{Result, trace_err};
use super::event::EventRecord;
use super::generation::Tables;
use super::resources::{GoState, ProcState};
use super::tracev2::{self, EventType, GoStatus, ProcStatus};
use super::version::Version;

/// A sequence number, scoped to the generation that set it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
struct Seq {
    gen_no: u64,
    seq: u64,
}

impl Seq {
    fn new(gen_no: u64, seq: u64) -> Seq {
        Seq { gen_no, seq }
    }

    /// Whether `self` comes immediately after `prev`.
    fn succeeds(self, prev: Seq) -> bool {
        self.gen_no == prev.gen_no && self.seq == prev.seq.wrapping_add(1)
    }
}

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (gen={})", self.seq, self.gen_no)
    }
}

/// A special time range (GC sweep, mark assist, STW, syscall) bound to a
/// resource: the type of its begin event, and an optional string ID.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct RangeType {
    typ: EventType,
    desc: u64,
}

impl RangeType {
    fn new(typ: EventType, desc: u64) -> RangeType {
        let start = spec(typ).start_ev;
        let typ = if start == EventType::NONE { typ } else { start };
        RangeType { typ, desc }
    }
}

impl std::fmt::Display for RangeType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{{{} {}}}", self.typ.0, self.desc)
    }
}

fn spec(typ: EventType) -> &'static tracev2::EventSpec {
    tracev2::specs()
        .get(typ.index())
        .unwrap_or(&tracev2::EventSpec::UNUSED)
}

/// Ranges in flight on one resource.
#[derive(Clone, Debug, Default)]
struct Ranges(Vec<RangeType>);

impl Ranges {
    fn has(&self, r: RangeType) -> bool {
        self.0.contains(&r)
    }

    fn begin(&mut self, r: RangeType) -> Result<()> {
        if self.has(r) {
            return Err(trace_err!(
                "discovered event already in-flight for when starting event {}",
                spec(r.typ).name
            ));
        }
        self.0.push(r);
        Ok(())
    }

    fn active(&mut self, r: RangeType, initial_gen: bool) -> Result<()> {
        if initial_gen {
            if self.has(r) {
                return Err(trace_err!(
                    "found named active range already in first gen: {r}"
                ));
            }
            self.0.push(r);
        } else if !self.has(r) {
            let list: Vec<String> = self.0.iter().map(ToString::to_string).collect();
            return Err(trace_err!(
                "resource is missing active range: {} [{}]",
                spec(r.typ).name,
                list.join(" ")
            ));
        }
        Ok(())
    }

    /// Ends the range begun by the start event of `end`; returns its string ID.
    fn end(&mut self, end: EventType) -> Result<u64> {
        let start = spec(end).start_ev;
        let Some(i) = self.0.iter().position(|r| r.typ == start) else {
            return Err(trace_err!(
                "tried to end event {}, but not in-flight",
                spec(start).name
            ));
        };
        Ok(self.0.swap_remove(i).desc)
    }
}

/// A goroutine's state. Kept small (the status and sequence number every
/// scheduling event checks) so that the table of all goroutines stays
/// cache-friendly; regions and ranges, which few goroutines have, live
/// behind a pointer.
#[derive(Clone, Debug)]
struct GState<'a> {
    status: GoStatus,
    seq: Seq,
    cold: Option<Box<GCold<'a>>>,
}

/// The rarely used part of a goroutine's state.
#[derive(Clone, Debug, Default)]
struct GCold<'a> {
    /// Regions in flight, innermost last.
    regions: Vec<(TaskId, &'a [u8])>,
    ranges: Ranges,
}

impl<'a> GState<'a> {
    fn new(status: GoStatus, seq: Seq) -> Self {
        GState {
            status,
            seq,
            cold: None,
        }
    }

    /// The rarely used part, created on first use.
    fn cold(&mut self) -> &mut GCold<'a> {
        self.cold.get_or_insert_with(Box::default)
    }

    fn regions(&self) -> &[(TaskId, &'a [u8])] {
        self.cold.as_ref().map_or(&[], |c| c.regions.as_slice())
    }

    fn ranges(&self) -> &[RangeType] {
        self.cold.as_ref().map_or(&[], |c| c.ranges.0.as_slice())
    }
}

#[derive(Clone, Debug)]
struct PState {
    status: ProcStatus,
    seq: Seq,
    ranges: Ranges,
}

#[derive(Clone, Copy, Debug)]
struct MState {
    g: GoId,
    p: ProcId,
}

/// Thread states, addressable by ID or by a slot number that cursors
/// resolve once per generation (so the hot path does no hashing). A slot
/// can exist before its thread has a state: Go creates a thread's state
/// only when the thread's first event is offered.
#[derive(Default)]
struct MTable {
    index: FxHashMap<ThreadId, usize>,
    slots: Vec<(ThreadId, Option<MState>)>,
}

impl MTable {
    fn slot(&mut self, id: ThreadId) -> usize {
        if let Some(&i) = self.index.get(&id) {
            return i;
        }
        self.slots.push((id, None));
        self.index.insert(id, self.slots.len() - 1);
        self.slots.len() - 1
    }

    fn get(&self, id: &ThreadId) -> Option<&MState> {
        self.index
            .get(id)
            .and_then(|&i| self.slots.get(i)?.1.as_ref())
    }

    fn get_mut(&mut self, id: &ThreadId) -> Option<&mut MState> {
        let i = *self.index.get(id)?;
        self.slots.get_mut(i)?.1.as_mut()
    }

    fn insert(&mut self, id: ThreadId, ms: MState) {
        let i = self.slot(id);
        if let Some(slot) = self.slots.get_mut(i) {
            slot.1 = Some(ms);
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&ThreadId, &MState)> {
        self.slots
            .iter()
            .filter_map(|(id, ms)| ms.as_ref().map(|ms| (id, ms)))
    }
}

/// A thread as the reader's cursors refer to it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MRef {
    pub(crate) id: ThreadId,
    slot: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum GcState {
    Undetermined,
    NotRunning,
    Running,
}

/// Requirement on one part of the scheduling context.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Absent,
    Optional,
    Required,
}

use Need::{Absent, Optional, Required};

/// Requirements on (M, P, G).
type Reqs = (Need, Need, Need);

/// What events close to user code need: a thread, a P and a goroutine.
const USER_GO: Reqs = (Required, Required, Required);

fn validate_ctx(ctx: SchedCtx, (m, p, g): Reqs) -> Result<()> {
    let parts = [
        (m, ctx.m != NO_THREAD, "thread"),
        (p, ctx.p != NO_PROC, "proc"),
        (g, ctx.g != NO_GOROUTINE, "goroutine"),
    ];
    for (need, has, what) in parts {
        match (need, has) {
            (Required, false) => return Err(trace_err!("expected a {what} but didn't have one")),
            (Absent, true) => return Err(trace_err!("expected no {what} but had one")),
            _ => {}
        }
    }
    Ok(())
}

/// A thread's goroutine (bit 0) or P (bit 1) is still whatever the earlier
/// generations left (unknown to a speculative ordering; `NO_*` if the thread
/// had no state yet).
const G_CARRIED: u8 = 1;
const P_CARRIED: u8 = 2;

/// What a speculative ordering assumed about the state earlier generations
/// left, one entry per first look at a resource it had not touched yet.
#[derive(Debug)]
enum Assume {
    /// A status event found no goroutine: it must exist with this status.
    GStatus(GoId, GoStatus),
    /// The goroutine must not exist (it is being created).
    GAbsent(GoId),
    /// The goroutine must not exist or be running (creator check).
    GAbsentOrRunning(GoId),
    /// The P must not exist or have this status.
    PStatus(ProcId, ProcStatus),
    /// The thread's goroutine (`NO_GOROUTINE` if it has no state) must be this one.
    MGoroutine(ThreadId, GoId),
    /// The thread must have no state or run this goroutine.
    MAbsentOrG(ThreadId, GoId),
    /// The thread's carried goroutine (bit `G_CARRIED`) and P (bit
    /// `P_CARRIED`) must be none (or the thread have no state).
    MEmpty(ThreadId, u8),
    /// The task must not be active.
    TaskAbsent(TaskId),
    /// The task ends here (and is forgotten if it was active).
    TaskEnd(TaskId),
    /// The first GC event is GCActive with this sequence number.
    GcActive(u64),
    /// The first GC event is GCBegin with this sequence number; whether the
    /// context held an M, a P and a goroutine.
    GcBegin(u64, bool),
}

/// Range and region activity on a goroutine or P whose state came from a
/// status event (so the real state may carry ranges and regions).
#[derive(Debug, Default)]
struct Carry {
    /// `...Active` ranges seen before any other range operation.
    actives: Vec<RangeType>,
    /// Any range operation at all.
    ranges_used: bool,
    /// Some other range operation came first.
    other: bool,
    /// Regions ended with no region begun in this generation open, in
    /// order: they end the regions carried in, innermost first.
    region_pops: Vec<(TaskId, Vec<u8>)>,
}

/// Bookkeeping of a speculative (one generation on its own) ordering.
#[derive(Default)]
pub(crate) struct Spec {
    m_flags: Vec<u8>,
    cur_flags: u8,
    removed_g: FxHashMap<GoId, ()>,
    ended_tasks: FxHashMap<TaskId, ()>,
    g_carry: FxHashMap<GoId, Carry>,
    p_carry: FxHashMap<ProcId, Carry>,
    log: Vec<Assume>,
}

impl Spec {
    fn m_flags(&self, slot: usize) -> u8 {
        self.m_flags.get(slot).copied().unwrap_or(0)
    }

    fn set_m_flags(&mut self, slot: usize, f: u8) {
        if self.m_flags.len() <= slot {
            self.m_flags.resize(slot + 1, 0);
        }
        self.m_flags[slot] = f;
    }

    /// Notes a range operation (`Some(r)` for `...Active`) on a resource;
    /// `Err` if the outcome could depend on ranges carried in.
    fn range_op(carry: Option<&mut Carry>, r: Option<RangeType>) -> Result<()> {
        let Some(c) = carry else {
            // A resource created in this generation carries nothing, but an
            // `...Active` event on it would fail in the exact reader.
            return if r.is_some() {
                Err(unprovable())
            } else {
                Ok(())
            };
        };
        c.ranges_used = true;
        match r {
            Some(r) if !c.other => c.actives.push(r),
            Some(_) => return Err(unprovable()),
            None => c.other = true,
        }
        Ok(())
    }
}

/// A speculative ordering met a case whose outcome depends on state it does
/// not have; the generation is then decoded by the exact reader instead.
#[track_caller]
fn unprovable() -> super::error::Error {
    trace_err!(
        "generation cannot be decoded on its own (order.rs:{})",
        std::panic::Location::caller().line()
    )
}

/// The ordering state, carried across generations.
pub(crate) struct Ordering<'a> {
    version: Version,
    g_states: IdMap<GState<'a>>,
    p_states: IdMap<PState>,
    m_states: MTable,
    active_tasks: FxHashMap<TaskId, (&'a [u8], TaskId)>,
    gc_seq: u64,
    gc_state: GcState,
    initial_gen: u64,
    /// Accepted events, oldest first, waiting to be taken by the reader.
    pub(crate) queue: Vec<EventRecord>,
    /// Speculative mode (see [`Spec`]): `None` for the exact reader.
    spec: Option<Box<Spec>>,
}

/// Outcome of trying to advance one event.
type Advance = Result<bool>;

impl<'a> Ordering<'a> {
    pub(crate) fn new(version: Version) -> Ordering<'a> {
        Ordering {
            version,
            g_states: IdMap::default(),
            p_states: IdMap::default(),
            m_states: MTable::default(),
            active_tasks: FxHashMap::default(),
            gc_seq: 0,
            gc_state: GcState::Undetermined,
            initial_gen: 0,
            queue: Vec::new(),
            spec: None,
        }
    }

    /// An ordering that decodes one generation (not the first of the trace)
    /// on its own, recording what it assumed about the state the earlier
    /// generations left; [`Ordering::merge_spec`] checks those assumptions
    /// against the real state and applies the generation's effects.
    pub(crate) fn new_spec(version: Version) -> Ordering<'a> {
        let mut o = Ordering::new(version);
        o.spec = Some(Box::default());
        o
    }

    /// The event's name for error messages (formatted only when used).
    fn name(&self, typ: EventType) -> tracev2::EventName {
        tracev2::EventName {
            version: self.version,
            typ,
        }
    }

    fn push(&mut self, ctx: SchedCtx, ev: &BaseEvent) {
        self.queue.push(EventRecord {
            typ: ev.typ,
            ctx,
            time: ev.time,
            args: ev.args,
        });
    }

    /// Accepts `ev`: queues it in context `ctx` and makes `new` the
    /// thread's context afterwards. The tail of every handler that advances.
    #[inline(always)]
    fn accept(
        &mut self,
        ctx: SchedCtx,
        ev: &BaseEvent,
        out: &mut SchedCtx,
        new: SchedCtx,
    ) -> Advance {
        self.push(ctx, ev);
        *out = new;
        Ok(true)
    }

    /// Resolves thread `id` for [`Ordering::advance`].
    pub(crate) fn thread(&mut self, id: ThreadId) -> MRef {
        MRef {
            id,
            slot: self.m_states.slot(id),
        }
    }

    /// Whether [`Ordering::advance_fast_on`] may accept events of thread
    /// `mref` at all: its state is known and (in a speculative ordering)
    /// assumes nothing about earlier generations. It stays so while only
    /// that thread's events accepted by [`Ordering::advance_fast_on`] are
    /// offered.
    #[inline(always)]
    pub(crate) fn fast_thread(&self, mref: MRef) -> bool {
        self.initial_gen != 0
            && mref.id != NO_THREAD
            && self
                .spec
                .as_deref()
                .is_none_or(|spec| spec.m_flags(mref.slot) == 0)
    }

    /// The common case of [`Ordering::advance`], without queueing, for a
    /// thread that [`Ordering::fast_thread`] accepts: if `ev` is a goroutine
    /// start, stop, block or unblock, or a heap metric, and it is accepted
    /// with no error, its effect is applied and its context returned. `None`
    /// means "ask [`Ordering::advance`]", which then decides exactly as if
    /// this had not been called (nothing is changed unless the event is
    /// accepted).
    #[inline(always)]
    pub(crate) fn advance_fast_on(
        &mut self,
        ev: &BaseEvent,
        mref: MRef,
        gen_no: u64,
    ) -> Option<(GoId, ProcId)> {
        let m = mref.id;
        let ms = self.m_states.slots.get_mut(mref.slot)?.1.as_mut()?;
        // Plain values, not a `SchedCtx`: the fields were stored one by one
        // and reading them back as one wide value would stall.
        let cur_g = ms.g;
        let cur_p = ms.p;
        let cur = SchedCtx {
            g: cur_g,
            p: cur_p,
            m,
        };
        match ev.typ {
            EventType::GO_START => {
                let gid = ev.args[0] as GoId;
                let seq = Seq::new(gen_no, ev.args[1]);
                if cur.p == NO_PROC || cur.g != NO_GOROUTINE {
                    return None;
                }
                let g = self.g_states.get_mut(&gid)?;
                if g.status != GoStatus::RUNNABLE || !seq.succeeds(g.seq) {
                    return None;
                }
                g.status = GoStatus::RUNNING;
                g.seq = seq;
                ms.g = gid;
            }
            EventType::GO_STOP | EventType::GO_BLOCK => {
                if cur.p == NO_PROC || cur.g == NO_GOROUTINE {
                    return None;
                }
                let g = self.g_states.get_mut(&cur.g)?;
                if g.status != GoStatus::RUNNING {
                    return None;
                }
                g.status = if ev.typ == EventType::GO_STOP {
                    GoStatus::RUNNABLE
                } else {
                    GoStatus::WAITING
                };
                ms.g = NO_GOROUTINE;
            }
            EventType::GO_UNBLOCK => {
                let gid = ev.args[0] as GoId;
                let seq = Seq::new(gen_no, ev.args[1]);
                let g = self.g_states.get_mut(&gid)?;
                if g.status != GoStatus::WAITING || !seq.succeeds(g.seq) {
                    return None;
                }
                g.status = GoStatus::RUNNABLE;
                g.seq = seq;
            }
            EventType::HEAP_ALLOC | EventType::HEAP_GOAL => {
                if cur.p == NO_PROC {
                    return None;
                }
            }
            _ => return None,
        }
        Some((cur_g, cur_p))
    }

    /// Tries to accept `ev`, which came from thread `m` in generation `gen`
    /// (generations must be passed in increasing order). `Ok(false)` means
    /// "not yet": another M's event must come first.
    pub(crate) fn advance(
        &mut self,
        ev: &mut BaseEvent,
        t: &mut Tables<'a>,
        mref: MRef,
        gen_no: u64,
    ) -> Advance {
        if self.initial_gen == 0 {
            self.initial_gen = gen_no;
        }
        let m = mref.id;
        let mut cur = SchedCtx {
            g: NO_GOROUTINE,
            p: NO_PROC,
            m,
        };
        let mut fresh = false;
        if m != NO_THREAD
            && let Some((_, slot)) = self.m_states.slots.get_mut(mref.slot)
        {
            fresh = slot.is_none();
            let ms = slot.get_or_insert(MState {
                g: NO_GOROUTINE,
                p: NO_PROC,
            });
            cur.p = ms.p;
            cur.g = ms.g;
        }
        let mut orig_args = [0; 4];
        if let Some(spec) = self.spec.as_deref_mut() {
            orig_args = ev.args;
            spec.cur_flags = 0;
            if m != NO_THREAD {
                if fresh {
                    spec.set_m_flags(mref.slot, G_CARRIED | P_CARRIED);
                }
                spec.cur_flags = spec.m_flags(mref.slot);
                if spec.cur_flags != 0
                    && !matches!(
                        ev.typ,
                        EventType::PROC_STATUS
                            | EventType::GO_STATUS
                            | EventType::GO_STATUS_STACK
                            | EventType::GC_MARK_ASSIST_ACTIVE
                            | EventType::GC_SWEEP_ACTIVE
                    )
                {
                    // The event depends on the thread's context: assume the
                    // carried parts are empty (checked when merging), which
                    // is what the placeholders in `cur` already say.
                    spec.log.push(Assume::MEmpty(m, spec.cur_flags));
                    spec.set_m_flags(mref.slot, 0);
                    spec.cur_flags = 0;
                }
            }
        }
        let mut new = cur;
        let advanced = match ev.typ {
            EventType::PROCS_CHANGE | EventType::GO_LABEL | EventType::USER_LOG => {
                self.annotation(ev, cur, &mut new)
            }
            EventType::PROC_START => self.proc_start(ev, cur, gen_no, &mut new),
            EventType::PROC_STOP => self.proc_stop(ev, cur, &mut new),
            EventType::PROC_STEAL => self.proc_steal(ev, cur, gen_no, &mut new),
            EventType::PROC_STATUS => self.proc_status(ev, cur, gen_no, &mut new),
            EventType::GO_CREATE | EventType::GO_CREATE_BLOCKED => {
                self.go_create(ev, cur, gen_no, &mut new)
            }
            EventType::GO_CREATE_SYSCALL => self.go_create_syscall(ev, cur, gen_no, &mut new),
            EventType::GO_START => self.go_start(ev, cur, gen_no, &mut new),
            EventType::GO_DESTROY | EventType::GO_STOP | EventType::GO_BLOCK => {
                self.go_stop_exec(ev, cur, &mut new)
            }
            EventType::GO_DESTROY_SYSCALL => self.go_destroy_syscall(ev, cur, &mut new),
            EventType::GO_UNBLOCK => self.go_unblock(ev, cur, gen_no, &mut new),
            EventType::GO_SYSCALL_BEGIN => self.go_syscall_begin(ev, cur, gen_no, &mut new),
            EventType::GO_SYSCALL_END => self.go_syscall_end(ev, cur, &mut new),
            EventType::GO_SYSCALL_END_BLOCKED => self.go_syscall_end_blocked(ev, cur, &mut new),
            EventType::GO_STATUS | EventType::GO_STATUS_STACK => {
                self.go_status(ev, cur, gen_no, &mut new)
            }
            EventType::STW_BEGIN | EventType::GC_MARK_ASSIST_BEGIN => {
                self.go_range_begin(ev, cur, &mut new)
            }
            EventType::STW_END | EventType::GC_MARK_ASSIST_END => {
                self.go_range_end(ev, cur, &mut new)
            }
            EventType::GC_MARK_ASSIST_ACTIVE => self.go_range_active(ev, cur, gen_no, &mut new),
            EventType::GC_ACTIVE => self.gc_active(ev, cur, gen_no, &mut new),
            EventType::GC_BEGIN => self.gc_begin(ev, cur, &mut new),
            EventType::GC_END => self.gc_end(ev, cur, &mut new),
            EventType::GC_SWEEP_ACTIVE => self.gc_sweep_active(ev, cur, gen_no, &mut new),
            EventType::GC_SWEEP_BEGIN => self.gc_sweep_begin(ev, cur, &mut new),
            EventType::GC_SWEEP_END => self.gc_sweep_end(ev, cur, &mut new),
            EventType::HEAP_ALLOC | EventType::HEAP_GOAL => self.heap_metric(ev, cur, &mut new),
            EventType::USER_TASK_BEGIN => self.task_begin(ev, t, cur, &mut new),
            EventType::USER_TASK_END => self.task_end(ev, t, cur, &mut new),
            EventType::USER_REGION_BEGIN | EventType::USER_REGION_END => {
                self.region(ev, t, cur, &mut new)
            }
            EventType::GO_SWITCH | EventType::GO_SWITCH_DESTROY => {
                self.go_switch(ev, cur, gen_no, &mut new)
            }
            typ if typ.is_experimental() => self.alloc_free(ev, cur, &mut new),
            typ => Err(trace_err!("bad event type found while ordering: {}", typ.0)),
        }?;
        if advanced
            && m != NO_THREAD
            && let Some(spec) = self.spec.as_deref_mut()
            && spec.cur_flags != 0
        {
            let mut f = spec.cur_flags;
            match ev.typ {
                EventType::PROC_STATUS => {
                    let st = ProcStatus(orig_args[1] as u8);
                    if st == ProcStatus::RUNNING || st == ProcStatus::SYSCALL {
                        f &= !P_CARRIED;
                    }
                }
                EventType::GO_STATUS | EventType::GO_STATUS_STACK => {
                    let st = GoStatus(orig_args[2] as u8);
                    if st == GoStatus::RUNNING
                        || (st == GoStatus::SYSCALL && orig_args[1] as ThreadId == m)
                    {
                        f &= !G_CARRIED;
                    }
                }
                _ => {}
            }
            spec.set_m_flags(mref.slot, f);
        }
        if advanced
            && m != NO_THREAD
            && let Some((_, Some(ms))) = self.m_states.slots.get_mut(mref.slot)
        {
            // Copy the fields one by one: the handlers write them one by one,
            // and a wider load of both would stall on store forwarding.
            ms.p = std::hint::black_box(new.p);
            ms.g = std::hint::black_box(new.g);
        }
        Ok(advanced)
    }

    fn proc_status(
        &mut self,
        ev: &mut BaseEvent,
        mut cur: SchedCtx,
        gen_no: u64,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        let pid = ev.args[0] as ProcId;
        // Go reads the status as a byte.
        let status = ProcStatus(ev.args[1] as u8);
        if status.0 >= 5 {
            return Err(trace_err!("invalid status for proc {pid}: {}", status.0));
        }
        let mut old = ProcState::from_status(status);
        match self.p_states.get_mut(&pid) {
            Some(s) => {
                if status == ProcStatus::SYSCALL_ABANDONED && s.status == ProcStatus::SYSCALL {
                    // Already known to be in a syscall: nothing was lost.
                    old = ProcState::Running;
                    ev.args[1] = u64::from(ProcStatus::SYSCALL.0);
                } else if status == ProcStatus::SYSCALL_ABANDONED
                    && s.status == ProcStatus::SYSCALL_ABANDONED
                {
                    old = ProcState::Idle;
                    ev.args[1] = u64::from(ProcStatus::SYSCALL_ABANDONED.0);
                } else if s.status != status {
                    return Err(trace_err!(
                        "inconsistent status for proc {pid}: old {} vs. new {}",
                        s.status.name(),
                        status.name()
                    ));
                }
                s.seq = Seq::new(gen_no, 0);
            }
            None => {
                if let Some(spec) = self.spec.as_deref_mut() {
                    spec.log.push(Assume::PStatus(pid, status));
                    spec.p_carry.insert(pid, Carry::default());
                }
                self.p_states.insert(
                    pid,
                    PState {
                        status,
                        seq: Seq::new(gen_no, 0),
                        ranges: Ranges::default(),
                    },
                );
                old = if gen_no == self.initial_gen {
                    ProcState::Undetermined
                } else {
                    ProcState::NotExist
                };
            }
        }
        ev.args[2] = old.code();
        let mut new = cur;
        if status == ProcStatus::RUNNING || status == ProcStatus::SYSCALL {
            new.p = pid;
        }
        if status == ProcStatus::SYSCALL_ABANDONED && old == ProcState::Running {
            if self.spec.is_some() {
                // Depends on every thread's P, carried ones included.
                return Err(unprovable());
            }
            // The status is emitted for a P about to be stolen, on behalf of
            // the M it is bound to: report it in that M's context.
            let bound = self
                .m_states
                .iter()
                .filter(|(_, ms)| ms.p == pid)
                .map(|(&mid, ms)| (mid, ms.g))
                .max();
            let Some((mid, g)) = bound else {
                return Err(trace_err!(
                    "failed to find sched context for proc {pid} that's about to be stolen"
                ));
            };
            cur = SchedCtx { g, p: pid, m: mid };
        }
        self.accept(cur, ev, out, new)
    }

    fn proc_start(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        gen_no: u64,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        let pid = ev.args[0] as ProcId;
        let seq = Seq::new(gen_no, ev.args[1]);
        let Some(state) = self.p_states.get_mut(&pid) else {
            return Ok(false);
        };
        if state.status != ProcStatus::IDLE || !seq.succeeds(state.seq) || cur.p != NO_PROC {
            return Ok(false);
        }
        validate_ctx(cur, (Required, Absent, Optional))?;
        state.status = ProcStatus::RUNNING;
        state.seq = seq;
        self.accept(cur, ev, out, SchedCtx { p: pid, ..cur })
    }

    fn proc_stop(&mut self, ev: &BaseEvent, cur: SchedCtx, out: &mut SchedCtx) -> Result<bool> {
        let name = self.name(ev.typ);
        let Some(state) = self.p_states.get_mut(&cur.p) else {
            return Err(trace_err!(
                "event {name} for proc ({}) that doesn't exist",
                cur.p
            ));
        };
        if state.status != ProcStatus::RUNNING && state.status != ProcStatus::SYSCALL {
            return Err(trace_err!(
                "{name} event for proc that's not Running or Syscall"
            ));
        }
        validate_ctx(cur, (Required, Required, Optional))?;
        state.status = ProcStatus::IDLE;
        self.accept(cur, ev, out, SchedCtx { p: NO_PROC, ..cur })
    }

    fn proc_steal(
        &mut self,
        ev: &mut BaseEvent,
        cur: SchedCtx,
        gen_no: u64,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        let pid = ev.args[0] as ProcId;
        let seq = Seq::new(gen_no, ev.args[1]);
        let Some(state) = self.p_states.get_mut(&pid) else {
            return Ok(false);
        };
        let in_syscall =
            state.status == ProcStatus::SYSCALL || state.status == ProcStatus::SYSCALL_ABANDONED;
        if !in_syscall || !seq.succeeds(state.seq) {
            return Ok(false);
        }
        validate_ctx(cur, (Required, Optional, Optional))?;
        let old = state.status;
        ev.args[3] = u64::from(old.0);
        state.status = ProcStatus::IDLE;
        state.seq = seq;
        if old == ProcStatus::SYSCALL_ABANDONED {
            // The M it was taken from is unknown; leave Ms alone.
            return self.accept(cur, ev, out, cur);
        }
        let mid = ev.args[2] as ThreadId;
        if mid == cur.m {
            if cur.p != pid {
                return Err(trace_err!(
                    "tried to self-steal proc {pid} (thread {mid}), but got proc {} instead",
                    cur.p
                ));
            }
            return self.accept(cur, ev, out, SchedCtx { p: NO_PROC, ..cur });
        }
        if let Some(spec) = self.spec.as_deref()
            && let Some(&i) = self.m_states.index.get(&mid)
            && spec.m_flags(i) & P_CARRIED != 0
        {
            return Err(unprovable());
        }
        let Some(ms) = self.m_states.get_mut(&mid) else {
            return Err(trace_err!("stole proc from non-existent thread {mid}"));
        };
        if ms.p != pid {
            return Err(trace_err!(
                "tried to steal proc {pid} from thread {mid}, but got proc {} instead",
                ms.p
            ));
        }
        ms.p = NO_PROC;
        self.accept(cur, ev, out, cur)
    }

    fn go_status(
        &mut self,
        ev: &mut BaseEvent,
        mut cur: SchedCtx,
        gen_no: u64,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        let gid = ev.args[0] as GoId;
        let mid = ev.args[1] as ThreadId;
        // Go reads the status as a byte.
        let status = GoStatus(ev.args[2] as u8);
        if status.0 >= 5 {
            return Err(trace_err!(
                "invalid status for goroutine {gid}: {}",
                status.0
            ));
        }
        let mut old = GoState::from_status(status);
        match self.g_states.get_mut(&gid) {
            Some(s) => {
                if s.status != status {
                    return Err(trace_err!(
                        "inconsistent status for goroutine {gid}: old {} vs. new {}",
                        s.status.name(),
                        status.name()
                    ));
                }
                s.seq = Seq::new(gen_no, 0);
            }
            None if gen_no == self.initial_gen => {
                if let Some(spec) = self.spec.as_deref_mut() {
                    if spec.removed_g.contains_key(&gid) {
                        return Err(unprovable());
                    }
                    spec.log.push(Assume::GStatus(gid, status));
                    spec.g_carry.insert(gid, Carry::default());
                }
                self.g_states
                    .insert(gid, GState::new(status, Seq::new(gen_no, 0)));
                old = GoState::Undetermined;
            }
            None => {
                return Err(trace_err!(
                    "found goroutine status for new goroutine after the first generation: id={gid} status={}",
                    status.name()
                ));
            }
        }
        // Keep the old state next to the status for the event model.
        ev.args[2] = old.code() << 32 | u64::from(status.0);
        let mut new = cur;
        if status == GoStatus::RUNNING {
            new.g = gid;
        } else if status == GoStatus::SYSCALL {
            if mid == NO_THREAD {
                return Err(trace_err!(
                    "found goroutine {gid} in syscall without a thread"
                ));
            }
            if mid == cur.m {
                if let Some(spec) = self.spec.as_deref_mut() {
                    if spec.cur_flags & G_CARRIED != 0 {
                        spec.log.push(Assume::MGoroutine(mid, gid));
                    } else if cur.g != gid {
                        return Err(unprovable());
                    }
                }
                if gen_no != self.initial_gen && cur.g != gid {
                    return Err(trace_err!(
                        "inconsistent thread for syscalling goroutine {gid}: thread has goroutine {}",
                        cur.g
                    ));
                }
                new.g = gid;
            } else {
                // A goroutine blocked in a syscall on another thread for the
                // whole generation.
                if let Some(spec) = self.spec.as_deref()
                    && let Some(&i) = self.m_states.index.get(&mid)
                    && spec.m_flags(i) & G_CARRIED != 0
                    && self.m_states.get(&mid).is_some()
                {
                    return Err(unprovable());
                }
                match self.m_states.get(&mid) {
                    Some(ms) => {
                        if ms.g != gid {
                            return Err(trace_err!(
                                "inconsistent thread for syscalling goroutine {gid}: thread has goroutine {}",
                                ms.g
                            ));
                        }
                        cur.g = ms.g;
                    }
                    None => {
                        self.m_states.insert(mid, MState { g: gid, p: NO_PROC });
                        if let Some(spec) = self.spec.as_deref_mut() {
                            spec.log.push(Assume::MAbsentOrG(mid, gid));
                            let i = self.m_states.slot(mid);
                            spec.set_m_flags(i, P_CARRIED);
                        }
                    }
                }
                cur.m = mid;
            }
        }
        self.accept(cur, ev, out, new)
    }

    fn go_create(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        gen_no: u64,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        validate_ctx(cur, (Required, Required, Optional))?;
        if let Some(spec) = self.spec.as_deref_mut() {
            let new_g = ev.args[0] as GoId;
            if !self.g_states.contains_key(&cur.g) && !spec.removed_g.contains_key(&cur.g) {
                spec.log.push(Assume::GAbsentOrRunning(cur.g));
            }
            if !self.g_states.contains_key(&new_g) && !spec.removed_g.contains_key(&new_g) {
                spec.log.push(Assume::GAbsent(new_g));
            }
        }
        if let Some(s) = self.g_states.get(&cur.g)
            && s.status != GoStatus::RUNNING
        {
            return Err(trace_err!(
                "{} event for goroutine that's not Running",
                self.name(ev.typ)
            ));
        }
        let new_g = ev.args[0] as GoId;
        if self.g_states.contains_key(&new_g) {
            return Err(trace_err!(
                "tried to create goroutine ({new_g}) that already exists"
            ));
        }
        let status = if ev.typ == EventType::GO_CREATE_BLOCKED {
            GoStatus::WAITING
        } else {
            GoStatus::RUNNABLE
        };
        self.g_states
            .insert(new_g, GState::new(status, Seq::new(gen_no, 0)));
        self.accept(cur, ev, out, cur)
    }

    /// Forgets goroutine `g` (it was destroyed).
    fn remove_g(&mut self, g: GoId) {
        self.g_states.remove(&g);
        if let Some(spec) = self.spec.as_deref_mut() {
            spec.removed_g.insert(g, ());
            spec.g_carry.remove(&g);
        }
    }

    /// The running goroutine's state, with Go's errors when it is missing or
    /// not in `want`.
    fn current_g(
        &mut self,
        typ: EventType,
        g: GoId,
        want: GoStatus,
        want_name: &str,
    ) -> Result<&mut GState<'a>> {
        let name = self.name(typ);
        let Some(state) = self.g_states.get_mut(&g) else {
            return Err(trace_err!(
                "event {name} for goroutine ({g}) that doesn't exist"
            ));
        };
        if state.status != want {
            return Err(trace_err!(
                "{name} event for goroutine that's not {want_name}"
            ));
        }
        Ok(state)
    }

    fn go_stop_exec(&mut self, ev: &BaseEvent, cur: SchedCtx, out: &mut SchedCtx) -> Result<bool> {
        validate_ctx(cur, USER_GO)?;
        let state = self.current_g(ev.typ, cur.g, GoStatus::RUNNING, "Running")?;
        match ev.typ {
            EventType::GO_STOP => state.status = GoStatus::RUNNABLE,
            EventType::GO_BLOCK => state.status = GoStatus::WAITING,
            _ => {
                self.remove_g(cur.g);
            }
        }
        self.accept(
            cur,
            ev,
            out,
            SchedCtx {
                g: NO_GOROUTINE,
                ..cur
            },
        )
    }

    /// Goroutine `g`'s state if it is in status `want` and `seq` follows its
    /// sequence number; `None` if the event must wait.
    fn g_ready(&mut self, g: GoId, want: GoStatus, seq: Seq) -> Option<&mut GState<'a>> {
        self.g_states
            .get_mut(&g)
            .filter(|s| s.status == want && seq.succeeds(s.seq))
    }

    fn go_start(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        gen_no: u64,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        let gid = ev.args[0] as GoId;
        let seq = Seq::new(gen_no, ev.args[1]);
        let Some(state) = self.g_ready(gid, GoStatus::RUNNABLE, seq) else {
            return Ok(false);
        };
        validate_ctx(cur, (Required, Required, Absent))?;
        state.status = GoStatus::RUNNING;
        state.seq = seq;
        self.accept(cur, ev, out, SchedCtx { g: gid, ..cur })
    }

    fn go_unblock(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        gen_no: u64,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        let gid = ev.args[0] as GoId;
        let seq = Seq::new(gen_no, ev.args[1]);
        let Some(state) = self.g_ready(gid, GoStatus::WAITING, seq) else {
            return Ok(false);
        };
        state.status = GoStatus::RUNNABLE;
        state.seq = seq;
        self.accept(cur, ev, out, cur)
    }

    fn go_switch(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        gen_no: u64,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        validate_ctx(cur, USER_GO)?;
        self.current_g(ev.typ, cur.g, GoStatus::RUNNING, "Running")?;
        let next = ev.args[0] as GoId;
        let seq = Seq::new(gen_no, ev.args[1]);
        if self.g_ready(next, GoStatus::WAITING, seq).is_none() {
            return Ok(false);
        }
        self.push(cur, ev);
        // A switch is an unblock of `next`, then a block (or exit) of the
        // current goroutine, then `next` starting.
        if ev.typ == EventType::GO_SWITCH {
            if let Some(s) = self.g_states.get_mut(&cur.g) {
                s.status = GoStatus::WAITING;
            }
            self.push(cur, &derived(ev, EventType::GO_BLOCK, [0; 4]));
        } else {
            self.remove_g(cur.g);
            self.push(cur, &derived(ev, EventType::GO_DESTROY, [0; 4]));
        }
        if let Some(s) = self.g_states.get_mut(&next) {
            s.status = GoStatus::RUNNING;
            s.seq = seq;
        }
        let start_ctx = SchedCtx {
            g: NO_GOROUTINE,
            ..cur
        };
        self.push(
            start_ctx,
            &derived(ev, EventType::GO_START, [next as u64, ev.args[1], 0, 0]),
        );
        *out = SchedCtx { g: next, ..cur };
        Ok(true)
    }

    fn go_syscall_begin(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        gen_no: u64,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        validate_ctx(cur, USER_GO)?;
        let name = self.name(ev.typ);
        self.current_g(ev.typ, cur.g, GoStatus::RUNNING, "Running")?
            .status = GoStatus::SYSCALL;
        let Some(p) = self.p_states.get_mut(&cur.p) else {
            return Err(trace_err!(
                "uninitialized proc {} found during {name}",
                cur.p
            ));
        };
        p.status = ProcStatus::SYSCALL;
        let p_seq = Seq::new(gen_no, ev.args[0]);
        if !p_seq.succeeds(p.seq) {
            return Err(trace_err!(
                "failed to advance {name}: can't make sequence: {} -> {p_seq}",
                p.seq
            ));
        }
        p.seq = p_seq;
        self.accept(cur, ev, out, cur)
    }

    fn go_syscall_end(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        validate_ctx(cur, USER_GO)?;
        let name = self.name(ev.typ);
        self.current_g(ev.typ, cur.g, GoStatus::SYSCALL, "Running")?
            .status = GoStatus::RUNNING;
        let Some(p) = self.p_states.get_mut(&cur.p) else {
            return Err(trace_err!(
                "uninitialized proc {} found during {name}",
                cur.p
            ));
        };
        if p.status != ProcStatus::SYSCALL {
            return Err(trace_err!(
                "expected proc {} in state Syscall, but got {} instead",
                cur.p,
                p.status.name()
            ));
        }
        p.status = ProcStatus::RUNNING;
        self.accept(cur, ev, out, cur)
    }

    fn go_syscall_end_blocked(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        if cur.p != NO_PROC {
            let Some(p) = self.p_states.get(&cur.p) else {
                return Err(trace_err!(
                    "uninitialized proc {} found during {}",
                    cur.p,
                    self.name(ev.typ)
                ));
            };
            if p.status == ProcStatus::SYSCALL {
                // Wait until the P has been taken away from this M.
                return Ok(false);
            }
        }
        validate_ctx(cur, (Required, Optional, Required))?;
        self.current_g(ev.typ, cur.g, GoStatus::SYSCALL, "Running")?
            .status = GoStatus::RUNNABLE;
        self.accept(
            cur,
            ev,
            out,
            SchedCtx {
                g: NO_GOROUTINE,
                ..cur
            },
        )
    }

    fn go_create_syscall(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        gen_no: u64,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        validate_ctx(cur, (Required, Optional, Absent))?;
        let new_g = ev.args[0] as GoId;
        if let Some(spec) = self.spec.as_deref_mut()
            && !self.g_states.contains_key(&new_g)
            && !spec.removed_g.contains_key(&new_g)
        {
            spec.log.push(Assume::GAbsent(new_g));
        }
        if self.g_states.contains_key(&new_g) {
            return Err(trace_err!(
                "tried to create goroutine ({new_g}) in syscall that already exists"
            ));
        }
        self.g_states
            .insert(new_g, GState::new(GoStatus::SYSCALL, Seq::new(gen_no, 0)));
        self.accept(cur, ev, out, SchedCtx { g: new_g, ..cur })
    }

    fn go_destroy_syscall(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        validate_ctx(cur, (Required, Optional, Required))?;
        self.current_g(ev.typ, cur.g, GoStatus::SYSCALL, "Syscall")?;
        self.remove_g(cur.g);
        let mut new = SchedCtx {
            g: NO_GOROUTINE,
            ..cur
        };
        if cur.p != NO_PROC {
            let name = self.name(ev.typ);
            let Some(p) = self.p_states.get_mut(&cur.p) else {
                return Err(trace_err!("found invalid proc {} during {name}", cur.p));
            };
            if p.status != ProcStatus::SYSCALL {
                return Err(trace_err!(
                    "proc {} in unexpected state {} during {name}",
                    cur.p,
                    p.status.name()
                ));
            }
            // The thread may be reused: the P is considered stolen from it now.
            p.status = ProcStatus::SYSCALL_ABANDONED;
            new.p = NO_PROC;
            let steal = derived(
                ev,
                EventType::PROC_STEAL,
                [cur.p as u64, 0, 0, u64::from(ProcStatus::SYSCALL.0)],
            );
            self.push(cur, &steal);
        }
        self.accept(cur, ev, out, new)
    }

    fn task_begin(
        &mut self,
        ev: &mut BaseEvent,
        t: &Tables<'a>,
        cur: SchedCtx,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        let id = ev.args[0];
        if self.active_tasks.contains_key(&id) {
            return Err(trace_err!("task ID conflict: {id}"));
        }
        if let Some(spec) = self.spec.as_deref_mut()
            && !spec.ended_tasks.contains_key(&id)
        {
            spec.log.push(Assume::TaskAbsent(id));
        }
        let mut parent = ev.args[1];
        if parent == BACKGROUND_TASK {
            // 0 means "no parent" here, not the background task.
            parent = NO_TASK;
            ev.args[1] = NO_TASK;
        }
        let name_id = ev.args[2];
        let Some(name) = t.string(name_id) else {
            return Err(trace_err!(
                "invalid string ID {name_id} for {} event",
                ev.typ.0
            ));
        };
        self.active_tasks.insert(id, (name, parent));
        validate_ctx(cur, USER_GO)?;
        self.accept(cur, ev, out, cur)
    }

    fn task_end(
        &mut self,
        ev: &mut BaseEvent,
        t: &mut Tables<'a>,
        cur: SchedCtx,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        // The begin may be in an earlier generation: carry its parent and
        // name in the spare argument slots.
        let (parent, name) = match self.active_tasks.remove(&ev.args[0]) {
            Some((name, parent)) => (parent, name),
            None => {
                if let Some(spec) = self.spec.as_deref_mut()
                    && !spec.ended_tasks.contains_key(&ev.args[0])
                {
                    // The exact reader may know the task (and print its
                    // name); what it accepts is the same either way.
                    spec.log.push(Assume::TaskEnd(ev.args[0]));
                }
                (NO_TASK, &b""[..])
            }
        };
        if let Some(spec) = self.spec.as_deref_mut() {
            spec.ended_tasks.insert(ev.args[0], ());
        }
        ev.args[2] = parent;
        ev.args[3] = if name.is_empty() {
            0
        } else {
            t.extra_strings.push(name);
            t.extra_strings.len() as u64
        };
        validate_ctx(cur, USER_GO)?;
        self.accept(cur, ev, out, cur)
    }

    fn region(
        &mut self,
        ev: &BaseEvent,
        t: &Tables<'a>,
        cur: SchedCtx,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        validate_ctx(cur, USER_GO)?;
        let task = ev.args[0];
        let name_id = ev.args[1];
        let Some(name) = t.string(name_id) else {
            return Err(trace_err!(
                "invalid string ID {name_id} for {} event",
                ev.typ.0
            ));
        };
        let begin = ev.typ == EventType::USER_REGION_BEGIN;
        let Some(g) = self.g_states.get_mut(&cur.g) else {
            let which = if begin { "Begin" } else { "End" };
            return Err(trace_err!(
                "encountered EvUserRegion{which} without known state for current goroutine {}",
                cur.g
            ));
        };
        if begin {
            g.cold().regions.push((task, name));
        } else if let Some(&(top_task, top_name)) = g.regions().last() {
            // Regions begun before the trace started are not known.
            if (top_task, top_name) != (task, name) {
                return Err(trace_err!(
                    "misuse of region in goroutine {}: region end {{{task} {}}} when the inner-most active region start event is {{{top_task} {}}}",
                    cur.g,
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(top_name)
                ));
            }
            g.cold().regions.pop();
        } else if !begin
            && let Some(spec) = self.spec.as_deref_mut()
            && let Some(c) = spec.g_carry.get_mut(&cur.g)
        {
            c.region_pops.push((task, name.to_vec()));
        }
        self.accept(cur, ev, out, cur)
    }

    fn gc_active(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        gen_no: u64,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        let seq = ev.args[0];
        if let Some(spec) = self.spec.as_deref_mut()
            && self.gc_state == GcState::Undetermined
        {
            validate_ctx(cur, USER_GO).map_err(|_| unprovable())?;
            spec.log.push(Assume::GcActive(seq));
        }
        if gen_no == self.initial_gen {
            if self.gc_state != GcState::Undetermined {
                return Err(trace_err!(
                    "GCActive in the first generation isn't first GC event"
                ));
            }
            self.gc_seq = seq;
            self.gc_state = GcState::Running;
            return self.accept(cur, ev, out, cur);
        }
        if seq != self.gc_seq.wrapping_add(1) {
            return Ok(false);
        }
        if self.gc_state != GcState::Running {
            return Err(trace_err!(
                "encountered GCActive while GC was not in progress"
            ));
        }
        self.gc_seq = seq;
        validate_ctx(cur, USER_GO)?;
        self.accept(cur, ev, out, cur)
    }

    fn gc_begin(&mut self, ev: &BaseEvent, cur: SchedCtx, out: &mut SchedCtx) -> Result<bool> {
        let seq = ev.args[0];
        if let Some(spec) = self.spec.as_deref_mut()
            && self.gc_state == GcState::Undetermined
        {
            let ok = validate_ctx(cur, USER_GO).is_ok();
            spec.log.push(Assume::GcBegin(seq, ok));
        }
        if self.gc_state == GcState::Undetermined {
            self.gc_seq = seq;
            self.gc_state = GcState::Running;
            return self.accept(cur, ev, out, cur);
        }
        if seq != self.gc_seq.wrapping_add(1) {
            return Ok(false);
        }
        if self.gc_state == GcState::Running {
            return Err(trace_err!(
                "encountered GCBegin while GC was already in progress"
            ));
        }
        self.gc_seq = seq;
        self.gc_state = GcState::Running;
        validate_ctx(cur, USER_GO)?;
        self.accept(cur, ev, out, cur)
    }

    fn gc_end(&mut self, ev: &BaseEvent, cur: SchedCtx, out: &mut SchedCtx) -> Result<bool> {
        let seq = ev.args[0];
        if self.spec.is_some() && self.gc_state == GcState::Undetermined {
            return Err(unprovable());
        }
        if seq != self.gc_seq.wrapping_add(1) {
            return Ok(false);
        }
        match self.gc_state {
            GcState::NotRunning => {
                return Err(trace_err!("encountered GCEnd when GC was not in progress"));
            }
            GcState::Undetermined => {
                return Err(trace_err!(
                    "encountered GCEnd when GC was in an undetermined state"
                ));
            }
            GcState::Running => {}
        }
        self.gc_seq = seq;
        self.gc_state = GcState::NotRunning;
        validate_ctx(cur, USER_GO)?;
        self.accept(cur, ev, out, cur)
    }

    fn annotation(&mut self, ev: &BaseEvent, cur: SchedCtx, out: &mut SchedCtx) -> Result<bool> {
        validate_ctx(cur, USER_GO)?;
        self.accept(cur, ev, out, cur)
    }

    fn heap_metric(&mut self, ev: &BaseEvent, cur: SchedCtx, out: &mut SchedCtx) -> Result<bool> {
        validate_ctx(cur, (Required, Required, Optional))?;
        self.accept(cur, ev, out, cur)
    }

    fn alloc_free(&mut self, ev: &BaseEvent, cur: SchedCtx, out: &mut SchedCtx) -> Result<bool> {
        validate_ctx(cur, (Required, Optional, Optional))?;
        self.accept(cur, ev, out, cur)
    }

    /// Notes a range operation on P `p` (`Some(r)` for `...Active`, `None`
    /// for a begin or end) for a speculative ordering.
    fn spec_p_range_op(&mut self, p: ProcId, r: Option<RangeType>) -> Result<()> {
        if let Some(spec) = self.spec.as_deref_mut()
            && self.p_states.contains_key(&p)
        {
            Spec::range_op(spec.p_carry.get_mut(&p), r)?;
        }
        Ok(())
    }

    /// The same for goroutine `g`.
    fn spec_g_range_op(&mut self, g: GoId, r: Option<RangeType>) -> Result<()> {
        if let Some(spec) = self.spec.as_deref_mut()
            && self.g_states.contains_key(&g)
        {
            Spec::range_op(spec.g_carry.get_mut(&g), r)?;
        }
        Ok(())
    }

    /// The current P's state; Go's reader assumes a bound P always has one.
    fn bound_p(&mut self, p: ProcId) -> Result<&mut PState> {
        self.p_states
            .get_mut(&p)
            .ok_or_else(|| trace_err!("internal error: no state for bound proc {p}"))
    }

    fn gc_sweep_begin(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        validate_ctx(cur, (Required, Required, Optional))?;
        self.spec_p_range_op(cur.p, None)?;
        self.bound_p(cur.p)?
            .ranges
            .begin(RangeType::new(ev.typ, 0))?;
        self.accept(cur, ev, out, cur)
    }

    fn gc_sweep_active(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        gen_no: u64,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        let pid = ev.args[0] as ProcId;
        let initial = gen_no == self.initial_gen;
        self.spec_p_range_op(pid, Some(RangeType::new(ev.typ, 0)))?;
        let Some(p) = self.p_states.get_mut(&pid) else {
            return Err(trace_err!(
                "encountered GCSweepActive for unknown proc {pid}"
            ));
        };
        p.ranges.active(RangeType::new(ev.typ, 0), initial)?;
        self.accept(cur, ev, out, cur)
    }

    fn gc_sweep_end(&mut self, ev: &BaseEvent, cur: SchedCtx, out: &mut SchedCtx) -> Result<bool> {
        validate_ctx(cur, (Required, Required, Optional))?;
        self.spec_p_range_op(cur.p, None)?;
        self.bound_p(cur.p)?.ranges.end(ev.typ)?;
        self.accept(cur, ev, out, cur)
    }

    /// The running goroutine's ranges, for a range begin or end (noted for a
    /// speculative ordering first).
    fn current_g_ranges(&mut self, typ: EventType, g: GoId) -> Result<&mut Ranges> {
        self.spec_g_range_op(g, None)?;
        let Some(state) = self.g_states.get_mut(&g) else {
            return Err(trace_err!(
                "encountered event of type {} without known state for current goroutine {g}",
                typ.0
            ));
        };
        Ok(&mut state.cold().ranges)
    }

    fn go_range_begin(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        validate_ctx(cur, USER_GO)?;
        let desc = if ev.typ == EventType::STW_BEGIN {
            ev.args[0]
        } else {
            0
        };
        self.current_g_ranges(ev.typ, cur.g)?
            .begin(RangeType::new(ev.typ, desc))?;
        self.accept(cur, ev, out, cur)
    }

    fn go_range_active(
        &mut self,
        ev: &BaseEvent,
        cur: SchedCtx,
        gen_no: u64,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        let gid = ev.args[0] as GoId;
        let initial = gen_no == self.initial_gen;
        let name = self.name(ev.typ);
        self.spec_g_range_op(gid, Some(RangeType::new(ev.typ, 0)))?;
        let Some(g) = self.g_states.get_mut(&gid) else {
            return Err(trace_err!(
                "uninitialized goroutine {gid} found during {name}"
            ));
        };
        g.cold().ranges.active(RangeType::new(ev.typ, 0), initial)?;
        self.accept(cur, ev, out, cur)
    }

    fn go_range_end(
        &mut self,
        ev: &mut BaseEvent,
        cur: SchedCtx,
        out: &mut SchedCtx,
    ) -> Result<bool> {
        validate_ctx(cur, USER_GO)?;
        let desc = self.current_g_ranges(ev.typ, cur.g)?.end(ev.typ)?;
        if ev.typ == EventType::STW_END {
            // The reason lives on the begin event; carry it to the end.
            ev.args[0] = desc;
        }
        self.accept(cur, ev, out, cur)
    }

    /// Applies the effects of a generation ordered by the speculative
    /// ordering `o` (see [`Ordering::new_spec`]) to this exact state, which
    /// must be the state the earlier generations left. Returns false, and
    /// changes nothing, if anything `o` assumed does not hold here: the
    /// generation must then be ordered again by this exact state.
    pub(crate) fn merge_spec(&mut self, mut o: Ordering<'a>) -> bool {
        let Some(spec) = o.spec.take() else {
            return false;
        };
        if self.initial_gen == 0 || o.initial_gen == self.initial_gen {
            return false;
        }
        for a in &spec.log {
            let ok = match *a {
                Assume::GStatus(g, st) => self.g_states.get(&g).is_some_and(|s| s.status == st),
                Assume::GAbsent(g) => !self.g_states.contains_key(&g),
                Assume::GAbsentOrRunning(g) => self
                    .g_states
                    .get(&g)
                    .is_none_or(|s| s.status == GoStatus::RUNNING),
                Assume::PStatus(p, st) => self.p_states.get(&p).is_none_or(|s| s.status == st),
                Assume::MGoroutine(m, g) => {
                    self.m_states.get(&m).map_or(NO_GOROUTINE, |ms| ms.g) == g
                }
                Assume::MAbsentOrG(m, g) => self.m_states.get(&m).is_none_or(|ms| ms.g == g),
                Assume::MEmpty(m, f) => self.m_states.get(&m).is_none_or(|ms| {
                    (f & G_CARRIED == 0 || ms.g == NO_GOROUTINE)
                        && (f & P_CARRIED == 0 || ms.p == NO_PROC)
                }),
                Assume::TaskAbsent(id) => !self.active_tasks.contains_key(&id),
                Assume::TaskEnd(_) => true,
                Assume::GcActive(seq) => {
                    self.gc_state == GcState::Running && self.gc_seq.wrapping_add(1) == seq
                }
                Assume::GcBegin(seq, ctx_ok) => {
                    self.gc_state == GcState::Undetermined
                        || (self.gc_state == GcState::NotRunning
                            && self.gc_seq.wrapping_add(1) == seq
                            && ctx_ok)
                }
            };
            if !ok {
                return false;
            }
        }
        for (g, c) in &spec.g_carry {
            let Some(old) = self.g_states.get(g) else {
                return false;
            };
            if c.ranges_used && old.ranges() != c.actives.as_slice() {
                return false;
            }
            // The exact reader ends the carried regions, innermost first,
            // and ignores ends once none is left.
            let popped = old.regions().iter().rev().zip(&c.region_pops);
            if !popped
                .into_iter()
                .all(|(&(t, n), (pt, pn))| t == *pt && n == pn.as_slice())
            {
                return false;
            }
        }
        for (p, c) in &spec.p_carry {
            let old = self
                .p_states
                .get(p)
                .map_or(&[][..], |s| s.ranges.0.as_slice());
            if c.ranges_used && old != c.actives.as_slice() {
                return false;
            }
        }

        // Everything the generation did holds on the exact state too.
        for g in spec.removed_g.keys() {
            self.g_states.remove(g);
        }
        for (g, mut st) in o.g_states.into_entries() {
            if spec.g_carry.contains_key(&g)
                && let Some(old) = self.g_states.remove(&g)
            {
                let old = old.cold.map(|c| *c).unwrap_or_default();
                let new = st.cold();
                if !spec.g_carry.get(&g).is_some_and(|c| c.ranges_used) {
                    new.ranges = old.ranges;
                }
                let mut regions = old.regions;
                let pops = spec.g_carry.get(&g).map_or(0, |c| c.region_pops.len());
                regions.truncate(regions.len().saturating_sub(pops));
                regions.append(&mut new.regions);
                new.regions = regions;
            }
            self.g_states.insert(g, st);
        }
        for (p, mut st) in o.p_states.into_entries() {
            if spec.p_carry.get(&p).is_some_and(|c| !c.ranges_used)
                && let Some(old) = self.p_states.get_mut(&p)
            {
                st.ranges = std::mem::take(&mut old.ranges);
            }
            self.p_states.insert(p, st);
        }
        for (i, (id, ms)) in o.m_states.slots.iter().enumerate() {
            let Some(ms) = ms else {
                continue;
            };
            let f = spec.m_flags(i);
            let old = self.m_states.get(id).copied();
            let g = if f & G_CARRIED != 0 {
                old.map_or(NO_GOROUTINE, |o| o.g)
            } else {
                ms.g
            };
            let p = if f & P_CARRIED != 0 {
                old.map_or(NO_PROC, |o| o.p)
            } else {
                ms.p
            };
            self.m_states.insert(*id, MState { g, p });
        }
        for a in &spec.log {
            if let Assume::TaskEnd(id) = *a {
                self.active_tasks.remove(&id);
            }
        }
        self.active_tasks.extend(o.active_tasks);
        if o.gc_state != GcState::Undetermined {
            self.gc_seq = o.gc_seq;
            self.gc_state = o.gc_state;
        }
        true
    }

    /// A description of the state for "failed to advance" errors.
    pub(crate) fn dump(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let mut gs: Vec<_> = self.g_states.iter().collect();
        gs.sort_by_key(|(id, _)| *id);
        for (id, st) in gs {
            let _ = writeln!(s, "G {id} [status={} seq={}]", st.status.name(), st.seq);
        }
        s.push('\n');
        let mut ps: Vec<_> = self.p_states.iter().collect();
        ps.sort_by_key(|(id, _)| *id);
        for (id, st) in ps {
            let _ = writeln!(s, "P {id} [status={} seq={}]", st.status.name(), st.seq);
        }
        s.push('\n');
        let mut ms: Vec<_> = self.m_states.iter().collect();
        ms.sort_by_key(|(id, _)| **id);
        for (id, st) in ms {
            let _ = writeln!(s, "M {id} [g={} p={}]", st.g, st.p);
        }
        s.push('\n');
        let gc = match self.gc_state {
            GcState::Undetermined => "Undetermined",
            GcState::NotRunning => "NotRunning",
            GcState::Running => "Running",
        };
        let _ = writeln!(s, "GC {} {gc}", self.gc_seq);
        s
    }
}

/// An event the ordering synthesises from `ev` (same time).
fn derived(ev: &BaseEvent, typ: EventType, args: [u64; 4]) -> BaseEvent {
    BaseEvent {
        typ,
        time: ev.time,
        args,
    }
}
