//! Where a span came from: the stack of the event that began it, the
//! goroutine that unblocked it, and the P and M it happened on.
//!
//! The side panel shows this for one clicked span, while the timeline draws
//! millions, so it is stored apart from [`Span`](super::span::Span) (which
//! stays 16 bytes for drawing) as a parallel `u32` per span: an
//! [`OriginId`] into the generation's [`Origins`]. Origins are interned —
//! the same stack, unblocker, P and M share one entry, and a stack's frames
//! are stored once however many events carry it — so a span costs 4 bytes
//! more (16 → 20) and the tables grow with distinct origins, not spans.
//! Frames are resolved to interned function and file names while building,
//! because the decoded events (and their stack tables) are dropped once the
//! model is built.

use std::hash::{Hash, Hasher};

use crate::trace::{FxHashMap, FxHasher};

use super::intern::{Interner, StrId, Strings};
use super::span::SpanKind;
use crate::trace::Stack;

/// Index of a span's [`Origin`] in its generation's [`Origins`]; 0 means
/// nothing is known (GC spans, tasks begun before the generation, spans
/// whose event had no stack).
pub(crate) type OriginId = u32;

/// What is known about the event that began a span. `-1` means unknown,
/// as in the decoder's IDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    /// Index of the stack in [`Origins`]' stack table; 0 is no stack.
    pub(crate) stack: u32,
    /// The goroutine that made this one runnable (Go's `GoUnblock` issued
    /// by another goroutine) or created it, or -1. For a user task, the
    /// goroutine that began it.
    pub(crate) unblocker: i64,
    /// The span is the goroutine's first: `unblocker` created it, and the
    /// stack is where the goroutine starts (Go's transition stack).
    pub(crate) created: bool,
    /// The P the event happened on, or -1.
    pub(crate) proc: i64,
    /// The M the event happened on, or -1.
    pub(crate) thread: i64,
}

/// The origin of spans nothing is known about.
pub(crate) const UNKNOWN: Origin = Origin {
    stack: 0,
    unblocker: -1,
    created: false,
    proc: -1,
    thread: -1,
};

/// Slots of the cache of recently interned origins: enough to catch a
/// goroutine blocking again where it blocked before, on the same P and M,
/// woken by the same goroutine; bigger only costs memory per decode.
const RECENT_ORIGINS: usize = 512;

/// One stack frame, its names interned in the generation's strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) pc: u64,
    pub(crate) func: StrId,
    pub(crate) file: StrId,
    pub(crate) line: u32,
}

/// A generation's origins and the stacks they refer to.
#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq))]
pub(crate) struct Origins {
    origins: Vec<Origin>,
    /// Per stack, its frames' range in `frames` (innermost first).
    stacks: Vec<(u32, u32)>,
    frames: Vec<Frame>,
}

impl Origins {
    /// The origin `id`, if known.
    pub(crate) fn get(&self, id: OriginId) -> Option<Origin> {
        self.origins
            .get(id as usize)
            .copied()
            .filter(|&o| o != UNKNOWN)
    }

    /// The frames of stack `stack`, innermost first.
    pub(crate) fn frames(&self, stack: u32) -> &[Frame] {
        let Some(&(start, end)) = self.stacks.get(stack as usize) else {
            return &[];
        };
        self.frames
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    /// Approximate heap bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.origins.len() * size_of::<Origin>()
            + self.stacks.len() * size_of::<(u32, u32)>()
            + self.frames.len() * size_of::<Frame>()
    }
}

/// Builds a generation's [`Origins`].
pub(crate) struct OriginBuilder {
    /// Origins interned lately, by hash: a direct-mapped cache rather than
    /// a map of every origin, since most origins are unique (the unblocker,
    /// P and M vary) and a map would cost more than the table itself.
    recent: Box<[(Origin, OriginId)]>,
    /// Our stack index by the decoder's stack ID (unique in a generation).
    stack_ids: FxHashMap<u64, u32>,
    origins: Origins,
}

impl Default for OriginBuilder {
    fn default() -> Self {
        OriginBuilder {
            recent: vec![(UNKNOWN, 0); RECENT_ORIGINS].into_boxed_slice(),
            stack_ids: FxHashMap::default(),
            origins: Origins {
                origins: vec![UNKNOWN],
                stacks: vec![(0, 0)],
                frames: Vec::new(),
            },
        }
    }
}

impl OriginBuilder {
    /// The ID of `origin`. IDs past `u32` (never reached: a generation has
    /// fewer events) map to 0.
    pub(crate) fn intern(&mut self, origin: Origin) -> OriginId {
        let mut h = FxHasher::default();
        origin.hash(&mut h);
        let slot = (h.finish() >> 40) as usize % RECENT_ORIGINS;
        if let Some((o, id)) = self.recent.get(slot)
            && *o == origin
        {
            return *id;
        }
        let Ok(id) = OriginId::try_from(self.origins.origins.len()) else {
            return 0;
        };
        self.origins.origins.push(origin);
        if let Some(entry) = self.recent.get_mut(slot) {
            *entry = (origin, id);
        }
        id
    }

    /// Our index of `stack`, its frames interned into `strings` if new.
    pub(crate) fn stack(&mut self, strings: &mut Interner, stack: Stack<'_>) -> u32 {
        if let Some(&index) = self.stack_ids.get(&stack.id()) {
            return index;
        }
        let frames = &mut self.origins.frames;
        let start = frames.len();
        frames.extend(stack.frames().map(|f| Frame {
            pc: f.pc,
            func: strings.intern_bytes(f.func),
            file: strings.intern_bytes(f.file),
            line: u32::try_from(f.line).unwrap_or(u32::MAX),
        }));
        let range = (
            u32::try_from(start).unwrap_or(u32::MAX),
            u32::try_from(frames.len()).unwrap_or(u32::MAX),
        );
        let index = u32::try_from(self.origins.stacks.len()).unwrap_or(0);
        self.origins.stacks.push(range);
        self.stack_ids.insert(stack.id(), index);
        index
    }

    /// The finished tables, without spare capacity.
    pub(crate) fn finish(self) -> Origins {
        let mut origins = self.origins;
        origins.origins.shrink_to_fit();
        origins.stacks.shrink_to_fit();
        origins.frames.shrink_to_fit();
        origins
    }
}

/// A frame of a selected span's stack, resolved to text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackFrame {
    /// Function name.
    pub function: String,
    /// Source file.
    pub file: String,
    /// Line number.
    pub line: u32,
    /// Program counter.
    pub pc: u64,
}

/// What is known about one span, for the side panel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanDetails {
    /// The stack of the event that began the span, innermost first; empty
    /// if it had none.
    pub stack: Vec<StackFrame>,
    /// The goroutine the span belongs to or runs.
    pub goroutine: Option<i64>,
    /// The P involved.
    pub proc: Option<i64>,
    /// The M involved.
    pub thread: Option<i64>,
    /// The goroutine that made this one runnable, or created it.
    pub unblocker: Option<i64>,
    /// Whether the span is the goroutine's first, `unblocker` having
    /// created it; its stack is then where the goroutine starts.
    pub created: bool,
    /// When the span begins (absolute ns): where to look for the unblocker.
    pub start: i64,
    /// When it ends (absolute ns; `start` for an instant). With `start`,
    /// the span whole, though it may be drawn cut where a detail window
    /// meets a summary, or at a generation boundary (the worker joins the
    /// pieces of a span it has loaded on both sides).
    pub end: i64,
    /// It began before `start`: in a generation whose detail is not
    /// loaded, or before the trace.
    pub began_before: bool,
    /// It goes on after `end`, into a generation whose detail is not
    /// loaded.
    pub goes_on: bool,
    /// Its kind, if known.
    pub kind: Option<SpanKind>,
    /// Its block reason, region or task type, or the function it runs (on
    /// a P or M lane); may be empty.
    pub label: String,
}

impl SpanDetails {
    /// This span, which goes on where `later` (the same row's span in the
    /// next generation, beginning where that generation does) takes over,
    /// joined with it, if `later` is its continuation: generations are
    /// built on their own, so a span that outlasts one is cut at its end
    /// and goes on from the next one's start, where Go's trace says only
    /// what state the goroutine is in, not why or since when. The same
    /// kind for the same goroutine makes it the same span (a goroutine
    /// cannot go from a state to the same state without a change between,
    /// which would end both pieces elsewhere), as long as the labels agree
    /// or the later one has none. The join begins where this one does,
    /// with its label, stack, P, M and unblocker.
    pub(crate) fn joined(self, later: SpanDetails) -> Option<SpanDetails> {
        let same = self.kind.is_some()
            && (self.kind, self.goroutine) == (later.kind, later.goroutine)
            && (later.label.is_empty() || later.label == self.label);
        same.then_some(SpanDetails {
            end: later.end,
            ..self
        })
    }
}

/// Resolves the frames of `stack` to text.
pub(crate) fn resolve(origins: &Origins, strings: &Strings, stack: u32) -> Vec<StackFrame> {
    origins
        .frames(stack)
        .iter()
        .map(|f| StackFrame {
            function: strings.get(f.func).to_owned(),
            file: strings.get(f.file).to_owned(),
            line: f.line,
            pc: f.pc,
        })
        .collect()
}

/// `Some(id)` for a known ID (not negative).
pub(crate) fn known(id: i64) -> Option<i64> {
    (id >= 0).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces of one span join; pieces of two never do.
    #[test]
    fn only_the_pieces_of_one_span_join() {
        let piece = |kind, goroutine, label: &str, (start, end)| SpanDetails {
            kind: Some(kind),
            goroutine: Some(goroutine),
            label: label.to_owned(),
            start,
            end,
            unblocker: Some(9),
            ..SpanDetails::default()
        };
        let earlier = piece(SpanKind::Waiting, 7, "chan receive", (10, 20));
        let joined = earlier
            .clone()
            .joined(piece(SpanKind::Waiting, 7, "", (19, 40)));
        let want = SpanDetails {
            end: 40,
            ..earlier.clone()
        };
        assert_eq!(joined, Some(want), "its reason, unblocker and start");
        for other in [
            piece(SpanKind::Runnable, 7, "", (19, 40)),
            piece(SpanKind::Waiting, 8, "", (19, 40)),
            piece(SpanKind::Waiting, 7, "select", (19, 40)),
        ] {
            assert_eq!(earlier.clone().joined(other), None);
        }
        let unknown = SpanDetails::default();
        assert_eq!(unknown.clone().joined(unknown), None, "kind unknown");
    }
}
