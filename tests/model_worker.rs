//! The worker as the ui uses it: start it on a committed trace, set the
//! viewport, poll, and draw lanes and plots at every zoom level.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gotv::model::query::FOLD_PX;
use gotv::model::{GROUP_STATES, ItemKind, LaneGroup, LaneKey, Series, TimeSpan};
use gotv::worker::{Source, Viewport, Worker};

/// Width of the drawing area the tests pretend to have.
const WIDTH_PX: f32 = 2000.0;

fn start(name: &str) -> (Worker, Arc<AtomicUsize>) {
    let repaints = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&repaints);
    let path = common::repo_root().join("testdata/traces").join(name);
    let worker = Worker::start(Source::File(path), move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    (worker, repaints)
}

fn viewport(worker: &Worker, range: TimeSpan) -> Viewport {
    Viewport {
        range,
        width_px: WIDTH_PX,
        lanes: worker
            .timeline()
            .lanes
            .iter()
            .map(|l| l.key())
            .take(60)
            .collect(),
    }
}

/// Polls (as frames would) until `done`, or fails after a minute.
fn poll_until(worker: &mut Worker, what: &str, done: impl Fn(&Worker) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(worker) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        worker.poll();
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn loads_the_whole_trace_and_draws_every_zoom_level() {
    let (mut worker, repaints) = start("sample.trace");
    poll_until(&mut worker, "the index", |w| {
        !w.timeline().generations.is_empty()
    });
    let whole = worker.timeline().span;
    assert_eq!(worker.timeline().generations.len(), 8);
    worker.set_viewport(viewport(&worker, whole));
    poll_until(&mut worker, "every generation", |w| {
        w.progress().done == w.progress().total && w.timeline().pending == 0
    });
    assert!(
        repaints.load(Ordering::Relaxed) >= 9,
        "the index and each generation woke the ui"
    );
    assert!(worker.errors().is_empty(), "{:?}", worker.errors());

    let timeline = worker.timeline().clone();
    let groups = |g: LaneGroup| timeline.lanes.iter().filter(|l| l.group() == g).count();
    assert!(groups(LaneGroup::Runtime) >= 5, "GC, tasks, three plots");
    assert_eq!(groups(LaneGroup::Procs), 4, "GOMAXPROCS=4");
    assert!(groups(LaneGroup::Threads) >= 4 && groups(LaneGroup::Goroutines) > 1000);
    assert!(
        timeline.lanes.is_sorted_by_key(|l| l.key()),
        "lanes in display order"
    );
    assert!(
        timeline
            .lanes
            .iter()
            .any(|l| timeline.label(l).starts_with("G1 ")
                && timeline.label(l).ends_with("main.main"))
    );

    // Zoomed out: summaries only, bounded per row.
    let ns_per_px = whole.len() as f64 / f64::from(WIDTH_PX);
    let started = Instant::now();
    for lane in &timeline.lanes {
        let mut items = Vec::new();
        worker.lane_items(lane.key(), whole, ns_per_px, &mut items);
        assert!(
            items
                .iter()
                .all(|i| matches!(i.kind, ItemKind::Summary { .. }))
        );
        let rows = items.iter().map(|i| i.row + 1).max().unwrap_or(0);
        assert!(
            items.len() <= rows * (WIDTH_PX as usize + 16),
            "{:?}: {} items",
            lane.key(),
            items.len()
        );
    }
    eprintln!(
        "whole trace, all {} lanes: {:?}",
        timeline.lanes.len(),
        started.elapsed()
    );
    let mut heap = Vec::new();
    worker.plot(Series::HeapAlloc, whole, ns_per_px, &mut heap);
    assert!(!heap.is_empty() && heap.len() <= WIDTH_PX as usize + 1);
    assert!(
        heap.windows(2).all(|w| w[0].t < w[1].t),
        "columns in time order"
    );

    // Zoomed into 2 ms of the busiest generation: full detail, folded.
    let band = timeline.generations[0];
    let zoom = TimeSpan::new(
        band.start + band.len() / 2,
        band.start + band.len() / 2 + 2_000_000,
    );
    worker.set_viewport(viewport(&worker, zoom));
    assert!(worker.timeline().pending > 0, "detail is on its way");
    poll_until(&mut worker, "the detail", |w| w.timeline().pending == 0);
    let ns_per_px = zoom.len() as f64 / f64::from(WIDTH_PX);
    let mut spans = 0;
    let mut items = Vec::new();
    for key in (0..4).map(LaneKey::Proc) {
        items.clear();
        worker.lane_items(key, zoom, ns_per_px, &mut items);
        assert!(
            items
                .iter()
                .all(|i| !matches!(i.kind, ItemKind::Summary { .. })),
            "{key:?} drawn from detail"
        );
        let rows = items.iter().map(|i| i.row + 1).max().unwrap_or(0);
        assert!(items.len() as f64 <= rows as f64 * (f64::from(WIDTH_PX) / FOLD_PX + 2.0));
        spans += items
            .iter()
            .filter(|i| {
                matches!(
                    i.kind,
                    ItemKind::Span {
                        goroutine: Some(_),
                        ..
                    }
                )
            })
            .count();
    }
    assert!(
        spans > 0,
        "Ps ran goroutines in the middle of the first generation"
    );

    // A frame at every zoom from 1 µs to the whole trace stays cheap.
    for len in [1_000, 1_000_000, 100_000_000, whole.len()] {
        let view = TimeSpan::new(zoom.start, zoom.start + len);
        let started = Instant::now();
        let mut items = Vec::new();
        for lane in timeline.lanes.iter().take(60) {
            items.clear();
            worker.lane_items(
                lane.key(),
                view,
                len as f64 / f64::from(WIDTH_PX),
                &mut items,
            );
        }
        eprintln!("60 lanes over {len} ns: {:?}", started.elapsed());
    }
    worker.shutdown();
}

/// The wall clock the timeline gives at each Sync's trace time is the one
/// Go's reader prints for that Sync (`Trace=… Wall=…` in `-d=parsed`).
/// What the worker says the goroutines of each start function do is what
/// their lanes' state spans say: in each generation of the sample, in full
/// detail, where no other generation overlaps it, each bucket's average
/// number of the group's goroutines in a state is the time they spend in
/// it within the bucket over the bucket's length.
#[test]
fn group_activity_is_what_its_goroutines_lanes_say() {
    // Go 1.22 states no stack for goroutines blocked when a generation
    // begins, so its generations leave many of them unnamed.
    for trace in [
        "sample.trace",
        "workload-go1.22.trace",
        "flightrec-go1.27.trace",
    ] {
        group_activity_of(trace);
    }
}

fn group_activity_of(trace: &str) {
    let (mut worker, _) = start(trace);
    poll_until(&mut worker, "the summaries", |w| {
        !w.timeline().generations.is_empty() && w.progress().is_complete()
    });
    let mut members: std::collections::BTreeMap<u32, Vec<LaneKey>> = Default::default();
    for lane in &worker.timeline().lanes {
        if let LaneKey::Goroutine(_) = lane.key() {
            members.entry(lane.name_id()).or_default().push(lane.key());
        }
    }
    members.retain(|_, keys| keys.len() > 1);
    let bands = worker.timeline().generations.clone();
    let mut checked = 0;
    for (g, band) in bands.iter().enumerate() {
        let previous = g.checked_sub(1).and_then(|p| bands.get(p));
        let after_previous = previous.map_or(band.start, |p| p.end.max(band.start));
        let before_next = bands.get(g + 1).map_or(band.end, |n| n.start.min(band.end));
        let own = TimeSpan::new(after_previous, before_next);
        // A billion pixels wide: the generation is wanted in full detail.
        worker.set_viewport(Viewport {
            range: own,
            width_px: 1e9,
            lanes: members.values().flatten().copied().collect(),
        });
        poll_until(&mut worker, "full detail", |w| w.timeline().pending == 0);
        for (&name, keys) in &members {
            let mut buckets = Vec::new();
            worker.group_activity(name, own, &mut buckets);
            // The buckets the view cuts hold the average of the whole.
            let whole = buckets
                .iter()
                .filter(|(b, _)| b.start > own.start && b.end < own.end);
            for (bucket, values) in whole {
                let mut want = [0.0f64; 4];
                for &key in keys {
                    let mut items = Vec::new();
                    worker.lane_items(key, *bucket, 1e-3, &mut items);
                    for item in items.iter().filter(|i| i.row == 0) {
                        let ItemKind::Span { kind, .. } = item.kind else {
                            panic!("{trace} generation {g}: {key:?} is in full detail: {item:?}");
                        };
                        let cut = TimeSpan::new(item.start, item.end).intersect(*bucket);
                        if let Some(k) = GROUP_STATES.iter().position(|&s| s == kind) {
                            want[k] += cut.len() as f64 / bucket.len() as f64;
                        }
                    }
                }
                for (got, want) in values.iter().zip(want) {
                    let close = (f64::from(*got) - want).abs() <= 1e-5 * want.max(1.0);
                    assert!(
                        close,
                        "{trace} generation {g}, group {name}, {bucket:?}: {values:?} vs {want}"
                    );
                }
                checked += 1;
            }
        }
    }
    eprintln!("{trace}: {checked} buckets checked");
    assert!(checked > 100, "{trace}: {checked} buckets checked");
}

#[test]
fn wall_clock_agrees_with_the_clock_snapshots_go_prints() {
    let name = "cpuprofile-go1.27.trace";
    let parsed = common::traces::parsed_text("cpuprofile-go1.27");
    let snapshots: Vec<(i64, String)> = parsed
        .lines()
        .filter(|l| l.contains(" Sync ") && l.contains(" Wall="))
        .filter_map(|l| {
            let field = |k: &str| l.split(' ').find_map(|f| f.strip_prefix(k));
            Some((field("Trace=")?.parse().ok()?, field("Wall=")?.to_owned()))
        })
        .collect();
    assert!(snapshots.len() >= 10, "a snapshot per generation");
    let (mut worker, _) = start(name);
    poll_until(&mut worker, "every generation", |w| {
        let p = w.progress();
        p.total > 0 && p.done == p.total
    });
    for (trace, wall) in &snapshots {
        let unix = worker.timeline().wall_clock(*trace).expect("a wall clock");
        let utc = format!(
            "{}Z",
            gotv::trace::format_wall_clock(unix, 0).replace(' ', "T")
        );
        // Go trims trailing zeros of the fraction.
        let (whole, frac) = utc.trim_end_matches('Z').split_once('.').unwrap();
        let frac = frac.trim_end_matches('0');
        let ours = if frac.is_empty() {
            format!("{whole}Z")
        } else {
            format!("{whole}.{frac}Z")
        };
        assert_eq!(&ours, wall, "Sync at {trace}");
    }
    worker.shutdown();
}

#[test]
fn a_corrupt_generation_is_reported_while_the_others_load() {
    let (mut worker, _) = start("truncated-go1.27.trace");
    poll_until(&mut worker, "the index", |w| {
        !w.timeline().generations.is_empty()
    });
    let total = worker.timeline().generations.len();
    poll_until(&mut worker, "every generation", |w| {
        w.progress().done == total
    });
    let errors = worker.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].generation, Some(total - 1));
    assert!(
        worker
            .timeline()
            .lanes
            .iter()
            .any(|l| matches!(l.key(), LaneKey::Goroutine(_)))
    );
    worker.shutdown();
}

#[test]
fn a_file_that_is_not_a_trace_is_reported() {
    let mut worker = Worker::start(Source::Bytes(b"hello".to_vec()), |_| {});
    poll_until(&mut worker, "the error", |w| !w.errors().is_empty());
    assert_eq!(worker.errors()[0].generation, None);
    assert_eq!(worker.timeline().pending, 0, "nothing left to wait for");
}

/// Peak and current resident set size in MiB, from `/proc/self/status`.
fn rss_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kib| kib >> 10)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Browsing a large trace: `GOTV_BIG_TRACE=/path/to/trace cargo test
/// --release --test model_worker -- --ignored --nocapture` prints how long
/// the index, every summary and a deep zoom take, the RSS, and the cost of
/// a frame at every zoom level.
#[test]
#[ignore = "needs a large trace in GOTV_BIG_TRACE"]
fn browse_a_big_trace() {
    let Some(path) = std::env::var_os("GOTV_BIG_TRACE") else {
        return;
    };
    let started = Instant::now();
    let mut worker = Worker::start(Source::File(path.into()), |_| {});
    poll_until(&mut worker, "the index", |w| {
        !w.timeline().generations.is_empty()
    });
    let whole = worker.timeline().span;
    let gens = worker.timeline().generations.clone();
    eprintln!(
        "index: {:?}, {} generations, {:?} MiB RSS",
        started.elapsed(),
        gens.len(),
        rss_mib()
    );
    worker.set_viewport(viewport(&worker, whole));
    let deadline = Instant::now() + Duration::from_secs(600);
    while worker.progress().done < gens.len() && Instant::now() < deadline {
        worker.poll();
        std::thread::sleep(Duration::from_millis(20));
    }
    let lanes = worker.timeline().lanes.len();
    eprintln!(
        "all summaries: {:?}, {lanes} lanes, (peak, now) {:?} MiB RSS",
        started.elapsed(),
        rss_mib()
    );
    let frame = |worker: &Worker, view: TimeSpan| {
        let t = Instant::now();
        let mut n = 0;
        for lane in worker.timeline().lanes.iter().take(60) {
            let mut items = Vec::new();
            worker.lane_items(
                lane.key(),
                view,
                view.len() as f64 / f64::from(WIDTH_PX),
                &mut items,
            );
            n += items.len();
        }
        (t.elapsed(), n)
    };
    eprintln!("frame, whole trace: {:?}", frame(&worker, whole));
    for g in [gens.len() / 2, gens.len() / 2 + 1, 1] {
        let band = gens[g];
        let zoom = TimeSpan::new(
            band.start + band.len() / 3,
            band.start + band.len() / 3 + 1_000_000,
        );
        let t = Instant::now();
        worker.set_viewport(viewport(&worker, zoom));
        poll_until(&mut worker, "the detail", |w| w.timeline().pending == 0);
        eprintln!(
            "zoom into generation {g}: detail in {:?}, (peak, now) {:?} MiB RSS",
            t.elapsed(),
            rss_mib()
        );
        for len in [1_000, 1_000_000, 100_000_000, 1_000_000_000] {
            eprintln!(
                "  frame over {len} ns: {:?}",
                frame(&worker, TimeSpan::new(zoom.start, zoom.start + len))
            );
        }
    }
    worker.shutdown();
}
