//! Shared building blocks: IDs, the per-generation lookup tables, the maps
//! from goroutine and P IDs the ordering consults on every event, and the
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
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
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

/// A map from resource IDs (goroutines, Ps) to values, for the ordering's
/// per-event lookups: IDs in `0..DENSE_IDS` (which is what the runtime hands
/// out, counting up from 1) index pages of slots directly, with no hashing;
/// other IDs, negative ones included, go to a hash map.
///
/// A page is allocated when an ID in it is first inserted and freed when
/// its last entry is removed. So that a hostile trace cannot make each
/// entry cost a page, pages beyond the first [`FREE_PAGES`] are allocated
/// only while there are at least [`ENTRIES_PER_PAGE`] entries per page;
/// entries that would break this go to the hash map too (lookups fall back
/// to it when their slot is empty).
#[derive(Clone, Debug)]
pub(crate) struct IdMap<V> {
    pages: Vec<Option<Box<[Option<V>]>>>,
    /// Entries in each page.
    counts: Vec<u16>,
    /// Allocated pages, and entries in them.
    allocated: usize,
    in_pages: usize,
    sparse: FxHashMap<i64, V>,
}

/// Entries per page of an [`IdMap`].
const ID_PAGE: usize = 1024;
/// IDs below this can be stored in [`IdMap`] pages (the page directory is
/// then at most 16384 pointers).
const DENSE_IDS: u64 = 1 << 24;
/// Pages an [`IdMap`] may allocate however few entries it holds.
const FREE_PAGES: usize = 64;
/// Entries per page an [`IdMap`] must hold on average to allocate more
/// than [`FREE_PAGES`] pages.
const ENTRIES_PER_PAGE: usize = 256;

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap {
            pages: Vec::new(),
            counts: Vec::new(),
            allocated: 0,
            in_pages: 0,
            sparse: FxHashMap::default(),
        }
    }
}

impl<V> IdMap<V> {
    /// The page and slot of an ID that may be stored in a page.
    #[inline(always)]
    fn split(id: i64) -> Option<(usize, usize)> {
        let u = id as u64;
        (u < DENSE_IDS).then_some(((u / ID_PAGE as u64) as usize, (u % ID_PAGE as u64) as usize))
    }

    /// The slot of `id`, if its page exists.
    #[inline(always)]
    fn slot(&self, p: usize, i: usize) -> Option<&Option<V>> {
        self.pages.get(p)?.as_deref()?.get(i)
    }

    /// The value of `id`.
    #[inline]
    pub(crate) fn get(&self, id: &i64) -> Option<&V> {
        if let Some((p, i)) = Self::split(*id) {
            if let Some(Some(v)) = self.slot(p, i) {
                return Some(v);
            }
            if self.sparse.is_empty() {
                return None;
            }
        }
        self.sparse.get(id)
    }

    /// The value of `id`, mutably.
    #[inline]
    pub(crate) fn get_mut(&mut self, id: &i64) -> Option<&mut V> {
        if let Some((p, i)) = Self::split(*id) {
            // The usual case, with a single walk to the slot.
            if self.sparse.is_empty() {
                return self.pages.get_mut(p)?.as_deref_mut()?.get_mut(i)?.as_mut();
            }
            if self.slot(p, i).is_some_and(Option::is_some) {
                return self.pages.get_mut(p)?.as_deref_mut()?.get_mut(i)?.as_mut();
            }
        }
        self.sparse.get_mut(id)
    }

    /// Whether `id` has a value.
    #[inline]
    pub(crate) fn contains_key(&self, id: &i64) -> bool {
        self.get(id).is_some()
    }

    /// Sets the value of `id`, returning the previous one.
    pub(crate) fn insert(&mut self, id: i64, v: V) -> Option<V> {
        let Some((p, i)) = Self::split(id) else {
            return self.sparse.insert(id, v);
        };
        if !self.sparse.is_empty() && self.sparse.contains_key(&id) {
            return self.sparse.insert(id, v);
        }
        let has_page = self.pages.get(p).is_some_and(Option::is_some);
        if !has_page {
            let may = self.allocated < FREE_PAGES
                || self.in_pages >= self.allocated.saturating_mul(ENTRIES_PER_PAGE);
            if !may {
                return self.sparse.insert(id, v);
            }
            if self.pages.len() <= p {
                self.pages.resize_with(p + 1, || None);
                self.counts.resize(p + 1, 0);
            }
            if let Some(slot) = self.pages.get_mut(p) {
                // Built on the heap: an array built on the stack first can
                // overflow a thread's stack in unoptimised builds.
                *slot = Some(std::iter::repeat_with(|| None).take(ID_PAGE).collect());
                self.allocated += 1;
            }
        }
        let slot = self
            .pages
            .get_mut(p)
            .and_then(|page| page.as_deref_mut()?.get_mut(i));
        let Some(slot) = slot else {
            // Not reached: the page exists now.
            return self.sparse.insert(id, v);
        };
        let old = slot.replace(v);
        if old.is_none() {
            self.in_pages += 1;
            if let Some(c) = self.counts.get_mut(p) {
                *c += 1;
            }
        }
        old
    }

    /// Removes `id`, returning its value.
    pub(crate) fn remove(&mut self, id: &i64) -> Option<V> {
        if let Some((p, i)) = Self::split(*id)
            && let Some(old) = self
                .pages
                .get_mut(p)
                .and_then(|page| page.as_deref_mut()?.get_mut(i)?.take())
        {
            self.in_pages -= 1;
            if let Some(c) = self.counts.get_mut(p) {
                *c -= 1;
                if *c == 0
                    && let Some(page) = self.pages.get_mut(p)
                {
                    *page = None;
                    self.allocated -= 1;
                }
            }
            return Some(old);
        }
        self.sparse.remove(id)
    }

    /// Every entry (dense IDs in ascending order, then the others).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (i64, &V)> {
        let dense = self.pages.iter().enumerate().flat_map(|(p, page)| {
            page.iter().flat_map(move |page| {
                page.iter()
                    .enumerate()
                    .filter_map(move |(i, v)| Some(((p * ID_PAGE + i) as i64, v.as_ref()?)))
            })
        });
        dense.chain(self.sparse.iter().map(|(&k, v)| (k, v)))
    }

    /// Every entry, by value.
    pub(crate) fn into_entries(self) -> impl Iterator<Item = (i64, V)> {
        let dense = self.pages.into_iter().enumerate().flat_map(|(p, page)| {
            page.into_iter().flat_map(move |page| {
                Vec::from(page)
                    .into_iter()
                    .enumerate()
                    .filter_map(move |(i, v)| Some(((p * ID_PAGE + i) as i64, v?)))
            })
        });
        dense.chain(self.sparse)
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

    /// The nanoseconds per tick as a small integer (1 to
    /// [`Frequency::MAX_INT`]), if they are exactly one; 0 otherwise. Then
    /// `mul(t) == t * n` for every `t` below [`Frequency::INT_TICKS`]: the
    /// product is an integer below 2^53, which `f64` holds exactly.
    pub(crate) fn as_int(self) -> u64 {
        let f = self.0;
        if (1.0..=Self::MAX_INT as f64).contains(&f) && f.fract() == 0.0 {
            f as u64
        } else {
            0
        }
    }

    /// Largest integer frequency [`Frequency::as_int`] reports.
    pub(crate) const MAX_INT: u64 = 1 << 10;
    /// Tick counts below this times [`Frequency::MAX_INT`] stay below 2^53.
    pub(crate) const INT_TICKS: u64 = 1 << 43;

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

    #[test]
    fn integer_frequency_is_exact() {
        let f = Frequency::from_ticks_per_sec(15_625_000);
        assert_eq!(f.as_int(), 64);
        assert_eq!(Frequency::from_ticks_per_sec(1_000_000_000).as_int(), 1);
        assert_eq!(Frequency::from_ticks_per_sec(3_000_000_000).as_int(), 0);
        assert_eq!(Frequency(0.0).as_int(), 0);
        assert_eq!(Frequency(f64::NAN).as_int(), 0);
        assert_eq!(Frequency(2048.0).as_int(), 0);
        let mut t = 1u64;
        while t < Frequency::INT_TICKS {
            for d in [t - 1, t, t + 1, t * 3 / 2] {
                if d < Frequency::INT_TICKS {
                    assert_eq!(f.mul(d), (d * 64) as Time, "{d}");
                    let m = Frequency(Frequency::MAX_INT as f64);
                    assert_eq!(m.mul(d), (d * Frequency::MAX_INT) as Time, "{d}");
                }
            }
            t *= 2;
        }
    }

    #[test]
    fn id_map_dense_and_sparse() {
        let mut m: IdMap<u32> = IdMap::default();
        for id in [
            0,
            1,
            1023,
            1024,
            5000,
            (1 << 24) - 1,
            1 << 24,
            1 << 40,
            -1,
            i64::MIN,
        ] {
            assert_eq!(m.insert(id, id as u32), None, "{id}");
            assert_eq!(m.get(&id), Some(&(id as u32)));
        }
        assert_eq!(m.insert(5000, 7), Some(5000));
        *m.get_mut(&5000).unwrap() += 1;
        assert_eq!(m.get(&5000), Some(&8));
        assert!(!m.contains_key(&2) && !m.contains_key(&(1 << 30)));
        assert_eq!(m.remove(&1024), Some(1024));
        assert_eq!(m.remove(&1024), None);
        assert_eq!(m.remove(&-1), Some(u32::MAX));
        let mut all: Vec<i64> = m.iter().map(|(id, _)| id).collect();
        all.sort_unstable();
        assert_eq!(
            all,
            [i64::MIN, 0, 1, 1023, 5000, (1 << 24) - 1, 1 << 24, 1 << 40]
        );
        let mut owned: Vec<(i64, u32)> = m.into_entries().collect();
        owned.sort_unstable();
        assert_eq!(owned.len(), 8);
        assert_eq!(owned[4], (5000, 8));

        // One entry per page: past the free pages, entries go to the hash
        // map, and everything still behaves as a map.
        let mut m: IdMap<u64> = IdMap::default();
        let ids: Vec<i64> = (0..2000).map(|k| k * ID_PAGE as i64 + 7).collect();
        for &id in &ids {
            assert_eq!(m.insert(id, id as u64), None);
        }
        assert_eq!(m.allocated, FREE_PAGES);
        assert!(ids.iter().all(|id| m.get(id) == Some(&(*id as u64))));
        assert_eq!(m.insert(ids[1500], 1), Some(ids[1500] as u64));
        assert_eq!(m.remove(&ids[3]), Some(ids[3] as u64));
        assert_eq!(m.allocated, FREE_PAGES - 1);
        assert_eq!(m.get(&ids[3]), None);
        assert_eq!(m.iter().count(), ids.len() - 1);
    }
}
