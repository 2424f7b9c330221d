//! Batches: the framing unit of v2 traces, and varint decoding.
//!
//! A trace body is a sequence of batches. Each starts with `EventBatch` (or
//! `ExperimentalBatch` and an experiment byte), then varints for the
//! generation, the M, a base timestamp and the body length, then the body.
//! Go 1.26 adds a bare one-byte `EndOfGeneration` marker between
//! generations. This module reads batch headers only; bodies are referred to
//! by their byte range and decoded later, generation by generation.

use std::ops::Range;

use super::error::{Error, trace_err};
use super::tracev2::{EventType, Experiment, MAX_BATCH_SIZE};
use super::version::Version;

/// Thread (M) ID as Go's reader represents it: `-1` means no thread.
pub type ThreadId = i64;

/// Sentinel for "no thread".
pub const NO_THREAD: ThreadId = -1;

/// Decodes an unsigned LEB128 varint at the start of `buf`, as Go's
/// `binary.Uvarint`: `None` when the buffer ends first or the value
/// overflows 64 bits; otherwise the value and the number of bytes used.
#[inline]
pub(crate) fn uvarint(buf: &[u8]) -> Option<(u64, usize)> {
    match buf.first() {
        Some(&b) if b < 0x80 => Some((u64::from(b), 1)),
        _ => uvarint_long(buf),
    }
}

fn uvarint_long(buf: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    let mut shift = 0u32;
    for (i, &b) in buf.iter().enumerate().take(10) {
        if b < 0x80 {
            if i == 9 && b > 1 {
                return None;
            }
            return Some((x | u64::from(b) << shift, i + 1));
        }
        x |= u64::from(b & 0x7f) << shift;
        shift += 7;
    }
    None
}

/// A cursor over bytes that reports errors the way Go's `bytes.Reader` and
/// `binary.ReadUvarint` do, which is what Go's structural parsing uses.
pub(crate) struct ByteReader<'a> {
    data: &'a [u8],
    pos: usize,
}

/// A read error with the text of Go's `io` and `binary` errors.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ReadError {
    /// Nothing left (`io.EOF`).
    Eof,
    /// Input ended inside a varint (`io.ErrUnexpectedEOF`).
    UnexpectedEof,
    /// A varint longer than 64 bits.
    Overflow,
}

impl ReadError {
    pub(crate) fn text(self) -> &'static str {
        match self {
            ReadError::Eof => "EOF",
            ReadError::UnexpectedEof => "unexpected EOF",
            ReadError::Overflow => "binary: varint overflows a 64-bit integer",
        }
    }
}

impl From<ReadError> for Error {
    fn from(e: ReadError) -> Error {
        Error::new(e.text())
    }
}

impl<'a> ByteReader<'a> {
    pub(crate) fn new(data: &'a [u8], pos: usize) -> ByteReader<'a> {
        ByteReader { data, pos }
    }

    /// Position of the next unread byte.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub(crate) fn byte(&mut self) -> Result<u8, ReadError> {
        let b = *self.data.get(self.pos).ok_or(ReadError::Eof)?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads a varint byte by byte, failing like `binary.ReadUvarint`.
    pub(crate) fn uvarint(&mut self) -> Result<u64, ReadError> {
        let mut x = 0u64;
        let mut shift = 0u32;
        for i in 0..10 {
            let b = match self.byte() {
                Ok(b) => b,
                Err(_) if i > 0 => return Err(ReadError::UnexpectedEof),
                Err(e) => return Err(e),
            };
            if b < 0x80 {
                if i == 9 && b > 1 {
                    return Err(ReadError::Overflow);
                }
                return Ok(x | u64::from(b) << shift);
            }
            x |= u64::from(b & 0x7f) << shift;
            shift += 7;
        }
        Err(ReadError::Overflow)
    }

    /// Takes up to `n` bytes, returning fewer only at the end of the input.
    pub(crate) fn take_up_to(&mut self, n: u64) -> &'a [u8] {
        let n = usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(self.remaining());
        let start = self.pos;
        self.pos += n;
        &self.data[start..self.pos]
    }
}

/// What a batch holds, decided by its experiment and first body byte.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BatchKind {
    /// Timed events of one M.
    Events,
    /// String table entries.
    Strings,
    /// Stack table entries.
    Stacks,
    /// CPU profile samples.
    CpuSamples,
    /// Frequency (and, from Go 1.25, clock snapshot).
    Sync,
    /// Opaque data of an experiment.
    Experimental,
    /// End-of-generation marker (Go 1.26), bare or as a batch body.
    EndOfGeneration,
}

/// A batch header, with the location of its body in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRef {
    /// The M that wrote the batch.
    pub m: ThreadId,
    /// Base timestamp, in trace clock ticks.
    pub time: u64,
    /// Experiment, or [`Experiment::NONE`].
    pub exp: Experiment,
    /// What the batch holds.
    pub kind: BatchKind,
    /// Byte offset of the batch header.
    pub offset: usize,
    /// Byte range of the body.
    pub data: Range<usize>,
}

/// Result of reading one batch header.
pub(crate) enum ReadBatch {
    /// No more batches. Go also ends here when the input stops right after
    /// an `ExperimentalBatch` byte, a quirk this reproduces.
    End,
    /// A batch of generation `gen` (0 for the bare end-of-generation marker).
    Batch {
        batch: BatchRef,
        gen_no: u64,
        next: usize,
    },
}

fn classify(exp: Experiment, body: &[u8], version: Version) -> BatchKind {
    if exp != Experiment::NONE {
        return BatchKind::Experimental;
    }
    match body.first().map(|&b| EventType(b)) {
        Some(EventType::STRINGS) => BatchKind::Strings,
        Some(EventType::STACKS) => BatchKind::Stacks,
        Some(EventType::CPU_SAMPLES) => BatchKind::CpuSamples,
        Some(EventType::FREQUENCY) if version < Version::Go125 => BatchKind::Sync,
        Some(EventType::SYNC) if version >= Version::Go125 => BatchKind::Sync,
        Some(EventType::END_OF_GENERATION) => BatchKind::EndOfGeneration,
        _ => BatchKind::Events,
    }
}

/// The most bytes of a batch [`read_batch`] reads: the batch byte, the
/// experiment byte, four varints of at most ten bytes (generation, M, time,
/// size) and the first byte of the body, which tells what it holds.
pub(crate) const BATCH_HEAD: usize = 2 + 4 * 10 + 1;

/// Reads the header of the batch at offset `pos` of a trace `len` bytes
/// long from `head`, the bytes at `pos` (at least [`BATCH_HEAD`] of them,
/// or all there are), with Go's `readBatch` error messages. The body is not
/// read, only checked to be all there.
pub(crate) fn read_batch(
    head: &[u8],
    pos: usize,
    len: usize,
    version: Version,
) -> Result<ReadBatch, Error> {
    let mut r = ByteReader::new(head, 0);
    let Ok(first) = r.byte() else {
        return Ok(ReadBatch::End);
    };
    let typ = EventType(first);
    if typ == EventType::END_OF_GENERATION {
        let batch = BatchRef {
            m: NO_THREAD,
            time: 0,
            exp: Experiment::NONE,
            kind: BatchKind::EndOfGeneration,
            offset: pos,
            data: pos..pos + 1,
        };
        return Ok(ReadBatch::Batch {
            batch,
            gen_no: 0,
            next: pos + 1,
        });
    }
    if typ != EventType::EVENT_BATCH && typ != EventType::EXPERIMENTAL_BATCH {
        return Err(trace_err!("expected batch event, got event {first}").at_offset(pos));
    }
    let mut exp = Experiment::NONE;
    if typ == EventType::EXPERIMENTAL_BATCH {
        match r.byte() {
            Ok(e) => exp = Experiment(e),
            Err(_) => return Ok(ReadBatch::End),
        }
    }
    let field = |r: &mut ByteReader<'_>, what: &str| {
        r.uvarint()
            .map_err(|e| trace_err!("error reading batch {what}: {}", e.text()).at_offset(pos))
    };
    let gen_no = field(&mut r, "gen")?;
    let m = field(&mut r, "M ID")?;
    let time = field(&mut r, "timestamp")?;
    let size = field(&mut r, "size")?;
    if size > MAX_BATCH_SIZE {
        return Err(
            trace_err!("invalid batch size {size}, maximum is {MAX_BATCH_SIZE}").at_offset(pos),
        );
    }
    // At most 64 KiB, by the check above.
    let size = size as usize;
    let start = pos + r.pos();
    let there = len.saturating_sub(start).min(size);
    if there != size {
        return Err(
            trace_err!("failed to read full batch: read {there} but wanted {size}").at_offset(pos),
        );
    }
    let body = head.get(r.pos()..).unwrap_or_default();
    let batch = BatchRef {
        m: m as ThreadId,
        time,
        exp,
        kind: classify(exp, body.get(..size).unwrap_or(body), version),
        offset: pos,
        data: start..start + size,
    };
    Ok(ReadBatch::Batch {
        batch,
        gen_no,
        next: start + size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_go() {
        assert_eq!(uvarint(&[0x05]), Some((5, 1)));
        assert_eq!(uvarint(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(uvarint(&[0x80]), None);
        assert_eq!(
            uvarint(&[0xff; 9].iter().copied().chain([0x01]).collect::<Vec<_>>()),
            Some((u64::MAX, 10))
        );
        assert_eq!(
            uvarint(&[0xff; 9].iter().copied().chain([0x02]).collect::<Vec<_>>()),
            None
        );
        assert_eq!(uvarint(&[0xff; 11]), None);
        let mut r = ByteReader::new(&[0x80], 0);
        assert_eq!(r.uvarint(), Err(ReadError::UnexpectedEof));
        let mut r = ByteReader::new(&[], 0);
        assert_eq!(r.uvarint(), Err(ReadError::Eof));
        let mut r = ByteReader::new(&[0xff; 10], 0);
        assert_eq!(r.uvarint(), Err(ReadError::Overflow));
    }

    /// [`read_batch`] of the batch at `pos` of `data`.
    fn read_batch_in(data: &[u8], pos: usize, version: Version) -> Result<ReadBatch, Error> {
        read_batch(&data[pos..], pos, data.len(), version)
    }

    #[test]
    fn batch_headers() {
        // EventBatch gen=1 m=2 time=3 size=2 body=[Strings, 0]
        let data = [1u8, 1, 2, 3, 2, 4, 0, 52];
        let Ok(ReadBatch::Batch {
            batch,
            gen_no,
            next,
        }) = read_batch_in(&data, 0, Version::Go126)
        else {
            panic!("expected a batch");
        };
        assert_eq!(
            (gen_no, batch.m, batch.time, batch.kind, next),
            (1, 2, 3, BatchKind::Strings, 7)
        );
        assert_eq!(batch.data, 5..7);
        assert!(matches!(
            read_batch_in(&data, 7, Version::Go126),
            Ok(ReadBatch::Batch { gen_no: 0, .. })
        ));
        assert!(matches!(
            read_batch_in(&data, 8, Version::Go126),
            Ok(ReadBatch::End)
        ));
        let err = read_batch_in(&[1, 1, 2, 3, 9, 0], 0, Version::Go126)
            .err()
            .unwrap();
        assert_eq!(
            err.message(),
            "failed to read full batch: read 1 but wanted 9"
        );
        let err = read_batch_in(&[1, 1, 0x80], 0, Version::Go126)
            .err()
            .unwrap();
        assert_eq!(err.message(), "error reading batch M ID: unexpected EOF");
        let err = read_batch_in(&[7], 0, Version::Go126).err().unwrap();
        assert_eq!(err.message(), "expected batch event, got event 7");
        assert!(matches!(
            read_batch_in(&[49], 0, Version::Go126),
            Ok(ReadBatch::End)
        ));
    }
}
