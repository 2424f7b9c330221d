//! Tokens of the text trace format: white-space separated words, `#` comments,
//! `name=value` arguments and `data="..."` lines.
//!
//! White space is Unicode white space (what Go's `unicode.IsSpace` and Rust's
//! `char::is_whitespace` agree on). A `#` that starts a token ends the line's
//! tokens; a `#` inside a token ends that token.

use super::quote;

/// Splits off the first token of `s`: returns the token and the text after
/// it. The token is empty when `s` holds only white space, or white space and
/// then a comment.
pub(crate) fn read_token(s: &str) -> (&str, &str) {
    let Some(start) = s.find(|c: char| !c.is_whitespace()) else {
        return ("", "");
    };
    let s = &s[start..];
    if s.starts_with('#') {
        return ("", "");
    }
    match s.find(|c: char| c.is_whitespace() || c == '#') {
        Some(end) => s.split_at(end),
        None => (s, ""),
    }
}

/// Whether a line holds no token (blank, or only a comment).
pub(crate) fn is_blank(line: &str) -> bool {
    read_token(line).0.is_empty()
}

/// Parses a decimal `u64`: digits only, no sign, no underscores.
pub(crate) fn parse_uint(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Reads arguments called `names`, in that order, from `s`, which must hold
/// nothing but white space after them.
pub(crate) fn read_args(mut s: &str, names: &[&str]) -> Result<Vec<u64>, String> {
    let mut args = Vec::with_capacity(names.len());
    for &want in names {
        let (name, value, rest) = read_arg(s)?;
        if name != want {
            return Err(format!("expected argument {want:?}, but got {name:?}"));
        }
        args.push(value);
        s = rest;
    }
    if !s.chars().all(char::is_whitespace) {
        return Err(format!(
            "encountered unexpected non-space at the end of an event: {s:?}"
        ));
    }
    Ok(args)
}

/// Reads one `name=value` argument: its name, value and the text after it.
fn read_arg(s: &str) -> Result<(&str, u64, &str), String> {
    let (token, rest) = read_token(s);
    if token.is_empty() {
        return Err("no argument".to_string());
    }
    let Some((name, value)) = token.split_once('=') else {
        return Err(format!("malformed argument: {token:?}"));
    };
    let value = parse_uint(value)
        .ok_or_else(|| format!("failed to parse argument value {value:?} for arg {name:?}"))?;
    Ok((name, value, rest))
}

/// Reads a data line, `data=` and a Go string literal (with optional white
/// space around both), and returns the bytes of the literal.
pub(crate) fn read_data(line: &str) -> Result<Vec<u8>, String> {
    match line.split_once('=') {
        Some((key, literal)) if key.trim() == "data" => quote::unquote(literal.trim().as_bytes())
            .map_err(|e| format!("failed to parse data: {line:?}: {e}")),
        _ => Err(format!("malformed data: {line:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(read_token("  Foo a=1"), ("Foo", " a=1"));
        assert_eq!(read_token("Foo"), ("Foo", ""));
        assert_eq!(read_token("\tFoo#x y"), ("Foo", "#x y"));
        assert_eq!(read_token("   # comment"), ("", ""));
        assert_eq!(read_token(""), ("", ""));
        assert_eq!(read_token("\u{a0}é\u{2003}z"), ("é", "\u{2003}z"));
        assert!(is_blank(" \t"));
        assert!(is_blank("# x"));
        assert!(!is_blank(" x # y"));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_uint("0"), Some(0));
        assert_eq!(parse_uint("007"), Some(7));
        assert_eq!(parse_uint("18446744073709551615"), Some(u64::MAX));
        for bad in ["", "+1", "-1", "1_0", "18446744073709551616", "0x1", " 1"] {
            assert_eq!(parse_uint(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn args() {
        assert_eq!(
            read_args(" gen=1 m=2  time=3 ", &["gen", "m", "time"]),
            Ok(vec![1, 2, 3])
        );
        assert_eq!(read_args("", &[]), Ok(vec![]));
        assert!(
            read_args("m=1", &["gen"])
                .unwrap_err()
                .contains("expected argument")
        );
        assert!(
            read_args("gen=1 x", &["gen"])
                .unwrap_err()
                .contains("non-space")
        );
        assert!(read_args("gen=1 # c", &["gen"]).is_err());
        assert!(read_args("", &["gen"]).unwrap_err().contains("no argument"));
        assert!(
            read_args("gen", &["gen"])
                .unwrap_err()
                .contains("malformed")
        );
        assert!(
            read_args("gen=x", &["gen"])
                .unwrap_err()
                .contains("failed to parse")
        );
    }

    #[test]
    fn data_lines() {
        assert_eq!(read_data("\tdata=\"hi\\x00\""), Ok(b"hi\0".to_vec()));
        assert_eq!(read_data(" data = `raw` "), Ok(b"raw".to_vec()));
        assert!(
            read_data("dat=\"x\"")
                .unwrap_err()
                .contains("malformed data")
        );
        assert!(read_data("data").unwrap_err().contains("malformed data"));
        assert!(
            read_data("data=\"x")
                .unwrap_err()
                .contains("failed to parse data")
        );
    }
}
