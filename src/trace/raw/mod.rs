//! Raw, uninterpreted trace events in Go's text and binary forms.
//!
//! This is the counterpart of Go's `internal/trace/raw`: it turns a trace
//! written in a small text format into the bytes of a binary trace file (and
//! back), with no validation beyond the shape of each event. Go's trace
//! conformance tests (`src/internal/trace/testdata/tests/*.test`) are written
//! in this text format, inside a [`txtar`] archive; the integration tests
//! encode them with [`encode`] and feed the bytes to the real decoder.
//!
//! # Text format
//!
//! The text is read line by line (`\n`, optionally preceded by `\r`). Lines
//! holding only white space, or white space and a `#` comment, are skipped.
//! Tokens are separated by any Unicode white space.
//!
//! The first line is the header, `Trace Go1.NN`, where `NN` is a known trace
//! format version (see [`Version`]). Each following line is one event: its
//! name from the version's event table ([`tracev2`]), then
//! exactly the arguments the table lists for it, in order, as `name=value`
//! with a decimal `u64` value:
//!
//! ```text
//! Trace Go1.22
//! EventBatch gen=1 m=0 time=0 size=5
//! Frequency freq=15625000
//! ```
//!
//! Two kinds of event continue on the next lines:
//!
//! - Stack events (`Stack id=ID nframes=N`) are followed by N frame lines of
//!   four arguments each: `pc=... func=... file=... line=...` (the function
//!   and file are string IDs).
//! - Events with trailing data (`String`, `ExperimentalBatch`) are followed by
//!   one line `data=LITERAL`, a Go string literal (see [`quote`]); its length is
//!   not written in the text.
//!
//! ```text
//! String id=1
//!     data="main.main"
//! Stack id=1 nframes=1
//!     pc=4198400 func=1 file=2 line=12
//! ```
//!
//! # Binary format
//!
//! A binary trace starts with the 16-byte header `go 1.NN trace` followed by
//! three NUL bytes. Each event follows as its one-byte type number, then every
//! argument (and, for stack events, every frame number) as an unsigned LEB128
//! varint, then for events with data the data's length as a varint and the
//! bytes themselves. [`encode`] writes the shortest varints, so its output is
//! byte for byte what Go's `raw.Writer` writes for the same events (the runtime
//! itself sometimes pads varints, which readers accept).
//!
//! # Example
//!
//! ```
//! use gotv::trace::raw;
//!
//! let trace = raw::parse_text("Trace Go1.22\nEventBatch gen=1 m=0 time=0 size=5\nFrequency freq=100\n")?;
//! let bytes = raw::encode(&trace)?;
//! assert_eq!(&bytes[..16], b"go 1.22 trace\0\0\0");
//! assert_eq!(raw::decode(&bytes)?, trace);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Version`]: crate::trace::version::Version
//! [`tracev2`]: crate::trace::tracev2

mod event;
pub mod quote;
mod reader;
mod text;
mod token;
pub mod txtar;
mod writer;

pub use event::{Event, FRAME_FIELDS, Trace};
pub use reader::{DecodeError, Reader, decode};
pub use text::{TextError, TextReader, parse_text};
pub use writer::{EncodeError, encode, put_uvarint, write_event, write_header};

#[cfg(test)]
mod tests;
