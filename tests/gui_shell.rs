//! The application shell driven through egui_kittest: the real `GotvApp`,
//! real files, real input events, checked through the AccessKit tree (what a
//! screen reader sees) and the app's visible range. No display needed.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::gui::{App, button, send, shift_drag, wait_for, zoom_at};
use egui::accesskit::Toggled;
use egui::{Event, Key, Modifiers, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use gotv::ui::{GotvApp, Options};

/// A point over the timeline body (right of the name column, below the axis)
/// of the 1200×800 test window.
const BODY: Pos2 = Pos2::new(700.0, 400.0);

/// A scratch directory for this test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("gui_shell")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// A copy of the sample trace named `name` in `dir`.
fn trace_copy(dir: &Path, name: &str) -> PathBuf {
    let sample = common::traces::sample();
    let path = dir.join(name);
    std::fs::copy(&sample, &path).expect("copy the sample trace");
    path
}

/// The app started with `options`, stepping egui_kittest's default frame time.
fn app(options: Options) -> App {
    Harness::builder()
        .with_size([1200.0, 800.0])
        .build_eframe(|cc| GotvApp::new(cc, options))
}

fn open(file: &Path) -> App {
    let mut harness = app(Options {
        file: Some(file.to_path_buf()),
        ..Options::default()
    });
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    // Decoded, so that the trace's extent no longer changes under the test.
    wait_for(&mut harness, &format!("{name} to load"), |h| {
        h.query_by_label(&name).is_some() && h.state().is_ready()
    });
    harness
}

fn width((start, end): (i64, i64)) -> i64 {
    end - start
}

#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn opens_the_file_given_on_the_command_line() {
    let dir = scratch("open");
    let harness = open(&trace_copy(&dir, "first-run.trace"));
    assert!(
        harness.query_by_label_contains("go 1.").is_some(),
        "status names the trace format"
    );
    assert!(harness.query_by_label_contains("Damaged").is_none());
}

/// View → Copy Command Line copies a command that opens the same file at
/// the same view, with the open panel and the goroutine filter: run, it
/// shows that view again.
#[test]
fn the_view_copies_as_a_command_line() {
    let dir = scratch("command line");
    let file = trace_copy(&dir, "shared view.trace");
    let mut harness = open(&file);
    let (start, end) = harness.state().visible_range();
    assert_eq!(
        copy_command_line(&mut harness),
        command(&file, (start, end), "")
    );

    harness.key_press(Key::G);
    harness.get_by_label("Hide runtime").click();
    let filter = harness.get_by_role(egui::accesskit::Role::TextInput);
    filter.focus();
    filter.type_text("main.main g:1");
    harness.run_steps(3);
    let extra = " --panel goroutines --hide-runtime --filter='main.main g:1'";
    assert_eq!(
        copy_command_line(&mut harness),
        command(&file, (start, end), extra)
    );

    // A selected range goes along (and opens the range tab).
    shift_drag(&mut harness, BODY, BODY + egui::vec2(200.0, 0.0));
    harness.run_steps(3);
    let selection = selection_label(&harness);
    let line = copy_command_line(&mut harness);
    let with_panel = command(&file, (start, end), " --panel range --select ");
    let rest = line
        .strip_prefix(&with_panel)
        .unwrap_or_else(|| panic!("{line}"));
    let (select, rest) = rest.split_once(' ').expect("more after --select");
    assert_eq!(rest, "--hide-runtime --filter='main.main g:1'");
    let (a, b) = select.split_once(':').expect("START:END");
    let select: (i64, i64) = (a.parse().expect("ns"), b.parse().expect("ns"));
    assert!(
        start < select.0 && select.0 < select.1 && select.1 < end,
        "{select:?}"
    );

    // What the shell passes for that command line.
    let mut again = app(Options {
        file: Some(file),
        range: Some((start, end)),
        panel: Some(gotv::ui::Panel::Range),
        select: Some(select),
        filter: Some("main.main g:1".to_owned()),
        hide_runtime: true,
        ..Options::default()
    });
    wait_for(&mut again, "the command's view", |h| h.state().is_ready());
    assert_eq!(again.state().visible_range(), (start, end));
    assert_eq!(selection_label(&again), selection);
    // One goroutine shown, and the range's figures.
    assert!(again.query_by_label("1 goroutine matches").is_some());
    assert!(again.query_by_label_contains("Goroutine states").is_some());
    let hide = again.get_by_label("Hide runtime");
    assert_eq!(hide.accesskit_node().toggled(), Some(Toggled::True));
    let shown = again.get_by_role(egui::accesskit::Role::TextInput);
    assert_eq!(shown.value().as_deref(), Some("main.main g:1"));
}

/// The status bar's "Selection …" label.
fn selection_label(harness: &App) -> String {
    let node = harness.get_by_label_contains("Selection ");
    node.accesskit_node().label().unwrap_or_default()
}

/// `gotv 'FILE' --range START:END` and then `extra`.
fn command(file: &Path, (start, end): (i64, i64), extra: &str) -> String {
    format!("gotv '{}' --range {start}:{end}{extra}", file.display())
}

/// Clicks View → Copy Command Line and returns what it copied.
fn copy_command_line(harness: &mut App) -> String {
    harness.get_by_label("View").click();
    harness.run_steps(2);
    harness.get_by_label("Copy Command Line").click();
    harness.step();
    let copied: Vec<String> = harness
        .output()
        .platform_output
        .commands
        .iter()
        .filter_map(|c| match c {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
        .collect();
    // The menu closes with the click.
    harness.run_steps(2);
    match copied.as_slice() {
        [text] => text.clone(),
        _ => panic!("one text copied, not {copied:?}"),
    }
}

/// Up and Down scroll the lanes a few rows, Page Up and Page Down about a
/// screen; each undoes the other.
#[test]
fn keys_scroll_the_lanes() {
    let dir = scratch("scroll keys");
    let mut harness = open(&trace_copy(&dir, "scrolled.trace"));
    let top = |h: &App| h.get_by_label("G1 main.main").rect().top();
    let start = top(&harness);
    harness.key_press(Key::ArrowDown);
    harness.run_steps(2);
    let row = start - top(&harness);
    assert!(row > 10.0 && row < 100.0, "a few rows: {row}");
    harness.key_press(Key::ArrowUp);
    harness.run_steps(2);
    assert_eq!(top(&harness), start);
    harness.key_press(Key::PageDown);
    harness.run_steps(2);
    // Out of view, or at least a third of the window further up.
    let paged = harness
        .query_by_label("G1 main.main")
        .map(|n| start - n.rect().top());
    assert!(paged.is_none_or(|by| by > 250.0), "a page: {paged:?}");
    harness.key_press(Key::PageUp);
    harness.run_steps(2);
    assert_eq!(top(&harness), start);
}

#[test]
fn opens_the_bundled_sample_without_a_file() {
    let mut harness = app(Options::default());
    wait_for(&mut harness, "the sample", |h| {
        h.query_by_label("sample.trace (bundled)").is_some()
    });
}

#[test]
fn a_dropped_file_replaces_the_trace() {
    let dir = scratch("drop");
    let mut harness = open(&trace_copy(&dir, "before.trace"));
    let after = trace_copy(&dir, "after.trace");
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(Dropped(after)));
    wait_for(&mut harness, "the dropped trace", |h| {
        h.query_by_label("after.trace").is_some()
    });
    assert!(harness.query_by_label("before.trace").is_none());
}

#[test]
fn a_file_that_is_not_a_trace_shows_why() {
    let dir = scratch("invalid");
    let path = dir.join("notes.txt");
    std::fs::write(&path, "hello, this is not a trace\n").expect("write");
    let mut harness = app(Options {
        file: Some(path),
        ..Options::default()
    });
    wait_for(&mut harness, "the error", |h| {
        h.query_by_label_contains("not a Go execution trace")
            .is_some()
    });
    assert!(
        harness
            .query_by_label_contains("Could not open notes.txt")
            .is_some()
    );
}

#[test]
fn a_trace_without_events_shows_why() {
    let dir = scratch("header-only");
    let path = dir.join("header-only.trace");
    std::fs::write(&path, b"go 1.26 trace\0\0\0").expect("write");
    let mut harness = app(Options {
        file: Some(path),
        ..Options::default()
    });
    wait_for(&mut harness, "the error", |h| {
        h.query_by_label_contains("truncated").is_some()
    });
}

#[test]
fn a_truncated_trace_opens_with_a_warning() {
    let dir = scratch("truncated");
    let sample = std::fs::read(trace_copy(&dir, "whole.trace")).expect("read");
    let path = dir.join("cut.trace");
    std::fs::write(&path, &sample[..sample.len() * 2 / 3]).expect("write");
    let harness = open(&path);
    assert!(harness.query_by_label_contains("Damaged").is_some());
}

#[test]
fn question_mark_toggles_the_shortcut_overlay() {
    let dir = scratch("help");
    let mut harness = open(&trace_copy(&dir, "help.trace"));
    assert!(
        harness
            .query_by_label("Show or hide these shortcuts")
            .is_none()
    );
    harness.key_press_modifiers(Modifiers::SHIFT, Key::Questionmark);
    harness.step();
    harness.step();
    assert!(
        harness
            .query_by_label("Show or hide these shortcuts")
            .is_some()
    );
    assert!(
        harness
            .query_by_label("Zoom in and out at the cursor")
            .is_some()
    );
    // It fits the 800-point window, scrolling (its top was cut off).
    let top = harness.get_by_label("Keyboard and mouse").rect().top();
    assert!(top >= 0.0, "the overlay's heading at {top}");
    harness.key_press(Key::Escape);
    harness.step();
    harness.step();
    assert!(
        harness
            .query_by_label("Show or hide these shortcuts")
            .is_none()
    );
}

#[test]
fn zoom_home_and_history_move_the_visible_range() {
    let dir = scratch("zoom");
    let mut harness = open(&trace_copy(&dir, "zoom.trace"));
    let whole = harness.state().visible_range();
    assert!(width(whole) > 0);

    // Ctrl+wheel / pinch arrive as a zoom factor; it zooms at the cursor.
    zoom_at(&mut harness, BODY, 2.0);
    let zoomed = harness.state().visible_range();
    assert_eq!(width(zoomed), width(whole) / 2, "{zoomed:?}");
    assert!(
        zoomed.0 > whole.0 && zoomed.1 < whole.1,
        "zoomed around the cursor: {zoomed:?}"
    );

    harness.key_press(Key::Home);
    harness.step();
    harness.step();
    assert_eq!(harness.state().visible_range(), whole);

    harness.key_press_modifiers(Modifiers::ALT, Key::ArrowLeft);
    harness.step();
    harness.step();
    assert_eq!(
        harness.state().visible_range(),
        zoomed,
        "back to the zoomed view"
    );
    harness.key_press_modifiers(Modifiers::ALT, Key::ArrowRight);
    harness.step();
    harness.step();
    assert_eq!(
        harness.state().visible_range(),
        whole,
        "forward to the whole trace"
    );

    // W held down zooms in smoothly.
    harness.key_down(Key::W);
    harness.run_steps(5);
    harness.key_up(Key::W);
    harness.step();
    assert!(width(harness.state().visible_range()) < width(whole));
}

#[test]
fn shift_drag_selects_a_range_and_z_zooms_to_it() {
    let dir = scratch("select");
    let mut harness = open(&trace_copy(&dir, "select.trace"));
    let whole = harness.state().visible_range();
    let (from, to) = (Pos2::new(400.0, 400.0), Pos2::new(650.0, 420.0));
    send(
        &mut harness,
        [
            Event::ModifiersChanged(Modifiers::SHIFT),
            Event::PointerMoved(from),
            press(from, true),
            Event::PointerMoved(Pos2::new(500.0, 410.0)),
            Event::PointerMoved(to),
            press(to, false),
            Event::ModifiersChanged(Modifiers::NONE),
        ],
    );
    harness.step();
    assert!(
        harness.query_by_label_contains("Selection ").is_some(),
        "the length is shown"
    );
    assert_eq!(
        harness.state().visible_range(),
        whole,
        "a selection does not pan"
    );

    harness.key_press(Key::Z);
    harness.step();
    harness.step();
    let zoomed = harness.state().visible_range();
    // 250 of the body's ~980 points (the window minus panel margins and the
    // name column) were selected.
    let expected = width(whole) * 250 / 980;
    assert!(
        (width(zoomed) - expected).abs() <= expected / 50,
        "{zoomed:?} vs {expected}"
    );
}

#[test]
fn plain_drag_pans() {
    let dir = scratch("pan");
    let mut harness = open(&trace_copy(&dir, "pan.trace"));
    zoom_at(&mut harness, BODY, 4.0);
    let before = harness.state().visible_range();
    send(
        &mut harness,
        [
            press(BODY, true),
            Event::PointerMoved(BODY + egui::vec2(50.0, 0.0)),
            Event::PointerMoved(BODY + egui::vec2(100.0, 0.0)),
            press(BODY + egui::vec2(100.0, 0.0), false),
        ],
    );
    harness.step();
    let after = harness.state().visible_range();
    assert_eq!(width(after), width(before));
    assert!(
        after.0 < before.0,
        "dragging right shows earlier times: {before:?} -> {after:?}"
    );
}

#[test]
fn a_changed_file_offers_reload() {
    let dir = scratch("reload");
    let path = trace_copy(&dir, "growing.trace");
    let mut harness = open(&path);
    zoom_at(&mut harness, BODY, 2.0);
    let zoomed = harness.state().visible_range();
    let hint = "File changed on disk — F5 to reload";
    assert!(harness.query_by_label(hint).is_none());
    let mut bytes = std::fs::read(&path).expect("read");
    bytes.extend_from_slice(&[0; 64]);
    std::fs::write(&path, bytes).expect("rewrite");
    wait_for(&mut harness, "the reload hint", |h| {
        h.query_by_label(hint).is_some()
    });
    harness.key_press(Key::F5);
    wait_for(&mut harness, "the reload", |h| {
        h.query_by_label(hint).is_none()
    });
    assert!(harness.query_by_label("growing.trace").is_some());
    assert_eq!(
        harness.state().visible_range(),
        zoomed,
        "reload keeps the view"
    );
}

#[test]
fn hovering_a_file_shows_the_drop_hint() {
    let dir = scratch("hover");
    let mut harness = open(&trace_copy(&dir, "hover.trace"));
    let hint_shown = |h: &App| {
        h.output()
            .shapes
            .iter()
            .any(|clipped| match &clipped.shape {
                egui::Shape::Text(text) => text.galley.text() == "Drop a Go trace to open it",
                _ => false,
            })
    };
    harness.step();
    assert!(!hint_shown(&harness));
    harness.input_mut().hovered_files.push(egui::HoveredFile {
        path: Some(dir.join("other.trace")),
        ..Default::default()
    });
    harness.step();
    assert!(hint_shown(&harness));
}

/// A press or release of the primary button at `pos`, without modifiers.
fn press(pos: Pos2, pressed: bool) -> Event {
    button(pos, pressed, Modifiers::NONE)
}
