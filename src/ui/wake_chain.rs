//! Who woke whom: the chain of wake-ups behind a span.
//!
//! A goroutine waited, then G5 made it runnable. Why did G5 get to run
//! when it did? Because G9 made G5 runnable, and so on: the chain is the
//! critical path behind a latency, and following it by hand means finding
//! each goroutine's lane at the right time. The side panel shows it.
//!
//! Each hop starts from a goroutine and the time it woke (or created) the
//! previous one. That goroutine was running then; the span before its
//! running span is the runnable one that led to it, whose origin names the
//! goroutine that made it runnable, and when. The chain stops where a
//! goroutine became runnable on its own (preempted, yielding, woken by
//! the runtime without a goroutine), where time does not go back (a
//! damaged trace), after [`MAX_HOPS`], or where the full detail it needs is
//! not loaded: the chain reads only what is loaded, so it never makes the
//! worker decode (the selected span's window usually holds the hops).

use crate::model::{LaneKey, SpanDetails};
use crate::worker::Worker;

/// Most hops followed: enough to see where a chain comes from, few enough
/// to read in the panel.
const MAX_HOPS: usize = 8;

/// A goroutine lane's row of states.
pub(crate) const STATES_ROW: usize = 0;

/// One hop: goroutine `by` made the previous goroutine runnable (or
/// `created` it) at `at` (absolute ns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hop {
    pub(crate) by: i64,
    pub(crate) at: i64,
    pub(crate) created: bool,
}

/// A wake chain: its hops, newest first, and whether it ends for a reason
/// of its own rather than for want of loaded detail.
pub(crate) type Chain = (Vec<Hop>, bool);

/// The chain of wake-ups behind the span `first` describes (no hops if no
/// goroutine woke or created it).
pub(crate) fn follow(worker: &Worker, first: &SpanDetails) -> Chain {
    let query = |g: i64, t: i64| worker.loaded_span_details(LaneKey::Goroutine(g), STATES_ROW, t);
    let Some(by) = first.unblocker else {
        return (Vec::new(), true);
    };
    let mut hops = vec![Hop {
        by,
        at: first.start,
        created: first.created,
    }];
    while let Some(&Hop { by, at, .. }) = hops.last() {
        if hops.len() == MAX_HOPS {
            return (hops, false);
        }
        // Its running span at `at`, then the span that led to it.
        let Some(running) = query(by, at) else {
            return (hops, false);
        };
        let Some(before) = query(by, running.start.saturating_sub(1)) else {
            return (hops, false);
        };
        let earlier = before.start < at;
        match before.unblocker {
            Some(next) if earlier && running.start <= at => hops.push(Hop {
                by: next,
                at: before.start,
                created: before.created,
            }),
            _ => return (hops, true),
        }
    }
    (hops, true)
}
