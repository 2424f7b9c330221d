//! Placeholder, filled in shortly.

use std::path::Path;
use std::process::ExitCode;

/// Runs the subcommand on `path`.
pub fn run(path: &Path) -> ExitCode {
    let _ = path;
    ExitCode::from(2)
}
