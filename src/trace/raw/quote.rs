//! Go string literals, as the text trace format and Go's fuzz corpus files use them.
//!
//! [`unquote`] accepts the three literal forms of the Go language, with the
//! value Go's `strconv.Unquote` gives:
//!
//! - interpreted strings `"..."`, with the escapes `\a \b \f \n \r \t \v \\ \"`,
//!   `\xHH` (one byte), `\NNN` (one byte, three octal digits, at most `\377`),
//!   `\uHHHH` and `\UHHHHHHHH` (a Unicode scalar value, written as UTF-8). An
//!   unescaped newline is an error. Bytes that are not valid UTF-8 stand for
//!   U+FFFD, as they do in Go.
//! - raw strings `` `...` ``, taken byte for byte except that carriage returns
//!   are dropped.
//! - rune literals `'x'`: one character, `\'` allowed and `\"` not (`''` reads
//!   as empty, as in Go).
//!
//! [`quote`] goes the other way and produces an interpreted string literal
//! that [`unquote`] (and Go) reads back as the same bytes.

use std::fmt;

/// A string that is not a well-formed Go string literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteError;

impl fmt::Display for QuoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The same words as Go's strconv.ErrSyntax.
        f.write_str("invalid syntax")
    }
}

impl std::error::Error for QuoteError {}

/// UTF-8 of U+FFFD, which stands in for bytes that are not valid UTF-8.
const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

/// Returns the bytes a Go string (or rune) literal stands for.
///
/// `lit` must be exactly one literal, quotes included, with nothing around it.
pub fn unquote(lit: &[u8]) -> Result<Vec<u8>, QuoteError> {
    let (&open, rest) = lit.split_first().ok_or(QuoteError)?;
    match open {
        b'`' => unquote_raw(rest),
        b'"' | b'\'' => unquote_interpreted(rest, open),
        _ => Err(QuoteError),
    }
}

/// The body of a raw string literal; `rest` is everything after the opening backquote.
fn unquote_raw(rest: &[u8]) -> Result<Vec<u8>, QuoteError> {
    let (&close, body) = rest.split_last().ok_or(QuoteError)?;
    if close != b'`' || body.contains(&b'`') {
        return Err(QuoteError);
    }
    Ok(body.iter().copied().filter(|&b| b != b'\r').collect())
}

/// The body of an interpreted string or rune literal; `rest` is everything
/// after the opening quote `quote`.
fn unquote_interpreted(mut rest: &[u8], quote: u8) -> Result<Vec<u8>, QuoteError> {
    let mut out = Vec::with_capacity(rest.len());
    while let Some(&c) = rest.first() {
        if c == quote {
            break;
        }
        if c == b'\n' {
            return Err(QuoteError);
        }
        rest = unquote_char(rest, quote, &mut out)?;
        if quote == b'\'' {
            break;
        }
    }
    // The closing quote must be the last byte. (Like Go, `''` is accepted as empty.)
    if rest != [quote] {
        return Err(QuoteError);
    }
    Ok(out)
}

/// Decodes one (possibly escaped) character at the start of `s`, appends its
/// bytes to `out` and returns the rest of `s`.
fn unquote_char<'a>(s: &'a [u8], quote: u8, out: &mut Vec<u8>) -> Result<&'a [u8], QuoteError> {
    match s {
        [] => Err(QuoteError),
        [b'\\', esc, rest @ ..] => unquote_escape(*esc, rest, quote, out),
        [b'\\'] => Err(QuoteError),
        [c, rest @ ..] if c.is_ascii() => {
            out.push(*c);
            Ok(rest)
        }
        _ => {
            let (ch, width) = decode_utf8(s);
            match ch {
                Some(ch) => out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes()),
                None => out.extend_from_slice(REPLACEMENT),
            }
            Ok(&s[width..])
        }
    }
}

/// Decodes the escape whose letter (after the backslash) is `esc`; `rest`
/// follows that letter.
fn unquote_escape<'a>(
    esc: u8,
    rest: &'a [u8],
    quote: u8,
    out: &mut Vec<u8>,
) -> Result<&'a [u8], QuoteError> {
    let simple = match esc {
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        b'\\' => Some(b'\\'),
        b'\'' | b'"' if esc == quote => Some(esc),
        _ => None,
    };
    if let Some(b) = simple {
        out.push(b);
        return Ok(rest);
    }
    match esc {
        b'x' => {
            let (v, rest) = fixed_digits(rest, 2, 16)?;
            out.push(v as u8);
            Ok(rest)
        }
        b'u' | b'U' => {
            let (v, rest) = fixed_digits(rest, if esc == b'u' { 4 } else { 8 }, 16)?;
            let ch = char::from_u32(v).ok_or(QuoteError)?;
            out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
            Ok(rest)
        }
        b'0'..=b'7' => {
            let (low, rest) = fixed_digits(rest, 2, 8)?;
            let v = u32::from(esc - b'0') << 6 | low;
            out.push(u8::try_from(v).map_err(|_| QuoteError)?);
            Ok(rest)
        }
        _ => Err(QuoteError),
    }
}

/// Reads exactly `n` digits of `radix` from the start of `s`.
fn fixed_digits(s: &[u8], n: usize, radix: u32) -> Result<(u32, &[u8]), QuoteError> {
    if s.len() < n {
        return Err(QuoteError);
    }
    let (digits, rest) = s.split_at(n);
    let mut v = 0u32;
    for &d in digits {
        let d = char::from(d).to_digit(radix).ok_or(QuoteError)?;
        v = v * radix + d;
    }
    Ok((v, rest))
}

/// Decodes the UTF-8 sequence at the start of `s` (which must not be empty).
/// Returns `None` with width 1 for a byte that does not start a valid sequence.
fn decode_utf8(s: &[u8]) -> (Option<char>, usize) {
    let width = match s.first() {
        Some(0x00..=0x7f) => 1,
        Some(0xc2..=0xdf) => 2,
        Some(0xe0..=0xef) => 3,
        Some(0xf0..=0xf4) => 4,
        _ => return (None, 1),
    };
    match s.get(..width).map(std::str::from_utf8) {
        Some(Ok(text)) => (text.chars().next(), width),
        _ => (None, 1),
    }
}

/// Writes `bytes` as a Go interpreted string literal, quotes included.
///
/// Printable ASCII is written as is (with `"` and `\` escaped), the usual
/// control characters as `\n`, `\t` and so on, other ASCII and bytes that are
/// not valid UTF-8 as `\xHH`, and every other character as `\uHHHH` or
/// `\UHHHHHHHH`. (Go's `strconv.Quote` writes printable non-ASCII characters
/// as they are; both forms read back to the same bytes.)
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    let mut rest = bytes;
    while !rest.is_empty() {
        let (ch, width) = decode_utf8(rest);
        match ch {
            Some(ch) => push_escaped_char(&mut out, ch),
            None => out.push_str(&format!("\\x{:02x}", rest[0])),
        }
        rest = &rest[width..];
    }
    out.push('"');
    out
}

/// Appends one character of a quoted string, escaped as [`quote`] describes.
fn push_escaped_char(out: &mut String, ch: char) {
    match ch {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        ' '..='~' => out.push(ch),
        '\u{07}' => out.push_str("\\a"),
        '\u{08}' => out.push_str("\\b"),
        '\u{0c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{0b}' => out.push_str("\\v"),
        '\0'..='\u{7f}' => out.push_str(&format!("\\x{:02x}", u32::from(ch))),
        '\u{80}'..='\u{ffff}' => out.push_str(&format!("\\u{:04x}", u32::from(ch))),
        _ => out.push_str(&format!("\\U{:08x}", u32::from(ch))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uq(s: &str) -> Result<Vec<u8>, QuoteError> {
        unquote(s.as_bytes())
    }

    #[test]
    fn interpreted_escapes() {
        assert_eq!(uq(r#""""#).unwrap(), b"");
        assert_eq!(uq(r#""hello world\x00""#).unwrap(), b"hello world\0");
        assert_eq!(
            uq(r#""\a\b\f\n\r\t\v\\\"""#).unwrap(),
            b"\x07\x08\x0c\n\r\t\x0b\\\""
        );
        assert_eq!(uq(r#""\377\000\101""#).unwrap(), b"\xff\x00A");
        assert_eq!(uq(r#""\xff\xFE""#).unwrap(), b"\xff\xfe");
        assert_eq!(uq(r#""\u00e9\U0001F600""#).unwrap(), "é😀".as_bytes());
        assert_eq!(uq("\"ߕ\"").unwrap(), "ߕ".as_bytes());
    }

    #[test]
    fn interpreted_errors() {
        for bad in [
            r#"""#,
            r#""abc"#,
            r#""a"b""#,
            "\"a\nb\"",
            r#""\400""#,
            r#""\8""#,
            r#""\x1""#,
            r#""\q""#,
            r#""\'""#,
            r#""\ud800""#,
            r#""\U00110000""#,
            r#""\""#,
            "",
            "abc",
            r#""a" "#,
        ] {
            assert_eq!(uq(bad), Err(QuoteError), "{bad:?}");
        }
    }

    #[test]
    fn invalid_utf8_becomes_replacement() {
        assert_eq!(unquote(b"\"a\xffb\"").unwrap(), "a\u{FFFD}b".as_bytes());
        // Raw strings keep their bytes.
        assert_eq!(unquote(b"`a\xffb`").unwrap(), b"a\xffb");
    }

    #[test]
    fn raw_strings() {
        assert_eq!(uq("``").unwrap(), b"");
        assert_eq!(uq(r"`a\nb`").unwrap(), br"a\nb");
        assert_eq!(uq("`a\r\nb`").unwrap(), b"a\nb");
        assert_eq!(uq("`a`b`"), Err(QuoteError));
        assert_eq!(uq("`abc"), Err(QuoteError));
    }

    #[test]
    fn rune_literals() {
        assert_eq!(uq("'a'").unwrap(), b"a");
        assert_eq!(uq(r"'\''").unwrap(), b"'");
        assert_eq!(uq("'é'").unwrap(), "é".as_bytes());
        assert_eq!(uq("''").unwrap(), b"");
        assert_eq!(uq("'ab'"), Err(QuoteError));
        assert_eq!(uq(r#"'\"'"#), Err(QuoteError));
    }

    #[test]
    fn quote_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        for sample in [
            &b""[..],
            b"hello world\x00",
            b"\"quoted\" \\ back",
            "é😀\u{0085}\u{ffff}".as_bytes(),
            &all,
        ] {
            let q = quote(sample);
            assert!(q.is_ascii(), "{q}");
            assert_eq!(unquote(q.as_bytes()).unwrap(), sample, "{q}");
        }
        assert_eq!(quote(b"a\x00\n\"\xff"), r#""a\x00\n\"\xff""#);
    }
}
