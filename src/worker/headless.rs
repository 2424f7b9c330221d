//! Everything the window builds from a trace, built without a window.
//!
//! The worker builds each generation's summary or full-detail model and
//! latency analysis, and the analysis panel the whole-trace analysis; what
//! the decoder accepts up to a fault can still be absurd (a timestamp years
//! after the one before), and all of that must cope. [`build_all`] runs each
//! of those builds on every generation in turn, so `gotv check --deep` can
//! tell whether the viewer copes with a file without a display (a bug
//! report needs none), and the `model` fuzz target can throw arbitrary
//! bytes at them.

use crate::analysis::{GenerationLatency, analyze};
use crate::model::{OpenAnnotations, build_generation, summarize_generation};
use crate::trace::{Error, Trace};

/// Outliers kept per latency kind: enough to fill the lists, few enough to
/// keep a deep check quick.
const OUTLIERS: usize = 100;

/// A problem a build reported: the generation's index (`None` for the
/// whole-trace analysis) and the message.
pub type Problem = (Option<usize>, String);

/// Builds every generation's summary, full-detail model (and its summary)
/// and latency analysis, then the whole-trace analysis, each from what was
/// open at a generation's start as far as one build on its own knows it
/// (nothing). Returns what they reported, once per generation.
pub fn build_all(trace: &Trace<'_>) -> Vec<Problem> {
    let open = OpenAnnotations::default();
    let mut problems = Vec::new();
    for g in 0..trace.index().generations.len() {
        let summary = summarize_generation(trace, g, &open).and_then(|(_, _, e)| e);
        let detail = build_generation(trace, g, &open).and_then(|(model, _, e)| {
            let _ = model.summarize();
            e
        });
        let (_, latency) = GenerationLatency::new(OUTLIERS).analyse(trace, g);
        let first = summary.or(detail).or(latency);
        problems.extend(first.map(|e: Error| (Some(g), e.to_string())));
    }
    let (_, error) = analyze(trace, OUTLIERS);
    problems.extend(error.map(|e| (None, e.to_string())));
    problems
}
