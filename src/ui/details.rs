//! What the user learns about one span: the hover tooltip and the side panel
//! of the selected span.
//!
//! Draw items borrow the worker's data for one frame, so what the pointer is
//! on is copied into a [`Picked`] (a few strings, once per frame at most):
//! the selection must survive the next decode, eviction or reload.
//!
//! The side panel asks the worker for the rest each frame
//! ([`Worker::span_details`]): the stack of the event that began the span,
//! and the goroutine, P, M and unblocking goroutine involved, as links to
//! their lanes. The worker answers from cached full detail only, so after
//! an eviction the panel says "loading" for the frames it takes to decode
//! the generation again, and the ui thread never waits.

use std::path::Path;

use egui::RichText;

use super::axis::format_duration;
use super::editor;
use super::wake_chain::{Chain, Hop, STATES_ROW};
use crate::model::{DrawItem, ItemKind, LaneKey, SpanDetails, SpanKind, StackFrame, Timeline};
use crate::worker::{SpanQuery, Worker};

/// Space around a span zoomed to (double-click), as a fraction of its
/// length on each side: enough to see what came before and after it.
const ZOOM_MARGIN: f64 = 0.1;

/// Smallest margin around a zoomed-to span, in nanoseconds, so an instant
/// (a log message, a CPU sample) gets a window too.
const MIN_ZOOM_MARGIN_NS: f64 = 500.0;

/// A draw item, copied out of the frame that drew it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Picked {
    /// The lane it is on.
    pub(crate) lane: LaneKey,
    /// Row within the lane.
    pub(crate) row: usize,
    /// First nanosecond (absolute trace time).
    pub(crate) start: i64,
    /// First nanosecond after (equal to `start` for instants).
    pub(crate) end: i64,
    /// What it shows.
    pub(crate) what: What,
}

/// What a [`Picked`] item shows.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum What {
    /// One span.
    Span {
        /// Its kind.
        kind: SpanKind,
        /// Start function, reason, region or task type, message; may be empty.
        label: String,
        /// The goroutine it belongs to or runs.
        goroutine: Option<i64>,
        /// Aggregated count (GC rows, merged tasks), 0 otherwise.
        count: u32,
    },
    /// A fold block of this many spans.
    Fold(usize),
    /// A summary bucket.
    Summary {
        /// The kind covering most of it.
        kind: SpanKind,
        /// Busy fraction.
        busy: f32,
        /// Fraction covered by any span.
        covered: f32,
        /// Spans starting in it.
        count: u32,
    },
}

impl Picked {
    /// Copies `item` of lane `lane`.
    pub(crate) fn new(lane: LaneKey, item: &DrawItem<'_>) -> Self {
        let what = match item.kind {
            ItemKind::Span {
                kind,
                label,
                goroutine,
                count,
                ..
            } => What::Span {
                kind,
                label: label.to_owned(),
                goroutine,
                count,
            },
            ItemKind::Fold { count } => What::Fold(count),
            ItemKind::Summary {
                kind,
                busy,
                covered,
                count,
            } => What::Summary {
                kind,
                busy,
                covered,
                count,
            },
        };
        Self {
            lane,
            row: item.row,
            start: item.start,
            end: item.end,
            what,
        }
    }

    /// The same span over its whole extent, and with its label, as
    /// `details` (the answer about it) gives them, where that is more than
    /// what was picked: an interval of the outliers table may outlast the
    /// generation that answers about it (see `analysis::stitch`).
    pub(crate) fn whole(&self, details: &SpanDetails) -> Picked {
        let mut what = self.what.clone();
        // A fold block or summary bucket is not one span; an interval of
        // the outliers table picked on its goroutine's lane is answered
        // with that goroutine's state then, another kind of span.
        let What::Span { kind, label, .. } = &mut what else {
            return self.clone();
        };
        if details.kind != Some(*kind) {
            return self.clone();
        }
        // The part of a wait in a generation after the one it began in
        // does not know its reason (see `SpanDetails::joined`).
        if label.is_empty() {
            label.clone_from(&details.label);
        }
        Picked {
            start: self.start.min(details.start),
            end: self.end.max(details.end),
            what,
            ..self.clone()
        }
    }

    /// The range to show when zooming to it, relative to `origin`.
    pub(crate) fn zoom_range(&self, origin: i64) -> (f64, f64) {
        let (start, end) = ((self.start - origin) as f64, (self.end - origin) as f64);
        let margin = ((end - start) * ZOOM_MARGIN).max(MIN_ZOOM_MARGIN_NS);
        (start - margin, end + margin)
    }

    /// The goroutine it belongs to or runs, if it is a span.
    fn goroutine(&self) -> Option<i64> {
        match self.what {
            What::Span { goroutine, .. } => goroutine,
            _ => None,
        }
    }

    /// One line naming it: `waiting: chan receive`, `37 spans`, ….
    pub(crate) fn title(&self) -> String {
        match &self.what {
            What::Span { kind, label, .. } if label.is_empty() || is_function(*kind, self.lane) => {
                kind.name().to_owned()
            }
            What::Span { kind, label, .. } => format!("{}: {label}", kind.name()),
            What::Fold(count) => format!("{count} spans (zoom in to see them)"),
            // A P idle but for a few short runs is not "mostly running".
            What::Summary { kind, covered, .. } if *covered < 0.5 => {
                format!("mostly empty, some {}", kind.name())
            }
            What::Summary { kind, .. } => format!("mostly {}", kind.name()),
        }
    }
}

/// Whether a span's label names a function rather than a reason or type.
fn is_function(kind: SpanKind, lane: LaneKey) -> bool {
    match kind {
        SpanKind::Running | SpanKind::Syscall => {
            matches!(lane, LaneKey::Proc(_) | LaneKey::Thread(_))
        }
        SpanKind::CpuSample => true,
        _ => false,
    }
}

/// What the label of a span of `kind` on `lane` is, for the details grid.
fn label_caption(kind: SpanKind, lane: LaneKey) -> &'static str {
    match kind {
        _ if is_function(kind, lane) => "Function",
        SpanKind::Region => "Region",
        SpanKind::Task => "Task",
        SpanKind::Log => "Message",
        _ => "Reason",
    }
}

/// The start function of goroutine `id`, as its lane names it.
pub(crate) fn start_function(timeline: &Timeline, id: i64) -> Option<&str> {
    timeline.lane_name(timeline.lane(LaneKey::Goroutine(id))?)
}

/// `G42 main.worker`, or `G42` without a known start function.
fn goroutine_text(timeline: &Timeline, id: i64) -> String {
    match start_function(timeline, id) {
        Some(name) => format!("G{id} {name}"),
        None => format!("G{id}"),
    }
}

/// A point in time, relative to the trace start, to the nanosecond.
fn format_instant(ns: f64) -> String {
    format!("{:.9} s", ns / 1e9)
}

/// The rows of the details grid: (caption, value). The goroutine, P and M
/// are links below it.
fn facts(
    picked: &Picked,
    origin: i64,
    (began_before, goes_on): (bool, bool),
) -> Vec<(&'static str, String)> {
    let mut rows = vec![("Lane", picked.lane.label(None))];
    match &picked.what {
        What::Span {
            kind, label, count, ..
        } => {
            rows.push(("Kind", kind.name().to_owned()));
            if !label.is_empty() {
                rows.push((label_caption(*kind, picked.lane), label.clone()));
            }
            if *count > 1 {
                rows.push(("At most at once", count.to_string()));
            }
        }
        What::Fold(count) => rows.push(("Spans", count.to_string())),
        What::Summary {
            kind,
            busy,
            covered,
            count,
        } => {
            rows.push(("Mostly", kind.name().to_owned()));
            rows.push(("Busy", percent(*busy)));
            rows.push(("Covered", percent(*covered)));
            rows.push(("Spans", count.to_string()));
        }
    }
    // Where only part of the span is known, its extent is a bound.
    let (before, after) = (bound(began_before, "before "), bound(goes_on, "after "));
    let start = (picked.start - origin) as f64;
    rows.push(("Start", format!("{before}{}", format_instant(start))));
    if picked.end > picked.start || goes_on {
        let end = format_instant((picked.end - origin) as f64);
        let more = bound(began_before || goes_on, "more than ");
        let duration = format_duration((picked.end - picked.start) as f64);
        rows.push(("End", format!("{after}{end}")));
        rows.push(("Duration", format!("{more}{duration}")));
    }
    rows
}

/// Whether the start and the end `shown` (the picked span made
/// [whole](Picked::whole) with `answer`) are bounds: where the answer, not
/// the picked interval (an outlier knows its whole extent), gives them and
/// says the span goes on beyond.
fn bounds(shown: &Picked, answer: &SpanDetails) -> (bool, bool) {
    (
        answer.began_before && answer.start == shown.start,
        answer.goes_on && answer.end == shown.end,
    )
}

/// `text` if `partly`, else nothing.
fn bound(partly: bool, text: &str) -> &str {
    if partly { text } else { "" }
}

/// `fraction` (0.0..=1.0) as a percentage, `< 1 %` rather than `0 %` for
/// a little.
fn percent(fraction: f32) -> String {
    match fraction * 100.0 {
        p if p > 0.0 && p < 0.5 => "< 1 %".to_owned(),
        p => format!("{p:.0} %"),
    }
}

/// The hover tooltip of `picked`.
pub(crate) fn tooltip(ui: &mut egui::Ui, picked: &Picked, timeline: &Timeline, origin: i64) {
    ui.strong(picked.title());
    if let What::Span {
        goroutine: Some(g), ..
    } = picked.what
    {
        ui.label(goroutine_text(timeline, g));
    }
    let start = (picked.start - origin) as f64;
    if picked.end > picked.start {
        ui.label(format!(
            "{} at {}",
            format_duration((picked.end - picked.start) as f64),
            format_duration(start)
        ));
    } else {
        ui.label(format!("at {}", format_instant(start)));
    }
}

/// What the user asked for in the side panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PanelAction {
    /// Zoom the view to the span.
    Zoom,
    /// Scroll this lane into view (the goroutine a P or M ran).
    Reveal(LaneKey),
    /// Scroll this lane into view and centre the view on this absolute
    /// time (the goroutine that unblocked the span, when it did).
    RevealAt(LaneKey, i64),
    /// Filter the goroutines down to those this one created.
    ShowChildren(i64),
    /// Close the panel (clear the selection).
    Close,
}

/// What the worker knows of `picked` beyond its draw item: `None` for
/// fold blocks and summary buckets, which are not one span.
pub(crate) fn query(worker: &Worker, picked: &Picked) -> Option<SpanQuery> {
    // The worker would answer about the goroutine's state then.
    let span = matches!(picked.what, What::Span { .. }) && off_its_row(picked).is_none();
    span.then(|| worker.span_details(picked.lane, picked.row, picked.start))
}

/// The kind of `picked` if it is a region or task of the outliers table
/// picked on its goroutine's row of states (not the row that draws it),
/// with the goroutine.
fn off_its_row(picked: &Picked) -> Option<(SpanKind, i64)> {
    match (&picked.what, picked.lane, picked.row) {
        (
            What::Span {
                kind: kind @ (SpanKind::Region | SpanKind::Task),
                ..
            },
            LaneKey::Goroutine(g),
            STATES_ROW,
        ) => Some((*kind, g)),
        _ => None,
    }
}

/// `picked`, a region or task of the outliers table picked on its
/// goroutine's row of states, on the row that draws it, once the detail
/// holding it is loaded: the row of its region nesting depth in the
/// goroutine's lane, or the tasks lane's row it was packed into. `None`
/// for any other pick, or until then.
pub(crate) fn on_its_row(worker: &Worker, picked: &Picked) -> Option<Picked> {
    let (kind, g) = off_its_row(picked)?;
    let (lane, first) = match kind {
        SpanKind::Task => (LaneKey::Tasks, 0),
        _ => (LaneKey::Goroutine(g), STATES_ROW + 1),
    };
    let rows = worker.timeline().lane(lane)?.rows();
    // Asking pins the generation holding it: its detail is loaded, over a
    // window holding it, whatever the view shows.
    let _ = worker.span_details(lane, first, picked.start);
    let row = (first..rows).find(|&row| {
        worker
            .loaded_span_details(lane, row, picked.start)
            .is_some_and(|d| (d.kind, d.start) == (Some(kind), picked.start))
    })?;
    Some(Picked {
        lane,
        row,
        ..picked.clone()
    })
}

/// The view `visible` moved to centre relative time `at`, same width.
pub(crate) fn centred((start, end): (f64, f64), at: i64) -> (f64, f64) {
    let half = (end - start) / 2.0;
    (at as f64 - half, at as f64 + half)
}

/// The side panel of the selected span, with the worker's answer about it.
pub(crate) fn panel(
    ui: &mut egui::Ui,
    (picked, trace): (&Picked, Option<&Path>),
    timeline: &Timeline,
    origin: i64,
    (details, chain): (Option<&SpanQuery>, &Chain),
) -> Option<PanelAction> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.heading("Selected span");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.small_button("Close").on_hover_text("Esc").clicked() {
                action = Some(PanelAction::Close);
            }
        });
    });
    ui.label(RichText::new(picked.title()).strong());
    ui.add_space(6.0);
    let partly = match details {
        Some(SpanQuery::Ready(d)) => bounds(picked, d),
        _ => (false, false),
    };
    egui::Grid::new("span-details")
        .num_columns(2)
        .spacing([12.0, 4.0])
        .striped(true)
        .show(ui, |ui| {
            for (caption, value) in facts(picked, origin, partly) {
                ui.weak(caption);
                ui.add(egui::Label::new(value).wrap());
                ui.end_row();
            }
        });
    ui.add_space(8.0);
    if ui.button("Zoom to span").clicked() {
        action = Some(PanelAction::Zoom);
    }
    ui.add_space(8.0);
    let ready = match details {
        Some(SpanQuery::Ready(d)) => Some(d),
        _ => None,
    };
    // Until the worker answers, the draw item knows the goroutine.
    let known = SpanDetails {
        goroutine: picked.goroutine(),
        ..SpanDetails::default()
    };
    action = links(ui, ready.unwrap_or(&known), timeline, chain).or(action);
    match details {
        Some(SpanQuery::Ready(d)) => stack(ui, &stack_caption(d), &d.stack, trace),
        Some(SpanQuery::Loading) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.weak("Loading stack…");
            });
        }
        Some(SpanQuery::Unknown) | None => {}
    }
    action
}

/// Links to the lanes of the goroutine, P, M and unblocker involved, to
/// the goroutines it created (a filter), and along its wake chain.
fn links(
    ui: &mut egui::Ui,
    d: &SpanDetails,
    timeline: &Timeline,
    (hops, whole): &Chain,
) -> Option<PanelAction> {
    let (mut action, mut chain_action) = (None, None);
    let mut link = |ui: &mut egui::Ui, caption: &str, text: String, to: PanelAction| {
        ui.weak(caption);
        if ui.link(text).clicked() {
            action = Some(to);
        }
        ui.end_row();
    };
    egui::Grid::new("span-links")
        .num_columns(2)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            if let Some(g) = d.goroutine {
                let to = PanelAction::Reveal(LaneKey::Goroutine(g));
                link(ui, "Goroutine", goroutine_text(timeline, g), to);
                let to = PanelAction::ShowChildren(g);
                link(ui, "Children", format!("goroutines G{g} created"), to);
            }
            if let Some(p) = d.proc {
                link(
                    ui,
                    "P",
                    format!("P{p}"),
                    PanelAction::Reveal(LaneKey::Proc(p)),
                );
            }
            if let Some(m) = d.thread {
                link(
                    ui,
                    "M",
                    format!("M{m}"),
                    PanelAction::Reveal(LaneKey::Thread(m)),
                );
            }
            if let Some(g) = d.unblocker {
                let to = PanelAction::RevealAt(LaneKey::Goroutine(g), d.start);
                let heading = if d.created { "Parent" } else { "Woken" };
                link(ui, heading, unblocked_text(g, d.created), to);
            }
            if hops.len() > 1 {
                ui.weak("Wake chain");
                chain_action = ui
                    .horizontal_wrapped(|ui| chain_links(ui, hops, *whole))
                    .inner;
                ui.end_row();
            }
        });
    ui.add_space(8.0);
    action.or(chain_action)
}

/// The wake chain as links, `G5 « G9 « G12`, each to the goroutine's lane
/// when it woke (or created) the one before; `…` if it goes on beyond
/// what is loaded.
fn chain_links(ui: &mut egui::Ui, hops: &[Hop], whole: bool) -> Option<PanelAction> {
    ui.spacing_mut().item_spacing.x = 4.0;
    let mut action = None;
    for (i, hop) in hops.iter().enumerate() {
        if i > 0 {
            ui.weak("«");
        }
        let text = format!("G{}{}", hop.by, if hop.created { " (creator)" } else { "" });
        let how = if hop.created { "created" } else { "woke" };
        let link = ui
            .link(text)
            .on_hover_text(format!("G{} {how} the goroutine before it here", hop.by));
        if link.clicked() {
            action = Some(PanelAction::RevealAt(LaneKey::Goroutine(hop.by), hop.at));
        }
    }
    if !whole {
        ui.weak("…")
            .on_hover_text("It goes on earlier, beyond the detail loaded around this span");
    }
    action
}

/// The text of the link to the goroutine that unblocked a span, or
/// `created` it.
fn unblocked_text(g: i64, created: bool) -> String {
    match created {
        true => format!("created by G{g}"),
        false => format!("unblocked by G{g}"),
    }
}

/// The heading of a span's stack: an unblock carries the stack of the
/// goroutine that unblocked this one, not this one's; a creation, where the
/// new goroutine starts.
fn stack_caption(d: &SpanDetails) -> String {
    match (d.unblocker, d.created) {
        (Some(_), true) => "Where it starts".to_owned(),
        (Some(g), false) => format!("Stack of G{g} where it unblocked this"),
        (None, _) => "Stack".to_owned(),
    }
}

/// The stack of the event that began the span under `caption`, innermost
/// frame first: the function, and below it `file:line` (selectable, to
/// copy) with a button that opens it in the user's editor (see
/// [`editor`]), and what that did.
fn stack(ui: &mut egui::Ui, caption: &str, frames: &[StackFrame], trace: Option<&Path>) {
    ui.strong(caption);
    if frames.is_empty() {
        ui.weak("The event that began this span has no stack.");
        return;
    }
    // Said under this stack only (the next span selected has its own).
    let stack_key = frames.iter().fold(0u64, |h, f| h.rotate_left(7) ^ f.pc);
    let opened = egui::Id::unique("opened-in-editor").with(stack_key);
    if let Some(outcome) = editor::outcome(ui.ctx(), opened) {
        let color = match outcome.failed {
            true => ui.visuals().error_fg_color,
            false => ui.visuals().weak_text_color(),
        };
        ui.add(egui::Label::new(RichText::new(outcome.text).color(color)).wrap());
    }
    egui::ScrollArea::vertical()
        .id_salt("span-stack")
        .auto_shrink([false, true])
        .show(ui, |ui| {
            for frame in frames {
                let function = RichText::new(&frame.function).monospace().strong();
                ui.add(egui::Label::new(function).wrap().selectable(true))
                    .on_hover_text(format!("pc {:#x}", frame.pc));
                ui.horizontal_wrapped(|ui| {
                    let place = RichText::new(frame_place(frame)).monospace().weak();
                    ui.add(egui::Label::new(place).selectable(true));
                    let open = ui.small_button("open").on_hover_text(
                        "Open in your editor (GOTV_EDITOR, e.g. \"code -g {file}:{line}\")",
                    );
                    if open.clicked() {
                        editor::open(ui.ctx(), opened, frame, trace);
                    }
                });
                ui.add_space(4.0);
            }
        });
}

/// `file:line` of a frame.
fn frame_place(frame: &StackFrame) -> String {
    format!("{}:{}", frame.file, frame.line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline() -> Timeline {
        Timeline::of_lanes(&[
            (LaneKey::Proc(0), None, 1),
            (LaneKey::Goroutine(7), Some("main.worker"), 2),
        ])
    }

    fn picked(kind: SpanKind, lane: LaneKey, label: &str) -> Picked {
        let item = DrawItem {
            start: 1_000,
            end: 3_000,
            row: 0,
            kind: ItemKind::Span {
                kind,
                label,
                color_key: 0,
                goroutine: Some(7),
                count: 0,
            },
        };
        Picked::new(lane, &item)
    }

    #[test]
    fn facts_name_the_goroutine_and_time() {
        let p = picked(SpanKind::Running, LaneKey::Proc(0), "main.worker");
        let facts = facts(&p, 0, (false, false));
        assert!(facts.contains(&("Function", "main.worker".to_owned())));
        assert_eq!(goroutine_text(&timeline(), 7), "G7 main.worker");
        assert!(facts.contains(&("Duration", "2.00 µs".to_owned())));
        assert_eq!(p.title(), "running");
    }

    /// A span drawn cut (where a detail window meets a summary) is
    /// described whole once the worker answers about it.
    #[test]
    fn the_answer_gives_the_span_whole() {
        let cut = picked(SpanKind::Waiting, LaneKey::Goroutine(7), "select");
        let answer = SpanDetails {
            start: 500,
            end: 3_000,
            kind: Some(SpanKind::Waiting),
            ..SpanDetails::default()
        };
        let whole = cut.whole(&answer);
        assert_eq!(
            (whole.lane, whole.row, &whole.what),
            (cut.lane, cut.row, &cut.what)
        );
        assert!(facts(&whole, 0, (false, false)).contains(&("Duration", "2.50 µs".to_owned())));
        // Known in part: the rest is in a generation not loaded.
        let partly = facts(&whole, 0, (true, false));
        assert!(
            partly.contains(&("Start", "before 0.000000500 s".to_owned())),
            "{partly:?}"
        );
        assert!(partly.contains(&("Duration", "more than 2.50 µs".to_owned())));
        assert_eq!(whole.zoom_range(0), (0.0, 3_500.0), "with 500 ns margins");
        // Another span answered (a goroutine's state for a task of it).
        let other = SpanDetails {
            kind: Some(SpanKind::Running),
            ..answer.clone()
        };
        assert_eq!(cut.whole(&other), cut);
        // The answer's ends are bounds only where they are the ones shown.
        let open_ended = SpanDetails {
            began_before: true,
            goes_on: true,
            ..answer.clone()
        };
        assert_eq!(bounds(&whole, &open_ended), (true, true));
        // An outlier that goes on past the generation answering about it.
        let longer = Picked {
            end: 9_000,
            ..cut.clone()
        };
        assert_eq!(
            (longer.whole(&answer).start, longer.whole(&answer).end),
            (500, 9_000)
        );
        assert_eq!(
            bounds(&longer.whole(&open_ended), &open_ended),
            (true, false)
        );
    }

    #[test]
    fn blocked_spans_show_their_reason() {
        let p = picked(SpanKind::Waiting, LaneKey::Goroutine(7), "chan receive");
        assert_eq!(p.title(), "waiting: chan receive");
        let facts = facts(&p, 0, (false, false));
        assert!(facts.contains(&("Reason", "chan receive".to_owned())));
    }

    #[test]
    fn frames_read_as_file_and_line() {
        let frame = StackFrame {
            function: "main.main".to_owned(),
            file: "/src/main.go".to_owned(),
            line: 12,
            pc: 0x40,
        };
        assert_eq!(frame_place(&frame), "/src/main.go:12");
        assert_eq!(unblocked_text(5, false), "unblocked by G5");
        assert_eq!(unblocked_text(5, true), "created by G5");
        assert_eq!(centred((0.0, 10.0), 100), (95.0, 105.0));
        let woken = SpanDetails {
            unblocker: Some(3),
            ..SpanDetails::default()
        };
        assert_eq!(stack_caption(&woken), "Stack of G3 where it unblocked this");
        let created = SpanDetails {
            created: true,
            ..woken
        };
        assert_eq!(stack_caption(&created), "Where it starts");
        assert_eq!(stack_caption(&SpanDetails::default()), "Stack");
    }

    /// A bucket mostly without spans says so, whatever kind its few
    /// spans are.
    #[test]
    fn a_summary_bucket_says_how_much_of_it_is_covered() {
        let bucket = |covered: f32| {
            let item = DrawItem {
                start: 0,
                end: 1 << 20,
                row: 0,
                kind: ItemKind::Summary {
                    kind: SpanKind::Running,
                    busy: covered,
                    covered,
                    count: 4,
                },
            };
            Picked::new(LaneKey::Proc(0), &item)
        };
        assert_eq!(bucket(0.9).title(), "mostly running");
        let idle = bucket(0.004);
        assert_eq!(idle.title(), "mostly empty, some running");
        let facts = facts(&idle, 0, (false, false));
        assert!(facts.contains(&("Busy", "< 1 %".to_owned())), "{facts:?}");
        assert!(facts.contains(&("Covered", "< 1 %".to_owned())));
    }

    #[test]
    fn zoom_leaves_room_around_the_span() {
        let p = picked(SpanKind::Running, LaneKey::Proc(0), "");
        let (start, end) = p.zoom_range(1_000);
        assert!(start < 0.0 && end > 2_000.0);
    }
}
