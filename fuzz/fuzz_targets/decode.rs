//! Fuzz target `decode`: arbitrary bytes through the whole trace decoder.
//!
//! gotv reads files it did not write, so no input may make the decoder panic,
//! loop, or allocate without bound; the worst it may do is return an error.
//! This target drives every public path a viewer uses on untrusted bytes:
//! the header and generation index ([`Trace::open`]), the ordered event
//! stream ([`Trace::for_each_event`]), and the decoding of each generation on
//! its own ([`Trace::decode_generation`]). Every event and error is formatted
//! with `Display`, the code behind `gotv dump`, since it follows string and
//! stack references the decoder accepted.
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
    let result = trace.for_each_event(|ev| {
        text.clear();
        write!(text, "{ev}").unwrap();
    });
    if let Err(e) = result {
        write!(text, "{e}").unwrap();
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
