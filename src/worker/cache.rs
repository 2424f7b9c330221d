//! The full-detail cache: decoded generations near the view, least recently
//! used evicted first, under a byte budget.

use crate::model::GenerationModel;

/// Bytes of full-detail windows the ui keeps (each sized to about
/// `store::WINDOW_BYTES`): the windows on screen are kept whatever the
/// budget, others only while all fit in it. A window's model is often a
/// little larger than its estimate (10 MB for an 8 MiB window of the 1 GB
/// benchmark trace), so beside a window on screen this mostly keeps none:
/// going back to where the view was then takes a decode (a fraction of a
/// second, the summary shown meanwhile). More means fewer re-decodes when
/// panning back and forth; less lowers the RSS (300 MB in all, with decoding
/// in flight and the summaries of every generation, which for a 1 GB trace
/// leave a few tens of megabytes).
pub(crate) const DETAIL_BUDGET: usize = super::store::WINDOW_BYTES;

struct Entry {
    generation: usize,
    model: GenerationModel,
    bytes: usize,
    used: u64,
}

/// Decoded generations by index.
#[derive(Default)]
pub(crate) struct DetailCache {
    entries: Vec<Entry>,
    clock: u64,
}

impl DetailCache {
    /// The detail of `generation`, if cached.
    pub(crate) fn get(&self, generation: usize) -> Option<&GenerationModel> {
        self.entries
            .iter()
            .find(|e| e.generation == generation)
            .map(|e| &e.model)
    }

    /// Marks `generation` as just used.
    pub(crate) fn touch(&mut self, generation: usize) {
        self.clock += 1;
        let clock = self.clock;
        if let Some(e) = self.entries.iter_mut().find(|e| e.generation == generation) {
            e.used = clock;
        }
    }

    /// Adds `model` and evicts the least recently used generations not in
    /// `keep` until the cache fits `budget`; returns the evicted ones.
    pub(crate) fn insert(
        &mut self,
        generation: usize,
        model: GenerationModel,
        keep: &[usize],
        budget: usize,
    ) -> Vec<usize> {
        self.remove(generation);
        self.clock += 1;
        let bytes = model.bytes();
        self.entries.push(Entry {
            generation,
            model,
            bytes,
            used: self.clock,
        });
        let mut evicted = Vec::new();
        while self.bytes() > budget {
            let victim = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| !keep.contains(&e.generation))
                .min_by_key(|(_, e)| e.used)
                .map(|(i, _)| i);
            let Some(i) = victim else { break };
            evicted.push(self.entries.swap_remove(i).generation);
        }
        evicted
    }

    /// Drops the detail of `generation`; whether it was cached.
    pub(crate) fn remove(&mut self, generation: usize) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.generation != generation);
        self.entries.len() != before
    }

    /// Bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.entries.iter().map(|e| e.bytes).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> GenerationModel {
        crate::model::build(std::iter::empty())
    }

    #[test]
    fn evicts_least_recently_used_outside_the_view() {
        let mut c = DetailCache::default();
        let one = model().bytes();
        assert!(c.insert(0, model(), &[], 3 * one).is_empty());
        assert!(c.insert(1, model(), &[], 3 * one).is_empty());
        assert!(c.insert(2, model(), &[], 3 * one).is_empty());
        c.touch(0);
        assert_eq!(c.insert(3, model(), &[1], 3 * one), [2]);
        assert!(c.get(1).is_some() && c.get(2).is_none());
        assert_eq!(
            c.insert(4, model(), &[0, 1, 3, 4], 0),
            Vec::<usize>::new(),
            "visible detail is kept"
        );
        assert_eq!(c.bytes(), 4 * one);
    }
}
