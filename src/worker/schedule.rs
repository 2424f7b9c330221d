//! The decode order, shared by the decode threads.
//!
//! Three kinds of work, in priority order: generations the ui wants in full
//! detail (visible and zoomed in past their summary, nearest the centre of
//! the view first), generations not yet summarised that are visible, and
//! every other generation not yet summarised, in trace order (what was
//! open at a generation's start is then known sooner). Then, if the worker
//! analyses latencies, each generation once for its analysis, in trace
//! order: they are stitched in that order (see `analysis::stitch`), so one
//! analysed ahead would wait in memory for those before it. Visible
//! generations to decode again come before the analyses, the others after.
//! Each new viewport replaces the wishes of the previous one (superseded
//! requests are dropped); work already started finishes and its summary is
//! kept.
//!
//! While the ui shows what the latency analysis finds (the outliers), that
//! is what the user waits for: then the analyses come right after the
//! generations wanted in detail (an outlier clicked is shown at once) and,
//! when the view is zoomed in, the visible generations not yet summarised;
//! the rest of the overview after them ([`Schedule::set_analyses_first`]). On a 1 GB
//! trace and two cores that puts the outliers on screen in about half the
//! time, and the overview about as much later.
//!
//! Generations are built on their own, so a user region or task that spans
//! a whole generation is only drawn there once the schedule knows what was
//! open when it started (see `model::annotations`): each build reports its
//! generation's annotation edges, the schedule chains them from the first
//! generation into what is open at the start of the next, and hands that to
//! jobs when it is known. A generation built before it was known, when it
//! turns out not to be empty, is built again (edges do not depend on what a
//! build started with, so this happens once; and once more in a trace that
//! ended regions or tasks begun before it, such as a flight recording: when
//! the edges of every generation are in, those are added from the first
//! generation on).
//!
//! A detail decode of a generation whose summary the ui has, up to date,
//! makes no summary: panning through a generation decodes it again and
//! again, and the summary grids would cost each of those decodes time and
//! memory for nothing.
//!
//! Decoding holds memory while a generation is built (its summary grids, the
//! decoder's state and, for detail, the spans of the window wanted), so a
//! job only starts while the jobs in flight stay under [`DECODE_BUDGET`];
//! one job may always run, however large.

use std::sync::Arc;

use super::store::WINDOW_BYTES;
use crate::model::{AnnotationEdges, OpenAnnotations, TimeSpan};

/// Memory a decode takes per byte of the generation in the file, besides
/// the spans it keeps for a window in detail (at most [`WINDOW_BYTES`]):
/// the mapped pages, the decoder's state and the summary grids (measured
/// on the 1 GB benchmark trace: 29 to 37 MB of peak RSS, mapped pages
/// included, for generations of 12 to 17 MB). Events stream from the
/// decoder into the model and are never collected.
const SUMMARY_BYTES_PER_INPUT_BYTE: usize = 2;

/// The same for a latency analysis: it holds no model, about the
/// generation's mapped pages.
const ANALYSIS_BYTES_PER_INPUT_BYTE: usize = 1;

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
    /// Decoded without knowing what was open at its start, which turned
    /// out to matter: to be decoded again.
    Stale,
    /// Decoding failed; not retried.
    Failed,
}

/// A generation to decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Job {
    /// Index in the trace's generations.
    pub(crate) generation: usize,
    /// The window of it the ui wants in full detail, if it does (else only
    /// its summary is made).
    pub(crate) detail: Option<TimeSpan>,
    /// Its summary is to be made: always but for a detail decode of a
    /// generation whose summary the ui has, up to date.
    pub(crate) summarize: bool,
    /// What was open when the generation started, if known yet.
    pub(crate) open: Option<Arc<OpenAnnotations>>,
    /// Only its latency analysis is wanted (see [`Schedule::analyse`]).
    pub(crate) analysis: bool,
    cost: usize,
}

/// What to do with a finished job's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finished {
    /// The ui wants the full detail.
    pub(crate) send_detail: bool,
    /// First time this generation was decoded.
    pub(crate) first: bool,
    /// Generations whose summaries turned out to be outdated (built
    /// without what was open at their start), to be decoded again.
    pub(crate) outdated: Vec<usize>,
    /// Every generation is now summarised or failed: the whole picture is
    /// there (the ui shows it at once).
    pub(crate) whole: bool,
}

/// The shared decode state.
#[derive(Debug)]
pub(crate) struct Schedule {
    slots: Vec<Slot>,
    /// Bytes of each generation in the file.
    sizes: Vec<usize>,
    /// The window of each generation whose detail the ui holds.
    held: Vec<Option<TimeSpan>>,
    /// Visible generations, nearest the centre first.
    focus: Vec<usize>,
    /// Generations wanted in detail, in priority order, with the window
    /// of each wanted.
    detail: Vec<(usize, TimeSpan)>,
    in_flight: usize,
    /// A detail decode is running: only one at a time, as a detail decode
    /// holds the most memory and what the view wants may change before a
    /// second one would finish.
    detail_in_flight: bool,
    /// The annotation edges of each generation decoded.
    edges: Vec<Option<AnnotationEdges>>,
    /// What was open when each of the first generations started, as far
    /// as the edges chain without a gap from the first one (and, once the
    /// edges of every generation are in, with what began before the
    /// trace).
    open: Vec<Arc<OpenAnnotations>>,
    /// What each generation was last decoded with (`None`: never decoded
    /// successfully).
    built_with: Vec<Option<Arc<OpenAnnotations>>>,
    /// The edges of every generation are in and `open` is final.
    open_final: bool,
    /// Generations marked stale since the last finished job.
    newly_stale: Vec<usize>,
    /// Set when the worker shuts down.
    pub(crate) shutdown: bool,
    /// Generations handed out for their latency analysis, in trace order;
    /// `None` if none is wanted.
    analysed: Option<usize>,
    /// The analyses come before the overview.
    analyses_first: bool,
}

impl Schedule {
    /// A schedule for generations of the given sizes in bytes.
    pub(crate) fn new(sizes: Vec<usize>) -> Schedule {
        Schedule {
            slots: vec![Slot::Pending; sizes.len()],
            held: vec![None; sizes.len()],
            edges: vec![None; sizes.len()],
            open: vec![Arc::default()],
            built_with: vec![None; sizes.len()],
            open_final: false,
            newly_stale: Vec::new(),
            sizes,
            focus: Vec::new(),
            detail: Vec::new(),
            in_flight: 0,
            detail_in_flight: false,
            shutdown: false,
            analysed: None,
            analyses_first: false,
        }
    }

    /// Also hands out every generation, once, for its latency analysis:
    /// in trace order, after the generations not yet summarised and the
    /// visible ones to decode again, so the whole picture comes first.
    pub(crate) fn analyse(&mut self) {
        self.analysed = Some(0);
    }

    /// Whether the analyses come before the generations not yet summarised
    /// (see the module's doc).
    pub(crate) fn set_analyses_first(&mut self, first: bool) {
        self.analyses_first = first;
    }

    /// Replaces the ui's wishes: `focus` (visible generations, most
    /// important first) and `detail` (those it wants in full detail, each
    /// over a window).
    pub(crate) fn set_wants(&mut self, focus: Vec<usize>, detail: Vec<(usize, TimeSpan)>) {
        self.focus = focus;
        self.detail = detail;
    }

    /// The ui dropped the detail of `generation`.
    pub(crate) fn evicted(&mut self, generation: usize) {
        if let Some(h) = self.held.get_mut(generation) {
            *h = None;
        }
    }

    /// The window of generation `g` the ui wants in detail, if it does.
    fn wanted(&self, g: usize) -> Option<TimeSpan> {
        self.detail.iter().find(|&&(d, _)| d == g).map(|&(_, w)| w)
    }

    /// The next job, if one may start now.
    pub(crate) fn next(&mut self) -> Option<Job> {
        if self.shutdown {
            return None;
        }
        let (generation, analysis) = self.pick()?;
        let size = self.sizes.get(generation).copied().unwrap_or_default();
        // A stale generation's detail in the ui is stale too.
        let stale_detail = match self.slots.get(generation) {
            Some(Slot::Stale) => self.held.get(generation).copied().flatten(),
            _ => None,
        };
        let detail = self
            .wanted(generation)
            .or(stale_detail)
            .filter(|_| !analysis && !self.detail_in_flight);
        let cost = match (analysis, detail) {
            (true, _) => size * ANALYSIS_BYTES_PER_INPUT_BYTE,
            (false, Some(_)) => size * SUMMARY_BYTES_PER_INPUT_BYTE + WINDOW_BYTES,
            (false, None) => size * SUMMARY_BYTES_PER_INPUT_BYTE,
        };
        if self.in_flight > 0 && self.in_flight + cost > DECODE_BUDGET {
            return None;
        }
        self.in_flight += cost;
        self.detail_in_flight |= detail.is_some();
        let summarize = detail.is_none() || self.slots.get(generation) != Some(&Slot::Summarized);
        if analysis {
            self.analysed = Some(generation + 1);
        } else if let Some(slot) = self.slots.get_mut(generation) {
            *slot = Slot::Running;
        }
        Some(Job {
            generation,
            detail,
            summarize,
            open: self.open.get(generation).cloned().filter(|_| !analysis),
            analysis,
            cost,
        })
    }

    /// Records the end of an analysis `job`.
    pub(crate) fn analysed(&mut self, job: &Job) {
        self.in_flight = self.in_flight.saturating_sub(job.cost);
    }

    /// The next generation to decode, and whether for its analysis only.
    fn pick(&self) -> Option<(usize, bool)> {
        let slot = |g: usize| self.slots.get(g).copied();
        let wanted = self.detail.iter().filter(|_| !self.detail_in_flight);
        let wanted = wanted.copied().find_map(|(g, window)| {
            let held = self.held.get(g).copied();
            (held.is_some_and(|h| h != Some(window))
                && matches!(slot(g), Some(Slot::Pending | Slot::Summarized)))
            .then_some(g)
        });
        // Generations never decoded come before those to decode again, so
        // the whole picture is there first and corrected after; those in
        // trace order (see the module's doc), those again from the view.
        let visible = |due: Slot| {
            let mut visible = self.focus.iter().copied().filter(|&g| slot(g) == Some(due));
            match due {
                Slot::Pending => visible.min(),
                _ => visible.next(),
            }
        };
        let rest = |due: Slot| {
            let centre = self.focus.first().copied().unwrap_or_default();
            let mut waiting = (0..self.slots.len()).filter(|&g| slot(g) == Some(due));
            match due {
                Slot::Pending => waiting.next(),
                _ => waiting.min_by_key(|&g| g.abs_diff(centre)),
            }
        };
        let analysis = || self.analysed.filter(|&g| g < self.slots.len());
        let early = analysis().filter(|_| self.analyses_first);
        // Zoomed in, the few generations on screen come before the
        // analyses even then.
        let zoomed = self.focus.len() < self.slots.len();
        let decode = |g| (g, false);
        wanted
            .or_else(|| visible(Slot::Pending).filter(|_| zoomed))
            .map(decode)
            .or_else(|| early.map(|g| (g, true)))
            .or_else(|| {
                visible(Slot::Pending)
                    .or_else(|| rest(Slot::Pending))
                    .or_else(|| visible(Slot::Stale))
                    .map(decode)
            })
            .or_else(|| analysis().map(|g| (g, true)))
            .or_else(|| rest(Slot::Stale).map(decode))
    }

    /// Records the end of `job`: `edges` is `None` if it failed, else how
    /// the generation changes the regions and tasks open. A successful job
    /// built the detail it was given a window for (a generation wanted in
    /// detail only once its summary-only decode started is decoded again).
    pub(crate) fn finish(&mut self, job: &Job, edges: Option<AnnotationEdges>) -> Finished {
        self.in_flight = self.in_flight.saturating_sub(job.cost);
        self.detail_in_flight &= job.detail.is_none();
        let g = job.generation;
        // Only a generation that decoded is ever decoded again.
        let first = self.built_with.get(g) == Some(&None);
        let detailed = edges.is_some() && job.detail.is_some();
        let held = self.held.get(g).is_some_and(Option::is_some);
        let send_detail = detailed && (self.wanted(g).is_some() || held);
        if let Some(slot) = self.slots.get_mut(g) {
            *slot = if edges.is_some() {
                Slot::Summarized
            } else {
                Slot::Failed
            };
        }
        if let (Some(held), true) = (self.held.get_mut(g), send_detail) {
            *held = job.detail;
        }
        if let Some(new_edges) = edges {
            if let Some(built) = self.built_with.get_mut(g) {
                *built = Some(job.open.clone().unwrap_or_default());
            }
            self.mark_if_stale(g);
            if let Some(edges) = self.edges.get_mut(g) {
                edges.get_or_insert(new_edges);
            }
            self.chain_edges();
        }
        let outdated = std::mem::take(&mut self.newly_stale);
        let whole = first
            && !self
                .slots
                .iter()
                .any(|s| matches!(s, Slot::Pending | Slot::Running));
        Finished {
            send_detail,
            first,
            outdated,
            whole,
        }
    }

    /// Extends what is known to be open at generation starts as far as the
    /// edges allow.
    fn chain_edges(&mut self) {
        while self.open.len() < self.slots.len() {
            let k = self.open.len() - 1;
            let (Some(open), Some(Some(edges))) = (self.open.get(k), self.edges.get(k)) else {
                return;
            };
            let next = Arc::new(open.carry(edges));
            self.open.push(next);
            self.mark_if_stale(k + 1);
        }
        if !self.open_final && self.edges.iter().all(Option::is_some) {
            self.open_final = true;
            let edges: Vec<AnnotationEdges> = self.edges.iter().flatten().cloned().collect();
            for (g, open) in OpenAnnotations::chain(&edges).into_iter().enumerate() {
                if let Some(known) = self.open.get_mut(g).filter(|known| ***known != open) {
                    *known = Arc::new(open);
                    self.mark_if_stale(g);
                }
            }
        }
    }

    /// Marks generation `g` to be decoded again if what was open at its
    /// start is now known to differ from what it was decoded with (nothing,
    /// when that was not known yet).
    fn mark_if_stale(&mut self, g: usize) {
        let differs = match (self.open.get(g), self.built_with.get(g)) {
            (Some(open), Some(Some(built))) => open != built,
            _ => false,
        };
        if let Some(slot) = self.slots.get_mut(g).filter(|s| **s == Slot::Summarized)
            && differs
        {
            *slot = Slot::Stale;
            self.newly_stale.push(g);
        }
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

    /// A window covering any generation.
    const WHOLE: TimeSpan = TimeSpan {
        start: i64::MIN,
        end: i64::MAX,
    };

    /// Generations `gens` wanted in detail whole.
    fn whole(gens: &[usize]) -> Vec<(usize, TimeSpan)> {
        gens.iter().map(|&g| (g, WHOLE)).collect()
    }

    /// What a successful decode without annotation edges reports.
    fn done() -> Option<AnnotationEdges> {
        Some(AnnotationEdges::default())
    }

    /// Runs every summary-only job, each generation reporting the edges
    /// `edges_of` gives it; returns each job's generation and whether what
    /// was open at its start was known and empty.
    fn run_with_edges(
        s: &mut Schedule,
        edges_of: impl Fn(usize) -> AnnotationEdges,
    ) -> Vec<(usize, Option<bool>)> {
        let mut order = Vec::new();
        while let Some(job) = s.next() {
            order.push((
                job.generation,
                job.open.as_ref().map(|open| open.is_empty()),
            ));
            s.finish(&job, Some(edges_of(job.generation)));
        }
        order
    }

    fn run(s: &mut Schedule) -> Vec<(usize, bool)> {
        let mut order = Vec::new();
        while let Some(job) = s.next() {
            let f = s.finish(&job, done());
            order.push((job.generation, f.send_detail));
        }
        order
    }

    #[test]
    fn the_last_first_decode_makes_the_picture_whole() {
        let mut s = Schedule::new(vec![100; 3]);
        let (a, b) = (s.next().unwrap(), s.next().unwrap());
        assert!(!s.finish(&b, done()).whole, "0 still running");
        let c = s.next().unwrap();
        assert!(!s.finish(&a, done()).whole, "2 still running");
        assert!(s.finish(&c, None).whole, "a failure counts as done");
        s.set_wants(vec![1], whole(&[1]));
        let again = s.next().unwrap();
        assert!(!s.finish(&again, done()).whole, "not a first decode");
    }

    #[test]
    fn detail_then_visible_then_in_trace_order() {
        let mut s = Schedule::new(vec![100; 6]);
        s.set_wants(vec![4, 3], whole(&[4]));
        assert_eq!(
            run(&mut s),
            [
                (4, true),
                (3, false),
                (0, false),
                (1, false),
                (2, false),
                (5, false)
            ]
        );
        assert!(s.idle());
        s.set_wants(vec![4], whole(&[4]));
        assert!(s.next().is_none(), "the ui holds generation 4's detail");
        s.evicted(4);
        assert_eq!(run(&mut s), [(4, true)]);
        // Another window of it, as the view moves.
        let window = TimeSpan::new(10, 20);
        s.set_wants(vec![4], vec![(4, window)]);
        let job = s.next().unwrap();
        assert_eq!((job.generation, job.detail), (4, Some(window)));
        assert!(s.finish(&job, done()).send_detail);
        assert!(s.next().is_none(), "the ui holds that window");
    }

    #[test]
    fn one_detail_decode_at_a_time() {
        let mut s = Schedule::new(vec![10; 3]);
        s.set_wants(vec![0, 1], whole(&[0, 1]));
        let first = s.next().unwrap();
        assert_eq!((first.generation, first.detail), (0, Some(WHOLE)));
        let others: Vec<Job> = std::iter::from_fn(|| s.next()).collect();
        let summaries: Vec<_> = others.iter().map(|j| (j.generation, j.detail)).collect();
        assert_eq!(summaries, [(1, None), (2, None)], "summaries meanwhile");
        for job in others.iter().chain([&first]) {
            s.finish(job, done());
        }
        let job = s.next().unwrap();
        assert_eq!((job.generation, job.detail), (1, Some(WHOLE)));
    }

    #[test]
    fn a_detail_decode_makes_the_summary_only_where_the_ui_lacks_it_up_to_date() {
        let mut s = Schedule::new(vec![10; 2]);
        let detail = |s: &mut Schedule, window| {
            s.set_wants(vec![1], vec![(1, window)]);
            let job = s.next().unwrap();
            s.finish(&job, done());
            (job.generation, job.detail, job.summarize)
        };
        let (a, b) = (TimeSpan::new(10, 20), TimeSpan::new(30, 40));
        assert_eq!(detail(&mut s, a), (1, Some(a), true), "never decoded");
        assert_eq!(detail(&mut s, b), (1, Some(b), false), "summarized");
        // Generation 0 leaves a region open: generation 1's summary is
        // outdated, and its next detail decode makes a new one.
        let job = s.next().unwrap();
        let edges = AnnotationEdges::opening(7, 5, "request");
        let finished = s.finish(&job, Some(edges));
        assert_eq!((job.generation, finished.outdated), (0, vec![1]));
        assert_eq!(detail(&mut s, a), (1, Some(a), true), "outdated");
        assert!(s.idle());
    }

    #[test]
    fn analyses_come_after_the_overview_once_each_in_trace_order() {
        let mut s = Schedule::new(vec![100; 4]);
        s.analyse();
        s.set_wants(vec![2, 3], Vec::new());
        let mut order = Vec::new();
        while let Some(job) = s.next() {
            order.push((job.generation, job.analysis));
            if job.analysis {
                s.analysed(&job);
            } else {
                s.finish(&job, done());
            }
        }
        let decodes = [(2, false), (3, false), (0, false), (1, false)];
        let analyses = [(0, true), (1, true), (2, true), (3, true)];
        assert_eq!(order, [decodes, analyses].concat());
        assert!(s.idle());
    }

    #[test]
    fn analyses_first_come_after_the_detail_wanted_and_before_the_overview() {
        let mut s = Schedule::new(vec![100; 4]);
        s.analyse();
        s.set_analyses_first(true);
        s.set_wants(vec![2, 3], whole(&[3]));
        let mut order = Vec::new();
        while let Some(job) = s.next() {
            order.push((job.generation, job.analysis));
            if job.analysis {
                s.analysed(&job);
                // The user closes the outliers after two analyses.
                if job.generation == 1 {
                    s.set_analyses_first(false);
                }
            } else {
                s.finish(&job, done());
            }
        }
        // Zoomed in on 2 and 3: those first, then the analyses.
        let shown = [(3, false), (2, false)];
        let analyses = [(0, true), (1, true)];
        let decodes = [(0, false), (1, false)];
        let rest = [(2, true), (3, true)];
        assert_eq!(order, [&shown[..], &analyses, &decodes, &rest].concat());
        assert!(s.idle());

        // The whole trace in view: the analyses before any summary.
        let mut s = Schedule::new(vec![100; 3]);
        s.analyse();
        s.set_analyses_first(true);
        s.set_wants(vec![1, 0, 2], Vec::new());
        let first: Vec<(usize, bool)> = std::iter::from_fn(|| s.next())
            .take(3)
            .map(|job| (job.generation, job.analysis))
            .collect();
        assert_eq!(first, [(0, true), (1, true), (2, true)]);
    }

    #[test]
    fn superseded_wants_are_dropped_and_failures_not_retried() {
        let mut s = Schedule::new(vec![100; 4]);
        s.set_wants(vec![0], whole(&[0]));
        s.set_wants(vec![2], whole(&[2]));
        let job = s.next().unwrap();
        assert_eq!(job.generation, 2);
        assert_eq!(
            s.finish(&job, None),
            Finished {
                send_detail: false,
                first: true,
                outdated: Vec::new(),
                whole: false,
            }
        );
        assert_eq!(run(&mut s), [(0, false), (1, false), (3, false)]);
        assert!(s.idle());
    }

    #[test]
    fn generations_built_before_what_was_open_at_their_start_was_known_are_built_again() {
        let mut s = Schedule::new(vec![100; 4]);
        s.set_wants(vec![2], Vec::new());
        let order = run_with_edges(&mut s, |g| match g {
            // A goroutine is inside a region from generation 0 on.
            0 => AnnotationEdges::opening(7, 5, "request"),
            _ => AnnotationEdges::default(),
        });
        assert_eq!(
            order,
            [
                // Visible first: nothing known to be open yet but at the
                // first generation's start.
                (2, None),
                // Then in trace order, each knowing what was open at its
                // start once the one before is built.
                (0, Some(true)),
                (1, Some(false)),
                (3, Some(false)),
                // Generation 0's edges make what was open at generation
                // 2's start known and not empty: it is built again, once.
                (2, Some(false)),
            ]
        );
        assert!(s.idle());
    }

    #[test]
    fn what_began_before_the_trace_is_added_once_every_generation_is_in() {
        let mut s = Schedule::new(vec![100; 3]);
        let order = run_with_edges(&mut s, |g| match g {
            // The last generation ends a task nothing began: it was in
            // progress when the trace started.
            2 => AnnotationEdges::ending_task(9, "request"),
            _ => AnnotationEdges::default(),
        });
        assert_eq!(
            order,
            [
                (0, Some(true)),
                (1, Some(true)),
                (2, Some(true)),
                (0, Some(false)),
                (1, Some(false)),
                (2, Some(false)),
            ]
        );
        assert!(s.idle());
    }

    #[test]
    fn memory_budget_limits_parallel_decodes() {
        let big = (DECODE_BUDGET - WINDOW_BYTES) / SUMMARY_BYTES_PER_INPUT_BYTE / 2 + 1;
        // Two summaries of this size fit the budget at once.
        let mut s = Schedule::new(vec![big, big]);
        let (a, b) = (s.next().unwrap(), s.next().unwrap());
        assert!(a.detail.is_none() && b.detail.is_none());
        s.finish(&a, done());
        s.finish(&b, done());
        // Windows of both in detail do not.
        let mut s = Schedule::new(vec![big, big, 10]);
        s.set_wants(vec![0, 1], whole(&[0, 1]));
        let first = s.next().unwrap();
        assert_eq!(first.detail, Some(WHOLE));
        assert!(
            s.next().is_none(),
            "a second large decode would exceed the budget"
        );
        s.finish(&first, done());
        assert!(s.next().is_some());
        s.shutdown = true;
        assert!(s.next().is_none());
    }
}
