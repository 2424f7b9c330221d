//! A latency distribution as a bar chart over a logarithmic duration axis,
//! where clicking a bar picks its bin.
//!
//! Latencies span nanoseconds to seconds, and the interesting part is the
//! thin tail on the right, so both axes are logarithmic: x is `log10` of the
//! duration, and a bar's height is `1 + log10(count)`, so a bin of one
//! interval still shows while a bin of a million does not flatten the rest.
//! Tick labels are durations and counts, not logarithms.
//!
//! A bar is an octave (`2^e .. 2^(e+1)` ns; zero-length intervals get a bar
//! of their own): the [`LogHistogram`]'s eighth-of-an-octave bins would be a
//! pixel wide each in a panel, too thin to click. Its bins nest in the
//! octaves, so a bar's intervals are exactly those of its bins.
//!
//! The x range spans exactly the bars, without margin (`Plot` margins off,
//! bounds fixed, zoom and drag off): the chart is an overview to click, not
//! to explore, and a fixed mapping is what lets a test click a bar at a
//! computed position ([`bar_center`]). A click picks the bar under the
//! pointer or, between bars, the nearest one within [`CLICK_SLOP`].

use egui_plot::{AxisHints, Bar, BarChart, GridInput, GridMark, Plot, log_grid_spacer};

use super::axis::format_duration;
use crate::analysis::{Bin, LogHistogram};

/// Height of the chart, in points: tall enough for a few decades of counts.
pub(crate) const HEIGHT: f32 = 150.0;

/// Where a bin of zero-length intervals starts on the axis, in
/// nanoseconds: `log10(0)` has no place, so such a bin is drawn as if it
/// began at half a nanosecond (it ends at 1 ns).
const ZERO_AS_NS: f64 = 0.5;

/// How far from a bar a click still picks it, in points: a short bar
/// next to a gap is still easy to hit.
const CLICK_SLOP: f64 = 6.0;

/// Decade labels fade in between these spacings, in points: `100 µs` is
/// about 40 points wide; egui_plot's default (60–80) would hide every label
/// of a chart a few hundred points wide.
const DECADE_LABEL_SPACING: std::ops::RangeInclusive<f32> = 36.0..=48.0;

/// Colour of the bars, and of the picked bar (Go's cyan and a warm accent).
const BAR_COLOR: egui::Color32 = egui::Color32::from_rgb(0x00, 0xad, 0xd8);
const PICKED_COLOR: egui::Color32 = egui::Color32::from_rgb(0xf0, 0x8a, 0x24);

/// Where bin `lo..hi` lies on the x axis: `(log10(lo), log10(hi))`.
pub(crate) fn bin_extent(bin: &Bin) -> (f64, f64) {
    let lo = (bin.lo as f64).max(ZERO_AS_NS);
    (lo.log10(), (bin.hi as f64).log10())
}

/// The bars of `histogram`: its bins merged per octave, shortest first.
pub(crate) fn octaves(histogram: &LogHistogram) -> Vec<Bin> {
    let mut bars: Vec<Bin> = Vec::new();
    for bin in histogram.bins() {
        let (lo, hi) = octave(bin.lo);
        match bars.last_mut() {
            Some(bar) if bar.lo == lo => bar.count += bin.count,
            _ => bars.push(Bin {
                lo,
                hi,
                count: bin.count,
            }),
        }
    }
    bars
}

/// The octave holding duration `d`: `0..1` for zero, else `2^e..2^(e+1)`.
fn octave(d: i64) -> (i64, i64) {
    match u64::try_from(d) {
        Ok(d) if d > 0 => {
            let e = d.ilog2();
            let lo = 1i64 << e;
            (lo, lo.saturating_mul(2))
        }
        _ => (0, 1),
    }
}

/// The centre of `bin` on the x axis (what a click must hit).
pub(crate) fn bar_center(bin: &Bin) -> f64 {
    let (lo, hi) = bin_extent(bin);
    (lo + hi) / 2.0
}

/// The x range the chart shows for `bins`: from the first to the last one.
pub(crate) fn x_range(bins: &[Bin]) -> Option<(f64, f64)> {
    let first = bins.first()?;
    let last = bins.last()?;
    Some((bin_extent(first).0, bin_extent(last).1))
}

/// The bin at axis position `x`, or the nearest one within `slop` (axis
/// units), if any.
fn bin_at(bins: &[Bin], x: f64, slop: f64) -> Option<Bin> {
    let distance = |b: &Bin| {
        let (lo, hi) = bin_extent(b);
        (lo - x).max(x - hi).max(0.0)
    };
    bins.iter()
        .map(|b| (distance(b), b))
        .filter(|(d, _)| *d <= slop)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, b)| *b)
}

/// Height of a bar of `count` intervals.
fn bar_height(count: u64) -> f64 {
    1.0 + (count.max(1) as f64).log10()
}

/// The count a height on the y axis stands for.
fn count_at(height: f64) -> f64 {
    10f64.powf(height - 1.0)
}

/// Draws `histogram`, with `picked` (a bar's `lo..hi`) highlighted; returns
/// the bar the user clicked, if any. `name` labels the chart for screen
/// readers (and tells charts apart).
pub(crate) fn show(
    ui: &mut egui::Ui,
    name: &str,
    histogram: &LogHistogram,
    picked: Option<(i64, i64)>,
) -> Option<Bin> {
    let bins = octaves(histogram);
    let (x_min, x_max) = x_range(&bins)?;
    let y_max = bins.iter().map(|b| bar_height(b.count)).fold(1.0, f64::max);
    let bars: Vec<Bar> = bins
        .iter()
        .map(|b| {
            let (lo, hi) = bin_extent(b);
            let color = if picked == Some((b.lo, b.hi)) {
                PICKED_COLOR
            } else {
                BAR_COLOR
            };
            Bar::new(bar_center(b), bar_height(b.count))
                .width((hi - lo) * 0.9)
                .fill(color)
                .name(bin_text(b))
        })
        .collect();
    let chart = BarChart::new("intervals", bars)
        .color(BAR_COLOR)
        .element_formatter(Box::new(|bar, _| bar.name.clone()));
    let response = Plot::new(name)
        .height(HEIGHT)
        .default_x_bounds(x_min, x_max)
        .default_y_bounds(0.0, y_max * 1.05)
        .set_margin_fraction(egui::Vec2::ZERO)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .show_x(false)
        .show_y(false)
        .x_grid_spacer(decades)
        .y_grid_spacer(log_grid_spacer(10))
        .custom_x_axes(vec![
            AxisHints::new_x()
                .formatter(|mark: GridMark, _| format_duration(10f64.powf(mark.value)))
                .label_spacing(DECADE_LABEL_SPACING),
        ])
        .y_axis_formatter(|mark: GridMark, _| format_count(mark.value))
        .show(ui, |plot| plot.bar_chart(chart));
    response
        .response
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, name));
    if !response.response.clicked() {
        return None;
    }
    let pos = response.response.interact_pointer_pos()?;
    let slop = CLICK_SLOP / response.transform.dpos_dvalue_x().abs();
    bin_at(&bins, response.transform.value_from_position(pos).x, slop)
}

/// Grid marks at every decade (1 ns, 10 ns, …) of the visible x range.
fn decades(input: GridInput) -> Vec<GridMark> {
    let (min, max) = input.bounds;
    let (first, last) = (min.ceil() as i64, max.floor() as i64);
    (first..=last)
        .map(|k| GridMark {
            value: k as f64,
            step_size: 1.0,
        })
        .collect()
}

/// A bin's counts and durations in words, for its tooltip and the filter.
pub(crate) fn bin_text(bin: &Bin) -> String {
    let intervals = if bin.count == 1 {
        "1 interval".to_owned()
    } else {
        format!("{} intervals", bin.count)
    };
    format!(
        "{intervals} of {} – {}",
        format_duration(bin.lo as f64),
        format_duration(bin.hi as f64)
    )
}

/// A y tick: the count it stands for, as a whole number; none below one.
fn format_count(height: f64) -> String {
    if height < 1.0 {
        return String::new();
    }
    format!("{:.0}", count_at(height))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(durations: &[i64]) -> LogHistogram {
        let mut h = LogHistogram::default();
        for &d in durations {
            h.add(d);
        }
        h
    }

    #[test]
    fn bars_are_octaves() {
        let h = histogram(&[0, 3, 1_000, 1_100, 1_500, 2_000_000]);
        let bars = octaves(&h);
        let bounds: Vec<(i64, i64, u64)> = bars.iter().map(|b| (b.lo, b.hi, b.count)).collect();
        assert_eq!(
            bounds,
            [
                (0, 1, 1),
                (2, 4, 1),
                (512, 1024, 1),
                (1024, 2048, 2),
                (1 << 20, 1 << 21, 1)
            ]
        );
        let (min, max) = x_range(&bars).expect("bars");
        assert!((min - 0.5f64.log10()).abs() < 1e-9 && (max - 2_097_152f64.log10()).abs() < 1e-9);
        for bar in &bars {
            assert_eq!(bin_at(&bars, bar_center(bar), 0.0), Some(*bar));
        }
        assert_eq!(bin_at(&bars, 5.0, 0.1), None, "100 µs: no interval");
        assert_eq!(bin_at(&bars, 3.35, 0.1), bars.get(3).copied(), "near 2 µs");
    }

    #[test]
    fn heights_keep_single_intervals_visible() {
        assert_eq!(bar_height(1), 1.0);
        assert!((bar_height(1000) - 4.0).abs() < 1e-9);
        assert_eq!(format_count(3.0), "100");
        assert_eq!(format_count(0.5), "");
        let bin = Bin {
            lo: 1_024,
            hi: 2_048,
            count: 2,
        };
        assert_eq!(bin_text(&bin), "2 intervals of 1.02 µs – 2.05 µs");
    }
}
