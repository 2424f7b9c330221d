//! The ui side of the worker: what has arrived, and answering draw queries
//! from it.
//!
//! Lives on the ui thread and is only touched there, so queries take no
//! lock. It keeps the summary of every decoded generation (replaced when
//! the worker decodes an outdated one again, see `schedule`), the full detail
//! of a few in a [`DetailCache`], the lane list (the union of the lanes of
//! all summaries so far) and the errors. Per generation, a query draws full
//! detail when it is cached and the summary is coarser than a pixel for the
//! lane, and the summary otherwise.
//!
//! The details of a selected span (its stack, unblocker, P and M) come from
//! full detail only. The generation of the last span asked about is
//! *pinned*: wanted in full detail and kept in the cache whatever the view,
//! so the side panel shows "loading" only until it is decoded again.

use std::cell::Cell;

use super::cache::{DETAIL_BUDGET, DetailCache};
use super::{Command, GenerationError, Progress, SpanQuery, Update, Viewport};
use crate::model::query::{detail_items, series_columns, summary_items, summary_suffices};
use crate::model::{
    DrawItem, GenerationModel, GenerationSummary, Lane, LaneKey, PlotKind, PlotPoint, Series,
    SharedName, TimeSpan, Timeline,
};
use crate::trace::FxHashSet;

/// What the ui knows of one generation.
#[derive(Default)]
struct Generation {
    summary: Option<GenerationSummary>,
    /// The summary will be replaced (see `schedule`'s module doc).
    outdated: bool,
    failed: bool,
}

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

/// Everything received from the worker thread.
#[derive(Default)]
pub(crate) struct Store {
    timeline: Timeline,
    /// The start functions the lanes name, each once.
    names: FxHashSet<SharedName>,
    generations: Vec<Generation>,
    cache: DetailCache,
    errors: Vec<GenerationError>,
    viewport: Option<Viewport>,
    /// The generation of the span whose details were last asked for
    /// (queries take `&self`: the ui draws from shared borrows).
    pinned: Cell<Option<usize>>,
    indexed: bool,
    fatal: bool,
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
            done: self
                .generations
                .iter()
                .filter(|g| g.summary.is_some() || g.failed)
                .count(),
            total: self.generations.len(),
        }
    }

    /// Takes in one update; returns commands for the worker thread.
    pub(crate) fn apply(&mut self, update: Update) -> Vec<Command> {
        let mut commands = Vec::new();
        match update {
            Update::Indexed { bands } => {
                self.indexed = true;
                self.generations = bands.iter().map(|_| Generation::default()).collect();
                self.timeline.generations = bands;
                self.merge_lanes(RUNTIME_LANES.iter().map(|&key| (key, None, 0)));
            }
            Update::Decoded {
                generation,
                summary,
                detail,
            } => {
                self.add_summary(generation, *summary);
                if let Some(model) = detail {
                    commands = self.add_detail(generation, *model);
                }
            }
            Update::Outdated(generation) => {
                if let Some(g) = self.generations.get_mut(generation) {
                    g.outdated = true;
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
    fn add_summary(&mut self, generation: usize, summary: GenerationSummary) {
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
        self.merge_lanes(
            summary
                .lanes()
                .map(|l| (l.key, summary.name(&l), l.rows_len())),
        );
        if let Some(slot) = self.generations.get_mut(generation) {
            slot.summary = Some(summary);
            slot.outdated = false;
        }
    }

    /// Adds the lanes not seen yet and widens (or names) the known ones.
    /// The timeline's lanes stay sorted by key; only new or changed lanes
    /// get a new label, so a trace with 600k goroutines costs a merge per
    /// generation, not a relabelling of every lane.
    fn merge_lanes<'n>(&mut self, lanes: impl Iterator<Item = (LaneKey, Option<&'n str>, usize)>) {
        let names = &mut self.names;
        let mut shared = |name: Option<&str>| name.map(|n| share(names, n));
        let known = &mut self.timeline.lanes;
        let mut added = Vec::new();
        let mut changed = false;
        for (key, name, rows) in lanes {
            match known.binary_search_by_key(&key, |l| l.key) {
                Ok(i) => {
                    let named = |lane: &Lane| lane.name().is_some();
                    if let Some(lane) = known.get_mut(i)
                        && (rows > lane.rows()
                            || (!named(lane) && name.is_some_and(|n| !n.is_empty())))
                    {
                        let name = lane.shared_name().or_else(|| shared(name));
                        *lane = Lane::new(key, name, rows.max(lane.rows()));
                        changed = true;
                    }
                }
                Err(_) => added.push(Lane::new(key, shared(name), rows)),
            }
        }
        if !added.is_empty() {
            added.sort_by_key(|l| l.key);
            added.dedup_by_key(|l| l.key);
            merge_sorted(known, added);
            changed = true;
        }
        if changed {
            self.timeline.revision += 1;
        }
    }

    fn add_detail(&mut self, generation: usize, model: GenerationModel) -> Vec<Command> {
        let mut visible = self.visible();
        visible.extend(self.pinned.get());
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
    /// full detail.
    pub(crate) fn set_viewport(&mut self, viewport: Viewport) -> (Vec<usize>, Vec<usize>) {
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
        let mut detail: Vec<usize> = focus
            .iter()
            .copied()
            .filter(|&g| self.needs_detail(g))
            .collect();
        if let Some(g) = self.pinned.get().filter(|g| !detail.contains(g)) {
            detail.push(g);
            self.cache.touch(g);
        }
        self.timeline.pending = self.pending();
        (focus, detail)
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
                        || (self.needs_detail(g) && self.cache.get(g).is_none()))
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
        self.pinned.set(Some(g));
        match self.cache.get(g) {
            Some(model) => model
                .span_details(key, row, t)
                .map_or(SpanQuery::Unknown, SpanQuery::Ready),
            None if self.generations.get(g).is_some_and(|k| k.failed) => SpanQuery::Unknown,
            None => SpanQuery::Loading,
        }
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
            let first = out.len();
            match self.cache.get(g) {
                Some(model) if !summary_suffices(summary, key, ns_per_px) => {
                    detail_items(model, key, part, ns_per_px, out);
                }
                _ => summary_items(summary, key, part, ns_per_px, out),
            }
            for item in out.get_mut(first..).unwrap_or_default() {
                item.start = item.start.max(part.start).min(item.end);
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
            series_columns(
                self.cache.get(g),
                summary,
                series,
                (part, view.start),
                ns_per_px,
                out,
            );
        }
    }
}

/// Merges `added` into `known`, both sorted by key (no key in both), in
/// place: from the back, each known lane moving at most once, with no copy
/// of the list (a trace with 600k goroutines has a 30 MB list, and a
/// generation adds a few thousand lanes to it).
fn merge_sorted(known: &mut Vec<Lane>, mut added: Vec<Lane>) {
    let mut unmerged = known.len();
    known.reserve_exact(added.len());
    known.extend(added.iter().map(|l| Lane::new(l.key, None, 0)));
    let mut free = known.len();
    while let Some(lane) = added.pop() {
        while unmerged > 0 && known.get(unmerged - 1).is_some_and(|k| k.key > lane.key) {
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

/// The one copy of `name` in `names`, added if new.
fn share(names: &mut FxHashSet<SharedName>, name: &str) -> SharedName {
    if let Some(known) = names.get(name) {
        return known.clone();
    }
    let name = SharedName::from(name);
    names.insert(name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_merge_in_place_in_key_order() {
        let lanes = |ids: &[i64]| -> Vec<Lane> {
            ids.iter()
                .map(|&g| {
                    Lane::new(
                        LaneKey::Goroutine(g),
                        Some(format!("f{g}").as_str().into()),
                        1,
                    )
                })
                .collect()
        };
        for (known, added) in [
            (&[1, 3, 5, 9][..], &[0, 2, 4, 6, 10][..]),
            (&[], &[7, 8]),
            (&[7, 8], &[]),
            (&[4, 5], &[1, 2]),
        ] {
            let mut merged = lanes(known);
            merge_sorted(&mut merged, lanes(added));
            let mut want: Vec<i64> = known.iter().chain(added).copied().collect();
            want.sort_unstable();
            let got: Vec<(LaneKey, Option<&str>)> =
                merged.iter().map(|l| (l.key, l.name())).collect();
            let names: Vec<String> = want.iter().map(|g| format!("f{g}")).collect();
            let want: Vec<(LaneKey, Option<&str>)> = want
                .iter()
                .zip(&names)
                .map(|(&g, n)| (LaneKey::Goroutine(g), Some(n.as_str())))
                .collect();
            assert_eq!(got, want, "{known:?} + {added:?}");
        }
    }
}
