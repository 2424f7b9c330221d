//! The generation index: one pass over batch headers.
//!
//! A v2 trace is a sequence of *generations*, each self-contained: its own
//! string and stack tables, its own frequency, and status events that
//! re-establish the state of every goroutine and P it mentions. The index
//! walks the batch headers only, skipping each body by its length, and
//! groups batches into generations exactly as Go's reader does:
//!
//! - Go 1.26 ends each generation with an explicit `EndOfGeneration` marker;
//! - earlier versions end a generation when a batch of the next generation
//!   number appears (Go "spills" that batch into the next generation) or at
//!   the end of the input.
//!
//! Errors found while scanning are attached to the generation they cut short,
//! with the same precedence Go's reader gives them (see [`GenerationEnd`]).
//! Scanning costs a few varints per batch (batches are up to 64 KiB), a tiny
//! fraction of decoding, and lets any generation be decoded on its own.

use super::base::{Frequency, Time};
use super::batch::{BATCH_HEAD, BatchKind, BatchRef, ReadBatch, ThreadId, read_batch, uvarint};
use super::error::{Error, trace_err};
use super::input::TraceBytes;
use super::tracev2::EventType;
use super::version::Version;

/// How the batches of a generation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GenerationEnd {
    /// The generation is complete.
    Complete,
    /// Complete, but the trace cannot be read past it (before Go 1.26: the
    /// header of the following batch is broken). Go reports the error after
    /// this generation's events.
    CompleteThenError(Error),
    /// Reading stopped inside the generation. Go reports this error after
    /// checking the batches listed so far (whose own errors win).
    Broken(Error),
    /// Go 1.26: the input ended after batches that hold no events; Go treats
    /// this as a clean end of the trace once those batches check out.
    TrailingBatches,
}

/// One generation: where its batches are and how it ended.
#[derive(Clone, Debug)]
pub struct GenerationIndex {
    /// The generation number written in its batch headers (0 if none).
    pub gen_no: u64,
    /// Every batch in file order, except the end-of-generation marker.
    pub batches: Vec<BatchRef>,
    /// Smallest batch base timestamp, in ticks (0 if none).
    pub min_ts: u64,
    /// Largest batch base timestamp, in ticks.
    pub max_batch_ts: u64,
    /// Timestamp ticks per second, from the generation's sync batch.
    pub ticks_per_sec: Option<u64>,
    /// Byte range of the generation in the input.
    pub span: std::ops::Range<usize>,
    /// How the generation ended.
    pub end: GenerationEnd,
}

impl GenerationIndex {
    fn new(start: usize) -> GenerationIndex {
        GenerationIndex {
            gen_no: 0,
            batches: Vec::new(),
            min_ts: 0,
            max_batch_ts: 0,
            ticks_per_sec: None,
            span: start..start,
            end: GenerationEnd::Complete,
        }
    }

    /// The generation's time range in nanoseconds, converted as the decoder
    /// converts event times: from its smallest batch timestamp (the time of
    /// its first event, and of its Sync event) to its largest batch *base*
    /// timestamp (events in that batch come later; the next generation's
    /// start bounds them). `None` without a frequency.
    pub fn time_range(&self) -> Option<(Time, Time)> {
        let f = Frequency::from_ticks_per_sec(self.ticks_per_sec?);
        Some((f.mul(self.min_ts), f.mul(self.max_batch_ts)))
    }

    fn push(&mut self, batch: BatchRef, data: &(impl TraceBytes + ?Sized), version: Version) {
        if batch.kind == BatchKind::Sync && self.ticks_per_sec.is_none() {
            let mut head = [0; SYNC_HEAD];
            let n = data.read_at(batch.data.start, &mut head);
            let body = head.get(..n.min(batch.data.len())).unwrap_or_default();
            self.ticks_per_sec = frequency(body, version);
        }
        if self.min_ts == 0 || batch.time < self.min_ts {
            self.min_ts = batch.time;
        }
        self.max_batch_ts = self.max_batch_ts.max(batch.time);
        self.batches.push(batch);
    }

    /// The Ms with event batches, in order of first appearance (the order in
    /// which Go's reader sets up its per-M cursors).
    pub fn event_threads(&self) -> Vec<ThreadId> {
        let mut ms: Vec<ThreadId> = Vec::new();
        for b in self.batches.iter().filter(|b| b.kind == BatchKind::Events) {
            if !ms.contains(&b.m) {
                ms.push(b.m);
            }
        }
        ms
    }

    /// Whether the generation has any per-M event batch.
    pub fn has_events(&self) -> bool {
        self.batches.iter().any(|b| b.kind == BatchKind::Events)
    }
}

/// The bytes of a sync batch the index reads for its frequency: the header
/// byte, a clock snapshot (a byte and four varints) and the frequency (a
/// byte and a varint) take at most 53.
const SYNC_HEAD: usize = 64;

/// The header of the batch at `pos` of `data` (see [`read_batch`]).
fn batch_at(
    data: &(impl TraceBytes + ?Sized),
    pos: usize,
    version: Version,
) -> Result<ReadBatch, Error> {
    let mut head = [0; BATCH_HEAD];
    let n = data.read_at(pos, &mut head);
    read_batch(
        head.get(..n).unwrap_or_default(),
        pos,
        data.bytes().len(),
        version,
    )
}

/// The first frequency in a sync batch body, reading only as far as it.
fn frequency(body: &[u8], version: Version) -> Option<u64> {
    // From Go 1.25 the body starts with a header byte and may hold a clock
    // snapshot (four varints) before the frequency.
    let mut rest = body.get(usize::from(version >= Version::Go125)..)?;
    loop {
        let (&typ, after) = rest.split_first()?;
        match EventType(typ) {
            EventType::FREQUENCY => return uvarint(after).map(|(f, _)| f),
            EventType::CLOCK_SNAPSHOT => {
                rest = after;
                for _ in 0..4 {
                    let (_, n) = uvarint(rest)?;
                    rest = &rest[n..];
                }
            }
            _ => return None,
        }
    }
}

/// The index of a whole trace.
#[derive(Clone, Debug)]
pub struct TraceIndex {
    /// Format version from the header.
    pub version: Version,
    /// The generations, in file order. The last one may end in an error.
    pub generations: Vec<GenerationIndex>,
}

/// Indexes the trace body of a v2 trace, from offset `body_start` of
/// `data`, reading only its batch headers.
pub fn build(data: &(impl TraceBytes + ?Sized), body_start: usize, version: Version) -> TraceIndex {
    let generations = if version >= Version::Go126 {
        scan_with_markers(data, body_start, version)
    } else {
        scan_with_spill(data, body_start, version)
    };
    TraceIndex {
        version,
        generations,
    }
}

/// Go 1.26+: generations end at `EndOfGeneration`.
fn scan_with_markers(
    data: &(impl TraceBytes + ?Sized),
    mut pos: usize,
    version: Version,
) -> Vec<GenerationIndex> {
    let mut gens = Vec::new();
    loop {
        let mut g = GenerationIndex::new(pos);
        let end = loop {
            let (batch, gen_no, next) = match batch_at(data, pos, version) {
                Ok(ReadBatch::End) => {
                    if g.has_events() {
                        break Some(GenerationEnd::Broken(
                            trace_err!("incomplete generation found; trace likely truncated")
                                .at_offset(pos),
                        ));
                    }
                    break Some(GenerationEnd::TrailingBatches);
                }
                Ok(ReadBatch::Batch {
                    batch,
                    gen_no,
                    next,
                }) => (batch, gen_no, next),
                Err(e) => break Some(GenerationEnd::Broken(e)),
            };
            if g.gen_no == 0 {
                g.gen_no = gen_no;
            }
            if batch.kind == BatchKind::EndOfGeneration {
                pos = next;
                break None;
            }
            if gen_no == 0 {
                break Some(GenerationEnd::Broken(
                    trace_err!("invalid generation number 0").at_offset(pos),
                ));
            }
            if gen_no != g.gen_no {
                break Some(GenerationEnd::Broken(
                    trace_err!("broken trace: missing end-of-generation event, or generations are interleaved")
                        .at_offset(pos),
                ));
            }
            g.push(batch, data, version);
            pos = next;
        };
        g.span.end = pos;
        match end {
            None => gens.push(g),
            Some(GenerationEnd::TrailingBatches) if g.batches.is_empty() => return gens,
            Some(end) => {
                g.end = end;
                gens.push(g);
                return gens;
            }
        }
    }
}

/// Before Go 1.26: a generation ends where the next generation number
/// starts, or at the end of the input.
fn scan_with_spill(
    data: &(impl TraceBytes + ?Sized),
    mut pos: usize,
    version: Version,
) -> Vec<GenerationIndex> {
    let mut gens = Vec::new();
    let mut spill: Option<(BatchRef, u64)> = None;
    loop {
        let mut g = GenerationIndex::new(pos);
        if let Some((batch, gen_no)) = spill.take() {
            g.gen_no = gen_no;
            g.span.start = batch.offset;
            // Go seeds the minimum with the spilled batch's time as is.
            g.min_ts = batch.time;
            g.push(batch, data, version);
        }
        let end = loop {
            let (batch, gen_no, next) = match batch_at(data, pos, version) {
                Ok(ReadBatch::End) => break GenerationEnd::Complete,
                Ok(ReadBatch::Batch {
                    batch,
                    gen_no,
                    next,
                }) => (batch, gen_no, next),
                Err(e) if g.gen_no != 0 => break GenerationEnd::CompleteThenError(e),
                Err(e) => break GenerationEnd::Broken(e),
            };
            if gen_no == 0 {
                break GenerationEnd::Broken(
                    trace_err!("invalid generation number 0").at_offset(pos),
                );
            }
            if g.gen_no == 0 {
                g.gen_no = gen_no;
            }
            if gen_no == g.gen_no.wrapping_add(1) {
                spill = Some((batch, gen_no));
                pos = next;
                break GenerationEnd::Complete;
            }
            if gen_no != g.gen_no {
                break GenerationEnd::Broken(trace_err!("generations out of order").at_offset(pos));
            }
            g.push(batch, data, version);
            pos = next;
        };
        g.span.end = spill.as_ref().map_or(pos, |(b, _)| b.offset);
        let more = spill.is_some() && end == GenerationEnd::Complete;
        g.end = end;
        gens.push(g);
        if !more {
            return gens;
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A batch header (small generation, M, time and length) followed by `body`.
    pub(in crate::trace) fn batch(gen_no: u8, m: u8, time: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![1, gen_no, m, time, u8::try_from(body.len()).unwrap()];
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn markers_split_generations() {
        let mut data = Vec::new();
        data.extend(batch(1, 1, 5, &[10, 0]));
        data.extend(batch(1, 2, 3, &[4]));
        // A Go 1.26 sync batch: clock snapshot, then 15.625 M ticks per second (64 ns a tick).
        data.extend(batch(
            1,
            0,
            4,
            &[50, 51, 1, 2, 3, 4, 8, 0xa8, 0xd6, 0xb9, 0x07],
        ));
        data.push(52);
        data.extend(batch(2, 1, 9, &[10, 0]));
        data.push(52);
        let idx = build(&data, 0, Version::Go126);
        assert_eq!(idx.generations.len(), 2);
        let g = &idx.generations[0];
        assert_eq!((g.gen_no, g.min_ts, g.batches.len()), (1, 3, 3));
        assert_eq!(g.ticks_per_sec, Some(15_625_000));
        assert_eq!(g.time_range(), Some((192, 320)));
        assert_eq!(g.batches[1].kind, BatchKind::Strings);
        assert_eq!(idx.generations[1].end, GenerationEnd::Complete);

        data.extend(batch(3, 1, 9, &[10, 0]));
        let idx = build(&data, 0, Version::Go126);
        let last = idx.generations.last().unwrap();
        assert!(
            matches!(&last.end, GenerationEnd::Broken(e) if e.message().contains("incomplete generation"))
        );
    }

    #[test]
    fn spill_splits_generations() {
        let mut data = Vec::new();
        data.extend(batch(1, 1, 5, &[10, 0]));
        data.extend(batch(2, 1, 7, &[10, 0]));
        data.extend(batch(2, 2, 6, &[10, 0]));
        data.extend([1, 0x80]);
        let idx = build(&data, 0, Version::Go122);
        assert_eq!(idx.generations.len(), 2);
        assert_eq!(idx.generations[1].batches.len(), 2);
        assert_eq!(idx.generations[1].min_ts, 6);
        assert!(matches!(
            &idx.generations[1].end,
            GenerationEnd::CompleteThenError(_)
        ));

        let mut data = batch(1, 1, 5, &[10, 0]);
        data.extend(batch(3, 1, 7, &[10, 0]));
        let idx = build(&data, 0, Version::Go123);
        assert!(
            matches!(&idx.generations[0].end, GenerationEnd::Broken(e) if e.message() == "generations out of order")
        );
    }
}
