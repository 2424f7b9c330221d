//! The event model: what the reader yields, and its text form.
//!
//! An [`Event`] is a small copyable view: the [`EventRecord`] the ordering
//! produced (wire type, execution context, time, arguments) plus the
//! generation's [`Tables`] to resolve strings and stacks. Its accessors
//! interpret the record the way Go's `trace.Event` does, and its
//! [`Display`](fmt::Display) prints exactly what Go's `Event.String()`
//! prints, which is what `go tool trace -d=parsed` shows.

use std::fmt;

use super::base::{GoId, ProcId, SchedCtx, TaskId, ThreadId, Time};
use super::generation::{ClockSnapshot, Tables};
use super::resources::{GoState, ProcState, ResourceId, Transition};
use super::tracev2::{self, EventType, ProcStatus};
use super::value::{Value, write_quoted};

/// Type number used for Sync events, which have no wire type.
pub(crate) const EV_SYNC: EventType = EventType(255);

/// An ordered event as stored: compact and copyable, without references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventRecord {
    pub(crate) typ: EventType,
    pub(crate) ctx: SchedCtx,
    pub(crate) time: Time,
    pub(crate) args: [u64; 4],
}

impl EventRecord {
    /// A Sync event; `n` counts Sync events from 1.
    pub(crate) fn sync(time: Time, n: u64) -> EventRecord {
        EventRecord {
            typ: EV_SYNC,
            ctx: SchedCtx::NONE,
            time,
            args: [n, 0, 0, 0],
        }
    }

    /// The wire type (a private value for Sync events).
    pub fn wire_type(&self) -> EventType {
        self.typ
    }

    /// The time, in nanoseconds.
    pub fn time(&self) -> Time {
        self.time
    }

    /// The execution context.
    pub fn ctx(&self) -> SchedCtx {
        self.ctx
    }
}

/// The kinds of events, as Go's `trace.EventKind`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum EventKind {
    /// Not a valid event.
    Bad,
    /// Start of a generation, or the end of the trace.
    Sync,
    /// A metric sample.
    Metric,
    /// A label applied to a goroutine.
    Label,
    /// A CPU profile sample.
    StackSample,
    /// A time range begins.
    RangeBegin,
    /// A time range was already in progress when the generation began.
    RangeActive,
    /// A time range ends.
    RangeEnd,
    /// A user task begins.
    TaskBegin,
    /// A user task ends.
    TaskEnd,
    /// A user region begins.
    RegionBegin,
    /// A user region ends.
    RegionEnd,
    /// A user log message.
    Log,
    /// A goroutine or P changes state.
    StateTransition,
    /// An experimental event.
    Experimental,
}

impl EventKind {
    #[inline]
    fn of(typ: EventType) -> EventKind {
        use EventKind as K;
        type T = EventType;
        match typ {
            EV_SYNC => K::Sync,
            T::CPU_SAMPLE => K::StackSample,
            T::PROCS_CHANGE | T::HEAP_ALLOC | T::HEAP_GOAL => K::Metric,
            T::PROC_START
            | T::PROC_STOP
            | T::PROC_STEAL
            | T::PROC_STATUS
            | T::GO_CREATE
            | T::GO_CREATE_SYSCALL
            | T::GO_START
            | T::GO_DESTROY
            | T::GO_DESTROY_SYSCALL
            | T::GO_STOP
            | T::GO_BLOCK
            | T::GO_UNBLOCK
            | T::GO_SYSCALL_BEGIN
            | T::GO_SYSCALL_END
            | T::GO_SYSCALL_END_BLOCKED
            | T::GO_STATUS
            | T::GO_SWITCH
            | T::GO_SWITCH_DESTROY
            | T::GO_CREATE_BLOCKED
            | T::GO_STATUS_STACK => K::StateTransition,
            T::STW_BEGIN | T::GC_BEGIN | T::GC_SWEEP_BEGIN | T::GC_MARK_ASSIST_BEGIN => {
                K::RangeBegin
            }
            T::GC_ACTIVE | T::GC_SWEEP_ACTIVE | T::GC_MARK_ASSIST_ACTIVE => K::RangeActive,
            T::STW_END | T::GC_END | T::GC_SWEEP_END | T::GC_MARK_ASSIST_END => K::RangeEnd,
            T::GO_LABEL => K::Label,
            T::USER_TASK_BEGIN => K::TaskBegin,
            T::USER_TASK_END => K::TaskEnd,
            T::USER_REGION_BEGIN => K::RegionBegin,
            T::USER_REGION_END => K::RegionEnd,
            T::USER_LOG => K::Log,
            t if t.is_experimental() => K::Experimental,
            _ => K::Bad,
        }
    }

    /// The name Go prints.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Bad => "Bad",
            EventKind::Sync => "Sync",
            EventKind::Metric => "Metric",
            EventKind::Label => "Label",
            EventKind::StackSample => "StackSample",
            EventKind::RangeBegin => "RangeBegin",
            EventKind::RangeActive => "RangeActive",
            EventKind::RangeEnd => "RangeEnd",
            EventKind::TaskBegin => "TaskBegin",
            EventKind::TaskEnd => "TaskEnd",
            EventKind::RegionBegin => "RegionBegin",
            EventKind::RegionEnd => "RegionEnd",
            EventKind::Log => "Log",
            EventKind::StateTransition => "StateTransition",
            EventKind::Experimental => "Experimental",
        }
    }
}

/// A stack trace: a handle into a generation's stack table.
#[derive(Clone, Copy)]
pub struct Stack<'t> {
    tables: &'t Tables<'t>,
    id: u64,
}

/// One frame of a stack.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct StackFrame<'t> {
    /// Program counter.
    pub pc: u64,
    /// Function name.
    pub func: &'t [u8],
    /// Source file.
    pub file: &'t [u8],
    /// Line number.
    pub line: u64,
}

impl<'t> Stack<'t> {
    /// The stack's ID in its generation (0 is the empty stack).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The frames, innermost first.
    pub fn frames(&self) -> impl Iterator<Item = StackFrame<'t>> + 't {
        let tables = self.tables;
        tables.stack_pcs(self.id).iter().map(move |&pc| {
            let f = tables.frame(pc);
            StackFrame {
                pc: f.pc,
                func: tables.string(f.func).unwrap_or_default(),
                file: tables.string(f.file).unwrap_or_default(),
                line: f.line,
            }
        })
    }
}

/// A metric sample.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Metric {
    /// Name, in `runtime/metrics` style.
    pub name: &'static str,
    /// Value.
    pub value: u64,
}

/// What a range event is about.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RangeName<'t> {
    /// Stop-the-world, with its reason.
    StopTheWorld(&'t [u8]),
    /// The concurrent mark phase of a GC cycle.
    GcMark,
    /// Incremental sweeping on a P.
    GcSweep,
    /// A goroutine's GC mark assist.
    GcMarkAssist,
}

impl fmt::Display for RangeName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RangeName::StopTheWorld(r) => {
                write!(f, "stop-the-world ({})", String::from_utf8_lossy(r))
            }
            RangeName::GcMark => f.write_str("GC concurrent mark phase"),
            RangeName::GcSweep => f.write_str("GC incremental sweep"),
            RangeName::GcMarkAssist => f.write_str("GC mark assist"),
        }
    }
}

/// A range event's name and the resource it is scoped to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Range<'t> {
    /// What the range is.
    pub name: RangeName<'t>,
    /// The resource it belongs to ([`ResourceId::None`] for global ranges).
    pub scope: ResourceId,
}

/// A user task event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Task<'t> {
    /// Task ID.
    pub id: TaskId,
    /// Parent task, or [`NO_TASK`](super::base::NO_TASK).
    pub parent: TaskId,
    /// Task type (empty if its begin is not in the trace).
    pub type_name: &'t [u8],
}

/// A user region event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Region<'t> {
    /// Task the region belongs to.
    pub task: TaskId,
    /// Region type.
    pub type_name: &'t [u8],
}

/// A user log event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Log<'t> {
    /// Task the message belongs to.
    pub task: TaskId,
    /// Category.
    pub category: &'t [u8],
    /// Message.
    pub message: &'t [u8],
}

/// A state transition and its details.
#[derive(Clone, Copy)]
pub struct StateTransition<'t> {
    /// What changed.
    pub transition: Transition,
    /// Why (for goroutines stopping or blocking).
    pub reason: &'t [u8],
    /// Stack of the transitioning resource, if any.
    pub stack: Option<Stack<'t>>,
}

/// Details of a Sync event.
#[derive(Clone, Copy)]
pub struct Sync<'t> {
    /// This is the N-th Sync event, from 1.
    pub n: u64,
    /// Clock snapshot (Go 1.25+), with the trace time in nanoseconds.
    pub clock: Option<(Time, ClockSnapshot)>,
    /// The generation that starts here (none for the final Sync).
    pub tables: Option<&'t Tables<'t>>,
}

/// An experimental event: its spec and raw arguments.
#[derive(Clone, Copy)]
pub struct Experimental<'t> {
    /// Event name.
    pub name: &'static str,
    /// Experiment name.
    pub experiment: &'static str,
    /// Argument names (without the timestamp).
    pub arg_names: &'static [&'static str],
    args: [u64; 4],
    tables: &'t Tables<'t>,
}

impl<'t> Experimental<'t> {
    /// The `i`-th argument, typed by its name.
    pub fn arg(&self, i: usize) -> Option<Value<'t>> {
        let name = self.arg_names.get(i)?;
        let raw = *self.args.get(i)?;
        Some(if name.ends_with("string") {
            Value::String(self.tables.string(raw).unwrap_or_default())
        } else {
            Value::Uint64(raw)
        })
    }
}

/// An ordered trace event.
#[derive(Clone, Copy)]
pub struct Event<'t> {
    tables: Option<&'t Tables<'t>>,
    rec: EventRecord,
}

impl<'t> Event<'t> {
    /// Wraps a record with the tables of its generation (none only for
    /// Sync events that do not start a generation).
    pub(crate) fn new(tables: Option<&'t Tables<'t>>, rec: EventRecord) -> Event<'t> {
        Event { tables, rec }
    }

    /// The underlying record.
    pub fn record(&self) -> &EventRecord {
        &self.rec
    }

    /// The kind of event.
    #[inline]
    pub fn kind(&self) -> EventKind {
        EventKind::of(self.rec.typ)
    }

    /// Time in nanoseconds; strictly increasing along the trace.
    pub fn time(&self) -> Time {
        self.rec.time
    }

    /// The goroutine executing when the event happened (before any
    /// transition the event describes), or `-1`.
    pub fn goroutine(&self) -> GoId {
        self.rec.ctx.g
    }

    /// The P, or `-1`.
    pub fn proc(&self) -> ProcId {
        self.rec.ctx.p
    }

    /// The thread, or `-1`.
    pub fn thread(&self) -> ThreadId {
        self.rec.ctx.m
    }

    fn string(&self, id: u64) -> &'t [u8] {
        self.tables.and_then(|t| t.string(id)).unwrap_or_default()
    }

    fn stack_handle(&self, id: u64) -> Option<Stack<'t>> {
        self.tables.map(|tables| Stack { tables, id })
    }

    /// The stack of the event's own execution context.
    pub fn stack(&self) -> Option<Stack<'t>> {
        match self.rec.typ {
            EV_SYNC => None,
            EventType::CPU_SAMPLE => self.stack_handle(self.rec.args[0]),
            typ => {
                let spec = tracev2::specs().get(typ.index())?;
                let &first = spec.stack_ids.first()?;
                let id = *self.rec.args.get(first.checked_sub(1)?)?;
                if id == 0 { None } else { self.stack_handle(id) }
            }
        }
    }

    /// Details of a Metric event.
    pub fn metric(&self) -> Option<Metric> {
        let name = match self.rec.typ {
            EventType::PROCS_CHANGE => "/sched/gomaxprocs:threads",
            EventType::HEAP_ALLOC => "/memory/classes/heap/objects:bytes",
            EventType::HEAP_GOAL => "/gc/heap/goal:bytes",
            _ => return None,
        };
        Some(Metric {
            name,
            value: self.rec.args[0],
        })
    }

    /// Details of a Label event: the label and the goroutine it applies to.
    pub fn label(&self) -> Option<(&'t [u8], ResourceId)> {
        (self.rec.typ == EventType::GO_LABEL).then(|| {
            (
                self.string(self.rec.args[0]),
                ResourceId::Goroutine(self.rec.ctx.g),
            )
        })
    }

    /// Details of a RangeBegin/RangeActive/RangeEnd event.
    pub fn range(&self) -> Option<Range<'t>> {
        type T = EventType;
        let a = self.rec.args;
        let ctx = self.rec.ctx;
        Some(match self.rec.typ {
            T::STW_BEGIN | T::STW_END => Range {
                name: RangeName::StopTheWorld(self.string(a[0])),
                scope: ResourceId::Goroutine(ctx.g),
            },
            T::GC_BEGIN | T::GC_ACTIVE | T::GC_END => Range {
                name: RangeName::GcMark,
                scope: ResourceId::None,
            },
            T::GC_SWEEP_BEGIN | T::GC_SWEEP_ACTIVE | T::GC_SWEEP_END => Range {
                name: RangeName::GcSweep,
                scope: ResourceId::Proc(if self.rec.typ == T::GC_SWEEP_ACTIVE {
                    a[0] as ProcId
                } else {
                    ctx.p
                }),
            },
            T::GC_MARK_ASSIST_BEGIN | T::GC_MARK_ASSIST_ACTIVE | T::GC_MARK_ASSIST_END => Range {
                name: RangeName::GcMarkAssist,
                scope: ResourceId::Goroutine(if self.rec.typ == T::GC_MARK_ASSIST_ACTIVE {
                    a[0] as GoId
                } else {
                    ctx.g
                }),
            },
            _ => return None,
        })
    }

    /// Attributes of a completed range: bytes swept and reclaimed for a
    /// sweep; empty otherwise.
    pub fn range_attributes(&self) -> Vec<(&'static str, Value<'t>)> {
        if self.rec.typ != EventType::GC_SWEEP_END {
            return Vec::new();
        }
        vec![
            ("bytes swept", Value::Uint64(self.rec.args[0])),
            ("bytes reclaimed", Value::Uint64(self.rec.args[1])),
        ]
    }

    /// Details of a TaskBegin/TaskEnd event.
    pub fn task(&self) -> Option<Task<'t>> {
        let a = self.rec.args;
        match self.rec.typ {
            EventType::USER_TASK_BEGIN => Some(Task {
                id: a[0],
                parent: a[1],
                type_name: self.string(a[2]),
            }),
            EventType::USER_TASK_END => Some(Task {
                id: a[0],
                parent: a[2],
                type_name: self
                    .tables
                    .map(|t| t.extra_string(a[3]))
                    .unwrap_or_default(),
            }),
            _ => None,
        }
    }

    /// Details of a RegionBegin/RegionEnd event.
    pub fn region(&self) -> Option<Region<'t>> {
        matches!(
            self.rec.typ,
            EventType::USER_REGION_BEGIN | EventType::USER_REGION_END
        )
        .then(|| Region {
            task: self.rec.args[0],
            type_name: self.string(self.rec.args[1]),
        })
    }

    /// Details of a Log event.
    pub fn log(&self) -> Option<Log<'t>> {
        (self.rec.typ == EventType::USER_LOG).then(|| Log {
            task: self.rec.args[0],
            category: self.string(self.rec.args[1]),
            message: self.string(self.rec.args[2]),
        })
    }

    /// The resource a StateTransition event is about, without resolving
    /// its reason or stack.
    pub fn transition_resource(&self) -> Option<ResourceId> {
        type T = EventType;
        let a0 = self.rec.args[0];
        Some(match self.rec.typ {
            T::PROC_START | T::PROC_STEAL | T::PROC_STATUS => ResourceId::Proc(a0 as ProcId),
            T::PROC_STOP => ResourceId::Proc(self.rec.ctx.p),
            T::GO_CREATE
            | T::GO_CREATE_BLOCKED
            | T::GO_CREATE_SYSCALL
            | T::GO_START
            | T::GO_UNBLOCK
            | T::GO_SWITCH
            | T::GO_SWITCH_DESTROY
            | T::GO_STATUS
            | T::GO_STATUS_STACK => ResourceId::Goroutine(a0 as GoId),
            T::GO_DESTROY
            | T::GO_DESTROY_SYSCALL
            | T::GO_STOP
            | T::GO_BLOCK
            | T::GO_SYSCALL_BEGIN
            | T::GO_SYSCALL_END
            | T::GO_SYSCALL_END_BLOCKED => ResourceId::Goroutine(self.rec.ctx.g),
            _ => return None,
        })
    }

    /// Details of a StateTransition event. Inlined: a caller that uses
    /// part of them (the model's summaries, the analyses) then decodes no
    /// more than that part, on nearly every event of a trace.
    #[inline(always)]
    pub fn state_transition(&self) -> Option<StateTransition<'t>> {
        type T = EventType;
        let a = self.rec.args;
        let ctx = self.rec.ctx;
        let go = |id: GoId, from, to| Transition::Goroutine { id, from, to };
        let proc = |id: ProcId, from, to| Transition::Proc { id, from, to };
        let mut reason: &[u8] = &[];
        let mut stack = None;
        let transition = match self.rec.typ {
            T::PROC_START => proc(a[0] as ProcId, ProcState::Idle, ProcState::Running),
            T::PROC_STOP => proc(ctx.p, ProcState::Running, ProcState::Idle),
            T::PROC_STEAL => {
                let from = if a[3] == u64::from(ProcStatus::SYSCALL_ABANDONED.0) {
                    ProcState::Idle
                } else {
                    ProcState::Running
                };
                proc(a[0] as ProcId, from, ProcState::Idle)
            }
            T::PROC_STATUS => proc(
                a[0] as ProcId,
                ProcState::from_code(a[2]),
                ProcState::from_status(ProcStatus(a[1] as u8)),
            ),
            T::GO_CREATE | T::GO_CREATE_BLOCKED => {
                stack = self.stack_handle(a[1]);
                let to = if self.rec.typ == T::GO_CREATE {
                    GoState::Runnable
                } else {
                    GoState::Waiting
                };
                go(a[0] as GoId, GoState::NotExist, to)
            }
            T::GO_CREATE_SYSCALL => go(a[0] as GoId, GoState::NotExist, GoState::Syscall),
            T::GO_START => go(a[0] as GoId, GoState::Runnable, GoState::Running),
            T::GO_DESTROY => go(ctx.g, GoState::Running, GoState::NotExist),
            T::GO_DESTROY_SYSCALL => go(ctx.g, GoState::Syscall, GoState::NotExist),
            T::GO_STOP | T::GO_BLOCK => {
                reason = self.string(a[0]);
                stack = self.stack();
                let to = if self.rec.typ == T::GO_STOP {
                    GoState::Runnable
                } else {
                    GoState::Waiting
                };
                go(ctx.g, GoState::Running, to)
            }
            T::GO_UNBLOCK | T::GO_SWITCH | T::GO_SWITCH_DESTROY => {
                go(a[0] as GoId, GoState::Waiting, GoState::Runnable)
            }
            T::GO_SYSCALL_BEGIN => {
                stack = self.stack();
                go(ctx.g, GoState::Running, GoState::Syscall)
            }
            T::GO_SYSCALL_END => go(ctx.g, GoState::Syscall, GoState::Running),
            T::GO_SYSCALL_END_BLOCKED => go(ctx.g, GoState::Syscall, GoState::Runnable),
            T::GO_STATUS | T::GO_STATUS_STACK => {
                stack = self.stack();
                let status = tracev2::GoStatus((a[2] & 0xffff_ffff) as u8);
                go(
                    a[0] as GoId,
                    GoState::from_code(a[2] >> 32),
                    GoState::from_status(status),
                )
            }
            _ => return None,
        };
        Some(StateTransition {
            transition,
            reason,
            stack,
        })
    }

    /// Details of a Sync event.
    pub fn sync(&self) -> Option<Sync<'t>> {
        if self.rec.typ != EV_SYNC {
            return None;
        }
        let clock = self
            .tables
            .and_then(|t| t.clock_snapshot().map(|c| (t.freq().mul(c.ticks), c)));
        Some(Sync {
            n: self.rec.args[0],
            clock,
            tables: self.tables,
        })
    }

    /// Details of an experimental event.
    pub fn experimental(&self) -> Option<Experimental<'t>> {
        if !self.rec.typ.is_experimental() {
            return None;
        }
        let spec = tracev2::specs().get(self.rec.typ.index())?;
        Some(Experimental {
            name: spec.name,
            experiment: spec.experiment.name().unwrap_or_default(),
            arg_names: spec.args.get(1..).unwrap_or_default(),
            args: self.rec.args,
            tables: self.tables?,
        })
    }

    /// Appends the text Go's `Event.String()` gives (no trailing newline).
    pub fn write_text(&self, out: &mut Vec<u8>) {
        self.write_text_with(out, &mut |out, stack| write_stack(out, stack));
    }

    /// [`Event::write_text`] with the frames of stacks written by
    /// `write_stack`.
    fn write_text_with(
        &self,
        out: &mut Vec<u8>,
        write_stack: &mut dyn FnMut(&mut Vec<u8>, &Stack<'_>),
    ) {
        use std::io::Write;
        let kind = self.kind();
        out.extend_from_slice(b"M=");
        push_i64(out, self.thread());
        out.extend_from_slice(b" P=");
        push_i64(out, self.proc());
        out.extend_from_slice(b" G=");
        push_i64(out, self.goroutine());
        out.push(b' ');
        out.extend_from_slice(kind.name().as_bytes());
        out.extend_from_slice(b" Time=");
        push_i64(out, self.time());
        match kind {
            EventKind::Metric => {
                if let Some(m) = self.metric() {
                    let _ = write!(out, " Name=\"{}\" Value={}", m.name, Value::Uint64(m.value));
                }
            }
            EventKind::Label => {
                if let Some((label, resource)) = self.label() {
                    out.extend_from_slice(b" Label=");
                    write_quoted(out, label);
                    let _ = write!(out, " Resource={resource}");
                }
            }
            EventKind::RangeBegin | EventKind::RangeActive | EventKind::RangeEnd => {
                if let Some(r) = self.range() {
                    out.extend_from_slice(b" Name=");
                    match r.name {
                        RangeName::StopTheWorld(reason) => {
                            let mut name = b"stop-the-world (".to_vec();
                            name.extend_from_slice(reason);
                            name.push(b')');
                            write_quoted(out, &name);
                        }
                        other => write_quoted(out, other.to_string().as_bytes()),
                    }
                    let _ = write!(out, " Scope={}", r.scope);
                }
                if kind == EventKind::RangeEnd {
                    out.extend_from_slice(b" Attributes=[");
                    for (i, (name, value)) in self.range_attributes().iter().enumerate() {
                        if i != 0 {
                            out.push(b' ');
                        }
                        let _ = write!(out, "\"{name}\"={value}");
                    }
                    out.push(b']');
                }
            }
            EventKind::TaskBegin | EventKind::TaskEnd => {
                if let Some(t) = self.task() {
                    let _ = write!(out, " ID={} Parent={} Type=", t.id, t.parent);
                    write_quoted(out, t.type_name);
                }
            }
            EventKind::RegionBegin | EventKind::RegionEnd => {
                if let Some(r) = self.region() {
                    let _ = write!(out, " Task={} Type=", r.task);
                    write_quoted(out, r.type_name);
                }
            }
            EventKind::Log => {
                if let Some(l) = self.log() {
                    let _ = write!(out, " Task={} Category=", l.task);
                    write_quoted(out, l.category);
                    out.extend_from_slice(b" Message=");
                    write_quoted(out, l.message);
                }
            }
            EventKind::StateTransition => {
                if let Some(st) = self.state_transition() {
                    let (label, id, from, to) = match st.transition {
                        Transition::Goroutine { id, from, to } => {
                            (&b" GoID="[..], id, from.name(), to.name())
                        }
                        Transition::Proc { id, from, to } => {
                            (&b" ProcID="[..], id, from.name(), to.name())
                        }
                    };
                    out.extend_from_slice(label);
                    push_i64(out, id);
                    out.push(b' ');
                    out.extend_from_slice(from.as_bytes());
                    out.extend_from_slice(b"->");
                    out.extend_from_slice(to.as_bytes());
                    out.extend_from_slice(b" Reason=");
                    write_quoted(out, st.reason);
                    if let Some(stack) = st.stack {
                        out.extend_from_slice(b"\nTransitionStack=\n");
                        write_stack(out, &stack);
                    }
                }
            }
            EventKind::Experimental => {
                if let Some(x) = self.experimental() {
                    let _ = write!(out, " Name={} Args=[", x.name);
                    for (i, name) in x.arg_names.iter().enumerate() {
                        if i != 0 {
                            out.extend_from_slice(b", ");
                        }
                        let _ = write!(out, "{name}=");
                        match x.arg(i) {
                            Some(Value::String(s)) => out.extend_from_slice(s),
                            Some(v) => {
                                let _ = write!(out, "{v}");
                            }
                            None => {}
                        }
                    }
                    out.push(b']');
                }
            }
            EventKind::Sync => {
                if let Some(s) = self.sync() {
                    let _ = write!(out, " N={}", s.n);
                    if let Some((trace, c)) = s.clock {
                        let _ = write!(out, " Trace={trace} Mono={} Wall=", c.mono);
                        write_rfc3339_nano(out, c.sec, c.nsec);
                    }
                }
            }
            EventKind::StackSample | EventKind::Bad => {}
        }
        if let Some(stack) = self.stack() {
            out.extend_from_slice(b"\nStack=\n");
            write_stack(out, &stack);
        }
    }
}

/// Formats events like [`Event::write_text`], remembering the text of each
/// stack so that stacks seen before in the same generation are copied
/// rather than formatted again (most events repeat a few stacks).
#[derive(Default)]
pub struct TextWriter {
    text: Vec<u8>,
    ranges: super::base::FxHashMap<u64, (usize, usize)>,
}

impl TextWriter {
    /// A writer with an empty cache.
    pub fn new() -> TextWriter {
        TextWriter::default()
    }

    /// Appends the text of `ev` (no trailing newline) to `out`.
    pub fn write(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        if ev.rec.typ == EV_SYNC {
            // A new generation: stack IDs start over.
            self.text.clear();
            self.ranges.clear();
        }
        let text = &mut self.text;
        let ranges = &mut self.ranges;
        ev.write_text_with(out, &mut |out, stack| {
            let (start, end) = *ranges.entry(stack.id).or_insert_with(|| {
                let start = text.len();
                write_stack(text, stack);
                (start, text.len())
            });
            out.extend_from_slice(&text[start..end]);
        });
    }
}

/// Writes the frames of a stack, each as a function line and a file line,
/// indented with a tab.
fn write_stack(out: &mut Vec<u8>, stack: &Stack<'_>) {
    for f in stack.frames() {
        out.push(b'\t');
        out.extend_from_slice(f.func);
        out.extend_from_slice(b" @ 0x");
        push_hex(out, f.pc);
        out.extend_from_slice(b"\n\t\t");
        out.extend_from_slice(f.file);
        out.push(b':');
        push_u64(out, f.line);
        out.push(b'\n');
    }
}

/// Appends `v` in decimal.
fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `v` in decimal, with a minus sign if negative.
fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

/// Appends `v` in lower-case hexadecimal, without prefix.
fn push_hex(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b"0123456789abcdef"[(v & 15) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Writes a Unix time as Go's `time.Unix(sec, nsec).Format(time.RFC3339Nano)`
/// in UTC: fractional seconds without trailing zeros, `Z` for the zone.
fn write_rfc3339_nano(out: &mut Vec<u8>, sec: i64, nsec: i64) {
    use std::io::Write;
    let mut sec = i128::from(sec);
    let mut nsec = i128::from(nsec);
    if !(0..1_000_000_000).contains(&nsec) {
        sec += nsec.div_euclid(1_000_000_000);
        nsec = nsec.rem_euclid(1_000_000_000);
    }
    let days = sec.div_euclid(86_400);
    let secs = sec.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if nsec != 0 {
        let frac = format!("{nsec:09}");
        let _ = write!(out, ".{}", frac.trim_end_matches('0'));
    }
    out.push(b'Z');
}

/// `unix_ns` (nanoseconds since the Unix epoch) as civil time
/// `YYYY-MM-DD hh:mm:ss.nnnnnnnnn`, in the zone `offset` seconds east of UTC.
pub fn format_wall_clock(unix_ns: i64, offset: i64) -> String {
    let ns = i128::from(unix_ns) + i128::from(offset) * 1_000_000_000;
    let (sec, nsec) = (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000));
    let (days, secs) = (sec.div_euclid(86_400), sec.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{nsec:09}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i128) -> (i128, i128, i128) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i128::from(m <= 2);
    (y, m, d)
}

impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.write_text(&mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_wall_clock_with_offset() {
        // 2025-01-02T03:04:05.000000006Z, shown in UTC and at UTC-05:00.
        let t = 1_735_787_045_000_000_006;
        assert_eq!(format_wall_clock(t, 0), "2025-01-02 03:04:05.000000006");
        assert_eq!(
            format_wall_clock(t, -5 * 3600),
            "2025-01-01 22:04:05.000000006"
        );
    }

    #[test]
    fn wall_clock_formatting() {
        let mut out = Vec::new();
        write_rfc3339_nano(&mut out, 1_795_707_664, 897_438_862);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-11-26T15:41:04.897438862Z"
        );
        let mut out = Vec::new();
        write_rfc3339_nano(&mut out, 0, 1_500_000_000);
        assert_eq!(String::from_utf8(out).unwrap(), "1970-01-01T00:00:01.5Z");
    }

    #[test]
    fn integer_formatting() {
        let mut out = Vec::new();
        push_i64(&mut out, i64::MIN);
        out.push(b' ');
        push_u64(&mut out, 0);
        out.push(b' ');
        push_hex(&mut out, 0x4b2387);
        out.push(b' ');
        push_hex(&mut out, 0);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "-9223372036854775808 0 4b2387 0"
        );
    }

    #[test]
    fn sync_without_tables() {
        let ev = Event::new(None, EventRecord::sync(7, 3));
        assert_eq!(ev.to_string(), "M=-1 P=-1 G=-1 Sync Time=7 N=3");
        assert_eq!(ev.kind(), EventKind::Sync);
        assert!(ev.stack().is_none());
    }
}
