//! The goroutine filter's `stack:` and `state:` terms driven through
//! egui_kittest: the real `GotvApp` on the sample trace, typing into the
//! filter and checking the lanes through the AccessKit tree.

mod common;

use std::collections::BTreeSet;

use common::gui::{App, open_decoded, wait_for};
use egui_kittest::kittest::{NodeT, Queryable};
use gotv::trace::{Stack, Trace, Transition};
use gotv::ui::Options;

/// Size of the test window, in points.
const WINDOW: [f32; 2] = [1400.0, 900.0];

fn open() -> App {
    let options = Options {
        file: Some(common::gui::sample()),
        ..Options::default()
    };
    open_decoded(options, WINDOW)
}

fn type_filter(harness: &mut App, text: &str) {
    let filter = harness.get_by_role(egui::accesskit::Role::TextInput);
    filter.focus();
    filter.type_text(text);
    harness.run_steps(3);
}

/// What every node says: a button's label or a text label's value.
fn texts(harness: &App) -> Vec<String> {
    harness
        .root()
        .query_all_by(|_| true)
        .filter_map(|n| {
            let node = n.accesskit_node();
            node.label().or_else(|| node.value())
        })
        .collect()
}

/// The goroutine lanes on screen: `G41 main.main.func3`.
fn goroutine_lanes(harness: &App) -> Vec<String> {
    let mut lanes: Vec<String> = texts(harness)
        .into_iter()
        .filter(|l| {
            let digits = l.strip_prefix('G').unwrap_or_default();
            digits.starts_with(|c: char| c.is_ascii_digit())
                && digits.contains(' ')
                && digits
                    .split(' ')
                    .next()
                    .is_some_and(|d| d.parse::<u64>().is_ok())
        })
        .collect();
    lanes.sort();
    lanes.dedup();
    lanes
}

/// The number in the filter bar's `N goroutines` note starting with `prefix`,
/// once there.
fn note_count(harness: &mut App, prefix: &str) -> usize {
    let mut count = None;
    wait_for(harness, prefix, |h| {
        count = texts(h).iter().find_map(|t| {
            let rest = t.strip_prefix(prefix)?.strip_suffix(" goroutines")?;
            rest.trim().parse::<usize>().ok()
        });
        count.is_some()
    });
    count.unwrap_or_default()
}

/// `12` from the goroutine section header `Goroutines (12 matching)`.
fn header_count(harness: &App) -> Option<usize> {
    texts(harness).iter().find_map(|t| {
        let inside = t.strip_prefix("Goroutines (")?;
        let digits: String = inside.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// The goroutines of the sample with a frame whose function contains
/// `function` in a stack of theirs, event by event, without the filter's
/// per-stack cache: a transition's stack goes to the goroutine changing
/// state, any other stack of an event to the goroutine running.
fn goroutines_through(function: &str) -> BTreeSet<i64> {
    let data = std::fs::read(common::gui::sample()).unwrap_or_default();
    let mut found = BTreeSet::new();
    let has = |stack: Option<Stack<'_>>| {
        stack.is_some_and(|s| {
            s.frames()
                .any(|f| String::from_utf8_lossy(f.func).contains(function))
        })
    };
    let read = Trace::open(&data).map(|trace| {
        trace.for_each_event(|ev| {
            let transition = ev.state_transition();
            let changed = transition.and_then(|st| match st.transition {
                Transition::Goroutine { id, .. } if has(st.stack) => Some(id),
                _ => None,
            });
            found.extend(changed);
            // A status event's stack is the goroutine's it is about.
            let stack_id = |s: Option<Stack<'_>>| s.map(|s| s.id());
            let same = transition.is_some_and(|st| stack_id(st.stack) == stack_id(ev.stack()));
            if !same && has(ev.stack()) && ev.goroutine() >= 0 {
                found.insert(ev.goroutine());
            }
        })
    });
    assert!(matches!(read, Ok(Ok(_))), "the sample reads");
    found
}

/// `41` from the lane label `G41 main.main.func3`.
fn lane_id(label: &str) -> Option<i64> {
    label.strip_prefix('G')?.split(' ').next()?.parse().ok()
}

#[test]
fn a_stack_filter_keeps_only_goroutines_with_a_matching_frame() {
    let mut harness = open();
    let before = goroutine_lanes(&harness);
    assert!(
        before.iter().any(|l| l == "G1 main.main"),
        "main.main is on screen before filtering: {before:?}"
    );
    let all = header_count(&harness).unwrap_or_default();

    // load.Burn starts CPU burners; the goroutine calling it has another
    // start function but goes through load.Burn in its stacks.
    type_filter(&mut harness, "stack:load.Burn");
    let found = note_count(&mut harness, "stack:");
    harness.run_steps(3);
    let after = goroutine_lanes(&harness);
    assert!(found > 1 && found < all, "{found} of {all}");
    let expected = goroutines_through("load.Burn");
    assert_eq!(found, expected.len(), "{expected:?}");
    let ids: BTreeSet<i64> = after.iter().filter_map(|l| lane_id(l)).collect();
    assert!(ids.is_subset(&expected), "{ids:?} ⊄ {expected:?}");
    assert_eq!(
        header_count(&harness),
        Some(found),
        "the lanes are the matches"
    );
    assert!(after.len() > 1 && after.len() <= found, "{after:?}");
    assert!(!after.iter().any(|l| l == "G1 main.main"), "{after:?}");
    assert!(!after.iter().any(|l| l.contains("runtime.")), "{after:?}");
    assert!(
        after.iter().any(|l| l.contains("load.Burn")),
        "burners remain: {after:?}"
    );
    assert!(
        after.iter().any(|l| !l.contains("load.Burn")),
        "a goroutine that only calls load.Burn remains too: {after:?}"
    );
    let matches = match found {
        1 => "1 goroutine matches".to_owned(),
        n => format!("{n} goroutines match"),
    };
    assert!(texts(&harness).contains(&matches));
}

#[test]
fn an_invalid_regex_is_reported_and_filters_nothing() {
    let mut harness = open();
    let all = header_count(&harness);
    type_filter(&mut harness, "stack:/main(/");
    let texts = texts(&harness);
    assert!(
        texts.iter().any(|t| t.starts_with("invalid regex /main(/")),
        "{texts:?}"
    );
    assert_eq!(header_count(&harness), all);
}

#[test]
fn a_state_filter_keeps_the_goroutines_in_that_state_then() {
    let mut harness = open();
    let all = header_count(&harness).unwrap_or_default();
    type_filter(&mut harness, "state:waiting@1s");
    let found = note_count(&mut harness, "waiting at 1.00 s:");
    harness.run_steps(3);
    assert!(found > 0 && found < all, "{found} of {all}");
    assert_eq!(header_count(&harness), Some(found));
}

/// Goroutines of one start function are a group under a header that says
/// how many there are (a filter shows it unfolded); clicking the header
/// folds the group and clicking it again unfolds it.
#[test]
fn goroutines_of_a_start_function_are_a_group_that_folds() {
    let mut harness = open();
    type_filter(&mut harness, "persistConn).readLoop");
    let header = "3 × net/http.(*persistConn).readLoop";
    // Full names (a truncated label also shows as its visible text).
    let whole = |harness: &App| -> Vec<String> {
        let lanes = goroutine_lanes(harness).into_iter();
        lanes.filter(|l| !l.ends_with('…')).collect()
    };
    let lanes = whole(&harness);
    assert_eq!(lanes.len(), 3, "{lanes:?}");
    assert!(
        lanes
            .iter()
            .all(|l| l.ends_with(" net/http.(*persistConn).readLoop")),
        "{lanes:?}"
    );
    for (step, shown) in [(1, Vec::new()), (2, lanes)] {
        harness.get_by_label(header).click();
        harness.run_steps(3);
        assert_eq!(whole(&harness), shown, "click {step}");
        assert!(harness.query_by_label(header).is_some(), "click {step}");
    }
}

/// The goroutine headers' context menu folds every start-function group
/// and unfolds them again.
#[test]
fn every_group_folds_and_unfolds_at_once() {
    let mut harness = open();
    type_filter(&mut harness, "persistConn");
    let header = "3 × net/http.(*persistConn).readLoop";
    let shown = goroutine_lanes(&harness).len();
    assert!(shown >= 6, "readLoop and writeLoop lanes: {shown}");
    for (item, lanes) in [("Fold All Groups", 0), ("Unfold All Groups", shown)] {
        harness.get_by_label(header).click_secondary();
        harness.run_steps(2);
        harness.get_by_label(item).click();
        harness.run_steps(3);
        assert_eq!(goroutine_lanes(&harness).len(), lanes, "{item}");
    }
}

#[test]
fn a_parent_filter_shows_the_goroutines_it_created() {
    let mut harness = open();
    let children = common::traces::created_by("sample", 1);
    assert!(
        children.len() > 3,
        "main.main starts goroutines: {children:?}"
    );
    type_filter(&mut harness, "parent:G1");
    assert_eq!(note_count(&mut harness, "G1 created"), children.len());
    harness.run_steps(3);
    assert_eq!(header_count(&harness), Some(children.len()));
    // The lanes on screen (the rest are below it), not the note.
    let shown: BTreeSet<i64> = goroutine_lanes(&harness)
        .iter()
        .filter(|l| !l.contains(" created "))
        .filter_map(|l| lane_id(l))
        .collect();
    assert!(shown.len() >= 5, "{shown:?}");
    assert!(shown.is_subset(&children), "{shown:?} of {children:?}");
}

#[test]
fn region_and_task_filters_show_the_goroutines_that_took_part() {
    // The one "sample" task is begun by G1; other goroutines have regions in it.
    for (term, task, text) in [
        ("region:GET", false, "get"),
        ("task:handle", true, "handle"),
        ("task:Sample", true, "sample"),
    ] {
        let mut harness = open();
        let want = common::traces::annotated("sample", task, text);
        assert!(want.len() >= 3, "{term}: {want:?}");
        type_filter(&mut harness, term);
        let kind = if task { "task" } else { "region" };
        assert_eq!(
            note_count(&mut harness, &format!("{kind} {text}:")),
            want.len(),
            "{term}"
        );
        harness.run_steps(3);
        assert_eq!(header_count(&harness), Some(want.len()), "{term}");
        let shown: BTreeSet<i64> = goroutine_lanes(&harness)
            .iter()
            .filter_map(|l| lane_id(l))
            .collect();
        assert!(
            !shown.is_empty() && shown.is_subset(&want),
            "{term}: {shown:?} of {want:?}"
        );
    }
}
