//! Per-M cursors over event batches, and the min-heap that merges them.
//!
//! Each M's batches hold its events in the order it emitted them, with
//! timestamps as deltas from the batch's base time. A cursor decodes one
//! event at a time (lazily, so a generation's events never all sit in
//! memory at once) and the reader keeps the cursors in a min-heap keyed by
//! the time of their next event. The heap operations reproduce Go's exactly,
//! because which of two cursors with equal times comes out first decides the
//! order of equal-time events.

use super::base::{Frequency, Time};
use super::batch::{BatchRef, uvarint};
use super::error::{Result, trace_err};
use super::order::MRef;
use super::sort::sort_like_go;
use super::tracev2::{self, EventType};

/// Most arguments after the timestamp of any timed event.
pub(crate) const MAX_ARGS: usize = tracev2::MAX_TIMED_EVENT_ARGS - 1;

/// A decoded timed event: type, absolute time and raw arguments (some of
/// which the ordering rewrites, as Go's does, to carry derived data).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BaseEvent {
    pub(crate) typ: EventType,
    pub(crate) time: Time,
    pub(crate) args: [u64; MAX_ARGS],
}

/// A cursor over the event batches of one M.
#[derive(Clone, Debug)]
pub(crate) struct BatchCursor<'a> {
    /// The thread, as the ordering refers to it.
    pub(crate) m: MRef,
    data: &'a [u8],
    /// Batches after the current one.
    batches: &'a [BatchRef],
    /// Undecoded rest of the current batch body.
    rest: &'a [u8],
    /// Base time (ticks) and body end offset of the current batch.
    batch_time: u64,
    batch_end: usize,
    last_ts: Time,
    /// The event the cursor points at.
    pub(crate) ev: BaseEvent,
}

impl<'a> BatchCursor<'a> {
    pub(crate) fn new(m: MRef, data: &'a [u8], batches: &'a [BatchRef]) -> BatchCursor<'a> {
        BatchCursor {
            m,
            data,
            batches,
            rest: &[],
            batch_time: 0,
            batch_end: 0,
            last_ts: 0,
            ev: BaseEvent::default(),
        }
    }

    /// Decodes the next event into `self.ev`; `false` at the end.
    #[inline]
    pub(crate) fn next_event(&mut self, freq: Frequency) -> Result<bool> {
        while self.rest.is_empty() {
            let Some((b, tail)) = self.batches.split_first() else {
                return Ok(false);
            };
            self.batches = tail;
            self.rest = self.data.get(b.data.clone()).unwrap_or_default();
            self.batch_time = b.time;
            self.batch_end = b.data.end;
            self.last_ts = 0;
        }
        if self.last_ts == 0 {
            self.last_ts = freq.mul(self.batch_time);
        }
        let (n, dt) = read_timed_event(self.rest, &mut self.ev)
            .map_err(|e| e.at_offset(self.batch_end - self.rest.len()))?;
        self.ev.time = freq.mul(dt).wrapping_add(self.last_ts);
        self.last_ts = self.ev.time;
        self.rest = &self.rest[n..];
        Ok(true)
    }
}

/// Decodes the timed event at the start of `b` (non-empty) into `e`,
/// returning its length and timestamp delta in ticks.
#[inline]
fn read_timed_event(b: &[u8], e: &mut BaseEvent) -> Result<(usize, u64)> {
    let typ = EventType(b[0]);
    let Some(spec) = tracev2::specs().get(typ.index()) else {
        return Err(trace_err!("found invalid event type: {}", typ.0));
    };
    if spec.args.is_empty() || !spec.is_timed {
        return Err(trace_err!(
            "found event without a timestamp: type={}",
            typ.0
        ));
    }
    e.typ = typ;
    let mut n = 1;
    let Some((dt, nb)) = uvarint(&b[n..]) else {
        return Err(trace_err!("found invalid uvarint for timestamp"));
    };
    n += nb;
    for slot in e.args.iter_mut().take(spec.args.len() - 1) {
        let Some((v, nb)) = uvarint(&b[n..]) else {
            return Err(trace_err!("found invalid uvarint"));
        };
        *slot = v;
        n += nb;
    }
    Ok((n, dt))
}

/// The cursors of a generation, in a min-heap keyed by the time of their
/// next event. The heap holds indices; its operations replicate Go's heap
/// step for step, because the arrangement decides which of two cursors with
/// equal times is offered first.
pub(crate) struct Frontier<'a> {
    pub(crate) cursors: Vec<BatchCursor<'a>>,
    pub(crate) heap: Vec<u32>,
}

impl<'a> Frontier<'a> {
    pub(crate) fn new() -> Frontier<'a> {
        Frontier {
            cursors: Vec::new(),
            heap: Vec::new(),
        }
    }

    #[inline]
    fn time(&self, i: usize) -> Time {
        self.cursors[self.heap[i] as usize].ev.time
    }

    /// The cursor at heap position `i`.
    #[inline]
    pub(crate) fn at(&mut self, i: usize) -> &mut BatchCursor<'a> {
        &mut self.cursors[self.heap[i] as usize]
    }

    /// Time of the earliest next event.
    #[inline]
    pub(crate) fn min_time(&self) -> Option<Time> {
        (!self.heap.is_empty()).then(|| self.time(0))
    }

    /// Adds a cursor.
    pub(crate) fn insert(&mut self, bc: BatchCursor<'a>) {
        self.cursors.push(bc);
        self.heap.push((self.cursors.len() - 1) as u32);
        self.sift_up(self.heap.len() - 1);
    }

    /// Restores the heap after the cursor at position `i` moved on.
    #[inline]
    pub(crate) fn update(&mut self, i: usize) {
        if self.sift_up(i) != i {
            return;
        }
        self.sift_down(i);
    }

    /// Removes the cursor at position `i`.
    pub(crate) fn remove(&mut self, mut i: usize) {
        while i > 0 {
            self.heap.swap((i - 1) / 2, i);
            i = (i - 1) / 2;
        }
        let last = self.heap.len() - 1;
        self.heap.swap(0, last);
        self.heap.truncate(last);
        self.sift_down(0);
    }

    /// Sorts the heap by time (a sorted array is still a heap), leaving
    /// equal times in the order Go's `slices.SortFunc` would.
    pub(crate) fn sort(&mut self) {
        let cursors = &self.cursors;
        sort_like_go(&mut self.heap, &|a: &u32, b: &u32| {
            cursors[*a as usize].ev.time < cursors[*b as usize].ev.time
        });
    }

    #[inline]
    fn sift_up(&mut self, mut i: usize) -> usize {
        while i > 0 && self.time((i - 1) / 2) > self.time(i) {
            self.heap.swap((i - 1) / 2, i);
            i = (i - 1) / 2;
        }
        i
    }

    #[inline]
    fn sift_down(&mut self, mut i: usize) {
        loop {
            let mut m = i;
            let mut min_t = if i < self.heap.len() {
                self.time(i)
            } else {
                Time::MAX
            };
            for c in [2 * i + 1, 2 * i + 2] {
                if c < self.heap.len() && self.time(c) < min_t {
                    min_t = self.time(c);
                    m = c;
                }
            }
            if m == i {
                return;
            }
            self.heap.swap(i, m);
            i = m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::order::Ordering;
    use crate::trace::version::Version;

    fn cursor(m: MRef, t: Time) -> BatchCursor<'static> {
        let mut c = BatchCursor::new(m, &[], &[]);
        c.ev.time = t;
        c
    }

    #[test]
    fn heap_keeps_minimum_on_top() {
        let m = Ordering::new(Version::Go126).thread(1);
        let mut f = Frontier::new();
        for t in [5, 3, 9, 1, 7] {
            f.insert(cursor(m, t));
        }
        assert_eq!(f.min_time(), Some(1));
        f.at(0).ev.time = 8;
        f.update(0);
        assert_eq!(f.min_time(), Some(3));
        f.remove(0);
        assert_eq!(f.min_time(), Some(5));
        assert_eq!(f.heap.len(), 4);
        f.sort();
        let times: Vec<Time> = (0..4).map(|i| f.time(i)).collect();
        assert_eq!(times, [5, 7, 8, 9]);
    }

    #[test]
    fn decodes_events_with_go_errors() {
        let data = [16u8, 2, 7, 1, 11, 0x80];
        let batches = [BatchRef {
            m: 1,
            time: 10,
            exp: tracev2::Experiment::NONE,
            kind: crate::trace::batch::BatchKind::Events,
            offset: 0,
            data: 0..6,
        }];
        let freq = Frequency(1.0);
        let m = Ordering::new(Version::Go126).thread(1);
        let mut c = BatchCursor::new(m, &data, &batches);
        assert!(c.next_event(freq).unwrap());
        assert_eq!(
            (c.ev.typ, c.ev.time, c.ev.args[0], c.ev.args[1]),
            (EventType::GO_START, 12, 7, 1)
        );
        let err = c.next_event(freq).err().unwrap();
        assert_eq!(err.message(), "found invalid uvarint for timestamp");
        assert_eq!(err.offset(), Some(4));
        let mut e = BaseEvent::default();
        assert_eq!(
            read_timed_event(&[5], &mut e).err().unwrap().message(),
            "found event without a timestamp: type=5"
        );
        assert_eq!(
            read_timed_event(&[200], &mut e).err().unwrap().message(),
            "found invalid event type: 200"
        );
    }
}
