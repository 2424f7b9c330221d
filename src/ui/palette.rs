//! Colours of everything drawn in the lanes, and the legend that explains them.
//!
//! Two families, so a glance tells "what state" from "whose work":
//! - fixed colours for states and runtime activity (running green, runnable
//!   yellow, syscall purple, GC blue, stop-the-world red, …), the same on
//!   every lane, chosen to stay apart on dark and light themes;
//! - a hash palette for things with a name (the goroutine a P runs, its
//!   start function, regions, tasks, block reasons): the model hashes each
//!   label to a stable `color_key`, and the same function gets the same
//!   colour in every lane, generation and session.
//!
//! The hash palette spreads hues evenly and varies saturation and value a
//! little, inside a band light enough for dark text and dark enough to stand
//! out on a light theme: every pair of neighbouring spans differs in hue or
//! brightness, and labels stay legible on all of them.

use egui::Color32;

use crate::model::{ItemKind, LaneKey, SpanKind};

/// Grey of fold blocks ("N spans"): neutral, so a block never passes for a
/// state or a function.
pub(crate) const FOLD: Color32 = Color32::from_rgb(0x8a, 0x8f, 0x98);

/// Colour of a failing generation's marker.
pub(crate) const ERROR: Color32 = Color32::from_rgb(0xe5, 0x39, 0x35);

/// Opacity of a summary bucket with no busy time: faint enough to read as
/// "mostly idle", strong enough that the bucket's kind is still visible.
const SUMMARY_MIN_ALPHA: f32 = 0.3;

/// The fixed colour of a state or runtime activity.
pub(crate) fn kind_color(kind: SpanKind) -> Color32 {
    match kind {
        SpanKind::Running => Color32::from_rgb(0x4c, 0xaf, 0x50),
        SpanKind::Runnable => Color32::from_rgb(0xf2, 0xc9, 0x4c),
        SpanKind::Waiting => Color32::from_rgb(0xc9, 0x8b, 0x8b),
        SpanKind::Syscall => Color32::from_rgb(0x95, 0x75, 0xcd),
        SpanKind::GcMark => Color32::from_rgb(0x4f, 0x9b, 0xe0),
        SpanKind::StopTheWorld => Color32::from_rgb(0xd3, 0x2f, 0x2f),
        SpanKind::GcSweep => Color32::from_rgb(0x80, 0xcb, 0xc4),
        SpanKind::GcAssist => Color32::from_rgb(0xef, 0x8a, 0x3c),
        SpanKind::Region => Color32::from_rgb(0x90, 0xa4, 0xae),
        SpanKind::Task => Color32::from_rgb(0xa1, 0x88, 0x7f),
        SpanKind::CpuSample => Color32::from_rgb(0xe0, 0x40, 0xfb),
        SpanKind::Log => Color32::from_rgb(0x29, 0xb6, 0xf6),
    }
}

/// A stable colour for a name: hue from the key, saturation and value from
/// other bits of it (FNV output is well mixed in every bit).
pub(crate) fn named_color(key: u32) -> Color32 {
    let hue = (key & 0xffff) as f32 / 65536.0;
    let saturation = 0.35 + 0.25 * ((key >> 16) & 0xff) as f32 / 255.0;
    let value = 0.80 + 0.15 * ((key >> 24) & 0xff) as f32 / 255.0;
    hsv(hue, saturation, value)
}

/// A blocked goroutine's colour: the waiting hue family (dusty reds and
/// pinks), shifted by the reason so that "chan receive" and "sync.Mutex"
/// differ while both still read as blocked.
fn waiting_color(reason_key: u32) -> Color32 {
    let shift = (reason_key & 0xff) as f32 / 255.0;
    let hue = (0.94 + 0.12 * shift).fract();
    let value = 0.72 + 0.14 * ((reason_key >> 8) & 0xff) as f32 / 255.0;
    hsv(hue, 0.30, value)
}

/// An sRGB colour from hue, saturation and value, all in 0..=1, computed in
/// gamma space (not egui's linear `Hsva`), so that saturation and value mean
/// what they look like.
fn hsv(hue: f32, saturation: f32, value: f32) -> Color32 {
    let sector = hue.rem_euclid(1.0) * 6.0;
    let f = sector.fract();
    let (p, q, t) = (
        value * (1.0 - saturation),
        value * (1.0 - saturation * f),
        value * (1.0 - saturation * (1.0 - f)),
    );
    let (r, g, b) = match sector as u8 {
        0 => (value, t, p),
        1 => (q, value, p),
        2 => (p, value, t),
        3 => (p, q, value),
        4 => (t, p, value),
        _ => (value, p, q),
    };
    let byte = |c: f32| (c.clamp(0.0, 1.0) * 255.0).round() as u8;
    Color32::from_rgb(byte(r), byte(g), byte(b))
}

/// The fill of a draw item on lane `lane`.
pub(crate) fn item_color(lane: LaneKey, item: &ItemKind<'_>) -> Color32 {
    match *item {
        ItemKind::Span {
            kind,
            label,
            color_key,
            ..
        } => span_color(lane, kind, label, color_key),
        ItemKind::Fold { .. } => FOLD,
        ItemKind::Summary { kind, busy, .. } => {
            let alpha = SUMMARY_MIN_ALPHA + (1.0 - SUMMARY_MIN_ALPHA) * busy.clamp(0.0, 1.0);
            kind_color(kind).gamma_multiply(alpha)
        }
    }
}

/// P and M lanes colour running goroutines by their start function, so a
/// goroutine's work is recognisable as it moves between Ps; goroutine lanes
/// show state colours; user annotations are coloured by name.
fn span_color(lane: LaneKey, kind: SpanKind, label: &str, color_key: u32) -> Color32 {
    let on_cpu_lane = matches!(lane, LaneKey::Proc(_) | LaneKey::Thread(_));
    match kind {
        SpanKind::Running if on_cpu_lane && !label.is_empty() => named_color(color_key),
        SpanKind::Waiting if !label.is_empty() => waiting_color(color_key),
        SpanKind::Region | SpanKind::Task if !label.is_empty() => named_color(color_key),
        _ => kind_color(kind),
    }
}

/// Black or white, whichever reads better on `fill`.
pub(crate) fn text_on(fill: Color32) -> Color32 {
    let [r, g, b, _] = fill.to_array();
    let luma = 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b);
    if luma > 140.0 {
        Color32::from_rgb(0x10, 0x10, 0x10)
    } else {
        Color32::WHITE
    }
}

/// What the legend lists, in reading order: (swatch, meaning).
pub(crate) fn legend() -> Vec<(Color32, &'static str)> {
    let kinds = [
        (SpanKind::Running, "Running (goroutine lanes)"),
        (SpanKind::Runnable, "Runnable: ready, waiting for a P"),
        (SpanKind::Waiting, "Blocked (shade varies by reason)"),
        (SpanKind::Syscall, "In a system call"),
        (SpanKind::GcMark, "GC mark phase"),
        (SpanKind::StopTheWorld, "Stop-the-world pause"),
        (SpanKind::GcSweep, "Sweeping"),
        (SpanKind::GcAssist, "Mark assist"),
        (SpanKind::CpuSample, "CPU profile sample"),
        (SpanKind::Log, "Log message"),
    ];
    let mut entries: Vec<_> = kinds.iter().map(|&(k, s)| (kind_color(k), s)).collect();
    entries.push((
        // A pink from the hash palette: unlike any state colour above.
        named_color(0x80ff_e666),
        "P and M lanes, regions, tasks: one colour per function or name",
    ));
    entries.push((FOLD, "Fold: spans too narrow to draw apart, zoom in"));
    entries.push((ERROR, "Where a generation could not be decoded"));
    entries
}

/// Paints the legend into `ui`.
pub(crate) fn legend_ui(ui: &mut egui::Ui) {
    ui.heading("Colours");
    ui.add_space(6.0);
    egui::Grid::new("legend")
        .num_columns(2)
        .spacing([10.0, 4.0])
        .show(ui, |ui| {
            for (color, meaning) in legend() {
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(28.0, 12.0), egui::Sense::hover());
                ui.painter().rect_filled(rect, 2.0, color);
                ui.label(meaning);
                ui.end_row();
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Squared RGB distance.
    fn distance(a: Color32, b: Color32) -> i32 {
        let (a, b) = (a.to_array(), b.to_array());
        (0..3)
            .map(|i| (i32::from(a[i]) - i32::from(b[i])).pow(2))
            .sum()
    }

    #[test]
    fn state_colours_are_distinguishable() {
        let states = [
            SpanKind::Running,
            SpanKind::Runnable,
            SpanKind::Waiting,
            SpanKind::Syscall,
            SpanKind::GcMark,
            SpanKind::StopTheWorld,
            SpanKind::GcAssist,
        ];
        for (i, &a) in states.iter().enumerate() {
            for &b in &states[i + 1..] {
                let d = distance(kind_color(a), kind_color(b));
                assert!(d > 40 * 40, "{a:?} and {b:?} look alike ({d})");
            }
        }
    }

    #[test]
    fn hsv_primaries() {
        assert_eq!(hsv(0.0, 1.0, 1.0), Color32::from_rgb(255, 0, 0));
        assert_eq!(hsv(1.0 / 3.0, 1.0, 1.0), Color32::from_rgb(0, 255, 0));
        assert_eq!(hsv(2.0 / 3.0, 1.0, 0.5), Color32::from_rgb(0, 0, 128));
        assert_eq!(hsv(0.5, 0.0, 1.0), Color32::WHITE);
    }

    #[test]
    fn named_colours_are_stable_and_spread() {
        assert_eq!(named_color(42), named_color(42));
        let keys = [0x0000_1000u32, 0x0000_6000, 0x0000_b000];
        let colors: Vec<Color32> = keys.iter().map(|&k| named_color(k)).collect();
        assert!(distance(colors[0], colors[1]) > 60 * 60);
        assert!(distance(colors[1], colors[2]) > 60 * 60);
    }

    #[test]
    fn labels_read_on_every_fill() {
        for key in (0..64u32).map(|i| i.wrapping_mul(0x9e37_79b9)) {
            let fill = named_color(key);
            assert_eq!(text_on(fill), text_on(fill), "deterministic");
            assert!(distance(fill, text_on(fill)) > 100 * 100, "{fill:?}");
        }
    }

    #[test]
    fn cpu_lanes_colour_by_function_goroutine_lanes_by_state() {
        let span = |label| ItemKind::Span {
            kind: SpanKind::Running,
            label,
            color_key: 7,
            goroutine: Some(1),
            count: 0,
        };
        let named = span("main.worker");
        assert_eq!(item_color(LaneKey::Proc(0), &named), named_color(7));
        assert_eq!(
            item_color(LaneKey::Goroutine(1), &named),
            kind_color(SpanKind::Running)
        );
        assert_eq!(
            item_color(LaneKey::Proc(0), &span("")),
            kind_color(SpanKind::Running)
        );
    }
}
