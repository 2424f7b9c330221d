//! gotv: a native desktop viewer for Go execution traces.
//!
//! The crate is layered, and dependencies only point down the list:
//!
//! - [`trace`]: the Go execution trace format (no GUI dependencies): memory-mapped
//!   input, the generation index, per-generation decoding and Go's ordering state
//!   machine, producing the same event stream as Go's `internal/trace` reader.
//! - [`cli`]: the command-line front end (`gotv dump`, `gotv check`, ...).

pub mod analysis;
pub mod cli;
pub mod model;
pub mod trace;
pub mod ui;
pub mod worker;
