//! The event table shared by all v2 trace versions, and the status codes and
//! limits of the wire format.

use super::spec::{EventSpec, EventType, Experiment};

impl EventType {
    /// Unused.
    pub const NONE: EventType = EventType(0);

    // Structural events: they frame batches and fill the per-generation tables.
    /// Header of a per-M batch: `[gen, m, time, size]`.
    pub const EVENT_BATCH: EventType = EventType(1);
    /// First event of a stack-table batch.
    pub const STACKS: EventType = EventType(2);
    /// Stack-table entry: `[id, nframes]` then the frames.
    pub const STACK: EventType = EventType(3);
    /// First event of a string-table batch.
    pub const STRINGS: EventType = EventType(4);
    /// String-table entry: `[id]` then the string bytes.
    pub const STRING: EventType = EventType(5);
    /// First event of a CPU-sample batch.
    pub const CPU_SAMPLES: EventType = EventType(6);
    /// CPU profile sample: `[time, m, p, g, stack]`.
    pub const CPU_SAMPLE: EventType = EventType(7);
    /// Timestamp ticks per second: `[freq]`.
    pub const FREQUENCY: EventType = EventType(8);

    // Procs.
    /// GOMAXPROCS changed.
    pub const PROCS_CHANGE: EventType = EventType(9);
    /// A P starts running on this M.
    pub const PROC_START: EventType = EventType(10);
    /// This M's P stops.
    pub const PROC_STOP: EventType = EventType(11);
    /// A P in a syscall is taken from another M.
    pub const PROC_STEAL: EventType = EventType(12);
    /// A P's status at the start of a generation.
    pub const PROC_STATUS: EventType = EventType(13);

    // Goroutines.
    /// A goroutine is created (runnable).
    pub const GO_CREATE: EventType = EventType(14);
    /// A goroutine appears in a syscall (cgo callback).
    pub const GO_CREATE_SYSCALL: EventType = EventType(15);
    /// A goroutine starts running.
    pub const GO_START: EventType = EventType(16);
    /// The running goroutine exits.
    pub const GO_DESTROY: EventType = EventType(17);
    /// A goroutine created by a cgo callback exits in its syscall.
    pub const GO_DESTROY_SYSCALL: EventType = EventType(18);
    /// The running goroutine yields, staying runnable.
    pub const GO_STOP: EventType = EventType(19);
    /// The running goroutine blocks.
    pub const GO_BLOCK: EventType = EventType(20);
    /// A waiting goroutine becomes runnable.
    pub const GO_UNBLOCK: EventType = EventType(21);
    /// The running goroutine enters a syscall.
    pub const GO_SYSCALL_BEGIN: EventType = EventType(22);
    /// The goroutine returns from a syscall, keeping its P.
    pub const GO_SYSCALL_END: EventType = EventType(23);
    /// The goroutine returns from a syscall after losing its P.
    pub const GO_SYSCALL_END_BLOCKED: EventType = EventType(24);
    /// A goroutine's status at the start of a generation.
    pub const GO_STATUS: EventType = EventType(25);

    // Stop-the-world.
    /// Stop-the-world begins.
    pub const STW_BEGIN: EventType = EventType(26);
    /// Stop-the-world ends.
    pub const STW_END: EventType = EventType(27);

    // GC.
    /// A GC cycle was already running when the generation started.
    pub const GC_ACTIVE: EventType = EventType(28);
    /// A GC cycle starts.
    pub const GC_BEGIN: EventType = EventType(29);
    /// A GC cycle ends.
    pub const GC_END: EventType = EventType(30);
    /// A P was sweeping when the generation started.
    pub const GC_SWEEP_ACTIVE: EventType = EventType(31);
    /// A P starts sweeping.
    pub const GC_SWEEP_BEGIN: EventType = EventType(32);
    /// A P stops sweeping.
    pub const GC_SWEEP_END: EventType = EventType(33);
    /// A goroutine was in a mark assist when the generation started.
    pub const GC_MARK_ASSIST_ACTIVE: EventType = EventType(34);
    /// A mark assist starts.
    pub const GC_MARK_ASSIST_BEGIN: EventType = EventType(35);
    /// A mark assist ends.
    pub const GC_MARK_ASSIST_END: EventType = EventType(36);
    /// Live heap changed.
    pub const HEAP_ALLOC: EventType = EventType(37);
    /// Heap goal changed.
    pub const HEAP_GOAL: EventType = EventType(38);

    // User annotations.
    /// A label is applied to the running goroutine.
    pub const GO_LABEL: EventType = EventType(39);
    /// `runtime/trace.NewTask`.
    pub const USER_TASK_BEGIN: EventType = EventType(40);
    /// End of a task.
    pub const USER_TASK_END: EventType = EventType(41);
    /// Start of a user region.
    pub const USER_REGION_BEGIN: EventType = EventType(42);
    /// End of a user region.
    pub const USER_REGION_END: EventType = EventType(43);
    /// `runtime/trace.Log`.
    pub const USER_LOG: EventType = EventType(44);

    // Added in Go 1.23.
    /// Coroutine switch to another goroutine.
    pub const GO_SWITCH: EventType = EventType(45);
    /// Coroutine switch that also destroys the current goroutine.
    pub const GO_SWITCH_DESTROY: EventType = EventType(46);
    /// A goroutine is created blocked.
    pub const GO_CREATE_BLOCKED: EventType = EventType(47);
    /// Like [`EventType::GO_STATUS`], with the goroutine's stack.
    pub const GO_STATUS_STACK: EventType = EventType(48);
    /// Header of an experimental batch: `[exp, gen, m, time]` then raw data.
    pub const EXPERIMENTAL_BATCH: EventType = EventType(49);

    // Added in Go 1.25.
    /// First event of a sync batch (frequency and clock snapshot).
    pub const SYNC: EventType = EventType(50);
    /// Simultaneous readings of the trace, monotonic and wall clocks.
    pub const CLOCK_SNAPSHOT: EventType = EventType(51);

    // Added in Go 1.26.
    /// In-band end-of-generation marker.
    pub const END_OF_GENERATION: EventType = EventType(52);

    /// Type numbers above this one are experimental.
    pub const MAX_EVENT: EventType = EventType(127);

    // Experimental events of the AllocFree experiment (Go 1.23+).
    /// A heap span exists.
    pub const SPAN: EventType = EventType(128);
    /// A heap span is allocated.
    pub const SPAN_ALLOC: EventType = EventType(129);
    /// A heap span is freed.
    pub const SPAN_FREE: EventType = EventType(130);
    /// A heap object exists.
    pub const HEAP_OBJECT: EventType = EventType(131);
    /// A heap object is allocated.
    pub const HEAP_OBJECT_ALLOC: EventType = EventType(132);
    /// A heap object is freed.
    pub const HEAP_OBJECT_FREE: EventType = EventType(133);
    /// A goroutine stack exists.
    pub const GOROUTINE_STACK: EventType = EventType(134);
    /// A goroutine stack is allocated.
    pub const GOROUTINE_STACK_ALLOC: EventType = EventType(135);
    /// A goroutine stack is freed.
    pub const GOROUTINE_STACK_FREE: EventType = EventType(136);

    /// One past the last known experimental event.
    pub const MAX_EXPERIMENTAL_EVENT: EventType = EventType(137);
}

/// Names of the experiments, indexed by [`Experiment`] number.
pub const EXPERIMENTS: [&str; 2] = ["None", "AllocFree"];

/// Most arguments a timed event has, counting the timestamp delta.
pub const MAX_TIMED_EVENT_ARGS: usize = 5;
/// Largest batch body in bytes.
pub const MAX_BATCH_SIZE: u64 = 64 << 10;
/// Most frames in one stack.
pub const MAX_FRAMES_PER_STACK: u64 = 128;
/// Largest string (or other trailing data) in bytes.
pub const MAX_EVENT_TRAILER_DATA_SIZE: u64 = 1 << 10;

/// The status of a goroutine as encoded on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct GoStatus(pub u8);

impl GoStatus {
    /// Invalid.
    pub const BAD: GoStatus = GoStatus(0);
    /// Runnable, not running.
    pub const RUNNABLE: GoStatus = GoStatus(1);
    /// Running on an M.
    pub const RUNNING: GoStatus = GoStatus(2);
    /// In a syscall on an M.
    pub const SYSCALL: GoStatus = GoStatus(3);
    /// Blocked.
    pub const WAITING: GoStatus = GoStatus(4);

    /// The name Go prints for this status.
    pub fn name(self) -> &'static str {
        match self {
            Self::RUNNABLE => "Runnable",
            Self::RUNNING => "Running",
            Self::SYSCALL => "Syscall",
            Self::WAITING => "Waiting",
            _ => "Bad",
        }
    }
}

/// The status of a P as encoded on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ProcStatus(pub u8);

impl ProcStatus {
    /// Invalid.
    pub const BAD: ProcStatus = ProcStatus(0);
    /// Running on an M.
    pub const RUNNING: ProcStatus = ProcStatus(1);
    /// Idle.
    pub const IDLE: ProcStatus = ProcStatus(2);
    /// Attached to an M whose goroutine is in a syscall.
    pub const SYSCALL: ProcStatus = ProcStatus(3);
    /// In a syscall, but first seen in this generation through a steal, so
    /// the matching syscall is unknown.
    pub const SYSCALL_ABANDONED: ProcStatus = ProcStatus(4);

    /// The name Go prints for this status.
    pub fn name(self) -> &'static str {
        match self {
            Self::RUNNING => "Running",
            Self::IDLE => "Idle",
            Self::SYSCALL => "Syscall",
            Self::SYSCALL_ABANDONED => "SyscallAbandoned",
            _ => "Bad",
        }
    }
}

/// A structural (untimed) event.
const fn structural(name: &'static str, args: &'static [&'static str]) -> EventSpec {
    EventSpec {
        name,
        args,
        ..EventSpec::UNUSED
    }
}

/// A timed event without table references.
const fn timed(name: &'static str, args: &'static [&'static str]) -> EventSpec {
    EventSpec {
        name,
        args,
        is_timed: true,
        ..EventSpec::UNUSED
    }
}

/// A timed event with string and stack references.
const fn timed_ids(
    name: &'static str,
    args: &'static [&'static str],
    string_ids: &'static [usize],
    stack_ids: &'static [usize],
) -> EventSpec {
    EventSpec {
        name,
        args,
        string_ids,
        stack_ids,
        is_timed: true,
        ..EventSpec::UNUSED
    }
}

/// A timed event that ends (or declares active) the range begun by `start`.
const fn timed_end(
    name: &'static str,
    args: &'static [&'static str],
    start: EventType,
) -> EventSpec {
    EventSpec {
        name,
        args,
        start_ev: start,
        is_timed: true,
        ..EventSpec::UNUSED
    }
}

/// A timed event of the AllocFree experiment.
const fn alloc_free(name: &'static str, args: &'static [&'static str]) -> EventSpec {
    EventSpec {
        name,
        args,
        is_timed: true,
        experiment: Experiment::ALLOC_FREE,
        ..EventSpec::UNUSED
    }
}

/// The full table, indexed by type number.
static SPECS: [EventSpec; EventType::MAX_EXPERIMENTAL_EVENT.index()] = build_specs();

const fn build_specs() -> [EventSpec; EventType::MAX_EXPERIMENTAL_EVENT.index()] {
    type T = EventType;
    let mut s = [EventSpec::UNUSED; T::MAX_EXPERIMENTAL_EVENT.index()];

    s[T::EVENT_BATCH.index()] = structural("EventBatch", &["gen", "m", "time", "size"]);
    s[T::STACKS.index()] = structural("Stacks", &[]);
    s[T::STACK.index()] = EventSpec {
        is_stack: true,
        ..structural("Stack", &["id", "nframes"])
    };
    s[T::STRINGS.index()] = structural("Strings", &[]);
    s[T::STRING.index()] = EventSpec {
        has_data: true,
        ..structural("String", &["id"])
    };
    s[T::CPU_SAMPLES.index()] = structural("CPUSamples", &[]);
    // A CPU sample has a timestamp but is not part of the per-M streams.
    s[T::CPU_SAMPLE.index()] = EventSpec {
        stack_ids: &[4],
        ..structural("CPUSample", &["time", "m", "p", "g", "stack"])
    };
    s[T::FREQUENCY.index()] = structural("Frequency", &["freq"]);
    s[T::EXPERIMENTAL_BATCH.index()] = EventSpec {
        has_data: true,
        ..structural("ExperimentalBatch", &["exp", "gen", "m", "time"])
    };
    s[T::SYNC.index()] = structural("Sync", &[]);
    s[T::END_OF_GENERATION.index()] = structural("EndOfGeneration", &[]);

    s[T::PROCS_CHANGE.index()] =
        timed_ids("ProcsChange", &["dt", "procs_value", "stack"], &[], &[2]);
    s[T::PROC_START.index()] = timed("ProcStart", &["dt", "p", "p_seq"]);
    s[T::PROC_STOP.index()] = timed("ProcStop", &["dt"]);
    s[T::PROC_STEAL.index()] = timed("ProcSteal", &["dt", "p", "p_seq", "m"]);
    s[T::PROC_STATUS.index()] = timed("ProcStatus", &["dt", "p", "pstatus"]);
    s[T::GO_CREATE.index()] = timed_ids(
        "GoCreate",
        &["dt", "new_g", "new_stack", "stack"],
        &[],
        &[3, 2],
    );
    s[T::GO_CREATE_SYSCALL.index()] = timed("GoCreateSyscall", &["dt", "new_g"]);
    s[T::GO_START.index()] = timed("GoStart", &["dt", "g", "g_seq"]);
    s[T::GO_DESTROY.index()] = timed("GoDestroy", &["dt"]);
    s[T::GO_DESTROY_SYSCALL.index()] = timed("GoDestroySyscall", &["dt"]);
    s[T::GO_STOP.index()] = timed_ids("GoStop", &["dt", "reason_string", "stack"], &[1], &[2]);
    s[T::GO_BLOCK.index()] = timed_ids("GoBlock", &["dt", "reason_string", "stack"], &[1], &[2]);
    s[T::GO_UNBLOCK.index()] = timed_ids("GoUnblock", &["dt", "g", "g_seq", "stack"], &[], &[3]);
    s[T::GO_SYSCALL_BEGIN.index()] =
        timed_ids("GoSyscallBegin", &["dt", "p_seq", "stack"], &[], &[2]);
    s[T::GO_SYSCALL_END.index()] = timed_end("GoSyscallEnd", &["dt"], T::GO_SYSCALL_BEGIN);
    s[T::GO_SYSCALL_END_BLOCKED.index()] =
        timed_end("GoSyscallEndBlocked", &["dt"], T::GO_SYSCALL_BEGIN);
    s[T::GO_STATUS.index()] = timed("GoStatus", &["dt", "g", "m", "gstatus"]);
    s[T::STW_BEGIN.index()] = timed_ids("STWBegin", &["dt", "kind_string", "stack"], &[1], &[2]);
    s[T::STW_END.index()] = timed_end("STWEnd", &["dt"], T::STW_BEGIN);
    s[T::GC_ACTIVE.index()] = timed_end("GCActive", &["dt", "gc_seq"], T::GC_BEGIN);
    s[T::GC_BEGIN.index()] = timed_ids("GCBegin", &["dt", "gc_seq", "stack"], &[], &[2]);
    s[T::GC_END.index()] = timed_end("GCEnd", &["dt", "gc_seq"], T::GC_BEGIN);
    s[T::GC_SWEEP_ACTIVE.index()] = timed_end("GCSweepActive", &["dt", "p"], T::GC_SWEEP_BEGIN);
    s[T::GC_SWEEP_BEGIN.index()] = timed_ids("GCSweepBegin", &["dt", "stack"], &[], &[1]);
    s[T::GC_SWEEP_END.index()] = timed_end(
        "GCSweepEnd",
        &["dt", "swept_value", "reclaimed_value"],
        T::GC_SWEEP_BEGIN,
    );
    s[T::GC_MARK_ASSIST_ACTIVE.index()] =
        timed_end("GCMarkAssistActive", &["dt", "g"], T::GC_MARK_ASSIST_BEGIN);
    s[T::GC_MARK_ASSIST_BEGIN.index()] =
        timed_ids("GCMarkAssistBegin", &["dt", "stack"], &[], &[1]);
    s[T::GC_MARK_ASSIST_END.index()] =
        timed_end("GCMarkAssistEnd", &["dt"], T::GC_MARK_ASSIST_BEGIN);
    s[T::HEAP_ALLOC.index()] = timed("HeapAlloc", &["dt", "heapalloc_value"]);
    s[T::HEAP_GOAL.index()] = timed("HeapGoal", &["dt", "heapgoal_value"]);
    s[T::GO_LABEL.index()] = timed_ids("GoLabel", &["dt", "label_string"], &[1], &[]);
    s[T::USER_TASK_BEGIN.index()] = timed_ids(
        "UserTaskBegin",
        &["dt", "task", "parent_task", "name_string", "stack"],
        &[3],
        &[4],
    );
    s[T::USER_TASK_END.index()] = timed_ids("UserTaskEnd", &["dt", "task", "stack"], &[], &[2]);
    s[T::USER_REGION_BEGIN.index()] = timed_ids(
        "UserRegionBegin",
        &["dt", "task", "name_string", "stack"],
        &[2],
        &[3],
    );
    s[T::USER_REGION_END.index()] = EventSpec {
        start_ev: T::USER_REGION_BEGIN,
        ..timed_ids(
            "UserRegionEnd",
            &["dt", "task", "name_string", "stack"],
            &[2],
            &[3],
        )
    };
    s[T::USER_LOG.index()] = timed_ids(
        "UserLog",
        &["dt", "task", "key_string", "value_string", "stack"],
        &[2, 3],
        &[4],
    );
    s[T::GO_SWITCH.index()] = timed("GoSwitch", &["dt", "g", "g_seq"]);
    s[T::GO_SWITCH_DESTROY.index()] = timed("GoSwitchDestroy", &["dt", "g", "g_seq"]);
    s[T::GO_CREATE_BLOCKED.index()] = timed_ids(
        "GoCreateBlocked",
        &["dt", "new_g", "new_stack", "stack"],
        &[],
        &[3, 2],
    );
    s[T::GO_STATUS_STACK.index()] = timed_ids(
        "GoStatusStack",
        &["dt", "g", "m", "gstatus", "stack"],
        &[],
        &[4],
    );
    s[T::CLOCK_SNAPSHOT.index()] = timed("ClockSnapshot", &["dt", "mono", "sec", "nsec"]);

    s[T::SPAN.index()] = alloc_free("Span", &["dt", "id", "npages_value", "kindclass"]);
    s[T::SPAN_ALLOC.index()] = alloc_free("SpanAlloc", &["dt", "id", "npages_value", "kindclass"]);
    s[T::SPAN_FREE.index()] = alloc_free("SpanFree", &["dt", "id"]);
    s[T::HEAP_OBJECT.index()] = alloc_free("HeapObject", &["dt", "id", "type"]);
    s[T::HEAP_OBJECT_ALLOC.index()] = alloc_free("HeapObjectAlloc", &["dt", "id", "type"]);
    s[T::HEAP_OBJECT_FREE.index()] = alloc_free("HeapObjectFree", &["dt", "id"]);
    s[T::GOROUTINE_STACK.index()] = alloc_free("GoroutineStack", &["dt", "id", "order"]);
    s[T::GOROUTINE_STACK_ALLOC.index()] = alloc_free("GoroutineStackAlloc", &["dt", "id", "order"]);
    s[T::GOROUTINE_STACK_FREE.index()] = alloc_free("GoroutineStackFree", &["dt", "id"]);
    s
}

/// The full event table (all v2 versions), indexed by type number; unused
/// slots have an empty name. Go's reader uses this full table, not the
/// version's prefix, to parse events in per-M batches.
pub fn specs() -> &'static [EventSpec] {
    &SPECS
}

/// What decoding and validating a timed event of one type needs, in a form
/// the per-event hot path can use without following the spec's slices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct WireInfo {
    /// Varints after the type byte (the time delta included) of a timed
    /// event; 0 for types that cannot appear in an event batch.
    pub(crate) varints: u8,
    /// Bit `j` set: argument `j` after the time delta is a stack ID.
    pub(crate) stack_mask: u8,
    /// Bit `j` set: argument `j` after the time delta is a string ID.
    pub(crate) string_mask: u8,
}

/// [`WireInfo`] of every type byte, derived from the event table.
static WIRE: [WireInfo; 256] = build_wire();

const fn build_wire() -> [WireInfo; 256] {
    let specs = build_specs();
    let mut w = [WireInfo {
        varints: 0,
        stack_mask: 0,
        string_mask: 0,
    }; 256];
    let mut i = 0;
    while i < specs.len() {
        let s = &specs[i];
        if s.is_timed && !s.args.is_empty() {
            // At most MAX_TIMED_EVENT_ARGS (5) entries, so it fits a u8.
            w[i].varints = s.args.len() as u8;
        }
        // Indices count the time delta as argument 0; all are below 5.
        let mut j = 0;
        while j < s.stack_ids.len() {
            w[i].stack_mask |= 1 << (s.stack_ids[j] - 1);
            j += 1;
        }
        let mut j = 0;
        while j < s.string_ids.len() {
            w[i].string_mask |= 1 << (s.string_ids[j] - 1);
            j += 1;
        }
        i += 1;
    }
    w
}

/// The [`WireInfo`] of type byte `typ`.
#[inline(always)]
pub(crate) fn wire_info(typ: EventType) -> WireInfo {
    WIRE[typ.index() & 0xff]
}
