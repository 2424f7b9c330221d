//! Generation bands before any decoding: each generation's time range from
//! the index alone, so the first frame shows the whole run.
//!
//! The index has each generation's smallest and largest batch timestamps in
//! clock ticks; converting them needs the generation's tick frequency, which
//! sits in its one small sync batch. This reads just that varint (a few
//! bytes per generation, without preparing the generation's tables) and
//! converts ticks the way the decoder does, so a band's start is exactly
//! the time of the generation's first event. A band ends where the next one
//! starts (the last at its largest batch timestamp); the worker replaces
//! each band by the exact range once the generation is decoded.
//!
//! This duplicates a few lines of the format that belong to `trace`: a
//! `GenerationIndex` method giving the range in nanoseconds would replace it.

use crate::model::TimeSpan;
use crate::trace::index::TraceIndex;
use crate::trace::tracev2::EventType;
use crate::trace::version::Version;
use crate::trace::{BatchKind, BatchRef};

/// Each generation's estimated time range, in index order.
pub(crate) fn estimate(index: &TraceIndex, data: &[u8]) -> Vec<TimeSpan> {
    let mut ns_per_tick = 1.0;
    let ranges: Vec<(i64, i64)> = index
        .generations
        .iter()
        .map(|g| {
            if let Some(f) = g
                .batches
                .iter()
                .find_map(|b| frequency(b, data, index.version))
            {
                ns_per_tick = 1.0 / (f as f64 / 1e9);
            }
            let ns = |ticks: u64| (ticks as f64 * ns_per_tick) as i64;
            (ns(g.min_ts), ns(g.max_batch_ts))
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

/// The ticks per second in a sync batch.
fn frequency(batch: &BatchRef, data: &[u8], version: Version) -> Option<u64> {
    if batch.kind != BatchKind::Sync {
        return None;
    }
    let body = data.get(batch.data.clone())?;
    // From Go 1.25 the body starts with a header byte, then events follow.
    let mut rest = body.get(usize::from(version >= Version::Go125)..)?;
    while let Some((&typ, after)) = rest.split_first() {
        let skip = match EventType(typ) {
            EventType::FREQUENCY => return uvarint(after).map(|(f, _)| f).filter(|&f| f > 0),
            EventType::CLOCK_SNAPSHOT => 4,
            _ => return None,
        };
        rest = after;
        for _ in 0..skip {
            let (_, n) = uvarint(rest)?;
            rest = rest.get(n..)?;
        }
    }
    None
}

/// An unsigned LEB128 varint and its length.
fn uvarint(buf: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    for (i, &b) in buf.iter().enumerate().take(10) {
        x |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Some((x, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(uvarint(&[0x96, 0x01, 7]), Some((150, 2)));
        assert_eq!(uvarint(&[0x80]), None);
    }
}
