//! The byte-level pieces the masker, the summarizer and the user-session
//! guard share: character classes, where quoted bodies and numbers end, and
//! the token stream of an already masked text.

pub(crate) fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

pub(crate) fn is_ident_char(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// The index just past the closing quote of a `'…'` body starting at `i`;
/// `backslash` for `E'…'` strings, where `\'` does not close.
pub(crate) fn end_of_quoted(s: &[u8], mut i: usize, backslash: bool) -> Option<usize> {
    while i < s.len() {
        match s[i] {
            b'\\' if backslash => i += 2,
            b'\'' if s.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The index just past the closing `"` of a quoted identifier starting at `i`.
pub(crate) fn end_of_quoted_ident(s: &[u8], mut i: usize) -> Option<usize> {
    while i < s.len() {
        match s[i] {
            b'"' if s.get(i + 1) == Some(&b'"') => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end of a `$tag$` opener at `i`, if one starts there.
pub(crate) fn dollar_tag(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if s.get(j).is_some_and(|&b| is_ident_start(b)) {
        while j < s.len() && (is_ident_start(s[j]) || s[j].is_ascii_digit()) {
            j += 1;
        }
    }
    (s.get(j) == Some(&b'$')).then_some(j + 1)
}

/// The first occurrence of `needle` in `hay` at or after `from`.
pub(crate) fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The end of a `/* … */` comment opened at `i` (comments nest), or `None`
/// when it is never closed.
pub(crate) fn end_of_block_comment(s: &[u8], i: usize) -> Option<usize> {
    let mut depth = 1usize;
    let mut i = i + 2;
    while i < s.len() && depth > 0 {
        if s[i] == b'/' && s.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if s[i] == b'*' && s.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    (depth == 0).then_some(i)
}

/// The end of a `-- …` comment at `i`: the newline (or the end of the text).
pub(crate) fn end_of_line_comment(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && s[i] != b'\n' {
        i += 1;
    }
    i
}

/// Numbers: digits, `.`, exponents with a sign, `0x`/`0b`/`0o` prefixes and
/// `_` separators. Anything alphanumeric glued to a number is swallowed with
/// it, so a malformed literal is masked rather than half-shown.
pub(crate) fn end_of_number(s: &[u8], mut i: usize) -> usize {
    while i < s.len() {
        let b = s[i];
        let exponent_sign = (b == b'+' || b == b'-')
            && i > 0
            && matches!(s[i - 1], b'e' | b'E')
            && s.get(i + 1).is_some_and(u8::is_ascii_digit);
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || exponent_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// A token of a masked text (literals are already `?`, comments gone).
#[derive(Debug)]
pub(crate) enum Tok<'a> {
    Word(&'a str),
    Quoted(&'a str),
    Punct(u8),
}

/// The tokens of a masked text.
pub(crate) fn tokens(text: &str) -> Vec<Tok<'_>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b' ' {
            i += 1;
        } else if c == b'"' {
            let end = end_of_quoted_ident(b, i + 1).unwrap_or(b.len());
            out.push(Tok::Quoted(&text[i..end]));
            i = end;
        } else if is_ident_char(c) || c.is_ascii_digit() {
            let mut j = i;
            while j < b.len() && (is_ident_char(b[j]) || b[j].is_ascii_digit()) {
                j += 1;
            }
            out.push(Tok::Word(&text[i..j]));
            i = j;
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    out
}

pub(crate) fn word_is(t: Option<&Tok<'_>>, w: &str) -> bool {
    matches!(t, Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
}

pub(crate) fn in_list(w: &str, list: &[&str]) -> bool {
    list.iter().any(|k| k.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_of_bodies() {
        assert_eq!(end_of_quoted(b"'it''s' x", 1, false), Some(7));
        assert_eq!(end_of_quoted(b"'a\\'b' x", 1, true), Some(6));
        assert_eq!(end_of_quoted(b"'open", 1, false), None);
        assert_eq!(end_of_quoted_ident(b"\"a\"\"b\" x", 1), Some(6));
        assert_eq!(dollar_tag(b"$tag$ x $tag$", 0), Some(5));
        assert_eq!(dollar_tag(b"$1", 0), None);
        assert_eq!(end_of_block_comment(b"/* /* */ */x", 0), Some(11));
        assert_eq!(end_of_block_comment(b"/* open", 0), None);
        assert_eq!(end_of_number(b"1.5e-3x y", 0), 7);
    }
}
