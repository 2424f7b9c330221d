//! `gotv dump FILE`: the ordered events in the text of `go tool trace -d=parsed`.
//!
//! Events are written as they are decoded, in large buffered writes. On a
//! broken trace everything Go's reader would have printed is printed first,
//! then the error goes to standard error and the exit status is 1. A closed
//! pipe (`gotv dump f | head`) ends the output quietly.

use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::process::ExitCode;

use crate::trace::{TextWriter, Trace};

/// Prints every event of the trace at `path` (`-` for standard input).
pub fn run(path: &Path) -> ExitCode {
    super::with_trace(path, dump)
}

/// Prints every event of `trace`, then the error that ended it, if any.
fn dump(trace: &Trace<'_>) -> ExitCode {
    // Events are formatted straight into one buffer that is handed to the
    // OS in large writes.
    const FLUSH_AT: usize = 1 << 18;
    let mut out = io::stdout().lock();
    let mut buf = Vec::with_capacity(FLUSH_AT + (64 << 10));
    let mut write_error: Option<io::Error> = None;
    let mut writer = TextWriter::new();
    let result = trace.try_for_each_event(|ev| {
        writer.write(&ev, &mut buf);
        buf.push(b'\n');
        if buf.len() < FLUSH_AT {
            return ControlFlow::Continue(());
        }
        let written = out.write_all(&buf);
        buf.clear();
        match written {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                write_error = Some(e);
                ControlFlow::Break(())
            }
        }
    });
    if write_error.is_none()
        && let Err(e) = out.write_all(&buf).and_then(|()| out.flush())
    {
        write_error = Some(e);
    }
    if let Some(e) = write_error {
        return super::output_failed(&e);
    }
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
