//! The decoder's single error type.
//!
//! Go's conformance tests match reader errors with regular expressions, so the
//! message text of every fault Go's reader detects is kept verbatim (see
//! [`Error::message`]); the location (generation number, byte offset) is
//! added around it by [`Display`](fmt::Display), never inside it.

use std::fmt;

/// A trace that cannot be read, with where the problem is when known.
///
/// Boxed so that results on the decoder's hot paths stay small.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    message: String,
    generation: Option<u64>,
    offset: Option<u64>,
}

/// Shorthand for results of this module.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error with Go's message text and no location yet.
    pub(crate) fn new(message: impl Into<String>) -> Error {
        Error(Box::new(Inner {
            message: message.into(),
            generation: None,
            offset: None,
        }))
    }

    /// Attaches the generation number, unless one is already known or it is
    /// 0 (Go's "no generation yet").
    pub(crate) fn in_generation(mut self, generation: u64) -> Error {
        if generation != 0 {
            self.0.generation.get_or_insert(generation);
        }
        self
    }

    /// Attaches a byte offset in the input, unless one is already known.
    pub(crate) fn at_offset(mut self, offset: usize) -> Error {
        self.0.offset.get_or_insert(offset as u64);
        self
    }

    /// The message exactly as Go's reader words it.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The generation number (as written in the trace) the fault is in.
    pub fn generation(&self) -> Option<u64> {
        self.0.generation
    }

    /// The byte offset in the input near which the fault is.
    pub fn offset(&self) -> Option<u64> {
        self.0.offset
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        match (self.0.generation, self.0.offset) {
            (Some(g), Some(o)) => write!(f, " (generation {g}, byte offset {o})"),
            (Some(g), None) => write!(f, " (generation {g})"),
            (None, Some(o)) => write!(f, " (byte offset {o})"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for Error {}

/// Builds an [`Error`] from a format string, like `format!`.
macro_rules! trace_err {
    ($($arg:tt)*) => {
        $crate::trace::error::Error::new(format!($($arg)*))
    };
}
pub(crate) use trace_err;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_wraps_go_message() {
        let e = Error::new("no frequency event found")
            .in_generation(3)
            .at_offset(17)
            .in_generation(9);
        assert_eq!(e.message(), "no frequency event found");
        assert_eq!(
            e.to_string(),
            "no frequency event found (generation 3, byte offset 17)"
        );
        assert_eq!(trace_err!("x {}", 1).to_string(), "x 1");
    }
}
