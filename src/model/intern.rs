//! Interned strings: labels stored once per generation, referred to by a
//! 24-bit ID in every span.
//!
//! Function names, block reasons and region types repeat across millions of
//! spans; a span stores a [`StrId`] and the generation keeps each text once,
//! with a colour key (a hash of the text, so the same function gets the same
//! colour in every generation and every run).

use crate::trace::FxHashMap;

/// Index of a string in a generation's [`Strings`]; 0 is the empty string.
pub(crate) type StrId = u32;

/// Most distinct strings per generation: what fits in a span's label bits.
/// Further strings (a trace logging unique messages) are labelled
/// [`OVERFLOW`], which costs labels but never memory.
const MAX_STRINGS: usize = 1 << 24;

/// The label of strings beyond [`MAX_STRINGS`].
const OVERFLOW: &str = "…";

/// Slots of [`Interner`]'s cache of recently interned byte slices.
const RECENT: usize = 64;

/// Builds a generation's [`Strings`].
pub(crate) struct Interner {
    ids: FxHashMap<Box<str>, StrId>,
    strings: Strings,
    /// The decoder hands out labels as slices of its string table, so the
    /// same label comes back at the same address: a direct-mapped cache by
    /// address and length skips hashing and comparing the text (interning
    /// runs for every state change).
    recent: [(usize, usize, StrId); RECENT],
}

/// The interned strings of one generation.
#[derive(Debug, Default)]
#[cfg_attr(test, derive(PartialEq))]
pub(crate) struct Strings {
    text: Vec<Box<str>>,
    color: Vec<u32>,
}

impl Interner {
    /// An interner holding the empty string (ID 0) and [`OVERFLOW`].
    pub(crate) fn new() -> Interner {
        let mut interner = Interner {
            ids: FxHashMap::default(),
            strings: Strings::default(),
            recent: [(0, 0, 0); RECENT],
        };
        interner.intern("");
        interner.intern(OVERFLOW);
        interner
    }

    /// The ID of `bytes` (invalid UTF-8 is replaced, as a label needs text).
    /// The cache keys on the address: `bytes` must be a slice of storage
    /// that outlives the interner and never changes (the decoder's string
    /// table), not a temporary buffer; use [`Interner::intern`] for those.
    pub(crate) fn intern_bytes(&mut self, bytes: &[u8]) -> StrId {
        if bytes.is_empty() {
            return 0;
        }
        let key = (bytes.as_ptr() as usize, bytes.len());
        let slot = (key.0 >> 3) % RECENT;
        if let Some(&(addr, len, id)) = self.recent.get(slot)
            && (addr, len) == key
        {
            return id;
        }
        let id = self.intern(&String::from_utf8_lossy(bytes));
        if let Some(entry) = self.recent.get_mut(slot) {
            *entry = (key.0, key.1, id);
        }
        id
    }

    /// The ID of `text`.
    pub(crate) fn intern(&mut self, text: &str) -> StrId {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let Ok(id) = StrId::try_from(self.strings.text.len()) else {
            return 1;
        };
        if self.strings.text.len() >= MAX_STRINGS {
            return 1;
        }
        self.strings.text.push(text.into());
        self.strings.color.push(color_key(text));
        self.ids.insert(text.into(), id);
        id
    }

    /// The text of `id` (empty for an unknown ID).
    pub(crate) fn text(&self, id: StrId) -> &str {
        self.strings.get(id)
    }

    /// The strings, without the lookup table.
    pub(crate) fn finish(self) -> Strings {
        let mut strings = self.strings;
        strings.text.shrink_to_fit();
        strings.color.shrink_to_fit();
        strings
    }
}

impl Strings {
    /// The text of `id` (empty for an unknown ID).
    pub(crate) fn get(&self, id: StrId) -> &str {
        self.text.get(id as usize).map_or("", |s| s)
    }

    /// The colour key of `id`: equal texts give equal keys.
    pub(crate) fn color(&self, id: StrId) -> u32 {
        self.color.get(id as usize).copied().unwrap_or_default()
    }

    /// Heap bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.text
            .iter()
            .map(|s| s.len() + size_of::<Box<str>>() + 4)
            .sum()
    }
}

/// FNV-1a: stable across runs and platforms, unlike `std`'s hasher.
fn color_key(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |h: u32, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once_with_stable_colours() {
        let mut i = Interner::new();
        let a = i.intern("main.worker");
        assert_eq!(i.intern_bytes(b"main.worker"), a);
        let b = i.intern_bytes(b"\xffx");
        let s = i.finish();
        assert_eq!(
            (s.get(0), s.get(a), s.get(b), s.get(999)),
            ("", "main.worker", "\u{fffd}x", "")
        );
        assert_eq!(s.color(a), color_key("main.worker"));
        assert_ne!(s.color(a), s.color(b));
        assert_eq!(color_key(""), 0x811c_9dc5);
    }
}
