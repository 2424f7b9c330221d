//! Generation bands before any decoding: each generation's time range from
//! the index alone, so the first frame shows the whole run.
//!
//! The index knows each generation's smallest and largest batch timestamps
//! and its tick frequency, and converts them to nanoseconds exactly as the
//! decoder does ([`GenerationIndex::time_range`]), so a band's start is the
//! time of the generation's first event. A band ends where the next one
//! starts (the last at its largest batch timestamp); the worker replaces each
//! band by the exact range once the generation is decoded. A generation
//! without a frequency (a damaged one) gets an empty band at the end of the
//! previous one.
//!
//! [`GenerationIndex::time_range`]: crate::trace::index::GenerationIndex::time_range

use crate::model::TimeSpan;
use crate::trace::index::TraceIndex;

/// Each generation's estimated time range, in index order.
pub(crate) fn estimate(index: &TraceIndex) -> Vec<TimeSpan> {
    let mut previous_end = 0;
    let ranges: Vec<(i64, i64)> = index
        .generations
        .iter()
        .map(|g| {
            let range = g.time_range().unwrap_or((previous_end, previous_end));
            previous_end = range.1;
            range
        })
        .collect();
    ranges
        .iter()
        .enumerate()
        .map(|(i, &(start, last))| {
            let end = ranges.get(i + 1).map_or(last, |next| next.0);
            TimeSpan::new(start, end.max(start))
        })
        .collect()
}
