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
//! - [`order`] (private): the scheduler-emulating ordering state machine;
//! - [`reader`]: ties these together into the ordered stream of [`Event`]s.

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
pub use batch::{BatchKind, BatchRef};
pub use error::Error;
pub use event::{Event, EventKind, EventRecord, Stack, StackFrame, TextWriter};
pub use input::Input;
pub use reader::{GenerationEvents, Summary, Trace};
pub use resources::{GoState, ProcState, ResourceId, Transition};
