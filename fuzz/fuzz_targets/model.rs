//! Fuzz target `model`: arbitrary bytes through what the window builds from
//! a trace.
//!
//! The `decode` target holds the decoder to "errors, never crashes". What
//! the decoder accepts can still be absurd (a timestamp years after the one
//! before, a goroutine in a state it cannot be in), and the layers above it
//! must survive that too: this target runs [`build_all`], which builds
//! every generation's summary, full-detail model and latency analysis, and
//! the whole-trace analysis, as the worker and the analysis panel do (and
//! as `gotv check --deep` does).
#![no_main]

use gotv::trace::Trace;
use gotv::worker::build_all;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(trace) = Trace::open(data) {
        let _ = build_all(&trace);
    }
});
