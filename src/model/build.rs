//! Building a generation's model from its events.
//!
//! One pass over the generation's events, in order, follows every goroutine
//! through its states the way Go's `internal/trace` summarizer does
//! (`summary.go`): a state lasts from the transition into it to the
//! transition out of it, and a goroutine first named by a status event (the
//! generation's opening statement of where everything stands) has been in
//! that state since the generation began. Closing a state emits its span on
//! the goroutine's lane, and for running time also on the lanes of the P and
//! M it ran on; syscall time goes to the M as well. GC ranges, user regions
//! and tasks are paired begin-to-end the same way; what is still open at the
//! last event is cut there, and what ends without a begin in this generation
//! began at its start. A generation is thus built on its own, and spans that
//! cross a generation boundary are split at it.
//!
//! Lane layouts (row indices):
//! - goroutine: [`G_STATES`], [`G_MARKS`] (CPU samples, logs), then one row
//!   per nesting depth of user regions from [`G_REGIONS`];
//! - P: [`P_GOROUTINES`], [`P_GC`] (sweeps, mark assists);
//! - M: [`M_WORK`] (running, syscalls), [`M_MARKS`] (samples without a goroutine);
//! - GC: [`GC_MARK`], [`GC_STW`], [`GC_SWEEP`] and [`GC_ASSIST`] (the last
//!   two aggregated over Ps and goroutines: "someone is sweeping");
//! - tasks: up to [`MAX_TASK_ROWS`] rows, first fit.
//!
//! Every goroutine state span (and its copies on P and M lanes) and every
//! CPU sample and log message also records its [origin](super::origin):
//! the stack of the event that began it (for a state, the transition's
//! stack — where it blocked, stopped or entered a syscall — or else the
//! event's own, e.g. the unblocker's), the goroutine that unblocked it, and
//! the event's P and M.
//!
//! Goroutine counts by state are kept as deltas and summed at the end, so a
//! goroutine whose status arrives late still counts from the generation's
//! start.
//!
//! Speed: a state transition is nearly every event of a trace, and its path
//! here (`open`, `close`, `push_at`, the row's `push_from`, the grid's
//! `add_range`, the lane and slot lookups, and the decoder's
//! `Event::state_transition`) is marked `#[inline(always)]`. Left to the
//! compiler they stay calls, and inlined they let it drop what a summary
//! does not use: summarizing the 1 GB benchmark trace on one thread takes
//! 6.4 s instead of 7.8. `Builder::event` itself stays a call: inlined into
//! the decoder's loop it made that 7.3 s.

use std::collections::BTreeMap;

use crate::trace::{FxHashMap, FxHashSet, IdMap};

use super::activity::Activities;
use super::annotations::{AnnotationEdges, OpenAnnotations, Opened, RegionChange};
use super::generation::{GenerationModel, GenerationSummary, GoroutineInfo, LaneData, empty_grid};
use super::intern::{Interner, StrId};
use super::lod::Grid;
use super::origin::{Origin, OriginBuilder, OriginId, UNKNOWN};
use super::plot::{Series, SeriesBuilder, clip};
use super::span::{RowBuilder, RowData, Span, SpanKind, Splits};
use super::timeline::{LaneKey, TimeSpan, WallClock};
use crate::trace::event::{Range, RangeName, StateTransition};
use crate::trace::{Error, Event, EventKind, GoState, ResourceId, Stack, Trace, Transition};

/// Goroutine lane: its states.
pub(crate) const G_STATES: usize = 0;
/// Goroutine lane: CPU samples and log messages.
pub(crate) const G_MARKS: usize = 1;
/// Goroutine lane: the first row of user regions.
pub(crate) const G_REGIONS: usize = 2;
/// P lane: the goroutines it ran.
pub(crate) const P_GOROUTINES: usize = 0;
/// P lane: GC work on it.
pub(crate) const P_GC: usize = 1;
/// M lane: the goroutines it ran and its syscalls.
pub(crate) const M_WORK: usize = 0;
/// M lane: CPU samples taken without a goroutine.
pub(crate) const M_MARKS: usize = 1;
/// GC lane: concurrent mark phases.
pub(crate) const GC_MARK: usize = 0;
/// GC lane: stop-the-world pauses.
pub(crate) const GC_STW: usize = 1;
/// GC lane: sweeping on any P.
pub(crate) const GC_SWEEP: usize = 2;
/// GC lane: mark assists by any goroutine.
pub(crate) const GC_ASSIST: usize = 3;

/// Entries of the builder's table of goroutines looked up lately: 4 KB,
/// which stays in the first-level cache. On the 1 GB benchmark trace it
/// takes summarising from 6.68 to 6.50 s on one thread; the single
/// last-goroutine entry it replaced missed two lookups in three.
const RECENT_SLOTS: usize = 256;

/// Entries per kind of the builder's tables of the P and M lanes looked up
/// lately (see [`RecentLanes`]): 1 KB in all, which tells apart 32 Ps and
/// 32 threads by the low bits of their IDs.
const RECENT_LANES: usize = 32;

/// Deepest nesting of user regions given a row; deeper regions are not
/// drawn. Real programs nest a few levels; this bounds what a hostile trace
/// can make a lane cost.
const MAX_REGION_DEPTH: usize = 16;

/// Rows of the tasks lane. Tasks that find no free row are merged into the
/// last one (a span counting them), which keeps the lane readable when a
/// server runs thousands of concurrent requests.
const MAX_TASK_ROWS: usize = 8;

/// The goroutine states counted in the goroutine plot, with their series.
const COUNTED: [(SpanKind, Series); 4] = [
    (SpanKind::Running, Series::Running),
    (SpanKind::Runnable, Series::Runnable),
    (SpanKind::Waiting, Series::Waiting),
    (SpanKind::Syscall, Series::Syscall),
];

/// Builds the model of one generation from its events in order.
pub fn build<'t>(events: impl IntoIterator<Item = Event<'t>>) -> GenerationModel {
    let mut b = Builder::default();
    for ev in events {
        b.event(&ev);
    }
    b.finish()
}

/// Like [`build_generation`], but makes only the summary (for generations
/// the view does not need in detail): each row's spans go into its summary
/// as they are made, so no span is kept.
pub fn summarize_generation(
    trace: &Trace<'_>,
    g: usize,
    open: &OpenAnnotations,
) -> Option<(GenerationSummary, AnnotationEdges, Option<Error>)> {
    let b = Builder {
        summary_only: true,
        basis: basis(trace, g),
        ..Builder::default()
    };
    let (built, edges, error) = b.run(trace, g, open)?;
    Some((built.summarize(), edges, error))
}

/// Builds the model of generation `g` of `trace` while it is decoded, never
/// holding the decoder's event records: `None` if the trace has no such
/// generation, else the model of every event before the first error, how
/// the generation changes the regions goroutines are in, and that error.
/// `open` holds the regions goroutines were in and the tasks in progress
/// when it began (see
/// `model::annotations`).
pub fn build_generation(
    trace: &Trace<'_>,
    g: usize,
    open: &OpenAnnotations,
) -> Option<(GenerationModel, AnnotationEdges, Option<Error>)> {
    let b = Builder {
        basis: basis(trace, g),
        ..Builder::default()
    };
    let (built, edges, error) = b.run(trace, g, open)?;
    Some((built.into_model(), edges, error))
}

/// Builds the model of generation `g` of `trace` in full detail over
/// `window` only: the spans that touch it, the plots over it; and, if
/// `summarize`, the generation's summary. What a zoomed-in view needs, at a
/// fraction of the memory of the whole generation's model, which holds tens
/// of bytes per event; without the summary (which the view may hold
/// already) it costs neither the summary grids nor their time. Otherwise as
/// [`build_generation`].
pub fn build_window(
    trace: &Trace<'_>,
    g: usize,
    open: &OpenAnnotations,
    window: TimeSpan,
    summarize: bool,
) -> Option<(
    Option<GenerationSummary>,
    GenerationModel,
    AnnotationEdges,
    Option<Error>,
)> {
    let b = Builder {
        basis: basis(trace, g),
        window: Some(window),
        unsummarized: !summarize,
        ..Builder::default()
    };
    let (built, edges, error) = b.run(trace, g, open)?;
    let (summary, model) = built.split_window(window, summarize);
    Some((summary, model, edges, error))
}

/// Generation `g`'s time range as the index knows it before decoding (see
/// `GenerationModel::basis`).
fn basis(trace: &Trace<'_>, g: usize) -> Option<TimeSpan> {
    let (start, end) = trace.index().generations.get(g)?.time_range()?;
    Some(TimeSpan::new(start, end.max(start)))
}

/// IDs looked up lately and what they found (a goroutine's slot, a lane's
/// index), at the low bits of the IDs: `N` entries in front of a hash map,
/// for lookups that run on nearly every event and mostly ask for the same
/// few IDs again. An entry replaces whatever was at its place.
struct Recent<const N: usize>([(i64, u32); N]);

/// The value of an empty [`Recent`] entry: whatever ID a damaged trace
/// gives, it finds nothing there.
const NOTHING: u32 = u32::MAX;

impl<const N: usize> Default for Recent<N> {
    fn default() -> Self {
        Recent([(0, NOTHING); N])
    }
}

impl<const N: usize> Recent<N> {
    fn entry(id: i64) -> usize {
        (id as usize) % N
    }

    /// What `id` found, if it is in the table.
    #[inline(always)]
    fn get(&self, id: i64) -> Option<u32> {
        let &(seen, value) = self.0.get(Self::entry(id))?;
        (seen == id && value != NOTHING).then_some(value)
    }

    /// Notes that `id` found `value`.
    fn insert(&mut self, id: i64, value: u32) {
        if let Some(entry) = self.0.get_mut(Self::entry(id)) {
            *entry = (id, value);
        }
    }
}

/// Lanes of Ps and Ms looked up lately, a table per kind: a goroutine's
/// running state is looked up on the lanes of its P and M, a program has a
/// few Ps and a few dozen threads, and a single entry per kind (the last P,
/// the last M) missed often enough on the 1 GB benchmark trace that the
/// hash lookups behind it took 3% of summarizing (these tables make it
/// about 2% faster).
#[derive(Default)]
struct RecentLanes {
    procs: Recent<RECENT_LANES>,
    threads: Recent<RECENT_LANES>,
}

impl RecentLanes {
    /// The table for lane `key` and the ID it is looked up by (`None` for a
    /// lane of neither a P nor an M).
    #[inline(always)]
    fn table(&mut self, key: LaneKey) -> Option<(&mut Recent<RECENT_LANES>, i64)> {
        match key {
            LaneKey::Proc(p) => Some((&mut self.procs, p)),
            LaneKey::Thread(m) => Some((&mut self.threads, m)),
            _ => None,
        }
    }

    /// The lane of `key`, if it is in the table.
    #[inline(always)]
    fn get(&mut self, key: LaneKey) -> Option<u32> {
        let (table, id) = self.table(key)?;
        table.get(id)
    }

    /// Notes that `key` is lane number `lane`.
    fn insert(&mut self, key: LaneKey, lane: u32) {
        if let Some((table, id)) = self.table(key) {
            table.insert(id, lane);
        }
    }
}

/// A goroutine's current state, with the lanes its span goes to.
#[derive(Clone, Copy)]
struct Open {
    kind: SpanKind,
    since: i64,
    label: StrId,
    p_lane: Option<u32>,
    m_lane: Option<u32>,
}

/// What is known about a goroutine while building.
struct Track {
    /// The goroutine and its start function.
    info: GoroutineInfo,
    lane: u32,
    state: Option<Open>,
    /// Its lane's [`G_STATES`] row, kept here while building (not in
    /// `Builder::lanes`): every transition closes a state into it, and
    /// next to the goroutine's state it is one memory access, not three.
    /// `None` until a state closes (as a lane's rows, made on first use).
    states: Option<RowBuilder>,
    /// The regions it is in, outermost first, each with when it began, its
    /// type and the origin of its begin (unknown for the first
    /// `inherited`, which began before the generation).
    regions: Vec<(i64, StrId, Origin)>,
    inherited: usize,
    /// Regions it ended that began before the generation.
    ended_earlier: Vec<StrId>,
    exited: bool,
}

/// Counts overlapping ranges of one kind, for the aggregated GC rows.
#[derive(Default)]
struct Coverage {
    depth: u32,
    since: i64,
    peak: u32,
}

impl Coverage {
    fn up(&mut self, t: i64) {
        if self.depth == 0 {
            self.since = t;
            self.peak = 0;
        }
        self.depth += 1;
        self.peak = self.peak.max(self.depth);
    }

    /// Returns the covered span `(start, peak)` when the last range ends.
    fn down(&mut self) -> Option<(i64, u32)> {
        self.depth = self.depth.checked_sub(1)?;
        (self.depth == 0).then_some((self.since, self.peak))
    }
}

/// Goroutines per counted state, streamed into series as states change.
/// States established by status events count from the generation's start,
/// though their status arrives later: they are added to every point at the
/// end (`initial`), so the series need no sorting.
#[derive(Default)]
struct Counts {
    now: [i64; 4],
    initial: [i64; 4],
    series: [SeriesBuilder; 4],
}

impl Counts {
    fn change(&mut self, t: i64, kind: SpanKind, delta: i64) {
        if let Some(i) = COUNTED.iter().position(|&(k, _)| k == kind) {
            self.now[i] += delta;
            self.series[i].push(t, self.now[i]);
        }
    }

    fn count_from_start(&mut self, kind: SpanKind) {
        if let Some(i) = COUNTED.iter().position(|&(k, _)| k == kind) {
            self.initial[i] += 1;
        }
    }

    fn finish(self, start: i64) -> impl Iterator<Item = (Series, Vec<super::plot::PlotPoint>)> {
        let Counts {
            initial,
            mut series,
            ..
        } = self;
        for s in &mut series {
            s.zero_at(start);
        }
        COUNTED
            .into_iter()
            .zip(series)
            .zip(initial)
            .map(|(((_, name), s), offset)| (name, s.finish(offset)))
    }
}

#[derive(Default)]
struct Builder {
    span: Option<TimeSpan>,
    strings: Option<Interner>,
    origins: OriginBuilder,
    /// Per goroutine, in order of appearance (its slot).
    tracks: Vec<Track>,
    /// The origin of each goroutine's current state, by slot (empty in a
    /// summary). Interned only when the span closes, if it is kept: a
    /// window's build would otherwise intern the origin of every span
    /// before the window. Apart from `tracks`, which a summary walks for
    /// nearly every event, so that it stays small.
    open_origins: Vec<Origin>,
    slots: IdMap<u32>,
    /// Goroutines looked up lately and their slots, in front of `slots`:
    /// a goroutine's events come in runs and the goroutines busy at a time
    /// have IDs close together. Boxed, as it is 4 KB.
    recent: Box<Recent<RECENT_SLOTS>>,
    /// Likewise the lanes of the Ps and Ms looked up lately.
    recent_lanes: RecentLanes,
    lanes: Vec<(LaneKey, Vec<RowBuilder>)>,
    lane_index: FxHashMap<LaneKey, u32>,
    mark: Option<i64>,
    stw: Option<(i64, StrId)>,
    sweeps: FxHashMap<i64, i64>,
    assists: FxHashMap<i64, (i64, i64)>,
    sweeping: Coverage,
    assisting: Coverage,
    /// Tasks begun and not ended: when, their type, and the origin of the
    /// begin (its goroutine as the unblocker).
    open_tasks: FxHashMap<u64, (i64, StrId, Origin)>,
    /// Open tasks that began before the generation.
    tasks_begun_earlier: FxHashSet<u64>,
    /// Tasks that began before the generation and ended in it.
    tasks_ended_earlier: Vec<(u64, StrId)>,
    /// Tasks closed: when each began (before the cut to the generation's
    /// start), its span and its origin.
    tasks: Vec<(i64, Span, Origin)>,
    counts: Counts,
    plots: BTreeMap<Series, SeriesBuilder>,
    clock: Option<WallClock>,
    /// Only the summary is wanted: spans need no origins (stacks, P, M,
    /// unblocker), which saves interning them, and with a `basis` rows
    /// are summarized as they are built instead of kept.
    summary_only: bool,
    /// The generation's time range from the index.
    basis: Option<TimeSpan>,
    /// Spans kept in full detail: those touching this window (all
    /// without one; none when `summary_only`).
    window: Option<TimeSpan>,
    /// With a `window` and a `basis`: the summary is not wanted, so its
    /// grids are not made.
    unsummarized: bool,
    /// How far spans too long for a [`Span`] may still be split.
    splits: Splits,
}

impl Builder {
    /// Builds generation `g` of `trace`, which started with what `open`
    /// says: `None` if the trace has no such generation, else everything
    /// closed at its last event, how it changes the regions and tasks open,
    /// and why part of it is missing (the decoder's error, else spans cut
    /// short), if it is.
    fn run(
        mut self,
        trace: &Trace<'_>,
        g: usize,
        open: &OpenAnnotations,
    ) -> Option<(Built, AnnotationEdges, Option<Error>)> {
        self.open_at_start(open);
        let result = trace.stream_generation(g, |ev| self.event(&ev))?;
        let edges = self.annotation_edges();
        let built = self.close_all();
        let error = result.err().or_else(|| built.cut_error());
        Some((built, edges, error))
    }

    fn start(&self) -> i64 {
        self.span.map_or(0, |s| s.start)
    }

    fn strings(&mut self) -> &mut Interner {
        self.strings.get_or_insert_with(Interner::new)
    }

    fn intern(&mut self, bytes: &[u8]) -> StrId {
        self.strings().intern_bytes(bytes)
    }

    /// The index of lane `key` of a P or an M, added if new: [`Builder::lane`]
    /// behind [`RecentLanes`].
    #[inline(always)]
    fn cached_lane(&mut self, key: LaneKey) -> u32 {
        if let Some(lane) = self.recent_lanes.get(key) {
            return lane;
        }
        let lane = self.lane(key);
        self.recent_lanes.insert(key, lane);
        lane
    }

    /// The index of lane `key`, added if new.
    fn lane(&mut self, key: LaneKey) -> u32 {
        if let Some(&i) = self.lane_index.get(&key) {
            return i;
        }
        let i = u32::try_from(self.lanes.len()).unwrap_or(u32::MAX);
        self.lanes.push((key, Vec::new()));
        self.lane_index.insert(key, i);
        i
    }

    /// The origin of spans begun by `ev` with stack `stack` (interned),
    /// made runnable by `unblocker` (-1: none); unknown in a summary.
    fn origin(&mut self, ev: &Event<'_>, stack: Option<Stack<'_>>, unblocker: i64) -> Origin {
        if self.summary_only {
            return UNKNOWN;
        }
        let strings = self.strings.get_or_insert_with(Interner::new);
        let stack = stack.map_or(0, |s| self.origins.stack(strings, s));
        origin_with(ev, stack, unblocker)
    }

    /// The ID of `origin` (0 for an unknown one), interned: for a span
    /// that is kept.
    fn origin_id(&mut self, origin: Origin) -> OriginId {
        match origin == UNKNOWN {
            true => 0,
            false => self.origins.intern(origin),
        }
    }

    /// Appends a span begun by the event of `origin` to row `row` of lane
    /// number `lane`.
    #[inline(always)]
    fn push_at(
        &mut self,
        (lane, row): (u32, usize),
        (start, end): (i64, i64),
        kind: SpanKind,
        value: u32,
        origin: OriginId,
    ) {
        let kind_of_rows = self.rows();
        let Some((key, rows)) = self.lanes.get_mut(lane as usize) else {
            return;
        };
        if rows.len() <= row {
            let key = *key;
            // Exactly: a row builder is a few hundred bytes, and a vector's
            // first growth would make room for four rows in each of the
            // generation's thousands of goroutine lanes.
            rows.reserve_exact(row + 1 - rows.len());
            rows.resize_with(row + 1, || kind_of_rows.new_row(key));
        }
        let with_origins = !self.summary_only;
        if let Some(r) = rows.get_mut(row) {
            let origin = with_origins.then_some(origin);
            r.push_from((start, end), (kind, value), origin, &mut self.splits);
        }
    }

    /// How rows are built: kept whole, or summarized as they are built
    /// over the generation's time range when there is one to lay the
    /// summary over (see [`RowBuilder::summarizing`]).
    fn rows(&self) -> Rows {
        match (self.basis, self.summary_only, self.window) {
            (Some(basis), true, _) => Rows::Summary(basis),
            (Some(basis), false, Some(window)) => {
                Rows::Window(Some(basis).filter(|_| !self.unsummarized), window)
            }
            _ => Rows::All,
        }
    }

    fn push(&mut self, key: LaneKey, row: usize, span: (i64, i64), kind: SpanKind, value: u32) {
        let lane = self.lane(key);
        self.push_at((lane, row), span, kind, value, 0);
    }

    /// The goroutine's index in the generation's table, added if new.
    #[inline(always)]
    fn slot(&mut self, id: i64) -> u32 {
        if let Some(slot) = self.recent.get(id) {
            return slot;
        }
        let slot = match self.slots.get(&id) {
            Some(&slot) => slot,
            None => self.add_goroutine(id),
        };
        self.recent.insert(id, slot);
        slot
    }

    /// Adds goroutine `id` and its lane; returns its slot.
    fn add_goroutine(&mut self, id: i64) -> u32 {
        let slot = u32::try_from(self.tracks.len()).unwrap_or(u32::MAX);
        let key = LaneKey::Goroutine(id);
        let lane = self.lane(key);
        self.slots.insert(id, slot);
        if !self.summary_only {
            self.open_origins.push(UNKNOWN);
        }
        self.tracks.push(Track {
            info: GoroutineInfo { id, name: 0 },
            lane,
            state: None,
            states: None,
            regions: Vec::new(),
            inherited: 0,
            ended_earlier: Vec::new(),
            exited: false,
        });
        slot
    }

    /// Starts with what `open` says was open when the generation began.
    fn open_at_start(&mut self, open: &OpenAnnotations) {
        let mut goroutines: Vec<(i64, &[Opened])> = open.regions().collect();
        goroutines.sort_unstable_by_key(|&(g, _)| g);
        for (g, regions) in goroutines {
            let regions: Vec<(i64, StrId, Origin)> = regions
                .iter()
                .map(|(since, name)| (*since, self.strings().intern(name), UNKNOWN))
                .collect();
            let slot = self.slot(g);
            if let Some(track) = self.track(slot) {
                track.inherited = regions.len();
                track.regions = regions;
            }
        }
        for (id, (since, name)) in open.tasks() {
            let label = self.strings().intern(name);
            self.open_tasks.insert(id, (*since, label, UNKNOWN));
            self.tasks_begun_earlier.insert(id);
        }
    }

    /// How this generation changes what is open (see
    /// [`super::annotations`]).
    fn annotation_edges(&self) -> AnnotationEdges {
        let strings = self.strings.as_ref();
        let text = |id| strings.map_or(String::new(), |s| s.text(id).to_owned());
        let mut regions: Vec<(i64, RegionChange)> = self
            .tracks
            .iter()
            .map(|t| {
                let still_open = t.regions.get(t.inherited..).unwrap_or_default();
                let change = RegionChange {
                    ended_earlier: t.ended_earlier.iter().map(|&l| text(l)).collect(),
                    still_open: still_open.iter().map(|&(at, l, _)| (at, text(l))).collect(),
                };
                (t.info.id, change)
            })
            .filter(|(_, c)| *c != RegionChange::default())
            .collect();
        regions.sort_unstable_by_key(|&(g, _)| g);
        let mut exited: Vec<i64> = self
            .tracks
            .iter()
            .filter(|t| t.exited)
            .map(|t| t.info.id)
            .collect();
        exited.sort_unstable();
        // Kept for every generation: no growth slack.
        exited.shrink_to_fit();
        let mut tasks_open: Vec<(u64, Opened)> = self
            .open_tasks
            .iter()
            .filter(|(id, _)| !self.tasks_begun_earlier.contains(id))
            .map(|(&id, &(since, label, _))| (id, (since, text(label))))
            .collect();
        tasks_open.sort_unstable_by_key(|&(id, _)| id);
        let mut tasks_ended: Vec<(u64, String)> = self
            .tasks_ended_earlier
            .iter()
            .map(|&(id, label)| (id, text(label)))
            .collect();
        tasks_ended.sort_unstable();
        AnnotationEdges {
            regions,
            exited,
            tasks_ended,
            tasks_open,
        }
    }

    fn track(&mut self, slot: u32) -> Option<&mut Track> {
        self.tracks.get_mut(slot as usize)
    }

    fn event(&mut self, ev: &Event<'_>) {
        let t = ev.time();
        let span = self.span.get_or_insert(TimeSpan::new(t, t));
        span.end = span.end.max(t);
        match ev.kind() {
            EventKind::StateTransition => {
                if let Some(st) = ev.state_transition() {
                    self.transition(ev, &st);
                }
            }
            EventKind::RangeBegin | EventKind::RangeActive => {
                if let Some(r) = ev.range() {
                    let at = if ev.kind() == EventKind::RangeActive {
                        self.start()
                    } else {
                        t
                    };
                    self.range_begin(ev, r, at);
                }
            }
            EventKind::RangeEnd => {
                if let Some(r) = ev.range() {
                    self.range_end(ev, r);
                }
            }
            EventKind::Metric => self.metric(ev),
            EventKind::StackSample => self.sample(ev),
            EventKind::TaskBegin | EventKind::TaskEnd => self.task(ev),
            EventKind::RegionBegin | EventKind::RegionEnd => self.region(ev),
            EventKind::Log => self.log(ev),
            EventKind::Sync => self.clock(ev),
            _ => {}
        }
    }

    fn transition(&mut self, ev: &Event<'_>, st: &StateTransition<'_>) {
        match st.transition {
            Transition::Proc { id, .. } => {
                self.cached_lane(LaneKey::Proc(id));
            }
            Transition::Goroutine { id, from, to } => {
                let slot = self.slot(id);
                self.name_goroutine(slot, st);
                let status = from == GoState::Undetermined || from == to;
                if self.track(slot).is_some_and(|t| t.state.is_none()) {
                    // The goroutine has been in this state since the start;
                    // a status event's stack is where it stands in it.
                    let (initial, origin) = match status {
                        true => (to, self.origin(ev, st.stack, -1)),
                        false => (from, UNKNOWN),
                    };
                    self.open(slot, initial, None, ev, (0, origin));
                }
                if status {
                    return;
                }
                // A summary keeps no labels of states.
                let label = match self.summary_only {
                    true => 0,
                    false => self.intern(st.reason),
                };
                let origin = self.transition_origin(ev, st, (id, slot), (from, to));
                self.close(slot, ev.time());
                self.open(slot, to, Some(ev.time()), ev, (label, origin));
                if to == GoState::NotExist {
                    // Its regions end with it.
                    self.close_regions(slot, ev.time());
                    if let Some(track) = self.track(slot) {
                        track.exited = true;
                    }
                }
            }
        }
    }

    /// The origin of the state goroutine `id` (in `slot`) enters from
    /// `from` through `ev`: the transition's stack (or the event's own: an
    /// unblock's is the unblocker's) and, for a wake-up or the creation by
    /// another goroutine, that one. A goroutine starts running without a
    /// stack (Go records none), but it resumes where it stopped, blocked or
    /// was created: that stack.
    fn transition_origin(
        &mut self,
        ev: &Event<'_>,
        st: &StateTransition<'_>,
        (id, slot): (i64, u32),
        (from, to): (GoState, GoState),
    ) -> Origin {
        if self.summary_only || !self.rows().keep((ev.time(), i64::MAX)) {
            return UNKNOWN;
        }
        let by = ev.goroutine();
        let other = by >= 0 && by != id;
        let created = other && from == GoState::NotExist;
        let unblocker = match created || (other && to == GoState::Runnable) {
            true => by,
            false => -1,
        };
        let origin = match st.stack.or_else(|| ev.stack()) {
            None if to == GoState::Running => {
                let before = self.open_origins.get(slot as usize).map_or(0, |o| o.stack);
                origin_with(ev, before, unblocker)
            }
            stack => self.origin(ev, stack, unblocker),
        };
        Origin { created, ..origin }
    }

    /// Names a goroutine after the outermost frame of the first stack seen
    /// on one of its transitions, as Go's summarizer does.
    fn name_goroutine(&mut self, slot: u32, st: &StateTransition<'_>) {
        let unnamed = self
            .tracks
            .get(slot as usize)
            .is_some_and(|t| t.info.name == 0);
        let Some(root) = st.stack.filter(|_| unnamed).and_then(|s| s.frames().last()) else {
            return;
        };
        let name = self.intern(root.func);
        if let Some(t) = self.track(slot) {
            t.info.name = name;
        }
    }

    /// Enters `state` at `at` (`None`: since the generation's start), with
    /// its label and origin.
    #[inline(always)]
    fn open(
        &mut self,
        slot: u32,
        state: GoState,
        at: Option<i64>,
        ev: &Event<'_>,
        (label, origin): (StrId, Origin),
    ) {
        let kind = match state {
            GoState::Running => Some(SpanKind::Running),
            GoState::Runnable => Some(SpanKind::Runnable),
            GoState::Waiting => Some(SpanKind::Waiting),
            GoState::Syscall => Some(SpanKind::Syscall),
            _ => None,
        };
        if let Some(open) = self.open_origins.get_mut(slot as usize) {
            *open = kind.map_or(UNKNOWN, |_| origin);
        }
        let Some(kind) = kind else {
            return;
        };
        let (p, m) = (ev.proc(), ev.thread());
        let p_lane =
            (kind == SpanKind::Running && p >= 0).then(|| self.cached_lane(LaneKey::Proc(p)));
        let on_thread = matches!(kind, SpanKind::Running | SpanKind::Syscall) && m >= 0;
        let m_lane = on_thread.then(|| self.cached_lane(LaneKey::Thread(m)));
        match at {
            Some(t) => self.counts.change(t, kind, 1),
            None => self.counts.count_from_start(kind),
        }
        let since = at.unwrap_or_else(|| self.start());
        if let Some(track) = self.track(slot) {
            track.state = Some(Open {
                kind,
                since,
                label,
                p_lane,
                m_lane,
            });
        }
    }

    #[inline(always)]
    fn close(&mut self, slot: u32, t: i64) {
        let (with_origins, kind_of_rows) = (!self.summary_only, self.rows());
        let origin = match with_origins {
            true => self.closing_origin(slot, t, kind_of_rows),
            false => 0,
        };
        let Some(track) = self.tracks.get_mut(slot as usize) else {
            return;
        };
        let Some(open) = track.state.take() else {
            return;
        };
        let (span, kind) = ((open.since, t), open.kind);
        let states_origin = with_origins.then_some(origin);
        let value = (kind, open.label);
        let key = LaneKey::Goroutine(track.info.id);
        track
            .states
            .get_or_insert_with(|| kind_of_rows.new_row(key))
            .push_from(span, value, states_origin, &mut self.splits);
        self.counts.change(t, open.kind, -1);
        if let Some(p) = open.p_lane {
            self.push_at((p, P_GOROUTINES), span, kind, slot, origin);
        }
        if let Some(m) = open.m_lane {
            self.push_at((m, M_WORK), span, kind, slot, origin);
        }
    }

    /// The ID of the origin of the state goroutine `slot` leaves at `t`
    /// (see [`Builder::open_origins`]).
    fn closing_origin(&mut self, slot: u32, t: i64, rows: Rows) -> OriginId {
        let since = self
            .track(slot)
            .and_then(|track| track.state)
            .map(|o| o.since);
        match (since, self.open_origins.get(slot as usize)) {
            (Some(since), Some(&origin)) if rows.keep((since, t)) => self.origin_id(origin),
            _ => 0,
        }
    }

    fn range_begin(&mut self, ev: &Event<'_>, r: Range<'_>, at: i64) {
        match (r.name, r.scope) {
            (RangeName::GcMark, _) => self.mark = Some(at),
            (RangeName::StopTheWorld(reason), _) => self.stw = Some((at, self.intern(reason))),
            (RangeName::GcSweep, ResourceId::Proc(p)) => {
                self.sweeps.insert(p, at);
                self.sweeping.up(at);
            }
            (RangeName::GcMarkAssist, ResourceId::Goroutine(g)) => {
                self.assists.insert(g, (at, ev.proc()));
                self.assisting.up(at);
            }
            _ => {}
        }
    }

    fn range_end(&mut self, ev: &Event<'_>, r: Range<'_>) {
        let (t, start) = (ev.time(), self.start());
        match (r.name, r.scope) {
            (RangeName::GcMark, _) => {
                let since = self.mark.take().unwrap_or(start);
                self.push(LaneKey::Gc, GC_MARK, (since, t), SpanKind::GcMark, 0);
            }
            (RangeName::StopTheWorld(reason), _) => {
                let (since, label) = match self.stw.take() {
                    Some(open) => open,
                    None => (start, self.intern(reason)),
                };
                self.push(
                    LaneKey::Gc,
                    GC_STW,
                    (since, t),
                    SpanKind::StopTheWorld,
                    label,
                );
            }
            (RangeName::GcSweep, ResourceId::Proc(p)) => {
                let since = self.sweeps.remove(&p).unwrap_or(start);
                self.push(LaneKey::Proc(p), P_GC, (since, t), SpanKind::GcSweep, 0);
                if let Some((since, peak)) = self.sweeping.down() {
                    self.push(LaneKey::Gc, GC_SWEEP, (since, t), SpanKind::GcSweep, peak);
                }
            }
            (RangeName::GcMarkAssist, ResourceId::Goroutine(g)) => {
                let (since, p) = self.assists.remove(&g).unwrap_or((start, ev.proc()));
                if p >= 0 {
                    self.push(LaneKey::Proc(p), P_GC, (since, t), SpanKind::GcAssist, 0);
                }
                if let Some((since, peak)) = self.assisting.down() {
                    self.push(LaneKey::Gc, GC_ASSIST, (since, t), SpanKind::GcAssist, peak);
                }
            }
            _ => {}
        }
    }

    fn metric(&mut self, ev: &Event<'_>) {
        let Some(m) = ev.metric() else { return };
        let series = match m.name {
            "/memory/classes/heap/objects:bytes" => Series::HeapAlloc,
            "/gc/heap/goal:bytes" => Series::HeapGoal,
            "/sched/gomaxprocs:threads" => Series::Gomaxprocs,
            _ => return,
        };
        let value = i64::try_from(m.value).unwrap_or(i64::MAX);
        self.plots.entry(series).or_default().push(ev.time(), value);
    }

    /// A mark on the goroutine's lane, or on the M's when no goroutine ran.
    fn mark_on(&mut self, ev: &Event<'_>, kind: SpanKind, label: StrId) {
        let (t, g, m) = (ev.time(), ev.goroutine(), ev.thread());
        let origin = match self.rows().keep((t, t)) {
            true => {
                let origin = self.origin(ev, ev.stack(), -1);
                self.origin_id(origin)
            }
            false => 0,
        };
        let lane = if g >= 0 {
            let slot = self.slot(g);
            self.track(slot).map(|t| (t.lane, G_MARKS))
        } else if m >= 0 {
            Some((self.lane(LaneKey::Thread(m)), M_MARKS))
        } else {
            None
        };
        if let Some(at) = lane {
            self.push_at(at, (t, t), kind, label, origin);
        }
    }

    fn sample(&mut self, ev: &Event<'_>) {
        let leaf = ev
            .stack()
            .and_then(|s| s.frames().next())
            .map(|f| f.func)
            .unwrap_or_default();
        let label = self.intern(leaf);
        self.mark_on(ev, SpanKind::CpuSample, label);
    }

    fn log(&mut self, ev: &Event<'_>) {
        let Some(log) = ev.log() else { return };
        let message = String::from_utf8_lossy(log.message);
        let text = match log.category {
            [] => message.into_owned(),
            category => format!("{}: {message}", String::from_utf8_lossy(category)),
        };
        let label = self.strings().intern(&text);
        self.mark_on(ev, SpanKind::Log, label);
    }

    fn task(&mut self, ev: &Event<'_>) {
        let Some(task) = ev.task() else { return };
        let label = self.intern(task.type_name);
        if ev.kind() == EventKind::TaskBegin {
            // Its goroutine goes where a state's waker does (see
            // `GenerationModel::span_details`).
            let origin = self.origin(ev, ev.stack(), ev.goroutine());
            self.open_tasks.insert(task.id, (ev.time(), label, origin));
            return;
        }
        let known = self.open_tasks.remove(&task.id);
        if known.is_none() || self.tasks_begun_earlier.remove(&task.id) {
            self.tasks_ended_earlier.push((task.id, label));
        }
        let (began, label, origin) = known.unwrap_or((self.start(), label, UNKNOWN));
        let (since, end) = (self.cut_to_start(began, ev.time()), ev.time());
        let span = Span::new(since, end, SpanKind::Task, label);
        self.tasks.push((began, span, origin));
    }

    /// `since` cut to the generation's start (for what began in an earlier
    /// one) and to `end` (generations overlap in time by a little, and in a
    /// damaged trace by anything).
    fn cut_to_start(&self, since: i64, end: i64) -> i64 {
        since.max(self.start()).min(end)
    }

    fn region(&mut self, ev: &Event<'_>) {
        let (Some(region), g) = (ev.region(), ev.goroutine()) else {
            return;
        };
        if g < 0 {
            return;
        }
        let label = self.intern(region.type_name);
        let start = self.start();
        let begins = ev.kind() == EventKind::RegionBegin;
        // Where it began (`trace.StartRegion`'s caller), as a task's.
        let origin = match begins {
            true => self.origin(ev, ev.stack(), -1),
            false => UNKNOWN,
        };
        let slot = self.slot(g);
        let Some(track) = self.track(slot) else {
            return;
        };
        if begins {
            track.regions.push((ev.time(), label, origin));
            return;
        }
        let popped = track.regions.pop();
        if popped.is_none() || track.regions.len() < track.inherited {
            // It began before this generation.
            track.ended_earlier.push(label);
            track.inherited = track.inherited.min(track.regions.len());
        }
        let (since, label, origin) = popped.unwrap_or((start, label, UNKNOWN));
        let (lane, depth) = (track.lane, track.regions.len());
        self.push_region((lane, depth), (since, ev.time()), label, origin);
    }

    /// Draws a region, cut to the generation (see [`Builder::cut_to_start`]).
    fn push_region(
        &mut self,
        (lane, depth): (u32, usize),
        (since, end): (i64, i64),
        label: StrId,
        origin: Origin,
    ) {
        if depth < MAX_REGION_DEPTH {
            let since = self.cut_to_start(since, end);
            let span = (since, end);
            let origin = match self.rows().keep(span) {
                true => self.origin_id(origin),
                false => 0,
            };
            self.push_at(
                (lane, G_REGIONS + depth),
                span,
                SpanKind::Region,
                label,
                origin,
            );
        }
    }

    /// Ends every region the goroutine in `slot` is in at `end`.
    fn close_regions(&mut self, slot: u32, end: i64) {
        while let Some((lane, since, label, origin, depth)) = self.track(slot).and_then(|t| {
            let (since, label, origin) = t.regions.pop()?;
            t.inherited = t.inherited.min(t.regions.len());
            Some((t.lane, since, label, origin, t.regions.len()))
        }) {
            self.push_region((lane, depth), (since, end), label, origin);
        }
    }

    /// Closes everything still open at the last event and assembles the model.
    fn finish(self) -> GenerationModel {
        self.close_all().into_model()
    }

    /// Closes everything still open at the last event.
    fn close_all(mut self) -> Built {
        let span = self.span.unwrap_or_default();
        let end = span.end;
        for slot in 0..self.tracks.len() as u32 {
            self.close(slot, end);
            self.close_regions(slot, end);
        }
        self.states_into_lanes();
        self.close_gc(end);
        let open_tasks: Vec<_> = self.open_tasks.drain().map(|(_, open)| open).collect();
        for (began, label, origin) in open_tasks {
            let since = self.cut_to_start(began, end);
            let span = Span::new(since, end, SpanKind::Task, label);
            self.tasks.push((began, span, origin));
        }
        let tasks: Vec<(i64, Span, OriginId)> = std::mem::take(&mut self.tasks)
            .into_iter()
            .map(|(began, span, origin)| (began, span, self.origin_id(origin)))
            .collect();
        let strings = self.strings.get_or_insert_with(Interner::new);
        if let Some(rows) = pack_tasks(tasks, strings, &mut self.splits) {
            let lane = self.lane(LaneKey::Tasks);
            if let Some(entry) = self.lanes.get_mut(lane as usize) {
                entry.1 = rows;
            }
        }
        let mut plots: Vec<_> = self
            .plots
            .into_iter()
            .map(|(s, b)| (s, b.finish(0)))
            .collect();
        plots.extend(self.counts.finish(span.start));
        plots.retain(|(_, p)| !p.is_empty());
        plots.sort_by_key(|(s, _)| *s);
        let mut lanes = self.lanes;
        lanes.sort_unstable_by_key(|(key, _)| *key);
        let goroutines: Vec<GoroutineInfo> = self.tracks.iter().map(|t| t.info).collect();
        Built {
            rows: lanes,
            model: GenerationModel {
                span,
                window: span,
                basis: self.basis.unwrap_or(span),
                origin_table: self.origins.finish(),
                strings: self.strings.unwrap_or_else(Interner::new).finish(),
                goroutines,
                lanes: Vec::new(),
                plots,
                clock: self.clock,
                activity: Activities::default(),
            },
            cut: self.splits.cut,
        }
    }

    /// Moves each goroutine's [`G_STATES`] row into its lane.
    fn states_into_lanes(&mut self) {
        let kind_of_rows = self.rows();
        for track in &mut self.tracks {
            let Some((key, rows)) = self.lanes.get_mut(track.lane as usize) else {
                continue;
            };
            let states = match track.states.take() {
                Some(states) => states,
                None if rows.is_empty() => continue,
                None => kind_of_rows.new_row(*key),
            };
            match rows.get_mut(G_STATES) {
                Some(row) => *row = states,
                None => {
                    rows.reserve_exact(1);
                    rows.push(states);
                }
            }
        }
    }

    /// Notes the wall clock a Sync event's clock snapshot (Go 1.25+) gives.
    fn clock(&mut self, ev: &Event<'_>) {
        if let Some((trace, c)) = ev.sync().and_then(|s| s.clock) {
            let unix = i128::from(c.sec) * 1_000_000_000 + i128::from(c.nsec);
            if let Ok(unix) = i64::try_from(unix) {
                self.clock.get_or_insert(WallClock { trace, unix });
            }
        }
    }

    /// Cuts the GC ranges still open at `end`.
    fn close_gc(&mut self, end: i64) {
        if let Some(since) = self.mark.take() {
            self.push(LaneKey::Gc, GC_MARK, (since, end), SpanKind::GcMark, 0);
        }
        if let Some((since, label)) = self.stw.take() {
            self.push(
                LaneKey::Gc,
                GC_STW,
                (since, end),
                SpanKind::StopTheWorld,
                label,
            );
        }
        let mut sweeps: Vec<(i64, i64)> = self.sweeps.drain().collect();
        sweeps.sort_unstable();
        for (p, since) in sweeps {
            self.push(LaneKey::Proc(p), P_GC, (since, end), SpanKind::GcSweep, 0);
        }
        let mut assists: Vec<(i64, i64)> = self.assists.drain().map(|(_, open)| open).collect();
        assists.sort_unstable();
        for (since, p) in assists.into_iter().filter(|&(_, p)| p >= 0) {
            self.push(LaneKey::Proc(p), P_GC, (since, end), SpanKind::GcAssist, 0);
        }
        for (row, kind) in [
            (GC_SWEEP, SpanKind::GcSweep),
            (GC_ASSIST, SpanKind::GcAssist),
        ] {
            let coverage = if kind == SpanKind::GcSweep {
                &self.sweeping
            } else {
                &self.assisting
            };
            if coverage.depth > 0 {
                let (since, peak) = (coverage.since, coverage.peak);
                self.push(LaneKey::Gc, row, (since, end), kind, peak);
            }
        }
    }
}

/// The origin of spans begun by `ev` with the interned stack `stack`, made
/// runnable by `unblocker` (-1: none).
fn origin_with(ev: &Event<'_>, stack: u32, unblocker: i64) -> Origin {
    Origin {
        stack,
        unblocker,
        created: false,
        proc: ev.proc(),
        thread: ev.thread(),
    }
}

/// How a build makes its rows.
#[derive(Clone, Copy)]
enum Rows {
    /// Every span kept; the summary, if wanted, made from them at the end.
    All,
    /// Summarized over the given time range as the spans come, none kept.
    Summary(TimeSpan),
    /// Keeping the spans that touch the second time range, and summarized
    /// over the first, if given.
    Window(Option<TimeSpan>, TimeSpan),
}

impl Rows {
    /// Whether the rows keep a span over `[start, end]`.
    fn keep(self, span: (i64, i64)) -> bool {
        match self {
            Rows::All => true,
            Rows::Summary(_) => false,
            Rows::Window(_, window) => window.touches(span),
        }
    }

    /// A new row of lane `key`.
    fn new_row(self, key: LaneKey) -> RowBuilder {
        let grid = |basis| empty_grid(basis, key);
        match self {
            Rows::All => RowBuilder::default(),
            Rows::Summary(basis) => RowBuilder::summarizing(grid(basis)),
            Rows::Window(basis, window) => RowBuilder::windowed(basis.map(grid), window),
        }
    }
}

/// The rows of every lane, each trimmed to its length.
fn into_lanes(built: Vec<(LaneKey, Vec<RowBuilder>)>) -> Vec<LaneData> {
    built
        .into_iter()
        .map(|(key, rows)| {
            let mut rows: Vec<RowData> = rows.into_iter().map(RowBuilder::finish).collect();
            // Collected in place, the vector keeps the row builders'
            // larger allocation: twice the room the rows need.
            rows.shrink_to_fit();
            LaneData { key, rows }
        })
        .collect()
}

/// A generation's model with its rows still apart: what both the model
/// and, without the copy that puts the rows together, the summary are
/// made from.
struct Built {
    /// The rows of every lane, sorted by key.
    rows: Vec<(LaneKey, Vec<RowBuilder>)>,
    /// Everything else, without spans and lanes yet.
    model: GenerationModel,
    /// Spans were cut short (see [`Splits`]).
    cut: bool,
}

impl Built {
    /// Why the model lacks part of some spans, if it does.
    fn cut_error(&self) -> Option<Error> {
        let span = self.model.span;
        self.cut.then(|| {
            Error::new(format!(
                "spans too long to show were cut short: the generation's events span {:.3} s \
                 (from {} to {} ns), its timestamps are likely damaged",
                span.len() as f64 / 1e9,
                span.start,
                span.end
            ))
        })
    }

    /// The model, with its rows.
    fn into_model(self) -> GenerationModel {
        GenerationModel {
            lanes: into_lanes(self.rows),
            ..self.model
        }
        .with_activity()
    }

    /// The summary, if `summarize`, and the model of the spans kept: those
    /// touching `window` (rows built [windowed](Rows::Window)), with the
    /// plots cut to it. Lanes with no span in the window are left out: a
    /// view draws nothing of them there either way, and most goroutines of
    /// a busy generation have none in a narrow window (10.5k of 11.7k
    /// lanes in an 80 ms window of the 1 GB benchmark trace, 1.6 MB of the
    /// model).
    fn split_window(
        self,
        window: TimeSpan,
        summarize: bool,
    ) -> (Option<GenerationSummary>, GenerationModel) {
        let (summary, mut lanes) = match summarize {
            true => {
                let basis = self.model.basis;
                let mut grids = Vec::with_capacity(self.rows.len());
                let mut lanes = Vec::with_capacity(self.rows.len());
                for (key, rows) in self.rows {
                    let empty = || empty_grid(basis, key);
                    let (row_grids, data): (Vec<Grid>, Vec<RowData>) =
                        rows.into_iter().map(|r| r.split(empty())).unzip();
                    grids.push((key, row_grids.into_iter()));
                    lanes.push(LaneData { key, rows: data });
                }
                let summary = self.model.summary_parts().summarize(grids.into_iter());
                (Some(summary), lanes)
            }
            false => (None, into_lanes(self.rows)),
        };
        lanes.retain(|lane| !lane.is_empty());
        let mut model = GenerationModel {
            lanes,
            window: window.intersect(self.model.span),
            ..self.model
        };
        for (_, points) in &mut model.plots {
            clip(points, model.window);
        }
        (summary, model.with_activity())
    }

    /// The summary the model would give.
    fn summarize(self) -> GenerationSummary {
        let basis = self.model.basis;
        let lanes = self.rows.into_iter().map(|(key, rows)| {
            let empty = move || empty_grid(basis, key);
            (key, rows.into_iter().map(move |r| r.split(empty()).0))
        });
        self.model.summary_parts().summarize(lanes)
    }
}

/// A span of a tasks row while packing: start, end, label, how many tasks
/// it merges, and its origin.
type PackedTask = (i64, i64, StrId, u32, OriginId);

/// Packs tasks, each with when it began, into at most [`MAX_TASK_ROWS`]
/// rows, first fit in the order they began, the longer first of those
/// that began together; `None` without tasks. A span standing for several
/// tasks is labelled "N tasks" and has no origin.
///
/// Tasks open when the generation started are all cut to its start: in
/// the order they began, a task that outlasts many generations (a whole
/// load test, a server's lifetime) keeps the first row in each of them,
/// where it began, instead of falling into the merged last row behind the
/// short tasks cut with it.
fn pack_tasks(
    mut tasks: Vec<(i64, Span, OriginId)>,
    strings: &mut Interner,
    splits: &mut Splits,
) -> Option<Vec<RowBuilder>> {
    if tasks.is_empty() {
        return None;
    }
    tasks.sort_unstable_by_key(|&(began, s, _)| (began, std::cmp::Reverse(s.end())));
    let mut rows: Vec<Vec<PackedTask>> = Vec::new();
    for (_, task, origin) in tasks {
        let entry = (task.start, task.end(), task.value(), 1, origin);
        let free = rows
            .iter()
            .position(|r| r.last().is_none_or(|s| s.1 <= task.start));
        if let Some(row) = free.and_then(|i| rows.get_mut(i)) {
            row.push(entry);
        } else if rows.len() < MAX_TASK_ROWS {
            rows.push(vec![entry]);
        } else if let Some(last) = rows.last_mut().and_then(|r| r.last_mut()) {
            last.1 = last.1.max(task.end());
            last.3 = last.3.saturating_add(1);
            // Merged tasks have no one origin.
            last.4 = 0;
        }
    }
    let mut built = Vec::with_capacity(rows.len());
    for r in rows {
        let mut b = RowBuilder::default();
        for (start, end, label, tasks, origin) in r {
            let label = if tasks > 1 {
                strings.intern(&format!("{tasks} tasks"))
            } else {
                label
            };
            let value = (SpanKind::Task, label);
            b.push_from((start, end), value, Some(origin), splits);
        }
        built.push(b);
    }
    Some(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_stream_and_status_counts_from_the_start() {
        let mut c = Counts::default();
        c.change(5, SpanKind::Running, 1);
        c.count_from_start(SpanKind::Waiting);
        c.change(5, SpanKind::Waiting, -1);
        c.change(1 << 20, SpanKind::Running, -1);
        let series: Vec<_> = c.finish(0).collect();
        let get = |s: Series| -> Vec<(i64, i64)> {
            let (_, points) = series.iter().find(|(x, _)| *x == s).unwrap();
            points.iter().map(|p| (p.t, p.last)).collect()
        };
        assert_eq!(get(Series::Running), [(0, 0), (5, 1), (1 << 20, 0)]);
        assert_eq!(
            get(Series::Waiting),
            [(0, 1), (5, 0)],
            "1 from the start, 0 once it stops waiting"
        );
        assert_eq!(get(Series::Syscall), [(0, 0)]);
    }

    #[test]
    fn tasks_pack_first_fit_and_overflow_merges() {
        // Each task's origin is its start, for telling them apart.
        let task = |a, b| (a, Span::new(a, b, SpanKind::Task, 0), a as OriginId);
        let mut tasks = vec![task(1, 10), task(5, 15), task(10, 20)];
        tasks.extend((0..=MAX_TASK_ROWS as i64).map(|i| task(100 + i, 200)));
        let mut strings = Interner::new();
        let rows: Vec<_> = pack_tasks(tasks, &mut strings, &mut Splits::default())
            .unwrap()
            .into_iter()
            .map(RowBuilder::finish)
            .collect();
        assert_eq!(rows.len(), MAX_TASK_ROWS);
        let first: Vec<_> = rows[0].spans.iter().map(|s| (s.start, s.end())).collect();
        assert_eq!(first, [(1, 10), (10, 20), (100, 200)]);
        assert_eq!(rows[0].origins, [1, 10, 100], "each keeps its origin");
        let merged = &rows[MAX_TASK_ROWS - 1];
        assert_eq!(merged.origins.last(), Some(&0), "merged tasks have none");
        let last = merged.spans.last().unwrap();
        let strings = strings.finish();
        assert_eq!(
            strings.get(last.value()),
            "2 tasks",
            "the task without a row is merged into the last row"
        );
        assert!(pack_tasks(Vec::new(), &mut Interner::new(), &mut Splits::default()).is_none());
    }

    /// Tasks open when the generation started are all cut to its start:
    /// the one begun first keeps the first row, though it ends last.
    #[test]
    fn tasks_open_at_the_start_pack_in_the_order_they_began() {
        // Each task's origin tells it apart: the ith began i ns before
        // the start, and one much earlier than all of them.
        let cut = |began: i64, end, origin| (began, Span::new(0, end, SpanKind::Task, 0), origin);
        let mut tasks: Vec<_> = (1..=MAX_TASK_ROWS as u32)
            .map(|i| cut(-i64::from(i), 10 + i64::from(i), i))
            .collect();
        tasks.push(cut(-1000, 500, 99));
        let rows: Vec<_> = pack_tasks(tasks, &mut Interner::new(), &mut Splits::default())
            .unwrap()
            .into_iter()
            .map(RowBuilder::finish)
            .collect();
        assert_eq!(rows[0].origins, [99], "the oldest task, alone");
        assert_eq!(rows[0].spans[0].end(), 500);
        let merged = &rows[MAX_TASK_ROWS - 1];
        assert_eq!(merged.origins, [0], "the two begun last share the last row");
    }

    #[test]
    fn lanes_of_ps_and_ms_sharing_low_bits_stay_apart() {
        let mut b = Builder::default();
        let n = RECENT_LANES as i64;
        let keys = [
            LaneKey::Proc(3),
            LaneKey::Thread(3),
            LaneKey::Thread(3 + n),
            LaneKey::Proc(3 + 2 * n),
        ];
        // Twice over: the second round finds some in the table, and the
        // entries displaced must not answer for the keys that replaced them.
        for _ in 0..2 {
            let lanes: Vec<u32> = keys.iter().map(|&k| b.cached_lane(k)).collect();
            assert_eq!(lanes, [0, 1, 2, 3]);
        }
        assert_eq!(b.recent_lanes.get(LaneKey::Gc), None);
        assert_eq!(b.cached_lane(LaneKey::Gc), 4);
        assert_eq!(b.recent_lanes.get(LaneKey::Proc(3 + 2 * n)), Some(3));
        assert_eq!(b.recent_lanes.get(LaneKey::Proc(3)), None, "displaced");
    }
}
