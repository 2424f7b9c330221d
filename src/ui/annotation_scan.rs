//! Which goroutines took part in user regions or tasks of a given type: the
//! filter's `region:` and `task:` terms (`region:handle`, `task:checkout`).
//!
//! Programs annotate their work with `runtime/trace` regions and tasks, and
//! "show me only the goroutines that served checkout requests" is the
//! filter users of trace viewers ask for most. Both are answered by one
//! pass over the trace's events, off the UI thread (`super::filter_scan`):
//!
//! - `region:TEXT` selects the goroutines that began or ended a region
//!   whose type contains TEXT (ignoring case). Ends count too: a region
//!   begun before the trace started has only its end in it.
//! - `task:TEXT` selects the goroutines that began or ended a task whose
//!   type contains TEXT, or entered a region or logged a message in such a
//!   task. A task's type is in its begin (or, for one begun before the
//!   trace, its end), which may come after the events that use it, so the
//!   pass keeps which tasks each goroutine worked in and resolves them at
//!   the end.

use std::collections::HashSet;

use crate::trace::{Event, GoId, TaskId};

/// A `region:` or `task:` term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AnnotationQuery {
    /// A task term (else a region term).
    pub(crate) task: bool,
    /// The lower-case text the type must contain.
    pub(crate) text: String,
}

impl AnnotationQuery {
    /// The query of a term, if it is a `region:` or `task:` one; an error
    /// says what is wrong with it.
    pub(crate) fn parse(term: &str) -> Option<Result<Self, String>> {
        let (task, text) = match (term.strip_prefix("region:"), term.strip_prefix("task:")) {
            (Some(text), _) => (false, text),
            (_, Some(text)) => (true, text),
            _ => return None,
        };
        Some(match text.is_empty() {
            true => Err(format!("{term} needs a type to look for")),
            false => Ok(AnnotationQuery {
                task,
                text: text.to_lowercase(),
            }),
        })
    }

    /// "region" or "task", for messages.
    pub(crate) fn kind(&self) -> &'static str {
        if self.task { "task" } else { "region" }
    }

    fn matches(&self, type_name: &[u8]) -> bool {
        String::from_utf8_lossy(type_name)
            .to_lowercase()
            .contains(&self.text)
    }
}

/// The goroutines `query` selects, fed event by event.
pub(crate) struct AnnotationMatcher {
    query: AnnotationQuery,
    found: HashSet<GoId>,
    /// Tasks whose type matches (task terms).
    tasks: HashSet<TaskId>,
    /// The tasks each goroutine worked in (task terms).
    worked_in: HashSet<(TaskId, GoId)>,
}

impl AnnotationMatcher {
    pub(crate) fn new(query: AnnotationQuery) -> Self {
        Self {
            query,
            found: HashSet::new(),
            tasks: HashSet::new(),
            worked_in: HashSet::new(),
        }
    }

    /// Takes in one event.
    pub(crate) fn event(&mut self, ev: &Event<'_>) {
        let g = ev.goroutine();
        if g < 0 {
            return;
        }
        if !self.query.task {
            if ev.region().is_some_and(|r| self.query.matches(r.type_name)) {
                self.found.insert(g);
            }
            return;
        }
        if let Some(task) = ev.task() {
            if self.query.matches(task.type_name) {
                self.tasks.insert(task.id);
                self.found.insert(g);
            }
        } else if let Some(task) = ev.region().map(|r| r.task).or(ev.log().map(|l| l.task)) {
            self.worked_in.insert((task, g));
        }
    }

    /// The goroutines selected.
    pub(crate) fn finish(self) -> HashSet<GoId> {
        let tasks = self.tasks;
        let mut found = self.found;
        found.extend(
            self.worked_in
                .into_iter()
                .filter(|(task, _)| tasks.contains(task))
                .map(|(_, g)| g),
        );
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_parse_to_queries() {
        let q = AnnotationQuery::parse("region:Handle").map(Result::unwrap);
        assert_eq!(
            q,
            Some(AnnotationQuery {
                task: false,
                text: "handle".to_owned()
            })
        );
        let q = AnnotationQuery::parse("task:round").map(Result::unwrap);
        assert!(q.is_some_and(|q| q.task && q.kind() == "task"));
        assert!(AnnotationQuery::parse("task:").is_some_and(|r| r.is_err()));
        assert_eq!(AnnotationQuery::parse("stack:x"), None);
    }
}
