//! Spans: the unit every lane row is made of.
//!
//! A 1 GB trace holds on the order of 10⁸ state changes, and a busy
//! generation yields about 1.7 spans per event, so a span is kept to 16
//! bytes: the start in nanoseconds, the length (32 bits: up to 4.29 s;
//! [`RowBuilder`] splits longer spans), and a tag packing the kind (8 bits)
//! with a 24-bit kind-specific value (see [`Span::value`]). A [`Row`] keeps
//! spans sorted by start and non-overlapping, which makes ends sorted too:
//! culling a row to the visible range is two binary searches. `RowBuilder`
//! enforces that invariant on data from a file, whatever the file says.
//! Alongside each span it keeps a 4-byte [`OriginId`] (what began the span,
//! for the side panel; see [`origin`](super::origin)), so a span costs 20
//! bytes in all.

use super::lod::Grid;
use super::origin::OriginId;
use super::timeline::TimeSpan;

/// What a span shows: a state, a GC activity, a user annotation or a mark.
/// The ui picks the colour family from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SpanKind {
    /// A goroutine runs (on its goroutine lane, its P's and its M's).
    Running,
    /// A goroutine is ready to run; the label is why it stopped, if it did.
    Runnable,
    /// A goroutine is blocked; the label is the reason.
    Waiting,
    /// A goroutine is in a system call.
    Syscall,
    /// The GC's concurrent mark phase.
    GcMark,
    /// A stop-the-world pause; the label is the reason.
    StopTheWorld,
    /// Sweeping: on a P, or aggregated on the GC lane (with the most Ps at once).
    GcSweep,
    /// Mark assists: on a P, or aggregated on the GC lane (with the most at once).
    GcAssist,
    /// A user region; the label is its type.
    Region,
    /// A user task; the label is its type (or "N tasks" for a span merging several).
    Task,
    /// A CPU profile sample (an instant); the label is the innermost function.
    CpuSample,
    /// A user log message (an instant); the label is the message.
    Log,
}

impl SpanKind {
    /// Every kind, in discriminant order.
    pub const ALL: [SpanKind; 12] = [
        SpanKind::Running,
        SpanKind::Runnable,
        SpanKind::Waiting,
        SpanKind::Syscall,
        SpanKind::GcMark,
        SpanKind::StopTheWorld,
        SpanKind::GcSweep,
        SpanKind::GcAssist,
        SpanKind::Region,
        SpanKind::Task,
        SpanKind::CpuSample,
        SpanKind::Log,
    ];

    /// The kind with discriminant `code`.
    pub(crate) fn from_code(code: u8) -> SpanKind {
        Self::ALL
            .get(usize::from(code))
            .copied()
            .unwrap_or(SpanKind::Running)
    }

    /// Whether time in this kind counts as work in summaries' busy fraction
    /// (waiting to run or blocked does not).
    pub fn is_busy(self) -> bool {
        !matches!(self, SpanKind::Runnable | SpanKind::Waiting)
    }

    /// A short name for tooltips and legends.
    pub fn name(self) -> &'static str {
        match self {
            SpanKind::Running => "running",
            SpanKind::Runnable => "runnable",
            SpanKind::Waiting => "waiting",
            SpanKind::Syscall => "syscall",
            SpanKind::GcMark => "GC mark",
            SpanKind::StopTheWorld => "stop-the-world",
            SpanKind::GcSweep => "sweep",
            SpanKind::GcAssist => "mark assist",
            SpanKind::Region => "region",
            SpanKind::Task => "task",
            SpanKind::CpuSample => "CPU sample",
            SpanKind::Log => "log",
        }
    }
}

/// Bits of [`Span`]'s tag that hold its value; the rest hold the kind.
const VALUE_BITS: u32 = 24;

/// Largest [`Span::value`].
pub(crate) const MAX_VALUE: u32 = (1 << VALUE_BITS) - 1;

/// One span (or, with zero length, one instant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    /// First nanosecond.
    pub(crate) start: i64,
    len: u32,
    tag: u32,
}

impl Span {
    /// A span of `kind` over `[start, end)`, cut to 2³² ns (`RowBuilder`
    /// splits longer ones); `value` is kept to 24 bits.
    pub(crate) fn new(start: i64, end: i64, kind: SpanKind, value: u32) -> Span {
        Span {
            start,
            len: u32::try_from(end.saturating_sub(start).max(0)).unwrap_or(u32::MAX),
            tag: (kind as u32) << VALUE_BITS | value.min(MAX_VALUE),
        }
    }

    /// What the span shows.
    pub(crate) fn kind(&self) -> SpanKind {
        SpanKind::from_code((self.tag >> VALUE_BITS) as u8)
    }

    /// Kind-specific: on P and M lanes the goroutine's index in the
    /// generation's goroutine table (for running and syscall spans); on the
    /// GC lane the most Ps or goroutines at once (sweeps, assists);
    /// otherwise a label in the
    /// generation's strings ([`StrId`](super::intern::StrId)).
    pub(crate) fn value(&self) -> u32 {
        self.tag & MAX_VALUE
    }

    /// First nanosecond after the span.
    pub(crate) fn end(&self) -> i64 {
        self.start + i64::from(self.len)
    }

    /// Length in nanoseconds.
    pub(crate) fn len(&self) -> i64 {
        i64::from(self.len)
    }

    /// Whether `next` is the next piece of a span split for its length:
    /// this one is as long as a `Span` can be and `next` goes on from its
    /// end with the same kind and value (two spans that merely meet would
    /// also need this one to last exactly 2³² − 1 ns).
    pub(crate) fn continued_by(&self, next: &Span) -> bool {
        self.len == u32::MAX && next.start == self.end() && next.tag == self.tag
    }

    fn with_start(self, start: i64, end: i64) -> Span {
        Span::new(start, end, self.kind(), self.value())
    }
}

/// Spans sorted by start, non-overlapping (so also sorted by end).
pub(crate) type Row = Vec<Span>;

/// The indices of `row`'s spans that intersect `view` (instants at its
/// edges included): two binary searches.
pub(crate) fn visible(row: &[Span], view: TimeSpan) -> std::ops::Range<usize> {
    let first = row.partition_point(|s| s.end() < view.start);
    let last = row.partition_point(|s| s.start < view.end);
    first..last.max(first)
}

/// One row in full detail: its spans and the origin of each.
#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq))]
pub(crate) struct RowData {
    pub(crate) spans: Row,
    /// The origin of each span (same index).
    pub(crate) origins: Vec<OriginId>,
}

/// Extra pieces that spans too long for a [`Span`] may be split into, over
/// all the rows of one generation. A real trace needs a few: a generation
/// lasts about a second, unless the program was stopped (a debugger, a
/// suspended laptop), and a five-minute stop splits each span across it
/// into 70. Damaged timestamps can make a generation last years and each
/// span across the jump billions of pieces; the budget bounds that to
/// 40 MB (20 bytes a piece), and past it the rest of such a span is cut.
const MAX_SPLITS: usize = 1 << 21;

/// What is left of the [`MAX_SPLITS`] budget of one generation, and whether
/// a span had to be cut.
#[derive(Debug)]
pub(crate) struct Splits {
    left: usize,
    /// A span was cut short for want of pieces.
    pub(crate) cut: bool,
}

impl Default for Splits {
    fn default() -> Self {
        Splits {
            left: MAX_SPLITS,
            cut: false,
        }
    }
}

/// Builds a [`Row`], keeping its invariant: a span that starts before the
/// previous one ends (which a well-formed trace never produces) is clipped
/// to start there, and dropped if nothing is left. Spans longer than a
/// [`Span`] can hold are split (each piece keeping the origin), as far as
/// the generation's [`Splits`] allow.
///
/// A builder made [`summarizing`](RowBuilder::summarizing) keeps no spans:
/// each goes straight into the row's summary grid, so summarizing a
/// generation holds a few buckets per row instead of every span. One made
/// [`windowed`](RowBuilder::windowed) keeps only the spans that touch its
/// window (and summarizes every span, if given a grid).
#[derive(Default)]
pub(crate) struct RowBuilder {
    spans: Row,
    origins: Vec<OriginId>,
    /// Start and end of the last span kept.
    last: Option<(i64, i64)>,
    /// Boxed: a grid is over 200 bytes (its current bucket inline), and a
    /// detail build, which often makes none, holds a row builder for each
    /// of a generation's goroutines; boxed, a window's decode of the 1 GB
    /// benchmark trace holds half the bytes per goroutine (216, was 432) and
    /// browsing peaks ~10 MB lower, while summarizing takes no longer.
    grid: Option<Box<Grid>>,
    /// The spans kept: those touching it (with a grid and no window, none;
    /// with neither, all).
    window: Option<TimeSpan>,
}

impl RowBuilder {
    /// A builder that sends its spans to `grid` instead of keeping them.
    pub(crate) fn summarizing(grid: Grid) -> RowBuilder {
        RowBuilder {
            grid: Some(Box::new(grid)),
            ..RowBuilder::default()
        }
    }

    /// A builder that keeps the spans that touch `window` (start or end in
    /// it, or cover it) and sends every span to `grid`, if given.
    pub(crate) fn windowed(grid: Option<Grid>, window: TimeSpan) -> RowBuilder {
        RowBuilder {
            grid: grid.map(Box::new),
            window: Some(window),
            ..RowBuilder::default()
        }
    }

    /// Appends a span of `(kind, value)` over `[start, end)` after the
    /// spans so far, begun by the event of `origin` (`None` when the row
    /// keeps no origins: a summary-only build). Inlined: see
    /// `model::build`'s note on speed.
    #[inline(always)]
    pub(crate) fn push_from(
        &mut self,
        (start, end): (i64, i64),
        (kind, value): (SpanKind, u32),
        origin: Option<OriginId>,
        splits: &mut Splits,
    ) {
        let mut start = start;
        if let Some((prev_start, prev_end)) = self.last {
            if end < prev_end || (end == prev_end && start < prev_start) {
                return;
            }
            start = start.max(prev_end.min(end));
        }
        // Summarizing, the span goes straight to the grid, whatever its
        // length (the hot path of a summary-only build). With a grid or a
        // window, it is kept only if it touches the window.
        if let Some(grid) = &mut self.grid {
            grid.add_range(start, end, kind);
        }
        let kept = match self.window {
            Some(window) => window.touches((start, end)),
            None => self.grid.is_none(),
        };
        if !kept {
            self.last = Some((start, end));
            return;
        }
        let mut span = Span::new(start, end, kind, value);
        while span.end() < end {
            self.keep(span, origin);
            if splits.left == 0 {
                splits.cut = true;
                return;
            }
            splits.left -= 1;
            span = span.with_start(span.end(), end);
        }
        self.keep(span, origin);
    }

    fn keep(&mut self, span: Span, origin: Option<OriginId>) {
        self.last = Some((span.start, span.end()));
        self.spans.push(span);
        self.origins.extend(origin);
    }

    /// The finest summary level of the row (its spans laid over `empty`
    /// unless it was summarizing into a grid) and the spans it kept.
    pub(crate) fn split(mut self, empty: Grid) -> (Grid, RowData) {
        let grid = match self.grid.take() {
            Some(grid) => *grid,
            None => empty.with_spans(&self.spans),
        };
        (grid, self.finish())
    }

    /// The row and the origins of its spans, trimmed to their length.
    pub(crate) fn finish(mut self) -> RowData {
        self.spans.shrink_to_fit();
        self.origins.shrink_to_fit();
        RowData {
            spans: self.spans,
            origins: self.origins,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_packs_kind_and_value() {
        let span = Span::new(5, 9, SpanKind::Log, MAX_VALUE + 7);
        assert_eq!(std::mem::size_of::<Span>(), 16);
        assert_eq!(
            (span.kind(), span.value(), span.len(), span.end()),
            (SpanKind::Log, MAX_VALUE, 4, 9)
        );
        for kind in SpanKind::ALL {
            assert_eq!(SpanKind::from_code(kind as u8), kind);
        }
    }

    #[test]
    fn builder_keeps_rows_sorted_and_disjoint() {
        let mut b = RowBuilder::default();
        for (start, end) in [
            (0, 10),
            (5, 20),
            (15, 15),
            (30, 30),
            (30, 30),
            (25, 40),
            (0, 1),
        ] {
            let value = (SpanKind::Waiting, 7);
            b.push_from((start, end), value, Some(0), &mut Splits::default());
        }
        let RowData {
            spans: row,
            origins,
        } = b.finish();
        assert_eq!(origins.len(), row.len());
        let bounds: Vec<(i64, i64)> = row.iter().map(|s| (s.start, s.end())).collect();
        assert_eq!(bounds, [(0, 10), (10, 20), (30, 30), (30, 30), (30, 40)]);
        assert_eq!(visible(&row, TimeSpan::new(20, 30)), 1..2);
        assert_eq!(visible(&row, TimeSpan::new(20, 31)), 1..5);
        assert_eq!(visible(&row, TimeSpan::new(41, 50)), 5..5);
        let mut b = RowBuilder::default();
        let mut splits = Splits::default();
        let span = (0, 10_000_000_000);
        b.push_from(span, (SpanKind::Waiting, 1), Some(9), &mut splits);
        let RowData {
            spans: long,
            origins,
        } = b.finish();
        assert_eq!(origins, [9, 9, 9], "every piece keeps the origin");
        assert_eq!(long.len(), 3, "split into pieces of at most 2³² ns");
        assert_eq!(
            (long[0].start, long[2].end(), long[2].value()),
            (0, 10_000_000_000, 1)
        );
        assert!(!splits.cut);
    }

    #[test]
    fn damaged_times_split_spans_only_as_far_as_the_budget() {
        // Years across a jump of damaged timestamps: billions of pieces.
        let years = (0, i64::MAX / 2);
        let mut splits = Splits::default();
        let mut rows: Vec<RowBuilder> = (0..4).map(|_| RowBuilder::default()).collect();
        for row in &mut rows {
            row.push_from(years, (SpanKind::Waiting, 1), Some(0), &mut splits);
        }
        assert!(splits.cut);
        let pieces: usize = rows.into_iter().map(|r| r.finish().spans.len()).sum();
        assert_eq!(pieces, MAX_SPLITS + 4, "the budget, and one piece a row");

        // A summary takes the whole span in its grid, unsplit.
        let basis = TimeSpan::new(0, 1_000_000_000);
        let mut row = RowBuilder::summarizing(Grid::finest(basis, 32));
        row.push_from(years, (SpanKind::Waiting, 1), None, &mut Splits::default());
        let _ = row.split(Grid::finest(basis, 32)).0.at_most(years.1, 32);
    }
}
