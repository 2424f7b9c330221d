//! `gotv latency` against intervals computed independently from Go's own
//! decoding: the `go tool trace -d=parsed` text committed next to each trace.
//!
//! The reference implementation below reads only the oracle's goroutine
//! `StateTransition` lines and applies the definition directly: an interval
//! of a state opens when a goroutine enters it from a different, known
//! (not `Undetermined`) state and closes at its next transition to a
//! different state; equal-state transitions (generation-start statuses) are
//! ignored; intervals open at the end are dropped. The output must agree
//! with gotv's, row for row. Regions, tasks, stop-the-world and mark-assist
//! intervals are checked the same way through the library.
//!
//! The goroutine analysis and the MMU are checked against `go tool trace`
//! itself: its web server's goroutine pages (per start function and per
//! goroutine, every statistic) and MMU plot data.

mod common;

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::process::Command;

/// The kinds and the goroutine state each measures.
const KINDS: [(&str, &str); 3] = [
    ("sched", "Runnable"),
    ("block", "Waiting"),
    ("syscall", "Syscall"),
];

/// Traces that must be covered: one per format era.
const REQUIRED: [&str; 4] = [
    "workload-go1.22",
    "workload-go1.25",
    "sample",
    "cpuprofile-go1.27",
];

/// The oracle's `key=value` lines.
fn oracle(name: &str) -> HashMap<String, String> {
    let text = fs::read_to_string(common::traces::dir().join(format!("{name}.oracle")))
        .expect("oracle file");
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Every committed trace in the v2 format (Go 1.22+), by name.
fn v2_traces() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(common::traces::dir())
        .expect("traces dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".oracle").map(str::to_string))
        .filter(|n| {
            oracle(n)
                .get("header")
                .is_some_and(|h| h != "go 1.21 trace")
        })
        .collect();
    names.sort();
    names
}

/// A goroutine transition from an oracle line.
struct Transition<'a> {
    time: i64,
    id: i64,
    from: &'a str,
    to: &'a str,
    reason: &'a str,
}

/// Parses `M=.. P=.. G=.. StateTransition Time=T GoID=N From->To Reason="R"`;
/// `None` for any other line (P transitions, other events, stacks).
fn parse(line: &str) -> Option<Transition<'_>> {
    let (head, reason) = line.split_once(" Reason=\"")?;
    let fields: Vec<&str> = head.split(' ').collect();
    let [_, _, _, "StateTransition", time, id, states] = fields[..] else {
        return None;
    };
    let (from, to) = states.split_once("->")?;
    Some(Transition {
        time: time.strip_prefix("Time=")?.parse().ok()?,
        id: id.strip_prefix("GoID=")?.parse().ok()?,
        from,
        to,
        reason: reason.strip_suffix('"')?,
    })
}

/// One expected row.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    neg_duration: i64,
    start: i64,
    goroutine: i64,
    end: i64,
    detail: String,
}

/// The intervals of `state` in the oracle text, as TSV.
fn expected(text: &str, state: &str) -> String {
    // Per goroutine: current state, since when, reason, start known.
    let mut open: HashMap<i64, (&str, i64, &str, bool)> = HashMap::new();
    let mut rows = Vec::new();
    for t in text.lines().filter_map(parse) {
        if t.from == t.to {
            continue;
        }
        if let Some((s, since, reason, known)) = open.remove(&t.id)
            && known
            && s == state
        {
            let detail = if state == "Waiting" { reason } else { "" };
            rows.push(Row {
                neg_duration: since - t.time,
                start: since,
                goroutine: t.id,
                end: t.time,
                detail: detail.to_string(),
            });
        }
        if t.to != "NotExist" {
            open.insert(t.id, (t.to, t.time, t.reason, t.from != "Undetermined"));
        }
    }
    rows.sort();
    let mut tsv = String::from("goroutine\tstart_ns\tend_ns\tduration_ns\tdetail\n");
    for r in rows {
        tsv += &format!(
            "{}\t{}\t{}\t{}\t{}\n",
            r.goroutine, r.start, r.end, -r.neg_duration, r.detail
        );
    }
    tsv
}

fn gotv_latency(name: &str, kind: &str, top: &str) -> std::process::Output {
    let trace = common::traces::dir().join(format!("{name}.trace"));
    Command::new(common::gotv_bin())
        .arg("latency")
        .arg(&trace)
        .args(["--kind", kind, "--top", top])
        .output()
        .expect("run gotv")
}

#[test]
fn intervals_agree_with_go_oracle_on_every_v2_trace() {
    let names = v2_traces();
    for required in REQUIRED {
        assert!(
            names.iter().any(|n| n == required),
            "missing test trace {required}"
        );
    }
    for name in &names {
        let oracle = oracle(name);
        let text = common::traces::parsed_text(name);
        let mut counts = Vec::new();
        for (kind, state) in KINDS {
            let out = gotv_latency(name, kind, "100000");
            let want_exit = oracle.get("exit").map_or("0", String::as_str);
            assert_eq!(
                out.status.code().map(|c| c.to_string()).as_deref(),
                Some(want_exit),
                "{name} {kind}"
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            let want_err = oracle.get("stderr").map_or("", String::as_str);
            assert!(
                stderr.contains(want_err),
                "{name} {kind}: stderr {stderr:?}"
            );
            let got = String::from_utf8(out.stdout).expect("UTF-8 output");
            let want = expected(&text, state);
            assert!(
                got == want,
                "{name} --kind {kind}: output differs from the oracle\n{}",
                first_diff(&got, &want)
            );
            counts.push(format!("{kind}={}", want.lines().count() - 1));
        }
        eprintln!("{name}: {}", counts.join(" "));
    }
}

fn first_diff(got: &str, want: &str) -> String {
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    let i = g
        .iter()
        .zip(&w)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(w.len()));
    format!(
        "rows: got {} want {}; first difference at line {i}:\n  got:  {:?}\n  want: {:?}",
        g.len(),
        w.len(),
        g.get(i),
        w.get(i)
    )
}

#[test]
fn top_limits_rows_and_defaults_to_twenty() {
    let name = "workload-go1.25";
    let text = common::traces::parsed_text(name);
    let want: Vec<String> = expected(&text, "Waiting")
        .lines()
        .take(6)
        .map(str::to_string)
        .collect();
    let out = gotv_latency(name, "block", "5");
    assert!(out.status.success());
    let got: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(got, want);

    let trace = common::traces::dir().join(format!("{name}.trace"));
    let out = Command::new(common::gotv_bin())
        .args(["latency", "--kind", "sched"])
        .arg(&trace)
        .output()
        .expect("run gotv");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 21);
}

#[test]
fn usage_and_io_errors_exit_2_and_bad_traces_exit_1() {
    let run = |args: &[&str]| {
        Command::new(common::gotv_bin())
            .arg("latency")
            .args(args)
            .output()
            .expect("run gotv")
            .status
            .code()
    };
    let trace = common::traces::dir().join("sample.trace");
    let trace = trace.to_str().expect("UTF-8 path");
    assert_eq!(run(&[trace, "--kind", "latency"]), Some(2));
    assert_eq!(run(&[trace]), Some(2));
    assert_eq!(run(&["/nonexistent/x.trace", "--kind", "sched"]), Some(2));
    let v1 = common::traces::dir().join("workload-go1.21.trace");
    assert_eq!(
        run(&[v1.to_str().expect("UTF-8 path"), "--kind", "sched"]),
        Some(1)
    );
}

/// An interval as `(goroutine, start, end, label)`.
type Span = (i64, i64, i64, String);

/// An interval's begin as `(goroutine, start, label)`.
type Begun = (i64, i64, String);

/// The regions, tasks and goroutine-scoped GC ranges in the oracle text, as
/// spans sorted like the outliers: longest first,
/// then by start and goroutine. A region or task whose begin is missing, one
/// still open at the end, a region left open when its goroutine exits and a
/// range first seen active are not measured.
fn expected_ranges(text: &str, kind: &str) -> Vec<Span> {
    let field = |line: &str, key: &str| -> Option<String> {
        let rest = &line[line.find(key)? + key.len()..];
        Some(match rest.strip_prefix('"') {
            Some(quoted) => quoted[..quoted.find('"')?].to_string(),
            None => rest.split([' ', ')']).next()?.to_string(),
        })
    };
    let num = |line: &str, key: &str| field(line, key).and_then(|v| v.parse::<i64>().ok());
    let mut regions: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    let mut tasks: HashMap<String, Begun> = HashMap::new();
    // `None`: first seen active, start unknown.
    let mut ranges: HashMap<(String, i64), Option<Begun>> = HashMap::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.splitn(6, ' ').collect();
        let [_, _, g, event, time, ..] = fields[..] else {
            continue;
        };
        let (Some(g), Some(time)) = (g.strip_prefix("G="), time.strip_prefix("Time=")) else {
            continue;
        };
        let (Ok(g), Ok(time)) = (g.parse::<i64>(), time.parse::<i64>()) else {
            continue;
        };
        match (event, kind) {
            ("RegionBegin", "region") => regions
                .entry(g)
                .or_default()
                .push((time, field(line, "Type=").unwrap_or_default())),
            ("RegionEnd", "region") => {
                if let Some((start, name)) = regions.get_mut(&g).and_then(Vec::pop) {
                    rows.push((g, start, time, name));
                }
            }
            ("StateTransition", "region") if line.contains("->NotExist ") => {
                if let Some(id) = num(line, "GoID=") {
                    regions.remove(&id);
                }
            }
            ("TaskBegin", "task") => {
                let id = field(line, "ID=").unwrap_or_default();
                tasks.insert(id, (g, time, field(line, "Type=").unwrap_or_default()));
            }
            ("TaskEnd", "task") => {
                let id = field(line, "ID=").unwrap_or_default();
                if let Some((g, start, name)) = tasks.remove(&id) {
                    rows.push((g, start, time, name));
                }
            }
            ("RangeBegin" | "RangeActive" | "RangeEnd", "stw" | "assist") => {
                let name = field(line, "Name=").unwrap_or_default();
                let label = match (kind, name.strip_prefix("stop-the-world (")) {
                    ("stw", Some(reason)) => reason.trim_end_matches(')').to_string(),
                    ("assist", None) if name == "GC mark assist" => String::new(),
                    _ => continue,
                };
                let Some(scope) = num(line, "Scope=Goroutine(") else {
                    continue;
                };
                let key = (label.clone(), scope);
                match event {
                    "RangeBegin" => {
                        ranges.insert(key, Some((scope, time, label)));
                    }
                    "RangeActive" => {
                        ranges.entry(key).or_insert(None);
                    }
                    _ => {
                        if let Some(Some((g, start, label))) = ranges.remove(&key) {
                            rows.push((g, start, time, label));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    rows.sort_by_key(|&(g, start, end, _)| (start - end, start, g));
    rows
}

#[test]
fn regions_tasks_and_gc_ranges_agree_with_go_oracle() {
    use gotv::analysis::{LatencyKind, analyze};
    let kinds = [
        ("region", LatencyKind::Region),
        ("task", LatencyKind::Task),
        ("stw", LatencyKind::StopTheWorld),
        ("assist", LatencyKind::MarkAssist),
    ];
    for name in REQUIRED {
        let data = fs::read(common::traces::dir().join(format!("{name}.trace"))).expect("trace");
        let trace = gotv::trace::Trace::open(&data).expect("valid trace");
        let (analysis, error) = analyze(&trace, usize::MAX);
        assert!(error.is_none(), "{name}: {error:?}");
        let text = common::traces::parsed_text(name);
        let mut counts = Vec::new();
        for (label, kind) in kinds {
            let got: Vec<Span> = analysis
                .latencies
                .outliers(kind)
                .iter()
                .map(|i| (i.goroutine, i.start, i.end, analysis.labels.text(i.label)))
                .collect();
            let want = expected_ranges(&text, label);
            assert!(
                got == want,
                "{name} {label}: got {} want {} intervals",
                got.len(),
                want.len()
            );
            counts.push(format!("{label}={}", want.len()));
        }
        eprintln!("{name}: {}", counts.join(" "));
    }
}

/// A `go tool trace` web server on a trace, stopped when dropped.
struct GoTraceServer {
    child: std::process::Child,
    port: u16,
}

impl GoTraceServer {
    fn start(go: &std::path::Path, trace: &std::path::Path) -> GoTraceServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        // Run the tool's binary itself, not `go tool trace`, whose child
        // would outlive a kill of the `go` process.
        let tool = Command::new(go)
            .args(["tool", "-n", "trace"])
            .env("GOTOOLCHAIN", "local")
            .output()
            .expect("go tool -n trace");
        let tool = String::from_utf8(tool.stdout).expect("UTF-8 path");
        let child = Command::new(tool.trim())
            .arg(format!("-http=127.0.0.1:{port}"))
            .arg(trace)
            // Go opens a browser through $BROWSER; make that a no-op.
            .env("BROWSER", "true")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start go tool trace");
        GoTraceServer { child, port }
    }

    /// The body of `GET path`, retrying while the server starts.
    fn get(&self, path: &str) -> String {
        use std::io::Write;
        for _ in 0..600 {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let request = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n");
                let mut response = String::new();
                if s.write_all(request.as_bytes()).is_ok()
                    && s.read_to_string(&mut response).is_ok()
                {
                    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
                    assert!(
                        response.starts_with("HTTP/1.0 200")
                            || response.starts_with("HTTP/1.1 200"),
                        "{response}"
                    );
                    return body.to_string();
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("go tool trace did not answer on port {}", self.port);
    }
}

impl Drop for GoTraceServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `(window, mmu)` pairs of `/mmu?mode=plot`'s `"curve"`.
fn mmu_curve(json: &str) -> Vec<(i64, f64)> {
    let pairs = regex::Regex::new(r"\[([0-9.e+-]+),([0-9.e+-]+)\]").expect("regex");
    pairs
        .captures_iter(json)
        .map(|c| {
            (
                c[1].parse::<f64>().expect("window") as i64,
                c[2].parse().expect("mmu"),
            )
        })
        .collect()
}

#[test]
fn mmu_agrees_with_go_tool_trace() {
    use gotv::analysis::{Analyzer, UtilFlags};
    let Some(go) = common::go_toolchain(common::SPEC_GO) else {
        return;
    };
    let flag_sets = [
        ("stw|background|assist", UtilFlags::DEFAULT),
        (
            "stw|background|assist|sweep",
            UtilFlags {
                sweep: true,
                ..UtilFlags::DEFAULT
            },
        ),
        (
            "stw",
            UtilFlags {
                stw: true,
                background: false,
                assist: false,
                sweep: false,
            },
        ),
        (
            "assist|sweep",
            UtilFlags {
                stw: false,
                background: false,
                assist: true,
                sweep: true,
            },
        ),
    ];
    for name in REQUIRED {
        let path = common::traces::dir().join(format!("{name}.trace"));
        let server = GoTraceServer::start(&go, &path);
        let data = fs::read(&path).expect("trace");
        let trace = gotv::trace::Trace::open(&data).expect("valid trace");
        let utilization = |flags| {
            let mut analyzer = Analyzer::new(0, flags);
            trace
                .for_each_event(|ev| analyzer.event(&ev))
                .expect("valid trace");
            analyzer.finish().utilization
        };
        for (query, flags) in flag_sets {
            let util = utilization(flags);
            let without_workers = utilization(UtilFlags {
                background: false,
                ..flags
            });
            let curve = mmu_curve(&server.get(&format!("/mmu?mode=plot&flags={query}")));
            assert!(curve.len() >= 50, "{name} {query}: {curve:?}");
            // Go's band search also tries a 1 ns window starting at the
            // trace's last event, past which it takes the utilisation to be
            // 0: its MMU(1 ns) is always 0. Windows that fit are compared.
            // Go counts a background worker twice when it starts again
            // (see `analysis::mmu`), which only ever lowers its curve: with
            // workers counted, the MMU lies between Go's and the one
            // without them.
            for (window, want) in curve.into_iter().filter(|&(w, _)| w >= 2) {
                let got = util.mmu(window);
                let agrees = match flags.background {
                    false => (got - want).abs() < 1e-9,
                    true => got > want - 1e-9 && got < without_workers.mmu(window) + 1e-9,
                };
                assert!(
                    agrees,
                    "{name} {query} window {window}: got {got} want {want}"
                );
            }
        }
        eprintln!("{name}: MMU agrees for {} flag sets", flag_sets.len());
    }
}

/// Nanoseconds of a Go `time.Duration` string: `0s`, `1.5µs`, `2m3.000000001s`.
fn go_duration(s: &str) -> i64 {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let mut ns: i64 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale: i64 = match unit {
            "ns" => 1,
            "µs" | "us" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => panic!("bad duration {s:?}"),
        };
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        ns += int.parse::<i64>().expect("duration digits") * scale;
        if !frac.is_empty() {
            let digits: i64 = frac.parse().expect("duration fraction");
            ns += digits * scale / 10_i64.pow(frac.len() as u32);
        }
        rest = tail;
    }
    if neg { -ns } else { ns }
}

/// Text of HTML as html/template escapes it.
fn html_text(s: &str) -> String {
    let entities = regex::Regex::new(r"&(#\d+|lt|gt|amp|quot);").expect("regex");
    entities
        .replace_all(s, |c: &regex::Captures| match &c[1] {
            "lt" => "<".to_string(),
            "gt" => ">".to_string(),
            "amp" => "&".to_string(),
            "quot" => "\"".to_string(),
            n => {
                char::from_u32(n[1..].parse().expect("entity")).map_or(String::new(), String::from)
            }
        })
        .into_owned()
}

fn url_query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `/goroutines`: start function, count and total execution time per group.
fn go_groups(html: &str) -> Vec<(String, u64, i64)> {
    let row = regex::Regex::new(r#"<a href="/goroutine\?name=[^"]*">([^<]*)</a></code></td>\s*<td>(\d+)</td>\s*<td>([^<]*)</td>"#)
        .expect("regex");
    row.captures_iter(html)
        .map(|c| {
            let name = html_text(&c[1]);
            let name = if name == "(Inactive, no stack trace sampled)" {
                String::new()
            } else {
                name
            };
            (name, c[2].parse().expect("count"), go_duration(&c[3]))
        })
        .collect()
}

/// `/goroutine?name=`: per statistic of the breakdown table (`Total`,
/// `Execution time`, `Block time (R)`, ...), its sum and maximum over the
/// group's goroutines.
fn go_group_stats(html: &str) -> HashMap<String, (i64, i64)> {
    let start = html
        .find(r#"<h3 id="breakdown">"#)
        .expect("breakdown table");
    let end = html.find(r#"<h3 id="ranges">"#).expect("ranges table");
    let table = &html[start..end];
    let header = regex::Regex::new(r#"<th class="link"[^>]*>\s*([^<]*?)\s*</th>"#).expect("regex");
    let names: Vec<String> = header
        .captures_iter(table)
        .map(|c| html_text(&c[1]))
        .collect();
    let cell = regex::Regex::new(r"<td> ([^<]*)</td>").expect("regex");
    let mut stats: HashMap<String, (i64, i64)> = HashMap::new();
    for row in table.split("<tr>").skip(2) {
        let values: Vec<i64> = cell
            .captures_iter(row)
            .map(|c| go_duration(c[1].trim()))
            .collect();
        assert_eq!(values.len(), names.len(), "row {row}");
        for (name, v) in names.iter().zip(values) {
            let s = stats.entry(name.clone()).or_default();
            s.0 += v;
            s.1 = s.1.max(v);
        }
    }
    stats
}

#[test]
fn goroutine_analysis_agrees_with_go_tool_trace() {
    use gotv::analysis::{Stat, analyze};
    let Some(go) = common::go_toolchain(common::SPEC_GO) else {
        return;
    };
    assert_eq!(go_duration("2m3.000000001s"), 123_000_000_001);
    assert_eq!(go_duration("1.5µs"), 1500);
    for name in REQUIRED {
        let path = common::traces::dir().join(format!("{name}.trace"));
        let server = GoTraceServer::start(&go, &path);
        let data = fs::read(&path).expect("trace");
        let trace = gotv::trace::Trace::open(&data).expect("valid trace");
        let (analysis, error) = analyze(&trace, 0);
        assert!(error.is_none());
        let ours: HashMap<String, _> = analysis
            .start_functions
            .iter()
            .map(|g| (analysis.labels.text(g.name), g))
            .collect();
        let groups = go_groups(&server.get("/goroutines"));
        assert_eq!(groups.len(), ours.len(), "{name}: groups");
        for (func, count, exec) in &groups {
            let g = ours
                .get(func)
                .unwrap_or_else(|| panic!("{name}: no group {func:?}"));
            assert_eq!((g.count, g.exec.total), (*count, *exec), "{name} {func}");
            let mut want =
                go_group_stats(&server.get(&format!("/goroutine?name={}", url_query_escape(func))));
            let unknown = want.remove("Unknown time").unwrap_or_default();
            assert_eq!(unknown, (0, 0), "{name} {func}: unknown time");
            let mut got: HashMap<String, (i64, i64)> = HashMap::new();
            let mut put = |k: &str, s: Stat| {
                got.insert(k.to_string(), (s.total, s.max));
            };
            put("Total", g.lifetime);
            put("Execution time", g.exec);
            put("Sched wait time", g.sched_wait);
            put("Syscall execution time", g.syscall);
            put("Block time (syscall)", g.syscall_block);
            for &(reason, s) in &g.block {
                put(&format!("Block time ({})", analysis.labels.text(reason)), s);
            }
            got.retain(|k, v| *v != (0, 0) || want.contains_key(k));
            want.retain(|k, v| *v != (0, 0) || got.contains_key(k));
            assert_eq!(got, want, "{name} {func}");
        }
        eprintln!("{name}: {} start functions agree", groups.len());
    }
}
