//! `gotv dump FILE`: the ordered events in the text of `go tool trace -d=parsed`.
//!
//! Events are written as they are decoded, through one buffered writer. On a
//! broken trace everything Go's reader would have printed is printed first,
//! then the error goes to standard error and the exit status is 1. A closed
//! pipe (`gotv dump f | head`) ends the output quietly.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::trace::{Input, Trace};

/// Prints every event of the trace at `path` (`-` for standard input).
pub fn run(path: &Path) -> ExitCode {
    let input = match Input::open(path) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("gotv: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let trace = match Trace::open(input.bytes()) {
        Ok(trace) => trace,
        Err(e) => {
            eprintln!("gotv: {}: {e}", path.display());
            return ExitCode::from(1);
        }
    };
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut line = Vec::with_capacity(256);
    let mut write_error: Option<io::Error> = None;
    let result = trace.for_each_event(|ev| {
        if write_error.is_some() {
            return;
        }
        line.clear();
        ev.write_text(&mut line);
        line.push(b'\n');
        if let Err(e) = out.write_all(&line) {
            write_error = Some(e);
        }
    });
    if write_error.is_none()
        && let Err(e) = out.flush()
    {
        write_error = Some(e);
    }
    match write_error {
        Some(e) if e.kind() == io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
        Some(e) => {
            eprintln!("gotv: writing output: {e}");
            return ExitCode::from(2);
        }
        None => {}
    }
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
