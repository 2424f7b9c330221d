//! `gotv latency FILE --kind sched|block|syscall [--top N]`: the longest
//! scheduler, block or syscall intervals of a trace, as TSV.
//!
//! One row per interval, longest first (ties by start, then goroutine), under
//! the header `goroutine start_ns end_ns duration_ns detail`; times are the
//! dump's `Time=` nanoseconds, `detail` is the block reason as the dump
//! prints it (inside its quotes) for `block`, empty otherwise. What an
//! interval is, and which are left out, is the analysis layer's business
//! (`src/analysis/latency.rs`); the generations are analysed on all cores
//! and stitched (`src/analysis/stitch.rs`). On a broken trace the rows
//! found before the fault are printed,
//! then the error goes to standard error and the exit status is 1.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::analysis::{Analysis, LatencyKind, analyze_latency};
use crate::trace::Trace;

/// The interval kinds the command reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Kind {
    /// Runnable until running.
    Sched,
    /// Blocked until runnable, with the reason.
    Block,
    /// In a system call.
    Syscall,
}

impl Kind {
    fn latency_kind(self) -> LatencyKind {
        match self {
            Kind::Sched => LatencyKind::Sched,
            Kind::Block => LatencyKind::Block,
            Kind::Syscall => LatencyKind::Syscall,
        }
    }
}

/// Prints the `top` longest intervals of `kind` in the trace at `path`.
pub(super) fn run(path: &Path, kind: Kind, top: usize) -> ExitCode {
    super::with_trace(path, |trace| print(trace, kind, top))
}

/// Prints the `top` longest intervals of `kind` in `trace`, its
/// generations analysed on every core.
fn print(trace: &Trace<'_>, kind: Kind, top: usize) -> ExitCode {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (analysis, error) = analyze_latency(trace, top, threads);
    if let Err(e) = write_rows(&analysis, kind.latency_kind()) {
        return super::output_failed(&e);
    }
    match error {
        None => ExitCode::SUCCESS,
        Some(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn write_rows(analysis: &Analysis, kind: LatencyKind) -> io::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    out.write_all(b"goroutine\tstart_ns\tend_ns\tduration_ns\tdetail\n")?;
    let mut line = Vec::with_capacity(128);
    for i in analysis.latencies.outliers(kind) {
        line.clear();
        write!(
            line,
            "{}\t{}\t{}\t{}\t",
            i.goroutine,
            i.start,
            i.end,
            i.duration()
        )?;
        analysis.labels.write_escaped(i.label, &mut line);
        line.push(b'\n');
        out.write_all(&line)?;
    }
    out.flush()
}
