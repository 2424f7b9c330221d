//! Level of detail: per-row summaries over power-of-two time buckets.
//!
//! The whole-trace view must not need the spans of every generation (a 1 GB
//! trace has ~10⁸ of them, far over the memory budget), so each decoded
//! generation leaves behind, for every row of every lane, a small pyramid.
//! Level `k` cuts time into buckets of `2^k` ns aligned to absolute time, and
//! stores for each bucket its busy fraction (time in [busy](SpanKind::is_busy)
//! kinds over the bucket's length), its dominant kind (most time, or most
//! spans for instants) and how many spans start in it.
//!
//! The finest level is built one span at a time ([`Grid`]), while the
//! generation is decoded: each span adds its time to the bucket it starts in
//! and the one it ends in, and the buckets it covers entirely between them
//! become one *run* (a goroutine waiting for a whole generation costs one
//! run, not a thousand buckets). Buckets are kept sparse, in order (spans of
//! a row come in order), so a row costs what its spans touch and a summary
//! needs no spans kept. The buckets are laid over the generation's time range
//! as the index knows it before decoding, which usually falls a little short
//! of its last event; once the real length is known the level is coarsened
//! to it ([`Grid::at_most`]). Each coarser level is made from the one below
//! by merging bucket pairs and halving runs, so the whole pyramid costs one
//! pass over the spans plus twice the finest level's buckets. A level's
//! cells are its non-empty buckets and its runs, adjacent cells with the
//! same kind, busy fraction and coverage merged, so a level never has more
//! cells than twice the spans, and usually far fewer.
//!
//! The finest level has about [`Grid::finest`]'s `buckets` buckets per
//! generation; coarser levels double the width until one bucket covers the
//! generation. A level is kept only if it has at most [`KEEP_RATIO`] of the
//! cells of the last kept one, which bounds a pyramid to a few times its
//! finest level and drops levels that would repeat the same picture. A query
//! picks the coarsest level whose buckets are no wider than a pixel.

use super::span::{Span, SpanKind};
use super::timeline::TimeSpan;

/// A coarser level is kept if it has at most this fraction (numerator,
/// denominator) of the cells of the last kept level. Lower keeps fewer
/// levels (less memory, more cells drawn per pixel when zoomed out).
const KEEP_RATIO: (usize, usize) = (3, 4);

/// No coarser level is made above a level of this many cells or fewer: a
/// pixel or two of extra cells when zoomed out costs less than a level per
/// row (most goroutine rows of a churning program hold a cell or two).
const MIN_CELLS_TO_COARSEN: usize = 2;

/// Number of span kinds, for per-kind accumulators.
const KINDS: usize = SpanKind::ALL.len();

/// Highest bucket index a cell can hold. A level has about
/// [`Grid::finest`]'s `buckets` buckets over its generation (a thousand at
/// most), so 16-bit indices make a cell 10 bytes instead of 16: the cells
/// of every generation's summary stay in memory (1.7 million of them for a
/// 1 GB trace, 28 MB at 16 bytes). A grid whose spans reach further (its
/// timestamps contradict the index's time range) is coarsened until they
/// fit ([`Pyramids::push`]).
const MAX_BUCKET: usize = u16::MAX as usize;

/// One bucket, or a run of buckets with the same content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cell {
    /// First bucket, counted from the level's origin.
    first: u16,
    /// First bucket after the cell.
    end: u16,
    /// Busy fraction, 0..=255 (any busy time rounds up to at least 1).
    busy: u8,
    /// Fraction of the cell covered by any span, 0..=255 (rounded up like
    /// `busy`): a goroutine that exists for a moment of a bucket must not
    /// count the whole bucket in its dominant state.
    covered: u8,
    /// Dominant [`SpanKind`].
    kind: u8,
    /// Spans starting in the cell (saturating).
    count: u16,
}

impl Cell {
    /// The busy fraction, 0.0..=1.0.
    pub(crate) fn busy(&self) -> f32 {
        f32::from(self.busy) / 255.0
    }

    /// The fraction of the cell covered by any span, 0.0..=1.0.
    pub(crate) fn covered(&self) -> f32 {
        f32::from(self.covered) / 255.0
    }

    /// The kind that covers most of the cell.
    pub(crate) fn kind(&self) -> SpanKind {
        SpanKind::from_code(self.kind)
    }

    /// Spans starting in the cell.
    pub(crate) fn count(&self) -> u32 {
        u32::from(self.count)
    }
}

/// The pyramids of every row of a generation, in three flat arrays, so a
/// row costs no allocation of its own: a trace with 600k goroutines has tens
/// of thousands of goroutine rows per generation, most with a cell or two,
/// and the summaries of every generation stay in memory.
///
/// Every grid of a generation is laid over the same time range, so a
/// level's origin (the time of its bucket 0) is that range's start rounded
/// down to the level's bucket width and is not stored; nor is where a row's
/// levels or a level's cells end, which is where the next ones begin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pyramids {
    /// The start of the time range the grids are laid over.
    start: i64,
    /// Per row, its first level in `level_ends`; its levels, finest first,
    /// end where the next row's begin.
    rows: Vec<u32>,
    /// Per level, where its cells end in `cells` (see [`LevelHead`]).
    level_ends: Vec<u32>,
    /// Per level, the shift of its bucket width: apart from `level_ends`,
    /// as a byte, so a level costs 5 bytes rather than 8 (a goroutine row
    /// mostly has one level, and a 1 GB trace has 600k goroutines).
    level_shifts: Vec<u8>,
    /// The cells of every level, level after level.
    cells: Vec<Cell>,
}

/// Where a level is: its cells end at `end` in [`Pyramids::cells`] and
/// begin where the previous level's end (stored apart, see
/// [`Pyramids::level_shifts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LevelHead {
    end: u32,
    /// Buckets are `2^shift` ns wide.
    shift: u32,
}

impl Pyramids {
    /// Pyramids of grids laid over a time range starting at `start` (see
    /// [`Grid::finest`]).
    pub(crate) fn new(start: i64) -> Pyramids {
        Pyramids {
            start,
            ..Pyramids::default()
        }
    }

    /// Level `j` of all rows' levels.
    fn head(&self, j: usize) -> Option<LevelHead> {
        Some(LevelHead {
            end: *self.level_ends.get(j)?,
            shift: u32::from(*self.level_shifts.get(j)?),
        })
    }

    /// Adds a level after the last.
    fn push_head(&mut self, head: LevelHead) {
        self.level_ends.push(head.end);
        // Grids never get coarser than 2^62 ns buckets.
        self.level_shifts
            .push(u8::try_from(head.shift.min(62)).unwrap_or(62));
    }

    /// Time of bucket 0 of a level of buckets `2^shift` ns wide.
    fn origin(&self, shift: u32) -> i64 {
        (self.start >> shift) << shift
    }

    /// Adds the pyramid of `grid`, the finest level of a row of a
    /// generation `len` ns long; returns the row's number for
    /// [`Pyramids::pyramid`]. An empty grid gives a row without levels.
    pub(crate) fn push(&mut self, grid: Grid, len: i64) -> u32 {
        let number = to_u32(self.rows.len());
        self.rows.push(to_u32(self.level_ends.len()));
        if !grid.is_empty() {
            self.push_levels(grid, len.max(1));
        }
        number
    }

    /// Adds the levels of `grid` and of ever coarser grids until one bucket
    /// covers `len`, keeping those that shrink enough (see [`KEEP_RATIO`])
    /// and none above a level of [`MIN_CELLS_TO_COARSEN`] cells or fewer.
    /// The first level kept is the finest whose buckets all have an index
    /// a cell can hold ([`MAX_BUCKET`]).
    fn push_levels(&mut self, mut grid: Grid, len: i64) {
        while grid.end_bucket() > MAX_BUCKET && grid.shift < 62 {
            grid = grid.coarser();
        }
        let mut kept: Option<usize> = None;
        while kept.is_none_or(|n| n > MIN_CELLS_TO_COARSEN) {
            let start = self.cells.len();
            grid.level_into(&mut self.cells);
            let n = self.cells.len() - start;
            let keep = kept.is_none_or(|k| n * KEEP_RATIO.1 <= k * KEEP_RATIO.0);
            if keep {
                debug_assert_eq!(grid.origin, self.origin(grid.shift), "one time range");
                self.push_head(LevelHead {
                    end: to_u32(self.cells.len()),
                    shift: grid.shift,
                });
                kept = Some(n);
            } else {
                self.cells.truncate(start);
            }
            if n <= 1 || grid.width() >= len || grid.shift >= 61 {
                break;
            }
            grid = grid.coarser();
        }
    }

    /// Number of rows.
    pub(crate) fn rows(&self) -> u32 {
        to_u32(self.rows.len())
    }

    /// The pyramid of row `number` (empty if there is no such row).
    pub(crate) fn pyramid(&self, number: u32) -> Pyramid<'_> {
        let i = number as usize;
        let levels = match self.rows.get(i) {
            Some(&first) => {
                let end = self
                    .rows
                    .get(i + 1)
                    .map_or(self.level_ends.len(), |&e| e as usize);
                first as usize..end
            }
            None => 0..0,
        };
        Pyramid { all: self, levels }
    }

    /// Frees spare capacity once every row is in.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.rows.shrink_to_fit();
        self.level_ends.shrink_to_fit();
        self.level_shifts.shrink_to_fit();
        self.cells.shrink_to_fit();
    }

    /// Approximate heap bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.rows.len() * size_of::<u32>()
            + self.level_ends.len() * (size_of::<u32>() + size_of::<u8>())
            + self.cells.len() * size_of::<Cell>()
    }
}

/// The shift of power-of-two buckets at least `len / buckets` ns wide.
fn shift_for(len: i64, buckets: i64) -> u32 {
    let finest = (len.max(1) / buckets.max(1)).max(1);
    let shift = 63 - finest.leading_zeros();
    if 1i64 << shift < finest {
        shift + 1
    } else {
        shift
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The summary of one row: levels from fine to coarse.
#[derive(Clone, Debug)]
pub(crate) struct Pyramid<'a> {
    all: &'a Pyramids,
    /// The row's levels in `all.level_ends`.
    levels: std::ops::Range<usize>,
}

impl<'a> Pyramid<'a> {
    /// Level `i`, 0 the finest.
    fn level(&self, i: usize) -> Option<Level<'a>> {
        let j = self.levels.start.checked_add(i)?;
        if j >= self.levels.end {
            return None;
        }
        let head = self.all.head(j)?;
        let start = match j.checked_sub(1) {
            Some(prev) => self.all.head(prev)?.end,
            None => 0,
        };
        Some(Level {
            shift: head.shift,
            origin: self.all.origin(head.shift),
            cells: self.all.cells.get(start as usize..head.end as usize)?,
        })
    }

    fn width(&self, i: usize) -> Option<i64> {
        let head = self.all.head(self.levels.start.checked_add(i)?)?;
        Some(1 << head.shift)
    }

    /// The coarsest level whose buckets are no wider than `ns_per_px`, or
    /// the finest if all are wider.
    pub(crate) fn level_for(&self, ns_per_px: f64) -> Option<Level<'a>> {
        let fine_enough = (0..self.levels.len())
            .take_while(|&i| self.width(i).is_some_and(|w| w as f64 <= ns_per_px))
            .count();
        self.level(fine_enough.saturating_sub(1))
    }

    /// Bucket width of the finest level, if the row has any spans.
    pub(crate) fn finest_width(&self) -> Option<i64> {
        self.width(0)
    }

    /// From the start of the row's first span to the end of its last, to
    /// the finest level's buckets.
    pub(crate) fn extent(&self) -> Option<TimeSpan> {
        let level = self.level(0)?;
        let (first, last) = (level.cells.first()?, level.cells.last()?);
        Some(TimeSpan::new(
            level.span_of(first).start,
            level.span_of(last).end,
        ))
    }
}

/// The cells of one bucket width.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Level<'a> {
    shift: u32,
    origin: i64,
    cells: &'a [Cell],
}

impl<'a> Level<'a> {
    /// Bucket width in nanoseconds.
    #[cfg(test)]
    fn width(&self) -> i64 {
        1 << self.shift
    }

    /// The time `cell` covers.
    pub(crate) fn span_of(&self, cell: &Cell) -> TimeSpan {
        let at = |bucket: u16| self.origin + (i64::from(bucket) << self.shift);
        TimeSpan::new(at(cell.first), at(cell.end))
    }

    /// The cells overlapping `view`, by binary search.
    pub(crate) fn visible(&self, view: TimeSpan) -> &'a [Cell] {
        let first = self
            .cells
            .partition_point(|c| self.span_of(c).end <= view.start);
        let last = self
            .cells
            .partition_point(|c| self.span_of(c).start < view.end);
        self.cells.get(first..last).unwrap_or_default()
    }
}

/// What one bucket has accumulated: time and starting spans per kind.
#[derive(Clone, Copy, Default)]
struct Bucket {
    time: [i64; KINDS],
    spans: [u32; KINDS],
}

impl Bucket {
    fn add(&mut self, kind: SpanKind, time: i64, starts: bool) {
        let k = kind as usize;
        if let (Some(t), Some(n)) = (self.time.get_mut(k), self.spans.get_mut(k)) {
            *t += time;
            *n += u32::from(starts);
        }
    }

    fn merge(&mut self, other: &Bucket) {
        for k in 0..KINDS {
            self.time[k] += other.time[k];
            self.spans[k] += other.spans[k];
        }
    }

    fn is_empty(&self) -> bool {
        self.spans.iter().all(|&n| n == 0) && self.time.iter().all(|&t| t == 0)
    }

    /// The bucket as the cell `[first, end)` of buckets `2^shift` wide.
    fn cell(&self, first: usize, end: usize, shift: u32) -> Cell {
        let dominant = (0..KINDS)
            .max_by_key(|&k| (self.time[k], self.spans[k]))
            .unwrap_or_default();
        let busy: i64 = SpanKind::ALL
            .iter()
            .filter(|k| k.is_busy())
            .map(|&k| self.time[k as usize])
            .sum();
        let covered: i64 = self.time.iter().sum();
        let fraction = |t: i64| {
            (t as f64 * 255.0 / (1i64 << shift) as f64)
                .ceil()
                .clamp(0.0, 255.0) as u8
        };
        Cell {
            first: bucket_u16(first),
            end: bucket_u16(end),
            busy: fraction(busy),
            covered: fraction(covered),
            kind: dominant as u8,
            count: self.spans.iter().sum::<u32>().min(u32::from(u16::MAX)) as u16,
        }
    }
}

/// A bucket index as a cell holds it; [`Pyramids::push`] coarsens a grid
/// until its indices fit, so this never saturates.
fn bucket_u16(index: usize) -> u16 {
    u16::try_from(index).unwrap_or(u16::MAX)
}

/// Buckets wholly covered by one span: `[first, end)`, of that kind.
#[derive(Clone, Copy)]
struct Run {
    first: usize,
    end: usize,
    kind: SpanKind,
}

/// One level of a row: the buckets its spans cover partly (or start in),
/// and the runs of buckets they cover wholly. Sparse, so a row costs what
/// its spans touch, not what its generation spans, and built one span at a
/// time, so a summary needs no spans kept (see [`Grid::add_range`]).
pub(crate) struct Grid {
    shift: u32,
    origin: i64,
    /// Non-empty buckets by index, sorted, before [`Grid::current`].
    buckets: Vec<(usize, Bucket)>,
    /// The last bucket, where spans go until one ends past it: kept in
    /// the grid rather than at the end of `buckets`, because a summary
    /// adds to some goroutine's grid for almost every event and the
    /// bucket's place in memory is then known without following a pointer.
    current: Option<(usize, Bucket)>,
    /// Sorted, disjoint, never overlapping a non-empty bucket.
    runs: Vec<Run>,
}

impl Grid {
    /// The empty finest level of a row of the generation `basis` (its time
    /// range as known before decoding): about `buckets` buckets over it, of a
    /// power-of-two width, aligned to absolute time.
    pub(crate) fn finest(basis: TimeSpan, buckets: i64) -> Grid {
        let shift = shift_for(basis.len(), buckets);
        Grid {
            shift,
            origin: (basis.start >> shift) << shift,
            buckets: Vec::new(),
            current: None,
            runs: Vec::new(),
        }
    }

    /// [`Grid::finest`] with the spans of `row` added.
    pub(crate) fn of_row(row: &[Span], basis: TimeSpan, buckets: i64) -> Grid {
        Grid::finest(basis, buckets).with_spans(row)
    }

    /// The grid with the spans of `row` added. The pieces a span too long
    /// for a [`Span`] was split into (see `RowBuilder`) go in as the one
    /// span they were, as a summary-only build adds it: one range instead
    /// of a pair of buckets per piece, which across a jump of damaged
    /// timestamps is a few buckets instead of millions.
    pub(crate) fn with_spans(mut self, row: &[Span]) -> Grid {
        let mut spans = row.iter().peekable();
        while let Some(s) = spans.next() {
            let mut last = s;
            while let Some(next) = spans.next_if(|n| last.continued_by(n)) {
                last = next;
            }
            self.add_range(s.start, last.end(), s.kind());
        }
        self
    }

    /// The grid, coarsened until it has at most about `buckets` buckets over
    /// `len` ns: a generation's basis is its time range as the index knows
    /// it, which usually falls short of its last events.
    pub(crate) fn at_most(mut self, len: i64, buckets: i64) -> Grid {
        let wanted = shift_for(len, buckets);
        while self.shift < wanted {
            self = self.coarser();
        }
        self
    }

    fn width(&self) -> i64 {
        1 << self.shift
    }

    fn is_empty(&self) -> bool {
        self.buckets.is_empty() && self.current.is_none() && self.runs.is_empty()
    }

    /// The bucket after the last one with anything in it.
    fn end_bucket(&self) -> usize {
        let bucket = self.all_buckets().last().map_or(0, |&(i, _)| i + 1);
        let run = self.runs.last().map_or(0, |r| r.end);
        bucket.max(run)
    }

    fn index(&self, t: i64) -> usize {
        usize::try_from(t.saturating_sub(self.origin) >> self.shift).unwrap_or_default()
    }

    /// Adds a span of `kind` over `[start, end)`, which starts no earlier
    /// than the previous one ends (a [`Row`](super::span::Row)'s order): its
    /// time goes to the bucket it starts in and the one it ends in, the
    /// buckets between become a run. Inlined: see `model::build`'s note on
    /// speed.
    #[inline(always)]
    pub(crate) fn add_range(&mut self, start: i64, end: i64, kind: SpanKind) {
        let first = self.index(start);
        let last = if end > start {
            self.index(end - 1)
        } else {
            first
        };
        if last == first {
            self.add_to(first, kind, end - start, true);
            return;
        }
        let bucket_start = |b: usize| self.origin + ((b as i64) << self.shift);
        let (head, tail) = (bucket_start(first + 1) - start, end - bucket_start(last));
        self.add_to(first, kind, head, true);
        self.add_to(last, kind, tail, false);
        if last > first + 1 {
            self.runs.push(Run {
                first: first + 1,
                end: last,
                kind,
            });
        }
    }

    /// Adds `time` of `kind` (and a start) to bucket `i`. Spans arrive in
    /// order, so it is almost always the last bucket or a new last one.
    #[inline]
    fn add_to(&mut self, i: usize, kind: SpanKind, time: i64, starts: bool) {
        if let Some((j, b)) = &mut self.current
            && *j == i
        {
            b.add(kind, time, starts);
            return;
        }
        self.add_to_another(i, kind, time, starts);
    }

    /// [`Grid::add_to`] a bucket other than the current one.
    #[inline(never)]
    fn add_to_another(&mut self, i: usize, kind: SpanKind, time: i64, starts: bool) {
        if self.current.as_ref().is_none_or(|&(j, _)| j < i) {
            let mut b = Bucket::default();
            b.add(kind, time, starts);
            self.buckets.extend(self.current.replace((i, b)));
            return;
        }
        // Before the current bucket (a span clipped to an earlier one).
        let at = match self.buckets.last() {
            Some(&(j, _)) if j > i => self.buckets.partition_point(|&(j, _)| j < i),
            _ => self.buckets.len(),
        };
        match self.buckets.get_mut(at) {
            Some((j, b)) if *j == i => b.add(kind, time, starts),
            _ => {
                let mut b = Bucket::default();
                b.add(kind, time, starts);
                self.buckets.insert(at, (i, b));
            }
        }
    }

    /// Calls `f(buckets, kind, time)` for the time of each kind in the
    /// grid: `time` ns in each bucket of `buckets` (a bucket's time of one
    /// kind, or a run's whole width in each of its buckets).
    pub(crate) fn each_time(&self, mut f: impl FnMut(std::ops::Range<usize>, SpanKind, i64)) {
        for &(i, bucket) in self.all_buckets() {
            for (&kind, &time) in SpanKind::ALL.iter().zip(&bucket.time) {
                if time != 0 {
                    f(i..i + 1, kind, time);
                }
            }
        }
        for run in &self.runs {
            f(run.first..run.end, run.kind, self.width());
        }
    }

    /// The bucket width as a shift and the time of bucket 0.
    pub(crate) fn buckets(&self) -> (u32, i64) {
        (self.shift, self.origin)
    }

    /// Appends the level's cells to `cells`.
    fn level_into(&self, cells: &mut Vec<Cell>) {
        let start = cells.len();
        let mut runs = self.runs.iter().peekable();
        let mut buckets = self.all_buckets().peekable();
        loop {
            let next_bucket = buckets.peek().map(|&&(i, _)| i);
            if let Some(run) = runs.next_if(|r| next_bucket.is_none_or(|i| r.first <= i)) {
                let busy = if run.kind.is_busy() { 255 } else { 0 };
                let (first, end) = (bucket_u16(run.first), bucket_u16(run.end));
                push_cell(
                    cells,
                    start,
                    Cell {
                        first,
                        end,
                        busy,
                        covered: 255,
                        kind: run.kind as u8,
                        count: 0,
                    },
                );
                while buckets.next_if(|&&(i, _)| i < run.end).is_some() {}
                continue;
            }
            let Some(&(i, b)) = buckets.next() else {
                break;
            };
            if !b.is_empty() {
                push_cell(cells, start, b.cell(i, i + 1, self.shift));
            }
        }
    }

    /// The non-empty buckets by index, the current one last.
    fn all_buckets(&self) -> impl Iterator<Item = &(usize, Bucket)> {
        self.buckets.iter().chain(&self.current)
    }

    /// The level with buckets twice as wide.
    fn coarser(&self) -> Grid {
        let shift = self.shift + 1;
        let origin = (self.origin >> shift) << shift;
        // Fine bucket `f` is bucket `f + offset` counted from the new origin.
        let offset = usize::from(origin != self.origin);
        let mut buckets: Vec<(usize, Bucket)> = self
            .all_buckets()
            .map(|&(f, b)| ((f + offset) / 2, b))
            .collect();
        let mut runs = Vec::with_capacity(self.runs.len());
        let mut halves = false;
        for run in &self.runs {
            let (mut first, mut end) = (run.first + offset, run.end + offset);
            let mut half = |at: usize| {
                let mut b = Bucket::default();
                b.add(run.kind, self.width(), false);
                buckets.push((at / 2, b));
                halves = true;
            };
            // A run's odd ends cover only half of a coarse bucket.
            if first % 2 == 1 {
                half(first);
                first += 1;
            }
            if end % 2 == 1 && end > first {
                half(end);
                end -= 1;
            }
            if end > first {
                runs.push(Run {
                    first: first / 2,
                    end: end / 2,
                    kind: run.kind,
                });
            }
        }
        if halves {
            buckets.sort_by_key(|&(i, _)| i);
        }
        buckets.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1.merge(&later.1);
            }
            same
        });
        Grid {
            shift,
            origin,
            buckets,
            current: None,
            runs,
        }
    }
}

/// Appends `cell` to the level starting at `start` in `cells`, merging it
/// into the level's previous cell when they touch and look the same.
fn push_cell(cells: &mut Vec<Cell>, start: usize, cell: Cell) {
    if cells.len() > start
        && let Some(prev) = cells.last_mut()
        && prev.end == cell.first
        && (prev.kind, prev.busy, prev.covered) == (cell.kind, cell.busy, cell.covered)
    {
        prev.end = cell.end;
        prev.count = prev.count.saturating_add(cell.count);
        return;
    }
    cells.push(cell);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pieces_of_a_split_span_go_in_as_one() {
        use crate::model::span::{RowBuilder, Splits};
        // A day-long wait: split into pieces of 2^32 - 1 ns.
        let day = 86_400_000_000_000;
        let mut row = RowBuilder::default();
        let kind = (SpanKind::Waiting, 3);
        row.push_from((0, day), kind, Some(0), &mut Splits::default());
        row.push_from((day, day + 5), kind, Some(0), &mut Splits::default());
        let spans = row.finish().spans;
        let pieces = (day as u64).div_ceil(u64::from(u32::MAX)) as usize;
        assert_eq!(spans.len(), pieces + 1);
        // Buckets of 2^20 ns: as one span, the day is a head, a run and a
        // tail; the span that merely meets it is a span of its own.
        let grid = Grid::finest(TimeSpan::new(0, 1 << 20), 1).with_spans(&spans);
        assert_eq!(grid.runs.len(), 1);
        let starts: u32 = grid
            .all_buckets()
            .map(|(_, b)| b.spans.iter().sum::<u32>())
            .sum();
        assert_eq!(starts, 2, "two spans begin");
        let time: i64 = grid
            .all_buckets()
            .map(|(_, b)| b.time.iter().sum::<i64>())
            .sum();
        let run = &grid.runs[0];
        assert_eq!(
            time + ((run.end - run.first) as i64) * grid.width(),
            day + 5
        );
    }

    #[test]
    fn a_span_before_the_current_bucket_is_kept_in_order() {
        // Buckets of 16 ns; a row never adds out of order, but the grid
        // must keep its buckets sorted if it is asked to.
        let mut grid = Grid::finest(TimeSpan::new(0, 64), 4);
        grid.add_range(33, 40, SpanKind::Running);
        grid.add_range(1, 5, SpanKind::Waiting);
        grid.add_range(20, 24, SpanKind::Waiting);
        grid.add_range(34, 36, SpanKind::Running);
        let found: Vec<(usize, i64, u32)> = grid
            .all_buckets()
            .map(|(i, b)| (*i, b.time.iter().sum(), b.spans.iter().sum()))
            .collect();
        assert_eq!(found, [(0, 4, 1), (1, 4, 1), (2, 9, 2)]);
        let mut cells = Vec::new();
        grid.level_into(&mut cells);
        // The two waiting buckets look alike and make one cell.
        let cells: Vec<(u16, u16, SpanKind)> =
            cells.iter().map(|c| (c.first, c.end, c.kind())).collect();
        assert_eq!(
            cells,
            [(0, 2, SpanKind::Waiting), (2, 3, SpanKind::Running)]
        );
    }

    #[test]
    fn spans_past_what_a_cell_can_index_coarsen_the_finest_level() {
        // A generation whose index says it lasts 64 ns (buckets of 1 ns)
        // while its events go on for 100 µs: 100k buckets, past what a
        // 10-byte cell indexes.
        assert_eq!(size_of::<Cell>(), 10, "the documented saving");
        let basis = TimeSpan::new(0, 64);
        let mut grid = Grid::finest(basis, 64);
        grid.add_range(0, 10, SpanKind::Running);
        grid.add_range(99_990, 100_000, SpanKind::Runnable);
        assert!(grid.end_bucket() > MAX_BUCKET);
        let mut all = Pyramids::default();
        let row = all.push(grid, basis.len());
        let finest = all.pyramid(row).level(0).unwrap();
        assert_eq!(finest.width(), 2, "the first width whose indices fit");
        let spans: Vec<(TimeSpan, SpanKind)> = finest
            .cells
            .iter()
            .map(|c| (finest.span_of(c), c.kind()))
            .collect();
        assert_eq!(
            spans,
            [
                (TimeSpan::new(0, 10), SpanKind::Running),
                (TimeSpan::new(99_990, 100_000), SpanKind::Runnable)
            ]
        );
    }

    fn span(start: i64, end: i64, kind: SpanKind) -> Span {
        Span::new(start, end, kind, 0)
    }

    /// The level of `row` with buckets of `2^shift` ns from `start`, as
    /// one-level pyramids.
    fn build_level(row: &[Span], start: i64, shift: u32) -> Pyramids {
        let grid = with_shift(row, start, shift);
        let mut p = Pyramids::new(grid.origin);
        grid.level_into(&mut p.cells);
        p.push_head(LevelHead {
            end: to_u32(p.cells.len()),
            shift,
        });
        p.rows.push(0);
        p
    }

    /// The finest level of `row` with buckets of `2^shift` ns from `start`.
    fn with_shift(row: &[Span], start: i64, shift: u32) -> Grid {
        let grid = Grid::finest(TimeSpan::new(start, start + (1 << shift)), 1);
        assert_eq!(grid.shift, shift);
        grid.with_spans(row)
    }

    fn cells_of(grid: &Grid) -> Vec<Cell> {
        let mut cells = vec![Cell {
            first: 0,
            end: 0,
            busy: 0,
            covered: 0,
            kind: 0,
            count: 7,
        }];
        grid.level_into(&mut cells);
        cells.split_off(1)
    }

    fn levels<'a>(p: &'a Pyramid<'a>) -> Vec<Level<'a>> {
        (0..).map_while(|i| p.level(i)).collect()
    }

    #[test]
    fn long_spans_cost_one_run() {
        let row = [span(0, 1 << 20, SpanKind::Waiting)];
        let mut all = Pyramids::default();
        let span = TimeSpan::new(0, 1 << 20);
        let row = all.push(Grid::of_row(&row, span, 1024), span.len());
        let p = all.pyramid(row);
        let finest = p.level(0).unwrap();
        assert!(p.level(1).is_none(), "one cell needs no coarser level");
        assert_eq!(finest.width(), 1024);
        assert_eq!(finest.cells.len(), 1, "{:?}", finest.cells);
        assert_eq!(finest.span_of(&finest.cells[0]), TimeSpan::new(0, 1 << 20));
        assert_eq!(
            (
                finest.cells[0].kind(),
                finest.cells[0].busy(),
                finest.cells[0].count()
            ),
            (SpanKind::Waiting, 0.0, 1)
        );
    }

    #[test]
    fn buckets_report_busy_fraction_and_dominant_kind() {
        // Bucket width 4: [0,4) is 3/4 running, [4,8) is all runnable.
        let row = [
            span(0, 3, SpanKind::Running),
            span(3, 8, SpanKind::Runnable),
        ];
        let p = build_level(&row, 0, 2);
        let level = p.pyramid(0).level(0).unwrap();
        assert_eq!(level.cells.len(), 2, "{:?}", level.cells);
        let (a, b) = (level.cells[0], level.cells[1]);
        assert_eq!((a.kind(), a.busy, a.count()), (SpanKind::Running, 192, 2));
        assert_eq!((b.kind(), b.busy, b.count()), (SpanKind::Runnable, 0, 0));
        assert_eq!(level.visible(TimeSpan::new(4, 5)), &[b]);
    }

    #[test]
    fn buckets_report_how_much_of_them_a_lane_covers() {
        // Bucket width 4: the goroutine exists from 1 to 3 only.
        let row = [span(1, 3, SpanKind::Runnable)];
        let p = build_level(&row, 0, 2);
        let level = p.pyramid(0).level(0).unwrap();
        let cell = level.cells[0];
        assert_eq!((cell.kind(), cell.covered), (SpanKind::Runnable, 128));
        assert!((cell.covered() - 0.5).abs() < 0.01);
    }

    #[test]
    fn a_partly_covered_bucket_merges_with_none_fully_covered() {
        // Bucket width 4: the goroutine exists from 2 on, waiting but for
        // a moment in each bucket (so no bucket is part of a run).
        let row: Vec<Span> = (0..6)
            .flat_map(|b| {
                let at = (b * 4).max(2);
                [
                    span(at, b * 4 + 3, SpanKind::Waiting),
                    span(b * 4 + 3, b * 4 + 4, SpanKind::Runnable),
                ]
            })
            .collect();
        let p = build_level(&row, 0, 2);
        let level = p.pyramid(0).level(0).unwrap();
        let cells: Vec<_> = level
            .cells
            .iter()
            .map(|c| (level.span_of(c), c.covered))
            .collect();
        assert_eq!(
            cells,
            [(TimeSpan::new(0, 4), 128), (TimeSpan::new(4, 24), 255)]
        );
    }

    #[test]
    fn pyramid_shrinks_and_picks_the_pixel_level() {
        // 10k spans of irregular length, one every 100 ns over 1 ms.
        let kinds = [SpanKind::Running, SpanKind::Runnable, SpanKind::Syscall];
        let row: Vec<Span> = (0..10_000i64)
            .map(|i| {
                span(
                    i * 100,
                    i * 100 + 1 + i * 37 % 90,
                    kinds[(i * i % 7 % 3) as usize],
                )
            })
            .collect();
        let gen_span = TimeSpan::new(0, 1_000_000);
        let mut all = Pyramids::default();
        let first = [span(0, 5, SpanKind::Running)];
        all.push(Grid::of_row(&first, gen_span, 1024), gen_span.len());
        let number = all.push(Grid::of_row(&row, gen_span, 1024), gen_span.len());
        let p = all.pyramid(number);
        let levels = levels(&p);
        assert!(levels.len() > 3);
        assert!(
            levels
                .windows(2)
                .all(|w| w[0].width() < w[1].width() && w[1].cells.len() < w[0].cells.len())
        );
        assert!(levels[0].cells.len() <= 1024 + 1);
        assert!(all.bytes() < row.len() * size_of::<Span>() / 4);
        for level in &levels {
            let covered: i64 = level.cells.iter().map(|c| level.span_of(c).len()).sum();
            assert!(
                covered >= gen_span.len() - level.width(),
                "cells cover the generation"
            );
        }
        let at = |px: f64| p.level_for(px).map(|l| l.width());
        assert_eq!(at(1.0), p.finest_width());
        for px in [2000.0, 5000.0, 70_000.0] {
            let w = at(px).unwrap();
            assert!(
                w as f64 <= px
                    && levels
                        .iter()
                        .all(|l| l.width() <= w || l.width() as f64 > px)
            );
        }
        assert_eq!(at(1e12), levels.last().map(|l| l.width()));
    }

    #[test]
    fn coarsening_equals_building_at_the_coarser_width() {
        // Irregular spans: gaps, spans inside a bucket, spans over many.
        let kinds = [
            SpanKind::Running,
            SpanKind::Waiting,
            SpanKind::Syscall,
            SpanKind::Log,
        ];
        let mut row = Vec::new();
        let mut t = 13;
        for i in 0..3000i64 {
            let len = (i * 7919 % 97) * (1 + i % 5) * (1 + (i % 13 == 0) as i64 * 400);
            let kind = kinds[(i * 31 % 4) as usize];
            let len = if kind == SpanKind::Log { 0 } else { len };
            row.push(span(t, t + len, kind));
            t += len + i * 13 % 29;
        }
        let gen_span = TimeSpan::new(13, t + 5);
        for shift in 3..14 {
            let fine = with_shift(&row, gen_span.start, shift);
            let direct = with_shift(&row, gen_span.start, shift + 1);
            assert_eq!(
                cells_of(&fine.coarser()),
                cells_of(&direct),
                "shift {shift}"
            );
        }
    }

    #[test]
    fn buckets_stay_sorted_whatever_the_order_spans_come_in() {
        let instants: Vec<Span> = [900, 10, 500, 11, 10, 700, 3]
            .iter()
            .map(|&t| span(t, t, SpanKind::Log))
            .collect();
        let mut sorted = instants.clone();
        sorted.sort_by_key(|s| s.start);
        assert_eq!(
            cells_of(&with_shift(&instants, 0, 6)),
            cells_of(&with_shift(&sorted, 0, 6))
        );
    }

    #[test]
    fn instants_are_counted() {
        let row = [
            span(10, 10, SpanKind::CpuSample),
            span(11, 11, SpanKind::CpuSample),
            span(900, 900, SpanKind::Log),
        ];
        let p = build_level(&row, 0, 6);
        let level = p.pyramid(0).level(0).unwrap();
        let counts: Vec<(u32, SpanKind)> =
            level.cells.iter().map(|c| (c.count(), c.kind())).collect();
        assert_eq!(counts, [(2, SpanKind::CpuSample), (1, SpanKind::Log)]);
    }
}
