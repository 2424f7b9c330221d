//! Per-M cursors over event batches, and the min-heap that merges them.
//!
//! Each M's batches hold its events in the order it emitted them, with
//! timestamps as deltas from the batch's base time. A cursor decodes one
//! event at a time (lazily, so a generation's events never all sit in
//! memory at once) and the reader keeps the cursors in a min-heap keyed by
//! the time of their next event. The heap operations reproduce Go's exactly,
//! because which of two cursors with equal times comes out first decides the
//! order of equal-time events.

use super::base::{Frequency, ThreadId, Time};
use super::batch::{BatchRef, uvarint};
use super::error::{Result, trace_err};
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
pub(crate) struct BatchCursor {
    pub(crate) m: ThreadId,
    /// Index into the generation's per-M batch lists.
    pub(crate) slot: usize,
    idx: usize,
    off: usize,
    last_ts: Time,
    /// The event the cursor points at.
    pub(crate) ev: BaseEvent,
}

impl BatchCursor {
    pub(crate) fn new(m: ThreadId, slot: usize) -> BatchCursor {
        BatchCursor {
            m,
            slot,
            idx: 0,
            off: 0,
            last_ts: 0,
            ev: BaseEvent::default(),
        }
    }

    /// Decodes the next event into `self.ev`; `false` at the end.
    #[inline]
    pub(crate) fn next_event(&mut self, data: &[u8], batches: &[BatchRef], freq: Frequency) -> Result<bool> {
        let body = loop {
            let Some(b) = batches.get(self.idx) else {
                return Ok(false);
            };
            let body = data.get(b.data.clone()).unwrap_or_default();
            if self.off < body.len() {
                if self.last_ts == 0 {
                    self.last_ts = freq.mul(b.time);
                }
                break &body[self.off..];
            }
            self.idx += 1;
            self.off = 0;
            self.last_ts = 0;
        };
        let (n, dt) = read_timed_event(body, &mut self.ev).map_err(|e| {
            let b = &batches[self.idx];
            e.at_offset(b.data.start + self.off)
        })?;
        self.ev.time = freq.mul(dt).wrapping_add(self.last_ts);
        self.last_ts = self.ev.time;
        self.off += n;
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
        return Err(trace_err!("found event without a timestamp: type={}", typ.0));
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

/// Adds a cursor to the heap.
pub(crate) fn heap_insert(heap: &mut Vec<BatchCursor>, bc: BatchCursor) {
    heap.push(bc);
    let last = heap.len() - 1;
    heap_sift_up(heap, last);
}

/// Restores the heap after the cursor at `i` moved to a later event.
pub(crate) fn heap_update(heap: &mut [BatchCursor], i: usize) {
    if heap_sift_up(heap, i) != i {
        return;
    }
    heap_sift_down(heap, i);
}

/// Removes the cursor at `i`.
pub(crate) fn heap_remove(heap: &mut Vec<BatchCursor>, mut i: usize) {
    while i > 0 {
        heap.swap((i - 1) / 2, i);
        i = (i - 1) / 2;
    }
    let last = heap.len() - 1;
    heap.swap(0, last);
    heap.truncate(last);
    heap_sift_down(heap, 0);
}

fn heap_sift_up(heap: &mut [BatchCursor], mut i: usize) -> usize {
    while i > 0 && heap[(i - 1) / 2].ev.time > heap[i].ev.time {
        heap.swap((i - 1) / 2, i);
        i = (i - 1) / 2;
    }
    i
}

fn heap_sift_down(heap: &mut [BatchCursor], mut i: usize) {
    loop {
        let m = min3(heap, i, 2 * i + 1, 2 * i + 2);
        if m == i {
            break;
        }
        heap.swap(i, m);
        i = m;
    }
}

fn min3(b: &[BatchCursor], i0: usize, i1: usize, i2: usize) -> usize {
    let mut min_idx = i0;
    let mut min_t = b.get(i0).map_or(Time::MAX, |c| c.ev.time);
    for i in [i1, i2] {
        if let Some(c) = b.get(i)
            && c.ev.time < min_t
        {
            min_t = c.ev.time;
            min_idx = i;
        }
    }
    min_idx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(t: Time) -> BatchCursor {
        let mut c = BatchCursor::new(t, 0);
        c.ev.time = t;
        c
    }

    #[test]
    fn heap_keeps_minimum_on_top() {
        let mut h = Vec::new();
        for t in [5, 3, 9, 1, 7] {
            heap_insert(&mut h, cursor(t));
        }
        assert_eq!(h[0].ev.time, 1);
        h[0].ev.time = 8;
        heap_update(&mut h, 0);
        assert_eq!(h[0].ev.time, 3);
        heap_remove(&mut h, 0);
        assert_eq!(h[0].ev.time, 5);
        assert_eq!(h.len(), 4);
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
        let mut c = BatchCursor::new(1, 0);
        assert!(c.next_event(&data, &batches, freq).unwrap());
        assert_eq!((c.ev.typ, c.ev.time, c.ev.args[0], c.ev.args[1]), (EventType::GO_START, 12, 7, 1));
        let err = c.next_event(&data, &batches, freq).err().unwrap();
        assert_eq!(err.message(), "found invalid uvarint for timestamp");
        let mut e = BaseEvent::default();
        assert_eq!(read_timed_event(&[5], &mut e).err().unwrap().message(), "found event without a timestamp: type=5");
        assert_eq!(read_timed_event(&[200], &mut e).err().unwrap().message(), "found invalid event type: 200");
    }
}
