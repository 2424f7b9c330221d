//! `gotv check FILE`: decode and validate the whole trace, print a summary.
//!
//! Exit status: 0 for a valid trace, 1 for an invalid or truncated one (the
//! problem, its generation and byte offset go to standard error), 2 when the
//! file cannot be read.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::trace::{IdSet, ResourceId, Trace};

/// Distinct resources seen in events.
#[derive(Default)]
struct Seen {
    goroutines: IdSet,
    procs: IdSet,
    threads: IdSet,
}

impl Seen {
    #[inline]
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
    let input = match super::open_input(path) {
        Ok(input) => input,
        Err(code) => return code,
    };
    let bytes = input.bytes();
    let release = |range| input.release(range);
    let trace = match Trace::open_releasing(bytes, &release) {
        Ok(trace) => trace,
        Err(e) => return super::invalid(path, &e),
    };
    let index_secs = start.elapsed().as_secs_f64();
    // GOTV_THREADS=0 selects the sequential reader (for comparisons).
    let threads = std::env::var("GOTV_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let add = |seen: &mut Seen, ev: crate::trace::Event<'_>| {
        seen.add(ResourceId::Goroutine(ev.goroutine()));
        seen.add(ResourceId::Proc(ev.proc()));
        seen.add(ResourceId::Thread(ev.thread()));
        if let Some(r) = ev.transition_resource() {
            seen.add(r);
        }
    };
    let mut seen = Seen::default();
    let result = if threads == 0 {
        trace.for_each_event(|ev| add(&mut seen, ev))
    } else {
        trace
            .for_each_event_parallel(threads, Seen::default, add, |range| input.release(range))
            .map(|(summary, parts)| {
                for part in &parts {
                    seen.goroutines.extend(&part.goroutines);
                    seen.procs.extend(&part.procs);
                    seen.threads.extend(&part.threads);
                }
                summary
            })
    };
    match result {
        Ok(summary) => {
            let (first, last) = summary.span.unwrap_or_default();
            let secs = start.elapsed().as_secs_f64();
            println!(
                "version={} generations={} events={} span={first}..{last} duration={:.6}s goroutines={} procs={} threads={} bytes={} decode={secs:.3}s ({:.0} MB/s) index={index_secs:.3}s threads={threads}",
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
