//! Reading the binary wire format into raw [`Event`]s, without validation.

use std::fmt;

use super::event::{Event, Trace, spec_of};
use crate::trace::tracev2::EventType;
use crate::trace::version::{self, HeaderError, Version};

/// Why the bytes of a trace could not be split into raw events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The header is missing or names an unknown version.
    Header(HeaderError),
    /// A type byte that is 0 or past the end of the version's event table.
    InvalidType {
        /// Offset of the type byte.
        offset: usize,
        /// The type byte.
        typ: u8,
    },
    /// The input ends inside an event.
    Truncated {
        /// Offset of the event's type byte.
        offset: usize,
    },
    /// A varint longer than 64 bits.
    VarintOverflow {
        /// Offset of the varint.
        offset: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Header(e) => e.fmt(f),
            DecodeError::InvalidType { offset, typ } => {
                write!(f, "invalid event type: {typ} at offset {offset}")
            }
            DecodeError::Truncated { offset } => {
                write!(f, "unexpected end of trace in the event at offset {offset}")
            }
            DecodeError::VarintOverflow { offset } => {
                write!(f, "varint overflows a 64-bit integer at offset {offset}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Reads an unsigned LEB128 varint at `*pos`, advancing `*pos` past it.
/// `start` is the offset of the enclosing event, for the error.
fn uvarint(data: &[u8], pos: &mut usize, start: usize) -> Result<u64, DecodeError> {
    let at = *pos;
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let &b = data
            .get(*pos)
            .ok_or(DecodeError::Truncated { offset: start })?;
        *pos += 1;
        // The tenth byte may only carry the top bit of the value.
        if shift == 63 && b > 1 {
            return Err(DecodeError::VarintOverflow { offset: at });
        }
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err(DecodeError::VarintOverflow { offset: at })
}

/// Streams the raw events of a binary trace.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    version: Version,
    done: bool,
}

impl<'a> Reader<'a> {
    /// Reads the header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        let (version, pos) = version::read_header(data).map_err(DecodeError::Header)?;
        Ok(Reader {
            data,
            pos,
            version,
            done: false,
        })
    }

    /// The version from the header.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Reads the next event; `Ok(None)` at the end of the input.
    pub fn read_event(&mut self) -> Result<Option<Event>, DecodeError> {
        let start = self.pos;
        let Some(&typ) = self.data.get(start) else {
            return Ok(None);
        };
        self.pos += 1;
        let spec = spec_of(self.version, EventType(typ))
            .ok_or(DecodeError::InvalidType { offset: start, typ })?;
        let mut args = self.read_args(spec.args.len(), start)?;
        if spec.is_stack {
            let frames = args.get(1).copied().unwrap_or(0);
            for _ in 0..frames {
                args.extend(self.read_args(4, start)?);
            }
        }
        let data = if spec.has_data {
            Some(self.read_data(start)?)
        } else {
            None
        };
        Ok(Some(Event {
            version: self.version,
            typ: EventType(typ),
            args,
            data,
        }))
    }

    fn read_args(&mut self, n: usize, start: usize) -> Result<Vec<u64>, DecodeError> {
        (0..n)
            .map(|_| uvarint(self.data, &mut self.pos, start))
            .collect()
    }

    fn read_data(&mut self, start: usize) -> Result<Vec<u8>, DecodeError> {
        let len = uvarint(self.data, &mut self.pos, start)?;
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| self.pos.checked_add(len))
            .filter(|&end| end <= self.data.len())
            .ok_or(DecodeError::Truncated { offset: start })?;
        let bytes = self.data[self.pos..end].to_vec();
        self.pos = end;
        Ok(bytes)
    }
}

impl Iterator for Reader<'_> {
    type Item = Result<Event, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.read_event().transpose();
        self.done = !matches!(item, Some(Ok(_)));
        item
    }
}

/// Splits a whole binary trace into raw events.
pub fn decode(data: &[u8]) -> Result<Trace, DecodeError> {
    let reader = Reader::new(data)?;
    let version = reader.version();
    let events = reader.collect::<Result<Vec<_>, _>>()?;
    Ok(Trace { version, events })
}
