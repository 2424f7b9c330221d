//! Trace format versions and the file header.
//!
//! Every trace starts with `go 1.NN trace\0\0\0`, where `NN` is the format
//! version (not necessarily the Go release: Go 1.24 writes version 23).
//! Versions 11, 19 and 21 are the old v1 format; 22, 23, 25 and 26 are the
//! generation-based v2 format this decoder reads.

use std::fmt;

/// A known trace format version.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Version {
    /// Go 1.11–1.18 (v1 format).
    Go111 = 11,
    /// Go 1.19–1.20 (v1 format).
    Go119 = 19,
    /// Go 1.21 (v1 format).
    Go121 = 21,
    /// Go 1.22 (v2 format).
    Go122 = 22,
    /// Go 1.23 and 1.24: coroutine switches, stacks on statuses, experiments.
    Go123 = 23,
    /// Go 1.25: sync batches with a clock snapshot.
    Go125 = 25,
    /// Go 1.26: explicit end-of-generation marker.
    Go126 = 26,
}

impl Version {
    /// The newest version this crate knows.
    pub const CURRENT: Version = Version::Go126;

    /// The version with minor number `minor`, if known.
    pub fn from_minor(minor: u64) -> Option<Version> {
        Some(match minor {
            11 => Version::Go111,
            19 => Version::Go119,
            21 => Version::Go121,
            22 => Version::Go122,
            23 => Version::Go123,
            25 => Version::Go125,
            26 => Version::Go126,
            _ => return None,
        })
    }

    /// The minor number, as written in the header.
    pub fn minor(self) -> u32 {
        self as u32
    }

    /// Whether this is the old (Go 1.11–1.21) format.
    pub fn is_v1(self) -> bool {
        self < Version::Go122
    }

    /// The exact header bytes for this version.
    pub fn header(self) -> Vec<u8> {
        format!("go 1.{} trace\0\0\0", self.minor()).into_bytes()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "go 1.{}", self.minor())
    }
}

/// The newest trace format gotv reads (Go 1.26 and 1.27 write it).
const NEWEST: Version = Version::Go126;

/// Why a header could not be accepted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HeaderError {
    /// The bytes do not look like a Go trace header at all.
    NotATrace,
    /// A well-formed header with a version number no Go release wrote.
    UnknownVersion(u64),
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::NotATrace => f.write_str("bad file format: not a Go execution trace?"),
            HeaderError::UnknownVersion(v) => {
                write!(f, "unknown or unsupported trace version go 1.{v}")?;
                // Go's words first; then what a user can do about it.
                match *v > u64::from(NEWEST.minor()) {
                    true => write!(
                        f,
                        " (newer than the formats this gotv reads, up to {NEWEST}: \
                         a newer gotv may read it)"
                    ),
                    false => Ok(()),
                }
            }
        }
    }
}

/// Parses the header at the start of `data`, returning the version and the
/// header's length in bytes.
pub fn read_header(data: &[u8]) -> Result<(Version, usize), HeaderError> {
    const PREFIX: &[u8] = b"go 1.";
    const SUFFIX: &[u8] = b" trace\0\0\0";
    let rest = data.strip_prefix(PREFIX).ok_or(HeaderError::NotATrace)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return Err(HeaderError::NotATrace);
    }
    let minor = rest[..digits].iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    let minor = minor.ok_or(HeaderError::NotATrace)?;
    if !rest[digits..].starts_with(SUFFIX) {
        return Err(HeaderError::NotATrace);
    }
    let version = Version::from_minor(minor).ok_or(HeaderError::UnknownVersion(minor))?;
    Ok((version, PREFIX.len() + digits + SUFFIX.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_headers() {
        for v in [Version::Go111, Version::Go122, Version::Go126] {
            let mut bytes = v.header();
            let len = bytes.len();
            bytes.extend_from_slice(b"\x01rest");
            assert_eq!(read_header(&bytes), Ok((v, len)));
        }
        assert!(Version::Go121.is_v1() && !Version::Go122.is_v1());
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(
            read_header(b"go 1.24 trace\0\0\0"),
            Err(HeaderError::UnknownVersion(24))
        );
        assert_eq!(
            read_header(b"go 1.22 trace\0\0"),
            Err(HeaderError::NotATrace)
        );
        assert_eq!(read_header(b"\x7fELF"), Err(HeaderError::NotATrace));
        assert_eq!(
            read_header(b"go 1.x trace\0\0\0"),
            Err(HeaderError::NotATrace)
        );
        assert_eq!(read_header(b""), Err(HeaderError::NotATrace));
    }

    /// A version from after gotv says so, after Go's own words.
    #[test]
    fn a_newer_version_says_a_newer_gotv_may_read_it() {
        let old = HeaderError::UnknownVersion(24).to_string();
        assert_eq!(old, "unknown or unsupported trace version go 1.24");
        let new = HeaderError::UnknownVersion(28).to_string();
        assert!(new.starts_with("unknown or unsupported trace version go 1.28 (newer"));
        assert!(new.contains("up to go 1.26"), "{new}");
    }
}
