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
        let guess = estimate(tail, span.start, window_end);
        let mut j = i + 1 + search_from(tail, guess, |s| s.start < window_end);
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

/// Where in `tail` (the spans after one starting at `from`) the first span
/// starting at or after `to` probably is, assuming the spans are spread
/// evenly up to the last one: a fold over thousands of spans then costs a
/// few probes near the answer instead of a search across the whole run,
/// whose every probe would miss the cache.
fn estimate(tail: &[Span], from: i64, to: i64) -> usize {
    let Some(last) = tail.last() else { return 0 };
    let spread = (last.start - from).max(1) as f64;
    let share = ((to - from) as f64 / spread).clamp(0.0, 1.0);
    (share * tail.len() as f64) as usize
}

/// `slice.partition_point(pred)`, searched outward from `guess`: galloping
/// forward when the answer lies after it, backward when before, so a good
/// guess costs a few probes in the same cache lines.
fn search_from(slice: &[Span], guess: usize, pred: impl Fn(&Span) -> bool) -> usize {
    let guess = guess.min(slice.len());
    match slice.get(guess) {
        Some(s) if pred(s) => {
            let after = slice.get(guess + 1..).unwrap_or_default();
            guess + 1 + gallop(after, pred)
        }
        _ => {
            // The answer is at or before `guess`: find a probe that holds.
            let mut high = guess;
            let mut step = 1;
            while high > 0 {
                let probe = high.saturating_sub(step);
                if slice.get(probe).is_some_and(&pred) {
                    let window = slice.get(probe + 1..high).unwrap_or_default();
                    return probe + 1 + window.partition_point(pred);
                }
                high = probe;
                step *= 2;
            }
            0
        }
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
    fn searching_from_any_guess_finds_the_partition_point() {
        let r: Vec<Span> = (0..300i64)
            .map(|i| Span::new(i * i, i * i + 1, SpanKind::Running, 0))
            .collect();
        for to in [-5, 0, 1, 7, 1000, 40_000, 89_401, 200_000] {
            let pred = |s: &Span| s.start < to;
            let want = r.partition_point(pred);
            for guess in [0, 1, 5, 150, 299, 300, 10_000] {
                assert_eq!(search_from(&r, guess, pred), want, "to {to} guess {guess}");
            }
            let guess = estimate(&r, -1, to);
            assert_eq!(search_from(&r, guess, pred), want, "estimate for {to}");
        }
        assert_eq!(search_from(&[], 3, |_| true), 0);
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
