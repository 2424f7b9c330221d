//! The model of one generation: its lanes in full detail, and the summary
//! that outlives it.
//!
//! A [`GenerationModel`] is what the worker caches for generations near the
//! view, over the window the view shows (a few tens of bytes per event in
//! it); a [`GenerationSummary`] is what it keeps for every generation (a
//! pyramid per row and downsampled plots, a small fraction of that), so the
//! whole trace can always be drawn.

use crate::trace::FxHashMap;
use std::ops::Range;

use super::activity::{Activities, Activity, ActivityBuilder};
use super::build::G_STATES;
use super::intern::Strings;
use super::lod::{Grid, Pyramid, Pyramids};
use super::origin::{OriginId, Origins, SpanDetails, known, resolve};
use super::plot::{PlotPoint, Series, downsample};
use super::query::ItemKind;
use super::span::{RowData, Span, SpanKind};
use super::timeline::{LaneKey, LaneNames, TimeSpan, WallClock};

/// Finest summary buckets per generation for P, M, GC and task lanes and
/// plots: ~1000 is a pixel per bucket when one generation fills the screen.
/// There are few such lanes, so this costs little.
const FINE_BUCKETS: i64 = 1024;

/// Finest summary buckets per generation for goroutine lanes. A trace can
/// have hundreds of thousands of goroutines, so their summaries must stay a
/// handful of cells each; 32 buckets still show a goroutine's rhythm in the
/// whole-trace view, where a generation is a few dozen pixels wide. Zooming
/// further loads the generation's full detail.
const GOROUTINE_BUCKETS: i64 = 32;

/// Buckets of a full-detail model's group activity over its window: a
/// window is what the view shows, about a screen wide, so this is a column
/// every few pixels, where the summary's goroutine buckets would be wide
/// blocks; it costs a few kilobytes per start function in the window.
const DETAIL_ACTIVITY_BUCKETS: i64 = 512;

/// Narrowest bucket of a full-detail model's group activity, in ns: below
/// a microsecond a group's average says nothing its goroutines' own lanes
/// do not say better, and the buckets of a narrow window would cost more
/// than its spans.
const MIN_ACTIVITY_BUCKET: i64 = 1_000;

/// Buckets per generation of the coarse copy of the plots: when the whole
/// trace is on screen a generation is a few dozen pixels wide, and merging
/// a thousand points per generation and series into them every frame would
/// cost more than the rest of the frame.
const COARSE_PLOT_BUCKETS: i64 = 32;

/// Finest summary buckets per generation for the rows of lane `key`.
pub(crate) fn finest_buckets(key: LaneKey) -> i64 {
    match key {
        LaneKey::Goroutine(_) => GOROUTINE_BUCKETS,
        _ => FINE_BUCKETS,
    }
}

/// The empty finest summary level of a row of lane `key` in a generation
/// of time range `basis` (see [`Grid::finest`]).
pub(crate) fn empty_grid(basis: TimeSpan, key: LaneKey) -> Grid {
    Grid::finest(basis, finest_buckets(key))
}

/// A goroutine of the generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GoroutineInfo {
    /// Goroutine ID.
    pub(crate) id: i64,
    /// Start function (Go's `GoroutineSummary.Name`), or 0 if not seen.
    pub(crate) name: u32,
}

/// One lane's rows in full detail.
#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq))]
pub(crate) struct LaneData {
    pub(crate) key: LaneKey,
    pub(crate) rows: Vec<RowData>,
}

impl LaneData {
    /// Whether none of its rows has a span.
    pub(crate) fn is_empty(&self) -> bool {
        self.rows.iter().all(|r| r.spans.is_empty())
    }
}

/// Everything one generation draws, in full detail.
///
/// Each row keeps the vector it was built in, trimmed to its length:
/// gathering every span into one vector would hold the spans twice while
/// copying (a busy generation's detail is about a hundred megabytes). The
/// worker trims the heap when the cache drops a generation, which gives
/// the rows' pages back.
#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq))]
pub struct GenerationModel {
    pub(crate) span: TimeSpan,
    /// The generation's time range as the index gives it before decoding
    /// (its span when there is no index): the finest buckets of every row
    /// are laid over it, so a summary can be built while the generation is
    /// decoded, and is the same whether built that way or from the detail.
    pub(crate) basis: TimeSpan,
    /// What the rows and plots cover: the span, or the window of a
    /// windowed build (only the spans touching it were kept, see
    /// `build_window`).
    pub(crate) window: TimeSpan,
    pub(crate) origin_table: Origins,
    pub(crate) strings: Strings,
    pub(crate) goroutines: Vec<GoroutineInfo>,
    /// Sorted by key.
    pub(crate) lanes: Vec<LaneData>,
    /// Sorted by series.
    pub(crate) plots: Vec<(Series, Vec<PlotPoint>)>,
    /// The generation's clock snapshot (Go 1.25+).
    pub(crate) clock: Option<WallClock>,
    /// What each start function's goroutines do over the window, finer
    /// than the summary's (see [`GenerationModel::with_activity`]).
    pub(crate) activity: Activities,
}

/// One lane's summary, as stored: its rows end where the next lane's
/// begin (a generation of a busy trace has thousands of goroutine lanes,
/// and the summaries of every generation are kept).
#[derive(Debug, PartialEq)]
struct LaneEntry<K> {
    key: K,
    /// A goroutine's start function: index in [`GenerationSummary::names`],
    /// 0 for none.
    name: u32,
    /// The lane's first row in [`GenerationSummary::pyramids`].
    first_row: u32,
}

/// The lane entries of a summary, in key order. Goroutine lanes, which sort
/// last and are nearly all of them, are kept by ID alone: 16 bytes each
/// rather than 24, 11 MB less over the summaries of a 1 GB trace.
#[derive(Debug, Default, PartialEq)]
struct LaneEntries {
    others: Vec<LaneEntry<LaneKey>>,
    goroutines: Vec<LaneEntry<i64>>,
}

impl LaneEntries {
    /// Appends lane `key`, which sorts after every lane already here.
    fn push(&mut self, key: LaneKey, name: u32, first_row: u32) {
        match key {
            LaneKey::Goroutine(id) => self.goroutines.push(LaneEntry {
                key: id,
                name,
                first_row,
            }),
            _ => self.others.push(LaneEntry {
                key,
                name,
                first_row,
            }),
        }
    }

    fn len(&self) -> usize {
        self.others.len() + self.goroutines.len()
    }

    /// Entry number `i`: its key, name and first row.
    fn get(&self, i: usize) -> Option<(LaneKey, u32, u32)> {
        match i.checked_sub(self.others.len()) {
            None => self.others.get(i).map(|e| (e.key, e.name, e.first_row)),
            Some(g) => self
                .goroutines
                .get(g)
                .map(|e| (LaneKey::Goroutine(e.key), e.name, e.first_row)),
        }
    }

    /// The number of the entry of lane `key`, if there is one.
    fn find(&self, key: LaneKey) -> Option<usize> {
        match key {
            LaneKey::Goroutine(id) => self
                .goroutines
                .binary_search_by_key(&id, |e| e.key)
                .ok()
                .map(|g| g + self.others.len()),
            _ => self.others.binary_search_by_key(&key, |e| e.key).ok(),
        }
    }

    fn shrink_to_fit(&mut self) {
        self.others.shrink_to_fit();
        self.goroutines.shrink_to_fit();
    }

    fn bytes(&self) -> usize {
        self.others.len() * size_of::<LaneEntry<LaneKey>>()
            + self.goroutines.len() * size_of::<LaneEntry<i64>>()
    }
}

/// One lane's summary.
#[derive(Debug, PartialEq)]
pub(crate) struct LaneSummary {
    pub(crate) key: LaneKey,
    /// See [`LaneEntry::name`].
    name: u32,
    /// The lane's rows in [`GenerationSummary::pyramids`].
    rows: Range<u32>,
}

impl LaneSummary {
    /// Number of rows.
    pub(crate) fn rows_len(&self) -> usize {
        self.rows.len()
    }
}

/// What is kept of a generation once its detail is dropped.
#[derive(Debug, PartialEq)]
pub struct GenerationSummary {
    pub(crate) span: TimeSpan,
    lanes: LaneEntries,
    /// Start functions of the goroutine lanes; the first is empty.
    names: Vec<Box<str>>,
    /// Every row's pyramid, in lane order.
    pyramids: Pyramids,
    /// What each start function's goroutines do (see `model::activity`).
    pub(crate) activity: Activities,
    /// Sorted by series.
    pub(crate) plots: Vec<(Series, Vec<PlotPoint>)>,
    /// Bucket width of the plots, the finest resolution the summary offers.
    pub(crate) plot_width: i64,
    /// The plots again with [`COARSE_PLOT_BUCKETS`] buckets, for views
    /// where a generation is a few pixels wide.
    coarse_plots: Vec<(Series, Vec<PlotPoint>)>,
    /// The generation's clock snapshot (Go 1.25+).
    pub(crate) clock: Option<WallClock>,
}

impl GenerationModel {
    /// The generation's time span: from its first event to its last.
    pub fn span(&self) -> TimeSpan {
        self.span
    }

    /// The time its rows and plots cover: its whole span, or the window
    /// it was built for.
    pub fn window(&self) -> TimeSpan {
        self.window
    }

    /// The lane `key`, if the generation has it.
    pub(crate) fn lane(&self, key: LaneKey) -> Option<&LaneData> {
        let i = self.lanes.binary_search_by_key(&key, |l| l.key).ok()?;
        self.lanes.get(i)
    }

    /// The rows of `lane`, top to bottom.
    pub(crate) fn rows<'a>(&'a self, lane: &'a LaneData) -> impl Iterator<Item = &'a [Span]> + 'a {
        lane.rows.iter().map(|r| r.spans.as_slice())
    }

    /// The samples of `series`.
    pub(crate) fn series(&self, series: Series) -> &[PlotPoint] {
        find_series(&self.plots, series)
    }

    /// The goroutine a P or M lane's running or syscall span shows.
    pub(crate) fn goroutine(&self, span: &Span) -> Option<GoroutineInfo> {
        self.goroutines.get(span.value() as usize).copied()
    }

    /// The details of the span of lane `key`'s row `row` at time `t` (the
    /// last one starting at or before `t` and not ending before it), if
    /// there is one.
    pub(crate) fn span_details(&self, key: LaneKey, row: usize, t: i64) -> Option<SpanDetails> {
        let row = self.lane(key)?.rows.get(row)?;
        let i = row.spans.partition_point(|s| s.start <= t).checked_sub(1)?;
        let span = row
            .spans
            .get(i)
            .filter(|s| s.end() > t || s.end() == s.start)?;
        let origin = row.origins.get(i).and_then(|&id| self.origin_table.get(id));
        let stack = origin.map_or(Vec::new(), |o| {
            resolve(&self.origin_table, &self.strings, o.stack)
        });
        let runs = matches!(span.kind(), SpanKind::Running | SpanKind::Syscall);
        // A task's origin names the goroutine that began it where a
        // state's names the one that woke it (see `model::build`).
        let (goroutine, unblocker) = match key {
            LaneKey::Goroutine(id) => (Some(id), origin.and_then(|o| known(o.unblocker))),
            LaneKey::Proc(_) | LaneKey::Thread(_) if runs => {
                let woken = origin.and_then(|o| known(o.unblocker));
                (self.goroutine(span).map(|g| g.id), woken)
            }
            LaneKey::Tasks => (origin.and_then(|o| known(o.unblocker)), None),
            _ => (None, origin.and_then(|o| known(o.unblocker))),
        };
        // A P or M lane is its own P or M; elsewhere the event's.
        let (proc, thread) = match key {
            LaneKey::Proc(p) => (Some(p), None),
            LaneKey::Thread(m) => (None, Some(m)),
            _ => (None, None),
        };
        Some(SpanDetails {
            stack,
            goroutine,
            proc: proc.or_else(|| origin.and_then(|o| known(o.proc))),
            thread: thread.or_else(|| origin.and_then(|o| known(o.thread))),
            unblocker,
            created: unblocker.is_some() && origin.is_some_and(|o| o.created),
            start: span.start,
            end: span.end(),
            // What is before and after this generation is the worker's to
            // say (it joins the pieces of a span across generations).
            began_before: false,
            goes_on: false,
            kind: Some(span.kind()),
            label: match super::query::span_kind(self, key, span) {
                ItemKind::Span { label, .. } => label.to_owned(),
                _ => String::new(),
            },
        })
    }

    /// Approximate heap bytes held, for the cache's budget.
    pub fn bytes(&self) -> usize {
        let rows = self.lanes.iter().flat_map(|l| &l.rows);
        let row_bytes: usize = rows
            .map(|r| {
                r.spans.capacity() * size_of::<Span>()
                    + r.origins.capacity() * size_of::<OriginId>()
                    + size_of::<RowData>()
            })
            .sum();
        let points: usize = self.plots.iter().map(|(_, p)| p.len()).sum();
        row_bytes
            + self.origin_table.bytes()
            + points * size_of::<PlotPoint>()
            + self.lanes.len() * size_of::<LaneData>()
            + self.goroutines.len() * size_of::<GoroutineInfo>()
            + self.strings.bytes()
            + self.activity.bytes()
    }

    /// The model with its [`activity`](GenerationModel::activity): from
    /// the state spans of its goroutines, cut to the window, over
    /// [`DETAIL_ACTIVITY_BUCKETS`] buckets (no narrower than
    /// [`MIN_ACTIVITY_BUCKET`]).
    pub(crate) fn with_activity(self) -> GenerationModel {
        let mut activity = ActivityBuilder::new(self.window);
        let buckets = (self.window.len() / MIN_ACTIVITY_BUCKET).clamp(1, DETAIL_ACTIVITY_BUCKETS);
        for info in &self.goroutines {
            let Some(row) = self
                .lane(LaneKey::Goroutine(info.id))
                .and_then(|lane| lane.rows.get(G_STATES))
            else {
                continue;
            };
            let mut grid = Grid::finest(self.window, buckets);
            for span in &row.spans {
                let cut = TimeSpan::new(span.start, span.end()).intersect(self.window);
                if !cut.is_empty() {
                    grid.add_range(cut.start, cut.end, span.kind());
                }
            }
            activity.add(info.name, info.id, &grid);
        }
        GenerationModel {
            activity: activity.finish(),
            ..self
        }
    }

    /// Keys the group activity by the names of `names` (the trace's) and
    /// adds the goroutines the generation does not name to the group
    /// `group_of` gives them (those it gives none are left out).
    pub(crate) fn resolve_activity(
        &mut self,
        names: &mut LaneNames,
        group_of: impl FnMut(i64) -> Option<u32>,
    ) {
        let strings = &self.strings;
        let rename = |id: u32| names.id(strings.get(id));
        self.activity.resolve(rename, group_of);
    }

    /// The summary to keep once the detail is dropped.
    pub fn summarize(&self) -> GenerationSummary {
        let lanes = self.lanes.iter().map(|lane| {
            let buckets = finest_buckets(lane.key);
            let grids = self
                .rows(lane)
                .map(move |row| Grid::of_row(row, self.basis, buckets));
            (lane.key, grids)
        });
        self.summary_parts().summarize(lanes)
    }

    /// What the summary takes from the model besides the rows.
    pub(crate) fn summary_parts(&self) -> SummaryParts<'_> {
        SummaryParts {
            span: self.span,
            basis: self.basis,
            goroutines: &self.goroutines,
            strings: &self.strings,
            plots: &self.plots,
            clock: self.clock,
        }
    }
}

/// What a summary is made of besides the rows.
pub(crate) struct SummaryParts<'a> {
    pub(crate) span: TimeSpan,
    /// What the rows' grids are laid over ([`GenerationModel::basis`]).
    pub(crate) basis: TimeSpan,
    pub(crate) goroutines: &'a [GoroutineInfo],
    pub(crate) strings: &'a Strings,
    pub(crate) plots: &'a [(Series, Vec<PlotPoint>)],
    pub(crate) clock: Option<WallClock>,
}

impl SummaryParts<'_> {
    /// The summary of these lanes (sorted by key), each with the finest
    /// level of each of its rows.
    pub(crate) fn summarize<R>(
        &self,
        lanes: impl Iterator<Item = (LaneKey, R)>,
    ) -> GenerationSummary
    where
        R: Iterator<Item = Grid>,
    {
        let start_functions: FxHashMap<i64, u32> =
            self.goroutines.iter().map(|g| (g.id, g.name)).collect();
        let mut names = Names::default();
        let mut pyramids = Pyramids::new(self.basis.start);
        let mut entries = LaneEntries::default();
        let mut activity = ActivityBuilder::new(self.span);
        for (key, lane_rows) in lanes {
            let first_row = pyramids.rows();
            let buckets = finest_buckets(key);
            let name = match key {
                LaneKey::Goroutine(id) => start_functions
                    .get(&id)
                    .map_or(0, |&s| names.index(self.strings, s)),
                _ => 0,
            };
            for (row, grid) in lane_rows.enumerate() {
                let grid = grid.at_most(self.span.len(), buckets);
                if let (LaneKey::Goroutine(id), G_STATES) = (key, row) {
                    activity.add(name, id, &grid);
                }
                pyramids.push(grid, self.span.len());
            }
            entries.push(key, name, first_row);
        }
        entries.shrink_to_fit();
        pyramids.shrink_to_fit();
        let plot_width = (self.span.len() / FINE_BUCKETS).max(1);
        let plots: Vec<_> = self
            .plots
            .iter()
            .map(|(s, points)| (*s, downsample(points, self.span, plot_width)))
            .collect();
        let coarse_width = (self.span.len() / COARSE_PLOT_BUCKETS).max(1);
        let coarse_plots = plots
            .iter()
            .map(|(s, points)| (*s, downsample(points, self.span, coarse_width)))
            .collect();
        GenerationSummary {
            span: self.span,
            lanes: entries,
            names: names.list,
            pyramids,
            activity: activity.finish(),
            plots,
            plot_width,
            coarse_plots,
            clock: self.clock,
        }
    }
}

/// The start functions a summary keeps, each once.
struct Names {
    list: Vec<Box<str>>,
    by_string: FxHashMap<u32, u32>,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            list: vec!["".into()],
            by_string: FxHashMap::default(),
        }
    }
}

impl Names {
    /// The index of string `s` of `strings` (0 for the empty name).
    fn index(&mut self, strings: &Strings, s: u32) -> u32 {
        if let Some(&i) = self.by_string.get(&s) {
            return i;
        }
        let name = strings.get(s);
        let i = if name.is_empty() {
            0
        } else {
            self.list.push(name.into());
            u32::try_from(self.list.len() - 1).unwrap_or(0)
        };
        self.by_string.insert(s, i);
        i
    }
}

impl GenerationSummary {
    /// The generation's time span.
    pub fn span(&self) -> TimeSpan {
        self.span
    }

    /// The lanes, sorted by key.
    pub(crate) fn lanes(&self) -> impl Iterator<Item = LaneSummary> + '_ {
        (0..self.lanes.len()).filter_map(|i| self.lane_at(i))
    }

    /// Lane number `i`.
    fn lane_at(&self, i: usize) -> Option<LaneSummary> {
        let (key, name, first_row) = self.lanes.get(i)?;
        let end = self
            .lanes
            .get(i + 1)
            .map_or_else(|| self.pyramids.rows(), |(_, _, next)| next);
        Some(LaneSummary {
            key,
            name,
            rows: first_row..end.max(first_row),
        })
    }

    /// The start function of `lane`'s goroutine, if known.
    pub(crate) fn name(&self, lane: &LaneSummary) -> Option<&str> {
        self.names
            .get(lane.name as usize)
            .map(|n| &**n)
            .filter(|n| !n.is_empty())
    }

    /// The pyramids of `lane`'s rows, top to bottom.
    pub(crate) fn rows<'a>(&'a self, lane: &LaneSummary) -> impl Iterator<Item = Pyramid<'a>> {
        lane.rows.clone().map(|r| self.pyramids.pyramid(r))
    }

    /// The summary of lane `key`, if the generation has it.
    pub(crate) fn lane(&self, key: LaneKey) -> Option<LaneSummary> {
        self.lane_at(self.lanes.find(key)?)
    }

    /// When lane `key` has anything in this generation: from its first span
    /// to its last (see [`Pyramid::extent`]).
    pub(crate) fn lane_extent(&self, key: LaneKey) -> Option<TimeSpan> {
        let lane = self.lane(key)?;
        self.rows(&lane)
            .filter_map(|row| row.extent())
            .reduce(TimeSpan::union)
    }

    /// The downsampled `series`, at the coarsest resolution still finer
    /// than `ns_per_px`.
    pub(crate) fn series(&self, series: Series, ns_per_px: f64) -> &[PlotPoint] {
        let coarse = (self.span.len() / COARSE_PLOT_BUCKETS).max(1);
        if coarse as f64 <= ns_per_px {
            find_series(&self.coarse_plots, series)
        } else {
            find_series(&self.plots, series)
        }
    }

    /// The index of start function `name` among the summary's names.
    #[cfg(test)]
    pub(crate) fn name_index(&self, name: &str) -> Option<u32> {
        let i = self.names.iter().position(|n| &**n == name)?;
        u32::try_from(i).ok()
    }

    /// Keys the group activity by the names of `names` (the trace's) and
    /// adds the goroutines the generation does not name to the group
    /// `group_of` gives them; returns those it gives none yet.
    pub(crate) fn resolve_activity(
        &mut self,
        names: &mut LaneNames,
        group_of: impl FnMut(i64) -> Option<u32>,
    ) -> Vec<(i64, Activity)> {
        let local = &self.names;
        let rename = |i: u32| local.get(i as usize).map_or(0, |n| names.id(n));
        self.activity.resolve(rename, group_of)
    }

    /// Approximate heap bytes held.
    pub fn bytes(&self) -> usize {
        let names: usize = self.names.iter().map(|n| n.len()).sum();
        let points: usize = self
            .plots
            .iter()
            .chain(&self.coarse_plots)
            .map(|(_, p)| p.len())
            .sum();
        self.pyramids.bytes()
            + names
            + self.lanes.bytes()
            + points * size_of::<PlotPoint>()
            + self.activity.bytes()
    }
}

fn find_series(plots: &[(Series, Vec<PlotPoint>)], series: Series) -> &[PlotPoint] {
    plots
        .iter()
        .find(|(s, _)| *s == series)
        .map_or(&[], |(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_entries_keep_key_order_with_goroutines_apart() {
        let keys = [
            LaneKey::Gc,
            LaneKey::Proc(0),
            LaneKey::Thread(7),
            LaneKey::Goroutine(-1),
            LaneKey::Goroutine(3),
            LaneKey::Goroutine(9),
        ];
        assert!(keys.is_sorted(), "goroutines sort last");
        let mut entries = LaneEntries::default();
        for (i, &key) in keys.iter().enumerate() {
            entries.push(key, i as u32, 10 * i as u32);
        }
        assert_eq!(entries.len(), keys.len());
        for (i, &key) in keys.iter().enumerate() {
            assert_eq!(entries.find(key), Some(i));
            assert_eq!(entries.get(i), Some((key, i as u32, 10 * i as u32)));
        }
        assert_eq!(entries.get(keys.len()), None);
        assert_eq!(entries.find(LaneKey::Goroutine(4)), None);
        assert_eq!(entries.find(LaneKey::Tasks), None);
        assert_eq!(size_of::<LaneEntry<i64>>(), 16, "the documented saving");
    }
}
