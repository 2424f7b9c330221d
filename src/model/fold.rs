//! Folding: what a row looks like when many spans share a pixel.
//!
//! Zoomed out on full detail, a P lane can have a million spans in view;
//! drawing each would cost seconds and show nothing more than a smear. As in
//! Tracy, runs of spans narrower than a few pixels are drawn as one "N spans"
//! block. The walk never looks at the spans inside a block: from a narrow
//! span starting at `s`, one binary search finds every span starting before
//! `s + threshold` and the block ends where the last of them ends (rows are
//! non-overlapping, so that span ends last). Only the last span of the window
//! can be wide (the others end before their successor starts, inside the
//! window); it is left out of the block and drawn on its own.
//!
//! Every item but the last starts at least `threshold` after the previous
//! one, or is itself at least `threshold` wide, so a view of `w` pixels
//! yields at most about `w / min_px` items, each found in `O(log n)`.

use super::span::{Span, visible};
use super::timeline::TimeSpan;

/// One thing to draw: `count` consecutive spans of a row from `first`; a
/// single span when `count == 1`, a fold block otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Folded {
    /// Index of the first span.
    pub(crate) first: usize,
    /// Number of spans drawn as this item.
    pub(crate) count: usize,
}

/// Calls `out` with the items that draw `row` over `view`, where spans
/// narrower than `threshold_ns` are folded with their neighbours.
pub(crate) fn fold(row: &[Span], view: TimeSpan, threshold_ns: i64, mut out: impl FnMut(Folded)) {
    let threshold = threshold_ns.max(1);
    let range = visible(row, view);
    let mut i = range.start;
    while i < range.end {
        let Some(span) = row.get(i) else { return };
        if span.len() >= threshold {
            out(Folded { first: i, count: 1 });
            i += 1;
            continue;
        }
        let window_end = span.start.saturating_add(threshold);
        let tail = row.get(i + 1..range.end).unwrap_or_default();
        let mut j = i + 1 + gallop(tail, |s| s.start < window_end);
        if j > i + 1 && row.get(j - 1).is_some_and(|s| s.len() >= threshold) {
            j -= 1;
        }
        out(Folded {
            first: i,
            count: j - i,
        });
        i = j;
    }
}

/// `slice.partition_point(pred)` by galloping from the front: the answer
/// is usually a few spans ahead, and probing 1, 2, 4, … ahead first keeps
/// the search in cache, where a plain binary search over millions of spans
/// misses the cache on most probes.
fn gallop(slice: &[Span], pred: impl Fn(&Span) -> bool) -> usize {
    let mut below = 0;
    let mut step = 1;
    while slice.get(below + step - 1).is_some_and(&pred) {
        below += step;
        step *= 2;
    }
    let window = slice
        .get(below..(below + step).min(slice.len()))
        .unwrap_or_default();
    below + window.partition_point(pred)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::span::SpanKind;

    fn row(bounds: &[(i64, i64)]) -> Vec<Span> {
        bounds
            .iter()
            .map(|&(a, b)| Span::new(a, b, SpanKind::Running, 0))
            .collect()
    }

    fn items(row: &[Span], view: TimeSpan, threshold: i64) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        fold(row, view, threshold, |f| v.push((f.first, f.count)));
        v
    }

    #[test]
    fn wide_spans_stay_narrow_runs_fold() {
        let r = row(&[
            (0, 100),
            (100, 101),
            (102, 103),
            (104, 105),
            (106, 300),
            (400, 401),
        ]);
        assert_eq!(
            items(&r, TimeSpan::new(0, 1000), 10),
            [(0, 1), (1, 3), (4, 1), (5, 1)]
        );
        assert_eq!(
            items(&r, TimeSpan::new(0, 1000), 1),
            [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]
        );
        assert_eq!(items(&r, TimeSpan::new(150, 350), 10), [(4, 1)]);
    }

    #[test]
    fn a_million_spans_fold_to_one_item_per_threshold() {
        // 1 ns spans every 2 ns over 2 ms, seen on 1000 px with a 4 px threshold.
        let r: Vec<Span> = (0..1_000_000i64)
            .map(|i| Span::new(2 * i, 2 * i + 1, SpanKind::Running, 0))
            .collect();
        let view = TimeSpan::new(0, 2_000_000);
        let ns_per_px = 2_000;
        let got = items(&r, view, 4 * ns_per_px);
        assert!(got.len() <= 1000 / 4 + 1, "{} items", got.len());
        assert_eq!(
            got.iter().map(|&(_, n)| n).sum::<usize>(),
            r.len(),
            "every span is drawn once"
        );
        assert!(
            got.windows(2).all(|w| w[0].0 + w[0].1 == w[1].0),
            "items are consecutive"
        );
    }

    #[test]
    fn galloping_agrees_with_binary_search() {
        let r: Vec<Span> = (0..1000i64)
            .map(|i| Span::new(i * 3, i * 3 + 1, SpanKind::Running, 0))
            .collect();
        for t in [-1, 0, 1, 2, 3, 50, 1000, 2997, 2998, 5000] {
            assert_eq!(
                gallop(&r, |s| s.start < t),
                r.partition_point(|s| s.start < t),
                "{t}"
            );
        }
        assert_eq!(gallop(&[], |_| true), 0);
    }

    #[test]
    fn instants_fold_too() {
        let r = row(&[(5, 5), (5, 5), (6, 6), (50, 50)]);
        assert_eq!(items(&r, TimeSpan::new(0, 100), 10), [(0, 3), (3, 1)]);
    }
}
