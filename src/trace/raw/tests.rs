//! Round trips between the text format, raw events and the binary format.

use super::*;
use crate::trace::tracev2::EventType;
use crate::trace::version::Version;

/// A trace using every shape of event (plain, stack with frames, data) and
/// the line kinds that are skipped or tolerated (blank, comment, CRLF, odd
/// white space).
const SAMPLE: &str = "# leading comment\n\nTrace Go1.22\n\
EventBatch gen=1 m=18446744073709551615 time=7 size=40\n\
Stacks\n\
Stack id=1 nframes=2\n\
\tpc=4198400 func=1 file=2 line=12\n   \n\
   pc=300 func=3 file=2 line=128\n\
Strings\r\n\
String id=1\n  data = \"main.main\\x00\"\n\
EventBatch  gen=1\tm=0 time=9 size=9\n\
GoCreate dt=130 new_g=1 new_stack=0 stack=1   ";

fn sample_text() -> String {
    SAMPLE.to_string()
}

fn ev(typ: EventType, args: &[u64], data: Option<&[u8]>) -> Event {
    Event {
        version: Version::Go122,
        typ,
        args: args.to_vec(),
        data: data.map(<[u8]>::to_vec),
    }
}

fn sample_events() -> Vec<Event> {
    vec![
        ev(EventType::EVENT_BATCH, &[1, u64::MAX, 7, 40], None),
        ev(EventType::STACKS, &[], None),
        ev(
            EventType::STACK,
            &[1, 2, 4198400, 1, 2, 12, 300, 3, 2, 128],
            None,
        ),
        ev(EventType::STRINGS, &[], None),
        ev(EventType::STRING, &[1], Some(b"main.main\0")),
        ev(EventType::EVENT_BATCH, &[1, 0, 9, 9], None),
        ev(EventType::GO_CREATE, &[130, 1, 0, 1], None),
    ]
}

#[test]
fn parses_every_event_shape() {
    let trace = parse_text(&sample_text()).unwrap();
    assert_eq!(trace.version, Version::Go122);
    assert_eq!(trace.events, sample_events());
}

#[test]
fn encodes_the_wire_format() {
    let trace = parse_text(&sample_text()).unwrap();
    let bytes = encode(&trace).unwrap();
    let mut want = b"go 1.22 trace\0\0\0".to_vec();
    // EventBatch gen=1 m=MAX time=7 size=40
    want.extend([1, 1]);
    want.extend([0xff; 9]);
    want.extend([0x01, 7, 40]);
    // Stacks; Stack id=1 nframes=2 and two frames (4198400 = 0x401000).
    want.extend([
        2, 3, 1, 2, 0x80, 0xa0, 0x80, 0x02, 1, 2, 12, 0xac, 0x02, 3, 2, 0x80, 0x01,
    ]);
    // Strings; String id=1 with 10 bytes of data.
    want.extend([4, 5, 1, 10]);
    want.extend(b"main.main\0");
    // EventBatch gen=1 m=0 time=9 size=9; GoCreate dt=130 new_g=1 new_stack=0 stack=1
    want.extend([1, 1, 0, 9, 9, 14, 0x82, 0x01, 1, 0, 1]);
    assert_eq!(bytes, want);
}

#[test]
fn binary_round_trip() {
    let trace = parse_text(&sample_text()).unwrap();
    let bytes = encode(&trace).unwrap();
    assert_eq!(decode(&bytes).unwrap(), trace);
}

#[test]
fn text_round_trip() {
    let trace = parse_text(&sample_text()).unwrap();
    let text = trace.to_string();
    assert!(
        text.starts_with("Trace Go1.22\nEventBatch gen=1 m=18446744073709551615 time=7 size=40\n")
    );
    assert!(text.contains("Stack id=1 nframes=2\n\tpc=4198400 func=1 file=2 line=12\n\tpc=300 func=3 file=2 line=128\n"));
    assert!(text.contains("String id=1\n\tdata=\"main.main\\x00\"\n"));
    assert_eq!(parse_text(&text).unwrap(), trace);
}

#[test]
fn every_version_and_event_type_round_trips() {
    for version in [
        Version::Go122,
        Version::Go123,
        Version::Go125,
        Version::Go126,
    ] {
        let mut events = Vec::new();
        for (i, spec) in crate::trace::tracev2::specs_for(version).iter().enumerate() {
            if i == 0 || spec.name.is_empty() {
                continue;
            }
            let mut args: Vec<u64> = (0..spec.args.len() as u64).map(|a| a * 1000 + 1).collect();
            if spec.is_stack {
                args[1] = 1;
                args.extend([1 << 40, 2, 3, 4]);
            }
            events.push(Event {
                version,
                typ: EventType(u8::try_from(i).unwrap()),
                args,
                data: spec.has_data.then(|| vec![0, 1, 0xff, b'"', b'\n']),
            });
        }
        let trace = Trace { version, events };
        let bytes = encode(&trace).unwrap();
        assert_eq!(decode(&bytes).unwrap(), trace, "{version}");
        assert_eq!(parse_text(&trace.to_string()).unwrap(), trace, "{version}");
    }
}

fn text_error(text: &str) -> TextError {
    match parse_text(text) {
        Ok(t) => panic!("parsed {t:?}"),
        Err(e) => e,
    }
}

#[test]
fn header_errors() {
    assert_eq!(text_error("").line, 0);
    assert_eq!(text_error("\n# only a comment\n").line, 0);
    let e = text_error("\n\nTrace Go1.24\n");
    assert_eq!(
        (e.line, e.message.as_str()),
        (3, "unknown or unsupported Go version 1.24")
    );
    assert!(
        text_error("Tracer Go1.22")
            .message
            .contains("failed to parse header")
    );
    assert!(text_error("Trace Go2.1").message.contains("Go version"));
    assert!(text_error("Trace Go1.x").message.contains("Go version"));
    assert!(
        text_error("Trace Go1.22 extra")
            .message
            .contains("non-space")
    );
}

#[test]
fn event_errors_have_line_numbers() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "Trace Go1.22\n\nNoSuchEvent x=1\n",
            3,
            "unidentified event: NoSuchEvent",
        ),
        (
            "Trace Go1.22\nGoSwitch dt=1 g=1 g_seq=1\n",
            2,
            "unidentified event: GoSwitch",
        ),
        (
            "Trace Go1.21\nEventBatch gen=1 m=0 time=0 size=0\n",
            2,
            "unidentified event",
        ),
        (
            "Trace Go1.22\nFrequency\n",
            2,
            "reading args for Frequency: no argument",
        ),
        (
            "Trace Go1.22\nFrequency hz=1\n",
            2,
            "expected argument \"freq\"",
        ),
        (
            "Trace Go1.22\nFrequency freq=-1\n",
            2,
            "failed to parse argument value",
        ),
        ("Trace Go1.22\nFrequency freq=1 freq=2\n", 2, "non-space"),
        (
            "Trace Go1.22\nStacks # no comments after an event\n",
            2,
            "non-space",
        ),
        (
            "Trace Go1.22\nString id=1\n",
            2,
            "unexpected end of text while reading data",
        ),
        (
            "Trace Go1.22\nString id=1\n\n  data=\"x\n",
            4,
            "failed to parse data",
        ),
        ("Trace Go1.22\nString id=1\nStrings\n", 3, "malformed data"),
        (
            "Trace Go1.22\nStack id=1 nframes=2\npc=1 func=1 file=1 line=1\n",
            2,
            "while reading stack",
        ),
        (
            "Trace Go1.22\nStack id=1 nframes=1\npc=1 func=1 file=1\n",
            3,
            "no argument",
        ),
    ];
    for &(text, line, msg) in cases {
        let e = text_error(text);
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.message.contains(msg), "{text:?}: {e}");
        assert!(e.to_string().starts_with(&format!("line {line}: ")));
    }
}

#[test]
fn reader_streams_and_stops_after_an_error() {
    let mut r = TextReader::new("Trace Go1.23\nStrings\nBogus\nStrings\n").unwrap();
    assert_eq!(r.version(), Version::Go123);
    assert!(matches!(r.next(), Some(Ok(_))));
    assert!(matches!(r.next(), Some(Err(_))));
    assert!(r.next().is_none());
}

#[test]
fn varints() {
    let cases: &[(u64, &[u8])] = &[
        (0, &[0]),
        (127, &[0x7f]),
        (128, &[0x80, 0x01]),
        (300, &[0xac, 0x02]),
        (
            u64::MAX,
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        ),
    ];
    for &(v, want) in cases {
        let mut out = Vec::new();
        put_uvarint(&mut out, v);
        assert_eq!(out, want, "{v}");
    }
}

#[test]
fn encode_rejects_malformed_events() {
    let v = Version::Go122;
    let mut out = Vec::new();
    let bad = [
        ev(EventType(200), &[], None),
        ev(EventType::NONE, &[], None),
        ev(EventType::FREQUENCY, &[], None),
        ev(EventType::FREQUENCY, &[1, 2], None),
        ev(EventType::STACK, &[1, 1, 1, 2, 3], None),
        ev(EventType::FREQUENCY, &[1], Some(b"x")),
    ];
    for e in &bad {
        assert!(write_event(&mut out, v, e).is_err(), "{e:?}");
    }
    let other = Event {
        version: Version::Go123,
        ..ev(EventType::STACKS, &[], None)
    };
    assert!(matches!(
        write_event(&mut out, v, &other),
        Err(EncodeError::VersionMismatch { .. })
    ));
    assert!(out.is_empty());
    // A data event without data writes an empty trailer.
    write_event(&mut out, v, &ev(EventType::STRING, &[3], None)).unwrap();
    assert_eq!(out, [5, 3, 0]);
}

#[test]
fn decode_errors() {
    let h = b"go 1.22 trace\0\0\0";
    let with = |tail: &[u8]| [&h[..], tail].concat();
    assert!(matches!(
        decode(b"go 1.22 trace"),
        Err(DecodeError::Header(_))
    ));
    assert_eq!(decode(h).unwrap().events, vec![]);
    assert_eq!(
        decode(&with(&[0])),
        Err(DecodeError::InvalidType { offset: 16, typ: 0 })
    );
    assert_eq!(
        decode(&with(&[46])),
        Err(DecodeError::InvalidType {
            offset: 16,
            typ: 46
        })
    );
    assert_eq!(
        decode(&with(&[2, 8, 0x80])),
        Err(DecodeError::Truncated { offset: 17 })
    );
    assert_eq!(
        decode(&with(&[5, 1, 3, b'a'])),
        Err(DecodeError::Truncated { offset: 16 })
    );
    let overflow = with(&[
        8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
    ]);
    assert_eq!(
        decode(&overflow),
        Err(DecodeError::VarintOverflow { offset: 17 })
    );
}

#[test]
fn display_of_unknown_type() {
    assert_eq!(ev(EventType(99), &[1], None).to_string(), "Invalid(99)");
}
