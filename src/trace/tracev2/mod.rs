//! Wire-format vocabulary of Go's v2 execution traces (Go 1.22 and later).
//!
//! Every event in a trace starts with a one-byte [`EventType`]. The table in
//! [`events`] describes, for each type, its name, its argument names and which
//! arguments refer to the string or stack tables. The table is shared by all
//! v2 format versions: each version only uses a prefix of it (plus the
//! experimental events, which live above [`EventType::MAX_EVENT`]), which
//! [`specs_for`] returns.
//!
//! This module is deliberately self-contained: the decoder, the text format of
//! `internal/trace/raw` and the binary writer all build on it.

pub mod events;
pub mod spec;

pub(crate) use events::wire_info;
pub use events::{
    EXPERIMENTS, GoStatus, MAX_BATCH_SIZE, MAX_EVENT_TRAILER_DATA_SIZE, MAX_FRAMES_PER_STACK,
    MAX_TIMED_EVENT_ARGS, ProcStatus, specs,
};
pub use spec::{EventSpec, EventType, Experiment};

use crate::trace::version::Version;

/// The event table of one trace format version, indexed by type number.
///
/// Returns an empty slice for the v1 versions (Go 1.11–1.21), which use a
/// different format altogether.
pub fn specs_for(version: Version) -> &'static [EventSpec] {
    let all = specs();
    match version {
        Version::Go111 | Version::Go119 | Version::Go121 => &[],
        Version::Go122 => &all[..=EventType::USER_LOG.index()],
        Version::Go123 => &all[..=EventType::EXPERIMENTAL_BATCH.index()],
        Version::Go125 => &all[..=EventType::CLOCK_SNAPSHOT.index()],
        Version::Go126 => all,
    }
}

/// The spec of event type `typ` in `version`, if that version defines it.
pub fn lookup(version: Version, typ: EventType) -> Option<&'static EventSpec> {
    specs_for(version)
        .get(typ.index())
        .filter(|spec| !spec.name.is_empty())
}

/// The type number of the event called `name` in `version` (the inverse of
/// [`lookup`]), as the text format of `internal/trace/raw` needs.
pub fn type_by_name(version: Version, name: &str) -> Option<EventType> {
    specs_for(version)
        .iter()
        .position(|spec| !spec.name.is_empty() && spec.name == name)
        .and_then(|i| u8::try_from(i).ok())
        .map(EventType)
}

/// The name Go's reader uses for `typ` in error messages: the spec name, or
/// `Invalid(N)` for a type the version does not define.
pub fn event_name(version: Version, typ: EventType) -> String {
    EventName { version, typ }.to_string()
}

/// [`event_name`] without allocating, for formatting into messages.
#[derive(Clone, Copy, Debug)]
pub struct EventName {
    /// The trace version whose table names the type.
    pub version: Version,
    /// The type.
    pub typ: EventType,
}

impl std::fmt::Display for EventName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if specs_for(self.version).is_empty() {
            return f.write_str("<v1 trace event type>");
        }
        match lookup(self.version, self.typ) {
            Some(spec) => f.write_str(spec.name),
            None => write!(f, "Invalid({})", self.typ.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_use_growing_prefixes() {
        assert_eq!(specs_for(Version::Go122).len(), 45);
        assert_eq!(specs_for(Version::Go123).len(), 50);
        assert_eq!(specs_for(Version::Go125).len(), 52);
        assert_eq!(specs_for(Version::Go126).len(), 137);
        assert!(specs_for(Version::Go121).is_empty());
    }

    #[test]
    fn lookup_by_number_and_name() {
        assert_eq!(
            lookup(Version::Go122, EventType::GO_START).map(|s| s.name),
            Some("GoStart")
        );
        assert!(lookup(Version::Go122, EventType::GO_SWITCH).is_none());
        assert_eq!(
            type_by_name(Version::Go123, "GoSwitch"),
            Some(EventType::GO_SWITCH)
        );
        assert_eq!(
            type_by_name(Version::Go126, "SpanFree"),
            Some(EventType::SPAN_FREE)
        );
        assert_eq!(type_by_name(Version::Go125, "SpanFree"), None);
        assert_eq!(type_by_name(Version::Go126, ""), None);
        assert_eq!(event_name(Version::Go122, EventType(200)), "Invalid(200)");
    }

    #[test]
    fn table_is_consistent() {
        for (i, spec) in specs().iter().enumerate() {
            assert!(!(spec.is_timed && spec.has_data), "{}", spec.name);
            for &a in spec.string_ids.iter().chain(spec.stack_ids) {
                assert!(a < spec.args.len(), "{} arg {a}", spec.name);
            }
            if spec.is_timed {
                assert_eq!(spec.args.first(), Some(&"dt"), "{}", spec.name);
                assert!(spec.args.len() <= MAX_TIMED_EVENT_ARGS);
            }
            let typ = EventType(u8::try_from(i).unwrap());
            assert_eq!(typ.is_experimental(), spec.experiment != Experiment::NONE);
        }
    }
}
