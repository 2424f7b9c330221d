//! Plots: step functions over time (heap, goroutine counts, GOMAXPROCS).
//!
//! A series is a list of [`PlotPoint`]s sorted by time; each point carries
//! the minimum, maximum and last value over an interval, and the last value
//! holds until the next point. A decoded generation keeps one point per
//! [`DETAIL_SHIFT`]-sized bucket ([`SeriesBuilder`]: goroutine counts
//! change at almost every event, and per-event points would cost as much as
//! the spans); its summary keeps one per ~1/1000 of the generation
//! ([`downsample`]). Drawing merges the points that fall into one pixel
//! column ([`columns`]), so a frame costs one step per point in view.

use std::ops::Range;

use super::timeline::TimeSpan;

/// Finest plot resolution in a generation's detail: 2^14 ns ≈ 16 µs
/// buckets. Finer costs memory on busy traces (up to four goroutine-count
/// points per bucket) for a resolution no one reads off a plot; coarser
/// would blur the heap's sawtooth at deep zoom.
const DETAIL_SHIFT: u32 = 14;

/// A plotted quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Series {
    /// Bytes of heap objects in use (`/memory/classes/heap/objects:bytes`).
    HeapAlloc,
    /// The heap size at which the next GC starts (`/gc/heap/goal:bytes`).
    HeapGoal,
    /// GOMAXPROCS.
    Gomaxprocs,
    /// Goroutines running.
    Running,
    /// Goroutines runnable.
    Runnable,
    /// Goroutines waiting.
    Waiting,
    /// Goroutines in a system call.
    Syscall,
}

/// A series' values over an interval starting at `t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlotPoint {
    /// Start of the interval (the time of the first value in it).
    pub t: i64,
    /// Smallest value in the interval.
    pub min: i64,
    /// Largest value in the interval.
    pub max: i64,
    /// Value at the end of the interval, in effect until the next point.
    pub last: i64,
}

impl PlotPoint {
    fn at(t: i64, value: i64) -> PlotPoint {
        PlotPoint {
            t,
            min: value,
            max: value,
            last: value,
        }
    }

    fn absorb(&mut self, next: &PlotPoint) {
        self.min = self.min.min(next.min);
        self.max = self.max.max(next.max);
        self.last = next.last;
    }
}

/// Collects a series while a generation is built, one point per
/// [`DETAIL_SHIFT`] bucket.
#[derive(Default)]
pub(crate) struct SeriesBuilder {
    points: Vec<PlotPoint>,
}

impl SeriesBuilder {
    /// The series takes `value` at `t` (not before the previous time).
    pub(crate) fn push(&mut self, t: i64, value: i64) {
        let next = PlotPoint::at(t, value);
        match self.points.last_mut() {
            Some(prev) if prev.t >> DETAIL_SHIFT == t >> DETAIL_SHIFT => prev.absorb(&next),
            _ => self.points.push(next),
        }
    }

    /// Starts the series with 0 at `start` unless it has a value there
    /// (for counts, which are 0 until something is counted).
    pub(crate) fn zero_at(&mut self, start: i64) {
        if self.points.first().is_none_or(|p| p.t > start) {
            self.points.insert(0, PlotPoint::at(start, 0));
        }
    }

    /// The series, every value raised by `offset`.
    pub(crate) fn finish(mut self, offset: i64) -> Vec<PlotPoint> {
        for p in &mut self.points {
            p.min += offset;
            p.max += offset;
            p.last += offset;
        }
        self.points.shrink_to_fit();
        self.points
    }
}

/// Merges the points of `series` into buckets of `width` ns aligned to
/// `span.start`: at most one point per bucket.
pub(crate) fn downsample(series: &[PlotPoint], span: TimeSpan, width: i64) -> Vec<PlotPoint> {
    let width = width.max(1);
    let bucket = |t: i64| (t - span.start).div_euclid(width);
    let mut out: Vec<PlotPoint> = Vec::new();
    for p in series {
        match out.last_mut() {
            Some(prev) if bucket(prev.t) == bucket(p.t) => prev.absorb(p),
            _ => out.push(*p),
        }
    }
    out.shrink_to_fit();
    out
}

/// Where in `series` the points that matter over `span` are: the one in
/// effect at its start and those in it.
fn in_effect(series: &[PlotPoint], span: TimeSpan) -> Range<usize> {
    let first = series
        .partition_point(|p| p.t <= span.start)
        .saturating_sub(1);
    first..series.partition_point(|p| p.t < span.end).max(first)
}

/// Keeps only the points of `series` that matter over `window` (see
/// [`in_effect`]).
pub(crate) fn clip(series: &mut Vec<PlotPoint>, window: TimeSpan) {
    let kept = in_effect(series, window);
    series.truncate(kept.end);
    series.drain(..kept.start);
    series.shrink_to_fit();
}

/// Appends to `out` the pixel columns of `series` over `part` (a part of
/// the view starting at `part.start`, the view's pixel grid starting at
/// `origin`) at `ns_per_px`: the point in effect at the part's start (moved
/// to it) and every point in the part, those sharing a column merged. A
/// first point that falls in the column of `out`'s last point merges with
/// it, so the parts of consecutive generations can be appended in order.
pub(crate) fn columns(
    series: &[PlotPoint],
    part: TimeSpan,
    origin: i64,
    ns_per_px: f64,
    out: &mut Vec<PlotPoint>,
) {
    let per_px = ns_per_px.max(1e-9);
    let inverse = 1.0 / per_px;
    let column = |t: i64| floor((t - origin) as f64 * inverse);
    for p in series.get(in_effect(series, part)).unwrap_or_default() {
        let p = PlotPoint {
            t: p.t.max(part.start),
            ..*p
        };
        match out.last_mut() {
            Some(prev) if column(prev.t) == column(p.t) => prev.absorb(&p),
            _ => out.push(p),
        }
    }
}

/// `x.floor() as i64` without a call into libm (targets without SSE4.1
/// have no floor instruction, and this runs for every plotted point).
fn floor(x: f64) -> i64 {
    let truncated = x as i64;
    if (truncated as f64) > x {
        truncated - 1
    } else {
        truncated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(values: &[(i64, i64)]) -> Vec<PlotPoint> {
        values.iter().map(|&(t, v)| PlotPoint::at(t, v)).collect()
    }

    #[test]
    fn building_merges_a_bucket_and_adds_the_offset() {
        let mut b = SeriesBuilder::default();
        for (t, v) in [(0, 1), (5, 3), (1 << DETAIL_SHIFT, 2)] {
            b.push(t, v);
        }
        let got: Vec<_> = b
            .finish(10)
            .iter()
            .map(|p| (p.t, p.min, p.max, p.last))
            .collect();
        assert_eq!(got, [(0, 11, 13, 13), (1 << DETAIL_SHIFT, 12, 12, 12)]);
    }

    #[test]
    fn downsampling_keeps_extremes_and_last() {
        let s = steps(&[(0, 5), (3, 9), (4, 1), (10, 2), (25, 7)]);
        let d = downsample(&s, TimeSpan::new(0, 30), 10);
        let expect = [(0, 1, 9, 1), (10, 2, 2, 2), (25, 7, 7, 7)];
        let got: Vec<_> = d.iter().map(|p| (p.t, p.min, p.max, p.last)).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn clipping_keeps_the_value_in_effect_and_the_window() {
        let mut s = steps(&[(0, 5), (3, 9), (12, 1), (13, 4), (40, 2)]);
        clip(&mut s, TimeSpan::new(10, 30));
        let got: Vec<_> = s.iter().map(|p| (p.t, p.last)).collect();
        assert_eq!(got, [(3, 9), (12, 1), (13, 4)]);
        let mut s = steps(&[(20, 5)]);
        clip(&mut s, TimeSpan::new(0, 10));
        assert!(s.is_empty(), "nothing in effect yet");
    }

    #[test]
    fn columns_start_with_the_value_in_effect() {
        let s = steps(&[(0, 5), (3, 9), (12, 1), (13, 4), (40, 2)]);
        let mut out = Vec::new();
        columns(&s, TimeSpan::new(10, 30), 10, 10.0, &mut out);
        let got: Vec<_> = out.iter().map(|p| (p.t, p.min, p.max, p.last)).collect();
        assert_eq!(got, [(10, 1, 9, 4)]);
        columns(
            &steps(&[(25, 3)]),
            TimeSpan::new(22, 30),
            10,
            10.0,
            &mut out,
        );
        assert_eq!(out.len(), 2);
        columns(
            &steps(&[(29, 8)]),
            TimeSpan::new(29, 30),
            10,
            10.0,
            &mut out,
        );
        assert_eq!(
            (out.len(), out[1].max, out[1].last),
            (2, 8, 8),
            "same column as the previous part"
        );
    }
}
