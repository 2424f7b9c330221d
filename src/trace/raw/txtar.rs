//! The txtar archive format that Go's trace conformance tests are stored in.
//!
//! An archive is a comment followed by files. Each file starts with a marker
//! line `-- NAME --` (the line must begin with `-- ` and end with ` --`; the
//! name between them is trimmed of white space and must not be empty) and runs
//! to the next marker line or the end of the archive. A final line without a
//! newline is treated as if it had one. Every input is a valid archive: a line
//! that is not a well-formed marker is simply content.
//!
//! A conformance test has two files, `expect` (`SUCCESS`, or `FAILURE` with a
//! quoted regular expression the error must match) and `trace` (a trace in the
//! [text format](super)).

/// One file of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// The name from the marker line.
    pub name: String,
    /// Everything up to the next marker, ending in a newline unless empty.
    pub data: Vec<u8>,
}

/// A parsed txtar archive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Archive {
    /// Text before the first marker line.
    pub comment: Vec<u8>,
    /// The files, in order.
    pub files: Vec<File>,
}

impl Archive {
    /// The data of the first file called `name`.
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.data.as_slice())
    }
}

/// Parses an archive. This cannot fail.
pub fn parse(data: &[u8]) -> Archive {
    let (comment, mut next) = split_at_marker(data);
    let mut archive = Archive {
        comment,
        files: Vec::new(),
    };
    while let Some((name, rest)) = next {
        let (data, after) = split_at_marker(rest);
        archive.files.push(File { name, data });
        next = after;
    }
    archive
}

/// Splits `data` at its first marker line: the text before it, then the
/// marker's name and the text after the marker line (if there is a marker).
fn split_at_marker(data: &[u8]) -> (Vec<u8>, Option<(String, &[u8])>) {
    let mut start = 0;
    loop {
        if let Some((name, after)) = marker(&data[start..]) {
            return (data[..start].to_vec(), Some((name, after)));
        }
        match find(&data[start..], b"\n-- ") {
            Some(i) => start += i + 1,
            None => return (with_final_newline(data), None),
        }
    }
}

/// If `data` starts with a marker line, its name and what follows the line.
fn marker(data: &[u8]) -> Option<(String, &[u8])> {
    let (line, after) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[data.len()..]),
    };
    let inner = line.strip_prefix(b"-- ")?;
    // The prefix and suffix may not overlap: `-- --` is not a marker.
    let inner = inner.strip_suffix(b" --")?;
    let name = String::from_utf8_lossy(inner).trim().to_string();
    (!name.is_empty()).then_some((name, after))
}

/// Position of the first occurrence of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `data` with a newline appended unless it is empty or already ends in one.
fn with_final_newline(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    if out.last().is_some_and(|&b| b != b'\n') {
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conformance_shape() {
        let a = parse(b"-- expect --\nSUCCESS\n-- trace --\nTrace Go1.22\nEventBatch gen=1");
        assert!(a.comment.is_empty());
        assert_eq!(a.files.len(), 2);
        assert_eq!(a.file("expect"), Some(&b"SUCCESS\n"[..]));
        assert_eq!(
            a.file("trace"),
            Some(&b"Trace Go1.22\nEventBatch gen=1\n"[..])
        );
        assert_eq!(a.file("other"), None);
    }

    #[test]
    fn comment_and_odd_markers() {
        let a = parse(b"note\n--  --\n-- x --y\n--   a b   --\nbody\n-- e --");
        assert_eq!(a.comment, b"note\n--  --\n-- x --y\n");
        assert_eq!(a.files.len(), 2);
        assert_eq!(a.files[0].name, "a b");
        assert_eq!(a.files[0].data, b"body\n");
        assert_eq!(a.files[1].name, "e");
        assert!(a.files[1].data.is_empty());
    }

    #[test]
    fn no_markers() {
        let a = parse(b"just text");
        assert_eq!(a.comment, b"just text\n");
        assert!(a.files.is_empty());
        assert_eq!(parse(b""), Archive::default());
    }
}
