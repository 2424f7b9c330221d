//! User regions that cross generation boundaries.
//!
//! Go writes a region as a begin and an end event on its goroutine, and
//! nothing in between: a generation's status events re-establish every
//! goroutine's scheduling state, but not the regions it is inside. Go's own
//! reader learns them only by reading the trace from the start. A
//! generation built on its own therefore sees a region that began earlier
//! only if it also ends there (it then starts at the generation's start),
//! and a region that spans a whole generation not at all: a two-second
//! request would be missing from the middle second.
//!
//! The fix is a chain over the generations. Building a generation on its own
//! yields its [`RegionEdges`]: per goroutine, how many regions it ended that
//! began before the generation (it pops them off whatever stack it entered
//! with), which regions are still open at its end (pushed on that stack),
//! and whether the goroutine exited (its stack is dropped). These do not
//! depend on what came before, so they are computed once, in any order.
//! Walking them from the first generation gives every generation's
//! [`RegionSeed`], the stack of open regions each goroutine enters it with,
//! which is all a build needs to draw every region at its true depth and
//! across every generation it covers. Only goroutines inside a region at a
//! boundary are in a seed, so for most traces seeds are empty and no
//! generation needs building twice.

use crate::trace::FxHashMap;

/// A region open at a generation boundary: when it began (in the
/// generation that began it) and its name.
pub type OpenRegion = (i64, String);

/// The regions each goroutine is inside when a generation starts,
/// outermost first. Goroutines inside none are absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegionSeed(FxHashMap<i64, Vec<OpenRegion>>);

impl RegionSeed {
    /// Whether no goroutine is inside a region.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The goroutines inside regions and their regions, outermost first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (i64, &[OpenRegion])> {
        self.0.iter().map(|(&g, r)| (g, r.as_slice()))
    }

    /// The seed of the next generation: this one's, carried through a
    /// generation with `edges`.
    pub fn carry(&self, edges: &RegionEdges) -> RegionSeed {
        let mut next = self.0.clone();
        for (g, change) in &edges.changes {
            if change.exited {
                next.remove(g);
                continue;
            }
            let stack = next.entry(*g).or_default();
            let kept = stack.len().saturating_sub(change.ended_earlier as usize);
            stack.truncate(kept);
            stack.extend(change.still_open.iter().cloned());
            if stack.is_empty() {
                next.remove(g);
            }
        }
        RegionSeed(next)
    }
}

/// What a goroutine did to the stack of regions it entered a generation
/// with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RegionChange {
    /// Regions it ended that began before the generation.
    pub(crate) ended_earlier: u32,
    /// Regions it began and had not ended at the generation's end,
    /// outermost first.
    pub(crate) still_open: Vec<OpenRegion>,
    /// It exited in the generation: whatever regions it was in are over.
    pub(crate) exited: bool,
}

/// How a generation changes the regions goroutines are inside, as found by
/// building it on its own (whatever seed it was built with).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegionEdges {
    /// Per goroutine that changed anything, in goroutine order.
    pub(crate) changes: Vec<(i64, RegionChange)>,
}

#[cfg(test)]
impl RegionEdges {
    /// The edges of a generation in which goroutine `g` began region `name`
    /// at `at` and had not ended it at the end.
    pub(crate) fn opening(g: i64, at: i64, name: &str) -> RegionEdges {
        let change = RegionChange {
            still_open: vec![(at, name.to_owned())],
            ..RegionChange::default()
        };
        RegionEdges {
            changes: vec![(g, change)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(ended_earlier: u32, still_open: &[(i64, &str)], exited: bool) -> RegionChange {
        RegionChange {
            ended_earlier,
            still_open: still_open.iter().map(|&(t, n)| (t, n.to_owned())).collect(),
            exited,
        }
    }

    #[test]
    fn seeds_carry_open_regions_through_generations() {
        let first = RegionEdges {
            changes: vec![
                (1, change(0, &[(10, "request"), (12, "db")], false)),
                (2, change(0, &[(11, "job")], false)),
            ],
        };
        let seed = RegionSeed::default().carry(&first);
        assert_eq!(seed.0.get(&1).map(Vec::len), Some(2));
        // A generation in which nothing happens to them keeps them open.
        let quiet = seed.carry(&RegionEdges::default());
        assert_eq!(quiet, seed);
        // G1 ends "db" and opens "cache"; G2 exits.
        let second = RegionEdges {
            changes: vec![
                (1, change(1, &[(30, "cache")], false)),
                (2, change(0, &[], true)),
            ],
        };
        let seed = quiet.carry(&second);
        let g1: Vec<&str> = seed.0[&1].iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(g1, ["request", "cache"]);
        assert!(!seed.0.contains_key(&2));
        // Ending more than it entered with (regions begun before the
        // trace) leaves nothing.
        let third = RegionEdges {
            changes: vec![(1, change(5, &[], false))],
        };
        assert!(seed.carry(&third).is_empty());
    }
}
