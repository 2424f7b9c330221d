//! Interned names: block reasons, region and task types, start functions.
//!
//! The same few strings recur on thousands of events; analyses store a
//! 4-byte [`Label`] instead, and the names live once in [`Labels`]. Names are
//! kept as the trace's bytes (not necessarily UTF-8) so they can be printed
//! exactly as the event dump prints them.

use crate::trace::FxHashMap;

use crate::trace::value::write_quoted;

/// An interned name; [`Label::EMPTY`] is the empty name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Label(u32);

impl Label {
    /// The empty name.
    pub const EMPTY: Label = Label(0);

    /// Its index in the table.
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where the labels of one table are in another that absorbed it (see
/// [`Labels::absorb`]).
#[derive(Debug, Default)]
pub(crate) struct Relabel(Vec<Label>);

impl Relabel {
    /// Label `l` of the absorbed table, in the other.
    pub(crate) fn get(&self, l: Label) -> Label {
        self.0.get(l.index()).copied().unwrap_or(Label::EMPTY)
    }
}

/// The table of interned names.
#[derive(Clone, Debug)]
pub struct Labels {
    names: Vec<Box<[u8]>>,
    ids: FxHashMap<Box<[u8]>, Label>,
    /// Recent lookups by the address of the bytes looked up: the same
    /// reason string of a generation's table comes back for every goroutine
    /// that blocks, and comparing it with the cached name is cheaper than
    /// hashing it (the bytes are always compared, so a reused address
    /// cannot give a wrong label).
    recent: [(usize, Label); RECENT_LABELS],
}

/// Slots of [`Labels`]' cache of recent lookups.
const RECENT_LABELS: usize = 64;

impl Default for Labels {
    fn default() -> Labels {
        let mut labels = Labels {
            names: Vec::new(),
            ids: FxHashMap::default(),
            recent: [(0, Label(0)); RECENT_LABELS],
        };
        labels.intern(b"");
        labels
    }
}

impl Labels {
    /// The label of `name`, added if new.
    pub(crate) fn intern(&mut self, name: &[u8]) -> Label {
        let address = name.as_ptr() as usize;
        let slot = (address >> 3) % RECENT_LABELS;
        if let Some(&(a, label)) = self.recent.get(slot)
            && a == address
            && self.bytes(label) == name
        {
            return label;
        }
        let label = match self.ids.get(name) {
            Some(&label) => label,
            None => {
                let label = Label(self.names.len() as u32);
                self.names.push(name.into());
                self.ids.insert(name.into(), label);
                label
            }
        };
        if let Some(entry) = self.recent.get_mut(slot) {
            *entry = (address, label);
        }
        label
    }

    /// Adds the names of `other`; returns where each of its labels is
    /// here.
    pub(crate) fn absorb(&mut self, other: &Labels) -> Relabel {
        Relabel(other.names.iter().map(|name| self.intern(name)).collect())
    }

    /// The name's bytes, as in the trace.
    pub fn bytes(&self, label: Label) -> &[u8] {
        self.names.get(label.0 as usize).map_or(&[], |n| n)
    }

    /// The name as text (invalid UTF-8 replaced).
    pub fn text(&self, label: Label) -> String {
        String::from_utf8_lossy(self.bytes(label)).into_owned()
    }

    /// Appends the name as the event dump prints it inside its quotes: Go's
    /// escaping, so control characters (tabs, newlines) never appear raw.
    pub fn write_escaped(&self, label: Label, out: &mut Vec<u8>) {
        let start = out.len();
        write_quoted(out, self.bytes(label));
        // Drop the surrounding quotes write_quoted adds.
        out.pop();
        out.remove(start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_escaping_matches_the_dump() {
        let mut labels = Labels::default();
        assert_eq!(labels.intern(b""), Label::EMPTY);
        let a = labels.intern(b"chan receive");
        assert_eq!(labels.intern(b"chan receive"), a);
        assert_ne!(labels.intern(b"select"), a);
        assert_eq!(labels.text(a), "chan receive");
        let odd = labels.intern(b"a\t\"b\"\xff");
        let mut out = b"x".to_vec();
        labels.write_escaped(odd, &mut out);
        assert_eq!(out, b"xa\\t\\\"b\\\"\\xff");
    }

    #[test]
    fn absorbing_maps_each_label_to_its_name() {
        let mut mine = Labels::default();
        let select = mine.intern(b"select");
        let mut theirs = Labels::default();
        let sleep = theirs.intern(b"sleep");
        let again = theirs.intern(b"select");
        let map = mine.absorb(&theirs);
        assert_eq!(map.get(again), select);
        assert_eq!(map.get(Label::EMPTY), Label::EMPTY);
        assert_eq!(mine.text(map.get(sleep)), "sleep");
    }
}
