//! Which goroutines were in a given state at a given time: the filter's
//! `state:` term (`state:waiting@1.25s`).
//!
//! "What was everybody blocked on when the latency spike hit?" is answered
//! by the state of every goroutine at one instant. The trace makes that
//! cheap: each generation is self-contained, and the status events at its
//! start (or at a goroutine's first mention in it) state every goroutine's
//! state. So only the generations around the time are decoded, each on its
//! own ([`Trace::stream_generation`]), off the UI thread (see
//! `super::filter_scan`), and their transitions replayed:
//!
//! - the last transition of a goroutine at or before the time gives its
//!   state (and, for a block, its reason);
//! - a goroutine with none kept, until the time, the state its first later
//!   event leaves (a status event restates its state; any other transition
//!   starts from it); one created after the time did not exist.
//!
//! Generations overlap in time: while some threads already write the new
//! generation, others finish the old one. So the replay takes the last
//! generation starting at or before the time *and* the one before it,
//! merging their transitions by time; a goroutine's events move from one to
//! the other at its first event of the new generation, so the merge sees
//! each goroutine's history in order. That costs a second generation's
//! decoding, and gives the right states near generation boundaries too.
//!
//! A block reason (`chan receive`, `sync`, `select`, …) is in the
//! transition that blocked the goroutine; a status event only restates that
//! it waits. So a query with a reason takes the reason from the block when
//! the replayed generations have it, and for goroutines that blocked before
//! them walks back through the earlier generations, one at a time and only
//! as far as needed, to the last transition each of them made there. A
//! goroutine that has waited since before the trace has no known reason.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use super::filter::parse_duration;
use crate::trace::index::{GenerationIndex, TraceIndex};
use crate::trace::{Event, EventKind, FxHashMap, GoId, GoState, Time, Trace, Transition};

/// A `state:` term: the state, an optional block reason, and the time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StateQuery {
    /// Running, Runnable, Waiting or Syscall.
    pub(crate) state: GoState,
    /// A lower-case substring of the block reason (Waiting only).
    pub(crate) reason: Option<String>,
    /// The time, in nanoseconds from the start of the trace (as the time
    /// axis counts).
    pub(crate) at: Time,
}

impl StateQuery {
    /// Parses what follows `state:`: `STATE[:REASON]@TIME`, e.g.
    /// `waiting@1.25s`, `waiting:chan@800ms`, `syscall@2s`. The error
    /// says what is wrong in words.
    pub(crate) fn parse(spec: &str) -> Result<Self, String> {
        let (what, time) = spec
            .split_once('@')
            .ok_or_else(|| format!("state:{spec} needs a time, e.g. state:waiting@1.25s"))?;
        let at = parse_duration(time)
            .ok_or_else(|| format!("state:{spec}: {time:?} is not a time like 1.25s or 800ms"))?;
        let (name, reason) = match what.split_once(':') {
            Some((name, reason)) => (name, Some(reason.to_lowercase())),
            None => (what, None),
        };
        let state = match name.to_lowercase().as_str() {
            "running" => GoState::Running,
            "runnable" => GoState::Runnable,
            "waiting" | "blocked" => GoState::Waiting,
            "syscall" => GoState::Syscall,
            _ => {
                return Err(format!(
                    "state:{spec}: the state is running, runnable, waiting or syscall"
                ));
            }
        };
        if reason.is_some() && state != GoState::Waiting {
            return Err(format!("state:{spec}: only waiting has a reason"));
        }
        Ok(Self { state, reason, at })
    }
}

/// The goroutines in `query`'s state at absolute time `at` (the query's
/// time plus the trace's start), decoding only the generations around it.
/// Once `cancel` is set the replay stops and an error is returned (the
/// decoder, which has no early exit, finishes the generation at hand).
pub(crate) fn goroutines_in_state(
    trace: &Trace<'_>,
    query: &StateQuery,
    at: Time,
    cancel: &AtomicBool,
) -> Result<HashSet<GoId>, String> {
    let mut replay = Replay::new(at);
    let around = generations_around(trace.index(), at);
    for generation in around.clone() {
        read_generation(trace, generation, cancel, |ev| replay.event(ev))?;
    }
    if query.reason.is_some() {
        let mut unknown = replay.waiting_for_unknown_reasons();
        for generation in (0..around.start).rev() {
            if unknown.is_empty() {
                break;
            }
            let mut blocks = LastBlocks::new(&unknown);
            read_generation(trace, generation, cancel, |ev| blocks.event(ev))?;
            let found: Vec<(GoId, Option<String>)> =
                blocks.last.into_iter().map(|(g, (_, r))| (g, r)).collect();
            for (g, reason) in found {
                unknown.remove(&g);
                replay.learn_reason(g, reason);
            }
        }
    }
    Ok(replay.matching(query))
}

/// Replays generation `generation` of `trace` into `f`; an error if it
/// cannot be read or `cancel` was set.
fn read_generation(
    trace: &Trace<'_>,
    generation: usize,
    cancel: &AtomicBool,
    mut f: impl FnMut(&Event<'_>),
) -> Result<(), String> {
    let read = trace.stream_generation(generation, |ev| {
        if !cancel.load(Ordering::Relaxed) {
            f(&ev);
        }
    });
    if cancel.load(Ordering::Relaxed) {
        return Err("cancelled".to_owned());
    }
    match read {
        Some(Ok(_)) => Ok(()),
        Some(Err(e)) => Err(format!("generation {generation} could not be read: {e}")),
        None => Err(format!("generation {generation} is incomplete")),
    }
}

/// The last block of each of a set of goroutines in one earlier
/// generation: what made it wait, if that generation says (its status
/// events only repeat that it waits).
struct LastBlocks<'a> {
    wanted: &'a HashSet<GoId>,
    /// Per goroutine, the time and reason of its last transition that was
    /// not a status; the reason is `None` unless it entered Waiting.
    last: FxHashMap<GoId, (Time, Option<String>)>,
}

impl<'a> LastBlocks<'a> {
    fn new(wanted: &'a HashSet<GoId>) -> Self {
        Self {
            wanted,
            last: FxHashMap::default(),
        }
    }

    fn event(&mut self, ev: &Event<'_>) {
        let Some(t) = GoTransition::of(ev) else {
            return;
        };
        if t.is_status() || !self.wanted.contains(&t.id) {
            return;
        }
        let last = self.last.entry(t.id).or_insert((t.time, None));
        if last.0 <= t.time {
            *last = (t.time, t.reason());
        }
    }
}

/// A goroutine's state transition, as the replays need it.
struct GoTransition<'e> {
    id: GoId,
    time: Time,
    from: GoState,
    to: GoState,
    /// The transition's reason, as the trace has it.
    raw_reason: &'e [u8],
}

impl<'e> GoTransition<'e> {
    fn of(ev: &Event<'e>) -> Option<Self> {
        if ev.kind() != EventKind::StateTransition {
            return None;
        }
        let st = ev.state_transition()?;
        let Transition::Goroutine { id, from, to } = st.transition else {
            return None;
        };
        Some(Self {
            id,
            time: ev.time(),
            from,
            to,
            raw_reason: st.reason,
        })
    }

    /// Why it blocked, lower case, if it entered Waiting with a reason
    /// (made only for the transitions a replay keeps).
    fn reason(&self) -> Option<String> {
        let blocked = self.to == GoState::Waiting && !self.raw_reason.is_empty();
        blocked.then(|| String::from_utf8_lossy(self.raw_reason).to_lowercase())
    }

    /// A status event: it restates the state (without a block's reason).
    fn is_status(&self) -> bool {
        self.from == GoState::Undetermined || self.from == self.to
    }
}

/// The generations whose events may be the last before absolute time `at`:
/// the last one starting at or before it, and the one before that (which
/// may still run past the other's start). None before the trace.
fn generations_around(index: &TraceIndex, at: Time) -> Range<usize> {
    let starts_before = |g: &GenerationIndex| g.time_range().is_some_and(|(start, _)| start <= at);
    match index.generations.iter().rposition(starts_before) {
        Some(last) => last.saturating_sub(1)..last + 1,
        None => 0..0,
    }
}

/// What is known of a goroutine from one transition.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Known {
    /// When the transition happened.
    time: Time,
    state: GoState,
    /// Why it blocked, lower case, if the transition is a block.
    reason: Option<String>,
}

/// What the replayed generations say about each goroutine at the time.
#[derive(Default)]
struct Seen {
    /// Its last transition at or before the time: its state then.
    last_before: Option<Known>,
    /// Its first transition after the time, with the state it implies
    /// until then.
    first_after: Option<Known>,
}

/// The replay of goroutine transitions around a time, generation by
/// generation in any order.
struct Replay {
    at: Time,
    goroutines: FxHashMap<GoId, Seen>,
}

impl Replay {
    /// A replay around absolute time `at`.
    fn new(at: Time) -> Self {
        Self {
            at,
            goroutines: FxHashMap::default(),
        }
    }

    /// Takes in an event of a replayed generation (generations in trace
    /// order: a status event keeps the reason of the block it restates).
    fn event(&mut self, ev: &Event<'_>) {
        let Some(t) = GoTransition::of(ev) else {
            return;
        };
        let status = t.is_status();
        let GoTransition {
            id, time, from, to, ..
        } = t;
        let seen = self.goroutines.entry(id).or_default();
        if time <= self.at {
            if seen.last_before.as_ref().is_none_or(|k| k.time < time) {
                let restated = seen
                    .last_before
                    .as_ref()
                    .filter(|k| status && k.state == to)
                    .and_then(|k| k.reason.clone());
                seen.last_before = Some(Known {
                    time,
                    state: to,
                    reason: t.reason().or(restated),
                });
            }
        } else if seen.first_after.as_ref().is_none_or(|k| k.time > time) {
            let state = if from == GoState::Undetermined {
                to
            } else {
                from
            };
            seen.first_after = Some(Known {
                time,
                state,
                reason: None,
            });
        }
    }

    /// The state each goroutine was in at the time, as far as the replayed
    /// generations say.
    fn state_at(seen: &Seen) -> Option<&Known> {
        seen.last_before.as_ref().or(seen.first_after.as_ref())
    }

    /// The goroutines waiting at the time for a reason the replayed
    /// generations do not give (they blocked before them).
    fn waiting_for_unknown_reasons(&self) -> HashSet<GoId> {
        self.goroutines
            .iter()
            .filter(|(_, seen)| {
                Self::state_at(seen)
                    .is_some_and(|k| k.state == GoState::Waiting && k.reason.is_none())
            })
            .map(|(&g, _)| g)
            .collect()
    }

    /// Sets the reason goroutine `g` waits for at the time, found in an
    /// earlier generation.
    fn learn_reason(&mut self, g: GoId, reason: Option<String>) {
        let seen = self.goroutines.get_mut(&g);
        let known = seen.and_then(|s| s.last_before.as_mut().or(s.first_after.as_mut()));
        if let Some(k) = known.filter(|k| k.state == GoState::Waiting) {
            k.reason = k.reason.take().or(reason);
        }
    }

    /// The goroutines in `query`'s state (and reason) at the time.
    fn matching(&self, query: &StateQuery) -> HashSet<GoId> {
        self.goroutines
            .iter()
            .filter_map(|(&g, seen)| Some((g, Self::state_at(seen)?)))
            .filter(|(_, k)| k.state == query.state)
            .filter(|(_, k)| match (&query.reason, &k.reason) {
                (None, _) => true,
                (Some(want), Some(have)) => have.contains(want.as_str()),
                (Some(_), None) => false,
            })
            .map(|(g, _)| g)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const WORKLOAD: &[u8] = include_bytes!("../../testdata/traces/workload-go1.27.trace");

    /// Nanoseconds after a generation's last event that the next one's
    /// moved events can reach: more than the events of any overlap.
    const MOVED: Time = 100_000;

    /// Goroutine states (and why each waits) at each of `times` (ascending)
    /// from the whole trace read in order, every transition applied from
    /// the first event on: independent of the generation-local replay.
    fn sequential_states(
        trace: &Trace<'_>,
        times: &[Time],
    ) -> Vec<HashMap<GoId, (GoState, String)>> {
        let (mut snapshots, mut states) = (Vec::new(), HashMap::<GoId, (GoState, String)>::new());
        let read = trace.for_each_event(|ev| {
            while times.get(snapshots.len()).is_some_and(|&at| ev.time() > at) {
                snapshots.push(states.clone());
            }
            if let Some(st) = ev.state_transition()
                && let Transition::Goroutine { id, from, to } = st.transition
            {
                // A status event restates the state, not why it blocked.
                let status = from == GoState::Undetermined || from == to;
                let reason = match states.get(&id) {
                    Some((state, reason)) if status && *state == to => reason.clone(),
                    _ => String::from_utf8_lossy(st.reason).into_owned(),
                };
                states.insert(id, (to, reason));
            }
        });
        assert!(read.is_ok(), "{read:?}");
        snapshots.resize(times.len(), states);
        snapshots
    }

    /// The time of each generation's last event in the whole-trace stream.
    fn generation_ends(trace: &Trace<'_>) -> Vec<Time> {
        let (mut ends, mut last) = (Vec::new(), None);
        let read = trace.for_each_event(|ev| {
            if ev.kind() != EventKind::Sync {
                last = Some(ev.time());
            } else if let Some(t) = last.take() {
                ends.push(t);
            }
        });
        assert!(read.is_ok(), "{read:?}");
        ends
    }

    /// Times inside every generation but the first (where the sequential
    /// replay knows every goroutine that existed before), well after the
    /// previous generation's last event and before the next one's start:
    /// where the sequential reader has moved no event. It makes a
    /// generation's events later than all of the previous one's: the
    /// events of the overlap get that last time plus 1 ns, 2 ns, …, which a
    /// margin of [`MOVED`] ns clears.
    fn probe_times(trace: &Trace<'_>) -> Vec<Time> {
        let ends = generation_ends(trace);
        let gens = &trace.index().generations;
        let starts: Vec<Time> = gens
            .iter()
            .filter_map(|g| g.time_range())
            .map(|r| r.0)
            .collect();
        assert_eq!(starts.len(), ends.len());
        let mut times = Vec::new();
        for (k, &end) in ends.iter().enumerate().skip(1) {
            let lo = ends[k - 1] + MOVED;
            let hi = starts.get(k + 1).map_or(end, |next| next - 1);
            if lo < hi {
                times.extend([lo, lo + (hi - lo) / 2, hi]);
            }
        }
        times
    }

    /// Checks the scan against the sequential replay at the probe times of
    /// `data`: the same goroutines in each state, and the same waiting on a
    /// channel (the reason of a block in any earlier generation). Returns
    /// how many (time, state) pairs had goroutines, and how many probes
    /// found some waiting on a channel.
    fn check_against_sequential(data: &[u8]) -> (usize, usize) {
        let Ok(trace) = Trace::open(data) else {
            panic!("the trace opens");
        };
        let times = probe_times(&trace);
        let cancel = AtomicBool::new(false);
        let (mut nonempty, mut on_channels) = (0, 0);
        for (&at, expected) in times.iter().zip(sequential_states(&trace, &times)) {
            let query = StateQuery::parse("waiting:chan@0").map_err(|e| e.clone());
            let chan = query.and_then(|q| goroutines_in_state(&trace, &q, at, &cancel));
            let want: HashSet<GoId> = expected
                .iter()
                .filter(|(_, (s, reason))| *s == GoState::Waiting && reason.contains("chan"))
                .map(|(&g, _)| g)
                .collect();
            assert_eq!(chan.as_ref(), Ok(&want), "waiting on a channel at {at}");
            on_channels += usize::from(chan.is_ok_and(|c| !c.is_empty()));
            for state in [
                GoState::Running,
                GoState::Runnable,
                GoState::Waiting,
                GoState::Syscall,
            ] {
                let query = StateQuery {
                    state,
                    reason: None,
                    at: 0,
                };
                let found = goroutines_in_state(&trace, &query, at, &cancel);
                let want: HashSet<GoId> = expected
                    .iter()
                    .filter(|(_, (s, _))| *s == state)
                    .map(|(&g, _)| g)
                    .collect();
                assert_eq!(found.as_ref(), Ok(&want), "{state} at {at}");
                nonempty += usize::from(!want.is_empty());
            }
        }
        (nonempty, on_channels)
    }

    #[test]
    fn agrees_with_a_sequential_replay_of_the_whole_trace() {
        let older = include_bytes!("../../testdata/traces/workload-go1.22.trace");
        let sample = include_bytes!("../../testdata/traces/sample.trace");
        for data in [WORKLOAD, older, sample] {
            let (nonempty, on_channels) = check_against_sequential(data);
            assert!(nonempty >= 12, "goroutines in several states: {nonempty}");
            assert!(
                on_channels >= 2,
                "goroutines waiting on channels: {on_channels}"
            );
        }
    }

    #[test]
    fn a_reason_narrows_waiting() {
        let Ok(trace) = Trace::open(WORKLOAD) else {
            panic!("the workload trace opens");
        };
        let cancel = AtomicBool::new(false);
        let mut ranges = trace
            .index()
            .generations
            .iter()
            .filter_map(|g| g.time_range());
        let Some((start, end)) = ranges.next_back() else {
            panic!("a generation with a time range");
        };
        let at = start + (end - start) / 2;
        let query = |spec: &str| StateQuery::parse(spec).unwrap_or_else(|e| panic!("{e}"));
        let waiting = goroutines_in_state(&trace, &query("waiting@0"), at, &cancel);
        let chan = goroutines_in_state(&trace, &query("waiting:CHAN@0"), at, &cancel);
        let none = goroutines_in_state(&trace, &query("waiting:no such reason@0"), at, &cancel);
        let (Ok(waiting), Ok(chan), Ok(none)) = (waiting, chan, none) else {
            panic!("the generation reads");
        };
        assert!(chan.is_subset(&waiting));
        assert!(none.is_empty());
    }

    #[test]
    fn parses_states_reasons_and_times() {
        let q = StateQuery::parse("Waiting:Chan@1.5s");
        assert_eq!(
            q,
            Ok(StateQuery {
                state: GoState::Waiting,
                reason: Some("chan".to_owned()),
                at: 1_500_000_000
            })
        );
        assert!(matches!(StateQuery::parse("running@200us"), Ok(q) if q.at == 200_000));
        for bad in ["waiting", "sleeping@1s", "running:chan@1s", "waiting@soon"] {
            let err = StateQuery::parse(bad).err().unwrap_or_default();
            assert!(err.starts_with(&format!("state:{bad}")), "{bad}: {err}");
        }
    }

    /// Goroutine transitions `(time, from, to)` by goroutine, in time order.
    type Transitions = HashMap<GoId, Vec<(Time, GoState, GoState)>>;

    /// Every goroutine transition of every generation, each generation
    /// decoded on its own (real times, nothing moved); and each
    /// generation's time span.
    fn all_transitions(trace: &Trace<'_>) -> (Transitions, Vec<(Time, Time)>) {
        let (mut by_goroutine, mut spans) = (Transitions::new(), Vec::new());
        for i in 0..trace.index().generations.len() {
            let Some(Ok(events)) = trace.decode_generation(i) else {
                continue;
            };
            let first = events.iter().map(|ev| ev.time()).min();
            let last = events.iter().map(|ev| ev.time()).max();
            spans.push((first.unwrap_or(0), last.unwrap_or(0)));
            for ev in events.iter() {
                if let Some(st) = ev.state_transition()
                    && let Transition::Goroutine { id, from, to } = st.transition
                {
                    by_goroutine
                        .entry(id)
                        .or_default()
                        .push((ev.time(), from, to));
                }
            }
        }
        for transitions in by_goroutine.values_mut() {
            transitions.sort_by_key(|t| t.0);
        }
        (by_goroutine, spans)
    }

    #[test]
    fn inside_generation_overlaps_the_last_transition_in_real_time_counts() {
        let sample = include_bytes!("../../testdata/traces/sample.trace");
        let Ok(trace) = Trace::open(sample) else {
            panic!("the sample opens");
        };
        let (by_goroutine, spans) = all_transitions(&trace);
        // Where a generation still runs after the next one began.
        let overlaps: Vec<Time> = spans
            .windows(2)
            .filter(|w| w[1].0 < w[0].1)
            .map(|w| w[1].0 + (w[0].1 - w[1].0) / 2)
            .collect();
        assert!(!overlaps.is_empty(), "the sample's generations overlap");
        let cancel = AtomicBool::new(false);
        for at in overlaps {
            let state_at = |transitions: &[(Time, GoState, GoState)]| {
                let before = transitions.iter().rev().find(|t| t.0 <= at).map(|t| t.2);
                let after = transitions.first().map(|t| match t.1 {
                    GoState::Undetermined => t.2,
                    from => from,
                });
                before.or(after)
            };
            let want: HashSet<GoId> = by_goroutine
                .iter()
                .filter(|(_, t)| state_at(t) == Some(GoState::Waiting))
                .map(|(&g, _)| g)
                .collect();
            let query = StateQuery {
                state: GoState::Waiting,
                reason: None,
                at: 0,
            };
            let found = goroutines_in_state(&trace, &query, at, &cancel);
            assert_eq!(found, Ok(want), "waiting at {at}");
        }
    }

    #[test]
    fn before_the_trace_nothing_matches() {
        let Ok(trace) = Trace::open(WORKLOAD) else {
            panic!("the workload trace opens");
        };
        let query = StateQuery {
            state: GoState::Running,
            reason: None,
            at: 0,
        };
        let found = goroutines_in_state(&trace, &query, 0, &AtomicBool::new(false));
        assert_eq!(found, Ok(HashSet::new()));
    }
}
