//! The side panel's stack and links, driven through egui_kittest on the
//! sample trace and checked against Go's own parse of it
//! (`testdata/traces/sample.parsed.gz`): clicking a goroutine's blocked
//! span shows the stack Go records for that transition, and a span that
//! begins with another goroutine's unblock links to that goroutine.
//!
//! Which spans to click comes from the worker's public query API (as in
//! `gui_lanes.rs`); what they must show comes from the oracle.

mod common;

use common::gui::{App, click, full_detail, open_decoded, sample, wait_for};
use common::traces;
use egui::Pos2;
use egui_kittest::kittest::{NodeT, Queryable};
use gotv::model::{DrawItem, ItemKind, LaneKey, SpanKind};
use gotv::ui::Options;

/// Size of the test window, in points.
const WINDOW: [f32; 2] = [1200.0, 800.0];

/// Screen x of the middle of the timeline body when the side panel is
/// closed (right of the name column).
const BODY_MIDDLE_X: f32 = 700.0;

/// The goroutine whose spans are clicked: `main.main`, whose lane is on
/// screen when the trace opens.
const GOROUTINE: i64 = 1;

/// Its lane's name.
const LANE: &str = "G1 main.main";

/// Longest span clicked, in nanoseconds: a tenth of a generation, so that
/// showing it (twice as wide) draws its generation in full detail rather
/// than as a summary.
const MAX_SPAN_NS: i64 = 20_000_000;

/// One of G1's state spans, in absolute time.
#[derive(Clone, Copy, Debug)]
struct StateSpan {
    start: i64,
    end: i64,
}

/// G1's spans of `kind` (absolute times) and the trace's time origin,
/// through the worker's public API with every generation in full detail.
fn spans_of(kind: SpanKind) -> (Vec<StateSpan>, i64) {
    full_detail(LaneKey::Goroutine(GOROUTINE), |items, origin| {
        let spans = items
            .iter()
            .filter(|item| item.row == 0)
            .filter(|item| matches!(item.kind, ItemKind::Span { kind: k, .. } if k == kind))
            .map(|item| StateSpan {
                start: item.start,
                end: item.end,
            })
            .collect();
        (spans, origin)
    })
}

/// A goroutine transition in Go's parse, with its transition stack.
#[derive(Debug)]
struct Transition {
    /// The goroutine whose event it is (`G=`).
    by: i64,
    /// `Running->Waiting`, ….
    states: String,
    /// `(function, file:line)` of `TransitionStack=`, innermost first.
    stack: Vec<(String, String)>,
}

/// G1's transition at `time` in Go's parse.
fn oracle_transition(time: i64) -> Option<Transition> {
    let text = traces::parsed_text("sample");
    let head = format!("StateTransition Time={time} GoID={GOROUTINE} ");
    let mut lines = text.lines().skip_while(|l| !l.contains(&head));
    let first: Vec<&str> = lines.next()?.split_whitespace().collect();
    let by = first
        .iter()
        .find_map(|w| w.strip_prefix("G="))?
        .parse()
        .ok()?;
    let states = (*first.get(6)?).to_owned();
    let mut stack = Vec::new();
    let mut rest = lines.skip_while(|l| *l != "TransitionStack=").skip(1);
    while let (Some(func), Some(place)) = (rest.next(), rest.next()) {
        let (Some(func), Some(place)) = (func.strip_prefix('\t'), place.strip_prefix("\t\t"))
        else {
            break;
        };
        let func = func.split(" @ ").next().unwrap_or_default();
        stack.push((func.to_owned(), place.to_owned()));
    }
    Some(Transition { by, states, stack })
}

/// The app on the sample trace showing `span` with room around it, with
/// everything decoded.
fn open_at(span: StateSpan, origin: i64) -> App {
    let (start, end) = (span.start - origin, span.end - origin);
    let len = (end - start).max(1);
    let options = Options {
        file: Some(sample()),
        range: Some((start - len / 2, end + len / 2)),
        ..Options::default()
    };
    open_decoded(options, WINDOW)
}

/// Clicks the middle of G1's state row and waits for the side panel and
/// the stack to arrive.
fn select_g1_span(harness: &mut App) {
    let y = harness.get_by_label(LANE).rect().center().y;
    click(harness, Pos2::new(BODY_MIDDLE_X, y));
    harness.run_steps(30);
    assert!(
        harness.query_by_label("Selected span").is_some(),
        "the side panel opens"
    );
    wait_for(harness, "the stack", |h| {
        h.query_by_label("Loading stack…").is_none()
    });
}

#[test]
fn a_blocked_span_shows_gos_transition_stack() {
    let (spans, origin) = spans_of(SpanKind::Waiting);
    let (span, transition) = spans
        .iter()
        .filter_map(|s| Some((*s, oracle_transition(s.start)?)))
        .filter(|(_, t)| t.states == "Running->Waiting" && !t.stack.is_empty())
        .filter(|(s, _)| s.end - s.start <= MAX_SPAN_NS)
        .max_by_key(|(s, _)| s.end - s.start)
        .expect("G1 blocks with a stack");
    let mut harness = open_at(span, origin);
    select_g1_span(&mut harness);
    assert!(harness.query_by_label("Stack").is_some());
    for (function, place) in &transition.stack {
        assert!(
            harness.query_by_label(function).is_some(),
            "the frame {function} of {transition:?}"
        );
        assert!(
            harness.query_by_label(place).is_some(),
            "{place} under {function}"
        );
    }
    // "open" on the first frame of the sample's own module: the sample was
    // built with -trimpath, and no go.mod above the trace or the working
    // directory declares its module, so the file is not found on this
    // machine, and the panel says so rather than starting an editor.
    let (frame, file) = transition
        .stack
        .iter()
        .enumerate()
        .find_map(|(i, (_, place))| {
            let file = place.rsplit_once(':').map_or(place.as_str(), |(f, _)| f);
            file.starts_with("gotv.test/").then_some((i, file))
        })
        .expect("a frame of the sample's module");
    assert!(std::path::Path::new(file).is_relative(), "{file}");
    let open = harness
        .query_all_by_label("open")
        .nth(frame)
        .expect("an open button per frame");
    open.click();
    wait_for(&mut harness, "what opening the file said", |h| {
        let said = format!("{file} is not on this machine");
        h.query_by_label_contains(&said).is_some()
    });
}

/// G1's runnable spans (no longer than [`MAX_SPAN_NS`]) that another
/// goroutine's wake-up began, with Go's transition, and the trace's origin.
fn woken_by_others() -> (Vec<(StateSpan, Transition)>, i64) {
    let (spans, origin) = spans_of(SpanKind::Runnable);
    let woken = spans
        .iter()
        .filter(|s| s.end - s.start <= MAX_SPAN_NS)
        .filter_map(|s| Some((*s, oracle_transition(s.start)?)))
        .filter(|(_, t)| t.states == "Waiting->Runnable" && t.by >= 0 && t.by != GOROUTINE)
        .collect();
    (woken, origin)
}

#[test]
fn a_span_begun_by_an_unblock_links_to_the_unblocker() {
    let (woken, origin) = woken_by_others();
    let (span, transition) = woken
        .into_iter()
        .max_by_key(|(s, _)| s.end - s.start)
        .expect("another goroutine wakes G1");
    let mut harness = open_at(span, origin);
    select_g1_span(&mut harness);
    let unblocker = transition.by;
    let lane = format!("G{unblocker} ");
    let before = harness.query_all_by_label_contains(&lane).count();
    harness
        .get_by_label(&format!("unblocked by G{unblocker}"))
        .click();
    harness.run_steps(3);
    assert!(
        harness.query_all_by_label_contains(&lane).count() > before,
        "G{unblocker}'s lane is scrolled into view"
    );
    let (a, b) = harness.state().visible_range();
    let at = span.start - origin;
    assert!(
        a < at && at < b,
        "the view shows the unblock at {at}: {a}..{b}"
    );
}

/// Go's parse's chain of wake-ups behind a span that goroutine `by` made
/// runnable at `at`: `by`, the goroutine that made `by` runnable before
/// it ran then, and so on, while another goroutine did.
fn oracle_wake_chain(by: i64, at: i64) -> Vec<i64> {
    let text = traces::parsed_text("sample");
    // (time, goroutine, by, to) of every goroutine transition.
    let transitions: Vec<(i64, i64, i64, &str)> = text
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let field = |key: &str| words.iter().find_map(|w| w.strip_prefix(key));
            (words.get(3) == Some(&"StateTransition")).then_some(())?;
            let to = words.get(6)?.split_once("->")?.1;
            let number = |key: &str| field(key)?.parse::<i64>().ok();
            Some((number("Time=")?, number("GoID=")?, number("G=")?, to))
        })
        .collect();
    let last = |g: i64, to: &str, t: i64| {
        transitions
            .iter()
            .rfind(|&&(time, id, _, state)| id == g && state == to && time <= t)
            .copied()
    };
    let mut chain = vec![by];
    let (mut g, mut t) = (by, at);
    while chain.len() < 20 {
        let Some((ran, ..)) = last(g, "Running", t) else {
            break;
        };
        let Some((woken, _, next, _)) = last(g, "Runnable", ran) else {
            break;
        };
        if next < 0 || next == g {
            break;
        }
        chain.push(next);
        (g, t) = (next, woken);
    }
    chain
}

#[test]
fn the_wake_chain_follows_who_woke_whom() {
    let (woken, origin) = woken_by_others();
    let (span, chain) = woken
        .into_iter()
        .map(|(s, t)| (s, oracle_wake_chain(t.by, s.start)))
        .filter(|(_, chain)| chain.len() >= 3)
        .max_by_key(|(s, _)| s.end - s.start)
        .expect("a wake-up of G1 with a chain behind it");
    let mut harness = open_at(span, origin);
    select_g1_span(&mut harness);
    assert!(harness.query_by_label("Wake chain").is_some(), "{chain:?}");
    // The chain's links, `G5` or `G5 (creator)`, in order.
    let shown: Vec<i64> = harness
        .get_all_by_role(egui::accesskit::Role::Link)
        .filter_map(|n| {
            let label = n.accesskit_node().label()?;
            let id = label.strip_prefix('G')?.trim_end_matches(" (creator)");
            id.parse().ok()
        })
        .collect();
    assert!(shown.len() >= 2, "{shown:?} of {chain:?}");
    assert!(
        chain.starts_with(&shown),
        "{shown:?} is how {chain:?} begins"
    );
}

/// The app showing G1's longest wait (of at most [`MAX_SPAN_NS`]) and
/// with it selected, the wait, and the trace's origin.
fn select_longest_wait() -> (App, StateSpan, i64) {
    let (spans, origin) = spans_of(SpanKind::Waiting);
    let span = spans
        .iter()
        .copied()
        .filter(|s| s.end - s.start <= MAX_SPAN_NS)
        .max_by_key(|s| s.end - s.start)
        .expect("G1 waits");
    let mut harness = open_at(span, origin);
    select_g1_span(&mut harness);
    (harness, span, origin)
}

/// The panel's "Children" link filters the lanes down to the goroutines
/// the span's goroutine created, as Go's parse counts them.
#[test]
fn the_children_link_filters_to_the_goroutines_created() {
    let (mut harness, ..) = select_longest_wait();
    let children = traces::created_by("sample", GOROUTINE).len();
    assert!(children > 3, "main.main starts goroutines");
    harness.get_by_label("goroutines G1 created").click();
    let note = format!("G1 created {children} goroutines");
    wait_for(&mut harness, &note, |h| h.query_by_label(&note).is_some());
}

/// Ctrl+Down selects the span at the same time in the lane below (G2's
/// state when G1's wait began), and Ctrl+Up goes back up at that time,
/// to the wait; from the first goroutine it goes on up out of them.
#[test]
fn ctrl_arrows_step_the_selection_across_lanes() {
    let (mut harness, wait, origin) = select_longest_wait();
    let step = |harness: &mut App, key| {
        harness.key_press_modifiers(egui::Modifiers::COMMAND, key);
        harness.run_steps(3);
        let lane = harness.state().selected_lane().expect("a selection");
        (lane, harness.state().selected_range().expect("a range"))
    };
    let (lane, range) = step(&mut harness, egui::Key::ArrowDown);
    assert_eq!(lane, LaneKey::Goroutine(2));
    let g2 = full_detail(lane, |items, _| {
        let at = |i: &&DrawItem<'_>| i.row == 0 && i.start <= wait.start && wait.start < i.end;
        items
            .iter()
            .find(at)
            .map(|i| (i.start - origin, i.end - origin))
    });
    assert_eq!(Some(range), g2, "G2's state when G1's wait began");
    let back = step(&mut harness, egui::Key::ArrowUp);
    let waiting = (wait.start - origin, wait.end - origin);
    assert_eq!(back, (LaneKey::Goroutine(GOROUTINE), waiting));
    let (up, range) = step(&mut harness, egui::Key::ArrowUp);
    assert!(
        !matches!(up, LaneKey::Goroutine(_)),
        "above the goroutines: {up:?}"
    );
    assert!(range.0 <= waiting.0 && waiting.0 < range.1.max(range.0 + 1));
}

/// `]` selects the next span of the selected span's row, `[` the one
/// before; a span out of view is panned to.
#[test]
fn brackets_step_through_a_rows_spans() {
    let (mut harness, span, origin) = select_longest_wait();
    let waiting = (span.start - origin, span.end - origin);
    assert_eq!(harness.state().selected_range(), Some(waiting));
    harness.key_press(egui::Key::CloseBracket);
    harness.run_steps(3);
    let next = harness.state().selected_range().expect("a selection");
    assert_eq!(
        next.0, waiting.1,
        "the next state begins where waiting ends"
    );
    assert!(next.1 > next.0);
    let (a, b) = harness.state().visible_range();
    assert!(a <= next.0 && next.0 < b, "{next:?} in view {a}..{b}");
    harness.key_press(egui::Key::OpenBracket);
    harness.run_steps(3);
    assert_eq!(harness.state().selected_range(), Some(waiting));
}
