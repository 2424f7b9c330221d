//! `gotv check FILE`: decode and validate the whole trace, print a summary.
//!
//! Exit status: 0 for a valid trace, 1 for an invalid or truncated one (the
//! problem, its generation and byte offset go to standard error), 2 when the
//! file cannot be read.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::trace::{IdSet, Input, ResourceId, Trace};

/// Distinct resources seen in events.
#[derive(Default)]
struct Seen {
    goroutines: IdSet,
    procs: IdSet,
    threads: IdSet,
}

impl Seen {
    fn add(&mut self, r: ResourceId) {
        match r {
            ResourceId::Goroutine(g) => self.goroutines.insert(g),
            ResourceId::Proc(p) => self.procs.insert(p),
            ResourceId::Thread(m) => self.threads.insert(m),
            ResourceId::None => {}
        }
    }
}

/// Validates the trace at `path` (`-` for standard input).
pub fn run(path: &Path) -> ExitCode {
    let start = Instant::now();
    let input = match Input::open(path) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("gotv: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let bytes = input.bytes();
    let trace = match Trace::open(bytes) {
        Ok(trace) => trace,
        Err(e) => {
            eprintln!("gotv: {}: invalid trace: {e}", path.display());
            return ExitCode::from(1);
        }
    };
    let mut seen = Seen::default();
    let result = trace.for_each_event(|ev| {
        seen.add(ResourceId::Goroutine(ev.goroutine()));
        seen.add(ResourceId::Proc(ev.proc()));
        seen.add(ResourceId::Thread(ev.thread()));
        if let Some(r) = ev.transition_resource() {
            seen.add(r);
        }
    });
    match result {
        Ok(summary) => {
            let (first, last) = summary.span.unwrap_or_default();
            let secs = start.elapsed().as_secs_f64();
            println!(
                "version={} generations={} events={} span={first}..{last} duration={:.6}s goroutines={} procs={} threads={} bytes={} decode={secs:.3}s ({:.0} MB/s)",
                trace.version(),
                summary.generations,
                summary.events,
                last.wrapping_sub(first) as f64 / 1e9,
                seen.goroutines.len(),
                seen.procs.len(),
                seen.threads.len(),
                bytes.len(),
                bytes.len() as f64 / 1e6 / secs.max(1e-9),
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gotv: {}: invalid trace: {e}", path.display());
            ExitCode::from(1)
        }
    }
}
