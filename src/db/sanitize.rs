//! SQL sanitizer and summarizer: what `db.query.text` and `db.query.summary`
//! carry.
//!
//! The sanitizer is a single-pass lexer, not a parser: it only has to know
//! where literals, comments and quoted identifiers start and end. Every
//! literal (strings of every prefix, dollar-quoted bodies, numbers, bit and hex
//! strings) becomes `?`; `$n` parameters stay. Whatever it cannot close (an
//! unterminated quote, dollar quote or comment) masks the rest of the text,
//! because a literal it failed to end would otherwise leak verbatim.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The longest `db.query.summary` (semconv advice).
pub const MAX_SUMMARY_LEN: usize = 255;

/// A sanitized statement: the text with literals masked and its summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitized {
    /// `db.query.text`: literals replaced by `?`, comments stripped,
    /// whitespace collapsed, literal lists collapsed to `IN (?)`.
    pub text: String,
    /// `db.query.summary`: `{operation} {tables…}`, at most 255 bytes.
    pub summary: String,
    /// `db.operation.name`: the statement's operation (`SELECT`, `INSERT`, …),
    /// empty when none was recognised.
    pub operation: String,
    /// The tables the statement names, in order of appearance, deduplicated.
    pub collections: Vec<String>,
}

impl Sanitized {
    /// `db.collection.name`: the table when the statement names exactly one.
    pub fn collection(&self) -> Option<&str> {
        match self.collections.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// Sanitizes and summarizes one statement text.
pub fn sanitize(sql: &str) -> Sanitized {
    let text = collapse_in_lists(&mask(sql));
    let (operation, collections) = summarize(&text);
    let mut summary = operation.clone();
    for c in &collections {
        if summary.len() + 1 + c.len() > MAX_SUMMARY_LEN {
            break;
        }
        if !summary.is_empty() {
            summary.push(' ');
        }
        summary.push_str(c);
    }
    if summary.is_empty() {
        summary.push_str("postgresql");
    }
    truncate(&mut summary, MAX_SUMMARY_LEN);
    Sanitized {
        text,
        summary,
        operation,
        collections,
    }
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// Masks literals and strips comments.
// `emit!` resets `space` even where a `break` follows.
#[allow(unused_assignments)]
fn mask(sql: &str) -> String {
    let s = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    // Pending whitespace is emitted once, before the next token, so comments
    // and runs of blanks collapse to one space.
    let mut space = false;
    macro_rules! emit {
        ($t:expr) => {{
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push_str($t);
        }};
    }
    while i < s.len() {
        let b = s[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                space = true;
                i += 1;
            }
            b'-' if s.get(i + 1) == Some(&b'-') => {
                while i < s.len() && s[i] != b'\n' {
                    i += 1;
                }
                space = true;
            }
            b'/' if s.get(i + 1) == Some(&b'*') => {
                let mut depth = 1usize;
                i += 2;
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
                if depth > 0 {
                    // Unterminated: whatever follows is comment, and is gone.
                    break;
                }
                space = true;
            }
            b'\'' => {
                emit!("?");
                match end_of_quoted(s, i + 1, false) {
                    Some(end) => i = end,
                    None => break,
                }
            }
            b'"' => {
                // A quoted identifier is kept, but unterminated it masks the rest.
                match end_of_quoted_ident(s, i + 1) {
                    Some(end) => {
                        emit!(&sql[i..end]);
                        i = end;
                    }
                    None => {
                        emit!("?");
                        break;
                    }
                }
            }
            b'$' => {
                if s.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    let mut j = i + 1;
                    while j < s.len() && s[j].is_ascii_digit() {
                        j += 1;
                    }
                    emit!(&sql[i..j]);
                    i = j;
                } else if let Some(tag_end) = dollar_tag(s, i) {
                    emit!("?");
                    let tag = &s[i..tag_end];
                    match find(s, tag_end, tag) {
                        Some(close) => i = close + tag.len(),
                        None => break,
                    }
                } else {
                    emit!("$");
                    i += 1;
                }
            }
            b'0'..=b'9' => {
                emit!("?");
                i = end_of_number(s, i);
            }
            b'.' if s.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                emit!("?");
                i = end_of_number(s, i);
            }
            _ if is_ident_start(b) => {
                let mut j = i;
                while j < s.len() && is_ident_char(s[j]) {
                    j += 1;
                }
                // `U&'…'` and `U&"…"`: the `&` belongs to the prefix.
                let word = &sql[i..j];
                if word.eq_ignore_ascii_case("u") && s.get(j) == Some(&b'&') {
                    match s.get(j + 1) {
                        Some(b'\'') => {
                            emit!("?");
                            match end_of_quoted(s, j + 2, false) {
                                Some(end) => i = end,
                                None => break,
                            }
                            continue;
                        }
                        Some(b'"') => {
                            match end_of_quoted_ident(s, j + 2) {
                                Some(end) => {
                                    emit!(&sql[i..end]);
                                    i = end;
                                }
                                None => {
                                    emit!("?");
                                    break;
                                }
                            }
                            continue;
                        }
                        _ => {}
                    }
                }
                if s.get(j) == Some(&b'\'') {
                    let prefix = word.as_bytes();
                    if prefix.len() == 1 && matches!(prefix[0] | 0x20, b'e' | b'b' | b'x' | b'n') {
                        emit!("?");
                        match end_of_quoted(s, j + 1, prefix[0] | 0x20 == b'e') {
                            Some(end) => i = end,
                            None => break,
                        }
                        continue;
                    }
                }
                emit!(word);
                i = j;
            }
            _ => {
                // Any other byte is ASCII punctuation (multi-byte UTF-8 starts
                // an identifier above), so one byte is one char.
                let end = i + 1;
                emit!(&sql[i..end]);
                i = end;
            }
        }
    }
    out
}

/// The index just past the closing quote of a `'…'` body starting at `i`.
fn end_of_quoted(s: &[u8], mut i: usize, backslash: bool) -> Option<usize> {
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

fn end_of_quoted_ident(s: &[u8], mut i: usize) -> Option<usize> {
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
fn dollar_tag(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if s.get(j).is_some_and(|&b| is_ident_start(b)) {
        while j < s.len() && (is_ident_start(s[j]) || s[j].is_ascii_digit()) {
            j += 1;
        }
    }
    (s.get(j) == Some(&b'$')).then_some(j + 1)
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Numbers: digits, `.`, exponents with a sign, `0x`/`0b`/`0o` prefixes and
/// `_` separators. Anything alphanumeric glued to a number is swallowed with
/// it, so a malformed literal is masked rather than half-shown.
fn end_of_number(s: &[u8], mut i: usize) -> usize {
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

/// `IN (?, ?, ?)` → `IN (?)`; lists holding anything but masked literals
/// (`$1`, columns, subqueries) stay as they are.
fn collapse_in_lists(text: &str) -> String {
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
        let mut j = i + 2;
        while b.get(j) == Some(&b' ') {
            j += 1;
        }
        if b.get(j) != Some(&b'(') {
            i += 2;
            continue;
        }
        let open = j;
        j += 1;
        let mut items = 0;
        let close = loop {
            while b.get(j) == Some(&b' ') {
                j += 1;
            }
            if b.get(j) != Some(&b'?') {
                break None;
            }
            items += 1;
            j += 1;
            while b.get(j) == Some(&b' ') {
                j += 1;
            }
            match b.get(j) {
                Some(b',') => j += 1,
                Some(b')') => break Some(j),
                _ => break None,
            }
        };
        match close {
            Some(close) if items > 0 => {
                out.push_str(&text[last..open]);
                out.push_str("(?)");
                last = close + 1;
                i = close + 1;
            }
            _ => i = open + 1,
        }
    }
    out.push_str(&text[last..]);
    out
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Paren {
    Call,
    Group,
}

/// Words after which `(` opens a group or subquery, not a function call.
const NOT_FUNCTIONS: &[&str] = &[
    "select",
    "from",
    "where",
    "in",
    "exists",
    "and",
    "or",
    "not",
    "on",
    "as",
    "join",
    "values",
    "into",
    "using",
    "any",
    "all",
    "some",
    "array",
    "lateral",
    "union",
    "intersect",
    "except",
    "with",
    "returning",
    "set",
    "when",
    "then",
    "else",
    "case",
    "by",
    "having",
    "materialized",
];

/// Words that never name a table where one is expected.
const NOT_TABLES: &[&str] = &[
    "select",
    "only",
    "lateral",
    "where",
    "set",
    "values",
    "default",
    "as",
    "on",
    "using",
    "join",
    "inner",
    "left",
    "right",
    "full",
    "cross",
    "natural",
    "outer",
    "group",
    "order",
    "limit",
    "offset",
    "returning",
    "union",
    "for",
    "with",
    "recursive",
    "into",
    "table",
];

#[derive(Debug)]
enum Tok<'a> {
    Word(&'a str),
    Quoted(&'a str),
    Punct(u8),
}

fn tokens(text: &str) -> Vec<Tok<'_>> {
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

fn word_is(t: Option<&Tok<'_>>, w: &str) -> bool {
    matches!(t, Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
}

fn in_list(w: &str, list: &[&str]) -> bool {
    list.iter().any(|k| k.eq_ignore_ascii_case(w))
}

/// Reads a possibly qualified table name at `i`; returns it and the index after.
fn table_name(toks: &[Tok<'_>], mut i: usize, columns_follow: bool) -> Option<(String, usize)> {
    let mut name = String::new();
    loop {
        match toks.get(i) {
            Some(Tok::Word(w)) if name.is_empty() && in_list(w, NOT_TABLES) => return None,
            Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => name.push_str(w),
            _ => return None,
        }
        i += 1;
        if matches!(toks.get(i), Some(Tok::Punct(b'.'))) {
            name.push('.');
            i += 1;
        } else {
            break;
        }
    }
    // A name followed by `(` is a function (`FROM generate_series(…)`),
    // except after INTO, where a column list follows.
    if !columns_follow && matches!(toks.get(i), Some(Tok::Punct(b'('))) {
        return None;
    }
    Some((name, i))
}

/// The operation and the tables of a sanitized text.
fn summarize(text: &str) -> (String, Vec<String>) {
    let toks = tokens(text);
    let mut tables: Vec<String> = Vec::new();
    let mut ctes: Vec<String> = Vec::new();
    let mut parens: Vec<Paren> = Vec::new();
    let mut operation = String::new();

    // The operation: the first word, or after a WITH clause the main
    // statement's first word at depth 0.
    let mut main_op_pending = false;
    match toks.first() {
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("with") => main_op_pending = true,
        Some(Tok::Word(w)) => {
            operation = w.to_ascii_uppercase();
            if in_list(w, &["create", "drop", "alter", "truncate"]) {
                // DDL: `CREATE TABLE x`, `DROP INDEX y`.
                if let Some(Tok::Word(kind)) = toks.get(1) {
                    if !in_list(kind, &["table"]) || w.eq_ignore_ascii_case("truncate") {
                        if !w.eq_ignore_ascii_case("truncate") {
                            operation.push(' ');
                            operation.push_str(&kind.to_ascii_uppercase());
                        }
                    } else {
                        operation.push_str(" TABLE");
                    }
                    let mut k = 2;
                    while toks.get(k).is_some_and(|t| {
                        matches!(t, Tok::Word(x) if in_list(x, &["if", "not", "exists", "only", "table", "concurrently", "unique", "index"]))
                    }) {
                        k += 1;
                    }
                    if let Some((name, _)) = table_name(&toks, k, true) {
                        tables.push(name);
                    }
                }
                truncate(&mut operation, 64);
                return (operation, tables);
            }
        }
        _ => {}
    }

    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Punct(b'(') => {
                let kind = match i.checked_sub(1).and_then(|p| toks.get(p)) {
                    Some(Tok::Word(w)) if !in_list(w, NOT_FUNCTIONS) => Paren::Call,
                    Some(Tok::Quoted(_)) => Paren::Call,
                    _ => Paren::Group,
                };
                parens.push(kind);
            }
            Tok::Punct(b')') => {
                parens.pop();
            }
            Tok::Word(w) => {
                let in_call = parens.last() == Some(&Paren::Call);
                if main_op_pending && parens.is_empty() {
                    if in_list(
                        w,
                        &["select", "insert", "update", "delete", "merge", "values"],
                    ) {
                        operation = w.to_ascii_uppercase();
                        main_op_pending = false;
                    } else if (matches!(toks.get(i + 1), Some(Tok::Word(a)) if a.eq_ignore_ascii_case("as"))
                        || matches!(toks.get(i + 1), Some(Tok::Punct(b'('))))
                        && !in_list(w, &["with", "recursive", "as", "not", "materialized"])
                    {
                        ctes.push(w.to_string());
                    }
                }
                let expects_table = !in_call
                    && (in_list(w, &["from", "join", "into", "using"])
                        || (w.eq_ignore_ascii_case("update")
                            && !word_is(toks.get(i.wrapping_sub(1)), "do")
                            && !word_is(toks.get(i.wrapping_sub(1)), "for"))
                        || (w.eq_ignore_ascii_case("table")
                            && i.checked_sub(1).and_then(|p| toks.get(p)).is_none()));
                if expects_table {
                    let mut k = i + 1;
                    while word_is(toks.get(k), "only") || word_is(toks.get(k), "lateral") {
                        k += 1;
                    }
                    while let Some((name, next)) =
                        table_name(&toks, k, w.eq_ignore_ascii_case("into"))
                    {
                        if !tables.contains(&name) && !ctes.contains(&name) {
                            tables.push(name);
                        }
                        // `FROM a x, b y`: skip the alias, follow the comma.
                        let mut n = next;
                        if word_is(toks.get(n), "as") {
                            n += 1;
                        }
                        if let Some(Tok::Word(alias)) = toks.get(n) {
                            if !in_list(alias, NOT_TABLES)
                                && !in_list(alias, &["where", "group", "order", "limit", "natural"])
                            {
                                n += 1;
                            }
                        }
                        if matches!(toks.get(n), Some(Tok::Punct(b',')))
                            && !w.eq_ignore_ascii_case("into")
                        {
                            k = n + 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    if main_op_pending {
        operation = "WITH".to_owned();
    }
    truncate(&mut operation, 64);
    (operation, tables)
}

/// A bounded cache of sanitized statements keyed by their text.
///
/// When full it is cleared, not evicted entry by entry: a workload whose
/// statement texts never repeat (literals inlined) gains nothing from LRU
/// bookkeeping, and one that repeats refills at once.
#[derive(Debug)]
pub struct Cache<V> {
    map: Mutex<HashMap<Box<str>, Arc<V>>>,
    capacity: usize,
}

impl<V> Cache<V> {
    /// A cache holding at most `capacity` statements.
    pub fn new(capacity: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::with_capacity(capacity.min(1024))),
            capacity,
        }
    }

    /// The entry for `sql`, made by `make` on a miss.
    pub fn get_or_insert(&self, sql: &str, make: impl FnOnce(&str) -> V) -> Arc<V> {
        if let Ok(map) = self.map.lock() {
            if let Some(v) = map.get(sql) {
                return Arc::clone(v);
            }
        }
        let v = Arc::new(make(sql));
        // Texts longer than this are sanitized every time rather than pinned.
        if sql.len() <= 16 * 1024 {
            if let Ok(mut map) = self.map.lock() {
                if map.len() >= self.capacity {
                    map.clear();
                }
                map.insert(sql.into(), Arc::clone(&v));
            }
        }
        v
    }

    /// The number of cached statements.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(sql: &str) -> String {
        sanitize(sql).text
    }

    fn summary(sql: &str) -> String {
        sanitize(sql).summary
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
        assert_eq!(
            text("SELECT \"Quoted\"\"Id\" FROM \"T\""),
            "SELECT \"Quoted\"\"Id\" FROM \"T\""
        );
    }

    #[test]
    fn summaries() {
        assert_eq!(summary("SELECT * FROM users WHERE id = $1"), "SELECT users");
        assert_eq!(
            summary("SELECT u.id FROM users u JOIN profiles p ON p.user_id = u.id"),
            "SELECT users profiles"
        );
        assert_eq!(
            summary("INSERT INTO matches (a, b) VALUES ($1, $2)"),
            "INSERT matches"
        );
        assert_eq!(
            summary("UPDATE public.users SET x = 1 WHERE id = 2"),
            "UPDATE public.users"
        );
        assert_eq!(
            summary("DELETE FROM sessions WHERE t < now()"),
            "DELETE sessions"
        );
        assert_eq!(summary("SELECT 1"), "SELECT");
        assert_eq!(
            summary("select a from x, y as z, w where 1=1"),
            "SELECT x y w"
        );
        assert_eq!(
            summary(
                "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN users ON true"
            ),
            "SELECT orders users"
        );
        assert_eq!(
            summary(
                "SELECT * FROM a WHERE id IN (SELECT a_id FROM b) AND EXISTS (SELECT 1 FROM c)"
            ),
            "SELECT a b c"
        );
        assert_eq!(
            summary("SELECT extract(year FROM ts) FROM events"),
            "SELECT events"
        );
        assert_eq!(summary("SELECT * FROM generate_series(1, 3)"), "SELECT");
        assert_eq!(
            summary("CREATE TABLE IF NOT EXISTS foo (id int)"),
            "CREATE TABLE foo"
        );
        assert_eq!(summary("BEGIN"), "BEGIN");
        assert_eq!(summary(""), "postgresql");
        assert_eq!(
            summary("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2"),
            "INSERT t"
        );
        assert_eq!(
            sanitize("SELECT * FROM a JOIN b ON true").collection(),
            None
        );
        assert_eq!(sanitize("SELECT * FROM a").collection(), Some("a"));
        let long = format!(
            "SELECT * FROM {}",
            (0..100)
                .map(|i| format!("table_{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert!(summary(&long).len() <= MAX_SUMMARY_LEN);
    }

    #[test]
    fn cache_is_bounded() {
        let c = Cache::new(4);
        for i in 0..10 {
            c.get_or_insert(&format!("SELECT {i}"), sanitize);
        }
        assert!(c.len() <= 4);
        let a = c.get_or_insert("SELECT 1 FROM t", sanitize);
        let b = c.get_or_insert("SELECT 1 FROM t", |_| unreachable!());
        assert!(Arc::ptr_eq(&a, &b));
    }

    const MARK: &str = "ZQX";

    /// Literal forms, each embedding the marker `ZQX<n>`.
    fn literal() -> impl Strategy<Value = String> {
        let n = 0u32..100_000;
        prop_oneof![
            n.clone().prop_map(|n| format!("'{MARK}{n}'")),
            n.clone().prop_map(|n| format!("'it''s {MARK}{n}'")),
            n.clone().prop_map(|n| format!("E'\\' {MARK}{n}'")),
            n.clone().prop_map(|n| format!("e'\\\\{MARK}{n}\\''")),
            n.clone().prop_map(|n| format!("U&'{MARK}{n}'")),
            n.clone().prop_map(|n| format!("$$ {MARK}{n} $$")),
            n.clone().prop_map(|n| format!("$t$ $u$ {MARK}{n} $u$ $t$")),
            n.clone().prop_map(|n| format!("$a1$ '{MARK}{n} $a1$")),
            n.clone().prop_map(|n| format!("X'{MARK}{n}'")),
            n.clone().prop_map(|n| format!("B'{MARK}{n}'")),
            n.clone().prop_map(|n| format!("N'{MARK}{n}'")),
            // Numbers: the marker is the digit run itself.
            n.clone().prop_map(|n| format!("9876{n}")),
            n.clone().prop_map(|n| format!("9876{n}e-5")),
            n.clone().prop_map(|n| format!(".9876{n}")),
            n.clone().prop_map(|n| format!("1.9876{n}E+3")),
        ]
    }

    fn glue() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(" ".to_owned()),
            Just(", ".to_owned()),
            Just(" = ".to_owned()),
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just(" IN (".to_owned()),
            Just(" /* c */ ".to_owned()),
            Just("\n-- c\n".to_owned()),
            Just(" $1 ".to_owned()),
            Just(" FROM t WHERE x = ".to_owned()),
            Just(" \"id\" ".to_owned()),
            Just("::text ".to_owned()),
        ]
    }

    fn contains_marker(s: &str) -> bool {
        s.contains(MARK) || s.contains("9876")
    }

    proptest! {
        #[test]
        fn no_marker_ever_leaks(parts in proptest::collection::vec((glue(), literal()), 1..8), tail in glue()) {
            let mut sql = "SELECT ".to_owned();
            for (g, l) in &parts {
                sql.push_str(g);
                sql.push_str(l);
            }
            sql.push_str(&tail);
            let s = sanitize(&sql);
            prop_assert!(!contains_marker(&s.text), "{sql} -> {}", s.text);
            prop_assert!(!contains_marker(&s.summary), "{sql} -> {}", s.summary);
        }

        #[test]
        fn truncated_input_never_leaks(parts in proptest::collection::vec((glue(), literal()), 1..6), cut in 0usize..400) {
            let mut sql = "SELECT ".to_owned();
            for (g, l) in &parts {
                sql.push_str(g);
                sql.push_str(l);
            }
            let mut cut = cut.min(sql.len());
            while !sql.is_char_boundary(cut) { cut -= 1; }
            let s = sanitize(&sql[..cut]);
            // A cut marker is a prefix of the marker: check the full literal
            // prefixes `ZQX`/`9876` only when they survived the cut.
            prop_assert!(!s.text.contains(MARK), "{} -> {}", &sql[..cut], s.text);
            prop_assert!(!s.text.contains("9876"), "{} -> {}", &sql[..cut], s.text);
        }

        #[test]
        fn never_panics(sql in "\\PC{0,200}") {
            let s = sanitize(&sql);
            prop_assert!(s.summary.len() <= MAX_SUMMARY_LEN);
        }

        #[test]
        fn never_panics_on_sql_alphabet(sql in "[-'\"$/*eExXbBuU&0-9a-z .,()\\\\\n]{0,120}") {
            let s = sanitize(&sql);
            prop_assert!(s.summary.len() <= MAX_SUMMARY_LEN);
        }
    }
}
