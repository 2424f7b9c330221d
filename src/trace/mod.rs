//! The Go execution trace format.
//!
//! Reads Go 1.22+ execution traces ("v2" format) exactly as Go's own
//! `internal/trace` reader does, event for event, with the same validation
//! and error messages:
//!
//! - [`input`]: the bytes (memory-mapped file or stdin);
//! - [`version`] and [`tracev2`]: the header and the event table;
//! - [`index`]: one cheap pass over batch headers listing the generations;
//! - [`generation`]: a generation's tables (strings, stacks, samples, clocks);
//! - `order` (private): the scheduler-emulating ordering state machine, fed
//!   by per-M batch cursors merged in time order (`batchcursor`);
//! - [`reader`]: ties these together into the ordered stream of [`Event`]s;
//! - [`event`]: the event model and its `go tool trace -d=parsed` text;
//! - [`raw`]: the text format of Go's `internal/trace/raw` and a writer.
//!
//! Start with [`Input::open`], [`Trace::open`], then either
//! [`Trace::for_each_event`] (the whole trace, in Go's order, with Go's
//! cross-generation validation) or [`Trace::decode_generation`] (one
//! generation on its own, for viewers that load generations on demand).

mod base;
mod batch;
mod batchcursor;
pub mod error;
pub mod event;
pub mod generation;
pub mod index;
pub mod input;
mod order;
pub mod raw;
pub mod reader;
pub mod resources;
mod sort;
pub mod tracev2;
pub mod value;
pub mod version;

pub use base::{
    BACKGROUND_TASK, GoId, IdSet, NO_GOROUTINE, NO_PROC, NO_TASK, NO_THREAD, ProcId, SchedCtx,
    TaskId, ThreadId, Time,
};
pub(crate) use base::{FxHashMap, FxHashSet, FxHasher, IdMap};
pub use batch::{BatchKind, BatchRef};
pub use error::Error;
pub use event::{Event, EventKind, EventRecord, Stack, StackFrame, TextWriter, format_wall_clock};
pub use input::Input;
pub use reader::{GenerationEvents, SharedIndex, Summary, Trace};
pub use resources::{GoState, ProcState, ResourceId, Transition};
