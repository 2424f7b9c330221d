//! The committed real traces (`testdata/traces/*.trace`) and their Go oracles
//! agree: every trace has an `.oracle` whose size and SHA-256 match it, a parsed
//! oracle whose counts match the `.oracle`, and, when the Go toolchain is
//! installed, Go's parser still prints exactly the committed output for the
//! smallest traces. `testdata/regen.sh` writes all of these; see testdata/README.md.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `NAME.parsed` is stored gzipped as `NAME.parsed.gz` when larger than this (regen.sh's rule).
const GZIP_OVER: u64 = 1 << 20;
/// Budgets from the test-data brief.
const MAX_TRACE_BYTES: u64 = 2 << 20;
const MAX_TOTAL_BYTES: u64 = 20 << 20;
/// Keys every `.oracle` file carries.
const ORACLE_KEYS: &[&str] = &[
    "size",
    "sha256",
    "exit",
    "stderr",
    "go",
    "header",
    "generations",
    "syncs",
    "events",
    "lines",
    "parsed",
    "parsed_bytes",
    "oracle_go",
];

/// Every `testdata/traces/*.trace`, sorted by name.
fn traces() -> Vec<PathBuf> {
    let dir = common::traces::dir();
    let mut out: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "trace"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no traces in {}", dir.display());
    out
}

fn name_of(trace: &Path) -> String {
    trace.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The `key=value` lines of `NAME.oracle`.
fn oracle(trace: &Path) -> BTreeMap<String, String> {
    let path = trace.with_extension("oracle");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: no readable oracle {} ({e}); run `bash testdata/regen.sh`",
            trace.display(),
            path.display()
        )
    });
    let mut map = BTreeMap::new();
    for line in text.lines() {
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{}: line without '=': {line:?}", path.display()));
        assert!(
            map.insert(k.to_string(), v.to_string()).is_none(),
            "{}: duplicate key {k}",
            path.display()
        );
    }
    for key in ORACLE_KEYS {
        assert!(
            map.contains_key(*key),
            "{}: missing key {key}",
            path.display()
        );
    }
    map
}

fn num(oracle: &BTreeMap<String, String>, key: &str, name: &str) -> u64 {
    oracle[key].parse().unwrap_or_else(|e| {
        panic!(
            "{name}.oracle: {key}={:?} is not a number: {e}",
            oracle[key]
        )
    })
}

/// SHA-256 of a file as lowercase hex, via coreutils' `sha256sum`.
fn sha256_hex(path: &Path) -> Option<String> {
    let out = match Command::new("sha256sum").arg(path).output() {
        Ok(out) => out,
        Err(e) => return common::missing(&format!("`sha256sum` (coreutils) could not run: {e}")),
    };
    assert!(
        out.status.success(),
        "sha256sum {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("sha256sum output is UTF-8");
    let hex = text
        .split_whitespace()
        .next()
        .expect("sha256sum printed nothing")
        .to_string();
    assert!(
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "odd sha256sum output {text:?}"
    );
    Some(hex)
}

/// The committed `go tool trace -d=parsed` output for a trace, decompressed.
fn parsed_oracle(trace: &Path, oracle: &BTreeMap<String, String>) -> Option<Vec<u8>> {
    let name = name_of(trace);
    let file = &oracle["parsed"];
    let plain = format!("{name}.parsed");
    let gz = format!("{name}.parsed.gz");
    assert!(
        *file == plain || *file == gz,
        "{name}.oracle: parsed={file}, want {plain} or {gz}"
    );
    let path = common::traces::dir().join(file);
    assert!(
        path.is_file(),
        "{name}: parsed oracle {} is missing",
        path.display()
    );
    let other = common::traces::dir().join(if *file == plain { &gz } else { &plain });
    assert!(
        !other.exists(),
        "{name}: both {file} and stale {} exist",
        other.display()
    );
    let parsed_bytes = num(oracle, "parsed_bytes", &name);
    assert_eq!(
        *file == gz,
        parsed_bytes > GZIP_OVER,
        "{name}: parsed output of {parsed_bytes} bytes should be gzipped iff over {GZIP_OVER} bytes"
    );
    if *file == plain {
        return Some(fs::read(&path).unwrap());
    }
    let out = match Command::new("gzip").arg("-dc").arg(&path).output() {
        Ok(out) => out,
        Err(e) => return common::missing(&format!("`gzip` could not run: {e}")),
    };
    assert!(
        out.status.success(),
        "gzip -dc {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

#[test]
fn testdata_every_trace_matches_its_oracle_size_and_sha256() {
    for trace in traces() {
        let name = name_of(&trace);
        let oracle = oracle(&trace);
        let bytes = fs::read(&trace).unwrap();
        assert_eq!(
            num(&oracle, "size", &name),
            bytes.len() as u64,
            "{name}: size= does not match the trace"
        );
        let header: String = bytes
            .iter()
            .take(16)
            .take_while(|&&b| b != 0)
            .map(|&b| b as char)
            .collect();
        assert_eq!(
            oracle["header"], header,
            "{name}: header= does not match the trace"
        );
        let Some(sha) = sha256_hex(&trace) else {
            return;
        };
        assert_eq!(
            oracle["sha256"], sha,
            "{name}: sha256= does not match the trace; run `bash testdata/regen.sh --oracles-only`"
        );
        assert!(
            num(&oracle, "generations", &name) >= 1,
            "{name}: generations=0"
        );
        let exit = num(&oracle, "exit", &name);
        assert_eq!(
            exit == 0,
            oracle["stderr"].is_empty(),
            "{name}: exit={exit} but stderr={:?}",
            oracle["stderr"]
        );
    }
}

#[test]
fn testdata_parsed_oracle_matches_its_counts() {
    for trace in traces() {
        let name = name_of(&trace);
        let oracle = oracle(&trace);
        let Some(parsed) = parsed_oracle(&trace, &oracle) else {
            return;
        };
        assert_eq!(
            num(&oracle, "parsed_bytes", &name),
            parsed.len() as u64,
            "{name}: parsed_bytes="
        );
        let text = String::from_utf8(parsed)
            .unwrap_or_else(|e| panic!("{name}: parsed oracle is not UTF-8: {e}"));
        // One event is one line starting with "M="; its stacks follow on further lines.
        let lines = text.lines().count() as u64;
        let events = text.lines().filter(|l| l.starts_with("M=")).count() as u64;
        let syncs = text
            .lines()
            .filter(|l| l.starts_with("M=-1 P=-1 G=-1 Sync "))
            .count() as u64;
        assert_eq!(
            num(&oracle, "lines", &name),
            lines,
            "{name}: lines= vs the parsed oracle"
        );
        assert_eq!(
            num(&oracle, "events", &name),
            events,
            "{name}: events= vs the parsed oracle"
        );
        assert_eq!(
            num(&oracle, "syncs", &name),
            syncs,
            "{name}: syncs= vs the parsed oracle"
        );
        // Go's reader emits one Sync per generation it delivers plus a final one
        // (also before reporting an error). A truncated trace's cut generation
        // may or may not be delivered, depending on where the cut lands.
        let generations = num(&oracle, "generations", &name);
        if oracle["exit"] == "0" {
            assert_eq!(
                syncs,
                generations + 1,
                "{name}: {syncs} Sync events for {generations} generations"
            );
        } else {
            assert!(
                syncs == generations || syncs == generations + 1,
                "{name}: {syncs} Sync events for a truncated trace of {generations} generations"
            );
        }
    }
}

#[test]
fn testdata_covers_every_format_and_stays_within_budget() {
    let mut total = 0;
    let mut headers = BTreeMap::new();
    for trace in traces() {
        let name = name_of(&trace);
        let size = fs::metadata(&trace).unwrap().len();
        assert!(
            size <= MAX_TRACE_BYTES,
            "{name}: {size} bytes is over the {MAX_TRACE_BYTES}-byte budget"
        );
        total += size;
        *headers.entry(oracle(&trace)["header"].clone()).or_insert(0) += 1;
    }
    assert!(
        total <= MAX_TOTAL_BYTES,
        "traces total {total} bytes, over the {MAX_TOTAL_BYTES}-byte budget"
    );
    for want in [
        "go 1.21 trace",
        "go 1.22 trace",
        "go 1.23 trace",
        "go 1.25 trace",
        "go 1.26 trace",
    ] {
        assert!(
            headers.contains_key(want),
            "no trace with header {want:?}; have {headers:?}"
        );
    }
    let sample = common::traces::dir().join("sample.trace");
    let oracle = oracle(&sample);
    assert_eq!(
        oracle["header"], "go 1.26 trace",
        "sample.trace should be a current-format trace"
    );
    assert_eq!(oracle["exit"], "0", "sample.trace should parse cleanly");
}

/// Re-runs Go's parser on the smallest traces (and the smallest one Go rejects)
/// and requires exactly the committed output, exit status and error.
#[test]
fn testdata_oracle_is_current_for_smallest_traces() {
    let Some(go) = common::go_toolchain(common::SPEC_GO) else {
        return;
    };
    let mut by_size: Vec<(u64, PathBuf)> = traces()
        .into_iter()
        .map(|t| (fs::metadata(&t).unwrap().len(), t))
        .collect();
    by_size.sort();
    let mut chosen: Vec<PathBuf> = by_size.iter().take(3).map(|(_, t)| t.clone()).collect();
    if let Some((_, t)) = by_size.iter().find(|(_, t)| oracle(t)["exit"] != "0")
        && !chosen.contains(t)
    {
        chosen.push(t.clone());
    }
    for trace in chosen {
        let name = name_of(&trace);
        let oracle = oracle(&trace);
        assert_eq!(
            oracle["oracle_go"],
            common::SPEC_GO,
            "{name}: oracle written by another Go"
        );
        let out = Command::new(&go)
            .args(["tool", "trace", "-d=parsed"])
            .arg(&trace)
            .env("GOTOOLCHAIN", "local")
            .output()
            .unwrap_or_else(|e| panic!("running {} tool trace: {e}", go.display()));
        let Some(want) = parsed_oracle(&trace, &oracle) else {
            return;
        };
        assert!(
            out.stdout == want,
            "{name}: `go tool trace -d=parsed` output differs from the committed oracle ({} vs {} bytes); run `bash testdata/regen.sh --oracles-only`",
            out.stdout.len(),
            want.len()
        );
        assert_eq!(
            out.status.code().map(|c| c.to_string()).as_deref(),
            Some(oracle["exit"].as_str()),
            "{name}: exit status"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.lines().collect::<Vec<_>>().join(" ");
        assert_eq!(stderr.trim_end(), oracle["stderr"], "{name}: stderr");
    }
}
