//! The facts of an event the analyses use, apart from the event itself.
//!
//! The analyses only need a handful of things from an [`Event`]: goroutine
//! and P transitions, GC ranges, GC worker labels, GOMAXPROCS, user regions
//! and tasks, and Sync boundaries. [`Step`] holds exactly those, already
//! interpreted, so each analysis is a plain state machine over steps, and
//! unit tests can drive it with steps written by hand instead of encoding
//! binary traces.

use crate::trace::event::RangeName;
use crate::trace::{
    Event, EventKind, GoId, GoState, NO_GOROUTINE, ProcId, ProcState, ResourceId, Stack,
    StackFrame, TaskId, Time, Transition,
};

/// One event, reduced to what the analyses look at.
#[derive(Clone, Copy)]
pub(crate) struct Step<'a> {
    /// Event time, nanoseconds.
    pub time: Time,
    /// The goroutine of the event's context (`-1` if none).
    pub goroutine: GoId,
    /// The P of the event's context (`-1` if none).
    pub proc: ProcId,
    /// What happened.
    pub what: What<'a>,
}

/// The kinds of steps.
#[derive(Clone, Copy)]
pub(crate) enum What<'a> {
    /// A Sync event: a generation starts, or the trace ends.
    Sync,
    /// A goroutine changed state. Trackers match it by reference
    /// (`What::Go(ref c)`): copying it out of the step for every goroutine
    /// event made the goroutine statistics and MMU pass half as slow again.
    Go(GoChange<'a>),
    /// A P went idle (from any other state).
    ProcIdle(ProcId),
    /// A GC-related range begins, is found active at a generation start, or
    /// ends.
    Range(Edge, GcRange<'a>),
    /// GOMAXPROCS is set.
    Gomaxprocs(u64),
    /// A label is applied to the step's goroutine (GC workers get one).
    Label(&'a [u8]),
    /// A user region begins or ends on the step's goroutine.
    Region(Edge, &'a [u8]),
    /// A user task begins (with its type) or ends.
    Task(Edge, TaskId, &'a [u8]),
    /// Anything else.
    Other,
}

/// Where in a range, region or task a step is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Edge {
    /// It begins.
    Begin,
    /// It was already going on when the generation began.
    Active,
    /// It ends.
    End,
}

/// The ranges the analyses look at.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum GcRange<'a> {
    /// A stop-the-world, with its reason, on a goroutine.
    StopTheWorld(&'a [u8], GoId),
    /// A GC mark assist of a goroutine.
    MarkAssist(GoId),
    /// Incremental sweeping (on the step's P).
    Sweep,
}

/// A goroutine state transition.
#[derive(Clone, Copy)]
pub(crate) struct GoChange<'a> {
    /// The goroutine that changed state.
    pub id: GoId,
    /// State before.
    pub from: GoState,
    /// State after.
    pub to: GoState,
    /// Why, as the dump prints it (for blocking and stopping).
    pub reason: &'a [u8],
    /// The transition's stack, for naming the goroutine.
    pub stack: Frames<'a>,
    /// The stack of the event itself, where a wait that the transition
    /// opens is attributed (as Go's latency profiles do): the blocking or
    /// syscall site, or whoever made the goroutine runnable (its creator,
    /// its unblocker, or the goroutine itself when preempted).
    pub origin: Frames<'a>,
}

/// The stack of a transition, resolved only when needed.
#[derive(Clone, Copy)]
pub(crate) enum Frames<'a> {
    /// No stack.
    None,
    /// A stack of the trace.
    Stack(Stack<'a>),
    /// Just the outermost frame's PC and function (for tests).
    #[cfg(test)]
    Root(u64, &'a [u8]),
    /// Frames written out, innermost first (for tests).
    #[cfg(test)]
    List(&'a [StackFrame<'a>]),
}

impl<'a> Frames<'a> {
    /// The outermost frame: its PC and function name.
    pub fn root(&self) -> Option<(u64, &'a [u8])> {
        match *self {
            Frames::None => None,
            Frames::Stack(stack) => stack.frames().last().map(|f| (f.pc, f.func)),
            #[cfg(test)]
            Frames::Root(pc, func) => Some((pc, func)),
            #[cfg(test)]
            Frames::List(frames) => frames.last().map(|f| (f.pc, f.func)),
        }
    }

    /// An ID equal for equal stacks of one generation, if the stack has one
    /// (stacks written out by tests have none).
    pub fn id(&self) -> Option<u64> {
        match *self {
            Frames::Stack(stack) => Some(stack.id()),
            _ => None,
        }
    }

    /// Calls `f` with each frame, innermost first.
    pub fn for_each(&self, f: impl FnMut(StackFrame<'a>)) {
        match *self {
            Frames::None => {}
            Frames::Stack(stack) => stack.frames().for_each(f),
            #[cfg(test)]
            Frames::Root(pc, func) => std::iter::once(StackFrame {
                pc,
                func,
                file: b"",
                line: 0,
            })
            .for_each(f),
            #[cfg(test)]
            Frames::List(frames) => frames.iter().copied().for_each(f),
        }
    }
}

impl<'a> Step<'a> {
    /// Reduces an event to a step.
    pub fn of(ev: &Event<'a>) -> Step<'a> {
        Step {
            time: ev.time(),
            goroutine: ev.goroutine(),
            proc: ev.proc(),
            what: what(ev),
        }
    }
}

fn what<'a>(ev: &Event<'a>) -> What<'a> {
    match ev.kind() {
        EventKind::Sync => What::Sync,
        EventKind::StateTransition => transition(ev),
        EventKind::RangeBegin => range(ev, Edge::Begin),
        EventKind::RangeActive => range(ev, Edge::Active),
        EventKind::RangeEnd => range(ev, Edge::End),
        EventKind::RegionBegin => ev
            .region()
            .map_or(What::Other, |r| What::Region(Edge::Begin, r.type_name)),
        EventKind::RegionEnd => ev
            .region()
            .map_or(What::Other, |r| What::Region(Edge::End, r.type_name)),
        EventKind::TaskBegin => ev
            .task()
            .map_or(What::Other, |t| What::Task(Edge::Begin, t.id, t.type_name)),
        EventKind::TaskEnd => ev
            .task()
            .map_or(What::Other, |t| What::Task(Edge::End, t.id, t.type_name)),
        EventKind::Metric => match ev.metric() {
            Some(m) if m.name == "/sched/gomaxprocs:threads" => What::Gomaxprocs(m.value),
            _ => What::Other,
        },
        EventKind::Label => ev
            .label()
            .map_or(What::Other, |(label, _)| What::Label(label)),
        _ => What::Other,
    }
}

fn transition<'a>(ev: &Event<'a>) -> What<'a> {
    let Some(st) = ev.state_transition() else {
        return What::Other;
    };
    match st.transition {
        Transition::Goroutine { id, from, to } => What::Go(GoChange {
            id,
            from,
            to,
            reason: st.reason,
            stack: st.stack.map_or(Frames::None, Frames::Stack),
            origin: ev.stack().map_or(Frames::None, Frames::Stack),
        }),
        Transition::Proc { id, from, to } if from != to && to == ProcState::Idle => {
            What::ProcIdle(id)
        }
        Transition::Proc { .. } => What::Other,
    }
}

fn range<'a>(ev: &Event<'a>, edge: Edge) -> What<'a> {
    let Some(r) = ev.range() else {
        return What::Other;
    };
    let goroutine = match r.scope {
        ResourceId::Goroutine(g) => g,
        _ => NO_GOROUTINE,
    };
    match r.name {
        RangeName::StopTheWorld(reason) => {
            What::Range(edge, GcRange::StopTheWorld(reason, goroutine))
        }
        RangeName::GcMarkAssist => What::Range(edge, GcRange::MarkAssist(goroutine)),
        RangeName::GcSweep => What::Range(edge, GcRange::Sweep),
        RangeName::GcMark => What::Other,
    }
}
