//! The shape of an event table entry.

/// The one-byte type number that starts every event on the wire.
///
/// A newtype rather than an enum: the byte comes from untrusted input and any
/// value must be representable (unknown values are reported, not rejected at
/// conversion time). The known types are associated constants, usable in
/// `match` patterns.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct EventType(pub u8);

impl EventType {
    /// The type number as a table index.
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// Whether this type lies in the experimental range (above
    /// [`EventType::MAX_EVENT`] and below the end of the known experimental
    /// events).
    pub const fn is_experimental(self) -> bool {
        self.0 > Self::MAX_EVENT.0 && self.0 < Self::MAX_EXPERIMENTAL_EVENT.0
    }
}

/// An experiment that experimental events and batches belong to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Experiment(pub u8);

impl Experiment {
    /// Not an experiment: a regular event or batch.
    pub const NONE: Experiment = Experiment(0);
    /// Heap span, heap object and goroutine stack allocation events.
    pub const ALLOC_FREE: Experiment = Experiment(1);

    /// The experiment's name as Go prints it, if known.
    pub fn name(self) -> Option<&'static str> {
        super::EXPERIMENTS.get(usize::from(self.0)).copied()
    }
}

/// How to parse one event type, and what its arguments mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventSpec {
    /// Human-readable name; empty for unused type numbers.
    pub name: &'static str,
    /// Argument names, in wire order. For timed events the first is `dt`, the
    /// timestamp delta. A name may end in `_<type>` (`_string`, `_stack`,
    /// `_seq`, `_value`, ...), which the text format uses to type-check.
    pub args: &'static [&'static str],
    /// Indices into `args` of string-table references.
    pub string_ids: &'static [usize],
    /// Indices into `args` of stack-table references; the first one is the
    /// stack of the event's own execution context.
    pub stack_ids: &'static [usize],
    /// For the end (or "active") event of a time range, the type of the event
    /// that begins it; [`EventType::NONE`] otherwise.
    pub start_ev: EventType,
    /// Whether the event carries a timestamp delta and appears in per-M event
    /// batches (as opposed to structural events such as string entries).
    pub is_timed: bool,
    /// Whether the arguments are followed by a varint length and that many raw
    /// bytes.
    pub has_data: bool,
    /// Whether the arguments are followed by `nframes` groups of four varints
    /// (PC, function string ID, file string ID, line).
    pub is_stack: bool,
    /// The experiment the event belongs to, or [`Experiment::NONE`].
    pub experiment: Experiment,
}

impl EventSpec {
    /// An unused table slot.
    pub(crate) const UNUSED: EventSpec = EventSpec {
        name: "",
        args: &[],
        string_ids: &[],
        stack_ids: &[],
        start_ev: EventType::NONE,
        is_timed: false,
        has_data: false,
        is_stack: false,
        experiment: Experiment::NONE,
    };
}
