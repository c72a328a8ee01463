//! What a [`UserSession`](super::UserSession) sends: an allowlist of
//! statement kinds, read the way PostgreSQL reads them.
//!
//! The text is split into tokens by PostgreSQL 15's lexical rules
//! (`scan.l`): `--` comments end at `\n` or `\r`, `/* */` comments nest,
//! string constants continue across a newline in the mode they started in,
//! `U&"…"`/`U&'…'` are decoded (with their `UESCAPE`), and a number stops
//! where its digits do. What it cannot read (an unterminated literal or
//! comment, a NUL byte, an undecodable escape) is refused. The session sets
//! `standard_conforming_strings` and `client_encoding` itself and refuses
//! any change of them, so these rules stay the server's.
//!
//! Each statement must then be one a user session runs: a query or DML
//! (`SELECT`, `VALUES`, `TABLE`, `WITH`, `INSERT`, `UPDATE`, `DELETE`,
//! `MERGE`, `CALL`, `EXPLAIN` of these), `SHOW`, savepoints, cursors
//! without `WITH HOLD`, `LOCK`, `NOTIFY`, `SET TRANSACTION`, `SET
//! CONSTRAINTS`, and `SET LOCAL` of a setting other than the protected ones.
//! A setting's name is compared as PostgreSQL compares it (ASCII
//! case-insensitively, quoted or not, parts joined by `.`), under every
//! reading the grammar allows (`SET LOCAL = 1` sets a setting named
//! `local`). Protected: `role`, `session_authorization`, `request.jwt…`,
//! and the two settings the lexer depends on. Everything else (DDL, `DO`,
//! `EXECUTE`, `PREPARE`, `COPY`, `RESET`, session-level `SET`, …) is
//! refused: a session cannot define code whose body the guard cannot read.
//!
//! Inside an accepted statement: every `set_config(…)` must be
//! `set_config('<literal name>', <value>, true)` on a name that is not
//! protected; functions that run SQL text (`query_to_xml`, `ts_stat`, …)
//! and session advisory locks are refused, and so are writes to
//! `pg_settings` (its update rule calls `set_config`) and `SELECT … INTO`
//! (it creates a table).

use std::borrow::Cow;

use crate::db::sanitize::{
    dollar_tag, end_of_block_comment, end_of_quoted, end_of_quoted_ident, find, is_ident_char,
    is_ident_start,
};

const TRANSACTION: &str = "transaction control (a user session ends with commit() or rollback())";
const ROLE: &str = "a change of role or session authorization";
const CLAIMS: &str = "a change of the request.jwt claims";
const READING: &str =
    "a change of client_encoding or standard_conforming_strings (the guard reads SQL by them)";
const SESSION_SETTING: &str = "a session-level setting (use SET LOCAL)";
const SESSION_STATE: &str = "session state that would outlive the transaction";
const DO_BLOCK: &str = "a DO block (its body cannot be checked)";
const EXECUTE: &str = "EXECUTE of a prepared statement (its text cannot be checked)";
const SET_CONFIG: &str = "a set_config call that is not set_config('<literal name>', value, true)";
const SQL_TEXT: &str = "a function that runs SQL text (query_to_xml, ts_stat, ts_rewrite, …)";
const SETTINGS_VIEW: &str = "a write to pg_settings (it calls set_config)";
const SELECT_INTO: &str = "SELECT … INTO (it creates a table)";
const KIND: &str = "a statement a user session does not run (only queries, DML, CALL, EXPLAIN, \
     SHOW, savepoints, cursors, LOCK, NOTIFY, SET LOCAL, SET TRANSACTION, SET CONSTRAINTS)";
const UNREADABLE: &str = "text the guard cannot read (unterminated literal or comment, NUL byte, \
     undecodable escape, or a setting name it cannot resolve)";

/// Functions that execute SQL given as text, which the guard cannot read:
/// core's `query_to_xml*`, `ts_stat`, `ts_rewrite`, and the extensions'
/// `crosstab*`, `connectby`, `xpath_table` and `dblink*`.
const SQL_TEXT_FUNCTIONS: &[&str] = &[
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "ts_stat",
    "ts_rewrite",
    "crosstab",
    "crosstab2",
    "crosstab3",
    "crosstab4",
    "connectby",
    "xpath_table",
];

/// Session-level advisory locks outlive the transaction.
const SESSION_LOCKS: &[&str] = &[
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
];

/// A token, as much as the check needs.
#[derive(Debug, PartialEq)]
enum Tok<'a> {
    /// An unquoted identifier or keyword, as written.
    Word(&'a str),
    /// A quoted identifier's name (`""` undoubled, `U&` escapes decoded).
    Ident(Cow<'a, str>),
    /// A `U&"…"` body before its escapes are decoded.
    UIdent(Cow<'a, str>),
    /// A string constant's value when the check can know it (standard,
    /// `N'…'` and dollar-quoted strings, decoded `U&'…'`); `None` for `E'…'`,
    /// bit strings and undecodable `U&'…'`.
    Str(Option<Cow<'a, str>>),
    /// A `U&'…'` body before its escapes are decoded.
    UStr(Cow<'a, str>),
    /// A number or a `$n` parameter.
    Num,
    /// Any other character.
    Op(u8),
}

/// `Err(reason)` when any statement of `sql` must not run in a user session.
pub(crate) fn check(sql: &str) -> Result<(), &'static str> {
    let toks = lex(sql)?;
    toks.split(|t| *t == Tok::Op(b';')).try_for_each(statement)
}

/// How a quoted string's body is read.
#[derive(Clone, Copy, PartialEq)]
enum Quote {
    /// `'…'`, `N'…'`: `''` is a quote, a backslash is itself.
    Standard,
    /// `E'…'`: a backslash escapes the next byte.
    Escape,
    /// `B'…'`, `X'…'`: the value is not needed.
    Bits,
    /// `U&'…'`: as standard, escapes decoded afterwards.
    Unicode,
}

fn lex(sql: &str) -> Result<Vec<Tok<'_>>, &'static str> {
    let s = sql.as_bytes();
    if s.contains(&0) {
        return Err(UNREADABLE);
    }
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        let next = s.get(i + 1).copied();
        i = match b {
            // PostgreSQL 16 added \v; before, it is a syntax error anyway.
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => i + 1,
            b'-' if next == Some(b'-') => end_of_line_comment(s, i),
            b'/' if next == Some(b'*') => end_of_block_comment(s, i).ok_or(UNREADABLE)?,
            b'\'' => string(sql, i + 1, Quote::Standard, &mut out)?,
            b'"' => {
                let (name, end) = quoted_ident(sql, i + 1)?;
                out.push(Tok::Ident(name));
                end
            }
            b'$' => {
                if let Some(tag_end) = dollar_tag(s, i) {
                    let tag = &s[i..tag_end];
                    let close = find(s, tag_end, tag).ok_or(UNREADABLE)?;
                    let body = sql.get(tag_end..close).ok_or(UNREADABLE)?;
                    out.push(Tok::Str(Some(Cow::Borrowed(body))));
                    close + tag.len()
                } else if next.is_some_and(|c| c.is_ascii_digit()) {
                    out.push(Tok::Num);
                    digits(s, i + 1)
                } else {
                    out.push(Tok::Op(b'$'));
                    i + 1
                }
            }
            b'0'..=b'9' => {
                out.push(Tok::Num);
                number(s, i)
            }
            b'.' if next.is_some_and(|c| c.is_ascii_digit()) => {
                out.push(Tok::Num);
                number(s, i)
            }
            _ if is_ident_start(b) => word(sql, i, &mut out)?,
            _ => {
                out.push(Tok::Op(b));
                i + 1
            }
        };
    }
    resolve_unicode(out)
}

/// The end of a `--` comment at `i`: PostgreSQL ends it at `\n` or `\r`.
fn end_of_line_comment(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && s[i] != b'\n' && s[i] != b'\r' {
        i += 1;
    }
    i
}

fn digits(s: &[u8], mut i: usize) -> usize {
    while s.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// `123`, `1.5`, `.5`: what follows (an exponent, junk) is lexed on its own,
/// which splits no quote, comment or dollar quote differently.
fn number(s: &[u8], i: usize) -> usize {
    let mut j = digits(s, i);
    if s.get(j) == Some(&b'.') && s.get(j + 1) != Some(&b'.') {
        j = digits(s, j + 1);
    }
    j
}

/// A word at `i`, or the prefixed literal it starts (`E'…'`, `B'…'`,
/// `X'…'`, `N'…'`, `U&'…'`, `U&"…"`); returns where the next token starts.
fn word<'a>(sql: &'a str, i: usize, out: &mut Vec<Tok<'a>>) -> Result<usize, &'static str> {
    let s = sql.as_bytes();
    let mut j = i;
    while j < s.len() && is_ident_char(s[j]) {
        j += 1;
    }
    let w = sql.get(i..j).ok_or(UNREADABLE)?;
    let next = s.get(j).copied();
    if w.len() == 1 {
        let c = w.as_bytes()[0].to_ascii_lowercase();
        match (c, next) {
            (b'e', Some(b'\'')) => return string(sql, j + 1, Quote::Escape, out),
            (b'b' | b'x', Some(b'\'')) => return string(sql, j + 1, Quote::Bits, out),
            (b'n', Some(b'\'')) => return string(sql, j + 1, Quote::Standard, out),
            (b'u', Some(b'&')) => match s.get(j + 1) {
                Some(b'\'') => return string(sql, j + 2, Quote::Unicode, out),
                Some(b'"') => {
                    let (body, end) = quoted_ident(sql, j + 2)?;
                    out.push(Tok::UIdent(body));
                    return Ok(end);
                }
                _ => {}
            },
            _ => {}
        }
    }
    out.push(Tok::Word(w));
    Ok(j)
}

/// A `"…"` body starting at `body`: the name with `""` undoubled.
fn quoted_ident(sql: &str, body: usize) -> Result<(Cow<'_, str>, usize), &'static str> {
    let end = end_of_quoted_ident(sql.as_bytes(), body).ok_or(UNREADABLE)?;
    let raw = sql.get(body..end - 1).ok_or(UNREADABLE)?;
    let name = if raw.contains("\"\"") {
        Cow::Owned(raw.replace("\"\"", "\""))
    } else {
        Cow::Borrowed(raw)
    };
    Ok((name, end))
}

/// A string constant whose body starts at `body`, with the pieces that
/// continue it (`'a'` newline `'b'` is `'ab'`, read in the first piece's
/// mode); pushes its token and returns where the next token starts.
fn string<'a>(
    sql: &'a str,
    mut body: usize,
    quote: Quote,
    out: &mut Vec<Tok<'a>>,
) -> Result<usize, &'static str> {
    let s = sql.as_bytes();
    let mut value: Option<Cow<'a, str>> = None;
    loop {
        let end = end_of_quoted(s, body, quote == Quote::Escape).ok_or(UNREADABLE)?;
        let piece = sql.get(body..end - 1).ok_or(UNREADABLE)?;
        let piece: Cow<'a, str> = if piece.contains("''") {
            Cow::Owned(piece.replace("''", "'"))
        } else {
            Cow::Borrowed(piece)
        };
        value = Some(match value {
            None => piece,
            Some(v) => Cow::Owned(v.into_owned() + &piece),
        });
        match continuation(s, end) {
            Some(next_body) => body = next_body,
            None => {
                let value = value.unwrap_or_default();
                out.push(match quote {
                    Quote::Standard => Tok::Str(Some(value)),
                    Quote::Unicode => Tok::UStr(value),
                    Quote::Escape | Quote::Bits => Tok::Str(None),
                });
                return Ok(end);
            }
        }
    }
}

/// After a string's closing quote at `end - 1`: where the next piece's body
/// starts when blanks and `--` comments holding at least one newline and
/// then a quote follow (`quotecontinue` in `scan.l`; `/* */` does not count).
fn continuation(s: &[u8], end: usize) -> Option<usize> {
    let mut i = end;
    let mut newline = false;
    loop {
        match s.get(i) {
            Some(b'\n' | b'\r') => {
                newline = true;
                i += 1;
            }
            Some(b' ' | b'\t' | 0x0b | 0x0c) => i += 1,
            Some(b'-') if s.get(i + 1) == Some(&b'-') => i = end_of_line_comment(s, i),
            Some(b'\'') if newline => return Some(i + 1),
            _ => return None,
        }
    }
}

/// Decodes `U&"…"` and `U&'…'` with their `UESCAPE 'c'` (consumed); an
/// identifier that cannot be decoded makes the text unreadable.
fn resolve_unicode(toks: Vec<Tok<'_>>) -> Result<Vec<Tok<'_>>, &'static str> {
    let mut out = Vec::with_capacity(toks.len());
    let mut it = toks.into_iter().peekable();
    while let Some(t) = it.next() {
        let body = match t {
            Tok::UIdent(ref b) | Tok::UStr(ref b) => b.clone(),
            other => {
                out.push(other);
                continue;
            }
        };
        let escape = if matches!(it.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case("uescape"))
        {
            it.next();
            match it.next() {
                Some(Tok::Str(Some(e))) => uescape(&e),
                _ => None,
            }
        } else {
            Some('\\')
        };
        let decoded = escape.and_then(|e| decode_unicode(&body, e));
        match (t, decoded) {
            (Tok::UIdent(_), Some(name)) => out.push(Tok::Ident(Cow::Owned(name))),
            (Tok::UIdent(_), None) => return Err(UNREADABLE),
            (_, value) => out.push(Tok::Str(value.map(Cow::Owned))),
        }
    }
    Ok(out)
}

/// The escape character of `UESCAPE '<c>'`: one character, not a hex
/// digit, `+`, a quote or a blank (as `check_uescapechar`).
fn uescape(e: &str) -> Option<char> {
    let mut chars = e.chars();
    let c = chars.next()?;
    let bad = chars.next().is_some()
        || !c.is_ascii()
        || c.is_ascii_hexdigit()
        || matches!(
            c,
            '+' | '\'' | '"' | ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'
        );
    (!bad).then_some(c)
}

/// `\XXXX`, `\+XXXXXX` (surrogate pairs joined) and `\\` with `escape` for
/// `\`; `None` on anything PostgreSQL would reject.
fn decode_unicode(body: &str, escape: char) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    let mut high: Option<u32> = None;
    while let Some(c) = chars.next() {
        if c != escape {
            if high.is_some() {
                return None;
            }
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&escape) {
            if high.is_some() {
                return None;
            }
            chars.next();
            out.push(escape);
            continue;
        }
        let n = if chars.peek() == Some(&'+') {
            chars.next();
            6
        } else {
            4
        };
        let mut code = 0u32;
        for _ in 0..n {
            code = code * 16 + chars.next()?.to_digit(16)?;
        }
        match (high.take(), code) {
            (None, 0xD800..=0xDBFF) => high = Some(code),
            (Some(h), 0xDC00..=0xDFFF) => {
                out.push(char::from_u32(
                    0x10000 + ((h - 0xD800) << 10) + (code - 0xDC00),
                )?);
            }
            (Some(_), _) => return None,
            (None, 0) => return None,
            (None, _) => out.push(char::from_u32(code)?),
        }
    }
    high.is_none().then_some(out)
}

fn is(t: Option<&Tok<'_>>, w: &str) -> bool {
    matches!(t, Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
}

/// The name a word or quoted identifier stands for.
fn name<'t>(t: Option<&'t Tok<'_>>) -> Option<&'t str> {
    match t {
        Some(Tok::Word(w)) => Some(w),
        Some(Tok::Ident(n)) => Some(n),
        _ => None,
    }
}

fn in_list(w: &str, list: &[&str]) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(w))
}

/// Statements a user session runs as they are (their contents are still
/// checked by [`contents`]).
const QUERIES: &[&str] = &[
    "select", "values", "table", "with", "insert", "update", "delete", "merge",
];

fn statement(toks: &[Tok<'_>]) -> Result<(), &'static str> {
    let first = match toks.first() {
        None => return Ok(()),
        Some(Tok::Op(b'(')) => "(",
        Some(Tok::Word(w)) => w,
        Some(_) => return Err(KIND),
    };
    let at = |i: usize| toks.get(i);
    let first = first.to_ascii_lowercase();
    match first.as_str() {
        "(" | "call" | "show" | "savepoint" | "release" | "fetch" | "move" | "close" | "lock"
        | "notify" => {}
        q if in_list(q, QUERIES) => {}
        "explain" => explain(&toks[1..])?,
        "declare" => {
            let head = toks
                .split(|t| is(Some(t), "for"))
                .next()
                .unwrap_or_default();
            if head
                .windows(2)
                .any(|w| is(w.first(), "with") && is(w.get(1), "hold"))
            {
                return Err(SESSION_STATE);
            }
        }
        "rollback" => {
            let k = if is(at(1), "work") || is(at(1), "transaction") {
                2
            } else {
                1
            };
            // `ROLLBACK TO SAVEPOINT x` stays inside the transaction.
            if !is(at(k), "to") {
                return Err(TRANSACTION);
            }
        }
        "commit" | "end" | "abort" | "begin" | "start" => return Err(TRANSACTION),
        "prepare" if is(at(1), "transaction") => return Err(TRANSACTION),
        "set" => set(&toks[1..])?,
        "reset" => return Err(reset(&toks[1..])),
        "do" => return Err(DO_BLOCK),
        "execute" => return Err(EXECUTE),
        "prepare" | "deallocate" | "discard" | "listen" | "unlisten" | "load" => {
            return Err(SESSION_STATE)
        }
        _ => return Err(KIND),
    }
    contents(toks)
}

/// `EXPLAIN [ANALYZE] [VERBOSE] | (options)` of a query or DML only.
fn explain(rest: &[Tok<'_>]) -> Result<(), &'static str> {
    let mut k = 0;
    if rest.first() == Some(&Tok::Op(b'(')) {
        let close = rest.iter().position(|t| *t == Tok::Op(b')')).ok_or(KIND)?;
        k = close + 1;
    } else {
        while is(rest.get(k), "analyze") || is(rest.get(k), "analyse") || is(rest.get(k), "verbose")
        {
            k += 1;
        }
    }
    match rest.get(k) {
        Some(Tok::Op(b'(')) => Ok(()),
        Some(Tok::Word(w)) if in_list(w, QUERIES) => Ok(()),
        _ => Err(KIND),
    }
}

/// What a statement the session runs may not contain.
fn contents(toks: &[Tok<'_>]) -> Result<(), &'static str> {
    let writes = toks
        .iter()
        .any(|t| matches!(t, Tok::Word(w) if in_list(w, &["insert", "update", "delete", "merge"])));
    for (i, t) in toks.iter().enumerate() {
        if let Tok::Word(w) = t {
            // `INSERT INTO`, `MERGE INTO`; any other INTO is SELECT … INTO.
            if w.eq_ignore_ascii_case("into")
                && !(i > 0 && (is(toks.get(i - 1), "insert") || is(toks.get(i - 1), "merge")))
            {
                return Err(SELECT_INTO);
            }
        }
        let Some(n) = name(Some(t)) else { continue };
        if writes && n.eq_ignore_ascii_case("pg_settings") {
            return Err(SETTINGS_VIEW);
        }
        if toks.get(i + 1) != Some(&Tok::Op(b'(')) {
            continue;
        }
        if n.eq_ignore_ascii_case("set_config") {
            set_config(&toks[i + 2..])?;
        } else if in_list(n, SQL_TEXT_FUNCTIONS)
            || n.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("dblink"))
        {
            return Err(SQL_TEXT);
        } else if in_list(n, SESSION_LOCKS) {
            return Err(SESSION_STATE);
        }
    }
    Ok(())
}

/// Why a setting may not be changed in a user session, if it may not.
fn protected(name: &str) -> Option<&'static str> {
    let starts = |p: &str| {
        name.get(..p.len())
            .is_some_and(|x| x.eq_ignore_ascii_case(p))
    };
    if name.eq_ignore_ascii_case("role") || name.eq_ignore_ascii_case("session_authorization") {
        Some(ROLE)
    } else if starts("request.jwt") {
        Some(CLAIMS)
    } else if name.eq_ignore_ascii_case("client_encoding")
        || name.eq_ignore_ascii_case("standard_conforming_strings")
    {
        Some(READING)
    } else {
        None
    }
}

/// The arguments after `set_config(`: a literal name that is not protected,
/// any value, `true`.
fn set_config(after_paren: &[Tok<'_>]) -> Result<(), &'static str> {
    match arguments(after_paren).as_deref() {
        Some([[Tok::Str(Some(name))], _, [local]]) if is(Some(local), "true") => {
            protected(name).map_or(Ok(()), Err)
        }
        _ => Err(SET_CONFIG),
    }
}

/// The comma-separated arguments up to the `)` closing a call; `None` when
/// it is never closed.
fn arguments<'t, 'a>(toks: &'t [Tok<'a>]) -> Option<Vec<&'t [Tok<'a>]>> {
    let mut args = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Op(b'(' | b'[') => depth += 1,
            Tok::Op(b')' | b']') if depth == 0 => {
                args.push(&toks[start..i]);
                return Some(args);
            }
            Tok::Op(b')' | b']') => depth -= 1,
            Tok::Op(b',') if depth == 0 => {
                args.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    None
}

/// What a `SET` statement changes.
enum Target {
    /// A setting, by name.
    Setting(String),
    /// A setting fixed by the syntax that is never protected (`TIME ZONE`,
    /// `SCHEMA`, `XML OPTION`).
    Fixed,
    /// `SET TRANSACTION …` / `SET CONSTRAINTS …`: this transaction only.
    Transaction,
    /// `SESSION CHARACTERISTICS AS TRANSACTION …`: the session's defaults.
    Characteristics,
}

/// `SET …`, after `SET`. The grammar reads `SET LOCAL x = 1` as a local
/// setting of `x`, but `SET LOCAL = 1` as a session setting of `local`:
/// every reading that parses is checked, and one must.
fn set(rest: &[Tok<'_>]) -> Result<(), &'static str> {
    let mut readings = Vec::with_capacity(2);
    if is(rest.first(), "local") || is(rest.first(), "session") {
        readings.push((is(rest.first(), "local"), &rest[1..]));
    }
    readings.push((false, rest));
    let mut parsed = false;
    for (local, body) in readings {
        for target in targets(body)? {
            parsed = true;
            match target {
                Target::Setting(n) => {
                    if let Some(why) = protected(&n) {
                        return Err(why);
                    }
                    if !local {
                        return Err(SESSION_SETTING);
                    }
                }
                Target::Fixed | Target::Characteristics if !local => return Err(SESSION_SETTING),
                Target::Fixed | Target::Characteristics | Target::Transaction => {}
            }
        }
    }
    if parsed {
        Ok(())
    } else {
        Err(UNREADABLE)
    }
}

/// What `body` (a `SET` after its scope word) may change, under each
/// reading that parses.
fn targets(body: &[Tok<'_>]) -> Result<Vec<Target>, &'static str> {
    let mut out = Vec::new();
    // `var_name TO | = | FROM CURRENT`, var_name being `ColId ('.' ColId)*`.
    let mut parts = Vec::new();
    let mut k = 0;
    while let Some(n) = name(body.get(k)) {
        parts.push(n);
        k += 1;
        if body.get(k) == Some(&Tok::Op(b'.')) {
            k += 1;
        } else {
            break;
        }
    }
    let generic = !parts.is_empty()
        && (body.get(k) == Some(&Tok::Op(b'='))
            || is(body.get(k), "to")
            || is(body.get(k), "from"));
    if generic {
        out.push(Target::Setting(parts.join(".")));
    }
    let at = |i: usize| body.get(i);
    if is(at(0), "role") && at(1) != Some(&Tok::Op(b'.')) {
        return Err(ROLE);
    }
    if is(at(0), "session") && is(at(1), "authorization") {
        return Err(ROLE);
    }
    if is(at(0), "names") {
        return Err(READING);
    }
    if (is(at(0), "time") && is(at(1), "zone"))
        || is(at(0), "schema")
        || (is(at(0), "xml") && is(at(1), "option"))
    {
        out.push(Target::Fixed);
    }
    if is(at(0), "transaction")
        && ["isolation", "read", "deferrable", "not", "snapshot"]
            .iter()
            .any(|w| is(at(1), w))
    {
        out.push(Target::Transaction);
    }
    if is(at(0), "constraints")
        && !generic
        && (is(body.last(), "deferred") || is(body.last(), "immediate"))
    {
        out.push(Target::Transaction);
    }
    if is(at(0), "session") && is(at(1), "characteristics") {
        out.push(Target::Characteristics);
    }
    Ok(out)
}

/// Every `RESET` is session-level; the reason names what it would reset.
fn reset(rest: &[Tok<'_>]) -> &'static str {
    if is(rest.first(), "role") || (is(rest.first(), "session") && is(rest.get(1), "authorization"))
    {
        return ROLE;
    }
    let mut parts = Vec::new();
    let mut k = 0;
    while let Some(n) = name(rest.get(k)) {
        parts.push(n);
        k += 1;
        if rest.get(k) != Some(&Tok::Op(b'.')) {
            break;
        }
        k += 1;
    }
    protected(&parts.join(".")).unwrap_or(SESSION_SETTING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_would_leave_the_transaction_or_change_the_role() {
        for sql in [
            "COMMIT",
            "commit and chain",
            "  /* c */ Commit;",
            "END",
            "ABORT",
            "ROLLBACK",
            "rollback work",
            "ROLLBACK PREPARED 'x'",
            "BEGIN",
            "START TRANSACTION",
            "PREPARE TRANSACTION 'x'",
            "COMMIT PREPARED 'x'",
            "SELECT 1; COMMIT",
            "SELECT 'a;b'; -- x\n commit",
            "SET ROLE postgres",
            "SET LOCAL ROLE NONE",
            "set session role none",
            "SET role = 'none'",
            "SET \"role\" TO DEFAULT",
            "SET SESSION AUTHORIZATION DEFAULT",
            "SET LOCAL session_authorization = postgres",
            "RESET ROLE",
            "RESET SESSION AUTHORIZATION",
            "RESET ALL",
            "RESET search_path",
            "SET search_path = public",
            "SET SESSION statement_timeout = 0",
            "SET LOCAL request.jwt.claims = '{}'",
            "SET LOCAL \"request\".\"jwt.claim.sub\" = 'x'",
            "SELECT set_config('role', 'none', true)",
            "SELECT pg_catalog.set_config('ROLE', 'none', true)",
            "SELECT set_config('request.jwt.claims', '{}', true)",
            "SELECT set_config('search_path', 'x', false)",
            "SELECT set_config($1, 'x', true)",
            "SELECT set_config(E'r\\x6fle', 'none', true)",
            "SELECT \"set_config\"('role', 'none', true)",
            "DO $$ BEGIN PERFORM set_config('role', 'none', true); END $$",
            "LISTEN x",
            "DISCARD PLANS",
            "PREPARE q AS SELECT 1",
            "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
            "CREATE TEMP TABLE t (x int)",
            "LOAD 'x'",
        ] {
            assert!(check(sql).is_err(), "accepted: {sql}");
        }
    }

    /// The forms found accepted through `as_user` (the setting names
    /// compared case-sensitively when quoted, `SESSION AUTHORIZATION` not
    /// checked after `LOCAL`), and their neighbours.
    #[test]
    fn refuses_every_spelling_of_role_session_authorization_and_claims() {
        for (sql, why) in [
            ("SET LOCAL \"ROLE\" TO postgres", ROLE),
            ("SET LOCAL \"Role\" = postgres", ROLE),
            ("SET LOCAL SESSION AUTHORIZATION postgres", ROLE),
            ("SET LOCAL SESSION AUTHORIZATION DEFAULT", ROLE),
            ("SET LOCAL \"SESSION_AUTHORIZATION\" = postgres", ROLE),
            ("SET LOCAL \"REQUEST\".\"JWT.CLAIMS\" = '{\"sub\":\"evil\"}'", CLAIMS),
            ("SeT/**/LoCaL/**/\"rOlE\"/**/=/**/authenticator", ROLE),
            ("SET SESSION SESSION AUTHORIZATION DEFAULT", ROLE),
            ("set local\n\t\"Session_Authorization\" to default", ROLE),
            ("SET LOCAL U&\"r\\006Fle\" TO x", ROLE),
            ("SET LOCAL U&\"r!006Fle\" UESCAPE '!' TO x", ROLE),
            ("SET LOCAL U&\"\\0072\\006f\\006c\\0065\" TO x", ROLE),
            ("SET LOCAL \"request.jwt.claims\" = 'x'", CLAIMS),
            ("SET LOCAL request . \"jwt.claim.sub\" TO 'x'", CLAIMS),
            ("SET LOCAL \"request.jwt\".claims = 'x'", CLAIMS),
            ("SET LOCAL REQUEST.JWT.CLAIM.ROLE = 'x'", CLAIMS),
            ("SET LOCAL role FROM CURRENT", ROLE),
            ("SET LOCAL NAMES 'SJIS'", READING),
            ("SET LOCAL client_encoding = 'SJIS'", READING),
            ("SET LOCAL standard_conforming_strings = off", READING),
            ("SELECT set_config('Standard_Conforming_Strings', 'off', true)", READING),
            ("SELECT set_config('Session_Authorization', 'x', true)", ROLE),
            ("SELECT set_config('REQUEST.JWT.CLAIMS', 'x', true)", CLAIMS),
            ("SELECT set_config(U&'r\\006fle', 'x', true)", ROLE),
            ("SELECT set_config($$role$$, 'x', true)", ROLE),
            ("SELECT set_config('ro'\n'le', 'x', true)", ROLE),
            ("SELECT set_config('ro' || 'le', 'x', true)", SET_CONFIG),
            ("SELECT set_config(lower('ROLE'), 'x', true)", SET_CONFIG),
            ("SELECT set_config(('role'), 'x', true)", SET_CONFIG),
            ("SELECT set_config('app.x', 'y', 't')", SET_CONFIG),
            ("SELECT set_config('app.x', 'y')", SET_CONFIG),
            ("SELECT set_config('app.x', 'y', true", SET_CONFIG),
            ("SELECT 1 FROM t WHERE set_config('app.x', 'y', true) <> x AND set_config('role', 'x', true) IS NULL", ROLE),
            ("WITH x AS (SELECT set_config('role', 'x', true)) SELECT * FROM x", ROLE),
            ("SELECT * FROM set_config('role', 'x', true)", ROLE),
            ("SELECT U&\"set_confi\\0067\"('role', 'x', true)", ROLE),
            ("SELECT set_config /* c */ ('role', 'x', true)", ROLE),
            ("EXPLAIN ANALYZE SELECT set_config('role', 'x', true)", ROLE),
            ("CALL p(set_config('role', 'x', true))", ROLE),
            ("SET LOCAL = 1", SESSION_SETTING),
            ("SET LOCAL TO 1", SESSION_SETTING),
            ("SET session.x = 1", SESSION_SETTING),
            ("SET transaction.x = 1", SESSION_SETTING),
            ("SET constraints.x = deferred", SESSION_SETTING),
            ("SET TIME ZONE 'UTC'", SESSION_SETTING),
            ("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", SESSION_SETTING),
            ("SET LOCAL CATALOG 'x'", UNREADABLE),
            ("SET LOCAL 'x' = 1", UNREADABLE),
            ("RESET \"Role\"", ROLE),
            ("RESET request.jwt.claims", CLAIMS),
            ("EXECUTE q('x')", EXECUTE),
            ("EXPLAIN EXECUTE q('x')", KIND),
            ("CREATE FUNCTION pg_temp.f() RETURNS text LANGUAGE sql AS 'SELECT 1'", KIND),
            ("create or replace function f() returns int language sql set role = x as $$ select 1 $$", KIND),
            ("ALTER ROLE CURRENT_USER SET request.jwt.claims = 'x'", KIND),
            ("CREATE TABLE pg_temp.t (x int)", KIND),
            ("COPY t FROM STDIN", KIND),
            ("TRUNCATE t", KIND),
            ("\"select\" 1", KIND),
            ("SELECT 1 INTO pg_temp.t", SELECT_INTO),
            ("WITH x AS (SELECT 1) SELECT * INTO t FROM x", SELECT_INTO),
            ("UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'", SETTINGS_VIEW),
            ("WITH u AS (UPDATE pg_catalog.\"pg_settings\" SET setting = 'x' RETURNING 1) SELECT 1", SETTINGS_VIEW),
            ("SELECT query_to_xml('SELECT 1', true, false, '')", SQL_TEXT),
            ("SELECT * FROM pg_catalog.ts_stat('SELECT 1')", SQL_TEXT),
            ("SELECT ts_rewrite('a'::tsquery, 'SELECT 1')", SQL_TEXT),
            ("SELECT * FROM dblink_exec('x', 'y')", SQL_TEXT),
            ("SELECT pg_advisory_lock(1)", SESSION_STATE),
            ("SELECT pg_try_advisory_lock_shared(1)", SESSION_STATE),
            ("DECLARE c BINARY CURSOR WITH HOLD FOR SELECT 1", SESSION_STATE),
        ] {
            assert_eq!(check(sql), Err(why), "{sql}");
        }
    }

    /// Where the lexer would part from PostgreSQL's, the guard would read
    /// code as a literal or comment: each of these hides a statement from a
    /// lexer that gets the rule wrong.
    #[test]
    fn reads_comments_and_literals_as_postgres_does() {
        for (sql, why) in [
            // `--` ends at a carriage return too.
            ("SELECT 1 --\r; SET LOCAL ROLE x", ROLE),
            ("SELECT 1; --\r SET SESSION AUTHORIZATION DEFAULT", ROLE),
            // A U&'…' body is read as a standard string: `\'` closes it.
            (
                "SELECT U&'\\' UESCAPE '!', set_config('role','x',true) --'",
                ROLE,
            ),
            // A continued E'…' string stays in escape mode.
            ("SELECT E'a'\n'\\' ' ; SET LOCAL ROLE x; --'", ROLE),
            // A number stops before `$`: `$a$` opens a dollar quote.
            ("SELECT 1$a$ $a$; SET LOCAL ROLE x", ROLE),
            // Block comments nest.
            ("SELECT /* /* */ 1 */ 1; SET LOCAL ROLE x", ROLE),
            // A `/* */` comment does not continue a string.
            ("SELECT 'a' /* */\n'b'; SET LOCAL ROLE x", ROLE),
            // Unterminated or NUL: the text is not readable.
            ("SELECT 'a", UNREADABLE),
            ("SELECT $q$ a", UNREADABLE),
            ("SELECT /* a", UNREADABLE),
            ("SELECT \"a", UNREADABLE),
            ("SELECT 1\0; SET ROLE x", UNREADABLE),
            ("SELECT U&\"\\zzzz\"", UNREADABLE),
            ("SELECT U&\"a\" UESCAPE 'a'", UNREADABLE),
            ("SELECT U&\"a\" UESCAPE E'!'", UNREADABLE),
        ] {
            assert_eq!(check(sql), Err(why), "{sql:?}");
        }
    }

    #[test]
    fn accepts_what_stays_inside_the_transaction() {
        for sql in [
            "SELECT 1",
            "SELECT 'COMMIT; SET ROLE postgres'",
            "SELECT $$ ; commit $$",
            "SELECT $a$ $$; SET ROLE x; $$ $a$",
            "SELECT E'\\'; SET ROLE x; '",
            "SELECT 'a'\n'b; SET ROLE x'",
            "SELECT U&'\\0041'",
            "SELECT 1 -- ; SET ROLE x",
            "INSERT INTO t (a) VALUES ($1) -- ; commit",
            "SELECT \"commit\" FROM t",
            "SELECT \"role\", role FROM t",
            "UPDATE t SET role = 'x', session_authorization = 1",
            "SAVEPOINT a; RELEASE SAVEPOINT a",
            "ROLLBACK TO SAVEPOINT a",
            "rollback transaction to a",
            "SET LOCAL statement_timeout = 1000",
            "SET LOCAL search_path = public",
            "SET LOCAL \"search_path\" TO public, pg_temp",
            "SET LOCAL app.tenant = 'x'",
            "SET LOCAL role.x = 1",
            "SET LOCAL session.x = 1",
            "SET LOCAL TIME ZONE 'UTC'",
            "SET LOCAL SCHEMA 'public'",
            "SET LOCAL XML OPTION DOCUMENT",
            "SET LOCAL SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
            "SET LOCAL TRANSACTION READ ONLY",
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "SET CONSTRAINTS ALL DEFERRED",
            "SET CONSTRAINTS s.c IMMEDIATE",
            "SET LOCAL work_mem FROM CURRENT",
            "SELECT set_config('app.tenant', $1, true)",
            "SELECT set_config('app.x', 'y', true), set_config('app.z', now()::text, true)",
            "SELECT set_config('app.x', set_config('app.y', 'z', true), TRUE)",
            "SELECT current_setting('role'), current_setting('request.jwt.claims', true)",
            "SELECT name, setting FROM pg_settings",
            "DECLARE c CURSOR FOR SELECT 1",
            "DECLARE c CURSOR WITHOUT HOLD FOR WITH hold AS (SELECT 1) SELECT * FROM hold",
            "FETCH 10 FROM c; MOVE c; CLOSE c",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x",
            "MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN INSERT VALUES (s.id)",
            "(SELECT 1) UNION (SELECT 2)",
            "VALUES (1), (2)",
            "TABLE t",
            "EXPLAIN SELECT 1",
            "EXPLAIN (ANALYZE, FORMAT JSON) UPDATE t SET x = 1",
            "EXPLAIN ANALYZE VERBOSE DELETE FROM t",
            "SHOW search_path",
            "CALL p(1)",
            "LOCK TABLE t IN SHARE MODE",
            "NOTIFY c, 'x'",
            "SELECT pg_advisory_xact_lock(1)",
            "SELECT 1.5, .5, 1e5, $1, x$y$ FROM t",
            "",
            ";",
            " ; -- only a comment",
        ] {
            assert_eq!(check(sql), Ok(()), "refused: {sql}");
        }
    }

    #[test]
    fn decodes_unicode_escapes_as_postgres_does() {
        assert_eq!(
            decode_unicode("d\\0061t\\+000061", '\\').as_deref(),
            Some("data")
        );
        assert_eq!(decode_unicode("a\\\\b", '\\').as_deref(), Some("a\\b"));
        assert_eq!(
            decode_unicode("\\D83D\\DE00", '\\').as_deref(),
            Some("\u{1F600}")
        );
        assert_eq!(decode_unicode("!0072!!", '!').as_deref(), Some("r!"));
        for bad in [
            "\\", "\\00", "\\zzzz", "\\D83D", "\\D83Dx", "\\DE00", "\\0000",
        ] {
            assert_eq!(decode_unicode(bad, '\\'), None, "{bad}");
        }
        assert_eq!(uescape("!"), Some('!'));
        for bad in ["", "ab", "a", "+", "'", " ", "é"] {
            assert_eq!(uescape(bad), None, "{bad}");
        }
    }
}
