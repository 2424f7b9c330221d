//! The visible time range, how the user moves it, and how time maps to pixels.
//!
//! As in rerun's time panel, the view state lives outside the widgets that draw
//! it: the widgets turn input into [`ViewCommand`]s and the app applies them
//! after the frame, so every way of navigating (mouse, keys, menu, `--range`,
//! tests) goes through one function with one set of limits.
//!
//! Times inside the view are `f64` nanoseconds relative to the start of the
//! trace. Trace timestamps are large (nanoseconds since boot); relative to the
//! trace start even an hour-long trace keeps sub-nanosecond precision in an
//! `f64`, so pans of a fraction of a pixel at 100 ns zoom accumulate instead of
//! rounding away. The [`Mapping`] from time to pixels is rebuilt every frame in
//! `f64`; only the final screen coordinate becomes `f32`.

use std::collections::VecDeque;

use crate::model::TimeSpan;

/// Narrowest visible range in nanoseconds: a few events apart at most, and
/// still wide enough that one pixel is a fraction of a nanosecond (narrower
/// would only show interpolation between integer timestamps).
pub(crate) const MIN_VISIBLE_NS: f64 = 100.0;

/// Views remembered for Back. Each entry is two `f64`; the bound only keeps a
/// long session from growing without end, and 64 is more than anyone clicks back.
const HISTORY_LEN: usize = 64;

/// Continuous gestures (wheel zoom, drag, WASD) closer together than this (in
/// seconds) are one history entry: Back undoes the gesture, not one wheel notch.
const GESTURE_GAP_S: f64 = 0.5;

/// A change of the visible range, in trace-relative nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum ViewCommand {
    /// Zoom by `factor` (> 1 zooms in), keeping the time `anchor` at its pixel.
    Zoom {
        /// Ratio of old to new width.
        factor: f64,
        /// Time that stays under the cursor (or the centre).
        anchor: f64,
    },
    /// Move the range later by this many nanoseconds (negative: earlier).
    Pan(f64),
    /// Show exactly this range (zoom to selection, `--range`).
    Show {
        /// Start of the range.
        start: f64,
        /// End of the range.
        end: f64,
    },
    /// Show the whole trace (Home).
    Fit,
    /// The previous view (Alt+Left).
    Back,
    /// The view Back left (Alt+Right).
    Forward,
}

/// A visible range, relative to the trace start.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Range {
    start: f64,
    end: f64,
}

/// The visible time range with its navigation history.
#[derive(Debug)]
pub(crate) struct View {
    /// The whole trace, absolute.
    bounds: TimeSpan,
    visible: Range,
    back: VecDeque<Range>,
    forward: Vec<Range>,
    /// When the last continuous gesture step happened (seconds, egui time).
    last_gesture: f64,
}

impl View {
    /// A view showing all of `bounds` (at least a nanosecond, so that time
    /// always maps to pixels).
    pub(crate) fn new(bounds: TimeSpan) -> Self {
        let bounds = TimeSpan::new(bounds.start, bounds.end.max(bounds.start.saturating_add(1)));
        Self {
            bounds,
            visible: Range {
                start: 0.0,
                end: bounds.len() as f64,
            },
            back: VecDeque::new(),
            forward: Vec::new(),
            last_gesture: f64::NEG_INFINITY,
        }
    }

    /// The same view over new `bounds` (a reloaded trace): the visible range
    /// and history are kept, clamped to the new trace.
    pub(crate) fn rebound(&self, bounds: TimeSpan) -> Self {
        let mut view = Self::new(bounds);
        view.show(self.visible.start, self.visible.end);
        view.back = self.back.clone();
        view.forward = self.forward.clone();
        view
    }

    /// Adapts the view to the trace's refined extent (the worker replaces
    /// estimated generation ranges by exact ones as it decodes): a view of
    /// the whole trace keeps showing all of it, any other view keeps the
    /// same absolute range, and so does the history.
    pub(crate) fn refit(&mut self, bounds: TimeSpan) {
        let mut view = Self::new(bounds);
        if view.bounds == self.bounds {
            return;
        }
        let shift = (self.bounds.start - view.bounds.start) as f64;
        let moved = |r: &Range| Range {
            start: r.start + shift,
            end: r.end + shift,
        };
        let whole = self.visible.start <= 0.0 && self.visible.end >= self.trace_len();
        if !whole {
            let target = moved(&self.visible);
            view.show(target.start, target.end);
        }
        view.back = self.back.iter().map(moved).collect();
        view.forward = self.forward.iter().map(moved).collect();
        view.last_gesture = self.last_gesture;
        *self = view;
    }

    /// The absolute time the relative times count from.
    pub(crate) fn origin(&self) -> i64 {
        self.bounds.start
    }

    /// Length of the whole trace in nanoseconds.
    pub(crate) fn trace_len(&self) -> f64 {
        self.bounds.len() as f64
    }

    /// Visible range `(start, end)` relative to the trace start.
    pub(crate) fn visible(&self) -> (f64, f64) {
        (self.visible.start, self.visible.end)
    }

    /// Visible width in nanoseconds.
    pub(crate) fn width(&self) -> f64 {
        self.visible.end - self.visible.start
    }

    /// Whether Back / Forward have somewhere to go.
    pub(crate) fn can_go(&self) -> (bool, bool) {
        (!self.back.is_empty(), !self.forward.is_empty())
    }

    /// Applies a command at egui time `now` (seconds); returns whether the
    /// visible range changed.
    pub(crate) fn apply(&mut self, command: ViewCommand, now: f64) -> bool {
        let before = self.visible;
        match command {
            ViewCommand::Zoom { factor, anchor } => {
                self.gesture_step(now);
                self.zoom(factor, anchor);
            }
            ViewCommand::Pan(delta) => {
                self.gesture_step(now);
                self.show(self.visible.start + delta, self.visible.end + delta);
            }
            ViewCommand::Show { start, end } => self.jump(Range { start, end }),
            ViewCommand::Fit => self.jump(Range {
                start: 0.0,
                end: self.trace_len(),
            }),
            ViewCommand::Back => self.travel(true),
            ViewCommand::Forward => self.travel(false),
        }
        self.visible != before
    }

    fn zoom(&mut self, factor: f64, anchor: f64) {
        if !(factor.is_finite() && factor > 0.0) {
            return;
        }
        let width = self.width();
        let new_width = self.clamp_width(width / factor);
        let start = anchor - (anchor - self.visible.start) * (new_width / width);
        self.show(start, start + new_width);
    }

    /// A discrete jump: one history entry.
    fn jump(&mut self, target: Range) {
        self.last_gesture = f64::NEG_INFINITY;
        let before = self.visible;
        self.show(target.start, target.end);
        if self.visible != before {
            self.remember(before);
        }
    }

    /// A step of a continuous gesture: the first step of a gesture records the
    /// view before it.
    fn gesture_step(&mut self, now: f64) {
        if now - self.last_gesture > GESTURE_GAP_S {
            self.remember(self.visible);
        }
        self.last_gesture = now;
    }

    fn remember(&mut self, range: Range) {
        if self.back.back() != Some(&range) {
            self.back.push_back(range);
            if self.back.len() > HISTORY_LEN {
                self.back.pop_front();
            }
        }
        self.forward.clear();
    }

    fn travel(&mut self, back: bool) {
        self.last_gesture = f64::NEG_INFINITY;
        let target = if back {
            self.back.pop_back()
        } else {
            self.forward.pop()
        };
        let Some(target) = target else { return };
        if back {
            self.forward.push(self.visible);
        } else {
            self.back.push_back(self.visible);
        }
        self.visible = target;
    }

    fn clamp_width(&self, width: f64) -> f64 {
        let max = self.trace_len();
        width.clamp(MIN_VISIBLE_NS.min(max), max)
    }

    /// Sets the visible range, clamped to a legal width inside the trace.
    fn show(&mut self, start: f64, end: f64) {
        if !(start.is_finite() && end.is_finite()) {
            return;
        }
        let (start, end) = (start.min(end), start.max(end));
        let width = self.clamp_width(end - start);
        // Widening a too-narrow range keeps its centre.
        let centre = (start + end) / 2.0;
        let start = if end - start < width {
            centre - width / 2.0
        } else {
            start
        };
        let start = start.clamp(0.0, self.trace_len() - width);
        self.visible = Range {
            start,
            end: start + width,
        };
    }
}

/// Time ↔ pixel mapping of one frame, for one horizontal strip of the screen.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mapping {
    /// Screen x of the visible start.
    left: f64,
    /// Relative time at `left`.
    start: f64,
    ns_per_px: f64,
}

impl Mapping {
    /// The mapping of `view` onto the screen columns `left..right`.
    pub(crate) fn new(view: &View, left: f32, right: f32) -> Self {
        let px = f64::from((right - left).max(1.0));
        Self {
            left: f64::from(left),
            start: view.visible.start,
            ns_per_px: view.width() / px,
        }
    }

    /// Screen x of relative time `t`.
    pub(crate) fn x(&self, t: f64) -> f32 {
        (self.left + (t - self.start) / self.ns_per_px) as f32
    }

    /// Relative time at screen x.
    pub(crate) fn time(&self, x: f32) -> f64 {
        self.start + (f64::from(x) - self.left) * self.ns_per_px
    }

    /// Nanoseconds one point spans.
    pub(crate) fn ns_per_px(&self) -> f64 {
        self.ns_per_px
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    fn view() -> View {
        View::new(TimeSpan::new(5 * SECOND, 6 * SECOND))
    }

    #[test]
    fn zoom_keeps_anchor_and_clamps() {
        let mut v = view();
        assert!(v.apply(
            ViewCommand::Zoom {
                factor: 4.0,
                anchor: 5e8
            },
            0.0
        ));
        assert_eq!(v.visible(), (3.75e8, 6.25e8));
        // Zooming in forever stops at the minimum width, around the anchor.
        for _ in 0..100 {
            v.apply(
                ViewCommand::Zoom {
                    factor: 10.0,
                    anchor: 5e8,
                },
                0.0,
            );
        }
        assert_eq!(v.width(), MIN_VISIBLE_NS);
        assert!(v.visible().0 <= 5e8 && 5e8 <= v.visible().1);
        // Zooming out stops at the whole trace.
        v.apply(
            ViewCommand::Zoom {
                factor: 1e-12,
                anchor: 0.0,
            },
            0.0,
        );
        assert_eq!(v.visible(), (0.0, 1e9));
    }

    #[test]
    fn pan_stays_inside_trace() {
        let mut v = view();
        v.apply(
            ViewCommand::Show {
                start: 0.0,
                end: 1e6,
            },
            0.0,
        );
        v.apply(ViewCommand::Pan(-5e6), 0.0);
        assert_eq!(v.visible(), (0.0, 1e6));
        v.apply(ViewCommand::Pan(5e9), 0.0);
        assert_eq!(v.visible(), (1e9 - 1e6, 1e9));
    }

    #[test]
    fn history_records_jumps_and_gestures_once() {
        let mut v = view();
        v.apply(
            ViewCommand::Show {
                start: 0.0,
                end: 1e6,
            },
            0.0,
        );
        // One gesture of many steps...
        for i in 0..10 {
            v.apply(ViewCommand::Pan(1e3), 1.0 + f64::from(i) * 0.016);
        }
        let after_gesture = v.visible();
        v.apply(ViewCommand::Fit, 2.0);
        assert!(v.apply(ViewCommand::Back, 3.0));
        assert_eq!(v.visible(), after_gesture);
        // ...is undone by one Back.
        v.apply(ViewCommand::Back, 3.0);
        assert_eq!(v.visible(), (0.0, 1e6));
        v.apply(ViewCommand::Back, 3.0);
        assert_eq!(v.visible(), (0.0, 1e9));
        assert!(!v.apply(ViewCommand::Back, 3.0));
        v.apply(ViewCommand::Forward, 3.0);
        assert_eq!(v.visible(), (0.0, 1e6));
    }

    #[test]
    fn history_is_bounded() {
        let mut v = view();
        for i in 0..1000 {
            let start = f64::from(i) * 1e3;
            v.apply(
                ViewCommand::Show {
                    start,
                    end: start + 1e3,
                },
                0.0,
            );
        }
        assert_eq!(v.back.len(), HISTORY_LEN);
    }

    #[test]
    fn rebound_keeps_the_view_inside_the_new_trace() {
        let mut v = view();
        v.apply(
            ViewCommand::Show {
                start: 9e8,
                end: 9.5e8,
            },
            0.0,
        );
        let shorter = v.rebound(TimeSpan::new(0, 800_000_000));
        assert_eq!(shorter.visible(), (7.5e8, 8e8));
        assert!(shorter.can_go().0, "history survives");
        let empty = View::new(TimeSpan::new(7, 7));
        assert_eq!(empty.visible(), (0.0, 1.0));
    }

    #[test]
    fn refit_follows_the_trace_growing() {
        let mut whole = view();
        whole.refit(TimeSpan::new(5 * SECOND, 7 * SECOND));
        assert_eq!(whole.visible(), (0.0, 2e9), "the whole trace stays in view");
        let mut zoomed = view();
        zoomed.apply(
            ViewCommand::Show {
                start: 1e8,
                end: 2e8,
            },
            0.0,
        );
        zoomed.refit(TimeSpan::new(4 * SECOND, 7 * SECOND));
        assert_eq!(zoomed.visible(), (1.1e9, 1.2e9), "the same absolute range");
        assert!(zoomed.can_go().0);
    }

    #[test]
    fn mapping_round_trips() {
        let mut v = view();
        v.apply(
            ViewCommand::Show {
                start: 1e3,
                end: 2e3,
            },
            0.0,
        );
        let m = Mapping::new(&v, 100.0, 1100.0);
        assert_eq!(m.x(1e3), 100.0);
        assert_eq!(m.x(2e3), 1100.0);
        assert_eq!(m.time(600.0), 1.5e3);
        assert_eq!(m.ns_per_px(), 1.0);
    }
}
