//! Values attached to metrics, range attributes and experimental event
//! arguments, and Go's `%q` string quoting used when printing them.

use std::fmt;

/// A metric or attribute value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Value<'a> {
    /// An unsigned integer.
    Uint64(u64),
    /// A string from the trace (raw bytes, usually UTF-8).
    String(&'a [u8]),
}

impl fmt::Display for Value<'_> {
    /// Go's `Value.String()`: `Value{Uint64(N)}`, or the string itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Uint64(v) => write!(f, "Value{{Uint64({v})}}"),
            Value::String(s) => f.write_str(&String::from_utf8_lossy(s)),
        }
    }
}

/// Writes `s` as Go's `strconv.Quote` would: a double-quoted literal with
/// non-printable characters and invalid UTF-8 escaped.
pub(crate) fn write_quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            write_escaped_char(out, c);
        }
        for b in chunk.invalid() {
            push_hex(out, "\\x", u32::from(*b), 2);
        }
    }
    out.push(b'"');
}

fn push_hex(out: &mut Vec<u8>, prefix: &str, v: u32, width: usize) {
    use std::io::Write;
    let _ = write!(out, "{prefix}{v:0width$x}");
}

fn write_escaped_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    let esc: &[u8] = match c {
        '"' | '\\' => {
            out.push(b'\\');
            c.encode_utf8(&mut buf).as_bytes()
        }
        _ if is_print(c) => c.encode_utf8(&mut buf).as_bytes(),
        '\x07' => b"\\a",
        '\x08' => b"\\b",
        '\x0c' => b"\\f",
        '\n' => b"\\n",
        '\r' => b"\\r",
        '\t' => b"\\t",
        '\x0b' => b"\\v",
        _ if c < ' ' || c == '\x7f' => return push_hex(out, "\\x", c as u32, 2),
        _ if (c as u32) < 0x10000 => return push_hex(out, "\\u", c as u32, 4),
        _ => return push_hex(out, "\\U", c as u32, 8),
    };
    out.extend_from_slice(esc);
}

/// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space. Exact for ASCII; outside it, the control, format,
/// separator, private-use and noncharacter ranges are excluded (unassigned
/// code points are not tracked, a known approximation).
fn is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    let not_print: &[(u32, u32)] = &[
        (0x80, 0xa0),
        (0xad, 0xad),
        (0x600, 0x605),
        (0x61c, 0x61c),
        (0x6dd, 0x6dd),
        (0x70f, 0x70f),
        (0x1680, 0x1680),
        (0x180e, 0x180e),
        (0x2000, 0x200f),
        (0x2028, 0x202f),
        (0x205f, 0x206f),
        (0x3000, 0x3000),
        (0xd800, 0xf8ff),
        (0xfdd0, 0xfdef),
        (0xfeff, 0xfeff),
        (0xfff9, 0xfffb),
        (0x110bd, 0x110bd),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0001, 0xe007f),
        (0xf0000, 0x10ffff),
    ];
    if u & 0xfffe == 0xfffe {
        return false;
    }
    !not_print.iter().any(|&(lo, hi)| (lo..=hi).contains(&u))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &[u8]) -> String {
        let mut out = Vec::new();
        write_quoted(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(q(b"plain"), r#""plain""#);
        assert_eq!(q(b"a\"b\\c\n\t\x01\x7f"), r#""a\"b\\c\n\t\x01\x7f""#);
        assert_eq!(q("héllo 世界".as_bytes()), "\"héllo 世界\"");
        assert_eq!(q(b"\xff\xe2\x82A"), r#""\xff\xe2\x82A""#);
        assert_eq!(q("\u{200b}\u{feff}".as_bytes()), r#""\u200b\ufeff""#);
        assert_eq!(q("\u{f0000}".as_bytes()), r#""\U000f0000""#);
        assert_eq!(Value::Uint64(4).to_string(), "Value{Uint64(4)}");
    }
}
