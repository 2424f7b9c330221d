//! The Go execution trace format.

pub mod raw;
pub mod tracev2;
pub mod version;
