//! Raw events: a type, its arguments and trailing data, uninterpreted.

use std::fmt;

use super::quote;
use crate::trace::tracev2::{self, EventSpec, EventType};
use crate::trace::version::Version;

/// Names of the four numbers of each stack frame, in wire order.
pub const FRAME_FIELDS: [&str; 4] = ["pc", "func", "file", "line"];

/// One wire-format event (including the framing events such as `EventBatch`,
/// `Stacks` or `String`), exactly as encoded, with no validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The trace format version, which determines the event table.
    pub version: Version,
    /// The event's type byte.
    pub typ: EventType,
    /// The arguments in wire order. For stack events (`Stack`) the spec's
    /// arguments are followed by four numbers per frame (see [`FRAME_FIELDS`]).
    pub args: Vec<u64>,
    /// The trailing bytes of an event whose spec has data (`String`,
    /// `ExperimentalBatch`); `None` for other events.
    pub data: Option<Vec<u8>>,
}

impl Event {
    /// The table entry for this event's type, if its version has one.
    pub fn spec(&self) -> Option<&'static EventSpec> {
        spec_of(self.version, self.typ)
    }

    /// The event's name (or `Invalid(N)` for a type its version lacks).
    pub fn name(&self) -> String {
        tracev2::event_name(self.version, self.typ)
    }
}

/// The table slot of `typ` in `version`, including unnamed slots inside the
/// table (as Go's raw reader accepts them), but not type 0.
pub(crate) fn spec_of(version: Version, typ: EventType) -> Option<&'static EventSpec> {
    if typ == EventType::NONE {
        return None;
    }
    tracev2::specs_for(version).get(typ.index())
}

/// Formats the event as one entry of the text format: the name and
/// `name=value` arguments on one line, then one line per stack frame and a
/// `data="..."` line, each indented by a tab. No trailing newline.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(spec) = self.spec() else {
            return write!(f, "{}", self.name());
        };
        f.write_str(spec.name)?;
        for (name, value) in spec.args.iter().zip(&self.args) {
            write!(f, " {name}={value}")?;
        }
        if spec.is_stack {
            let frames = self.args.get(spec.args.len()..).unwrap_or_default();
            write_frames(f, frames)?;
        }
        if let Some(data) = &self.data {
            write!(f, "\n\tdata={}", quote::quote(data))?;
        }
        Ok(())
    }
}

/// Writes stack frame numbers, four to a line.
fn write_frames(f: &mut fmt::Formatter<'_>, frames: &[u64]) -> fmt::Result {
    for (i, value) in frames.iter().enumerate() {
        let sep = if i % 4 == 0 { "\n\t" } else { " " };
        write!(f, "{sep}{}={value}", FRAME_FIELDS[i % 4])?;
    }
    Ok(())
}

/// A whole raw trace: a version and its events in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// The format version from the header.
    pub version: Version,
    /// The events, in the order they appear in the file.
    pub events: Vec<Event>,
}

/// Formats the trace in the text format: the `Trace Go1.NN` header line, then
/// one event per line (plus its frame and data lines), each ending in a newline.
/// [`parse_text`](super::parse_text) reads the result back as the same trace.
impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Trace Go1.{}", self.version.minor())?;
        for ev in &self.events {
            writeln!(f, "{ev}")?;
        }
        Ok(())
    }
}
