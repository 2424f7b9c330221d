//! `gotv check FILE`: decode and validate the whole trace, print a summary.
//!
//! Exit status: 0 for a valid trace, 1 for an invalid or truncated one (the
//! problem, its generation and byte offset go to standard error), 2 when the
//! file cannot be read.
//!
//! The generations are read on several threads
//! (`Trace::for_each_event_parallel_with`); the resources seen are
//! counted by an `EventSink` that the reader inlines into its loop, with
//! bitmaps tested before they are set, so counting adds little to decoding.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::trace::reader::EventSink;
use crate::trace::tracev2::EventType;
use crate::trace::{Event, Trace};

/// A set of resource IDs, cheap to add to on every event: IDs below
/// [`Ids::DENSE`] are bits (counted once, at the end), others go to a hash
/// set; negative IDs ("none") are ignored.
#[derive(Default)]
struct Ids {
    bits: Vec<u64>,
    large: crate::trace::FxHashSet<i64>,
}

impl Ids {
    /// IDs below this are kept in the bitmap (at most 2 MiB of it).
    const DENSE: u64 = 1 << 24;

    #[inline(always)]
    fn insert(&mut self, id: i64) {
        let u = id as u64;
        if u < Self::DENSE {
            let word = (u / 64) as usize;
            let bit = 1 << (u % 64);
            match self.bits.get_mut(word) {
                // Test before setting: most events name resources already
                // seen, and a store every time would chain each event's
                // update to the previous one through memory.
                Some(w) if *w & bit == 0 => *w |= bit,
                Some(_) => {}
                None => self.grow(word, u),
            }
        } else if id >= 0 {
            self.large.insert(id);
        }
    }

    #[cold]
    fn grow(&mut self, word: usize, u: u64) {
        self.bits.resize(word + 1, 0);
        if let Some(w) = self.bits.get_mut(word) {
            *w |= 1 << (u % 64);
        }
    }

    /// Adds every ID of `other`.
    fn extend(&mut self, other: &Ids) {
        if self.bits.len() < other.bits.len() {
            self.bits.resize(other.bits.len(), 0);
        }
        for (w, o) in self.bits.iter_mut().zip(&other.bits) {
            *w |= o;
        }
        self.large.extend(&other.large);
    }

    /// Number of distinct IDs.
    fn len(&self) -> usize {
        let dense: u32 = self.bits.iter().map(|w| w.count_ones()).sum();
        dense as usize + self.large.len()
    }
}

/// Distinct resources seen in events.
struct Seen {
    goroutines: Ids,
    procs: Ids,
    threads: Ids,
    /// The M of the previous event.
    last_m: i64,
}

impl Default for Seen {
    fn default() -> Self {
        Seen {
            goroutines: Ids::default(),
            procs: Ids::default(),
            threads: Ids::default(),
            last_m: -1,
        }
    }
}

impl EventSink for Seen {
    /// Adds the resources of `ev`: its M and the subject of its state
    /// transition. A goroutine or P in an event's context is the subject of
    /// a transition first (the status or start that made it current on the
    /// M, which the reader checks), so only the Ms of the contexts need
    /// counting, and only when the M changes: the reader yields an M's
    /// events in runs. This is a tenth of `check`'s time less than adding
    /// the whole context of every event.
    #[inline(always)]
    fn event(&mut self, ev: Event<'_>) {
        let rec = ev.record();
        let m = rec.ctx().m;
        if m != self.last_m {
            self.threads.insert(m);
            self.last_m = m;
        }
        // The subject of a state transition, when it is not part of the
        // context: a table lookup rather than `transition_resource`'s
        // match, which compiles to a badly predicted jump.
        let a0 = rec.args[0] as i64;
        match SUBJECT[usize::from(rec.wire_type().0)] {
            Subject::Goroutine => self.goroutines.insert(a0),
            Subject::Proc => self.procs.insert(a0),
            Subject::InContext => {}
        }
    }
}

/// What the subject of an event's state transition is, by wire type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Subject {
    /// The goroutine in the first argument.
    Goroutine,
    /// The P in the first argument.
    Proc,
    /// Part of the event's context, or no transition at all.
    InContext,
}

/// [`Subject`] of every wire type, as `Event::transition_resource` decides
/// it (the test below checks they agree).
static SUBJECT: [Subject; 256] = {
    type T = EventType;
    let mut s = [Subject::InContext; 256];
    let gs = [
        T::GO_CREATE,
        T::GO_CREATE_BLOCKED,
        T::GO_CREATE_SYSCALL,
        T::GO_START,
        T::GO_UNBLOCK,
        T::GO_SWITCH,
        T::GO_SWITCH_DESTROY,
        T::GO_STATUS,
        T::GO_STATUS_STACK,
    ];
    let mut i = 0;
    while i < gs.len() {
        s[gs[i].index()] = Subject::Goroutine;
        i += 1;
    }
    s[T::PROC_START.index()] = Subject::Proc;
    s[T::PROC_STEAL.index()] = Subject::Proc;
    s[T::PROC_STATUS.index()] = Subject::Proc;
    s
};

/// Validates the trace at `path` (`-` for standard input).
pub fn run(path: &Path, deep: bool) -> ExitCode {
    let start = Instant::now();
    let input = match super::open_input(path) {
        Ok(input) => input,
        Err(code) => return code,
    };
    let bytes = input.bytes();
    // GOTV_THREADS=0 selects the sequential reader (for comparisons).
    // By default one decoding thread more than there are cores (on more than
    // one): generations differ in size, and with a spare thread the system
    // shares the cores among the generations in flight, so the threads
    // finish together rather than one core idling while the other orders
    // the last big generation alone.
    let threads = std::env::var("GOTV_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or_else(
            || match std::thread::available_parallelism().map_or(1, |n| n.get()) {
                1 => 1,
                n => n + 1,
            },
        );
    // The index pass maps no page (it reads the batch headers from the
    // file); each generation's pages go once decoded, so the resident set
    // stays at the generations in flight, not the file.
    let release = |range| input.release(range);
    let trace = match Trace::open_releasing(&input, &release) {
        Ok(trace) => trace,
        Err(e) => return super::invalid(path, &e),
    };
    let index_secs = start.elapsed().as_secs_f64();
    let mut seen = Seen::default();
    let result = if threads == 0 {
        trace.for_each_event(|ev| seen.event(ev))
    } else {
        trace
            .for_each_event_parallel_with(threads, Seen::default, |range| input.release(range))
            .map(|(summary, parts)| {
                for part in &parts {
                    seen.goroutines.extend(&part.goroutines);
                    seen.procs.extend(&part.procs);
                    seen.threads.extend(&part.threads);
                }
                summary
            })
    };
    if deep {
        build_deep(&trace);
    }
    match result {
        Ok(summary) => {
            let (first, last) = summary.span.unwrap_or_default();
            let secs = start.elapsed().as_secs_f64();
            println!(
                "version={} generations={} events={} span={first}..{last} duration={:.6}s goroutines={} procs={} threads={} bytes={} decode={secs:.3}s ({:.0} MB/s) index={index_secs:.3}s threads={threads}",
                trace.version(),
                summary.generations,
                summary.events,
                last.wrapping_sub(first) as f64 / 1e9,
                seen.goroutines.len(),
                seen.procs.len(),
                seen.threads.len(),
                bytes.len(),
                bytes.len() as f64 / 1e6 / secs.max(1e-9),
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gotv: {}: invalid trace: {e}", path.display());
            ExitCode::from(1)
        }
    }
}

/// Builds everything the window builds from `trace` and says how it went:
/// a line on standard output, each problem on standard error.
fn build_deep(trace: &Trace<'_>) {
    let start = Instant::now();
    let problems = crate::worker::build_all(trace);
    let n = problems.len();
    println!(
        "deep: {} generations built in {:.3}s, {n} problem{}",
        trace.index().generations.len(),
        start.elapsed().as_secs_f64(),
        if n == 1 { "" } else { "s" }
    );
    for (generation, message) in problems {
        match generation {
            Some(g) => eprintln!("gotv: generation {g}: {message}"),
            None => eprintln!("gotv: analysis: {message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{EventRecord, ResourceId, SchedCtx};

    #[test]
    fn subject_table_agrees_with_transition_resource() {
        for typ in 0..=255u8 {
            let rec = EventRecord {
                typ: EventType(typ),
                ctx: SchedCtx {
                    g: 11,
                    p: 12,
                    m: 13,
                },
                time: 0,
                args: [21, 22, 23, 24],
            };
            let want = match Event::new(None, rec).transition_resource() {
                Some(ResourceId::Goroutine(21)) => Subject::Goroutine,
                Some(ResourceId::Proc(21)) => Subject::Proc,
                Some(ResourceId::Goroutine(11) | ResourceId::Proc(12)) | None => Subject::InContext,
                other => panic!("type {typ}: unexpected subject {other:?}"),
            };
            assert_eq!(SUBJECT[usize::from(typ)], want, "type {typ}");
        }
    }
}
