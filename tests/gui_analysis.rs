//! The range statistics, MMU and goroutine filter driven through
//! egui_kittest: the real `GotvApp` on the sample trace, checked through the
//! AccessKit tree.

mod common;

use common::gui::{App, open_analysed, shift_drag, wait_for};
use egui::Pos2;
use egui_kittest::kittest::{NodeT, Queryable};

/// Size of the test window, in points.
const WINDOW: [f32; 2] = [1400.0, 900.0];

/// The app on the sample with everything decoded and the analysis done.
fn open() -> App {
    open_analysed(WINDOW)
}

/// The label of the node whose label starts with `prefix`, once there.
fn label_starting(harness: &mut App, prefix: &str) -> String {
    let mut found = None;
    wait_for(harness, prefix, |h| {
        found = h
            .query_all_by_label_contains(prefix)
            .filter_map(|n| text(&n))
            .find(|l| l.starts_with(prefix));
        found.is_some()
    });
    found.unwrap_or_default()
}

/// What a node says: a button's label or a text label's value.
fn text(node: &egui_kittest::Node<'_>) -> Option<String> {
    let node = node.accesskit_node();
    node.label().or_else(|| node.value())
}

/// `12` from `… (12 ns) …`.
fn exact_ns(label: &str) -> i64 {
    let (before, _) = label.split_once(" ns)").unwrap_or_default();
    let (_, number) = before.rsplit_once('(').unwrap_or_default();
    number.parse().unwrap_or(-1)
}

/// `0.5` from `Smallest window 1 µs: MMU 0.5000`.
fn mmu_value(label: &str) -> f64 {
    let (_, value) = label.rsplit_once("MMU ").unwrap_or_default();
    value.parse().unwrap_or(f64::NAN)
}

/// `12` from the goroutine section header `Goroutines (12)` or
/// `Goroutines (12 matching)`.
fn goroutine_count(harness: &mut App) -> usize {
    let header = label_starting(harness, "Goroutines (");
    let inside = header.trim_start_matches("Goroutines (");
    let digits: String = inside.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}

fn type_filter(harness: &mut App, text: &str) {
    let filter = harness.get_by_role(egui::accesskit::Role::TextInput);
    filter.focus();
    filter.type_text(text);
    harness.run_steps(3);
}

#[test]
fn a_selected_range_shows_its_state_totals_and_p_busy_time() {
    let mut harness = open();
    let all = goroutine_count(&mut harness) as i64;
    shift_drag(
        &mut harness,
        Pos2::new(350.0, 300.0),
        Pos2::new(1100.0, 320.0),
    );
    let range = exact_ns(&label_starting(&mut harness, "Range "));
    let states = label_starting(&mut harness, "Goroutine states ");
    let total = exact_ns(&states);
    let lanes: i64 = states
        .rsplit_once(" over ")
        .and_then(|(_, rest)| rest.split(' ').next()?.parse().ok())
        .unwrap_or(0);
    assert!(range > 0, "{range}");
    assert!(lanes > 0, "{states}");
    assert!(total > 0, "{states}");
    assert!(total <= range * lanes, "{total} > {range} × {lanes}");
    assert!(
        lanes < all,
        "{lanes} of {all} goroutines exist in the range"
    );
    assert!(
        harness.query_by_label("P0 busy").is_some(),
        "a P busy figure"
    );
    let outliers = label_starting(&mut harness, "Outliers inside the range (");
    assert!(outliers.ends_with(')'), "{outliers}");

    // The filter narrows the lanes counted.
    type_filter(&mut harness, "g:1");
    let narrowed = label_starting(&mut harness, "Goroutine states ");
    assert!(narrowed.ends_with(" over 1 goroutine"), "{narrowed}");
    assert!(exact_ns(&narrowed) <= range, "{narrowed} > {range}");
}

#[test]
fn the_mmu_grows_with_the_window_and_follows_the_checkboxes() {
    let mut harness = open();
    harness.key_press(egui::Key::M);
    let smallest = mmu_value(&label_starting(&mut harness, "Smallest window "));
    let largest = mmu_value(&label_starting(&mut harness, "Largest window "));
    assert!(
        harness
            .query_by_label("Minimum mutator utilisation")
            .is_some()
    );
    assert!((0.0..=1.0).contains(&smallest), "{smallest}");
    assert!(largest >= smallest, "{largest} < {smallest}");
    assert!(largest > 0.0, "the whole trace is not all GC");

    // Counting sweeping too can only lower the utilisation.
    harness.get_by_label("Sweeping").click();
    harness.step();
    wait_for(&mut harness, "the recomputed curve", |h| {
        h.query_by_label("Computing…").is_none()
    });
    let with_sweep = mmu_value(&label_starting(&mut harness, "Largest window "));
    assert!(with_sweep <= largest + 1e-9, "{with_sweep} > {largest}");
}

#[test]
fn filtering_by_goroutine_id_keeps_only_that_lane() {
    let mut harness = open();
    assert!(goroutine_count(&mut harness) > 1);
    type_filter(&mut harness, "g:1");
    assert_eq!(goroutine_count(&mut harness), 1);
    assert!(harness.query_by_label("G1 main.main").is_some());
    assert!(harness.query_by_label("G3 runtime.bgsweep").is_none());
}

#[test]
fn hide_runtime_hides_runtime_goroutines() {
    let mut harness = open();
    let all = goroutine_count(&mut harness);
    assert!(harness.query_by_label("G3 runtime.bgsweep").is_some());
    harness.get_by_label("Hide runtime").click();
    harness.run_steps(3);
    let shown = goroutine_count(&mut harness);
    assert!(0 < shown && shown < all, "{shown} of {all}");
    assert!(harness.query_by_label("G1 main.main").is_some());
    let runtime_lanes = harness
        .query_all_by_label_contains(" runtime.")
        .filter_map(|n| text(&n))
        .filter(|l| l.starts_with('G'))
        .count();
    assert_eq!(runtime_lanes, 0);
}

/// `1230000.0` from `1.23 ms`; `None` for an empty cell.
fn duration_ns(cell: &str) -> Option<f64> {
    let (value, unit) = cell.split_once(' ')?;
    let scale = match unit {
        "ns" => 1.0,
        "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    };
    Some(value.parse::<f64>().ok()? * scale)
}

/// The cells of the goroutine rows in view, `G12, , 1.23 ms, …`, in order.
fn goroutine_rows(harness: &App) -> Vec<Vec<String>> {
    harness
        .get_all_by_role(egui::accesskit::Role::Button)
        .filter_map(|n| n.accesskit_node().label())
        .map(|l| l.split(", ").map(str::to_owned).collect::<Vec<_>>())
        .filter(|cells| {
            cells[0]
                .strip_prefix('G')
                .is_some_and(|id| id.parse::<i64>().is_ok())
        })
        .collect()
}

#[test]
fn goroutine_rows_show_their_own_totals_in_the_sort_order() {
    let mut harness = open();
    harness.key_press(egui::Key::G);
    harness.run_steps(2);
    // The group with the most goroutines, alone under the filter, expanded.
    harness
        .get_by_role_and_label(egui::accesskit::Role::Button, "Goroutines")
        .click();
    harness.run_steps(2);
    let largest = harness
        .get_all_by_role(egui::accesskit::Role::Button)
        .filter_map(|n| n.accesskit_node().label())
        .find(|l| l.split(", ").count() == 10)
        .unwrap_or_default();
    let function = largest.split(", ").next().unwrap_or_default().to_owned();
    type_filter(&mut harness, &function);
    harness.get_by_label(&largest).click();
    harness.run_steps(3);

    let columns = [
        ("Exec total", 2),
        ("Sched total", 5),
        ("Blocked total", 8),
        ("Syscall total", 9),
    ];
    for (title, column) in columns {
        for descending in [true, false] {
            let header = harness.get_by_role_and_label(egui::accesskit::Role::Button, title);
            header.click();
            harness.run_steps(2);
            let rows = goroutine_rows(&harness);
            assert!(rows.len() > 1, "{function}: {rows:?}");
            for cells in &rows {
                assert_eq!(cells.len(), 10, "{cells:?}");
                assert!(cells[1].is_empty() && cells[3].is_empty(), "{cells:?}");
            }
            let numbers: Vec<f64> = rows
                .iter()
                .filter_map(|c| duration_ns(&c[column]))
                .collect();
            assert_eq!(numbers.len(), rows.len(), "{title}: {rows:?}");
            let sorted = numbers.windows(2).all(|w| {
                if descending {
                    w[0] >= w[1]
                } else {
                    w[0] <= w[1]
                }
            });
            assert!(sorted, "{title} descending {descending}: {numbers:?}");
        }
    }

    // By any other column, the goroutines are in ID order.
    harness
        .get_by_role_and_label(egui::accesskit::Role::Button, "Exec mean")
        .click();
    harness.run_steps(2);
    let ids: Vec<i64> = goroutine_rows(&harness)
        .iter()
        .filter_map(|c| c[0][1..].parse().ok())
        .collect();
    assert!(ids.len() > 1 && ids.is_sorted(), "{ids:?}");
}
