//! The latency profiles tab: for scheduler waits, blocking and syscalls, a
//! flame graph of the stacks where the waiting began, leading to the
//! outliers that began there.
//!
//! The outliers table shows the worst cases one at a time; a profile shows
//! which code paths the waiting comes from in total, the way `go tool
//! trace`'s pprof profiles do. It is an icicle: the root ("all") on top,
//! each row one frame deeper, each call path as wide as the time waited
//! below it. Frames are coloured by package, so the program's own code
//! stands out from the runtime's and the standard library's.
//!
//! Clicking a frame zooms into it: the frame takes the full width and its
//! callers stay on top, full width too, to click back out to (or "Reset
//! zoom"). Ctrl+click (or "List in outliers" for the zoomed frame) narrows
//! the outliers table to the intervals whose stack passes through the frame,
//! and switches to it.
//!
//! Layout walks the profile's trie from the zoomed frame, skipping call
//! paths narrower than [`MIN_BAR_WIDTH`]: the work per frame is bounded by
//! what is visible, however many stacks the trace has. Positions are
//! computed in `f64` from the weights, `f32` only for the screen.

use egui::text::{LayoutJob, TextWrapping};
use egui::{Color32, FontId, Rect, Sense, Stroke, TextFormat, Vec2};

use super::axis::format_duration;
use super::outliers::kind_name;
use super::palette;
use crate::analysis::{Analysis, LatencyKind, PROFILED, Profile, StackId, Weight};

/// Height of a row of frames, in points: one line of small text.
const ROW_HEIGHT: f32 = 18.0;

/// Narrowest call path drawn, in points: narrower ones (and their callees)
/// would be slivers nobody can read or hit, and skipping them bounds the
/// work per frame.
const MIN_BAR_WIDTH: f64 = 1.0;

/// Narrowest frame given a label, in points: room for a few letters.
const MIN_LABEL_WIDTH: f32 = 24.0;

/// Space between a frame's edge and its label, in points.
const TEXT_PAD: f32 = 3.0;

/// Size of the frame labels, in points.
const FONT_SIZE: f32 = 12.0;

/// Text on the frames: near-black, legible on every palette colour (they
/// are kept light, see `palette`).
const TEXT_COLOR: Color32 = Color32::from_gray(0x18);

/// What the tab keeps between frames.
#[derive(Debug)]
pub(crate) struct FlameTab {
    kind: LatencyKind,
    /// The call path shown full width.
    focus: StackId,
}

impl Default for FlameTab {
    fn default() -> Self {
        Self {
            kind: LatencyKind::Sched,
            focus: StackId::ROOT,
        }
    }
}

/// The user asked for the intervals of `kind` whose stacks pass through
/// `node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ListThrough {
    /// The latency kind.
    pub(crate) kind: LatencyKind,
    /// The call path.
    pub(crate) node: StackId,
}

/// A call path laid out: its row and horizontal extent, in points from the
/// graph's left edge.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Bar {
    node: StackId,
    depth: usize,
    x0: f64,
    x1: f64,
}

/// The call paths from the root to `node`, root first.
fn path_to(profile: &Profile, node: StackId) -> Vec<StackId> {
    let mut path = vec![node];
    while let Some(parent) = path.last().and_then(|&n| profile.parent(n)) {
        path.push(parent);
    }
    path.reverse();
    path
}

/// The bars of the graph `width` points wide zoomed into `focus`: its
/// callers and itself full width, then its callees by weight, in name
/// order, down to [`MIN_BAR_WIDTH`].
fn layout(profile: &Profile, kind: LatencyKind, focus: StackId, width: f64) -> Vec<Bar> {
    let path = path_to(profile, focus);
    let mut bars: Vec<Bar> = path
        .iter()
        .enumerate()
        .map(|(depth, &node)| Bar {
            node,
            depth,
            x0: 0.0,
            x1: width,
        })
        .collect();
    let total = profile.weight(focus, kind).time;
    if total <= 0 {
        return bars;
    }
    let scale = width / total as f64;
    // Depth first with an explicit stack: a hostile trace may nest deeper
    // than the thread's stack would allow recursion to.
    let mut todo = vec![(focus, path.len(), 0.0)];
    while let Some((node, depth, x0)) = todo.pop() {
        let mut x = x0;
        for &child in profile.children(node) {
            let w = profile.weight(child, kind).time as f64 * scale;
            if w >= MIN_BAR_WIDTH {
                bars.push(Bar {
                    node: child,
                    depth,
                    x0: x,
                    x1: x + w,
                });
                todo.push((child, depth + 1, x));
            }
            x += w;
        }
    }
    bars
}

/// The package of a Go function name: up to the first dot after the last
/// slash (`net/http.(*conn).serve` is in `net/http`).
fn package(function: &str) -> &str {
    let base = function.rfind('/').map_or(0, |i| i + 1);
    let dot = function[base..]
        .find('.')
        .map_or(function.len(), |i| base + i);
    &function[..dot]
}

/// A function name without its package path: what fits on a frame.
fn short_name(function: &str) -> &str {
    function.rfind('/').map_or(function, |i| &function[i + 1..])
}

/// The fill of a frame of `function`: a stable colour per package (egui's
/// ID hash has fixed seeds).
fn frame_color(function: &str) -> Color32 {
    let key = egui::Id::unique(package(function)).value();
    palette::named_color((key >> 32) as u32)
}

/// `weight` in words, with its share of `total`, all of `kind`.
fn summary(weight: Weight, total: Weight, kind: LatencyKind) -> String {
    let percent = if total.time > 0 {
        100.0 * weight.time as f64 / total.time as f64
    } else {
        0.0
    };
    format!(
        "{} in {} intervals, {percent:.1}% of {}",
        format_duration(weight.time as f64),
        weight.count,
        kind_name(kind).to_lowercase(),
    )
}

impl FlameTab {
    /// Draws the tab; returns the intervals the user asked to list.
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, analysis: &Analysis) -> Option<ListThrough> {
        self.kind_strip(ui, analysis);
        ui.separator();
        let profile = &analysis.profile;
        if profile.total(self.kind).count == 0 {
            ui.weak("No intervals of this kind in the trace.");
            return None;
        }
        let mut asked = self.header(ui, analysis);
        egui::ScrollArea::vertical()
            .id_salt("flame-graph")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if let Some(node) = self.graph(ui, analysis) {
                    asked = Some(node);
                }
            });
        asked.map(|node| ListThrough {
            kind: self.kind,
            node,
        })
    }

    /// The profiled kinds with their interval counts; picking another one
    /// keeps the zoom if the zoomed frame has some of its time.
    fn kind_strip(&mut self, ui: &mut egui::Ui, analysis: &Analysis) {
        ui.horizontal_wrapped(|ui| {
            for kind in PROFILED {
                let count = analysis.profile.total(kind).count;
                let text = format!("{} ({count})", kind_name(kind));
                if ui.selectable_label(self.kind == kind, text).clicked() {
                    self.kind = kind;
                    if analysis.profile.weight(self.focus, kind).count == 0 {
                        self.focus = StackId::ROOT;
                    }
                }
            }
        });
    }

    /// What is zoomed into, the way out, and the way to its intervals.
    fn header(&mut self, ui: &mut egui::Ui, analysis: &Analysis) -> Option<StackId> {
        let profile = &analysis.profile;
        let (weight, total) = (
            profile.weight(self.focus, self.kind),
            profile.total(self.kind),
        );
        let mut asked = None;
        ui.horizontal_wrapped(|ui| {
            let name = frame_name(analysis, self.focus, self.kind);
            ui.label(format!("{name}: {}", summary(weight, total, self.kind)));
            if self.focus != StackId::ROOT {
                if ui.button("Reset zoom").clicked() {
                    self.focus = StackId::ROOT;
                }
                if ui.button("List in outliers").clicked() {
                    asked = Some(self.focus);
                }
            }
        });
        let cut = profile.cut(self.kind);
        if cut.count > 0 {
            ui.weak(format!(
                "{} intervals have stacks cut short: the trace has too many distinct stacks.",
                cut.count
            ));
        }
        ui.weak("Click a frame to zoom in, a frame above to zoom out; Ctrl+click lists its intervals in the outliers table.");
        asked
    }

    /// Paints the graph; zooms on a click, returns the frame Ctrl+clicked.
    fn graph(&mut self, ui: &mut egui::Ui, analysis: &Analysis) -> Option<StackId> {
        let width = ui.available_width();
        let bars = layout(&analysis.profile, self.kind, self.focus, f64::from(width));
        let rows = bars.iter().map(|b| b.depth + 1).max().unwrap_or(1);
        let size = Vec2::new(width, rows as f32 * ROW_HEIGHT);
        let (area, _) = ui.allocate_exact_size(size, Sense::hover());
        let mut asked = None;
        for bar in &bars {
            let rect = Rect::from_min_max(
                area.min + Vec2::new(bar.x0 as f32, bar.depth as f32 * ROW_HEIGHT),
                area.min + Vec2::new(bar.x1 as f32, (bar.depth + 1) as f32 * ROW_HEIGHT),
            );
            let response = self.bar(ui, analysis, bar.node, rect);
            if response.clicked() {
                if ui.input(|i| i.modifiers.command) {
                    asked = Some(bar.node);
                } else {
                    self.focus = bar.node;
                }
            }
        }
        asked
    }

    /// Paints one frame with its label and tooltip; the response to it.
    fn bar(
        &self,
        ui: &mut egui::Ui,
        analysis: &Analysis,
        node: StackId,
        rect: Rect,
    ) -> egui::Response {
        let profile = &analysis.profile;
        let weight = profile.weight(node, self.kind);
        let name = frame_name(analysis, node, self.kind);
        let response = ui.interact(rect, ui.scope_id().with(("flame", node)), Sense::click());
        let accessible = format!(
            "{name}, {}, {} intervals",
            format_duration(weight.time as f64),
            weight.count
        );
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &accessible));
        let fill = match profile.frame(node) {
            Some(_) => frame_color(&name),
            None => palette::FOLD,
        };
        let inner = rect.shrink2(Vec2::new(0.5, 0.5));
        let painter = ui.painter();
        painter.rect_filled(inner, 2.0, fill);
        if response.hovered() {
            let stroke = Stroke::new(1.5, ui.visuals().strong_text_color());
            painter.rect_stroke(inner, 2.0, stroke, egui::StrokeKind::Inside);
        }
        if inner.width() >= MIN_LABEL_WIDTH {
            // A frame is a call site: two calls from one function are two
            // bars, told apart by their line.
            let text = match profile.frame(node) {
                Some(frame) => format!("{}:{}", short_name(&name), frame.line),
                None => name.clone(),
            };
            let job = label_job(&text, inner.width() - 2.0 * TEXT_PAD);
            let galley = painter.layout_job(job);
            let pos = inner.left_center() + Vec2::new(TEXT_PAD, -galley.size().y / 2.0);
            painter
                .with_clip_rect(inner)
                .galley(pos, galley, TEXT_COLOR);
        }
        response.on_hover_ui(|ui| self.tooltip(ui, analysis, node))
    }

    /// Function, place, weight and share of a frame.
    fn tooltip(&self, ui: &mut egui::Ui, analysis: &Analysis, node: StackId) {
        let profile = &analysis.profile;
        let weight = profile.weight(node, self.kind);
        let total = profile.total(self.kind);
        ui.strong(frame_name(analysis, node, self.kind));
        if let Some(frame) = profile.frame(node) {
            ui.label(format!(
                "{}:{}",
                analysis.labels.text(frame.file),
                frame.line
            ));
        }
        ui.label(summary(weight, total, self.kind));
        let own = profile.own(node, self.kind);
        if own.count > 0 && own != weight {
            let place = if node == StackId::ROOT {
                "have no stack"
            } else {
                "begin here"
            };
            ui.label(format!(
                "{} in {} intervals {place}",
                format_duration(own.time as f64),
                own.count
            ));
        }
        ui.weak("Click to zoom in, Ctrl+click to list the intervals");
    }
}

/// What a frame is called: its function, or for the root "all" with the
/// kind.
fn frame_name(analysis: &Analysis, node: StackId, kind: LatencyKind) -> String {
    match analysis.profile.frame(node) {
        Some(frame) => analysis.labels.text(frame.function),
        None => format!("All {}", kind_name(kind).to_lowercase()),
    }
}

/// One line of `text` elided with "…" to `width` points.
fn label_job(text: &str, width: f32) -> LayoutJob {
    let mut job = LayoutJob::single_section(
        text.to_owned(),
        TextFormat::simple(FontId::proportional(FONT_SIZE), TEXT_COLOR),
    );
    job.wrap = TextWrapping {
        max_width: width,
        max_rows: 1,
        break_anywhere: true,
        overflow_character: Some('…'),
    };
    job
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use crate::trace::Trace;
    use crate::ui::open::SAMPLE;

    fn sample() -> Analysis {
        let trace = Trace::open(SAMPLE).expect("the sample opens");
        analyze(&trace, 1).0
    }

    #[test]
    fn callees_lie_under_their_callers_and_zooming_widens_them() {
        let a = sample();
        let p = &a.profile;
        let width = 1000.0;
        for kind in PROFILED {
            let bars = layout(p, kind, StackId::ROOT, width);
            assert_eq!((bars[0].node, bars[0].x1), (StackId::ROOT, width));
            for bar in &bars[1..] {
                let parent = bars
                    .iter()
                    .find(|b| Some(b.node) == p.parent(bar.node))
                    .expect("the caller is drawn");
                assert_eq!(bar.depth, parent.depth + 1);
                assert!(parent.x0 <= bar.x0 + 1e-6 && bar.x1 <= parent.x1 + 1e-6);
                assert!(bar.x1 - bar.x0 >= MIN_BAR_WIDTH);
                let share = p.weight(bar.node, kind).time as f64 / p.total(kind).time as f64;
                assert!((bar.x1 - bar.x0 - share * width).abs() < 1e-6);
            }
            // Zoomed into the deepest bar: its callers and itself span the
            // width, one row each.
            let deepest = bars.iter().max_by_key(|b| b.depth).expect("bars");
            let zoomed = layout(p, kind, deepest.node, width);
            let path = path_to(p, deepest.node);
            assert_eq!(path.len(), deepest.depth + 1);
            for (depth, node) in path.iter().enumerate() {
                assert_eq!(
                    zoomed[depth],
                    Bar {
                        node: *node,
                        depth,
                        x0: 0.0,
                        x1: width
                    }
                );
            }
        }
    }

    #[test]
    fn packages_and_short_names() {
        assert_eq!(package("net/http.(*conn).serve"), "net/http");
        assert_eq!(package("runtime.gopark"), "runtime");
        assert_eq!(package("main.main.func1"), "main");
        assert_eq!(package("github.com/a/b.v2/c.F"), "github.com/a/b.v2/c");
        assert_eq!(package("noDot"), "noDot");
        assert_eq!(short_name("net/http.(*conn).serve"), "http.(*conn).serve");
        assert_eq!(
            frame_color("sync.(*Mutex).Lock"),
            frame_color("sync.runtime_Semacquire")
        );
    }
}
