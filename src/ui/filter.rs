//! The goroutine filter: which goroutines the timeline, the outliers table,
//! the goroutine analysis and the range statistics show.
//!
//! The text in the menu bar is split at spaces; a goroutine must match every
//! term:
//! - `g:123` or `123`: goroutine 123 only;
//! - `>10ms` (also `ns`, `us`/`µs`, `s`): goroutines with a latency
//!   outlier interval (scheduler wait, block, syscall, …) at least that
//!   long, as the background analysis found them; until it is done the term
//!   matches every goroutine;
//! - `stack:TEXT` or `stack:/REGEX/`: goroutines with a stack frame, in any
//!   event of theirs, whose function or file contains TEXT (ignoring case)
//!   or matches REGEX (as written; `(?i)` ignores case);
//! - `state:STATE@TIME`: goroutines that were running, runnable, waiting
//!   (also `blocked`) or in a syscall at TIME from the start of the trace,
//!   as the time axis counts (`state:waiting@1.25s`;
//!   `state:waiting:chan@1.25s` also wants the block reason to contain
//!   `chan`);
//! - `parent:G5` (or `parent:5`): the goroutines goroutine 5 created;
//! - `region:TEXT`: goroutines in a user region whose type contains TEXT;
//!   `task:TEXT`: goroutines that worked in a user task whose type
//!   contains TEXT (began or ended it, or had a region or a log message in
//!   it), ignoring case (`super::annotation_scan`);
//! - anything else: the start function contains it, ignoring case.
//!
//! `stack:`, `state:`, `parent:`, `region:` and `task:` terms are answered
//! by scans of the trace in the background (`super::filter_scan`); like the latency term, each matches
//! every goroutine until its scan is done. A term that cannot be parsed
//! (an invalid regex, a state without a time) is left out, and
//! [`GoroutineFilter::error`] says why.
//!
//! Next to the text, the "Hide runtime" toggle hides goroutines whose start
//! function is in package `runtime` (the GC workers, finalizers, …).

use std::collections::HashSet;
use std::sync::Arc;

use super::annotation_scan::AnnotationQuery;
use super::filter_scan::ScanResult;
use super::stack_scan::{FramePattern, MAX_STACK_TERMS};
use super::state_scan::StateQuery;
use crate::analysis::{Analysis, LatencyKind};
use crate::trace::{GoId, Time};

/// Prefix of the start functions the "Hide runtime" toggle hides.
const SYSTEM_PREFIX: &str = "runtime.";

/// The goroutine filter: the parsed text, the toggle, and the goroutines
/// the latency, stack and state terms select.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct GoroutineFilter {
    /// The text as typed.
    text: String,
    /// Goroutine ID terms.
    ids: Vec<i64>,
    /// Shortest outlier interval a goroutine must have, in ns.
    min_latency: Option<i64>,
    /// Lower-case substrings of the start function.
    words: Vec<String>,
    /// Hide goroutines started in package `runtime`.
    hide_system: bool,
    /// Goroutines with an outlier of at least `min_latency`, once resolved
    /// against the analysis.
    slow: Option<HashSet<i64>>,
    /// `stack:` patterns as typed after the prefix (none: no term); a
    /// goroutine needs a frame matching each.
    stack: ScanTerm<Vec<String>>,
    /// The `state:` term.
    state: Option<StateQuery>,
    /// The query and absolute time last scanned for, and the goroutines in
    /// that state then.
    state_matches: Option<Scanned<(StateQuery, Time)>>,
    /// The `parent:` term's goroutine.
    parent: ScanTerm<GoId>,
    /// The `region:` or `task:` term.
    annotation: ScanTerm<AnnotationQuery>,
    /// Why a term was left out.
    error: Option<String>,
}

/// What a scan found: `None` while it runs, then how many goroutines it
/// selects, or why it failed.
pub(crate) type ScanCount<'a> = Option<Result<usize, &'a str>>;

/// A scan's answer and what it was asked. The set is shared: the filter is
/// cloned into every panel.
#[derive(Clone, Debug, PartialEq)]
struct Scanned<K> {
    key: K,
    result: Result<Arc<HashSet<GoId>>, String>,
}

/// A term a scan answers: what the text asks for, if anything, and what
/// the last scan found for what it asked then.
#[derive(Clone, Debug, PartialEq)]
struct ScanTerm<K> {
    asked: Option<K>,
    scanned: Option<Scanned<K>>,
}

impl<K> Default for ScanTerm<K> {
    fn default() -> Self {
        Self {
            asked: None,
            scanned: None,
        }
    }
}

impl<K: PartialEq> ScanTerm<K> {
    /// What to scan for, unless scanned.
    fn request(&self) -> Option<&K> {
        let scanned = self.scanned.as_ref().map(|s| &s.key);
        self.asked.as_ref().filter(|&k| scanned != Some(k))
    }

    /// Takes in what a scan for `key` found.
    fn set(&mut self, key: K, result: ScanResult) {
        self.scanned = Some(Scanned::new(key, result));
    }

    /// The scan of what is asked now, once done.
    fn done(&self) -> Option<&Scanned<K>> {
        let scanned = self.scanned.as_ref()?;
        (Some(&scanned.key) == self.asked.as_ref()).then_some(scanned)
    }

    /// What is asked, and what its scan found (`None` while it runs).
    fn status(&self) -> Option<(&K, ScanCount<'_>)> {
        Some((self.asked.as_ref()?, self.done().map(Scanned::count)))
    }
}

impl<K> Scanned<K> {
    fn new(key: K, result: ScanResult) -> Self {
        Self {
            key,
            result: result.map(Arc::new),
        }
    }

    /// The size of the set, or why the scan failed.
    fn count(&self) -> Result<usize, &str> {
        match &self.result {
            Ok(set) => Ok(set.len()),
            Err(e) => Err(e),
        }
    }
}

impl GoroutineFilter {
    /// The text as typed.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Replaces the text, keeping the toggle. The latency term, if any,
    /// needs [`Self::resolve`] again; scans already done for unchanged
    /// `stack:` and `state:` terms are kept.
    pub(crate) fn set_text(&mut self, text: &str) {
        self.text = text.to_owned();
        self.ids.clear();
        self.words.clear();
        self.stack.asked = None;
        self.state = None;
        self.parent.asked = None;
        self.annotation.asked = None;
        self.error = None;
        self.min_latency = None;
        self.slow = None;
        for term in text.split_whitespace() {
            if let Err(e) = self.add_term(term) {
                self.error.get_or_insert(e);
            }
        }
    }

    /// Adds one term of the text; the error says why it is left out.
    fn add_term(&mut self, term: &str) -> Result<(), String> {
        if let Some(id) = parse_id(term) {
            self.ids.push(id);
        } else if let Some(ns) = term.strip_prefix('>').and_then(parse_duration) {
            self.min_latency = Some(self.min_latency.map_or(ns, |m| m.max(ns)));
        } else if let Some(pattern) = term.strip_prefix("stack:") {
            FramePattern::parse(pattern)?;
            let patterns = self.stack.asked.get_or_insert_with(Vec::new);
            if patterns.len() == MAX_STACK_TERMS {
                return Err(format!("at most {MAX_STACK_TERMS} stack: terms"));
            }
            patterns.push(pattern.to_owned());
        } else if let Some(spec) = term.strip_prefix("state:") {
            if self.state.is_some() {
                return Err("only one state: term".to_owned());
            }
            self.state = Some(StateQuery::parse(spec)?);
        } else if let Some(query) = AnnotationQuery::parse(term) {
            if self.annotation.asked.is_some() {
                return Err("only one region: or task: term".to_owned());
            }
            self.annotation.asked = Some(query?);
        } else if let Some(id) = term.strip_prefix("parent:") {
            if self.parent.asked.is_some() {
                return Err("only one parent: term".to_owned());
            }
            let digits = id.strip_prefix(['g', 'G']).unwrap_or(id);
            let id = parse_id(digits).ok_or_else(|| format!("{term}: not a goroutine ID"))?;
            self.parent.asked = Some(id);
        } else {
            self.words.push(term.to_lowercase());
        }
        Ok(())
    }

    /// Why a term of the text was left out, if one was.
    pub(crate) fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Forgets what the latency term and the scans found (the trace was
    /// reloaded): they are resolved again.
    pub(crate) fn unresolve(&mut self) {
        self.slow = None;
        self.stack.scanned = None;
        self.state_matches = None;
        self.parent.scanned = None;
        self.annotation.scanned = None;
    }

    /// The `stack:` patterns to scan the trace for, unless scanned.
    pub(crate) fn stack_request(&self) -> Option<&[String]> {
        self.stack.request().map(Vec::as_slice)
    }

    /// Takes in the goroutines a stack scan for `patterns` found.
    pub(crate) fn set_stack_matches(&mut self, patterns: Vec<String>, result: ScanResult) {
        self.stack.set(patterns, result);
    }

    /// The `state:` query, with its time made absolute by adding `origin`
    /// (the start of the trace), unless scanned.
    pub(crate) fn state_request(&self, origin: Time) -> Option<(StateQuery, Time)> {
        let query = self.state.as_ref()?;
        let at = origin.saturating_add(query.at);
        let scanned = self.state_matches.as_ref().map(|s| (&s.key.0, s.key.1));
        (scanned != Some((query, at))).then(|| (query.clone(), at))
    }

    /// Takes in the goroutines a state scan for `key` found.
    pub(crate) fn set_state_matches(&mut self, key: (StateQuery, Time), result: ScanResult) {
        self.state_matches = Some(Scanned::new(key, result));
    }

    /// The goroutine of the `parent:` term, unless scanned.
    pub(crate) fn parent_request(&self) -> Option<GoId> {
        self.parent.request().copied()
    }

    /// Takes in the goroutines a scan found `parent` created.
    pub(crate) fn set_parent_matches(&mut self, parent: GoId, result: ScanResult) {
        self.parent.set(parent, result);
    }

    /// The `parent:` term's goroutine, and what its scan found, as for
    /// [`Self::stack_status`].
    pub(crate) fn parent_status(&self) -> Option<(GoId, ScanCount<'_>)> {
        self.parent.status().map(|(&p, found)| (p, found))
    }

    /// The `region:` or `task:` term, unless scanned.
    pub(crate) fn annotation_request(&self) -> Option<&AnnotationQuery> {
        self.annotation.request()
    }

    /// Takes in the goroutines a scan for `query` found.
    pub(crate) fn set_annotation_matches(&mut self, query: AnnotationQuery, result: ScanResult) {
        self.annotation.set(query, result);
    }

    /// The `region:` or `task:` term, and what its scan found, as for
    /// [`Self::stack_status`].
    pub(crate) fn annotation_status(&self) -> Option<(&AnnotationQuery, ScanCount<'_>)> {
        self.annotation.status()
    }

    /// What the scan of the `stack:` terms found, if there are any.
    pub(crate) fn stack_status(&self) -> Option<ScanCount<'_>> {
        self.stack.status().map(|(_, found)| found)
    }

    /// The `state:` term, and what its scan found, as for
    /// [`Self::stack_status`].
    pub(crate) fn state_status(&self) -> Option<(&StateQuery, ScanCount<'_>)> {
        let query = self.state.as_ref()?;
        Some((query, self.state_scanned().map(Scanned::count)))
    }

    /// Whether goroutines started in package `runtime` are hidden.
    pub(crate) fn hide_system(&self) -> bool {
        self.hide_system
    }

    /// Hides or shows goroutines started in package `runtime`.
    pub(crate) fn set_hide_system(&mut self, hide: bool) {
        self.hide_system = hide;
    }

    /// Whether the filter hides anything.
    pub(crate) fn is_active(&self) -> bool {
        self.hide_system || self.names_goroutines()
    }

    /// Whether the filter selects particular goroutines (by ID, function,
    /// latency, stack or state), not just hides the runtime's.
    pub(crate) fn names_goroutines(&self) -> bool {
        !self.ids.is_empty()
            || !self.words.is_empty()
            || self.min_latency.is_some()
            || self.stack.asked.is_some()
            || self.state.is_some()
            || self.parent.asked.is_some()
            || self.annotation.asked.is_some()
    }

    /// Whether every term has its answer: the latency term the analysis,
    /// the others their scans (`origin`: the start of the trace, as for
    /// [`Self::state_request`]).
    pub(crate) fn is_settled(&self, origin: Time) -> bool {
        !self.needs_analysis()
            && self.stack_request().is_none()
            && self.state_request(origin).is_none()
            && self.parent_request().is_none()
            && self.annotation_request().is_none()
    }

    /// Whether the latency term waits for [`Self::resolve`].
    pub(crate) fn needs_analysis(&self) -> bool {
        self.min_latency.is_some() && self.slow.is_none()
    }

    /// Finds the goroutines the latency term selects in `analysis`.
    pub(crate) fn resolve(&mut self, analysis: &Analysis) {
        let Some(min) = self.min_latency else {
            return;
        };
        let slow = LatencyKind::ALL
            .into_iter()
            .flat_map(|kind| analysis.latencies.outliers(kind))
            .filter(|i| i.duration() >= min)
            .map(|i| i.goroutine)
            .collect();
        self.slow = Some(slow);
    }

    /// Whether goroutine `id`, started in `function` (empty if unknown),
    /// passes the filter.
    pub(crate) fn shows(&self, id: i64, function: &str) -> bool {
        if self.hide_system && function.starts_with(SYSTEM_PREFIX) {
            return false;
        }
        if !self.ids.is_empty() && !self.ids.contains(&id) {
            return false;
        }
        if let Some(slow) = &self.slow
            && !slow.contains(&id)
        {
            return false;
        }
        if !self.scans_select(id) {
            return false;
        }
        let lower = function.to_lowercase();
        self.words.iter().all(|w| lower.contains(w.as_str()))
    }
}

impl GoroutineFilter {
    /// Whether goroutine `id` is in the sets the finished scans of the
    /// current `stack:`, `state:`, `parent:`, `region:` and `task:` terms
    /// found (a term still scanning, or whose scan failed, selects every
    /// goroutine).
    fn scans_select(&self, id: GoId) -> bool {
        let stack = self.stack.done().map(|s| &s.result);
        let state = self.state_scanned().map(|s| &s.result);
        let parent = self.parent.done().map(|s| &s.result);
        let annotation = self.annotation.done().map(|s| &s.result);
        [stack, state, parent, annotation]
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_deref().ok())
            .all(|set| set.contains(&id))
    }

    /// The scan of the current `state:` term, once done (for an earlier
    /// start of the trace too, until the new one is in).
    fn state_scanned(&self) -> Option<&Scanned<(StateQuery, Time)>> {
        let scanned = self.state_matches.as_ref()?;
        (Some(&scanned.key.0) == self.state.as_ref()).then_some(scanned)
    }
}

/// `g:123`, `G123` or `123`.
fn parse_id(term: &str) -> Option<i64> {
    let digits = term
        .strip_prefix("g:")
        .or_else(|| term.strip_prefix("G:"))
        .unwrap_or(term);
    digits.parse().ok().filter(|id: &i64| *id >= 0)
}

/// `10ms`, `1.5s`, `200us`, `200µs`, `50ns` in nanoseconds; a bare number
/// is milliseconds, the unit latencies are usually talked about in.
pub(crate) fn parse_duration(text: &str) -> Option<i64> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let scale = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "" | "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    };
    Some((value * scale).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(text: &str) -> GoroutineFilter {
        let mut f = GoroutineFilter::default();
        f.set_text(text);
        f
    }

    #[test]
    fn ids_and_words() {
        let f = filter("g:7 Worker");
        assert!(f.shows(7, "main.worker"));
        assert!(!f.shows(8, "main.worker"));
        assert!(!f.shows(7, "main.main"));
        assert!(filter("12").shows(12, ""));
        assert!(!filter("").is_active());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10ms"), Some(10_000_000));
        assert_eq!(parse_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_duration("200µs"), Some(200_000));
        assert_eq!(parse_duration("3"), Some(3_000_000));
        assert_eq!(parse_duration("3 parsecs"), None);
        let f = filter(">10ms");
        assert!(f.needs_analysis());
        assert!(f.shows(1, "x"), "matches all until resolved");
    }

    /// A filter is settled once every term has its answer, whatever the
    /// answer (a failed scan too): what a screenshot waits for.
    #[test]
    fn settled_once_every_term_is_answered() {
        assert!(filter("").is_settled(0));
        assert!(filter("g:3 main").is_settled(0));
        let mut f = filter("stack:Lock parent:G5");
        assert!(!f.is_settled(0));
        f.set_stack_matches(vec!["Lock".to_owned()], Err("no such file".to_owned()));
        assert!(!f.is_settled(0), "the parent scan is still due");
        f.set_parent_matches(5, Ok(HashSet::new()));
        assert!(f.is_settled(0));
        assert!(!filter(">1ms").is_settled(0), "waits for the analysis");
    }

    #[test]
    fn stack_terms_select_the_scanned_goroutines() {
        let mut f = filter("stack:Lock main");
        assert!(f.names_goroutines());
        assert_eq!(f.stack_request(), Some(&["Lock".to_owned()][..]));
        assert!(f.shows(2, "main.x"), "matches all until scanned");
        f.set_stack_matches(vec!["Lock".to_owned()], Ok(HashSet::from([1])));
        assert_eq!(f.stack_request(), None);
        assert!(f.shows(1, "main.x"));
        assert!(!f.shows(2, "main.x"));
        assert!(!f.shows(1, "other.x"), "terms combine");
        f.set_text("stack:Lock");
        assert_eq!(f.stack_request(), None, "an unchanged term keeps its scan");
        assert!(!f.shows(2, "main.x"));
        f.set_text("stack:Unlock");
        assert!(f.stack_request().is_some());
        assert!(f.shows(2, "main.x"), "a new term matches all until scanned");
        f.set_stack_matches(vec!["Unlock".to_owned()], Err("broken".to_owned()));
        assert!(f.shows(2, "main.x"), "a failed scan selects everything");
        f.unresolve();
        assert!(f.stack_request().is_some(), "a reload scans again");
    }

    #[test]
    fn a_state_term_counts_from_the_start_of_the_trace() {
        let mut f = filter("state:running@1s");
        let Some(key) = f.state_request(100) else {
            panic!("a state term asks for a scan");
        };
        assert_eq!(key.1, 1_000_000_100);
        f.set_state_matches(key, Ok(HashSet::from([7])));
        assert_eq!(f.state_request(100), None);
        assert!(f.shows(7, "") && !f.shows(8, ""));
        assert!(f.state_request(200).is_some(), "another start scans again");
        assert!(!f.shows(8, ""), "the old answer holds meanwhile");
    }

    #[test]
    fn bad_terms_are_left_out_and_said_why() {
        let f = filter("stack:/(/ g:1");
        assert!(f.error().is_some_and(|e| e.starts_with("invalid regex")));
        assert!(f.shows(1, "") && !f.shows(2, ""), "the other terms apply");
        let f = filter("state:running@1s state:waiting@2s");
        assert_eq!(f.error(), Some("only one state: term"));
        assert!(filter("state:waiting").error().is_some());
        assert_eq!(filter("stack:x").error(), None);
    }

    #[test]
    fn a_parent_term_selects_the_goroutines_it_created() {
        for text in ["parent:G5", "parent:g5", "parent:5"] {
            assert_eq!(filter(text).parent_request(), Some(5), "{text}");
        }
        let mut f = filter("parent:5 worker");
        assert!(f.names_goroutines());
        assert!(f.shows(9, "main.worker"), "matches all until scanned");
        f.set_parent_matches(5, Ok(HashSet::from([7, 8])));
        assert_eq!(f.parent_request(), None);
        assert_eq!(f.parent_status(), Some((5, Some(Ok(2)))));
        assert!(f.shows(7, "main.worker") && !f.shows(9, "main.worker"));
        assert!(!f.shows(8, "main.main"), "terms combine");
        f.set_text("parent:6");
        assert_eq!(f.parent_request(), Some(6), "another parent scans again");
        assert_eq!(
            filter("parent:x").error(),
            Some("parent:x: not a goroutine ID")
        );
        let twice = filter("parent:1 parent:2");
        assert_eq!(twice.error(), Some("only one parent: term"));
    }

    #[test]
    fn region_and_task_terms_select_the_scanned_goroutines() {
        let mut f = filter("region:Handle");
        let Some(query) = f.annotation_request().cloned() else {
            panic!("a region term asks for a scan");
        };
        assert!(!query.task && query.text == "handle");
        assert!(f.shows(3, "x"), "matches all until scanned");
        f.set_annotation_matches(query, Ok(HashSet::from([2])));
        assert_eq!(f.annotation_request(), None);
        assert!(f.shows(2, "x") && !f.shows(3, "x"));
        f.set_text("task:handle");
        assert!(
            f.annotation_request().is_some_and(|q| q.task),
            "a task term scans anew"
        );
        let both = filter("region:a task:b");
        assert_eq!(both.error(), Some("only one region: or task: term"));
        assert!(filter("region:").error().is_some());
    }

    #[test]
    fn hide_system() {
        let mut f = filter("");
        f.set_hide_system(true);
        assert!(f.is_active());
        assert!(!f.shows(2, "runtime.bgsweep"));
        assert!(f.shows(1, "main.main"));
    }
}
