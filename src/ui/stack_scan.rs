//! Which goroutines have a stack frame matching the filter's `stack:` terms.
//!
//! A lane only knows its goroutine's start function, but the question a Go
//! engineer asks is usually "who ever went through `sync.(*Mutex).Lock`" or
//! "who touched `db/query.go`": that needs every stack of every event, so
//! it is one pass over the whole trace, run off the UI thread (see
//! `super::filter_scan`).
//!
//! The pass credits each stack to a goroutine:
//! - a state transition's stack to the goroutine that changes state (where
//!   it blocks, stops or enters a syscall; the start stack of a created
//!   goroutine; the stack of a goroutine whose status opens a generation);
//! - any other stack of an event ([`Event::stack`]) to the goroutine
//!   executing it (creating or unblocking another goroutine, CPU samples,
//!   logs, …).
//!
//! Stacks repeat: a busy trace has millions of events over a few thousand
//! stacks per generation. So each stack ID is matched against the terms
//! once per generation (stack IDs are per generation, and the cache is
//! cleared at each generation's Sync event) into a bit mask of the terms it
//! satisfies; each goroutine ORs the masks of its stacks; a goroutine
//! matches when its mask has every term's bit, so terms may be satisfied by
//! different frames and stacks.

use std::collections::HashSet;

use regex::Regex;

use crate::trace::{Event, EventKind, FxHashMap, GoId, NO_GOROUTINE, Stack, Transition};

/// Most `stack:` terms one filter may have: one bit each in a stack's mask
/// of satisfied terms. A wider mask would cost memory per cached stack for
/// queries nobody types.
pub(crate) const MAX_STACK_TERMS: usize = u64::BITS as usize;

/// What one `stack:` term looks for in a frame's function name or file.
#[derive(Clone, Debug)]
pub(crate) enum FramePattern {
    /// A lower-case substring, matched ignoring case.
    Text(String),
    /// A regular expression (`regex` crate syntax), matched as written.
    Regex(Regex),
}

impl FramePattern {
    /// `/REGEX/` as a regular expression, anything else as a substring.
    /// The error says what is wrong with a regular expression, or that
    /// there is no pattern at all.
    pub(crate) fn parse(pattern: &str) -> Result<Self, String> {
        if pattern.is_empty() {
            return Err("stack: needs a function or file text, or /regex/".to_owned());
        }
        let regex = pattern
            .strip_prefix('/')
            .and_then(|p| p.strip_suffix('/'))
            .filter(|p| !p.is_empty());
        match regex {
            Some(source) => Regex::new(source).map(Self::Regex).map_err(|e| {
                format!(
                    "invalid regex /{source}/: {}",
                    error_summary(&e.to_string())
                )
            }),
            None => Ok(Self::Text(pattern.to_lowercase())),
        }
    }

    /// Whether `text` (a function name or a file path) matches.
    fn matches(&self, text: &str) -> bool {
        match self {
            Self::Text(lower) => text.to_lowercase().contains(lower.as_str()),
            Self::Regex(regex) => regex.is_match(text),
        }
    }
}

/// The last line of a multi-line regex error (the one naming the problem).
fn error_summary(message: &str) -> &str {
    message
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(message)
        .trim()
}

/// Collects, event by event, the goroutines whose stacks match every
/// pattern.
pub(crate) struct StackMatcher {
    patterns: Vec<FramePattern>,
    /// The mask of every pattern.
    all: u64,
    /// Patterns each stack of the current generation satisfies, by ID.
    by_stack: FxHashMap<u64, u64>,
    /// Patterns each goroutine's stacks satisfied so far.
    by_goroutine: FxHashMap<GoId, u64>,
}

impl StackMatcher {
    /// A matcher for `patterns` (at most [`MAX_STACK_TERMS`]; any beyond
    /// are ignored).
    pub(crate) fn new(mut patterns: Vec<FramePattern>) -> Self {
        patterns.truncate(MAX_STACK_TERMS);
        let all = u64::MAX >> (u64::BITS as usize - patterns.len().max(1));
        Self {
            patterns,
            all,
            by_stack: FxHashMap::default(),
            by_goroutine: FxHashMap::default(),
        }
    }

    /// Takes in one event of the whole-trace stream.
    pub(crate) fn event(&mut self, ev: &Event<'_>) {
        match ev.kind() {
            EventKind::Sync => self.by_stack.clear(),
            EventKind::StateTransition => {
                let changed = ev.state_transition().and_then(|st| match st.transition {
                    Transition::Goroutine { id, .. } => Some((id, st.stack?)),
                    Transition::Proc { .. } => None,
                });
                if let Some((id, stack)) = changed {
                    self.credit(id, Some(stack));
                }
                // A status event's own stack is the goroutine's it is
                // about, whoever runs: credited above, not to the runner.
                let own = ev
                    .stack()
                    .filter(|s| changed.is_none_or(|(_, c)| c.id() != s.id()));
                self.credit(ev.goroutine(), own);
            }
            _ => self.credit(ev.goroutine(), ev.stack()),
        }
    }

    /// The goroutines that matched every pattern.
    pub(crate) fn finish(self) -> HashSet<GoId> {
        let all = self.all;
        self.by_goroutine
            .into_iter()
            .filter(|&(_, mask)| mask == all)
            .map(|(g, _)| g)
            .collect()
    }

    /// ORs the patterns `stack` satisfies into goroutine `g`'s.
    fn credit(&mut self, g: GoId, stack: Option<Stack<'_>>) {
        let Some(stack) = stack.filter(|_| g != NO_GOROUTINE) else {
            return;
        };
        let patterns = &self.patterns;
        let mask = *self
            .by_stack
            .entry(stack.id())
            .or_insert_with(|| stack_mask(patterns, stack));
        if mask != 0 {
            *self.by_goroutine.entry(g).or_default() |= mask;
        }
    }
}

/// Bit `i` set if some frame of `stack` matches `patterns[i]`.
fn stack_mask(patterns: &[FramePattern], stack: Stack<'_>) -> u64 {
    let mut mask = 0;
    for frame in stack.frames() {
        let func = String::from_utf8_lossy(frame.func);
        let file = String::from_utf8_lossy(frame.file);
        for (bit, pattern) in patterns.iter().enumerate() {
            if pattern.matches(&func) || pattern.matches(&file) {
                mask |= 1 << bit;
            }
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{GoState, Trace};

    const WORKLOAD: &[u8] = include_bytes!("../../testdata/traces/workload-go1.27.trace");

    fn scan(patterns: &[&str]) -> HashSet<GoId> {
        let patterns = patterns
            .iter()
            .map(|p| FramePattern::parse(p))
            .collect::<Result<Vec<_>, _>>();
        let mut matcher = StackMatcher::new(patterns.unwrap_or_default());
        let trace = Trace::open(WORKLOAD);
        let read = trace.map(|t| t.for_each_event(|ev| matcher.event(&ev)));
        assert!(matches!(read, Ok(Ok(_))), "the workload trace reads");
        matcher.finish()
    }

    /// From an independent pass over the workload: the goroutines that
    /// blocked with a frame whose function contains `function` (they must
    /// match); those an event with such a frame in any of its stacks is
    /// about, running or changing state (only they may match); and every
    /// goroutine running some event.
    fn bounds(function: &str) -> [HashSet<GoId>; 3] {
        let [mut blocked, mut near, mut seen] = [(); 3].map(|_| HashSet::new());
        let inside = |s: Option<Stack<'_>>| {
            s.is_some_and(|s| s.frames().any(|f| contains(f.func, function)))
        };
        let trace = Trace::open(WORKLOAD);
        let read = trace.map(|t| {
            t.for_each_event(|ev| {
                seen.insert(ev.goroutine());
                let st = ev.state_transition();
                let stacks = [ev.stack(), st.and_then(|st| st.stack)];
                if !stacks.into_iter().any(inside) {
                    return;
                }
                near.insert(ev.goroutine());
                let Some(st) = st else {
                    return;
                };
                if let Transition::Goroutine { id, to, .. } = st.transition {
                    near.insert(id);
                    if to == GoState::Waiting && !st.reason.is_empty() && inside(st.stack) {
                        blocked.insert(id);
                    }
                }
            })
        });
        assert!(matches!(read, Ok(Ok(_))));
        [blocked, near, seen]
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        String::from_utf8_lossy(haystack).contains(needle)
    }

    #[test]
    fn a_goroutine_blocked_in_a_function_matches_and_others_do_not() {
        let [blocked, near, seen] = bounds("sync.(*Mutex).Lock");
        assert!(!blocked.is_empty(), "the workload contends on a mutex");
        let found = scan(&["sync.(*mutex).lock"]);
        assert!(found.is_superset(&blocked), "{found:?} ⊉ {blocked:?}");
        assert!(found.is_subset(&near), "{found:?} ⊄ {near:?}");
        let others = seen.difference(&found).count();
        assert!(
            others > 0,
            "goroutines that never lock a mutex are excluded"
        );
    }

    #[test]
    fn regex_and_several_terms() {
        let text = scan(&["sync.(*Mutex).Lock"]);
        let regex = scan(&[r"/^sync\.\(\*Mutex\)\.Lock$/"]);
        assert_eq!(text, regex);
        let parked = scan(&["/runtime\\.gopark/"]);
        let both = scan(&["sync.(*Mutex).Lock", "/runtime\\.gopark/"]);
        assert_eq!(both, &text & &parked, "terms may match different stacks");
        assert!(both.len() < parked.len());
        assert!(scan(&["no-such-function-anywhere"]).is_empty());
        let files = scan(&["/load\\.go$/"]);
        assert!(!files.is_empty(), "files are matched too");
    }

    #[test]
    fn invalid_regex_is_an_error_in_words() {
        let err = FramePattern::parse("/a(b/").err().unwrap_or_default();
        assert!(err.starts_with("invalid regex /a(b/: "), "{err}");
        assert!(matches!(
            FramePattern::parse("/"),
            Ok(FramePattern::Text(_))
        ));
        assert!(FramePattern::parse("").is_err());
    }
}
