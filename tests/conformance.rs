//! Go's trace conformance suite, run against our decoder.
//!
//! Each `$GOROOT/src/internal/trace/testdata/tests/*.test` of the pinned Go
//! toolchain is a txtar archive with an `expect` file (`SUCCESS`, or `FAILURE`
//! and a quoted regular expression) and a `trace` file in the raw text format.
//! As Go's own `TestReaderGolden` does, we turn the text into a binary trace
//! ([`raw::encode`]) and read it with the decoder: `SUCCESS` means reading to
//! the end without an error, `FAILURE` an error whose message matches the
//! expression.
//!
//! For the `SUCCESS` cases we also check the event stream itself: Go's
//! `go tool trace -d=parsed` prints `Event.String()` for every event of the
//! same bytes, and our `Event`'s `Display` must print the same lines.
//!
//! The test data is read from the installed toolchain at test time, never
//! copied into this repository.

mod common;

use std::any::Any;
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;

use gotv::trace::{Trace, raw};
use regex::Regex;

/// How many `.test` files Go 1.27.3 ships; a different count means the
/// directory moved or the toolchain changed, and must not pass silently.
const EXPECTED_CASES: usize = 22;

/// More events than any conformance trace has: a decoder that yields more is
/// looping.
const EVENT_CAP: usize = 1_000_000;

/// What a test file expects from reading its trace.
enum Expect {
    Success,
    /// An error whose message matches the expression (anywhere, as Go's
    /// `MatchString` does).
    Failure(Regex),
}

/// One conformance test, parsed and encoded.
struct Case {
    name: String,
    expect: Expect,
    /// The raw events of the `trace` file.
    trace: raw::Trace,
    /// Their binary encoding.
    bytes: Vec<u8>,
}

/// What our decoder made of a trace.
struct Decoded {
    /// `Display` of every event read before the end or the error.
    events: Vec<String>,
    /// The error that stopped reading, if any.
    error: Option<String>,
}

/// Reads `bytes` with our decoder, the way Go's test reads with
/// `trace.NewReader` + `ReadEvent` until EOF or an error. A panic in the
/// decoder is reported as that case's failure, not the whole test's.
fn decode(bytes: &[u8]) -> Decoded {
    let mut events = Vec::new();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        Trace::open(bytes).and_then(|trace| {
            trace.for_each_event(|ev| {
                // The reader cannot be stopped from the callback; unwinding
                // out of it is the only way to end a runaway stream.
                assert!(events.len() < EVENT_CAP, "more than {EVENT_CAP} events");
                events.push(ev.to_string());
            })
        })
    }));
    let error = match outcome {
        Ok(result) => result.err().map(|e| e.to_string()),
        Err(payload) => Some(format!("decoder panicked: {}", panic_message(&*payload))),
    };
    Decoded { events, error }
}

/// The message of a panic payload.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// The directory of conformance tests in the spec toolchain, or `None` when
/// the toolchain is missing outside CI.
fn tests_dir() -> Option<PathBuf> {
    Some(common::spec_src()?.join("internal/trace/testdata/tests"))
}

/// All `.test` files of `dir`, sorted by name.
fn test_files(dir: &Path) -> Vec<PathBuf> {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    files
}

/// Parses the first line of an `expect` file: `SUCCESS`, or `FAILURE` and a
/// Go-quoted regular expression. Go's RE2 syntax is what the `regex` crate
/// reads, so the pattern is used as it is.
fn parse_expect(data: &[u8]) -> Result<Expect, String> {
    let text = String::from_utf8_lossy(data);
    let line = text.lines().next().unwrap_or("");
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    match word {
        "SUCCESS" => Ok(Expect::Success),
        "FAILURE" => {
            let pattern = raw::quote::unquote(rest.as_bytes())
                .map_err(|e| format!("pattern {rest:?} is not a quoted string: {e}"))?;
            let pattern = String::from_utf8(pattern).map_err(|e| e.to_string())?;
            Regex::new(&pattern)
                .map(Expect::Failure)
                .map_err(|e| format!("bad pattern {pattern:?}: {e}"))
        }
        _ => Err(format!("bad expectation line {line:?}")),
    }
}

/// Reads, parses and encodes one test file.
fn load_case(path: &Path) -> Result<Case, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let archive = raw::txtar::parse(&fs::read(path).map_err(|e| e.to_string())?);
    let names: Vec<&str> = archive.files.iter().map(|f| f.name.as_str()).collect();
    if names != ["expect", "trace"] {
        return Err(format!("files {names:?}, want [\"expect\", \"trace\"]"));
    }
    let expect = parse_expect(&archive.files[0].data)?;
    let text = std::str::from_utf8(&archive.files[1].data).map_err(|e| e.to_string())?;
    let trace = raw::parse_text(text).map_err(|e| format!("trace text: {e}"))?;
    let bytes = raw::encode(&trace).map_err(|e| format!("encoding: {e}"))?;
    Ok(Case {
        name,
        expect,
        trace,
        bytes,
    })
}

/// Loads every case, failing the test if the suite is not all there.
fn load_suite() -> Option<Vec<Case>> {
    let dir = tests_dir()?;
    let files = test_files(&dir);
    assert_eq!(
        files.len(),
        EXPECTED_CASES,
        "conformance tests found in {}",
        dir.display()
    );
    let (cases, errors): (Vec<_>, Vec<_>) = files
        .iter()
        .map(|p| load_case(p).map_err(|e| format!("{}: {e}", p.display())))
        .partition(Result::is_ok);
    let errors: Vec<String> = errors.into_iter().filter_map(Result::err).collect();
    assert!(
        errors.is_empty(),
        "malformed test files:\n{}",
        errors.join("\n")
    );
    Some(cases.into_iter().filter_map(Result::ok).collect())
}

/// Checks a decoding result against the expectation, as Go's `Expectation.Check`.
fn check(expect: &Expect, decoded: &Decoded) -> Result<(), String> {
    match (expect, &decoded.error) {
        (Expect::Success, None) => Ok(()),
        (Expect::Success, Some(e)) => Err(format!("unexpected error: {e}")),
        (Expect::Failure(re), None) => Err(format!("expected an error matching {re}, got none")),
        (Expect::Failure(re), Some(e)) if re.is_match(e) => Ok(()),
        (Expect::Failure(re), Some(e)) => Err(format!("error {e:?} does not match {re}")),
    }
}

/// Fails with every failing case listed, after printing one line per case.
fn report(what: &str, results: Vec<(String, Result<(), String>)>) {
    let mut failures = Vec::new();
    for (name, result) in &results {
        match result {
            Ok(()) => println!("PASS {name}"),
            Err(e) => {
                println!("FAIL {name}: {e}");
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    let passed = results.len() - failures.len();
    println!("{what}: {passed} of {} cases pass", results.len());
    assert!(
        failures.is_empty(),
        "{what}: {} of {} cases failed:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
}

#[test]
fn go_conformance_expectations() {
    let Some(cases) = load_suite() else { return };
    let results = cases
        .iter()
        .map(|c| (c.name.clone(), check(&c.expect, &decode(&c.bytes))))
        .collect();
    report("conformance expectations", results);
}

/// Runs `go tool trace -d=MODE` on `bytes` and returns its standard output.
fn go_dump(go: &Path, mode: &str, name: &str, bytes: &[u8]) -> Result<String, String> {
    let path =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("conformance-{mode}-{name}.bin"));
    fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
    let out = Command::new(go)
        .args(["tool", "trace", &format!("-d={mode}")])
        .arg(&path)
        .env("GOTOOLCHAIN", "local")
        .output()
        .map_err(|e| format!("running {}: {e}", go.display()))?;
    if !out.status.success() {
        return Err(format!(
            "go tool trace failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// Compares our event stream with Go's: the first differing line, if any.
fn compare_streams(ours: &[String], go: &str) -> Result<(), String> {
    let ours = ours.iter().map(|e| format!("{e}\n")).collect::<String>();
    if ours == go {
        return Ok(());
    }
    let (o, g): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), go.lines().collect());
    let at = o
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(o.len().min(g.len()));
    Err(format!(
        "event streams differ at line {} (ours {} lines, Go {}):\n  ours: {:?}\n  go:   {:?}",
        at + 1,
        o.len(),
        g.len(),
        o.get(at).copied().unwrap_or("<end>"),
        g.get(at).copied().unwrap_or("<end>"),
    ))
}

#[test]
fn go_conformance_event_streams_match_go() {
    let Some(go) = common::go_toolchain(common::SPEC_GO) else {
        return;
    };
    let Some(cases) = load_suite() else { return };
    let results = cases
        .iter()
        .filter(|c| matches!(c.expect, Expect::Success))
        .map(|c| {
            let decoded = decode(&c.bytes);
            let result = match &decoded.error {
                Some(e) => Err(format!("our decoder failed: {e}")),
                None => go_dump(&go, "parsed", &c.name, &c.bytes)
                    .and_then(|go_out| compare_streams(&decoded.events, &go_out)),
            };
            (c.name.clone(), result)
        })
        .collect();
    report("conformance event streams", results);
}

/// Checks our encoder against Go's raw reader: `go tool trace -d=wire` reads
/// our bytes back into raw events and prints each in the text format, which
/// must be exactly the events of the test's `trace` file as we print them.
#[test]
fn go_reads_our_encoding_back() {
    let Some(go) = common::go_toolchain(common::SPEC_GO) else {
        return;
    };
    let Some(cases) = load_suite() else { return };
    let results = cases
        .iter()
        .map(|c| {
            let ours: Vec<String> = c.trace.events.iter().map(ToString::to_string).collect();
            let result = go_dump(&go, "wire", &c.name, &c.bytes)
                .and_then(|go_out| compare_streams(&ours, &go_out));
            (c.name.clone(), result)
        })
        .collect();
    report("raw encoding read back by Go", results);
}

#[test]
fn expectation_lines() {
    assert!(matches!(parse_expect(b"SUCCESS\n"), Ok(Expect::Success)));
    let Ok(Expect::Failure(re)) = parse_expect(b"FAILURE \".*a proc.*\"\n") else {
        panic!("FAILURE line not parsed");
    };
    assert!(re.is_match("expected a proc but didn't have one"));
    assert!(parse_expect(b"FAILURE\n").is_err());
    assert!(parse_expect(b"FAILURE unquoted\n").is_err());
    assert!(parse_expect(b"MAYBE\n").is_err());
}
