//! Decoding the structural part of one generation.
//!
//! Before any event of a generation can be ordered, its tables must be
//! complete: strings, stacks (and the PC → frame map), CPU samples, the
//! timestamp frequency and, from Go 1.25, the clock snapshot. This module
//! builds those [`Tables`] from the batches the [index](super::index) listed,
//! with Go's checks and messages. It depends only on the generation's own
//! bytes, so generations can be prepared in parallel ahead of the
//! (sequential) ordering step.

use super::base::{Frequency, GoId, IdTable, NO_GOROUTINE, ProcId, ThreadId, Time};
use super::batch::{BatchKind, BatchRef, ByteReader};
use super::error::{Error, Result, trace_err};
use super::index::{GenerationEnd, GenerationIndex};
use super::tracev2::{EventType, Experiment, MAX_EVENT_TRAILER_DATA_SIZE, MAX_FRAMES_PER_STACK};
use super::version::Version;

/// One stack frame as stored in the trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FrameRec {
    pub(crate) pc: u64,
    pub(crate) func: u64,
    pub(crate) file: u64,
    pub(crate) line: u64,
}

/// Where a stack's PCs are in [`Tables::stack_pcs`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct StackRange {
    start: u32,
    len: u32,
}

/// A CPU profile sample, with its time already in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuSample {
    /// When the sample was taken.
    pub time: Time,
    /// Thread the sample was taken on.
    pub m: ThreadId,
    /// P, as recorded.
    pub p: ProcId,
    /// Goroutine, or `-1`.
    pub g: GoId,
    /// Stack ID in the generation's table.
    pub stack: u64,
}

/// Simultaneous readings of the trace, monotonic and wall clocks (Go 1.25+).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockSnapshot {
    /// Trace clock, in ticks.
    pub(crate) ticks: u64,
    /// Monotonic clock, in nanoseconds.
    pub mono: u64,
    /// Wall clock: seconds since the Unix epoch.
    pub sec: i64,
    /// Wall clock: nanoseconds within the second (not normalised).
    pub nsec: i64,
}

/// Raw data of an experiment, as one M wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExperimentalBatch<'a> {
    /// The experiment.
    pub experiment: Experiment,
    /// The thread that wrote the data.
    pub thread: ThreadId,
    /// The unparsed bytes.
    pub data: &'a [u8],
}

/// Everything in a generation that events refer to.
#[derive(Clone, Debug)]
pub struct Tables<'a> {
    pub(crate) gen_no: u64,
    pub(crate) min_ts: u64,
    pub(crate) freq: Frequency,
    pub(crate) clock: Option<ClockSnapshot>,
    pub(crate) strings: IdTable<&'a [u8]>,
    pub(crate) stacks: IdTable<StackRange>,
    pub(crate) stack_pcs: Vec<u64>,
    pub(crate) frames: super::base::FxHashMap<u64, FrameRec>,
    pub(crate) cpu_samples: Vec<CpuSample>,
    pub(crate) experimental: Vec<ExperimentalBatch<'a>>,
    /// Strings that do not come from this generation's table: names of tasks
    /// begun in earlier generations, referenced as `index + 1`.
    pub(crate) extra_strings: Vec<&'a [u8]>,
    /// Per-M event batch bodies, Ms in order of first appearance.
    pub(crate) event_batches: Vec<(ThreadId, Vec<BatchRef>)>,
}

impl<'a> Tables<'a> {
    fn new(gen_no: u64, min_ts: u64) -> Tables<'a> {
        Tables {
            gen_no,
            min_ts,
            freq: Frequency::default(),
            clock: None,
            strings: IdTable::new(),
            stacks: IdTable::new(),
            stack_pcs: Vec::new(),
            frames: Default::default(),
            cpu_samples: Vec::new(),
            experimental: Vec::new(),
            extra_strings: Vec::new(),
            event_batches: Vec::new(),
        }
    }

    /// The generation number written in the trace.
    pub fn number(&self) -> u64 {
        self.gen_no
    }

    /// A string by ID; ID 0 is the empty string.
    pub fn string(&self, id: u64) -> Option<&'a [u8]> {
        self.strings.get(id)
    }

    /// A string the ordering added (see [`Tables::extra_strings`]).
    pub(crate) fn extra_string(&self, id: u64) -> &'a [u8] {
        usize::try_from(id)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.extra_strings.get(i))
            .copied()
            .unwrap_or_default()
    }

    /// The PCs of stack `id` (empty for 0 or an unknown ID).
    pub fn stack_pcs(&self, id: u64) -> &[u64] {
        let r = self.stacks.get(id).unwrap_or_default();
        let start = r.start as usize;
        self.stack_pcs
            .get(start..start + r.len as usize)
            .unwrap_or_default()
    }

    /// The frame recorded for `pc`.
    pub(crate) fn frame(&self, pc: u64) -> FrameRec {
        self.frames.get(&pc).copied().unwrap_or_default()
    }

    /// Nanoseconds per tick conversion of this generation.
    pub(crate) fn freq(&self) -> Frequency {
        self.freq
    }

    /// The clock snapshot, if the generation has one.
    pub fn clock_snapshot(&self) -> Option<ClockSnapshot> {
        self.clock
    }

    /// The trace-clock time of the clock snapshot, in nanoseconds.
    pub fn clock_snapshot_time(&self) -> Option<Time> {
        self.clock.map(|c| self.freq.mul(c.ticks))
    }

    /// Experimental batches of this generation, in file order.
    pub fn experimental_batches(&self) -> &[ExperimentalBatch<'a>] {
        &self.experimental
    }

    /// CPU samples, sorted by time.
    pub fn cpu_samples(&self) -> &[CpuSample] {
        &self.cpu_samples
    }
}

/// What preparing a generation produced.
pub(crate) enum Prepared<'a> {
    /// A complete generation, ready to be ordered; `then` is an error to
    /// report after its events (a broken batch header following it).
    Ready {
        tables: Box<Tables<'a>>,
        then: Option<Error>,
    },
    /// The input ended cleanly after batches without events (Go 1.26).
    End,
}

/// Decodes the structural batches of `g` and runs Go's per-generation checks.
pub(crate) fn prepare<'a>(
    data: &'a [u8],
    version: Version,
    g: &GenerationIndex,
) -> Result<Prepared<'a>> {
    prepare_inner(data, version, g).map_err(|e| e.in_generation(g.gen_no))
}

fn prepare_inner<'a>(
    data: &'a [u8],
    version: Version,
    g: &GenerationIndex,
) -> Result<Prepared<'a>> {
    let mut t = Tables::new(g.gen_no, g.min_ts);
    for b in &g.batches {
        let body = data.get(b.data.clone()).unwrap_or_default();
        process_batch(&mut t, b, body, version).map_err(|e| e.at_offset(b.offset))?;
    }
    let then = match &g.end {
        GenerationEnd::Complete => None,
        GenerationEnd::CompleteThenError(e) => Some(e.clone().in_generation(g.gen_no)),
        GenerationEnd::Broken(e) => return Err(e.clone()),
        GenerationEnd::TrailingBatches => return Ok(Prepared::End),
    };
    if t.freq.is_zero() {
        return Err(trace_err!("no frequency event found").at_offset(g.span.start));
    }
    if version >= Version::Go125 && t.clock.is_none() {
        return Err(trace_err!("no clock snapshot event found").at_offset(g.span.start));
    }
    t.strings.compact();
    t.stacks.compact();
    validate_stack_strings(&t)?;
    let freq = t.freq;
    for s in &mut t.cpu_samples {
        // Samples hold raw ticks until the frequency is known.
        s.time = freq.mul(s.time as u64);
    }
    t.cpu_samples.sort_by_key(|s| s.time);
    Ok(Prepared::Ready {
        tables: Box::new(t),
        then,
    })
}

fn process_batch<'a>(
    t: &mut Tables<'a>,
    b: &BatchRef,
    body: &'a [u8],
    version: Version,
) -> Result<()> {
    match b.kind {
        BatchKind::Strings => add_strings(t, body),
        BatchKind::Stacks => add_stacks(t, body),
        BatchKind::CpuSamples => add_cpu_samples(t, body),
        BatchKind::Sync => set_sync(t, b.time, body, version),
        BatchKind::Experimental => {
            t.experimental.push(ExperimentalBatch {
                experiment: b.exp,
                thread: b.m,
                data: body,
            });
            Ok(())
        }
        BatchKind::EndOfGeneration => Err(trace_err!(
            "internal error: unexpectedly processing EndOfGeneration; broken trace?"
        )),
        BatchKind::Events => {
            match t.event_batches.iter_mut().find(|(m, _)| *m == b.m) {
                Some((_, list)) => list.push(b.clone()),
                None => t.event_batches.push((b.m, vec![b.clone()])),
            }
            Ok(())
        }
    }
}

/// Reads the entries after the section's header byte, checking each entry's
/// type byte.
fn entries<'a>(
    body: &'a [u8],
    want: EventType,
    what: &str,
    mut entry: impl FnMut(&mut ByteReader<'a>) -> Result<()>,
) -> Result<()> {
    let mut r = ByteReader::new(body, 1);
    while r.remaining() != 0 {
        let ev = r.byte()?;
        if EventType(ev) != want {
            return Err(trace_err!("expected {what} event, got {ev}"));
        }
        entry(&mut r)?;
    }
    Ok(())
}

fn add_strings<'a>(t: &mut Tables<'a>, body: &'a [u8]) -> Result<()> {
    entries(body, EventType::STRING, "string", |r| {
        let id = r.uvarint()?;
        let len = r.uvarint()?;
        if len > MAX_EVENT_TRAILER_DATA_SIZE {
            return Err(trace_err!(
                "invalid string size {len}, maximum is {MAX_EVENT_TRAILER_DATA_SIZE}"
            ));
        }
        let s = r.take_up_to(len);
        if s.len() as u64 != len {
            return Err(trace_err!(
                "failed to read full string: read {} but wanted {len}",
                s.len()
            ));
        }
        t.strings.insert(id, s).map_err(|existing| {
            trace_err!(
                "multiple strings with the same ID: id={id}, new={}, existing={}",
                String::from_utf8_lossy(s),
                String::from_utf8_lossy(existing)
            )
        })
    })
}

fn add_stacks(t: &mut Tables<'_>, body: &[u8]) -> Result<()> {
    let Tables {
        stacks,
        stack_pcs,
        frames,
        ..
    } = t;
    entries(body, EventType::STACK, "stack", |r| {
        let id = r.uvarint()?;
        let n = r.uvarint()?;
        if n > MAX_FRAMES_PER_STACK {
            return Err(trace_err!(
                "invalid stack size {n}, maximum is {MAX_FRAMES_PER_STACK}"
            ));
        }
        let start = stack_pcs.len();
        for i in 1..=n {
            let mut field = |what: &str| {
                r.uvarint().map_err(|e| {
                    trace_err!("reading frame {i}'s {what} for stack {id}: {}", e.text())
                })
            };
            let pc = field("PC")?;
            let func = field("funcID")?;
            let file = field("fileID")?;
            let line = field("line")?;
            stack_pcs.push(pc);
            frames.entry(pc).or_insert(FrameRec {
                pc,
                func,
                file,
                line,
            });
        }
        let range = StackRange {
            start: u32::try_from(start).map_err(|_| trace_err!("stack table too large"))?,
            len: (stack_pcs.len() - start) as u32,
        };
        stacks.insert(id, range).map_err(|existing| {
            let show = |r: StackRange| {
                let s = r.start as usize;
                stack_pcs[s..s + r.len as usize]
                    .iter()
                    .map(|pc| format!("\t{pc:#x}\n"))
                    .collect::<String>()
            };
            trace_err!(
                "multiple trace.stacks with the same ID: id={id}, new={}, existing={}",
                show(range),
                show(existing)
            )
        })
    })
}

fn add_cpu_samples(t: &mut Tables<'_>, body: &[u8]) -> Result<()> {
    entries(body, EventType::CPU_SAMPLE, "CPU sample", |r| {
        let ts = r.uvarint()?;
        let m = r.uvarint()?;
        let p = r.uvarint()?;
        let g = r.uvarint()?;
        let stack = r.uvarint()?;
        t.cpu_samples.push(CpuSample {
            time: ts as Time,
            m: m as ThreadId,
            p: p as ProcId,
            g: if g == 0 { NO_GOROUTINE } else { g as GoId },
            stack,
        });
        Ok(())
    })
}

fn set_sync(t: &mut Tables<'_>, batch_time: u64, body: &[u8], version: Version) -> Result<()> {
    // Before Go 1.25 the batch is a lone Frequency event with no header byte.
    let mut r = ByteReader::new(body, usize::from(version >= Version::Go125));
    let mut last = batch_time;
    while r.remaining() != 0 {
        let ev = r.byte()?;
        match EventType(ev) {
            EventType::FREQUENCY => {
                if !t.freq.is_zero() {
                    return Err(trace_err!("found multiple frequency events"));
                }
                t.freq = Frequency::from_ticks_per_sec(r.uvarint()?);
            }
            EventType::CLOCK_SNAPSHOT if version >= Version::Go125 => {
                if t.clock.is_some() {
                    return Err(trace_err!("found multiple clock snapshot events"));
                }
                let dt = r.uvarint()?;
                last = last.wrapping_add(dt);
                let mono = r.uvarint()?;
                let sec = r.uvarint()?;
                let nsec = r.uvarint()?;
                t.clock = Some(ClockSnapshot {
                    ticks: last,
                    mono,
                    sec: sec as i64,
                    nsec: nsec as i64,
                });
            }
            _ => {
                return Err(trace_err!(
                    "expected frequency or clock snapshot event, got {ev}"
                ));
            }
        }
    }
    Ok(())
}

/// Every frame of every stack must name existing function and file strings.
fn validate_stack_strings(t: &Tables<'_>) -> Result<()> {
    for (id, range) in t.stacks.sorted() {
        let s = range.start as usize;
        for pc in t
            .stack_pcs
            .get(s..s + range.len as usize)
            .unwrap_or_default()
        {
            let f = t.frame(*pc);
            if !t.strings.contains(f.func) {
                return Err(trace_err!(
                    "found invalid func string ID {} for stack {id}",
                    f.func
                ));
            }
            if !t.strings.contains(f.file) {
                return Err(trace_err!(
                    "found invalid file string ID {} for stack {id}",
                    f.file
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::index;
    use crate::trace::index::tests::batch;

    #[test]
    fn builds_tables_and_checks() {
        let mut data = Vec::new();
        data.extend(batch(
            1,
            1,
            5,
            &[4, 5, 1, 3, b'f', b'o', b'o', 5, 2, 1, b'x'],
        ));
        data.extend(batch(1, 1, 5, &[2, 3, 7, 1, 0x90, 0x01, 1, 2, 42]));
        data.extend(batch(1, 1, 5, &[8, 100]));
        let idx = index::build(&data, 0, Version::Go122);
        let Ok(Prepared::Ready { tables, then: None }) =
            prepare(&data, Version::Go122, &idx.generations[0])
        else {
            panic!("expected a ready generation");
        };
        assert_eq!(tables.string(1), Some(&b"foo"[..]));
        assert_eq!(tables.stack_pcs(7), &[0x90]);
        assert_eq!(tables.frame(0x90).line, 42);
        assert_eq!(tables.freq().mul(1), 10_000_000);

        // A stack naming a missing string.
        let mut bad = data.clone();
        bad.extend(batch(1, 1, 5, &[2, 3, 8, 1, 0x91, 0x01, 9, 2, 42]));
        let idx = index::build(&bad, 0, Version::Go122);
        let err = prepare(&bad, Version::Go122, &idx.generations[0])
            .err()
            .unwrap();
        assert_eq!(err.message(), "found invalid func string ID 9 for stack 8");

        // Missing clock snapshot from Go 1.25 on.
        let idx = index::build(&data, 0, Version::Go125);
        let err = prepare(&data, Version::Go125, &idx.generations[0])
            .err()
            .unwrap();
        assert!(err.message().contains("frequency"), "{err}");
    }
}
