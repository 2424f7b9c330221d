//! `gotv dump` against Go's own reader, for every committed trace.
//!
//! Each `testdata/traces/NAME.trace` has Go's `go tool trace -d=parsed` output
//! beside it (`NAME.parsed` or `NAME.parsed.gz`) and Go's exit status in
//! `NAME.oracle`. For a trace Go reads cleanly our output must be identical, byte
//! for byte, and we must exit 0. For a trace Go rejects (truncated or corrupt),
//! Go's output must be a prefix of ours, and we must exit 1 with a message.
//! Traces in the old v1 format (Go ≤ 1.21) are not decoded yet: for them we
//! assert the clear "not supported yet" error instead.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One committed trace with its oracle.
struct Case {
    trace: PathBuf,
    expected: String,
    go_exit: i32,
    header: String,
    /// Number of events Go's reader yields, Sync events included.
    events: u64,
}

fn oracle_field<'a>(oracle: &'a str, key: &str) -> Option<&'a str> {
    oracle
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
}

fn read_parsed(trace: &Path) -> String {
    let name = trace.file_stem().unwrap_or_default().to_string_lossy();
    common::traces::parsed_text(&name)
}

fn cases() -> Vec<Case> {
    let dir = common::traces::dir();
    let mut traces: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("testdata/traces")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "trace"))
        .collect();
    traces.sort();
    traces
        .into_iter()
        .map(|trace| {
            let oracle = fs::read_to_string(trace.with_extension("oracle")).expect("oracle file");
            let go_exit = oracle_field(&oracle, "exit")
                .and_then(|v| v.parse().ok())
                .expect("exit= in oracle");
            let header = oracle_field(&oracle, "header")
                .unwrap_or_default()
                .to_string();
            let events = oracle_field(&oracle, "events")
                .and_then(|v| v.parse().ok())
                .expect("events= in oracle");
            Case {
                expected: read_parsed(&trace),
                trace,
                go_exit,
                header,
                events,
            }
        })
        .collect()
}

/// Whether the header names a v1 trace (Go 1.21 and older).
fn is_v1(header: &str) -> bool {
    let minor = header
        .strip_prefix("go 1.")
        .and_then(|r| r.split(' ').next())
        .and_then(|m| m.parse::<u32>().ok());
    minor.is_some_and(|m| m < 22)
}

/// The first line where two texts differ, for a readable failure.
fn first_difference(ours: &str, go: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), go.lines().collect());
    let at = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    format!(
        "line {}: ours {:?}, Go's {:?} (ours {} lines, Go's {})",
        at + 1,
        a.get(at),
        b.get(at),
        a.len(),
        b.len()
    )
}

fn check(case: &Case) -> Result<(), String> {
    let out = Command::new(common::gotv_bin())
        .arg("dump")
        .arg(&case.trace)
        .output()
        .map_err(|e| format!("running gotv dump: {e}"))?;
    let ours = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    if is_v1(&case.header) {
        return match code {
            Some(1) if stderr.contains("not supported") => Ok(()),
            _ => Err(format!("v1 trace: exit {code:?}, stderr {stderr:?}")),
        };
    }
    match (case.go_exit, code) {
        (0, Some(0)) if ours == case.expected => Ok(()),
        (0, Some(0)) => Err(first_difference(&ours, &case.expected)),
        (0, _) => Err(format!("exit {code:?}, stderr {stderr:?}")),
        (_, Some(1)) if stderr.trim().is_empty() => Err("exit 1 without a message".into()),
        (_, Some(1)) if ours.starts_with(&case.expected) => Ok(()),
        (_, Some(1)) => Err(format!(
            "Go's output is not a prefix of ours: {}",
            first_difference(&ours, &case.expected)
        )),
        (_, _) => Err(format!(
            "Go exits {}, we exit {code:?}; stderr {stderr:?}",
            case.go_exit
        )),
    }
}

#[test]
fn dump_matches_go_on_every_committed_trace() {
    let cases = cases();
    assert!(
        cases.len() >= 10,
        "only {} committed traces found",
        cases.len()
    );
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            check(c).err().map(|e| {
                format!(
                    "{}: {e}",
                    c.trace.file_name().unwrap_or_default().to_string_lossy()
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} traces differ from Go's reader:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The distinct goroutines, Ps and Ms that Go's parse `dump` mentions: in
/// the events' context (`G=`, `P=`, `M=`) and as the subjects of state
/// transitions (`GoID=`, `ProcID=`).
fn resources_in_dump(dump: &str) -> [u64; 3] {
    let mut sets: [BTreeSet<i64>; 3] = Default::default();
    for word in dump.lines().flat_map(|l| l.split_whitespace().take(6)) {
        let Some((key, value)) = word.split_once('=') else {
            continue;
        };
        let set = match key {
            "G" | "GoID" => 0,
            "P" | "ProcID" => 1,
            "M" => 2,
            _ => continue,
        };
        if let Ok(id) = value.parse::<i64>()
            && id >= 0
        {
            sets[set].insert(id);
        }
    }
    sets.map(|s| s.len() as u64)
}

#[test]
fn check_counts_what_go_counts() {
    let cases = cases();
    let mut failures = Vec::new();
    for case in cases.iter().filter(|c| c.go_exit == 0 && !is_v1(&c.header)) {
        let out = Command::new(common::gotv_bin())
            .arg("check")
            .arg(&case.trace)
            .output()
            .expect("run gotv check");
        let summary = String::from_utf8_lossy(&out.stdout);
        let field = |key: &str| {
            summary
                .split_whitespace()
                .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
                .and_then(|v| v.parse::<u64>().ok())
        };
        let events = field("events");
        let resources = [field("goroutines"), field("procs"), field("threads")];
        let go_resources = resources_in_dump(&case.expected).map(Some);
        if out.status.code() != Some(0) || events != Some(case.events) || resources != go_resources
        {
            failures.push(format!(
                "{}: exit {:?}, events {events:?}, goroutines/procs/threads {resources:?}; Go counts {} and {go_resources:?}",
                case.trace.display(),
                out.status.code(),
                case.events
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
