//! The background scans behind the filter's `stack:`, `state:`, `parent:`,
//! `region:` and `task:` terms.
//!
//! Those terms cannot be answered from the lanes: `stack:` needs every
//! stack of the trace (`super::stack_scan`), `state:` the decoded
//! generation holding its time (`super::state_scan`), `parent:` every
//! goroutine creation, `region:` and `task:` every user annotation
//! (`super::annotation_scan`). Each runs on its own
//! thread, which reads the same bytes the session shows (the bundled
//! sample, or the file mapped again, handing each generation back to the
//! OS once read) and sends the goroutine set back through a channel,
//! waking the window.
//!
//! [`FilterScans`] lives with the session, so replacing the trace drops
//! its scans. Each frame it compares what the filter asks for with what is
//! running: a scan whose terms are no longer asked for is dropped, which
//! sets its cancel flag (the thread stops at its next event); a new request
//! starts a scan; a finished scan's set goes into the filter, where every
//! view of the goroutines (lanes, panels) reads it.

use std::collections::HashSet;
use std::ops::{ControlFlow, Range};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, TryRecvError};

use super::annotation_scan::{AnnotationMatcher, AnnotationQuery};
use super::axis::format_duration;
use super::filter::GoroutineFilter;
use super::open::{TraceFile, with_trace};
use super::stack_scan::{FramePattern, StackMatcher};
use super::state_scan::{self, StateQuery};
use crate::trace::{Event, GoId, GoState, Time, Trace, Transition};

/// How often the filter bar's progress is redrawn while a scan runs: often
/// enough to look alive, rarely enough to cost nothing.
const PROGRESS_REFRESH: Duration = Duration::from_millis(200);

/// What a scan answers: the goroutines selected, or why it could not.
pub(crate) type ScanResult = Result<HashSet<GoId>, String>;

/// Cancellation and progress shared between a scan and its owner.
#[derive(Default)]
struct Control {
    cancel: AtomicBool,
    /// Percent of the trace's time range read.
    percent: AtomicU8,
}

/// One scan running on its own thread.
struct ScanTask {
    rx: Receiver<ScanResult>,
    control: Arc<Control>,
}

impl ScanTask {
    /// Runs `job` on the trace of `source` (with its index) on a thread;
    /// `wake` is called when its result is in.
    fn start(
        (source, index): TraceFile<'_>,
        wake: impl FnOnce() + Send + 'static,
        job: impl FnOnce(&Trace<'_>, &Control) -> ScanResult + Send + 'static,
    ) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let control = Arc::new(Control::default());
        let (shared, source, index) = (Arc::clone(&control), source.clone(), Arc::clone(index));
        thread::spawn(move || {
            let result = with_trace(&source, &index, |trace| job(trace, &shared)).and_then(|r| r);
            if !shared.cancel.load(Ordering::Relaxed) && tx.send(result).is_ok() {
                wake();
            }
        });
        Self { rx, control }
    }
}

impl Drop for ScanTask {
    fn drop(&mut self) {
        self.control.cancel.store(true, Ordering::Relaxed);
    }
}

/// The filter's scans of the trace on screen.
#[derive(Default)]
pub(crate) struct FilterScans {
    /// Matching the stack patterns.
    stack: Option<(Vec<String>, ScanTask)>,
    /// The state query, at its absolute time.
    state: Option<((StateQuery, Time), ScanTask)>,
    /// The goroutine whose children are looked for.
    parent: Option<(GoId, ScanTask)>,
    /// The region or task type looked for.
    annotation: Option<(AnnotationQuery, ScanTask)>,
}

impl FilterScans {
    /// Starts the scans `filter` asks for, drops those it no longer asks
    /// for, and hands it the results that came in. `origin` is the
    /// absolute time the filter's times count from; `ctx` is woken when a
    /// result arrives.
    pub(crate) fn update(
        &mut self,
        filter: &mut GoroutineFilter,
        file: TraceFile<'_>,
        origin: Time,
        ctx: &egui::Context,
    ) {
        let wake = || {
            let ctx = ctx.clone();
            move || ctx.request_repaint()
        };
        let stack = filter.stack_request().map(<[String]>::to_vec);
        if let Some((key, result)) = sync(&mut self.stack, stack, |key| {
            let patterns = key.clone();
            ScanTask::start(file, wake(), move |trace, control| {
                scan_stacks(trace, &patterns, control)
            })
        }) {
            filter.set_stack_matches(key, result);
        }
        let state = filter.state_request(origin);
        if let Some((key, result)) = sync(&mut self.state, state, |key| {
            let (query, at) = key.clone();
            ScanTask::start(file, wake(), move |trace, control| {
                state_scan::goroutines_in_state(trace, &query, at, &control.cancel)
            })
        }) {
            filter.set_state_matches(key, result);
        }
        let parent = filter.parent_request();
        if let Some((key, result)) = sync(&mut self.parent, parent, |&parent| {
            ScanTask::start(file, wake(), move |trace, control| {
                scan_children(trace, parent, control)
            })
        }) {
            filter.set_parent_matches(key, result);
        }
        let annotation = filter.annotation_request().cloned();
        if let Some((key, result)) = sync(&mut self.annotation, annotation, |query| {
            let mut matcher = AnnotationMatcher::new(query.clone());
            ScanTask::start(file, wake(), move |trace, control| {
                each_event(trace, control, |ev| matcher.event(ev))?;
                Ok(matcher.finish())
            })
        }) {
            filter.set_annotation_matches(key, result);
        }
        if self.running() {
            ctx.request_repaint_after(PROGRESS_REFRESH);
        }
    }

    /// Whether any scan is running.
    fn running(&self) -> bool {
        self.stack.is_some()
            || self.state.is_some()
            || self.parent.is_some()
            || self.annotation.is_some()
    }

    /// How far the stack scan is, in percent, while it runs.
    pub(crate) fn stack_progress(&self) -> Option<u8> {
        let (_, task) = self.stack.as_ref()?;
        Some(task.control.percent.load(Ordering::Relaxed))
    }
}

/// Draws, right to left after the filter's text field, what the filter's
/// terms found: errors, each scan's progress or count, and how many
/// goroutines the whole filter shows (`shown`, when it is active).
pub(crate) fn status_ui(
    ui: &mut egui::Ui,
    filter: &GoroutineFilter,
    scans: Option<&FilterScans>,
    shown: Option<usize>,
) {
    let mut notes = status(filter, scans);
    if let Some(n) = shown {
        let matches = match n {
            1 => "1 goroutine matches".to_owned(),
            n => format!("{n} goroutines match"),
        };
        notes.push((matches, false));
    }
    for (text, error) in notes.into_iter().rev() {
        if error {
            ui.colored_label(ui.visuals().error_fg_color, text);
        } else {
            ui.weak(text);
        }
    }
}

/// What the filter's scan terms found, in words, each with whether it is
/// an error: a term left out, a scan's progress, its count or failure.
fn status(filter: &GoroutineFilter, scans: Option<&FilterScans>) -> Vec<(String, bool)> {
    let mut notes = Vec::new();
    if let Some(error) = filter.error() {
        notes.push((error.to_owned(), true));
    }
    if let Some(found) = filter.stack_status() {
        notes.push(match found {
            None => {
                let percent = scans.and_then(FilterScans::stack_progress).unwrap_or(0);
                (format!("scanning stacks… {percent}%"), false)
            }
            Some(Ok(n)) => (format!("stack: {n} goroutines"), false),
            Some(Err(e)) => (format!("stack scan failed: {e}"), true),
        });
    }
    if let Some((query, found)) = filter.state_status() {
        let state = query.state.name().to_lowercase();
        let reason = query
            .reason
            .as_deref()
            .map_or(String::new(), |r| format!(" ({r})"));
        let at = format_duration(query.at as f64);
        notes.push(match found {
            None => (
                format!("finding {state}{reason} goroutines at {at}…"),
                false,
            ),
            Some(Ok(n)) => (format!("{state}{reason} at {at}: {n} goroutines"), false),
            Some(Err(e)) => (format!("state scan failed: {e}"), true),
        });
    }
    if let Some((query, found)) = filter.annotation_status() {
        let (kind, text) = (query.kind(), &query.text);
        notes.push(match found {
            None => (format!("finding goroutines in {kind}s \"{text}\"…"), false),
            Some(Ok(n)) => (format!("{kind} {text}: {n} goroutines"), false),
            Some(Err(e)) => (format!("{kind} scan failed: {e}"), true),
        });
    }
    if let Some((parent, found)) = filter.parent_status() {
        notes.push(match found {
            None => (format!("finding the goroutines G{parent} created…"), false),
            Some(Ok(n)) => (format!("G{parent} created {n} goroutines"), false),
            Some(Err(e)) => (format!("parent scan failed: {e}"), true),
        });
    }
    notes
}

/// Brings `slot` in line with the request `want`: drops a scan for
/// anything else, starts one for `want`, and returns the scan's key and
/// result once it is in (emptying the slot).
fn sync<K: PartialEq>(
    slot: &mut Option<(K, ScanTask)>,
    want: Option<K>,
    start: impl FnOnce(&K) -> ScanTask,
) -> Option<(K, ScanResult)> {
    if slot.as_ref().map(|(key, _)| key) != want.as_ref() {
        *slot = want.map(|key| {
            let task = start(&key);
            (key, task)
        });
        return None;
    }
    let result = match slot.as_ref()?.1.rx.try_recv() {
        Ok(result) => result,
        Err(TryRecvError::Empty) => return None,
        Err(TryRecvError::Disconnected) => Err("the scan stopped unexpectedly".to_owned()),
    };
    slot.take().map(|(key, _)| (key, result))
}

/// The goroutines with a frame matching every one of `patterns` (each
/// valid, as the filter checked), reporting progress through `control`.
/// A damaged trace gives the matches before the damage, as the analysis
/// does; the status bar says the trace is damaged.
fn scan_stacks(trace: &Trace<'_>, patterns: &[String], control: &Control) -> ScanResult {
    let patterns = patterns
        .iter()
        .map(|p| FramePattern::parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut matcher = StackMatcher::new(patterns);
    each_event(trace, control, |ev| matcher.event(ev))?;
    Ok(matcher.finish())
}

/// Runs `f` on every event of `trace` in order, reporting progress through
/// `control` and stopping when it is cancelled (an error then). A damaged
/// trace stops at the damage, which is no error here.
fn each_event(
    trace: &Trace<'_>,
    control: &Control,
    mut f: impl FnMut(&Event<'_>),
) -> Result<(), String> {
    let span = time_span(trace);
    let _ = trace.try_for_each_event(|ev| {
        if control.cancel.load(Ordering::Relaxed) {
            return ControlFlow::Break(());
        }
        control
            .percent
            .store(percent(&span, ev.time()), Ordering::Relaxed);
        f(&ev);
        ControlFlow::Continue(())
    });
    match control.cancel.load(Ordering::Relaxed) {
        true => Err("cancelled".to_owned()),
        false => Ok(()),
    }
}

/// The goroutines `parent` created: those that come into existence
/// (leave `NotExist`) through an event of `parent`, as the side panel's
/// "created by" link says. A damaged trace gives those before the damage.
fn scan_children(trace: &Trace<'_>, parent: GoId, control: &Control) -> ScanResult {
    let mut children = HashSet::new();
    each_event(trace, control, |ev| {
        if ev.goroutine() == parent
            && let Some(Transition::Goroutine { id, from, .. }) =
                ev.state_transition().map(|st| st.transition)
            && from == GoState::NotExist
            && id != parent
        {
            children.insert(id);
        }
    })?;
    Ok(children)
}

/// From the start of the first generation to the last one's last batch.
fn time_span(trace: &Trace<'_>) -> Range<Time> {
    let mut ranges = trace
        .index()
        .generations
        .iter()
        .filter_map(|g| g.time_range());
    let first = ranges.next().unwrap_or_default();
    let last = ranges.next_back().unwrap_or(first);
    first.0..last.1
}

/// How far `t` is into `span`, in percent (0 to 100).
fn percent(span: &Range<Time>, t: Time) -> u8 {
    let len = (span.end - span.start).max(1) as f64;
    let done = ((t - span.start) as f64 / len).clamp(0.0, 1.0);
    (done * 100.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::open::Source;
    use std::path::PathBuf;

    fn workload() -> Source {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        Source::File(dir.join("testdata/traces/workload-go1.27.trace"))
    }

    fn run(source: &Source, key: Vec<String>) -> ScanResult {
        let (woke, woken) = crossbeam_channel::bounded(1);
        let patterns = key.clone();
        let mut slot = None;
        let start = |_: &Vec<String>| {
            ScanTask::start(
                (source, &Arc::default()),
                move || {
                    let _ = woke.send(());
                },
                move |trace, control| scan_stacks(trace, &patterns, control),
            )
        };
        assert!(sync(&mut slot, Some(key.clone()), start).is_none());
        assert!(woken.recv_timeout(Duration::from_secs(60)).is_ok());
        let done = sync(&mut slot, Some(key.clone()), |_| unreachable!());
        assert!(slot.is_none(), "a finished scan leaves the slot");
        let Some((done_key, result)) = done else {
            panic!("the result is in after the wake");
        };
        assert_eq!(done_key, key);
        result
    }

    #[test]
    fn scans_a_file_off_thread() {
        let found = run(&workload(), vec!["sync.(*Mutex).Lock".to_owned()]);
        assert!(found.is_ok_and(|set| !set.is_empty()));
    }

    #[test]
    fn a_missing_file_fails_in_words() {
        let source = Source::File("/nonexistent/gotv.trace".into());
        let found = run(&source, vec!["x".to_owned()]);
        assert!(found.is_err_and(|e| e.contains("Cannot read")));
    }

    #[test]
    fn a_changed_request_cancels_the_running_scan() {
        let mut slot = None;
        let index = Arc::default();
        let file = (&Source::Bundled, &index);
        let start = |_: &u8| ScanTask::start(file, || {}, |_, _| Ok(HashSet::new()));
        assert!(sync(&mut slot, Some(1), start).is_none());
        let control = slot.as_ref().map(|(_, t)| Arc::clone(&t.control));
        assert!(sync(&mut slot, None, start).is_none());
        assert!(slot.is_none());
        assert!(control.is_some_and(|c| c.cancel.load(Ordering::Relaxed)));
    }

    #[test]
    fn the_status_says_what_each_term_found() {
        let mut filter = GoroutineFilter::default();
        filter.set_text("stack:lock state:waiting:chan@1.5s stack:/a(/");
        let notes = status(&filter, None);
        let texts: Vec<&str> = notes.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "invalid regex /a(/: error: unclosed group",
                "scanning stacks… 0%",
                "finding waiting (chan) goroutines at 1.50 s…",
            ]
        );
        assert!(notes[0].1, "an error is an error");
        filter.set_stack_matches(vec!["lock".to_owned()], Ok(HashSet::from([1, 2])));
        let key = filter.state_request(10);
        assert_eq!(key.as_ref().map(|k| k.1), Some(1_500_000_010));
        if let Some(key) = key {
            filter.set_state_matches(key, Err("broken".to_owned()));
        }
        let notes = status(&filter, None);
        assert_eq!(notes[1], ("stack: 2 goroutines".to_owned(), false));
        assert_eq!(notes[2], ("state scan failed: broken".to_owned(), true));
    }

    #[test]
    fn progress_is_a_clamped_percentage() {
        assert_eq!(percent(&(100..300), 200), 50);
        assert_eq!(percent(&(100..300), 50), 0);
        assert_eq!(percent(&(100..300), 400), 100);
        assert_eq!(percent(&(5..5), 5), 0);
    }
}
