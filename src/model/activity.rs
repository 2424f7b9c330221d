//! What a group of goroutines is doing: for each start function, how many
//! of its goroutines are running, runnable, waiting and in a system call,
//! on average, over time.
//!
//! The timeline folds a start function's goroutines into one row (a busy
//! server has hundreds of thousands of them). Folded, that row must still
//! say what the group does: when its goroutines exist, how many run, and,
//! for latency, how many wait to be scheduled.
//!
//! Algorithm: a generation's summary already holds, for each goroutine's
//! state row, its finest [`Grid`]: per bucket, the time spent in each kind
//! of span, and runs of buckets wholly in one state. The goroutine grids of
//! a generation share one bucket width and origin, so adding a group's
//! grids bucket by bucket and dividing each bucket's time by the part of
//! the bucket the generation covers gives the average number of the
//! group's goroutines in each state: exact (to `f32`), and costing one pass
//! over grids the summary makes anyway, nothing per event.
//!
//! A goroutine is grouped by the start function its generation names. One
//! the generation does not name (no transition of it in the generation
//! carried a stack) is kept apart by ID, for the store to add to its group
//! once any generation names it ([`Activities::resolve`]).

use std::ops::Range;

use super::lod::Grid;
use super::span::SpanKind;
use super::timeline::TimeSpan;
use crate::trace::FxHashMap;

/// The states counted, in the order of an activity's values.
pub const STATES: [SpanKind; 4] = [
    SpanKind::Running,
    SpanKind::Runnable,
    SpanKind::Waiting,
    SpanKind::Syscall,
];

/// Average goroutines in each of [`STATES`] over one bucket.
pub type Values = [f32; 4];

/// Most buckets an activity has. Summaries have a few dozen buckets over
/// their generation, full-detail models a few hundred over their window;
/// this bounds what a grid whose timestamps contradict its generation's
/// span could make a group cost.
const MAX_BUCKETS: usize = 4096;

/// A group's activity in one generation: runs of buckets with the same
/// [`Values`], in order (a group whose goroutines wait through a generation
/// is one run, not hundreds of buckets).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Activity {
    runs: Vec<Run>,
}

/// Buckets `first..end` of an [`Activity`], all with `values`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Run {
    first: u32,
    end: u32,
    values: Values,
}

impl Activity {
    /// The activity of buckets `first, first + 1, …` with `values`.
    fn of_buckets(first: usize, values: impl IntoIterator<Item = Values>) -> Activity {
        let mut runs: Vec<Run> = Vec::new();
        for (i, values) in values.into_iter().enumerate() {
            let at = u32::try_from(first + i).unwrap_or(u32::MAX);
            match runs.last_mut() {
                Some(run) if run.values == values && run.end == at => run.end = at + 1,
                _ => runs.push(Run {
                    first: at,
                    end: at.saturating_add(1),
                    values,
                }),
            }
        }
        runs.shrink_to_fit();
        Activity { runs }
    }

    /// Adds `other`'s goroutines (laid over the same buckets).
    pub(crate) fn add(&mut self, other: &Activity) {
        *self = Activity::sum([&*self, other]);
    }

    /// The sum of `parts` (laid over the same buckets), bucket by bucket.
    fn sum<'a>(parts: impl IntoIterator<Item = &'a Activity> + Clone) -> Activity {
        let runs = || parts.clone().into_iter().flat_map(|p| &p.runs);
        let (Some(first), Some(end)) = (runs().map(|r| r.first).min(), runs().map(|r| r.end).max())
        else {
            return Activity::default();
        };
        let mut sum = vec![Values::default(); (end - first) as usize];
        for run in runs() {
            for i in run.first..run.end {
                if let Some(s) = sum.get_mut((i - first) as usize) {
                    for (s, v) in s.iter_mut().zip(run.values) {
                        *s += v;
                    }
                }
            }
        }
        Activity::of_buckets(first as usize, sum)
    }

    /// The runs: buckets and their values.
    fn runs(&self) -> impl Iterator<Item = (Range<usize>, Values)> + '_ {
        self.runs
            .iter()
            .map(|r| (r.first as usize..r.end as usize, r.values))
    }
}

/// The activity of a generation's goroutine groups, on one grid of
/// buckets.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Activities {
    /// Buckets are `2^shift` ns wide.
    shift: u32,
    /// The time of bucket 0.
    origin: i64,
    /// What the buckets are clipped to: the generation's span.
    span: TimeSpan,
    /// By start function (the summary's name index until
    /// [`Activities::resolve`] renames them), sorted.
    named: Vec<(u32, Activity)>,
    /// Goroutines the generation does not name, by ID.
    unnamed: Vec<(i64, Activity)>,
}

impl Activities {
    /// Renames the groups by `rename`, adds each unnamed goroutine to the
    /// group `group_of` gives it (by its new name), and returns those it
    /// gives none yet.
    pub(crate) fn resolve(
        &mut self,
        mut rename: impl FnMut(u32) -> u32,
        mut group_of: impl FnMut(i64) -> Option<u32>,
    ) -> Vec<(i64, Activity)> {
        for (name, _) in &mut self.named {
            *name = rename(*name);
        }
        self.named.sort_by_key(|&(name, _)| name);
        merge_equal_names(&mut self.named);
        let mut unknown = Vec::new();
        let mut joining: FxHashMap<u32, Vec<Activity>> = FxHashMap::default();
        for (id, activity) in std::mem::take(&mut self.unnamed) {
            match group_of(id) {
                Some(name) => joining.entry(name).or_default().push(activity),
                None => unknown.push((id, activity)),
            }
        }
        // Summed per group, however many goroutines join it.
        for (name, parts) in joining {
            self.add_to(name, &Activity::sum(&parts));
        }
        unknown
    }

    /// Adds `activity` to the group `name`.
    pub(crate) fn add_to(&mut self, name: u32, activity: &Activity) {
        match self.named.binary_search_by_key(&name, |&(n, _)| n) {
            Ok(i) => {
                if let Some((_, group)) = self.named.get_mut(i) {
                    group.add(activity);
                }
            }
            Err(i) => self.named.insert(i, (name, activity.clone())),
        }
    }

    /// Appends group `name`'s buckets that overlap `view` to `out`, each
    /// with the time it covers (clipped to the generation and `view`).
    pub(crate) fn group(&self, name: u32, view: TimeSpan, out: &mut Vec<(TimeSpan, Values)>) {
        let Ok(i) = self.named.binary_search_by_key(&name, |&(n, _)| n) else {
            return;
        };
        if let Some((_, activity)) = self.named.get(i) {
            self.clipped(activity, view, out);
        }
    }

    /// Like [`Activities::group`], for goroutine `id` if the generation
    /// does not name it.
    #[cfg(test)]
    pub(crate) fn unnamed(&self, id: i64, view: TimeSpan, out: &mut Vec<(TimeSpan, Values)>) {
        if let Some((_, activity)) = self.unnamed.iter().find(|(i, _)| *i == id) {
            self.clipped(activity, view, out);
        }
    }

    /// Appends `activity`'s buckets that overlap `view`, clipped to it and
    /// the generation, to `out`.
    fn clipped(&self, activity: &Activity, view: TimeSpan, out: &mut Vec<(TimeSpan, Values)>) {
        let clip = self.span.intersect(view);
        for (buckets, values) in activity.runs() {
            let covers = self.buckets_span(buckets).intersect(clip);
            if !covers.is_empty() {
                out.push((covers, values));
            }
        }
    }

    /// The time of `buckets`.
    fn buckets_span(&self, buckets: Range<usize>) -> TimeSpan {
        let at = |i: usize| {
            let offset = i64::try_from(i).unwrap_or(i64::MAX) << self.shift;
            self.origin.saturating_add(offset)
        };
        TimeSpan::new(at(buckets.start), at(buckets.end))
    }

    /// Approximate heap bytes held.
    pub(crate) fn bytes(&self) -> usize {
        let values = |a: &Activity| a.runs.capacity() * size_of::<Run>();
        self.named.iter().map(|(_, a)| values(a)).sum::<usize>()
            + self.unnamed.iter().map(|(_, a)| values(a)).sum::<usize>()
            + (self.named.capacity() + self.unnamed.capacity()) * size_of::<(i64, Activity)>()
    }
}

/// Merges neighbours of `groups` (sorted) that have the same name.
fn merge_equal_names(groups: &mut Vec<(u32, Activity)>) {
    groups.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1.add(&later.1);
        }
        same
    });
}

/// Time per state, in ns, over a run of buckets from `first`.
#[derive(Default)]
struct Sums {
    first: usize,
    time: Vec<[i64; 4]>,
}

impl Sums {
    fn add(&mut self, buckets: Range<usize>, state: usize, time: i64) {
        if self.time.is_empty() {
            self.first = buckets.start;
        }
        if buckets.start < self.first {
            let before = self.first - buckets.start;
            self.time.splice(0..0, std::iter::repeat_n([0; 4], before));
            self.first = buckets.start;
        }
        if buckets.end > self.first + self.time.len() {
            self.time.resize(buckets.end - self.first, [0; 4]);
        }
        for i in buckets {
            if let Some(t) = self
                .time
                .get_mut(i - self.first)
                .and_then(|b| b.get_mut(state))
            {
                *t += time;
            }
        }
    }
}

/// Collects the activities of a generation's groups from its goroutines'
/// state grids.
pub(crate) struct ActivityBuilder {
    span: TimeSpan,
    /// The shift and origin of the grids' buckets, from the first grid.
    grid: Option<(u32, i64)>,
    named: FxHashMap<u32, Sums>,
    unnamed: Vec<(i64, Sums)>,
}

impl ActivityBuilder {
    /// A builder for a generation spanning `span`.
    pub(crate) fn new(span: TimeSpan) -> ActivityBuilder {
        ActivityBuilder {
            span,
            grid: None,
            named: FxHashMap::default(),
            unnamed: Vec::new(),
        }
    }

    /// Adds the state row of goroutine `id`, whose start function is
    /// `name` (0 if the generation does not name it). Every grid of a
    /// generation has the same buckets; one that does not is left out.
    pub(crate) fn add(&mut self, name: u32, id: i64, grid: &Grid) {
        let buckets = grid.buckets();
        if *self.grid.get_or_insert(buckets) != buckets {
            return;
        }
        let limit = self.bucket_count();
        let sums = if name == 0 {
            self.unnamed.push((id, Sums::default()));
            self.unnamed.last_mut().map(|(_, s)| s)
        } else {
            Some(self.named.entry(name).or_default())
        };
        let Some(sums) = sums else { return };
        grid.each_time(|range, kind, time| {
            let state = STATES.iter().position(|&s| s == kind);
            let range = range.start.min(limit)..range.end.min(limit);
            if let Some(state) = state.filter(|_| !range.is_empty()) {
                sums.add(range, state, time);
            }
        });
    }

    /// Buckets over the generation's span (at most [`MAX_BUCKETS`]).
    fn bucket_count(&self) -> usize {
        let Some((shift, origin)) = self.grid else {
            return 0;
        };
        let last = (self.span.end.saturating_sub(origin).max(0) >> shift) as usize;
        last.saturating_add(1).min(MAX_BUCKETS)
    }

    /// The activities, each bucket's time divided by the part of it the
    /// generation covers.
    pub(crate) fn finish(self) -> Activities {
        let (shift, origin) = self.grid.unwrap_or_default();
        let mut activities = Activities {
            shift,
            origin,
            span: self.span,
            named: Vec::new(),
            unnamed: Vec::new(),
        };
        let average = |sums: Sums| {
            let values = sums.time.iter().enumerate().map(|(i, time)| {
                let bucket = sums.first + i;
                let covered = activities.buckets_span(bucket..bucket + 1);
                let len = covered.intersect(self.span).len().max(1) as f64;
                time.map(|t| (t as f64 / len) as f32)
            });
            Activity::of_buckets(sums.first, values)
        };
        let mut named: Vec<_> = self
            .named
            .into_iter()
            .map(|(name, sums)| (name, average(sums)))
            .collect();
        named.sort_by_key(|&(name, _)| name);
        let unnamed = self
            .unnamed
            .into_iter()
            .map(|(id, sums)| (id, average(sums)))
            .collect();
        activities.named = named;
        activities.unnamed = unnamed;
        activities
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::span::Span;

    /// The bucket width of [`grid`]'s grids.
    const W: i64 = 128;

    fn grid(spans: &[(i64, i64, SpanKind)]) -> Grid {
        let row: Vec<Span> = spans
            .iter()
            .map(|&(start, end, kind)| Span::new(start, end, kind, 0))
            .collect();
        Grid::of_row(&row, TimeSpan::new(0, 10 * W), 10)
    }

    fn group(a: &Activities, name: u32, view: TimeSpan) -> Vec<(i64, i64, Values)> {
        let mut out = Vec::new();
        a.group(name, view, &mut out);
        out.into_iter().map(|(s, v)| (s.start, s.end, v)).collect()
    }

    #[test]
    fn averages_a_groups_goroutines_per_state() {
        let span = TimeSpan::new(0, 10 * W);
        let mut b = ActivityBuilder::new(span);
        // Two goroutines of group 7: one runs for a bucket and a half, then
        // waits to the end; one is runnable over half of bucket 1.
        let g1 = grid(&[
            (0, W + W / 2, SpanKind::Running),
            (W + W / 2, 10 * W, SpanKind::Waiting),
        ]);
        b.add(7, 1, &g1);
        b.add(7, 2, &grid(&[(W + 20, W + 84, SpanKind::Runnable)]));
        // Another group, and a goroutine the generation does not name.
        b.add(9, 3, &grid(&[(0, 10 * W, SpanKind::Syscall)]));
        b.add(0, 4, &grid(&[(2 * W, 3 * W, SpanKind::Running)]));
        let a = b.finish();
        assert_eq!(a.buckets_span(1..2), TimeSpan::new(W, 2 * W));
        let seven = group(&a, 7, TimeSpan::new(0, 3 * W));
        assert_eq!(
            seven,
            [
                (0, W, [1.0, 0.0, 0.0, 0.0]),
                (W, 2 * W, [0.5, 0.5, 0.5, 0.0]),
                (2 * W, 3 * W, [0.0, 0.0, 1.0, 0.0]),
            ]
        );
        assert_eq!(group(&a, 9, TimeSpan::new(9 * W + 1, 20 * W)).len(), 1);
        assert!(
            group(&a, 4, span).is_empty(),
            "unnamed goroutines are apart"
        );
    }

    #[test]
    fn resolving_renames_groups_and_adds_named_goroutines() {
        let span = TimeSpan::new(0, 10 * W);
        let mut b = ActivityBuilder::new(span);
        b.add(1, 10, &grid(&[(0, W, SpanKind::Running)]));
        b.add(2, 11, &grid(&[(0, W, SpanKind::Running)]));
        b.add(0, 12, &grid(&[(W, 2 * W, SpanKind::Waiting)]));
        b.add(0, 13, &grid(&[(0, W, SpanKind::Runnable)]));
        let mut a = b.finish();
        // Local names 1 and 2 are the same function; goroutine 12 is known
        // to be in it, 13 not yet.
        let unknown = a.resolve(|_| 5, |id| (id == 12).then_some(5));
        assert_eq!(unknown.len(), 1);
        assert_eq!(unknown.first().map(|u| u.0), Some(13));
        assert_eq!(
            group(&a, 5, span),
            [
                (0, W, [2.0, 0.0, 0.0, 0.0]),
                (W, 2 * W, [0.0, 0.0, 1.0, 0.0]),
            ]
        );
        for (_, activity) in &unknown {
            a.add_to(5, activity);
        }
        assert_eq!(
            group(&a, 5, TimeSpan::new(0, W)),
            [(0, W, [2.0, 1.0, 0.0, 0.0])]
        );
    }

    #[test]
    fn adding_activities_sums_their_buckets() {
        let a = Activity::of_buckets(3, [[1.0, 0.0, 0.0, 0.0]; 2]);
        let b = Activity::of_buckets(4, [[0.0, 0.0, 2.0, 0.0]; 3]);
        let mut sum = a.clone();
        sum.add(&b);
        let runs: Vec<_> = sum.runs().collect();
        assert_eq!(
            runs,
            [
                (3..4, [1.0, 0.0, 0.0, 0.0]),
                (4..5, [1.0, 0.0, 2.0, 0.0]),
                (5..7, [0.0, 0.0, 2.0, 0.0]),
            ]
        );
        let mut same = a.clone();
        same.add(&Activity::default());
        assert_eq!(same, a, "nothing added, no zero buckets before");
        let mut empty = Activity::default();
        empty.add(&b);
        assert_eq!(empty, b);
    }

    #[test]
    fn a_partly_covered_bucket_averages_over_the_part_covered() {
        // The generation ends halfway through bucket 2: that bucket's
        // average is the same as the others', so they are one run.
        let span = TimeSpan::new(0, 2 * W + W / 2);
        let mut b = ActivityBuilder::new(span);
        b.add(3, 1, &grid(&[(0, span.end, SpanKind::Waiting)]));
        let a = b.finish();
        let last = group(&a, 3, span).pop();
        assert_eq!(last, Some((0, span.end, [0.0, 0.0, 1.0, 0.0])));
    }
}
