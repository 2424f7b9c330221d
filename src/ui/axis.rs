//! The time axis: tick spacing that adapts to the zoom, labels in the unit
//! that fits (ns, µs, ms, s), and durations formatted for people.
//!
//! Ticks step in 1-2-5 multiples of a power of ten, so labels stay round
//! numbers at every zoom. The step is the smallest whose labels, measured with
//! the real font, fit between two ticks with a gap: labels never overlap, on
//! any display scale or font.
//!
//! Labels count from the start of the trace. Deep inside a long trace a
//! 100 ns step would need labels like `12.3456001 s`; there the axis shows a
//! base (`12.3450 s +`) once and labels count from it, as Perfetto does, so
//! each label keeps a handful of digits.

use egui::{Align2, Color32, FontId, Painter, Pos2, Rect, Stroke};

use super::view::Mapping;

/// Gap between two labels, in points: enough that neighbours read as separate numbers.
const LABEL_GAP: f32 = 16.0;

/// Minimum distance of minor ticks in points; denser ones would be a grey smear.
const MIN_MINOR_SPACING: f32 = 6.0;

/// Labels may count up to this many steps from the base before the axis
/// moves the base forward; keeps labels to about four significant digits.
const MAX_STEPS_FROM_BASE: f64 = 1e4;

/// Height of the axis strip, in points.
pub(crate) const AXIS_HEIGHT: f32 = 26.0;

/// A unit to print times in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Ns,
    Us,
    Ms,
    S,
}

impl Unit {
    /// The largest unit not larger than `ns` (nanoseconds), so that values print ≥ 1.
    fn fitting(ns: f64) -> Self {
        match ns.abs() {
            v if v >= 1e9 => Self::S,
            v if v >= 1e6 => Self::Ms,
            v if v >= 1e3 => Self::Us,
            _ => Self::Ns,
        }
    }

    /// The unit of the step, unless labels up to `max` would need five or
    /// more digits before the point (`12000 ms`): then the next larger one.
    fn for_labels(step: f64, max: f64) -> Self {
        let mut unit = Self::fitting(step);
        while max / unit.ns() >= 1e4 && unit != Self::S {
            unit = Self::fitting(unit.ns() * 1e3);
        }
        unit
    }

    fn ns(self) -> f64 {
        match self {
            Self::Ns => 1.0,
            Self::Us => 1e3,
            Self::Ms => 1e6,
            Self::S => 1e9,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Self::Ns => "ns",
            Self::Us => "µs",
            Self::Ms => "ms",
            Self::S => "s",
        }
    }
}

/// Prints a duration with three significant digits in the unit that fits,
/// e.g. `845 ns`, `1.23 ms`, `12.3 s`.
pub(crate) fn format_duration(ns: f64) -> String {
    let unit = Unit::fitting(ns);
    let value = ns / unit.ns();
    let decimals = match value.abs() {
        v if unit == Unit::Ns || v >= 99.95 => 0,
        v if v >= 9.995 => 1,
        _ => 2,
    };
    format!("{value:.decimals$} {}", unit.symbol())
}

/// Prints the time range `start..end` (from the start of the trace) as
/// `start – end (length)`, both ends in the unit of the later one, with
/// as many decimals as tell apart times a thousandth of the range apart
/// (never finer than a nanosecond): `30.020000000 s – 30.020001000 s
/// (1.00 µs)` when zoomed to a microsecond, `0.00 s – 61.30 s (61.3 s)`
/// for a whole trace.
pub(crate) fn format_range(start: f64, end: f64) -> String {
    let unit = Unit::fitting(start.abs().max(end.abs()));
    let step = precision(end - start);
    let (a, b) = (
        format_at_step(start, step, unit),
        format_at_step(end, step, unit),
    );
    format!("{a} – {b} ({})", format_duration(end - start))
}

/// Prints time `ns` (from the start of the trace) in a view `width` ns
/// wide, precise to a thousandth of the view as [`format_range`] is.
pub(crate) fn format_time_in(ns: f64, width: f64) -> String {
    format_at_step(ns, precision(width), Unit::fitting(ns))
}

/// The finest difference worth printing in a view `width` ns wide.
fn precision(width: f64) -> f64 {
    (width / 1000.0).max(1.0)
}

/// Prints `ns` in `unit` with enough decimals to tell multiples of `step` apart.
fn format_at_step(ns: f64, step: f64, unit: Unit) -> String {
    let step_in_unit = step / unit.ns();
    let decimals = (-step_in_unit.log10()).ceil().max(0.0) as usize;
    // `+ 0.0` turns a negative zero into a positive one.
    let value = ns / unit.ns() + 0.0;
    format!("{value:.decimals$} {}", unit.symbol())
}

/// The 1-2-5 steps from 1 ns upward.
fn steps() -> impl Iterator<Item = f64> {
    (0..20).flat_map(|exp| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(exp)))
}

/// Tick positions and labels for one frame.
#[derive(Clone, Debug)]
pub(crate) struct Ticks {
    /// Distance between major ticks, in nanoseconds.
    step: f64,
    /// Labels count from this time (0 = the trace start).
    base: f64,
    /// Unit of the labels.
    unit: Unit,
    /// First major tick at or after the visible start.
    first: f64,
    /// Visible end.
    end: f64,
}

impl Ticks {
    /// Chooses ticks for the visible range of `mapping`, measuring labels with `width_of`.
    pub(crate) fn new(
        mapping: &Mapping,
        visible: (f64, f64),
        width_of: impl Fn(&str) -> f32,
    ) -> Self {
        let (start, end) = visible;
        let mut last = None;
        for step in steps() {
            let base = if start / step > MAX_STEPS_FROM_BASE {
                let chunk = step * MAX_STEPS_FROM_BASE / 10.0;
                (start / chunk).floor() * chunk
            } else {
                0.0
            };
            let unit = Unit::for_labels(step, end - base);
            let ticks = Self {
                step,
                base,
                unit,
                first: (start / step).ceil() * step,
                end,
            };
            let px = step / mapping.ns_per_px();
            let widest = width_of(&ticks.label(ticks.first)).max(width_of(&ticks.label(end)));
            if px as f32 >= widest + LABEL_GAP {
                return ticks;
            }
            last = Some(ticks);
        }
        // Unreachable for real traces (the largest step is 5e19 ns); keeps the type total.
        last.unwrap_or(Self {
            step: 1.0,
            base: 0.0,
            unit: Unit::Ns,
            first: start,
            end,
        })
    }

    /// The label of the tick at `t`.
    pub(crate) fn label(&self, t: f64) -> String {
        format_at_step(t - self.base, self.step, self.unit)
    }

    /// The base label (`12.3450 s +`), when labels count from a base.
    pub(crate) fn base_label(&self) -> Option<String> {
        (self.base > 0.0).then(|| {
            let chunk = self.step * MAX_STEPS_FROM_BASE / 10.0;
            let unit = Unit::fitting(self.base);
            format!("{} +", format_at_step(self.base, chunk, unit))
        })
    }

    /// Times of the major ticks in the visible range.
    pub(crate) fn major(&self) -> impl Iterator<Item = f64> + '_ {
        let count = ((self.end - self.first) / self.step).floor().max(-1.0) as i64 + 1;
        (0..count).map(move |i| self.first + i as f64 * self.step)
    }

    /// Minor subdivisions of a step: 5 for 1 and 5, 4 for 2 (round numbers either way).
    fn minor_step(&self) -> f64 {
        let mantissa = self.step / 10f64.powf(self.step.log10().floor());
        if (mantissa - 2.0).abs() < 0.5 {
            self.step / 4.0
        } else {
            self.step / 5.0
        }
    }
}

/// Wall-clock time `unix_ns` in the local time zone, with its offset from
/// UTC: a Go engineer matches it against log lines and dashboards.
pub(crate) fn format_wall(unix_ns: i64) -> String {
    let offset = local_offset(unix_ns.div_euclid(1_000_000_000));
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    format!(
        "{} UTC{sign}{:02}:{:02}",
        crate::trace::format_wall_clock(unix_ns, offset),
        abs / 3600,
        abs / 60 % 60
    )
}

/// The local time zone's offset from UTC at `unix_secs`, in seconds east.
#[cfg(unix)]
fn local_offset(unix_secs: i64) -> i64 {
    // time_t is 64 bits on every platform a trace viewer runs on today.
    let t = unix_secs as libc::time_t;
    // SAFETY: `localtime_r` reads `t` and writes only the `tm` it is given,
    // which is a plain C struct for which all-zero bytes are a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if ok { tm.tm_gmtoff } else { 0 }
}

/// The local time zone's offset from UTC (UTC where it is not known).
#[cfg(not(unix))]
fn local_offset(_unix_secs: i64) -> i64 {
    0
}

/// Paints the axis strip: minor and major ticks with labels.
pub(crate) fn paint(
    painter: &Painter,
    rect: Rect,
    mapping: &Mapping,
    ticks: &Ticks,
    text: Color32,
) {
    let font = FontId::proportional(12.0);
    let line = Stroke::new(1.0, text.gamma_multiply(0.6));
    painter.hline(rect.x_range(), rect.bottom() - 0.5, line);

    let minor = ticks.minor_step();
    if (minor / mapping.ns_per_px()) as f32 >= MIN_MINOR_SPACING {
        let start = (mapping.time(rect.left()) / minor).ceil() as i64;
        let end = (mapping.time(rect.right()) / minor).floor() as i64;
        for i in start..=end {
            let x = mapping.x(i as f64 * minor);
            painter.vline(x, (rect.bottom() - 4.0)..=rect.bottom(), line);
        }
    }
    for t in ticks.major() {
        let x = mapping.x(t);
        painter.vline(x, (rect.bottom() - 10.0)..=rect.bottom(), line);
        painter.text(
            Pos2::new(x + 3.0, rect.top() + 3.0),
            Align2::LEFT_TOP,
            ticks.label(t),
            font.clone(),
            text,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::view::{View, ViewCommand};
    use super::*;
    use crate::model::TimeSpan;

    /// 7 points per character: a stand-in for the font, wide enough to be pessimistic.
    fn width(s: &str) -> f32 {
        s.chars().count() as f32 * 7.0
    }

    fn ticks_for(start: f64, end: f64) -> (Ticks, Mapping) {
        let mut view = View::new(TimeSpan::new(0, 100_000_000_000));
        view.apply(ViewCommand::Show { start, end }, 0.0);
        let mapping = Mapping::new(&view, 0.0, 1000.0);
        (Ticks::new(&mapping, view.visible(), width), mapping)
    }

    #[test]
    fn ranges_and_times_are_as_precise_as_the_view() {
        let micro = format_range(30_020_000_000.0, 30_020_001_000.0);
        assert_eq!(micro, "30.020000000 s – 30.020001000 s (1.00 µs)");
        assert_eq!(format_range(0.0, 61.3e9), "0.00 s – 61.30 s (61.3 s)");
        assert_eq!(format_range(100.0, 400.0), "100 ns – 400 ns (300 ns)");
        assert_eq!(format_time_in(30_020_000_512.0, 1000.0), "30.020000512 s");
        assert_eq!(format_time_in(1_500_000.0, 1e9), "2 ms");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(845.0), "845 ns");
        assert_eq!(format_duration(1_234_567.0), "1.23 ms");
        assert_eq!(format_duration(12_345_678_901.0), "12.3 s");
        assert_eq!(format_duration(99_999.0), "100 µs");
    }

    #[test]
    fn labels_never_overlap_and_use_fitting_units() {
        for (start, end) in [
            (0.0, 1e3),
            (0.0, 3e9),
            (5e8, 5e8 + 2e5),
            (1.2e10, 1.2e10 + 150.0),
        ] {
            let (ticks, mapping) = ticks_for(start, end);
            let xs: Vec<f32> = ticks.major().map(|t| mapping.x(t)).collect();
            assert!(xs.len() >= 2, "{start}..{end}: {xs:?}");
            for (pair, t) in xs.windows(2).zip(ticks.major()) {
                assert!(pair[1] - pair[0] >= width(&ticks.label(t)) + LABEL_GAP);
            }
        }
        let (ticks, _) = ticks_for(0.0, 3e9);
        assert_eq!(ticks.label(2.5e9), "2500 ms");
        let (ticks, _) = ticks_for(0.0, 60e9);
        assert_eq!(ticks.label(50e9), "50 s");
        let (ticks, _) = ticks_for(0.0, 1e3);
        assert!(ticks.label(200.0).ends_with(" ns"));
    }

    #[test]
    fn deep_zoom_counts_from_a_base() {
        let (ticks, _) = ticks_for(1.2e10, 1.2e10 + 150.0);
        let base = ticks.base_label().expect("a base deep inside the trace");
        assert!(base.ends_with(" s +"), "{base}");
        let label = ticks.label(ticks.first);
        assert!(label.len() <= 12, "{label}");
    }
}
