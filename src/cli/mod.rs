//! The command line: `gotv [FILE]` opens the viewer, subcommands work headless.
//!
//! Parsing is clap's; each subcommand's body lives in a module of its own so this
//! file stays a table of what gotv can be asked to do. Exit codes follow one rule
//! across subcommands: 0 success, 1 the trace is invalid or truncated, 2 usage or
//! I/O errors.

mod check;
mod dump;
mod latency;

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::trace::Trace;

/// A native desktop viewer for Go execution traces.
#[derive(Debug, Parser)]
#[command(name = "gotv", version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    /// Trace file to open; without it, gotv opens its bundled sample trace.
    file: Option<PathBuf>,

    #[command(flatten)]
    window: WindowArgs,

    #[command(subcommand)]
    command: Option<Command>,
}

/// Options of the viewer window.
#[derive(Debug, clap::Args)]
struct WindowArgs {
    /// Render the window headless-ready and save it as PNG, then exit.
    #[arg(long, value_name = "OUT.png")]
    screenshot: Option<PathBuf>,

    /// Window size for --screenshot, e.g. 1600x1000.
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    size: Option<(u32, u32)>,

    /// Visible time range in nanoseconds from the start of the trace (as the time axis counts), e.g. 0:2000000.
    #[arg(long, value_name = "START_NS:END_NS", value_parser = parse_range)]
    range: Option<(i64, i64)>,

    /// Open an analysis panel; --screenshot then waits for what it shows.
    #[arg(long, value_enum)]
    panel: Option<PanelArg>,

    /// Select a time range in nanoseconds from the start of the trace, as a shift-drag does, e.g. 1000000:2500000.
    #[arg(long, value_name = "START_NS:END_NS", value_parser = parse_range)]
    select: Option<(i64, i64)>,

    /// Show only the goroutines TEXT selects, as typed into the filter field, e.g. 'g:123' or 'main.handle >10ms'.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    filter: Option<String>,

    /// Hide goroutines started in package runtime (the GC workers, finalizers, …).
    #[arg(long)]
    hide_runtime: bool,

    /// Print to stderr when each stage of loading is reached (first frame, overview, outliers, statistics).
    #[arg(long)]
    timings: bool,

    /// Install the icon, .desktop file and MIME type for the current user, then exit.
    #[arg(long)]
    install_desktop: bool,
}

/// The analysis panels, as `--panel` names them.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum PanelArg {
    /// Latency histograms and the longest intervals.
    Outliers,
    /// Flame graphs of where waits began.
    Profiles,
    /// Goroutines by start function.
    Goroutines,
    /// Statistics of the selected range.
    Range,
    /// Minimum mutator utilisation.
    Mmu,
}

impl From<PanelArg> for crate::ui::Panel {
    fn from(p: PanelArg) -> Self {
        match p {
            PanelArg::Outliers => Self::Outliers,
            PanelArg::Profiles => Self::Profiles,
            PanelArg::Goroutines => Self::Goroutines,
            PanelArg::Range => Self::Range,
            PanelArg::Mmu => Self::Mmu,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print every event in the text of `go tool trace -d=parsed`.
    Dump {
        /// Trace file (`-` for standard input).
        file: PathBuf,
    },
    /// Decode and validate the whole trace and print a summary.
    Check {
        /// Trace file (`-` for standard input).
        file: PathBuf,
        /// Also build everything the window builds from it (each
        /// generation's summary, full detail and latency analysis, and the
        /// whole-trace analysis) and report what they found.
        #[arg(long)]
        deep: bool,
    },
    /// Print the longest scheduler, block or syscall intervals as TSV.
    Latency {
        /// Trace file (`-` for standard input).
        file: PathBuf,
        /// Which intervals.
        #[arg(long, value_enum)]
        kind: latency::Kind,
        /// How many rows, longest first.
        #[arg(long, default_value_t = 20)]
        top: usize,
    },
}

/// Parses the command line and runs what it asks for.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Dump { file }) => dump::run(&file),
        Some(Command::Check { file, deep }) => check::run(&file, deep),
        Some(Command::Latency { file, kind, top }) => latency::run(&file, kind, top),
        None => window(cli.file, cli.window),
    }
}

fn window(file: Option<PathBuf>, args: WindowArgs) -> ExitCode {
    if args.install_desktop {
        return crate::ui::install_desktop();
    }
    crate::ui::run(crate::ui::Options {
        file,
        screenshot: args.screenshot,
        size: args.size,
        range: args.range,
        panel: args.panel.map(Into::into),
        select: args.select,
        filter: args.filter,
        hide_runtime: args.hide_runtime,
        timings: args.timings.then(std::time::Instant::now),
    })
}

/// Opens the input at `path` (`-` for standard input); on failure says why
/// and gives the I/O exit code 2.
fn open_input(path: &Path) -> Result<crate::trace::Input, ExitCode> {
    crate::trace::Input::open(path).map_err(|e| {
        eprintln!("gotv: {}: {e}", path.display());
        ExitCode::from(2)
    })
}

/// Opens and indexes the trace at `path` for one pass that releases each
/// generation's pages once read, and runs `f` on it; the exit code of a
/// file that cannot be opened (2) or read as a trace (1) otherwise.
fn with_trace(path: &Path, f: impl FnOnce(&Trace<'_>) -> ExitCode) -> ExitCode {
    let input = match open_input(path) {
        Ok(input) => input,
        Err(code) => return code,
    };
    let release = |range| input.release(range);
    match Trace::open_releasing(&input, &release) {
        Ok(trace) => f(&trace),
        Err(e) => invalid(path, &e),
    }
}

/// Reports a trace that cannot be read (bad header, v1 format, damage found
/// while indexing) and gives exit code 1.
fn invalid(path: &Path, e: &crate::trace::Error) -> ExitCode {
    eprintln!("gotv: {}: invalid trace: {e}", path.display());
    ExitCode::from(1)
}

/// The exit code for a failed write to standard output: a closed pipe
/// (`gotv dump f | head`) is a normal end, anything else an I/O error.
fn output_failed(e: &io::Error) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    eprintln!("gotv: writing output: {e}");
    ExitCode::from(2)
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, got {s:?}"))?;
    let dim = |d: &str| {
        d.trim()
            .parse::<u32>()
            .ok()
            .filter(|v| (64..=16384).contains(v))
            .ok_or_else(|| format!("{d:?} is not a size between 64 and 16384 pixels"))
    };
    Ok((dim(w)?, dim(h)?))
}

fn parse_range(s: &str) -> Result<(i64, i64), String> {
    let (a, b) = s
        .split_once(':')
        .ok_or_else(|| format!("expected START_NS:END_NS, got {s:?}"))?;
    let ns = |v: &str| {
        v.trim()
            .parse::<i64>()
            .map_err(|e| format!("{v:?} is not a nanosecond count: {e}"))
    };
    let (start, end) = (ns(a)?, ns(b)?);
    if start < end {
        Ok((start, end))
    } else {
        Err(format!("range start {start} must be before its end {end}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ranges_parse_or_explain() {
        assert_eq!(parse_size("1600x1000"), Ok((1600, 1000)));
        assert!(parse_size("1600").is_err());
        assert!(parse_size("10x10").is_err());
        assert_eq!(parse_range("5:10"), Ok((5, 10)));
        assert!(parse_range("10:5").unwrap_err().contains("before"));
        assert!(parse_range("a:5").is_err());
    }

    #[test]
    fn subcommands_and_file_do_not_mix() {
        assert!(Cli::try_parse_from(["gotv", "dump", "x.trace"]).is_ok());
        assert!(Cli::try_parse_from(["gotv", "x.trace"]).is_ok());
        assert!(Cli::try_parse_from(["gotv", "--screenshot", "a.png", "x.trace"]).is_ok());
        assert!(Cli::try_parse_from(["gotv", "dump"]).is_err());
    }

    /// What View → Copy Command Line writes parses back to the same view:
    /// a filter may start with a hyphen or hold spaces (the shell has
    /// split the words already).
    #[test]
    fn a_copied_view_parses_back() {
        let words = [
            "gotv",
            "x.trace",
            "--range",
            "5:10",
            "--panel",
            "goroutines",
            "--select",
            "6:8",
            "--hide-runtime",
            "--filter=-x main.main g:1",
        ];
        let cli = Cli::try_parse_from(words).expect("parses");
        let w = cli.window;
        assert_eq!(w.range, Some((5, 10)));
        assert!(matches!(w.panel, Some(PanelArg::Goroutines)));
        assert_eq!(w.select, Some((6, 8)));
        assert!(w.hide_runtime);
        assert_eq!(w.filter.as_deref(), Some("-x main.main g:1"));
        let separate = ["gotv", "x.trace", "--filter", "-x"];
        let cli = Cli::try_parse_from(separate).expect("a hyphen value parses");
        assert_eq!(cli.window.filter.as_deref(), Some("-x"));
    }
}
