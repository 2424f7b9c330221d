//! The model built from the committed real traces, checked against Go's own
//! parse of them (`testdata/traces/NAME.parsed[.gz]`).

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use super::build::{G_STATES, P_GOROUTINES};
use super::generation::GenerationModel;
use super::span::SpanKind;
use super::timeline::LaneKey;
use super::{Series, build};
use crate::trace::Trace;

/// The v2-format traces with a complete oracle (v1 traces are not decoded yet).
const TRACES: [&str; 12] = [
    "sample",
    "workload-go1.22",
    "workload-go1.23",
    "workload-go1.25",
    "workload-go1.27",
    "cpuprofile-go1.27",
    "iterpull-go1.23",
    "iterpull-go1.27",
    "allocfree-go1.23",
    "allocfree-go1.27",
    "cgo-go1.27",
    "flightrec-go1.27",
];

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/traces")
        .join(name)
}

/// Every generation of trace `name`, built.
fn models(name: &str) -> Vec<GenerationModel> {
    let data = std::fs::read(path(&format!("{name}.trace"))).unwrap();
    let trace = Trace::open(&data).unwrap();
    (0..trace.index().generations.len())
        .filter_map(|g| trace.decode_generation(g))
        .map(|events| build(events.unwrap().iter()))
        .collect()
}

/// The goroutine IDs in Go's parse: execution contexts (`G=`) and
/// transitions (`GoID=`).
fn oracle_goroutines(name: &str) -> BTreeSet<i64> {
    let mut text = String::new();
    let plain = path(&format!("{name}.parsed"));
    if plain.exists() {
        text = std::fs::read_to_string(plain).unwrap();
    } else {
        let gz = std::fs::File::open(path(&format!("{name}.parsed.gz"))).unwrap();
        flate2::read::GzDecoder::new(gz)
            .read_to_string(&mut text)
            .unwrap();
    }
    text.lines()
        .filter(|l| !l.starts_with('\t'))
        .flat_map(str::split_whitespace)
        .filter_map(|w| w.strip_prefix("G=").or_else(|| w.strip_prefix("GoID=")))
        .filter_map(|id| id.parse().ok())
        .filter(|&id: &i64| id >= 0)
        .collect()
}

fn goroutine_lanes(models: &[GenerationModel]) -> BTreeSet<i64> {
    models
        .iter()
        .flat_map(|m| &m.lanes)
        .filter_map(|l| match l.key {
            LaneKey::Goroutine(id) => Some(id),
            _ => None,
        })
        .collect()
}

#[test]
fn goroutine_lanes_are_gos_goroutines() {
    for name in TRACES {
        let models = models(name);
        assert_eq!(goroutine_lanes(&models), oracle_goroutines(name), "{name}");
    }
}

#[test]
fn rows_are_sorted_disjoint_and_inside_their_generation() {
    for name in TRACES {
        for m in models(name) {
            for lane in &m.lanes {
                for row in m.rows(lane) {
                    for s in row {
                        assert!(
                            m.span.start <= s.start && s.end() <= m.span.end,
                            "{name} {:?}: {s:?}",
                            lane.key
                        );
                    }
                    for w in row.windows(2) {
                        assert!(
                            w[0].end() <= w[1].start,
                            "{name} {:?}: {:?} overlaps {:?}",
                            lane.key,
                            w[0],
                            w[1]
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn running_time_on_ps_equals_running_time_of_goroutines() {
    let running = |m: &GenerationModel, row: usize, p: fn(&LaneKey) -> bool| -> i64 {
        m.lanes
            .iter()
            .filter(|l| p(&l.key))
            .filter_map(|l| m.rows(l).nth(row))
            .flatten()
            .filter(|s| s.kind() == SpanKind::Running)
            .map(|s| s.len())
            .sum()
    };
    for name in TRACES {
        for (g, m) in models(name).iter().enumerate() {
            let on_ps = running(m, P_GOROUTINES, |k| matches!(k, LaneKey::Proc(_)));
            let of_gs = running(m, G_STATES, |k| matches!(k, LaneKey::Goroutine(_)));
            assert_eq!(on_ps, of_gs, "{name} generation {g}");
            assert!(of_gs > 0, "{name} generation {g} ran something");
        }
    }
}

#[test]
fn sample_trace_has_every_lane_kind_and_plot() {
    let started = Instant::now();
    let models = models("sample");
    let elapsed = started.elapsed();
    let bytes: usize = models.iter().map(GenerationModel::bytes).sum();
    let summaries: usize = models.iter().map(|m| m.summarize().bytes()).sum();
    eprintln!(
        "sample.trace: {} generations decoded and built in {elapsed:?}; detail {} KiB, summaries {} KiB",
        models.len(),
        bytes >> 10,
        summaries >> 10
    );
    assert_eq!(models.len(), 8);
    assert!(
        summaries * 4 < bytes,
        "summaries are a fraction of the detail"
    );
    let has =
        |want: fn(&LaneKey) -> bool| models.iter().flat_map(|m| &m.lanes).any(|l| want(&l.key));
    assert!(has(|k| *k == LaneKey::Gc) && has(|k| *k == LaneKey::Tasks));
    assert!(has(|k| matches!(k, LaneKey::Proc(_))) && has(|k| matches!(k, LaneKey::Thread(_))));
    let kinds: BTreeSet<u8> = models
        .iter()
        .flat_map(|m| &m.spans)
        .map(|s| s.kind() as u8)
        .collect();
    assert_eq!(
        kinds.len(),
        SpanKind::ALL.len(),
        "every span kind occurs: {kinds:?}"
    );
    for series in [
        Series::HeapAlloc,
        Series::HeapGoal,
        Series::Gomaxprocs,
        Series::Running,
        Series::Waiting,
    ] {
        assert!(
            models.iter().any(|m| !m.series(series).is_empty()),
            "{series:?}"
        );
    }
    let named = models
        .iter()
        .flat_map(|m| &m.goroutines)
        .filter(|g| g.name != 0)
        .count();
    let all = models.iter().map(|m| m.goroutines.len()).sum::<usize>();
    assert!(
        named * 10 >= all * 9,
        "{named} of {all} goroutines have a start function"
    );
}
