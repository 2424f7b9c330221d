//! The "MMU" tab: minimum mutator utilisation over window sizes, Go's
//! measure of how much the GC can stall the program.
//!
//! The curve has [`WINDOWS`] windows, log-spaced from [`MIN_WINDOW`] to
//! the trace's length, each from [`MutatorUtilization::worst_window`]. It is
//! computed on a thread, never per frame: from the background analysis's
//! utilisation for Go's default selection of GC activities, or — when the
//! user changes the checkboxes — by reading the trace again with those
//! [`UtilFlags`] (the utilisation is built while the events stream by, so
//! other flags need another pass). A newer request drops the older one,
//! whose thread stops at its next event or window.
//!
//! A click on the plot zooms the timeline to the worst window of the
//! curve's size nearest the pointer, found with the curve: the ui thread
//! makes no pass over the function (a busy trace's has millions of points).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::Receiver;
use egui_plot::{AxisHints, GridMark, HoverPosition, Line, Plot, Points};

use super::analysis_task::run_analyzer;
use super::axis::format_duration;
use super::open::{TraceFile, with_trace};
use crate::analysis::{Analysis, Analyzer, MutatorUtilization, Parts, UtilFlags};

/// Points of the curve. Go's MMU page uses about as many; fewer show the
/// knees of the curve less sharply, more cost a pass over the utilisation
/// function each (`O(n log n)` in its change points).
const WINDOWS: usize = 100;

/// Smallest window, in ns: 1 µs, below which the utilisation of a window is
/// 0 or 1 almost everywhere.
const MIN_WINDOW: i64 = 1_000;

/// Least height of the plot, in points (it fills the panel otherwise):
/// enough to read the knee of the curve.
const MIN_HEIGHT: f32 = 120.0;

/// One point of the curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct MmuPoint {
    /// Window size, in ns.
    pub(crate) window: i64,
    /// The least utilisation over all windows of that size, 0..=1.
    pub(crate) mmu: f64,
    /// The worst window of that size (the earliest of equal ones), cut to
    /// the trace: its start and end, absolute.
    pub(crate) worst: (i64, i64),
}

/// A computed curve, for the flags it was computed with.
#[derive(Debug)]
struct Curve {
    flags: UtilFlags,
    points: Vec<MmuPoint>,
}

/// A curve being computed on another thread.
struct Task {
    flags: UtilFlags,
    rx: Receiver<Result<Curve, String>>,
    cancel: Arc<AtomicBool>,
}

impl Drop for Task {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// The tab's state.
#[derive(Default)]
pub(crate) struct MmuTab {
    /// The GC activities the user counts against the mutator.
    flags: Option<UtilFlags>,
    /// The analysis the curve belongs to: a new one (a new trace) drops it.
    analysis: Option<Arc<Analysis>>,
    curve: Option<Curve>,
    task: Option<Task>,
    error: Option<String>,
}

impl std::fmt::Debug for MmuTab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MmuTab")
            .field("flags", &self.flags)
            .field("curve", &self.curve)
            .field("computing", &self.task.is_some())
            .finish()
    }
}

impl MmuTab {
    /// Whether the curve of `analysis` is still to come: being computed,
    /// or not yet asked for (the tab starts it when drawn with it).
    pub(crate) fn pending(&self, analysis: &Arc<Analysis>) -> bool {
        !self.is_for(analysis)
            || (self.error.is_none() && (self.task.is_some() || self.curve.is_none()))
    }

    /// Whether the tab's state belongs to `analysis` (a new one is a new
    /// trace, or the statistics coming in).
    fn is_for(&self, analysis: &Arc<Analysis>) -> bool {
        self.analysis
            .as_ref()
            .is_some_and(|a| Arc::ptr_eq(a, analysis))
    }

    /// Draws the tab; returns the absolute time range of the worst window
    /// the user clicked.
    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        analysis: &Arc<Analysis>,
        file: TraceFile<'_>,
    ) -> Option<(i64, i64)> {
        self.update(ui.ctx(), analysis, file);
        let mut flags = self.flags();
        ui.horizontal(|ui| {
            ui.label("Count against the mutator:");
            ui.checkbox(&mut flags.stw, "Stop-the-world");
            ui.checkbox(&mut flags.background, "Background workers");
            ui.checkbox(&mut flags.assist, "Mark assists");
            ui.checkbox(&mut flags.sweep, "Sweeping");
            if self.task.is_some() {
                ui.spinner();
                ui.weak("Computing…");
            }
        });
        self.flags = Some(flags);
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        let curve = self.curve.as_ref()?;
        if curve.points.is_empty() {
            ui.weak("No utilisation in this trace (GOMAXPROCS was never seen).");
            return None;
        }
        plot(ui, &curve.points).map(|p| p.worst)
    }

    fn flags(&self) -> UtilFlags {
        self.flags.unwrap_or(UtilFlags::DEFAULT)
    }

    /// Takes in a finished curve; starts one if the flags or the trace changed.
    fn update(&mut self, ctx: &egui::Context, analysis: &Arc<Analysis>, file: TraceFile<'_>) {
        if !self.is_for(analysis) {
            *self = MmuTab {
                flags: self.flags,
                analysis: Some(Arc::clone(analysis)),
                ..MmuTab::default()
            };
        }
        if let Some(result) = self.task.as_ref().and_then(|t| t.rx.try_recv().ok()) {
            self.task = None;
            match result {
                Ok(curve) => self.curve = Some(curve),
                Err(message) => self.error = Some(message),
            }
        }
        let flags = self.flags();
        let current = self.curve.as_ref().is_some_and(|c| c.flags == flags);
        let computing = self.task.as_ref().is_some_and(|t| t.flags == flags);
        if !current && !computing {
            self.error = None;
            self.task = Some(start(ctx, analysis, file, flags));
        }
    }
}

/// Starts computing the curve for `flags` on a thread.
fn start(
    ctx: &egui::Context,
    analysis: &Arc<Analysis>,
    (source, index): TraceFile<'_>,
    flags: UtilFlags,
) -> Task {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let cancel = Arc::new(AtomicBool::new(false));
    let stop = Arc::clone(&cancel);
    let (analysis, ctx) = (Arc::clone(analysis), ctx.clone());
    let (source, index) = (source.clone(), Arc::clone(index));
    std::thread::spawn(move || {
        // The analysis' own function serves Go's default flags (shared,
        // not copied: a busy trace's takes megabytes).
        let read;
        let function = if flags == UtilFlags::DEFAULT {
            Ok(&analysis.utilization)
        } else {
            read = utilization((&source, &index), flags, &stop);
            read.as_ref().map_err(Clone::clone)
        };
        let result = function.and_then(|u| {
            let points = curve(u, &stop).ok_or_else(|| "cancelled".to_owned())?;
            Ok(Curve { flags, points })
        });
        if !stop.load(Ordering::Relaxed) && tx.send(result).is_ok() {
            ctx.request_repaint();
        }
    });
    Task { flags, rx, cancel }
}

/// The utilisation of the trace at `source` (with its index) with
/// `flags`: one more pass.
fn utilization(
    (source, index): TraceFile<'_>,
    flags: UtilFlags,
    cancel: &AtomicBool,
) -> Result<MutatorUtilization, String> {
    // Outliers are not wanted here, only the utilisation. A damaged trace
    // gives the utilisation up to the damage, as the main analysis does
    // (and says so in the panel).
    let parts = Parts {
        latency: false,
        goroutines: false,
        utilization: true,
    };
    let analyzer = Analyzer::of(parts, 1, flags);
    with_trace(source, index, |trace| {
        run_analyzer(trace, analyzer, cancel, |_| {}).0.utilization
    })
}

/// The MMU at [`WINDOWS`] log-spaced windows from [`MIN_WINDOW`] to the
/// length of `u`; `None` if cancelled. Each window is a pass over the
/// utilisation function (3.5 M points on the 1 GB benchmark trace, about
/// 85 ms), so the windows are shared among the cores.
pub(crate) fn curve(u: &MutatorUtilization, cancel: &AtomicBool) -> Option<Vec<MmuPoint>> {
    let Some((first, last)) = u.span() else {
        return Some(Vec::new());
    };
    let longest = (last - first).max(MIN_WINDOW);
    let (lo, hi) = ((MIN_WINDOW as f64).ln(), (longest as f64).ln());
    let mut windows: Vec<i64> = (0..WINDOWS)
        .map(|i| {
            let f = i as f64 / (WINDOWS - 1) as f64;
            (lo + f * (hi - lo)).exp().round() as i64
        })
        .collect();
    windows.dedup();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts: Vec<Option<Vec<MmuPoint>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let windows = windows.iter().skip(k).step_by(threads);
                scope.spawn(move || {
                    windows
                        .map(|&window| {
                            if cancel.load(Ordering::Relaxed) {
                                return None;
                            }
                            let (mmu, start, len) =
                                u.worst_window(window).unwrap_or((0.0, first, 0));
                            let worst = (start, start + len);
                            Some(MmuPoint { window, mmu, worst })
                        })
                        .collect::<Option<Vec<_>>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    });
    let mut out = parts.into_iter().collect::<Option<Vec<_>>>()?.concat();
    out.sort_by_key(|p| p.window);
    Some(out)
}

/// Height of the window axis: tick labels with the axis title below them
/// (egui_plot's default leaves room for one line, and draws the title over
/// the ticks).
const X_AXIS_HEIGHT: f32 = 32.0;

/// Part of the shown window axis at either end without tick labels: a
/// label is centred on its tick, and one closer to the edge than half its
/// width (about 3 % of the plot) would be cut ("100 m").
const LABEL_EDGE: f64 = 0.03;

/// The tick label of log10 window `value` on an axis showing `shown`: the
/// window, or nothing that close to an end.
fn window_label(value: f64, shown: &std::ops::RangeInclusive<f64>) -> String {
    let edge = (shown.end() - shown.start()) * LABEL_EDGE;
    match value < shown.start() + edge || value > shown.end() - edge {
        true => String::new(),
        false => format_duration(10f64.powf(value)),
    }
}

/// Draws the curve over a log window axis, with the MMU at the smallest and
/// largest window in words; returns the point of the window size nearest
/// the click.
fn plot<'a>(ui: &mut egui::Ui, points: &'a [MmuPoint]) -> Option<&'a MmuPoint> {
    let xy: Vec<[f64; 2]> = points
        .iter()
        .map(|p| [(p.window as f64).log10(), p.mmu])
        .collect();
    let (first, last) = (points.first()?, points.last()?);
    ui.horizontal(|ui| {
        ui.label(format!(
            "Smallest window {}: MMU {:.4}",
            format_duration(first.window as f64),
            first.mmu
        ));
        ui.separator();
        ui.label(format!(
            "Largest window {}: MMU {:.4}",
            format_duration(last.window as f64),
            last.mmu
        ));
        ui.separator();
        ui.weak("Click the plot to zoom the timeline to the worst window of that size.");
    });
    let color = ui.visuals().hyperlink_color;
    let response = Plot::new("Minimum mutator utilisation")
        .height(ui.available_height().max(MIN_HEIGHT))
        .default_y_bounds(0.0, 1.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .custom_x_axes(vec![
            AxisHints::new_x()
                .label("Window")
                // Room for the title under the tick labels.
                .min_thickness(X_AXIS_HEIGHT)
                .formatter(|mark: GridMark, shown| window_label(mark.value, shown)),
        ])
        .y_axis_label("MMU")
        .label_formatter(|hover| {
            let (HoverPosition::NearDataPoint { position: p, .. }
            | HoverPosition::Elsewhere { position: p }) = *hover;
            Some(format!(
                "window {}\nMMU {:.3}",
                format_duration(10f64.powf(p.x)),
                p.y
            ))
        })
        .show(ui, |plot| {
            plot.line(Line::new("MMU", xy.clone()).color(color));
            plot.points(Points::new("windows", xy).radius(2.0).color(color));
        });
    response.response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Image, true, "Minimum mutator utilisation")
    });
    if !response.response.clicked() {
        return None;
    }
    let pos = response.response.interact_pointer_pos()?;
    let x = response.transform.value_from_position(pos).x;
    let off = |p: &MmuPoint| ((p.window as f64).log10() - x).abs();
    points.iter().min_by(|a, b| off(a).total_cmp(&off(b)))
}

#[cfg(test)]
mod tests {
    use super::super::open::SAMPLE;
    use super::*;

    #[test]
    fn window_labels_keep_clear_of_the_plots_ends() {
        let shown = 2.8..=8.0;
        assert_eq!(window_label(3.0, &shown), "1.00 µs");
        assert_eq!(window_label(7.0, &shown), "10.0 ms");
        assert_eq!(window_label(7.95, &shown), "");
        assert_eq!(window_label(2.82, &shown), "");
    }
    use crate::trace::Trace;

    #[test]
    fn the_curve_spans_one_microsecond_to_the_trace() {
        let (analysis, error) =
            crate::analysis::analyze(&Trace::open(SAMPLE).expect("the sample opens"), 1);
        assert!(error.is_none());
        let points = curve(&analysis.utilization, &AtomicBool::new(false)).unwrap_or_default();
        assert!(points.len() > WINDOWS / 2);
        assert_eq!(points.first().map(|p| p.window), Some(MIN_WINDOW));
        assert!(points.windows(2).all(|w| w[0].window < w[1].window));
        assert!(points.iter().all(|p| (0.0..=1.0).contains(&p.mmu)));
        assert!(curve(&analysis.utilization, &AtomicBool::new(true)).is_none());
        // Each point keeps its worst window, for a click to zoom to: as
        // long as the point's window (cut to the trace), where the MMU is.
        let (first, last) = analysis.utilization.span().expect("utilisation");
        for p in &points {
            let (start, end) = p.worst;
            assert_eq!(end - start, p.window.min(last - first), "{p:?}");
            assert!(start >= first && end <= last, "{p:?}");
            let found = analysis.utilization.worst_window(p.window);
            assert_eq!(found, Some((p.mmu, start, end - start)));
        }
    }
}
