//! Go's `FuzzReader` seed corpus, as crash regressions for our decoder.
//!
//! Every file in `$GOROOT/src/internal/trace/testdata/fuzz/FuzzReader/` of the
//! pinned Go toolchain is an input that once broke Go's reader. Each must go
//! through our reader to its end (an error is fine) without panicking and
//! without looping. The files are read from the installed toolchain at test
//! time, never copied into this repository.
//!
//! The corpus file format (`go test fuzz v1`): a first line naming the
//! version, then one Go expression per line for each argument of the fuzz
//! function. `FuzzReader` takes a single `[]byte`, written `[]byte("...")` with
//! a Go string literal.

mod common;

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use gotv::trace::Trace;
use gotv::trace::raw::quote;

/// The first line of every corpus file.
const CORPUS_HEADER: &str = "go test fuzz v1";

/// Far more events than a seed (at most a few hundred bytes) can hold: a
/// reader still yielding after this many is looping.
const EVENT_CAP: usize = 1_000_000;

/// Parses a corpus file and returns its argument values, each of which must
/// be a `[]byte(LITERAL)`.
fn parse_corpus_file(data: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut lines = data.split(|&b| b == b'\n');
    let header = lines.next().unwrap_or_default();
    if header.strip_suffix(b"\r").unwrap_or(header) != CORPUS_HEADER.as_bytes() {
        return Err(format!(
            "unknown corpus encoding {:?}",
            String::from_utf8_lossy(header)
        ));
    }
    lines
        .map(<[u8]>::trim_ascii)
        .filter(|line| !line.is_empty())
        .map(parse_bytes_value)
        .collect()
}

/// Parses one `[]byte(LITERAL)` line (white space allowed inside the
/// parentheses, as Go's expression parser allows).
fn parse_bytes_value(line: &[u8]) -> Result<Vec<u8>, String> {
    let shown = || String::from_utf8_lossy(line).into_owned();
    let inner = line
        .strip_prefix(b"[]byte(")
        .and_then(|rest| rest.strip_suffix(b")"))
        .ok_or_else(|| format!("not a []byte value: {:?}", shown()))?;
    quote::unquote(inner.trim_ascii()).map_err(|e| format!("{e} in {:?}", shown()))
}

/// The seed corpus directory of the spec toolchain, or `None` when the
/// toolchain is missing outside CI.
fn seeds_dir() -> Option<PathBuf> {
    Some(common::spec_src()?.join("internal/trace/testdata/fuzz/FuzzReader"))
}

/// All seed files, sorted by name.
fn seed_files(dir: &Path) -> Vec<PathBuf> {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Unwinds out of the reader's callback when a seed yields too many events.
struct CapReached;

/// Reads `bytes` to the end with our reader; returns how it ended.
fn read_to_end(bytes: &[u8]) -> String {
    let trace = match Trace::open(bytes) {
        Ok(t) => t,
        Err(e) => return format!("rejected: {e}"),
    };
    let mut count = 0usize;
    let result = trace.for_each_event(|_| {
        count += 1;
        if count > EVENT_CAP {
            panic::panic_any(CapReached);
        }
    });
    match result {
        Ok(_) => format!("read {count} events"),
        Err(e) => format!("error after {count} events: {e}"),
    }
}

/// Runs one seed, turning a panic (or a runaway stream) into an error message.
fn run_seed(bytes: &[u8]) -> Result<String, String> {
    match panic::catch_unwind(AssertUnwindSafe(|| read_to_end(bytes))) {
        Ok(outcome) => Ok(outcome),
        Err(payload) if payload.is::<CapReached>() => {
            Err(format!("still yielding after {EVENT_CAP} events"))
        }
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {msg}"))
        }
    }
}

/// Loads and runs one seed file.
fn check_seed(path: &Path) -> Result<String, String> {
    let data = fs::read(path).map_err(|e| e.to_string())?;
    let values = parse_corpus_file(&data)?;
    let [bytes] = values.as_slice() else {
        return Err(format!("{} values, FuzzReader takes one", values.len()));
    };
    run_seed(bytes)
}

#[test]
fn go_fuzz_seeds_do_not_crash_the_reader() {
    let Some(dir) = seeds_dir() else { return };
    let files = seed_files(&dir);
    assert!(!files.is_empty(), "no fuzz seeds in {}", dir.display());
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        match check_seed(path) {
            Ok(outcome) => println!("PASS {name}: {outcome}"),
            Err(e) => {
                println!("FAIL {name}: {e}");
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fuzz seeds failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_file_format() {
    let file = b"go test fuzz v1\r\n[]byte(\"go 1.22 trace\\x00\\x00\\x00\\x01\\n\\t\\\\\\\"\\101\\u00e9\xdf\x95\")\n\n";
    let values = parse_corpus_file(file).unwrap();
    assert_eq!(
        values,
        vec![b"go 1.22 trace\0\0\0\x01\n\t\\\"A\xc3\xa9\xdf\x95".to_vec()]
    );
    assert_eq!(
        parse_corpus_file(b"go test fuzz v1\n[]byte( `raw\\n` )\n").unwrap(),
        vec![b"raw\\n".to_vec()]
    );
    assert!(parse_corpus_file(b"go test fuzz v2\n[]byte(\"\")\n").is_err());
    assert!(parse_corpus_file(b"go test fuzz v1\nstring(\"x\")\n").is_err());
    assert!(parse_corpus_file(b"go test fuzz v1\n[]byte(\"\\q\")\n").is_err());
}
