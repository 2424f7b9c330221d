//! Fuzz target `decode`: arbitrary bytes through the whole trace decoder.
//!
//! gotv reads files it did not write, so no input may make the decoder panic,
//! loop, or allocate without bound; the worst it may do is return an error.
//! This target drives every public path a viewer or `gotv check` uses on
//! untrusted bytes: the header and generation index ([`Trace::open`]), the
//! ordered event stream ([`Trace::for_each_event`]), the parallel reader
//! ([`Trace::for_each_event_parallel`]), and the decoding of each generation
//! on its own ([`Trace::decode_generation`]). Every event and error is
//! formatted with `Display`, the code behind `gotv dump`, since it follows
//! string and stack references the decoder accepted.
//!
//! The parallel reader promises the sequential reader's summary and error on
//! every input, so the target also checks that the two agree: a disagreement
//! is a crash like any panic.
#![no_main]

use std::fmt::Write as _;

use gotv::trace::Trace;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut text = String::new();
    let trace = match Trace::open(data) {
        Ok(trace) => trace,
        Err(e) => {
            write!(text, "{e}").unwrap();
            return;
        }
    };

    let sequential = trace.for_each_event(|ev| {
        text.clear();
        write!(text, "{ev}").unwrap();
    });
    let parallel = trace.for_each_event_parallel(
        2,
        || (0u64, String::new()),
        |(events, text), ev| {
            *events += 1;
            text.clear();
            write!(text, "{ev}").unwrap();
        },
        |_| {},
    );
    match (&sequential, &parallel) {
        (Ok(summary), Ok((parallel_summary, parts))) => {
            assert_eq!(summary, parallel_summary, "parallel summary differs");
            let events: u64 = parts.iter().map(|(n, _)| n).sum();
            assert_eq!(
                events, summary.events,
                "parallel reader yielded another number of events"
            );
        }
        (Err(e), Err(parallel_e)) => {
            assert_eq!(
                e.to_string(),
                parallel_e.to_string(),
                "parallel error differs"
            );
        }
        _ => panic!(
            "sequential reader: {sequential:?}; parallel reader: {:?}",
            parallel.as_ref().map(|(s, _)| s)
        ),
    }

    for i in 0..trace.index().generations.len() {
        match trace.decode_generation(i) {
            Some(Ok(events)) => {
                for ev in events.iter() {
                    text.clear();
                    write!(text, "{ev}").unwrap();
                }
            }
            Some(Err(e)) => write!(text, "{e}").unwrap(),
            None => {}
        }
    }
});
