//! The K greatest items of a stream, in `O(K)` memory.
//!
//! A min-heap holds the items kept so far; its root is the least of them, the
//! one to evict when a greater item arrives. Each offer costs `O(log K)`, and
//! the heap only grows as items arrive, so a large `K` costs nothing on a
//! small trace.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The `capacity` greatest items offered (by `Ord`).
#[derive(Clone, Debug)]
pub struct TopK<T: Ord> {
    capacity: usize,
    heap: BinaryHeap<Reverse<T>>,
}

impl<T: Ord> TopK<T> {
    /// Keeps up to `capacity` items.
    pub fn new(capacity: usize) -> TopK<T> {
        TopK {
            capacity,
            heap: BinaryHeap::new(),
        }
    }

    /// Offers an item: kept if fewer than `capacity` are held or it is
    /// greater than the least one held, which it then replaces.
    pub fn offer(&mut self, item: T) {
        if self.heap.len() < self.capacity {
            self.heap.push(Reverse(item));
        } else if let Some(mut least) = self.heap.peek_mut()
            && item > least.0
        {
            *least = Reverse(item);
        }
    }

    /// The least item held, once `capacity` are: nothing less can get in.
    pub fn least_when_full(&self) -> Option<&T> {
        let full = self.capacity > 0 && self.heap.len() >= self.capacity;
        self.heap.peek().map(|r| &r.0).filter(|_| full)
    }

    /// The items held, in no particular order.
    pub fn into_items(self) -> impl Iterator<Item = T> {
        self.heap.into_iter().map(|r| r.0)
    }

    /// The items held, greatest first.
    pub fn sorted(&self) -> Vec<&T> {
        let mut items: Vec<&T> = self.heap.iter().map(|r| &r.0).collect();
        items.sort_unstable_by(|a, b| b.cmp(a));
        items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_greatest() {
        let mut top = TopK::new(3);
        assert!(top.sorted().is_empty());
        for v in [5, 1, 9, 3, 7, 9, 2] {
            top.offer(v);
        }
        assert_eq!(top.sorted(), vec![&9, &9, &7]);
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut top = TopK::new(0);
        top.offer(1);
        assert!(top.sorted().is_empty());
    }
}
