//! Cutting strings to a byte budget without splitting a character: task
//! labels, statement summaries and header-derived attribute values all cap
//! their length in bytes, and a cut in the middle of a UTF-8 sequence
//! would panic.

/// `s` cut to at most `max_bytes` bytes, on a character boundary.
pub(crate) fn prefix_bytes(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// [`prefix_bytes`] in place.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn truncate_bytes(s: &mut String, max_bytes: usize) {
    let end = prefix_bytes(s, max_bytes).len();
    s.truncate(end);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_cut_on_a_char_boundary() {
        assert_eq!(prefix_bytes("héllo", 2), "h");
        assert_eq!(prefix_bytes("héllo", 3), "hé");
        assert_eq!(prefix_bytes("abc", 10), "abc");
        assert_eq!(prefix_bytes("ééé", 5), "éé");
        let mut s = "ééé".to_owned();
        truncate_bytes(&mut s, 3);
        assert_eq!(s, "é");
    }
}
