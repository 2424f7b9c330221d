//! Encoding raw events in the binary wire format.

use std::fmt;

use super::event::{Event, Trace};
use crate::trace::tracev2::EventType;
use crate::trace::version::Version;

/// An event that cannot be encoded as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// The event's version differs from the trace's.
    VersionMismatch {
        /// The version being written.
        trace: Version,
        /// The event's version.
        event: Version,
    },
    /// The version's event table has no such type.
    UnknownType(Version, EventType),
    /// The number of arguments does not fit the spec (too few, or extra
    /// arguments on an event that has no stack frames, or frames that are not
    /// four numbers each).
    ArgCount {
        /// The event's name.
        name: &'static str,
        /// How many arguments it has.
        got: usize,
    },
    /// Data on an event whose spec has none.
    UnexpectedData(&'static str),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::VersionMismatch { trace, event } => write!(
                f,
                "mismatched version between writer ({trace}) and event ({event})"
            ),
            EncodeError::UnknownType(v, t) => write!(f, "event type {} is not in {v}", t.0),
            EncodeError::ArgCount { name, got } => {
                write!(f, "{name}: {got} arguments do not fit the event's spec")
            }
            EncodeError::UnexpectedData(name) => {
                write!(f, "{name}: event has data but no data in its spec")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

/// Appends `v` as an unsigned LEB128 varint (the shortest form).
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends the file header of `version`: `go 1.NN trace` and three NUL bytes.
pub fn write_header(out: &mut Vec<u8>, version: Version) {
    out.extend_from_slice(&version.header());
}

/// Appends one event: its type byte, its arguments (and stack frame numbers)
/// as varints, then, for events whose spec has data, the data's length as a
/// varint and the data bytes.
pub fn write_event(out: &mut Vec<u8>, version: Version, ev: &Event) -> Result<(), EncodeError> {
    if ev.version != version {
        return Err(EncodeError::VersionMismatch {
            trace: version,
            event: ev.version,
        });
    }
    let spec = ev.spec().ok_or(EncodeError::UnknownType(version, ev.typ))?;
    let extra = ev.args.len().checked_sub(spec.args.len());
    let args_fit = match extra {
        Some(extra) if spec.is_stack => extra % 4 == 0,
        Some(extra) => extra == 0,
        None => false,
    };
    if !args_fit {
        return Err(EncodeError::ArgCount {
            name: spec.name,
            got: ev.args.len(),
        });
    }
    if ev.data.is_some() && !spec.has_data {
        return Err(EncodeError::UnexpectedData(spec.name));
    }
    out.push(ev.typ.0);
    for &arg in &ev.args {
        put_uvarint(out, arg);
    }
    if spec.has_data {
        let data = ev.data.as_deref().unwrap_or_default();
        put_uvarint(out, data.len() as u64);
        out.extend_from_slice(data);
    }
    Ok(())
}

/// Encodes a whole trace: the header, then every event in order.
///
/// For a trace read with [`parse_text`](super::parse_text) the bytes are
/// exactly those Go's `internal/trace/raw.Writer` produces for the same text.
pub fn encode(trace: &Trace) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    write_header(&mut out, trace.version);
    for ev in &trace.events {
        write_event(&mut out, trace.version, ev)?;
    }
    Ok(out)
}
