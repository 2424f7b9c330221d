//! The worker thread on the committed real traces: what it sends, in which
//! order.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::thread::{Notifier, run};
use super::{Command, Source, Update};

fn trace(name: &str) -> Source {
    Source::File(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/traces")
            .join(name),
    )
}

/// Runs the worker thread on `source` until every generation is decoded or
/// failed, and every outdated one decoded again (with what was open at its
/// start); returns the updates in arrival order and the repaint count.
fn updates(source: Source) -> (Vec<Update>, usize) {
    let (commands, command_rx) = crossbeam_channel::unbounded();
    let (update_tx, update_rx) = crossbeam_channel::unbounded();
    let repaints = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&repaints);
    let notifier = Notifier {
        updates: update_tx,
        repaint: Box::new(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        }),
        latency: None,
    };
    let thread = std::thread::spawn(move || run((source, Arc::default()), command_rx, notifier));
    let mut got = Vec::new();
    // Generations not decoded yet, or outdated and not decoded again.
    let mut outstanding: Option<std::collections::BTreeSet<usize>> = None;
    while outstanding.as_ref().is_none_or(|o| !o.is_empty()) {
        let Ok(update) = update_rx.recv_timeout(Duration::from_secs(120)) else {
            break;
        };
        let o = outstanding.get_or_insert_default();
        match &update {
            Update::Indexed { bands, .. } => o.extend(0..bands.len()),
            Update::Decoded { generation, .. }
            | Update::Failed {
                generation: Some(generation),
                ..
            } => {
                o.remove(generation);
            }
            Update::Outdated(generation) => {
                o.insert(*generation);
            }
            Update::Failed {
                generation: None, ..
            } => o.clear(),
        }
        got.push(update);
    }
    let _ = commands.send(Command::Shutdown);
    thread.join().unwrap();
    got.extend(update_rx.try_iter());
    (got, repaints.load(Ordering::Relaxed))
}

#[test]
fn bands_come_first_then_every_generation() {
    let (updates, repaints) = updates(trace("sample.trace"));
    let Some(Update::Indexed { bands, .. }) = updates.first() else {
        panic!("the index comes first")
    };
    assert_eq!(bands.len(), 8);
    assert_eq!(repaints, updates.len(), "every update wakes the ui");
    let (mut decoded, mut outdated) = (vec![0; bands.len()], vec![0; bands.len()]);
    for update in &updates[1..] {
        if let Update::Outdated(generation) = update {
            assert_eq!(decoded[*generation], 1, "outdated once decoded");
            outdated[*generation] += 1;
            continue;
        }
        let Update::Decoded {
            generation,
            summary,
            detail,
        } = update
        else {
            panic!("no failures expected")
        };
        assert!(detail.is_none(), "detail only when wanted");
        let summary = summary
            .as_ref()
            .expect("a summary-only decode makes the summary");
        // Once, and again if it was outdated: built before what was open
        // at its start was known.
        decoded[*generation] += 1;
        assert_eq!(decoded[*generation], 1 + outdated[*generation]);
        assert_eq!(
            bands[*generation].start,
            summary.span().start,
            "estimated band starts exactly at the first event"
        );
        // Go's generations overlap by a few milliseconds: a band ends where
        // the next one starts, before the generation's last event.
        let (band, total) = (bands[*generation], bands[7].end - bands[0].start);
        assert!(
            (summary.span().end - band.end).abs() < total / 50,
            "{band:?} vs {:?}",
            summary.span()
        );
    }
    assert!(decoded.iter().all(|&d| d > 0));
    assert!(
        outdated.iter().all(|&o| o <= 1),
        "outdated at most once: {outdated:?}"
    );
}

#[test]
fn a_broken_generation_is_reported_and_the_others_load() {
    let (updates, _) = updates(trace("truncated-go1.27.trace"));
    let Some(Update::Indexed { bands, .. }) = updates.first() else {
        panic!("the index comes first")
    };
    let failed: Vec<usize> = updates
        .iter()
        .filter_map(|u| match u {
            Update::Failed {
                generation,
                message,
            } => {
                assert!(
                    message.contains("truncated") || message.contains("batch"),
                    "{message}"
                );
                *generation
            }
            _ => None,
        })
        .collect();
    let mut decoded: Vec<usize> = updates
        .iter()
        .filter_map(|u| match u {
            Update::Decoded { generation, .. } => Some(*generation),
            _ => None,
        })
        .collect();
    decoded.sort_unstable();
    decoded.dedup();
    let decoded = decoded.len();
    assert_eq!(
        failed,
        [bands.len() - 1],
        "the last generation is cut short"
    );
    assert_eq!(decoded, bands.len() - 1);
    assert!(decoded >= 5);
}

#[test]
fn unreadable_input_is_reported() {
    let (updates, _) = updates(Source::Bytes(b"not a trace".to_vec()));
    assert!(matches!(
        updates.as_slice(),
        [Update::Failed {
            generation: None,
            ..
        }]
    ));
    let (updates, _) = updates_of_missing_file();
    assert!(
        matches!(updates.as_slice(), [Update::Failed { generation: None, message }] if message.contains("cannot read"))
    );
}

fn updates_of_missing_file() -> (Vec<Update>, usize) {
    updates(Source::File(PathBuf::from("/nonexistent/gotv.trace")))
}

#[test]
fn corrupted_bytes_are_reported_per_generation_without_panics() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/traces/workload-go1.27.trace");
    let original = std::fs::read(path).unwrap();
    for seed in 1..40usize {
        let mut bytes = original.clone();
        for k in 0..4 {
            let at = 32 + (seed * 7919 + k * 104_729) % (bytes.len() - 32);
            bytes[at] ^= 0x5a ^ (seed as u8);
        }
        let (updates, _) = updates(Source::Bytes(bytes));
        for u in &updates {
            if let Update::Failed { message, .. } = u {
                assert!(
                    !message.contains("failed on this generation"),
                    "seed {seed}: a panic: {message}"
                );
            }
        }
        if let Some(Update::Indexed { bands, .. }) = updates.first() {
            let mut per_generation: Vec<usize> = updates
                .iter()
                .filter_map(|u| match u {
                    Update::Decoded { generation, .. }
                    | Update::Failed {
                        generation: Some(generation),
                        ..
                    } => Some(*generation),
                    _ => None,
                })
                .collect();
            per_generation.sort_unstable();
            per_generation.dedup();
            let per_generation = per_generation.len();
            assert_eq!(
                per_generation,
                bands.len(),
                "seed {seed}: every generation is accounted for"
            );
        }
    }
}

/// Polls `worker` until `done` holds (or two minutes pass).
fn poll_until(worker: &mut super::Worker, mut done: impl FnMut(&super::Worker) -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        worker.poll();
        if done(worker) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn span_details_load_the_generation_they_need() {
    use super::{SpanQuery, Viewport, Worker};
    use crate::model::LaneKey;
    let bytes = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/traces/sample.trace"),
    )
    .unwrap();
    let mut worker = Worker::start(Source::Bytes(bytes), |_| {});
    assert!(poll_until(&mut worker, |w| !w
        .timeline()
        .generations
        .is_empty()));
    // Zoomed out: summaries only, no generation wanted in full detail.
    let viewport = Viewport {
        range: worker.timeline().span,
        width_px: 100.0,
        lanes: vec![LaneKey::Goroutine(1)],
    };
    worker.set_viewport(viewport.clone());
    assert!(poll_until(&mut worker, |w| {
        w.progress().done == w.progress().total
    }));
    let band = worker.timeline().generations[2];
    let t = band.start / 2 + band.end / 2;
    let lane = LaneKey::Goroutine(1);
    assert_eq!(worker.span_details(lane, 0, t), SpanQuery::Loading);
    // The ui sets the viewport every frame; the asked-for generation is
    // then decoded in full detail though the view does not need it.
    worker.set_viewport(viewport);
    assert!(poll_until(&mut worker, |w| {
        w.span_details(lane, 0, t) != SpanQuery::Loading
    }));
    let SpanQuery::Ready(details) = worker.span_details(lane, 0, t) else {
        panic!("G1 is in some state at {t}");
    };
    assert_eq!(details.goroutine, Some(1));
    assert!(details.start <= t);
    assert_eq!(worker.span_details(lane, 99, t), SpanQuery::Unknown);
}

/// The latency analyses sent before the first summary on `source`, with
/// the analyses first or not.
fn analyses_before_the_first_summary(source: Source, first: bool) -> usize {
    let (commands, command_rx) = crossbeam_channel::unbounded();
    let (update_tx, update_rx) = crossbeam_channel::unbounded();
    let (latency_tx, latency_rx) = crossbeam_channel::unbounded();
    let floor = Arc::new(crate::analysis::OutlierFloor::default());
    let notifier = Notifier {
        updates: update_tx,
        repaint: Box::new(|_| {}),
        latency: Some((latency_tx, floor)),
    };
    // Sent before the thread starts: applied before any job.
    commands.send(Command::AnalysesFirst(first)).unwrap();
    let thread = std::thread::spawn(move || run((source, Arc::default()), command_rx, notifier));
    let before = loop {
        match update_rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Update::Decoded { .. }) => break latency_rx.len(),
            Ok(_) => {}
            Err(e) => panic!("no summary came: {e}"),
        }
    };
    let _ = commands.send(Command::Shutdown);
    thread.join().unwrap();
    before
}

#[test]
fn analyses_come_first_when_asked_from_the_first_job_on() {
    // With fewer decode threads than generations, a summary starts only
    // once every analysis is handed out, by a thread that finished one:
    // its analysis is in before the summary. Otherwise the first summary
    // finishes before any analysis starts.
    // (With as many threads as generations, both kinds start at once.)
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let generations = 8;
    if threads >= generations {
        eprintln!("not checked: {threads} threads, {generations} generations");
        return;
    }
    let sample = || trace("sample.trace");
    assert!(analyses_before_the_first_summary(sample(), true) >= 1);
    assert_eq!(analyses_before_the_first_summary(sample(), false), 0);
}

/// A generation decoded in detail before what was open at its start was
/// known, and found outdated while another detail decode runs (so that it
/// is summarised again without its detail), is decoded in detail again
/// with what was open: the ui drops the outdated detail and tells the
/// worker, and the view still wants it.
#[test]
fn an_outdated_detail_is_decoded_again_with_what_was_open() {
    use super::schedule::Schedule;
    use super::store::Store;
    use crate::model::{AnnotationEdges, TimeSpan, build};
    let bands = vec![TimeSpan::new(0, 100), TimeSpan::new(100, 200)];
    let (mut schedule, mut store) = (Schedule::new(vec![10; 2]), Store::default());
    store.apply(Update::Indexed {
        bands: bands.clone(),
        sizes: vec![10; 2],
    });
    // The ui's side: what it tells the worker of each update.
    let mut deliver = |schedule: &mut Schedule, update: Update| {
        for command in store.apply(update) {
            if let Command::Evicted(g) = command {
                schedule.evicted(g);
            }
        }
    };
    let decoded = |generation: usize| Update::Decoded {
        generation,
        summary: Some(Box::new(build(std::iter::empty()).summarize())),
        detail: Some(Box::new(build(std::iter::empty()))),
    };
    schedule.set_wants(vec![1, 0], vec![(1, bands[1]), (0, bands[0])]);
    let detail_1 = schedule.next().expect("generation 1 in detail");
    let summary_0 = schedule.next().expect("generation 0 meanwhile");
    assert_eq!((detail_1.generation, detail_1.open.is_some()), (1, false));
    assert_eq!((summary_0.generation, summary_0.detail), (0, None));
    // Generation 0 leaves a region open into generation 1.
    let opening = AnnotationEdges::opening(7, 5, "request");
    schedule.finish(&summary_0, Some(opening));
    let finished = schedule.finish(&detail_1, Some(AnnotationEdges::default()));
    assert_eq!(finished.outdated, [1]);
    deliver(&mut schedule, decoded(1));
    deliver(&mut schedule, Update::Outdated(1));
    // Generation 0's detail runs while generation 1 is built again.
    let detail_0 = schedule.next().expect("generation 0 in detail");
    let again_1 = schedule.next().expect("generation 1 again");
    assert_eq!((again_1.generation, again_1.detail), (1, None));
    schedule.finish(&again_1, Some(AnnotationEdges::default()));
    schedule.finish(&detail_0, Some(AnnotationEdges::default()));
    let job = schedule.next().expect("generation 1's detail again");
    let open = job.open.as_ref().map(|open| open.is_empty());
    assert_eq!(
        (job.generation, job.detail, open),
        (1, Some(bands[1]), Some(false))
    );
}
