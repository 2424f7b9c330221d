//! What the timeline frame draws without looking at spans: the trace's time
//! span, its generation bands and the list of lanes.
//!
//! These are the types of the ui's contract (`ui::data`), owned here so the
//! worker can fill them: the ui only reads them. Lanes are identified by a
//! [`LaneKey`] rather than by their position, because the lane list grows as
//! generations are decoded (a goroutine first seen in generation 7 gets its
//! lane then) and positions shift.

use crate::trace::FxHashMap;

/// A half-open time interval `[start, end)` in trace nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TimeSpan {
    /// First nanosecond inside the span.
    pub start: i64,
    /// First nanosecond after the span.
    pub end: i64,
}

impl TimeSpan {
    /// The span `[start, end)`; a reversed pair is swapped.
    pub fn new(start: i64, end: i64) -> Self {
        Self {
            start: start.min(end),
            end: start.max(end),
        }
    }

    /// Length in nanoseconds.
    pub fn len(self) -> i64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span is empty.
    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// Whether the two spans share at least one nanosecond, or `self` is an
    /// instant inside `other`.
    pub fn overlaps(self, other: TimeSpan) -> bool {
        self.start < other.end && other.start < self.end.max(self.start + 1)
    }

    /// The smallest span covering both.
    pub fn union(self, other: TimeSpan) -> TimeSpan {
        TimeSpan::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// The part of `self` inside `other` (empty, at the nearer edge of
    /// `other`, if none).
    pub fn intersect(self, other: TimeSpan) -> TimeSpan {
        let start = self.start.clamp(other.start, other.end);
        TimeSpan::new(start, self.end.clamp(start, other.end))
    }

    /// Whether `other` lies wholly inside `self`.
    pub fn covers(self, other: TimeSpan) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Whether `[start, end]` touches `self`: starts or ends in it (edges
    /// included) or covers it.
    pub(crate) fn touches(self, (start, end): (i64, i64)) -> bool {
        start <= self.end && end >= self.start
    }
}

/// The sections lanes are grouped in, in the order Go engineers read them:
/// what the runtime did as a whole (GC, plots, tasks), what the scheduler had
/// (Ps), what the OS ran (Ms), what the program did (Gs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LaneGroup {
    /// The GC lane, the plots and user tasks.
    Runtime,
    /// One lane per P (logical processor).
    Procs,
    /// One lane per M (OS thread).
    Threads,
    /// One lane per goroutine.
    Goroutines,
}

impl LaneGroup {
    /// Heading of the section in the name column.
    pub fn title(self) -> &'static str {
        match self {
            Self::Runtime => "Runtime",
            Self::Procs => "Procs",
            Self::Threads => "Threads",
            Self::Goroutines => "Goroutines",
        }
    }
}

/// Which plot a plot lane shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlotKind {
    /// Heap in use and heap goal, in bytes.
    Heap,
    /// Goroutines by state: running, runnable, waiting, in syscall.
    Goroutines,
    /// GOMAXPROCS.
    Procs,
}

impl PlotKind {
    /// The series the plot draws, bottom to top.
    pub fn series(self) -> &'static [super::Series] {
        use super::Series as S;
        match self {
            PlotKind::Heap => &[S::HeapAlloc, S::HeapGoal],
            PlotKind::Goroutines => &[S::Running, S::Runnable, S::Waiting, S::Syscall],
            PlotKind::Procs => &[S::Gomaxprocs],
        }
    }
}

/// The identity of a lane, stable across generations. The derived order is
/// the display order: runtime lanes, then Ps, Ms and goroutines by ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LaneKey {
    /// A plot over time.
    Plot(PlotKind),
    /// GC: mark phases, stop-the-world pauses, sweeping and mark assists.
    Gc,
    /// User tasks (`runtime/trace.NewTask`), packed into rows.
    Tasks,
    /// A P.
    Proc(i64),
    /// An M.
    Thread(i64),
    /// A goroutine.
    Goroutine(i64),
}

impl LaneKey {
    /// The section the lane belongs to.
    pub fn group(self) -> LaneGroup {
        match self {
            LaneKey::Plot(_) | LaneKey::Gc | LaneKey::Tasks => LaneGroup::Runtime,
            LaneKey::Proc(_) => LaneGroup::Procs,
            LaneKey::Thread(_) => LaneGroup::Threads,
            LaneKey::Goroutine(_) => LaneGroup::Goroutines,
        }
    }

    /// Text in the name column; `name` is a goroutine's start function.
    pub fn label(self, name: Option<&str>) -> String {
        match self {
            LaneKey::Plot(PlotKind::Heap) => "Heap".to_owned(),
            LaneKey::Plot(PlotKind::Goroutines) => "Goroutines".to_owned(),
            LaneKey::Plot(PlotKind::Procs) => "GOMAXPROCS".to_owned(),
            LaneKey::Gc => "GC".to_owned(),
            LaneKey::Tasks => "Tasks".to_owned(),
            LaneKey::Proc(id) => format!("P{id}"),
            LaneKey::Thread(id) => format!("M{id}"),
            LaneKey::Goroutine(id) => match name {
                Some(name) if !name.is_empty() => format!("G{id} {name}"),
                _ => format!("G{id}"),
            },
        }
    }

    /// The key as its variant's code (the derived order's) and its ID
    /// (the plot's code for a plot), which [`LaneKey::from_code`] takes
    /// back.
    fn to_code(self) -> (u8, i64) {
        match self {
            LaneKey::Plot(kind) => (0, kind as i64),
            LaneKey::Gc => (1, 0),
            LaneKey::Tasks => (2, 0),
            LaneKey::Proc(id) => (3, id),
            LaneKey::Thread(id) => (4, id),
            LaneKey::Goroutine(id) => (5, id),
        }
    }

    /// The key [`LaneKey::to_code`] made `(code, id)` of.
    fn from_code(code: u8, id: i64) -> LaneKey {
        match (code, id) {
            (0, 1) => LaneKey::Plot(PlotKind::Goroutines),
            (0, 2) => LaneKey::Plot(PlotKind::Procs),
            (0, _) => LaneKey::Plot(PlotKind::Heap),
            (1, _) => LaneKey::Gc,
            (2, _) => LaneKey::Tasks,
            (3, _) => LaneKey::Proc(id),
            (4, _) => LaneKey::Thread(id),
            _ => LaneKey::Goroutine(id),
        }
    }
}

/// The start functions lanes are named after, each once: a trace can have
/// 600k goroutines and a few hundred start functions, so a lane holds an
/// index here (0 for none), which keeps a [`Lane`] at 16 bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LaneNames {
    /// The names; index 0 is the empty name.
    list: Vec<Box<str>>,
    ids: FxHashMap<Box<str>, u32>,
}

impl LaneNames {
    /// The index of `name`, added if new; 0 for the empty name.
    pub fn id(&mut self, name: &str) -> u32 {
        if name.is_empty() {
            return 0;
        }
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        if self.list.is_empty() {
            self.list.push("".into());
        }
        let id = u32::try_from(self.list.len()).unwrap_or(0);
        self.list.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    /// The name of index `id`, if it has one.
    pub(crate) fn get(&self, id: u32) -> Option<&str> {
        self.list
            .get(id as usize)
            .map(|n| &**n)
            .filter(|n| !n.is_empty())
    }
}

/// One horizontal row of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    /// The ID of its [`LaneKey`] (see [`LaneKey::to_code`]), kept apart
    /// from the variant's code, which then fits in the padding a
    /// `LaneKey` field would waste.
    id: i64,
    /// A goroutine's start function, if known: its index in the
    /// timeline's [`LaneNames`] (0: none), the label being made only for
    /// the lanes drawn.
    name: u32,
    /// Rows of spans seen so far (saturating). What else the ui needs of a
    /// lane (its section, height, whether it folds) follows from these
    /// fields, so a lane costs 16 bytes: a trace with 600k goroutines has
    /// as many.
    rows: u16,
    /// The code of its [`LaneKey`]'s variant.
    code: u8,
}

/// Height of one row of spans, in points: one line of small text.
pub const ROW_HEIGHT: f32 = 16.0;

/// Height of a plot lane, in points: tall enough to read a trend, short
/// enough that three plots leave room for the Ps.
pub const PLOT_HEIGHT: f32 = 48.0;

impl Lane {
    /// Identity, to ask the worker for the lane's draw items.
    pub fn key(&self) -> LaneKey {
        LaneKey::from_code(self.code, self.id)
    }

    /// The lane `key` with `rows` rows of spans; `name` (an index in the
    /// timeline's [`LaneNames`], 0 for none) is kept for a goroutine's lane.
    pub fn new(key: LaneKey, name: u32, rows: usize) -> Lane {
        let goroutine = matches!(key, LaneKey::Goroutine(_));
        let (code, id) = key.to_code();
        Lane {
            id,
            name: if goroutine { name } else { 0 },
            rows: u16::try_from(rows).unwrap_or(u16::MAX),
            code,
        }
    }

    /// The index of the goroutine's start function in the timeline's
    /// [`LaneNames`] (0: none).
    pub fn name_id(&self) -> u32 {
        self.name
    }

    /// Rows of spans seen so far.
    pub fn rows(&self) -> usize {
        self.rows as usize
    }

    /// The section the lane belongs to.
    pub fn group(&self) -> LaneGroup {
        self.key().group()
    }

    /// Height in points when expanded: one [`ROW_HEIGHT`] per row of spans
    /// (states, marks, nested regions), or [`PLOT_HEIGHT`] for plots.
    pub fn height(&self) -> f32 {
        match self.key() {
            LaneKey::Plot(_) => PLOT_HEIGHT,
            _ => ROW_HEIGHT * f32::from(self.rows.max(1)),
        }
    }

    /// Whether the lane has more than one row to fold.
    pub fn collapsible(&self) -> bool {
        self.rows > 1
    }
}

/// Everything the timeline frame draws that does not need decoded events.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// The whole trace: what Home fits.
    pub span: TimeSpan,
    /// Time range of each generation, in trace order (estimated from the
    /// index until the generation is decoded, then exact).
    pub generations: Vec<TimeSpan>,
    /// Rows, top to bottom, sorted by [`LaneKey`].
    pub lanes: Vec<Lane>,
    /// Pieces of work the worker still has to finish before what is visible
    /// is drawn from decoded data (0 = the picture is complete).
    pub pending: usize,
    /// Changes whenever `lanes` does (lanes added, widened or named), so the
    /// ui can keep its layout of them until then.
    pub revision: u64,
    /// Clock snapshots of the generations decoded so far (Go 1.25+ traces),
    /// sorted by trace time.
    pub clocks: Vec<WallClock>,
    /// The start functions the lanes are named after.
    pub names: LaneNames,
}

/// A trace time and the wall clock at that moment, from a generation's
/// clock snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WallClock {
    /// Trace time, in the trace's nanoseconds.
    pub trace: i64,
    /// Wall clock, in nanoseconds since the Unix epoch.
    pub unix: i64,
}

impl Timeline {
    /// A timeline of just `lanes`: key, start function, rows.
    #[cfg(test)]
    pub(crate) fn of_lanes(lanes: &[(LaneKey, Option<&str>, usize)]) -> Timeline {
        let mut timeline = Timeline::default();
        for &(key, name, rows) in lanes {
            let name = name.map_or(0, |n| timeline.names.id(n));
            timeline.lanes.push(Lane::new(key, name, rows));
        }
        timeline
    }

    /// The start function `lane`'s goroutine is named after, if known.
    pub fn lane_name(&self, lane: &Lane) -> Option<&str> {
        self.names.get(lane.name)
    }

    /// Text in `lane`'s name column, e.g. `P3`, `M12`, `G42 main.worker`.
    pub fn label(&self, lane: &Lane) -> String {
        lane.key().label(self.lane_name(lane))
    }

    /// Lane `key`, if the timeline has it (yet: a goroutine's lane comes
    /// with the first generation decoded that it appears in).
    pub fn lane(&self, key: LaneKey) -> Option<&Lane> {
        let i = self.lanes.binary_search_by_key(&key, Lane::key).ok()?;
        self.lanes.get(i)
    }

    /// The wall clock at trace time `t`, from the latest snapshot at or
    /// before it (the first one for earlier times): the trace clock and the
    /// wall clock drift apart slowly, so the nearest snapshot is the best.
    pub fn wall_clock(&self, t: i64) -> Option<i64> {
        let after = self.clocks.partition_point(|c| c.trace <= t);
        let c = self.clocks.get(after.saturating_sub(1))?;
        c.unix.checked_add(t.checked_sub(c.trace)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_overlap_and_keys_sort_for_display() {
        let a = TimeSpan::new(10, 0);
        assert_eq!((a.start, a.end, a.len()), (0, 10, 10));
        assert!(a.overlaps(TimeSpan::new(9, 20)));
        assert!(!a.overlaps(TimeSpan::new(10, 20)));
        assert!(
            TimeSpan::new(5, 5).overlaps(a),
            "an instant inside a span overlaps it"
        );
        let mut keys = [
            LaneKey::Goroutine(1),
            LaneKey::Proc(2),
            LaneKey::Gc,
            LaneKey::Thread(0),
            LaneKey::Plot(PlotKind::Heap),
        ];
        keys.sort();
        let groups: Vec<LaneGroup> = keys.iter().map(|k| k.group()).collect();
        assert!(groups.is_sorted());
        assert_eq!(
            LaneKey::Goroutine(42).label(Some("main.worker")),
            "G42 main.worker"
        );
        let p = Lane::new(LaneKey::Proc(1), 0, 2);
        assert_eq!(
            (p.height(), p.collapsible(), p.group()),
            (2.0 * ROW_HEIGHT, true, LaneGroup::Procs)
        );
        let plot = Lane::new(LaneKey::Plot(PlotKind::Heap), 0, 0);
        assert_eq!((plot.height(), plot.collapsible()), (PLOT_HEIGHT, false));
        assert_eq!(size_of::<Lane>(), 16, "one per goroutine: keep it small");
    }

    #[test]
    fn a_lane_gives_back_its_key() {
        let plots = [PlotKind::Heap, PlotKind::Goroutines, PlotKind::Procs].map(LaneKey::Plot);
        let ids = [i64::MIN, -1, 0, 7, i64::MAX];
        let keys = plots
            .into_iter()
            .chain([LaneKey::Gc, LaneKey::Tasks])
            .chain(ids.into_iter().flat_map(|id| {
                [
                    LaneKey::Proc(id),
                    LaneKey::Thread(id),
                    LaneKey::Goroutine(id),
                ]
            }));
        for key in keys {
            assert_eq!(Lane::new(key, 0, 1).key(), key);
        }
    }
}
