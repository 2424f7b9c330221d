//! The model built from the committed real traces, checked against Go's own
//! parse of them (`testdata/traces/NAME.parsed[.gz]`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use super::build::{G_STATES, P_GOROUTINES};
use super::generation::GenerationModel;
use super::span::SpanKind;
use super::timeline::{LaneKey, TimeSpan};
use super::{Series, SpanDetails, build};
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

/// The summary-only path gives the summary of the full model, for every
/// generation of traces of several versions.
#[test]
fn summaries_without_the_detail_equal_the_detail_summarized() {
    for name in [
        "sample",
        "workload-go1.22",
        "cpuprofile-go1.27",
        "flightrec-go1.25",
    ] {
        let data = std::fs::read(path(&format!("{name}.trace"))).unwrap();
        let trace = Trace::open(&data).unwrap();
        let gens = trace.index().generations.len();
        assert!(gens > 1, "{name}");
        for g in 0..gens {
            let open = super::OpenAnnotations::default();
            let Some((model, edges, error)) = super::build_generation(&trace, g, &open) else {
                continue;
            };
            let (summary, same_edges, same_error) =
                super::summarize_generation(&trace, g, &open).unwrap();
            assert_eq!(error.is_some(), same_error.is_some(), "{name} gen {g}");
            assert_eq!(summary, model.summarize(), "{name} gen {g}");
            assert_eq!(edges, same_edges, "{name} gen {g}");
        }
    }
}

/// A build for a window of a generation has the whole generation's
/// summary, and exactly the spans of the full build that touch the window,
/// with the same details (stacks, P, M, unblocker); built without the
/// summary, the same spans.
#[test]
fn a_window_keeps_the_spans_touching_it_and_the_whole_summary() {
    for name in ["sample", "workload-go1.22", "flightrec-go1.25"] {
        let data = std::fs::read(path(&format!("{name}.trace"))).unwrap();
        let trace = Trace::open(&data).unwrap();
        let open = super::OpenAnnotations::default();
        let mut kept = 0;
        for g in 0..trace.index().generations.len() {
            let Some((full, _, _)) = super::build_generation(&trace, g, &open) else {
                continue;
            };
            let span = full.span();
            let third = span.len() / 3;
            for window in [
                TimeSpan::new(span.start + third, span.end - third),
                TimeSpan::new(span.start + third, span.start + third + 1000),
            ] {
                let build = |summarize| super::build_window(&trace, g, &open, window, summarize);
                let (summary, model, _, _) = build(true).unwrap();
                let what = format!("{name} gen {g} window {window:?}");
                assert_eq!(summary, Some(full.summarize()), "{what}");
                let (no_summary, same_model, _, _) = build(false).unwrap();
                assert!(no_summary.is_none(), "{what}");
                assert_eq!(same_model, model, "{what}: the summary changes no detail");
                assert_eq!(model.window(), window, "{what}");
                let empty = model.lanes.iter().find(|lane| lane.is_empty());
                assert_eq!(empty.map(|l| l.key), None, "{what}");
                for lane in &full.lanes {
                    // What a view of the window draws, at a nanosecond a
                    // pixel (nothing folded; tasks are all kept).
                    fn draw(
                        m: &GenerationModel,
                        key: LaneKey,
                        window: TimeSpan,
                    ) -> Vec<super::DrawItem<'_>> {
                        let mut items = Vec::new();
                        super::query::detail_items(m, key, window, 1e-3, &mut items);
                        items.retain(|i| i.start <= window.end && i.end >= window.start);
                        items
                    }
                    let (got, want) = (
                        draw(&model, lane.key, window),
                        draw(&full, lane.key, window),
                    );
                    assert_eq!(got, want, "{what} {:?}", lane.key);
                    kept += got.len();
                    for (r, row) in full.rows(lane).enumerate() {
                        let touching = row
                            .iter()
                            .filter(|s| s.start <= window.end && s.end() >= window.start);
                        for s in touching {
                            let details =
                                |m: &GenerationModel| m.span_details(lane.key, r, s.start);
                            assert_eq!(details(&model), details(&full), "{what} {s:?}");
                        }
                    }
                }
                assert!(model.bytes() <= full.bytes(), "{what}");
            }
        }
        assert!(kept > 100, "{name}: windows hold spans");
    }
}

/// Go's parse of trace `name`.
fn oracle_text(name: &str) -> String {
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
    text
}

/// The goroutine IDs in Go's parse: execution contexts (`G=`) and
/// transitions (`GoID=`).
fn oracle_goroutines(name: &str) -> BTreeSet<i64> {
    oracle_text(name)
        .lines()
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

/// A start function's activity is, bucket by bucket, the time its
/// goroutines' state spans spend in each counted state within the bucket,
/// over the time the bucket covers: in the summary and, finer, in the full
/// model; a goroutine the generation does not name has its own.
#[test]
fn group_activity_sums_its_goroutines_states() {
    let (mut groups, mut unnamed) = (0, 0);
    for name in TRACES {
        for (g, m) in models(name).iter().enumerate() {
            let summary = m.summarize();
            let mut members: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
            for info in &m.goroutines {
                members.entry(info.name).or_default().push(info.id);
            }
            let check = |ids: &[i64], got: &[(TimeSpan, [f32; 4])]| {
                let expected = expected_activity(m, ids, got);
                assert!(!got.is_empty(), "{name} generation {g}: {ids:?}");
                for ((bucket, values), want) in got.iter().zip(expected) {
                    for (v, w) in values.iter().zip(want) {
                        let close = (f64::from(*v) - w).abs() <= 1e-5 * w.max(1.0);
                        assert!(close, "{name} gen {g} {bucket:?}: {values:?} vs {want:?}");
                    }
                }
            };
            for (&function, ids) in &members {
                if function == 0 {
                    for &id in ids {
                        for activity in [&summary.activity, &m.activity] {
                            let mut got = Vec::new();
                            activity.unnamed(id, m.span, &mut got);
                            check(&[id], &got);
                        }
                        unnamed += 1;
                    }
                    continue;
                }
                let index = summary.name_index(m.strings.get(function)).unwrap();
                let mut got = Vec::new();
                summary.activity.group(index, m.span, &mut got);
                check(ids, &got);
                let mut detail = Vec::new();
                m.activity.group(function, m.span, &mut detail);
                check(ids, &detail);
                groups += 1;
            }
        }
    }
    eprintln!("{groups} groups and {unnamed} unnamed goroutines checked");
    assert!(groups > 100 && unnamed > 0);
}

/// Per bucket of `buckets`, the average number of goroutines `ids` of `m`
/// in each counted state, from their state spans.
fn expected_activity(
    m: &GenerationModel,
    ids: &[i64],
    buckets: &[(TimeSpan, [f32; 4])],
) -> Vec<[f64; 4]> {
    let spans: Vec<_> = ids
        .iter()
        .filter_map(|&id| m.lane(LaneKey::Goroutine(id)))
        .filter_map(|lane| m.rows(lane).nth(G_STATES))
        .flatten()
        .collect();
    buckets
        .iter()
        .map(|(bucket, _)| {
            let mut sums = [0.0; 4];
            for s in &spans {
                let state = super::GROUP_STATES.iter().position(|&k| k == s.kind());
                let overlap = TimeSpan::new(s.start, s.end()).intersect(*bucket).len();
                if let Some(sum) = state.and_then(|k| sums.get_mut(k)) {
                    *sum += overlap as f64 / bucket.len() as f64;
                }
            }
            sums
        })
        .collect()
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
        .flat_map(|m| m.lanes.iter().flat_map(|l| m.rows(l)))
        .flatten()
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

/// A goroutine transition in Go's parse.
struct OracleTransition {
    /// The goroutine whose event it is (`G=`).
    by: i64,
    time: i64,
    goroutine: i64,
    /// `Running->Waiting`, ….
    states: String,
    /// Functions of `TransitionStack=`, innermost first.
    stack: Vec<String>,
}

/// The value of `key=` among `words`.
fn field<'a>(words: &[&'a str], key: &str) -> Option<&'a str> {
    words.iter().find_map(|w| w.strip_prefix(key))
}

/// The goroutine transitions of Go's parse of `name`, with their stacks.
fn oracle_transitions(name: &str) -> Vec<OracleTransition> {
    let text = oracle_text(name);
    let mut out: Vec<OracleTransition> = Vec::new();
    let mut in_transition_stack = false;
    for line in text.lines() {
        if let Some(frame) = line.strip_prefix('\t') {
            let func = frame.split(" @ ").next().unwrap_or_default();
            if in_transition_stack
                && !frame.starts_with('\t')
                && let Some(t) = out.last_mut()
            {
                t.stack.push(func.to_owned());
            }
            continue;
        }
        in_transition_stack = line == "TransitionStack=";
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.get(3) != Some(&"StateTransition") {
            continue;
        }
        let (Some(by), Some(time), Some(goroutine), Some(states)) = (
            field(&words, "G="),
            field(&words, "Time="),
            field(&words, "GoID="),
            words.get(6),
        ) else {
            continue;
        };
        out.push(OracleTransition {
            by: by.parse().unwrap(),
            time: time.parse().unwrap(),
            goroutine: goroutine.parse().unwrap(),
            states: (*states).to_owned(),
            stack: Vec::new(),
        });
    }
    out
}

/// Asserts that nearly every one of `transitions` has its span: a few
/// events at generation boundaries get other timestamps than Go's parser
/// gives them (it nudges them to keep time monotonic), so their spans begin
/// elsewhere.
fn assert_mostly_found(what: &str, found: usize, transitions: usize) {
    eprintln!("{what}: {found} of {transitions} found");
    assert!(
        found * 100 >= transitions * 98,
        "{what}: {found} of {transitions}"
    );
}

/// The details of the goroutine state span of `g` that begins at `t`.
fn state_span_at(models: &[GenerationModel], g: i64, t: i64) -> Option<SpanDetails> {
    models
        .iter()
        .filter_map(|m| m.span_details(LaneKey::Goroutine(g), G_STATES, t))
        .find(|d| d.start == t)
}

/// Checks, with `check`, the span each goroutine transition of Go's parse
/// of the sample that `pick` selects begins (at least ten of them, and
/// nearly all found).
fn each_transition_span(
    what: &str,
    models: &[GenerationModel],
    pick: impl Fn(&OracleTransition) -> bool,
    check: impl Fn(&OracleTransition, &SpanDetails),
) {
    let picked: Vec<_> = oracle_transitions("sample")
        .into_iter()
        .filter(|t| pick(t))
        .collect();
    assert!(picked.len() > 10, "the sample has {what}");
    let mut found = 0;
    for t in &picked {
        let Some(d) = state_span_at(models, t.goroutine, t.time) else {
            continue;
        };
        found += 1;
        check(t, &d);
    }
    assert_mostly_found(what, found, picked.len());
}

/// The functions of a span's stack, innermost first.
fn functions(d: &SpanDetails) -> Vec<&str> {
    d.stack.iter().map(|f| f.function.as_str()).collect()
}

#[test]
fn blocked_spans_carry_gos_transition_stack() {
    let models = models("sample");
    let blocks = |t: &OracleTransition| t.states == "Running->Waiting" && !t.stack.is_empty();
    each_transition_span("blocks", &models, blocks, |t, d| {
        assert_eq!(functions(d), t.stack, "G{} at {}", t.goroutine, t.time);
        assert!(d.stack.iter().all(|f| !f.file.is_empty() && f.line > 0));
        assert_eq!(d.goroutine, Some(t.goroutine));
        assert!(
            d.proc.is_some() && d.thread.is_some(),
            "blocked on a P and an M"
        );
    });
}

#[test]
fn spans_woken_by_another_goroutine_name_it() {
    let models = models("sample");
    let wakes =
        |t: &OracleTransition| t.states == "Waiting->Runnable" && t.by >= 0 && t.by != t.goroutine;
    each_transition_span("unblocks", &models, wakes, |t, d| {
        assert_eq!(d.unblocker, Some(t.by), "G{} at {}", t.goroutine, t.time);
        assert!(!d.created, "a wake-up is no creation");
    });
    let running = oracle_transitions("sample")
        .into_iter()
        .find(|t| t.states == "Runnable->Running")
        .unwrap();
    let d = state_span_at(&models, running.goroutine, running.time).unwrap();
    assert_eq!(d.unblocker, None, "only runnable spans have an unblocker");
}

#[test]
fn a_goroutines_first_span_names_its_creator() {
    let models = models("sample");
    let creations = |t: &OracleTransition| {
        t.states.starts_with("NotExist->") && t.by >= 0 && t.by != t.goroutine
    };
    each_transition_span("creations", &models, creations, |t, d| {
        assert_eq!(d.unblocker, Some(t.by), "G{} at {}", t.goroutine, t.time);
        assert!(d.created, "G{} at {}", t.goroutine, t.time);
        assert_eq!(functions(d), t.stack, "where G{} starts", t.goroutine);
    });
}

#[test]
fn p_and_m_spans_share_their_goroutines_origin() {
    let models = models("sample");
    let mut checked = 0;
    for m in &models {
        let Some(lane) = m.lane(LaneKey::Proc(0)) else {
            continue;
        };
        let Some(row) = m.rows(lane).nth(P_GOROUTINES) else {
            continue;
        };
        for s in row.iter().filter(|s| s.kind() == SpanKind::Running) {
            let on_p = m
                .span_details(LaneKey::Proc(0), P_GOROUTINES, s.start)
                .unwrap();
            let g = on_p.goroutine.unwrap();
            let own = m
                .span_details(LaneKey::Goroutine(g), G_STATES, s.start)
                .unwrap();
            assert_eq!(on_p.proc, Some(0));
            assert_eq!(on_p.stack, own.stack, "G{g} at {}", s.start);
            checked += 1;
        }
    }
    assert!(checked > 0);
    let rows = || models.iter().flat_map(|m| &m.lanes).flat_map(|l| &l.rows);
    let with_stacks = rows().flat_map(|r| &r.origins).filter(|&&o| o != 0).count();
    let all: usize = rows().map(|r| r.spans.len()).sum();
    let tables: usize = models.iter().map(|m| m.origin_table.bytes()).sum();
    eprintln!(
        "{with_stacks} of {all} spans have an origin; origin tables {tables} bytes, {:.2} bytes/span",
        tables as f64 / all as f64
    );
}

/// A region as one generation draws it: goroutine, depth, start, end, name;
/// a task: [`TASKS`], 0, start, end, name.
type DrawnRegion = (i64, usize, i64, i64, String);

/// The goroutine of [`DrawnRegion`]s that are tasks.
const TASKS: i64 = i64::MIN;

/// A region read in order: as drawn, and the generations it began and
/// ended in.
type ReadRegion = (DrawnRegion, usize, usize);

/// The regions and tasks of `trace`, from the whole event stream read in
/// order (which knows what began in earlier generations), regions at their
/// nesting depth; regions end with their goroutine, and what is open at the
/// end of the trace at its last event. What ends without having begun began
/// before the trace (as in a flight recording): a first reading finds it,
/// and the second starts with it open (regions below all others).
fn regions_read_in_order(trace: &Trace<'_>) -> Vec<ReadRegion> {
    let (_, before) = read_in_order(trace, &BeforeTrace::default());
    let (regions, again) = read_in_order(trace, &before);
    assert!(again.regions.is_empty() && again.tasks.is_empty());
    regions
}

/// What began before the trace: per goroutine its regions, innermost
/// first, and the tasks, by ID.
#[derive(Default)]
struct BeforeTrace {
    regions: std::collections::HashMap<i64, Vec<String>>,
    tasks: std::collections::HashMap<u64, String>,
}

/// One reading of [`regions_read_in_order`], starting with `before` open:
/// the regions and tasks, and what ended without having begun.
fn read_in_order(trace: &Trace<'_>, before: &BeforeTrace) -> (Vec<ReadRegion>, BeforeTrace) {
    use crate::trace::{EventKind, GoState, Transition};
    type Open = Vec<(i64, String, usize)>;
    fn close(closed: &mut Vec<ReadRegion>, g: i64, (t, generation): (i64, usize), open: &mut Open) {
        while let Some((since, name, began)) = open.pop() {
            closed.push(((g, open.len(), since, t, name), began, generation));
        }
    }
    let mut closed = Vec::new();
    let mut found = BeforeTrace::default();
    let mut open: std::collections::HashMap<i64, Open> = before
        .regions
        .iter()
        .map(|(&g, names)| {
            (
                g,
                names
                    .iter()
                    .rev()
                    .map(|n| (i64::MIN, n.clone(), 0))
                    .collect(),
            )
        })
        .collect();
    let mut tasks: std::collections::HashMap<u64, (i64, String, usize)> = before
        .tasks
        .iter()
        .map(|(&id, name)| (id, (i64::MIN, name.clone(), 0)))
        .collect();
    let (gens, mut generation, mut last) = (trace.index().generations.len(), None, 0);
    trace
        .for_each_event(|ev| {
            let t = ev.time();
            last = t;
            if ev.kind() == EventKind::Sync {
                generation = Some(generation.map_or(0, |g: usize| (g + 1).min(gens - 1)));
                return;
            }
            let now = (t, generation.unwrap_or_default());
            if let Some(Transition::Goroutine { id, to, from }) =
                ev.state_transition().map(|st| st.transition)
                && to == GoState::NotExist
                && from != to
            {
                close(&mut closed, id, now, open.entry(id).or_default());
            }
            if let Some(task) = ev.task() {
                let name = String::from_utf8_lossy(task.type_name).into_owned();
                if ev.kind() == EventKind::TaskBegin {
                    tasks.insert(task.id, (t, name, now.1));
                } else if let Some((since, name, began)) = tasks.remove(&task.id) {
                    closed.push(((TASKS, 0, since, t, name), began, now.1));
                } else {
                    found.tasks.insert(task.id, name);
                }
                return;
            }
            let (Some(region), g) = (ev.region(), ev.goroutine()) else {
                return;
            };
            let stack = open.entry(g).or_default();
            let name = String::from_utf8_lossy(region.type_name).into_owned();
            if ev.kind() == EventKind::RegionBegin {
                stack.push((t, name, now.1));
            } else if let Some((since, name, began)) = stack.pop() {
                closed.push(((g, stack.len(), since, t, name), began, now.1));
            } else {
                found.regions.entry(g).or_default().push(name);
            }
        })
        .unwrap();
    let end = (last, generation.unwrap_or_default());
    for (g, mut stack) in open {
        close(&mut closed, g, end, &mut stack);
    }
    for (_, (since, name, began)) in tasks {
        closed.push(((TASKS, 0, since, end.0, name), began, end.1));
    }
    (closed, found)
}

/// The regions of `regions` generation `generation`, spanning `span`, draws: those
/// that began in it or before and ended in it or after, cut to its span.
fn cut_to(
    regions: &[ReadRegion],
    generation: usize,
    span: super::TimeSpan,
) -> BTreeSet<DrawnRegion> {
    regions
        .iter()
        .filter(|(_, began, ended)| (*began..=*ended).contains(&generation))
        .map(|((g, depth, since, until, name), _, _)| {
            let (since, until) = ((*since).max(span.start), (*until).min(span.end));
            (*g, *depth, since, until, name.clone())
        })
        .collect()
}

/// Regions and tasks open across generation boundaries, even across whole
/// generations, are drawn in every generation they cover (regions at their
/// depth), once each generation is built with what is open at its start,
/// chained from the edges of the ones before it: exactly as reading the
/// trace in order places them.
#[test]
fn regions_and_tasks_across_generations_match_reading_in_order() {
    use super::{OpenAnnotations, build_generation};
    let mut spanning = 0;
    for name in [
        "cpuprofile-go1.27",
        "workload-go1.27",
        "sample",
        "flightrec-go1.27",
    ] {
        let data = std::fs::read(path(&format!("{name}.trace"))).unwrap();
        let trace = Trace::open(&data).unwrap();
        let regions = regions_read_in_order(&trace);
        let gens = trace.index().generations.len();
        let edges: Vec<_> = (0..gens)
            .map(|g| {
                let nothing = OpenAnnotations::default();
                build_generation(&trace, g, &nothing).unwrap().1
            })
            .collect();
        for (g, open) in OpenAnnotations::chain(&edges).iter().enumerate() {
            let (model, same_edges, error) = build_generation(&trace, g, open).unwrap();
            assert_eq!(
                same_edges, edges[g],
                "{name} gen {g}: edges do not depend on what was open"
            );
            // Generations decoded on their own may overlap in time (Go
            // moves the sequential reader's times past the previous
            // generation's end): each cuts regions to its own span.
            let want = cut_to(&regions, g, model.span());
            assert!(error.is_none(), "{name} gen {g}");
            spanning += open.regions().count() + open.tasks().count();
            let mut got = BTreeSet::new();
            for lane in &model.lanes {
                if lane.key == LaneKey::Tasks {
                    for s in model.rows(lane).flatten() {
                        let label = model.strings.get(s.value()).to_owned();
                        got.insert((TASKS, 0, s.start, s.end(), label));
                    }
                }
                let LaneKey::Goroutine(id) = lane.key else {
                    continue;
                };
                for (row, spans) in model.rows(lane).enumerate().skip(super::build::G_REGIONS) {
                    for s in spans {
                        let label = model.strings.get(s.value()).to_owned();
                        let depth = row - super::build::G_REGIONS;
                        got.insert((id, depth, s.start, s.end(), label));
                    }
                }
            }
            assert_eq!(got, want, "{name} gen {g}");
        }
    }
    assert!(
        spanning > 10,
        "the traces have regions and tasks open at generation starts"
    );
}

/// The events named `event` (`TaskBegin`, `RegionBegin`) in Go's parse:
/// when, on which goroutine, and the innermost function of their stacks.
fn oracle_begins(name: &str, event: &str) -> BTreeMap<i64, (i64, String)> {
    let text = oracle_text(name);
    let mut begins = BTreeMap::new();
    let mut last: Option<(i64, i64)> = None;
    for line in text.lines() {
        if let Some(frame) = line.strip_prefix('\t') {
            if let Some((time, g)) = last.take() {
                let func = frame.split(" @ ").next().unwrap_or_default();
                begins.insert(time, (g, func.to_owned()));
            }
            continue;
        }
        if line == "Stack=" {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        last = match (words.get(3), field(&words, "G="), field(&words, "Time=")) {
            (Some(&kind), Some(g), Some(t)) if kind == event => {
                Some((t.parse().unwrap(), g.parse().unwrap()))
            }
            _ => None,
        };
    }
    begins
}

/// A task's details name the goroutine that began it and the stack it
/// began at, as Go's parse has them, for every task begun in the trace.
#[test]
fn tasks_carry_their_begin_goroutine_and_stack() {
    let mut checked = 0;
    for name in ["sample", "workload-go1.22", "workload-go1.27"] {
        let begins = oracle_begins(name, "TaskBegin");
        assert!(!begins.is_empty(), "{name} has tasks");
        for model in models(name) {
            let Some(lane) = model.lane(LaneKey::Tasks) else {
                continue;
            };
            for (row, spans) in model.rows(lane).enumerate() {
                for span in spans {
                    let Some((g, func)) = begins.get(&span.start) else {
                        continue;
                    };
                    let d = model.span_details(LaneKey::Tasks, row, span.start);
                    let d = d.expect("a task's details");
                    assert_eq!(d.goroutine, Some(*g), "{name}: task at {}", span.start);
                    let top = d.stack.first().map(|f| f.function.as_str());
                    assert_eq!(top, Some(func.as_str()), "{name}: task at {}", span.start);
                    assert_eq!(d.unblocker, None);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} tasks checked");
}

/// A user region's details name the stack where it began, as Go's parse
/// has it (`trace.StartRegion`'s or `WithRegion`'s caller), for every
/// region that begins in the generation drawing it.
#[test]
fn regions_carry_the_stack_where_they_began() {
    let mut checked = 0;
    for name in ["sample", "workload-go1.22", "workload-go1.27"] {
        let begins = oracle_begins(name, "RegionBegin");
        assert!(!begins.is_empty(), "{name} has regions");
        for model in models(name) {
            for lane in &model.lanes {
                let LaneKey::Goroutine(id) = lane.key else {
                    continue;
                };
                let rows = model.rows(lane).enumerate().skip(super::build::G_REGIONS);
                for (row, spans) in rows {
                    for span in spans {
                        let Some((g, func)) = begins.get(&span.start).filter(|(g, _)| *g == id)
                        else {
                            continue;
                        };
                        let d = model.span_details(lane.key, row, span.start);
                        let d = d.expect("a region's details");
                        let top = d.stack.first().map(|f| f.function.as_str());
                        let at = (name, g, span.start);
                        assert_eq!(top, Some(func.as_str()), "{at:?}");
                        assert_eq!(d.unblocker, None);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} regions checked");
}
