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
//! - anything else: the start function contains it, ignoring case.
//!
//! Next to the text, the "Hide runtime" toggle hides goroutines whose start
//! function is in package `runtime` (the GC workers, finalizers, …). Stack
//! frames other than the start function are not searched: the lanes only
//! carry the start function.

use std::collections::HashSet;

use crate::analysis::{Analysis, LatencyKind};

/// Prefix of the start functions the "Hide runtime" toggle hides.
const SYSTEM_PREFIX: &str = "runtime.";

/// The goroutine filter: the parsed text, the toggle, and the goroutines
/// the latency term selects.
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
}

impl GoroutineFilter {
    /// The text as typed.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Replaces the text, keeping the toggle. The latency term, if any,
    /// needs [`Self::resolve`] again.
    pub(crate) fn set_text(&mut self, text: &str) {
        self.text = text.to_owned();
        self.ids.clear();
        self.words.clear();
        self.min_latency = None;
        self.slow = None;
        for term in text.split_whitespace() {
            if let Some(id) = parse_id(term) {
                self.ids.push(id);
            } else if let Some(ns) = term.strip_prefix('>').and_then(parse_duration) {
                self.min_latency = Some(self.min_latency.map_or(ns, |m| m.max(ns)));
            } else {
                self.words.push(term.to_lowercase());
            }
        }
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
        self.hide_system
            || !self.ids.is_empty()
            || !self.words.is_empty()
            || self.min_latency.is_some()
    }

    /// Whether the filter selects particular goroutines (by ID, function
    /// or latency), not just hides the runtime's.
    pub(crate) fn names_goroutines(&self) -> bool {
        !self.ids.is_empty() || !self.words.is_empty() || self.min_latency.is_some()
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
        let lower = function.to_lowercase();
        self.words.iter().all(|w| lower.contains(w.as_str()))
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
fn parse_duration(text: &str) -> Option<i64> {
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

    #[test]
    fn hide_system() {
        let mut f = filter("");
        f.set_hide_system(true);
        assert!(f.is_active());
        assert!(!f.shows(2, "runtime.bgsweep"));
        assert!(f.shows(1, "main.main"));
    }
}
