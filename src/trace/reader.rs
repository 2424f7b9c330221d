//! The reader: from bytes to the ordered event stream.
//!
//! [`Trace::open`] checks the header and builds the [generation
//! index](super::index). [`Trace::for_each_event`] then yields every event
//! exactly as Go's `trace.Reader` does: for each generation a Sync event,
//! then the generation's events merged across Ms by the ordering, with CPU
//! samples interleaved by time; a final Sync at the end. Times are made
//! strictly increasing the way Go does it (an event not later than its
//! predecessor is moved to one nanosecond after it).
//!
//! Generation tables are independent of each other, so a helper thread
//! prepares the next generation while the current one is being ordered;
//! the ordering itself is sequential, because goroutine, P and task state
//! carries over from one generation to the next. Only the generations in
//! flight are held in memory.
//!
//! [`Trace::decode_generation`] decodes a single generation on its own (as
//! if it were the first of the trace), for viewers that load generations on
//! demand.

use std::thread;

use super::base::{SchedCtx, Time};
use super::batchcursor::{BatchCursor, heap_insert, heap_remove, heap_update};
use super::error::{Error, Result, trace_err};
use super::event::{Event, EventRecord};
use super::generation::{Prepared, Tables, prepare};
use super::index::{self, TraceIndex};
use super::order::Ordering;
use super::tracev2::{self, EventType};
use super::version::{HeaderError, Version, read_header};

/// A trace whose header has been read and whose generations are indexed.
pub struct Trace<'a> {
    data: &'a [u8],
    index: TraceIndex,
}

/// What reading the whole trace found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Events yielded, Sync events included.
    pub events: u64,
    /// Generations whose events were yielded.
    pub generations: u64,
    /// Time of the first and last event.
    pub span: Option<(Time, Time)>,
}

impl<'a> Trace<'a> {
    /// Reads the header and indexes the generations.
    pub fn open(data: &'a [u8]) -> Result<Trace<'a>> {
        let (version, header_len) = read_header(data).map_err(|e| match e {
            HeaderError::NotATrace => Error::new("not a Go execution trace (bad header)").at_offset(0),
            HeaderError::UnknownVersion(v) => Error::new(e.to_string()).at_offset(5 + v.to_string().len() - 2),
        })?;
        if version.is_v1() {
            return Err(trace_err!(
                "Go 1.{} trace (format v1) is not supported yet",
                version.minor()
            ));
        }
        Ok(Trace {
            data,
            index: index::build(data, header_len, version),
        })
    }

    /// The format version.
    pub fn version(&self) -> Version {
        self.index.version
    }

    /// The generation index.
    pub fn index(&self) -> &TraceIndex {
        &self.index
    }

    /// Yields every event in Go's order to `f`. On a broken trace, every
    /// event Go's reader yields before the fault is yielded first, then the
    /// error is returned.
    pub fn for_each_event(&self, mut f: impl FnMut(Event<'_>)) -> Result<Summary> {
        let version = self.version();
        let data = self.data;
        let gens = &self.index.generations;
        thread::scope(|scope| {
            let (tx, rx) = crossbeam_channel::bounded(1);
            scope.spawn(move || {
                for g in gens {
                    let prepared = prepare(data, version, g);
                    let last = !matches!(prepared, Ok(Prepared::Ready { then: None, .. }));
                    if tx.send(prepared).is_err() || last {
                        break;
                    }
                }
            });
            let mut state = ReaderState::new(version);
            let result = (|| {
                for prepared in rx.iter() {
                    match prepared {
                        Err(e) => {
                            state.emit_sync(None, &mut f);
                            return Err(e);
                        }
                        Ok(Prepared::End) => break,
                        Ok(Prepared::Ready { mut tables, then }) => {
                            state.run_generation(data, &mut tables, &mut f)?;
                            if let Some(e) = then {
                                state.emit_sync(None, &mut f);
                                return Err(e);
                            }
                        }
                    }
                }
                state.emit_sync(None, &mut f);
                Ok(())
            })();
            drop(rx);
            result.map(|()| state.summary)
        })
    }

    /// Decodes generation `i` of the index on its own, as if it were the
    /// first generation of the trace: the status events at its start
    /// establish the state of every resource it mentions. Returns `None` if
    /// the index has no such (complete) generation.
    pub fn decode_generation(&self, i: usize) -> Option<Result<GenerationEvents<'a>>> {
        let g = self.index.generations.get(i)?;
        let mut tables = match prepare(self.data, self.version(), g) {
            Ok(Prepared::Ready { tables, .. }) => tables,
            Ok(Prepared::End) => return None,
            Err(e) => return Some(Err(e)),
        };
        let mut state = ReaderState::new(self.version());
        state.syncs = i as u64;
        let mut records = Vec::new();
        let r = state.run_generation_records(self.data, &mut tables, &mut |_, rec| records.push(rec));
        Some(r.map(|()| GenerationEvents { tables, records }))
    }
}

/// The events of one generation decoded on its own.
pub struct GenerationEvents<'a> {
    tables: Box<Tables<'a>>,
    records: Vec<EventRecord>,
}

impl<'a> GenerationEvents<'a> {
    /// The generation's tables (strings, stacks, clock snapshot, ...).
    pub fn tables(&self) -> &Tables<'a> {
        &self.tables
    }

    /// Number of events, the leading Sync included.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no events at all.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The `i`-th event.
    pub fn get(&self, i: usize) -> Option<Event<'_>> {
        self.records.get(i).map(|&rec| Event::new(Some(&*self.tables), rec))
    }

    /// The events in order.
    pub fn iter(&self) -> impl Iterator<Item = Event<'_>> {
        self.records.iter().map(|&rec| Event::new(Some(&*self.tables), rec))
    }
}

/// Reader state that spans generations.
struct ReaderState<'a> {
    order: Ordering<'a>,
    last_ts: Time,
    syncs: u64,
    summary: Summary,
}

impl<'a> ReaderState<'a> {
    fn new(version: Version) -> ReaderState<'a> {
        ReaderState {
            order: Ordering::new(version),
            last_ts: 0,
            syncs: 0,
            summary: Summary::default(),
        }
    }

    /// Makes `time` strictly later than the previous event's, as Go does.
    fn clamp(&mut self, rec: &mut EventRecord) {
        if rec.time <= self.last_ts {
            rec.time = self.last_ts.wrapping_add(1);
        }
        self.last_ts = rec.time;
        self.summary.events += 1;
        let span = self.summary.span.get_or_insert((rec.time, rec.time));
        span.1 = rec.time;
    }

    /// Emits a Sync event that does not start a generation.
    fn emit_sync(&mut self, tables: Option<&Tables<'_>>, f: &mut impl FnMut(Event<'_>)) {
        self.syncs += 1;
        let mut rec = EventRecord::sync(self.last_ts, self.syncs);
        self.clamp(&mut rec);
        f(Event::new(tables, rec));
    }

    /// Orders generation `t` and yields its events.
    fn run_generation(&mut self, data: &'a [u8], t: &mut Tables<'a>, f: &mut impl FnMut(Event<'_>)) -> Result<()> {
        self.summary.generations += 1;
        let gen_no = t.gen_no;
        self.run_generation_records(data, t, &mut |t, rec| f(Event::new(Some(t), rec)))
            .map_err(|e| e.in_generation(gen_no))
    }

    /// Orders generation `t`, handing each finished record to `out`. The
    /// ordering appends to `t` (names of tasks from earlier generations)
    /// between events, so `out` gets a fresh shared borrow of it each time.
    fn run_generation_records(
        &mut self,
        data: &'a [u8],
        t: &mut Tables<'a>,
        out: &mut impl FnMut(&Tables<'a>, EventRecord),
    ) -> Result<()> {
        let freq = t.freq();
        let mut frontier: Vec<BatchCursor> = Vec::new();
        for (slot, (m, batches)) in t.event_batches.iter().enumerate() {
            let mut bc = BatchCursor::new(*m, slot);
            if bc.next_event(data, batches, freq)? {
                heap_insert(&mut frontier, bc);
            }
        }
        self.syncs += 1;
        let mut sync = EventRecord::sync(freq.mul(t.min_ts), self.syncs);
        sync.args[1] = 1;
        self.clamp(&mut sync);
        out(t, sync);

        let mut next_sample = 0;
        loop {
            let sample = t.cpu_samples.get(next_sample).copied();
            if frontier.is_empty() && sample.is_none() {
                return Ok(());
            }
            if let Some(s) = sample
                && frontier.first().is_none_or(|c| s.time < c.ev.time)
            {
                next_sample += 1;
                let mut rec = EventRecord {
                    typ: EventType::CPU_SAMPLE,
                    ctx: SchedCtx { g: s.g, p: s.p, m: s.m },
                    time: s.time,
                    args: [s.stack, 0, 0, 0],
                };
                self.clamp(&mut rec);
                out(t, rec);
                continue;
            }
            if !self.try_advance(data, t, &mut frontier, 0)? {
                sort_frontier(&mut frontier);
                let mut advanced = false;
                for i in 1..frontier.len() {
                    if self.try_advance(data, t, &mut frontier, i)? {
                        advanced = true;
                        break;
                    }
                }
                if !advanced {
                    return Err(trace_err!(
                        "broken trace: failed to advance: frontier:\n[gen={}]\n\n{}\n{}\n",
                        t.gen_no,
                        dump_frontier(&frontier),
                        self.order.dump()
                    ));
                }
            }
            let mut queue = std::mem::take(&mut self.order.queue);
            for rec in queue.iter_mut() {
                validate_table_ids(t, rec)?;
                self.clamp(rec);
                out(t, *rec);
            }
            queue.clear();
            self.order.queue = queue;
        }
    }

    /// Offers the event under cursor `i` to the ordering; on success moves
    /// the cursor on and restores the heap.
    fn try_advance(
        &mut self,
        data: &'a [u8],
        t: &mut Tables<'a>,
        frontier: &mut Vec<BatchCursor>,
        i: usize,
    ) -> Result<bool> {
        let gen_no = t.gen_no;
        let bc = &mut frontier[i];
        if !self.order.advance(&mut bc.ev, t, bc.m, gen_no)? {
            return Ok(false);
        }
        let batches = &t.event_batches[bc.slot].1;
        if bc.next_event(data, batches, t.freq())? {
            heap_update(frontier, i);
        } else {
            heap_remove(frontier, i);
        }
        Ok(true)
    }
}

/// Go checks that every string and stack an event refers to exists.
fn validate_table_ids(t: &Tables<'_>, rec: &EventRecord) -> Result<()> {
    let Some(spec) = tracev2::specs().get(rec.typ.index()) else {
        return Ok(());
    };
    for &i in spec.stack_ids {
        let id = rec.args.get(i.wrapping_sub(1)).copied().unwrap_or_default();
        if !t.stacks.contains(id) {
            return Err(trace_err!("found invalid stack ID {id} for event {}", spec.name));
        }
    }
    for &i in spec.string_ids {
        let id = rec.args.get(i.wrapping_sub(1)).copied().unwrap_or_default();
        if !t.strings.contains(id) {
            return Err(trace_err!("found invalid string ID {id} for event {}", spec.name));
        }
    }
    Ok(())
}

/// Sorts the frontier by next-event time, as Go's `slices.SortFunc`
/// (insertion sort, which it uses for up to 12 elements).
fn sort_frontier(frontier: &mut [BatchCursor]) {
    for i in 1..frontier.len() {
        let mut j = i;
        while j > 0 && frontier[j].ev.time < frontier[j - 1].ev.time {
            frontier.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn dump_frontier(frontier: &[BatchCursor]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for bc in frontier {
        let spec = tracev2::specs().get(bc.ev.typ.index()).unwrap_or(&tracev2::EventSpec::UNUSED);
        let _ = write!(s, "M {} [{} time={}", bc.m, spec.name, bc.ev.time);
        for (name, v) in spec.args.iter().skip(1).zip(bc.ev.args) {
            let _ = write!(s, " {name}={v}");
        }
        s.push_str("]\n");
    }
    s
}
