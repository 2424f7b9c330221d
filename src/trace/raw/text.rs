//! Reading the text format into raw [`Event`]s.

use std::fmt;
use std::iter::Enumerate;
use std::str::Split;

use super::event::{Event, FRAME_FIELDS, Trace, spec_of};
use super::token::{is_blank, parse_uint, read_args, read_data, read_token};
use crate::trace::tracev2::{self, EventSpec};
use crate::trace::version::Version;

/// A syntax error in a text trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    /// 1-based line number within the text given to the reader (0 when the
    /// text has no lines at all).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for TextError {}

/// Lines of the input with their 1-based numbers, skipping blank and comment lines.
struct Lines<'a> {
    inner: Enumerate<Split<'a, char>>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            inner: text.split('\n').enumerate(),
        }
    }

    /// The next line with a token on it, without its line terminator.
    fn next_line(&mut self) -> Option<(usize, &'a str)> {
        for (i, line) in self.inner.by_ref() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if !is_blank(line) {
                return Some((i + 1, line));
            }
        }
        None
    }

    fn error(&self, line: usize, message: impl Into<String>) -> TextError {
        TextError {
            line,
            message: message.into(),
        }
    }
}

/// Streams the events of a text trace. Reading is lazy: a syntax error is
/// reported when the reader reaches it.
pub struct TextReader<'a> {
    version: Version,
    lines: Lines<'a>,
    /// Set after an error or the end, so iteration stops.
    done: bool,
}

impl<'a> TextReader<'a> {
    /// Reads the header line (`Trace Go1.NN`) and prepares to read events.
    pub fn new(text: &'a str) -> Result<Self, TextError> {
        let mut lines = Lines::new(text);
        let Some((n, line)) = lines.next_line() else {
            return Err(lines.error(0, "missing header line `Trace Go1.NN`"));
        };
        let version = parse_header(line).map_err(|m| lines.error(n, m))?;
        Ok(TextReader {
            version,
            lines,
            done: false,
        })
    }

    /// The version from the header.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Reads the next event; `Ok(None)` at the end of the text.
    pub fn read_event(&mut self) -> Result<Option<Event>, TextError> {
        let Some((n, line)) = self.lines.next_line() else {
            return Ok(None);
        };
        let (name, rest) = read_token(line);
        let spec = tracev2::type_by_name(self.version, name)
            .and_then(|typ| spec_of(self.version, typ).map(|spec| (typ, spec)));
        let Some((typ, spec)) = spec else {
            return Err(self.lines.error(n, format!("unidentified event: {name}")));
        };
        let mut args = read_args(rest, spec.args)
            .map_err(|m| self.lines.error(n, format!("reading args for {name}: {m}")))?;
        if spec.is_stack {
            self.read_frames(n, &mut args)?;
        }
        let data = self.read_trailer(n, spec)?;
        Ok(Some(Event {
            version: self.version,
            typ,
            args,
            data,
        }))
    }

    /// Reads the frame lines of a stack event whose arguments are `args`
    /// (the frame count is the second argument), appending their numbers.
    fn read_frames(&mut self, event_line: usize, args: &mut Vec<u64>) -> Result<(), TextError> {
        let count = args.get(1).copied().unwrap_or(0);
        for _ in 0..count {
            let Some((n, line)) = self.lines.next_line() else {
                let msg = format!("unexpected end of text while reading stack: args={args:?}");
                return Err(self.lines.error(event_line, msg));
            };
            let frame = read_args(line, &FRAME_FIELDS).map_err(|m| self.lines.error(n, m))?;
            args.extend(frame);
        }
        Ok(())
    }

    /// Reads the `data=` line of an event whose spec has data.
    fn read_trailer(
        &mut self,
        event_line: usize,
        spec: &EventSpec,
    ) -> Result<Option<Vec<u8>>, TextError> {
        if !spec.has_data {
            return Ok(None);
        }
        let Some((n, line)) = self.lines.next_line() else {
            let msg = format!(
                "unexpected end of text while reading data for {}",
                spec.name
            );
            return Err(self.lines.error(event_line, msg));
        };
        read_data(line)
            .map(Some)
            .map_err(|m| self.lines.error(n, m))
    }
}

impl Iterator for TextReader<'_> {
    type Item = Result<Event, TextError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.read_event().transpose();
        self.done = !matches!(item, Some(Ok(_)));
        item
    }
}

/// Parses the header line: `Trace`, then `Go1.NN` for a known version, then
/// nothing but white space.
fn parse_header(line: &str) -> Result<Version, String> {
    let (word, rest) = read_token(line);
    if word != "Trace" {
        return Err("failed to parse header".to_string());
    }
    let (go, rest) = read_token(rest);
    let Some(minor) = go.strip_prefix("Go1.") else {
        return Err("failed to parse header Go version".to_string());
    };
    let minor = parse_uint(minor)
        .ok_or_else(|| format!("failed to parse header Go version: invalid number {minor:?}"))?;
    let version = Version::from_minor(minor)
        .ok_or_else(|| format!("unknown or unsupported Go version 1.{minor}"))?;
    if !rest.chars().all(char::is_whitespace) {
        return Err(format!(
            "encountered unexpected non-space at the end of the header: {rest:?}"
        ));
    }
    Ok(version)
}

/// Parses a whole text trace.
pub fn parse_text(text: &str) -> Result<Trace, TextError> {
    let reader = TextReader::new(text)?;
    let version = reader.version();
    let events = reader.collect::<Result<Vec<_>, _>>()?;
    Ok(Trace { version, events })
}
