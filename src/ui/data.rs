//! What the timeline needs from the layers below: the contract between `ui` and
//! the model/worker.
//!
//! The ui never looks at events. It draws a [`Timeline`]: the time span of the
//! trace, its generations (Go's tracer writes the trace in self-contained
//! generations, each with its own time range — they are the unit the worker
//! decodes on demand, so showing them tells the user what "loading" means), and
//! a list of [`Lane`]s. The worker fills a `Timeline` from the generation index
//! as soon as the file is indexed — long before any generation is decoded — so
//! the first frame shows the whole run at once.
//!
//! Screenshot mode (and later, a progress indicator) asks
//! [`Timeline::pending`] whether everything the user can see has been drawn
//! from decoded data; the worker will drive it.
//!
//! These types belong to the model layer: they move to `crate::model` when it
//! exists, and the ui keeps only reading them.

/// A half-open time interval `[start, end)` in trace nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TimeSpan {
    /// First nanosecond inside the span.
    pub(crate) start: i64,
    /// First nanosecond after the span.
    pub(crate) end: i64,
}

impl TimeSpan {
    /// The span `[start, end)`; a reversed pair is swapped.
    pub(crate) fn new(start: i64, end: i64) -> Self {
        Self {
            start: start.min(end),
            end: start.max(end),
        }
    }

    /// Length in nanoseconds.
    pub(crate) fn len(self) -> i64 {
        self.end.saturating_sub(self.start)
    }
}

/// The sections lanes are grouped in, in the order Go engineers read them:
/// what the scheduler had (Ps), what the OS ran (Ms), what the program did (Gs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum LaneGroup {
    /// One lane per P (logical processor).
    Procs,
    /// One lane per M (OS thread).
    Threads,
    /// One lane per goroutine.
    Goroutines,
}

impl LaneGroup {
    /// Heading of the section in the name column.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Self::Procs => "Procs",
            Self::Threads => "Threads",
            Self::Goroutines => "Goroutines",
        }
    }
}

/// One horizontal row of the timeline, as the model describes it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Lane {
    /// Text in the name column, e.g. `P3`, `M12`, `G42 main.worker`.
    pub(crate) label: String,
    /// The section the lane belongs to; consecutive lanes of one group share a
    /// foldable section header.
    pub(crate) group: LaneGroup,
    /// Height in points when expanded (one row of spans, or a stack of nested
    /// regions/tasks). The ui clamps it to at least one text row.
    pub(crate) height: f32,
    /// Whether the user may fold the lane to a single row (lanes whose content
    /// is already one row have nothing to fold).
    pub(crate) collapsible: bool,
}

/// Everything the timeline frame draws that does not need decoded events.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Timeline {
    /// The whole trace: what Home fits.
    pub(crate) span: TimeSpan,
    /// Time range of each generation, in trace order.
    pub(crate) generations: Vec<TimeSpan>,
    /// Rows, top to bottom.
    pub(crate) lanes: Vec<Lane>,
    /// Pieces of work the worker still has to finish before what is visible is
    /// drawn from decoded data (0 = the picture is complete). Until the worker
    /// exists nothing is ever pending.
    pub(crate) pending: usize,
}

impl Timeline {
    /// The timeline of a trace known only by its header: no events decoded yet,
    /// so the span is a placeholder second and there are no lanes.
    // TODO(decoder): replace by the generation index's span, generations and lanes.
    pub(crate) fn undecoded() -> Self {
        Self {
            span: TimeSpan::new(0, 1_000_000_000),
            ..Self::default()
        }
    }
}
