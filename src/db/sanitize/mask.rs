//! Masking: every literal becomes `?`, comments go, whitespace collapses,
//! and literal-only `IN (…)` lists collapse to `IN (?)`.
//!
//! Literals, as the conventions list them: strings, numbers, booleans
//! (`TRUE`/`FALSE`), bit and hex strings, and the values of a configuration
//! `SET` (`SET search_path TO tenant_a`, whose bare words are string
//! literals to PostgreSQL). `NULL` stays: it is no value, and `IS NULL`
//! keeps its meaning.

use super::lexer::{
    dollar_tag, end_of_block_comment, end_of_line_comment, end_of_number, end_of_quoted,
    end_of_quoted_ident, find, is_ident_char, is_ident_start,
};

/// Masks literals and strips comments.
pub(crate) fn mask(sql: &str) -> String {
    let mut m = Masker {
        sql,
        s: sql.as_bytes(),
        out: String::with_capacity(sql.len()),
        space: false,
        words: 0,
        set: Set::Off,
    };
    let mut i = 0;
    while i < m.s.len() {
        match m.step(i) {
            Some(next) => i = next,
            // Something it could not close: the rest is masked or gone.
            None => break,
        }
    }
    m.out
}

struct Masker<'a> {
    sql: &'a str,
    s: &'a [u8],
    out: String,
    /// Pending whitespace, emitted once before the next token, so comments
    /// and runs of blanks collapse to one space.
    space: bool,
    /// Words seen in the current statement (since the start or a `;`).
    words: u32,
    /// Where the current statement is in a configuration `SET`.
    set: Set,
}

/// A configuration `SET` (`SET [SESSION|LOCAL] name {TO|=} value, …`,
/// `SET TIME ZONE value`, and `ALTER {SYSTEM|ROLE|USER|DATABASE|FUNCTION|
/// PROCEDURE|ROUTINE} … SET name {TO|=} value`), read word by word: its
/// values are literals, bare words included.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Set {
    /// Not in one (or a `SET ROLE`, `SET TRANSACTION`, an `UPDATE … SET`).
    Off,
    /// After `ALTER`: the object type decides.
    Alter,
    /// `ALTER ROLE …`: a `SET` may follow.
    AlterObject,
    /// After `SET`.
    Head,
    /// After `SET TIME`.
    Time,
    /// The parameter's name, up to `TO` or `=`.
    Name,
    /// The values, up to the statement's end.
    Values,
}

fn is(w: &[u8], k: &str) -> bool {
    w.eq_ignore_ascii_case(k.as_bytes())
}

fn is_any(w: &[u8], ks: &[&str]) -> bool {
    ks.iter().any(|k| is(w, k))
}

impl Masker<'_> {
    fn emit(&mut self, t: &str) {
        if self.space && !self.out.is_empty() {
            self.out.push(' ');
        }
        self.space = false;
        self.out.push_str(t);
    }

    fn emit_range(&mut self, from: usize, to: usize) {
        let sql = self.sql;
        self.emit(&sql[from..to]);
    }

    /// Masks a `'…'` body starting at `body`; `None` when unterminated.
    ///
    /// A plain string (`backslash` false) is read as PostgreSQL reads it with
    /// `standard_conforming_strings = on`, the default. A session may turn it
    /// off, and then a backslash escapes the quote after it (`'O\'Reilly'`).
    /// When the two readings end the literal at different places, which one
    /// the server uses decides what is literal after it: the rest is masked
    /// (`None`), as for an unterminated literal, so nothing leaks either way.
    fn literal(&mut self, body: usize, backslash: bool) -> Option<usize> {
        self.emit("?");
        let end = end_of_quoted(self.s, body, backslash)?;
        if !backslash
            && self.s[body..end].contains(&b'\\')
            && end_of_quoted(self.s, body, true) != Some(end)
        {
            return None;
        }
        Some(end)
    }

    /// Follows a configuration `SET` through the word `w`; true when `w` is
    /// one of its values.
    fn set_value(&mut self, w: &[u8]) -> bool {
        self.words += 1;
        if self.words == 1 {
            self.set = if is(w, "set") {
                Set::Head
            } else if is(w, "alter") {
                Set::Alter
            } else {
                Set::Off
            };
            return false;
        }
        match self.set {
            Set::Off => {}
            Set::Alter => {
                self.set = if is_any(
                    w,
                    &[
                        "system",
                        "role",
                        "user",
                        "database",
                        "function",
                        "procedure",
                        "routine",
                    ],
                ) {
                    Set::AlterObject
                } else {
                    Set::Off
                };
            }
            Set::AlterObject => {
                if is(w, "set") {
                    self.set = Set::Head;
                }
            }
            Set::Head => {
                if is(w, "time") {
                    self.set = Set::Time;
                } else if is_any(
                    w,
                    &[
                        "role",
                        "transaction",
                        "constraints",
                        "authorization",
                        "characteristics",
                    ],
                ) {
                    self.set = Set::Off;
                } else if !is_any(w, &["session", "local"]) {
                    self.set = Set::Name;
                }
            }
            Set::Time => {
                self.set = if is(w, "zone") {
                    Set::Values
                } else {
                    Set::Name
                };
            }
            Set::Name => {
                if is(w, "to") {
                    self.set = Set::Values;
                }
            }
            Set::Values => return !is_any(w, &["default", "local"]),
        }
        false
    }

    /// Keeps a quoted identifier opened at `start` (body at `body`); an
    /// unterminated one masks the rest.
    fn quoted_ident(&mut self, start: usize, body: usize) -> Option<usize> {
        match end_of_quoted_ident(self.s, body) {
            Some(end) if self.set == Set::Values => {
                self.emit("?");
                Some(end)
            }
            Some(end) => {
                self.emit_range(start, end);
                Some(end)
            }
            None => {
                self.emit("?");
                None
            }
        }
    }

    /// The token at `i`; returns where the next one starts.
    fn step(&mut self, i: usize) -> Option<usize> {
        let s = self.s;
        let b = s[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                self.space = true;
                Some(i + 1)
            }
            b'-' if s.get(i + 1) == Some(&b'-') => {
                self.space = true;
                Some(end_of_line_comment(s, i))
            }
            b'/' if s.get(i + 1) == Some(&b'*') => {
                // Unterminated: whatever follows is comment, and is gone.
                let end = end_of_block_comment(s, i)?;
                self.space = true;
                Some(end)
            }
            b'\'' => self.literal(i + 1, false),
            b'"' => self.quoted_ident(i, i + 1),
            b'$' => self.dollar(i),
            b'0'..=b'9' => {
                self.emit("?");
                Some(end_of_number(s, i))
            }
            b'.' if s.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                self.emit("?");
                Some(end_of_number(s, i))
            }
            _ if is_ident_start(b) => self.word(i),
            _ => {
                match b {
                    b';' => {
                        self.words = 0;
                        self.set = Set::Off;
                    }
                    b'=' if self.set == Set::Name => self.set = Set::Values,
                    _ => {}
                }
                // Any other byte is ASCII punctuation (multi-byte UTF-8 starts
                // an identifier above), so one byte is one char.
                self.emit_range(i, i + 1);
                Some(i + 1)
            }
        }
    }

    /// `$1` stays; `$tag$ … $tag$` is a literal; a lone `$` is punctuation.
    fn dollar(&mut self, i: usize) -> Option<usize> {
        let s = self.s;
        if s.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let mut j = i + 1;
            while j < s.len() && s[j].is_ascii_digit() {
                j += 1;
            }
            self.emit_range(i, j);
            Some(j)
        } else if let Some(tag_end) = dollar_tag(s, i) {
            self.emit("?");
            let tag = &s[i..tag_end];
            find(s, tag_end, tag).map(|close| close + tag.len())
        } else {
            self.emit("$");
            Some(i + 1)
        }
    }

    /// A word, or the prefix of a literal (`E'…'`, `B'…'`, `X'…'`, `N'…'`,
    /// `U&'…'`) or of a Unicode identifier (`U&"…"`).
    fn word(&mut self, i: usize) -> Option<usize> {
        let s = self.s;
        let mut j = i;
        while j < s.len() && is_ident_char(s[j]) {
            j += 1;
        }
        let prefix = &s[i..j];
        // `U&'…'` and `U&"…"`: the `&` belongs to the prefix.
        if prefix.eq_ignore_ascii_case(b"u") && s.get(j) == Some(&b'&') {
            match s.get(j + 1) {
                Some(b'\'') => return self.literal(j + 2, false),
                Some(b'"') => return self.quoted_ident(i, j + 2),
                _ => {}
            }
        }
        if s.get(j) == Some(&b'\'')
            && prefix.len() == 1
            && matches!(prefix[0] | 0x20, b'e' | b'b' | b'x' | b'n')
        {
            return self.literal(j + 1, prefix[0] | 0x20 == b'e');
        }
        if self.set_value(prefix) || is_any(prefix, &["true", "false"]) {
            self.emit("?");
        } else {
            self.emit_range(i, j);
        }
        Some(j)
    }
}

/// `IN (?, ?, ?)` → `IN (?)`; lists holding anything but masked literals
/// (`$1`, columns, subqueries) stay as they are.
pub(crate) fn collapse_in_lists(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut i = 0;
    while i + 2 <= b.len() {
        let is_in = b[i..i + 2].eq_ignore_ascii_case(b"in")
            && (i == 0 || !is_ident_char(b[i - 1]))
            && b.get(i + 2).is_none_or(|&c| !is_ident_char(c));
        if !is_in {
            i += 1;
            continue;
        }
        let open = skip_spaces(b, i + 2);
        if b.get(open) != Some(&b'(') {
            i += 2;
            continue;
        }
        match literal_list_end(b, open + 1) {
            Some(close) => {
                out.push_str(&text[last..open]);
                out.push_str("(?)");
                last = close + 1;
                i = close + 1;
            }
            None => i = open + 1,
        }
    }
    out.push_str(&text[last..]);
    out
}

fn skip_spaces(b: &[u8], mut j: usize) -> usize {
    while b.get(j) == Some(&b' ') {
        j += 1;
    }
    j
}

/// The `)` closing a non-empty list of `?` separated by commas, starting
/// just after its `(`.
fn literal_list_end(b: &[u8], mut j: usize) -> Option<usize> {
    loop {
        j = skip_spaces(b, j);
        if b.get(j) != Some(&b'?') {
            return None;
        }
        j = skip_spaces(b, j + 1);
        match b.get(j) {
            Some(b',') => j += 1,
            Some(b')') => return Some(j),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(sql: &str) -> String {
        collapse_in_lists(&mask(sql))
    }

    #[test]
    fn literals_are_masked() {
        assert_eq!(
            text("SELECT * FROM users WHERE name = 'bob' AND age > 42"),
            "SELECT * FROM users WHERE name = ? AND age > ?"
        );
        assert_eq!(
            text("SELECT 1e-5, .5, 3.14, 0x1F, 1_000"),
            "SELECT ?, ?, ?, ?, ?"
        );
        assert_eq!(
            text("SELECT E'a\\'b', U&'d\\0061t', X'ff', B'0101', N'x'"),
            "SELECT ?, ?, ?, ?, ?"
        );
        assert_eq!(text("SELECT $a$ x $b$ y $b$ z $a$, $$q$$"), "SELECT ?, ?");
        assert_eq!(text("SELECT 'it''s'"), "SELECT ?");
        assert_eq!(text("SELECT t1.c2 FROM t1"), "SELECT t1.c2 FROM t1");
        assert_eq!(text("SELECT -5"), "SELECT -?");
        assert_eq!(text("SELECT U&\"a b\" FROM t"), "SELECT U&\"a b\" FROM t");
    }

    #[test]
    fn parameters_and_lists() {
        assert_eq!(
            text("SELECT * FROM t WHERE id = $1"),
            "SELECT * FROM t WHERE id = $1"
        );
        assert_eq!(
            text("SELECT * FROM t WHERE id IN ($1, $2)"),
            "SELECT * FROM t WHERE id IN ($1, $2)"
        );
        assert_eq!(
            text("SELECT * FROM t WHERE id IN (1, 2, 3)"),
            "SELECT * FROM t WHERE id IN (?)"
        );
        assert_eq!(
            text("SELECT * FROM t WHERE id in('a','b')"),
            "SELECT * FROM t WHERE id in(?)"
        );
        assert_eq!(
            text("SELECT * FROM t WHERE id IN (1, $1)"),
            "SELECT * FROM t WHERE id IN (?, $1)"
        );
        assert_eq!(text("SELECT min(1, 2)"), "SELECT min(?, ?)");
    }

    /// Booleans are literals (the conventions list them among the literals
    /// to replace); `NULL` is not a value and stays, so `IS NULL` keeps its
    /// meaning. A configuration `SET`'s values are literals too, bare words
    /// included (`SET app.tenant = acme`); role names, transaction modes and
    /// `DEFAULT`/`LOCAL` are keywords or identifiers and stay.
    #[test]
    fn booleans_and_set_values_are_masked() {
        assert_eq!(
            text("SELECT * FROM t WHERE active = true AND deleted IS NOT FALSE"),
            "SELECT * FROM t WHERE active = ? AND deleted IS NOT ?"
        );
        assert_eq!(
            text("UPDATE t SET a = NULL WHERE b IS NULL"),
            "UPDATE t SET a = NULL WHERE b IS NULL"
        );
        assert_eq!(
            text("SELECT set_config('a', 'b', TRUE)"),
            "SELECT set_config(?, ?, ?)"
        );
        assert_eq!(text("SELECT \"true\" FROM t"), "SELECT \"true\" FROM t");
        assert_eq!(
            text("SELECT * FROM t WHERE f IN (true, false)"),
            "SELECT * FROM t WHERE f IN (?)"
        );
        assert_eq!(
            text("SET search_path TO tenant_acme, public"),
            "SET search_path TO ?, ?"
        );
        assert_eq!(
            text("SET LOCAL app.user_id = alice"),
            "SET LOCAL app.user_id = ?"
        );
        assert_eq!(
            text("set session x = on; SELECT a FROM t WHERE b = c"),
            "set session x = ?; SELECT a FROM t WHERE b = c"
        );
        assert_eq!(text("SET TIME ZONE 'Europe/Paris'"), "SET TIME ZONE ?");
        assert_eq!(text("SET TIME ZONE Europe_Paris"), "SET TIME ZONE ?");
        assert_eq!(text("SET TIME ZONE LOCAL"), "SET TIME ZONE LOCAL");
        assert_eq!(
            text("SET statement_timeout TO DEFAULT"),
            "SET statement_timeout TO DEFAULT"
        );
        assert_eq!(text("SET search_path = \"Acme\""), "SET search_path = ?");
        assert_eq!(text("SET ROLE admin"), "SET ROLE admin");
        assert_eq!(
            text("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"
        );
        assert_eq!(
            text("ALTER ROLE r IN DATABASE d SET search_path = app"),
            "ALTER ROLE r IN DATABASE d SET search_path = ?"
        );
        assert_eq!(
            text("ALTER SYSTEM SET work_mem TO big"),
            "ALTER SYSTEM SET work_mem TO ?"
        );
        // An UPDATE's SET assigns expressions: columns stay.
        assert_eq!(text("UPDATE t SET a = b"), "UPDATE t SET a = b");
        assert_eq!(
            text("ALTER TABLE t ALTER COLUMN c SET DEFAULT d"),
            "ALTER TABLE t ALTER COLUMN c SET DEFAULT d"
        );
    }

    /// With `standard_conforming_strings = off` a backslash escapes a quote in
    /// a plain `'…'` string; with it on (the default) it does not. When the two
    /// readings end the literal at different places, the rest of the text is
    /// masked, so nothing leaks whichever the session uses.
    #[test]
    fn backslash_quotes_mask_conservatively() {
        // off: one literal `O'Reilly secret`; on: `'O\'`, then words.
        assert_eq!(text("SELECT 'O\\'Reilly secret' FROM t"), "SELECT ?");
        // on: two literals; off: one literal, then `secret` outside.
        assert_eq!(text("SELECT 'a\\' , 'secret' FROM t"), "SELECT ?");
        assert_eq!(text("SELECT N'a\\'b secret'"), "SELECT ?");
        // Backslashes that end the literal at the same place either way.
        assert_eq!(
            text("SELECT * FROM t WHERE p LIKE 'a\\_b%' AND q = 1"),
            "SELECT * FROM t WHERE p LIKE ? AND q = ?"
        );
        assert_eq!(text("SELECT 'C:\\\\dir' FROM t"), "SELECT ? FROM t");
        assert_eq!(text("SELECT 'it''s' FROM t"), "SELECT ? FROM t");
    }

    #[test]
    fn comments_and_unterminated() {
        assert_eq!(
            text("SELECT /* a /* nested */ still */ 1 -- tail 'x'\nFROM t"),
            "SELECT ? FROM t"
        );
        assert_eq!(text("SELECT 'unterminated secret"), "SELECT ?");
        assert_eq!(text("SELECT 1 /* unterminated secret"), "SELECT ?");
        assert_eq!(text("SELECT $tag$ secret"), "SELECT ?");
        assert_eq!(text("SELECT \"open secret"), "SELECT ?");
        assert_eq!(text("SELECT U&\"open secret"), "SELECT ?");
        assert_eq!(
            text("SELECT \"Quoted\"\"Id\" FROM \"T\""),
            "SELECT \"Quoted\"\"Id\" FROM \"T\""
        );
    }
}
