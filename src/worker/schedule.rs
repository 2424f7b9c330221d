//! The decode order, shared by the decode threads.
//!
//! Three kinds of work, in priority order: generations the ui wants in full
//! detail (visible and zoomed in past their summary, nearest the centre of
//! the view first), generations not yet summarised that are visible, and
//! every other generation not yet summarised, nearest the view first. Each
//! new viewport replaces the wishes of the previous one (superseded requests
//! are dropped); work already started finishes and its summary is kept.
//!
//! Decoding holds a generation's model in memory while it is built (about
//! [`DECODE_BYTES_PER_INPUT_BYTE`] times its size in the file), so a job only
//! starts while the jobs in flight stay under [`DECODE_BUDGET`]; one job may
//! always run, however large.

/// Memory a decode takes per byte of the generation in the file: the model
/// being built (spans of ~20 bytes, about one per two events, ~5.5 file
/// bytes per event), the decoder's per-resource state and the mapped pages.
/// Events stream from the decoder into the model and are never collected.
const DECODE_BYTES_PER_INPUT_BYTE: usize = 6;

/// Estimated memory all decodes in flight may take together. Higher uses
/// more cores on traces with large generations; lower keeps the peak RSS
/// down. 160 MB lets two decodes of the ~11 MB generations a busy Go
/// program writes per second run at once.
const DECODE_BUDGET: usize = 160 << 20;

/// Where a generation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// Never decoded.
    Pending,
    /// Being decoded.
    Running,
    /// Decoded at least once: the ui has its summary.
    Summarized,
    /// Decoding failed; not retried.
    Failed,
}

/// A generation to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Job {
    /// Index in the trace's generations.
    pub(crate) generation: usize,
    /// Whether the ui wants its full detail (else only its summary is made).
    pub(crate) detail: bool,
    cost: usize,
}

/// What to do with a finished job's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Finished {
    /// The ui wants the full detail.
    pub(crate) send_detail: bool,
    /// First time this generation was decoded.
    pub(crate) first: bool,
}

/// The shared decode state.
#[derive(Debug)]
pub(crate) struct Schedule {
    slots: Vec<Slot>,
    /// Bytes of each generation in the file.
    sizes: Vec<usize>,
    /// Whether the ui holds the detail of each generation.
    held: Vec<bool>,
    /// Visible generations, nearest the centre first.
    focus: Vec<usize>,
    /// Generations wanted in detail, in priority order.
    detail: Vec<usize>,
    in_flight: usize,
    /// Set when the worker shuts down.
    pub(crate) shutdown: bool,
}

impl Schedule {
    /// A schedule for generations of the given sizes in bytes.
    pub(crate) fn new(sizes: Vec<usize>) -> Schedule {
        Schedule {
            slots: vec![Slot::Pending; sizes.len()],
            held: vec![false; sizes.len()],
            sizes,
            focus: Vec::new(),
            detail: Vec::new(),
            in_flight: 0,
            shutdown: false,
        }
    }

    /// Replaces the ui's wishes: `focus` (visible generations, most
    /// important first) and `detail` (those it wants in full detail).
    pub(crate) fn set_wants(&mut self, focus: Vec<usize>, detail: Vec<usize>) {
        self.focus = focus;
        self.detail = detail;
    }

    /// The ui dropped the detail of `generation`.
    pub(crate) fn evicted(&mut self, generation: usize) {
        if let Some(h) = self.held.get_mut(generation) {
            *h = false;
        }
    }

    /// The next job, if one may start now.
    pub(crate) fn next(&mut self) -> Option<Job> {
        if self.shutdown {
            return None;
        }
        let generation = self.pick()?;
        let cost =
            self.sizes.get(generation).copied().unwrap_or_default() * DECODE_BYTES_PER_INPUT_BYTE;
        if self.in_flight > 0 && self.in_flight + cost > DECODE_BUDGET {
            return None;
        }
        self.in_flight += cost;
        self.slots[generation] = Slot::Running;
        Some(Job {
            generation,
            detail: self.detail.contains(&generation),
            cost,
        })
    }

    fn pick(&self) -> Option<usize> {
        let slot = |g: usize| self.slots.get(g).copied();
        let wanted = self.detail.iter().copied().find(|&g| {
            !self.held.get(g).copied().unwrap_or(true)
                && matches!(slot(g), Some(Slot::Pending | Slot::Summarized))
        });
        let visible = || {
            self.focus
                .iter()
                .copied()
                .find(|&g| slot(g) == Some(Slot::Pending))
        };
        let rest = || {
            let centre = self.focus.first().copied().unwrap_or_default();
            (0..self.slots.len())
                .filter(|&g| slot(g) == Some(Slot::Pending))
                .min_by_key(|&g| g.abs_diff(centre))
        };
        wanted.or_else(visible).or_else(rest)
    }

    /// Records the end of `job`; `ok` is whether it decoded, `detailed`
    /// whether its full detail was built (a generation wanted in detail
    /// only once its summary-only decode started is decoded again).
    pub(crate) fn finish(&mut self, job: Job, ok: bool, detailed: bool) -> Finished {
        self.in_flight = self.in_flight.saturating_sub(job.cost);
        let g = job.generation;
        let first = self.slots.get(g) != Some(&Slot::Summarized);
        let send_detail = ok && detailed && self.detail.contains(&g);
        if let Some(slot) = self.slots.get_mut(g) {
            *slot = if ok { Slot::Summarized } else { Slot::Failed };
        }
        if let Some(held) = self.held.get_mut(g) {
            *held |= send_detail;
        }
        Finished { send_detail, first }
    }

    /// Whether nothing is left to decode for now.
    #[cfg(test)]
    fn idle(&self) -> bool {
        self.in_flight == 0 && self.pick().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &mut Schedule) -> Vec<(usize, bool)> {
        let mut order = Vec::new();
        while let Some(job) = s.next() {
            let f = s.finish(job, true, job.detail);
            order.push((job.generation, f.send_detail));
        }
        order
    }

    #[test]
    fn detail_then_visible_then_nearest() {
        let mut s = Schedule::new(vec![100; 6]);
        s.set_wants(vec![3, 4], vec![4]);
        assert_eq!(
            run(&mut s),
            [
                (4, true),
                (3, false),
                (2, false),
                (1, false),
                (5, false),
                (0, false)
            ]
        );
        assert!(s.idle());
        s.set_wants(vec![4], vec![4]);
        assert!(s.next().is_none(), "the ui holds generation 4's detail");
        s.evicted(4);
        assert_eq!(run(&mut s), [(4, true)]);
    }

    #[test]
    fn superseded_wants_are_dropped_and_failures_not_retried() {
        let mut s = Schedule::new(vec![100; 4]);
        s.set_wants(vec![0], vec![0]);
        s.set_wants(vec![2], vec![2]);
        let job = s.next().unwrap();
        assert_eq!(job.generation, 2);
        assert_eq!(
            s.finish(job, false, false),
            Finished {
                send_detail: false,
                first: true
            }
        );
        assert_eq!(run(&mut s), [(1, false), (3, false), (0, false)]);
        assert!(s.idle());
    }

    #[test]
    fn memory_budget_limits_parallel_decodes() {
        let big = DECODE_BUDGET / DECODE_BYTES_PER_INPUT_BYTE;
        let mut s = Schedule::new(vec![big, big, 10]);
        let first = s.next().unwrap();
        assert!(
            s.next().is_none(),
            "a second large decode would exceed the budget"
        );
        s.finish(first, true, first.detail);
        assert!(s.next().is_some());
        s.shutdown = true;
        assert!(s.next().is_none());
    }
}
