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
//! A viewer opens one file from several threads at once (checking it,
//! decoding it, analysing it), and indexing touches every page of the file:
//! a [`SharedIndex`] lets the first of them index it and the others take a
//! copy ([`Trace::open_shared`]).
//!
//! [`Trace::decode_generation`] decodes a single generation on its own (as
//! if it were the first of the trace), for viewers that load generations on
//! demand.
//!
//! [`Trace::for_each_event_parallel`] (what `gotv check` uses) orders the
//! generations on several threads at once: every generation but the first is
//! ordered speculatively, on its own, recording what it assumed about the
//! state earlier generations left; a cheap sequential pass then checks those
//! assumptions against the real state and applies each generation's effects,
//! ordering a generation again exactly whenever an assumption does not hold
//! or it failed. The summary and the error are those of the sequential
//! reader (`tests/parallel_check.rs` compares them on real and mutated
//! traces). Results come back in any order but are consumed in trace order,
//! so the threads are handed generations from a bounded window ahead of the
//! next one to consume, largest first, which evens out their finishing
//! times.
//!
//! The ordering loop is the hot path (one iteration per event). Almost every
//! event is accepted on the spot by the ordering's fast path
//! (`Ordering::advance_fast_on`), and often the same M's next events too: while
//! the top cursor's next event is no later than its heap children and no
//! CPU sample comes first, it stays on top and the loop runs on without
//! touching the heap. Records go to a `RecordOut`, a trait rather than a
//! closure so that the accumulator of [`Trace::for_each_event_parallel`]
//! (an `EventSink`) is inlined into the loop; since such a pass only needs
//! to know *whether* a generation fails (a failing generation is ordered
//! again exactly), it may take an event before the next one of its M is
//! decoded, which saves copying it.

use std::ops::{ControlFlow, Range};
use std::sync::OnceLock;
use std::thread;

use super::base::{SchedCtx, Time};
use super::batchcursor::{BatchCursor, Frontier, Release};
use super::error::{Error, Result, trace_err};
#[cfg(test)]
use super::event::EventKind;
use super::event::{Event, EventRecord};
use super::generation::{Prepared, Tables, prepare};
use super::index::{self, TraceIndex};
use super::input::TraceBytes;
use super::order::Ordering;
use super::tracev2::{self, EventType};
use super::version::{Version, read_header};

/// A trace whose header has been read and whose generations are indexed.
pub struct Trace<'a> {
    data: &'a [u8],
    index: TraceIndex,
    /// Called with each generation's bytes once a whole-trace pass is done
    /// with them, and with each event batch's once its events are ordered.
    release: Release<'a>,
}

/// The outcome of opening one file, shared by the threads that open it (see
/// [`Trace::open_shared`]): the length of the bytes it was made from, and
/// the index or why the file is not a trace.
#[derive(Debug, Default)]
pub struct SharedIndex(OnceLock<(usize, Result<TraceIndex>)>);

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
        Self::open_releasing(data, &|_| {})
    }

    /// [`Trace::open`] of the bytes of `data`, which the index pass reads
    /// a batch header at a time (see [`TraceBytes`]), calling `release`
    /// with the bytes of each generation once [`Trace::try_for_each_event`]
    /// is done with them (see [`Input::release`](super::Input::release)):
    /// a pass over a mapped file then keeps about one generation resident.
    pub fn open_releasing(
        data: &'a (impl TraceBytes + ?Sized),
        release: &'a (dyn Fn(Range<usize>) + Sync),
    ) -> Result<Trace<'a>> {
        let bytes = data.bytes();
        // Go's wording: "bad file format: not a Go execution trace?" or
        // "unknown or unsupported trace version go 1.N".
        let (version, header_len) =
            read_header(bytes).map_err(|e| Error::new(e.to_string()).at_offset(0))?;
        if version.is_v1() {
            return Err(trace_err!(
                "Go 1.{} trace (format v1) is not supported yet",
                version.minor()
            ));
        }
        Ok(Trace {
            data: bytes,
            index: index::build(data, header_len, version),
            release,
        })
    }

    /// [`Trace::open_releasing`] with the index `shared` holds, made by
    /// whichever thread opened the file first (the others wait for it).
    /// `data` must be the same file's bytes; if its length differs from
    /// that of the bytes the shared index was made from (the file changed
    /// in between), the trace is indexed on its own.
    pub fn open_shared(
        data: &'a (impl TraceBytes + ?Sized),
        release: &'a (dyn Fn(Range<usize>) + Sync),
        shared: &SharedIndex,
    ) -> Result<Trace<'a>> {
        let mut own = None;
        let len = data.bytes().len();
        let (indexed_len, index) = shared.0.get_or_init(|| {
            let opened = Trace::open_releasing(data, release);
            let index = match &opened {
                Ok(trace) => Ok(trace.index.clone()),
                Err(e) => Err(e.clone()),
            };
            own = Some(opened);
            (len, index)
        });
        if let Some(opened) = own {
            return opened;
        }
        match index {
            Ok(index) if *indexed_len == len => Ok(Trace {
                data: data.bytes(),
                index: index.clone(),
                release,
            }),
            Err(e) if *indexed_len == len => Err(e.clone()),
            _ => Trace::open_releasing(data, release),
        }
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
        self.try_for_each_event(|ev| {
            f(ev);
            ControlFlow::Continue(())
        })
    }

    /// Like [`Trace::for_each_event`], but `f` can stop the reading early
    /// (for instance when the output pipe is closed); the summary then
    /// covers the events yielded so far.
    pub fn try_for_each_event(
        &self,
        mut f: impl FnMut(Event<'_>) -> ControlFlow<()>,
    ) -> Result<Summary> {
        let version = self.version();
        let data = self.data;
        let gens = &self.index.generations;
        thread::scope(|scope| {
            let (tx, rx) = crossbeam_channel::bounded(1);
            scope.spawn(move || {
                for g in gens {
                    let prepared = prepare(data, version, g);
                    let last = !matches!(prepared, Ok(Prepared::Ready { then: None, .. }));
                    if tx.send((prepared, g.span.clone())).is_err() || last {
                        break;
                    }
                }
            });
            let mut state = ReaderState::new(version, self.release);
            let result = (|| {
                for (prepared, bytes) in rx.iter() {
                    match prepared {
                        Err(e) => {
                            state.emit_sync(None, &mut f);
                            return Err(e);
                        }
                        Ok(Prepared::End) => break,
                        Ok(Prepared::Ready { mut tables, then }) => {
                            let run = state.run_generation(data, &mut tables, &mut f)?;
                            (self.release)(bytes);
                            if run.is_break() {
                                return Ok(());
                            }
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

    /// Reads the whole trace as [`Trace::for_each_event`] does, with the
    /// generations ordered on `threads` threads at once, for callers that
    /// only accumulate over the events (`gotv check`).
    ///
    /// Each generation is ordered on its own (the first one exactly, the
    /// others speculatively: see `Ordering::new_spec`); then, in trace order,
    /// what each assumed about the state the earlier generations left is
    /// checked against the real state and its effects applied. A generation
    /// whose assumptions do not hold, or whose ordering failed, is ordered
    /// again exactly, so the summary and the error are always those of
    /// [`Trace::for_each_event`], and the same events are accepted. Events
    /// of a speculatively ordered generation may differ from the exact ones
    /// in what the ordering derives from earlier generations: the previous
    /// state and context of the status events that open it and the parent
    /// and name of a task that began earlier. Times are not made strictly
    /// increasing (the summary's span is).
    ///
    /// `new_acc` makes an accumulator per generation, `f` adds an event to
    /// it; the accumulators come back in trace order, the last one holding
    /// the final Sync. `done` is called with the byte range of each
    /// generation once nothing needs it any more (so a caller can release
    /// the pages of a mapped file). At most `threads` generations are being
    /// decoded at a time.
    pub fn for_each_event_parallel<S: Send>(
        &self,
        threads: usize,
        new_acc: impl Fn() -> S + Sync,
        f: impl Fn(&mut S, Event<'_>) + Sync,
        done: impl Fn(Range<usize>) + Sync,
    ) -> Result<(Summary, Vec<S>)> {
        let (summary, accs) = self.for_each_event_parallel_with(
            threads,
            || WithFn {
                acc: new_acc(),
                f: &f,
            },
            done,
        )?;
        Ok((summary, accs.into_iter().map(|a| a.acc).collect()))
    }

    /// [`Trace::for_each_event_parallel`] with the accumulator as an
    /// [`EventSink`], whose method the reader's loops inline (a closure
    /// called through `Fn` may not be).
    pub(crate) fn for_each_event_parallel_with<S: EventSink + Send>(
        &self,
        threads: usize,
        new_acc: impl Fn() -> S + Sync,
        done: impl Fn(Range<usize>) + Sync,
    ) -> Result<(Summary, Vec<S>)> {
        let (version, data, release) = (self.version(), self.data, self.release);
        let gens = &self.index.generations;
        let threads = threads.max(1);
        let (work_tx, work_rx) = crossbeam_channel::unbounded::<usize>();
        let (res_tx, res_rx) = crossbeam_channel::unbounded::<(usize, Decoded<'a, S>)>();
        let (new_acc, done) = (&new_acc, &done);
        thread::scope(|scope| {
            for _ in 0..threads {
                let (work_rx, res_tx) = (work_rx.clone(), res_tx.clone());
                scope.spawn(move || {
                    for i in work_rx.iter() {
                        let Some(g) = gens.get(i) else { break };
                        let d = match prepare(data, version, g) {
                            Err(e) => Decoded::Failed(e),
                            Ok(Prepared::End) => Decoded::End,
                            Ok(Prepared::Ready { mut tables, then }) => {
                                let mut st = if i == 0 {
                                    ReaderState::new(version, release)
                                } else {
                                    ReaderState::new_spec(version, release)
                                };
                                let mut acc = new_acc();
                                let run = st.run_generation_sink(data, &mut tables, &mut acc);
                                drop(tables);
                                done(g.span.clone());
                                Decoded::Done {
                                    run: run.map(|_| (Box::new(st), acc)),
                                    then,
                                }
                            }
                        };
                        if res_tx.send((i, d)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(res_tx);
            let mut feeder = Feeder {
                fed: vec![false; gens.len()],
                in_flight: 0,
                threads,
            };
            feeder.feed(0, gens, &work_tx);
            let mut pending: Vec<Option<Decoded<'a, S>>> = (0..gens.len()).map(|_| None).collect();
            let result = (|| {
                let mut state = ReaderState::new(version, release);
                let mut accs = Vec::new();
                // Sequence numbers are scoped to a generation number: a
                // speculative ordering is only exact if no earlier generation
                // had the same number.
                let mut max_gen_no = None;
                for (i, g) in gens.iter().enumerate() {
                    let renumbered = max_gen_no.is_some_and(|m| g.gen_no <= m);
                    max_gen_no = max_gen_no.max(Some(g.gen_no));
                    // The window moved on: keep the threads busy.
                    feeder.feed(i, gens, &work_tx);
                    let d = loop {
                        if let Some(d) = pending.get_mut(i).and_then(Option::take) {
                            break d;
                        }
                        let Ok((j, d)) = res_rx.recv() else {
                            return Err(trace_err!("internal error: decoding thread exited"));
                        };
                        if let Some(slot) = pending.get_mut(j) {
                            *slot = Some(d);
                        }
                        feeder.in_flight -= 1;
                        feeder.feed(i, gens, &work_tx);
                    };
                    let then = match d {
                        Decoded::Failed(e) => {
                            let mut acc = new_acc();
                            state.emit_sync(None, &mut |ev| {
                                acc.event(ev);
                                ControlFlow::Continue(())
                            });
                            return Err(e);
                        }
                        Decoded::End => break,
                        Decoded::Done { run, then } => {
                            let exact = match run {
                                Ok((st, acc)) if i == 0 => {
                                    state = *st;
                                    accs.push(acc);
                                    true
                                }
                                // Not necessarily the error Go reports (see
                                // `RecordOut::EARLY`): ordered again below.
                                Err(_) if i == 0 => false,
                                Ok((st, acc)) => {
                                    let ok = !renumbered && state.absorb(*st);
                                    if ok {
                                        accs.push(acc);
                                    }
                                    ok
                                }
                                // Failed, or assumed what does not hold: the
                                // exact reader decides.
                                Err(_) => false,
                            };
                            if !exact {
                                {
                                    // Order it again, exactly.
                                    let mut tables = match prepare(data, version, g) {
                                        Ok(Prepared::Ready { tables, .. }) => tables,
                                        Ok(Prepared::End) => break,
                                        Err(e) => return Err(e),
                                    };
                                    let mut acc = new_acc();
                                    let _ = state.run_generation(data, &mut tables, &mut |ev| {
                                        acc.event(ev);
                                        ControlFlow::Continue(())
                                    })?;
                                    accs.push(acc);
                                    done(g.span.clone());
                                }
                            }
                            then
                        }
                    };
                    if let Some(e) = then {
                        let mut acc = new_acc();
                        state.emit_sync(None, &mut |ev| {
                            acc.event(ev);
                            ControlFlow::Continue(())
                        });
                        return Err(e);
                    }
                }
                let mut acc = new_acc();
                state.emit_sync(None, &mut |ev| {
                    acc.event(ev);
                    ControlFlow::Continue(())
                });
                accs.push(acc);
                Ok((state.summary, accs))
            })();
            drop(work_tx);
            result
        })
    }

    /// Decodes generation `i` of the index on its own, as if it were the
    /// first generation of the trace: the status events at its start
    /// establish the state of every resource it mentions. Returns `None` if
    /// the index has no such (complete) generation.
    pub fn decode_generation(&self, i: usize) -> Option<Result<GenerationEvents<'a>>> {
        let mut records = Vec::new();
        let tables = self.stream_generation(i, |ev| records.push(*ev.record()))?;
        Some(tables.map(|tables| GenerationEvents { tables, records }))
    }

    /// The error that keeps the trace from being read past generation
    /// `i`, which is complete, if there is one (Go reports it after the
    /// generation's events).
    pub fn error_after_generation(&self, i: usize) -> Option<Error> {
        let g = self.index.generations.get(i)?;
        match &g.end {
            index::GenerationEnd::CompleteThenError(e) => Some(e.clone().in_generation(g.gen_no)),
            _ => None,
        }
    }

    /// Gives back the pages of generation `i`'s bytes, as a whole-trace
    /// pass does once done with them (for callers that decode generations
    /// on their own with [`Self::stream_generation`]).
    pub fn release_generation(&self, i: usize) {
        if let Some(g) = self.index.generations.get(i) {
            (self.release)(g.span.clone());
        }
    }

    /// Like [`Self::decode_generation`], but hands each event to `f` as it
    /// is ordered instead of collecting them: a viewer building its own
    /// model of the generation never holds the decoder's records. Returns
    /// the generation's tables, or the error that ended it (the events
    /// before it were handed over).
    pub fn stream_generation(
        &self,
        i: usize,
        mut f: impl FnMut(Event<'_>),
    ) -> Option<Result<Box<Tables<'a>>>> {
        let g = self.index.generations.get(i)?;
        let mut tables = match prepare(self.data, self.version(), g) {
            Ok(Prepared::Ready { tables, .. }) => tables,
            Ok(Prepared::End) => return None,
            Err(e) => return Some(Err(e)),
        };
        let mut state = ReaderState::new(self.version(), self.release);
        state.syncs = i as u64;
        let r = state.run_generation_records(self.data, &mut tables, &mut |t: &Tables<'a>, rec| {
            f(Event::new(Some(t), rec));
            ControlFlow::Continue(())
        });
        Some(r.map(|_| tables))
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
        self.records
            .get(i)
            .map(|&rec| Event::new(Some(&*self.tables), rec))
    }

    /// The events in order.
    pub fn iter(&self) -> impl Iterator<Item = Event<'_>> {
        self.records
            .iter()
            .map(|&rec| Event::new(Some(&*self.tables), rec))
    }
}

/// Where the ordering loop hands finished records, with the tables of
/// their generation (a trait rather than a closure so that the sink of
/// [`Trace::for_each_event_parallel_with`] can be inlined into the loop).
trait RecordOut<'a> {
    /// The output never stops the reading and has no use for the events
    /// before an error (which then decides alone): the ordering loop may
    /// hand an event over before decoding the next event of its thread,
    /// whose error Go reports before the event.
    const EARLY: bool = false;

    /// Takes one record; `Break` stops the reading.
    fn record(&mut self, t: &Tables<'a>, rec: EventRecord) -> ControlFlow<()>;
}

impl<'a, F: FnMut(&Tables<'a>, EventRecord) -> ControlFlow<()>> RecordOut<'a> for F {
    #[inline(always)]
    fn record(&mut self, t: &Tables<'a>, rec: EventRecord) -> ControlFlow<()> {
        self(t, rec)
    }
}

/// An [`EventSink`] as a [`RecordOut`].
struct SinkOut<'s, S>(&'s mut S);

impl<'a, S: EventSink> RecordOut<'a> for SinkOut<'_, S> {
    const EARLY: bool = true;

    #[inline(always)]
    fn record(&mut self, t: &Tables<'a>, rec: EventRecord) -> ControlFlow<()> {
        self.0.event(Event::new(Some(t), rec));
        ControlFlow::Continue(())
    }
}

/// An accumulator of [`Trace::for_each_event_parallel_with`].
pub(crate) trait EventSink {
    /// Adds one event.
    fn event(&mut self, ev: Event<'_>);
}

/// The accumulator of [`Trace::for_each_event_parallel`]: a value and the
/// function that adds an event to it.
struct WithFn<'f, S, F> {
    acc: S,
    f: &'f F,
}

impl<S, F: Fn(&mut S, Event<'_>)> EventSink for WithFn<'_, S, F> {
    #[inline]
    fn event(&mut self, ev: Event<'_>) {
        (self.f)(&mut self.acc, ev);
    }
}

/// Hands generations to the threads of [`Trace::for_each_event_parallel`].
///
/// Results are consumed in trace order, so only a window of generations
/// after the next one to consume may be started (which bounds the finished
/// results waiting); within it the largest is started first, so that the
/// threads finish at about the same time rather than one of them ordering a
/// big generation alone at the end.
struct Feeder {
    /// Generations already handed out.
    fed: Vec<bool>,
    /// Generations handed out whose results have not come back.
    in_flight: usize,
    threads: usize,
}

impl Feeder {
    /// Generations a window holds per thread.
    const WINDOW_PER_THREAD: usize = 4;

    /// Keeps every thread busy with the largest generations of the window
    /// that starts at generation `next` (the next one to consume).
    fn feed(
        &mut self,
        next: usize,
        gens: &[index::GenerationIndex],
        work_tx: &crossbeam_channel::Sender<usize>,
    ) {
        let end = next
            .saturating_add(self.threads.saturating_mul(Self::WINDOW_PER_THREAD))
            .min(gens.len());
        while self.in_flight < self.threads {
            let best = (next..end)
                .filter(|&j| !self.fed.get(j).copied().unwrap_or(true))
                .max_by_key(|&j| {
                    (
                        gens.get(j).map_or(0, |g| g.span.len()),
                        std::cmp::Reverse(j),
                    )
                });
            let Some(j) = best else {
                return;
            };
            if let Some(f) = self.fed.get_mut(j) {
                *f = true;
            }
            if work_tx.send(j).is_err() {
                return;
            }
            self.in_flight += 1;
        }
    }
}

/// A generation as a thread of [`Trace::for_each_event_parallel`] left it.
enum Decoded<'a, S> {
    /// Its tables could not be read.
    Failed(Error),
    /// The index ends before it.
    End,
    /// Ordered (exactly if it is the first, speculatively otherwise).
    Done {
        run: Result<(Box<ReaderState<'a>>, S)>,
        then: Option<Error>,
    },
}

/// Reader state that spans generations.
struct ReaderState<'a> {
    order: Ordering<'a>,
    last_ts: Time,
    syncs: u64,
    summary: Summary,
    /// A time was moved past `Time::MAX` (and wrapped).
    wrapped: bool,
    /// Told of each event batch the ordering is done with.
    release: Release<'a>,
}

impl<'a> ReaderState<'a> {
    fn new(version: Version, release: Release<'a>) -> ReaderState<'a> {
        ReaderState {
            order: Ordering::new(version),
            last_ts: 0,
            syncs: 0,
            summary: Summary::default(),
            wrapped: false,
            release,
        }
    }

    /// State for ordering one generation on its own, speculatively: times
    /// are clamped as if the previous event were infinitely early.
    fn new_spec(version: Version, release: Release<'a>) -> ReaderState<'a> {
        ReaderState {
            order: Ordering::new_spec(version),
            last_ts: Time::MIN,
            ..ReaderState::new(version, release)
        }
    }

    /// Takes on a generation that `o` ordered speculatively, if that gives
    /// exactly the state, summary and times ordering it here would have:
    /// clamping `n` events after `last_ts` ends at `max(a, last_ts + n)`,
    /// where `a` is where clamping them after an infinitely early time ends,
    /// as long as nothing wraps.
    fn absorb(&mut self, o: ReaderState<'a>) -> bool {
        let n = o.summary.events;
        let (Some((_, a)), Some(_)) = (o.summary.span, self.summary.span) else {
            return false;
        };
        let Some(after) = i64::try_from(n)
            .ok()
            .and_then(|n| self.last_ts.checked_add(n))
        else {
            return false;
        };
        let last = a.max(after);
        if o.wrapped || self.wrapped || last >= Time::MAX - 1 {
            return false;
        }
        if !self.order.merge_spec(o.order) {
            return false;
        }
        self.last_ts = last;
        self.syncs += o.syncs;
        self.summary.events += n;
        self.summary.generations += o.summary.generations;
        if let Some(span) = &mut self.summary.span {
            span.1 = last;
        }
        true
    }

    /// Makes `time` strictly later than the previous event's, as Go does.
    fn clamp(&mut self, rec: &mut EventRecord) {
        rec.time = self.clamp_time(rec.time);
    }

    /// The time of an event at `time`, made strictly later than the
    /// previous event's, as Go does; counts the event.
    #[inline(always)]
    fn clamp_time(&mut self, mut time: Time) -> Time {
        if time <= self.last_ts {
            self.wrapped |= self.last_ts == Time::MAX;
            time = self.last_ts.wrapping_add(1);
        }
        self.last_ts = time;
        self.summary.events += 1;
        let span = self.summary.span.get_or_insert((time, time));
        span.1 = time;
        time
    }

    /// Emits a Sync event that does not start a generation.
    fn emit_sync(
        &mut self,
        tables: Option<&Tables<'_>>,
        f: &mut impl FnMut(Event<'_>) -> ControlFlow<()>,
    ) {
        self.syncs += 1;
        let mut rec = EventRecord::sync(self.last_ts, self.syncs);
        self.clamp(&mut rec);
        // Nothing follows a Sync that does not start a generation.
        let _ = f(Event::new(tables, rec));
    }

    /// Orders generation `t` and yields its events.
    fn run_generation(
        &mut self,
        data: &'a [u8],
        t: &mut Tables<'a>,
        f: &mut impl FnMut(Event<'_>) -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>> {
        self.summary.generations += 1;
        let gen_no = t.gen_no;
        self.run_generation_records(data, t, &mut |t: &Tables<'a>, rec| {
            f(Event::new(Some(t), rec))
        })
        .map_err(|e| e.in_generation(gen_no))
    }

    /// [`ReaderState::run_generation`] for an [`EventSink`], whose method is
    /// inlined into the ordering loop (a closure called through `Fn` from
    /// that big loop is not, and the call per event costs more than the
    /// sink's work). On an error, the events handed over and the error are
    /// not necessarily Go's (see `RecordOut::EARLY`): only whether there is
    /// an error is.
    fn run_generation_sink(
        &mut self,
        data: &'a [u8],
        t: &mut Tables<'a>,
        acc: &mut impl EventSink,
    ) -> Result<()> {
        self.summary.generations += 1;
        let gen_no = t.gen_no;
        let _ = self
            .run_generation_records(data, t, &mut SinkOut(acc))
            .map_err(|e| e.in_generation(gen_no))?;
        Ok(())
    }

    /// Orders generation `t`, handing each finished record to `out`. The
    /// ordering appends to `t` (names of tasks from earlier generations)
    /// between events, so `out` gets a fresh shared borrow of it each time.
    fn run_generation_records<O: RecordOut<'a>>(
        &mut self,
        data: &'a [u8],
        t: &mut Tables<'a>,
        out: &mut O,
    ) -> Result<ControlFlow<()>> {
        let freq = t.freq();
        let event_batches = std::mem::take(&mut t.event_batches);
        let mut frontier = Frontier::new();
        for (m, batches) in &event_batches {
            let thread = self.order.thread(*m);
            let mut bc = BatchCursor::new(thread, (data, batches), freq, self.release);
            if bc.next_event(freq)? {
                frontier.insert(bc);
            }
        }
        self.syncs += 1;
        let mut sync = EventRecord::sync(freq.mul(t.min_ts), self.syncs);
        sync.args[1] = 1;
        self.clamp(&mut sync);
        if out.record(t, sync).is_break() {
            return Ok(ControlFlow::Break(()));
        }

        self.order_events(t, &mut frontier, out)
    }

    /// The merge loop of [`ReaderState::run_generation_records`]: CPU
    /// samples are interleaved by time with the events the ordering accepts
    /// from `frontier`.
    fn order_events<O: RecordOut<'a>>(
        &mut self,
        t: &mut Tables<'a>,
        frontier: &mut Frontier<'_>,
        out: &mut O,
    ) -> Result<ControlFlow<()>> {
        let freq = t.freq();
        let gen_no = t.gen_no;
        let mut next_sample = 0;
        loop {
            let min_time = frontier.min_time();
            // A sample goes first if it is strictly earlier than every event.
            if let Some(&s) = t.cpu_samples.get(next_sample)
                && min_time.is_none_or(|t| s.time < t)
            {
                next_sample += 1;
                let mut rec = EventRecord {
                    typ: EventType::CPU_SAMPLE,
                    ctx: SchedCtx {
                        g: s.g,
                        p: s.p,
                        m: s.m,
                    },
                    time: s.time,
                    args: [s.stack, 0, 0, 0],
                };
                self.clamp(&mut rec);
                if out.record(t, rec).is_break() {
                    return Ok(ControlFlow::Break(()));
                }
                continue;
            }
            if min_time.is_none() {
                return Ok(ControlFlow::Continue(()));
            }
            // The common case: the earliest event is accepted on the spot,
            // and so are the next events of the same cursor as long as it
            // stays the earliest. It does while its time is no later than
            // its children's in the heap (Go's sift only moves it below a
            // strictly earlier child) and no sample is strictly earlier.
            let sample_time = t.cpu_samples.get(next_sample).map_or(Time::MAX, |s| s.time);
            let limit = frontier.min_child_time().min(sample_time);
            let Frontier { cursors, heap } = &mut *frontier;
            let Some(top) = heap.first_mut() else {
                return Err(trace_err!("internal error: empty frontier"));
            };
            let Some(bc) = cursors.get_mut(top.1 as usize) else {
                return Err(trace_err!("internal error: frontier out of step"));
            };
            let mut ran = false;
            let fast = self.order.fast_thread(bc.m);
            while fast && let Some((g, p)) = self.order.advance_fast_on(&bc.ev, bc.m, gen_no) {
                ran = true;
                if O::EARLY {
                    // Handed over before the next event is decoded (whose
                    // error would come first in Go): the sink reads only
                    // what it needs of the event in place.
                    let ev = &bc.ev;
                    validate_ids(t, ev.typ, &ev.args)?;
                    let rec = EventRecord {
                        typ: ev.typ,
                        ctx: SchedCtx { g, p, m: bc.m.id },
                        time: self.clamp_time(ev.time),
                        args: ev.args,
                    };
                    let _ = out.record(t, rec);
                    let more = bc.next_event(freq)?;
                    top.0 = bc.ev.time;
                    if more && bc.ev.time <= limit {
                        continue;
                    }
                    if more {
                        frontier.update_top();
                    } else {
                        frontier.remove(0);
                    }
                    break;
                }
                let (typ, time, args, m) = (bc.ev.typ, bc.ev.time, bc.ev.args, bc.m.id);
                let more = bc.next_event(freq)?;
                top.0 = bc.ev.time;
                let stay = more && bc.ev.time <= limit;
                validate_ids(t, typ, &args)?;
                let time = self.clamp_time(time);
                // Built only now, in one go: a record assembled field by
                // field ahead of its copy into the sink would be read back
                // wider than it was written, which stalls.
                let rec = EventRecord {
                    typ,
                    ctx: SchedCtx { g, p, m },
                    time,
                    args,
                };
                if out.record(t, rec).is_break() {
                    return Ok(ControlFlow::Break(()));
                }
                if !stay {
                    if more {
                        frontier.update_top();
                    } else {
                        frontier.remove(0);
                    }
                    break;
                }
            }
            if ran {
                continue;
            }
            if !self.try_advance(t, frontier, 0)? {
                frontier.sort();
                let mut advanced = false;
                for i in 1..frontier.heap.len() {
                    if self.try_advance(t, frontier, i)? {
                        advanced = true;
                        break;
                    }
                }
                if !advanced {
                    return Err(trace_err!(
                        "broken trace: failed to advance: frontier:\n[gen={}]\n\n{}\n{}\n",
                        t.gen_no,
                        dump_frontier(frontier),
                        self.order.dump()
                    ));
                }
            }
            let mut queue = std::mem::take(&mut self.order.queue);
            let mut flow = ControlFlow::Continue(());
            for rec in queue.iter_mut() {
                validate_table_ids(t, rec)?;
                self.clamp(rec);
                flow = out.record(t, *rec);
                if flow.is_break() {
                    break;
                }
            }
            queue.clear();
            self.order.queue = queue;
            if flow.is_break() {
                return Ok(flow);
            }
        }
    }

    /// Offers the event under cursor `i` to the ordering; on success moves
    /// the cursor on and restores the heap.
    #[inline]
    fn try_advance(
        &mut self,
        t: &mut Tables<'a>,
        frontier: &mut Frontier<'_>,
        i: usize,
    ) -> Result<bool> {
        let gen_no = t.gen_no;
        let bc = frontier.at(i);
        if !self.order.advance(&mut bc.ev, t, bc.m, gen_no)? {
            return Ok(false);
        }
        if bc.next_event(t.freq())? {
            frontier.update(i);
        } else {
            frontier.remove(i);
        }
        Ok(true)
    }
}

/// Go checks that every string and stack an event refers to exists.
#[inline(always)]
fn validate_table_ids(t: &Tables<'_>, rec: &EventRecord) -> Result<()> {
    validate_ids(t, rec.typ, &rec.args)
}

/// [`validate_table_ids`] of an event of type `typ` with arguments `args`.
#[inline(always)]
fn validate_ids(t: &Tables<'_>, typ: EventType, args: &[u64; 4]) -> Result<()> {
    let w = tracev2::wire_info(typ);
    if w.stack_mask | w.string_mask == 0 {
        return Ok(());
    }
    let mut ok = true;
    for (j, &id) in args.iter().enumerate() {
        if w.stack_mask >> j & 1 != 0 {
            ok &= t.stacks.contains(id);
        }
        if w.string_mask >> j & 1 != 0 {
            ok &= t.strings.contains(id);
        }
    }
    if ok {
        Ok(())
    } else {
        table_id_error(t, typ, args)
    }
}

/// The error [`validate_table_ids`] reports, with Go's choice of which ID
/// to name when several are invalid.
#[cold]
#[inline(never)]
fn table_id_error(t: &Tables<'_>, typ: EventType, args: &[u64; 4]) -> Result<()> {
    let Some(spec) = tracev2::specs().get(typ.index()) else {
        return Ok(());
    };
    for &i in spec.stack_ids {
        let id = args.get(i.wrapping_sub(1)).copied().unwrap_or_default();
        if !t.stacks.contains(id) {
            return Err(trace_err!(
                "found invalid stack ID {id} for event {}",
                spec.name
            ));
        }
    }
    for &i in spec.string_ids {
        let id = args.get(i.wrapping_sub(1)).copied().unwrap_or_default();
        if !t.strings.contains(id) {
            return Err(trace_err!(
                "found invalid string ID {id} for event {}",
                spec.name
            ));
        }
    }
    Ok(())
}

fn dump_frontier(frontier: &Frontier<'_>) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for bc in frontier
        .heap
        .iter()
        .filter_map(|&(_, i)| frontier.cursors.get(i as usize))
    {
        let spec = tracev2::specs()
            .get(bc.ev.typ.index())
            .unwrap_or(&tracev2::EventSpec::UNUSED);
        let _ = write!(s, "M {} [{} time={}", bc.m.id, spec.name, bc.ev.time);
        for (name, v) in spec.args.iter().skip(1).zip(bc.ev.args) {
            let _ = write!(s, " {name}={v}");
        }
        s.push_str("]\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// A batch of generation 1 on thread `m` with base time 100.
    fn batch(out: &mut Vec<u8>, m: u64, body: &[u64]) {
        let mut b = Vec::new();
        for &v in body {
            if v >> 40 == 1 {
                b.push(v as u8);
            } else {
                varint(&mut b, v);
            }
        }
        out.push(1);
        for v in [1, m, 100, b.len() as u64] {
            varint(out, v);
        }
        out.extend_from_slice(&b);
    }

    /// Event type marker for `batch` bodies.
    fn ev(t: EventType) -> u64 {
        u64::from(t.0) | 1 << 40
    }

    fn dump(data: &[u8]) -> (Vec<String>, Option<String>) {
        let trace = Trace::open(data).unwrap();
        let mut lines = Vec::new();
        let r = trace.for_each_event(|e| lines.push(e.to_string()));
        (lines, r.err().map(|e| e.message().to_owned()))
    }

    fn go122() -> Vec<u8> {
        let mut data = Version::Go122.header();
        // Sync batch: 1e9 ticks per second, so a tick is a nanosecond.
        batch(&mut data, 0, &[ev(EventType::FREQUENCY), 1_000_000_000]);
        data
    }

    #[test]
    fn orders_and_prints_like_go() {
        let mut data = go122();
        #[rustfmt::skip]
        batch(&mut data, 1, &[
            ev(EventType::PROC_STATUS), 0, 0, 1,
            ev(EventType::GO_STATUS), 1, 1, 1, 2,
            ev(EventType::GO_STOP), 1, 0, 0,
        ]);
        let (lines, err) = dump(&data);
        assert_eq!(err, None);
        assert_eq!(
            lines,
            [
                // As Go prints it: times strictly increase after the Sync.
                "M=-1 P=-1 G=-1 Sync Time=100 N=1",
                "M=1 P=-1 G=-1 StateTransition Time=101 ProcID=0 Undetermined->Running Reason=\"\"",
                "M=1 P=0 G=-1 StateTransition Time=102 GoID=1 Undetermined->Running Reason=\"\"",
                "M=1 P=0 G=1 StateTransition Time=103 GoID=1 Running->Runnable Reason=\"\"",
                "M=-1 P=-1 G=-1 Sync Time=104 N=2",
            ]
        );
    }

    #[test]
    fn waits_for_sequence_numbers_across_threads() {
        let mut data = go122();
        // Thread 2's GoStart (seq 1) has the earliest time but must wait for
        // thread 1 to establish the goroutine as runnable.
        #[rustfmt::skip]
        batch(&mut data, 1, &[
            ev(EventType::PROC_STATUS), 5, 0, 1,
            ev(EventType::GO_STATUS), 1, 7, 1, 1,
        ]);
        #[rustfmt::skip]
        batch(&mut data, 2, &[
            ev(EventType::PROC_STATUS), 0, 1, 1,
            ev(EventType::GO_START), 0, 7, 1,
        ]);
        let (lines, err) = dump(&data);
        assert_eq!(err, None);
        let starts: Vec<&str> = lines
            .iter()
            .map(|l| &l[..l.find(" Time").unwrap()])
            .collect();
        // Go 1.27 prints these for the same bytes.
        assert_eq!(
            starts,
            [
                "M=-1 P=-1 G=-1 Sync",
                "M=2 P=-1 G=-1 StateTransition",
                "M=1 P=-1 G=-1 StateTransition",
                "M=1 P=0 G=-1 StateTransition",
                "M=2 P=1 G=-1 StateTransition",
                "M=-1 P=-1 G=-1 Sync",
            ]
        );
        assert_eq!(
            lines[4],
            "M=2 P=1 G=-1 StateTransition Time=107 GoID=7 Runnable->Running Reason=\"\""
        );
    }

    #[test]
    fn reports_go_errors_after_the_events_before_them() {
        let mut data = go122();
        #[rustfmt::skip]
        batch(&mut data, 1, &[
            ev(EventType::PROC_STATUS), 0, 0, 1,
            ev(EventType::GO_STOP), 1, 0, 0,
        ]);
        let (lines, err) = dump(&data);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            err.as_deref(),
            Some("expected a goroutine but didn't have one")
        );

        // Truncated right after a complete generation: Go emits a Sync, then the error.
        let mut data = go122();
        batch(&mut data, 1, &[ev(EventType::PROC_STATUS), 0, 0, 1]);
        data.extend_from_slice(&[1, 2, 1]);
        let (lines, err) = dump(&data);
        assert_eq!(lines.len(), 3);
        assert_eq!(err.as_deref(), Some("error reading batch timestamp: EOF"));
    }

    #[test]
    fn rejects_other_files_clearly() {
        let e = Trace::open(b"go 1.21 trace\0\0\0").err().unwrap();
        assert_eq!(
            e.message(),
            "Go 1.21 trace (format v1) is not supported yet"
        );
        let e = Trace::open(b"\x89PNG").err().unwrap();
        assert!(e.message().contains("not a Go execution trace"));
        let e = Trace::open(b"go 1.24 trace\0\0\0").err().unwrap();
        assert!(
            e.message().contains("unsupported trace version go 1.24"),
            "{e}"
        );
    }

    #[test]
    fn each_event_batch_is_released_once_ordered() {
        let mut data = go122();
        #[rustfmt::skip]
        batch(&mut data, 1, &[
            ev(EventType::PROC_STATUS), 0, 0, 1,
            ev(EventType::GO_STATUS), 1, 1, 1, 2,
        ]);
        batch(&mut data, 2, &[ev(EventType::PROC_STATUS), 1, 1, 1]);
        batch(&mut data, 1, &[ev(EventType::GO_STOP), 1, 0, 0]);
        let released = std::sync::Mutex::new(Vec::new());
        let release = |r: Range<usize>| released.lock().unwrap().push(r);
        let trace = Trace::open_releasing(&data, &release).unwrap();
        released.lock().unwrap().clear();
        let mut events = 0;
        trace
            .stream_generation(0, |_| events += 1)
            .unwrap()
            .unwrap();
        assert_eq!(events, 5);
        let mut batches: Vec<Range<usize>> = trace.index().generations[0]
            .batches
            .iter()
            .filter(|b| b.kind == super::super::batch::BatchKind::Events)
            .map(|b| b.data.clone())
            .collect();
        assert_eq!(batches.len(), 3);
        let mut got = released.into_inner().unwrap();
        got.sort_by_key(|r| r.start);
        batches.sort_by_key(|r| r.start);
        assert_eq!(got, batches);
    }

    #[test]
    fn decodes_a_generation_alone() {
        let mut data = go122();
        #[rustfmt::skip]
        batch(&mut data, 1, &[
            ev(EventType::PROC_STATUS), 0, 0, 1,
            ev(EventType::GO_STATUS), 1, 1, 1, 2,
        ]);
        let trace = Trace::open(&data).unwrap();
        let g = trace.decode_generation(0).unwrap().unwrap();
        assert_eq!(g.len(), 3);
        assert_eq!(g.get(0).unwrap().kind(), EventKind::Sync);
        let st = g.get(2).unwrap().state_transition().unwrap();
        assert_eq!(
            st.transition.resource(),
            crate::trace::ResourceId::Goroutine(1)
        );
        assert!(trace.decode_generation(1).is_none());
    }

    /// Trace bytes that count the index pass's reads.
    struct Counted {
        data: Vec<u8>,
        reads: std::sync::atomic::AtomicUsize,
    }

    impl Counted {
        fn new(data: &[u8]) -> Counted {
            Counted {
                data: data.to_vec(),
                reads: Default::default(),
            }
        }

        fn reads(&self) -> usize {
            self.reads.load(std::sync::atomic::Ordering::Relaxed)
        }
    }

    impl TraceBytes for Counted {
        fn bytes(&self) -> &[u8] {
            &self.data
        }

        fn read_at(&self, pos: usize, buf: &mut [u8]) -> usize {
            self.reads
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.data.read_at(pos, buf)
        }
    }

    #[test]
    fn one_index_serves_every_opening_of_a_file() {
        let mut data = go122();
        #[rustfmt::skip]
        batch(&mut data, 1, &[ev(EventType::PROC_STATUS), 0, 0, 1]);
        let shared = SharedIndex::default();
        let count = |_| {};
        let index_of = |t: &Trace<'_>| format!("{:?}", t.index());
        let first_bytes = Counted::new(&data);
        let first = Trace::open_shared(&first_bytes, &count, &shared).unwrap();
        assert!(first_bytes.reads() > 0, "the first opening indexes");
        let copy = Counted::new(&data);
        let second = Trace::open_shared(&copy, &count, &shared).unwrap();
        assert_eq!(copy.reads(), 0, "the second takes the index");
        assert_eq!(index_of(&second), index_of(&first));
        assert_eq!(second.decode_generation(0).unwrap().unwrap().len(), 2);

        // The file grew in between: that opening indexes on its own.
        batch(&mut data, 2, &[ev(EventType::PROC_STATUS), 1, 0, 1]);
        let grown_bytes = Counted::new(&data);
        let grown = Trace::open_shared(&grown_bytes, &count, &shared).unwrap();
        assert!(grown_bytes.reads() > 0);
        assert_eq!(grown.index().generations[0].batches.len(), 3);

        // Not a trace: every opening says so.
        let shared = SharedIndex::default();
        let junk = b"not a trace at all";
        let errors: Vec<String> = (0..2)
            .map(|_| {
                Trace::open_shared(&junk[..], &count, &shared)
                    .err()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert!(
            errors[0].contains("not a Go execution trace"),
            "{}",
            errors[0]
        );
        assert_eq!(errors[0], errors[1]);
    }
}
