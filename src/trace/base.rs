//! Shared building blocks: IDs, the per-generation lookup tables, and the
//! tick-to-nanosecond conversion.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

pub use super::batch::{NO_THREAD, ThreadId};

/// Goroutine ID; `-1` means none.
pub type GoId = i64;
/// P ID; `-1` means none.
pub type ProcId = i64;
/// Task ID as given to `runtime/trace.NewTask`.
pub type TaskId = u64;

/// Sentinel for "no goroutine".
pub const NO_GOROUTINE: GoId = -1;
/// Sentinel for "no P".
pub const NO_PROC: ProcId = -1;
/// Sentinel for "no task".
pub const NO_TASK: TaskId = u64::MAX;
/// The task events belong to when no task is in their context.
pub const BACKGROUND_TASK: TaskId = 0;

/// A time in nanoseconds on the trace's clock.
pub type Time = i64;

/// The goroutine, P and M an event happened on.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct SchedCtx {
    /// Goroutine, or [`NO_GOROUTINE`].
    pub g: GoId,
    /// P, or [`NO_PROC`].
    pub p: ProcId,
    /// Thread, or [`NO_THREAD`].
    pub m: ThreadId,
}

impl SchedCtx {
    /// No goroutine, P or thread.
    pub const NONE: SchedCtx = SchedCtx {
        g: NO_GOROUTINE,
        p: NO_PROC,
        m: NO_THREAD,
    };
}

/// A fast non-cryptographic hasher for integer keys (the multiply-rotate
/// scheme of rustc's FxHash). Trace IDs are not adversarial enough for hash
/// flooding to matter more than SipHash's cost on every event.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.write_u64(u64::from_le_bytes(w));
        }
        for &b in words.remainder() {
            self.write_u64(u64::from(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    #[inline]
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A `HashSet` with [`FxHasher`].
pub(crate) type FxHashSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;

/// A set of non-negative resource IDs (goroutines, Ps, threads), cheap
/// to update once per event: small IDs live in a bitmap, others in a hash
/// set, and a repeated insert of the same ID is skipped.
#[derive(Default, Clone, Debug)]
pub struct IdSet {
    last: Option<i64>,
    bits: Vec<u64>,
    large: std::collections::HashSet<i64, BuildHasherDefault<FxHasher>>,
    len: usize,
}

impl IdSet {
    /// IDs below this are kept in the bitmap (at most 2 MiB of it).
    const DENSE_LIMIT: u64 = 1 << 24;

    /// Adds `id`; negative IDs ("none") are ignored.
    #[inline]
    pub fn insert(&mut self, id: i64) {
        if id < 0 || self.last == Some(id) {
            return;
        }
        self.last = Some(id);
        let u = id as u64;
        if u < Self::DENSE_LIMIT {
            let word = (u / 64) as usize;
            if word >= self.bits.len() {
                self.bits.resize(word + 1, 0);
            }
            let mask = 1u64 << (u % 64);
            if self.bits[word] & mask == 0 {
                self.bits[word] |= mask;
                self.len += 1;
            }
        } else if self.large.insert(id) {
            self.len += 1;
        }
    }

    /// Number of distinct IDs.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Adds every ID of `other`.
    pub fn extend(&mut self, other: &IdSet) {
        for (w, &bits) in other.bits.iter().enumerate() {
            let mut bits = bits;
            while bits != 0 {
                let b = bits.trailing_zeros();
                bits &= bits - 1;
                self.insert((w as i64) * 64 + i64::from(b));
            }
        }
        for &id in &other.large {
            self.insert(id);
        }
    }

    /// Whether no ID was added.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A table from trace-assigned IDs to values, as Go's string and stack
/// tables: ID 0 is always present (the empty value); other IDs are stored
/// densely when they are compact, in a hash map otherwise.
#[derive(Clone, Debug)]
pub(crate) struct IdTable<T> {
    dense: Vec<Option<T>>,
    sparse: FxHashMap<u64, T>,
}

impl<T: Clone + Default> IdTable<T> {
    pub(crate) fn new() -> Self {
        IdTable {
            dense: Vec::new(),
            sparse: FxHashMap::default(),
        }
    }

    /// Looks up `id`; 0 yields the default value.
    #[inline]
    pub(crate) fn get(&self, id: u64) -> Option<T> {
        if id == 0 {
            return Some(T::default());
        }
        match usize::try_from(id).ok().and_then(|i| self.dense.get(i)) {
            Some(slot) => slot.clone(),
            None => self.sparse.get(&id).cloned(),
        }
    }

    /// Whether `id` resolves.
    #[inline]
    pub(crate) fn contains(&self, id: u64) -> bool {
        id == 0
            || match usize::try_from(id).ok().and_then(|i| self.dense.get(i)) {
                Some(slot) => slot.is_some(),
                None => self.sparse.contains_key(&id),
            }
    }

    /// Inserts a new entry, or returns the existing one if `id` is taken.
    pub(crate) fn insert(&mut self, id: u64, value: T) -> Result<(), T> {
        if let Some(existing) = self.get(id) {
            return Err(existing);
        }
        self.sparse.insert(id, value);
        Ok(())
    }

    /// Moves entries into the dense vector if that wastes at most about
    /// half of it. Called once the table is complete.
    pub(crate) fn compact(&mut self) {
        let n = self.sparse.len();
        let Some(&max) = self.sparse.keys().max() else {
            return;
        };
        let Ok(max) = usize::try_from(max) else {
            return;
        };
        if max > 2 * n + 16 {
            return;
        }
        self.dense = vec![None; max + 1];
        for (id, v) in self.sparse.drain() {
            // `id <= max`, checked above.
            if let Some(slot) = usize::try_from(id).ok().and_then(|i| self.dense.get_mut(i)) {
                *slot = Some(v);
            }
        }
    }

    /// All entries in ascending ID order (ID 0 excluded unless inserted).
    pub(crate) fn sorted(&self) -> Vec<(u64, T)> {
        let mut v: Vec<(u64, T)> = self
            .dense
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.clone().map(|s| (i as u64, s)))
            .collect();
        v.extend(self.sparse.iter().map(|(&k, s)| (k, s.clone())));
        v.sort_unstable_by_key(|&(k, _)| k);
        v
    }
}

/// Converts trace clock ticks to nanoseconds: the generation's nanoseconds
/// per tick, applied with Go's float64 arithmetic so results agree to the
/// nanosecond.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub(crate) struct Frequency(pub(crate) f64);

impl Frequency {
    /// From ticks per second as written in the trace.
    pub(crate) fn from_ticks_per_sec(f: u64) -> Frequency {
        Frequency(1.0 / (f as f64 / 1e9))
    }

    /// Whether the generation had no frequency event.
    pub(crate) fn is_zero(self) -> bool {
        self.0 == 0.0
    }

    /// `ticks` in nanoseconds.
    #[inline]
    pub(crate) fn mul(self, ticks: u64) -> Time {
        go_f64_to_i64(ticks as f64 * self.0)
    }
}

/// Go's float64 to int64 conversion as compiled for amd64 (where the oracle
/// runs): truncation, and the "integer indefinite" value `i64::MIN` for NaN
/// and out-of-range inputs (Rust's `as` would saturate instead).
#[inline]
pub(crate) fn go_f64_to_i64(x: f64) -> i64 {
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_table_dense_and_sparse() {
        let mut t: IdTable<u32> = IdTable::new();
        assert_eq!(t.get(0), Some(0));
        t.insert(1, 10).unwrap();
        t.insert(2, 20).unwrap();
        t.insert(1 << 40, 30).unwrap();
        assert_eq!(t.insert(2, 99), Err(20));
        assert_eq!(t.insert(0, 99), Err(0));
        t.compact();
        assert_eq!(
            (t.get(1), t.get(1 << 40), t.get(3)),
            (Some(10), Some(30), None)
        );
        let mut d: IdTable<u32> = IdTable::new();
        for i in 1..100 {
            d.insert(i, i as u32).unwrap();
        }
        d.compact();
        assert!(d.sparse.is_empty() && d.contains(99) && !d.contains(100));
        assert_eq!(d.sorted().len(), 99);
    }

    #[test]
    fn frequency_matches_go_float_semantics() {
        let f = Frequency::from_ticks_per_sec(15_625_000); // 64ns ticks
        assert_eq!(f.mul(10), 640);
        assert_eq!(Frequency::from_ticks_per_sec(0).mul(0), i64::MIN);
        assert_eq!(go_f64_to_i64(1e300), i64::MIN);
        assert_eq!(go_f64_to_i64(-3.9), -3);
    }
}
