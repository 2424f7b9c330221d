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
pub(crate) struct RowData {
    pub(crate) spans: Row,
    /// The origin of each span (same index).
    pub(crate) origins: Vec<OriginId>,
}

/// Builds a [`Row`], keeping its invariant: a span that starts before the
/// previous one ends (which a well-formed trace never produces) is clipped
/// to start there, and dropped if nothing is left. Spans longer than a
/// [`Span`] can hold are split (each piece keeping the origin).
///
/// A builder made [`summarizing`](RowBuilder::summarizing) keeps no spans:
/// each goes straight into the row's summary grid, so summarizing a
/// generation holds a few buckets per row instead of every span.
#[derive(Default)]
pub(crate) struct RowBuilder {
    spans: Row,
    origins: Vec<OriginId>,
    /// Start and end of the last span kept.
    last: Option<(i64, i64)>,
    grid: Option<Grid>,
}

impl RowBuilder {
    /// A builder that sends its spans to `grid` instead of keeping them.
    pub(crate) fn summarizing(grid: Grid) -> RowBuilder {
        RowBuilder {
            grid: Some(grid),
            ..RowBuilder::default()
        }
    }

    /// Appends `span` over `[start, end)` after the spans so far, with no
    /// known origin.
    pub(crate) fn push(&mut self, start: i64, end: i64, kind: SpanKind, value: u32) {
        self.push_from(start, end, (kind, value), Some(0));
    }

    /// Appends a span of `(kind, value)` over `[start, end)` after the
    /// spans so far, begun by the event of `origin` (`None` when the row
    /// keeps no origins: a summary-only build).
    pub(crate) fn push_from(
        &mut self,
        start: i64,
        end: i64,
        (kind, value): (SpanKind, u32),
        origin: Option<OriginId>,
    ) {
        let mut start = start;
        if let Some((prev_start, prev_end)) = self.last {
            if end < prev_end || (end == prev_end && start < prev_start) {
                return;
            }
            start = start.max(prev_end.min(end));
        }
        // Summarizing, a span a `Span` can hold goes straight to the grid
        // (the hot path of a summary-only build).
        if let Some(grid) = &mut self.grid
            && end - start <= i64::from(u32::MAX)
        {
            self.last = Some((start, end));
            grid.add_range(start, end, kind);
            return;
        }
        let mut span = Span::new(start, end, kind, value);
        while span.end() < end {
            self.keep(span, origin);
            span = span.with_start(span.end(), end);
        }
        self.keep(span, origin);
    }

    fn keep(&mut self, span: Span, origin: Option<OriginId>) {
        self.last = Some((span.start, span.end()));
        match &mut self.grid {
            Some(grid) => grid.add(&span),
            None => {
                self.spans.push(span);
                self.origins.extend(origin);
            }
        }
    }

    /// The finest summary level of the row: the grid it was summarizing
    /// into, or else its spans laid over `empty`.
    pub(crate) fn into_grid(self, empty: Grid) -> Grid {
        match self.grid {
            Some(grid) => grid,
            None => empty.with_spans(&self.spans),
        }
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
            b.push(start, end, SpanKind::Waiting, 7);
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
        b.push_from(0, 10_000_000_000, (SpanKind::Waiting, 1), Some(9));
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
    }
}
