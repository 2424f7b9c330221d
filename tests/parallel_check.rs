//! `Trace::for_each_event_parallel` (what `gotv check` runs) against the
//! sequential reader: on every real trace, every multi-generation trace of
//! Go's conformance suite and thousands of mutations of them, the summary,
//! the error and the resources seen must be the same, whatever the number of
//! threads. Mutations hit the speculative ordering's fallbacks (assumptions
//! that do not hold, generations that fail) as well as its fast path.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use common::traces::real_traces;
use gotv::trace::{Event, ResourceId, Summary, Trace, raw};

#[derive(Default, Debug, PartialEq, Eq)]
struct Seen {
    goroutines: BTreeSet<i64>,
    procs: BTreeSet<i64>,
    threads: BTreeSet<i64>,
}

impl Seen {
    fn add(&mut self, ev: &Event<'_>) {
        let mut put = |r: ResourceId| match r {
            ResourceId::Goroutine(g) if g >= 0 => {
                self.goroutines.insert(g);
            }
            ResourceId::Proc(p) if p >= 0 => {
                self.procs.insert(p);
            }
            ResourceId::Thread(m) if m >= 0 => {
                self.threads.insert(m);
            }
            _ => {}
        };
        put(ResourceId::Goroutine(ev.goroutine()));
        put(ResourceId::Proc(ev.proc()));
        put(ResourceId::Thread(ev.thread()));
        if let Some(r) = ev.transition_resource() {
            put(r);
        }
    }

    fn union(parts: Vec<Seen>) -> Seen {
        let mut all = Seen::default();
        for p in parts {
            all.goroutines.extend(p.goroutines);
            all.procs.extend(p.procs);
            all.threads.extend(p.threads);
        }
        all
    }
}

type Outcome = Result<(Summary, Seen), String>;

fn sequential(bytes: &[u8]) -> Outcome {
    let trace = Trace::open(bytes).map_err(|e| e.to_string())?;
    let mut seen = Seen::default();
    let summary = trace
        .for_each_event(|ev| seen.add(&ev))
        .map_err(|e| e.to_string())?;
    Ok((summary, seen))
}

fn parallel(bytes: &[u8], threads: usize) -> Outcome {
    let trace = Trace::open(bytes).map_err(|e| e.to_string())?;
    let (summary, parts) = trace
        .for_each_event_parallel(threads, Seen::default, |s, ev| s.add(&ev), |_| {})
        .map_err(|e| e.to_string())?;
    Ok((summary, Seen::union(parts)))
}

/// Compares the readers on `bytes`; returns whether the trace was valid.
fn compare(name: &str, bytes: &[u8]) -> bool {
    let want = sequential(bytes);
    for threads in [1, 2, 3] {
        let got = parallel(bytes, threads);
        assert_eq!(got, want, "{name}: {threads} threads");
    }
    want.is_ok()
}

/// Go's conformance traces (raw text, encoded), if the toolchain is there.
fn conformance_traces() -> Vec<(String, Vec<u8>)> {
    let Some(src) = common::spec_src() else {
        return Vec::new();
    };
    let dir: PathBuf = src.join("internal/trace/testdata/tests");
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|x| x != "test") {
            continue;
        }
        let archive = raw::txtar::parse(&fs::read(&p).unwrap());
        let Some(f) = archive.files.iter().find(|f| f.name == "trace") else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(&f.data) else {
            continue;
        };
        let Ok(trace) = raw::parse_text(text) else {
            continue;
        };
        if let Ok(bytes) = raw::encode(&trace) {
            out.push((p.file_name().unwrap().to_string_lossy().into_owned(), bytes));
        }
    }
    out.sort();
    out
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn parallel_check_matches_the_sequential_reader() {
    let mut traces = real_traces();
    traces.extend(conformance_traces());
    for (name, bytes) in &traces {
        compare(name, bytes);
    }
}

#[test]
fn parallel_check_matches_on_mutated_traces() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut valid = 0;
    let mut total = 0;
    let mut traces = real_traces();
    traces.extend(conformance_traces());
    for (name, bytes) in &traces {
        if bytes.len() > 200_000 {
            continue;
        }
        let rounds = if bytes.len() > 2000 { 25 } else { 8 };
        for round in 0..rounds {
            let mut m = bytes.clone();
            // Past the header, skewed to later generations.
            let start = 16.min(m.len());
            let span = m.len() - start;
            for _ in 0..1 + rng.below(3) {
                if span == 0 {
                    break;
                }
                let at = start + span - 1 - rng.below(span).min(rng.below(span));
                m[at] = match rng.below(4) {
                    0 => m[at].wrapping_add(1),
                    1 => m[at].wrapping_sub(1),
                    2 => m[at] ^ (1 << rng.below(8)),
                    _ => rng.next() as u8,
                };
            }
            total += 1;
            if compare(&format!("{name} mutation {round}"), &m) {
                valid += 1;
            }
        }
    }
    eprintln!("{valid} of {total} mutated traces were still valid");
}
