//! An unstable sort whose result matches Go's `slices.SortFunc` exactly.
//!
//! When the reader cannot advance the cursor with the earliest event, it
//! sorts all cursors by time and tries them in order. Cursors with equal
//! times end up in an order that depends on the sorting algorithm, and that
//! order decides which event is emitted first; to emit events in Go's order
//! the sort must permute elements exactly as Go's pattern-defeating
//! quicksort does. This module implements the same algorithm: insertion
//! sort for short ranges, median-of-three or Tukey's ninther pivots, the
//! same partitioning scheme, pattern breaking with the same xorshift
//! sequence, and heapsort after too many unbalanced partitions.

/// Sorts `v` by `less` into the order Go's `slices.SortFunc` produces.
pub(crate) fn sort_like_go<T>(v: &mut [T], less: &impl Fn(&T, &T) -> bool) {
    let limit = usize::BITS - v.len().leading_zeros();
    pdq(v, 0, v.len(), limit, less);
}

const MAX_INSERTION: usize = 12;

fn insertion<T>(v: &mut [T], a: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && less(&v[j], &v[j - 1]) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn sift_down<T>(v: &mut [T], lo: usize, hi: usize, first: usize, less: &impl Fn(&T, &T) -> bool) {
    let mut root = lo;
    loop {
        let mut child = 2 * root + 1;
        if child >= hi {
            return;
        }
        if child + 1 < hi && less(&v[first + child], &v[first + child + 1]) {
            child += 1;
        }
        if !less(&v[first + root], &v[first + child]) {
            return;
        }
        v.swap(first + root, first + child);
        root = child;
    }
}

fn heapsort<T>(v: &mut [T], a: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    let hi = b - a;
    for i in (0..hi.div_ceil(2)).rev() {
        sift_down(v, i, hi, a, less);
    }
    for i in (0..hi).rev() {
        v.swap(a, a + i);
        sift_down(v, 0, i, a, less);
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Hint {
    Unknown,
    Increasing,
    Decreasing,
}

fn pdq<T>(v: &mut [T], mut a: usize, mut b: usize, mut limit: u32, less: &impl Fn(&T, &T) -> bool) {
    let mut was_balanced = true;
    let mut was_partitioned = true;
    loop {
        let len = b - a;
        if len <= MAX_INSERTION {
            insertion(v, a, b, less);
            return;
        }
        if limit == 0 {
            heapsort(v, a, b, less);
            return;
        }
        if !was_balanced {
            break_patterns(v, a, b);
            limit -= 1;
        }
        let (mut pivot, mut hint) = choose_pivot(v, a, b, less);
        if hint == Hint::Decreasing {
            v[a..b].reverse();
            pivot = (b - 1) - (pivot - a);
            hint = Hint::Increasing;
        }
        if was_balanced
            && was_partitioned
            && hint == Hint::Increasing
            && partial_insertion(v, a, b, less)
        {
            return;
        }
        // Many equal elements: split off those equal to the pivot.
        if a > 0 && !less(&v[a - 1], &v[pivot]) {
            a = partition_equal(v, a, b, pivot, less);
            continue;
        }
        let (mid, already) = partition(v, a, b, pivot, less);
        was_partitioned = already;
        let (left, right) = (mid - a, b - mid);
        let threshold = len / 8;
        if left < right {
            was_balanced = left >= threshold;
            pdq(v, a, mid, limit, less);
            a = mid + 1;
        } else {
            was_balanced = right >= threshold;
            pdq(v, mid + 1, b, limit, less);
            b = mid;
        }
    }
}

fn partition<T>(
    v: &mut [T],
    a: usize,
    b: usize,
    pivot: usize,
    less: &impl Fn(&T, &T) -> bool,
) -> (usize, bool) {
    v.swap(a, pivot);
    // `i` and `j` are signed: `j` may step to `a` and the loops compare
    // `i <= j`, so keep them in isize to mirror the algorithm's bounds.
    let (mut i, mut j) = (a as isize + 1, b as isize - 1);
    let at = |k: isize| k as usize;
    while i <= j && less(&v[at(i)], &v[a]) {
        i += 1;
    }
    while i <= j && !less(&v[at(j)], &v[a]) {
        j -= 1;
    }
    if i > j {
        v.swap(at(j), a);
        return (at(j), true);
    }
    v.swap(at(i), at(j));
    i += 1;
    j -= 1;
    loop {
        while i <= j && less(&v[at(i)], &v[a]) {
            i += 1;
        }
        while i <= j && !less(&v[at(j)], &v[a]) {
            j -= 1;
        }
        if i > j {
            break;
        }
        v.swap(at(i), at(j));
        i += 1;
        j -= 1;
    }
    v.swap(at(j), a);
    (at(j), false)
}

fn partition_equal<T>(
    v: &mut [T],
    a: usize,
    b: usize,
    pivot: usize,
    less: &impl Fn(&T, &T) -> bool,
) -> usize {
    v.swap(a, pivot);
    let (mut i, mut j) = (a as isize + 1, b as isize - 1);
    let at = |k: isize| k as usize;
    loop {
        while i <= j && !less(&v[a], &v[at(i)]) {
            i += 1;
        }
        while i <= j && less(&v[a], &v[at(j)]) {
            j -= 1;
        }
        if i > j {
            break;
        }
        v.swap(at(i), at(j));
        i += 1;
        j -= 1;
    }
    at(i)
}

fn partial_insertion<T>(v: &mut [T], a: usize, b: usize, less: &impl Fn(&T, &T) -> bool) -> bool {
    const MAX_STEPS: usize = 5;
    const SHORTEST_SHIFTING: usize = 50;
    let mut i = a + 1;
    for _ in 0..MAX_STEPS {
        while i < b && !less(&v[i], &v[i - 1]) {
            i += 1;
        }
        if i == b {
            return true;
        }
        if b - a < SHORTEST_SHIFTING {
            return false;
        }
        v.swap(i, i - 1);
        if i - a >= 2 {
            let mut j = i - 1;
            while j >= 1 && less(&v[j], &v[j - 1]) {
                v.swap(j, j - 1);
                j -= 1;
            }
        }
        if b - i >= 2 {
            let mut j = i + 1;
            while j < b && less(&v[j], &v[j - 1]) {
                v.swap(j, j - 1);
                j += 1;
            }
        }
    }
    false
}

fn break_patterns<T>(v: &mut [T], a: usize, b: usize) {
    let len = b - a;
    if len < 8 {
        return;
    }
    let mut r = len as u64;
    let modulus = 1usize << (usize::BITS - len.leading_zeros());
    let mid = a + (len / 4) * 2;
    for idx in mid - 1..=mid + 1 {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        let mut other = (r as usize) & (modulus - 1);
        if other >= len {
            other -= len;
        }
        v.swap(idx, a + other);
    }
}

fn choose_pivot<T>(
    v: &mut [T],
    a: usize,
    b: usize,
    less: &impl Fn(&T, &T) -> bool,
) -> (usize, Hint) {
    const SHORTEST_NINTHER: usize = 50;
    const MAX_SWAPS: usize = 4 * 3;
    let l = b - a;
    let mut swaps = 0;
    let mut i = a + l / 4;
    let mut j = a + l / 4 * 2;
    let mut k = a + l / 4 * 3;
    if l >= 8 {
        if l >= SHORTEST_NINTHER {
            i = median(v, i - 1, i, i + 1, &mut swaps, less);
            j = median(v, j - 1, j, j + 1, &mut swaps, less);
            k = median(v, k - 1, k, k + 1, &mut swaps, less);
        }
        j = median(v, i, j, k, &mut swaps, less);
    }
    let hint = match swaps {
        0 => Hint::Increasing,
        MAX_SWAPS => Hint::Decreasing,
        _ => Hint::Unknown,
    };
    (j, hint)
}

fn order2<T>(
    v: &[T],
    a: usize,
    b: usize,
    swaps: &mut usize,
    less: &impl Fn(&T, &T) -> bool,
) -> (usize, usize) {
    if less(&v[b], &v[a]) {
        *swaps += 1;
        (b, a)
    } else {
        (a, b)
    }
}

fn median<T>(
    v: &[T],
    a: usize,
    b: usize,
    c: usize,
    swaps: &mut usize,
    less: &impl Fn(&T, &T) -> bool,
) -> usize {
    let (a, b) = order2(v, a, b, swaps, less);
    let (b, _c) = order2(v, b, c, swaps, less);
    let (_a, b) = order2(v, a, b, swaps, less);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Order of (key, original index) pairs after sorting by key only.
    fn sorted(keys: &[u32]) -> Vec<(u32, usize)> {
        let mut v: Vec<(u32, usize)> = keys.iter().copied().zip(0..).collect();
        sort_like_go(&mut v, &|a: &(u32, usize), b: &(u32, usize)| a.0 < b.0);
        v
    }

    #[test]
    fn sorts_and_matches_go_permutations() {
        let mut x: u64 = 42;
        let keys: Vec<u32> = (0..1000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 50) as u32
            })
            .collect();
        let v = sorted(&keys);
        assert!(v.windows(2).all(|w| w[0].0 <= w[1].0));
        // The same data through Go 1.27's sort, hashed over the index order.
        let h = v
            .iter()
            .fold(0u64, |h, p| h.wrapping_mul(31).wrapping_add(p.1 as u64));
        assert_eq!(h, 14_931_862_967_682_469_138);
        // Short inputs use insertion sort, which is stable.
        let v = sorted(&[3, 1, 3, 1, 2]);
        assert_eq!(v, vec![(1, 1), (1, 3), (2, 4), (3, 0), (3, 2)]);
        // Go 1.27 `slices.SortFunc` on keys 20 - i%7 for i in 0..20, sorting
        // (key, index) pairs by key, yields this index order.
        let keys: Vec<u32> = (0..20).map(|i| 20 - i % 7).collect();
        let order: Vec<usize> = sorted(&keys).iter().map(|p| p.1).collect();
        assert_eq!(order, GO_ORDER_20.to_vec());
        for n in [0, 1, 13, 64, 300] {
            let keys: Vec<u32> = (0..n).map(|i| (n - i) as u32 / 3).collect();
            let v = sorted(&keys);
            assert!(v.windows(2).all(|w| w[0].0 <= w[1].0));
        }
    }

    const GO_ORDER_20: [usize; 20] = [
        13, 6, 19, 5, 12, 11, 18, 4, 10, 3, 17, 9, 16, 2, 8, 15, 1, 0, 7, 14,
    ];
}
