//! User regions and tasks that cross generation boundaries.
//!
//! Go writes a region as a begin and an end event on its goroutine, and a
//! task as a begin and an end event anywhere, with nothing in between: a
//! generation's status events re-establish every goroutine's scheduling
//! state, but not the regions it is inside nor the tasks in progress. Go's
//! own reader learns them only by reading the trace from the start. A
//! generation built on its own therefore sees a region or task that began
//! earlier only if it also ends there (it then starts at the generation's
//! start), and one that spans a whole generation not at all: a two-second
//! request would be missing from the middle second.
//!
//! The fix is a chain over the generations. Building a generation on its own
//! yields its [`AnnotationEdges`]: per goroutine, the regions it ended that
//! began before the generation (it pops them off whatever stack it entered
//! with), which regions are still open at its end (pushed on that
//! stack), and whether the goroutine exited (its stack is dropped); and the
//! tasks it ended that began before it and those it began and left open.
//! These do not depend on what came before, so they are computed once, in
//! any order. Walking them from the first generation gives every
//! generation's [`OpenAnnotations`]: the stack of open regions each
//! goroutine enters it with and the tasks in progress, which is all a build
//! needs to draw every region at its true depth and every region and task
//! across every generation it covers. Most generations of most traces start
//! with nothing open, and then need building only once.
//!
//! A region or task that ends without having begun in any generation before
//! began before the trace (a flight recording starts in the middle of
//! things). Once the edges of every generation are known,
//! [`OpenAnnotations::chain`] adds it to what is open from the first
//! generation until the one that ends it (a region below whatever else its
//! goroutine is in).

use crate::trace::FxHashMap;

/// Most regions carried per goroutine across a boundary, outermost first.
/// Only the first 16 levels are drawn, so deeper ones only keep the depth
/// of the regions below them right; the cap bounds what a hostile trace
/// that never ends its regions makes every later generation carry.
const MAX_CARRIED_DEPTH: usize = 64;

/// Most tasks carried across a boundary. A server has one per request in
/// flight; past this many the rest are drawn only where they begin or end
/// (a hostile trace could otherwise make every generation carry millions).
const MAX_CARRIED_TASKS: usize = 1 << 16;

/// Most goroutines (each with its regions) and tasks a generation is found
/// to have ended that began before the trace, which are then added to every
/// generation before it. A flight recording has a few; the cap bounds the
/// work a hostile trace full of unmatched ends makes (each such generation
/// touches all earlier ones).
const MAX_BEGAN_BEFORE: usize = 4096;

/// A region or task open at a generation boundary: when it began (in the
/// generation that began it) and its name.
pub type Opened = (i64, String);

/// What is open when a generation starts: the regions each goroutine is
/// inside, outermost first (goroutines inside none are absent), and the
/// tasks in progress, by ID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenAnnotations {
    regions: FxHashMap<i64, Vec<Opened>>,
    tasks: FxHashMap<u64, Opened>,
}

impl OpenAnnotations {
    /// Whether nothing is open.
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty() && self.tasks.is_empty()
    }

    /// The goroutines inside regions and their regions, outermost first.
    pub(crate) fn regions(&self) -> impl Iterator<Item = (i64, &[Opened])> {
        self.regions.iter().map(|(&g, r)| (g, r.as_slice()))
    }

    /// The tasks in progress.
    pub(crate) fn tasks(&self) -> impl Iterator<Item = (u64, &Opened)> {
        self.tasks.iter().map(|(&id, t)| (id, t))
    }

    /// What is open when the next generation starts: this, carried through
    /// a generation with `edges`.
    pub fn carry(&self, edges: &AnnotationEdges) -> OpenAnnotations {
        self.carry_noting(edges).0
    }

    /// [`OpenAnnotations::carry`], and what the generation ended that was
    /// not open here: it began before the trace.
    fn carry_noting(&self, edges: &AnnotationEdges) -> (OpenAnnotations, BeganBefore) {
        let mut before = BeganBefore::default();
        let mut regions = self.regions.clone();
        for (g, change) in &edges.regions {
            let stack = regions.entry(*g).or_default();
            let ended = change.ended_earlier.len();
            let unknown = ended.saturating_sub(stack.len());
            // The outermost of them, innermost first.
            let first = (ended - unknown).max(ended.saturating_sub(MAX_CARRIED_DEPTH));
            if let Some(names) = change.ended_earlier.get(first..)
                && !names.is_empty()
                && before.len() < MAX_BEGAN_BEFORE
            {
                before.regions.push((*g, names.to_vec()));
            }
            stack.truncate(stack.len().saturating_sub(ended));
            let room = MAX_CARRIED_DEPTH.saturating_sub(stack.len());
            stack.extend(change.still_open.iter().take(room).cloned());
            if stack.is_empty() {
                regions.remove(g);
            }
        }
        for g in &edges.exited {
            regions.remove(g);
        }
        let mut tasks = self.tasks.clone();
        for (id, name) in &edges.tasks_ended {
            if tasks.remove(id).is_none() && before.len() < MAX_BEGAN_BEFORE {
                before.tasks.push((*id, name.clone()));
            }
        }
        let room = MAX_CARRIED_TASKS.saturating_sub(tasks.len());
        tasks.extend(edges.tasks_open.iter().take(room).cloned());
        (OpenAnnotations { regions, tasks }, before)
    }

    /// What is open at the start of every generation, given the edges of
    /// every generation in trace order: carried forward from the first
    /// generation, plus what a generation ended that nothing before it
    /// began, which was open from the start of the trace until then (as in
    /// a flight recording, which starts in the middle of things).
    pub fn chain(edges: &[AnnotationEdges]) -> Vec<OpenAnnotations> {
        let mut open = vec![OpenAnnotations::default()];
        let mut before = Vec::new();
        for e in edges {
            let (next, began) = open.last().map(|o| o.carry_noting(e)).unwrap_or_default();
            open.push(next);
            before.push(began);
        }
        open.truncate(edges.len());
        for (k, began) in before.iter().enumerate() {
            for o in open.iter_mut().take(k + 1) {
                o.open_from_start(began);
            }
        }
        open
    }

    /// Adds what began before the trace, below whatever else is open.
    fn open_from_start(&mut self, began: &BeganBefore) {
        for (g, names) in &began.regions {
            let stack = self.regions.entry(*g).or_default();
            // Innermost first: the last is the outermost, at the bottom.
            let below = names.iter().rev().map(|name| (i64::MIN, name.clone()));
            stack.splice(0..0, below);
            stack.truncate(MAX_CARRIED_DEPTH);
        }
        for (id, name) in &began.tasks {
            if self.tasks.len() < MAX_CARRIED_TASKS {
                self.tasks.insert(*id, (i64::MIN, name.clone()));
            }
        }
    }
}

/// What a generation ended that was not open at its start, which began
/// before the trace: per goroutine the regions, innermost first, and the
/// tasks.
#[derive(Debug, Default)]
struct BeganBefore {
    regions: Vec<(i64, Vec<String>)>,
    tasks: Vec<(u64, String)>,
}

impl BeganBefore {
    /// Goroutines with regions, and tasks.
    fn len(&self) -> usize {
        self.regions.len() + self.tasks.len()
    }
}

/// What a goroutine did to the stack of regions it entered a generation
/// with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RegionChange {
    /// Regions it ended that began before the generation, innermost first
    /// (in the order they ended).
    pub(crate) ended_earlier: Vec<String>,
    /// Regions it began and had not ended at the generation's end,
    /// outermost first.
    pub(crate) still_open: Vec<Opened>,
}

/// How a generation changes what is open, as found by building it on its
/// own (whatever it was built with).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnnotationEdges {
    /// Per goroutine that changed its regions, in goroutine order.
    pub(crate) regions: Vec<(i64, RegionChange)>,
    /// The goroutines that exited in the generation, in order: whatever
    /// regions they were in are over. A list apart, eight bytes a
    /// goroutine: a busy program ends hundreds of thousands of them, and
    /// the edges of every generation are kept.
    pub(crate) exited: Vec<i64>,
    /// Tasks that began before the generation and ended in it, with their
    /// names, by ID.
    pub(crate) tasks_ended: Vec<(u64, String)>,
    /// Tasks that began in the generation and had not ended at its end.
    pub(crate) tasks_open: Vec<(u64, Opened)>,
}

#[cfg(test)]
impl AnnotationEdges {
    /// The edges of a generation in which goroutine `g` began region `name`
    /// at `at` and had not ended it at the end.
    pub(crate) fn opening(g: i64, at: i64, name: &str) -> AnnotationEdges {
        let change = RegionChange {
            still_open: vec![(at, name.to_owned())],
            ..RegionChange::default()
        };
        AnnotationEdges {
            regions: vec![(g, change)],
            ..AnnotationEdges::default()
        }
    }

    /// The edges of a generation that ended task `id`, of type `name`,
    /// and began nothing.
    pub(crate) fn ending_task(id: u64, name: &str) -> AnnotationEdges {
        AnnotationEdges {
            tasks_ended: vec![(id, name.to_owned())],
            ..AnnotationEdges::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(ended_earlier: &[&str], still_open: &[(i64, &str)]) -> RegionChange {
        RegionChange {
            ended_earlier: ended_earlier.iter().map(|&n| n.to_owned()).collect(),
            still_open: still_open.iter().map(|&(t, n)| (t, n.to_owned())).collect(),
        }
    }

    #[test]
    fn open_regions_and_tasks_carry_through_generations() {
        let first = AnnotationEdges {
            regions: vec![
                (1, change(&[], &[(10, "request"), (12, "db")])),
                (2, change(&[], &[(11, "job")])),
            ],
            exited: vec![],
            tasks_ended: vec![],
            tasks_open: vec![(7, (9, "serve".to_owned()))],
        };
        let open = OpenAnnotations::default().carry(&first);
        assert_eq!(open.regions.get(&1).map(Vec::len), Some(2));
        // A generation in which nothing happens to them keeps them open.
        let quiet = open.carry(&AnnotationEdges::default());
        assert_eq!(quiet, open);
        // G1 ends "db" and opens "cache"; G2 exits; task 7 ends, 8 begins.
        let second = AnnotationEdges {
            regions: vec![(1, change(&["db"], &[(30, "cache")]))],
            exited: vec![2],
            tasks_ended: vec![(7, "serve".to_owned())],
            tasks_open: vec![(8, (31, "batch".to_owned()))],
        };
        let open = quiet.carry(&second);
        let g1: Vec<&str> = open.regions[&1].iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(g1, ["request", "cache"]);
        assert!(!open.regions.contains_key(&2));
        let tasks: Vec<u64> = open.tasks().map(|(id, _)| id).collect();
        assert_eq!(tasks, [8]);
        // Ending more than was open (begun before the trace) leaves nothing.
        let third = AnnotationEdges {
            regions: vec![(1, change(&["cache", "request", "main"], &[]))],
            exited: vec![],
            tasks_ended: vec![(8, "batch".to_owned()), (3, "boot".to_owned())],
            tasks_open: vec![],
        };
        assert!(open.carry(&third).is_empty());
    }

    #[test]
    fn what_ends_without_having_begun_was_open_from_the_start_of_the_trace() {
        // A flight recording: G1 is inside "serve" and task 3 is in progress
        // when it starts; G1 opens "db" in generation 0, and ends "db" and
        // then "serve" in generation 2, where task 3 ends too.
        let edges = [
            AnnotationEdges {
                regions: vec![(1, change(&[], &[(5, "db")]))],
                ..AnnotationEdges::default()
            },
            AnnotationEdges::default(),
            AnnotationEdges {
                regions: vec![(1, change(&["db", "serve"], &[]))],
                exited: vec![],
                tasks_ended: vec![(3, "request".to_owned())],
                tasks_open: vec![],
            },
            AnnotationEdges::default(),
        ];
        let open = OpenAnnotations::chain(&edges);
        assert_eq!(open.len(), 4);
        let names = |o: &OpenAnnotations| -> Vec<String> {
            let stack = o.regions.get(&1).cloned().unwrap_or_default();
            stack.into_iter().map(|(_, n)| n).collect()
        };
        assert_eq!(names(&open[0]), ["serve"]);
        assert_eq!(names(&open[1]), ["serve", "db"]);
        assert_eq!(names(&open[2]), ["serve", "db"]);
        assert!(open[3].is_empty());
        for o in &open[..3] {
            assert_eq!(o.tasks.get(&3), Some(&(i64::MIN, "request".to_owned())));
        }
        // Carried forward alone, the first generations miss what began
        // before the trace.
        let forward = OpenAnnotations::default().carry(&edges[0]);
        assert_eq!(names(&forward), ["db"]);
        assert!(forward.tasks.is_empty());
    }

    #[test]
    fn a_flood_of_unmatched_ends_is_capped() {
        let names: Vec<String> = (0..100_000).map(|i| format!("r{i}")).collect();
        let flood = AnnotationEdges {
            regions: vec![(
                1,
                RegionChange {
                    ended_earlier: names.clone(),
                    ..RegionChange::default()
                },
            )],
            exited: vec![],
            tasks_ended: (0..100_000).map(|id| (id, "t".to_owned())).collect(),
            tasks_open: vec![],
        };
        let mut edges = vec![AnnotationEdges::default(); 50];
        edges.push(flood);
        let open = OpenAnnotations::chain(&edges);
        let stack = &open[0].regions[&1];
        assert_eq!(stack.len(), MAX_CARRIED_DEPTH);
        // The outermost region ended last.
        assert_eq!(stack[0].1, "r99999");
        assert!(open.iter().all(|o| o.tasks.len() < MAX_BEGAN_BEFORE));
    }
}
