//! A log-scaled histogram of durations, in constant memory per octave.
//!
//! Latencies span nine or more orders of magnitude (a nanosecond of
//! scheduling delay next to a goroutine blocked for minutes), so equal-width
//! bins are useless and keeping every value is what we want to avoid. The
//! scheme is the one of HdrHistogram with three bits of precision:
//!
//! - durations `0..8` ns each get a bin of their own (bins 0 to 7);
//! - above that, every power-of-two octave `[2^e, 2^(e+1))`, `e >= 3`, is cut
//!   into 8 equal sub-bins, bin `8 * (e - 2) + m` where `m` is the three bits
//!   after the leading one.
//!
//! A bin is therefore at most 1/8 (12.5 %) as wide as its lower bound, which
//! bounds the error of any quantile read from it, and the whole range of
//! positive `i64` needs 488 bins. Counts live in a vector that only grows up to
//! the largest bin seen.

use crate::trace::Time;

/// Sub-bins per octave, as a power of two.
const PRECISION_BITS: u32 = 3;
/// Sub-bins per octave.
const SUB_BINS: u64 = 1 << PRECISION_BITS;

/// Counts of durations in log-scaled bins, with exact count, sum, min and max.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogHistogram {
    counts: Vec<u64>,
    count: u64,
    sum: i128,
    min: Time,
    max: Time,
}

/// One non-empty bin: durations in `lo..hi` nanoseconds, and how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bin {
    /// Smallest duration in the bin.
    pub lo: Time,
    /// One past the largest duration in the bin.
    pub hi: Time,
    /// Durations counted.
    pub count: u64,
}

impl LogHistogram {
    /// Counts one duration; negative durations count as zero.
    pub fn add(&mut self, duration: Time) {
        let d = duration.max(0);
        let bin = bin_of(d as u64);
        if self.counts.len() <= bin {
            self.counts.resize(bin + 1, 0);
        }
        self.counts[bin] += 1;
        if self.count == 0 || d < self.min {
            self.min = d;
        }
        self.max = self.max.max(d);
        self.count += 1;
        self.sum += i128::from(d);
    }

    /// Adds every duration `other` counted.
    pub(crate) fn merge(&mut self, other: &LogHistogram) {
        if other.count == 0 {
            return;
        }
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        if self.count == 0 || other.min < self.min {
            self.min = other.min;
        }
        self.max = self.max.max(other.max);
        self.count += other.count;
        self.sum += other.sum;
    }

    /// Number of durations counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of all durations.
    pub fn sum(&self) -> i128 {
        self.sum
    }

    /// Shortest duration (0 when empty).
    pub fn min(&self) -> Time {
        self.min
    }

    /// Longest duration (0 when empty).
    pub fn max(&self) -> Time {
        self.max
    }

    /// The non-empty bins, shortest first.
    pub fn bins(&self) -> impl Iterator<Item = Bin> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(i, &count)| {
                let (lo, hi) = bin_bounds(i);
                Bin { lo, hi, count }
            })
    }

    /// An upper bound of the `q`-quantile (`0.0..=1.0`): the end of the bin
    /// holding it, capped by the exact maximum. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<Time> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for bin in self.bins() {
            seen += bin.count;
            if seen >= rank {
                return Some((bin.hi - 1).min(self.max));
            }
        }
        Some(self.max)
    }
}

/// The bin of a duration.
fn bin_of(d: u64) -> usize {
    if d < SUB_BINS {
        return d as usize;
    }
    let e = u64::from(63 - d.leading_zeros());
    let m = (d >> (e - u64::from(PRECISION_BITS))) & (SUB_BINS - 1);
    (SUB_BINS * (e - 2) + m) as usize
}

/// The durations `lo..hi` a bin holds.
fn bin_bounds(bin: usize) -> (Time, Time) {
    let b = bin as u64;
    if b < SUB_BINS {
        return (b as Time, b as Time + 1);
    }
    let e = b / SUB_BINS + 2;
    let m = b % SUB_BINS;
    let shift = e - u64::from(PRECISION_BITS);
    let lo = (SUB_BINS + m) << shift;
    let hi = lo.saturating_add(1 << shift).min(i64::MAX as u64);
    (lo as Time, hi as Time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_tile_the_range_without_gaps() {
        let mut expected_lo = 0;
        for bin in 0..488 {
            let (lo, hi) = bin_bounds(bin);
            assert_eq!(lo, expected_lo, "bin {bin}");
            assert!(hi > lo);
            assert_eq!(bin_of(lo as u64), bin);
            assert_eq!(bin_of(hi as u64 - 1), bin);
            // Relative width at most 1/8 above the exact bins.
            if bin >= 8 {
                assert!((hi - lo) * 8 <= lo, "bin {bin}: {lo}..{hi}");
            }
            expected_lo = hi;
        }
        assert_eq!(bin_of(i64::MAX as u64), 487);
    }

    #[test]
    fn counts_and_quantiles() {
        let mut h = LogHistogram::default();
        assert_eq!(h.quantile(0.5), None);
        for d in [5, 100, 1000, 1000, 1_000_000] {
            h.add(d);
        }
        assert_eq!(
            (h.count(), h.sum(), h.min(), h.max()),
            (5, 1_002_105, 5, 1_000_000)
        );
        assert_eq!(h.quantile(0.0), Some(5));
        // The median is 1000, in the bin [960, 1024).
        assert_eq!(h.quantile(0.5), Some(1023));
        assert_eq!(h.quantile(1.0), Some(1_000_000));
        let bins: Vec<Bin> = h.bins().collect();
        assert_eq!(bins.len(), 4);
        assert_eq!(
            bins[0],
            Bin {
                lo: 5,
                hi: 6,
                count: 1
            }
        );
        assert_eq!(bins[2].count, 2);
    }

    #[test]
    fn merging_equals_counting_together() {
        let (mut a, mut b, mut both) = Default::default();
        for d in [3, 700, 9_000] {
            LogHistogram::add(&mut a, d);
            LogHistogram::add(&mut both, d);
        }
        for d in [1, 5_000_000] {
            LogHistogram::add(&mut b, d);
            LogHistogram::add(&mut both, d);
        }
        let mut merged: LogHistogram = a.clone();
        merged.merge(&b);
        assert_eq!(merged, both);
        merged.merge(&LogHistogram::default());
        assert_eq!(merged, both);
        let mut empty = LogHistogram::default();
        empty.merge(&a);
        assert_eq!(empty, a);
    }
}
