//! The ui side of the worker: what has arrived, and answering draw queries
//! from it.
//!
//! Lives on the ui thread and is only touched there, so queries take no
//! lock. It keeps the summary of every decoded generation (replaced when
//! the worker decodes an outdated one again, see `schedule`), the full detail
//! of windows of a few in a [`DetailCache`] (an outdated generation's is
//! dropped at once, and asked for again), the lane list (the union of the
//! lanes of all summaries so far) and the errors. Per generation, a query
//! draws full detail where a cached window holds it and the summary is
//! coarser than a pixel for the lane, and the summary elsewhere.
//!
//! A window is what the view shows of a generation, widened for panning,
//! but no longer than what [`WINDOW_BYTES`] of detail covers (estimated
//! from the generation's size in the file): a view wider than half that
//! shows detail around its centre and the summary beyond. A window is asked
//! for again once the view leaves the half of the one asked for before.
//!
//! The details of a selected span (its stack, unblocker, P and M) come from
//! full detail only: a window holds every span that touches it, so a span
//! selected on screen is answered from the view's window, even one that
//! began long before it. The generation of the last span asked about is
//! *pinned* until the ui has its answer: kept in the cache, and, if the
//! view does not show that generation (a wait that began in the one
//! before), wanted in full detail over a window holding the span. A
//! generation the view shows gets the view's window, one window per
//! generation and the view first, unless its detail is in and cannot
//! answer (a span picked in the outliers table, far from the middle of a
//! wide view): then the span's window, until the ui has its answer.

use std::cell::Cell;

use super::cache::{DETAIL_BUDGET, DetailCache};
use super::{Command, GenerationError, Progress, SpanQuery, Update, Viewport};
use crate::model::query::{detail_items, series_columns, summary_items, summary_suffices};
use crate::model::{
    Activity, DrawItem, GenerationModel, GenerationSummary, GroupValues, Lane, LaneKey, PlotKind,
    PlotPoint, Series, SpanDetails, TimeSpan, Timeline,
};

/// What the ui knows of one generation.
#[derive(Default)]
struct Generation {
    summary: Option<GenerationSummary>,
    /// The summary will be replaced (see `schedule`'s module doc).
    outdated: bool,
    failed: bool,
    /// Bytes in the file.
    size: usize,
    /// The window last asked for in full detail.
    asked: Option<TimeSpan>,
}

impl Generation {
    /// Whether it has its summary, or failed to decode: nothing more of it
    /// is coming.
    fn settled(&self) -> bool {
        self.summary.is_some() || self.failed
    }
}

/// What [`Store::pinned`] holds: the generation, the time and the row
/// (lane and row number) of the span asked about.
type Pinned = (usize, i64, (LaneKey, usize));

/// Most generations a span is joined across each way (see
/// [`Store::joined`]): a goroutine idle through a whole trace is one span
/// per generation, and the side panel asks about the selected span every
/// frame until it is answered.
const MAX_JOINED: usize = 64;

/// The lanes every trace has, shown from the first frame.
const RUNTIME_LANES: [LaneKey; 4] = [
    LaneKey::Plot(PlotKind::Heap),
    LaneKey::Plot(PlotKind::Goroutines),
    LaneKey::Plot(PlotKind::Procs),
    LaneKey::Gc,
];

/// Width in pixels from which a generation's full detail is loaded. Below
/// it the summaries are drawn (P, M, GC and task lanes have ~1000 buckets
/// per generation, so they stay sharp; goroutine lanes have fewer and look
/// blocky). A screen is ~2000 px wide, so at most three generations are
/// wanted in detail at once, which bounds the detail held to what is on
/// screen. Lower shows detail sooner when zooming in, at the price of
/// decoding and holding more generations.
const DETAIL_MIN_PX: f64 = 1024.0;

/// Memory the full detail of a generation takes per byte of it in the
/// file (100 MB for a 16.3 MB generation of the 1 GB benchmark trace: spans
/// on goroutine, P and M lanes and their origins), to size windows.
const DETAIL_BYTES_PER_FILE_BYTE: f64 = 6.5;

/// Most memory the full detail of one generation's window should take, as
/// estimated from the generation's size in the file: a zoomed-in view
/// needs the spans of what it shows, not of the whole generation, which in
/// a busy trace is over a hundred megabytes. A window is narrowed to fit;
/// a view wider than half of it shows the summary beyond the half around
/// its centre. More shows wider views in detail; less lowers the peak
/// memory while browsing, on top of the summaries of every generation
/// (on the 1 GB benchmark trace, zooming in and panning peaked at 314–354
/// MB with 12 MiB and 330 MB with 8 MiB when this was chosen; 8 MiB is
/// about 80 ms of a generation there, and with the savings since it peaks
/// at 270–290 MB).
pub(crate) const WINDOW_BYTES: usize = 8 << 20;

/// The zoom at which [`span_item`] asks for a span's draw item: fine enough
/// that no span is folded into a block.
const EXACT_NS_PER_PX: f64 = 1e-3;

/// Everything received from the worker thread.
#[derive(Default)]
pub(crate) struct Store {
    timeline: Timeline,
    generations: Vec<Generation>,
    cache: DetailCache,
    errors: Vec<GenerationError>,
    viewport: Option<Viewport>,
    /// The generation, time and row of the span whose details were last
    /// asked for (queries take `&self`: the ui draws from shared borrows).
    pinned: Cell<Option<Pinned>>,
    indexed: bool,
    fatal: bool,
    /// The activity of goroutines no generation decoded so far names, by
    /// generation (see `model::activity`): added to its group once one does.
    unnamed: Vec<(usize, i64, Activity)>,
}

impl Store {
    pub(crate) fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    pub(crate) fn errors(&self) -> &[GenerationError] {
        &self.errors
    }

    pub(crate) fn progress(&self) -> Progress {
        Progress {
            done: self.generations.iter().filter(|g| g.settled()).count(),
            total: self.generations.len(),
        }
    }

    /// Takes in one update; returns commands for the worker thread.
    pub(crate) fn apply(&mut self, update: Update) -> Vec<Command> {
        let mut commands = Vec::new();
        match update {
            Update::Indexed { bands, sizes } => {
                self.indexed = true;
                self.generations = (0..bands.len())
                    .map(|g| Generation {
                        size: sizes.get(g).copied().unwrap_or_default(),
                        ..Generation::default()
                    })
                    .collect();
                self.timeline.generations = bands;
                self.merge_lanes(RUNTIME_LANES.iter().map(|&key| (key, None, 0)));
            }
            Update::Decoded {
                generation,
                summary,
                detail,
            } => {
                if let Some(summary) = summary {
                    self.add_summary(generation, *summary);
                }
                if let Some(model) = detail {
                    commands = self.add_detail(generation, *model);
                }
            }
            Update::Outdated(generation) => {
                if let Some(g) = self.generations.get_mut(generation) {
                    g.outdated = true;
                }
                // Its detail was built without what was open at its start
                // too: drawn from the summary until the worker decodes it
                // again (which it does while the view wants it).
                if self.cache.remove(generation) {
                    commands.push(Command::Evicted(generation));
                }
            }
            Update::Failed {
                generation,
                message,
            } => {
                match generation.and_then(|g| self.generations.get_mut(g)) {
                    Some(g) => g.failed = true,
                    None => self.fatal |= !self.indexed,
                }
                self.errors.push(GenerationError {
                    generation,
                    message,
                });
            }
        }
        self.timeline.span = self
            .timeline
            .generations
            .iter()
            .copied()
            .reduce(TimeSpan::union)
            .unwrap_or_default();
        self.timeline.pending = self.pending();
        commands
    }

    /// Takes in a generation's summary, or a newer one (a generation
    /// decoded again once the regions its goroutines entered it with were
    /// known).
    fn add_summary(&mut self, generation: usize, mut summary: GenerationSummary) {
        let Some(known) = self.generations.get(generation) else {
            return;
        };
        let first = known.summary.is_none();
        if let Some(band) = self
            .timeline
            .generations
            .get_mut(generation)
            .filter(|_| !summary.span().is_empty())
        {
            *band = summary.span();
        }
        if let Some(clock) = summary.clock.filter(|_| first) {
            let clocks = &mut self.timeline.clocks;
            let at = clocks.partition_point(|c| c.trace < clock.trace);
            clocks.insert(at, clock);
        }
        let revision = self.timeline.revision;
        self.merge_lanes(
            summary
                .lanes()
                .map(|l| (l.key, summary.name(&l), l.rows_len())),
        );
        self.unnamed.retain(|&(g, ..)| g != generation);
        let lanes = &self.timeline.lanes;
        let unnamed = summary.resolve_activity(&mut self.timeline.names, |id| group_of(lanes, id));
        self.unnamed
            .extend(unnamed.into_iter().map(|(id, a)| (generation, id, a)));
        if let Some(slot) = self.generations.get_mut(generation) {
            slot.summary = Some(summary);
            slot.outdated = false;
        }
        let all_in = self.generations.iter().all(Generation::settled);
        if self.timeline.revision != revision || all_in {
            self.attribute_unnamed(all_in);
        }
    }

    /// Adds the activity of the goroutines named since it came in to their
    /// groups; once every generation is in (or failed), `all_in`, those
    /// none of them names go to the group of goroutines without a start
    /// function (name 0).
    fn attribute_unnamed(&mut self, all_in: bool) {
        let lanes = &self.timeline.lanes;
        let generations = &mut self.generations;
        self.unnamed.retain(|(g, id, activity)| {
            let Some(name) = group_of(lanes, *id).or(all_in.then_some(0)) else {
                return true;
            };
            let summary = generations.get_mut(*g).and_then(|s| s.summary.as_mut());
            if let Some(summary) = summary {
                summary.activity.add_to(name, activity);
            }
            false
        });
    }

    /// Adds the lanes not seen yet and widens (or names) the known ones.
    /// The timeline's lanes stay sorted by key; only new or changed lanes
    /// get a new label, so a trace with 600k goroutines costs a merge per
    /// generation, not a relabelling of every lane.
    fn merge_lanes<'n>(&mut self, lanes: impl Iterator<Item = (LaneKey, Option<&'n str>, usize)>) {
        let names = &mut self.timeline.names;
        let mut name_id = |name: Option<&str>| name.map_or(0, |n| names.id(n));
        let known = &mut self.timeline.lanes;
        let mut added = Vec::new();
        let mut changed = false;
        for (key, name, rows) in lanes {
            match known.binary_search_by_key(&key, Lane::key) {
                Ok(i) => {
                    let named = |lane: &Lane| lane.name_id() != 0;
                    if let Some(lane) = known.get_mut(i)
                        && (rows > lane.rows()
                            || (!named(lane) && name.is_some_and(|n| !n.is_empty())))
                    {
                        let name = match lane.name_id() {
                            0 => name_id(name),
                            id => id,
                        };
                        *lane = Lane::new(key, name, rows.max(lane.rows()));
                        changed = true;
                    }
                }
                Err(_) => added.push(Lane::new(key, name_id(name), rows)),
            }
        }
        if !added.is_empty() {
            added.sort_by_key(Lane::key);
            added.dedup_by_key(|l| l.key());
            merge_sorted(known, added);
            changed = true;
        }
        if changed {
            self.timeline.revision += 1;
        }
    }

    fn add_detail(&mut self, generation: usize, mut model: GenerationModel) -> Vec<Command> {
        let lanes = &self.timeline.lanes;
        model.resolve_activity(&mut self.timeline.names, |id| {
            group_of(lanes, id).or(Some(0))
        });
        let mut visible = self.visible();
        visible.extend(self.pinned.get().map(|(g, ..)| g));
        let evicted = self
            .cache
            .insert(generation, model, &visible, DETAIL_BUDGET);
        if !evicted.is_empty() {
            super::memory::trim_heap();
        }
        evicted.into_iter().map(Command::Evicted).collect()
    }

    /// The last viewport set.
    pub(crate) fn viewport(&self) -> Option<&Viewport> {
        self.viewport.as_ref()
    }

    /// Records the viewport; returns what the worker thread should decode:
    /// the visible generations, most central first, and those wanted in
    /// full detail, each with the window wanted.
    pub(crate) fn set_viewport(&mut self, viewport: Viewport) -> super::Wants {
        self.viewport = Some(viewport);
        let mut focus = self.visible();
        for &g in &focus {
            self.cache.touch(g);
        }
        let centre = self
            .viewport
            .as_ref()
            .map_or(0, |v| v.range.start / 2 + v.range.end / 2);
        let band = |g: usize| {
            self.timeline
                .generations
                .get(g)
                .copied()
                .unwrap_or_default()
        };
        focus.sort_by_key(|&g| (band(g).start / 2 + band(g).end / 2).abs_diff(centre));
        let mut wanted: Vec<usize> = focus
            .iter()
            .copied()
            .filter(|&g| self.needs_detail(g))
            .collect();
        if let Some((g, ..)) = self.pinned.get().filter(|(g, ..)| !wanted.contains(g)) {
            wanted.push(g);
            self.cache.touch(g);
        }
        let detail = wanted.into_iter().map(|g| (g, self.ask(g))).collect();
        self.timeline.pending = self.pending();
        (focus, detail)
    }

    /// Generation `g`'s time range.
    fn band(&self, g: usize) -> TimeSpan {
        self.timeline
            .generations
            .get(g)
            .copied()
            .unwrap_or_default()
    }

    /// The part of generation `g` the view or the selected span wants in
    /// full detail, and the window to ask for to have it: the part is at
    /// most half a window, around the centre of what is wanted, so the
    /// window covers some panning around it.
    fn window_for(&self, g: usize) -> (TimeSpan, TimeSpan) {
        let band = self.band(g);
        let view = self.viewport.as_ref().map_or(band, |v| v.range);
        let instant = |t: i64| TimeSpan::new(t, t.saturating_add(1));
        // The view comes first: one window per generation, and a span
        // selected in view is in the view's window (see `loaded_details`).
        let wanted = match self.pinned.get() {
            Some((p, t, (key, row))) if p == g => {
                let unanswered = self.cache.get(g).is_some_and(|m| {
                    !m.window().covers(instant(t)) && m.span_details(key, row, t).is_none()
                });
                match view.intersect(band).is_empty() || unanswered {
                    true => instant(t),
                    false => view.intersect(band),
                }
            }
            _ => view.intersect(band),
        };
        let size = self.generations.get(g).map_or(0, |k| k.size);
        let bytes = size as f64 * DETAIL_BYTES_PER_FILE_BYTE;
        let max = (band.len() as f64 * WINDOW_BYTES as f64 / bytes.max(1.0)) as i64;
        if max >= band.len() {
            return (wanted, band);
        }
        let centre = wanted.start / 2 + wanted.end / 2;
        let half = wanted.len().min(max / 2) / 2;
        let part = TimeSpan::new(centre.saturating_sub(half), centre.saturating_add(half));
        let latest = band.end.saturating_sub(max).max(band.start);
        let start = centre.saturating_sub(max / 2).clamp(band.start, latest);
        let window = TimeSpan::new(start, start.saturating_add(max));
        (part.intersect(wanted), window.intersect(band))
    }

    /// The window of generation `g` to want in detail: the one asked for
    /// before while it covers what is wanted (so a detail arriving or held
    /// is not asked for again), else a new one.
    fn ask(&mut self, g: usize) -> TimeSpan {
        let (part, window) = self.window_for(g);
        let Some(known) = self.generations.get_mut(g) else {
            return window;
        };
        match known.asked.filter(|asked| asked.covers(part)) {
            Some(asked) => asked,
            None => *known.asked.insert(window),
        }
    }

    /// Whether the cached detail of generation `g` covers what is wanted
    /// of it.
    fn detail_covers(&self, g: usize) -> bool {
        let (part, _) = self.window_for(g);
        self.cache.get(g).is_some_and(|m| m.window().covers(part))
    }

    /// Generations intersecting the viewport (all without one).
    fn visible(&self) -> Vec<usize> {
        let all = TimeSpan::new(i64::MIN, i64::MAX);
        self.overlapping(self.viewport.as_ref().map_or(all, |v| v.range))
            .collect()
    }

    fn overlapping(&self, view: TimeSpan) -> impl Iterator<Item = usize> + '_ {
        self.timeline
            .generations
            .iter()
            .enumerate()
            .filter(move |(_, b)| b.overlaps(view))
            .map(|(g, _)| g)
    }

    /// The decoded generations drawn in `view`, each with the part of the
    /// view it draws. Go's generations overlap by a few milliseconds (the
    /// next one's first batches start before this one's last event); in the
    /// overlap the earlier generation has the real events, while the later
    /// one only knows the states its status events establish, so each
    /// generation draws from where the previous one ends.
    fn territories(
        &self,
        view: TimeSpan,
    ) -> impl Iterator<Item = (&GenerationSummary, usize, TimeSpan)> + '_ {
        let bands = &self.timeline.generations;
        self.overlapping(view).filter_map(move |g| {
            let summary = self.generations.get(g)?.summary.as_ref()?;
            let from = g
                .checked_sub(1)
                .and_then(|p| bands.get(p))
                .map_or(view.start, |prev| prev.end.max(view.start));
            (from < view.end).then_some((summary, g, TimeSpan::new(from, view.end)))
        })
    }

    /// Whether the viewport shows generation `g` finer than its summary:
    /// drawn at least [`DETAIL_MIN_PX`] wide, with a visible lane whose
    /// summary is coarser than a pixel.
    fn needs_detail(&self, g: usize) -> bool {
        let Some(v) = &self.viewport else {
            return false;
        };
        let Some(band) = self.timeline.generations.get(g) else {
            return false;
        };
        if (band.len() as f64) < v.ns_per_px() * DETAIL_MIN_PX {
            return false;
        }
        match self
            .generations
            .get(g)
            .and_then(|known| known.summary.as_ref())
        {
            Some(s) => v
                .lanes
                .iter()
                .any(|&key| !summary_suffices(s, key, v.ns_per_px())),
            None => true,
        }
    }

    /// Visible generations not yet drawn from decoded data.
    fn pending(&self) -> usize {
        if !self.indexed {
            return usize::from(!self.fatal);
        }
        let waiting = |&g: &usize| {
            self.generations.get(g).is_some_and(|known| {
                !known.failed
                    && (known.summary.is_none()
                        || known.outdated
                        || (self.needs_detail(g) && !self.detail_covers(g)))
            })
        };
        self.visible().into_iter().filter(waiting).count()
    }

    /// The details of the span of lane `key`'s row `row` at absolute time
    /// `t`, from the generation that draws `t`; pins that generation.
    pub(crate) fn span_details(&self, key: LaneKey, row: usize, t: i64) -> SpanQuery {
        let Some(g) = self.owner(t) else {
            return SpanQuery::Unknown;
        };
        self.pinned.set(Some((g, t, (key, row))));
        match self.loaded_details(g, (key, row), t) {
            Some(details) => SpanQuery::Ready(details),
            None if self.generations.get(g).is_some_and(|k| k.failed) => SpanQuery::Unknown,
            None if self.detail_covering(g, t).is_some() => SpanQuery::Unknown,
            None => SpanQuery::Loading,
        }
    }

    /// Forgets the generation [`Store::span_details`] pinned: the ui has
    /// its answer, or no span selected.
    pub(crate) fn unpin(&self) {
        self.pinned.set(None);
    }

    /// The details of the span of lane `key`'s row `row` at `t` in the
    /// cached full detail of generation `g`. A window's detail holds every
    /// span that touches it whole, so the span is found even when the
    /// window does not cover `t` (a long wait that began before it); a span
    /// found holding `t` is the span at `t`, as a row's spans never overlap.
    fn loaded_details(
        &self,
        g: usize,
        (key, row): (LaneKey, usize),
        t: i64,
    ) -> Option<SpanDetails> {
        let details = self.cache.get(g)?.span_details(key, row, t)?;
        Some(self.joined(g, (key, row), details))
    }

    /// `details` of a span of generation `g`, joined with its pieces in the
    /// generations around it whose full detail is loaded (see
    /// [`SpanDetails::joined`]): a wait that outlasts a generation reads as
    /// one wait, with its reason, stack and unblocker and its whole length.
    /// At most [`MAX_JOINED`] generations each way.
    fn joined(&self, g: usize, (key, row): (LaneKey, usize), details: SpanDetails) -> SpanDetails {
        // A generation's span begins at its first event and ends at its
        // last: a piece cut there begins or ends on it. The pieces of the
        // span on either side of the boundary after generation `b`, one of
        // them `known`, joined.
        let span = |g: usize| self.cache.get(g).map(GenerationModel::span);
        let piece = |g: usize, t: i64| self.cache.get(g)?.span_details(key, row, t);
        let join_at = |b: usize, known: &SpanDetails, backwards: bool| {
            let (before, after) = (span(b)?, span(b + 1)?);
            let (earlier, later) = match backwards {
                true => (piece(b, before.end - 1)?, known.clone()),
                false => (known.clone(), piece(b + 1, after.start)?),
            };
            let cut = earlier.end == before.end && later.start == after.start;
            earlier.joined(later).filter(|_| cut)
        };
        let (mut joined, mut first, mut last) = (details, g, g);
        while let Some(j) = first.checked_sub(1).and_then(|b| join_at(b, &joined, true)) {
            (joined, first) = (j, first - 1);
            if g - first == MAX_JOINED {
                break;
            }
        }
        while let Some(j) = join_at(last, &joined, false) {
            (joined, last) = (j, last + 1);
            if last - g == MAX_JOINED {
                break;
            }
        }
        // A piece that begins with its generation was in progress then (a
        // transition cannot come at the generation's first event, its
        // sync); one that ends with its generation may just end there too,
        // so it is said to go on only into a generation not loaded.
        let unloaded =
            |g: Option<usize>| g.is_some_and(|g| g < self.generations.len() && span(g).is_none());
        let edge = |g| span(g).unwrap_or_default();
        joined.began_before =
            joined.start == edge(first).start && (first == 0 || unloaded(first.checked_sub(1)));
        joined.goes_on = joined.end == edge(last).end && unloaded(last.checked_add(1));
        joined
    }

    /// Like [`Store::span_details`], but only from full detail already
    /// loaded, and without pinning anything: `None` if it is not loaded.
    pub(crate) fn loaded_span_details(
        &self,
        key: LaneKey,
        row: usize,
        t: i64,
    ) -> Option<SpanDetails> {
        self.loaded_details(self.owner(t)?, (key, row), t)
    }

    /// Generation `g`'s full detail, if it is loaded over a window holding
    /// `t`.
    fn detail_covering(&self, g: usize, t: i64) -> Option<&GenerationModel> {
        let at = TimeSpan::new(t, t.saturating_add(1));
        self.cache.get(g).filter(|m| m.window().covers(at))
    }

    /// The span after (`forward`) or before the one starting at `start` on
    /// lane `key`'s row `row`, from the loaded full detail of the
    /// generation holding `start`; `None` if there is none there.
    pub(crate) fn neighbour(
        &self,
        (key, row): (LaneKey, usize),
        start: i64,
        forward: bool,
    ) -> Option<DrawItem<'_>> {
        let model = self.cache.get(self.owner(start)?)?;
        let spans = model.rows(model.lane(key)?).nth(row)?;
        let after = spans.partition_point(|s| s.start <= start);
        let i = if forward {
            after
        } else {
            after.checked_sub(2)?
        };
        let span = spans.get(i)?;
        span_item(model, (key, row), (span.start, span.end()))
    }

    /// The span of lane `key`'s row `row` that holds absolute time `t` (or
    /// the instant at `t`), from loaded full detail (see
    /// [`Store::loaded_details`]).
    pub(crate) fn span_at(&self, (key, row): (LaneKey, usize), t: i64) -> Option<DrawItem<'_>> {
        let model = self.cache.get(self.owner(t)?)?;
        let spans = model.rows(model.lane(key)?).nth(row)?;
        let i = spans.partition_point(|s| s.start <= t).checked_sub(1)?;
        let span = spans.get(i).filter(|s| t < s.end() || s.start == t)?;
        span_item(model, (key, row), (span.start, span.end()))
    }

    /// When lane `key` has anything, from the first span to the last of
    /// the generations summarized so far, to their finest buckets.
    pub(crate) fn lane_extent(&self, key: LaneKey) -> Option<TimeSpan> {
        self.generations
            .iter()
            .filter_map(|g| g.summary.as_ref()?.lane_extent(key))
            .reduce(TimeSpan::union)
    }

    /// The generation whose territory (see [`Store::territories`]) holds `t`.
    fn owner(&self, t: i64) -> Option<usize> {
        let bands = &self.timeline.generations;
        (0..bands.len()).rev().find(|&g| {
            let from = g
                .checked_sub(1)
                .and_then(|p| bands.get(p))
                .map_or(i64::MIN, |p| p.end);
            bands
                .get(g)
                .is_some_and(|b| b.start <= t && t <= b.end && from <= t)
        })
    }

    /// The draw items of lane `key` over `view`.
    pub(crate) fn lane_items<'a>(
        &'a self,
        key: LaneKey,
        view: TimeSpan,
        ns_per_px: f64,
        out: &mut Vec<DrawItem<'a>>,
    ) {
        for (summary, g, part) in self.territories(view) {
            let model = self
                .cache
                .get(g)
                .filter(|_| !summary_suffices(summary, key, ns_per_px));
            for (piece, model) in pieces((part, summary.span().end), model) {
                let first = out.len();
                match model {
                    Some(model) => detail_items(model, key, piece, ns_per_px, out),
                    None => summary_items(summary, key, piece, ns_per_px, out),
                }
                for item in out.get_mut(first..).unwrap_or_default() {
                    // Cut where a piece meets another, not at the view's
                    // edges: what is picked there says where it begins.
                    if piece.start > view.start {
                        item.start = item.start.max(piece.start).min(item.end);
                    }
                    if piece.end < part.end {
                        item.end = item.end.min(piece.end).max(item.start);
                    }
                }
            }
        }
    }

    /// Appends what the goroutines of start function `name` (an index of
    /// the timeline's names) do over `view`, bucket by bucket: the time
    /// each bucket covers and the average number of them in each state
    /// (see `model::activity`).
    pub(crate) fn group_activity(
        &self,
        name: u32,
        view: TimeSpan,
        out: &mut Vec<(TimeSpan, GroupValues)>,
    ) {
        for (summary, g, part) in self.territories(view) {
            for (piece, model) in pieces((part, summary.span().end), self.cache.get(g)) {
                match model {
                    Some(model) => model.activity.group(name, piece, out),
                    None => summary.activity.group(name, piece, out),
                }
            }
        }
    }

    /// The pixel columns of `series` over `view`.
    pub(crate) fn plot(
        &self,
        series: Series,
        view: TimeSpan,
        ns_per_px: f64,
        out: &mut Vec<PlotPoint>,
    ) {
        for (summary, g, part) in self.territories(view) {
            for (piece, model) in pieces((part, summary.span().end), self.cache.get(g)) {
                series_columns(model, summary, series, (piece, view.start), ns_per_px, out);
            }
        }
    }
}

/// The start function goroutine `id`'s lane is named after, if known.
fn group_of(lanes: &[Lane], id: i64) -> Option<u32> {
    let i = lanes
        .binary_search_by_key(&LaneKey::Goroutine(id), Lane::key)
        .ok()?;
    lanes.get(i).map(Lane::name_id).filter(|&n| n != 0)
}

/// `part` of the territory of a generation that ends at `end` cut where
/// `model`'s window begins and ends, in time order, each piece with the
/// model if the window holds it: what is drawn from the detail and what
/// from the summary. A window that reaches the generation's end leaves
/// nothing after it to the summary: its last bucket, which reaches into
/// the next generation, would be drawn over that one's start.
fn pieces(
    (part, end): (TimeSpan, i64),
    model: Option<&GenerationModel>,
) -> impl Iterator<Item = (TimeSpan, Option<&GenerationModel>)> {
    let window = model.map_or(TimeSpan::new(part.end, part.end), |m| {
        m.window().intersect(part)
    });
    let after = match window.end < end {
        true => part.end,
        false => window.end,
    };
    [
        (TimeSpan::new(part.start, window.start), None),
        (window, model),
        (TimeSpan::new(window.end, after), None),
    ]
    .into_iter()
    .filter(|(piece, _)| !piece.is_empty())
}

/// Merges `added` into `known`, both sorted by key (no key in both), in
/// place: from the back, each known lane moving at most once, with no copy
/// of the list (a trace with 600k goroutines has a 30 MB list, and a
/// generation adds a few thousand lanes to it).
fn merge_sorted(known: &mut Vec<Lane>, mut added: Vec<Lane>) {
    let mut unmerged = known.len();
    known.reserve_exact(added.len());
    known.extend(added.iter().map(|l| Lane::new(l.key(), 0, 0)));
    let mut free = known.len();
    while let Some(lane) = added.pop() {
        while unmerged > 0
            && known
                .get(unmerged - 1)
                .is_some_and(|k| k.key() > lane.key())
        {
            unmerged -= 1;
            free -= 1;
            known.swap(unmerged, free);
        }
        free -= 1;
        if let Some(slot) = known.get_mut(free) {
            *slot = lane;
        }
    }
}

/// The draw item of the span from `start` to `end` on lane `key`'s row
/// `row` of `model`, as a view zoomed in far enough that nothing is folded
/// draws it.
fn span_item(
    model: &GenerationModel,
    (key, row): (LaneKey, usize),
    (start, end): (i64, i64),
) -> Option<DrawItem<'_>> {
    let mut items = Vec::new();
    let exact = TimeSpan::new(start, end.max(start + 1));
    detail_items(model, key, exact, EXACT_NS_PER_PX, &mut items);
    items
        .into_iter()
        .find(|item| item.row == row && item.start == start)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zoomed-in view of a generation too big to hold in full detail
    /// wants a window of it around the view, sized from the generation's
    /// size in the file, asked for again only once the view leaves its
    /// middle half.
    #[test]
    fn a_big_generation_is_wanted_in_detail_over_a_window_around_the_view() {
        let mut store = Store::default();
        let second = 1_000_000_000;
        let band = TimeSpan::new(0, second);
        let size = 16 << 20;
        store.apply(Update::Indexed {
            bands: vec![band],
            sizes: vec![size],
        });
        let mut wants_at = |start: i64| {
            let range = TimeSpan::new(start, start + 10_000_000);
            let viewport = Viewport {
                range,
                width_px: 1000.0,
                lanes: vec![LaneKey::Proc(0)],
            };
            let (focus, detail) = store.set_viewport(viewport);
            assert_eq!(focus, [0]);
            let [(0, window)] = detail[..] else {
                panic!("{detail:?}")
            };
            assert!(window.covers(range), "{window:?} {range:?}");
            window
        };
        let window = wants_at(500_000_000);
        let fits = (second as f64 * WINDOW_BYTES as f64
            / (size as f64 * DETAIL_BYTES_PER_FILE_BYTE)) as i64;
        assert_eq!(window.len(), fits, "as wide as fits the budget");
        assert_eq!(wants_at(500_000_000 + fits / 8), window, "still inside");
        let moved = wants_at(500_000_000 + fits);
        assert_ne!(moved, window);
        assert_eq!(wants_at(0).start, 0, "a window stays inside its generation");
    }

    /// The sample trace's bytes, and a store with the summary of each of
    /// its generations, each said to take `size` bytes of the file.
    fn summarized_sample(size: usize) -> (Vec<u8>, Store) {
        use crate::model::{OpenAnnotations, summarize_generation};
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/traces/sample.trace");
        let bytes = std::fs::read(path).expect("the sample trace");
        let mut store = Store::default();
        {
            let trace = crate::trace::Trace::open(&bytes).expect("opens");
            let count = trace.index().generations.len();
            let bands: Vec<TimeSpan> = (0..count)
                .filter_map(|g| trace.index().generations.get(g)?.time_range())
                .map(|(start, end)| TimeSpan::new(start, end))
                .collect();
            let sizes = vec![size; bands.len()];
            store.apply(Update::Indexed { bands, sizes });
            let open = OpenAnnotations::default();
            for g in 0..count {
                let (summary, ..) = summarize_generation(&trace, g, &open).expect("summarizes");
                let summary = Some(Box::new(summary));
                store.apply(Update::Decoded {
                    generation: g,
                    summary,
                    detail: None,
                });
            }
        }
        (bytes, store)
    }

    /// Hands the store generation `g`'s full detail, `model`, as the
    /// worker does.
    fn hold(store: &mut Store, g: usize, model: GenerationModel) {
        store.apply(Update::Decoded {
            generation: g,
            summary: None,
            detail: Some(Box::new(model)),
        });
    }

    /// The bucket holding a generation boundary is drawn once, from both
    /// generations' parts of it: a goroutine that lives across the
    /// boundary covers it whole.
    #[test]
    fn a_bucket_at_a_generation_boundary_is_drawn_whole() {
        let (_, store) = summarized_sample(1 << 20);
        let bands = store.timeline.generations.clone();
        assert!(bands.len() > 2, "the sample has generation boundaries");
        let whole = TimeSpan::new(bands[0].start, bands[bands.len() - 1].end);
        let mut items = Vec::new();
        // G1 (main) lives from before the trace to its end.
        let (key, ns_per_px) = (LaneKey::Goroutine(1), whole.len() as f64 / 200.0);
        store.lane_items(key, whole, ns_per_px, &mut items);
        // Where each generation starts, and where the one before ends.
        let edges = bands.windows(2).flat_map(|w| [w[1].start, w[0].end]);
        for edge in edges {
            let at: Vec<_> = items
                .iter()
                .filter(|i| i.row == 0 && i.start <= edge && edge < i.end)
                .collect();
            assert!(!at.is_empty(), "G1 is drawn at {edge}");
            for item in at {
                let crate::model::ItemKind::Summary { covered, .. } = item.kind else {
                    panic!("{item:?}")
                };
                assert!(covered > 0.99, "{item:?} at {edge}");
            }
        }
    }

    /// Where two generations held in full detail meet, the lanes are drawn
    /// from the detail alone: the earlier one's last summary bucket, which
    /// reaches past its end, is not drawn over the later one's start.
    #[test]
    fn generations_in_detail_meet_without_summary_between() {
        use crate::model::{ItemKind, OpenAnnotations, build_window};
        let (bytes, mut store) = summarized_sample(1 << 20);
        let trace = crate::trace::Trace::open(&bytes).expect("opens");
        let bands = store.timeline.generations.clone();
        let whole = TimeSpan::new(i64::MIN / 2, i64::MAX / 2);
        for g in 0..2 {
            let open = OpenAnnotations::default();
            let (_, model, ..) = build_window(&trace, g, &open, whole, false).expect("builds");
            hold(&mut store, g, model);
        }
        let view = TimeSpan::new(bands[0].end - 2_000_000, bands[0].end + 2_000_000);
        let mut items = Vec::new();
        store.lane_items(LaneKey::Goroutine(1), view, 1_000.0, &mut items);
        assert!(!items.is_empty());
        let summaries: Vec<_> = items
            .iter()
            .filter(|i| matches!(i.kind, ItemKind::Summary { .. }))
            .collect();
        assert!(summaries.is_empty(), "{summaries:?}");
    }

    /// A span drawn across the view's left edge is not cut there: what is
    /// hovered, picked or zoomed to says where it begins.
    #[test]
    fn a_span_across_the_views_edge_keeps_its_start() {
        use crate::model::{OpenAnnotations, build_window};
        let (bytes, mut store) = summarized_sample(1 << 20);
        let trace = crate::trace::Trace::open(&bytes).expect("opens");
        let whole = TimeSpan::new(i64::MIN / 2, i64::MAX / 2);
        let open = OpenAnnotations::default();
        let (_, model, ..) = build_window(&trace, 0, &open, whole, false).expect("builds");
        // G1's longest state in the first generation, viewed from its middle.
        let key = LaneKey::Goroutine(1);
        let lane = model.lane(key).expect("G1");
        let span = model
            .rows(lane)
            .next()
            .and_then(|row| row.iter().max_by_key(|s| s.len()));
        let (start, end) = span.map(|s| (s.start, s.end())).expect("a state");
        hold(&mut store, 0, model);
        let view = TimeSpan::new((start + end) / 2, end);
        let mut items = Vec::new();
        store.lane_items(key, view, 1_000.0, &mut items);
        let first = items.iter().find(|i| i.row == 0).expect("drawn");
        assert_eq!((first.start, first.end), (start, end));
    }

    /// A state that outlasts a generation is cut at its end, and goes on
    /// in the next one without its reason: asked about, either piece is
    /// answered with the whole state, its reason and where it began.
    #[test]
    fn a_state_across_a_generation_boundary_is_answered_whole() {
        use crate::model::{OpenAnnotations, SpanDetails, build_window};
        let (bytes, mut store) = summarized_sample(1 << 20);
        let trace = crate::trace::Trace::open(&bytes).expect("opens");
        let whole = TimeSpan::new(i64::MIN / 2, i64::MAX / 2);
        let open = OpenAnnotations::default();
        let (mut pieces, mut spans): (Vec<SpanDetails>, Vec<TimeSpan>) = Default::default();
        let key = LaneKey::Goroutine(1);
        for g in 0..2 {
            let (_, model, ..) = build_window(&trace, g, &open, whole, false).expect("builds");
            let span = model.span();
            spans.push(span);
            let at = if g == 0 { span.end - 1 } else { span.start };
            pieces.push(model.span_details(key, 0, at).expect("G1 lives on"));
            hold(&mut store, g, model);
        }
        let [earlier, later] = &pieces[..] else {
            unreachable!()
        };
        assert!(
            !earlier.label.is_empty() && later.label.is_empty(),
            "{pieces:?}"
        );
        for t in [earlier.start, later.end - 1] {
            let SpanQuery::Ready(answer) = store.span_details(key, 0, t) else {
                panic!("answered at {t}")
            };
            assert_eq!((answer.start, answer.end), (earlier.start, later.end));
            assert_eq!(
                (&answer.label, &answer.stack),
                (&earlier.label, &earlier.stack)
            );
            // Since before the trace, or not; on into generation 2 (not
            // loaded), or not.
            let flags = (answer.began_before, answer.goes_on);
            let want = (earlier.start == spans[0].start, later.end == spans[1].end);
            assert_eq!(flags, want);
        }
    }

    /// A span selected in view that began long before the view's window
    /// (in the same generation) is answered from that window, which holds
    /// it whole: the view keeps its window rather than losing its detail
    /// to one around the span's start.
    #[test]
    fn a_span_begun_before_the_views_window_is_answered_from_it() {
        use crate::model::{OpenAnnotations, build_generation, build_window};
        // Files this size would give windows of a few milliseconds.
        let (bytes, mut store) = summarized_sample(64 << 20);
        let trace = crate::trace::Trace::open(&bytes).expect("opens");
        let open = OpenAnnotations::default();
        let count = trace.index().generations.len();
        // A goroutine state of at least 40 ms, viewed 30 ms into it.
        let (g, id, span) = (0..count)
            .find_map(|g| {
                let (model, ..) = build_generation(&trace, g, &open)?;
                model.lanes.iter().find_map(|lane| {
                    let LaneKey::Goroutine(id) = lane.key else {
                        return None;
                    };
                    let rows = model.rows(lane).next()?;
                    let s = rows.iter().find(|s| s.len() >= 40_000_000)?;
                    Some((g, id, (s.start, s.end())))
                })
            })
            .expect("a long state in the sample");
        let key = LaneKey::Goroutine(id);
        let view = TimeSpan::new(span.0 + 30_000_000, span.0 + 31_000_000);
        let viewport = Viewport {
            range: view,
            width_px: 1000.0,
            lanes: vec![key],
        };
        let (_, wanted) = store.set_viewport(viewport.clone());
        let [(wanted_g, window)] = wanted[..] else {
            panic!("{wanted:?}")
        };
        assert_eq!(wanted_g, g);
        assert!(
            !window.covers(TimeSpan::new(span.0, span.0 + 1)),
            "{window:?}"
        );
        let (_, model, ..) = build_window(&trace, g, &open, window, false).expect("builds");
        hold(&mut store, g, model);

        let SpanQuery::Ready(details) = store.span_details(key, 0, span.0) else {
            panic!("answered from the view's window");
        };
        assert_eq!((details.start, details.goroutine), (span.0, Some(id)));
        let (_, again) = store.set_viewport(viewport);
        assert_eq!(again, [(g, window)], "the view keeps its window");
        assert!(store.span_at((key, 0), view.start).is_some());
    }

    /// A span asked about that the view's window of its generation does
    /// not hold (picked in the outliers table, while the view is wide) is
    /// wanted in full detail over a window holding it: it is answered,
    /// rather than loading for ever.
    #[test]
    fn a_span_far_from_the_views_window_is_loaded_to_answer() {
        use crate::model::{OpenAnnotations, build_window};
        // Files this size would give windows of a few milliseconds.
        let (bytes, mut store) = summarized_sample(64 << 20);
        let trace = crate::trace::Trace::open(&bytes).expect("opens");
        let band = store.band(0);
        let key = LaneKey::Goroutine(1);
        // Pixels fine enough to want full detail.
        let viewport = Viewport {
            range: band,
            width_px: 1e7,
            lanes: vec![key],
        };
        let (_, wanted) = store.set_viewport(viewport.clone());
        let Some(&(0, window)) = wanted.first() else {
            panic!("{wanted:?}")
        };
        let open = OpenAnnotations::default();
        let (_, model, ..) = build_window(&trace, 0, &open, window, false).expect("builds");
        hold(&mut store, 0, model);
        // G1's first state, which begins with the generation, far from
        // the window in its middle.
        let t = band.start + 1;
        assert!(!window.covers(TimeSpan::new(t, t + 1)), "{window:?}");
        assert_eq!(store.span_details(key, 0, t), SpanQuery::Loading);
        let (_, wanted) = store.set_viewport(viewport);
        let Some(&(0, pinned)) = wanted.first() else {
            panic!("{wanted:?}")
        };
        assert!(pinned.covers(TimeSpan::new(t, t + 1)), "{pinned:?}");
        let (_, model, ..) = build_window(&trace, 0, &open, pinned, false).expect("builds");
        hold(&mut store, 0, model);
        assert!(matches!(store.span_details(key, 0, t), SpanQuery::Ready(_)));
    }

    #[test]
    fn lanes_merge_in_place_in_key_order() {
        let mut names = crate::model::LaneNames::default();
        let lanes = |names: &mut crate::model::LaneNames, ids: &[i64]| -> Vec<Lane> {
            ids.iter()
                .map(|&g| Lane::new(LaneKey::Goroutine(g), names.id(&format!("f{g}")), 1))
                .collect()
        };
        for (known, added) in [
            (&[1, 3, 5, 9][..], &[0, 2, 4, 6, 10][..]),
            (&[], &[7, 8]),
            (&[7, 8], &[]),
            (&[4, 5], &[1, 2]),
        ] {
            let mut merged = lanes(&mut names, known);
            let added_lanes = lanes(&mut names, added);
            merge_sorted(&mut merged, added_lanes);
            let mut want: Vec<i64> = known.iter().chain(added).copied().collect();
            want.sort_unstable();
            let got: Vec<(LaneKey, u32)> = merged.iter().map(|l| (l.key(), l.name_id())).collect();
            let want: Vec<(LaneKey, u32)> = want
                .iter()
                .map(|&g| (LaneKey::Goroutine(g), names.id(&format!("f{g}"))))
                .collect();
            assert_eq!(got, want, "{known:?} + {added:?}");
        }
    }
}
