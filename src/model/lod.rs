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
//! The finest level is built from the spans in one pass ([`Grid`]): each
//! span adds its time to the bucket it starts in and the one it ends in, and
//! the buckets it covers entirely between them become one *run* (a goroutine
//! waiting for a whole generation costs one run, not a thousand buckets).
//! Each coarser level is made from the one below by merging bucket pairs and
//! halving runs, so the whole pyramid costs one pass over the spans plus
//! twice the finest level's buckets. A level's cells are its non-empty
//! buckets and its runs, adjacent cells with the same kind and busy fraction
//! merged, so a level never has more cells than twice the spans, and usually
//! far fewer.
//!
//! The finest level has about [`Pyramid::build`]'s `buckets` buckets per
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

/// Number of span kinds, for per-kind accumulators.
const KINDS: usize = SpanKind::ALL.len();

/// One bucket, or a run of buckets with the same content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cell {
    /// First bucket, counted from the level's origin.
    first: u32,
    /// First bucket after the cell.
    end: u32,
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

/// The cells of one bucket width.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Level {
    shift: u32,
    origin: i64,
    cells: Vec<Cell>,
}

impl Level {
    /// Bucket width in nanoseconds.
    pub(crate) fn width(&self) -> i64 {
        1 << self.shift
    }

    /// The time a cell covers.
    pub(crate) fn span_of(&self, cell: &Cell) -> TimeSpan {
        let at = |bucket: u32| self.origin + (i64::from(bucket) << self.shift);
        TimeSpan::new(at(cell.first), at(cell.end))
    }

    /// The cells intersecting `view`.
    pub(crate) fn visible(&self, view: TimeSpan) -> &[Cell] {
        let first = self
            .cells
            .partition_point(|c| self.span_of(c).end <= view.start);
        let last = self
            .cells
            .partition_point(|c| self.span_of(c).start < view.end);
        self.cells.get(first..last).unwrap_or_default()
    }
}

/// The summary of one row: levels from fine to coarse.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pyramid {
    levels: Vec<Level>,
}

impl Pyramid {
    /// Summarises `row` (sorted, non-overlapping) of a generation covering
    /// `span`, with about `buckets` buckets in the finest level.
    pub(crate) fn build(row: &[Span], span: TimeSpan, buckets: i64) -> Pyramid {
        let mut levels: Vec<Level> = Vec::new();
        let len = span.len().max(1);
        let finest = (len / buckets.max(1)).max(1);
        let mut shift = 63 - finest.leading_zeros();
        if 1i64 << shift < finest {
            shift += 1;
        }
        let Some(mut grid) = Grid::from_row(row, span, shift) else {
            return Pyramid { levels };
        };
        loop {
            let level = grid.level();
            let done = level.cells.len() <= 1 || grid.width() >= len || grid.shift >= 61;
            let keep = levels
                .last()
                .is_none_or(|l| level.cells.len() * KEEP_RATIO.1 <= l.cells.len() * KEEP_RATIO.0);
            if keep {
                levels.push(level);
            }
            if done {
                break;
            }
            grid = grid.coarser();
        }
        Pyramid { levels }
    }

    /// The level to draw at `ns_per_px`: the coarsest whose buckets are no
    /// wider than a pixel, or the finest if all are.
    pub(crate) fn level_for(&self, ns_per_px: f64) -> Option<&Level> {
        let fine_enough = self
            .levels
            .partition_point(|l| l.width() as f64 <= ns_per_px);
        self.levels.get(fine_enough.saturating_sub(1))
    }

    /// Bucket width of the finest level (`None` for an empty row).
    pub(crate) fn finest_width(&self) -> Option<i64> {
        self.levels.first().map(Level::width)
    }

    /// Heap bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.levels
            .iter()
            .map(|l| size_of::<Level>() + l.cells.len() * size_of::<Cell>())
            .sum()
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
            first: bucket_u32(first),
            end: bucket_u32(end),
            busy: fraction(busy),
            covered: fraction(covered),
            kind: dominant as u8,
            count: self.spans.iter().sum::<u32>().min(u32::from(u16::MAX)) as u16,
        }
    }
}

fn bucket_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

/// Buckets wholly covered by one span: `[first, end)`, of that kind.
#[derive(Clone, Copy)]
struct Run {
    first: usize,
    end: usize,
    kind: SpanKind,
}

/// One level being built: partial buckets and runs.
struct Grid {
    shift: u32,
    origin: i64,
    /// Time of spans that cover their bucket partly, and span starts.
    buckets: Vec<Bucket>,
    /// Sorted, disjoint, never overlapping a non-empty bucket.
    runs: Vec<Run>,
}

impl Grid {
    fn width(&self) -> i64 {
        1 << self.shift
    }

    /// The finest level of `row` over `span`; `None` for an empty row.
    fn from_row(row: &[Span], span: TimeSpan, shift: u32) -> Option<Grid> {
        let (first, last) = (row.first()?, row.last()?);
        let origin = (span.start.min(first.start) >> shift) << shift;
        let end = span.end.max(last.end()).max(last.start + 1);
        let n = usize::try_from(((end - 1 - origin) >> shift) + 1).ok()?;
        let mut grid = Grid {
            shift,
            origin,
            buckets: vec![Bucket::default(); n],
            runs: Vec::new(),
        };
        for s in row {
            grid.add(s);
        }
        Some(grid)
    }

    fn index(&self, t: i64) -> usize {
        usize::try_from((t - self.origin) >> self.shift).unwrap_or_default()
    }

    fn add(&mut self, s: &Span) {
        let (kind, first) = (s.kind(), self.index(s.start));
        let last = if s.len() > 0 {
            self.index(s.end() - 1)
        } else {
            first
        };
        let bucket_start = |b: usize| self.origin + ((b as i64) << self.shift);
        let (head, tail) = if last == first {
            (s.len(), 0)
        } else {
            (
                bucket_start(first + 1) - s.start,
                s.end() - bucket_start(last),
            )
        };
        if let Some(b) = self.buckets.get_mut(first) {
            b.add(kind, head, true);
        }
        if last > first {
            if let Some(b) = self.buckets.get_mut(last) {
                b.add(kind, tail, false);
            }
            if last > first + 1 {
                self.runs.push(Run {
                    first: first + 1,
                    end: last,
                    kind,
                });
            }
        }
    }

    /// The level's cells.
    fn level(&self) -> Level {
        let mut cells = Vec::new();
        let mut runs = self.runs.iter().peekable();
        let mut i = 0;
        while i < self.buckets.len() {
            if let Some(run) = runs.next_if(|r| r.first <= i) {
                let busy = if run.kind.is_busy() { 255 } else { 0 };
                let (first, end) = (bucket_u32(run.first), bucket_u32(run.end));
                push_cell(
                    &mut cells,
                    Cell {
                        first,
                        end,
                        busy,
                        covered: 255,
                        kind: run.kind as u8,
                        count: 0,
                    },
                );
                i = i.max(run.end);
                continue;
            }
            if let Some(b) = self.buckets.get(i).filter(|b| !b.is_empty()) {
                push_cell(&mut cells, b.cell(i, i + 1, self.shift));
            }
            i += 1;
        }
        cells.shrink_to_fit();
        Level {
            shift: self.shift,
            origin: self.origin,
            cells,
        }
    }

    /// The level with buckets twice as wide.
    fn coarser(&self) -> Grid {
        let shift = self.shift + 1;
        let origin = (self.origin >> shift) << shift;
        // Fine bucket `f` is bucket `f + offset` counted from the new origin.
        let offset = usize::from(origin != self.origin);
        let n = (self.buckets.len() + offset).div_ceil(2);
        let mut buckets = vec![Bucket::default(); n];
        for (f, b) in self.buckets.iter().enumerate() {
            if let Some(c) = buckets.get_mut((f + offset) / 2) {
                c.merge(b);
            }
        }
        let mut runs = Vec::with_capacity(self.runs.len());
        for run in &self.runs {
            let (mut first, mut end) = (run.first + offset, run.end + offset);
            // A run's odd ends cover only half of a coarse bucket.
            if first % 2 == 1 {
                if let Some(c) = buckets.get_mut(first / 2) {
                    c.add(run.kind, self.width(), false);
                }
                first += 1;
            }
            if end % 2 == 1 && end > first {
                if let Some(c) = buckets.get_mut(end / 2) {
                    c.add(run.kind, self.width(), false);
                }
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
        Grid {
            shift,
            origin,
            buckets,
            runs,
        }
    }
}

/// Appends `cell`, merging it into the previous one when they touch and
/// look the same.
fn push_cell(cells: &mut Vec<Cell>, cell: Cell) {
    if let Some(prev) = cells.last_mut()
        && prev.end == cell.first
        && (prev.kind, prev.busy) == (cell.kind, cell.busy)
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

    fn span(start: i64, end: i64, kind: SpanKind) -> Span {
        Span::new(start, end, kind, 0)
    }

    /// The level of `row` with buckets of `2^shift` ns from `start`.
    fn build_level(row: &[Span], start: i64, shift: u32) -> Level {
        let end = row.last().map_or(start, Span::end);
        Grid::from_row(row, TimeSpan::new(start, end), shift)
            .unwrap()
            .level()
    }

    #[test]
    fn long_spans_cost_one_run() {
        let row = [span(0, 1 << 20, SpanKind::Waiting)];
        let p = Pyramid::build(&row, TimeSpan::new(0, 1 << 20), 1024);
        let finest = &p.levels[0];
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
        let level = build_level(&row, 0, 2);
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
        let level = build_level(&row, 0, 2);
        let cell = level.cells[0];
        assert_eq!((cell.kind(), cell.covered), (SpanKind::Runnable, 128));
        assert!((cell.covered() - 0.5).abs() < 0.01);
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
        let p = Pyramid::build(&row, gen_span, 1024);
        assert!(p.levels.len() > 3);
        assert!(
            p.levels
                .windows(2)
                .all(|w| w[0].width() < w[1].width() && w[1].cells.len() < w[0].cells.len())
        );
        assert!(p.levels[0].cells.len() <= 1024 + 1);
        assert!(p.bytes() < row.len() * size_of::<Span>() / 4);
        for level in &p.levels {
            let covered: i64 = level.cells.iter().map(|c| level.span_of(c).len()).sum();
            assert!(
                covered >= gen_span.len() - level.width(),
                "cells cover the generation"
            );
        }
        let at = |px: f64| p.level_for(px).map(Level::width);
        assert_eq!(at(1.0), p.finest_width());
        for px in [2000.0, 5000.0, 70_000.0] {
            let w = at(px).unwrap();
            assert!(
                w as f64 <= px
                    && p.levels
                        .iter()
                        .all(|l| l.width() <= w || l.width() as f64 > px)
            );
        }
        assert_eq!(at(1e12), p.levels.last().map(Level::width));
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
            let fine = Grid::from_row(&row, gen_span, shift).unwrap();
            let direct = Grid::from_row(&row, gen_span, shift + 1).unwrap();
            assert_eq!(fine.coarser().level(), direct.level(), "shift {shift}");
        }
    }

    #[test]
    fn instants_are_counted() {
        let row = [
            span(10, 10, SpanKind::CpuSample),
            span(11, 11, SpanKind::CpuSample),
            span(900, 900, SpanKind::Log),
        ];
        let level = build_level(&row, 0, 6);
        let counts: Vec<(u32, SpanKind)> =
            level.cells.iter().map(|c| (c.count(), c.kind())).collect();
        assert_eq!(counts, [(2, SpanKind::CpuSample), (1, SpanKind::Log)]);
    }
}
