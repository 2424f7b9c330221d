//! Opening a stack frame's source file at its line in the user's editor.
//!
//! The command comes from `GOTV_EDITOR`, a template in which `{file}` and
//! `{line}` are replaced (`code -g {file}:{line}`, `idea --line {line}
//! {file}`, `emacsclient -n +{line} {file}`); without it, from the first
//! graphical editor on `PATH` that takes a line ([`KNOWN`]), and failing
//! that from `xdg-open`, which opens the file without going to the line.
//! Terminal editors (`$EDITOR`) are not used: gotv has no terminal to run
//! them in.
//!
//! Everything runs on a short-lived thread, since the file may be on a
//! network mount and starting a process can take a while: the ui thread only
//! starts it and later shows the outcome, which the thread leaves in egui's
//! memory. A trace records the paths of the machine that ran the program, so
//! a file that is not on this one is said to be missing rather than opened.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::source_file::Places;
use crate::model::StackFrame;

/// The environment variable naming the editor command template.
const ENV: &str = "GOTV_EDITOR";

/// Graphical editors that take a line, in the order they are tried, with
/// the arguments to open a file at a line.
const KNOWN: &[(&str, &str)] = &[
    ("code", "-g {file}:{line}"),
    ("codium", "-g {file}:{line}"),
    ("zed", "{file}:{line}"),
    ("subl", "{file}:{line}"),
    ("goland", "--line {line} {file}"),
    ("gvim", "+{line} {file}"),
];

/// The last outcome shown under the stack: what was opened, or why not.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Outcome {
    /// The message.
    pub(crate) text: String,
    /// Whether it says something went wrong.
    pub(crate) failed: bool,
}

/// Opens `frame`'s file at its line in the background, looking for it
/// where Go keeps sources if the trace names it by a relative path (see
/// [`source_file`](super::source_file); `trace` is the trace file, whose
/// directory may hold the program's module); the outcome appears under
/// `id` in egui's memory (see [`outcome`]).
pub(crate) fn open(ctx: &egui::Context, id: egui::Id, frame: &StackFrame, trace: Option<&Path>) {
    let (ctx, file, line) = (ctx.clone(), PathBuf::from(&frame.file), frame.line);
    let template = std::env::var(ENV).ok();
    let path = std::env::var_os("PATH").unwrap_or_default();
    // The trace's directory ("" for a file named without one) and the
    // working directory, absolute so that what is found reads as a place.
    let trace_dir = trace
        .and_then(Path::parent)
        .filter(|d| !d.as_os_str().is_empty())
        .and_then(|d| std::path::absolute(d).ok());
    let near: Vec<PathBuf> = trace_dir
        .into_iter()
        .chain(std::env::current_dir().ok())
        .collect();
    std::thread::spawn(move || {
        let near: Vec<&Path> = near.iter().map(PathBuf::as_path).collect();
        let result = match Places::find(&near).locate(&file) {
            Some((found, None)) => launch(&found, line, template.as_deref(), &path),
            Some((found, Some(place))) => launch(&found, line, template.as_deref(), &path)
                .map(|text| format!("{text} Found in {place}: {}.", found.display())),
            None => Err(missing(&file)),
        };
        let outcome = match result {
            Ok(text) => Outcome {
                text,
                failed: false,
            },
            Err(text) => Outcome { text, failed: true },
        };
        ctx.data_mut(|d| d.insert_temp(id, outcome));
        ctx.request_repaint();
    });
}

/// Why `file` cannot be opened: it is not on this machine, and if its path
/// is relative, the program was most likely built with `-trimpath` and the
/// file is in none of the places [`source_file`](super::source_file) looks.
fn missing(file: &Path) -> String {
    match file.is_relative() {
        true => format!(
            "{} is not on this machine (a relative path: the program was built with -trimpath, \
             and it is not under GOROOT, in the module cache or in a module whose go.mod is \
             above the trace or the working directory).",
            file.display()
        ),
        false => format!("{} is not on this machine.", file.display()),
    }
}

/// The outcome of the last [`open`] under `id`, if any.
pub(crate) fn outcome(ctx: &egui::Context, id: egui::Id) -> Option<Outcome> {
    ctx.data(|d| d.get_temp(id))
}

/// Starts the editor on `file` at `line`; says what it started, or why it
/// could not.
fn launch(
    file: &Path,
    line: u32,
    template: Option<&str>,
    path: &std::ffi::OsStr,
) -> Result<String, String> {
    let argv = command(file, line, template, path).ok_or_else(|| {
        format!("No editor found: set {ENV}, e.g. to \"code -g {{file}}:{{line}}\".")
    })?;
    let (program, args) = argv.split_first().ok_or("The editor command is empty.")?;
    let mut child = Command::new(program)
        .args(args)
        .spawn()
        .map_err(|e| format!("Could not start {program}: {e}."))?;
    // Reaped when it exits: an editor that forks into the background
    // returns at once, one that stays runs as long as the user likes.
    std::thread::spawn(move || child.wait());
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(format!("Opened {name}:{line} with {program}."))
}

/// The command that opens `file` at `line`: `template` (words, `{file}` and
/// `{line}` replaced) if given, else the first [`KNOWN`] editor on `path`,
/// else `xdg-open` on `path` (no line); `None` if there is none.
fn command(
    file: &Path,
    line: u32,
    template: Option<&str>,
    path: &std::ffi::OsStr,
) -> Option<Vec<String>> {
    let fill = |words: &str| -> Vec<String> {
        let file = file.display().to_string();
        let line = line.to_string();
        words
            .split_whitespace()
            .map(|w| w.replace("{file}", &file).replace("{line}", &line))
            .collect()
    };
    if let Some(template) = template.filter(|t| !t.trim().is_empty()) {
        return Some(fill(template));
    }
    let on_path = |program: &str| std::env::split_paths(path).any(|d| d.join(program).is_file());
    if let Some((program, args)) = KNOWN.iter().find(|(program, _)| on_path(program)) {
        let mut argv = vec![(*program).to_owned()];
        argv.extend(fill(args));
        return Some(argv);
    }
    on_path("xdg-open").then(|| vec!["xdg-open".to_owned(), file.display().to_string()])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory on a fake `PATH` holding empty "programs" named `names`.
    fn path_with(names: &[&str]) -> (PathBuf, std::ffi::OsString) {
        let dir = std::env::temp_dir().join(format!(
            "gotv-editor-{}-{}",
            std::process::id(),
            names.join("-")
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for name in names {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        let path = std::env::join_paths([&dir]).unwrap();
        (dir, path)
    }

    #[test]
    fn the_template_wins_then_known_editors_then_xdg_open() {
        let file = Path::new("/src/main.go");
        let (dir, path) = path_with(&["xdg-open", "subl", "gvim"]);
        assert_eq!(
            command(file, 12, Some("idea --line {line} {file}"), &path).unwrap(),
            ["idea", "--line", "12", "/src/main.go"]
        );
        assert_eq!(
            command(file, 12, None, &path).unwrap(),
            ["subl", "/src/main.go:12"],
            "the first known editor on PATH"
        );
        assert_eq!(
            command(file, 12, Some("  "), &path).unwrap(),
            ["subl", "/src/main.go:12"],
            "an empty template is no template"
        );
        std::fs::remove_dir_all(&dir).unwrap();

        let (dir, path) = path_with(&["xdg-open"]);
        assert_eq!(
            command(file, 12, None, &path).unwrap(),
            ["xdg-open", "/src/main.go"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let (dir, path) = path_with(&[]);
        assert_eq!(command(file, 12, None, &path), None);
        let error = launch(file, 12, None, &path).unwrap_err();
        assert!(error.contains("GOTV_EDITOR"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_file_says_why() {
        let trimmed = missing(Path::new("runtime/proc.go"));
        assert!(trimmed.contains("-trimpath"), "{trimmed}");
        let absent = missing(Path::new("/nonexistent/main.go"));
        assert_eq!(absent, "/nonexistent/main.go is not on this machine.");
    }

    #[test]
    fn launching_reports_what_it_started_or_why_not() {
        let file = Path::new("/src/main.go");
        let path = std::ffi::OsString::new();
        // `true` takes any arguments and exits at once.
        let opened = launch(file, 7, Some("true {file}:{line}"), &path).unwrap();
        assert_eq!(opened, "Opened main.go:7 with true.");
        let error = launch(file, 7, Some("/nonexistent/editor {file}"), &path).unwrap_err();
        assert!(
            error.starts_with("Could not start /nonexistent/editor"),
            "{error}"
        );
    }
}
