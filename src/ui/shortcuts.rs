//! Keyboard shortcuts and the `?` overlay that lists them.
//!
//! Navigation follows Chrome's trace viewer and Perfetto, which Go engineers
//! already know from `go tool trace`: W/S zoom, A/D pan, held down for smooth
//! motion. The overlay is generated from [`HELP`], and [`read`], [`held`]
//! (W/A/S/D) and [`lane_scroll`] (arrows, page keys) are the only places
//! that read keys, kept next to it so the two are edited together.

use egui::{Key, KeyboardShortcut, Modifiers};

use super::view::ViewCommand;
use crate::model::timeline::ROW_HEIGHT;

/// Zoom speed while W or S is held: factor per second. 4× a second crosses a
/// 1 s trace down to 1 µs in about ten seconds and still allows precise stops.
const KEY_ZOOM_PER_S: f64 = 4.0;

/// Pan speed while A or D is held, in visible widths per second.
const KEY_PAN_WIDTHS_PER_S: f64 = 1.0;

/// Most of the window's height the `?` overlay takes before it scrolls:
/// the rest is its frame and a margin showing it is an overlay.
const HELP_HEIGHT: f32 = 0.85;

/// Rows of lanes an Up or Down arrow press scrolls: as a wheel notch does.
const ARROW_SCROLL_ROWS: f32 = 3.0;

/// Every shortcut as shown in the `?` overlay: (keys, what they do).
pub(crate) const HELP: &[(&str, &str)] = &[
    ("Ctrl+O", "Open a trace…"),
    (
        "Drag a file onto the window",
        "Open it instead of the current trace",
    ),
    ("F5", "Reload the trace from disk"),
    ("Ctrl+Wheel / pinch / W, S", "Zoom in and out at the cursor"),
    ("Drag / Shift+Wheel / A, D", "Pan earlier and later"),
    (
        "Wheel / Up, Down / Page Up, Page Down",
        "Scroll the lanes up and down",
    ),
    ("Shift+Drag", "Select a time range and show its length"),
    ("Z", "Zoom to the selection"),
    ("Hover a span", "Its state, start and duration"),
    ("Click a span", "Show its details in the side panel"),
    ("Double-click a span", "Zoom to it"),
    (
        "[ / ]",
        "Select the previous / next span of the selected one's row",
    ),
    (
        "Ctrl+Up / Ctrl+Down",
        "Select the span at the same time in the lane above / below",
    ),
    (
        "Click a section, group or lane name",
        "Fold or unfold it (goroutines are grouped by start function)",
    ),
    (
        "Right-click Goroutines or a group's name",
        "Fold or unfold every start-function group",
    ),
    ("Esc", "Clear the selection, close this overlay"),
    ("L", "Show or hide the latency outliers"),
    ("P", "Show or hide the latency profiles (flame graphs)"),
    ("G", "Show or hide the goroutine analysis"),
    ("R", "Show or hide the selected range's figures"),
    ("M", "Show or hide the minimum mutator utilisation"),
    ("N / Shift+N", "Go to the next / previous outlier"),
    ("Ctrl+F", "Filter the goroutines (syntax below)"),
    ("Home", "Show the whole trace"),
    (
        "Alt+Left / Alt+Right",
        "Back / forward through previous views",
    ),
    ("? or F1", "Show or hide these shortcuts"),
    ("Ctrl+Q", "Quit"),
];

/// The goroutine filter's syntax (see `super::filter`).
const FILTER_HELP: &[(&str, &str)] = &[
    ("main.worker", "Start function contains the text (any case)"),
    ("g:123 or 123", "Goroutine 123 only"),
    (
        ">10ms",
        "Goroutines with a latency outlier ≥ 10 ms (ns, us, ms, s)",
    ),
    (
        "stack:Mutex.Lock",
        "A stack frame of the goroutine (function or file) contains the text (any case)",
    ),
    (
        "stack:/^net/http\\./",
        "A stack frame matches the regular expression ((?i) ignores case)",
    ),
    (
        "state:waiting@1.25s",
        "Waiting at 1.25 s on the time axis (running, runnable, waiting, syscall)",
    ),
    (
        "state:waiting:chan@1.25s",
        "Waiting with a block reason containing \"chan\" (if it blocked in that generation)",
    ),
    ("parent:G5", "Goroutines that goroutine 5 created"),
    (
        "region:handle",
        "Goroutines in a user region whose type contains the text (any case)",
    ),
    (
        "task:checkout",
        "Goroutines that worked in a user task of that type (began or ended it, or had a region or log in it)",
    ),
    ("a b", "All terms must match"),
    ("Hide runtime", "Hide goroutines started in package runtime"),
];

/// What a key press asks the app to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyAction {
    /// Ctrl+O.
    Open,
    /// F5.
    Reload,
    /// Z.
    ZoomToSelection,
    /// Esc.
    Escape,
    /// `?` or F1.
    ToggleHelp,
    /// Ctrl+Q.
    Quit,
    /// L.
    ToggleOutliers,
    /// P.
    ToggleProfiles,
    /// G.
    ToggleGoroutines,
    /// R.
    ToggleRange,
    /// M.
    ToggleMmu,
    /// N (`true`) or Shift+N (`false`).
    NextOutlier(bool),
    /// `]` (`true`) or `[` (`false`).
    StepSpan(bool),
    /// Ctrl+Down (`true`) or Ctrl+Up (`false`).
    StepLane(bool),
    /// Ctrl+F.
    FocusFilter,
}

/// Key presses of this frame, consumed from the input so nothing else sees
/// them. While a text field has the keyboard (the lane filter), plain
/// letters and `?` are typed text, not shortcuts.
pub(crate) fn read(ctx: &egui::Context) -> (Vec<KeyAction>, Vec<ViewCommand>) {
    let mut actions = Vec::new();
    let mut view = Vec::new();
    let typing = ctx.egui_wants_keyboard_input();
    ctx.input_mut(|i| {
        // Most specific first: `consume_shortcut` ignores extra Shift and Alt.
        let discrete = [
            (
                KeyboardShortcut::new(Modifiers::COMMAND, Key::O),
                KeyAction::Open,
            ),
            (
                KeyboardShortcut::new(Modifiers::COMMAND, Key::Q),
                KeyAction::Quit,
            ),
            (
                KeyboardShortcut::new(Modifiers::COMMAND, Key::F),
                KeyAction::FocusFilter,
            ),
            (
                KeyboardShortcut::new(Modifiers::COMMAND, Key::ArrowDown),
                KeyAction::StepLane(true),
            ),
            (
                KeyboardShortcut::new(Modifiers::COMMAND, Key::ArrowUp),
                KeyAction::StepLane(false),
            ),
            (
                KeyboardShortcut::new(Modifiers::NONE, Key::F5),
                KeyAction::Reload,
            ),
            (
                KeyboardShortcut::new(Modifiers::NONE, Key::Escape),
                KeyAction::Escape,
            ),
            (
                KeyboardShortcut::new(Modifiers::NONE, Key::F1),
                KeyAction::ToggleHelp,
            ),
        ];
        for (shortcut, action) in discrete {
            if i.consume_shortcut(&shortcut) {
                actions.push(action);
            }
        }
        if i.consume_shortcut(&KeyboardShortcut::new(Modifiers::ALT, Key::ArrowLeft)) {
            view.push(ViewCommand::Back);
        }
        if i.consume_shortcut(&KeyboardShortcut::new(Modifiers::ALT, Key::ArrowRight)) {
            view.push(ViewCommand::Forward);
        }
        if i.consume_key(Modifiers::NONE, Key::Home) {
            view.push(ViewCommand::Fit);
        }
        if !typing {
            actions.extend(letters(i));
        }
    });
    (actions, view)
}

/// The single-key shortcuts, which a text field would take as typing.
fn letters(i: &mut egui::InputState) -> Vec<KeyAction> {
    let mut actions = Vec::new();
    if i.consume_shortcut(&KeyboardShortcut::new(Modifiers::NONE, Key::Questionmark)) {
        actions.push(KeyAction::ToggleHelp);
    }
    if i.modifiers == Modifiers::SHIFT && i.consume_key(Modifiers::SHIFT, Key::N) {
        actions.push(KeyAction::NextOutlier(false));
    }
    let plain = [
        (Key::Z, KeyAction::ZoomToSelection),
        (Key::L, KeyAction::ToggleOutliers),
        (Key::P, KeyAction::ToggleProfiles),
        (Key::G, KeyAction::ToggleGoroutines),
        (Key::R, KeyAction::ToggleRange),
        (Key::M, KeyAction::ToggleMmu),
        (Key::N, KeyAction::NextOutlier(true)),
        (Key::CloseBracket, KeyAction::StepSpan(true)),
        (Key::OpenBracket, KeyAction::StepSpan(false)),
    ];
    for (key, action) in plain {
        if i.modifiers.is_none() && i.consume_key(Modifiers::NONE, key) {
            actions.push(action);
        }
    }
    actions
}

/// How far the lanes scroll from the Up and Down arrows (a few rows) and
/// Page Up and Page Down (a `page` of points less a row, so a lane stays in
/// view across the jump) pressed this frame, in points, down positive; none
/// while a text field takes the keys.
pub(crate) fn lane_scroll(ctx: &egui::Context, page: f32) -> f32 {
    if ctx.egui_wants_keyboard_input() {
        return 0.0;
    }
    let page = (page - ROW_HEIGHT).max(ROW_HEIGHT);
    let steps = [
        (Key::ArrowUp, -ARROW_SCROLL_ROWS * ROW_HEIGHT),
        (Key::ArrowDown, ARROW_SCROLL_ROWS * ROW_HEIGHT),
        (Key::PageUp, -page),
        (Key::PageDown, page),
    ];
    ctx.input_mut(|i| {
        steps
            .iter()
            .filter(|&&(key, _)| i.consume_key(Modifiers::NONE, key))
            .map(|&(_, by)| by)
            .sum()
    })
}

/// Zoom and pan from W/A/S/D held down this frame, around `anchor`
/// (relative time under the cursor, or the centre), for a view `width` wide.
/// Asks for another frame while a key is held, so motion continues smoothly.
pub(crate) fn held(ctx: &egui::Context, anchor: f64, width: f64) -> Vec<ViewCommand> {
    let typing = ctx.egui_wants_keyboard_input();
    let (keys, dt) = ctx.input(|i| {
        let plain = i.modifiers.is_none() && !typing;
        let down = |k| plain && i.key_down(k);
        (
            [down(Key::W), down(Key::S), down(Key::A), down(Key::D)],
            f64::from(i.stable_dt.min(0.1)),
        )
    });
    let [w, s, a, d] = keys;
    let mut commands = Vec::new();
    let zoom = f64::from(i8::from(w) - i8::from(s));
    if zoom != 0.0 {
        commands.push(ViewCommand::Zoom {
            factor: KEY_ZOOM_PER_S.powf(zoom * dt),
            anchor,
        });
    }
    let pan = f64::from(i8::from(d) - i8::from(a));
    if pan != 0.0 {
        commands.push(ViewCommand::Pan(pan * KEY_PAN_WIDTHS_PER_S * width * dt));
    }
    if keys.iter().any(|&k| k) {
        ctx.request_repaint();
    }
    commands
}

/// Paints the shortcut list and the colour legend side by side into an
/// overlay `ui`, scrolling when the window is too low for them.
pub(crate) fn help_ui(ui: &mut egui::Ui) {
    let height = ui.ctx().content_rect().height() * HELP_HEIGHT;
    egui::ScrollArea::vertical()
        .max_height(height)
        .min_scrolled_height(height)
        .show(ui, |ui| {
            ui.horizontal_top(|ui| {
                ui.vertical(shortcuts_ui);
                ui.add_space(24.0);
                ui.vertical(super::palette::legend_ui);
            });
        });
}

/// The shortcut list.
fn shortcuts_ui(ui: &mut egui::Ui) {
    ui.heading("Keyboard and mouse");
    ui.add_space(6.0);
    egui::Grid::new("shortcuts")
        .num_columns(2)
        .spacing([24.0, 6.0])
        .striped(true)
        .show(ui, |ui| {
            for (keys, what) in HELP {
                ui.strong(*keys);
                ui.label(*what);
                ui.end_row();
            }
        });
    ui.add_space(12.0);
    ui.heading("Goroutine filter (Ctrl+F)");
    ui.add_space(6.0);
    filter_help_ui(ui);
}

/// The goroutine filter's syntax as a table (the overlay, the filter's
/// tooltip).
pub(crate) fn filter_help_ui(ui: &mut egui::Ui) {
    egui::Grid::new("filter-syntax")
        .num_columns(2)
        .spacing([24.0, 6.0])
        .striped(true)
        .show(ui, |ui| {
            for (syntax, what) in FILTER_HELP {
                ui.monospace(*syntax);
                ui.label(*what);
                ui.end_row();
            }
        });
}
