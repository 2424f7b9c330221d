//! The timeline area: time axis, generation bands, the lanes with their name
//! column, the range selection, and the pointer input that moves the view.
//!
//! Pointer input becomes [`ViewCommand`]s for the app to apply after the frame
//! (see [`super::view`]); the widget itself only keeps what belongs to the
//! widget: which lanes are folded, where the lanes are scrolled to, the
//! range being dragged and the span the user clicked.
//!
//! Lane contents come from the worker each frame ([`Worker::lane_items`],
//! [`Worker::plot`]), for the visible rows and time range only, and are
//! painted by [`super::lanes`] and [`super::plots`]. The frame reports back
//! what it showed ([`Output::viewport`]) so the worker decodes what is on
//! screen first.
//!
//! Lanes are virtualised: a goroutine lane per goroutine can mean tens of
//! thousands of rows, so only rows intersecting the scroll viewport are laid
//! out and painted, found by binary search over the row tops. Generation bands
//! narrower than [`MIN_BAND_PX`] are not shaded (Tracy folds what is too
//! narrow to see for the same reason: it would only be noise).
//!
//! Goroutine lanes are grouped by start function, the groups in the order
//! of their first goroutine and each group's lanes in ID order, so a
//! server's hundred thousand request handlers are one foldable group
//! rather than a hundred thousand lanes between `main.main` and the rest. A
//! group of one goroutine is just its lane. Groups bigger than
//! [`FOLD_GROUPS_OVER`] start folded; the user's folds and unfolds are kept
//! by start function.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use egui::{Align2, Color32, FontId, Pos2, Rangef, Rect, Sense, Stroke, UiBuilder, Vec2};

use super::axis::{self, AXIS_HEIGHT, Ticks, format_duration};
use super::canvas::{Canvas, CanvasTexture};
use super::details::{self, Picked};
use super::filter::GoroutineFilter;
use super::group_activity;
use super::lanes::{self, Emphasis, Scene};
use super::palette;
use super::plots;
use super::shortcuts;
use super::view::{Mapping, View, ViewCommand};
use crate::model::timeline::ROW_HEIGHT;
use crate::model::{Lane, LaneGroup, LaneKey, LaneNames, TimeSpan, Timeline};
use crate::trace::FxHashMap;
use crate::worker::{GenerationError, Viewport, Worker};

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

/// Space left above a lane scrolled into view, in points: its section's
/// header and the lane before it stay visible for context.
const REVEAL_MARGIN: f32 = 2.0 * GROUP_HEADER_HEIGHT;

/// Frames a lane being revealed is scrolled to, once everything is
/// decoded, before it is given up: it lands in two (the scroll area takes
/// a frame to grow when the reveal unfolds a big group); more allows for a
/// frame or two of slack.
const REVEAL_SETTLING_FRAMES: u8 = 8;

/// Generations narrower than this many points are not shaded.
const MIN_BAND_PX: f32 = 3.0;

/// Start-function groups of more goroutines than this start folded (unless
/// the filter names goroutines: then the user looks for particular ones;
/// hiding the runtime's alone does not unfold them): about a
/// screenful of lanes, so that no one start function pushes the others off
/// the screen, while a handful of workers shows at once.
const FOLD_GROUPS_OVER: u32 = 32;

/// What the timeline keeps between frames.
#[derive(Debug, Default)]
pub(crate) struct TimelineState {
    collapsed_groups: HashSet<LaneGroup>,
    /// Folded lanes, by identity: positions shift as the worker adds lanes.
    collapsed_lanes: HashSet<LaneKey>,
    /// Start-function groups the user folded (`true`) or unfolded, by
    /// name (empty for goroutines without one), which unlike a
    /// [`LaneNames`] index means the same in a reloaded trace; the others
    /// follow [`FOLD_GROUPS_OVER`].
    function_folds: HashMap<Box<str>, bool>,
    /// Vertical scroll offset of the lanes, in points.
    scroll: f32,
    /// Relative time where a shift-drag started.
    select_from: Option<f64>,
    selection: Option<(f64, f64)>,
    /// Relative time under the pointer, if it is over the timeline.
    hover: Option<f64>,
    /// The span the user clicked: its details are in the side panel.
    selected: Option<Picked>,
    /// When it was clicked (egui time, seconds).
    selected_at: f64,
    /// A lane to scroll into view.
    reveal: Option<Reveal>,
    /// Which goroutine lanes are shown.
    filter: GoroutineFilter,
    /// The last layout and what it was made from.
    layout: Option<LayoutCache>,
    /// Where the lanes' pixels are uploaded.
    texture: CanvasTexture,
}

/// A layout of the lanes, reused while nothing it depends on changed: laying
/// out 600k goroutine lanes (filter and fold checks per lane) costs more than
/// the rest of a frame, and they change only when the worker adds lanes or
/// the user filters or folds.
#[derive(Debug)]
struct LayoutCache {
    lanes_revision: u64,
    filter: GoroutineFilter,
    collapsed_groups: HashSet<LaneGroup>,
    collapsed_lanes: HashSet<LaneKey>,
    function_folds: HashMap<Box<str>, bool>,
    layout: Rc<Layout>,
}

impl TimelineState {
    /// How many goroutine lanes the last layout showed (filtered, folded
    /// or not).
    pub(crate) fn goroutines_laid_out(&self) -> Option<usize> {
        let layout = &self.layout.as_ref()?.layout;
        Some(layout.shown(LaneGroup::Goroutines) as usize)
    }

    /// The layout of `timeline`'s lanes, made again only if the lanes, the
    /// filter or the folds changed since the last frame.
    fn layout(&mut self, timeline: &Timeline) -> Rc<Layout> {
        self.unfold_revealed(timeline);
        let fresh = self.layout.as_ref().is_some_and(|c| {
            c.lanes_revision == timeline.revision
                && c.filter == self.filter
                && c.collapsed_groups == self.collapsed_groups
                && c.collapsed_lanes == self.collapsed_lanes
                && c.function_folds == self.function_folds
        });
        if !fresh {
            // The old layout's vector is filled again: a new one per
            // generation loaded would leave the heap strewn with freed
            // 5 MB blocks that the next, slightly longer layout cannot use.
            let mut layout = self
                .layout
                .take()
                .and_then(|c| Rc::try_unwrap(c.layout).ok())
                .unwrap_or_default();
            layout_into((&timeline.lanes, &timeline.names), self, &mut layout);
            self.layout = Some(LayoutCache {
                lanes_revision: timeline.revision,
                filter: self.filter.clone(),
                collapsed_groups: self.collapsed_groups.clone(),
                collapsed_lanes: self.collapsed_lanes.clone(),
                function_folds: self.function_folds.clone(),
                layout: Rc::new(layout),
            });
        }
        self.layout
            .as_ref()
            .map_or_else(Rc::default, |c| Rc::clone(&c.layout))
    }

    /// Unfolds the start-function group of the goroutine lane being
    /// revealed, once the lane is in.
    fn unfold_revealed(&mut self, timeline: &Timeline) {
        let Some(key @ LaneKey::Goroutine(_)) = self.reveal.map(|r| r.key) else {
            return;
        };
        let lanes = &timeline.lanes;
        if let Ok(index) = lanes.binary_search_by_key(&key, Lane::key)
            && let Some(lane) = lanes.get(index)
        {
            self.fold_function(&timeline.names, lane.name_id(), false);
        }
    }

    /// Whether the start-function group `name` (a [`LaneNames`] index in
    /// `names`) of `members` goroutine lanes is folded.
    fn function_folded(&self, names: &LaneNames, name: u32, members: u32) -> bool {
        let by_default = members > FOLD_GROUPS_OVER && !self.filter.names_goroutines();
        let function = names.get(name).unwrap_or("");
        self.function_folds
            .get(function)
            .copied()
            .unwrap_or(by_default)
    }

    /// Folds or unfolds the start-function group `name` (a [`LaneNames`]
    /// index in `names`).
    fn fold_function(&mut self, names: &LaneNames, name: u32, folded: bool) {
        let function = names.get(name).unwrap_or("");
        if self.function_folds.get(function) != Some(&folded) {
            self.function_folds.insert(function.into(), folded);
        }
    }

    /// The selected range (relative times, ordered), if any.
    pub(crate) fn selection(&self) -> Option<(f64, f64)> {
        self.selection.map(|(a, b)| (a.min(b), a.max(b)))
    }

    /// Whether a shift-drag selecting a range is in progress.
    pub(crate) fn is_selecting(&self) -> bool {
        self.select_from.is_some()
    }

    /// Selects the time range `start..end` (relative times), as a
    /// shift-drag over it would.
    pub(crate) fn select_range(&mut self, start: f64, end: f64) {
        self.selection = Some((start, end));
        self.select_from = None;
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

    /// The span the user clicked, if any, and when (egui time, seconds).
    pub(crate) fn selected(&self) -> Option<(&Picked, f64)> {
        self.selected.as_ref().map(|p| (p, self.selected_at))
    }

    /// Selects `picked` (an interval the analysis panel leads to): its side
    /// panel opens at once, since no double-click can follow.
    pub(crate) fn select(&mut self, picked: Picked) {
        self.selected = Some(picked);
        self.selected_at = f64::NEG_INFINITY;
    }

    /// Drops the selected span (closes the side panel).
    pub(crate) fn clear_selected(&mut self) {
        self.selected = None;
    }

    /// The goroutine lane filter.
    pub(crate) fn filter(&self) -> &GoroutineFilter {
        &self.filter
    }

    /// The goroutine lane filter, to change it.
    pub(crate) fn filter_mut(&mut self) -> &mut GoroutineFilter {
        &mut self.filter
    }

    /// Whether `lane` (named in `names`) passes the lane filter: lanes
    /// other than goroutines always do.
    pub(crate) fn shows(&self, lane: &Lane, names: &LaneNames) -> bool {
        match lane.key() {
            LaneKey::Goroutine(id) if self.filter.is_active() => self
                .filter
                .shows(id, names.get(lane.name_id()).unwrap_or("")),
            _ => true,
        }
    }

    /// Scrolls lane `key` into view in the next frame, unfolding its section
    /// (and its start-function group, once the lane is in).
    pub(crate) fn reveal(&mut self, key: LaneKey) {
        self.collapsed_groups.remove(&key.group());
        self.reveal = Some(Reveal {
            key,
            landed: None,
            nearest: false,
            settling: 0,
        });
    }

    /// Scrolls the lanes as little as shows lane `key` (laid out already)
    /// in the next frame: for a selection stepping from lane to lane.
    pub(crate) fn scroll_to(&mut self, key: LaneKey) {
        self.reveal = Some(Reveal {
            key,
            landed: None,
            nearest: true,
            settling: 0,
        });
    }

    /// The nearest lane after (`forward`) or before lane `key` as laid out
    /// (headers and lanes folded away skipped) for which `wanted` finds
    /// something, with what it found.
    pub(crate) fn lane_beside<T>(
        &mut self,
        timeline: &Timeline,
        key: LaneKey,
        forward: bool,
        mut wanted: impl FnMut(LaneKey) -> Option<T>,
    ) -> Option<(LaneKey, T)> {
        let layout = self.layout(timeline);
        let index = timeline.lanes.binary_search_by_key(&key, Lane::key).ok()?;
        let (before, from) = layout.rows.split_at_checked(layout.lane_row(index)?)?;
        let lane = |row: &Row| match row.kind() {
            RowKind::Lane(i) => timeline.lanes.get(i as usize).map(Lane::key),
            _ => None,
        };
        let mut found = |k: LaneKey| wanted(k).map(|t| (k, t));
        match forward {
            true => from.iter().skip(1).filter_map(lane).find_map(&mut found),
            false => before.iter().rev().filter_map(lane).find_map(&mut found),
        }
    }
}

/// What a frame of the timeline produced.
pub(crate) struct Output {
    /// View changes the user asked for.
    pub(crate) commands: Vec<ViewCommand>,
    /// What is on screen, for the worker.
    pub(crate) viewport: Viewport,
}

/// What a row of the lane area shows: a header or a lane.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RowKind {
    /// Header of a section.
    Group(LaneGroup),
    /// Header of the goroutine lanes of a start function (its
    /// [`LaneNames`] index).
    Function(u32),
    /// Index into [`Timeline::lanes`].
    Lane(u32),
}

/// The sections, in the order of their codes in [`Row::what`].
const SECTIONS: [LaneGroup; 4] = [
    LaneGroup::Runtime,
    LaneGroup::Procs,
    LaneGroup::Threads,
    LaneGroup::Goroutines,
];

/// Where `group` is in [`SECTIONS`].
fn section(group: LaneGroup) -> usize {
    SECTIONS.iter().position(|&g| g == group).unwrap_or(0)
}

/// `n` as a row number (saturating: no timeline has 2³² lanes).
fn row_number(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The first [`Row::what`] code of a section header: headers take the
/// highest codes, start-function headers those from [`FIRST_FUNCTION_CODE`]
/// up, lanes all below (no timeline has 2³¹ lanes or start functions).
const FIRST_SECTION_CODE: u32 = u32::MAX - (SECTIONS.len() as u32 - 1);

/// The [`Row::what`] code of the header of start function 0.
const FIRST_FUNCTION_CODE: u32 = 1 << 31;

/// A laid-out row in 8 bytes: the layout has a row per lane, 600k of them
/// for a trace with as many goroutines. Its height is where the next row
/// begins (or the layout ends).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Row {
    /// What it shows, coded (see [`FIRST_SECTION_CODE`]).
    what: u32,
    /// Offset from the top of the lane area.
    top: f32,
}

impl Row {
    fn new(kind: RowKind, top: f32) -> Row {
        let what = match kind {
            RowKind::Group(group) => FIRST_SECTION_CODE + section(group) as u32,
            RowKind::Function(name) => {
                FIRST_FUNCTION_CODE + name.min(FIRST_SECTION_CODE - FIRST_FUNCTION_CODE - 1)
            }
            RowKind::Lane(index) => index.min(FIRST_FUNCTION_CODE - 1),
        };
        Row { what, top }
    }

    fn kind(self) -> RowKind {
        match self.what {
            w if w >= FIRST_SECTION_CODE => {
                RowKind::Group(SECTIONS[(w - FIRST_SECTION_CODE) as usize % SECTIONS.len()])
            }
            w if w >= FIRST_FUNCTION_CODE => RowKind::Function(w - FIRST_FUNCTION_CODE),
            w => RowKind::Lane(w),
        }
    }
}

/// The rows of the lanes not folded away, top to bottom.
#[derive(Debug, Default)]
struct Layout {
    rows: Vec<Row>,
    /// Total height.
    total: f32,
    /// Lanes each section shows (matching the filter, folded or not).
    shown: [u32; SECTIONS.len()],
    /// Goroutine lanes each start-function group with a header shows
    /// (folded or not), by [`LaneNames`] index.
    functions: FxHashMap<u32, u32>,
}

impl Layout {
    /// How many lanes `group` shows (folded or not).
    fn shown(&self, group: LaneGroup) -> u32 {
        self.shown.get(section(group)).copied().unwrap_or(0)
    }

    /// How many goroutine lanes the group of start function `name` shows
    /// (folded or not).
    fn members(&self, name: u32) -> u32 {
        self.functions.get(&name).copied().unwrap_or(0)
    }

    /// The rows intersecting `top..bottom` (offsets from the top of the
    /// lane area): what each shows, its top and its height.
    fn visible(&self, top: f32, bottom: f32) -> impl Iterator<Item = (RowKind, f32, f32)> + '_ {
        let first = self
            .rows
            .partition_point(|r| r.top <= top)
            .saturating_sub(1);
        let end = self.rows.partition_point(|r| r.top < bottom).max(first);
        let rows = self.rows.get(first..end).unwrap_or_default();
        let bottoms = self.rows.iter().skip(first + 1).map(|r| r.top);
        let bottoms = bottoms.chain(std::iter::once(self.total));
        rows.iter()
            .zip(bottoms)
            .map(|(r, bottom)| (r.kind(), r.top, bottom - r.top))
    }

    /// The top of lane `index`'s row, if it is laid out. A scan: goroutine
    /// lanes are laid out by start function, not in lane order, and a lane
    /// is looked up only while it is being revealed (a fraction of a
    /// millisecond over the 600k rows of a large trace).
    fn lane_top(&self, index: usize) -> Option<f32> {
        self.rows.get(self.lane_row(index)?).map(|r| r.top)
    }

    /// Where lane `index`'s row is in [`Layout::rows`], if it is laid out
    /// (a scan, as for [`Layout::lane_top`]).
    fn lane_row(&self, index: usize) -> Option<usize> {
        let what = u32::try_from(index).ok()?;
        self.rows.iter().position(|r| r.what == what)
    }
}

/// Lays out the rows that are not folded away.
#[cfg(test)]
fn layout(lanes: &[Lane], names: &LaneNames, state: &TimelineState) -> Layout {
    let mut layout = Layout::default();
    layout_into((lanes, names), state, &mut layout);
    layout
}

/// Lays out the rows that are not folded away into `layout` (its rows
/// vector reused).
fn layout_into((lanes, names): (&[Lane], &LaneNames), state: &TimelineState, layout: &mut Layout) {
    layout.rows.clear();
    // A row per lane and a header per section; exactly, as the list grows
    // by a few thousand lanes per generation loaded and doubling would
    // leave megabytes unused.
    layout.rows.reserve_exact(lanes.len() + SECTIONS.len());
    layout.shown = [0; SECTIONS.len()];
    layout.functions.clear();
    let mut out = RowsOut {
        rows: &mut layout.rows,
        top: 0.0,
        lanes,
        names,
        state,
    };
    let mut i = 0;
    while let Some(first) = lanes.get(i) {
        let group = first.group();
        let count = lanes[i..].iter().take_while(|l| l.group() == group).count();
        let shown: Vec<u32> = (i..i + count)
            .filter(|&index| lanes.get(index).is_some_and(|l| state.shows(l, names)))
            .map(row_number)
            .collect();
        if let Some(count) = layout.shown.get_mut(section(group)) {
            *count = row_number(shown.len());
        }
        out.push(RowKind::Group(group), GROUP_HEADER_HEIGHT);
        if !state.collapsed_groups.contains(&group) {
            match group {
                LaneGroup::Goroutines => out.functions(&shown, &mut layout.functions),
                _ => shown.iter().for_each(|&index| out.lane(index)),
            }
        }
        i += count;
    }
    layout.total = out.top;
}

/// Where [`layout_into`] puts rows.
struct RowsOut<'a> {
    rows: &'a mut Vec<Row>,
    /// Where the next row goes.
    top: f32,
    lanes: &'a [Lane],
    names: &'a LaneNames,
    state: &'a TimelineState,
}

impl RowsOut<'_> {
    fn push(&mut self, kind: RowKind, height: f32) {
        self.rows.push(Row::new(kind, self.top));
        self.top += height;
    }

    /// The row of lane `index`, one row high if it is folded.
    fn lane(&mut self, index: u32) {
        let Some(lane) = self.lanes.get(index as usize) else {
            return;
        };
        let folded = lane.collapsible() && self.state.collapsed_lanes.contains(&lane.key());
        let height = match folded {
            true => ROW_HEIGHT,
            false => lane.height().max(ROW_HEIGHT),
        };
        self.push(RowKind::Lane(index), height);
    }

    /// The goroutine lanes `shown` (in ID order) grouped by start function
    /// (see [`by_function`]), each group with a header (counted in
    /// `functions`) unless it holds one lane.
    fn functions(&mut self, shown: &[u32], functions: &mut FxHashMap<u32, u32>) {
        let (groups, by_group) = by_function(self.lanes, shown);
        let mut members = by_group.as_slice();
        for (name, size) in groups {
            let Some((group, rest)) = members.split_at_checked(size as usize) else {
                break;
            };
            members = rest;
            if size > 1 {
                functions.insert(name, size);
                self.push(RowKind::Function(name), GROUP_HEADER_HEIGHT);
                if self.state.function_folded(self.names, name, size) {
                    continue;
                }
            }
            group.iter().for_each(|&index| self.lane(index));
        }
    }
}

/// Goroutine lanes `shown` (indices into `lanes`, in ID order) grouped by
/// start function: the groups' names and sizes in the order of their first
/// lane, and the lanes group after group, each group in ID order. A
/// counting sort, as there can be 600k lanes and a few hundred start
/// functions; neighbouring goroutines mostly share a start function, so the
/// last name's group is tried before the map.
fn by_function(lanes: &[Lane], shown: &[u32]) -> (Vec<(u32, u32)>, Vec<u32>) {
    let mut groups: Vec<(u32, u32)> = Vec::new();
    let mut group_of: FxHashMap<u32, u32> = FxHashMap::default();
    let mut last: Option<(u32, u32)> = None;
    let group_per_lane: Vec<u32> = shown
        .iter()
        .map(|&index| {
            let name = lanes.get(index as usize).map_or(0, Lane::name_id);
            let g = match last {
                Some((n, g)) if n == name => g,
                _ => *group_of.entry(name).or_insert_with(|| {
                    groups.push((name, 0));
                    row_number(groups.len() - 1)
                }),
            };
            last = Some((name, g));
            if let Some((_, size)) = groups.get_mut(g as usize) {
                *size += 1;
            }
            g
        })
        .collect();
    // Where each group's next lane goes.
    let mut next: Vec<usize> = groups
        .iter()
        .scan(0, |start, &(_, size)| {
            let first = *start;
            *start += size as usize;
            Some(first)
        })
        .collect();
    let mut by_group = vec![0; shown.len()];
    for (&index, &g) in shown.iter().zip(&group_per_lane) {
        if let Some(slot) = next.get_mut(g as usize) {
            if let Some(to) = by_group.get_mut(*slot) {
                *to = index;
            }
            *slot += 1;
        }
    }
    (groups, by_group)
}

/// Indices of the generations overlapping the relative range `start..end`
/// (generations are in time order).
fn visible_generations(generations: &[(f64, f64)], start: f64, end: f64) -> std::ops::Range<usize> {
    let first = generations.partition_point(|g| g.1 <= start);
    let last = generations.partition_point(|g| g.0 < end);
    first..last.max(first)
}

/// Draws the timeline of `worker`'s trace into `ui`; returns the view
/// changes the user asked for and what was on screen.
pub(crate) fn show(
    ui: &mut egui::Ui,
    view: &View,
    worker: &Worker,
    state: &mut TimelineState,
) -> Output {
    let timeline = worker.timeline();
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
    let scroll_by = pointer_input(ui, &response, &mapping, state, &mut commands)
        + shortcuts::lane_scroll(ui.ctx(), lanes_rect.height());

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

    let text = visuals.text_color();
    paint_axis(&painter, &visuals, axis_rect, lanes_rect, &mapping, view);

    let (start, end) = view.visible();
    let range = TimeSpan::new(
        origin.saturating_add(start.floor() as i64),
        origin.saturating_add(end.ceil() as i64),
    );
    let frame = LaneFrame {
        worker,
        mapping: &mapping,
        origin,
        range,
        body: body.x_range(),
        pointer: response.hover_pos(),
        text,
    };
    let mut lanes_ui = ui.new_child(UiBuilder::new().max_rect(lanes_rect));
    let shown = show_lanes(&mut lanes_ui, &frame, state, scroll_by);
    if timeline.lanes.is_empty() {
        painter.text(
            lanes_rect.center(),
            Align2::CENTER_CENTER,
            "Lanes appear here once the trace's events are decoded.",
            FontId::proportional(14.0),
            visuals.weak_text_color(),
        );
    }
    paint_errors(
        &painter,
        Rect::from_x_y_ranges(body.x_range(), lanes_rect.y_range()),
        &mapping,
        origin,
        &timeline.generations,
        worker.errors(),
        visuals.extreme_bg_color,
    );

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
    span_input(&response, state, &shown, origin, &mut commands);
    show_tooltip(response, &shown, timeline, origin);
    ui.advance_cursor_after_rect(area);
    Output {
        commands,
        viewport: Viewport {
            range,
            width_px: body.width(),
            lanes: shown.lanes,
        },
    }
}

/// The time axis over the body and its grid lines down the lanes.
fn paint_axis(
    painter: &egui::Painter,
    visuals: &egui::Visuals,
    axis_rect: Rect,
    lanes_rect: Rect,
    mapping: &Mapping,
    view: &View,
) {
    let ticks = Ticks::new(mapping, view.visible(), |s| {
        painter
            .layout_no_wrap(s.to_owned(), FontId::proportional(12.0), Color32::WHITE)
            .size()
            .x
    });
    let text = visuals.text_color();
    axis::paint(painter, axis_rect, mapping, &ticks, text);
    if let Some(base) = ticks.base_label() {
        painter.text(
            Pos2::new(axis_rect.left() - 6.0, axis_rect.top() + 3.0),
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
}

/// What every lane row of a frame needs.
struct LaneFrame<'a> {
    worker: &'a Worker,
    mapping: &'a Mapping,
    origin: i64,
    /// The visible range, absolute.
    range: TimeSpan,
    /// Screen columns right of the name column.
    body: Rangef,
    /// The pointer, if it is over the lanes' body.
    pointer: Option<Pos2>,
    text: Color32,
}

/// What the lanes showed this frame.
#[derive(Default)]
struct Shown {
    /// Keys of the lanes on screen, top to bottom.
    lanes: Vec<LaneKey>,
    /// The item under the pointer.
    hovered: Option<Picked>,
    /// The plot values under the pointer.
    plot_values: Option<String>,
}

/// Click selects the span under the pointer (or clears the selection),
/// double-click zooms to it.
fn span_input(
    response: &egui::Response,
    state: &mut TimelineState,
    shown: &Shown,
    origin: i64,
    commands: &mut Vec<ViewCommand>,
) {
    let (shift, now) = response.ctx.input(|i| (i.modifiers.shift, i.time));
    if response.clicked() && !shift {
        state.selected = shown.hovered.clone();
        state.selected_at = now;
    }
    if response.double_clicked()
        && let Some(picked) = &shown.hovered
    {
        let (start, end) = picked.zoom_range(origin);
        commands.push(ViewCommand::Show { start, end });
    }
}

/// The tooltip of what is under the pointer.
fn show_tooltip(response: egui::Response, shown: &Shown, timeline: &Timeline, origin: i64) {
    if response.dragged() {
        return;
    }
    if let Some(picked) = &shown.hovered {
        response.on_hover_ui_at_pointer(|ui| details::tooltip(ui, picked, timeline, origin));
    } else if let Some(values) = &shown.plot_values {
        response.on_hover_text_at_pointer(values);
    }
}

/// Marks where decoding failed: the failed generation's band is tinted and
/// a line is drawn where its data ends, labelled with the error.
fn paint_errors(
    painter: &egui::Painter,
    lanes: Rect,
    mapping: &Mapping,
    origin: i64,
    generations: &[TimeSpan],
    errors: &[GenerationError],
    background: Color32,
) {
    for error in errors {
        let Some(band) = error.generation.and_then(|g| generations.get(g)) else {
            continue;
        };
        let x = |t: i64| {
            mapping
                .x((t - origin) as f64)
                .clamp(lanes.left(), lanes.right())
        };
        let after = error.message.starts_with(AFTER_GENERATION);
        let (x0, x1) = (x(band.start), x(band.end));
        if !after && x1 > x0 {
            let tint = Rect::from_x_y_ranges(x0..=x1, lanes.y_range());
            painter.rect_filled(tint, 0.0, palette::ERROR.gamma_multiply(0.12));
        }
        let at = if after { x1 } else { x0 };
        if at <= lanes.left() || at >= lanes.right() {
            continue;
        }
        painter.vline(at, lanes.y_range(), Stroke::new(2.0, palette::ERROR));
        let label = format!("The trace cannot be read from here: {}", error.message);
        paint_error_label(painter, lanes, at, label, background);
    }
}

/// The error text next to its marker at `x`: on the side with more room,
/// on an opaque box so it stays readable over the spans.
fn paint_error_label(
    painter: &egui::Painter,
    lanes: Rect,
    x: f32,
    label: String,
    background: Color32,
) {
    let room_right = lanes.right() - x;
    let room_left = x - lanes.left();
    let width = (room_right.max(room_left) - 16.0).min(ERROR_LABEL_WIDTH);
    let galley = painter.layout(label, FontId::proportional(12.0), palette::ERROR, width);
    let size = galley.size();
    let left = if room_right >= room_left {
        x + 6.0
    } else {
        x - 6.0 - size.x
    };
    let pos = Pos2::new(left, lanes.top() + 6.0);
    painter.rect_filled(Rect::from_min_size(pos, size).expand(4.0), 3.0, background);
    painter.galley(pos, galley, palette::ERROR);
}

/// Widest an error label gets, in points: a few lines of a decoder message.
const ERROR_LABEL_WIDTH: f32 = 420.0;

/// How the worker words an error found after a generation that decoded
/// completely: the data ends at that generation's end, not its start.
const AFTER_GENERATION: &str = "after this generation";

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

/// The name column and lane rows inside a vertical scroll area; returns
/// what was on screen.
fn show_lanes(
    ui: &mut egui::Ui,
    frame: &LaneFrame<'_>,
    state: &mut TimelineState,
    scroll_by: f32,
) -> Shown {
    let timeline = frame.worker.timeline();
    let lanes = &timeline.lanes;
    let layout = state.layout(timeline);
    // No overscroll: a lane revealed far below the lanes' height of the
    // last frame (an outlier's goroutine in a folded group of 600k) is
    // scrolled to in one jump, which egui would take for a trackpad
    // overscroll and spring back from, to where the old lanes ended.
    ui.spacing_mut().scroll.kinetic.rubber_band = false;
    let mut area = egui::ScrollArea::vertical()
        .id_salt("lanes")
        .auto_shrink([false, false])
        // Shown from the start, the bar does not fade in when the index
        // fills the lanes: that animation drew about three more
        // whole-window frames while the first generations decode.
        .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::AlwaysVisible)
        .scroll_source(egui::containers::scroll_area::ScrollSource {
            drag: egui::containers::scroll_area::DragScroll::Never,
            ..Default::default()
        });
    let reveal = reveal_offset(ui, state, (lanes, &layout), scroll_by);
    if let Some(offset) = reveal {
        area = area.vertical_scroll_offset(offset);
    } else if scroll_by != 0.0 {
        area = area.vertical_scroll_offset((state.scroll + scroll_by).max(0.0));
    }
    let mut actions = Vec::new();
    let mut shown = Shown::default();
    let mut texture = std::mem::take(&mut state.texture);
    let output = area.show_viewport(ui, |ui, viewport| {
        let (content, _) = ui.allocate_exact_size(
            Vec2::new(ui.available_width(), layout.total),
            Sense::hover(),
        );
        let painter = ui.painter().clone();
        // The body's columns, as far as the scroll area shows them.
        let clip = painter.clip_rect();
        let area = Rect::from_x_y_ranges(frame.body, clip.y_range()).intersect(clip);
        let scene = Scene {
            painter: &painter,
            mapping: frame.mapping,
            origin: frame.origin,
            body: frame.body,
            canvas: RefCell::new(Canvas::new(&painter, area)),
        };
        for (kind, top, height) in layout.visible(viewport.top(), viewport.bottom()) {
            let rect = Rect::from_x_y_ranges(
                content.x_range(),
                content.top() + top..=content.top() + top + height,
            );
            if let Some(action) = show_row(ui, rect, (kind, &layout), timeline, state) {
                actions.push(action);
            }
            let body = Rect::from_x_y_ranges(frame.body, rect.y_range());
            match kind {
                RowKind::Lane(index) => {
                    if let Some(lane) = lanes.get(index as usize) {
                        paint_lane(&scene, frame, lane.key(), body, state, &mut shown);
                    }
                }
                RowKind::Function(name) => {
                    let title = function_title(timeline, &layout, name);
                    paint_group(&scene, frame, (name, &title), body, &mut shown);
                }
                RowKind::Group(_) => {}
            }
        }
        scene.canvas.into_inner().finish(&painter, &mut texture);
    });
    state.texture = texture;
    state.scroll = output.state.clamped_offset().y;
    settle_reveal(ui, state, reveal, frame.worker.progress().is_complete());
    for action in actions {
        apply_row_action(action, (timeline, &layout), state);
    }
    shown
}

/// Folds or unfolds what `action` says, in the lanes `layout` lays out.
fn apply_row_action(
    action: RowAction,
    (timeline, layout): (&Timeline, &Layout),
    state: &mut TimelineState,
) {
    let names = &timeline.names;
    match action {
        RowAction::Toggle(RowKind::Group(group)) => flip(&mut state.collapsed_groups, group),
        RowAction::Toggle(RowKind::Function(name)) => {
            let folded = state.function_folded(names, name, layout.members(name));
            state.fold_function(names, name, !folded);
        }
        RowAction::Toggle(RowKind::Lane(index)) => {
            if let Some(lane) = timeline.lanes.get(index as usize) {
                flip(&mut state.collapsed_lanes, lane.key());
            }
        }
        RowAction::FoldFunctions(fold) => {
            for &name in layout.functions.keys() {
                state.fold_function(names, name, fold);
            }
        }
    }
}

/// A lane being scrolled into view. While the trace is still decoding,
/// the lane may not be there yet (an outlier clicked before the overview
/// is in), and lanes that come in above it move it down: it stays pinned,
/// scrolled to again whenever it moves, until everything is decoded or the
/// user scrolls or clicks the lanes.
#[derive(Clone, Copy, Debug)]
struct Reveal {
    key: LaneKey,
    /// The offset the lanes were last scrolled to for it. Scrolling takes
    /// a frame more when the lane just came in: the scroll area keeps its
    /// content's height from the frame before.
    landed: Option<f32>,
    /// Scroll only as far as shows it (else it goes near the top).
    nearest: bool,
    /// Frames it was asked for once everything was decoded (see
    /// [`settle_reveal`]).
    settling: u8,
}

/// The scroll offset that shows the lane being revealed, if it must be set
/// this frame; forgets the lane once the user scrolled (`scroll_by`, or
/// `touched`: wheel or press over the lanes).
fn reveal_offset(
    ui: &egui::Ui,
    state: &mut TimelineState,
    (lanes, layout): (&[Lane], &Layout),
    scroll_by: f32,
) -> Option<f32> {
    let reveal = state.reveal?;
    let touched = ui.rect_contains_pointer(ui.max_rect())
        && ui.input(|i| i.smooth_scroll_delta.y != 0.0 || i.pointer.primary_pressed());
    if scroll_by != 0.0 || touched {
        state.reveal = None;
        return None;
    }
    let top = lane_top(lanes, layout, reveal.key)?;
    let height = ui.available_height();
    let bottom = (layout.total - height).max(0.0);
    let (above, below) = (
        top - REVEAL_MARGIN,
        top + ROW_HEIGHT + REVEAL_MARGIN - height,
    );
    let offset = match reveal.nearest {
        true => state.scroll.min(above).max(below),
        false => above,
    };
    let offset = offset.min(bottom).max(0.0);
    (reveal.landed != Some(offset)).then_some(offset)
}

/// Records whether the lanes landed on `offset` (asked for this frame, if
/// any), asking for another frame if not; once everything is decoded,
/// forgets the lane when it landed, or after [`REVEAL_SETTLING_FRAMES`]
/// (a lane that never comes in, filtered away).
fn settle_reveal(ui: &egui::Ui, state: &mut TimelineState, offset: Option<f32>, complete: bool) {
    let scroll = state.scroll;
    let Some(reveal) = state.reveal.as_mut() else {
        return;
    };
    if let Some(asked) = offset {
        if (scroll - asked).abs() < 0.5 {
            reveal.landed = Some(asked);
        } else {
            ui.ctx().request_repaint();
        }
    }
    if complete {
        reveal.settling = reveal.settling.saturating_add(1);
        if reveal.landed.is_some() || reveal.settling >= REVEAL_SETTLING_FRAMES {
            state.reveal = None;
        }
    }
}

/// Offset of lane `key`'s row from the top of the lane area, if it is laid out.
fn lane_top(lanes: &[Lane], layout: &Layout, key: LaneKey) -> Option<f32> {
    let index = lanes.binary_search_by_key(&key, Lane::key).ok()?;
    layout.lane_top(index)
}

/// Paints the contents of lane `key` into `body` (its rows right of the
/// name column) and records it in `shown`.
fn paint_lane(
    scene: &Scene<'_>,
    frame: &LaneFrame<'_>,
    key: LaneKey,
    body: Rect,
    state: &TimelineState,
    shown: &mut Shown,
) {
    shown.lanes.push(key);
    let ns_per_px = frame.mapping.ns_per_px();
    if let LaneKey::Plot(kind) = key {
        let fetch =
            |series, out: &mut Vec<_>| frame.worker.plot(series, frame.range, ns_per_px, out);
        if let Some(values) = plots::paint(scene, kind, body, fetch, frame.pointer, frame.text) {
            shown.plot_values = Some(values);
        }
        return;
    }
    let mut items = Vec::new();
    frame
        .worker
        .lane_items(key, frame.range, ns_per_px, &mut items);
    let rows = (body.height() / ROW_HEIGHT).round() as usize;
    let hit = lanes::paint(scene, key, body, rows, &items, frame.pointer);
    if let Some(item) = hit.and_then(|i| items.get(i)) {
        let at = (item.start, item.end, item.row);
        lanes::paint_outline(scene, body, at, Emphasis::Hovered);
        let picked = Picked::new(key, item);
        // A span cut at a generation boundary reads whole where the detail
        // on both sides is loaded (see `SpanDetails::joined`).
        let whole = match item.kind {
            crate::model::ItemKind::Span { .. } => {
                frame.worker.loaded_span_details(key, item.row, item.start)
            }
            _ => None,
        };
        shown.hovered = Some(whole.map_or_else(|| picked.clone(), |d| picked.whole(&d)));
    }
    if let Some(selected) = state
        .selected
        .as_ref()
        .filter(|s| s.lane == key && s.row < rows)
    {
        let at = (selected.start, selected.end, selected.row);
        lanes::paint_outline(scene, body, at, Emphasis::Selected);
    }
}

/// The header of start function `name`'s group: `3 × main.worker`, the
/// count first because a long function name is truncated.
fn function_title(timeline: &Timeline, layout: &Layout, name: u32) -> String {
    let function = timeline.names.get(name).unwrap_or("unknown start function");
    format!("{} × {function}", layout.members(name))
}

/// Paints what the goroutines of start function `name` (its header
/// `title`) do into `body` (their header row right of the name column);
/// the numbers under the pointer go to `shown`.
fn paint_group(
    scene: &Scene<'_>,
    frame: &LaneFrame<'_>,
    (name, title): (u32, &str),
    body: Rect,
    shown: &mut Shown,
) {
    let mut buckets = Vec::new();
    frame.worker.group_activity(name, frame.range, &mut buckets);
    if let Some(values) = group_activity::paint(scene, (body, title), &buckets, frame.pointer) {
        shown.plot_values = Some(values);
    }
}

fn flip<T: Eq + std::hash::Hash>(set: &mut HashSet<T>, item: T) {
    if !set.remove(&item) {
        set.insert(item);
    }
}

/// What the user did to a row's name.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RowAction {
    /// Clicked it: fold or unfold the row.
    Toggle(RowKind),
    /// Asked (in the goroutine headers' context menu) to fold (`true`) or
    /// unfold every start-function group.
    FoldFunctions(bool),
}

/// Draws one row; returns what the user did to its name, if anything.
fn show_row(
    ui: &mut egui::Ui,
    rect: Rect,
    (kind, layout): (RowKind, &Layout),
    timeline: &Timeline,
    state: &TimelineState,
) -> Option<RowAction> {
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
        RowKind::Group(group) => {
            let count = layout.shown(group);
            ui.painter()
                .rect_filled(rect, 0.0, visuals.extreme_bg_color.gamma_multiply(0.6));
            let folded = state.collapsed_groups.contains(&group);
            let text = if group == LaneGroup::Goroutines && state.filter.is_active() {
                format!("{} ({count} matching)", group.title())
            } else {
                format!("{} ({count})", group.title())
            };
            (text, true, folded)
        }
        RowKind::Function(name) => {
            let count = layout.members(name);
            ui.painter()
                .rect_filled(rect, 0.0, visuals.extreme_bg_color.gamma_multiply(0.3));
            (
                function_title(timeline, layout, name),
                true,
                state.function_folded(&timeline.names, name, count),
            )
        }
        RowKind::Lane(index) => {
            let lane = timeline.lanes.get(index as usize)?;
            ui.painter()
                .vline(rect.left() + NAME_COLUMN, rect.y_range(), separator);
            (
                timeline.label(lane),
                lane.collapsible(),
                state.collapsed_lanes.contains(&lane.key()),
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
        // The colour of the foldable lanes' button text, so names read alike.
        let color = label_ui.visuals().widgets.inactive.fg_stroke.color;
        label_ui.add(egui::Label::new(egui::RichText::new(text).color(color)).truncate());
        return None;
    }
    let response = label_ui.add(egui::Button::new(text).frame(false).truncate());
    let openness = if folded { 0.0 } else { 1.0 };
    let icon_response = response.clone().with_new_rect(icon);
    egui::collapsing_header::paint_default_icon(ui, openness, &icon_response);
    let groups = matches!(
        kind,
        RowKind::Group(LaneGroup::Goroutines) | RowKind::Function(_)
    );
    let mut action = response.clicked().then_some(RowAction::Toggle(kind));
    if groups {
        response.context_menu(|ui| {
            for (label, fold) in [("Fold All Groups", true), ("Unfold All Groups", false)] {
                if ui.button(label).clicked() {
                    action = Some(RowAction::FoldFunctions(fold));
                }
            }
        });
    }
    action
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two Ps of one row, 10 000 goroutines of two rows, each with a start
    /// function of its own (so each is its own group, without a header).
    fn lanes() -> Vec<Lane> {
        let mut lanes = vec![
            Lane::new(LaneKey::Proc(0), 0, 1),
            Lane::new(LaneKey::Proc(1), 0, 1),
        ];
        lanes.extend((0..10_000).map(|g| Lane::new(LaneKey::Goroutine(g), g as u32 + 1, 2)));
        lanes
    }

    /// What `layout`'s rows show, in order.
    fn kinds(layout: &Layout) -> Vec<RowKind> {
        layout.rows.iter().map(|r| r.kind()).collect()
    }

    #[test]
    fn goroutines_are_grouped_by_start_function() {
        let mut names = LaneNames::default();
        let (main, worker, handler) = (
            names.id("main.main"),
            names.id("main.worker"),
            names.id("main.handler"),
        );
        // G1 main.main, then workers and handlers interleaved: 3 workers,
        // 40 handlers (more than a screenful: folded at first).
        let mut lanes = vec![Lane::new(LaneKey::Goroutine(1), main, 1)];
        for g in 2..45 {
            let name = if g % 10 == 2 && g < 30 {
                worker
            } else {
                handler
            };
            lanes.push(Lane::new(LaneKey::Goroutine(g), name, 1));
        }
        let index = |g: i64| {
            row_number(
                lanes
                    .binary_search_by_key(&LaneKey::Goroutine(g), Lane::key)
                    .unwrap(),
            )
        };
        let mut state = TimelineState::default();
        let laid = layout(&lanes, &names, &state);
        let (main_lane, first_worker) = (RowKind::Lane(index(1)), RowKind::Lane(index(2)));
        assert_eq!(
            kinds(&laid),
            [
                RowKind::Group(LaneGroup::Goroutines),
                main_lane,
                RowKind::Function(worker),
                first_worker,
                RowKind::Lane(index(12)),
                RowKind::Lane(index(22)),
                RowKind::Function(handler),
            ],
            "a group of one is its lane; the groups in the order of their first goroutine"
        );
        assert_eq!(
            (
                laid.members(worker),
                laid.members(handler),
                laid.members(main)
            ),
            (3, 40, 0)
        );
        assert_eq!(laid.shown(LaneGroup::Goroutines), 44);

        // Unfolded by the user: its lanes in ID order; folding the workers.
        state.fold_function(&names, handler, false);
        state.fold_function(&names, worker, true);
        let laid = layout(&lanes, &names, &state);
        let rows = kinds(&laid);
        assert_eq!(
            rows[2..5],
            [
                RowKind::Function(worker),
                RowKind::Function(handler),
                RowKind::Lane(index(3))
            ]
        );
        assert_eq!(rows.len(), 5 + 40 - 1);
        assert!(
            rows.windows(2)
                .skip(4)
                .all(|w| matches!(w, [RowKind::Lane(a), RowKind::Lane(b)] if a < b))
        );

        // Hiding the runtime's goroutines leaves the groups as they were.
        let mut state = TimelineState::default();
        state.filter_mut().set_hide_system(true);
        assert_eq!(kinds(&layout(&lanes, &names, &state)).len(), 7);

        // A filter unfolds what matches, unless the user folded it.
        let mut state = TimelineState::default();
        state.filter_mut().set_text("handler");
        let laid = layout(&lanes, &names, &state);
        assert_eq!(laid.rows.len(), 2 + 40, "{:?}", kinds(&laid));

        // Revealing a handler unfolds its group once the lane is in.
        let mut state = TimelineState::default();
        state.reveal(LaneKey::Goroutine(44));
        let timeline = Timeline {
            lanes: lanes.clone(),
            names: names.clone(),
            ..Timeline::default()
        };
        let laid = state.layout(&timeline);
        assert!(laid.lane_top(index(44) as usize).is_some());
        assert_eq!(state.function_folds.get("main.handler"), Some(&false));
    }

    #[test]
    fn layout_groups_and_folds() {
        let lanes = lanes();
        let mut state = TimelineState::default();
        let laid = layout(&lanes, &LaneNames::default(), &state);
        assert_eq!(size_of::<Row>(), 8, "one per lane: keep it small");
        assert_eq!(laid.rows.len(), 2 + lanes.len());
        assert_eq!(laid.rows[0].kind(), RowKind::Group(LaneGroup::Procs));
        assert_eq!(laid.rows[3].kind(), RowKind::Group(LaneGroup::Goroutines));
        assert_eq!(
            (
                laid.shown(LaneGroup::Procs),
                laid.shown(LaneGroup::Goroutines)
            ),
            (2, 10_000)
        );
        assert_eq!(
            laid.total,
            2.0 * GROUP_HEADER_HEIGHT + 2.0 * ROW_HEIGHT + 10_000.0 * 2.0 * ROW_HEIGHT
        );

        state.collapsed_groups.insert(LaneGroup::Goroutines);
        let laid = layout(&lanes, &LaneNames::default(), &state);
        assert_eq!(laid.rows.len(), 4);
        assert_eq!(
            laid.shown(LaneGroup::Goroutines),
            10_000,
            "folded, not hidden"
        );
        assert_eq!(laid.total, 2.0 * GROUP_HEADER_HEIGHT + 2.0 * ROW_HEIGHT);

        state.collapsed_groups.clear();
        state.collapsed_lanes.insert(LaneKey::Goroutine(7));
        let laid = layout(&lanes, &LaneNames::default(), &state);
        let all = 2.0 * GROUP_HEADER_HEIGHT + 2.0 * ROW_HEIGHT + 10_000.0 * 2.0 * ROW_HEIGHT;
        assert_eq!(laid.total, all - ROW_HEIGHT, "a folded lane keeps one row");
        let folded = laid.lane_top(2 + 7).expect("laid out");
        let rows: Vec<_> = laid.visible(folded, folded + 1.0).collect();
        assert_eq!(rows, [(RowKind::Lane(9), folded, ROW_HEIGHT)]);
    }

    #[test]
    fn a_lane_is_found_wherever_it_is_laid_out() {
        let lanes = lanes();
        let mut state = TimelineState::default();
        // Every lane shown, then a section collapsed, then a filter: each
        // lane's top is where its row is, and a lane without a row has none.
        for step in 0..3 {
            match step {
                1 => {
                    state.collapsed_groups.insert(LaneGroup::Procs);
                }
                2 => state.filter_mut().set_text("g:0 g:7 g:500 g:9999"),
                _ => {}
            }
            let laid = layout(&lanes, &LaneNames::default(), &state);
            let mut found = 0;
            for index in 0..lanes.len() + 2 {
                let row = laid.rows.iter().find(|r| r.what == index as u32);
                assert_eq!(laid.lane_top(index), row.map(|r| r.top), "lane {index}");
                found += usize::from(row.is_some());
            }
            assert_eq!(found, [lanes.len(), 10_000, 4][step]);
        }
    }

    /// Runs `f` with the ui of a 1000×500 point central panel.
    fn in_ui(mut f: impl FnMut(&mut egui::Ui)) {
        let ctx = egui::Context::default();
        let input = egui::RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, Vec2::new(1000.0, 500.0))),
            ..Default::default()
        };
        let mut output = ctx.run_ui(input, |ui| f(ui));
        output.textures_delta.clear();
    }

    #[test]
    fn a_revealed_lane_stays_pinned_while_lanes_come_in_above_it() {
        let mut state = TimelineState::default();
        let key = LaneKey::Goroutine(500);
        state.reveal(key);
        let few: Vec<Lane> = lanes().into_iter().filter(|l| l.key() >= key).collect();
        let all = lanes();
        in_ui(|ui| {
            // Not decoded yet: nothing to scroll to, the wish is kept.
            let none: Vec<Lane> = Vec::new();
            let laid = layout(&none, &LaneNames::default(), &state);
            assert_eq!(reveal_offset(ui, &mut state, (&none, &laid), 0.0), None);
            settle_reveal(ui, &mut state, None, false);
            assert!(state.reveal.is_some());

            // It comes in first in its section: scrolled to once landed.
            let laid = layout(&few, &LaneNames::default(), &state);
            let first = reveal_offset(ui, &mut state, (&few, &laid), 0.0);
            assert_eq!(first, Some(0.0), "at the top: no room above");
            state.scroll = 0.0;
            settle_reveal(ui, &mut state, first, false);
            assert_eq!(reveal_offset(ui, &mut state, (&few, &laid), 0.0), None);

            // 500 goroutines come in above it: it is followed there.
            let laid = layout(&all, &LaneNames::default(), &state);
            let top = laid.lane_top(2 + 500).expect("laid out");
            let moved = reveal_offset(ui, &mut state, (&all, &laid), 0.0);
            assert_eq!(moved, Some(top - REVEAL_MARGIN));
            // The scroll area fell short (its content's height was last
            // frame's): asked again next frame.
            state.scroll = 100.0;
            settle_reveal(ui, &mut state, moved, false);
            assert_eq!(reveal_offset(ui, &mut state, (&all, &laid), 0.0), moved);

            // The user scrolls: unpinned.
            assert_eq!(reveal_offset(ui, &mut state, (&all, &laid), 40.0), None);
            assert!(state.reveal.is_none());

            // Once everything is decoded, a reveal is done once it landed:
            // unfolding a big group, the scroll area falls short at first.
            state.reveal(key);
            let offset = reveal_offset(ui, &mut state, (&all, &laid), 0.0);
            state.scroll = 0.0;
            settle_reveal(ui, &mut state, offset, true);
            assert!(state.reveal.is_some(), "not there yet");
            assert_eq!(reveal_offset(ui, &mut state, (&all, &laid), 0.0), offset);
            state.scroll = offset.expect("scrolled to");
            settle_reveal(ui, &mut state, offset, true);
            assert!(state.reveal.is_none());

            // A lane that never comes in is given up on.
            state.reveal(LaneKey::Goroutine(1 << 40));
            for _ in 0..REVEAL_SETTLING_FRAMES {
                assert!(state.reveal.is_some());
                let none = reveal_offset(ui, &mut state, (&all, &laid), 0.0);
                settle_reveal(ui, &mut state, none, true);
            }
            assert!(state.reveal.is_none());
        });
    }

    #[test]
    fn the_filter_keeps_matching_goroutines() {
        let mut lanes = lanes();
        let mut names = LaneNames::default();
        lanes[2] = Lane::new(LaneKey::Goroutine(0), names.id("main.Worker"), 2);
        let mut state = TimelineState::default();
        state.filter_mut().set_text("WORKER");
        let laid = layout(&lanes, &names, &state);
        let kinds: Vec<RowKind> = laid.rows.iter().map(|r| r.kind()).collect();
        assert_eq!(
            kinds,
            [
                RowKind::Group(LaneGroup::Procs),
                RowKind::Lane(0),
                RowKind::Lane(1),
                RowKind::Group(LaneGroup::Goroutines),
                RowKind::Lane(2),
            ]
        );
        assert_eq!(laid.shown(LaneGroup::Goroutines), 1);
    }

    #[test]
    fn only_visible_rows_are_drawn() {
        let lanes = lanes();
        let laid = layout(&lanes, &LaneNames::default(), &TimelineState::default());
        let top = 100_000.0;
        let shown: Vec<_> = laid.visible(top, top + 800.0).collect();
        assert!(
            shown.len() <= (800.0 / (2.0 * ROW_HEIGHT)) as usize + 2,
            "{}",
            shown.len()
        );
        assert!(
            shown
                .first()
                .is_some_and(|&(_, t, h)| t <= top && t + h > top)
        );
        assert!(shown.last().is_some_and(|&(_, t, _)| t < top + 800.0));
        // Each row ends where the next begins; the last at the total.
        let all: Vec<_> = laid.visible(0.0, laid.total).collect();
        assert_eq!(all.len(), laid.rows.len());
        assert!(all.windows(2).all(|w| w[0].1 + w[0].2 == w[1].1));
        assert!(all.last().is_some_and(|&(_, t, h)| t + h == laid.total));
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
