//! Per-M cursors over event batches, and the min-heap that merges them.
//!
//! Each M's batches hold its events in the order it emitted them, with
//! timestamps as deltas from the batch's base time. A cursor decodes one
//! event at a time (lazily, so a generation's events never all sit in
//! memory at once) and the reader keeps the cursors in a min-heap keyed by
//! the time of their next event. The heap operations reproduce Go's exactly,
//! because which of two cursors with equal times comes out first decides the
//! order of equal-time events.
//!
//! Decoding is the other hot path. An event with at least a `WINDOW` of
//! its batch left is decoded from a fixed-size window, with a table lookup
//! for its argument count and no bounds checks per byte; anything unusual
//! (a short tail, an unknown type, a varint longer than eight bytes) goes to
//! the exact decoder, which reports errors with Go's messages. When the
//! generation's nanoseconds per tick are a small integer (as for Go's
//! 64 ns trace clock), time deltas are multiplied as integers, which gives
//! exactly what Go's float arithmetic gives for them. The heap keeps each
//! cursor's time next to its index, so sifting reads one array.

use std::ops::Range;

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

/// Told the bytes of each batch a cursor has finished with: how a reader
/// gives a mapped file's pages back while it decodes (see
/// [`Input::release`](super::Input::release), which gives them back in runs
/// of a megabyte), so that a generation's resident pages are a few batches
/// per M rather than all of them.
pub(crate) type Release<'a> = &'a (dyn Fn(Range<usize>) + Sync);

/// A cursor over the event batches of one M.
#[derive(Clone)]
pub(crate) struct BatchCursor<'a> {
    /// The thread, as the ordering refers to it.
    pub(crate) m: MRef,
    data: &'a [u8],
    /// Batches after the current one.
    batches: &'a [BatchRef],
    /// Undecoded rest of the current batch body.
    rest: &'a [u8],
    /// Base time (ticks) and body offsets of the current batch.
    batch_time: u64,
    batch_start: usize,
    batch_end: usize,
    release: Release<'a>,
    last_ts: Time,
    /// The event the cursor points at.
    pub(crate) ev: BaseEvent,
    /// [`Frequency::as_int`] of the generation (0 if not an integer).
    int_freq: u64,
}

impl<'a> BatchCursor<'a> {
    /// A cursor over `batches` (in `data`) of a generation with frequency
    /// `freq`, telling `release` about each batch it finishes.
    pub(crate) fn new(
        m: MRef,
        (data, batches): (&'a [u8], &'a [BatchRef]),
        freq: Frequency,
        release: Release<'a>,
    ) -> BatchCursor<'a> {
        BatchCursor {
            int_freq: freq.as_int(),
            m,
            data,
            batches,
            rest: &[],
            batch_time: 0,
            batch_start: 0,
            batch_end: 0,
            release,
            last_ts: 0,
            ev: BaseEvent::default(),
        }
    }

    /// Decodes the next event into `self.ev`; `false` at the end.
    #[inline(always)]
    pub(crate) fn next_event(&mut self, freq: Frequency) -> Result<bool> {
        if self.rest.is_empty() && !self.next_batch() {
            return Ok(false);
        }
        // As Go does: a time that comes out as exactly 0 restarts from the
        // batch's base time.
        if self.last_ts == 0 {
            self.last_ts = freq.mul(self.batch_time);
        }
        let (n, dt) = match read_timed_event_fast(self.rest, &mut self.ev) {
            Some(r) => r,
            None => read_timed_event(self.rest, &mut self.ev)
                .map_err(|e| e.at_offset(self.batch_end - self.rest.len()))?,
        };
        // Exactly `freq.mul(dt)` (see `Frequency::as_int`), without the
        // float conversions in the common case.
        let dt_ns = if self.int_freq != 0 && dt < Frequency::INT_TICKS {
            (dt * self.int_freq) as Time
        } else {
            freq.mul(dt)
        };
        self.ev.time = dt_ns.wrapping_add(self.last_ts);
        self.last_ts = self.ev.time;
        self.rest = self.rest.get(n..).unwrap_or_default();
        Ok(true)
    }

    /// Releases the batch just finished and moves to the next non-empty
    /// one; `false` if there is none.
    #[cold]
    fn next_batch(&mut self) -> bool {
        if self.batch_start < self.batch_end {
            (self.release)(self.batch_start..self.batch_end);
            self.batch_start = self.batch_end;
        }
        while self.rest.is_empty() {
            let Some((b, tail)) = self.batches.split_first() else {
                return false;
            };
            self.batches = tail;
            self.rest = self.data.get(b.data.clone()).unwrap_or_default();
            self.batch_time = b.time;
            self.batch_start = b.data.start;
            self.batch_end = b.data.end;
            self.last_ts = 0;
        }
        true
    }
}

/// Bytes the fast decoder reads to decode an event whose varints are at
/// most eight bytes long: the type byte, then eight bytes at the start of
/// each of at most five varints.
const FAST_EVENT_READ: usize = 1 + 8 * tracev2::MAX_TIMED_EVENT_ARGS;

/// Window the fast decoder reads from (an event is decoded by it only if
/// this many bytes of the batch are left, so that it never reads past the
/// batch).
const WINDOW: usize = 64;
const _: () = assert!(WINDOW >= FAST_EVENT_READ);

/// Decodes the common case of [`read_timed_event`]: a known timed type
/// whose varints are well formed and at least [`WINDOW`] bytes before the
/// end of the batch. `None` means "use the exact decoder" (which then
/// reports any error with Go's message), never a different result.
#[inline(always)]
fn read_timed_event_fast(b: &[u8], e: &mut BaseEvent) -> Option<(usize, u64)> {
    let w: &[u8; WINDOW] = b.get(..WINDOW)?.try_into().ok()?;
    let typ = EventType(w[0]);
    let info = tracev2::wire_info(typ);
    if info.varints == 0 {
        return None;
    }
    let mut n = 1;
    let dt = window_uvarint(w, &mut n)?;
    let nargs = usize::from(info.varints - 1);
    for slot in e.args.iter_mut().take(nargs) {
        *slot = window_uvarint(w, &mut n)?;
    }
    e.typ = typ;
    Some((n, dt))
}

/// Reads the varint at `*n` in `w` (with `*n` at most `FAST_EVENT_READ - 8`
/// on entry) and advances `*n`; `None` for a varint longer than eight
/// bytes, which the exact decoder then handles. A loop with a branch per
/// byte: varint lengths repeat from event to event, so the branches predict
/// well and the decoding runs ahead, which a branch-free decoder (its next
/// position depending on the current varint's decoded length) cannot.
#[inline(always)]
fn window_uvarint(w: &[u8; WINDOW], n: &mut usize) -> Option<u64> {
    let mut x = 0u64;
    let mut shift = 0u32;
    loop {
        let b = w[*n & (WINDOW - 1)];
        *n += 1;
        x |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(x);
        }
        shift += 7;
        if shift >= 56 {
            return None;
        }
    }
}

/// Decodes the timed event at the start of `b` (non-empty) into `e`,
/// returning its length and timestamp delta in ticks.
#[cold]
#[inline(never)]
fn read_timed_event(b: &[u8], e: &mut BaseEvent) -> Result<(usize, u64)> {
    let typ = EventType(b.first().copied().unwrap_or_default());
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
    let Some((dt, nb)) = uvarint(b.get(n..).unwrap_or_default()) else {
        return Err(trace_err!("found invalid uvarint for timestamp"));
    };
    n += nb;
    for slot in e.args.iter_mut().take(spec.args.len() - 1) {
        let Some((v, nb)) = uvarint(b.get(n..).unwrap_or_default()) else {
            return Err(trace_err!("found invalid uvarint"));
        };
        *slot = v;
        n += nb;
    }
    Ok((n, dt))
}

/// The cursors of a generation, in a min-heap keyed by the time of their
/// next event. The heap holds cursor indices next to their keys (so that
/// sifting reads one array); its operations replicate Go's heap step for
/// step, because the arrangement decides which of two cursors with equal
/// times is offered first.
pub(crate) struct Frontier<'a> {
    pub(crate) cursors: Vec<BatchCursor<'a>>,
    /// `(time of the cursor's event, cursor index)`, as a binary heap.
    pub(crate) heap: Vec<(Time, u32)>,
}

impl<'a> Frontier<'a> {
    pub(crate) fn new() -> Frontier<'a> {
        Frontier {
            cursors: Vec::new(),
            heap: Vec::new(),
        }
    }

    #[inline(always)]
    fn time(&self, i: usize) -> Time {
        self.heap[i].0
    }

    /// The cursor at heap position `i`.
    #[inline]
    pub(crate) fn at(&mut self, i: usize) -> &mut BatchCursor<'a> {
        &mut self.cursors[self.heap[i].1 as usize]
    }

    /// Time of the earliest next event.
    #[inline(always)]
    pub(crate) fn min_time(&self) -> Option<Time> {
        self.heap.first().map(|&(t, _)| t)
    }

    /// The earliest time of the top cursor's children in the heap
    /// (`Time::MAX` if it has none): the top stays on top while its time is
    /// not later.
    #[inline(always)]
    pub(crate) fn min_child_time(&self) -> Time {
        let a = self.heap.get(1).map_or(Time::MAX, |c| c.0);
        let b = self.heap.get(2).map_or(Time::MAX, |c| c.0);
        a.min(b)
    }

    /// Adds a cursor.
    pub(crate) fn insert(&mut self, bc: BatchCursor<'a>) {
        self.heap.push((bc.ev.time, self.cursors.len() as u32));
        self.cursors.push(bc);
        self.sift_up(self.heap.len() - 1);
    }

    /// Restores the heap after the cursor at position `i` moved on.
    #[inline]
    pub(crate) fn update(&mut self, i: usize) {
        let c = self.heap[i].1 as usize;
        self.heap[i].0 = self.cursors[c].ev.time;
        if self.sift_up(i) != i {
            return;
        }
        self.sift_down(i);
    }

    /// [`Frontier::update`] of the top cursor (which cannot move up).
    #[inline(always)]
    pub(crate) fn update_top(&mut self) {
        let Some(top) = self.heap.first_mut() else {
            return;
        };
        let Some(c) = self.cursors.get(top.1 as usize) else {
            return;
        };
        top.0 = c.ev.time;
        self.sift_down(0);
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
        sort_like_go(&mut self.heap, &|a: &(Time, u32), b: &(Time, u32)| {
            a.0 < b.0
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

    #[inline(always)]
    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let mut m = i;
            let mut min_t = if i < n { self.time(i) } else { Time::MAX };
            for c in [2 * i + 1, 2 * i + 2] {
                if c < n && self.time(c) < min_t {
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
        let mut c = BatchCursor::new(m, (&[], &[]), Frequency(1.0), &|_| {});
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
        let mut c = BatchCursor::new(m, (&data, &batches), freq, &|_| {});
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

    /// The fast decoder agrees with the exact one on every event it takes.
    #[test]
    fn fast_decoding_matches_exact() {
        fn varint(out: &mut Vec<u8>, mut v: u64) {
            while v >= 0x80 {
                out.push(v as u8 | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        // A small deterministic generator (xorshift).
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut taken = 0;
        for _ in 0..20_000 {
            let typ = (next() % 140) as u8;
            let mut b = vec![typ];
            for _ in 0..5 {
                let bits = next() % 65;
                let v = if bits == 64 {
                    next()
                } else {
                    next() & ((1 << bits) - 1)
                };
                varint(&mut b, v);
            }
            if next() % 4 == 0 {
                // A stray continuation byte or a truncated varint.
                let at = 1 + (next() as usize) % (b.len() - 1);
                b[at] |= 0x80;
            }
            b.resize(b.len().max(WINDOW), 0);
            let (mut fast, mut exact) = (BaseEvent::default(), BaseEvent::default());
            fast.args = [1, 2, 3, 4];
            exact.args = [1, 2, 3, 4];
            if let Some(got) = read_timed_event_fast(&b, &mut fast) {
                taken += 1;
                let want = read_timed_event(&b, &mut exact).unwrap();
                assert_eq!((got, fast), (want, exact), "{b:?}");
            }
        }
        assert!(taken > 1000, "{taken}");
    }
}
