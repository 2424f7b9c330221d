//! The timeline area: time axis, generation bands, the lanes with their name
//! column, the range selection, and the pointer input that moves the view.
//!
//! Pointer input becomes [`ViewCommand`]s for the app to apply after the frame
//! (see [`super::view`]); the widget itself only keeps what belongs to the
//! widget: which lanes are folded, where the lanes are scrolled to, and the
//! selection being dragged.
//!
//! Lanes are virtualised: a goroutine lane per goroutine can mean tens of
//! thousands of rows, so only rows intersecting the scroll viewport are laid
//! out and painted, found by binary search over the row tops. Generation bands
//! narrower than [`MIN_BAND_PX`] are not shaded (Tracy folds what is too
//! narrow to see for the same reason: it would only be noise).

use std::collections::HashSet;

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, UiBuilder, Vec2};

use super::axis::{self, AXIS_HEIGHT, Ticks, format_duration};
use super::view::{Mapping, View, ViewCommand};
use crate::model::timeline::ROW_HEIGHT;
use crate::model::{Lane, LaneGroup, LaneKey, Timeline};

/// Width of the name column, in points: fits `G123456 runtime.gcBgMarkWorker`
/// truncated to its start, which is what identifies a goroutine.
const NAME_COLUMN: f32 = 200.0;

/// Height of a section header row (Procs, Threads, Goroutines).
const GROUP_HEADER_HEIGHT: f32 = 22.0;

/// Opacity of the shading of every other generation: visible on a laptop
/// panel, faint enough not to compete with the spans drawn over it.
const BAND_ALPHA: f32 = 0.07;

/// Size of the fold triangle in the name column, in points.
const FOLD_ICON: f32 = 10.0;

/// Generations narrower than this many points are not shaded.
const MIN_BAND_PX: f32 = 3.0;

/// What the timeline keeps between frames.
#[derive(Debug, Default)]
pub(crate) struct TimelineState {
    collapsed_groups: HashSet<LaneGroup>,
    /// Folded lanes, by identity: positions shift as the worker adds lanes.
    collapsed_lanes: HashSet<LaneKey>,
    /// Vertical scroll offset of the lanes, in points.
    scroll: f32,
    /// Relative time where a shift-drag started.
    select_from: Option<f64>,
    selection: Option<(f64, f64)>,
    /// Relative time under the pointer, if it is over the timeline.
    hover: Option<f64>,
}

impl TimelineState {
    /// The selected range (relative times, ordered), if any.
    pub(crate) fn selection(&self) -> Option<(f64, f64)> {
        self.selection.map(|(a, b)| (a.min(b), a.max(b)))
    }

    /// Drops the selection.
    pub(crate) fn clear_selection(&mut self) {
        self.selection = None;
        self.select_from = None;
    }

    /// Relative time under the pointer, if it is over the timeline.
    pub(crate) fn hover(&self) -> Option<f64> {
        self.hover
    }

    /// Forgets the pointer position (the timeline is not on screen).
    pub(crate) fn clear_hover(&mut self) {
        self.hover = None;
    }
}

/// A row of the lane area: a section header or a lane.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RowKind {
    /// Header of a section with this many lanes.
    Group(LaneGroup, usize),
    /// Index into [`Timeline::lanes`].
    Lane(usize),
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Row {
    kind: RowKind,
    /// Offset from the top of the lane area.
    top: f32,
    height: f32,
}

/// Lays out the rows that are not folded away; returns them and the total height.
fn layout(lanes: &[Lane], state: &TimelineState) -> (Vec<Row>, f32) {
    let mut rows = Vec::new();
    let mut top = 0.0;
    let mut push = |rows: &mut Vec<Row>, kind, height| {
        rows.push(Row { kind, top, height });
        top += height;
    };
    let mut i = 0;
    while let Some(first) = lanes.get(i) {
        let group = first.group;
        let count = lanes[i..].iter().take_while(|l| l.group == group).count();
        push(&mut rows, RowKind::Group(group, count), GROUP_HEADER_HEIGHT);
        if !state.collapsed_groups.contains(&group) {
            for (index, lane) in lanes.iter().enumerate().skip(i).take(count) {
                let folded = lane.collapsible && state.collapsed_lanes.contains(&lane.key);
                let height = if folded {
                    ROW_HEIGHT
                } else {
                    lane.height.max(ROW_HEIGHT)
                };
                push(&mut rows, RowKind::Lane(index), height);
            }
        }
        i += count;
    }
    (rows, top)
}

/// The rows intersecting `top..bottom` (offsets from the top of the lane area).
fn visible_rows(rows: &[Row], top: f32, bottom: f32) -> &[Row] {
    let first = rows.partition_point(|r| r.top + r.height <= top);
    let end = rows.partition_point(|r| r.top < bottom);
    &rows[first..end.max(first)]
}

/// Indices of the generations overlapping the relative range `start..end`
/// (generations are in time order).
fn visible_generations(generations: &[(f64, f64)], start: f64, end: f64) -> std::ops::Range<usize> {
    let first = generations.partition_point(|g| g.1 <= start);
    let last = generations.partition_point(|g| g.0 < end);
    first..last.max(first)
}

/// Draws the timeline into `ui` and returns the view changes the user asked for.
pub(crate) fn show(
    ui: &mut egui::Ui,
    view: &View,
    timeline: &Timeline,
    state: &mut TimelineState,
) -> Vec<ViewCommand> {
    let area = ui.available_rect_before_wrap();
    let body = Rect::from_x_y_ranges((area.left() + NAME_COLUMN)..=area.right(), area.y_range());
    let axis_rect = Rect::from_x_y_ranges(body.x_range(), area.top()..=area.top() + AXIS_HEIGHT);
    let lanes_rect = Rect::from_min_max(Pos2::new(area.left(), axis_rect.bottom()), area.max);
    let mapping = Mapping::new(view, body.left(), body.right());

    // Registered before the lanes so the scroll bar and header buttons, added
    // later, win the hit test where they overlap the body.
    let response = ui.interact(
        body,
        ui.scope_id().with("timeline-body"),
        Sense::click_and_drag(),
    );
    let mut commands = Vec::new();
    let scroll_by = pointer_input(ui, &response, &mapping, state, &mut commands);

    let visuals = ui.visuals().clone();
    let painter = ui.painter_at(area);
    let origin = view.origin();
    let generations: Vec<(f64, f64)> = timeline
        .generations
        .iter()
        .map(|g| ((g.start - origin) as f64, (g.end - origin) as f64))
        .collect();
    let band = visuals.text_color().gamma_multiply(BAND_ALPHA);
    paint_generations(&painter, body, &mapping, &generations, band);

    let ticks = Ticks::new(&mapping, view.visible(), |s| {
        painter
            .layout_no_wrap(s.to_owned(), FontId::proportional(12.0), Color32::WHITE)
            .size()
            .x
    });
    let text = visuals.text_color();
    axis::paint(&painter, axis_rect, &mapping, &ticks, text);
    if let Some(base) = ticks.base_label() {
        painter.text(
            Pos2::new(body.left() - 6.0, axis_rect.top() + 3.0),
            Align2::RIGHT_TOP,
            base,
            FontId::proportional(12.0),
            text,
        );
    }
    let grid = Stroke::new(
        1.0,
        visuals
            .widgets
            .noninteractive
            .bg_stroke
            .color
            .gamma_multiply(0.5),
    );
    for t in ticks.major() {
        painter.vline(mapping.x(t), lanes_rect.y_range(), grid);
    }

    let mut lanes_ui = ui.new_child(UiBuilder::new().max_rect(lanes_rect));
    show_lanes(&mut lanes_ui, timeline, state, scroll_by);
    if timeline.lanes.is_empty() {
        painter.text(
            lanes_rect.center(),
            Align2::CENTER_CENTER,
            "Lanes appear here once the trace's events are decoded.",
            FontId::proportional(14.0),
            visuals.weak_text_color(),
        );
    }

    paint_selection(
        &painter,
        body,
        lanes_rect.top(),
        &mapping,
        state.selection(),
        text,
    );
    if let Some(t) = state.hover {
        painter.vline(
            mapping.x(t),
            body.y_range(),
            Stroke::new(1.0, text.gamma_multiply(0.35)),
        );
    }
    ui.advance_cursor_after_rect(area);
    commands
}

/// Turns pointer input over the body into commands and selection changes;
/// returns how far to scroll the lanes (points, from a vertical drag).
fn pointer_input(
    ui: &egui::Ui,
    response: &egui::Response,
    mapping: &Mapping,
    state: &mut TimelineState,
    commands: &mut Vec<ViewCommand>,
) -> f32 {
    let pointer = response.hover_pos().or(response.interact_pointer_pos());
    state.hover = pointer.map(|p| mapping.time(p.x));
    if let Some(p) = response.hover_pos() {
        let (zoom, scroll_x) = ui.input_mut(|i| {
            let scroll_x = std::mem::take(&mut i.smooth_scroll_delta.x);
            (i.zoom_delta(), scroll_x)
        });
        if zoom != 1.0 {
            commands.push(ViewCommand::Zoom {
                factor: f64::from(zoom),
                anchor: mapping.time(p.x),
            });
        }
        if scroll_x != 0.0 {
            commands.push(ViewCommand::Pan(-f64::from(scroll_x) * mapping.ns_per_px()));
        }
    }

    let shift = ui.input(|i| i.modifiers.shift);
    if response.drag_started() && shift {
        let origin = ui.input(|i| i.pointer.press_origin());
        state.select_from = origin.map(|p| mapping.time(p.x));
    }
    let mut scroll_by = 0.0;
    if response.dragged() {
        match (state.select_from, pointer) {
            (Some(from), Some(p)) => state.selection = Some((from, mapping.time(p.x))),
            _ => {
                let delta = response.drag_delta();
                if delta.x != 0.0 {
                    commands.push(ViewCommand::Pan(-f64::from(delta.x) * mapping.ns_per_px()));
                }
                scroll_by = -delta.y;
            }
        }
    }
    if response.drag_stopped() {
        state.select_from = None;
    }
    if response.clicked() && !shift {
        state.clear_selection();
    }
    scroll_by
}

fn paint_generations(
    painter: &egui::Painter,
    body: Rect,
    mapping: &Mapping,
    generations: &[(f64, f64)],
    shade: Color32,
) {
    let range = visible_generations(
        generations,
        mapping.time(body.left()),
        mapping.time(body.right()),
    );
    for i in range.filter(|i| i % 2 == 1) {
        let (start, end) = generations[i];
        let (x0, x1) = (
            mapping.x(start).max(body.left()),
            mapping.x(end).min(body.right()),
        );
        if x1 - x0 >= MIN_BAND_PX {
            painter.rect_filled(Rect::from_x_y_ranges(x0..=x1, body.y_range()), 0.0, shade);
        }
    }
}

fn paint_selection(
    painter: &egui::Painter,
    body: Rect,
    label_y: f32,
    mapping: &Mapping,
    selection: Option<(f64, f64)>,
    text: Color32,
) {
    let Some((start, end)) = selection else {
        return;
    };
    let accent = Color32::from_rgb(0x00, 0xad, 0xd8);
    let (x0, x1) = (mapping.x(start), mapping.x(end));
    let rect = Rect::from_x_y_ranges(x0.max(body.left())..=x1.min(body.right()), body.y_range());
    if rect.width() <= 0.0 {
        return;
    }
    painter.rect_filled(rect, 0.0, accent.gamma_multiply(0.15));
    for x in [x0, x1].into_iter().filter(|x| body.x_range().contains(*x)) {
        painter.vline(x, body.y_range(), Stroke::new(1.0, accent));
    }
    painter.text(
        Pos2::new(rect.center().x, label_y + 4.0),
        Align2::CENTER_TOP,
        format_duration(end - start),
        FontId::proportional(13.0),
        text,
    );
}

/// The name column and lane rows inside a vertical scroll area.
fn show_lanes(ui: &mut egui::Ui, timeline: &Timeline, state: &mut TimelineState, scroll_by: f32) {
    let (rows, total) = layout(&timeline.lanes, state);
    let mut area = egui::ScrollArea::vertical()
        .id_salt("lanes")
        .auto_shrink([false, false])
        .scroll_source(egui::containers::scroll_area::ScrollSource {
            drag: egui::containers::scroll_area::DragScroll::Never,
            ..Default::default()
        });
    if scroll_by != 0.0 {
        area = area.vertical_scroll_offset((state.scroll + scroll_by).max(0.0));
    }
    let mut toggles = Vec::new();
    let output = area.show_viewport(ui, |ui, viewport| {
        let (content, _) =
            ui.allocate_exact_size(Vec2::new(ui.available_width(), total), Sense::hover());
        for row in visible_rows(&rows, viewport.top(), viewport.bottom()) {
            let rect = Rect::from_x_y_ranges(
                content.x_range(),
                content.top() + row.top..=content.top() + row.top + row.height,
            );
            if let Some(toggle) = show_row(ui, rect, row.kind, &timeline.lanes, state) {
                toggles.push(toggle);
            }
        }
    });
    state.scroll = output.state.clamped_offset().y;
    for toggle in toggles {
        match toggle {
            RowKind::Group(group, _) => flip(&mut state.collapsed_groups, group),
            RowKind::Lane(index) => {
                if let Some(lane) = timeline.lanes.get(index) {
                    flip(&mut state.collapsed_lanes, lane.key);
                }
            }
        }
    }
}

fn flip<T: Eq + std::hash::Hash>(set: &mut HashSet<T>, item: T) {
    if !set.remove(&item) {
        set.insert(item);
    }
}

/// Draws one row; returns it if the user clicked its fold toggle.
fn show_row(
    ui: &mut egui::Ui,
    rect: Rect,
    kind: RowKind,
    lanes: &[Lane],
    state: &TimelineState,
) -> Option<RowKind> {
    let visuals = ui.visuals();
    // The name sits on the lane's first row, level with its first spans.
    let name = Rect::from_x_y_ranges(
        rect.left()..=rect.left() + NAME_COLUMN,
        rect.top()..=rect.top() + rect.height().min(GROUP_HEADER_HEIGHT),
    );
    let separator = Stroke::new(1.0, visuals.widgets.noninteractive.bg_stroke.color);
    ui.painter()
        .hline(rect.x_range(), rect.bottom() - 0.5, separator);
    let (text, foldable, folded) = match kind {
        RowKind::Group(group, count) => {
            ui.painter()
                .rect_filled(rect, 0.0, visuals.extreme_bg_color.gamma_multiply(0.6));
            let folded = state.collapsed_groups.contains(&group);
            (format!("{} ({count})", group.title()), true, folded)
        }
        RowKind::Lane(index) => {
            let lane = lanes.get(index)?;
            ui.painter()
                .vline(rect.left() + NAME_COLUMN, rect.y_range(), separator);
            (
                lane.label.clone(),
                lane.collapsible,
                state.collapsed_lanes.contains(&lane.key),
            )
        }
    };
    // A gutter for the fold triangle keeps labels aligned whether foldable or not.
    let icon = Rect::from_center_size(
        Pos2::new(name.left() + 4.0 + FOLD_ICON / 2.0, name.center().y),
        Vec2::splat(FOLD_ICON),
    );
    let label_rect = Rect::from_x_y_ranges(icon.right() + 4.0..=name.right() - 4.0, name.y_range());
    let layout = egui::Layout::left_to_right(egui::Align::Center);
    let mut label_ui = ui.new_child(UiBuilder::new().max_rect(label_rect).layout(layout));
    if !foldable {
        label_ui.add(egui::Label::new(text).truncate());
        return None;
    }
    let response = label_ui.add(egui::Button::new(text).frame(false).truncate());
    let openness = if folded { 0.0 } else { 1.0 };
    let icon_response = response.clone().with_new_rect(icon);
    egui::collapsing_header::paint_default_icon(ui, openness, &icon_response);
    response.clicked().then_some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two Ps of one row, 10 000 goroutines of two rows.
    fn lanes() -> Vec<Lane> {
        let mut lanes = vec![
            Lane::new(LaneKey::Proc(0), None, 1),
            Lane::new(LaneKey::Proc(1), None, 1),
        ];
        lanes.extend((0..10_000).map(|g| Lane::new(LaneKey::Goroutine(g), None, 2)));
        lanes
    }

    #[test]
    fn layout_groups_and_folds() {
        let lanes = lanes();
        let mut state = TimelineState::default();
        let (rows, total) = layout(&lanes, &state);
        assert_eq!(rows.len(), 2 + lanes.len());
        assert_eq!(rows[0].kind, RowKind::Group(LaneGroup::Procs, 2));
        assert_eq!(rows[3].kind, RowKind::Group(LaneGroup::Goroutines, 10_000));
        assert_eq!(
            total,
            2.0 * GROUP_HEADER_HEIGHT + 2.0 * ROW_HEIGHT + 10_000.0 * 2.0 * ROW_HEIGHT
        );

        state.collapsed_groups.insert(LaneGroup::Goroutines);
        let (rows, total) = layout(&lanes, &state);
        assert_eq!(rows.len(), 4);
        assert_eq!(total, 2.0 * GROUP_HEADER_HEIGHT + 2.0 * ROW_HEIGHT);

        state.collapsed_groups.clear();
        state.collapsed_lanes.insert(LaneKey::Goroutine(7));
        let (_, total) = layout(&lanes, &state);
        let all = 2.0 * GROUP_HEADER_HEIGHT + 2.0 * ROW_HEIGHT + 10_000.0 * 2.0 * ROW_HEIGHT;
        assert_eq!(total, all - ROW_HEIGHT, "a folded lane keeps one row");
    }

    #[test]
    fn only_visible_rows_are_drawn() {
        let lanes = lanes();
        let (rows, _) = layout(&lanes, &TimelineState::default());
        let top = 100_000.0;
        let shown = visible_rows(&rows, top, top + 800.0);
        assert!(
            shown.len() <= (800.0 / (2.0 * ROW_HEIGHT)) as usize + 2,
            "{}",
            shown.len()
        );
        assert!(
            shown
                .first()
                .is_some_and(|r| r.top <= top && r.top + r.height > top)
        );
        assert!(shown.last().is_some_and(|r| r.top < top + 800.0));
    }

    #[test]
    fn generation_culling() {
        let gens: Vec<(f64, f64)> = (0..100)
            .map(|i| (f64::from(i) * 10.0, f64::from(i + 1) * 10.0))
            .collect();
        assert_eq!(visible_generations(&gens, 25.0, 45.0), 2..5);
        assert_eq!(visible_generations(&gens, 2000.0, 3000.0), 100..100);
    }
}
