//! The timeline model: per-lane spans built from decoded generations, and
//! the summaries and folding that let the viewer draw any zoom level cheaply.
//!
//! Go's tracer writes a trace as self-contained generations, and the model
//! follows that grain. [`build()`] turns one generation's events into a
//! [`GenerationModel`]: lanes for the GC, user tasks, each P, each M and
//! each goroutine, each lane a few rows of compact [spans](SpanKind) sorted
//! by start, plus plotted series (heap, goroutines by state, GOMAXPROCS).
//! Every generation also yields a [`GenerationSummary`] — a power-of-two
//! pyramid per row (busy fraction, dominant kind, count per bucket) and
//! downsampled plots — small enough to keep for the whole trace, so the
//! zoomed-out view never needs full detail. Zoomed in, full-detail rows are
//! drawn with Tracy-style folding of sub-pixel runs.
//!
//! The [`query`] functions turn either form into [`DrawItem`]s for a time
//! range and pixel density; the worker decides which form a generation is
//! in. Modules: [`timeline`] (lane identities, what the frame needs without
//! spans), `span` (storage), `intern` (labels), `build` (events → spans),
//! `origin` (what began each span: stack, unblocker, P, M, for the side
//! panel), `annotations` (user regions and tasks across generation boundaries), `lod` (summaries), `fold` (folding), `plot` (series), `generation` (one
//! generation's detail and summary), [`query`] (draw items).

mod activity;
mod annotations;
mod build;
mod fold;
mod generation;
mod intern;
mod lod;
mod origin;
mod plot;
pub mod query;
mod span;
pub mod timeline;

pub(crate) use activity::Activity;
pub use activity::{STATES as GROUP_STATES, Values as GroupValues};
pub use annotations::{AnnotationEdges, OpenAnnotations};
pub use build::{build, build_generation, build_window, summarize_generation};
pub use generation::{GenerationModel, GenerationSummary};
pub use origin::{SpanDetails, StackFrame};
pub use plot::{PlotPoint, Series};
pub use query::{DrawItem, ItemKind};
pub use span::SpanKind;
pub use timeline::{Lane, LaneGroup, LaneKey, LaneNames, PlotKind, TimeSpan, Timeline, WallClock};

#[cfg(test)]
mod tests;
